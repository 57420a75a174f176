/*
 * test_rewards.c — the sign-up and purchase decisions of tracker/rewards.c,
 * straight from facts, as the store hands them over: each hold reason and
 * its precedence, the velocity threshold's edge, a self referral, level 2
 * through a customer, points per level, commissions by level and their
 * hold time.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sharecard/referral.h"

#define NOW 1800000000LL

static struct sc_referral_config config(void)
{
    struct sc_referral_config c;
    sc_referral_config_defaults(&c);
    return c;
}

static struct sc_owner member(int64_t id, const char *email)
{
    struct sc_owner o;
    memset(&o, 0, sizeof(o));
    o.party.type = SC_PARTY_MEMBER;
    o.party.id = id;
    snprintf(o.email, sizeof(o.email), "%s", email);
    return o;
}

static struct sc_owner customer(int64_t id, const char *email, struct sc_party referrer)
{
    struct sc_owner o;
    memset(&o, 0, sizeof(o));
    o.party.type = SC_PARTY_CUSTOMER;
    o.party.id = id;
    snprintf(o.email, sizeof(o.email), "%s", email);
    o.referrer = referrer;
    return o;
}

/* One touch on link 7 owned by 'owner', whose owner signed up from 'owner_ip'. */
struct one_touch {
    struct sc_touch t;
    struct sc_touch_signals sig;
    struct sc_owner card;
    struct sc_signup_facts f;
};

static void one_touch(struct one_touch *o, struct sc_owner owner, const char *owner_ip,
                      int64_t recent, const char *email, const char *ip)
{
    memset(o, 0, sizeof(*o));
    o->t.event_id = 1;
    o->t.ts = NOW - 60;
    o->t.link_id = 7;
    o->t.owner = owner;
    snprintf(o->sig.owner_ip, sizeof(o->sig.owner_ip), "%s", owner_ip);
    o->sig.link_signups_hour = recent;
    o->card = member(1, "owner@example.com");
    o->f = (struct sc_signup_facts){.now = NOW,
                                    .signer = {"c:new", email, ""},
                                    .ip = ip,
                                    .touches = &o->t,
                                    .signals = &o->sig,
                                    .n = 1,
                                    .card_owner = &o->card};
}

static void test_no_hold(void **state)
{
    (void)state;
    struct sc_referral_config c = config();
    struct one_touch o;
    one_touch(&o, member(2, "bob@example.com"), "", 0, "new@example.com", "203.0.113.0");
    struct sc_signup_decision d;
    sc_signup_decide(&o.f, &c, &d);
    assert_int_equal(d.attr.rule, SC_RULE_LAST_TOUCH);
    assert_ptr_equal(d.attr.touch, &o.t);
    assert_int_equal(d.attr.level1.id, 2);
    assert_string_equal(d.hold_reason, "");
    assert_string_equal(d.notes, "");
    assert_int_equal(d.ngrants, 1); /* a member has no referrer: no level 2 */
    assert_int_equal(d.grants[0].level, 1);
    assert_int_equal(d.grants[0].amount, c.points[0]);
    assert_string_equal(d.grants[0].status, "pending");
    assert_string_equal(d.grants[0].reason, "");
    assert_int_equal(d.grants[0].approve_after, NOW + c.hold_s);
}

static void test_disposable_email(void **state)
{
    (void)state;
    struct sc_referral_config c = config();
    struct one_touch o;
    /* Also the same network and over the velocity: the e-mail is named first. */
    struct sc_party none = {0};
    one_touch(&o, customer(5, "ref@example.com", none), "203.0.113.0", 99, "x@mailinator.com",
              "203.0.113.0");
    struct sc_signup_decision d;
    sc_signup_decide(&o.f, &c, &d);
    assert_string_equal(d.hold_reason, "disposable_email");
    assert_string_equal(d.notes, "held_for_review:disposable_email");
    assert_int_equal(d.ngrants, 1);
    assert_string_equal(d.grants[0].status, "hold");
    assert_string_equal(d.grants[0].reason, "disposable_email");

    /* With no touch at all (the card owner credited) a disposable address still holds. */
    o.f.n = 0;
    sc_signup_decide(&o.f, &c, &d);
    assert_int_equal(d.attr.rule, SC_RULE_CARD_OWNER);
    assert_string_equal(d.hold_reason, "disposable_email");
}

