/*
 * test_store.c — the SQLite store: members and cards round-trip, conflicts
 * change nothing, tokens, secrets, migrations (upgrade in place, reopen,
 * newer refused), events with rollups, reads beside the writer from threads,
 * and readers closed when their threads exit.
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "sharecard/store.h"

#include "fast_dashboard.h"

/* The SQLite migrations (store/store_int.h), to build an old file by hand. */
extern const char *const sc_sqlite_migrations[];

static struct sc_store *open_mem(void)
{
    struct sc_store *s = NULL;
    char err[256];
    assert_int_equal(sc_store_open(":memory:", &s, err, sizeof(err)), SC_OK);
    return s;
}

/*
 * A fresh directory per test run (mkdtemp under $SC_TEST_TMPDIR or /tmp);
 * 'path' gets the file 'name' inside it.  tmp_done() removes both.
 */
static char tmp_dir[512];

static void tmp_path(char *path, size_t n, const char *name)
{
    if (!tmp_dir[0]) {
        const char *base = getenv("SC_TEST_TMPDIR");
        snprintf(tmp_dir, sizeof(tmp_dir), "%s/test_store.XXXXXX", base && base[0] ? base : "/tmp");
        assert_non_null(mkdtemp(tmp_dir));
    }
    int w = snprintf(path, n, "%.400s/%.64s.db", tmp_dir, name);
    assert_true(w > 0 && (size_t)w < n);
}

static void tmp_done(void)
{
    if (!tmp_dir[0])
        return;
    DIR *d = opendir(tmp_dir);
    struct dirent *e;
    char f[1024];
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(f, sizeof(f), "%s/%s", tmp_dir, e->d_name);
        unlink(f);
    }
    if (d)
        closedir(d);
    rmdir(tmp_dir);
    tmp_dir[0] = '\0';
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

static void test_names(void **state)
{
    static const char *const roles[] = {"sales", "manager", "admin"};
    for (int i = 0; i < 3; i++) {
        enum sc_role r = SC_ROLE_ADMIN;
        assert_string_equal(sc_role_name((enum sc_role)i), roles[i]);
        assert_true(sc_role_parse(roles[i], &r));
        assert_int_equal(r, i);
    }
    static const char *const chans[] = {"qr",       "wechat",   "sms",  "email",
                                        "whatsapp", "linkedin", "copy", "other"};
    for (int i = 0; i < 8; i++) {
        enum sc_channel c = SC_CH_OTHER;
        assert_string_equal(sc_channel_name((enum sc_channel)i), chans[i]);
        assert_true(sc_channel_parse(chans[i], &c));
        assert_int_equal(c, i);
    }
    enum sc_role r = SC_ROLE_MANAGER;
    enum sc_channel c = SC_CH_SMS;
    assert_false(sc_role_parse("root", &r));
    assert_false(sc_role_parse("Admin", &r));
    assert_false(sc_role_parse(NULL, &r));
    assert_int_equal(r, SC_ROLE_MANAGER); /* untouched on failure */
    assert_false(sc_channel_parse("telegram", &c));
    assert_false(sc_channel_parse("", &c));
    assert_int_equal(c, SC_CH_SMS);
}

/* Both URL spellings choose PostgreSQL (test_store_pg.c tests it on a real server). */
static void test_postgres_unreachable(void **state)
{
    const char *urls[] = {"postgres://u@127.0.0.1:1/sc", "postgresql://127.0.0.1:1/sc"};
    for (int i = 0; i < 2; i++) {
        static char sentinel;
        struct sc_store *s = (struct sc_store *)(void *)&sentinel; /* must come back NULL */
        char err[256] = "";
        assert_int_equal(sc_store_open(urls[i], &s, err, sizeof(err)), SC_EIO);
        assert_null(s);
        assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
    }
    sc_store_close(NULL); /* a no-op */
}

struct list_ctx {
    int n, stop_after;
    int64_t ids[8];
    char emails[8][SC_EMAIL_MAX + 1];
    char slugs[8][SC_SLUG_MAX + 1];
};

static int list_cb(const struct sc_member *m, void *arg)
{
    struct list_ctx *lc = arg;
    if (lc->n < 8) {
        lc->ids[lc->n] = m->id;
        snprintf(lc->emails[lc->n], sizeof(lc->emails[0]), "%s", m->email);
        snprintf(lc->slugs[lc->n], sizeof(lc->slugs[0]), "%s", m->slug);
    }
    lc->n++;
    return lc->stop_after && lc->n >= lc->stop_after;
}

