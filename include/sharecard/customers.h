/*
 * customers.h — customer analytics as pure computation over plain rows
 * (DESIGN.md §6): retention (active window, CRR, churn, NDR, cohorts), RFM
 * scores and segments, customer value (BG/NBD and Gamma-Gamma fitted by
 * maximum likelihood, P(alive), expected orders, clv_1y), NPS, loyalty
 * tiers and birthdays.  Nothing here reads a store or speaks HTTP: the caller hands in
 * customers and orders as day numbers and amounts, and turns the results
 * into JSON.  Implemented in intel/clv.c, intel/retention.c, intel/rfm.c and
 * intel/tiers.c (and birthdays in intel/birthdays.c).
 *
 * Days are day numbers: days since 1970-01-01 in the deployment's calendar
 * (the caller converts timestamps with SHARECARD_TZ); sc_ret_days_from_civil
 * and sc_ret_civil_from_days convert them to and from Y-M-D.
 */
#ifndef SHARECARD_CUSTOMERS_H
#define SHARECARD_CUSTOMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sharecard/err.h"

/* A customer as the analytics see one. */
struct sc_cust {
    int64_t id;         /* unique among the rows handed in */
    int32_t signup_day; /* day number of the sign-up */
    const char *team;   /* borrowed; the credited member's team, NULL or "" when none */
    int64_t member;     /* the credited member's id, 0 when none */
};

/* One order (a conversion).  Several orders on one day are one "order day". */
struct sc_cust_order {
    int64_t customer_id;
    int32_t day;    /* day number */
    int64_t amount; /* in cents; 0 is a valid order */
};

/* ---- Calendar ----------------------------------------------------------- */

/* Day number (days since 1970-01-01, proleptic Gregorian) of 'y'-'m'-'d'. */
int32_t sc_ret_days_from_civil(int y, int m, int d);
/* The inverse: writes the year, month 1–12 and day 1–31 of day number 'days'. */
void sc_ret_civil_from_days(int32_t days, int *y, int *m, int *d);

/* ---- Retention (intel/retention.c) -------------------------------------- */

#define SC_RET_ACTIVE_DAYS_DEFAULT 90

struct sc_ret_opts {
    int active_days;  /* A; 0 means SC_RET_ACTIVE_DAYS_DEFAULT */
    const char *team; /* borrowed; only customers of this team; NULL = every team */
    int64_t member;   /* only customers credited to this member; 0 = every member */
};

/* One cohort: customers who signed up in a month, and for each later month
 * up to the period's last month, the share of them who ordered in it. */
struct sc_ret_cohort {
    int year, month;   /* the sign-up month */
    int64_t customers; /* > 0: months without sign-ups are left out */
    size_t nretention; /* later months: month + 1 … the month of 'to' */
    double *retention; /* owned by the report; fractions 0–1 */
};

/* CRR of one calendar month of the period (clipped to [from, to]). */
struct sc_ret_month {
    int year, month;
    double crr;
    bool has_crr; /* false when no customer was active on the month's first day */
};

struct sc_ret_report {
    int64_t customers_start;       /* S: active on 'from' */
    int64_t customers_end;         /* E: active on 'to' */
    int64_t new_customers;         /* N: signed up after 'from' up to 'to', active on 'to' */
    int64_t retained;              /* S ∩ E */
    double crr;                    /* (E − N) / S */
    double churn_rate;             /* (S − retained) / S */
    double ndr;                    /* revenue_period / revenue_before */
    bool has_crr;                  /* false when S = 0 (JSON null) */
    bool has_churn;                /* false when S = 0 (JSON null) */
    bool has_ndr;                  /* false when revenue_before = 0 (JSON null) */
    int64_t revenue_period;        /* cents: S's orders in [from, to] */
    int64_t revenue_before;        /* cents: S's orders in [from − n, from − 1] */
    struct sc_ret_cohort *cohorts; /* owned; sign-up months of [from, to], oldest first */
    size_t ncohorts;
    struct sc_ret_month *trend; /* owned; one per calendar month of [from, to] */
    size_t ntrend;
};

/*
 * Computes the retention report of the period ['from', 'to'] (day numbers,
 * both included) over 'customers' and 'orders' (both borrowed, any order;
 * orders of customers not in 'customers' are ignored), with 'opts' (borrowed;
 * NULL for the defaults).  Fills 'out', which the caller releases with
 * sc_ret_report_cleanup().  SC_EINVAL when 'to' < 'from', a customer id
 * repeats or active_days is negative; SC_ENOMEM.
 */
