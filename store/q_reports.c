/*
 * q_reports.c — the dashboards' figures, once for both backends: a card's
 * and a scope's totals, the daily series, the leaderboard, channels,
 * revenue and a card's share tree.  All read rollups (written by the event
 * writer), never the events themselves.  A new report is one SQL text and
 * one function here.
 */
#include <stdint.h>
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

/* ---- the whole company's rollups: compacted days from the cache (q_cache.c) ------------- */

/* True when 'scope' is the whole company (NULL, or neither a member nor a team). */
static bool whole_company(const struct sc_scope *scope)
{
    return !scope || (!scope->member_id && !scope->team);
}

/* This file's cache kinds (q_uniques.c has 1 and 2). */
enum { KIND_COMPANY_DAYS = 3, KIND_CARD_SUMS = 4 };

/* The company's rollups summed per day, channel (-1: none) and type (or per card and type). */
struct day_sum {
    int64_t day, ch, type, humans, bots;
};
struct day_sums {
    struct day_sum *v;
    size_t n, cap;
};

static bool day_sums_add(struct day_sums *d, const struct day_sum *x)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        struct day_sum *p = realloc(d->v, cap * sizeof(*p));
        if (!p)
            return false;
        d->v = p;
        d->cap = cap;
    }
    d->v[d->n++] = *x;
    return true;
}

static void day_sums_drop(void *p)
{
    struct day_sums *d = p;
    free(d->v);
    free(d);
}

/* A cache hit: the cached sums appended to the caller's. */
static void day_sums_copy(const void *val, void *ctx)
{
    const struct day_sums *c = val;
    struct day_sums *o = ctx;
    for (size_t i = 0; i < c->n; i++)
        if (!day_sums_add(o, &c->v[i])) {
            free(o->v);
            *o = (struct day_sums){0}; /* out of memory: seen as cap 0 with n 0 */
            o->cap = SIZE_MAX;
            return;
        }
}

/*
 * Appends the company's sums over days 'from'..'to' read on r's connection
 * to 'd': per day, channel and type (KIND_COMPANY_DAYS), or per card and
 * type (KIND_CARD_SUMS: the card in 'ch', 'day' 0).
 */
static void company_sums_read(struct sc_q *r, int kind, int64_t from, int64_t to,
                              struct day_sums *d)
{
    static struct sc_sql q_days = SC_SQL(
        "SELECT r.day, coalesce(l.channel, -1), r.type, sum(r.humans), sum(r.bots) FROM rollups r "
        "LEFT JOIN links l ON l.id = r.link_id" SCOPE_ROLLUPS " GROUP BY 1, 2, 3");
    static struct sc_sql q_cards = SC_SQL(
        "SELECT 0, r.card_id, r.type, sum(r.humans), sum(r.bots) FROM rollups r" SCOPE_ROLLUPS
        " GROUP BY r.card_id, r.type");
    if (from > to || !sc_q_prepare(r, kind == KIND_CARD_SUMS ? &q_cards : &q_days))
        return;
    bind_scope(r->st, NULL, from, to);
    while (sc_q_next(r)) {
        struct day_sum x = {sc_sql_col_int(r->st, 0), sc_sql_col_int(r->st, 1),
                            sc_sql_col_int(r->st, 2), sc_sql_col_int(r->st, 3),
                            sc_sql_col_int(r->st, 4)};
        if (!day_sums_add(d, &x)) {
            r->e = SC_ENOMEM;
            break;
        }
    }
}

/*
 * The whole company's rollups over 'from'..'to' ('kind') into 'out' (new; free
 * out->v): the days already compacted from the cache when it holds them at
 * this generation (read and put there when not), today's from the rollups.
 * The writer reopens a compacted day for any event stamped on it, so the
 * cached sums are the stored ones.
 */
static enum sc_err company_sums(struct sc_store *s, int kind, int64_t from, int64_t to,
                                struct day_sums *out)
{
    static struct sc_sql q_mark = SC_SQL("SELECT day, gen FROM uniques_compacted WHERE id = 1");
    *out = (struct day_sums){0};
    struct sc_q r;
    if (!sc_q_read(&r, s, &q_mark))
        return r.e;
    int64_t first_open = 0, gen = 0;
    if (sc_q_compacted(&r, &first_open, &gen) != SC_OK)
        goto out;
    int64_t last_closed = to < first_open - 1 ? to : first_open - 1;
    if (from <= last_closed) {
        struct sc_rcache_key key = {kind, from, last_closed, gen, 0, NULL};
        if (!sc_rcache_use(s->rcache, &key, day_sums_copy, out)) {
            struct day_sums *c = calloc(1, sizeof(*c));
            if (!c) {
                r.e = SC_ENOMEM;
                goto out;
            }
            company_sums_read(&r, kind, from, last_closed, c);
            if (r.e != SC_OK) {
                day_sums_drop(c);
                goto out;
            }
            day_sums_copy(c, out);
            sc_rcache_put(s->rcache, &key, c, day_sums_drop);
        }
        if (out->cap == SIZE_MAX) {
            *out = (struct day_sums){0};
            r.e = SC_ENOMEM;
            goto out;
        }
    }
    company_sums_read(&r, kind, from > last_closed ? from : last_closed + 1, to, out);
out:
    if (sc_q_end(&r) != SC_OK) {
        free(out->v);
        *out = (struct day_sums){0};
    }
    return r.e;
}

