/*
 * ops_int.h — private to server/: the operator's background work that the
 * server starts and stops (retention.c).
 */
#ifndef SHARECARD_OPS_INT_H
#define SHARECARD_OPS_INT_H

#include <stdint.h>

#include "sharecard/err.h"

struct sc_store;
struct sc_retention;

/*
 * SHARECARD_RETENTION_DAYS into '*days' (400 when unset; 0 keeps every
 * event); SC_EINVAL with '*why' (static) for anything but a whole number
 * from 0 to 36500.
 */
enum sc_err sc_retention_days(int64_t *days, const char **why);
/*
 * Starts pruning raw events older than 'days' on 'store' (borrowed; must
 * outlive the thread) in the background; '*out' is new (NULL for 'days'
 * 0: nothing to do); stop it with sc_retention_stop().
 */
enum sc_err sc_retention_start(struct sc_store *store, int64_t days, struct sc_retention **out);
/* Stops the thread (a batch in flight finishes first) and frees 'r'; NULL is a no-op. */
void sc_retention_stop(struct sc_retention *r);

#endif
