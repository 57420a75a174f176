/*
 * test_webhook.c — the parts of webhook.h that need no network: the Standard
 * Webhooks example signature, verification, secrets and their strict decoding,
 * message ids, the body, the address classification and the `webhook add`
 * URL check on literal addresses, the retry schedule, and the UTF-8 excerpt.
 * Deliveries over a real socket are in test_webhook_net.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cmocka.h>

#include "sharecard/webhook.h"

/* The specification's published example (checked independently with Python's hmac). */
#define SPEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_ID     "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_TS     1614265330
#define SPEC_BODY   "{\"test\": 2432232314}"
#define SPEC_SIG    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static void test_spec_vector(void **state)
{
    (void)state;
    char sig[SC_WEBHOOK_SIG_SIZE];
    assert_int_equal(
        sc_webhook_sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), sig), SC_OK);
    assert_string_equal(sig, SPEC_SIG);
}

static void test_verify(void **state)
{
    (void)state;
    size_t n = strlen(SPEC_BODY);
    assert_true(sc_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, n, SPEC_SIG));
    /* Several signatures, space-separated (a secret being rotated): any one matching. */
    assert_true(sc_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, n,
                                  "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " SPEC_SIG));
    assert_true(sc_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, n,
                                  "v1a,whatever  " SPEC_SIG " v2,zzz"));
    /* Anything changed: no. */
    assert_false(sc_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS + 1, SPEC_BODY, n, SPEC_SIG));
    assert_false(sc_webhook_verify(SPEC_SECRET, "msg_other", SPEC_TS, SPEC_BODY, n, SPEC_SIG));
    assert_false(
        sc_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, "{\"test\": 2432232315}", n, SPEC_SIG));
    assert_false(sc_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, n,
                                   "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE"));
    assert_false(sc_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, n,
                                   "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    assert_false(sc_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, n, ""));
    assert_false(sc_webhook_verify(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY, n, NULL));
    assert_false(sc_webhook_verify("whsec_notbase64!", SPEC_ID, SPEC_TS, SPEC_BODY, n, SPEC_SIG));
}

static void test_secret_round_trip(void **state)
{
    (void)state;
    char a[SC_WEBHOOK_SECRET_SIZE], b[SC_WEBHOOK_SECRET_SIZE], sig[SC_WEBHOOK_SIG_SIZE];
    unsigned char key[SC_WEBHOOK_KEY_MAX];
    size_t key_len = 0;
    const char *why = "unset";

    assert_int_equal(sc_webhook_secret_new(a, sizeof(a)), SC_OK);
    assert_int_equal(sc_webhook_secret_new(b, sizeof(b)), SC_OK);
    assert_int_equal(strncmp(a, "whsec_", 6), 0);
    assert_int_equal(strlen(a), 6 + 44); /* base64 of 32 bytes, padded */
    assert_string_not_equal(a, b);
    assert_int_equal(sc_webhook_secret_decode(a, key, &key_len, &why), SC_OK);
    assert_null(why);
    assert_int_equal(key_len, 32);
    /* The secret signs and verifies. */
    assert_int_equal(sc_webhook_sign(a, "msg_x", 1, "{}", 2, sig), SC_OK);
    assert_true(sc_webhook_verify(a, "msg_x", 1, "{}", 2, sig));
    assert_false(sc_webhook_verify(b, "msg_x", 1, "{}", 2, sig));
    assert_int_equal(sc_webhook_secret_new(a, 20), SC_ETOOBIG);
    /* The spec's own secret: 32 characters, 24 bytes, no padding needed. */
    assert_int_equal(sc_webhook_secret_decode(SPEC_SECRET, key, &key_len, NULL), SC_OK);
    assert_int_equal(key_len, 24);
}

