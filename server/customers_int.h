/*
 * customers_int.h — private to server/: customers and their value wired
 * into the service (customers.c): the calendar of SHARECARD_TZ, the
 * BG/NBD + Gamma-Gamma fit run at start, daily and by `sharecard customers
 * fit`, and GET /api/v1/customers.
 */
#ifndef SHARECARD_CUSTOMERS_INT_H
#define SHARECARD_CUSTOMERS_INT_H

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

/* `sharecard customers fit`: the exit status. */
int sc_cli_customers_fit(const struct cli_args *a);

#endif
