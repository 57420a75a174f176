/*
 * test_webhook_net.c — deliveries over a real socket.  A tiny HTTP receiver
 * runs on a thread on 127.0.0.1 (port 0), records what arrives and answers as
 * each test tells it: 200, 500, never, 10 MB, slowly, a redirect.  The
 * deliveries and the sender speak to it with libcurl as they would to a
 * customer's endpoint, with short timeouts so the suite stays quick.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sharecard/webhook.h"

enum mode {
    ANSWER_200,      /* 200 "ok" */
    ANSWER_500,      /* 500 "oops" */
    ANSWER_NEVER,    /* reads the request, then says nothing */
    ANSWER_HUGE,     /* 500 with 10 MB of body, no length: ends when the client leaves */
    ANSWER_HUGE_LEN, /* 200 announcing a 10 MB body */
    ANSWER_SLOW,     /* 200 after 300 ms */
    ANSWER_REDIRECT, /* 302 to another path */
};

#define HEAD_MAX (16 * 1024)
#define BODY_MAX (256 * 1024)

struct receiver {
    int fd;
    int port;
    pthread_t thread;
    atomic_bool stop;
    atomic_int mode;        /* an enum mode: how to answer the next request */
    atomic_bool keep_alive; /* answer 200s without closing the connection */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int connections; /* accepted */
    int requests;    /* read completely */
    char head[HEAD_MAX];
    size_t head_len;
    char body[BODY_MAX + 1];
    size_t body_len;
};

/* strstr ignoring ASCII case ('needle' in lower case); strcasestr is a GNU extension. */
static const char *find_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

/* Waits until 'fd' is readable; false when stopping or after 'ms'. */
static bool wait_readable(struct receiver *rc, int fd, int ms)
{
    for (int waited = 0; waited < ms && !atomic_load(&rc->stop); waited += 20) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 20) > 0)
            return true;
    }
    return false;
}

