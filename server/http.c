/*
 * http.c — the libmicrohttpd daemon: options and limits, the access handler
 * that gathers a request and hands it to the router, the reply helpers, the
 * access log and a clean shutdown on SIGINT/SIGTERM.
 *
 * libmicrohttpd 0.9.75 adds "Connection: close" when a response is queued on
 * the handler's first call for a request, so we always return MHD_YES on the
 * first call and answer on a later one; this keeps keep-alive working.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_int.h"
#include <sodium.h>

#include "sharecard/escape.h"
#include "sharecard/ingest.h"
#include "sharecard/uap.h"
#include "sharecard/log.h"
#include "sharecard/page.h"
#include "sharecard/store.h"

unsigned http_status_of(enum sc_err e)
{
    switch (e) {
    case SC_OK: return 200;
    case SC_EINVAL: return 400;
    case SC_EFORBIDDEN: return 403;
    case SC_ENOTFOUND: return 404;
    case SC_ECONFLICT: return 409;
    case SC_ETOOBIG: return 413;
    case SC_ENOMEM:
    case SC_EBUSY:
    case SC_EDB:
    case SC_EIO: return 503;
    case SC_EVERSION: return 500;
    }
    return 500;
}

static enum method parse_method(const char *m)
{
    static const struct {
        const char *name;
        enum method m;
    } t[] = {{"GET", M_GET},       {"HEAD", M_HEAD},   {"POST", M_POST},      {"PUT", M_PUT},
             {"DELETE", M_DELETE}, {"PATCH", M_PATCH}, {"OPTIONS", M_OPTIONS}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(m, t[i].name) == 0)
            return t[i].m;
    return M_OTHER;
}

const char *req_header(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *req_arg(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

enum sc_lang req_lang(struct req *r, enum sc_lang dflt)
{
    return sc_lang_accept(req_header(r, MHD_HTTP_HEADER_ACCEPT_LANGUAGE), dflt);
}

void add_security_headers(struct server *s, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "strict-origin-when-cross-origin");
    MHD_add_response_header(resp, "X-Frame-Options", "SAMEORIGIN");
    MHD_add_response_header(resp, "Content-Security-Policy", sc_pages_csp(s->pages));
}

enum MHD_Result reply_response(struct req *r, unsigned status, struct MHD_Response *resp)
{
    r->answered = true;
    r->status = status;
    if (status >= 100 && status < 600)
        atomic_fetch_add(&r->srv->responses[status / 100], 1);
    return MHD_queue_response(r->conn, status, resp);
}

static void free_cb(void *p)
{
    free(p);
}

enum MHD_Result reply_bytes(struct req *r, unsigned status, const char *ctype, struct sc_buf *body)
{
    size_t len = 0;
    char *data = sc_buf_steal(body, &len);
    if (!data) {
        sc_buf_cleanup(body);
        return reply_static(r, 503, "text/plain; charset=utf-8",
                            "Service unavailable: out of memory.\n");
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback(len, data, free_cb);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    add_security_headers(r->srv, resp);
    add_cookie(r, resp);
    r->bytes = len;
    enum MHD_Result ret = reply_response(r, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result reply_static(struct req *r, unsigned status, const char *ctype, const char *text)
{
    size_t len = strlen(text);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    add_security_headers(r->srv, resp);
    r->bytes = len;
    enum MHD_Result ret = reply_response(r, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static bool wants_json(struct req *r)
{
    if (strncmp(r->url, "/api/", 5) == 0)
        return true;
    const char *acc = req_header(r, MHD_HTTP_HEADER_ACCEPT);
    return acc && strstr(acc, "application/json") && !strstr(acc, "text/html");
}

enum MHD_Result reply_error(struct req *r, unsigned status, const char *message)
{
    message = tr(message); /* a signed-in page's language; English elsewhere */
    char stack[4096];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 256 * 1024);
    if (wants_json(r)) {
        sc_buf_printf(&b, "{\"error\":{\"status\":%u,\"message\":\"", status);
        sc_esc_json(&b, message, strlen(message));
        sc_buf_puts(&b, "\"}}\n");
        return reply_bytes(r, status, "application/json", &b);
    }
    sc_page_error(r->srv->pages, status, message, req_lang(r, SC_LANG_EN), &b);
    return reply_bytes(r, status, "text/html; charset=utf-8", &b);
}

