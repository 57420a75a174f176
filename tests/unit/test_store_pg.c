/*
 * test_store_pg.c — the PostgreSQL store against a real server: migrations
 * (reopen, a newer schema refused untouched, processes racing on a fresh
 * database), and what several instances on one database rely on — a
 * sign-up of one e-mail written through two store handles at the same
 * moment makes one customer and one set of rewards, and rollups written
 * from both stay exact.  Each test gets a database of its own on the server
 * $SHARECARD_TEST_PG names (an admin URL); without it the test is skipped
 * (exit 77), since the suite's own command starts a server and sets it.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "sharecard/referral.h"
#include "sharecard/store.h"

#include "fast_dashboard.h"

static const char *admin_url;
static char db_name[32];
static char db_url[512];

/* Runs 'q' on the admin connection; the test fails if it does. */
static void admin_exec(const char *q)
{
    PGconn *c = PQconnectdb(admin_url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, q);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", q, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

/* One number from 'q' run on the test's database. */
static long long db_int(const char *q)
{
    PGconn *c = PQconnectdb(db_url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, q);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", q, PQresultErrorMessage(r));
    long long v = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    PQfinish(c);
    return v;
}

/* A fresh database for each test, dropped after it. */
static int db_setup(void **state)
{
    static unsigned seq;
    snprintf(db_name, sizeof(db_name), "sc_unit_%ld_%u", (long)getpid(), seq++);
    char q[128];
    snprintf(q, sizeof(q), "CREATE DATABASE %s", db_name);
    admin_exec(q);
    /* The admin URL with its database replaced. */
    const char *slash = strrchr(admin_url, '/');
    assert_non_null(slash);
    snprintf(db_url, sizeof(db_url), "%.*s/%s", (int)(slash - admin_url), admin_url, db_name);
    return 0;
}

static int db_teardown(void **state)
{
    char q[128];
    snprintf(q, sizeof(q), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db_name);
    admin_exec(q);
    return 0;
}

static struct sc_store *open_db(void)
{
    struct sc_store *s = NULL;
    char err[512];
    enum sc_err e = sc_store_open(db_url, &s, err, sizeof(err));
    if (e != SC_OK)
        fail_msg("open %s: %s", db_url, err);
    return s;
}

static struct sc_member add(struct sc_store *s, const char *email)
{
    struct sc_member m = {0}, out = {0};
    snprintf(m.email, sizeof(m.email), "%s", email);
    snprintf(m.name, sizeof(m.name), "Name of %s", email);
    assert_int_equal(sc_store_member_add(s, &m, NULL, NULL, &out), SC_OK);
    return out;
}

static void test_migrations(void **state)
{
    struct sc_store *s = open_db();
    assert_int_equal(sc_store_schema_version(s), sc_store_schema_latest());
    assert_int_equal(sc_store_ping(s), SC_OK);
    struct sc_member m = add(s, "keep@example.com");
    char secret[65], again[65];
    assert_int_equal(sc_store_secret(s, "token", secret), SC_OK);
    sc_store_close(s);

    /* Opened again: the same rows and secret, nothing re-applied. */
    s = open_db();
    assert_int_equal(sc_store_schema_version(s), sc_store_schema_latest());
    struct sc_member kept;
    assert_int_equal(sc_store_member_by_email(s, "keep@example.com", &kept), SC_OK);
    assert_string_equal(kept.slug, m.slug);
    assert_int_equal(sc_store_secret(s, "token", again), SC_OK);
    assert_string_equal(secret, again);
    struct sc_card card;
    assert_int_equal(sc_store_card_by_slug(s, m.slug, &card), SC_OK);
    assert_int_equal(strlen(card.qr_code), SC_CODE_LEN);
    sc_card_cleanup(&card);
    sc_store_close(s);
    assert_int_equal(db_int("SELECT version FROM schema_version"), sc_store_schema_latest());

    /* A newer database is refused, untouched. */
    db_int("UPDATE schema_version SET version = 999");
    char err[512];
    s = NULL;
    assert_int_equal(sc_store_open(db_url, &s, err, sizeof(err)), SC_EVERSION);
    assert_null(s);
    assert_non_null(strstr(err, "newer sharecard"));
    assert_non_null(strstr(err, "schema 999"));
    assert_int_equal(db_int("SELECT version FROM schema_version"), 999);
    assert_int_equal(db_int("SELECT count(*) FROM members"), 1);

    /* A server that is not there is a sentence, not a hang. */
    assert_int_equal(sc_store_open("postgresql://postgres@127.0.0.1:1/x", &s, err, sizeof(err)),
                     SC_EIO);
    assert_non_null(strstr(err, "PostgreSQL"));
}

/* Instances starting at once on a fresh database: every one opens, each step runs once. */
static void test_migrations_race(void **state)
{
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    pid_t kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            close(gate[1]);
            char b;
            (void)!read(gate[0], &b, 1);
            struct sc_store *s = NULL;
            char err[256];
            enum sc_err e = sc_store_open(db_url, &s, err, sizeof(err));
            if (e != SC_OK)
                fprintf(stderr, "child %d: %s\n", i, err);
            else if (sc_store_schema_version(s) != sc_store_schema_latest())
                e = SC_EDB;
            sc_store_close(s);
            _exit(e == SC_OK ? 0 : 1);
        }
    }
    close(gate[0]);
    close(gate[1]);
    for (int i = 0; i < 4; i++) {
        int status = 0;
        assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    struct sc_store *s = open_db();
    add(s, "after@example.com");
    sc_store_close(s);
}

