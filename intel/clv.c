/*
 * clv.c — customer value (DESIGN.md §6): BG/NBD (Fader, Hardie & Lee 2005,
 * "Counting your customers the easy way") for how many orders a customer
 * will still place, Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV")
 * for what each will be worth, both fitted by maximum likelihood over
 * log-parameters, and clv_1y as their product.  The fits use the analytic
 * gradient: GSL's BFGS (vector_bfgs2) to near the optimum, then Newton steps
 * (Hessian by differences of the gradient, GSL's Cholesky) to finish; GSL's
 * Nelder-Mead, derivative-free and ten times slower, is the fallback when
 * that does not converge — unless Gamma-Gamma's q is still climbing past
 * SC_CLV_GG_Q_BOUND (a degenerate likelihood: spend that barely varies
 * between customers), where it would only creep on to the same values.
 *
 * The likelihoods are written in logs (lgamma, lbeta) and the two-term
 * BG/NBD likelihood is added with log-sum-exp, so customers with many
 * orders neither overflow nor lose the smaller term.  The conditional
 * expectation needs a Gauss hypergeometric 2F1 whose argument approaches 1
 * for short histories and whose parameters grow with x; two Pfaff
 * transformations turn it into one with bounded parameters that a plain
 * series sums reliably (gsl_sf_hyperg_2F1 calls GSL's error handler, which
 * aborts by default, on arguments it cannot do).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_multimin.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_sf_psi.h>
#include <gsl/gsl_vector.h>

#include "intel_int.h"
#include "sharecard/customers.h"

/* ---- Summaries from orders ---------------------------------------------- */

static int order_cmp(const void *pa, const void *pb)
{
    const struct sc_cust_order *a = pa, *b = pb;
    if (a->customer_id != b->customer_id)
        return a->customer_id < b->customer_id ? -1 : 1;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    return 0;
}

enum sc_err sc_cust_orders_until(const struct sc_cust_order *orders, size_t norders, int32_t now,
                                 struct sc_cust_order **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (norders == 0)
        return SC_OK;
    struct sc_cust_order *o = malloc(norders * sizeof(*o));
    if (!o)
        return SC_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < norders; i++)
        if (orders[i].day <= now)
            o[k++] = orders[i];
    if (k == 0) {
        free(o);
        return SC_OK;
    }
    bool sorted = true; /* the store hands them over sorted: no sort then */
    for (size_t i = 1; i < k && sorted; i++)
        sorted = order_cmp(&o[i - 1], &o[i]) <= 0;
    if (!sorted)
        qsort(o, k, sizeof(*o), order_cmp);
    *out = o;
    *n = k;
    return SC_OK;
}

enum sc_err sc_clv_summarise(const struct sc_cust_order *orders, size_t norders, int32_t now,
                             struct sc_clv_summary **out, size_t *nout)
{
    enum sc_err err = SC_OK;
    struct sc_cust_order *o = NULL;
    struct sc_clv_summary *s = NULL;
    size_t n = 0, ns = 0;

    *out = NULL;
    *nout = 0;
    if ((err = sc_cust_orders_until(orders, norders, now, &o, &n)) != SC_OK || n == 0)
        goto out;
    s = malloc(n * sizeof(*s)); /* at most one per order */
    if (!s) {
        err = SC_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int32_t first = o[i].day, last = first;
        double days = 0, repeat_revenue = 0;
        while (j < n && o[j].customer_id == o[i].customer_id) {
            if (o[j].day != last) { /* a new order day */
                days++;
                last = o[j].day;
            }
            if (o[j].day != first)
                repeat_revenue += (double)o[j].amount;
            j++;
        }
        s[ns].customer_id = o[i].customer_id;
        s[ns].x = days;
        s[ns].t_x = (double)(last - first);
        s[ns].T = (double)(now - first);
        s[ns].zbar = days > 0 ? repeat_revenue / days : 0;
        ns++;
        i = j;
    }
    *out = s;
    *nout = ns;
    s = NULL;
out:
    free(o);
    free(s);
    return err;
}

/* ---- BG/NBD -------------------------------------------------------------- */

static double lbeta(double a, double b)
{
    return lgamma(a) + lgamma(b) - lgamma(a + b);
}

static bool bg_params_ok(const struct sc_clv_bgnbd *m)
{
    return m->r > 0 && m->alpha > 0 && m->a > 0 && m->b > 0 && isfinite(m->r) &&
           isfinite(m->alpha) && isfinite(m->a) && isfinite(m->b);
}

static bool history_ok(double x, double t_x, double T)
{
    return x >= 0 && t_x >= 0 && T >= t_x && isfinite(x) && isfinite(T);
}

double sc_clv_bgnbd_loglik(const struct sc_clv_bgnbd *m, double x, double t_x, double T)
{
    if (!bg_params_ok(m) || !history_ok(x, t_x, T))
        return NAN;
    double r = m->r, al = m->alpha, a = m->a, b = m->b;
    /* L = Γ(r+x)α^r/Γ(r) · [ B(a,b+x)/B(a,b) · (α+T)^−(r+x)
     *                       + [x>0] B(a+1,b+x−1)/B(a,b) · (α+t_x)^−(r+x) ] */
    double head = lgamma(r + x) - lgamma(r) + r * log(al) - lbeta(a, b);
    double t1 = lbeta(a, b + x) - (r + x) * log(al + T);
    if (x <= 0)
        return head + t1;
    double t2 = lbeta(a + 1, b + x - 1) - (r + x) * log(al + t_x);
    double hi = t1 > t2 ? t1 : t2, lo = t1 > t2 ? t2 : t1;
    return head + hi + log1p(exp(lo - hi));
}

