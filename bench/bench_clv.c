/*
 * bench_clv.c — the customer-value fits on the CDNOW sample: BG/NBD and
 * Gamma-Gamma parameters beside the published ones, their log-likelihoods,
 * and how long each fit takes (median of several runs), plus the time to
 * score every customer (P(alive), expected orders, value); then the same on
 * 100,000 simulated customers in days, every history distinct (the worst
 * case for the fit's grouping of equal rows), with the parameters recovered.
 *
 *   build/bench/bench_clv [tests/data/cdnow_summary.csv] [RUNS] [SIMULATED]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "sharecard/customers.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Simulates 'n' customers of BG/NBD 'bg' and Gamma-Gamma 'gg' into 'c',
 * observed for a whole number of days from 1 to 730 after their first
 * order, with GSL's Mersenne Twister seeded by 'seed'.  Times stay
 * continuous (the model's own), so the fit should recover the truth up to
 * sampling error. */
static void simulate(struct sc_clv_summary *c, size_t n, const struct sc_clv_bgnbd *bg,
                     const struct sc_clv_gg *gg, unsigned long seed)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng)
        exit(1);
    gsl_rng_set(rng, seed);
    for (size_t i = 0; i < n; i++) {
        double lambda = gsl_ran_gamma(rng, bg->r, 1 / bg->alpha);
        double p = gsl_ran_beta(rng, bg->a, bg->b);
        double nu = gsl_ran_gamma(rng, gg->q, 1 / gg->v);
        double T = (double)(1 + gsl_rng_uniform_int(rng, 730)), t = 0, sum = 0;
        c[i] = (struct sc_clv_summary){(int64_t)i + 1, 0, 0, T, 0};
        for (;;) {
            t += gsl_ran_exponential(rng, 1 / lambda);
            if (t > T)
                break;
            c[i].x++;
            c[i].t_x = t;
            sum += gsl_ran_gamma(rng, gg->p, 1 / nu);
            if (gsl_rng_uniform(rng) < p) /* drops out after this purchase */
                break;
        }
        c[i].zbar = c[i].x > 0 ? sum / c[i].x : 0;
    }
    gsl_rng_free(rng);
}

