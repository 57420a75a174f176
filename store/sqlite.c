/*
 * sqlite.c — the embedded SQLite backend.
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
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "store_int.h"

enum stmt_id {
    ST_LINK_INSERT,
    ST_VKEY_INSERT,
    ST_VISITOR_NAME,
    ST_COUNTER_GET,
    ST_COUNTER_SET,
    ST_COUNTER_BUMP,
    ST_VISITOR_ID,
    ST_AGENT_GET,
    ST_AGENT_INSERT,
    ST_EVENT_INSERT,
    ST_ROLLUP_UPSERT,
    ST_UNIQUE_INSERT,
    ST_VISITOR_REACHED,
    ST_ERASE_VKEY,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_COUNT
};

static const char *const sql[ST_COUNT] = {
    [ST_LINK_INSERT] = "INSERT INTO links (code, card_id, channel, owner_member_id, "
                       "owner_customer_id, parent_link_id, created_at, owner_visitor_id) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_VKEY_INSERT] = "INSERT INTO visitor_keys (key, id) VALUES (?, ?) ON CONFLICT DO NOTHING",
    [ST_VISITOR_NAME] = "INSERT OR IGNORE INTO visitors (id, vid, first_seen, last_seen) "
                        "VALUES (?1, ?2, ?3, ?3)",
    [ST_COUNTER_GET] = "SELECT value FROM counters WHERE name = ?",
    [ST_COUNTER_SET] = "INSERT INTO counters (name, value) VALUES (?1, ?2) "
                       "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    [ST_COUNTER_BUMP] = "INSERT INTO counters (name, value) VALUES (?1, 1) "
                        "ON CONFLICT (name) DO UPDATE SET value = value + 1",
    [ST_VISITOR_ID] = "SELECT id FROM visitor_keys WHERE key = ?",
    [ST_AGENT_GET] = "SELECT id FROM agents WHERE ua = ?",
    [ST_AGENT_INSERT] = "INSERT INTO agents (ua, browser, os, device, bot_reason) "
                        "VALUES (?, ?, ?, ?, ?)",
    [ST_EVENT_INSERT] = "INSERT INTO events (ts, type, card_id, link_id, visitor_id, agent_id, "
                        "ip, referrer, bot, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_ROLLUP_UPSERT] = "INSERT INTO rollups (day, card_id, link_id, type, humans, bots) "
                         "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                         "humans = humans + excluded.humans, bots = bots + excluded.bots",
    [ST_UNIQUE_INSERT] = "INSERT OR IGNORE INTO rollup_uniques (card_id, day, visitor_id, "
                         "device) VALUES (?, ?, ?, ?)",
    [ST_VISITOR_REACHED] = "SELECT 1 FROM visitor_keys k JOIN events e ON e.visitor_id = k.id "
                           "WHERE k.key = ?1 AND e.card_id = ?2 AND e.type IN (0, 1, 2) "
                           "AND (?3 = 0 OR e.link_id = ?3) LIMIT 1",
    [ST_ERASE_VKEY] = "DELETE FROM visitor_keys WHERE key = "
                      "sc_vid_key((SELECT vid FROM visitors WHERE id = ?1))",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

struct sq_store;

struct sq_stmt;

struct conn {
    struct sc_db base; /* first: the statement layer's connection */
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT]; /* the hot path's own statements */
    struct sq_stmt **q;         /* the statement layer's, by slot */
    size_t nq;
    struct sq_store *owner; /* a reader's store, for its thread-exit destructor */
    struct conn *next;      /* in the store's list of readers */
};

#define AGENT_SLOTS 1024

struct agent_slot {
    int64_t id; /* 0: empty */
    char ua[SC_UA_MAX];
};

/*
 * The writer's memory of what it stored lately, so that a visitor's next
 * events (the view after the scan, the clicks, the dwell) skip statements:
 * which key is which visitor id, and which (card, day, visitor) already has
 * its unique row.  Direct-mapped: a slot holds the last entry hashed to it.
 */
#define VKEY_SLOTS 65536
#define UNIQ_SLOTS 65536

