/*
 * llm.c — the HTTP half of drafting a lead's next message with a language
 * model (issue 13): one POST to the operator's OpenAI-compatible
 * chat-completions endpoint over libcurl, with a total timeout, the answer
 * bounded to 64 KiB, no redirects, http and https only.  The request and
 * the reading of the answer are intel/llm.c's (only the fields a draft
 * needs; never a phone number or an e-mail address).  The webhooks'
 * private-address guard does not apply: a local model is a fine thing for
 * an operator to configure.
 *
 * A small cache keeps each lead's draft (keyed by the lead, its card and a
 * hash of the facts sent, so a changed lead is drafted again) for six
 * hours, and a failure for a minute, so a slow or broken endpoint costs one
 * timeout a minute per lead rather than one per page view.
 *
 * A page never waits for the model: on a miss it is answered with the
 * template at once, and the draft is asked for in the background by
 * LLM_WORKERS threads from a queue of at most LLM_QUEUE leads (one job per
 * lead and request; more are dropped, and asked for by a later view), so
 * the next view, or the page's fetch of the draft API, shows it.  The API
 * waits (an explicit request, with the timeout): for the job in flight if
 * there is one, else it asks itself.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "llm_int.h"
#include "pages_int.h"
#include "sharecard/log.h"

#define LLM_RESPONSE_MAX   (64 * 1024)
#define LLM_TIMEOUT_MS     3000
#define LLM_TIMEOUT_MAX_MS 60000
#define LLM_CACHE          512
#define LLM_KEEP_S         (6 * 3600)
#define LLM_FAIL_KEEP_S    60
#define LLM_WORKERS        2  /* model calls in flight for pages, at most */
#define LLM_QUEUE          32 /* drafts waiting for a worker, at most */

static struct {
    char *url, *model, *key;
    long timeout_ms;
    bool on;
} cfg;

struct cached {
    int64_t visitor_id;
    uint64_t key; /* hash of the card and the request */
    int64_t until;
    bool ok;
    char draft[SC_LLM_DRAFT_MAX + 1];
};
static struct cached cache[LLM_CACHE];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER; /* the cache and 'bg' */

/* A draft to ask for in the background. */
struct job {
    int64_t visitor_id; /* 0: none */
    uint64_t key;
    char *request; /* owned */
};
static struct {
    pthread_cond_t more, done; /* a job queued; a job finished (its slot filled) */
    struct job q[LLM_QUEUE];   /* a ring from 'head', 'n' long */
    size_t head, n;
    struct job running[LLM_WORKERS]; /* each worker's job, its request not owned here */
    pthread_t th[LLM_WORKERS];
    int nth;
    bool stopping;
} bg = {.more = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static void workers_start(void);

static bool http_url(const char *u)
{
    CURLU *h = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = h && curl_url_set(h, CURLUPART_URL, u, 0) == CURLUE_OK &&
              curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
              (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) && host[0];
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(h);
    return ok;
}

bool sc_llm_init(void)
{
    const char *url = getenv("SHARECARD_LLM_URL"), *t = getenv("SHARECARD_LLM_TIMEOUT_MS");
    cfg.timeout_ms = LLM_TIMEOUT_MS;
    if (t && t[0]) {
        char *end;
        long v = strtol(t, &end, 10);
        if (*end || t[0] < '0' || t[0] > '9' || v < 1 || v > LLM_TIMEOUT_MAX_MS) {
            fprintf(stderr, "sharecard: SHARECARD_LLM_TIMEOUT_MS is milliseconds from 1 to %d\n",
                    LLM_TIMEOUT_MAX_MS);
            return false;
        }
        cfg.timeout_ms = v;
    }
    if (!url || !url[0])
        return true; /* off */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || strlen(url) > 2048 || !http_url(url)) {
        fprintf(stderr, "sharecard: SHARECARD_LLM_URL must be an http:// or https:// URL\n");
        return false;
    }
    const char *model = getenv("SHARECARD_LLM_MODEL"), *key = getenv("SHARECARD_LLM_KEY");
    cfg.url = strdup(url);
    cfg.model = strdup(model ? model : "");
    cfg.key = key && key[0] ? strdup(key) : NULL;
    if (!cfg.url || !cfg.model || (key && key[0] && !cfg.key))
        return false;
    cfg.on = true;
    workers_start();
    sc_info("drafts by the model at %s (timeout %ld ms)", cfg.url, cfg.timeout_ms);
    return true;
}

bool sc_llm_on(void)
{
    return cfg.on;
}

/* FNV-1a, 64 bits. */
static uint64_t hash(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return (h ^ 0xff) * 0x100000001b3ULL;
}

