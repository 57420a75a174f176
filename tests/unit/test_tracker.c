/*
 * test_tracker.c — who is a person and who is not, anonymised addresses,
 * visitor ids, referrer hosts, and the ingest path from queue to rollups.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sharecard/ingest.h"
#include "sharecard/store.h"
#include "sharecard/tracker.h"

static void test_bot_classifier(void **state)
{
    static const struct {
        const char *ua;
        const char *reason; /* NULL: a person */
    } t[] = {
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
         NULL},
        {"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/124.0.0.0 Mobile Safari/537.36",
         NULL},
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI",
         NULL},
        /* Snapchat's in-app browser is a person; its link fetcher says so itself. */
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 11_2_6 like Mac OS X) AppleWebKit/604.5.6 (KHTML, "
         "like Gecko) Snapchat/10.38.0.25 (iPhone8,1; iOS 11.2.6; gzip)",
         NULL},
        {"Mozilla/5.0 (compatible; Snap URL Preview Service; bot; snapchat; "
         "https://developers.snap.com/robots)",
         "preview"},
        {"WhatsApp/2.23.20.0 A", "preview"},
        {"TelegramBot (like TwitterBot)", "preview"},
        {"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "preview"},
        {"Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "preview"},
        {"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "preview"},
        {"Twitterbot/1.0", "preview"},
        {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "crawler"},
        {"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "crawler"},
        {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "HeadlessChrome/120.0.0.0 Safari/537.36",
         "headless"},
        {"curl/8.4.0", "tool"},
        {"python-requests/2.31", "tool"},
        {"", "empty"},
        {NULL, "empty"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const char *r = sc_bot_reason(t[i].ua, false);
        if (t[i].reason) {
            assert_non_null(r);
            assert_string_equal(r, t[i].reason);
            assert_true(sc_bot_code(r) > 0);
            assert_string_equal(sc_bot_name(sc_bot_code(r)), r);
        } else {
            assert_null(r);
        }
    }
    assert_string_equal(sc_bot_reason(t[0].ua, true), "head");
    assert_int_equal(sc_bot_code(NULL), 0);
    assert_null(sc_bot_name(0));
}

/*
 * Issue 15: verdicts are remembered per thread by the whole user-agent.  A
 * thousand distinct strings of five kinds, interleaved so that they share
 * the remembered slots and all of one length, get their own kind's
 * verdict every time, in any order, and HEAD is still "head".
 */
static void test_verdicts_are_remembered_by_the_whole_string(void **state)
{
    (void)state;
    static const struct {
        const char *before, *after; /* the user-agent: before, a number, after */
        const char *reason, *device;
    } kinds[] = {
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_",
         " like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 "
         "Safari/604.1",
         NULL, "phone"},
        {"Mozilla/5.0 (Linux; Android 13; SM-X",
         ") AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", NULL, "tablet"},
        {"Mozilla/5.0 (compatible; Googlebot/2.", "; +http://www.google.com/bot.html)", "crawler",
         "bot"},
        {"curl/8.", ".0", "tool", "bot"},
        {"WhatsApp/2.23.", ".0 A", "preview", "bot"},
    };
    enum { N = 200, K = sizeof(kinds) / sizeof(kinds[0]) };
    for (int pass = 0; pass < 3; pass++)
        for (int j = 0; j < N * K; j++) {
            int i = pass == 1 ? N * K - 1 - j : pass == 2 ? (j * 7) % (N * K) : j;
            char ua[256];
            /* all 160 bytes long: only the bytes tell them apart */
            int n = snprintf(ua, sizeof(ua), "%s%03d%s", kinds[i % K].before, i / K,
                             kinds[i % K].after);
            memset(ua + n, '-', 160 - (size_t)n);
            ua[160] = '\0';
            struct sc_ua_info info;
            const char *r = sc_ua_classify(ua, false, &info);
            if (kinds[i % K].reason)
                assert_string_equal(r, kinds[i % K].reason);
            else
                assert_null(r);
            assert_string_equal(info.device, kinds[i % K].device);
            assert_string_equal(sc_ua_classify(ua, true, &info), "head");
            assert_string_equal(info.device, kinds[i % K].device);
        }
}

static void test_families(void **state)
{
    struct sc_ua_info u;
    sc_ua_families("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
                   "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47",
                   &u);
    assert_string_equal(u.browser, "WeChat");
    assert_string_equal(u.os, "iOS");
    assert_string_equal(u.device, "phone");
    assert_true(u.inapp);
    sc_ua_families("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 "
                   "Firefox/125.0",
                   &u);
    assert_string_equal(u.browser, "Firefox");
    assert_string_equal(u.device, "desktop");
    assert_false(u.inapp);
    sc_ua_families("Twitterbot/1.0", &u);
    assert_string_equal(u.device, "bot");
}

static void test_ip_anonymiser(void **state)
{
    static const struct {
        const char *in, *out;
    } t[] = {
        {"203.0.113.77", "203.0.113.0"},
        {"10.1.2.255", "10.1.2.0"},
        {"2001:db8:1:2::5", "2001:db8:1::"},
        {"2001:0db8:abcd:1234:5678:9abc:def0:1234", "2001:db8:abcd::"},
        {"::ffff:198.51.100.9", "198.51.100.0"},
        {"::1", "::"},
    };
    char out[SC_IP_ANON_MAX];
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(sc_ip_anonymise(t[i].in, out), SC_OK);
        assert_string_equal(out, t[i].out);
    }
    /* From the bytes, as the request thread does: the same text as from the address's text. */
    static const char *const v4[] = {"0.0.0.0",      "1.2.3.4",         "9.10.99.100", "127.0.0.1",
                                     "203.0.113.77", "255.255.255.255", "10.200.7.255"};
    for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
        unsigned char a[4];
        char want[SC_IP_ANON_MAX];
        assert_int_equal(inet_pton(AF_INET, v4[i], a), 1);
        assert_int_equal(sc_ip_anonymise(v4[i], want), SC_OK);
        memset(out, 'x', SC_IP_ANON_MAX);
        sc_ip4_anonymise(a, out);
        assert_string_equal(out, want);
    }
    assert_int_equal(sc_ip_anonymise("not an ip", out), SC_EINVAL);
    assert_int_equal(sc_ip_anonymise("1.2.3.4.5", out), SC_EINVAL);
    assert_int_equal(sc_ip_anonymise(NULL, out), SC_EINVAL);
}

