/*
 * fuzz_cookie.c — libFuzzer target for what we make of cookie values
 * (libmicrohttpd splits the Cookie header itself; these are ours): the
 * visitor cookie's check (sc_visitor_cookie_ok), the visitor id it becomes
 * ("c:" + the cookie) and the key SQLite files it under (sc_visitor_key),
 * the session cookie's length bound, and the Referer's host
 * (sc_referrer_host), which a scan also stores.
 *
 * What must hold: a cookie is accepted exactly when it is 32 base64url
 * characters (checked against a plain reference); every id we mint passes
 * the check it will meet when it comes back; a key depends on the id alone
 * and carries the id's time in its first 6 bytes when there is one; a host
 * is lower-case letters, digits, '.', '-', '[' and ']' only, and shorter
 * than SC_REFHOST_MAX.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/tracker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[256];
    size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    size_t len = strlen(s);

    /* The visitor cookie. */
    int want = len == 32;
    for (size_t i = 0; want && i < len; i++)
        want = b64url(s[i]);
    if (sc_visitor_cookie_ok(s) != (want != 0))
        abort();
    if (want) {
        char vid[SC_VID_MAX];
        unsigned char k1[SC_VKEY_LEN], k2[SC_VKEY_LEN];
        snprintf(vid, sizeof(vid), "c:%s", s); /* as sc_track_identify() makes it */
        if (strlen(vid) != 34)
            abort();
        memset(k1, 0xaa, sizeof(k1));
        memset(k2, 0x55, sizeof(k2));
        sc_visitor_key(vid, k1);
        sc_visitor_key(vid, k2);
        if (memcmp(k1, k2, sizeof(k1)) != 0)
            abort(); /* every byte written, from the id alone */
        int hex = 1;
        for (int i = 0; hex && i < 12; i++)
            hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
        if (hex) {
            for (int i = 0; i < 6; i++) {
                unsigned v = 0;
                sscanf(s + 2 * i, "%2x", &v);
                if (k1[i] != (unsigned char)v)
                    abort(); /* the time leads the key */
            }
        }
    }
    /* Any id, any length: a key without reading past it. */
    unsigned char k[SC_VKEY_LEN];
    sc_visitor_key(s, k);

    /* An id we mint comes back as a cookie that passes. */
    static int minted;
    if (!minted++) {
        char vid[SC_VID_MAX];
        sc_visitor_new(vid);
        if (strncmp(vid, "c:", 2) != 0 || !sc_visitor_cookie_ok(vid + 2))
            abort();
    }

    /* The Referer's host. */
    char host[SC_REFHOST_MAX];
    memset(host, 'x', sizeof(host));
    sc_referrer_host(s, host);
    size_t hl = strnlen(host, sizeof(host));
    if (hl >= sizeof(host))
        abort();
    for (size_t i = 0; i < hl; i++) {
        char c = host[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == '[' || c == ']'))
            abort();
    }
    return 0;
}
