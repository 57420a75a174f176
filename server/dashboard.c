/*
 * dashboard.c — the manager's dashboard and the salesperson's workspace,
 * rendered on the server: KPI tiles against the previous period, a daily
 * chart drawn as SVG, the leaderboard, the latest sign-ups with who was
 * credited and why.  Every figure comes from rollups, so these pages cost
 * the same with ten thousand events or ten million.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "customers_int.h"
#include "pages_int.h"
#include "routes_int.h"
#include "ux_int.h"
#include "sharecard/escape.h"

#define MAX_DAYS 366

struct range {
    int days;
    bool custom;                /* from–to chosen by hand */
    int64_t from, to;           /* UTC day numbers, inclusive */
    int64_t prev_from, prev_to; /* the period before, of the same length */
};

/* 30 days to today: the range when none is asked for. */
static void range_default(struct range *g, int days)
{
    g->custom = false;
    g->days = days;
    g->to = (int64_t)time(NULL) / 86400;
    g->from = g->to - g->days + 1;
    g->prev_to = g->from - 1;
    g->prev_from = g->prev_to - g->days + 1;
}

/*
 * ?days=1|7|30|90, or ?from=YYYY-MM-DD&to=YYYY-MM-DD (at most MAX_DAYS days,
 * not past tomorrow); 30 days when none is given (an empty custom form
 * counts as none).  NULL, or why the range is refused: the page says so
 * with a 400 rather than quietly showing another range.
 */
static const char *parse_range(struct req *r, struct range *g)
{
    const char *d = sc_req_arg(r, "days"), *f = sc_req_arg(r, "from"), *t = sc_req_arg(r, "to");
    int64_t today = (int64_t)time(NULL) / 86400, from, to;
    range_default(g, 30);
    if ((f && f[0]) || (t && t[0])) {
        if (!f || !t || !sc_ui_day_parse(f, &from) || !sc_ui_day_parse(t, &to))
            return "from and to are both needed, each a date that exists, written YYYY-MM-DD.";
        if (from > to)
            return "from must not be after to.";
        if (to - from >= MAX_DAYS)
            return "from and to may be at most 366 days apart.";
        if (to > today + 1)
            return "to must not be in the future.";
        g->custom = true;
        g->from = from;
        g->to = to;
        g->days = (int)(to - from + 1);
    } else if (d) {
        int64_t n = sc_num_arg(d);
        if (strlen(d) > 2 || (n != 1 && n != 7 && n != 30 && n != 90))
            return "days is 1, 7, 30 or 90.";
        range_default(g, (int)n);
    }
    g->prev_to = g->from - 1;
    g->prev_from = g->prev_to - g->days + 1;
    return NULL;
}

static void frame_begin(struct req *r, struct sc_buf *b, const char *title,
                        const struct sc_member *m, const struct range *g, const char *self);

/* A refused range: the page's frame (its range picker at the default), the reason, a 400. */
static enum MHD_Result range_refused(struct req *r, const struct sc_member *m, const char *title,
                                     const char *self, const char *why)
{
    struct range g;
    struct sc_buf b;
    range_default(&g, 30);
    sc_buf_init(&b, 1 << 20);
    frame_begin(r, &b, title, m, &g, self);
    sc_ui_message(&b, false, why);
    sc_ui_end(&b);
    return sc_reply_bytes(r, 400, "text/html; charset=utf-8", &b);
}

/* The page frame with the range picker: presets and a custom from–to. */
static void frame_begin(struct req *r, struct sc_buf *b, const char *title,
                        const struct sc_member *m, const struct range *g, const char *self)
{
    sc_ui_begin(r, b, title, m, self);
    sc_ui_html(b, "<nav class=\"range\">");
    static const int opts[] = {1, 7, 30, 90};
    static const char *const names[] = {"Today", "7 days", "30 days", "90 days"};
    for (int i = 0; i < 4; i++)
        sc_ui_htmlf(b, "<a href=\"%s?days=%d\"%s>%s</a>", self, opts[i],
                    !g->custom && g->days == opts[i] ? " class=\"on\"" : "", sc_tr(names[i]));
    char f[11], t[11];
    sc_ui_day_format(g->from, f);
    sc_ui_day_format(g->to, t);
    sc_ui_htmlf(b,
                "<form class=\"inline custom%s\" method=\"get\" action=\"%s\">"
                "<input type=\"date\" name=\"from\" value=\"%s\" aria-label=\"From\"> – "
                "<input type=\"date\" name=\"to\" value=\"%s\" aria-label=\"To\"> "
                "<button class=\"btn\" type=\"submit\">Show</button></form></nav></header>",
                g->custom ? " on" : "", self, f, t);
}

static void frame_end(struct sc_buf *b)
{
    sc_ui_end(b);
}