struct body {
    char *data;
    size_t len;
    bool cut;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct body *b = ctx;
    size_t k = size * n;
    if (b->len + k > LLM_RESPONSE_MAX) {
        b->cut = true;
        return 0; /* aborts the transfer */
    }
    char *d = realloc(b->data, b->len + k + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, k);
    b->data = d;
    b->len += k;
    d[b->len] = '\0';
    return k;
}

/* One request; true with the draft in 'out'. */
static bool ask(const char *request, int64_t visitor_id, char *out, size_t cap)
{
    CURL *h = curl_easy_init();
    struct curl_slist *headers = NULL, *more;
    struct body b = {0};
    bool ok = false, set = h != NULL;
    long status = 0;
    char auth[600];
    if (!h)
        goto out;
    if ((more = curl_slist_append(headers, "Content-Type: application/json")))
        headers = more;
    if ((more = curl_slist_append(headers, "Expect:")))
        headers = more;
    if (cfg.key &&
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cfg.key) < (int)sizeof(auth) &&
        (more = curl_slist_append(headers, auth)))
        headers = more;
#define SET(opt, val) set = set && curl_easy_setopt(h, opt, val) == CURLE_OK
    SET(CURLOPT_URL, cfg.url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDS, request);
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_USERAGENT, "sharecard-drafts/" SC_VERSION);
    SET(CURLOPT_CONNECTTIMEOUT_MS, cfg.timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, cfg.timeout_ms);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)LLM_RESPONSE_MAX);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, &b);
#undef SET
    if (!set)
        goto out;
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status < 200 || status > 299 || b.cut || !b.data) {
        sc_warn("draft for lead %lld by the model failed (%s, status %ld); the template stays",
                (long long)visitor_id, b.cut ? "answer over 64 KiB" : curl_easy_strerror(rc),
                status);
        goto out;
    }
    enum sc_err e = sc_llm_reply_draft(b.data, b.len, out, cap);
    if (e != SC_OK)
        sc_warn("draft for lead %lld: the model's answer is not a draft (%s); the template stays",
                (long long)visitor_id, sc_err_str(e));
    ok = e == SC_OK;
out:
    curl_slist_free_all(headers);
    if (h)
        curl_easy_cleanup(h);
    free(b.data);
    return ok;
}

/* The cache's slot for a lead and a request. */
static struct cached *slot_of(int64_t visitor_id, uint64_t key)
{
    return &cache[(key ^ (uint64_t)visitor_id) % LLM_CACHE];
}

/* Whether a fresh answer for the lead and request is cached: copied into 'out' (cache_mu held). */
static bool cached_locked(int64_t visitor_id, uint64_t key, int64_t now, char *out, size_t cap,
                          bool *ok)
{
    struct cached *slot = slot_of(visitor_id, key);
    if (slot->visitor_id != visitor_id || slot->key != key || slot->until <= now)
        return false;
    *ok = slot->ok && strlen(slot->draft) < cap;
    if (*ok)
        snprintf(out, cap, "%s", slot->draft);
    return true;
}

/* Keeps an answer (NULL: a failure) for the lead and request; cache_mu held. */
static void keep_locked(int64_t visitor_id, uint64_t key, const char *draft)
{
    struct cached *slot = slot_of(visitor_id, key);
    slot->visitor_id = visitor_id;
    slot->key = key;
    slot->ok = draft != NULL;
    slot->until = (int64_t)time(NULL) + (draft ? LLM_KEEP_S : LLM_FAIL_KEEP_S);
    snprintf(slot->draft, sizeof(slot->draft), "%s", draft ? draft : "");
}

/* Whether the lead's draft for this request is queued or being asked for; cache_mu held. */
static bool pending_locked(int64_t visitor_id, uint64_t key)
{
    for (size_t i = 0; i < bg.n; i++) {
        const struct job *j = &bg.q[(bg.head + i) % LLM_QUEUE];
        if (j->visitor_id == visitor_id && j->key == key)
            return true;
    }
    for (int i = 0; i < bg.nth; i++)
        if (bg.running[i].visitor_id == visitor_id && bg.running[i].key == key)
            return true;
    return false;
}