static void test_secret_strict(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",          /* no prefix */
        "whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",     /* wrong prefix */
        "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",    /* prefix is case-sensitive */
        "whsec_",                                    /* empty key */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!",    /* not base64 */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ",   /* trailing space */
        " whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",   /* leading space */
        "whsec_MfKQ9r8GKYqrTwjU\nPD8ILPZIo2LaLaSw",  /* a line break inside */
        "whsec_MfKQ9r8G_YqrTwjUPD8ILPZIo2LaLaSw",    /* base64url, not standard */
        "whsec_AAAAAAAAAAAAAAAAAAAAAA==",            /* 16 bytes: too short */
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",     /* bad padding */
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", /* non-zero bits past the end */
    };
    unsigned char key[SC_WEBHOOK_KEY_MAX];
    size_t key_len = 99;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = NULL;
        if (sc_webhook_secret_decode(bad[i], key, &key_len, &why) != SC_EINVAL)
            fail_msg("accepted a bad secret: \"%s\"", bad[i]);
        assert_non_null(why);
        assert_int_equal(key_len, 0);
    }
    const char *why = NULL;
    sc_webhook_secret_decode("whsec_AAAAAAAAAAAAAAAAAAAAAA==", key, &key_len, &why);
    assert_non_null(strstr(why, "24 bytes"));
    sc_webhook_secret_decode("sk_x", key, &key_len, &why);
    assert_non_null(strstr(why, "whsec_"));
    assert_int_equal(sc_webhook_secret_decode(NULL, key, &key_len, NULL), SC_EINVAL);
}

static void test_ids(void **state)
{
    (void)state;
    char a[SC_WEBHOOK_ID_SIZE], b[SC_WEBHOOK_ID_SIZE];
    sc_webhook_id_new(a);
    sc_webhook_id_new(b);
    assert_int_equal(strlen(a), 30);
    assert_int_equal(strncmp(a, "msg_", 4), 0);
    assert_int_equal(strspn(a + 4, "0123456789abcdefghjkmnpqrstvwxyz"), 26);
    assert_string_not_equal(a, b);
}

static void test_body(void **state)
{
    (void)state;
    char *body = NULL;
    size_t len = 0;
    assert_int_equal(sc_webhook_body("signup.created", 1614265330,
                                     "{ \"name\" : \"张三\", \"level1\": null, \"n\": [1, 2] }",
                                     &body, &len),
                     SC_OK);
    assert_string_equal(body, "{\"type\":\"signup.created\",\"timestamp\":\"2021-02-25T15:02:10Z\","
                              "\"data\":{\"name\":\"张三\",\"level1\":null,\"n\":[1,2]}}");
    free(body);
    /* UTC whatever the server's time zone (China Standard Time here, without tzdata). */
    setenv("TZ", "CST-8", 1);
    tzset();
    assert_int_equal(sc_webhook_body("lead.hot", 1614265330, "{}", &body, &len), SC_OK);
    unsetenv("TZ");
    tzset();
    assert_string_equal(body, "{\"type\":\"lead.hot\",\"timestamp\":\"2021-02-25T15:02:10Z\","
                              "\"data\":{}}");
    assert_int_equal(len, strlen(body));
    free(body);

    static const char *const bad_types[] = {"", "Signup", "sign up", "a\"b", NULL};
    for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
        assert_int_equal(sc_webhook_body(bad_types[i], 0, "{}", &body, NULL), SC_EINVAL);
        assert_null(body);
    }
    assert_int_equal(sc_webhook_body("lead.hot", 0, "{", &body, NULL), SC_EINVAL);
    assert_int_equal(sc_webhook_body("lead.hot", 0, "{\"a\":1,\"a\":2}", &body, NULL), SC_EINVAL);
    assert_int_equal(sc_webhook_body("lead.hot", 0, "\"\xff\"", &body, NULL), SC_EINVAL);
    assert_int_equal(sc_webhook_body("lead.hot", 0, NULL, &body, NULL), SC_EINVAL);
    /* Over the size limit. */
    char *big = malloc(SC_WEBHOOK_BODY_MAX + 8);
    assert_non_null(big);
    memset(big, 'x', SC_WEBHOOK_BODY_MAX + 7);
    big[0] = '"';
    big[SC_WEBHOOK_BODY_MAX + 6] = '"';
    big[SC_WEBHOOK_BODY_MAX + 7] = '\0';
    assert_int_equal(sc_webhook_body("lead.hot", 0, big, &body, NULL), SC_ETOOBIG);
    assert_null(body);
    free(big);
}

/* Classifies the text address 'ip'. */
static enum sc_webhook_addr classify(const char *ip)
{
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    memset(&in, 0, sizeof(in));
    memset(&in6, 0, sizeof(in6));
    if (inet_pton(AF_INET, ip, &in.sin_addr) == 1) {
        in.sin_family = AF_INET;
        return sc_webhook_addr_classify((struct sockaddr *)&in, sizeof(in));
    }
    if (inet_pton(AF_INET6, ip, &in6.sin6_addr) == 1) {
        in6.sin6_family = AF_INET6;
        return sc_webhook_addr_classify((struct sockaddr *)&in6, sizeof(in6));
    }
    fail_msg("not an address: %s", ip);
    return SC_WEBHOOK_ADDR_UNKNOWN;
}

