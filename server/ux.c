/*
 * ux.c — what visitors, salespeople and managers meet (issue 17): the
 * deployment's own wording on the public pages and its currency, read once
 * at start; the salesperson's own figures on top of /me and their QR code
 * at full screen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ux_int.h"
#include "sharecard/escape.h"

static bool currency_init(const char **why);

/* The value of 'name' when set, checked; NULL when unset or empty. */
static bool env_text(const char *name, const char **out, const char **why)
{
    const char *v = getenv(name);
    *out = NULL;
    if (!v || !v[0])
        return true;
    size_t n = strlen(v);
    if (n > SC_CONSENT_TEXT_MAX || !sc_utf8_valid(v, n) || strpbrk(v, "\r\n")) {
        *why = strcmp(name, "SHARECARD_CONSENT_TEXT") == 0
                   ? "SHARECARD_CONSENT_TEXT must be one line of UTF-8 text, at most 600 bytes"
                   : "SHARECARD_CONSENT_TEXT_ZH must be one line of UTF-8 text, at most 600 bytes";
        return false;
    }
    *out = v;
    return true;
}

enum sc_err sc_ux_pages_configure(struct sc_pages *pages, const struct sc_config *cfg,
                                  const char **why)
{
    const char *en, *zh;
    if (!env_text("SHARECARD_CONSENT_TEXT", &en, why) ||
        !env_text("SHARECARD_CONSENT_TEXT_ZH", &zh, why) || !currency_init(why))
        return SC_EINVAL;
    sc_pages_configure(pages, en, zh ? zh : en, cfg->referral.points[0], cfg->referral.points[1]);
    return SC_OK;
}

/* ---- money as people read it: SHARECARD_CURRENCY --------------------------------- */

static const struct currency {
    const char *code, *symbol;
    int decimals;
} currencies[] = {
    {"CNY", "¥", 2},   {"USD", "$", 2},   {"EUR", "€", 2},   {"GBP", "£", 2},
    {"HKD", "HK$", 2}, {"TWD", "NT$", 0}, {"JPY", "JP¥", 0}, {"SGD", "S$", 2},
    {"AUD", "A$", 2},  {"CAD", "CA$", 2}, {"KRW", "₩", 0},   {"INR", "₹", 2},
};
static struct currency money = {"CNY", "¥", 2}; /* set once by sc_ux_pages_configure() */
static char money_code[4] = "CNY";

/* Reads SHARECARD_CURRENCY: an ISO 4217 code (three capital letters). */
static bool currency_init(const char **why)
{
    const char *v = getenv("SHARECARD_CURRENCY");
    if (!v || !v[0])
        return true;
    if (strlen(v) != 3 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z' || v[2] < 'A' ||
        v[2] > 'Z') {
        *why = "SHARECARD_CURRENCY must be an ISO 4217 code such as CNY, USD or EUR";
        return false;
    }
    memcpy(money_code, v, 4);
    money = (struct currency){money_code, NULL, 2};
    for (size_t i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++)
        if (strcmp(currencies[i].code, v) == 0)
            money = currencies[i];
    return true;
}

const char *sc_ux_currency(void)
{
    return money.code;
}

void sc_ux_money(int64_t cents, char out[64])
{
    bool neg = cents < 0;
    uint64_t c = neg ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    if (money.decimals == 0)
        c = (c + 50) / 100; /* stored in hundredths; shown whole */
    uint64_t whole = money.decimals ? c / 100 : c;
    char digits[24], grouped[32];
    int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)whole);
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            grouped[o++] = ',';
        grouped[o++] = digits[i];
    }
    grouped[o] = '\0';
    char frac[8] = "";
    if (money.decimals)
        snprintf(frac, sizeof(frac), ".%02llu", (unsigned long long)(c % 100));
    if (money.symbol)
        snprintf(out, 64, "%s%s%s%s", neg ? "-" : "", money.symbol, grouped, frac);
    else
        snprintf(out, 64, "%s%s %s%s", neg ? "-" : "", money.code, grouped, frac);
}

/* ---- the salesperson's own figures on top of /me, and the QR at full screen ---------- */

struct rank_ctx {
    int64_t me;
    int pos, total;
    int64_t points;
};

static int rank_row(const struct sc_leader_row *row, void *ctx)
{
    struct rank_ctx *c = ctx;
    c->total++;
    if (row->member_id == c->me) {
        c->pos = c->total;
        c->points = row->points;
    }
    return 0;
}

void sc_ux_me_top(struct req *r, const struct sc_member *m, int64_t from, int64_t to,
                  struct sc_buf *b)
{
    struct sc_scope scope = {0, m->team[0] ? m->team : NULL};
    struct rank_ctx rc = {.me = m->id};
    int64_t points = 0, cents = 0;
    if (sc_store_leaderboard(r->srv->store, &scope, from, to, rank_row, &rc) != SC_OK)
        rc.pos = 0;
    if (sc_store_member_earnings(r->srv->store, m->id, &points, &cents) != SC_OK)
        points = cents = 0;
    char money_s[64];
    sc_ux_money(cents, money_s);
    sc_ui_html(b, "<section class=\"me-top\" id=\"me-top\"><a class=\"btn primary showqr\" "
                  "id=\"show-qr\" href=\"/me/qr\">Show my QR code</a><div class=\"tiles\">");
    if (rc.pos)
        sc_ui_htmlf(b,
                    "<div class=\"tile\" data-kpi=\"rank\" data-value=\"%d\"><div class=\"v\">"
                    "%d / %d</div><div class=\"k\">%s</div></div>",
                    rc.pos, rc.pos, rc.total,
                    sc_tr(m->team[0] ? "Rank in your team (sign-ups)" : "Rank (sign-ups)"));
    sc_ui_htmlf(b,
                "<div class=\"tile\" data-kpi=\"my-points\" data-value=\"%lld\"><div "
                "class=\"v\">%lld</div><div class=\"k\">%s</div></div>"
                "<div class=\"tile\" data-kpi=\"my-commission\" data-value=\"%lld\"><div "
                "class=\"v\">",
                (long long)points, (long long)points, sc_tr("My points (approved and pending)"),
                (long long)cents);
    sc_ui_text(b, money_s);
    sc_ui_htmlf(b, "</div><div class=\"k\">%s</div></div></div></section>",
                sc_tr("My commission (approved and pending)"));
}

