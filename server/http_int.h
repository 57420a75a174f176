/*
 * http_int.h — private to server/: the request context, the server state
 * and the reply helpers every route uses.
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

/* An avatar upload's body: the image (SC_AVATAR_MAX) in a multipart form, with room. */
#define SC_AVATAR_UPLOAD_MAX (SC_AVATAR_MAX + 64 * 1024)

enum method { M_GET, M_HEAD, M_POST, M_PUT, M_DELETE, M_PATCH, M_OPTIONS, M_OTHER };

struct qr_cache;
struct page_cache;
struct ratelimit;
struct sc_ingest;
struct live;
struct req;

/* What answers a request once its event is durable. */
typedef enum MHD_Result continuation_fn(struct req *r);

/* Built before the daemon starts; read-only afterwards (but for the caches' own locks). */
struct server {
    const struct sc_config *cfg;
    struct sc_store *store;
    struct sc_pages *pages;
    char base_url[512]; /* no trailing slash */
    struct MHD_Daemon *daemon;
    struct qr_cache *qr;
    struct page_cache *page_cache; /* rendered landing pages (routes.c) */
    struct MHD_Response **statics; /* one prebuilt response per static asset */
    char (*static_etags)[24];
    size_t nstatics;
    atomic_int inflight;        /* requests begun and not yet completed */
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
    unsigned status; /* for the access log */
    uint64_t bytes;
    /* Tracking: the visitor, and the answer waiting for an event to be durable. */
    char vid[SC_VID_MAX];  /* "" until identify() */
    bool new_cookie;       /* vid was minted here: send Set-Cookie */
    continuation_fn *cont; /* set while suspended */
    bool ev_done;
    enum sc_err ev_result;
    struct sc_card card; /* kept for the continuation; cleaned at completion */
    struct sc_link link;
    char code[SC_CODE_LEN + 1];
    char *page; /* a landing page composed from the page cache, freed at completion */
    size_t page_len;
    struct sc_signup *signup;         /* POST …/signup, freed at completion */
    struct sc_conversion *conversion; /* POST /api/v1/conversions, freed at completion */
};

/* Replies.  Each queues exactly one response and returns MHD_YES/NO. */
enum MHD_Result reply_bytes(struct req *r, unsigned status, const char *ctype, struct sc_buf *body);
enum MHD_Result reply_static(struct req *r, unsigned status, const char *ctype, const char *text);
enum MHD_Result reply_error(struct req *r, unsigned status, const char *message);
enum MHD_Result reply_redirect(struct req *r, unsigned status, const char *location);
enum MHD_Result reply_err(struct req *r, enum sc_err e, const char *message);
enum MHD_Result reply_response(struct req *r, unsigned status, struct MHD_Response *resp);
/* 405 with an Allow header naming 'allow'. */
enum MHD_Result reply_405(struct req *r, const char *allow);
bool is_get(struct req *r); /* GET or HEAD */

/* Adds the headers every response carries (CSP, nosniff, …). */
void add_security_headers(struct server *s, struct MHD_Response *resp);

/* The header 'name' of the request, or NULL. */
const char *req_header(struct req *r, const char *name);
/* The query argument 'name', or NULL. */
const char *req_arg(struct req *r, const char *name);
/* Language of the visitor from Accept-Language, falling back to 'dflt'. */
enum sc_lang req_lang(struct req *r, enum sc_lang dflt);

/* Maps an sc_err to an HTTP status: the one place that does. */
unsigned http_status_of(enum sc_err e);

/* Rate limits (ratelimit.c): true while 'key' has used fewer than 'limit' in this window. */
struct ratelimit *rl_new(void);
void rl_free(struct ratelimit *rl);
bool rl_allow(struct ratelimit *rl, const char *scope, const char *key, unsigned limit,
              unsigned window_s);
/* The same check without using one up (for counting only failures). */
bool rl_within(struct ratelimit *rl, const char *scope, const char *key, unsigned limit,
               unsigned window_s);

