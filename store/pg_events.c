/*
 * pg_events.c — PostgreSQL's hot path: a batch of events in one
 * transaction with one multi-row statement each for its visitors, its plain
 * events (unnest of array literals), its rollups and its unique rows, in
 * key order so that instances never deadlock; a batch that collides with
 * another instance's is run again.  Per backend because it is written for
 * PostgreSQL's strengths (SQLite's is sqlite_events.c); the referral writes
 * it calls are shared (q_referral.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_int.h"

#define LINK_COLS                                                                                  \
    "(code, card_id, channel, owner_member_id, owner_customer_id, parent_link_id, created_at, "    \
    "owner_visitor_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"

const char *const sc_pg_sql[ST_COUNT] = {
    [ST_LINK_INSERT] = "INSERT INTO links " LINK_COLS " RETURNING id",
    [ST_VISITOR_UPSERT] = "INSERT INTO visitors (vid, first_seen, last_seen) VALUES ($1, $2, $2) "
                          "ON CONFLICT (vid) DO UPDATE SET "
                          "last_seen = greatest(visitors.last_seen, EXCLUDED.last_seen) "
                          "RETURNING id",
    [ST_VISITOR_ID] = "SELECT id FROM visitors WHERE vid = $1",
    [ST_AGENT_GET] = "SELECT id FROM agents WHERE ua = $1",
    [ST_AGENT_INSERT] = "INSERT INTO agents (ua, browser, os, device, bot_reason) "
                        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (ua) DO NOTHING RETURNING id",
    /* A batch's rollups, summed per key in C and applied in key order (no deadlocks). */
    [ST_ROLLUP_BATCH] =
        "INSERT INTO rollups (day, card_id, link_id, type, humans, bots) "
        "SELECT d, c, l, t, h, b FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], "
        "$4::int[], $5::bigint[], $6::bigint[]) AS u(d, c, l, t, h, b) ORDER BY c, d, l, t "
        "ON CONFLICT (card_id, day, link_id, type) DO UPDATE SET "
        "humans = rollups.humans + EXCLUDED.humans, bots = rollups.bots + EXCLUDED.bots",
    /* A batch's visitors, one row each (deduplicated in C), and its plain events. */
    [ST_VISITOR_BATCH] = "INSERT INTO visitors (vid, first_seen, last_seen) "
                         "SELECT v, f, l FROM unnest($1::text[], $2::bigint[], $3::bigint[]) "
                         "AS u(v, f, l) ORDER BY v ON CONFLICT (vid) DO UPDATE SET "
                         "last_seen = greatest(visitors.last_seen, EXCLUDED.last_seen) "
                         "RETURNING id, vid",
    [ST_EVENT_BATCH] = "INSERT INTO events (ts, type, card_id, link_id, visitor_id, agent_id, "
                       "ip, referrer, bot, value) SELECT * FROM unnest($1::bigint[], $2::int[], "
                       "$3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], "
                       "$8::text[], $9::int[], $10::bigint[])",
    [ST_UNIQUE_BATCH] = "INSERT INTO rollup_uniques (card_id, day, visitor_id, device) "
                        "SELECT c, d, v, w FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], "
                        "$4::smallint[]) AS u(c, d, v, w) ORDER BY c, d, v ON CONFLICT DO NOTHING",
    [ST_VISITOR_REACHED] =
        "SELECT 1 FROM events e JOIN visitors v ON v.id = e.visitor_id "
        "WHERE v.vid = $1 AND e.visitor_id IS NOT NULL AND e.card_id = $2::bigint "
        "AND e.type IN (0, 1, 2) "
        "AND ($3::bigint = 0 OR e.link_id = $3) LIMIT 1",
};

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A text column, NULL when SQL NULL (valid until PQclear). */
static const char *gs(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/*
 * Copies 'in' into 'out' ('n' bytes) as valid UTF-8: PostgreSQL refuses
 * anything else, and a user-agent or referrer cut at its size limit may end
 * inside a character.  Bad bytes become '?'.
 */
static void utf8_clean(const char *in, char *out, size_t n)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;
    while (*s && o + 1 < n) {
        size_t len = *s < 0x80             ? 1
                     : (*s & 0xe0) == 0xc0 ? 2
                     : (*s & 0xf0) == 0xe0 ? 3
                     : (*s & 0xf8) == 0xf0 ? 4
                                           : 0;
        bool ok = len > 0 && o + len < n;
        for (size_t k = 1; ok && k < len; k++)
            ok = (s[k] & 0xc0) == 0x80;
        if (ok && len == 2 && *s < 0xc2)
            ok = false; /* overlong */
        if (ok && len == 3) {
            unsigned cp = ((unsigned)(s[0] & 0x0f) << 12) | ((unsigned)(s[1] & 0x3f) << 6);
            ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
        }
        if (ok && len == 4) {
            unsigned cp = ((unsigned)(s[0] & 0x07) << 18) | ((unsigned)(s[1] & 0x3f) << 12);
            ok = cp >= 0x10000 && cp <= 0x10ffff;
        }
        if (!ok) {
            out[o++] = '?';
            s++;
            continue;
        }
        memcpy(out + o, s, len);
        o += len;
        s += len;
    }
    out[o] = '\0';
}

