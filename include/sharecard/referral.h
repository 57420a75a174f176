/*
 * referral.h — sign-ups, attribution and the rewards ledger (DESIGN.md §4).
 *
 * A sign-up is credited to the owner of the visitor's last (or first) touch
 * — a scan or open of a tracked link by a person — within the attribution
 * window; with no touch, to the owner of the card it happened on.  Level 1
 * is that owner, level 2 whoever referred them (customers have a referrer,
 * members do not).  A touch on one's own link is ignored as if it never
 * happened.  Every decision keeps its explanation.
 */
#ifndef SHARECARD_REFERRAL_H
#define SHARECARD_REFERRAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sharecard/err.h"
#include "sharecard/tracker.h"

enum sc_party_type { SC_PARTY_NONE = 0, SC_PARTY_MEMBER = 1, SC_PARTY_CUSTOMER = 2 };

#define SC_PERSON_NAME_MAX 100
#define SC_PHONE_MAX       20 /* "+" and up to 15 digits, with room */

struct sc_party {
    enum sc_party_type type;
    int64_t id;
    char name[SC_PERSON_NAME_MAX * 2 + 1];
};

/* A reward a rule gives (SHARECARD_WELCOME): nothing, points, or a coupon. */
enum sc_reward_kind { SC_REWARD_NONE = 0, SC_REWARD_POINTS = 1, SC_REWARD_COUPON = 2 };
enum sc_coupon_kind { SC_COUPON_AMOUNT = 0, SC_COUPON_PERCENT = 1 };

struct sc_reward_rule {
    enum sc_reward_kind kind;
    int64_t amount;                  /* points; a coupon's cents off, or its percent */
    enum sc_coupon_kind coupon_kind; /* a coupon: an amount off or a percent off */
    int days;                        /* a coupon is valid this many days (default 30) */
};

struct sc_referral_config {
    int64_t window_s;        /* attribution window; default 30 days */
    bool first_touch;        /* credit the first touch instead of the last */
    int64_t points[2];       /* reward points for level 1 and level 2 */
    int commission_bp[2];    /* commission per level, in basis points of the amount */
    int64_t hold_s;          /* pending rewards approve themselves after this */
    int velocity_per_hour;   /* more sign-ups than this per link per hour: hold */
    char default_country[4]; /* calling code for national numbers, "86" */
    char consent_version[16];
    struct sc_reward_rule welcome; /* the new customer's welcome reward; none by default */
    /* issue 19: SHARECARD_REWARDS (sc_rewards_parse) */
    struct sc_reward_rule level_coupon[2]; /* a coupon instead of points[l] for a customer */
    int cap_l1_month; /* rewarded sign-ups per level-1 referrer per month; 0: none */
    /* issue 19: the deployment's offset from UTC in minutes at an instant (SHARECARD_TZ),
       whose months the cap counts; NULL: UTC */
    int32_t (*tz_min)(int64_t at);
    int64_t min_order_cents; /* purchases below this earn no commission; 0: none */
    int64_t rule_version;    /* the stored version of these rules (0: not stored) */
};

void sc_referral_config_defaults(struct sc_referral_config *c);

/*
 * Parses a welcome reward 'text' (SHARECARD_WELCOME): "points:N" (N 1 to
 * 1,000,000), "coupon:AMOUNT[:DAYS]" (AMOUNT in currency units with at
 * most 2 decimals, up to 1,000,000, or "P%" with P 1 to 100; DAYS 1 to 3650,
 * default 30), or "" / "off" for none.  SC_EINVAL with '*why' (English)
 * when malformed; 'out' is untouched then.
 */
enum sc_err sc_reward_rule_parse(const char *text, struct sc_reward_rule *out, const char **why);

