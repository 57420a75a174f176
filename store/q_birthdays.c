/*
 * q_birthdays.c — customers' birthdays (issue 14, 生日关怀), once for both
 * backends: written with the sign-up, in its transaction; read for the
 * "birthdays this week" lists; forgotten (with survey comments) when a
 * customer is erased.
 */
#include "store_int.h"

enum sc_err sc_q_birthday_set(struct sc_db *db, int64_t customer_id, const struct sc_signup *su)
{
    static struct sc_sql q =
        SC_SQL("UPDATE customers SET birth_year = ?, birth_month = ?, birth_day = ? WHERE id = ?");
    if (!su->birth_month)
        return SC_OK;
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
    if (!st)
        return e;
    sc_sql_id(st, 1, su->birth_year);
    sc_sql_int(st, 2, su->birth_month);
    sc_sql_int(st, 3, su->birth_day);
    sc_sql_int(st, 4, customer_id);
    return sc_sql_exec(st, NULL);
}

enum sc_err sc_q_customer_erase_extra(struct sc_db *db, int64_t id)
{
    static struct sc_sql q_birthday = SC_SQL("UPDATE customers SET birth_year = NULL, birth_month "
                                             "= NULL, birth_day = NULL WHERE id = ?");
    static struct sc_sql q_comments =
        SC_SQL("UPDATE nps_surveys SET comment = NULL WHERE customer_id = ?");
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q_birthday, &e);
    if (!st)
        return e;
    sc_sql_int(st, 1, id);
    if ((e = sc_sql_exec(st, NULL)) != SC_OK)
        return e;
    if (!(st = sc_sql_prepare(db, &q_comments, &e)))
        return e;
    sc_sql_int(st, 1, id);
    return sc_sql_exec(st, NULL);
}

enum sc_err sc_store_birthdays(struct sc_store *s, const struct sc_scope *scope,
                               int (*fn)(int64_t customer_id, int year, int month, int day,
                                         void *ctx),
                               void *ctx)
{
    static struct sc_sql q = SC_SQL(
        "SELECT s.id, coalesce(s.birth_year, 0), s.birth_month, s.birth_day FROM customers s "
        "JOIN cards c ON c.id = s.card_id JOIN members m ON m.id = c.member_id WHERE "
        "s.birth_month IS NOT NULL AND (CAST(?1 AS BIGINT) = 0 OR c.member_id = ?1) AND "
        "(CAST(?2 AS TEXT) IS NULL OR m.team = ?2) ORDER BY s.id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, scope ? scope->member_id : 0);
    sc_sql_opt(r.st, 2, scope ? scope->team : NULL);
    while (sc_q_next(&r))
        if (fn(sc_sql_col_int(r.st, 0), (int)sc_sql_col_int(r.st, 1), (int)sc_sql_col_int(r.st, 2),
               (int)sc_sql_col_int(r.st, 3), ctx))
            break;
    return sc_q_end(&r);
}
