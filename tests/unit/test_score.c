/*
 * test_score.c — the lead-intelligence engine (score.h) alone: features see
 * only what came before the cut-off; AUC on hand-counted cases, ties half;
 * training recovers a known signal; a model learns what its own world says
 * (two simulated worlds whose outcomes hang on different signals); the
 * 40/40 rule and the not-worse activation rule; the JSON round trip; training
 * and live scoring agreeing on recency (the examples' cut-offs); best
 * time, best channel, reasons and drafts in English and Chinese.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "sharecard/score.h"

#define NOW  1800000000LL /* 2027-01-15 08:00:00 UTC, a Friday */
#define HOUR 3600LL
#define DAY  86400LL

static struct sc_lead_event ev(int64_t ts, enum sc_ev_type t)
{
    struct sc_lead_event e = {ts, t, SC_ACT_NONE, 0, SC_CH_WECHAT, false};
    return e;
}

static struct sc_lead_event click(int64_t ts, enum sc_click_action a)
{
    struct sc_lead_event e = ev(ts, SC_EV_CLICK);
    e.action = a;
    return e;
}

static struct sc_lead_event dwell(int64_t ts, int32_t s)
{
    struct sc_lead_event e = ev(ts, SC_EV_DWELL);
    e.seconds = s;
    return e;
}

/* ---- features ----------------------------------------------------------- */

static void features_ignore_events_from_the_cutoff_on(void **state)
{
    (void)state;
    int64_t cut = NOW;
    struct sc_lead_event before[] = {
        ev(cut - 3 * DAY, SC_EV_OPEN),     ev(cut - 3 * DAY + 1, SC_EV_VIEW),
        dwell(cut - 3 * DAY + 60, 40),     ev(cut - 1 * DAY, SC_EV_OPEN),
        ev(cut - 1 * DAY + 1, SC_EV_VIEW), click(cut - 1 * DAY + 5, SC_ACT_WECHAT),
        dwell(cut - 1 * DAY + 90, 80),     ev(cut - 1 * DAY + 100, SC_EV_SHARE),
    };
    /* The same lead with its outcome and what followed: at and after the cut-off,
     * and an outcome event before it (outcomes are never features). */
    struct sc_lead_event all[] = {
        ev(cut, SC_EV_SIGNUP),
        ev(cut, SC_EV_SAVE),
        before[3],
        click(cut + 10, SC_ACT_CALL),
        before[0],
        ev(cut + DAY, SC_EV_VIEW),
        before[7],
        before[1],
        before[2],
        dwell(cut + 50, 500),
        before[4],
        before[5],
        ev(cut - 2 * DAY, SC_EV_CONVERT),
        before[6],
    };
    double xb[SC_SCORE_NF], xa[SC_SCORE_NF];
    struct sc_lead_stats sb, sa;
    struct sc_lead_events in = {before, 8, cut, 3, 0};
    assert_int_equal(sc_lead_features(&in, xb, &sb), SC_OK);
    in.ev = all;
    in.n = sizeof(all) / sizeof(all[0]);
    assert_int_equal(sc_lead_features(&in, xa, &sa), SC_OK);
    for (int j = 0; j < SC_SCORE_NF; j++)
        assert_true(xa[j] == xb[j]);
    assert_int_equal(sa.visits, 2);
    assert_int_equal(sa.views, 2);
    assert_int_equal(sa.days, 2);
    assert_true(sa.mean_gap_days == 2.0);
    assert_int_equal(sa.dwell_s, 120);
    assert_false(sa.saved); /* the save came with the sign-up */
    assert_int_equal(sa.clicks[SC_ACT_CALL], 0);
    assert_int_equal(sa.clicks[SC_ACT_WECHAT], 1);
    assert_int_equal(sa.shares, 1);
    assert_true(fabs(sa.recency_days - (DAY - 100) / (double)DAY) < 1e-9);
    assert_true(fabs(xa[SC_F_VISITS] - log1p(2)) < 1e-12);
    assert_true(fabs(xa[SC_F_DWELL_VISIT] - log1p(60)) < 1e-12);
    assert_true(fabs(xa[SC_F_SHARE_VISITS] - log1p(3)) < 1e-12);
    assert_true(xa[SC_F_SAVED] == 0);
    assert_true(xa[SC_F_CH_WECHAT] == 1 && xa[SC_F_QR] == 0);

    /* Moved one second later, the cut-off lets the save in. */
    in.cutoff = cut + 1;
    assert_int_equal(sc_lead_features(&in, xa, &sa), SC_OK);
    assert_true(sa.saved && xa[SC_F_SAVED] == 1);
}

static void features_count_visits_days_and_qr(void **state)
{
    (void)state;
    /* A scan, then the page 40 minutes later (a second visit), then a
     * view 10 minutes after that (same visit); two days, local time +8:
     * 23:30 and 00:30 the next day in Shanghai. */
    int64_t t = NOW - NOW % DAY - 10 * DAY + 15 * HOUR + 30 * 60; /* 23:30 local */
    struct sc_lead_event e[] = {ev(t, SC_EV_SCAN), ev(t + 40 * 60, SC_EV_VIEW),
                                ev(t + 50 * 60, SC_EV_VIEW)};
    e[0].qr = true;
    struct sc_lead_events in = {e, 3, NOW, 0, 8 * 60};
    double x[SC_SCORE_NF];
    struct sc_lead_stats st;
    assert_int_equal(sc_lead_features(&in, x, &st), SC_OK);
    assert_int_equal(st.visits, 2);
    assert_int_equal(st.days, 2);
    assert_true(st.qr && x[SC_F_QR] == 1);
    assert_int_equal(st.channel, SC_CH_QR);
    assert_true(x[SC_F_CH_WECHAT] == 0); /* the first touch was the QR */
    in.tz_min = 0;                       /* 15:30 and 16:10 UTC: one day */
    assert_int_equal(sc_lead_features(&in, x, &st), SC_OK);
    assert_int_equal(st.days, 1);
    in.n = 0; /* no events at all */
    assert_int_equal(sc_lead_features(&in, x, &st), SC_OK);
    assert_true(x[SC_F_VISITS] == 0 && fabs(x[SC_F_RECENCY] - log1p(365)) < 1e-12);
}

/* ---- AUC ---------------------------------------------------------------- */

