/*
 * q_coupons.c — coupons, once for both backends (issue 19): issuing a code
 * with its ledger row inside the sign-up's transaction, checking and
 * redeeming one inside a purchase's transaction (so an order and its
 * coupon are stored together or not at all), the shop's list, and what a
 * customer's own browser is shown.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "store_int.h"

/* The status of coupon rows 'c' (with reward 'w') at ?1, as the list shows it. */
#define COUPON_STATE                                                                               \
    "CASE WHEN c.redeemed_at IS NOT NULL THEN 'redeemed' WHEN w.status = 'void' THEN 'void' "      \
    "WHEN w.status = 'hold' THEN 'hold' WHEN c.expires_at <= CAST(?1 AS BIGINT) THEN 'expired' "   \
    "ELSE 'usable' END"

enum sc_err sc_q_coupon_issue(struct sc_db *db, int64_t customer_id, int64_t reward_id,
                              const struct sc_reward_rule *rule, int64_t now)
{
    static struct sc_sql q =
        SC_SQL("INSERT INTO coupons (code, customer_id, reward_id, kind, value, created_at, "
               "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id");
    enum sc_err e = SC_OK;
    /* 60 random bits: a clash is all but impossible, and is simply drawn again. */
    for (int attempt = 0; attempt < 4; attempt++) {
        unsigned char rnd[SC_COUPON_RANDOM];
        char code[SC_COUPON_CODE_MAX];
        randombytes_buf(rnd, sizeof(rnd));
        sc_coupon_code_make(rnd, code);
        struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
        if (!st)
            return e;
        sc_sql_text(st, 1, code);
        sc_sql_int(st, 2, customer_id);
        sc_sql_id(st, 3, reward_id);
        sc_sql_text(st, 4, rule->coupon_kind == SC_COUPON_PERCENT ? "percent" : "amount");
        sc_sql_int(st, 5, rule->amount);
        sc_sql_int(st, 6, now);
        sc_sql_int(st, 7, now + (int64_t)rule->days * 86400);
        int64_t id = 0;
        bool found = false;
        if ((e = sc_sql_int1(st, &id, &found)) != SC_OK || found)
            return e;
    }
    return SC_ECONFLICT;
}

enum sc_err sc_q_coupon_check(struct sc_db *db, struct sc_conversion *cv, int64_t customer_id,
                              int64_t now, int64_t *coupon_id)
{
    static struct sc_sql q =
        SC_SQL("SELECT c.id, c.customer_id, c.kind, c.value, c.expires_at, "
               "CASE WHEN c.redeemed_at IS NULL THEN 0 ELSE 1 END, coalesce((SELECT w.status FROM "
               "rewards w WHERE w.id = c.reward_id), 'approved') FROM coupons c WHERE c.code = ?"
               "{for_update}");
    *coupon_id = 0;
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
    if (!st)
        return e;
    sc_sql_text(st, 1, cv->coupon);
    bool row = false;
    int64_t id = 0, owner = 0, value = 0, expires = 0, used = 0;
    char kind[16] = "", status[16] = "";
    if ((e = sc_sql_step(st, &row)) == SC_OK && row) {
        id = sc_sql_col_int(st, 0);
        owner = sc_sql_col_int(st, 1);
        sc_sql_col_copy(st, 2, kind, sizeof(kind));
        value = sc_sql_col_int(st, 3);
        expires = sc_sql_col_int(st, 4);
        used = sc_sql_col_int(st, 5);
        sc_sql_col_copy(st, 6, status, sizeof(status));
    }
    sc_sql_reset(st);
    if (e != SC_OK)
        return e;
    if (!row) {
        cv->coupon_status = 404;
        cv->coupon_why = "coupon: no such coupon code.";
    } else if (used) {
        cv->coupon_status = 409;
        cv->coupon_why = "coupon: this code was already used.";
    } else if (owner != customer_id) {
        cv->coupon_status = 409;
        cv->coupon_why = "coupon: this code belongs to another customer.";
    } else if (strcmp(status, "hold") == 0) {
        cv->coupon_status = 409;
        cv->coupon_why = "coupon: this code waits for review (its sign-up is held).";
    } else if (strcmp(status, "void") == 0) {
        cv->coupon_status = 409;
        cv->coupon_why = "coupon: this code was voided.";
    } else if (expires <= now) {
        cv->coupon_status = 410;
        cv->coupon_why = "coupon: this code has expired.";
    } else {
        *coupon_id = id;
        int64_t off = strcmp(kind, "percent") == 0
                          ? sc_commission(cv->amount_cents, (int)(value * 100))
                          : value;
        cv->coupon_off = off < cv->amount_cents ? off : cv->amount_cents;
    }
    return SC_OK;
}