static void sleep_ms(long ms)
{
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads one request from 'fd' into the record; false when the client left. */
static bool read_request(struct receiver *rc, int fd)
{
    char head[HEAD_MAX];
    size_t len = 0, body_len, have;
    char *end = NULL, *body;
    const char *cl;

    while (!end) {
        ssize_t n;
        if (len >= sizeof(head) - 1 || !wait_readable(rc, fd, 10000))
            return false;
        n = recv(fd, head + len, sizeof(head) - 1 - len, 0);
        if (n <= 0)
            return false;
        len += (size_t)n;
        head[len] = '\0';
        end = strstr(head, "\r\n\r\n");
    }
    body = malloc(BODY_MAX + 1);
    if (!body)
        return false;
    body_len = 0;
    cl = find_ci(head, "\r\ncontent-length:");
    if (cl)
        body_len = strtoul(cl + 17, NULL, 10);
    if (body_len > BODY_MAX)
        body_len = BODY_MAX;
    have = len - (size_t)(end + 4 - head);
    if (have > body_len)
        have = body_len;
    memcpy(body, end + 4, have);
    while (have < body_len) {
        ssize_t n;
        if (!wait_readable(rc, fd, 10000) || (n = recv(fd, body + have, body_len - have, 0)) <= 0)
            break;
        have += (size_t)n;
    }
    pthread_mutex_lock(&rc->mu);
    rc->head_len = (size_t)(end + 4 - head);
    memcpy(rc->head, head, rc->head_len);
    rc->head[rc->head_len] = '\0';
    memcpy(rc->body, body, have);
    rc->body[have] = '\0';
    rc->body_len = have;
    rc->requests++;
    pthread_cond_broadcast(&rc->cv);
    pthread_mutex_unlock(&rc->mu);
    free(body);
    return true;
}

/* Answers on 'fd' as the mode says; false when the connection should close. */
static bool answer(struct receiver *rc, int fd)
{
    static const char ok_close[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                   "Connection: close\r\n\r\nok";
    static const char ok_keep[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    char chunk[64 * 1024];
    enum mode mode = (enum mode)atomic_load(&rc->mode);
    switch (mode) {
    case ANSWER_200:
        if (atomic_load(&rc->keep_alive))
            return send_all(fd, ok_keep, sizeof(ok_keep) - 1);
        send_all(fd, ok_close, sizeof(ok_close) - 1);
        return false;
    case ANSWER_500: {
        static const char e[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n"
                                "Connection: close\r\n\r\noops";
        send_all(fd, e, sizeof(e) - 1);
        return false;
    }
    case ANSWER_NEVER:
        /* Hold the connection until the client gives up. */
        while (wait_readable(rc, fd, 60000) && recv(fd, chunk, sizeof(chunk), 0) > 0)
            ;
        return false;
    case ANSWER_HUGE:
    case ANSWER_HUGE_LEN: {
        /* One ASCII byte, then two-byte characters: byte 1024 falls inside one. */
        const char *h = mode == ANSWER_HUGE
                            ? "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\na"
                            : "HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n\r\na";
        for (size_t i = 0; i + 1 < sizeof(chunk); i += 2)
            memcpy(chunk + i, "\xc3\xa9", 2); /* é */
        if (!send_all(fd, h, strlen(h)))
            return false;
        for (size_t sent = 0; sent < ((size_t)10 << 20) && !atomic_load(&rc->stop);
             sent += sizeof(chunk))
            if (!send_all(fd, chunk, sizeof(chunk)))
                break;
        return false;
    }
    case ANSWER_SLOW:
        sleep_ms(300);
        send_all(fd, ok_close, sizeof(ok_close) - 1);
        return false;
    case ANSWER_REDIRECT: {
        static const char r[] = "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n"
                                "Content-Length: 0\r\nConnection: close\r\n\r\n";
        send_all(fd, r, sizeof(r) - 1);
        return false;
    }
    }
    return false;
}

static void *receiver_main(void *arg)
{
    struct receiver *rc = arg;
    while (!atomic_load(&rc->stop)) {
        int fd;
        if (!wait_readable(rc, rc->fd, 100))
            continue;
        fd = accept(rc->fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&rc->mu);
        rc->connections++;
        pthread_mutex_unlock(&rc->mu);
        while (read_request(rc, fd) && answer(rc, fd))
            ;
        close(fd);
    }
    return NULL;
}

static struct receiver *receiver_start(enum mode mode)
{
    struct receiver *rc = calloc(1, sizeof(*rc));
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    assert_non_null(rc);
    atomic_init(&rc->mode, (int)mode);
    atomic_init(&rc->keep_alive, false);
    atomic_init(&rc->stop, false);
    pthread_mutex_init(&rc->mu, NULL);
    pthread_cond_init(&rc->cv, NULL);
    rc->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(rc->fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(rc->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(rc->fd, 16), 0);
    assert_int_equal(getsockname(rc->fd, (struct sockaddr *)&a, &alen), 0);
    rc->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&rc->thread, NULL, receiver_main, rc), 0);
    return rc;
}

static void receiver_stop(struct receiver *rc)
{
    atomic_store(&rc->stop, true);
    pthread_join(rc->thread, NULL);
    close(rc->fd);
    pthread_cond_destroy(&rc->cv);
    pthread_mutex_destroy(&rc->mu);
    free(rc);
}

/* Waits up to 'ms' for 'n' requests; returns how many arrived. */
static int receiver_wait(struct receiver *rc, int n, int ms)
{
    struct timespec until;
    int got;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&rc->mu);
    while (rc->requests < n && pthread_cond_timedwait(&rc->cv, &rc->mu, &until) == 0)
        ;
    got = rc->requests;
    pthread_mutex_unlock(&rc->mu);
    return got;
}

static int receiver_connections(struct receiver *rc)
{
    int n;
    pthread_mutex_lock(&rc->mu);
    n = rc->connections;
    pthread_mutex_unlock(&rc->mu);
    return n;
}

/* The value of header 'name' in the recorded request, copied into 'out'. */
static const char *header(struct receiver *rc, const char *name, char *out, size_t size)
{
    char want[64];
    const char *p, *e;
    snprintf(want, sizeof(want), "\r\n%s:", name);
    pthread_mutex_lock(&rc->mu);
    p = find_ci(rc->head, want);
    if (!p) {
        pthread_mutex_unlock(&rc->mu);
        return NULL;
    }
    p += strlen(want);
    while (*p == ' ')
        p++;
    e = strstr(p, "\r\n");
    snprintf(out, size, "%.*s", (int)(e - p), p);
    pthread_mutex_unlock(&rc->mu);
    return out;
}

/* A delivery of a fresh message to 'path' on 'rc'; the strings live in 'm'. */
struct message {
    char url[128];
    char secret[SC_WEBHOOK_SECRET_SIZE];
    char id[SC_WEBHOOK_ID_SIZE];
    char *body;
    struct sc_webhook_delivery d;
};

static void message_init(struct message *m, const char *host, struct receiver *rc,
                         bool allow_private)
{
    size_t len;
    memset(m, 0, sizeof(*m));
    snprintf(m->url, sizeof(m->url), "http://%s:%d/hooks/sharecard", host, rc->port);
    assert_int_equal(sc_webhook_secret_new(m->secret, sizeof(m->secret)), SC_OK);
    sc_webhook_id_new(m->id);
    assert_int_equal(sc_webhook_body("signup.created", (int64_t)time(NULL),
                                     "{\"customer_id\":42,\"name\":\"张三\"}", &m->body, &len),
                     SC_OK);
    m->d.url = m->url;
    m->d.secret = m->secret;
    m->d.id = m->id;
    m->d.body = m->body;
    m->d.body_len = len;
    m->d.allow_private = allow_private;
    m->d.connect_timeout_ms = 2000;
    m->d.timeout_ms = 5000;
}

static void message_cleanup(struct message *m)
{
    free(m->body);
}

/* A delivery arrives with the three headers, and its signature verifies. */
static void test_delivered_and_signed(void **state)
{
    (void)state;
    struct receiver *rc = receiver_start(ANSWER_200);
    struct message m;
    struct sc_webhook_result r;
    char v[256], ts_text[32], sig[256];
    int64_t now = (int64_t)time(NULL);

    message_init(&m, "127.0.0.1", rc, true);
    /* A proxy in the environment is not used: the guard must see the real peer. */
    setenv("http_proxy", "http://192.0.2.1:3128", 1);
    setenv("all_proxy", "http://192.0.2.1:3128", 1);
    assert_int_equal(sc_webhook_deliver(&m.d, &r), SC_OK);
    unsetenv("http_proxy");
    unsetenv("all_proxy");
    assert_true(r.ok);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.error, "");
    assert_string_equal(r.excerpt, "ok");
    assert_false(r.refused || r.timed_out || r.cut || r.cancelled);
    assert_int_equal(receiver_wait(rc, 1, 1000), 1);

    assert_int_equal(strncmp(rc->head, "POST /hooks/sharecard HTTP/1.1\r\n", 32), 0);
    assert_string_equal(header(rc, "content-type", v, sizeof(v)), "application/json");
    assert_string_equal(header(rc, "webhook-id", v, sizeof(v)), m.id);
    assert_non_null(header(rc, "user-agent", v, sizeof(v)));
    assert_int_equal(strncmp(v, "sharecard-webhooks/", 19), 0);
    assert_non_null(header(rc, "webhook-timestamp", ts_text, sizeof(ts_text)));
    int64_t ts = strtoll(ts_text, NULL, 10);
    assert_in_range(ts, now - 5, now + 5);
    assert_non_null(header(rc, "webhook-signature", sig, sizeof(sig)));
    assert_int_equal(strncmp(sig, "v1,", 3), 0);
    assert_int_equal(rc->body_len, m.d.body_len);
    assert_memory_equal(rc->body, m.body, m.d.body_len);
    /* As a receiver would check it: over what arrived, with the secret. */
    assert_true(sc_webhook_verify(m.secret, m.id, ts, rc->body, rc->body_len, sig));
    assert_null(header(rc, "expect", v, sizeof(v)));

    /* A given timestamp is the one sent and signed. */
    m.d.timestamp = 1614265330;
    assert_int_equal(sc_webhook_deliver(&m.d, &r), SC_OK);
    assert_int_equal(receiver_wait(rc, 2, 1000), 2);
    assert_string_equal(header(rc, "webhook-timestamp", ts_text, sizeof(ts_text)), "1614265330");
    assert_string_equal(header(rc, "webhook-id", v, sizeof(v)), m.id);
    header(rc, "webhook-signature", sig, sizeof(sig));
    assert_true(sc_webhook_verify(m.secret, m.id, 1614265330, rc->body, rc->body_len, sig));

    message_cleanup(&m);
    receiver_stop(rc);
}

static void test_500_is_not_ok(void **state)
{
    (void)state;
    struct receiver *rc = receiver_start(ANSWER_500);
    struct message m;
    struct sc_webhook_result r;
    message_init(&m, "127.0.0.1", rc, true);
    assert_int_equal(sc_webhook_deliver(&m.d, &r), SC_OK);
    assert_false(r.ok);
    assert_int_equal(r.status, 500);
    assert_string_equal(r.error, "HTTP 500");
    assert_string_equal(r.excerpt, "oops");
    message_cleanup(&m);
    receiver_stop(rc);
}

static void test_slow_receiver_within_timeout(void **state)
{
    (void)state;
    struct receiver *rc = receiver_start(ANSWER_SLOW);
    struct message m;
    struct sc_webhook_result r;
    message_init(&m, "127.0.0.1", rc, true);
    assert_int_equal(sc_webhook_deliver(&m.d, &r), SC_OK);
    assert_true(r.ok);
    assert_in_range(r.latency_ms, 250, 4900);
    message_cleanup(&m);
    receiver_stop(rc);
}

/* A receiver that never answers costs the timeout, no more. */
static void test_never_answers_times_out(void **state)
{
    (void)state;
    struct receiver *rc = receiver_start(ANSWER_NEVER);
    struct message m;
    struct sc_webhook_result r;
    message_init(&m, "127.0.0.1", rc, true);
    m.d.timeout_ms = 500;
    assert_int_equal(sc_webhook_deliver(&m.d, &r), SC_OK);
    assert_false(r.ok);
    assert_true(r.timed_out);
    assert_int_equal(r.status, 0);
    assert_in_range(r.latency_ms, 450, 3000); /* 0.5 s, give or take a loaded machine */
    assert_non_null(strstr(r.error, "imed out"));
    assert_int_equal(receiver_wait(rc, 1, 1000), 1); /* it did arrive */
    message_cleanup(&m);
    receiver_stop(rc);
}

static bool valid_utf8(const char *s)
{
    char copy[SC_WEBHOOK_EXCERPT_MAX + 1];
    size_t n = strlen(s);
    return sc_webhook_excerpt(s, n, copy, sizeof(copy)) == n && memcmp(copy, s, n) == 0;
}

/* 10 MB of answer: read no further than the limit; keep 1 KiB of it, whole characters. */
static void test_huge_response_cut(void **state)
{
    (void)state;
    static const enum mode modes[] = {ANSWER_HUGE, ANSWER_HUGE_LEN};
    for (size_t i = 0; i < 2; i++) {
        struct receiver *rc = receiver_start(modes[i]);
        struct message m;
        struct sc_webhook_result r;
        message_init(&m, "127.0.0.1", rc, true);
        m.d.timeout_ms = 5000;
        assert_int_equal(sc_webhook_deliver(&m.d, &r), SC_OK);
        assert_true(r.cut);
        assert_false(r.timed_out);
        assert_true(r.latency_ms < 4000);
        assert_true(strlen(r.excerpt) <= SC_WEBHOOK_EXCERPT_MAX);
        assert_true(valid_utf8(r.excerpt));
        if (modes[i] == ANSWER_HUGE) {
            /* 'a' then 511 whole 'é': byte 1024 was half a character. */
            assert_int_equal(strlen(r.excerpt), 1023);
            assert_int_equal(strncmp(r.excerpt, "a\xc3\xa9\xc3\xa9", 5), 0);
            assert_int_equal(r.status, 500);
            assert_false(r.ok);
            assert_non_null(strstr(r.error, "cut"));
        } else {
            /* Announced too long: refused before reading the body; the 200 still counts. */
            assert_int_equal(r.status, 200);
            assert_true(r.ok);
        }
        message_cleanup(&m);
        receiver_stop(rc);
    }
}

static void test_redirect_not_followed(void **state)
{
    (void)state;
    struct receiver *rc = receiver_start(ANSWER_REDIRECT);
    struct message m;
    struct sc_webhook_result r;
    message_init(&m, "127.0.0.1", rc, true);
    assert_int_equal(sc_webhook_deliver(&m.d, &r), SC_OK);
    assert_false(r.ok);
    assert_int_equal(r.status, 302);
    sleep_ms(200);
    assert_int_equal(receiver_wait(rc, 2, 100), 1); /* nobody came to /elsewhere */
    assert_int_equal(receiver_connections(rc), 1);
    message_cleanup(&m);
    receiver_stop(rc);
}

/*
 * Loopback refused without allow_private, at add time and at connect time:
 * the delivery does no look-up of its own beforehand, so here it is the check
 * as curl opens the socket that stops it (as it would a DNS-rebound name).
 */
static void test_guard_at_connect(void **state)
{
    (void)state;
    static const char *const hosts[] = {"127.0.0.1", "localhost", "127.0.0.2", "[::1]",
                                        "[::ffff:127.0.0.1]"};
    struct receiver *rc = receiver_start(ANSWER_200);
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        struct message m;
        struct sc_webhook_result r;
        char why[256];
        message_init(&m, hosts[i], rc, false);
        assert_int_equal(sc_webhook_url_check(m.url, false, why, sizeof(why)), SC_EINVAL);
        assert_int_equal(sc_webhook_deliver(&m.d, &r), SC_OK);
        assert_false(r.ok);
        assert_true(r.refused);
        assert_int_equal(r.status, 0);
        if (!strstr(r.error, "refused connecting to") || !strstr(r.error, "loopback"))
            fail_msg("%s: error \"%s\"", hosts[i], r.error);
        message_cleanup(&m);
    }
    /* 0.0.0.0 reaches this machine on Linux: never allowed, even with private networks. */
    {
        struct message m;
        struct sc_webhook_result r;
        message_init(&m, "0.0.0.0", rc, true);
        assert_int_equal(sc_webhook_deliver(&m.d, &r), SC_OK);
        assert_false(r.ok);
        assert_true(r.refused);
        assert_non_null(strstr(r.error, "unspecified"));
        message_cleanup(&m);
    }
    sleep_ms(100);
    assert_int_equal(receiver_connections(rc), 0); /* not even a connection */
    /* The same receiver with private networks allowed: accepted at add, delivered. */
    struct message m;
    struct sc_webhook_result r;
    message_init(&m, "127.0.0.1", rc, true);
    assert_int_equal(sc_webhook_url_check(m.url, true, NULL, 0), SC_OK);
    assert_int_equal(sc_webhook_deliver(&m.d, &r), SC_OK);
    assert_true(r.ok);
    assert_int_equal(receiver_wait(rc, 1, 1000), 1);
    message_cleanup(&m);
    receiver_stop(rc);
}

