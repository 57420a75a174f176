/*
 * visitor.c — who a visitor is, without knowing who they are.
 *
 * A first-party cookie holds a random id minted on the first request that
 * arrives without one, so twelve people on one venue Wi-Fi with the same
 * phone are twelve visitors.  Where no cookie may be set (DNT, GPC) the id
 * is a keyed hash of address and user-agent under a salt that changes every
 * day, so a person can be counted once a day and never followed longer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sharecard/tracker.h"

static const char *const ev_names[SC_EV_COUNT] = {"scan", "open",  "view",   "share",  "click",
                                                  "save", "dwell", "signup", "convert"};

const char *sc_ev_name(enum sc_ev_type t)
{
    return (unsigned)t < SC_EV_COUNT ? ev_names[t] : "unknown";
}

bool sc_ev_parse(const char *s, enum sc_ev_type *out)
{
    for (unsigned i = 0; s && i < SC_EV_COUNT; i++)
        if (strcmp(s, ev_names[i]) == 0) {
            *out = (enum sc_ev_type)i;
            return true;
        }
    return false;
}

static const char *const actions[] = {"", "call", "email", "wechat", "website", "map"};

const char *sc_action_name(enum sc_click_action a)
{
    return (unsigned)a < 6 ? actions[a] : "";
}

bool sc_action_parse(const char *s, enum sc_click_action *out)
{
    for (unsigned i = 1; s && i < 6; i++)
        if (strcmp(s, actions[i]) == 0) {
            *out = (enum sc_click_action)i;
            return true;
        }
    return false;
}

/*
 * A new id is 12 hex digits of the time in milliseconds, then 120 random
 * bits: new visitors sort after old ones, so storing them appends to the end
 * of the visitors index instead of dirtying a random page of it for each
 * one (a tenfold difference in pages written per batch).
 */
void sc_visitor_new(char out[SC_VID_MAX])
{
    /*
     * Random bytes come from a per-thread pool refilled 64 ids at a time:
     * one getrandom() system call per 64 new visitors instead of one each
     * (every first scan mints an id).  Each byte is handed out once.
     */
    static _Thread_local unsigned char pool[15 * 64];
    static _Thread_local size_t used = sizeof(pool);
    unsigned char raw[15];
    if (used + sizeof(raw) > sizeof(pool)) {
        if (sodium_init() < 0)
            abort();
        randombytes_buf(pool, sizeof(pool));
        used = 0;
    }
    memcpy(raw, pool + used, sizeof(raw));
    sodium_memzero(pool + used, sizeof(raw));
    used += sizeof(raw);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long ms =
        ((unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL) &
        0xffffffffffffULL;
    static const char hex[] = "0123456789abcdef";
    out[0] = 'c';
    out[1] = ':';
    for (int i = 0; i < 12; i++) /* the 48 bits of milliseconds as 12 hex digits, leading first */
        out[2 + i] = hex[(ms >> (44 - 4 * i)) & 0xf];
    sodium_bin2base64(out + 14, SC_VID_MAX - 14, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool sc_visitor_cookie_ok(const char *cookie)
{
    if (!cookie || strlen(cookie) != 32)
        return false;
    for (const char *p = cookie; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

void sc_visitor_hash(const unsigned char salt[32], const char *ip, const char *ua,
                     char out[SC_VID_MAX])
{
    crypto_generichash_state st;
    unsigned char h[16];
    crypto_generichash_init(&st, salt, 32, sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)(ip ? ip : ""), strlen(ip ? ip : ""));
    crypto_generichash_update(&st, (const unsigned char *)"\n", 1);
    crypto_generichash_update(&st, (const unsigned char *)(ua ? ua : ""), strlen(ua ? ua : ""));
    crypto_generichash_final(&st, h, sizeof(h));
    out[0] = 'h';
    out[1] = ':';
    sodium_bin2hex(out + 2, SC_VID_MAX - 2, h, sizeof(h));
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

void sc_visitor_key(const char *vid, unsigned char key[SC_VKEY_LEN])
{
    size_t len = strlen(vid);
    size_t off = 0;
    /* "c:" + 12 hex digits of milliseconds + 20 random: the time leads the key. */
    if (len == 34 && vid[0] == 'c' && vid[1] == ':') {
        off = 6;
        for (int i = 0; i < 12 && off; i++) {
            int d = hex_digit(vid[2 + i]);
            if (d < 0)
                off = 0;
            else if (i % 2 == 0)
                key[i / 2] = (unsigned char)(d << 4);
            else
                key[i / 2] |= (unsigned char)d;
        }
    }
    unsigned char h[SC_VKEY_LEN]; /* BLAKE2b gives no fewer than 16 bytes: cut it */
    crypto_generichash(h, sizeof(h), (const unsigned char *)vid, len, NULL, 0);
    memcpy(key + off, h, SC_VKEY_LEN - off);
}

void sc_referrer_host(const char *referer, char out[SC_REFHOST_MAX])
{
    out[0] = '\0';
    if (!referer)
        return;
    const char *p = strstr(referer, "://");
    if (!p)
        return;
    p += 3;
    const char *at = NULL;
    size_t n = strcspn(p, "/?#");
    for (size_t i = 0; i < n; i++)
        if (p[i] == '@')
            at = p + i;
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t colon = strcspn(p, ":/?#");
    if (colon < n)
        n = colon;
    if (n >= SC_REFHOST_MAX)
        n = SC_REFHOST_MAX - 1;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == '[' || c == ']')) {
            out[0] = '\0';
            return;
        }
        out[i] = c;
    }
    out[n] = '\0';
}
