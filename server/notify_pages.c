/*
 * notify_pages.c — notifications on the pages (issue 18): the section a
 * member sees on /me/account and a manager on that member's page under
 * /admin/members (targets, "send a test message", which alerts, quiet
 * hours, the digest's hour), and the POSTs under /notify/{member}/{action}
 * that change them.  Each is CSRF-checked and audited; a secret is never
 * shown again, only "set"; a refused target answers 422 with the field and
 * the reason, nothing stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "notify_int.h"
#include "pages_int.h"
#include "routes_int.h"
#include "sharecard/store.h"

/* May 'm' change the notifications of member 't'?  Themselves; admins anyone; managers the
 * sales members of their team (as on /admin/members). */
static bool may_change(const struct sc_member *m, const struct sc_member *t)
{
    if (m->id == t->id || m->role == SC_ROLE_ADMIN)
        return true;
    return m->role == SC_ROLE_MANAGER && m->team[0] && strcmp(t->team, m->team) == 0 &&
           t->role == SC_ROLE_SALES;
}

struct section {
    struct req *r;
    struct sc_buf *b;
    int64_t member;
};

/* A target's kind as people name it, in the page's language. */
static const char *kind_label(const char *kind)
{
    static const char *const codes[] = {"wecom", "dingtalk", "feishu", "slack", "email"};
    static const char *const names[] = {"WeCom", "DingTalk", "Feishu", "Slack", "E-mail"};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(kind, codes[i]) == 0)
            return sc_tr(names[i]);
    return kind;
}

static int target_row(const struct sc_notify_target_row *t, void *ctx)
{
    struct section *s = ctx;
    const char *to = strncmp(t->url, "mailto:", 7) == 0 ? t->url + 7 : t->url;
    /* A robot's URL carries its access key: only its start is shown again. */
    char shown[64];
    snprintf(shown, sizeof(shown), "%.40s%s", to, strlen(to) > 40 ? "…" : "");
    sc_ui_htmlf(s->b, "<tr data-target=\"%lld\"><td>", (long long)t->id);
    sc_ui_text(s->b, kind_label(t->kind));
    sc_ui_html(s->b, "</td><td>");
    sc_ui_text(s->b, strcmp(t->kind, "email") == 0 ? to : shown);
    sc_ui_htmlf(s->b, "%s</td><td>%s</td><td>", t->team ? sc_tr(" (team)") : "",
                t->secret && t->secret[0] ? sc_tr("set") : "");
    for (int i = 0; i < 2; i++) {
        sc_ui_htmlf(s->b, "<form class=\"inline\" method=\"post\" action=\"/notify/%lld/%s\">",
                    (long long)s->member, i ? "remove" : "test");
        sc_ui_csrf_field(s->r, s->b);
        sc_ui_htmlf(s->b,
                    "<input type=\"hidden\" name=\"id\" value=\"%lld\"><button class=\"btn\" "
                    "type=\"submit\">%s</button></form> ",
                    (long long)t->id, i ? sc_tr("Remove") : sc_tr("Send a test message"));
    }
    sc_ui_html(s->b, "</td></tr>");
    return sc_buf_error(s->b) != SC_OK;
}

