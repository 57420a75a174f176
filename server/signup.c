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

/* A 4xx for the sign-up in the visitor's language, as JSON or as the error page. */
static enum MHD_Result signup_error(struct req *r, unsigned status, const char *key)
{
    enum sc_lang lang = sc_req_lang(r, r->card.lang);
    const char *msg = sc_i18n(lang, key);
    if (wants_json(r)) {
        struct sc_buf b;
        sc_buf_init(&b, 4096);
        sc_buf_printf(&b, "{\"error\":{\"status\":%u,\"code\":\"%s\",\"message\":\"", status, key);
        sc_esc_json(&b, msg, strlen(msg));
        sc_buf_puts(&b, "\"}}\n");
        return sc_reply_bytes(r, status, "application/json", &b);
    }
    return sc_reply_error(r, status, msg);
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

static enum MHD_Result done_signup(struct req *r)
{
    if (r->ev_result == SC_ECONFLICT)
        return signup_error(r, 409, "already");
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
    sc_csrf_token(r, want);
    if (r->new_cookie ||
        sodium_memcmp(csrf, want, strlen(want) + 1 > sizeof(csrf) ? 0 : strlen(want) + 1) != 0 ||
        strlen(csrf) != strlen(want))
        return signup_error(r, 403, "csrf_invalid");

    const struct sc_referral_config *cfg = &r->srv->cfg->referral;
    su->cfg = cfg;
    trim(su->name);
    if (!su->name[0] || !sc_utf8_valid(su->name, strlen(su->name)) ||
        utf8_len(su->name) > SC_PERSON_NAME_MAX || strchr(su->name, '\n'))
        return signup_error(r, 422, "name_required");
    const char *why = NULL;
    trim(email_in);
    trim(phone_in);
    if (!email_in[0] && !phone_in[0])
        return signup_error(r, 422, "contact_required");
    if (email_in[0] && sc_email_normalise(email_in, su->email, &why) != SC_OK)
        return signup_error(r, 422, why);
    if (phone_in[0] && sc_phone_normalise(phone_in, cfg->default_country, su->phone, &why) != SC_OK)
        return signup_error(r, 422, why);
    trim(birthday);
    if (birthday[0]) { /* optional (issue 14): checked strictly by intel/birthdays.c */
        struct sc_birthday bd;
        if (sc_birthday_parse(birthday, sc_customers_day((int64_t)time(NULL)), &bd, &why) != SC_OK)
            return signup_error(r, 422, birthday_key(why));
        su->birth_year = bd.year;
        su->birth_month = bd.month;
        su->birth_day = bd.day;
    }
    if (strcmp(consent, "yes") != 0 && strcmp(consent, "on") != 0 && strcmp(consent, "1") != 0 &&
        strcmp(consent, "true") != 0)
        return signup_error(r, 422, "consent_required");

    struct sc_event ev;
    sc_track_event_init(r, &ev, SC_EV_SIGNUP, r->card.id, 0);
    /* Counted in the store: sign-ups earn rewards, so every instance keeps one limit. */
    if (!sc_throttle_take(r, "signup-ip", ev.ip, 30, 3600) ||
        !sc_throttle_take(r, "signup-visitor", r->vid, 5, 3600))
        return signup_error(r, 429, "too_many");
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
    e = sc_store_card_by_slug(r->srv->store, r->link.card_slug, &r->card);
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    char url[600], qr[64], card[64];
    snprintf(url, sizeof(url), "%s/l/%s", r->srv->base_url, r->link.code);
    snprintf(qr, sizeof(qr), "/r/%s/qr.svg", r->link.code);
    snprintf(card, sizeof(card), "/c/%s", r->link.card_slug);
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_page_thanks(r->srv->pages, sc_req_lang(r, r->card.lang), r->card.theme, url, qr, card, &b);
    /* referral_own.c: the customer's own browser also sees their points, rewards, survey */
    sc_referral_own(r, r->link.owner_customer_id, sc_req_lang(r, r->card.lang), &b);
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
    sc_buf_printf(&b, ",\"replayed\":%s}\n", cv->replayed ? "true" : "false");
    return sc_reply_bytes(r, 201, "application/json", &b);
}

enum MHD_Result sc_api_conversions(struct req *r, const struct route_args *a)
{
    (void)a; /* the router checked the token and the role */
    json_error_t jerr;
    json_t *j =
        json_loadb(r->body.data ? r->body.data : "", r->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(j)) {
        json_decref(j);
        return sc_reply_error(r, 400,
                              "The body must be a JSON object: {\"email\" or "
                              "\"customer_id\", \"amount\", \"order_id\"}.");
    }
    struct sc_conversion *cv = calloc(1, sizeof(*cv));
    if (!cv) {
        json_decref(j);
        return sc_reply_err(r, SC_ENOMEM, NULL);
    }
    r->conversion = cv;
    cv->cfg = &r->srv->cfg->referral;
    cv->survey_base = r->srv->base_url; /* its NPS survey (nps.c) */
    cv->survey_delay_s = sc_nps_delay_s();
    cv->survey_max_age_s = sc_nps_max_age_s();
    json_t *order = json_object_get(j, "order_id"), *amount = json_object_get(j, "amount");
    json_t *email = json_object_get(j, "email"), *cid = json_object_get(j, "customer_id");
    json_t *when = json_object_get(j, "ordered_at");
    const char *why = NULL;
    if (!json_is_string(order) || json_string_length(order) == 0 ||
        json_string_length(order) >= sizeof(cv->order_id))
        why = "order_id must be a string of 1 to 128 characters.";
    else if (sc_order_amount_json(amount, &cv->amount_cents, &why) != SC_OK)
        ; /* 'why' says what is wrong with the amount */
    else if (when && !json_is_null(when) &&
             (!json_is_string(when) ||
              sc_order_time_parse(json_string_value(when), (int64_t)time(NULL), &cv->ordered_at,
                                  &why) != SC_OK))
        why = why ? why : "ordered_at must be a string such as 2026-03-01T14:30:00Z.";
    if (!why) {
        if (json_is_integer(cid) && json_integer_value(cid) > 0)
            cv->customer_id = (int64_t)json_integer_value(cid);
        else if (json_is_string(email) &&
                 sc_email_normalise(json_string_value(email), cv->email, &why) == SC_OK)
            why = NULL;
        else
            why = "Give the customer's email or customer_id.";
    }
    if (why) {
        json_decref(j);
        return sc_reply_error(r, 400, why);
    }
    snprintf(cv->order_id, sizeof(cv->order_id), "%s", json_string_value(order));
    json_decref(j);
    struct sc_event ev;
    sc_track_event_init(r, &ev, SC_EV_CONVERT, 0, 0);
    ev.visitor[0] = '\0'; /* an integrator's call, not a visitor */
    r->new_cookie = false;
    ev.conversion = cv;
    return sc_track_then(r, &ev, done_conversion);
}