static void auc_on_known_cases(void **state)
{
    (void)state;
    double auc;
    /* Pairs (pos, neg): (0.35,0.1) (0.35,0.4)x (0.8,0.1) (0.8,0.4): 3 of 4. */
    double s1[] = {0.1, 0.4, 0.35, 0.8};
    int y1[] = {0, 0, 1, 1};
    assert_int_equal(sc_score_auc(s1, y1, 4, &auc), SC_OK);
    assert_true(fabs(auc - 0.75) < 1e-12);
    /* Ties count half: pos 1 ties neg 1, pos 2 beats it: (0.5 + 1) / 2. */
    double s2[] = {1, 1, 2};
    int y2[] = {0, 1, 1};
    assert_int_equal(sc_score_auc(s2, y2, 3, &auc), SC_OK);
    assert_true(fabs(auc - 0.75) < 1e-12);
    /* All tied: 0.5; perfectly reversed: 0. */
    double s3[] = {3, 3, 3, 3, 3};
    int y3[] = {1, 0, 1, 0, 0};
    assert_int_equal(sc_score_auc(s3, y3, 5, &auc), SC_OK);
    assert_true(fabs(auc - 0.5) < 1e-12);
    double s4[] = {5, 4, 3, 2};
    int y4[] = {0, 0, 1, 1};
    assert_int_equal(sc_score_auc(s4, y4, 4, &auc), SC_OK);
    assert_true(auc == 0.0);
    /* Ties across a larger run: neg 1, {pos, neg, neg} at 2, pos 3:
     * pos@2 vs negs: 1 + 0.5 + 0.5 = 2; pos@3: 3; 5 of 6. */
    double s5[] = {1, 2, 2, 2, 3};
    int y5[] = {0, 1, 0, 0, 1};
    assert_int_equal(sc_score_auc(s5, y5, 5, &auc), SC_OK);
    assert_true(fabs(auc - 5.0 / 6.0) < 1e-12);
}

static void auc_needs_both_classes(void **state)
{
    (void)state;
    double s[] = {1, 2, 3}, auc = -1;
    int y[] = {1, 1, 1};
    assert_int_equal(sc_score_auc(s, y, 3, &auc), SC_EINVAL);
    assert_true(auc == -1);
}

/* ---- training ----------------------------------------------------------- */

static uint64_t rng_state;

