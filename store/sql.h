/*
 * sql.h — private to store/: the one statement layer both backends speak,
 * so that a query, a report or a referral write is written once, in SQL
 * that SQLite 3.40 and PostgreSQL 15 both accept, over these few calls.
 *
 * A backend hands out connections (struct sc_db: this thread's reader, or
 * the writer inside its transaction) and prepares statements on them.  A
 * statement is a static struct sc_sql beside the function that runs it;
 * each connection prepares it the first time it is used and keeps it,
 * keyed by the slot the statement is given on first use, so a statement is
 * parsed once per connection, as before.
 *
 * SQL text is written once, with '?' (or '?N') placeholders: the
 * PostgreSQL layer rewrites them to $1…$n outside string literals.  Where
 * the dialects genuinely differ a fragment in braces is expanded by each
 * backend (see sc_sql_expand()); where a whole statement differs, the
 * PostgreSQL text sits beside the shared one (SC_SQL2), each such place
 * commented.  Parameters PostgreSQL cannot type by itself (compared with
 * NULL or 0 only) are written CAST(? AS BIGINT) / CAST(? AS TEXT).
 *
 * Bound text and blobs are borrowed until the statement is stepped;
 * column text is valid until the next step or reset.
 */
#ifndef SHARECARD_STORE_SQL_H
#define SHARECARD_STORE_SQL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sharecard/buf.h"
#include "sharecard/err.h"

struct sc_store;

/* One statement, shared by every connection of every store (static storage). */
struct sc_sql {
    const char *text; /* both backends' SQL */
    const char *pg;   /* NULL, or PostgreSQL's own text (a genuine difference) */
    atomic_int slot;  /* 0 until first prepared; then its index + 1 in every cache */
};

#define SC_SQL(t)                                                                                  \
    {                                                                                              \
        (t), NULL, 0                                                                               \
    }
#define SC_SQL2(t, p)                                                                              \
    {                                                                                              \
        (t), (p), 0                                                                                \
    }

enum sc_dialect { SC_DIALECT_SQLITE, SC_DIALECT_PG };

struct sc_stmt;
struct sc_db;

/* What a backend's connections and statements do; every pointer is filled. */
struct sc_db_ops {
    /* Statement 'q' on 'db', cached; NULL with '*e' set when it cannot be prepared. */
    struct sc_stmt *(*prepare)(struct sc_db *db, struct sc_sql *q, enum sc_err *e);
    void (*bind_int64)(struct sc_stmt *st, int i, int64_t v);    /* 'i' from 1 */
    void (*bind_text)(struct sc_stmt *st, int i, const char *v); /* NULL: SQL NULL */
    void (*bind_blob)(struct sc_stmt *st, int i, const void *p, size_t n);
    void (*bind_null)(struct sc_stmt *st, int i);
    /* Runs or advances 'st': '*row' whether a row is ready. */
    enum sc_err (*step)(struct sc_stmt *st, bool *row);
    int64_t (*column_int64)(struct sc_stmt *st, int i);    /* 'i' from 0; NULL reads 0 */
    const char *(*column_text)(struct sc_stmt *st, int i); /* NULL when SQL NULL */
    const void *(*column_blob)(struct sc_stmt *st, int i, size_t *n);
    bool (*column_is_null)(struct sc_stmt *st, int i);
    int64_t (*changes)(struct sc_stmt *st); /* rows the stepped write touched */
    void (*reset)(struct sc_stmt *st);      /* ready to bind again; bindings cleared */
};

struct sc_stmt {
    const struct sc_db_ops *ops; /* first in every backend's statement */
};

struct sc_db {
    const struct sc_db_ops *ops; /* first in every backend's connection */
};

/*
 * A backend's connections, as the shared code asks for them (store_int.h
 * puts these in struct sc_store_ops):
 *   read:      this thread's reader (no transaction); give it back with read_end.
 *   write:     the writer; with 'tx' inside a transaction (BEGIN IMMEDIATE on
 *              SQLite, READ COMMITTED on PostgreSQL); write_end commits when
 *              'e' is SC_OK, else rolls back, and returns the outcome.
 */

