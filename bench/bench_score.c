/*
 * bench_score.c — how good the lead score is, judged against a floor and a
 * ceiling: on simulated worlds with TRUE propensities (sc_score_simulate),
 * train on the oldest 80 % of leads by first touch, test on the newest 20 %,
 * and print the held-out AUC of the model, of the view-count baseline (the
 * floor), of the true propensities (the ceiling: what the data allows), of
 * the shipped prior and of the other worlds' learned weights; then the
 * model's calibration by decile and the time a training takes.
 *
 *   build/bench/bench_score [LEADS_PER_WORLD] [SEED]     (defaults 5000, 1)
 *
 * With --train, training at scale instead (issue 13: 1M leads ≤ 20 s on one
 * core, ≤ 200 MB): N leads of a world simulated in process, then one
 * sc_score_train timed, with the peak resident memory of the whole process
 * (getrusage's ru_maxrss: the examples themselves included) before and
 * after it.
 *
 *   build/bench/bench_score --train N [WORLD 0-2] [SEED]   (defaults 1000000, 0, 1)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "sharecard/score.h"

#define NOW     1800000000LL
#define NWORLDS 3

static const char *const world_name[NWORLDS] = {"saving matters", "returning matters",
                                                "mixed, weaker signals"};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct key {
    int64_t t;
    size_t i;
};

static int by_key(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    if (x->t != y->t)
        return (x->t > y->t) - (x->t < y->t);
    return (x->i > y->i) - (x->i < y->i);
}

/* AUC on the newest fifth (as sc_score_train splits) of model 'm', or of
 * 'p_true' when 'm' is NULL. */
static double test_auc(const struct sc_score_example *ex, const double *p_true, size_t n,
                       const struct sc_score_model *m)
{
    struct key *k = malloc(n * sizeof(*k));
    size_t nt = n / 5, a = n - nt;
    double *s = malloc(nt * sizeof(*s)), auc = NAN;
    int *y = malloc(nt * sizeof(*y));
    if (!k || !s || !y)
        exit(1);
    for (size_t i = 0; i < n; i++)
        k[i] = (struct key){ex[i].first_touch, i};
    qsort(k, n, sizeof(*k), by_key);
    for (size_t j = 0; j < nt; j++) {
        size_t i = k[a + j].i;
        s[j] = m ? sc_score_prob(m, ex[i].x) : p_true[i];
        y[j] = ex[i].y;
    }
    if (sc_score_auc(s, y, nt, &auc) != SC_OK)
        exit(1);
    free(k);
    free(s);
    free(y);
    return auc;
}

/* How many leads it takes: for growing deployments, the mean over five seeds
 * of the held-out AUC of what is active after training (the prior when too
 * few outcomes or when the new model is worse), and how often a model went live. */
