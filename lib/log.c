/*
 * log.c — one line per message on stderr: plain text ("TIME LEVEL MESSAGE",
 * the default) or, with SHARECARD_LOG_FORMAT=json, one JSON object per
 * line for log shippers.  One fprintf per line keeps lines from different
 * threads whole (stdio locks the stream per call).
 */
#include "sharecard/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sharecard/buf.h"
#include "sharecard/escape.h"

static enum sc_log_level min_level = SC_LOG_INFO;
static enum sc_log_format format = SC_LOG_PLAIN;
static const char *const names[] = {"debug", "info", "warn", "error"};

void sc_log_set_level(enum sc_log_level lvl)
{
    min_level = lvl;
}

void sc_log_set_format(enum sc_log_format f)
{
    format = f;
}

bool sc_log_format_parse(const char *s, enum sc_log_format *out)
{
    if (!s || !s[0] || strcmp(s, "plain") == 0)
        *out = SC_LOG_PLAIN;
    else if (strcmp(s, "json") == 0)
        *out = SC_LOG_JSON;
    else
        return false;
    return true;
}

/* The wall-clock time as ISO 8601 UTC, to the millisecond in JSON lines. */
static void now_iso(char ts[40], bool ms)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    if (!ms) {
        strftime(ts, 40, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return;
    }
    size_t n = strftime(ts, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, 40 - n, ".%03dZ", (int)(now.tv_nsec / 1000000L) % 1000);
}

/* "key":"value" (escaped; null for NULL) with a leading comma. */
static void json_field(struct sc_buf *b, const char *key, const char *v)
{
    sc_buf_printf(b, ",\"%s\":", key);
    if (!v) {
        sc_buf_puts(b, "null");
        return;
    }
    sc_buf_putc(b, '"');
    sc_esc_json(b, v, strlen(v));
    sc_buf_putc(b, '"');
}

/* Starts a JSON line on 'b' (a stack buffer) with time, level and message. */
static void json_begin(struct sc_buf *b, enum sc_log_level lvl, const char *msg)
{
    char ts[40];
    now_iso(ts, true);
    sc_buf_printf(b, "{\"time\":\"%s\",\"level\":\"%s\"", ts, names[lvl]);
    json_field(b, "msg", msg);
}

static void json_end(struct sc_buf *b)
{
    sc_buf_puts(b, "}\n");
    if (!sc_buf_error(b))
        fputs(b->data, stderr);
}

void sc_log(enum sc_log_level lvl, const char *fmt, ...)
{
    if (lvl < min_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (format == SC_LOG_JSON) {
        char stack[4096];
        struct sc_buf b;
        sc_buf_init_on(&b, stack, sizeof(stack), 16384);
        json_begin(&b, lvl, msg);
        json_end(&b);
        sc_buf_cleanup(&b);
        return;
    }
    char ts[40];
    now_iso(ts, false);
    fprintf(stderr, "%s %s %s\n", ts, names[lvl], msg);
}

void sc_log_access(const struct sc_log_access *a)
{
    if (SC_LOG_INFO < min_level)
        return;
    if (format != SC_LOG_JSON) {
        sc_log(SC_LOG_INFO, "access %s %s %s %u %llu %.2fms%s", a->ip, a->method, a->path,
               a->status, (unsigned long long)a->bytes, (double)a->us / 1e3,
               a->aborted ? " aborted" : "");
        return;
    }
    char stack[4096];
    struct sc_buf b;
    sc_buf_init_on(&b, stack, sizeof(stack), 65536);
    json_begin(&b, SC_LOG_INFO, "access");
    json_field(&b, "request_id", a->request_id);
    json_field(&b, "ip", a->ip);
    json_field(&b, "method", a->method);
    json_field(&b, "path", a->path);
    sc_buf_printf(&b, ",\"status\":%u,\"bytes\":%llu,\"us\":%lld,\"aborted\":%s", a->status,
                  (unsigned long long)a->bytes, (long long)a->us, a->aborted ? "true" : "false");
    json_end(&b);
    sc_buf_cleanup(&b);
}
