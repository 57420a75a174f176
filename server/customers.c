/*
 * customers.c — customers and what each is worth, wired into the service
 * (DESIGN.md §6): days in SHARECARD_TZ, the BG/NBD + Gamma-Gamma fit (at
 * start, every 24 hours on a thread of its own, and by `sharecard customers
 * fit`), kept in the store; GET /api/v1/customers, whose values are the
 * latest fit evaluated at the moment of the request; GET /api/v1/retention.
 * The maths is intel/'s (customers.h); this file gathers rows and writes
 * answers.
 *
 * RFM quintiles are taken among every customer with an order, whoever asks,
 * so a customer's scores do not change with the reader's scope.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_errno.h>

#include "auth_int.h"
#include "cli_int.h"
#include "customers_int.h"
#include "orders_int.h"
#include "pages_int.h"
#include "sharecard/customers.h"
#include "sharecard/escape.h"
#include "sharecard/log.h"

#define LIST_DEFAULT 1000
#define LIST_MAX     100000

/* ---- calendar ------------------------------------------------------------------------ */

void sc_customers_init(void)
{
    const char *tz = getenv("SHARECARD_TZ");
    setenv("TZ", tz && tz[0] ? tz : "UTC", 1);
    tzset();
    gsl_set_error_handler_off(); /* a GSL error is a return value, never an abort */
}

int32_t sc_customers_day(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm))
        return (int32_t)(t / 86400);
    return sc_ret_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* ---- every order, and what follows from them ------------------------------------------- */

/* One customer's orders summed up (orders arrive sorted by customer). */
struct agg {
    int64_t id, orders, revenue, first_at, last_at;
};

struct book {
    struct sc_cust_order *ord;
    size_t nord, cap;
    struct agg *agg;
    size_t nagg, acap;
    enum sc_err e;
};

static int take_order(const struct sc_order_row *o, void *ctx)
{
    struct book *b = ctx;
    if (b->nord == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        void *p = realloc(b->ord, cap * sizeof(*b->ord));
        if (!p)
            goto nomem;
        b->ord = p;
        b->cap = cap;
    }
    b->ord[b->nord++] =
        (struct sc_cust_order){o->customer_id, sc_customers_day(o->at), o->amount_cents};
    if (!b->nagg || b->agg[b->nagg - 1].id != o->customer_id) {
        if (b->nagg == b->acap) {
            size_t cap = b->acap ? b->acap * 2 : 256;
            void *p = realloc(b->agg, cap * sizeof(*b->agg));
            if (!p)
                goto nomem;
            b->agg = p;
            b->acap = cap;
        }
        b->agg[b->nagg++] = (struct agg){o->customer_id, 0, 0, o->at, o->at};
    }
    struct agg *a = &b->agg[b->nagg - 1];
    a->orders++;
    a->revenue += o->amount_cents;
    if (o->at < a->first_at)
        a->first_at = o->at;
    if (o->at > a->last_at)
        a->last_at = o->at;
    return 0;
nomem:
    b->e = SC_ENOMEM;
    return 1;
}

static void book_free(struct book *b)
{
    free(b->ord);
    free(b->agg);
    memset(b, 0, sizeof(*b));
}

/* Every order of the store into 'b'. */
static enum sc_err book_load(struct sc_store *s, struct book *b)
{
    memset(b, 0, sizeof(*b));
    enum sc_err e = sc_store_orders(s, NULL, take_order, b);
    return e != SC_OK ? e : b->e;
}

/* ---- the fit ------------------------------------------------------------------------------ */

