/*
 * auth_int.h — private to server/: who is asking and what they may do —
 * sessions and API tokens, scope and role checks, CSRF tokens (session.c),
 * and the limits on attempts (ratelimit.c).
 */
#ifndef SHARECARD_AUTH_INT_H
#define SHARECARD_AUTH_INT_H

#include "http_int.h"

/* ---- sessions, tokens, scope (session.c) ---------------------------------- */

/* The signed-in member of 'r' into 'm'; false when none.  Sets the page language first. */
bool sc_session_member(struct req *r, struct sc_member *m);
/* A new session for 'm' (replacing the cookie's): answers 303 to 'location'. */
enum MHD_Result sc_session_start(struct req *r, const struct sc_member *m, const char *location);
/* The name of the session cookie ("__Host-" prefixed under https). */
const char *sc_session_cookie_name(struct req *r);
/*
 * The member whose bearer token 'r' carries (or, for a read without one, the
 * signed-in member); answers 401 into '*ret' and returns false if none.
 */
bool sc_session_api_member(struct req *r, struct sc_member *m, enum MHD_Result *ret);
/* May 'm' read the data of the card owned by member 'owner_id'? */
bool sc_session_may_read_card(struct req *r, const struct sc_member *m, int64_t owner_id);
/* Who may see what: everything (admin), a team's cards (manager) or one's own card. */
void sc_session_scope(const struct sc_member *m, struct sc_scope *sc);

/* ---- CSRF (session.c) ------------------------------------------------------ */

/* This visitor's CSRF token (identifies the visitor first). */
void sc_csrf_token(struct req *r, char out[32]);
/* Does the posted form carry this visitor's CSRF token? */
bool sc_csrf_ok(struct req *r);
bool sc_csrf_matches(struct req *r, const char *got); /* the same, for a token read elsewhere */

/* ---- limits (ratelimit.c) --------------------------------------------------- */

/* In this process: true while 'key' has used fewer than 'limit' in this window. */
struct ratelimit *sc_rl_new(void);
void sc_rl_free(struct ratelimit *rl);
bool sc_rl_allow(struct ratelimit *rl, const char *scope, const char *key, unsigned limit,
                 unsigned window_s);
/* The same check without using one up (for counting only failures). */
bool sc_rl_within(struct ratelimit *rl, const char *scope, const char *key, unsigned limit,
                  unsigned window_s);

/*
 * Throttling of failed attempts, counted in the store so that all instances
 * agree: true while 'scope':'key' has had fewer than 'limit' failures in the
 * last 'window_s' seconds; sc_throttle_fail() records one.
 */
bool sc_throttle_ok(struct req *r, const char *scope, const char *key, int64_t limit,
                    int64_t window_s);
void sc_throttle_fail(struct req *r, const char *scope, const char *key, int64_t window_s);
/*
 * For limits on attempts rather than failures (sign-ups): true, and the
 * attempt counted, while 'scope':'key' has had fewer than 'limit' in the
 * window; false, and nothing counted, once it has had that many.
 */
bool sc_throttle_take(struct req *r, const char *scope, const char *key, int64_t limit,
                      int64_t window_s);

#endif
