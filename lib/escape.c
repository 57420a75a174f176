/*
 * escape.c — one escaper per output context, and the allow-list for links
 * taken from card data.
 *
 * Each escaper looks bytes up in a 256-entry table and copies runs of safe
 * bytes with one append, so plain text costs one memcpy.  All of them append
 * to a struct sc_buf and leave failure to its sticky error.
 */
#include <stdint.h>
#include <string.h>

#include "sharecard/escape.h"

#define URL_MAX 2048 /* longest link sc_url_allowed() accepts */

/* HTML: the replacement for each special byte; NULL for bytes copied as they are. */
static const char *const html_rep[256] = {
    ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;",
};

void sc_esc_html(struct sc_buf *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = html_rep[(unsigned char)s[i]];
        if (!rep)
            continue;
        if (i > run)
            sc_buf_append(b, s + run, i - run);
        sc_buf_puts(b, rep);
        run = i + 1;
    }
    if (n > run)
        sc_buf_append(b, s + run, n - run);
}

/*
 * Length of the well-formed UTF-8 sequence at 'p' ('n' bytes left), as
 * Unicode's table 3-7 defines it (the range allowed for the second byte
 * depends on the first, which shuts out overlong forms, surrogates and code
 * points past U+10FFFF); 0 when ill-formed or cut short.  'p[0]' >= 0x80.
 */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong below U+0800 */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates U+D800..U+DFFF */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xf4)
            hi = 0x8f; /* past U+10FFFF */
    } else {
        return 0; /* continuation byte, 0xc0, 0xc1 or 0xf5.. */
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((p[k] & 0xc0) != 0x80)
            return 0;
    return len;
}

/*
 * JSON: 0 copies the byte; a letter is the short escape (\n …); 'u' is
 * \u00XX; every other byte from 0x80 up ('U' below) starts a multi-byte
 * character, copied when well-formed and replaced by U+FFFD when not (whatever a store holds, a
 * JSON body stays valid UTF-8); 'L' is also the lead byte of U+2028/U+2029, which end a line in
 * JavaScript and so would break a JSON body inlined in <script>.
 */
static const char json_class[256] = {
    [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u',  [0x04] = 'u', [0x05] = 'u',
    [0x06] = 'u', [0x07] = 'u', ['\b'] = 'b', ['\t'] = 't',  ['\n'] = 'n', [0x0b] = 'u',
    ['\f'] = 'f', ['\r'] = 'r', [0x0e] = 'u', [0x0f] = 'u',  [0x10] = 'u', [0x11] = 'u',
    [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u',  [0x16] = 'u', [0x17] = 'u',
    [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u',  [0x1c] = 'u', [0x1d] = 'u',
    [0x1e] = 'u', [0x1f] = 'u', ['"'] = '"',  ['\\'] = '\\', ['<'] = 'u',  ['>'] = 'u',
    ['&'] = 'u',  [0x7f] = 'u', [0xe2] = 'L',
};

void sc_esc_json(struct sc_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        char cls = json_class[p[i]];
        char rep[7];
        size_t replen = 2, skip = 1;
        if (!cls) {
            if (p[i] < 0x80)
                continue;
            cls = 'U';
        }
        if (cls == 'L' && n - i >= 3 && p[i + 1] == 0x80 &&
            (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
            memcpy(rep, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
            replen = 6;
            skip = 3;
        } else if (cls == 'L' || cls == 'U') {
            size_t len = utf8_len(p + i, n - i);
            if (len) {
                i += len - 1;
                continue;
            }
            memcpy(rep, "\\ufffd", 6); /* one ill-formed byte */
            replen = 6;
        } else if (cls == 'u') {
            memcpy(rep, "\\u00", 4);
            rep[4] = hex[p[i] >> 4];
            rep[5] = hex[p[i] & 15];
            replen = 6;
        } else {
            rep[0] = '\\';
            rep[1] = cls;
        }
        if (i > run)
            sc_buf_append(b, s + run, i - run);
        sc_buf_append(b, rep, replen);
        i += skip - 1;
        run = i + 1;
    }
    if (n > run)
        sc_buf_append(b, s + run, n - run);
}

/* RFC 3986 unreserved characters: the only bytes a URL component keeps. */
static bool url_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

void sc_esc_url_component(struct sc_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (url_unreserved(c))
            continue;
        char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
        if (i > run)
            sc_buf_append(b, s + run, i - run);
        sc_buf_append(b, enc, 3);
        run = i + 1;
    }
    if (n > run)
        sc_buf_append(b, s + run, n - run);
}

/* True when the 'n' bytes at 's' equal the lower-case ASCII 'lower', ignoring case. */
static bool eq_ci(const char *s, size_t n, const char *lower)
{
    if (strlen(lower) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lower[i])
            return false;
    }
    return true;
}

/*
 * True when 'rest' (what follows "http:" or "https:") is "//" and an
 * authority with a non-empty host.  Userinfo ("https://bank.example@evil")
 * is refused: no card link needs it and it only serves to mislead.  A
 * backslash ends the authority, as browsers read it as a slash.
 */
static bool http_rest_ok(const char *rest)
{
    if (rest[0] != '/' || rest[1] != '/')
        return false;
    const char *host = rest + 2;
    size_t alen = strcspn(host, "/?#\\");
    if (memchr(host, '@', alen))
        return false;
    size_t hlen;
    if (host[0] == '[') {
        const char *close = memchr(host, ']', alen);
        if (!close || close == host + 1)
            return false;
        hlen = (size_t)(close - host) + 1;
    } else {
        hlen = strcspn(host, ":/?#\\");
        if (hlen > alen)
            hlen = alen;
    }
    if (hlen == 0)
        return false;
    /* Whatever follows the host in the authority must be a port: ":" digits. */
    if (hlen < alen) {
        if (host[hlen] != ':')
            return false;
        for (size_t i = hlen + 1; i < alen; i++)
            if (host[i] < '0' || host[i] > '9')
                return false;
    }
    return true;
}

bool sc_url_allowed(const char *url)
{
    if (!url)
        return false;
    size_t n = strnlen(url, URL_MAX + 1);
    if (n == 0 || n > URL_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c == 0x7f)
            return false;
    }
    const char *colon = memchr(url, ':', n);
    if (!colon)
        return false;
    size_t slen = (size_t)(colon - url);
    const char *rest = colon + 1;
    if (eq_ci(url, slen, "https") || eq_ci(url, slen, "http"))
        return http_rest_ok(rest);
    if (eq_ci(url, slen, "mailto") || eq_ci(url, slen, "tel"))
        return rest[0] != '\0';
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
        size_t len = utf8_len(p + i, n - i);
        if (!len)
            return false;
        i += len;
    }
    return true;
}

void sc_utf8_repair(struct sc_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0, i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = utf8_len(p + i, n - i);
        if (len) {
            i += len;
            continue;
        }
        if (i > run)
            sc_buf_append(b, s + run, i - run);
        sc_buf_append(b, "\xef\xbf\xbd", 3); /* U+FFFD for the ill-formed byte */
        run = ++i;
    }
    if (n > run)
        sc_buf_append(b, s + run, n - run);
}
