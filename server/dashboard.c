/*
 * dashboard.c — the manager's dashboard and the salesperson's workspace,
 * rendered on the server: KPI tiles against the previous period, a daily
 * chart drawn as SVG, the leaderboard, the latest sign-ups with who was
 * credited and why.  Every figure comes from rollups, so these pages cost
 * the same with ten thousand events or ten million.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_int.h"
#include "sharecard/escape.h"

struct range {
    int days;
    int64_t from, to;           /* UTC day numbers, inclusive */
    int64_t prev_from, prev_to; /* the period before, of the same length */
};

static void parse_range(struct req *r, struct range *g)
{
    const char *d = req_arg(r, "days");
    g->days = d && strcmp(d, "1") == 0    ? 1
              : d && strcmp(d, "7") == 0  ? 7
              : d && strcmp(d, "90") == 0 ? 90
                                          : 30;
    g->to = (int64_t)time(NULL) / 86400;
    g->from = g->to - g->days + 1;
    g->prev_to = g->from - 1;
    g->prev_from = g->prev_to - g->days + 1;
}

static void text(struct sc_buf *b, const char *s)
{
    if (s)
        sc_esc_html(b, s, strlen(s));
}

static void frame_begin(struct req *r, struct sc_buf *b, const char *title,
                        const struct sc_member *m, const struct range *g, const char *self)
{
    char csrf[32];
    csrf_token(r, csrf);
    sc_buf_puts(b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                   "<meta name=\"robots\" content=\"noindex\"><title>");
    text(b, title);
    sc_buf_puts(b, " · sharecard</title><link rel=\"icon\" href=\"/static/icon.svg\" "
                   "type=\"image/svg+xml\"><link rel=\"stylesheet\" href=\"/static/card.css\">"
                   "<link rel=\"stylesheet\" href=\"/static/app.css\">"
                   "<script src=\"/static/card.js\" defer></script></head>"
                   "<body data-copied=\"Copied:\"><main class=\"app\"><header class=\"top\"><h1>");
    text(b, title);
    sc_buf_puts(b, "</h1><nav class=\"range\">");
    static const int opts[] = {1, 7, 30, 90};
    static const char *const names[] = {"Today", "7 days", "30 days", "90 days"};
    for (int i = 0; i < 4; i++)
        sc_buf_printf(b, "<a href=\"%s?days=%d\"%s>%s</a>", self, opts[i],
                      g->days == opts[i] ? " class=\"on\"" : "", names[i]);
    sc_buf_puts(b, "</nav><div>");
    text(b, m->name);
    sc_buf_printf(b,
                  " (%s) <form class=\"inline\" method=\"post\" action=\"/logout\">"
                  "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><button class=\"btn\" "
                  "type=\"submit\" style=\"width:auto;display:inline\">Sign out</button>"
                  "</form></div></header>",
                  sc_role_name(m->role), csrf);
}

static void frame_end(struct sc_buf *b)
{
    sc_buf_puts(b, "</main><p id=\"toast\" class=\"toast\" role=\"status\" "
                   "aria-live=\"polite\"></p></body></html>");
}

static void tile(struct sc_buf *b, const char *key, const char *label, int64_t v, int64_t prev)
{
    sc_buf_printf(b,
                  "<div class=\"tile\" data-kpi=\"%s\" data-value=\"%lld\"><div class=\"v\">%lld"
                  "</div><div class=\"k\">%s</div>",
                  key, (long long)v, (long long)v, label);
    if (prev > 0) {
        double pct = 100.0 * (double)(v - prev) / (double)prev;
        sc_buf_printf(b, "<div class=\"d %s\">%+.0f%% vs previous</div>", pct >= 0 ? "up" : "down",
                      pct);
    } else {
        sc_buf_puts(b, "<div class=\"d\">—</div>");
    }
    sc_buf_puts(b, "</div>");
}

