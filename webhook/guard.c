/*
 * guard.c — where a webhook may go.  A member who can add a webhook must not
 * be able to make the server speak to itself, to the private network it sits
 * in, or to a cloud metadata service (server-side request forgery).
 *
 * The address classification is a pure function over a struct sockaddr, used
 * twice: when a URL is added (every address its host resolves to) and by each
 * delivery as it connects (deliver.c), because a name may resolve elsewhere by
 * then.  The URL parse is libcurl's own, the same one the transfer uses.
 */
#include "webhook_int.h"

#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static bool curl_ok;

static void curl_init_once(void)
{
    curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

bool sc_webhook_curl_ready(void)
{
    pthread_once(&curl_once, curl_init_once);
    return curl_ok;
}

/* 'a' in host order. */
static enum sc_webhook_addr classify_v4(uint32_t a)
{
    static const struct {
        uint32_t net, mask;
        enum sc_webhook_addr what;
    } nets[] = {
        {0x00000000, 0xff000000, SC_WEBHOOK_ADDR_UNSPECIFIED}, /* 0/8 "this network" */
        {0x0a000000, 0xff000000, SC_WEBHOOK_ADDR_PRIVATE},     /* 10/8 */
        {0x64400000, 0xffc00000, SC_WEBHOOK_ADDR_CGNAT},       /* 100.64/10 */
        {0x7f000000, 0xff000000, SC_WEBHOOK_ADDR_LOOPBACK},    /* 127/8 */
        {0xa9fe0000, 0xffff0000, SC_WEBHOOK_ADDR_LINK_LOCAL},  /* 169.254/16 */
        {0xac100000, 0xfff00000, SC_WEBHOOK_ADDR_PRIVATE},     /* 172.16/12 */
        {0xc0000000, 0xffffff00, SC_WEBHOOK_ADDR_RESERVED},    /* 192.0.0/24 IETF */
        {0xc0000200, 0xffffff00, SC_WEBHOOK_ADDR_RESERVED},    /* 192.0.2/24 TEST-NET-1 */
        {0xc0586300, 0xffffff00, SC_WEBHOOK_ADDR_RESERVED},    /* 192.88.99/24 6to4 relay */
        {0xc0a80000, 0xffff0000, SC_WEBHOOK_ADDR_PRIVATE},     /* 192.168/16 */
        {0xc6120000, 0xfffe0000, SC_WEBHOOK_ADDR_RESERVED},    /* 198.18/15 benchmarking */
        {0xc6336400, 0xffffff00, SC_WEBHOOK_ADDR_RESERVED},    /* 198.51.100/24 TEST-NET-2 */
        {0xcb007100, 0xffffff00, SC_WEBHOOK_ADDR_RESERVED},    /* 203.0.113/24 TEST-NET-3 */
        {0xe0000000, 0xf0000000, SC_WEBHOOK_ADDR_MULTICAST},   /* 224/4 */
        {0xffffffff, 0xffffffff, SC_WEBHOOK_ADDR_BROADCAST},   /* 255.255.255.255 */
        {0xf0000000, 0xf0000000, SC_WEBHOOK_ADDR_RESERVED},    /* 240/4 */
    };
    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
        if ((a & nets[i].mask) == nets[i].net)
            return nets[i].what;
    return SC_WEBHOOK_ADDR_PUBLIC;
}

static uint32_t v4_at(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static enum sc_webhook_addr classify_v6(const unsigned char *b)
{
    static const unsigned char zero[12] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

    if (memcmp(b, zero, 12) == 0) {
        uint32_t tail = v4_at(b + 12);
        if (tail == 0)
            return SC_WEBHOOK_ADDR_UNSPECIFIED; /* :: */
        if (tail == 1)
            return SC_WEBHOOK_ADDR_LOOPBACK; /* ::1 */
        return classify_v4(tail);            /* IPv4-compatible ::a.b.c.d */
    }
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return classify_v4(v4_at(b + 12));
    if (b[0] == 0x20 && b[1] == 0x02) /* 6to4 2002:AABB:CCDD::/48 */
        return classify_v4(v4_at(b + 2));
    if (b[0] == 0xff)
        return SC_WEBHOOK_ADDR_MULTICAST;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return SC_WEBHOOK_ADDR_LINK_LOCAL; /* fe80::/10 */
    if ((b[0] & 0xfe) == 0xfc)
        return SC_WEBHOOK_ADDR_ULA; /* fc00::/7 */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
        return SC_WEBHOOK_ADDR_RESERVED; /* 2001:db8::/32 documentation */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] < 0x02)
        return SC_WEBHOOK_ADDR_RESERVED; /* 2001::/23 IETF: Teredo, ORCHID, ... */
    if ((b[0] & 0xe0) != 0x20)
        return SC_WEBHOOK_ADDR_RESERVED; /* outside 2000::/3, the global unicast space */
    return SC_WEBHOOK_ADDR_PUBLIC;
}

enum sc_webhook_addr sc_webhook_addr_classify(const struct sockaddr *sa, socklen_t len)
{
    if (!sa)
        return SC_WEBHOOK_ADDR_UNKNOWN;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return classify_v4(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return classify_v6(in6->sin6_addr.s6_addr);
    }
    return SC_WEBHOOK_ADDR_UNKNOWN;
}