static void test_undeliverable_input(void **state)
{
    (void)state;
    struct receiver *rc = receiver_start(ANSWER_200);
    struct message m;
    struct sc_webhook_result r;
    message_init(&m, "127.0.0.1", rc, true);

    m.d.secret = "whsec_short";
    assert_int_equal(sc_webhook_deliver(&m.d, &r), SC_EINVAL);
    assert_non_null(strstr(r.error, "secret"));
    m.d.secret = m.secret;
    m.d.id = "msg_x\r\nx-evil: 1";
    assert_int_equal(sc_webhook_deliver(&m.d, &r), SC_EINVAL);
    m.d.id = m.id;
    m.d.url = "ftp://127.0.0.1/";
    assert_int_equal(sc_webhook_deliver(&m.d, &r), SC_EINVAL);
    assert_non_null(strstr(r.error, "http"));
    m.d.url = "http://u:p@127.0.0.1/";
    assert_int_equal(sc_webhook_deliver(&m.d, &r), SC_EINVAL);
    m.d.url = m.url;
    char *big = calloc(1, SC_WEBHOOK_BODY_MAX + 2);
    assert_non_null(big);
    m.d.body = big;
    m.d.body_len = SC_WEBHOOK_BODY_MAX + 1;
    assert_int_equal(sc_webhook_deliver(&m.d, &r), SC_ETOOBIG);
    free(big);
    assert_int_equal(receiver_wait(rc, 1, 100), 0);
    message_cleanup(&m);
    receiver_stop(rc);
}