static void tiles(struct sc_buf *b, const struct sc_stats *s, const struct sc_stats *p)
{
    sc_buf_puts(b, "<section class=\"tiles\">");
    tile(b, "scans", "QR scans", s->n[SC_EV_SCAN], p->n[SC_EV_SCAN]);
    tile(b, "opens", "Link opens", s->n[SC_EV_OPEN], p->n[SC_EV_OPEN]);
    tile(b, "views", "Page views", s->n[SC_EV_VIEW], p->n[SC_EV_VIEW]);
    tile(b, "uniques", "Unique visitors", s->uniques, p->uniques);
    tile(b, "shares", "Shares", s->n[SC_EV_SHARE], p->n[SC_EV_SHARE]);
    tile(b, "saves", "Contacts saved", s->n[SC_EV_SAVE], p->n[SC_EV_SAVE]);
    tile(b, "clicks", "Contact taps", s->n[SC_EV_CLICK], p->n[SC_EV_CLICK]);
    tile(b, "signups", "Sign-ups", s->n[SC_EV_SIGNUP], p->n[SC_EV_SIGNUP]);
    double conv = s->uniques ? 100.0 * (double)s->n[SC_EV_SIGNUP] / (double)s->uniques : 0;
    sc_buf_printf(b,
                  "<div class=\"tile\" data-kpi=\"conversion\"><div class=\"v\">%.1f%%</div>"
                  "<div class=\"k\">Visitor → sign-up</div><div class=\"d\">bots apart: "
                  "%lld</div></div></section>",
                  conv, (long long)s->bots);
}

/* ---- the chart -------------------------------------------------------------------- */

#define MAX_DAYS 90

struct series {
    int64_t from;
    int days;
    int64_t visits[MAX_DAYS]; /* scans + opens + views */
    int64_t signups[MAX_DAYS];
};

static int add_point(int64_t day, enum sc_ev_type t, int64_t n, void *ctx)
{
    struct series *s = ctx;
    int64_t i = day - s->from;
    if (i < 0 || i >= s->days)
        return 0;
    if (t == SC_EV_SCAN || t == SC_EV_OPEN || t == SC_EV_VIEW)
        s->visits[i] += n;
    else if (t == SC_EV_SIGNUP)
        s->signups[i] += n;
    return 0;
}

static void polyline(struct sc_buf *b, const int64_t *v, int days, int64_t max, const char *color)
{
    sc_buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
    for (int i = 0; i < days; i++) {
        double x = days > 1 ? 40.0 + 550.0 * i / (days - 1) : 315.0;
        double y = 170.0 - (max ? 150.0 * (double)v[i] / (double)max : 0.0);
        sc_buf_printf(b, "%.1f,%.1f ", x, y);
    }
    sc_buf_puts(b, "\"/>");
}

static void chart(struct sc_buf *b, const struct series *s)
{
    int64_t max = 1;
    for (int i = 0; i < s->days; i++)
        if (s->visits[i] > max)
            max = s->visits[i];
    sc_buf_printf(b,
                  "<svg class=\"chart\" viewBox=\"0 0 600 190\" role=\"img\" "
                  "aria-label=\"Visits and sign-ups per day\"><rect width=\"600\" "
                  "height=\"190\" fill=\"#fff\"/><line x1=\"40\" y1=\"170\" x2=\"590\" "
                  "y2=\"170\" stroke=\"#c9cdd4\"/><text x=\"4\" y=\"24\" font-size=\"11\" "
                  "fill=\"#86909c\">%lld</text><text x=\"4\" y=\"170\" font-size=\"11\" "
                  "fill=\"#86909c\">0</text>",
                  (long long)max);
    polyline(b, s->visits, s->days, max, "#1f6feb");
    polyline(b, s->signups, s->days, max, "#00a870");
    sc_buf_puts(b, "<text x=\"420\" y=\"186\" font-size=\"11\" fill=\"#1f6feb\">visits</text>"
                   "<text x=\"480\" y=\"186\" font-size=\"11\" fill=\"#00a870\">sign-ups</text>"
                   "</svg>");
}

/* ---- tables ------------------------------------------------------------------------- */

