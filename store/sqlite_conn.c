/*
 * sqlite_conn.c — the embedded SQLite backend: opening a store, its
 * connections, migrations, the statement layer (sql.h) on SQLite and the
 * custom functions (sc_distinct, sc_distinct_by, sc_vid_key).  The batched
 * event writes are in sqlite_events.c.
 *
 *
 * WAL mode with one writer connection, serialised by a mutex.  A commit is
 * in the operating system's hands before we acknowledge it, so it survives
 * the process being killed (kill -9, OOM); with SHARECARD_SYNC=full each
 * commit is also fsync'ed and survives a power cut, at the cost of an fsync
 * per batch.  Readers get a read-only connection per thread, made on first
 * use and closed when the thread exits, so reads run beside the writer
 * without a lock.  Each connection prepares a statement the first time it
 * needs it and reuses it afterwards.  ":memory:" stores have one connection
 * for everything, since a second connection would see another database.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "sqlite_int.h"

enum sc_err sc_sqlite_map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return SC_OK;
    case SQLITE_CONSTRAINT: return SC_ECONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return SC_EBUSY;
    case SQLITE_NOMEM: return SC_ENOMEM;
    case SQLITE_TOOBIG: return SC_ETOOBIG;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN: return SC_EIO;
    default: return SC_EDB;
    }
}

/* The prepared statement 'id' on 'c', ready to bind; NULL if it cannot be prepared. */
sqlite3_stmt *sc_sqlite_stmt(struct conn *c, enum stmt_id id)
{
    if (!c->st[id]) {
        if (sqlite3_prepare_v3(c->db, sc_sqlite_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->st[id],
                               NULL) != SQLITE_OK)
            return NULL;
    } else {
        sqlite3_reset(c->st[id]);
        sqlite3_clear_bindings(c->st[id]);
    }
    return c->st[id];
}

/* ---- the statement layer (sql.h) on SQLite --------------------------------------- */

struct sq_stmt {
    struct sc_stmt base; /* first */
    sqlite3_stmt *st;
    sqlite3 *db;
};

static const struct sc_db_ops sq_db_ops;

static void conn_stmts_free(struct conn *c)
{
    for (size_t i = 0; i < c->nq; i++)
        if (c->q[i]) {
            sqlite3_finalize(c->q[i]->st);
            free(c->q[i]);
        }
    free(c->q);
    c->q = NULL;
    c->nq = 0;
}

/* Resets every statement of 'c', so that no read transaction stays open. */
static void conn_stmts_reset(struct conn *c)
{
    for (int i = 0; i < ST_COUNT; i++)
        if (c->st[i])
            sqlite3_reset(c->st[i]);
    for (size_t i = 0; i < c->nq; i++)
        if (c->q[i])
            sqlite3_reset(c->q[i]->st);
}

static struct sc_stmt *sq_prepare(struct sc_db *db, struct sc_sql *q, enum sc_err *e)
{
    struct conn *c = (struct conn *)db;
    size_t slot = (size_t)sc_sql_slot(q);
    if (slot >= c->nq) {
        size_t n = slot + 32;
        struct sq_stmt **grown = realloc(c->q, n * sizeof(*grown));
        if (!grown) {
            *e = SC_ENOMEM;
            return NULL;
        }
        memset(grown + c->nq, 0, (n - c->nq) * sizeof(*grown));
        c->q = grown;
        c->nq = n;
    }
    struct sq_stmt *st = c->q[slot];
    if (st) {
        sqlite3_reset(st->st);
        sqlite3_clear_bindings(st->st);
        return &st->base;
    }
    struct sc_buf text;
    sc_buf_init(&text, 0);
    int np = 0;
    *e = sc_sql_expand(q, SC_DIALECT_SQLITE, &text, &np);
    if (*e == SC_OK && !(st = calloc(1, sizeof(*st))))
        *e = SC_ENOMEM;
    if (*e == SC_OK) {
        int rc = sqlite3_prepare_v3(c->db, text.data, -1, SQLITE_PREPARE_PERSISTENT, &st->st, NULL);
        if (rc != SQLITE_OK) {
            *e = sc_sqlite_map_rc(rc) ? sc_sqlite_map_rc(rc) : SC_EDB;
            free(st);
            st = NULL;
        }
    }
    sc_buf_cleanup(&text);
    if (!st)
        return NULL;
    st->base.ops = &sq_db_ops;
    st->db = c->db;
    c->q[slot] = st;
    return &st->base;
}

