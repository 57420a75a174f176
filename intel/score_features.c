/*
 * score_features.c — a lead's events turned into the intent model's fixed
 * feature vector (score.h lists and defines each), and the raw counts behind
 * them.  Only events strictly before the cut-off count, and outcomes (sign-up,
 * conversion) never do: what the outcome itself causes must not predict it.
 * Also the cut-off a lead is taken at as a training example (score.h says why
 * a negative's is drawn within its horizon).
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/score.h"

#define VISIT_GAP_S  (30 * 60) /* a quiet half hour ends a visit */
#define NO_RECENCY_D 365.0     /* recency of a lead with no event */

static const char *const feature_names[SC_SCORE_NF] = {
    "visits",     "days",        "return_gap",   "dwell",         "dwell_per_visit",
    "click_call", "click_email", "click_wechat", "click_website", "click_map",
    "saved",      "shares",      "share_visits", "recency",       "qr",
    "ch_wechat",  "ch_message",  "ch_social",    "ch_copy"};

const char *sc_score_feature_name(enum sc_feature f)
{
    return (unsigned)f < SC_SCORE_NF ? feature_names[f] : "?";
}

static int by_ts(const void *a, const void *b)
{
    const struct sc_lead_event *x = *(const struct sc_lead_event *const *)a;
    const struct sc_lead_event *y = *(const struct sc_lead_event *const *)b;
    return (x->ts > y->ts) - (x->ts < y->ts);
}

