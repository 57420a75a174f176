/*
 * test_rewards.c — the sign-up and purchase decisions of tracker/rewards.c,
 * straight from facts, as the store hands them over: each hold reason and
 * its precedence, the velocity threshold's edge, a self referral, level 2
 * through a customer, points per level, commissions by level and their
 * hold time.
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_hold),       cmocka_unit_test(test_disposable_email),
        cmocka_unit_test(test_same_network),  cmocka_unit_test(test_velocity),
        cmocka_unit_test(test_self_referral), cmocka_unit_test(test_level2_points),
        cmocka_unit_test(test_commissions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