static sqlite3_stmt *raw(struct sc_stmt *st)
{
    return ((struct sq_stmt *)st)->st;
}

static void sq_bind_int64(struct sc_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(raw(st), i, v);
}

static void sq_bind_text(struct sc_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(raw(st), i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(raw(st), i);
}

static void sq_bind_blob(struct sc_stmt *st, int i, const void *p, size_t n)
{
    sqlite3_bind_blob(raw(st), i, p, (int)n, SQLITE_STATIC);
}

static void sq_bind_null(struct sc_stmt *st, int i)
{
    sqlite3_bind_null(raw(st), i);
}

static enum sc_err sq_step(struct sc_stmt *st, bool *row)
{
    int rc = sqlite3_step(raw(st));
    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return SC_OK;
    return sc_sqlite_map_rc(rc) ? sc_sqlite_map_rc(rc) : SC_EDB;
}

static int64_t sq_column_int64(struct sc_stmt *st, int i)
{
    return sqlite3_column_int64(raw(st), i);
}

static const char *sq_column_text(struct sc_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(raw(st), i);
}

static const void *sq_column_blob(struct sc_stmt *st, int i, size_t *n)
{
    const void *p = sqlite3_column_blob(raw(st), i);
    *n = (size_t)sqlite3_column_bytes(raw(st), i);
    return p;
}

static bool sq_column_is_null(struct sc_stmt *st, int i)
{
    return sqlite3_column_type(raw(st), i) == SQLITE_NULL;
}

static int64_t sq_changes(struct sc_stmt *st)
{
    return sqlite3_changes64(((struct sq_stmt *)st)->db);
}

static void sq_reset(struct sc_stmt *st)
{
    sqlite3_reset(raw(st));
    sqlite3_clear_bindings(raw(st));
}

static const struct sc_db_ops sq_db_ops = {
    .prepare = sq_prepare,
    .bind_int64 = sq_bind_int64,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .column_int64 = sq_column_int64,
    .column_text = sq_column_text,
    .column_blob = sq_column_blob,
    .column_is_null = sq_column_is_null,
    .changes = sq_changes,
    .reset = sq_reset,
};

static void conn_close(struct conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->st[i]);
    conn_stmts_free(c);
    sqlite3_close(c->db);
    free(c);
}

/*
 * sc_distinct(x): count(DISTINCT x) for integers, with a hash set instead of
 * SQLite's temporary B-tree — the unique visitors of a whole company's month
 * are hundreds of thousands of rows, and sorting them costs six times the
 * scan that reads them.  Exact, like count(DISTINCT).  Visitor ids count up
 * from 1, so values below 2^27 go into a bitmap as large as the largest
 * value seen (an eighth of a byte each: 1 MB for 8M visitors, where a hash
 * set would take 64 MB; 16 MB at most); any others into the hash set.
 */
#define DISTINCT_BITMAP_LIMIT ((int64_t)1 << 27)

struct distinct {
    unsigned char *bits; /* bit v: v was seen (0 <= v < DISTINCT_BITMAP_LIMIT) */
    size_t nbytes;
    int64_t *slot; /* 0: empty (a zero value is kept in 'zero') */
    size_t cap, n;
    bool zero, failed;
};

