/*
 * pages_public.c — the public pages: home, health, metrics, a card's
 * landing page (through the page cache), its QR (PNG/SVG), vCard and
 * avatar, and tracked links (/l/{code}: the scan's hot path).  Views,
 * saves, scans and opens are answered once their event is durable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "cache_int.h"
#include "pages_int.h"
#include "routes_int.h"
#include "webhooks_int.h"
#include "track_int.h"
#include "sharecard/escape.h"
#include "sharecard/ingest.h"
#include "sharecard/page.h"
#include "sharecard/store.h"

/* Loads the card at 'slug' or answers 404/503; true when 'c' was filled. */
static bool load_card(struct req *r, const char *slug, struct sc_card *c, enum MHD_Result *ret)
{
    memset(c, 0, sizeof(*c));
    if (strlen(slug) > SC_SLUG_MAX) {
        *ret = sc_reply_error(r, 404, "There is no card at this address.");
        return false;
    }
    enum sc_err e = sc_store_card_by_slug(r->srv->store, slug, c);
    if (e == SC_ENOTFOUND) {
        *ret = sc_reply_error(r, 404, "There is no card at this address.");
        return false;
    }
    if (e != SC_OK) {
        *ret = sc_reply_err(r, e, NULL);
        return false;
    }
    return true;
}

/* ---- handlers ------------------------------------------------------------ */

enum MHD_Result sc_h_home(struct req *r, const struct route_args *a)
{
    (void)a;
    struct sc_member m;
    if (sc_session_member(r, &m))
        return sc_reply_redirect(r, 303, m.role == SC_ROLE_SALES ? "/me" : "/dashboard");
    char stack[8192];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 0);
    sc_page_home(r->srv->pages, sc_req_lang(r, SC_LANG_EN), &b);
    return sc_reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

enum MHD_Result sc_h_healthz(struct req *r, const struct route_args *a)
{
    (void)a;
    if (sc_store_ping(r->srv->store) != SC_OK)
        return sc_reply_static(r, 503, "text/plain; charset=utf-8", "store unavailable\n");
    return sc_reply_static(r, 200, "text/plain; charset=utf-8", "ok\n");
}

/* Prometheus text exposition of the counters an operator watches. */
enum MHD_Result sc_h_metrics(struct req *r, const struct route_args *a)
{
    (void)a;
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
    sc_dispatch_metrics(s->hooks, s->store, &b); /* webhooks */
    return sc_reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
}

#define CSRF_LEN  22 /* sc_csrf_token(): 16 bytes in unpadded base64url */
#define CSRF_MARK "sc-csrf-mark-0f8a3c2e9b7d41" /* rendered in place of the token */

