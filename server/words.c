/*
 * words.c — codes in words on the HTML pages (issue 17): a channel
 * ("wechat"), a way to reach a lead ("call"), a reward's kind and state
 * ("commission", "hold"), and a count with its noun ("1 visit", "2 visits").
 * English pages read the words below; Chinese pages keep the translations
 * the table already gives the codes.  Only pages call these: the JSON and
 * CSV answers (and the live feed's "channel" field) keep the codes, the
 * public contract (DESIGN §10).
 */
#include <stdio.h>
#include <string.h>

#include "ux_int.h"

struct word {
    const char *code, *en;
};

/*
 * 'code' in words of the page's language: English from 'w' ('n' entries);
 * Chinese from the table's translation of the code, else of the English.
 * An unknown code stays as it is.
 */
static const char *lookup(const struct word *w, size_t n, const char *code)
{
    if (!code)
        return "";
    for (size_t i = 0; i < n; i++) {
        if (strcmp(w[i].code, code) != 0)
            continue;
        if (sc_tr_lang() != SC_LANG_ZH)
            return w[i].en;
        const char *zh = sc_tr(code);
        return zh != code ? zh : sc_tr(w[i].en);
    }
    return code;
}

#define LOOKUP(table, code) lookup(table, sizeof(table) / sizeof(table[0]), code)

const char *sc_words_channel(const char *code)
{
    static const struct word w[] = {
        {"qr", "QR code"},       {"wechat", "WeChat"},     {"sms", "SMS"},
        {"email", "E-mail"},     {"linkedin", "LinkedIn"}, {"whatsapp", "WhatsApp"},
        {"copy", "Copied link"}, {"other", "Other"},       {"direct", "Direct"},
    };
    return LOOKUP(w, code);
}

const char *sc_words_contact(const char *code)
{
    static const struct word w[] = {
        {"call", "Phone call"}, {"wechat", "WeChat"}, {"email", "E-mail"}, {"sms", "SMS"}};
    return LOOKUP(w, code);
}

const char *sc_words_reward_kind(const char *kind)
{
    static const struct word w[] = {{"signup", "Sign-up points"},
                                    {"commission", "Commission"},
                                    {"welcome", "Welcome gift"},
                                    {"coupon", "Coupon"}};
    return LOOKUP(w, kind);
}

const char *sc_words_reward_status(const char *status)
{
    static const struct word w[] = {
        {"pending", "Pending"},
        {"hold", "Held for review"},
        {"held", "Held for review"},
        {"approved", "Approved"},
        {"void", "Void"},
        {"paid", "Paid"},
    };
    return LOOKUP(w, status);
}

void sc_words_count(struct sc_buf *b, int64_t n, const char *one, const char *many)
{
    /* Chinese has no plural: the table translates the plural. */
    const char *noun = sc_tr_lang() == SC_LANG_ZH ? sc_tr(many) : n == 1 ? one : many;
    sc_buf_printf(b, "%lld ", (long long)n);
    sc_ui_text(b, noun);
}
