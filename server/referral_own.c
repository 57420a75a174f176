/*
 * referral_own.c — what the customer's own browser sees on their referral
 * page /r/{code} (issue 14): their points, tier, spend and commissions,
 * and each reward they earned with whose sign-up or purchase earned it
 * (that person's first name only, or masked), and their open NPS survey.
 *
 * The page is public: anyone with the link may open it.  These parts are
 * added only when the request carries the visitor cookie the customer
 * signed up with (customers.visitor_id); any other browser, and any
 * request without that cookie (DNT/GPC visitors have none), gets the public
 * page unchanged.  The section is inserted before the page's </main>, so
 * the thank-you template (card/) stays the public page alone.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "customers_int.h"
#include "http_int.h"
#include "pages_int.h"
#include "ux_int.h"
#include "sharecard/customers.h"
#include "sharecard/log.h"
#include "sharecard/tracker.h"

#define EARNED_ROWS 50

bool sc_referral_viewer_owns(struct req *r, int64_t customer_id)
{
    const char *c = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, SC_VID_COOKIE);
    if (!customer_id || !c || !sc_visitor_cookie_ok(c))
        return false; /* read only: this page sets no cookie for a stranger */
    char vid[SC_VID_MAX];
    snprintf(vid, sizeof(vid), "c:%s", c);
    bool own = false;
    if (sc_store_customer_of_browser(r->srv->store, customer_id, vid, &own) != SC_OK)
        return false; /* the public page, rather than no page */
    return own;
}

/* Bytes of the first UTF-8 character of 's'. */
static size_t first_char(const char *s)
{
    size_t n = 1;
    while (s[n] && ((unsigned char)s[n] & 0xc0) == 0x80)
        n++;
    return n;
}

void sc_referral_mask_name(const char *name, struct sc_buf *out)
{
    while (*name == ' ')
        name++;
    if (!*name) {
        sc_buf_puts(out, "***");
        return;
    }
    const char *sp = strchr(name, ' ');
    if (sp) { /* "Carol Smith": the first name */
        sc_buf_append(out, name, (size_t)(sp - name));
    } else { /* one word ("张三", "Carol"): its first character and a mask */
        sc_buf_append(out, name, first_char(name));
        sc_buf_puts(out, "**");
    }
}

/* An amount as a number, for the data-* attributes scripts read ("40.00"). */
static void money_data(struct sc_buf *b, int64_t cents)
{
    sc_buf_printf(b, "%s%lld.%02lld", cents < 0 ? "-" : "",
                  (long long)(cents < 0 ? -cents : cents) / 100,
                  (long long)(cents < 0 ? -cents : cents) % 100);
}

/* An amount as people read it, in SHARECARD_CURRENCY ("¥40.00", as the dashboard shows). */
static void money(struct sc_buf *b, int64_t cents)
{
    char s[64];
    sc_ux_money(cents, s);
    sc_ui_text(b, s);
}

static int earned_row(const struct sc_earned_row *w, void *ctx)
{
    struct sc_buf *b = ctx;
    bool welcome = strcmp(w->kind, "welcome") == 0, coupon = strcmp(w->kind, "coupon") == 0;
    bool points = welcome || strcmp(w->kind, "signup") == 0;
    sc_buf_printf(b, "<tr data-level=\"%d\" data-status=\"", w->level);
    sc_ui_text(b, w->status);
    sc_buf_printf(b, "\"><td>%d</td><td class=\"who\">", w->level);
    struct sc_buf name;
    sc_buf_init(&name, 1024);
    sc_referral_mask_name(w->from_name, &name);
    sc_ui_text(b, name.data ? name.data : "");
    sc_buf_cleanup(&name);
    sc_buf_puts(b, "</td><td>");
    /* level 0 is the customer's own welcome gift (issue 19): points, or a coupon, whose code
     * and value the page's coupons block shows */
    sc_ui_text(b, sc_tr(w->level == 0      ? "Welcome gift"
                        : points || coupon ? "Sign-up"
                                           : "Purchase"));
    sc_buf_puts(b, "</td><td class=\"n\">");
    if (points)
        sc_words_count(b, w->amount, "point", "points");
    else if (coupon)
        sc_ui_text(b, sc_words_reward_kind(w->kind));
    else
        money(b, w->amount);
    sc_buf_puts(b, "</td><td>");
    sc_ui_text(b, sc_words_reward_status(w->status));
    sc_buf_puts(b, "</td></tr>");
    return 0;
}

