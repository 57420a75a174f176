/*
 * admin_members.c — /admin/members: members and teams (add, edit, disable,
 * reset a password, import a CSV) for managers (their team's salespeople)
 * and admins (everyone), and the same list as JSON/CSV at /api/v1/members.
 * Every change is CSRF-checked, allowed by role, and audited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "auth_int.h"
#include "pages_int.h"
#include "routes_int.h"
#include "sharecard/escape.h"

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
    sc_ui_htmlf(b, "<tr data-member=\"%lld\"%s><td>", (long long)t->id,
                t->disabled ? " class=\"off\"" : "");
    sc_ui_text(b, t->name);
    sc_ui_html(b, "</td><td>");
    sc_ui_text(b, t->email);
    sc_ui_html(b, "</td><td>");
    sc_ui_text(b, t->team);
    sc_ui_htmlf(b, "</td><td>%s</td><td>%s</td><td><a href=\"/c/", sc_tr(sc_role_name(t->role)),
                sc_tr(t->disabled ? "disabled" : "active"));
    sc_ui_text(b, t->slug);
    sc_ui_html(b, "\">");
    sc_ui_text(b, t->slug);
    sc_ui_html(b, "</a></td><td>");
    if (may_manage(ml->viewer, t))
        sc_ui_htmlf(b, "<a href=\"/admin/members/%lld\">Edit</a>", (long long)t->id);
    sc_ui_html(b, "</td></tr>");
    return sc_buf_error(b) != SC_OK;
}

static void role_options(struct sc_buf *b, const struct sc_member *viewer, enum sc_role sel)
{
    for (int i = SC_ROLE_SALES; i <= SC_ROLE_ADMIN; i++)
        if (viewer->role == SC_ROLE_ADMIN || i == SC_ROLE_SALES)
            sc_ui_htmlf(b, "<option value=\"%s\"%s>%s</option>", sc_role_name((enum sc_role)i),
                        (int)sel == i ? " selected" : "", sc_tr(sc_role_name((enum sc_role)i)));
}

static enum MHD_Result members_page(struct req *r, const struct sc_member *m, unsigned status,
                                    bool ok, const char *msg, struct import_result *imp)
{
    struct sc_buf b;
    sc_buf_init(&b, 16 << 20);
    sc_ui_begin(r, &b, m->role == SC_ROLE_ADMIN ? "Members" : "Members · team", m,
                "/admin/members");
    sc_ui_html(&b, "</header>");
    sc_ui_message(&b, ok, msg);
    if (imp) {
        sc_ui_htmlf(&b,
                    "<section id=\"import-report\"><h2>Import: %zu added, %zu not</h2>"
                    "<div class=\"scroll\"><table class=\"t\"><thead><tr><th class=\"n\">Line"
                    "</th><th>E-mail</th><th>Outcome</th></tr></thead><tbody>",
                    imp->added, imp->failed);
        if (imp->rows.data)
            sc_buf_append(&b, imp->rows.data, imp->rows.len);
        sc_ui_html(&b, "</tbody></table></div></section>");
    }
    sc_ui_html(&b, "<div class=\"scroll\"><table class=\"t sortable\" id=\"members\"><thead><tr>"
                   "<th>Name</th><th>E-mail</th><th>Team</th><th>Role</th><th>State</th>"
                   "<th>Card</th><th></th></tr></thead><tbody>");
    struct member_list ml = {r, m, &b};
    enum sc_err e = sc_store_member_list(r->srv->store, member_row, &ml);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return sc_reply_err(r, e, NULL);
    }
    sc_ui_html(&b, "</tbody></table></div><div class=\"two\"><section><h2>Add a member</h2>"
                   "<form method=\"post\" action=\"/admin/members\" class=\"stack\">");
    sc_ui_csrf_field(r, &b);
    sc_ui_htmlf(&b,
                "<label>Name<input name=\"name\" required maxlength=\"%d\"></label>"
                "<label>E-mail<input name=\"email\" type=\"email\" required "
                "maxlength=\"%d\"></label>",
                SC_NAME_MAX, SC_EMAIL_MAX);
    if (m->role == SC_ROLE_ADMIN)
        sc_ui_htmlf(&b, "<label>Team<input name=\"team\" maxlength=\"%d\"></label>", SC_TEAM_MAX);
    sc_ui_html(&b, "<label>Role<select name=\"role\">");
    role_options(&b, m, SC_ROLE_SALES);
    sc_ui_htmlf(&b,
                "</select></label><label>Card address (optional)<input name=\"slug\" "
                "maxlength=\"%d\" placeholder=\"generated when empty\"></label>"
                "<button class=\"btn primary\" type=\"submit\">Add</button></form></section>"
                "<section><h2>Import from CSV</h2><p class=\"hint\">The first line names the "
                "columns: <code>name,email</code> and, if you like, <code>team,role,slug,"
                "title,phone</code>. Up to %d rows and 64 KB at a time; each line is "
                "reported.</p><form method=\"post\" action=\"/admin/members/import\" "
                "class=\"stack\">",
                SC_SLUG_MAX, IMPORT_MAX_ROWS);
    sc_ui_csrf_field(r, &b);
    sc_ui_html(&b, "<label>Choose a file<input type=\"file\" accept=\".csv,text/csv\" "
                   "data-fill=\"csv\"></label><label>or paste it<textarea name=\"csv\" "
                   "rows=\"6\" maxlength=\"60000\"></textarea></label><button class=\"btn "
                   "primary\" type=\"submit\">Import</button></form></section></div>");
    sc_ui_end(&b);
    return sc_reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

static enum MHD_Result member_edit_page(struct req *r, const struct sc_member *m,
                                        const struct sc_member *t, unsigned status, bool ok,
                                        const char *msg, const char *new_password)
{
    struct sc_buf b;
    sc_buf_init(&b, 1 << 20);
    sc_ui_begin(r, &b, t->name, m, "/admin/members");
    sc_ui_html(&b, "</header>");
    sc_ui_message(&b, ok, msg);
    if (new_password) {
        sc_ui_html(&b, "<p class=\"newtoken\">Temporary password, shown this once: <code "
                       "id=\"temp-password\">");
        sc_ui_text(&b, new_password);
        sc_ui_html(&b, "</code>. Give it to them in person; they can change it under "
                       "Account.</p>");
    }
    sc_ui_htmlf(&b, "<form method=\"post\" action=\"/admin/members/%lld\" class=\"stack\">",
                (long long)t->id);
    sc_ui_csrf_field(r, &b);
    sc_ui_htmlf(&b, "<p>E-mail: ");
    sc_ui_text(&b, t->email);
    sc_ui_htmlf(&b, "</p><label>Name<input name=\"name\" required maxlength=\"%d\" value=\"",
                SC_NAME_MAX);
    sc_ui_text(&b, t->name);
    sc_ui_html(&b, "\"></label>");
    if (m->role == SC_ROLE_ADMIN) {
        sc_ui_htmlf(&b, "<label>Team<input name=\"team\" maxlength=\"%d\" value=\"", SC_TEAM_MAX);
        sc_ui_text(&b, t->team);
        sc_ui_html(&b, "\"></label>");
    }
    sc_ui_html(&b, "<label>Role<select name=\"role\">");
    role_options(&b, m, t->role);
    sc_ui_htmlf(&b,
                "</select></label><label class=\"check\"><input type=\"checkbox\" "
                "name=\"disabled\" value=\"1\"%s> Disabled (their card shows a polite page; "
                "their history stays)</label><button class=\"btn primary\" "
                "type=\"submit\">Save</button></form><h2>Password</h2><form method=\"post\" "
                "action=\"/admin/members/%lld/password\">",
                t->disabled ? " checked" : "", (long long)t->id);
    sc_ui_csrf_field(r, &b);
    sc_ui_html(&b, "<button class=\"btn\" type=\"submit\">Reset to a temporary password</button>"
                   "</form>");
    sc_notify_section(r, &b, t); /* issue 18 */
    sc_ui_end(&b);
    return sc_reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

