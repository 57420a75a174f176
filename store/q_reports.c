/*
 * q_reports.c — the dashboards' figures, once for both backends: a card's
 * and a scope's totals, the daily series, the leaderboard, channels,
 * revenue and a card's share tree.  All read rollups (written by the event
 * writer), never the events themselves.  A new report is one SQL text and
 * one function here.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/*
 * Rollup rows 'r' of the cards in scope (?1 a member or 0, ?2 a team or
 * NULL) from day ?3 to ?4.  The cards are chosen first, so that each is a
 * range of the rollup tables' (card_id, day, …) keys: joining from the
 * rollups side would scan every rollup row ever written.
 */
#define SCOPE_ROLLUPS                                                                              \
    " WHERE r.card_id IN (SELECT c.id FROM cards c JOIN members m ON m.id = c.member_id "          \
    "WHERE (CAST(?1 AS BIGINT) = 0 OR c.member_id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR "         \
    "m.team = ?2)) AND r.day BETWEEN ?3 AND ?4"

/* Binds a scope as ?1 and ?2, and 'a', 'b' as ?3 and ?4. */
static void bind_scope(struct sc_stmt *st, const struct sc_scope *scope, int64_t a, int64_t b)
{
    sc_sql_int(st, 1, scope ? scope->member_id : 0);
    sc_sql_opt(st, 2, scope ? scope->team : NULL);
    sc_sql_int(st, 3, a);
    sc_sql_int(st, 4, b);
}

/* Takes a reader with 'q' prepared and bound to 'scope', 'a' and 'b'; false as sc_q_read(). */
static bool read_scoped(struct sc_q *r, struct sc_store *s, struct sc_sql *q,
                        const struct sc_scope *scope, int64_t a, int64_t b)
{
    if (!sc_q_read(r, s, q))
        return false;
    bind_scope(r->st, scope, a, b);
    return true;
}

/*
 * Totals into 'out': 'rollups' gives rows of (type, humans, bots), bound
 * with 'scope' (then 'card' is 0) or 'card', 'from', 'to'; the distinct
 * visitors come from q_uniques.c's bitmaps.
 */
static enum sc_err stats_of(struct sc_store *s, struct sc_sql *rollups,
                            const struct sc_scope *scope, int64_t card, int64_t from, int64_t to,
                            struct sc_stats *out)
{
    memset(out, 0, sizeof(*out));
    struct sc_q r;
    if (!sc_q_read(&r, s, rollups))
        return r.e;
    if (scope) {
        bind_scope(r.st, scope, from, to);
    } else {
        sc_sql_int(r.st, 1, card);
        sc_sql_int(r.st, 2, from);
        sc_sql_int(r.st, 3, to);
    }
    while (sc_q_next(&r)) {
        int64_t t = sc_sql_col_int(r.st, 0);
        if (t >= 0 && t < SC_EV_COUNT)
            out->n[t] = sc_sql_col_int(r.st, 1);
        out->bots += sc_sql_col_int(r.st, 2);
    }
    if (sc_q_end(&r) != SC_OK)
        return r.e;
    return sc_q_uniques(s, scope, card, from, to, &out->uniques, NULL);
}

enum sc_err sc_store_card_stats(struct sc_store *s, int64_t card_id, int64_t day_from,
                                int64_t day_to, struct sc_stats *out)
{
    static struct sc_sql q_rollups =
        SC_SQL("SELECT type, sum(humans), sum(bots) FROM rollups "
               "WHERE card_id = ? AND day BETWEEN ? AND ? GROUP BY type");
    return stats_of(s, &q_rollups, NULL, card_id, day_from, day_to, out);
}

enum sc_err sc_store_scope_stats(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                                 int64_t to, struct sc_stats *out)
{
    static struct sc_sql q_rollups =
        SC_SQL("SELECT r.type, sum(r.humans), sum(r.bots) FROM rollups r" SCOPE_ROLLUPS
               " GROUP BY r.type");
    static const struct sc_scope all = {0, NULL};
    return stats_of(s, &q_rollups, scope ? scope : &all, 0, from, to, out);
}