static void test_classify(void **state)
{
    (void)state;
    static const struct {
        const char *ip;
        enum sc_webhook_addr want;
    } cases[] = {
        {"8.8.8.8", SC_WEBHOOK_ADDR_PUBLIC},
        {"93.184.216.34", SC_WEBHOOK_ADDR_PUBLIC},
        {"1.1.1.1", SC_WEBHOOK_ADDR_PUBLIC},
        {"127.0.0.1", SC_WEBHOOK_ADDR_LOOPBACK},
        {"127.255.255.254", SC_WEBHOOK_ADDR_LOOPBACK},
        {"10.0.0.1", SC_WEBHOOK_ADDR_PRIVATE},
        {"10.255.255.255", SC_WEBHOOK_ADDR_PRIVATE},
        {"11.0.0.1", SC_WEBHOOK_ADDR_PUBLIC},
        {"172.15.255.255", SC_WEBHOOK_ADDR_PUBLIC},
        {"172.16.0.1", SC_WEBHOOK_ADDR_PRIVATE},
        {"172.31.255.255", SC_WEBHOOK_ADDR_PRIVATE},
        {"172.32.0.0", SC_WEBHOOK_ADDR_PUBLIC},
        {"192.168.1.1", SC_WEBHOOK_ADDR_PRIVATE},
        {"192.169.0.1", SC_WEBHOOK_ADDR_PUBLIC},
        {"169.254.169.254", SC_WEBHOOK_ADDR_LINK_LOCAL},
        {"100.64.0.1", SC_WEBHOOK_ADDR_CGNAT},
        {"100.127.255.255", SC_WEBHOOK_ADDR_CGNAT},
        {"100.128.0.0", SC_WEBHOOK_ADDR_PUBLIC},
        {"100.63.255.255", SC_WEBHOOK_ADDR_PUBLIC},
        {"0.0.0.0", SC_WEBHOOK_ADDR_UNSPECIFIED},
        {"0.1.2.3", SC_WEBHOOK_ADDR_UNSPECIFIED},
        {"224.0.0.1", SC_WEBHOOK_ADDR_MULTICAST},
        {"239.255.255.250", SC_WEBHOOK_ADDR_MULTICAST},
        {"255.255.255.255", SC_WEBHOOK_ADDR_BROADCAST},
        {"240.0.0.1", SC_WEBHOOK_ADDR_RESERVED},
        {"192.0.2.1", SC_WEBHOOK_ADDR_RESERVED},
        {"198.18.0.1", SC_WEBHOOK_ADDR_RESERVED},
        {"203.0.113.9", SC_WEBHOOK_ADDR_RESERVED},
        {"::1", SC_WEBHOOK_ADDR_LOOPBACK},
        {"::", SC_WEBHOOK_ADDR_UNSPECIFIED},
        {"::ffff:127.0.0.1", SC_WEBHOOK_ADDR_LOOPBACK},
        {"::ffff:10.1.2.3", SC_WEBHOOK_ADDR_PRIVATE},
        {"::ffff:169.254.169.254", SC_WEBHOOK_ADDR_LINK_LOCAL},
        {"::ffff:192.168.0.1", SC_WEBHOOK_ADDR_PRIVATE},
        {"::ffff:0.0.0.0", SC_WEBHOOK_ADDR_UNSPECIFIED},
        {"::ffff:8.8.8.8", SC_WEBHOOK_ADDR_PUBLIC},
        {"::127.0.0.1", SC_WEBHOOK_ADDR_LOOPBACK},     /* IPv4-compatible */
        {"64:ff9b::7f00:1", SC_WEBHOOK_ADDR_LOOPBACK}, /* NAT64 of 127.0.0.1 */
        {"64:ff9b::808:808", SC_WEBHOOK_ADDR_PUBLIC},
        {"2002:7f00:1::1", SC_WEBHOOK_ADDR_LOOPBACK}, /* 6to4 of 127.0.0.1 */
        {"2002:a00:1::1", SC_WEBHOOK_ADDR_PRIVATE},
        {"2002:808:808::1", SC_WEBHOOK_ADDR_PUBLIC},
        {"fe80::1", SC_WEBHOOK_ADDR_LINK_LOCAL},
        {"febf::1", SC_WEBHOOK_ADDR_LINK_LOCAL},
        {"fec0::1", SC_WEBHOOK_ADDR_RESERVED},
        {"fc00::1", SC_WEBHOOK_ADDR_ULA},
        {"fd12:3456::1", SC_WEBHOOK_ADDR_ULA},
        {"ff02::1", SC_WEBHOOK_ADDR_MULTICAST},
        {"2001:db8::1", SC_WEBHOOK_ADDR_RESERVED},
        {"2001::1", SC_WEBHOOK_ADDR_RESERVED}, /* Teredo */
        {"100::1", SC_WEBHOOK_ADDR_RESERVED},
        {"2606:4700:4700::1111", SC_WEBHOOK_ADDR_PUBLIC},
        {"2a00:1450:4001::1", SC_WEBHOOK_ADDR_PUBLIC},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum sc_webhook_addr got = classify(cases[i].ip);
        if (got != cases[i].want)
            fail_msg("%s: %s, want %s", cases[i].ip, sc_webhook_addr_str(got),
                     sc_webhook_addr_str(cases[i].want));
    }
    /* Not an internet address, or too short to be one. */
    struct sockaddr_un un;
    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    assert_int_equal(sc_webhook_addr_classify((struct sockaddr *)&un, sizeof(un)),
                     SC_WEBHOOK_ADDR_UNKNOWN);
    struct sockaddr_in6 in6;
    memset(&in6, 0, sizeof(in6));
    in6.sin6_family = AF_INET6;
    assert_int_equal(sc_webhook_addr_classify((struct sockaddr *)&in6, sizeof(struct sockaddr_in)),
                     SC_WEBHOOK_ADDR_UNKNOWN);
    assert_int_equal(sc_webhook_addr_classify(NULL, 0), SC_WEBHOOK_ADDR_UNKNOWN);
}

