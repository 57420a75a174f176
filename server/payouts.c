/*
 * payouts.c — issue 19's money side of the API: POST /api/v1/payouts
 * records a payout against a party's approved, unpaid commissions
 * (idempotent on the caller's payout_id, audited), and
 * GET /api/v1/statements gives monthly statements per salesperson and per
 * customer (opening, earned, approved, voided, paid, closing, payable) as
 * JSON or CSV for finance: money (commission cents, as in the ledger) and
 * points (sign-up and welcome rewards), each unit on its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "auth_int.h"
#include "leads_int.h"
#include "orders_int.h"
#include "pages_int.h"
#include "routes_int.h"
#include "ux_int.h"
#include "sharecard/escape.h"

/* A strict positive id: digits only, no sign, no leading zero; 0 when it is not one. */
static int64_t strict_id(const char *s)
{
    if (!s || !s[0] || s[0] == '0' || strlen(s) > 15 || strspn(s, "0123456789") != strlen(s))
        return 0;
    return (int64_t)strtoll(s, NULL, 10);
}

/*
 * "YYYY-MM" (2000-01 to 9999-12) into the month's first second and the next
 * month's, in the deployment's zone.
 */
static bool month_parse(const char *s, int64_t *from, int64_t *to)
{
    if (!s || strlen(s) != 7 || s[4] != '-' || strspn(s, "0123456789") != 4 ||
        strspn(s + 5, "0123456789") != 2)
        return false;
    int y = atoi(s), m = atoi(s + 5);
    if (y < 2000 || m < 1 || m > 12)
        return false;
    sc_month_bounds(y, m, sc_tz_min, from, to); /* the deployment's months (SHARECARD_TZ) */
    return true;
}

static void json_party(struct sc_buf *b, const struct sc_party *p)
{
    sc_buf_printf(b, "{\"type\":\"%s\",\"id\":%lld,\"name\":",
                  p->type == SC_PARTY_MEMBER ? "member" : "customer", (long long)p->id);
    sc_ui_json_str(b, p->name);
    sc_buf_puts(b, "}");
}

/* ---- POST /api/v1/payouts ---------------------------------------------------------- */

enum MHD_Result sc_api_payouts(struct req *r, const struct route_args *a)
{
    json_error_t jerr;
    json_t *j =
        json_loadb(r->body.data ? r->body.data : "", r->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(j)) {
        json_decref(j);
        return sc_reply_error(r, 400,
                              "The body must be a JSON object: {\"payout_id\", \"member\" or "
                              "\"customer\", \"amount\"}.");
    }
    struct sc_payout p;
    memset(&p, 0, sizeof(p));
    json_t *id = json_object_get(j, "payout_id"), *amount = json_object_get(j, "amount");
    json_t *mem = json_object_get(j, "member"), *cus = json_object_get(j, "customer");
    const char *why = NULL;
    if (!json_is_string(id) || json_string_length(id) == 0 ||
        json_string_length(id) >= sizeof(p.payout_id) ||
        !sc_utf8_valid(json_string_value(id), json_string_length(id)) ||
        strpbrk(json_string_value(id), "\r\n\t"))
        why = "payout_id must be a string of 1 to 128 characters (no control characters).";
    else if (sc_order_amount_json(amount, &p.amount, &why) != SC_OK)
        ; /* 'why' names the amount's fault (a negative one too) */
    else if (p.amount == 0)
        why = "amount must be more than 0.";
    else if ((mem != NULL) == (cus != NULL))
        why = "Give exactly one of member or customer (an id).";
    else if (!json_is_integer(mem ? mem : cus) || json_integer_value(mem ? mem : cus) <= 0)
        why = mem ? "member must be a member's id." : "customer must be a customer's id.";
    if (why) {
        json_decref(j);
        return sc_reply_error(r, 400, why);
    }
    snprintf(p.payout_id, sizeof(p.payout_id), "%s", json_string_value(id));
    p.party_type = mem ? SC_PARTY_MEMBER : SC_PARTY_CUSTOMER;
    p.party_id = (int64_t)json_integer_value(mem ? mem : cus);
    json_decref(j);
    p.now = (int64_t)time(NULL);
    p.actor = a->m->email;
    enum sc_err e = sc_store_payout_add(r->srv->store, &p);
    if (e == SC_ENOTFOUND)
        return sc_reply_error(r, 404,
                              p.party_type == SC_PARTY_MEMBER
                                  ? "member: no member has this id."
                                  : "customer: no customer has this id.");
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    if (p.refused) {
        char msg[256];
        if (strncmp(p.refused, "amount", 6) == 0)
            snprintf(msg, sizeof(msg), "%s It is %lld.%02lld.", p.refused,
                     (long long)(p.payable / 100), (long long)(p.payable % 100));
        else
            snprintf(msg, sizeof(msg), "%s", p.refused);
        return sc_reply_error(r, 409, msg);
    }
    if (!p.replayed) {
        char target[64], detail[200];
        snprintf(target, sizeof(target), "%s:%lld",
                 p.party_type == SC_PARTY_MEMBER ? "member" : "customer", (long long)p.party_id);
        snprintf(detail, sizeof(detail), "payout %.128s: %lld cents", p.payout_id,
                 (long long)p.amount);
        sc_store_audit(r->srv->store, a->m->email, "payout.add", target, detail);
    }
    struct sc_buf b;
    sc_buf_init(&b, 4096);
    char when[32];
    sc_ui_iso_time(p.created_at, when);
    sc_buf_puts(&b, "{\"payout_id\":");
    sc_ui_json_str(&b, p.payout_id);
    sc_buf_printf(&b,
                  ",\"party\":{\"type\":\"%s\",\"id\":%lld},\"amount\":%lld,\"paid_at\":\"%s\","
                  "\"replayed\":%s",
                  p.party_type == SC_PARTY_MEMBER ? "member" : "customer", (long long)p.party_id,
                  (long long)p.amount, when, p.replayed ? "true" : "false");
    if (!p.replayed)
        sc_buf_printf(&b, ",\"payable\":%lld", (long long)p.payable);
    sc_buf_puts(&b, "}\n");
    return sc_reply_bytes(r, p.replayed ? 200 : 201, "application/json", &b);
}

