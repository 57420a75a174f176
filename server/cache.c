/*
 * cache.c — the caches of the public pages, owned by struct server:
 *
 *   - QR responses by (kind, size, code): MHD responses are reference
 *     counted, so a cached one is queued on many connections at once;
 *   - landing pages by (slug, ?l=, language asked for), for PAGE_TTL_MS or
 *     until this process changes anything (sc_cache_page_forget());
 *   - slug → QR link code, and tracked links by code, for a minute: neither
 *     changes once minted, so the hot paths skip the store; beside a link,
 *     the 302 a bot gets (no cookie), built once and queued for every bot.
 *
 * Every cache is direct-mapped (a new key evicts whatever shared its slot)
 * and has its own lock.  A change made by another process (the CLI) shows
 * within a cache's lifetime.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache_int.h"

#define QR_SLOTS    1024
#define PAGE_SLOTS  256
#define PAGE_TTL_MS 1000
#define CODE_SLOTS  1024
#define CODE_TTL    60
#define LINK_SLOTS  4096
#define LINK_TTL    60

struct qr_slot {
    char key[48];
    struct MHD_Response *resp; /* the cache's reference */
    char etag[24];
};

struct page_slot {
    char slug[SC_SLUG_MAX + 1];
    char l[SC_CODE_LEN + 1]; /* the ?l= argument as asked for ("" when none or too long) */
    int accept;              /* 0 English, 1 Chinese, 2 the card's own language */
    uint64_t gen;            /* page_gen when the card was read */
    int64_t until_ms;        /* monotonic deadline */
    struct sc_page_entry e;
    char *bytes; /* the page, gap cut out: NULL when empty */
};

struct code_slot {
    char slug[SC_SLUG_MAX + 1];
    char code[SC_CODE_LEN + 1];
    int64_t until; /* unix seconds */
};

struct link_slot {
    struct sc_link link;
    int64_t until;            /* unix seconds */
    struct MHD_Response *bot; /* the cache's reference to a bot's 302 to 'link', or NULL */
};

struct sc_caches {
    pthread_mutex_t qr_lock;
    struct qr_slot qr[QR_SLOTS];
    pthread_mutex_t page_lock;
    _Atomic uint64_t page_gen; /* bumped on every change made through this process */
    struct page_slot page[PAGE_SLOTS];
    pthread_mutex_t code_lock;
    struct code_slot code[CODE_SLOTS];
    pthread_mutex_t link_lock;
    struct link_slot link[LINK_SLOTS];
};

static uint64_t fnv(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h;
}

#define FNV_BASIS 1469598103934665603ULL

enum sc_err sc_cache_new(struct sc_caches **out)
{
    struct sc_caches *c = calloc(1, sizeof(*c));
    if (!c)
        return SC_ENOMEM;
    pthread_mutex_init(&c->qr_lock, NULL);
    pthread_mutex_init(&c->page_lock, NULL);
    pthread_mutex_init(&c->code_lock, NULL);
    pthread_mutex_init(&c->link_lock, NULL);
    *out = c;
    return SC_OK;
}

void sc_cache_free(struct sc_caches *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < PAGE_SLOTS; i++)
        free(c->page[i].bytes);
    for (size_t i = 0; i < QR_SLOTS; i++)
        if (c->qr[i].resp)
            MHD_destroy_response(c->qr[i].resp);
    for (size_t i = 0; i < LINK_SLOTS; i++)
        if (c->link[i].bot)
            MHD_destroy_response(c->link[i].bot);
    pthread_mutex_destroy(&c->qr_lock);
    pthread_mutex_destroy(&c->page_lock);
    pthread_mutex_destroy(&c->code_lock);
    pthread_mutex_destroy(&c->link_lock);
    free(c);
}

/* ---- QR responses ------------------------------------------------------- */

/*
 * The cached response is queued under the lock so that an eviction cannot
 * free it first (MHD takes its own reference when queueing).
 */
