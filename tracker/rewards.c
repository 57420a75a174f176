/*
 * rewards.c — the decisions the store writes for a sign-up and a purchase:
 * who is credited (attribution.c), which rewards each level earns, and the
 * fraud signals that hold them for a person to look at.  Pure functions of
 * the facts the store read inside its transaction, so each rule lives here
 * once, for both backends, and is tested by a table (test_rewards.c).
 */
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
        g->amount = cfg->points[l];
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
        g->amount = amount;
        g->status = "pending";
        g->reason = "";
        g->approve_after = f->now + cfg->hold_s;
    }
}