enum sc_err sc_customers_fit(struct sc_store *s, int64_t now, struct sc_clv_fit_row *out,
                             struct sc_clv_fit_info *info, const char **why)
{
    struct book b;
    struct sc_clv_summary *sum = NULL;
    size_t nsum = 0;
    struct sc_clv_fit_row f;
    struct sc_clv_fit_info bi, gi;
    memset(&f, 0, sizeof(f));
    memset(&bi, 0, sizeof(bi));
    *why = NULL;
    enum sc_err e = book_load(s, &b);
    if (e != SC_OK)
        goto out;
    if ((e = sc_clv_summarise(b.ord, b.nord, sc_customers_day(now), &sum, &nsum)) != SC_OK)
        goto out;
    if (nsum == 0) {
        e = SC_ENOTFOUND;
        *why = "no orders yet: nothing to fit";
        goto out;
    }
    if ((e = sc_clv_bgnbd_fit(sum, nsum, &f.bg, &bi)) != SC_OK) {
        *why = "the BG/NBD fit failed on these orders";
        goto out;
    }
    if (!isfinite(f.bg.r) || !isfinite(f.bg.alpha) || !isfinite(f.bg.a) || !isfinite(f.bg.b)) {
        e = SC_EINVAL;
        *why = "the BG/NBD fit found no finite optimum";
        goto out;
    }
    /* Too few repeat buyers for Gamma-Gamma: the fit is kept, clv_1y stays null. */
    f.has_gg = sc_clv_gg_fit(sum, nsum, &f.gg, &gi) == SC_OK && isfinite(f.gg.p) &&
               isfinite(f.gg.q) && isfinite(f.gg.v) && f.gg.q > 1;
    f.fitted_at = now;
    f.customers = (int64_t)nsum;
    if ((e = sc_store_clv_fit_save(s, &f)) != SC_OK)
        *why = "the fit could not be stored";
out:
    if (e != SC_OK && !*why)
        *why = sc_err_str(e);
    if (out)
        *out = f;
    if (info)
        *info = bi;
    free(sum);
    book_free(&b);
    return e;
}

struct sc_fitter {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* waits on CLOCK_REALTIME, the default: a moved clock is followed */
    bool stop;
    struct sc_store *s;
};

