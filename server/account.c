/*
 * account.c — signing in and out, sessions, and the two signed-in pages:
 * the manager's dashboard and the salesperson's workspace.
 *
 * A session token is 256 random bits in an HttpOnly, SameSite=Lax cookie
 * (__Host- prefixed and Secure under https); the store keeps only its keyed
 * hash.  Sessions end after 2 hours idle or 12 hours in all.  Logins are
 * throttled per address and per account, and a wrong e-mail and a wrong
 * password get the same answer in the same time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "http_int.h"
#include "sharecard/auth.h"
#include "sharecard/escape.h"
#include "sharecard/form.h"
#include "sharecard/page.h"

#define SESSION_ABSOLUTE (12 * 3600)

static const char *cookie_name(struct req *r)
{
    return r->srv->https ? "__Host-sc_session" : "sc_session";
}

static int64_t idle_limit(void)
{
    const char *v = getenv("SHARECARD_SESSION_IDLE");
    long n = v ? strtol(v, NULL, 10) : 0;
    return n > 0 ? n : 2 * 3600;
}

bool session_member(struct req *r, struct sc_member *m)
{
    tr_set(req_lang(r, SC_LANG_EN)); /* every signed-in page asks this first */
    const char *tok = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, cookie_name(r));
    char hash[SC_TOKEN_HASH_LEN];
    if (!tok || strlen(tok) > 64 || sc_auth_token_hash(r->srv->store, tok, hash) != SC_OK)
        return false;
    return sc_store_session_member(r->srv->store, hash, (int64_t)time(NULL), idle_limit(), m) ==
           SC_OK;
}

/* ---- login and logout ------------------------------------------------------------- */

