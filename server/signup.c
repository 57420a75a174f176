/*
 * signup.c — the sign-up form's endpoint, the customer's referral page, and
 * the JSON/CSV API over sign-ups, rewards, the leaderboard and conversions
 * (these share the writers of a referral chain's parties).
 *
 * A sign-up is validated here, on the request thread, with reasons in the
 * visitor's language; the decision (duplicate? who is credited? held for
 * review?) is made by the store inside the writer's transaction, so two
 * sign-ups of one person can never both be credited.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "auth_int.h"
#include "customers_int.h"
#include "orders_int.h"
#include "pages_int.h"
#include "routes_int.h"
#include "track_int.h"
#include "sharecard/customers.h"
#include "sharecard/escape.h"
#include "sharecard/form.h"
#include "sharecard/log.h"
#include "sharecard/page.h"

static bool wants_json(struct req *r)
{
    const char *acc = sc_req_header(r, MHD_HTTP_HEADER_ACCEPT);
    return acc && strstr(acc, "application/json");
}

/* The form field a sign-up error is about (for the form to mark it), or NULL. */
static const char *signup_field(const char *key)
{
    static const char *const map[][2] = {
        {"name_required", "name"},       {"contact_required", "email"},
        {"email_invalid", "email"},      {"phone_invalid", "phone"},
        {"consent_required", "consent"}, {"birthday_format", "birthday"},
        {"birthday_month", "birthday"},  {"birthday_day", "birthday"},
        {"birthday_year", "birthday"},   {"name_text", "name"},
        {"phone_text", "phone"},         {"email_text", "email"},
        {"birthday_text", "birthday"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i][0], key) == 0)
            return map[i][1];
    return NULL;
}

/* A 4xx for the sign-up in the visitor's language, as JSON or as the error page. */
static enum MHD_Result signup_error(struct req *r, unsigned status, const char *key)
{
    enum sc_lang lang = sc_req_lang(r, r->card.lang);
    const char *msg = sc_i18n(lang, key);
    if (wants_json(r)) {
        struct sc_buf b;
        sc_buf_init(&b, 4096);
        /* The code stays "already" for every repeat (the public contract). */
        const char *code = strncmp(key, "already", 7) == 0 ? "already" : key;
        sc_buf_printf(&b, "{\"error\":{\"status\":%u,\"code\":\"%s\",\"message\":\"", status, code);
        sc_esc_json(&b, msg, strlen(msg));
        const char *f = signup_field(key);
        if (f)
            sc_buf_printf(&b, "\",\"field\":\"%s", f);
        sc_buf_puts(&b, "\"}}\n");
        return sc_reply_bytes(r, status, "application/json", &b);
    }
    return sc_reply_error(r, status, msg);
}

/* True when 's' is valid UTF-8 without control characters (a tab aside). */
static bool is_text(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return false;
    return sc_utf8_valid(s, strlen(s));
}

/*
 * A sign-up error in the form's own answer: JSON for the page's script, else
 * (a browser without script) the card page again, 422, its form as it was
 * sent ('f': the values typed) with the message at the form and the field in
 * error marked, as the script shows it.  Other errors as signup_error().
 */