/* log of the odds term of P(alive): log(a/(b+x−1)) + (r+x)·log((α+T)/(α+t_x)). */
static double dead_log_odds(const struct sc_clv_bgnbd *m, double x, double t_x, double T)
{
    return log(m->a) - log(m->b + x - 1) + (m->r + x) * (log(m->alpha + T) - log(m->alpha + t_x));
}

double sc_clv_p_alive(const struct sc_clv_bgnbd *m, double x, double t_x, double T)
{
    if (!bg_params_ok(m) || !history_ok(x, t_x, T))
        return NAN;
    if (x <= 0)
        return 1.0;
    double lo = dead_log_odds(m, x, t_x, T);
    /* 1/(1+e^lo), without overflow for large lo */
    return lo > 0 ? exp(-lo) / (1 + exp(-lo)) : 1 / (1 + exp(lo));
}

/*
 * 2F1('A', 'B'; 'C'; 'z') for 0 ≤ z < 1 by its power series, into '*out'.
 * Stops once the rest is below about 1e-15 of the sum: once k is past |A|,
 * |B| and |C| every factor is positive and the term ratio approaches z
 * from one side, so max(|ratio|, z) bounds the later ratios and the tail
 * is at most a geometric sum.  Returns false if C + k hits 0 or it does not
 * converge within the term budget.
 */
static bool hyp2f1_series(double A, double B, double C, double z, double *out)
{
    double sum = 1, term = 1;
    double settle = fabs(A) + fabs(B) + fabs(C) + 2;
    for (long k = 0; k < 2000000; k++) {
        double den = (C + (double)k) * (double)(k + 1);
        if (fabs(C + (double)k) < 1e-12)
            return false;
        double ratio = (A + (double)k) * (B + (double)k) / den * z;
        term *= ratio;
        sum += term;
        if (term == 0 || !isfinite(sum))
            break;
        if ((double)k > settle) {
            double rho = fabs(ratio) > z ? fabs(ratio) : z;
            if (rho < 1 && fabs(term) * rho / (1 - rho) <= 1e-15 * fabs(sum))
                break;
        }
        if (k == 2000000 - 1)
            return false;
    }
    if (!isfinite(sum))
        return false;
    *out = sum;
    return true;
}

/* E[Y(t) | x, t_x, T] for a ≠ 1 (the formula divides by a − 1). */
static bool expected_at(const struct sc_clv_bgnbd *m, double x, double t_x, double T, double t,
                        double *out)
{
    double r = m->r, al = m->alpha, a = m->a, b = m->b;
    /* The paper's ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))
     * equals, by Pfaff twice, ((α+T+t)/(α+T))^(1−a) · 2F1(a−1, a+b−1−r;
     * a+b+x−1; t/(α+T+t)). */
    double z = t / (al + T + t), h, g;
    if (hyp2f1_series(a - 1, a + b - 1 - r, a + b + x - 1, z, &h)) {
        g = exp((1 - a) * (log(al + T + t) - log(al + T))) * h;
    } else {
        /* With a and b both large (a fit that ran off to a fixed drop-out
         * probability a/(a+b), as on orders where every customer drops out
         * alike) the transformed series overflows before it settles; the
         * paper's own series then has the small parameter r+x and a term
         * ratio near z·b/(a+b): it converges at once, every term positive. */
        if (!hyp2f1_series(r + x, b + x, a + b + x - 1, z, &h))
            return false;
        g = exp((r + x) * (log(al + T) - log(al + T + t))) * h;
    }
    double e = (a + b + x - 1) / (a - 1) * (1 - g);
    if (x > 0)
        e *= sc_clv_p_alive(m, x, t_x, T);
    if (!isfinite(e))
        return false;
    *out = e < 0 ? 0 : e; /* rounding near t = 0 */
    return true;
}

enum sc_err sc_clv_expected(const struct sc_clv_bgnbd *m, double x, double t_x, double T, double t,
                            double *out)
{
    if (!bg_params_ok(m) || !history_ok(x, t_x, T) || !(t >= 0) || !isfinite(t))
        return SC_EINVAL;
    if (t == 0) {
        *out = 0;
        return SC_OK;
    }
    const double h = 1e-5;
    if (fabs(m->a - 1) >= h)
        return expected_at(m, x, t_x, T, t, out) ? SC_OK : SC_EINVAL;
    /* Near a = 1 the formula is 0/0: interpolate between a = 1 ± h, where
     * the cancellation costs about 1e-16/h and the interpolation O(h²):
     * about 1e-11 relative either way. */
    struct sc_clv_bgnbd lo = *m, hi = *m;
    double elo, ehi;
    lo.a = 1 - h;
    hi.a = 1 + h;
    if (!expected_at(&lo, x, t_x, T, t, &elo) || !expected_at(&hi, x, t_x, T, t, &ehi))
        return SC_EINVAL;
    *out = elo + (ehi - elo) * (m->a - lo.a) / (2 * h);
    return SC_OK;
}

