/*
 * rewards.c — what issue 19 adds to the server: the reward settings read at
 * start (SHARECARD_WELCOME, SHARECARD_REWARDS: strict) and their version
 * stored and audited when they changed, the shop's coupon list
 * (GET /api/v1/coupons), and the private block of a customer's referral
 * page (/r/{code}, also the thank-you page): their welcome gift and their
 * coupons, each with a copy button and a QR, shown only to the customer's
 * own browser (its visitor cookie is the one they signed up with).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "leads_int.h"
#include "pages_int.h"
#include "routes_int.h"
#include "sharecard/card.h"
#include "sharecard/escape.h"

/* ---- settings ------------------------------------------------------------------- */

enum sc_err sc_config_rewards(struct sc_config *c, char *why, size_t n)
{
    const char *w = getenv("SHARECARD_WELCOME");
    const char *reason = NULL;
    if (w && sc_reward_rule_parse(w, &c->referral.welcome, &reason) != SC_OK) {
        snprintf(why, n, "SHARECARD_WELCOME=%.60s is refused: %s", w, reason);
        return SC_EINVAL;
    }
    /* Every rule in one place; its keys override SHARECARD_POINTS, _COMMISSION, _WELCOME. */
    const char *rules = getenv("SHARECARD_REWARDS");
    char r[200];
    if (rules && sc_rewards_parse(rules, &c->referral, r, sizeof(r)) != SC_OK) {
        snprintf(why, n, "SHARECARD_REWARDS is refused: %s", r);
        return SC_EINVAL;
    }
    return SC_OK;
}

enum sc_err sc_rewards_version(struct sc_config *c, struct sc_store *s)
{
    char text[512];
    sc_rewards_format(&c->referral, text, sizeof(text));
    bool is_new = false;
    enum sc_err e =
        sc_store_rules_version(s, text, (int64_t)time(NULL), &c->referral.rule_version, &is_new);
    if (e == SC_OK && is_new) {
        char target[32];
        snprintf(target, sizeof(target), "rules:%lld", (long long)c->referral.rule_version);
        e = sc_store_audit(s, "config", "rewards.rules", target, text);
    }
    return e;
}

/* ---- a coupon's value as people read it ------------------------------------------- */

/* "50.00" for an amount in cents, "10%" for a percent. */
static void value_text(const struct sc_coupon_row *c, char out[32])
{
    if (strcmp(c->kind, "percent") == 0)
        snprintf(out, 32, "%lld%%", (long long)c->value);
    else
        snprintf(out, 32, "%lld.%02lld", (long long)(c->value / 100), (long long)(c->value % 100));
}

/* ---- GET /api/v1/coupons ---------------------------------------------------------- */

static int coupon_row(const struct sc_coupon_row *c, void *ctx)
{
    struct list_out *o = ctx;
    char expires[32], redeemed[32] = "", value[32], id[24];
    sc_ui_iso_time(c->expires_at, expires);
    if (c->redeemed_at)
        sc_ui_iso_time(c->redeemed_at, redeemed);
    value_text(c, value);
    if (strcmp(c->kind, "percent") == 0)
        value[strlen(value) - 1] = '\0'; /* the kind says it is a percent */
    snprintf(id, sizeof(id), "%lld", (long long)c->customer_id);
    if (o->csv) {
        const char *f[] = {c->code, id, value, c->kind, expires, redeemed, c->order_id, c->state};
        sc_list_csv_row(o, f, sizeof(f) / sizeof(f[0]));
    } else {
        sc_buf_puts(&o->b, o->rows ? ",\n" : "\n");
        sc_buf_puts(&o->b, "{\"code\":");
        sc_ui_json_str(&o->b, c->code);
        sc_buf_printf(&o->b, ",\"customer_id\":%s,\"value\":%s,\"kind\":", id, value);
        sc_ui_json_str(&o->b, c->kind);
        sc_buf_printf(&o->b, ",\"expires_at\":\"%s\",\"redeemed_at\":", expires);
        if (c->redeemed_at)
            sc_buf_printf(&o->b, "\"%s\",\"order_id\":", redeemed);
        else
            sc_buf_puts(&o->b, "null,\"order_id\":");
        if (c->order_id[0])
            sc_ui_json_str(&o->b, c->order_id);
        else
            sc_buf_puts(&o->b, "null");
        sc_buf_puts(&o->b, ",\"state\":");
        sc_ui_json_str(&o->b, c->state);
        sc_buf_puts(&o->b, "}");
    }
    o->rows++;
    return sc_buf_error(&o->b) != SC_OK;
}

enum MHD_Result sc_api_coupons(struct req *r, const struct route_args *a)
{
    struct sc_scope scope;
    sc_session_scope(a->m, &scope);
    struct list_out o;
    sc_list_begin(r, &o, "code,customer_id,value,kind,expires_at,redeemed_at,order_id,state\r\n");
    enum sc_err e =
        sc_store_coupons_list(r->srv->store, &scope, (int64_t)time(NULL), coupon_row, &o);
    return sc_list_finish(r, &o, e);
}

/* ---- the private block of /r/{code} -------------------------------------------------- */

struct words {
    const char *title, *welcome, *points, *pending, *approved, *hold, *voided, *coupons, *off,
        *until, *copy, *state[5];
};

