/*
 * form.c — urlencoded form fields, decoded into the caller's buffer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/escape.h"
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

/*
 * Decodes the 'n' urlencoded bytes at 'p' into 'out' (room for 'n' bytes):
 * its length.  A broken %-escape is copied as it is (sc_form_get() refuses
 * it when the field is read).
 */
static size_t decode_loose(const char *p, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '+') {
            out[o++] = ' ';
        } else if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            out[o++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            i += 2;
        } else {
            out[o++] = p[i];
        }
    }
    return o;
}

/* Writes to 'out' the field's name 'key' when it is text, else a placeholder. */
static void name_of(char *out, size_t n, const char *key, size_t key_len)
{
    if (key_len > 0 && key_len < n && sc_utf8_valid(key, key_len) && !memchr(key, '\n', key_len) &&
        !memchr(key, '\r', key_len)) {
        memcpy(out, key, key_len);
        out[key_len] = '\0';
    } else {
        snprintf(out, n, "%s", "(a name that is not text)");
    }
}

enum sc_err sc_form_check_text(const char *body, size_t len, char *bad, size_t badn)
{
    if (badn)
        bad[0] = '\0';
    char *tmp = malloc(len + 1);
    if (!tmp)
        return SC_ENOMEM;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        size_t eq = i;
        while (eq < end && body[eq] != '=')
            eq++;
        size_t kn = decode_loose(body + i, eq - i, tmp);
        bool ok = sc_utf8_valid(tmp, kn);
        if (ok && eq < end)
            ok = sc_utf8_valid(tmp + kn, decode_loose(body + eq + 1, end - eq - 1, tmp + kn));
        if (!ok) {
            name_of(bad, badn, tmp, strnlen(tmp, kn));
            break;
        }
        i = end + 1;
    }
    free(tmp);
    return SC_OK;
}
