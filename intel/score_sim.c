/*
 * score_sim.c — synthetic leads with known propensities, for the tests, the
 * bench and demo data.  Each lead gets events like the tracker records them
 * (visits of a scan or open, a view and a dwell; clicks, a save, shares) on
 * one or more days; its TRUE probability of signing up is a logistic
 * function of what it did, with different signals in different worlds, and
 * its outcome is drawn from that.  Features then go through the same
 * sc_lead_features the store's rows will, so the bench measures the real
 * path, and the ceiling (the true propensities' AUC) is what the data allows.
 *
 * Deterministic: a splitmix64 generator of our own, seeded by the caller.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/score.h"

#define DAY        86400
#define MAX_EVENTS 256

struct rng {
    uint64_t s;
};

static uint64_t next_u64(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(struct rng *r) /* [0, 1) */
{
    return (double)(next_u64(r) >> 11) * 0x1.0p-53;
}

static double normal(struct rng *r)
{
    double u = uniform(r), v = uniform(r);
    return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

static bool coin(struct rng *r, double p)
{
    return uniform(r) < p;
}

static int poisson(struct rng *r, double lambda)
{
    double l = exp(-lambda), p = 1;
    int k = 0;
    do {
        k++;
        p *= uniform(r);
    } while (p > l && k < 50);
    return k - 1;
}

static double sigmoid(double t)
{
    return 1.0 / (1.0 + exp(-t));
}

struct sim_lead {
    struct sc_lead_event ev[MAX_EVENTS];
    size_t n;
};

static void add(struct sim_lead *l, int64_t ts, enum sc_ev_type type, enum sc_click_action a,
                int32_t seconds, enum sc_channel ch, bool qr)
{
    if (l->n < MAX_EVENTS)
        l->ev[l->n++] = (struct sc_lead_event){ts, type, a, seconds, ch, qr};
}

/* One lead of world 'w'; fills 'ex' and returns its true propensity. */
static enum sc_err one_lead(enum sc_score_world w, struct rng *r, int64_t now,
                            struct sc_score_example *ex, double *p_out)
{
    struct sim_lead l;
    l.n = 0;

    int64_t t0 = now - 365LL * DAY + (int64_t)(uniform(r) * 330.0 * DAY);
    bool qr = coin(r, 0.35);
    enum sc_channel ch = SC_CH_QR;
    if (!qr) {
        double u = uniform(r);
        ch = u < 0.35   ? SC_CH_WECHAT
             : u < 0.45 ? SC_CH_SMS
             : u < 0.55 ? SC_CH_EMAIL
             : u < 0.65 ? SC_CH_WHATSAPP
             : u < 0.75 ? SC_CH_LINKEDIN
                        : SC_CH_COPY;
    }
    double hour = coin(r, 0.7) ? 10 + 2 * normal(r) : 20 + 1.5 * normal(r);

    /* Days: the first touch's, then distinct later days within three weeks. */
    int extra = 0;
    while (extra < 8 && coin(r, 0.5))
        extra++;
    int day_of[9] = {0};
    for (int k = 1; k <= extra; k++) {
        int d;
        bool dup;
        do {
            d = 1 + (int)(uniform(r) * 20);
            dup = false;
            for (int j = 0; j < k; j++)
                dup |= day_of[j] == d;
        } while (dup);
        day_of[k] = d;
    }
    bool binge = coin(r, 0.35);              /* opens the card again and again within a day */
    double dwell_mu = 3.3 + 0.5 * normal(r); /* this lead's typical log seconds per visit */
    int visits = 0;
    int64_t last = t0;
    for (int k = 0; k <= extra; k++) {
        int per_day = binge ? 1 + poisson(r, 2.0) : 1 + coin(r, 0.2);
        double start = hour + 0.7 * normal(r);
        for (int v = 0; v < per_day; v++) {
            double hh = start + v * 1.2 + 0.15 * normal(r);
            hh = hh < 0 ? 0 : hh > 23.9 ? 23.9 : hh;
            int64_t t = k == 0 && v == 0
                            ? t0
                            : t0 - t0 % DAY + (int64_t)day_of[k] * DAY + (int64_t)(hh * 3600);
            if (t <= last && !(k == 0 && v == 0))
                t = last + 3600;
            bool by_qr = qr && visits == 0;
            add(&l, t, by_qr ? SC_EV_SCAN : SC_EV_OPEN, SC_ACT_NONE, 0, ch, by_qr);
            add(&l, t + 1, SC_EV_VIEW, SC_ACT_NONE, 0, ch, by_qr);
            int32_t secs = (int32_t)exp(dwell_mu + 0.6 * normal(r));
            add(&l, t + 2 + secs, SC_EV_DWELL, SC_ACT_NONE, secs > 3600 ? 3600 : secs, ch, false);
            last = t + 2 + secs;
            visits++;
        }
    }

    /* Actions, each at a random visit's view. */
    double save_p = w == SC_WORLD_RETURNING ? 0.85 : 0.3;
    bool saved = coin(r, save_p);
    int clicks[6] = {0};
    clicks[SC_ACT_CALL] = poisson(r, 0.3);
    clicks[SC_ACT_EMAIL] = poisson(r, 0.15);
    clicks[SC_ACT_WECHAT] = poisson(r, ch == SC_CH_WECHAT ? 0.5 : 0.25);
    clicks[SC_ACT_WEBSITE] = poisson(r, 0.3);
    clicks[SC_ACT_MAP] = poisson(r, 0.1);
    int shares = poisson(r, 0.2);
    size_t n_views = 0;
    int64_t view_ts[32];
    for (size_t i = 0; i < l.n && n_views < 32; i++)
        if (l.ev[i].type == SC_EV_VIEW)
            view_ts[n_views++] = l.ev[i].ts;
    if (saved)
        add(&l, view_ts[(size_t)(uniform(r) * n_views)] + 5, SC_EV_SAVE, SC_ACT_NONE, 0, ch, false);
    for (int a = SC_ACT_CALL; a <= SC_ACT_MAP; a++)
        for (int k = 0; k < clicks[a]; k++)
            add(&l, view_ts[(size_t)(uniform(r) * n_views)] + 10 + k, SC_EV_CLICK,
                (enum sc_click_action)a, 0, ch, false);
    for (int k = 0; k < shares; k++)
        add(&l, view_ts[(size_t)(uniform(r) * n_views)] + 20 + k, SC_EV_SHARE, SC_ACT_NONE, 0, ch,
            false);
    uint32_t share_visits = 0;
    for (int k = 0; k < shares; k++)
        share_visits += (uint32_t)poisson(r, 1.5);

    /* The truth. */
    double dwell_per_visit = 0;
    for (size_t i = 0; i < l.n; i++)
        if (l.ev[i].type == SC_EV_DWELL)
            dwell_per_visit += l.ev[i].seconds;
    dwell_per_visit /= visits;
    double t;
    switch (w) {
    case SC_WORLD_SAVING:
        t = -2.4 + 2.6 * saved + 0.25 * log1p(clicks[SC_ACT_CALL]) + 0.1 * log1p(visits);
        break;
    case SC_WORLD_RETURNING: t = -3.4 + 2.3 * log1p(extra) + 0.15 * saved; break;
    default:
        t = -2.0 + 1.3 * log1p(clicks[SC_ACT_WECHAT]) + 0.9 * (log1p(dwell_per_visit) - 3.5) +
            0.8 * qr;
        break;
    }
    double p = sigmoid(t);
    int y = coin(r, p);

    /* The decision moment: a little after the last event, for everyone alike
     * (so recency carries no trace of the outcome).  A sign-up and what it
     * causes happen at or after it and must not leak into the features. */
    int64_t cutoff = last + 3600 + (int64_t)(uniform(r) * 47 * 3600);
    if (y) {
        add(&l, cutoff, SC_EV_SIGNUP, SC_ACT_NONE, 0, ch, false);
        add(&l, cutoff + 60, SC_EV_VIEW, SC_ACT_NONE, 0, ch, false);
        add(&l, cutoff + 90, SC_EV_SAVE, SC_ACT_NONE, 0, ch, false);
    }
    struct sc_lead_events in = {l.ev, l.n, cutoff, share_visits, 0};
    struct sc_lead_stats st;
    enum sc_err e = sc_lead_features(&in, ex->x, &st);
    if (e != SC_OK)
        return e;
    ex->first_touch = t0;
    ex->views = st.views;
    ex->y = y;
    *p_out = p;
    return SC_OK;
}

enum sc_err sc_score_simulate(enum sc_score_world w, size_t n, uint64_t seed, int64_t now,
                              struct sc_score_example *ex, double *p_true)
{
    struct rng r = {seed ^ (0x51c0de5eedULL * ((uint64_t)w + 1))};
    for (size_t i = 0; i < n; i++) {
        double p;
        enum sc_err e = one_lead(w, &r, now, &ex[i], &p);
        if (e != SC_OK)
            return e;
        if (p_true)
            p_true[i] = p;
    }
    return SC_OK;
}
