/*
 * orders.c — orders as a shop hands them to us: the strict checks of an
 * amount and of the time an order was made, shared by POST
 * /api/v1/conversions and the CSV import, and `sharecard import orders
 * FILE.csv`, which back-fills a shop's history through the same writer path
 * as the API (the store decides who is credited, idempotent on the order
 * id), reporting each line.  CSV parsing is libcsv's.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <csv.h>

#include "cli_int.h"
#include "customers_int.h"
#include "orders_int.h"
#include "sharecard/customers.h"
#include "sharecard/escape.h"
#include "sharecard/referral.h"
#include "sharecard/server.h"
#include "sharecard/store.h"

/* ---- amounts ---------------------------------------------------------------------- */

enum sc_err sc_order_amount_text(const char *s, int64_t *cents, const char **why)
{
    int64_t units = 0, frac = 0;
    size_t i = 0, ndig = 0, nfrac = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++, ndig++) {
        if (ndig >= 11)
            goto bad;
        units = units * 10 + (s[i] - '0');
    }
    if (ndig == 0)
        goto bad;
    if (s[i] == '.') {
        for (i++; s[i] >= '0' && s[i] <= '9'; i++, nfrac++) {
            if (nfrac >= 2) {
                *why = "amount has more than 2 decimals.";
                return SC_EINVAL;
            }
            frac = frac * 10 + (s[i] - '0');
        }
        if (nfrac == 0)
            goto bad;
        if (nfrac == 1)
            frac *= 10;
    }
    if (s[i] != '\0')
        goto bad;
    if (units > SC_ORDER_AMOUNT_MAX || (units == SC_ORDER_AMOUNT_MAX && frac > 0)) {
        *why = "amount must be between 0 and 10,000,000,000.";
        return SC_EINVAL;
    }
    *cents = units * 100 + frac;
    return SC_OK;
bad:
    *why = "amount must be a number such as 199.90: digits, at most 2 decimals, no sign.";
    return SC_EINVAL;
}

enum sc_err sc_order_amount_json(const json_t *v, int64_t *cents, const char **why)
{
    if (json_is_string(v))
        return sc_order_amount_text(json_string_value(v), cents, why);
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < 0 || x > SC_ORDER_AMOUNT_MAX) {
            *why = "amount must be between 0 and 10,000,000,000.";
            return SC_EINVAL;
        }
        *cents = (int64_t)x * 100;
        return SC_OK;
    }
    if (!json_is_real(v)) {
        *why = "amount is required: a number such as 199.90.";
        return SC_EINVAL;
    }
    double x = json_real_value(v);
    if (!isfinite(x) || x < 0 || x > (double)SC_ORDER_AMOUNT_MAX) {
        *why = "amount must be between 0 and 10,000,000,000.";
        return SC_EINVAL;
    }
    /* JSON gave us a double: it has at most 2 decimals when 100·x is an
     * integer up to the double's own rounding (199.99 · 100 = 19998.999…). */
    double c = x * 100.0, r = nearbyint(c);
    if (fabs(c - r) > fmax(1e-6, fabs(c) * 8 * DBL_EPSILON)) {
        *why = "amount has more than 2 decimals.";
        return SC_EINVAL;
    }
    *cents = (int64_t)r;
    return SC_OK;
}

/* ---- times -------------------------------------------------------------------------- */

