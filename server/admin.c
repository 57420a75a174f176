/*
 * admin.c — the pages that manage things: one's own account (password, API
 * tokens), members and teams (add, edit, disable, reset a password, import
 * a CSV), the rewards ledger with approve / void, the audit log, and a
 * card's share tree with its K-factor.  Every change is CSRF-checked,
 * allowed by role, and audited.  The reports here are JSON under /api/v1/
 * too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "http_int.h"
#include "sharecard/escape.h"

static const char expired[] = "This form has expired. Reload the page and try again.";

static void when(struct sc_buf *b, int64_t t)
{
    char s[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(s, sizeof(s), "%Y-%m-%d %H:%M", &tm);
    sc_buf_puts(b, s);
}

static void message(struct sc_buf *b, bool ok, const char *text)
{
    if (!text)
        return;
    ui_htmlf(b, "<p class=\"%s\" role=\"%s\">", ok ? "ok" : "error", ok ? "status" : "alert");
    ui_text(b, tr(text));
    ui_html(b, "</p>");
}

static int64_t num_arg(const char *s)
{
    char *end;
    long long v = s ? strtoll(s, &end, 10) : 0;
    return s && *s && !*end && v > 0 ? (int64_t)v : 0;
}

/* ---- /me/account: password and API tokens ------------------------------------------- */

static int token_row(const struct sc_token_row *t, void *ctx)
{
    struct req *r = ((void **)ctx)[0];
    struct sc_buf *b = ((void **)ctx)[1];
    ui_htmlf(b, "<tr data-token=\"%lld\"><td>", (long long)t->id);
    ui_text(b, t->label && t->label[0] ? t->label : tr("(no label)"));
    ui_html(b, "</td><td>");
    when(b, t->created_at);
    ui_html(b, "</td><td>");
    if (t->revoked_at) {
        ui_html(b, "revoked ");
        when(b, t->revoked_at);
        ui_html(b, "</td><td>");
    } else {
        ui_html(b, "live</td><td><form class=\"inline\" method=\"post\" "
                   "action=\"/me/tokens/revoke\">");
        ui_csrf_field(r, b);
        ui_htmlf(b,
                 "<input type=\"hidden\" name=\"id\" value=\"%lld\"><button class=\"btn\" "
                 "type=\"submit\">Revoke</button></form>",
                 (long long)t->id);
    }
    ui_html(b, "</td></tr>");
    return sc_buf_error(b) != SC_OK;
}

static enum MHD_Result account_page(struct req *r, const struct sc_member *m, unsigned status,
                                    bool ok, const char *msg, const char *new_token)
{
    struct sc_buf b;
    sc_buf_init(&b, 4 << 20);
    ui_begin(r, &b, "Account", m, "/me/account");
    ui_html(&b, "</header>");
    message(&b, ok, msg);
    if (new_token) {
        ui_html(&b, "<section class=\"newtoken\"><p><strong>Your new API token.</strong> "
                    "Copy it now: it is stored only as a hash and will not be shown "
                    "again.</p><p><code id=\"token\">");
        ui_text(&b, new_token);
        ui_html(&b, "</code> <button class=\"btn\" type=\"button\" data-copy=\"");
        ui_text(&b, new_token);
        ui_html(&b, "\">Copy</button></p><p class=\"hint\">Use it as <code>Authorization: "
                    "Bearer …</code> with the JSON API under /api/v1/.</p></section>");
    }
    ui_html(&b, "<div class=\"two\"><section><h2>Change password</h2>"
                "<form method=\"post\" action=\"/me/password\" class=\"stack\">");
    ui_csrf_field(r, &b);
    ui_htmlf(&b,
             "<label>Current password<input name=\"current\" type=\"password\" required "
             "maxlength=\"%d\" autocomplete=\"current-password\"></label>"
             "<label>New password (at least %d characters)<input name=\"new\" "
             "type=\"password\" required minlength=\"%d\" maxlength=\"%d\" "
             "autocomplete=\"new-password\"></label><label>New password again<input "
             "name=\"again\" type=\"password\" required maxlength=\"%d\" "
             "autocomplete=\"new-password\"></label><button class=\"btn primary\" "
             "type=\"submit\">Change password</button></form></section>",
             SC_PASSWORD_MAX, SC_PASSWORD_MIN, SC_PASSWORD_MIN, SC_PASSWORD_MAX, SC_PASSWORD_MAX);
    ui_html(&b, "<section><h2>API tokens</h2><form method=\"post\" action=\"/me/tokens\" "
                "class=\"stack\">");
    ui_csrf_field(r, &b);
    ui_html(&b, "<label>Label<input name=\"label\" maxlength=\"100\" placeholder=\"e.g. CRM "
                "sync\"></label><button class=\"btn primary\" type=\"submit\">Create a "
                "token</button></form><div class=\"scroll\"><table class=\"t\" "
                "id=\"tokens\"><thead><tr><th>Label</th><th>Created (UTC)</th><th>State"
                "</th><th></th></tr></thead><tbody>");
    void *ctx[2] = {r, &b};
    enum sc_err e = sc_store_token_list(r->srv->store, m->id, token_row, ctx);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return reply_err(r, e, NULL);
    }
    ui_html(&b, "</tbody></table></div></section></div>");
    ui_end(&b);
    return reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

