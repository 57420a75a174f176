/*
 * bench_leads.c — what scoring a 10,000-lead list costs once its events are
 * read: for each lead its features, score and reasons (in words), best time
 * (with the team's hours), best channel and drafted next action, as
 * /api/v1/leads?limit=10000 does for every row.  The store's read is timed
 * by the HTTP figure in bench/RESULTS.md, not here.
 *
 *   build/bench/bench_leads [LEADS] [ROUNDS]     (defaults 10000, 20)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sharecard/score.h"

#define NOW 1800000000LL

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_u(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    int rounds = argc > 2 ? atoi(argv[2]) : 20;
    /* Leads of 1 to 40 events over the last 60 days, of every kind. */
    size_t *off = calloc(n + 1, sizeof(*off));
    struct sc_lead_event *ev = malloc(n * 40 * sizeof(*ev));
    if (!off || !ev)
        return 1;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        off[i] = total;
        int k = 1 + (int)(next_u() % 40);
        for (int j = 0; j < k; j++) {
            struct sc_lead_event *e = &ev[total++];
            memset(e, 0, sizeof(*e));
            e->ts = NOW - (int64_t)(next_u() % (60 * 86400));
            e->type = (enum sc_ev_type)(next_u() % 7);
            e->action =
                e->type == SC_EV_CLICK ? (enum sc_click_action)(1 + next_u() % 5) : SC_ACT_NONE;
            e->seconds = e->type == SC_EV_DWELL ? (int32_t)(next_u() % 300) : 0;
            e->channel = (enum sc_channel)(next_u() % 7);
            e->qr = e->channel == SC_CH_QR;
        }
    }
    off[n] = total;
    struct sc_score_model m;
    sc_score_prior(&m);
    double team[24] = {0};
    for (size_t i = 0; i < total; i++)
        team[(ev[i].ts / 3600) % 24] += 1;
    int64_t *ts = malloc(40 * sizeof(*ts));
    double *ms = malloc((size_t)rounds * sizeof(*ms));
    volatile size_t sink = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_ms();
        for (size_t i = 0; i < n; i++) {
            struct sc_lead_events in = {ev + off[i], off[i + 1] - off[i], NOW + 1, 0, 480};
            double x[SC_SCORE_NF];
            struct sc_lead_stats st;
            struct sc_score_result res;
            struct sc_besttime bt;
            char text[160], draft[800];
            sc_lead_features(&in, x, &st);
            sc_score_lead(&m, x, &st, &res);
            size_t nts = 0;
            for (size_t j = off[i]; j < off[i + 1]; j++)
                if (ev[j].type <= SC_EV_VIEW)
                    ts[nts++] = ev[j].ts;
            sc_score_best_time(ts, nts, team, 480, NOW, &bt);
            enum sc_contact c = sc_score_best_channel(&st, NULL);
            for (size_t k = 0; k < res.n_reasons; k++)
                sc_score_reason_text(&res.reasons[k], "zh-CN", text, sizeof(text));
            sc_score_next_action("王芳", c, &bt, 480, &res, "zh-CN", draft, sizeof(draft));
            sink += (size_t)res.score + strlen(draft);
        }
        ms[r] = now_ms() - t0;
    }
    qsort(ms, (size_t)rounds, sizeof(*ms), cmp_double);
    printf("scored %zu leads (%zu events): median %.1f ms, best %.1f ms, worst %.1f ms over %d "
           "rounds (features, score, reasons, best time, channel, draft)\n",
           n, total, ms[rounds / 2], ms[0], ms[rounds - 1], rounds);
    free(ts);
    free(ms);
    free(ev);
    free(off);
    return sink == 0;
}