static void test_allowed(void **state)
{
    (void)state;
    assert_true(sc_webhook_addr_allowed(SC_WEBHOOK_ADDR_PUBLIC, false));
    for (int a = SC_WEBHOOK_ADDR_LOOPBACK; a <= SC_WEBHOOK_ADDR_UNKNOWN; a++)
        assert_false(sc_webhook_addr_allowed((enum sc_webhook_addr)a, false));
    assert_true(sc_webhook_addr_allowed(SC_WEBHOOK_ADDR_LOOPBACK, true));
    assert_true(sc_webhook_addr_allowed(SC_WEBHOOK_ADDR_PRIVATE, true));
    assert_true(sc_webhook_addr_allowed(SC_WEBHOOK_ADDR_CGNAT, true));
    assert_true(sc_webhook_addr_allowed(SC_WEBHOOK_ADDR_ULA, true));
    /* Never, even when private networks are allowed: the metadata service, and nonsense. */
    assert_false(sc_webhook_addr_allowed(SC_WEBHOOK_ADDR_LINK_LOCAL, true));
    assert_false(sc_webhook_addr_allowed(SC_WEBHOOK_ADDR_UNSPECIFIED, true));
    assert_false(sc_webhook_addr_allowed(SC_WEBHOOK_ADDR_MULTICAST, true));
    assert_false(sc_webhook_addr_allowed(SC_WEBHOOK_ADDR_BROADCAST, true));
    assert_false(sc_webhook_addr_allowed(SC_WEBHOOK_ADDR_RESERVED, true));
    assert_false(sc_webhook_addr_allowed(SC_WEBHOOK_ADDR_UNKNOWN, true));

    setenv("SHARECARD_WEBHOOK_ALLOW_PRIVATE", "1", 1);
    assert_true(sc_webhook_allow_private_env());
    setenv("SHARECARD_WEBHOOK_ALLOW_PRIVATE", "yes", 1);
    assert_false(sc_webhook_allow_private_env());
    unsetenv("SHARECARD_WEBHOOK_ALLOW_PRIVATE");
    assert_false(sc_webhook_allow_private_env());
}