/* ---- Gamma-Gamma -------------------------------------------------------- */

double sc_clv_gg_loglik(const struct sc_clv_gg *m, double x, double zbar)
{
    double p = m->p, q = m->q, v = m->v;
    if (!(p > 0 && q > 0 && v > 0 && x > 0 && zbar > 0) || !isfinite(p) || !isfinite(q) ||
        !isfinite(v) || !isfinite(x) || !isfinite(zbar))
        return NAN;
    /* The density of the observed mean zbar of x transactions, each
     * Gamma(p, ν) with ν ~ Gamma(q, v). */
    double px = p * x;
    return lgamma(px + q) - lgamma(px) - lgamma(q) + q * log(v) + (px - 1) * log(zbar) +
           px * log(x) - (px + q) * log(x * zbar + v);
}

double sc_clv_gg_value(const struct sc_clv_gg *m, double x, double zbar)
{
    if (!(m->q > 1) || !(m->p > 0) || !(m->v > 0))
        return NAN;
    if (!(x > 0) || !(zbar > 0))
        return m->v * m->p / (m->q - 1);
    return m->p * (m->v + x * zbar) / (m->p * x + m->q - 1);
}

enum sc_err sc_clv_value(const struct sc_clv_bgnbd *bg, const struct sc_clv_gg *gg,
                         const struct sc_clv_summary *s, double horizon, double *out)
{
    double e, v = sc_clv_gg_value(gg, s->x, s->zbar);
    enum sc_err err = sc_clv_expected(bg, s->x, s->t_x, s->T, horizon, &e);
    if (err != SC_OK)
        return err;
    if (!isfinite(v))
        return SC_EINVAL;
    *out = e * v;
    return SC_OK;
}

/* ---- Maximum likelihood ------------------------------------------------- */

/* A distinct row of the data and how many customers share it: in days,
 * many customers have the same (x, t_x, T), so each is computed once. */
struct wrow {
    double x, t_x, T, zbar;
    double lz; /* log(zbar) for Gamma-Gamma, fixed for the fit */
    double w;
};

/* Terms of one x kept per evaluation (BG/NBD: lgamma(r+x), lbeta(a,b+x),
 * lbeta(a+1,b+x−1), ψ(r+x), ψ(b+x), ψ(b+x−1), ψ(a+b+x); Gamma-Gamma uses
 * the first three slots). */
#define XTERMS 7

/* What the objectives see.  The terms that depend only on the parameters
 * and x (lgamma, lbeta, ψ) are computed once per evaluation for each
 * integer x up to the largest, not once per row; when every T and t_x is a
 * whole number (days), log(α+k) and 1/(α+k) likewise, once per k. */
struct fit_ctx {
    struct wrow *rows; /* owned */
    size_t nrows;
    double weight; /* customers in the fit */
    int xmax;      /* largest x when every x is an integer ≤ XTAB_MAX; −1 otherwise */
    double *tab;   /* owned; XTERMS per x in 0…xmax, rewritten by each evaluation */
    int tmax;      /* largest T when every T and t_x is an integer ≤ TTAB_MAX; −1 otherwise */
    double *ttab;  /* owned; log(α+k), 1/(α+k) per k in 0…tmax, rewritten by each evaluation */
    int evaluations;
};

#define XTAB_MAX 100000
#define TTAB_MAX 1000000

static int wrow_cmp(const void *pa, const void *pb)
{
    const struct wrow *a = pa, *b = pb;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    if (a->t_x != b->t_x)
        return a->t_x < b->t_x ? -1 : 1;
    if (a->T != b->T)
        return a->T < b->T ? -1 : 1;
    return (a->zbar > b->zbar) - (a->zbar < b->zbar);
}

static bool whole(double v, double max)
{
    return v == floor(v) && v >= 0 && v <= max;
}

/* Fills 'ctx' from the rows of 'c' the model uses: every row for BG/NBD,
 * repeat buyers with a positive mean for Gamma-Gamma ('gg'). */
static enum sc_err ctx_build(struct fit_ctx *ctx, const struct sc_clv_summary *c, size_t n, bool gg)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->rows = malloc((n ? n : 1) * sizeof(*ctx->rows));
    if (!ctx->rows)
        return SC_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (gg && !(c[i].x > 0 && c[i].zbar > 0 && isfinite(c[i].zbar)))
            continue;
        ctx->rows[k++] = gg ? (struct wrow){c[i].x, 0, 0, c[i].zbar, log(c[i].zbar), 1}
                            : (struct wrow){c[i].x, c[i].t_x, c[i].T, 0, 0, 1};
    }
    qsort(ctx->rows, k, sizeof(*ctx->rows), wrow_cmp);
    double xmax = 0, tmax = 0;
    bool integral = true, days = !gg;
    for (size_t i = 0; i < k; i++) {
        struct wrow *r = &ctx->rows[i];
        if (ctx->nrows > 0 && wrow_cmp(&ctx->rows[ctx->nrows - 1], r) == 0) {
            ctx->rows[ctx->nrows - 1].w++;
        } else {
            ctx->rows[ctx->nrows++] = *r;
        }
        if (!whole(r->x, XTAB_MAX))
            integral = false;
        else if (r->x > xmax)
            xmax = r->x;
        if (!whole(r->T, TTAB_MAX) || !whole(r->t_x, TTAB_MAX))
            days = false;
        else if (r->T > tmax)
            tmax = r->T;
    }
    ctx->weight = (double)k;
    ctx->xmax = integral ? (int)xmax : -1;
    ctx->tmax = days ? (int)tmax : -1;
    if (ctx->xmax >= 0) {
        ctx->tab = malloc(XTERMS * ((size_t)ctx->xmax + 1) * sizeof(double));
        if (!ctx->tab)
            return SC_ENOMEM;
    }
    if (ctx->tmax >= 0) {
        ctx->ttab = malloc(2 * ((size_t)ctx->tmax + 1) * sizeof(double));
        if (!ctx->ttab)
            return SC_ENOMEM;
    }
    return SC_OK;
}

