/*
 * q_customers.c — what customer analytics read and keep, once for both
 * backends: customers with their card, credited member and team; every
 * order (conversion) in customer and time order; customers' points from
 * the ledger; and the latest BG/NBD + Gamma-Gamma fit.  The analytics
 * themselves are intel/'s (customers.h): this file only hands rows over.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* The scope's filter on cards 'c': ?1 a member (0: any), ?2 a team (NULL: any). */
#define SCOPE_CARDS                                                                                \
    "(CAST(?1 AS BIGINT) = 0 OR c.member_id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR "               \
    "m.team = ?2)"

static void bind_scope(struct sc_stmt *st, const struct sc_scope *scope)
{
    sc_sql_int(st, 1, scope ? scope->member_id : 0);
    sc_sql_opt(st, 2, scope ? scope->team : NULL);
}

/* A customer row's columns, as customer_rows() reads them. */
#define CUSTOMER_COLUMNS                                                                           \
    "SELECT s.id, s.name, s.email, s.phone, c.slug, s.level1_type, coalesce(s.level1_id, 0), "     \
    "CASE s.level1_type WHEN 1 THEN (SELECT name FROM members WHERE id = s.level1_id) "            \
    "WHEN 2 THEN (SELECT name FROM customers WHERE id = s.level1_id) END, "                        \
    "s.created_at, c.member_id, m.team, coalesce(s.visitor_id, 0) FROM customers s JOIN cards "    \
    "c ON c.id = s.card_id JOIN members m ON m.id = c.member_id WHERE " SCOPE_CARDS

static enum sc_err customer_rows(struct sc_q *rq,
                                 int (*fn)(const struct sc_customer_row *r, void *ctx), void *ctx);

