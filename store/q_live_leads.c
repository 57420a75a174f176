/*
 * q_live_leads.c — what the live feed (server/live.c) reads of lead
 * intelligence, once for both backends: leads that crossed the hot
 * threshold (the lead_hot records q_leads_intel.c keeps) and follow-up
 * reminders falling due, on the cards in a viewer's scope.  The feed keeps
 * its own cursors (an id for crossings, a due time for reminders); this
 * file only reads past them.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* The cards in scope: ?1 a member or 0, ?2 a team or NULL. */
#define LIVE_SCOPE_CARDS                                                                           \
    "SELECT c.id FROM cards c JOIN members m ON m.id = c.member_id "                               \
    "WHERE (CAST(?1 AS BIGINT) = 0 OR c.member_id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR "         \
    "m.team = ?2)"

/* The lead's name when it signed up on that card (any one of its sign-ups). */
#define LIVE_CUSTOMER(v, c)                                                                        \
    "(SELECT min(s.name) FROM customers s WHERE s.visitor_id = " v " AND s.card_id = " c ")"

static void bind_live_scope(struct sc_stmt *st, const struct sc_scope *scope)
{
    sc_sql_int(st, 1, scope ? scope->member_id : 0);
    sc_sql_opt(st, 2, scope ? scope->team : NULL);
}

static const char *text_or_null(struct sc_stmt *st, int i)
{
    return sc_sql_col_null(st, i) ? NULL : sc_sql_col_text(st, i);
}

enum sc_err sc_store_live_hot_newest(struct sc_store *s, int64_t *id)
{
    static struct sc_sql q = SC_SQL("SELECT coalesce(max(id), 0) FROM lead_hot");
    *id = 0;
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    r.e = sc_sql_int1(r.st, id, NULL);
    return sc_q_end(&r);
}

enum sc_err sc_store_live_hot(struct sc_store *s, const struct sc_scope *scope, int64_t after,
                              int limit, int (*fn)(const struct sc_live_hot_row *r, void *ctx),
                              void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT h.id, h.visitor_id, c.slug, m.name, h.score, h.reason, h.ts, " LIVE_CUSTOMER(
            "h.visitor_id",
            "h.card_id") " FROM lead_hot h JOIN cards c ON c.id = h.card_id "
                         "JOIN members m ON m.id = c.member_id "
                         "WHERE h.id > ?3 AND h.hot = 1 AND h.card_id IN (" LIVE_SCOPE_CARDS
                         ") ORDER BY h.id LIMIT ?4");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    bind_live_scope(r.st, scope);
    sc_sql_int(r.st, 3, after);
    sc_sql_int(r.st, 4, limit);
    while (sc_q_next(&r)) {
        struct sc_stmt *st = r.st;
        struct sc_live_hot_row h = {
            .id = sc_sql_col_int(st, 0),
            .visitor_id = sc_sql_col_int(st, 1),
            .card = sc_sql_col_text(st, 2),
            .owner = sc_sql_col_text(st, 3),
            .score = (int)sc_sql_col_int(st, 4),
            .reason = text_or_null(st, 5),
            .ts = sc_sql_col_int(st, 6),
            .customer = text_or_null(st, 7),
        };
        if (fn(&h, ctx))
            break;
    }
    return sc_q_end(&r);
}

/* Hands each reminder row of 'rq' to 'fn' (columns as both reminder reads select them). */
static void reminder_rows(struct sc_q *rq,
                          int (*fn)(const struct sc_live_reminder_row *r, void *ctx), void *ctx)
{
    while (sc_q_next(rq)) {
        struct sc_stmt *st = rq->st;
        struct sc_live_reminder_row f = {
            .id = sc_sql_col_int(st, 0),
            .visitor_id = sc_sql_col_int(st, 1),
            .card = sc_sql_col_text(st, 2),
            .owner = sc_sql_col_text(st, 3),
            .channel = (int)sc_sql_col_int(st, 4),
            .note = sc_sql_col_text(st, 5),
            .reminder_at = sc_sql_col_int(st, 6),
            .due = sc_sql_col_int(st, 7),
            .customer = text_or_null(st, 8),
        };
        if (!f.note)
            f.note = "";
        if (fn(&f, ctx))
            break;
    }
}

enum sc_err sc_store_live_reminders(struct sc_store *s, const struct sc_scope *scope, int64_t after,
                                    int64_t until,
                                    int (*fn)(const struct sc_live_reminder_row *r, void *ctx),
                                    void *ctx)
{
    /* Due when both its time and its logging have passed: a reminder set in the past is due
     * from when it was logged. */
    static struct sc_sql q = SC_SQL(
        "SELECT f.id, f.visitor_id, c.slug, m.name, f.channel, f.note, f.reminder_at, "
        "CASE WHEN f.reminder_at > f.created_at THEN f.reminder_at ELSE f.created_at "
        "END, " LIVE_CUSTOMER("f.visitor_id",
                              "f.card_id") " FROM followups f JOIN cards c ON c.id = f.card_id "
                                           "JOIN members m ON m.id = c.member_id "
                                           "WHERE f.reminder_at IS NOT NULL AND f.done = 0 "
                                           "AND f.reminder_at <= ?4 AND f.created_at <= ?4 "
                                           "AND (f.reminder_at > ?3 OR f.created_at > ?3) "
                                           "AND f.card_id IN (" LIVE_SCOPE_CARDS
                                           ") ORDER BY 8, f.id LIMIT 200");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    bind_live_scope(r.st, scope);
    sc_sql_int(r.st, 3, after);
    sc_sql_int(r.st, 4, until);
    reminder_rows(&r, fn, ctx);
    return sc_q_end(&r);
}

enum sc_err sc_store_live_reminders_open(struct sc_store *s, const struct sc_scope *scope,
                                         int64_t since, int64_t until, int limit,
                                         int (*fn)(const struct sc_live_reminder_row *r, void *ctx),
                                         void *ctx)
{
    /*
     * The 'limit' most recently due (an index range of reminder_at), then in time order.
     * Followed up since: another follow-up logged on the lead after this one (a later id).
     */
    static struct sc_sql q =
        SC_SQL("SELECT * FROM (SELECT f.id, f.visitor_id, c.slug, m.name, f.channel, f.note, "
               "f.reminder_at, CASE WHEN f.reminder_at > f.created_at THEN f.reminder_at "
               "ELSE f.created_at END AS due, " LIVE_CUSTOMER(
                   "f.visitor_id", "f.card_id") " AS who "
                                                "FROM followups f JOIN cards c ON c.id = f.card_id "
                                                "JOIN members m ON m.id = c.member_id "
                                                "WHERE f.reminder_at IS NOT NULL AND f.done = 0 "
                                                "AND f.reminder_at > CAST(?3 AS BIGINT) "
                                                "AND f.reminder_at <= ?4 AND f.created_at <= ?4 "
                                                "AND NOT EXISTS (SELECT 1 FROM followups g WHERE "
                                                "g.visitor_id = f.visitor_id "
                                                "AND g.card_id = f.card_id AND g.id > f.id "
                                                "AND g.created_at <= ?4) "
                                                "AND f.card_id IN (" LIVE_SCOPE_CARDS
                                                ") ORDER BY due DESC, f.id DESC LIMIT ?5) x "
                                                "ORDER BY due, id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    bind_live_scope(r.st, scope);
    sc_sql_int(r.st, 3, since);
    sc_sql_int(r.st, 4, until);
    sc_sql_int(r.st, 5, limit);
    reminder_rows(&r, fn, ctx);
    return sc_q_end(&r);
}
