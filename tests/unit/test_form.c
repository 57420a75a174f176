/*
 * test_form.c — urlencoded form fields: decoding, absent and empty fields,
 * broken escapes and NUL bytes refused, values too long for the buffer;
 * the text check every body passes (sc_form_check_text) and the field it names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sharecard/form.h"

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

static void test_check_text(void **state)
{
    (void)state;
    char bad[32];
    static const struct {
        const char *body, *bad;
    } t[] = {
        {"name=%E5%BC%A0+%E4%BC%9F&bio=two%0Alines%09tab&csrf=x", ""},
        {"csrf=x&email=%FF@example.org", "email"},
        {"name=Tee&team=%FF", "team"},
        {"team=T%C3", "team"},  /* cut short */
        {"name=a%00b", "name"}, /* NUL */
        {"name=a%01b", "name"}, /* a control */
        {"x=%ED%A0%80", "x"},   /* a surrogate */
        {"x=%C0%AF", "x"},      /* overlong '/' */
        {"%FF=1", "(a name that is not text)"},
        {"bad=%zz&a=%4&=&&", ""},    /* broken escapes are sc_form_get()'s to refuse */
        {"ok=1&later=%7F", "later"}, /* DEL */
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(sc_form_check_text(t[i].body, strlen(t[i].body), bad, sizeof(bad)), SC_OK);
        assert_string_equal(bad, t[i].bad);
    }
    /* A name longer than the room for it is not cut in two: the placeholder instead. */
    char small[4];
    assert_int_equal(sc_form_check_text("long=%FF", 8, small, sizeof(small)), SC_OK);
    assert_int_equal(strlen(small), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form),
        cmocka_unit_test(test_check_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
