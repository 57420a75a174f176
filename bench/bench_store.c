/*
 * bench_store.c — the store at scale: generates N events (default 10M) over
 * 90 days across 1,000 cards, one per member, in 100 teams of 10, through the
 * same write path the server uses (sc_store_events_write, batches of 4,096),
 * then reports rows/s, bytes per event on disk, and median and p99 latencies
 * of what reads them: a card's stats over 30 and 90 days, a manager's 30-day
 * dashboard (the team's stats for this period and the one before, its daily
 * series, leaderboard, revenue, channels and devices, as server/dashboard.c
 * asks for them), the
 * leaderboard alone, and the whole company's dashboard as an admin sees it.
 *
 *   bench_store DIR [EVENTS]
 *
 * A DIR that already holds a store.db is reused as it is (no events are
 * generated: EVENTS must be the number it was made with), so the reads can
 * be timed again, e.g. after a change, without generating 50M events anew.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "sharecard/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This thread's CPU time: what a read cost, however busy the shared machine was. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static long long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

static int count_point(int64_t day, enum sc_ev_type t, int64_t n, void *ctx)
{
    (void)day;
    (void)t;
    *(int64_t *)ctx += n;
    return 0;
}

static int count_leader(const struct sc_leader_row *r, void *ctx)
{
    *(int64_t *)ctx += r->views;
    return 0;
}

static int count_channel(int ch, enum sc_ev_type t, int64_t n, void *ctx)
{
    (void)ch, (void)t;
    *(int64_t *)ctx += n;
    return 0;
}

/* The parts of a dashboard, and how long each took in the last one (ms). */
enum { PARTS = 6 };
static const char *const part_name[PARTS] = {
    "stats now and before", "series", "leaderboard", "revenue", "channels", "devices"};
static double part_ms[PARTS];

/*
 * What server/dashboard.c reads for a 30-day dashboard of 'scope' (NULL: the
 * whole company) ending on day 'today'; 'sink' keeps the results observed.
 */
