/*
 * router.c — the route table: every path the service answers, /api/v1
 * included, with the methods it takes, what it needs (a session or an API
 * token, and a least role) and the handler that answers it.
 *
 * A request is matched against the table in order, hot paths first (a scan
 * at /l/, a landing page at /c/), so that a scan compares one prefix: no
 * allocation, one pass over the path.  /c/{slug}/… and /api/v1/… have tables
 * of their own.  A path that exists with another method gets 405 (with an
 * Allow header on pages, as a JSON error in the API); anything else 404.
 * The checks run in the order the handlers always ran them: the path, then
 * the method, then the session or token and the role, then the handler.
 * A route whose handler answers each method itself (a page with forms at
 * several sub-paths) takes every method and checks them after the session.
 */
#include <stdio.h>
#include <string.h>

#include "auth_int.h"
#include "cache_int.h"
#include "customers_int.h"
#include "pages_int.h"
#include "routes_int.h"
#include "ux_int.h"

#define MB(m) (1u << (m))
#define GETS  (MB(M_GET) | MB(M_HEAD))
#define POST  MB(M_POST)
#define ANY   0u /* the handler checks the method */

enum match {
    EXACT,    /* the path itself */
    TREE,     /* the path (arg NULL) or anything under path/ (arg: the rest) */
    PREFIX,   /* anything under the prefix (arg: the rest) */
    SEGMENT,  /* prefix and one segment (arg), nothing after */
    CARD,     /* /c/{slug}[/{sub}]: arg the slug, sub matched in the child table */
    REFERRAL, /* /r/{code}[/{sub}]: arg the code, sub what follows */
    CARD_API, /* cards/{slug}{suffix}, suffix in 'arg' */
    SUBTREE,  /* a prefix whose rest is matched in the child table */
};

enum need {
    NEED_NONE,
    NEED_SESSION, /* a signed-in member, else 303 to /login */
    NEED_TOKEN,   /* an API token (or, to read, a session), else 401 */
};

struct route_table;

struct route {
    const char *path;  /* a path, or a prefix ending in '/' */
    unsigned char len; /* strlen(path) */
    unsigned char match;
    unsigned char need;
    unsigned char role;              /* the least role, when it needs a member */
    unsigned methods;                /* MB() of the methods taken; ANY: the handler checks */
    const char *allow;               /* the methods a 405 names */
    route_fn *fn;                    /* the handler, or NULL with 'child' */
    const char *arg;                 /* EXACT: the handler's argument; CARD_API: the suffix */
    const char *msg;                 /* 403 for a role below 'role'; 404 for a malformed segment */
    const struct route_table *child; /* CARD, SUBTREE: where the rest is matched */
};

struct route_table {
    const struct route *routes;
    size_t n;
    bool api;             /* a 405 as a JSON error without Allow, as the API always did */
    const char *notfound; /* the 404 when nothing matches */
};

#define P(s) s, (unsigned char)(sizeof(s) - 1)

static const struct route card_routes[] = {
    {P(""), EXACT, NEED_NONE, 0, GETS, "GET, HEAD", sc_h_card, NULL, NULL, NULL},
    {P("share"), EXACT, NEED_NONE, 0, POST, "POST", sc_h_share, NULL, NULL, NULL},
    {P("signup"), EXACT, NEED_NONE, 0, POST, "POST", sc_h_signup, NULL, NULL, NULL},
    {P("qr.png"), EXACT, NEED_NONE, 0, GETS, "GET, HEAD", sc_h_qr_png, NULL, NULL, NULL},
    {P("qr.svg"), EXACT, NEED_NONE, 0, GETS, "GET, HEAD", sc_h_qr_svg, NULL, NULL, NULL},
    {P("vcard.vcf"), EXACT, NEED_NONE, 0, GETS, "GET, HEAD", sc_h_vcard, NULL, NULL, NULL},
    {P("avatar"), EXACT, NEED_NONE, 0, GETS, "GET, HEAD", sc_h_avatar, NULL, NULL, NULL},
};

static const struct route_table card_table = {card_routes,
                                              sizeof(card_routes) / sizeof(card_routes[0]), false,
                                              "There is no such page for this card."};

#define API_GET(path, fn)                                                                          \
    {                                                                                              \
        P(path), EXACT, NEED_TOKEN, SC_ROLE_SALES, GETS, "GET", fn, NULL, NULL, NULL               \
    }

