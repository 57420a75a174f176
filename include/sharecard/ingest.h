/*
 * ingest.h — the path of every event from a request thread to the disk.
 *
 * Request threads never write to the database: they put events into a
 * bounded in-memory queue and are told, through a callback, once the batch
 * holding their event is durable.  One writer thread takes whatever has
 * queued up, classifies it (bots, browser families), and commits it in one
 * transaction (group commit), so throughput comes from batching rather than
 * from giving up durability.  A full queue or a failing disk is reported,
 * never hidden: the caller answers 503 and nothing is acknowledged that was
 * not committed.
 */
#ifndef SHARECARD_INGEST_H
#define SHARECARD_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "sharecard/err.h"
#include "sharecard/tracker.h"

struct sc_store;
struct sc_uap;
struct sc_ingest;

/* Called once per submitted event, on the writer thread, after its batch committed or failed. */
typedef void sc_ingest_done_fn(void *ctx, enum sc_err result);

/*
 * Starts the writer for 'store' (borrowed; must outlive the ingest) with room
 * for 'capacity' queued events.  'uap' (borrowed, may be NULL) names browser
 * families from uap-core; without it a small built-in table does.
 * Returns new in '*out'; stop with sc_ingest_free().
 */
enum sc_err sc_ingest_new(struct sc_store *store, struct sc_uap *uap, size_t capacity,
                          struct sc_ingest **out);

/*
 * Queues a copy of 'ev'.  On SC_OK, 'done' will be called exactly once with
 * the batch's result; on SC_EBUSY (queue full) or SC_EINVAL (stopping) it
 * will not be called and nothing was queued.
 */
enum sc_err sc_ingest_submit(struct sc_ingest *g, const struct sc_event *ev,
                             sc_ingest_done_fn *done, void *ctx);

/* Queues 'ev' and waits for its batch: for callers that may block (CLI, demo, tests). */
enum sc_err sc_ingest_write_sync(struct sc_ingest *g, const struct sc_event *ev);

struct sc_ingest_stats {
    uint64_t committed; /* events made durable */
    uint64_t batches;   /* transactions committed */
    uint64_t failed;    /* events whose batch failed */
    uint64_t rejected;  /* submits refused: queue full */
    size_t depth;       /* events waiting now */
};
void sc_ingest_stats(struct sc_ingest *g, struct sc_ingest_stats *out);

/*
 * Puts the calling thread in the SCHED_BATCH class: woken, it no longer
 * preempts the thread that woke it.  The event writer and each HTTP thread
 * call it once, so that on a shared core a batch's answers are resumed all
 * at once by the writer and sent in one pass of the HTTP thread, rather
 * than the two threads switching for every answer.  Best effort (a failure
 * changes nothing but speed).  SHARECARD_SCHED_BATCH=0 leaves them alone.
 */
void sc_ingest_thread_batch(void);

/* Commits everything queued, stops the writer and frees 'g'.  NULL is a no-op. */
void sc_ingest_free(struct sc_ingest *g);

#endif
