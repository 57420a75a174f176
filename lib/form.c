/*
 * form.c — urlencoded form fields, decoded into the caller's buffer.
 */
#include <string.h>

#include "sharecard/form.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes 'n' bytes at 'p' into 'out'; same errors as sc_form_get(). */
static enum sc_err decode(const char *p, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= n)
                return SC_EINVAL;
            int hi = hexval(p[i + 1]), lo = hexval(p[i + 2]);
            if (hi < 0 || lo < 0)
                return SC_EINVAL;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0')
            return SC_EINVAL;
        if (o + 1 >= outlen)
            return SC_ETOOBIG;
        out[o++] = c;
    }
    out[o] = '\0';
    return SC_OK;
}

enum sc_err sc_form_get(const char *body, size_t len, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        size_t eq = i;
        while (eq < end && body[eq] != '=')
            eq++;
        if (eq - i == nlen && memcmp(body + i, name, nlen) == 0) {
            if (eq == end) {
                if (outlen == 0)
                    return SC_ETOOBIG;
                out[0] = '\0';
                return SC_OK;
            }
            return decode(body + eq + 1, end - eq - 1, out, outlen);
        }
        i = end + 1;
    }
    return SC_ENOTFOUND;
}