enum sc_err sc_store_series(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                            int64_t to,
                            int (*fn)(int64_t day, enum sc_ev_type t, int64_t n, void *ctx),
                            void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT r.day, r.type, sum(r.humans) FROM rollups r" SCOPE_ROLLUPS
               " GROUP BY r.day, r.type ORDER BY r.day, r.type");
    struct sc_q r;
    if (!read_scoped(&r, s, &q, scope, from, to))
        return r.e;
    while (sc_q_next(&r)) {
        int64_t t = sc_sql_col_int(r.st, 1);
        if (t >= 0 && t < SC_EV_COUNT &&
            fn(sc_sql_col_int(r.st, 0), (enum sc_ev_type)t, sc_sql_col_int(r.st, 2), ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_leaderboard(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                                 int64_t to, int (*fn)(const struct sc_leader_row *r, void *ctx),
                                 void *ctx)
{
    static struct sc_sql q = SC_SQL(
        "SELECT m.id, m.name, m.team, c.slug, "
        "coalesce(sum(CASE WHEN r.type = 0 THEN r.humans END), 0), "
        "coalesce(sum(CASE WHEN r.type = 1 THEN r.humans END), 0), "
        "coalesce(sum(CASE WHEN r.type = 2 THEN r.humans END), 0), "
        "0, "
        "coalesce(sum(CASE WHEN r.type = 3 THEN r.humans END), 0), "
        "coalesce(sum(CASE WHEN r.type = 7 THEN r.humans END), 0), "
        "(SELECT coalesce(sum(w.amount), 0) FROM rewards w WHERE w.party_type = 1 "
        "  AND w.party_id = m.id AND w.kind = 'signup' AND w.status IN ('pending', 'approved')), "
        "c.id FROM members m JOIN cards c ON c.member_id = m.id "
        "LEFT JOIN rollups r ON r.card_id = c.id AND r.day BETWEEN ?3 AND ?4 "
        "WHERE (CAST(?1 AS BIGINT) = 0 OR m.id = ?1) "
        "AND (CAST(?2 AS TEXT) IS NULL OR m.team = ?2) AND m.disabled = 0 "
        "GROUP BY m.id, c.id ORDER BY 10 DESC, 7 DESC, m.name{collate_c} LIMIT 1000");
    /* Each card's distinct visitors first (bitmaps), before the reader is taken for the rows. */
    int64_t *ids = NULL, *counts = NULL;
    size_t nids = 0;
    enum sc_err e = sc_q_uniques_by_card(s, scope, from, to, &ids, &counts, &nids);
    if (e != SC_OK)
        return e;
    struct sc_q r;
    if (!read_scoped(&r, s, &q, scope, from, to)) {
        free(ids);
        free(counts);
        return r.e;
    }
    while (sc_q_next(&r)) {
        struct sc_stmt *st = r.st;
        struct sc_leader_row l = {
            .member_id = sc_sql_col_int(st, 0),
            .name = sc_sql_col_text(st, 1),
            .team = sc_sql_col_text(st, 2),
            .slug = sc_sql_col_text(st, 3),
            .scans = sc_sql_col_int(st, 4),
            .opens = sc_sql_col_int(st, 5),
            .views = sc_sql_col_int(st, 6),
            .shares = sc_sql_col_int(st, 8),
            .signups = sc_sql_col_int(st, 9),
            .points = sc_sql_col_int(st, 10),
        };
        int64_t card = sc_sql_col_int(st, 11);
        size_t lo = 0, hi = nids; /* the card's count: ids are sorted */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (ids[mid] < card)
                lo = mid + 1;
            else
                hi = mid;
        }
        l.uniques = lo < nids && ids[lo] == card ? counts[lo] : 0;
        if (fn(&l, ctx))
            break;
    }
    free(ids);
    free(counts);
    return sc_q_end(&r);
}

enum sc_err sc_store_channels(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                              int64_t to,
                              int (*fn)(int ch, enum sc_ev_type t, int64_t n, void *ctx), void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT coalesce(l.channel, -1), r.type, sum(r.humans) FROM rollups r "
               "LEFT JOIN links l ON l.id = r.link_id" SCOPE_ROLLUPS " GROUP BY 1, 2");
    struct sc_q r;
    if (!read_scoped(&r, s, &q, scope, from, to))
        return r.e;
    while (sc_q_next(&r)) {
        int64_t t = sc_sql_col_int(r.st, 1);
        if (t >= 0 && t < SC_EV_COUNT &&
            fn((int)sc_sql_col_int(r.st, 0), (enum sc_ev_type)t, sc_sql_col_int(r.st, 2), ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_revenue(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                             int64_t to, int64_t *orders, int64_t *cents)
{
    static struct sc_sql q = SC_SQL(
        "SELECT count(*), coalesce(sum(v.amount_cents), 0) FROM conversions v "
        "JOIN customers s ON s.id = v.customer_id JOIN cards c ON c.id = s.card_id "
        "JOIN members m ON m.id = c.member_id WHERE v.created_at >= CAST(?3 AS BIGINT) * 86400 "
        "AND v.created_at < (CAST(?4 AS BIGINT) + 1) * 86400 "
        "AND (CAST(?1 AS BIGINT) = 0 OR c.member_id = ?1) "
        "AND (CAST(?2 AS TEXT) IS NULL OR m.team = ?2)");
    *orders = *cents = 0;
    struct sc_q r;
    if (!read_scoped(&r, s, &q, scope, from, to))
        return r.e;
    if (sc_q_next(&r)) {
        *orders = sc_sql_col_int(r.st, 0);
        *cents = sc_sql_col_int(r.st, 1);
    }
    return sc_q_end(&r);
}

/* Columns of a link's owner: its party type, id and name (l is the link). */
#define LINK_OWNER                                                                                 \
    "CASE WHEN l.owner_member_id IS NOT NULL THEN 1 "                                              \
    "  WHEN l.owner_customer_id IS NOT NULL THEN 2 ELSE 0 END, "                                   \
    "coalesce(l.owner_member_id, l.owner_customer_id, 0), "                                        \
    "CASE WHEN l.owner_member_id IS NOT NULL THEN "                                                \
    "  (SELECT name FROM members WHERE id = l.owner_member_id) "                                   \
    "  WHEN l.owner_customer_id IS NOT NULL THEN "                                                 \
    "  (SELECT name FROM customers WHERE id = l.owner_customer_id) END"

enum sc_err sc_store_share_tree(struct sc_store *s, int64_t card_id,
                                int (*fn)(const struct sc_tree_row *r, void *ctx), void *ctx)
{
    static struct sc_sql q = SC_SQL(
        "SELECT l.id, coalesce(l.parent_link_id, 0), l.code, l.channel, " LINK_OWNER ", "
        "l.created_at, coalesce(v.n, 0), coalesce(u.n, 0) FROM links l "
        "LEFT JOIN (SELECT link_id, sum(humans) AS n FROM rollups WHERE card_id = ?1 "
        "  AND type IN (0, 1) GROUP BY link_id) v ON v.link_id = l.id "
        "LEFT JOIN (SELECT referrer_link_id, count(*) AS n FROM customers WHERE card_id = ?1 "
        "  GROUP BY referrer_link_id) u ON u.referrer_link_id = l.id "
        "WHERE l.card_id = ?1 ORDER BY l.id LIMIT 5000");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, card_id);
    while (sc_q_next(&r)) {
        struct sc_stmt *st = r.st;
        struct sc_tree_row t = {
            .id = sc_sql_col_int(st, 0),
            .parent_id = sc_sql_col_int(st, 1),
            .code = sc_sql_col_text(st, 2),
            .channel = (enum sc_channel)sc_sql_col_int(st, 3),
            .owner = {.type = (enum sc_party_type)sc_sql_col_int(st, 4),
                      .id = sc_sql_col_int(st, 5)},
            .created_at = sc_sql_col_int(st, 7),
            .visits = sc_sql_col_int(st, 8),
            .signups = sc_sql_col_int(st, 9),
        };
        sc_sql_col_copy(st, 6, t.owner.name, sizeof(t.owner.name));
        if (fn(&t, ctx))
            break;
    }
    return sc_q_end(&r);
}

/* ---- visits and leads: the live feed and lead intelligence ------------------------------- */

/* A visit as the live feed and a lead's timeline show it; ?1, ?2 the scope. */
#define VISIT_COLS                                                                                 \
    "SELECT e.id, e.ts, e.type, c.slug, m.name, coalesce(l.channel, -1), " LINK_OWNER ", "         \
    "coalesce(a.device, ''), coalesce(a.os, ''), coalesce(e.value, 0) FROM events e "              \
    "JOIN cards c ON c.id = e.card_id JOIN members m ON m.id = c.member_id "                       \
    "LEFT JOIN links l ON l.id = e.link_id LEFT JOIN agents a ON a.id = e.agent_id "
#define SCOPE_EVENTS                                                                               \
    " AND (CAST(?1 AS BIGINT) = 0 OR c.member_id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR "          \
    "m.team = ?2) "

/* Runs visits statement 'q' (bound) and hands each row to 'fn'; '*last' the last id (or NULL). */
static void visit_rows(struct sc_q *r, int (*fn)(const struct sc_visit_row *v, void *ctx),
                       void *ctx, int64_t *last)
{
    while (sc_q_next(r)) {
        struct sc_stmt *st = r->st;
        struct sc_visit_row v = {
            .id = sc_sql_col_int(st, 0),
            .ts = sc_sql_col_int(st, 1),
            .type = (enum sc_ev_type)sc_sql_col_int(st, 2),
            .card = sc_sql_col_text(st, 3),
            .card_owner = sc_sql_col_text(st, 4),
            .channel = (int)sc_sql_col_int(st, 5),
            .via = {.type = (enum sc_party_type)sc_sql_col_int(st, 6), .id = sc_sql_col_int(st, 7)},
            .device = sc_sql_col_text(st, 9),
            .os = sc_sql_col_text(st, 10),
            .value = sc_sql_col_int(st, 11),
        };
        sc_sql_col_copy(st, 8, v.via.name, sizeof(v.via.name));
        if (last)
            *last = v.id;
        if (fn(&v, ctx))
            break;
    }
}

/*
 * With several PostgreSQL instances, ids come from one sequence but batches
 * commit in their own order, so an event that commits a moment after a
 * higher id was read can be missed by a feed that already moved past it:
 * the live feed is a glimpse, the reports read rollups.
 */
enum sc_err sc_store_visits_after(struct sc_store *s, const struct sc_scope *scope, int64_t after,
                                  int limit, int (*fn)(const struct sc_visit_row *r, void *ctx),
                                  void *ctx, int64_t *last)
{
    static struct sc_sql q_newest = SC_SQL("SELECT coalesce(max(id), 0) FROM events");
    static struct sc_sql q =
        SC_SQL(VISIT_COLS "WHERE e.id > ?3 AND e.bot = 0 "
                          "AND e.type IN (0, 1, 2, 3, 5, 7)" SCOPE_EVENTS "ORDER BY e.id LIMIT ?4");
    *last = after;
    struct sc_q r;
    if (!sc_q_read(&r, s, after < 0 ? &q_newest : &q))
        return r.e;
    if (after < 0) {
        r.e = sc_sql_int1(r.st, last, NULL);
        return sc_q_end(&r);
    }
    bind_scope(r.st, scope, after, limit);
    visit_rows(&r, fn, ctx, last);
    return sc_q_end(&r);
}

enum sc_err sc_store_lead_timeline(struct sc_store *s, const struct sc_scope *scope,
                                   int64_t visitor_id, int limit,
                                   int (*fn)(const struct sc_visit_row *r, void *ctx), void *ctx)
{
    static struct sc_sql q = SC_SQL(VISIT_COLS "WHERE e.visitor_id = ?3 AND e.bot = 0" SCOPE_EVENTS
                                               "ORDER BY e.id DESC LIMIT ?4");
    struct sc_q r;
    if (!read_scoped(&r, s, &q, scope, visitor_id, limit))
        return r.e;
    visit_rows(&r, fn, ctx, NULL);
    return sc_q_end(&r);
}

enum sc_err sc_store_leads(struct sc_store *s, const struct sc_scope *scope, int64_t since,
                           int limit, int (*fn)(const struct sc_lead_row *r, void *ctx), void *ctx)
{
    /*
     * The leads are found as lead intelligence finds them (SC_LEADS_WHO),
     * then each one's every human event is read (the visitor's index).
     * Ties are broken by lead, so pages (?offset=) neither repeat nor skip.
     * A lead is named only on the card its customer signed up through: to
     * another card's owner (another team) a customer is a visitor (issues 14, 17).
     */
    static struct sc_sql q = SC_SQL(
        "SELECT u.visitor_id, c.slug, "
        "(SELECT s.name FROM customers s WHERE s.visitor_id = u.visitor_id "
        "  AND s.card_id = u.card_id LIMIT 1), "
        "min(e.ts), max(e.ts), sum(CASE WHEN e.type IN (0, 1, 2) THEN 1 ELSE 0 END), "
        "count(DISTINCT e.ts / 86400), sum(CASE WHEN e.type = 4 THEN 1 ELSE 0 END), "
        "sum(CASE WHEN e.type = 5 THEN 1 ELSE 0 END), sum(CASE WHEN e.type = 3 THEN 1 ELSE 0 END), "
        "coalesce(sum(CASE WHEN e.type = 6 THEN e.value END), 0), "
        "max(CASE WHEN e.type = 7 THEN 1 ELSE 0 END) "
        "FROM (" SC_LEADS_WHO ") u "
        "JOIN cards c ON c.id = u.card_id "
        "JOIN events e ON e.visitor_id = u.visitor_id AND e.card_id = u.card_id AND e.bot = 0 "
        "GROUP BY u.visitor_id, u.card_id, c.slug "
        "ORDER BY max(e.ts) DESC, u.visitor_id DESC, u.card_id LIMIT ?4");
    struct sc_q r;
    if (!read_scoped(&r, s, &q, scope, since, limit))
        return r.e;
    while (sc_q_next(&r)) {
        struct sc_stmt *st = r.st;
        struct sc_lead_row l = {
            .visitor_id = sc_sql_col_int(st, 0),
            .card = sc_sql_col_text(st, 1),
            .customer = sc_sql_col_text(st, 2),
            .first_ts = sc_sql_col_int(st, 3),
            .last_ts = sc_sql_col_int(st, 4),
            .visits = sc_sql_col_int(st, 5),
            .days = sc_sql_col_int(st, 6),
            .clicks = sc_sql_col_int(st, 7),
            .saves = sc_sql_col_int(st, 8),
            .shares = sc_sql_col_int(st, 9),
            .dwell_s = sc_sql_col_int(st, 10),
            .signed_up = sc_sql_col_int(st, 11) != 0,
        };
        if (fn(&l, ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_devices(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                             int64_t to, int64_t out[SC_DEV_COUNT])
{
    int64_t total = 0;
    memset(out, 0, SC_DEV_COUNT * sizeof(*out));
    return sc_q_uniques(s, scope, 0, from, to, &total, out);
}
