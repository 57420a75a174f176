/*
 * domain.c — names of the shared nouns (domain.h): roles, channels and the
 * device class of a user-agent's device family.
 */
#include <string.h>

#include "sharecard/domain.h"

static const char *const roles[] = {"sales", "manager", "admin"};
static const char *const channels[] = {"qr",       "wechat",   "sms",  "email",
                                       "whatsapp", "linkedin", "copy", "other"};

const char *sc_role_name(enum sc_role r)
{
    return (unsigned)r < 3 ? roles[r] : "sales";
}

bool sc_role_parse(const char *s, enum sc_role *out)
{
    for (unsigned i = 0; i < 3; i++)
        if (s && strcmp(s, roles[i]) == 0) {
            *out = (enum sc_role)i;
            return true;
        }
    return false;
}

const char *sc_channel_name(enum sc_channel c)
{
    return (unsigned)c < 8 ? channels[c] : "other";
}

bool sc_channel_parse(const char *s, enum sc_channel *out)
{
    for (unsigned i = 0; i < 8; i++)
        if (s && strcmp(s, channels[i]) == 0) {
            *out = (enum sc_channel)i;
            return true;
        }
    return false;
}

enum sc_device sc_device_of(const char *family)
{
    if (!family)
        return SC_DEV_OTHER;
    return strcmp(family, "phone") == 0     ? SC_DEV_PHONE
           : strcmp(family, "tablet") == 0  ? SC_DEV_TABLET
           : strcmp(family, "desktop") == 0 ? SC_DEV_DESKTOP
                                            : SC_DEV_OTHER;
}

const char *sc_device_name(enum sc_device d)
{
    static const char *const names[SC_DEV_COUNT] = {"other", "phone", "tablet", "desktop"};
    return d < SC_DEV_COUNT ? names[d] : "other";
}
