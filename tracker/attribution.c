/*
 * attribution.c — who gets the credit for a sign-up, and the rules around
 * it: address and phone normalisation (one sign-up per person needs one
 * spelling per person), disposable-mail domains, commissions.
 *
 * Everything here is a pure function of its inputs, so every rule is
 * tested by a table; the store feeds it the touches it read inside the
 * sign-up's transaction.
 */
#include <stdio.h>
#include <string.h>

#include "sharecard/referral.h"

void sc_referral_config_defaults(struct sc_referral_config *c)
{
    memset(c, 0, sizeof(*c));
    c->window_s = 30 * 86400;
    c->first_touch = false;
    c->points[0] = 2; /* "2 + 1": level 1 earns two, level 2 one */
    c->points[1] = 1;
    c->commission_bp[0] = 1000; /* 10 % */
    c->commission_bp[1] = 500;  /* 5 % */
    c->hold_s = 14 * 86400;
    c->velocity_per_hour = 20;
    snprintf(c->default_country, sizeof(c->default_country), "86");
    snprintf(c->consent_version, sizeof(c->consent_version), "2026-11");
}

const char *sc_rule_name(enum sc_rule r)
{
    switch (r) {
    case SC_RULE_LAST_TOUCH: return "last_touch";
    case SC_RULE_FIRST_TOUCH: return "first_touch";
    case SC_RULE_CARD_OWNER: return "card_owner";
    }
    return "card_owner";
}

enum sc_err sc_email_normalise(const char *in, char out[255], const char **why)
{
    while (*in == ' ' || *in == '\t')
        in++;
    size_t n = strlen(in);
    while (n > 0 &&
           (in[n - 1] == ' ' || in[n - 1] == '\t' || in[n - 1] == '\r' || in[n - 1] == '\n'))
        n--;
    *why = "email_invalid";
    if (n == 0 || n > 254)
        return SC_EINVAL;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        if ((unsigned char)c <= ' ' || c == '<' || c == '>' || c == '"' || c == ',' || c == ';' ||
            c == '(' || c == ')' || c == '\\' || c == '[' || c == ']')
            return SC_EINVAL;
    }
    out[n] = '\0';
    const char *at = strchr(out, '@');
    if (!at || at == out || strchr(at + 1, '@') || at - out > 64)
        return SC_EINVAL;
    const char *dom = at + 1;
    const char *dot = strrchr(dom, '.');
    if (!dot || dot == dom || !dot[1] || strlen(dot + 1) < 2 || strstr(dom, "..") ||
        dom[0] == '-' || dom[0] == '.')
        return SC_EINVAL;
    *why = NULL;
    return SC_OK;
}

enum sc_err sc_phone_normalise(const char *in, const char *country, char out[SC_PHONE_MAX + 1],
                               const char **why)
{
    char digits[32];
    size_t n = 0;
    bool plus = false;
    *why = "phone_invalid";
    for (const char *p = in; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n + 1 >= sizeof(digits))
                return SC_EINVAL;
            digits[n++] = *p;
        } else if (*p == '+' && n == 0 && !plus) {
            plus = true;
        } else if (!strchr(" -().\t", *p)) {
            return SC_EINVAL;
        }
    }
    digits[n] = '\0';
    const char *d = digits;
    if (!plus && n > 2 && d[0] == '0' && d[1] == '0') {
        plus = true; /* international prefix 00 */
        d += 2;
    }
    char e164[40];
    if (plus) {
        snprintf(e164, sizeof(e164), "+%s", d);
    } else {
        if (d[0] == '0')
            d++; /* trunk prefix */
        snprintf(e164, sizeof(e164), "+%s%s", country, d);
    }
    size_t len = strlen(e164) - 1;
    if (len < 8 || len > 15 || e164[1] == '0')
        return SC_EINVAL;
    /* Chinese mobiles: +86 1xx xxxx xxxx. */
    if (strncmp(e164, "+86", 3) == 0 && e164[3] == '1' && strlen(e164 + 3) != 11)
        return SC_EINVAL;
    memcpy(out, e164, len + 2); /* '+', 'len' digits and the NUL: at most 17 bytes */
    *why = NULL;
    return SC_OK;
}

