/*
 * test_retention.c — the retention report (intel/retention.c) on cases
 * computed by hand: the active window's two ends, a customer active through
 * the sign-up alone, orders of amount 0, N counting only sign-ups after
 * 'from', CRR/churn/NDR and their null cases, cohorts and the monthly CRR;
 * the one-pass counting against the definition applied customer by customer,
 * with the rows in the caller's sorted order and shuffled; the calendar
 * helpers; NPS.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sharecard/customers.h"

static void test_civil(void **state)
{
    (void)state;
    assert_int_equal(sc_ret_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(sc_ret_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(sc_ret_days_from_civil(2024, 2, 29), 19782);
    assert_int_equal(sc_ret_days_from_civil(1969, 12, 31), -1);
    int y, m, d;
    sc_ret_civil_from_days(19782, &y, &m, &d);
    assert_true(y == 2024 && m == 2 && d == 29);
    /* every day from 1700 to 2300 round-trips, consecutively */
    int32_t lo = sc_ret_days_from_civil(1700, 1, 1), hi = sc_ret_days_from_civil(2300, 1, 1);
    int py = 1699, pm = 12, pd = 31;
    for (int32_t day = lo; day < hi; day++) {
        sc_ret_civil_from_days(day, &y, &m, &d);
        assert_int_equal(sc_ret_days_from_civil(y, m, d), day);
        bool next_day = y == py && m == pm && d == pd + 1;
        bool next_month = y == py && m == pm + 1 && d == 1;
        bool next_year = y == py + 1 && m == 1 && d == 1 && pm == 12;
        assert_true(next_day || next_month || next_year);
        py = y;
        pm = m;
        pd = d;
    }
}

/*
 * A = 10, period [100, 119] (n = 20):
 *   c1 signed up 95, no orders: active on 100 through the sign-up alone; not on 119
 *   c2 signed up 50, orders 91 (amount 0) and 119 (500): active on 100 (91 is
 *      the window's first day) and on 119 (its last): retained
 *   c3 signed up 50, orders 90 and 110 (300): 90 is just outside 100's
 *      window; active on 119 (110 is its first day); not new
 *   c4 signed up on 100 itself: in S, not new, not active on 119
 *   c5 signed up 101, order 115: new
 *   c6 signed up 119: new
 *   c7 signed up 120: after the period, nowhere
 *   c8 signed up 60, orders 80 (1000) and 95 (200): in S, gone by 119
 *   c10 signed up 102, no orders: after 'from' but not active on 119, not new
 *   c11 signed up on 100 itself, order 112 (40): active on both days, retained,
 *      not new (N counts sign-ups after 'from')
 * S = {c1, c2, c4, c8, c11}, E = {c2, c3, c5, c6, c11}, N = {c5, c6},
 * retained = {c2, c11}: CRR = (5 − 2)/5, churn = 3/5,
 * NDR = (500 + 40) / (0 + 1000 + 200) (days 80…99).
 */
static const struct sc_cust cs[] = {
    {1, 95, "north", 1},  {2, 50, "north", 1},  {3, 50, "south", 2},  {4, 100, "north", 1},
    {5, 101, "south", 2}, {6, 119, "north", 1}, {7, 120, "north", 1}, {8, 60, "south", 2},
    {10, 102, NULL, 0},   {11, 100, "east", 3},
};
static const struct sc_cust_order os[] = {
    {2, 91, 0},    {2, 119, 500}, {3, 90, 7000}, {3, 110, 300},
    {5, 115, 50},  {8, 80, 1000}, {8, 95, 200},  {99, 100, 5}, /* an unknown customer's: ignored */
    {11, 112, 40},
};