enum sc_err sc_ret_compute(const struct sc_cust *customers, size_t ncustomers,
                           const struct sc_cust_order *orders, size_t norders, int32_t from,
                           int32_t to, const struct sc_ret_opts *opts, struct sc_ret_report *out);
/* Frees what 'r' owns and zeroes it; safe on a zeroed report. */
void sc_ret_report_cleanup(struct sc_ret_report *r);

/* One member's figures of a period: their customers' S, E, N, retained, revenues and ratios,
 * as sc_ret_compute() with opts.member gives them (no cohorts or trend: nothing to free). */
struct sc_ret_group {
    int64_t member;   /* the credited member's id; 0: customers credited to nobody */
    const char *team; /* borrowed from the customer rows; NULL or "" when none */
    struct sc_ret_report r;
};
/*
 * The period ['from', 'to'] of each member whose customers 'opts' wants, in one pass over
 * the customers (a team's figures are the sum of its members': sc_ret_report_add()).
 * '*out' new (free()), '*nout' groups, by member id ascending.  Errors as sc_ret_compute().
 */
enum sc_err sc_ret_by_member(const struct sc_cust *customers, size_t ncustomers,
                             const struct sc_cust_order *orders, size_t norders, int32_t from,
                             int32_t to, const struct sc_ret_opts *opts, struct sc_ret_group **out,
                             size_t *nout);
/* Adds 'b''s counts and revenues to 'a' and sets 'a''s ratios from the sums (cohorts and trend
 * are left alone). */
void sc_ret_report_add(struct sc_ret_report *a, const struct sc_ret_report *b);

/*
 * Net Promoter Score of 'n' survey answers 'answers' (borrowed; each 0–10):
 * 100 × (promoters (9–10) − detractors (0–6)) / n, in points from −100 to
 * 100.  '*defined' is false (JSON null) when n = 0.  SC_EINVAL for an answer
 * outside 0–10.
 */
enum sc_err sc_ret_nps(const int *answers, size_t n, double *nps, bool *defined);

/* ---- RFM (intel/rfm.c) -------------------------------------------------- */

enum sc_rfm_segment {
    SC_RFM_CHAMPIONS = 0,
    SC_RFM_LOYAL,
    SC_RFM_POTENTIAL_LOYALIST,
    SC_RFM_NEW,
    SC_RFM_PROMISING,
    SC_RFM_NEED_ATTENTION,
    SC_RFM_ABOUT_TO_SLEEP,
    SC_RFM_AT_RISK,
    SC_RFM_CANT_LOSE,
    SC_RFM_HIBERNATING,
    SC_RFM_NSEGMENTS
};

struct sc_rfm_row {
    int64_t customer_id;
    int32_t recency;   /* days from the last order day to 'now' */
    int32_t frequency; /* order days */
    int64_t monetary;  /* cents */
    int r, f, m;       /* scores 1–5 */
    enum sc_rfm_segment segment;
};

struct sc_rfm_segment_stat {
    int64_t customers;
    int64_t revenue; /* cents */
};

/*
 * RFM of every customer with an order on or before day 'now' among 'orders'
 * (borrowed; any order; later orders are ignored).  Scores are quintiles
 * among those customers: a customer's score is 1 + ⌊5 × w / n⌋, w = how many
 * customers are strictly worse (longer recency; fewer order days; less
 * revenue), so equal values always share a score, whatever the input order.
 * '*rows' is new, sorted by customer id (free with sc_rfm_free()); '*nrows'
 * may be 0.  SC_ENOMEM.
 */
enum sc_err sc_rfm_compute(const struct sc_cust_order *orders, size_t norders, int32_t now,
                           struct sc_rfm_row **rows, size_t *nrows);
void sc_rfm_free(struct sc_rfm_row *rows); /* NULL is a no-op */

/* The segment of recency score 'r' and frequency score 'f' (1–5 each; clamped). */
enum sc_rfm_segment sc_rfm_segment_of(int r, int f);
/* "champions", "loyal", … as DESIGN.md §6 names them; static storage. */
const char *sc_rfm_segment_name(enum sc_rfm_segment s);
/* Parses a name sc_rfm_segment_name() gives; false if unknown. */
bool sc_rfm_segment_parse(const char *s, enum sc_rfm_segment *out);
/* Customers and revenue per segment of 'rows' (borrowed) into 'stats'. */
void sc_rfm_summarise(const struct sc_rfm_row *rows, size_t nrows,
                      struct sc_rfm_segment_stat stats[SC_RFM_NSEGMENTS]);

