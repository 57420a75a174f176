/*
 * test_tmpl.c — the template engine: output escaped by value kind, links
 * allow-listed, sections, and the compile errors (with their line) that stop
 * a broken template at start-up.
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
#include "sharecard/tmpl.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

enum { V_NAME, V_URL, V_RAW, V_FLAG, V_COUNT };
static const char *const vars[V_COUNT] = {"name", "url", "raw", "flag"};

/* Compiles 'src' against 'vars', failing the test with the error if it does not. */
static struct sc_tmpl *compile(const char *src)
{
    char err[256] = "";
    struct sc_tmpl *t = sc_tmpl_compile(src, vars, V_COUNT, err, sizeof(err));
    if (!t)
        fail_msg("'%s' did not compile: %s", src, err);
    return t;
}

/* Compiles and renders 'src' with 'v'; the output is the test's until the next call. */
static const char *render(const char *src, const struct sc_tval *v)
{
    static char out[2048];
    struct sc_tmpl *t = compile(src);
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_tmpl_render(t, v, &b);
    assert_int_equal(sc_buf_error(&b), SC_OK);
    assert_true(b.len < sizeof(out));
    memcpy(out, b.data ? b.data : "", b.len + 1);
    sc_buf_cleanup(&b);
    sc_tmpl_free(t);
    return out;
}

static void test_literals(void **state)
{
    (void)state;
    static const struct sc_tval v[V_COUNT] = {{"x", SC_TV_TEXT}};
    assert_string_equal(render("", v), "");
    assert_string_equal(render("no tags at all", v), "no tags at all");
    /* Braces that are not a tag, and markup in the template, pass untouched. */
    assert_string_equal(render("a { b } c }} d {", v), "a { b } c }} d {");
    assert_string_equal(render("<p class=\"x\">&amp;</p>", v), "<p class=\"x\">&amp;</p>");
    assert_string_equal(render("line1\nline2\n", v), "line1\nline2\n");
}

static void test_values_by_kind(void **state)
{
    (void)state;
    static const struct {
        struct sc_tval v;
        const char *want; /* "[{{name}}]" with 'v' as name */
    } t[] = {
        {{"Ada", SC_TV_TEXT}, "[Ada]"},
        {{"<b>&\"'", SC_TV_TEXT}, "[&lt;b&gt;&amp;&quot;&#39;]"},
        {{"<i>ok</i>", SC_TV_TRUSTED}, "[<i>ok</i>]"},
        {{"https://x.example/?a=1&b=\"2\"", SC_TV_URL},
         "[https://x.example/?a=1&amp;b=&quot;2&quot;]"},
        {{"javascript:alert(1)", SC_TV_URL}, "[]"},
        {{" https://x.example", SC_TV_URL}, "[]"},
        {{"//evil.example", SC_TV_URL}, "[]"},
        {{"tel:+1555", SC_TV_URL}, "[tel:+1555]"},
        {{NULL, SC_TV_TEXT}, "[]"},
        {{"", SC_TV_TEXT}, "[]"},
        {{NULL, SC_TV_TRUSTED}, "[]"},
        /* A value is never parsed as a template. */
        {{"{{name}}{{#flag}}", SC_TV_TEXT}, "[{{name}}{{#flag}}]"},
        {{"{{url}}", SC_TV_TRUSTED}, "[{{url}}]"},
    };
    for (size_t i = 0; i < LEN(t); i++) {
        struct sc_tval v[V_COUNT] = {t[i].v};
        const char *got = render("[{{name}}]", v);
        if (strcmp(got, t[i].want) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, got, t[i].want);
    }
}

static void test_whitespace_in_tags(void **state)
{
    (void)state;
    static const struct sc_tval v[V_COUNT] = {
        {"Ada", SC_TV_TEXT}, {NULL, SC_TV_URL}, {NULL, SC_TV_TRUSTED}, {"y", SC_TV_TEXT}};
    static const char *const srcs[] = {
        "{{name}}{{#flag}}!{{/flag}}",
        "{{ name }}{{ #flag }}!{{ /flag }}",
        "{{\tname\t}}{{# flag}}!{{/ flag}}",
        "{{\n  name\n}}{{ # flag }}!{{ / flag }}",
    };
    for (size_t i = 0; i < LEN(srcs); i++)
        assert_string_equal(render(srcs[i], v), "Ada!");
}

