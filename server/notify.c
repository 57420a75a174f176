/*
 * notify.c — notifications where salespeople live (issue 18): a member's
 * targets checked and stored, and the dispatcher's side of sending them.
 * Alerts are outbox rows like webhooks (q_notify.c queues them), so the
 * claims, retries and delivery log are the webhooks'; what is particular
 * to a person's robot or inbox is here:
 *
 *  - quiet hours: an alert claimed inside its member's quiet hours
 *    (SHARECARD_TZ) is put back, due when they end, so everything held
 *    overnight is claimed together then and goes out as one message;
 *  - batching: the rows of one target claimed together become one message
 *    (at most SC_NOTIFY_BATCH_MAX alerts);
 *  - rate limits: each target keeps a minute's window of its sends (WeCom
 *    and DingTalk allow 20 a minute per robot); a message over it is put
 *    back until the window has room, without counting an attempt;
 *  - the message in the member's language (their card's), with links on
 *    the base URL and nothing the member could not see on /leads.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "sharecard/buf.h"
#include "sharecard/card.h"
#include "sharecard/escape.h"
#include "sharecard/log.h"
#include "sharecard/store.h"
#include "leads_int.h"
#include "notify_int.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char base_url[512]; /* "" until the server knows it: alerts wait for it */

void sc_notify_base_url_set(const char *url)
{
    pthread_mutex_lock(&mu);
    snprintf(base_url, sizeof(base_url), "%s", url ? url : "");
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
        base_url[--n] = '\0';
    pthread_mutex_unlock(&mu);
}

/* ---- targets and preferences ------------------------------------------------------------ */

enum sc_err sc_notify_target_add(struct sc_store *s, const struct sc_member *m, const char *kind,
                                 const char *url, const char *to, const char *secret, bool team,
                                 int64_t *id, char *why, size_t why_size)
{
    enum sc_notify_kind k;
    char mailto[320];
    if (!kind || !sc_notify_kind_parse(kind, &k)) {
        snprintf(why, why_size,
                 "unknown kind '%.40s' (known: wecom, dingtalk, feishu, slack, email)",
                 kind ? kind : "");
        return SC_EINVAL;
    }
    const char *target = k == SC_NOTIFY_EMAIL ? to : url;
    if ((target && !sc_utf8_valid(target, strlen(target))) ||
        (secret && !sc_utf8_valid(secret, strlen(secret)))) {
        snprintf(why, why_size, "the %s is not valid UTF-8", k == SC_NOTIFY_EMAIL ? "to" : "url");
        return SC_EINVAL;
    }
    if (k == SC_NOTIFY_EMAIL && url && url[0]) {
        snprintf(why, why_size, "an e-mail target takes --to ADDRESS, not --url");
        return SC_EINVAL;
    }
    if (k != SC_NOTIFY_EMAIL && to && to[0]) {
        snprintf(why, why_size, "a robot takes --url, not --to");
        return SC_EINVAL;
    }
    enum sc_err e =
        sc_notify_target_check(k, target, secret, sc_webhook_allow_private_env(), why, why_size);
    if (e != SC_OK)
        return e;
    if (k == SC_NOTIFY_EMAIL) {
        const char *from = getenv("SHARECARD_SMTP_FROM");
        if ((e = sc_notify_smtp_check(getenv("SHARECARD_SMTP_URL"), why, why_size)) != SC_OK)
            return e;
        if (!from || !sc_notify_email_valid(from)) {
            snprintf(why, why_size, "SHARECARD_SMTP_FROM is not an e-mail address");
            return SC_EINVAL;
        }
        snprintf(mailto, sizeof(mailto), "mailto:%s", to);
        target = mailto;
    }
    if (team && m->role == SC_ROLE_SALES) {
        snprintf(why, why_size, "only managers and admins have team targets");
        return SC_EINVAL;
    }
    e = sc_store_notify_target_add(s, m->id, sc_notify_kind_name(k), target,
                                   k == SC_NOTIFY_EMAIL ? "" : secret, team, (int64_t)time(NULL),
                                   id);
    if (e == SC_ETOOBIG)
        snprintf(why, why_size, "a member has at most %d targets; remove one first",
                 SC_NOTIFY_TARGETS_MAX);
    else if (e != SC_OK)
        snprintf(why, why_size, "the target could not be stored: %s", sc_err_str(e));
    return e;
}