static void test_period_by_hand(void **state)
{
    (void)state;
    struct sc_ret_opts opts = {.active_days = 10};
    struct sc_ret_report r;
    assert_int_equal(sc_ret_compute(cs, 10, os, 9, 100, 119, &opts, &r), SC_OK);
    assert_int_equal(r.customers_start, 5);
    assert_int_equal(r.customers_end, 5);
    assert_int_equal(r.new_customers, 2);
    assert_int_equal(r.retained, 2);
    assert_true(r.has_crr && r.has_churn && r.has_ndr);
    assert_true(fabs(r.crr - 0.6) < 1e-12);
    assert_true(fabs(r.churn_rate - 0.6) < 1e-12);
    assert_int_equal(r.revenue_period, 540);
    assert_int_equal(r.revenue_before, 1200);
    assert_true(fabs(r.ndr - 540.0 / 1200.0) < 1e-12);
    sc_ret_report_cleanup(&r);
    assert_null(r.cohorts);

    /* filtered by team, then by member: team south is c3, c5, c8 */
    opts.team = "south";
    assert_int_equal(sc_ret_compute(cs, 10, os, 9, 100, 119, &opts, &r), SC_OK);
    assert_int_equal(r.customers_start, 1); /* c8 */
    assert_int_equal(r.customers_end, 2);   /* c3, c5 */
    assert_int_equal(r.new_customers, 1);   /* c5 */
    assert_int_equal(r.retained, 0);
    assert_true(fabs(r.crr - 1.0) < 1e-12);
    assert_true(fabs(r.churn_rate - 1.0) < 1e-12);
    assert_true(r.has_ndr && r.ndr == 0); /* c8 spent 1200 before and nothing since */
    sc_ret_report_cleanup(&r);
    opts.team = NULL;
    opts.member = 1;
    assert_int_equal(sc_ret_compute(cs, 10, os, 9, 100, 119, &opts, &r), SC_OK);
    assert_int_equal(r.customers_start, 3); /* c1, c2, c4 */
    assert_int_equal(r.customers_end, 2);   /* c2, c6 */
    assert_int_equal(r.new_customers, 1);   /* c6 */
    assert_false(r.has_ndr);                /* S spent 0 before: c2's order of amount 0 */
    sc_ret_report_cleanup(&r);
}

/* Per member in one pass: each group is sc_ret_compute's report for that member, and a
 * team's sum of its members' is the report for that team. */
static void test_by_member(void **state)
{
    (void)state;
    struct sc_ret_opts opts = {.active_days = 10};
    struct sc_ret_group *g;
    size_t n;
    assert_int_equal(sc_ret_by_member(cs, 10, os, 9, 100, 119, &opts, &g, &n), SC_OK);
    assert_int_equal(n, 4); /* members 0 (c10, credited to nobody), 1, 2, 3 */
    struct sc_ret_report sum;
    memset(&sum, 0, sizeof(sum));
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(g[i].member, (int64_t)i);
        sc_ret_report_add(&sum, &g[i].r);
        if (g[i].member == 0) { /* c10: signed up on 102, no orders, out of the window on 119 */
            assert_int_equal(g[i].r.customers_start + g[i].r.customers_end + g[i].r.new_customers,
                             0);
            assert_false(g[i].r.has_crr);
            continue;
        }
        struct sc_ret_opts one = {.active_days = 10, .member = g[i].member};
        struct sc_ret_report r;
        assert_int_equal(sc_ret_compute(cs, 10, os, 9, 100, 119, &one, &r), SC_OK);
        assert_int_equal(g[i].r.customers_start, r.customers_start);
        assert_int_equal(g[i].r.customers_end, r.customers_end);
        assert_int_equal(g[i].r.new_customers, r.new_customers);
        assert_int_equal(g[i].r.retained, r.retained);
        assert_int_equal(g[i].r.revenue_period, r.revenue_period);
        assert_int_equal(g[i].r.revenue_before, r.revenue_before);
        assert_true(g[i].r.has_crr == r.has_crr && g[i].r.has_ndr == r.has_ndr);
        assert_true(fabs(g[i].r.crr - r.crr) < 1e-12 && fabs(g[i].r.ndr - r.ndr) < 1e-12);
        assert_true(fabs(g[i].r.churn_rate - r.churn_rate) < 1e-12);
        sc_ret_report_cleanup(&r);
    }
    /* member 2 is team south: c3, c5, c8 (test_period_by_hand) */
    assert_string_equal(g[2].team, "south");
    assert_int_equal(g[2].r.customers_start, 1);
    assert_int_equal(g[2].r.customers_end, 2);
    /* every member's together is the whole company's report */
    struct sc_ret_report all;
    assert_int_equal(sc_ret_compute(cs, 10, os, 9, 100, 119, &opts, &all), SC_OK);
    assert_int_equal(sum.customers_start, all.customers_start);
    assert_int_equal(sum.customers_end, all.customers_end);
    assert_int_equal(sum.new_customers, all.new_customers);
    assert_int_equal(sum.retained, all.retained);
    assert_true(fabs(sum.crr - all.crr) < 1e-12 && fabs(sum.ndr - all.ndr) < 1e-12);
    sc_ret_report_cleanup(&all);
    free(g);
    /* a scope: team north alone is member 1's customers */
    opts.team = "north";
    assert_int_equal(sc_ret_by_member(cs, 10, os, 9, 100, 119, &opts, &g, &n), SC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(g[0].member, 1);
    free(g);
    assert_int_equal(sc_ret_by_member(cs, 10, os, 9, 100, 99, &opts, &g, &n), SC_EINVAL);
}