static enum MHD_Result form_error(struct req *r, unsigned status, const char *key,
                                  struct sc_page_form *f, const char *link_code)
{
    if (wants_json(r) || (status != 422 && status != 403))
        return signup_error(r, status, key);
    enum sc_lang lang = sc_req_lang(r, r->card.lang);
    /* Only valid text, without control characters, goes back into the page. */
    const char **vals[] = {&f->name, &f->phone, &f->email, &f->birthday};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
        if (*vals[i] && !is_text(*vals[i]))
            *vals[i] = NULL;
    f->error = sc_i18n(lang, key);
    f->field = signup_field(key);
    char csrf[32];
    sc_csrf_token(r, csrf); /* a fresh token when the cookie was new (403) */
    struct sc_buf b;
    sc_buf_init(&b, 1 << 20);
    sc_page_card_form(r->srv->pages, &r->card, lang, r->srv->base_url,
                      link_code && link_code[0] ? link_code : NULL, csrf, f, &b);
    return sc_reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

static void json_party(struct sc_buf *b, const struct sc_party *p)
{
    if (p->type == SC_PARTY_NONE) {
        sc_buf_puts(b, "null");
        return;
    }
    sc_buf_printf(b, "{\"type\":\"%s\",\"id\":%lld,\"name\":\"",
                  p->type == SC_PARTY_MEMBER ? "member" : "customer", (long long)p->id);
    sc_esc_json(b, p->name, strlen(p->name));
    sc_buf_puts(b, "\"}");
}

/*
 * A repeat sign-up.  The browser that signed up (its visitor cookie is the
 * customer's, with the same e-mail or phone) is given its way back to the
 * customer's own referral page; any other browser only learns that these
 * details are known — never someone's link for typing their e-mail.
 */
static enum MHD_Result repeat_signup(struct req *r)
{
    int64_t vid = 0;
    char code[SC_CODE_LEN + 1] = "";
    bool own = r->vid[0] && sc_store_visitor_id(r->srv->store, r->vid, &vid) == SC_OK &&
               sc_store_own_link_of_visitor(r->srv->store, vid, r->signup->email, r->signup->phone,
                                            code) == SC_OK;
    if (!own)
        return signup_error(r, 409, "already_elsewhere");
    char page[64];
    snprintf(page, sizeof(page), "/r/%s", code);
    if (!wants_json(r))
        return sc_reply_redirect(r, 303, page);
    enum sc_lang lang = sc_req_lang(r, r->card.lang);
    const char *msg = sc_i18n(lang, "signup_again");
    struct sc_buf b;
    sc_buf_init(&b, 4096);
    sc_buf_puts(&b, "{\"error\":{\"status\":409,\"code\":\"already\",\"message\":\"");
    sc_esc_json(&b, msg, strlen(msg));
    sc_buf_printf(&b, "\"},\"referral_page\":\"%s\",\"referral_url\":\"", page);
    sc_esc_json(&b, r->srv->base_url, strlen(r->srv->base_url));
    sc_buf_printf(&b, "/l/%s\"}\n", code);
    return sc_reply_bytes(r, 409, "application/json", &b);
}

static enum MHD_Result done_signup(struct req *r)
{
    if (r->ev_result == SC_ECONFLICT)
        return repeat_signup(r);
    if (r->ev_result != SC_OK)
        return sc_reply_not_stored(r);
    sc_customers_changed(); /* a new customer: customers.c reads afresh */
    struct sc_signup *su = r->signup;
    if (wants_json(r)) {
        struct sc_buf b;
        sc_buf_init(&b, 8192);
        sc_buf_printf(&b, "{\"customer_id\":%lld,\"referral_url\":\"", (long long)su->customer_id);
        sc_esc_json(&b, r->srv->base_url, strlen(r->srv->base_url));
        sc_buf_printf(&b, "/l/%s\",\"level1\":", su->referral_code);
        json_party(&b, &su->level1);
        sc_buf_puts(&b, ",\"level2\":");
        json_party(&b, &su->level2);
        sc_buf_printf(&b, ",\"rule\":\"%s\"}\n", sc_rule_name(su->rule));
        return sc_reply_bytes(r, 201, "application/json", &b);
    }
    char loc[64];
    snprintf(loc, sizeof(loc), "/r/%s", su->referral_code);
    return sc_reply_redirect(r, 303, loc);
}

/* Reads form field 'name' into 'out'; false (and a 400/422 queued) when malformed. */
static bool field(struct req *r, const char *name, char *out, size_t n, enum MHD_Result *ret)
{
    enum sc_err e = sc_form_get(r->body.data ? r->body.data : "", r->body.len, name, out, n);
    if (e == SC_ENOTFOUND) {
        out[0] = '\0';
        return true;
    }
    if (e == SC_ETOOBIG) {
        char msg[96];
        snprintf(msg, sizeof(msg), "The field %s is too long.", name);
        *ret = sc_reply_error(r, 422, msg);
        return false;
    }
    if (e != SC_OK) {
        *ret = sc_reply_error(r, 400, "The form is malformed.");
        return false;
    }
    return true;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    size_t lead = strspn(s, " \t\r\n");
    if (lead)
        memmove(s, s + lead, n - lead + 1);
}

/* Characters (not bytes) in valid UTF-8 's'. */
static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* The message key (card/i18n.c) of sc_birthday_parse()'s reason. */
static const char *birthday_key(const char *why)
{
    if (strstr(why, "no such month"))
        return "birthday_month";
    if (strstr(why, "no such day"))
        return "birthday_day";
    if (strstr(why, "year"))
        return "birthday_year";
    return "birthday_format";
}

enum MHD_Result sc_h_signup(struct req *r, const struct route_args *a)
{
    const char *slug = a->arg;
    enum MHD_Result ret;
    enum sc_err e = sc_store_card_by_slug(r->srv->store, slug, &r->card);
    if (e == SC_ENOTFOUND)
        return sc_reply_error(r, 404, "There is no card at this address.");
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    if (r->card.disabled)
        return sc_reply_error(r, 410, "This card is no longer active.");