bool sc_email_disposable(const char *email)
{
    static const char *const domains[] = {
        "mailinator.com",    "guerrillamail.com", "guerrillamail.net", "sharklasers.com",
        "10minutemail.com",  "10minutemail.net",  "yopmail.com",       "yopmail.net",
        "trashmail.com",     "trashmail.de",      "temp-mail.org",     "tempmail.com",
        "tempmail.net",      "getnada.com",       "dispostable.com",   "maildrop.cc",
        "throwawaymail.com", "fakeinbox.com",     "mintemail.com",     "mohmal.com",
        "emailondeck.com",   "spamgourmet.com",   "mailnesia.com",     "tempr.email",
        "discard.email",     "burnermail.io",     "moakt.com",         "linshiyouxiang.net",
        "bccto.me",          "027168.com",
    };
    const char *at = email ? strrchr(email, '@') : NULL;
    if (!at)
        return false;
    const char *dom = at + 1;
    for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
        size_t dl = strlen(dom), n = strlen(domains[i]);
        /* the domain itself, or any subdomain of it */
        if (dl >= n && strcmp(dom + dl - n, domains[i]) == 0 && (dl == n || dom[dl - n - 1] == '.'))
            return true;
    }
    return false;
}

/* Is 'o' the signer, by visitor id, e-mail or phone? */
static bool is_signer(const struct sc_owner *o, const struct sc_signer *s)
{
    return (s->vid && s->vid[0] && o->vid[0] && strcmp(s->vid, o->vid) == 0) ||
           (s->email && s->email[0] && o->email[0] && strcmp(s->email, o->email) == 0) ||
           (s->phone && s->phone[0] && o->phone[0] && strcmp(s->phone, o->phone) == 0);
}

void sc_attr_decide(const struct sc_referral_config *cfg, int64_t now,
                    const struct sc_signer *signer, const struct sc_touch *touches, size_t n,
                    const struct sc_owner *card_owner, struct sc_attr_decision *out)
{
    memset(out, 0, sizeof(*out));
    const struct sc_touch *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct sc_touch *t = &touches[i];
        if (t->ts > now || t->ts < now - cfg->window_s)
            continue;
        if (t->owner.party.type == SC_PARTY_NONE)
            continue;
        if (is_signer(&t->owner, signer)) {
            out->self_referral_ignored = true;
            continue;
        }
        bool better =
            !best ||
            (cfg->first_touch
                 ? (t->ts < best->ts || (t->ts == best->ts && t->event_id < best->event_id))
                 : (t->ts > best->ts || (t->ts == best->ts && t->event_id > best->event_id)));
        if (better)
            best = t;
    }
    if (best) {
        out->rule = cfg->first_touch ? SC_RULE_FIRST_TOUCH : SC_RULE_LAST_TOUCH;
        out->touch = best;
        out->level1 = best->owner.party;
        if (best->owner.party.type == SC_PARTY_CUSTOMER)
            out->level2 = best->owner.referrer;
    } else {
        out->rule = SC_RULE_CARD_OWNER;
        if (card_owner && card_owner->party.type != SC_PARTY_NONE) {
            if (is_signer(card_owner, signer)) {
                out->self_referral_ignored = true;
            } else {
                out->level1 = card_owner->party;
                if (card_owner->party.type == SC_PARTY_CUSTOMER)
                    out->level2 = card_owner->referrer;
            }
        }
    }
    /* Nobody is credited twice for one sign-up, nor for their own. */
    if (out->level2.type != SC_PARTY_NONE && out->level2.type == out->level1.type &&
        out->level2.id == out->level1.id)
        memset(&out->level2, 0, sizeof(out->level2));
}

int64_t sc_commission(int64_t amount_cents, int bp)
{
    if (amount_cents <= 0 || bp <= 0)
        return 0;
    return (amount_cents * bp + 5000) / 10000;
}