static void learning_curve(uint64_t seed, const struct sc_score_model *prior)
{
    static const size_t sizes[] = {150, 300, 600, 1200, 2500};
    enum { SEEDS = 5 };
    printf("learning curve (mean of %d seeds; active model's held-out AUC, prior's, models "
           "activated):\n",
           SEEDS);
    for (int w = 0; w < NWORLDS; w++) {
        printf("  %-22s", world_name[w]);
        for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
            size_t n = sizes[k];
            struct sc_score_example *ex = malloc(n * sizeof(*ex));
            double *pt = malloc(n * sizeof(*pt)), auc = 0, auc_prior = 0;
            int live = 0;
            if (!ex || !pt)
                exit(1);
            for (int s = 0; s < SEEDS; s++) {
                struct sc_score_model m;
                struct sc_score_report r;
                if (sc_score_simulate(w, n, seed * 100 + (uint64_t)s, NOW, ex, pt) != SC_OK ||
                    sc_score_train(ex, n, prior, 0, NOW, &m, &r) != SC_OK)
                    exit(1);
                auc += test_auc(ex, pt, n, &m) / SEEDS;
                auc_prior += test_auc(ex, pt, n, prior) / SEEDS;
                live += r.verdict == SC_SCORE_ACTIVATED;
            }
            printf("  n=%zu %.3f/%.3f %d/%d", n, auc, auc_prior, live, SEEDS);
            free(ex);
            free(pt);
        }
        printf("\n");
    }
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int train_at_scale(int argc, char **argv)
{
    size_t n = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 1000000;
    int w = argc > 3 ? atoi(argv[3]) : 0;
    uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
    if (n < 100 || w < 0 || w >= NWORLDS)
        return 2;
    struct sc_score_example *ex = malloc(n * sizeof(*ex));
    struct sc_score_model prior, m;
    struct sc_score_report rep;
    if (!ex)
        return 1;
    sc_score_prior(&prior);
    double t0 = now_ms();
    if (sc_score_simulate(w, n, seed, NOW, ex, NULL) != SC_OK)
        return 1;
    double sim_ms = now_ms() - t0;
    long rss_data = max_rss_kb();
    t0 = now_ms();
    double c0 = cpu_ms();
    if (sc_score_train(ex, n, &prior, 0, NOW, &m, &rep) != SC_OK)
        return 1;
    double train_ms = now_ms() - t0, train_cpu = cpu_ms() - c0;
    long rss_peak = max_rss_kb();
    printf("training on %zu leads (%s, seed %llu; simulated in %.1f s): %.2f s wall, %.2f s "
           "CPU (one thread)\n",
           n, world_name[w], (unsigned long long)seed, sim_ms / 1e3, train_ms / 1e3,
           train_cpu / 1e3);
    printf("peak RSS: %.1f MB with the examples loaded (%.1f MB of them), %.1f MB after "
           "training (+%.1f MB)\n",
           rss_data / 1024.0, (double)(n * sizeof(*ex)) / 1048576.0, rss_peak / 1024.0,
           (rss_peak - rss_data) / 1024.0);
    printf("held-out AUC %.3f (view count %.3f, prior %.3f) on %u test leads, %u positives of "
           "%u: %s\n",
           rep.auc, rep.auc_baseline, rep.auc_active, rep.n_test, rep.positives, rep.n,
           rep.verdict == SC_SCORE_ACTIVATED ? "activated" : "kept the prior");
    free(ex);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--train") == 0)
        return train_at_scale(argc, argv);
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 5000;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    struct sc_score_example *ex[NWORLDS];
    double *pt[NWORLDS];
    struct sc_score_model prior, model[NWORLDS];
    struct sc_score_report rep[NWORLDS];
    double train_ms[NWORLDS];

    sc_score_prior(&prior);
    for (int w = 0; w < NWORLDS; w++) {
        ex[w] = malloc(n * sizeof(*ex[w]));
        pt[w] = malloc(n * sizeof(*pt[w]));
        if (!ex[w] || !pt[w] || sc_score_simulate(w, n, seed, NOW, ex[w], pt[w]) != SC_OK)
            return 1;
        double t0 = now_ms();
        if (sc_score_train(ex[w], n, &prior, 0, NOW, &model[w], &rep[w]) != SC_OK)
            return 1;
        train_ms[w] = now_ms() - t0;
    }

    printf("lead score, %zu leads per world (seed %llu); held-out AUC on the newest 20%%:\n", n,
           (unsigned long long)seed);
    printf("%-24s %6s %6s %8s %8s %8s %8s %8s %9s\n", "world", "test", "pos%", "model", "views",
           "ceiling", "prior", "other", "train ms");
    for (int w = 0; w < NWORLDS; w++) {
        double other = 0;
        for (int o = 0; o < NWORLDS; o++) /* the best of the other worlds' weights */
            if (o != w) {
                double a = test_auc(ex[w], pt[w], n, &model[o]);
                other = a > other ? a : other;
            }
        printf("%-24s %6u %5.1f%% %8.3f %8.3f %8.3f %8.3f %8.3f %9.1f  %s\n", world_name[w],
               rep[w].n_test, 100.0 * rep[w].positives / rep[w].n, rep[w].auc, rep[w].auc_baseline,
               test_auc(ex[w], pt[w], n, NULL), rep[w].auc_active, other, train_ms[w],
               rep[w].verdict == SC_SCORE_ACTIVATED ? "activated" : "kept the prior");
    }
    for (int w = 0; w < NWORLDS; w++) {
        printf("calibration by decile, %s (mean predicted / observed):\n ", world_name[w]);
        for (int d = 0; d < SC_SCORE_DECILES; d++)
            printf(" %.2f/%.2f", rep[w].calibration[d].predicted, rep[w].calibration[d].observed);
        printf("\n");
    }
    for (int w = 0; w < NWORLDS; w++) {
        printf("weights of 0.2 or more (per standard deviation), %s:", world_name[w]);
        for (int j = 0; j < SC_SCORE_NF; j++)
            if (fabs(model[w].weight[j]) >= 0.2)
                printf(" %s %+.2f", sc_score_feature_name(j), model[w].weight[j]);
        printf("\n");
    }
    learning_curve(seed, &prior);
    for (int w = 0; w < NWORLDS; w++) {
        free(ex[w]);
        free(pt[w]);
    }
    return 0;
}
