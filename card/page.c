/*
 * page.c — renders the landing page, the home page and error pages from the
 * embedded templates.
 *
 * Each template is compiled once, against the list of variables this file
 * fills, so a template naming a variable we do not fill is a start-up error.
 * The critical CSS goes inline (one round trip to first paint on a phone);
 * the little JavaScript is a cacheable static file, so the CSP needs no
 * inline script.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/assets.h"
#include "sharecard/escape.h"
#include "sharecard/page.h"
#include "sharecard/tmpl.h"

enum card_var {
    CV_LANG,
    CV_PAGE_TITLE,
    CV_OG_TITLE,
    CV_OG_DESC,
    CV_OG_URL,
    CV_OG_IMAGE,
    CV_THEME,
    CV_CSS,
    CV_SLUG,
    CV_LINK_CODE,
    CV_AVATAR_URL,
    CV_INITIALS,
    CV_NAME,
    CV_JOB,
    CV_COMPANY,
    CV_TEL_URL,
    CV_TEL_WORK_URL,
    CV_MAIL_URL,
    CV_WECHAT,
    CV_WEBSITE_URL,
    CV_VCF_URL,
    CV_PHONE,
    CV_PHONE_WORK,
    CV_EMAIL,
    CV_ADDRESS,
    CV_BIO,
    CV_CSRF,
    CV_QR_SVG_URL,
    CV_T_CALL,
    CV_T_EMAIL,
    CV_T_WECHAT,
    CV_T_WECHAT_ID,
    CV_T_WEBSITE,
    CV_T_SAVE,
    CV_T_SHARE,
    CV_T_COPIED,
    CV_T_MOBILE,
    CV_T_OFFICE,
    CV_T_ADDRESS,
    CV_T_SCAN,
    CV_T_SIGNUP_TITLE,
    CV_T_NAME,
    CV_T_PHONE,
    CV_T_CONSENT,
    CV_T_SIGNUP,
    CV_T_SIGNUP_AGAIN, /* issue 17: the form's own error line and a repeat's way back */
    CV_T_BIRTHDAY,     /* the optional birthday field (issue 14) */
    /* issue 17, round two: the form as it was sent, with its error (no script) */
    CV_F_NAME,
    CV_F_BIRTHDAY,
    CV_BAD_BIRTHDAY,
    CV_F_PHONE,
    CV_F_EMAIL,
    CV_F_CONSENT,
    CV_F_ERROR,
    CV_BAD_NAME,
    CV_BAD_PHONE,
    CV_BAD_EMAIL,
    CV_BAD_CONSENT,
    CV_COUNT
};
/* Names by index, so that the two lists cannot drift apart. */
static const char *const card_vars[CV_COUNT] = {
    [CV_LANG] = "lang",
    [CV_PAGE_TITLE] = "page_title",
    [CV_OG_TITLE] = "og_title",
    [CV_OG_DESC] = "og_desc",
    [CV_OG_URL] = "og_url",
    [CV_OG_IMAGE] = "og_image",
    [CV_THEME] = "theme",
    [CV_CSS] = "css",
    [CV_SLUG] = "slug",
    [CV_LINK_CODE] = "link_code",
    [CV_AVATAR_URL] = "avatar_url",
    [CV_INITIALS] = "initials",
    [CV_NAME] = "name",
    [CV_JOB] = "job",
    [CV_COMPANY] = "company",
    [CV_TEL_URL] = "tel_url",
    [CV_TEL_WORK_URL] = "tel_work_url",
    [CV_MAIL_URL] = "mail_url",
    [CV_WECHAT] = "wechat",
    [CV_WEBSITE_URL] = "website_url",
    [CV_VCF_URL] = "vcf_url",
    [CV_PHONE] = "phone",
    [CV_PHONE_WORK] = "phone_work",
    [CV_EMAIL] = "email",
    [CV_ADDRESS] = "address",
    [CV_BIO] = "bio",
    [CV_CSRF] = "csrf",
    [CV_QR_SVG_URL] = "qr_svg_url",
    [CV_T_CALL] = "t_call",
    [CV_T_EMAIL] = "t_email",
    [CV_T_WECHAT] = "t_wechat",
    [CV_T_WECHAT_ID] = "t_wechat_id",
    [CV_T_WEBSITE] = "t_website",
    [CV_T_SAVE] = "t_save",
    [CV_T_SHARE] = "t_share",
    [CV_T_COPIED] = "t_copied",
    [CV_T_MOBILE] = "t_mobile",
    [CV_T_OFFICE] = "t_office",
    [CV_T_ADDRESS] = "t_address",
    [CV_T_SCAN] = "t_scan",
    [CV_T_SIGNUP_TITLE] = "t_signup_title",
    [CV_T_NAME] = "t_name",
    [CV_T_PHONE] = "t_phone",
    [CV_T_CONSENT] = "t_consent",
    [CV_T_SIGNUP] = "t_signup",
    [CV_T_SIGNUP_AGAIN] = "t_signup_again",
    [CV_T_BIRTHDAY] = "t_birthday",
    [CV_F_NAME] = "f_name",
    [CV_F_BIRTHDAY] = "f_birthday",
    [CV_BAD_BIRTHDAY] = "bad_birthday",
    [CV_F_PHONE] = "f_phone",
    [CV_F_EMAIL] = "f_email",
    [CV_F_CONSENT] = "f_consent",
    [CV_F_ERROR] = "f_error",
    [CV_BAD_NAME] = "bad_name",
    [CV_BAD_PHONE] = "bad_phone",
    [CV_BAD_EMAIL] = "bad_email",
    [CV_BAD_CONSENT] = "bad_consent",
};

