/*
 * buf.c — the growable byte buffer of buf.h.
 *
 * Growth doubles the allocation; the sticky error makes every writer a
 * straight line of appends with one check at the end.
 */
#include "sharecard/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sc_buf_init(struct sc_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max ? max : SC_BUF_DEFAULT_MAX;
}

void sc_buf_init_on(struct sc_buf *b, char *stack, size_t cap, size_t max)
{
    sc_buf_init(b, max);
    if (cap > 0) {
        b->data = stack;
        b->cap = cap;
        b->data[0] = '\0';
    }
}

void sc_buf_cleanup(struct sc_buf *b)
{
    if (b->on_heap)
        free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->on_heap = 0;
    b->err = SC_OK;
}

void sc_buf_reset(struct sc_buf *b)
{
    b->len = 0;
    b->err = SC_OK;
    if (b->data)
        b->data[0] = '\0';
}

/* Makes room for 'n' more bytes plus the NUL; false (and the sticky error) if not. */
static int reserve(struct sc_buf *b, size_t n)
{
    if (b->err)
        return 0;
    if (n > b->max - b->len) {
        b->err = SC_ETOOBIG;
        return 0;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p;
    if (b->on_heap) {
        p = realloc(b->data, cap);
    } else {
        p = malloc(cap);
        if (p && b->len)
            memcpy(p, b->data, b->len);
    }
    if (!p) {
        b->err = SC_ENOMEM;
        return 0;
    }
    b->data = p;
    b->cap = cap;
    b->on_heap = 1;
    return 1;
}

void sc_buf_append(struct sc_buf *b, const void *p, size_t n)
{
    if (!reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sc_buf_puts(struct sc_buf *b, const char *s)
{
    sc_buf_append(b, s, strlen(s));
}

void sc_buf_putc(struct sc_buf *b, char c)
{
    sc_buf_append(b, &c, 1);
}

void sc_buf_vprintf(struct sc_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        if (!b->err)
            b->err = SC_EINVAL;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        sc_buf_append(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n))
        return;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sc_buf_printf(struct sc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sc_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

enum sc_err sc_buf_error(const struct sc_buf *b)
{
    return b->err;
}

char *sc_buf_steal(struct sc_buf *b, size_t *len)
{
    if (b->err)
        return NULL;
    char *p;
    if (b->on_heap && b->data) {
        p = b->data;
    } else {
        p = malloc(b->len + 1);
        if (!p)
            return NULL;
        if (b->len)
            memcpy(p, b->data, b->len);
        p[b->len] = '\0';
    }
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    b->on_heap = 0;
    return p;
}