static void test_same_network(void **state)
{
    (void)state;
    struct sc_referral_config c = config();
    struct sc_party lvl2 = {SC_PARTY_MEMBER, 1, ""};
    struct one_touch o;
    one_touch(&o, customer(5, "ref@example.com", lvl2), "203.0.113.0", 0, "new@example.com",
              "203.0.113.0");
    struct sc_signup_decision d;
    sc_signup_decide(&o.f, &c, &d);
    assert_string_equal(d.hold_reason, "same_network_as_referrer");
    assert_int_equal(d.ngrants, 2);
    assert_string_equal(d.grants[0].status, "hold");
    assert_string_equal(d.grants[1].status, "hold");

    /* Another network, or a sign-up with no known address: no hold. */
    one_touch(&o, customer(5, "ref@example.com", lvl2), "198.51.100.0", 0, "new@example.com",
              "203.0.113.0");
    sc_signup_decide(&o.f, &c, &d);
    assert_string_equal(d.hold_reason, "");
    one_touch(&o, customer(5, "ref@example.com", lvl2), "", 0, "new@example.com", "");
    sc_signup_decide(&o.f, &c, &d);
    assert_string_equal(d.hold_reason, "");

    /* A member's link from the same network is no signal: members are known people. */
    one_touch(&o, member(2, "bob@example.com"), "203.0.113.0", 0, "new@example.com", "203.0.113.0");
    sc_signup_decide(&o.f, &c, &d);
    assert_string_equal(d.hold_reason, "");
}

static void test_velocity(void **state)
{
    (void)state;
    struct sc_referral_config c = config();
    struct one_touch o;
    struct sc_signup_decision d;
    one_touch(&o, member(2, "bob@example.com"), "", c.velocity_per_hour - 1, "new@example.com", "");
    sc_signup_decide(&o.f, &c, &d);
    assert_string_equal(d.hold_reason, "");
    one_touch(&o, member(2, "bob@example.com"), "", c.velocity_per_hour, "new@example.com", "");
    sc_signup_decide(&o.f, &c, &d);
    assert_string_equal(d.hold_reason, "velocity");
    assert_string_equal(d.notes, "held_for_review:velocity");
    assert_string_equal(d.grants[0].status, "hold");
    assert_string_equal(d.grants[0].reason, "velocity");
}

static void test_self_referral(void **state)
{
    (void)state;
    struct sc_referral_config c = config();
    struct one_touch o;
    /* The signer's own link: ignored, the card's owner is credited instead. */
    one_touch(&o, member(2, "new@example.com"), "", c.velocity_per_hour, "new@example.com", "");
    struct sc_signup_decision d;
    sc_signup_decide(&o.f, &c, &d);
    assert_true(d.attr.self_referral_ignored);
    assert_int_equal(d.attr.rule, SC_RULE_CARD_OWNER);
    assert_null(d.attr.touch);
    assert_int_equal(d.attr.level1.id, 1);
    /* The ignored touch's link does not count for velocity. */
    assert_string_equal(d.hold_reason, "");
    assert_string_equal(d.notes, "self_referral_ignored");

    /* Both notes, in order. */
    snprintf(o.t.owner.email, sizeof(o.t.owner.email), "x@mailinator.com");
    o.f.signer.email = "x@mailinator.com";
    sc_signup_decide(&o.f, &c, &d);
    assert_string_equal(d.notes, "self_referral_ignored,held_for_review:disposable_email");
}

