/*
 * q_loyalty.c — what a customer's own referral page reads (issue 14), once
 * for both backends: the customer's balance and spend, and the ledger rows
 * they earned with whose sign-up or purchase earned each.  (Which customer
 * a visitor cookie belongs to: sc_q_customer_of_visitor(), q_referral.c.)
 */
#include <string.h>

#include "store_int.h"

/* Approved ledger rows of customer ?1 at ?2 whose kind is in 'kinds' (an SQL list): pending
 * past their hold count.  Points are sign-up and welcome rows, as GET /api/v1/customers counts
 * them (q_customers.c). */
#define EARNED(kinds)                                                                              \
    "coalesce((SELECT sum(amount) FROM rewards WHERE party_type = 2 AND party_id = ?1 AND "        \
    "kind IN (" kinds ") AND (status = 'approved' OR (status = 'pending' AND approve_after <= "    \
    "CAST(?2 AS BIGINT)))), 0)"

enum sc_err sc_store_customer_balance(struct sc_store *s, int64_t customer_id, int64_t now,
                                      struct sc_customer_balance *out)
{
    static struct sc_sql q = SC_SQL("SELECT " EARNED("'signup', 'welcome'") ", " EARNED(
        "'commission'") ", coalesce((SELECT "
                        "sum(amount_cents) FROM conversions "
                        "WHERE customer_id = ?1), 0)");
    memset(out, 0, sizeof(*out));
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, customer_id);
    sc_sql_int(r.st, 2, now);
    if (sc_q_next(&r)) {
        out->points = sc_sql_col_int(r.st, 0);
        out->commission_cents = sc_sql_col_int(r.st, 1);
        out->spend_cents = sc_sql_col_int(r.st, 2);
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_customer_earned(struct sc_store *s, int64_t customer_id, int64_t now,
                                     int limit, int (*fn)(const struct sc_earned_row *r, void *ctx),
                                     void *ctx)
{
    static struct sc_sql q = SC_SQL(
        "SELECT r.level, r.kind, r.amount, CASE WHEN r.status = 'pending' AND r.approve_after "
        "<= CAST(?2 AS BIGINT) THEN 'approved' ELSE r.status END, s.name, r.created_at "
        "FROM rewards r JOIN customers s ON s.id = r.customer_id WHERE r.party_type = 2 AND "
        "r.party_id = ?1 ORDER BY r.id DESC LIMIT ?3");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, customer_id);
    sc_sql_int(r.st, 2, now);
    sc_sql_int(r.st, 3, limit);
    while (sc_q_next(&r)) {
        struct sc_earned_row w = {(int)sc_sql_col_int(r.st, 0), sc_sql_col_text(r.st, 1),
                                  sc_sql_col_int(r.st, 2),      sc_sql_col_text(r.st, 3),
                                  sc_sql_col_text(r.st, 4),     sc_sql_col_int(r.st, 5)};
        if (!w.kind)
            w.kind = "";
        if (!w.status)
            w.status = "";
        if (!w.from_name)
            w.from_name = "";
        if (fn(&w, ctx))
            break;
    }
    return sc_q_end(&r);
}
