/*
 * deliver.c — one attempt of one webhook over libcurl, bounded in every
 * direction so a receiver cannot stall or flood us: connect and total
 * timeouts, at most SC_WEBHOOK_RESPONSE_MAX bytes of response (1 KiB of it
 * kept, as valid UTF-8, for the admin page), no redirects, no proxy from the
 * environment, http and https only.
 *
 * The address guard runs at connect time twice over: the open-socket callback
 * refuses to create a socket for a forbidden address (each address curl
 * tries), and the pre-request callback checks the address of the connection
 * the request will actually go over, which also covers a connection reused
 * from the handle's cache.  So the check at `webhook add` time is advice; this
 * is the enforcement, and DNS rebinding cannot slip past it.
 */
#include "webhook_int.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define ID_MAX 64

/* One transfer's state, shared with the callbacks. */
struct xfer {
    bool allow_private;
    const atomic_bool *stop; /* borrowed; may be NULL */
    bool refused;            /* the guard stopped a connection */
    bool cancelled;          /* 'stop' became true */
    bool cut;                /* more than SC_WEBHOOK_RESPONSE_MAX bytes came back */
    char refused_why[128];
    char raw[SC_WEBHOOK_EXCERPT_MAX]; /* the first bytes of the response, as they came */
    size_t raw_len;
    size_t total; /* response bytes seen */
};

/* Records why 'sa' was refused; true when it is allowed. */
static bool guard(struct xfer *x, const struct sockaddr *sa, socklen_t len, const char *when)
{
    enum sc_webhook_addr a = sc_webhook_addr_classify(sa, len);
    char text[INET6_ADDRSTRLEN] = "?";
    if (sc_webhook_addr_allowed(a, x->allow_private))
        return true;
    if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, text,
                  sizeof(text));
    else if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, text,
                  sizeof(text));
    x->refused = true;
    snprintf(x->refused_why, sizeof(x->refused_why), "refused %s %s, a %s address", when, text,
             sc_webhook_addr_str(a));
    return false;
}

/* CURLOPT_OPENSOCKETFUNCTION: no socket at all for a forbidden address. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct xfer *x = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN ||
        !guard(x, &a->addr, (socklen_t)a->addrlen, "connecting to"))
        return CURL_SOCKET_BAD;
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* CURLOPT_PREREQFUNCTION: the address the request is about to go to, new or reused. */
static int prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
    struct xfer *x = clientp;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    memset(&in, 0, sizeof(in));
    memset(&in6, 0, sizeof(in6));
    if (inet_pton(AF_INET, primary_ip, &in.sin_addr) == 1) {
        in.sin_family = AF_INET;
        return guard(x, (struct sockaddr *)&in, sizeof(in), "sending to") ? CURL_PREREQFUNC_OK
                                                                          : CURL_PREREQFUNC_ABORT;
    }
    if (inet_pton(AF_INET6, primary_ip, &in6.sin6_addr) == 1) {
        in6.sin6_family = AF_INET6;
        return guard(x, (struct sockaddr *)&in6, sizeof(in6), "sending to") ? CURL_PREREQFUNC_OK
                                                                            : CURL_PREREQFUNC_ABORT;
    }
    x->refused = true;
    snprintf(x->refused_why, sizeof(x->refused_why), "refused sending to an unknown address");
    return CURL_PREREQFUNC_ABORT;
}

/* CURLOPT_WRITEFUNCTION: keep the start, count the rest, stop past the limit. */
static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata)
{
    struct xfer *x = userdata;
    size_t n = size * nmemb;
    if (x->raw_len < sizeof(x->raw)) {
        size_t take = sizeof(x->raw) - x->raw_len;
        if (take > n)
            take = n;
        memcpy(x->raw + x->raw_len, p, take);
        x->raw_len += take;
    }
    x->total += n;
    if (x->total > SC_WEBHOOK_RESPONSE_MAX) {
        x->cut = true;
        return 0; /* CURLE_WRITE_ERROR: the transfer ends here */
    }
    return n;
}

/* CURLOPT_XFERINFOFUNCTION: called at least once a second; aborts on stop. */
static int on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct xfer *x = clientp;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    if (x->stop && atomic_load(x->stop)) {
        x->cancelled = true;
        return 1;
    }
    return 0;
}

/* Ids go into a header: letters, digits, '_' and '-' only, so no header can be smuggled. */
static bool id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (long)((t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

/* Appends "name: value" to '*list'; false on OOM. */
static bool add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);
    if (!l)
        return false;
    *list = l;
    return true;
}

/* CURLOPT_READFUNCTION of an e-mail: the message, from where the last call stopped. */
struct mail_src {
    const char *p;
    size_t left;
};

static size_t read_mail(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct mail_src *m = userdata;
    size_t n = size * nitems;
    if (n > m->left)
        n = m->left;
    memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    return n;
}

/*
 * One e-mail over SMTP (notifications, issue 18): the URL is the operator's
 * relay (its credentials in it), so private addresses are allowed, but the
 * guard still refuses link-local and the like; STARTTLS when offered.
 */