/* ---- events ------------------------------------------------------------------- */

static size_t agent_slot_of(const char *ua)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)ua; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h % AGENT_SLOTS);
}

/* The id of user-agent 'row->ev->ua', stored on first sight (by us or another instance). */
static enum sc_err agent_id(struct pconn *c, const struct sc_event_row *row, int64_t *out)
{
    const char *ua = row->ev->ua;
    if (!c->agents && !(c->agents = calloc(AGENT_SLOTS, sizeof(*c->agents))))
        return SC_ENOMEM;
    struct agent_slot *slot = &c->agents[agent_slot_of(ua)];
    if (slot->id && strcmp(slot->ua, ua) == 0) {
        *out = slot->id;
        return SC_OK;
    }
    char clean[SC_UA_MAX];
    utf8_clean(ua, clean, sizeof(clean));
    struct params p = {0};
    p_str(&p, clean);
    bool found = false;
    enum sc_err e = sc_pg_run_int(c, ST_AGENT_GET, &p, out, &found);
    if (e == SC_OK && !found) {
        p_str(&p, row->agent->browser);
        p_str(&p, row->agent->os);
        p_str(&p, row->agent->device);
        p_text(&p, row->bot_reason);
        e = sc_pg_run_int(c, ST_AGENT_INSERT, &p, out, &found);
        if (e == SC_OK && !found) { /* another instance stored it just now */
            p.n = 1;
            e = sc_pg_run_int(c, ST_AGENT_GET, &p, out, &found);
            if (e == SC_OK && !found)
                e = SC_EDB;
        }
    }
    if (e != SC_OK)
        return e;
    slot->id = *out;
    snprintf(slot->ua, sizeof(slot->ua), "%s", ua);
    return SC_OK;
}

/* Adds one event to the batch's rollup deltas (and its visitor to the uniques). */
static enum sc_err tally(struct pconn *c, int64_t card, int64_t day, int64_t link, int type,
                         bool bot, int64_t visitor, int device)
{
    if (c->ndeltas == c->capdeltas) {
        size_t cap = c->capdeltas ? c->capdeltas * 2 : 256;
        struct delta *d = realloc(c->deltas, cap * sizeof(*d));
        if (!d)
            return SC_ENOMEM;
        c->deltas = d;
        c->capdeltas = cap;
    }
    c->deltas[c->ndeltas++] = (struct delta){card, day, link, type, bot ? 0 : 1, bot ? 1 : 0};
    if (!bot && visitor && (type == SC_EV_SCAN || type == SC_EV_OPEN || type == SC_EV_VIEW)) {
        if (c->nuniqs == c->capuniqs) {
            size_t cap = c->capuniqs ? c->capuniqs * 2 : 256;
            struct uniq *u = realloc(c->uniqs, cap * sizeof(*u));
            if (!u)
                return SC_ENOMEM;
            c->uniqs = u;
            c->capuniqs = cap;
        }
        c->uniqs[c->nuniqs++] = (struct uniq){card, day, visitor, device};
    }
    return SC_OK;
}

static int cmp64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

