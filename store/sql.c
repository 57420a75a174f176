/*
 * sql.c — the statement layer's shared helpers: turning one SQL text into
 * each dialect's, handing statements their cache slots, and the small
 * run-a-statement helpers every query file uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql.h"

/* A fragment where the dialects genuinely differ: its name and each backend's text. */
struct fragment {
    const char *name; /* between the braces */
    const char *sqlite, *pg;
};

static const struct fragment fragments[] = {
    /* Distinct integers: SQLite's hash-set/bitmap aggregate (sqlite_conn.c), six times faster
       than its sort for count(DISTINCT); PostgreSQL's own count(DISTINCT). */
    {"distinct", "sc_distinct(", "count(DISTINCT "},
    /* Text sorted as bytes, whatever the PostgreSQL database's collation (SQLite's default). */
    {"collate_c", "", " COLLATE \"C\""},
    /* Rows read for a change: PostgreSQL locks them against another instance; SQLite has
       one writer, and no FOR UPDATE. */
    {"for_update", "", " FOR UPDATE"},
    /* Rows claimed for work: PostgreSQL passes over those another instance holds locked. */
    {"skip_locked", "", " FOR UPDATE SKIP LOCKED"},
};

enum sc_err sc_sql_expand(const struct sc_sql *q, enum sc_dialect d, struct sc_buf *out,
                          int *nparams)
{
    const char *p = d == SC_DIALECT_PG && q->pg ? q->pg : q->text;
    int next = 0, max = 0;
    sc_buf_reset(out);
    while (*p) {
        if (*p == '\'' || *p == '"') { /* a literal or quoted name: copied as it is */
            const char *end = strchr(p + 1, *p);
            size_t n = end ? (size_t)(end - p) + 1 : strlen(p);
            sc_buf_append(out, p, n);
            p += n;
            continue;
        }
        if (*p == '?') {
            int n = 0;
            const char *s = p + 1;
            while (*s >= '0' && *s <= '9')
                n = n * 10 + (*s++ - '0');
            if (s == p + 1)
                n = ++next;
            else
                next = n;
            if (n > max)
                max = n;
            if (d == SC_DIALECT_PG)
                sc_buf_printf(out, "$%d", n);
            else
                sc_buf_append(out, p, (size_t)(s - p));
            p = s;
            continue;
        }
        if (*p == '{') {
            const char *end = strchr(p, '}');
            const struct fragment *f = NULL;
            for (size_t i = 0; end && i < sizeof(fragments) / sizeof(fragments[0]); i++)
                if (strlen(fragments[i].name) == (size_t)(end - p - 1) &&
                    strncmp(fragments[i].name, p + 1, (size_t)(end - p - 1)) == 0)
                    f = &fragments[i];
            if (!f)
                return SC_EINVAL; /* a typo in our own SQL */
            sc_buf_puts(out, d == SC_DIALECT_PG ? f->pg : f->sqlite);
            p = end + 1;
            continue;
        }
        sc_buf_putc(out, *p++);
    }
    if (!out->len)
        sc_buf_putc(out, ' ');
    *nparams = max;
    return sc_buf_error(out);
}

int sc_sql_slot(struct sc_sql *q)
{
    static atomic_int last;
    int slot = atomic_load_explicit(&q->slot, memory_order_acquire);
    if (slot)
        return slot - 1;
    int mine = atomic_fetch_add(&last, 1) + 1;
    int expected = 0;
    /* Two threads may race on a first use: one number wins, the other is never used. */
    if (!atomic_compare_exchange_strong(&q->slot, &expected, mine))
        mine = expected;
    return mine - 1;
}

void sc_sql_col_copy(struct sc_stmt *st, int i, char *dst, size_t n)
{
    const char *t = sc_sql_col_text(st, i);
    snprintf(dst, n, "%s", t ? t : "");
}

enum sc_err sc_sql_exec(struct sc_stmt *st, int64_t *changed)
{
    bool row = false;
    enum sc_err e = sc_sql_step(st, &row);
    while (e == SC_OK && row)
        e = sc_sql_step(st, &row);
    if (changed)
        *changed = e == SC_OK ? sc_sql_changes(st) : 0;
    sc_sql_reset(st);
    return e;
}

enum sc_err sc_sql_int1(struct sc_stmt *st, int64_t *out, bool *found)
{
    bool row = false;
    enum sc_err e = sc_sql_step(st, &row);
    *out = e == SC_OK && row ? sc_sql_col_int(st, 0) : 0;
    if (found)
        *found = e == SC_OK && row;
    sc_sql_reset(st);
    return e;
}

enum sc_err sc_sql_int_of(struct sc_db *db, struct sc_sql *q, int64_t arg, int64_t *out,
                          bool *found)
{
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, q, &e);
    if (!st)
        return e;
    sc_sql_int(st, 1, arg);
    return sc_sql_int1(st, out, found);
}
