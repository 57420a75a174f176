/*
 * pg.c — the PostgreSQL backend (libpq), for several sharecard instances
 * sharing one database behind a load balancer.
 *
 * Each thread that calls in gets its own connection, made on first use and
 * closed when the thread exits (libpq forbids sharing a connection across
 * threads at once); each connection prepares a statement the first time it
 * needs it.  A connection that dropped is reset on its next use, no more
 * often than a backoff allows (50 ms doubling to 2 s), so a database that is
 * down costs each request one failed call, answered 503, not a hang.  A read
 * outside a transaction that fails because the connection broke is retried
 * once on a fresh connection; a write never is, so nothing is acknowledged
 * that was not committed.
 *
 * Concurrency between instances rests on the database, not on our mutexes:
 * transactions run at READ COMMITTED, every "insert if new" is an INSERT …
 * ON CONFLICT (a sign-up of one e-mail on two instances at once: the second
 * waits on the unique index, then inserts nothing and is answered as a
 * repeat, so its rewards never exist), rollups are atomic upserts applied
 * once per batch in key order, and a batch that still meets a deadlock or
 * serialisation failure is rolled back and run again from the start.
 *
 * The SQL mirrors sqlite.c statement for statement, with the same tables
 * (pg_schema.c), so both backends give the same per-row results and the
 * same report figures.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "sharecard/buf.h"
#include "sharecard/log.h"
#include "store_int.h"

enum stmt_id {
    ST_LINK_INSERT,
    ST_VISITOR_UPSERT,
    ST_VISITOR_ID,
    ST_AGENT_GET,
    ST_AGENT_INSERT,
    ST_ROLLUP_BATCH,
    ST_UNIQUE_BATCH,
    ST_VISITOR_BATCH,
    ST_EVENT_BATCH,
    ST_VISITOR_REACHED,
    ST_COUNT
};

#define LINK_COLS                                                                                  \
    "(code, card_id, channel, owner_member_id, owner_customer_id, parent_link_id, created_at, "    \
    "owner_visitor_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"


static const char *const sql[ST_COUNT] = {
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
    [ST_VISITOR_REACHED] = "SELECT 1 FROM events e JOIN visitors v ON v.id = e.visitor_id "
                           "WHERE v.vid = $1 AND e.card_id = $2::bigint AND e.type IN (0, 1, 2) "
                           "AND ($3::bigint = 0 OR e.link_id = $3) LIMIT 1",
};

/* Statements that only read: safe to run again on a fresh connection. */
static bool is_read(enum stmt_id id)
{
    return strncmp(sql[id], "SELECT", 6) == 0;
}

#define AGENT_SLOTS 1024

struct agent_slot {
    int64_t id; /* 0: empty */
    char ua[SC_UA_MAX];
};

/* A rollup row's change within one batch, and a visitor who reached a card on a day. */
struct delta {
    int64_t card, day, link;
    int type;
    int64_t humans, bots;
};

struct uniq {
    int64_t card, day, visitor;
    int device; /* enum sc_device */
};

struct pg_store;

struct pg_stmt;

struct pconn {
    struct sc_db base; /* first: the statement layer's connection */
    PGconn *db;
    struct pg_stmt **q; /* the statement layer's, by slot */
    size_t nq;
    bool prepared[ST_COUNT];
    bool in_tx;                /* inside BEGIN … COMMIT: no silent retries */
    int64_t retry_at_ms;       /* down: no reconnect before this (monotonic ms) */
    int backoff_ms;            /* the next wait after a failed reconnect */
    struct pg_store *owner;    /* for the thread-exit destructor */
    struct pconn *next;        /* in the store's list */
    struct agent_slot *agents; /* user-agent ids this connection has seen, or NULL */
    struct delta *deltas;      /* the batch in progress */
    size_t ndeltas, capdeltas;
    struct uniq *uniqs;
    size_t nuniqs, capuniqs;
    struct sc_buf ev[10]; /* events waiting for one multi-row insert: array literals */
    size_t nev;
};

struct pg_store {
    struct sc_store base; /* first: the public face */
    char *url;
    int version;
    pthread_key_t key;    /* this thread's connection; closed when the thread exits */
    bool keyed;           /* 'key' was created */
    pthread_mutex_t lock; /* guards 'conns' */
    struct pconn *conns;
};