static int delta_cmp(const void *pa, const void *pb)
{
    const struct delta *a = pa, *b = pb;
    int r = cmp64(a->card, b->card);
    r = r ? r : cmp64(a->day, b->day);
    r = r ? r : cmp64(a->link, b->link);
    return r ? r : cmp64(a->type, b->type);
}

static int uniq_cmp(const void *pa, const void *pb)
{
    const struct uniq *a = pa, *b = pb;
    int r = cmp64(a->card, b->card);
    r = r ? r : cmp64(a->day, b->day);
    return r ? r : cmp64(a->visitor, b->visitor);
}

/* Appends 'v' to the array literal in 'b' ("{1,2" … closed by the caller). */
static void arr_add(struct sc_buf *b, int64_t v)
{
    sc_buf_printf(b, "%c%lld", b->len ? ',' : '{', (long long)v);
}

static const char *arr_end(struct sc_buf *b)
{
    if (!b->len)
        sc_buf_putc(b, '{');
    sc_buf_putc(b, '}');
    return b->data;
}

/* Appends text 's' (NULL: a NULL element) to the array literal in 'b', quoted. */
static void arr_add_text(struct sc_buf *b, const char *s)
{
    sc_buf_putc(b, b->len ? ',' : '{');
    if (!s) {
        sc_buf_puts(b, "NULL");
        return;
    }
    sc_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sc_buf_putc(b, '\\');
        sc_buf_putc(b, *s);
    }
    sc_buf_putc(b, '"');
}

static void arr_add_id(struct sc_buf *b, int64_t v)
{
    if (v)
        arr_add(b, v);
    else
        sc_buf_puts(b, b->len ? ",NULL" : "{NULL");
}

/* Inserts the events waiting in c->ev with one statement. */
static enum sc_err flush_events(struct pconn *c)
{
    if (!c->nev)
        return SC_OK;
    struct params p = {0};
    enum sc_err e = SC_OK;
    for (int k = 0; k < 10; k++) {
        p_str(&p, arr_end(&c->ev[k]));
        if (sc_buf_error(&c->ev[k]))
            e = SC_ENOMEM;
    }
    if (e == SC_OK)
        e = sc_pg_run_done(c, ST_EVENT_BATCH, &p, NULL);
    for (int k = 0; k < 10; k++)
        sc_buf_reset(&c->ev[k]);
    c->nev = 0;
    return e;
}

/* A batch's visitors: their ids, found or made with one statement. */
struct vmap {
    const char *vid; /* borrowed from the event */
    int64_t first, last, id;
};

static int vmap_cmp(const void *a, const void *b)
{
    return strcmp(((const struct vmap *)a)->vid, ((const struct vmap *)b)->vid);
}

static enum sc_err batch_visitors(struct pconn *c, const struct sc_event_row *rows, size_t n,
                                  struct vmap *vm, size_t *nvm)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].ev->visitor[0])
            vm[k++] = (struct vmap){rows[i].ev->visitor, rows[i].ev->ts, rows[i].ev->ts, 0};
    qsort(vm, k, sizeof(*vm), vmap_cmp);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m && strcmp(vm[m - 1].vid, vm[i].vid) == 0) {
            if (vm[i].first < vm[m - 1].first)
                vm[m - 1].first = vm[i].first;
            if (vm[i].last > vm[m - 1].last)
                vm[m - 1].last = vm[i].last;
        } else {
            vm[m++] = vm[i];
        }
    }
    *nvm = m;
    if (!m)
        return SC_OK;
    struct sc_buf a[3];
    for (int j = 0; j < 3; j++)
        sc_buf_init(&a[j], 0);
    for (size_t i = 0; i < m; i++) {
        arr_add_text(&a[0], vm[i].vid);
        arr_add(&a[1], vm[i].first);
        arr_add(&a[2], vm[i].last);
    }
    struct params p = {0};
    enum sc_err e = SC_OK;
    for (int j = 0; j < 3; j++) {
        p_str(&p, arr_end(&a[j]));
        if (sc_buf_error(&a[j]))
            e = SC_ENOMEM;
    }
    PGresult *r = e == SC_OK ? sc_pg_run(c, ST_VISITOR_BATCH, &p, &e) : NULL;
    for (int i = 0; r && i < PQntuples(r); i++) {
        struct vmap key = {.vid = gs(r, i, 1)};
        struct vmap *hit = key.vid ? bsearch(&key, vm, m, sizeof(*vm), vmap_cmp) : NULL;
        if (hit)
            hit->id = gi(r, i, 0);
    }
    if (r)
        PQclear(r);
    for (int j = 0; j < 3; j++)
        sc_buf_cleanup(&a[j]);
    for (size_t i = 0; e == SC_OK && i < m; i++)
        if (!vm[i].id)
            e = SC_EDB;
    return e;
}