static void test_member_list_and_lookup(void **state)
{
    struct sc_store *s = open_mem();
    struct list_ctx lc = {0};
    assert_int_equal(sc_store_member_list(s, list_cb, &lc), SC_OK);
    assert_int_equal(lc.n, 0);

    struct sc_member a = add(s, "a@example.com", NULL, SC_OK);
    struct sc_member b = add(s, "b@example.com", "bee-card", SC_OK);
    struct sc_member c = add(s, "c@example.com", NULL, SC_OK);
    assert_true(a.id < b.id && b.id < c.id);
    assert_string_equal(b.slug, "bee-card");
    assert_string_not_equal(a.slug, c.slug);
    assert_true(a.created_at > 0);

    assert_int_equal(sc_store_member_list(s, list_cb, &lc), SC_OK);
    assert_int_equal(lc.n, 3);
    assert_int_equal(lc.ids[0], a.id);
    assert_int_equal(lc.ids[1], b.id);
    assert_int_equal(lc.ids[2], c.id);
    assert_string_equal(lc.emails[1], "b@example.com");
    assert_string_equal(lc.slugs[0], a.slug);
    assert_string_equal(lc.slugs[1], "bee-card");

    memset(&lc, 0, sizeof(lc));
    lc.stop_after = 2;
    assert_int_equal(sc_store_member_list(s, list_cb, &lc), SC_OK);
    assert_int_equal(lc.n, 2); /* the callback's non-zero return stops the walk */

    struct sc_member got;
    assert_int_equal(sc_store_member_by_email(s, "c@example.com", &got), SC_OK);
    assert_int_equal(got.id, c.id);
    assert_string_equal(got.name, "Name of c@example.com");
    assert_string_equal(got.slug, c.slug);
    assert_false(got.disabled);
    assert_int_equal(sc_store_member_by_id(s, b.id, &got), SC_OK);
    assert_string_equal(got.email, "b@example.com");
    assert_string_equal(got.slug, "bee-card");
    assert_int_equal(sc_store_member_by_id(s, c.id + 100, &got), SC_ENOTFOUND);
    /* The generated slugs and the card they name agree. */
    struct sc_card card;
    assert_int_equal(sc_store_card_by_slug(s, a.slug, &card), SC_OK);
    assert_int_equal(card.member_id, a.id);
    assert_string_equal(card.name, "Name of a@example.com"); /* the member's name */
    sc_card_cleanup(&card);
    sc_store_close(s);
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
    p.phone_work = "+86 10 6552 9988";
    p.wechat = "zhangwei_88";
    p.website = "https://example.cn";
    p.address = "北京市朝阳区建国路 88 号";
    p.bio = "多行\n简介";
    p.lang = SC_LANG_ZH;
    strcpy(p.theme, "#aa0000");
    p.avatar = avatar;
    p.avatar_len = sizeof(avatar);
    strcpy(p.avatar_mime, "image/png");
    int64_t before = (int64_t)time(NULL);
    assert_int_equal(sc_store_member_add(s, &m, "$argon2id$x", &p, &out), SC_OK);
    assert_true(out.id > 0);
    assert_string_equal(out.email, "zhang@example.cn");
    assert_string_equal(out.name, "张伟");
    assert_int_equal(strlen(out.slug), SC_SLUG_GEN_LEN);

    struct sc_member got;
    assert_int_equal(sc_store_member_by_email(s, "zhang@example.cn", &got), SC_OK);
    assert_int_equal(got.id, out.id);
    assert_string_equal(got.team, "North");
    assert_int_equal(got.role, SC_ROLE_MANAGER);
    assert_string_equal(got.slug, out.slug);
    assert_int_equal(sc_store_member_by_id(s, out.id, &got), SC_OK);
    assert_int_equal(sc_store_member_by_email(s, "nobody@x.y", &got), SC_ENOTFOUND);

    char pw[128];
    assert_int_equal(sc_store_member_password(s, out.id, pw), SC_OK);
    assert_string_equal(pw, "$argon2id$x");

    struct sc_card c;
    assert_int_equal(sc_store_card_by_slug(s, out.slug, &c), SC_OK);
    assert_true(c.id > 0);
    assert_int_equal(c.member_id, out.id);
    assert_string_equal(c.slug, out.slug);
    assert_string_equal(c.name, "张伟");
    assert_string_equal(c.title, "销售总监");
    assert_string_equal(c.company, "示例科技");
    assert_string_equal(c.phone, "+86 138 0013 8000");
    assert_string_equal(c.phone_work, "+86 10 6552 9988");
    assert_string_equal(c.wechat, "zhangwei_88");
    assert_string_equal(c.website, "https://example.cn");
    assert_string_equal(c.address, "北京市朝阳区建国路 88 号");
    assert_string_equal(c.bio, "多行\n简介");
    assert_string_equal(c.email, "zhang@example.cn"); /* the member's, as the profile had none */
    assert_int_equal(c.lang, SC_LANG_ZH);
    assert_string_equal(c.theme, "#aa0000");
    assert_int_equal(c.avatar_len, sizeof(avatar));
    assert_non_null(c.avatar);
    assert_ptr_not_equal(c.avatar, avatar); /* a copy the card owns */
    assert_memory_equal(c.avatar, avatar, sizeof(avatar));
    assert_string_equal(c.avatar_mime, "image/png");
    assert_true(c.updated_at >= before && c.updated_at <= (int64_t)time(NULL));
    assert_false(c.disabled);
    assert_int_equal(strlen(c.qr_code), SC_CODE_LEN);

    struct sc_link l;
    assert_int_equal(sc_store_link_by_code(s, c.qr_code, &l), SC_OK);
    assert_int_equal(l.channel, SC_CH_QR);
    assert_int_equal(l.card_id, c.id);
    assert_int_equal(l.owner_member_id, out.id);
    assert_string_equal(l.card_slug, out.slug);
    assert_int_equal(sc_store_link_by_code(s, "zzzzzzzz", &l), SC_ENOTFOUND);

    /* An update replaces the profile, keeps slug and QR code, and moves updated_at. */
    char qr[SC_CODE_LEN + 1];
    snprintf(qr, sizeof(qr), "%s", c.qr_code);
    free(c.title);
    c.title = strdup("Director");
    free(c.address);
    c.address = NULL;
    free(c.avatar);
    c.avatar = NULL;
    c.avatar_len = 0;
    c.lang = SC_LANG_EN;
    strcpy(c.theme, "#123456");
    int64_t stamped = c.updated_at;
    sleep(1); /* updated_at has one-second resolution and feeds ETags */
    assert_int_equal(sc_store_card_update(s, &c), SC_OK);
    int64_t id = c.id;
    sc_card_cleanup(&c);
    assert_int_equal(sc_store_card_by_slug(s, out.slug, &c), SC_OK);
    assert_int_equal(c.id, id);
    assert_string_equal(c.title, "Director");
    assert_string_equal(c.name, "张伟");
    assert_null(c.address);
    assert_null(c.avatar);
    assert_int_equal(c.avatar_len, 0);
    assert_int_equal(c.lang, SC_LANG_EN);
    assert_string_equal(c.theme, "#123456");
    assert_string_equal(c.qr_code, qr);
    assert_true(c.updated_at > stamped);
    c.id = id + 1000;
    assert_int_equal(sc_store_card_update(s, &c), SC_ENOTFOUND);
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
    add(s, "c@example.com", "api", SC_EINVAL); /* reserved */
    struct sc_member nameless = {0}, out;
    strcpy(nameless.email, "d@example.com");
    assert_int_equal(sc_store_member_add(s, &nameless, NULL, NULL, &out), SC_EINVAL);
    int64_t n = 0;
    assert_int_equal(sc_store_member_count(s, &n), SC_OK);
    assert_int_equal(n, 1);
    struct sc_member got;
    assert_int_equal(sc_store_member_by_email(s, "b@example.com", &got), SC_ENOTFOUND);
    /* The failed adds left no card or link behind: b can still take its slug. */
    add(s, "b@example.com", "beta", SC_OK);
    assert_int_equal(sc_store_member_count(s, &n), SC_OK);
    assert_int_equal(n, 2);
    /* A slug differing only in case is not a new slug: custom slugs are lower-case. */
    add(s, "e@example.com", "Alpha", SC_EINVAL);
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
    assert_int_equal(strspn(a, "0123456789abcdef"), 64);
    sc_store_close(s);
}