/* ---- two instances, one database ------------------------------------------------ */

struct racer {
    struct sc_store *store; /* this "instance"'s handle */
    pthread_barrier_t *go;
    const struct sc_referral_config *cfg;
    int64_t card_id, link_id;
    int round;
    enum sc_err batch, result;
};

/* Writes one batch: a scan and a sign-up of the round's e-mail by the same visitor. */
static void *sign_up(void *arg)
{
    struct racer *r = arg;
    static const struct sc_ua_info agent = {"Mobile Safari", "iOS", "phone", false};
    struct sc_event ev[2];
    memset(ev, 0, sizeof(ev));
    struct sc_signup su;
    memset(&su, 0, sizeof(su));
    su.cfg = r->cfg;
    snprintf(su.name, sizeof(su.name), "Racer");
    snprintf(su.email, sizeof(su.email), "same%d@example.com", r->round);
    for (int i = 0; i < 2; i++) {
        ev[i].ts = (int64_t)time(NULL);
        ev[i].card_id = r->card_id;
        snprintf(ev[i].visitor, sizeof(ev[i].visitor), "c:racer%d-%p", r->round, (void *)r);
        snprintf(ev[i].ua, sizeof(ev[i].ua), "Mozilla/5.0 (iPhone) Safari");
        snprintf(ev[i].ip, sizeof(ev[i].ip), "198.51.100.0");
    }
    ev[0].type = SC_EV_SCAN;
    ev[0].link_id = r->link_id;
    ev[1].type = SC_EV_SIGNUP;
    ev[1].signup = &su;
    struct sc_event_row rows[2] = {{&ev[0], NULL, &agent, SC_OK}, {&ev[1], NULL, &agent, SC_OK}};
    pthread_barrier_wait(r->go);
    r->batch = sc_store_events_write(r->store, rows, 2);
    r->result = rows[1].result;
    return NULL;
}