enum err_var { EV_LANG, EV_STATUS, EV_HEADING, EV_MESSAGE, EV_CSS, EV_T_HOME, EV_COUNT };
static const char *const err_vars[EV_COUNT] = {"lang",    "status", "heading",
                                               "message", "css",    "t_home"};

enum home_var { HV_LANG, HV_CSS, HV_TAGLINE, HV_F1, HV_F2, HV_F3, HV_LOGIN, HV_COUNT };
static const char *const home_vars[HV_COUNT] = {"lang", "css",  "t_tagline", "t_f1",
                                                "t_f2", "t_f3", "t_login"};

enum thanks_var {
    TV_LANG,
    TV_CSS,
    TV_THEME,
    TV_REFERRAL_URL,
    TV_QR_URL,
    TV_CARD_URL,
    TV_T_THANKS_TITLE,
    TV_T_THANKS_MSG,
    TV_T_COPY_LINK,
    TV_T_YOUR_QR,
    TV_T_BACK,
    TV_T_COPIED,
    TV_T_EARN,      /* issue 17: what the customer earns (empty: no points) */
    TV_T_WHERE,     /* and where to see it: this page */
    TV_REFPAGE_URL, /* this page's own address */
    TV_COUNT
};
static const char *const thanks_vars[TV_COUNT] = {
    "lang",           "css",          "theme",       "referral_url", "qr_url",         "card_url",
    "t_thanks_title", "t_thanks_msg", "t_copy_link", "t_your_qr",    "t_back_to_card", "t_copied",
    "t_earn",         "t_where",      "refpage_url"};

struct sc_pages {
    struct sc_tmpl *thanks;
    struct sc_tmpl *card;
    struct sc_tmpl *error;
    struct sc_tmpl *home;
    const char *css; /* embedded, NUL-terminated */
    char csp[512];
    /* The deployment's wording (sc_pages_configure): consent per language
     * ("" for the default) and the points earned per level. */
    char consent[2][SC_CONSENT_TEXT_MAX + 1];
    int64_t points[2];
};

static struct sc_tmpl *load(const char *name, const char *const *vars, size_t n, char *err,
                            size_t errlen)
{
    const struct sc_asset *a = sc_asset_find(name);
    if (!a) {
        snprintf(err, errlen, "template %s is not embedded in this build", name);
        return NULL;
    }
    char why[256];
    struct sc_tmpl *t = sc_tmpl_compile((const char *)a->data, vars, n, why, sizeof(why));
    if (!t)
        snprintf(err, errlen, "template %s: %s", name, why);
    return t;
}