static void test_visitor_ids(void **state)
{
    char a[SC_VID_MAX], b[SC_VID_MAX];
    sc_visitor_new(a);
    sc_visitor_new(b);
    assert_string_not_equal(a, b);
    assert_memory_equal(a, "c:", 2);
    assert_true(sc_visitor_cookie_ok(a + 2));
    assert_false(sc_visitor_cookie_ok("short"));
    assert_false(sc_visitor_cookie_ok("abcdefghijklmnopqrstuvwxyz01234;"));
    assert_false(sc_visitor_cookie_ok(NULL));

    unsigned char salt1[32] = {1}, salt2[32] = {2};
    char h1[SC_VID_MAX], h2[SC_VID_MAX], h3[SC_VID_MAX], h4[SC_VID_MAX];
    sc_visitor_hash(salt1, "203.0.113.7", "UA", h1);
    sc_visitor_hash(salt1, "203.0.113.7", "UA", h2);
    sc_visitor_hash(salt2, "203.0.113.7", "UA", h3); /* another day */
    sc_visitor_hash(salt1, "203.0.113.8", "UA", h4); /* another address */
    assert_string_equal(h1, h2);
    assert_string_not_equal(h1, h3);
    assert_string_not_equal(h1, h4);
    assert_memory_equal(h1, "h:", 2);
    assert_int_equal(strlen(h1), 34);
    /* The address is not in the id. */
    assert_null(strstr(h1, "203"));
}

