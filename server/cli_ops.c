/*
 * cli_ops.c — the operator's commands (issue 12): `backup FILE` (a
 * consistent copy of a SQLite store while it serves), `export TABLE` (a
 * whole table as CSV or JSON, streamed) and `customer export` (everything
 * stored about one person, as one JSON document: the access right beside
 * `customer erase`).  The rows come from store/q_export.c as struct
 * sc_xrow; this file only writes them out, a row at a time, so memory
 * stays constant however large the table.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sharecard/escape.h"
#include "sharecard/referral.h"
#include "sharecard/server.h"
#include "sharecard/store.h"

#include "cli_int.h"
#include "pages_int.h"

/* ---- backup ------------------------------------------------------------------- */

/* Progress on a terminal: pages done of all, as a percentage, redrawn in place. */
static void backup_progress(int64_t done, int64_t total, void *ctx)
{
    int *last = ctx;
    int pct = total > 0 ? (int)(done * 100 / total) : 100;
    if (pct == *last)
        return;
    *last = pct;
    fprintf(stderr, "\rbackup: %3d%% (%lld of %lld pages)", pct, (long long)done, (long long)total);
    fflush(stderr);
}

int sc_cli_backup(const struct cli_args *a)
{
    if (a->npos != 1)
        return sc_cli_usage_error(a->cmd->usage, "give one FILE to write the backup to");
    const char *dest = a->pos[0];
    struct sc_store *s = sc_cli_open_store(a->db);
    if (!s)
        return 1;
    int last = -1;
    bool tty = isatty(STDERR_FILENO);
    char msg[600] = "";
    enum sc_err e = sc_store_backup(s, dest, tty ? backup_progress : NULL, &last, msg, sizeof(msg));
    if (tty && last >= 0)
        fputc('\n', stderr);
    sc_store_close(s);
    if (e != SC_OK)
        return sc_cli_fail("%s", msg[0] ? msg : sc_err_str(e));
    return 0;
}

/* ---- writing rows --------------------------------------------------------------- */

struct out {
    struct sc_buf b; /* one row's text, written out after each row */
    struct sc_buf t; /* a field's repaired text (CSV) */
    bool csv;        /* a table as CSV, else as a JSON array */
    size_t rows;     /* rows of the current set written */
    bool any_set;    /* a person's set was opened */
    bool one;        /* that set is one row (an object) */
    bool failed;     /* writing stdout failed */
};

/* Column 'i' of 'r' as text into 'dst' (n bytes); NULL for an empty value (JSON null). */
static const char *field_text(const struct sc_xrow *r, int i, char *dst, size_t n)
{
    if (r->null[i])
        return NULL;
    int64_t v = r->num[i];
    switch ((enum sc_xkind)r->kind[i]) {
    case SC_X_TEXT: return r->text[i];
    case SC_X_TIME: sc_ui_iso_time(v, dst); return dst;
    case SC_X_EVTYPE: return v >= 0 && v < SC_EV_COUNT ? sc_ev_name((enum sc_ev_type)v) : NULL;
    case SC_X_CHANNEL: return sc_channel_name((enum sc_channel)v);
    case SC_X_PARTY:
        return v == SC_PARTY_MEMBER ? "member" : v == SC_PARTY_CUSTOMER ? "customer" : NULL;
    case SC_X_ROLE: return sc_role_name((enum sc_role)v);
    case SC_X_BOT: return v ? sc_bot_name((int)v) : NULL;
    case SC_X_BOOL:
    case SC_X_INT: snprintf(dst, n, "%lld", (long long)v); return dst;
    }
    return NULL;
}

/* Column 'i' of 'r' as a JSON value. */
static void json_value(struct sc_buf *b, const struct sc_xrow *r, int i)
{
    char tmp[32];
    if (r->null[i]) {
        sc_buf_puts(b, "null");
        return;
    }
    switch ((enum sc_xkind)r->kind[i]) {
    case SC_X_INT: sc_buf_printf(b, "%lld", (long long)r->num[i]); return;
    case SC_X_BOOL: sc_buf_puts(b, r->num[i] ? "true" : "false"); return;
    default: sc_ui_json_str(b, field_text(r, i, tmp, sizeof(tmp))); return;
    }
}

