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
        sc_ui_iso_time(a->ts, ts);
        if (o->csv) {
            const char *f[] = {id, ts, a->actor, a->action, a->target, a->detail};
            sc_list_csv_row(o, f, 6);
        } else {
            sc_buf_printf(&o->b, "%s{\"id\":%s,\"at\":\"%s\",\"actor\":", o->rows ? ",\n" : "\n",
                          id, ts);
            sc_ui_json_str(&o->b, a->actor);
            sc_buf_puts(&o->b, ",\"action\":");
            sc_ui_json_str(&o->b, a->action);
            sc_buf_puts(&o->b, ",\"target\":");
            sc_ui_json_str(&o->b, a->target);
            sc_buf_puts(&o->b, ",\"detail\":");
            sc_ui_json_str(&o->b, a->detail);
            sc_buf_putc(&o->b, '}');
        }
        o->rows++;
        return sc_buf_error(&o->b) != SC_OK;
    }
    struct sc_buf *b = ao->b;
    sc_ui_html(b, "<tr><td>");
    sc_ui_when(b, a->ts);
    sc_ui_html(b, "</td><td>");
    sc_ui_text(b, a->actor);
    sc_ui_html(b, "</td><td>");
    sc_ui_text(b, a->action);
    sc_ui_html(b, "</td><td>");
    sc_ui_text(b, a->target);
    sc_ui_html(b, "</td><td>");
    sc_ui_text(b, a->detail);
    sc_ui_html(b, "</td></tr>");
    return sc_buf_error(b) != SC_OK;
}

/* ?before (older entries than this id): absent, or a positive whole number; false if not. */
static bool before_arg(struct req *r, int64_t *before)
{
    const char *v = sc_req_arg(r, "before");
    *before = 0;
    if (!v)
        return true;
    *before = sc_num_arg(v);
    return *before > 0;
}

enum MHD_Result sc_h_audit(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    int64_t before = 0;
    if (!before_arg(r, &before))
        return sc_reply_error(r, 400,
                              "before must be an audit entry's id, a positive whole "
                              "number.");
    struct sc_buf b;
    sc_buf_init(&b, 4 << 20);
    sc_ui_begin(r, &b, "Audit log", m, "/admin/audit");
    sc_ui_html(&b, "</header><div class=\"scroll\"><table class=\"t\" id=\"audit\"><thead><tr>"
                   "<th>When</th><th>Who</th><th>Did</th><th>To</th><th>Detail</th></tr>"
                   "</thead><tbody>");
    struct audit_out ao = {&b, NULL, 0, 0};
    enum sc_err e = sc_store_audit_list(r->srv->store, before, 100, audit_row, &ao);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return sc_reply_err(r, e, NULL);
    }
    sc_ui_html(&b, "</tbody></table></div><p>");
    if (ao.n == 100)
        sc_ui_htmlf(&b, "<a href=\"/admin/audit?before=%lld\">Older</a> · ", (long long)ao.last);
    sc_ui_html(&b, "<a href=\"/api/v1/audit?format=csv\">Export (CSV)</a></p>");
    sc_ui_end(&b);
    return sc_reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

enum MHD_Result sc_api_audit(struct req *r, const struct route_args *a)
{
    (void)a; /* the router checked the token and the admin role */
    struct list_out o;
    struct audit_out ao = {NULL, &o, 0, 0};
    int64_t before = 0;
    if (!before_arg(r, &before))
        return sc_reply_error(r, 400,
                              "before must be an audit entry's id, a positive whole "
                              "number.");
    sc_list_begin(r, &o, "id,at,actor,action,target,detail\r\n");
    return sc_list_finish(r, &o,
                          sc_store_audit_list(r->srv->store, before, 100000, audit_row, &ao));
}