static struct pg_store *pgs(struct sc_store *s)
{
    return (struct pg_store *)s;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- parameters ----------------------------------------------------------------- */

#define MAXP 20

/* A statement's parameters, all as text but a blob; numbers live in 'num'. */
struct params {
    int n;
    const char *v[MAXP];
    int len[MAXP];
    int fmt[MAXP];
    char num[MAXP][24];
};

static void p_null(struct params *p)
{
    p->v[p->n] = NULL;
    p->len[p->n] = 0;
    p->fmt[p->n] = 0;
    p->n++;
}

static void p_i64(struct params *p, int64_t x)
{
    snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)x);
    p->v[p->n] = p->num[p->n];
    p->len[p->n] = 0;
    p->fmt[p->n] = 0;
    p->n++;
}

/* An id, or NULL for 0 (as sqlite.c leaves 0 ids unbound). */
static void p_id(struct params *p, int64_t x)
{
    if (x)
        p_i64(p, x);
    else
        p_null(p);
}

/* A string as is; NULL stays NULL. */
static void p_str(struct params *p, const char *s)
{
    p->v[p->n] = s;
    p->len[p->n] = 0;
    p->fmt[p->n] = 0;
    p->n++;
}

/* A string, or NULL when it is empty (sqlite.c's bind_text). */
static void p_text(struct params *p, const char *s)
{
    p_str(p, s && s[0] ? s : NULL);
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

/* ---- results -------------------------------------------------------------------- */

static int64_t gi(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* A text column, NULL when SQL NULL (valid until PQclear). */
static const char *gs(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* ---- connections ---------------------------------------------------------------- */

/*
 * What a failed call on 'c' means for the caller.  A broken connection or a
 * server shutting down is SC_EIO (503, try again); two transactions that
 * collided are SC_EBUSY (run the batch again); any constraint is
 * SC_ECONFLICT, as with SQLite.
 */
static enum sc_err map_result(struct pconn *c, const PGresult *r)
{
    if (PQstatus(c->db) != CONNECTION_OK)
        return SC_EIO;
    if (!r)
        return SC_ENOMEM;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (!state)
        return SC_EIO; /* client-side: the connection went away */
    if (strncmp(state, "23", 2) == 0)
        return SC_ECONFLICT;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0)
        return SC_EBUSY;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
        strncmp(state, "53", 2) == 0)
        return SC_EIO;
    if (strcmp(state, "54000") == 0)
        return SC_ETOOBIG;
    if (strncmp(state, "22", 2) == 0)
        return SC_EINVAL; /* data the server will not take, e.g. bytes that are not UTF-8 */
    sc_error("postgres: %s %s", state, PQresultErrorMessage(r));
    return SC_EDB;
}

static void conn_stmts_free(struct pconn *c);

static void conn_close(struct pconn *c)
{
    if (!c)
        return;
    conn_stmts_free(c);
    PQfinish(c->db);
    free(c->agents);
    free(c->deltas);
    free(c->uniqs);
    for (int k = 0; k < 10; k++)
        sc_buf_cleanup(&c->ev[k]);
    free(c);
}

static PGconn *connect_to(const char *url)
{
    /* Our defaults first: the URL's own settings, expanded from "dbname", override them. */
    const char *const keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                                NULL};
    const char *const vals[] = {"5", "sharecard", "UTF8", url, NULL};
    return PQconnectdbParams(keys, vals, 1);
}

static void conn_stmts_unprepare(struct pconn *c);

/*
 * Resets 'c''s broken connection, unless the backoff says wait; prepared
 * statements do not survive a reset.  SC_EIO while the server stays away.
 */
static enum sc_err reconnect(struct pconn *c)
{
    int64_t now = mono_ms();
    if (now < c->retry_at_ms)
        return SC_EIO;
    PQreset(c->db);
    memset(c->prepared, 0, sizeof(c->prepared));
    conn_stmts_unprepare(c);
    c->in_tx = false;
    if (PQstatus(c->db) == CONNECTION_OK) {
        c->backoff_ms = 0;
        c->retry_at_ms = 0;
        return SC_OK;
    }
    c->backoff_ms = c->backoff_ms ? (c->backoff_ms >= 1000 ? 2000 : c->backoff_ms * 2) : 50;
    c->retry_at_ms = now + c->backoff_ms;
    return SC_EIO;
}

static const struct sc_db_ops pg_db_ops;

