/*
 * q_nps.c — NPS surveys (issue 14, 回访), once for both backends: a survey
 * made for each order inside the order's own transaction (so the
 * conversion.created webhook can carry its link), read by its token,
 * answered once (a second answer is a conflict, nothing overwritten), a
 * customer's open survey, and the answers by scope and period for the NPS
 * figures, the detractors' list and a customer's timeline.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "store_int.h"

enum sc_err sc_q_survey_create(struct sc_db *db, int64_t customer_id, int64_t conversion_id,
                               int64_t order_at, const struct sc_conversion *cv)
{
    static struct sc_sql q =
        SC_SQL("INSERT INTO nps_surveys (token, url, customer_id, conversion_id, created_at, "
               "available_at) VALUES (?, ?, ?, ?, ?, ?)");
    unsigned char raw[16];
    char token[2 * sizeof(raw) + 1], url[sizeof(token) + 600];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(token, sizeof(token), raw, sizeof(raw));
    snprintf(url, sizeof(url), "%s/s/%s", cv->survey_base ? cv->survey_base : "", token);
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
    if (!st)
        return e;
    sc_sql_text(st, 1, token);
    sc_sql_text(st, 2, url);
    sc_sql_int(st, 3, customer_id);
    sc_sql_int(st, 4, conversion_id);
    sc_sql_int(st, 5, order_at);
    sc_sql_int(st, 6, order_at + (cv->survey_delay_s > 0 ? cv->survey_delay_s : 0));
    return sc_sql_exec(st, NULL);
}

enum sc_err sc_store_survey_by_token(struct sc_store *s, const char *token, struct sc_survey *out)
{
    static struct sc_sql q =
        SC_SQL("SELECT n.id, n.customer_id, c.slug, n.available_at, coalesce(n.answered_at, 0), "
               "coalesce(n.score, -1) FROM nps_surveys n JOIN customers s ON s.id = "
               "n.customer_id JOIN cards c ON c.id = s.card_id WHERE n.token = ?");
    memset(out, 0, sizeof(*out));
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_text(r.st, 1, token);
    if (sc_q_next(&r)) {
        out->id = sc_sql_col_int(r.st, 0);
        out->customer_id = sc_sql_col_int(r.st, 1);
        sc_sql_col_copy(r.st, 2, out->card_slug, sizeof(out->card_slug));
        out->available_at = sc_sql_col_int(r.st, 3);
        out->answered_at = sc_sql_col_int(r.st, 4);
        out->score = (int)sc_sql_col_int(r.st, 5);
    } else if (r.e == SC_OK) {
        r.e = SC_ENOTFOUND;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_survey_answer(struct sc_store *s, const char *token, int score,
                                   const char *comment, int64_t now)
{
    static struct sc_sql q = SC_SQL("UPDATE nps_surveys SET score = ?, comment = ?, answered_at = "
                                    "? WHERE token = ? AND answered_at IS NULL");
    static struct sc_sql q_known = SC_SQL("SELECT id FROM nps_surveys WHERE token = ?");
    struct sc_q r;
    if (sc_q_write(&r, s, true) && sc_q_prepare(&r, &q)) {
        sc_sql_int(r.st, 1, score);
        sc_sql_opt(r.st, 2, comment);
        sc_sql_int(r.st, 3, now);
        sc_sql_text(r.st, 4, token);
        if (!sc_q_exec(&r, true) && r.e == SC_ENOTFOUND && sc_q_prepare(&r, &q_known)) {
            /* Nothing updated: answered already (a conflict) or no such survey. */
            r.e = SC_OK;
            sc_sql_text(r.st, 1, token);
            bool known = sc_q_next(&r);
            sc_sql_reset(r.st);
            if (r.e == SC_OK)
                r.e = known ? SC_ECONFLICT : SC_ENOTFOUND;
        }
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_survey_open(struct sc_store *s, int64_t customer_id, int64_t now,
                                 char token[SC_SURVEY_TOKEN_MAX + 1])
{
    static struct sc_sql q =
        SC_SQL("SELECT token FROM nps_surveys WHERE customer_id = ? AND answered_at IS NULL AND "
               "available_at <= CAST(? AS BIGINT) ORDER BY available_at DESC, id DESC LIMIT 1");
    token[0] = '\0';
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, customer_id);
    sc_sql_int(r.st, 2, now);
    if (sc_q_next(&r))
        sc_sql_col_copy(r.st, 0, token, SC_SURVEY_TOKEN_MAX + 1);
    else if (r.e == SC_OK)
        r.e = SC_ENOTFOUND;
    return sc_q_end(&r);
}

/* ?1/?2 the scope's member and team as q_customers.c binds them. */
enum sc_err sc_store_nps_answers(struct sc_store *s, const struct sc_scope *scope,
                                 int64_t customer_id, int64_t from, int64_t to,
                                 int (*fn)(const struct sc_nps_answer_row *r, void *ctx), void *ctx)
{
    static struct sc_sql q = SC_SQL(
        "SELECT n.id, n.customer_id, s.name, c.member_id, m.name, coalesce(m.team, ''), "
        "n.score, coalesce(n.comment, ''), n.answered_at FROM nps_surveys n JOIN customers s ON "
        "s.id = n.customer_id JOIN cards c ON c.id = s.card_id JOIN members m ON m.id = "
        "c.member_id WHERE n.answered_at IS NOT NULL AND n.answered_at >= CAST(?3 AS BIGINT) "
        "AND n.answered_at < CAST(?4 AS BIGINT) AND (CAST(?5 AS BIGINT) = 0 OR n.customer_id = "
        "?5) AND (CAST(?1 AS BIGINT) = 0 OR c.member_id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR "
        "m.team = ?2) ORDER BY n.answered_at, n.id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, scope ? scope->member_id : 0);
    sc_sql_opt(r.st, 2, scope ? scope->team : NULL);
    sc_sql_int(r.st, 3, from);
    sc_sql_int(r.st, 4, to);
    sc_sql_int(r.st, 5, customer_id);
    while (sc_q_next(&r)) {
        struct sc_stmt *st = r.st;
        struct sc_nps_answer_row w = {
            sc_sql_col_int(st, 0),      sc_sql_col_int(st, 1),  sc_sql_col_text(st, 2),
            sc_sql_col_int(st, 3),      sc_sql_col_text(st, 4), sc_sql_col_text(st, 5),
            (int)sc_sql_col_int(st, 6), sc_sql_col_text(st, 7), sc_sql_col_int(st, 8)};
        if (!w.customer_name)
            w.customer_name = "";
        if (!w.member_name)
            w.member_name = "";
        if (!w.team)
            w.team = "";
        if (!w.comment)
            w.comment = "";
        if (fn(&w, ctx))
            break;
    }
    return sc_q_end(&r);
}
