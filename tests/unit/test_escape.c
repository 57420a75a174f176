/*
 * test_escape.c — the escapers (HTML, JSON, URL component), the link
 * allow-list and the UTF-8 check: the code between user input and a page.
 *
 * Inputs are copied to exactly-sized heap blocks with no NUL after them, so
 * ASan catches an escaper that reads past the 'n' bytes it was given.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sharecard/buf.h"
#include "sharecard/escape.h"

/* An input (may hold NULs) and what an escaper must make of it. */
struct esc_case {
    const char *in;
    size_t n;
    const char *want;
    size_t wantn;
};

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
/* A string literal and its length, NULs included: S("a\0b") is "a\0b", 3. */
#define S(lit) lit, sizeof(lit) - 1

/* A copy of the 'n' bytes at 's' with nothing after them; free with free(). */
static char *exact_copy(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

/* Runs 'fn' on the case in a fresh buffer and compares the bytes exactly. */
static void check(void (*fn)(struct sc_buf *, const char *, size_t), const struct esc_case *c)
{
    size_t n = c->n;
    char *in = exact_copy(c->in, n);
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_buf_puts(&b, "^"); /* escapers append: this must survive */
    fn(&b, in, n);
    assert_int_equal(sc_buf_error(&b), SC_OK);
    if (b.len - 1 != c->wantn || memcmp(b.data + 1, c->want, c->wantn) != 0)
        fail_msg("in '%s': got '%s', want '%s'", c->in, b.data + 1, c->want);
    assert_int_equal(b.data[0], '^');
    sc_buf_cleanup(&b);
    free(in);
}

static void test_html(void **state)
{
    (void)state;
    static const struct esc_case t[] = {
        {S(""), S("")},
        {S("plain text 123"), S("plain text 123")},
        {S("&"), S("&amp;")},
        {S("<"), S("&lt;")},
        {S(">"), S("&gt;")},
        {S("\""), S("&quot;")},
        {S("'"), S("&#39;")},
        {S("<script>alert('x')</script>"), S("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")},
        {S("\" onmouseover=\"x"), S("&quot; onmouseover=&quot;x")},
        {S("&amp;"), S("&amp;amp;")}, /* no double-escape shortcut */
        {S("a&b"), S("a&amp;b")},
        {S("<<>>"), S("&lt;&lt;&gt;&gt;")},
        {S("张伟 /=`"), S("张伟 /=`")},
        {S("a\0<"), S("a\0&lt;")},
    };
    for (size_t i = 0; i < LEN(t); i++)
        check(sc_esc_html, &t[i]);
}

static void test_json(void **state)
{
    (void)state;
    static const struct esc_case t[] = {
        {S(""), S("")},
        {S("plain"), S("plain")},
        {S("\""), S("\\\"")},
        {S("\\"), S("\\\\")},
        {S("\n\r\t\b\f"), S("\\n\\r\\t\\b\\f")},
        {S("\x01\x1f\x0b"), S("\\u0001\\u001f\\u000b")},
        {S("\0"), S("\\u0000")},
        {S("\x7f"), S("\\u007f")},
        {S("</script><!--"), S("\\u003c/script\\u003e\\u003c!--")},
        {S("a&b"), S("a\\u0026b")},
        {S("'/"), S("'/")},
        {S("x\xe2\x80\xa8y\xe2\x80\xa9z"), S("x\\u2028y\\u2029z")},
        /* Other E2 80 xx characters pass: … (U+2026) and ‧ (U+2027). */
        {S("\xe2\x80\xa6\xe2\x80\xa7"), S("\xe2\x80\xa6\xe2\x80\xa7")},
        /* A cut-off character at the end is not read past: its bytes become U+FFFD. */
        {S("a\xe2\x80"), S("a\\ufffd\\ufffd")},
        {S("a\xe2"), S("a\\ufffd")},
        {S("张伟"), S("张伟")},
        {S("\xf0\x9f\x98\x80"), S("\xf0\x9f\x98\x80")}, /* U+1F600, four bytes */
        /* Whatever a store holds, the JSON is valid UTF-8: ill-formed bytes become U+FFFD. */
        {S("%\xff@example.org"), S("%\\ufffd@example.org")},
        {S("T\xff"), S("T\\ufffd")},
        {S("\xc0\xaf"), S("\\ufffd\\ufffd")},                       /* overlong '/' */
        {S("\xed\xa0\x80"), S("\\ufffd\\ufffd\\ufffd")},            /* a surrogate */
        {S("\xf4\x90\x80\x80"), S("\\ufffd\\ufffd\\ufffd\\ufffd")}, /* past U+10FFFF */
        {S("\x80张"), S("\\ufffd张")},                              /* a stray continuation byte */
    };
    for (size_t i = 0; i < LEN(t); i++)
        check(sc_esc_json, &t[i]);
}

static void test_utf8_repair(void **state)
{
    (void)state;
    static const struct esc_case t[] = {
        {S(""), S("")},
        {S("plain, \"quoted\"\n"), S("plain, \"quoted\"\n")},
        {S("张伟 \xf0\x9f\x98\x80"), S("张伟 \xf0\x9f\x98\x80")},
        {S("T\xff"), S("T\xef\xbf\xbd")},
        {S("a\xe5\xbc"), S("a\xef\xbf\xbd\xef\xbf\xbd")}, /* 张 cut short */
        {S("\xed\xa0\x80x"), S("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx")},
    };
    for (size_t i = 0; i < LEN(t); i++) {
        check(sc_utf8_repair, &t[i]);
        struct sc_buf b;
        sc_buf_init(&b, 0);
        sc_utf8_repair(&b, t[i].in, t[i].n);
        sc_buf_putc(&b, '\0');
        assert_true(sc_utf8_valid(b.data, b.len - 1));
        sc_buf_cleanup(&b);
    }
}

static void test_url_component(void **state)
{
    (void)state;
    static const struct esc_case t[] = {
        {S(""), S("")},
        {S("AZaz09-._~"), S("AZaz09-._~")},
        {S(" "), S("%20")},
        {S("a+b=c&d"), S("a%2Bb%3Dc%26d")},
        {S("/?#[]@!$'()*,;:%"), S("%2F%3F%23%5B%5D%40%21%24%27%28%29%2A%2C%3B%3A%25")},
        {S("\"<>\\^`{|}"), S("%22%3C%3E%5C%5E%60%7B%7C%7D")},
        {S("\0\n\x7f\xff"), S("%00%0A%7F%FF")},
        {S("张"), S("%E5%BC%A0")},
    };
    for (size_t i = 0; i < LEN(t); i++)
        check(sc_esc_url_component, &t[i]);
}

/* Every escaper writes through the buffer, so its cap and error hold. */
static void test_escapers_respect_buffer_cap(void **state)
{
    (void)state;
    static void (*const fns[])(struct sc_buf *, const char *, size_t) = {sc_esc_html, sc_esc_json,
                                                                         sc_esc_url_component};
    for (size_t i = 0; i < LEN(fns); i++) {
        struct sc_buf b;
        sc_buf_init(&b, 8);
        fns[i](&b, "<<<<<<<<", 8);
        assert_int_equal(sc_buf_error(&b), SC_ETOOBIG);
        assert_true(b.len <= 8);
        sc_buf_cleanup(&b);
    }
}

/* A long safe run is copied whole, and bytes around specials are kept. */
static void test_long_runs(void **state)
{
    (void)state;
    char in[5000], want[5000 + 4];
    memset(in, 'x', sizeof(in));
    in[2500] = '&';
    memcpy(want, in, 2500);
    memcpy(want + 2500, "&amp;", 5);
    memcpy(want + 2505, in + 2501, sizeof(in) - 2501);
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_esc_html(&b, in, sizeof(in));
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    sc_buf_cleanup(&b);
}

static void test_url_allowed(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        bool ok;
    } t[] = {
        {"https://example.com", true},
        {"HTTPS://Example.com/a?b=c#d", true},
        {"http://x.y", true},
        {"HtTp://x.y/", true},
        {"https://x.y:8443/p", true},
        {"https://[2001:db8::1]/", true},
        {"https://例子.中国/路径", true},
        {"mailto:a@b.c", true},
        {"MAILTO:a@b.c?subject=hi", true},
        {"tel:+8613800138000", true},
        {"TEL:+1-555-0100", true},
        {"javascript:alert(1)", false},
        {"JavaScript:alert(1)", false},
        {" javascript:alert(1)", false},
        {"java\tscript:alert(1)", false},
        {"javascript://example.com/%0aalert(1)", false},
        {"data:text/html,<b>", false},
        {"vbscript:x", false},
        {"file:///etc/passwd", false},
        {"ftp://x.y", false},
        {"//evil.com", false},
        {"/relative", false},
        {"relative/path", false},
        {"example.com", false},
        {"https", false},
        {"https:", false},
        {"https:/x.y", false},
        {"https:x.y", false},
        {"https:\\\\evil.com", false},
        {"https://", false},
        {"https:///path", false},
        {"https://?q", false},
        {"https://#f", false},
        {"https://:443/", false},
        {"https://\\evil.com", false},
        {"https://@evil", false},
        {"https://bank.example@evil.com/", false},
        {"https://x.y:80x/", false},
        {"https://[]/", false},
        {"https://[::1]x/", false},
        {"https://[::1/", false},
        {"https://a b", false},
        {"https://a\tb", false},
        {"https://a\nb", false},
        {"https://a\x7f", false},
        {"https://a.b/\x01", false},
        {"https://a.b ", false},
        {"mailto:", false},
        {"tel:", false},
        {"", false},
    };
    for (size_t i = 0; i < LEN(t); i++)
        if (sc_url_allowed(t[i].url) != t[i].ok)
            fail_msg("sc_url_allowed(\"%s\") should be %s", t[i].url, t[i].ok ? "true" : "false");
    assert_false(sc_url_allowed(NULL));
}