/* What a sender's 'done' saw; shared with its threads. */
struct tally {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, ok, cancelled, refused;
    char last_error[SC_WEBHOOK_ERROR_SIZE];
};

static void tally_init(struct tally *t)
{
    memset(t, 0, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
}

static void tally_cleanup(struct tally *t)
{
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
}

static void on_done(const struct sc_webhook_delivery *d, const struct sc_webhook_result *r,
                    void *ctx)
{
    struct tally *t = ctx;
    (void)d;
    pthread_mutex_lock(&t->mu);
    t->done++;
    t->ok += r->ok;
    t->cancelled += r->cancelled;
    t->refused += r->refused;
    snprintf(t->last_error, sizeof(t->last_error), "%s", r->error);
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

static int tally_wait(struct tally *t, int n)
{
    int got;
    pthread_mutex_lock(&t->mu);
    while (t->done < n)
        pthread_cond_wait(&t->cv, &t->mu);
    got = t->done;
    pthread_mutex_unlock(&t->mu);
    return got;
}

/* Submits return at once; every attempt is made on the sender's threads and counted. */
static void test_sender_delivers(void **state)
{
    (void)state;
    struct receiver *rc = receiver_start(ANSWER_200);
    struct sc_webhook_sender *s = NULL;
    struct sc_webhook_stats st;
    struct tally t;
    struct message m[6];

    tally_init(&t);
    assert_int_equal(sc_webhook_sender_new(2, 16, &s), SC_OK);
    for (int i = 0; i < 6; i++) {
        message_init(&m[i], "127.0.0.1", rc, true);
        m[i].d.attempt = i % 2; /* every other one a retry */
        assert_int_equal(sc_webhook_sender_submit(s, &m[i].d, on_done, &t), SC_OK);
        message_cleanup(&m[i]); /* the sender holds its own copy */
        memset(&m[i], 0, sizeof(m[i]));
    }
    assert_int_equal(tally_wait(&t, 6), 6);
    assert_int_equal(t.ok, 6);
    sc_webhook_sender_stats(s, &st);
    assert_int_equal(st.delivered, 6);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.retried, 3);
    assert_int_equal(st.rejected, 0);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(st.queued, 0);
    assert_int_equal(receiver_wait(rc, 6, 1000), 6);

    /* Failures are counted as such. */
    atomic_store(&rc->mode, ANSWER_500);
    message_init(&m[0], "127.0.0.1", rc, true);
    assert_int_equal(sc_webhook_sender_submit(s, &m[0].d, on_done, &t), SC_OK);
    assert_int_equal(tally_wait(&t, 7), 7);
    sc_webhook_sender_stats(s, &st);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.delivered, 6);

    /* Draining makes what is still queued before it returns. */
    atomic_store(&rc->mode, ANSWER_200);
    for (int i = 0; i < 4; i++)
        assert_int_equal(sc_webhook_sender_submit(s, &m[0].d, on_done, &t), SC_OK);
    sc_webhook_sender_free(s, true);
    assert_int_equal(t.done, 11);
    assert_int_equal(t.ok, 10);
    assert_int_equal(t.cancelled, 0);
    message_cleanup(&m[0]);
    tally_cleanup(&t);
    receiver_stop(rc);
    sc_webhook_sender_free(NULL, true);
}