static enum sc_err deliver_smtp(CURL *h, const struct sc_webhook_delivery *d,
                                struct sc_webhook_result *r, struct xfer *x,
                                const struct timespec *t0)
{
    struct curl_slist *rcpt = NULL;
    struct mail_src src = {d->body, d->body_len};
    char errbuf[CURL_ERROR_SIZE] = "";
    bool set_ok = true;
    CURLcode rc;
    enum sc_err err = SC_EINVAL;
    x->allow_private = true;
    if (!d->mail_from || !d->mail_to || !sc_notify_email_valid(d->mail_to)) {
        snprintf(r->error, sizeof(r->error), "an e-mail needs a sender and a recipient");
        goto out;
    }
    if (sc_notify_smtp_check(d->url, r->error, sizeof(r->error)) != SC_OK)
        goto out;
    err = SC_ENOMEM;
    if (!(rcpt = curl_slist_append(NULL, d->mail_to)))
        goto out;
    curl_easy_reset(h);
#define SET(opt, val) set_ok = set_ok && curl_easy_setopt(h, opt, val) == CURLE_OK
    SET(CURLOPT_URL, d->url);
    SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    SET(CURLOPT_MAIL_FROM, d->mail_from);
    SET(CURLOPT_MAIL_RCPT, rcpt);
    SET(CURLOPT_UPLOAD, 1L);
    SET(CURLOPT_READFUNCTION, read_mail);
    SET(CURLOPT_READDATA, &src);
    SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)d->body_len);
    SET(CURLOPT_CONNECTTIMEOUT_MS,
        d->connect_timeout_ms > 0 ? d->connect_timeout_ms : (long)SC_WEBHOOK_CONNECT_TIMEOUT_MS);
    SET(CURLOPT_TIMEOUT_MS, d->timeout_ms > 0 ? d->timeout_ms : (long)SC_WEBHOOK_TIMEOUT_MS);
    SET(CURLOPT_OPENSOCKETFUNCTION, open_socket);
    SET(CURLOPT_OPENSOCKETDATA, x);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, x);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_ERRORBUFFER, errbuf);
#undef SET
    if (!set_ok) {
        err = SC_EINVAL;
        snprintf(r->error, sizeof(r->error), "libcurl refused an SMTP option");
        goto out;
    }
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    r->refused = x->refused && rc != CURLE_OK;
    r->cancelled = x->cancelled;
    r->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    r->ok = rc == CURLE_OK;
    if (r->ok)
        r->error[0] = '\0';
    else if (r->refused)
        snprintf(r->error, sizeof(r->error), "%s", x->refused_why);
    else
        snprintf(r->error, sizeof(r->error), "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    curl_easy_reset(h);
    err = SC_OK;
out:
    r->latency_ms = ms_since(t0);
    curl_slist_free_all(rcpt);
    return err;
}

enum sc_err sc_webhook_deliver_on(CURL *h, const struct sc_webhook_delivery *d,
                                  struct sc_webhook_result *r, const atomic_bool *stop)
{
    enum sc_err err = SC_EINVAL;
    CURLU *u = NULL;
    struct curl_slist *headers = NULL;
    struct xfer x;
    char sig[SC_WEBHOOK_SIG_SIZE], line[160], errbuf[CURL_ERROR_SIZE] = "";
    struct timespec t0;
    int64_t ts;
    CURLcode rc;
    bool set_ok = true;

    memset(r, 0, sizeof(*r));
    memset(&x, 0, sizeof(x));
    x.allow_private = d->allow_private;
    x.stop = stop;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    if (!d->body || !id_ok(d->id)) {
        snprintf(r->error, sizeof(r->error), "a delivery needs a body and a well-formed id");
        goto out;
    }
    if (d->body_len > SC_WEBHOOK_BODY_MAX) {
        err = SC_ETOOBIG;
        snprintf(r->error, sizeof(r->error), "a webhook body is at most %d bytes",
                 SC_WEBHOOK_BODY_MAX);
        goto out;
    }
    if (d->style == SC_WEBHOOK_SMTP)
        return deliver_smtp(h, d, r, &x, &t0);
    err = sc_webhook_url_parse(d->url, &u, r->error, sizeof(r->error));
    if (err != SC_OK)
        goto out;
    if (d->style == SC_WEBHOOK_ROBOT) {
        /* A chat robot: the platform's own JSON, its signature (if any) already in it. */
        err = SC_ENOMEM;
        if (!add_header(&headers, "Content-Type: application/json; charset=utf-8"))
            goto out;
    } else {
        /* Signed as the attempt starts, so a retry's timestamp is fresh for the receiver. */
        ts = d->timestamp ? d->timestamp : (int64_t)time(NULL);
        err = sc_webhook_sign(d->secret, d->id, ts, d->body, d->body_len, sig);
        if (err != SC_OK) {
            snprintf(r->error, sizeof(r->error), "the webhook's secret is not valid");
            goto out;
        }

        err = SC_ENOMEM;
        if (!add_header(&headers, "Content-Type: application/json"))
            goto out;
        snprintf(line, sizeof(line), "webhook-id: %s", d->id);
        if (!add_header(&headers, line))
            goto out;
        snprintf(line, sizeof(line), "webhook-timestamp: %" PRId64, ts);
        if (!add_header(&headers, line))
            goto out;
        snprintf(line, sizeof(line), "webhook-signature: %s", sig);
        if (!add_header(&headers, line))
            goto out;
    }
    /* No "Expect: 100-continue" wait (a second lost on bodies over 1 KiB). */
    if (!add_header(&headers, "Expect:"))
        goto out;

