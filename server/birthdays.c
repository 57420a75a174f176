/*
 * birthdays.c — customers' birthdays in the service (issue 14, 生日关怀):
 * the birthdays of a scope's customers, read once per list, and which fall
 * in "this week" — the seven days from today in the deployment's calendar
 * (SHARECARD_TZ, sc_customers_day), across month and year ends.  The rule
 * is intel/'s (sc_birthday_next); /api/v1/customers and /customers use it
 * through here (customers.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "customers_int.h"
#include "sharecard/customers.h"

struct bday {
    int64_t id;
    struct sc_birthday b;
};

struct sc_bdays {
    struct bday *a; /* by customer id, as the store gives them */
    size_t n, cap;
    bool oom;
};

static int take(int64_t id, int year, int month, int day, void *ctx)
{
    struct sc_bdays *d = ctx;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 64;
        void *p = realloc(d->a, cap * sizeof(*d->a));
        if (!p) {
            d->oom = true;
            return 1;
        }
        d->a = p;
        d->cap = cap;
    }
    d->a[d->n++] = (struct bday){id, {year, month, day}};
    return 0;
}

enum sc_err sc_bdays_load(struct sc_store *s, const struct sc_scope *scope, struct sc_bdays **out)
{
    struct sc_bdays *d = calloc(1, sizeof(*d));
    *out = NULL;
    if (!d)
        return SC_ENOMEM;
    enum sc_err e = sc_store_birthdays(s, scope, take, d);
    if (e == SC_OK && d->oom)
        e = SC_ENOMEM;
    if (e != SC_OK) {
        sc_bdays_free(d);
        return e;
    }
    *out = d;
    return SC_OK;
}

void sc_bdays_free(struct sc_bdays *d)
{
    if (!d)
        return;
    free(d->a);
    free(d);
}

bool sc_bdays_of(const struct sc_bdays *d, int64_t id, int32_t today, char text[11], int32_t *on,
                 bool *this_week)
{
    text[0] = '\0';
    *this_week = false;
    if (!d)
        return false;
    size_t lo = 0, hi = d->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->a[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == d->n || d->a[lo].id != id)
        return false;
    const struct sc_birthday *b = &d->a[lo].b;
    unsigned y = (unsigned)b->year % 10000u, m = (unsigned)b->month % 100u,
             dd = (unsigned)b->day % 100u;
    if (y)
        snprintf(text, 11, "%04u-%02u-%02u", y, m, dd);
    else
        snprintf(text, 11, "%02u-%02u", m, dd);
    *this_week = sc_birthday_next(b, today, SC_BIRTHDAY_WEEK_DAYS, on);
    return true;
}
