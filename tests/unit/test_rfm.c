/*
 * test_rfm.c — RFM scores and segments (intel/rfm.c) on a hand-made set,
 * quintiles with ties whatever the input order, the recency × frequency map,
 * per-segment totals; and the loyalty tier list (intel/tiers.c): parsing,
 * its errors, and the tier a balance reaches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sharecard/customers.h"

/*
 * now = 100; five customers, so a score is 1 + (customers strictly worse):
 *   c1 orders 99 (100), 98 (50), 90 (10)   R 1  F 3  M 160 → r4 f4 m4 loyal
 *   c2 order 100 (20)                      R 0  F 1  M 20  → r5 f1 m2 new
 *   c3 orders 50 (30), 50 (30), 60 (40)    R 40 F 2  M 100 → r3 f3 m3 need attention
 *   c4 orders 10, 20, 30, 40 (100 each)    R 60 F 4  M 400 → r2 f5 m5 can't lose
 *   c5 order 5 (amount 0)                  R 95 F 1  M 0   → r1 f1 m1 hibernating
 *   c6 order 101: after 'now', not a customer with orders yet
 * F ties: c2 and c5 (1 order day) both score 1; c3 has 2 below it → 3.
 */
static const struct sc_cust_order orders[] = {
    {1, 99, 100}, {4, 10, 100}, {2, 100, 20}, {3, 50, 30},  {1, 98, 50}, {3, 50, 30},  {4, 20, 100},
    {3, 60, 40},  {4, 30, 100}, {5, 5, 0},    {4, 40, 100}, {1, 90, 10}, {6, 101, 70},
};

static void check_hand_set(const struct sc_rfm_row *r, size_t n)
{
    assert_int_equal(n, 5);
    const struct {
        int64_t id;
        int rec, freq;
        int64_t mon;
        int r, f, m;
        enum sc_rfm_segment seg;
    } want[] = {
        {1, 1, 3, 160, 4, 4, 4, SC_RFM_LOYAL},           {2, 0, 1, 20, 5, 1, 2, SC_RFM_NEW},
        {3, 40, 2, 100, 3, 3, 3, SC_RFM_NEED_ATTENTION}, {4, 60, 4, 400, 2, 5, 5, SC_RFM_CANT_LOSE},
        {5, 95, 1, 0, 1, 1, 1, SC_RFM_HIBERNATING},
    };
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(r[i].customer_id, want[i].id);
        assert_int_equal(r[i].recency, want[i].rec);
        assert_int_equal(r[i].frequency, want[i].freq);
        assert_int_equal(r[i].monetary, want[i].mon);
        assert_int_equal(r[i].r, want[i].r);
        assert_int_equal(r[i].f, want[i].f);
        assert_int_equal(r[i].m, want[i].m);
        assert_int_equal(r[i].segment, want[i].seg);
    }
}

static void test_hand_set(void **state)
{
    (void)state;
    struct sc_rfm_row *r;
    size_t n;
    size_t no = sizeof(orders) / sizeof(orders[0]);
    assert_int_equal(sc_rfm_compute(orders, no, 100, &r, &n), SC_OK);
    check_hand_set(r, n);

    struct sc_rfm_segment_stat st[SC_RFM_NSEGMENTS];
    sc_rfm_summarise(r, n, st);
    assert_int_equal(st[SC_RFM_LOYAL].customers, 1);
    assert_int_equal(st[SC_RFM_LOYAL].revenue, 160);
    assert_int_equal(st[SC_RFM_CANT_LOSE].revenue, 400);
    assert_int_equal(st[SC_RFM_HIBERNATING].customers, 1);
    assert_int_equal(st[SC_RFM_CHAMPIONS].customers, 0);
    sc_rfm_free(r);

    /* the same rows in the reverse order: the same scores */
    struct sc_cust_order rev[sizeof(orders) / sizeof(orders[0])];
    for (size_t i = 0; i < no; i++)
        rev[i] = orders[no - 1 - i];
    assert_int_equal(sc_rfm_compute(rev, no, 100, &r, &n), SC_OK);
    check_hand_set(r, n);
    sc_rfm_free(r);

    assert_int_equal(sc_rfm_compute(orders, no, 4, &r, &n), SC_OK); /* nothing yet */
    assert_int_equal(n, 0);
    assert_null(r);
    sc_rfm_free(NULL);
}