static void test_migrations(void **state)
{
    char path[512], err[512];
    tmp_path(path, sizeof(path), "migrate");
    struct sc_store *s = NULL;
    assert_int_equal(sc_store_open(path, &s, err, sizeof(err)), SC_OK);
    assert_int_equal(sc_store_schema_version(s), sc_store_schema_latest());
    assert_true(sc_store_schema_latest() >= 1);
    assert_int_equal(sc_store_ping(s), SC_OK);
    add(s, "keep@example.com", "keep", SC_OK);
    char secret[65], again[65];
    assert_int_equal(sc_store_secret(s, "token", secret), SC_OK);
    sc_store_close(s);

    /* Opened again: the same rows, the same secret, the same version, nothing re-applied. */
    s = NULL;
    assert_int_equal(sc_store_open(path, &s, err, sizeof(err)), SC_OK);
    assert_int_equal(sc_store_schema_version(s), sc_store_schema_latest());
    struct sc_member kept;
    assert_int_equal(sc_store_member_by_email(s, "keep@example.com", &kept), SC_OK);
    assert_string_equal(kept.slug, "keep");
    assert_int_equal(sc_store_secret(s, "token", again), SC_OK);
    assert_string_equal(secret, again);
    add(s, "more@example.com", NULL, SC_OK);
    int64_t count = 0;
    assert_int_equal(sc_store_member_count(s, &count), SC_OK);
    assert_int_equal(count, 2);
    sc_store_close(s);
    sqlite3 *check;
    assert_int_equal(sqlite3_open(path, &check), SQLITE_OK);
    sqlite3_stmt *uv;
    assert_int_equal(sqlite3_prepare_v2(check, "PRAGMA user_version", -1, &uv, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(uv), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(uv, 0), sc_store_schema_latest());
    sqlite3_finalize(uv);
    sqlite3_close(check);

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

    /* A newer file is refused, untouched. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    s = NULL;
    assert_int_equal(sc_store_open(path, &s, err, sizeof(err)), SC_EVERSION);
    assert_null(s);
    assert_non_null(strstr(err, "newer sharecard"));
    assert_non_null(strstr(err, "schema 999"));
    char latest[64];
    snprintf(latest, sizeof(latest), "knows up to %d", sc_store_schema_latest());
    assert_non_null(strstr(err, latest));
    /* Refused untouched: still at 999 with its rows, for the newer build to open. */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT user_version FROM pragma_user_version), "
                                        "(SELECT count(*) FROM members)",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 999);
    assert_int_equal(sqlite3_column_int(q, 1), 2);
    sqlite3_finalize(q);
    sqlite3_close(db);
    tmp_done();
}