/* One customer, A = 10: the window of d is d − 9 … d, both ends included. */
static bool active(int32_t signup, int32_t order_day, int32_t d)
{
    struct sc_cust c = {1, signup, NULL, 0};
    struct sc_cust_order o = {1, order_day, 0};
    struct sc_ret_opts opts = {.active_days = 10};
    struct sc_ret_report r;
    assert_int_equal(sc_ret_compute(&c, 1, &o, order_day >= 0 ? 1 : 0, d, d, &opts, &r), SC_OK);
    bool a = r.customers_start == 1;
    assert_int_equal(r.customers_end, r.customers_start);
    sc_ret_report_cleanup(&r);
    return a;
}

static void test_window_ends(void **state)
{
    (void)state;
    assert_true(active(91, -1, 100));   /* sign-up on the first day of the window */
    assert_false(active(90, -1, 100));  /* one day before it */
    assert_true(active(100, -1, 100));  /* sign-up on d */
    assert_false(active(101, -1, 100)); /* not yet signed up */
    assert_true(active(10, 91, 100));   /* an order of amount 0 on the first day */
    assert_true(active(10, 100, 100));  /* an order on d */
    assert_false(active(10, 90, 100));
    assert_false(active(10, 101, 100));
}

static void test_default_window_and_nulls(void **state)
{
    (void)state;
    struct sc_cust c = {1, 1000, NULL, 0};
    struct sc_ret_report r;
    /* default A = 90: signed up on 1000, still active on 1089, not on 1090 */
    assert_int_equal(sc_ret_compute(&c, 1, NULL, 0, 1089, 1090, NULL, &r), SC_OK);
    assert_int_equal(r.customers_start, 1);
    assert_int_equal(r.customers_end, 0);
    assert_true(r.has_churn && r.churn_rate == 1.0);
    assert_false(r.has_ndr); /* no revenue before */
    sc_ret_report_cleanup(&r);
    /* no customers at all: every ratio is null */
    assert_int_equal(sc_ret_compute(NULL, 0, NULL, 0, 1, 30, NULL, &r), SC_OK);
    assert_false(r.has_crr);
    assert_false(r.has_churn);
    assert_false(r.has_ndr);
    assert_int_equal(r.ncohorts, 0);
    assert_int_equal(r.ntrend, 1);
    assert_false(r.trend[0].has_crr);
    sc_ret_report_cleanup(&r);
    /* bad input */
    assert_int_equal(sc_ret_compute(&c, 1, NULL, 0, 10, 9, NULL, &r), SC_EINVAL);
    struct sc_cust twice[2] = {{1, 5, NULL, 0}, {1, 6, NULL, 0}};
    assert_int_equal(sc_ret_compute(twice, 2, NULL, 0, 1, 9, NULL, &r), SC_EINVAL);
    struct sc_ret_opts neg = {.active_days = -1};
    assert_int_equal(sc_ret_compute(&c, 1, NULL, 0, 1, 9, &neg, &r), SC_EINVAL);
}

#define D(y, m, d) sc_ret_days_from_civil(y, m, d)

/*
 * Period 2024-01-01 … 2024-03-31, A = 90.
 *   a: signed up 2023-10-10 (active on Jan 1 only through its sign-up)
 *   b: 2024-01-05, orders Feb 10, Feb 20, Mar 1
 *   c: 2024-01-20, orders Jan 25 (its own month: not a later one), Mar 15
 *   d: 2024-02-02, an order in April (after the period)
 *   e: 2024-02-28, order Mar 1
 * Cohorts: Jan {b, c}: Feb 1/2, Mar 2/2; Feb {d, e}: Mar 1/2; no Mar cohort.
 * CRR by month: Jan S {a} E {b, c} N {b, c} → 0; Feb S {b, c} E {b, c, d, e}
 * N {d, e} → 1; Mar S {b, c, d, e} E the same, N none → 1.
 */