void sc_notify_section(struct req *r, struct sc_buf *b, const struct sc_member *t)
{
    static const char *const kinds[] = {"hot", "signup", "reminder", "quiet", "digest"};
    static const char *const names[] = {"A lead turns hot", "A sign-up is credited to me",
                                        "A follow-up reminder falls due", "A customer goes quiet",
                                        "The daily digest"};
    struct section s = {r, b, t->id};
    struct sc_notify_prefs p;
    if (sc_store_notify_prefs_get(r->srv->store, t->id, &p) != SC_OK)
        return;
    sc_ui_htmlf(b,
                "<section id=\"notify\"><h2>%s</h2><p class=\"hint\">%s</p>"
                "<div class=\"scroll\"><table class=\"t\" id=\"notify-targets\"><thead><tr>"
                "<th>%s</th><th>%s</th><th>%s</th><th></th></tr></thead><tbody>",
                sc_tr("Notifications"),
                sc_tr("Alerts in WeCom, DingTalk, Feishu or Slack group robots, or by e-mail."),
                sc_tr("Kind"), sc_tr("Where"), sc_tr("Secret"));
    sc_store_notify_target_list(r->srv->store, t->id, target_row, &s);
    sc_ui_htmlf(b,
                "</tbody></table></div><form method=\"post\" action=\"/notify/%lld/add\" "
                "class=\"stack\">",
                (long long)t->id);
    sc_ui_csrf_field(r, b);
    sc_ui_htmlf(b,
                "<label>%s<select name=\"kind\"><option value=\"wecom\">%s</option>"
                "<option value=\"dingtalk\">%s</option><option value=\"feishu\">%s"
                "</option><option value=\"slack\">Slack</option><option value=\"email\">"
                "%s</option></select></label>",
                sc_tr("Kind"), sc_tr("WeCom"), sc_tr("DingTalk"), sc_tr("Feishu"), sc_tr("E-mail"));
    sc_ui_htmlf(b,
                "<label>%s<input name=\"url\" maxlength=\"2048\" placeholder=\"https://\">"
                "</label><label>%s<input name=\"secret\" maxlength=\"200\" "
                "autocomplete=\"off\"></label><label>%s<input name=\"to\" type=\"email\" "
                "maxlength=\"254\"></label>",
                sc_tr("Robot's webhook URL"), sc_tr("Signing secret (DingTalk, Feishu; optional)"),
                sc_tr("E-mail address"));
    if (t->role != SC_ROLE_SALES)
        sc_ui_htmlf(b,
                    "<label class=\"check\"><input type=\"checkbox\" name=\"team\" "
                    "value=\"1\"> %s</label>",
                    sc_tr("Also my team's alerts"));
    sc_ui_htmlf(b, "<button class=\"btn primary\" type=\"submit\">%s</button></form>",
                sc_tr("Add"));
    sc_ui_htmlf(b, "<form method=\"post\" action=\"/notify/%lld/prefs\" class=\"stack\">",
                (long long)t->id);
    sc_ui_csrf_field(r, b);
    for (size_t i = 0; i < 5; i++) {
        char want[16];
        snprintf(want, sizeof(want), "%s", kinds[i]);
        bool on = false;
        for (const char *q = p.events; q && *q;) {
            const char *end = strchr(q, ',');
            size_t len = end ? (size_t)(end - q) : strlen(q);
            on = on || (len == strlen(want) && strncmp(q, want, len) == 0);
            q = end ? end + 1 : NULL;
        }
        sc_ui_htmlf(b,
                    "<label class=\"check\"><input type=\"checkbox\" name=\"ev_%s\" "
                    "value=\"1\"%s> %s</label>",
                    kinds[i], on ? " checked" : "", sc_tr(names[i]));
    }
    sc_ui_htmlf(b, "<label>%s<input name=\"quiet\" maxlength=\"11\" value=\"",
                sc_tr("Quiet hours (HH:MM-HH:MM; empty: none)"));
    if (p.quiet_from != p.quiet_to)
        sc_ui_htmlf(b, "%02d:%02d-%02d:%02d", p.quiet_from / 60, p.quiet_from % 60, p.quiet_to / 60,
                    p.quiet_to % 60);
    sc_ui_htmlf(b, "\"></label><label>%s<input name=\"digest_hour\" maxlength=\"2\" value=\"",
                sc_tr("Digest hour (0-23; empty: none)"));
    if (p.digest_hour >= 0)
        sc_ui_htmlf(b, "%d", p.digest_hour);
    sc_ui_htmlf(b, "\"></label><button class=\"btn\" type=\"submit\">%s</button></form></section>",
                sc_tr("Save"));
}

/* 422 naming the field and why; nothing was stored. */
static enum MHD_Result refuse(struct req *r, const char *field, const char *why)
{
    char msg[400];
    snprintf(msg, sizeof(msg), "%s: %s", field, why);
    return sc_reply_error(r, 422, msg);
}

/* Reads and stores the preference form; the refused field's name (its reason in 'why'), or
 * NULL with '*e' the store's answer. */
static const char *save_prefs(struct req *r, const struct sc_member *t, enum sc_err *e,
                              const char **why)
{
    static const char *const kinds[] = {"hot", "signup", "reminder", "quiet", "digest"};
    struct sc_notify_prefs p;
    char quiet[32], hour[8], reason[200], v[4], name[16];
    if ((*e = sc_store_notify_prefs_get(r->srv->store, t->id, &p)) != SC_OK)
        return NULL;
    size_t n = 0;
    p.events[0] = '\0';
    for (size_t i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "ev_%s", kinds[i]);
        v[0] = '\0';
        sc_req_form_field(r, name, v, sizeof(v));
        if (strcmp(v, "1") == 0)
            n += (size_t)snprintf(p.events + n, sizeof(p.events) - n, "%s%s", n ? "," : "",
                                  kinds[i]);
    }
    *why = "quiet hours are HH:MM-HH:MM (like 22:00-08:00), or empty";
    if (sc_req_form_field(r, "quiet", quiet, sizeof(quiet)) == SC_ETOOBIG ||
        sc_notify_quiet_parse(quiet, &p.quiet_from, &p.quiet_to, reason, sizeof(reason)) != SC_OK)
        return "quiet";
    *why = "0 to 23, or empty";
    if (sc_req_form_field(r, "digest_hour", hour, sizeof(hour)) == SC_ETOOBIG)
        return "digest_hour";
    if (!hour[0]) {
        p.digest_hour = -1;
    } else {
        char *end;
        long h = strtol(hour, &end, 10);
        if (*end || h < 0 || h > 23 || !(hour[0] >= '0' && hour[0] <= '9'))
            return "digest_hour";
        p.digest_hour = (int)h;
    }
    *e = sc_store_notify_prefs_set(r->srv->store, t->id, &p);
    return NULL;
}

