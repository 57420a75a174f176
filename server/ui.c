/*
 * ui.c — what every signed-in page and every list shares: the page frame
 * with its navigation, the CSRF check of a posted form, HTML/JSON/CSV
 * field writers, dates, and the JSON-or-CSV list writer the API uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "auth_int.h"
#include "leads_int.h"
#include "pages_int.h"
#include "sharecard/escape.h"
#include "sharecard/form.h"

void sc_ui_text(struct sc_buf *b, const char *s)
{
    if (s)
        sc_esc_html(b, s, strlen(s));
}

void sc_ui_head(struct sc_buf *b, const char *title)
{
    sc_ui_htmlf(b, "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">",
                sc_lang_tag(sc_tr_lang()));
    sc_ui_html(b, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  "<meta name=\"robots\" content=\"noindex\"><title>");
    sc_ui_text(b, sc_tr(title));
    sc_ui_html(b, " · sharecard</title><link rel=\"icon\" href=\"/static/icon.svg\" "
                  "type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"/static/card.css\">"
                  "<link rel=\"stylesheet\" href=\"/static/app.css\">"
                  "<script src=\"/static/card.js\" defer></script>"
                  "<script src=\"/static/app.js\" defer></script></head>"
                  "<body data-copied=\"");
    sc_ui_text(b, sc_tr("Copied:"));
    sc_ui_html(b, "\"><main class=\"app\">");
}

void sc_ui_begin(struct req *r, struct sc_buf *b, const char *title, const struct sc_member *m,
                 const char *here)
{
    struct item {
        const char *href, *label;
        int min_role; /* the least role that sees it */
    };
    static const struct item items[] = {
        {"/dashboard", "Dashboard", SC_ROLE_MANAGER},
        {"/me", "My card", SC_ROLE_SALES},
        {"/me/edit", "Edit card", SC_ROLE_SALES},
        {"/leads", "Leads", SC_ROLE_SALES},
        {"/customers", "Customers", SC_ROLE_SALES},
        {"/me/account", "Account", SC_ROLE_SALES},
        {"/admin/members", "Members", SC_ROLE_MANAGER},
        {"/admin/rewards", "Rewards", SC_ROLE_MANAGER},
        {"/admin/audit", "Audit log", SC_ROLE_ADMIN},
    };
    char csrf[32];
    sc_csrf_token(r, csrf);
    sc_ui_head(b, title);
    sc_ui_html(b, "<nav class=\"menu\">");
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++)
        if ((int)m->role >= items[i].min_role)
            sc_ui_htmlf(b, "<a href=\"%s\"%s>%s</a>", items[i].href,
                        here && strcmp(here, items[i].href) == 0 ? " class=\"on\"" : "",
                        sc_tr(items[i].label));
    sc_ui_html(b, "<span class=\"who\">");
    sc_ui_text(b, m->name);
    sc_ui_htmlf(b,
                " (%s) <form class=\"inline\" method=\"post\" action=\"/logout\">"
                "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><button class=\"btn\" "
                "type=\"submit\" style=\"width:auto;display:inline\">%s</button>"
                "</form></span></nav><header class=\"top\"><h1>",
                sc_tr(sc_role_name(m->role)), csrf, sc_tr("Sign out"));
    sc_ui_text(b, sc_tr(title));
    sc_ui_html(b, "</h1>");
}

void sc_ui_end(struct sc_buf *b)
{
    /* Every time on the pages is in the deployment's zone; the API stays UTC. */
    sc_ui_htmlf(b, "<p class=\"hint tz\" id=\"tz\">%s ", sc_tr("Times are in"));
    sc_ui_text(b, sc_tz_name());
    sc_ui_html(b, "</p></main><p id=\"toast\" class=\"toast\" role=\"status\" "
                  "aria-live=\"polite\"></p></body></html>");
}

void sc_ui_csrf_field(struct req *r, struct sc_buf *b)
{
    char csrf[32];
    sc_csrf_token(r, csrf);
    sc_ui_htmlf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", csrf);
}

enum sc_err sc_req_form_field(struct req *r, const char *name, char *out, size_t n)
{
    out[0] = '\0';
    return sc_form_get(r->body.data ? r->body.data : "", r->body.len, name, out, n);
}

void sc_ui_json_str(struct sc_buf *b, const char *s)
{
    if (!s) {
        sc_buf_puts(b, "null");
        return;
    }
    sc_buf_putc(b, '"');
    sc_esc_json(b, s, strlen(s));
    sc_buf_putc(b, '"');
}

/* "+" and 4 to 15 digits: a phone number as we store them (E.164). */
static bool e164(const char *s)
{
    size_t d = s[0] == '+' ? strspn(s + 1, "0123456789") : 0;
    return d >= 4 && d <= 15 && s[1 + d] == '\0';
}

void sc_ui_csv_field(struct sc_buf *b, const char *s)
{
    if (!s)
        s = "";
    if (e164(s)) {
        /* A phone (issue 17): a tab before it, so that spreadsheets keep it as text (not a
         * number that loses its "+", nor a formula) while what it says stays the number. */
        sc_buf_puts(b, "\"\t");
        sc_buf_puts(b, s);
        sc_buf_putc(b, '"');
        return;
    }
    size_t n = strlen(s);
    bool quote = strpbrk(s, ",\"\r\n") != NULL || (s[0] && strchr("=+-@", s[0]) != NULL);
    if (!quote) {
        sc_utf8_repair(b, s, n); /* whatever a store holds, the CSV stays UTF-8 */
        return;
    }
    sc_buf_putc(b, '"');
    if (s[0] && strchr("=+-@", s[0]))
        sc_buf_putc(b, '\''); /* keep spreadsheets from running it as a formula */
    const char *run = s;
    for (const char *p = strchr(s, '"'); p; p = strchr(run, '"')) {
        sc_utf8_repair(b, run, (size_t)(p - run) + 1);
        sc_buf_putc(b, '"'); /* a quote doubled */
        run = p + 1;
    }
    sc_utf8_repair(b, run, strlen(run));
    sc_buf_putc(b, '"');
}