static const struct route api_routes[] = {
    {P("cards/"), CARD_API, NEED_TOKEN, SC_ROLE_SALES, GETS, "GET", sc_api_tree, "/tree", NULL,
     NULL},
    {P("cards/"), CARD_API, NEED_TOKEN, SC_ROLE_SALES, GETS, "GET", sc_api_stats, "/stats", NULL,
     NULL},
    API_GET("signups", sc_api_signups),
    API_GET("rewards", sc_api_rewards),
    API_GET("leaderboard", sc_api_leaderboard),
    API_GET("channels", sc_api_channels),
    API_GET("devices", sc_api_devices),
    {P("members"), EXACT, NEED_TOKEN, SC_ROLE_MANAGER, GETS, "GET", sc_api_members, NULL,
     "Members are listed for managers and admins.", NULL},
    {P("audit"), EXACT, NEED_TOKEN, SC_ROLE_ADMIN, GETS, "GET", sc_api_audit, NULL,
     "The audit log is for admins.", NULL},
    {P("leads"), TREE, NEED_TOKEN, SC_ROLE_SALES, GETS, "GET", sc_api_leads, NULL, NULL, NULL},
    API_GET("live", sc_api_live),
    {P("conversions"), EXACT, NEED_TOKEN, SC_ROLE_MANAGER, POST, "POST", sc_api_conversions, NULL,
     "Only managers' and admins' tokens may post conversions.", NULL},
    /* customers and retention (customers.c) */
    API_GET("customers", sc_api_customers),
    API_GET("retention", sc_api_retention),
    /* rewards (issue 19, rewards.c) */
    API_GET("coupons", sc_api_coupons),
    API_GET("statements", sc_api_statements),
    {P("payouts"), EXACT, NEED_TOKEN, SC_ROLE_ADMIN, POST, "POST", sc_api_payouts, NULL,
     "Only admins' tokens may record payouts.", NULL},
    /* NPS surveys (nps.c) */
    API_GET("nps", sc_api_nps),
    /* Operations (issue 12): the API's own description, no token needed. */
    {P("openapi.json"), EXACT, NEED_NONE, 0, GETS, "GET", sc_api_openapi, NULL, NULL, NULL},
};

static const struct route_table api_table = {api_routes, sizeof(api_routes) / sizeof(api_routes[0]),
                                             true, "There is no such API endpoint."};

#define PAGE(path, methods, allow, fn)                                                             \
    {                                                                                              \
        P(path), EXACT, NEED_NONE, 0, methods, allow, fn, NULL, NULL, NULL                         \
    }
#define SIGNED_IN(path, methods, allow, fn, arg)                                                   \
    {                                                                                              \
        P(path), EXACT, NEED_SESSION, SC_ROLE_SALES, methods, allow, fn, arg, NULL, NULL           \
    }

static const struct route routes[] = {
    /* The hot paths first: a scan, a landing page. */
    {P("/l/"), SEGMENT, NEED_NONE, 0, GETS, "GET, HEAD", sc_h_link, NULL,
     "This link does not exist. Check that it was copied whole.", NULL},
    {P("/c/"), CARD, NEED_NONE, 0, ANY, NULL, NULL, NULL, "There is no card at this address.",
     &card_table},
    {P("/r/"), REFERRAL, NEED_NONE, 0, GETS, "GET, HEAD", sc_h_referral, NULL,
     "This referral link does not exist.", NULL},
    {P("/e"), EXACT, NEED_NONE, 0, POST, "POST", sc_h_event, NULL, NULL, NULL},
    /* NPS surveys (nps.c): the customer's survey, no account needed. */
    {P("/s/"), SEGMENT, NEED_NONE, 0, GETS | POST, "GET, HEAD, POST", sc_h_survey, NULL,
     "This survey does not exist. Check that the link was copied whole.", NULL},
    PAGE("/", GETS, "GET, HEAD", sc_h_home),
    PAGE("/healthz", GETS, "GET, HEAD", sc_h_healthz),
    PAGE("/metrics", GETS, "GET, HEAD", sc_h_metrics),
    {P("/static/"), PREFIX, NEED_NONE, 0, GETS, "GET, HEAD", sc_h_static, NULL, NULL, NULL},
    PAGE("/login", GETS, "GET, POST", sc_h_login_page),
    PAGE("/login", POST, "GET, POST", sc_h_login),
    PAGE("/logout", POST, "POST", sc_h_logout),
    {P("/dashboard"), EXACT, NEED_SESSION, SC_ROLE_MANAGER, GETS, "GET, HEAD", sc_h_dashboard, NULL,
     "The dashboard is for managers; your workspace is at /me.", NULL},
    SIGNED_IN("/me", GETS, "GET, HEAD", sc_h_me, NULL),
    SIGNED_IN("/me/edit", GETS | POST, "GET, POST", sc_h_editor, NULL),
    /* issue 17: the salesperson's QR code at full screen */
    SIGNED_IN("/me/qr", GETS, "GET, HEAD", sc_h_me_qr, NULL),
    SIGNED_IN("/me/avatar", POST, "POST", sc_h_avatar_upload, NULL),
    SIGNED_IN("/me/account", ANY, NULL, sc_h_account, NULL),
    SIGNED_IN("/me/password", ANY, NULL, sc_h_account, "password"),
    SIGNED_IN("/me/tokens", ANY, NULL, sc_h_account, "tokens"),
    SIGNED_IN("/me/tokens/revoke", ANY, NULL, sc_h_account, "tokens/revoke"),
    {P("/admin/members"), TREE, NEED_SESSION, SC_ROLE_MANAGER, ANY, NULL, sc_h_members, NULL,
     "Members are managed by managers and admins.", NULL},
    {P("/admin/audit"), EXACT, NEED_SESSION, SC_ROLE_ADMIN, GETS, "GET, HEAD", sc_h_audit, NULL,
     "The audit log is for admins.", NULL},
    {P("/admin/rewards"), TREE, NEED_SESSION, SC_ROLE_MANAGER, ANY, NULL, sc_h_rewards_page, NULL,
     "Rewards are decided by managers and admins.", NULL},
    /* Webhooks (admin_webhooks.c). */
    {P("/admin/webhooks"), TREE, NEED_SESSION, SC_ROLE_ADMIN, ANY, NULL, sc_h_webhooks_page, NULL,
     "Webhooks are managed by admins.", NULL},
    /* Notifications (issue 18; notify_pages.c): /notify/{member}/{add,remove,test,prefs}. */
    {P("/notify/"), PREFIX, NEED_SESSION, SC_ROLE_SALES, POST, "POST", sc_h_notify, NULL,
     "There is no such member.", NULL},
    {P("/leads"), TREE, NEED_SESSION, SC_ROLE_SALES, ANY, NULL, sc_h_leads, NULL, NULL, NULL},
    /* customers and retention (customers.c) */
    {P("/customers"), TREE, NEED_SESSION, SC_ROLE_SALES, ANY, NULL, sc_h_customers, NULL, NULL,
     NULL},
    /* Lead intelligence (issue 13): the active intent model. */
    {P("/admin/model"), EXACT, NEED_SESSION, SC_ROLE_ADMIN, GETS, "GET, HEAD", sc_h_admin_model,
     NULL, "The intent model's page is for admins.", NULL},
    {P("/dashboard/tree/"), PREFIX, NEED_SESSION, SC_ROLE_SALES, ANY, NULL, sc_h_tree, NULL, NULL,
     NULL},
    {P("/api/v1/"), SUBTREE, NEED_NONE, 0, ANY, NULL, NULL, NULL, NULL, &api_table},
};

