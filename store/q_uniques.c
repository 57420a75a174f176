/*
 * q_uniques.c — exact unique visitors over any range, once for both
 * backends, from compressed bitmaps (CRoaring).
 *
 * The event writer keeps one row per unique visitor-day of a card
 * (rollup_uniques: it is how a visit is known to be a card's first of the
 * day).  Counting distinct visitors over a month from those rows reads every
 * one of them: 2.5M rows for a company's month at 10M events.  So each day
 * that is over is compacted once into one bitmap per (card, day, device
 * class) in unique_bitmaps, and a range's count is the cardinality of the
 * union of its days' bitmaps, with the rows of the days not yet compacted
 * (today) added one by one.  Exact, not estimated.  The whole
 * company also gets one bitmap per day and device class (card 0), so its
 * month is thirty-odd large bitmaps rather than one per card and day.
 *
 * uniques_compacted holds the first day not yet compacted (0: none is):
 * days before it are read from bitmaps, days from it on from rows.  A day is
 * compacted once it is over (COMPACT_LAG).  Should a unique row still arrive for a
 * day at or before that mark (an event stamped in the past: demo data, a
 * clock set back), the event writer moves the mark back to that day and
 * bumps a generation (sc_q_uniques_reopen, in the same transaction), so the
 * day is read from rows again and compacted anew; a compaction that raced
 * with it finds the generation moved and writes nothing.
 *
 * A blob is the bitmap in Roaring's portable format, followed by any ids
 * that do not fit 32 bits (none in practice: ids count up from 1) as a
 * 32-bit count and that many 64-bit ids, so the count stays exact whatever
 * the ids.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <roaring/roaring.h>

#include "store_int.h"

/*
 * A day is compacted once it is this many days old: 1, as soon as it is
 * over, so the rows read on every dashboard are today's only (issue 15; a
 * late event for yesterday just reopens it).
 */
#define COMPACT_LAG 1

/* A set of visitor ids: a bitmap for those that fit 32 bits, a list for the rest. */
struct uset {
    roaring_bitmap_t *bits;
    int64_t *extra; /* ids outside [0, 2^32), unsorted, may repeat */
    size_t n, cap;
};

static bool uset_init(struct uset *u)
{
    memset(u, 0, sizeof(*u));
    u->bits = roaring_bitmap_create();
    return u->bits != NULL;
}

static void uset_cleanup(struct uset *u)
{
    if (u->bits)
        roaring_bitmap_free(u->bits);
    free(u->extra);
    memset(u, 0, sizeof(*u));
}

static bool uset_add(struct uset *u, int64_t id)
{
    if (id >= 0 && id <= (int64_t)UINT32_MAX) {
        roaring_bitmap_add(u->bits, (uint32_t)id);
        return true;
    }
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 8;
        int64_t *p = realloc(u->extra, cap * sizeof(*p));
        if (!p)
            return false;
        u->extra = p;
        u->cap = cap;
    }
    u->extra[u->n++] = id;
    return true;
}

/*
 * Adds the ids of blob 'p' ('len' bytes, as uset_blob() wrote it) to each of
 * the 'n' sets 'to' (NULL entries skipped), reading the blob once; false if
 * it is not such a blob or memory ran out.
 */
