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
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_errno.h>

#include "auth_int.h"
#include "cli_int.h"
#include "customers_int.h"
#include "leads_int.h"
#include "orders_int.h"
#include "pages_int.h"
#include "ux_int.h"
#include "sharecard/customers.h"
#include "sharecard/escape.h"
#include "sharecard/log.h"

#define LIST_DEFAULT 1000
#define LIST_MAX     100000

/* ---- calendar ------------------------------------------------------------------------ */

void sc_customers_init(void)
{
    sc_tz_init(); /* SHARECARD_TZ, read once for leads and customers alike (lead_intel.c) */
    gsl_set_error_handler_off(); /* a GSL error is a return value, never an abort */
}

int32_t sc_customers_day(int64_t t)
{
    int64_t local = t + (int64_t)sc_tz_min(t) * 60;
    return (int32_t)(local >= 0 ? local / 86400 : -((-local + 86399) / 86400));
}

int64_t sc_customers_day_start(int64_t day)
{
    int64_t midnight = day * 86400;
    /* The zone's offset near that midnight, then at the instant it gives. */
    int64_t t = midnight - (int64_t)sc_tz_min(midnight) * 60;
    return midnight - (int64_t)sc_tz_min(t) * 60;
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

/* ---- the snapshot: every customer and order, shared by requests ------------------------ */

/*
 * Reading a million orders and scoring them takes about a second, so requests
 * share one snapshot of every customer and order with their RFM scores and
 * BG/NBD summaries.  It is stale after a sign-up or an order through this
 * instance (sc_customers_changed), after SNAPSHOT_TTL seconds (what other
 * instances or the CLI wrote), or when the day changes.  A request that finds
 * it stale rebuilds it first while it holds fewer than SHARECARD_SNAPSHOT_SYNC
 * orders (default SNAPSHOT_SYNC_ORDERS: tens of milliseconds, so small stores
 * stay exact at once); a larger one is rebuilt on a thread of its own while
 * requests go on answering from the previous snapshot, whose age they report
 * (built_at, "as_of").  Immutable once built; readers hold a reference.
 */
#define SNAPSHOT_TTL         60
#define SNAPSHOT_SYNC_ORDERS 20000

struct snapshot {
    atomic_int refs;
    int64_t built_at;
    int32_t today;
    uint64_t gen;
    struct book b;      /* every order, and each customer's totals */
    struct cust_set cs; /* every customer, by id */
    struct sc_rfm_row *rfm;
    size_t nrfm;
    struct sc_clv_summary *sum;
    size_t nsum;
};

static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t snap_cv = PTHREAD_COND_INITIALIZER; /* a background rebuild ended */
static struct snapshot *snap_cur;                         /* under snap_mu */
static bool snap_building;                /* under snap_mu: a background rebuild runs */
static bool snap_closing;                 /* under snap_mu: no more background rebuilds */
static atomic_uint_fast64_t snap_gen = 1; /* bumped by every change this instance makes */
static pthread_once_t snap_sync_once = PTHREAD_ONCE_INIT;
static size_t snap_sync_orders = SNAPSHOT_SYNC_ORDERS;

static void snap_sync_read(void)
{
    const char *v = getenv("SHARECARD_SNAPSHOT_SYNC");
    int64_t n = v && v[0] ? sc_num_arg(v) : -1;
    if (n >= 0)
        snap_sync_orders = (size_t)n;
    else if (v && v[0])
        sc_warn("SHARECARD_SNAPSHOT_SYNC=%s is not a whole number; %d kept", v,
                SNAPSHOT_SYNC_ORDERS);
}

void sc_customers_changed(void)
{
    atomic_fetch_add(&snap_gen, 1);
}

static void snap_release(struct snapshot *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    book_free(&s->b);
    for (size_t i = 0; i < s->cs.n; i++)
        free((char *)(uintptr_t)s->cs.c[i].team);
    free(s->cs.c);
    sc_rfm_free(s->rfm);
    free(s->sum);
    free(s);
}

/* A new snapshot of store 'st' as of now into '*out' (one reference), or an error. */
static enum sc_err snap_build(struct sc_store *st, struct snapshot **out)
{
    int64_t now = (int64_t)time(NULL);
    struct snapshot *s = calloc(1, sizeof(*s));
    if (!s)
        return SC_ENOMEM;
    atomic_init(&s->refs, 1);
    s->built_at = now;
    s->today = sc_customers_day(now);
    s->gen = atomic_load(&snap_gen); /* a change while building makes it stale again */
    enum sc_err e;
    if ((e = book_load(st, &s->b)) == SC_OK &&
        (e = sc_store_customers(st, NULL, take_customer, &s->cs)) == SC_OK &&
        (e = s->cs.e) == SC_OK &&
        (e = sc_rfm_compute(s->b.ord, s->b.nord, s->today, &s->rfm, &s->nrfm)) == SC_OK)
        e = sc_clv_summarise(s->b.ord, s->b.nord, s->today, &s->sum, &s->nsum);
    if (e != SC_OK) {
        snap_release(s);
        return e;
    }
    *out = s;
    return SC_OK;
}

/* Makes 's' (its one reference handed over) current; under snap_mu. */
static void snap_install(struct snapshot *s)
{
    struct snapshot *old = snap_cur;
    snap_cur = s;
    snap_release(old);
}

/* The background rebuild: the store is the server's, which outlives it (snap_wait). */
static void *snap_rebuild_main(void *arg)
{
    struct sc_store *st = arg;
    struct snapshot *s = NULL;
    enum sc_err e = snap_build(st, &s);
    if (e != SC_OK)
        sc_warn("customer snapshot not rebuilt: %s", sc_err_str(e));
    pthread_mutex_lock(&snap_mu);
    if (e == SC_OK)
        snap_install(s);
    snap_building = false;
    pthread_cond_broadcast(&snap_cv);
    pthread_mutex_unlock(&snap_mu);
    return NULL;
}

/* Starts a background rebuild unless one runs; under snap_mu.  False when none could start. */
static bool snap_rebuild_start(struct sc_store *st)
{
    if (snap_building)
        return true;
    if (snap_closing)
        return false;
    pthread_t th;
    pthread_attr_t at;
    if (pthread_attr_init(&at) != 0)
        return false;
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    bool ok = pthread_create(&th, &at, snap_rebuild_main, st) == 0;
    pthread_attr_destroy(&at);
    snap_building = ok;
    return ok;
}

/* Waits for a background rebuild to end and starts no more (before the store closes). */
static void snap_wait(void)
{
    pthread_mutex_lock(&snap_mu);
    snap_closing = true;
    while (snap_building)
        pthread_cond_wait(&snap_cv, &snap_mu);
    pthread_mutex_unlock(&snap_mu);
}

/*
 * A reference to a snapshot of store 'st' into '*out' (release with
 * snap_release): the current one while fresh; a stale large one as it is
 * while a background rebuild runs; otherwise one built here and now.
 */
static enum sc_err snap_get(struct sc_store *st, struct snapshot **out)
{
    pthread_once(&snap_sync_once, snap_sync_read);
    int64_t now = (int64_t)time(NULL);
    enum sc_err e = SC_OK;
    pthread_mutex_lock(&snap_mu);
    struct snapshot *s = snap_cur;
    bool fresh = s && s->gen == atomic_load(&snap_gen) && s->today == sc_customers_day(now) &&
                 now >= s->built_at && now - s->built_at < SNAPSHOT_TTL;
    if (fresh || (s && s->b.nord >= snap_sync_orders && snap_rebuild_start(st))) {
        atomic_fetch_add(&s->refs, 1);
        pthread_mutex_unlock(&snap_mu);
        *out = s;
        return SC_OK;
    }
    if ((e = snap_build(st, &s)) == SC_OK) { /* under snap_mu: one build, the others wait */
        atomic_fetch_add(&s->refs, 1);       /* one for snap_cur, one for the caller */
        snap_install(s);
        *out = s;
    }
    pthread_mutex_unlock(&snap_mu);
    return e;
}

/* Whether customer 'c' is on a card of 'scope'. */
static bool in_scope(const struct sc_cust *c, const struct sc_scope *scope)
{
    return (!scope->member_id || c->member == scope->member_id) &&
           (!scope->team || strcmp(c->team, scope->team) == 0);
}

/* Narrows 'o' to 'scope' too: a filter outside the scope matches nobody (member -1). */
static void scope_opts(const struct sc_scope *scope, struct sc_ret_opts *o)
{
    if (scope->member_id)
        o->member = o->member && o->member != scope->member_id ? -1 : scope->member_id;
    if (scope->team) {
        if (o->team && strcmp(o->team, scope->team) != 0)
            o->member = -1;
        else
            o->team = scope->team;
    }
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
    if (f.has_gg && gi.degenerate)
        sc_info("Gamma-Gamma: spend barely varies between customers (q %.4g, beyond %g, still "
                "rising): the fit stopped there",
                f.gg.q, SC_CLV_GG_Q_BOUND);
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

/* Seconds between the fitter's looks at the clock: a day is counted on time(), so a clock moved
 * on (a real one, or libfaketime's in the tests) brings the daily refit within this. */
#define FIT_TICK_S 10

static void *fitter_main(void *arg)
{
    struct sc_fitter *f = arg;
    int64_t next = 0; /* the next fit: at once (at start), then a day after each */
    pthread_mutex_lock(&f->mu);
    while (!f->stop) {
        int64_t now = (int64_t)time(NULL);
        if (now < next) {
            struct timespec until = {(time_t)(now + FIT_TICK_S < next ? now + FIT_TICK_S : next),
                                     0};
            pthread_cond_timedwait(&f->cv, &f->mu, &until);
            continue;
        }
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
        next = now + 86400; /* a day after this fit began (the clock read before it) */
        pthread_mutex_lock(&f->mu);
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
    snap_wait(); /* the snapshot's background rebuild reads the same store */
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

/* A customer as a page shows them (customer_row collects them for pages). */
struct view {
    int64_t id;
    char *name, *card;                /* owned */
    int64_t orders, revenue, last_at; /* last_at 0: no order */
    int segment;                      /* enum sc_rfm_segment, -1: no order */
    double p_alive, clv;              /* NAN when the model cannot say */
    int64_t first_at;                 /* first order, 0: none (the customer's own page) */
    int rfm[3];                       /* R, F, M scores 1–5; 0 without an order */
    double e90;                       /* expected orders in the next 90 days, or NAN */
    int64_t points;
    const char *tier;    /* borrowed from the context's tiers, or NULL */
    char birthday[11];   /* "" when not given */
    int32_t birthday_on; /* with ?birthday=week: the day it falls on */
};

struct list_ctx {
    struct req *r;
    struct list_out o;
    struct snapshot *snap; /* held */
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
    bool html;              /* for a page: rows become views instead of JSON or CSV */
    int64_t only_id;        /* not 0: only this customer */
    struct sc_bdays *bdays; /* birthdays.c: the scope's birthdays */
    int32_t today;          /* day number in SHARECARD_TZ */
    bool want_week;         /* ?birthday=week: only birthdays in the seven days from today */
    struct view *views;
    size_t nviews, vcap;
    /* /customers in store order (no sorting): only the rows of the page [win_from, win_to)
     * among those that pass the filters become views; 'matched' counts them all */
    bool windowed;
    size_t win_from, win_to, matched;
    /* /customers unfiltered: only the page's rows are read from the store */
    bool store_window;
    int64_t store_from;
};

static int take_view(struct list_ctx *c, const struct view *v);

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
    FIND(c->snap->b.agg, c->snap->b.nagg, id, id);
    return found_;
}

static const struct sc_rfm_row *rfm_of(const struct list_ctx *c, int64_t id)
{
    const struct sc_rfm_row *found_;
    FIND(c->snap->rfm, c->snap->nrfm, id, customer_id);
    return found_;
}

static const struct sc_clv_summary *sum_of(const struct list_ctx *c, int64_t id)
{
    const struct sc_clv_summary *found_;
    FIND(c->snap->sum, c->snap->nsum, id, customer_id);
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
    if (c->only_id && w->id != c->only_id)
        return 0;
    bool unfiltered = !c->want_segment && !c->want_week;
    if (c->windowed && unfiltered) { /* outside the page: counted, nothing looked up */
        size_t i = c->matched++;
        if (i < c->win_from || i >= c->win_to)
            return 0;
    }
    const struct agg *ag = agg_of(c, w->id);
    const struct sc_rfm_row *rf = rfm_of(c, w->id);
    const struct sc_clv_summary *su = sum_of(c, w->id);
    if (c->want_segment && (!rf || rf->segment != c->segment))
        return 0;
    char bday[11];
    int32_t bday_on = 0;
    bool week = false;
    sc_bdays_of(c->bdays, w->id, c->today, bday, &bday_on, &week);
    if (c->want_week && !week)
        return 0;
    if (c->windowed && !unfiltered) {
        size_t i = c->matched++;
        if (i < c->win_from || i >= c->win_to)
            return 0;
    }
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
    if (c->html) {
        struct view v = {w->id,
                         strdup(w->name ? w->name : ""),
                         strdup(w->card ? w->card : ""),
                         ag ? ag->orders : 0,
                         ag ? ag->revenue : 0,
                         ag ? ag->last_at : 0,
                         rf ? (int)rf->segment : -1,
                         model ? pa : NAN,
                         model ? v1 : NAN,
                         ag ? ag->first_at : 0,
                         {rf ? rf->r : 0, rf ? rf->f : 0, rf ? rf->m : 0},
                         model ? e90 : NAN,
                         points,
                         tier,
                         "",
                         bday_on};
        memcpy(v.birthday, bday, sizeof(bday));
        if (!v.name || !v.card || take_view(c, &v)) {
            free(v.name);
            free(v.card);
            c->e = SC_ENOMEM;
            return 1;
        }
        c->o.rows++;
        return 0;
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
                                tier ? tier : "",
                                bday};
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
        sc_buf_puts(b, ",\"birthday\":");
        sc_ui_json_str(b, bday[0] ? bday : NULL);
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

/* SHARECARD_TIERS and SHARECARD_TIERS_BY, read once; a bad list is logged once and ignored. */
static struct sc_tiers env_tiers;
static bool env_tiers_by_points;
static pthread_once_t env_tiers_once = PTHREAD_ONCE_INIT;

static void env_tiers_read(void)
{
    char err[160];
    if (sc_tier_parse(getenv("SHARECARD_TIERS"), &env_tiers, err, sizeof(err)) != SC_OK)
        sc_warn("SHARECARD_TIERS ignored: %s", err);
    const char *by = getenv("SHARECARD_TIERS_BY");
    env_tiers_by_points = by && strcmp(by, "points") == 0;
}

static void tiers_of_env(struct list_ctx *c)
{
    pthread_once(&env_tiers_once, env_tiers_read);
    c->tiers = env_tiers;
    c->tiers_by_points = env_tiers_by_points;
}

void sc_customers_tiers(struct sc_tiers *out, bool *by_points)
{
    pthread_once(&env_tiers_once, env_tiers_read);
    *out = env_tiers;
    *by_points = env_tiers_by_points;
}

/* Everything the rows of a list are computed from, as of c->now, into 'c'. */
static enum sc_err prepare_list(struct sc_store *s, struct list_ctx *c)
{
    enum sc_err e = snap_get(s, &c->snap);
    if (e == SC_OK)
        e = sc_store_customer_points(s, c->now, take_points, c);
    if (e == SC_OK)
        e = c->e;
    if (e == SC_OK) {
        enum sc_err fe = sc_store_clv_fit_latest(s, &c->fit);
        if (fe != SC_OK && fe != SC_ENOTFOUND)
            e = fe;
        c->has_fit = fe == SC_OK;
    }
    return e;
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
    const char *bd = sc_req_arg(r, "birthday");
    if (bd && bd[0]) {
        if (strcmp(bd, "week") != 0) {
            ret = sc_reply_error(r, 400,
                                 "birthday must be week: the customers whose birthday "
                                 "is in the seven days from today.");
            goto out;
        }
        c->want_week = true;
    }
    tiers_of_env(c);
    c->now = (int64_t)time(NULL);
    c->today = sc_customers_day(c->now);
    enum sc_err e = prepare_list(r->srv->store, c);
    if (e == SC_OK)
        e = sc_bdays_load(r->srv->store, &scope, &c->bdays);
    sc_list_begin(r, &c->o,
                  "id,name,email,phone,card,level1,level1_name,signed_up_at,orders,revenue,"
                  "first_order_at,last_order_at,rfm_r,rfm_f,rfm_m,segment,p_alive,"
                  "expected_orders_90d,clv_1y,points,tier,birthday\r\n");
    if (e == SC_OK)
        e = sc_store_customers(r->srv->store, &scope, customer_row, c);
    ret = sc_list_finish(r, &c->o, e);
out:
    snap_release(c->snap);
    free(c->pts);
    sc_bdays_free(c->bdays);
    free(c);
    return ret;
}

/* ---- GET /api/v1/retention ----------------------------------------------------------- */

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

    struct snapshot *sn = NULL;
    struct sc_ret_report rep;
    memset(&rep, 0, sizeof(rep));
    scope_opts(&scope, &opts);
    enum sc_err e = snap_get(r->srv->store, &sn);
    if (e == SC_OK)
        e = sc_ret_compute(sn->cs.c, sn->cs.n, sn->b.ord, sn->b.nord, from, to, &opts, &rep);
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
    char as_of[32];
    sc_ui_iso_time(sn->built_at, as_of); /* the snapshot's age: it may be being rebuilt */
    sc_buf_printf(&o,
                  "{\"from\":\"%04d-%02d-%02d\",\"to\":\"%04d-%02d-%02d\",\"active_days\":%d,"
                  "\"as_of\":\"%s\","
                  "\"customers_start\":%lld,\"customers_end\":%lld,\"new\":%lld,\"retained\":%lld",
                  fy, fm, fd, ty, tm, td, opts.active_days, as_of, (long long)rep.customers_start,
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
    /* NPS of the scope's survey answers in the period (nps.c; SHARECARD_TZ days like ours). */
    double nps = 0;
    bool has_nps = false;
    int64_t nfrom = sc_ret_days_from_civil(fy, fm, fd), nto = sc_ret_days_from_civil(ty, tm, td);
    struct sc_scope nscope = {opts.member, opts.team}; /* the caller's and team=/member= */
    e = sc_nps_company(r->srv->store, &nscope, nfrom, nto, &nps, &has_nps);
    if (e != SC_OK) {
        sc_buf_cleanup(&o);
        ret = sc_reply_err(r, e, NULL);
        goto out;
    }
    json_fraction(&o, "nps", has_nps, nps);
    sc_buf_puts(&o, "}\n");
    ret = sc_reply_bytes(r, 200, "application/json", &o);
out:
    sc_ret_report_cleanup(&rep);
    snap_release(sn);
    return ret;
}

/* ---- pages: /customers, a customer's page, the dashboard's retention section ---------- */

static int take_view(struct list_ctx *c, const struct view *v)
{
    if (c->nviews == c->vcap) {
        size_t cap = c->vcap ? c->vcap * 2 : 64;
        void *p = realloc(c->views, cap * sizeof(*c->views));
        if (!p)
            return 1;
        c->views = p;
        c->vcap = cap;
    }
    c->views[c->nviews++] = *v;
    return 0;
}

static void views_free(struct list_ctx *c)
{
    for (size_t i = 0; i < c->nviews; i++) {
        free(c->views[i].name);
        free(c->views[i].card);
    }
    free(c->views);
}

/* At risk and can't lose first (whom a salesperson calls first), then by customer id. */
static int view_priority(const struct view *v)
{
    return v->segment == SC_RFM_CANT_LOSE ? 0 : v->segment == SC_RFM_AT_RISK ? 1 : 2;
}

/* Birthdays this week: the soonest first. */
static int birthday_cmp(const void *pa, const void *pb)
{
    const struct view *a = pa, *b = pb;
    if (a->birthday_on != b->birthday_on)
        return a->birthday_on < b->birthday_on ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int view_cmp(const void *pa, const void *pb)
{
    const struct view *a = pa, *b = pb;
    int d = view_priority(a) - view_priority(b);
    if (d)
        return d;
    return (a->id > b->id) - (a->id < b->id);
}

/* A segment's name as a query value: "can't lose" is cant_lose. */
static void segment_slug(struct sc_buf *b, const char *name)
{
    for (const char *p = name; *p; p++)
        if (*p != '\'')
            sc_buf_putc(b, *p == ' ' ? '_' : *p);
}

static void money(struct sc_buf *b, int64_t cents)
{
    char s[64];
    sc_ux_money(cents, s); /* in SHARECARD_CURRENCY (ux.c) */
    sc_ui_text(b, s);
}

static void view_cells(struct sc_buf *b, const struct view *v)
{
    sc_ui_htmlf(b, "<tr data-id=\"%lld\"><td><a href=\"/customers/%lld\">", (long long)v->id,
                (long long)v->id);
    sc_ui_text(b, v->name && v->name[0] ? v->name : "—");
    sc_ui_html(b, "</a></td><td>");
    sc_ux_card_html(b, v->card);
    sc_ui_htmlf(b, "</td><td class=\"n\">%lld</td><td class=\"n\">", (long long)v->orders);
    money(b, v->revenue);
    sc_ui_html(b, "</td><td>");
    if (v->last_at)
        sc_ui_when(b, v->last_at);
    sc_ui_htmlf(b, "</td><td data-segment=\"%s\">",
                v->segment >= 0 ? sc_rfm_segment_name((enum sc_rfm_segment)v->segment) : "");
    if (v->segment >= 0)
        sc_ui_text(b, sc_tr(sc_rfm_segment_name((enum sc_rfm_segment)v->segment)));
    sc_ui_html(b, "</td><td class=\"n\">");
    if (isfinite(v->p_alive))
        sc_buf_printf(b, "%.0f%%", 100 * v->p_alive);
    sc_ui_html(b, "</td><td class=\"n\">");
    if (isfinite(v->clv))
        money(b, (int64_t)llround(v->clv * 100.0));
    sc_ui_htmlf(b, "</td><td class=\"n\">%lld</td><td>", (long long)v->points);
    sc_ui_text(b, v->tier);
    sc_buf_printf(b, "</td><td data-birthday=\"%s\">%s</td></tr>", v->birthday, v->birthday);
}

/* Runs the customer list of 'scope' for a page into 'c' (views); 'only' 0 or one id. */
static enum sc_err collect_views(struct req *r, struct list_ctx *c, const struct sc_scope *scope,
                                 int64_t only)
{
    c->r = r;
    c->html = true;
    c->only_id = only;
    if (!c->limit)
        c->limit = LIST_MAX;
    tiers_of_env(c);
    c->now = (int64_t)time(NULL);
    c->today = sc_customers_day(c->now);
    sc_buf_init(&c->o.b, 0);
    enum sc_err e = prepare_list(r->srv->store, c);
    if (e == SC_OK)
        e = sc_bdays_load(r->srv->store, scope, &c->bdays);
    if (e == SC_OK)
        e = c->store_window ? sc_store_customers_window(r->srv->store, scope, c->store_from,
                                                        c->limit, customer_row, c)
                            : sc_store_customers(r->srv->store, scope, customer_row, c);
    return e != SC_OK ? e : c->e;
}

static void list_ctx_free(struct list_ctx *c)
{
    snap_release(c->snap);
    free(c->pts);
    views_free(c);
    sc_bdays_free(c->bdays);
    sc_buf_cleanup(&c->o.b);
    free(c);
}

#define PAGE_ROWS 100 /* customers a page of /customers shows */

/* The link to page 'page' of the list with the same filters. */
static void list_page_href(struct sc_buf *b, const struct list_ctx *c, long page)
{
    sc_buf_puts(b, "/customers?");
    if (c->want_segment) {
        sc_buf_puts(b, "segment=");
        segment_slug(b, sc_rfm_segment_name(c->segment));
        sc_buf_puts(b, "&amp;");
    }
    if (c->want_week)
        sc_buf_puts(b, "birthday=week&amp;");
    sc_buf_printf(b, "page=%ld", page);
}

/* "1–100 of 1234" and the links to the pages before and after. */
static void list_pager(struct sc_buf *b, const struct list_ctx *c, long page, size_t total,
                       size_t shown)
{
    bool zh = sc_tr_lang() == SC_LANG_ZH;
    size_t from = (size_t)(page - 1) * PAGE_ROWS;
    sc_ui_html(b, "<nav class=\"pager\" id=\"pager\"><span id=\"range\">");
    if (!shown)
        sc_ui_htmlf(b, zh ? "共 %zu 位，本页无" : "none of %zu here", total);
    else
        sc_ui_htmlf(b, zh ? "第 %zu–%zu 位，共 %zu 位" : "%zu–%zu of %zu", from + 1, from + shown,
                    total);
    sc_ui_html(b, "</span>");
    if (page > 1) {
        sc_ui_html(b, " <a rel=\"prev\" href=\"");
        list_page_href(b, c, page - 1);
        sc_ui_html(b, zh ? "\">上一页</a>" : "\">Previous</a>");
    }
    if (from + shown < total) {
        sc_ui_html(b, " <a rel=\"next\" href=\"");
        list_page_href(b, c, page + 1);
        sc_ui_html(b, zh ? "\">下一页</a>" : "\">Next</a>");
    }
    sc_ui_html(b, "</nav>");
}

/* /customers?nps=detractor: the scope's NPS detractors of the last year, to call. */
static enum MHD_Result detractors_page(struct req *r, const struct sc_member *m,
                                       const struct sc_scope *scope)
{
    struct sc_buf b;
    sc_buf_init(&b, 32 << 20);
    sc_ui_begin(r, &b, "Customers", m, "/customers");
    sc_ui_html(&b, "</header><p class=\"segments\"><a href=\"/customers\">All</a> · <a "
                   "class=\"on\" href=\"/customers?nps=detractor\">NPS detractors</a></p><p "
                   "class=\"hint\">Customers who answered 0–6 in the last 365 days, newest "
                   "first: call them.</p>");
    int64_t today = sc_customers_day((int64_t)time(NULL));
    enum sc_err e = sc_nps_detractors(r, &b, scope, today - 364, today);
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return sc_reply_err(r, e, NULL);
    }
    sc_ui_end(&b);
    return sc_reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

static enum MHD_Result customers_list_page(struct req *r, const struct sc_member *m,
                                           const struct sc_scope *scope)
{
    struct list_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return sc_reply_err(r, SC_ENOMEM, NULL);
    const char *seg = sc_req_arg(r, "segment");
    if (seg && seg[0]) {
        if (!segment_arg(seg, &c->segment)) {
            list_ctx_free(c);
            return sc_reply_error(r, 400, "There is no such segment.");
        }
        c->want_segment = true;
    }
    const char *nps = sc_req_arg(r, "nps");
    if (nps && strcmp(nps, "detractor") == 0) { /* NPS detractors to call (nps.c) */
        list_ctx_free(c);
        return detractors_page(r, m, scope);
    }
    const char *bd = sc_req_arg(r, "birthday");
    c->want_week = bd && strcmp(bd, "week") == 0; /* birthdays this week (birthdays.c) */
    long page = 1;
    const char *pg = sc_req_arg(r, "page");
    if (pg && pg[0]) {
        int64_t v = sc_num_arg(pg); /* digits only; 0 when not */
        if (v < 1 || v > LIST_MAX / PAGE_ROWS) {
            list_ctx_free(c);
            return sc_reply_error(r, 400, "page is a page number from 1 to the last page.");
        }
        page = (long)v;
    }
    /* A salesperson's list and this week's birthdays are sorted, so every row is kept and the
     * page cut after sorting; otherwise the store's order stands and only the page's rows are
     * kept. */
    bool sorted = c->want_week || m->role == SC_ROLE_SALES;
    size_t from = (size_t)(page - 1) * PAGE_ROWS;
    enum sc_err e = SC_OK;
    int64_t count = 0;
    if (!sorted && !c->want_segment) { /* the page's rows alone, and how many there are */
        e = sc_store_customers_count(r->srv->store, scope, &count);
        c->store_window = true;
        c->store_from = (int64_t)from;
        c->limit = PAGE_ROWS;
    } else if (!sorted) {
        c->windowed = true;
        c->win_from = from;
        c->win_to = from + PAGE_ROWS;
    }
    if (e == SC_OK)
        e = collect_views(r, c, scope, 0);
    if (e != SC_OK) {
        list_ctx_free(c);
        return sc_reply_err(r, e, NULL);
    }
    if (c->want_week && c->nviews > 1)
        qsort(c->views, c->nviews, sizeof(*c->views), birthday_cmp);
    else if (!c->want_week && m->role == SC_ROLE_SALES && c->nviews > 1)
        qsort(c->views, c->nviews, sizeof(*c->views), view_cmp);
    size_t total = c->store_window ? (size_t)count : sorted ? c->nviews : c->matched;
    size_t first = sorted ? from : 0; /* the page's first view */
    size_t shown = first < c->nviews ? c->nviews - first : 0;
    if (shown > PAGE_ROWS)
        shown = PAGE_ROWS;
    struct sc_buf b;
    sc_buf_init(&b, 32 << 20);
    sc_ui_begin(r, &b, "Customers", m, "/customers");
    sc_ui_html(&b, "</header><p class=\"hint\">Orders, RFM segment, probability of being "
                   "alive and one-year value of the customers on the cards you see.");
    if (m->role == SC_ROLE_SALES)
        sc_ui_html(&b, " At risk and can't lose first: call them.");
    sc_ui_html(&b, "</p><p class=\"segments\"><a href=\"/customers\">All</a>");
    sc_ui_htmlf(&b, " · <a href=\"/customers?birthday=week\"%s>Birthdays this week</a>",
                c->want_week ? " class=\"on\" id=\"birthdays\"" : "");
    sc_ui_html(&b, " · <a href=\"/customers?nps=detractor\">NPS detractors</a>");
    for (int s = 0; s < SC_RFM_NSEGMENTS; s++) {
        const char *name = sc_rfm_segment_name((enum sc_rfm_segment)s);
        sc_buf_puts(&b, " · <a href=\"/customers?segment=");
        segment_slug(&b, name);
        sc_buf_puts(&b, "\"");
        if (c->want_segment && c->segment == (enum sc_rfm_segment)s)
            sc_buf_puts(&b, " class=\"on\"");
        sc_buf_puts(&b, ">");
        sc_ui_text(&b, sc_tr(name));
        sc_buf_puts(&b, "</a>");
    }
    sc_ui_html(&b, "</p><div class=\"scroll\"><table class=\"t sortable\" id=\"customers\">"
                   "<thead><tr><th>Name</th><th>Card</th><th class=\"n\">Orders</th><th "
                   "class=\"n\">Revenue</th><th>Last order</th><th>Segment</th><th "
                   "class=\"n\">P(alive)</th><th class=\"n\">1-year value</th><th "
                   "class=\"n\">Points</th><th>Tier</th><th>Birthday</th></tr></thead><tbody>");
    for (size_t i = first; i < first + shown; i++)
        view_cells(&b, &c->views[i]);
    sc_ui_html(&b, "</tbody></table></div>");
    list_pager(&b, c, page, total, shown);
    sc_ui_html(&b, "<p><a href=\"/api/v1/customers?format=csv\">Export (CSV)</a></p>");
    sc_ui_end(&b);
    list_ctx_free(c);
    return sc_reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

/* One line of a customer's timeline: its time and its HTML (owned). */
struct moment {
    int64_t ts;
    char *html;
};

struct timeline {
    struct moment *m;
    size_t n, cap;
    int64_t customer;
    struct sc_buf line; /* the line being written */
    bool oom;
};

/* Ends the line in t->line as a moment at 'ts'. */
static void moment_end(struct timeline *t, int64_t ts)
{
    char *s = sc_buf_error(&t->line) || !t->line.data ? NULL : strdup(t->line.data);
    t->line.len = 0;
    if (t->line.data)
        t->line.data[0] = '\0';
    if (!s) {
        t->oom = true;
        return;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        void *p = realloc(t->m, cap * sizeof(*t->m));
        if (!p) {
            free(s);
            t->oom = true;
            return;
        }
        t->m = p;
        t->cap = cap;
    }
    t->m[t->n++] = (struct moment){ts, s};
}

static int moment_cmp(const void *pa, const void *pb)
{
    const struct moment *a = pa, *b = pb;
    return (a->ts < b->ts) - (a->ts > b->ts); /* newest first */
}

static int visit_moment(const struct sc_visit_row *v, void *ctx)
{
    static const char *const what[SC_EV_COUNT] = {"Scanned the QR code",
                                                  "Opened a shared link",
                                                  "Viewed the card",
                                                  "Shared the card",
                                                  "Tapped a contact button",
                                                  "Saved the contact",
                                                  "Stayed on the page",
                                                  "Signed up",
                                                  "Bought"};
    struct timeline *t = ctx;
    if (v->type == SC_EV_SIGNUP || v->type == SC_EV_CONVERT)
        return 0; /* told from the customer's own rows */
    sc_ui_text(&t->line, sc_tr(v->type < SC_EV_COUNT ? what[v->type] : "Activity"));
    if (v->type == SC_EV_DWELL)
        sc_buf_printf(&t->line, " %lld s", (long long)v->value);
    sc_buf_puts(&t->line, " · ");
    sc_ui_text(&t->line, v->card);
    moment_end(t, v->ts);
    return t->oom;
}

static int order_moment(const struct sc_order_row *o, void *ctx)
{
    struct timeline *t = ctx;
    if (o->customer_id != t->customer)
        return 0;
    sc_ui_text(&t->line, sc_tr("Ordered"));
    sc_buf_putc(&t->line, ' ');
    money(&t->line, o->amount_cents);
    moment_end(t, o->at);
    return t->oom;
}

static int reward_moment(const struct sc_reward_row *w, void *ctx)
{
    struct timeline *t = ctx;
    bool theirs = w->party.type == SC_PARTY_CUSTOMER && w->party.id == t->customer;
    if (!theirs && w->customer_id != t->customer)
        return 0;
    if (w->level == 0) /* their own welcome gift (issue 19) */
        sc_ui_text(&t->line, sc_tr("Welcome gift"));
    else if (theirs)
        sc_ui_text(&t->line, sc_tr("Earned"));
    else
        sc_ui_text(&t->line, w->party.name);
    if (strcmp(w->kind, "signup") == 0 || strcmp(w->kind, "welcome") == 0) {
        sc_buf_putc(&t->line, ' ');
        sc_words_count(&t->line, w->amount, "point", "points");
        sc_buf_puts(&t->line, " (");
    } else if (strcmp(w->kind, "commission") == 0) {
        sc_buf_putc(&t->line, ' ');
        money(&t->line, w->amount);
        sc_buf_printf(&t->line, " %s (", sc_tr("commission"));
    } else { /* a coupon: its value is the coupon's (cents or percent), shown on its own */
        sc_buf_putc(&t->line, ' ');
        sc_ui_text(&t->line, sc_words_reward_kind(w->kind));
        sc_buf_puts(&t->line, " (");
    }
    sc_ui_text(&t->line, sc_words_reward_status(w->status));
    sc_buf_putc(&t->line, ')');
    moment_end(t, w->created_at);
    return t->oom;
}

/* A survey answer (nps.c): the score and the comment. */
static int answer_moment(const struct sc_nps_answer_row *w, void *ctx)
{
    struct timeline *t = ctx;
    sc_ui_text(&t->line, sc_tr("Answered the survey"));
    sc_buf_printf(&t->line, " <span data-nps=\"%d\">%d/10</span>", w->score, w->score);
    if (w->comment[0]) {
        sc_buf_puts(&t->line, " · ");
        sc_ui_text(&t->line, w->comment);
    }
    moment_end(t, w->answered_at);
    return t->oom;
}

/* A follow-up logged on the customer as a lead (leads.c): who, how, what came of it. */
static int followup_moment(const struct sc_followup_row *f, void *ctx)
{
    struct timeline *t = ctx;
    sc_ui_text(&t->line, sc_tr("Followed up"));
    sc_buf_puts(&t->line, " · ");
    sc_ui_text(&t->line, f->member);
    sc_buf_puts(&t->line, " · ");
    sc_ui_text(&t->line, sc_tr(sc_score_contact_name((enum sc_contact)(
                             f->channel >= 0 && f->channel < SC_CONTACT_COUNT ? f->channel : 0))));
    sc_buf_puts(&t->line, " · ");
    sc_ui_text(&t->line, sc_tr(sc_leads_outcome_text(f->outcome)));
    if (f->note[0]) {
        sc_buf_puts(&t->line, " · ");
        sc_ui_text(&t->line, f->note);
    }
    moment_end(t, f->created_at);
    return t->oom;
}

/* The customer 'id' on the cards of 'scope', with their visitor id: found or not. */
struct one_customer {
    int64_t id, visitor;
    int64_t signed_up_at;
    char name[SC_PERSON_NAME_MAX * 4 + 1], email[255], phone[64], card[64];
    struct sc_party level1;
    bool found;
};

static int find_customer(const struct sc_customer_row *w, void *ctx)
{
    struct one_customer *o = ctx;
    if (w->id != o->id)
        return 0;
    o->found = true;
    o->visitor = w->visitor_id;
    o->signed_up_at = w->signed_up_at;
    snprintf(o->name, sizeof(o->name), "%s", w->name ? w->name : "");
    snprintf(o->email, sizeof(o->email), "%s", w->email ? w->email : "");
    snprintf(o->phone, sizeof(o->phone), "%s", w->phone ? w->phone : "");
    snprintf(o->card, sizeof(o->card), "%s", w->card ? w->card : "");
    o->level1 = w->level1;
    return 1;
}

#define CUSTOMER_TIMELINE_VISITS 200

/*
 * The customer's figures beyond the list's columns (issue 14): who referred them, when they
 * signed up, first and last order, the RFM scores, expected orders in the next 90 days and the
 * one-year value, as GET /api/v1/customers gives them; each <dd> carries its plain value in
 * data-v ("" where there is none: no order, or no fit yet).
 */
static void customer_figures(struct sc_buf *b, const struct one_customer *one, const struct view *v)
{
    sc_ui_html(b, "<dl class=\"figures\" id=\"figures\"><dt>");
    sc_ui_text(b, sc_tr("Referred by"));
    sc_ui_htmlf(b, "</dt><dd data-k=\"level1\" data-v=\"%s:%lld\">",
                one->level1.type == SC_PARTY_MEMBER     ? "member"
                : one->level1.type == SC_PARTY_CUSTOMER ? "customer"
                                                        : "",
                (long long)one->level1.id);
    sc_ui_text(b, one->level1.type != SC_PARTY_NONE ? one->level1.name : "—");
    sc_ui_html(b, "</dd><dt>");
    sc_ui_text(b, sc_tr("Signed up"));
    sc_ui_html(b, "</dt><dd data-k=\"signed_up_at\">");
    sc_ui_when(b, one->signed_up_at);
    sc_ui_html(b, "</dd><dt>");
    sc_ui_text(b, sc_tr("First order"));
    sc_ui_html(b, "</dt><dd data-k=\"first_order_at\">");
    if (v && v->first_at)
        sc_ui_when(b, v->first_at);
    else
        sc_buf_puts(b, "—");
    sc_ui_html(b, "</dd><dt>");
    sc_ui_text(b, sc_tr("Last order"));
    sc_ui_html(b, "</dt><dd data-k=\"last_order_at\">");
    if (v && v->last_at)
        sc_ui_when(b, v->last_at);
    else
        sc_buf_puts(b, "—");
    sc_ui_html(b, "</dd><dt>RFM</dt>");
    if (v && v->rfm[0])
        sc_ui_htmlf(b, "<dd data-k=\"rfm\" data-v=\"%d%d%d\">R %d · F %d · M %d</dd>", v->rfm[0],
                    v->rfm[1], v->rfm[2], v->rfm[0], v->rfm[1], v->rfm[2]);
    else
        sc_ui_html(b, "<dd data-k=\"rfm\" data-v=\"\">—</dd>");
    sc_ui_html(b, "<dt>");
    sc_ui_text(b, sc_tr("Expected orders in the next 90 days"));
    if (v && isfinite(v->e90))
        sc_ui_htmlf(b, "</dt><dd data-k=\"expected_orders_90d\" data-v=\"%.4f\">%.2f</dd>", v->e90,
                    v->e90);
    else
        sc_ui_html(b, "</dt><dd data-k=\"expected_orders_90d\" data-v=\"\">—</dd>");
    sc_ui_html(b, "<dt>");
    sc_ui_text(b, sc_tr("1-year value"));
    if (v && isfinite(v->clv)) {
        sc_ui_htmlf(b, "</dt><dd data-k=\"clv_1y\" data-v=\"%.2f\">", v->clv);
        money(b, (int64_t)llround(v->clv * 100.0));
        sc_ui_html(b, "</dd>");
    } else {
        sc_ui_html(b, "</dt><dd data-k=\"clv_1y\" data-v=\"\">—</dd>");
    }
    sc_ui_html(b, "</dl>");
}

static enum MHD_Result customer_page(struct req *r, const struct sc_member *m,
                                     const struct sc_scope *scope, const char *rest)
{
    char *end;
    long long id = strtoll(rest, &end, 10);
    if (id <= 0 || *end)
        return sc_reply_error(r, 404, "There is no such customer.");
    struct sc_store *st = r->srv->store;
    struct one_customer one = {.id = id};
    enum sc_err e = sc_store_customers(st, scope, find_customer, &one);
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    if (!one.found)
        return sc_reply_error(r, 404, "There is no such customer on the cards you may see.");
    struct list_ctx *c = calloc(1, sizeof(*c));
    struct timeline t = {.customer = id};
    sc_buf_init(&t.line, 64 * 1024);
    if (!c) {
        e = SC_ENOMEM;
        goto out;
    }
    if ((e = collect_views(r, c, scope, id)) != SC_OK)
        goto out;
    sc_ui_text(&t.line, sc_tr("Signed up"));
    sc_buf_puts(&t.line, " · ");
    sc_ui_text(&t.line, one.card);
    if (one.level1.type != SC_PARTY_NONE) {
        sc_buf_puts(&t.line, " · ");
        sc_ui_text(&t.line, sc_tr("credited to"));
        sc_buf_putc(&t.line, ' ');
        sc_ui_text(&t.line, one.level1.name);
    }
    moment_end(&t, one.signed_up_at);
    if (e == SC_OK)
        e = sc_store_orders(st, scope, order_moment, &t);
    if (e == SC_OK)
        e = sc_store_rewards_list(st, scope, (int64_t)time(NULL), reward_moment, &t);
    if (e == SC_OK)
        e = sc_store_nps_answers(st, scope, one.id, 0, INT64_MAX, answer_moment, &t);
    if (e == SC_OK && one.visitor)
        e = sc_store_followups(st, scope, one.visitor, followup_moment, &t);
    if (e == SC_OK && one.visitor)
        e = sc_store_lead_timeline(st, scope, one.visitor, CUSTOMER_TIMELINE_VISITS, visit_moment,
                                   &t);
    if (e == SC_OK && t.oom)
        e = SC_ENOMEM;
    if (e != SC_OK)
        goto out;
    qsort(t.m, t.n, sizeof(*t.m), moment_cmp);
    struct sc_buf b;
    sc_buf_init(&b, 16 << 20);
    sc_ui_begin(r, &b, one.name[0] ? one.name : sc_tr("Customer"), m, "/customers");
    sc_ui_html(&b, "</header><div class=\"scroll\"><table class=\"t\" id=\"customer\"><thead>"
                   "<tr><th>Name</th><th>Card</th><th class=\"n\">Orders</th><th "
                   "class=\"n\">Revenue</th><th>Last order</th><th>Segment</th><th "
                   "class=\"n\">P(alive)</th><th class=\"n\">1-year value</th><th "
                   "class=\"n\">Points</th><th>Tier</th></tr></thead><tbody>");
    if (c->nviews)
        view_cells(&b, &c->views[0]);
    sc_ui_html(&b, "</tbody></table></div>");
    customer_figures(&b, &one, c->nviews ? &c->views[0] : NULL);
    sc_ui_html(&b, "<p>");
    sc_ui_text(&b, one.email);
    if (one.email[0] && one.phone[0])
        sc_buf_puts(&b, " · ");
    sc_ui_text(&b, one.phone);
    sc_ui_html(&b, "</p><h2>Timeline</h2><ol class=\"timeline\" id=\"timeline\">");
    for (size_t i = 0; i < t.n; i++) {
        sc_ui_html(&b, "<li><time>");
        sc_ui_when(&b, t.m[i].ts);
        sc_buf_puts(&b, "</time> ");
        sc_buf_puts(&b, t.m[i].html); /* escaped when written */
        sc_buf_puts(&b, "</li>");
    }
    sc_ui_html(&b, "</ol><p><a href=\"/customers\">All customers</a></p>");
    sc_ui_end(&b);
    for (size_t i = 0; i < t.n; i++)
        free(t.m[i].html);
    free(t.m);
    sc_buf_cleanup(&t.line);
    list_ctx_free(c);
    return sc_reply_bytes(r, 200, "text/html; charset=utf-8", &b);
out:
    for (size_t i = 0; i < t.n; i++)
        free(t.m[i].html);
    free(t.m);
    sc_buf_cleanup(&t.line);
    if (c)
        list_ctx_free(c);
    return sc_reply_err(r, e, NULL);
}

enum MHD_Result sc_h_customers(struct req *r, const struct route_args *a)
{
    if (!sc_req_is_get(r))
        return sc_reply_405(r, "GET, HEAD");
    struct sc_scope scope;
    sc_session_scope(a->m, &scope);
    sc_ux_owners_load(r->srv->store); /* cards by their owner's name (ux.c) */
    enum MHD_Result ret = a->arg && a->arg[0] ? customer_page(r, a->m, &scope, a->arg)
                                              : customers_list_page(r, a->m, &scope);
    sc_ux_owners_free();
    return ret;
}

/* ---- the dashboard's section ------------------------------------------------------------ */

/* A fraction as a tile: "85.0%", or a dash when it has no denominator. */
static void fraction_tile(struct sc_buf *b, const char *key, const char *label, bool has, double v)
{
    sc_ui_htmlf(b, "<div class=\"tile\" data-kpi=\"%s\"><div class=\"v\">", key);
    if (has && isfinite(v))
        sc_buf_printf(b, "%.1f%%", 100 * v);
    else
        sc_buf_puts(b, "—");
    sc_ui_htmlf(b, "</div><div class=\"k\">%s</div></div>", label);
}

static void count_tile(struct sc_buf *b, const char *key, const char *label, int64_t v)
{
    sc_ui_htmlf(b,
                "<div class=\"tile\" data-kpi=\"%s\"><div class=\"v\">%lld</div><div "
                "class=\"k\">%s</div></div>",
                key, (long long)v, label);
}

/* The cohorts as a heat map: a row per sign-up month, a cell per later month. */
static void heat_map(struct sc_buf *b, const struct sc_ret_report *rep)
{
    size_t cols = 0;
    for (size_t i = 0; i < rep->ncohorts; i++)
        if (rep->cohorts[i].nretention > cols)
            cols = rep->cohorts[i].nretention;
    /* Drawn at its own size (width and height as the viewBox), so one cell stays one cell:
     * a viewBox alone would stretch a single cohort and its label to the column's width. */
    int w = 150 + 52 * (int)(cols ? cols : 1), h = 24 + 26 * (int)rep->ncohorts;
    sc_ui_htmlf(b,
                "<svg class=\"cohorts\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
                "role=\"img\" aria-label=\"Cohorts: share of each sign-up month who ordered in "
                "each later month\">",
                w, h, w, h);
    for (size_t k = 0; k < cols; k++)
        sc_buf_printf(b,
                      "<text x=\"%d\" y=\"14\" font-size=\"11\" fill=\"#86909c\" "
                      "text-anchor=\"middle\">+%zu</text>",
                      150 + 52 * (int)k + 25, k + 1);
    for (size_t i = 0; i < rep->ncohorts; i++) {
        const struct sc_ret_cohort *c = &rep->cohorts[i];
        int y = 22 + 26 * (int)i;
        sc_buf_printf(b,
                      "<g data-month=\"%04d-%02d\"><text x=\"0\" y=\"%d\" font-size=\"12\" "
                      "fill=\"#4e5969\">%04d-%02d · %lld</text>",
                      c->year, c->month, y + 15, c->year, c->month, (long long)c->customers);
        for (size_t k = 0; k < c->nretention; k++) {
            double v = c->retention[k];
            int x = 150 + 52 * (int)k;
            sc_buf_printf(b,
                          "<rect x=\"%d\" y=\"%d\" width=\"50\" height=\"24\" rx=\"3\" "
                          "fill=\"#1f6feb\" fill-opacity=\"%.2f\"/><text x=\"%d\" y=\"%d\" "
                          "font-size=\"11\" text-anchor=\"middle\" fill=\"%s\">%.0f%%</text>",
                          x, y, 0.08 + 0.92 * v, x + 25, y + 16, v > 0.5 ? "#fff" : "#1d2129",
                          100 * v);
        }
        sc_buf_puts(b, "</g>");
    }
    sc_buf_puts(b, "</svg>");
}

void sc_customers_dashboard(struct req *r, struct sc_buf *b, const struct sc_scope *scope,
                            int64_t from, int64_t to)
{
    struct snapshot *sn = NULL;
    struct sc_ret_report rep;
    memset(&rep, 0, sizeof(rep));
    struct sc_ret_opts opts = {active_days(), NULL, 0};
    scope_opts(scope, &opts);
    enum sc_err e = snap_get(r->srv->store, &sn);
    if (e == SC_OK)
        e = sc_ret_compute(sn->cs.c, sn->cs.n, sn->b.ord, sn->b.nord, (int32_t)from, (int32_t)to,
                           &opts, &rep);
    sc_ui_html(b, "<h2>Customers and retention</h2>");
    if (e != SC_OK) {
        sc_ui_html(b, "<p class=\"hint\">The customer figures could not be computed now.</p>");
        goto out;
    }
    sc_ui_htmlf(b,
                "<p class=\"hint\">Active: a sign-up or an order in the last %d days. CRR = "
                "(end − new) ÷ start; NDR = the start customers' revenue in the period ÷ in as "
                "many days before.</p>",
                opts.active_days);
    sc_ui_html(b, "<section class=\"tiles\" id=\"retention\">");
    count_tile(b, "customers_start", sc_tr("Active at start"), rep.customers_start);
    count_tile(b, "customers_end", sc_tr("Active at end"), rep.customers_end);
    count_tile(b, "new", sc_tr("New"), rep.new_customers);
    count_tile(b, "retained", sc_tr("Retained"), rep.retained);
    fraction_tile(b, "crr", sc_tr("Retention (CRR)"), rep.has_crr, rep.crr);
    fraction_tile(b, "churn", sc_tr("Churn"), rep.has_churn, rep.churn_rate);
    fraction_tile(b, "ndr", sc_tr("Net revenue retention"), rep.has_ndr, rep.ndr);
    sc_ui_html(b, "</section>");
    struct sc_ret_group *groups = NULL;
    size_t ngroups = 0;
    if (sc_ret_by_member(sn->cs.c, sn->cs.n, sn->b.ord, sn->b.nord, (int32_t)from, (int32_t)to,
                         &opts, &groups, &ngroups) == SC_OK)
        sc_cust_retention_groups(b, r->srv->store, groups, ngroups); /* customers_charts.c */
    free(groups);
    sc_ui_html(b, "<div class=\"two\"><section><h2>Cohorts</h2>");
    if (rep.ncohorts)
        heat_map(b, &rep);
    else
        sc_ui_html(b, "<p class=\"hint\">No sign-ups in this period.</p>");
    sc_cust_crr_chart(b, &rep); /* customers_charts.c */
    sc_ui_html(b, "</section><section><h2>RFM segments</h2><table class=\"t\" id=\"segments\">"
                  "<thead><tr><th>Segment</th><th class=\"n\">Customers</th><th "
                  "class=\"n\">Revenue</th></tr></thead><tbody>");
    struct sc_rfm_segment_stat seg[SC_RFM_NSEGMENTS];
    memset(seg, 0, sizeof(seg));
    /* RFM among every buyer, as the customer list scores them; counted for this scope. */
    size_t k = 0;
    for (size_t i = 0; i < sn->nrfm; i++) { /* both sorted by customer id */
        const struct sc_rfm_row *f = &sn->rfm[i];
        while (k < sn->cs.n && sn->cs.c[k].id < f->customer_id)
            k++;
        if (k < sn->cs.n && sn->cs.c[k].id == f->customer_id && in_scope(&sn->cs.c[k], scope)) {
            seg[f->segment].customers++;
            seg[f->segment].revenue += f->monetary;
        }
    }
    for (int s = 0; s < SC_RFM_NSEGMENTS; s++) {
        const char *name = sc_rfm_segment_name((enum sc_rfm_segment)s);
        sc_buf_printf(b, "<tr data-segment=\"%s\"><td><a href=\"/customers?segment=", name);
        segment_slug(b, name);
        sc_buf_puts(b, "\">");
        sc_ui_text(b, sc_tr(name));
        sc_buf_printf(b, "</a></td><td class=\"n\">%lld</td><td class=\"n\">",
                      (long long)seg[s].customers);
        money(b, seg[s].revenue);
        sc_buf_puts(b, "</td></tr>");
    }
    sc_ui_html(b, "</tbody></table></section></div>");
out:
    sc_ret_report_cleanup(&rep);
    snap_release(sn);
}
