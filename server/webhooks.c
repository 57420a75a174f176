/*
 * webhooks.c — the webhook dispatcher: a thread that claims due deliveries
 * from the store's outbox (a lease, so two instances never attempt the same
 * row and a dead instance's rows come back), hands them to webhook/'s
 * bounded sender, and records each attempt from the sender's threads: a 2xx
 * ends it, anything else schedules the next attempt with
 * sc_webhook_next_attempt() (same webhook-id) until it gives up and marks
 * the row failed.  Nothing here runs on an HTTP thread; the outbox, not
 * memory, is the queue, so a crash loses nothing that was committed.
 *
 * The same thread does the upkeep every UPKEEP_EVERY_S of wall-clock time
 * (and at start): pending rewards whose hold has ended become approved for
 * good, each with its reward.approved delivery (sc_store_rewards_approve_due),
 * and finished deliveries older than SHARECARD_WEBHOOK_KEEP_DAYS (default 30;
 * 0 keeps them) leave the outbox in small batches (sc_store_outbox_prune).
 * Wall-clock time, so a test that moves the clock sees both happen.
 *
 * SHARECARD_WEBHOOK_RETRY_TEST_S (tests only) replaces each retry's delay
 * with that many seconds; the number of attempts stays the schedule's.  The
 * real schedule is tested with a moved clock (test_webhooks_clock.py); the
 * hook stays for the tests that ThreadSanitizer must check, which it cannot
 * do in a process under libfaketime.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "sharecard/escape.h"
#include "sharecard/log.h"
#include "sharecard/store.h"
#include "sharecard/webhook.h"
#include "notify_int.h"
#include "webhooks_int.h"

#define SEND_THREADS 4
#define CLAIM_MAX    8   /* attempts claimed and not yet recorded, at most */
#define QUEUE_MAX    16  /* the sender's queue: room for every claimed attempt */
#define LEASE_S      120 /* a claim outlives the longest wait for a thread plus an attempt */
#define POLL_MS      500 /* how often due rows are looked for when there is nothing to do */

#define UPKEEP_EVERY_S    60  /* rewards approved by time, old deliveries pruned */
#define UPKEEP_BATCH      200 /* rows per transaction */
#define UPKEEP_ROUNDS     20  /* batches per upkeep at most: deliveries wait no longer */
#define KEEP_DAYS_DEFAULT 30
#define KEEP_DAYS_MAX     36500

struct sc_dispatch {
    struct sc_store *store;
    struct sc_webhook_sender *sender;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* stop, or an attempt ended (room to claim); CLOCK_MONOTONIC */
    bool stop;         /* under 'mu' */
    bool allow_private;
    int64_t retry_test_s;  /* 0: the real schedule */
    int64_t keep_days;     /* finished deliveries kept this long; 0: for ever */
    int64_t upkeep_at;     /* wall-clock time of the last upkeep; 0: never */
    char instance[40];     /* this process's claim tokens begin with it */
    atomic_ullong seq;     /* claims made */
    atomic_int claimed;    /* attempts claimed and not yet recorded */
    atomic_ullong gave_up; /* deliveries marked failed */
    atomic_ullong store_errors;
};

/* A claimed delivery, copied out of the store's row. */
struct job {
    struct sc_dispatch *d;
    int64_t id;
    int attempts;
    int64_t event_ts;
    char token[64];
    char *url, *secret, *msg_id, *type, *data; /* one allocation each */
    struct job *next;
    /* Notifications (issue 18): the target's kind ("webhook" for a webhook), and the other
     * rows of the same target sent in this one message (owned by the first). */
    int64_t webhook_id;
    char *kind;
    struct job *batch;
};