/*
 * SHARECARD_REWARDS, every reward rule in one place: comma-separated
 * KEY=VALUE, each key at most once, over what 'cfg' holds —
 *   l1=, l2=               the sign-up reward per level: points:N, coupon:AMOUNT[:DAYS]
 *                          (to a customer; a member at that level earns nothing), or off
 *   l1_commission=, l2_commission=  percent of a purchase, 0 to 100, at most 2 decimals
 *   welcome=               as SHARECARD_WELCOME
 *   cap_l1_month=N         at most N rewarded sign-ups per level-1 referrer per month
 *                          (0 to 1,000,000; 0: no cap)
 *   min_order=AMOUNT       purchases below AMOUNT (currency units) earn no commission
 * SC_EINVAL with the key and the reason in 'why' ('n' bytes); 'cfg' is
 * untouched then.
 */
enum sc_err sc_rewards_parse(const char *text, struct sc_referral_config *cfg, char *why, size_t n);
/* The rules of 'cfg' in that syntax, every key, canonical (what is versioned). */
void sc_rewards_format(const struct sc_referral_config *cfg, char *out, size_t n);

/* ---- coupon codes (tracker/coupon.c) ------------------------------------------- */

/*
 * A coupon code is 12 characters of a 32-letter alphabet without 0, O, 1
 * and I (60 random bits) and a check character (Luhn mod 32), written in
 * groups of four: "ABCD-EFGH-JKLM-N".  A typo — one character changed, or
 * two neighbours swapped (all but the pair '2'/'Z') — fails the check, so it
 * reads as malformed, not as someone else's code.
 */
#define SC_COUPON_RANDOM   12
#define SC_COUPON_CODE_MAX 20 /* 13 characters, 3 dashes, NUL, room */

/* Makes a code from 'rnd' (SC_COUPON_RANDOM random bytes) into 'out'. */
void sc_coupon_code_make(const unsigned char rnd[SC_COUPON_RANDOM], char out[SC_COUPON_CODE_MAX]);
/*
 * Reads a code as a person typed it (any case, spaces or dashes anywhere)
 * into its canonical form 'out'; false when it is not a well-formed code
 * (wrong length, a character outside the alphabet, a failed check).
 */
bool sc_coupon_code_parse(const char *in, char out[SC_COUPON_CODE_MAX]);

/* ---- validation ------------------------------------------------------------- */

/*
 * Normalises an e-mail address (trims, lower-cases) into 'out' and checks its
 * syntax.  SC_EINVAL with '*why' (a message key of page.h's sc_i18n) if bad.
 */
enum sc_err sc_email_normalise(const char *in, char out[255], const char **why);
/*
 * Normalises a phone number to E.164 ("+8613800138000") into 'out':
 * separators are dropped, "00" means "+", a national number gets
 * 'country' (and loses one trunk "0").  SC_EINVAL with '*why' if bad.
 */
enum sc_err sc_phone_normalise(const char *in, const char *country, char out[SC_PHONE_MAX + 1],
                               const char **why);
/* True for an address at a known disposable-mail domain. */
bool sc_email_disposable(const char *email);

/* ---- the decision ------------------------------------------------------------- */

/* Who owns a link, as attribution needs to know them. */
struct sc_owner {
    struct sc_party party; /* member or customer */
    char vid[SC_VID_MAX];  /* a customer's visitor id, "" for members */
    char email[255];
    char phone[SC_PHONE_MAX + 1];
    struct sc_party referrer; /* a customer's own level 1; none for members */
};

struct sc_touch {
    int64_t event_id;
    int64_t ts;
    int64_t link_id;
    struct sc_owner owner;
};

struct sc_signer {
    const char *vid;   /* may be "" */
    const char *email; /* normalised, may be "" */
    const char *phone; /* E.164, may be "" */
};

enum sc_rule { SC_RULE_LAST_TOUCH, SC_RULE_FIRST_TOUCH, SC_RULE_CARD_OWNER };
const char *sc_rule_name(enum sc_rule r); /* "last_touch", … */

struct sc_attr_decision {
    enum sc_rule rule;
    const struct sc_touch *touch; /* the winning touch, NULL under card_owner */
    struct sc_party level1;       /* none when the only candidate was the signer */
    struct sc_party level2;
    bool self_referral_ignored; /* a touch (or the card) was the signer's own */
};

