/*
 * leads.c — the people who engaged with a card, and what each of them did.
 * A lead is a visitor (one browser, first-party cookie) on one card: when
 * they came, how often, what they tapped, saved or shared, how long they
 * stayed, and whether they signed up.  A salesperson sees their own card's
 * leads, a manager their team's, an admin everyone's; the same as JSON and
 * CSV under /api/v1/leads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "pages_int.h"
#include "routes_int.h"

#define LEADS_DAYS   30
#define LEADS_MAX    500
#define TIMELINE_MAX 200

static const char *const what[SC_EV_COUNT] = {"Scanned the QR code",
                                              "Opened a shared link",
                                              "Viewed the card",
                                              "Shared the card",
                                              "Tapped a contact button",
                                              "Saved the contact",
                                              "Stayed on the page",
                                              "Signed up",
                                              "Bought"};

static int timeline_html(const struct sc_visit_row *v, void *ctx);

static int lead_html(const struct sc_lead_row *l, void *ctx)
{
    struct sc_buf *b = ctx;
    sc_ui_htmlf(b, "<tr data-lead=\"%lld\"><td><a href=\"/leads/%lld\">", (long long)l->visitor_id,
                (long long)l->visitor_id);
    if (l->customer)
        sc_ui_text(b, l->customer);
    else
        sc_ui_htmlf(b, "Visitor #%lld", (long long)l->visitor_id);
    sc_ui_html(b, "</a></td><td>");
    sc_ui_text(b, l->card);
    sc_ui_htmlf(b, "</td><td data-v=\"%lld\">", (long long)l->last_ts);
    sc_ui_when(b, l->last_ts);
    sc_ui_htmlf(b,
                "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld"
                "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld"
                "</td><td>%s</td></tr>",
                (long long)l->visits, (long long)l->days, (long long)l->clicks, (long long)l->saves,
                (long long)l->shares, (long long)l->dwell_s,
                l->signed_up ? sc_tr("signed up") : "");
    return sc_buf_error(b) != SC_OK;
}

enum MHD_Result sc_h_leads(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    const char *rest = a->arg;
    if (!sc_req_is_get(r))
        return sc_reply_405(r, "GET, HEAD");
    struct sc_scope scope;
    sc_session_scope(m, &scope);
    struct sc_buf b;
    sc_buf_init(&b, 16 << 20);
    enum sc_err e;
    if (rest && rest[0]) {
        char *end;
        long long id = strtoll(rest, &end, 10);
        if (id <= 0 || *end) {
            sc_buf_cleanup(&b);
            return sc_reply_error(r, 404, "There is no such lead.");
        }
        char title[64];
        snprintf(title, sizeof(title), sc_tr("Lead #%lld"), id);
        sc_ui_begin(r, &b, title, m, "/leads");
        sc_ui_html(&b, "</header><ol class=\"timeline\" id=\"timeline\">");
        size_t before = b.len;
        e = sc_store_lead_timeline(r->srv->store, &scope, id, TIMELINE_MAX, timeline_html, &b);
        if (e == SC_OK && b.len == before) {
            sc_buf_cleanup(&b);
            return sc_reply_error(r, 404, "There is no such lead on the cards you may see.");
        }
        sc_ui_htmlf(&b,
                    "</ol><p><a href=\"/api/v1/leads/%lld\">As JSON</a> · "
                    "<a href=\"/leads\">All leads</a></p>",
                    id);
    } else {
        sc_ui_begin(r, &b, "Leads", m, "/leads");
        sc_ui_htmlf(&b,
                    "</header><p class=\"hint\">People who opened a card in the last %d "
                    "days, most recent first; each line opens what they did.</p>"
                    "<div class=\"scroll\"><table class=\"t sortable\" id=\"leads\"><thead>"
                    "<tr><th>Who</th><th>Card</th><th>Last seen (UTC)</th><th class=\"n\">"
                    "Visits</th><th class=\"n\">Days</th><th class=\"n\">Taps</th><th "
                    "class=\"n\">Saves</th><th class=\"n\">Shares</th><th class=\"n\">Seconds "
                    "on page</th><th></th></tr></thead><tbody>",
                    LEADS_DAYS);
        e = sc_store_leads(r->srv->store, &scope, (int64_t)time(NULL) - LEADS_DAYS * 86400,
                           LEADS_MAX, lead_html, &b);
        sc_ui_html(&b, "</tbody></table></div><p><a href=\"/api/v1/leads?format=csv\">Export "
                       "(CSV)</a></p>");
    }
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return sc_reply_err(r, e, NULL);
    }
    sc_ui_end(&b);
    return sc_reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

static int timeline_html(const struct sc_visit_row *v, void *ctx)
{
    struct sc_buf *b = ctx;
    sc_ui_htmlf(b, "<li data-type=\"%d\"><time>", (int)v->type);
    sc_ui_when(b, v->ts);
    sc_ui_html(b, "</time> ");
    sc_ui_text(b, sc_tr(v->type < SC_EV_COUNT ? what[v->type] : "Activity"));
    if (v->type == SC_EV_DWELL)
        sc_ui_htmlf(b, " for %lld s", (long long)v->value);
    sc_ui_html(b, " · ");
    sc_ui_text(b, v->card);
    if (v->channel >= 0)
        sc_ui_htmlf(b, " · via %s", sc_tr(sc_channel_name((enum sc_channel)v->channel)));
    if (v->via.type) {
        sc_ui_html(b, " from ");
        sc_ui_text(b, v->via.name);
    }
    if (v->device && v->device[0]) {
        sc_ui_html(b, " · ");
        sc_ui_text(b, v->os);
        sc_buf_putc(b, ' ');
        sc_ui_text(b, sc_tr(v->device));
    }
    sc_ui_html(b, "</li>");
    return sc_buf_error(b) != SC_OK;
}

/* ---- GET /api/v1/leads[/{id}] ------------------------------------------------------ */