static void tile(struct sc_buf *b, const char *key, const char *label, int64_t v, int64_t prev)
{
    sc_ui_htmlf(b,
                "<div class=\"tile\" data-kpi=\"%s\" data-value=\"%lld\"><div class=\"v\">%lld"
                "</div><div class=\"k\">%s</div>",
                key, (long long)v, (long long)v, label);
    if (prev > 0) {
        double pct = 100.0 * (double)(v - prev) / (double)prev;
        sc_ui_htmlf(b, "<div class=\"d %s\">%+.0f%% vs previous</div>", pct >= 0 ? "up" : "down",
                    pct);
    } else {
        sc_ui_html(b, "<div class=\"d\">—</div>");
    }
    sc_ui_html(b, "</div>");
}

static void tiles(struct sc_buf *b, const struct sc_stats *s, const struct sc_stats *p)
{
    sc_ui_html(b, "<section class=\"tiles\">");
    tile(b, "scans", sc_tr("QR scans"), s->n[SC_EV_SCAN], p->n[SC_EV_SCAN]);
    tile(b, "opens", sc_tr("Link opens"), s->n[SC_EV_OPEN], p->n[SC_EV_OPEN]);
    tile(b, "views", sc_tr("Page views"), s->n[SC_EV_VIEW], p->n[SC_EV_VIEW]);
    tile(b, "uniques", sc_tr("Unique visitors"), s->uniques, p->uniques);
    tile(b, "shares", sc_tr("Shares"), s->n[SC_EV_SHARE], p->n[SC_EV_SHARE]);
    tile(b, "saves", sc_tr("Contacts saved"), s->n[SC_EV_SAVE], p->n[SC_EV_SAVE]);
    tile(b, "clicks", sc_tr("Contact taps"), s->n[SC_EV_CLICK], p->n[SC_EV_CLICK]);
    tile(b, "signups", sc_tr("Sign-ups"), s->n[SC_EV_SIGNUP], p->n[SC_EV_SIGNUP]);
    double conv = s->uniques ? 100.0 * (double)s->n[SC_EV_SIGNUP] / (double)s->uniques : 0;
    sc_ui_htmlf(b,
                "<div class=\"tile\" data-kpi=\"conversion\"><div class=\"v\">%.1f%%</div>"
                "<div class=\"k\">Visitor → sign-up</div><div class=\"d\">bots apart: "
                "%lld</div></div></section>",
                conv, (long long)s->bots);
}

/* ---- the chart -------------------------------------------------------------------- */

struct series {
    int64_t from;
    int days;
    int64_t n[SC_EV_COUNT][MAX_DAYS]; /* humans per type and day */
};

static int add_point(int64_t day, enum sc_ev_type t, int64_t n, void *ctx)
{
    struct series *s = ctx;
    int64_t i = day - s->from;
    if (i >= 0 && i < s->days && t < SC_EV_COUNT)
        s->n[t][i] += n;
    return 0;
}

