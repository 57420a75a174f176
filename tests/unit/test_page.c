/*
 * test_page.c — the landing page and error pages: the embedded templates
 * compile, card fields come out escaped, unsafe links are dropped, and the
 * visitor's language picks our labels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sharecard/page.h"

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
        cmocka_unit_test(test_card_fields_and_links),       cmocka_unit_test(test_hostile_values),
        cmocka_unit_test(test_chinese_labels_and_initials), cmocka_unit_test(test_error_page),
        cmocka_unit_test(test_csp_has_no_inline_script),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
