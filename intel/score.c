/*
 * score.c — the intent model: the shipped prior, a ridge-penalised logistic
 * regression fitted by Newton's method (IRLS) on standardised features, the
 * time split that judges it (oldest 80 % of leads by first touch train, the
 * newest 20 % test), AUC and calibration by decile beside the view-count
 * baseline, the rules that decide whether a new model goes live, and a
 * lead's score, label and reasons.
 *
 * With ~20 features a dense Newton step (a Cholesky solve of a 20×20 system)
 * converges in a handful of iterations, in O(n·p²) each; no library needed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/score.h"

#define ND         (SC_SCORE_NF + 1) /* parameters: bias, then one weight per feature */
#define NEWTON_MAX 100
#define NEWTON_TOL 1e-9
#define REASON_MIN 0.1 /* smallest contribution (in logits) worth a reason */

/* ---- the prior ----------------------------------------------------------- */

void sc_score_prior(struct sc_score_model *out)
{
    /* Hand-set on raw features (log1p counts, flags), centred on a typical
     * lead — one visit on one day, half a minute on the page, three days
     * ago — who signs up about one time in ten.  Coming back on other days,
     * tapping to call or message, saving the contact or sharing the card
     * raise the odds; a long silence lowers them.  Centring makes the
     * prior's reasons what a lead did beyond the typical one. */
    static const double w[SC_SCORE_NF] = {
        [SC_F_VISITS] = 0.3,       [SC_F_DAYS] = 0.8,     [SC_F_GAP] = 0.0,   [SC_F_DWELL] = 0.15,
        [SC_F_DWELL_VISIT] = 0.1,  [SC_F_CALL] = 0.8,     [SC_F_EMAIL] = 0.5, [SC_F_WECHAT] = 0.8,
        [SC_F_WEBSITE] = 0.2,      [SC_F_MAP] = 0.4,      [SC_F_SAVED] = 1.2, [SC_F_SHARES] = 0.6,
        [SC_F_SHARE_VISITS] = 0.3, [SC_F_RECENCY] = -0.4, [SC_F_QR] = 0.5,
    };
    const double typical[SC_SCORE_NF] = {
        [SC_F_VISITS] = log1p(1.0),       [SC_F_DAYS] = log1p(1.0),    [SC_F_DWELL] = log1p(30.0),
        [SC_F_DWELL_VISIT] = log1p(30.0), [SC_F_RECENCY] = log1p(3.0),
    };
    memset(out, 0, sizeof(*out));
    out->version = 0;
    out->auc = NAN;
    out->baseline_auc = NAN;
    out->l2 = 0;
    out->bias = -2.2; /* logit of 10 % */
    for (int j = 0; j < SC_SCORE_NF; j++) {
        out->mean[j] = typical[j];
        out->scale[j] = 1;
        out->weight[j] = w[j];
    }
}

static double sigmoid(double t)
{
    if (t >= 0)
        return 1.0 / (1.0 + exp(-t));
    double e = exp(t);
    return e / (1.0 + e);
}

/*
 * Feature 'j' of 'x' standardised, held within ±Z_MAX.  A value far outside
 * what training saw says nothing the model knows about: the HTTP simulator
 * (bench/sim_http.py) found every live lead scored 100 because training had
 * seen recency only as the minutes between a last visit and a sign-up made
 * during it (a spread of a few seconds), and a live lead's days of silence
 * were thousands of those spreads out.  Within ±6 the prior's raw features
 * (scale 1) and any trained feature's own range pass unchanged.
 */
#define Z_MAX 6.0

static double zval(double x, double mean, double inv_scale)
{
    double z = (x - mean) * inv_scale;
    return z > Z_MAX ? Z_MAX : z < -Z_MAX ? -Z_MAX : z;
}

static double logit(const struct sc_score_model *m, const double x[SC_SCORE_NF])
{
    double t = m->bias;
    for (int j = 0; j < SC_SCORE_NF; j++)
        t += m->weight[j] * zval(x[j], m->mean[j], 1 / m->scale[j]);
    return t;
}

double sc_score_prob(const struct sc_score_model *m, const double x[SC_SCORE_NF])
{
    return sigmoid(logit(m, x));
}

/* ---- AUC and calibration ------------------------------------------------- */

struct ranked {
    double s;
    size_t i;
};