static void polyline(struct sc_buf *b, const int64_t *v, int days, int64_t max, const char *color,
                     enum sc_ev_type t)
{
    /* data-n: the day's counts, first day first, for scripts and tests. */
    sc_ui_htmlf(b, "<polyline data-type=\"%s\" data-n=\"", sc_ev_name(t));
    for (int i = 0; i < days; i++)
        sc_ui_htmlf(b, "%s%lld", i ? "," : "", (long long)v[i]);
    sc_ui_htmlf(b, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
    for (int i = 0; i < days; i++) {
        double x = days > 1 ? 40.0 + 550.0 * i / (days - 1) : 315.0;
        double y = 170.0 - (max ? 150.0 * (double)v[i] / (double)max : 0.0);
        sc_ui_htmlf(b, "%.1f,%.1f ", x, y);
    }
    sc_ui_html(b, "\"/>");
}

/* One line per event type that happened in the range, on a shared scale. */
static void chart(struct sc_buf *b, const struct series *s)
{
    static const struct {
        enum sc_ev_type t;
        const char *label, *color;
    } lines[] = {
        {SC_EV_SCAN, "scans", "#1f6feb"},      {SC_EV_OPEN, "opens", "#7b61ff"},
        {SC_EV_VIEW, "views", "#0fc6c2"},      {SC_EV_SHARE, "shares", "#ff7d00"},
        {SC_EV_SAVE, "saves", "#d25f00"},      {SC_EV_CLICK, "contact taps", "#86909c"},
        {SC_EV_SIGNUP, "sign-ups", "#00a870"}, {SC_EV_CONVERT, "purchases", "#e34d59"},
    };
    int64_t max = 1;
    for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++)
        for (int i = 0; i < s->days; i++)
            if (s->n[lines[l].t][i] > max)
                max = s->n[lines[l].t][i];
    sc_ui_htmlf(b,
                "<svg class=\"chart\" viewBox=\"0 0 600 192\" role=\"img\" "
                "aria-label=\"Events per day, by type\"><rect width=\"600\" "
                "height=\"192\" fill=\"#fff\"/><line x1=\"40\" y1=\"170\" x2=\"590\" "
                "y2=\"170\" stroke=\"#c9cdd4\"/><text x=\"4\" y=\"24\" font-size=\"12\" "
                "fill=\"#86909c\">%lld</text><text x=\"4\" y=\"170\" font-size=\"12\" "
                "fill=\"#86909c\">0</text>",
                (long long)max);
    /* Dates under the axis (issue 17): up to six, evenly spread, the first and the last
     * included, as MM-DD, each with a tick. */
    int labels = s->days < 6 ? s->days : 6, prev = -1;
    for (int k = 0; k < labels; k++) {
        int i = labels > 1 ? (int)lround((double)k * (s->days - 1) / (labels - 1)) : 0;
        if (i == prev)
            continue;
        prev = i;
        double x = s->days > 1 ? 40.0 + 550.0 * i / (s->days - 1) : 315.0;
        char day[11];
        sc_ui_day_format(s->from + i, day);
        sc_ui_htmlf(b,
                    "<line x1=\"%.1f\" y1=\"170\" x2=\"%.1f\" y2=\"174\" stroke=\"#c9cdd4\"/>"
                    "<text class=\"xday\" x=\"%.1f\" y=\"187\" font-size=\"12\" "
                    "fill=\"#86909c\" text-anchor=\"%s\">%s</text>",
                    x, x, x,
                    s->days == 1       ? "middle"
                    : i == 0           ? "start"
                    : i == s->days - 1 ? "end"
                                       : "middle",
                    day + 5);
    }
    for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
        int64_t sum = 0;
        for (int i = 0; i < s->days; i++)
            sum += s->n[lines[l].t][i];
        if (sum)
            polyline(b, s->n[lines[l].t], s->days, max, lines[l].color, lines[l].t);
    }
    sc_ui_html(b, "</svg>");
    /* The legend as text of the page's size, a swatch of each line's colour. */
    sc_ui_html(b, "<ul class=\"legend\" id=\"chart-legend\">");
    for (size_t l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
        int64_t sum = 0;
        for (int i = 0; i < s->days; i++)
            sum += s->n[lines[l].t][i];
        if (!sum)
            continue;
        sc_ui_htmlf(b,
                    "<li><svg width=\"18\" height=\"10\" aria-hidden=\"true\"><rect "
                    "width=\"18\" height=\"4\" y=\"3\" fill=\"%s\"/></svg>%s</li>",
                    lines[l].color, sc_tr(lines[l].label));
    }
    sc_ui_html(b, "</ul>");
}

/*
 * scan/open → view → engage → sign-up → purchase, each bar against the first.
 * The steps count events, not people (DESIGN §6: the report counts what was
 * recorded), so a step can outnumber the one before it — a visitor views the
 * card again, or comes without a tracked link — and the page says so: the
 * percentages are labelled as ratios to the first step that may pass 100 %.
 */
static void funnel(struct sc_buf *b, const struct sc_stats *s, int64_t orders)
{
    const struct {
        const char *label;
        int64_t n;
    } steps[] = {
        {"Scans and opens", s->n[SC_EV_SCAN] + s->n[SC_EV_OPEN]},
        {"Page views", s->n[SC_EV_VIEW]},
        {"Engaged (taps, saves, shares)", s->n[SC_EV_CLICK] + s->n[SC_EV_SAVE] + s->n[SC_EV_SHARE]},
        {"Sign-ups", s->n[SC_EV_SIGNUP]},
        {"Purchases", orders},
    };
    enum { N = sizeof(steps) / sizeof(steps[0]) };
    int64_t top = 1;
    for (int i = 0; i < N; i++)
        if (steps[i].n > top)
            top = steps[i].n;
    sc_ui_htmlf(b,
                "<svg class=\"funnel\" viewBox=\"0 0 600 %d\" role=\"img\" "
                "aria-label=\"Funnel\">",
                N * 34);
    for (int i = 0; i < N; i++) {
        double w = 300.0 * (double)steps[i].n / (double)top;
        double pct = i && steps[0].n ? 100.0 * (double)steps[i].n / (double)steps[0].n : 100.0;
        sc_ui_htmlf(b,
                    "<g data-step=\"%d\" data-value=\"%lld\"><text x=\"0\" y=\"%d\" "
                    "font-size=\"12\" fill=\"#4e5969\">%s</text><rect x=\"200\" y=\"%d\" "
                    "width=\"%.1f\" height=\"24\" rx=\"4\" fill=\"#1f6feb\" "
                    "fill-opacity=\"%.2f\"/><text x=\"%.1f\" y=\"%d\" font-size=\"12\" "
                    "fill=\"#1d2129\">%lld%s</text></g>",
                    i, (long long)steps[i].n, i * 34 + 17, sc_tr(steps[i].label), i * 34 + 2,
                    w < 1 ? 1 : w, 1.0 - 0.15 * i, 206 + (w < 1 ? 1 : w), i * 34 + 18,
                    (long long)steps[i].n, "");
        if (i && steps[0].n)
            sc_ui_htmlf(b,
                        "<text x=\"595\" y=\"%d\" font-size=\"12\" fill=\"#86909c\" "
                        "text-anchor=\"end\">%.1f%%</text>",
                        i * 34 + 18, pct);
    }
    sc_ui_html(b, "</svg><p class=\"hint\" id=\"funnel-note\">Counts of events, not people: "
                  "a visitor may view the card again or come without a tracked link, so a "
                  "step's share of scans and opens can be more than 100%</p>");
}

