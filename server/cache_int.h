/*
 * cache_int.h — private to server/: the four caches of the public pages
 * (QR images, landing pages, slug → QR link code, tracked links), held in
 * one struct sc_caches that struct server owns.  Each cache has its own lock;
 * nothing here is a file-level global.
 */
#ifndef SHARECARD_CACHE_INT_H
#define SHARECARD_CACHE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_int.h"
#include "sharecard/domain.h"

struct sc_caches;

/* Returns new caches in '*out'; free with sc_cache_free(). */
enum sc_err sc_cache_new(struct sc_caches **out);
/* Frees 'c' and every cached response and page; NULL is a no-op. */
void sc_cache_free(struct sc_caches *c);

/*
 * QR responses, keyed by 'key' (kind, size, link code).  sc_cache_qr_serve()
 * answers 'r' when 'key' is there (304 when the client has it) and returns
 * true with '*ret' set; false on a miss, with nothing queued.
 * sc_cache_qr_put() takes ownership of the caller's reference to 'resp'.
 */
bool sc_cache_qr_serve(struct sc_caches *c, const char *key, struct req *r, enum MHD_Result *ret);
void sc_cache_qr_put(struct sc_caches *c, const char *key, struct MHD_Response *resp,
                     const char *etag);

/* slug → the card's QR link code, remembered for a minute. */
bool sc_cache_code_get(struct sc_caches *c, const char *slug, char code[SC_CODE_LEN + 1]);
void sc_cache_code_put(struct sc_caches *c, const char *slug, const char *code);

/* Tracked links by code, remembered for a minute (they never change once minted). */
bool sc_cache_link_get(struct sc_caches *c, const char *code, struct sc_link *out);
void sc_cache_link_put(struct sc_caches *c, const struct sc_link *link);
/*
 * Issue 15: a bot's 302 to 'link' (no cookie: the same for every bot) kept
 * beside the link while the link is cached, so a bot's answer is one queue
 * of a shared response.  sc_cache_link_bot_serve() answers 'r' with it and
 * returns true with '*ret' set; false, with nothing queued, when it is not
 * there.  sc_cache_link_bot_put() takes ownership of the caller's reference
 * to 'resp' (dropped when 'link' is no longer the one cached).
 */
bool sc_cache_link_bot_serve(struct sc_caches *c, const struct sc_link *link, struct req *r,
                             enum MHD_Result *ret);
void sc_cache_link_bot_put(struct sc_caches *c, const struct sc_link *link,
                           struct MHD_Response *resp);

/*
 * Landing pages, keyed by (slug, ?l= argument 'l', 'accept': 0 English,
 * 1 Chinese, 2 the card's own language).  A page is kept with a gap cut out
 * where the visitor's CSRF token goes.
 */
struct sc_page_entry {
    int64_t card_id;
    struct sc_link link; /* the link ?l= named, when it leads to this card */
    size_t len;          /* the page's length without the gap */
    size_t at;           /* where the gap of 'gap' bytes starts */
};
/* The generation to pass to sc_cache_page_put(): read it before reading the card. */
uint64_t sc_cache_page_gen(struct sc_caches *c);
/* Drops every cached page: call after anything that may change a card. */
void sc_cache_page_forget(struct sc_caches *c);
/*
 * On a hit, returns a new copy of the page (free with free()) with 'gap'
 * bytes left open at 'e->at', and fills 'e'; NULL on a miss.
 */
char *sc_cache_page_get(struct sc_caches *c, const char *slug, const char *l, int accept,
                        size_t gap, struct sc_page_entry *e);
/*
 * Keeps 'bytes' (taken; malloc'd, the page without its gap, as 'e' says) for
 * the card read at generation 'gen', and returns a new copy with the gap
 * open, as sc_cache_page_get() does (NULL when out of memory).
 */
char *sc_cache_page_put(struct sc_caches *c, const char *slug, const char *l, int accept,
                        uint64_t gen, char *bytes, const struct sc_page_entry *e, size_t gap);

#endif