static void ctx_cleanup(struct fit_ctx *ctx)
{
    free(ctx->rows);
    free(ctx->tab);
    free(ctx->ttab);
}

/* GSL's minimisers call their error handler (abort by default) on a
 * non-finite value; a point where the likelihood overflows is reported as
 * this, far worse than any real one, so the minimiser simply moves away. */
#define BAD_OBJECTIVE 1e100

/* The BG/NBD terms of one x into 't' (XTERMS); the ψ terms only with 'grad'. */
static void bg_xterms(double r, double a, double b, double x, bool grad, double *t)
{
    t[0] = lgamma(r + x);
    t[1] = lbeta(a, b + x);
    t[2] = x > 0 ? lbeta(a + 1, b + x - 1) : 0;
    if (!grad)
        return;
    t[3] = gsl_sf_psi(r + x);
    t[4] = gsl_sf_psi(b + x);
    t[5] = x > 0 ? gsl_sf_psi(b + x - 1) : 0;
    t[6] = gsl_sf_psi(a + b + x);
}

/*
 * The mean of sc_clv_bgnbd_loglik over the rows at log-parameters 'lp' and,
 * when 'grad' is not NULL, its gradient in the log-parameters into 'grad'.
 * With A1 = lbeta(a,b+x) − (r+x)log(α+T), A2 = lbeta(a+1,b+x−1) −
 * (r+x)log(α+t_x) and w1, w2 the shares of e^A1 and e^A2 in their sum, the
 * derivative of each row's log-likelihood is
 *   ∂r = log α − ψ(r) + ψ(r+x) − w1·log(α+T) − w2·log(α+t_x)
 *   ∂α = r/α − (r+x)·(w1/(α+T) + w2/(α+t_x))
 *   ∂a = −ψ(a) + ψ(a+b) + w1·(ψ(a) − ψ(a+b+x)) + w2·(ψ(a+1) − ψ(a+b+x))
 *   ∂b = −ψ(b) + ψ(a+b) + w1·(ψ(b+x) − ψ(a+b+x)) + w2·(ψ(b+x−1) − ψ(a+b+x))
 * (w2 = 0 for x = 0), and ∂/∂log θ = θ·∂/∂θ.
 */
static double bg_eval(struct fit_ctx *ctx, const double *lp, double *grad)
{
    double r = exp(lp[0]), al = exp(lp[1]), a = exp(lp[2]), b = exp(lp[3]);
    if (!(isfinite(r) && isfinite(al) && isfinite(a) && isfinite(b) && r > 0 && al > 0 && a > 0 &&
          b > 0))
        return NAN;
    bool g = grad != NULL;
    double lal = log(al), base = r * lal - lgamma(r) - lbeta(a, b), sum = 0;
    double sr = 0, sal = 0, sa = 0, sb = 0;
    double psi_a = g ? gsl_sf_psi(a) : 0, psi_a1 = psi_a + 1 / a;
    for (int k = 0; k <= ctx->xmax; k++)
        bg_xterms(r, a, b, k, g, &ctx->tab[XTERMS * (size_t)k]);
    for (int k = 0; k <= ctx->tmax; k++) {
        ctx->ttab[2 * k] = log(al + k);
        ctx->ttab[2 * k + 1] = 1 / (al + k);
    }
    for (size_t i = 0; i < ctx->nrows; i++) {
        const struct wrow *w = &ctx->rows[i];
        double x = w->x, own[XTERMS];
        const double *t = own;
        if (ctx->xmax >= 0)
            t = &ctx->tab[XTERMS * (size_t)x];
        else
            bg_xterms(r, a, b, x, g, own);
        double lT, iT, ltx = 0, itx = 0;
        if (ctx->tmax >= 0) {
            lT = ctx->ttab[2 * (size_t)w->T];
            iT = ctx->ttab[2 * (size_t)w->T + 1];
            ltx = ctx->ttab[2 * (size_t)w->t_x];
            itx = ctx->ttab[2 * (size_t)w->t_x + 1];
        } else {
            lT = log(al + w->T);
            iT = 1 / (al + w->T);
            if (x > 0) {
                ltx = log(al + w->t_x);
                itx = 1 / (al + w->t_x);
            }
        }
        double ll = t[1] - (r + x) * lT, w1 = 1, w2 = 0;
        if (x > 0) {
            double t2 = t[2] - (r + x) * ltx;
            double hi = ll > t2 ? ll : t2, lo = ll > t2 ? t2 : ll, e = exp(lo - hi);
            double whi = 1 / (1 + e), wlo = e * whi;
            w1 = ll > t2 ? whi : wlo;
            w2 = ll > t2 ? wlo : whi;
            ll = hi + log1p(e);
        }
        sum += w->w * (t[0] + ll);
        if (g) {
            sr += w->w * (t[3] - w1 * lT - w2 * ltx);
            sal -= w->w * (r + x) * (w1 * iT + w2 * itx);
            sa += w->w * (w1 * psi_a + w2 * psi_a1 - t[6]);
            sb += w->w * (w1 * t[4] + w2 * t[5] - t[6]);
        }
    }
    double n = ctx->weight;
    if (g) {
        double psi_ab = gsl_sf_psi(a + b);
        grad[0] = r * (lal - gsl_sf_psi(r) + sr / n);
        grad[1] = al * (r / al + sal / n);
        grad[2] = a * (psi_ab - psi_a + sa / n);
        grad[3] = b * (psi_ab - gsl_sf_psi(b) + sb / n);
    }
    return base + sum / n;
}