/*
 * Decides the credit for a sign-up at 'now' by 'signer' from the visitor's
 * 'touches' ('n', any order, borrowed) on a card owned by 'card_owner'.
 * Touches outside [now - window, now] are not considered.
 */
void sc_attr_decide(const struct sc_referral_config *cfg, int64_t now,
                    const struct sc_signer *signer, const struct sc_touch *touches, size_t n,
                    const struct sc_owner *card_owner, struct sc_attr_decision *out);

/* The commission on 'amount_cents' at 'bp' basis points, rounded half up to a cent. */
int64_t sc_commission(int64_t amount_cents, int bp);

/* ---- the sign-up and purchase decisions (tracker/rewards.c) ------------------------ */

/*
 * The store gathers these facts inside the writer's transaction, calls the
 * decision once, and writes what it decided: who is credited, which
 * rewards, and whether they wait for a person (a fraud signal).
 */

/* What the fraud signals need to know about a touch (one per touch, same order). */
struct sc_touch_signals {
    char owner_ip[SC_IP_ANON_MAX]; /* a customer owner's sign-up address, anonymised; "" */
    int64_t link_signups_hour;     /* sign-ups through the touch's link in the hour before */
};

struct sc_signup_facts {
    int64_t now;                            /* the sign-up's time */
    struct sc_signer signer;                /* who signs up */
    const char *ip;                         /* their address, anonymised; "" when unknown */
    const struct sc_touch *touches;         /* the visitor's touches in the window (borrowed) */
    const struct sc_touch_signals *signals; /* 'n', one per touch (borrowed) */
    size_t n;
    const struct sc_owner *card_owner; /* the card's member */
};

/* A ledger row to write: who earns how much at which level, and whether it waits. */
struct sc_grant {
    struct sc_party party; /* for a welcome reward, the new customer: id 0, the store knows it */
    int level;             /* 1 or 2; 0 for the new customer's welcome reward */
    const char *kind;      /* the ledger's kind: "signup", "welcome", "commission" (static) */
    const struct sc_reward_rule *coupon; /* a coupon's terms (into the config), or NULL */
    int64_t amount;                      /* points for a sign-up, cents for a commission */
    const char *status;                  /* "pending", or "hold" for review (static) */
    const char *reason;                  /* "" or the hold's reason (points into the decision) */
    int64_t approve_after;               /* a pending row approves itself from then */
};

struct sc_signup_decision {
    struct sc_attr_decision attr; /* the credit; attr.touch points into facts->touches */
    char hold_reason[64];      /* "", "disposable_email", "same_network_as_referrer", "velocity" */
    char notes[128];           /* e.g. "self_referral_ignored,held_for_review:velocity" */
    struct sc_grant grants[3]; /* the sign-up rewards, level 1 first, then the welcome reward */
    size_t ngrants;
};

/*
 * Decides sign-up 'f' under 'cfg' into 'out': attribution (sc_attr_decide()),
 * then the fraud signals — a disposable e-mail, the same network as a
 * referring customer, more than cfg->velocity_per_hour sign-ups through the
 * winning link in an hour — hold the rewards; then the points per level,
 * and, on a credited sign-up (level 1 is someone) with cfg->welcome set, the
 * new customer's welcome reward, held with the others.
 */
void sc_signup_decide(const struct sc_signup_facts *f, const struct sc_referral_config *cfg,
                      struct sc_signup_decision *out);
/*
 * Applies cfg->cap_l1_month to decision 'd' once the store counted
 * 'l1_month' rewarded sign-ups of d's level 1 this month: at the cap, the
 * level-1 grant goes and the notes say "cap_reached".
 */
void sc_signup_cap(const struct sc_referral_config *cfg, int64_t l1_month,
                   struct sc_signup_decision *d);

struct sc_conversion_facts {
    int64_t now;
    int64_t amount_cents;
    struct sc_party levels[2]; /* the customer's sign-up credit, level 1 and 2 */
};

