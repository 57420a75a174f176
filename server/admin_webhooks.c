/*
 * admin_webhooks.c — /admin/webhooks, for admins: the webhook endpoints
 * (add one, whose signing secret is shown once; remove one), and the
 * delivery log (time, event, attempt, state, status, latency, the start of
 * the answer) with "send again".  Every form is CSRF-checked and audited;
 * the same checks as `sharecard webhook add` (webhooks.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "auth_int.h"
#include "pages_int.h"
#include "routes_int.h"
#include "sharecard/webhook.h"
#include "webhooks_int.h"

#define LOG_ROWS 200 /* deliveries the log shows */

static int endpoint_row(const struct sc_webhook_row *w, void *ctx)
{
    struct sc_buf *b = ctx;
    sc_ui_htmlf(b, "<tr data-webhook=\"%lld\"><td class=\"n\">%lld</td><td>", (long long)w->id,
                (long long)w->id);
    sc_ui_text(b, w->url);
    sc_ui_html(b, "</td><td>");
    sc_ui_text(b, w->events);
    sc_ui_html(b, "</td><td>");
    sc_ui_when(b, w->created_at);
    sc_ui_htmlf(b,
                "</td><td><form class=\"inline\" method=\"post\" "
                "action=\"/admin/webhooks/%lld/remove\">",
                (long long)w->id);
    return sc_buf_error(b) != SC_OK;
}

struct log_ctx {
    struct req *r;
    struct sc_buf *b;
};

static int delivery_row(const struct sc_outbox_row *o, void *ctx)
{
    struct log_ctx *l = ctx;
    struct sc_buf *b = l->b;
    sc_ui_htmlf(b, "<tr data-delivery=\"%lld\" data-status=\"", (long long)o->id);
    sc_ui_text(b, o->status);
    sc_ui_html(b, "\"><td>");
    sc_ui_when(b, o->last_at ? o->last_at : o->created_at);
    sc_ui_html(b, "</td><td>");
    sc_ui_text(b, o->type);
    sc_ui_html(b, "<br><small>");
    sc_ui_text(b, o->msg_id);
    sc_ui_html(b, "</small></td><td>");
    sc_ui_text(b, o->url);
    sc_ui_htmlf(b, "</td><td class=\"n\">%d</td><td>", o->attempts);
    sc_ui_text(b, o->status);
    if (strcmp(o->status, "pending") == 0 && o->attempts > 0) {
        sc_ui_html(b, "<br><small>next ");
        sc_ui_when(b, o->next_at);
        sc_ui_html(b, "</small>");
    }
    sc_ui_html(b, "</td><td class=\"n\">");
    if (o->last_at)
        sc_ui_htmlf(b, "%lld", (long long)o->last_status);
    sc_ui_html(b, "</td><td class=\"n\">");
    if (o->last_at)
        sc_ui_htmlf(b, "%lld ms", (long long)o->last_latency_ms);
    sc_ui_html(b, "</td><td><small>");
    if (o->last_error && o->last_error[0]) {
        sc_ui_text(b, o->last_error);
        sc_ui_html(b, "<br>");
    }
    sc_ui_text(b, o->last_excerpt);
    sc_ui_htmlf(b,
                "</small></td><td><form class=\"inline\" method=\"post\" "
                "action=\"/admin/webhooks/deliveries/%lld/resend\">",
                (long long)o->id);
    sc_ui_csrf_field(l->r, b);
    sc_ui_html(b, "<button class=\"btn\" type=\"submit\">Send again</button></form></td></tr>");
    return sc_buf_error(b) != SC_OK;
}

/* Endpoint rows end with their remove form, whose CSRF field needs the request. */
struct endpoints_ctx {
    struct req *r;
    struct sc_buf *b;
};

static int endpoint_row_full(const struct sc_webhook_row *w, void *ctx)
{
    struct endpoints_ctx *c = ctx;
    if (endpoint_row(w, c->b))
        return 1;
    sc_ui_csrf_field(c->r, c->b);
    sc_ui_html(c->b, "<button class=\"btn\" type=\"submit\">Remove</button></form></td></tr>");
    return sc_buf_error(c->b) != SC_OK;
}

static enum MHD_Result webhooks_page(struct req *r, const struct sc_member *m, unsigned status,
                                     bool ok, const char *msg, const char *secret)
{
    struct sc_buf b;
    sc_buf_init(&b, 8 << 20);
    sc_ui_begin(r, &b, "Webhooks", m, "/dashboard");
    sc_ui_html(&b, "</header>");
    sc_ui_message(&b, ok, msg);
    if (secret && secret[0]) {
        sc_ui_html(&b, "<p class=\"secret\">Signing secret (shown once; keep it with the "
                       "receiver): <code id=\"secret\">");
        sc_ui_text(&b, secret);
        sc_ui_html(&b, "</code></p>");
    }
    sc_ui_html(&b, "<p class=\"hint\">Each event is POSTed, signed as the Standard Webhooks "
                   "specification says (webhook-id, webhook-timestamp, webhook-signature), "
                   "until the receiver answers 2xx; failures are retried for about a day with "
                   "the same webhook-id.</p><h2>Endpoints</h2><div class=\"scroll\"><table "
                   "class=\"t\" id=\"webhooks\"><thead><tr><th class=\"n\">ID</th><th>URL</th>"
                   "<th>Events</th><th>Added</th><th></th></tr></thead><tbody>");
    struct endpoints_ctx ec = {r, &b};
    enum sc_err e = sc_store_webhook_list(r->srv->store, endpoint_row_full, &ec);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return sc_reply_err(r, e, NULL);
    }
    sc_ui_htmlf(&b,
                "</tbody></table></div><h2>Add a webhook</h2><form method=\"post\" "
                "action=\"/admin/webhooks/add\" class=\"stack\"><label>URL <input name=\"url\" "
                "type=\"url\" required maxlength=\"%d\" placeholder=\"https://example.com/hooks\">"
                "</label><label>Events <input name=\"events\" maxlength=\"256\" value=\"%s\">"
                "</label>",
                SC_WEBHOOK_URL_MAX, SC_WEBHOOK_EVENTS_ALL);
    sc_ui_csrf_field(r, &b);
    sc_ui_html(&b, "<button class=\"btn\" type=\"submit\">Add</button></form>"
                   "<h2>Delivery log</h2><div class=\"scroll\"><table class=\"t\" "
                   "id=\"deliveries\"><thead><tr><th>When</th><th>Event</th><th>Endpoint"
                   "</th><th class=\"n\">Attempts</th><th>State</th><th class=\"n\">Status</th>"
                   "<th class=\"n\">Latency</th><th>Answer</th><th></th></tr></thead><tbody>");
    struct log_ctx lc = {r, &b};
    if ((e = sc_store_outbox_list(r->srv->store, LOG_ROWS, delivery_row, &lc)) != SC_OK) {
        sc_buf_cleanup(&b);
        return sc_reply_err(r, e, NULL);
    }
    sc_ui_html(&b, "</tbody></table></div>");
    sc_ui_end(&b);
    return sc_reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

