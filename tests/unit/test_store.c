/*
 * test_store.c — the SQLite store: members and cards round-trip, conflicts
 * change nothing, tokens, secrets, migrations (upgrade in place, newer
 * refused), events with rollups, and reads beside the writer from threads.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "sharecard/store.h"

/* The SQLite migrations (store/store_int.h), to build an old file by hand. */
extern const char *const sc_sqlite_migrations[];

static struct sc_store *open_mem(void)
{
    struct sc_store *s = NULL;
    char err[256];
    assert_int_equal(sc_store_open(":memory:", &s, err, sizeof(err)), SC_OK);
    return s;
}

static struct sc_member add(struct sc_store *s, const char *email, const char *slug,
                            enum sc_err want)
{
    struct sc_member m = {0}, out = {0};
    snprintf(m.email, sizeof(m.email), "%s", email);
    snprintf(m.name, sizeof(m.name), "Name of %s", email);
    struct sc_card p = {0};
    if (slug)
        snprintf(p.slug, sizeof(p.slug), "%s", slug);
    assert_int_equal(sc_store_member_add(s, &m, NULL, &p, &out), want);
    return out;
}

static void test_member_and_card_round_trip(void **state)
{
    struct sc_store *s = open_mem();
    struct sc_member m = {0}, out;
    strcpy(m.email, "zhang@example.cn");
    strcpy(m.name, "张伟");
    strcpy(m.team, "North");
    m.role = SC_ROLE_MANAGER;
    unsigned char avatar[] = {0x89, 'P', 'N', 'G', 1, 2, 0, 3};
    struct sc_card p = {0};
    p.name = "张伟";
    p.title = "销售总监";
    p.company = "示例科技";
    p.phone = "+86 138 0013 8000";
    p.website = "https://example.cn";
    p.bio = "多行\n简介";
    p.lang = SC_LANG_ZH;
    strcpy(p.theme, "#aa0000");
    p.avatar = avatar;
    p.avatar_len = sizeof(avatar);
    strcpy(p.avatar_mime, "image/png");
    assert_int_equal(sc_store_member_add(s, &m, "$argon2id$x", &p, &out), SC_OK);
    assert_true(out.id > 0);
    assert_int_equal(strlen(out.slug), SC_SLUG_GEN_LEN);

    struct sc_member got;
    assert_int_equal(sc_store_member_by_email(s, "zhang@example.cn", &got), SC_OK);
    assert_int_equal(got.id, out.id);
    assert_string_equal(got.team, "North");
    assert_int_equal(got.role, SC_ROLE_MANAGER);
    assert_string_equal(got.slug, out.slug);
    assert_int_equal(sc_store_member_by_id(s, out.id, &got), SC_OK);
    assert_int_equal(sc_store_member_by_email(s, "nobody@x.y", &got), SC_ENOTFOUND);

    struct sc_card c;
    assert_int_equal(sc_store_card_by_slug(s, out.slug, &c), SC_OK);
    assert_string_equal(c.name, "张伟");
    assert_string_equal(c.title, "销售总监");
    assert_string_equal(c.bio, "多行\n简介");
    assert_string_equal(c.email, "zhang@example.cn"); /* the member's, as the profile had none */
    assert_null(c.address);
    assert_int_equal(c.lang, SC_LANG_ZH);
    assert_string_equal(c.theme, "#aa0000");
    assert_int_equal(c.avatar_len, sizeof(avatar));
    assert_memory_equal(c.avatar, avatar, sizeof(avatar));
    assert_int_equal(strlen(c.qr_code), SC_CODE_LEN);

    struct sc_link l;
    assert_int_equal(sc_store_link_by_code(s, c.qr_code, &l), SC_OK);
    assert_int_equal(l.channel, SC_CH_QR);
    assert_int_equal(l.card_id, c.id);
    assert_int_equal(l.owner_member_id, out.id);
    assert_string_equal(l.card_slug, out.slug);
    assert_int_equal(sc_store_link_by_code(s, "zzzzzzzz", &l), SC_ENOTFOUND);

    free(c.title);
    c.title = strdup("Director");
    assert_int_equal(sc_store_card_update(s, &c), SC_OK);
    sc_card_cleanup(&c);
    assert_int_equal(sc_store_card_by_slug(s, out.slug, &c), SC_OK);
    assert_string_equal(c.title, "Director");
    sc_card_cleanup(&c);
    assert_int_equal(sc_store_card_by_slug(s, "nope", &c), SC_ENOTFOUND);
    sc_store_close(s);
}