struct vkey_slot {
    unsigned char key[SC_VKEY_LEN];
    int64_t id; /* 0: empty */
};

struct uniq_slot {
    int64_t card_id, day, visitor_id; /* visitor_id 0: empty */
};

struct sq_store {
    struct sc_store base; /* first: the public face */
    char *path;
    bool memory;
    int version;
    pthread_mutex_t wlock; /* the writer connection is one thread's at a time */
    struct conn *writer;
    pthread_key_t key;     /* this thread's reader; closed when the thread exits */
    bool keyed;            /* 'key' was created (file stores only) */
    pthread_mutex_t rlock; /* guards 'readers' */
    struct conn *readers;
    struct agent_slot *agents; /* writer's cache of user-agent ids, under 'wlock' */
    /* The visitor id counter within the writer's open transaction, under 'wlock'. */
    int64_t vid_last; /* the last id handed out */
    bool vid_loaded;  /* vid_last was read in this transaction */
    bool vid_dirty;   /* and moved on: write it back before COMMIT */
    /* Caches of committed rows (cleared when a transaction rolls back), under 'wlock'. */
    struct vkey_slot *vkeys;
    struct uniq_slot *uniqs;
    int64_t erasures; /* the store's erasure count when 'vkeys' was last known good */
};

static struct sq_store *sq(struct sc_store *s)
{
    return (struct sq_store *)s;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static enum sc_err map_rc(int rc)
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
static sqlite3_stmt *stmt(struct conn *c, enum stmt_id id)
{
    if (!c->st[id]) {
        if (sqlite3_prepare_v3(c->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->st[id], NULL) !=
            SQLITE_OK)
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
            *e = map_rc(rc) ? map_rc(rc) : SC_EDB;
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
    return map_rc(rc) ? map_rc(rc) : SC_EDB;
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

static struct conn *conn_open(const char *path, bool readonly, char *errmsg, size_t errlen)
{
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

static void rd_end(struct sq_store *s, struct conn *c)
{
    if (c)
        conn_stmts_reset(c);
    if (s->memory)
        pthread_mutex_unlock(&s->wlock);
}

/* A read connection with its statement 'id' ready; NULL, and nothing held, when there is none. */
static sqlite3_stmt *rd_stmt(struct sq_store *s, enum stmt_id id, struct conn **c)
{
    *c = rd_begin(s);
    sqlite3_stmt *st = *c ? stmt(*c, id) : NULL;
    if (!st)
        rd_end(s, *c);
    return st;
}

static struct conn *wr_begin(struct sq_store *s)
{
    pthread_mutex_lock(&s->wlock);
    return s->writer;
}

static void wr_end(struct sq_store *s)
{
    conn_stmts_reset(s->writer);
    pthread_mutex_unlock(&s->wlock);
}

static struct sc_db *sq_db_read(struct sc_store *base, enum sc_err *e)
{
    struct sq_store *s = sq(base);
    struct conn *c = rd_begin(s);
    if (!c) {
        rd_end(s, NULL);
        *e = SC_EIO;
        return NULL;
    }
    return &c->base;
}

static void sq_db_read_end(struct sc_store *base, struct sc_db *db)
{
    rd_end(sq(base), (struct conn *)db);
}

static enum sc_err run_simple(struct conn *c, enum stmt_id id);

static struct sc_db *sq_db_write(struct sc_store *base, bool tx, enum sc_err *e)
{
    struct sq_store *s = sq(base);
    struct conn *c = wr_begin(s);
    if (tx && (*e = run_simple(c, ST_BEGIN)) != SC_OK) {
        wr_end(s);
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
            e = run_simple(c, ST_COMMIT);
        if (e != SC_OK)
            run_simple(c, ST_ROLLBACK);
    }
    wr_end(s);
    return e;
}

static enum sc_err run_simple(struct conn *c, enum stmt_id id)
{
    sqlite3_stmt *st = stmt(c, id);
    if (!st)
        return SC_EDB;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return map_rc(rc);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v && v[0])
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
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
            return map_rc(rc) ? map_rc(rc) : SC_EDB;
        }
        version++;
    }
    s->version = version;
    return SC_OK;
fail:
    snprintf(errmsg, errlen, "checking the schema failed: %s", sqlite3_errmsg(c->db));
    return map_rc(rc) ? map_rc(rc) : SC_EDB;
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

/* ---- sign-ups, conversions and the ledger ----------------------------------------- */

/* Steps a statement that returns no rows. */
static enum sc_err step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SC_OK : map_rc(rc) ? map_rc(rc) : SC_EDB;
}

/*
 * An erasure cuts visitor 'visitor''s key from their browser: the key row
 * goes, and the erasure count moves, so every process's writer drops its
 * key cache at its next write (caches_check).
 */
static enum sc_err sq_visitor_forget(struct sc_db *db, int64_t visitor)
{
    struct conn *c = (struct conn *)db;
    sqlite3_stmt *st = stmt(c, ST_ERASE_VKEY);
    if (!st)
        return SC_EDB;
    sqlite3_bind_int64(st, 1, visitor);
    enum sc_err e = step_done(st);
    if (e == SC_OK && (st = stmt(c, ST_COUNTER_BUMP)) != NULL) {
        sqlite3_bind_text(st, 1, "erasures", -1, SQLITE_STATIC);
        e = step_done(st);
    }
    return e;
}

/* ---- events ------------------------------------------------------------------- */

/* A write transaction begins: the visitor counter is read afresh when first needed. */
static void visitors_begin(struct sq_store *s)
{
    s->vid_loaded = false;
    s->vid_dirty = false;
}

/* The store's counter 'name' (a row of 'counters') into '*out'; 0 when it has no row yet. */
static enum sc_err counter_get(struct conn *c, const char *name, int64_t *out)
{
    sqlite3_stmt *st = stmt(c, ST_COUNTER_GET);
    if (!st)
        return SC_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return map_rc(rc);
}

/* Before COMMIT: the counter's new value joins the transaction. */
static enum sc_err visitors_flush(struct sq_store *s, struct conn *c)
{
    if (!s->vid_dirty)
        return SC_OK;
    sqlite3_stmt *st = stmt(c, ST_COUNTER_SET);
    if (!st)
        return SC_EDB;
    sqlite3_bind_text(st, 1, "visitor", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, s->vid_last);
    enum sc_err e = step_done(st);
    if (e == SC_OK)
        s->vid_dirty = false;
    return e;
}

/*
 * The id of visitor 'vid', filed under its key (sc_visitor_key()); a new
 * visitor gets the next id of the counter, which visitors_flush() stores
 * with the transaction.  Most visitors are new (a scan is often someone's
 * only visit), so this is one lookup and one insert into one B-tree.
 */
static int64_t visitor_of(struct sq_store *s, struct conn *c, const char *vid, enum sc_err *e)
{
    unsigned char key[SC_VKEY_LEN];
    sc_visitor_key(vid, key);
    uint32_t h;
    memcpy(&h, key + SC_VKEY_LEN - sizeof(h), sizeof(h)); /* hash bytes, in every key */
    struct vkey_slot *slot = &s->vkeys[h % VKEY_SLOTS];
    if (slot->id && memcmp(slot->key, key, SC_VKEY_LEN) == 0)
        return slot->id;
    sqlite3_stmt *st;
    int rc;
    if (!s->vid_loaded) {
        if ((*e = counter_get(c, "visitor", &s->vid_last)) != SC_OK)
            return 0;
        s->vid_loaded = true;
    }
    /* Most visitors are new (a scan is often someone's only visit): try the insert first. */
    if (!(st = stmt(c, ST_VKEY_INSERT))) {
        *e = SC_EDB;
        return 0;
    }
    sqlite3_bind_blob(st, 1, key, sizeof(key), SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, s->vid_last + 1);
    if ((*e = step_done(st)) != SC_OK)
        return 0;
    if (sqlite3_changes(c->db) == 1) {
        s->vid_dirty = true;
        memcpy(slot->key, key, SC_VKEY_LEN);
        slot->id = ++s->vid_last;
        return slot->id;
    }
    if (!(st = stmt(c, ST_VISITOR_ID))) {
        *e = SC_EDB;
        return 0;
    }
    sqlite3_bind_blob(st, 1, key, sizeof(key), SQLITE_STATIC);
    rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (!id)
        *e = rc == SQLITE_ROW || rc == SQLITE_DONE ? SC_EDB : map_rc(rc);
    memcpy(slot->key, key, SC_VKEY_LEN);
    slot->id = id;
    return id;
}

/* A write transaction failed: what the caches learnt in it may not exist. */
static void caches_forget(struct sq_store *s)
{
    memset(s->vkeys, 0, VKEY_SLOTS * sizeof(*s->vkeys));
    memset(s->uniqs, 0, UNIQ_SLOTS * sizeof(*s->uniqs));
    memset(s->agents, 0, AGENT_SLOTS * sizeof(*s->agents));
}

/*
 * Inside a write transaction: an erasure (by this process or another on the
 * same file) deletes a visitor's key, so the key cache is trusted only while
 * the store's erasure count is the one it was filled under.
 */
static enum sc_err caches_check(struct sq_store *s, struct conn *c)
{
    int64_t n = 0;
    enum sc_err e = counter_get(c, "erasures", &n);
    if (e != SC_OK)
        return e;
    if (n != s->erasures) {
        memset(s->vkeys, 0, VKEY_SLOTS * sizeof(*s->vkeys));
        s->erasures = n;
    }
    return SC_OK;
}

/* Keeps the text of visitor 'vid' (id 'id'): it owns a link or is a customer, and is read back. */
static enum sc_err visitor_name(struct conn *c, int64_t id, const char *vid, int64_t ts)
{
    sqlite3_stmt *st = stmt(c, ST_VISITOR_NAME);
    if (!st)
        return SC_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, vid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ts);
    return step_done(st);
}

