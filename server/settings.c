/*
 * settings.c — /me/account: one's own password and API tokens.  A new
 * password ends every session of the member (this browser gets a new
 * one); a token is shown once and kept only as its keyed hash.  Every
 * change is CSRF-checked and audited.
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
#include "sharecard/escape.h"

/* ---- /me/account: password and API tokens ------------------------------------------- */

static int token_row(const struct sc_token_row *t, void *ctx)
{
    struct req *r = ((void **)ctx)[0];
    struct sc_buf *b = ((void **)ctx)[1];
    sc_ui_htmlf(b, "<tr data-token=\"%lld\"><td>", (long long)t->id);
    sc_ui_text(b, t->label && t->label[0] ? t->label : sc_tr("(no label)"));
    sc_ui_html(b, "</td><td>");
    sc_ui_when(b, t->created_at);
    sc_ui_html(b, "</td><td>");
    if (t->revoked_at) {
        sc_ui_text(b, sc_tr("revoked"));
        sc_ui_html(b, " ");
        sc_ui_when(b, t->revoked_at);
        sc_ui_html(b, "</td><td>");
    } else {
        sc_ui_text(b, sc_tr("live"));
        sc_ui_html(b, "</td><td><form class=\"inline\" method=\"post\" "
                      "action=\"/me/tokens/revoke\">");
        sc_ui_csrf_field(r, b);
        sc_ui_htmlf(b,
                    "<input type=\"hidden\" name=\"id\" value=\"%lld\"><button class=\"btn\" "
                    "type=\"submit\">%s</button></form>",
                    (long long)t->id, sc_tr("Revoke"));
    }
    sc_ui_html(b, "</td></tr>");
    return sc_buf_error(b) != SC_OK;
}

static enum MHD_Result account_page(struct req *r, const struct sc_member *m, unsigned status,
                                    bool ok, const char *msg, const char *new_token)
{
    struct sc_buf b;
    sc_buf_init(&b, 4 << 20);
    sc_ui_begin(r, &b, "Account", m, "/me/account");
    sc_ui_html(&b, "</header>");
    sc_ui_message(&b, ok, msg);
    if (new_token) {
        sc_ui_htmlf(&b,
                    "<section class=\"newtoken\"><p><strong>%s</strong> %s</p><p><code "
                    "id=\"token\">",
                    sc_tr("Your new API token."),
                    sc_tr("Copy it now: it is stored only as a hash and will not be shown again."));
        sc_ui_text(&b, new_token);
        sc_ui_html(&b, "</code> <button class=\"btn\" type=\"button\" data-copy=\"");
        sc_ui_text(&b, new_token);
        sc_ui_htmlf(&b, "\">%s</button></p><p class=\"hint\">", sc_tr("Copy"));
        sc_ui_text(&b, sc_tr("Use it as an Authorization: Bearer header with the JSON API under "
                             "/api/v1/."));
        sc_ui_html(&b, "</p></section>");
    }
    sc_ui_htmlf(&b,
                "<div class=\"two\"><section><h2>%s</h2>"
                "<form method=\"post\" action=\"/me/password\" class=\"stack\">",
                sc_tr("Change password"));
    sc_ui_csrf_field(r, &b);
    sc_ui_htmlf(&b,
                "<label>%s<input name=\"current\" type=\"password\" required "
                "maxlength=\"%d\" autocomplete=\"current-password\"></label><label>",
                sc_tr("Current password"), SC_PASSWORD_MAX);
    sc_ui_htmlf(&b, sc_tr("New password (at least %d characters)"), SC_PASSWORD_MIN);
    sc_ui_htmlf(&b,
                "<input name=\"new\" type=\"password\" required minlength=\"%d\" "
                "maxlength=\"%d\" autocomplete=\"new-password\"></label><label>%s<input "
                "name=\"again\" type=\"password\" required maxlength=\"%d\" "
                "autocomplete=\"new-password\"></label><button class=\"btn primary\" "
                "type=\"submit\">%s</button></form></section>",
                SC_PASSWORD_MIN, SC_PASSWORD_MAX, sc_tr("New password again"), SC_PASSWORD_MAX,
                sc_tr("Change password"));
    sc_ui_htmlf(&b,
                "<section><h2>%s</h2><form method=\"post\" action=\"/me/tokens\" "
                "class=\"stack\">",
                sc_tr("API tokens"));
    sc_ui_csrf_field(r, &b);
    sc_ui_htmlf(&b,
                "<label>%s<input name=\"label\" maxlength=\"100\" placeholder=\"%s\"></label>"
                "<button class=\"btn primary\" type=\"submit\">%s</button></form><div "
                "class=\"scroll\"><table class=\"t\" id=\"tokens\"><thead><tr><th>%s</th>"
                "<th>%s</th><th>%s</th><th></th></tr></thead><tbody>",
                sc_tr("Label"), sc_tr("e.g. CRM sync"), sc_tr("Create a token"), sc_tr("Label"),
                sc_tr("Created"), sc_tr("State"));
    void *ctx[2] = {r, &b};
    enum sc_err e = sc_store_token_list(r->srv->store, m->id, token_row, ctx);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return sc_reply_err(r, e, NULL);
    }
    sc_ui_html(&b, "</tbody></table></div></section></div>");
    sc_notify_section(r, &b, m); /* issue 18 */
    sc_ui_end(&b);
    return sc_reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