static int leader_row(const struct sc_leader_row *l, void *ctx)
{
    struct sc_buf *b = ctx;
    sc_buf_puts(b, "<tr><td><a href=\"/c/");
    text(b, l->slug);
    sc_buf_puts(b, "\">");
    text(b, l->name);
    sc_buf_puts(b, "</a></td><td>");
    text(b, l->team);
    double conv = l->uniques ? 100.0 * (double)l->signups / (double)l->uniques : 0;
    sc_buf_printf(b,
                  "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld"
                  "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld"
                  "</td><td class=\"n\">%.1f%%</td><td class=\"n\">%lld</td></tr>",
                  (long long)l->scans, (long long)l->opens, (long long)l->views,
                  (long long)l->uniques, (long long)l->shares, (long long)l->signups, conv,
                  (long long)l->points);
    return sc_buf_error(b) != SC_OK;
}

#define RECENT 20

struct recent {
    struct sc_buf rows[RECENT];
    size_t n; /* rows seen; the last RECENT are kept, oldest overwritten */
};

static void party(struct sc_buf *b, const struct sc_party *p)
{
    if (p->type == SC_PARTY_NONE) {
        sc_buf_puts(b, "—");
        return;
    }
    text(b, p->name);
    sc_buf_puts(b, p->type == SC_PARTY_MEMBER ? " (member)" : " (customer)");
}

static int recent_row(const struct sc_signup_row *s, void *ctx)
{
    struct recent *rc = ctx;
    struct sc_buf *b = &rc->rows[rc->n % RECENT];
    sc_buf_reset(b);
    char when[32];
    time_t t = (time_t)s->created_at;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
    sc_buf_printf(b, "<tr><td>%s</td><td>", when);
    text(b, s->name);
    sc_buf_puts(b, "</td><td>");
    party(b, &s->level1);
    sc_buf_puts(b, "</td><td>");
    party(b, &s->level2);
    sc_buf_puts(b, "</td><td>");
    text(b, s->rule);
    if (s->notes && s->notes[0]) {
        sc_buf_puts(b, " · ");
        text(b, s->notes);
    }
    sc_buf_puts(b, "</td></tr>");
    rc->n++;
    return 0;
}

static void scope_for(const struct sc_member *m, struct sc_scope *sc)
{
    memset(sc, 0, sizeof(*sc));
    if (m->role == SC_ROLE_ADMIN)
        return;
    if (m->role == SC_ROLE_MANAGER && m->team[0])
        sc->team = m->team;
    else
        sc->member_id = m->id;
}

enum MHD_Result h_dashboard(struct req *r)
{
    struct sc_member m;
    if (!session_member(r, &m))
        return reply_redirect(r, 303, "/login");
    if (m.role == SC_ROLE_SALES)
        return reply_error(r, 403, "The dashboard is for managers; your workspace is at /me.");
    struct range g;
    parse_range(r, &g);
    struct sc_scope scope;
    scope_for(&m, &scope);
    struct sc_stats now, prev;
    struct series *ser = calloc(1, sizeof(*ser));
    struct recent *rc = calloc(1, sizeof(*rc));
    struct sc_buf b;
    sc_buf_init(&b, 8 << 20);
    enum sc_err e = ser && rc ? SC_OK : SC_ENOMEM;
    if (e == SC_OK)
        e = sc_store_scope_stats(r->srv->store, &scope, g.from, g.to, &now);
    if (e == SC_OK)
        e = sc_store_scope_stats(r->srv->store, &scope, g.prev_from, g.prev_to, &prev);
    if (e == SC_OK) {
        ser->from = g.from;
        ser->days = g.days;
        e = sc_store_series(r->srv->store, &scope, g.from, g.to, add_point, ser);
    }
    if (e != SC_OK)
        goto out;
    frame_begin(r, &b, m.role == SC_ROLE_ADMIN ? "Dashboard · all teams" : "Dashboard · team", &m,
                &g, "/dashboard");
    if (scope.team) {
        sc_buf_puts(&b, "<p>Team ");
        text(&b, scope.team);
        sc_buf_puts(&b, "</p>");
    }
    tiles(&b, &now, &prev);
    sc_buf_puts(&b, "<h2>Visits and sign-ups per day</h2>");
    chart(&b, ser);
    sc_buf_puts(&b, "<h2>Leaderboard</h2><div class=\"scroll\"><table class=\"t\" "
                    "id=\"leaderboard\"><thead><tr><th>Salesperson</th><th>Team</th>"
                    "<th class=\"n\">Scans</th><th class=\"n\">Opens</th><th class=\"n\">Views"
                    "</th><th class=\"n\">Uniques</th><th class=\"n\">Shares</th>"
                    "<th class=\"n\">Sign-ups</th><th class=\"n\">Conversion</th>"
                    "<th class=\"n\">Points</th></tr></thead><tbody>");
    e = sc_store_leaderboard(r->srv->store, &scope, g.from, g.to, leader_row, &b);
    if (e != SC_OK)
        goto out;
    sc_buf_puts(&b, "</tbody></table></div><h2>Latest sign-ups</h2><div class=\"scroll\">"
                    "<table class=\"t\" id=\"signups\"><thead><tr><th>When (UTC)</th>"
                    "<th>Name</th><th>Level 1</th><th>Level 2</th><th>Why</th></tr></thead>"
                    "<tbody>");
    for (int i = 0; i < RECENT; i++)
        sc_buf_init(&rc->rows[i], 64 * 1024);
    e = sc_store_signups_list(r->srv->store, &scope, recent_row, rc);
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
    sc_buf_puts(&b, "</tbody></table></div><p>Export: <a href=\"/api/v1/signups?format=csv\">"
                    "sign-ups (CSV)</a> · <a href=\"/api/v1/rewards?format=csv\">rewards ledger "
                    "(CSV)</a></p>");
    frame_end(&b);
out:
    free(ser);
    free(rc);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return reply_err(r, e, NULL);
    }
    return reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