static size_t agent_slot_of(const char *ua)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)ua; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h % AGENT_SLOTS);
}

/* The id of user-agent 'row->ev->ua', stored on first sight. */
static int64_t agent_id(struct sq_store *s, struct conn *c, const struct sc_event_row *row,
                        enum sc_err *e)
{
    const char *ua = row->ev->ua;
    struct agent_slot *slot = &s->agents[agent_slot_of(ua)];
    if (slot->id && strcmp(slot->ua, ua) == 0)
        return slot->id;
    sqlite3_stmt *st = stmt(c, ST_AGENT_GET);
    if (!st) {
        *e = SC_EDB;
        return 0;
    }
    sqlite3_bind_text(st, 1, ua, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        *e = map_rc(rc);
        return 0;
    }
    if (!id) {
        st = stmt(c, ST_AGENT_INSERT);
        if (!st) {
            *e = SC_EDB;
            return 0;
        }
        sqlite3_bind_text(st, 1, ua, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, row->agent->browser, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, row->agent->os, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, row->agent->device, -1, SQLITE_STATIC);
        bind_text(st, 5, row->bot_reason);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            *e = map_rc(rc);
            return 0;
        }
        id = sqlite3_last_insert_rowid(c->db);
    }
    slot->id = id;
    snprintf(slot->ua, sizeof(slot->ua), "%s", ua);
    return id;
}

