/*
 * ingest.c — the bounded queue and the writer thread of ingest.h.
 *
 * The queue is a ring of fixed-size slots.  The writer takes every slot
 * filled so far (up to BATCH_MAX), classifies and stores them outside the
 * lock while producers keep filling the rest of the ring, then frees the
 * slots and calls each event's callback.  A failed batch is retried once
 * after a short pause (a busy database), then reported as failed; the next
 * batch tries afresh, so the service recovers by itself when the cause
 * (a full disk, say) clears.
 */
#define _GNU_SOURCE /* SCHED_BATCH */
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sharecard/ingest.h"
#include "sharecard/log.h"
#include "sharecard/store.h"
#include "sharecard/uap.h"

#define BATCH_MAX  1024
#define LINGER_MIN 64       /* a batch smaller than this waits a little for company… */
#define LINGER_NS  1000000L /* …at most 1 ms */
#define COMPACT_S  30       /* the compactor looks for a day to compact this often */

struct slot {
    struct sc_event ev;
    sc_ingest_done_fn *done;
    void *ctx;
};

struct sc_ingest {
    struct sc_store *store;
    struct sc_uap *uap;
    pthread_t thread;
    pthread_t compactor; /* turns past days' unique visitors into bitmaps */
    bool compactor_started;
    pthread_cond_t tick; /* wakes the compactor (to stop) */
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    pthread_cond_t more; /* LINGER_MIN events are waiting */
    struct slot *ring;
    size_t cap, head, count; /* slots [head, head + count) are queued */
    bool stopping;
    struct sc_ingest_stats stats;
    /* Writer-only scratch: one batch's classified rows. */
    struct sc_event_row rows[BATCH_MAX];
    struct sc_ua_info agents[BATCH_MAX];
};

static void classify(struct sc_ingest *g, const struct sc_event *ev, struct sc_event_row *row,
                     struct sc_ua_info *agent)
{
    row->ev = ev;
    row->result = SC_OK;
    if (ev->classified) { /* the request thread judged it (sc_ua_judge with our database) */
        row->agent = &ev->agent;
        row->bot_reason = ev->bot_reason;
    } else {
        row->agent = agent;
        row->bot_reason = sc_ua_judge(ev->ua, ev->head, g->uap, agent);
    }
}

/*
 * The compactor: every COMPACT_S (every second while catching up) it asks
 * the store to turn one more past day of unique visitor-days into bitmaps
 * (sc_store_uniques_compact: it reads outside the writer's transaction and
 * writes the few bitmaps in a short one), beside the writer, never in its
 * way for long.  Day numbers come from the wall clock.  Once caught up (at
 * start, and after a day was compacted) it reads the whole company's 30-day
 * dashboard once, so the union of its compacted days is in memory before an
 * admin asks for it (sc_store_company_warm, issue 15).
 */
static void *compactor(void *arg)
{
    struct sc_ingest *g = arg;
    struct timespec at;
    clock_gettime(CLOCK_MONOTONIC, &at);
    bool warm = true; /* the company's dashboard is read ahead at start and after compacting */
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        if (pthread_cond_timedwait(&g->tick, &g->lock, &at) == 0)
            continue; /* woken: look at 'stopping' again */
        pthread_mutex_unlock(&g->lock);
        int done = 0;
        int64_t today = (int64_t)(time(NULL) / 86400);
        enum sc_err e = sc_store_uniques_compact(g->store, today, 1, &done);
        if (e != SC_OK)
            sc_warn("compacting unique visitors: %s", sc_err_str(e));
        if (done > 0) {
            warm = true;
        } else if (warm && e == SC_OK) { /* caught up: the new days' union, ready for an admin */
            warm = false;
            if ((e = sc_store_company_warm(g->store, today)) != SC_OK)
                sc_warn("reading the company's dashboard ahead: %s", sc_err_str(e));
        }
        clock_gettime(CLOCK_MONOTONIC, &at);
        at.tv_sec += done > 0 ? 1 : COMPACT_S;
        pthread_mutex_lock(&g->lock);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

void sc_ingest_thread_batch(void)
{
    const char *v = getenv("SHARECARD_SCHED_BATCH"); /* "0": leave the threads as they are */
    if (v && strcmp(v, "0") == 0)
        return;
    struct sched_param sp = {.sched_priority = 0};
    (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
}

static void *writer(void *arg)
{
    struct sc_ingest *g = arg;
    sc_ingest_thread_batch();
    size_t last = 0; /* events in the previous batch: more than one means overlap */
    pthread_mutex_lock(&g->lock);
    for (;;) {
        while (g->count == 0 && !g->stopping)
            pthread_cond_wait(&g->nonempty, &g->lock);
        if (g->count == 0 && g->stopping)
            break;
        /*
         * Group commit: on a busy server, give the request threads a moment
         * to queue more events so that one transaction carries many.  On
         * two cores the writer would otherwise take each event alone, as
         * soon as it arrives, and spend its time on commits.
         */
        if (g->count < LINGER_MIN && !g->stopping && (last > 1 || g->count > 1)) {
            struct timespec dl;
            clock_gettime(CLOCK_MONOTONIC, &dl);
            dl.tv_nsec += LINGER_NS;
            if (dl.tv_nsec >= 1000000000L) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000L;
            }
            while (g->count < LINGER_MIN && !g->stopping)
                if (pthread_cond_timedwait(&g->more, &g->lock, &dl) != 0)
                    break;
        }
        size_t head = g->head;
        size_t n = g->count < BATCH_MAX ? g->count : BATCH_MAX;
        last = n;
        pthread_mutex_unlock(&g->lock);

        for (size_t i = 0; i < n; i++) {
            struct slot *sl = &g->ring[(head + i) % g->cap];
            classify(g, &sl->ev, &g->rows[i], &g->agents[i]);
        }
        enum sc_err e = sc_store_events_write(g->store, g->rows, n);
        if (e == SC_EBUSY) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
            e = sc_store_events_write(g->store, g->rows, n);
        }
        if (e != SC_OK)
            sc_error("storing %zu events failed: %s; answering 503 for them", n, sc_err_str(e));
        pthread_mutex_lock(&g->lock);
        if (e == SC_OK) {
            g->stats.committed += n;
            g->stats.batches++;
        } else {
            g->stats.failed += n;
        }
        pthread_mutex_unlock(&g->lock);
        /* Callbacks run before the slots are released: producers cannot reuse them yet. */
        for (size_t i = 0; i < n; i++) {
            struct slot *sl = &g->ring[(head + i) % g->cap];
            if (sl->done)
                sl->done(sl->ctx, e == SC_OK ? g->rows[i].result : e);
        }
        pthread_mutex_lock(&g->lock);
        g->head = (head + n) % g->cap;
        g->count -= n;
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

enum sc_err sc_ingest_new(struct sc_store *store, struct sc_uap *uap, size_t capacity,
                          struct sc_ingest **out)
{
    struct sc_ingest *g = calloc(1, sizeof(*g));
    if (!g)
        return SC_ENOMEM;
    g->cap = capacity ? capacity : 4096;
    g->ring = calloc(g->cap, sizeof(*g->ring));
    if (!g->ring) {
        free(g);
        return SC_ENOMEM;
    }
    g->store = store;
    g->uap = uap;
    pthread_mutex_init(&g->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->nonempty, &ca);
    pthread_cond_init(&g->tick, &ca);
    pthread_condattr_destroy(&ca);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->more, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g->thread, NULL, writer, g) != 0) {
        pthread_mutex_destroy(&g->lock);
        pthread_cond_destroy(&g->nonempty);
        pthread_cond_destroy(&g->more);
        pthread_cond_destroy(&g->tick);
        free(g->ring);
        free(g);
        return SC_ENOMEM;
    }
    if (pthread_create(&g->compactor, NULL, compactor, g) != 0) {
        sc_ingest_free(g); /* stops the writer */
        return SC_ENOMEM;
    }
    g->compactor_started = true;
    *out = g;
    return SC_OK;
}