static enum MHD_Result login_form(struct req *r, unsigned status, const char *message,
                                  const char *email)
{
    char csrf[32];
    csrf_token(r, csrf);
    struct sc_buf b;
    sc_buf_init(&b, 0);
    ui_head(&b, "Sign in");
    ui_html(&b, "<section class=\"login\"><h1>Sign in</h1>");
    if (message) {
        ui_html(&b, "<p class=\"error\" role=\"alert\">");
        ui_text(&b, tr(message));
        ui_html(&b, "</p>");
    }
    ui_htmlf(&b,
             "<form method=\"post\" action=\"/login\"><input type=\"hidden\" "
             "name=\"csrf\" value=\"%s\"><label>Email<input name=\"email\" "
             "type=\"email\" required maxlength=\"254\" autocomplete=\"username\" "
             "value=\"",
             csrf);
    ui_text(&b, email);
    ui_html(&b, "\"></label><label>Password<input name=\"password\" type=\"password\" "
                "required maxlength=\"256\" autocomplete=\"current-password\"></label>"
                "<button class=\"btn primary\" type=\"submit\">Sign in</button></form>"
                "</section>");
    ui_end(&b);
    return reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

enum MHD_Result h_login_page(struct req *r)
{
    struct sc_member m;
    if (session_member(r, &m))
        return reply_redirect(r, 303, m.role == SC_ROLE_SALES ? "/me" : "/dashboard");
    return login_form(r, 200, NULL, NULL);
}

/* A new session for 'm' (any earlier one's cookie is replaced): 303 to 'location'. */
enum MHD_Result session_start(struct req *r, const struct sc_member *m, const char *location)
{
    char token[SC_TOKEN_LEN], thash[SC_TOKEN_HASH_LEN];
    sc_auth_token_new(token);
    int64_t now = (int64_t)time(NULL);
    if (sc_auth_token_hash(r->srv->store, token, thash) != SC_OK ||
        sc_store_session_add(r->srv->store, thash, m->id, now, now + SESSION_ABSOLUTE) != SC_OK)
        return reply_err(r, SC_EDB, NULL);
    char cookie[200];
    snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Lax%s", cookie_name(r),
             token, r->srv->https ? "; Secure" : "");
    sodium_memzero(token, sizeof(token));
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    add_security_headers(r->srv, resp);
    add_cookie(r, resp);
    enum MHD_Result ret = reply_response(r, 303, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- throttling, shared by every instance on the store ------------------------------ */

static void throttle_key(char *out, size_t n, const char *scope, const char *key)
{
    snprintf(out, n, "%s:%s", scope, key ? key : "");
}

bool throttle_ok(struct req *r, const char *scope, const char *key, int64_t limit, int64_t window_s)
{
    char k[400];
    int64_t n = 0;
    throttle_key(k, sizeof(k), scope, key);
    if (sc_store_failures(r->srv->store, k, (int64_t)time(NULL), window_s, false, &n) != SC_OK)
        return rl_within(r->srv->rl, scope, key, (unsigned)limit, (unsigned)window_s);
    return n < limit;
}

void throttle_fail(struct req *r, const char *scope, const char *key, int64_t window_s)
{
    char k[400];
    int64_t n = 0;
    throttle_key(k, sizeof(k), scope, key);
    rl_allow(r->srv->rl, scope, key, UINT32_MAX, (unsigned)window_s); /* the fallback's count */
    sc_store_failures(r->srv->store, k, (int64_t)time(NULL), window_s, true, &n);
}

bool throttle_take(struct req *r, const char *scope, const char *key, int64_t limit,
                   int64_t window_s)
{
    if (!throttle_ok(r, scope, key, limit, window_s))
        return false;
    throttle_fail(r, scope, key, window_s);
    return true;
}

enum MHD_Result h_login(struct req *r)
{
    tr_set(req_lang(r, SC_LANG_EN));
    char email_in[300] = "", email[255] = "", password[SC_PASSWORD_MAX + 2] = "";
    const char *why;
    const char *body = r->body.data ? r->body.data : "";
    if (!csrf_ok(r))
        return reply_error(r, 403,
                           "This form has expired. Reload the sign-in page and try "
                           "again.");
    sc_form_get(body, r->body.len, "email", email_in, sizeof(email_in));
    sc_form_get(body, r->body.len, "password", password, sizeof(password));
    if (sc_email_normalise(email_in, email, &why) != SC_OK)
        email[0] = '\0';
    struct sc_event ev;
    event_init(r, &ev, SC_EV_VIEW, 0, 0); /* for the anonymised address only */
    /* Only failures count against the limits; a blocked attempt is not even tried. */
    if (!throttle_ok(r, "login-ip", ev.ip, 20, 900) ||
        !throttle_ok(r, "login-account", email, 5, 900)) {
        sodium_memzero(password, sizeof(password));
        return login_form(r, 429, "Too many sign-in attempts. Wait 15 minutes and try again.",
                          email);
    }
    struct sc_member m;
    char hash[128] = "";
    bool found = email[0] && sc_store_member_by_email(r->srv->store, email, &m) == SC_OK &&
                 !m.disabled && sc_store_member_password(r->srv->store, m.id, hash) == SC_OK &&
                 hash[0];
    /* The same work whether or not the account exists: no enumeration by timing. */
    bool ok = sc_auth_password_check(found ? hash : r->srv->dummy_hash, password) == SC_OK && found;
    sodium_memzero(password, sizeof(password));
    if (!ok) {
        throttle_fail(r, "login-ip", ev.ip, 900);
        throttle_fail(r, "login-account", email, 900);
        return login_form(r, 401, "Wrong email or password.", email);
    }

    return session_start(r, &m, m.role == SC_ROLE_SALES ? "/me" : "/dashboard");
}

enum MHD_Result h_logout(struct req *r)
{
    if (!csrf_ok(r))
        return reply_error(r, 403, "This form has expired. Reload the page and try again.");
    const char *tok = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, cookie_name(r));
    char hash[SC_TOKEN_HASH_LEN];
    if (tok && strlen(tok) <= 64 && sc_auth_token_hash(r->srv->store, tok, hash) == SC_OK)
        sc_store_session_delete(r->srv->store, hash);
    char cookie[128];
    snprintf(cookie, sizeof(cookie), "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
             cookie_name(r), r->srv->https ? "; Secure" : "");
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, "/login");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    add_security_headers(r->srv, resp);
    enum MHD_Result ret = reply_response(r, 303, resp);
    MHD_destroy_response(resp);
    return ret;
}