void sc_ui_int(struct sc_buf *b, int64_t v)
{
    char d[24];
    size_t i = sizeof(d);
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        d[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        d[--i] = '-';
    sc_buf_append(b, d + i, sizeof(d) - i);
}

/* 'n' as 'w' decimal digits at 'p', zeros in front. */
static void digits(char *p, unsigned n, int w)
{
    while (w--) {
        p[w] = (char)('0' + n % 10);
        n /= 10;
    }
}

/*
 * "YYYY-MM-DDTHH:MM:SSZ": every list writes several a row (10,000 rows of
 * leads: 30,000), so the calendar is computed here rather than by
 * gmtime_r() + strftime(): the proleptic Gregorian day from the days since
 * the epoch, by 400-year eras of 146,097 days with years counted from
 * March (the leap day last).  Years outside 0000–9999 go the slow way.
 */
void sc_ui_iso_time(int64_t t, char out[32])
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    int64_t z = days + 719468; /* days since 0000-03-01 */
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* March = 0 */
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    if (y < 0 || y > 9999) {
        time_t tt = (time_t)t;
        struct tm tm;
        out[0] = '\0';
        if (gmtime_r(&tt, &tm))
            strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return;
    }
    memcpy(out, "0000-00-00T00:00:00Z", 21);
    digits(out, (unsigned)y, 4);
    digits(out + 5, (unsigned)m, 2);
    digits(out + 8, (unsigned)d, 2);
    digits(out + 11, (unsigned)(secs / 3600), 2);
    digits(out + 14, (unsigned)(secs / 60 % 60), 2);
    digits(out + 17, (unsigned)(secs % 60), 2);
}

bool sc_ui_day_parse(const char *s, int64_t *day)
{
    int y, mo, d;
    char tail;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return false; /* also stops at a NUL before the tenth byte */
    if (s[10] != '\0' || sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3 || y < 1970 ||
        mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return false;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return false; /* 29 February of a common year */
    /* Days from civil (Howard Hinnant's algorithm). */
    y -= mo <= 2;
    int era = y / 400;
    int yoe = y - era * 400;
    int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *day = (int64_t)era * 146097 + doe - 719468;
    return true;
}

void sc_ui_day_format(int64_t day, char out[11])
{
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ---- lists as JSON or CSV ------------------------------------------------------------ */

void sc_list_begin(struct req *r, struct list_out *o, const char *csv_header)
{
    const char *f = sc_req_arg(r, "format");
    o->csv = f && strcmp(f, "csv") == 0;
    o->rows = 0;
    sc_buf_init(&o->b, 64 << 20);
    if (o->csv) {
        sc_buf_puts(&o->b, "\xef\xbb\xbf"); /* BOM: spreadsheets then read UTF-8 Chinese right */
        sc_buf_puts(&o->b, csv_header);
    } else {
        sc_buf_putc(&o->b, '[');
    }
}

void sc_list_csv_row(struct list_out *o, const char *const *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            sc_buf_putc(&o->b, ',');
        sc_ui_csv_field(&o->b, f[i]);
    }
    sc_buf_puts(&o->b, "\r\n");
}

enum MHD_Result sc_list_finish(struct req *r, struct list_out *o, enum sc_err e)
{
    if (e != SC_OK) {
        sc_buf_cleanup(&o->b);
        return sc_reply_err(r, e, NULL);
    }
    if (!o->csv)
        sc_buf_puts(&o->b, o->rows ? "\n]\n" : "]\n");
    if (sc_buf_error(&o->b)) {
        sc_buf_cleanup(&o->b);
        return sc_reply_error(r, 413, "The list is too long to send at once; narrow it down.");
    }
    return sc_reply_bytes(r, 200, o->csv ? "text/csv; charset=utf-8" : "application/json", &o->b);
}

bool sc_report_range(struct req *r, const struct sc_member *m, struct sc_scope *scope,
                     int64_t *from, int64_t *to, enum MHD_Result *ret)
{
    *to = (int64_t)time(NULL) / 86400;
    *from = *to - 29;
    const char *f = sc_req_arg(r, "from"), *t = sc_req_arg(r, "to");
    if ((f && !sc_ui_day_parse(f, from)) || (t && !sc_ui_day_parse(t, to)) || *from > *to) {
        *ret =
            sc_reply_error(r, 400, "from and to are dates written YYYY-MM-DD, from not after to.");
        return false;
    }
    sc_session_scope(m, scope);
    return true;
}

void sc_ui_message(struct sc_buf *b, bool ok, const char *text)
{
    if (!text)
        return;
    sc_ui_htmlf(b, "<p class=\"%s\" role=\"%s\">", ok ? "ok" : "error", ok ? "status" : "alert");
    sc_ui_text(b, sc_tr(text));
    sc_ui_html(b, "</p>");
}

void sc_ui_when(struct sc_buf *b, int64_t t)
{
    char s[32];
    time_t tt = (time_t)(t + (int64_t)sc_tz_min(t) * 60); /* SHARECARD_TZ (issue 17) */
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(s, sizeof(s), "%Y-%m-%d %H:%M", &tm);
    sc_buf_puts(b, s);
}

int64_t sc_num_arg(const char *s)
{
    /* Digits only: strtoll() alone would also take " 5", "+5" and "-0". */
    if (!s || !*s || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s))
        return 0;
    return (int64_t)strtoll(s, NULL, 10);
}