/* ---- GET /api/v1/statements?month=YYYY-MM[&member=ID|&customer=ID] ---------------------- */

struct out {
    struct list_out o;
    const char *month;
};

static int statement_row(const struct sc_statement_row *w, void *ctx)
{
    struct out *k = ctx;
    struct list_out *o = &k->o;
    const struct sc_statement *s = &w->st, *p = &w->points;
    const int64_t v[14] = {s->opening, s->earned,  s->approved, s->voided, s->paid,
                           s->closing, s->payable, p->opening,  p->earned, p->approved,
                           p->voided,  p->paid,    p->closing,  p->payable};
    if (o->csv) {
        char id[24], nums[14][24];
        snprintf(id, sizeof(id), "%lld", (long long)w->party.id);
        for (int i = 0; i < 14; i++)
            snprintf(nums[i], sizeof(nums[i]), "%lld", (long long)v[i]);
        const char *f[] = {k->month,
                           w->party.type == SC_PARTY_MEMBER ? "member" : "customer",
                           id,
                           w->party.name,
                           nums[0],
                           nums[1],
                           nums[2],
                           nums[3],
                           nums[4],
                           nums[5],
                           nums[6],
                           nums[7],
                           nums[8],
                           nums[9],
                           nums[10],
                           nums[11],
                           nums[12],
                           nums[13],
                           sc_ux_currency()};
        sc_list_csv_row(o, f, sizeof(f) / sizeof(f[0]));
    } else {
        sc_buf_puts(&o->b, o->rows ? ",\n" : "\n");
        sc_buf_printf(&o->b, "{\"month\":\"%s\",\"party\":", k->month);
        json_party(&o->b, &w->party);
        /* money at the top (cents of SHARECARD_CURRENCY), as first published; points in
         * their own object */
        sc_buf_printf(&o->b, ",\"currency\":\"%s\"", sc_ux_currency());
        sc_buf_printf(&o->b,
                      ",\"unit\":\"cents\",\"opening\":%lld,\"earned\":%lld,\"approved\":%lld,"
                      "\"voided\":%lld,\"paid\":%lld,\"closing\":%lld,\"payable\":%lld,"
                      "\"points\":{\"opening\":%lld,\"earned\":%lld,\"approved\":%lld,"
                      "\"voided\":%lld,\"redeemed\":%lld,\"closing\":%lld,\"usable\":%lld}}",
                      (long long)v[0], (long long)v[1], (long long)v[2], (long long)v[3],
                      (long long)v[4], (long long)v[5], (long long)v[6], (long long)v[7],
                      (long long)v[8], (long long)v[9], (long long)v[10], (long long)v[11],
                      (long long)v[12], (long long)v[13]);
    }
    o->rows++;
    return sc_buf_error(&o->b) != SC_OK;
}

enum MHD_Result sc_api_statements(struct req *r, const struct route_args *a)
{
    struct sc_scope scope;
    sc_session_scope(a->m, &scope);
    const char *month = sc_req_arg(r, "month");
    int64_t from, to;
    if (!month_parse(month, &from, &to))
        return sc_reply_error(r, 400, "month is required, written YYYY-MM (2000-01 or later).");
    const char *mem = sc_req_arg(r, "member"), *cus = sc_req_arg(r, "customer");
    struct sc_party only = {0};
    if (mem && cus)
        return sc_reply_error(r, 400, "Give member or customer, not both.");
    if (mem || cus) {
        only.type = mem ? SC_PARTY_MEMBER : SC_PARTY_CUSTOMER;
        only.id = strict_id(mem ? mem : cus);
        if (!only.id)
            return sc_reply_error(r, 400,
                                  mem ? "member must be a member's id (digits)."
                                      : "customer must be a customer's id (digits).");
    }
    struct out k = {.month = month};
    sc_list_begin(r, &k.o,
                  "month,party_type,party_id,party_name,opening,earned,approved,voided,paid,"
                  "closing,payable,points_opening,points_earned,points_approved,points_voided,"
                  "points_redeemed,points_closing,points_usable,currency\r\n");
    enum sc_err e = sc_store_statements(r->srv->store, &scope, only.type ? &only : NULL, from, to,
                                        (int64_t)time(NULL), statement_row, &k);
    return sc_list_finish(r, &k.o, e);
}
