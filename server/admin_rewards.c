/*
 * admin_rewards.c — /admin/rewards: the rewards ledger in the member's
 * scope, newest first, filtered by state and a page at a time, where a
 * manager or admin approves or voids a held reward (with a reason,
 * CSRF-checked and audited), or approves the selected rows at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "pages_int.h"
#include "routes_int.h"
#include "ux_int.h"

/* ---- /admin/rewards: the ledger with approve / void --------------------------------- */

/* Which rows the list shows (?status=): everything, or one state, or both awaiting ones. */
static const char *const filters[] = {"all", "awaiting", "pending", "hold", "approved", "void"};
#define PAGE_ROWS 50

struct ledger {
    struct req *r;
    struct sc_buf *b;
    int64_t find; /* not 0: only note whether this row is in scope */
    bool found;
    size_t n;
    /* the list (issue 17): newest first, filtered, a page at a time */
    const char *filter;    /* one of filters[] */
    size_t total;          /* matching rows (the counting pass) */
    size_t first, last;    /* the page: matching rows [first, last) in oldest-first order */
    const int64_t *wanted; /* bulk: the ids asked for, sorted; 'nwanted' of them */
    size_t nwanted;
    int64_t *in_scope; /* bulk: the asked-for ids found in scope */
    size_t nin;
    struct sc_buf *rows; /* the page's rows, oldest first, one buffer each */
};

static bool awaiting(const char *status)
{
    return strcmp(status, "pending") == 0 || strcmp(status, "hold") == 0;
}