static enum MHD_Result card_page(struct req *r)
{
    if (r->ev_result != SC_OK)
        return sc_reply_not_stored(r);
    if (r->page) {
        /* Composed from the page cache before the event was queued. */
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(r->page_len, r->page, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            return MHD_NO;
        r->page = NULL; /* now the response's */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
        sc_reply_security_headers(r->srv, resp);
        sc_reply_add_cookie(r, resp);
        r->bytes = r->page_len;
        enum MHD_Result ret = sc_reply_response(r, 200, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    char stack[16384];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 0);
    enum sc_lang lang = sc_req_lang(r, r->card.lang);
    char csrf[32];
    sc_csrf_token(r, csrf);
    sc_page_card(r->srv->pages, &r->card, lang, r->srv->base_url, r->link.id ? r->link.code : NULL,
                 csrf, &b);
    return sc_reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

static enum sc_err link_lookup(struct req *r, const char *code, struct sc_link *out);

/* The tracked link named by ?l= when it leads to card 'card_id', into r->link. */
static void arrived_by(struct req *r, int64_t card_id)
{
    const char *code = sc_req_arg(r, "l");
    memset(&r->link, 0, sizeof(r->link));
    if (code && strlen(code) <= SC_CODE_LEN &&
        (link_lookup(r, code, &r->link) != SC_OK || r->link.card_id != card_id))
        memset(&r->link, 0, sizeof(r->link));
}

/* ---- the landing page through the page cache (cache.c) ---------------------- */

/*
 * A landing page is the same for every visitor but for the CSRF token of
 * its sign-up form, so the cache keeps the bytes around the token and each
 * request copies them around its own token: no store read, no rendering.
 * Per-visitor parts stay out: the token is written per request and the
 * Set-Cookie header is added to each response.  Cards shown as disabled
 * (410) and owner previews are never cached.
 */
/* What the request's Accept-Language settles: a language, or 2 for the card's own. */
static int accept_of(struct req *r)
{
    const char *al = sc_req_header(r, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
    enum sc_lang a = sc_lang_accept(al, SC_LANG_EN), b = sc_lang_accept(al, SC_LANG_ZH);
    return a == b ? (int)a : 2;
}

/*
 * Writes the visitor's CSRF token into the gap left at 'at' in 'page' (taken
 * from the cache), and keeps the page in 'r' for card_page().
 */
static bool page_finish(struct req *r, char *page, size_t len, size_t at)
{
    char csrf[32];
    sc_csrf_token(r, csrf);
    if (strlen(csrf) != CSRF_LEN) {
        free(page);
        return false;
    }
    memcpy(page + at, csrf, CSRF_LEN);
    r->page = page;
    r->page_len = len + CSRF_LEN;
    return true;
}

/* Answers from the cache: on a hit fills r->card.id, r->link and r->page and returns true. */
static bool page_hit(struct req *r, const char *slug, const char *l, int accept)
{
    struct sc_page_entry e;
    char *page = sc_cache_page_get(r->srv->caches, slug, l, accept, CSRF_LEN, &e);
    if (!page)
        return false;
    r->card.id = e.card_id;
    r->link = e.link;
    return page_finish(r, page, e.len, e.at);
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
    struct sc_page_entry e = {r->card.id, r->link, len, at};
    page = sc_cache_page_put(r->srv->caches, r->card.slug, l, accept, gen, bytes, &e, CSRF_LEN);
    return page && page_finish(r, page, len, at);
}

/* The view 'ev' of r->card (by r->link) queued: a bot's answered at once, a person's once durable.
 */
static enum MHD_Result view_then(struct req *r, struct sc_event *ev, bool bot)
{
    ev->card_id = r->card.id;
    ev->link_id = r->link.id;
    if (bot)
        return sc_track_bot_then(r, ev, card_page);
    sc_track_visitor(r, ev);
    return sc_track_then(r, ev, card_page);
}

enum MHD_Result sc_h_card(struct req *r, const struct route_args *a)
{
    const char *slug = a->arg;
    enum MHD_Result ret;
    struct sc_event ev;
    const char *l = sc_req_arg(r, "l");
    if (!l || strlen(l) > SC_CODE_LEN)
        l = "";
    bool cacheable = !sc_req_arg(r, "preview") && strlen(slug) <= SC_SLUG_MAX;
    int accept = accept_of(r);
    /*
     * A bot's view (issue 15): recorded with no visitor (no visitor key, never a unique) and
     * answered without waiting for its row.  Its page keeps a working sign-up form, so the
     * CSRF token still binds it to a cookie (headless browsers and tools do sign up).
     */
    bool bot = sc_track_classify(r, &ev, SC_EV_VIEW);
    if (cacheable && page_hit(r, slug, l, accept))
        return view_then(r, &ev, bot);
    uint64_t gen = sc_cache_page_gen(r->srv->caches);
    if (!load_card(r, slug, &r->card, &ret))
        return ret;
    if (r->card.disabled) {
        char stack[8192];
        struct sc_buf b;
        sc_buf_init_on(&b, stack, sizeof(stack), 0);
        sc_page_card_disabled(r->srv->pages, &r->card, sc_req_lang(r, r->card.lang), &b);
        return sc_reply_bytes(r, 410, "text/html; charset=utf-8", &b);
    }
    arrived_by(r, r->card.id);
    struct sc_member owner;
    if (sc_req_arg(r, "preview") && sc_session_member(r, &owner) && owner.id == r->card.member_id) {
        r->ev_result = SC_OK; /* the owner's own preview: not a view */
        return card_page(r);
    }
    if (cacheable)
        page_put(r, l, accept, gen); /* on failure card_page() renders the page itself */
    return view_then(r, &ev, bot);
}

static enum MHD_Result h_qr(struct req *r, const char *slug, bool svg)
{
    char code[SC_CODE_LEN + 1];
    if (strlen(slug) <= SC_SLUG_MAX && sc_cache_code_get(r->srv->caches, slug, code))
        return sc_public_qr(r, code, svg);
    enum MHD_Result ret;
    if (!load_card(r, slug, &r->card, &ret))
        return ret;
    if (r->card.qr_code[0])
        sc_cache_code_put(r->srv->caches, slug, r->card.qr_code);
    return sc_public_qr(r, r->card.qr_code, svg);
}

enum MHD_Result sc_h_qr_png(struct req *r, const struct route_args *a)
{
    return h_qr(r, a->arg, false);
}

enum MHD_Result sc_h_qr_svg(struct req *r, const struct route_args *a)
{
    return h_qr(r, a->arg, true);
}

enum MHD_Result sc_public_qr(struct req *r, const char *code, bool svg)
{
    unsigned size = SC_QR_SIZE_DEFAULT;
    const char *sz = sc_req_arg(r, "size");
    if (sz && !svg) {
        int64_t v = sc_num_arg(sz); /* digits only: " 300" and "+300" are refused */
        if (v < SC_QR_SIZE_MIN || v > SC_QR_SIZE_MAX) {
            char msg[128];
            snprintf(msg, sizeof(msg), "size must be a whole number of pixels from %d to %d.",
                     SC_QR_SIZE_MIN, SC_QR_SIZE_MAX);
            return sc_reply_error(r, 400, msg);
        }
        size = (unsigned)v;
    }
    enum MHD_Result ret = MHD_NO;
    char key[48], etag[24];
    snprintf(key, sizeof(key), "%s:%u:%s", svg ? "svg" : "png", svg ? 0 : size, code);
    const char *cc = "public, max-age=86400";
    if (sc_cache_qr_serve(r->srv->caches, key, r, &ret))
        return ret;

    char url[600];
    snprintf(url, sizeof(url), "%s/l/%s", r->srv->base_url, code);
    char tag_src[700];
    int n = snprintf(tag_src, sizeof(tag_src), "%s|%s", key, url);
    sc_etag_make(etag, tag_src, (size_t)n);
    if (sc_req_etag_matches(r, etag))
        return sc_reply_not_modified(r, etag, cc);

    struct sc_buf b;
    sc_buf_init(&b, 8 << 20);
    enum sc_err e = svg ? sc_qr_svg(&b, url) : sc_qr_png(&b, url, size);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return sc_reply_err(r, e, "The QR code could not be made.");
    }
    size_t len;
    char *data = sc_buf_steal(&b, &len);
    if (!data)
        return sc_reply_err(r, SC_ENOMEM, NULL);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            svg ? "image/svg+xml" : "image/png");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
    sc_reply_security_headers(r->srv, resp);
    r->bytes = len;
    ret = sc_reply_response(r, 200, resp);
    sc_cache_qr_put(r->srv->caches, key, resp, etag);
    return ret;
}

static enum MHD_Result vcard_file(struct req *r)
{
    if (r->ev_result != SC_OK)
        return sc_reply_not_stored(r);
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
        return sc_reply_err(r, e, "The contact file could not be made.");
    }
    size_t len;
    char *data = sc_buf_steal(&b, &len);
    struct MHD_Response *resp =
        data ? MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!resp) {
        free(data);
        sc_buf_cleanup(&d);
        return sc_reply_err(r, SC_ENOMEM, NULL);
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/vcard; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
                            sc_buf_error(&d) ? "attachment; filename=\"contact.vcf\"" : d.data);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-cache");
    sc_reply_security_headers(r->srv, resp);
    sc_reply_add_cookie(r, resp);
    sc_buf_cleanup(&d);
    r->bytes = len;
    ret = sc_reply_response(r, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result sc_h_vcard(struct req *r, const struct route_args *a)
{
    const char *slug = a->arg;
    enum MHD_Result ret;
    if (!load_card(r, slug, &r->card, &ret))
        return ret;
    if (r->card.disabled)
        return sc_reply_error(r, 410, "This card is no longer active.");
    arrived_by(r, r->card.id);
    struct sc_event ev;
    sc_track_event_init(r, &ev, SC_EV_SAVE, r->card.id, r->link.id);
    return sc_track_then(r, &ev, vcard_file);
}

enum MHD_Result sc_h_avatar(struct req *r, const struct route_args *a)
{
    const char *slug = a->arg;
    struct sc_card c;
    enum MHD_Result ret;
    if (!load_card(r, slug, &c, &ret))
        return ret;
    if (!c.avatar || c.avatar_len == 0) {
        sc_card_cleanup(&c);
        return sc_reply_error(r, 404, "This card has no photo.");
    }
    char etag[24];
    sc_etag_make(etag, c.avatar, c.avatar_len);
    const char *cc = "public, max-age=86400";
    if (sc_req_etag_matches(r, etag)) {
        sc_card_cleanup(&c);
        return sc_reply_not_modified(r, etag, cc);
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
    sc_reply_security_headers(r->srv, resp);
    r->bytes = c.avatar_len;
    sc_card_cleanup(&c);
    ret = sc_reply_response(r, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Where link 'l' leads: "/c/{slug}?l={code}" into 'loc'. */
static void link_location(const struct sc_link *l, char loc[SC_SLUG_MAX + SC_CODE_LEN + 16])
{
    size_t ns = strnlen(l->card_slug, SC_SLUG_MAX), nc = strnlen(l->code, SC_CODE_LEN);
    memcpy(loc, "/c/", 3);
    memcpy(loc + 3, l->card_slug, ns);
    memcpy(loc + 3 + ns, "?l=", 3);
    memcpy(loc + 6 + ns, l->code, nc);
    loc[6 + ns + nc] = '\0';
}

static enum MHD_Result link_redirect(struct req *r)
{
    if (r->ev_result != SC_OK)
        return sc_reply_not_stored(r);
    char loc[SC_SLUG_MAX + SC_CODE_LEN + 16];
    link_location(&r->link, loc);
    return sc_reply_redirect(r, 302, loc);
}

/*
 * A bot's 302 (issue 15): no cookie, so the same response for every bot on
 * this link, built once and kept beside the link in the link cache.  A
 * request whose answer gets headers of its own (Connection: close, private
 * caching) gets a response of its own.
 */
static enum MHD_Result bot_redirect(struct req *r)
{
    if (r->ev_result != SC_OK)
        return sc_reply_not_stored(r);
    bool shared = !r->close && !r->private_page && !r->vary_cookie;
    enum MHD_Result ret;
    if (shared && sc_cache_link_bot_serve(r->srv->caches, &r->link, r, &ret))
        return ret;
    char loc[SC_SLUG_MAX + SC_CODE_LEN + 16];
    link_location(&r->link, loc);
    struct MHD_Response *resp = sc_reply_redirect_new(r->srv, loc);
    if (!resp)
        return MHD_NO;
    ret = sc_reply_response(r, 302, resp);
    if (shared)
        sc_cache_link_bot_put(r->srv->caches, &r->link, resp); /* takes our reference */
    else
        MHD_destroy_response(resp);
    return ret;
}

/* The tracked link 'code' into 'out', from the link cache or the store. */
static enum sc_err link_lookup(struct req *r, const char *code, struct sc_link *out)
{
    if (strlen(code) > SC_CODE_LEN)
        return SC_ENOTFOUND;
    if (sc_cache_link_get(r->srv->caches, code, out))
        return SC_OK;
    enum sc_err e = sc_store_link_by_code(r->srv->store, code, out);
    if (e == SC_OK)
        sc_cache_link_put(r->srv->caches, out);
    return e;
}

enum MHD_Result sc_h_link(struct req *r, const struct route_args *a)
{
    const char *code = a->arg;
    if (strlen(code) > SC_CODE_LEN + 8)
        return sc_reply_error(r, 404, "This link does not exist. Check that it was copied whole.");
    enum sc_err e = link_lookup(r, code, &r->link);
    if (e == SC_ENOTFOUND)
        return sc_reply_error(r, 404, "This link does not exist. Check that it was copied whole.");
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    struct sc_event ev;
    if (sc_track_bot_event(r, &ev, r->link.channel == SC_CH_QR ? SC_EV_SCAN : SC_EV_OPEN,
                           r->link.card_id, r->link.id))
        return sc_track_bot_then(r, &ev, bot_redirect); /* issue 15: bots answered at once */
    return sc_track_then(r, &ev, link_redirect);
}
