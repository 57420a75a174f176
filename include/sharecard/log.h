/*
 * log.h — one line per message on stderr, with time and level.
 */
#ifndef SHARECARD_LOG_H
#define SHARECARD_LOG_H

enum sc_log_level { SC_LOG_DEBUG, SC_LOG_INFO, SC_LOG_WARN, SC_LOG_ERROR };

void sc_log_set_level(enum sc_log_level lvl);
void sc_log(enum sc_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define sc_info(...)  sc_log(SC_LOG_INFO, __VA_ARGS__)
#define sc_warn(...)  sc_log(SC_LOG_WARN, __VA_ARGS__)
#define sc_error(...) sc_log(SC_LOG_ERROR, __VA_ARGS__)

#endif
