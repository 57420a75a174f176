/*
 * fuzz_conversion.c — libFuzzer target for POST /api/v1/conversions' body:
 * the JSON object that becomes an order (sc_conversion_from_json), with its
 * strict amount (sc_order_amount_json / _text) and ordered_at
 * (sc_order_time_parse).
 *
 * What must hold for an accepted body: an order_id of 1 to 128 bytes that
 * is the JSON's string exactly (no NUL cut it short), an amount from 0 to
 * SC_ORDER_AMOUNT_MAX units, a customer_id or a normalised e-mail, and an
 * ordered_at not after 'now'; the amount written back as text ("12.50")
 * parses to the same cents.  A refused body always says why.  The input is
 * also tried as an amount and as a time on their own.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../server/orders_int.h"
#include "sharecard/referral.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1798761600 /* 2027-01-01 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sc_conversion cv;
    const char *why = sc_conversion_from_json((const char *)data, size, NOW, &cv);
    if (!why) {
        size_t n = strnlen(cv.order_id, sizeof(cv.order_id));
        if (n == 0 || n >= sizeof(cv.order_id))
            abort();
        json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
        json_t *o = json_object_get(j, "order_id");
        if (!json_is_string(o) || json_string_length(o) != n ||
            memcmp(json_string_value(o), cv.order_id, n) != 0)
            abort();
        json_decref(j);
        if (cv.amount_cents < 0 || cv.amount_cents > SC_ORDER_AMOUNT_MAX * 100)
            abort();
        if (cv.customer_id <= 0 && !cv.email[0])
            abort();
        if (cv.ordered_at > NOW)
            abort();
        char text[32];
        int64_t back = -1;
        const char *w2 = NULL;
        snprintf(text, sizeof(text), "%lld.%02lld", (long long)(cv.amount_cents / 100),
                 (long long)(cv.amount_cents % 100));
        if (sc_order_amount_text(text, &back, &w2) != SC_OK || back != cv.amount_cents)
            abort();
    } else if (!why[0]) {
        abort();
    }

    /* The same bytes as an amount and as a time, on their own. */
    char s[64];
    size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    int64_t cents = -1, t = 0;
    const char *w = NULL;
    if (sc_order_amount_text(s, &cents, &w) == SC_OK) {
        if (cents < 0 || cents > SC_ORDER_AMOUNT_MAX * 100 || strspn(s, "0123456789.") != strlen(s))
            abort(); /* no sign, space or exponent */
    } else if (!w) {
        abort();
    }
    w = NULL;
    if (sc_order_time_parse(s, NOW, &t, &w) == SC_OK) {
        if (t > NOW || t < 0)
            abort();
    } else if (!w) {
        abort();
    }
    return 0;
}
