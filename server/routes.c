/*
 * routes.c — the router and the handlers of the public pages: home, health,
 * static files, a card's landing page, its QR (PNG/SVG), vCard and avatar,
 * and tracked links.
 *
 * Paths are few and fixed, so the router matches them by hand: one pass over
 * the path, no allocation.  A path that exists with another method gets 405
 * and an Allow header; anything else gets the 404 page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "http_int.h"
#include "sharecard/assets.h"
#include "sharecard/escape.h"
#include "sharecard/ingest.h"
#include "sharecard/log.h"
#include "sharecard/page.h"
#include "sharecard/store.h"

static bool etag_matches(struct req *r, const char *etag);
static enum MHD_Result reply_not_modified(struct req *r, const char *etag, const char *cc);

/* ---- the QR cache ------------------------------------------------------- */

/*
 * Rendered QR responses, keyed by (kind, size, link code).  Direct-mapped:
 * a new code evicts whatever shared its slot.  MHD responses are reference
 * counted, so a cached one is queued on many connections at once.
 */
#define QR_SLOTS 1024

struct qr_slot {
    char key[48];
    struct MHD_Response *resp;
    char etag[24];
};

struct qr_cache {
    pthread_mutex_t lock;
    struct qr_slot slots[QR_SLOTS];
};

static size_t slot_of(const char *key)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h % QR_SLOTS);
}

/*
 * Answers 'r' from the cache when 'key' is there: 304 when the client has it,
 * else the cached response, queued under the lock so that an eviction cannot
 * free it first (MHD takes its own reference when queueing).  Returns false
 * on a miss, with nothing queued.
 */
static bool qr_serve(struct qr_cache *c, const char *key, struct req *r, enum MHD_Result *ret)
{
    bool hit = false;
    char etag[24];
    struct qr_slot *s = &c->slots[slot_of(key)];
    pthread_mutex_lock(&c->lock);
    if (s->resp && strcmp(s->key, key) == 0) {
        hit = true;
        memcpy(etag, s->etag, sizeof(etag));
        if (!etag_matches(r, etag))
            *ret = reply_response(r, 200, s->resp);
    }
    pthread_mutex_unlock(&c->lock);
    if (hit && !r->answered)
        *ret = reply_not_modified(r, etag, "public, max-age=86400");
    return hit;
}

static void qr_put(struct qr_cache *c, const char *key, struct MHD_Response *resp, const char *etag)
{
    struct qr_slot *s = &c->slots[slot_of(key)];
    pthread_mutex_lock(&c->lock);
    if (s->resp) {
        /*
         * An evicted response may still be queued on a connection: MHD holds
         * its own reference for that, so dropping ours here is safe.
         */
        MHD_destroy_response(s->resp);
    }
    snprintf(s->key, sizeof(s->key), "%s", key);
    snprintf(s->etag, sizeof(s->etag), "%s", etag);
    s->resp = resp; /* the caller's reference is now the cache's */
    pthread_mutex_unlock(&c->lock);
}

/* ---- helpers ------------------------------------------------------------ */

static bool etag_matches(struct req *r, const char *etag)
{
    const char *inm = req_header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
    return inm && (strstr(inm, etag) != NULL || strcmp(inm, "*") == 0);
}

static enum MHD_Result reply_not_modified(struct req *r, const char *etag, const char *cc)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
    enum MHD_Result ret = reply_response(r, 304, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result reply_405(struct req *r, const char *allow)
{
    char stack[4096];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 0);
    char msg[128];
    snprintf(msg, sizeof(msg), "This address answers %s only.", allow);
    sc_page_error(r->srv->pages, 405, msg, req_lang(r, SC_LANG_EN), &b);
    size_t len;
    char *data = sc_buf_steal(&b, &len);
    if (!data)
        return reply_static(r, 503, "text/plain", "Service unavailable.\n");
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    add_security_headers(r->srv, resp);
    r->bytes = len;
    enum MHD_Result ret = reply_response(r, 405, resp);
    MHD_destroy_response(resp);
    return ret;
}

bool is_get(struct req *r)
{
    return r->method == M_GET || r->method == M_HEAD;
}

/* Hex of a 64-bit keyed-less BLAKE2b of 'parts', quoted, as an ETag. */
static void make_etag(char out[24], const void *data, size_t len)
{
    unsigned char h[8];
    crypto_generichash(h, sizeof(h), data, len, NULL, 0);
    char hex[17];
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    snprintf(out, 24, "\"%s\"", hex);
}

