/*
 * intel_int.h — private to intel/: what the customer-value files share.
 */
#ifndef SHARECARD_INTEL_INT_H
#define SHARECARD_INTEL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sharecard/customers.h"

/*
 * The orders of 'orders' ('norders', borrowed) made on or before day 'now',
 * sorted by customer, then day: '*out' is new (free()), NULL with '*n' 0 when
 * there are none.  SC_ENOMEM when memory ran out.  (clv.c)
 */
enum sc_err sc_cust_orders_until(const struct sc_cust_order *orders, size_t norders, int32_t now,
                                 struct sc_cust_order **out, size_t *n);

#endif
