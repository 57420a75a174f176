/*
 * session.c — who is asking: the signed-in member of a session cookie, a
 * new session, the member of an API bearer token, what a member may see
 * (scope, sc_session_may_read_card) and the CSRF token of each visitor.
 *
 * A session token is 256 random bits in an HttpOnly, SameSite=Lax cookie
 * (__Host- prefixed and Secure under https); the store keeps only its keyed
 * hash.  Sessions end after 2 hours idle or 12 hours in all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "auth_int.h"
#include "pages_int.h"
#include "track_int.h"
#include "sharecard/auth.h"
#include "sharecard/form.h"

#define SESSION_ABSOLUTE (12 * 3600)

const char *sc_session_cookie_name(struct req *r)
{
    return r->srv->https ? "__Host-sc_session" : "sc_session";
}

static int64_t idle_limit(void)
{
    const char *v = getenv("SHARECARD_SESSION_IDLE");
    long n = v ? strtol(v, NULL, 10) : 0;
    return n > 0 ? n : 2 * 3600;
}

bool sc_session_member(struct req *r, struct sc_member *m)
{
    sc_tr_set(sc_req_lang(r, SC_LANG_EN)); /* every signed-in page asks this first */
    const char *tok =
        MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, sc_session_cookie_name(r));
    char hash[SC_TOKEN_HASH_LEN];
    if (!tok || strlen(tok) > 64 || sc_auth_token_hash(r->srv->store, tok, hash) != SC_OK)
        return false;
    return sc_store_session_member(r->srv->store, hash, (int64_t)time(NULL), idle_limit(), m) ==
           SC_OK;
}

/* ---- new sessions ------------------------------------------------------------- */

/* A new session for 'm' (any earlier one's cookie is replaced): 303 to 'location'. */
enum MHD_Result sc_session_start(struct req *r, const struct sc_member *m, const char *location)
{
    char token[SC_TOKEN_LEN], thash[SC_TOKEN_HASH_LEN];
    sc_auth_token_new(token);
    int64_t now = (int64_t)time(NULL);
    if (sc_auth_token_hash(r->srv->store, token, thash) != SC_OK ||
        sc_store_session_add(r->srv->store, thash, m->id, now, now + SESSION_ABSOLUTE) != SC_OK)
        return sc_reply_err(r, SC_EDB, NULL);
    char cookie[200];
    snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Lax%s",
             sc_session_cookie_name(r), token, r->srv->https ? "; Secure" : "");
    sodium_memzero(token, sizeof(token));
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    sc_reply_security_headers(r->srv, resp);
    sc_reply_add_cookie(r, resp);
    enum MHD_Result ret = sc_reply_response(r, 303, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- API tokens and what a member may read ------------------------------------- */

/* The member whose bearer token 'r' carries; answers 401 and returns false if none. */
bool sc_session_api_member(struct req *r, struct sc_member *m, enum MHD_Result *ret)
{
    const char *auth = sc_req_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    char hash[SC_TOKEN_HASH_LEN];
    if (!auth && r->method != M_POST && sc_session_member(r, m))
        return true; /* the dashboard's own reads and exports */
    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || strlen(auth + 7) > 128 ||
        sc_auth_token_hash(r->srv->store, auth + 7, hash) != SC_OK ||
        sc_store_token_member(r->srv->store, hash, m) != SC_OK) {
        *ret =
            sc_reply_error(r, 401, "A valid API token is required: Authorization: Bearer TOKEN.");
        return false;
    }
    return true;
}

/* May 'm' read the data of the card owned by member 'owner_id'? */
bool sc_session_may_read_card(struct req *r, const struct sc_member *m, int64_t owner_id)
{
    if (m->role == SC_ROLE_ADMIN || m->id == owner_id)
        return true;
    if (m->role != SC_ROLE_MANAGER || !m->team[0])
        return false;
    struct sc_member owner;
    return sc_store_member_by_id(r->srv->store, owner_id, &owner) == SC_OK &&
           strcmp(owner.team, m->team) == 0;
}

/* The rows a member may see: admins all, managers their team's cards, sales their own. */
void sc_session_scope(const struct sc_member *m, struct sc_scope *sc)
{
    memset(sc, 0, sizeof(*sc));
    if (m->role == SC_ROLE_ADMIN)
        return;
    if (m->role == SC_ROLE_MANAGER && m->team[0]) {
        sc->team = m->team;
        return;
    }
    sc->member_id = m->id;
}

/* ---- CSRF --------------------------------------------------------------------- */

void sc_csrf_token(struct req *r, char out[32])
{
    unsigned char h[16];
    sc_track_identify(r);
    crypto_generichash(h, sizeof(h), (const unsigned char *)r->vid, strlen(r->vid),
                       r->srv->csrf_key, sizeof(r->srv->csrf_key));
    sodium_bin2base64(out, 32, h, sizeof(h), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool sc_csrf_matches(struct req *r, const char *got)
{
    char want[32];
    sc_csrf_token(r, want);
    return !r->new_cookie && strlen(got) == strlen(want) &&
           sodium_memcmp(got, want, strlen(want)) == 0;
}

bool sc_csrf_ok(struct req *r)
{
    char got[64];
    if (sc_form_get(r->body.data ? r->body.data : "", r->body.len, "csrf", got, sizeof(got)) !=
        SC_OK)
        return false;
    return sc_csrf_matches(r, got);
}