enum sc_err sc_q_coupon_redeem(struct sc_db *db, int64_t coupon_id, int64_t conversion_id,
                               const char *order_id, int64_t now)
{
    static struct sc_sql q =
        SC_SQL("UPDATE coupons SET redeemed_at = ?, conversion_id = ?, order_id = ? "
               "WHERE id = ? AND redeemed_at IS NULL");
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
    if (!st)
        return e;
    sc_sql_int(st, 1, now);
    sc_sql_int(st, 2, conversion_id);
    sc_sql_text(st, 3, order_id);
    sc_sql_int(st, 4, coupon_id);
    int64_t changed = 0;
    if ((e = sc_sql_exec(st, &changed)) != SC_OK)
        return e;
    return changed == 1 ? SC_OK : SC_ECONFLICT; /* checked under lock just before */
}

/* Fills 'w' from a row of COUPON_COLUMNS. */
#define COUPON_COLUMNS                                                                             \
    "c.id, c.code, c.customer_id, c.kind, c.value, c.created_at, c.expires_at, "                   \
    "coalesce(c.redeemed_at, 0), coalesce(c.order_id, ''), " COUPON_STATE

static void coupon_row(struct sc_stmt *st, struct sc_coupon_row *w)
{
    memset(w, 0, sizeof(*w));
    w->id = sc_sql_col_int(st, 0);
    w->code = sc_sql_col_text(st, 1);
    w->customer_id = sc_sql_col_int(st, 2);
    w->kind = sc_sql_col_text(st, 3);
    w->value = sc_sql_col_int(st, 4);
    w->created_at = sc_sql_col_int(st, 5);
    w->expires_at = sc_sql_col_int(st, 6);
    w->redeemed_at = sc_sql_col_int(st, 7);
    w->order_id = sc_sql_col_text(st, 8);
    w->state = sc_sql_col_text(st, 9);
}

enum sc_err sc_store_coupons_list(struct sc_store *s, const struct sc_scope *scope, int64_t now,
                                  int (*fn)(const struct sc_coupon_row *r, void *ctx), void *ctx)
{
    static struct sc_sql q = SC_SQL(
        "SELECT " COUPON_COLUMNS " FROM coupons c LEFT JOIN rewards w ON w.id = c.reward_id "
        "JOIN customers s ON s.id = c.customer_id JOIN cards k ON k.id = s.card_id "
        "WHERE (CAST(?2 AS BIGINT) = 0 OR k.member_id = ?2) AND (CAST(?3 AS TEXT) IS NULL OR "
        "k.member_id IN (SELECT id FROM members WHERE team = ?3)) ORDER BY c.id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, now);
    sc_sql_int(r.st, 2, scope ? scope->member_id : 0);
    sc_sql_opt(r.st, 3, scope ? scope->team : NULL);
    while (sc_q_next(&r)) {
        struct sc_coupon_row w;
        coupon_row(r.st, &w);
        if (fn(&w, ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_customer_coupons(struct sc_store *s, int64_t customer_id, int64_t now,
                                      int (*fn)(const struct sc_coupon_row *r, void *ctx),
                                      void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT " COUPON_COLUMNS " FROM coupons c LEFT JOIN rewards w ON w.id = c.reward_id "
               "WHERE c.customer_id = ?2 ORDER BY c.id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, now);
    sc_sql_int(r.st, 2, customer_id);
    while (sc_q_next(&r)) {
        struct sc_coupon_row w;
        coupon_row(r.st, &w);
        if (fn(&w, ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_customer_welcome(struct sc_store *s, int64_t customer_id, int64_t now,
                                      int64_t *points, char status[16])
{
    static struct sc_sql q = SC_SQL(
        "SELECT amount, CASE WHEN status = 'pending' AND approve_after <= CAST(?1 AS BIGINT) "
        "THEN 'approved' ELSE status END FROM rewards "
        "WHERE customer_id = ?2 AND party_type = 2 AND party_id = ?2 AND kind = 'welcome' "
        "ORDER BY id LIMIT 1");
    *points = 0;
    status[0] = '\0';
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, now);
    sc_sql_int(r.st, 2, customer_id);
    if (sc_q_next(&r)) {
        *points = sc_sql_col_int(r.st, 0);
        sc_sql_col_copy(r.st, 1, status, 16);
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_customer_of_browser(struct sc_store *s, int64_t customer_id, const char *vid,
                                         bool *yes)
{
    static struct sc_sql q = SC_SQL("SELECT count(*) FROM customers c JOIN visitors v ON v.id = "
                                    "c.visitor_id WHERE c.id = ? AND v.vid = ?");
    *yes = false;
    if (!vid || !vid[0])
        return SC_OK;
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, customer_id);
    sc_sql_text(r.st, 2, vid);
    if (sc_q_next(&r))
        *yes = sc_sql_col_int(r.st, 0) > 0;
    return sc_q_end(&r);
}
