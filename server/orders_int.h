/*
 * orders_int.h — private to server/: what an order is allowed to say, checked
 * the same way for POST /api/v1/conversions (signup.c) and for
 * `sharecard import orders` (orders.c): an amount in currency units with at
 * most two decimals, and the time the order was made (ISO 8601, not in the
 * future).
 */
#ifndef SHARECARD_ORDERS_INT_H
#define SHARECARD_ORDERS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "sharecard/err.h"

struct cli_args;

/* The largest amount accepted, in currency units. */
#define SC_ORDER_AMOUNT_MAX 10000000000LL

/*
 * Parses 's' (borrowed) as an amount: digits, optionally '.' and one or two
 * more digits, from 0 to SC_ORDER_AMOUNT_MAX; no sign, space or exponent.
 * Writes cents to '*cents'.  SC_EINVAL with '*why' (static text naming the
 * field) otherwise.
 */
enum sc_err sc_order_amount_text(const char *s, int64_t *cents, const char **why);
/* The same for a JSON value 'v' (borrowed): a number or a string as above. */
enum sc_err sc_order_amount_json(const json_t *v, int64_t *cents, const char **why);

/*
 * Parses 's' (borrowed) as ISO 8601: YYYY-MM-DD (that day's 00:00 UTC) or
 * YYYY-MM-DDTHH:MM[:SS[.fraction]] with 'Z', ±HH:MM or ±HHMM (no zone: UTC;
 * a space may stand for the 'T').  The date must exist (no 2026-02-30), the
 * year be 1970–9999 and the time not after 'now'.  Unix seconds into '*out';
 * SC_EINVAL with '*why' (static text naming the field ordered_at) otherwise.
 */
enum sc_err sc_order_time_parse(const char *s, int64_t now, int64_t *out, const char **why);

/* A calendar date "YYYY-MM-DD" that exists (no 2026-02-30), 1970–9999, as a day number. */
bool sc_order_date_parse(const char *s, int32_t *day);

struct sc_conversion;

/*
 * POST /api/v1/conversions' body ('len' bytes of 'body', borrowed) into '*cv'
 * (cleared first; its 'cfg' left NULL): a JSON object with order_id (1 to 128
 * bytes, no NUL), amount (sc_order_amount_json), optionally ordered_at
 * (sc_order_time_parse against 'now'; null or absent: none), and
 * customer_id (a positive integer) or email (normalised).  NULL when
 * accepted, else why not (static text naming the field; a 400's message).
 */
const char *sc_conversion_from_json(const char *body, size_t len, int64_t now,
                                    struct sc_conversion *cv);

/* `sharecard import orders FILE.csv` (orders.c): the exit status. */
int sc_cli_import_orders(const struct cli_args *a);

#endif