/* A stuck receiver fills the queue: submits are refused, never blocked; free cancels. */
static void test_sender_queue_full(void **state)
{
    (void)state;
    struct receiver *rc = receiver_start(ANSWER_NEVER);
    struct sc_webhook_sender *s = NULL;
    struct sc_webhook_stats st;
    struct tally t;
    struct message m;
    struct timespec t0, t1;

    tally_init(&t);
    message_init(&m, "127.0.0.1", rc, true);
    m.d.timeout_ms = 10000;
    assert_int_equal(sc_webhook_sender_new(1, 2, &s), SC_OK);
    assert_int_equal(sc_webhook_sender_submit(s, &m.d, on_done, &t), SC_OK);
    assert_int_equal(receiver_wait(rc, 1, 2000), 1); /* the one thread is now stuck on it */
    assert_int_equal(sc_webhook_sender_submit(s, &m.d, on_done, &t), SC_OK);
    assert_int_equal(sc_webhook_sender_submit(s, &m.d, on_done, &t), SC_OK);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(sc_webhook_sender_submit(s, &m.d, on_done, &t), SC_EBUSY);
    assert_int_equal(sc_webhook_sender_submit(s, &m.d, on_done, &t), SC_EBUSY);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 1); /* refused at once */
    sc_webhook_sender_stats(s, &st);
    assert_int_equal(st.in_flight, 1);
    assert_int_equal(st.queued, 2);
    assert_int_equal(st.rejected, 2);
    assert_int_equal(st.delivered + st.failed, 0);

    /* Stopping without draining: the queued two and the stuck one, all reported cancelled. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sc_webhook_sender_free(s, false);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 5); /* not the 10 s timeout */
    assert_int_equal(t.done, 3);
    assert_int_equal(t.cancelled, 3);
    assert_int_equal(t.ok, 0);
    assert_int_equal(receiver_wait(rc, 2, 300), 1); /* the queued two never went out */
    message_cleanup(&m);
    tally_cleanup(&t);
    receiver_stop(rc);
}