static enum MHD_Result change_password(struct req *r, const struct sc_member *m)
{
    char cur[SC_PASSWORD_MAX + 2], pw[SC_PASSWORD_MAX + 2], again[SC_PASSWORD_MAX + 2];
    char hash[128] = "", fresh[SC_PWHASH_LEN];
    sc_req_form_field(r, "current", cur, sizeof(cur));
    sc_req_form_field(r, "new", pw, sizeof(pw));
    sc_req_form_field(r, "again", again, sizeof(again));
    struct sc_event ev;
    sc_track_event_init(r, &ev, SC_EV_VIEW, 0, 0); /* for the anonymised address only */
    const char *err = NULL;
    if (!sc_throttle_ok(r, "password", m->email, 5, 900))
        err = "Too many wrong passwords. Wait 15 minutes and try again.";
    else if (sc_store_member_password(r->srv->store, m->id, hash) != SC_OK ||
             sc_auth_password_check(hash, cur) != SC_OK) {
        sc_throttle_fail(r, "password", m->email, 900);
        err = "The current password is wrong.";
    } else if (strcmp(pw, again) != 0)
        err = "The two new passwords differ.";
    else if (sc_auth_password_hash(pw, fresh) != SC_OK)
        err = "The new password must have 10 to 256 characters.";
    sodium_memzero(cur, sizeof(cur));
    sodium_memzero(pw, sizeof(pw));
    sodium_memzero(again, sizeof(again));
    if (err)
        return account_page(r, m, 422, false, err, NULL);
    /* Every session of the member ends; this browser gets a new one. */
    enum sc_err e = sc_store_member_set_password(r->srv->store, m->id, fresh);
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    sc_store_audit(r->srv->store, m->email, "member.password_change", m->email, "");
    return sc_session_start(r, m, "/me/account?changed=1");
}

enum MHD_Result sc_h_account(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    const char *action = a->arg;
    if (!action) {
        if (!sc_req_is_get(r))
            return sc_reply_405(r, "GET, HEAD");
        return account_page(r, m, 200, true,
                            sc_req_arg(r, "changed") ? "Your password was changed." : NULL, NULL);
    }
    if (r->method != M_POST)
        return sc_reply_405(r, "POST");
    if (!sc_csrf_ok(r))
        return sc_reply_error(r, 403, SC_FORM_EXPIRED);
    if (strcmp(action, "password") == 0)
        return change_password(r, m);
    if (strcmp(action, "tokens") == 0) {
        char label[101], token[SC_TOKEN_LEN], hash[SC_TOKEN_HASH_LEN];
        if (sc_req_form_field(r, "label", label, sizeof(label)) == SC_ETOOBIG)
            return account_page(r, m, 422, false, "The label may have 100 characters.", NULL);
        sc_auth_token_new(token);
        enum sc_err e = sc_auth_token_hash(r->srv->store, token, hash);
        if (e == SC_OK)
            e = sc_store_token_add(r->srv->store, m->id, hash, label);
        if (e != SC_OK)
            return sc_reply_err(r, e, NULL);
        sc_store_audit(r->srv->store, m->email, "token.create", m->email, label);
        enum MHD_Result ret = account_page(r, m, 201, true, "Token created.", token);
        sodium_memzero(token, sizeof(token));
        return ret;
    }
    if (strcmp(action, "tokens/revoke") == 0) {
        char id[24];
        sc_req_form_field(r, "id", id, sizeof(id));
        enum sc_err e =
            sc_store_token_revoke(r->srv->store, m->id, sc_num_arg(id), (int64_t)time(NULL));
        if (e == SC_ENOTFOUND)
            return account_page(r, m, 404, false, "There is no such live token of yours.", NULL);
        if (e != SC_OK)
            return sc_reply_err(r, e, NULL);
        sc_store_audit(r->srv->store, m->email, "token.revoke", m->email, id);
        return account_page(r, m, 200, true, "The token was revoked.", NULL);
    }
    return sc_reply_error(r, 404, "There is no such page.");
}