static void test_cohorts_and_trend(void **state)
{
    (void)state;
    const struct sc_cust c[] = {
        {1, D(2023, 10, 10), NULL, 0}, {2, D(2024, 1, 5), NULL, 0},  {3, D(2024, 1, 20), NULL, 0},
        {4, D(2024, 2, 2), NULL, 0},   {5, D(2024, 2, 28), NULL, 0},
    };
    const struct sc_cust_order o[] = {
        {2, D(2024, 2, 10), 100}, {2, D(2024, 2, 20), 100}, {2, D(2024, 3, 1), 100},
        {3, D(2024, 1, 25), 100}, {3, D(2024, 3, 15), 100}, {4, D(2024, 4, 2), 100},
        {5, D(2024, 3, 1), 100},
    };
    struct sc_ret_report r;
    assert_int_equal(sc_ret_compute(c, 5, o, 7, D(2024, 1, 1), D(2024, 3, 31), NULL, &r), SC_OK);
    assert_int_equal(r.ncohorts, 2);
    assert_true(r.cohorts[0].year == 2024 && r.cohorts[0].month == 1);
    assert_int_equal(r.cohorts[0].customers, 2);
    assert_int_equal(r.cohorts[0].nretention, 2);
    assert_true(r.cohorts[0].retention[0] == 0.5);
    assert_true(r.cohorts[0].retention[1] == 1.0);
    assert_true(r.cohorts[1].year == 2024 && r.cohorts[1].month == 2);
    assert_int_equal(r.cohorts[1].customers, 2);
    assert_int_equal(r.cohorts[1].nretention, 1);
    assert_true(r.cohorts[1].retention[0] == 0.5);
    assert_int_equal(r.ntrend, 3);
    assert_true(r.trend[0].month == 1 && r.trend[0].has_crr && r.trend[0].crr == 0);
    assert_true(r.trend[1].month == 2 && r.trend[1].has_crr && r.trend[1].crr == 1);
    assert_true(r.trend[2].month == 3 && r.trend[2].has_crr && r.trend[2].crr == 1);
    /* the whole quarter: S {a}, E {b, c, d, e}, N the same → CRR 0, churn 1 */
    assert_int_equal(r.customers_start, 1);
    assert_int_equal(r.customers_end, 4);
    assert_int_equal(r.new_customers, 4);
    assert_true(r.crr == 0 && r.churn_rate == 1);
    sc_ret_report_cleanup(&r);
    /* a period across a year end has its months in order */
    assert_int_equal(sc_ret_compute(c, 5, o, 7, D(2023, 11, 15), D(2024, 2, 1), NULL, &r), SC_OK);
    assert_int_equal(r.ntrend, 4);
    assert_true(r.trend[1].year == 2023 && r.trend[1].month == 12);
    assert_true(r.trend[2].year == 2024 && r.trend[2].month == 1);
    assert_int_equal(r.ncohorts, 2); /* Jan and Feb 2024; October is before the period */
    assert_int_equal(r.cohorts[0].nretention, 1);
    sc_ret_report_cleanup(&r);
}

/* ---- The one-pass counts against the definition, sorted and shuffled input ---- */

static uint32_t lcg(uint32_t *st)
{
    *st = *st * 1664525u + 1013904223u;
    return *st >> 8;
}

/* DESIGN §6 applied literally: signed up or ordered in [d − A + 1, d]. */
static bool active_ref(const struct sc_cust *c, const struct sc_cust_order *o, size_t no, int A,
                       int32_t d)
{
    if (c->signup_day > d - A && c->signup_day <= d)
        return true;
    for (size_t k = 0; k < no; k++)
        if (o[k].customer_id == c->id && o[k].day > d - A && o[k].day <= d)
            return true;
    return false;
}

/* S, E, N, retained of [from, to] by the definition. */
static void period_ref(const struct sc_cust *c, size_t nc, const struct sc_cust_order *o, size_t no,
                       int A, int32_t from, int32_t to, int64_t out[4])
{
    memset(out, 0, 4 * sizeof(*out));
    for (size_t i = 0; i < nc; i++) {
        bool s = active_ref(&c[i], o, no, A, from), e = active_ref(&c[i], o, no, A, to);
        out[0] += s;
        out[1] += e;
        out[2] += e && c[i].signup_day > from && c[i].signup_day <= to;
        out[3] += s && e;
    }
}