/* The key's destructor: a thread that used the store is exiting; its connection goes too. */
static void conn_gone(void *arg)
{
    struct pconn *c = arg;
    struct pg_store *s = c->owner;
    pthread_mutex_lock(&s->lock);
    for (struct pconn **p = &s->conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    pthread_mutex_unlock(&s->lock);
    conn_close(c);
}

/* The server's notices ("relation already exists, skipping") are not for our users. */
static void quiet(void *arg, const char *message)
{
}

/* This thread's connection, made on first use and reset if it broke; NULL with '*e' set. */
static struct pconn *conn_get(struct pg_store *s, enum sc_err *e)
{
    struct pconn *c = pthread_getspecific(s->key);
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c || !(c->db = connect_to(s->url))) {
            free(c);
            *e = SC_ENOMEM;
            return NULL;
        }
        if (pthread_setspecific(s->key, c) != 0) {
            conn_close(c);
            *e = SC_ENOMEM;
            return NULL;
        }
        c->owner = s;
        c->base.ops = &pg_db_ops;
        PQsetNoticeProcessor(c->db, quiet, NULL);
        pthread_mutex_lock(&s->lock);
        c->next = s->conns;
        s->conns = c;
        pthread_mutex_unlock(&s->lock);
        if (PQstatus(c->db) != CONNECTION_OK) {
            c->backoff_ms = 50;
            c->retry_at_ms = mono_ms() + c->backoff_ms;
            *e = SC_EIO;
            return NULL;
        }
    }
    if (PQstatus(c->db) != CONNECTION_OK && (*e = reconnect(c)) != SC_OK)
        return NULL;
    return c;
}

static bool prepare(struct pconn *c, enum stmt_id id, enum sc_err *e)
{
    if (c->prepared[id])
        return true;
    char name[16];
    snprintf(name, sizeof(name), "sc%d", (int)id);
    PGresult *r = PQprepare(c->db, name, sql[id], 0, NULL);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        *e = map_result(c, r);
    PQclear(r);
    c->prepared[id] = ok;
    return ok;
}

/*
 * Runs statement 'id' with 'p' (may be NULL) on 'c'.  Returns the result
 * (free with PQclear()), or NULL with '*e' set.  A read outside a
 * transaction whose connection broke runs once more on a fresh one.
 */
static PGresult *run(struct pconn *c, enum stmt_id id, const struct params *p, enum sc_err *e)
{
    for (int attempt = 0;; attempt++) {
        if (!prepare(c, id, e)) {
            if (attempt == 0 && !c->in_tx && PQstatus(c->db) != CONNECTION_OK && is_read(id) &&
                reconnect(c) == SC_OK)
                continue;
            return NULL;
        }
        char name[16];
        snprintf(name, sizeof(name), "sc%d", (int)id);
        PGresult *r = PQexecPrepared(c->db, name, p ? p->n : 0, p ? p->v : NULL, p ? p->len : NULL,
                                     p ? p->fmt : NULL, 0);
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
            return r;
        *e = map_result(c, r);
        PQclear(r);
        if (attempt > 0 || c->in_tx || PQstatus(c->db) == CONNECTION_OK || !is_read(id) ||
            reconnect(c) != SC_OK)
            return NULL;
    }
}

/* Runs a statement that returns no rows; '*changed' (may be NULL) gets the rows it touched. */
static enum sc_err run_done(struct pconn *c, enum stmt_id id, const struct params *p,
                            int64_t *changed)
{
    enum sc_err e = SC_OK;
    PGresult *r = run(c, id, p, &e);
    if (!r)
        return e;
    if (changed)
        *changed = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return SC_OK;
}

/* The first column of the first row as a number (0 when no row); '*found' whether there was one. */
static enum sc_err run_int(struct pconn *c, enum stmt_id id, const struct params *p, int64_t *out,
                           bool *found)
{
    enum sc_err e = SC_OK;
    PGresult *r = run(c, id, p, &e);
    if (!r)
        return e;
    bool any = PQntuples(r) > 0;
    *out = any ? gi(r, 0, 0) : 0;
    if (found)
        *found = any;
    PQclear(r);
    return SC_OK;
}

static enum sc_err simple(struct pconn *c, const char *q)
{
    PGresult *r = PQexec(c->db, q);
    enum sc_err e = PQresultStatus(r) == PGRES_COMMAND_OK ? SC_OK : map_result(c, r);
    /* COMMIT of a transaction that had failed answers "ROLLBACK": not a success. */
    if (e == SC_OK && strcmp(q, "COMMIT") == 0 && strcmp(PQcmdStatus(r), "COMMIT") != 0)
        e = SC_EDB;
    PQclear(r);
    return e;
}

/*
 * Starts a transaction.  A connection the server closed while it sat idle
 * (a restart, a failover) is only noticed here; nothing has been done yet,
 * so it is reset and BEGIN tried once more.
 */
static enum sc_err begin(struct pconn *c)
{
    const char *q = "BEGIN ISOLATION LEVEL READ COMMITTED";
    enum sc_err e = simple(c, q);
    if (e != SC_OK && PQstatus(c->db) != CONNECTION_OK && reconnect(c) == SC_OK)
        e = simple(c, q);
    c->in_tx = e == SC_OK;
    return e;
}