static int64_t visitor_of(const struct vmap *vm, size_t nvm, const char *vid)
{
    struct vmap key = {.vid = vid};
    const struct vmap *hit = bsearch(&key, vm, nvm, sizeof(*vm), vmap_cmp);
    return hit ? hit->id : 0;
}

/*
 * Applies the batch's rollup deltas and uniques: summed per key, in key
 * order, one statement each, so two instances' batches lock rows in the
 * same order and the counters stay exact.
 */
static enum sc_err flush_rollups(struct pconn *c)
{
    enum sc_err e = SC_OK;
    struct sc_buf a[6];
    for (int k = 0; k < 6; k++)
        sc_buf_init(&a[k], 0);
    /*
     * The batch's earliest day: a compacted day that gets an event is
     * reopened, whatever the event, since the cached company sums of those
     * days (q_cache.c) must stay the stored ones.
     */
    int64_t first = INT64_MAX;
    for (size_t i = 0; i < c->ndeltas; i++)
        if (c->deltas[i].day < first)
            first = c->deltas[i].day;
    if (c->ndeltas) {
        qsort(c->deltas, c->ndeltas, sizeof(*c->deltas), delta_cmp);
        size_t m = 0;
        for (size_t i = 1; i < c->ndeltas; i++) {
            if (delta_cmp(&c->deltas[m], &c->deltas[i]) == 0) {
                c->deltas[m].humans += c->deltas[i].humans;
                c->deltas[m].bots += c->deltas[i].bots;
            } else {
                c->deltas[++m] = c->deltas[i];
            }
        }
        for (size_t i = 0; i <= m; i++) {
            const struct delta *d = &c->deltas[i];
            arr_add(&a[0], d->day);
            arr_add(&a[1], d->card);
            arr_add(&a[2], d->link);
            arr_add(&a[3], d->type);
            arr_add(&a[4], d->humans);
            arr_add(&a[5], d->bots);
        }
        struct params p = {0};
        for (int k = 0; k < 6; k++)
            p_str(&p, arr_end(&a[k]));
        for (int k = 0; k < 6 && e == SC_OK; k++)
            e = sc_buf_error(&a[k]);
        if (e == SC_OK)
            e = sc_pg_run_done(c, ST_ROLLUP_BATCH, &p, NULL);
    }
    if (e == SC_OK && c->nuniqs) {
        for (int k = 0; k < 4; k++)
            sc_buf_reset(&a[k]);
        qsort(c->uniqs, c->nuniqs, sizeof(*c->uniqs), uniq_cmp);
        for (size_t i = 0; i < c->nuniqs; i++) {
            if (c->uniqs[i].day < first)
                first = c->uniqs[i].day;
            if (i && uniq_cmp(&c->uniqs[i - 1], &c->uniqs[i]) == 0)
                continue;
            arr_add(&a[0], c->uniqs[i].card);
            arr_add(&a[1], c->uniqs[i].day);
            arr_add(&a[2], c->uniqs[i].visitor);
            arr_add(&a[3], c->uniqs[i].device);
        }
        struct params p = {0};
        for (int k = 0; k < 4; k++)
            p_str(&p, arr_end(&a[k]));
        for (int k = 0; k < 4 && e == SC_OK; k++)
            e = sc_buf_error(&a[k]);
        if (e == SC_OK)
            e = sc_pg_run_done(c, ST_UNIQUE_BATCH, &p, NULL);
    }
    if (e == SC_OK && first != INT64_MAX)
        e = sc_q_uniques_reopen(&c->base, first);
    for (int k = 0; k < 6; k++)
        sc_buf_cleanup(&a[k]);
    c->ndeltas = c->nuniqs = 0;
    return e;
}