/* Unique visitors by device class, as bars. */
static void devices_chart(struct sc_buf *b, const int64_t n[SC_DEV_COUNT])
{
    static const enum sc_device order[] = {SC_DEV_PHONE, SC_DEV_TABLET, SC_DEV_DESKTOP,
                                           SC_DEV_OTHER};
    int64_t all = 0, top = 1;
    for (int i = 0; i < SC_DEV_COUNT; i++) {
        all += n[i];
        if (n[i] > top)
            top = n[i];
    }
    sc_ui_html(b, "<svg class=\"devices\" viewBox=\"0 0 600 136\" role=\"img\" "
                  "aria-label=\"Unique visitors by device\">");
    for (int k = 0; k < 4; k++) {
        enum sc_device d = order[k];
        double w = 330.0 * (double)n[d] / (double)top;
        sc_ui_htmlf(b,
                    "<g data-device=\"%s\" data-value=\"%lld\"><text x=\"0\" y=\"%d\" "
                    "font-size=\"12\" fill=\"#4e5969\">%s</text><rect x=\"90\" y=\"%d\" "
                    "width=\"%.1f\" height=\"22\" rx=\"4\" fill=\"#0fc6c2\"/><text "
                    "x=\"%.1f\" y=\"%d\" font-size=\"12\" fill=\"#1d2129\">%lld · %.0f%%"
                    "</text></g>",
                    sc_device_name(d), (long long)n[d], k * 34 + 16, sc_tr(sc_device_name(d)),
                    k * 34 + 2, w < 1 ? 1 : w, 96 + (w < 1 ? 1 : w), k * 34 + 17, (long long)n[d],
                    all ? 100.0 * (double)n[d] / (double)all : 0.0);
    }
    sc_ui_html(b, "</svg>");
}

/* ---- channels ----------------------------------------------------------------------- */

#define NCH (SC_CH_OTHER + 2) /* the channels, then "direct" (no tracked link) */

struct channels {
    int64_t n[NCH][SC_EV_COUNT];
};

static int add_channel(int ch, enum sc_ev_type t, int64_t n, void *ctx)
{
    struct channels *c = ctx;
    int i = ch >= 0 && ch <= SC_CH_OTHER ? ch : NCH - 1;
    c->n[i][t] += n;
    return 0;
}

static void channel_table(struct sc_buf *b, const struct channels *c)
{
    int64_t top = 1;
    for (int i = 0; i < NCH; i++) {
        int64_t v = c->n[i][SC_EV_SCAN] + c->n[i][SC_EV_OPEN] + c->n[i][SC_EV_VIEW];
        if (v > top)
            top = v;
    }
    sc_ui_html(b, "<div class=\"scroll\"><table class=\"t sortable\" id=\"channels\"><thead><tr>"
                  "<th>Channel</th><th class=\"n\">Scans and opens</th><th class=\"n\">Views"
                  "</th><th class=\"n\">Saves</th><th class=\"n\">Sign-ups</th><th></th></tr>"
                  "</thead><tbody>");
    for (int i = 0; i < NCH; i++) {
        const int64_t *n = c->n[i];
        int64_t visits = n[SC_EV_SCAN] + n[SC_EV_OPEN];
        if (!visits && !n[SC_EV_VIEW] && !n[SC_EV_SIGNUP] && !n[SC_EV_SAVE])
            continue;
        sc_buf_printf(b,
                      "<tr data-channel=\"%s\"><td>%s</td><td class=\"n\">%lld</td>"
                      "<td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld"
                      "</td><td class=\"barcell\"><span class=\"bar\" style=\"width:%.0f%%\">"
                      "</span></td></tr>",
                      i < NCH - 1 ? sc_channel_name((enum sc_channel)i) : "direct",
                      i < NCH - 1 ? sc_words_channel(sc_channel_name((enum sc_channel)i))
                                  : sc_tr("Direct (no tracked link)"),
                      (long long)visits, (long long)n[SC_EV_VIEW], (long long)n[SC_EV_SAVE],
                      (long long)n[SC_EV_SIGNUP],
                      100.0 * (double)(visits + n[SC_EV_VIEW]) / (double)top);
    }
    sc_ui_html(b, "</tbody></table></div>");
}

/* ---- tables ------------------------------------------------------------------------- */

/* The leaderboard's rows, kept so teams can be summed from them. */
struct board {
    struct sc_leader_row *rows;
    size_t n, cap;
    struct sc_buf names; /* the rows' strings, NUL-separated; offsets in the row pointers */
};