/*
 * The mean of sc_clv_gg_loglik over the rows at log-parameters 'lp' and its
 * gradient in the log-parameters into 'grad' (when not NULL):
 *   ∂p = x·(ψ(px+q) − ψ(px) + log x + log zbar − log(x·zbar+v))
 *   ∂q = log v − ψ(q) + ψ(px+q) − log(x·zbar+v)
 *   ∂v = q/v − (px+q)/(x·zbar+v)
 */
static void gg_xterms(double p, double q, double x, bool grad, double *t)
{
    double px = p * x;
    t[0] = lgamma(px + q) - lgamma(px) + px * log(x);
    if (!grad)
        return;
    double psi_pxq = gsl_sf_psi(px + q);
    t[1] = x * (psi_pxq - gsl_sf_psi(px) + log(x));
    t[2] = psi_pxq;
}

static double gg_eval(struct fit_ctx *ctx, const double *lp, double *grad)
{
    double p = exp(lp[0]), q = exp(lp[1]), v = exp(lp[2]);
    if (!(isfinite(p) && isfinite(q) && isfinite(v) && p > 0 && q > 0 && v > 0))
        return NAN;
    bool g = grad != NULL;
    double base = q * log(v) - lgamma(q), sum = 0, sp = 0, sq = 0, sv = 0;
    for (int k = 1; k <= ctx->xmax; k++)
        gg_xterms(p, q, k, g, &ctx->tab[XTERMS * (size_t)k]);
    for (size_t i = 0; i < ctx->nrows; i++) {
        const struct wrow *w = &ctx->rows[i];
        double x = w->x, px = p * x, own[XTERMS];
        const double *t = own;
        if (ctx->xmax >= 0)
            t = &ctx->tab[XTERMS * (size_t)x];
        else
            gg_xterms(p, q, x, g, own);
        double s = x * w->zbar + v, ls = log(s);
        sum += w->w * (t[0] + (px - 1) * w->lz - (px + q) * ls);
        if (g) {
            sp += w->w * (t[1] + x * (w->lz - ls));
            sq += w->w * (t[2] - ls);
            sv -= w->w * (px + q) / s;
        }
    }
    double n = ctx->weight;
    if (g) {
        grad[0] = p * sp / n;
        grad[1] = q * (log(v) - gsl_sf_psi(q) + sq / n);
        grad[2] = v * (q / v + sv / n);
    }
    return base + sum / n;
}

static double bg_mean_loglik(struct fit_ctx *ctx, const double *lp)
{
    return bg_eval(ctx, lp, NULL);
}

static double gg_mean_loglik(struct fit_ctx *ctx, const double *lp)
{
    return gg_eval(ctx, lp, NULL);
}

struct objective {
    double (*mean_loglik)(struct fit_ctx *, const double *);
    double (*eval)(struct fit_ctx *, const double *, double *); /* with the gradient */
    struct fit_ctx *ctx;
    size_t dim;
    int bound_i; /* a log-parameter whose run past 'bound_lp' means a degenerate
                    likelihood (no finite optimum worth the fallback); -1: none */
    double bound_lp;
    bool degenerate; /* set by minimise: it stopped there */
};

static double objective_f(const gsl_vector *v, void *arg)
{
    struct objective *o = arg;
    double lp[4];
    for (size_t i = 0; i < o->dim; i++)
        lp[i] = gsl_vector_get(v, i);
    o->ctx->evaluations++;
    double ll = o->mean_loglik(o->ctx, lp);
    return isfinite(ll) ? -ll : BAD_OBJECTIVE;
}

static void objective_fdf(const gsl_vector *v, void *arg, double *f, gsl_vector *df)
{
    struct objective *o = arg;
    double lp[4], g[4] = {0};
    for (size_t i = 0; i < o->dim; i++)
        lp[i] = gsl_vector_get(v, i);
    o->ctx->evaluations++;
    double ll = o->eval(o->ctx, lp, g);
    bool ok = isfinite(ll);
    for (size_t i = 0; i < o->dim; i++)
        ok = ok && isfinite(g[i]);
    *f = ok ? -ll : BAD_OBJECTIVE;
    for (size_t i = 0; i < o->dim; i++)
        gsl_vector_set(df, i, ok ? -g[i] : 0);
}