/*
 * Schema 8 → 9 moves visitors to compact keys: every visitor keeps its id
 * (a returning browser is still the same visitor), the next new one counts
 * on from the largest, an erased one stays unreachable, and only visitors
 * whose id text is read back (link owners, customers) keep a row.
 */
static void test_migration_to_visitor_keys(void **state)
{
    (void)state;
    char old[512], err[512];
    tmp_path(old, sizeof(old), "v8");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(old, &db), SQLITE_OK);
    for (int v = 0; v < 8; v++)
        assert_int_equal(sqlite3_exec(db, sc_sqlite_migrations[v], NULL, NULL, NULL), SQLITE_OK);
    const char *plain = "c:0190a1b2c3d4AAAAAAAAAAAAAAAAAAAA"; /* a minted id: time first */
    const char *owner = "c:owner-of-a-shared-link-00000000";
    const char *hashed = "h:00112233445566778899aabbccddeeff";
    char sql[2048];
    snprintf(
        sql, sizeof(sql),
        "INSERT INTO members (email, name, created_at) VALUES ('m@example.com', 'M', 1);"
        "INSERT INTO cards (member_id, slug, name, updated_at) VALUES (1, 'm', 'M', 1);"
        "INSERT INTO links (code, card_id, channel, owner_member_id, created_at) "
        "  VALUES ('qrcode01', 1, 0, 1, 1);"
        "INSERT INTO visitors (id, vid, first_seen, last_seen) VALUES "
        "  (2, '%s', 1, 1), (3, 'erased:3', 1, 1), (4, 'c:customer-000000000000000000000', 1, 1),"
        "  (5, '%s', 1, 1), (7, '%s', 1, 1);"
        "INSERT INTO links (code, card_id, channel, parent_link_id, created_at, "
        "  owner_visitor_id) VALUES ('shared01', 1, 2, 1, 2, 2);"
        "INSERT INTO customers (card_id, name, created_at, visitor_id) VALUES (1, 'C', 3, 4);"
        "INSERT INTO events (ts, type, card_id, link_id, visitor_id) VALUES (100, 0, 1, 1, 5);"
        "PRAGMA user_version = 8;",
        owner, plain, hashed);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    struct sc_store *s = NULL;
    assert_int_equal(sc_store_open(old, &s, err, sizeof(err)), SC_OK);
    assert_int_equal(sc_store_schema_version(s), sc_store_schema_latest());
    int64_t id = 0;
    assert_int_equal(sc_store_visitor_id(s, plain, &id), SC_OK);
    assert_int_equal(id, 5);
    assert_int_equal(sc_store_visitor_id(s, hashed, &id), SC_OK);
    assert_int_equal(id, 7);
    assert_int_equal(sc_store_visitor_id(s, owner, &id), SC_OK);
    assert_int_equal(id, 2);
    assert_int_equal(sc_store_visitor_id(s, "erased:3", &id), SC_ENOTFOUND);
    bool reached = false;
    assert_int_equal(sc_store_visitor_reached(s, plain, 1, 0, &reached), SC_OK);
    assert_true(reached);
    struct sc_link l;
    assert_int_equal(sc_store_link_by_code(s, "shared01", &l), SC_OK);
    assert_string_equal(l.owner_visitor, owner);

    /* The next new visitor counts on from 7; the same browser again is the same visitor. */
    struct sc_event ev = {.ts = 200, .type = SC_EV_SCAN, .card_id = 1, .link_id = 1};
    snprintf(ev.visitor, sizeof(ev.visitor), "c:0190a1b2c3d5BBBBBBBBBBBBBBBBBBBB");
    struct sc_ua_info agent = {"Chrome", "Android", "phone", false};
    struct sc_event_row rows[2] = {{&ev, NULL, &agent, SC_OK}, {&ev, NULL, &agent, SC_OK}};
    assert_int_equal(sc_store_events_write(s, rows, 2), SC_OK);
    assert_int_equal(sc_store_visitor_id(s, ev.visitor, &id), SC_OK);
    assert_int_equal(id, 8);
    snprintf(ev.visitor, sizeof(ev.visitor), "%s", plain);
    assert_int_equal(sc_store_events_write(s, rows, 1), SC_OK);
    sc_store_close(s);

    assert_int_equal(sqlite3_open(old, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT group_concat(id) FROM (SELECT id FROM "
                                        "visitors ORDER BY id)), (SELECT count(*) FROM "
                                        "visitor_keys), (SELECT group_concat(visitor_id) FROM "
                                        "(SELECT visitor_id FROM events ORDER BY id))",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "2,4");
    assert_int_equal(sqlite3_column_int(q, 1), 5); /* 2, 4, 5, 7 and the new 8 */
    assert_string_equal((const char *)sqlite3_column_text(q, 2), "5,8,8,5");
    sqlite3_finalize(q);
    sqlite3_close(db);
    tmp_done();
}

/*
 * The writer remembers which key is which visitor, but an erasure (here by
 * another process on the same file) deletes a key: the next write must see
 * it and give the browser a new id, never the erased one.
 */
static void test_visitor_cache_follows_erasures(void **state)
{
    (void)state;
    char path[512], err[512];
    tmp_path(path, sizeof(path), "cache");
    struct sc_store *s = NULL;
    assert_int_equal(sc_store_open(path, &s, err, sizeof(err)), SC_OK);
    add(s, "cache@example.com", "cache", SC_OK);
    struct sc_card c;
    assert_int_equal(sc_store_card_by_slug(s, "cache", &c), SC_OK);
    struct sc_event ev = {.ts = 1000, .type = SC_EV_SCAN, .card_id = c.id};
    snprintf(ev.visitor, sizeof(ev.visitor), "c:0190a1b2c3d4CCCCCCCCCCCCCCCCCCCC");
    struct sc_ua_info agent = {"Chrome", "Android", "phone", false};
    struct sc_event_row row = {&ev, NULL, &agent, SC_OK};
    assert_int_equal(sc_store_events_write(s, &row, 1), SC_OK);
    int64_t first = 0, id = 0;
    assert_int_equal(sc_store_visitor_id(s, ev.visitor, &first), SC_OK);
    assert_int_equal(sc_store_events_write(s, &row, 1), SC_OK); /* from the cache: the same */
    assert_int_equal(sc_store_visitor_id(s, ev.visitor, &id), SC_OK);
    assert_int_equal(id, first);

    sqlite3 *db; /* another process erases the visitor, as sc_store_customer_erase() does */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "DELETE FROM visitor_keys WHERE id = %lld;"
             "INSERT INTO counters (name, value) VALUES ('erasures', 1) "
             "ON CONFLICT (name) DO UPDATE SET value = value + 1;",
             (long long)first);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(sc_store_events_write(s, &row, 1), SC_OK);
    assert_int_equal(sc_store_visitor_id(s, ev.visitor, &id), SC_OK);
    assert_true(id != first);
    struct sc_stats st;
    assert_int_equal(sc_store_card_stats(s, c.id, 0, 1, &st), SC_OK);
    assert_int_equal(st.n[SC_EV_SCAN], 3);
    assert_int_equal(st.uniques, 2); /* the erased visitor and the new one */
    sc_card_cleanup(&c);
    sc_store_close(s);
    tmp_done();
}