enum MHD_Result sc_h_me_qr(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    struct sc_card c;
    enum sc_err e = sc_store_card_by_slug(r->srv->store, m->slug, &c);
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    struct sc_buf b;
    sc_buf_init(&b, 1 << 16);
    sc_ui_head(&b, "My QR code");
    /* The whole screen: the QR as large as it fits, the name under it. */
    sc_ui_htmlf(&b,
                "<section class=\"qrfull\" id=\"qrfull\"><img src=\"/c/%s/qr.svg\" alt=\"\" "
                "id=\"qrfull-img\"><p class=\"qrname\">",
                c.slug);
    sc_ui_text(&b, c.name);
    sc_ui_html(&b, "</p><p class=\"qrhint\">Scan to save my card</p><a class=\"btn\" "
                   "href=\"/me\">Close</a></section>");
    sc_ui_end(&b);
    sc_card_cleanup(&c);
    return sc_reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

/* ---- "Why" in words: the attribution rule and notes of a sign-up ---------------------- */

static const char *hold_words(const char *code)
{
    static const char *const words[][2] = {
        {"disposable_email", "a throwaway e-mail address"},
        {"same_network_as_referrer", "same network as the referrer"},
        {"velocity", "too many sign-ups on one link within an hour"},
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(words[i][0], code) == 0)
            return sc_tr(words[i][1]);
    return code;
}

void sc_ux_hold_reason(struct sc_buf *b, const char *reason)
{
    sc_ui_text(b, hold_words(reason));
}

void sc_ux_why(struct sc_buf *b, const char *rule, const char *notes)
{
    const char *w = strcmp(rule, "last_touch") == 0    ? "the last link they came through"
                    : strcmp(rule, "first_touch") == 0 ? "the first link they came through"
                    : strcmp(rule, "card_owner") == 0  ? "signed up on the card itself"
                                                       : NULL;
    sc_ui_html(b, "<span title=\"");
    sc_ui_text(b, rule);
    if (notes && notes[0]) {
        sc_ui_html(b, " · ");
        sc_ui_text(b, notes);
    }
    sc_ui_html(b, "\">");
    sc_ui_text(b, w ? sc_tr(w) : rule);
    /* notes: "self_referral_ignored", "held_for_review:REASON", comma-separated */
    for (const char *p = notes; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char note[96];
        snprintf(note, sizeof(note), "%.*s", (int)(n < sizeof(note) ? n : sizeof(note) - 1), p);
        sc_ui_html(b, " · ");
        if (strcmp(note, "self_referral_ignored") == 0) {
            sc_ui_text(b, sc_tr("their own link was not counted"));
        } else if (strncmp(note, "held_for_review:", 16) == 0) {
            sc_ui_text(b, sc_tr("rewards held for review:"));
            sc_buf_putc(b, ' ');
            sc_ui_text(b, hold_words(note + 16));
        } else {
            sc_ui_text(b, note);
        }
        p = end ? end + 1 : NULL;
    }
    sc_ui_html(b, "</span>");
}

/* ---- cards by their owner's name ------------------------------------------------------ */

struct owner {
    char slug[SC_SLUG_MAX + 1];
    char name[SC_NAME_MAX + 1];
};
static _Thread_local struct owner *owners; /* between sc_ux_owners_load() and _free() */
static _Thread_local size_t nowners, capowners;

static int owner_row(const struct sc_member *m, void *ctx)
{
    (void)ctx;
    if (nowners == capowners) {
        size_t cap = capowners ? capowners * 2 : 64;
        struct owner *v = realloc(owners, cap * sizeof(*v));
        if (!v)
            return 1;
        owners = v;
        capowners = cap;
    }
    snprintf(owners[nowners].slug, sizeof(owners[nowners].slug), "%s", m->slug);
    snprintf(owners[nowners].name, sizeof(owners[nowners].name), "%s", m->name);
    nowners++;
    return 0;
}

void sc_ux_owners_load(struct sc_store *s)
{
    sc_ux_owners_free();
    if (sc_store_member_list(s, owner_row, NULL) != SC_OK)
        nowners = 0;
}

void sc_ux_owners_free(void)
{
    free(owners);
    owners = NULL;
    nowners = capowners = 0;
}

const char *sc_ux_card_owner(const char *slug)
{
    for (size_t i = 0; slug && i < nowners; i++)
        if (strcmp(owners[i].slug, slug) == 0)
            return owners[i].name;
    return NULL;
}

void sc_ux_card_html(struct sc_buf *b, const char *slug)
{
    const char *name = sc_ux_card_owner(slug);
    if (!name) {
        sc_ui_text(b, slug);
        return;
    }
    sc_ui_html(b, "<span class=\"owner\" title=\"");
    sc_ui_text(b, slug);
    sc_ui_html(b, "\">");
    sc_ui_text(b, name);
    sc_ui_html(b, "</span>");
}