    char csrf[64], want[32], consent[16], phone_in[64], email_in[300], code[SC_CODE_LEN + 8];
    char birthday[16];
    struct sc_signup *su = calloc(1, sizeof(*su));
    if (!su)
        return sc_reply_err(r, SC_ENOMEM, NULL);
    r->signup = su;
    if (!field(r, "csrf", csrf, sizeof(csrf), &ret) ||
        !field(r, "name", su->name, sizeof(su->name), &ret) ||
        !field(r, "email", email_in, sizeof(email_in), &ret) ||
        !field(r, "phone", phone_in, sizeof(phone_in), &ret) ||
        !field(r, "consent", consent, sizeof(consent), &ret) ||
        !field(r, "l", code, sizeof(code), &ret) ||
        !field(r, "birthday", birthday, sizeof(birthday), &ret))
        return ret;
    /* What was typed, kept for the form when it comes back with an error. */
    struct sc_page_form sent = {.name = su->name,
                                .phone = phone_in,
                                .email = email_in,
                                .birthday = birthday,
                                .consent = consent[0] != '\0'};
#define FORM_ERROR(status, key) form_error(r, (status), (key), &sent, code)
    if (r->text_bad[0]) { /* a field that is not text (guard.c): not sent back, marked */
        const char **typed[] = {&sent.name, &sent.phone, &sent.email, &sent.birthday};
        static const char *const names[] = {"name", "phone", "email", "birthday"};
        static const char *const keys[] = {"name_text", "phone_text", "email_text",
                                           "birthday_text"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strcmp(r->text_bad, names[i]) == 0) {
                *typed[i] = NULL;
                return FORM_ERROR(422, keys[i]);
            }
    }
    sc_csrf_token(r, want);
    if (r->new_cookie ||
        sodium_memcmp(csrf, want, strlen(want) + 1 > sizeof(csrf) ? 0 : strlen(want) + 1) != 0 ||
        strlen(csrf) != strlen(want))
        return FORM_ERROR(403, "csrf_invalid");

    const struct sc_referral_config *cfg = &r->srv->cfg->referral;
    su->cfg = cfg;
    trim(su->name);
    if (!su->name[0] || !sc_utf8_valid(su->name, strlen(su->name)) ||
        utf8_len(su->name) > SC_PERSON_NAME_MAX || strchr(su->name, '\n'))
        return FORM_ERROR(422, "name_required");
    const char *why = NULL;
    trim(email_in);
    trim(phone_in);
    if (!email_in[0] && !phone_in[0])
        return FORM_ERROR(422, "contact_required");
    if (email_in[0] && sc_email_normalise(email_in, su->email, &why) != SC_OK)
        return FORM_ERROR(422, why);
    if (phone_in[0] && sc_phone_normalise(phone_in, cfg->default_country, su->phone, &why) != SC_OK)
        return FORM_ERROR(422, why);
    trim(birthday);
    if (birthday[0]) { /* optional (issue 14): checked strictly by intel/birthdays.c */
        struct sc_birthday bd;
        if (sc_birthday_parse(birthday, sc_customers_day((int64_t)time(NULL)), &bd, &why) != SC_OK)
            return FORM_ERROR(422, birthday_key(why));
        su->birth_year = bd.year;
        su->birth_month = bd.month;
        su->birth_day = bd.day;
    }
    if (strcmp(consent, "yes") != 0 && strcmp(consent, "on") != 0 && strcmp(consent, "1") != 0 &&
        strcmp(consent, "true") != 0)
        return FORM_ERROR(422, "consent_required");