static bool matches(const struct ledger *l, const char *status)
{
    if (!l->filter || strcmp(l->filter, "all") == 0)
        return true;
    if (strcmp(l->filter, "awaiting") == 0)
        return awaiting(status);
    return strcmp(l->filter, status) == 0;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int ledger_row(const struct sc_reward_row *w, void *ctx)
{
    struct ledger *l = ctx;
    if (l->find) {
        if (w->id == l->find)
            l->found = true;
        return l->found;
    }
    if (l->wanted) { /* bulk: which of the asked-for rows this member may decide */
        if (awaiting(w->status) && bsearch(&w->id, l->wanted, l->nwanted, sizeof(int64_t), cmp_id))
            l->in_scope[l->nin++] = w->id;
        return 0;
    }
    if (!matches(l, w->status))
        return 0;
    size_t k = l->n++;
    if (!l->rows) { /* the counting pass */
        l->total++;
        return 0;
    }
    if (k < l->first || k >= l->last)
        return 0;
    struct sc_buf *b = &l->rows[k - l->first];
    bool open = awaiting(w->status);
    sc_ui_htmlf(b, "<tr data-reward=\"%lld\" data-status=\"%s\"><td>", (long long)w->id, w->status);
    if (open)
        sc_ui_htmlf(b,
                    "<input type=\"checkbox\" name=\"id\" value=\"%lld\" form=\"bulk\" "
                    "aria-label=\"Select\">",
                    (long long)w->id);
    sc_ui_html(b, "</td><td>");
    sc_ui_when(b, w->created_at);
    sc_ui_html(b, "</td><td>");
    sc_ui_text(b, w->party.name);
    sc_ui_htmlf(b, " (%s)</td><td class=\"n\">%d</td><td>%s</td>",
                sc_tr(w->party.type == SC_PARTY_MEMBER ? "member" : "customer"), w->level,
                sc_words_reward_kind(w->kind));
    /* Points and money in their own columns. */
    if (strcmp(w->kind, "commission") == 0) {
        char money[64];
        sc_ux_money(w->amount, money);
        sc_ui_html(b, "<td class=\"n\"></td><td class=\"n\">");
        sc_ui_text(b, money);
        sc_ui_html(b, "</td>");
    } else {
        sc_ui_htmlf(b, "<td class=\"n\">%lld</td><td class=\"n\"></td>", (long long)w->amount);
    }
    sc_ui_htmlf(b, "<td>%s", sc_words_reward_status(w->status));
    if (w->reason && w->reason[0]) {
        sc_ui_html(b, ": ");
        sc_ux_hold_reason(b, w->reason);
    }
    sc_ui_html(b, "</td><td>");
    if (open) {
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

/* A filter in words: a state's, or "All", "Awaiting a decision" (pending or held). */
static const char *filter_words(const char *f)
{
    if (strcmp(f, "all") == 0)
        return sc_tr("All");
    if (strcmp(f, "awaiting") == 0)
        return sc_tr_lang() == SC_LANG_ZH ? sc_tr(f) : "Awaiting a decision";
    return sc_words_reward_status(f);
}

/* ?status= as one of filters[] (NULL when it is not one); absent: "all". */
static const char *filter_arg(struct req *r)
{
    const char *v = sc_req_arg(r, "status");
    if (!v || !v[0])
        return "all";
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
        if (strcmp(v, filters[i]) == 0)
            return filters[i];
    return NULL;
}

static enum MHD_Result rewards_page(struct req *r, const struct sc_member *m, unsigned status,
                                    bool ok, const char *msg)
{
    const char *filter = filter_arg(r);
    if (!filter)
        return sc_reply_error(r, 400,
                              "status must be all, awaiting, pending, hold, approved or "
                              "void.");
    const char *pg = sc_req_arg(r, "page");
    int64_t page = pg && pg[0] ? sc_num_arg(pg) : 1;
    if (page < 1 || page > 1000000)
        return sc_reply_error(r, 400, "page must be a whole number from 1.");
    struct sc_scope scope;
    sc_session_scope(m, &scope);
    int64_t now = (int64_t)time(NULL);
    /* Two passes over the ledger (oldest first): count the matching rows, then keep the
     * page's, newest first. */
    struct ledger l = {.r = r, .filter = filter};
    enum sc_err e = sc_store_rewards_list(r->srv->store, &scope, now, ledger_row, &l);
    size_t pages = l.total ? (l.total + PAGE_ROWS - 1) / PAGE_ROWS : 1;
    if ((size_t)page > pages)
        page = (int64_t)pages;
    size_t newest_skip = (size_t)(page - 1) * PAGE_ROWS;
    l.last = l.total > newest_skip ? l.total - newest_skip : 0;
    l.first = l.last > PAGE_ROWS ? l.last - PAGE_ROWS : 0;
    l.n = 0;
    struct sc_buf rows[PAGE_ROWS];
    for (size_t i = 0; i < PAGE_ROWS; i++)
        sc_buf_init(&rows[i], 0);
    l.rows = rows;
    if (e == SC_OK)
        e = sc_store_rewards_list(r->srv->store, &scope, now, ledger_row, &l);
    if (e != SC_OK) {
        for (size_t i = 0; i < PAGE_ROWS; i++)
            sc_buf_cleanup(&rows[i]);
        return sc_reply_err(r, e, NULL);
    }
    struct sc_buf b;
    sc_buf_init(&b, 1 << 20);
    sc_ui_begin(r, &b, "Rewards ledger", m, "/admin/rewards");
    sc_ui_html(&b, "</header>");
    sc_ui_message(&b, ok, msg);
    sc_ui_html(&b, "<p class=\"hint\">Sign-up points and commissions, as the attribution "
                   "rules credited them. Pending rows become approved after their hold; a "
                   "decision here is final and audited.</p>");
    /* The filter, and the bulk form the rows' checkboxes belong to. */
    sc_ui_html(&b, "<form class=\"inline filters\" method=\"get\" action=\"/admin/rewards\">"
                   "<label>State <select name=\"status\">");
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
        sc_ui_htmlf(&b, "<option value=\"%s\"%s>%s</option>", filters[i],
                    strcmp(filters[i], filter) == 0 ? " selected" : "", filter_words(filters[i]));
    sc_ui_html(&b, "</select></label> <button class=\"btn\" type=\"submit\">Show</button></form>"
                   "<form class=\"inline bulk\" id=\"bulk\" method=\"post\" "
                   "action=\"/admin/rewards/bulk\">");
    sc_ui_csrf_field(r, &b);
    sc_ui_htmlf(&b,
                "<input type=\"hidden\" name=\"status\" value=\"%s\"><input name=\"reason\" "
                "maxlength=\"200\" placeholder=\"reason\" aria-label=\"Reason\"> <button "
                "class=\"btn primary\" type=\"submit\" name=\"decision\" value=\"approved\">"
                "Approve selected</button></form>",
                filter);
    sc_ui_htmlf(&b, "<p class=\"hint\" id=\"rewards-count\" data-total=\"%zu\">", l.total);
    sc_ui_htmlf(&b,
                sc_tr(l.total == 1 ? "%zu row, newest first · page %lld of %zu"
                                   : "%zu rows, newest first · page %lld of %zu"),
                l.total, (long long)page, pages);
    sc_ui_html(&b, "</p><div class=\"scroll\"><table class=\"t sortable\" id=\"rewards\"><thead>"
                   "<tr><th><input type=\"checkbox\" id=\"select-all\" aria-label=\"Select all"
                   "\"></th><th>When</th><th>Earned by</th><th class=\"n\">Level</th><th>Kind"
                   "</th><th class=\"n\">Points</th><th class=\"n\">Money</th><th>State</th>"
                   "<th></th></tr></thead><tbody>");
    for (size_t i = l.last - l.first; i-- > 0;) { /* newest first */
        if (rows[i].data)
            sc_buf_append(&b, rows[i].data, rows[i].len);
        sc_buf_cleanup(&rows[i]);
    }
    for (size_t i = l.last - l.first; i < PAGE_ROWS; i++)
        sc_buf_cleanup(&rows[i]);
    sc_ui_html(&b, "</tbody></table></div><nav class=\"pager\">");
    if (page > 1)
        sc_ui_htmlf(&b,
                    "<a class=\"btn\" rel=\"prev\" href=\"/admin/rewards?status=%s&amp;"
                    "page=%lld\">Newer</a> ",
                    filter, (long long)page - 1);
    if ((size_t)page < pages)
        sc_ui_htmlf(&b,
                    "<a class=\"btn\" rel=\"next\" href=\"/admin/rewards?status=%s&amp;"
                    "page=%lld\">Older</a>",
                    filter, (long long)page + 1);
    sc_ui_html(&b, "</nav><p><a href=\"/api/v1/rewards?format=csv\">Export (CSV)</a></p>");
    sc_ui_end(&b);
    return sc_reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

/*
 * POST /admin/rewards/bulk: approves every selected row ("id" fields, up to
 * BULK_MAX) that the member may see and that still awaits a decision, each
 * audited; CSRF-checked like every form.
 */
#define BULK_MAX 200
static enum MHD_Result rewards_bulk(struct req *r, const struct sc_member *m)
{
    char reason[202], decision[16];
    sc_req_form_field(r, "decision", decision, sizeof(decision));
    if (sc_req_form_field(r, "reason", reason, sizeof(reason)) == SC_ETOOBIG)
        return rewards_page(r, m, 422, false, "The reason may have 200 characters.");
    if (strcmp(decision, "approved") != 0)
        return rewards_page(r, m, 422, false, "Approve or void.");
    int64_t ids[BULK_MAX], in[BULK_MAX];
    size_t n = 0;
    const char *p = r->body.data ? r->body.data : "", *end = p + r->body.len;
    while (p < end) { /* every id=N field; ids are digits, so nothing to decode */
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *f_end = amp ? amp : end;
        if (f_end - p > 3 && memcmp(p, "id=", 3) == 0) {
            int64_t v = 0;
            const char *d = p + 3;
            for (; d < f_end && *d >= '0' && *d <= '9' && v < INT64_MAX / 10; d++)
                v = v * 10 + (*d - '0');
            if (d != f_end || v <= 0)
                return rewards_page(r, m, 422, false, "Each selected row must be a number.");
            if (n == BULK_MAX)
                return rewards_page(r, m, 422, false, "Select at most 200 rows at a time.");
            ids[n++] = v;
        }
        p = f_end + 1;
    }
    if (!n)
        return rewards_page(r, m, 422, false, "Select the rows to approve.");
    qsort(ids, n, sizeof(ids[0]), cmp_id);
    struct sc_scope scope;
    sc_session_scope(m, &scope);
    struct ledger l = {.r = r, .wanted = ids, .nwanted = n, .in_scope = in};
    int64_t now = (int64_t)time(NULL);
    enum sc_err e = sc_store_rewards_list(r->srv->store, &scope, now, ledger_row, &l);
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    size_t done = 0;
    for (size_t i = 0; i < l.nin; i++) {
        e = sc_store_reward_decide(r->srv->store, in[i], "approved", reason, now);
        if (e == SC_ECONFLICT || e == SC_ENOTFOUND)
            continue; /* decided meanwhile */
        if (e != SC_OK)
            return sc_reply_err(r, e, NULL);
        char target[32];
        snprintf(target, sizeof(target), "reward:%lld", (long long)in[i]);
        sc_store_audit(r->srv->store, m->email, "reward.approve", target, reason);
        done++;
    }
    char msg[160];
    snprintf(msg, sizeof(msg), sc_tr("Approved %zu of the %zu selected rows."), done, n);
    return rewards_page(r, m, 200, true, msg);
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
    if (strcmp(rest, "bulk") == 0)
        return rewards_bulk(r, m);
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
    struct ledger l = {.r = r, .find = id};
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