/* Reads ID,x,t_x,T,zbar rows of 'path' into a new array; NULL on failure. */
static struct sc_clv_summary *read_cdnow(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 4096, k = 0;
    struct sc_clv_summary *c = malloc(cap * sizeof(*c));
    char line[256];
    if (!c || !fgets(line, sizeof(line), f)) { /* header */
        free(c);
        fclose(f);
        return NULL;
    }
    while (fgets(line, sizeof(line), f)) {
        long long id;
        double x, tx, T, z;
        if (sscanf(line, "%lld,%lf,%lf,%lf,%lf", &id, &x, &tx, &T, &z) != 5)
            continue;
        if (k == cap)
            break;
        c[k++] = (struct sc_clv_summary){id, x, tx, T, z};
    }
    fclose(f);
    *n = k;
    return c;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "tests/data/cdnow_summary.csv";
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (runs < 1 || runs > 100)
        runs = 5;
    size_t n = 0;
    struct sc_clv_summary *c = read_cdnow(path, &n);
    if (!c || n == 0) {
        fprintf(stderr, "bench_clv: cannot read %s\n", path);
        return 1;
    }
    struct sc_clv_bgnbd bg = {0};
    struct sc_clv_gg gg = {0};
    struct sc_clv_fit_info bi = {0}, gi = {0};
    double tb[100], tg[100];
    for (int k = 0; k < runs; k++) {
        double t0 = now_ms();
        if (sc_clv_bgnbd_fit(c, n, &bg, &bi) != SC_OK)
            return 1;
        double t1 = now_ms();
        if (sc_clv_gg_fit(c, n, &gg, &gi) != SC_OK)
            return 1;
        tb[k] = t1 - t0;
        tg[k] = now_ms() - t1;
    }
    qsort(tb, (size_t)runs, sizeof(double), cmp);
    qsort(tg, (size_t)runs, sizeof(double), cmp);

    double t0 = now_ms(), total = 0;
    for (size_t i = 0; i < n; i++) {
        double e, v;
        (void)sc_clv_p_alive(&bg, c[i].x, c[i].t_x, c[i].T);
        if (sc_clv_expected(&bg, c[i].x, c[i].t_x, c[i].T, 39, &e) != SC_OK ||
            sc_clv_value(&bg, &gg, &c[i], 52, &v) != SC_OK) {
            fprintf(stderr, "bench_clv: customer %lld not scored\n", (long long)c[i].customer_id);
            return 1;
        }
        total += e;
    }
    double score_ms = now_ms() - t0;

    struct {
        const char *name;
        double fit, pub;
    } rows[] = {
        {"r", bg.r, 0.2426}, {"alpha", bg.alpha, 4.4135}, {"a", bg.a, 0.7929}, {"b", bg.b, 2.4258},
        {"p", gg.p, 6.249},  {"q", gg.q, 3.745},          {"v", gg.v, 15.448},
    };
    printf("CDNOW: %zu customers, %zu with repeat purchases\n", bi.n, gi.n);
    printf("| parameter | fitted | published | difference |\n|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        printf("| %s | %.4f | %.4f | %+.3f%% |\n", rows[i].name, rows[i].fit, rows[i].pub,
               100 * (rows[i].fit - rows[i].pub) / rows[i].pub);
    printf("BG/NBD: log-likelihood %.4f, max |gradient| %.2e, %d evaluations, converged %s, "
           "fit %.1f ms (median of %d)\n",
           bi.loglik, bi.grad_max, bi.evaluations, bi.converged ? "yes" : "no", tb[runs / 2], runs);
    printf("Gamma-Gamma: log-likelihood %.4f, max |gradient| %.2e, %d evaluations, converged "
           "%s, fit %.1f ms (median of %d)\n",
           gi.loglik, gi.grad_max, gi.evaluations, gi.converged ? "yes" : "no", tg[runs / 2], runs);
    printf("Scoring all %zu (P(alive), E[orders in 39 weeks], 52-week value): %.1f ms; "
           "sum of expected orders %.1f\n",
           n, score_ms, total);
    free(c);

    size_t ns = argc > 3 ? (size_t)atol(argv[3]) : 100000;
    const struct sc_clv_bgnbd tb_true = {0.5, 20, 0.7, 3};
    const struct sc_clv_gg tg_true = {6, 4, 20};
    struct sc_clv_summary *sim = malloc((ns ? ns : 1) * sizeof(*sim));
    if (!sim || ns == 0)
        return 1;
    simulate(sim, ns, &tb_true, &tg_true, 1);
    double s0 = now_ms();
    if (sc_clv_bgnbd_fit(sim, ns, &bg, &bi) != SC_OK)
        return 1;
    double s1 = now_ms();
    if (sc_clv_gg_fit(sim, ns, &gg, &gi) != SC_OK)
        return 1;
    double s2 = now_ms();
    printf(
        "Simulated %zu customers in days (truth r 0.5, alpha 20, a 0.7, b 3; p 6, q 4, v 20):\n"
        "  BG/NBD r %.4f alpha %.3f a %.4f b %.4f, converged %s, %d evaluations, fit %.0f ms\n"
        "  Gamma-Gamma on %zu: p %.3f q %.4f v %.3f, converged %s, %d evaluations, fit %.0f ms\n",
        ns, bg.r, bg.alpha, bg.a, bg.b, bi.converged ? "yes" : "no", bi.evaluations, s1 - s0, gi.n,
        gg.p, gg.q, gg.v, gi.converged ? "yes" : "no", gi.evaluations, s2 - s1);
    free(sim);
    return 0;
}