static enum MHD_Result change_password(struct req *r, const struct sc_member *m)
{
    char cur[SC_PASSWORD_MAX + 2], pw[SC_PASSWORD_MAX + 2], again[SC_PASSWORD_MAX + 2];
    char hash[128] = "", fresh[SC_PWHASH_LEN];
    form_field(r, "current", cur, sizeof(cur));
    form_field(r, "new", pw, sizeof(pw));
    form_field(r, "again", again, sizeof(again));
    struct sc_event ev;
    event_init(r, &ev, SC_EV_VIEW, 0, 0); /* for the anonymised address only */
    const char *err = NULL;
    if (!throttle_ok(r, "password", m->email, 5, 900))
        err = "Too many wrong passwords. Wait 15 minutes and try again.";
    else if (sc_store_member_password(r->srv->store, m->id, hash) != SC_OK ||
             sc_auth_password_check(hash, cur) != SC_OK) {
        throttle_fail(r, "password", m->email, 900);
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
        return reply_err(r, e, NULL);
    sc_store_audit(r->srv->store, m->email, "member.password_change", m->email, "");
    return session_start(r, m, "/me/account?changed=1");
}

enum MHD_Result h_account(struct req *r, const char *action)
{
    struct sc_member m;
    if (!session_member(r, &m))
        return reply_redirect(r, 303, "/login");
    if (!action) {
        if (!is_get(r))
            return reply_405(r, "GET, HEAD");
        return account_page(r, &m, 200, true,
                            req_arg(r, "changed") ? "Your password was changed." : NULL, NULL);
    }
    if (r->method != M_POST)
        return reply_405(r, "POST");
    if (!csrf_ok(r))
        return reply_error(r, 403, expired);
    if (strcmp(action, "password") == 0)
        return change_password(r, &m);
    if (strcmp(action, "tokens") == 0) {
        char label[101], token[SC_TOKEN_LEN], hash[SC_TOKEN_HASH_LEN];
        if (form_field(r, "label", label, sizeof(label)) == SC_ETOOBIG)
            return account_page(r, &m, 422, false, "The label may have 100 characters.", NULL);
        sc_auth_token_new(token);
        enum sc_err e = sc_auth_token_hash(r->srv->store, token, hash);
        if (e == SC_OK)
            e = sc_store_token_add(r->srv->store, m.id, hash, label);
        if (e != SC_OK)
            return reply_err(r, e, NULL);
        sc_store_audit(r->srv->store, m.email, "token.create", m.email, label);
        enum MHD_Result ret = account_page(r, &m, 201, true, "Token created.", token);
        sodium_memzero(token, sizeof(token));
        return ret;
    }
    if (strcmp(action, "tokens/revoke") == 0) {
        char id[24];
        form_field(r, "id", id, sizeof(id));
        enum sc_err e =
            sc_store_token_revoke(r->srv->store, m.id, num_arg(id), (int64_t)time(NULL));
        if (e == SC_ENOTFOUND)
            return account_page(r, &m, 404, false, "There is no such live token of yours.", NULL);
        if (e != SC_OK)
            return reply_err(r, e, NULL);
        sc_store_audit(r->srv->store, m.email, "token.revoke", m.email, id);
        return account_page(r, &m, 200, true, "The token was revoked.", NULL);
    }
    return reply_error(r, 404, "There is no such page.");
}

/* ---- /admin/members ------------------------------------------------------------------- */

/* May 'm' change member 't'?  Admins anyone; managers the sales members of their team. */
static bool may_manage(const struct sc_member *m, const struct sc_member *t)
{
    if (m->role == SC_ROLE_ADMIN)
        return true;
    return m->role == SC_ROLE_MANAGER && m->team[0] && strcmp(t->team, m->team) == 0 &&
           t->role == SC_ROLE_SALES;
}

struct member_list {
    struct req *r;
    const struct sc_member *viewer;
    struct sc_buf *b;
};

static int member_row(const struct sc_member *t, void *ctx)
{
    struct member_list *ml = ctx;
    struct sc_buf *b = ml->b;
    if (ml->viewer->role != SC_ROLE_ADMIN && strcmp(t->team, ml->viewer->team) != 0)
        return 0;
    ui_htmlf(b, "<tr data-member=\"%lld\"%s><td>", (long long)t->id,
             t->disabled ? " class=\"off\"" : "");
    ui_text(b, t->name);
    ui_html(b, "</td><td>");
    ui_text(b, t->email);
    ui_html(b, "</td><td>");
    ui_text(b, t->team);
    ui_htmlf(b, "</td><td>%s</td><td>%s</td><td><a href=\"/c/", tr(sc_role_name(t->role)),
             tr(t->disabled ? "disabled" : "active"));
    ui_text(b, t->slug);
    ui_html(b, "\">");
    ui_text(b, t->slug);
    ui_html(b, "</a></td><td>");
    if (may_manage(ml->viewer, t))
        ui_htmlf(b, "<a href=\"/admin/members/%lld\">Edit</a>", (long long)t->id);
    ui_html(b, "</td></tr>");
    return sc_buf_error(b) != SC_OK;
}

static void role_options(struct sc_buf *b, const struct sc_member *viewer, enum sc_role sel)
{
    for (int i = SC_ROLE_SALES; i <= SC_ROLE_ADMIN; i++)
        if (viewer->role == SC_ROLE_ADMIN || i == SC_ROLE_SALES)
            ui_htmlf(b, "<option value=\"%s\"%s>%s</option>", sc_role_name((enum sc_role)i),
                     (int)sel == i ? " selected" : "", tr(sc_role_name((enum sc_role)i)));
}

static enum MHD_Result members_page(struct req *r, const struct sc_member *m, unsigned status,
                                    bool ok, const char *msg, struct import_result *imp)
{
    struct sc_buf b;
    sc_buf_init(&b, 16 << 20);
    ui_begin(r, &b, m->role == SC_ROLE_ADMIN ? "Members" : "Members · team", m, "/admin/members");
    ui_html(&b, "</header>");
    message(&b, ok, msg);
    if (imp) {
        ui_htmlf(&b,
                 "<section id=\"import-report\"><h2>Import: %zu added, %zu not</h2>"
                 "<div class=\"scroll\"><table class=\"t\"><thead><tr><th class=\"n\">Line"
                 "</th><th>E-mail</th><th>Outcome</th></tr></thead><tbody>",
                 imp->added, imp->failed);
        if (imp->rows.data)
            sc_buf_append(&b, imp->rows.data, imp->rows.len);
        ui_html(&b, "</tbody></table></div></section>");
    }
    ui_html(&b, "<div class=\"scroll\"><table class=\"t sortable\" id=\"members\"><thead><tr>"
                "<th>Name</th><th>E-mail</th><th>Team</th><th>Role</th><th>State</th>"
                "<th>Card</th><th></th></tr></thead><tbody>");
    struct member_list ml = {r, m, &b};
    enum sc_err e = sc_store_member_list(r->srv->store, member_row, &ml);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return reply_err(r, e, NULL);
    }
    ui_html(&b, "</tbody></table></div><div class=\"two\"><section><h2>Add a member</h2>"
                "<form method=\"post\" action=\"/admin/members\" class=\"stack\">");
    ui_csrf_field(r, &b);
    ui_htmlf(&b,
             "<label>Name<input name=\"name\" required maxlength=\"%d\"></label>"
             "<label>E-mail<input name=\"email\" type=\"email\" required "
             "maxlength=\"%d\"></label>",
             SC_NAME_MAX, SC_EMAIL_MAX);
    if (m->role == SC_ROLE_ADMIN)
        ui_htmlf(&b, "<label>Team<input name=\"team\" maxlength=\"%d\"></label>", SC_TEAM_MAX);
    ui_html(&b, "<label>Role<select name=\"role\">");
    role_options(&b, m, SC_ROLE_SALES);
    ui_htmlf(&b,
             "</select></label><label>Card address (optional)<input name=\"slug\" "
             "maxlength=\"%d\" placeholder=\"generated when empty\"></label>"
             "<button class=\"btn primary\" type=\"submit\">Add</button></form></section>"
             "<section><h2>Import from CSV</h2><p class=\"hint\">The first line names the "
             "columns: <code>name,email</code> and, if you like, <code>team,role,slug,"
             "title,phone</code>. Up to %d rows and 64 KB at a time; each line is "
             "reported.</p><form method=\"post\" action=\"/admin/members/import\" "
             "class=\"stack\">",
             SC_SLUG_MAX, IMPORT_MAX_ROWS);
    ui_csrf_field(r, &b);
    ui_html(&b, "<label>Choose a file<input type=\"file\" accept=\".csv,text/csv\" "
                "data-fill=\"csv\"></label><label>or paste it<textarea name=\"csv\" "
                "rows=\"6\" maxlength=\"60000\"></textarea></label><button class=\"btn "
                "primary\" type=\"submit\">Import</button></form></section></div>");
    ui_end(&b);
    return reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

static enum MHD_Result member_edit_page(struct req *r, const struct sc_member *m,
                                        const struct sc_member *t, unsigned status, bool ok,
                                        const char *msg, const char *new_password)
{
    struct sc_buf b;
    sc_buf_init(&b, 1 << 20);
    ui_begin(r, &b, t->name, m, "/admin/members");
    ui_html(&b, "</header>");
    message(&b, ok, msg);
    if (new_password) {
        ui_html(&b, "<p class=\"newtoken\">Temporary password, shown this once: <code "
                    "id=\"temp-password\">");
        ui_text(&b, new_password);
        ui_html(&b, "</code>. Give it to them in person; they can change it under "
                    "Account.</p>");
    }
    ui_htmlf(&b, "<form method=\"post\" action=\"/admin/members/%lld\" class=\"stack\">",
             (long long)t->id);
    ui_csrf_field(r, &b);
    ui_htmlf(&b, "<p>E-mail: ");
    ui_text(&b, t->email);
    ui_htmlf(&b, "</p><label>Name<input name=\"name\" required maxlength=\"%d\" value=\"",
             SC_NAME_MAX);
    ui_text(&b, t->name);
    ui_html(&b, "\"></label>");
    if (m->role == SC_ROLE_ADMIN) {
        ui_htmlf(&b, "<label>Team<input name=\"team\" maxlength=\"%d\" value=\"", SC_TEAM_MAX);
        ui_text(&b, t->team);
        ui_html(&b, "\"></label>");
    }
    ui_html(&b, "<label>Role<select name=\"role\">");
    role_options(&b, m, t->role);
    ui_htmlf(&b,
             "</select></label><label class=\"check\"><input type=\"checkbox\" "
             "name=\"disabled\" value=\"1\"%s> Disabled (their card shows a polite page; "
             "their history stays)</label><button class=\"btn primary\" "
             "type=\"submit\">Save</button></form><h2>Password</h2><form method=\"post\" "
             "action=\"/admin/members/%lld/password\">",
             t->disabled ? " checked" : "", (long long)t->id);
    ui_csrf_field(r, &b);
    ui_html(&b, "<button class=\"btn\" type=\"submit\">Reset to a temporary password</button>"
                "</form>");
    ui_end(&b);
    return reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

static enum MHD_Result member_save(struct req *r, const struct sc_member *m, struct sc_member *t)
{
    char name[SC_NAME_MAX + 2], team[SC_TEAM_MAX + 2], role_s[16], dis[4];
    enum sc_role role = t->role;
    if (form_field(r, "name", name, sizeof(name)) != SC_OK || !name[0] ||
        strlen(name) > SC_NAME_MAX)
        return member_edit_page(r, m, t, 422, false, "A name of up to 200 bytes is required.",
                                NULL);
    if (m->role == SC_ROLE_ADMIN) {
        if (form_field(r, "team", team, sizeof(team)) == SC_ETOOBIG || strlen(team) > SC_TEAM_MAX)
            return member_edit_page(r, m, t, 422, false, "The team name is too long.", NULL);
    } else {
        snprintf(team, sizeof(team), "%s", t->team);
    }
    form_field(r, "role", role_s, sizeof(role_s));
    if (role_s[0] && !sc_role_parse(role_s, &role))
        return member_edit_page(r, m, t, 422, false, "Unknown role.", NULL);
    if (m->role != SC_ROLE_ADMIN && role != SC_ROLE_SALES)
        return reply_error(r, 403, "Only an admin may give this role.");
    if (t->id == m->id && role != m->role)
        return member_edit_page(r, m, t, 422, false, "You cannot change your own role.", NULL);
    bool disabled = form_field(r, "disabled", dis, sizeof(dis)) == SC_OK && dis[0] == '1';
    if (t->id == m->id && disabled)
        return member_edit_page(r, m, t, 422, false, "You cannot disable yourself.", NULL);
    struct sc_store *st = r->srv->store;
    enum sc_err e = sc_store_member_update(st, t->id, name, team, role);
    if (e == SC_OK && disabled != t->disabled)
        e = sc_store_member_set_disabled(st, t->id, disabled);
    if (e != SC_OK)
        return reply_err(r, e, NULL);
    char detail[SC_NAME_MAX + SC_TEAM_MAX + 64];
    snprintf(detail, sizeof(detail), "name=%s team=%s role=%s", name, team, sc_role_name(role));
    sc_store_audit(st, m->email, "member.edit", t->email, detail);
    if (disabled != t->disabled)
        sc_store_audit(st, m->email, disabled ? "member.disable" : "member.enable", t->email, "");
    struct sc_member fresh;
    if (sc_store_member_by_id(st, t->id, &fresh) == SC_OK)
        *t = fresh;
    return member_edit_page(r, m, t, 200, true, "Saved.", NULL);
}

static enum MHD_Result member_reset(struct req *r, const struct sc_member *m,
                                    const struct sc_member *t)
{
    unsigned char raw[12];
    char pw[24], hash[SC_PWHASH_LEN];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(pw, sizeof(pw), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    enum sc_err e = sc_auth_password_hash(pw, hash);
    if (e == SC_OK)
        e = sc_store_member_set_password(r->srv->store, t->id, hash);
    if (e != SC_OK)
        return reply_err(r, e, NULL);
    sc_store_audit(r->srv->store, m->email, "member.password_reset", t->email, "");
    enum MHD_Result ret =
        member_edit_page(r, m, t, 200, true, "The password was reset; their sessions ended.", pw);
    sodium_memzero(pw, sizeof(pw));
    return ret;
}

enum MHD_Result h_members(struct req *r, const char *rest)
{
    struct sc_member m;
    if (!session_member(r, &m))
        return reply_redirect(r, 303, "/login");
    if (m.role == SC_ROLE_SALES)
        return reply_error(r, 403, "Members are managed by managers and admins.");
    if (r->method == M_POST && !csrf_ok(r))
        return reply_error(r, 403, expired);
    const char *team = m.role == SC_ROLE_ADMIN ? NULL : m.team;
    if (!rest || !rest[0]) {
        if (is_get(r))
            return members_page(r, &m, 200, true, NULL, NULL);
        if (r->method != M_POST)
            return reply_405(r, "GET, HEAD, POST");
        char name[SC_NAME_MAX + 2], email[SC_EMAIL_MAX + 2], tm[SC_TEAM_MAX + 2], role[16],
            slug[SC_SLUG_MAX + 2], why[160];
        form_field(r, "name", name, sizeof(name));
        form_field(r, "email", email, sizeof(email));
        form_field(r, "team", tm, sizeof(tm));
        form_field(r, "role", role, sizeof(role));
        form_field(r, "slug", slug, sizeof(slug));
        enum sc_role want = SC_ROLE_SALES;
        if (role[0] && sc_role_parse(role, &want) && want > m.role)
            return reply_error(r, 403, "You may not give this role.");
        if (m.role != SC_ROLE_ADMIN && want != SC_ROLE_SALES)
            return reply_error(r, 403, "Managers add salespeople; an admin adds managers.");
        struct member_input in = {name, email, team ? team : tm, role, slug, NULL, NULL};
        struct sc_member out;
        if (member_create(r->srv->store, m.email, &in, &out, why, sizeof(why)) != SC_OK) {
            char msg[200];
            snprintf(msg, sizeof(msg), tr("Not added: %s."), tr(why));
            return members_page(r, &m, 422, false, msg, NULL);
        }
        char msg[SC_EMAIL_MAX + SC_SLUG_MAX + 64];
        snprintf(msg, sizeof(msg), tr("Added %s; their card is /c/%s."), out.email, out.slug);
        return members_page(r, &m, 201, true, msg, NULL);
    }
    if (strcmp(rest, "import") == 0) {
        if (r->method != M_POST)
            return reply_405(r, "POST");
        if (r->body.len > 0 && r->body.len >= r->srv->cfg->max_body)
            return reply_error(r, 413, "The file is too big; import at most 64 KB at a time.");
        char *csv = malloc(r->body.len + 1);
        if (!csv)
            return reply_err(r, SC_ENOMEM, NULL);
        enum sc_err e = form_field(r, "csv", csv, r->body.len + 1);
        struct import_result res = {0};
        sc_buf_init(&res.rows, 8 << 20);
        if (e == SC_OK && csv[0])
            member_import(r->srv->store, m.email, team,
                          m.role == SC_ROLE_ADMIN ? SC_ROLE_ADMIN : SC_ROLE_SALES, csv, strlen(csv),
                          &res);
        free(csv);
        enum MHD_Result ret =
            e != SC_OK || res.added + res.failed == 0
                ? members_page(r, &m, 422, false, "Choose or paste a CSV file to import.", NULL)
                : members_page(r, &m, res.failed ? 422 : 200, res.failed == 0,
                               res.failed ? "Some lines were not imported; see below."
                                          : "Every line was imported.",
                               &res);
        sc_buf_cleanup(&res.rows);
        return ret;
    }
    /* /admin/members/{id}[/password] */
    char *end;
    long long id = strtoll(rest, &end, 10);
    struct sc_member t;
    if (id <= 0 || (*end && strcmp(end, "/password") != 0) ||
        sc_store_member_by_id(r->srv->store, id, &t) != SC_OK)
        return reply_error(r, 404, "There is no such member.");
    if (!may_manage(&m, &t))
        return reply_error(r, 403, "You may not change this member.");
    if (*end) {
        if (r->method != M_POST)
            return reply_405(r, "POST");
        return member_reset(r, &m, &t);
    }
    if (is_get(r))
        return member_edit_page(r, &m, &t, 200, true, NULL, NULL);
    if (r->method != M_POST)
        return reply_405(r, "GET, HEAD, POST");
    return member_save(r, &m, &t);
}

/* ---- /admin/audit ------------------------------------------------------------------- */

struct audit_out {
    struct sc_buf *b;
    struct list_out *o;
    int64_t last;
    int n;
};

static int audit_row(const struct sc_audit_row *a, void *ctx)
{
    struct audit_out *ao = ctx;
    ao->last = a->id;
    ao->n++;
    if (ao->o) {
        struct list_out *o = ao->o;
        char id[24], ts[32];
        snprintf(id, sizeof(id), "%lld", (long long)a->id);
        iso_time(a->ts, ts);
        if (o->csv) {
            const char *f[] = {id, ts, a->actor, a->action, a->target, a->detail};
            list_csv_row(o, f, 6);
        } else {
            sc_buf_printf(&o->b, "%s{\"id\":%s,\"at\":\"%s\",\"actor\":", o->rows ? ",\n" : "\n",
                          id, ts);
            json_str(&o->b, a->actor);
            sc_buf_puts(&o->b, ",\"action\":");
            json_str(&o->b, a->action);
            sc_buf_puts(&o->b, ",\"target\":");
            json_str(&o->b, a->target);
            sc_buf_puts(&o->b, ",\"detail\":");
            json_str(&o->b, a->detail);
            sc_buf_putc(&o->b, '}');
        }
        o->rows++;
        return sc_buf_error(&o->b) != SC_OK;
    }
    struct sc_buf *b = ao->b;
    ui_html(b, "<tr><td>");
    when(b, a->ts);
    ui_html(b, "</td><td>");
    ui_text(b, a->actor);
    ui_html(b, "</td><td>");
    ui_text(b, a->action);
    ui_html(b, "</td><td>");
    ui_text(b, a->target);
    ui_html(b, "</td><td>");
    ui_text(b, a->detail);
    ui_html(b, "</td></tr>");
    return sc_buf_error(b) != SC_OK;
}

enum MHD_Result h_audit(struct req *r)
{
    struct sc_member m;
    if (!session_member(r, &m))
        return reply_redirect(r, 303, "/login");
    if (m.role != SC_ROLE_ADMIN)
        return reply_error(r, 403, "The audit log is for admins.");
    int64_t before = num_arg(req_arg(r, "before"));
    struct sc_buf b;
    sc_buf_init(&b, 4 << 20);
    ui_begin(r, &b, "Audit log", &m, "/admin/audit");
    ui_html(&b, "</header><div class=\"scroll\"><table class=\"t\" id=\"audit\"><thead><tr>"
                "<th>When (UTC)</th><th>Who</th><th>Did</th><th>To</th><th>Detail</th></tr>"
                "</thead><tbody>");
    struct audit_out ao = {&b, NULL, 0, 0};
    enum sc_err e = sc_store_audit_list(r->srv->store, before, 100, audit_row, &ao);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return reply_err(r, e, NULL);
    }
    ui_html(&b, "</tbody></table></div><p>");
    if (ao.n == 100)
        ui_htmlf(&b, "<a href=\"/admin/audit?before=%lld\">Older</a> · ", (long long)ao.last);
    ui_html(&b, "<a href=\"/api/v1/audit?format=csv\">Export (CSV)</a></p>");
    ui_end(&b);
    return reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

enum MHD_Result api_audit(struct req *r)
{
    enum MHD_Result ret;
    struct sc_member m;
    if (!api_member(r, &m, &ret))
        return ret;
    if (m.role != SC_ROLE_ADMIN)
        return reply_error(r, 403, "The audit log is for admins.");
    struct list_out o;
    list_begin(r, &o, "id,at,actor,action,target,detail\r\n");
    struct audit_out ao = {NULL, &o, 0, 0};
    int64_t before = num_arg(req_arg(r, "before"));
    return list_finish(r, &o, sc_store_audit_list(r->srv->store, before, 100000, audit_row, &ao));
}

/* ---- /admin/rewards: the ledger with approve / void --------------------------------- */

struct ledger {
    struct req *r;
    struct sc_buf *b;
    int64_t find; /* not 0: only note whether this row is in scope */
    bool found;
    size_t n;
};

static int ledger_row(const struct sc_reward_row *w, void *ctx)
{
    struct ledger *l = ctx;
    if (l->find) {
        if (w->id == l->find)
            l->found = true;
        return l->found;
    }
    struct sc_buf *b = l->b;
    l->n++;
    ui_htmlf(b, "<tr data-reward=\"%lld\" data-status=\"%s\"><td>", (long long)w->id, w->status);
    when(b, w->created_at);
    ui_html(b, "</td><td>");
    ui_text(b, w->party.name);
    ui_htmlf(b, " (%s)</td><td class=\"n\">%d</td><td>%s</td><td class=\"n\">%lld</td><td>%s",
             tr(w->party.type == SC_PARTY_MEMBER ? "member" : "customer"), w->level, tr(w->kind),
             (long long)w->amount, tr(w->status));
    if (w->reason && w->reason[0]) {
        ui_html(b, ": ");
        ui_text(b, w->reason);
    }
    ui_html(b, "</td><td>");
    if (strcmp(w->status, "pending") == 0 || strcmp(w->status, "hold") == 0) {
        sc_buf_printf(
            b, "<form class=\"inline decide\" method=\"post\" action=\"/admin/rewards/%lld\">",
            (long long)w->id);
        ui_csrf_field(l->r, b);
        ui_html(b, "<input name=\"reason\" maxlength=\"200\" placeholder=\"reason\" "
                   "aria-label=\"Reason\"><button class=\"btn\" name=\"decision\" "
                   "value=\"approved\" type=\"submit\">Approve</button><button class=\"btn\" "
                   "name=\"decision\" value=\"void\" type=\"submit\">Void</button></form>");
    }
    ui_html(b, "</td></tr>");
    return sc_buf_error(b) != SC_OK;
}

static enum MHD_Result rewards_page(struct req *r, const struct sc_member *m, unsigned status,
                                    bool ok, const char *msg)
{
    struct sc_scope scope;
    scope_of(m, &scope);
    struct sc_buf b;
    sc_buf_init(&b, 32 << 20);
    ui_begin(r, &b, "Rewards ledger", m, "/dashboard");
    ui_html(&b, "</header>");
    message(&b, ok, msg);
    ui_html(&b, "<p class=\"hint\">Sign-up points and commissions, as the attribution "
                "rules credited them. Pending rows become approved after their hold; a "
                "decision here is final and audited.</p><div class=\"scroll\"><table "
                "class=\"t sortable\" id=\"rewards\"><thead><tr><th>When (UTC)</th><th>Earned "
                "by</th><th class=\"n\">Level</th><th>Kind</th><th class=\"n\">Amount</th>"
                "<th>State</th><th></th></tr></thead><tbody>");
    struct ledger l = {r, &b, 0, false, 0};
    enum sc_err e =
        sc_store_rewards_list(r->srv->store, &scope, (int64_t)time(NULL), ledger_row, &l);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return reply_err(r, e, NULL);
    }
    ui_html(&b, "</tbody></table></div><p><a href=\"/api/v1/rewards?format=csv\">Export "
                "(CSV)</a></p>");
    ui_end(&b);
    return reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

enum MHD_Result h_rewards_page(struct req *r, const char *rest)
{
    struct sc_member m;
    if (!session_member(r, &m))
        return reply_redirect(r, 303, "/login");
    if (m.role == SC_ROLE_SALES)
        return reply_error(r, 403, "Rewards are decided by managers and admins.");
    if (!rest || !rest[0])
        return is_get(r) ? rewards_page(r, &m, 200, true, NULL) : reply_405(r, "GET, HEAD");
    if (r->method != M_POST)
        return reply_405(r, "POST");
    if (!csrf_ok(r))
        return reply_error(r, 403, expired);
    int64_t id = num_arg(rest);
    char decision[16], reason[202];
    form_field(r, "decision", decision, sizeof(decision));
    if (form_field(r, "reason", reason, sizeof(reason)) == SC_ETOOBIG)
        return rewards_page(r, &m, 422, false, "The reason may have 200 characters.");
    if (strcmp(decision, "approved") != 0 && strcmp(decision, "void") != 0)
        return rewards_page(r, &m, 422, false, "Approve or void.");
    /* Only a row the member can see may be decided. */
    struct sc_scope scope;
    scope_of(&m, &scope);
    struct ledger l = {r, NULL, id, false, 0};
    enum sc_err e =
        id ? sc_store_rewards_list(r->srv->store, &scope, (int64_t)time(NULL), ledger_row, &l)
           : SC_OK;
    if (e != SC_OK)
        return reply_err(r, e, NULL);
    if (!l.found)
        return reply_error(r, 404, "There is no such reward in your ledger.");
    e = sc_store_reward_decide(r->srv->store, id, decision, reason, (int64_t)time(NULL));
    if (e == SC_ECONFLICT || e == SC_ENOTFOUND)
        return rewards_page(r, &m, 409, false, "This reward was already decided.");
    if (e != SC_OK)
        return reply_err(r, e, NULL);
    char target[32];
    snprintf(target, sizeof(target), "reward:%lld", (long long)id);
    sc_store_audit(r->srv->store, m.email,
                   strcmp(decision, "void") == 0 ? "reward.void" : "reward.approve", target,
                   reason);
    return rewards_page(r, &m, 200, true, strcmp(decision, "void") == 0 ? "Voided." : "Approved.");
}

/* ---- the share tree ---------------------------------------------------------------- */

struct tree {
    struct sc_tree_row *rows;
    char (*codes)[SC_CODE_LEN + 1];
    int *depth;
    size_t n, cap;
};

static int keep_node(const struct sc_tree_row *t, void *ctx)
{
    struct tree *tr = ctx;
    if (tr->n == tr->cap) {
        size_t cap = tr->cap ? tr->cap * 2 : 64;
        struct sc_tree_row *rows = realloc(tr->rows, cap * sizeof(*rows));
        if (rows)
            tr->rows = rows;
        char(*codes)[SC_CODE_LEN + 1] = realloc(tr->codes, cap * sizeof(*codes));
        if (codes)
            tr->codes = codes;
        int *depth = realloc(tr->depth, cap * sizeof(*depth));
        if (depth)
            tr->depth = depth;
        if (!rows || !codes || !depth)
            return 1;
        tr->cap = cap;
    }
    tr->rows[tr->n] = *t;
    snprintf(tr->codes[tr->n], SC_CODE_LEN + 1, "%s", t->code ? t->code : "");
    tr->rows[tr->n].code = NULL; /* set once loading is over: 'codes' may still move */
    /* Parents come first (ids grow), so a parent's depth is known: look it up. */
    int d = 0;
    for (size_t i = tr->n; t->parent_id && i-- > 0;)
        if (tr->rows[i].id == t->parent_id) {
            d = tr->depth[i] + 1;
            break;
        }
    tr->depth[tr->n] = d;
    tr->n++;
    return 0;
}

static void tree_free(struct tree *tr)
{
    for (size_t i = 0; i < tr->n; i++)
        tr->rows[i].code = NULL;
    free(tr->rows);
    free(tr->codes);
    free(tr->depth);
}

/*
 * K-factor: sign-ups produced per signed-up customer.  Customers who signed
 * up through this card, and the sign-ups that came through links customers
 * shared; their ratio is how many new sign-ups each sign-up brings.
 */
struct kfactor {
    int64_t signups, by_customers;
    int max_depth;
};

static struct kfactor kfactor_of(const struct tree *tr)
{
    struct kfactor k = {0, 0, 0};
    for (size_t i = 0; i < tr->n; i++) {
        k.signups += tr->rows[i].signups;
        if (tr->rows[i].owner.type == SC_PARTY_CUSTOMER)
            k.by_customers += tr->rows[i].signups;
        if (tr->depth[i] > k.max_depth)
            k.max_depth = tr->depth[i];
    }
    return k;
}

/* Loads the tree of card 'slug' if 'm' may read it; answers and returns false if not. */
static bool load_tree(struct req *r, const struct sc_member *m, const char *slug, struct tree *tr,
                      enum MHD_Result *ret)
{
    enum sc_err e = strlen(slug) <= SC_SLUG_MAX
                        ? sc_store_card_by_slug(r->srv->store, slug, &r->card)
                        : SC_ENOTFOUND;
    if (e != SC_OK) {
        *ret = reply_err(r, e, e == SC_ENOTFOUND ? "There is no such card." : NULL);
        return false;
    }
    if (!may_read_card(r, m, r->card.member_id)) {
        *ret = reply_error(r, 403, "This card belongs to another team.");
        return false;
    }
    e = sc_store_share_tree(r->srv->store, r->card.id, keep_node, tr);
    if (e != SC_OK) {
        tree_free(tr);
        *ret = reply_err(r, e, NULL);
        return false;
    }
    for (size_t i = 0; i < tr->n; i++)
        tr->rows[i].code = tr->codes[i];
    return true;
}

enum MHD_Result h_tree(struct req *r, const char *slug)
{
    struct sc_member m;
    if (!session_member(r, &m))
        return reply_redirect(r, 303, "/login");
    if (!is_get(r))
        return reply_405(r, "GET, HEAD");
    struct tree tree = {0};
    enum MHD_Result ret;
    if (!load_tree(r, &m, slug, &tree, &ret))
        return ret;
    struct kfactor k = kfactor_of(&tree);
    int64_t customers = 0;
    for (size_t i = 0; i < tree.n; i++)
        customers += tree.rows[i].signups;
    struct sc_buf b;
    sc_buf_init(&b, 16 << 20);
    char title[300];
    snprintf(title, sizeof(title), tr("Share tree · %s"), r->card.name ? r->card.name : slug);
    ui_begin(r, &b, title, &m, m.role == SC_ROLE_SALES ? "/me" : "/dashboard");
    ui_htmlf(&b,
             "</header><section class=\"tiles\"><div class=\"tile\" data-kpi=\"links\" "
             "data-value=\"%zu\"><div class=\"v\">%zu</div><div class=\"k\">Tracked links"
             "</div></div><div class=\"tile\" data-kpi=\"depth\" data-value=\"%d\"><div "
             "class=\"v\">%d</div><div class=\"k\">Deepest share</div></div><div "
             "class=\"tile\" data-kpi=\"signups\" data-value=\"%lld\"><div class=\"v\">%lld"
             "</div><div class=\"k\">Sign-ups through links</div></div><div class=\"tile\" "
             "data-kpi=\"kfactor\" data-value=\"%.2f\"><div class=\"v\">%.2f</div><div "
             "class=\"k\">K-factor (sign-ups per signed-up customer)</div></div></section>",
             tree.n, tree.n, k.max_depth, k.max_depth, (long long)k.signups, (long long)k.signups,
             customers ? (double)k.by_customers / (double)customers : 0,
             customers ? (double)k.by_customers / (double)customers : 0);
    ui_html(&b, "<p class=\"hint\">Each line is a tracked link: who shared it, through "
                "which channel, the visits that came through it and the sign-ups it won. "
                "Indented links were shared from a page reached through the link above.</p>"
                "<ul class=\"tree\" id=\"tree\">");
    /* Depth-first: children right under their parent. */
    size_t *stack = malloc((tree.n + 1) * sizeof(*stack));
    bool *done = calloc(tree.n + 1, sizeof(*done));
    size_t sp = 0;
    for (size_t root = 0; stack && done && root < tree.n; root++) {
        if (done[root] || tree.depth[root] != 0)
            continue;
        stack[sp++] = root;
        while (sp) {
            size_t i = stack[--sp];
            if (done[i])
                continue;
            done[i] = true;
            const struct sc_tree_row *t = &tree.rows[i];
            ui_htmlf(&b, "<li style=\"margin-left:%dem\" data-depth=\"%d\" data-code=\"%s\">",
                     tree.depth[i] * 2 > 40 ? 40 : tree.depth[i] * 2, tree.depth[i], t->code);
            if (t->owner.type == SC_PARTY_NONE)
                ui_html(&b, tr("a visitor"));
            else
                ui_text(&b, t->owner.name);
            ui_htmlf(&b,
                     " <span class=\"chip\">%s</span> <span class=\"hint\">%lld visits · "
                     "%lld sign-ups · ",
                     tr(sc_channel_name(t->channel)), (long long)t->visits, (long long)t->signups);
            when(&b, t->created_at);
            ui_html(&b, "</span></li>");
            for (size_t c = tree.n; c-- > i + 1;) /* pushed in reverse: oldest child first */
                if (!done[c] && tree.rows[c].parent_id == t->id)
                    stack[sp++] = c;
        }
    }
    free(stack);
    free(done);
    ui_htmlf(&b, "</ul><p><a href=\"/api/v1/cards/%s/tree\">As JSON</a></p>", r->card.slug);
    tree_free(&tree);
    ui_end(&b);
    return reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

enum MHD_Result api_tree(struct req *r, const char *slug)
{
    enum MHD_Result ret;
    struct sc_member m;
    if (!api_member(r, &m, &ret))
        return ret;
    struct tree tr = {0};
    if (!load_tree(r, &m, slug, &tr, &ret))
        return ret;
    struct kfactor k = kfactor_of(&tr);
    int64_t customers = k.signups;
    struct sc_buf b;
    sc_buf_init(&b, 32 << 20);
    sc_buf_puts(&b, "{\"card\":");
    json_str(&b, r->card.slug);
    sc_buf_printf(&b,
                  ",\"links\":%zu,\"max_depth\":%d,\"signups\":%lld,"
                  "\"signups_by_customers\":%lld,\"k_factor\":%.4f,\"nodes\":[",
                  tr.n, k.max_depth, (long long)k.signups, (long long)k.by_customers,
                  customers ? (double)k.by_customers / (double)customers : 0);
    for (size_t i = 0; i < tr.n; i++) {
        const struct sc_tree_row *t = &tr.rows[i];
        char at[32];
        iso_time(t->created_at, at);
        sc_buf_printf(&b, "%s{\"code\":\"%s\",\"parent\":", i ? ",\n" : "\n", t->code);
        const char *parent = NULL;
        for (size_t j = 0; t->parent_id && j < i; j++)
            if (tr.rows[j].id == t->parent_id)
                parent = tr.rows[j].code;
        json_str(&b, parent);
        sc_buf_printf(&b, ",\"depth\":%d,\"channel\":\"%s\",\"owner_type\":\"%s\",\"owner\":",
                      tr.depth[i], sc_channel_name(t->channel),
                      t->owner.type == SC_PARTY_MEMBER     ? "member"
                      : t->owner.type == SC_PARTY_CUSTOMER ? "customer"
                                                           : "visitor");
        json_str(&b, t->owner.type ? t->owner.name : NULL);
        sc_buf_printf(&b, ",\"visits\":%lld,\"signups\":%lld,\"created_at\":\"%s\"}",
                      (long long)t->visits, (long long)t->signups, at);
    }
    sc_buf_puts(&b, "\n]}\n");
    tree_free(&tr);
    if (sc_buf_error(&b)) {
        sc_buf_cleanup(&b);
        return reply_error(r, 413, "The tree is too large to send at once.");
    }
    return reply_bytes(r, 200, "application/json", &b);
}

/* ---- GET /api/v1/channels ---------------------------------------------------------- */

struct chan_out {
    int64_t n[SC_CH_OTHER + 2][SC_EV_COUNT];
};

static int add_chan(int ch, enum sc_ev_type t, int64_t n, void *ctx)
{
    struct chan_out *c = ctx;
    c->n[ch >= 0 && ch <= SC_CH_OTHER ? ch : SC_CH_OTHER + 1][t] += n;
    return 0;
}

enum MHD_Result api_channels(struct req *r)
{
    enum MHD_Result ret;
    struct sc_member m;
    struct sc_scope scope;
    int64_t from, to;
    if (!api_report(r, &m, &scope, &from, &to, &ret))
        return ret;
    struct chan_out c;
    memset(&c, 0, sizeof(c));
    enum sc_err e = sc_store_channels(r->srv->store, &scope, from, to, add_chan, &c);
    struct list_out o;
    list_begin(r, &o, "channel,scans,opens,views,shares,saves,clicks,signups\r\n");
    for (int i = 0; e == SC_OK && i < SC_CH_OTHER + 2; i++) {
        const int64_t *n = c.n[i];
        const char *name = i <= SC_CH_OTHER ? sc_channel_name((enum sc_channel)i) : "direct";
        const int64_t v[7] = {n[SC_EV_SCAN], n[SC_EV_OPEN],  n[SC_EV_VIEW],  n[SC_EV_SHARE],
                              n[SC_EV_SAVE], n[SC_EV_CLICK], n[SC_EV_SIGNUP]};
        if (o.csv) {
            char s[7][24];
            const char *fields[8] = {name};
            for (int k = 0; k < 7; k++) {
                snprintf(s[k], sizeof(s[k]), "%lld", (long long)v[k]);
                fields[k + 1] = s[k];
            }
            list_csv_row(&o, fields, 8);
        } else {
            sc_buf_printf(&o.b,
                          "%s{\"channel\":\"%s\",\"scans\":%lld,\"opens\":%lld,\"views\":%lld,"
                          "\"shares\":%lld,\"saves\":%lld,\"clicks\":%lld,\"signups\":%lld}",
                          o.rows ? ",\n" : "\n", name, (long long)v[0], (long long)v[1],
                          (long long)v[2], (long long)v[3], (long long)v[4], (long long)v[5],
                          (long long)v[6]);
        }
        o.rows++;
    }
    return list_finish(r, &o, e);
}

/* ---- GET /api/v1/devices ----------------------------------------------------------- */

enum MHD_Result api_devices(struct req *r)
{
    enum MHD_Result ret;
    struct sc_member m;
    struct sc_scope scope;
    int64_t from, to;
    if (!api_report(r, &m, &scope, &from, &to, &ret))
        return ret;
    int64_t n[SC_DEV_COUNT];
    enum sc_err e = sc_store_devices(r->srv->store, &scope, from, to, n);
    struct list_out o;
    list_begin(r, &o, "device,visitors\r\n");
    for (int d = 0; e == SC_OK && d < SC_DEV_COUNT; d++) {
        char v[24];
        snprintf(v, sizeof(v), "%lld", (long long)n[d]);
        if (o.csv) {
            const char *fields[] = {sc_device_name((enum sc_device)d), v};
            list_csv_row(&o, fields, 2);
        } else {
            sc_buf_printf(&o.b, "%s{\"device\":\"%s\",\"visitors\":%s}", o.rows ? ",\n" : "\n",
                          sc_device_name((enum sc_device)d), v);
        }
        o.rows++;
    }
    return list_finish(r, &o, e);
}

/* ---- GET /api/v1/members ----------------------------------------------------------- */

static int member_json(const struct sc_member *t, void *ctx)
{
    void **c = ctx;
    const struct sc_member *viewer = c[0];
    struct list_out *o = c[1];
    if (viewer->role != SC_ROLE_ADMIN && strcmp(t->team, viewer->team) != 0)
        return 0;
    char id[24], at[32];
    snprintf(id, sizeof(id), "%lld", (long long)t->id);
    iso_time(t->created_at, at);
    if (o->csv) {
        const char *f[] = {id,
                           t->name,
                           t->email,
                           t->team,
                           sc_role_name(t->role),
                           t->slug,
                           t->disabled ? "disabled" : "active",
                           at};
        list_csv_row(o, f, 8);
    } else {
        sc_buf_printf(&o->b, "%s{\"id\":%s,\"name\":", o->rows ? ",\n" : "\n", id);
        json_str(&o->b, t->name);
        sc_buf_puts(&o->b, ",\"email\":");
        json_str(&o->b, t->email);
        sc_buf_puts(&o->b, ",\"team\":");
        json_str(&o->b, t->team);
        sc_buf_printf(&o->b, ",\"role\":\"%s\",\"card\":", sc_role_name(t->role));
        json_str(&o->b, t->slug);
        sc_buf_printf(&o->b, ",\"disabled\":%s,\"created_at\":\"%s\"}",
                      t->disabled ? "true" : "false", at);
    }
    o->rows++;
    return sc_buf_error(&o->b) != SC_OK;
}

enum MHD_Result api_members(struct req *r)
{
    enum MHD_Result ret;
    struct sc_member m;
    if (!api_member(r, &m, &ret))
        return ret;
    if (m.role == SC_ROLE_SALES)
        return reply_error(r, 403, "Members are listed for managers and admins.");
    struct list_out o;
    list_begin(r, &o, "id,name,email,team,role,card,state,created_at\r\n");
    void *ctx[2] = {&m, &o};
    return list_finish(r, &o, sc_store_member_list(r->srv->store, member_json, ctx));
}
