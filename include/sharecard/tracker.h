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

#include "sharecard/card.h"
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
 * The same for an IPv4 address given as its 4 bytes (network order, as in a
 * struct in_addr), without going through text: the request thread's way.
 */
void sc_ip4_anonymise(const unsigned char a[4], char out[SC_IP_ANON_MAX]);

/*
 * Why the request with user-agent 'ua' (may be NULL) and method HEAD when
 * 'head' is true is not a person, as a short static word ("preview",
 * "crawler", "headless", "scanner", "tool", "empty", "head"), or NULL for a
 * person's browser — in-app browsers such as WeChat's included.
 */
const char *sc_bot_reason(const char *ua, bool head);

/* The small number stored for a bot reason (0 for a person), and back. */
int sc_bot_code(const char *reason);
const char *sc_bot_name(int code);

struct sc_ua_info {
    char browser[48]; /* "Chrome", "Mobile Safari", "WeChat", … or "Other" */
    char os[48];      /* "Android", "iOS", "Windows", … or "Other" */
    char device[16];  /* "phone", "tablet", "desktop", "bot", "other" */
    bool inapp;       /* an app's own browser (WeChat, DingTalk, …): named after the app */
};

/*
 * Families of 'ua' (may be NULL) from a small built-in table; it knows the
 * in-app browsers of Chinese and social apps better than uap-core does.
 */
void sc_ua_families(const char *ua, struct sc_ua_info *out);

/*
 * Both at once, in one pass over 'ua': fills 'out' as sc_ua_families() does
 * and returns what sc_bot_reason('ua', 'head') returns.
 */
const char *sc_ua_classify(const char *ua, bool head, struct sc_ua_info *out);

struct sc_uap;
/*
 * The whole judgement of a request's browser, remembered per thread by the
 * user-agent string: sc_ua_classify(), then, when 'u' is given, uap-core's
 * browser (unless an in-app browser's name is known) and OS families, its
 * "Spider" devices judged "crawler", and "bot" as the device of anything
 * that is not a person.  Returns the bot reason (NULL for a person).  What
 * the request thread calls once per tracked request; the event writer takes
 * its answer.
 */
const char *sc_ua_judge(const char *ua, bool head, struct sc_uap *u, struct sc_ua_info *out);
/* A 64-bit hash of the 'n' bytes at 's' (not cryptographic): user-agent caches' keys. */
uint64_t sc_ua_hash(const char *s, size_t n);

/* ---- events ---------------------------------------------------------------- */

struct sc_signup;
struct sc_conversion;

enum sc_ev_type {
    SC_EV_SCAN = 0, /* /l/{code} of a qr-channel link */
    SC_EV_OPEN,     /* /l/{code} of any other channel */
    SC_EV_VIEW,     /* landing page served */
    SC_EV_SHARE,    /* a tracked link minted */
    SC_EV_CLICK,    /* contact action (beacon) */
    SC_EV_SAVE,     /* vCard downloaded */
    SC_EV_DWELL,    /* seconds on the page (beacon) */
    SC_EV_SIGNUP,
    SC_EV_CONVERT,
    SC_EV_COUNT
};

const char *sc_ev_name(enum sc_ev_type t); /* "scan", … */
bool sc_ev_parse(const char *s, enum sc_ev_type *out);

enum sc_click_action {
    SC_ACT_NONE = 0,
    SC_ACT_CALL,
    SC_ACT_EMAIL,
    SC_ACT_WECHAT,
    SC_ACT_WEBSITE,
    SC_ACT_MAP
};
const char *sc_action_name(enum sc_click_action a);
bool sc_action_parse(const char *s, enum sc_click_action *out);

#define SC_VID_MAX     48  /* visitor id: "c:" + 32 base64url, or "h:" + 32 hex */
#define SC_UA_MAX      512 /* user-agent bytes kept */
#define SC_REFHOST_MAX 128

/*
 * One event as the request thread hands it to the writer.  Fixed-size, so
 * the queue needs no allocation per event.
 */
struct sc_event {
    int64_t ts; /* unix seconds */
    enum sc_ev_type type;
    int64_t card_id;
    int64_t link_id;          /* 0 when none */
    char visitor[SC_VID_MAX]; /* "" for none */
    bool minted;              /* 'visitor' was minted by this request: no store has it yet */
    char ip[SC_IP_ANON_MAX];  /* already anonymised */
    char ua[SC_UA_MAX];
    char referrer_host[SC_REFHOST_MAX];
    bool head;                   /* a HEAD request: never a person */
    enum sc_click_action action; /* SC_EV_CLICK */
    int32_t value;               /* SC_EV_DWELL: seconds */
    /* SC_EV_SHARE: the link being minted, stored in the event's transaction. */
    char new_code[SC_CODE_LEN + 1];
    int new_channel;           /* enum sc_channel */
    int64_t new_parent;        /* link the sharer arrived by, or 0 */
    int64_t owner_member_id;   /* who shares: a member, */
    int64_t owner_customer_id; /* a customer, or else the visitor */
    /* SC_EV_SIGNUP, SC_EV_CONVERT: the request's own record, read and filled by the store. */
    struct sc_signup *signup;
    struct sc_conversion *conversion;
    /*
     * Set by the request thread when it has judged the browser already
     * (sc_ua_judge on 'ua' and 'head'), so the writer does not do it again.
     */
    bool classified;
    const char *bot_reason; /* its answer: a static string, NULL for a person */
    struct sc_ua_info agent;
};

/* ---- visitors ----------------------------------------------------------------- */

/* A new random cookie visitor id ("c:" + 32 base64url characters) in 'out'. */
void sc_visitor_new(char out[SC_VID_MAX]);
/* True when 'cookie' is a cookie value we could have minted (the part after "c:"). */
bool sc_visitor_cookie_ok(const char *cookie);
/*
 * The cookie-less visitor id for a request that may not be given a cookie:
 * "h:" + a keyed hash of ('ip', 'ua') under the day's secret 'salt' (32
 * bytes), as privacy-first analytics do.  Stable for one day, unlinkable
 * across days once the salt is gone.
 */
void sc_visitor_hash(const unsigned char salt[32], const char *ip, const char *ua,
                     char out[SC_VID_MAX]);

#define SC_VKEY_LEN 16
/*
 * The fixed-size key a store files visitor id 'vid' under: for an id minted
 * with a time prefix, its 48-bit milliseconds then 80 bits of a hash of the
 * whole id (so new visitors' keys sort after old ones'); for any other id,
 * 128 bits of the hash.  The same id always gives the same key.
 */
void sc_visitor_key(const char *vid, unsigned char key[SC_VKEY_LEN]);

/* The host of a Referer header value, lower-cased, into 'out'; "" when none. */
void sc_referrer_host(const char *referer, char out[SC_REFHOST_MAX]);

#endif