static enum sc_err commit(struct pconn *c)
{
    enum sc_err e = simple(c, "COMMIT");
    c->in_tx = false;
    return e;
}

static void rollback(struct pconn *c)
{
    if (c->in_tx && PQstatus(c->db) == CONNECTION_OK)
        simple(c, "ROLLBACK");
    c->in_tx = false;
}

/* ---- the statement layer (sql.h) on libpq ----------------------------------------- */

/*
 * A statement of the layer on one connection: prepared there once (named
 * "q<slot>"), its parameters kept as text (numbers in 'num') or a binary
 * blob until it is stepped, then its result read row by row.
 */
struct pg_stmt {
    struct sc_stmt base; /* first */
    struct pconn *c;
    int slot, nparams;
    bool prepared, read; /* 'read': a SELECT, safe to run again on a fresh connection */
    struct sc_sql *q;
    const char *v[MAXP];
    int len[MAXP], fmt[MAXP];
    char num[MAXP][24];
    PGresult *res; /* NULL until stepped */
    int row, nrows;
    unsigned char *blob; /* a bytea column unescaped, until the next reset */
};

static void pgst_clear(struct pg_stmt *st)
{
    if (st->res)
        PQclear(st->res);
    st->res = NULL;
    if (st->blob)
        PQfreemem(st->blob);
    st->blob = NULL;
    memset(st->v, 0, sizeof(st->v));
    memset(st->len, 0, sizeof(st->len));
    memset(st->fmt, 0, sizeof(st->fmt));
}

static void conn_stmts_free(struct pconn *c)
{
    for (size_t i = 0; i < c->nq; i++)
        if (c->q[i]) {
            pgst_clear(c->q[i]);
            free(c->q[i]);
        }
    free(c->q);
    c->q = NULL;
    c->nq = 0;
}

static void conn_stmts_unprepare(struct pconn *c)
{
    for (size_t i = 0; i < c->nq; i++)
        if (c->q[i])
            c->q[i]->prepared = false;
}

/* Results left behind by an early return are freed when the connection is given back. */
static void conn_stmts_reset(struct pconn *c)
{
    for (size_t i = 0; i < c->nq; i++)
        if (c->q[i] && (c->q[i]->res || c->q[i]->blob))
            pgst_clear(c->q[i]);
}

static bool pgst_prepare(struct pg_stmt *st, enum sc_err *e)
{
    struct sc_buf text;
    sc_buf_init(&text, 0);
    *e = sc_sql_expand(st->q, SC_DIALECT_PG, &text, &st->nparams);
    if (*e == SC_OK && st->nparams > MAXP)
        *e = SC_EINVAL;
    if (*e == SC_OK) {
        char name[16];
        snprintf(name, sizeof(name), "q%d", st->slot);
        PGresult *r = PQprepare(st->c->db, name, text.data, 0, NULL);
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            st->prepared = true;
        else
            *e = map_result(st->c, r);
        PQclear(r);
    }
    sc_buf_cleanup(&text);
    return st->prepared;
}

static struct sc_stmt *pq_prepare(struct sc_db *db, struct sc_sql *q, enum sc_err *e)
{
    struct pconn *c = (struct pconn *)db;
    size_t slot = (size_t)sc_sql_slot(q);
    if (slot >= c->nq) {
        size_t n = slot + 32;
        struct pg_stmt **grown = realloc(c->q, n * sizeof(*grown));
        if (!grown) {
            *e = SC_ENOMEM;
            return NULL;
        }
        memset(grown + c->nq, 0, (n - c->nq) * sizeof(*grown));
        c->q = grown;
        c->nq = n;
    }
    struct pg_stmt *st = c->q[slot];
    if (!st) {
        if (!(st = calloc(1, sizeof(*st)))) {
            *e = SC_ENOMEM;
            return NULL;
        }
        st->base.ops = &pg_db_ops;
        st->c = c;
        st->slot = (int)slot;
        st->q = q;
        const char *t = q->pg ? q->pg : q->text;
        while (*t == ' ' || *t == '(')
            t++;
        st->read = strncmp(t, "SELECT", 6) == 0 || strncmp(t, "WITH", 4) == 0;
        c->q[slot] = st;
    }
    pgst_clear(st);
    if (!st->prepared && !pgst_prepare(st, e)) {
        /* A read outside a transaction whose connection broke: once more on a fresh one. */
        if (!(st->read && !c->in_tx && PQstatus(c->db) != CONNECTION_OK && reconnect(c) == SC_OK &&
              pgst_prepare(st, e)))
            return NULL;
    }
    return &st->base;
}

