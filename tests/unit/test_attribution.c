/*
 * test_attribution.c — every rule of DESIGN.md §4, table by table: the
 * window's edges to the second, first against last touch, the card owner
 * fallback, a touch on one's own link ignored by each key, level 2 only
 * through customers, normalisation, commissions and their rounding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sharecard/referral.h"

#define NOW 1800000000LL
#define DAY 86400LL

static struct sc_owner member(int64_t id, const char *email)
{
    struct sc_owner o;
    memset(&o, 0, sizeof(o));
    o.party.type = SC_PARTY_MEMBER;
    o.party.id = id;
    snprintf(o.party.name, sizeof(o.party.name), "member %lld", (long long)id);
    snprintf(o.email, sizeof(o.email), "%s", email);
    return o;
}

static struct sc_owner customer(int64_t id, const char *vid, const char *email, const char *phone,
                                struct sc_party referrer)
{
    struct sc_owner o;
    memset(&o, 0, sizeof(o));
    o.party.type = SC_PARTY_CUSTOMER;
    o.party.id = id;
    snprintf(o.vid, sizeof(o.vid), "%s", vid);
    snprintf(o.email, sizeof(o.email), "%s", email);
    snprintf(o.phone, sizeof(o.phone), "%s", phone);
    o.referrer = referrer;
    return o;
}

static struct sc_touch touch(int64_t event, int64_t ts, struct sc_owner owner)
{
    struct sc_touch t = {event, ts, event * 10, owner};
    return t;
}

static struct sc_referral_config cfg(bool first)
{
    struct sc_referral_config c;
    sc_referral_config_defaults(&c);
    c.first_touch = first;
    return c;
}

static const struct sc_signer signer = {"c:signer", "new@example.com", "+8613800000000"};

static void test_window_edges(void **state)
{
    struct sc_referral_config c = cfg(false);
    struct sc_owner a = member(1, "a@example.com"), card = member(9, "card@example.com");
    static const struct {
        int64_t age;
        enum sc_rule rule;
        int64_t level1;
    } t[] = {
        {0, SC_RULE_LAST_TOUCH, 1},
        {30 * DAY, SC_RULE_LAST_TOUCH, 1},     /* exactly at the edge: inside */
        {30 * DAY + 1, SC_RULE_CARD_OWNER, 9}, /* one second past it: outside */
        {-1, SC_RULE_CARD_OWNER, 9},           /* in the future: not a touch yet */
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct sc_touch tt = touch(1, NOW - t[i].age, a);
        struct sc_attr_decision d;
        sc_attr_decide(&c, NOW, &signer, &tt, 1, &card, &d);
        assert_int_equal(d.rule, t[i].rule);
        assert_int_equal(d.level1.id, t[i].level1);
        assert_int_equal(d.level1.type, SC_PARTY_MEMBER);
        assert_false(d.self_referral_ignored);
    }
}

static void test_first_and_last_touch(void **state)
{
    struct sc_owner a = member(1, ""), b = member(2, ""), card = member(9, "");
    struct sc_touch ts[] = {touch(3, NOW - 5 * DAY, b), touch(1, NOW - 20 * DAY, a),
                            touch(2, NOW - 10 * DAY, b), touch(4, NOW - 40 * DAY, card)};
    struct sc_attr_decision d;
    struct sc_referral_config last = cfg(false), first = cfg(true);
    sc_attr_decide(&last, NOW, &signer, ts, 4, &card, &d);
    assert_int_equal(d.rule, SC_RULE_LAST_TOUCH);
    assert_int_equal(d.level1.id, 2);
    assert_int_equal(d.touch->event_id, 3);
    sc_attr_decide(&first, NOW, &signer, ts, 4, &card, &d);
    assert_int_equal(d.rule, SC_RULE_FIRST_TOUCH);
    assert_int_equal(d.level1.id, 1); /* the 40-day-old touch is outside the window */
    assert_int_equal(d.touch->event_id, 1);
    assert_string_equal(sc_rule_name(d.rule), "first_touch");
    /* Same second: the later event wins for last touch. */
    struct sc_touch tie[] = {touch(7, NOW - 1, a), touch(8, NOW - 1, b)};
    sc_attr_decide(&last, NOW, &signer, tie, 2, &card, &d);
    assert_int_equal(d.level1.id, 2);
}

static void test_card_owner_fallback(void **state)
{
    struct sc_referral_config c = cfg(false);
    struct sc_owner card = member(9, "card@example.com");
    struct sc_attr_decision d;
    sc_attr_decide(&c, NOW, &signer, NULL, 0, &card, &d);
    assert_int_equal(d.rule, SC_RULE_CARD_OWNER);
    assert_null(d.touch);
    assert_int_equal(d.level1.type, SC_PARTY_MEMBER);
    assert_int_equal(d.level1.id, 9);
    assert_int_equal(d.level2.type, SC_PARTY_NONE);
    assert_string_equal(sc_rule_name(d.rule), "card_owner");
}