/* Loads the card at 'slug' or answers 404/503; true when 'c' was filled. */
static bool load_card(struct req *r, const char *slug, struct sc_card *c, enum MHD_Result *ret)
{
    memset(c, 0, sizeof(*c));
    if (strlen(slug) > SC_SLUG_MAX) {
        *ret = reply_error(r, 404, "There is no card at this address.");
        return false;
    }
    enum sc_err e = sc_store_card_by_slug(r->srv->store, slug, c);
    if (e == SC_ENOTFOUND) {
        *ret = reply_error(r, 404, "There is no card at this address.");
        return false;
    }
    if (e != SC_OK) {
        *ret = reply_err(r, e, NULL);
        return false;
    }
    return true;
}

/* ---- handlers ------------------------------------------------------------ */

static enum MHD_Result h_home(struct req *r)
{
    struct sc_member m;
    if (session_member(r, &m))
        return reply_redirect(r, 303, m.role == SC_ROLE_SALES ? "/me" : "/dashboard");
    char stack[8192];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 0);
    sc_page_home(r->srv->pages, req_lang(r, SC_LANG_EN), &b);
    return reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

static enum MHD_Result h_healthz(struct req *r)
{
    if (sc_store_ping(r->srv->store) != SC_OK)
        return reply_static(r, 503, "text/plain; charset=utf-8", "store unavailable\n");
    return reply_static(r, 200, "text/plain; charset=utf-8", "ok\n");
}

/* Prometheus text exposition of the counters an operator watches. */
static enum MHD_Result h_metrics(struct req *r)
{
    struct server *s = r->srv;
    struct sc_ingest_stats is;
    sc_ingest_stats(s->ingest, &is);
    struct sc_buf b;
    sc_buf_init(&b, 64 * 1024);
    sc_buf_puts(&b, "# HELP sharecard_http_responses_total HTTP responses by status class.\n"
                    "# TYPE sharecard_http_responses_total counter\n");
    for (int c = 1; c <= 5; c++)
        sc_buf_printf(&b, "sharecard_http_responses_total{class=\"%dxx\"} %llu\n", c,
                      (unsigned long long)atomic_load(&s->responses[c]));
    sc_buf_printf(&b,
                  "# HELP sharecard_http_requests_in_flight Requests begun and not completed.\n"
                  "# TYPE sharecard_http_requests_in_flight gauge\n"
                  "sharecard_http_requests_in_flight %d\n"
                  "# HELP sharecard_events_stored_total Events made durable.\n"
                  "# TYPE sharecard_events_stored_total counter\n"
                  "sharecard_events_stored_total %llu\n"
                  "# HELP sharecard_event_batches_total Transactions that stored events.\n"
                  "# TYPE sharecard_event_batches_total counter\n"
                  "sharecard_event_batches_total %llu\n"
                  "# HELP sharecard_events_failed_total Events whose batch failed (answered 503).\n"
                  "# TYPE sharecard_events_failed_total counter\n"
                  "sharecard_events_failed_total %llu\n"
                  "# HELP sharecard_events_unanswered_total Events stored whose client left "
                  "before the answer.\n"
                  "# TYPE sharecard_events_unanswered_total counter\n"
                  "sharecard_events_unanswered_total %llu\n"
                  "# HELP sharecard_events_refused_total Events refused with a full queue (503).\n"
                  "# TYPE sharecard_events_refused_total counter\n"
                  "sharecard_events_refused_total %llu\n"
                  "# HELP sharecard_event_queue_depth Events waiting for the writer.\n"
                  "# TYPE sharecard_event_queue_depth gauge\n"
                  "sharecard_event_queue_depth %zu\n",
                  atomic_load(&s->inflight), (unsigned long long)is.committed,
                  (unsigned long long)is.batches, (unsigned long long)is.failed,
                  (unsigned long long)atomic_load(&s->unanswered), (unsigned long long)is.rejected,
                  is.depth);
    return reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
}