static struct pg_stmt *pgst(struct sc_stmt *st)
{
    return (struct pg_stmt *)st;
}

static void pq_bind_int64(struct sc_stmt *base, int i, int64_t v)
{
    struct pg_stmt *st = pgst(base);
    if (i < 1 || i > MAXP)
        return;
    snprintf(st->num[i - 1], sizeof(st->num[0]), "%lld", (long long)v);
    st->v[i - 1] = st->num[i - 1];
    st->len[i - 1] = 0;
    st->fmt[i - 1] = 0;
}

static void pq_bind_text(struct sc_stmt *base, int i, const char *v)
{
    struct pg_stmt *st = pgst(base);
    if (i < 1 || i > MAXP)
        return;
    st->v[i - 1] = v;
    st->len[i - 1] = 0;
    st->fmt[i - 1] = 0;
}

static void pq_bind_blob(struct sc_stmt *base, int i, const void *p, size_t n)
{
    struct pg_stmt *st = pgst(base);
    if (i < 1 || i > MAXP)
        return;
    st->v[i - 1] = p;
    st->len[i - 1] = (int)n;
    st->fmt[i - 1] = 1;
}

static void pq_bind_null(struct sc_stmt *base, int i)
{
    pq_bind_text(base, i, NULL);
}

static enum sc_err pq_step(struct sc_stmt *base, bool *row)
{
    struct pg_stmt *st = pgst(base);
    struct pconn *c = st->c;
    *row = false;
    for (int attempt = 0; !st->res; attempt++) {
        enum sc_err e = SC_OK;
        if (!st->prepared && !pgst_prepare(st, &e))
            return e;
        char name[16];
        snprintf(name, sizeof(name), "q%d", st->slot);
        PGresult *r = PQexecPrepared(c->db, name, st->nparams, st->v, st->len, st->fmt, 0);
        ExecStatusType rs = PQresultStatus(r);
        if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK) {
            st->res = r;
            st->row = -1;
            st->nrows = PQntuples(r);
            break;
        }
        e = map_result(c, r);
        PQclear(r);
        /* A read outside a transaction whose connection broke runs once more on a fresh one. */
        if (attempt > 0 || c->in_tx || PQstatus(c->db) == CONNECTION_OK || !st->read ||
            reconnect(c) != SC_OK)
            return e;
    }
    st->row++;
    *row = st->row < st->nrows;
    return SC_OK;
}

static int64_t pq_column_int64(struct sc_stmt *base, int i)
{
    struct pg_stmt *st = pgst(base);
    return strtoll(PQgetvalue(st->res, st->row, i), NULL, 10);
}

static const char *pq_column_text(struct sc_stmt *base, int i)
{
    struct pg_stmt *st = pgst(base);
    return PQgetisnull(st->res, st->row, i) ? NULL : PQgetvalue(st->res, st->row, i);
}

static const void *pq_column_blob(struct sc_stmt *base, int i, size_t *n)
{
    struct pg_stmt *st = pgst(base);
    *n = 0;
    if (PQgetisnull(st->res, st->row, i))
        return NULL;
    if (st->blob)
        PQfreemem(st->blob);
    st->blob = PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->row, i), n);
    return st->blob;
}

static bool pq_column_is_null(struct sc_stmt *base, int i)
{
    struct pg_stmt *st = pgst(base);
    return PQgetisnull(st->res, st->row, i) != 0;
}

static int64_t pq_changes(struct sc_stmt *base)
{
    struct pg_stmt *st = pgst(base);
    return st->res ? strtoll(PQcmdTuples(st->res), NULL, 10) : 0;
}

static void pq_reset(struct sc_stmt *base)
{
    pgst_clear(pgst(base));
}

static const struct sc_db_ops pg_db_ops = {
    .prepare = pq_prepare,
    .bind_int64 = pq_bind_int64,
    .bind_text = pq_bind_text,
    .bind_blob = pq_bind_blob,
    .bind_null = pq_bind_null,
    .step = pq_step,
    .column_int64 = pq_column_int64,
    .column_text = pq_column_text,
    .column_blob = pq_column_blob,
    .column_is_null = pq_column_is_null,
    .changes = pq_changes,
    .reset = pq_reset,
};

static struct sc_db *pg_db_read(struct sc_store *base, enum sc_err *e)
{
    struct pconn *c = conn_get(pgs(base), e);
    return c ? &c->base : NULL;
}