/* ---- calls, so that shared code reads as plain C ---------------------------------- */

static inline struct sc_stmt *sc_sql_prepare(struct sc_db *db, struct sc_sql *q, enum sc_err *e)
{
    return db->ops->prepare(db, q, e);
}

static inline void sc_sql_int(struct sc_stmt *st, int i, int64_t v)
{
    st->ops->bind_int64(st, i, v);
}

/* Text as is: "" stays "", NULL is NULL. */
static inline void sc_sql_text(struct sc_stmt *st, int i, const char *v)
{
    st->ops->bind_text(st, i, v);
}

/* Text that is NULL when empty (optional fields). */
static inline void sc_sql_opt(struct sc_stmt *st, int i, const char *v)
{
    st->ops->bind_text(st, i, v && v[0] ? v : NULL);
}

/* An id that is NULL when 0 (optional references). */
static inline void sc_sql_id(struct sc_stmt *st, int i, int64_t v)
{
    if (v)
        st->ops->bind_int64(st, i, v);
    else
        st->ops->bind_null(st, i);
}

static inline void sc_sql_blob(struct sc_stmt *st, int i, const void *p, size_t n)
{
    st->ops->bind_blob(st, i, p, n);
}

static inline void sc_sql_null(struct sc_stmt *st, int i)
{
    st->ops->bind_null(st, i);
}

static inline enum sc_err sc_sql_step(struct sc_stmt *st, bool *row)
{
    return st->ops->step(st, row);
}

static inline int64_t sc_sql_col_int(struct sc_stmt *st, int i)
{
    return st->ops->column_int64(st, i);
}

static inline const char *sc_sql_col_text(struct sc_stmt *st, int i)
{
    return st->ops->column_text(st, i);
}

static inline const void *sc_sql_col_blob(struct sc_stmt *st, int i, size_t *n)
{
    return st->ops->column_blob(st, i, n);
}

static inline bool sc_sql_col_null(struct sc_stmt *st, int i)
{
    return st->ops->column_is_null(st, i);
}

static inline int64_t sc_sql_changes(struct sc_stmt *st)
{
    return st->ops->changes(st);
}

static inline void sc_sql_reset(struct sc_stmt *st)
{
    st->ops->reset(st);
}

/* ---- helpers (sql.c) ---------------------------------------------------------------- */

/*
 * The text of 'q' for 'd' into 'out' (reset first): fragments expanded —
 * {distinct}x) counts distinct integers (SQLite's sc_distinct aggregate,
 * PostgreSQL's count(DISTINCT x)), {collate_c} sorts text as bytes, as
 * SQLite always does, {for_update} locks the rows read (PostgreSQL only;
 * SQLite's writer is alone anyway) — and for PostgreSQL '?' / '?N' as $n
 * outside string literals.  '*nparams' gets the highest parameter number.
 */
enum sc_err sc_sql_expand(const struct sc_sql *q, enum sc_dialect d, struct sc_buf *out,
                          int *nparams);

/* The slot of 'q' (from 0), given on first use; the same in every connection. */
int sc_sql_slot(struct sc_sql *q);

/* Copies column 'i' into 'dst' ('n' bytes; "" for NULL). */
void sc_sql_col_copy(struct sc_stmt *st, int i, char *dst, size_t n);

/*
 * Runs 'st' (bound) to its end and resets it; '*changed' (may be NULL)
 * gets the rows it touched.  Returns the step's error.
 */
enum sc_err sc_sql_exec(struct sc_stmt *st, int64_t *changed);

/*
 * Runs 'st' (bound) for its first row's first column as a number into
 * '*out' (0 without a row) and resets it; '*found' (may be NULL) whether
 * there was a row.
 */
enum sc_err sc_sql_int1(struct sc_stmt *st, int64_t *out, bool *found);

/* Prepares 'q' on 'db', binds 'arg' as ?1 and runs sc_sql_int1(). */
enum sc_err sc_sql_int_of(struct sc_db *db, struct sc_sql *q, int64_t arg, int64_t *out,
                          bool *found);

#endif