static void *fitter_main(void *arg)
{
    struct sc_fitter *f = arg;
    pthread_mutex_lock(&f->mu);
    while (!f->stop) {
        pthread_mutex_unlock(&f->mu);
        const char *why = NULL;
        struct sc_clv_fit_row row;
        struct sc_clv_fit_info info;
        enum sc_err e = sc_customers_fit(f->s, (int64_t)time(NULL), &row, &info, &why);
        if (e == SC_OK)
            sc_info(
                "customer value fitted on %lld customers (r %.4g, alpha %.4g, a %.4g, b %.4g%s)",
                (long long)row.customers, row.bg.r, row.bg.alpha, row.bg.a, row.bg.b,
                info.converged ? "" : "; not converged");
        else if (e != SC_ENOTFOUND)
            sc_warn("customer value not fitted: %s", why);
        pthread_mutex_lock(&f->mu);
        struct timespec until = {time(NULL) + 86400, 0};
        while (!f->stop && pthread_cond_timedwait(&f->cv, &f->mu, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

struct sc_fitter *sc_fitter_start(struct sc_store *s)
{
    struct sc_fitter *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->s = s;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    if (pthread_create(&f->th, NULL, fitter_main, f) != 0) {
        pthread_cond_destroy(&f->cv);
        pthread_mutex_destroy(&f->mu);
        free(f);
        return NULL;
    }
    return f;
}

void sc_fitter_stop(struct sc_fitter *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->th, NULL);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

int sc_cli_customers_fit(const struct cli_args *a)
{
    struct sc_store *s = sc_cli_open_store(a->db);
    if (!s)
        return 1;
    struct sc_clv_fit_row f;
    struct sc_clv_fit_info info;
    const char *why = NULL;
    int rc = 0;
    enum sc_err e = sc_customers_fit(s, (int64_t)time(NULL), &f, &info, &why);
    if (e == SC_ENOTFOUND) {
        printf("%s\n", why);
    } else if (e != SC_OK) {
        rc = sc_cli_fail("%s", why);
    } else {
        printf("BG/NBD on %lld customers: r %.4f, alpha %.4f days, a %.4f, b %.4f%s",
               (long long)f.customers, f.bg.r, f.bg.alpha, f.bg.a, f.bg.b,
               info.converged ? "" : " (not converged)");
        if (f.has_gg)
            printf("; Gamma-Gamma: p %.4f, q %.4f, v %.4f\n", f.gg.p, f.gg.q, f.gg.v);
        else
            printf("; too few repeat buyers for Gamma-Gamma (no clv_1y yet)\n");
    }
    sc_store_close(s);
    return rc;
}

/* ---- GET /api/v1/customers ----------------------------------------------------------- */

struct points {
    int64_t id, points;
};

struct list_ctx {
    struct req *r;
    struct list_out o;
    struct book b;
    struct sc_rfm_row *rfm;
    size_t nrfm;
    struct sc_clv_summary *sum;
    size_t nsum;
    struct points *pts;
    size_t npts, pcap;
    struct sc_clv_fit_row fit;
    bool has_fit;
    struct sc_tiers tiers;
    bool tiers_by_points;
    bool want_segment;
    enum sc_rfm_segment segment;
    int64_t limit;
    int64_t now;
    enum sc_err e;
};

static int take_points(int64_t id, int64_t points, void *ctx)
{
    struct list_ctx *c = ctx;
    if (c->npts == c->pcap) {
        size_t cap = c->pcap ? c->pcap * 2 : 256;
        void *p = realloc(c->pts, cap * sizeof(*c->pts));
        if (!p) {
            c->e = SC_ENOMEM;
            return 1;
        }
        c->pts = p;
        c->pcap = cap;
    }
    c->pts[c->npts++] = (struct points){id, points};
    return 0;
}

/* Binary searches over arrays sorted by id: the element for 'id', or NULL. */
#define FIND(arr, n, key, field)                                                                   \
    do {                                                                                           \
        size_t lo_ = 0, hi_ = (n);                                                                 \
        found_ = NULL;                                                                             \
        while (lo_ < hi_) {                                                                        \
            size_t mid_ = lo_ + (hi_ - lo_) / 2;                                                   \
            if ((arr)[mid_].field < (key))                                                         \
                lo_ = mid_ + 1;                                                                    \
            else                                                                                   \
                hi_ = mid_;                                                                        \
        }                                                                                          \
        if (lo_ < (n) && (arr)[lo_].field == (key))                                                \
            found_ = &(arr)[lo_];                                                                  \
    } while (0)

static const struct agg *agg_of(const struct list_ctx *c, int64_t id)
{
    const struct agg *found_;
    FIND(c->b.agg, c->b.nagg, id, id);
    return found_;
}

static const struct sc_rfm_row *rfm_of(const struct list_ctx *c, int64_t id)
{
    const struct sc_rfm_row *found_;
    FIND(c->rfm, c->nrfm, id, customer_id);
    return found_;
}

static const struct sc_clv_summary *sum_of(const struct list_ctx *c, int64_t id)
{
    const struct sc_clv_summary *found_;
    FIND(c->sum, c->nsum, id, customer_id);
    return found_;
}

static int64_t points_of(const struct list_ctx *c, int64_t id)
{
    const struct points *found_;
    FIND(c->pts, c->npts, id, id);
    return found_ ? found_->points : 0;
}

/* A figure of the model, or "" (null) when it cannot be given. */
static void model_figure(char out[40], bool ok, double v, int decimals)
{
    if (ok && isfinite(v))
        snprintf(out, 40, "%.*f", decimals, v);
    else
        out[0] = '\0';
}

static int customer_row(const struct sc_customer_row *w, void *ctx)
{
    struct list_ctx *c = ctx;
    if ((int64_t)c->o.rows >= c->limit)
        return 1;
    const struct agg *ag = agg_of(c, w->id);
    const struct sc_rfm_row *rf = rfm_of(c, w->id);
    const struct sc_clv_summary *su = sum_of(c, w->id);
    if (c->want_segment && (!rf || rf->segment != c->segment))
        return 0;
    int64_t points = points_of(c, w->id);
    const char *tier = NULL;
    if (c->tiers.n)
        tier = sc_tier_of(&c->tiers,
                          c->tiers_by_points ? (double)points : (ag ? ag->revenue : 0) / 100.0);

    char p_alive[40], exp90[40], clv[40];
    bool model = c->has_fit && su;
    double pa = NAN, e90 = NAN, v1 = NAN;
    if (model) {
        pa = sc_clv_p_alive(&c->fit.bg, su->x, su->t_x, su->T);
        if (sc_clv_expected(&c->fit.bg, su->x, su->t_x, su->T, 90, &e90) != SC_OK)
            e90 = NAN;
        if (!c->fit.has_gg || sc_clv_value(&c->fit.bg, &c->fit.gg, su, 365, &v1) != SC_OK)
            v1 = NAN;
        else
            v1 /= 100.0; /* cents to currency units */
    }
    model_figure(p_alive, model, pa, 4);
    model_figure(exp90, model, e90, 4);
    model_figure(clv, model, v1, 2);

    char signed_up[32], first[32] = "", last[32] = "", id[24], orders[24], revenue[32], pts[24],
                        l1[24] = "", r[4] = "", f[4] = "", m[4] = "";
    sc_ui_iso_time(w->signed_up_at, signed_up);
    if (ag) {
        sc_ui_iso_time(ag->first_at, first);
        sc_ui_iso_time(ag->last_at, last);
    }
    snprintf(id, sizeof(id), "%lld", (long long)w->id);
    snprintf(orders, sizeof(orders), "%lld", (long long)(ag ? ag->orders : 0));
    int64_t rev = ag ? ag->revenue : 0;
    snprintf(revenue, sizeof(revenue), "%lld.%02lld", (long long)(rev / 100),
             (long long)(rev % 100));
    snprintf(pts, sizeof(pts), "%lld", (long long)points);
    if (rf) {
        snprintf(r, sizeof(r), "%d", rf->r);
        snprintf(f, sizeof(f), "%d", rf->f);
        snprintf(m, sizeof(m), "%d", rf->m);
    }
    const char *segment = rf ? sc_rfm_segment_name(rf->segment) : NULL;
    struct sc_buf *b = &c->o.b;
    if (c->o.csv) {
        if (w->level1.type != SC_PARTY_NONE)
            snprintf(l1, sizeof(l1), "%s:%lld",
                     w->level1.type == SC_PARTY_MEMBER ? "member" : "customer",
                     (long long)w->level1.id);
        const char *fields[] = {id,
                                w->name ? w->name : "",
                                w->email ? w->email : "",
                                w->phone ? w->phone : "",
                                w->card ? w->card : "",
                                l1,
                                w->level1.type != SC_PARTY_NONE ? w->level1.name : "",
                                signed_up,
                                orders,
                                revenue,
                                first,
                                last,
                                r,
                                f,
                                m,
                                segment ? segment : "",
                                p_alive,
                                exp90,
                                clv,
                                pts,
                                tier ? tier : ""};
        sc_list_csv_row(&c->o, fields, sizeof(fields) / sizeof(fields[0]));
    } else {
        sc_buf_puts(b, c->o.rows ? ",\n" : "\n");
        sc_buf_printf(b, "{\"id\":%s,\"name\":", id);
        sc_ui_json_str(b, w->name);
        sc_buf_puts(b, ",\"email\":");
        sc_ui_json_str(b, w->email);
        sc_buf_puts(b, ",\"phone\":");
        sc_ui_json_str(b, w->phone);
        sc_buf_puts(b, ",\"card\":");
        sc_ui_json_str(b, w->card);
        sc_buf_puts(b, ",\"level1\":");
        if (w->level1.type == SC_PARTY_NONE) {
            sc_buf_puts(b, "null");
        } else {
            sc_buf_printf(b, "{\"type\":\"%s\",\"id\":%lld,\"name\":",
                          w->level1.type == SC_PARTY_MEMBER ? "member" : "customer",
                          (long long)w->level1.id);
            sc_ui_json_str(b, w->level1.name);
            sc_buf_putc(b, '}');
        }
        sc_buf_printf(b, ",\"signed_up_at\":\"%s\",\"orders\":%s,\"revenue\":%s", signed_up, orders,
                      revenue);
        if (ag)
            sc_buf_printf(b, ",\"first_order_at\":\"%s\",\"last_order_at\":\"%s\"", first, last);
        else
            sc_buf_puts(b, ",\"first_order_at\":null,\"last_order_at\":null");
        if (rf)
            sc_buf_printf(b, ",\"rfm\":{\"r\":%s,\"f\":%s,\"m\":%s}", r, f, m);
        else
            sc_buf_puts(b, ",\"rfm\":null");
        sc_buf_puts(b, ",\"segment\":");
        sc_ui_json_str(b, segment);
        sc_buf_printf(b, ",\"p_alive\":%s,\"expected_orders_90d\":%s,\"clv_1y\":%s",
                      p_alive[0] ? p_alive : "null", exp90[0] ? exp90 : "null",
                      clv[0] ? clv : "null");
        sc_buf_printf(b, ",\"points\":%s,\"tier\":", pts);
        sc_ui_json_str(b, tier);
        sc_buf_putc(b, '}');
    }
    c->o.rows++;
    return sc_buf_error(b) != SC_OK;
}

/* "at risk", "at_risk", "At-Risk", "cant_lose" … as a segment. */
static bool segment_arg(const char *s, enum sc_rfm_segment *out)
{
    char norm[40];
    size_t n = 0;
    for (; *s && n + 1 < sizeof(norm); s++) {
        char ch = *s;
        if (ch == '_' || ch == '-' || ch == '+')
            ch = ' ';
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        norm[n++] = ch;
    }
    if (*s)
        return false;
    norm[n] = '\0';
    if (strcmp(norm, "cant lose") == 0)
        snprintf(norm, sizeof(norm), "can't lose");
    return sc_rfm_segment_parse(norm, out);
}

/* Reads SHARECARD_TIERS (and SHARECARD_TIERS_BY) into 'c'; a bad list is logged and ignored. */
static void tiers_of_env(struct list_ctx *c)
{
    char err[160];
    if (sc_tier_parse(getenv("SHARECARD_TIERS"), &c->tiers, err, sizeof(err)) != SC_OK)
        sc_warn("SHARECARD_TIERS ignored: %s", err);
    const char *by = getenv("SHARECARD_TIERS_BY");
    c->tiers_by_points = by && strcmp(by, "points") == 0;
}

enum MHD_Result sc_api_customers(struct req *r, const struct route_args *a)
{
    struct sc_scope scope;
    sc_session_scope(a->m, &scope);
    struct list_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return sc_reply_err(r, SC_ENOMEM, NULL);
    enum MHD_Result ret;
    c->r = r;
    c->limit = LIST_DEFAULT;
    const char *lim = sc_req_arg(r, "limit"), *seg = sc_req_arg(r, "segment");
    if (lim) {
        c->limit = sc_num_arg(lim);
        if (c->limit < 1 || c->limit > LIST_MAX) {
            ret = sc_reply_error(r, 400, "limit must be a whole number from 1 to 100000.");
            goto out;
        }
    }
    if (seg && seg[0]) {
        if (!segment_arg(seg, &c->segment)) {
            ret = sc_reply_error(r, 400,
                                 "segment must be one of champions, loyal, potential loyalist, "
                                 "new, promising, need attention, about to sleep, at risk, "
                                 "can't lose, hibernating.");
            goto out;
        }
        c->want_segment = true;
    }
    tiers_of_env(c);
    c->now = (int64_t)time(NULL);
    int32_t today = sc_customers_day(c->now);
    enum sc_err e = book_load(r->srv->store, &c->b);
    if (e == SC_OK)
        e = sc_rfm_compute(c->b.ord, c->b.nord, today, &c->rfm, &c->nrfm);
    if (e == SC_OK)
        e = sc_clv_summarise(c->b.ord, c->b.nord, today, &c->sum, &c->nsum);
    if (e == SC_OK)
        e = sc_store_customer_points(r->srv->store, c->now, take_points, c);
    if (e == SC_OK)
        e = c->e;
    if (e == SC_OK) {
        enum sc_err fe = sc_store_clv_fit_latest(r->srv->store, &c->fit);
        if (fe != SC_OK && fe != SC_ENOTFOUND)
            e = fe;
        c->has_fit = fe == SC_OK;
    }
    sc_list_begin(r, &c->o,
                  "id,name,email,phone,card,level1,level1_name,signed_up_at,orders,revenue,"
                  "first_order_at,last_order_at,rfm_r,rfm_f,rfm_m,segment,p_alive,"
                  "expected_orders_90d,clv_1y,points,tier\r\n");
    if (e == SC_OK)
        e = sc_store_customers(r->srv->store, &scope, customer_row, c);
    ret = sc_list_finish(r, &c->o, e);
out:
    book_free(&c->b);
    sc_rfm_free(c->rfm);
    free(c->sum);
    free(c->pts);
    free(c);
    return ret;
}

/* ---- GET /api/v1/retention ----------------------------------------------------------- */

struct cust_set {
    struct sc_cust *c;
    size_t n, cap;
    enum sc_err e;
};

static int take_customer(const struct sc_customer_row *w, void *ctx)
{
    struct cust_set *cs = ctx;
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 256;
        void *p = realloc(cs->c, cap * sizeof(*cs->c));
        if (!p)
            goto nomem;
        cs->c = p;
        cs->cap = cap;
    }
    char *team = strdup(w->team);
    if (!team)
        goto nomem;
    cs->c[cs->n++] = (struct sc_cust){w->id, sc_customers_day(w->signed_up_at), team, w->member_id};
    return 0;
nomem:
    cs->e = SC_ENOMEM;
    return 1;
}

/* A fraction of the report, or null when its denominator was 0. */
static void json_fraction(struct sc_buf *b, const char *name, bool has, double v)
{
    if (has && isfinite(v))
        sc_buf_printf(b, ",\"%s\":%.10g", name, v);
    else
        sc_buf_printf(b, ",\"%s\":null", name);
}

/* SHARECARD_ACTIVE_DAYS: a whole number of days from 1 to 3650; else the default. */
static int active_days(void)
{
    const char *v = getenv("SHARECARD_ACTIVE_DAYS");
    if (!v || !v[0])
        return SC_RET_ACTIVE_DAYS_DEFAULT;
    char *end;
    long n = strtol(v, &end, 10);
    return *end || n < 1 || n > 3650 ? SC_RET_ACTIVE_DAYS_DEFAULT : (int)n;
}

enum MHD_Result sc_api_retention(struct req *r, const struct route_args *a)
{
    struct sc_scope scope;
    sc_session_scope(a->m, &scope);
    const char *fs = sc_req_arg(r, "from"), *ts = sc_req_arg(r, "to");
    const char *team = sc_req_arg(r, "team"), *mem = sc_req_arg(r, "member");
    int32_t to = sc_customers_day((int64_t)time(NULL)), from = to - 29;
    if (fs && !sc_order_date_parse(fs, &from))
        return sc_reply_error(r, 400, "from must be a date that exists, written YYYY-MM-DD.");
    if (ts && !sc_order_date_parse(ts, &to))
        return sc_reply_error(r, 400, "to must be a date that exists, written YYYY-MM-DD.");
    if (from > to)
        return sc_reply_error(r, 400, "from must not be after to.");
    if (to - from > 3660)
        return sc_reply_error(r, 400, "from and to may be at most ten years apart.");
    struct sc_ret_opts opts = {active_days(), team && team[0] ? team : NULL, 0};
    if (team && (strlen(team) > SC_TEAM_MAX || !sc_utf8_valid(team, strlen(team))))
        return sc_reply_error(r, 400, "team is too long or not UTF-8.");
    if (mem && mem[0] && (opts.member = sc_num_arg(mem)) <= 0)
        return sc_reply_error(r, 400, "member must be a member's id, a positive whole number.");

    struct cust_set cs = {0};
    struct book b;
    memset(&b, 0, sizeof(b));
    struct sc_ret_report rep;
    memset(&rep, 0, sizeof(rep));
    enum sc_err e = sc_store_customers(r->srv->store, &scope, take_customer, &cs);
    if (e == SC_OK)
        e = cs.e;
    if (e == SC_OK) {
        e = sc_store_orders(r->srv->store, &scope, take_order, &b);
        if (e == SC_OK)
            e = b.e;
    }
    if (e == SC_OK)
        e = sc_ret_compute(cs.c, cs.n, b.ord, b.nord, from, to, &opts, &rep);
    enum MHD_Result ret;
    if (e != SC_OK) {
        ret = sc_reply_err(r, e, NULL);
        goto out;
    }
    int fy, fm, fd, ty, tm, td;
    sc_ret_civil_from_days(from, &fy, &fm, &fd);
    sc_ret_civil_from_days(to, &ty, &tm, &td);
    struct sc_buf o;
    sc_buf_init(&o, 16 << 20);
    sc_buf_printf(&o,
                  "{\"from\":\"%04d-%02d-%02d\",\"to\":\"%04d-%02d-%02d\",\"active_days\":%d,"
                  "\"customers_start\":%lld,\"customers_end\":%lld,\"new\":%lld,\"retained\":%lld",
                  fy, fm, fd, ty, tm, td, opts.active_days, (long long)rep.customers_start,
                  (long long)rep.customers_end, (long long)rep.new_customers,
                  (long long)rep.retained);
    json_fraction(&o, "crr", rep.has_crr, rep.crr);
    json_fraction(&o, "churn_rate", rep.has_churn, rep.churn_rate);
    json_fraction(&o, "ndr", rep.has_ndr, rep.ndr);
    sc_buf_puts(&o, ",\"cohorts\":[");
    for (size_t i = 0; i < rep.ncohorts; i++) {
        const struct sc_ret_cohort *c = &rep.cohorts[i];
        sc_buf_printf(&o, "%s{\"month\":\"%04d-%02d\",\"customers\":%lld,\"retention\":[",
                      i ? "," : "", c->year, c->month, (long long)c->customers);
        for (size_t k = 0; k < c->nretention; k++)
            sc_buf_printf(&o, "%s%.10g", k ? "," : "", c->retention[k]);
        sc_buf_puts(&o, "]}");
    }
    sc_buf_puts(&o, "],\"crr_by_month\":[");
    for (size_t i = 0; i < rep.ntrend; i++) {
        const struct sc_ret_month *m = &rep.trend[i];
        sc_buf_printf(&o, "%s{\"month\":\"%04d-%02d\",\"crr\":", i ? "," : "", m->year, m->month);
        if (m->has_crr && isfinite(m->crr))
            sc_buf_printf(&o, "%.10g}", m->crr);
        else
            sc_buf_puts(&o, "null}");
    }
    sc_buf_printf(&o, "],\"revenue_period\":%lld.%02lld,\"revenue_before\":%lld.%02lld",
                  (long long)(rep.revenue_period / 100), (long long)(rep.revenue_period % 100),
                  (long long)(rep.revenue_before / 100), (long long)(rep.revenue_before % 100));
    sc_buf_puts(&o, ",\"nps\":null}\n"); /* no survey answers are collected yet */
    ret = sc_reply_bytes(r, 200, "application/json", &o);
out:
    sc_ret_report_cleanup(&rep);
    for (size_t i = 0; i < cs.n; i++)
        free((char *)(uintptr_t)cs.c[i].team);
    free(cs.c);
    book_free(&b);
    return ret;
}