/* Stopping while several threads are busy: each attempt reported exactly once, quickly. */
static void test_sender_stop_while_busy(void **state)
{
    (void)state;
    struct receiver *rc = receiver_start(ANSWER_SLOW); /* 300 ms each, one at a time */
    struct sc_webhook_sender *s = NULL;
    struct tally t;
    struct message m;
    struct timespec t0, t1;

    tally_init(&t);
    message_init(&m, "127.0.0.1", rc, true);
    assert_int_equal(sc_webhook_sender_new(4, 32, &s), SC_OK);
    for (int i = 0; i < 20; i++)
        assert_int_equal(sc_webhook_sender_submit(s, &m.d, on_done, &t), SC_OK);
    assert_int_equal(receiver_wait(rc, 1, 2000), 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sc_webhook_sender_free(s, false);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 4);
    assert_int_equal(t.done, 20);
    assert_int_equal(t.ok + t.cancelled, 20);
    assert_true(t.cancelled >= 10);
    message_cleanup(&m);
    tally_cleanup(&t);
    receiver_stop(rc);
}

/*
 * A connection kept alive from an allowed delivery is not a way around the
 * guard: the next delivery on the same thread, not allowed to reach loopback,
 * reuses the connection (no socket is opened, so only the check before the
 * request can stop it) and is refused there.
 */