static void pg_db_read_end(struct sc_store *base, struct sc_db *db)
{
    (void)base;
    conn_stmts_reset((struct pconn *)db);
}

static struct sc_db *pg_db_write(struct sc_store *base, bool tx, enum sc_err *e)
{
    struct pconn *c = conn_get(pgs(base), e);
    if (c && tx && (*e = begin(c)) != SC_OK)
        return NULL;
    return c ? &c->base : NULL;
}

static enum sc_err pg_db_write_end(struct sc_store *base, struct sc_db *db, enum sc_err e)
{
    (void)base;
    struct pconn *c = (struct pconn *)db;
    conn_stmts_reset(c);
    if (c->in_tx) {
        if (e == SC_OK)
            e = commit(c);
        if (e != SC_OK)
            rollback(c);
    }
    return e;
}

/* PostgreSQL keeps no key beside the visitor's row: renaming the row (shared code) is all. */
static enum sc_err pg_visitor_forget(struct sc_db *db, int64_t visitor)
{
    (void)db;
    (void)visitor;
    return SC_OK;
}

/* ---- migrations --------------------------------------------------------------------- */

/* Any number will do, so long as it is always the same: the key of our advisory lock. */
#define MIGRATE_LOCK   "SELECT pg_advisory_lock(5375636172640001)"
#define MIGRATE_UNLOCK "SELECT pg_advisory_unlock(5375636172640001)"

static enum sc_err too_new(int version, char *errmsg, size_t errlen)
{
    snprintf(errmsg, errlen,
             "this database was written by a newer sharecard (schema %d, this build "
             "knows up to %d); upgrade sharecard",
             version, sc_pg_nmigrations);
    return SC_EVERSION;
}

static void pg_errmsg(struct pconn *c, const PGresult *r, const char *what, char *errmsg,
                      size_t errlen)
{
    const char *m = r ? PQresultErrorMessage(r) : "";
    if (!m[0])
        m = PQerrorMessage(c->db);
    snprintf(errmsg, errlen, "%s: %s", what, m);
    size_t n = strlen(errmsg);
    while (n && (errmsg[n - 1] == '\n' || errmsg[n - 1] == ' '))
        errmsg[--n] = '\0';
}

/* Runs 'q' for 'what'; on failure a sentence in 'errmsg'. */
static enum sc_err mig_exec(struct pconn *c, const char *q, const char *what, char *errmsg,
                            size_t errlen)
{
    PGresult *r = PQexec(c->db, q);
    ExecStatusType st = PQresultStatus(r);
    enum sc_err e = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? SC_OK : map_result(c, r);
    if (e != SC_OK)
        pg_errmsg(c, r, what, errmsg, errlen);
    PQclear(r);
    return e;
}

static enum sc_err read_version(struct pconn *c, int *out, char *errmsg, size_t errlen)
{
    PGresult *r = PQexec(c->db, "SELECT version FROM schema_version");
    enum sc_err e = SC_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        e = PQresultStatus(r) == PGRES_TUPLES_OK ? SC_EDB : map_result(c, r);
        pg_errmsg(c, r, "checking the schema failed", errmsg, errlen);
    } else {
        *out = (int)gi(r, 0, 0);
    }
    PQclear(r);
    return e;
}

/*
 * Brings the database up to the newest schema, one migration per
 * transaction, while holding an advisory lock: instances starting at once
 * take turns, and each step runs exactly once.  A database from a newer
 * build is refused untouched (SC_EVERSION).
 */
static enum sc_err migrate(struct pg_store *s, struct pconn *c, char *errmsg, size_t errlen)
{
    enum sc_err e = mig_exec(c, MIGRATE_LOCK, "taking the migration lock failed", errmsg, errlen);
    if (e != SC_OK)
        return e;
    e = mig_exec(c,
                 "CREATE TABLE IF NOT EXISTS schema_version ("
                 "  one INTEGER PRIMARY KEY DEFAULT 1 CHECK (one = 1),"
                 "  version INTEGER NOT NULL);"
                 "INSERT INTO schema_version (one, version) VALUES (1, 0) ON CONFLICT DO NOTHING",
                 "creating the schema_version table failed", errmsg, errlen);
    int version = 0;
    while (e == SC_OK && (e = read_version(c, &version, errmsg, errlen)) == SC_OK) {
        if (version > sc_pg_nmigrations) {
            e = too_new(version, errmsg, errlen);
            break;
        }
        if (version == sc_pg_nmigrations)
            break;
        char what[96], setv[96];
        snprintf(what, sizeof(what), "upgrading the schema to version %d failed", version + 1);
        snprintf(setv, sizeof(setv), "UPDATE schema_version SET version = %d", version + 1);
        if ((e = mig_exec(c, "BEGIN", what, errmsg, errlen)) != SC_OK)
            break;
        if ((e = mig_exec(c, sc_pg_migrations[version], what, errmsg, errlen)) != SC_OK ||
            (e = mig_exec(c, setv, what, errmsg, errlen)) != SC_OK ||
            (e = mig_exec(c, "COMMIT", what, errmsg, errlen)) != SC_OK) {
            PQclear(PQexec(c->db, "ROLLBACK"));
            if (e == SC_OK || e == SC_ECONFLICT)
                e = SC_EDB;
            break;
        }
    }
    if (PQstatus(c->db) == CONNECTION_OK)
        PQclear(PQexec(c->db, MIGRATE_UNLOCK));
    if (e == SC_OK)
        s->version = version;
    return e;
}