enum MHD_Result reply_err(struct req *r, enum sc_err e, const char *message)
{
    unsigned st = http_status_of(e);
    if (!message)
        message = st == 503 ? "The service is busy or its storage failed; please try again."
                            : sc_err_str(e);
    if (st == 503)
        sc_warn("%s %s: %s", r->method_str, r->url, sc_err_str(e));
    return reply_error(r, st, message);
}

enum MHD_Result reply_redirect(struct req *r, unsigned status, const char *location)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    add_security_headers(r->srv, resp);
    add_cookie(r, resp);
    enum MHD_Result ret = reply_response(r, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- the access handler ------------------------------------------------ */

#define DRAIN_MAX ((uint64_t)16 << 20) /* largest oversized body we read to say 413 */

static enum MHD_Result reply_too_big(struct req *r)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "The request body is larger than the %zu bytes allowed.",
             r->max_body);
    return reply_error(r, 413, msg);
}

/* The largest body a request may send: the configured limit, more for an avatar upload. */
static size_t body_limit(const struct server *s, const char *url)
{
    return strcmp(url, "/me/avatar") == 0 ? SC_AVATAR_UPLOAD_MAX : s->cfg->max_body;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct server *s = cls;
    struct req *r = *con_cls;

    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        r->srv = s;
        r->conn = conn;
        r->url = url;
        r->method_str = method;
        r->method = parse_method(method);
        clock_gettime(CLOCK_MONOTONIC, &r->t0);
        r->max_body = body_limit(s, url);
        sc_buf_init(&r->body, r->max_body);
        *con_cls = r;
        atomic_fetch_add(&s->inflight, 1);
        /* Refuse an announced oversized body now, before reading it. */
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > r->max_body) {
            r->body_too_big = true;
            if (strtoull(cl, NULL, 10) > DRAIN_MAX)
                r->received = DRAIN_MAX + 1; /* not worth reading: answer on the next call */
        }
        return MHD_YES; /* answer on a later call: see the comment at the top */
    }
    if (r->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->cont) {
        /* Resumed: the event is durable (or failed); answer now. */
        continuation_fn *k = r->cont;
        r->cont = NULL;
        return k(r);
    }
    if (r->body_too_big && r->received > DRAIN_MAX)
        return reply_too_big(r);
    if (*upload_data_size > 0) {
        /*
         * An oversized body is read and dropped, so that the client, still
         * sending, reads our 413 instead of a reset connection; past
         * DRAIN_MAX we answer at once and let MHD close the connection.
         */
        r->received += *upload_data_size;
        if (!r->body_too_big)
            sc_buf_append(&r->body, upload_data, *upload_data_size);
        if (sc_buf_error(&r->body))
            r->body_too_big = true;
        *upload_data_size = 0;
        if (r->body_too_big && r->received > DRAIN_MAX)
            return reply_too_big(r);
        return MHD_YES;
    }
    if (r->body_too_big)
        return reply_too_big(r);
    enum MHD_Result ret = route_request(r);
    /* Whatever may have changed a card (an edit, a member disabled) drops the cached pages. */
    if (r->method != M_GET && r->method != M_HEAD && strcmp(r->url, "/e") != 0)
        page_cache_forget(s);
    if (!r->answered && !r->cont)
        return reply_error(r, 500, "The request was not answered.");
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct req *r = *con_cls;
    if (!r)
        return;
    if (s->cfg->access_log) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms =
            (double)(t1.tv_sec - r->t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e6;
        char ip[INET6_ADDRSTRLEN] = "-";
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip,
                          sizeof(ip));
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
                          sizeof(ip));
        }
        sc_log(SC_LOG_INFO, "access %s %s %s %u %llu %.2fms%s", ip, r->method_str, r->url,
               r->status, (unsigned long long)r->bytes, ms,
               toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
    }
    /* Waited for its event, which was stored, but the client left before hearing so. */
    if (r->cont && r->ev_done && r->ev_result == SC_OK)
        atomic_fetch_add(&s->unanswered, 1);
    sc_buf_cleanup(&r->body);
    sc_card_cleanup(&r->card);
    free(r->signup);
    free(r->conversion);
    free(r->page);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&s->inflight, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    sc_log(SC_LOG_WARN, "http: %s", msg);
}