/* The add-time check on URLs whose host is a literal (no DNS needed). */
static void test_url_check(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        enum sc_err strict, allowing; /* without and with allow_private */
        const char *why;              /* in the reason when refused without */
    } cases[] = {
        {"https://93.184.216.34/hooks/sharecard", SC_OK, SC_OK, NULL},
        {"http://8.8.8.8:8080/x?y=1#frag", SC_OK, SC_OK, NULL},
        {"https://[2606:4700:4700::1111]/", SC_OK, SC_OK, NULL},
        {"http://127.0.0.1:9/", SC_EINVAL, SC_OK, "loopback"},
        {"http://127.1/", SC_EINVAL, SC_OK, "loopback"},
        {"http://2130706433/", SC_EINVAL, SC_OK, "loopback"}, /* 127.0.0.1 as one number */
        {"http://0x7f.0.0.1/", SC_EINVAL, SC_OK, "loopback"},
        {"http://[::1]:8080/", SC_EINVAL, SC_OK, "loopback"},
        {"http://[::ffff:127.0.0.1]/", SC_EINVAL, SC_OK, "loopback"},
        {"http://10.1.2.3/", SC_EINVAL, SC_OK, "private"},
        {"http://192.168.0.10/", SC_EINVAL, SC_OK, "private"},
        {"http://100.100.100.100/", SC_EINVAL, SC_OK, "carrier-grade"},
        {"http://[fd00::1]/", SC_EINVAL, SC_OK, "unique local"},
        {"http://169.254.169.254/latest/meta-data/", SC_EINVAL, SC_EINVAL, "link-local"},
        {"http://[::ffff:169.254.169.254]/", SC_EINVAL, SC_EINVAL, "link-local"},
        {"http://0.0.0.0:8080/", SC_EINVAL, SC_EINVAL, "unspecified"},
        {"http://255.255.255.255/", SC_EINVAL, SC_EINVAL, "broadcast"},
        {"http://224.0.0.1/", SC_EINVAL, SC_EINVAL, "multicast"},
        {"ftp://93.184.216.34/", SC_EINVAL, SC_EINVAL, "http"},
        {"file:///etc/passwd", SC_EINVAL, SC_EINVAL, "http"},
        {"gopher://93.184.216.34/", SC_EINVAL, SC_EINVAL, "http"},
        {"https://user:pw@93.184.216.34/", SC_EINVAL, SC_EINVAL, "user"},
        {"https://user@93.184.216.34/", SC_EINVAL, SC_EINVAL, "user"},
        {"https://[fe80::1%25eth0]/", SC_EINVAL, SC_EINVAL, "zone"},
        {"93.184.216.34/hook", SC_EINVAL, SC_EINVAL, "valid URL"},
        {"http://", SC_EINVAL, SC_EINVAL, "valid URL"},
        {"http://exa mple.com/", SC_EINVAL, SC_EINVAL, "valid URL"},
        {"", SC_EINVAL, SC_EINVAL, "valid URL"},
    };
    char why[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum sc_err got = sc_webhook_url_check(cases[i].url, false, why, sizeof(why));
        if (got != cases[i].strict)
            fail_msg("%s: %d (%s), want %d", cases[i].url, got, why, cases[i].strict);
        if (cases[i].why && !strstr(why, cases[i].why))
            fail_msg("%s: reason \"%s\" lacks \"%s\"", cases[i].url, why, cases[i].why);
        got = sc_webhook_url_check(cases[i].url, true, why, sizeof(why));
        if (got != cases[i].allowing)
            fail_msg("%s allowing private: %d (%s), want %d", cases[i].url, got, why,
                     cases[i].allowing);
    }
    /* The reason says how to allow what may be allowed, and not otherwise. */
    sc_webhook_url_check("http://127.0.0.1/", false, why, sizeof(why));
    assert_non_null(strstr(why, "SHARECARD_WEBHOOK_ALLOW_PRIVATE=1"));
    sc_webhook_url_check("http://169.254.169.254/", true, why, sizeof(why));
    assert_null(strstr(why, "SHARECARD_WEBHOOK_ALLOW_PRIVATE"));
    /* Over the length limit. */
    char *long_url = malloc(SC_WEBHOOK_URL_MAX + 64);
    assert_non_null(long_url);
    strcpy(long_url, "https://93.184.216.34/");
    size_t n = strlen(long_url);
    memset(long_url + n, 'a', SC_WEBHOOK_URL_MAX + 10 - n);
    long_url[SC_WEBHOOK_URL_MAX + 10] = '\0';
    assert_int_equal(sc_webhook_url_check(long_url, true, why, sizeof(why)), SC_EINVAL);
    free(long_url);
    assert_int_equal(sc_webhook_url_check(NULL, true, NULL, 0), SC_EINVAL);
}

