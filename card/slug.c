/*
 * slug.c — card slugs and tracked-link codes.
 *
 * Generated ones are random (libsodium's CSPRNG) over an alphabet without
 * look-alikes, so they read well aloud and need no transliteration of
 * Chinese names: 8 characters of 31 give about 40 bits.  Custom slugs are
 * validated and may not shadow our own paths.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sharecard/card.h"

static const char alphabet[] = "23456789abcdefghjkmnpqrstuvwxyz";

void sc_slug_random(char *out, size_t len)
{
    if (sodium_init() < 0)
        abort(); /* no CSPRNG: nothing safe to hand out */
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[randombytes_uniform((uint32_t)(sizeof(alphabet) - 1))];
    out[len] = '\0';
}

static const char *const reserved[] = {
    "about", "admin", "api",      "app",   "assets", "c",      "dashboard", "e",
    "edit",  "help",  "healthz",  "l",     "login",  "logout", "me",        "metrics",
    "new",   "qr",    "settings", "share", "signup", "static", "www",       "null",
};

bool sc_slug_valid(const char *slug, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!slug) {
        *why = "a slug is required";
        return false;
    }
    size_t n = strnlen(slug, SC_SLUG_MAX + 1);
    if (n < 3 || n > SC_SLUG_MAX) {
        *why = "a slug has 3 to 32 characters";
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = slug[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-') {
            *why = "a slug may hold only lower-case letters a-z, digits and '-'";
            return false;
        }
        if (c == '-' && (i == 0 || i == n - 1 || slug[i - 1] == '-')) {
            *why = "a slug starts and ends with a letter or digit and has no '--'";
            return false;
        }
    }
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcmp(slug, reserved[i]) == 0) {
            *why = "that slug is reserved for sharecard's own pages";
            return false;
        }
    *why = NULL;
    return true;
}
