/*
 * q_lead_watch.c — what the server's hot-lead watch reads (issue 15,
 * bounded memory and CPU): the events of the leads active since its last
 * look, found by event id (a range of the table's own key), and the leads
 * whose last record in lead_hot says hot.  The watch rescores only the
 * leads that did something new, instead of every lead of the day (which
 * grew with the visitors: seconds of CPU every ten seconds, and hundreds of
 * megabytes, under a burst of new visitors), and keeps in memory only those
 * hot now or hot at their last record, the only ones whose record can change.
 */
#include "store_int.h"

enum sc_err sc_store_leads_hot_now(struct sc_store *s,
                                   int (*fn)(int64_t visitor_id, int64_t card_id, void *ctx),
                                   void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT h.visitor_id, h.card_id FROM lead_hot h WHERE h.hot = 1 AND NOT EXISTS "
               "(SELECT 1 FROM lead_hot n WHERE n.visitor_id = h.visitor_id AND "
               "n.card_id = h.card_id AND n.id > h.id) ORDER BY h.visitor_id, h.card_id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    while (sc_q_next(&r))
        if (fn(sc_sql_col_int(r.st, 0), sc_sql_col_int(r.st, 1), ctx))
            break;
    return sc_q_end(&r);
}

enum sc_err sc_store_events_newest(struct sc_store *s, int64_t *id)
{
    static struct sc_sql q = SC_SQL("SELECT coalesce(max(id), 0) FROM events");
    struct sc_q r;
    *id = 0;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    r.e = sc_sql_int1(r.st, id, NULL);
    return sc_q_end(&r);
}

enum sc_err sc_store_lead_events_touched(struct sc_store *s, int64_t after_id, int64_t upto_id,
                                         int (*fn)(const struct sc_lead_event_row *r, void *ctx),
                                         void *ctx)
{
    /*
     * The leads: a range of event ids (the table's key).  Their events: the
     * covering index events_lead per lead.  The visits their shares brought:
     * their links (links_owner), then each link's rollups from the day it
     * was made; SQLite's CROSS JOIN keeps that order (driven from the links,
     * every owned link would read its card's rollups at each look).
     */
    static struct sc_sql q = SC_SQL(
        "WITH k AS (SELECT DISTINCT t.visitor_id, t.card_id FROM events t "
        "WHERE t.id > ?1 AND t.id <= ?2 AND t.visitor_id IS NOT NULL AND t.bot = 0) "
        "SELECT e.visitor_id, e.card_id, c.member_id, c.slug, e.ts, e.type, coalesce(e.value, 0), "
        "coalesce(l.channel, -1), 0 FROM k "
        "JOIN events e ON e.visitor_id = k.visitor_id AND e.card_id = k.card_id "
        "AND e.visitor_id IS NOT NULL AND e.bot = 0 "
        "JOIN cards c ON c.id = e.card_id LEFT JOIN links l ON l.id = e.link_id "
        "UNION ALL "
        "SELECT l.owner_visitor_id, l.card_id, c.member_id, c.slug, r.day * 86400, r.type, "
        "r.humans, l.channel, 1 FROM k CROSS JOIN links l CROSS JOIN rollups r "
        "JOIN cards c ON c.id = l.card_id "
        "WHERE l.owner_visitor_id = k.visitor_id AND l.card_id = k.card_id "
        "AND r.card_id = l.card_id AND r.day >= l.created_at / 86400 AND r.link_id = l.id "
        "AND r.type IN (0, 1) AND r.humans > 0 "
        "ORDER BY 1, 2, 5");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, after_id);
    sc_sql_int(r.st, 2, upto_id);
    while (sc_q_next(&r)) {
        struct sc_stmt *st = r.st;
        struct sc_lead_event_row e = {
            .visitor_id = sc_sql_col_int(st, 0),
            .card_id = sc_sql_col_int(st, 1),
            .member_id = sc_sql_col_int(st, 2),
            .card = sc_sql_col_text(st, 3),
            .ts = sc_sql_col_int(st, 4),
            .type = (enum sc_ev_type)sc_sql_col_int(st, 5),
            .value = sc_sql_col_int(st, 6),
            .channel = (int)sc_sql_col_int(st, 7),
            .brought = sc_sql_col_int(st, 8) != 0,
        };
        e.qr = e.type == SC_EV_SCAN || e.channel == SC_CH_QR;
        if (fn(&e, ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_visit_times(struct sc_store *s, int64_t after_id, int64_t upto_id,
                                 int64_t since, int (*fn)(int64_t ts, void *ctx), void *ctx)
{
    static struct sc_sql q = SC_SQL("SELECT ts FROM events WHERE id > ?1 AND id <= ?2 AND "
                                    "ts >= ?3 AND type IN (0, 1, 2) AND bot = 0 AND "
                                    "visitor_id IS NOT NULL");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, after_id);
    sc_sql_int(r.st, 2, upto_id);
    sc_sql_int(r.st, 3, since);
    while (sc_q_next(&r))
        if (fn(sc_sql_col_int(r.st, 0), ctx))
            break;
    return sc_q_end(&r);
}