enum sc_err sc_notify_test(struct sc_store *s, int64_t member_id, int64_t id)
{
    return sc_store_notify_add(s, member_id, id, "notify.test", (int64_t)time(NULL), "{}");
}

enum sc_err sc_notify_quiet_parse(const char *in, int *from, int *to, char *why, size_t why_size)
{
    int h1, m1, h2, m2, used = 0;
    *from = *to = 0;
    if (!in || !in[0] || strcmp(in, "off") == 0)
        return SC_OK;
    if (strlen(in) != 11 || sscanf(in, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &used) != 4 ||
        used != 11 || in[2] != ':' || in[5] != '-' || in[8] != ':' || h1 > 23 || h2 > 23 ||
        m1 > 59 || m2 > 59 || h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0) {
        snprintf(why, why_size, "quiet hours are HH:MM-HH:MM (like 22:00-08:00) or off");
        return SC_EINVAL;
    }
    for (const char *p = in; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == ':' || *p == '-')) {
            snprintf(why, why_size, "quiet hours are HH:MM-HH:MM (like 22:00-08:00) or off");
            return SC_EINVAL;
        }
    *from = h1 * 60 + m1;
    *to = h2 * 60 + m2;
    return SC_OK;
}

enum sc_err sc_notify_events_parse(const char *in, char *out, size_t size, char *why,
                                   size_t why_size)
{
    static const char *const known[] = {"hot", "signup", "reminder", "quiet", "digest"};
    bool want[5] = {false};
    if (!in || strcmp(in, "all") == 0) {
        snprintf(out, size, "%s", SC_NOTIFY_EVENTS_ALL);
        return SC_OK;
    }
    if (strlen(in) > 100) {
        snprintf(why, why_size, "the list of alerts is too long");
        return SC_EINVAL;
    }
    if (strcmp(in, "none") != 0 && in[0]) {
        for (const char *p = in; p;) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p), k = 0;
            while (k < 5 && !(strlen(known[k]) == len && strncmp(known[k], p, len) == 0))
                k++;
            if (k == 5) {
                snprintf(why, why_size,
                         "unknown alert '%.*s' (known: hot, signup, reminder, quiet, digest)",
                         (int)(len > 40 ? 40 : len), p);
                return SC_EINVAL;
            }
            want[k] = true;
            p = end ? end + 1 : NULL;
        }
    }
    size_t n = 0;
    out[0] = '\0';
    for (size_t k = 0; k < 5; k++)
        if (want[k])
            n += (size_t)snprintf(out + n, size - n, "%s%s", n ? "," : "", known[k]);
    return SC_OK;
}

/* ---- rate limits --------------------------------------------------------------------------- */

#define RATE_SLOTS  256
#define RATE_WINDOW 60

struct rate {
    int64_t target;
    int64_t sent[20]; /* the times of the last sends, a ring */
    int next;
    int64_t last; /* the latest send (0: a free slot) */
};
static struct rate rates[RATE_SLOTS];

/*
 * Target t's slot (under 'mu'): its own wherever it is, else the free or least recently used
 * one, which starts afresh.  A slot whose latest send is a minute old limits nothing, so taking
 * it over loses no count; only when more than RATE_SLOTS targets sent within the minute does a
 * target lose its count (before, two targets RATE_SLOTS apart shared one slot and reset each
 * other's count at every send).
 */
static struct rate *rate_slot(int64_t t)
{
    struct rate *lru = &rates[0];
    for (size_t i = 0; i < RATE_SLOTS; i++) {
        if (rates[i].target == t)
            return &rates[i];
        if (rates[i].last < lru->last)
            lru = &rates[i];
    }
    memset(lru, 0, sizeof(*lru));
    lru->target = t;
    return lru;
}