static void test_sections(void **state)
{
    (void)state;
    struct sc_tval v[V_COUNT] = {
        {"Ada", SC_TV_TEXT}, {NULL, SC_TV_URL}, {"", SC_TV_TRUSTED}, {"yes", SC_TV_TEXT}};
    static const struct {
        const char *src, *want;
    } t[] = {
        {"{{#flag}}F{{/flag}}", "F"},
        {"{{^flag}}F{{/flag}}", ""},
        {"{{#url}}U{{/url}}", ""}, /* NULL */
        {"{{^url}}no link{{/url}}", "no link"},
        {"{{#raw}}R{{/raw}}", ""}, /* empty */
        {"{{^raw}}empty{{/raw}}", "empty"},
        {"a{{#flag}}b{{#name}}c{{/name}}d{{/flag}}e", "abcde"},
        {"a{{#url}}b{{#name}}c{{/name}}d{{/url}}e", "ae"},
        {"a{{#url}}x{{^name}}y{{/name}}{{/url}}b", "ab"},
        {"{{#flag}}{{^url}}{{name}}{{/url}}{{/flag}}", "Ada"},
        {"{{#flag}}1{{/flag}}{{#flag}}2{{/flag}}{{^flag}}3{{/flag}}", "12"},
        {"{{#name}}{{#name}}{{name}}{{/name}}{{/name}}", "Ada"}, /* same name nested */
        {"{{#flag}}{{/flag}}after", "after"},                    /* empty section */
        {"<ul>{{#flag}}\n<li>{{name}}</li>\n{{/flag}}</ul>", "<ul>\n<li>Ada</li>\n</ul>"},
    };
    for (size_t i = 0; i < LEN(t); i++) {
        const char *got = render(t[i].src, v);
        if (strcmp(got, t[i].want) != 0)
            fail_msg("'%s': got '%s', want '%s'", t[i].src, got, t[i].want);
    }
    /* The same template flips when the value does. */
    v[V_FLAG].s = "";
    assert_string_equal(render("{{#flag}}F{{/flag}}{{^flag}}-{{/flag}}", v), "-");
    v[V_FLAG].s = NULL;
    assert_string_equal(render("{{#flag}}F{{/flag}}{{^flag}}-{{/flag}}", v), "-");
}

/* A refused link is unset for sections too, so its <a> is never opened. */
static void test_url_sections(void **state)
{
    (void)state;
    const char *src = "{{#url}}<a href=\"{{url}}\">go</a>{{/url}}{{^url}}none{{/url}}";
    struct sc_tval v[V_COUNT] = {[V_URL] = {"javascript:alert(1)", SC_TV_URL}};
    assert_string_equal(render(src, v), "none");
    v[V_URL].s = "data:text/html,x";
    assert_string_equal(render(src, v), "none");
    v[V_URL].s = "https://ok.example/?q=<1>";
    assert_string_equal(render(src, v), "<a href=\"https://ok.example/?q=&lt;1&gt;\">go</a>");
    /* The same string as TEXT is set (it is only text), and escaped. */
    v[V_URL] = (struct sc_tval){"javascript:x", SC_TV_TEXT};
    assert_string_equal(render("{{#url}}[{{url}}]{{/url}}", v), "[javascript:x]");
}

static void test_nesting_limit(void **state)
{
    (void)state;
    static const struct sc_tval v[V_COUNT] = {[V_FLAG] = {"y", SC_TV_TEXT}};
    char src[1024];
    struct sc_buf b;
    sc_buf_init_on(&b, src, sizeof(src), 0);
    for (int i = 0; i < 16; i++)
        sc_buf_puts(&b, "{{#flag}}");
    sc_buf_puts(&b, "deep");
    for (int i = 0; i < 16; i++)
        sc_buf_puts(&b, "{{/flag}}");
    assert_int_equal(sc_buf_error(&b), SC_OK);
    assert_ptr_equal(b.data, src);
    assert_string_equal(render(src, v), "deep"); /* 16 deep compiles */

    sc_buf_reset(&b);
    for (int i = 0; i < 17; i++)
        sc_buf_puts(&b, "{{#flag}}");
    for (int i = 0; i < 17; i++)
        sc_buf_puts(&b, "{{/flag}}");
    char err[128] = "";
    assert_null(sc_tmpl_compile(src, vars, V_COUNT, err, sizeof(err)));
    assert_non_null(strstr(err, "deeper"));
    sc_buf_cleanup(&b);
}

