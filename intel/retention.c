/*
 * retention.c — DESIGN.md §6's retention report over plain rows: who is
 * active on a day (sign-up or an order within the A days ending that day),
 * S, E, N and retained for a period, CRR, churn and NDR with a flag where a
 * denominator is 0, sign-up cohorts by calendar month, CRR month by month,
 * and NPS.  Also the calendar helpers (day number ↔ Y-M-D) the caller and
 * the cohorts share.
 *
 * Customers are sorted by id and each one's order days kept sorted; the
 * period and every month of its CRR trend are counted in one pass over the
 * customers, each walking their own orders once (O(customers × months +
 * orders)), and the cohorts in another.
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
    size_t first, n;  /* their orders: o[first … first + n − 1], sorted by day */
    int64_t member;   /* the credited member (sc_ret_by_member's groups) */
    const char *team; /* borrowed from the caller's row */
};

struct rset {
    struct rcust *c; /* owned; sorted by id */
    size_t nc;
    const struct sc_cust_order *o; /* the caller's orders, or 'own' */
    struct sc_cust_order *own;     /* owned; a sorted copy when the caller's were not */
    int32_t active_days;
};

static int rcust_cmp(const void *pa, const void *pb)
{
    const struct rcust *a = pa, *b = pb;
    return (a->id > b->id) - (a->id < b->id);
}

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

/*
 * The customers 'opts' wants, sorted by id, each with the range of their
 * orders in an array sorted by customer and day.  Callers that keep their
 * customers by id and their orders by customer and day (the server's
 * snapshot does) pay one pass over each: the orders are used in place and
 * matched to customers by a merge walk.  Otherwise they are copied and
 * sorted.
 */
static enum sc_err rset_build(struct rset *s, const struct sc_cust *customers, size_t ncustomers,
                              const struct sc_cust_order *orders, size_t norders,
                              const struct sc_ret_opts *opts)
{
    memset(s, 0, sizeof(*s));
    s->active_days = opts->active_days ? opts->active_days : SC_RET_ACTIVE_DAYS_DEFAULT;
    s->c = malloc((ncustomers ? ncustomers : 1) * sizeof(*s->c));
    if (!s->c)
        return SC_ENOMEM;
    bool by_id = true;
    for (size_t i = 0; i < ncustomers; i++) {
        if (!wanted(&customers[i], opts))
            continue;
        if (s->nc > 0 && s->c[s->nc - 1].id >= customers[i].id)
            by_id = false;
        s->c[s->nc++] = (struct rcust){customers[i].id,     customers[i].signup_day, 0, 0,
                                       customers[i].member, customers[i].team};
    }
    if (!by_id) {
        qsort(s->c, s->nc, sizeof(*s->c), rcust_cmp);
        for (size_t i = 1; i < s->nc; i++)
            if (s->c[i].id == s->c[i - 1].id)
                return SC_EINVAL;
    }
    bool sorted = true;
    for (size_t i = 1; i < norders && sorted; i++)
        sorted = rorder_cmp(&orders[i - 1], &orders[i]) <= 0;
    if (!sorted) {
        s->own = malloc((norders ? norders : 1) * sizeof(*s->own));
        if (!s->own)
            return SC_ENOMEM;
        memcpy(s->own, orders, norders * sizeof(*orders));
        qsort(s->own, norders, sizeof(*s->own), rorder_cmp);
        orders = s->own;
    }
    s->o = orders;
    /* both sorted by customer id: one merge walk */
    size_t k = 0;
    for (size_t i = 0; i < s->nc; i++) {
        struct rcust *c = &s->c[i];
        while (k < norders && orders[k].customer_id < c->id)
            k++;
        c->first = k;
        while (k < norders && orders[k].customer_id == c->id)
            k++;
        c->n = k - c->first;
    }
    return SC_OK;
}

