/*
 * cli_webhooks.c — `sharecard webhook add|list|remove` (DESIGN.md §10):
 * add prints the new signing secret, one line, and nothing else (it is
 * shown once); list prints one endpoint per line, tab-separated, without
 * secrets; remove stops an endpoint and cancels what it still had to get.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sharecard/store.h"
#include "sharecard/webhook.h"

#include "cli_int.h"
#include "webhooks_int.h"

int sc_cli_webhook_add(const struct cli_args *a)
{
    const char *url = sc_cli_arg(a, "url"), *events = sc_cli_arg(a, "events");
    if (!url || !url[0])
        return sc_cli_usage_error(a->cmd->usage, "--url is required");
    struct sc_store *s = sc_cli_open_store(a->db);
    if (!s)
        return 1;
    char secret[SC_WEBHOOK_SECRET_SIZE], why[SC_WEBHOOK_ERROR_SIZE] = "";
    int64_t id = 0;
    int rc = 0;
    if (sc_webhook_endpoint_add(s, url, events, secret, sizeof(secret), &id, why, sizeof(why)) !=
        SC_OK) {
        rc = sc_cli_fail("webhook refused: %s", why);
    } else {
        char target[32];
        snprintf(target, sizeof(target), "webhook:%lld", (long long)id);
        sc_store_audit(s, "cli", "webhook.add", target, url);
        puts(secret);
    }
    sodium_memzero(secret, sizeof(secret));
    sc_store_close(s);
    return rc;
}

static int list_row(const struct sc_webhook_row *w, void *ctx)
{
    (void)ctx;
    char when[32];
    time_t t = (time_t)w->created_at;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%lld\t%s\t%s\t%s\n", (long long)w->id, w->url, w->events, when);
    return 0;
}

int sc_cli_webhook_list(const struct cli_args *a)
{
    struct sc_store *s = sc_cli_open_store(a->db);
    if (!s)
        return 1;
    enum sc_err e = sc_store_webhook_list(s, list_row, NULL);
    sc_store_close(s);
    return e == SC_OK ? 0 : sc_cli_fail("could not list the webhooks: %s", sc_err_str(e));
}

int sc_cli_webhook_remove(const struct cli_args *a)
{
    if (a->npos < 1)
        return sc_cli_usage_error(a->cmd->usage, "which webhook? give its ID");
    char *end;
    long long id = strtoll(a->pos[0], &end, 10);
    if (*end || id <= 0)
        return sc_cli_usage_error(a->cmd->usage, "the ID is a positive number");
    struct sc_store *s = sc_cli_open_store(a->db);
    if (!s)
        return 1;
    enum sc_err e = sc_store_webhook_remove(s, id, (int64_t)time(NULL));
    int rc = 0;
    if (e == SC_ENOTFOUND) {
        rc = sc_cli_fail("there is no webhook %lld", id);
    } else if (e != SC_OK) {
        rc = sc_cli_fail("could not remove the webhook: %s", sc_err_str(e));
    } else {
        char target[32];
        snprintf(target, sizeof(target), "webhook:%lld", id);
        sc_store_audit(s, "cli", "webhook.remove", target, "");
    }
    sc_store_close(s);
    return rc;
}