static void test_referrer_host(void **state)
{
    static const struct {
        const char *in, *out;
    } t[] = {
        {"https://Mp.Weixin.QQ.com/s/abc?x=1", "mp.weixin.qq.com"},
        {"http://user:pw@example.com:8080/x", "example.com"},
        {"android-app://com.tencent.mm/", "com.tencent.mm"},
        {"not a url", ""},
        {"https://evil.com\"<script>/", ""},
        {NULL, ""},
    };
    char out[SC_REFHOST_MAX];
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        sc_referrer_host(t[i].in, out);
        assert_string_equal(out, t[i].out);
    }
}

static void test_ingest_commits_and_rolls_up(void **state)
{
    struct sc_store *s = NULL;
    char err[256];
    assert_int_equal(sc_store_open(":memory:", &s, err, sizeof(err)), SC_OK);
    struct sc_member m = {0}, out;
    strcpy(m.email, "i@example.com");
    strcpy(m.name, "Ingest");
    struct sc_card p = {0};
    strcpy(p.slug, "ingest");
    assert_int_equal(sc_store_member_add(s, &m, NULL, &p, &out), SC_OK);
    struct sc_card c;
    assert_int_equal(sc_store_card_by_slug(s, "ingest", &c), SC_OK);

    struct sc_ingest *g;
    assert_int_equal(sc_ingest_new(s, NULL, 64, &g), SC_OK);
    struct sc_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = SC_EV_VIEW;
    ev.card_id = c.id;
    ev.ts = 1700000000;
    for (int i = 0; i < 20; i++) {
        snprintf(ev.visitor, sizeof(ev.visitor), "c:v%d", i % 5);
        snprintf(ev.ua, sizeof(ev.ua), "%s",
                 i % 4 == 0 ? "Twitterbot/1.0" : "Mozilla/5.0 (iPhone) Mobile Safari");
        assert_int_equal(sc_ingest_write_sync(g, &ev), SC_OK);
    }
    /*
     * The queue keeps what follows the user-agent too (it copies only the used part of
     * it): a person-looking browser that the request thread judged a preview is a bot's.
     */
    memset(ev.visitor, 0, sizeof(ev.visitor));
    memset(ev.ua, 'x', sizeof(ev.ua) - 1); /* the longest user-agent kept: no bot words */
    memcpy(ev.ua, "Mozilla/5.0 (iPhone) ", 21);
    ev.classified = true;
    ev.bot_reason = "preview";
    strcpy(ev.agent.device, "bot");
    assert_int_equal(sc_ingest_write_sync(g, &ev), SC_OK);
    struct sc_ingest_stats is;
    sc_ingest_stats(g, &is);
    assert_int_equal(is.committed, 21);
    assert_int_equal(is.failed, 0);
    sc_ingest_free(g);

    struct sc_stats st;
    assert_int_equal(sc_store_card_stats(s, c.id, 0, 100000, &st), SC_OK);
    assert_int_equal(st.n[SC_EV_VIEW], 15);
    assert_int_equal(st.bots, 6);
    /* Visitors 0..4; v0 only ever came as the bot (i = 0, 4, 8, …, all i % 4 == 0 ≡ v0/v4…). */
    int64_t want_uniques = 0;
    for (int v = 0; v < 5; v++) {
        int human = 0;
        for (int i = v; i < 20; i += 5)
            human |= i % 4 != 0;
        want_uniques += human;
    }
    assert_int_equal(st.uniques, want_uniques);
    sc_card_cleanup(&c);
    sc_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bot_classifier),
        cmocka_unit_test(test_families),
        cmocka_unit_test(test_verdicts_are_remembered_by_the_whole_string),
        cmocka_unit_test(test_ip_anonymiser),
        cmocka_unit_test(test_visitor_ids),
        cmocka_unit_test(test_referrer_host),
        cmocka_unit_test(test_ingest_commits_and_rolls_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