static void rset_cleanup(struct rset *s)
{
    free(s->c);
    free(s->own);
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

/* 'c''s revenue (cents) over [from, to]. */
static int64_t revenue_in(const struct rset *s, const struct rcust *c, int32_t from, int32_t to)
{
    int64_t sum = 0;
    for (size_t k = first_order_from(s, c, from); k < c->first + c->n && s->o[k].day <= to; k++)
        sum += s->o[k].amount;
    return sum;
}

struct period {
    int32_t from, to; /* in */
    int64_t S, E, N, retained, rev_period, rev_before;
};

static int day_cmp(const void *pa, const void *pb)
{
    int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
    return (a > b) - (a < b);
}

/* Index of 'day' in the sorted 'days' (it is there). */
static size_t day_index(const int32_t *days, size_t n, int32_t day)
{
    const int32_t *hit = bsearch(&day, days, n, sizeof(*days), day_cmp);
    return (size_t)(hit - days);
}

/*
 * S, E, N and retained of each of the 'np' periods 'p' (their from and to
 * set by the caller), and the revenues of the first, in one pass over the
 * customers.  Each customer is asked "active on d?" for every period's
 * first and last day at once: those days sorted ascending, the start of the
 * A-day window only moves forward, so one pointer walks the customer's
 * sorted orders once — O(orders + days) per customer instead of a binary
 * search per day and period.
 */
static enum sc_err periods_count(const struct rset *s, struct period *p, size_t np)
{
    enum sc_err err = SC_ENOMEM;
    size_t nq = 0;
    int32_t *qd = malloc(2 * np * sizeof(*qd));
    size_t *ix = malloc(2 * np * sizeof(*ix));
    bool *act = malloc(2 * np * sizeof(*act));
    if (!qd || !ix || !act)
        goto out;
    for (size_t i = 0; i < np; i++) {
        qd[nq++] = p[i].from;
        qd[nq++] = p[i].to;
        p[i].S = p[i].E = p[i].N = p[i].retained = p[i].rev_period = p[i].rev_before = 0;
    }
    qsort(qd, nq, sizeof(*qd), day_cmp);
    size_t u = 0;
    for (size_t i = 0; i < nq; i++)
        if (u == 0 || qd[u - 1] != qd[i])
            qd[u++] = qd[i];
    nq = u;
    for (size_t i = 0; i < np; i++) {
        ix[2 * i] = day_index(qd, nq, p[i].from);
        ix[2 * i + 1] = day_index(qd, nq, p[i].to);
    }
    for (size_t i = 0; i < s->nc; i++) {
        const struct rcust *c = &s->c[i];
        size_t k = c->first, end = c->first + c->n;
        for (size_t q = 0; q < nq; q++) { /* signed up or ordered in [d − A + 1, d] */
            int32_t d = qd[q], lo = d - s->active_days + 1;
            while (k < end && s->o[k].day < lo)
                k++;
            act[q] = (c->signup >= lo && c->signup <= d) || (k < end && s->o[k].day <= d);
        }
        for (size_t j = 0; j < np; j++) {
            bool at_start = act[ix[2 * j]], at_end = act[ix[2 * j + 1]];
            p[j].S += at_start;
            p[j].E += at_end;
            p[j].retained += at_start && at_end;
            p[j].N += at_end && c->signup > p[j].from && c->signup <= p[j].to;
        }
        if (act[ix[0]]) {
            int32_t n = p[0].to - p[0].from + 1;
            p[0].rev_period += revenue_in(s, c, p[0].from, p[0].to);
            p[0].rev_before += revenue_in(s, c, p[0].from - n, p[0].from - 1);
        }
    }
    err = SC_OK;
out:
    free(qd);
    free(ix);
    free(act);
    return err;
}

/* CRR, churn and NDR of 'r' from its counts and revenues (DESIGN §6), null when undefined. */
static void set_ratios(struct sc_ret_report *r)
{
    int64_t S = r->customers_start;
    r->has_crr = r->has_churn = S > 0;
    r->has_ndr = r->revenue_before != 0;
    r->crr = S ? (double)(r->customers_end - r->new_customers) / (double)S : 0;
    r->churn_rate = S ? (double)(S - r->retained) / (double)S : 0;
    r->ndr = r->revenue_before ? (double)r->revenue_period / (double)r->revenue_before : 0;
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

enum sc_err sc_ret_compute(const struct sc_cust *customers, size_t ncustomers,
                           const struct sc_cust_order *orders, size_t norders, int32_t from,
                           int32_t to, const struct sc_ret_opts *opts, struct sc_ret_report *out)
{
    static const struct sc_ret_opts defaults = {0};
    enum sc_err err;
    struct rset s;
    struct period *p = NULL;

    memset(out, 0, sizeof(*out));
    if (!opts)
        opts = &defaults;
    if (to < from || opts->active_days < 0)
        return SC_EINVAL;
    int m0 = month_of(from), m1 = month_of(to);
    size_t nm = (size_t)(m1 - m0 + 1);
    err = rset_build(&s, customers, ncustomers, orders, norders, opts);
    if (err != SC_OK)
        goto out;
    /* p[0] the period, p[1 + i] its i-th calendar month (clipped to it) */
    p = calloc(1 + nm, sizeof(*p));
    out->trend = calloc(nm, sizeof(*out->trend));
    if (!p || !out->trend) {
        err = SC_ENOMEM;
        goto out;
    }
    p[0].from = from;
    p[0].to = to;
    for (size_t i = 0; i < nm; i++) {
        int32_t a = month_first_day(m0 + (int)i), b = month_first_day(m0 + (int)i + 1) - 1;
        p[1 + i].from = a > from ? a : from;
        p[1 + i].to = b < to ? b : to;
    }
    if ((err = periods_count(&s, p, 1 + nm)) != SC_OK)
        goto out;
    out->customers_start = p[0].S;
    out->customers_end = p[0].E;
    out->new_customers = p[0].N;
    out->retained = p[0].retained;
    out->revenue_period = p[0].rev_period;
    out->revenue_before = p[0].rev_before;
    set_ratios(out);
    for (size_t i = 0; i < nm; i++) {
        struct sc_ret_month *t = &out->trend[out->ntrend++];
        const struct period *m = &p[1 + i];
        int d;
        sc_ret_civil_from_days(month_first_day(m0 + (int)i), &t->year, &t->month, &d);
        t->has_crr = m->S > 0;
        t->crr = m->S > 0 ? (double)(m->E - m->N) / (double)m->S : 0;
    }
    err = cohorts_build(&s, m0, m1, out);
out:
    free(p);
    rset_cleanup(&s);
    if (err != SC_OK)
        sc_ret_report_cleanup(out);
    return err;
}

/* Index of 'member' in the sorted 'ids' (n of them), or where it would go. */
static size_t member_slot(const int64_t *ids, size_t n, int64_t member)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < member)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

enum sc_err sc_ret_by_member(const struct sc_cust *customers, size_t ncustomers,
                             const struct sc_cust_order *orders, size_t norders, int32_t from,
                             int32_t to, const struct sc_ret_opts *opts, struct sc_ret_group **out,
                             size_t *nout)
{
    static const struct sc_ret_opts defaults = {0};
    struct rset s;
    *out = NULL;
    *nout = 0;
    if (!opts)
        opts = &defaults;
    if (to < from || opts->active_days < 0)
        return SC_EINVAL;
    int64_t *ids = NULL;
    size_t *at = NULL, ng = 0;
    struct rcust *byg = NULL;
    struct sc_ret_group *g = NULL;
    enum sc_err err = rset_build(&s, customers, ncustomers, orders, norders, opts);
    if (err != SC_OK)
        goto out;
    /* Each member's customers in a run of their own (a counting sort: members are few), still
     * by id within it; periods_count walks each customer's own orders, so the runs share the
     * one order array. */
    err = SC_ENOMEM;
    ids = malloc((s.nc ? s.nc : 1) * sizeof(*ids));
    byg = malloc((s.nc ? s.nc : 1) * sizeof(*byg));
    if (!ids || !byg)
        goto out;
    for (size_t i = 0; i < s.nc; i++) {
        size_t k = member_slot(ids, ng, s.c[i].member);
        if (k == ng || ids[k] != s.c[i].member) {
            memmove(ids + k + 1, ids + k, (ng - k) * sizeof(*ids));
            ids[k] = s.c[i].member;
            ng++;
        }
    }
    at = calloc(ng + 1, sizeof(*at));
    g = calloc(ng ? ng : 1, sizeof(*g));
    if (!at || !g)
        goto out;
    for (size_t i = 0; i < s.nc; i++)
        at[member_slot(ids, ng, s.c[i].member) + 1]++;
    for (size_t k = 0; k < ng; k++)
        at[k + 1] += at[k];
    for (size_t i = 0; i < s.nc; i++)
        byg[at[member_slot(ids, ng, s.c[i].member)]++] = s.c[i];
    for (size_t k = 0, i = 0; k < ng; k++) { /* at[k] is now the end of run k */
        struct rset run = s;
        run.c = byg + i;
        run.nc = at[k] - i;
        struct period p = {.from = from, .to = to};
        if ((err = periods_count(&run, &p, 1)) != SC_OK)
            goto out;
        g[k].member = ids[k];
        g[k].team = byg[i].team;
        g[k].r.customers_start = p.S;
        g[k].r.customers_end = p.E;
        g[k].r.new_customers = p.N;
        g[k].r.retained = p.retained;
        g[k].r.revenue_period = p.rev_period;
        g[k].r.revenue_before = p.rev_before;
        set_ratios(&g[k].r);
        i = at[k];
    }
    *out = g;
    *nout = ng;
    g = NULL;
    err = SC_OK;
out:
    free(g);
    free(at);
    free(byg);
    free(ids);
    rset_cleanup(&s);
    return err;
}

void sc_ret_report_add(struct sc_ret_report *a, const struct sc_ret_report *b)
{
    a->customers_start += b->customers_start;
    a->customers_end += b->customers_end;
    a->new_customers += b->new_customers;
    a->retained += b->retained;
    a->revenue_period += b->revenue_period;
    a->revenue_before += b->revenue_before;
    set_ratios(a);
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
