/*
 * webhook_int.h — what the webhook module's files share and nobody else
 * needs: the URL parse both the add-time check and a delivery use (one parser,
 * so they cannot disagree about the host), libcurl's one-time global set-up,
 * and a delivery on a caller's reusable easy handle (the sender's threads).
 */
#ifndef SHARECARD_WEBHOOK_INT_H
#define SHARECARD_WEBHOOK_INT_H

#include <stdatomic.h>

#include <curl/curl.h>

#include "sharecard/webhook.h"

/* curl_global_init() once per process; false when it failed. */
bool sc_webhook_curl_ready(void);

/*
 * Parses 'url' with libcurl's URL API and checks its shape: http or https, a
 * host, no user or password, no IPv6 zone, at most SC_WEBHOOK_URL_MAX bytes.
 * '*out' returns a new handle (free with curl_url_cleanup()).  SC_EINVAL with
 * the reason in 'why' (may be NULL), SC_ENOMEM.  No name is resolved.
 */
enum sc_err sc_webhook_url_parse(const char *url, CURLU **out, char *why, size_t why_size);

/*
 * One attempt of 'd' on 'h' (borrowed; reset here, its connection cache kept).
 * 'stop' (may be NULL) aborts the transfer once it becomes true.
 */
enum sc_err sc_webhook_deliver_on(CURL *h, const struct sc_webhook_delivery *d,
                                  struct sc_webhook_result *r, const atomic_bool *stop);

#endif
