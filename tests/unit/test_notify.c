/*
 * test_notify.c — notifications (issue 18) without a network: DingTalk's and
 * Feishu's signatures against vectors computed with Python's hmac, each
 * platform's JSON shape, the e-mail (multipart text + HTML, the subject in
 * RFC 2047), the checks of addresses, SMTP URLs and targets, a robot's
 * errcode answer, quiet-hours parsing and the per-robot rate limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../server/notify_int.h"
#include "sharecard/webhook.h"

static void test_signatures(void **state)
{
    (void)state;
    char sig[64];
    /* python3: base64(hmac(b"SECabc", b"1700000000000\nSECabc", sha256)) */
    assert_int_equal(sc_notify_sign_dingtalk("SECabc", 1700000000000LL, sig, sizeof(sig)), SC_OK);
    assert_string_equal(sig, "jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM=");
    /* python3: base64(hmac(b"1700000000\nfs", b"", sha256)) */
    assert_int_equal(sc_notify_sign_feishu("fs", 1700000000LL, sig, sizeof(sig)), SC_OK);
    assert_string_equal(sig, "KnO01LyLeUz2sHjT1ogyJOBrkgWI59ibq0SodIhTzOk=");
}

static const struct sc_notify_msg MSG = {"标题 title", "**标题**\n> line", "标题\nline",
                                         "<h3>标题</h3>"};

static json_t *body_of(enum sc_notify_kind k, const char *url, const char *secret, char **out_url)
{
    char *body = NULL;
    assert_int_equal(
        sc_notify_request(k, url, secret, &MSG, 1700000000000LL, NULL, NULL, out_url, &body),
        SC_OK);
    json_t *j = json_loads(body, 0, NULL);
    assert_non_null(j);
    free(body);
    return j;
}

static void test_shapes(void **state)
{
    (void)state;
    char *url = NULL;
    json_t *j = body_of(SC_NOTIFY_WECOM, "https://qyapi.example/send?key=k", "", &url);
    assert_string_equal(json_string_value(json_object_get(j, "msgtype")), "markdown");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "markdown"), "content")),
        MSG.markdown);
    assert_string_equal(url, "https://qyapi.example/send?key=k");
    json_decref(j);
    free(url);

    j = body_of(SC_NOTIFY_DINGTALK, "https://oapi.example/robot/send?access_token=t", "SECabc",
                &url);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "markdown"), "title")),
                        MSG.title);
    assert_string_equal(url, "https://oapi.example/robot/send?access_token=t&timestamp="
                             "1700000000000&sign=jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM%3D");
    json_decref(j);
    free(url);

    j = body_of(SC_NOTIFY_FEISHU, "https://open.example/hook/x", "fs", &url);
    assert_string_equal(json_string_value(json_object_get(j, "msg_type")), "text");
    assert_string_equal(json_string_value(json_object_get(j, "timestamp")), "1700000000");
    assert_string_equal(json_string_value(json_object_get(j, "sign")),
                        "KnO01LyLeUz2sHjT1ogyJOBrkgWI59ibq0SodIhTzOk=");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "content"), "text")),
                        MSG.text);
    json_decref(j);
    free(url);

    j = body_of(SC_NOTIFY_FEISHU, "https://open.example/hook/x", "", &url);
    assert_null(json_object_get(j, "sign")); /* unsigned without a secret */
    json_decref(j);
    free(url);

    j = body_of(SC_NOTIFY_SLACK, "https://hooks.example/services/x", NULL, &url);
    assert_string_equal(json_string_value(json_object_get(j, "text")), MSG.text);
    json_decref(j);
    free(url);

    /* Slack's control characters in what a customer typed are escaped as Slack asks: no
     * channel-wide mention, no link of theirs. */
    const struct sc_notify_msg odd = {"t", "m", "New sign-up: <!channel> & <https://x.example|win>",
                                      "<p>h</p>"};
    char *body = NULL;
    assert_int_equal(sc_notify_request(SC_NOTIFY_SLACK, "https://hooks.example/services/x", NULL,
                                       &odd, 1700000000000LL, NULL, NULL, &url, &body),
                     SC_OK);
    j = json_loads(body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "text")),
                        "New sign-up: &lt;!channel&gt; &amp; &lt;https://x.example|win&gt;");
    json_decref(j);
    free(body);
    free(url);
    /* Feishu's text: no <at> tag of theirs (a mention of the whole group). */
    const struct sc_notify_msg at = {"t", "m", "新注册：<at user_id=\"all\">x</at> & co", "h"};
    assert_int_equal(sc_notify_request(SC_NOTIFY_FEISHU, "https://open.example/hook/x", NULL, &at,
                                       1700000000000LL, NULL, NULL, &url, &body),
                     SC_OK);
    j = json_loads(body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "content"), "text")),
                        "新注册：＜at user_id=\"all\"＞x＜/at＞ & co");
    json_decref(j);
    free(body);
    free(url);
}

