/*
 * http_int.h — private to server/: the request/reply core every handler
 * uses — the server state, one request's context, the reply helpers and
 * the request accessors (reply.c), and the daemon (http.c).  What a file
 * needs beyond this it includes by name: auth_int.h (sessions, tokens,
 * CSRF, limits), track_int.h (visitors and events), pages_int.h (page
 * parts, lists, reports), routes_int.h (the handlers the route table
 * names), cache_int.h (the caches).
 */
#ifndef SHARECARD_HTTP_INT_H
#define SHARECARD_HTTP_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "sharecard/auth.h"
#include "sharecard/buf.h"
#include "sharecard/card.h"
#include "sharecard/server.h"
#include "sharecard/store.h"
#include "sharecard/tracker.h"

struct sc_pages;
struct sc_store;
struct sc_caches;
struct sc_ingest;
struct sc_uap;
struct ratelimit;
struct live;
struct req;

/* An avatar upload's body: the image (SC_AVATAR_MAX) in a multipart form, with room. */
#define SC_AVATAR_UPLOAD_MAX (SC_AVATAR_MAX + 64 * 1024)

/* The visitor cookie: set by sc_reply_add_cookie(), read by sc_track_identify() (track.c). */
#define SC_VID_COOKIE           "sc_vid"
#define SC_VID_COOKIE_MAX_AGE   (400 * 86400) /* the most browsers keep */
#define SC_VID_COOKIE_MAX_AGE_S 34560000      /* the same, as one literal for the cookie's text */
_Static_assert(SC_VID_COOKIE_MAX_AGE_S == SC_VID_COOKIE_MAX_AGE, "the cookie's Max-Age");

enum method { M_GET, M_HEAD, M_POST, M_PUT, M_DELETE, M_PATCH, M_OPTIONS, M_OTHER };

/* What answers a request once its event is durable. */
typedef enum MHD_Result continuation_fn(struct req *r);
/* What answers a gathered request: the router (router.c), given to the daemon at start. */
typedef enum MHD_Result request_fn(struct req *r);

/* Built before the daemon starts; read-only afterwards (but for the caches' own locks). */
struct server {
    const struct sc_config *cfg;
    struct sc_store *store;
    struct sc_pages *pages;
    char base_url[512]; /* no trailing slash */
    struct MHD_Daemon *daemon;
    int listen_fd;                 /* from sc_http_listen() until MHD takes it over; -1: none */
    request_fn *handle;            /* answers each request (the router) */
    struct sc_caches *caches;      /* QR, landing page, code and link caches (cache.c) */
    struct MHD_Response **statics; /* one prebuilt response per static asset (static.c) */
    char (*static_etags)[24];
    size_t nstatics;
    atomic_int inflight;        /* requests begun and not yet completed */
    atomic_bool draining;       /* shutting down: new connections are closed (sc_http_quiesce) */
    atomic_ullong responses[6]; /* answered, by status class: [1] 1xx … [5] 5xx */
    atomic_ullong unanswered;   /* events stored whose client left before the answer */
    struct sc_ingest *ingest;
    struct ratelimit *rl;
    struct sc_uap *uap;
    unsigned char salt_key[32];     /* derives each day's cookie-less visitor salt */
    unsigned char csrf_key[32];     /* keys the CSRF token of each visitor */
    char dummy_hash[SC_PWHASH_LEN]; /* verified against when an account does not exist */
    bool https;                     /* base URL is https: cookies get Secure */
    struct live *live;              /* the live feed's streams (live.c) */
    struct sc_dispatch *hooks;      /* the webhook dispatcher (webhooks.c); NULL: not running */
};

/* One per request; freed when MHD says the request is complete. */
struct req {
    struct server *srv;
    struct MHD_Connection *conn;
    const char *url; /* path, borrowed from MHD */
    const char *method_str;
    enum method method;
    struct timespec t0;
    struct sc_buf body; /* the request body, up to max_body */
    size_t max_body;    /* cfg->max_body, or more where a route takes files */
    bool body_too_big;
    uint64_t received; /* body bytes seen, kept or not */
    bool answered;
    bool close;      /* answer with Connection: close (a framing error): guard.c */
    unsigned status; /* for the access log */
    /* Caching of private pages (a session's, a survey, a customer's own /r/ page):
     * sc_reply_response() then sends Cache-Control: private, no-store and Vary: Cookie. */
    bool private_page;
    bool vary_cookie; /* the content depends on the cookie: Vary: Cookie */
    uint64_t bytes;
    /* Tracking: the visitor, and the answer waiting for an event to be durable. */
    char vid[SC_VID_MAX];  /* "" until sc_track_identify() */
    bool new_cookie;       /* vid was minted here: send Set-Cookie */
    continuation_fn *cont; /* set while suspended */
    bool ev_done;
    enum sc_err ev_result;
    struct sc_card card; /* kept for the continuation; cleaned at completion */
    struct sc_link link;
    char code[SC_CODE_LEN + 1];
    char *page; /* a landing page composed from the page cache, freed at completion */
    size_t page_len;
    struct sc_signup *signup; /* POST …/signup, freed at completion */
    /* A sign-up form field that is not text, left by guard.c for the form to refuse on the
     * card page itself (sc_h_signup), "" when none. */
    char text_bad[16];
    struct sc_conversion *conversion; /* POST /api/v1/conversions, freed at completion */
};

