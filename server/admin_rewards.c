/*
 * admin_rewards.c — /admin/rewards: the rewards ledger in the member's
 * scope, where a manager or admin approves or voids a held reward (with a
 * reason, CSRF-checked and audited).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "pages_int.h"
#include "routes_int.h"

/* ---- /admin/rewards: the ledger with approve / void --------------------------------- */

struct ledger {
    struct req *r;
    struct sc_buf *b;
    int64_t find; /* not 0: only note whether this row is in scope */
    bool found;
    size_t n;
};

static int ledger_row(const struct sc_reward_row *w, void *ctx)
{
    struct ledger *l = ctx;
    if (l->find) {
        if (w->id == l->find)
            l->found = true;
        return l->found;
    }
    struct sc_buf *b = l->b;
    l->n++;
    sc_ui_htmlf(b, "<tr data-reward=\"%lld\" data-status=\"%s\"><td>", (long long)w->id, w->status);
    sc_ui_when(b, w->created_at);
    sc_ui_html(b, "</td><td>");
    sc_ui_text(b, w->party.name);
    sc_ui_htmlf(b, " (%s)</td><td class=\"n\">%d</td><td>%s</td><td class=\"n\">%lld</td><td>%s",
                sc_tr(w->party.type == SC_PARTY_MEMBER ? "member" : "customer"), w->level,
                sc_tr(w->kind), (long long)w->amount, sc_tr(w->status));
    if (w->reason && w->reason[0]) {
        sc_ui_html(b, ": ");
        sc_ui_text(b, w->reason);
    }
    sc_ui_html(b, "</td><td>");
    if (strcmp(w->status, "pending") == 0 || strcmp(w->status, "hold") == 0) {
        sc_buf_printf(
            b, "<form class=\"inline decide\" method=\"post\" action=\"/admin/rewards/%lld\">",
            (long long)w->id);
        sc_ui_csrf_field(l->r, b);
        sc_ui_html(b, "<input name=\"reason\" maxlength=\"200\" placeholder=\"reason\" "
                      "aria-label=\"Reason\"><button class=\"btn\" name=\"decision\" "
                      "value=\"approved\" type=\"submit\">Approve</button><button class=\"btn\" "
                      "name=\"decision\" value=\"void\" type=\"submit\">Void</button></form>");
    }
    sc_ui_html(b, "</td></tr>");
    return sc_buf_error(b) != SC_OK;
}

static enum MHD_Result rewards_page(struct req *r, const struct sc_member *m, unsigned status,
                                    bool ok, const char *msg)
{
    struct sc_scope scope;
    sc_session_scope(m, &scope);
    struct sc_buf b;
    sc_buf_init(&b, 32 << 20);
    sc_ui_begin(r, &b, "Rewards ledger", m, "/dashboard");
    sc_ui_html(&b, "</header>");
    sc_ui_message(&b, ok, msg);
    sc_ui_html(&b, "<p class=\"hint\">Sign-up points and commissions, as the attribution "
                   "rules credited them. Pending rows become approved after their hold; a "
                   "decision here is final and audited.</p><div class=\"scroll\"><table "
                   "class=\"t sortable\" id=\"rewards\"><thead><tr><th>When (UTC)</th><th>Earned "
                   "by</th><th class=\"n\">Level</th><th>Kind</th><th class=\"n\">Amount</th>"
                   "<th>State</th><th></th></tr></thead><tbody>");
    struct ledger l = {r, &b, 0, false, 0};
    enum sc_err e =
        sc_store_rewards_list(r->srv->store, &scope, (int64_t)time(NULL), ledger_row, &l);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return sc_reply_err(r, e, NULL);
    }
    sc_ui_html(&b, "</tbody></table></div><p><a href=\"/api/v1/rewards?format=csv\">Export "
                   "(CSV)</a></p>");
    sc_ui_end(&b);
    return sc_reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

enum MHD_Result sc_h_rewards_page(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    const char *rest = a->arg;
    if (!rest || !rest[0])
        return sc_req_is_get(r) ? rewards_page(r, m, 200, true, NULL)
                                : sc_reply_405(r, "GET, HEAD");
    if (r->method != M_POST)
        return sc_reply_405(r, "POST");
    if (!sc_csrf_ok(r))
        return sc_reply_error(r, 403, SC_FORM_EXPIRED);
    int64_t id = sc_num_arg(rest);
    char decision[16], reason[202];
    sc_req_form_field(r, "decision", decision, sizeof(decision));
    if (sc_req_form_field(r, "reason", reason, sizeof(reason)) == SC_ETOOBIG)
        return rewards_page(r, m, 422, false, "The reason may have 200 characters.");
    if (strcmp(decision, "approved") != 0 && strcmp(decision, "void") != 0)
        return rewards_page(r, m, 422, false, "Approve or void.");
    /* Only a row the member can see may be decided. */
    struct sc_scope scope;
    sc_session_scope(m, &scope);
    struct ledger l = {r, NULL, id, false, 0};
    enum sc_err e =
        id ? sc_store_rewards_list(r->srv->store, &scope, (int64_t)time(NULL), ledger_row, &l)
           : SC_OK;
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    if (!l.found)
        return sc_reply_error(r, 404, "There is no such reward in your ledger.");
    e = sc_store_reward_decide(r->srv->store, id, decision, reason, (int64_t)time(NULL));
    if (e == SC_ECONFLICT || e == SC_ENOTFOUND)
        return rewards_page(r, m, 409, false, "This reward was already decided.");
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    char target[32];
    snprintf(target, sizeof(target), "reward:%lld", (long long)id);
    sc_store_audit(r->srv->store, m->email,
                   strcmp(decision, "void") == 0 ? "reward.void" : "reward.approve", target,
                   reason);
    return rewards_page(r, m, 200, true, strcmp(decision, "void") == 0 ? "Voided." : "Approved.");
}