struct sc_conversion_decision {
    struct sc_grant grants[2]; /* commissions, level 1 first */
    size_t ngrants;
};

/* Decides the commissions of purchase 'f' under 'cfg' into 'out'. */
void sc_conversion_decide(const struct sc_conversion_facts *f, const struct sc_referral_config *cfg,
                          struct sc_conversion_decision *out);

/* ---- monthly statements (issue 19; tracker/rewards.c) ---------------------------- */

/*
 * A party's money (commission cents) is a ledger: a reward is earned when
 * written, approved when a manager approves it or its hold ends, voided when
 * a manager or an erasure voids it (an approved one too: a claw-back), and
 * paid out by payouts.  The store sums each movement before a month ([0])
 * and within it ([1]); the statement follows from those sums alone.
 */
struct sc_ledger_sums {
    int64_t earned[2];
    int64_t approved[2];
    int64_t voided[2];          /* every void */
    int64_t approved_voided[2]; /* voids of rows approved before */
    int64_t paid[2];
};

struct sc_statement {
    int64_t opening;  /* owed at the month's start: earned - voided - paid */
    int64_t earned;   /* within the month */
    int64_t approved; /* within the month */
    int64_t voided;   /* within the month */
    int64_t paid;     /* within the month */
    int64_t closing;  /* opening + earned - voided - paid */
    int64_t payable;  /* at the month's end: approved - approved then voided - paid */
};

void sc_statement_make(const struct sc_ledger_sums *s, struct sc_statement *out);

/*
 * Months in the deployment's zone ('tz_min' gives its offset from UTC in
 * minutes at an instant; NULL: UTC), for statements and the monthly cap:
 * sc_month_bounds gives month 'month' (1 to 12) of 'year' as [*from, *to),
 * sc_month_of the month holding instant 'at'.
 */
void sc_month_bounds(int year, int month, int32_t (*tz_min)(int64_t at), int64_t *from,
                     int64_t *to);
void sc_month_of(int64_t at, int32_t (*tz_min)(int64_t at), int64_t *from, int64_t *to);

/* ---- what the writer carries ---------------------------------------------------- */

/* A sign-up on its way to the store (SC_EV_SIGNUP): the request owns it. */
struct sc_signup {
    const struct sc_referral_config *cfg;
    char name[SC_PERSON_NAME_MAX * 4 + 1];
    char email[255];
    char phone[SC_PHONE_MAX + 1];
    char referral_code[SC_CODE_LEN + 1];    /* the new customer's own link */
    int birth_year, birth_month, birth_day; /* optional birthday (issue 14): 0 when not given */
    /* filled by the store */
    int64_t customer_id;
    struct sc_party level1, level2;
    enum sc_rule rule;
    bool self_referral_ignored;
    char hold_reason[64]; /* "" or why the rewards wait for review */
};

/* A purchase (SC_EV_CONVERT). */
struct sc_conversion {
    const struct sc_referral_config *cfg;
    char order_id[129];
    int64_t customer_id; /* 0: look up by email */
    char email[255];
    int64_t amount_cents;
    int64_t ordered_at;              /* when the order was made (unix seconds), stored as the
                                        conversion's created_at; 0: the event's time */
    char coupon[SC_COUPON_CODE_MAX]; /* canonical code to redeem with the order, or "" */
    /* its NPS survey (issue 14), set by the caller */
    const char *survey_base;  /* borrowed: the service's base URL for the survey link */
    int64_t survey_delay_s;   /* the survey opens this long after the order */
    int64_t survey_max_age_s; /* > 0: no survey for an order older than this when stored */
    /* filled by the store */
    int64_t conversion_id;
    bool replayed;          /* the order_id was known: nothing new was written */
    unsigned coupon_status; /* 0, or why the coupon was refused: 404, 409, 410 */
    const char *coupon_why; /* that reason (static English), or NULL */
    int64_t coupon_off;     /* the redeemed coupon's discount on this order, in cents */
};

#endif
