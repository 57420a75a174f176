/*
 * escape.c — one escaper per output context, and the allow-list for links
 * taken from card data.  Runs of safe bytes are copied with one append.
 */
#include <stdint.h>
#include <string.h>

#include "sharecard/escape.h"

void sc_esc_html(struct sc_buf *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        sc_buf_append(b, s + run, i - run);
        sc_buf_puts(b, rep);
        run = i + 1;
    }
    sc_buf_append(b, s + run, n - run);
}

void sc_esc_json(struct sc_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[8];
        const char *rep = NULL;
        size_t skip = 1;
        switch (c) {
        case '"': rep = "\\\""; break;
        case '\\': rep = "\\\\"; break;
        case '\n': rep = "\\n"; break;
        case '\r': rep = "\\r"; break;
        case '\t': rep = "\\t"; break;
        case '\b': rep = "\\b"; break;
        case '\f': rep = "\\f"; break;
        case '<':
        case '>':
        case '&': break;
        case 0xe2:
            /* U+2028 and U+2029 end lines in JavaScript. */
            if (i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
                rep = (unsigned char)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
                skip = 3;
                break;
            }
            continue;
        default:
            if (c >= 0x20 && c != 0x7f)
                continue;
        }
        if (!rep) {
            memcpy(tmp, "\\u00", 4);
            tmp[4] = hex[c >> 4];
            tmp[5] = hex[c & 15];
            tmp[6] = '\0';
            rep = tmp;
        }
        sc_buf_append(b, s + run, i - run);
        sc_buf_puts(b, rep);
        i += skip - 1;
        run = i + 1;
    }
    sc_buf_append(b, s + run, n - run);
}

void sc_esc_url_component(struct sc_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~')
            continue;
        char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
        sc_buf_append(b, s + run, i - run);
        sc_buf_append(b, enc, 3);
        run = i + 1;
    }
    sc_buf_append(b, s + run, n - run);
}

static bool prefix_ci(const char *s, const char *p)
{
    for (; *p; s++, p++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != *p)
            return false;
    }
    return true;
}

bool sc_url_allowed(const char *url)
{
    if (!url)
        return false;
    size_t n = strnlen(url, 2049);
    if (n == 0 || n > 2048)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c == 0x7f)
            return false;
    }
    if (prefix_ci(url, "https://") || prefix_ci(url, "http://")) {
        const char *host = strstr(url, "://") + 3;
        return *host && *host != '/' && *host != '?' && *host != '#' && *host != '@';
    }
    if (prefix_ci(url, "mailto:") || prefix_ci(url, "tel:")) {
        const char *rest = strchr(url, ':') + 1;
        return *rest != '\0';
    }
    return false;
}

bool sc_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
                return false;
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}
