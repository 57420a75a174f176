/*
 * score_text.c — what a salesperson reads: a score's reasons and the drafted
 * next action, in English or Simplified Chinese.  Plain UTF-8 text; escaping
 * belongs to whoever puts it into HTML or JSON.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sharecard/score.h"

bool sc_score_lang_zh(const char *lang)
{
    return lang && strncasecmp(lang, "zh", 2) == 0 &&
           (lang[2] == '\0' || lang[2] == '-' || lang[2] == '_');
}

/* Appends to 'out' (cap bytes) at '*pos'; false once it no longer fits. */
static bool put(char *out, size_t cap, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool put(char *out, size_t cap, size_t *pos, const char *fmt, ...)
{
    va_list ap;
    if (*pos >= cap)
        return false;
    va_start(ap, fmt);
    int k = vsnprintf(out + *pos, cap - *pos, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= cap - *pos)
        return false;
    *pos += (size_t)k;
    return true;
}

/* As put(out, cap, pos, "%s", s), without printf (a list drafts 10,000 of these). */
static bool put_str(char *out, size_t cap, size_t *pos, const char *s)
{
    if (*pos >= cap)
        return false;
    size_t n = strlen(s), room = cap - *pos;
    size_t k = n < room ? n : room - 1;
    memcpy(out + *pos, s, k);
    out[*pos + k] = '\0';
    if (n >= room)
        return false;
    *pos += n;
    return true;
}

/* 'tmpl' (one of this file's, holding one "%s") with 'arg' in place of its "%s". */
static bool put_tmpl(char *out, size_t cap, size_t *pos, const char *tmpl, const char *arg)
{
    const char *at = strstr(tmpl, "%s");
    char head[64];
    size_t n = at ? (size_t)(at - tmpl) : 0;
    if (!at || n >= sizeof(head))
        return false;
    memcpy(head, tmpl, n);
    head[n] = '\0';
    return put_str(out, cap, pos, head) && put_str(out, cap, pos, arg) &&
           put_str(out, cap, pos, at + 2);
}

/* "HH:MM" of 'hh' and 'mm'. */
static bool put_hhmm(char *out, size_t cap, size_t *pos, int hh, int mm)
{
    char t[6] = {(char)('0' + hh / 10 % 10), (char)('0' + hh % 10), ':',
                 (char)('0' + mm / 10 % 10), (char)('0' + mm % 10), '\0'};
    return put_str(out, cap, pos, t);
}

/* English: "%d thing" or "%d things"; 'one' replaces the whole for 1 when set. */
struct en_text {
    const char *one;  /* the text for 1, or NULL: 'many' with 1 */
    const char *many; /* with one %lld */
};

static const struct en_text en[] = {
    [SC_R_VISITS] = {"visited once", "visited %lld times"},
    [SC_R_DAYS] = {"visited on 1 day", "came back on %lld days"},
    [SC_R_GAP] = {"comes back every day", "comes back every %lld days"},
    [SC_R_DWELL] = {"spent a minute on your card", "spent %lld minutes on your card"},
    [SC_R_DWELL_VISIT] = {NULL, "stays %lld seconds per visit"},
    [SC_R_CALL] = {"tapped to call you", "tapped to call you %lld times"},
    [SC_R_EMAIL] = {"tapped to email you", "tapped to email you %lld times"},
    [SC_R_WECHAT] = {"tapped your WeChat", "tapped your WeChat %lld times"},
    [SC_R_WEBSITE] = {"opened your website", "opened your website %lld times"},
    [SC_R_MAP] = {"looked up your address", "looked up your address %lld times"},
    [SC_R_SAVED] = {"saved your contact", "saved your contact"},
    [SC_R_SHARES] = {"shared your card with 1 person", "shared your card with %lld people"},
    [SC_R_SHARE_VISITS] = {"their share brought a visit", "their shares brought %lld visits"},
    [SC_R_RECENT] = {"visited yesterday", "visited %lld days ago"},
    [SC_R_QR] = {"met you in person (scanned your QR code)",
                 "met you in person (scanned your QR code)"},
    [SC_R_CH_WECHAT] = {"came through WeChat", "came through WeChat"},
    [SC_R_CH_MESSAGE] = {"came through a text or an email", "came through a text or an email"},
    [SC_R_CH_SOCIAL] = {"came through WhatsApp or LinkedIn", "came through WhatsApp or LinkedIn"},
    [SC_R_CH_COPY] = {"came through a shared link", "came through a shared link"},
};

static const char *const zh[] = {
    [SC_R_VISITS] = "访问了 %lld 次",
    [SC_R_DAYS] = "在 %lld 天里回访",
    [SC_R_GAP] = "每隔 %lld 天回访一次",
    [SC_R_DWELL] = "在您的名片上停留了 %lld 分钟",
    [SC_R_DWELL_VISIT] = "每次访问停留 %lld 秒",
    [SC_R_CALL] = "点击了拨打电话 %lld 次",
    [SC_R_EMAIL] = "点击了发送邮件 %lld 次",
    [SC_R_WECHAT] = "点击了您的微信 %lld 次",
    [SC_R_WEBSITE] = "打开了您的网站 %lld 次",
    [SC_R_MAP] = "查看了您的地址 %lld 次",
    [SC_R_SAVED] = "保存了您的联系方式",
    [SC_R_SHARES] = "把您的名片分享给了 %lld 人",
    [SC_R_SHARE_VISITS] = "其分享带来了 %lld 次访问",
    [SC_R_RECENT] = "%lld 天前来访过",
    [SC_R_QR] = "当面扫码认识了您",
    [SC_R_CH_WECHAT] = "通过微信而来",
    [SC_R_CH_MESSAGE] = "通过短信或邮件而来",
    [SC_R_CH_SOCIAL] = "通过 WhatsApp 或 LinkedIn 而来",
    [SC_R_CH_COPY] = "通过分享的链接而来",
};

#define N_REASON_CODES (sizeof(zh) / sizeof(zh[0]))

/* Writes 'fmt' with 'v' when it has a %lld, else as is. */
static bool put_reason(char *out, size_t cap, size_t *pos, const char *fmt, long long v)
{
    if (!strstr(fmt, "%lld"))
        return put_str(out, cap, pos, fmt);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    return put(out, cap, pos, fmt, v); /* fmt: one of the tables above */
#pragma GCC diagnostic pop
}

static bool reason_into(const struct sc_score_reason *r, bool in_zh, char *out, size_t cap,
                        size_t *pos)
{
    long long v = llround(r->value);
    if ((unsigned)r->code >= N_REASON_CODES)
        return put(out, cap, pos, "?");
    if (r->code == SC_R_RECENT && v <= 0)
        return put_str(out, cap, pos, in_zh ? "今天来访过" : "visited today");
    if (r->code == SC_R_RECENT && v == 1 && in_zh)
        return put_str(out, cap, pos, "昨天来访过");
    if (in_zh)
        return put_reason(out, cap, pos, zh[r->code], v);
    const struct en_text *t = &en[r->code];
    return put_reason(out, cap, pos, v == 1 && t->one ? t->one : t->many, v);
}

enum sc_err sc_score_reason_text(const struct sc_score_reason *r, const char *lang, char *out,
                                 size_t cap)
{
    size_t pos = 0;
    if (cap)
        out[0] = '\0';
    return reason_into(r, sc_score_lang_zh(lang), out, cap, &pos) ? SC_OK : SC_ETOOBIG;
}

/* ---- contact channels and the next action ------------------------------------- */

const char *sc_score_contact_name(enum sc_contact c)
{
    switch (c) {
    case SC_CONTACT_CALL: return "call";
    case SC_CONTACT_WECHAT: return "wechat";
    case SC_CONTACT_EMAIL: return "email";
    case SC_CONTACT_SMS: return "sms";
    default: return "call";
    }
}

static const char *const en_verb[SC_CONTACT_COUNT] = {"Call %s", "Message %s on WeChat", "Email %s",
                                                      "Text %s"};
static const char *const zh_verb[SC_CONTACT_COUNT] = {"给 %s 打电话", "通过微信联系 %s",
                                                      "给 %s 发邮件", "给 %s 发短信"};
static const char *const en_day[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const zh_day[7] = {"周日", "周一", "周二", "周三", "周四", "周五", "周六"};

enum sc_err sc_score_next_action(const char *name, enum sc_contact c, const struct sc_besttime *bt,
                                 int32_t tz_min, const struct sc_score_result *res,
                                 const char *lang, char *out, size_t cap)
{
    bool in_zh = sc_score_lang_zh(lang);
    size_t pos = 0;
    bool ok = true;
    int64_t local = bt->at + (int64_t)tz_min * 60;
    int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int64_t sec = local - days * 86400;
    int hh = (int)(sec / 3600), mm = (int)(sec % 3600 / 60);
    int wd = (int)(((days + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */

    if (cap)
        out[0] = '\0';
    if ((unsigned)c >= SC_CONTACT_COUNT)
        c = SC_CONTACT_CALL;
    if (!name || !*name)
        name = in_zh ? "这位客户" : "this lead";
    if (in_zh) {
        ok = put_str(out, cap, &pos, zh_day[wd]) && put_str(out, cap, &pos, " ") &&
             put_hhmm(out, cap, &pos, hh, mm) && put_str(out, cap, &pos, " 左右") &&
             put_tmpl(out, cap, &pos, zh_verb[c], name);
    } else {
        ok = put_tmpl(out, cap, &pos, en_verb[c], name) && put_str(out, cap, &pos, " around ") &&
             put_hhmm(out, cap, &pos, hh, mm) && put_str(out, cap, &pos, " on ") &&
             put_str(out, cap, &pos, en_day[wd]);
    }
    for (size_t i = 0; ok && res && i < res->n_reasons; i++) {
        ok = put_str(out, cap, &pos, i == 0 ? (in_zh ? "：" : ": ") : (in_zh ? "，" : ", "));
        ok = ok && reason_into(&res->reasons[i], in_zh, out, cap, &pos);
    }
    ok = ok && put_str(out, cap, &pos, in_zh ? "。" : ".");
    return ok ? SC_OK : SC_ETOOBIG;
}