/* Reads exactly 'n' digits at '*p' into '*out' and moves past them. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char ch = (*p)[i];
        if (ch < '0' || ch > '9')
            return false;
        v = v * 10 + (ch - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static int month_days(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

bool sc_order_date_parse(const char *s, int32_t *day)
{
    const char *p = s;
    int y, mo, d;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d) || *p != '\0')
        return false;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo))
        return false;
    *day = sc_ret_days_from_civil(y, mo, d);
    return true;
}

enum sc_err sc_order_time_parse(const char *s, int64_t now, int64_t *out, const char **why)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, zh = 0, zm = 0, sign = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        goto bad;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
            goto bad;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &sec))
                goto bad;
            if (*p == '.' || *p == ',') {
                p++;
                if (*p < '0' || *p > '9')
                    goto bad;
                while (*p >= '0' && *p <= '9')
                    p++; /* fractions of a second are dropped */
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            sign = *p++ == '-' ? -1 : 1;
            if (!digits(&p, 2, &zh))
                goto bad;
            if (*p == ':')
                p++;
            if (!digits(&p, 2, &zm))
                goto bad;
            if (zh > 14 || zm > 59)
                goto bad;
        }
    }
    if (*p != '\0')
        goto bad;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 ||
        sec > 59) {
        *why = "ordered_at is not a date and time that exists.";
        return SC_EINVAL;
    }
    int64_t t = (int64_t)sc_ret_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
                sign * (zh * 3600 + zm * 60);
    if (t < 0) {
        *why = "ordered_at is before 1970.";
        return SC_EINVAL;
    }
    if (t > now) {
        *why = "ordered_at is in the future: only orders already made can be posted.";
        return SC_EINVAL;
    }
    *out = t;
    return SC_OK;
bad:
    *why = "ordered_at must be ISO 8601, such as 2026-03-01T14:30:00Z or 2026-03-01.";
    return SC_EINVAL;
}

/* ---- sharecard import orders FILE.csv -------------------------------------------------- */

enum { COL_EMAIL, COL_CUSTOMER, COL_AMOUNT, COL_ORDER, COL_TIME, NCOLS };
static const char *const col_names[NCOLS] = {"email", "customer_id", "amount", "order_id",
                                             "ordered_at"};

#define MAX_FIELDS 32
#define MAX_FIELD  2048
#define BATCH      512

/* One line waiting for its batch to be written. */
struct pending {
    size_t line;
    char why[192]; /* "" when the line is valid and goes to the store */
    struct sc_conversion cv;
    struct sc_event ev;
};

struct import {
    struct sc_store *store;
    struct sc_referral_config cfg;
    char base_url[600]; /* SHARECARD_BASE_URL: the surveys' links (nps.c) */
    struct sc_ua_info agent;
    int64_t now;
    int col[NCOLS];
    bool have_header, bad_header, too_long;
    char *field[MAX_FIELDS];
    size_t nfields;
    size_t phys;           /* the line being parsed, from 1 */
    size_t line;           /* the line of the record being read */
    struct pending *batch; /* BATCH of them */
    struct sc_event_row rows[BATCH];
    size_t n;
    long long imported, replayed, refused;
    enum sc_err store_err; /* the first failure of the store: the import stops */
};

static void import_field(void *data, size_t len, void *ctx)
{
    struct import *im = ctx;
    if (im->nfields == 0)
        im->line = im->phys; /* the record's line: where its first field ends */
    if (im->nfields >= MAX_FIELDS) {
        im->nfields++;
        return;
    }
    if (len > MAX_FIELD) {
        im->too_long = true;
        len = MAX_FIELD;
    }
    char *f = malloc(len + 1);
    if (f) {
        if (len)
            memcpy(f, data, len);
        f[len] = '\0';
    }
    im->field[im->nfields++] = f;
}

static const char *cell(const struct import *im, int c)
{
    int i = im->col[c];
    return i >= 0 && (size_t)i < im->nfields && (size_t)i < MAX_FIELDS && im->field[i]
               ? im->field[i]
               : "";
}

