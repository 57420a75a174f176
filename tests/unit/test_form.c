/*
 * test_form.c — urlencoded form fields: decoding, absent and empty fields,
 * broken escapes and NUL bytes refused, values too long for the buffer.
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