static enum sc_err dashboard(struct sc_store *s, const struct sc_scope *scope, int64_t today,
                             int64_t *sink)
{
    struct sc_stats now, prev;
    int64_t orders = 0, cents = 0, dev[SC_DEV_COUNT] = {0};
    enum sc_err e = SC_OK;
    for (int k = 0; k < PARTS && e == SC_OK; k++) {
        double a = now_s();
        switch (k) {
        case 0:
            e = sc_store_scope_stats(s, scope, today - 29, today, &now);
            if (e == SC_OK)
                e = sc_store_scope_stats(s, scope, today - 59, today - 30, &prev);
            break;
        case 1: e = sc_store_series(s, scope, today - 29, today, count_point, sink); break;
        case 2: e = sc_store_leaderboard(s, scope, today - 29, today, count_leader, sink); break;
        case 3:
            e = sc_store_revenue(s, scope, today - 29, today, &orders, &cents);
            if (e == SC_OK)
                e = sc_store_revenue(s, scope, today - 59, today - 30, &orders, &cents);
            break;
        case 4: e = sc_store_channels(s, scope, today - 29, today, count_channel, sink); break;
        default: e = sc_store_devices(s, scope, today - 29, today, dev); break;
        }
        part_ms[k] = (now_s() - a) * 1e3;
    }
    *sink += now.uniques + prev.uniques + orders + dev[SC_DEV_PHONE];
    return e;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_store DIR [EVENTS]\n");
        return 2;
    }
    long long total = argc > 2 ? atoll(argv[2]) : 10000000LL;
    char path[1024], err[256];
    snprintf(path, sizeof(path), "%s/store.db", argv[1]);
    struct sc_store *s;
    bool reuse = file_size(path) > 0;
    if (sc_store_open(path, &s, err, sizeof(err)) != SC_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    enum { CARDS = 1000, MEMBERS = 100, BATCH = 4096 };
    int64_t card_ids[CARDS], link_ids[CARDS];
    for (int i = 0; i < CARDS; i++) /* a reused store: its cards were made first, 1 to 1,000 */
        card_ids[i] = link_ids[i] = i + 1;
    for (int i = 0; i < CARDS && !reuse; i++) {
        struct sc_member m = {0}, out;
        snprintf(m.email, sizeof(m.email), "m%d@example.com", i);
        snprintf(m.name, sizeof(m.name), "Member %d", i);
        snprintf(m.team, sizeof(m.team), "team%d", i % MEMBERS);
        struct sc_card p = {0};
        if (sc_store_member_add(s, &m, NULL, &p, &out) != SC_OK)
            return 1;
        struct sc_card c;
        struct sc_link l;
        if (sc_store_card_by_slug(s, out.slug, &c) != SC_OK ||
            sc_store_link_by_code(s, c.qr_code, &l) != SC_OK)
            return 1;
        card_ids[i] = c.id;
        link_ids[i] = l.id;
        sc_card_cleanup(&c);
    }
    static struct sc_event evs[BATCH];
    static struct sc_event_row rows[BATCH];
    struct sc_ua_info agent = {"Chrome Mobile", "Android", "phone", false};
    static const char *const uas[] = {
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14) Chrome/124.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone) Mobile/15E148 MicroMessenger/8.0.47", "Twitterbot/1.0"};
    const int64_t day0 = (int64_t)time(NULL) / 86400 - 90;
    unsigned rnd = 12345;
    double t0 = now_s();
    for (long long done = 0; done < total && !reuse;) {
        int n = total - done < BATCH ? (int)(total - done) : BATCH;
        for (int i = 0; i < n; i++) {
            rnd = rnd * 1103515245u + 12345u;
            int card = (int)((rnd >> 8) % CARDS);
            struct sc_event *e = &evs[i];
            memset(e, 0, sizeof(*e));
            e->ts = (day0 + (int64_t)((done + i) * 90 / total)) * 86400 + (rnd % 86400);
            e->type = (enum sc_ev_type)((rnd >> 4) % 3); /* scan, open, view */
            e->card_id = card_ids[card];
            e->link_id = link_ids[card];
            /* Seven in ten are new visitors (ids ordered by time, as minted), the rest return. */
            long long vid = (rnd >> 3) % 10 < 7 || done + i < 1000
                                ? done + i
                                : (long long)((rnd >> 11) % (unsigned)(done + i));
            /* As the server mints them: 12 hex digits of milliseconds, then 20 more characters. */
            long long ms = (day0 * 86400 + vid * 90 * 86400 / total) * 1000 + vid % 1000;
            snprintf(e->visitor, sizeof(e->visitor), "c:%012llx%020lld", ms, vid);
            snprintf(e->ip, sizeof(e->ip), "10.%u.%u.0", (rnd >> 5) & 255, (rnd >> 13) & 255);
            snprintf(e->ua, sizeof(e->ua), "%s", uas[(rnd >> 7) % 4]);
            rows[i] =
                (struct sc_event_row){e, (rnd >> 7) % 4 == 3 ? "preview" : NULL, &agent, SC_OK};
        }
        if (sc_store_events_write(s, rows, (size_t)n) != SC_OK) {
            fprintf(stderr, "write failed\n");
            return 1;
        }
        done += n;
    }
    double gen = now_s() - t0;
    if (reuse)
        printf("reusing %s: no events generated\n", path);
    sc_store_close(s);
    char wal[1100];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    long long bytes = file_size(path) + file_size(wal);
    printf("generated %lld events in %.1f s: %.0f rows/s\n", total, gen, (double)total / gen);
    printf("store on disk: %.1f MB, %.1f bytes per event (rollups and indexes included)\n",
           (double)bytes / 1e6, (double)bytes / (double)total);

    if (sc_store_open(path, &s, err, sizeof(err)) != SC_OK)
        return 1;
    /* What the event writer does while idle: the days that are over become bitmaps. */
    int compacted = 0;
    double c0 = now_s();
    if (sc_store_uniques_compact(s, (int64_t)time(NULL) / 86400, 100000, &compacted) != SC_OK) {
        fprintf(stderr, "compacting unique visitors failed\n");
        return 1;
    }
    long long after = file_size(path) + file_size(wal);
    printf("unique visitors of %d days compacted into bitmaps in %.1f s (%.1f s a day); store now "
           "%.1f bytes per event\n",
           compacted, now_s() - c0, compacted ? (now_s() - c0) / compacted : 0.0,
           (double)after / (double)total);
    enum { Q = 500 };
    double lat30[Q], latall[Q];
    int64_t today = (int64_t)time(NULL) / 86400;
    for (int q = 0; q < Q; q++) {
        struct sc_stats st;
        int64_t card = card_ids[(q * 7) % CARDS];
        double a = now_s();
        sc_store_card_stats(s, card, today - 30, today, &st);
        lat30[q] = (now_s() - a) * 1e3;
        a = now_s();
        sc_store_card_stats(s, card, 0, today + 1, &st);
        latall[q] = (now_s() - a) * 1e3;
    }
    qsort(lat30, Q, sizeof(double), cmp);
    qsort(latall, Q, sizeof(double), cmp);
    printf("card stats, 30 days: median %.3f ms, p99 %.3f ms\n", lat30[Q / 2], lat30[Q * 99 / 100]);
    printf("card stats, 90 days: median %.3f ms, p99 %.3f ms\n", latall[Q / 2],
           latall[Q * 99 / 100]);

    /*
     * The admin's dashboard once with nothing cached (as after a restart or a
     * day compacted, before the compactor's read-ahead), then warm below.
     */
    double cold = now_s(), cold_cpu = cpu_s();
    int64_t sink0 = 0;
    if (dashboard(s, NULL, today, &sink0) != SC_OK) {
        fprintf(stderr, "dashboard failed\n");
        return 1;
    }
    cold = (now_s() - cold) * 1e3;
    cold_cpu = (cpu_s() - cold_cpu) * 1e3;
    enum { D = 101 };
    static double dash[D], dash_cold[D], lead[D], admin[5], admin_part[PARTS][5];
    static double dash_cpu[D], dash_cold_cpu[D], admin_cpu[5];
    int64_t sink = 0;
    for (int q = 0; q < D; q++) {
        char team[32];
        snprintf(team, sizeof(team), "team%d", (q * 37) % MEMBERS);
        struct sc_scope scope = {0, team};
        /* Each team's first read today (nothing of it cached), then the same again. */
        double a = now_s(), c = cpu_s();
        if (dashboard(s, &scope, today, &sink) != SC_OK) {
            fprintf(stderr, "dashboard failed\n");
            return 1;
        }
        dash_cold[q] = (now_s() - a) * 1e3;
        dash_cold_cpu[q] = (cpu_s() - c) * 1e3;
        a = now_s(), c = cpu_s();
        dashboard(s, &scope, today, &sink);
        dash[q] = (now_s() - a) * 1e3;
        dash_cpu[q] = (cpu_s() - c) * 1e3;
        a = now_s();
        sc_store_leaderboard(s, &scope, today - 29, today, count_leader, &sink);
        lead[q] = (now_s() - a) * 1e3;
        if (q < 5) { /* the whole company: seconds each at 10M, so a few rounds */
            a = now_s(), c = cpu_s();
            dashboard(s, NULL, today, &sink);
            admin[q] = (now_s() - a) * 1e3;
            admin_cpu[q] = (cpu_s() - c) * 1e3;
            for (int k = 0; k < PARTS; k++)
                admin_part[k][q] = part_ms[k];
        }
    }
    qsort(dash, D, sizeof(double), cmp);
    qsort(dash_cold, D, sizeof(double), cmp);
    qsort(dash_cpu, D, sizeof(double), cmp);
    qsort(dash_cold_cpu, D, sizeof(double), cmp);
    qsort(admin_cpu, 5, sizeof(double), cmp);
    qsort(lead, D, sizeof(double), cmp);
    qsort(admin, 5, sizeof(double), cmp);
    printf("manager's 30-day dashboard (team of 10 cards: stats now and before, series, "
           "leaderboard, revenue, channels, devices): median %.3f ms, p99 %.3f ms\n",
           dash[D / 2], dash[D * 99 / 100]);
    printf("  CPU time of it: median %.3f ms\n", dash_cpu[D / 2]);
    printf("manager's 30-day dashboard, the team's first read (its compacted days not yet "
           "cached): median %.3f ms, p99 %.3f ms\n",
           dash_cold[D / 2], dash_cold[D * 99 / 100]);
    printf("  CPU time of it: median %.3f ms\n", dash_cold_cpu[D / 2]);
    printf("leaderboard, team, 30 days: median %.3f ms, p99 %.3f ms\n", lead[D / 2],
           lead[D * 99 / 100]);
    printf("admin's 30-day dashboard (all 1,000 cards): median %.3f ms, max %.3f ms\n", admin[2],
           admin[4]);
    printf("  CPU time of it: median %.3f ms\n", admin_cpu[2]);
    printf("admin's 30-day dashboard, nothing cached (the first after opening the store): %.3f "
           "ms\n",
           cold);
    printf("  CPU time of it: %.3f ms\n", cold_cpu);
    for (int k = 0; k < PARTS; k++) {
        qsort(admin_part[k], 5, sizeof(double), cmp);
        printf("  of which %s: median %.3f ms\n", part_name[k], admin_part[k][2]);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS of this process: %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    if (sink + sink0 < 0)
        printf("(unreachable: %lld)\n", (long long)(sink + sink0));
    sc_store_close(s);
    return 0;
}