static bool distinct_put(struct distinct *d, int64_t v)
{
    if (v >= 0 && v < DISTINCT_BITMAP_LIMIT) {
        size_t byte = (size_t)v >> 3;
        if (byte >= d->nbytes) {
            size_t nbytes = d->nbytes ? d->nbytes * 2 : 4096;
            if (nbytes <= byte)
                nbytes = byte + 1;
            unsigned char *bits = realloc(d->bits, nbytes);
            if (!bits)
                return false;
            memset(bits + d->nbytes, 0, nbytes - d->nbytes);
            d->bits = bits;
            d->nbytes = nbytes;
        }
        unsigned char bit = (unsigned char)(1u << (v & 7));
        if (!(d->bits[byte] & bit)) {
            d->bits[byte] |= bit;
            d->n++;
        }
        return true;
    }
    if (v == 0) {
        d->n += !d->zero;
        d->zero = true;
        return true;
    }
    if (2 * (d->n + 1) > d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 1024;
        int64_t *slot = calloc(cap, sizeof(*slot));
        if (!slot)
            return false;
        for (size_t i = 0; i < d->cap; i++) {
            if (!d->slot[i])
                continue;
            size_t h = (size_t)(((uint64_t)d->slot[i] * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
            while (slot[h])
                h = (h + 1) & (cap - 1);
            slot[h] = d->slot[i];
        }
        free(d->slot);
        d->slot = slot;
        d->cap = cap;
    }
    size_t h = (size_t)(((uint64_t)v * 0x9E3779B97F4A7C15ull) >> 17) & (d->cap - 1);
    while (d->slot[h]) {
        if (d->slot[h] == v)
            return true;
        h = (h + 1) & (d->cap - 1);
    }
    d->slot[h] = v;
    d->n++;
    return true;
}

static void distinct_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    struct distinct *d = sqlite3_aggregate_context(ctx, sizeof(*d));
    if (!d || d->failed || sqlite3_value_type(argv[0]) == SQLITE_NULL)
        return;
    if (!distinct_put(d, sqlite3_value_int64(argv[0])))
        d->failed = true;
}

static void distinct_final(sqlite3_context *ctx)
{
    struct distinct *d = sqlite3_aggregate_context(ctx, 0);
    if (!d) {
        sqlite3_result_int64(ctx, 0);
        return;
    }
    if (d->failed)
        sqlite3_result_error_nomem(ctx);
    else
        sqlite3_result_int64(ctx, (sqlite3_int64)d->n);
    free(d->slot);
    free(d->bits);
    d->slot = NULL;
    d->bits = NULL;
}

/*
 * sc_distinct_by(g, x): count(DISTINCT x) for each group g in 0..15 in one
 * pass, as a blob of 16 native int64 counts — what GROUP BY g with
 * sc_distinct(x) gives, without sorting every row by g first (the devices
 * report over a company's month: 1.6 s with the sort at 10M events).
 */
#define DISTINCT_GROUPS 16

struct distinct_by {
    struct distinct set; /* of x * 16 + g */
    int64_t n[DISTINCT_GROUPS];
};

static void distinct_by_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    struct distinct_by *d = sqlite3_aggregate_context(ctx, sizeof(*d));
    if (!d || d->set.failed || sqlite3_value_type(argv[1]) == SQLITE_NULL)
        return;
    int64_t g = sqlite3_value_int64(argv[0]), x = sqlite3_value_int64(argv[1]);
    if (g < 0 || g >= DISTINCT_GROUPS || x < INT64_MIN / DISTINCT_GROUPS ||
        x > INT64_MAX / DISTINCT_GROUPS) {
        sqlite3_result_error(ctx, "sc_distinct_by: group or value out of range", -1);
        d->set.failed = true;
        return;
    }
    size_t before = d->set.n;
    if (!distinct_put(&d->set, x * DISTINCT_GROUPS + g))
        d->set.failed = true;
    else if (d->set.n != before)
        d->n[g]++;
}

