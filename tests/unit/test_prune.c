/*
 * test_prune.c — raw-event retention in the store: old events go in
 * batches, newer ones stay, and the figures dashboards read (card and
 * scope stats, the leaderboard, from rollups) are the same before and
 * after; sign-ups' rows are another table and stay.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sharecard/store.h"

static struct sc_event ev_of(enum sc_ev_type t, int64_t card, int64_t link, const char *vid,
                             int64_t ts)
{
    struct sc_event e;
    memset(&e, 0, sizeof(e));
    e.type = t;
    e.card_id = card;
    e.link_id = link;
    e.ts = ts;
    snprintf(e.visitor, sizeof(e.visitor), "%s", vid);
    snprintf(e.ua, sizeof(e.ua), "Mozilla/5.0 test");
    snprintf(e.ip, sizeof(e.ip), "10.0.0.0");
    return e;
}

static int count_row(const struct sc_xrow *r, void *ctx)
{
    int64_t *n = ctx;
    if (!r->start)
        (*n)++;
    return 0;
}

static int64_t events_left(struct sc_store *s)
{
    int64_t n = 0;
    assert_int_equal(sc_store_export(s, "events", 0, INT64_MAX, count_row, &n), SC_OK);
    return n;
}

struct board {
    int64_t scans, views, uniques;
};

static int board_row(const struct sc_leader_row *r, void *ctx)
{
    struct board *b = ctx;
    b->scans += r->scans;
    b->views += r->views;
    b->uniques += r->uniques;
    return 0;
}

static void test_prune_keeps_figures(void **state)
{
    (void)state;
    struct sc_store *s = NULL;
    char err[256];
    assert_int_equal(sc_store_open(":memory:", &s, err, sizeof(err)), SC_OK);
    struct sc_member m = {0}, out = {0};
    snprintf(m.email, sizeof(m.email), "p@example.com");
    snprintf(m.name, sizeof(m.name), "P");
    struct sc_card p = {0};
    snprintf(p.slug, sizeof(p.slug), "prune");
    assert_int_equal(sc_store_member_add(s, &m, NULL, &p, &out), SC_OK);
    struct sc_card c;
    assert_int_equal(sc_store_card_by_slug(s, "prune", &c), SC_OK);
    struct sc_link l;
    assert_int_equal(sc_store_link_by_code(s, c.qr_code, &l), SC_OK);

    /* 2,500 old events over 25 days (more than two batches), then 3 recent ones. */
    const int64_t old_day = 20000, new_day = 20500;
    struct sc_ua_info agent = {"Chrome", "Android", "phone", false};
    static struct sc_event evs[100];
    struct sc_event_row rows[100];
    for (int d = 0; d < 25; d++) {
        for (int i = 0; i < 100; i++) {
            char vid[32];
            snprintf(vid, sizeof(vid), "c:v%d", i % 7);
            evs[i] =
                ev_of(i % 2 ? SC_EV_VIEW : SC_EV_SCAN, c.id, l.id, vid, (old_day + d) * 86400 + i);
            rows[i] = (struct sc_event_row){&evs[i], NULL, &agent, SC_OK};
        }
        assert_int_equal(sc_store_events_write(s, rows, 100), SC_OK);
    }
    for (int i = 0; i < 3; i++) {
        evs[i] = ev_of(SC_EV_SCAN, c.id, l.id, "c:new", new_day * 86400 + i);
        rows[i] = (struct sc_event_row){&evs[i], NULL, &agent, SC_OK};
    }
    assert_int_equal(sc_store_events_write(s, rows, 3), SC_OK);
    assert_int_equal(events_left(s), 2503);

    struct sc_stats before, after;
    struct board b0 = {0}, b1 = {0};
    assert_int_equal(sc_store_card_stats(s, c.id, old_day, new_day, &before), SC_OK);
    assert_int_equal(before.n[SC_EV_SCAN], 1253);
    assert_int_equal(sc_store_leaderboard(s, NULL, old_day, new_day, board_row, &b0), SC_OK);

    /* Prune everything older than 400 days before the new day, a batch of 1,000 at a time. */
    int64_t cut = (new_day - 400) * 86400, next = 0, after_id = 0, gone = 0, deleted = 0;
    bool done = false;
    int batches = 0;
    while (!done) {
        assert_int_equal(sc_store_events_prune(s, cut, after_id, 1000, &next, &deleted, &done),
                         SC_OK);
        assert_true(deleted <= 1000);
        gone += deleted;
        after_id = next;
        batches++;
    }
    assert_int_equal(gone, 2500);
    assert_true(batches >= 3);
    assert_int_equal(events_left(s), 3);

    assert_int_equal(sc_store_card_stats(s, c.id, old_day, new_day, &after), SC_OK);
    assert_memory_equal(&before, &after, sizeof(before));
    assert_int_equal(sc_store_leaderboard(s, NULL, old_day, new_day, board_row, &b1), SC_OK);
    assert_memory_equal(&b0, &b1, sizeof(b0));
    assert_int_equal(b1.uniques, b0.uniques);

    /* A second round finds nothing to do and touches nothing newer. */
    assert_int_equal(sc_store_events_prune(s, cut, 0, 1000, &next, &deleted, &done), SC_OK);
    assert_int_equal(deleted, 0);
    assert_true(done);
    assert_int_equal(events_left(s), 3);
    sc_card_cleanup(&c);
    sc_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prune_keeps_figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