struct sc_pages *sc_pages_new(char *err, size_t errlen)
{
    struct sc_pages *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const struct sc_asset *css = sc_asset_find("static/card.css");
    if (!css) {
        snprintf(err, errlen, "static/card.css is not embedded in this build");
        goto fail;
    }
    p->css = (const char *)css->data;
    p->card = load("card.html", card_vars, CV_COUNT, err, errlen);
    if (!p->card)
        goto fail;
    p->error = load("error.html", err_vars, EV_COUNT, err, errlen);
    if (!p->error)
        goto fail;
    p->home = load("home.html", home_vars, HV_COUNT, err, errlen);
    if (!p->home)
        goto fail;
    p->thanks = load("thanks.html", thanks_vars, TV_COUNT, err, errlen);
    if (!p->thanks)
        goto fail;
    snprintf(p->csp, sizeof(p->csp),
             "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
             "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
             "base-uri 'none'; object-src 'none'; frame-ancestors 'self'");
    return p;
fail:
    sc_pages_free(p);
    return NULL;
}

void sc_pages_configure(struct sc_pages *p, const char *consent_en, const char *consent_zh,
                        int64_t points_l1, int64_t points_l2)
{
    snprintf(p->consent[0], sizeof(p->consent[0]), "%s", consent_en ? consent_en : "");
    snprintf(p->consent[1], sizeof(p->consent[1]), "%s", consent_zh ? consent_zh : "");
    p->points[0] = points_l1;
    p->points[1] = points_l2;
}

void sc_pages_free(struct sc_pages *p)
{
    if (!p)
        return;
    sc_tmpl_free(p->card);
    sc_tmpl_free(p->error);
    sc_tmpl_free(p->home);
    sc_tmpl_free(p->thanks);
    free(p);
}

const char *sc_pages_csp(const struct sc_pages *p)
{
    return p->csp;
}

static int set(const char *s)
{
    return s && s[0];
}

/* The first character of 'name' (a whole UTF-8 sequence) for the avatar placeholder. */
static void initials(const char *name, char out[8])
{
    out[0] = '\0';
    if (!set(name))
        return;
    unsigned char c = (unsigned char)name[0];
    size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    size_t len = strlen(name);
    if (n > len)
        n = len;
    memcpy(out, name, n);
    out[n] = '\0';
    if (n == 1 && out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 'a' + 'A');
}

/* "tel:" + the phone without spaces and dashes, into 'b'; returns its start or NULL. */
static const char *tel_url(struct sc_buf *b, const char *phone)
{
    if (!set(phone))
        return NULL;
    size_t at = b->len;
    sc_buf_puts(b, "tel:");
    for (const char *q = phone; *q; q++)
        if ((*q >= '0' && *q <= '9') || *q == '+')
            sc_buf_putc(b, *q);
    sc_buf_putc(b, '\0');
    return sc_buf_error(b) ? NULL : b->data + at;
}

void sc_page_card(const struct sc_pages *p, const struct sc_card *c, enum sc_lang lang,
                  const char *base_url, const char *link_code, const char *csrf, struct sc_buf *out)
{
    sc_page_card_form(p, c, lang, base_url, link_code, csrf, NULL, out);
}

