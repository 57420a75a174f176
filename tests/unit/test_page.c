/*
 * test_page.c — the landing page and error pages: the embedded templates
 * compile, card fields come out escaped, unsafe links are dropped, and the
 * visitor's language picks our labels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sharecard/page.h"

#include "../../server/pages_int.h"

static struct sc_pages *pages;

static int setup(void **state)
{
    char err[256];
    pages = sc_pages_new(err, sizeof(err));
    return pages ? 0 : -1;
}

static int teardown(void **state)
{
    sc_pages_free(pages);
    return 0;
}

static void render(const struct sc_card *c, enum sc_lang lang, struct sc_buf *b)
{
    sc_buf_init(b, 0);
    sc_page_card(pages, c, lang, "https://cards.example.com", NULL, "csrf-token", b);
    assert_int_equal(sc_buf_error(b), SC_OK);
}

static void test_card_fields_and_links(void **state)
{
    struct sc_card c = {0};
    strcpy(c.slug, "ada");
    c.name = "Ada Lovelace";
    c.title = "Head of Sales";
    c.company = "Engines";
    c.phone = "+44 (20) 7946-0000";
    c.email = "ada@example.com";
    c.website = "https://ada.example.com/?a=1&b=2";
    c.wechat = "ada_l";
    struct sc_buf b;
    render(&c, SC_LANG_EN, &b);
    assert_non_null(strstr(b.data, "<h1 class=\"name\">Ada Lovelace</h1>"));
    assert_non_null(strstr(b.data, "href=\"tel:+442079460000\""));
    assert_non_null(strstr(b.data, "href=\"mailto:ada%40example.com\""));
    assert_non_null(strstr(b.data, "href=\"https://ada.example.com/?a=1&amp;b=2\""));
    assert_non_null(strstr(b.data, "content=\"https://cards.example.com/c/ada\""));
    assert_non_null(strstr(b.data, "Head of Sales · Engines"));
    assert_non_null(strstr(b.data, "Save contact"));
    assert_null(strstr(b.data, "{{"));
    sc_buf_cleanup(&b);
}

static void test_hostile_values(void **state)
{
    struct sc_card c = {0};
    strcpy(c.slug, "evil");
    c.name = "<script>alert(1)</script>";
    c.company = "\"><img src=x onerror=alert(1)>";
    c.website = "javascript:alert(1)";
    c.bio = "<b>x</b>";
    c.wechat = "a\" onclick=\"x";
    struct sc_buf b;
    render(&c, SC_LANG_EN, &b);
    assert_null(strstr(b.data, "<script>alert"));
    assert_null(strstr(b.data, "<img src=x"));
    assert_null(strstr(b.data, "javascript:"));
    assert_null(strstr(b.data, "<b>x</b>"));
    assert_null(strstr(b.data, "\" onclick=\""));
    assert_non_null(strstr(b.data, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    /* No website button at all when the link is refused. */
    assert_null(strstr(b.data, "data-action=\"website\""));
    sc_buf_cleanup(&b);
}

static void test_chinese_labels_and_initials(void **state)
{
    struct sc_card c = {0};
    strcpy(c.slug, "zw");
    c.name = "张伟";
    c.lang = SC_LANG_ZH;
    struct sc_buf b;
    render(&c, SC_LANG_ZH, &b);
    assert_non_null(strstr(b.data, "lang=\"zh-CN\""));
    assert_non_null(strstr(b.data, "保存到通讯录"));
    assert_non_null(strstr(b.data, "aria-hidden=\"true\">张</div>"));
    /* Sections for unset fields vanish. */
    assert_null(strstr(b.data, "class=\"job\""));
    assert_null(strstr(b.data, "data-action=\"call\""));
    sc_buf_cleanup(&b);
}

static void test_error_page(void **state)
{
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_page_error(pages, 404, "No <card> here.", SC_LANG_EN, &b);
    assert_non_null(strstr(b.data, "404"));
    assert_non_null(strstr(b.data, "Not found"));
    assert_non_null(strstr(b.data, "No &lt;card&gt; here."));
    sc_buf_reset(&b);
    sc_page_error(pages, 413, "big", SC_LANG_ZH, &b);
    assert_non_null(strstr(b.data, "请求过大"));
    sc_buf_cleanup(&b);
}

/* The lists' ISO 8601 times, computed by hand, agree with the C library's calendar. */
static void test_iso_time_matches_gmtime(void **state)
{
    (void)state;
    const int64_t fixed[] = {0,          -1,           86399,        86400,
                             951782400,  951868799,    4107542399,   4107542400,
                             1767571200, 253402300799, -30610224000, -2208988800,
                             1709164800, 1709251199,   68256000000};
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 200000; i++) {
        int64_t t;
        if (i < (int)(sizeof(fixed) / sizeof(fixed[0]))) {
            t = fixed[i];
        } else { /* xorshift: times from 1900 to 2200 */
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t = -2208988800LL + (int64_t)(x % 9467280000ULL);
        }
        time_t tt = (time_t)t;
        struct tm tm;
        char want[32] = "", got[32];
        assert_non_null(gmtime_r(&tt, &tm));
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
        sc_ui_iso_time(t, got);
        assert_string_equal(got, want);
    }
}

/* Whole numbers as the lists write them. */
static void test_int_matches_printf(void **state)
{
    (void)state;
    const int64_t v[] = {0, 1, -1, 9, 10, 99, 100, 1234567890, INT64_MAX, INT64_MIN, -42};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct sc_buf b;
        char want[32];
        sc_buf_init(&b, 64);
        sc_ui_int(&b, v[i]);
        sc_buf_putc(&b, '\0');
        snprintf(want, sizeof(want), "%lld", (long long)v[i]);
        assert_string_equal(b.data, want);
        sc_buf_cleanup(&b);
    }
}

static void test_csp_has_no_inline_script(void **state)
{
    const char *csp = sc_pages_csp(pages);
    assert_non_null(strstr(csp, "script-src 'self'"));
    assert_null(strstr(csp, "script-src 'self' 'unsafe-inline'"));
    assert_non_null(strstr(csp, "frame-ancestors 'self'")); /* the editor's preview only */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_card_fields_and_links),
        cmocka_unit_test(test_hostile_values),
        cmocka_unit_test(test_chinese_labels_and_initials),
        cmocka_unit_test(test_error_page),
        cmocka_unit_test(test_csp_has_no_inline_script),
        cmocka_unit_test(test_iso_time_matches_gmtime),
        cmocka_unit_test(test_int_matches_printf),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
