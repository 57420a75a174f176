/*
 * pg_int.h — private to the PostgreSQL backend: its store and connection
 * structs, the hot path's own statements, parameters as libpq takes them,
 * and what pg_conn.c (connections, reconnects, migrations, the statement
 * layer on libpq) and pg_events.c (the batched event writes) share.
 */
#ifndef SHARECARD_PG_INT_H
#define SHARECARD_PG_INT_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "sharecard/buf.h"
#include "store_int.h"

/* The backend's own statements (pg_events.c's table): the hot path and visitors. */
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

extern const char *const sc_pg_sql[ST_COUNT];

#define MAXP 20

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

static inline struct pg_store *pgs(struct sc_store *s)
{
    return (struct pg_store *)s;
}

/* A statement's parameters, all as text but a blob; numbers live in 'num'. */
struct params {
    int n;
    const char *v[MAXP];
    int len[MAXP];
    int fmt[MAXP];
    char num[MAXP][24];
};

static inline void p_null(struct params *p)
{
    p->v[p->n] = NULL;
    p->len[p->n] = 0;
    p->fmt[p->n] = 0;
    p->n++;
}

static inline void p_i64(struct params *p, int64_t x)
{
    snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)x);
    p->v[p->n] = p->num[p->n];
    p->len[p->n] = 0;
    p->fmt[p->n] = 0;
    p->n++;
}

/* An id, or NULL for 0 (sql.h's sc_sql_id). */
static inline void p_id(struct params *p, int64_t x)
{
    if (x)
        p_i64(p, x);
    else
        p_null(p);
}

/* A string as is; NULL stays NULL. */
static inline void p_str(struct params *p, const char *s)
{
    p->v[p->n] = s;
    p->len[p->n] = 0;
    p->fmt[p->n] = 0;
    p->n++;
}

/* A string, or NULL when it is empty (sql.h's sc_sql_opt). */
static inline void p_text(struct params *p, const char *s)
{
    p_str(p, s && s[0] ? s : NULL);
}

static inline int64_t gi(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* This thread's connection, made on first use and reset if it broke; NULL with '*e' set. */
struct pconn *sc_pg_conn(struct pg_store *s, enum sc_err *e);
/*
 * Runs statement 'id' with 'p' (may be NULL) on 'c'.  Returns the result
 * (free with PQclear()), or NULL with '*e' set.  A read outside a
 * transaction whose connection broke runs once more on a fresh one.
 */
PGresult *sc_pg_run(struct pconn *c, enum stmt_id id, const struct params *p, enum sc_err *e);
/* Runs a statement that returns no rows; '*changed' (may be NULL) gets the rows it touched. */
enum sc_err sc_pg_run_done(struct pconn *c, enum stmt_id id, const struct params *p,
                           int64_t *changed);
/* The first column of the first row as a number (0 when no row); '*found' whether there was one. */
enum sc_err sc_pg_run_int(struct pconn *c, enum stmt_id id, const struct params *p, int64_t *out,
                          bool *found);
/* A READ COMMITTED transaction on 'c': begin, commit, roll back. */
enum sc_err sc_pg_begin(struct pconn *c);
enum sc_err sc_pg_commit(struct pconn *c);
void sc_pg_rollback(struct pconn *c);

/* The hot path and visitor filing (pg_events.c), in the backend's function table. */
enum sc_err sc_pg_events_write(struct sc_store *base, struct sc_event_row *rows, size_t n);
enum sc_err sc_pg_link_create(struct sc_store *base, struct sc_link *l);
enum sc_err sc_pg_visitor_reached(struct sc_store *base, const char *vid, int64_t card_id,
                                  int64_t link_id, bool *out);
enum sc_err sc_pg_visitor_id(struct sc_store *base, const char *vid, int64_t *out);
enum sc_err sc_pg_visitor_forget(struct sc_db *db, int64_t visitor);

#endif