static int by_score(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->s != y->s)
        return (x->s > y->s) - (x->s < y->s);
    return (x->i > y->i) - (x->i < y->i);
}

/* The weight of example 'e': 1/per_lead, so that each lead counts once. */
static double ex_weight(const struct sc_score_example *e)
{
    return e->per_lead > 1 ? 1.0 / e->per_lead : 1.0;
}

/*
 * AUC with example weights 'w' (NULL: all 1): the weighted probability that
 * a positive outscores a negative, ties counted half.
 */
static enum sc_err auc_weighted(const double *score, const int *y, const double *w, size_t n,
                                double *out)
{
    enum sc_err e = SC_OK;
    struct ranked *r = NULL;
    double npos = 0, nneg = 0, won = 0, neg_below = 0;

    for (size_t i = 0; i < n; i++)
        *(y[i] ? &npos : &nneg) += w ? w[i] : 1;
    if (npos == 0 || nneg == 0) {
        e = SC_EINVAL;
        goto out;
    }
    r = malloc(n * sizeof(*r));
    if (!r) {
        e = SC_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        r[i] = (struct ranked){score[i], i};
    qsort(r, n, sizeof(*r), by_score);
    /* Lowest first: each positive wins against the negatives' weight below
     * it and half of that tied with it. */
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b + 1 < n && r[b + 1].s == r[a].s)
            b++;
        double pos_tied = 0, neg_tied = 0;
        for (size_t k = a; k <= b; k++)
            *(y[r[k].i] ? &pos_tied : &neg_tied) += w ? w[r[k].i] : 1;
        won += pos_tied * (neg_below + neg_tied / 2);
        neg_below += neg_tied;
        a = b + 1;
    }
    *out = won / (npos * nneg);
out:
    free(r);
    return e;
}

enum sc_err sc_score_auc(const double *score, const int *y, size_t n, double *out)
{
    return auc_weighted(score, y, NULL, n, out);
}

/*
 * Calibration by decile of 'p' against 'y' with weights 'w' (n each) into
 * 'dec': deciles of equal weight (of leads, each counting once), their
 * weight as 'n', rounded so that the n add up to the leads.
 */
static enum sc_err calibrate(const double *p, const int *y, const double *w, size_t n,
                             struct sc_score_decile dec[SC_SCORE_DECILES])
{
    struct ranked *r = malloc((n ? n : 1) * sizeof(*r));
    if (!r)
        return SC_ENOMEM;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        r[i] = (struct ranked){p[i], i};
        total += w[i];
    }
    qsort(r, n, sizeof(*r), by_score);
    size_t i = 0;
    double before = 0; /* weight of the deciles before this one */
    for (size_t k = 0; k < SC_SCORE_DECILES; k++) {
        double end = total * (double)(k + 1) / SC_SCORE_DECILES, sw = 0, sp = 0, sy = 0;
        /* an example belongs to the decile its weight's middle falls in */
        while (i < n && (k + 1 == SC_SCORE_DECILES || before + sw + w[r[i].i] / 2 <= end)) {
            double wi = w[r[i].i];
            sw += wi;
            sp += wi * r[i].s;
            sy += wi * y[r[i].i];
            i++;
        }
        dec[k].n = (uint32_t)(llround(before + sw) - llround(before)); /* sums to the whole */
        before += sw;
        dec[k].predicted = sw > 0 ? sp / sw : 0;
        dec[k].observed = sw > 0 ? sy / sw : 0;
    }
    free(r);
    return SC_OK;
}

/* ---- the time split ------------------------------------------------------ */

struct split {
    size_t *idx; /* indices into the examples, oldest first touch first */
    size_t n_train, n_test;
};

struct touch_key {
    int64_t t;
    size_t i;
};

static int by_first_touch(const void *a, const void *b)
{
    const struct touch_key *x = a, *y = b;
    if (x->t != y->t)
        return (x->t > y->t) - (x->t < y->t);
    return (x->i > y->i) - (x->i < y->i);
}

/*
 * Oldest 80 % train, newest 20 % test; 'sp->idx' is new, free with free().
 * Examples with the same first touch (one lead's cut-offs) stay on one side.
 */