static void check_against_ref(const struct sc_cust *c, size_t nc, const struct sc_cust_order *o,
                              size_t no, int A, int32_t from, int32_t to)
{
    struct sc_ret_opts opts = {.active_days = A};
    struct sc_ret_report r;
    int64_t want[4];
    assert_int_equal(sc_ret_compute(c, nc, o, no, from, to, &opts, &r), SC_OK);
    period_ref(c, nc, o, no, A, from, to, want);
    assert_int_equal(r.customers_start, want[0]);
    assert_int_equal(r.customers_end, want[1]);
    assert_int_equal(r.new_customers, want[2]);
    assert_int_equal(r.retained, want[3]);
    assert_true(r.ntrend >= 12);
    for (size_t m = 0; m < r.ntrend; m++) {
        int32_t a = D(r.trend[m].year, r.trend[m].month, 1);
        int32_t b = (r.trend[m].month == 12 ? D(r.trend[m].year + 1, 1, 1)
                                            : D(r.trend[m].year, r.trend[m].month + 1, 1)) -
                    1;
        period_ref(c, nc, o, no, A, a > from ? a : from, b < to ? b : to, want);
        assert_int_equal(r.trend[m].has_crr, want[0] > 0);
        if (want[0] > 0)
            assert_true(fabs(r.trend[m].crr - (double)(want[1] - want[2]) / (double)want[0]) <
                        1e-12);
    }
    sc_ret_report_cleanup(&r);
}

static void test_one_pass_matches_definition(void **state)
{
    (void)state;
    enum { NC = 300, NO = 2500 };
    struct sc_cust *c = malloc(NC * sizeof(*c));
    struct sc_cust_order *o = malloc(NO * sizeof(*o));
    assert_non_null(c);
    assert_non_null(o);
    uint32_t st = 14;
    int32_t base = D(2024, 1, 1);
    for (size_t i = 0; i < NC; i++)
        c[i] = (struct sc_cust){(int64_t)i * 3 + 1, base + (int32_t)(lcg(&st) % 730), NULL, 0};
    for (size_t k = 0; k < NO; k++) { /* sorted by customer and day, as the server keeps them */
        size_t i = k * NC / NO;
        int32_t prev = k > 0 && o[k - 1].customer_id == c[i].id ? o[k - 1].day : c[i].signup_day;
        o[k] = (struct sc_cust_order){c[i].id, prev + (int32_t)(lcg(&st) % 60), 100};
    }
    int32_t from = base + 200, to = base + 564; /* a year across a year end */
    check_against_ref(c, NC, o, NO, 30, from, to);
    check_against_ref(c, NC, o, NO, 90, from, to);
    /* shuffled customers and orders: the copy-and-sort path, the same counts */
    for (size_t i = NC - 1; i > 0; i--) {
        size_t j = lcg(&st) % (i + 1);
        struct sc_cust t = c[i];
        c[i] = c[j];
        c[j] = t;
    }
    for (size_t k = NO - 1; k > 0; k--) {
        size_t j = lcg(&st) % (k + 1);
        struct sc_cust_order t = o[k];
        o[k] = o[j];
        o[j] = t;
    }
    check_against_ref(c, NC, o, NO, 30, from, to);
    check_against_ref(c, NC, o, NO, 90, from, to);
    free(c);
    free(o);
}

static void test_nps(void **state)
{
    (void)state;
    double nps;
    bool defined;
    const int a[] = {10, 9, 8, 7, 6, 0};
    assert_int_equal(sc_ret_nps(a, 6, &nps, &defined), SC_OK);
    assert_true(defined && nps == 0);
    const int b[] = {10, 10, 9, 5};
    assert_int_equal(sc_ret_nps(b, 4, &nps, &defined), SC_OK);
    assert_true(defined && nps == 50);
    const int c[] = {6, 7, 8};
    assert_int_equal(sc_ret_nps(c, 3, &nps, &defined), SC_OK);
    assert_true(defined && fabs(nps - -100.0 / 3) < 1e-12);
    assert_int_equal(sc_ret_nps(NULL, 0, &nps, &defined), SC_OK);
    assert_false(defined);
    const int bad[] = {10, 11};
    assert_int_equal(sc_ret_nps(bad, 2, &nps, &defined), SC_EINVAL);
    const int neg[] = {-1};
    assert_int_equal(sc_ret_nps(neg, 1, &nps, &defined), SC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil),
        cmocka_unit_test(test_period_by_hand),
        cmocka_unit_test(test_by_member),
        cmocka_unit_test(test_window_ends),
        cmocka_unit_test(test_default_window_and_nulls),
        cmocka_unit_test(test_cohorts_and_trend),
        cmocka_unit_test(test_one_pass_matches_definition),
        cmocka_unit_test(test_nps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