static const struct words en = {
    "Your welcome gift and coupons",
    "Welcome gift",
    "points",
    "credited once the waiting period ends",
    "credited",
    "waiting for review",
    "void",
    "Your coupons",
    "off",
    "valid until",
    "Copy code",
    {"usable", "used", "expired", "waiting for review", "void"},
};
static const struct words zh = {
    "我的欢迎礼包与优惠券",
    "欢迎礼包",
    "积分",
    "等待期结束后到账",
    "已到账",
    "审核中",
    "已作废",
    "我的优惠券",
    "优惠",
    "有效期至",
    "复制券码",
    {"可使用", "已使用", "已过期", "审核中", "已作废"},
};

static const char *state_word(const struct words *w, const char *state)
{
    static const char *const names[5] = {"usable", "redeemed", "expired", "hold", "void"};
    for (int i = 0; i < 5; i++)
        if (strcmp(state, names[i]) == 0)
            return w->state[i];
    return state;
}

struct block {
    struct sc_buf *b;
    const struct words *w;
    size_t n;
};

static int coupon_html(const struct sc_coupon_row *c, void *ctx)
{
    struct block *k = ctx;
    struct sc_buf *b = k->b;
    char value[32], until[32];
    value_text(c, value);
    /* Its last day in SHARECARD_TZ, as the other pages show days; the API keeps UTC. */
    time_t lt = (time_t)(c->expires_at + (int64_t)sc_tz_min(c->expires_at) * 60);
    struct tm tm;
    gmtime_r(&lt, &tm);
    strftime(until, sizeof(until), "%Y-%m-%d", &tm);
    if (!k->n++)
        sc_buf_printf(b, "<h2>%s</h2>\n", k->w->coupons);
    sc_buf_printf(b, "<div class=\"coupon\" data-state=\"%s\"><p class=\"refbox coupon-code\">",
                  c->state);
    sc_esc_html(b, c->code, strlen(c->code));
    sc_buf_printf(b, "</p><p>%s %s · %s %s · %s</p>", value, k->w->off, k->w->until, until,
                  state_word(k->w, c->state));
    if (strcmp(c->state, "usable") == 0) {
        sc_buf_puts(b, "<button class=\"btn\" type=\"button\" data-copy=\"");
        sc_esc_html(b, c->code, strlen(c->code));
        sc_buf_printf(b, "\">%s</button><div class=\"coupon-qr\">", k->w->copy);
        struct sc_buf svg; /* the code itself, for a till's scanner; inline, without its prolog */
        sc_buf_init(&svg, 0);
        const char *tag = NULL;
        if (sc_qr_svg(&svg, c->code) == SC_OK && svg.data && (tag = strstr(svg.data, "<svg")))
            sc_buf_append(b, tag, svg.len - (size_t)(tag - svg.data));
        sc_buf_cleanup(&svg);
        sc_buf_puts(b, "</div>");
    }
    sc_buf_puts(b, "</div>\n");
    return sc_buf_error(b) != SC_OK;
}

/*
 * Appends the private block of customer 'customer_id' to 'b' (the caller
 * has checked the browser is theirs); nothing on any error: the public page
 * stands.
 */
static void private_block(struct req *r, int64_t customer_id, enum sc_lang lang, struct sc_buf *b)
{
    const struct words *w = lang == SC_LANG_ZH ? &zh : &en;
    int64_t now = (int64_t)time(NULL), points = 0;
    char status[16];
    if (sc_store_customer_welcome(r->srv->store, customer_id, now, &points, status) != SC_OK)
        return;
    struct sc_buf part;
    sc_buf_init(&part, 0);
    sc_buf_printf(&part, "<section class=\"rewards-private\" id=\"my-rewards\"><h2>%s</h2>\n",
                  w->title);
    if (points > 0) {
        const char *st = strcmp(status, "approved") == 0 ? w->approved
                         : strcmp(status, "hold") == 0   ? w->hold
                         : strcmp(status, "void") == 0   ? w->voided
                                                         : w->pending;
        sc_buf_printf(&part, "<p class=\"welcome-gift\" data-status=\"%s\">%s: %lld %s (%s)</p>\n",
                      status, w->welcome, (long long)points,
                      points == 1 && w == &en ? "point" : w->points, st);
    }
    struct block k = {&part, w, 0};
    enum sc_err e = sc_store_customer_coupons(r->srv->store, customer_id, now, coupon_html, &k);
    sc_buf_puts(&part, "</section>\n");
    if (e == SC_OK && sc_buf_error(&part) == SC_OK && (points > 0 || k.n))
        sc_buf_append(b, part.data, part.len);
    sc_buf_cleanup(&part);
}

void sc_rewards_referral_page(struct req *r, int64_t customer_id, enum sc_lang lang,
                              struct sc_buf *page)
{
    /* The template marks where private blocks go; the public page is whole without it. */
    static const char mark[] = "<!--private-->";
    const char *at = page->data ? strstr(page->data, mark) : NULL;
    if (!at)
        return;
    struct sc_buf blk;
    sc_buf_init(&blk, 0);
    private_block(r, customer_id, lang, &blk);
    if (blk.len && sc_buf_error(&blk) == SC_OK) {
        size_t off = (size_t)(at - page->data);
        struct sc_buf out;
        sc_buf_init(&out, 0);
        sc_buf_append(&out, page->data, off);
        sc_buf_append(&out, blk.data, blk.len);
        sc_buf_append(&out, page->data + off, page->len - off);
        if (sc_buf_error(&out) == SC_OK) {
            sc_buf_cleanup(page);
            *page = out;
        } else {
            sc_buf_cleanup(&out);
        }
    }
    sc_buf_cleanup(&blk);
}