    struct sc_event ev;
    sc_track_event_init(r, &ev, SC_EV_SIGNUP, r->card.id, 0);
    /* Counted in the store: sign-ups earn rewards, so every instance keeps one limit. */
    if (!sc_throttle_take(r, "signup-ip", ev.ip, 30, 3600) ||
        !sc_throttle_take(r, "signup-visitor", r->vid, 5, 3600))
        return signup_error(r, 429, "too_many");
#undef FORM_ERROR
    ev.signup = su;
    return sc_track_then(r, &ev, done_signup);
}

/* ---- the referral page: /r/{code}, /r/{code}/qr.png|svg ------------------------ */

enum MHD_Result sc_h_referral(struct req *r, const struct route_args *a)
{
    const char *code = a->arg;
    const char *sub = a->sub;
    enum sc_err e = strlen(code) > SC_CODE_LEN
                        ? SC_ENOTFOUND
                        : sc_store_link_by_code(r->srv->store, code, &r->link);
    if (e == SC_ENOTFOUND || (e == SC_OK && !r->link.owner_customer_id))
        return sc_reply_error(r, 404, "This referral link does not exist.");
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    if (strcmp(sub, "qr.png") == 0 || strcmp(sub, "qr.svg") == 0)
        return sc_public_qr(r, r->link.code, sub[3] == 's');
    if (sub[0])
        return sc_reply_error(r, 404, "There is no such page.");
    r->vary_cookie = true; /* the owner's browser sees more (referral_own.c) */
    bool own = sc_referral_viewer_owns(r, r->link.owner_customer_id);
    e = sc_store_card_by_slug(r->srv->store, r->link.card_slug, &r->card);
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    char url[600], qr[64], card[64];
    snprintf(url, sizeof(url), "%s/l/%s", r->srv->base_url, r->link.code);
    snprintf(qr, sizeof(qr), "/r/%s/qr.svg", r->link.code);
    snprintf(card, sizeof(card), "/c/%s", r->link.card_slug);
    struct sc_buf b;
    sc_buf_init(&b, 0);
    enum sc_lang lang = sc_req_lang(r, r->card.lang);
    sc_page_thanks(r->srv->pages, lang, r->card.theme, url, qr, card, &b);
    if (own) { /* checked once: both private blocks are for the customer's own browser only */
        r->private_page = true; /* theirs alone: Cache-Control: private, no-store */
        /* Issue 19: the customer's welcome gift and coupons. */
        sc_rewards_referral_page(r, r->link.owner_customer_id, lang, &b);
        sc_referral_own(r, r->link.owner_customer_id, lang, &b);
    }
    return sc_reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

/* ---- API: lists as JSON or CSV ---------------------------------------------------- */

static const char *party_type(const struct sc_party *p)
{
    return p->type == SC_PARTY_MEMBER ? "member" : p->type == SC_PARTY_CUSTOMER ? "customer" : "";
}

static int signup_row(const struct sc_signup_row *s, void *ctx)
{
    struct list_out *o = ctx;
    char when[32];
    sc_ui_iso_time(s->created_at, when);
    if (o->csv) {
        char id[24], l1[24], l2[24];
        snprintf(id, sizeof(id), "%lld", (long long)s->id);
        snprintf(l1, sizeof(l1), "%lld", (long long)s->level1.id);
        snprintf(l2, sizeof(l2), "%lld", (long long)s->level2.id);
        const char *f[] = {id,
                           s->name,
                           s->email,
                           s->phone,
                           s->card,
                           s->link,
                           party_type(&s->level1),
                           s->level1.type ? l1 : "",
                           s->level1.name,
                           party_type(&s->level2),
                           s->level2.type ? l2 : "",
                           s->level2.name,
                           s->rule,
                           s->notes,
                           when};
        sc_list_csv_row(o, f, sizeof(f) / sizeof(f[0]));
    } else {
        sc_buf_puts(&o->b, o->rows ? ",\n" : "\n");
        sc_buf_printf(&o->b, "{\"id\":%lld,\"name\":", (long long)s->id);
        sc_ui_json_str(&o->b, s->name);
        sc_buf_puts(&o->b, ",\"email\":");
        sc_ui_json_str(&o->b, s->email);
        sc_buf_puts(&o->b, ",\"phone\":");
        sc_ui_json_str(&o->b, s->phone);
        sc_buf_puts(&o->b, ",\"card\":");
        sc_ui_json_str(&o->b, s->card);
        sc_buf_puts(&o->b, ",\"link\":");
        sc_ui_json_str(&o->b, s->link);
        sc_buf_puts(&o->b, ",\"level1\":");
        json_party(&o->b, &s->level1);
        sc_buf_puts(&o->b, ",\"level2\":");
        json_party(&o->b, &s->level2);
        sc_buf_puts(&o->b, ",\"rule\":");
        sc_ui_json_str(&o->b, s->rule);
        sc_buf_puts(&o->b, ",\"notes\":");
        sc_ui_json_str(&o->b, s->notes);
        sc_buf_printf(&o->b, ",\"created_at\":\"%s\"}", when);
    }
    o->rows++;
    return sc_buf_error(&o->b) != SC_OK;
}

static int reward_row(const struct sc_reward_row *w, void *ctx)
{
    struct list_out *o = ctx;
    char when[32];
    sc_ui_iso_time(w->created_at, when);
    if (o->csv) {
        char id[24], cust[24], conv[24], pid[24], lvl[8], amt[24];
        snprintf(id, sizeof(id), "%lld", (long long)w->id);
        snprintf(cust, sizeof(cust), "%lld", (long long)w->customer_id);
        snprintf(conv, sizeof(conv), "%lld", (long long)w->conversion_id);
        snprintf(pid, sizeof(pid), "%lld", (long long)w->party.id);
        snprintf(lvl, sizeof(lvl), "%d", w->level);
        snprintf(amt, sizeof(amt), "%lld", (long long)w->amount);
        const char *f[] = {id,
                           cust,
                           w->conversion_id ? conv : "",
                           party_type(&w->party),
                           pid,
                           w->party.name,
                           lvl,
                           w->kind,
                           amt,
                           w->status,
                           w->reason,
                           when};
        sc_list_csv_row(o, f, sizeof(f) / sizeof(f[0]));
    } else {
        sc_buf_puts(&o->b, o->rows ? ",\n" : "\n");
        sc_buf_printf(&o->b,
                      "{\"id\":%lld,\"customer_id\":%lld,\"conversion_id\":", (long long)w->id,
                      (long long)w->customer_id);
        if (w->conversion_id)
            sc_buf_printf(&o->b, "%lld", (long long)w->conversion_id);
        else
            sc_buf_puts(&o->b, "null");
        sc_buf_puts(&o->b, ",\"party\":");
        json_party(&o->b, &w->party);
        sc_buf_printf(&o->b, ",\"level\":%d,\"kind\":", w->level);
        sc_ui_json_str(&o->b, w->kind);
        sc_buf_printf(&o->b, ",\"amount\":%lld,\"status\":", (long long)w->amount);
        sc_ui_json_str(&o->b, w->status);
        sc_buf_puts(&o->b, ",\"reason\":");
        sc_ui_json_str(&o->b, w->reason);
        sc_buf_printf(&o->b, ",\"created_at\":\"%s\"}", when);
    }
    o->rows++;
    return sc_buf_error(&o->b) != SC_OK;
}

enum MHD_Result sc_api_signups(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    struct sc_scope scope;
    sc_session_scope(m, &scope);
    struct list_out o;
    sc_list_begin(r, &o,
                  "id,name,email,phone,card,link,level1_type,level1_id,level1_name,level2_type,"
                  "level2_id,level2_name,rule,notes,created_at\r\n");
    enum sc_err e = sc_store_signups_list(r->srv->store, &scope, signup_row, &o);
    return sc_list_finish(r, &o, e);
}

enum MHD_Result sc_api_rewards(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    struct sc_scope scope;
    sc_session_scope(m, &scope);
    struct list_out o;
    sc_list_begin(r, &o,
                  "id,customer_id,conversion_id,party_type,party_id,party_name,level,kind,amount,"
                  "status,reason,created_at\r\n");
    enum sc_err e =
        sc_store_rewards_list(r->srv->store, &scope, (int64_t)time(NULL), reward_row, &o);
    return sc_list_finish(r, &o, e);
}

static int leader_row(const struct sc_leader_row *l, void *ctx)
{
    struct list_out *o = ctx;
    double conv = l->uniques ? (double)l->signups / (double)l->uniques : 0;
    if (o->csv) {
        char id[24], nums[6][24], cv[32];
        snprintf(id, sizeof(id), "%lld", (long long)l->member_id);
        const int64_t v[6] = {l->scans, l->opens, l->views, l->uniques, l->shares, l->signups};
        for (int i = 0; i < 6; i++)
            snprintf(nums[i], sizeof(nums[i]), "%lld", (long long)v[i]);
        snprintf(cv, sizeof(cv), "%.4f", conv);
        char pts[24];
        snprintf(pts, sizeof(pts), "%lld", (long long)l->points);
        const char *f[] = {id,      l->name, l->team, l->slug, nums[0], nums[1],
                           nums[2], nums[3], nums[4], nums[5], cv,      pts};
        sc_list_csv_row(o, f, sizeof(f) / sizeof(f[0]));
    } else {
        sc_buf_puts(&o->b, o->rows ? ",\n" : "\n");
        sc_buf_printf(&o->b, "{\"member_id\":%lld,\"name\":", (long long)l->member_id);
        sc_ui_json_str(&o->b, l->name);
        sc_buf_puts(&o->b, ",\"team\":");
        sc_ui_json_str(&o->b, l->team);
        sc_buf_puts(&o->b, ",\"card\":");
        sc_ui_json_str(&o->b, l->slug);
        sc_buf_printf(&o->b,
                      ",\"scans\":%lld,\"opens\":%lld,\"views\":%lld,\"uniques\":%lld,"
                      "\"shares\":%lld,\"signups\":%lld,\"conversion_rate\":%.4f,"
                      "\"points\":%lld}",
                      (long long)l->scans, (long long)l->opens, (long long)l->views,
                      (long long)l->uniques, (long long)l->shares, (long long)l->signups, conv,
                      (long long)l->points);
    }
    o->rows++;
    return sc_buf_error(&o->b) != SC_OK;
}

enum MHD_Result sc_api_leaderboard(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    enum MHD_Result ret;
    struct sc_scope scope;
    int64_t from, to;
    if (!sc_report_range(r, m, &scope, &from, &to, &ret))
        return ret;
    struct list_out o;
    sc_list_begin(r, &o,
                  "member_id,name,team,card,scans,opens,views,uniques,shares,signups,"
                  "conversion_rate,points\r\n");
    enum sc_err e = sc_store_leaderboard(r->srv->store, &scope, from, to, leader_row, &o);
    return sc_list_finish(r, &o, e);
}

/* ---- API: POST /api/v1/conversions ------------------------------------------------ */

static enum MHD_Result done_conversion(struct req *r)
{
    if (r->conversion->coupon_status) /* nothing was stored: the coupon's reason */
        return sc_reply_error(r, r->conversion->coupon_status, r->conversion->coupon_why);
    if (r->ev_result == SC_ENOTFOUND)
        return sc_reply_error(r, 404, "No customer matches this email or customer_id.");
    if (r->ev_result != SC_OK)
        return sc_reply_not_stored(r);
    struct sc_conversion *cv = r->conversion;
    if (!cv->replayed)
        sc_customers_changed(); /* customers.c reads orders afresh */
    struct sc_buf b;
    sc_buf_init(&b, 4096);
    sc_buf_printf(&b, "{\"conversion_id\":%lld,\"order_id\":", (long long)cv->conversion_id);
    sc_ui_json_str(&b, cv->order_id);
    sc_buf_printf(&b, ",\"replayed\":%s", cv->replayed ? "true" : "false");
    if (cv->coupon[0] && !cv->replayed) /* issue 19 */
        sc_buf_printf(&b, ",\"coupon\":\"%s\",\"coupon_off\":%lld.%02lld", cv->coupon,
                      (long long)(cv->coupon_off / 100), (long long)(cv->coupon_off % 100));
    sc_buf_puts(&b, "}\n");
    return sc_reply_bytes(r, 201, "application/json", &b);
}

enum MHD_Result sc_api_conversions(struct req *r, const struct route_args *a)
{
    (void)a; /* the router checked the token and the role */
    struct sc_conversion *cv = calloc(1, sizeof(*cv));
    if (!cv)
        return sc_reply_err(r, SC_ENOMEM, NULL);
    r->conversion = cv;
    const char *why = sc_conversion_from_json(r->body.data ? r->body.data : "", r->body.len,
                                              (int64_t)time(NULL), cv);
    if (why)
        return sc_reply_error(r, 400, why);
    cv->cfg = &r->srv->cfg->referral;
    cv->survey_base = r->srv->base_url; /* its NPS survey (nps.c) */
    cv->survey_delay_s = sc_nps_delay_s();
    cv->survey_max_age_s = sc_nps_max_age_s();
    struct sc_event ev;
    sc_track_event_init(r, &ev, SC_EV_CONVERT, 0, 0);
    ev.visitor[0] = '\0'; /* an integrator's call, not a visitor */
    r->new_cookie = false;
    ev.conversion = cv;
    return sc_track_then(r, &ev, done_conversion);
}