/* Messages a minute each platform takes per target (WeCom, DingTalk: 20). */
static int rate_max(enum sc_notify_kind k)
{
    switch (k) {
    case SC_NOTIFY_WECOM:
    case SC_NOTIFY_DINGTALK: return 20;
    default: return 20; /* Feishu 100, Slack about 60: 20 is polite to all */
    }
}

bool sc_notify_rate_take(int64_t t, enum sc_notify_kind k, int64_t now, int64_t *until)
{
    int max = rate_max(k);
    bool ok = true;
    pthread_mutex_lock(&mu);
    struct rate *r = rate_slot(t);
    /* The oldest of the last 'max' sends: one more is allowed once it is a minute old. */
    int64_t oldest = r->sent[r->next % max];
    if (oldest > 0 && now - oldest < RATE_WINDOW) {
        *until = oldest + RATE_WINDOW;
        ok = false;
    } else {
        r->sent[r->next % max] = now;
        r->next = (r->next + 1) % max;
        r->last = now;
    }
    pthread_mutex_unlock(&mu);
    return ok;
}

/* ---- messages ----------------------------------------------------------------------------------
 */

struct msg {
    struct sc_buf title, md, text, html;
    int n;
    bool is_zh;
};

/* The English or Chinese text (both literals, so formats stay checked). */
#define S(m, en, zh) ((m)->is_zh ? (zh) : (en))

/*
 * 's' into the markdown form (WeCom's, DingTalk's) with the characters that make links, images,
 * tags and mentions ([ ] < >) in their full-width forms: a customer named
 * "[win](https://x/p.png) <@all>" is shown as typed, not as a link, an image fetched from
 * their server, or a mention of the whole group.
 */
static void put_md(struct sc_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '[': sc_buf_puts(b, "［"); break;
        case ']': sc_buf_puts(b, "］"); break;
        case '<': sc_buf_puts(b, "＜"); break;
        case '>': sc_buf_puts(b, "＞"); break;
        default: sc_buf_putc(b, *s);
        }
    }
}

/* One alert: its title, lines and link, into every form of the message. */
static void put_alert(struct msg *m, const char *title, const char *const *lines, size_t nlines,
                      const char *link)
{
    if (m->n++ == 0)
        sc_buf_puts(&m->title, title);
    else
        sc_buf_puts(&m->md, "\n\n");
    if (m->text.len)
        sc_buf_puts(&m->text, "\n\n");
    sc_buf_puts(&m->md, "**");
    put_md(&m->md, title);
    sc_buf_puts(&m->md, "**");
    sc_buf_puts(&m->text, title);
    sc_buf_puts(&m->html, "<h3>");
    sc_esc_html(&m->html, title, strlen(title));
    sc_buf_puts(&m->html, "</h3><p>");
    for (size_t i = 0; i < nlines; i++) {
        if (!lines[i] || !lines[i][0])
            continue;
        sc_buf_puts(&m->md, "\n> ");
        put_md(&m->md, lines[i]);
        sc_buf_printf(&m->text, "\n%s", lines[i]);
        sc_esc_html(&m->html, lines[i], strlen(lines[i]));
        sc_buf_puts(&m->html, "<br>");
    }
    sc_buf_puts(&m->html, "</p>");
    if (link) {
        sc_buf_printf(&m->md, "\n[%s](%s)", S(m, "Open", "打开"), link);
        sc_buf_printf(&m->text, "\n%s", link);
        sc_buf_puts(&m->html, "<p><a href=\"");
        sc_esc_html(&m->html, link, strlen(link));
        sc_buf_printf(&m->html, "\">%s</a></p>", S(m, "Open", "打开"));
    }
}

/* Drops a character cut by a bounded snprintf at the end of 's' (the JSON must stay UTF-8). */
static void utf8_whole(char *s)
{
    size_t n = strlen(s);
    for (int i = 0; i < 3 && n > 0 && !sc_utf8_valid(s, n); i++)
        s[--n] = '\0';
}

