/*
 * card.c — the card model's rules: field limits and validation, and the
 * language of a card or a visitor.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sharecard/card.h"
#include "sharecard/escape.h"

void sc_card_cleanup(struct sc_card *c)
{
    free(c->name);
    free(c->title);
    free(c->company);
    free(c->phone);
    free(c->phone_work);
    free(c->email);
    free(c->wechat);
    free(c->website);
    free(c->address);
    free(c->bio);
    free(c->avatar);
    memset(c, 0, sizeof(*c));
}

static bool set(const char *s)
{
    return s && s[0];
}

/* SC_OK when 's' (may be NULL) is at most 'max' bytes of clean UTF-8. */
static enum sc_err check_text(const char *s, size_t max, const char *too_long, const char **why)
{
    if (!s)
        return SC_OK;
    size_t n = strnlen(s, max + 1);
    if (n > max) {
        *why = too_long;
        return SC_ETOOBIG;
    }
    if (!sc_utf8_valid(s, n)) {
        *why = "A field contains invalid characters (it must be UTF-8 text without "
               "control characters).";
        return SC_EINVAL;
    }
    return SC_OK;
}

static bool email_ok(const char *e)
{
    size_t n = strlen(e);
    const char *at = strchr(e, '@');
    if (n > 254 || !at || at == e || strchr(at + 1, '@'))
        return false;
    const char *dot = strrchr(at + 1, '.');
    if (!dot || dot == at + 1 || !dot[1])
        return false;
    for (const char *p = e; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == '"' || *p == ',' ||
            *p == ';')
            return false;
    return true;
}

static bool phone_ok(const char *p)
{
    int digits = 0;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (!strchr("+-() .", *p))
            return false;
    }
    return digits >= 3 && digits <= 20;
}

enum sc_err sc_card_validate(const struct sc_card *c, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    enum sc_err e;
    const char *const too_long = "A field is too long (at most 200 characters).";
    if (!set(c->name)) {
        *why = "The name is required.";
        return SC_EINVAL;
    }
    const char *fields[] = {c->name,       c->title, c->company, c->phone,
                            c->phone_work, c->email, c->wechat};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if ((e = check_text(fields[i], SC_CARD_MAX_FIELD, too_long, why)) != SC_OK)
            return e;
    if ((e = check_text(c->website, SC_CARD_MAX_URL, "The website address is too long.", why)))
        return e;
    if ((e = check_text(c->address, SC_CARD_MAX_TEXT, "The address is too long.", why)))
        return e;
    if ((e = check_text(c->bio, SC_CARD_MAX_TEXT, "The bio is too long (at most 2000 bytes).",
                        why)))
        return e;
    const char *name = c->name;
    for (;;) {
        if (*name == ' ' || *name == '\t' || *name == '\n' || *name == '\r')
            name++;
        else if (strncmp(name, "\xe3\x80\x80", 3) == 0) /* U+3000 ideographic space */
            name += 3;
        else
            break;
    }
    if (!*name) {
        *why = "The name is required.";
        return SC_EINVAL;
    }
    if (set(c->email) && !email_ok(c->email)) {
        *why = "The email address does not look right (like name@example.com).";
        return SC_EINVAL;
    }
    if ((set(c->phone) && !phone_ok(c->phone)) ||
        (set(c->phone_work) && !phone_ok(c->phone_work))) {
        *why = "A phone number may hold only digits, spaces and + - ( ).";
        return SC_EINVAL;
    }
    if (set(c->website) &&
        !(sc_url_allowed(c->website) && (strncasecmp(c->website, "https://", 8) == 0 ||
                                         strncasecmp(c->website, "http://", 7) == 0))) {
        *why = "The website must start with https:// or http://.";
        return SC_EINVAL;
    }
    if (c->theme[0]) {
        bool ok = c->theme[0] == '#' && strlen(c->theme) == 7;
        for (int i = 1; ok && i < 7; i++)
            ok = strchr("0123456789abcdefABCDEF", c->theme[i]) != NULL;
        if (!ok) {
            *why = "The theme colour must be written #rrggbb.";
            return SC_EINVAL;
        }
    }
    if (c->avatar_len > 0) {
        if (c->avatar_len > SC_AVATAR_MAX) {
            *why = "The photo is too large (at most 512 KB).";
            return SC_ETOOBIG;
        }
        static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        static const unsigned char jpg[3] = {0xff, 0xd8, 0xff};
        bool is_png = c->avatar && c->avatar_len >= 8 && memcmp(c->avatar, png, 8) == 0;
        bool is_jpg = c->avatar && c->avatar_len >= 3 && memcmp(c->avatar, jpg, 3) == 0;
        if (!c->avatar || (!is_png && !is_jpg) ||
            (is_png && strcmp(c->avatar_mime, "image/png") != 0) ||
            (is_jpg && strcmp(c->avatar_mime, "image/jpeg") != 0)) {
            *why = "The photo must be a PNG or JPEG image.";
            return SC_EINVAL;
        }
    }
    return SC_OK;
}

enum sc_lang sc_lang_parse(const char *tag, enum sc_lang dflt)
{
    if (!tag)
        return dflt;
    while (*tag == ' ')
        tag++;
    if (strncasecmp(tag, "zh", 2) == 0 &&
        (tag[2] == '\0' || tag[2] == '-' || tag[2] == '_' || tag[2] == ';' || tag[2] == ','))
        return SC_LANG_ZH;
    if (strncasecmp(tag, "en", 2) == 0 &&
        (tag[2] == '\0' || tag[2] == '-' || tag[2] == '_' || tag[2] == ';' || tag[2] == ','))
        return SC_LANG_EN;
    return dflt;
}

const char *sc_lang_tag(enum sc_lang l)
{
    return l == SC_LANG_ZH ? "zh-CN" : "en";
}

enum sc_lang sc_lang_accept(const char *h, enum sc_lang dflt)
{
    if (!h)
        return dflt;
    int best_q = 0;
    enum sc_lang best = dflt;
    const char *p = h;
    for (int items = 0; *p && items < 32; items++) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *start = p;
        size_t n = strcspn(p, ",");
        const char *end = p + n;
        int q = 1000; /* thousandths, read by hand: strtod would follow the locale */
        const char *semi = memchr(start, ';', n);
        if (semi) {
            const char *qs = semi + 1;
            while (qs < end && *qs == ' ')
                qs++;
            q = 0;
            if (qs + 1 < end && (qs[0] == 'q' || qs[0] == 'Q') && qs[1] == '=') {
                const char *d = qs + 2;
                if (d < end && *d == '1') {
                    q = 1000;
                } else if (d < end && *d == '0') {
                    d++;
                    if (d < end && *d == '.') {
                        int scale = 100;
                        for (d++; d < end && *d >= '0' && *d <= '9' && scale > 0; d++, scale /= 10)
                            q += (*d - '0') * scale;
                    }
                }
            }
        }
        enum sc_lang l = sc_lang_parse(start, (enum sc_lang) - 1);
        if ((int)l != -1 && q > best_q) {
            best_q = q;
            best = l;
        }
        p = end;
    }
    return best;
}