/*
 * Binds an anonymised address compactly: an IPv4 /24 as the integer of its
 * first three octets (four bytes on disk instead of up to fifteen), anything
 * else (an IPv6 /48) as text, none as NULL.
 */
static void bind_ip(sqlite3_stmt *st, int i, const char *ip)
{
    struct in_addr a;
    if (inet_pton(AF_INET, ip, &a) == 1) {
        uint32_t v = ntohl(a.s_addr);
        sqlite3_bind_int64(st, i, (sqlite3_int64)(v >> 8));
    } else {
        bind_text(st, i, ip);
    }
}

/* A batch's contribution to one rollup row (type >= 0) or one unique row (type -1). */
struct tally {
    int64_t card_id, day, link_id, visitor_id;
    int type;
    int device; /* unique rows: the visitor's enum sc_device */
    int64_t humans, bots;
};

/* Stores one event; appends its rollup and unique-visitor tallies to 'tl' (room for two). */
static enum sc_err write_event(struct sq_store *s, struct conn *c, struct sc_event_row *row,
                               struct tally *tl, size_t *ntl)
{
    const struct sc_event *ev = row->ev;
    enum sc_err e = SC_OK;
    int64_t vid = ev->visitor[0] ? visitor_of(s, c, ev->visitor, &e) : 0;
    if (e != SC_OK)
        return e;
    int64_t aid = agent_id(s, c, row, &e);
    if (e != SC_OK)
        return e;
    bool bot = row->bot_reason != NULL;
    int64_t link_id = ev->link_id;
    int64_t card_id = ev->card_id;
    if (ev->type == SC_EV_SIGNUP && ev->signup) {
        if ((e = sc_q_signup_write(&c->base, row, vid, &link_id)) != SC_OK || row->result != SC_OK)
            return e;
        if (vid && (e = visitor_name(c, vid, ev->visitor, ev->ts)) != SC_OK)
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
        if (!cust && !ev->owner_member_id && vid) {
            /* A visitor who is a customer shares as that customer. */
            if ((e = sc_q_customer_of_visitor(&c->base, vid, &cust)) != SC_OK)
                return e;
        }
        sqlite3_stmt *ls = stmt(c, ST_LINK_INSERT);
        if (!ls)
            return SC_EDB;
        sqlite3_bind_text(ls, 1, ev->new_code, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ls, 2, card_id);
        sqlite3_bind_int(ls, 3, ev->new_channel);
        if (ev->owner_member_id)
            sqlite3_bind_int64(ls, 4, ev->owner_member_id);
        if (cust)
            sqlite3_bind_int64(ls, 5, cust);
        if (ev->new_parent)
            sqlite3_bind_int64(ls, 6, ev->new_parent);
        sqlite3_bind_int64(ls, 7, ev->ts);
        if (vid && !cust && !ev->owner_member_id) {
            sqlite3_bind_int64(ls, 8, vid);
            if ((e = visitor_name(c, vid, ev->visitor, ev->ts)) != SC_OK) {
                sqlite3_reset(ls);
                return e;
            }
        }
        int lrc = sqlite3_step(ls);
        sqlite3_reset(ls);
        if (lrc != SQLITE_DONE)
            return map_rc(lrc) ? map_rc(lrc) : SC_EDB;
        link_id = sqlite3_last_insert_rowid(c->db);
    }
    sqlite3_stmt *st = stmt(c, ST_EVENT_INSERT);
    if (!st)
        return SC_EDB;
    sqlite3_bind_int64(st, 1, ev->ts);
    sqlite3_bind_int(st, 2, (int)ev->type);
    sqlite3_bind_int64(st, 3, card_id);
    if (link_id)
        sqlite3_bind_int64(st, 4, link_id);
    if (vid)
        sqlite3_bind_int64(st, 5, vid);
    sqlite3_bind_int64(st, 6, aid);
    bind_ip(st, 7, ev->ip);
    bind_text(st, 8, ev->referrer_host);
    sqlite3_bind_int(st, 9, sc_bot_code(row->bot_reason));
    if (ev->type == SC_EV_DWELL)
        sqlite3_bind_int(st, 10, ev->value);
    else if (ev->type == SC_EV_CLICK)
        sqlite3_bind_int(st, 10, (int)ev->action);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return map_rc(rc) ? map_rc(rc) : SC_EDB;