static enum sc_err write_event(struct pconn *c, struct sc_event_row *row, const struct vmap *vm,
                               size_t nvm)
{
    const struct sc_event *ev = row->ev;
    enum sc_err e = SC_OK;
    int64_t vid = 0, aid = 0;
    if (ev->visitor[0] && !(vid = visitor_of(vm, nvm, ev->visitor)))
        return SC_EDB;
    if ((e = agent_id(c, row, &aid)) != SC_OK)
        return e;
    bool bot = row->bot_reason != NULL;
    int64_t link_id = ev->link_id;
    int64_t card_id = ev->card_id;
    int64_t day = ev->ts / 86400; /* a purchase's: the day it was made */
    /* Sign-ups and purchases read this batch's earlier events: those go in first. */
    if (((ev->type == SC_EV_SIGNUP && ev->signup) ||
         (ev->type == SC_EV_CONVERT && ev->conversion)) &&
        (e = flush_events(c)) != SC_OK)
        return e;
    if (ev->type == SC_EV_SIGNUP && ev->signup) {
        if ((e = sc_q_signup_write(&c->base, row, vid, &link_id)) != SC_OK || row->result != SC_OK)
            return e;
    } else if (ev->type == SC_EV_CONVERT && ev->conversion) {
        bool skip = false;
        if ((e = sc_q_conversion_write(&c->base, row, &card_id, &day, &skip)) != SC_OK || skip)
            return e;
        link_id = 0;
        bot = false; /* an order is an order, whichever client posted it */
    }
    if (ev->type == SC_EV_SHARE && ev->new_code[0]) {
        /* The minted link lives or dies with its share event. */
        int64_t cust = ev->owner_customer_id;
        if (!cust && !ev->owner_member_id && vid &&
            (e = sc_q_customer_of_visitor(&c->base, vid, &cust)) != SC_OK)
            return e; /* a visitor who is a customer shares as that customer */
        struct params p = {0};
        p_str(&p, ev->new_code);
        p_i64(&p, card_id);
        p_i64(&p, ev->new_channel);
        p_id(&p, ev->owner_member_id);
        p_id(&p, cust);
        p_id(&p, ev->new_parent);
        p_i64(&p, ev->ts);
        p_id(&p, vid && !cust && !ev->owner_member_id ? vid : 0);
        if ((e = sc_pg_run_int(c, ST_LINK_INSERT, &p, &link_id, NULL)) != SC_OK)
            return e;
    }
    char referrer[SC_REFHOST_MAX];
    utf8_clean(ev->referrer_host, referrer, sizeof(referrer));
    /* The event waits for the batch's one multi-row insert. */
    arr_add(&c->ev[0], ev->ts);
    arr_add(&c->ev[1], (int64_t)ev->type);
    arr_add(&c->ev[2], card_id);
    arr_add_id(&c->ev[3], link_id);
    arr_add_id(&c->ev[4], vid);
    arr_add(&c->ev[5], aid);
    arr_add_text(&c->ev[6], ev->ip[0] ? ev->ip : NULL);
    arr_add_text(&c->ev[7], referrer[0] ? referrer : NULL);
    arr_add(&c->ev[8], sc_bot_code(row->bot_reason));
    if (ev->type == SC_EV_DWELL)
        arr_add(&c->ev[9], ev->value);
    else if (ev->type == SC_EV_CLICK)
        arr_add(&c->ev[9], (int64_t)ev->action);
    else
        arr_add_id(&c->ev[9], 0);
    c->nev++;
    return tally(c, card_id, day, link_id, (int)ev->type, bot, vid,
                 (int)sc_device_of(row->agent ? row->agent->device : NULL));
}

/*
 * One transaction per batch.  A batch that collides with another
 * instance's (deadlock, serialisation failure) is rolled back and run again
 * from the start with its inputs as they came, a few times at most.
 */