/* ---- operations ------------------------------------------------------------------ */

static void pg_close(struct sc_store *base)
{
    struct pg_store *s = pgs(base);
    if (!s)
        return;
    /* No destructor may run for this store once it is gone: delete the key first. */
    if (s->keyed)
        pthread_key_delete(s->key);
    pthread_mutex_lock(&s->lock);
    struct pconn *c = s->conns;
    while (c) {
        struct pconn *next = c->next;
        conn_close(c);
        c = next;
    }
    s->conns = NULL;
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_destroy(&s->lock);
    free(s->url);
    free(s);
}

static int pg_schema_version(struct sc_store *base)
{
    return pgs(base)->version;
}

/* Runs read 'id' and hands its first row to 'row'; SC_ENOTFOUND when there is none. */
static enum sc_err first_row(struct sc_store *base, enum stmt_id id, const struct params *p,
                             void (*row)(const PGresult *r, void *ctx), void *ctx)
{
    enum sc_err e = SC_OK;
    struct pconn *c = conn_get(pgs(base), &e);
    PGresult *r = c ? run(c, id, p, &e) : NULL;
    if (!r)
        return e;
    if (PQntuples(r) > 0)
        row(r, ctx);
    else
        e = SC_ENOTFOUND;
    PQclear(r);
    return e;
}

static void int_first(const PGresult *r, void *ctx)
{
    *(int64_t *)ctx = gi(r, 0, 0);
}