static int cmp_day_type(const void *a, const void *b)
{
    const struct day_sum *x = a, *y = b;
    if (x->day != y->day)
        return (x->day > y->day) - (x->day < y->day);
    return (x->type > y->type) - (x->type < y->type);
}

static int cmp_ch_type(const void *a, const void *b)
{
    const struct day_sum *x = a, *y = b;
    if (x->ch != y->ch)
        return (x->ch > y->ch) - (x->ch < y->ch);
    return (x->type > y->type) - (x->type < y->type);
}

/*
 * Hands the company's human counts over 'from'..'to' to 'fn' summed per key
 * of 'cmp' (day and type, or channel and type), in that order, as the
 * scoped SQL would; 'by_day' picks which key 'fn' gets first.
 */
static enum sc_err company_grouped(struct sc_store *s, int64_t from, int64_t to,
                                   int (*cmp)(const void *, const void *), bool by_day,
                                   int (*fn)(int64_t key, enum sc_ev_type t, int64_t n, void *ctx),
                                   void *ctx)
{
    struct day_sums d;
    enum sc_err e = company_sums(s, KIND_COMPANY_DAYS, from, to, &d);
    if (e != SC_OK)
        return e;
    if (d.n > 1)
        qsort(d.v, d.n, sizeof(*d.v), cmp);
    for (size_t i = 0; i < d.n;) {
        struct day_sum sum = d.v[i];
        size_t j = i + 1;
        for (; j < d.n && cmp(&d.v[j], &sum) == 0; j++)
            sum.humans += d.v[j].humans;
        i = j;
        if (sum.type >= 0 && sum.type < SC_EV_COUNT &&
            fn(by_day ? sum.day : sum.ch, (enum sc_ev_type)sum.type, sum.humans, ctx))
            break;
    }
    free(d.v);
    return SC_OK;
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
    if (scope && whole_company(scope)) {
        struct day_sums d;
        enum sc_err e = company_sums(s, KIND_COMPANY_DAYS, from, to, &d);
        if (e != SC_OK)
            return e;
        for (size_t i = 0; i < d.n; i++) {
            if (d.v[i].type >= 0 && d.v[i].type < SC_EV_COUNT)
                out->n[d.v[i].type] += d.v[i].humans;
            out->bots += d.v[i].bots;
        }
        free(d.v);
        return sc_q_uniques(s, scope, card, from, to, &out->uniques, NULL);
    }
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
    if (whole_company(scope))
        return company_grouped(s, from, to, cmp_day_type, true, fn, ctx);
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

/* A leaderboard row gathered for the whole company, its texts owned. */
struct leader {
    struct sc_leader_row l; /* its texts point at the three below */
    char *name, *team, *slug;
    int64_t card;
};

static char *dup_or_null(const char *t)
{
    return t ? strdup(t) : NULL;
}

/* Most sign-ups first, then most views, then by name byte by byte (as COLLATE "C"). */
static int cmp_leader(const void *a, const void *b)
{
    const struct leader *x = a, *y = b;
    if (x->l.signups != y->l.signups)
        return x->l.signups < y->l.signups ? 1 : -1;
    if (x->l.views != y->l.views)
        return x->l.views < y->l.views ? 1 : -1;
    return strcmp(x->l.name ? x->l.name : "", y->l.name ? y->l.name : "");
}

static int cmp_card_type(const void *a, const void *b)
{
    return cmp_ch_type(a, b); /* KIND_CARD_SUMS keeps the card in 'ch' */
}

/*
 * The whole company's leaderboard: the members and cards (with points) from
 * one plain read, each card's figures from the cached sums of the compacted
 * days and today's rollups (company_sums), its distinct visitors from
 * 'ids'/'counts'; sorted here as the scoped SQL sorts, first 1,000 rows.
 */
static enum sc_err company_leaderboard(struct sc_store *s, int64_t from, int64_t to,
                                       const int64_t *ids, const int64_t *counts, size_t nids,
                                       int (*fn)(const struct sc_leader_row *r, void *ctx),
                                       void *ctx)
{
    static struct sc_sql q = SC_SQL(
        "SELECT m.id, m.name, m.team, c.slug, "
        "(SELECT coalesce(sum(w.amount), 0) FROM rewards w WHERE w.party_type = 1 "
        "  AND w.party_id = m.id AND w.kind = 'signup' AND w.status IN ('pending', 'approved')), "
        "c.id FROM members m JOIN cards c ON c.member_id = m.id WHERE m.disabled = 0");
    struct day_sums d;
    enum sc_err e = company_sums(s, KIND_CARD_SUMS, from, to, &d);
    if (e != SC_OK)
        return e;
    if (d.n > 1)
        qsort(d.v, d.n, sizeof(*d.v), cmp_card_type);
    struct leader *v = NULL;
    size_t n = 0, cap = 0;
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        goto out;
    while (sc_q_next(&r)) {
        if (n == cap) {
            size_t c2 = cap ? cap * 2 : 256;
            struct leader *p = realloc(v, c2 * sizeof(*p));
            if (!p) {
                r.e = SC_ENOMEM;
                break;
            }
            v = p;
            cap = c2;
        }
        struct leader *x = &v[n];
        memset(x, 0, sizeof(*x));
        x->l.member_id = sc_sql_col_int(r.st, 0);
        x->l.name = x->name = dup_or_null(sc_sql_col_text(r.st, 1));
        x->l.team = x->team = dup_or_null(sc_sql_col_text(r.st, 2));
        x->l.slug = x->slug = dup_or_null(sc_sql_col_text(r.st, 3));
        x->l.points = sc_sql_col_int(r.st, 4);
        x->card = sc_sql_col_int(r.st, 5);
        n++;
        if ((sc_sql_col_text(r.st, 1) && !x->l.name) || (sc_sql_col_text(r.st, 2) && !x->l.team) ||
            (sc_sql_col_text(r.st, 3) && !x->l.slug)) {
            r.e = SC_ENOMEM;
            break;
        }
    }
    if (sc_q_end(&r) != SC_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct leader *x = &v[i];
        size_t lo = 0, hi = d.n; /* the card's first sum: sorted by card, then type */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (d.v[mid].ch < x->card)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < d.n && d.v[lo].ch == x->card; lo++) {
            int64_t h = d.v[lo].humans;
            switch (d.v[lo].type) {
            case 0: x->l.scans += h; break;
            case 1: x->l.opens += h; break;
            case 2: x->l.views += h; break;
            case 3: x->l.shares += h; break;
            case 7: x->l.signups += h; break;
            default: break;
            }
        }
        lo = 0, hi = nids; /* the card's distinct visitors: ids are sorted */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (ids[mid] < x->card)
                lo = mid + 1;
            else
                hi = mid;
        }
        x->l.uniques = lo < nids && ids[lo] == x->card ? counts[lo] : 0;
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_leader);
    for (size_t i = 0; i < n && i < 1000; i++)
        if (fn(&v[i].l, ctx))
            break;
