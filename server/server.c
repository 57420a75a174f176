/*
 * server.c — setting the service up and taking it down: the page
 * templates, caches and static responses, the store's secrets, the live
 * feed and the event writer are made here, before the daemon starts with
 * the router as its handler; on SIGINT/SIGTERM it stops accepting, lets
 * requests in flight finish, commits what is queued and stops.  The one
 * file that knows every part, so that no part calls up to another.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "auth_int.h"
#include "cache_int.h"
#include "customers_int.h"
#include "ops_int.h"
#include "leads_int.h"
#include "llm_int.h"
#include "routes_int.h"
#include "notify_int.h"
#include "webhooks_int.h"
#include "ux_int.h"
#include "sharecard/ingest.h"
#include "sharecard/log.h"
#include "sharecard/page.h"
#include "sharecard/uap.h"

int sc_server_run(const struct sc_config *cfg, struct sc_store *store)
{
    int rc = 1;
    struct server s;
    struct sc_fitter *fitter = NULL;
    struct sc_retention *retention = NULL; /* raw-event retention (retention.c) */
    memset(&s, 0, sizeof(s));
    s.listen_fd = -1;
    s.cfg = cfg;
    s.store = store;
    struct score_daemon *score = NULL;

    /*
     * Signals are taken by sigwait() below.  Block them before any thread
     * starts (the event writer, the live feed, MHD's workers): each inherits
     * the mask, and a thread that did not would die of a SIGTERM meant for us.
     */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    enum sc_log_format log_format;
    if (!sc_log_format_parse(getenv("SHARECARD_LOG_FORMAT"), &log_format)) {
        fprintf(stderr, "sharecard: SHARECARD_LOG_FORMAT must be plain or json\n");
        return 1;
    }
    sc_log_set_format(log_format);
    const char *level = getenv("SHARECARD_LOG_LEVEL"); /* issue 17: debug shows clients leaving */
    if (level && level[0]) {
        static const char *const names[] = {"debug", "info", "warn", "error"};
        size_t k = 0;
        while (k < 4 && strcmp(level, names[k]) != 0)
            k++;
        if (k == 4) {
            fprintf(stderr, "sharecard: SHARECARD_LOG_LEVEL must be debug, info, warn or error\n");
            return 1;
        }
        sc_log_set_level((enum sc_log_level)k);
    }
    int64_t retention_days = 0;
    const char *why = NULL;
    if (sc_retention_days(&retention_days, &why) != SC_OK) {
        fprintf(stderr, "sharecard: %s\n", why);
        return 1;
    }
    int64_t keep_days = 0; /* webhook deliveries: checked here so a bad value stops the start */
    if (sc_webhook_keep_days(&keep_days, &why) != SC_OK) {
        fprintf(stderr, "sharecard: %s\n", why);
        return 1;
    }
    char err[512];
    s.pages = sc_pages_new(err, sizeof(err));
    if (!s.pages) {
        fprintf(stderr, "sharecard: cannot load the page templates: %s\n", err);
        return 1;
    }
    if (sc_ux_pages_configure(s.pages, cfg, &why) != SC_OK) { /* issue 17: consent wording */
        fprintf(stderr, "sharecard: %s\n", why);
        goto out;
    }
    s.handle = sc_router_handle;
    if (sc_cache_new(&s.caches) != SC_OK || sc_static_init(&s) != SC_OK || !(s.rl = sc_rl_new())) {
        fprintf(stderr, "sharecard: out of memory while preparing responses\n");
        goto out;
    }
    char secret[65];
    size_t keylen = 0;
    if (sc_store_secret(store, "visitor", secret) != SC_OK ||
        sodium_hex2bin(s.salt_key, sizeof(s.salt_key), secret, 64, NULL, &keylen, NULL) != 0 ||
        keylen != sizeof(s.salt_key)) {
        fprintf(stderr, "sharecard: cannot read the store's secrets\n");
        goto out;
    }
    if (sc_store_secret(store, "csrf", secret) != SC_OK ||
        sodium_hex2bin(s.csrf_key, sizeof(s.csrf_key), secret, 64, NULL, &keylen, NULL) != 0 ||
        keylen != sizeof(s.csrf_key)) {
        fprintf(stderr, "sharecard: cannot read the store's secrets\n");
        goto out;
    }
    sodium_memzero(secret, sizeof(secret));
    unsigned char rnd[24];
    char rndpw[64];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(rndpw, sizeof(rndpw), rnd, sizeof(rnd));
    if (sc_auth_password_hash(rndpw, s.dummy_hash) != SC_OK) {
        fprintf(stderr, "sharecard: out of memory while preparing sign-in\n");
        goto out;
    }
    char uerr[256];
    if (sc_uap_load(NULL, &s.uap, uerr, sizeof(uerr)) != SC_OK)
        sc_warn("browser families from a built-in table: %s", uerr);
    sc_tz_init(); /* SHARECARD_TZ, read before any thread starts */
    /* SHARECARD_LLM_*: drafts of a lead's message by a model, off unless configured. */
    if (!sc_llm_init())
        goto out;
    s.live = sc_live_new(store);
    if (!s.live)
        sc_warn("the live feed could not start; /api/v1/live answers 503");
    if (sc_ingest_new(store, s.uap, cfg->queue, &s.ingest) != SC_OK) {
        fprintf(stderr, "sharecard: cannot start the event writer\n");
        goto out;
    }
    fitter = sc_fitter_start(store); /* customer value: now, then every 24 hours */
    if (!fitter)
        sc_warn("the customer-value refit thread could not start");
    if (cfg->base_url[0]) /* notifications link to it (issue 18) */
        sc_notify_base_url_set(cfg->base_url);
    /* Webhooks: deliveries left in the outbox by a crash or a restart go out from here. */
    if (sc_dispatch_new(store, &s.hooks) != SC_OK) {
        fprintf(stderr, "sharecard: cannot start the webhook dispatcher\n");
        goto out;
    }

    /*
     * The socket first, so the base URL (which may name the port it got) is
     * written before MHD's workers start and only read by them after.
     */
    unsigned port = 0, threads = 0;
    if (sc_http_listen(&s, &port) != SC_OK)
        goto out;
    const char *host = cfg->listen_host[0] ? cfg->listen_host : "0.0.0.0";
    bool v6 = strchr(host, ':') != NULL;
    sc_config_base_url(cfg, port, s.base_url, sizeof(s.base_url));
    s.https = strncmp(s.base_url, "https://", 8) == 0;
    sc_notify_base_url_set(s.base_url); /* notifications link to it (issue 18) */
    if (sc_http_start(&s, &threads) != SC_OK)
        goto out;
    if (sc_retention_start(store, retention_days, &retention) != SC_OK)
        sc_warn("raw-event retention could not start; old events are kept");
    /* Lead intelligence: the intent model retrains daily (and now if none is stored). */
    if (sc_score_daemon_start(store, &score) != SC_OK)
        sc_warn("the intent model's daily training could not start");
    printf("listening on http://%s%s%s:%u\n", v6 ? "[" : "", host, v6 ? "]" : "", port);
    fflush(stdout);
    sc_info("sharecard %s serving %s (base URL %s, %u threads)", SC_VERSION, cfg->db, s.base_url,
            threads);

    int sig = 0;
    sigwait(&sigs, &sig);
    sc_info("received %s: finishing requests in flight", sig == SIGINT ? "SIGINT" : "SIGTERM");

    /*
     * Stop accepting, give requests in flight up to 10 s, then stop (idle
     * keep-alive connections are simply closed).
     */
    sc_http_quiesce(&s);
    sc_retention_stop(retention);
    retention = NULL;
    sc_score_daemon_stop(score);
    score = NULL;
    sc_live_stop(s.live); /* live streams end now; browsers reconnect elsewhere */
    for (int i = 0; i < 100; i++) {
        if (atomic_load(&s.inflight) == 0)
            break;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    /* Commit whatever is queued (resuming its requests), then stop. */
    struct sc_ingest_stats is;
    sc_ingest_stats(s.ingest, &is);
    sc_info("events stored: %llu in %llu transactions; %llu failed, %llu refused (queue full)",
            (unsigned long long)is.committed, (unsigned long long)is.batches,
            (unsigned long long)is.failed, (unsigned long long)is.rejected);
    sc_ingest_free(s.ingest);
    s.ingest = NULL;
    sc_http_stop(&s);
    sc_dispatch_free(s.hooks); /* attempts in flight are given back to the outbox */
    s.hooks = NULL;
    sc_llm_stop(); /* drafts asked for in the background */
    sc_info("stopped");
    rc = 0;
out:
    sc_fitter_stop(fitter);
    sc_retention_stop(retention);
    sc_score_daemon_stop(score);
    sc_ingest_free(s.ingest);
    sc_http_stop(&s);
    sc_dispatch_free(s.hooks);
    sc_live_free(s.live);
    sc_llm_stop();
    sc_uap_free(s.uap);
    sc_rl_free(s.rl);
    sc_static_cleanup(&s);
    sc_cache_free(s.caches);
    sc_pages_free(s.pages);
    return rc;
}
