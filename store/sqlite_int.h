/*
 * sqlite_int.h — private to the SQLite backend: its store and connection
 * structs, the hot path's own statements, and what sqlite_conn.c (open,
 * connections, migrations, the statement layer, custom functions) and
 * sqlite_events.c (the batched event writes, visitor keys) share.
 */
#ifndef SHARECARD_SQLITE_INT_H
#define SHARECARD_SQLITE_INT_H

#include <pthread.h>

#include <sqlite3.h>

#include "store_int.h"

/* The backend's own statements (sqlite_events.c's table): the hot path and visitor keys. */
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

extern const char *const sc_sqlite_sql[ST_COUNT];

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

static inline struct sq_store *sq(struct sc_store *s)
{
    return (struct sq_store *)s;
}

/* SQLite's result code 'rc' as ours. */
enum sc_err sc_sqlite_map_rc(int rc);
/* The prepared statement 'id' on 'c', reset and ready to bind; NULL if it cannot be prepared. */
sqlite3_stmt *sc_sqlite_stmt(struct conn *c, enum stmt_id id);
/* Runs statement 'id' (no parameters, no rows) on 'c'. */
enum sc_err sc_sqlite_run(struct conn *c, enum stmt_id id);
/* Steps a statement that returns no rows, and resets it. */
enum sc_err sc_sqlite_step_done(sqlite3_stmt *st);
/* The writer, locked (give it back with sc_sqlite_wr_end()). */
struct conn *sc_sqlite_wr_begin(struct sq_store *s);
void sc_sqlite_wr_end(struct sq_store *s);
/* This thread's reader with statement 'id' ready into '*c'; NULL (nothing held) if none. */
sqlite3_stmt *sc_sqlite_rd_stmt(struct sq_store *s, enum stmt_id id, struct conn **c);
void sc_sqlite_rd_end(struct sq_store *s, struct conn *c);

/* The hot path and visitor filing (sqlite_events.c), in the backend's function table. */
enum sc_err sc_sqlite_events_write(struct sc_store *base, struct sc_event_row *rows, size_t n);
enum sc_err sc_sqlite_link_create(struct sc_store *base, struct sc_link *l);
enum sc_err sc_sqlite_visitor_reached(struct sc_store *base, const char *vid, int64_t card_id,
                                      int64_t link_id, bool *out);
enum sc_err sc_sqlite_visitor_id(struct sc_store *base, const char *vid, int64_t *out);
enum sc_err sc_sqlite_visitor_forget(struct sc_db *db, int64_t visitor);

#endif