enum MHD_Result sc_h_notify(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    struct sc_member t;
    char *end;
    long long id = a->arg ? strtoll(a->arg, &end, 10) : 0;
    if (id <= 0 || *end != '/' || sc_store_member_by_id(r->srv->store, id, &t) != SC_OK)
        return sc_reply_error(r, 404, "There is no such member.");
    const char *action = end + 1;
    if (!may_change(m, &t))
        return sc_reply_error(r, 403, "You may not change this member's notifications.");
    if (r->method != M_POST)
        return sc_reply_405(r, "POST");
    if (!sc_csrf_ok(r))
        return sc_reply_error(r, 403, SC_FORM_EXPIRED);
    char back[64], detail[64], tid_s[24];
    snprintf(back, sizeof(back), m->id == t.id ? "/me/account#notify" : "/admin/members/%lld",
             (long long)t.id);
    enum sc_err e = SC_OK;
    if (strcmp(action, "add") == 0) {
        char kind[16], url[SC_WEBHOOK_URL_MAX + 2], to[SC_EMAIL_MAX + 2], secret[202];
        char why[SC_WEBHOOK_ERROR_SIZE] = "";
        int64_t tid = 0;
        if (sc_req_form_field(r, "kind", kind, sizeof(kind)) == SC_ETOOBIG)
            return refuse(r, "kind", "unknown kind");
        if (sc_req_form_field(r, "url", url, sizeof(url)) == SC_ETOOBIG)
            return refuse(r, "url", "at most 2048 bytes");
        if (sc_req_form_field(r, "to", to, sizeof(to)) == SC_ETOOBIG)
            return refuse(r, "to", "not an e-mail address");
        if (sc_req_form_field(r, "secret", secret, sizeof(secret)) == SC_ETOOBIG)
            return refuse(r, "secret", "at most 200 characters");
        enum sc_notify_kind k;
        bool mail = sc_notify_kind_parse(kind, &k) && k == SC_NOTIFY_EMAIL;
        char team[4] = "";
        sc_req_form_field(r, "team", team, sizeof(team));
        if (sc_notify_target_add(r->srv->store, &t, kind, mail ? NULL : url, mail ? to : NULL,
                                 mail ? NULL : secret, strcmp(team, "1") == 0, &tid, why,
                                 sizeof(why)) != SC_OK)
            return refuse(r, !sc_notify_kind_parse(kind, &k) ? "kind" : mail ? "to" : "url", why);
        snprintf(detail, sizeof(detail), "notify:%lld %s", (long long)tid, kind);
    } else if (strcmp(action, "remove") == 0 || strcmp(action, "test") == 0) {
        sc_req_form_field(r, "id", tid_s, sizeof(tid_s));
        int64_t tid = sc_num_arg(tid_s);
        e = action[0] == 'r'
                ? sc_store_notify_target_remove(r->srv->store, t.id, tid, (int64_t)time(NULL))
                : sc_notify_test(r->srv->store, t.id, tid);
        if (e == SC_ENOTFOUND)
            return sc_reply_error(r, 404, "There is no such target.");
        snprintf(detail, sizeof(detail), "notify:%lld", (long long)tid);
    } else if (strcmp(action, "prefs") == 0) {
        const char *why = NULL, *field = save_prefs(r, &t, &e, &why);
        if (field)
            return refuse(r, field, why);
        snprintf(detail, sizeof(detail), "notify prefs");
    } else {
        return sc_reply_error(r, 404, "There is no such page.");
    }
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    char what[32];
    snprintf(what, sizeof(what), "notify.%s", action);
    sc_store_audit(r->srv->store, m->email, what, t.email, detail);
    return sc_reply_redirect(r, 303, back);
}