static void job_free(struct job *j)
{
    if (!j)
        return;
    free(j->url);
    free(j->secret);
    free(j->msg_id);
    free(j->type);
    free(j->data);
    free(j->kind);
    job_free(j->batch);
    free(j);
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

struct claim {
    struct sc_dispatch *d;
    const char *token;
    struct job *head, **tail; /* in the order claimed: oldest due first */
    int n;
};

static int collect(const struct sc_outbox_row *o, void *ctx)
{
    struct claim *c = ctx;
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        return 0; /* its claim runs out and it is taken again */
    j->d = c->d;
    j->id = o->id;
    j->attempts = o->attempts;
    j->event_ts = o->event_ts;
    snprintf(j->token, sizeof(j->token), "%s", c->token);
    j->url = dup_or_empty(o->url);
    j->secret = dup_or_empty(o->secret);
    j->msg_id = dup_or_empty(o->msg_id);
    j->type = dup_or_empty(o->type);
    j->data = dup_or_empty(o->data);
    j->webhook_id = o->webhook_id;
    j->kind = strdup(o->kind ? o->kind : "webhook");
    if (!j->url || !j->secret || !j->msg_id || !j->type || !j->data || !j->kind) {
        job_free(j);
        return 0;
    }
    *c->tail = j;
    c->tail = &j->next;
    c->n++;
    return 0;
}

/* Wakes the loop: an attempt ended, so there is room to claim more. */
static void wake(struct sc_dispatch *d)
{
    pthread_mutex_lock(&d->mu);
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* Records attempt 'j' with result 'r' (or, cancelled, gives the claim back). */
static void record(struct job *j, const struct sc_webhook_result *r)
{
    struct sc_dispatch *d = j->d;
    enum sc_err e;
    if (r->cancelled) {
        e = sc_store_outbox_release(d->store, j->id, j->token);
    } else {
        int64_t now = (int64_t)time(NULL), when = now;
        struct sc_outbox_result res = {.status = "delivered",
                                       .next_at = now,
                                       .at = now,
                                       .http_status = r->status,
                                       .latency_ms = r->latency_ms,
                                       .error = r->error,
                                       .excerpt = r->excerpt};
        if (!r->ok) {
            if (sc_webhook_next_attempt(j->attempts + 1, now, &when)) {
                res.status = "pending";
                res.next_at = d->retry_test_s ? now + d->retry_test_s : when;
            } else {
                res.status = "failed";
                atomic_fetch_add(&d->gave_up, 1);
            }
            sc_warn("webhook %s (%s) to %s, attempt %d: %s; %s", j->msg_id, j->type, j->url,
                    j->attempts + 1, r->error[0] ? r->error : "not a 2xx answer",
                    strcmp(res.status, "failed") == 0 ? "given up" : "will retry");
        }
        e = sc_store_outbox_attempt(d->store, j->id, j->token, &res);
        if (e == SC_ENOTFOUND) /* our lease ran out and another took the row: theirs now */
            e = SC_OK;
    }
    if (e != SC_OK) {
        /* The claim stays until its lease ends; the row is attempted again then. */
        atomic_fetch_add(&d->store_errors, 1);
        sc_warn("webhook %s: the attempt could not be recorded: %s", j->msg_id, sc_err_str(e));
    }
    atomic_fetch_sub(&d->claimed, 1);
    wake(d);
}

static void on_done(const struct sc_webhook_delivery *dl, const struct sc_webhook_result *r,
                    void *ctx)
{
    (void)dl;
    struct job *j = ctx;
    record(j, r);
    for (struct job *b = j->batch; b; b = b->batch)
        record(b, r); /* one message carried them all: the same outcome for each */
    job_free(j);
}

/* Hands claimed job 'j' to the sender (which then owns it), or records why it cannot go. */
static void submit(struct sc_dispatch *d, struct job *j)
{
    char *body = NULL;
    size_t len = 0;
    struct sc_webhook_result r;
    memset(&r, 0, sizeof(r));
    enum sc_err e = sc_webhook_body(j->type, j->event_ts, j->data, &body, &len);
    if (e == SC_OK) {
        struct sc_webhook_delivery dl = {.url = j->url,
                                         .secret = j->secret,
                                         .id = j->msg_id,
                                         .body = body,
                                         .body_len = len,
                                         .attempt = j->attempts,
                                         .allow_private = d->allow_private};
        e = sc_webhook_sender_submit(d->sender, &dl, on_done, j);
        free(body);
        if (e == SC_OK)
            return; /* on_done records it and frees 'j' */
    }
    if (e == SC_EBUSY || e == SC_ENOMEM) {
        r.cancelled = true; /* no room now: give the claim back, try again soon */
    } else {
        snprintf(r.error, sizeof(r.error), "cannot be attempted: %s", sc_err_str(e));
    }
    record(j, &r);
    job_free(j);
}

/* Rewards approved by the end of their hold, then old finished deliveries; bounded work. */
static void upkeep(struct sc_dispatch *d, int64_t now)
{
    int64_t total = 0, n = 0, deleted = 0;
    bool done = true;
    enum sc_err e = SC_OK;
    for (int i = 0; i < UPKEEP_ROUNDS; i++) {
        if ((e = sc_store_rewards_approve_due(d->store, now, UPKEEP_BATCH, &n)) != SC_OK)
            break;
        total += n;
        if (n < UPKEEP_BATCH)
            break; /* none left due */
    }
    if (e != SC_OK)
        sc_warn("rewards past their hold could not be approved (%s); trying again later",
                sc_err_str(e));
    else if (total > 0)
        sc_info("%lld rewards approved at the end of their hold", (long long)total);
    if (d->keep_days == 0)
        return;
    total = 0;
    for (int i = 0; i < UPKEEP_ROUNDS; i++) {
        e = sc_store_outbox_prune(d->store, now - d->keep_days * 86400, UPKEEP_BATCH, &deleted,
                                  &done);
        if (e != SC_OK) {
            sc_warn("old webhook deliveries could not be pruned (%s); trying again later",
                    sc_err_str(e));
            break;
        }
        total += deleted;
        if (done)
            break;
    }
    if (total > 0)
        sc_info("webhooks: %lld finished deliveries older than %lld days deleted", (long long)total,
                (long long)d->keep_days);
}

/*
 * Hands the notification rows of one target ('j' and those chained on
 * j->batch) to the sender as one message, or puts them back for later
 * (quiet hours, the robot's rate limit), or records why they cannot go.
 */
static void submit_notify(struct sc_dispatch *d, struct job *j)
{
    struct sc_notify_item items[SC_NOTIFY_BATCH_MAX];
    struct sc_notify_plan p;
    struct sc_webhook_result r;
    size_t n = 0;
    int64_t now = (int64_t)time(NULL);
    memset(&r, 0, sizeof(r));
    for (struct job *b = j; b && n < SC_NOTIFY_BATCH_MAX; b = b->batch)
        items[n++] = (struct sc_notify_item){b->type, b->data};
    enum sc_err e = sc_notify_prepare(d->store, j->webhook_id, j->kind, j->url, j->secret, items, n,
                                      now, &p, r.error, sizeof(r.error));
    if (e == SC_OK && p.hold_until > 0) {
        for (struct job *b = j; b; b = b->batch) {
            if (sc_store_outbox_defer(d->store, b->id, b->token, p.hold_until) != SC_OK)
                atomic_fetch_add(&d->store_errors, 1);
            atomic_fetch_sub(&d->claimed, 1);
        }
        job_free(j);
        wake(d);
        return;
    }
    if (e == SC_OK) {
        p.d.id = j->msg_id;
        p.d.attempt = j->attempts;
        p.d.allow_private = d->allow_private;
        e = sc_webhook_sender_submit(d->sender, &p.d, on_done, j);
        sc_notify_plan_free(&p);
        if (e == SC_OK)
            return; /* on_done records every row and frees them */
        if (e == SC_EBUSY || e == SC_ENOMEM)
            r.cancelled = true;
        else
            snprintf(r.error, sizeof(r.error), "cannot be attempted: %s", sc_err_str(e));
    }
    on_done(NULL, &r, j);
}

/* Chains the notification rows of one target after the first of them (at most a batch). */
static void batch_by_target(struct claim *c)
{
    for (struct job *j = c->head; j; j = j->next) {
        if (strcmp(j->kind, "webhook") == 0)
            continue;
        struct job **pp = &j->next;
        size_t n = 1;
        while (*pp) {
            struct job *k = *pp;
            if (k->webhook_id == j->webhook_id && n < SC_NOTIFY_BATCH_MAX &&
                sc_notify_any_hour(k->type) == sc_notify_any_hour(j->type)) {
                *pp = k->next;
                k->next = NULL;
                struct job **tail = &j->batch;
                while (*tail)
                    tail = &(*tail)->batch;
                *tail = k;
                n++;
            } else {
                pp = &k->next;
            }
        }
    }
}

static void *loop(void *arg)
{
    struct sc_dispatch *d = arg;
    pthread_mutex_lock(&d->mu);
    while (!d->stop) {
        pthread_mutex_unlock(&d->mu);
        int64_t wall = (int64_t)time(NULL);
        if (d->upkeep_at == 0 || wall - d->upkeep_at >= UPKEEP_EVERY_S || wall < d->upkeep_at) {
            d->upkeep_at = wall;
            upkeep(d, wall);
        }
        int room = CLAIM_MAX - atomic_load(&d->claimed);
        struct claim c = {d, NULL, NULL, NULL, 0};
        c.tail = &c.head;
        if (room > 0) {
            char token[64];
            snprintf(token, sizeof(token), "%s:%llu", d->instance,
                     (unsigned long long)atomic_fetch_add(&d->seq, 1));
            c.token = token;
            int64_t now = (int64_t)time(NULL);
            atomic_fetch_add(&d->claimed, room); /* reserved; what is not claimed comes back */
            enum sc_err e =
                sc_store_outbox_claim(d->store, token, now, now + LEASE_S, room, collect, &c);
            atomic_fetch_sub(&d->claimed, room - c.n);
            if (e != SC_OK) {
                atomic_fetch_add(&d->store_errors, 1);
                sc_warn("webhooks: due deliveries could not be claimed: %s", sc_err_str(e));
            }
            batch_by_target(&c);
            while (c.head) {
                struct job *j = c.head;
                c.head = j->next;
                j->next = NULL;
                if (strcmp(j->kind, "webhook") == 0)
                    submit(d, j);
                else
                    submit_notify(d, j);
            }
            sc_notify_tick(d->store, (int64_t)time(NULL));
        }
        pthread_mutex_lock(&d->mu);
        if (d->stop || (room > 0 && c.n == room))
            continue; /* a full claim: there may be more due at once */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts); /* a pause, not a wall-clock time */
        ts.tv_nsec += (long)POLL_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
        }
        pthread_cond_timedwait(&d->cv, &d->mu, &ts);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

enum sc_err sc_webhook_keep_days(int64_t *days, const char **why)
{
    const char *v = getenv("SHARECARD_WEBHOOK_KEEP_DAYS");
    *days = KEEP_DAYS_DEFAULT;
    *why = NULL;
    if (!v || !v[0])
        return SC_OK;
    /* Digits only: strtoll() alone would also take " 5", "+5" and "-0". */
    if (strlen(v) > 5 || strspn(v, "0123456789") != strlen(v) || atoll(v) > KEEP_DAYS_MAX) {
        *why = "SHARECARD_WEBHOOK_KEEP_DAYS must be a whole number of days from 0 (keep every "
               "delivery) to 36500";
        return SC_EINVAL;
    }
    *days = atoll(v);
    return SC_OK;
}

enum sc_err sc_dispatch_new(struct sc_store *store, struct sc_dispatch **out)
{
    *out = NULL;
    struct sc_dispatch *d = calloc(1, sizeof(*d));
    if (!d)
        return SC_ENOMEM;
    d->store = store;
    d->allow_private = sc_webhook_allow_private_env();
    const char *why = NULL;
    if (sc_webhook_keep_days(&d->keep_days, &why) != SC_OK) {
        free(d);
        return SC_EINVAL;
    }
    const char *t = getenv("SHARECARD_WEBHOOK_RETRY_TEST_S");
    if (t && t[0]) {
        char *end;
        errno = 0;
        long v = strtol(t, &end, 10);
        if (errno || *end || v < 1 || v > 3600)
            sc_warn("SHARECARD_WEBHOOK_RETRY_TEST_S=%s ignored: 1..3600 seconds", t);
        else
            d->retry_test_s = v;
    }
    unsigned char rnd[8];
    char hex[17];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
    snprintf(d->instance, sizeof(d->instance), "%ld-%s", (long)getpid(), hex);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, &ca);
    pthread_condattr_destroy(&ca);
    enum sc_err e = sc_webhook_sender_new(SEND_THREADS, QUEUE_MAX, &d->sender);
    if (e != SC_OK) {
        sc_dispatch_free(d);
        return e;
    }
    if (pthread_create(&d->thread, NULL, loop, d) != 0) {
        sc_dispatch_free(d);
        return SC_EIO;
    }
    d->started = true;
    *out = d;
    return SC_OK;
}

void sc_dispatch_free(struct sc_dispatch *d)
{
    if (!d)
        return;
    if (d->started) {
        pthread_mutex_lock(&d->mu);
        d->stop = true;
        pthread_cond_signal(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->thread, NULL);
    }
    /* Attempts still queued or running end as cancelled: their claims are given back. */
    sc_webhook_sender_free(d->sender, false);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

void sc_dispatch_metrics(struct sc_dispatch *d, struct sc_store *store, struct sc_buf *b)
{
    struct sc_webhook_stats st;
    memset(&st, 0, sizeof(st));
    if (d)
        sc_webhook_sender_stats(d->sender, &st);
    sc_buf_printf(
        b,
        "# HELP sharecard_webhook_attempts_total Webhook delivery attempts by outcome.\n"
        "# TYPE sharecard_webhook_attempts_total counter\n"
        "sharecard_webhook_attempts_total{outcome=\"delivered\"} %llu\n"
        "sharecard_webhook_attempts_total{outcome=\"failed\"} %llu\n"
        "# HELP sharecard_webhook_retries_total Attempts that were retries.\n"
        "# TYPE sharecard_webhook_retries_total counter\n"
        "sharecard_webhook_retries_total %llu\n"
        "# HELP sharecard_webhook_given_up_total Deliveries marked failed after the last retry.\n"
        "# TYPE sharecard_webhook_given_up_total counter\n"
        "sharecard_webhook_given_up_total %llu\n"
        "# HELP sharecard_webhook_store_errors_total Claims or attempts the store could not "
        "record.\n"
        "# TYPE sharecard_webhook_store_errors_total counter\n"
        "sharecard_webhook_store_errors_total %llu\n"
        "# HELP sharecard_webhook_in_flight Attempts running now.\n"
        "# TYPE sharecard_webhook_in_flight gauge\n"
        "sharecard_webhook_in_flight %zu\n"
        "# HELP sharecard_webhook_queue_depth Attempts waiting for a sender thread.\n"
        "# TYPE sharecard_webhook_queue_depth gauge\n"
        "sharecard_webhook_queue_depth %zu\n",
        (unsigned long long)st.delivered, (unsigned long long)st.failed,
        (unsigned long long)st.retried, d ? (unsigned long long)atomic_load(&d->gave_up) : 0ULL,
        d ? (unsigned long long)atomic_load(&d->store_errors) : 0ULL, st.in_flight, st.queued);
    int64_t pending = 0, delivered = 0, failed = 0;
    if (sc_store_outbox_counts(store, &pending, &delivered, &failed) == SC_OK)
        sc_buf_printf(b,
                      "# HELP sharecard_webhook_outbox Deliveries in the outbox by state.\n"
                      "# TYPE sharecard_webhook_outbox gauge\n"
                      "sharecard_webhook_outbox{state=\"pending\"} %lld\n"
                      "sharecard_webhook_outbox{state=\"delivered\"} %lld\n"
                      "sharecard_webhook_outbox{state=\"failed\"} %lld\n",
                      (long long)pending, (long long)delivered, (long long)failed);
}

enum sc_err sc_webhook_events_parse(const char *in, char *out, size_t size, const char **why)
{
    static const char *const known[] = {"signup.created", "conversion.created", "reward.approved",
                                        "lead.hot"};
    enum { NKNOWN = sizeof(known) / sizeof(known[0]) };
    bool want[NKNOWN] = {false};
    *why = NULL;
    if (!in || !in[0]) {
        for (size_t k = 0; k < NKNOWN; k++)
            want[k] = true;
    } else {
        if (strlen(in) > 256) {
            *why = "the list of events is too long";
            return SC_EINVAL;
        }
        for (const char *p = in; p;) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            size_t k = 0;
            while (k < NKNOWN && !(strlen(known[k]) == len && strncmp(known[k], p, len) == 0))
                k++;
            if (k == NKNOWN) {
                *why = "unknown event type (known: signup.created, conversion.created, "
                       "reward.approved, lead.hot)";
                return SC_EINVAL;
            }
            want[k] = true;
            p = end ? end + 1 : NULL;
        }
    }
    size_t n = 0;
    out[0] = '\0';
    for (size_t k = 0; k < NKNOWN; k++) {
        if (!want[k])
            continue;
        int w = snprintf(out + n, size - n, "%s%s", n ? "," : "", known[k]);
        if (w < 0 || (size_t)w >= size - n) {
            *why = "the list of events is too long";
            return SC_ETOOBIG;
        }
        n += (size_t)w;
    }
    return SC_OK;
}

enum sc_err sc_webhook_endpoint_add(struct sc_store *store, const char *url, const char *events,
                                    char *secret, size_t secret_size, int64_t *id, char *why,
                                    size_t why_size)
{
    char list[256];
    const char *reason = NULL;
    secret[0] = '\0';
    if (!url || !url[0]) {
        snprintf(why, why_size, "the URL is missing");
        return SC_EINVAL;
    }
    if (!sc_utf8_valid(url, strlen(url))) {
        snprintf(why, why_size, "the URL is not valid UTF-8");
        return SC_EINVAL;
    }
    enum sc_err e = sc_webhook_events_parse(events, list, sizeof(list), &reason);
    if (e != SC_OK) {
        snprintf(why, why_size, "%s", reason);
        return SC_EINVAL;
    }
    if ((e = sc_webhook_url_check(url, sc_webhook_allow_private_env(), why, why_size)) != SC_OK)
        return e;
    if ((e = sc_webhook_secret_new(secret, secret_size)) != SC_OK) {
        snprintf(why, why_size, "no secret could be made");
        return e;
    }
    e = sc_store_webhook_add(store, url, secret, list, (int64_t)time(NULL), id);
    if (e == SC_ETOOBIG)
        snprintf(why, why_size, "there are already %d webhooks; remove one first",
                 SC_WEBHOOK_ENDPOINTS_MAX);
    else if (e != SC_OK)
        snprintf(why, why_size, "the webhook could not be stored: %s", sc_err_str(e));
    if (e != SC_OK)
        sodium_memzero(secret, secret_size);
    return e;
}