/* ---- Customer value (intel/clv.c) --------------------------------------- */

/* A customer's purchase history as BG/NBD and Gamma-Gamma see it, in the
 * caller's time unit (days in the product, weeks for CDNOW). */
struct sc_clv_summary {
    int64_t customer_id;
    double x;    /* repeat transactions (order days after the first) */
    double t_x;  /* time of the last transaction after the first */
    double T;    /* time from the first transaction to now */
    double zbar; /* mean value of the repeat transactions; 0 when x = 0 */
};

struct sc_clv_bgnbd {
    double r, alpha; /* Gamma heterogeneity of the purchase rate */
    double a, b;     /* Beta heterogeneity of the dropout probability */
};

struct sc_clv_gg {
    double p, q, v; /* Gamma-Gamma spend model (Fader, Hardie & Lee 2005) */
};

struct sc_clv_fit_info {
    size_t n;        /* customers in the fit */
    double loglik;   /* total log-likelihood at the optimum */
    double grad_max; /* largest |∂(mean log-likelihood)/∂ log θ| at the optimum */
    int evaluations; /* objective evaluations, restarts included */
    bool converged;  /* the minimiser ended on its tolerance (the gradient's, or
                        the fallback simplex's size with a restart finding
                        nothing better), and grad_max < 1e-4 */
    bool degenerate; /* Gamma-Gamma: the gradient path ended unconverged with q
                        beyond SC_CLV_GG_Q_BOUND (spend barely varies between
                        customers; q runs off to infinity): its best is the
                        answer and the slow fallback is skipped */
};

/* Gamma-Gamma's q past which a fit still climbing counts as degenerate: the
 * customers' mean-spend rates then vary by under 1/√q = 10 %. */
#define SC_CLV_GG_Q_BOUND 100.0

/*
 * Summaries of every customer with an order on or before day 'now' in
 * 'orders' (borrowed; any order; amounts in cents): x = order days after
 * the first, t_x = last − first order day, T = now − first order day, zbar =
 * mean revenue of the repeat order days (the first day left out).  '*out'
 * is new, sorted by customer id; free it with free().  SC_ENOMEM.
 */
enum sc_err sc_clv_summarise(const struct sc_cust_order *orders, size_t norders, int32_t now,
                             struct sc_clv_summary **out, size_t *nout);

/* Log-likelihood of one customer (x, 't_x', 'T') under 'm' (borrowed); NaN
 * for parameters or data outside the model's domain. */
double sc_clv_bgnbd_loglik(const struct sc_clv_bgnbd *m, double x, double t_x, double T);

/*
 * Maximum-likelihood BG/NBD fit over 'c' (borrowed, 'n' customers) with no
 * penalty, over log-parameters from a few starting points: BFGS (GSL
 * vector_bfgs2) on the analytic gradient, then Newton steps, stopping once
 * two starts agree; Nelder-Mead (GSL nmsimplex2, restarted at its optimum
 * until it stops improving) when that does not converge.
 * Writes the parameters to 'out' and, when 'info' is not NULL, how it went.
 * SC_EINVAL for n = 0 or a row outside the model (a negative value,
 * t_x > T); SC_ENOMEM.  A fit that did not converge still returns SC_OK
 * with info->converged false: the caller decides whether to keep the
 * previous fit.
 */
enum sc_err sc_clv_bgnbd_fit(const struct sc_clv_summary *c, size_t n, struct sc_clv_bgnbd *out,
                             struct sc_clv_fit_info *info);

/* P(alive | x, 't_x', 'T'): 1 / (1 + [x > 0] · a/(b + x − 1) · ((α+T)/(α+t_x))^(r+x)).
 * Exactly 1 for x = 0: in BG/NBD a customer can only drop out right after a
 * repeat purchase. */
double sc_clv_p_alive(const struct sc_clv_bgnbd *m, double x, double t_x, double T);

/*
 * Expected transactions in the next 't' time units of a customer with
 * history (x, 't_x', 'T') under 'm' (borrowed), into '*out'.  The Gauss
 * hypergeometric function is evaluated after two Pfaff transformations as
 * 2F1(a−1, a+b−1−r; a+b+x−1; t/(α+T+t)), whose argument stays below 1 and
 * whose parameters do not grow with x, by a series of our own (or, when a
 * and b are so large that this one overflows, the untransformed series,
 * which converges at once there).  SC_EINVAL for arguments outside the
 * domain or a series that does not converge.
 */