static const char *jstr(json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    return s ? s : "";
}

/* A unix time as "YYYY-MM-DD HH:MM" in SHARECARD_TZ. */
static void local_time(int64_t t, char *out, size_t size)
{
    time_t tt = (time_t)(t + (int64_t)sc_tz_min(t) * 60);
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, size, "%Y-%m-%d %H:%M", &tm);
}

static void add_item(struct msg *m, const struct sc_notify_item *it, const char *base)
{
    char who[160] = "";
    json_t *j = json_loads(it->data, 0, NULL);
    char title[256] = "", l1[320] = "", l2[320] = "", l3[320] = "", l4[320] = "", link[700];
    const char *lines[6] = {NULL};
    size_t n = 0;
    link[0] = '\0';
    if (!j)
        j = json_object();
    if (strcmp(it->type, "notify.hot") == 0) {
        long long id = (long long)json_integer_value(json_object_get(j, "id"));
        snprintf(title, sizeof(title), S(m, "Hot lead on %s", "热门线索：%s"), jstr(j, "card"));
        snprintf(l1, sizeof(l1), S(m, "Lead #%lld, score %lld", "线索 #%lld，评分 %lld"), id,
                 (long long)json_integer_value(json_object_get(j, "score")));
        lines[n++] = l1;
        json_t *rs = json_object_get(json_object_get(j, "reasons"), m->is_zh ? "zh" : "en");
        for (size_t i = 0; i < json_array_size(rs) && i < 3; i++)
            lines[n++] = json_string_value(json_array_get(rs, i));
        const char *best = jstr(j, "best_time_local");
        if (best[0]) {
            snprintf(l2, sizeof(l2), S(m, "Best time to reach out: %s", "最佳联系时间：%s"), best);
            lines[n++] = l2;
        }
        snprintf(link, sizeof(link), "%s/leads/%lld", base, id);
    } else if (strcmp(it->type, "notify.signup") == 0) {
        long long level = (long long)json_integer_value(json_object_get(j, "level"));
        if (level == 1) {
            snprintf(title, sizeof(title), S(m, "New sign-up: %s", "新注册：%s"), jstr(j, "name"));
            snprintf(
                l1, sizeof(l1),
                S(m, "Signed up through your card %s (level 1)", "通过您的名片 %s 注册（一级）"),
                jstr(j, "card"));
        } else {
            snprintf(title, sizeof(title), "%s",
                     S(m, "A level-2 sign-up was credited to you", "您获得了一个二级注册"));
            snprintf(l1, sizeof(l1),
                     S(m, "Someone you referred brought a new sign-up (card %s)",
                       "您推荐的人带来了新的注册（名片 %s）"),
                     jstr(j, "card"));
        }
        lines[n++] = l1;
        snprintf(link, sizeof(link), "%s/me", base);
    } else if (strcmp(it->type, "notify.reminder") == 0) {
        long long lead = (long long)json_integer_value(json_object_get(j, "lead"));
        char due[32];
        local_time((int64_t)json_integer_value(json_object_get(j, "due")), due, sizeof(due));
        snprintf(title, sizeof(title), S(m, "Follow-up due: lead #%lld", "跟进提醒：线索 #%lld"),
                 lead);
        snprintf(l1, sizeof(l1), S(m, "Due %s", "到期 %s"), due);
        lines[n++] = l1;
        snprintf(l3, sizeof(l3), "%.300s", jstr(j, "note"));
        lines[n++] = l3;
        snprintf(link, sizeof(link), "%s/leads/%lld", base, lead);
    } else if (strcmp(it->type, "notify.quiet") == 0) {
        char last[32];
        local_time((int64_t)json_integer_value(json_object_get(j, "last")), last, sizeof(last));
        snprintf(title, sizeof(title), S(m, "%s has gone quiet", "%s 已沉寂"), jstr(j, "name"));
        snprintf(l1, sizeof(l1),
                 S(m, "No sign-up or order since %.10s: time to get back in touch",
                   "自 %.10s 以来没有新的注册或订单：是时候重新联系了"),
                 last);
        lines[n++] = l1;
        snprintf(link, sizeof(link), "%s/customers", base);
    } else if (strcmp(it->type, "notify.digest") == 0) {
#define N(key) ((long long)json_integer_value(json_object_get(j, key)))
        snprintf(title, sizeof(title), S(m, "Your day on %s", "%s 日报"), jstr(j, "day"));
        snprintf(
            l1, sizeof(l1),
            S(m, "Scans %lld · views %lld · visitors %lld", "扫码 %lld · 浏览 %lld · 访客 %lld"),
            N("scans"), N("views"), N("visitors"));
        snprintf(l2, sizeof(l2),
                 S(m, "New leads %lld · sign-ups %lld · rewards %lld",
                   "新线索 %lld · 注册 %lld · 奖励 %lld"),
                 N("leads"), N("signups"), N("rewards"));
        lines[n++] = l1;
        lines[n++] = l2;
        json_t *hot = json_object_get(j, "hot");
        if (json_array_size(hot) > 0) {
            size_t k = (size_t)snprintf(l3, sizeof(l3), "%s", S(m, "Hot leads:", "热门线索："));
            for (size_t i = 0; i < json_array_size(hot) && k < sizeof(l3); i++) {
                json_t *h = json_array_get(hot, i);
                k += (size_t)snprintf(l3 + k, sizeof(l3) - k, " #%lld (%lld)",
                                      (long long)json_integer_value(json_object_get(h, "id")),
                                      (long long)json_integer_value(json_object_get(h, "score")));
            }
            lines[n++] = l3;
        }
#undef N
        snprintf(link, sizeof(link), "%s/leads", base);
    } else {
        snprintf(title, sizeof(title), "%s",
                 S(m, "Test message from sharecard", "sharecard 测试消息"));
        snprintf(l4, sizeof(l4), "%s",
                 S(m, "Your notifications arrive here.", "您的通知将发送到这里。"));
        lines[n++] = l4;
        snprintf(link, sizeof(link), "%s/me/account", base);
    }
    /* A team target's alert says whose it is. */
    if (jstr(j, "member")[0]) {
        snprintf(who, sizeof(who), "[%.100s", jstr(j, "member"));
        utf8_whole(who);
        snprintf(who + strlen(who), sizeof(who) - strlen(who), "] ");
        size_t wl = strlen(who), tl = strlen(title);
        if (wl + tl < sizeof(title)) {
            memmove(title + wl, title, tl + 1);
            memcpy(title, who, wl);
        }
    }
    utf8_whole(title);
    utf8_whole(l1);
    utf8_whole(l2);
    utf8_whole(l3);
    utf8_whole(l4);
    put_alert(m, title, lines, n, link[0] ? link : NULL);
    json_decref(j);
}

