/*
 * tiers.c — loyalty tiers: the configured list "silver:1000,gold:5000"
 * (or "普通:0,银卡:1000,金卡:5000")
 * parsed strictly (an operator's typo must be an error naming the place,
 * not a tier that silently never matches) and the tier a cumulative spend
 * or points balance reaches.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sharecard/customers.h"
#include "sharecard/escape.h"

#define THRESHOLD_MAX 1e12

static enum sc_err fail(struct sc_tiers *out, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum sc_err fail(struct sc_tiers *out, char *err, size_t errlen, const char *fmt, ...)
{
    out->n = 0;
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return SC_EINVAL;
}

/* ASCII a-z, 0-9, '_', '-', or any byte of a multi-byte UTF-8 character
 * (names such as 银卡, as DESIGN.md's example has them; checked as UTF-8 once
 * the name is read). */
static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           (unsigned char)c >= 0x80;
}

/* Parses the decimal at 's' (digits, optionally '.' and 1–2 digits) up to
 * ',' or the end; '*end' gets where it stopped.  False if malformed. */
static bool parse_amount(const char *s, double *v, const char **end)
{
    double whole = 0, frac = 0, scale = 1;
    const char *p = s;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        whole = whole * 10 + (*p - '0');
        digits++;
        p++;
        if (digits > 13) /* 1e12 has 13 digits */
            return false;
    }
    if (digits == 0)
        return false;
    if (*p == '.') {
        p++;
        int fd = 0;
        while (*p >= '0' && *p <= '9') {
            if (++fd > 2)
                return false;
            scale /= 10;
            frac += (*p - '0') * scale;
            p++;
        }
        if (fd == 0)
            return false;
    }
    if (*p != ',' && *p != '\0')
        return false;
    *v = whole + frac;
    *end = p;
    return true;
}

enum sc_err sc_tier_parse(const char *spec, struct sc_tiers *out, char *err, size_t errlen)
{
    const char *p = spec;
    memset(out, 0, sizeof(*out));
    if (err && errlen)
        err[0] = '\0';
    if (!spec || !*spec)
        return SC_OK;
    for (size_t i = 1;; i++) {
        const char *name = p;
        while (name_char(*p))
            p++;
        size_t len = (size_t)(p - name);
        if (len == 0)
            return fail(out, err, errlen,
                        "tier %zu: a name of a-z, 0-9, '_', '-' or non-ASCII letters expected", i);
        if (!sc_utf8_valid(name, len))
            return fail(out, err, errlen, "tier %zu: the name is not valid UTF-8", i);
        if (len > SC_TIER_NAME_MAX)
            return fail(out, err, errlen, "tier %zu: name longer than %d characters", i,
                        SC_TIER_NAME_MAX);
        if (*p != ':')
            return fail(out, err, errlen, "tier %zu (%.*s): ':' and a threshold expected", i,
                        (int)len, name);
        p++;
        double v;
        const char *end;
        if (!parse_amount(p, &v, &end))
            return fail(out, err, errlen,
                        "tier %zu (%.*s): threshold must be a plain non-negative number "
                        "with at most 2 decimals",
                        i, (int)len, name);
        if (v > THRESHOLD_MAX)
            return fail(out, err, errlen, "tier %zu (%.*s): threshold above 1e12", i, (int)len,
                        name);
        if (out->n == SC_TIERS_MAX)
            return fail(out, err, errlen, "more than %d tiers", SC_TIERS_MAX);
        for (size_t k = 0; k < out->n; k++)
            if (strlen(out->tier[k].name) == len && memcmp(out->tier[k].name, name, len) == 0)
                return fail(out, err, errlen, "tier %zu: name '%.*s' repeats", i, (int)len, name);
        if (out->n > 0 && v <= out->tier[out->n - 1].threshold)
            return fail(out, err, errlen,
                        "tier %zu (%.*s): thresholds must increase (previous %.2f)", i, (int)len,
                        name, out->tier[out->n - 1].threshold);
        memcpy(out->tier[out->n].name, name, len);
        out->tier[out->n].name[len] = '\0';
        out->tier[out->n].threshold = v;
        out->n++;
        p = end;
        if (*p == '\0')
            return SC_OK;
        p++; /* ',' */
        if (*p == '\0')
            return fail(out, err, errlen, "trailing ',' after tier %zu", i);
    }
}

const char *sc_tier_of(const struct sc_tiers *t, double value)
{
    const char *name = NULL;
    for (size_t i = 0; i < t->n && value >= t->tier[i].threshold; i++)
        name = t->tier[i].name;
    return name;
}