void sc_page_card_form(const struct sc_pages *p, const struct sc_card *c, enum sc_lang lang,
                       const char *base_url, const char *link_code, const char *csrf,
                       const struct sc_page_form *form, struct sc_buf *out)
{
    /*
     * Derived strings live in one scratch buffer, NUL-separated; offsets are
     * turned into pointers only once it has stopped growing.
     */
    char stack[2048];
    struct sc_buf s;
    sc_buf_init_on(&s, stack, sizeof(stack), 64 * 1024);
    size_t o_url, o_desc, o_title, o_avatar = 0, o_vcf, o_qr, o_tel = 0, o_telw = 0, o_mail = 0;

    o_url = s.len;
    sc_buf_printf(&s, "%s/c/%s", base_url, c->slug);
    sc_buf_putc(&s, '\0');
    o_desc = s.len;
    sc_buf_printf(&s, "%s%s%s", set(c->title) ? c->title : "",
                  set(c->title) && set(c->company) ? " · " : "", set(c->company) ? c->company : "");
    if (!set(c->title) && !set(c->company))
        sc_buf_puts(&s, sc_i18n(lang, "card_of"));
    sc_buf_putc(&s, '\0');
    o_title = s.len;
    sc_buf_printf(&s, "%s · %s", c->name ? c->name : "", sc_i18n(lang, "card_of"));
    sc_buf_putc(&s, '\0');
    if (c->avatar_len > 0) {
        o_avatar = s.len;
        sc_buf_printf(&s, "%s/c/%s/avatar?v=%lld", base_url, c->slug, (long long)c->updated_at);
        sc_buf_putc(&s, '\0');
    }
    o_vcf = s.len;
    sc_buf_printf(&s, "/c/%s/vcard.vcf", c->slug);
    sc_buf_putc(&s, '\0');
    o_qr = s.len;
    sc_buf_printf(&s, "/c/%s/qr.svg", c->slug);
    sc_buf_putc(&s, '\0');
    if (set(c->phone)) {
        o_tel = s.len;
        tel_url(&s, c->phone);
    }
    if (set(c->phone_work)) {
        o_telw = s.len;
        tel_url(&s, c->phone_work);
    }
    if (set(c->email)) {
        o_mail = s.len;
        sc_buf_puts(&s, "mailto:");
        sc_esc_url_component(&s, c->email, strlen(c->email));
        sc_buf_putc(&s, '\0');
    }
    if (sc_buf_error(&s)) {
        /* Over 64 KiB of derived strings cannot happen with validated cards. */
        sc_buf_cleanup(&s);
        sc_page_error(p, 500, "The card could not be shown.", lang, out);
        return;
    }
    char ini[8];
    initials(c->name, ini);

    struct sc_tval v[CV_COUNT];
    memset(v, 0, sizeof(v));
#define T(i, str) v[i] = (struct sc_tval){(str), SC_TV_TEXT}
#define U(i, str)                                                                                  \
    v[i] = (struct sc_tval)                                                                        \
    {                                                                                              \
        (str), SC_TV_URL                                                                           \
    }
    T(CV_LANG, sc_lang_tag(lang));
    T(CV_PAGE_TITLE, s.data + o_title);
    T(CV_OG_TITLE, c->name);
    T(CV_OG_DESC, s.data + o_desc);
    U(CV_OG_URL, s.data + o_url);
    if (o_avatar) {
        U(CV_OG_IMAGE, s.data + o_avatar);
        T(CV_AVATAR_URL, s.data + o_avatar);
    }
    T(CV_THEME, c->theme[0] ? c->theme : "#1f6feb");
    v[CV_CSS] = (struct sc_tval){p->css, SC_TV_TRUSTED};
    T(CV_SLUG, c->slug);
    T(CV_LINK_CODE, link_code);
    T(CV_INITIALS, ini);
    T(CV_NAME, c->name);
    T(CV_JOB, c->title);
    T(CV_COMPANY, c->company);
    if (o_tel)
        U(CV_TEL_URL, s.data + o_tel);
    if (o_telw)
        U(CV_TEL_WORK_URL, s.data + o_telw);
    if (o_mail)
        U(CV_MAIL_URL, s.data + o_mail);
    T(CV_WECHAT, c->wechat);
    U(CV_WEBSITE_URL, c->website);
    T(CV_VCF_URL, s.data + o_vcf);
    T(CV_PHONE, c->phone);
    T(CV_PHONE_WORK, c->phone_work);
    T(CV_EMAIL, c->email);
    T(CV_ADDRESS, c->address);
    T(CV_BIO, c->bio);
    T(CV_CSRF, csrf);
    T(CV_QR_SVG_URL, s.data + o_qr);
    T(CV_T_CALL, sc_i18n(lang, "call"));
    T(CV_T_EMAIL, sc_i18n(lang, "email"));
    T(CV_T_BIRTHDAY, sc_i18n(lang, "birthday"));
    T(CV_T_WECHAT, sc_i18n(lang, "wechat"));
    T(CV_T_WECHAT_ID, sc_i18n(lang, "wechat_id"));
    T(CV_T_WEBSITE, sc_i18n(lang, "website"));
    T(CV_T_SAVE, sc_i18n(lang, "save"));
    T(CV_T_SHARE, sc_i18n(lang, "share"));
    T(CV_T_COPIED, sc_i18n(lang, "copied"));
    T(CV_T_MOBILE, sc_i18n(lang, "mobile"));
    T(CV_T_OFFICE, sc_i18n(lang, "office"));
    T(CV_T_ADDRESS, sc_i18n(lang, "address"));
    T(CV_T_SCAN, sc_i18n(lang, "scan"));
    T(CV_T_SIGNUP_TITLE, sc_i18n(lang, "signup_title"));
    T(CV_T_NAME, sc_i18n(lang, "name"));
    T(CV_T_PHONE, sc_i18n(lang, "phone"));
    T(CV_T_CONSENT, p->consent[lang == SC_LANG_ZH][0] ? p->consent[lang == SC_LANG_ZH]
                                                      : sc_i18n(lang, "consent"));
    T(CV_T_SIGNUP_AGAIN, sc_i18n(lang, "signup_again"));
    T(CV_T_SIGNUP, sc_i18n(lang, "signup"));
    if (form) { /* what was typed stays; the field in error is marked and focused */
        const char *f = form->field ? form->field : "";
        T(CV_F_NAME, form->name);
        T(CV_F_PHONE, form->phone);
        T(CV_F_EMAIL, form->email);
        T(CV_F_BIRTHDAY, form->birthday);
        T(CV_F_CONSENT, form->consent ? "1" : NULL);
        T(CV_F_ERROR, form->error);
        T(CV_BAD_NAME, strcmp(f, "name") == 0 ? "1" : NULL);
        T(CV_BAD_PHONE, strcmp(f, "phone") == 0 ? "1" : NULL);
        T(CV_BAD_EMAIL, strcmp(f, "email") == 0 ? "1" : NULL);
        T(CV_BAD_CONSENT, strcmp(f, "consent") == 0 ? "1" : NULL);
        T(CV_BAD_BIRTHDAY, strcmp(f, "birthday") == 0 ? "1" : NULL);
    }
#undef T
#undef U
    sc_tmpl_render(p->card, v, out);
    sc_buf_cleanup(&s);
}