/* Tracking (track.c). */
void identify(struct req *r);
void event_init(struct req *r, struct sc_event *ev, enum sc_ev_type type, int64_t card_id,
                int64_t link_id);
/* Suspends 'r' until 'ev' is durable, then calls 'cont' to answer. */
enum MHD_Result track_then(struct req *r, const struct sc_event *ev, continuation_fn *cont);
/* The 503 for an event that could not be stored. */
enum MHD_Result reply_not_stored(struct req *r);
void add_cookie(struct req *r, struct MHD_Response *resp);
enum MHD_Result h_event(struct req *r);
enum MHD_Result h_share(struct req *r, const char *slug);
enum MHD_Result h_api(struct req *r, const char *path);

/*
 * Throttling of failed attempts (account.c), counted in the store so that all
 * instances agree: true while 'scope':'key' has had fewer than 'limit' failures
 * in the last 'window_s' seconds; throttle_fail() records one.
 */
bool throttle_ok(struct req *r, const char *scope, const char *key, int64_t limit,
                 int64_t window_s);
void throttle_fail(struct req *r, const char *scope, const char *key, int64_t window_s);
/*
 * For limits on attempts rather than failures (sign-ups): true, and the
 * attempt counted, while 'scope':'key' has had fewer than 'limit' in the
 * window; false, and nothing counted, once it has had that many.
 */
bool throttle_take(struct req *r, const char *scope, const char *key, int64_t limit,
                   int64_t window_s);

/* Accounts and signed-in pages (account.c, dashboard.c). */
bool session_member(struct req *r, struct sc_member *m);
/* A new session for 'm' (replacing the cookie's): answers 303 to 'location'. */
enum MHD_Result session_start(struct req *r, const struct sc_member *m, const char *location);
enum MHD_Result h_login_page(struct req *r);
enum MHD_Result h_login(struct req *r);
enum MHD_Result h_logout(struct req *r);
enum MHD_Result h_dashboard(struct req *r);
enum MHD_Result h_me(struct req *r);
enum MHD_Result h_editor(struct req *r);
enum MHD_Result h_avatar_upload(struct req *r);

/* The QR of the tracked link 'code' (routes.c), cached. */
enum MHD_Result serve_qr(struct req *r, const char *code, bool svg);

/* Sign-ups and referrals (signup.c). */
void csrf_token(struct req *r, char out[32]);
enum MHD_Result h_signup(struct req *r, const char *slug);
enum MHD_Result h_referral(struct req *r, const char *code, const char *sub);
enum MHD_Result api_signups(struct req *r);
enum MHD_Result api_rewards(struct req *r);
enum MHD_Result api_leaderboard(struct req *r);
enum MHD_Result api_conversions(struct req *r);
bool api_member(struct req *r, struct sc_member *m, enum MHD_Result *ret);
bool may_read_card(struct req *r, const struct sc_member *m, int64_t owner_id);