/* Writes the batch and reports each of its lines in order. */
static void flush(struct import *im)
{
    size_t nrows = 0;
    for (size_t i = 0; i < im->n; i++)
        if (!im->batch[i].why[0]) {
            im->rows[nrows] = (struct sc_event_row){&im->batch[i].ev, NULL, &im->agent, SC_OK};
            nrows++;
        }
    enum sc_err e =
        nrows && im->store_err == SC_OK ? sc_store_events_write(im->store, im->rows, nrows) : SC_OK;
    if (e != SC_OK && im->store_err == SC_OK)
        im->store_err = e;
    size_t k = 0;
    for (size_t i = 0; i < im->n; i++) {
        struct pending *pd = &im->batch[i];
        if (pd->why[0]) {
            printf("line %zu: refused: %s\n", pd->line, pd->why);
            im->refused++;
            continue;
        }
        struct sc_event_row *row = &im->rows[k++];
        if (im->store_err != SC_OK) {
            printf("line %zu: %s not stored: %s\n", pd->line, pd->cv.order_id,
                   sc_err_str(im->store_err));
            im->refused++;
        } else if (row->result == SC_ENOTFOUND) {
            printf("line %zu: %s refused: no customer matches this email or customer_id\n",
                   pd->line, pd->cv.order_id);
            im->refused++;
        } else if (pd->cv.replayed) {
            printf("line %zu: %s already imported (conversion %lld)\n", pd->line, pd->cv.order_id,
                   (long long)pd->cv.conversion_id);
            im->replayed++;
        } else {
            printf("line %zu: %s imported (conversion %lld)\n", pd->line, pd->cv.order_id,
                   (long long)pd->cv.conversion_id);
            im->imported++;
        }
    }
    im->n = 0;
}

/* Checks one data line into the next pending slot. */
static void take_line(struct import *im)
{
    struct pending *pd = &im->batch[im->n++];
    memset(pd, 0, sizeof(*pd));
    pd->line = im->line;
    const char *why = NULL;
    const char *email = cell(im, COL_EMAIL), *cid = cell(im, COL_CUSTOMER);
    const char *amount = cell(im, COL_AMOUNT), *order = cell(im, COL_ORDER);
    const char *when = cell(im, COL_TIME);
    struct sc_conversion *cv = &pd->cv;
    cv->cfg = &im->cfg;
    cv->survey_base = im->base_url; /* its NPS survey (nps.c) */
    cv->survey_delay_s = sc_nps_delay_s();
    cv->survey_max_age_s = sc_nps_max_age_s();
    for (size_t i = 0; i < im->nfields && i < MAX_FIELDS; i++)
        if (im->field[i] && !sc_utf8_valid(im->field[i], strlen(im->field[i])))
            why = "the line is not valid UTF-8.";
    if (why) {
    } else if (im->nfields > MAX_FIELDS) {
        why = "too many columns.";
    } else if (im->too_long) {
        why = "a field is longer than 2048 bytes.";
    } else if (!order[0] || strlen(order) >= sizeof(cv->order_id)) {
        why = "order_id must be 1 to 128 characters.";
    } else if (sc_order_amount_text(amount, &cv->amount_cents, &why) != SC_OK) {
    } else if (when[0] && sc_order_time_parse(when, im->now, &cv->ordered_at, &why) != SC_OK) {
    } else if (cid[0]) {
        char *end;
        errno = 0;
        long long v = strtoll(cid, &end, 10);
        if (cid[0] < '1' || cid[0] > '9' || *end || errno || v <= 0)
            why = "customer_id must be a positive whole number.";
        else
            cv->customer_id = v;
    } else if (!email[0] || sc_email_normalise(email, cv->email, &why) != SC_OK) {
        why = "give the customer's email or customer_id.";
    }
    if (why) {
        snprintf(pd->why, sizeof(pd->why), "%s", why);
        return;
    }
    snprintf(cv->order_id, sizeof(cv->order_id), "%s", order);
    struct sc_event *ev = &pd->ev;
    ev->ts = im->now; /* posted now; the order's own time is cv->ordered_at */
    ev->type = SC_EV_CONVERT;
    snprintf(ev->ua, sizeof(ev->ua), "sharecard-import");
    ev->conversion = cv;
}