static void *worker_main(void *arg)
{
    struct job *mine = arg; /* bg.running[i] */
    pthread_mutex_lock(&cache_mu);
    while (!bg.stopping) {
        if (bg.n == 0) {
            pthread_cond_wait(&bg.more, &cache_mu);
            continue;
        }
        struct job j = bg.q[bg.head];
        bg.head = (bg.head + 1) % LLM_QUEUE;
        bg.n--;
        *mine = j;
        pthread_mutex_unlock(&cache_mu);
        char draft[SC_LLM_DRAFT_MAX + 1];
        bool ok = ask(j.request, j.visitor_id, draft, sizeof(draft));
        free(j.request);
        pthread_mutex_lock(&cache_mu);
        keep_locked(j.visitor_id, j.key, ok ? draft : NULL);
        memset(mine, 0, sizeof(*mine));
        pthread_cond_broadcast(&bg.done);
    }
    pthread_mutex_unlock(&cache_mu);
    return NULL;
}

/* Starts the background workers (once, before requests are served). */
static void workers_start(void)
{
    for (int i = 0; i < LLM_WORKERS; i++) {
        if (pthread_create(&bg.th[i], NULL, worker_main, &bg.running[i]) != 0) {
            sc_warn("drafts: %d of %d background workers started", i, LLM_WORKERS);
            break;
        }
        bg.nth++;
    }
}

void sc_llm_stop(void)
{
    pthread_mutex_lock(&cache_mu);
    bg.stopping = true;
    pthread_cond_broadcast(&bg.more);
    pthread_cond_broadcast(&bg.done);
    pthread_mutex_unlock(&cache_mu);
    for (int i = 0; i < bg.nth; i++)
        pthread_join(bg.th[i], NULL);
    bg.nth = 0;
    for (; bg.n; bg.n--, bg.head = (bg.head + 1) % LLM_QUEUE)
        free(bg.q[bg.head].request);
}

bool sc_llm_draft(int64_t visitor_id, const char *card, const struct sc_llm_facts *f, bool wait,
                  bool *pending, char *out, size_t cap)
{
    if (pending)
        *pending = false;
    if (!cfg.on || cap == 0)
        return false;
    char *request = NULL;
    if (sc_llm_request_json(f, cfg.model, &request) != SC_OK)
        return false;
    uint64_t key = hash(hash(0xcbf29ce484222325ULL, card), request);
    bool ok = false;
    pthread_mutex_lock(&cache_mu);
    if (cached_locked(visitor_id, key, (int64_t)time(NULL), out, cap, &ok))
        goto out_locked;
    if (!wait) { /* a page: queued (once per lead and request), the template meanwhile */
        bool queued = pending_locked(visitor_id, key);
        if (!queued && !bg.stopping && bg.nth > 0 && bg.n < LLM_QUEUE) {
            bg.q[(bg.head + bg.n++) % LLM_QUEUE] = (struct job){visitor_id, key, request};
            request = NULL;
            queued = true;
            pthread_cond_signal(&bg.more);
        }
        if (pending)
            *pending = queued;
        goto out_locked;
    }
    /* The API: the job in flight's answer if there is one (with the timeout and a second). */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += cfg.timeout_ms / 1000 + 1;
    until.tv_nsec += (cfg.timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!bg.stopping && pending_locked(visitor_id, key))
        if (pthread_cond_timedwait(&bg.done, &cache_mu, &until) != 0)
            break;
    if (cached_locked(visitor_id, key, (int64_t)time(NULL), out, cap, &ok))
        goto out_locked;
    pthread_mutex_unlock(&cache_mu);
    char draft[SC_LLM_DRAFT_MAX + 1];
    ok = ask(request, visitor_id, draft, sizeof(draft));
    free(request);
    pthread_mutex_lock(&cache_mu);
    keep_locked(visitor_id, key, ok ? draft : NULL);
    pthread_mutex_unlock(&cache_mu);
    ok = ok && strlen(draft) < cap;
    if (ok)
        snprintf(out, cap, "%s", draft);
    return ok;
out_locked:
    pthread_mutex_unlock(&cache_mu);
    free(request);
    return ok;
}

bool sc_llm_lead_draft(struct sc_store *s, const struct lead_intel *li, const char *name,
                       const char *lang, bool wait, bool *pending, char *out, size_t cap)
{
    if (pending)
        *pending = false;
    if (!cfg.on)
        return false;
    char first[80];
    struct sc_card card;
    memset(&card, 0, sizeof(card));
    bool have_card = sc_store_card_by_slug(s, li->card, &card) == SC_OK;
    sc_llm_first_name(name, first, sizeof(first));
    struct sc_llm_facts f = {
        .first_name = first,
        .lang = lang,
        .card_owner = have_card ? card.name : NULL,
        .st = &li->st,
        .res = &li->res,
        .channel = li->channel,
    };
    bool ok = sc_llm_draft(li->visitor_id, li->card, &f, wait, pending, out, cap);
    if (have_card)
        sc_card_cleanup(&card);
    return ok;
}