enum sc_err sc_store_customers(struct sc_store *s, const struct sc_scope *scope,
                               int (*fn)(const struct sc_customer_row *r, void *ctx), void *ctx)
{
    static struct sc_sql q = SC_SQL(CUSTOMER_COLUMNS " ORDER BY s.id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    bind_scope(r.st, scope);
    return customer_rows(&r, fn, ctx);
}

enum sc_err sc_store_customers_window(struct sc_store *s, const struct sc_scope *scope,
                                      int64_t offset, int64_t limit,
                                      int (*fn)(const struct sc_customer_row *r, void *ctx),
                                      void *ctx)
{
    static struct sc_sql q = SC_SQL(CUSTOMER_COLUMNS " ORDER BY s.id LIMIT ?4 OFFSET ?3");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    bind_scope(r.st, scope);
    sc_sql_int(r.st, 3, offset);
    sc_sql_int(r.st, 4, limit);
    return customer_rows(&r, fn, ctx);
}

enum sc_err sc_store_customers_count(struct sc_store *s, const struct sc_scope *scope, int64_t *out)
{
    static struct sc_sql q =
        SC_SQL("SELECT count(*) FROM customers s JOIN cards c ON c.id = "
               "s.card_id JOIN members m ON m.id = c.member_id WHERE " SCOPE_CARDS);
    struct sc_q r;
    *out = 0;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    bind_scope(r.st, scope);
    if (sc_q_next(&r))
        *out = sc_sql_col_int(r.st, 0);
    return sc_q_end(&r);
}

/* Hands the rows of the customer query 'rq' (its statement bound) to 'fn', then ends it. */
static enum sc_err customer_rows(struct sc_q *rq,
                                 int (*fn)(const struct sc_customer_row *r, void *ctx), void *ctx)
{
    while (sc_q_next(rq)) {
        struct sc_stmt *st = rq->st;
        struct sc_customer_row w;
        memset(&w, 0, sizeof(w));
        w.id = sc_sql_col_int(st, 0);
        w.name = sc_sql_col_text(st, 1);
        w.email = sc_sql_col_text(st, 2);
        w.phone = sc_sql_col_text(st, 3);
        w.card = sc_sql_col_text(st, 4);
        w.level1.type = (enum sc_party_type)sc_sql_col_int(st, 5);
        w.level1.id = sc_sql_col_int(st, 6);
        sc_sql_col_copy(st, 7, w.level1.name, sizeof(w.level1.name));
        w.signed_up_at = sc_sql_col_int(st, 8);
        w.member_id = sc_sql_col_int(st, 9);
        w.team = sc_sql_col_text(st, 10);
        if (!w.team)
            w.team = "";
        w.visitor_id = sc_sql_col_int(st, 11);
        if (fn(&w, ctx))
            break;
    }
    return sc_q_end(rq);
}

enum sc_err sc_store_orders(struct sc_store *s, const struct sc_scope *scope,
                            int (*fn)(const struct sc_order_row *r, void *ctx), void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT v.customer_id, v.created_at, v.amount_cents FROM conversions v "
               "JOIN customers s ON s.id = v.customer_id JOIN cards c ON c.id = s.card_id "
               "JOIN members m ON m.id = c.member_id WHERE " SCOPE_CARDS
               " ORDER BY v.customer_id, v.created_at, v.id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    bind_scope(r.st, scope);
    while (sc_q_next(&r)) {
        struct sc_order_row w = {sc_sql_col_int(r.st, 0), sc_sql_col_int(r.st, 1),
                                 sc_sql_col_int(r.st, 2)};
        if (fn(&w, ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_customer_points(struct sc_store *s, int64_t now,
                                     int (*fn)(int64_t customer_id, int64_t points, void *ctx),
                                     void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT party_id, sum(amount) FROM rewards WHERE party_type = 2 "
               "AND kind IN ('signup', 'welcome') AND (status = 'approved' OR (status = 'pending' "
               "AND approve_after <= CAST(? AS BIGINT))) "
               "GROUP BY party_id ORDER BY party_id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, now);
    while (sc_q_next(&r))
        if (fn(sc_sql_col_int(r.st, 0), sc_sql_col_int(r.st, 1), ctx))
            break;
    return sc_q_end(&r);
}

/* The fit's seven parameters as text: doubles written to round-trip exactly. */
enum sc_err sc_store_clv_fit_save(struct sc_store *s, const struct sc_clv_fit_row *f)
{
    static struct sc_sql q =
        SC_SQL("INSERT INTO clv_fits (fitted_at, customers, params) VALUES (?, ?, ?)");
    static struct sc_sql q_old = SC_SQL("DELETE FROM clv_fits WHERE id < (SELECT max(id) FROM "
                                        "clv_fits)");
    char params[256];
    snprintf(params, sizeof(params), "%.17g %.17g %.17g %.17g %.17g %.17g %.17g", f->bg.r,
             f->bg.alpha, f->bg.a, f->bg.b, f->has_gg ? f->gg.p : 0.0, f->has_gg ? f->gg.q : 0.0,
             f->has_gg ? f->gg.v : 0.0);
    struct sc_q r;
    if (!sc_q_write(&r, s, true))
        return r.e;
    if (sc_q_prepare(&r, &q)) {
        sc_sql_int(r.st, 1, f->fitted_at);
        sc_sql_int(r.st, 2, f->customers);
        sc_sql_text(r.st, 3, params);
        if (sc_q_exec(&r, true) && sc_q_prepare(&r, &q_old))
            sc_q_exec(&r, false);
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_clv_fit_latest(struct sc_store *s, struct sc_clv_fit_row *out)
{
    static struct sc_sql q =
        SC_SQL("SELECT fitted_at, customers, params FROM clv_fits ORDER BY id DESC LIMIT 1");
    memset(out, 0, sizeof(*out));
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    bool any = sc_q_next(&r);
    if (any) {
        out->fitted_at = sc_sql_col_int(r.st, 0);
        out->customers = sc_sql_col_int(r.st, 1);
        const char *p = sc_sql_col_text(r.st, 2);
        double v[7];
        if (!p || sscanf(p, "%lf %lf %lf %lf %lf %lf %lf", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                         &v[6]) != 7) {
            r.e = SC_EDB;
        } else {
            out->bg = (struct sc_clv_bgnbd){v[0], v[1], v[2], v[3]};
            out->gg = (struct sc_clv_gg){v[4], v[5], v[6]};
            out->has_gg = v[5] > 1;
        }
    }
    enum sc_err e = sc_q_end(&r);
    return e == SC_OK && !any ? SC_ENOTFOUND : e;
}