static void test_conflicts_change_nothing(void **state)
{
    struct sc_store *s = open_mem();
    add(s, "a@example.com", "alpha", SC_OK);
    add(s, "a@example.com", NULL, SC_ECONFLICT);
    add(s, "b@example.com", "alpha", SC_ECONFLICT);
    add(s, "c@example.com", "Bad Slug", SC_EINVAL);
    int64_t n = 0;
    assert_int_equal(sc_store_member_count(s, &n), SC_OK);
    assert_int_equal(n, 1);
    /* The failed adds left no card or link behind: b can still take its slug. */
    add(s, "b@example.com", "beta", SC_OK);
    assert_int_equal(sc_store_member_count(s, &n), SC_OK);
    assert_int_equal(n, 2);
    sc_store_close(s);
}

static void test_tokens_and_secrets(void **state)
{
    struct sc_store *s = open_mem();
    struct sc_member m = add(s, "t@example.com", NULL, SC_OK), got;
    assert_int_equal(sc_store_token_add(s, m.id, "hash1", "cli"), SC_OK);
    assert_int_equal(sc_store_token_member(s, "hash1", &got), SC_OK);
    assert_int_equal(got.id, m.id);
    assert_int_equal(sc_store_token_member(s, "hash2", &got), SC_ENOTFOUND);
    assert_int_equal(sc_store_token_add(s, m.id, "hash1", "again"), SC_ECONFLICT);
    char a[65], b[65], c[65];
    assert_int_equal(sc_store_secret(s, "token", a), SC_OK);
    assert_int_equal(sc_store_secret(s, "token", b), SC_OK);
    assert_int_equal(sc_store_secret(s, "other", c), SC_OK);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 64);
    sc_store_close(s);
}

static void tmp_path(char *out, size_t n, const char *name)
{
    const char *dir = getenv("SC_TEST_TMPDIR");
    snprintf(out, n, "%s/%s-%d.db", dir ? dir : "/tmp", name, (int)getpid());
    char side[600];
    unlink(out);
    snprintf(side, sizeof(side), "%s-wal", out);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", out);
    unlink(side);
}