/*
 * WeCom refuses markdown over 4096 bytes: a long batch (8 alerts of Chinese text) is cut at a
 * character's edge to fit, ending in "…"; a short one is sent whole.
 */
static void test_wecom_size(void **state)
{
    (void)state;
    char *md = malloc(8 * 700 + 1);
    assert_non_null(md);
    size_t n = 0;
    for (int i = 0; i < 8; i++)
        for (int k = 0; k < 233; k++) { /* 233 × "线" (3 bytes) + "\n": 700 bytes an alert */
            memcpy(md + n, "线", 3);
            n += 3;
            if (k == 232)
                md[n++] = '\n';
        }
    md[n] = '\0';
    const struct sc_notify_msg big = {"t", md, "x", "h"};
    char *url = NULL, *body = NULL;
    assert_int_equal(sc_notify_request(SC_NOTIFY_WECOM, "https://qyapi.example/send?key=k", NULL,
                                       &big, 0, NULL, NULL, &url, &body),
                     SC_OK);
    json_t *j = json_loads(body, 0, NULL); /* jansson refuses invalid UTF-8 */
    assert_non_null(j);
    const char *content =
        json_string_value(json_object_get(json_object_get(j, "markdown"), "content"));
    size_t len = strlen(content);
    assert_true(len <= 4096 && len > 4000);
    assert_int_equal(strncmp(content, md, len - 4), 0);
    assert_string_equal(content + len - 4, "\n…");
    json_decref(j);
    free(body);
    free(url);
    md[300] = '\0'; /* 100 characters: whole */
    assert_int_equal(sc_notify_request(SC_NOTIFY_WECOM, "https://qyapi.example/send?key=k", NULL,
                                       &big, 0, NULL, NULL, &url, &body),
                     SC_OK);
    j = json_loads(body, 0, NULL);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "markdown"), "content")), md);
    json_decref(j);
    free(body);
    free(url);
    free(md);
}

