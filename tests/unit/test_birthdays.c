/*
 * test_birthdays.c — birthdays (intel/birthdays.c): strict parsing with the
 * reason (02-30 never, 02-29 only without a year or in a leap year, no
 * future year), and the window of "birthdays this week" across month and
 * year ends, 29 February kept on the 28th in other years.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sharecard/customers.h"

#define DAY(y, m, d) sc_ret_days_from_civil(y, m, d)

static void test_parse(void **state)
{
    (void)state;
    int32_t today = DAY(2026, 12, 3);
    struct sc_birthday b;
    const char *why;
    assert_int_equal(sc_birthday_parse("03-07", today, &b, &why), SC_OK);
    assert_int_equal(b.year, 0);
    assert_int_equal(b.month, 3);
    assert_int_equal(b.day, 7);
    assert_null(why);
    assert_int_equal(sc_birthday_parse("1990-12-31", today, &b, &why), SC_OK);
    assert_int_equal(b.year, 1990);
    assert_int_equal(sc_birthday_parse("02-29", today, &b, &why), SC_OK);      /* no year */
    assert_int_equal(sc_birthday_parse("2000-02-29", today, &b, &why), SC_OK); /* leap */
    static const struct {
        const char *in, *why;
    } bad[] = {
        {"02-30", "birthday: that month has no such day."},
        {"04-31", "birthday: that month has no such day."},
        {"1999-02-29", "birthday: that month has no such day."},
        {"1900-02-29", "birthday: that month has no such day."},
        {"13-01", "birthday: there is no such month."},
        {"00-10", "birthday: there is no such month."},
        {"01-00", "birthday: that month has no such day."},
        {"2027-01-01", "birthday: the year must be from 1900 and the date not in the future."},
        {"1899-05-05", "birthday: the year must be from 1900 and the date not in the future."},
        {"3-7", "birthday must be written MM-DD or YYYY-MM-DD."},
        {"03/07", "birthday must be written MM-DD or YYYY-MM-DD."},
        {"+3-07", "birthday must be written MM-DD or YYYY-MM-DD."},
        {"1990-3-07", "birthday must be written MM-DD or YYYY-MM-DD."},
        {"03-07 ", "birthday must be written MM-DD or YYYY-MM-DD."},
        {"", "birthday must be written MM-DD or YYYY-MM-DD."},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sc_birthday_parse(bad[i].in, today, &b, &why), SC_EINVAL);
        assert_string_equal(why, bad[i].why);
        assert_int_equal(b.month, 0);
    }
}

static void test_window(void **state)
{
    (void)state;
    struct sc_birthday b = {0, 1, 2};
    int32_t on = 0;
    /* 29 December: the week runs to 4 January of the next year. */
    assert_true(sc_birthday_next(&b, DAY(2026, 12, 29), 7, &on));
    assert_int_equal(on, DAY(2027, 1, 2));
    b = (struct sc_birthday){0, 1, 5};
    assert_false(sc_birthday_next(&b, DAY(2026, 12, 29), 7, NULL));
    b = (struct sc_birthday){1980, 12, 29};
    assert_true(sc_birthday_next(&b, DAY(2026, 12, 29), 7, &on)); /* today counts */
    assert_int_equal(on, DAY(2026, 12, 29));
    b = (struct sc_birthday){0, 12, 28};
    assert_false(sc_birthday_next(&b, DAY(2026, 12, 29), 7, NULL)); /* yesterday: next year */
    /* Across a month end: 28 January → 3 February. */
    b = (struct sc_birthday){0, 2, 3};
    assert_true(sc_birthday_next(&b, DAY(2027, 1, 28), 7, &on));
    assert_int_equal(on, DAY(2027, 2, 3));
    b = (struct sc_birthday){0, 2, 4};
    assert_false(sc_birthday_next(&b, DAY(2027, 1, 28), 7, NULL));
    /* 29 February: on the 28th in 2027, on the 29th in 2028. */
    b = (struct sc_birthday){0, 2, 29};
    assert_true(sc_birthday_next(&b, DAY(2027, 2, 25), 7, &on));
    assert_int_equal(on, DAY(2027, 2, 28));
    assert_true(sc_birthday_next(&b, DAY(2028, 2, 25), 7, &on));
    assert_int_equal(on, DAY(2028, 2, 29));
    b = (struct sc_birthday){0, 0, 0};
    assert_false(sc_birthday_next(&b, DAY(2028, 2, 25), 7, NULL)); /* none given */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
