/*
 * fast_dashboard.h — one test for both backends (test_store.c on SQLite,
 * test_store_pg.c on PostgreSQL), included after <cmocka.h> and
 * "sharecard/store.h": fc_run(store) on an empty store.
 *
 * The whole company's dashboard reads the days already compacted from a
 * cache (store/q_cache.c: the union of their bitmaps, their rollup sums)
 * and today's from rows.  Every figure it shows is checked here against a
 * count by brute force over the events written: ranges before, across and
 * after the compaction mark and across two month ends (1 December, 1
 * January), each read twice (the second time from the cache), then again
 * after late events on compacted days (a new visitor, and a returning
 * visitor's share that adds no unique row but does add to a rollup), then after
 * compacting further.  A team's figures (cached under their own key) likewise.
 */
#ifndef SC_TEST_FAST_DASHBOARD_H
#define SC_TEST_FAST_DASHBOARD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { FC_CARDS = 4, FC_VIS = 60, FC_EVS = 900, FC_DAY0 = 20050, FC_DAYS = 50 };
struct fc_ev {
    int day, card, vis, type;
    bool bot;
};
struct fc_world {
    struct fc_ev ev[FC_EVS + 8];
    int n;
    int64_t card_id[FC_CARDS];
};

static void fc_write(struct sc_store *s, struct fc_world *w, struct fc_ev e)
{
    static const struct sc_ua_info agents[3] = {{"Chrome", "Android", "phone", false},
                                                {"Mobile Safari", "iOS", "tablet", false},
                                                {"Firefox", "Windows", "desktop", false}};
    struct sc_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = (enum sc_ev_type)e.type;
    ev.card_id = w->card_id[e.card];
    ev.ts = (int64_t)e.day * 86400 + 3600 + e.vis;
    snprintf(ev.visitor, sizeof(ev.visitor), "c:fc%04d", e.vis);
    snprintf(ev.ua, sizeof(ev.ua), "Mozilla/5.0 test");
    snprintf(ev.ip, sizeof(ev.ip), "10.0.0.0");
    struct sc_event_row row = {&ev, e.bot ? "preview" : NULL, &agents[e.vis % 3], SC_OK};
    assert_int_equal(sc_store_events_write(s, &row, 1), SC_OK);
    w->ev[w->n++] = e;
}

struct fc_want {
    int64_t n[4], bots, uniques, dev[SC_DEV_COUNT];
    int64_t card_n[FC_CARDS][4], card_uniques[FC_CARDS];
    int64_t series[FC_DAYS][4];
};

/* By brute force: what days 'a'..'b' hold for the cards 'mask' picks. */
static void fc_count(const struct fc_world *w, int a, int b, unsigned mask, struct fc_want *x)
{
    memset(x, 0, sizeof(*x));
    static bool seen[FC_CARDS + 1][FC_VIS + 8];
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < w->n; i++) {
        const struct fc_ev *e = &w->ev[i];
        if (e->day < a || e->day > b || !(mask & (1u << e->card)))
            continue;
        if (e->bot) {
            x->bots++;
            continue;
        }
        x->n[e->type]++;
        x->card_n[e->card][e->type]++;
        x->series[e->day - FC_DAY0][e->type]++;
        if (e->type > 2)
            continue;
        if (!seen[FC_CARDS][e->vis]) {
            seen[FC_CARDS][e->vis] = true;
            x->uniques++;
            x->dev[(const int[]){SC_DEV_PHONE, SC_DEV_TABLET, SC_DEV_DESKTOP}[e->vis % 3]]++;
        }
        if (!seen[e->card][e->vis]) {
            seen[e->card][e->vis] = true;
            x->card_uniques[e->card]++;
        }
    }
}

static int fc_leader(const struct sc_leader_row *r, void *ctx)
{
    struct fc_want *got = ctx;
    int k = r->slug[2] - '0'; /* "fcK" */
    got->card_n[k][0] = r->scans;
    got->card_n[k][1] = r->opens;
    got->card_n[k][2] = r->views;
    got->card_n[k][3] = r->shares;
    got->card_uniques[k] = r->uniques;
    return 0;
}

static int fc_series(int64_t day, enum sc_ev_type t, int64_t n, void *ctx)
{
    struct fc_want *got = ctx;
    if (t < 4)
        got->series[day - FC_DAY0][t] += n;
    return 0;
}

static int fc_channel(int ch, enum sc_ev_type t, int64_t n, void *ctx)
{
    assert_int_equal(ch, -1); /* every event here came without a link */
    if (t < 4)
        ((int64_t *)ctx)[t] += n;
    return 0;
}

