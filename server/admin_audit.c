/*
 * admin_audit.c — the audit log for admins: the page /admin/audit, newest
 * first with "older" paging, and the same rows at /api/v1/audit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "pages_int.h"
#include "routes_int.h"

/* ---- /admin/audit ------------------------------------------------------------------- */

struct audit_out {
    struct sc_buf *b;
    struct list_out *o;
    int64_t last;
    int n;
};

static int audit_row(const struct sc_audit_row *a, void *ctx)
{
    struct audit_out *ao = ctx;
    ao->last = a->id;
    ao->n++;
    if (ao->o) {
        struct list_out *o = ao->o;
        char id[24], ts[32];
        snprintf(id, sizeof(id), "%lld", (long long)a->id);
        iso_time(a->ts, ts);
        if (o->csv) {
            const char *f[] = {id, ts, a->actor, a->action, a->target, a->detail};
            list_csv_row(o, f, 6);
        } else {
            sc_buf_printf(&o->b, "%s{\"id\":%s,\"at\":\"%s\",\"actor\":", o->rows ? ",\n" : "\n",
                          id, ts);
            json_str(&o->b, a->actor);
            sc_buf_puts(&o->b, ",\"action\":");
            json_str(&o->b, a->action);
            sc_buf_puts(&o->b, ",\"target\":");
            json_str(&o->b, a->target);
            sc_buf_puts(&o->b, ",\"detail\":");
            json_str(&o->b, a->detail);
            sc_buf_putc(&o->b, '}');
        }
        o->rows++;
        return sc_buf_error(&o->b) != SC_OK;
    }
    struct sc_buf *b = ao->b;
    ui_html(b, "<tr><td>");
    ui_when(b, a->ts);
    ui_html(b, "</td><td>");
    ui_text(b, a->actor);
    ui_html(b, "</td><td>");
    ui_text(b, a->action);
    ui_html(b, "</td><td>");
    ui_text(b, a->target);
    ui_html(b, "</td><td>");
    ui_text(b, a->detail);
    ui_html(b, "</td></tr>");
    return sc_buf_error(b) != SC_OK;
}

enum MHD_Result h_audit(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    int64_t before = num_arg(req_arg(r, "before"));
    struct sc_buf b;
    sc_buf_init(&b, 4 << 20);
    ui_begin(r, &b, "Audit log", m, "/admin/audit");
    ui_html(&b, "</header><div class=\"scroll\"><table class=\"t\" id=\"audit\"><thead><tr>"
                "<th>When (UTC)</th><th>Who</th><th>Did</th><th>To</th><th>Detail</th></tr>"
                "</thead><tbody>");
    struct audit_out ao = {&b, NULL, 0, 0};
    enum sc_err e = sc_store_audit_list(r->srv->store, before, 100, audit_row, &ao);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return reply_err(r, e, NULL);
    }
    ui_html(&b, "</tbody></table></div><p>");
    if (ao.n == 100)
        ui_htmlf(&b, "<a href=\"/admin/audit?before=%lld\">Older</a> · ", (long long)ao.last);
    ui_html(&b, "<a href=\"/api/v1/audit?format=csv\">Export (CSV)</a></p>");
    ui_end(&b);
    return reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

enum MHD_Result api_audit(struct req *r, const struct route_args *a)
{
    (void)a; /* the router checked the token and the admin role */
    struct list_out o;
    list_begin(r, &o, "id,at,actor,action,target,detail\r\n");
    struct audit_out ao = {NULL, &o, 0, 0};
    int64_t before = num_arg(req_arg(r, "before"));
    return list_finish(r, &o, sc_store_audit_list(r->srv->store, before, 100000, audit_row, &ao));
}
