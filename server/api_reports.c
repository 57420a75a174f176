/*
 * api_reports.c — the reports of the JSON API over a date range: a card's
 * counts (/api/v1/cards/{slug}/stats), channels and devices in the
 * member's scope, as JSON or, with ?format=csv, CSV.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "pages_int.h"
#include "routes_int.h"

/* ---- GET /api/v1/cards/{slug}/stats ---------------------------------------------- */

enum MHD_Result sc_api_stats(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    const char *slug = a->arg;
    int64_t from = 0, to = (int64_t)time(NULL) / 86400 + 1;
    const char *f = sc_req_arg(r, "from"), *t = sc_req_arg(r, "to");
    if ((f && !sc_ui_day_parse(f, &from)) || (t && !sc_ui_day_parse(t, &to)))
        return sc_reply_error(r, 400, "from and to are dates written YYYY-MM-DD.");
    if (from > to)
        return sc_reply_error(r, 400, "from must not be after to.");
    enum sc_err e = sc_store_card_by_slug(r->srv->store, slug, &r->card);
    if (e == SC_ENOTFOUND)
        return sc_reply_error(r, 404, "There is no card with this slug.");
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    if (!sc_session_may_read_card(r, m, r->card.member_id))
        return sc_reply_error(r, 403, "Your role does not let you read this card's stats.");
    struct sc_stats st;
    e = sc_store_card_stats(r->srv->store, r->card.id, from, to, &st);
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    struct sc_buf b;
    sc_buf_init(&b, 4096);
    sc_buf_printf(&b,
                  "{\"scans\":%lld,\"opens\":%lld,\"views\":%lld,\"uniques\":%lld,"
                  "\"shares\":%lld,\"saves\":%lld,\"clicks\":%lld,\"signups\":%lld,"
                  "\"bots\":%lld}\n",
                  (long long)st.n[SC_EV_SCAN], (long long)st.n[SC_EV_OPEN],
                  (long long)st.n[SC_EV_VIEW], (long long)st.uniques, (long long)st.n[SC_EV_SHARE],
                  (long long)st.n[SC_EV_SAVE], (long long)st.n[SC_EV_CLICK],
                  (long long)st.n[SC_EV_SIGNUP], (long long)st.bots);
    return sc_reply_bytes(r, 200, "application/json", &b);
}

/* ---- GET /api/v1/channels ---------------------------------------------------------- */

struct chan_out {
    int64_t n[SC_CH_OTHER + 2][SC_EV_COUNT];
};

static int add_chan(int ch, enum sc_ev_type t, int64_t n, void *ctx)
{
    struct chan_out *c = ctx;
    c->n[ch >= 0 && ch <= SC_CH_OTHER ? ch : SC_CH_OTHER + 1][t] += n;
    return 0;
}

enum MHD_Result sc_api_channels(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    enum MHD_Result ret;
    struct sc_scope scope;
    int64_t from, to;
    if (!sc_report_range(r, m, &scope, &from, &to, &ret))
        return ret;
    struct chan_out c;
    memset(&c, 0, sizeof(c));
    enum sc_err e = sc_store_channels(r->srv->store, &scope, from, to, add_chan, &c);
    struct list_out o;
    sc_list_begin(r, &o, "channel,scans,opens,views,shares,saves,clicks,signups\r\n");
    for (int i = 0; e == SC_OK && i < SC_CH_OTHER + 2; i++) {
        const int64_t *n = c.n[i];
        const char *name = i <= SC_CH_OTHER ? sc_channel_name((enum sc_channel)i) : "direct";
        const int64_t v[7] = {n[SC_EV_SCAN], n[SC_EV_OPEN],  n[SC_EV_VIEW],  n[SC_EV_SHARE],
                              n[SC_EV_SAVE], n[SC_EV_CLICK], n[SC_EV_SIGNUP]};
        if (o.csv) {
            char s[7][24];
            const char *fields[8] = {name};
            for (int k = 0; k < 7; k++) {
                snprintf(s[k], sizeof(s[k]), "%lld", (long long)v[k]);
                fields[k + 1] = s[k];
            }
            sc_list_csv_row(&o, fields, 8);
        } else {
            sc_buf_printf(&o.b,
                          "%s{\"channel\":\"%s\",\"scans\":%lld,\"opens\":%lld,\"views\":%lld,"
                          "\"shares\":%lld,\"saves\":%lld,\"clicks\":%lld,\"signups\":%lld}",
                          o.rows ? ",\n" : "\n", name, (long long)v[0], (long long)v[1],
                          (long long)v[2], (long long)v[3], (long long)v[4], (long long)v[5],
                          (long long)v[6]);
        }
        o.rows++;
    }
    return sc_list_finish(r, &o, e);
}

/* ---- GET /api/v1/devices ----------------------------------------------------------- */

enum MHD_Result sc_api_devices(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    enum MHD_Result ret;
    struct sc_scope scope;
    int64_t from, to;
    if (!sc_report_range(r, m, &scope, &from, &to, &ret))
        return ret;
    int64_t n[SC_DEV_COUNT];
    enum sc_err e = sc_store_devices(r->srv->store, &scope, from, to, n);
    struct list_out o;
    sc_list_begin(r, &o, "device,visitors\r\n");
    for (int d = 0; e == SC_OK && d < SC_DEV_COUNT; d++) {
        char v[24];
        snprintf(v, sizeof(v), "%lld", (long long)n[d]);
        if (o.csv) {
            const char *fields[] = {sc_device_name((enum sc_device)d), v};
            sc_list_csv_row(&o, fields, 2);
        } else {
            sc_buf_printf(&o.b, "%s{\"device\":\"%s\",\"visitors\":%s}", o.rows ? ",\n" : "\n",
                          sc_device_name((enum sc_device)d), v);
        }
        o.rows++;
    }
    return sc_list_finish(r, &o, e);
}