static bool uset_add_blob(struct uset **to, int n, const void *p, size_t len)
{
    size_t rb = roaring_bitmap_portable_deserialize_size(p, len);
    if (!rb)
        return false;
    roaring_bitmap_t *b = roaring_bitmap_portable_deserialize_safe(p, rb);
    if (!b)
        return false;
    for (int k = 0; k < n; k++)
        if (to[k])
            roaring_bitmap_or_inplace(to[k]->bits, b);
    roaring_bitmap_free(b);
    if (len == rb)
        return true;
    const unsigned char *q = (const unsigned char *)p + rb;
    uint32_t cnt;
    if (len - rb < sizeof(cnt))
        return false;
    memcpy(&cnt, q, sizeof(cnt));
    if ((len - rb - sizeof(cnt)) / sizeof(int64_t) != cnt)
        return false;
    for (uint32_t i = 0; i < cnt; i++) {
        int64_t id;
        memcpy(&id, q + sizeof(cnt) + i * sizeof(id), sizeof(id));
        for (int k = 0; k < n; k++)
            if (to[k] && !uset_add(to[k], id))
                return false;
    }
    return true;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts and dedupes the list of ids outside 32 bits. */
static void uset_settle(struct uset *u)
{
    if (u->n < 2)
        return;
    qsort(u->extra, u->n, sizeof(*u->extra), cmp_i64);
    size_t w = 1;
    for (size_t i = 1; i < u->n; i++)
        if (u->extra[i] != u->extra[w - 1])
            u->extra[w++] = u->extra[i];
    u->n = w;
}

static int64_t uset_count(struct uset *u)
{
    uset_settle(u);
    return (int64_t)roaring_bitmap_get_cardinality(u->bits) + (int64_t)u->n;
}

/* The set as a blob: returns new (free()), or NULL when out of memory. */
static void *uset_blob(struct uset *u, size_t *len)
{
    uset_settle(u);
    roaring_bitmap_run_optimize(u->bits);
    size_t rb = roaring_bitmap_portable_size_in_bytes(u->bits);
    size_t extra = u->n ? sizeof(uint32_t) + u->n * sizeof(int64_t) : 0;
    unsigned char *p = malloc(rb + extra);
    if (!p)
        return NULL;
    roaring_bitmap_portable_serialize(u->bits, (char *)p);
    if (u->n) {
        uint32_t k = (uint32_t)u->n;
        memcpy(p + rb, &k, sizeof(k));
        memcpy(p + rb + sizeof(k), u->extra, u->n * sizeof(int64_t));
    }
    *len = rb + extra;
    return p;
}

/* The first day not yet compacted (0: none is) on 'r''s connection, and '*gen' (may be NULL). */
enum sc_err sc_q_compacted(struct sc_q *r, int64_t *out, int64_t *gen)
{
    static struct sc_sql q = SC_SQL("SELECT day, gen FROM uniques_compacted WHERE id = 1");
    *out = 0;
    if (gen)
        *gen = 0;
    if (!sc_q_prepare(r, &q))
        return r->e;
    if (sc_q_next(r)) {
        *out = sc_sql_col_int(r->st, 0);
        if (gen)
            *gen = sc_sql_col_int(r->st, 1);
    }
    sc_sql_reset(r->st); /* no read left open */
    return r->e;
}

enum sc_err sc_q_uniques_reopen(struct sc_db *db, int64_t day)
{
    /*
     * Matches only when it matters: the day is before the mark (compacted:
     * the mark goes back to it), or old enough to be compacted right now
     * (the generation moves, so a compaction under way writes nothing).  A
     * batch of today's visits matches nothing and writes nothing.
     */
    static struct sc_sql q = SC_SQL("UPDATE uniques_compacted SET gen = gen + 1, "
                                    "day = CASE WHEN day > ?1 THEN ?1 ELSE day END "
                                    "WHERE id = 1 AND (day > ?1 OR ?1 <= ?2)");
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
    if (!st)
        return e;
    sc_sql_int(st, 1, day);
    sc_sql_int(st, 2, (int64_t)(time(NULL) / 86400) - COMPACT_LAG);
    int64_t changed = 0;
    return sc_sql_exec(st, &changed);
}

/* ---- reading ---------------------------------------------------------------------- */

/*
 * The cards chosen by a member (?1, 0: any), a team (?2, NULL: any) and a
 * card (?6, 0: any), days ?3 to ?4; ?5 is the first day not compacted.
 */
#define UNIQ_SCOPE                                                                                 \
    " WHERE r.card_id IN (SELECT c.id FROM cards c JOIN members m ON m.id = c.member_id "          \
    "WHERE (CAST(?1 AS BIGINT) = 0 OR c.member_id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR "         \
    "m.team = ?2) AND (CAST(?6 AS BIGINT) = 0 OR c.id = ?6)) AND r.day BETWEEN ?3 AND ?4"

/* Per card: an open-addressed table from card id to its set (the leaderboard's uniques). */
struct card_sets {
    int64_t *ids; /* 0: empty slot */
    struct uset *sets;
    size_t cap, n;
};

static void card_sets_free(struct card_sets *cs)
{
    for (size_t i = 0; i < cs->cap; i++)
        if (cs->ids[i])
            uset_cleanup(&cs->sets[i]);
    free(cs->ids);
    free(cs->sets);
    memset(cs, 0, sizeof(*cs));
}

static size_t slot_of(const struct card_sets *cs, int64_t id)
{
    size_t i = (size_t)((uint64_t)id * 0x9e3779b97f4a7c15u) & (cs->cap - 1);
    while (cs->ids[i] && cs->ids[i] != id)
        i = (i + 1) & (cs->cap - 1);
    return i;
}

/* The set of card 'id', made if new; NULL when out of memory. */
static struct uset *card_set(struct card_sets *cs, int64_t id)
{
    if (cs->n * 2 >= cs->cap) {
        struct card_sets g = {.cap = cs->cap ? cs->cap * 2 : 64};
        g.ids = calloc(g.cap, sizeof(*g.ids));
        g.sets = calloc(g.cap, sizeof(*g.sets));
        if (!g.ids || !g.sets) {
            free(g.ids);
            free(g.sets);
            return NULL;
        }
        for (size_t i = 0; i < cs->cap; i++)
            if (cs->ids[i]) {
                size_t j = slot_of(&g, cs->ids[i]);
                g.ids[j] = cs->ids[i];
                g.sets[j] = cs->sets[i];
                g.n++;
            }
        free(cs->ids);
        free(cs->sets);
        *cs = g;
    }
    size_t i = slot_of(cs, id);
    if (!cs->ids[i]) {
        if (!uset_init(&cs->sets[i]))
            return NULL;
        cs->ids[i] = id;
        cs->n++;
    }
    return &cs->sets[i];
}

/* What a reading fills: the whole set, per device class, per card (NULL each: not wanted). */
struct uniq_want {
    struct uset *all;
    struct uset *dev;          /* SC_DEV_COUNT sets */
    struct card_sets *by_card; /* its sets made as cards turn up */
};

/*
 * Adds the visitors of the cards chosen by 'scope' (NULL: every card) and
 * 'card' (0: every card of the scope) over days 'from'..'to' to 'w', on r's
 * connection: the compacted days ('first_open' is the first that is not)
 * from bitmaps when 'bits', the others from rows when 'rows'.
 */
static void uniques_add(struct sc_q *r, const struct sc_scope *scope, int64_t card, int64_t from,
                        int64_t to, int64_t first_open, bool bits, bool rows,
                        const struct uniq_want *w)
{
    static struct sc_sql q_bits = SC_SQL(
        "SELECT r.card_id, r.device, r.bits FROM unique_bitmaps r" UNIQ_SCOPE " AND r.day < ?5");
    static struct sc_sql q_rows = SC_SQL("SELECT r.card_id, r.device, r.visitor_id "
                                         "FROM rollup_uniques r" UNIQ_SCOPE " AND r.day >= ?5");
    /* The whole company: its own bitmaps (card 0), a few large ones instead of one per card. */
    static struct sc_sql q_company =
        SC_SQL("SELECT 0, r.device, r.bits FROM unique_bitmaps r WHERE r.card_id = 0 "
               "AND CAST(?1 AS BIGINT) = 0 AND CAST(?2 AS TEXT) IS NULL AND CAST(?6 AS BIGINT) = 0 "
               "AND r.day BETWEEN ?3 AND ?4 AND r.day < ?5");
    bool company = (!scope || (!scope->member_id && !scope->team)) && !card && !w->by_card;
    for (int pass = bits ? 0 : 1; pass < (rows ? 2 : 1) && r->e == SC_OK; pass++) {
        if (!sc_q_prepare(r, pass == 1 ? &q_rows : company ? &q_company : &q_bits))
            break;
        sc_sql_int(r->st, 1, scope ? scope->member_id : 0);
        sc_sql_opt(r->st, 2, scope ? scope->team : NULL);
        /* Each pass's own days as the range, so the index seeks to them (not only filters). */
        sc_sql_int(r->st, 3, pass == 1 && from < first_open ? first_open : from);
        sc_sql_int(r->st, 4, pass == 0 && to >= first_open ? first_open - 1 : to);
        sc_sql_int(r->st, 5, first_open);
        sc_sql_int(r->st, 6, card);
        while (sc_q_next(r)) {
            int64_t d = sc_sql_col_int(r->st, 1);
            struct uset *sets[3] = {w->all, /* NULL entries are skipped */
                                    w->dev ? &w->dev[d > 0 && d < SC_DEV_COUNT ? d : 0] : NULL,
                                    w->by_card ? card_set(w->by_card, sc_sql_col_int(r->st, 0))
                                               : NULL};
            if (w->by_card && !sets[2]) {
                r->e = SC_ENOMEM;
                break;
            }
            if (pass == 0) {
                size_t len = 0;
                const void *blob = sc_sql_col_blob(r->st, 2, &len);
                if (!blob || !uset_add_blob(sets, 3, blob, len))
                    r->e = SC_EDB; /* a blob we did not write, or no memory */
                continue;
            }
            int64_t id = sc_sql_col_int(r->st, 2);
            for (int k = 0; k < 3 && r->e == SC_OK; k++)
                if (sets[k] && !uset_add(sets[k], id))
                    r->e = SC_ENOMEM;
        }
    }
}

/* How many in the union of 'c' (settled: a cached set, NULL: empty) and 'o'. */
static int64_t uset_union_count(const struct uset *c, struct uset *o)
{
    uset_settle(o);
    if (!c)
        return (int64_t)roaring_bitmap_get_cardinality(o->bits) + (int64_t)o->n;
    /* Nothing today (the usual case early in a day): the cached set's own count. */
    int64_t n = roaring_bitmap_is_empty(o->bits)
                    ? (int64_t)roaring_bitmap_get_cardinality(c->bits)
                    : (int64_t)roaring_bitmap_or_cardinality(c->bits, o->bits);
    size_t i = 0, j = 0; /* both lists sorted and without repeats: count their union */
    while (i < c->n || j < o->n) {
        if (j == o->n || (i < c->n && c->extra[i] < o->extra[j]))
            i++;
        else if (i == c->n || o->extra[j] < c->extra[i])
            j++;
        else
            i++, j++;
        n++;
    }
    return n;
}

/* Settles a set for the cache: sorted extras, containers made as small as they go. */
static void uset_freeze(struct uset *u)
{
    uset_settle(u);
    roaring_bitmap_run_optimize(u->bits);
    roaring_bitmap_shrink_to_fit(u->bits);
}

/* The whole company's compacted part: every visitor and per device class (a cache value). */
struct company_sets {
    struct uset all, dev[SC_DEV_COUNT];
};

static void company_sets_drop(void *p)
{
    struct company_sets *v = p;
    uset_cleanup(&v->all);
    for (int d = 0; d < SC_DEV_COUNT; d++)
        uset_cleanup(&v->dev[d]);
    free(v);
}

static void card_sets_drop(void *p)
{
    card_sets_free(p);
    free(p);
}

enum { KIND_COMPANY = 1, KIND_BY_CARD = 2 }; /* this file's cache kinds */

/* What a reading wants out: the total, per device class, per card (NULL each: not wanted). */
struct uniq_out {
    int64_t *total;
    int64_t *dev;
    int64_t **ids, **counts; /* per card, sorted by id (new arrays) */
    size_t *n;
    struct uniq_want open; /* the rows of the days not compacted */
};

/* Counts the union of the cached part 'val' (NULL: none) and the open rows into 'out'. */
static void count_company(const void *val, void *ctx)
{
    const struct company_sets *c = val;
    struct uniq_out *o = ctx;
    if (o->total)
        *o->total = uset_union_count(c ? &c->all : NULL, o->open.all);
    for (int d = 0; o->dev && d < SC_DEV_COUNT; d++)
        o->dev[d] = uset_union_count(c ? &c->dev[d] : NULL, &o->open.dev[d]);
}

/* Per card: the union of the cached part 'val' (NULL: none) and the open rows into 'out'. */
static void count_cards(const void *val, void *ctx)
{
    const struct card_sets *c = val;
    struct uniq_out *o = ctx;
    struct card_sets *op = o->open.by_card;
    size_t most = (c ? c->n : 0) + op->n, k = 0;
    int64_t *ids = malloc((most ? most : 1) * sizeof(*ids));
    int64_t *counts = malloc((most ? most : 1) * sizeof(*counts));
    if (!ids || !counts) {
        free(ids);
        free(counts);
        return; /* '*o->ids' stays NULL: out of memory */
    }
    for (size_t i = 0; c && i < c->cap; i++)
        if (c->ids[i])
            ids[k++] = c->ids[i];
    for (size_t i = 0; i < op->cap; i++)
        if (op->ids[i] && !(c && c->cap && c->ids[slot_of(c, op->ids[i])]))
            ids[k++] = op->ids[i];
    qsort(ids, k, sizeof(*ids), cmp_i64);
    for (size_t i = 0; i < k; i++) {
        const struct uset *cs = NULL;
        if (c && c->cap && c->ids[slot_of(c, ids[i])])
            cs = &c->sets[slot_of(c, ids[i])];
        struct uset empty = {0}, *os = &empty;
        if (op->cap && op->ids[slot_of(op, ids[i])])
            os = &op->sets[slot_of(op, ids[i])];
        else if (!uset_init(&empty)) {
            k = 0; /* out of memory */
            break;
        }
        counts[i] = uset_union_count(cs, os);
        if (os == &empty)
            uset_cleanup(&empty);
    }
    *o->ids = ids;
    *o->counts = counts;
    *o->n = k;
}

/*
 * Distinct visitors of the cards chosen by 'scope' (NULL: every card) and
 * 'card' (0: every card of the scope) over days 'from'..'to', into 'out'.
 * For a scope (the whole company, a team, a member) the compacted days'
 * union comes from the cache (q_cache.c) when it holds this scope and range
 * at this generation, and is put there when it does not; the days not
 * compacted are read every time.
 */
static enum sc_err uniques_read(struct sc_store *s, const struct sc_scope *scope, int64_t card,
                                int64_t from, int64_t to, struct uniq_out *out)
{
    static struct sc_sql q_mark = SC_SQL("SELECT day, gen FROM uniques_compacted WHERE id = 1");
    struct uset all, dev[SC_DEV_COUNT];
    struct card_sets cards = {0};
    int ready = 0;
    bool ok = uset_init(&all);
    for (; ok && ready < SC_DEV_COUNT; ready++)
        ok = uset_init(&dev[ready]);
    struct sc_q r;
    void *val = NULL;
    if (!ok) {
        r.e = SC_ENOMEM;
        goto free_sets;
    }
    out->open = (struct uniq_want){&all, out->dev ? dev : NULL, out->ids ? &cards : NULL};
    if (!sc_q_read(&r, s, &q_mark))
        goto free_sets;
    int64_t first_open = 0, gen = 0;
    if (sc_q_compacted(&r, &first_open, &gen) != SC_OK)
        goto end;
    /* A card's own figures are a few small bitmaps: read, not cached. */
    int64_t last_closed = to < first_open - 1 ? to : first_open - 1;
    if (card || from > last_closed) { /* nothing to cache: all read here */
        uniques_add(&r, scope, card, from, to, first_open, true, true, &out->open);
        if (r.e == SC_OK)
            out->ids ? count_cards(NULL, out) : count_company(NULL, out);
        goto end;
    }
    uniques_add(&r, scope, card, from, to, first_open, false, true, &out->open);
    struct sc_rcache_key key = {out->ids ? KIND_BY_CARD : KIND_COMPANY,
                                from,
                                last_closed,
                                gen,
                                scope ? scope->member_id : 0,
                                scope ? scope->team : NULL};
    if (r.e != SC_OK || sc_rcache_use(s->rcache, &key, out->ids ? count_cards : count_company, out))
        goto end;
    /* Not cached: the compacted days' union, counted, then kept. */
    struct uniq_want c = {0};
    if (out->ids) {
        struct card_sets *cs = calloc(1, sizeof(*cs));
        val = cs;
        c.by_card = cs;
        ok = cs != NULL;
    } else {
        struct company_sets *cs = calloc(1, sizeof(*cs));
        val = cs;
        ok = cs && uset_init(&cs->all);
        for (int d = 0; ok && d < SC_DEV_COUNT; d++)
            ok = uset_init(&cs->dev[d]);
        if (cs)
            c = (struct uniq_want){&cs->all, cs->dev, NULL};
    }
    if (!ok) {
        r.e = SC_ENOMEM;
        goto end;
    }
    uniques_add(&r, scope, card, from, last_closed, first_open, true, false, &c);
    if (c.by_card) {
        for (size_t i = 0; c.by_card && i < c.by_card->cap; i++)
            if (c.by_card->ids[i])
                uset_freeze(&c.by_card->sets[i]);
    } else {
        uset_freeze(c.all);
        for (int d = 0; d < SC_DEV_COUNT; d++)
            uset_freeze(&c.dev[d]);
    }
    if (r.e != SC_OK)
        goto end;
    out->ids ? count_cards(val, out) : count_company(val, out);
    sc_rcache_put(s->rcache, &key, val, out->ids ? card_sets_drop : company_sets_drop);
    val = NULL;
end:
    sc_q_end(&r);
    if (val)
        out->ids ? card_sets_drop(val) : company_sets_drop(val);
free_sets:
    uset_cleanup(&all);
    for (int d = 0; d < ready; d++)
        uset_cleanup(&dev[d]);
    card_sets_free(&cards);
    if (r.e == SC_OK && out->ids && !*out->ids)
        r.e = SC_ENOMEM;
    return r.e;
}

enum sc_err sc_q_uniques(struct sc_store *s, const struct sc_scope *scope, int64_t card,
                         int64_t from, int64_t to, int64_t *total, int64_t dev[SC_DEV_COUNT])
{
    int64_t t = 0;
    struct uniq_out o = {.total = total ? total : &t, .dev = dev};
    return uniques_read(s, scope, card, from, to, &o);
}

/* Per card of 'scope' over 'from'..'to': the card ids, sorted, and their counts (new arrays). */
enum sc_err sc_q_uniques_by_card(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                                 int64_t to, int64_t **ids, int64_t **counts, size_t *n)
{
    *ids = *counts = NULL;
    *n = 0;
    struct uniq_out o = {.ids = ids, .counts = counts, .n = n};
    enum sc_err e = uniques_read(s, scope, 0, from, to, &o);
    if (e != SC_OK) {
        free(*ids);
        free(*counts);
        *ids = *counts = NULL;
        *n = 0;
    }
    return e;
}

/* ---- compacting ------------------------------------------------------------------- */

/*
 * Compacts day 'day' (its rows into bitmaps) and moves the mark from 'mark'
 * past it, unless the mark or generation 'gen' moved meanwhile (a late row:
 * then nothing is written, and the day is done again on a later call).
 * '*written' whether it was.
 */
static enum sc_err compact_day(struct sc_store *s, int64_t day, int64_t mark, int64_t gen,
                               bool *written)
{
    static struct sc_sql q_rows = SC_SQL("SELECT card_id, device, visitor_id FROM rollup_uniques "
                                         "WHERE day = ? ORDER BY card_id, device");
    static struct sc_sql q_put =
        SC_SQL("INSERT INTO unique_bitmaps (card_id, day, device, n, bits) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (card_id, day, device) DO UPDATE SET n = excluded.n, "
               "bits = excluded.bits");
    static struct sc_sql q_mark = SC_SQL("UPDATE uniques_compacted SET day = ?1 "
                                         "WHERE id = 1 AND day = ?2 AND gen = ?3");
    *written = false;
    /*
     * The day's rows grouped by (card, device), read outside the writer's
     * transaction (a past day no longer changes), then written in a short one.
     */
    struct sc_q r;
    if (!sc_q_read(&r, s, &q_rows))
        return r.e;
    struct group {
        int64_t card, dev;
        struct uset set;
    } *g = NULL;
    size_t ng = 0, cap = 0;
    sc_sql_int(r.st, 1, day);
    while (sc_q_next(&r)) {
        int64_t card = sc_sql_col_int(r.st, 0), dev = sc_sql_col_int(r.st, 1);
        if (!ng || g[ng - 1].card != card || g[ng - 1].dev != dev) {
            if (ng == cap) {
                size_t c2 = cap ? cap * 2 : 64;
                struct group *p = realloc(g, c2 * sizeof(*p));
                if (!p) {
                    r.e = SC_ENOMEM;
                    break;
                }
                g = p;
                cap = c2;
            }
            g[ng].card = card;
            g[ng].dev = dev;
            if (!uset_init(&g[ng].set)) {
                r.e = SC_ENOMEM;
                break;
            }
            ng++;
        }
        if (!uset_add(&g[ng - 1].set, sc_sql_col_int(r.st, 2)))
            r.e = SC_ENOMEM;
    }
    /* The whole company's sets per device class (card 0), from the cards' ones. */
    struct uset company[SC_DEV_COUNT];
    int made = 0;
    for (; r.e == SC_OK && made < SC_DEV_COUNT; made++)
        if (!uset_init(&company[made]))
            r.e = SC_ENOMEM;
    for (size_t i = 0; i < ng && r.e == SC_OK; i++) {
        struct uset *to = &company[g[i].dev > 0 && g[i].dev < SC_DEV_COUNT ? g[i].dev : 0];
        roaring_bitmap_or_inplace(to->bits, g[i].set.bits);
        for (size_t k = 0; k < g[i].set.n && r.e == SC_OK; k++)
            if (!uset_add(to, g[i].set.extra[k]))
                r.e = SC_ENOMEM;
    }
    for (int d = 0; d < made && r.e == SC_OK; d++) {
        if (roaring_bitmap_is_empty(company[d].bits) && !company[d].n)
            continue;
        if (ng == cap) {
            size_t c2 = cap ? cap * 2 : 8;
            struct group *p = realloc(g, c2 * sizeof(*p));
            if (!p) {
                r.e = SC_ENOMEM;
                break;
            }
            g = p;
            cap = c2;
        }
        g[ng].card = 0;
        g[ng].dev = d;
        g[ng].set = company[d];
        memset(&company[d], 0, sizeof(company[d])); /* the group owns it now */
        ng++;
    }
    for (int d = 0; d < made; d++)
        uset_cleanup(&company[d]);
    if (sc_q_end(&r) != SC_OK || !sc_q_write(&r, s, true))
        goto out;
    /* The mark first: if a late row moved it, this transaction writes nothing. */
    if (sc_q_prepare(&r, &q_mark)) {
        sc_sql_int(r.st, 1, day + 1);
        sc_sql_int(r.st, 2, mark);
        sc_sql_int(r.st, 3, gen);
        int64_t changed = 0;
        r.e = sc_sql_exec(r.st, &changed);
        if (r.e == SC_OK && changed == 0)
            r.e = SC_ECONFLICT; /* rolled back; not an error for the caller */
    }
    for (size_t i = 0; i < ng && r.e == SC_OK; i++) {
        size_t len = 0;
        void *blob = uset_blob(&g[i].set, &len);
        if (!blob) {
            r.e = SC_ENOMEM;
            break;
        }
        if (sc_q_prepare(&r, &q_put)) {
            sc_sql_int(r.st, 1, g[i].card);
            sc_sql_int(r.st, 2, day);
            sc_sql_int(r.st, 3, g[i].dev);
            sc_sql_int(r.st, 4, uset_count(&g[i].set));
            sc_sql_blob(r.st, 5, blob, len);
            sc_q_exec(&r, false);
        }
        free(blob);
    }
    if (sc_q_end(&r) == SC_OK)
        *written = true;
out:
    for (size_t i = 0; i < ng; i++)
        uset_cleanup(&g[i].set);
    free(g);
    return r.e == SC_ECONFLICT ? SC_OK : r.e;
}

enum sc_err sc_store_uniques_compact(struct sc_store *s, int64_t today, int max_days, int *done)
{
    static struct sc_sql q_first = SC_SQL("SELECT min(day) FROM rollup_uniques");
    *done = 0;
    enum sc_err e = SC_OK;
    while (e == SC_OK && *done < max_days) {
        int64_t mark = 0, gen = 0, day = 0;
        struct sc_q r;
        if (!sc_q_read(&r, s, &q_first))
            return r.e;
        if (sc_q_compacted(&r, &mark, &gen) == SC_OK) {
            day = mark;
            if (!mark && sc_q_prepare(&r, &q_first) && sc_q_next(&r))
                day = sc_sql_col_null(r.st, 0) ? today : sc_sql_col_int(r.st, 0);
        }
        if ((e = sc_q_end(&r)) != SC_OK || day > today - COMPACT_LAG)
            break;
        bool written = false;
        e = compact_day(s, day, mark, gen, &written);
        if (!written)
            break; /* a late row moved the mark: again on a later call */
        (*done)++;
    }
    return e;
}