/* ---- start and stop ---------------------------------------------------- */

static int build_addr(const struct sc_config *cfg, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    const char *h = cfg->listen_host;
    if (!h[0] || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "*") == 0) {
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_ANY);
        v4->sin_port = htons((uint16_t)cfg->port);
        return AF_INET;
    }
    if (strcmp(h, "localhost") == 0)
        h = "127.0.0.1";
    if (inet_pton(AF_INET, h, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)cfg->port);
        return AF_INET;
    }
    if (inet_pton(AF_INET6, h, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)cfg->port);
        return AF_INET6;
    }
    return -1;
}

int sc_server_run(const struct sc_config *cfg, struct sc_store *store)
{
    int rc = 1;
    struct server s;
    memset(&s, 0, sizeof(s));
    s.cfg = cfg;
    s.store = store;

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

    char err[512];
    s.pages = sc_pages_new(err, sizeof(err));
    if (!s.pages) {
        fprintf(stderr, "sharecard: cannot load the page templates: %s\n", err);
        return 1;
    }
    if (routes_init(&s) != SC_OK || !(s.rl = rl_new())) {
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
    s.live = live_new(store);
    if (!s.live)
        sc_warn("the live feed could not start; /api/v1/live answers 503");
    if (sc_ingest_new(store, s.uap, cfg->queue, &s.ingest) != SC_OK) {
        fprintf(stderr, "sharecard: cannot start the event writer\n");
        goto out;
    }

    struct sockaddr_storage ss;
    int family = build_addr(cfg, &ss);
    if (family < 0) {
        fprintf(stderr, "sharecard: cannot listen on '%s': give an IPv4 or IPv6 address\n",
                cfg->listen_host);
        goto out;
    }

    unsigned threads = cfg->threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s.daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_request, &s, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        threads, MHD_OPTION_CONNECTION_LIMIT, cfg->max_conn, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        cfg->per_ip_conn, MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->conn_memory, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        cfg->backlog, MHD_OPTION_NOTIFY_COMPLETED, on_completed, &s, MHD_OPTION_END);
    if (!s.daemon) {
        fprintf(stderr,
                "sharecard: cannot listen on %s:%u: the address may be in use or not "
                "this machine's\n",
                cfg->listen_host, cfg->port);
        goto out;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s.daemon, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di ? di->port : cfg->port;
    const char *host = cfg->listen_host[0] ? cfg->listen_host : "0.0.0.0";
    bool v6 = strchr(host, ':') != NULL;
    if (cfg->base_url[0])
        snprintf(s.base_url, sizeof(s.base_url), "%s", cfg->base_url);
    else
        snprintf(s.base_url, sizeof(s.base_url), "http://%s%s%s:%u", v6 ? "[" : "", host,
                 v6 ? "]" : "", port);
    s.https = strncmp(s.base_url, "https://", 8) == 0;
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
    MHD_socket lsock = MHD_quiesce_daemon(s.daemon);
    if (lsock != MHD_INVALID_SOCKET)
        close(lsock);
    live_stop(s.live); /* live streams end now; browsers reconnect elsewhere */
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
    MHD_stop_daemon(s.daemon);
    s.daemon = NULL;
    sc_info("stopped");
    rc = 0;
out:
    sc_ingest_free(s.ingest);
    if (s.daemon)
        MHD_stop_daemon(s.daemon);
    live_free(s.live);
    sc_uap_free(s.uap);
    rl_free(s.rl);
    routes_cleanup(&s);
    sc_pages_free(s.pages);
    return rc;
}