static enum MHD_Result add(struct req *r, const struct sc_member *m)
{
    char url[SC_WEBHOOK_URL_MAX + 2], events[258];
    if (sc_req_form_field(r, "url", url, sizeof(url)) == SC_ETOOBIG)
        return webhooks_page(r, m, 422, false, "url: longer than 2048 bytes.", NULL);
    if (sc_req_form_field(r, "events", events, sizeof(events)) == SC_ETOOBIG)
        return webhooks_page(r, m, 422, false, "events: the list is too long.", NULL);
    char secret[SC_WEBHOOK_SECRET_SIZE], why[SC_WEBHOOK_ERROR_SIZE] = "", msg[320];
    int64_t id = 0;
    /* Resolving the host blocks this thread for a DNS answer: rare, admins only. */
    enum sc_err e = sc_webhook_endpoint_add(r->srv->store, url, events, secret, sizeof(secret), &id,
                                            why, sizeof(why));
    if (e != SC_OK) {
        snprintf(msg, sizeof(msg), "url: %s", why);
        return webhooks_page(r, m, e == SC_EINVAL || e == SC_ETOOBIG ? 422 : 503, false, msg, NULL);
    }
    char target[32];
    snprintf(target, sizeof(target), "webhook:%lld", (long long)id);
    sc_store_audit(r->srv->store, m->email, "webhook.add", target, url);
    enum MHD_Result ret = webhooks_page(r, m, 200, true, "Webhook added.", secret);
    sodium_memzero(secret, sizeof(secret));
    return ret;
}

enum MHD_Result sc_h_webhooks_page(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    const char *rest = a->arg;
    if (!rest || !rest[0])
        return sc_req_is_get(r) ? webhooks_page(r, m, 200, true, NULL, NULL)
                                : sc_reply_405(r, "GET, HEAD");
    if (r->method != M_POST)
        return sc_reply_405(r, "POST");
    if (!sc_csrf_ok(r))
        return sc_reply_error(r, 403, SC_FORM_EXPIRED);
    if (strcmp(rest, "add") == 0)
        return add(r, m);

    char num[24];
    const char *slash;
    char target[48];
    if (strncmp(rest, "deliveries/", 11) == 0 && (slash = strchr(rest + 11, '/')) &&
        strcmp(slash, "/resend") == 0 && (size_t)(slash - rest - 11) < sizeof(num)) {
        snprintf(num, sizeof(num), "%.*s", (int)(slash - rest - 11), rest + 11);
        int64_t id = sc_num_arg(num);
        enum sc_err e =
            id ? sc_store_outbox_resend(r->srv->store, id, (int64_t)time(NULL)) : SC_ENOTFOUND;
        if (e == SC_ENOTFOUND)
            return webhooks_page(r, m, 404, false, "There is no such delivery.", NULL);
        if (e == SC_ECONFLICT)
            return webhooks_page(r, m, 409, false, "This delivery is being attempted now.", NULL);
        if (e != SC_OK)
            return sc_reply_err(r, e, NULL);
        snprintf(target, sizeof(target), "delivery:%lld", (long long)id);
        sc_store_audit(r->srv->store, m->email, "webhook.resend", target, "");
        return webhooks_page(r, m, 200, true, "It will be sent again in a moment.", NULL);
    }
    if ((slash = strchr(rest, '/')) && strcmp(slash, "/remove") == 0 &&
        (size_t)(slash - rest) < sizeof(num)) {
        snprintf(num, sizeof(num), "%.*s", (int)(slash - rest), rest);
        int64_t id = sc_num_arg(num);
        enum sc_err e =
            id ? sc_store_webhook_remove(r->srv->store, id, (int64_t)time(NULL)) : SC_ENOTFOUND;
        if (e == SC_ENOTFOUND)
            return webhooks_page(r, m, 404, false, "There is no such webhook.", NULL);
        if (e != SC_OK)
            return sc_reply_err(r, e, NULL);
        snprintf(target, sizeof(target), "webhook:%lld", (long long)id);
        sc_store_audit(r->srv->store, m->email, "webhook.remove", target, "");
        return webhooks_page(r, m, 200, true, "Webhook removed.", NULL);
    }
    return sc_reply_error(r, 404, "There is nothing at this address.");
}