static enum sc_err split_by_time(const struct sc_score_example *ex, size_t n, struct split *sp)
{
    struct touch_key *k = malloc((n ? n : 1) * sizeof(*k));
    sp->idx = malloc((n ? n : 1) * sizeof(*sp->idx));
    if (!k || !sp->idx) {
        free(k);
        return SC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        k[i] = (struct touch_key){ex[i].first_touch, i};
    qsort(k, n, sizeof(*k), by_first_touch);
    for (size_t i = 0; i < n; i++)
        sp->idx[i] = k[i].i;
    size_t b = n - n / 5;
    while (b > 0 && b < n && k[b].t == k[b - 1].t)
        b++;
    free(k);
    sp->n_train = b;
    sp->n_test = n - b;
    return SC_OK;
}

/* How many leads (weights summed) the examples from 'a' to 'b' of 'sp' are;
 * only positive ones with 'pos'. */
static uint32_t leads_of(const struct sc_score_example *ex, const struct split *sp, size_t a,
                         size_t b, bool pos)
{
    double t = 0;
    for (size_t k = a; k < b; k++)
        if (!pos || ex[sp->idx[k]].y)
            t += ex_weight(&ex[sp->idx[k]]);
    return (uint32_t)llround(t);
}

/* Scores, labels and weights of the test part under 'm' (NULL: the view count). */
static void test_scores(const struct sc_score_model *m, const struct sc_score_example *ex,
                        const struct split *sp, double *s, int *y, double *w)
{
    for (size_t k = 0; k < sp->n_test; k++) {
        const struct sc_score_example *e = &ex[sp->idx[sp->n_train + k]];
        s[k] = m ? sc_score_prob(m, e->x) : (double)e->views;
        y[k] = e->y != 0;
        w[k] = ex_weight(e);
    }
}

static bool both_classes(const int *y, size_t n)
{
    bool pos = false, neg = false;
    for (size_t i = 0; i < n; i++)
        *(y[i] ? &pos : &neg) = true;
    return pos && neg;
}

/* ---- fitting ------------------------------------------------------------- */

/* Solves A x = b in place (b becomes x) for a symmetric positive definite
 * A of size d×d (overwritten by its Cholesky factor).  False if not SPD. */
static bool cholesky_solve(double *a, double *b, int d)
{
    for (int j = 0; j < d; j++) {
        double s = a[j * d + j];
        for (int k = 0; k < j; k++)
            s -= a[j * d + k] * a[j * d + k];
        if (s <= 0)
            return false;
        a[j * d + j] = sqrt(s);
        for (int i = j + 1; i < d; i++) {
            double t = a[i * d + j];
            for (int k = 0; k < j; k++)
                t -= a[i * d + k] * a[j * d + k];
            a[i * d + j] = t / a[j * d + j];
        }
    }
    for (int i = 0; i < d; i++) { /* L y = b */
        double t = b[i];
        for (int k = 0; k < i; k++)
            t -= a[i * d + k] * b[k];
        b[i] = t / a[i * d + i];
    }
    for (int i = d - 1; i >= 0; i--) { /* Lᵀ x = y */
        double t = b[i];
        for (int k = i + 1; k < d; k++)
            t -= a[k * d + i] * b[k];
        b[i] = t / a[i * d + i];
    }
    return true;
}

/*
 * The training rows as the fit sees them: standardised features with a
 * leading 1, made from the examples on the fly rather than stored (a stored
 * n × ND matrix of doubles would be 160 MB for a million leads, as much
 * again as the examples themselves; the 20 subtractions and divisions per
 * row are a tenth of the Hessian's work for that row).
 */
struct rows {
    const struct sc_score_example *ex;
    size_t nex;
    const unsigned char *train; /* nex flags: 1 for the training part */
    size_t n;                   /* how many are 1 */
    double mean[SC_SCORE_NF], inv_scale[SC_SCORE_NF];
};

/* The rows are visited in the examples' own order (a pass over memory, not
 * a random walk in time order: three to four times faster at a million). */
#define FOR_ROWS(r, i)                                                                             \
    for (size_t i = 0; i < (r)->nex; i++)                                                          \
        if ((r)->train[i])

/* Example 'i' standardised into 'z' (ND values), its weight into '*w'; returns its label. */
static int row(const struct rows *r, size_t i, double *z, double *w)
{
    const struct sc_score_example *x = &r->ex[i];
    *w = ex_weight(x);
    z[0] = 1;
    for (int j = 0; j < SC_SCORE_NF; j++)
        z[j + 1] = zval(x->x[j], r->mean[j], r->inv_scale[j]);
    return x->y != 0;
}

/* Penalised log-likelihood of 'beta' over the rows. */
static double objective(const struct rows *r, const double *beta, double l2)
{
    double ll = 0, z[ND], w;
    FOR_ROWS(r, i)
    {
        int y = row(r, i, z, &w);
        double t = 0;
        for (int j = 0; j < ND; j++)
            t += z[j] * beta[j];
        /* log σ(t) for y = 1, log(1 − σ(t)) for y = 0, without overflow */
        double u = y ? -t : t;
        ll -= w * (u > 0 ? u + log1p(exp(-u)) : log1p(exp(u)));
    }
    for (int j = 1; j < ND; j++)
        ll -= 0.5 * l2 * beta[j] * beta[j];
    return ll;
}

/*
 * Fits 'm' (its mean and scale already set) on the rows by Newton's method
 * with step halving.  The bias is not penalised.
 */
static void newton(const struct rows *r, double l2, struct sc_score_model *m)
{
    double beta[ND] = {0}, h[ND * ND], g[ND], cand[ND], z[ND], wt;
    double npos = 0, n = 0;
    FOR_ROWS(r, i)
    {
        double w = ex_weight(&r->ex[i]);
        npos += w * (r->ex[i].y != 0);
        n += w;
    }
    beta[0] = log((npos + 0.5) / (n - npos + 0.5)); /* start at the base rate */
    double f = objective(r, beta, l2);

    for (int it = 0; it < NEWTON_MAX; it++) {
        memset(h, 0, sizeof(h));
        memset(g, 0, sizeof(g));
        FOR_ROWS(r, i)
        {
            int y = row(r, i, z, &wt);
            double t = 0;
            for (int j = 0; j < ND; j++)
                t += z[j] * beta[j];
            double mu = sigmoid(t), w = wt * mu * (1 - mu), res = wt * (y - mu);
            for (int j = 0; j < ND; j++) {
                g[j] += z[j] * res;
                double wz = w * z[j];
                for (int k = 0; k <= j; k++)
                    h[j * ND + k] += wz * z[k];
            }
        }
        for (int j = 0; j < ND; j++) {
            for (int k = 0; k < j; k++)
                h[k * ND + j] = h[j * ND + k];
            if (j > 0) {
                g[j] -= l2 * beta[j];
                h[j * ND + j] += l2;
            }
            h[j * ND + j] += 1e-10;
        }
        if (!cholesky_solve(h, g, ND))
            break;
        double step = 1.0, fc = f, maxd = 0;
        for (int half = 0; half < 30; half++, step /= 2) {
            for (int j = 0; j < ND; j++)
                cand[j] = beta[j] + step * g[j];
            fc = objective(r, cand, l2);
            if (fc >= f - 1e-12)
                break;
        }
        for (int j = 0; j < ND; j++) {
            double d = fabs(cand[j] - beta[j]);
            maxd = d > maxd ? d : maxd;
            beta[j] = cand[j];
        }
        f = fc;
        if (maxd < NEWTON_TOL)
            break;
    }
    m->bias = beta[0];
    for (int j = 0; j < SC_SCORE_NF; j++)
        m->weight[j] = beta[j + 1];
}

/* Fits a model on the training part of 'sp' into 'm'. */
static enum sc_err fit(const struct sc_score_example *ex, size_t nex, const struct split *sp,
                       double l2, struct sc_score_model *m)
{
    struct rows r = {.ex = ex, .nex = nex, .n = sp->n_train};
    double n = 0;
    unsigned char *train = calloc(nex ? nex : 1, 1);
    if (!train)
        return SC_ENOMEM;
    for (size_t k = 0; k < sp->n_train; k++)
        train[sp->idx[k]] = 1;
    r.train = train;
    FOR_ROWS(&r, i)
    {
        n += ex_weight(&ex[i]);
    }
    for (int j = 0; j < SC_SCORE_NF; j++) {
        double s = 0, ss = 0;
        FOR_ROWS(&r, i)
        {
            s += ex_weight(&ex[i]) * ex[i].x[j];
        }
        double mean = s / n;
        FOR_ROWS(&r, i)
        {
            double d = ex[i].x[j] - mean;
            ss += ex_weight(&ex[i]) * d * d;
        }
        double sd = sqrt(ss / n);
        m->mean[j] = mean;
        m->scale[j] = sd > 1e-9 ? sd : 1.0; /* a constant feature stays 0 after centring */
        r.mean[j] = m->mean[j];
        r.inv_scale[j] = 1 / m->scale[j];
    }
    newton(&r, l2, m);
    free(train);
    return SC_OK;
}

/* ---- training and evaluation --------------------------------------------- */

enum sc_err sc_score_train(const struct sc_score_example *ex, size_t n,
                           const struct sc_score_model *active, double l2, int64_t now,
                           struct sc_score_model *out, struct sc_score_report *rep)
{
    enum sc_err e = SC_OK;
    struct split sp = {0};
    struct sc_score_report r;
    struct sc_score_model cand, keep = *active;
    double *s = NULL, *w = NULL, lead_pos = 0, lead_neg = 0;
    int *y = NULL;

