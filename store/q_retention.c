/*
 * q_retention.c — raw-event retention, once for both backends: old events
 * are deleted in small batches by id, each its own short write, so the
 * event writer waits at most one batch.  Rollups (and with them every
 * dashboard figure), sign-ups, orders and the ledger are other tables and
 * stay.
 */
#include "store_int.h"

enum sc_err sc_store_events_prune(struct sc_store *s, int64_t before, int64_t after, int batch,
                                  int64_t *next, int64_t *deleted, bool *done)
{
    /* The batch's id range and whether it reaches events at or past 'before'. */
    static struct sc_sql q_range =
        SC_SQL("SELECT count(*), coalesce(max(id), 0), coalesce(max(ts), 0) FROM (SELECT id, ts "
               "FROM events WHERE id > ?1 ORDER BY id LIMIT ?2) b");
    static struct sc_sql q_last = SC_SQL("SELECT ts FROM events WHERE id = ?1");
    static struct sc_sql q_delete =
        SC_SQL("DELETE FROM events WHERE id > ?1 AND id <= ?2 AND ts < ?3");
    int64_t n = 0, hi = 0, last_ts = 0;
    *deleted = 0;
    *next = after;
    *done = true;
    struct sc_q r;
    if (!sc_q_read(&r, s, &q_range))
        return r.e;
    sc_sql_int(r.st, 1, after);
    sc_sql_int(r.st, 2, batch);
    if (sc_q_next(&r)) {
        n = sc_sql_col_int(r.st, 0);
        hi = sc_sql_col_int(r.st, 1);
    }
    if (n > 0 && sc_q_prepare(&r, &q_last)) {
        sc_sql_int(r.st, 1, hi);
        if (sc_q_next(&r))
            last_ts = sc_sql_col_int(r.st, 0);
    }
    if (sc_q_end(&r) != SC_OK || n == 0)
        return r.e;
    if (!sc_q_write(&r, s, true) || !sc_q_prepare(&r, &q_delete))
        return sc_q_end(&r);
    sc_sql_int(r.st, 1, after);
    sc_sql_int(r.st, 2, hi);
    sc_sql_int(r.st, 3, before);
    int64_t changed = 0;
    r.e = sc_sql_exec(r.st, &changed);
    if (sc_q_end(&r) != SC_OK)
        return r.e;
    *deleted = changed;
    *next = hi;
    /* Ids grow with time: past the first batch that reaches 'before', nothing older is left. */
    *done = n < batch || last_ts >= before;
    return SC_OK;
}