static void test_email(void **state)
{
    (void)state;
    char *url = NULL, *mail = NULL;
    assert_int_equal(sc_notify_request(SC_NOTIFY_EMAIL, "smtp://mail.example:25", "", &MSG,
                                       1700000000000LL, "from@example.com", "to@example.com", &url,
                                       &mail),
                     SC_OK);
    assert_string_equal(url, "smtp://mail.example:25");
    assert_non_null(strstr(mail, "From: from@example.com\r\nTo: to@example.com\r\n"));
    assert_non_null(strstr(mail, "Subject: =?UTF-8?B?5qCH6aKYIHRpdGxl?=\r\n"));
    assert_non_null(strstr(mail, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
    assert_non_null(strstr(mail, "Content-Type: multipart/alternative; boundary="));
    assert_non_null(strstr(mail, "Content-Type: text/plain; charset=UTF-8"));
    assert_non_null(strstr(mail, "Content-Type: text/html; charset=UTF-8"));
    free(url);
    free(mail);
    /* A header cannot be smuggled in through an address. */
    assert_int_equal(sc_notify_request(SC_NOTIFY_EMAIL, "smtp://m.example", "", &MSG, 0,
                                       "a@example.com", "b@example.com\r\nBcc: x@example.com", &url,
                                       &mail),
                     SC_EINVAL);
}

static void test_checks(void **state)
{
    (void)state;
    char why[256];
    enum sc_notify_kind k;
    assert_true(sc_notify_kind_parse("dingtalk", &k) && k == SC_NOTIFY_DINGTALK);
    assert_false(sc_notify_kind_parse("fax", &k));
    assert_true(sc_notify_email_valid("li.na+sales@example.com.cn"));
    const char *bad[] = {"",
                         "a",
                         "a@b",
                         "@example.com",
                         "a@@example.com",
                         "a@example..com",
                         "a b@example.com",
                         ".a@example.com",
                         "a@-example.com",
                         "a@example.com."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(sc_notify_email_valid(bad[i]));
    assert_int_equal(sc_notify_smtp_check("smtps://u:p@smtp.example.com:465", why, sizeof(why)),
                     SC_OK);
    assert_int_equal(sc_notify_smtp_check("smtp://", why, sizeof(why)), SC_EINVAL);
    assert_int_equal(sc_notify_smtp_check("https://smtp.example.com", why, sizeof(why)), SC_EINVAL);
    assert_non_null(strstr(why, "smtp://"));
    assert_int_equal(sc_notify_target_check(SC_NOTIFY_WECOM, "http://203.0.113.9/x", NULL, false,
                                            why, sizeof(why)),
                     SC_EINVAL);
    assert_non_null(strstr(why, "https"));
    assert_int_equal(sc_notify_target_check(SC_NOTIFY_SLACK, "https://203.0.113.9/x", "s", false,
                                            why, sizeof(why)),
                     SC_EINVAL);
    assert_int_equal(sc_notify_target_check(SC_NOTIFY_WECOM, "https://127.0.0.1/x", NULL, false,
                                            why, sizeof(why)),
                     SC_EINVAL); /* loopback without the allowance */
}

static void test_answers(void **state)
{
    (void)state;
    char why[256] = "";
    assert_true(sc_notify_answer_ok("{\"errcode\":0,\"errmsg\":\"ok\"}", why, sizeof(why)));
    assert_true(sc_notify_answer_ok("ok", why, sizeof(why)));
    assert_true(sc_notify_answer_ok("{\"code\":0,\"msg\":\"success\"}", why, sizeof(why)));
    assert_false(sc_notify_answer_ok("{\"errcode\":310000,\"errmsg\":\"sign not match\"}", why,
                                     sizeof(why)));
    assert_non_null(strstr(why, "310000"));
    assert_false(
        sc_notify_answer_ok("{\"code\":19021,\"msg\":\"sign match fail\"}", why, sizeof(why)));
    assert_non_null(strstr(why, "sign match fail"));
}

static void test_quiet_parse(void **state)
{
    (void)state;
    int from, to;
    char why[128];
    assert_int_equal(sc_notify_quiet_parse("22:00-08:30", &from, &to, why, sizeof(why)), SC_OK);
    assert_int_equal(from, 22 * 60);
    assert_int_equal(to, 8 * 60 + 30);
    assert_int_equal(sc_notify_quiet_parse("off", &from, &to, why, sizeof(why)), SC_OK);
    assert_int_equal(from, to);
    const char *bad[] = {"24:00-08:00", "22:00-8:00",  "22:00_08:00",
                         "22:60-08:00", "+2:00-08:00", "22:00-08:001"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(sc_notify_quiet_parse(bad[i], &from, &to, why, sizeof(why)), SC_EINVAL);
}

static void test_rate_limit(void **state)
{
    (void)state;
    int64_t until = 0, t0 = 1700000000;
    /* 20 in a minute per robot (WeCom's limit); the 21st waits for the first to be a minute
     * old; another robot is not held up. */
    for (int i = 0; i < 20; i++)
        assert_true(sc_notify_rate_take(77, SC_NOTIFY_WECOM, t0 + i, &until));
    assert_false(sc_notify_rate_take(77, SC_NOTIFY_WECOM, t0 + 30, &until));
    assert_int_equal(until, t0 + 60);
    assert_true(sc_notify_rate_take(78, SC_NOTIFY_WECOM, t0 + 30, &until));
    assert_true(sc_notify_rate_take(77, SC_NOTIFY_WECOM, t0 + 60, &until));
    assert_false(sc_notify_rate_take(77, SC_NOTIFY_WECOM, t0 + 60, &until));
    assert_int_equal(until, t0 + 61);

    /* Robots whose ids fall in the same slot of the table (100, 356, 612: 256 apart), sending
     * in turns, keep their own counts: each gets 20, then waits. */
    int64_t t1 = t0 + 1000;
    for (int i = 0; i < 20; i++)
        for (int64_t robot = 100; robot <= 612; robot += 256)
            assert_true(sc_notify_rate_take(robot, SC_NOTIFY_DINGTALK, t1 + i, &until));
    for (int64_t robot = 100; robot <= 612; robot += 256) {
        assert_false(sc_notify_rate_take(robot, SC_NOTIFY_DINGTALK, t1 + 30, &until));
        assert_int_equal(until, t1 + 60);
    }
    /* More robots than the table holds, each sending once in a minute: none is refused, and
     * a robot of the first minute is counted afresh once its minute is over. */
    for (int64_t robot = 1000; robot < 1600; robot++)
        assert_true(sc_notify_rate_take(robot, SC_NOTIFY_SLACK, t1 + 100, &until));
    for (int i = 0; i < 20; i++)
        assert_true(sc_notify_rate_take(100, SC_NOTIFY_DINGTALK, t1 + 200, &until));
    assert_false(sc_notify_rate_take(100, SC_NOTIFY_DINGTALK, t1 + 200, &until));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signatures), cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_email),      cmocka_unit_test(test_checks),
        cmocka_unit_test(test_answers),    cmocka_unit_test(test_quiet_parse),
        cmocka_unit_test(test_rate_limit), cmocka_unit_test(test_wecom_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
