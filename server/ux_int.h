/*
 * ux_int.h — what visitors, salespeople and managers meet (issue 17),
 * shared inside server/: the deployment's wording on the public pages,
 * money in the deployment's currency, the top of /me and its full-screen QR,
 * and codes in words on the pages (words.c).
 */
#ifndef SC_UX_INT_H
#define SC_UX_INT_H

#include "pages_int.h"
#include "routes_int.h"
#include "sharecard/page.h"
#include "sharecard/server.h"
#include "sharecard/store.h"

/*
 * Hands the deployment's wording to 'pages': SHARECARD_CONSENT_TEXT (the
 * sign-up consent sentence; for both languages unless
 * SHARECARD_CONSENT_TEXT_ZH gives the Chinese one) and the points a customer
 * earns per level from 'cfg'.  SC_EINVAL with '*why' when a text is not
 * valid UTF-8 or too long.
 */
enum sc_err sc_ux_pages_configure(struct sc_pages *pages, const struct sc_config *cfg,
                                  const char **why);

/* The currency of SHARECARD_CURRENCY (ISO 4217, "CNY" by default). */
const char *sc_ux_currency(void);
/* 'cents' (hundredths of the currency) as people read it: "¥35,723.00", "$1,234.50". */
void sc_ux_money(int64_t cents, char out[64]);

/*
 * The top of a salesperson's /me: a full-screen "show my QR" button, their
 * rank in their team by sign-ups for days 'from'..'to', and their own points
 * and commission (approved and pending, all time).
 */
void sc_ux_me_top(struct req *r, const struct sc_member *m, int64_t from, int64_t to,
                  struct sc_buf *b);
/*
 * A sign-up's "Why" in words of the page's language: its attribution rule
 * ("last_touch", …) and notes ("self_referral_ignored",
 * "held_for_review:velocity"), the codes kept in the title.
 */
void sc_ux_why(struct sc_buf *b, const char *rule, const char *notes);
/* A reward's hold reason ("disposable_email", …) in words. */
void sc_ux_hold_reason(struct sc_buf *b, const char *reason);

/*
 * Cards shown by their owner's name: sc_ux_owners_load() reads every
 * member's card slug and name for this thread, sc_ux_owners_free() lets go;
 * between them sc_ux_card_owner() names a slug's owner (NULL when unknown)
 * and sc_ux_card_html() writes the name (the slug in its title), or the slug.
 */
void sc_ux_owners_load(struct sc_store *s);
void sc_ux_owners_free(void);
const char *sc_ux_card_owner(const char *slug);
void sc_ux_card_html(struct sc_buf *b, const char *slug);

/* GET /me/qr: the card's QR code filling the screen, to hold a phone out at a fair. */
enum MHD_Result sc_h_me_qr(struct req *r, const struct route_args *a);

/*
 * Codes in words on the HTML pages (words.c): English words on English pages,
 * the table's Chinese on Chinese ones; an unknown code as it is.  Returns
 * static or table text (never NULL).  JSON and CSV keep the codes.
 */
const char *sc_words_channel(const char *code);     /* "qr" → "QR code", "direct" → "Direct" */
const char *sc_words_contact(const char *code);     /* "call" → "Phone call" */
const char *sc_words_reward_kind(const char *kind); /* "commission" → "Commission" */
const char *sc_words_reward_status(const char *st); /* "hold" → "Held for review" */
/* 'n' and its noun: "1 visit", "2 visits" in English; the plural's translation in Chinese. */
void sc_words_count(struct sc_buf *b, int64_t n, const char *one, const char *many);

#endif