    /* Rollups and unique rows are counted here and written once per key at the batch's end. */
    struct tally *t = &tl[(*ntl)++];
    *t = (struct tally){.card_id = card_id,
                        .day = ev->ts / 86400,
                        .link_id = link_id,
                        .type = (int)ev->type,
                        .visitor_id = 0,
                        .humans = bot ? 0 : 1,
                        .bots = bot ? 1 : 0};
    if (!bot && vid &&
        (ev->type == SC_EV_SCAN || ev->type == SC_EV_OPEN || ev->type == SC_EV_VIEW)) {
        *(t + 1) =
            (struct tally){.card_id = card_id,
                           .day = ev->ts / 86400,
                           .visitor_id = vid,
                           .type = -1,
                           .device = (int)sc_device_of(row->agent ? row->agent->device : NULL)};
        (*ntl)++;
    }
    return SC_OK;
}

/* Orders tallies by rollup key (unique rows, type -1, by visitor): the tables' own order. */
static int tally_cmp(const void *a, const void *b)
{
    const struct tally *x = a, *y = b;
    if ((x->type < 0) != (y->type < 0))
        return x->type < 0 ? 1 : -1;
#define CMP(f)                                                                                     \
    if (x->f != y->f)                                                                              \
        return x->f < y->f ? -1 : 1;
    CMP(card_id)
    CMP(day)
    CMP(link_id)
    CMP(type)
    CMP(visitor_id)
#undef CMP
    return 0;
}

