/*
 * test_lib.c — the dependency-free helpers: buffer, escapers, link
 * allow-list, UTF-8 check, form fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sharecard/buf.h"
#include "sharecard/escape.h"
#include "sharecard/form.h"

static void test_buf_grows_from_stack_to_heap(void **state)
{
    char stack[8];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 0);
    sc_buf_puts(&b, "abc");
    assert_ptr_equal(b.data, stack);
    for (int i = 0; i < 1000; i++)
        sc_buf_putc(&b, 'x');
    assert_ptr_not_equal(b.data, stack);
    assert_int_equal(b.len, 1003);
    assert_int_equal(b.data[b.len], '\0');
    assert_memory_equal(b.data, "abcxxx", 6);
    sc_buf_printf(&b, "%d-%s", 42, "z");
    assert_string_equal(b.data + 1003, "42-z");
    assert_int_equal(sc_buf_error(&b), SC_OK);
    size_t len;
    char *p = sc_buf_steal(&b, &len);
    assert_int_equal(len, 1007);
    assert_int_equal(b.len, 0);
    free(p);
    sc_buf_cleanup(&b);
}

static void test_buf_cap_is_sticky(void **state)
{
    struct sc_buf b;
    sc_buf_init(&b, 10);
    sc_buf_puts(&b, "0123456789");
    assert_int_equal(sc_buf_error(&b), SC_OK);
    sc_buf_putc(&b, 'x');
    assert_int_equal(sc_buf_error(&b), SC_ETOOBIG);
    sc_buf_puts(&b, ""); /* later appends change nothing */
    assert_int_equal(b.len, 10);
    assert_null(sc_buf_steal(&b, NULL));
    sc_buf_reset(&b);
    assert_int_equal(sc_buf_error(&b), SC_OK);
    sc_buf_printf(&b, "%s", "a long string past the cap");
    assert_int_equal(sc_buf_error(&b), SC_ETOOBIG);
    sc_buf_cleanup(&b);
}

static void test_buf_steal_copies_stack(void **state)
{
    char stack[64];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 0);
    sc_buf_puts(&b, "hello");
    char *p = sc_buf_steal(&b, NULL);
    assert_ptr_not_equal(p, stack);
    assert_string_equal(p, "hello");
    free(p);
}

static char *esc(void (*fn)(struct sc_buf *, const char *, size_t), const char *in)
{
    static char out[512];
    struct sc_buf b;
    sc_buf_init(&b, 0);
    fn(&b, in, strlen(in));
    snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
    sc_buf_cleanup(&b);
    return out;
}

static void test_escapers(void **state)
{
    static const struct {
        const char *in, *html, *json, *url;
    } t[] = {
        {"plain", "plain", "plain", "plain"},
        {"<a href=\"x\">'&'</a>", "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
         "\\u003ca href=\\\"x\\\"\\u003e'\\u0026'\\u003c/a\\u003e",
         "%3Ca%20href%3D%22x%22%3E%27%26%27%3C%2Fa%3E"},
        {"a\\b\nc\t\x01", "a\\b\nc\t\x01", "a\\\\b\\nc\\t\\u0001", "a%5Cb%0Ac%09%01"},
        {"张伟 ~-._", "张伟 ~-._", "张伟 ~-._", "%E5%BC%A0%E4%BC%9F%20~-._"},
        {"line\xe2\x80\xa8sep", "line\xe2\x80\xa8sep", "line\\u2028sep", "line%E2%80%A8sep"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_string_equal(esc(sc_esc_html, t[i].in), t[i].html);
        assert_string_equal(esc(sc_esc_json, t[i].in), t[i].json);
        assert_string_equal(esc(sc_esc_url_component, t[i].in), t[i].url);
    }
}

static void test_url_allow_list(void **state)
{
    static const char *const ok[] = {"https://example.com", "HTTPS://Example.com/a?b=c#d",
                                     "http://x.y", "mailto:a@b.c", "tel:+8613800138000"};
    static const char *const bad[] = {"javascript:alert(1)",
                                      "JavaScript:alert(1)",
                                      " javascript:alert(1)",
                                      "data:text/html,<b>",
                                      "vbscript:x",
                                      "//evil.com",
                                      "/relative",
                                      "https://",
                                      "https:///path",
                                      "https://a b",
                                      "https://a\tb",
                                      "ftp://x.y",
                                      "tel:",
                                      "",
                                      "https://@evil"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_true(sc_url_allowed(ok[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(sc_url_allowed(bad[i]));
    assert_false(sc_url_allowed(NULL));
    char long_url[3000];
    memset(long_url, 'a', sizeof(long_url));
    memcpy(long_url, "https://", 8);
    long_url[sizeof(long_url) - 1] = '\0';
    assert_false(sc_url_allowed(long_url));
}

static void test_utf8(void **state)
{
    static const char *const ok[] = {"", "abc", "张伟", "emoji \xf0\x9f\x98\x80", "tab\tnl\ncr\r"};
    static const char *const bad[] = {"\xc0\xaf",         /* overlong '/' */
                                      "\xe0\x80\xaf",     /* overlong */
                                      "\xed\xa0\x80",     /* surrogate */
                                      "\xf4\x90\x80\x80", /* > U+10FFFF */
                                      "\xe5\xbc",         /* cut short */
                                      "bell\x07",         "del\x7f", "\x80"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_true(sc_utf8_valid(ok[i], strlen(ok[i])));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(sc_utf8_valid(bad[i], strlen(bad[i])));
    assert_false(sc_utf8_valid("a\0b", 3));
}

static void test_form(void **state)
{
    const char *body = "type=click&card=ada&name=%E5%BC%A0+%E4%BC%9F&empty=&bad=%zz&nul=a%00b";
    size_t n = strlen(body);
    char out[32];
    assert_int_equal(sc_form_get(body, n, "card", out, sizeof(out)), SC_OK);
    assert_string_equal(out, "ada");
    assert_int_equal(sc_form_get(body, n, "name", out, sizeof(out)), SC_OK);
    assert_string_equal(out, "张 伟");
    assert_int_equal(sc_form_get(body, n, "empty", out, sizeof(out)), SC_OK);
    assert_string_equal(out, "");
    assert_int_equal(sc_form_get(body, n, "missing", out, sizeof(out)), SC_ENOTFOUND);
    assert_int_equal(sc_form_get(body, n, "car", out, sizeof(out)), SC_ENOTFOUND);
    assert_int_equal(sc_form_get(body, n, "bad", out, sizeof(out)), SC_EINVAL);
    assert_int_equal(sc_form_get(body, n, "nul", out, sizeof(out)), SC_EINVAL);
    assert_int_equal(sc_form_get(body, n, "type", out, 4), SC_ETOOBIG);
    assert_int_equal(sc_form_get("a=%4", 4, "a", out, sizeof(out)), SC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_grows_from_stack_to_heap),
        cmocka_unit_test(test_buf_cap_is_sticky),
        cmocka_unit_test(test_buf_steal_copies_stack),
        cmocka_unit_test(test_escapers),
        cmocka_unit_test(test_url_allow_list),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
