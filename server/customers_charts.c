/*
 * customers_charts.c — parts of the dashboard's customers and retention
 * section that customers.c does not draw itself (issue 14): CRR month by
 * month, and the period's figures per team and per salesperson.  The chart
 * is inline SVG like the dashboard's other charts, drawn at a fixed scale
 * (width and height as the viewBox), so a period of one month is one bar,
 * not a bar stretched to the column's width.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "customers_int.h"
#include "pages_int.h"
#include "sharecard/customers.h"
#include "sharecard/escape.h"

enum { BAR_W = 56, LEFT = 40, TOP = 18, PLOT_H = 100 };

void sc_cust_crr_chart(struct sc_buf *b, const struct sc_ret_report *rep)
{
    sc_ui_html(b, "<h2>CRR by month</h2>");
    if (!rep->ntrend) {
        sc_ui_html(b, "<p class=\"hint\">No months in this period.</p>");
        return;
    }
    /* CRR can pass 100% when customers come back after the window; the scale follows. */
    double top = 1.0;
    for (size_t i = 0; i < rep->ntrend; i++)
        if (rep->trend[i].has_crr && isfinite(rep->trend[i].crr) && rep->trend[i].crr > top)
            top = rep->trend[i].crr;
    int w = LEFT + BAR_W * (int)rep->ntrend + 8, h = TOP + PLOT_H + 22;
    sc_ui_htmlf(b,
                "<svg class=\"crr-trend\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
                "role=\"img\" aria-label=\"Customer retention rate (CRR) by month\">"
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#c9cdd4\"/>"
                "<text x=\"2\" y=\"%d\" font-size=\"11\" fill=\"#86909c\">%.0f%%</text>"
                "<text x=\"2\" y=\"%d\" font-size=\"11\" fill=\"#86909c\">0%%</text>",
                w, h, w, h, LEFT, TOP + PLOT_H, w - 4, TOP + PLOT_H, TOP + 4, 100 * top,
                TOP + PLOT_H);
    for (size_t i = 0; i < rep->ntrend; i++) {
        const struct sc_ret_month *m = &rep->trend[i];
        int x = LEFT + BAR_W * (int)i;
        sc_buf_printf(b, "<g data-month=\"%04d-%02d\"", m->year, m->month);
        if (m->has_crr && isfinite(m->crr)) {
            double v = m->crr < 0 ? 0 : m->crr;
            int bh = (int)lround(PLOT_H * v / top);
            sc_buf_printf(b,
                          " data-crr=\"%.4f\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                          "rx=\"3\" fill=\"#1f6feb\" fill-opacity=\"0.8\"/><text x=\"%d\" y=\"%d\" "
                          "font-size=\"11\" text-anchor=\"middle\" fill=\"#1d2129\">%.0f%%</text>",
                          m->crr, x + 6, TOP + PLOT_H - bh, BAR_W - 12, bh, x + BAR_W / 2,
                          TOP + PLOT_H - bh - 3, 100 * m->crr);
        } else {
            /* No customer active on the month's first day: no rate, not a zero. */
            sc_buf_printf(b,
                          "><text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" "
                          "fill=\"#86909c\">—</text>",
                          x + BAR_W / 2, TOP + PLOT_H - 3);
        }
        sc_buf_printf(b,
                      "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" "
                      "fill=\"#4e5969\">%04d-%02d</text></g>",
                      x + BAR_W / 2, TOP + PLOT_H + 15, m->year, m->month);
    }
    sc_buf_puts(b, "</svg>");
}

/* ---- the period per team and per salesperson ---------------------------------------------- */

struct name_of {
    int64_t id;
    char name[SC_NAME_MAX + 1];
};

struct names {
    struct name_of *v;
    size_t n, cap;
};

static int keep_name(const struct sc_member *m, void *ctx)
{
    struct names *ns = ctx;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 64;
        void *p = realloc(ns->v, cap * sizeof(*ns->v));
        if (!p)
            return 1;
        ns->v = p;
        ns->cap = cap;
    }
    ns->v[ns->n].id = m->id;
    snprintf(ns->v[ns->n].name, sizeof(ns->v[ns->n].name), "%s", m->name);
    ns->n++;
    return 0;
}