static void objective_df(const gsl_vector *v, void *arg, gsl_vector *df)
{
    double f;
    objective_fdf(v, arg, &f, df);
}

/* Simplex size (in log-parameters, so relative) at which a run stops.  Near
 * the optimum the objective changes by about size², so much below 1e-7 it
 * drowns in rounding (the mean log-likelihood is ~4 with ~1e-16 of noise)
 * and the simplex wanders instead of shrinking. */
#define SIZE_TOL 1e-6

/*
 * One Nelder-Mead run from 'lp' (log-parameters, updated to the best point)
 * with initial step 'step'; '*fmin' gets the objective there.  Returns 1 if
 * the simplex shrank below the tolerance, 0 if it ran out of iterations, −1
 * on allocation failure.
 */
static int nm_run(struct objective *o, double *lp, double step, double *fmin)
{
    int rc = -1;
    gsl_multimin_function fn = {.f = objective_f, .n = o->dim, .params = o};
    gsl_vector *x = gsl_vector_alloc(o->dim), *ss = gsl_vector_alloc(o->dim);
    gsl_multimin_fminimizer *s =
        gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, o->dim);
    if (!x || !ss || !s)
        goto out;
    for (size_t i = 0; i < o->dim; i++) {
        gsl_vector_set(x, i, lp[i]);
        gsl_vector_set(ss, i, step);
    }
    if (gsl_multimin_fminimizer_set(s, &fn, x, ss) != GSL_SUCCESS)
        goto out;
    rc = 0;
    for (int iter = 0; iter < 20000; iter++) {
        if (gsl_multimin_fminimizer_iterate(s) != GSL_SUCCESS)
            break;
        if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(s), SIZE_TOL) == GSL_SUCCESS) {
            rc = 1;
            break;
        }
    }
    for (size_t i = 0; i < o->dim; i++)
        lp[i] = gsl_vector_get(s->x, i);
    *fmin = s->fval;
out:
    gsl_multimin_fminimizer_free(s);
    gsl_vector_free(x);
    gsl_vector_free(ss);
    return rc;
}

/* Gradient sizes (largest |∂ mean log-likelihood / ∂ log θ_i|; the mean is
 * ~1–10 and its analytic gradient exact to ~1e-12): BFGS hands over to
 * Newton's method below BFGS_TOL, and a fit has converged below GRAD_TOL,
 * far inside what moves the parameters' fourth digit.  BFGS alone creeps
 * along the narrow valleys of these likelihoods (r against α, a against b)
 * for dozens of iterations; Newton's steps on the exact gradient finish in
 * two or three. */
#define BFGS_TOL 1e-4
#define GRAD_TOL 1e-9

/* The objective (minus the mean log-likelihood) at 'lp' into '*f' and its
 * gradient into 'g'; false where it is not finite. */
static bool fgrad(struct objective *o, const double *lp, double *f, double *g)
{
    double ll = o->eval(o->ctx, lp, g);
    o->ctx->evaluations++;
    bool ok = isfinite(ll);
    for (size_t i = 0; i < o->dim; i++) {
        g[i] = -g[i];
        ok = ok && isfinite(g[i]);
    }
    *f = -ll;
    return ok;
}

static double max_abs(const double *v, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabs(v[i]) > m ? fabs(v[i]) : m;
    return m;
}

/*
 * One BFGS run (GSL's vector_bfgs2 on the analytic gradient) from 'lp'
 * (log-parameters, updated to the best point) until the gradient is below
 * 'tol'; '*fmin' gets the objective there.  Returns 1 if it got there, 0 if
 * the line search could make no more progress or the iterations ran out, −1
 * on allocation failure.
 */
static int bfgs_run(struct objective *o, double *lp, double tol, double *fmin)
{
    int rc = -1;
    gsl_multimin_function_fdf fn = {
        .f = objective_f, .df = objective_df, .fdf = objective_fdf, .n = o->dim, .params = o};
    gsl_vector *x = gsl_vector_alloc(o->dim);
    gsl_multimin_fdfminimizer *s =
        gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, o->dim);
    if (!x || !s)
        goto out;
    for (size_t i = 0; i < o->dim; i++)
        gsl_vector_set(x, i, lp[i]);
    if (gsl_multimin_fdfminimizer_set(s, &fn, x, 0.1, 0.1) != GSL_SUCCESS)
        goto out;
    rc = 0;
    for (int iter = 0; iter < 1000 && s->f < BAD_OBJECTIVE; iter++) {
        if (max_abs(s->gradient->data, o->dim) < tol) {
            rc = 1;
            break;
        }
        if (gsl_multimin_fdfminimizer_iterate(s) != GSL_SUCCESS)
            break;
    }
    if (max_abs(s->gradient->data, o->dim) < tol)
        rc = 1;
    for (size_t i = 0; i < o->dim; i++)
        lp[i] = gsl_vector_get(s->x, i);
    *fmin = s->f;
out:
    gsl_multimin_fdfminimizer_free(s);
    gsl_vector_free(x);
    return rc;
}

