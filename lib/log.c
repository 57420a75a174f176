/*
 * log.c — timestamped lines on stderr.  One fprintf per line keeps lines
 * from different threads whole (stdio locks the stream per call).
 */
#include "sharecard/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum sc_log_level min_level = SC_LOG_INFO;

void sc_log_set_level(enum sc_log_level lvl)
{
    min_level = lvl;
}

void sc_log(enum sc_log_level lvl, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (lvl < min_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s %s %s\n", ts, names[lvl], msg);
}