static int keep_leader(const struct sc_leader_row *l, void *ctx)
{
    struct board *bd = ctx;
    if (bd->n == bd->cap) {
        size_t cap = bd->cap ? bd->cap * 2 : 64;
        struct sc_leader_row *rows = realloc(bd->rows, cap * sizeof(*rows));
        if (!rows)
            return 1;
        bd->rows = rows;
        bd->cap = cap;
    }
    struct sc_leader_row *k = &bd->rows[bd->n++];
    *k = *l;
    /* Offsets now, pointers once the buffer stops moving. */
    k->name = (const char *)(uintptr_t)bd->names.len;
    sc_buf_append(&bd->names, l->name, strlen(l->name) + 1);
    k->team = (const char *)(uintptr_t)bd->names.len;
    sc_buf_append(&bd->names, l->team, strlen(l->team) + 1);
    k->slug = (const char *)(uintptr_t)bd->names.len;
    sc_buf_append(&bd->names, l->slug, strlen(l->slug) + 1);
    return sc_buf_error(&bd->names) != SC_OK;
}

static void board_fix(struct board *bd)
{
    for (size_t i = 0; i < bd->n; i++) {
        bd->rows[i].name = bd->names.data + (uintptr_t)bd->rows[i].name;
        bd->rows[i].team = bd->names.data + (uintptr_t)bd->rows[i].team;
        bd->rows[i].slug = bd->names.data + (uintptr_t)bd->rows[i].slug;
    }
}

static void num_cell(struct sc_buf *b, int64_t v)
{
    sc_ui_htmlf(b, "<td class=\"n\">%lld</td>", (long long)v);
}

static void leader_cells(struct sc_buf *b, const struct sc_leader_row *l)
{
    num_cell(b, l->scans);
    num_cell(b, l->opens);
    num_cell(b, l->views);
    num_cell(b, l->uniques);
    num_cell(b, l->shares);
    num_cell(b, l->signups);
    double conv = l->uniques ? 100.0 * (double)l->signups / (double)l->uniques : 0;
    sc_ui_htmlf(b, "<td class=\"n\" data-v=\"%.4f\">%.1f%%</td>", conv, conv);
    num_cell(b, l->points);
}

static const char leader_head[] =
    "<th class=\"n\">Scans</th><th class=\"n\">Opens</th><th class=\"n\">Views</th>"
    "<th class=\"n\">Uniques</th><th class=\"n\">Shares</th><th class=\"n\">Sign-ups</th>"
    "<th class=\"n\">Conversion</th><th class=\"n\">Points</th></tr></thead><tbody>";

static void leader_tables(struct sc_buf *b, struct board *bd)
{
    sc_ui_html(b, "<h2>Leaderboard</h2><p class=\"hint\">Click a heading to sort.</p>"
                  "<div class=\"scroll\"><table class=\"t sortable\" id=\"leaderboard\">"
                  "<thead><tr><th>Salesperson</th><th>Team</th>");
    sc_ui_html(b, leader_head);
    for (size_t i = 0; i < bd->n; i++) {
        const struct sc_leader_row *l = &bd->rows[i];
        sc_ui_html(b, "<tr><td><a href=\"/dashboard/tree/");
        sc_ui_text(b, l->slug);
        sc_ui_htmlf(b, "\" title=\"%s\">", sc_tr("Share tree"));
        sc_ui_text(b, l->name);
        sc_ui_html(b, "</a></td><td>");
        sc_ui_text(b, l->team);
        sc_ui_html(b, "</td>");
        leader_cells(b, l);
        sc_ui_html(b, "</tr>");
    }
    sc_ui_html(b, "</tbody></table></div>");

    /* Per team: members' figures summed (uniques too: a visitor is one card's visitor). */
    struct sc_leader_row *teams = calloc(bd->n ? bd->n : 1, sizeof(*teams));
    size_t nt = 0;
    for (size_t i = 0; teams && i < bd->n; i++) {
        const struct sc_leader_row *l = &bd->rows[i];
        size_t t = 0;
        while (t < nt && strcmp(teams[t].team, l->team) != 0)
            t++;
        if (t == nt) {
            teams[nt].team = l->team;
            nt++;
        }
        teams[t].member_id++; /* the team's head count */
        teams[t].scans += l->scans;
        teams[t].opens += l->opens;
        teams[t].views += l->views;
        teams[t].uniques += l->uniques;
        teams[t].shares += l->shares;
        teams[t].signups += l->signups;
        teams[t].points += l->points;
    }
    sc_ui_html(b, "<h2>Teams</h2><div class=\"scroll\"><table class=\"t sortable\" "
                  "id=\"teams\"><thead><tr><th>Team</th><th class=\"n\">Members</th>");
    sc_ui_html(b, leader_head);
    for (size_t t = 0; t < nt; t++) {
        sc_ui_html(b, "<tr><td>");
        sc_ui_text(b, teams[t].team[0] ? teams[t].team : sc_tr("(no team)"));
        sc_ui_html(b, "</td>");
        num_cell(b, teams[t].member_id);
        leader_cells(b, &teams[t]);
        sc_ui_html(b, "</tr>");
    }
    sc_ui_html(b, "</tbody></table></div>");
    free(teams);
}