static void test_level2_points(void **state)
{
    (void)state;
    struct sc_referral_config c = config();
    c.points[0] = 5;
    c.points[1] = 3;
    struct sc_party lvl2 = {SC_PARTY_CUSTOMER, 9, ""};
    struct one_touch o;
    one_touch(&o, customer(5, "ref@example.com", lvl2), "", 0, "new@example.com", "");
    struct sc_signup_decision d;
    sc_signup_decide(&o.f, &c, &d);
    assert_int_equal(d.ngrants, 2);
    assert_int_equal(d.grants[0].party.type, SC_PARTY_CUSTOMER);
    assert_int_equal(d.grants[0].party.id, 5);
    assert_int_equal(d.grants[0].level, 1);
    assert_int_equal(d.grants[0].amount, 5);
    assert_int_equal(d.grants[1].party.id, 9);
    assert_int_equal(d.grants[1].level, 2);
    assert_int_equal(d.grants[1].amount, 3);

    /* A level without points earns no row. */
    c.points[0] = 0;
    sc_signup_decide(&o.f, &c, &d);
    assert_int_equal(d.ngrants, 1);
    assert_int_equal(d.grants[0].level, 2);
}

static void test_commissions(void **state)
{
    (void)state;
    struct sc_referral_config c = config(); /* 10 % and 5 % */
    struct sc_conversion_facts f = {.now = NOW, .amount_cents = 12345};
    f.levels[0] = (struct sc_party){SC_PARTY_CUSTOMER, 5, ""};
    f.levels[1] = (struct sc_party){SC_PARTY_MEMBER, 1, ""};
    struct sc_conversion_decision d;
    sc_conversion_decide(&f, &c, &d);
    assert_int_equal(d.ngrants, 2);
    assert_int_equal(d.grants[0].level, 1);
    assert_int_equal(d.grants[0].party.id, 5);
    assert_int_equal(d.grants[0].amount, 1235); /* 1234.5 rounds half up */
    assert_int_equal(d.grants[1].level, 2);
    assert_int_equal(d.grants[1].party.id, 1);
    assert_int_equal(d.grants[1].amount, 617); /* 617.25 */
    assert_string_equal(d.grants[0].status, "pending");
    assert_int_equal(d.grants[1].approve_after, NOW + c.hold_s);

    /* No level 2, a level at 0 %, or too small an amount: no row for it. */
    f.levels[1].type = SC_PARTY_NONE;
    sc_conversion_decide(&f, &c, &d);
    assert_int_equal(d.ngrants, 1);
    f.levels[1] = (struct sc_party){SC_PARTY_MEMBER, 1, ""};
    c.commission_bp[0] = 0;
    sc_conversion_decide(&f, &c, &d);
    assert_int_equal(d.ngrants, 1);
    assert_int_equal(d.grants[0].level, 2);
    f.amount_cents = 9; /* 5 % of 9 cents is 0.45: nothing */
    sc_conversion_decide(&f, &c, &d);
    assert_int_equal(d.ngrants, 0);
}

/* ---- issue 19: the welcome reward, its setting, coupon codes ---------------------------- */