static void json_object(struct sc_buf *b, const struct sc_xrow *r)
{
    sc_buf_putc(b, '{');
    for (int i = 0; i < r->ncol; i++) {
        sc_buf_printf(b, "%s\"%s\":", i ? "," : "", r->name[i]);
        json_value(b, r, i);
    }
    sc_buf_putc(b, '}');
}

static void csv_row(struct out *o, const struct sc_xrow *r)
{
    char tmp[32];
    for (int i = 0; i < r->ncol; i++) {
        if (i)
            sc_buf_putc(&o->b, ',');
        const char *v = r->start ? r->name[i] : field_text(r, i, tmp, sizeof(tmp));
        if (!v)
            continue;
        sc_buf_reset(&o->t);
        sc_utf8_repair(&o->t, v, strlen(v)); /* what goes out is valid UTF-8 */
        sc_ui_csv_field(&o->b, o->t.data ? o->t.data : "");
    }
    sc_buf_puts(&o->b, "\r\n");
}

/* Writes o->b to stdout and empties it; false (and 'failed') when it cannot. */
static bool flush_out(struct out *o)
{
    if (sc_buf_error(&o->b) || sc_buf_error(&o->t) ||
        fwrite(o->b.data ? o->b.data : "", 1, o->b.len, stdout) != o->b.len)
        o->failed = true;
    sc_buf_reset(&o->b);
    return !o->failed;
}

/* A table's row: CSV (header first) or a JSON array's element. */
static int table_row(const struct sc_xrow *r, void *ctx)
{
    struct out *o = ctx;
    if (o->csv) {
        csv_row(o, r);
    } else if (!r->start) {
        sc_buf_puts(&o->b, o->rows ? ",\n" : "\n");
        json_object(&o->b, r);
        o->rows++;
    }
    return !flush_out(o);
}

/* Closes the person's set in progress, if any: null for an empty one-row set, ']' for a list. */
static void close_set(struct out *o)
{
    if (!o->any_set)
        return;
    if (o->one)
        sc_buf_puts(&o->b, o->rows ? "" : "null");
    else
        sc_buf_puts(&o->b, o->rows ? "\n]" : "]");
}

/* A person's set: a key with an object (one row, or null) or an array. */
static int person_row(const struct sc_xrow *r, void *ctx)
{
    struct out *o = ctx;
    if (r->start) {
        close_set(o);
        sc_buf_printf(&o->b, "%s\"%s\":%s", o->any_set ? ",\n" : "{\n", r->set, r->one ? "" : "[");
        o->any_set = true;
        o->rows = 0;
        o->one = r->one;
    } else {
        if (!o->one)
            sc_buf_puts(&o->b, o->rows ? ",\n" : "\n");
        if (!o->one || o->rows == 0)
            json_object(&o->b, r);
        o->rows++;
    }
    return !flush_out(o);
}

static void out_init(struct out *o)
{
    memset(o, 0, sizeof(*o));
    sc_buf_init(&o->b, 16 << 20);
    sc_buf_init(&o->t, 16 << 20);
}

static void out_cleanup(struct out *o)
{
    sc_buf_cleanup(&o->b);
    sc_buf_cleanup(&o->t);
}

/* ---- export TABLE --------------------------------------------------------------- */

static int check_format(const char *v, const char *usage)
{
    return strcmp(v, "csv") == 0 || strcmp(v, "json") == 0
               ? -1
               : sc_cli_usage_error(usage, "--format must be csv or json");
}

static int check_day(const char *v, const char *usage)
{
    int64_t day;
    return sc_ui_day_parse(v, &day) ? -1
                                    : sc_cli_usage_error(usage, "--from and --to are dates "
                                                                "written YYYY-MM-DD");
}