/* Every figure of the company's dashboard and a team's over 'a'..'b' against the brute force. */
static void fc_check(struct sc_store *s, const struct fc_world *w, int a, int b)
{
    for (int round = 0; round < 2; round++) { /* the second from the cache */
        struct fc_want x, got;
        fc_count(w, a, b, (1u << FC_CARDS) - 1, &x);
        memset(&got, 0, sizeof(got));
        struct sc_scope all = {0, NULL};
        struct sc_stats st;
        assert_int_equal(sc_store_scope_stats(s, &all, a, b, &st), SC_OK);
        for (int t = 0; t < 4; t++)
            assert_int_equal(st.n[t], x.n[t]);
        assert_int_equal(st.bots, x.bots);
        assert_int_equal(st.uniques, x.uniques);
        assert_int_equal(sc_store_devices(s, &all, a, b, got.dev), SC_OK);
        for (int d = 0; d < SC_DEV_COUNT; d++)
            assert_int_equal(got.dev[d], x.dev[d]);
        assert_int_equal(sc_store_leaderboard(s, &all, a, b, fc_leader, &got), SC_OK);
        assert_int_equal(sc_store_series(s, &all, a, b, fc_series, &got), SC_OK);
        int64_t ch[4] = {0};
        assert_int_equal(sc_store_channels(s, &all, a, b, fc_channel, ch), SC_OK);
        for (int k = 0; k < FC_CARDS; k++) {
            assert_int_equal(got.card_uniques[k], x.card_uniques[k]);
            for (int t = 0; t < 4; t++)
                assert_int_equal(got.card_n[k][t], x.card_n[k][t]);
        }
        for (int d = 0; d < FC_DAYS; d++)
            for (int t = 0; t < 4; t++)
                assert_int_equal(got.series[d][t], x.series[d][t]);
        for (int t = 0; t < 4; t++)
            assert_int_equal(ch[t], x.n[t]);
        /* A team (cards 0 and 2): its own key, never the company's figures. */
        fc_count(w, a, b, 1u | 4u, &x);
        struct sc_scope team = {0, "fc-even"};
        assert_int_equal(sc_store_scope_stats(s, &team, a, b, &st), SC_OK);
        assert_int_equal(st.uniques, x.uniques);
        assert_int_equal(st.n[SC_EV_VIEW], x.n[SC_EV_VIEW]);
    }
}

static void fc_run(struct sc_store *s)
{
    static struct fc_world w;
    memset(&w, 0, sizeof(w));
    for (int k = 0; k < FC_CARDS; k++) {
        struct sc_member m = {0}, out = {0};
        snprintf(m.email, sizeof(m.email), "fc%d@example.com", k);
        snprintf(m.name, sizeof(m.name), "Member %d", k);
        snprintf(m.team, sizeof(m.team), "%s", k % 2 ? "fc-odd" : "fc-even");
        struct sc_card p = {0}, c;
        snprintf(p.slug, sizeof(p.slug), "fc%d", k);
        assert_int_equal(sc_store_member_add(s, &m, NULL, &p, &out), SC_OK);
        assert_int_equal(sc_store_card_by_slug(s, p.slug, &c), SC_OK);
        w.card_id[k] = c.id;
        sc_card_cleanup(&c);
    }
    unsigned rnd = 2026;
    for (int i = 0; i < FC_EVS; i++) {
        rnd = rnd * 1103515245u + 12345u;
        struct fc_ev e = {FC_DAY0 + (int)((rnd >> 8) % FC_DAYS), (int)((rnd >> 4) % FC_CARDS),
                          (int)((rnd >> 12) % FC_VIS), (int)((rnd >> 20) % 4),
                          (rnd >> 24) % 10 == 0};
        fc_write(s, &w, e);
    }
    /* Days to 20079 compacted (1 December is 20058, 1 January 20089); 20080 on are rows. */
    int done = 0;
    assert_int_equal(sc_store_uniques_compact(s, 20080, 1000, &done), SC_OK);
    assert_int_equal(done, 30);
    static const int ranges[][2] = {{20050, 20099}, {20059, 20088}, {20070, 20090}, {20060, 20079},
                                    {20085, 20099}, {20040, 20060}, {20089, 20089}};
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        fc_check(s, &w, ranges[i][0], ranges[i][1]);
    /*
     * Late, on compacted days: first a returning visitor's share, which
     * adds no unique row (only a rollup changes), then a new visitor.
     */
    struct fc_ev again = {0};
    for (int i = 0; i < w.n && !again.day; i++)
        if (w.ev[i].day < 20080 && !w.ev[i].bot && w.ev[i].type <= SC_EV_VIEW)
            again = w.ev[i]; /* a visit already counted on a compacted day */
    assert_true(again.day > 0);
    again.type = SC_EV_SHARE;             /* no unique row on either backend: a rollup only */
    fc_check(s, &w, FC_DAY0 - 10, 20079); /* cached just before */
    fc_write(s, &w, again);
    fc_check(s, &w, FC_DAY0 - 10, 20079);
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        fc_check(s, &w, ranges[i][0], ranges[i][1]);
    fc_write(s, &w, (struct fc_ev){20060, 1, FC_VIS + 1, SC_EV_SCAN, false});
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        fc_check(s, &w, ranges[i][0], ranges[i][1]);
    assert_int_equal(sc_store_uniques_compact(s, 20095, 1000, &done), SC_OK);
    assert_true(done > 0);
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        fc_check(s, &w, ranges[i][0], ranges[i][1]);
}

#endif