static void test_compile_errors(void **state)
{
    (void)state;
    static const struct {
        const char *src;
        const char *want1, *want2; /* both must be in the message */
    } t[] = {
        {"{{nmae}}", "line 1", "unknown variable 'nmae'"},
        {"ok\n{{ Name }}", "line 2", "unknown variable 'Name'"},
        {"{{{name}}}", "line 1", "unknown variable '{name'"},
        {"{{&name}}", "line 1", "unknown variable '&name'"},
        {"{{na me}}", "line 1", "unknown variable 'na me'"},
        {"{{nam}}", "line 1", "unknown variable 'nam'"},     /* a prefix is not a name */
        {"{{names}}", "line 1", "unknown variable 'names'"}, /* nor is a longer one */
        {"{{#nope}}{{/nope}}", "line 1", "'nope'"},
        {"a\nb\nc {{#name}}\nd\n", "line 3", "'name' is never closed"},
        {"{{#flag}}\n{{#name}}\n{{/name}}", "line 1", "'flag' is never closed"},
        {"x\n{{/name}}", "line 2", "closes no open section"},
        {"{{#name}}\n\n{{/flag}}", "line 3", "open since line 1"},
        {"{{#name}}{{^flag}}{{/name}}{{/flag}}", "line 1", "does not close 'flag'"},
        {"a\nb\n{{name", "line 3", "never closed"},
        {"a\nb\n{{name}\n}", "line 3", "never closed"},
        {"{{", "line 1", "never closed"},
        {"{{name}}{{", "line 1", "never closed"},
        {"{{}}", "line 1", "empty tag"},
        {"\n{{  }}", "line 2", "empty tag"},
        {"{{#}}", "line 1", "empty tag"},
        {"{{/}}", "line 1", "empty tag"},
        /* A tag spanning lines is reported where it starts. */
        {"\n{{\nnope\n}}", "line 2", "unknown variable 'nope'"},
        /* Lines after a multi-line tag are counted on. */
        {"{{\nname\n}}\n{{bad}}", "line 4", "'bad'"},
    };
    for (size_t i = 0; i < LEN(t); i++) {
        char err[256] = "";
        struct sc_tmpl *tm = sc_tmpl_compile(t[i].src, vars, V_COUNT, err, sizeof(err));
        if (tm) {
            sc_tmpl_free(tm);
            fail_msg("'%s' compiled; it must not", t[i].src);
        }
        if (!strstr(err, t[i].want1) || !strstr(err, t[i].want2))
            fail_msg("'%s': error '%s' lacks '%s' or '%s'", t[i].src, err, t[i].want1, t[i].want2);
    }
}

/* The error goes into however many bytes the caller gave, or nowhere. */
static void test_error_buffer(void **state)
{
    (void)state;
    char err[8];
    memset(err, 'X', sizeof(err));
    assert_null(sc_tmpl_compile("{{bad}}", vars, V_COUNT, err, 5));
    assert_string_equal(err, "line");
    assert_int_equal(err[5], 'X');
    assert_null(sc_tmpl_compile("{{bad}}", vars, V_COUNT, NULL, 0));
    /* No names at all: any tag is unknown, plain text still compiles. */
    assert_null(sc_tmpl_compile("{{name}}", NULL, 0, err, sizeof(err)));
    struct sc_tmpl *t = sc_tmpl_compile("plain", NULL, 0, err, sizeof(err));
    assert_non_null(t);
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_tmpl_render(t, NULL, &b);
    assert_string_equal(b.data, "plain");
    sc_buf_cleanup(&b);
    sc_tmpl_free(t);
    sc_tmpl_free(NULL);
}

/* The template keeps its own copy: the caller may free or change the source. */
static void test_source_is_copied(void **state)
{
    (void)state;
    char *src = strdup("hello {{name}}!");
    assert_non_null(src);
    struct sc_tmpl *t = compile(src);
    memset(src, '#', strlen(src));
    free(src);
    static const struct sc_tval v[V_COUNT] = {{"Ada", SC_TV_TEXT}};
    struct sc_buf b;
    sc_buf_init(&b, 0);
    sc_tmpl_render(t, v, &b);
    assert_string_equal(b.data, "hello Ada!");
    sc_buf_cleanup(&b);
    sc_tmpl_free(t);
}

/* Render appends to 'out', can be run again with other values, and obeys the cap. */
static void test_render_into_buffer(void **state)
{
    (void)state;
    struct sc_tmpl *t = compile("<h1>{{name}}</h1>{{#flag}}<p>{{raw}}</p>{{/flag}}");
    char stack[256];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 0);
    sc_buf_puts(&b, "<!doctype html>");
    struct sc_tval v[V_COUNT] = {
        {"A&B", SC_TV_TEXT}, {NULL, SC_TV_URL}, {"<em>x</em>", SC_TV_TRUSTED}, {"1", SC_TV_TEXT}};
    sc_tmpl_render(t, v, &b);
    assert_string_equal(b.data, "<!doctype html><h1>A&amp;B</h1><p><em>x</em></p>");
    assert_ptr_equal(b.data, stack); /* fits: rendering needed no heap at all */

    sc_buf_reset(&b);
    v[V_NAME].s = "C";
    v[V_FLAG].s = NULL;
    sc_tmpl_render(t, v, &b);
    assert_string_equal(b.data, "<h1>C</h1>");
    sc_buf_cleanup(&b);

    sc_buf_init(&b, 10);
    v[V_NAME].s = "a long name that does not fit";
    sc_tmpl_render(t, v, &b);
    assert_int_equal(sc_buf_error(&b), SC_ETOOBIG);
    assert_true(b.len <= 10);
    sc_buf_cleanup(&b);
    sc_tmpl_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals),           cmocka_unit_test(test_values_by_kind),
        cmocka_unit_test(test_whitespace_in_tags), cmocka_unit_test(test_sections),
        cmocka_unit_test(test_url_sections),       cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_compile_errors),     cmocka_unit_test(test_error_buffer),
        cmocka_unit_test(test_source_is_copied),   cmocka_unit_test(test_render_into_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