/*
 * Writes a batch's tallies 'tl' (n of them; sorted here): one rollup upsert
 * per (day, card, link, type) and one unique row per (card, day, visitor),
 * in key order, instead of a statement per event.
 */
static enum sc_err write_tallies(struct sq_store *s, struct conn *c, struct tally *tl, size_t n)
{
    qsort(tl, n, sizeof(*tl), tally_cmp);
    for (size_t i = 0; i < n;) {
        struct tally sum = tl[i];
        size_t j = i + 1;
        for (; j < n && tally_cmp(&tl[j], &sum) == 0; j++) {
            sum.humans += tl[j].humans;
            sum.bots += tl[j].bots;
        }
        i = j;
        bool uniq = sum.type < 0;
        struct uniq_slot *u = NULL;
        if (uniq) { /* a visitor's second event of the day on a card: its row is there */
            uint64_t h = ((uint64_t)sum.visitor_id * 0x9E3779B97F4A7C15ULL) ^
                         ((uint64_t)sum.card_id * 0xC2B2AE3D27D4EB4FULL) ^ (uint64_t)sum.day;
            u = &s->uniqs[(h >> 32) % UNIQ_SLOTS];
            if (u->visitor_id == sum.visitor_id && u->card_id == sum.card_id && u->day == sum.day)
                continue;
        }
        sqlite3_stmt *st = stmt(c, uniq ? ST_UNIQUE_INSERT : ST_ROLLUP_UPSERT);
        if (!st)
            return SC_EDB;
        if (uniq) {
            sqlite3_bind_int64(st, 1, sum.card_id);
            sqlite3_bind_int64(st, 2, sum.day);
            sqlite3_bind_int64(st, 3, sum.visitor_id);
            sqlite3_bind_int(st, 4, sum.device);
        } else {
            sqlite3_bind_int64(st, 1, sum.day);
            sqlite3_bind_int64(st, 2, sum.card_id);
            sqlite3_bind_int64(st, 3, sum.link_id);
            sqlite3_bind_int(st, 4, sum.type);
            sqlite3_bind_int64(st, 5, sum.humans);
            sqlite3_bind_int64(st, 6, sum.bots);
        }
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return map_rc(rc) ? map_rc(rc) : SC_EDB;
        if (u)
            *u = (struct uniq_slot){sum.card_id, sum.day, sum.visitor_id};
    }
    return SC_OK;
}

