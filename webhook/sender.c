/*
 * sender.c — delivery threads behind a bounded queue, so a slow or dead
 * receiver costs a thread's time, never a request thread's: submit copies the
 * delivery and returns at once (SC_EBUSY when the queue is full, which the
 * durable outbox above simply retries later), each thread makes attempts on
 * its own reused libcurl handle (connections and TLS sessions kept), and the
 * counters feed /metrics.
 *
 * Every submitted attempt gets exactly one 'done' call: delivered, failed, or
 * cancelled when the sender stops without draining.
 */
#include "webhook_int.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define THREADS_MAX 64

/* One queued attempt: the delivery's strings live in the same allocation. */
struct job {
    struct job *next;
    struct sc_webhook_delivery d; /* points into 'text' */
    sc_webhook_done_fn done;      /* may be NULL */
    void *ctx;
    char text[]; /* url, secret, id, body, mail_from, mail_to, each NUL-terminated */
};

struct sc_webhook_sender {
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* a job arrived, or the sender is stopping */
    struct job *head, *tail; /* the queue, oldest first; under 'mu' */
    size_t queue_max;
    bool stopping;              /* no more submits; threads leave once the queue is empty */
    bool drain;                 /* when stopping: make the queued attempts (else cancel them) */
    atomic_bool abort;          /* running transfers end now */
    struct sc_webhook_stats st; /* under 'mu' */
    int nthreads;
    pthread_t threads[];
};

static void report_cancelled(struct job *j)
{
    struct sc_webhook_result r;
    memset(&r, 0, sizeof(r));
    r.cancelled = true;
    strcpy(r.error, "cancelled: the sender stopped before this attempt");
    if (j->done)
        j->done(&j->d, &r, j->ctx);
}

static void *worker(void *arg)
{
    struct sc_webhook_sender *s = arg;
    CURL *h = curl_easy_init(); /* reused for every attempt of this thread */
    struct sc_webhook_result r;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        struct job *j;
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        if (!s->head)
            break; /* stopping, and nothing left */
        j = s->head;
        s->head = j->next;
        if (!s->head)
            s->tail = NULL;
        s->st.queued--;
        if (s->stopping && !s->drain) {
            s->st.cancelled++;
            pthread_mutex_unlock(&s->mu);
            report_cancelled(j);
            free(j);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        s->st.in_flight++;
        pthread_mutex_unlock(&s->mu);

        if (h) {
            sc_webhook_deliver_on(h, &j->d, &r, &s->abort);
        } else {
            memset(&r, 0, sizeof(r));
            strcpy(r.error, "libcurl could not start");
        }

        pthread_mutex_lock(&s->mu);
        s->st.in_flight--;
        if (r.ok)
            s->st.delivered++;
        else if (r.cancelled)
            s->st.cancelled++;
        else
            s->st.failed++;
        pthread_mutex_unlock(&s->mu);
        if (j->done)
            j->done(&j->d, &r, j->ctx);
        free(j);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    if (h)
        curl_easy_cleanup(h);
    return NULL;
}

enum sc_err sc_webhook_sender_new(int threads, size_t queue_max, struct sc_webhook_sender **out)
{
    struct sc_webhook_sender *s;
    sigset_t all, old;
    enum sc_err err = SC_OK;

    *out = NULL;
    if (threads < 1 || threads > THREADS_MAX || queue_max < 1)
        return SC_EINVAL;
    if (!sc_webhook_curl_ready())
        return SC_ENOMEM;
    s = calloc(1, sizeof(*s) + (size_t)threads * sizeof(pthread_t));
    if (!s)
        return SC_ENOMEM;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    atomic_init(&s->abort, false);
    s->queue_max = queue_max;
    /* The threads take no signals: the process's signal handling stays where it is. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (; s->nthreads < threads; s->nthreads++) {
        if (pthread_create(&s->threads[s->nthreads], NULL, worker, s) != 0) {
            err = SC_EIO;
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != SC_OK) {
        sc_webhook_sender_free(s, false);
        return err;
    }
    *out = s;
    return SC_OK;
}

enum sc_err sc_webhook_sender_submit(struct sc_webhook_sender *s,
                                     const struct sc_webhook_delivery *d, sc_webhook_done_fn done,
                                     void *ctx)
{
    size_t lu, ls, li, lf, lt;
    struct job *j;
    char *p;

    if (!d->url || !d->secret || !d->id || !d->body)
        return SC_EINVAL;
    lu = strlen(d->url);
    ls = strlen(d->secret);
    li = strlen(d->id);
    lf = d->mail_from ? strlen(d->mail_from) : 0;
    lt = d->mail_to ? strlen(d->mail_to) : 0;
    if (lu > SC_WEBHOOK_URL_MAX || ls >= SC_WEBHOOK_SECRET_SIZE || li > 64 || lf > 512 || lt > 512)
        return SC_EINVAL;
    if (d->body_len > SC_WEBHOOK_BODY_MAX)
        return SC_ETOOBIG;
    j = malloc(sizeof(*j) + lu + ls + li + lf + lt + d->body_len + 6);
    if (!j)
        return SC_ENOMEM;
    j->next = NULL;
    j->d = *d;
    j->done = done;
    j->ctx = ctx;
    p = j->text;
    j->d.url = memcpy(p, d->url, lu + 1);
    p += lu + 1;
    j->d.secret = memcpy(p, d->secret, ls + 1);
    p += ls + 1;
    j->d.id = memcpy(p, d->id, li + 1);
    p += li + 1;
    memcpy(p, d->body, d->body_len);
    p[d->body_len] = '\0';
    j->d.body = p;
    p += d->body_len + 1;
    /* The envelope of an e-mail (issue 18), when there is one. */
    j->d.mail_from = d->mail_from ? memcpy(p, d->mail_from, lf + 1) : NULL;
    p += lf + 1;
    j->d.mail_to = d->mail_to ? memcpy(p, d->mail_to, lt + 1) : NULL;

    pthread_mutex_lock(&s->mu);
    if (s->stopping || s->st.queued >= s->queue_max) {
        enum sc_err err = s->stopping ? SC_EINVAL : SC_EBUSY;
        if (!s->stopping)
            s->st.rejected++;
        pthread_mutex_unlock(&s->mu);
        free(j);
        return err;
    }
    if (s->tail)
        s->tail->next = j;
    else
        s->head = j;
    s->tail = j;
    s->st.queued++;
    if (d->attempt > 0)
        s->st.retried++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return SC_OK;
}

void sc_webhook_sender_stats(struct sc_webhook_sender *s, struct sc_webhook_stats *st)
{
    pthread_mutex_lock(&s->mu);
    *st = s->st;
    pthread_mutex_unlock(&s->mu);
}

void sc_webhook_sender_free(struct sc_webhook_sender *s, bool drain)
{
    struct job *j;
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    s->drain = drain;
    if (!drain)
        atomic_store(&s->abort, true);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->nthreads; i++)
        pthread_join(s->threads[i], NULL);
    /* Only when no thread ever started can jobs remain; none can, as submit needs a sender. */
    while ((j = s->head)) {
        s->head = j->next;
        report_cancelled(j);
        free(j);
    }
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
