/*
 * pg_conn.c — the PostgreSQL backend (libpq), for several sharecard
 * instances sharing one database behind a load balancer: connections,
 * reconnects, migrations and the statement layer (sql.h) on libpq.  The
 * batched event writes are in pg_events.c.
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
 * The tables are SQLite's (pg_schema.c), and all but the hot path's SQL is
 * shared with it (q_*.c), so both backends give the same per-row results
 * and the same report figures.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "sharecard/log.h"
#include "pg_int.h"

/* Statements that only read: safe to run again on a fresh connection. */
static bool is_read(enum stmt_id id)
{
    return strncmp(sc_pg_sql[id], "SELECT", 6) == 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
struct pconn *sc_pg_conn(struct pg_store *s, enum sc_err *e)
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
    PGresult *r = PQprepare(c->db, name, sc_pg_sql[id], 0, NULL);
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
PGresult *sc_pg_run(struct pconn *c, enum stmt_id id, const struct params *p, enum sc_err *e)
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
enum sc_err sc_pg_run_done(struct pconn *c, enum stmt_id id, const struct params *p,
                           int64_t *changed)
{
    enum sc_err e = SC_OK;
    PGresult *r = sc_pg_run(c, id, p, &e);
    if (!r)
        return e;
    if (changed)
        *changed = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return SC_OK;
}

/* The first column of the first row as a number (0 when no row); '*found' whether there was one. */
enum sc_err sc_pg_run_int(struct pconn *c, enum stmt_id id, const struct params *p, int64_t *out,
                          bool *found)
{
    enum sc_err e = SC_OK;
    PGresult *r = sc_pg_run(c, id, p, &e);
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
enum sc_err sc_pg_begin(struct pconn *c)
{
    const char *q = "BEGIN ISOLATION LEVEL READ COMMITTED";
    enum sc_err e = simple(c, q);
    if (e != SC_OK && PQstatus(c->db) != CONNECTION_OK && reconnect(c) == SC_OK)
        e = simple(c, q);
    c->in_tx = e == SC_OK;
    return e;
}

enum sc_err sc_pg_commit(struct pconn *c)
{
    enum sc_err e = simple(c, "COMMIT");
    c->in_tx = false;
    return e;
}

void sc_pg_rollback(struct pconn *c)
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
    struct pconn *c = sc_pg_conn(pgs(base), e);
    return c ? &c->base : NULL;
}

static void pg_db_read_end(struct sc_store *base, struct sc_db *db)
{
    (void)base;
    conn_stmts_reset((struct pconn *)db);
}

static struct sc_db *pg_db_write(struct sc_store *base, bool tx, enum sc_err *e)
{
    struct pconn *c = sc_pg_conn(pgs(base), e);
    if (c && tx && (*e = sc_pg_begin(c)) != SC_OK)
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
            e = sc_pg_commit(c);
        if (e != SC_OK)
            sc_pg_rollback(c);
    }
    return e;
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

/* A PostgreSQL store is copied by PostgreSQL's own tool, which knows its consistency rules. */
static enum sc_err pg_backup(struct sc_store *base, const char *dest,
                             void (*progress)(int64_t done, int64_t total, void *ctx), void *ctx,
                             char *errmsg, size_t errlen)
{
    (void)base;
    (void)dest;
    (void)progress;
    (void)ctx;
    snprintf(errmsg, errlen,
             "this store is on PostgreSQL: back it up with PostgreSQL's own tools, e.g. "
             "pg_dump --format=custom --file=FILE DATABASE-URL (restore with pg_restore)");
    return SC_EINVAL;
}

static const struct sc_store_ops pg_ops = {
    .name = "postgres",
    .dialect = SC_DIALECT_PG,
    .db_read = pg_db_read,
    .db_read_end = pg_db_read_end,
    .db_write = pg_db_write,
    .db_write_end = pg_db_write_end,
    .visitor_forget = sc_pg_visitor_forget,
    .close = pg_close,
    .schema_version = pg_schema_version,
    .events_write = sc_pg_events_write,
    .link_create = sc_pg_link_create,
    .visitor_reached = sc_pg_visitor_reached,
    .visitor_id = sc_pg_visitor_id,
    .backup = pg_backup,
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
    struct pconn *c = sc_pg_conn(s, &e);
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