/* The private section of customer 'id' into 'b'. */
static void own_section(struct req *r, int64_t id, struct sc_buf *b)
{
    int64_t now = (int64_t)time(NULL);
    struct sc_customer_balance bal;
    if (sc_store_customer_balance(r->srv->store, id, now, &bal) != SC_OK)
        return;
    struct sc_tiers tiers;
    bool by_points = false;
    sc_customers_tiers(&tiers, &by_points);
    const char *tier =
        tiers.n ? sc_tier_of(&tiers, by_points ? (double)bal.points : bal.spend_cents / 100.0)
                : NULL;
    sc_ui_html(b, "<section class=\"own\" id=\"own\"><h2>Your rewards</h2><dl>");
    sc_ui_htmlf(b, "<dt>Points</dt><dd data-points=\"%lld\">%lld</dd>", (long long)bal.points,
                (long long)bal.points);
    if (tiers.n) {
        sc_ui_html(b, "<dt>Tier</dt><dd data-tier=\"");
        sc_ui_text(b, tier ? tier : "");
        sc_buf_puts(b, "\">");
        if (tier)
            sc_ui_text(b, tier);
        else
            sc_buf_puts(b, "—");
        sc_buf_puts(b, "</dd>");
    }
    sc_ui_html(b, "<dt>Commissions</dt><dd data-commission=\"");
    money_data(b, bal.commission_cents);
    sc_buf_printf(b, "\" data-currency=\"%s\">", sc_ux_currency());
    money(b, bal.commission_cents);
    sc_ui_html(b, "</dd><dt>Your purchases</dt><dd data-spend=\"");
    money_data(b, bal.spend_cents);
    sc_buf_printf(b, "\" data-currency=\"%s\">", sc_ux_currency());
    money(b, bal.spend_cents);
    sc_ui_html(b, "</dd></dl><h2>What you earned</h2><table id=\"earned\"><thead><tr>"
                  "<th>Level</th><th>From</th><th>For</th><th class=\"n\">Reward</th>"
                  "<th>Status</th></tr></thead><tbody>");
    size_t before = b->len;
    if (sc_store_customer_earned(r->srv->store, id, now, EARNED_ROWS, earned_row, b) != SC_OK)
        sc_warn("referral page: the rewards of customer %lld could not be read", (long long)id);
    if (b->len == before)
        sc_ui_html(b, "<tr><td colspan=\"5\">Nothing yet: share your link.</td></tr>");
    sc_ui_html(b, "</tbody></table>");
    sc_nps_own_link(r, id, b); /* nps.c: the customer's open survey, if any */
    sc_buf_puts(b, "</section>");
}

void sc_referral_own(struct req *r, int64_t owner_customer_id, enum sc_lang lang,
                     struct sc_buf *page)
{
    if (!owner_customer_id || sc_buf_error(page) || !page->data)
        return;
    const char *at = strstr(page->data, "</main>");
    if (!at)
        return;
    enum sc_lang was = sc_tr_lang();
    sc_tr_set(lang);
    struct sc_buf sec;
    sc_buf_init(&sec, 0);
    own_section(r, owner_customer_id, &sec);
    sc_tr_set(was);
    struct sc_buf out;
    sc_buf_init(&out, 0);
    size_t head = (size_t)(at - page->data);
    sc_buf_append(&out, page->data, head);
    sc_buf_append(&out, sec.data ? sec.data : "", sec.len);
    sc_buf_append(&out, page->data + head, page->len - head);
    if (!sc_buf_error(&sec) && !sc_buf_error(&out)) {
        sc_buf_cleanup(page);
        *page = out;
    } else {
        sc_buf_cleanup(&out);
    }
    sc_buf_cleanup(&sec);
}
