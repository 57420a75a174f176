/*
 * query.c — how shared store code runs a statement: take a connection from
 * the backend (this thread's reader, or the writer in its transaction),
 * prepare, step, give it back.  Every q_*.c file goes through these, so a
 * query function is its SQL, its bindings and its row.
 */
#include <string.h>

#include "store_int.h"

bool sc_q_read(struct sc_q *r, struct sc_store *s, struct sc_sql *q)
{
    memset(r, 0, sizeof(*r));
    r->s = s;
    r->db = s->ops->db_read(s, &r->e);
    if (!r->db) {
        if (r->e == SC_OK)
            r->e = SC_EIO;
        return false;
    }
    if (!sc_q_prepare(r, q)) {
        s->ops->db_read_end(s, r->db);
        r->db = NULL;
        return false;
    }
    return true;
}

bool sc_q_write(struct sc_q *r, struct sc_store *s, bool tx)
{
    memset(r, 0, sizeof(*r));
    r->s = s;
    r->write = true;
    r->db = s->ops->db_write(s, tx, &r->e);
    if (!r->db && r->e == SC_OK)
        r->e = SC_EIO;
    return r->db != NULL;
}

bool sc_q_prepare(struct sc_q *r, struct sc_sql *q)
{
    if (r->e != SC_OK)
        return false;
    r->st = sc_sql_prepare(r->db, q, &r->e);
    if (!r->st && r->e == SC_OK)
        r->e = SC_EDB;
    return r->st != NULL;
}

bool sc_q_next(struct sc_q *r)
{
    bool row = false;
    if (r->e != SC_OK || !r->st)
        return false;
    r->e = sc_sql_step(r->st, &row);
    return r->e == SC_OK && row;
}

bool sc_q_exec(struct sc_q *r, bool need_row)
{
    if (r->e != SC_OK || !r->st)
        return false;
    int64_t changed = 0;
    r->e = sc_sql_exec(r->st, &changed);
    if (r->e == SC_OK && need_row && changed == 0)
        r->e = SC_ENOTFOUND;
    return r->e == SC_OK;
}

enum sc_err sc_q_end(struct sc_q *r)
{
    if (!r->db)
        return r->e;
    if (r->st)
        sc_sql_reset(r->st);
    if (r->write)
        r->e = r->s->ops->db_write_end(r->s, r->db, r->e);
    else
        r->s->ops->db_read_end(r->s, r->db);
    r->db = NULL;
    r->st = NULL;
    return r->e;
}
