/*
 * http.c — the libmicrohttpd daemon: options and limits, the access handler
 * that gathers a request (its body, within limits) and hands it to the
 * handler the server was started with (the router), resuming a request
 * whose event became durable, the access log, and start and stop.  It
 * knows no route: lower than everything that answers.
 *
 * libmicrohttpd 0.9.75 adds "Connection: close" when a response is queued on
 * the handler's first call for a request, so we always return MHD_YES on the
 * first call and answer on a later one; this keeps keep-alive working.
 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_int.h"
#include "sharecard/ingest.h"
#include "sharecard/log.h"

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

/* ---- the access handler ------------------------------------------------ */

#define DRAIN_MAX ((uint64_t)16 << 20) /* largest oversized body we read to say 413 */

static enum MHD_Result reply_too_big(struct req *r)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "The request body is larger than the %zu bytes allowed.",
             r->max_body);
    return sc_reply_error(r, 413, msg);
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
        static _Thread_local bool batched;
        if (!batched) { /* this MHD thread's first request */
            sc_ingest_thread_batch();
            batched = true;
        }
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
        /*
         * A request whose body could be read two ways (request smuggling), or
         * announces more than we would ever read, is refused now, before a
         * byte of its body is read, and its connection closed: answering on
         * the first call makes MHD drop the rest of the request.
         */
        const char *why = NULL;
        unsigned st = sc_guard_framing(conn, version, DRAIN_MAX, &why);
        if (!st)
            st = sc_guard_sizes(conn, url, &why); /* our 414/431, with our headers */
        if (st) {
            r->close = true;
            return sc_reply_error(r, st, why);
        }
        /* Refuse an announced oversized body now, before keeping it. */
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > r->max_body)
            r->body_too_big = true;
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
    enum MHD_Result ret = s->handle(r);
    if (!r->answered && !r->cont)
        return sc_reply_error(r, 500, "The request was not answered.");
    return ret;
}

/* True for a request id fit to log as given: 1 to 64 of [A-Za-z0-9._-]. */
static bool request_id_ok(const char *v)
{
    size_t n = v ? strlen(v) : 0;
    return n >= 1 && n <= 64 &&
           strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/*
 * The access log's line for 'r': its request id (the client's or a proxy's
 * X-Request-Id when well formed, else this process's start time and a
 * counter), the client's address, method, path, status, bytes and time.
 */
static void log_access(struct MHD_Connection *conn, struct req *r, bool aborted)
{
    static atomic_ullong counter; /* requests logged so far */
    static atomic_llong prefix;   /* the second of the first one: ids differ across restarts */
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t us = (int64_t)(t1.tv_sec - r->t0.tv_sec) * 1000000 +
                 (int64_t)(t1.tv_nsec - r->t0.tv_nsec) / 1000;
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
    const char *given = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    char rid[72];
    if (request_id_ok(given)) {
        snprintf(rid, sizeof(rid), "%s", given);
    } else {
        long long expect = 0;
        atomic_compare_exchange_strong(&prefix, &expect, (long long)time(NULL));
        snprintf(rid, sizeof(rid), "%llx-%llx", (unsigned long long)atomic_load(&prefix),
                 (unsigned long long)atomic_fetch_add(&counter, 1) + 1);
    }
    struct sc_log_access a = {rid, ip, r->method_str, r->url, r->status, r->bytes, us, aborted};
    sc_log_access(&a);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct req *r = *con_cls;
    if (!r)
        return;
    if (s->cfg->access_log)
        log_access(conn, r, toe != MHD_REQUEST_TERMINATED_COMPLETED_OK);
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
    /* A client that went away (a closed tab, a phone losing signal, the live feed
     * left) is normal: debug, not a warning (issue 17). */
    static const char *const gone[] = {"Failed to send",       "Socket disconnected",
                                       "Connection reset",     "Broken pipe",
                                       "closed by the client", "Socket is closed"};
    enum sc_log_level lvl = SC_LOG_WARN;
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
        if (strstr(msg, gone[i]))
            lvl = SC_LOG_DEBUG;
    sc_log(lvl, "http: %s", msg);
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

enum sc_err sc_http_listen(struct server *s, unsigned *port)
{
    const struct sc_config *cfg = s->cfg;
    struct sockaddr_storage ss, bound;
    int family = build_addr(cfg, &ss);
    if (family < 0) {
        fprintf(stderr, "sharecard: cannot listen on '%s': give an IPv4 or IPv6 address\n",
                cfg->listen_host);
        return SC_EINVAL;
    }
    socklen_t len = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    socklen_t blen = sizeof(bound);
    int on = 1;
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) ||
        bind(fd, (const struct sockaddr *)&ss, len) != 0 || listen(fd, (int)cfg->backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
        if (fd >= 0)
            close(fd);
        fprintf(stderr,
                "sharecard: cannot listen on %s:%u: the address may be in use or not "
                "this machine's\n",
                cfg->listen_host, cfg->port);
        return SC_EIO;
    }
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                     : ((struct sockaddr_in *)&bound)->sin_port);
    s->listen_fd = fd;
    return SC_OK;
}

/* Closes connections accepted once shutdown has begun (sc_http_quiesce). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addr;
    (void)addrlen;
    const struct server *s = cls;
    return atomic_load(&s->draining) ? MHD_NO : MHD_YES;
}

enum sc_err sc_http_start(struct server *s, unsigned *nthreads)
{
    const struct sc_config *cfg = s->cfg;
    unsigned threads = cfg->threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    s->daemon = MHD_start_daemon(
        flags, 0, on_accept, s, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, cfg->max_conn, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        cfg->per_ip_conn, MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->conn_memory, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_END);
    if (!s->daemon) {
        close(s->listen_fd);
        s->listen_fd = -1;
        fprintf(stderr, "sharecard: cannot start the HTTP server\n");
        return SC_EIO;
    }
    s->listen_fd = -1; /* MHD's now */
    *nthreads = threads;
    return SC_OK;
}

void sc_http_quiesce(struct server *s)
{
    /*
     * Not MHD_quiesce_daemon(): with epoll and a thread pool, 0.9.75 removes
     * the listening socket from a worker's epoll set in two threads at once
     * and aborts the process when it loses that race ("Failed to remove
     * listen FD from epoll set", a defect open upstream; CI met it). New
     * connections are closed as they are accepted instead (on_accept), and
     * MHD_stop_daemon() closes the socket.
     */
    atomic_store(&s->draining, true);
}

void sc_http_stop(struct server *s)
{
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    if (s->listen_fd >= 0) /* listened but never handed to MHD */
        close(s->listen_fd);
    s->listen_fd = -1;
}