/* ---- the daemon (http.c) ------------------------------------------------- */

/*
 * Opens the listening socket on the configured address, before any thread
 * of MHD exists, and fills '*port' with the port it got (the configured
 * one, or any free one for port 0): what is derived from it (the base URL)
 * is then written before the workers start and only read after.  Returns
 * SC_EINVAL or SC_EIO, after printing why, when it cannot listen.
 */
enum sc_err sc_http_listen(struct server *s, unsigned *port);
/*
 * Starts MHD on 's' (borrowed until sc_http_stop()) with 's->handle'
 * answering each request, on the socket sc_http_listen() opened (which MHD
 * then owns); fills '*nthreads' with the size of its thread pool.  SC_EIO,
 * after printing why, when it cannot start.
 */
enum sc_err sc_http_start(struct server *s, unsigned *nthreads);
/* From now on new connections are closed at once; requests in flight go on. */
void sc_http_quiesce(struct server *s);
/* Stops the daemon and every connection; NULL daemon is a no-op. */
void sc_http_stop(struct server *s);

/* ---- replies (reply.c): each queues exactly one response ------------------ */

enum MHD_Result sc_reply_bytes(struct req *r, unsigned status, const char *ctype,
                               struct sc_buf *body);
enum MHD_Result sc_reply_static(struct req *r, unsigned status, const char *ctype,
                                const char *text);
enum MHD_Result sc_reply_error(struct req *r, unsigned status, const char *message);
enum MHD_Result sc_reply_redirect(struct req *r, unsigned status, const char *location);
/*
 * The response sc_reply_redirect() sends, without the visitor's cookie: the
 * same for every request it answers, so it may be kept and queued on many
 * connections (a bot's 302, cache.c).  Returns a new reference, NULL when
 * out of memory.
 */
struct MHD_Response *sc_reply_redirect_new(struct server *s, const char *location);
enum MHD_Result sc_reply_err(struct req *r, enum sc_err e, const char *message);
enum MHD_Result sc_reply_response(struct req *r, unsigned status, struct MHD_Response *resp);
/* 405 with an Allow header naming 'allow'. */
enum MHD_Result sc_reply_405(struct req *r, const char *allow);
/* 304 for 'etag' with Cache-Control 'cc'. */
enum MHD_Result sc_reply_not_modified(struct req *r, const char *etag, const char *cc);
bool sc_req_is_get(struct req *r); /* GET or HEAD */
/* Does If-None-Match name 'etag' (or "*")? */
bool sc_req_etag_matches(struct req *r, const char *etag);
/* A quoted hex ETag of the 'len' bytes at 'data'. */
void sc_etag_make(char out[24], const void *data, size_t len);

/* Adds the headers every response carries (CSP, nosniff, …). */
void sc_reply_security_headers(struct server *s, struct MHD_Response *resp);
/* Adds Set-Cookie for a visitor id minted by this request (none otherwise). */
void sc_reply_add_cookie(struct req *r, struct MHD_Response *resp);

/* The header 'name' of the request, or NULL. */
const char *sc_req_header(struct req *r, const char *name);
/* The query argument 'name', or NULL. */
const char *sc_req_arg(struct req *r, const char *name);
/* Language of the visitor from Accept-Language, falling back to 'dflt'. */
enum sc_lang sc_req_lang(struct req *r, enum sc_lang dflt);

/* ---- what every request passes (guard.c) ----------------------------------- */

/*
 * The framing of the request on 'conn' (HTTP 'version'), checked on the
 * access handler's first call, before its body is read: 0 when it can be
 * read one way only, else the status to refuse it with (400, 413 over
 * 'max_cl' bytes, 501 for a transfer coding other than chunked) and
 * '*why' (static text).  The caller closes the connection after the answer.
 */
unsigned sc_guard_framing(struct MHD_Connection *conn, const char *version, uint64_t max_cl,
                          const char **why);
/*
 * Limits below libmicrohttpd's own (issue 16): libmicrohttpd 0.9.75 answers a
 * request line or headers that overflow its connection memory with a 414 or
 * 431 page of its own, with none of our security headers, and has no hook
 * to change that page.  So we refuse sooner, with our own answer: a path
 * and query (as decoded) over SC_URI_MAX bytes gets 414, headers over
 * SC_HEADERS_MAX bytes in all 431.  0 when within, else the status and
 * '*why' (static text).  Only what outgrows the connection memory
 * (32 KiB a connection, config.c) still meets libmicrohttpd's page.
 */
#define SC_URI_MAX     8192
#define SC_HEADERS_MAX 12288
unsigned sc_guard_sizes(struct MHD_Connection *conn, const char *url, const char **why);
/*
 * True when every query argument, form field and JSON string of 'r' is
 * well-formed UTF-8 without NUL or control characters (tab, CR, LF allowed);
 * else answers (400 for a query argument, 422 for a field, naming it) into
 * '*ret' and returns false.
 */
bool sc_guard_text(struct req *r, enum MHD_Result *ret);
/*
 * False when a browser says 'r' comes from another site: Sec-Fetch-Site is
 * not same-origin, or else Origin is neither the base URL's nor this Host's.
 * A request with neither header is no browser's cross-site request.
 */
bool sc_guard_same_origin(struct req *r);

/* Maps an sc_err to an HTTP status: the one place that does. */
unsigned sc_http_status_of(enum sc_err e);

#endif