static const struct route_table top_table = {routes, sizeof(routes) / sizeof(routes[0]), false,
                                             "There is nothing at this address."};

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

enum found { NO, YES, BAD };

/*
 * Does 'e' match 'path'?  On YES fills 'a' (its strings point into 'path' or
 * 'seg') and, for a route with a child table, '*rest'; BAD when the prefix
 * matched but the segment after it is malformed (404 with e->msg).
 */
static enum found match(const struct route *e, const char *path, char seg[128],
                        struct route_args *a, const char **rest)
{
    const char *tail;
    switch ((enum match)e->match) {
    case EXACT:
        if (strcmp(path, e->path) != 0)
            return NO;
        if (e->arg)
            a->arg = e->arg;
        return YES;
    case TREE:
        if (strncmp(path, e->path, e->len) != 0 || (path[e->len] && path[e->len] != '/'))
            return NO;
        a->arg = path[e->len] ? path + e->len + 1 : NULL;
        return YES;
    case PREFIX:
    case SUBTREE:
        if (strncmp(path, e->path, e->len) != 0)
            return NO;
        a->arg = path + e->len;
        *rest = a->arg;
        return YES;
    case SEGMENT:
        if (strncmp(path, e->path, e->len) != 0)
            return NO;
        tail = segment(path + e->len, seg, 128);
        if (!tail || tail[0])
            return BAD;
        a->arg = seg;
        return YES;
    case CARD:
        if (strncmp(path, e->path, e->len) != 0)
            return NO;
        tail = segment(path + e->len, seg, 128);
        if (!tail)
            return BAD;
        a->arg = seg;
        *rest = tail[0] ? tail + 1 : tail; /* "/c/x" and "/c/x/" are the card itself */
        return YES;
    case REFERRAL:
        if (strncmp(path, e->path, e->len) != 0)
            return NO;
        tail = segment(path + e->len, seg, 128);
        if (!tail || (tail[0] && tail[0] != '/'))
            return BAD;
        a->arg = seg;
        a->sub = tail[0] ? tail + 1 : "";
        return YES;
    case CARD_API: {
        if (strncmp(path, e->path, e->len) != 0)
            return NO;
        const char *slug = path + e->len, *slash = strchr(slug, '/');
        if (!slash || strcmp(slash, e->arg) != 0 || slash - slug > SC_SLUG_MAX)
            return NO;
        memcpy(seg, slug, (size_t)(slash - slug));
        seg[slash - slug] = '\0';
        a->arg = seg;
        return YES;
    }
    }
    return NO;
}