/*
 * A visitor id the request minted (ev.minted) skips the writer's key cache
 * and the unique-row cache (issue 15: not worth their cache misses).  Minted
 * or not, an id is one visitor: a "minted" id the store already has (a
 * request repeated, say) keeps its id and its one unique row, in the same
 * batch and in later ones, and a minted visitor's next event is its own.
 */
static void test_minted_visitor(void **state)
{
    (void)state;
    char path[512], err[512];
    tmp_path(path, sizeof(path), "minted");
    struct sc_store *s = NULL;
    assert_int_equal(sc_store_open(path, &s, err, sizeof(err)), SC_OK);
    add(s, "minted@example.com", "minted", SC_OK);
    struct sc_card c;
    assert_int_equal(sc_store_card_by_slug(s, "minted", &c), SC_OK);
    struct sc_ua_info agent = {"Chrome", "Android", "phone", false};
    struct sc_event ev[3] = {
        {.ts = 1000, .type = SC_EV_SCAN, .card_id = c.id, .minted = true},
        {.ts = 1001, .type = SC_EV_VIEW, .card_id = c.id, .minted = true}, /* "minted" again */
        {.ts = 1002, .type = SC_EV_SCAN, .card_id = c.id, .minted = true},
    };
    snprintf(ev[0].visitor, sizeof(ev[0].visitor), "c:0190a1b2c3d4MMMMMMMMMMMMMMMMMMMM");
    snprintf(ev[1].visitor, sizeof(ev[1].visitor), "c:0190a1b2c3d4MMMMMMMMMMMMMMMMMMMM");
    snprintf(ev[2].visitor, sizeof(ev[2].visitor), "c:0190a1b2c3d5NNNNNNNNNNNNNNNNNNNN");
    struct sc_event_row rows[3] = {{&ev[0], NULL, &agent, SC_OK},
                                   {&ev[1], NULL, &agent, SC_OK},
                                   {&ev[2], NULL, &agent, SC_OK}};
    assert_int_equal(sc_store_events_write(s, rows, 3), SC_OK);
    int64_t a = 0, b = 0, again = 0;
    assert_int_equal(sc_store_visitor_id(s, ev[0].visitor, &a), SC_OK);
    assert_int_equal(sc_store_visitor_id(s, ev[2].visitor, &b), SC_OK);
    assert_true(a != 0 && b != 0 && a != b);
    /* Later batches: the first visitor "minted" once more, and not minted. */
    assert_int_equal(sc_store_events_write(s, &rows[0], 1), SC_OK);
    ev[1].minted = false;
    assert_int_equal(sc_store_events_write(s, &rows[1], 1), SC_OK);
    assert_int_equal(sc_store_visitor_id(s, ev[0].visitor, &again), SC_OK);
    assert_int_equal(again, a);
    struct sc_stats st;
    assert_int_equal(sc_store_card_stats(s, c.id, 0, 1, &st), SC_OK);
    assert_int_equal(st.n[SC_EV_SCAN], 3);
    assert_int_equal(st.n[SC_EV_VIEW], 2);
    assert_int_equal(st.uniques, 2);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM rollup_uniques", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 2); /* one row per visitor and day */
    sqlite3_finalize(q);
    sqlite3_close(db);
    sc_card_cleanup(&c);
    sc_store_close(s);
    tmp_done();
}