static void test_migrations(void **state)
{
    char path[512], err[512];
    tmp_path(path, sizeof(path), "migrate");
    struct sc_store *s = NULL;
    assert_int_equal(sc_store_open(path, &s, err, sizeof(err)), SC_OK);
    assert_int_equal(sc_store_schema_version(s), sc_store_schema_latest());
    add(s, "keep@example.com", "keep", SC_OK);
    sc_store_close(s);

    /* An old file, written by schema version 1 only, upgrades in place and keeps its rows. */
    char old[512];
    tmp_path(old, sizeof(old), "old");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(old, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sc_sqlite_migrations[0], NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO members (email, name, created_at) "
                                  "VALUES ('keep@example.com', 'Keep', 1);"
                                  "INSERT INTO cards (member_id, slug, name, updated_at) "
                                  "VALUES (1, 'keep', 'Keep', 1);"
                                  "INSERT INTO links (code, card_id, channel, owner_member_id, "
                                  "created_at) VALUES ('keepcode', 1, 0, 1, 1);"
                                  "PRAGMA user_version = 1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(sc_store_open(old, &s, err, sizeof(err)), SC_OK);
    assert_int_equal(sc_store_schema_version(s), sc_store_schema_latest());
    struct sc_member m;
    assert_int_equal(sc_store_member_by_email(s, "keep@example.com", &m), SC_OK);
    struct sc_card kc;
    assert_int_equal(sc_store_card_by_slug(s, "keep", &kc), SC_OK);
    assert_string_equal(kc.qr_code, "keepcode");
    sc_card_cleanup(&kc);
    struct sc_stats st;
    assert_int_equal(sc_store_card_stats(s, 1, 0, 100000, &st), SC_OK);
    sc_store_close(s);
    unlink(old);

    /* A newer file is refused, untouched. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    s = NULL;
    assert_int_equal(sc_store_open(path, &s, err, sizeof(err)), SC_EVERSION);
    assert_null(s);
    assert_non_null(strstr(err, "newer sharecard"));
    assert_non_null(strstr(err, "schema 999"));
    unlink(path);
}

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

static void test_events_and_rollups(void **state)
{
    struct sc_store *s = open_mem();
    add(s, "r@example.com", "roll", SC_OK);
    struct sc_card c;
    assert_int_equal(sc_store_card_by_slug(s, "roll", &c), SC_OK);
    struct sc_link l;
    assert_int_equal(sc_store_link_by_code(s, c.qr_code, &l), SC_OK);
    const int64_t day = 20000, t0 = day * 86400;
    struct sc_event evs[] = {
        ev_of(SC_EV_SCAN, c.id, l.id, "c:a", t0 + 10),
        ev_of(SC_EV_VIEW, c.id, l.id, "c:a", t0 + 11),
        ev_of(SC_EV_SCAN, c.id, l.id, "c:a", t0 + 3600),  /* same visitor again */
        ev_of(SC_EV_SCAN, c.id, l.id, "c:b", t0 + 86399), /* last second of the day */
        ev_of(SC_EV_SCAN, c.id, l.id, "c:c", t0 + 86400), /* first of the next */
        ev_of(SC_EV_SCAN, c.id, l.id, "c:bot", t0 + 20),  /* classified a bot below */
        ev_of(SC_EV_CLICK, c.id, 0, "c:a", t0 + 30),
    };
    size_t n = sizeof(evs) / sizeof(evs[0]);
    struct sc_ua_info agent = {"Chrome", "Android", "phone", false};
    struct sc_event_row rows[sizeof(evs) / sizeof(evs[0])];
    for (size_t i = 0; i < n; i++)
        rows[i] = (struct sc_event_row){&evs[i], i == 5 ? "preview" : NULL, &agent, SC_OK};
    assert_int_equal(sc_store_events_write(s, rows, n), SC_OK);

    struct sc_stats st;
    assert_int_equal(sc_store_card_stats(s, c.id, day, day, &st), SC_OK);
    assert_int_equal(st.n[SC_EV_SCAN], 3);
    assert_int_equal(st.n[SC_EV_VIEW], 1);
    assert_int_equal(st.n[SC_EV_CLICK], 1);
    assert_int_equal(st.uniques, 2); /* a and b; the bot is not a visitor */
    assert_int_equal(st.bots, 1);
    assert_int_equal(sc_store_card_stats(s, c.id, day, day + 1, &st), SC_OK);
    assert_int_equal(st.n[SC_EV_SCAN], 4);
    assert_int_equal(st.uniques, 3);
    assert_int_equal(sc_store_card_stats(s, c.id, day + 1, day + 1, &st), SC_OK);
    assert_int_equal(st.n[SC_EV_SCAN], 1);
    assert_int_equal(st.uniques, 1);
    assert_int_equal(sc_store_card_stats(s, c.id, day + 2, day + 9, &st), SC_OK);
    assert_int_equal(st.n[SC_EV_SCAN] + st.uniques + st.bots, 0);

    bool reached = false;
    assert_int_equal(sc_store_visitor_reached(s, "c:a", c.id, 0, &reached), SC_OK);
    assert_true(reached);
    assert_int_equal(sc_store_visitor_reached(s, "c:a", c.id, l.id, &reached), SC_OK);
    assert_true(reached);
    assert_int_equal(sc_store_visitor_reached(s, "c:zzz", c.id, 0, &reached), SC_OK);
    assert_false(reached);
    assert_int_equal(sc_store_visitor_reached(s, "c:a", c.id + 1, 0, &reached), SC_OK);
    assert_false(reached);

    /* A batch with one bad event stores none of it. */
    struct sc_event share = ev_of(SC_EV_SHARE, c.id, 0, "c:a", t0 + 40);
    snprintf(share.new_code, sizeof(share.new_code), "%s", c.qr_code); /* taken: conflict */
    share.new_channel = SC_CH_WECHAT;
    struct sc_event ok = ev_of(SC_EV_VIEW, c.id, 0, "c:d", t0 + 50);
    struct sc_event_row two[2] = {{&ok, NULL, &agent, SC_OK}, {&share, NULL, &agent, SC_OK}};
    assert_int_not_equal(sc_store_events_write(s, two, 2), SC_OK);
    assert_int_equal(sc_store_card_stats(s, c.id, day, day, &st), SC_OK);
    assert_int_equal(st.n[SC_EV_VIEW], 1);
    int64_t vid;
    assert_int_equal(sc_store_visitor_id(s, "c:d", &vid), SC_ENOTFOUND);

    /* A share mints its link, owned by the visitor, below its parent. */
    snprintf(share.new_code, sizeof(share.new_code), "sharecd2");
    share.new_parent = l.id;
    struct sc_event_row one = {&share, NULL, &agent, SC_OK};
    assert_int_equal(sc_store_events_write(s, &one, 1), SC_OK);
    struct sc_link minted;
    assert_int_equal(sc_store_link_by_code(s, "sharecd2", &minted), SC_OK);
    assert_int_equal(minted.parent_link_id, l.id);
    assert_int_equal(minted.channel, SC_CH_WECHAT);
    assert_string_equal(minted.owner_visitor, "c:a");
    assert_int_equal(minted.owner_member_id, 0);
    sc_card_cleanup(&c);
    sc_store_close(s);
}

