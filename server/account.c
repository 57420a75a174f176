/*
 * account.c — signing in and out: the login page, checking a password and
 * starting a session (session.c), and logging out.  Logins are throttled
 * per address and per account, and a wrong e-mail and a wrong password get
 * the same answer in the same time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "auth_int.h"
#include "pages_int.h"
#include "routes_int.h"
#include "track_int.h"
#include "sharecard/auth.h"
#include "sharecard/escape.h"
#include "sharecard/form.h"
#include "sharecard/page.h"

/* ---- login and logout ------------------------------------------------------------- */

static enum MHD_Result login_form(struct req *r, unsigned status, const char *message,
                                  const char *email)
{
    char csrf[32];
    sc_csrf_token(r, csrf);
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_ui_head(&b, "Sign in");
    sc_ui_html(&b, "<section class=\"login\"><h1>Sign in</h1>");
    if (message) {
        sc_ui_html(&b, "<p class=\"error\" role=\"alert\">");
        sc_ui_text(&b, sc_tr(message));
        sc_ui_html(&b, "</p>");
    }
    sc_ui_htmlf(&b,
                "<form method=\"post\" action=\"/login\"><input type=\"hidden\" "
                "name=\"csrf\" value=\"%s\"><label>Email<input name=\"email\" "
                "type=\"email\" required maxlength=\"254\" autocomplete=\"username\" "
                "value=\"",
                csrf);
    sc_ui_text(&b, email);
    sc_ui_html(&b, "\"></label><label>Password<input name=\"password\" type=\"password\" "
                   "required maxlength=\"256\" autocomplete=\"current-password\"></label>"
                   "<button class=\"btn primary\" type=\"submit\">Sign in</button></form>"
                   "</section>");
    sc_ui_end(&b);
    return sc_reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

enum MHD_Result sc_h_login_page(struct req *r, const struct route_args *a)
{
    (void)a;
    struct sc_member m;
    if (sc_session_member(r, &m))
        return sc_reply_redirect(r, 303, m.role == SC_ROLE_SALES ? "/me" : "/dashboard");
    return login_form(r, 200, NULL, NULL);
}

enum MHD_Result sc_h_login(struct req *r, const struct route_args *a)
{
    (void)a;
    sc_tr_set(sc_req_lang(r, SC_LANG_EN));
    char email_in[300] = "", email[255] = "", password[SC_PASSWORD_MAX + 2] = "";
    const char *why;
    const char *body = r->body.data ? r->body.data : "";
    if (!sc_csrf_ok(r))
        return sc_reply_error(r, 403,
                              "This form has expired. Reload the sign-in page and try "
                              "again.");
    sc_form_get(body, r->body.len, "email", email_in, sizeof(email_in));
    sc_form_get(body, r->body.len, "password", password, sizeof(password));
    if (sc_email_normalise(email_in, email, &why) != SC_OK)
        email[0] = '\0';
    struct sc_event ev;
    sc_track_event_init(r, &ev, SC_EV_VIEW, 0, 0); /* for the anonymised address only */
    /* Only failures count against the limits; a blocked attempt is not even tried. */
    if (!sc_throttle_ok(r, "login-ip", ev.ip, 20, 900) ||
        !sc_throttle_ok(r, "login-account", email, 5, 900)) {
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
        sc_throttle_fail(r, "login-ip", ev.ip, 900);
        sc_throttle_fail(r, "login-account", email, 900);
        return login_form(r, 401, "Wrong email or password.", email);
    }

    return sc_session_start(r, &m, m.role == SC_ROLE_SALES ? "/me" : "/dashboard");
}

enum MHD_Result sc_h_logout(struct req *r, const struct route_args *a)
{
    (void)a;
    if (!sc_csrf_ok(r))
        return sc_reply_error(r, 403, "This form has expired. Reload the page and try again.");
    const char *tok =
        MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, sc_session_cookie_name(r));
    char hash[SC_TOKEN_HASH_LEN];
    if (tok && strlen(tok) <= 64 && sc_auth_token_hash(r->srv->store, tok, hash) == SC_OK)
        sc_store_session_delete(r->srv->store, hash);
    char cookie[128];
    snprintf(cookie, sizeof(cookie), "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
             sc_session_cookie_name(r), r->srv->https ? "; Secure" : "");
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, "/login");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    sc_reply_security_headers(r->srv, resp);
    enum MHD_Result ret = sc_reply_response(r, 303, resp);
    MHD_destroy_response(resp);
    return ret;
}
