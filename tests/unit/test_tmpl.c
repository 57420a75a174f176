/*
 * test_tmpl.c — the template engine: escaping by value kind, sections, and
 * compile-time errors for unknown names and broken sections.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sharecard/tmpl.h"

static const char *const vars[] = {"name", "url", "raw", "flag"};

static char *render(const char *src, const struct sc_tval *v)
{
    static char out[1024];
    char err[128];
    struct sc_tmpl *t = sc_tmpl_compile(src, vars, 4, err, sizeof(err));
    assert_non_null(t);
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_tmpl_render(t, v, &b);
    assert_int_equal(sc_buf_error(&b), SC_OK);
    snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
    sc_buf_cleanup(&b);
    sc_tmpl_free(t);
    return out;
}

static void test_escaping_by_kind(void **state)
{
    struct sc_tval v[4] = {{"<b>&\"'", SC_TV_TEXT},
                           {"javascript:alert(1)", SC_TV_URL},
                           {"<i>ok</i>", SC_TV_TRUSTED},
                           {NULL, SC_TV_TEXT}};
    assert_string_equal(render("[{{name}}]", v), "[&lt;b&gt;&amp;&quot;&#39;]");
    assert_string_equal(render("[{{url}}]", v), "[]");
    assert_string_equal(render("[{{#url}}<a href=\"{{url}}\">{{/url}}]", v), "[]");
    assert_string_equal(render("[{{raw}}]", v), "[<i>ok</i>]");
    v[1].s = "https://x.example/?a=1&b=2";
    assert_string_equal(render("<a href=\"{{ url }}\">", v),
                        "<a href=\"https://x.example/?a=1&amp;b=2\">");
}

static void test_sections(void **state)
{
    struct sc_tval v[4] = {
        {"Ada", SC_TV_TEXT}, {NULL, SC_TV_URL}, {"", SC_TV_TRUSTED}, {"yes", SC_TV_TEXT}};
    assert_string_equal(render("{{#flag}}F{{#name}}N{{/name}}{{/flag}}", v), "FN");
    assert_string_equal(render("{{^flag}}no{{/flag}}{{^raw}}empty{{/raw}}", v), "empty");
    assert_string_equal(render("a{{#url}}x{{^name}}y{{/name}}{{/url}}b", v), "ab");
    v[3].s = "";
    assert_string_equal(render("{{#flag}}F{{/flag}}{{^flag}}-{{/flag}}", v), "-");
    assert_string_equal(render("no tags at all", v), "no tags at all");
}

static void test_compile_errors(void **state)
{
    static const struct {
        const char *src, *needle;
    } t[] = {
        {"{{nmae}}", "unknown variable 'nmae'"},
        {"line1\nline2 {{#name}}", "never closed"},
        {"{{/name}}", "closes no open section"},
        {"{{#name}}{{/flag}}", "closes no open section"},
        {"a\nb\n{{name", "line 3"},
        {"{{}}", "empty tag"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char err[128] = "";
        struct sc_tmpl *tm = sc_tmpl_compile(t[i].src, vars, 4, err, sizeof(err));
        assert_null(tm);
        assert_non_null(strstr(err, t[i].needle));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping_by_kind),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_compile_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