int sc_cli_export(const struct cli_args *a)
{
    const char *usage = a->cmd->usage;
    if (a->npos != 1)
        return sc_cli_usage_error(usage, "which table? give one TABLE");
    const char *table = a->pos[0];
    struct sc_xrow shape;
    if (sc_store_export_columns(table, &shape) != SC_OK) {
        char msg[200];
        snprintf(msg, sizeof(msg), "unknown table '%.60s'", table);
        return sc_cli_usage_error(usage, msg);
    }
    int64_t from = 0, to = INT64_MAX, day;
    const char *f = sc_cli_arg(a, "from"), *t = sc_cli_arg(a, "to");
    if (f && sc_ui_day_parse(f, &day))
        from = day * 86400;
    if (t && sc_ui_day_parse(t, &day))
        to = (day + 1) * 86400; /* 'to' is included: up to the end of that day */
    if (from >= to)
        return sc_cli_usage_error(usage, "--from must not be after --to");
    struct sc_store *s = sc_cli_open_store(a->db);
    if (!s)
        return 1;
    struct out o;
    out_init(&o);
    o.csv = strcmp(sc_cli_arg_or(a, "format", "csv"), "csv") == 0;
    if (o.csv)
        sc_buf_puts(&o.b, "\xEF\xBB\xBF"); /* a BOM, as the API's CSV, for spreadsheets */
    else
        sc_buf_putc(&o.b, '[');
    enum sc_err e = sc_store_export(s, table, from, to, table_row, &o);
    if (e == SC_OK && !o.failed && !o.csv) {
        sc_buf_puts(&o.b, o.rows ? "\n]\n" : "]\n");
        flush_out(&o);
    }
    int rc = 0;
    if (e != SC_OK)
        rc = sc_cli_fail("the export of %s failed: %s", table, sc_err_str(e));
    else if (o.failed || fflush(stdout) != 0)
        rc = sc_cli_fail("writing the export failed");
    out_cleanup(&o);
    sc_store_close(s);
    return rc;
}

/* ---- customer export ----------------------------------------------------------------- */

int sc_cli_customer_export(const struct cli_args *a)
{
    const char *usage = a->cmd->usage;
    const char *email_in = sc_cli_arg(a, "email"), *phone_in = sc_cli_arg(a, "phone");
    if (!email_in == !phone_in)
        return sc_cli_usage_error(usage, "give --email or --phone (one of them)");
    char email[255] = "", phone[SC_PHONE_MAX + 1] = "";
    const char *why = NULL;
    if (email_in && sc_email_normalise(email_in, email, &why) != SC_OK)
        return sc_cli_fail("--email: %s", why ? why : "not an email address");
    if (phone_in) {
        struct sc_config cfg;
        sc_config_defaults(&cfg);
        if (sc_phone_normalise(phone_in, cfg.referral.default_country, phone, &why) != SC_OK)
            return sc_cli_fail("--phone: %s", why ? why : "not a phone number");
    }
    struct sc_store *s = sc_cli_open_store(a->db);
    if (!s)
        return 1;
    struct out o;
    out_init(&o);
    enum sc_err e =
        sc_store_person_export(s, email_in ? email : NULL, phone_in ? phone : NULL, person_row, &o);
    if (e == SC_OK && !o.failed) {
        close_set(&o);
        sc_buf_puts(&o.b, "\n}\n");
        flush_out(&o);
    }
    int rc = 0;
    if (e == SC_ENOTFOUND)
        rc = sc_cli_fail("there is no customer with %s %s", email_in ? "the email" : "the phone",
                         email_in ? email : phone);
    else if (e != SC_OK)
        rc = sc_cli_fail("the export failed: %s", sc_err_str(e));
    else if (o.failed || fflush(stdout) != 0)
        rc = sc_cli_fail("writing the export failed");
    out_cleanup(&o);
    sc_store_close(s);
    return rc;
}

const struct cli_opt sc_cli_backup_opts[] = {
    {"db", 0, true, NULL}, {"help", 'h', false, NULL}, {NULL, 0, false, NULL}};
const struct cli_opt sc_cli_export_opts[] = {
    {"format", 0, true, check_format}, {"from", 0, true, check_day},
    {"to", 0, true, check_day},        {"db", 0, true, NULL},
    {"help", 'h', false, NULL},        {NULL, 0, false, NULL}};
const struct cli_opt sc_cli_customer_export_opts[] = {{"email", 0, true, NULL},
                                                      {"phone", 0, true, NULL},
                                                      {"db", 0, true, NULL},
                                                      {"help", 'h', false, NULL},
                                                      {NULL, 0, false, NULL}};