static void test_sender_guard_on_reused_connection(void **state)
{
    (void)state;
    struct receiver *rc = receiver_start(ANSWER_200);
    struct sc_webhook_sender *s = NULL;
    struct sc_webhook_stats st;
    struct tally t;
    struct message m;

    atomic_store(&rc->keep_alive, true);
    tally_init(&t);
    message_init(&m, "127.0.0.1", rc, true);
    assert_int_equal(sc_webhook_sender_new(1, 4, &s), SC_OK);
    assert_int_equal(sc_webhook_sender_submit(s, &m.d, on_done, &t), SC_OK);
    assert_int_equal(tally_wait(&t, 1), 1);
    assert_int_equal(t.ok, 1);
    assert_int_equal(sc_webhook_sender_submit(s, &m.d, on_done, &t), SC_OK);
    assert_int_equal(tally_wait(&t, 2), 2);
    assert_int_equal(t.ok, 2);
    assert_int_equal(receiver_connections(rc), 1); /* the connection was reused */

    m.d.allow_private = false;
    assert_int_equal(sc_webhook_sender_submit(s, &m.d, on_done, &t), SC_OK);
    assert_int_equal(tally_wait(&t, 3), 3);
    assert_int_equal(t.ok, 2);
    assert_int_equal(t.refused, 1);
    if (!strstr(t.last_error, "refused sending to 127.0.0.1, a loopback address"))
        fail_msg("error \"%s\"", t.last_error);
    assert_int_equal(receiver_wait(rc, 3, 200), 2); /* the request never went out */
    sc_webhook_sender_stats(s, &st);
    assert_int_equal(st.delivered, 2);
    assert_int_equal(st.failed, 1);
    sc_webhook_sender_free(s, true);
    message_cleanup(&m);
    tally_cleanup(&t);
    receiver_stop(rc);
}