/* Checks what 'e' needs (session or token, role), then calls its handler. */
static enum MHD_Result run(struct req *r, const struct route *e, struct route_args *a)
{
    struct sc_member m;
    enum MHD_Result ret;
    /* A member's page or answer is theirs: no shared or browser cache keeps it. */
    r->private_page = e->need != NEED_NONE;
    switch ((enum need)e->need) {
    case NEED_NONE: return e->fn(r, a);
    case NEED_SESSION:
        if (!sc_session_member(r, &m))
            return sc_reply_redirect(r, 303, "/login");
        break;
    case NEED_TOKEN:
        if (!sc_session_api_member(r, &m, &ret))
            return ret;
        break;
    }
    if ((unsigned)m.role < e->role)
        return sc_reply_error(r, 403, e->msg);
    /* issue 17: an answer in a format we do not write is refused, not JSON instead. */
    const char *format = e->need == NEED_TOKEN ? sc_req_arg(r, "format") : NULL;
    if (format && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)
        return sc_reply_error(r, 400, "format must be json or csv.");
    a->m = &m;
    return e->fn(r, a);
}

static enum MHD_Result method_not_allowed(struct req *r, const struct route_table *t,
                                          const char *allow)
{
    if (!t->api)
        return sc_reply_405(r, allow);
    char msg[64];
    snprintf(msg, sizeof(msg), "This address answers %s only.", allow);
    return sc_reply_error(r, 405, msg);
}

/*
 * Finds where 'path' (decoded, NUL-terminated) goes for method 'method' in
 * table 't' and its children, without answering: a route to run ('*e',
 * with 'a' filled), a malformed segment (404 with (*e)->msg), another
 * method only ('*allow' and '*tbl' for the 405), or nothing (404 with
 * (*tbl)->notfound).  Pure: no request, no allocation.
 */
static enum sc_route_outcome resolve(const struct route_table *t, const char *path, int method,
                                     char seg[128], struct route_args *a, const struct route **e,
                                     const char **allow, const struct route_table **tbl)
{
    *allow = NULL; /* set when the path matched with another method */
    *e = NULL;
    *tbl = t;
    for (size_t i = 0; i < t->n; i++) {
        const struct route *x = &t->routes[i];
        const char *rest = NULL;
        enum found f = match(x, path, seg, a, &rest);
        if (f == NO)
            continue;
        *e = x;
        if (f == BAD)
            return SC_ROUTE_BAD;
        if (x->child)
            return resolve(x->child, rest, method, seg, a, e, allow, tbl);
        if (x->methods != ANY && !(x->methods & MB(method))) {
            if (!*allow)
                *allow = x->allow;
            *e = NULL;
            continue;
        }
        return SC_ROUTE_FOUND;
    }
    return *allow ? SC_ROUTE_METHOD : SC_ROUTE_NONE;
}

static enum MHD_Result dispatch(struct req *r, const struct route_table *t, const char *path,
                                char seg[128], struct route_args *a)
{
    const struct route *e;
    const char *allow;
    const struct route_table *tbl;
    switch (resolve(t, path, (int)r->method, seg, a, &e, &allow, &tbl)) {
    case SC_ROUTE_FOUND: return run(r, e, a);
    case SC_ROUTE_BAD: return sc_reply_error(r, 404, e->msg);
    case SC_ROUTE_METHOD: return method_not_allowed(r, tbl, allow);
    case SC_ROUTE_NONE: break;
    }
    return sc_reply_error(r, 404, tbl->notfound);
}

enum sc_route_outcome sc_router_resolve(const char *path, int method, char seg[128],
                                        struct route_args *a, bool *needs_member)
{
    const struct route *e;
    const char *allow;
    const struct route_table *tbl;
    enum sc_route_outcome o = resolve(&top_table, path, method, seg, a, &e, &allow, &tbl);
    *needs_member = o == SC_ROUTE_FOUND && e->need != NEED_NONE;
    return o;
}

enum MHD_Result sc_router_handle(struct req *r)
{
    sc_tr_set(SC_LANG_EN); /* signed-in pages choose theirs (sc_session_member) */
    char seg[128];
    struct route_args a = {NULL, NULL, NULL};
    enum MHD_Result ret;
    if (!sc_guard_text(r, &ret)) /* no handler sees text that is not UTF-8 (guard.c) */
        return ret;
    ret = dispatch(r, &top_table, r->url, seg, &a);
    /* Whatever may have changed a card (an edit, a member disabled) drops the cached pages. */
    if (r->method != M_GET && r->method != M_HEAD && strcmp(r->url, "/e") != 0)
        sc_cache_page_forget(r->srv->caches);
    return ret;
}