struct reader_ctx {
    struct sc_store *s;
    int errors;
};

static void *reader(void *arg)
{
    struct reader_ctx *rc = arg;
    for (int i = 0; i < 300; i++) {
        struct sc_card c;
        if (sc_store_card_by_slug(rc->s, "shared", &c) != SC_OK)
            rc->errors++;
        sc_card_cleanup(&c);
    }
    return NULL;
}

static void test_readers_beside_the_writer(void **state)
{
    char path[512], err[256];
    tmp_path(path, sizeof(path), "threads");
    struct sc_store *s = NULL;
    assert_int_equal(sc_store_open(path, &s, err, sizeof(err)), SC_OK);
    add(s, "shared@example.com", "shared", SC_OK);
    pthread_t t[4];
    struct reader_ctx rc[4];
    for (int i = 0; i < 4; i++) {
        rc[i] = (struct reader_ctx){s, 0};
        pthread_create(&t[i], NULL, reader, &rc[i]);
    }
    for (int i = 0; i < 50; i++) {
        char email[64];
        snprintf(email, sizeof(email), "w%d@example.com", i);
        add(s, email, NULL, SC_OK);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(rc[i].errors, 0);
    }
    int64_t n;
    assert_int_equal(sc_store_member_count(s, &n), SC_OK);
    assert_int_equal(n, 51);
    sc_store_close(s);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_and_card_round_trip),
        cmocka_unit_test(test_conflicts_change_nothing),
        cmocka_unit_test(test_tokens_and_secrets),
        cmocka_unit_test(test_migrations),
        cmocka_unit_test(test_events_and_rollups),
        cmocka_unit_test(test_readers_beside_the_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