static enum sc_err sq_events_write(struct sc_store *base, struct sc_event_row *rows, size_t n)
{
    struct sq_store *s = sq(base);
    struct tally *tl = malloc((2 * n + 1) * sizeof(*tl));
    if (!tl)
        return SC_ENOMEM;
    size_t ntl = 0;
    struct conn *c = wr_begin(s);
    enum sc_err e = run_simple(c, ST_BEGIN);
    visitors_begin(s);
    if (e == SC_OK)
        e = caches_check(s, c);
    for (size_t i = 0; e == SC_OK && i < n; i++) {
        rows[i].result = SC_OK;
        e = write_event(s, c, &rows[i], tl, &ntl);
    }
    if (e == SC_OK)
        e = write_tallies(s, c, tl, ntl);
    free(tl);
    if (e == SC_OK)
        e = visitors_flush(s, c);
    if (e == SC_OK)
        e = run_simple(c, ST_COMMIT);
    if (e != SC_OK) {
        run_simple(c, ST_ROLLBACK);
        /* Ids and rows cached during the failed transaction do not exist. */
        caches_forget(s);
    }
    wr_end(s);
    return e;
}

static enum sc_err sq_link_create(struct sc_store *base, struct sc_link *l)
{
    struct sq_store *s = sq(base);
    struct conn *c = wr_begin(s);
    enum sc_err e = run_simple(c, ST_BEGIN);
    visitors_begin(s);
    if (e == SC_OK)
        e = caches_check(s, c);
    int64_t ts = now_s();
    int64_t vid = 0;
    if (e == SC_OK && l->owner_visitor[0]) {
        vid = visitor_of(s, c, l->owner_visitor, &e);
        if (e == SC_OK)
            e = visitor_name(c, vid, l->owner_visitor, ts);
    }
    if (e == SC_OK)
        e = sc_q_link_insert(&c->base, l->card_id, l->channel, l->owner_member_id,
                             l->owner_customer_id, vid, l->parent_link_id, l->code, &l->id);
    if (e == SC_OK)
        e = visitors_flush(s, c);
    if (e == SC_OK)
        e = run_simple(c, ST_COMMIT);
    if (e != SC_OK) {
        run_simple(c, ST_ROLLBACK);
        caches_forget(s);
    } else {
        l->created_at = ts;
    }
    wr_end(s);
    return e;
}

static enum sc_err sq_visitor_reached(struct sc_store *base, const char *vid, int64_t card_id,
                                      int64_t link_id, bool *out)
{
    struct sq_store *s = sq(base);
    struct conn *c;
    sqlite3_stmt *st = rd_stmt(s, ST_VISITOR_REACHED, &c);
    if (!st)
        return SC_EDB;
    unsigned char key[SC_VKEY_LEN];
    sc_visitor_key(vid, key);
    sqlite3_bind_blob(st, 1, key, sizeof(key), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, card_id);
    sqlite3_bind_int64(st, 3, link_id);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW;
    rd_end(s, c);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SC_OK : map_rc(rc);
}

static enum sc_err sq_visitor_id(struct sc_store *base, const char *vid, int64_t *out)
{
    struct sq_store *s = sq(base);
    struct conn *c;
    sqlite3_stmt *st = rd_stmt(s, ST_VISITOR_ID, &c);
    if (!st)
        return SC_EDB;
    unsigned char key[SC_VKEY_LEN];
    sc_visitor_key(vid, key);
    sqlite3_bind_blob(st, 1, key, sizeof(key), SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    rd_end(s, c);
    return rc == SQLITE_ROW ? SC_OK : rc == SQLITE_DONE ? SC_ENOTFOUND : map_rc(rc);
}

/* ---- accounts and reports ---------------------------------------------------------- */

/* ---- management and more reports ---------------------------------------------------- */

static const struct sc_store_ops sqlite_ops = {
    .name = "sqlite",
    .dialect = SC_DIALECT_SQLITE,
    .db_read = sq_db_read,
    .db_read_end = sq_db_read_end,
    .db_write = sq_db_write,
    .db_write_end = sq_db_write_end,
    .visitor_forget = sq_visitor_forget,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .events_write = sq_events_write,
    .link_create = sq_link_create,
    .visitor_reached = sq_visitor_reached,
    .visitor_id = sq_visitor_id,
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
        (rc = exec(s->writer, "PRAGMA cache_size = -16384")) != SQLITE_OK) { /* 16 MiB */
        snprintf(errmsg, errlen, "%s", sqlite3_errmsg(s->writer->db));
        e = map_rc(rc) ? map_rc(rc) : SC_EDB;
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