static void test_sender_bad_arguments(void **state)
{
    (void)state;
    struct sc_webhook_sender *s = NULL;
    struct sc_webhook_delivery d;
    assert_int_equal(sc_webhook_sender_new(0, 4, &s), SC_EINVAL);
    assert_int_equal(sc_webhook_sender_new(1, 0, &s), SC_EINVAL);
    assert_int_equal(sc_webhook_sender_new(1000, 4, &s), SC_EINVAL);
    assert_null(s);
    assert_int_equal(sc_webhook_sender_new(1, 4, &s), SC_OK);
    memset(&d, 0, sizeof(d));
    d.url = "http://127.0.0.1:1/";
    assert_int_equal(sc_webhook_sender_submit(s, &d, NULL, NULL), SC_EINVAL);
    d.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    d.id = "msg_1";
    d.body = "";
    d.body_len = SC_WEBHOOK_BODY_MAX + 1; /* refused before it is read */
    assert_int_equal(sc_webhook_sender_submit(s, &d, NULL, NULL), SC_ETOOBIG);
    sc_webhook_sender_free(s, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivered_and_signed),
        cmocka_unit_test(test_500_is_not_ok),
        cmocka_unit_test(test_slow_receiver_within_timeout),
        cmocka_unit_test(test_never_answers_times_out),
        cmocka_unit_test(test_huge_response_cut),
        cmocka_unit_test(test_redirect_not_followed),
        cmocka_unit_test(test_guard_at_connect),
        cmocka_unit_test(test_undeliverable_input),
        cmocka_unit_test(test_sender_delivers),
        cmocka_unit_test(test_sender_queue_full),
        cmocka_unit_test(test_sender_stop_while_busy),
        cmocka_unit_test(test_sender_guard_on_reused_connection),
        cmocka_unit_test(test_sender_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
