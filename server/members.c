/*
 * members.c — adding members, one at a time or from a CSV file, with the
 * same checks everywhere (the CLI, the members page, the import): a name
 * and a valid e-mail, a role a manager may give, a valid slug when one is
 * asked for.  Every addition is audited.  CSV parsing is libcsv's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "pages_int.h"
#include "sharecard/referral.h"

enum sc_err sc_members_create(struct sc_store *s, const char *actor, const struct member_input *in,
                              struct sc_member *out, char *why, size_t whylen)
{
    struct sc_member m;
    struct sc_card p;
    memset(&m, 0, sizeof(m));
    memset(&p, 0, sizeof(p));
    const char *reason = NULL;
    const char *name = in->name ? in->name : "", *team = in->team ? in->team : "";
    while (*name == ' ')
        name++;
    if (!name[0]) {
        snprintf(why, whylen, "a name is required");
        return SC_EINVAL;
    }
    if (strlen(name) > SC_NAME_MAX || strlen(team) > SC_TEAM_MAX) {
        snprintf(why, whylen, "the name or team is too long");
        return SC_EINVAL;
    }
    if (sc_email_normalise(in->email ? in->email : "", m.email, &reason) != SC_OK) {
        snprintf(why, whylen, "the e-mail address is not valid%s%s", reason ? ": " : "",
                 reason ? reason : "");
        return SC_EINVAL;
    }
    m.role = SC_ROLE_SALES;
    if (in->role && in->role[0] && !sc_role_parse(in->role, &m.role)) {
        snprintf(why, whylen, "the role must be sales, manager or admin");
        return SC_EINVAL;
    }
    snprintf(m.name, sizeof(m.name), "%s", name);
    snprintf(m.team, sizeof(m.team), "%s", team);
    if (in->slug && in->slug[0]) {
        if (strlen(in->slug) > SC_SLUG_MAX || !sc_slug_valid(in->slug, &reason)) {
            snprintf(why, whylen, "the slug cannot be used: %s", reason ? reason : "too long");
            return SC_EINVAL;
        }
        snprintf(p.slug, sizeof(p.slug), "%s", in->slug);
    }
    p.name = m.name;
    p.email = m.email;
    p.title = in->title && in->title[0] ? (char *)(uintptr_t)in->title : NULL;
    p.phone = in->phone && in->phone[0] ? (char *)(uintptr_t)in->phone : NULL;
    if (sc_card_validate(&p, &reason) != SC_OK) {
        snprintf(why, whylen, "%s", reason ? reason : "the card is not valid");
        return SC_EINVAL;
    }
    enum sc_err e = sc_store_member_add(s, &m, NULL, &p, out);
    if (e == SC_ECONFLICT)
        snprintf(why, whylen, "a member with this e-mail, or a card with this slug, exists");
    else if (e != SC_OK)
        snprintf(why, whylen, "could not be stored: %s", sc_err_str(e));
    else
        sc_store_audit(s, actor, "member.add", m.email, sc_role_name(m.role));
    return e;
}

/* ---- CSV import -------------------------------------------------------------------- */

enum { COL_NAME, COL_EMAIL, COL_TEAM, COL_ROLE, COL_SLUG, COL_TITLE, COL_PHONE, NCOLS };
static const char *const col_names[NCOLS] = {"name", "email", "team", "role",
                                             "slug", "title", "phone"};

#define MAX_FIELDS 32
#define MAX_FIELD  2048

struct import {
    struct sc_store *store;
    const char *actor;
    const char *team;      /* not NULL: every row goes to this team */
    enum sc_role max_role; /* the highest role this importer may give */
    int col[NCOLS];        /* index of each column in a row, -1 when absent */
    bool have_header;
    char *field[MAX_FIELDS];
    size_t nfields;
    size_t line;
    struct import_result *res;
};

static void import_field(void *data, size_t len, void *ctx)
{
    struct import *im = ctx;
    if (im->nfields >= MAX_FIELDS) {
        im->nfields++;
        return;
    }
    size_t n = len < MAX_FIELD ? len : MAX_FIELD;
    char *f = malloc(n + 1);
    if (f) {
        memcpy(f, data, n);
        f[n] = '\0';
    }
    im->field[im->nfields++] = f;
}