static void import_row(int term, void *ctx)
{
    (void)term;
    struct import *im = ctx;
    if (im->nfields == 0)
        im->line = im->phys;
    bool blank = im->nfields == 0 || (im->nfields == 1 && (!im->field[0] || !im->field[0][0]));
    if (blank || im->store_err != SC_OK) {
        /* an empty line: nothing to import; after a store failure nothing more is tried */
    } else if (!im->have_header) {
        for (int c = 0; c < NCOLS; c++)
            im->col[c] = -1;
        for (size_t i = 0; i < im->nfields && i < MAX_FIELDS; i++) {
            const char *h = im->field[i] ? im->field[i] : "";
            if (i == 0 && strncmp(h, "\xef\xbb\xbf", 3) == 0)
                h += 3; /* a spreadsheet's BOM */
            for (int c = 0; c < NCOLS; c++)
                if (strcasecmp(h, col_names[c]) == 0 || (c == COL_TIME && !strcasecmp(h, "time")))
                    im->col[c] = (int)i;
        }
        im->have_header = true;
        if (im->col[COL_AMOUNT] < 0 || im->col[COL_ORDER] < 0 ||
            (im->col[COL_EMAIL] < 0 && im->col[COL_CUSTOMER] < 0))
            im->bad_header = true;
    } else if (!im->bad_header) {
        take_line(im);
        if (im->n == BATCH)
            flush(im);
    }
    for (size_t i = 0; i < im->nfields && i < MAX_FIELDS; i++) {
        free(im->field[i]);
        im->field[i] = NULL;
    }
    im->nfields = 0;
    im->too_long = false;
}

