/*
 * bench_ingest.c — the event writer's cost per event, in process: N events
 * written in batches of B, as the server's writer thread writes them, into a
 * fresh store.  With V = 1 (the default) each is a scan by a new visitor (ids
 * minted as the server mints them); with V > 1 each visitor makes V events
 * in a row, as a visit does: the scan, the page view, then clicks and dwell.
 * Prints µs per event, so that changes to the write path can be compared
 * without the noise of an HTTP run.
 *
 *   bench_ingest DIR [EVENTS] [BATCH] [V]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sharecard/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_ingest DIR [EVENTS] [BATCH]\n");
        return 2;
    }
    long total = argc > 2 ? atol(argv[2]) : 500000;
    int batch = argc > 3 ? atoi(argv[3]) : 32;
    if (batch < 1 || batch > 4096)
        batch = 32;
    int per = argc > 4 ? atoi(argv[4]) : 1;
    if (per < 1 || per > 100)
        per = 1;
    static const enum sc_ev_type visit[] = {SC_EV_SCAN, SC_EV_VIEW, SC_EV_CLICK, SC_EV_DWELL};
    char path[1024], err[256];
    snprintf(path, sizeof(path), "%s/ingest.db", argv[1]);
    struct sc_store *s;
    if (sc_store_open(path, &s, err, sizeof(err)) != SC_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct sc_member m = {0}, out;
    snprintf(m.email, sizeof(m.email), "ada@example.com");
    snprintf(m.name, sizeof(m.name), "Ada");
    struct sc_card p = {0}, c;
    struct sc_link l;
    if (sc_store_member_add(s, &m, NULL, &p, &out) != SC_OK ||
        sc_store_card_by_slug(s, out.slug, &c) != SC_OK ||
        sc_store_link_by_code(s, c.qr_code, &l) != SC_OK)
        return 1;
    static struct sc_event evs[4096];
    static struct sc_event_row rows[4096];
    struct sc_ua_info agent = {"Mobile Safari", "iOS", "phone", false};
    double t0 = now_s();
    char vid[SC_VID_MAX] = "";
    for (long done = 0; done < total; done += batch) {
        for (int i = 0; i < batch; i++) {
            long k = (done + i) % per; /* this visitor's k-th event */
            if (k == 0)
                sc_visitor_new(vid);
            struct sc_event *e = &evs[i];
            *e = (struct sc_event){.ts = time(NULL),
                                   .type = visit[k < 4 ? k : 2],
                                   .card_id = c.id,
                                   .link_id = k == 0 ? l.id : 0};
            if (e->type == SC_EV_DWELL)
                e->value = 20;
            memcpy(e->visitor, vid, sizeof(vid));
            snprintf(e->ip, sizeof(e->ip), "10.%ld.%ld.0", (done / 256) % 256, done % 256);
            snprintf(e->ua, sizeof(e->ua),
                     "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148");
            rows[i] = (struct sc_event_row){e, NULL, &agent, SC_OK};
        }
        if (sc_store_events_write(s, rows, (size_t)batch) != SC_OK) {
            fprintf(stderr, "write failed\n");
            return 1;
        }
    }
    double dt = now_s() - t0;
    if (per == 1)
        printf("%ld scans by new visitors in batches of %d: %.2f us per event\n", total, batch,
               dt * 1e6 / (double)total);
    else
        printf("%ld events, %d per visitor, in batches of %d: %.2f us per event\n", total, per,
               batch, dt * 1e6 / (double)total);
    sc_card_cleanup(&c);
    sc_store_close(s);
    return 0;
}
