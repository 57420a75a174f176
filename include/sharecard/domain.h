/*
 * domain.h — the nouns every layer shares: members and their roles, tracked
 * links and their channels, the device classes of the devices report.  Plain
 * types and their names; no storage, no HTTP.  Implemented in
 * tracker/domain.c.
 */
#ifndef SHARECARD_DOMAIN_H
#define SHARECARD_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "sharecard/card.h"
#include "sharecard/tracker.h"

enum sc_role { SC_ROLE_SALES = 0, SC_ROLE_MANAGER = 1, SC_ROLE_ADMIN = 2 };

enum sc_channel {
    SC_CH_QR = 0,
    SC_CH_WECHAT,
    SC_CH_SMS,
    SC_CH_EMAIL,
    SC_CH_WHATSAPP,
    SC_CH_LINKEDIN,
    SC_CH_COPY,
    SC_CH_OTHER
};

const char *sc_role_name(enum sc_role r);             /* "sales", … */
bool sc_role_parse(const char *s, enum sc_role *out); /* false if unknown */
const char *sc_channel_name(enum sc_channel c);       /* "qr", … */
bool sc_channel_parse(const char *s, enum sc_channel *out);

#define SC_EMAIL_MAX 254
#define SC_NAME_MAX  200
#define SC_TEAM_MAX  100

struct sc_member {
    int64_t id;
    char email[SC_EMAIL_MAX + 1]; /* normalised: trimmed, lower-case */
    char name[SC_NAME_MAX + 1];
    char team[SC_TEAM_MAX + 1]; /* "" when none */
    enum sc_role role;
    bool disabled;
    int64_t created_at;
    char slug[SC_SLUG_MAX + 1]; /* their card's slug */
};

struct sc_link {
    int64_t id;
    char code[SC_CODE_LEN + 1];
    int64_t card_id;
    char card_slug[SC_SLUG_MAX + 1];
    enum sc_channel channel;
    int64_t owner_member_id;   /* 0 when not a member's */
    int64_t owner_customer_id; /* 0 when not a customer's */
    int64_t parent_link_id;    /* 0 at the root of a share tree */
    int64_t created_at;
    char owner_visitor[SC_VID_MAX]; /* an anonymous visitor's share: their id */
};

/* Device classes kept with each unique visitor-day (the devices report). */
enum sc_device { SC_DEV_OTHER = 0, SC_DEV_PHONE, SC_DEV_TABLET, SC_DEV_DESKTOP, SC_DEV_COUNT };
enum sc_device sc_device_of(const char *family); /* "phone" → SC_DEV_PHONE, … */
const char *sc_device_name(enum sc_device d);    /* "phone", … "other" */
#endif