static void render_error(const struct sc_pages *p, const char *status, const char *heading,
                         const char *message, enum sc_lang lang, struct sc_buf *out)
{
    struct sc_tval v[EV_COUNT] = {
        [EV_LANG] = {sc_lang_tag(lang), SC_TV_TEXT},
        [EV_STATUS] = {status, SC_TV_TEXT},
        [EV_HEADING] = {heading, SC_TV_TEXT},
        [EV_MESSAGE] = {message, SC_TV_TEXT},
        [EV_CSS] = {p->css, SC_TV_TRUSTED},
        [EV_T_HOME] = {sc_i18n(lang, "home"), SC_TV_TEXT},
    };
    sc_tmpl_render(p->error, v, out);
}

void sc_page_card_disabled(const struct sc_pages *p, const struct sc_card *c, enum sc_lang lang,
                           struct sc_buf *out)
{
    render_error(p, "", sc_i18n(lang, "disabled_title"), sc_i18n(lang, "disabled_msg"), lang, out);
}

void sc_page_error(const struct sc_pages *p, unsigned status, const char *message,
                   enum sc_lang lang, struct sc_buf *out)
{
    char code[8], key[8];
    snprintf(code, sizeof(code), "%u", status);
    snprintf(key, sizeof(key), "e%u", status);
    const char *heading = sc_i18n(lang, key);
    if (heading == key)
        heading = sc_i18n(lang, status >= 500 ? "e500" : "e400");
    render_error(p, code, heading, message, lang, out);
}