#define RECENT 20

struct recent {
    struct sc_buf rows[RECENT];
    size_t n; /* rows seen; the last RECENT are kept, oldest overwritten */
};

static void party(struct sc_buf *b, const struct sc_party *p)
{
    if (p->type == SC_PARTY_NONE) {
        sc_ui_html(b, "—");
        return;
    }
    sc_ui_text(b, p->name);
    sc_buf_putc(b, ' ');
    sc_ui_text(b, sc_tr(p->type == SC_PARTY_MEMBER ? "(member)" : "(customer)"));
}

static int recent_row(const struct sc_signup_row *s, void *ctx)
{
    struct recent *rc = ctx;
    struct sc_buf *b = &rc->rows[rc->n % RECENT];
    sc_buf_reset(b);
    sc_ui_html(b, "<tr><td>");
    sc_ui_when(b, s->created_at); /* in SHARECARD_TZ */
    sc_ui_html(b, "</td><td>");
    sc_ui_text(b, s->name);
    sc_ui_html(b, "</td><td>");
    party(b, &s->level1);
    sc_ui_html(b, "</td><td>");
    party(b, &s->level2);
    sc_ui_html(b, "</td><td>");
    sc_ux_why(b, s->rule, s->notes); /* in words (ux.c) */
    sc_ui_html(b, "</td></tr>");
    rc->n++;
    return 0;
}