const char *sc_webhook_addr_str(enum sc_webhook_addr a)
{
    switch (a) {
    case SC_WEBHOOK_ADDR_PUBLIC: return "public";
    case SC_WEBHOOK_ADDR_LOOPBACK: return "loopback";
    case SC_WEBHOOK_ADDR_PRIVATE: return "private";
    case SC_WEBHOOK_ADDR_CGNAT: return "carrier-grade NAT";
    case SC_WEBHOOK_ADDR_ULA: return "unique local";
    case SC_WEBHOOK_ADDR_LINK_LOCAL: return "link-local";
    case SC_WEBHOOK_ADDR_UNSPECIFIED: return "unspecified";
    case SC_WEBHOOK_ADDR_MULTICAST: return "multicast";
    case SC_WEBHOOK_ADDR_BROADCAST: return "broadcast";
    case SC_WEBHOOK_ADDR_RESERVED: return "reserved";
    case SC_WEBHOOK_ADDR_UNKNOWN: break;
    }
    return "unknown";
}

bool sc_webhook_addr_allowed(enum sc_webhook_addr a, bool allow_private)
{
    switch (a) {
    case SC_WEBHOOK_ADDR_PUBLIC: return true;
    case SC_WEBHOOK_ADDR_LOOPBACK:
    case SC_WEBHOOK_ADDR_PRIVATE:
    case SC_WEBHOOK_ADDR_CGNAT:
    case SC_WEBHOOK_ADDR_ULA: return allow_private;
    default: return false;
    }
}

bool sc_webhook_allow_private_env(void)
{
    const char *v = getenv("SHARECARD_WEBHOOK_ALLOW_PRIVATE");
    return v && strcmp(v, "1") == 0;
}

__attribute__((format(printf, 3, 4))) static void say(char *why, size_t why_size, const char *fmt,
                                                      ...)
{
    va_list ap;
    if (!why || why_size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
}

/* True when part 'what' of 'u' is present (user, password, ...). */
static bool has_part(CURLU *u, CURLUPart what)
{
    char *p = NULL;
    CURLUcode rc = curl_url_get(u, what, &p, 0);
    curl_free(p);
    return rc == CURLUE_OK;
}

enum sc_err sc_webhook_url_parse(const char *url, CURLU **out, char *why, size_t why_size)
{
    enum sc_err err = SC_EINVAL;
    CURLU *u = NULL;
    char *scheme = NULL, *host = NULL;

    *out = NULL;
    if (why && why_size > 0)
        why[0] = '\0';
    if (!url || strlen(url) > SC_WEBHOOK_URL_MAX) {
        say(why, why_size, "%s", "a webhook URL is at most 2048 bytes");
        goto out;
    }
    if (!sc_webhook_curl_ready() || !(u = curl_url())) {
        err = SC_ENOMEM;
        goto out;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        say(why, why_size, "%s", "not a valid URL (it needs http:// or https:// and a host)");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        say(why, why_size, "%s", "a webhook URL is http:// or https://");
        goto out;
    }
    if (has_part(u, CURLUPART_USER) || has_part(u, CURLUPART_PASSWORD) ||
        has_part(u, CURLUPART_OPTIONS)) {
        say(why, why_size, "%s", "a webhook URL may not carry a user name or password");
        goto out;
    }
    if (has_part(u, CURLUPART_ZONEID)) {
        say(why, why_size, "%s", "a webhook URL may not name an IPv6 zone");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
        say(why, why_size, "%s", "a webhook URL needs a host");
        goto out;
    }
    *out = u;
    u = NULL;
    err = SC_OK;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return err;
}

enum sc_err sc_webhook_url_check(const char *url, bool allow_private, char *why, size_t why_size)
{
    enum sc_err err;
    CURLU *u = NULL;
    char *host = NULL;
    struct addrinfo hints, *res = NULL;
    char name[SC_WEBHOOK_URL_MAX + 1];
    size_t n;

    err = sc_webhook_url_parse(url, &u, why, why_size);
    if (err != SC_OK)
        goto out;
    err = SC_EINVAL;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        say(why, why_size, "%s", "a webhook URL needs a host");
        goto out;
    }
    /* An IPv6 literal comes back in brackets; getaddrinfo wants it bare. */
    n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        memcpy(name, host + 1, n - 2);
        name[n - 2] = '\0';
    } else {
        snprintf(name, sizeof(name), "%s", host);
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(name, NULL, &hints, &res) != 0 || !res) {
        say(why, why_size, "the webhook URL's host %s does not resolve", name);
        goto out;
    }
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        enum sc_webhook_addr a = sc_webhook_addr_classify(ai->ai_addr, ai->ai_addrlen);
        if (!sc_webhook_addr_allowed(a, allow_private)) {
            char text[INET6_ADDRSTRLEN] = "?", msg[128];
            const void *p =
                ai->ai_family == AF_INET6
                    ? (const void *)&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)
                          ->sin6_addr
                    : (const void *)&((const struct sockaddr_in *)(const void *)ai->ai_addr)
                          ->sin_addr;
            inet_ntop(ai->ai_family, p, text, sizeof(text));
            snprintf(msg, sizeof(msg), "%s, a %s address", text, sc_webhook_addr_str(a));
            say(why, why_size, "the webhook URL's host resolves to %s%s", msg,
                sc_webhook_addr_allowed(a, true) ? " (SHARECARD_WEBHOOK_ALLOW_PRIVATE=1 allows it)"
                                                 : "");
            goto out;
        }
    }
    err = SC_OK;
out:
    if (res)
        freeaddrinfo(res);
    curl_free(host);
    curl_url_cleanup(u);
    return err;
}