static enum MHD_Result member_save(struct req *r, const struct sc_member *m, struct sc_member *t)
{
    char name[SC_NAME_MAX + 2], team[SC_TEAM_MAX + 2], role_s[16], dis[4];
    enum sc_role role = t->role;
    if (sc_req_form_field(r, "name", name, sizeof(name)) != SC_OK || !name[0] ||
        strlen(name) > SC_NAME_MAX)
        return member_edit_page(r, m, t, 422, false, "A name of up to 200 bytes is required.",
                                NULL);
    if (m->role == SC_ROLE_ADMIN) {
        if (sc_req_form_field(r, "team", team, sizeof(team)) == SC_ETOOBIG ||
            strlen(team) > SC_TEAM_MAX)
            return member_edit_page(r, m, t, 422, false, "The team name is too long.", NULL);
    } else {
        snprintf(team, sizeof(team), "%s", t->team);
    }
    sc_req_form_field(r, "role", role_s, sizeof(role_s));
    if (role_s[0] && !sc_role_parse(role_s, &role))
        return member_edit_page(r, m, t, 422, false, "Unknown role.", NULL);
    if (m->role != SC_ROLE_ADMIN && role != SC_ROLE_SALES)
        return sc_reply_error(r, 403, "Only an admin may give this role.");
    if (t->id == m->id && role != m->role)
        return member_edit_page(r, m, t, 422, false, "You cannot change your own role.", NULL);
    bool disabled = sc_req_form_field(r, "disabled", dis, sizeof(dis)) == SC_OK && dis[0] == '1';
    if (t->id == m->id && disabled)
        return member_edit_page(r, m, t, 422, false, "You cannot disable yourself.", NULL);
    struct sc_store *st = r->srv->store;
    enum sc_err e = sc_store_member_update(st, t->id, name, team, role);
    if (e == SC_OK && disabled != t->disabled)
        e = sc_store_member_set_disabled(st, t->id, disabled);
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
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
        return sc_reply_err(r, e, NULL);
    sc_store_audit(r->srv->store, m->email, "member.password_reset", t->email, "");
    enum MHD_Result ret =
        member_edit_page(r, m, t, 200, true, "The password was reset; their sessions ended.", pw);
    sodium_memzero(pw, sizeof(pw));
    return ret;
}