enum sc_err sc_clv_expected(const struct sc_clv_bgnbd *m, double x, double t_x, double T, double t,
                            double *out);

/* Log-likelihood of one repeat buyer ('x' > 0 repeat transactions of mean
 * value 'zbar' > 0) under 'm'; NaN outside the domain. */
double sc_clv_gg_loglik(const struct sc_clv_gg *m, double x, double zbar);

/*
 * Maximum-likelihood Gamma-Gamma fit on the rows of 'c' (borrowed) with
 * x > 0 and zbar > 0 (others are skipped: a repeat buyer whose repeat
 * orders were all of amount 0 has no spend to model), as
 * sc_clv_bgnbd_fit() does.  SC_EINVAL when fewer than 2 rows qualify.
 */
enum sc_err sc_clv_gg_fit(const struct sc_clv_summary *c, size_t n, struct sc_clv_gg *out,
                          struct sc_clv_fit_info *info);

/* Expected value of a transaction of a customer with 'x' repeat
 * transactions of mean 'zbar': p(v + x·zbar) / (p·x + q − 1); for x = 0 (or
 * zbar ≤ 0) the population mean v·p/(q − 1).  NaN when q ≤ 1. */
double sc_clv_gg_value(const struct sc_clv_gg *m, double x, double zbar);

/*
 * Undiscounted value over the next 'horizon' time units: expected
 * transactions (sc_clv_expected) × expected transaction value
 * (sc_clv_gg_value) of customer 's' (borrowed).  clv_1y is horizon 365 in
 * days.  SC_EINVAL as sc_clv_expected, or when q ≤ 1.
 */
enum sc_err sc_clv_value(const struct sc_clv_bgnbd *bg, const struct sc_clv_gg *gg,
                         const struct sc_clv_summary *s, double horizon, double *out);

/* ---- Tiers (intel/tiers.c) ---------------------------------------------- */

#define SC_TIERS_MAX     16
#define SC_TIER_NAME_MAX 32

struct sc_tier {
    char name[SC_TIER_NAME_MAX + 1]; /* [a-z0-9_-] or UTF-8 beyond ASCII, 1–32 bytes */
    double threshold;                /* reached at cumulative spend or points ≥ this */
};

struct sc_tiers {
    size_t n;                          /* 0: no tiers configured */
    struct sc_tier tier[SC_TIERS_MAX]; /* thresholds strictly increasing */
};

/*
 * Parses a tier list "silver:1000,gold:5000" ('spec' borrowed; "" or NULL
 * is no tiers) into 'out'.  Thresholds are plain non-negative decimals
 * (digits, optionally '.' and up to 2 more digits, at most 1e12), strictly
 * increasing; names unique.  On SC_EINVAL '*out' holds no tiers and 'err'
 * (may be NULL; 'errlen' bytes) says what is wrong and where.
 */
enum sc_err sc_tier_parse(const char *spec, struct sc_tiers *out, char *err, size_t errlen);
/* The name of the highest tier of 't' whose threshold ≤ 'value'; NULL when
 * none is reached.  Borrowed from 't'. */
const char *sc_tier_of(const struct sc_tiers *t, double value);

/* ---- Birthdays (intel/birthdays.c) -------------------------------------- */

struct sc_birthday {
    int year;  /* 0 when not given */
    int month; /* 1–12; 0: no birthday */
    int day;   /* 1–31 */
};

/*
 * Parses a birthday "MM-DD" or "YYYY-MM-DD" ('s' borrowed) strictly: the day
 * must exist in that month ("02-30" never; "02-29" without a year, or in a
 * leap year), a year from 1900 and not after day number 'today'.  SC_EINVAL
 * with '*why' (static English naming the field) otherwise.
 */
enum sc_err sc_birthday_parse(const char *s, int32_t today, struct sc_birthday *out,
                              const char **why);
/*
 * Does birthday 'b' fall on one of the 'ndays' days from day number 'from'
 * (from, from + 1, … across month and year ends)?  '*on' (may be NULL) gets
 * that day.  A 29 February birthday falls on 28 February in other years.
 */
bool sc_birthday_next(const struct sc_birthday *b, int32_t from, int ndays, int32_t *on);

#endif