static int lead_json(const struct sc_lead_row *l, void *ctx)
{
    struct list_out *o = ctx;
    char first[32], last[32];
    sc_ui_iso_time(l->first_ts, first);
    sc_ui_iso_time(l->last_ts, last);
    if (o->csv) {
        char n[8][24];
        const int64_t v[8] = {l->visitor_id, l->visits, l->days,    l->clicks,
                              l->saves,      l->shares, l->dwell_s, l->signed_up};
        for (int i = 0; i < 8; i++)
            snprintf(n[i], sizeof(n[i]), "%lld", (long long)v[i]);
        const char *f[] = {n[0], l->card, l->customer, first, last, n[1],
                           n[2], n[3],    n[4],        n[5],  n[6], n[7]};
        sc_list_csv_row(o, f, 12);
    } else {
        sc_buf_printf(&o->b, "%s{\"id\":%lld,\"card\":", o->rows ? ",\n" : "\n",
                      (long long)l->visitor_id);
        sc_ui_json_str(&o->b, l->card);
        sc_buf_puts(&o->b, ",\"customer\":");
        sc_ui_json_str(&o->b, l->customer);
        sc_buf_printf(&o->b,
                      ",\"first_seen\":\"%s\",\"last_seen\":\"%s\",\"visits\":%lld,\"days\":%lld,"
                      "\"clicks\":%lld,\"saves\":%lld,\"shares\":%lld,\"dwell_s\":%lld,"
                      "\"signed_up\":%s}",
                      first, last, (long long)l->visits, (long long)l->days, (long long)l->clicks,
                      (long long)l->saves, (long long)l->shares, (long long)l->dwell_s,
                      l->signed_up ? "true" : "false");
    }
    o->rows++;
    return sc_buf_error(&o->b) != SC_OK;
}

static const char *const ev_names[SC_EV_COUNT] = {"scan", "open",  "view",   "share",  "click",
                                                  "save", "dwell", "signup", "convert"};

static int event_json(const struct sc_visit_row *v, void *ctx)
{
    struct list_out *o = ctx;
    char at[32];
    sc_ui_iso_time(v->ts, at);
    sc_buf_printf(&o->b, "%s{\"at\":\"%s\",\"type\":\"%s\",\"card\":", o->rows ? ",\n" : "\n", at,
                  v->type < SC_EV_COUNT ? ev_names[v->type] : "other");
    sc_ui_json_str(&o->b, v->card);
    sc_buf_printf(&o->b, ",\"channel\":%s%s%s,\"via\":", v->channel >= 0 ? "\"" : "",
                  v->channel >= 0 ? sc_channel_name((enum sc_channel)v->channel) : "null",
                  v->channel >= 0 ? "\"" : "");
    sc_ui_json_str(&o->b, v->via.type ? v->via.name : NULL);
    sc_buf_puts(&o->b, ",\"device\":");
    sc_ui_json_str(&o->b, v->device);
    sc_buf_puts(&o->b, ",\"os\":");
    sc_ui_json_str(&o->b, v->os);
    sc_buf_printf(&o->b, ",\"value\":%lld}", (long long)v->value);
    o->rows++;
    return sc_buf_error(&o->b) != SC_OK;
}

enum MHD_Result sc_api_leads(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    const char *rest = a->arg;
    struct sc_scope scope;
    sc_session_scope(m, &scope);
    struct list_out o;
    if (rest && rest[0]) {
        char *end;
        long long id = strtoll(rest, &end, 10);
        if (id <= 0 || *end)
            return sc_reply_error(r, 404, "There is no such lead.");
        o.csv = false; /* a timeline is JSON only */
        o.rows = 0;
        sc_buf_init(&o.b, 16 << 20);
        sc_buf_putc(&o.b, '[');
        enum sc_err e =
            sc_store_lead_timeline(r->srv->store, &scope, id, TIMELINE_MAX, event_json, &o);
        if (e == SC_OK && o.rows == 0) {
            sc_buf_cleanup(&o.b);
            return sc_reply_error(r, 404, "There is no such lead on the cards you may see.");
        }
        return sc_list_finish(r, &o, e);
    }
    int64_t days = LEADS_DAYS;
    const char *d = sc_req_arg(r, "days");
    if (d) {
        char *end;
        long v = strtol(d, &end, 10);
        if (*end || v < 1 || v > 366)
            return sc_reply_error(r, 400, "days is a number from 1 to 366.");
        days = v;
    }
    sc_list_begin(r, &o,
                  "id,card,customer,first_seen,last_seen,visits,days,clicks,saves,shares,dwell_s,"
                  "signed_up\r\n");
    return sc_list_finish(r, &o,
                          sc_store_leads(r->srv->store, &scope, (int64_t)time(NULL) - days * 86400,
                                         LEADS_MAX, lead_json, &o));
}
