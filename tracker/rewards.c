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
        if (levels[l]->type == SC_PARTY_NONE || cfg->points[l] <= 0)
            continue;
        struct sc_grant *g = &out->grants[out->ngrants++];
        g->party = *levels[l];
        g->level = l + 1;
        g->kind = "signup";
        g->amount = cfg->points[l];
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

void sc_conversion_decide(const struct sc_conversion_facts *f, const struct sc_referral_config *cfg,
                          struct sc_conversion_decision *out)
{
    memset(out, 0, sizeof(*out));
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
    const char *aend = colon ? colon : end;
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
    const char *dot = memchr(a, '.', (size_t)(aend - a));
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