static void distinct_by_final(sqlite3_context *ctx)
{
    struct distinct_by *d = sqlite3_aggregate_context(ctx, 0);
    int64_t none[DISTINCT_GROUPS] = {0};
    if (d && d->set.failed)
        sqlite3_result_error_nomem(ctx);
    else
        sqlite3_result_blob(ctx, d ? d->n : none, sizeof(none), SQLITE_TRANSIENT);
    if (d) {
        free(d->set.slot);
        free(d->set.bits);
        d->set.slot = NULL;
        d->set.bits = NULL;
    }
}

/* sc_vid_key(vid): the key visitor id text 'vid' is filed under (sc_visitor_key()). */
static void vid_key_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const unsigned char *vid = sqlite3_value_text(argv[0]);
    if (!vid) {
        sqlite3_result_null(ctx);
        return;
    }
    unsigned char key[SC_VKEY_LEN];
    sc_visitor_key((const char *)vid, key);
    sqlite3_result_blob(ctx, key, sizeof(key), SQLITE_TRANSIENT);
}

/*
 * Before SQLite's first use: no memory statistics, which nothing reads and
 * which cost a process-wide mutex around every allocation SQLite makes (a
 * few per statement on the event writer's hot path).  Too late once SQLite
 * is initialised, which changes nothing.
 */
static void sqlite_setup(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static struct conn *conn_open(const char *path, bool readonly, char *errmsg, size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sqlite_setup);
    struct conn *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(errmsg, errlen, "out of memory");
        return NULL;
    }
    c->base.ops = &sq_db_ops;
    int flags = SQLITE_OPEN_NOMUTEX |
                (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        snprintf(errmsg, errlen, "%s", c->db ? sqlite3_errmsg(c->db) : "out of memory");
        conn_close(c);
        return NULL;
    }
    sqlite3_busy_timeout(c->db, 5000);
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_create_function(c->db, "sc_distinct", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, NULL,
                            distinct_step, distinct_final);
    sqlite3_create_function(c->db, "sc_distinct_by", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                            NULL, distinct_by_step, distinct_by_final);
    sqlite3_create_function(c->db, "sc_vid_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                            vid_key_fn, NULL, NULL);
    return c;
}

static int exec(struct conn *c, const char *q)
{
    return sqlite3_exec(c->db, q, NULL, NULL, NULL);
}

/*
 * The key's destructor: a thread that read from the store is exiting, so its
 * reader leaves the list and closes (a server whose threads come and go keeps
 * no file descriptors or WAL read marks for dead threads).  sq_close()
 * deletes the key first, so threads exiting after it never get here; a thread
 * must not exit while sc_store_close() runs, just as it must not call in.
 */