static const char *name_of(const struct names *ns, int64_t id)
{
    for (size_t lo = 0, hi = ns->n; lo < hi;) { /* the store lists members by id */
        size_t mid = lo + (hi - lo) / 2;
        if (ns->v[mid].id == id)
            return ns->v[mid].name;
        if (ns->v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void fraction_cell(struct sc_buf *b, const char *key, bool has, double v)
{
    sc_buf_printf(b, "<td class=\"n\" data-%s=\"", key);
    if (has && isfinite(v))
        sc_buf_printf(b, "%.4f\">%.1f%%</td>", v, 100 * v);
    else
        sc_buf_puts(b, "\">—</td>");
}

/* One row: its heading cell's attribute and text, then the figures. */
static void group_row(struct sc_buf *b, const char *attr, const char *who,
                      const struct sc_ret_report *r)
{
    sc_buf_printf(b, "<tr %s><td>", attr);
    sc_ui_text(b, who);
    sc_buf_printf(b,
                  "</td><td class=\"n\" data-s=\"%lld\">%lld</td><td class=\"n\">%lld</td><td "
                  "class=\"n\">%lld</td><td class=\"n\">%lld</td>",
                  (long long)r->customers_start, (long long)r->customers_start,
                  (long long)r->customers_end, (long long)r->new_customers, (long long)r->retained);
    fraction_cell(b, "crr", r->has_crr, r->crr);
    fraction_cell(b, "churn", r->has_churn, r->churn_rate);
    fraction_cell(b, "ndr", r->has_ndr, r->ndr);
    sc_buf_puts(b, "</tr>");
}

static void group_head(struct sc_buf *b, const char *id, const char *first)
{
    sc_ui_htmlf(b, "<div class=\"scroll\"><table class=\"t\" id=\"%s\"><thead><tr><th>", id);
    sc_ui_text(b, sc_tr(first));
    sc_ui_html(b, "</th><th class=\"n\">Active at start</th><th class=\"n\">Active at "
                  "end</th><th class=\"n\">New</th><th class=\"n\">Retained</th><th "
                  "class=\"n\">Retention (CRR)</th><th class=\"n\">Churn</th><th "
                  "class=\"n\">Net revenue retention</th></tr></thead><tbody>");
}

void sc_cust_retention_groups(struct sc_buf *b, struct sc_store *s, const struct sc_ret_group *g,
                              size_t n)
{
    if (!n)
        return;
    struct names ns = {0};
    if (sc_store_member_list(s, keep_name, &ns) != SC_OK)
        ns.n = 0; /* ids stand in for names */
    /* Teams: each team's members' sums (a member has one team), in order of first sight. */
    const char **teams = calloc(n, sizeof(*teams));
    struct sc_ret_report *sums = calloc(n, sizeof(*sums));
    size_t nt = 0;
    for (size_t i = 0; teams && sums && i < n; i++) {
        const char *t = g[i].team && g[i].team[0] ? g[i].team : "";
        size_t k = 0;
        while (k < nt && strcmp(teams[k], t) != 0)
            k++;
        if (k == nt)
            teams[nt++] = t;
        sc_ret_report_add(&sums[k], &g[i].r);
    }
    sc_ui_html(b, "<h2>By team and salesperson</h2>");
    if (teams && sums) {
        group_head(b, "retention-teams", "Team");
        for (size_t k = 0; k < nt; k++) {
            struct sc_buf attr;
            sc_buf_init(&attr, 1024);
            sc_buf_puts(&attr, "data-team=\"");
            sc_esc_html(&attr, teams[k], strlen(teams[k]));
            sc_buf_puts(&attr, "\"");
            group_row(b, attr.data ? attr.data : "", teams[k][0] ? teams[k] : sc_tr("(no team)"),
                      &sums[k]);
            sc_buf_cleanup(&attr);
        }
        sc_ui_html(b, "</tbody></table></div>");
    }
    group_head(b, "retention-members", "Salesperson");
    for (size_t i = 0; i < n; i++) {
        char attr[48], id[32];
        snprintf(attr, sizeof(attr), "data-member=\"%lld\"", (long long)g[i].member);
        snprintf(id, sizeof(id), "#%lld", (long long)g[i].member);
        const char *who = g[i].member ? name_of(&ns, g[i].member) : sc_tr("(none)");
        group_row(b, attr, who ? who : id, &g[i].r);
    }
    sc_ui_html(b, "</tbody></table></div>");
    free(teams);
    free(sums);
    free(ns.v);
}