/* Languages of the signed-in pages (i18n.c): set per request, English by default. */
void tr_set(enum sc_lang l);
enum sc_lang tr_lang(void);
const char *tr(const char *en) __attribute__((format_arg(1))); /* 'en' in the current language */
/* Our own markup, its text (and title, placeholder, aria-label) in the current language. */
void ui_html(struct sc_buf *b, const char *html);
void ui_htmlf(struct sc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Shared page parts and writers (ui.c). */
void ui_text(struct sc_buf *b, const char *s); /* HTML-escaped; nothing for NULL */
void ui_head(struct sc_buf *b, const char *title);
/* The frame of a signed-in page: navigation for 'm''s role ('here' marked), then the title. */
void ui_begin(struct req *r, struct sc_buf *b, const char *title, const struct sc_member *m,
              const char *here);
void ui_end(struct sc_buf *b);
void ui_csrf_field(struct req *r, struct sc_buf *b);
/* Does the posted form carry this visitor's CSRF token? */
bool csrf_ok(struct req *r);
bool csrf_matches(struct req *r, const char *got); /* the same, for a token read elsewhere */
/* The urlencoded form field 'name' of the request body into 'out' ("" when absent). */
enum sc_err form_field(struct req *r, const char *name, char *out, size_t n);
void json_str(struct sc_buf *b, const char *s); /* a JSON string, or null */
/* A CSV field: quoted when it holds a comma, quote or line break; formula-safe. */
void csv_field(struct sc_buf *b, const char *s);
void iso_time(int64_t t, char out[32]);
bool day_parse(const char *s, int64_t *day); /* "YYYY-MM-DD" to a UTC day number */
void day_format(int64_t day, char out[11]);

/* A list answered as JSON (an array) or, with ?format=csv, CSV with a BOM. */
struct list_out {
    struct sc_buf b;
    bool csv;
    size_t rows;
};
void list_begin(struct req *r, struct list_out *o, const char *csv_header);
void list_csv_row(struct list_out *o, const char *const *f, size_t n);
enum MHD_Result list_finish(struct req *r, struct list_out *o, enum sc_err e);
/*
 * A report's reader and range: the API member (or 401), ?from=&to= as
 * YYYY-MM-DD (the last 30 days when absent; 400 when malformed) and the
 * scope the member may see.  False when '*ret' already answered.
 */
bool api_report(struct req *r, struct sc_member *m, struct sc_scope *scope, int64_t *from,
                int64_t *to, enum MHD_Result *ret);

/* Members (members.c): added with the same checks from the CLI, the page and a CSV import. */
struct member_input {
    const char *name, *email, *team, *role, *slug, *title, *phone; /* NULL or "" when not given */
};
enum sc_err member_create(struct sc_store *s, const char *actor, const struct member_input *in,
                          struct sc_member *out, char *why, size_t whylen);
#define IMPORT_MAX_ROWS 2000
struct import_result {
    size_t added, failed;
    bool bad_header;
    struct sc_buf rows; /* one HTML table row per line: line number, e-mail, outcome */
};
/* Adds a member per CSV row (header: name,email[,team,role,slug,title,phone]). */
void member_import(struct sc_store *s, const char *actor, const char *team, enum sc_role max_role,
                   const char *csv, size_t len, struct import_result *res);

/* Management pages (admin.c). */
enum MHD_Result h_account(struct req *r, const char *action);
enum MHD_Result h_members(struct req *r, const char *rest);
enum MHD_Result h_audit(struct req *r);
enum MHD_Result h_rewards_page(struct req *r, const char *rest);
enum MHD_Result h_tree(struct req *r, const char *slug);
enum MHD_Result api_channels(struct req *r);
enum MHD_Result api_devices(struct req *r);
enum MHD_Result api_tree(struct req *r, const char *slug);
enum MHD_Result api_audit(struct req *r);
enum MHD_Result api_members(struct req *r);
/* Leads (leads.c): visitors who engaged, and each one's timeline. */
enum MHD_Result h_leads(struct req *r, const char *rest);
enum MHD_Result api_leads(struct req *r, const char *rest);
/* The live feed (live.c): Server-Sent Events of human visits in the member's scope. */
enum MHD_Result api_live(struct req *r);
struct live *live_new(struct sc_store *store);
void live_stop(struct live *lv); /* ends every stream (shutdown) */
void live_free(struct live *lv); /* after the daemon stopped */
/* Who may see what: everything (admin), a team's cards (manager) or one's own card. */
void scope_of(const struct sc_member *m, struct sc_scope *sc);

/* Routes (routes.c). */
enum MHD_Result route_request(struct req *r);
/* Drops every cached landing page: call after anything that may change a card. */
void page_cache_forget(struct server *s);
enum sc_err routes_init(struct server *s);
void routes_cleanup(struct server *s);

#endif
