/*
 * tracker.h — what an event is made of before it is stored: who the
 * visitor is, whether they are a bot, which browser, and their anonymised
 * address.  Pure functions; no HTTP, no database.
 */
#ifndef SHARECARD_TRACKER_H
#define SHARECARD_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sharecard/err.h"

#define SC_IP_ANON_MAX 48 /* room for an anonymised IPv6 address and NUL */

/*
 * Anonymises the textual address 'ip' before anything stores it: IPv4 keeps
 * its /24 (203.0.113.77 → 203.0.113.0), IPv6 its /48 (2001:db8:1:2::5 →
 * 2001:db8:1::), an IPv4-mapped IPv6 address is treated as IPv4.  SC_EINVAL
 * when 'ip' is not an address.
 */
enum sc_err sc_ip_anonymise(const char *ip, char out[SC_IP_ANON_MAX]);

/*
 * Why the request with user-agent 'ua' (may be NULL) and method HEAD when
 * 'head' is true is not a person, as a short static word ("preview",
 * "crawler", "headless", "scanner", "tool", "empty", "head"), or NULL for a
 * person's browser — in-app browsers such as WeChat's included.
 */
const char *sc_bot_reason(const char *ua, bool head);

struct sc_ua_info {
    char browser[32]; /* "Chrome", "Mobile Safari", "WeChat", … or "Other" */
    char os[32];      /* "Android", "iOS", "Windows", … or "Other" */
    char device[16];  /* "phone", "tablet", "desktop", "bot", "other" */
};

/* Families of 'ua' (may be NULL) from a small built-in table. */
void sc_ua_families(const char *ua, struct sc_ua_info *out);

#endif
