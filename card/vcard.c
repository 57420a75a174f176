/*
 * vcard.c — a card as vCard 3.0 (RFC 2426), the version phones import best.
 *
 * Each logical line is built whole, then folded: CRLF plus one space before
 * any octet that would pass 75 on a physical line, never inside a UTF-8
 * sequence (phones show a split Chinese character as garbage).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "sharecard/card.h"
#include "sharecard/escape.h"

#define FOLD_AT 75

static bool set(const char *s)
{
    return s && s[0];
}

/* Appends 'v' escaped as a vCard text value: \\ \, \; and newlines as \n. */
static void esc(struct sc_buf *b, const char *v)
{
    for (const char *p = v; *p; p++) {
        switch (*p) {
        case '\\': sc_buf_puts(b, "\\\\"); break;
        case ',': sc_buf_puts(b, "\\,"); break;
        case ';': sc_buf_puts(b, "\\;"); break;
        case '\r':
            if (p[1] == '\n')
                p++;
            sc_buf_puts(b, "\\n");
            break;
        case '\n': sc_buf_puts(b, "\\n"); break;
        default: sc_buf_putc(b, *p);
        }
    }
}

/* Appends the logical line in 'l' to 'out' folded at 75 octets, then CRLF. */
static void fold(struct sc_buf *out, const struct sc_buf *l)
{
    size_t col = 0;
    for (size_t i = 0; i < l->len;) {
        unsigned char c = (unsigned char)l->data[i];
        size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (i + n > l->len)
            n = l->len - i;
        if (col + n > FOLD_AT) {
            sc_buf_puts(out, "\r\n ");
            col = 1;
        }
        sc_buf_append(out, l->data + i, n);
        col += n;
        i += n;
    }
    sc_buf_puts(out, "\r\n");
}

static void line(struct sc_buf *out, struct sc_buf *l, const char *prop, const char *value)
{
    sc_buf_reset(l);
    sc_buf_puts(l, prop);
    sc_buf_putc(l, ':');
    esc(l, value);
    fold(out, l);
}

/* N: family;given;;; — a name without a space (张伟) is all family name. */
static void name_line(struct sc_buf *out, struct sc_buf *l, const char *name)
{
    sc_buf_reset(l);
    sc_buf_puts(l, "N:");
    const char *sp = strrchr(name, ' ');
    /* CJK names (欧阳 修) are written family name first: keep them whole. */
    bool cjk = false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        cjk = cjk || (*p >= 0xe3 && *p <= 0xe9) || *p == 0xea || *p == 0xed;
    if (sp && sp[1] && !cjk) {
        esc(l, sp + 1);
        sc_buf_putc(l, ';');
        char given[SC_CARD_MAX_FIELD + 1];
        size_t n = (size_t)(sp - name);
        if (n > SC_CARD_MAX_FIELD)
            n = SC_CARD_MAX_FIELD;
        memcpy(given, name, n);
        given[n] = '\0';
        esc(l, given);
    } else {
        esc(l, name);
        sc_buf_putc(l, ';');
    }
    sc_buf_puts(l, ";;;");
    fold(out, l);
}

enum sc_err sc_vcard_write(struct sc_buf *out, const struct sc_card *c, const char *url)
{
    struct sc_buf l;
    char stack[1024];
    sc_buf_init_on(&l, stack, sizeof(stack), 2 * SC_AVATAR_MAX);
    const char *name = set(c->name) ? c->name : "";

    sc_buf_puts(out, "BEGIN:VCARD\r\nVERSION:3.0\r\n");
    name_line(out, &l, name);
    line(out, &l, "FN", name);
    if (set(c->company))
        line(out, &l, "ORG", c->company);
    if (set(c->title))
        line(out, &l, "TITLE", c->title);
    if (set(c->phone))
        line(out, &l, "TEL;TYPE=CELL", c->phone);
    if (set(c->phone_work))
        line(out, &l, "TEL;TYPE=WORK,VOICE", c->phone_work);
    if (set(c->email))
        line(out, &l, "EMAIL;TYPE=INTERNET", c->email);
    if (set(c->website) && sc_url_allowed(c->website))
        line(out, &l, "URL", c->website);
    if (set(url) && sc_url_allowed(url))
        line(out, &l, "URL;TYPE=card", url);
    if (set(c->address)) {
        sc_buf_reset(&l);
        sc_buf_puts(&l, "ADR;TYPE=WORK:;;");
        esc(&l, c->address);
        sc_buf_puts(&l, ";;;;");
        fold(out, &l);
    }
    if (set(c->wechat))
        line(out, &l, "X-WECHAT", c->wechat);
    if (set(c->bio))
        line(out, &l, "NOTE", c->bio);
    if (c->avatar && c->avatar_len > 0 && c->avatar_len <= SC_AVATAR_MAX) {
        size_t b64len = sodium_base64_ENCODED_LEN(c->avatar_len, sodium_base64_VARIANT_ORIGINAL);
        sc_buf_reset(&l);
        sc_buf_printf(&l, "PHOTO;ENCODING=b;TYPE=%s:",
                      strcmp(c->avatar_mime, "image/png") == 0 ? "PNG" : "JPEG");
        size_t at = l.len;
        sc_buf_append(&l, "", 0);
        /* Reserve room, then encode in place. */
        for (size_t i = 0; i < b64len; i++)
            sc_buf_putc(&l, 'A');
        if (!sc_buf_error(&l)) {
            sodium_bin2base64(l.data + at, b64len, c->avatar, c->avatar_len,
                              sodium_base64_VARIANT_ORIGINAL);
            l.len = at + strlen(l.data + at);
            fold(out, &l);
        }
    }
    sc_buf_puts(out, "END:VCARD\r\n");
    enum sc_err e = sc_buf_error(&l) ? sc_buf_error(&l) : sc_buf_error(out);
    sc_buf_cleanup(&l);
    return e;
}

void sc_vcard_filename(const struct sc_card *c, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s.vcf", c->slug[0] ? c->slug : "contact");
}
