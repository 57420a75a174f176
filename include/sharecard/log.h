/*
 * log.h — one line per message on stderr, with time and level: plain text
 * by default, or one JSON object per line (SHARECARD_LOG_FORMAT=json).
 */
#ifndef SHARECARD_LOG_H
#define SHARECARD_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum sc_log_level { SC_LOG_DEBUG, SC_LOG_INFO, SC_LOG_WARN, SC_LOG_ERROR };
enum sc_log_format { SC_LOG_PLAIN, SC_LOG_JSON };

void sc_log_set_level(enum sc_log_level lvl);
/* Set before any thread logs (start-up); read unlocked after. */
void sc_log_set_format(enum sc_log_format f);
/* "plain" (or unset: NULL, "") or "json" into '*out'; false for anything else. */
bool sc_log_format_parse(const char *s, enum sc_log_format *out);
void sc_log(enum sc_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One answered request, as the access log writes it (strings borrowed). */
struct sc_log_access {
    const char *request_id; /* the client's X-Request-Id, or one made up */
    const char *ip, *method, *path;
    unsigned status;
    uint64_t bytes; /* body bytes sent */
    int64_t us;     /* from the request's first byte to its completion */
    bool aborted;   /* the connection ended before the answer was sent */
};
/* The access log's line: plain "access IP METHOD PATH STATUS BYTES MSms", or a JSON object. */
void sc_log_access(const struct sc_log_access *a);

#define sc_info(...)  sc_log(SC_LOG_INFO, __VA_ARGS__)
#define sc_warn(...)  sc_log(SC_LOG_WARN, __VA_ARGS__)
#define sc_error(...) sc_log(SC_LOG_ERROR, __VA_ARGS__)

#endif
