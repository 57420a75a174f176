/*
 * webhooks_int.h — private to server/: the webhook dispatcher, which moves
 * due deliveries from the store's outbox to webhook/'s bounded sender and
 * records each attempt, off the HTTP threads.  server.c starts and stops it;
 * /metrics reads its counters; the CLI and /admin/webhooks share the checks
 * of an endpoint's URL and events.
 */
#ifndef SHARECARD_WEBHOOKS_INT_H
#define SHARECARD_WEBHOOKS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sharecard/buf.h"
#include "sharecard/err.h"

struct sc_store;
struct sc_dispatch;

/*
 * Starts the dispatcher on 'store' (borrowed; outlives it): a thread that
 * claims due deliveries about twice a second and a sender of a few delivery
 * threads.  '*out' is new; stop with sc_dispatch_free().  SC_ENOMEM, SC_EIO.
 */
enum sc_err sc_dispatch_new(struct sc_store *store, struct sc_dispatch **out);
/*
 * How long finished deliveries stay in the outbox: SHARECARD_WEBHOOK_KEEP_DAYS
 * (digits only, 0..36500; default 30; 0 keeps them for ever).  SC_EINVAL with
 * the reason in '*why' (static) for anything else.
 */
enum sc_err sc_webhook_keep_days(int64_t *days, const char **why);
/* Stops claiming, aborts attempts in flight (their claims given back) and frees 'd'. NULL: no-op.
 */
void sc_dispatch_free(struct sc_dispatch *d);
/* Appends the webhook lines of /metrics to 'b' ('d' may be NULL: the store's counts only). */
void sc_dispatch_metrics(struct sc_dispatch *d, struct sc_store *store, struct sc_buf *b);

/*
 * Checks a comma-separated list of event types ('in', borrowed; NULL or ""
 * means all of them) and writes it, without repeats, into 'out' of 'size'
 * bytes.  SC_EINVAL with the reason in 'why' (static) for an unknown type.
 */
enum sc_err sc_webhook_events_parse(const char *in, char *out, size_t size, const char **why);

/*
 * Adds an endpoint for 'url' (checked: sc_webhook_url_check() with
 * SHARECARD_WEBHOOK_ALLOW_PRIVATE, which resolves the host and so blocks on
 * DNS) subscribed to 'events' (as sc_webhook_events_parse() takes them);
 * 'secret' gets its new signing secret, '*id' its id.  SC_EINVAL with the
 * reason in 'why' ('why_size' bytes) for a refused URL or event list.
 */
enum sc_err sc_webhook_endpoint_add(struct sc_store *store, const char *url, const char *events,
                                    char *secret, size_t secret_size, int64_t *id, char *why,
                                    size_t why_size);

#endif
