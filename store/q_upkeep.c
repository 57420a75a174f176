/*
 * q_upkeep.c — the background housekeeping writes of the webhook
 * dispatcher (issue 12), once for both backends:
 *
 *  - rewards whose hold period has passed become approved for good: each
 *    status change and its reward.approved delivery are written in one
 *    transaction, and only a row still pending is changed, so each reward
 *    is announced once (a manager's decision, another instance's sweep or a
 *    second pass find it no longer pending);
 *  - finished deliveries (delivered, failed, cancelled) older than the
 *    keeping period leave the outbox in small batches, each its own short
 *    write, so the event writer waits at most one batch.
 *
 * Readers already show a pending row past its hold as approved; the sweep
 * makes that durable and tells the webhooks.  The pruner's statement can be
 * read by name (sc_store_sql_text), so its plan test checks the text that runs.
 */
#include <string.h>

#include "store_int.h"

enum sc_err sc_store_rewards_approve_due(struct sc_store *s, int64_t now, int batch,
                                         int64_t *approved)
{
    /* Oldest first; another instance's rows in progress skipped (PostgreSQL). */
    static struct sc_sql q_due =
        SC_SQL("SELECT id FROM rewards WHERE status = 'pending' AND approve_after <= ?1 "
               "ORDER BY approve_after, id LIMIT ?2{skip_locked}");
    /* The decision's time is the moment the hold ended, not the moment we noticed. */
    static struct sc_sql q_approve =
        SC_SQL("UPDATE rewards SET status = 'approved', decided_at = approve_after "
               "WHERE id = ?1 AND status = 'pending' AND approve_after <= ?2");
    enum { BATCH_MAX = 256 };
    int64_t ids[BATCH_MAX];
    int n = 0;
    *approved = 0;
    if (batch < 1 || batch > BATCH_MAX)
        batch = BATCH_MAX;
    struct sc_q r;
    if (!sc_q_write(&r, s, true) || !sc_q_prepare(&r, &q_due))
        return sc_q_end(&r);
    sc_sql_int(r.st, 1, now);
    sc_sql_int(r.st, 2, batch);
    while (n < batch && sc_q_next(&r))
        ids[n++] = sc_sql_col_int(r.st, 0);
    for (int i = 0; i < n && r.e == SC_OK; i++) {
        if (!sc_q_prepare(&r, &q_approve))
            break;
        sc_sql_int(r.st, 1, ids[i]);
        sc_sql_int(r.st, 2, now);
        int64_t changed = 0;
        r.e = sc_sql_exec(r.st, &changed);
        sc_sql_reset(r.st);
        if (r.e == SC_OK && changed == 1) {
            r.e = sc_q_outbox_reward(r.db, ids[i]);
            if (r.e == SC_OK)
                (*approved)++;
        }
    }
    if (sc_q_end(&r) != SC_OK)
        *approved = 0; /* rolled back: nothing changed */
    return r.e;
}

/* Oldest first, in the order of the partial index webhook_outbox_done, whose WHERE this
 * repeats word for word (SQLite uses a partial index only then): the batch reads the rows
 * it deletes, not the outbox.  ?1: before, ?2: batch (test_outbox_prune_plan reads its plan
 * through sc_store_sql_text).  PostgreSQL's text differs: given "id IN (SELECT ...)" its
 * planner may join the batch to a sequential scan of the whole outbox (it did at 20,000
 * rows), while "id = ANY(ARRAY(SELECT ...))" runs the batch's SELECT once and deletes
 * through the primary key. */
#define PRUNE_BATCH                                                                                \
    "SELECT id FROM webhook_outbox WHERE created_at < ?1 AND status IN ('delivered', 'failed', "   \
    "'cancelled') ORDER BY created_at, id LIMIT ?2"
static struct sc_sql q_outbox_prune =
    SC_SQL2("DELETE FROM webhook_outbox WHERE id IN (" PRUNE_BATCH ")",
            "DELETE FROM webhook_outbox WHERE id = ANY(ARRAY(" PRUNE_BATCH "))");

enum sc_err sc_store_outbox_prune(struct sc_store *s, int64_t before, int batch, int64_t *deleted,
                                  bool *done)
{
    *deleted = 0;
    *done = true;
    struct sc_q r;
    if (sc_q_write(&r, s, true) && sc_q_prepare(&r, &q_outbox_prune)) {
        sc_sql_int(r.st, 1, before);
        sc_sql_int(r.st, 2, batch);
        r.e = sc_sql_exec(r.st, deleted);
    }
    if (sc_q_end(&r) != SC_OK) {
        *deleted = 0;
        return r.e;
    }
    *done = *deleted < batch;
    return SC_OK;
}

/* ---- statements by name, for the tests that read their plans ----------------------------- */

static const struct {
    const char *name;
    struct sc_sql *q;
} named[] = {
    {"outbox_prune", &q_outbox_prune},
};

enum sc_err sc_store_sql_text(struct sc_store *s, const char *name, struct sc_buf *out)
{
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (strcmp(named[i].name, name) == 0) {
            int nparams = 0;
            return sc_sql_expand(named[i].q, s->ops->dialect, out, &nparams);
        }
    return SC_ENOTFOUND;
}
