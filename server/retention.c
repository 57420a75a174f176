/*
 * retention.c — raw-event retention (SHARECARD_RETENTION_DAYS, default
 * 400; 0 keeps every event): a thread of its own deletes events older than
 * that, in batches of RETENTION_BATCH through sc_store_events_prune(), with
 * a pause between batches so the event writer (which shares the store's
 * one writer) never waits long.  A round runs shortly after start and then
 * every RETENTION_EVERY seconds.  Dashboards read rollups, which stay, so
 * their figures do not change when old events go.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops_int.h"
#include "sharecard/log.h"
#include "sharecard/store.h"

#define RETENTION_DEFAULT_DAYS 400
#define RETENTION_MAX_DAYS     36500
#define RETENTION_BATCH        1000
#define RETENTION_PAUSE_MS     20   /* between batches: the writer's turn */
#define RETENTION_FIRST_S      2    /* the first round, after start */
#define RETENTION_EVERY        3600 /* then hourly */

struct sc_retention {
    struct sc_store *store;
    int64_t days;
    pthread_t thread;
    atomic_bool stop;
};

enum sc_err sc_retention_days(int64_t *days, const char **why)
{
    const char *v = getenv("SHARECARD_RETENTION_DAYS");
    *days = RETENTION_DEFAULT_DAYS;
    if (!v || !v[0])
        return SC_OK;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    /* Digits only: strtoll() alone would also take " 7" and "+7". */
    if (errno || *end || v[0] < '0' || v[0] > '9' || n > RETENTION_MAX_DAYS) {
        *why = "SHARECARD_RETENTION_DAYS must be a whole number of days from 0 (keep every "
               "event) to 36500";
        return SC_EINVAL;
    }
    *days = n;
    return SC_OK;
}

/*
 * Waits up to 'ms' milliseconds, in steps of NAP_STEP_MS so that a stop is
 * seen soon; true when asked to stop.  Plain sleeps rather than a timed
 * condition wait: libfaketime (which tests use to move the clock) wraps
 * pthread_cond_timedwait in a way ThreadSanitizer cannot follow, and a
 * tenth of a second is soon enough for shutdown.
 */
#define NAP_STEP_MS 100

static bool nap(struct sc_retention *r, int64_t ms)
{
    while (!atomic_load(&r->stop) && ms > 0) {
        int64_t step = ms < NAP_STEP_MS ? ms : NAP_STEP_MS;
        struct timespec ts = {0, (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return atomic_load(&r->stop);
}

/* One round: every event older than the cut-off, batch by batch; false when asked to stop. */
static bool round_once(struct sc_retention *r)
{
    int64_t before = (int64_t)time(NULL) - r->days * 86400, after = 0, total = 0;
    for (;;) {
        int64_t next = after, deleted = 0;
        bool done = true;
        enum sc_err e =
            sc_store_events_prune(r->store, before, after, RETENTION_BATCH, &next, &deleted, &done);
        if (e != SC_OK) {
            sc_warn("retention: pruning old events failed (%s); trying again later", sc_err_str(e));
            break;
        }
        total += deleted;
        after = next;
        if (done)
            break;
        if (nap(r, RETENTION_PAUSE_MS))
            return false;
    }
    if (total > 0)
        sc_info("retention: %lld raw events older than %lld days deleted (rollups kept)",
                (long long)total, (long long)r->days);
    else
        sc_log(SC_LOG_DEBUG, "retention: no raw events older than %lld days", (long long)r->days);
    return true;
}

static void *run(void *arg)
{
    struct sc_retention *r = arg;
    if (nap(r, RETENTION_FIRST_S * 1000))
        return NULL;
    while (round_once(r) && !nap(r, (int64_t)RETENTION_EVERY * 1000))
        ;
    return NULL;
}

enum sc_err sc_retention_start(struct sc_store *store, int64_t days, struct sc_retention **out)
{
    *out = NULL;
    if (days == 0) {
        sc_info("retention: raw events are kept forever (SHARECARD_RETENTION_DAYS=0)");
        return SC_OK; /* no thread */
    }
    struct sc_retention *r = calloc(1, sizeof(*r));
    if (!r)
        return SC_ENOMEM;
    r->store = store;
    r->days = days;
    atomic_init(&r->stop, false);
    if (pthread_create(&r->thread, NULL, run, r) != 0) {
        free(r);
        return SC_ENOMEM;
    }
    *out = r;
    return SC_OK;
}

void sc_retention_stop(struct sc_retention *r)
{
    if (!r)
        return;
    atomic_store(&r->stop, true);
    pthread_join(r->thread, NULL);
    free(r);
}