/* "localhost" goes through the resolver (/etc/hosts, no DNS query), as any name would. */
static void test_url_check_name(void **state)
{
    (void)state;
    char why[256];
    assert_int_equal(sc_webhook_url_check("http://localhost:8080/hook", false, why, sizeof(why)),
                     SC_EINVAL);
    assert_non_null(strstr(why, "loopback"));
    assert_int_equal(sc_webhook_url_check("http://localhost:8080/hook", true, why, sizeof(why)),
                     SC_OK);
}

static void test_retry_schedule(void **state)
{
    (void)state;
    static const int64_t base[] = {20, 300, 1800, 7200, 18000, 36000, 36000};
    const int64_t now = 1700000000;
    int64_t when, total_min = 0, total_max = 0;

    assert_true(sc_webhook_next_attempt(0, now, &when));
    assert_int_equal(when, now);
    for (int round = 0; round < 200; round++) {
        int64_t total = 0;
        for (int a = 1; a <= 7; a++) {
            assert_true(sc_webhook_next_attempt(a, now, &when));
            int64_t delay = when - now;
            assert_true(delay > 0);
            /* Within ±10 % of the base, and so growing from one base to the next. */
            assert_in_range(delay, base[a - 1] - base[a - 1] / 10, base[a - 1] + base[a - 1] / 10);
            if (a == 1)
                assert_true(delay <= 30); /* the first retry within 30 s */
            if (a < 7 && base[a] > base[a - 1])
                assert_true(delay < base[a] - base[a] / 10); /* below any next wait */
            total += delay;
        }
        total_min = round == 0 || total < total_min ? total : total_min;
        total_max = total > total_max ? total : total_max;
        assert_false(sc_webhook_next_attempt(8, now, &when));
        assert_false(sc_webhook_next_attempt(100, now, &when));
    }
    /* About a day in all: between 20 and 31 hours. */
    assert_true(total_min >= 20 * 3600);
    assert_true(total_max <= 31 * 3600);
    /* The jitter is real: 200 rounds do not all land on the same second. */
    assert_true(total_max > total_min);
}

static void test_excerpt(void **state)
{
    (void)state;
    char out[SC_WEBHOOK_EXCERPT_MAX + 1];
    char small[8];

    assert_int_equal(sc_webhook_excerpt("ok", 2, out, sizeof(out)), 2);
    assert_string_equal(out, "ok");
    /* Invalid bytes, NULs, overlong forms, surrogates become U+FFFD. */
    sc_webhook_excerpt("a\xff"
                       "b",
                       3, out, sizeof(out));
    assert_string_equal(out, "a\xef\xbf\xbd"
                             "b");
    sc_webhook_excerpt("a\0b", 3, out, sizeof(out));
    assert_string_equal(out, "a\xef\xbf\xbd"
                             "b");
    sc_webhook_excerpt("\xc0\xaf", 2, out, sizeof(out));
    assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd");
    sc_webhook_excerpt("\xed\xa0\x80", 3, out, sizeof(out));
    assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    sc_webhook_excerpt("\xf4\x90\x80\x80", 4, out, sizeof(out));
    assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    /* Valid multi-byte characters pass whole. */
    sc_webhook_excerpt("张三 😀", strlen("张三 😀"), out, sizeof(out));
    assert_string_equal(out, "张三 😀");
    /* A character cut by the end of the input is dropped, not mangled. */
    sc_webhook_excerpt("ab\xe5\xbc", 4, out, sizeof(out));
    assert_string_equal(out, "ab");
    /* The output ends at a character boundary within its size. */
    assert_int_equal(sc_webhook_excerpt("a张三", strlen("a张三"), small, 6), 4);
    assert_string_equal(small, "a张");
    assert_int_equal(sc_webhook_excerpt("a\xff\xff", 3, small, 6), 4);
    assert_string_equal(small, "a\xef\xbf\xbd");
    assert_int_equal(sc_webhook_excerpt("abc", 3, small, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_vector),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_secret_round_trip),
        cmocka_unit_test(test_secret_strict),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_body),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_url_check),
        cmocka_unit_test(test_url_check_name),
        cmocka_unit_test(test_retry_schedule),
        cmocka_unit_test(test_excerpt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