static void test_one_sign_up_across_instances(void **state)
{
    struct sc_store *a = open_db(), *b = open_db();
    struct sc_member m = add(a, "owner@example.com");
    struct sc_card card;
    assert_int_equal(sc_store_card_by_slug(b, m.slug, &card), SC_OK);
    struct sc_link link;
    assert_int_equal(sc_store_link_by_code(b, card.qr_code, &link), SC_OK);
    struct sc_referral_config cfg;
    sc_referral_config_defaults(&cfg);
    enum { ROUNDS = 10, RACERS = 4 };
    for (int round = 0; round < ROUNDS; round++) {
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, RACERS);
        struct racer r[RACERS];
        pthread_t t[RACERS];
        for (int i = 0; i < RACERS; i++) {
            r[i] = (struct racer){i % 2 ? b : a, &go, &cfg, card.id, link.id, round, SC_OK, SC_OK};
            assert_int_equal(pthread_create(&t[i], NULL, sign_up, &r[i]), 0);
        }
        int won = 0;
        for (int i = 0; i < RACERS; i++) {
            pthread_join(t[i], NULL);
            assert_int_equal(r[i].batch, SC_OK);
            if (r[i].result == SC_OK)
                won++;
            else
                assert_int_equal(r[i].result, SC_ECONFLICT);
        }
        assert_int_equal(won, 1);
        pthread_barrier_destroy(&go);
    }
    int64_t card_id = card.id;
    sc_card_cleanup(&card);
    assert_int_equal(db_int("SELECT count(*) FROM customers"), ROUNDS);
    assert_int_equal(db_int("SELECT count(*) FROM rewards"), ROUNDS); /* level 1 only */
    assert_int_equal(db_int("SELECT count(*) FROM events WHERE type = 7"), ROUNDS);
    /* Every scan of every racer counted, once, in raw events and rollups alike. */
    struct sc_stats st;
    int64_t today = (int64_t)time(NULL) / 86400;
    assert_int_equal(sc_store_card_stats(a, card_id, today - 1, today + 1, &st), SC_OK);
    assert_int_equal(st.n[SC_EV_SCAN], ROUNDS * RACERS);
    assert_int_equal(st.n[SC_EV_SIGNUP], ROUNDS);
    assert_int_equal(st.uniques, ROUNDS * RACERS);
    /*
     * The same from bitmaps (bytea) once those days are compacted, as seen
     * from a later day: rows and bitmaps give one count on PostgreSQL too.
     */
    int done = 0;
    assert_int_equal(sc_store_uniques_compact(b, today + 3, 100, &done), SC_OK);
    assert_true(done >= 2);
    assert_int_equal(db_int("SELECT count(*) FROM unique_bitmaps"), 2); /* the card, the company */
    assert_int_equal(sc_store_card_stats(a, card_id, today - 1, today + 1, &st), SC_OK);
    assert_int_equal(st.uniques, ROUNDS * RACERS);
    int64_t dev[SC_DEV_COUNT];
    struct sc_scope all = {0, NULL};
    assert_int_equal(sc_store_devices(a, &all, today - 1, today + 1, dev), SC_OK);
    assert_int_equal(dev[0] + dev[1] + dev[2] + dev[3], ROUNDS * RACERS);
    sc_store_close(a);
    sc_store_close(b);
}

/* The company's dashboard, cached and not, against brute force (fast_dashboard.h), on bytea. */
static void test_fast_dashboard_is_exact(void **state)
{
    (void)state;
    struct sc_store *s = NULL;
    char err[256];
    assert_int_equal(sc_store_open(db_url, &s, err, sizeof(err)), SC_OK);
    fc_run(s);
    sc_store_close(s);
}

/* store/store_int.h: both backends' migrations, which must stay in step. */
extern const int sc_sqlite_nmigrations, sc_pg_nmigrations;

int main(void)
{
    /* Checked even without a server: a SQLite migration needs its PostgreSQL twin. */
    if (sc_pg_nmigrations != sc_sqlite_nmigrations) {
        fprintf(stderr,
                "store/pg_schema.c has %d migrations, store/sqlite_schema.c %d: "
                "add the PostgreSQL twin of each\n",
                sc_pg_nmigrations, sc_sqlite_nmigrations);
        return 1;
    }
    admin_url = getenv("SHARECARD_TEST_PG");
    if (!admin_url || !admin_url[0]) {
        printf("skipped: set SHARECARD_TEST_PG to a PostgreSQL admin URL "
               "(scripts/test.sh starts a server and sets it)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations, db_setup, db_teardown),
        cmocka_unit_test_setup_teardown(test_migrations_race, db_setup, db_teardown),
        cmocka_unit_test_setup_teardown(test_one_sign_up_across_instances, db_setup, db_teardown),
        cmocka_unit_test_setup_teardown(test_fast_dashboard_is_exact, db_setup, db_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