static int leader_uniques(const struct sc_leader_row *r, void *ctx)
{
    int64_t *by_card = ctx; /* [0]: the first card's, [1]: the second's */
    by_card[strcmp(r->slug, "uq-one") == 0 ? 0 : 1] = r->uniques;
    return 0;
}

/*
 * Unique visitors over a range and by device, exact, from the unique
 * visitor-day rows and from the bitmaps days are compacted into (ids past
 * 32 bits kept beside the bitmap):
 * a visitor counted once however many days and cards, once per device
 * class they came with, and the report empty where nothing happened.
 */
static void test_unique_counts(void **state)
{
    (void)state;
    char path[512], err[512];
    tmp_path(path, sizeof(path), "uniques");
    struct sc_store *s = NULL;
    assert_int_equal(sc_store_open(path, &s, err, sizeof(err)), SC_OK);
    add(s, "uq1@example.com", "uq-one", SC_OK);
    add(s, "uq2@example.com", "uq-two", SC_OK);
    sc_store_close(s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    const char *rows =
        "INSERT INTO rollup_uniques (card_id, day, visitor_id, device) VALUES "
        "(1, 100, 1, 1), (1, 100, 2, 1), (1, 101, 1, 2),"   /* 1 on a phone, then a tablet */
        "(1, 101, 5000000000, 3), (1, 102, 5000000000, 3)," /* past the bitmap, two days */
        "(2, 100, 3, 0), (2, 102, 1, 1), (2, 100, -7, 1),"  /* 1 again on the other card */
        "(1, 200, 9, 1);"                                   /* outside the range */
        "INSERT INTO rollups (day, card_id, link_id, type, humans) VALUES (100, 1, 0, 2, 1), "
        "(100, 2, 0, 2, 1);";
    assert_int_equal(sqlite3_exec(db, rows, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(sc_store_open(path, &s, err, sizeof(err)), SC_OK);
    /*
     * The same counts from the unique rows alone, then with days 100 and 101
     * compacted into bitmaps (a range across both kinds of day), then with
     * every day compacted: bitmaps never change a count.
     */
    for (int stage = 0; stage < 3; stage++) {
        int done = -1;
        if (stage == 1) {
            assert_int_equal(sc_store_uniques_compact(s, 102, 1000, &done), SC_OK);
            assert_int_equal(done, 2); /* 100 and 101: a day is compacted once it is over */
        } else if (stage == 2) {
            assert_int_equal(sc_store_uniques_compact(s, 1000, 1000, &done), SC_OK);
            assert_int_equal(done, 1000 - 1 - 102 + 1);
            assert_int_equal(sc_store_uniques_compact(s, 1000, 1000, &done), SC_OK);
            assert_int_equal(done, 0); /* nothing left to do */
        }
        struct sc_scope all = {0, NULL};
        struct sc_stats st;
        assert_int_equal(sc_store_scope_stats(s, &all, 100, 102, &st), SC_OK);
        assert_int_equal(st.uniques, 5); /* 1, 2, 3, -7 and 5000000000 */
        assert_int_equal(sc_store_card_stats(s, 1, 100, 102, &st), SC_OK);
        assert_int_equal(st.uniques, 3); /* 1, 2 and 5000000000 */
        assert_int_equal(sc_store_card_stats(s, 1, 101, 101, &st), SC_OK);
        assert_int_equal(st.uniques, 2);
        int64_t dev[SC_DEV_COUNT] = {0};
        assert_int_equal(sc_store_devices(s, &all, 100, 102, dev), SC_OK);
        assert_int_equal(dev[SC_DEV_PHONE], 3); /* 1, 2, -7 */
        assert_int_equal(dev[SC_DEV_TABLET], 1);
        assert_int_equal(dev[SC_DEV_DESKTOP], 1);
        assert_int_equal(dev[SC_DEV_OTHER], 1);
        int64_t by_card[2] = {-1, -1};
        assert_int_equal(sc_store_leaderboard(s, &all, 100, 102, leader_uniques, by_card), SC_OK);
        assert_int_equal(by_card[0], 3);
        assert_int_equal(by_card[1], 3);
        int64_t none[SC_DEV_COUNT] = {0};
        assert_int_equal(sc_store_scope_stats(s, &all, 300, 330, &st), SC_OK);
        assert_int_equal(st.uniques, 0);
        assert_int_equal(sc_store_devices(s, &all, 300, 330, none), SC_OK);
        for (int d = 0; d < SC_DEV_COUNT; d++)
            assert_int_equal(none[d], 0);
        assert_int_equal(sc_store_scope_stats(s, &all, 100, 200, &st), SC_OK);
        assert_int_equal(st.uniques, 6); /* and 9, on day 200 */
    }
    sc_store_close(s);
    /*
     * The bitmaps are there: one per card, day and device class that had
     * visitors (8, holding 9), and the company's own per day and class (7,
     * holding 9 as well).
     */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*), sum(n) FROM unique_bitmaps", -1, &q, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 15);
    assert_int_equal(sqlite3_column_int(q, 1), 18);
    sqlite3_finalize(q);
    sqlite3_close(db);
    tmp_done();
}

/*
 * Processes opening one new file at the same moment (say `sharecard serve`
 * and a `sharecard member add` from a start-up script) all succeed, and every
 * migration runs exactly once.
 */
static void test_migrations_race(void **state)
{
    char path[512];
    tmp_path(path, sizeof(path), "race");
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    pid_t kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            close(gate[1]);
            char b;
            (void)!read(gate[0], &b, 1); /* wait until every child is ready */
            struct sc_store *s = NULL;
            char err[256];
            enum sc_err e = sc_store_open(path, &s, err, sizeof(err));
            if (e != SC_OK)
                fprintf(stderr, "child %d: %s\n", i, err);
            else if (sc_store_schema_version(s) != sc_store_schema_latest())
                e = SC_EDB;
            sc_store_close(s);
            _exit(e == SC_OK ? 0 : 1);
        }
    }
    close(gate[0]);
    close(gate[1]); /* EOF releases them all at once */
    for (int i = 0; i < 4; i++) {
        int status = 0;
        assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    struct sc_store *s = NULL;
    char err[256];
    assert_int_equal(sc_store_open(path, &s, err, sizeof(err)), SC_OK);
    assert_int_equal(sc_store_schema_version(s), sc_store_schema_latest());
    add(s, "after@example.com", NULL, SC_OK);
    sc_store_close(s);
    tmp_done();
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

/*
 * A visit stamped on a day already compacted into bitmaps (demo data, a
 * clock set back) is counted all the same: the writer sends that day back
 * to rows, and the next compaction folds it in.
 */
static void test_late_visit_after_compaction(void **state)
{
    (void)state;
    struct sc_store *s = open_mem();
    add(s, "late@example.com", "late", SC_OK);
    struct sc_card c;
    assert_int_equal(sc_store_card_by_slug(s, "late", &c), SC_OK);
    const int64_t day = 20000, t0 = day * 86400;
    struct sc_ua_info agent = {"Chrome", "Android", "phone", false};
    struct sc_event a = ev_of(SC_EV_SCAN, c.id, 0, "c:a", t0 + 10);
    struct sc_event b = ev_of(SC_EV_SCAN, c.id, 0, "c:b", t0 + 20);
    struct sc_event_row ra = {&a, NULL, &agent, SC_OK}, rb = {&b, NULL, &agent, SC_OK};
    assert_int_equal(sc_store_events_write(s, &ra, 1), SC_OK);
    int done = 0;
    assert_int_equal(sc_store_uniques_compact(s, day + 5, 10, &done), SC_OK);
    assert_int_equal(done, 5); /* days 20000 to 20004 */
    struct sc_stats st;
    assert_int_equal(sc_store_card_stats(s, c.id, day, day, &st), SC_OK);
    assert_int_equal(st.uniques, 1);
    assert_int_equal(sc_store_events_write(s, &rb, 1), SC_OK); /* late, on a compacted day */
    assert_int_equal(sc_store_card_stats(s, c.id, day, day, &st), SC_OK);
    assert_int_equal(st.uniques, 2);
    struct sc_scope all = {0, NULL};
    assert_int_equal(sc_store_scope_stats(s, &all, day - 1, day + 3, &st), SC_OK);
    assert_int_equal(st.uniques, 2);
    assert_int_equal(sc_store_uniques_compact(s, day + 5, 10, &done), SC_OK);
    assert_int_equal(done, 5); /* from the late day on, again */
    assert_int_equal(sc_store_card_stats(s, c.id, day, day, &st), SC_OK);
    assert_int_equal(st.uniques, 2);
    assert_int_equal(sc_store_scope_stats(s, &all, day - 1, day + 3, &st), SC_OK);
    assert_int_equal(st.uniques, 2);
    sc_card_cleanup(&c);
    sc_store_close(s);
}

/* The company's dashboard, cached and not, against brute force (fast_dashboard.h). */
static void test_fast_dashboard_is_exact(void **state)
{
    (void)state;
    struct sc_store *s = open_mem();
    fc_run(s);
    sc_store_close(s);
}

struct reader_ctx {
    struct sc_store *s;
    atomic_bool *done;
    int reads, errors;
    int64_t last_count; /* members seen by the last count: never goes down */
};

/* Reads until the writer is done (and at least 50 times), so reads overlap writes. */
static void *reader(void *arg)
{
    struct reader_ctx *rc = arg;
    rc->last_count = 0;
    while (!atomic_load(rc->done) || rc->reads < 50) {
        struct sc_card c;
        if (sc_store_card_by_slug(rc->s, "shared", &c) != SC_OK || !c.name ||
            strcmp(c.name, "Name of shared@example.com") != 0 || strlen(c.qr_code) != SC_CODE_LEN)
            rc->errors++;
        sc_card_cleanup(&c);
        int64_t n = 0;
        if (sc_store_member_count(rc->s, &n) != SC_OK || n < rc->last_count)
            rc->errors++;
        rc->last_count = n;
        rc->reads++;
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
    atomic_bool done = false;
    pthread_t t[4];
    struct reader_ctx rc[4];
    for (int i = 0; i < 4; i++) {
        rc[i] = (struct reader_ctx){s, &done, 0, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, reader, &rc[i]), 0);
    }
    for (int i = 0; i < 50; i++) {
        char email[64];
        snprintf(email, sizeof(email), "w%d@example.com", i);
        add(s, email, NULL, SC_OK);
    }
    atomic_store(&done, true);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(rc[i].errors, 0);
        assert_true(rc[i].reads >= 50);
    }
    int64_t n;
    assert_int_equal(sc_store_member_count(s, &n), SC_OK);
    assert_int_equal(n, 51);
    sc_store_close(s);
    tmp_done();
}

/* Open file descriptors of this process, or -1 without /proc. */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void *one_read(void *arg)
{
    struct sc_card c;
    enum sc_err e = sc_store_card_by_slug(arg, "brief", &c);
    sc_card_cleanup(&c);
    return e == SC_OK ? arg : NULL;
}

/*
 * A thread's reader is closed when the thread exits: a server whose threads
 * come and go must not keep a connection (and its file descriptors) for
 * every thread that ever read.
 */
static void test_reader_closed_at_thread_exit(void **state)
{
    char path[512], err[256];
    tmp_path(path, sizeof(path), "churn");
    struct sc_store *s = NULL;
    assert_int_equal(sc_store_open(path, &s, err, sizeof(err)), SC_OK);
    add(s, "brief@example.com", "brief", SC_OK);
    /* One read first, so the process-wide WAL index mapping already exists. */
    pthread_t t;
    void *res = NULL;
    assert_int_equal(pthread_create(&t, NULL, one_read, s), 0);
    pthread_join(t, &res);
    assert_ptr_equal(res, s);
    int before = open_fds();
    if (before < 0) {
        sc_store_close(s);
        tmp_done();
        skip();
    }
    for (int i = 0; i < 40; i++) {
        res = NULL;
        assert_int_equal(pthread_create(&t, NULL, one_read, s), 0);
        pthread_join(t, &res);
        assert_ptr_equal(res, s);
    }
    assert_int_equal(open_fds(), before);
    sc_store_close(s);
    tmp_done();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_postgres_unreachable),
        cmocka_unit_test(test_member_list_and_lookup),
        cmocka_unit_test(test_member_and_card_round_trip),
        cmocka_unit_test(test_conflicts_change_nothing),
        cmocka_unit_test(test_tokens_and_secrets),
        cmocka_unit_test(test_migrations),
        cmocka_unit_test(test_migrations_race),
        cmocka_unit_test(test_migration_to_visitor_keys),
        cmocka_unit_test(test_visitor_cache_follows_erasures),
        cmocka_unit_test(test_minted_visitor),
        cmocka_unit_test(test_unique_counts),
        cmocka_unit_test(test_events_and_rollups),
        cmocka_unit_test(test_late_visit_after_compaction),
        cmocka_unit_test(test_fast_dashboard_is_exact),
        cmocka_unit_test(test_readers_beside_the_writer),
        cmocka_unit_test(test_reader_closed_at_thread_exit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
