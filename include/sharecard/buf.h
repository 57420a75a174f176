/*
 * buf.h — one growable, binary-safe, NUL-terminated byte buffer.
 *
 * Appends never fail loudly: the first failure (out of memory, or growing
 * past the buffer's hard cap) sets a sticky error and every later append is
 * a no-op, so a writer checks sc_buf_error() once, at the end (the idea of
 * SQLite's sqlite3_str).  A buffer may start on the caller's stack and moves
 * to the heap only when it outgrows it.
 */
#ifndef SHARECARD_BUF_H
#define SHARECARD_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "sharecard/err.h"

struct sc_buf {
    char *data;      /* always NUL-terminated after the first append */
    size_t len;      /* bytes used, not counting the NUL */
    size_t cap;      /* bytes allocated, counting room for the NUL */
    size_t max;      /* hard cap on len; 0 means SC_BUF_DEFAULT_MAX */
    enum sc_err err; /* sticky: SC_OK, SC_ENOMEM or SC_ETOOBIG */
    int on_heap;     /* data was malloc'ed by us */
};

#define SC_BUF_DEFAULT_MAX ((size_t)64 << 20)

/* An empty heap buffer whose length may never exceed 'max' bytes (0: default). */
void sc_buf_init(struct sc_buf *b, size_t max);
/* Start on the caller's 'stack' of 'cap' bytes (borrowed; must outlive 'b'). */
void sc_buf_init_on(struct sc_buf *b, char *stack, size_t cap, size_t max);
/* Frees heap memory; 'b' may be re-initialised afterwards. */
void sc_buf_cleanup(struct sc_buf *b);
/* Empties 'b' and clears its error, keeping its memory. */
void sc_buf_reset(struct sc_buf *b);

void sc_buf_append(struct sc_buf *b, const void *p, size_t n);
void sc_buf_puts(struct sc_buf *b, const char *s);
void sc_buf_putc(struct sc_buf *b, char c);
void sc_buf_printf(struct sc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sc_buf_vprintf(struct sc_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* SC_OK, or the first error any append met. */
enum sc_err sc_buf_error(const struct sc_buf *b);

/*
 * Hands the bytes to the caller: returns new memory (free with free()), its
 * length in '*len' (may be NULL), and leaves 'b' empty.  Copies when 'b' was
 * still on a stack buffer.  Returns NULL if 'b' has an error or on OOM.
 */
char *sc_buf_steal(struct sc_buf *b, size_t *len);

#endif