    memset(&r, 0, sizeof(r));
    r.auc = r.auc_active = r.auc_baseline = NAN;
    if (l2 <= 0)
        l2 = SC_SCORE_L2;
    for (size_t i = 0; i < n; i++)
        *(ex[i].y ? &lead_pos : &lead_neg) += ex_weight(&ex[i]);
    r.n = (uint32_t)llround(lead_pos + lead_neg);
    r.positives = (uint32_t)llround(lead_pos);
    /* Outcomes are leads', whatever the cut-offs per lead. */
    if (lead_pos < SC_SCORE_MIN_CLASS - 1e-6 || lead_neg < SC_SCORE_MIN_CLASS - 1e-6) {
        r.verdict = SC_SCORE_TOO_FEW;
        goto keep_active;
    }
    e = split_by_time(ex, n, &sp);
    if (e != SC_OK)
        goto out;
    r.n_train = leads_of(ex, &sp, 0, sp.n_train, false);
    r.n_test = leads_of(ex, &sp, sp.n_train, n, false);
    s = calloc(sp.n_test ? sp.n_test : 1, sizeof(*s));
    y = calloc(sp.n_test ? sp.n_test : 1, sizeof(*y));
    w = calloc(sp.n_test ? sp.n_test : 1, sizeof(*w));
    if (!s || !y || !w) {
        e = SC_ENOMEM;
        goto out;
    }
    test_scores(NULL, ex, &sp, s, y, w);
    if (!both_classes(y, sp.n_test)) {
        r.verdict = SC_SCORE_UNTESTABLE;
        goto keep_active;
    }
    if ((e = auc_weighted(s, y, w, sp.n_test, &r.auc_baseline)) != SC_OK)
        goto out;
    test_scores(active, ex, &sp, s, y, w);
    if ((e = auc_weighted(s, y, w, sp.n_test, &r.auc_active)) != SC_OK)
        goto out;

