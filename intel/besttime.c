/*
 * besttime.c — when and how to reach a lead.  The hour comes from the
 * lead's own visits pooled across days, shrunk toward the team's hours by a
 * pseudo-count prior so one visit is not taken as a habit; a weekday only
 * when the history singles one out beyond chance.  The channel comes from
 * what the lead tapped or saved, weighted by what has worked for this
 * salesperson and with this lead (their logged follow-ups: the training
 * data for channels).  Pure functions of their inputs: "now" is a parameter.
 */
#include <math.h>
#include <string.h>

#include "sharecard/score.h"

#define WEEKDAY_ALPHA 0.05 /* significance of a weekday preference */
#define WEEKDAY_MIN   3    /* distinct days needed before a weekday can be preferred */
#define MAX_DAYS      400  /* distinct days examined for the weekday test */
#define CH_SHRINK     2.0  /* pseudo-attempts pulling a channel's rate toward CH_PRIOR */
#define CH_PRIOR      0.3  /* the rate assumed of a channel this salesperson never logged */
#define CH_LEAD_WIN   3.0  /* per time this lead was reached on a channel */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* P(X ≥ k) for X ~ Binomial(n, p). */
static double binom_tail(int n, int k, double p)
{
    double s = 0;
    for (int i = k; i <= n; i++)
        s += exp(lgamma(n + 1.0) - lgamma(i + 1.0) - lgamma(n - i + 1.0) + i * log(p) +
                 (n - i) * log1p(-p));
    return s;
}

/* The weekday (0 = Sunday) on which the distinct local days of 'ts' fall
 * more often than chance allows, or -1. */
static int preferred_weekday(const int64_t *ts, size_t n, int32_t tz_min)
{
    int64_t days[MAX_DAYS];
    int nd = 0, count[7] = {0};
    for (size_t i = 0; i < n; i++) {
        int64_t d = floor_div(ts[i] + (int64_t)tz_min * 60, 86400);
        bool seen = false;
        for (int k = 0; k < nd && !seen; k++)
            seen = days[k] == d;
        if (seen || nd == MAX_DAYS)
            continue;
        days[nd++] = d;
        count[((d + 4) % 7 + 7) % 7]++; /* 1970-01-01 was a Thursday */
    }
    if (nd < WEEKDAY_MIN)
        return -1;
    int best = 0, ties = 0;
    for (int w = 1; w < 7; w++)
        if (count[w] > count[best])
            best = w;
    for (int w = 0; w < 7; w++)
        ties += count[w] == count[best];
    if (ties > 1)
        return -1;
    return binom_tail(nd, count[best], 1.0 / 7.0) < WEEKDAY_ALPHA ? best : -1;
}

void sc_score_best_time(const int64_t *ts, size_t n, const double team_hours[24], int32_t tz_min,
                        int64_t now, struct sc_besttime *out)
{
    double lead[24] = {0}, team[24], total = 0;
    int64_t off = (int64_t)tz_min * 60;

    for (size_t i = 0; i < n; i++)
        lead[(floor_div(ts[i] + off, 3600) % 24 + 24) % 24] += 1;
    for (int h = 0; h < 24; h++) {
        team[h] = team_hours && team_hours[h] > 0 ? team_hours[h] : 0;
        total += team[h];
    }
    for (int h = 0; h < 24; h++)
        team[h] = total > 0 ? team[h] / total : 1.0 / 24;

    /* Posterior mean of the lead's hour distribution under a Dirichlet prior
     * of SC_BESTTIME_PSEUDO pseudo-visits spread as the team's hours. */
    int best = 0;
    double best_w = -1;
    for (int h = 0; h < 24; h++) {
        double w = lead[h] + SC_BESTTIME_PSEUDO * team[h];
        if (w > best_w) {
            best_w = w;
            best = h;
        }
    }
    memset(out, 0, sizeof(*out));
    out->hour = best;
    out->from_team = lead[best] == 0;
    out->weekday = preferred_weekday(ts, n, tz_min);

    /* The first start of that local hour after 'now' (on the preferred
     * weekday if any): at most 7 days ahead. */
    int64_t today = floor_div(now + off, 86400);
    out->at = now;
    for (int d = 0; d <= 7; d++) {
        int64_t day = today + d;
        int64_t t = day * 86400 + best * 3600 - off;
        if (t <= now)
            continue;
        if (out->weekday >= 0 && ((day + 4) % 7 + 7) % 7 != out->weekday)
            continue;
        out->at = t;
        break;
    }
}

/* 'fu''s successes on channel 'c', never more than its attempts. */
static double wins(const struct sc_followup_stats *fu, int c)
{
    return fu->successes[c] < fu->attempts[c] ? fu->successes[c] : fu->attempts[c];
}

enum sc_contact sc_score_best_channel_fu(const struct sc_lead_stats *st,
                                         const struct sc_followup_stats *fu,
                                         const struct sc_followup_stats *lead)
{
    double pref[SC_CONTACT_COUNT];

    /* What the lead showed: a tap on a channel is the clearest sign; a saved
     * contact puts the number in their phone (a call or a text); the link
     * they came by says where they read messages. */
    pref[SC_CONTACT_CALL] = 1 + 2.0 * st->clicks[SC_ACT_CALL] + (st->saved ? 1.5 : 0);
    pref[SC_CONTACT_WECHAT] =
        1 + 2.0 * st->clicks[SC_ACT_WECHAT] + (st->channel == SC_CH_WECHAT ? 1 : 0);
    pref[SC_CONTACT_EMAIL] =
        1 + 2.0 * st->clicks[SC_ACT_EMAIL] + (st->channel == SC_CH_EMAIL ? 1 : 0);
    pref[SC_CONTACT_SMS] = 1 + (st->saved ? 1.0 : 0) + (st->channel == SC_CH_SMS ? 1 : 0);

    enum sc_contact best = SC_CONTACT_CALL;
    double best_v = -1;
    for (int c = 0; c < SC_CONTACT_COUNT; c++) {
        /* This salesperson's rate of reaching leads on the channel, shrunk toward a
         * modest prior: a channel that worked beats one never tried. */
        double a = fu ? fu->attempts[c] : 0, s = fu ? wins(fu, c) : 0;
        double v = pref[c] * (s + CH_SHRINK * CH_PRIOR) / (a + CH_SHRINK);
        /* This lead: reached on a channel before, reach them there again; each
         * unanswered attempt there counts against it. */
        if (lead)
            v *= (1 + CH_LEAD_WIN * wins(lead, c)) / (1 + lead->attempts[c] - wins(lead, c));
        if (v > best_v) {
            best_v = v;
            best = (enum sc_contact)c;
        }
    }
    return best;
}

enum sc_contact sc_score_best_channel(const struct sc_lead_stats *st,
                                      const struct sc_followup_stats *fu)
{
    return sc_score_best_channel_fu(st, fu, NULL);
}