enum MHD_Result sc_h_dashboard(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    if (m->role == SC_ROLE_SALES)
        return sc_reply_error(r, 403, "The dashboard is for managers; your workspace is at /me.");
    struct range g;
    const char *why = parse_range(r, &g);
    if (why)
        return range_refused(r, m,
                             m->role == SC_ROLE_ADMIN ? sc_tr("Dashboard · all teams")
                                                      : sc_tr("Dashboard · team"),
                             "/dashboard", why);
    struct sc_scope scope;
    sc_session_scope(m, &scope);
    struct sc_stats now, prev;
    int64_t orders = 0, cents = 0, prev_orders = 0, prev_cents = 0;
    struct series *ser = calloc(1, sizeof(*ser));
    struct channels *ch = calloc(1, sizeof(*ch));
    struct recent *rc = calloc(1, sizeof(*rc));
    struct board bd = {0};
    sc_buf_init(&bd.names, 16 << 20);
    struct sc_buf b;
    sc_buf_init(&b, 16 << 20);
    struct sc_store *st = r->srv->store;
    enum sc_err e = ser && rc && ch ? SC_OK : SC_ENOMEM;
    if (e == SC_OK)
        e = sc_store_scope_stats(st, &scope, g.from, g.to, &now);
    if (e == SC_OK)
        e = sc_store_scope_stats(st, &scope, g.prev_from, g.prev_to, &prev);
    if (e == SC_OK)
        e = sc_store_revenue(st, &scope, g.from, g.to, &orders, &cents);
    if (e == SC_OK)
        e = sc_store_revenue(st, &scope, g.prev_from, g.prev_to, &prev_orders, &prev_cents);
    if (e == SC_OK) {
        ser->from = g.from;
        ser->days = g.days;
        e = sc_store_series(st, &scope, g.from, g.to, add_point, ser);
    }
    if (e == SC_OK)
        e = sc_store_channels(st, &scope, g.from, g.to, add_channel, ch);
    int64_t dev[SC_DEV_COUNT];
    if (e == SC_OK)
        e = sc_store_devices(st, &scope, g.from, g.to, dev);
    if (e == SC_OK)
        e = sc_store_leaderboard(st, &scope, g.from, g.to, keep_leader, &bd);
    if (e == SC_OK && sc_buf_error(&bd.names))
        e = SC_ENOMEM;
    if (e != SC_OK)
        goto out;
    board_fix(&bd);
    frame_begin(r, &b,
                m->role == SC_ROLE_ADMIN ? sc_tr("Dashboard · all teams")
                                         : sc_tr("Dashboard · team"),
                m, &g, "/dashboard");
    if (scope.team) {
        sc_ui_html(&b, "<p>Team ");
        sc_ui_text(&b, scope.team);
        sc_ui_html(&b, "</p>");
    }
    tiles(&b, &now, &prev);
    if (orders || prev_orders) {
        sc_ui_html(&b, "<section class=\"tiles\">");
        tile(&b, "orders", sc_tr("Purchases"), orders, prev_orders);
        char revenue[64];
        sc_ux_money(cents, revenue); /* in SHARECARD_CURRENCY (ux.c) */
        sc_ui_htmlf(&b,
                    "<div class=\"tile\" data-kpi=\"revenue\" data-value=\"%lld\" "
                    "data-currency=\"%s\"><div class=\"v\">",
                    (long long)cents, sc_ux_currency());
        sc_ui_text(&b, revenue);
        sc_ui_html(&b, "</div><div class=\"k\">Revenue</div>");
        if (prev_cents > 0)
            sc_ui_htmlf(&b, "<div class=\"d %s\">%+.0f%% vs previous</div>",
                        cents >= prev_cents ? "up" : "down",
                        100.0 * (double)(cents - prev_cents) / (double)prev_cents);
        sc_ui_html(&b, "</div></section>");
    }
    sc_ui_html(&b, "<div class=\"two\"><section><h2>Events per day</h2>");
    chart(&b, ser);
    sc_ui_html(&b, "</section><section><h2>Funnel</h2>");
    funnel(&b, &now, orders);
    sc_ui_html(&b, "</section></div><div class=\"two\"><section><h2>Channels</h2>");
    channel_table(&b, ch);
    sc_ui_html(&b, "</section><section><h2>Devices</h2>");
    devices_chart(&b, dev);
    sc_ui_html(&b, "</section></div>");
    sc_customers_dashboard(r, &b, &scope, g.from, g.to); /* customers and retention */
    sc_nps_dashboard(r, &b, &scope, g.from, g.to);       /* NPS and detractors (nps.c) */
    leader_tables(&b, &bd);
    sc_ui_html(&b, "<h2>Live</h2><ol class=\"live\" id=\"live\" data-src=\"/api/v1/live\">"
                   "<li class=\"hint\">Visits will appear here as they happen.</li></ol>");
    sc_ui_html(&b, "<h2>Latest sign-ups</h2><div class=\"scroll\">"
                   "<table class=\"t\" id=\"signups\"><thead><tr><th>When</th>"
                   "<th>Name</th><th>Level 1</th><th>Level 2</th><th>Why</th></tr></thead>"
                   "<tbody>");
    for (int i = 0; i < RECENT; i++)
        sc_buf_init(&rc->rows[i], 64 * 1024);
    e = sc_store_signups_list(st, &scope, recent_row, rc);
    size_t shown = rc->n < RECENT ? rc->n : RECENT;
    for (size_t i = 0; i < shown; i++) { /* newest first */
        const struct sc_buf *row = &rc->rows[(rc->n - 1 - i) % RECENT];
        if (row->data)
            sc_buf_append(&b, row->data, row->len);
    }
    for (int i = 0; i < RECENT; i++)
        sc_buf_cleanup(&rc->rows[i]);
    if (e != SC_OK)
        goto out;
    char f[11], t[11];
    sc_ui_day_format(g.from, f);
    sc_ui_day_format(g.to, t);
    sc_ui_htmlf(&b,
                "</tbody></table></div><p>Export (CSV): <a href=\"/api/v1/signups?format=csv\">"
                "sign-ups</a> · <a href=\"/api/v1/rewards?format=csv\">rewards ledger</a> · "
                "<a href=\"/api/v1/leaderboard?format=csv&amp;from=%s&amp;to=%s\">leaderboard"
                "</a> · <a href=\"/api/v1/channels?format=csv&amp;from=%s&amp;to=%s\">channels"
                "</a> · <a href=\"/admin/rewards\">review rewards</a></p>",
                f, t, f, t);
    frame_end(&b);
out:
    free(ser);
    free(ch);
    free(rc);
    free(bd.rows);
    sc_buf_cleanup(&bd.names);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return sc_reply_err(r, e, NULL);
    }
    return sc_reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

static void copy_item(struct sc_buf *b, const char *label, const char *url)
{
    sc_ui_html(b, "<li>");
    sc_ui_text(b, label);
    sc_ui_html(b, ": <a href=\"");
    sc_ui_text(b, url);
    sc_ui_html(b, "\">");
    sc_ui_text(b, url);
    sc_ui_html(b, "</a> <button class=\"btn\" type=\"button\" style=\"width:auto;display:inline\" "
                  "data-copy=\"");
    sc_ui_text(b, url);
    sc_buf_puts(b, "\">");
    sc_ui_text(b, sc_tr("Copy"));
    sc_buf_puts(b, "</button></li>");
}

/* The member's own link for each channel they hand out, made the first time it is asked for. */
static const struct {
    enum sc_channel ch;
    const char *label;
} share_channels[] = {
    {SC_CH_WECHAT, "WeChat"}, {SC_CH_WHATSAPP, "WhatsApp"}, {SC_CH_SMS, "SMS"},
    {SC_CH_EMAIL, "E-mail"},  {SC_CH_LINKEDIN, "LinkedIn"}, {SC_CH_COPY, "Anywhere else"},
};
enum { NSHARE = sizeof(share_channels) / sizeof(share_channels[0]) };

struct own_links {
    char code[NSHARE][SC_CODE_LEN + 1];
};

