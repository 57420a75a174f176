/*
 * rewards.c — the decisions the store writes for a sign-up and a purchase:
 * who is credited (attribution.c), which rewards each level earns, and the
 * fraud signals that hold them for a person to look at.  Pure functions of
 * the facts the store read inside its transaction, so each rule lives here
 * once, for both backends, and is tested by a table (test_rewards.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sharecard/referral.h"

/* The reason a sign-up's rewards wait for review, or NULL. */
static const char *hold_of(const struct sc_signup_facts *f, const struct sc_referral_config *cfg,
                           const struct sc_attr_decision *d)
{
    if (f->signer.email && f->signer.email[0] && sc_email_disposable(f->signer.email))
        return "disposable_email";
    if (!d->touch)
        return NULL;
    const struct sc_touch_signals *sig = &f->signals[d->touch - f->touches];
    if (d->level1.type == SC_PARTY_CUSTOMER && f->ip && f->ip[0] &&
        strcmp(sig->owner_ip, f->ip) == 0)
        return "same_network_as_referrer";
    if (sig->link_signups_hour >= cfg->velocity_per_hour)
        return "velocity";
    return NULL;
}

void sc_signup_decide(const struct sc_signup_facts *f, const struct sc_referral_config *cfg,
                      struct sc_signup_decision *out)
{
    memset(out, 0, sizeof(*out));
    struct sc_attr_decision *d = &out->attr;
    sc_attr_decide(cfg, f->now, &f->signer, f->touches, f->n, f->card_owner, d);

    const char *hold = hold_of(f, cfg, d);
    snprintf(out->hold_reason, sizeof(out->hold_reason), "%s", hold ? hold : "");
    if (d->self_referral_ignored)
        snprintf(out->notes, sizeof(out->notes), "self_referral_ignored");
    if (hold) {
        size_t n = strlen(out->notes);
        snprintf(out->notes + n, sizeof(out->notes) - n, "%sheld_for_review:%s", n ? "," : "",
                 hold);
    }
    const struct sc_party *levels[2] = {&d->level1, &d->level2};
    for (int l = 0; l < 2; l++) {
        /* A coupon level rewards customers only: a member cannot spend one. */
        const struct sc_reward_rule *cp =
            cfg->level_coupon[l].kind == SC_REWARD_COUPON ? &cfg->level_coupon[l] : NULL;
        int64_t amount = cp ? cp->amount : cfg->points[l];
        if (levels[l]->type == SC_PARTY_NONE || amount <= 0 ||
            (cp && levels[l]->type != SC_PARTY_CUSTOMER))
            continue;
        struct sc_grant *g = &out->grants[out->ngrants++];
        g->party = *levels[l];
        g->level = l + 1;
        g->kind = "signup";
        g->coupon = cp;
        g->amount = amount;
        g->status = hold ? "hold" : "pending";
        g->reason = out->hold_reason;
        g->approve_after = f->now + cfg->hold_s;
    }
    /* The new customer's welcome gift: on a credited sign-up, held with the others. */
    const struct sc_reward_rule *w = &cfg->welcome;
    if (w->kind != SC_REWARD_NONE && w->amount > 0 && d->level1.type != SC_PARTY_NONE) {
        struct sc_grant *g = &out->grants[out->ngrants++];
        g->party.type = SC_PARTY_CUSTOMER; /* the store fills in the new customer's id */
        g->level = 0;
        g->kind = "welcome";
        g->amount = w->amount;
        g->coupon = w->kind == SC_REWARD_COUPON ? w : NULL;
        g->status = hold ? "hold" : "pending";
        g->reason = out->hold_reason;
        g->approve_after = f->now + cfg->hold_s;
    }
}

void sc_signup_cap(const struct sc_referral_config *cfg, int64_t l1_month,
                   struct sc_signup_decision *d)
{
    if (cfg->cap_l1_month <= 0 || l1_month < cfg->cap_l1_month)
        return;
    for (size_t i = 0; i < d->ngrants; i++) {
        if (d->grants[i].level != 1)
            continue;
        memmove(&d->grants[i], &d->grants[i + 1], (d->ngrants - i - 1) * sizeof(d->grants[0]));
        d->ngrants--;
        size_t n = strlen(d->notes);
        snprintf(d->notes + n, sizeof(d->notes) - n, "%scap_reached", n ? "," : "");
        return;
    }
}

