/*
 * retention.c — DESIGN.md §6's retention report over plain rows: who is
 * active on a day (sign-up or an order within the A days ending that day),
 * S, E, N and retained for a period, CRR, churn and NDR with a flag where a
 * denominator is 0, sign-up cohorts by calendar month, CRR month by month,
 * and NPS.  Also the calendar helpers (day number ↔ Y-M-D) the caller and
 * the cohorts share.
 *
 * Customers are sorted by id and each one's order days kept sorted, so
 * "active on d" is one binary search; a period costs O(customers · log
 * orders).
 */
#include <stdlib.h>
#include <string.h>

#include "sharecard/customers.h"

/* ---- Calendar: days since 1970-01-01 in the proleptic Gregorian calendar,
 * counted in 400-year eras of 146097 days that start on March 1st, so the
 * leap day is the last day of a year. */

int32_t sc_ret_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;                                   /* 0 … 399 */
    int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0 … 365 */
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0 … 146096 */
    return (int32_t)(era * 146097 + doe - 719468);
}

void sc_ret_civil_from_days(int32_t days, int *y, int *m, int *d)
{
    int32_t z = days + 719468;
    int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    int32_t doe = z - era * 146097;                                      /* 0 … 146096 */
    int32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0 … 399 */
    int32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0 … 365 */
    int32_t mp = (5 * doy + 2) / 153;                                    /* 0 … 11, from March */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Months as one counter: year × 12 + month − 1. */
static int month_of(int32_t day)
{
    int y, m, d;
    sc_ret_civil_from_days(day, &y, &m, &d);
    return y * 12 + m - 1;
}

static int32_t month_first_day(int mon)
{
    int y = mon >= 0 ? mon / 12 : (mon - 11) / 12;
    return sc_ret_days_from_civil(y, mon - y * 12 + 1, 1);
}

/* ---- The customers of a report, with their orders ---------------------- */

struct rcust {
    int64_t id;
    int32_t signup;
    size_t first, n; /* their orders in the sorted order array */
};

struct rset {
    struct rcust *c;
    size_t nc;
    struct sc_cust_order *o; /* sorted by customer index, then day */
    size_t no;
    int32_t active_days;
};

static int rcust_cmp(const void *pa, const void *pb)
{
    const struct rcust *a = pa, *b = pb;
    return (a->id > b->id) - (a->id < b->id);
}

/* Orders carry the customer's index in customer_id while sorted. */
static int rorder_cmp(const void *pa, const void *pb)
{
    const struct sc_cust_order *a = pa, *b = pb;
    if (a->customer_id != b->customer_id)
        return a->customer_id < b->customer_id ? -1 : 1;
    return (a->day > b->day) - (a->day < b->day);
}

static bool wanted(const struct sc_cust *c, const struct sc_ret_opts *opts)
{
    if (opts->member != 0 && c->member != opts->member)
        return false;
    if (opts->team && (!c->team || strcmp(c->team, opts->team) != 0))
        return false;
    return true;
}

static enum sc_err rset_build(struct rset *s, const struct sc_cust *customers, size_t ncustomers,
                              const struct sc_cust_order *orders, size_t norders,
                              const struct sc_ret_opts *opts)
{
    memset(s, 0, sizeof(*s));
    s->active_days = opts->active_days ? opts->active_days : SC_RET_ACTIVE_DAYS_DEFAULT;
    s->c = malloc((ncustomers ? ncustomers : 1) * sizeof(*s->c));
    s->o = malloc((norders ? norders : 1) * sizeof(*s->o));
    if (!s->c || !s->o)
        return SC_ENOMEM;
    for (size_t i = 0; i < ncustomers; i++)
        if (wanted(&customers[i], opts))
            s->c[s->nc++] = (struct rcust){customers[i].id, customers[i].signup_day, 0, 0};
    qsort(s->c, s->nc, sizeof(*s->c), rcust_cmp);
    for (size_t i = 1; i < s->nc; i++)
        if (s->c[i].id == s->c[i - 1].id)
            return SC_EINVAL;
    for (size_t i = 0; i < norders; i++) {
        struct rcust key = {.id = orders[i].customer_id};
        struct rcust *hit = bsearch(&key, s->c, s->nc, sizeof(*s->c), rcust_cmp);
        if (!hit)
            continue;
        s->o[s->no] = orders[i];
        s->o[s->no].customer_id = (int64_t)(hit - s->c);
        s->no++;
    }
    qsort(s->o, s->no, sizeof(*s->o), rorder_cmp);
    for (size_t i = 0; i < s->no;) {
        size_t j = i;
        while (j < s->no && s->o[j].customer_id == s->o[i].customer_id)
            j++;
        s->c[s->o[i].customer_id].first = i;
        s->c[s->o[i].customer_id].n = j - i;
        i = j;
    }
    return SC_OK;
}

static void rset_cleanup(struct rset *s)
{
    free(s->c);
    free(s->o);
}

/* Index of the first of 'c''s orders on or after 'day' (c->first + c->n if none). */
static size_t first_order_from(const struct rset *s, const struct rcust *c, int32_t day)
{
    size_t lo = c->first, hi = c->first + c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->o[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Whether 'c' signed up or ordered on one of the A days ending with 'd'. */
static bool active_on(const struct rset *s, const struct rcust *c, int32_t d)
{
    int32_t lo = d - s->active_days + 1;
    if (c->signup >= lo && c->signup <= d)
        return true;
    size_t k = first_order_from(s, c, lo);
    return k < c->first + c->n && s->o[k].day <= d;
}

/* 'c''s revenue (cents) over [from, to]. */
static int64_t revenue_in(const struct rset *s, const struct rcust *c, int32_t from, int32_t to)
{
    int64_t sum = 0;
    for (size_t k = first_order_from(s, c, from); k < c->first + c->n && s->o[k].day <= to; k++)
        sum += s->o[k].amount;
    return sum;
}

struct period {
    int64_t S, E, N, retained, rev_period, rev_before;
};

static void period_counts(const struct rset *s, int32_t from, int32_t to, struct period *p)
{
    int32_t n = to - from + 1;
    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i < s->nc; i++) {
        const struct rcust *c = &s->c[i];
        bool at_start = active_on(s, c, from), at_end = active_on(s, c, to);
        p->S += at_start;
        p->E += at_end;
        p->retained += at_start && at_end;
        p->N += at_end && c->signup > from && c->signup <= to;
        if (at_start) {
            p->rev_period += revenue_in(s, c, from, to);
            p->rev_before += revenue_in(s, c, from - n, from - 1);
        }
    }
}

/* Cohorts of the sign-up months ['m0', 'm1']: for each later month up to
 * 'm1', the share of the cohort with an order in it. */
static enum sc_err cohorts_build(const struct rset *s, int m0, int m1, struct sc_ret_report *out)
{
    enum sc_err err = SC_OK;
    size_t nm = (size_t)(m1 - m0 + 1);
    int64_t *size = calloc(nm, sizeof(*size));
    int64_t *hits = calloc(nm * nm, sizeof(*hits)); /* [cohort][later month − cohort − 1] */
    if (!size || !hits) {
        err = SC_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < s->nc; i++) {
        const struct rcust *c = &s->c[i];
        int cm = month_of(c->signup);
        if (cm < m0 || cm > m1)
            continue;
        size[cm - m0]++;
        int last = cm; /* count each later month once per customer */
        for (size_t k = first_order_from(s, c, month_first_day(cm + 1)); k < c->first + c->n; k++) {
            int om = month_of(s->o[k].day);
            if (om > m1)
                break;
            if (om != last) {
                hits[(size_t)(cm - m0) * nm + (size_t)(om - cm - 1)]++;
                last = om;
            }
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < nm; i++)
        k += size[i] > 0;
    out->cohorts = calloc(k ? k : 1, sizeof(*out->cohorts));
    if (!out->cohorts) {
        err = SC_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nm; i++) {
        if (size[i] == 0)
            continue;
        struct sc_ret_cohort *h = &out->cohorts[out->ncohorts];
        int32_t first = month_first_day(m0 + (int)i);
        int d;
        sc_ret_civil_from_days(first, &h->year, &h->month, &d);
        h->customers = size[i];
        h->nretention = nm - i - 1;
        h->retention = calloc(h->nretention ? h->nretention : 1, sizeof(double));
        if (!h->retention) {
            err = SC_ENOMEM;
            goto out;
        }
        out->ncohorts++;
        for (size_t j = 0; j < h->nretention; j++)
            h->retention[j] = (double)hits[i * nm + j] / (double)size[i];
    }
out:
    free(size);
    free(hits);
    return err;
}

static enum sc_err trend_build(const struct rset *s, int32_t from, int32_t to, int m0, int m1,
                               struct sc_ret_report *out)
{
    size_t nm = (size_t)(m1 - m0 + 1);
    out->trend = calloc(nm, sizeof(*out->trend));
    if (!out->trend)
        return SC_ENOMEM;
    for (int mon = m0; mon <= m1; mon++) {
        struct sc_ret_month *t = &out->trend[out->ntrend++];
        int32_t a = month_first_day(mon), b = month_first_day(mon + 1) - 1;
        int d;
        sc_ret_civil_from_days(a, &t->year, &t->month, &d);
        struct period p;
        period_counts(s, a > from ? a : from, b < to ? b : to, &p);
        t->has_crr = p.S > 0;
        t->crr = p.S > 0 ? (double)(p.E - p.N) / (double)p.S : 0;
    }
    return SC_OK;
}

enum sc_err sc_ret_compute(const struct sc_cust *customers, size_t ncustomers,
                           const struct sc_cust_order *orders, size_t norders, int32_t from,
                           int32_t to, const struct sc_ret_opts *opts, struct sc_ret_report *out)
{
    static const struct sc_ret_opts defaults = {0};
    enum sc_err err;
    struct rset s;
    struct period p;

    memset(out, 0, sizeof(*out));
    if (!opts)
        opts = &defaults;
    if (to < from || opts->active_days < 0)
        return SC_EINVAL;
    err = rset_build(&s, customers, ncustomers, orders, norders, opts);
    if (err != SC_OK)
        goto out;
    period_counts(&s, from, to, &p);
    out->customers_start = p.S;
    out->customers_end = p.E;
    out->new_customers = p.N;
    out->retained = p.retained;
    out->revenue_period = p.rev_period;
    out->revenue_before = p.rev_before;
    out->has_crr = out->has_churn = p.S > 0;
    out->has_ndr = p.rev_before != 0;
    out->crr = p.S ? (double)(p.E - p.N) / (double)p.S : 0;
    out->churn_rate = p.S ? (double)(p.S - p.retained) / (double)p.S : 0;
    out->ndr = p.rev_before ? (double)p.rev_period / (double)p.rev_before : 0;
    int m0 = month_of(from), m1 = month_of(to);
    err = cohorts_build(&s, m0, m1, out);
    if (err == SC_OK)
        err = trend_build(&s, from, to, m0, m1, out);
out:
    rset_cleanup(&s);
    if (err != SC_OK)
        sc_ret_report_cleanup(out);
    return err;
}

void sc_ret_report_cleanup(struct sc_ret_report *r)
{
    for (size_t i = 0; i < r->ncohorts; i++)
        free(r->cohorts[i].retention);
    free(r->cohorts);
    free(r->trend);
    memset(r, 0, sizeof(*r));
}

enum sc_err sc_ret_nps(const int *answers, size_t n, double *nps, bool *defined)
{
    size_t promoters = 0, detractors = 0;
    *nps = 0;
    *defined = false;
    for (size_t i = 0; i < n; i++) {
        if (answers[i] < 0 || answers[i] > 10)
            return SC_EINVAL;
        promoters += answers[i] >= 9;
        detractors += answers[i] <= 6;
    }
    if (n == 0)
        return SC_OK;
    *nps = 100.0 * ((double)promoters - (double)detractors) / (double)n;
    *defined = true;
    return SC_OK;
}
