/*
 * pages_int.h — private to server/: what the pages and the JSON API share —
 * the language of signed-in pages (i18n.c), page parts and writers, forms,
 * dates, lists as JSON or CSV and report ranges (ui.c), members added from
 * the page, the CLI and CSV (members.c), and the QR answer of the public
 * pages (pages_public.c).
 */
#ifndef SHARECARD_PAGES_INT_H
#define SHARECARD_PAGES_INT_H

#include "http_int.h"

/* The message of a form whose CSRF token is missing or stale. */
#define SC_FORM_EXPIRED "This form has expired. Reload the page and try again."

/* ---- languages of the signed-in pages (i18n.c): per request, English by default ---- */

void sc_tr_set(enum sc_lang l);
enum sc_lang sc_tr_lang(void);
const char *sc_tr(const char *en) __attribute__((format_arg(1))); /* 'en' in the current language */
/* Our own markup, its text (and title, placeholder, aria-label) in the current language. */
void sc_ui_html(struct sc_buf *b, const char *html);
void sc_ui_htmlf(struct sc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- page parts and writers (ui.c) ------------------------------------------------ */

void sc_ui_text(struct sc_buf *b, const char *s); /* HTML-escaped; nothing for NULL */
void sc_ui_head(struct sc_buf *b, const char *title);
/* The frame of a signed-in page: navigation for 'm''s role ('here' marked), then the title. */
void sc_ui_begin(struct req *r, struct sc_buf *b, const char *title, const struct sc_member *m,
                 const char *here);
void sc_ui_end(struct sc_buf *b);
void sc_ui_csrf_field(struct req *r, struct sc_buf *b);
/* A notice: 'text' (translated) as a status ('ok') or an alert; nothing for NULL. */
void sc_ui_message(struct sc_buf *b, bool ok, const char *text);
/* 't' as "YYYY-MM-DD HH:MM" UTC. */
void sc_ui_when(struct sc_buf *b, int64_t t);
/* A positive whole number written in 's', or 0. */
int64_t sc_num_arg(const char *s);
/* The urlencoded form field 'name' of the request body into 'out' ("" when absent). */
enum sc_err sc_req_form_field(struct req *r, const char *name, char *out, size_t n);
void sc_ui_json_str(struct sc_buf *b, const char *s); /* a JSON string, or null */
/* A CSV field: quoted when it holds a comma, quote or line break; formula-safe. */
void sc_ui_csv_field(struct sc_buf *b, const char *s);
void sc_ui_iso_time(int64_t t, char out[32]);
void sc_ui_int(struct sc_buf *b, int64_t v);       /* 'v' in decimal */
bool sc_ui_day_parse(const char *s, int64_t *day); /* "YYYY-MM-DD" to a UTC day number */
void sc_ui_day_format(int64_t day, char out[11]);

/* A list answered as JSON (an array) or, with ?format=csv, CSV with a BOM. */
struct list_out {
    struct sc_buf b;
    bool csv;
    size_t rows;
};
void sc_list_begin(struct req *r, struct list_out *o, const char *csv_header);
void sc_list_csv_row(struct list_out *o, const char *const *f, size_t n);
enum MHD_Result sc_list_finish(struct req *r, struct list_out *o, enum sc_err e);
/*
 * A report's range and scope for member 'm' (the router checked the token):
 * ?from=&to= as YYYY-MM-DD (the last 30 days when absent; 400 when
 * malformed) and the scope 'm' may see.  False when '*ret' already answered.
 */
bool sc_report_range(struct req *r, const struct sc_member *m, struct sc_scope *scope,
                     int64_t *from, int64_t *to, enum MHD_Result *ret);

/* ---- members (members.c): added with the same checks from the CLI, the page and a CSV ---- */

struct member_input {
    const char *name, *email, *team, *role, *slug, *title, *phone; /* NULL or "" when not given */
};
enum sc_err sc_members_create(struct sc_store *s, const char *actor, const struct member_input *in,
                              struct sc_member *out, char *why, size_t whylen);
#define IMPORT_MAX_ROWS 2000
struct import_result {
    size_t added, failed;
    bool bad_header;
    struct sc_buf rows; /* one HTML table row per line: line number, e-mail, outcome */
};
/* Adds a member per CSV row (header: name,email[,team,role,slug,title,phone]). */
void sc_members_import(struct sc_store *s, const char *actor, const char *team,
                       enum sc_role max_role, const char *csv, size_t len,
                       struct import_result *res);

/* ---- the public pages (pages_public.c) ---------------------------------------------- */

/* The QR of the tracked link 'code', cached; PNG unless 'svg'. */
enum MHD_Result sc_public_qr(struct req *r, const char *code, bool svg);

#endif