enum sc_err sc_pg_events_write(struct sc_store *base, struct sc_event_row *rows, size_t n)
{
    enum sc_err e = SC_OK;
    struct pconn *c = sc_pg_conn(pgs(base), &e);
    if (!c)
        return e;
    int64_t *cust_in = calloc(n, sizeof(*cust_in)); /* conversions' customer ids as given */
    struct vmap *vm = malloc((n ? n : 1) * sizeof(*vm));
    if (!cust_in || !vm) {
        free(cust_in);
        free(vm);
        return SC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        if (rows[i].ev->type == SC_EV_CONVERT && rows[i].ev->conversion)
            cust_in[i] = rows[i].ev->conversion->customer_id;
    for (int attempt = 0; attempt < 5; attempt++) {
        if (attempt) {
            sleep_ms(10 << attempt);
            for (size_t i = 0; i < n; i++)
                if (rows[i].ev->type == SC_EV_CONVERT && rows[i].ev->conversion) {
                    rows[i].ev->conversion->customer_id = cust_in[i];
                    rows[i].ev->conversion->replayed = false;
                }
        }
        c->ndeltas = c->nuniqs = 0;
        for (int k = 0; k < 10; k++) {
            if (!c->ev[k].max) /* first use on this connection */
                sc_buf_init(&c->ev[k], 64 << 20);
            sc_buf_reset(&c->ev[k]);
        }
        c->nev = 0;
        size_t nvm = 0;
        e = sc_pg_begin(c);
        if (e == SC_OK)
            e = batch_visitors(c, rows, n, vm, &nvm);
        for (size_t i = 0; e == SC_OK && i < n; i++) {
            rows[i].result = SC_OK;
            e = write_event(c, &rows[i], vm, nvm);
        }
        if (e == SC_OK)
            e = flush_events(c);
        if (e == SC_OK)
            e = flush_rollups(c);
        if (e == SC_OK)
            e = sc_pg_commit(c);
        if (e == SC_OK)
            break;
        sc_pg_rollback(c);
        /* Ids cached during the failed transaction may not exist. */
        if (c->agents)
            memset(c->agents, 0, AGENT_SLOTS * sizeof(*c->agents));
        if (e != SC_EBUSY)
            break;
    }
    free(cust_in);
    free(vm);
    return e;
}

enum sc_err sc_pg_link_create(struct sc_store *base, struct sc_link *l)
{
    enum sc_err e = SC_OK;
    struct pconn *c = sc_pg_conn(pgs(base), &e);
    if (!c || (e = sc_pg_begin(c)) != SC_OK)
        return e;
    int64_t ts = now_s(), vid = 0;
    if (l->owner_visitor[0]) {
        struct params p = {0};
        p_str(&p, l->owner_visitor);
        p_i64(&p, ts);
        e = sc_pg_run_int(c, ST_VISITOR_UPSERT, &p, &vid, NULL);
    }
    if (e == SC_OK)
        e = sc_q_link_insert(&c->base, l->card_id, l->channel, l->owner_member_id,
                             l->owner_customer_id, vid, l->parent_link_id, 0, l->code, &l->id);
    if (e == SC_OK)
        e = sc_pg_commit(c);
    if (e != SC_OK)
        sc_pg_rollback(c);
    else
        l->created_at = ts;
    return e;
}

enum sc_err sc_pg_visitor_reached(struct sc_store *base, const char *vid, int64_t card_id,
                                  int64_t link_id, bool *out)
{
    enum sc_err e = SC_OK;
    struct pconn *c = sc_pg_conn(pgs(base), &e);
    if (!c)
        return e;
    struct params p = {0};
    p_str(&p, vid);
    p_i64(&p, card_id);
    p_i64(&p, link_id);
    int64_t one = 0;
    e = sc_pg_run_int(c, ST_VISITOR_REACHED, &p, &one, out);
    return e;
}

enum sc_err sc_pg_visitor_id(struct sc_store *base, const char *vid, int64_t *out)
{
    enum sc_err e = SC_OK;
    struct pconn *c = sc_pg_conn(pgs(base), &e);
    if (!c)
        return e;
    struct params p = {0};
    p_str(&p, vid);
    bool found = false;
    if ((e = sc_pg_run_int(c, ST_VISITOR_ID, &p, out, &found)) == SC_OK && !found)
        e = SC_ENOTFOUND;
    return e;
}

/* PostgreSQL keeps no key beside the visitor's row: renaming the row (shared code) is all. */
enum sc_err sc_pg_visitor_forget(struct sc_db *db, int64_t visitor)
{
    (void)db;
    (void)visitor;
    return SC_OK;
}