enum MHD_Result sc_h_members(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    const char *rest = a->arg;
    if (r->method == M_POST && !sc_csrf_ok(r))
        return sc_reply_error(r, 403, SC_FORM_EXPIRED);
    const char *team = m->role == SC_ROLE_ADMIN ? NULL : m->team;
    if (!rest || !rest[0]) {
        if (sc_req_is_get(r))
            return members_page(r, m, 200, true, NULL, NULL);
        if (r->method != M_POST)
            return sc_reply_405(r, "GET, HEAD, POST");
        char name[SC_NAME_MAX + 2], email[SC_EMAIL_MAX + 2], tm[SC_TEAM_MAX + 2], role[16],
            slug[SC_SLUG_MAX + 2], why[160];
        sc_req_form_field(r, "name", name, sizeof(name));
        sc_req_form_field(r, "email", email, sizeof(email));
        sc_req_form_field(r, "team", tm, sizeof(tm));
        sc_req_form_field(r, "role", role, sizeof(role));
        sc_req_form_field(r, "slug", slug, sizeof(slug));
        enum sc_role want = SC_ROLE_SALES;
        if (role[0] && sc_role_parse(role, &want) && want > m->role)
            return sc_reply_error(r, 403, "You may not give this role.");
        if (m->role != SC_ROLE_ADMIN && want != SC_ROLE_SALES)
            return sc_reply_error(r, 403, "Managers add salespeople; an admin adds managers.");
        struct member_input in = {name, email, team ? team : tm, role, slug, NULL, NULL};
        struct sc_member out;
        if (sc_members_create(r->srv->store, m->email, &in, &out, why, sizeof(why)) != SC_OK) {
            char msg[200];
            snprintf(msg, sizeof(msg), sc_tr("Not added: %s."), sc_tr(why));
            return members_page(r, m, 422, false, msg, NULL);
        }
        char msg[SC_EMAIL_MAX + SC_SLUG_MAX + 64];
        snprintf(msg, sizeof(msg), sc_tr("Added %s; their card is /c/%s."), out.email, out.slug);
        return members_page(r, m, 201, true, msg, NULL);
    }
    if (strcmp(rest, "import") == 0) {
        if (r->method != M_POST)
            return sc_reply_405(r, "POST");
        if (r->body.len > 0 && r->body.len >= r->srv->cfg->max_body)
            return sc_reply_error(r, 413, "The file is too big; import at most 64 KB at a time.");
        char *csv = malloc(r->body.len + 1);
        if (!csv)
            return sc_reply_err(r, SC_ENOMEM, NULL);
        enum sc_err e = sc_req_form_field(r, "csv", csv, r->body.len + 1);
        struct import_result res = {0};
        sc_buf_init(&res.rows, 8 << 20);
        if (e == SC_OK && csv[0])
            sc_members_import(r->srv->store, m->email, team,
                              m->role == SC_ROLE_ADMIN ? SC_ROLE_ADMIN : SC_ROLE_SALES, csv,
                              strlen(csv), &res);
        free(csv);
        enum MHD_Result ret =
            e != SC_OK || res.added + res.failed == 0
                ? members_page(r, m, 422, false, "Choose or paste a CSV file to import.", NULL)
                : members_page(r, m, res.failed ? 422 : 200, res.failed == 0,
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
        return sc_reply_error(r, 404, "There is no such member.");
    if (!may_manage(m, &t))
        return sc_reply_error(r, 403, "You may not change this member.");
    if (*end) {
        if (r->method != M_POST)
            return sc_reply_405(r, "POST");
        return member_reset(r, m, &t);
    }
    if (sc_req_is_get(r))
        return member_edit_page(r, m, &t, 200, true, NULL, NULL);
    if (r->method != M_POST)
        return sc_reply_405(r, "GET, HEAD, POST");
    return member_save(r, m, &t);
}

/* ---- GET /api/v1/members ----------------------------------------------------------- */

struct member_json_ctx {
    const struct sc_member *viewer;
    struct list_out *o;
};

static int member_json(const struct sc_member *t, void *ctx)
{
    const struct member_json_ctx *c = ctx;
    const struct sc_member *viewer = c->viewer;
    struct list_out *o = c->o;
    if (viewer->role != SC_ROLE_ADMIN && strcmp(t->team, viewer->team) != 0)
        return 0;
    char id[24], at[32];
    snprintf(id, sizeof(id), "%lld", (long long)t->id);
    sc_ui_iso_time(t->created_at, at);
    if (o->csv) {
        const char *f[] = {id,
                           t->name,
                           t->email,
                           t->team,
                           sc_role_name(t->role),
                           t->slug,
                           t->disabled ? "disabled" : "active",
                           at};
        sc_list_csv_row(o, f, 8);
    } else {
        sc_buf_printf(&o->b, "%s{\"id\":%s,\"name\":", o->rows ? ",\n" : "\n", id);
        sc_ui_json_str(&o->b, t->name);
        sc_buf_puts(&o->b, ",\"email\":");
        sc_ui_json_str(&o->b, t->email);
        sc_buf_puts(&o->b, ",\"team\":");
        sc_ui_json_str(&o->b, t->team);
        sc_buf_printf(&o->b, ",\"role\":\"%s\",\"card\":", sc_role_name(t->role));
        sc_ui_json_str(&o->b, t->slug);
        sc_buf_printf(&o->b, ",\"disabled\":%s,\"created_at\":\"%s\"}",
                      t->disabled ? "true" : "false", at);
    }
    o->rows++;
    return sc_buf_error(&o->b) != SC_OK;
}

enum MHD_Result sc_api_members(struct req *r, const struct route_args *a)
{
    struct list_out o;
    sc_list_begin(r, &o, "id,name,email,team,role,card,state,created_at\r\n");
    struct member_json_ctx ctx = {a->m, &o};
    return sc_list_finish(r, &o, sc_store_member_list(r->srv->store, member_json, &ctx));
}