void sc_conversion_decide(const struct sc_conversion_facts *f, const struct sc_referral_config *cfg,
                          struct sc_conversion_decision *out)
{
    memset(out, 0, sizeof(*out));
    if (f->amount_cents < cfg->min_order_cents)
        return; /* below the minimum order: no commission */
    for (int l = 0; l < 2; l++) {
        int64_t amount = sc_commission(f->amount_cents, cfg->commission_bp[l]);
        if (f->levels[l].type == SC_PARTY_NONE || amount <= 0)
            continue;
        struct sc_grant *g = &out->grants[out->ngrants++];
        g->party = f->levels[l];
        g->level = l + 1;
        g->kind = "commission";
        g->amount = amount;
        g->status = "pending";
        g->reason = "";
        g->approve_after = f->now + cfg->hold_s;
    }
}

/* A whole number of at most 'max' from digits [p, end); false if anything else. */
static bool whole(const char *p, const char *end, int64_t max, int64_t *out)
{
    if (p == end || end - p > 10 || (*p == '0' && end - p > 1))
        return false;
    int64_t v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

enum sc_err sc_reward_rule_parse(const char *text, struct sc_reward_rule *out, const char **why)
{
    struct sc_reward_rule r = {.kind = SC_REWARD_NONE, .days = 30};
    const char *end = text + strlen(text);
    if (!text[0] || strcmp(text, "off") == 0) {
        *out = r;
        return SC_OK;
    }
    if (strncmp(text, "points:", 7) == 0) {
        if (!whole(text + 7, end, 1000000, &r.amount) || r.amount < 1) {
            *why = "points:N takes a whole number of points from 1 to 1000000";
            return SC_EINVAL;
        }
        r.kind = SC_REWARD_POINTS;
        *out = r;
        return SC_OK;
    }
    if (strncmp(text, "coupon:", 7) != 0) {
        *why = "write points:N or coupon:AMOUNT[:DAYS] (AMOUNT such as 50 or 9.90 or 10%), or off";
        return SC_EINVAL;
    }
    const char *a = text + 7;
    const char *colon = strchr(a, ':');
    const char *aend = a + strcspn(a, ":"); /* 'colon', or the end */
    if (colon) {
        int64_t days = 0;
        if (!whole(colon + 1, end, 3650, &days) || days < 1) {
            *why = "a coupon's DAYS is a whole number from 1 to 3650";
            return SC_EINVAL;
        }
        r.days = (int)days;
    }
    r.kind = SC_REWARD_COUPON;
    if (aend > a && aend[-1] == '%') {
        r.coupon_kind = SC_COUPON_PERCENT;
        if (!whole(a, aend - 1, 100, &r.amount) || r.amount < 1) {
            *why = "a percent coupon is 1% to 100%";
            return SC_EINVAL;
        }
        *out = r;
        return SC_OK;
    }
    r.coupon_kind = SC_COUPON_AMOUNT;
    const char *dot = memchr(a, '.', strcspn(a, ":"));
    int64_t units = 0, cents = 0;
    bool ok = whole(a, dot ? dot : aend, 1000000, &units);
    if (ok && dot) {
        size_t nd = (size_t)(aend - dot - 1);
        ok = (nd == 1 || nd == 2) && strspn(dot + 1, "0123456789") >= nd;
        for (size_t i = 0; ok && i < 2; i++)
            cents = cents * 10 + (i < nd ? dot[1 + i] - '0' : 0);
    }
    r.amount = units * 100 + cents;
    if (!ok || r.amount < 1 || r.amount > 100000000) {
        *why = "a coupon's AMOUNT is a number such as 50 or 9.90 (at most 2 decimals, up to "
               "1000000), or a percent such as 10%";
        return SC_EINVAL;
    }
    *out = r;
    return SC_OK;
}

void sc_statement_make(const struct sc_ledger_sums *s, struct sc_statement *out)
{
    out->opening = s->earned[0] - s->voided[0] - s->paid[0];
    out->earned = s->earned[1];
    out->approved = s->approved[1];
    out->voided = s->voided[1];
    out->paid = s->paid[1];
    out->closing = out->opening + out->earned - out->voided - out->paid;
    out->payable = s->approved[0] + s->approved[1] - s->approved_voided[0] - s->approved_voided[1] -
                   s->paid[0] - s->paid[1];
}

/* The first second of month 'm' (1 to 13: 13 is next January) of year 'y' in the zone. */
static int64_t month_start(int y, int m, int32_t (*tz_min)(int64_t at))
{
    struct tm a = {.tm_year = (m > 12 ? y + 1 : y) - 1900, .tm_mon = (m - 1) % 12, .tm_mday = 1};
    int64_t wall = (int64_t)timegm(&a); /* the zone's midnight, read as if it were UTC */
    if (!tz_min)
        return wall;
    /* The offset at that midnight: looked up twice, so a zone's offset change is followed. */
    int64_t guess = wall - (int64_t)tz_min(wall) * 60;
    return wall - (int64_t)tz_min(guess) * 60;
}

void sc_month_bounds(int year, int month, int32_t (*tz_min)(int64_t at), int64_t *from, int64_t *to)
{
    *from = month_start(year, month, tz_min);
    *to = month_start(year, month + 1, tz_min);
}

void sc_month_of(int64_t at, int32_t (*tz_min)(int64_t at), int64_t *from, int64_t *to)
{
    time_t wall = (time_t)(at + (tz_min ? (int64_t)tz_min(at) * 60 : 0));
    struct tm tm;
    if (!gmtime_r(&wall, &tm)) {
        *from = *to = at;
        return;
    }
    sc_month_bounds(tm.tm_year + 1900, tm.tm_mon + 1, tz_min, from, to);
    if (at < *from) /* just before a zone's change at midnight: the month before */
        sc_month_bounds(tm.tm_mon == 0 ? tm.tm_year + 1899 : tm.tm_year + 1900,
                        tm.tm_mon == 0 ? 12 : tm.tm_mon, tz_min, from, to);
}

/* An amount in currency units ("50", "9.90", at most 2 decimals, up to 'max_units') in cents. */
static bool money(const char *p, const char *end, int64_t max_units, int64_t *cents)
{
    if (end < p)
        return false;
    const char *dot = memchr(p, '.', (size_t)(end - p));
    int64_t units = 0, frac = 0;
    if (!whole(p, dot ? dot : end, max_units, &units))
        return false;
    if (dot) {
        size_t nd = (size_t)(end - dot - 1);
        if ((nd != 1 && nd != 2) || strspn(dot + 1, "0123456789") < nd)
            return false;
        for (size_t i = 0; i < 2; i++)
            frac = frac * 10 + (i < nd ? dot[1 + i] - '0' : 0);
    }
    *cents = units * 100 + frac;
    return true;
}

enum sc_err sc_rewards_parse(const char *text, struct sc_referral_config *cfg, char *why, size_t n)
{
    static const char *const keys[] = {"l1",      "l2",           "l1_commission", "l2_commission",
                                       "welcome", "cap_l1_month", "min_order"};
    enum { NKEYS = sizeof(keys) / sizeof(keys[0]) };
    struct sc_referral_config c = *cfg;
    bool seen[NKEYS] = {false};
    const char *p = text;
    if (!*p) {
        snprintf(why, n, "SHARECARD_REWARDS is empty: give KEY=VALUE pairs or leave it unset");
        return SC_EINVAL;
    }
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        char item[96], val[96];
        int il = (int)(end - p) < 60 ? (int)(end - p) : 60;
        if (!eq || end - eq - 1 >= (long)sizeof(val)) {
            snprintf(why, n, "\"%.*s\": write KEY=VALUE, pairs separated by commas", il, p);
            return SC_EINVAL;
        }
        memcpy(val, eq + 1, (size_t)(end - eq - 1));
        val[end - eq - 1] = '\0';
        size_t kl = (size_t)(eq - p);
        int k = 0;
        while (k < NKEYS && !(strlen(keys[k]) == kl && memcmp(keys[k], p, kl) == 0))
            k++;
        if (k == NKEYS) {
            snprintf(why, n,
                     "\"%.*s\": unknown key (l1, l2, l1_commission, l2_commission, welcome, "
                     "cap_l1_month, min_order)",
                     il, p);
            return SC_EINVAL;
        }
        snprintf(item, sizeof(item), "%s", keys[k]);
        if (seen[k]) {
            snprintf(why, n, "%s: given twice", item);
            return SC_EINVAL;
        }
        seen[k] = true;
        const char *r = NULL;
        const char *vend = val + strlen(val);
        if (k <= 1) { /* l1, l2 */
            struct sc_reward_rule rule;
            if (sc_reward_rule_parse(val, &rule, &r) != SC_OK)
                goto bad;
            c.points[k] = rule.kind == SC_REWARD_POINTS ? rule.amount : 0;
            c.level_coupon[k] = rule.kind == SC_REWARD_COUPON ? rule : (struct sc_reward_rule){0};
        } else if (k <= 3) { /* commissions, percent */
            int64_t bp = 0;
            if (!money(val, vend, 100, &bp) || bp > 10000) {
                r = "a percent from 0 to 100 with at most 2 decimals, such as 10 or 2.5";
                goto bad;
            }
            c.commission_bp[k - 2] = (int)bp;
        } else if (k == 4) {
            if (sc_reward_rule_parse(val, &c.welcome, &r) != SC_OK)
                goto bad;
        } else if (k == 5) {
            int64_t cap = 0;
            if (!whole(val, vend, 1000000, &cap)) {
                r = "a whole number from 0 to 1000000 (0: no cap)";
                goto bad;
            }
            c.cap_l1_month = (int)cap;
        } else {
            if (!money(val, vend, 100000000, &c.min_order_cents)) {
                r = "an amount such as 100 or 99.90 (at most 2 decimals; 0: none)";
                goto bad;
            }
        }
        p = *end ? end + 1 : end;
        if (*end && !*p) {
            snprintf(why, n, "a trailing comma");
            return SC_EINVAL;
        }
        continue;
    bad:
        snprintf(why, n, "%s=%.40s: %s", item, val, r);
        return SC_EINVAL;
    }
    *cfg = c;
    return SC_OK;
}