static void reader_gone(void *arg)
{
    struct conn *c = arg;
    struct sq_store *s = c->owner;
    pthread_mutex_lock(&s->rlock);
    for (struct conn **p = &s->readers; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    pthread_mutex_unlock(&s->rlock);
    conn_close(c);
}

/* Takes the connection for a read: this thread's reader, or the writer (locked). */
static struct conn *rd_begin(struct sq_store *s)
{
    if (s->memory) {
        pthread_mutex_lock(&s->wlock);
        return s->writer;
    }
    struct conn *c = pthread_getspecific(s->key);
    if (c)
        return c;
    char err[256];
    c = conn_open(s->path, true, err, sizeof(err));
    if (!c)
        return NULL;
    if (pthread_setspecific(s->key, c) != 0) {
        conn_close(c);
        return NULL;
    }
    c->owner = s;
    pthread_mutex_lock(&s->rlock);
    c->next = s->readers;
    s->readers = c;
    pthread_mutex_unlock(&s->rlock);
    return c;
}

void sc_sqlite_rd_end(struct sq_store *s, struct conn *c)
{
    if (c)
        conn_stmts_reset(c);
    if (s->memory)
        pthread_mutex_unlock(&s->wlock);
}

/* A read connection with its statement 'id' ready; NULL, and nothing held, when there is none. */
sqlite3_stmt *sc_sqlite_rd_stmt(struct sq_store *s, enum stmt_id id, struct conn **c)
{
    *c = rd_begin(s);
    sqlite3_stmt *st = *c ? sc_sqlite_stmt(*c, id) : NULL;
    if (!st)
        sc_sqlite_rd_end(s, *c);
    return st;
}

struct conn *sc_sqlite_wr_begin(struct sq_store *s)
{
    pthread_mutex_lock(&s->wlock);
    return s->writer;
}

void sc_sqlite_wr_end(struct sq_store *s)
{
    conn_stmts_reset(s->writer);
    pthread_mutex_unlock(&s->wlock);
}

static struct sc_db *sq_db_read(struct sc_store *base, enum sc_err *e)
{
    struct sq_store *s = sq(base);
    struct conn *c = rd_begin(s);
    if (!c) {
        sc_sqlite_rd_end(s, NULL);
        *e = SC_EIO;
        return NULL;
    }
    return &c->base;
}

static void sq_db_read_end(struct sc_store *base, struct sc_db *db)
{
    sc_sqlite_rd_end(sq(base), (struct conn *)db);
}

static struct sc_db *sq_db_write(struct sc_store *base, bool tx, enum sc_err *e)
{
    struct sq_store *s = sq(base);
    struct conn *c = sc_sqlite_wr_begin(s);
    if (tx && (*e = sc_sqlite_run(c, ST_BEGIN)) != SC_OK) {
        sc_sqlite_wr_end(s);
        return NULL;
    }
    return &c->base;
}

static enum sc_err sq_db_write_end(struct sc_store *base, struct sc_db *db, enum sc_err e)
{
    struct sq_store *s = sq(base);
    struct conn *c = (struct conn *)db;
    conn_stmts_reset(c);
    if (!sqlite3_get_autocommit(c->db)) { /* the caller's transaction */
        if (e == SC_OK)
            e = sc_sqlite_run(c, ST_COMMIT);
        if (e != SC_OK)
            sc_sqlite_run(c, ST_ROLLBACK);
    }
    sc_sqlite_wr_end(s);
    return e;
}

enum sc_err sc_sqlite_run(struct conn *c, enum stmt_id id)
{
    sqlite3_stmt *st = sc_sqlite_stmt(c, id);
    if (!st)
        return SC_EDB;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return sc_sqlite_map_rc(rc);
}

/* ---- migrations ------------------------------------------------------------ */

/* PRAGMA user_version of 'c' into '*out'; an SQLite result code. */
static int user_version(struct conn *c, int *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static enum sc_err too_new(int version, char *errmsg, size_t errlen)
{
    snprintf(errmsg, errlen,
             "this database was written by a newer sharecard (schema %d, this build "
             "knows up to %d); upgrade sharecard",
             version, sc_sqlite_nmigrations);
    return SC_EVERSION;
}

/*
 * Brings the writer's file up to the newest schema, one migration per
 * transaction.  The version is read again inside each BEGIN IMMEDIATE, so
 * two processes opening an old file at once apply every step exactly once.
 * A file from a newer build is refused untouched (SC_EVERSION).
 */
static enum sc_err migrate(struct sq_store *s, char *errmsg, size_t errlen)
{
    struct conn *c = s->writer;
    int version = 0, rc = user_version(c, &version);
    if (rc != SQLITE_OK)
        goto fail;
    if (version > sc_sqlite_nmigrations)
        return too_new(version, errmsg, errlen);
    while (version < sc_sqlite_nmigrations) {
        if ((rc = exec(c, "BEGIN IMMEDIATE")) != SQLITE_OK)
            goto fail;
        if ((rc = user_version(c, &version)) != SQLITE_OK) {
            exec(c, "ROLLBACK");
            goto fail;
        }
        if (version >= sc_sqlite_nmigrations) { /* another process got here first */
            exec(c, "ROLLBACK");
            if (version > sc_sqlite_nmigrations)
                return too_new(version, errmsg, errlen);
            break;
        }
        char setv[64];
        snprintf(setv, sizeof(setv), "PRAGMA user_version = %d", version + 1);
        char *err = NULL;
        if ((rc = sqlite3_exec(c->db, sc_sqlite_migrations[version], NULL, NULL, &err)) !=
                SQLITE_OK ||
            (rc = exec(c, setv)) != SQLITE_OK || (rc = exec(c, "COMMIT")) != SQLITE_OK) {
            snprintf(errmsg, errlen, "upgrading the schema to version %d failed: %s", version + 1,
                     err ? err : sqlite3_errmsg(c->db));
            sqlite3_free(err);
            exec(c, "ROLLBACK");
            return sc_sqlite_map_rc(rc) ? sc_sqlite_map_rc(rc) : SC_EDB;
        }
        version++;
    }
    s->version = version;
    return SC_OK;
fail:
    snprintf(errmsg, errlen, "checking the schema failed: %s", sqlite3_errmsg(c->db));
    return sc_sqlite_map_rc(rc) ? sc_sqlite_map_rc(rc) : SC_EDB;
}

/* ---- operations -------------------------------------------------------------- */

static void sq_close(struct sc_store *base)
{
    struct sq_store *s = sq(base);
    if (!s)
        return;
    /* No destructor may run for this store once it is gone: delete the key first. */
    if (s->keyed)
        pthread_key_delete(s->key);
    pthread_mutex_lock(&s->rlock);
    struct conn *c = s->readers;
    while (c) {
        struct conn *next = c->next;
        conn_close(c);
        c = next;
    }
    s->readers = NULL;
    pthread_mutex_unlock(&s->rlock);
    /* Wait for a write in flight on another thread, then fold the WAL back (best effort). */
    pthread_mutex_lock(&s->wlock);
    if (s->writer) {
        if (!s->memory)
            exec(s->writer, "PRAGMA wal_checkpoint(TRUNCATE)");
        conn_close(s->writer);
        s->writer = NULL;
    }
    pthread_mutex_unlock(&s->wlock);
    pthread_mutex_destroy(&s->wlock);
    pthread_mutex_destroy(&s->rlock);
    free(s->agents);
    free(s->vkeys);
    free(s->uniqs);
    free(s->path);
    free(s);
}

static int sq_schema_version(struct sc_store *base)
{
    return sq(base)->version;
}

/* ---- backup -------------------------------------------------------------------- */

#define BACKUP_PAGES 256 /* pages copied per step: 1 MiB at 4 KiB, then the lock is let go */

/* Makes the rename of a file inside the directory of 'path' durable (best effort). */
static void sync_dir_of(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/*
 * A consistent copy of the store into new file 'dest', while the server
 * keeps writing.  The copy is read from one snapshot: a read transaction is
 * opened on a connection of our own first and held across all steps, so
 * the backup API never sees the source change and never restarts (in WAL
 * mode writers carry on beside a reader; checkpoints wait for it).  Pages
 * go over BACKUP_PAGES at a time, 'progress' (may be NULL) told after each
 * step.  The copy is written under 'dest'.partial and moved into place
 * once complete and synced, so 'dest' is either absent or whole; an
 * existing 'dest' is refused rather than overwritten.
 */
static enum sc_err sq_backup(struct sc_store *base, const char *dest,
                             void (*progress)(int64_t done, int64_t total, void *ctx), void *ctx,
                             char *errmsg, size_t errlen)
{
    struct sq_store *s = sq(base);
    struct conn *src = NULL;
    sqlite3 *dst = NULL;
    sqlite3_backup *b = NULL;
    char tmp[4096 + 16];
    bool made = false;
    enum sc_err e = SC_EIO;
    if (s->memory) {
        snprintf(errmsg, errlen, "an in-memory store cannot be backed up");
        return SC_EINVAL;
    }
    if (strlen(dest) > 4096) {
        snprintf(errmsg, errlen, "the backup file's name is too long");
        return SC_EINVAL;
    }
    if (access(dest, F_OK) == 0) {
        snprintf(errmsg, errlen, "%s exists already; give a new file name", dest);
        return SC_ECONFLICT;
    }
    snprintf(tmp, sizeof(tmp), "%s.partial", dest);
    if (unlink(tmp) != 0 && errno != ENOENT) {
        snprintf(errmsg, errlen, "cannot remove %s: %s", tmp, strerror(errno));
        return SC_EIO;
    }
    if (!(src = conn_open(s->path, true, errmsg, errlen)))
        goto out;
    /* The snapshot: BEGIN alone takes no lock; the first read does. */
    if (exec(src, "BEGIN") != SQLITE_OK ||
        exec(src, "SELECT count(*) FROM sqlite_schema") != SQLITE_OK) {
        snprintf(errmsg, errlen, "cannot read the store: %s", sqlite3_errmsg(src->db));
        e = SC_EDB;
        goto out;
    }
    int rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    made = true;
    if (rc != SQLITE_OK) {
        snprintf(errmsg, errlen, "cannot create %s: %s", tmp,
                 dst ? sqlite3_errmsg(dst) : "out of memory");
        goto out;
    }
    if (!(b = sqlite3_backup_init(dst, "main", src->db, "main"))) {
        snprintf(errmsg, errlen, "cannot start the backup: %s", sqlite3_errmsg(dst));
        e = SC_EDB;
        goto out;
    }
    do {
        rc = sqlite3_backup_step(b, BACKUP_PAGES);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            struct timespec pause = {0, 20 * 1000 * 1000};
            nanosleep(&pause, NULL);
            continue;
        }
        if (progress && (rc == SQLITE_OK || rc == SQLITE_DONE)) {
            int total = sqlite3_backup_pagecount(b);
            progress(total - sqlite3_backup_remaining(b), total, ctx);
        }
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    if (rc != SQLITE_DONE) {
        snprintf(errmsg, errlen, "the backup failed: %s", sqlite3_errstr(rc));
        e = sc_sqlite_map_rc(rc) ? sc_sqlite_map_rc(rc) : SC_EDB;
        goto out;
    }
    sqlite3_backup_finish(b);
    b = NULL;
    /* The copy is its own file now: fold any journal and close it before the rename. */
    rc = sqlite3_close(dst);
    dst = NULL;
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (rc != SQLITE_OK || fd < 0 || fsync(fd) != 0) {
        snprintf(errmsg, errlen, "cannot write %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto out;
    }
    close(fd);
    /*
     * Into place without overwriting: link() fails if 'dest' appeared since
     * the check above.  Where the file system has no hard links, rename().
     */
    if (link(tmp, dest) == 0) {
        unlink(tmp);
    } else if (errno == EEXIST) {
        snprintf(errmsg, errlen, "%s exists already; give a new file name", dest);
        e = SC_ECONFLICT;
        goto out;
    } else if (rename(tmp, dest) != 0) {
        snprintf(errmsg, errlen, "cannot rename %s to %s: %s", tmp, dest, strerror(errno));
        goto out;
    }
    made = false;
    sync_dir_of(dest);
    e = SC_OK;
out:
    if (b)
        sqlite3_backup_finish(b);
    if (dst)
        sqlite3_close(dst);
    if (made)
        unlink(tmp);
    if (src) {
        exec(src, "COMMIT");
        conn_close(src);
    }
    return e;
}

static const struct sc_store_ops sqlite_ops = {
    .name = "sqlite",
    .dialect = SC_DIALECT_SQLITE,
    .db_read = sq_db_read,
    .db_read_end = sq_db_read_end,
    .db_write = sq_db_write,
    .db_write_end = sq_db_write_end,
    .visitor_forget = sc_sqlite_visitor_forget,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .events_write = sc_sqlite_events_write,
    .link_create = sc_sqlite_link_create,
    .visitor_reached = sc_sqlite_visitor_reached,
    .visitor_id = sc_sqlite_visitor_id,
    .backup = sq_backup,
};

/* SHARECARD_SYNC=full: fsync every commit (power-cut safe); default normal (crash safe). */
static bool sync_full(void)
{
    const char *v = getenv("SHARECARD_SYNC");
    return v && strcmp(v, "full") == 0;
}

enum sc_err sc_sqlite_open(const char *path, struct sc_store **out, char *errmsg, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(errmsg, errlen, "libsodium could not start");
        return SC_ENOMEM;
    }
    struct sq_store *s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(path))) {
        free(s);
        snprintf(errmsg, errlen, "out of memory");
        return SC_ENOMEM;
    }
    s->base.ops = &sqlite_ops;
    s->agents = calloc(AGENT_SLOTS, sizeof(*s->agents));
    s->vkeys = calloc(VKEY_SLOTS, sizeof(*s->vkeys));
    s->uniqs = calloc(UNIQ_SLOTS, sizeof(*s->uniqs));
    if (!s->agents || !s->vkeys || !s->uniqs) {
        free(s->agents);
        free(s->vkeys);
        free(s->uniqs);
        free(s->path);
        free(s);
        snprintf(errmsg, errlen, "out of memory");
        return SC_ENOMEM;
    }
    s->memory = strcmp(path, ":memory:") == 0 || strncmp(path, "file::memory:", 13) == 0;
    pthread_mutex_init(&s->wlock, NULL);
    pthread_mutex_init(&s->rlock, NULL);
    if (!s->memory) {
        if (pthread_key_create(&s->key, reader_gone) != 0) {
            snprintf(errmsg, errlen, "out of thread keys");
            sq_close(&s->base);
            return SC_ENOMEM;
        }
        s->keyed = true;
    }
    enum sc_err e = SC_EIO;
    s->writer = conn_open(path, false, errmsg, errlen);
    if (!s->writer)
        goto fail;
    /*
     * A file that is not a database fails on its first read: say so plainly.
     * Several processes opening one new file race to switch it to WAL, and
     * SQLite answers the losers "busy" without waiting: they try again.
     */
    int rc;
    for (int tries = 0;
         (rc = exec(s->writer, "PRAGMA journal_mode = WAL")) == SQLITE_BUSY && tries < 250;
         tries++) {
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (rc != SQLITE_OK ||
        (rc = exec(s->writer, sync_full() ? "PRAGMA synchronous = FULL"
                                          : "PRAGMA synchronous = NORMAL")) != SQLITE_OK ||
        (rc = exec(s->writer, "PRAGMA foreign_keys = ON")) != SQLITE_OK ||
        (rc = exec(s->writer, "PRAGMA cache_size = -8192")) != SQLITE_OK || /* 8 MiB */
        /*
         * A checkpoint every 10,000 WAL pages rather than SQLite's 1,000: the
         * writer's batch waits on each (two fsyncs and the copy), and between
         * checkpoints the hot pages (the tables' right edges) are written to
         * the WAL many times but copied once.  The WAL grows to about 40 MiB.
         */
        (rc = exec(s->writer, "PRAGMA wal_autocheckpoint = 10000")) != SQLITE_OK) {
        snprintf(errmsg, errlen, "%s", sqlite3_errmsg(s->writer->db));
        e = sc_sqlite_map_rc(rc) ? sc_sqlite_map_rc(rc) : SC_EDB;
        goto fail;
    }
    e = migrate(s, errmsg, errlen);
    if (e != SC_OK)
        goto fail;
    *out = &s->base;
    return SC_OK;
fail:
    sq_close(&s->base);
    return e;
}
