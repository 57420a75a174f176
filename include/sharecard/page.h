/*
 * page.h — the HTML pages visitors see: a card's landing page, the home
 * page and error pages.  Templates are compiled once by sc_pages_new() and
 * read-only afterwards, so any thread may render with them.
 */
#ifndef SHARECARD_PAGE_H
#define SHARECARD_PAGE_H

#include "sharecard/buf.h"
#include "sharecard/card.h"
#include "sharecard/err.h"

#include <stdbool.h>
#include <stdint.h>

struct sc_pages;

/*
 * Compiles the embedded templates.  Returns new (free with sc_pages_free()),
 * or NULL with the reason in 'err' — an unknown variable or a broken section
 * in a template stops start-up here.
 */
struct sc_pages *sc_pages_new(char *err, size_t errlen);
void sc_pages_free(struct sc_pages *p);

#define SC_CONSENT_TEXT_MAX 600 /* bytes of a deployment's consent sentence */
/*
 * The deployment's wording, set once before serving: the sign-up form's
 * consent sentence in English and in Chinese (NULL or "": the default, a
 * sentence about being contacted, not about an offer; checked by the
 * caller: valid UTF-8, at most SC_CONSENT_TEXT_MAX bytes), and the points a
 * customer earns per friend at level 1 and level 2, which the thank-you
 * page states.
 */
void sc_pages_configure(struct sc_pages *p, const char *consent_en, const char *consent_zh,
                        int64_t points_l1, int64_t points_l2);

/*
 * The value for the Content-Security-Policy header: it allows the inline
 * critical CSS of our pages by hash and no inline script at all.
 * Borrowed; lives as long as 'p'.
 */
const char *sc_pages_csp(const struct sc_pages *p);

/*
 * Appends the landing page of 'c' (borrowed) in language 'lang' to 'out'.
 * 'base_url' (no trailing slash) makes the absolute links that link previews
 * and the share button need; 'link_code' (may be NULL) is the tracked link the
 * visitor arrived by, so that what they share next hangs below it.
 */
void sc_page_card(const struct sc_pages *p, const struct sc_card *c, enum sc_lang lang,
                  const char *base_url, const char *link_code, const char *csrf,
                  struct sc_buf *out);

/*
 * The sign-up form as a visitor sent it, for sc_page_card_form() (all
 * borrowed, NULL for none): the values typed, whether consent was ticked, the
 * message and the field it is about ("name", "phone", "email", "consent").
 */
struct sc_page_form {
    const char *name, *phone, *email, *birthday;
    bool consent;
    const char *error, *field;
};

/*
 * The landing page as sc_page_card(), its sign-up form filled from 'form'
 * (NULL: empty) with the error shown at the form and its field marked: what
 * a browser without script gets back for a sign-up with an error.
 */
void sc_page_card_form(const struct sc_pages *p, const struct sc_card *c, enum sc_lang lang,
                       const char *base_url, const char *link_code, const char *csrf,
                       const struct sc_page_form *form, struct sc_buf *out);

/*
 * The thank-you page after a sign-up, which is also the customer's own
 * referral page: their link, a button to copy it, and its QR code.
 */
void sc_page_thanks(const struct sc_pages *p, enum sc_lang lang, const char *theme,
                    const char *referral_url, const char *qr_url, const char *card_url,
                    struct sc_buf *out);

/* The polite page shown for a disabled member's card. */
void sc_page_card_disabled(const struct sc_pages *p, const struct sc_card *c, enum sc_lang lang,
                           struct sc_buf *out);

/* An error page: 'status' (404, …) and a sentence saying what went wrong. */
void sc_page_error(const struct sc_pages *p, unsigned status, const char *message,
                   enum sc_lang lang, struct sc_buf *out);

/* The short product page at "/". */
void sc_page_home(const struct sc_pages *p, enum sc_lang lang, struct sc_buf *out);

/* A UI string by key in 'lang' (keys in card/i18n.c); the key itself if unknown. */
const char *sc_i18n(enum sc_lang lang, const char *key);

#endif