    memset(&cand, 0, sizeof(cand));
    if ((e = fit(ex, n, &sp, l2, &cand)) != SC_OK)
        goto out;
    test_scores(&cand, ex, &sp, s, y, w);
    if ((e = auc_weighted(s, y, w, sp.n_test, &r.auc)) != SC_OK)
        goto out;
    if ((e = calibrate(s, y, w, sp.n_test, r.calibration)) != SC_OK)
        goto out;
    if (r.auc < r.auc_active) {
        r.verdict = SC_SCORE_NOT_BETTER;
        goto keep_active;
    }
    cand.version = active->version + 1;
    cand.trained_at = now;
    cand.l2 = l2;
    cand.auc = r.auc;
    cand.baseline_auc = r.auc_baseline;
    cand.n_examples = r.n_train;
    cand.n_positive = leads_of(ex, &sp, 0, sp.n_train, true);
    r.verdict = SC_SCORE_ACTIVATED;
    *out = cand;
    goto out;
keep_active:
    *out = keep;
out:
    if (rep && e == SC_OK)
        *rep = r;
    free(sp.idx);
    free(s);
    free(y);
    free(w);
    return e;
}

enum sc_err sc_score_eval(const struct sc_score_model *m, const struct sc_score_example *ex,
                          size_t n, struct sc_score_report *rep)
{
    enum sc_err e;
    struct split sp = {0};
    double *s = NULL, *w = NULL;
    int *y = NULL;

    memset(rep, 0, sizeof(*rep));
    rep->verdict = SC_SCORE_EVALUATED;
    rep->auc = rep->auc_active = rep->auc_baseline = NAN;
    if ((e = split_by_time(ex, n, &sp)) != SC_OK)
        goto out;
    rep->n = leads_of(ex, &sp, 0, n, false);
    rep->positives = leads_of(ex, &sp, 0, n, true);
    rep->n_train = leads_of(ex, &sp, 0, sp.n_train, false);
    rep->n_test = leads_of(ex, &sp, sp.n_train, n, false);
    s = calloc(sp.n_test ? sp.n_test : 1, sizeof(*s));
    y = calloc(sp.n_test ? sp.n_test : 1, sizeof(*y));
    w = calloc(sp.n_test ? sp.n_test : 1, sizeof(*w));
    if (!s || !y || !w) {
        e = SC_ENOMEM;
        goto out;
    }
    test_scores(NULL, ex, &sp, s, y, w);
    if ((e = auc_weighted(s, y, w, sp.n_test, &rep->auc_baseline)) != SC_OK)
        goto out;
    test_scores(m, ex, &sp, s, y, w);
    if ((e = auc_weighted(s, y, w, sp.n_test, &rep->auc)) != SC_OK)
        goto out;
    rep->auc_active = rep->auc;
    e = calibrate(s, y, w, sp.n_test, rep->calibration);
out:
    free(sp.idx);
    free(s);
    free(y);
    free(w);
    return e;
}

/* ---- a lead's score and reasons ------------------------------------------ */

const char *sc_score_label_name(enum sc_score_label l)
{
    switch (l) {
    case SC_LABEL_HOT: return "hot";
    case SC_LABEL_WARM: return "warm";
    default: return "cold";
    }
}

/* The number a reason about feature 'f' shows, from the raw counts. */
static double reason_value(enum sc_feature f, const struct sc_lead_stats *st)
{
    switch (f) {
    case SC_F_VISITS: return st->visits;
    case SC_F_DAYS: return st->days;
    case SC_F_GAP: return round(st->mean_gap_days);
    case SC_F_DWELL: return st->dwell_s < 60 ? 1 : round(st->dwell_s / 60.0);
    case SC_F_DWELL_VISIT: return st->visits ? round((double)st->dwell_s / st->visits) : 0;
    case SC_F_CALL: return st->clicks[SC_ACT_CALL];
    case SC_F_EMAIL: return st->clicks[SC_ACT_EMAIL];
    case SC_F_WECHAT: return st->clicks[SC_ACT_WECHAT];
    case SC_F_WEBSITE: return st->clicks[SC_ACT_WEBSITE];
    case SC_F_MAP: return st->clicks[SC_ACT_MAP];
    case SC_F_SHARES: return st->shares;
    case SC_F_SHARE_VISITS: return st->share_visits;
    case SC_F_RECENCY: return floor(st->recency_days);
    default: return 1;
    }
}

void sc_score_lead(const struct sc_score_model *m, const double x[SC_SCORE_NF],
                   const struct sc_lead_stats *st, struct sc_score_result *out)
{
    struct sc_score_reason all[SC_SCORE_NF];
    size_t n = 0;

    memset(out, 0, sizeof(*out));
    out->p = sc_score_prob(m, x);
    out->score = (int)lround(100.0 * out->p);
    out->label = out->score >= SC_SCORE_HOT    ? SC_LABEL_HOT
                 : out->score >= SC_SCORE_WARM ? SC_LABEL_WARM
                                               : SC_LABEL_COLD;
    for (int j = 0; j < SC_SCORE_NF; j++) {
        double c = m->weight[j] * zval(x[j], m->mean[j], 1 / m->scale[j]);
        /* A reason is something the lead did that raises the score: more of
         * a helpful feature — or, for recency, less time since the last
         * visit.  Lacking something harmful is no reason. */
        bool did = j == SC_F_RECENCY ? m->weight[j] < 0 : m->weight[j] > 0 && x[j] > 0;
        if (!did || !(c > REASON_MIN))
            continue;
        struct sc_score_reason r = {(enum sc_reason_code)j, reason_value(j, st), c};
        size_t k = n++;
        while (k > 0 && all[k - 1].contrib < c) { /* insertion: largest first */
            all[k] = all[k - 1];
            k--;
        }
        all[k] = r;
    }
    out->n_reasons = n < SC_SCORE_REASONS ? n : SC_SCORE_REASONS;
    memcpy(out->reasons, all, out->n_reasons * sizeof(*all));
}