static void test_own_link_ignored_by_each_key(void **state)
{
    struct sc_referral_config c = cfg(false);
    struct sc_party none = {0};
    struct sc_owner card = member(9, "card@example.com"), other = member(5, "");
    struct sc_owner mine[] = {
        customer(20, "c:signer", "x@example.com", "+8613811111111", none), /* by visitor */
        customer(21, "c:zzz", "new@example.com", "+8613811111111", none),  /* by email */
        customer(22, "c:zzz", "y@example.com", "+8613800000000", none),    /* by phone */
        member(23, "new@example.com"),                                     /* a member, by email */
    };
    for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++) {
        /* Own link last, another's before it: the other's wins, with a note. */
        struct sc_touch ts[] = {touch(1, NOW - 3 * DAY, other), touch(2, NOW - DAY, mine[i])};
        struct sc_attr_decision d;
        sc_attr_decide(&c, NOW, &signer, ts, 2, &card, &d);
        assert_true(d.self_referral_ignored);
        assert_int_equal(d.rule, SC_RULE_LAST_TOUCH);
        assert_int_equal(d.level1.id, 5);
        /* Only their own link: as if there were no touch at all. */
        sc_attr_decide(&c, NOW, &signer, &ts[1], 1, &card, &d);
        assert_true(d.self_referral_ignored);
        assert_int_equal(d.rule, SC_RULE_CARD_OWNER);
        assert_int_equal(d.level1.id, 9);
    }
    /* Signing up on one's own card credits nobody. */
    struct sc_owner own_card = member(9, "new@example.com");
    struct sc_attr_decision d;
    sc_attr_decide(&c, NOW, &signer, NULL, 0, &own_card, &d);
    assert_true(d.self_referral_ignored);
    assert_int_equal(d.level1.type, SC_PARTY_NONE);
}

static void test_level_two_only_through_customers(void **state)
{
    struct sc_referral_config c = cfg(false);
    struct sc_owner a = member(1, "a@example.com"), card = member(1, "a@example.com");
    struct sc_owner b = customer(2, "c:b", "b@example.com", "", a.party);
    struct sc_attr_decision d;
    /* member A -> customer B -> C: B at level 1, A at level 2. */
    struct sc_touch tb = touch(1, NOW - 60, b);
    sc_attr_decide(&c, NOW, &signer, &tb, 1, &card, &d);
    assert_int_equal(d.level1.type, SC_PARTY_CUSTOMER);
    assert_int_equal(d.level1.id, 2);
    assert_int_equal(d.level2.type, SC_PARTY_MEMBER);
    assert_int_equal(d.level2.id, 1);
    /* A member's link: no level 2. */
    struct sc_touch ta = touch(2, NOW - 60, a);
    sc_attr_decide(&c, NOW, &signer, &ta, 1, &card, &d);
    assert_int_equal(d.level1.type, SC_PARTY_MEMBER);
    assert_int_equal(d.level2.type, SC_PARTY_NONE);
}

static void test_normalisation(void **state)
{
    static const struct {
        const char *in, *out;
    } emails[] = {{"  Ada@Example.COM ", "ada@example.com"}, {"a.b+c@x.co", "a.b+c@x.co"}};
    static const char *const bad_emails[] = {"",     "no-at",    "@x.com",  "a@",       "a@b",
                                             "a@b.", "a b@c.de", "a@@b.cd", "<a@b.cd>", "a@.b.cd"};
    char out[255];
    const char *why;
    for (size_t i = 0; i < sizeof(emails) / sizeof(emails[0]); i++) {
        assert_int_equal(sc_email_normalise(emails[i].in, out, &why), SC_OK);
        assert_string_equal(out, emails[i].out);
    }
    for (size_t i = 0; i < sizeof(bad_emails) / sizeof(bad_emails[0]); i++) {
        assert_int_equal(sc_email_normalise(bad_emails[i], out, &why), SC_EINVAL);
        assert_string_equal(why, "email_invalid");
    }
    static const struct {
        const char *in, *country, *out;
    } phones[] = {
        {"138 0013 8000", "86", "+8613800138000"},    {"+86 138-0013-8000", "86", "+8613800138000"},
        {"0086 13800138000", "86", "+8613800138000"}, {"(020) 7946 0000", "44", "+442079460000"},
        {"+1 (415) 555-2671", "86", "+14155552671"},
    };
    static const char *const bad_phones[] = {"12345",   "138001380001", "+86 12345678",
                                             "call me", "+0123456789",  "1+2"};
    char ph[SC_PHONE_MAX + 1];
    for (size_t i = 0; i < sizeof(phones) / sizeof(phones[0]); i++) {
        assert_int_equal(sc_phone_normalise(phones[i].in, phones[i].country, ph, &why), SC_OK);
        assert_string_equal(ph, phones[i].out);
    }
    for (size_t i = 0; i < sizeof(bad_phones) / sizeof(bad_phones[0]); i++)
        assert_int_equal(sc_phone_normalise(bad_phones[i], "86", ph, &why), SC_EINVAL);
    assert_true(sc_email_disposable("x@mailinator.com"));
    assert_true(sc_email_disposable("x@eu.mailinator.com"));
    assert_false(sc_email_disposable("x@notmailinator.com"));
    assert_false(sc_email_disposable("x@example.com"));
}

static void test_commission_rounding(void **state)
{
    static const struct {
        int64_t cents;
        int bp;
        int64_t want;
    } t[] = {
        {10000, 1000, 1000}, /* 10 % of 100.00 = 10.00 */
        {999, 1000, 100},    /* 99.9 cents rounds half up to 100 */
        {994, 1000, 99},     /* 99.4 rounds down */
        {995, 1000, 100},    /* 99.5 rounds up */
        {1, 500, 0},         /* 0.05 cent */
        {10, 500, 1},        /* 0.5 cent rounds up */
        {0, 1000, 0},
        {-500, 1000, 0}, /* refunds earn no commission */
        {123456789, 250, 3086420},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        assert_int_equal(sc_commission(t[i].cents, t[i].bp), t[i].want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_edges),
        cmocka_unit_test(test_first_and_last_touch),
        cmocka_unit_test(test_card_owner_fallback),
        cmocka_unit_test(test_own_link_ignored_by_each_key),
        cmocka_unit_test(test_level_two_only_through_customers),
        cmocka_unit_test(test_normalisation),
        cmocka_unit_test(test_commission_rounding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