    curl_easy_reset(h);
#define SET(opt, val) set_ok = set_ok && curl_easy_setopt(h, opt, val) == CURLE_OK
    SET(CURLOPT_CURLU, u);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROXY, ""); /* ignore http_proxy & co: the guard must see the real peer */
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDS, d->body);
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->body_len);
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_USERAGENT, "sharecard-webhooks/" SC_VERSION);
    SET(CURLOPT_CONNECTTIMEOUT_MS,
        d->connect_timeout_ms > 0 ? d->connect_timeout_ms : (long)SC_WEBHOOK_CONNECT_TIMEOUT_MS);
    SET(CURLOPT_TIMEOUT_MS, d->timeout_ms > 0 ? d->timeout_ms : (long)SC_WEBHOOK_TIMEOUT_MS);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)SC_WEBHOOK_RESPONSE_MAX);
    SET(CURLOPT_OPENSOCKETFUNCTION, open_socket);
    SET(CURLOPT_OPENSOCKETDATA, &x);
    SET(CURLOPT_PREREQFUNCTION, prereq);
    SET(CURLOPT_PREREQDATA, &x);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, &x);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, &x);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_ERRORBUFFER, errbuf);
#undef SET
    if (!set_ok) {
        err = SC_EINVAL;
        snprintf(r->error, sizeof(r->error), "libcurl refused an option (too old a libcurl?)");
        goto out;
    }

    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    r->refused = x.refused && r->status == 0;
    r->cancelled = x.cancelled;
    r->cut = x.cut || rc == CURLE_FILESIZE_EXCEEDED;
    r->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    /* A 2xx status line is the receiver's acceptance, whatever happens to its body after. */
    r->ok = r->status >= 200 && r->status <= 299;
    if (r->ok)
        r->error[0] = '\0';
    else if (r->refused)
        snprintf(r->error, sizeof(r->error), "%s", x.refused_why);
    else if (r->cancelled)
        snprintf(r->error, sizeof(r->error), "cancelled: the sender is stopping");
    else if (r->cut)
        snprintf(r->error, sizeof(r->error), "response over %d bytes: transfer cut",
                 SC_WEBHOOK_RESPONSE_MAX);
    else if (rc != CURLE_OK)
        snprintf(r->error, sizeof(r->error), "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    else
        snprintf(r->error, sizeof(r->error), "HTTP %ld", r->status);
    sc_webhook_excerpt(x.raw, x.raw_len, r->excerpt, sizeof(r->excerpt));
    /* A robot says "no" in a 200: {"errcode": 300001, ...} is a failed delivery. */
    if (r->ok && d->style == SC_WEBHOOK_ROBOT &&
        !sc_notify_answer_ok(r->excerpt, r->error, sizeof(r->error)))
        r->ok = false;
    /* No pointer into this frame (or to what is freed below) stays in the handle;
     * its connections and caches do. */
    curl_easy_reset(h);
    err = SC_OK;
out:
    r->latency_ms = ms_since(&t0);
    curl_slist_free_all(headers);
    curl_url_cleanup(u);
    return err;
}

enum sc_err sc_webhook_deliver(const struct sc_webhook_delivery *d, struct sc_webhook_result *r)
{
    enum sc_err err;
    CURL *h;
    if (!sc_webhook_curl_ready() || !(h = curl_easy_init())) {
        memset(r, 0, sizeof(*r));
        snprintf(r->error, sizeof(r->error), "libcurl could not start");
        return SC_ENOMEM;
    }
    err = sc_webhook_deliver_on(h, d, r, NULL);
    curl_easy_cleanup(h);
    return err;
}

/* Length of the valid UTF-8 sequence at 'p' (of 'n' bytes); 0 when invalid,
 * -1 when 'p' ends inside what could still become a valid sequence. */
static int utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    int len;
    unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c >= 0x01 && c <= 0x7f)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* no overlong forms */
        if (c == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f; /* nothing past U+10FFFF */
    } else
        return 0;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n)
            return -1;
        unsigned char b = p[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf))
            return 0;
    }
    return len;
}

size_t sc_webhook_excerpt(const char *in, size_t len, char *out, size_t size)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t i = 0, o = 0;
    if (size == 0)
        return 0;
    while (i < len) {
        int n = utf8_len(p + i, len - i);
        if (n < 0)
            break; /* a character cut by the end of the input */
        if (n == 0) {
            if (o + 3 > size - 1)
                break;
            memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD */
            o += 3;
            i++;
            continue;
        }
        if (o + (size_t)n > size - 1)
            break;
        memcpy(out + o, p + i, (size_t)n);
        o += (size_t)n;
        i += (size_t)n;
    }
    out[o] = '\0';
    return o;
}
