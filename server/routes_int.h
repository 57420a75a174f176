/*
 * routes_int.h — private to server/: the handlers the route table
 * (router.c) names, what the router hands each one, and the set-up of the
 * parts of the service that hold state of their own (static responses, the
 * live feed), done by server.c before the daemon starts.
 */
#ifndef SHARECARD_ROUTES_INT_H
#define SHARECARD_ROUTES_INT_H

#include "http_int.h"

/* What the router found in the path and checked before calling a handler. */
struct route_args {
    const char *arg; /* the path's variable part (slug, code, the rest after a prefix), or NULL */
    const char *sub; /* /r/{code}/{sub}: what follows the code ("" when nothing) */
    const struct sc_member *m; /* the member a route that needs one was asked by, else NULL */
};

typedef enum MHD_Result route_fn(struct req *r, const struct route_args *a);

/* The router (router.c): answers 'r' from the route table; the daemon's request_fn. */
enum MHD_Result sc_router_handle(struct req *r);

/* What the route table makes of a path, before any handler runs. */
enum sc_route_outcome {
    SC_ROUTE_FOUND,  /* a route takes it: its handler would run */
    SC_ROUTE_BAD,    /* a prefix matched but its segment is malformed: 404 */
    SC_ROUTE_METHOD, /* the path exists with other methods only: 405 */
    SC_ROUTE_NONE    /* nothing matches: 404 */
};
/*
 * Matches 'path' (decoded, borrowed) for method 'method' (enum of http_int.h)
 * as sc_router_handle() would, without answering (the fuzz target's entry):
 * 'a' gets the path's parts (pointing into 'path' or 'seg'), '*needs_member'
 * whether the route found wants a session or a token.  Pure.
 */
enum sc_route_outcome sc_router_resolve(const char *path, int method, char seg[128],
                                        struct route_args *a, bool *needs_member);

/* Public pages (pages_public.c). */
route_fn sc_h_home, sc_h_healthz, sc_h_metrics, sc_h_card, sc_h_qr_png, sc_h_qr_svg, sc_h_vcard,
    sc_h_avatar, sc_h_link;
/* Static files (static.c): prebuilt before the daemon starts, freed after it stopped. */
route_fn sc_h_static;
enum sc_err sc_static_init(struct server *s);
void sc_static_cleanup(struct server *s);
/* Tracking (track.c): beacons and share links. */
route_fn sc_h_event, sc_h_share;
/* Sign-ups, referral links and conversions (signup.c). */
route_fn sc_h_signup, sc_h_referral, sc_api_conversions;
/* Signing in and out (account.c); one's own password and tokens (settings.c). */
route_fn sc_h_login_page, sc_h_login, sc_h_logout, sc_h_account;
/* Signed-in pages (dashboard.c, editor.c, leads.c, share_tree.c). */
route_fn sc_h_dashboard, sc_h_me, sc_h_editor, sc_h_avatar_upload, sc_h_leads, sc_api_leads,
    sc_h_tree, sc_api_tree;
/* Lead intelligence (leads.c): the follow-up reminders due on /me; the model page. */
void sc_leads_reminders_html(struct req *r, const struct sc_member *m, struct sc_buf *b);
route_fn sc_h_admin_model;
/* Management (admin_members.c, admin_audit.c, admin_rewards.c). */
route_fn sc_h_members, sc_api_members, sc_h_audit, sc_api_audit, sc_h_rewards_page;
/* Webhooks (admin_webhooks.c). */
route_fn sc_h_webhooks_page;
/* Notifications (issue 18; notify_pages.c): the POSTs, and the section of /me/account and
 * of a member's page under /admin/members. */
route_fn sc_h_notify;
void sc_notify_section(struct req *r, struct sc_buf *b, const struct sc_member *t);
/* Reports under /api/v1/ (api_reports.c). */
route_fn sc_api_stats, sc_api_signups, sc_api_rewards, sc_api_leaderboard, sc_api_channels,
    sc_api_devices;
/* The API's OpenAPI document (openapi.c). */
route_fn sc_api_openapi;
/*
 * Issue 19 (rewards.c): the coupon list; sc_rewards_referral_page puts the
 * private block of customer 'customer_id' into 'page' (borrowed, the
 * rendered referral page, grown in place).  Call it only for the
 * customer's own browser (sc_referral_viewer_owns, checked once per
 * request by the referral page).
 */
route_fn sc_api_coupons;
/* Issue 19 (payouts.c): payouts against approved commissions, monthly statements. */
route_fn sc_api_payouts, sc_api_statements;
void sc_rewards_referral_page(struct req *r, int64_t customer_id, enum sc_lang lang,
                              struct sc_buf *page);
/* The live feed (live.c): Server-Sent Events of human visits in the member's scope. */
route_fn sc_api_live;
struct live *sc_live_new(struct sc_store *store);
void sc_live_stop(struct live *lv); /* ends every stream (shutdown) */
void sc_live_free(struct live *lv); /* after the daemon stopped */

#endif
