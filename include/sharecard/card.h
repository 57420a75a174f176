/*
 * card.h — a salesperson's digital business card: the model and its rules.
 *
 * A card is owned by one member, has a stable slug (its URL) and one
 * qr-channel tracked link whose code the printed QR encodes.  Every text
 * field is UTF-8, owned by the struct (malloc'ed), NULL when unset, and
 * limited to the SC_CARD_MAX_* bytes below.
 */
#ifndef SHARECARD_CARD_H
#define SHARECARD_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sharecard/buf.h"
#include "sharecard/err.h"

enum sc_lang { SC_LANG_EN = 0, SC_LANG_ZH = 1 };

#define SC_SLUG_MAX       32   /* bytes in a slug */
#define SC_SLUG_GEN_LEN   8    /* length of generated slugs */
#define SC_CODE_LEN       8    /* length of tracked-link codes */
#define SC_CARD_MAX_FIELD 200  /* name, title, company, email, wechat, phones */
#define SC_CARD_MAX_URL   2048 /* website */
#define SC_CARD_MAX_TEXT  2000 /* address, bio */
#define SC_AVATAR_MAX     (512 * 1024)
#define SC_AVATAR_SIDE    400 /* pixels: an avatar is scaled down to fit this square */

struct sc_card {
    int64_t id;
    int64_t member_id;
    char slug[SC_SLUG_MAX + 1];
    char qr_code[SC_CODE_LEN + 1]; /* code of the card's qr-channel link */
    char *name;
    char *title;
    char *company;
    char *phone;      /* mobile */
    char *phone_work; /* office line */
    char *email;
    char *wechat;  /* WeChat id */
    char *website; /* must pass sc_url_allowed() to be shown */
    char *address;
    char *bio;
    char theme[8]; /* "#rrggbb" */
    enum sc_lang lang;
    unsigned char *avatar; /* PNG or JPEG bytes, or NULL */
    size_t avatar_len;
    char avatar_mime[16]; /* "image/png" or "image/jpeg" */
    int64_t updated_at;   /* unix seconds; part of ETags */
    bool disabled;        /* the owner was disabled: show a polite page */
};

/* Frees the fields of 'c' (not 'c' itself) and zeroes it. */
void sc_card_cleanup(struct sc_card *c);

/*
 * Checks every field's length and encoding, the website's scheme, the theme
 * colour and the avatar's magic bytes.  On failure returns SC_EINVAL or
 * SC_ETOOBIG and points '*why' at a static English sentence.
 */
enum sc_err sc_card_validate(const struct sc_card *c, const char **why);

/* Language from a tag such as "zh-CN", "zh", "en-GB"; unknown → 'dflt'. */
enum sc_lang sc_lang_parse(const char *tag, enum sc_lang dflt);
const char *sc_lang_tag(enum sc_lang l); /* "en" or "zh-CN" */
/* Picks the best of our languages from an Accept-Language header (may be NULL). */
enum sc_lang sc_lang_accept(const char *accept_language, enum sc_lang dflt);

/* ---- slugs and codes ---------------------------------------------------- */

/*
 * Writes a random, readable, URL-safe code of 'len' characters (lower-case
 * letters and digits without look-alikes 0 o 1 l i) and a NUL into 'out'
 * (len + 1 bytes).  Uses libsodium's CSPRNG.
 */
void sc_slug_random(char *out, size_t len);

/*
 * True when 'slug' is a valid custom slug: 3–32 bytes of [a-z0-9-], starting
 * and ending with a letter or digit, no "--", not a reserved word (api,
 * admin, login, …).  On false, '*why' (may be NULL) gets a static sentence.
 */
bool sc_slug_valid(const char *slug, const char **why);

/* ---- QR codes ----------------------------------------------------------- */

#define SC_QR_SIZE_MIN     128 /* below this a module can shrink to one pixel: unscannable */
#define SC_QR_SIZE_MAX     4096
#define SC_QR_SIZE_DEFAULT 512

/*
 * Appends a 1-bit greyscale PNG of 'text' (ECC level M, quiet zone of 4
 * modules) to 'out'.  The image is exactly 'size' pixels square (clamped to
 * SC_QR_SIZE_MIN..MAX): each module the largest whole number of pixels that
 * fits, never less than one, and what is left a white margin split evenly
 * around the quiet zone.
 */
enum sc_err sc_qr_png(struct sc_buf *out, const char *text, unsigned size);

/* Appends a standalone SVG of 'text' (one path, crisp edges, scalable). */
enum sc_err sc_qr_svg(struct sc_buf *out, const char *text);

/* ---- vCard -------------------------------------------------------------- */

/*
 * Appends the vCard 3.0 of 'c' to 'out': CRLF lines folded at 75 octets
 * without splitting a UTF-8 character, text values escaped (\\ \, \; \n),
 * PHOTO embedded as base64 when the card has an avatar.  'url' (may be NULL)
 * is the card's public page, written as URL.
 */
enum sc_err sc_vcard_write(struct sc_buf *out, const struct sc_card *c, const char *url);

/* A file name for the download: "<slug>.vcf". */
void sc_vcard_filename(const struct sc_card *c, char *out, size_t outlen);

/*
 * Makes an uploaded photo safe to keep: 'in' must be a PNG or JPEG of at
 * most SC_AVATAR_MAX bytes and 8192 pixels a side; it is decoded, scaled to
 * fit SC_AVATAR_SIDE and encoded afresh as JPEG ('*out', new, free()).
 * On failure '*why' says why, for a person.
 */
enum sc_err sc_avatar_normalise(const unsigned char *in, size_t len, unsigned char **out,
                                size_t *outlen, const char **why);

#endif