bool sc_cache_qr_serve(struct sc_caches *c, const char *key, struct req *r, enum MHD_Result *ret)
{
    bool hit = false;
    char etag[24];
    struct qr_slot *s = &c->qr[fnv(FNV_BASIS, key) % QR_SLOTS];
    pthread_mutex_lock(&c->qr_lock);
    if (s->resp && strcmp(s->key, key) == 0) {
        hit = true;
        memcpy(etag, s->etag, sizeof(etag));
        if (!sc_req_etag_matches(r, etag))
            *ret = sc_reply_response(r, 200, s->resp);
    }
    pthread_mutex_unlock(&c->qr_lock);
    if (hit && !r->answered)
        *ret = sc_reply_not_modified(r, etag, "public, max-age=86400");
    return hit;
}

void sc_cache_qr_put(struct sc_caches *c, const char *key, struct MHD_Response *resp,
                     const char *etag)
{
    struct qr_slot *s = &c->qr[fnv(FNV_BASIS, key) % QR_SLOTS];
    pthread_mutex_lock(&c->qr_lock);
    if (s->resp) {
        /*
         * An evicted response may still be queued on a connection: MHD holds
         * its own reference for that, so dropping ours here is safe.
         */
        MHD_destroy_response(s->resp);
    }
    snprintf(s->key, sizeof(s->key), "%s", key);
    snprintf(s->etag, sizeof(s->etag), "%s", etag);
    s->resp = resp;
    pthread_mutex_unlock(&c->qr_lock);
}

/* ---- slug → QR link code -------------------------------------------------- */

bool sc_cache_code_get(struct sc_caches *c, const char *slug, char code[SC_CODE_LEN + 1])
{
    struct code_slot *s = &c->code[fnv(FNV_BASIS, slug) % CODE_SLOTS];
    bool hit = false;
    pthread_mutex_lock(&c->code_lock);
    if (s->until > (int64_t)time(NULL) && strcmp(s->slug, slug) == 0) {
        memcpy(code, s->code, SC_CODE_LEN + 1);
        hit = true;
    }
    pthread_mutex_unlock(&c->code_lock);
    return hit;
}

void sc_cache_code_put(struct sc_caches *c, const char *slug, const char *code)
{
    struct code_slot *s = &c->code[fnv(FNV_BASIS, slug) % CODE_SLOTS];
    pthread_mutex_lock(&c->code_lock);
    snprintf(s->slug, sizeof(s->slug), "%s", slug);
    snprintf(s->code, sizeof(s->code), "%s", code);
    s->until = (int64_t)time(NULL) + CODE_TTL;
    pthread_mutex_unlock(&c->code_lock);
}

/* ---- tracked links ------------------------------------------------------- */

bool sc_cache_link_get(struct sc_caches *c, const char *code, struct sc_link *out)
{
    struct link_slot *s = &c->link[fnv(FNV_BASIS, code) % LINK_SLOTS];
    pthread_mutex_lock(&c->link_lock);
    bool hit = s->until > (int64_t)time(NULL) && strcmp(s->link.code, code) == 0;
    if (hit)
        *out = s->link;
    pthread_mutex_unlock(&c->link_lock);
    return hit;
}

void sc_cache_link_put(struct sc_caches *c, const struct sc_link *link)
{
    struct link_slot *s = &c->link[fnv(FNV_BASIS, link->code) % LINK_SLOTS];
    pthread_mutex_lock(&c->link_lock);
    if (s->bot) { /* built for the link read before: MHD holds its own references */
        MHD_destroy_response(s->bot);
        s->bot = NULL;
    }
    s->link = *link;
    s->until = (int64_t)time(NULL) + LINK_TTL;
    pthread_mutex_unlock(&c->link_lock);
}

/* True when slot 's' holds 'link' as read (its id, code and card's slug: the 302's Location). */
static bool link_same(const struct link_slot *s, const struct sc_link *link)
{
    return s->link.id == link->id && strcmp(s->link.code, link->code) == 0 &&
           strcmp(s->link.card_slug, link->card_slug) == 0;
}

