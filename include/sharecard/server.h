/*
 * server.h — configuration and the HTTP service.  Only server/ includes
 * <microhttpd.h>; everything else sees this header.
 */
#ifndef SHARECARD_SERVER_H
#define SHARECARD_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "sharecard/err.h"
#include "sharecard/referral.h"

struct sc_store;

/* Connections one client address may hold when not behind a proxy (DESIGN §10: >= 256). */
#define SC_PER_IP_DEFAULT 256

struct sc_config {
    char db[1024];         /* store URL or SQLite path */
    char listen_host[256]; /* "127.0.0.1" */
    unsigned port;         /* 8080; 0 picks a free port */
    char base_url[512];    /* public origin, no trailing slash; "" = http://host:port */
    unsigned threads;      /* MHD thread-pool size; 0 = number of cores */
    unsigned max_conn;     /* connection limit across the pool */
    unsigned per_ip_conn;  /* connections per client IP (0 = no limit; default below) */
    unsigned timeout_s;    /* idle connection timeout */
    size_t conn_memory;    /* per-connection memory pool for headers */
    unsigned backlog;      /* listen backlog */
    size_t max_body;       /* largest request body accepted */
    bool access_log;       /* one line per request on stderr */
    bool trust_proxy;      /* take the client address from X-Forwarded-For */
    size_t queue;          /* events waiting for the writer, at most */
    struct sc_referral_config referral; /* attribution and rewards */
};

/* Defaults, then SHARECARD_* environment variables, over 'c'. */
void sc_config_defaults(struct sc_config *c);
/*
 * Parses "HOST:PORT", "[v6]:PORT" or ":PORT" into 'c'.  Returns SC_EINVAL with
 * '*why' set when it is not one.
 */
enum sc_err sc_config_listen(struct sc_config *c, const char *hostport, const char **why);
/*
 * Reads the reward settings that must be right to start (SHARECARD_WELCOME,
 * SHARECARD_REWARDS)
 * into c->referral; SC_EINVAL with 'why' ('n' bytes: the setting and the
 * reason) when one is malformed (server/rewards.c).
 */
enum sc_err sc_config_rewards(struct sc_config *c, char *why, size_t n);
/*
 * The version of c->referral's reward rules in store 's' into
 * c->referral.rule_version: a new version, audited, when they changed.
 */
enum sc_err sc_rewards_version(struct sc_config *c, struct sc_store *s);
/*
 * The service's base URL into 'out' (size 'n'): c->base_url when set (--base-url,
 * SHARECARD_BASE_URL), else http://HOST:PORT of where it listens, 'port' the port it
 * listens on (serve: the one it got; elsewhere c->port).  Used by serve and by
 * `import orders` for its surveys' links, so both give the same links.
 */
void sc_config_base_url(const struct sc_config *c, unsigned port, char *out, size_t n);

/*
 * Runs the service on 'store' (borrowed) until SIGINT or SIGTERM: prints
 * "listening on http://HOST:PORT" on stdout once it accepts, and on a signal
 * stops accepting, lets requests in flight finish, and returns.  Returns
 * non-zero after printing the reason when it cannot start.
 */
int sc_server_run(const struct sc_config *cfg, struct sc_store *store);

/* `sharecard demo`: seeds store 'db' with 'days' of demo traffic.  Returns the exit status. */
int sc_demo_main(const char *db, int days);

/* The command line: argv as main() got it.  Returns the exit status. */
int sc_cli_main(int argc, char **argv);

#endif
