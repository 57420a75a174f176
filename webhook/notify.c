/*
 * notify.c — what each platform a salesperson lives in expects of a message
 * (issue 18): the checks of a target (a group robot's webhook URL, an SMTP
 * URL, an e-mail address), each platform's JSON body, DingTalk's and
 * Feishu's signatures, a whole e-mail (multipart/alternative text and HTML),
 * and whether a robot's answer is a success (WeCom and DingTalk answer
 * HTTP 200 with {"errcode": N}, Feishu with {"code": N}; N != 0 is an error).
 * Pure apart from the URL check's name resolution: the delivery itself is
 * deliver.c's, over the same sender, guard and timeouts as the webhooks.
 */
#include "webhook_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "sharecard/buf.h"

static const char *const kinds[] = {"wecom", "dingtalk", "feishu", "slack", "email"};

bool sc_notify_kind_parse(const char *name, enum sc_notify_kind *out)
{
    for (size_t i = 0; name && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(name, kinds[i]) == 0) {
            *out = (enum sc_notify_kind)i;
            return true;
        }
    return false;
}

const char *sc_notify_kind_name(enum sc_notify_kind k)
{
    return (unsigned)k < sizeof(kinds) / sizeof(kinds[0]) ? kinds[k] : "?";
}

static bool atext(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+/=?^_`{|}~-", c));
}

bool sc_notify_email_valid(const char *a)
{
    const char *at = a ? strchr(a, '@') : NULL;
    size_t n = a ? strlen(a) : 0;
    if (!at || n > 254 || at == a || at - a > 64 || strchr(at + 1, '@'))
        return false;
    /* The local part: dot-separated atoms (no quoted forms: nothing that could end a header). */
    for (const char *p = a; p < at; p++)
        if (!(atext(*p) || (*p == '.' && p > a && p[-1] != '.' && p + 1 < at)))
            return false;
    /* The domain: at least two labels of letters, digits and inner hyphens. */
    int labels = 0;
    for (const char *p = at + 1; *p;) {
        const char *end = strchr(p, '.');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0 || len > 63 || p[0] == '-' || p[len - 1] == '-')
            return false;
        for (size_t i = 0; i < len; i++) {
            char c = p[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-'))
                return false;
        }
        labels++;
        p = end ? end + 1 : p + len;
        if (end && !*p)
            return false; /* a trailing dot */
    }
    return labels >= 2;
}

enum sc_err sc_notify_smtp_check(const char *url, char *why, size_t why_size)
{
    CURLU *u = NULL;
    char *scheme = NULL, *host = NULL;
    enum sc_err e = SC_EINVAL;
    if (!url || !url[0]) {
        snprintf(why, why_size, "SHARECARD_SMTP_URL is not set");
        return SC_EINVAL;
    }
    if (strlen(url) > SC_WEBHOOK_URL_MAX || !sc_webhook_curl_ready() || !(u = curl_url())) {
        snprintf(why, why_size, "the SMTP URL is too long");
        return SC_EINVAL;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        snprintf(why, why_size, "the SMTP URL does not parse");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "smtp") != 0 && strcmp(scheme, "smtps") != 0)) {
        snprintf(why, why_size, "the SMTP URL must begin with smtp:// or smtps://");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
        snprintf(why, why_size, "the SMTP URL has no host");
        goto out;
    }
    e = SC_OK;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return e;
}

enum sc_err sc_notify_target_check(enum sc_notify_kind k, const char *target, const char *secret,
                                   bool allow_private, char *why, size_t why_size)
{
    if (!target || !target[0]) {
        snprintf(why, why_size,
                 k == SC_NOTIFY_EMAIL ? "--to (the address) is missing"
                                      : "--url (the robot's webhook URL) is missing");
        return SC_EINVAL;
    }
    if (secret && (strlen(secret) > 200 || strpbrk(secret, "\r\n"))) {
        snprintf(why, why_size, "the secret is at most 200 characters on one line");
        return SC_EINVAL;
    }
    if (k == SC_NOTIFY_EMAIL) {
        if (!sc_notify_email_valid(target)) {
            snprintf(why, why_size, "'%.80s' is not an e-mail address", target);
            return SC_EINVAL;
        }
        return SC_OK;
    }
    if (secret && secret[0] && k != SC_NOTIFY_DINGTALK && k != SC_NOTIFY_FEISHU) {
        snprintf(why, why_size, "only DingTalk and Feishu robots take a signing secret");
        return SC_EINVAL;
    }
    if (!allow_private && strncmp(target, "https://", 8) != 0) {
        snprintf(why, why_size,
                 "the robot's URL must be https:// (http only with "
                 "SHARECARD_WEBHOOK_ALLOW_PRIVATE=1)");
        return SC_EINVAL;
    }
    return sc_webhook_url_check(target, allow_private, why, why_size);
}

/* ---- signatures ---------------------------------------------------------------------------- */

/* base64(HMAC-SHA256(key, msg)) into 'out' (at least 45 bytes). */
static void hmac_b64(const char *key, size_t klen, const char *msg, size_t mlen, char *out,
                     size_t size)
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, mlen);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2base64(out, size, mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
}

enum sc_err sc_notify_sign_dingtalk(const char *secret, int64_t ts_ms, char *out, size_t size)
{
    char msg[320];
    if (sodium_init() < 0 || size < 45)
        return SC_EINVAL;
    int n = snprintf(msg, sizeof(msg), "%" PRId64 "\n%s", ts_ms, secret);
    if (n < 0 || (size_t)n >= sizeof(msg))
        return SC_EINVAL;
    hmac_b64(secret, strlen(secret), msg, (size_t)n, out, size);
    return SC_OK;
}

enum sc_err sc_notify_sign_feishu(const char *secret, int64_t ts_s, char *out, size_t size)
{
    char key[320];
    if (sodium_init() < 0 || size < 45)
        return SC_EINVAL;
    int n = snprintf(key, sizeof(key), "%" PRId64 "\n%s", ts_s, secret);
    if (n < 0 || (size_t)n >= sizeof(key))
        return SC_EINVAL;
    hmac_b64(key, (size_t)n, "", 0, out, size);
    return SC_OK;
}

/* ---- bodies ---------------------------------------------------------------------------------- */

/* base64 of 'in' in lines of 76, CRLF-ended, appended to 'b'. */
static void put_b64_lines(struct sc_buf *b, const char *in, size_t len)
{
    for (size_t i = 0; i < len; i += 57) {
        size_t n = len - i < 57 ? len - i : 57;
        char line[80];
        sodium_bin2base64(line, sizeof(line), (const unsigned char *)in + i, n,
                          sodium_base64_VARIANT_ORIGINAL);
        sc_buf_puts(b, line);
        sc_buf_puts(b, "\r\n");
    }
}

static enum sc_err email(const struct sc_notify_msg *m, int64_t now_ms, const char *from,
                         const char *to, struct sc_buf *b)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    unsigned char rnd[12];
    char boundary[40], subject[1400], id[32];
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    if (!from || !sc_notify_email_valid(from) || !to || !sc_notify_email_valid(to))
        return SC_EINVAL;
    if (sodium_init() < 0 || !gmtime_r(&t, &tm))
        return SC_EINVAL;
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(id, sizeof(id), rnd, sizeof(rnd));
    snprintf(boundary, sizeof(boundary), "=_sharecard_%.24s", id);
    if (strlen(m->title) > 1000)
        return SC_EINVAL;
    sodium_bin2base64(subject, sizeof(subject), (const unsigned char *)m->title, strlen(m->title),
                      sodium_base64_VARIANT_ORIGINAL);
    sc_buf_printf(b,
                  "From: %s\r\nTo: %s\r\nSubject: =?UTF-8?B?%s?=\r\n"
                  "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n"
                  "Message-ID: <%s@sharecard>\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
                  from, to, subject, days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                  tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, id, boundary);
    sc_buf_printf(b,
                  "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\n",
                  boundary);
    put_b64_lines(b, m->text, strlen(m->text));
    sc_buf_printf(b,
                  "--%s\r\nContent-Type: text/html; charset=UTF-8\r\n"
                  "Content-Transfer-Encoding: base64\r\n\r\n",
                  boundary);
    put_b64_lines(b, m->html, strlen(m->html));
    sc_buf_printf(b, "--%s--\r\n", boundary);
    return SC_OK;
}

/*
 * The text as Slack or Feishu should get it.  Slack: its control characters escaped as Slack
 * asks (&amp; &lt; &gt;), so a customer's name such as "<!channel>" or "<https://x|click>" is
 * shown as typed instead of notifying the whole channel or becoming a link.  Feishu (whose
 * text takes <at user_id="all"> tags): < and > in their full-width forms.  NULL when out of
 * memory.
 */
static char *robot_text(const char *s, bool slack)
{
    struct sc_buf b;
    sc_buf_init(&b, strlen(s) + 64);
    for (; *s; s++) {
        if (*s == '&' && slack)
            sc_buf_puts(&b, "&amp;");
        else if (*s == '<')
            sc_buf_puts(&b, slack ? "&lt;" : "＜");
        else if (*s == '>')
            sc_buf_puts(&b, slack ? "&gt;" : "＞");
        else
            sc_buf_putc(&b, *s);
    }
    char *out = sc_buf_error(&b) == SC_OK ? strdup(b.data) : NULL;
    sc_buf_cleanup(&b);
    return out;
}

/*
 * WeCom's robots refuse markdown over 4096 bytes, and a
 * refused message is retried until it fails: a long batch is cut to fit at
 * a character's edge, ending in "…", each alert already carrying its link.
 * Returns new.
 */
#define WECOM_MARKDOWN_MAX 4096
static char *wecom_content(const char *markdown)
{
    size_t n = strlen(markdown);
    if (n <= WECOM_MARKDOWN_MAX)
        return strdup(markdown);
    static const char more[] = "\n…";
    size_t cut = WECOM_MARKDOWN_MAX - (sizeof(more) - 1);
    while (cut > 0 && ((unsigned char)markdown[cut] & 0xc0) == 0x80)
        cut--; /* not inside a character */
    char *out = malloc(cut + sizeof(more));
    if (!out)
        return NULL;
    memcpy(out, markdown, cut);
    memcpy(out + cut, more, sizeof(more));
    return out;
}

enum sc_err sc_notify_request(enum sc_notify_kind k, const char *url, const char *secret,
                              const struct sc_notify_msg *m, int64_t now_ms, const char *from,
                              const char *to, char **url_out, char **body_out)
{
    json_t *j = NULL;
    struct sc_buf b;
    enum sc_err e = SC_ENOMEM;
    char sig[64], *enc = NULL;
    *url_out = *body_out = NULL;
    sc_buf_init(&b, SC_WEBHOOK_BODY_MAX);
    bool signed_ = secret && secret[0];
    switch (k) {
    case SC_NOTIFY_WECOM: {
        char *content = wecom_content(m->markdown);
        j = content
                ? json_pack("{s:s, s:{s:s}}", "msgtype", "markdown", "markdown", "content", content)
                : NULL;
        free(content);
        sc_buf_puts(&b, url);
        break;
    }
    case SC_NOTIFY_DINGTALK:
        j = json_pack("{s:s, s:{s:s, s:s}}", "msgtype", "markdown", "markdown", "title", m->title,
                      "text", m->markdown);
        sc_buf_puts(&b, url);
        if (signed_) {
            if ((e = sc_notify_sign_dingtalk(secret, now_ms, sig, sizeof(sig))) != SC_OK)
                goto out;
            e = SC_ENOMEM;
            if (!(enc = curl_easy_escape(NULL, sig, 0)))
                goto out;
            sc_buf_printf(&b, "%ctimestamp=%" PRId64 "&sign=%s", strchr(url, '?') ? '&' : '?',
                          now_ms, enc);
        }
        break;
    case SC_NOTIFY_FEISHU: {
        char *text = robot_text(m->text, false);
        j = text ? json_pack("{s:s, s:{s:s}}", "msg_type", "text", "content", "text", text) : NULL;
        free(text);
        if (j && signed_) {
            char ts[24];
            if ((e = sc_notify_sign_feishu(secret, now_ms / 1000, sig, sizeof(sig))) != SC_OK)
                goto out;
            e = SC_ENOMEM;
            snprintf(ts, sizeof(ts), "%" PRId64, now_ms / 1000);
            json_object_set_new(j, "timestamp", json_string(ts));
            json_object_set_new(j, "sign", json_string(sig));
        }
        sc_buf_puts(&b, url);
        break;
    }
    case SC_NOTIFY_SLACK: {
        char *text = robot_text(m->text, true);
        j = text ? json_pack("{s:s}", "text", text) : NULL;
        free(text);
        sc_buf_puts(&b, url);
        break;
    }
    case SC_NOTIFY_EMAIL: sc_buf_puts(&b, url); break;
    default: e = SC_EINVAL; goto out;
    }
    if (sc_buf_error(&b) != SC_OK || !(*url_out = strdup(b.data)))
        goto out;
    if (k == SC_NOTIFY_EMAIL) {
        sc_buf_reset(&b);
        if ((e = email(m, now_ms, from, to, &b)) != SC_OK)
            goto out;
        e = sc_buf_error(&b);
        if (e == SC_OK && !(*body_out = strdup(b.data)))
            e = SC_ENOMEM;
    } else if (j) {
        *body_out = json_dumps(j, JSON_COMPACT);
        e = *body_out ? SC_OK : SC_ENOMEM;
    }
out:
    if (e != SC_OK) {
        free(*url_out);
        *url_out = NULL;
    }
    curl_free(enc);
    json_decref(j);
    sc_buf_cleanup(&b);
    return e;
}

bool sc_notify_answer_ok(const char *body, char *why, size_t why_size)
{
    json_t *j = body && body[0] == '{' ? json_loads(body, 0, NULL) : NULL;
    bool ok = true;
    if (j) {
        const char *names[] = {"errcode", "code", "StatusCode"};
        for (size_t i = 0; ok && i < 3; i++) {
            json_t *v = json_object_get(j, names[i]);
            if (json_is_integer(v) && json_integer_value(v) != 0) {
                const char *msg = json_string_value(json_object_get(j, "errmsg"));
                if (!msg)
                    msg = json_string_value(json_object_get(j, "msg"));
                snprintf(why, why_size, "the robot answered %s %lld: %.160s", names[i],
                         (long long)json_integer_value(v), msg ? msg : "");
                ok = false;
            }
        }
    }
    json_decref(j);
    return ok;
}