/*
 * Newton's method from 'lp' (near a minimum; updated to the best point):
 * the Hessian by forward differences of the analytic gradient, the step by
 * GSL's Cholesky solver, halved while it makes the objective worse.
 * '*fmin' gets the objective at 'lp'.  Returns 1 once the gradient is below
 * GRAD_TOL, 0 if the Hessian is not positive definite or no step helps, −1
 * on allocation failure.
 */
static int newton_run(struct objective *o, double *lp, double *fmin)
{
    size_t n = o->dim;
    double f, g[4], best = INFINITY;
    int rc = -1;
    gsl_matrix *h = gsl_matrix_alloc(n, n);
    gsl_vector *step = gsl_vector_alloc(n), *rhs = gsl_vector_alloc(n);
    if (!h || !step || !rhs)
        goto out;
    rc = 0;
    if (!fgrad(o, lp, &f, g))
        goto out;
    best = f;
    for (int iter = 0; iter < 20; iter++) {
        double gmax = max_abs(g, n);
        if (gmax < GRAD_TOL) {
            rc = 1;
            break;
        }
        for (size_t j = 0; j < n; j++) { /* column j: (∇(lp + ε e_j) − ∇(lp)) / ε */
            double p[4], fj, gj[4], eps = 1e-6;
            memcpy(p, lp, sizeof(p));
            p[j] += eps;
            if (!fgrad(o, p, &fj, gj))
                goto out;
            for (size_t i = 0; i < n; i++)
                gsl_matrix_set(h, i, j, (gj[i] - g[i]) / eps);
        }
        for (size_t i = 0; i < n; i++) /* symmetric, as the true Hessian */
            for (size_t j = 0; j < i; j++) {
                double m = (gsl_matrix_get(h, i, j) + gsl_matrix_get(h, j, i)) / 2;
                gsl_matrix_set(h, i, j, m);
                gsl_matrix_set(h, j, i, m);
            }
        for (size_t i = 0; i < n; i++)
            gsl_vector_set(rhs, i, -g[i]);
        if (gsl_linalg_cholesky_decomp1(h) != GSL_SUCCESS ||
            gsl_linalg_cholesky_solve(h, rhs, step) != GSL_SUCCESS)
            goto out; /* not a minimum's neighbourhood: leave it to the caller */
        bool moved = false;
        for (double t = 1; t > 1e-3 && !moved; t /= 2) {
            double p[4], fp, gp[4];
            for (size_t i = 0; i < n; i++)
                p[i] = lp[i] + t * gsl_vector_get(step, i);
            /* Near the optimum the objective's change drowns in rounding, so
             * a step is also taken when it shrinks the gradient and leaves
             * the objective the same to a few ulps. */
            if (fgrad(o, p, &fp, gp) &&
                (fp < f || (fp <= f + 1e-14 * fabs(f) && max_abs(gp, n) < gmax))) {
                memcpy(lp, p, n * sizeof(*lp));
                memcpy(g, gp, sizeof(g));
                f = fp;
                moved = true;
            }
        }
        if (!moved)
            break;
        best = f;
    }
    if (max_abs(g, n) < GRAD_TOL)
        rc = 1;
out:
    *fmin = best;
    gsl_matrix_free(h);
    gsl_vector_free(step);
    gsl_vector_free(rhs);
    return rc;
}

/*
 * Minimises 'o' from each of the 'nstarts' rows of 'starts' (log-
 * parameters) and keeps the best into 'best'.  Each start is first run by
 * BFGS on the analytic gradient (a few dozen evaluations), restarted at its
 * end until the gradient is below GRAD_TOL or a restart gains nothing; if no
 * start reaches that, Nelder-Mead (derivative-free, a thousand and more
 * evaluations) takes every start over, restarting each run at its optimum
 * with a smaller simplex until a restart improves the objective by less
 * than 1e-12 (a collapsed simplex can stop short of the optimum).  A start
 * that ends unconverged beyond o->bound_lp (degenerate) ends it all: its
 * point is the answer, o->degenerate is set and no simplex runs.
 * '*shrunk' is whether the best run ended on its tolerance.
 */
static enum sc_err minimise(struct objective *o, const double (*starts)[4], size_t nstarts,
                            double *best, double *fbest, bool *shrunk)
{
    *fbest = INFINITY;
    *shrunk = false;
    for (size_t s = 0; s < nstarts; s++) {
        double lp[4], f = INFINITY;
        int rc = 0;
        memcpy(lp, starts[s], sizeof(lp));
        if ((rc = bfgs_run(o, lp, BFGS_TOL, &f)) < 0 || (rc = newton_run(o, lp, &f)) < 0)
            return SC_ENOMEM;
        /* Two converged runs from different starts on the same optimum (the
         * same log-parameters to 1e-6): the rest would find it again. */
        bool same = rc == 1 && *shrunk;
        for (size_t i = 0; same && i < o->dim; i++)
            same = fabs(lp[i] - best[i]) < 1e-6;
        if (f < *fbest || (rc == 1 && !*shrunk && f <= *fbest + 1e-12)) {
            *fbest = f;
            memcpy(best, lp, sizeof(lp));
            *shrunk = rc == 1;
        }
        if (same || (rc != 1 && o->bound_i >= 0 && f < BAD_OBJECTIVE &&
                     lp[o->bound_i] > o->bound_lp)) /* degenerate: see below */
            break;
    }
    if (*shrunk)
        return SC_OK;
    /* Still climbing towards a bound at infinity (Gamma-Gamma's q with spend
     * that hardly varies between customers): Nelder-Mead would only creep on
     * along the flat ridge for a thousand evaluations and more, to the same
     * likelihood and the same values; the gradient path's best is the answer. */
    if (o->bound_i >= 0 && *fbest < BAD_OBJECTIVE && best[o->bound_i] > o->bound_lp) {
        o->degenerate = true;
        return SC_OK;
    }
    *fbest = INFINITY;
    for (size_t s = 0; s < nstarts; s++) {
        double lp[4], f = INFINITY, fprev;
        int rc = 0;
        memcpy(lp, starts[s], sizeof(lp));
        for (int restart = 0; restart < 20; restart++) {
            fprev = f;
            rc = nm_run(o, lp, restart == 0 ? 1.0 : 0.05, &f);
            if (rc < 0)
                return SC_ENOMEM;
            if (restart > 0 && fprev - f < 1e-12)
                break;
        }
        if (f < *fbest) {
            *fbest = f;
            memcpy(best, lp, sizeof(lp));
            *shrunk = rc == 1;
        }
    }
    return SC_OK;
}