out:
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].team);
        free(v[i].slug);
    }
    free(v);
    free(d.v);
    return r.e;
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
    if (whole_company(scope)) {
        e = company_leaderboard(s, from, to, ids, counts, nids, fn, ctx);
        free(ids);
        free(counts);
        return e;
    }
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

/* A channels callback called with company_grouped()'s int64_t key. */
struct ch_fwd {
    int (*fn)(int ch, enum sc_ev_type t, int64_t n, void *ctx);
    void *ctx;
};

static int channel_fn(int64_t ch, enum sc_ev_type t, int64_t n, void *ctx)
{
    struct ch_fwd *f = ctx;
    return f->fn((int)ch, t, n, f->ctx);
}

enum sc_err sc_store_channels(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                              int64_t to,
                              int (*fn)(int ch, enum sc_ev_type t, int64_t n, void *ctx), void *ctx)
{
    struct ch_fwd fwd = {fn, ctx};
    static struct sc_sql q =
        SC_SQL("SELECT coalesce(l.channel, -1), r.type, sum(r.humans) FROM rollups r "
               "LEFT JOIN links l ON l.id = r.link_id" SCOPE_ROLLUPS " GROUP BY 1, 2");
    if (whole_company(scope))
        return company_grouped(s, from, to, cmp_ch_type, false, channel_fn, &fwd);
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
    static struct sc_sql q =
        SC_SQL(VISIT_COLS "WHERE e.id > ?3 AND e.bot = 0 "
                          "AND e.type IN (0, 1, 2, 3, 5, 7)" SCOPE_EVENTS "ORDER BY e.id LIMIT ?4");
    *last = after;
    if (after < 0)
        return sc_store_events_newest(s, last); /* (q_lead_watch.c) */
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
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

enum sc_err sc_store_devices(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                             int64_t to, int64_t out[SC_DEV_COUNT])
{
    int64_t total = 0;
    memset(out, 0, SC_DEV_COUNT * sizeof(*out));
    return sc_q_uniques(s, scope, 0, from, to, &total, out);
}

/* ---- issue 15: the whole company's dashboard read ahead ----------------------------------- */

static int leader_nothing(const struct sc_leader_row *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 0;
}

enum sc_err sc_store_company_warm(struct sc_store *s, int64_t today)
{
    /* What the admin's 30-day dashboard reads (server/dashboard.c): its misses fill the cache. */
    struct sc_scope all = {0, NULL};
    struct sc_stats st;
    enum sc_err e = sc_store_scope_stats(s, &all, today - 29, today, &st);
    if (e == SC_OK)
        e = sc_store_scope_stats(s, &all, today - 59, today - 30, &st);
    if (e == SC_OK)
        e = sc_store_leaderboard(s, &all, today - 29, today, leader_nothing, NULL);
    return e;
}