static const char *mime_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return "application/octet-stream";
    if (strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    if (strcmp(dot, ".png") == 0)
        return "image/png";
    if (strcmp(dot, ".ico") == 0)
        return "image/x-icon";
    if (strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    return "application/octet-stream";
}

static enum MHD_Result h_static(struct req *r, const char *name)
{
    struct server *s = r->srv;
    const struct sc_asset *all = sc_asset_all();
    for (size_t i = 0; i < s->nstatics; i++) {
        if (!s->statics[i] || strcmp(all[i].name + 7, name) != 0)
            continue;
        if (etag_matches(r, s->static_etags[i]))
            return reply_not_modified(r, s->static_etags[i], "public, max-age=3600");
        r->bytes = all[i].len;
        return reply_response(r, 200, s->statics[i]);
    }
    return reply_error(r, 404, "There is no such file.");
}

static enum MHD_Result card_page(struct req *r)
{
    if (r->ev_result != SC_OK)
        return reply_not_stored(r);
    if (r->page) {
        /* Composed from the page cache before the event was queued. */
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(r->page_len, r->page, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            return MHD_NO;
        r->page = NULL; /* now the response's */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
        add_security_headers(r->srv, resp);
        add_cookie(r, resp);
        r->bytes = r->page_len;
        enum MHD_Result ret = reply_response(r, 200, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    char stack[16384];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 0);
    enum sc_lang lang = req_lang(r, r->card.lang);
    char csrf[32];
    csrf_token(r, csrf);
    sc_page_card(r->srv->pages, &r->card, lang, r->srv->base_url, r->link.id ? r->link.code : NULL,
                 csrf, &b);
    return reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

static enum sc_err link_lookup(struct req *r, const char *code, struct sc_link *out);

/* The tracked link named by ?l= when it leads to card 'card_id', into r->link. */
static void arrived_by(struct req *r, int64_t card_id)
{
    const char *code = req_arg(r, "l");
    memset(&r->link, 0, sizeof(r->link));
    if (code && strlen(code) <= SC_CODE_LEN &&
        (link_lookup(r, code, &r->link) != SC_OK || r->link.card_id != card_id))
        memset(&r->link, 0, sizeof(r->link));
}

/* ---- the landing-page cache ------------------------------------------------ */

/*
 * Rendered landing pages, keyed by (slug, ?l= argument, what Accept-Language
 * asks for).  A page is the same for every visitor but for the CSRF token of
 * its sign-up form, so an entry keeps the bytes before and after the token
 * and each request copies them around its own token: no store read, no
 * rendering.  Per-visitor parts stay out: the token is written per request
 * and the Set-Cookie header is added to each response.
 *
 * An entry lives PAGE_TTL_MS, and every entry dies at once when this process
 * changes anything (page_cache_forget(), called after each request other than
 * GET, HEAD or a beacon, such as a card edit or a member disabled).  A change
 * made by another process (the CLI) shows within PAGE_TTL_MS.  Cards shown
 * as disabled (410) and owner previews are never cached.
 */
#define PAGE_SLOTS  256
#define PAGE_TTL_MS 1000
#define CSRF_LEN    22                            /* csrf_token(): 16 bytes in unpadded base64url */
#define CSRF_MARK   "sc-csrf-mark-0f8a3c2e9b7d41" /* rendered in place of the token */

struct page_slot {
    char slug[SC_SLUG_MAX + 1];
    char l[SC_CODE_LEN + 1]; /* the ?l= argument as asked for ("" when none or too long) */
    int accept;              /* 0 English, 1 Chinese, 2 the card's own language */
    uint64_t gen;            /* page_cache.gen when the card was read */
    int64_t until_ms;        /* monotonic deadline */
    int64_t card_id;
    struct sc_link link; /* the link the ?l= argument named, when it leads to this card */
    char *bytes;         /* the page, CSRF_MARK cut out: NULL when empty */
    size_t len, at;      /* length without the mark; where the token goes */
};

struct page_cache {
    pthread_mutex_t lock;
    _Atomic uint64_t gen; /* bumped on every change made through this process */
    struct page_slot slots[PAGE_SLOTS];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void page_cache_forget(struct server *s)
{
    if (s->page_cache)
        atomic_fetch_add(&s->page_cache->gen, 1);
}

/* What the request's Accept-Language settles: a language, or 2 for the card's own. */
static int accept_of(struct req *r)
{
    const char *al = req_header(r, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
    enum sc_lang a = sc_lang_accept(al, SC_LANG_EN), b = sc_lang_accept(al, SC_LANG_ZH);
    return a == b ? (int)a : 2;
}

static struct page_slot *page_slot_of(struct page_cache *pc, const char *slug, const char *l,
                                      int accept)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over slug, l and accept */
    for (const unsigned char *p = (const unsigned char *)slug; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ '/') * 1099511628211ULL;
    for (const unsigned char *p = (const unsigned char *)l; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ (unsigned)accept) * 1099511628211ULL;
    return &pc->slots[h % PAGE_SLOTS];
}

/*
 * Writes the visitor's CSRF token into the gap left at 'at' in 'page' (taken
 * from the cache), and keeps the page in 'r' for card_page().
 */
static bool page_finish(struct req *r, char *page, size_t len, size_t at)
{
    char csrf[32];
    csrf_token(r, csrf);
    if (strlen(csrf) != CSRF_LEN) {
        free(page);
        return false;
    }
    memcpy(page + at, csrf, CSRF_LEN);
    r->page = page;
    r->page_len = len + CSRF_LEN;
    return true;
}

/* A copy of the cached page with a gap for the token, or NULL; 'len' and 'at' describe it. */
static char *page_copy(const struct page_slot *sl, size_t *len, size_t *at)
{
    char *p = malloc(sl->len + CSRF_LEN);
    if (!p)
        return NULL;
    memcpy(p, sl->bytes, sl->at);
    memcpy(p + sl->at + CSRF_LEN, sl->bytes + sl->at, sl->len - sl->at);
    *len = sl->len;
    *at = sl->at;
    return p;
}

/*
 * Answers from the cache: on a hit fills r->card.id, r->link and r->page and
 * returns true.  'l' is the ?l= argument ("" for none).
 */
static bool page_hit(struct req *r, const char *slug, const char *l, int accept)
{
    struct page_cache *pc = r->srv->page_cache;
    struct page_slot *sl = page_slot_of(pc, slug, l, accept);
    char *page = NULL;
    size_t len = 0, at = 0;
    pthread_mutex_lock(&pc->lock);
    if (sl->bytes && sl->gen == atomic_load(&pc->gen) && sl->until_ms > mono_ms() &&
        sl->accept == accept && strcmp(sl->slug, slug) == 0 && strcmp(sl->l, l) == 0 &&
        (page = page_copy(sl, &len, &at)) != NULL) {
        r->card.id = sl->card_id;
        r->link = sl->link;
    }
    pthread_mutex_unlock(&pc->lock);
    return page && page_finish(r, page, len, at);
}

/* The first CSRF_MARK in the 'n' bytes at 'p', or NULL. */
static const char *find_mark(const char *p, size_t n)
{
    size_t mlen = strlen(CSRF_MARK);
    for (const char *end = p + n; (size_t)(end - p) >= mlen; p++) {
        p = memchr(p, CSRF_MARK[0], (size_t)(end - p) - mlen + 1);
        if (!p)
            return NULL;
        if (memcmp(p, CSRF_MARK, mlen) == 0)
            return p;
    }
    return NULL;
}

/*
 * Renders the page of r->card (read when the cache stood at 'gen') with the
 * mark in place of the token, keeps it in the cache, and composes the
 * visitor's copy into r->page.  Returns false, with nothing kept, when the
 * page cannot be cut at exactly one mark; card_page() then renders as before.
 */
static bool page_put(struct req *r, const char *l, int accept, uint64_t gen)
{
    struct sc_buf b;
    sc_buf_init(&b, 1 << 20);
    enum sc_lang lang = accept == 2 ? r->card.lang : (enum sc_lang)accept;
    sc_page_card(r->srv->pages, &r->card, lang, r->srv->base_url, r->link.id ? r->link.code : NULL,
                 CSRF_MARK, &b);
    size_t mlen = strlen(CSRF_MARK);
    const char *m = sc_buf_error(&b) || !b.data ? NULL : find_mark(b.data, b.len);
    if (!m || find_mark(m + 1, b.len - (size_t)(m + 1 - b.data))) {
        sc_buf_cleanup(&b);
        return false;
    }
    size_t at = (size_t)(m - b.data);
    memmove(b.data + at, b.data + at + mlen, b.len - at - mlen);
    size_t len = b.len - mlen;
    char *bytes = sc_buf_steal(&b, NULL);
    char *page = NULL;
    if (!bytes) {
        sc_buf_cleanup(&b);
        return false;
    }
    struct page_cache *pc = r->srv->page_cache;
    struct page_slot *sl = page_slot_of(pc, r->card.slug, l, accept);
    pthread_mutex_lock(&pc->lock);
    free(sl->bytes);
    snprintf(sl->slug, sizeof(sl->slug), "%s", r->card.slug);
    snprintf(sl->l, sizeof(sl->l), "%s", l);
    sl->accept = accept;
    sl->gen = gen;
    sl->until_ms = mono_ms() + PAGE_TTL_MS;
    sl->card_id = r->card.id;
    sl->link = r->link;
    sl->bytes = bytes;
    sl->len = len;
    sl->at = at;
    size_t plen = 0, pat = 0;
    page = page_copy(sl, &plen, &pat);
    pthread_mutex_unlock(&pc->lock);
    return page && page_finish(r, page, plen, pat);
}

static enum MHD_Result h_card(struct req *r, const char *slug)
{
    enum MHD_Result ret;
    struct sc_event ev;
    const char *l = req_arg(r, "l");
    if (!l || strlen(l) > SC_CODE_LEN)
        l = "";
    bool cacheable = !req_arg(r, "preview") && strlen(slug) <= SC_SLUG_MAX;
    int accept = accept_of(r);
    if (cacheable && page_hit(r, slug, l, accept)) {
        event_init(r, &ev, SC_EV_VIEW, r->card.id, r->link.id);
        return track_then(r, &ev, card_page);
    }
    uint64_t gen = atomic_load(&r->srv->page_cache->gen);
    if (!load_card(r, slug, &r->card, &ret))
        return ret;
    if (r->card.disabled) {
        char stack[8192];
        struct sc_buf b;
        sc_buf_init_on(&b, stack, sizeof(stack), 0);
        sc_page_card_disabled(r->srv->pages, &r->card, req_lang(r, r->card.lang), &b);
        return reply_bytes(r, 410, "text/html; charset=utf-8", &b);
    }
    arrived_by(r, r->card.id);
    struct sc_member owner;
    if (req_arg(r, "preview") && session_member(r, &owner) && owner.id == r->card.member_id) {
        r->ev_result = SC_OK; /* the owner's own preview: not a view */
        return card_page(r);
    }
    if (cacheable)
        page_put(r, l, accept, gen); /* on failure card_page() renders the page itself */
    event_init(r, &ev, SC_EV_VIEW, r->card.id, r->link.id);
    return track_then(r, &ev, card_page);
}

/*
 * slug → QR link code, remembered for a minute: a card's QR link never
 * changes, so the cached QR image is then served without a store read.
 */
#define CODE_SLOTS 1024
#define CODE_TTL   60

struct code_slot {
    char slug[SC_SLUG_MAX + 1];
    char code[SC_CODE_LEN + 1];
    int64_t until;
};

static pthread_mutex_t code_lock = PTHREAD_MUTEX_INITIALIZER;
static struct code_slot code_slots[CODE_SLOTS];

static bool code_get(const char *slug, char code[SC_CODE_LEN + 1])
{
    struct code_slot *s = &code_slots[slot_of(slug) % CODE_SLOTS];
    bool hit = false;
    pthread_mutex_lock(&code_lock);
    if (s->until > (int64_t)time(NULL) && strcmp(s->slug, slug) == 0) {
        memcpy(code, s->code, SC_CODE_LEN + 1);
        hit = true;
    }
    pthread_mutex_unlock(&code_lock);
    return hit;
}

static void code_put(const char *slug, const char *code)
{
    struct code_slot *s = &code_slots[slot_of(slug) % CODE_SLOTS];
    pthread_mutex_lock(&code_lock);
    snprintf(s->slug, sizeof(s->slug), "%s", slug);
    snprintf(s->code, sizeof(s->code), "%s", code);
    s->until = (int64_t)time(NULL) + CODE_TTL;
    pthread_mutex_unlock(&code_lock);
}

static enum MHD_Result h_qr(struct req *r, const char *slug, bool svg)
{
    char code[SC_CODE_LEN + 1];
    if (strlen(slug) <= SC_SLUG_MAX && code_get(slug, code))
        return serve_qr(r, code, svg);
    enum MHD_Result ret;
    if (!load_card(r, slug, &r->card, &ret))
        return ret;
    if (r->card.qr_code[0])
        code_put(slug, r->card.qr_code);
    return serve_qr(r, r->card.qr_code, svg);
}

enum MHD_Result serve_qr(struct req *r, const char *code, bool svg)
{
    unsigned size = SC_QR_SIZE_DEFAULT;
    const char *sz = req_arg(r, "size");
    if (sz && !svg) {
        char *end;
        unsigned long v = strtoul(sz, &end, 10);
        if (!*sz || *end || v < SC_QR_SIZE_MIN || v > SC_QR_SIZE_MAX) {
            char msg[128];
            snprintf(msg, sizeof(msg), "size must be a whole number of pixels from %d to %d.",
                     SC_QR_SIZE_MIN, SC_QR_SIZE_MAX);
            return reply_error(r, 400, msg);
        }
        size = (unsigned)v;
    }
    enum MHD_Result ret = MHD_NO;
    char key[48], etag[24];
    snprintf(key, sizeof(key), "%s:%u:%s", svg ? "svg" : "png", svg ? 0 : size, code);
    const char *cc = "public, max-age=86400";
    if (qr_serve(r->srv->qr, key, r, &ret))
        return ret;

    char url[600];
    snprintf(url, sizeof(url), "%s/l/%s", r->srv->base_url, code);
    char tag_src[700];
    int n = snprintf(tag_src, sizeof(tag_src), "%s|%s", key, url);
    make_etag(etag, tag_src, (size_t)n);
    if (etag_matches(r, etag))
        return reply_not_modified(r, etag, cc);

    struct sc_buf b;
    sc_buf_init(&b, 8 << 20);
    enum sc_err e = svg ? sc_qr_svg(&b, url) : sc_qr_png(&b, url, size);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return reply_err(r, e, "The QR code could not be made.");
    }
    size_t len;
    char *data = sc_buf_steal(&b, &len);
    if (!data)
        return reply_err(r, SC_ENOMEM, NULL);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            svg ? "image/svg+xml" : "image/png");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
    add_security_headers(r->srv, resp);
    r->bytes = len;
    ret = reply_response(r, 200, resp);
    qr_put(r->srv->qr, key, resp, etag);
    return ret;
}

static enum MHD_Result vcard_file(struct req *r)
{
    if (r->ev_result != SC_OK)
        return reply_not_stored(r);
    struct sc_card c = r->card;
    memset(&r->card, 0, sizeof(r->card));
    enum MHD_Result ret;
    char url[600];
    snprintf(url, sizeof(url), "%s/c/%s", r->srv->base_url, c.slug);
    struct sc_buf b;
    sc_buf_init(&b, 4 << 20);
    enum sc_err e = sc_vcard_write(&b, &c, url);
    char fname[64];
    sc_vcard_filename(&c, fname, sizeof(fname));
    /* A readable UTF-8 name for browsers that know RFC 6266, the slug for the rest. */
    char disp[1024];
    struct sc_buf d;
    sc_buf_init_on(&d, disp, sizeof(disp), sizeof(disp) - 1);
    sc_buf_printf(&d, "attachment; filename=\"%s\"", fname);
    if (c.name && c.name[0]) {
        sc_buf_puts(&d, "; filename*=UTF-8''");
        sc_esc_url_component(&d, c.name, strlen(c.name));
        sc_buf_puts(&d, ".vcf");
    }
    sc_card_cleanup(&c);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        sc_buf_cleanup(&d);
        return reply_err(r, e, "The contact file could not be made.");
    }
    size_t len;
    char *data = sc_buf_steal(&b, &len);
    struct MHD_Response *resp =
        data ? MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!resp) {
        free(data);
        sc_buf_cleanup(&d);
        return reply_err(r, SC_ENOMEM, NULL);
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/vcard; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
                            sc_buf_error(&d) ? "attachment; filename=\"contact.vcf\"" : d.data);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-cache");
    add_security_headers(r->srv, resp);
    add_cookie(r, resp);
    sc_buf_cleanup(&d);
    r->bytes = len;
    ret = reply_response(r, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result h_vcard(struct req *r, const char *slug)
{
    enum MHD_Result ret;
    if (!load_card(r, slug, &r->card, &ret))
        return ret;
    if (r->card.disabled)
        return reply_error(r, 410, "This card is no longer active.");
    arrived_by(r, r->card.id);
    struct sc_event ev;
    event_init(r, &ev, SC_EV_SAVE, r->card.id, r->link.id);
    return track_then(r, &ev, vcard_file);
}

static enum MHD_Result h_avatar(struct req *r, const char *slug)
{
    struct sc_card c;
    enum MHD_Result ret;
    if (!load_card(r, slug, &c, &ret))
        return ret;
    if (!c.avatar || c.avatar_len == 0) {
        sc_card_cleanup(&c);
        return reply_error(r, 404, "This card has no photo.");
    }
    char etag[24];
    make_etag(etag, c.avatar, c.avatar_len);
    const char *cc = "public, max-age=86400";
    if (etag_matches(r, etag)) {
        sc_card_cleanup(&c);
        return reply_not_modified(r, etag, cc);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(c.avatar_len, c.avatar, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        sc_card_cleanup(&c);
        return MHD_NO;
    }
    c.avatar = NULL; /* now the response's */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, c.avatar_mime);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
    add_security_headers(r->srv, resp);
    r->bytes = c.avatar_len;
    sc_card_cleanup(&c);
    ret = reply_response(r, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result link_redirect(struct req *r)
{
    if (r->ev_result != SC_OK)
        return reply_not_stored(r);
    char loc[SC_SLUG_MAX + SC_CODE_LEN + 16];
    snprintf(loc, sizeof(loc), "/c/%s?l=%s", r->link.card_slug, r->link.code);
    return reply_redirect(r, 302, loc);
}

/*
 * Tracked links never change once minted, so the hot path remembers them
 * for a minute instead of reading the store on every scan.
 */
#define LINK_SLOTS 4096
#define LINK_TTL   60

struct link_slot {
    struct sc_link link;
    int64_t until;
};

static pthread_mutex_t link_lock = PTHREAD_MUTEX_INITIALIZER;
static struct link_slot link_slots[LINK_SLOTS];

static enum sc_err link_lookup(struct req *r, const char *code, struct sc_link *out)
{
    if (strlen(code) > SC_CODE_LEN)
        return SC_ENOTFOUND;
    struct link_slot *s = &link_slots[slot_of(code) % LINK_SLOTS];
    int64_t now = (int64_t)time(NULL);
    pthread_mutex_lock(&link_lock);
    bool hit = s->until > now && strcmp(s->link.code, code) == 0;
    if (hit)
        *out = s->link;
    pthread_mutex_unlock(&link_lock);
    if (hit)
        return SC_OK;
    enum sc_err e = sc_store_link_by_code(r->srv->store, code, out);
    if (e == SC_OK) {
        pthread_mutex_lock(&link_lock);
        s->link = *out;
        s->until = now + LINK_TTL;
        pthread_mutex_unlock(&link_lock);
    }
    return e;
}

static enum MHD_Result h_link(struct req *r, const char *code)
{
    if (strlen(code) > SC_CODE_LEN + 8)
        return reply_error(r, 404, "This link does not exist. Check that it was copied whole.");
    enum sc_err e = link_lookup(r, code, &r->link);
    if (e == SC_ENOTFOUND)
        return reply_error(r, 404, "This link does not exist. Check that it was copied whole.");
    if (e != SC_OK)
        return reply_err(r, e, NULL);
    struct sc_event ev;
    event_init(r, &ev, r->link.channel == SC_CH_QR ? SC_EV_SCAN : SC_EV_OPEN, r->link.card_id,
               r->link.id);
    return track_then(r, &ev, link_redirect);
}

/* ---- the router ------------------------------------------------------------ */

/*
 * Copies the path segment at 'p' (up to '/' or the end) into 'out' and
 * returns the rest of the path, or NULL when the segment is empty or too long.
 */
static const char *segment(const char *p, char *out, size_t outlen)
{
    size_t n = strcspn(p, "/");
    if (n == 0 || n >= outlen)
        return NULL;
    memcpy(out, p, n);
    out[n] = '\0';
    return p + n;
}

enum MHD_Result route_request(struct req *r)
{
    tr_set(SC_LANG_EN); /* signed-in pages choose theirs (session_member) */
    const char *u = r->url;
    char seg[128];

    if (strcmp(u, "/") == 0)
        return is_get(r) ? h_home(r) : reply_405(r, "GET, HEAD");
    if (strcmp(u, "/healthz") == 0)
        return is_get(r) ? h_healthz(r) : reply_405(r, "GET, HEAD");
    if (strcmp(u, "/metrics") == 0)
        return is_get(r) ? h_metrics(r) : reply_405(r, "GET, HEAD");
    if (strncmp(u, "/static/", 8) == 0) {
        if (!is_get(r))
            return reply_405(r, "GET, HEAD");
        return h_static(r, u + 8);
    }
    if (strncmp(u, "/c/", 3) == 0) {
        const char *rest = segment(u + 3, seg, sizeof(seg));
        if (!rest)
            return reply_error(r, 404, "There is no card at this address.");
        const char *sub = rest[0] == '/' ? rest + 1 : NULL;
        if (!rest[0] || (sub && !sub[0]))
            return is_get(r) ? h_card(r, seg) : reply_405(r, "GET, HEAD");
        if (strcmp(sub, "share") == 0)
            return r->method == M_POST ? h_share(r, seg) : reply_405(r, "POST");
        if (strcmp(sub, "signup") == 0)
            return r->method == M_POST ? h_signup(r, seg) : reply_405(r, "POST");
        if (strcmp(sub, "qr.png") == 0 || strcmp(sub, "qr.svg") == 0)
            return is_get(r) ? h_qr(r, seg, sub[3] == 's') : reply_405(r, "GET, HEAD");
        if (strcmp(sub, "vcard.vcf") == 0)
            return is_get(r) ? h_vcard(r, seg) : reply_405(r, "GET, HEAD");
        if (strcmp(sub, "avatar") == 0)
            return is_get(r) ? h_avatar(r, seg) : reply_405(r, "GET, HEAD");
        return reply_error(r, 404, "There is no such page for this card.");
    }
    if (strncmp(u, "/l/", 3) == 0) {
        const char *rest = segment(u + 3, seg, sizeof(seg));
        if (!rest || rest[0])
            return reply_error(r, 404, "This link does not exist. Check that it was copied whole.");
        return is_get(r) ? h_link(r, seg) : reply_405(r, "GET, HEAD");
    }
    if (strncmp(u, "/r/", 3) == 0) {
        const char *rest = segment(u + 3, seg, sizeof(seg));
        if (!rest || (rest[0] && rest[0] != '/'))
            return reply_error(r, 404, "This referral link does not exist.");
        return is_get(r) ? h_referral(r, seg, rest[0] ? rest + 1 : "") : reply_405(r, "GET, HEAD");
    }
    if (strcmp(u, "/login") == 0)
        return is_get(r)             ? h_login_page(r)
               : r->method == M_POST ? h_login(r)
                                     : reply_405(r, "GET, POST");
    if (strcmp(u, "/logout") == 0)
        return r->method == M_POST ? h_logout(r) : reply_405(r, "POST");
    if (strcmp(u, "/dashboard") == 0)
        return is_get(r) ? h_dashboard(r) : reply_405(r, "GET, HEAD");
    if (strcmp(u, "/me") == 0)
        return is_get(r) ? h_me(r) : reply_405(r, "GET, HEAD");
    if (strcmp(u, "/me/edit") == 0)
        return is_get(r) || r->method == M_POST ? h_editor(r) : reply_405(r, "GET, POST");
    if (strcmp(u, "/me/avatar") == 0)
        return r->method == M_POST ? h_avatar_upload(r) : reply_405(r, "POST");
    if (strcmp(u, "/me/account") == 0)
        return h_account(r, NULL);
    if (strcmp(u, "/me/password") == 0 || strcmp(u, "/me/tokens") == 0 ||
        strcmp(u, "/me/tokens/revoke") == 0)
        return h_account(r, u + 4);
    if (strcmp(u, "/admin/members") == 0 || strncmp(u, "/admin/members/", 15) == 0)
        return h_members(r, u[14] ? u + 15 : NULL);
    if (strcmp(u, "/admin/audit") == 0)
        return is_get(r) ? h_audit(r) : reply_405(r, "GET, HEAD");
    if (strcmp(u, "/admin/rewards") == 0 || strncmp(u, "/admin/rewards/", 15) == 0)
        return h_rewards_page(r, u[14] ? u + 15 : NULL);
    if (strcmp(u, "/leads") == 0 || strncmp(u, "/leads/", 7) == 0)
        return h_leads(r, u[6] ? u + 7 : NULL);
    if (strncmp(u, "/dashboard/tree/", 16) == 0)
        return h_tree(r, u + 16);
    if (strcmp(u, "/e") == 0)
        return r->method == M_POST ? h_event(r) : reply_405(r, "POST");
    if (strncmp(u, "/api/v1/", 8) == 0)
        return h_api(r, u + 8);
    return reply_error(r, 404, "There is nothing at this address.");
}

enum sc_err routes_init(struct server *s)
{
    s->qr = calloc(1, sizeof(*s->qr));
    if (!s->qr)
        return SC_ENOMEM;
    pthread_mutex_init(&s->qr->lock, NULL);
    s->page_cache = calloc(1, sizeof(*s->page_cache));
    if (!s->page_cache)
        return SC_ENOMEM;
    pthread_mutex_init(&s->page_cache->lock, NULL);

    const struct sc_asset *all = sc_asset_all();
    size_t n = 0;
    while (all[n].name)
        n++;
    s->statics = calloc(n ? n : 1, sizeof(*s->statics));
    s->static_etags = calloc(n ? n : 1, sizeof(*s->static_etags));
    if (!s->statics || !s->static_etags)
        return SC_ENOMEM;
    s->nstatics = n;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(all[i].name, "static/", 7) != 0)
            continue;
        struct MHD_Response *resp = MHD_create_response_from_buffer(
            all[i].len, (void *)(uintptr_t)all[i].data, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return SC_ENOMEM;
        make_etag(s->static_etags[i], all[i].data, all[i].len);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime_of(all[i].name));
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, s->static_etags[i]);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=3600");
        add_security_headers(s, resp);
        s->statics[i] = resp;
    }
    return SC_OK;
}

void routes_cleanup(struct server *s)
{
    if (s->page_cache) {
        for (size_t i = 0; i < PAGE_SLOTS; i++)
            free(s->page_cache->slots[i].bytes);
        pthread_mutex_destroy(&s->page_cache->lock);
        free(s->page_cache);
        s->page_cache = NULL;
    }
    if (s->qr) {
        for (size_t i = 0; i < QR_SLOTS; i++)
            if (s->qr->slots[i].resp)
                MHD_destroy_response(s->qr->slots[i].resp);
        pthread_mutex_destroy(&s->qr->lock);
        free(s->qr);
        s->qr = NULL;
    }
    for (size_t i = 0; i < s->nstatics; i++)
        if (s->statics[i])
            MHD_destroy_response(s->statics[i]);
    free(s->statics);
    free(s->static_etags);
    s->statics = NULL;
    s->static_etags = NULL;
}
