/*
 * customers_charts.c — charts of the dashboard's customers and retention
 * section that customers.c does not draw itself: CRR month by month (issue
 * 14).  Inline SVG like the dashboard's other charts, drawn at a fixed
 * scale (width and height as the viewBox), so a period of one month is one
 * bar, not a bar stretched to the column's width.
 */
#include <math.h>
#include <stdio.h>

#include "customers_int.h"
#include "pages_int.h"
#include "sharecard/customers.h"

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