static int keep_own(const struct sc_link *l, void *ctx)
{
    struct own_links *o = ctx;
    for (int i = 0; i < NSHARE; i++)
        if (share_channels[i].ch == l->channel && !o->code[i][0])
            memcpy(o->code[i], l->code, sizeof(o->code[i]));
    return 0;
}

static enum sc_err own_links(struct req *r, const struct sc_member *m, struct own_links *o)
{
    memset(o, 0, sizeof(*o));
    enum sc_err e = sc_store_member_links(r->srv->store, r->card.id, m->id, keep_own, o);
    for (int i = 0; e == SC_OK && i < NSHARE; i++) {
        if (o->code[i][0])
            continue;
        struct sc_link l;
        memset(&l, 0, sizeof(l));
        l.card_id = r->card.id;
        l.channel = share_channels[i].ch;
        l.owner_member_id = m->id;
        e = sc_store_link_create(r->srv->store, &l);
        if (e == SC_OK)
            memcpy(o->code[i], l.code, sizeof(o->code[i]));
    }
    return e;
}

enum MHD_Result sc_h_me(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    struct range g;
    const char *why = parse_range(r, &g);
    if (why)
        return range_refused(r, m, sc_tr("My card"), "/me", why);
    enum sc_err e = sc_store_card_by_slug(r->srv->store, m->slug, &r->card);
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    struct sc_stats now, prev;
    struct series *ser = calloc(1, sizeof(*ser));
    struct sc_scope scope = {m->id, NULL};
    struct sc_buf b;
    sc_buf_init(&b, 4 << 20);
    e = ser ? SC_OK : SC_ENOMEM;
    if (e == SC_OK)
        e = sc_store_card_stats(r->srv->store, r->card.id, g.from, g.to, &now);
    if (e == SC_OK)
        e = sc_store_card_stats(r->srv->store, r->card.id, g.prev_from, g.prev_to, &prev);
    if (e == SC_OK) {
        ser->from = g.from;
        ser->days = g.days;
        e = sc_store_series(r->srv->store, &scope, g.from, g.to, add_point, ser);
    }
    if (e != SC_OK) {
        free(ser);
        sc_buf_cleanup(&b);
        return sc_reply_err(r, e, NULL);
    }
    frame_begin(r, &b, sc_tr("My card"), m, &g, "/me");
    sc_ux_me_top(r, m, g.from, g.to, &b); /* show my QR, rank, own points (ux.c) */
    sc_leads_reminders_html(r, m, &b);    /* follow-up reminders due (leads.c) */
    tiles(&b, &now, &prev);
    chart(&b, ser);
    free(ser);
    char url[700];
    sc_ui_htmlf(&b,
                "<p><a class=\"btn primary\" style=\"width:auto;display:inline-block\" "
                "href=\"/me/edit\">Edit my card</a> <a class=\"btn\" "
                "style=\"width:auto;display:inline-block\" href=\"/dashboard/tree/"
                "%s\">Share tree</a></p>"
                "<h2>Share and print</h2><ul class=\"links\">",
                r->card.slug);
    snprintf(url, sizeof(url), "%s/c/%s", r->srv->base_url, r->card.slug);
    copy_item(&b, sc_tr("Card page"), url);
    snprintf(url, sizeof(url), "%s/l/%s", r->srv->base_url, r->card.qr_code);
    copy_item(&b, sc_tr("Tracked link (in your QR code)"), url);
    struct own_links links;
    if (own_links(r, m, &links) == SC_OK) {
        sc_ui_html(&b, "</ul><h2>Your link for each channel</h2><p class=\"hint\">Send each "
                       "channel its own link, and the dashboard shows which one works.</p>"
                       "<ul class=\"links\" id=\"channel-links\">");
        for (int i = 0; i < NSHARE; i++) {
            snprintf(url, sizeof(url), "%s/l/%s", r->srv->base_url, links.code[i]);
            copy_item(&b, sc_tr(share_channels[i].label), url);
        }
    }
    sc_ui_htmlf(&b,
                "<li>QR code: <a href=\"/c/%s/qr.png?size=512\" download>PNG for screens"
                "</a> · <a href=\"/c/%s/qr.png?size=2048\" download>PNG for print</a> · "
                "<a href=\"/c/%s/qr.svg\" download>SVG</a></li><li><a href=\"/c/%s/"
                "vcard.vcf\">vCard</a></li></ul><img class=\"qr-big\" src=\"/c/%s/qr.svg\" "
                "alt=\"QR code of your card\" width=\"220\" height=\"220\">",
                r->card.slug, r->card.slug, r->card.slug, r->card.slug, r->card.slug);
    sc_ui_html(&b, "<h2>Live</h2><ol class=\"live\" id=\"live\" data-src=\"/api/v1/live\">"
                   "<li class=\"hint\">Visits to your card will appear here as they happen."
                   "</li></ol>");
    frame_end(&b);
    return sc_reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}