/* ---- sign-ups, conversions and the ledger ----------------------------------------- */

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
    enum sc_err e = run_int(c, ST_AGENT_GET, &p, out, &found);
    if (e == SC_OK && !found) {
        p_str(&p, row->agent->browser);
        p_str(&p, row->agent->os);
        p_str(&p, row->agent->device);
        p_text(&p, row->bot_reason);
        e = run_int(c, ST_AGENT_INSERT, &p, out, &found);
        if (e == SC_OK && !found) { /* another instance stored it just now */
            p.n = 1;
            e = run_int(c, ST_AGENT_GET, &p, out, &found);
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
        e = run_done(c, ST_EVENT_BATCH, &p, NULL);
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
    PGresult *r = e == SC_OK ? run(c, ST_VISITOR_BATCH, &p, &e) : NULL;
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
            e = run_done(c, ST_ROLLUP_BATCH, &p, NULL);
    }
    if (e == SC_OK && c->nuniqs) {
        for (int k = 0; k < 4; k++)
            sc_buf_reset(&a[k]);
        qsort(c->uniqs, c->nuniqs, sizeof(*c->uniqs), uniq_cmp);
        for (size_t i = 0; i < c->nuniqs; i++) {
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
            e = run_done(c, ST_UNIQUE_BATCH, &p, NULL);
    }
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
        if ((e = sc_q_conversion_write(&c->base, row, &card_id, &skip)) != SC_OK || skip)
            return e;
        link_id = 0;
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
        if ((e = run_int(c, ST_LINK_INSERT, &p, &link_id, NULL)) != SC_OK)
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
    return tally(c, card_id, ev->ts / 86400, link_id, (int)ev->type, bot, vid,
                 (int)sc_device_of(row->agent ? row->agent->device : NULL));
}

/*
 * One transaction per batch.  A batch that collides with another
 * instance's (deadlock, serialisation failure) is rolled back and run again
 * from the start with its inputs as they came, a few times at most.
 */
static enum sc_err pg_events_write(struct sc_store *base, struct sc_event_row *rows, size_t n)
{
    enum sc_err e = SC_OK;
    struct pconn *c = conn_get(pgs(base), &e);
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
        e = begin(c);
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
            e = commit(c);
        if (e == SC_OK)
            break;
        rollback(c);
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

static enum sc_err pg_link_create(struct sc_store *base, struct sc_link *l)
{
    enum sc_err e = SC_OK;
    struct pconn *c = conn_get(pgs(base), &e);
    if (!c || (e = begin(c)) != SC_OK)
        return e;
    int64_t ts = now_s(), vid = 0;
    if (l->owner_visitor[0]) {
        struct params p = {0};
        p_str(&p, l->owner_visitor);
        p_i64(&p, ts);
        e = run_int(c, ST_VISITOR_UPSERT, &p, &vid, NULL);
    }
    if (e == SC_OK)
        e = sc_q_link_insert(&c->base, l->card_id, l->channel, l->owner_member_id,
                             l->owner_customer_id, vid, l->parent_link_id, l->code, &l->id);
    if (e == SC_OK)
        e = commit(c);
    if (e != SC_OK)
        rollback(c);
    else
        l->created_at = ts;
    return e;
}

static enum sc_err pg_visitor_reached(struct sc_store *base, const char *vid, int64_t card_id,
                                      int64_t link_id, bool *out)
{
    enum sc_err e = SC_OK;
    struct pconn *c = conn_get(pgs(base), &e);
    if (!c)
        return e;
    struct params p = {0};
    p_str(&p, vid);
    p_i64(&p, card_id);
    p_i64(&p, link_id);
    int64_t one = 0;
    e = run_int(c, ST_VISITOR_REACHED, &p, &one, out);
    return e;
}

static enum sc_err pg_visitor_id(struct sc_store *base, const char *vid, int64_t *out)
{
    struct params p = {0};
    p_str(&p, vid);
    return first_row(base, ST_VISITOR_ID, &p, int_first, out);
}

/* ---- accounts and reports ---------------------------------------------------------- */

/* ---- management and more reports ------------------------------------------------------ */

static const struct sc_store_ops pg_ops = {
    .name = "postgres",
    .dialect = SC_DIALECT_PG,
    .db_read = pg_db_read,
    .db_read_end = pg_db_read_end,
    .db_write = pg_db_write,
    .db_write_end = pg_db_write_end,
    .visitor_forget = pg_visitor_forget,
    .close = pg_close,
    .schema_version = pg_schema_version,
    .events_write = pg_events_write,
    .link_create = pg_link_create,
    .visitor_reached = pg_visitor_reached,
    .visitor_id = pg_visitor_id,
};

/*
 * Whether every operation after 'name' is filled in.  The table is all
 * function pointers of one size, so it is read as bytes; an op added to
 * store_int.h without a PostgreSQL twin is refused at open, not a crash
 * the first time a request needs it.
 */
static bool ops_complete(const struct sc_store_ops *o)
{
    static const unsigned char null[sizeof(o->close)];
    const unsigned char *b = (const unsigned char *)o;
    for (size_t off = offsetof(struct sc_store_ops, close); off + sizeof(null) <= sizeof(*o);
         off += sizeof(null))
        if (memcmp(b + off, null, sizeof(null)) == 0)
            return false;
    return true;
}

enum sc_err sc_pg_open(const char *url, struct sc_store **out, char *errmsg, size_t errlen)
{
    if (!ops_complete(&pg_ops)) {
        snprintf(errmsg, errlen, "this build's PostgreSQL backend lacks a store operation");
        return SC_EDB;
    }
    if (sodium_init() < 0) {
        snprintf(errmsg, errlen, "libsodium could not start");
        return SC_ENOMEM;
    }
    struct pg_store *s = calloc(1, sizeof(*s));
    if (!s || !(s->url = strdup(url))) {
        free(s);
        snprintf(errmsg, errlen, "out of memory");
        return SC_ENOMEM;
    }
    s->base.ops = &pg_ops;
    pthread_mutex_init(&s->lock, NULL);
    enum sc_err e = SC_ENOMEM;
    if (pthread_key_create(&s->key, conn_gone) != 0) {
        snprintf(errmsg, errlen, "out of thread keys");
        goto fail;
    }
    s->keyed = true;
    struct pconn *c = conn_get(s, &e);
    if (!c) {
        struct pconn *mine = pthread_getspecific(s->key);
        if (mine)
            pg_errmsg(mine, NULL, "cannot connect to PostgreSQL", errmsg, errlen);
        else
            snprintf(errmsg, errlen, "out of memory");
        goto fail;
    }
    if ((e = migrate(s, c, errmsg, errlen)) != SC_OK)
        goto fail;
    *out = &s->base;
    return SC_OK;
fail:
    pg_close(&s->base);
    return e;
}