/* Ten distinct revenues score 1,1,2,2,…,5,5; ties share the lower score. */
static void test_quintiles(void **state)
{
    (void)state;
    struct sc_cust_order o[10];
    for (int i = 0; i < 10; i++)
        o[i] = (struct sc_cust_order){(i * 7) % 10 + 1, 50, ((i * 7) % 10 + 1) * 100};
    struct sc_rfm_row *r;
    size_t n;
    assert_int_equal(sc_rfm_compute(o, 10, 60, &r, &n), SC_OK);
    assert_int_equal(n, 10);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(r[i].customer_id, (int64_t)i + 1);
        assert_int_equal(r[i].m, 1 + (int)i / 2);
        assert_int_equal(r[i].r, 1); /* all ordered the same day: one tie */
        assert_int_equal(r[i].f, 1);
    }
    sc_rfm_free(r);
    /* customers 4 and 5 tie on revenue: both take 4's score (3 below them) */
    o[0] = (struct sc_cust_order){1, 50, 100};
    for (int i = 1; i < 10; i++)
        o[i] = (struct sc_cust_order){i + 1, 50, (i + 1 == 5 ? 4 : i + 1) * 100};
    assert_int_equal(sc_rfm_compute(o, 10, 60, &r, &n), SC_OK);
    assert_int_equal(r[3].m, 2);
    assert_int_equal(r[4].m, 2);
    assert_int_equal(r[5].m, 3);
    sc_rfm_free(r);
}

static void test_segment_map(void **state)
{
    (void)state;
    assert_int_equal(sc_rfm_segment_of(5, 5), SC_RFM_CHAMPIONS);
    assert_int_equal(sc_rfm_segment_of(5, 4), SC_RFM_CHAMPIONS);
    assert_int_equal(sc_rfm_segment_of(3, 4), SC_RFM_LOYAL);
    assert_int_equal(sc_rfm_segment_of(4, 5), SC_RFM_LOYAL);
    assert_int_equal(sc_rfm_segment_of(5, 2), SC_RFM_POTENTIAL_LOYALIST);
    assert_int_equal(sc_rfm_segment_of(4, 3), SC_RFM_POTENTIAL_LOYALIST);
    assert_int_equal(sc_rfm_segment_of(5, 1), SC_RFM_NEW);
    assert_int_equal(sc_rfm_segment_of(4, 1), SC_RFM_PROMISING);
    assert_int_equal(sc_rfm_segment_of(3, 3), SC_RFM_NEED_ATTENTION);
    assert_int_equal(sc_rfm_segment_of(3, 2), SC_RFM_ABOUT_TO_SLEEP);
    assert_int_equal(sc_rfm_segment_of(2, 4), SC_RFM_AT_RISK);
    assert_int_equal(sc_rfm_segment_of(1, 3), SC_RFM_AT_RISK);
    assert_int_equal(sc_rfm_segment_of(1, 5), SC_RFM_CANT_LOSE);
    assert_int_equal(sc_rfm_segment_of(2, 2), SC_RFM_HIBERNATING);
    assert_int_equal(sc_rfm_segment_of(0, 9), SC_RFM_CANT_LOSE); /* clamped to (1, 5) */
    /* every segment is reachable and its name parses back */
    bool seen[SC_RFM_NSEGMENTS] = {0};
    for (int r = 1; r <= 5; r++)
        for (int f = 1; f <= 5; f++)
            seen[sc_rfm_segment_of(r, f)] = true;
    for (int s = 0; s < SC_RFM_NSEGMENTS; s++) {
        enum sc_rfm_segment back;
        assert_true(seen[s]);
        assert_true(sc_rfm_segment_parse(sc_rfm_segment_name((enum sc_rfm_segment)s), &back));
        assert_int_equal(back, s);
    }
    assert_string_equal(sc_rfm_segment_name(SC_RFM_CANT_LOSE), "can't lose");
    assert_string_equal(sc_rfm_segment_name(SC_RFM_POTENTIAL_LOYALIST), "potential loyalist");
    enum sc_rfm_segment x;
    assert_false(sc_rfm_segment_parse("Champions", &x));
    assert_false(sc_rfm_segment_parse(NULL, &x));
}