static void test_welcome(void **state)
{
    (void)state;
    struct sc_referral_config c = config();
    struct one_touch o;
    struct sc_signup_decision d;
    one_touch(&o, member(2, "bob@example.com"), "", 0, "new@example.com", "");
    sc_signup_decide(&o.f, &c, &d); /* off by default */
    assert_int_equal(d.ngrants, 1);

    assert_int_equal(sc_reward_rule_parse("points:100", &c.welcome, &(const char *){NULL}), SC_OK);
    sc_signup_decide(&o.f, &c, &d);
    assert_int_equal(d.ngrants, 2);
    const struct sc_grant *w = &d.grants[1];
    assert_int_equal(w->level, 0);
    assert_int_equal(w->party.type, SC_PARTY_CUSTOMER);
    assert_int_equal(w->party.id, 0); /* the new customer: the store knows the id */
    assert_string_equal(w->kind, "welcome");
    assert_int_equal(w->amount, 100);
    assert_null(w->coupon);
    assert_string_equal(w->status, "pending");
    assert_int_equal(w->approve_after, NOW + c.hold_s);

    /* A held sign-up holds the welcome gift with the referrers' rewards. */
    one_touch(&o, member(2, "bob@example.com"), "", 0, "x@mailinator.com", "");
    sc_signup_decide(&o.f, &c, &d);
    assert_int_equal(d.ngrants, 2);
    assert_string_equal(d.grants[1].status, "hold");
    assert_string_equal(d.grants[1].reason, "disposable_email");

    /* A coupon carries its terms. */
    assert_int_equal(sc_reward_rule_parse("coupon:9.90:7", &c.welcome, &(const char *){NULL}),
                     SC_OK);
    one_touch(&o, member(2, "bob@example.com"), "", 0, "new@example.com", "");
    sc_signup_decide(&o.f, &c, &d);
    assert_non_null(d.grants[1].coupon);
    assert_int_equal(d.grants[1].amount, 990);
    assert_int_equal(d.grants[1].coupon->days, 7);

    /* Not credited (the signer owns the card and no touch counts): no welcome gift. */
    o.card = member(1, "new@example.com");
    o.f.n = 0;
    sc_signup_decide(&o.f, &c, &d);
    assert_int_equal(d.attr.level1.type, SC_PARTY_NONE);
    assert_int_equal(d.ngrants, 0);
}

static void test_welcome_setting(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum sc_reward_kind kind;
        int64_t amount;
        enum sc_coupon_kind ckind;
        int days;
    } good[] = {
        {"", SC_REWARD_NONE, 0, 0, 30},
        {"off", SC_REWARD_NONE, 0, 0, 30},
        {"points:1", SC_REWARD_POINTS, 1, 0, 30},
        {"points:1000000", SC_REWARD_POINTS, 1000000, 0, 30},
        {"coupon:50", SC_REWARD_COUPON, 5000, SC_COUPON_AMOUNT, 30},
        {"coupon:9.9", SC_REWARD_COUPON, 990, SC_COUPON_AMOUNT, 30},
        {"coupon:9.05:365", SC_REWARD_COUPON, 905, SC_COUPON_AMOUNT, 365},
        {"coupon:0.01:1", SC_REWARD_COUPON, 1, SC_COUPON_AMOUNT, 1},
        {"coupon:10%", SC_REWARD_COUPON, 10, SC_COUPON_PERCENT, 30},
        {"coupon:100%:3650", SC_REWARD_COUPON, 100, SC_COUPON_PERCENT, 3650},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct sc_reward_rule r;
        const char *why = NULL;
        assert_int_equal(sc_reward_rule_parse(good[i].text, &r, &why), SC_OK);
        assert_int_equal(r.kind, good[i].kind);
        assert_int_equal(r.amount, good[i].amount);
        if (r.kind == SC_REWARD_COUPON)
            assert_int_equal(r.coupon_kind, good[i].ckind);
        assert_int_equal(r.days, good[i].days);
    }
    static const char *const bad[] = {
        "points",
        "points:",
        "points:0",
        "points:-5",
        "points:1000001",
        "points:+5",
        "points:05",
        "points:5x",
        "points: 5",
        "coupon:",
        "coupon:0",
        "coupon:0.00",
        "coupon:9.999",
        "coupon:9.",
        "coupon:.5",
        "coupon:-1",
        "coupon:1e3",
        "coupon:0%",
        "coupon:101%",
        "coupon:5.5%",
        "coupon:50:0",
        "coupon:50:",
        "coupon:50:x",
        "coupon:50:3651",
        "coupon:50:7:1",
        "coupon:1000001",
        "gift",
        "POINTS:5",
        "on",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sc_reward_rule r = {.kind = SC_REWARD_POINTS, .amount = 7};
        const char *why = NULL;
        assert_int_equal(sc_reward_rule_parse(bad[i], &r, &why), SC_EINVAL);
        assert_non_null(why);
        assert_int_equal(r.amount, 7); /* untouched */
    }
}