static void report(struct import *im, bool ok, const char *email, const char *why)
{
    struct import_result *r = im->res;
    if (ok)
        r->added++;
    else
        r->failed++;
    sc_buf_printf(&r->rows, "<tr class=\"%s\"><td class=\"n\">%zu</td><td>", ok ? "ok" : "error",
                  im->line);
    sc_ui_text(&r->rows, email ? email : "");
    sc_buf_puts(&r->rows, "</td><td>");
    sc_ui_text(&r->rows, sc_tr(ok ? "added" : why));
    sc_buf_puts(&r->rows, "</td></tr>");
}

static const char *cell(struct import *im, int c)
{
    int i = im->col[c];
    return i >= 0 && (size_t)i < im->nfields && (size_t)i < MAX_FIELDS ? im->field[i] : NULL;
}

static void import_row(int term, void *ctx)
{
    (void)term;
    struct import *im = ctx;
    im->line++;
    bool blank = im->nfields == 0 || (im->nfields == 1 && (!im->field[0] || !im->field[0][0]));
    if (blank) {
        /* an empty line: nothing to add, nothing to report */
    } else if (!im->have_header) {
        for (int c = 0; c < NCOLS; c++)
            im->col[c] = -1;
        for (size_t i = 0; i < im->nfields && i < MAX_FIELDS; i++) {
            const char *h = im->field[i] ? im->field[i] : "";
            if (i == 0 && strncmp(h, "\xef\xbb\xbf", 3) == 0)
                h += 3; /* a spreadsheet's BOM */
            for (int c = 0; c < NCOLS; c++)
                if (strcasecmp(h, col_names[c]) == 0)
                    im->col[c] = (int)i;
        }
        im->have_header = true;
        if (im->col[COL_NAME] < 0 || im->col[COL_EMAIL] < 0) {
            report(im, false, NULL,
                   "the first line must name the columns, with at least name and email");
            im->res->bad_header = true;
        }
    } else if (im->res->bad_header) {
        /* every row is skipped: the header already said why */
    } else if (im->nfields > MAX_FIELDS) {
        report(im, false, NULL, "too many columns");
    } else if (im->res->added + im->res->failed >= IMPORT_MAX_ROWS) {
        report(im, false, cell(im, COL_EMAIL), "too many rows in one import");
    } else {
        struct member_input in = {
            .name = cell(im, COL_NAME),
            .email = cell(im, COL_EMAIL),
            .team = im->team ? im->team : cell(im, COL_TEAM),
            .role = cell(im, COL_ROLE),
            .slug = cell(im, COL_SLUG),
            .title = cell(im, COL_TITLE),
            .phone = cell(im, COL_PHONE),
        };
        enum sc_role role = SC_ROLE_SALES;
        char why[160];
        struct sc_member out;
        if (in.role && in.role[0] && sc_role_parse(in.role, &role) && role > im->max_role)
            report(im, false, in.email, "you may not give this role");
        else if (sc_members_create(im->store, im->actor, &in, &out, why, sizeof(why)) != SC_OK)
            report(im, false, in.email, why);
        else
            report(im, true, out.email, NULL);
    }
    for (size_t i = 0; i < im->nfields && i < MAX_FIELDS; i++)
        free(im->field[i]);
    im->nfields = 0;
}

void sc_members_import(struct sc_store *s, const char *actor, const char *team,
                       enum sc_role max_role, const char *csv, size_t len,
                       struct import_result *res)
{
    struct import im = {.store = s, .actor = actor, .team = team, .max_role = max_role, .res = res};
    struct csv_parser p;
    res->added = res->failed = 0;
    res->bad_header = false;
    if (csv_init(&p, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) {
        res->failed = 1;
        return;
    }
    csv_set_opts(&p, CSV_APPEND_NULL);
    if (csv_parse(&p, csv, len, import_field, import_row, &im) != len) {
        sc_buf_printf(&res->rows, "<tr class=\"error\"><td class=\"n\">%zu</td><td></td><td>",
                      im.line + 1);
        sc_ui_text(&res->rows, csv_strerror(csv_error(&p)));
        sc_buf_puts(&res->rows, "</td></tr>");
        res->failed++;
    } else {
        csv_fini(&p, import_field, import_row, &im);
    }
    for (size_t i = 0; i < im.nfields && i < MAX_FIELDS; i++)
        free(im.field[i]);
    csv_free(&p);
}