void sc_page_home(const struct sc_pages *p, enum sc_lang lang, struct sc_buf *out)
{
    struct sc_tval v[HV_COUNT] = {
        [HV_LANG] = {sc_lang_tag(lang), SC_TV_TEXT},
        [HV_CSS] = {p->css, SC_TV_TRUSTED},
        [HV_TAGLINE] = {sc_i18n(lang, "tagline"), SC_TV_TEXT},
        [HV_F1] = {sc_i18n(lang, "f1"), SC_TV_TEXT},
        [HV_F2] = {sc_i18n(lang, "f2"), SC_TV_TEXT},
        [HV_F3] = {sc_i18n(lang, "f3"), SC_TV_TEXT},
        [HV_LOGIN] = {sc_i18n(lang, "login"), SC_TV_TEXT},
    };
    sc_tmpl_render(p->home, v, out);
}

/* 'text' with "{1}" and "{2}" replaced by n[0] and n[1], into 'out' (size 'len'). */
static void fill_numbers(char *out, size_t len, const char *text, const int64_t n[2])
{
    size_t o = 0;
    for (const char *t = text; *t && o + 1 < len; t++) {
        if (t[0] == '{' && (t[1] == '1' || t[1] == '2') && t[2] == '}') {
            int w = snprintf(out + o, len - o, "%lld", (long long)n[t[1] - '1']);
            o = w > 0 && (size_t)w < len - o ? o + (size_t)w : len - 1;
            t += 2;
        } else {
            out[o++] = *t;
        }
    }
    out[o < len ? o : len - 1] = '\0';
}

void sc_page_thanks(const struct sc_pages *p, enum sc_lang lang, const char *theme,
                    const char *referral_url, const char *qr_url, const char *card_url,
                    struct sc_buf *out)
{
    struct sc_tval v[TV_COUNT] = {
        [TV_LANG] = {sc_lang_tag(lang), SC_TV_TEXT},
        [TV_CSS] = {p->css, SC_TV_TRUSTED},
        [TV_THEME] = {theme && theme[0] ? theme : "#1f6feb", SC_TV_TEXT},
        [TV_REFERRAL_URL] = {referral_url, SC_TV_TEXT},
        [TV_QR_URL] = {qr_url, SC_TV_TEXT},
        [TV_CARD_URL] = {card_url, SC_TV_TEXT},
        [TV_T_THANKS_TITLE] = {sc_i18n(lang, "thanks_title"), SC_TV_TEXT},
        [TV_T_THANKS_MSG] = {sc_i18n(lang, "thanks_msg"), SC_TV_TEXT},
        [TV_T_COPY_LINK] = {sc_i18n(lang, "copy_link"), SC_TV_TEXT},
        [TV_T_YOUR_QR] = {sc_i18n(lang, "your_qr"), SC_TV_TEXT},
        [TV_T_BACK] = {sc_i18n(lang, "back_to_card"), SC_TV_TEXT},
        [TV_T_COPIED] = {sc_i18n(lang, "copied"), SC_TV_TEXT},
    };
    /* What the customer earns, and where to see it: this page, at /r/{code}. */
    char earn[512] = "", page[1024];
    if (p->points[0] > 0 || p->points[1] > 0)
        fill_numbers(earn, sizeof(earn), sc_i18n(lang, p->points[1] > 0 ? "earn2" : "earn1"),
                     p->points);
    const char *l = strstr(referral_url, "/l/");
    while (l && strstr(l + 1, "/l/"))
        l = strstr(l + 1, "/l/");
    if (l)
        snprintf(page, sizeof(page), "%.*s/r/%s", (int)(l - referral_url), referral_url, l + 3);
    else
        snprintf(page, sizeof(page), "%s", referral_url);
    v[TV_T_EARN] = (struct sc_tval){earn, SC_TV_TEXT};
    v[TV_T_WHERE] = (struct sc_tval){sc_i18n(lang, "where_to_see"), SC_TV_TEXT};
    v[TV_REFPAGE_URL] = (struct sc_tval){page, SC_TV_TEXT};
    sc_tmpl_render(p->thanks, v, out);
}