static void test_tiers_parse(void **state)
{
    (void)state;
    struct sc_tiers t;
    char err[160];
    assert_int_equal(sc_tier_parse("silver:1000,gold:5000", &t, err, sizeof(err)), SC_OK);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.tier[0].name, "silver");
    assert_true(t.tier[0].threshold == 1000);
    assert_string_equal(t.tier[1].name, "gold");
    assert_true(t.tier[1].threshold == 5000);
    assert_null(sc_tier_of(&t, 999.99));
    assert_string_equal(sc_tier_of(&t, 1000), "silver");
    assert_string_equal(sc_tier_of(&t, 4999), "silver");
    assert_string_equal(sc_tier_of(&t, 5000), "gold");
    assert_string_equal(sc_tier_of(&t, 1e9), "gold");

    assert_int_equal(sc_tier_parse("bronze:0,silver:99.5,gold_plus:100.25", &t, err, 160), SC_OK);
    assert_int_equal(t.n, 3);
    assert_true(t.tier[1].threshold == 99.5 && t.tier[2].threshold == 100.25);
    assert_string_equal(sc_tier_of(&t, 0), "bronze");
    assert_int_equal(sc_tier_parse("", &t, err, sizeof(err)), SC_OK);
    assert_int_equal(t.n, 0);
    assert_null(sc_tier_of(&t, 1e9));
    assert_int_equal(sc_tier_parse(NULL, &t, NULL, 0), SC_OK);
    /* names in Chinese, as the issue configures them */
    assert_int_equal(sc_tier_parse("普通:0,银卡:1000,金卡:5000", &t, err, sizeof(err)), SC_OK);
    assert_int_equal(t.n, 3);
    assert_string_equal(sc_tier_of(&t, 999), "普通");
    assert_string_equal(sc_tier_of(&t, 1200), "银卡");
    assert_string_equal(sc_tier_of(&t, 5000), "金卡");
}

static void test_tiers_errors(void **state)
{
    (void)state;
    const struct {
        const char *spec, *msg;
    } bad[] = {
        {"gold", "tier 1 (gold): ':' and a threshold expected"},
        {"gold:", "tier 1 (gold): threshold must be"},
        {"gold:-1", "tier 1 (gold): threshold must be"},
        {"gold:1e3", "tier 1 (gold): threshold must be"},
        {"gold: 1", "tier 1 (gold): threshold must be"},
        {"gold:1.", "tier 1 (gold): threshold must be"},
        {"gold:1.234", "tier 1 (gold): threshold must be"},
        {"gold:0x10", "tier 1 (gold): threshold must be"},
        {"silver:10,gold:5", "tier 2 (gold): thresholds must increase"},
        {"silver:10,gold:10", "tier 2 (gold): thresholds must increase"},
        {"a:1,a:2", "tier 2: name 'a' repeats"},
        {"Gold:1", "tier 1: a name of"},
        {" gold:1", "tier 1: a name of"},
        {"gold:1,", "trailing ','"},
        {"gold:1,,silver:2", "tier 2: a name of"},
        {"gold:10000000000000", "tier 1 (gold): threshold must be"},
        {"gold:1000000000001", "tier 1 (gold): threshold above 1e12"},
        {"abcdefghijabcdefghijabcdefghijabc:1", "tier 1: name longer than 32"},
        {"\xff\xfe:1", "tier 1: the name is not valid UTF-8"},
        {"\xe9\x93:1", "tier 1: the name is not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sc_tiers t;
        char err[160];
        assert_int_equal(sc_tier_parse(bad[i].spec, &t, err, sizeof(err)), SC_EINVAL);
        assert_int_equal(t.n, 0);
        if (strncmp(err, bad[i].msg, strlen(bad[i].msg)) != 0)
            fail_msg("'%s': got \"%s\", want \"%s…\"", bad[i].spec, err, bad[i].msg);
    }
    /* 16 tiers parse; a 17th is refused */
    char spec[400] = "", one[32];
    for (int i = 0; i < 17; i++) {
        snprintf(one, sizeof(one), "%st%d:%d", i ? "," : "", i, i * 10);
        strcat(spec, one);
        struct sc_tiers t;
        char err[160];
        enum sc_err e = sc_tier_parse(spec, &t, err, sizeof(err));
        assert_int_equal(e, i < 16 ? SC_OK : SC_EINVAL);
        if (i == 16)
            assert_string_equal(err, "more than 16 tiers");
    }
    struct sc_tiers t;
    assert_int_equal(sc_tier_parse("x", &t, NULL, 0), SC_EINVAL); /* no error buffer */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_set),     cmocka_unit_test(test_quintiles),
        cmocka_unit_test(test_segment_map),  cmocka_unit_test(test_tiers_parse),
        cmocka_unit_test(test_tiers_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
