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
enum MHD_Result route_request(struct req *r);

/* Public pages (pages_public.c). */
route_fn h_home, h_healthz, h_metrics, h_card, h_qr_png, h_qr_svg, h_vcard, h_avatar, h_link;
/* Static files (static.c): prebuilt before the daemon starts, freed after it stopped. */
route_fn h_static;
enum sc_err static_init(struct server *s);
void static_cleanup(struct server *s);
/* Tracking (track.c): beacons and share links. */
route_fn h_event, h_share;
/* Sign-ups, referral links and conversions (signup.c). */
route_fn h_signup, h_referral, api_conversions;
/* Signing in and out (account.c); one's own password and tokens (settings.c). */
route_fn h_login_page, h_login, h_logout, h_account;
/* Signed-in pages (dashboard.c, editor.c, leads.c, share_tree.c). */
route_fn h_dashboard, h_me, h_editor, h_avatar_upload, h_leads, api_leads, h_tree, api_tree;
/* Management (admin_members.c, admin_audit.c, admin_rewards.c). */
route_fn h_members, api_members, h_audit, api_audit, h_rewards_page;
/* Reports under /api/v1/ (api_reports.c). */
route_fn api_stats, api_signups, api_rewards, api_leaderboard, api_channels, api_devices;
/* The live feed (live.c): Server-Sent Events of human visits in the member's scope. */
route_fn api_live;
struct live *live_new(struct sc_store *store);
void live_stop(struct live *lv); /* ends every stream (shutdown) */
void live_free(struct live *lv); /* after the daemon stopped */

#endif
