/*
 * customers_int.h — private to server/: customers and their value wired
 * into the service (customers.c): the calendar of SHARECARD_TZ, the
 * BG/NBD + Gamma-Gamma fit run at start, daily and by `sharecard customers
 * fit`, and GET /api/v1/customers.
 */
#ifndef SHARECARD_CUSTOMERS_INT_H
#define SHARECARD_CUSTOMERS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "sharecard/err.h"
#include "sharecard/store.h"

#include "routes_int.h"

struct cli_args;

/*
 * Makes the process's local time that of SHARECARD_TZ (default UTC) and
 * turns GSL's aborting error handler off.  Call once, before any thread.
 */
void sc_customers_init(void);
/* Says that customers or orders changed (a sign-up, an order): the next
 * customers or retention request reads them afresh. */
void sc_customers_changed(void);
/* The day number (customers.h) of unix time 't' in SHARECARD_TZ. */
int32_t sc_customers_day(int64_t t);
/* The unix time at which day number 'day' begins in SHARECARD_TZ. */
int64_t sc_customers_day_start(int64_t day);

/*
 * Fits BG/NBD and Gamma-Gamma on every order in store 's' as of 'now' and
 * keeps the fit; 'out' (may be NULL) gets it, 'info' (may be NULL) how the
 * BG/NBD fit went.  SC_ENOTFOUND when there is no order yet (nothing kept);
 * SC_EINVAL when the fit failed, with '*why'.
 */
enum sc_err sc_customers_fit(struct sc_store *s, int64_t now, struct sc_clv_fit_row *out,
                             struct sc_clv_fit_info *info, const char **why);

/* The refit thread: fits at once, then every 24 hours of wall-clock time. */
struct sc_fitter;
struct sc_fitter *sc_fitter_start(struct sc_store *s); /* NULL when it could not start */
void sc_fitter_stop(struct sc_fitter *f); /* joins it and the snapshot's rebuild; NULL too */

/* GET /api/v1/customers[?limit=N&segment=S&format=csv] (a token or a session). */
route_fn sc_api_customers;
/* GET /api/v1/retention?from=YYYY-MM-DD&to=YYYY-MM-DD[&team=T&member=ID]: DESIGN §6's figures. */
route_fn sc_api_retention;

/* /customers (the list, a segment filter; at risk and can't lose first for a salesperson)
 * and /customers/{id} (a customer's figures and timeline), signed in. */
route_fn sc_h_customers;
/*
 * The dashboard's customers and retention section for 'scope' over UTC days
 * 'from'..'to', written to 'b': S, E, N, retained, CRR, churn, NDR, the
 * cohort heat map (SVG) and RFM segment counts and revenue.
 */
void sc_customers_dashboard(struct req *r, struct sc_buf *b, const struct sc_scope *scope,
                            int64_t from, int64_t to);

/* The CRR of each calendar month of 'rep' (borrowed) as a bar chart (inline SVG at a
 * fixed scale, a month label under each bar), with its heading; customers_charts.c. */
struct sc_ret_report;
void sc_cust_crr_chart(struct sc_buf *b, const struct sc_ret_report *rep);

/* The period's S, E, N, retained, CRR, churn and NDR per team and per salesperson, from the
 * 'n' member groups 'g' (borrowed; sc_ret_by_member's), salespeople named from the store;
 * customers_charts.c. */
struct sc_ret_group;
void sc_cust_retention_groups(struct sc_buf *b, struct sc_store *s, const struct sc_ret_group *g,
                              size_t n);

/* SHARECARD_TIERS (and SHARECARD_TIERS_BY=points: tiers by points, else by spend), read once. */
struct sc_tiers;
void sc_customers_tiers(struct sc_tiers *out, bool *by_points);

/* ---- the customer's own referral page (referral_own.c) ---- */
/*
 * Whether the request's visitor cookie is that of customer 'customer_id' (they signed up
 * with that browser): the one check of /r/{code} per request, whose answer decides both
 * private blocks (this file's and rewards.c's).  False without a cookie or on any error.
 */
bool sc_referral_viewer_owns(struct req *r, int64_t customer_id);
/*
 * Adds the private part of /r/{code} to 'page' (the rendered public page, changed in
 * place): customer 'owner_customer_id''s points, tier, spend, commissions, the rewards
 * they earned and from whom, their survey.  Call it only for the customer's own browser
 * (sc_referral_viewer_owns).  Strings in 'lang'.
 */
void sc_referral_own(struct req *r, int64_t owner_customer_id, enum sc_lang lang,
                     struct sc_buf *page);
/* A referred person's name as the referrer sees it: the first word of a name with a
 * space ("Carol Smith" → "Carol"), else the first character and "**" ("张三" → "张**"). */
void sc_referral_mask_name(const char *name, struct sc_buf *out);

/* ---- NPS surveys (nps.c) ---- */
/* SHARECARD_NPS_DELAY_DAYS (default 7, 0–365) in seconds: how long after an order its
 * survey opens; read once. */
int64_t sc_nps_delay_s(void);
/* SHARECARD_NPS_MAX_AGE_DAYS (default 90, 0–3650; 0: no limit) in seconds: an order older
 * than this when it is stored (a back-filled one) gets no survey; read once. */
int64_t sc_nps_max_age_s(void);
/* GET|POST /s/{token}: the survey page and its answer (public, no account). */
route_fn sc_h_survey;
/* GET /api/v1/nps?from=&to=[&format=csv]: NPS of the company, teams and salespeople in the
 * caller's scope, and the detractors with their comments. */
route_fn sc_api_nps;
/* Customer 'customer_id''s open survey as a link on their own referral page, into 'b'. */
void sc_nps_own_link(struct req *r, int64_t customer_id, struct sc_buf *b);
/* The dashboard's NPS section for 'scope' over UTC days 'from'..'to'. */
void sc_nps_dashboard(struct req *r, struct sc_buf *b, const struct sc_scope *scope, int64_t from,
                      int64_t to);
/* "Detractors to follow up" of 'scope' over UTC days 'from'..'to' into 'b' (a heading and a
 * table: each detractor's link, score, comment and time, newest first). */
enum sc_err sc_nps_detractors(struct req *r, struct sc_buf *b, const struct sc_scope *scope,
                              int64_t from, int64_t to);
/* The NPS of 'scope''s answers over UTC days 'from'..'to'; '*defined' false with no answer. */
enum sc_err sc_nps_company(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                           int64_t to, double *nps, bool *defined);

/* ---- birthdays (birthdays.c) ---- */
#define SC_BIRTHDAY_WEEK_DAYS 7 /* "this week": today and the six days after it */
struct sc_bdays;
/* The birthdays of 'scope''s customers into '*out' (new; free with sc_bdays_free()). */
enum sc_err sc_bdays_load(struct sc_store *s, const struct sc_scope *scope, struct sc_bdays **out);
void sc_bdays_free(struct sc_bdays *d); /* NULL is a no-op */
/* Customer 'id''s birthday in 'd' as text ("MM-DD" or "YYYY-MM-DD"; "" and false when none),
 * and whether it falls in the week from day number 'today' (on day '*on'; may be NULL). */
bool sc_bdays_of(const struct sc_bdays *d, int64_t id, int32_t today, char text[11], int32_t *on,
                 bool *this_week);

/* `sharecard customers fit`: the exit status. */
int sc_cli_customers_fit(const struct cli_args *a);

#endif