/*
 * 'ev' into a ring slot without the unused tail of its user-agent, most of
 * the event's bytes (issue 15: a request copies ~150 bytes of it, not 512).
 */
static void event_copy(struct sc_event *dst, const struct sc_event *ev)
{
    size_t ua = offsetof(struct sc_event, ua), after = ua + sizeof(ev->ua);
    size_t n = strnlen(ev->ua, sizeof(ev->ua) - 1);
    memcpy(dst, ev, ua);
    memcpy(dst->ua, ev->ua, n);
    dst->ua[n] = '\0';
    memcpy((char *)dst + after, (const char *)ev + after, sizeof(*ev) - after);
}

enum sc_err sc_ingest_submit(struct sc_ingest *g, const struct sc_event *ev,
                             sc_ingest_done_fn *done, void *ctx)
{
    pthread_mutex_lock(&g->lock);
    if (g->stopping) {
        pthread_mutex_unlock(&g->lock);
        return SC_EINVAL;
    }
    if (g->count == g->cap) {
        g->stats.rejected++;
        pthread_mutex_unlock(&g->lock);
        return SC_EBUSY;
    }
    struct slot *sl = &g->ring[(g->head + g->count) % g->cap];
    event_copy(&sl->ev, ev);
    sl->done = done;
    sl->ctx = ctx;
    g->count++;
    if (g->count == 1)
        pthread_cond_signal(&g->nonempty);
    else if (g->count == LINGER_MIN)
        pthread_cond_signal(&g->more);

    pthread_mutex_unlock(&g->lock);
    return SC_OK;
}

struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    enum sc_err result;
};

static void wake(void *ctx, enum sc_err result)
{
    struct waiter *w = ctx;
    pthread_mutex_lock(&w->lock);
    w->done = true;
    w->result = result;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

enum sc_err sc_ingest_write_sync(struct sc_ingest *g, const struct sc_event *ev)
{
    struct waiter w = {.done = false};
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    enum sc_err e = sc_ingest_submit(g, ev, wake, &w);
    if (e == SC_OK) {
        pthread_mutex_lock(&w.lock);
        while (!w.done)
            pthread_cond_wait(&w.cond, &w.lock);
        e = w.result;
        pthread_mutex_unlock(&w.lock);
    }
    pthread_mutex_destroy(&w.lock);
    pthread_cond_destroy(&w.cond);
    return e;
}

void sc_ingest_stats(struct sc_ingest *g, struct sc_ingest_stats *out)
{
    pthread_mutex_lock(&g->lock);
    *out = g->stats;
    out->depth = g->count;
    pthread_mutex_unlock(&g->lock);
}

void sc_ingest_free(struct sc_ingest *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_cond_signal(&g->nonempty);
    pthread_cond_signal(&g->more);
    pthread_cond_signal(&g->tick);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->thread, NULL);
    if (g->compactor_started)
        pthread_join(g->compactor, NULL);
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->nonempty);
    pthread_cond_destroy(&g->more);
    pthread_cond_destroy(&g->tick);
    free(g->ring);
    free(g);
}