bool sc_notify_any_hour(const char *type)
{
    return strcmp(type, "notify.test") == 0 || strcmp(type, "notify.digest") == 0;
}

/* Minutes of the day at 'now' in SHARECARD_TZ. */
static int local_minute(int64_t now)
{
    int64_t t = now + (int64_t)sc_tz_min(now) * 60;
    return (int)(((t % 86400) + 86400) % 86400 / 60);
}

/* When quiet hours [from, to) hold at 'now', the time they end; else 0. */
static int64_t quiet_until(int from, int to, int64_t now)
{
    if (from == to)
        return 0;
    int m = local_minute(now);
    bool quiet = from < to ? (m >= from && m < to) : (m >= from || m < to);
    if (!quiet)
        return 0;
    int wait = ((to - m) + 1440) % 1440;
    return now - now % 60 + (int64_t)wait * 60;
}

enum sc_err sc_notify_prepare(struct sc_store *s, int64_t target, const char *kind, const char *url,
                              const char *secret, const struct sc_notify_item *items, size_t n,
                              int64_t now, struct sc_notify_plan *p, char *why, size_t why_size)
{
    struct sc_notify_target_info info;
    enum sc_notify_kind k;
    struct msg m;
    char base[512], *out_url = NULL, *body = NULL;
    enum sc_err e;
    memset(p, 0, sizeof(*p));
    if (!sc_notify_kind_parse(kind, &k)) {
        snprintf(why, why_size, "unknown notification kind %.40s", kind);
        return SC_EINVAL;
    }
    if ((e = sc_store_notify_target_info(s, target, &info)) != SC_OK) {
        snprintf(why, why_size, "the target could not be read: %s", sc_err_str(e));
        return e;
    }
    /* Quiet hours hold every alert but the digest (sent at the hour the member chose) and a
     * test (which the member just asked for). */
    bool only_test = true;
    for (size_t i = 0; i < n; i++)
        only_test = only_test && sc_notify_any_hour(items[i].type);
    if (!only_test && (p->hold_until = quiet_until(info.quiet_from, info.quiet_to, now)) > 0)
        return SC_OK;
    pthread_mutex_lock(&mu);
    snprintf(base, sizeof(base), "%s", base_url);
    pthread_mutex_unlock(&mu);
    if (!base[0]) { /* the dispatcher starts before the server has its address */
        p->hold_until = now + 1;
        return SC_OK;
    }
    if (!sc_notify_rate_take(target, k, now, &p->hold_until))
        return SC_OK;
    p->hold_until = 0;
    memset(&m, 0, sizeof(m));
    m.is_zh = info.lang == SC_LANG_ZH;
    sc_buf_init(&m.title, 4096);
    sc_buf_init(&m.md, SC_WEBHOOK_BODY_MAX / 4);
    sc_buf_init(&m.text, SC_WEBHOOK_BODY_MAX / 4);
    sc_buf_init(&m.html, SC_WEBHOOK_BODY_MAX / 4);
    for (size_t i = 0; i < n; i++)
        add_item(&m, &items[i], base);
    if (n > 1) {
        sc_buf_reset(&m.title);
        sc_buf_printf(&m.title, S(&m, "sharecard: %zu alerts", "sharecard：%zu 条提醒"), n);
    }
    e = SC_ENOMEM;
    if (sc_buf_error(&m.title) || sc_buf_error(&m.md) || sc_buf_error(&m.text) ||
        sc_buf_error(&m.html))
        goto out;
    struct sc_notify_msg msg = {m.title.data, m.md.data, m.text.data, m.html.data};
    const char *to = k == SC_NOTIFY_EMAIL && strncmp(url, "mailto:", 7) == 0 ? url + 7 : NULL;
    const char *from = getenv("SHARECARD_SMTP_FROM");
    const char *smtp = getenv("SHARECARD_SMTP_URL");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    e = sc_notify_request(k, k == SC_NOTIFY_EMAIL ? (smtp ? smtp : "") : url, secret, &msg,
                          (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, from, to, &out_url,
                          &body);
    if (e != SC_OK) {
        snprintf(why, why_size, "the message could not be built: %s%s", sc_err_str(e),
                 k == SC_NOTIFY_EMAIL ? " (check SHARECARD_SMTP_URL and SHARECARD_SMTP_FROM)" : "");
        goto out;
    }
    p->own_url = out_url;
    p->own_body = body;
    p->own_from = k == SC_NOTIFY_EMAIL ? strdup(from ? from : "") : NULL;
    p->own_to = to ? strdup(to) : NULL;
    p->d.url = p->own_url;
    p->d.body = p->own_body;
    p->d.body_len = strlen(body);
    p->d.secret = "";
    p->d.style = k == SC_NOTIFY_EMAIL ? SC_WEBHOOK_SMTP : SC_WEBHOOK_ROBOT;
    p->d.mail_from = p->own_from;
    p->d.mail_to = p->own_to;
    out_url = body = NULL;
out:
    free(out_url);
    free(body);
    sc_buf_cleanup(&m.title);
    sc_buf_cleanup(&m.md);
    sc_buf_cleanup(&m.text);
    sc_buf_cleanup(&m.html);
    return e;
}

void sc_notify_plan_free(struct sc_notify_plan *p)
{
    free(p->own_url);
    free(p->own_body);
    free(p->own_from);
    free(p->own_to);
    memset(p, 0, sizeof(*p));
}

/* The members whose digest is due at 'now' (their hour reached, today's not yet sent). */
struct due_list {
    int64_t now, today_local; /* the local day number */
    char today[16];
    int64_t ids[256];
    bool digest[256]; /* the member takes a digest */
    size_t n;
};

static int digest_due(const struct sc_notify_digest_due *d, void *ctx)
{
    struct due_list *l = ctx;
    int hour = (int)((l->now + (int64_t)sc_tz_min(l->now) * 60) % 86400 / 3600);
    /* The daily pass runs at the digest's hour, or at the default hour without a digest. */
    int at = d->hour >= 0 ? d->hour : SC_NOTIFY_DIGEST_HOUR;
    if (hour >= at && strcmp(d->last_day, l->today) != 0 && l->n < 256) {
        l->digest[l->n] = d->hour >= 0;
        l->ids[l->n++] = d->member_id;
    }
    return 0;
}

/*
 * The daily pass of each member, once a day: yesterday (SHARECARD_TZ) in figures, and the
 * customers who went quiet yesterday: their last sign-up or order is
 * SHARECARD_NOTIFY_QUIET_DAYS (30) days before it.
 */
static void digests(struct sc_store *s, int64_t now)
{
    const char *qd = getenv("SHARECARD_NOTIFY_QUIET_DAYS");
    int64_t quiet_days = qd && atoi(qd) >= 1 && atoi(qd) <= 365 ? atoi(qd) : 30;
    struct due_list l;
    memset(&l, 0, sizeof(l));
    l.now = now;
    int64_t off = (int64_t)sc_tz_min(now) * 60, local = now + off;
    l.today_local = local / 86400;
    time_t tt = (time_t)local;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(l.today, sizeof(l.today), "%Y-%m-%d", &tm);
    if (sc_store_notify_digest_members(s, digest_due, &l) != SC_OK)
        return;
    int64_t to = l.today_local * 86400 - off, from = to - 86400;
    char day[16];
    tt = (time_t)(local - 86400);
    gmtime_r(&tt, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    for (size_t i = 0; i < l.n; i++) {
        struct sc_notify_digest d;
        bool queued = false;
        if (sc_store_notify_digest_figures(s, l.ids[i], from, to, l.today_local - 1, &d) != SC_OK)
            continue;
        json_t *hot = json_array();
        for (int k = 0; hot && k < d.n_hot; k++)
            json_array_append_new(
                hot, json_pack("{s:I, s:i}", "id", (json_int_t)d.hot[k], "score", d.hot_score[k]));
        json_t *j = hot ? json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "day", day,
                                    "card", d.card, "scans", (json_int_t)d.scans, "views",
                                    (json_int_t)d.views, "visitors", (json_int_t)d.visitors,
                                    "leads", (json_int_t)d.leads, "signups", (json_int_t)d.signups,
                                    "rewards", (json_int_t)d.rewards, "hot", hot)
                        : NULL;
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        int64_t q_to = to - quiet_days * 86400;
        enum sc_err e =
            text ? sc_store_notify_daily(s, l.ids[i], l.today, now, l.digest[i] ? text : NULL,
                                         q_to - 86400, q_to, &queued)
                 : SC_ENOMEM;
        if (e != SC_OK)
            sc_warn("notifications: the digest of member %lld not queued: %s", (long long)l.ids[i],
                    sc_err_str(e));
        free(text);
        json_decref(j);
    }
}

void sc_notify_tick(struct sc_store *s, int64_t now)
{
    static int64_t last;
    int64_t queued = 0;
    if (now - last < 2 && now >= last)
        return;
    last = now;
    enum sc_err e = sc_store_notify_reminders(s, now, &queued);
    if (e != SC_OK)
        sc_warn("notifications: due reminders could not be queued: %s", sc_err_str(e));
    else if (queued)
        sc_info("notifications: %lld reminders fell due", (long long)queued);
    digests(s, now);
}