static void test_url_length_limit(void **state)
{
    (void)state;
    char url[2050];
    memset(url, 'a', sizeof(url));
    memcpy(url, "https://x.y/", 12);
    url[2048] = '\0'; /* 2048 bytes: the longest allowed */
    assert_true(sc_url_allowed(url));
    url[2048] = 'a';
    url[2049] = '\0'; /* 2049 bytes */
    assert_false(sc_url_allowed(url));
}

static void test_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t n;
        bool ok;
    } t[] = {
        {S(""), true},
        {S("abc"), true},
        {S("tab\tnl\ncr\r"), true},
        {S("张伟"), true},
        {S("\xc2\x80"), true},              /* U+0080, the first 2-byte */
        {S("\xdf\xbf"), true},              /* U+07FF */
        {S("\xe0\xa0\x80"), true},          /* U+0800, the first 3-byte */
        {S("\xed\x9f\xbf"), true},          /* U+D7FF, just below the surrogates */
        {S("\xee\x80\x80"), true},          /* U+E000, just above */
        {S("\xef\xbf\xbf"), true},          /* U+FFFF */
        {S("\xf0\x90\x80\x80"), true},      /* U+10000, the first 4-byte */
        {S("\xf0\x9f\x98\x80"), true},      /* 😀 */
        {S("\xf4\x8f\xbf\xbf"), true},      /* U+10FFFF, the last */
        {S("\xe2\x80\xa8"), true},          /* U+2028 is text */
        {S("\x7f"), false},                 /* DEL */
        {S("bell\x07"), false},             /* C0 control */
        {S("\x1b[31m"), false},             /* ESC */
        {S("a\0b"), false},                 /* NUL */
        {S("\x80"), false},                 /* lone continuation */
        {S("\xbf"), false},                 /* lone continuation */
        {S("\xc0\xaf"), false},             /* overlong '/' */
        {S("\xc1\xbf"), false},             /* overlong */
        {S("\xe0\x80\xaf"), false},         /* overlong '/' */
        {S("\xe0\x9f\xbf"), false},         /* overlong U+07FF */
        {S("\xf0\x80\x80\xaf"), false},     /* overlong '/' */
        {S("\xf0\x8f\xbf\xbf"), false},     /* overlong U+FFFF */
        {S("\xed\xa0\x80"), false},         /* U+D800 */
        {S("\xed\xbf\xbf"), false},         /* U+DFFF */
        {S("\xf4\x90\x80\x80"), false},     /* U+110000 */
        {S("\xf5\x80\x80\x80"), false},     /* lead byte past F4 */
        {S("\xf8\x88\x80\x80\x80"), false}, /* 5-byte form */
        {S("\xfe"), false},
        {S("\xff"), false},
        {S("\xe5\xbc"), false},         /* cut short */
        {S("\xf0\x9f\x98"), false},     /* cut short */
        {S("\xe5\x41\xa0"), false},     /* bad continuation */
        {S("\xf0\x9f\x41\x80"), false}, /* bad third byte */
        {S("\xc2\xc2\x80"), false},     /* lead where a continuation belongs */
    };
    for (size_t i = 0; i < LEN(t); i++) {
        char *s = exact_copy(t[i].s, t[i].n);
        if (sc_utf8_valid(s, t[i].n) != t[i].ok)
            fail_msg("case %zu: sc_utf8_valid should be %s", i, t[i].ok ? "true" : "false");
        free(s);
    }
}

/* Only the first 'n' bytes count: a bad byte past them is not looked at. */
static void test_utf8_honours_length(void **state)
{
    (void)state;
    assert_true(sc_utf8_valid("ab\x01", 2));
    assert_true(sc_utf8_valid("\xe5\xbc\xa0\xff", 3));
    assert_false(sc_utf8_valid("\xe5\xbc\xa0", 2)); /* cut by 'n' */
    assert_true(sc_utf8_valid(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_utf8_repair),
        cmocka_unit_test(test_url_component),
        cmocka_unit_test(test_escapers_respect_buffer_cap),
        cmocka_unit_test(test_long_runs),
        cmocka_unit_test(test_url_allowed),
        cmocka_unit_test(test_url_length_limit),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_utf8_honours_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