int sc_cli_import_orders(const struct cli_args *a)
{
    if (a->npos != 1)
        return sc_cli_usage_error(a->cmd->usage, "name one CSV file (or - for standard input)");
    const char *path = a->pos[0];
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return sc_cli_fail("cannot read %s: %s", path, strerror(errno));
    int rc = 1;
    struct csv_parser p;
    bool csv_ok = false;
    struct import *im = calloc(1, sizeof(*im));
    char *chunk = malloc(65536);
    if (!im || !chunk || !(im->batch = calloc(BATCH, sizeof(*im->batch)))) {
        sc_cli_fail("out of memory");
        goto out;
    }
    struct sc_config cfg;
    sc_config_defaults(&cfg); /* commissions as the server pays them (SHARECARD_COMMISSION) */
    char bad[256];            /* and SHARECARD_REWARDS (issue 19), refused as serve refuses it */
    if (sc_config_rewards(&cfg, bad, sizeof(bad)) != SC_OK) {
        sc_cli_fail("%s", bad);
        goto out;
    }
    im->cfg = cfg.referral;
    /* The surveys' links: the base URL serve would use (--base-url, SHARECARD_BASE_URL, or
     * where it listens: --listen, SHARECARD_LISTEN, 127.0.0.1:8080). */
    const char *v, *why;
    if ((v = sc_cli_arg(a, "listen")) != NULL)
        sc_config_listen(&cfg, v, &why); /* checked as it was read */
    if ((v = sc_cli_arg(a, "base-url")) != NULL)
        snprintf(cfg.base_url, sizeof(cfg.base_url), "%s", v);
    size_t bn = strlen(cfg.base_url);
    while (bn > 0 && cfg.base_url[bn - 1] == '/')
        cfg.base_url[--bn] = '\0';
    sc_config_base_url(&cfg, cfg.port, im->base_url, sizeof(im->base_url));
    im->now = (int64_t)time(NULL);
    if (!(im->store = sc_cli_open_store(a->db)))
        goto out;
    if (csv_init(&p, CSV_APPEND_NULL) != 0) {
        sc_cli_fail("out of memory");
        goto out;
    }
    csv_ok = true;
    size_t got;
    im->phys = 1;
    while ((got = fread(chunk, 1, 65536, f)) > 0) {
        /* A line at a time, so that a record knows the line it is on (libcsv
         * skips empty lines and lets quoted fields span lines). */
        for (size_t at = 0; at < got;) {
            const char *nl = memchr(chunk + at, '\n', got - at);
            size_t len = nl ? (size_t)(nl - (chunk + at)) + 1 : got - at;
            if (csv_parse(&p, chunk + at, len, import_field, import_row, im) != len) {
                flush(im);
                sc_cli_fail("line %zu: %s", im->phys, csv_strerror(csv_error(&p)));
                goto out;
            }
            at += len;
            if (nl)
                im->phys++;
        }
    }
    if (ferror(f)) {
        sc_cli_fail("cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    csv_fini(&p, import_field, import_row, im);
    flush(im);
    if (!im->have_header || im->bad_header) {
        sc_cli_fail("the first line must name the columns: order_id, amount, email or "
                    "customer_id, and optionally ordered_at");
        goto out;
    }
    printf("%lld imported, %lld already imported, %lld refused\n", im->imported, im->replayed,
           im->refused);
    if (im->store_err != SC_OK)
        sc_cli_fail("the store failed: %s", sc_err_str(im->store_err));
    rc = im->refused || im->store_err != SC_OK ? 1 : 0;
out:
    if (csv_ok)
        csv_free(&p);
    if (im) {
        for (size_t i = 0; i < im->nfields && i < MAX_FIELDS; i++)
            free(im->field[i]);
        if (im->store)
            sc_store_close(im->store);
        free(im->batch);
    }
    free(im);
    free(chunk);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* ---- POST /api/v1/conversions' body ------------------------------------------------ */

const char *sc_conversion_from_json(const char *body, size_t len, int64_t now,
                                    struct sc_conversion *cv)
{
    json_error_t jerr;
    const char *why = NULL;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    memset(cv, 0, sizeof(*cv));
    if (!json_is_object(j)) {
        json_decref(j);
        return "The body must be a JSON object: {\"email\" or \"customer_id\", \"amount\", "
               "\"order_id\"}.";
    }
    json_t *order = json_object_get(j, "order_id"), *amount = json_object_get(j, "amount");
    json_t *email = json_object_get(j, "email"), *cid = json_object_get(j, "customer_id");
    json_t *when = json_object_get(j, "ordered_at");
    json_t *coupon = json_object_get(j, "coupon"); /* issue 19: redeemed with the order */
    if (!json_is_string(order) || json_string_length(order) == 0 ||
        json_string_length(order) >= sizeof(cv->order_id) ||
        strlen(json_string_value(order)) != json_string_length(order))
        why = "order_id must be a string of 1 to 128 characters.";
    else if (sc_order_amount_json(amount, &cv->amount_cents, &why) != SC_OK)
        ; /* 'why' says what is wrong with the amount */
    else if (when && !json_is_null(when) &&
             (!json_is_string(when) ||
              sc_order_time_parse(json_string_value(when), now, &cv->ordered_at, &why) != SC_OK))
        why = why ? why : "ordered_at must be a string such as 2026-03-01T14:30:00Z.";
    if (!why) {
        if (json_is_integer(cid) && json_integer_value(cid) > 0)
            cv->customer_id = (int64_t)json_integer_value(cid);
        else if (json_is_string(email) &&
                 sc_email_normalise(json_string_value(email), cv->email, &why) == SC_OK)
            why = NULL;
        else
            why = "Give the customer's email or customer_id.";
    }
    if (!why && coupon && !json_is_null(coupon) &&
        (!json_is_string(coupon) || json_string_length(coupon) > 64 ||
         !sc_coupon_code_parse(json_string_value(coupon), cv->coupon)))
        why = "coupon: malformed code (13 letters and digits such as ABCD-EFGH-JKLM-N; "
              "check for a typo).";
    if (!why)
        snprintf(cv->order_id, sizeof(cv->order_id), "%s", json_string_value(order));
    json_decref(j);
    return why;
}