static double uni(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static double gauss(void)
{
    return sqrt(-2 * log(1 - uni())) * cos(2 * M_PI * uni());
}

/* n examples whose outcome follows logit = bias + Σ w[j]·x[j] with x ~ N(0,1). */
static struct sc_score_example *known_signal(size_t n, double bias, const double *w)
{
    struct sc_score_example *ex = calloc(n, sizeof(*ex));
    assert_non_null(ex);
    rng_state = 7;
    for (size_t i = 0; i < n; i++) {
        double t = bias;
        for (int j = 0; j < SC_SCORE_NF; j++) {
            ex[i].x[j] = gauss();
            t += w[j] * ex[i].x[j];
        }
        ex[i].y = uni() < 1 / (1 + exp(-t));
        ex[i].first_touch = (int64_t)i;
        ex[i].views = (uint32_t)(uni() * 5);
    }
    return ex;
}

static void training_recovers_a_known_signal(void **state)
{
    (void)state;
    double w[SC_SCORE_NF] = {[SC_F_SAVED] = 1.5, [SC_F_DAYS] = -0.8, [SC_F_WECHAT] = 0.6};
    size_t n = 20000;
    struct sc_score_example *ex = known_signal(n, -0.5, w);
    struct sc_score_model prior, m;
    struct sc_score_report rep;
    sc_score_prior(&prior);
    assert_int_equal(sc_score_train(ex, n, &prior, 0.5, NOW, &m, &rep), SC_OK);
    assert_int_equal(rep.verdict, SC_SCORE_ACTIVATED);
    assert_int_equal(rep.n_train, 16000);
    assert_int_equal(rep.n_test, 4000);
    for (int j = 0; j < SC_SCORE_NF; j++) { /* sd ≈ 1: standardised ≈ raw weights */
        double got = m.weight[j] / m.scale[j];
        assert_true(fabs(got - w[j]) < 0.1);
    }
    assert_true(m.version == 1 && m.trained_at == NOW && m.n_examples == 16000);
    assert_true(rep.auc > 0.75 && rep.auc_baseline < 0.55);
    /* Calibrated: each decile's mean prediction is near its observed rate. */
    uint32_t total = 0;
    for (int d = 0; d < SC_SCORE_DECILES; d++) {
        total += rep.calibration[d].n;
        assert_true(fabs(rep.calibration[d].predicted - rep.calibration[d].observed) < 0.08);
        if (d > 0)
            assert_true(rep.calibration[d].predicted >= rep.calibration[d - 1].predicted);
    }
    assert_int_equal(total, 4000);
    free(ex);
}

/* Two worlds: where saving the contact decides, and where everybody saves
 * it and coming back on other days decides.  Each world's learned model must
 * beat the other world's weights on its own held-out leads, and the view
 * count. */
static void each_world_learns_its_own_signal(void **state)
{
    (void)state;
    size_t n = 3000;
    struct sc_score_example *a = calloc(n, sizeof(*a)), *b = calloc(n, sizeof(*b));
    struct sc_score_model prior, ma, mb;
    struct sc_score_report ra, rb, cross;
    assert_non_null(a);
    assert_non_null(b);
    sc_score_prior(&prior);
    assert_int_equal(sc_score_simulate(SC_WORLD_SAVING, n, 11, NOW, a, NULL), SC_OK);
    assert_int_equal(sc_score_simulate(SC_WORLD_RETURNING, n, 11, NOW, b, NULL), SC_OK);
    assert_int_equal(sc_score_train(a, n, &prior, 0, NOW, &ma, &ra), SC_OK);
    assert_int_equal(sc_score_train(b, n, &prior, 0, NOW, &mb, &rb), SC_OK);
    assert_int_equal(ra.verdict, SC_SCORE_ACTIVATED);
    assert_int_equal(rb.verdict, SC_SCORE_ACTIVATED);
    print_message("saving world: model %.3f, views %.3f; returning world: model %.3f, views %.3f\n",
                  ra.auc, ra.auc_baseline, rb.auc, rb.auc_baseline);

    assert_int_equal(sc_score_eval(&mb, a, n, &cross), SC_OK); /* B's weights on A */
    print_message("returning weights on the saving world: %.3f\n", cross.auc);
    assert_true(ra.auc > cross.auc + 0.1);
    assert_true(ra.auc > ra.auc_baseline + 0.1);
    assert_int_equal(sc_score_eval(&ma, b, n, &cross), SC_OK); /* A's weights on B */
    print_message("saving weights on the returning world: %.3f\n", cross.auc);
    assert_true(rb.auc > cross.auc + 0.1);
    assert_true(rb.auc > rb.auc_baseline + 0.02);

    /* And the weights say why: saving leads in A, distinct days in B. */
    assert_true(ma.weight[SC_F_SAVED] > 3 * fabs(ma.weight[SC_F_DAYS]));
    assert_true(mb.weight[SC_F_DAYS] > 3 * fabs(mb.weight[SC_F_SAVED]));
    free(a);
    free(b);
}

static void fewer_than_40_of_a_class_keeps_the_prior(void **state)
{
    (void)state;
    double w[SC_SCORE_NF] = {[SC_F_SAVED] = 2};
    size_t n = 400;
    struct sc_score_example *ex = known_signal(n, 0, w);
    struct sc_score_model prior, m;
    struct sc_score_report rep;
    sc_score_prior(&prior);
    /* Exactly 39 positives. */
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        if (ex[i].y && ++pos > 39)
            ex[i].y = 0;
    assert_int_equal(pos > 39, 1);
    memset(&m, 0xab, sizeof(m));
    assert_int_equal(sc_score_train(ex, n, &prior, 0, NOW, &m, &rep), SC_OK);
    assert_int_equal(rep.verdict, SC_SCORE_TOO_FEW);
    assert_int_equal(rep.positives, 39);
    assert_true(m.version == 0 && m.bias == prior.bias && isnan(m.auc));
    assert_memory_equal(m.weight, prior.weight, sizeof(m.weight));
    /* 39 negatives, the rest positive: the same. */
    for (size_t i = 0; i < n; i++)
        ex[i].y = i % 10 == 0 && i < 390;
    for (size_t i = 0; i < n; i++)
        ex[i].y = !ex[i].y;
    assert_int_equal(sc_score_train(ex, n, &prior, 0, NOW, &m, &rep), SC_OK);
    assert_int_equal(rep.verdict, SC_SCORE_TOO_FEW);
    assert_int_equal(n - rep.positives, 39);
    /* One more negative, 40 of each at least: a model is trained. */
    ex[395].y = 0;
    assert_int_equal(sc_score_train(ex, n, &prior, 0, NOW, &m, &rep), SC_OK);
    assert_int_not_equal(rep.verdict, SC_SCORE_TOO_FEW);
    free(ex);
}

static void a_new_model_goes_live_only_if_not_worse(void **state)
{
    (void)state;
    size_t n = 2000, test0 = n - n / 5;
    double w[SC_SCORE_NF] = {[SC_F_SAVED] = 2};
    struct sc_score_example *ex = known_signal(n, 0, w);
    struct sc_score_model prior, active, m;
    struct sc_score_report rep;
    sc_score_prior(&prior);

    /* The newest fifth follows another feature, which the active model knows
     * and a model trained on the older leads cannot: it stays. */
    for (size_t i = test0; i < n; i++)
        ex[i].y = ex[i].x[SC_F_MAP] > 0.3;
    sc_score_prior(&active);
    memset(active.weight, 0, sizeof(active.weight));
    active.weight[SC_F_MAP] = 3;
    active.version = 7;
    assert_int_equal(sc_score_train(ex, n, &active, 0, NOW, &m, &rep), SC_OK);
    assert_int_equal(rep.verdict, SC_SCORE_NOT_BETTER);
    assert_true(rep.auc < rep.auc_active && rep.auc_active == 1.0);
    assert_true(m.version == 7 && m.weight[SC_F_MAP] == 3);

    /* Against the prior, a model of the same data goes live as version 1;
     * retrained on the same data against itself, the AUC ties: not worse, so
     * it goes live again (version 2). */
    free(ex);
    ex = known_signal(n, 0, w);
    assert_int_equal(sc_score_train(ex, n, &prior, 0, NOW, &active, &rep), SC_OK);
    assert_int_equal(rep.verdict, SC_SCORE_ACTIVATED);
    assert_true(active.version == 1 && rep.auc > rep.auc_active);
    assert_int_equal(sc_score_train(ex, n, &active, 0, NOW + DAY, &active, &rep), SC_OK);
    assert_int_equal(rep.verdict, SC_SCORE_ACTIVATED);
    assert_true(rep.auc == rep.auc_active);
    assert_true(active.version == 2 && active.trained_at == NOW + DAY);
    free(ex);
}

static void a_test_set_without_both_classes_keeps_the_model(void **state)
{
    (void)state;
    size_t n = 500;
    double w[SC_SCORE_NF] = {[SC_F_SAVED] = 1};
    struct sc_score_example *ex = known_signal(n, 0, w);
    struct sc_score_model prior, m;
    struct sc_score_report rep;
    sc_score_prior(&prior);
    for (size_t i = n - n / 5; i < n; i++)
        ex[i].y = 0;
    assert_int_equal(sc_score_train(ex, n, &prior, 0, NOW, &m, &rep), SC_OK);
    assert_int_equal(rep.verdict, SC_SCORE_UNTESTABLE);
    assert_true(m.version == 0);
    assert_int_equal(sc_score_eval(&prior, ex, n, &rep), SC_EINVAL);
    free(ex);
}

/* ---- serialisation ------------------------------------------------------ */

static void same_model(const struct sc_score_model *a, const struct sc_score_model *b)
{
    assert_true(a->version == b->version && a->trained_at == b->trained_at);
    assert_true(a->n_examples == b->n_examples && a->n_positive == b->n_positive);
    assert_true(a->auc == b->auc || (isnan(a->auc) && isnan(b->auc)));
    assert_true(a->baseline_auc == b->baseline_auc ||
                (isnan(a->baseline_auc) && isnan(b->baseline_auc)));
    assert_true(a->l2 == b->l2 && a->bias == b->bias);
    assert_memory_equal(a->mean, b->mean, sizeof(a->mean));
    assert_memory_equal(a->scale, b->scale, sizeof(a->scale));
    assert_memory_equal(a->weight, b->weight, sizeof(a->weight));
}

static void models_round_trip_through_json(void **state)
{
    (void)state;
    size_t n = 1000;
    struct sc_score_example *ex = calloc(n, sizeof(*ex));
    struct sc_score_model prior, m, back;
    char *json = NULL;
    assert_non_null(ex);
    assert_int_equal(sc_score_simulate(SC_WORLD_MIXED, n, 5, NOW, ex, NULL), SC_OK);
    sc_score_prior(&prior);
    assert_int_equal(sc_score_train(ex, n, &prior, 0, NOW, &m, NULL), SC_OK);
    assert_true(m.version == 1);

    assert_int_equal(sc_score_model_to_json(&m, &json), SC_OK);
    assert_non_null(strstr(json, "\"features\":[{\"name\":\"visits\""));
    memset(&back, 0, sizeof(back));
    assert_int_equal(sc_score_model_from_json(json, &back), SC_OK);
    same_model(&m, &back);
    free(json);

    assert_int_equal(sc_score_model_to_json(&prior, &json), SC_OK); /* NaN AUCs: null */
    assert_non_null(strstr(json, "\"auc\":null"));
    assert_int_equal(sc_score_model_from_json(json, &back), SC_OK);
    same_model(&prior, &back);

    /* A renamed feature or a newer format: another sharecard's model. */
    char *other = strdup(json);
    assert_non_null(other);
    char *p = strstr(other, "\"saved\"");
    assert_non_null(p);
    memcpy(p + 1, "SAVED", 5);
    assert_int_equal(sc_score_model_from_json(other, &back), SC_EVERSION);
    p = strstr(other, "\"format\":1");
    assert_non_null(p);
    p[9] = '2';
    assert_int_equal(sc_score_model_from_json(other, &back), SC_EVERSION);
    free(other);
    assert_int_equal(sc_score_model_from_json("{\"format\":1}", &back), SC_EINVAL);
    assert_int_equal(sc_score_model_from_json("not json", &back), SC_EINVAL);
    json[strlen(json) / 2] = '\0';
    assert_int_equal(sc_score_model_from_json(json, &back), SC_EINVAL);
    same_model(&prior, &back); /* untouched on error */
    free(json);
    free(ex);
}

/* A feature far outside what training saw counts as ±6 standard deviations,
 * not as thousands: a model that saw recency spread over seconds must not
 * score every lead silent for days at 0 or 100 (bench/sim_http.py found it). */
static void features_far_outside_training_are_held_at_six_sd(void **state)
{
    (void)state;
    struct sc_score_model m;
    double x[SC_SCORE_NF] = {0};
    sc_score_prior(&m);
    memset(m.weight, 0, sizeof(m.weight));
    m.bias = 0;
    m.weight[SC_F_RECENCY] = -0.5;
    m.mean[SC_F_RECENCY] = 0.001;
    m.scale[SC_F_RECENCY] = 0.0003;
    x[SC_F_RECENCY] = log1p(5); /* five days */
    assert_true(fabs(sc_score_prob(&m, x) - 1 / (1 + exp(3.0))) < 1e-12);
    x[SC_F_RECENCY] = 0.0013; /* one standard deviation: unchanged */
    assert_true(fabs(sc_score_prob(&m, x) - 1 / (1 + exp(0.5))) < 1e-9);
    sc_score_prior(&m); /* the prior's raw features (scale 1) stay within ±6 */
    double y[SC_SCORE_NF] = {0};
    y[SC_F_RECENCY] = log1p(365);
    double t = m.bias;
    for (int j = 0; j < SC_SCORE_NF; j++)
        t += m.weight[j] * (y[j] - m.mean[j]) / m.scale[j];
    assert_true(fabs(sc_score_prob(&m, y) - 1 / (1 + exp(-t))) < 1e-12);
}

/* A lead of the recency world: one visit of 1–3 views at 't0' (how many says
 * nothing); half the leads sign up after a wait of mean two days, so a lead
 * seen lately is the one still likely to.  Recency is the only signal. */
struct recency_lead {
    struct sc_lead_event ev[4];
    size_t n;
    int64_t outcome; /* INT64_MAX: none */
};

static void recency_lead(struct recency_lead *l, int64_t t0)
{
    int views = 1 + (int)(uni() * 3);
    l->n = 0;
    for (int v = 0; v < views; v++)
        l->ev[l->n++] = ev(t0 + 60 * v, SC_EV_VIEW);
    l->outcome = INT64_MAX;
    if (uni() < 0.5) {
        l->outcome = t0 + 600 + (int64_t)(-2.0 * DAY * log(1 - uni()));
        l->ev[l->n++] = ev(l->outcome, SC_EV_SIGNUP);
    }
}

/* Training's features mean what live scoring's do (sc_lead_example_cut):
 * in a world where recency is the signal, the learned model ranks the
 * recently active above the long silent, on held-out leads scored the way
 * live ones are (at a moment of their horizon, before any sign-up, labelled
 * by whether one follows). */
static void training_and_scoring_agree_on_recency(void **state)
{
    (void)state;
    const int64_t horizon = 30 * DAY;
    size_t n = 4000, k = 0, npos = 0;
    struct sc_score_example *ex = calloc(n, sizeof(*ex));
    assert_non_null(ex);
    rng_state = 11;
    for (size_t i = 0; i < n; i++) { /* first touches 220 … 40 days ago: all horizons closed */
        struct recency_lead l;
        recency_lead(&l, NOW - 220 * DAY + (int64_t)i * (180 * DAY / (int64_t)n));
        int64_t first = 0, cut = 0;
        enum sc_lead_label y = sc_lead_example_cut(l.ev, l.n, NOW, horizon, i, &first, &cut);
        assert_true(y != SC_LEAD_SKIP);
        assert_int_equal(first, l.ev[0].ts);
        if (y == SC_LEAD_POSITIVE)
            assert_true(cut > first && cut <= l.outcome);
        else
            assert_true(cut > first && cut <= first + horizon);
        struct sc_lead_events in = {l.ev, l.n, cut, 0, 0};
        assert_int_equal(sc_lead_features(&in, ex[k].x, NULL), SC_OK);
        ex[k].first_touch = first;
        ex[k].views = (uint32_t)l.n;
        ex[k].y = y == SC_LEAD_POSITIVE;
        npos += (size_t)ex[k].y;
        k++;
    }
    assert_true(npos > 1000 && npos < 3000);
    struct sc_score_model prior, m;
    struct sc_score_report rep;
    sc_score_prior(&prior);
    assert_int_equal(sc_score_train(ex, k, &prior, 0, NOW, &m, &rep), SC_OK);
    assert_int_equal(rep.verdict, SC_SCORE_ACTIVATED);
    assert_true(m.weight[SC_F_RECENCY] < 0);

    /* Held out: new leads, each scored live at a moment of its horizon. */
    size_t nl = 0;
    double *score = calloc(n, sizeof(*score));
    int *label = calloc(n, sizeof(*label));
    assert_true(score && label);
    for (size_t i = 0; i < n; i++) {
        struct recency_lead l;
        int64_t t0 = NOW + (int64_t)i * 600;
        recency_lead(&l, t0);
        int64_t now = t0 + 1 + (int64_t)(uni() * (double)horizon);
        if (l.outcome < now)
            continue; /* signed up already: a customer, no longer a lead */
        double x[SC_SCORE_NF];
        struct sc_lead_events in = {l.ev, l.n, now + 1, 0, 0};
        assert_int_equal(sc_lead_features(&in, x, NULL), SC_OK);
        score[nl] = sc_score_prob(&m, x);
        label[nl] = l.outcome <= t0 + horizon;
        nl++;
    }
    double auc = 0;
    assert_int_equal(sc_score_auc(score, label, nl, &auc), SC_OK);
    assert_true(auc > 0.8);
    /* Seen an hour ago ranks above silent for ten days, other things equal. */
    struct sc_lead_event one[1] = {ev(NOW - HOUR, SC_EV_VIEW)},
                         old[1] = {ev(NOW - 10 * DAY, SC_EV_VIEW)};
    double xa[SC_SCORE_NF], xb[SC_SCORE_NF];
    struct sc_lead_events ia = {one, 1, NOW + 1, 0, 0}, ib = {old, 1, NOW + 1, 0, 0};
    assert_int_equal(sc_lead_features(&ia, xa, NULL), SC_OK);
    assert_int_equal(sc_lead_features(&ib, xb, NULL), SC_OK);
    assert_true(sc_score_prob(&m, xa) > sc_score_prob(&m, xb) + 0.2);
    free(score);
    free(label);
    free(ex);
}

/* The cut-off of each kind of lead: positives at or before the outcome,
 * negatives within their horizon, stable per key, open horizons and outcomes
 * without a touch left out. */
static void example_cutoffs_by_kind(void **state)
{
    (void)state;
    const int64_t h = 30 * DAY, t0 = NOW - 100 * DAY;
    int64_t first = 0, cut = 0, cut2 = 0;
    struct sc_lead_event pos[3] = {ev(t0 + DAY, SC_EV_VIEW), ev(t0 + 5 * DAY, SC_EV_SIGNUP),
                                   ev(t0, SC_EV_SCAN)};
    assert_int_equal(sc_lead_example_cut(pos, 3, NOW, h, 1, &first, &cut), SC_LEAD_POSITIVE);
    assert_true(first == t0 && cut > t0 && cut <= t0 + 5 * DAY);
    struct sc_lead_event at_once[2] = {ev(t0, SC_EV_VIEW), ev(t0, SC_EV_SIGNUP)};
    assert_int_equal(sc_lead_example_cut(at_once, 2, NOW, h, 1, &first, &cut), SC_LEAD_POSITIVE);
    assert_true(first == t0 && cut == t0);
    pos[1].ts = t0 + 31 * DAY; /* after the horizon: a negative */
    assert_int_equal(sc_lead_example_cut(pos, 3, NOW, h, 1, &first, &cut), SC_LEAD_NEGATIVE);
    assert_true(cut > t0 && cut <= t0 + h);
    assert_int_equal(sc_lead_example_cut(pos, 3, NOW, h, 1, &first, &cut2), SC_LEAD_NEGATIVE);
    assert_true(cut2 == cut);
    int spread = 0; /* other keys, other moments */
    for (uint64_t key = 2; key < 50; key++) {
        assert_int_equal(sc_lead_example_cut(pos, 3, NOW, h, key, &first, &cut2), SC_LEAD_NEGATIVE);
        assert_true(cut2 > t0 && cut2 <= t0 + h);
        spread += cut2 < t0 + h / 2;
    }
    assert_true(spread > 10 && spread < 38);
    struct sc_lead_event open[1] = {ev(NOW - 10 * DAY, SC_EV_VIEW)};
    assert_int_equal(sc_lead_example_cut(open, 1, NOW, h, 1, &first, &cut), SC_LEAD_SKIP);
    struct sc_lead_event only[1] = {ev(t0, SC_EV_SIGNUP)};
    assert_int_equal(sc_lead_example_cut(only, 1, NOW, h, 1, &first, &cut), SC_LEAD_SKIP);
}

/* Several cut-offs per lead: one in each k-th of its window, so the last is a
 * late one, and with k = 1 the single cut-off of sc_lead_example_cut. */
static void several_cutoffs_are_stratified(void **state)
{
    (void)state;
    const int64_t h = 30 * DAY, t0 = NOW - 100 * DAY;
    int64_t first = 0, one = 0, cut[SC_LEAD_CUTS];
    struct sc_lead_event pos[3] = {ev(t0 + DAY, SC_EV_VIEW), ev(t0 + 8 * DAY, SC_EV_SIGNUP),
                                   ev(t0, SC_EV_SCAN)};
    for (uint64_t key = 1; key < 40; key++) {
        for (int neg = 0; neg < 2; neg++) {
            pos[1].ts = neg ? t0 + 40 * DAY : t0 + 8 * DAY;
            int64_t last = neg ? t0 + h : t0 + 8 * DAY, w = last - t0;
            enum sc_lead_label y = neg ? SC_LEAD_NEGATIVE : SC_LEAD_POSITIVE;
            assert_int_equal(sc_lead_example_cuts(pos, 3, NOW, h, key, SC_LEAD_CUTS, &first, cut),
                             y);
            assert_true(first == t0);
            for (int i = 0; i < SC_LEAD_CUTS; i++) {
                assert_true(cut[i] > t0 + i * w / SC_LEAD_CUTS);
                assert_true(cut[i] <= t0 + 1 + (i + 1) * w / SC_LEAD_CUTS && cut[i] <= last);
            }
            assert_true(cut[SC_LEAD_CUTS - 1] > t0 + 3 * w / 4); /* always a late one */
            assert_int_equal(sc_lead_example_cuts(pos, 3, NOW, h, key, 1, &first, cut), y);
            assert_int_equal(sc_lead_example_cut(pos, 3, NOW, h, key, &first, &one), y);
            assert_true(one == cut[0]);
        }
    }
}

/* A lead counts once however many examples it gives: each of k copies of
 * every example weighing 1/k trains the same model as the examples alone, the
 * 40/40 rule counts leads, and a lead's examples never straddle the split. */
static void a_leads_examples_count_once(void **state)
{
    (void)state;
    const size_t n = 3002, k = SC_LEAD_CUTS;
    struct sc_score_example *a = calloc(n, sizeof(*a)), *b = calloc(n * k, sizeof(*b));
    assert_true(a && b);
    assert_int_equal(sc_score_simulate(SC_WORLD_SAVING, n, 5, NOW, a, NULL), SC_OK);
    for (size_t i = 0; i < n * k; i++) {
        b[i] = a[i / k];
        b[i].per_lead = (uint16_t)k;
    }
    struct sc_score_model prior, ma, mb;
    struct sc_score_report ra, rb;
    sc_score_prior(&prior);
    assert_int_equal(sc_score_train(a, n, &prior, 0, NOW, &ma, &ra), SC_OK);
    assert_int_equal(sc_score_train(b, n * k, &prior, 0, NOW, &mb, &rb), SC_OK);
    assert_int_equal(ra.verdict, SC_SCORE_ACTIVATED);
    assert_int_equal(rb.verdict, SC_SCORE_ACTIVATED);
    assert_true(fabs(ma.bias - mb.bias) < 1e-6);
    for (int j = 0; j < SC_SCORE_NF; j++)
        assert_true(fabs(ma.weight[j] - mb.weight[j]) < 1e-6);
    assert_true(fabs(ra.auc - rb.auc) < 1e-9);
    /* Reported in leads; 12,008 / 5 = 2,401 examples would cut a lead: all of its four train. */
    assert_true(rb.n == ra.n && rb.positives == ra.positives);
    assert_true(rb.n_train == ra.n_train && rb.n_test == ra.n_test &&
                mb.n_examples == ma.n_examples);
    for (int d = 0; d < SC_SCORE_DECILES; d++)
        assert_true(rb.calibration[d].n == ra.calibration[d].n &&
                    fabs(rb.calibration[d].observed - ra.calibration[d].observed) < 1e-9);

    /* 39 positive leads of 4 examples each: 156 positive examples, still too few. */
    size_t pos = 0;
    for (size_t i = 0; i < n * k; i += k) {
        int y = b[i].y && pos < 39;
        pos += (size_t)y;
        for (size_t j = 0; j < k; j++)
            b[i + j].y = (int16_t)y;
    }
    assert_int_equal(pos, 39);
    assert_int_equal(sc_score_train(b, n * k, &prior, 0, NOW, &mb, &rb), SC_OK);
    assert_int_equal(rb.verdict, SC_SCORE_TOO_FEW);
    free(a);
    free(b);
}

/* ---- score, label, reasons ---------------------------------------------- */

static void score_label_and_reasons(void **state)
{
    (void)state;
    struct sc_score_model m;
    struct sc_score_result r;
    struct sc_lead_stats st;
    double x[SC_SCORE_NF] = {0};
    memset(&st, 0, sizeof(st));
    sc_score_prior(&m);
    memset(m.weight, 0, sizeof(m.weight));
    m.bias = log(0.7 / 0.3);
    sc_score_lead(&m, x, &st, &r);
    assert_int_equal(r.score, 70);
    assert_int_equal(r.label, SC_LABEL_HOT);
    assert_string_equal(sc_score_label_name(r.label), "hot");
    m.bias = log(0.4 / 0.6);
    sc_score_lead(&m, x, &st, &r);
    assert_true(r.score == 40 && r.label == SC_LABEL_WARM);
    m.bias = log(0.39 / 0.61);
    sc_score_lead(&m, x, &st, &r);
    assert_true(r.score == 39 && r.label == SC_LABEL_COLD && r.n_reasons == 0);

    /* Reasons: the largest positive contributions of things the lead did. */
    m.weight[SC_F_SAVED] = 1.2;
    m.weight[SC_F_DAYS] = 0.5;
    m.weight[SC_F_SHARES] = 0.9;
    m.weight[SC_F_MAP] = -2; /* fewer map clicks than most, none: not a reason */
    m.mean[SC_F_MAP] = 0.5;
    m.weight[SC_F_WEBSITE] = 0.05;
    x[SC_F_SAVED] = 1;
    x[SC_F_DAYS] = log1p(3);
    x[SC_F_SHARES] = log1p(2);
    x[SC_F_WEBSITE] = log1p(4); /* 0.08: too small to mention */
    st.saved = true;
    st.days = 3;
    st.shares = 2;
    sc_score_lead(&m, x, &st, &r);
    assert_int_equal(r.n_reasons, 3);
    assert_int_equal(r.reasons[0].code, SC_R_SAVED);
    assert_int_equal(r.reasons[1].code, SC_R_SHARES);
    assert_true(r.reasons[1].value == 2);
    assert_int_equal(r.reasons[2].code, SC_R_DAYS);
    assert_true(r.reasons[2].value == 3);
}

/* The prior's reasons are what a lead did beyond a typical one-visit lead. */
static void the_priors_reasons_are_what_stands_out(void **state)
{
    (void)state;
    struct sc_score_model prior;
    struct sc_score_result r;
    struct sc_lead_stats st;
    double x[SC_SCORE_NF];
    sc_score_prior(&prior);
    struct sc_lead_event once[] = {ev(NOW - 3 * DAY, SC_EV_OPEN), ev(NOW - 3 * DAY + 1, SC_EV_VIEW),
                                   dwell(NOW - 3 * DAY + 31, 30)};
    struct sc_lead_events in = {once, 3, NOW, 0, 0};
    assert_int_equal(sc_lead_features(&in, x, &st), SC_OK);
    sc_score_lead(&prior, x, &st, &r);
    assert_int_equal(r.n_reasons, 0);
    assert_int_equal(r.label, SC_LABEL_COLD);

    struct sc_lead_event keen[] = {
        ev(NOW - 5 * DAY, SC_EV_OPEN),      ev(NOW - 5 * DAY + 1, SC_EV_VIEW),
        ev(NOW - 5 * DAY + 20, SC_EV_SAVE), ev(NOW - 2 * DAY, SC_EV_OPEN),
        ev(NOW - 2 * DAY + 1, SC_EV_VIEW),  click(NOW - 2 * DAY + 9, SC_ACT_CALL),
        ev(NOW - HOUR, SC_EV_VIEW),
    };
    in.ev = keen;
    in.n = sizeof(keen) / sizeof(keen[0]);
    assert_int_equal(sc_lead_features(&in, x, &st), SC_OK);
    sc_score_lead(&prior, x, &st, &r);
    assert_int_equal(r.n_reasons, 3);
    assert_int_equal(r.reasons[0].code, SC_R_SAVED);
    assert_true(r.score > 40);
}

static void reasons_render_in_english_and_chinese(void **state)
{
    (void)state;
    static const struct {
        struct sc_score_reason r;
        const char *en, *zh;
    } cases[] = {
        {{SC_R_SAVED, 1, 1}, "saved your contact", "保存了您的联系方式"},
        {{SC_R_DAYS, 3, 1}, "came back on 3 days", "在 3 天里回访"},
        {{SC_R_SHARES, 2, 1}, "shared your card with 2 people", "把您的名片分享给了 2 人"},
        {{SC_R_SHARES, 1, 1}, "shared your card with 1 person", "把您的名片分享给了 1 人"},
        {{SC_R_VISITS, 1, 1}, "visited once", "访问了 1 次"},
        {{SC_R_RECENT, 0, 1}, "visited today", "今天来访过"},
        {{SC_R_RECENT, 4, 1}, "visited 4 days ago", "4 天前来访过"},
        {{SC_R_WECHAT, 2, 1}, "tapped your WeChat 2 times", "点击了您的微信 2 次"},
        {{SC_R_QR, 1, 1}, "met you in person (scanned your QR code)", "当面扫码认识了您"},
    };
    char buf[128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(sc_score_reason_text(&cases[i].r, "en", buf, sizeof(buf)), SC_OK);
        assert_string_equal(buf, cases[i].en);
        assert_int_equal(sc_score_reason_text(&cases[i].r, "zh-CN", buf, sizeof(buf)), SC_OK);
        assert_string_equal(buf, cases[i].zh);
    }
    assert_true(sc_score_lang_zh("zh") && sc_score_lang_zh("zh-Hans") && !sc_score_lang_zh("en"));
    assert_false(sc_score_lang_zh("zhx") || sc_score_lang_zh(NULL));
    assert_int_equal(sc_score_reason_text(&cases[1].r, "en", buf, 10), SC_ETOOBIG);
}

static void next_action_drafts_in_both_languages(void **state)
{
    (void)state;
    struct sc_score_result res;
    memset(&res, 0, sizeof(res));
    res.n_reasons = 2;
    res.reasons[0] = (struct sc_score_reason){SC_R_SAVED, 1, 1};
    res.reasons[1] = (struct sc_score_reason){SC_R_DAYS, 3, 0.5};
    /* Tuesday 2027-01-19 10:00 in Shanghai = 02:00 UTC. */
    struct sc_besttime bt = {NOW + 4 * DAY - 6 * HOUR, 10, -1, false};
    char buf[256];
    assert_int_equal(
        sc_score_next_action("Wang Fang", SC_CONTACT_CALL, &bt, 480, &res, "en", buf, sizeof(buf)),
        SC_OK);
    assert_string_equal(
        buf, "Call Wang Fang around 10:00 on Tue: saved your contact, came back on 3 days.");
    assert_int_equal(
        sc_score_next_action("王芳", SC_CONTACT_WECHAT, &bt, 480, &res, "zh-CN", buf, sizeof(buf)),
        SC_OK);
    assert_string_equal(buf,
                        "周二 10:00 左右通过微信联系 王芳：保存了您的联系方式，在 3 天里回访。");
    res.n_reasons = 0;
    assert_int_equal(
        sc_score_next_action(NULL, SC_CONTACT_SMS, &bt, 480, &res, "en", buf, sizeof(buf)), SC_OK);
    assert_string_equal(buf, "Text this lead around 10:00 on Tue.");
    assert_int_equal(
        sc_score_next_action("Wang Fang", SC_CONTACT_CALL, &bt, 480, &res, "en", buf, 12),
        SC_ETOOBIG);
}

/* ---- best time and channel ---------------------------------------------- */

static int local_hour(int64_t t, int32_t tz_min)
{
    return (int)(((t + tz_min * 60) % DAY + DAY) % DAY / HOUR);
}

static int local_weekday(int64_t t, int32_t tz_min)
{
    return (int)((((t + tz_min * 60) / DAY) + 4) % 7);
}

static void best_time_is_the_leads_own_hour_within_7_days(void **state)
{
    (void)state;
    double team[24] = {0};
    team[10] = 50; /* the team's leads engage at 10:00 */
    team[11] = 30;
    team[15] = 20;
    int32_t tz = 480; /* Shanghai */
    /* Five evenings at 21:xx local (13:xx UTC) on consecutive days. */
    int64_t ts[5];
    for (int i = 0; i < 5; i++)
        ts[i] = NOW - (10 - i) * DAY - (NOW % DAY) + 13 * HOUR + i * 300;
    struct sc_besttime bt;
    sc_score_best_time(ts, 5, team, tz, NOW, &bt);
    assert_int_equal(bt.hour, 21);
    assert_false(bt.from_team);
    assert_int_equal(bt.weekday, -1); /* five different weekdays */
    assert_true(bt.at > NOW && bt.at <= NOW + 7 * DAY);
    assert_int_equal(local_hour(bt.at, tz), 21);
    assert_int_equal(bt.at % HOUR, 0);
    assert_true(bt.at - NOW <= DAY); /* no weekday to wait for: the next 21:00 */

    /* One visit at 22:00: too little to be a habit, the team's hour wins. */
    int64_t one = NOW - 3 * DAY - (NOW % DAY) + 14 * HOUR;
    sc_score_best_time(&one, 1, team, tz, NOW, &bt);
    assert_int_equal(bt.hour, 10);
    assert_true(bt.from_team);
    assert_int_equal(local_hour(bt.at, tz), 10);
    assert_true(bt.at > NOW && bt.at <= NOW + DAY);
    /* No team histogram: the lead's one hour stands. */
    sc_score_best_time(&one, 1, NULL, tz, NOW, &bt);
    assert_int_equal(bt.hour, 22);
}

static void best_time_prefers_a_weekday_only_when_the_history_shows_one(void **state)
{
    (void)state;
    int32_t tz = 0;
    /* NOW is a Friday; four Tuesdays at 19:00 UTC. */
    int64_t midnight = NOW - NOW % DAY, tue[4];
    for (int i = 0; i < 4; i++)
        tue[i] = midnight - 3 * DAY - i * 7 * DAY + 19 * HOUR;
    assert_int_equal(local_weekday(tue[0], 0), 2);
    struct sc_besttime bt;
    sc_score_best_time(tue, 4, NULL, tz, NOW, &bt);
    assert_int_equal(bt.hour, 19);
    assert_int_equal(bt.weekday, 2);
    assert_int_equal(local_weekday(bt.at, 0), 2);
    assert_int_equal(local_hour(bt.at, 0), 19);
    assert_true(bt.at > NOW && bt.at <= NOW + 7 * DAY);
    /* Two Tuesdays are not enough history for a preference. */
    sc_score_best_time(tue, 2, NULL, tz, NOW, &bt);
    assert_int_equal(bt.weekday, -1);
    assert_true(bt.at - NOW <= DAY);
    /* Three Tuesdays are (P = 0.003 under no preference); two Tuesdays and a
     * Wednesday are not (P = 0.055). */
    sc_score_best_time(tue, 3, NULL, tz, NOW, &bt);
    assert_int_equal(bt.weekday, 2);
    int64_t mixed[3] = {tue[0], tue[1], tue[2] + DAY};
    sc_score_best_time(mixed, 3, NULL, tz, NOW, &bt);
    assert_int_equal(bt.weekday, -1);
    /* Four visits on one Tuesday are one day, not a pattern. */
    int64_t same[4] = {tue[0], tue[0] + 60, tue[0] + 120, tue[0] + 180};
    sc_score_best_time(same, 4, NULL, tz, NOW, &bt);
    assert_int_equal(bt.weekday, -1);
}

static void best_channel_follows_the_lead_and_what_worked(void **state)
{
    (void)state;
    struct sc_lead_stats st;
    memset(&st, 0, sizeof(st));
    st.channel = SC_CH_OTHER;
    st.clicks[SC_ACT_WECHAT] = 1;
    assert_int_equal(sc_score_best_channel(&st, NULL), SC_CONTACT_WECHAT);
    memset(&st, 0, sizeof(st));
    st.saved = true;
    assert_int_equal(sc_score_best_channel(&st, NULL), SC_CONTACT_CALL);
    /* This salesperson's calls never get through; texts do. */
    struct sc_followup_stats fu = {{20, 0, 0, 20}, {0, 0, 0, 12}};
    assert_int_equal(sc_score_best_channel(&st, &fu), SC_CONTACT_SMS);
    st.clicks[SC_ACT_EMAIL] = 2;
    assert_int_equal(sc_score_best_channel(&st, NULL), SC_CONTACT_EMAIL);
    assert_string_equal(sc_score_contact_name(SC_CONTACT_WECHAT), "wechat");
}

/* Follow-ups as the training data for channels: the choice follows what reached leads. */
static void best_channel_learns_from_logged_follow_ups(void **state)
{
    (void)state;
    struct sc_lead_stats st;
    memset(&st, 0, sizeof(st));
    st.channel = SC_CH_QR;
    st.clicks[SC_ACT_WECHAT] = 1; /* the lead tapped WeChat once */
    assert_int_equal(sc_score_best_channel_fu(&st, NULL, NULL), SC_CONTACT_WECHAT);
    /* Histories of this salesperson, by channel (call, wechat, email, sms): attempts,
     * reached.  Whatever reached leads wins over the lead's one tap... */
    const struct {
        struct sc_followup_stats fu;
        enum sc_contact want;
    } worlds[] = {
        {{{0, 10, 10, 0}, {0, 0, 8, 0}}, SC_CONTACT_EMAIL}, /* e-mails answered, WeChat not */
        {{{12, 10, 0, 0}, {10, 1, 0, 0}}, SC_CONTACT_CALL}, /* calls get through */
        {{{10, 10, 10, 10}, {1, 1, 1, 9}}, SC_CONTACT_SMS}, /* texts do */
        {{{5, 5, 5, 5}, {2, 2, 2, 2}}, SC_CONTACT_WECHAT},  /* all alike: the lead's tap */
    };
    for (size_t i = 0; i < sizeof(worlds) / sizeof(worlds[0]); i++)
        assert_int_equal(sc_score_best_channel_fu(&st, &worlds[i].fu, NULL), worlds[i].want);
    /* ... and so does what reached this very lead: twice by e-mail, though the salesperson's
     * WeChat usually works; an unanswered channel drops. */
    struct sc_followup_stats fu = {{0, 10, 0, 0}, {0, 6, 0, 0}};
    struct sc_followup_stats lead = {{0, 0, 2, 0}, {0, 0, 2, 0}};
    assert_int_equal(sc_score_best_channel_fu(&st, &fu, NULL), SC_CONTACT_WECHAT);
    assert_int_equal(sc_score_best_channel_fu(&st, &fu, &lead), SC_CONTACT_EMAIL);
    struct sc_followup_stats unanswered = {{0, 3, 0, 0}, {0, 0, 0, 0}};
    assert_int_equal(sc_score_best_channel_fu(&st, NULL, &unanswered), SC_CONTACT_CALL);
    /* Successes beyond attempts (a bad row) count as attempts at most. */
    struct sc_followup_stats odd = {{0, 0, 0, 1}, {0, 0, 0, 50}};
    assert_int_equal(sc_score_best_channel_fu(&st, NULL, &odd), SC_CONTACT_SMS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(features_ignore_events_from_the_cutoff_on),
        cmocka_unit_test(features_count_visits_days_and_qr),
        cmocka_unit_test(auc_on_known_cases),
        cmocka_unit_test(auc_needs_both_classes),
        cmocka_unit_test(training_recovers_a_known_signal),
        cmocka_unit_test(each_world_learns_its_own_signal),
        cmocka_unit_test(fewer_than_40_of_a_class_keeps_the_prior),
        cmocka_unit_test(a_new_model_goes_live_only_if_not_worse),
        cmocka_unit_test(a_test_set_without_both_classes_keeps_the_model),
        cmocka_unit_test(models_round_trip_through_json),
        cmocka_unit_test(features_far_outside_training_are_held_at_six_sd),
        cmocka_unit_test(training_and_scoring_agree_on_recency),
        cmocka_unit_test(example_cutoffs_by_kind),
        cmocka_unit_test(several_cutoffs_are_stratified),
        cmocka_unit_test(a_leads_examples_count_once),
        cmocka_unit_test(score_label_and_reasons),
        cmocka_unit_test(the_priors_reasons_are_what_stands_out),
        cmocka_unit_test(reasons_render_in_english_and_chinese),
        cmocka_unit_test(next_action_drafts_in_both_languages),
        cmocka_unit_test(best_time_is_the_leads_own_hour_within_7_days),
        cmocka_unit_test(best_time_prefers_a_weekday_only_when_the_history_shows_one),
        cmocka_unit_test(best_channel_follows_the_lead_and_what_worked),
        cmocka_unit_test(best_channel_learns_from_logged_follow_ups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