/* The local calendar day of 'ts' (days since the epoch, floor). */
static int64_t local_day(int64_t ts, int32_t tz_min)
{
    int64_t t = ts + (int64_t)tz_min * 60;
    return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

static bool is_outcome(enum sc_ev_type t)
{
    return t == SC_EV_SIGNUP || t == SC_EV_CONVERT;
}

enum sc_err sc_lead_features(const struct sc_lead_events *in, double x[SC_SCORE_NF],
                             struct sc_lead_stats *st)
{
    enum sc_err e = SC_OK;
    const struct sc_lead_event **ev = NULL;
    struct sc_lead_stats s;
    size_t m = 0;

    memset(&s, 0, sizeof(s));
    s.channel = SC_CH_OTHER;
    s.share_visits = in->share_visits;
    if (in->n) {
        ev = malloc(in->n * sizeof(*ev));
        if (!ev) {
            e = SC_ENOMEM;
            goto out;
        }
    }
    for (size_t i = 0; i < in->n; i++)
        if (in->ev[i].ts < in->cutoff && !is_outcome(in->ev[i].type))
            ev[m++] = &in->ev[i];
    if (m) /* qsort's base may not be NULL, even for no elements */
        qsort(ev, m, sizeof(*ev), by_ts);

    int64_t prev_ts = 0, prev_day = 0, first_day = 0;
    bool in_visit = false, channel_set = false;
    for (size_t i = 0; i < m; i++) {
        const struct sc_lead_event *v = ev[i];
        if (i > 0 && v->ts - prev_ts > VISIT_GAP_S)
            in_visit = false;
        prev_ts = v->ts;
        int64_t day = local_day(v->ts, in->tz_min);
        if (s.days == 0 || day != prev_day) { /* sorted: a new day is a later day */
            if (s.days == 0)
                first_day = day;
            s.days++;
            prev_day = day;
        }
        if (v->qr || v->type == SC_EV_SCAN)
            s.qr = true;
        switch (v->type) {
        case SC_EV_SCAN:
        case SC_EV_OPEN:
        case SC_EV_VIEW:
            if (!channel_set) {
                s.channel = v->type == SC_EV_SCAN ? SC_CH_QR : v->channel;
                channel_set = true;
            }
            if (v->type == SC_EV_VIEW)
                s.views++;
            if (!in_visit)
                s.visits++;
            in_visit = true;
            break;
        case SC_EV_CLICK:
            if ((unsigned)v->action < 6 && v->action != SC_ACT_NONE)
                s.clicks[v->action]++;
            break;
        case SC_EV_SAVE: s.saved = true; break;
        case SC_EV_SHARE: s.shares++; break;
        case SC_EV_DWELL:
            if (v->seconds > 0)
                s.dwell_s += (uint32_t)v->seconds;
            break;
        default: break;
        }
    }
    if (m) {
        s.first_ts = ev[0]->ts;
        s.last_ts = ev[m - 1]->ts;
        s.recency_days = (double)(in->cutoff - s.last_ts) / 86400.0;
        if (s.days >= 2)
            s.mean_gap_days = (double)(prev_day - first_day) / (s.days - 1);
    } else {
        s.recency_days = NO_RECENCY_D;
    }

    x[SC_F_VISITS] = log1p(s.visits);
    x[SC_F_DAYS] = log1p(s.days);
    x[SC_F_GAP] = log1p(s.mean_gap_days);
    x[SC_F_DWELL] = log1p(s.dwell_s);
    x[SC_F_DWELL_VISIT] = log1p(s.visits ? (double)s.dwell_s / s.visits : 0.0);
    x[SC_F_CALL] = log1p(s.clicks[SC_ACT_CALL]);
    x[SC_F_EMAIL] = log1p(s.clicks[SC_ACT_EMAIL]);
    x[SC_F_WECHAT] = log1p(s.clicks[SC_ACT_WECHAT]);
    x[SC_F_WEBSITE] = log1p(s.clicks[SC_ACT_WEBSITE]);
    x[SC_F_MAP] = log1p(s.clicks[SC_ACT_MAP]);
    x[SC_F_SAVED] = s.saved;
    x[SC_F_SHARES] = log1p(s.shares);
    x[SC_F_SHARE_VISITS] = log1p(s.share_visits);
    x[SC_F_RECENCY] = log1p(s.recency_days > 0 ? s.recency_days : 0.0);
    x[SC_F_QR] = s.qr;
    x[SC_F_CH_WECHAT] = s.channel == SC_CH_WECHAT;
    x[SC_F_CH_MESSAGE] = s.channel == SC_CH_SMS || s.channel == SC_CH_EMAIL;
    x[SC_F_CH_SOCIAL] = s.channel == SC_CH_WHATSAPP || s.channel == SC_CH_LINKEDIN;
    x[SC_F_CH_COPY] = s.channel == SC_CH_COPY;
    if (st)
        *st = s;
out:
    free(ev);
    return e;
}

/* splitmix64's finaliser: a well-spread 64-bit value from any key. */
static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

enum sc_lead_label sc_lead_example_cuts(const struct sc_lead_event *ev, size_t n, int64_t now,
                                        int64_t horizon_s, uint64_t key, int k, int64_t *first,
                                        int64_t cutoff[])
{
    int64_t f = INT64_MAX, outcome = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (is_outcome(ev[i].type)) {
            if (ev[i].ts < outcome)
                outcome = ev[i].ts;
        } else if (ev[i].ts < f) {
            f = ev[i].ts;
        }
    }
    if (f == INT64_MAX || horizon_s < 1 || k < 1)
        return SC_LEAD_SKIP; /* an outcome with nothing before it: no touch to learn from */
    int64_t end = f + horizon_s;
    bool y = outcome != INT64_MAX && outcome >= f && outcome <= end;
    if (!y && outcome == INT64_MAX && end > now)
        return SC_LEAD_SKIP; /* its horizon is still open: not yet a negative */
    /* Moments in (f, last]: the first touch always counts, as it does for a live lead;
     * a positive's last moment is its outcome (a sign-up at the first touch: that moment).
     * The i-th lies in the i-th of k equal parts of that window. */
    int64_t last = y ? outcome : end;
    *first = f;
    for (int i = 0; i < k; i++) {
        uint64_t h = mix64(key + (uint64_t)i * 0xd1b54a32d192ed03u);
        double u = ((double)i + (double)(h >> 11) * 0x1.0p-53) / k; /* [i/k, (i+1)/k) */
        int64_t c = last > f ? f + 1 + (int64_t)(u * (double)(last - f)) : last;
        cutoff[i] = c > last ? last : c;
    }
    return y ? SC_LEAD_POSITIVE : SC_LEAD_NEGATIVE;
}

enum sc_lead_label sc_lead_example_cut(const struct sc_lead_event *ev, size_t n, int64_t now,
                                       int64_t horizon_s, uint64_t key, int64_t *first,
                                       int64_t *cutoff)
{
    return sc_lead_example_cuts(ev, n, now, horizon_s, key, 1, first, cutoff);
}