/* Queued under the lock, as the QR responses are: an eviction cannot free it first. */
bool sc_cache_link_bot_serve(struct sc_caches *c, const struct sc_link *link, struct req *r,
                             enum MHD_Result *ret)
{
    struct link_slot *s = &c->link[fnv(FNV_BASIS, link->code) % LINK_SLOTS];
    pthread_mutex_lock(&c->link_lock);
    bool hit = s->bot && link_same(s, link);
    if (hit)
        *ret = sc_reply_response(r, 302, s->bot);
    pthread_mutex_unlock(&c->link_lock);
    return hit;
}

void sc_cache_link_bot_put(struct sc_caches *c, const struct sc_link *link,
                           struct MHD_Response *resp)
{
    struct link_slot *s = &c->link[fnv(FNV_BASIS, link->code) % LINK_SLOTS];
    pthread_mutex_lock(&c->link_lock);
    if (!s->bot && link_same(s, link)) {
        s->bot = resp;
        resp = NULL;
    }
    pthread_mutex_unlock(&c->link_lock);
    if (resp) /* another thread's is there, or the link was evicted: ours is not kept */
        MHD_destroy_response(resp);
}

/* ---- landing pages -------------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t sc_cache_page_gen(struct sc_caches *c)
{
    return atomic_load(&c->page_gen);
}

void sc_cache_page_forget(struct sc_caches *c)
{
    if (c)
        atomic_fetch_add(&c->page_gen, 1);
}

static struct page_slot *page_slot_of(struct sc_caches *c, const char *slug, const char *l,
                                      int accept)
{
    uint64_t h = fnv(FNV_BASIS, slug); /* FNV-1a over slug, l and accept */
    h = (h ^ '/') * 1099511628211ULL;
    h = fnv(h, l);
    h = (h ^ (unsigned)accept) * 1099511628211ULL;
    return &c->page[h % PAGE_SLOTS];
}

/* A copy of the slot's page with a gap of 'gap' bytes at its 'at', or NULL. */
static char *page_copy(const struct page_slot *sl, size_t gap)
{
    char *p = malloc(sl->e.len + gap);
    if (!p)
        return NULL;
    memcpy(p, sl->bytes, sl->e.at);
    memcpy(p + sl->e.at + gap, sl->bytes + sl->e.at, sl->e.len - sl->e.at);
    return p;
}

char *sc_cache_page_get(struct sc_caches *c, const char *slug, const char *l, int accept,
                        size_t gap, struct sc_page_entry *e)
{
    struct page_slot *sl = page_slot_of(c, slug, l, accept);
    char *page = NULL;
    pthread_mutex_lock(&c->page_lock);
    if (sl->bytes && sl->gen == atomic_load(&c->page_gen) && sl->until_ms > mono_ms() &&
        sl->accept == accept && strcmp(sl->slug, slug) == 0 && strcmp(sl->l, l) == 0 &&
        (page = page_copy(sl, gap)) != NULL)
        *e = sl->e;
    pthread_mutex_unlock(&c->page_lock);
    return page;
}

char *sc_cache_page_put(struct sc_caches *c, const char *slug, const char *l, int accept,
                        uint64_t gen, char *bytes, const struct sc_page_entry *e, size_t gap)
{
    struct page_slot *sl = page_slot_of(c, slug, l, accept);
    pthread_mutex_lock(&c->page_lock);
    free(sl->bytes);
    snprintf(sl->slug, sizeof(sl->slug), "%s", slug);
    snprintf(sl->l, sizeof(sl->l), "%s", l);
    sl->accept = accept;
    sl->gen = gen;
    sl->until_ms = mono_ms() + PAGE_TTL_MS;
    sl->e = *e;
    sl->bytes = bytes;
    char *page = page_copy(sl, gap);
    pthread_mutex_unlock(&c->page_lock);
    return page;
}