static void test_coupon_codes(void **state)
{
    (void)state;
    static const char alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    unsigned char rnd[SC_COUPON_RANDOM];
    unsigned seed = 12345;
    size_t transpositions = 0, caught = 0;
    for (int n = 0; n < 2000; n++) {
        for (size_t i = 0; i < sizeof(rnd); i++) {
            seed = seed * 1103515245u + 12345u;
            rnd[i] = (unsigned char)(seed >> 16);
        }
        char code[SC_COUPON_CODE_MAX], back[SC_COUPON_CODE_MAX];
        sc_coupon_code_make(rnd, code);
        assert_int_equal(strlen(code), 16);
        assert_int_equal(strspn(code, "23456789ABCDEFGHJKLMNPQRSTUVWXYZ-"), 16);
        assert_true(code[4] == '-' && code[9] == '-' && code[14] == '-');
        assert_true(sc_coupon_code_parse(code, back));
        assert_string_equal(back, code);
        /* As typed: lower case, spaces, no dashes. */
        char typed[40];
        size_t t = 0;
        for (size_t i = 0; code[i]; i++)
            if (code[i] != '-')
                typed[t++] = (char)(code[i] >= 'A' ? code[i] - 'A' + 'a' : code[i]);
        typed[t] = '\0';
        assert_true(sc_coupon_code_parse(typed, back));
        assert_string_equal(back, code);
        /* Every single changed character is caught. */
        for (size_t i = 0; i < t; i++) {
            char wrong[40];
            memcpy(wrong, typed, t + 1);
            for (size_t k = 0; k < 32; k++) {
                char ch = (char)(alphabet[k] >= 'A' ? alphabet[k] - 'A' + 'a' : alphabet[k]);
                if (ch == typed[i])
                    continue;
                wrong[i] = ch;
                assert_false(sc_coupon_code_parse(wrong, back));
            }
        }
        /* Swapped neighbours: always caught but for Luhn's one blind pair, '2' and 'Z'
           (the first and last letters of the alphabet, values 0 and 31). */
        for (size_t i = 0; i + 1 < t; i++) {
            if (typed[i] == typed[i + 1])
                continue;
            char wrong[40];
            memcpy(wrong, typed, t + 1);
            wrong[i] = typed[i + 1];
            wrong[i + 1] = typed[i];
            bool blind = (typed[i] == '2' && typed[i + 1] == 'z') ||
                         (typed[i] == 'z' && typed[i + 1] == '2');
            transpositions++;
            caught += !sc_coupon_code_parse(wrong, back);
            if (!blind)
                assert_false(sc_coupon_code_parse(wrong, back));
        }
    }
    assert_true(caught * 100 >= transpositions * 99);
    char out[SC_COUPON_CODE_MAX];
    static const char *const bad[] = {"",
                                      "ABCD-EFGH-JKLM",
                                      "ABCD-EFGH-JKLM-NP",
                                      "0BCD-EFGH-JKLM-N",
                                      "OBCD-EFGH-JKLM-N",
                                      "1BCD-EFGH-JKLM-N",
                                      "IBCD-EFGH-JKLM-N",
                                      "ABCD_EFGH_JKLM_N",
                                      "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(sc_coupon_code_parse(bad[i], out));
}

/*
 * Statements over random ledgers: rows earned, approved (by a manager or by
 * their hold ending), voided (before or after approval) and payouts, spread
 * over 6 months.  Summed per month as the store sums them, every month's
 * closing is the next month's opening, and the closing and payable at any
 * month's end equal what a replay of the movements in time order gives.
 * Both units: money (with payouts) and points (never paid out: the store
 * gives their statement no payouts, so "paid" is 0 and "payable" is usable).
 */
static void test_statement_property(void **state)
{
    (void)state;
    unsigned seed = 777;
#define RND(n) ((seed = seed * 1103515245u + 12345u), (int64_t)((seed >> 16) % (unsigned)(n)))
    for (int run = 0; run < 600; run++) {
        bool points = run % 2 == 1;
        enum { MONTHS = 6, ROWS = 40, PAYS = 10 };
        struct {
            int64_t amount, created, approved, voided; /* -1: never */
        } row[ROWS];
        struct {
            int64_t amount, at;
        } pay[PAYS];
        for (int i = 0; i < ROWS; i++) {
            row[i].amount = 1 + RND(100000);
            row[i].created = RND(MONTHS * 100);
            row[i].approved = RND(3) ? row[i].created + RND(150) : -1;
            int64_t from = row[i].approved >= 0 ? row[i].approved : row[i].created;
            row[i].voided = RND(4) == 0 ? from + RND(150) : -1;
        }
        for (int k = 0; k < PAYS; k++) {
            pay[k].amount = points ? 0 : 1 + RND(50000);
            pay[k].at = RND(MONTHS * 100);
        }
        int64_t prev_closing = 0;
        for (int m = 0; m < MONTHS + 2; m++) {
            int64_t from = m * 100, to = from + 100;
            struct sc_ledger_sums s;
            memset(&s, 0, sizeof(s));
            for (int i = 0; i < ROWS; i++) {
                int64_t a = row[i].amount;
                s.earned[row[i].created < from ? 0 : 1] += row[i].created < to ? a : 0;
                if (row[i].approved >= 0 && row[i].approved < to)
                    s.approved[row[i].approved < from ? 0 : 1] += a;
                if (row[i].voided >= 0 && row[i].voided < to) {
                    s.voided[row[i].voided < from ? 0 : 1] += a;
                    if (row[i].approved >= 0)
                        s.approved_voided[row[i].voided < from ? 0 : 1] += a;
                }
            }
            for (int k = 0; k < PAYS; k++)
                if (pay[k].at < to)
                    s.paid[pay[k].at < from ? 0 : 1] += pay[k].amount;
            struct sc_statement st;
            sc_statement_make(&s, &st);
            assert_int_equal(st.opening, prev_closing);
            assert_int_equal(st.closing, st.opening + st.earned - st.voided - st.paid);
            /* The replay: walk every movement up to the month's end. */
            int64_t owed = 0, payable = 0;
            for (int i = 0; i < ROWS; i++) {
                bool v = row[i].voided >= 0 && row[i].voided < to;
                bool ap = row[i].approved >= 0 && row[i].approved < to;
                if (row[i].created < to)
                    owed += v ? 0 : row[i].amount;
                if (ap && !v)
                    payable += row[i].amount;
            }
            for (int k = 0; k < PAYS; k++)
                if (pay[k].at < to) {
                    owed -= pay[k].amount;
                    payable -= pay[k].amount;
                }
            assert_int_equal(st.closing, owed);
            assert_int_equal(st.payable, payable);
            prev_closing = st.closing;
        }
    }
#undef RND
}

/* SHARECARD_REWARDS: strict parsing, a canonical form that reads back the same rules. */
static int32_t plus8(int64_t at)
{
    (void)at;
    return 8 * 60;
}

static int32_t minus5(int64_t at)
{
    (void)at;
    return -5 * 60;
}

/* Months follow the deployment's zone: 23:30 UTC on 31 October is November in +08:00. */
static void test_months_in_zone(void **state)
{
    (void)state;
    const int64_t oct31_2330 = 1793489400; /* 2026-10-31T23:30:00Z */
    const int64_t nov1 = 1793491200;       /* 2026-11-01T00:00:00Z */
    const int64_t dec1 = 1796083200;       /* 2026-12-01T00:00:00Z */
    int64_t from, to;
    sc_month_of(oct31_2330, NULL, &from, &to);
    assert_int_equal(from, 1790812800); /* 2026-10-01T00:00:00Z */
    assert_int_equal(to, nov1);
    sc_month_of(oct31_2330, plus8, &from, &to);
    assert_int_equal(from, nov1 - 8 * 3600); /* 2026-11-01T00:00+08:00 */
    assert_int_equal(to, dec1 - 8 * 3600);
    sc_month_of(nov1 - 8 * 3600 - 1, plus8, &from, &to); /* a second before: October */
    assert_int_equal(to, nov1 - 8 * 3600);
    sc_month_of(nov1 + 3 * 3600, minus5, &from, &to); /* 22:00 on 31 October in -05:00 */
    assert_int_equal(to, nov1 + 5 * 3600);
    sc_month_bounds(2026, 12, plus8, &from, &to);
    assert_int_equal(from, dec1 - 8 * 3600);
    assert_int_equal(to, 1798761600 - 8 * 3600); /* 2027-01-01T00:00+08:00 */
    sc_month_bounds(2026, 11, NULL, &from, &to);
    assert_int_equal(from, nov1);
    assert_int_equal(to, dec1);
}

static void test_rewards_setting(void **state)
{
    (void)state;
    struct sc_referral_config c = config();
    char why[200], text[512];
    assert_int_equal(sc_rewards_parse("l1=coupon:50:30,l2=points:20,welcome=points:100,"
                                      "cap_l1_month=10,min_order=100,l1_commission=2.5,"
                                      "l2_commission=0",
                                      &c, why, sizeof(why)),
                     SC_OK);
    assert_int_equal(c.level_coupon[0].kind, SC_REWARD_COUPON);
    assert_int_equal(c.level_coupon[0].amount, 5000);
    assert_int_equal(c.points[0], 0);
    assert_int_equal(c.points[1], 20);
    assert_int_equal(c.welcome.kind, SC_REWARD_POINTS);
    assert_int_equal(c.cap_l1_month, 10);
    assert_int_equal(c.min_order_cents, 10000);
    assert_int_equal(c.commission_bp[0], 250);
    assert_int_equal(c.commission_bp[1], 0);
    sc_rewards_format(&c, text, sizeof(text));
    assert_string_equal(text, "l1=coupon:50.00:30,l2=points:20,l1_commission=2.50,"
                              "l2_commission=0.00,welcome=points:100,cap_l1_month=10,"
                              "min_order=100.00");
    struct sc_referral_config back = config();
    assert_int_equal(sc_rewards_parse(text, &back, why, sizeof(why)), SC_OK);
    char again[512];
    sc_rewards_format(&back, again, sizeof(again));
    assert_string_equal(again, text);
    /* Keys left out keep what the config had (SHARECARD_POINTS, the defaults). */
    struct sc_referral_config d = config();
    assert_int_equal(sc_rewards_parse("min_order=9.9", &d, why, sizeof(why)), SC_OK);
    assert_int_equal(d.points[0], 2);
    assert_int_equal(d.min_order_cents, 990);
    assert_int_equal(sc_rewards_parse("l2=off,welcome=coupon:10%:7", &d, why, sizeof(why)), SC_OK);
    assert_int_equal(d.points[1], 0);
    sc_rewards_format(&d, text, sizeof(text));
    assert_string_equal(text, "l1=points:2,l2=off,l1_commission=10.00,l2_commission=5.00,"
                              "welcome=coupon:10%:7,cap_l1_month=0,min_order=9.90");

    static const struct {
        const char *text, *why;
    } bad[] = {
        {"", "empty"},
        {"l1", "KEY=VALUE"},
        {"l3=points:1", "unknown key"},
        {"l1=points:1,l1=points:2", "l1: given twice"},
        {"l1=points:0", "l1="},
        {"l1=cash:5", "l1=cash:5"},
        {"l1_commission=101", "l1_commission="},
        {"l1_commission=-1", "l1_commission="},
        {"l1_commission=1.234", "l1_commission="},
        {"cap_l1_month=-1", "cap_l1_month="},
        {"cap_l1_month=1.5", "cap_l1_month="},
        {"min_order=abc", "min_order="},
        {"welcome=coupon:0", "welcome="},
        {"l1=points:1,", "trailing comma"},
        {"l1=points:1,,l2=off", "KEY=VALUE"},
        {" l1=points:1", "unknown key"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sc_referral_config e = config();
        struct sc_referral_config before = e;
        why[0] = '\0';
        assert_int_equal(sc_rewards_parse(bad[i].text, &e, why, sizeof(why)), SC_EINVAL);
        assert_non_null(strstr(why, bad[i].why));
        assert_memory_equal(&e, &before, sizeof(e)); /* untouched */
    }
}

/* A coupon level rewards a customer, not a member; the cap; the minimum order. */
static void test_rules_decisions(void **state)
{
    (void)state;
    struct sc_referral_config c = config();
    char why[200];
    assert_int_equal(sc_rewards_parse("l1=coupon:5:10,l2=points:3,cap_l1_month=2,min_order=100", &c,
                                      why, sizeof(why)),
                     SC_OK);
    struct sc_party lvl2 = {SC_PARTY_MEMBER, 1, ""};
    struct one_touch o;
    struct sc_signup_decision d;
    one_touch(&o, customer(5, "ref@example.com", lvl2), "", 0, "new@example.com", "");
    sc_signup_decide(&o.f, &c, &d);
    assert_int_equal(d.ngrants, 2);
    assert_int_equal(d.grants[0].party.id, 5);
    assert_ptr_equal(d.grants[0].coupon, &c.level_coupon[0]);
    assert_int_equal(d.grants[0].amount, 500);
    assert_null(d.grants[1].coupon);
    assert_int_equal(d.grants[1].amount, 3);
    /* The cap: below it nothing changes; at it the level-1 grant goes, level 2 stays. */
    sc_signup_cap(&c, 1, &d);
    assert_int_equal(d.ngrants, 2);
    sc_signup_cap(&c, 2, &d);
    assert_int_equal(d.ngrants, 1);
    assert_int_equal(d.grants[0].level, 2);
    assert_string_equal(d.notes, "cap_reached");
    /* A member at the coupon level earns nothing from it. */
    one_touch(&o, member(2, "bob@example.com"), "", 0, "new@example.com", "");
    sc_signup_decide(&o.f, &c, &d);
    assert_int_equal(d.ngrants, 0);
    /* The minimum order: 99.99 earns nothing, 100.00 its commissions. */
    struct sc_conversion_facts f = {.now = NOW, .amount_cents = 9999};
    f.levels[0] = (struct sc_party){SC_PARTY_MEMBER, 2, ""};
    struct sc_conversion_decision cd;
    sc_conversion_decide(&f, &c, &cd);
    assert_int_equal(cd.ngrants, 0);
    f.amount_cents = 10000;
    sc_conversion_decide(&f, &c, &cd);
    assert_int_equal(cd.ngrants, 1);
    assert_int_equal(cd.grants[0].amount, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_hold),
        cmocka_unit_test(test_disposable_email),
        cmocka_unit_test(test_same_network),
        cmocka_unit_test(test_velocity),
        cmocka_unit_test(test_self_referral),
        cmocka_unit_test(test_level2_points),
        cmocka_unit_test(test_commissions),
        cmocka_unit_test(test_welcome),
        cmocka_unit_test(test_welcome_setting),
        cmocka_unit_test(test_coupon_codes),
        cmocka_unit_test(test_statement_property),
        cmocka_unit_test(test_months_in_zone),
        cmocka_unit_test(test_rewards_setting),
        cmocka_unit_test(test_rules_decisions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
