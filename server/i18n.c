/*
 * i18n.c — the signed-in pages in English or Simplified Chinese.  Each
 * request's language (from Accept-Language) is set once for its thread;
 * sc_tr() gives a string in it, and sc_ui_html()/sc_ui_htmlf() write our own HTML
 * with its text and its title/placeholder/aria-label values translated, so
 * the pages' markup stays one piece of C.  English is the key; a string
 * without a translation stays English.  The table is i18n_table.c, sorted.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pages_int.h"

struct tr_entry {
    const char *en, *zh;
};
extern const struct tr_entry sc_tr_table[];
extern const size_t sc_tr_count;

static _Thread_local enum sc_lang current = SC_LANG_EN;

void sc_tr_set(enum sc_lang l)
{
    current = l;
}

enum sc_lang sc_tr_lang(void)
{
    return current;
}

/* Bytewise order, as the table is sorted; the key's length rides in its 'zh'. */
static int entry_cmp(const void *key, const void *e)
{
    const struct tr_entry *x = key, *y = e;
    size_t klen = (size_t)(uintptr_t)x->zh, n = strlen(y->en);
    int c = memcmp(x->en, y->en, klen < n ? klen : n);
    if (c)
        return c;
    return klen < n ? -1 : klen > n ? 1 : 0;
}

/* The translation of 'en' ('n' bytes, not NUL-terminated), or NULL. */
static const char *lookup(const char *en, size_t n)
{
    struct tr_entry key = {en, (const char *)(uintptr_t)n};
    const struct tr_entry *hit = bsearch(&key, sc_tr_table, sc_tr_count, sizeof(key), entry_cmp);
    return hit ? hit->zh : NULL;
}

const char *sc_tr(const char *en)
{
    if (current != SC_LANG_ZH || !en)
        return en;
    const char *zh = lookup(en, strlen(en));
    return zh ? zh : en;
}

/* Appends text 's' (n bytes), translated when the whole of it, trimmed, is in the table. */
static void put_text(struct sc_buf *b, const char *s, size_t n)
{
    size_t lead = 0, trail = 0;
    while (lead < n && (s[lead] == ' ' || s[lead] == '\n'))
        lead++;
    while (trail < n - lead && (s[n - 1 - trail] == ' ' || s[n - 1 - trail] == '\n'))
        trail++;
    const char *zh = n - lead - trail ? lookup(s + lead, n - lead - trail) : NULL;
    if (!zh) {
        sc_buf_append(b, s, n);
        return;
    }
    sc_buf_append(b, s, lead);
    sc_buf_puts(b, zh);
    sc_buf_append(b, s + n - trail, trail);
}

/* Copies our own markup 'html' into 'b' with its text in the current language. */
static void translate(struct sc_buf *b, const char *html)
{
    static const char *const attrs[] = {"title=\"", "placeholder=\"", "aria-label=\""};
    const char *p = html;
    while (*p) {
        if (*p != '<') { /* a text node, up to the next tag */
            const char *end = strchr(p, '<');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            put_text(b, p, n);
            p += n;
            continue;
        }
        const char *end = strchr(p, '>'); /* a tag: copied, but for its translatable values */
        size_t n = end ? (size_t)(end - p) + 1 : strlen(p);
        const char *q = p;
        while (q < p + n) {
            size_t a = 0, alen = 0;
            for (; a < sizeof(attrs) / sizeof(attrs[0]); a++) {
                alen = strlen(attrs[a]);
                if ((size_t)(p + n - q) > alen && strncmp(q, attrs[a], alen) == 0)
                    break;
            }
            if (a == sizeof(attrs) / sizeof(attrs[0])) {
                sc_buf_putc(b, *q++);
                continue;
            }
            sc_buf_append(b, q, alen);
            q += alen;
            const char *close = memchr(q, '"', (size_t)(p + n - q));
            size_t vlen = close ? (size_t)(close - q) : (size_t)(p + n - q);
            put_text(b, q, vlen);
            q += vlen;
        }
        p += n;
    }
}

void sc_ui_html(struct sc_buf *b, const char *html)
{
    if (current != SC_LANG_ZH)
        sc_buf_puts(b, html);
    else
        translate(b, html);
}

void sc_ui_htmlf(struct sc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (current != SC_LANG_ZH) {
        sc_buf_vprintf(b, fmt, ap);
    } else {
        /* The translation keeps every conversion, in order (test_i18n checks the table). */
        struct sc_buf f;
        sc_buf_init(&f, 0);
        translate(&f, fmt);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        sc_buf_vprintf(b, f.data ? f.data : "", ap);
#pragma GCC diagnostic pop
        sc_buf_cleanup(&f);
    }
    va_end(ap);
}
