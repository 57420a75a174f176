/*
 * bench_ingest.c — the event writer's cost per event, in process: N scans by
 * new visitors (ids minted as the server mints them) written in batches of
 * B, as the server's writer thread writes them, into a fresh store.  Prints
 * µs per event, so that changes to the write path can be compared without
 * the noise of an HTTP run.
 *
 *   bench_ingest DIR [EVENTS] [BATCH]
 */
#include <stdio.h>
#include <stdlib.h>
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
    for (long done = 0; done < total; done += batch) {
        for (int i = 0; i < batch; i++) {
            struct sc_event *e = &evs[i];
            *e = (struct sc_event){
                .ts = time(NULL), .type = SC_EV_SCAN, .card_id = c.id, .link_id = l.id};
            sc_visitor_new(e->visitor);
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
    printf("%ld scans by new visitors in batches of %d: %.2f us per event\n", total, batch,
           dt * 1e6 / (double)total);
    sc_card_cleanup(&c);
    sc_store_close(s);
    return 0;
}
