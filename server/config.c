/*
 * config.c — defaults for the service, overridden by SHARECARD_* environment
 * variables, then by command-line flags (cli.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leads_int.h"
#include "sharecard/server.h"

static void env_str(const char *name, char *dst, size_t n)
{
    const char *v = getenv(name);
    if (v && v[0])
        snprintf(dst, n, "%s", v);
}

static void env_uint(const char *name, unsigned *dst)
{
    const char *v = getenv(name);
    if (v && v[0]) {
        char *end;
        unsigned long x = strtoul(v, &end, 10);
        if (!*end && x <= 1000000)
            *dst = (unsigned)x;
    }
}

void sc_config_defaults(struct sc_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->db, sizeof(c->db), "sharecard.db");
    snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
    c->port = 8080;
    c->threads = 0;
    c->max_conn = 4096;
    c->per_ip_conn = SC_PER_IP_DEFAULT; /* 0 behind a proxy (below): its clients share one IP */
    c->timeout_s = 30;
    c->conn_memory = 32 * 1024;
    c->backlog = 1024;
    c->max_body = 64 * 1024;
    c->access_log = true;
    c->queue = 4096; /* one event waits per suspended connection: as many as connections */

    env_str("SHARECARD_DB", c->db, sizeof(c->db));
    const char *l = getenv("SHARECARD_LISTEN");
    if (l && l[0]) {
        const char *why;
        if (sc_config_listen(c, l, &why) != SC_OK)
            fprintf(stderr, "sharecard: ignoring SHARECARD_LISTEN: %s\n", why);
    }
    env_str("SHARECARD_BASE_URL", c->base_url, sizeof(c->base_url));
    env_uint("SHARECARD_THREADS", &c->threads);
    env_uint("SHARECARD_MAX_CONNECTIONS", &c->max_conn);
    env_uint("SHARECARD_PER_IP_CONNECTIONS", &c->per_ip_conn);
    env_uint("SHARECARD_TIMEOUT", &c->timeout_s);
    c->queue = c->max_conn;
    const char *al = getenv("SHARECARD_ACCESS_LOG");
    if (al && (strcmp(al, "0") == 0 || strcmp(al, "off") == 0))
        c->access_log = false;
    sc_referral_config_defaults(&c->referral);
    c->referral.tz_min = sc_tz_min; /* issue 19: the cap's months follow SHARECARD_TZ */
    const char *at = getenv("SHARECARD_ATTRIBUTION");
    if (at && strcmp(at, "first_touch") == 0)
        c->referral.first_touch = true;
    unsigned v = 0;
    env_uint("SHARECARD_WINDOW_DAYS", &v);
    if (v > 0 && v <= 3650)
        c->referral.window_s = (int64_t)v * 86400;
    v = 0;
    env_uint("SHARECARD_HOLD_DAYS", &v);
    if (v <= 3650 && getenv("SHARECARD_HOLD_DAYS"))
        c->referral.hold_s = (int64_t)v * 86400;
    v = 0;
    env_uint("SHARECARD_VELOCITY", &v);
    if (v > 0)
        c->referral.velocity_per_hour = (int)v;
    const char *pts = getenv("SHARECARD_POINTS");
    long p1, p2;
    if (pts && sscanf(pts, "%ld,%ld", &p1, &p2) == 2 && p1 >= 0 && p2 >= 0 && p1 < 1000000 &&
        p2 < 1000000) {
        c->referral.points[0] = p1;
        c->referral.points[1] = p2;
    }
    const char *com = getenv("SHARECARD_COMMISSION");
    double c1, c2;
    if (com && sscanf(com, "%lf,%lf", &c1, &c2) == 2 && c1 >= 0 && c2 >= 0 && c1 <= 100 &&
        c2 <= 100) {
        c->referral.commission_bp[0] = (int)(c1 * 100 + 0.5);
        c->referral.commission_bp[1] = (int)(c2 * 100 + 0.5);
    }
    const char *cc = getenv("SHARECARD_COUNTRY");
    if (cc && strlen(cc) >= 1 && strlen(cc) <= 3 && strspn(cc, "0123456789") == strlen(cc))
        snprintf(c->referral.default_country, sizeof(c->referral.default_country), "%s", cc);
    const char *tp = getenv("SHARECARD_TRUST_PROXY");
    if (tp && (strcmp(tp, "1") == 0 || strcmp(tp, "on") == 0))
        c->trust_proxy = true;
    /* Behind a proxy every client arrives from its address: no limit unless one is set. */
    const char *pi = getenv("SHARECARD_PER_IP_CONNECTIONS");
    if (c->trust_proxy && !(pi && pi[0]))
        c->per_ip_conn = 0;
    size_t n = strlen(c->base_url);
    while (n > 0 && c->base_url[n - 1] == '/')
        c->base_url[--n] = '\0';
}

enum sc_err sc_config_listen(struct sc_config *c, const char *hostport, const char **why)
{
    const char *colon;
    char host[256];
    if (hostport[0] == '[') {
        const char *close = strchr(hostport, ']');
        if (!close || close[1] != ':') {
            *why = "an IPv6 address is written [ADDR]:PORT";
            return SC_EINVAL;
        }
        size_t n = (size_t)(close - hostport - 1);
        if (n >= sizeof(host)) {
            *why = "the host is too long";
            return SC_EINVAL;
        }
        memcpy(host, hostport + 1, n);
        host[n] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(hostport, ':');
        if (!colon) {
            *why = "write HOST:PORT, for example 127.0.0.1:8080";
            return SC_EINVAL;
        }
        size_t n = (size_t)(colon - hostport);
        if (n >= sizeof(host)) {
            *why = "the host is too long";
            return SC_EINVAL;
        }
        memcpy(host, hostport, n);
        host[n] = '\0';
    }
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || port > 65535) {
        *why = "the port must be a number from 0 to 65535";
        return SC_EINVAL;
    }
    snprintf(c->listen_host, sizeof(c->listen_host), "%s", host[0] ? host : "0.0.0.0");
    c->port = (unsigned)port;
    return SC_OK;
}

void sc_config_base_url(const struct sc_config *c, unsigned port, char *out, size_t n)
{
    if (c->base_url[0]) {
        snprintf(out, n, "%s", c->base_url);
        return;
    }
    const char *host = c->listen_host[0] ? c->listen_host : "0.0.0.0";
    bool v6 = strchr(host, ':') != NULL;
    snprintf(out, n, "http://%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
}
