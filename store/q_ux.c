/*
 * q_ux.c — small reads for what visitors and managers meet on the pages
 * (issue 17), once for both backends: a repeat sign-up's way back to the
 * customer's own referral link, for the browser that signed up only; a
 * member's own points and commission.
 */
#include <string.h>

#include "store_int.h"

enum sc_err sc_store_own_link_of_visitor(struct sc_store *s, int64_t visitor_id, const char *email,
                                         const char *phone, char code[SC_CODE_LEN + 1])
{
    static struct sc_sql q =
        SC_SQL("SELECT l.code FROM customers c JOIN links l ON l.id = c.own_link_id "
               "WHERE c.visitor_id = ?1 AND ((CAST(?2 AS TEXT) IS NOT NULL AND c.email = ?2) OR "
               "(CAST(?3 AS TEXT) IS NOT NULL AND c.phone = ?3)) ORDER BY c.id LIMIT 1");
    code[0] = '\0';
    if (visitor_id <= 0)
        return SC_ENOTFOUND;
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, visitor_id);
    sc_sql_opt(r.st, 2, email && email[0] ? email : NULL);
    sc_sql_opt(r.st, 3, phone && phone[0] ? phone : NULL);
    if (sc_q_next(&r))
        sc_sql_col_copy(r.st, 0, code, SC_CODE_LEN + 1);
    else if (r.e == SC_OK)
        r.e = SC_ENOTFOUND;
    return sc_q_end(&r);
}

enum sc_err sc_store_member_earnings(struct sc_store *s, int64_t member_id, int64_t *points,
                                     int64_t *cents)
{
    static struct sc_sql q = SC_SQL(
        "SELECT coalesce(sum(CASE WHEN kind = 'signup' THEN amount ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN kind = 'commission' THEN amount ELSE 0 END), 0) FROM rewards "
        "WHERE party_type = 1 AND party_id = ? AND status IN ('pending', 'approved')");
    *points = *cents = 0;
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, member_id);
    if (sc_q_next(&r)) {
        *points = sc_sql_col_int(r.st, 0);
        *cents = sc_sql_col_int(r.st, 1);
    }
    return sc_q_end(&r);
}
