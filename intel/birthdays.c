/*
 * birthdays.c — customers' birthdays (the seeds' 生日关怀): a birthday as
 * given at sign-up, checked strictly ("02-30" is refused, with why), and
 * whether it falls in a window of days (the next seven for "birthdays this
 * week"), across month and year ends.  A 29 February birthday is kept on
 * 28 February in years without one.  Pure: days are day numbers in the
 * deployment's calendar, as everywhere in customers.h.
 */
#include <string.h>

#include "sharecard/customers.h"

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int n[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : n[m - 1];
}

/* 'n' digits at 's' as a number into '*out'; false unless all are digits. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

enum sc_err sc_birthday_parse(const char *s, int32_t today, struct sc_birthday *out,
                              const char **why)
{
    memset(out, 0, sizeof(*out));
    size_t n = s ? strlen(s) : 0;
    int y = 0, m = 0, d = 0;
    const char *md = s;
    *why = "birthday must be written MM-DD or YYYY-MM-DD.";
    if (n == 10) {
        if (!digits(s, 4, &y) || s[4] != '-')
            return SC_EINVAL;
        md = s + 5;
    } else if (n != 5) {
        return SC_EINVAL;
    }
    if (!digits(md, 2, &m) || md[2] != '-' || !digits(md + 3, 2, &d))
        return SC_EINVAL;
    if (m < 1 || m > 12) {
        *why = "birthday: there is no such month.";
        return SC_EINVAL;
    }
    /* Without a year, 29 February is a day that exists. */
    if (d < 1 || d > (y ? month_days(y, m) : month_days(2000, m))) {
        *why = "birthday: that month has no such day.";
        return SC_EINVAL;
    }
    if (y) {
        if (y < 1900 || sc_ret_days_from_civil(y, m, d) > today) {
            *why = "birthday: the year must be from 1900 and the date not in the future.";
            return SC_EINVAL;
        }
    }
    out->year = y;
    out->month = m;
    out->day = d;
    *why = NULL;
    return SC_OK;
}

bool sc_birthday_next(const struct sc_birthday *b, int32_t from, int ndays, int32_t *on)
{
    if (b->month < 1 || b->month > 12 || b->day < 1 || ndays < 1)
        return false;
    int y, m, d;
    sc_ret_civil_from_days(from, &y, &m, &d);
    /* This year's or next year's: a window of at most a year meets one of them. */
    for (int k = 0; k < 2; k++) {
        int yy = y + k, dd = b->day;
        if (dd > month_days(yy, b->month))
            dd = month_days(yy, b->month); /* 29 February → 28 February */
        int32_t day = sc_ret_days_from_civil(yy, b->month, dd);
        if (day >= from && day < from + ndays) {
            if (on)
                *on = day;
            return true;
        }
    }
    return false;
}