/* Largest |∂ mean log-likelihood / ∂ log θ_i| at 'lp', by central differences
 * (independent of the analytic gradient the minimiser used). */
static double grad_max(struct objective *o, const double *lp)
{
    double g = 0, h = 1e-5, p[4];
    for (size_t i = 0; i < o->dim; i++) {
        memcpy(p, lp, sizeof(p));
        p[i] = lp[i] + h;
        double up = o->mean_loglik(o->ctx, p);
        p[i] = lp[i] - h;
        double down = o->mean_loglik(o->ctx, p);
        double d = fabs(up - down) / (2 * h);
        if (!(d <= g)) /* NaN propagates as "not converged" */
            g = d;
    }
    return g;
}

static void fill_info(struct sc_clv_fit_info *info, struct objective *o, size_t n, const double *lp,
                      double fbest, bool shrunk)
{
    if (!info)
        return;
    info->n = n;
    info->loglik = -fbest * (double)n;
    info->grad_max = grad_max(o, lp);
    info->evaluations = o->ctx->evaluations;
    info->converged = shrunk && fbest < BAD_OBJECTIVE && info->grad_max < 1e-4;
    info->degenerate = o->degenerate;
}

enum sc_err sc_clv_bgnbd_fit(const struct sc_clv_summary *c, size_t n, struct sc_clv_bgnbd *out,
                             struct sc_clv_fit_info *info)
{
    enum sc_err err;
    double mean_T = 0;
    if (n == 0)
        return SC_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!history_ok(c[i].x, c[i].t_x, c[i].T))
            return SC_EINVAL;
        mean_T += c[i].T / (double)n;
    }
    if (!(mean_T > 0))
        mean_T = 1;
    /* Starting points: all ones (as is customary), and two scaled to the
     * data's time unit, with a slow and a fast purchase rate. */
    const double starts[3][4] = {
        {0, 0, 0, 0},
        {log(0.25), log(mean_T / 10), log(0.8), log(2.5)},
        {log(2), log(mean_T), log(2), log(2)},
    };
    struct fit_ctx ctx;
    struct objective o = {bg_mean_loglik, bg_eval, &ctx, 4, -1, 0, false};
    double lp[4], f;
    bool shrunk;
    err = ctx_build(&ctx, c, n, false);
    if (err == SC_OK)
        err = minimise(&o, starts, 3, lp, &f, &shrunk);
    if (err != SC_OK)
        goto out;
    out->r = exp(lp[0]);
    out->alpha = exp(lp[1]);
    out->a = exp(lp[2]);
    out->b = exp(lp[3]);
    fill_info(info, &o, n, lp, f, shrunk);
out:
    ctx_cleanup(&ctx);
    return err;
}

enum sc_err sc_clv_gg_fit(const struct sc_clv_summary *c, size_t n, struct sc_clv_gg *out,
                          struct sc_clv_fit_info *info)
{
    enum sc_err err;
    size_t k = 0;
    double mean_z = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].x > 0 && c[i].zbar > 0 && isfinite(c[i].zbar)) {
            k++;
            mean_z += c[i].zbar;
        }
    if (k < 2)
        return SC_EINVAL;
    mean_z /= (double)k;
    const double starts[3][4] = {
        {0, 0, 0, 0},
        {log(5), log(3), log(mean_z), 0},
        {log(1), log(2), log(mean_z / 2), 0},
    };
    struct fit_ctx ctx;
    struct objective o = {gg_mean_loglik, gg_eval, &ctx, 3, 1, log(SC_CLV_GG_Q_BOUND), false};
    double lp[4] = {0}, f;
    bool shrunk;
    err = ctx_build(&ctx, c, n, true);
    if (err == SC_OK)
        err = minimise(&o, starts, 3, lp, &f, &shrunk);
    if (err != SC_OK)
        goto out;
    out->p = exp(lp[0]);
    out->q = exp(lp[1]);
    out->v = exp(lp[2]);
    fill_info(info, &o, k, lp, f, shrunk);
out:
    ctx_cleanup(&ctx);
    return err;
}