static void copy_item(struct sc_buf *b, const char *label, const char *url)
{
    sc_buf_puts(b, "<li>");
    text(b, label);
    sc_buf_puts(b, ": <a href=\"");
    text(b, url);
    sc_buf_puts(b, "\">");
    text(b, url);
    sc_buf_puts(b, "</a> <button class=\"btn\" type=\"button\" style=\"width:auto;display:inline\" "
                   "data-copy=\"");
    text(b, url);
    sc_buf_puts(b, "\">Copy</button></li>");
}

enum MHD_Result h_me(struct req *r)
{
    struct sc_member m;
    if (!session_member(r, &m))
        return reply_redirect(r, 303, "/login");
    struct range g;
    parse_range(r, &g);
    enum sc_err e = sc_store_card_by_slug(r->srv->store, m.slug, &r->card);
    if (e != SC_OK)
        return reply_err(r, e, NULL);
    struct sc_stats now, prev;
    struct series *ser = calloc(1, sizeof(*ser));
    struct sc_scope scope = {m.id, NULL};
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
        return reply_err(r, e, NULL);
    }
    frame_begin(r, &b, "My card", &m, &g, "/me");
    tiles(&b, &now, &prev);
    chart(&b, ser);
    free(ser);
    char url[700];
    sc_buf_puts(&b, "<p><a class=\"btn primary\" style=\"width:auto;display:inline-block\" "
                    "href=\"/me/edit\">Edit my card</a></p>"
                    "<h2>Share and print</h2><ul class=\"links\">");
    snprintf(url, sizeof(url), "%s/c/%s", r->srv->base_url, r->card.slug);
    copy_item(&b, "Card page", url);
    snprintf(url, sizeof(url), "%s/l/%s", r->srv->base_url, r->card.qr_code);
    copy_item(&b, "Tracked link (in your QR code)", url);
    sc_buf_printf(&b,
                  "<li>QR code: <a href=\"/c/%s/qr.png?size=512\" download>PNG for screens"
                  "</a> · <a href=\"/c/%s/qr.png?size=2048\" download>PNG for print</a> · "
                  "<a href=\"/c/%s/qr.svg\" download>SVG</a></li><li><a href=\"/c/%s/"
                  "vcard.vcf\">vCard</a></li></ul><img class=\"qr-big\" src=\"/c/%s/qr.svg\" "
                  "alt=\"QR code of your card\" width=\"220\" height=\"220\">",
                  r->card.slug, r->card.slug, r->card.slug, r->card.slug, r->card.slug);
    frame_end(&b);
    return reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}