/* One reward rule as sc_reward_rule_parse() reads it. */
static void rule_text(const struct sc_reward_rule *r, int64_t points, char *out, size_t n)
{
    if (r->kind == SC_REWARD_COUPON && r->coupon_kind == SC_COUPON_PERCENT)
        snprintf(out, n, "coupon:%lld%%:%d", (long long)r->amount, r->days);
    else if (r->kind == SC_REWARD_COUPON)
        snprintf(out, n, "coupon:%lld.%02lld:%d", (long long)(r->amount / 100),
                 (long long)(r->amount % 100), r->days);
    else if (points > 0)
        snprintf(out, n, "points:%lld", (long long)points);
    else
        snprintf(out, n, "off");
}

void sc_rewards_format(const struct sc_referral_config *cfg, char *out, size_t n)
{
    char l1[48], l2[48], w[48];
    rule_text(&cfg->level_coupon[0], cfg->points[0], l1, sizeof(l1));
    rule_text(&cfg->level_coupon[1], cfg->points[1], l2, sizeof(l2));
    rule_text(&cfg->welcome, cfg->welcome.kind == SC_REWARD_POINTS ? cfg->welcome.amount : 0, w,
              sizeof(w));
    snprintf(out, n,
             "l1=%s,l2=%s,l1_commission=%d.%02d,l2_commission=%d.%02d,welcome=%s,"
             "cap_l1_month=%d,min_order=%lld.%02lld",
             l1, l2, cfg->commission_bp[0] / 100, cfg->commission_bp[0] % 100,
             cfg->commission_bp[1] / 100, cfg->commission_bp[1] % 100, w, cfg->cap_l1_month,
             (long long)(cfg->min_order_cents / 100), (long long)(cfg->min_order_cents % 100));
}
