/*
 * bots.c — tells people from machines by their user-agent.
 *
 * Link-preview fetchers (the chat apps that unfurl a pasted link), search
 * crawlers, headless browsers, e-mail link scanners and scripting tools are
 * recorded but never counted.  The patterns are matched case-insensitively
 * as substrings; order matters only for the reason given.  In-app browsers
 * (WeChat's MicroMessenger, WhatsApp's and Instagram's web views, …) are
 * people on phones and are not listed here.
 *
 * Every needle (bot patterns, browser and OS names, the device words) is
 * found in ONE pass over the user-agent: an Aho-Corasick automaton, built
 * once, whose transitions fold ASCII case, marks which needles occur; the
 * verdicts then read those marks in each table's order of priority, so the
 * answers are exactly those of searching each needle in turn, at a cost that
 * no longer grows with the number of patterns.
 *
 * And each thread remembers its last verdicts by the whole user-agent
 * string (issue 15), refined by uap-core's families when a database is
 * given (sc_ua_judge): the same strings come again and again (a crawler, a
 * preview fetcher, the phones of the day), and looking one up costs a
 * fraction of the scan.
 */
#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sharecard/tracker.h"
#include "sharecard/uap.h"

struct pattern {
    const char *needle; /* lower-case */
    const char *reason;
};

static const struct pattern patterns[] = {
    /* Link previews in chat and social apps. */
    {"whatsapp/",
     "preview"}, /* WhatsApp's fetcher; its in-app browser says "WhatsApp" only in WebView builds */
    {"telegrambot", "preview"},
    {"slackbot", "preview"},
    {"slack-imgproxy", "preview"},
    {"discordbot", "preview"},
    {"linkedinbot", "preview"},
    {"facebookexternalhit", "preview"},
    {"facebot", "preview"},
    {"facebookcatalog", "preview"},
    {"twitterbot", "preview"},
    {"skypeuripreview", "preview"},
    {"microsoftpreview", "preview"},
    {"teamsbot", "preview"},
    {"skypeuripreview", "preview"},
    {"pinterestbot", "preview"},
    {"redditbot", "preview"},
    {"embedly", "preview"},
    {"iframely", "preview"},
    {"vkshare", "preview"},
    {"line-poker", "preview"},
    {"kakaotalk-scrap", "preview"},
    {"viber", "preview"},
    {"snap url preview", "preview"}, /* Snapchat's fetcher; its in-app browser is a person */
    {"mastodon", "preview"},
    {"bitlybot", "preview"},
    {"wechatshare", "preview"},
    {"mmspider", "preview"}, /* WeChat's link fetcher */
    {"bytespider", "crawler"},
    {"applebot", "crawler"},
    {"googlebot", "crawler"},
    {"google-inspectiontool", "crawler"},
    {"googleother", "crawler"},
    {"adsbot-google", "crawler"},
    {"mediapartners-google", "crawler"},
    {"feedfetcher-google", "crawler"},
    {"google-read-aloud", "crawler"},
    {"bingbot", "crawler"},
    {"bingpreview", "preview"},
    {"msnbot", "crawler"},
    {"baiduspider", "crawler"},
    {"sogou", "crawler"},
    {"360spider", "crawler"},
    {"yisouspider", "crawler"},
    {"yandex", "crawler"},
    {"duckduckbot", "crawler"},
    {"petalbot", "crawler"},
    {"semrushbot", "crawler"},
    {"ahrefsbot", "crawler"},
    {"mj12bot", "crawler"},
    {"dotbot", "crawler"},
    {"gptbot", "crawler"},
    {"chatgpt-user", "crawler"},
    {"ccbot", "crawler"},
    {"claudebot", "crawler"},
    {"perplexitybot", "crawler"},
    {"amazonbot", "crawler"},
    {"ia_archiver", "crawler"},
    {"archive.org_bot", "crawler"},
    /* Headless and automated browsers. */
    {"headlesschrome", "headless"},
    {"phantomjs", "headless"},
    {"puppeteer", "headless"},
    {"playwright", "headless"},
    {"selenium", "headless"},
    {"lighthouse", "headless"},
    {"chrome-lighthouse", "headless"},
    {"pagespeed", "headless"},
    /* E-mail security scanners that open every link in a message. */
    {"barracuda", "scanner"},
    {"proofpoint", "scanner"},
    {"mimecast", "scanner"},
    {"safelinks", "scanner"},
    {"trendmicro", "scanner"},
    {"symantec", "scanner"},
    {"forcepoint", "scanner"},
    {"sophos", "scanner"},
    {"urldefense", "scanner"},
    {"virustotal", "scanner"},
    /* Tools and libraries. */
    {"curl/", "tool"},
    {"wget/", "tool"},
    {"python-requests", "tool"},
    {"python-urllib", "tool"},
    {"aiohttp", "tool"},
    {"httpx", "tool"},
    {"go-http-client", "tool"},
    {"java/", "tool"},
    {"okhttp", "tool"},
    {"apache-httpclient", "tool"},
    {"libwww-perl", "tool"},
    {"node-fetch", "tool"},
    {"axios/", "tool"},
    {"wrk", "tool"},
    {"postmanruntime", "tool"},
    {"insomnia", "tool"},
    {"zgrab", "tool"},
    {"masscan", "tool"},
    {"nmap", "tool"},
    /* Generic words last. */
    {"bot/", "crawler"},
    {"bot;", "crawler"},
    {"spider", "crawler"},
    {"crawler", "crawler"},
    {"preview", "preview"},
    {"scanner", "scanner"},
    {"monitor", "tool"},
    {"uptime", "tool"},
};

static const char *const reasons[] = {NULL,      "preview", "crawler", "headless",
                                      "scanner", "tool",    "empty",   "head"};

int sc_bot_code(const char *reason)
{
    if (!reason)
        return 0;
    for (int i = 1; i < (int)(sizeof(reasons) / sizeof(reasons[0])); i++)
        if (strcmp(reasons[i], reason) == 0)
            return i;
    return 1;
}

const char *sc_bot_name(int code)
{
    return code > 0 && code < (int)(sizeof(reasons) / sizeof(reasons[0])) ? reasons[code] : NULL;
}

/* Browsers in priority order; the first INAPP_COUNT are apps' own browsers. */
static const struct {
    const char *needle; /* lower-case */
    const char *name;
} browsers[] = {{"micromessenger", "WeChat"},
                {"wxwork", "WeCom"},
                {"dingtalk", "DingTalk"},
                {"alipayclient", "Alipay"},
                {"weibo", "Weibo"},
                {"qq/", "QQ"},
                {"instagram", "Instagram"},
                {"fban", "Facebook"},
                {"fbav", "Facebook"},
                {"line/", "LINE"},
                {"whatsapp", "WhatsApp"},
                /* browsers of their own */
                {"mqqbrowser", "QQ Browser"},
                {"ucbrowser", "UC Browser"},
                {"edg", "Edge"},
                {"opr/", "Opera"},
                {"samsungbrowser", "Samsung Internet"},
                {"huaweibrowser", "Huawei Browser"},
                {"miuibrowser", "MIUI Browser"},
                {"firefox", "Firefox"},
                {"fxios", "Firefox"},
                {"crios", "Chrome"},
                {"chrome", "Chrome"},
                {"safari", "Safari"}};
#define INAPP_COUNT 11

static const struct {
    const char *needle; /* lower-case */
    const char *name;
} oses[] = {{"harmonyos", "HarmonyOS"},
            {"android", "Android"},
            {"iphone", "iOS"},
            {"ipad", "iOS"},
            {"ipod", "iOS"},
            {"windows", "Windows"},
            {"mac os x", "macOS"},
            {"cros", "ChromeOS"},
            {"linux", "Linux"}};

/* Words the verdicts test directly. */
enum word { W_MOZILLA, W_OPERA, W_WHATSAPP, W_IPAD, W_TABLET, W_ANDROID, W_MOBILE, W_IPHONE, W_N };
static const char *const words[W_N] = {"mozilla/", "opera",   "whatsapp", "ipad",
                                       "tablet",   "android", "mobile",   "iphone"};

#define N_PATTERNS (sizeof(patterns) / sizeof(patterns[0]))
#define N_BROWSERS (sizeof(browsers) / sizeof(browsers[0]))
#define N_OSES     (sizeof(oses) / sizeof(oses[0]))
#define BASE_B     N_PATTERNS            /* needle id of browsers[0] */
#define BASE_O     (BASE_B + N_BROWSERS) /* … of oses[0] */
#define BASE_W     (BASE_O + N_OSES)     /* … of words[0] */
#define N_NEEDLES  (BASE_W + W_N)

#define MASK_WORDS  4    /* 256 needles at most */
#define MAX_STATES  2048 /* trie nodes: at most the needles' total length + 1 */
#define MAX_CLASSES 64   /* distinct bytes in the needles, + 1 for "any other byte" */
#define UA_SCAN_MAX 1024 /* bytes of a user-agent looked at, as before */

/* The automaton: built once (pthread_once), read-only afterwards, shared by all threads. */
static struct {
    uint8_t cls[256];                       /* byte → class; upper-case folds onto lower */
    uint16_t next[MAX_STATES][MAX_CLASSES]; /* complete transition function */
    uint64_t out[MAX_STATES][MASK_WORDS];   /* needles ending here (fail chain included) */
    bool any[MAX_STATES];                   /* out[] not empty */
    unsigned nstates, nclasses;
} ac;
static pthread_once_t ac_once = PTHREAD_ONCE_INIT;

static const char *needle_of(size_t id)
{
    if (id < BASE_B)
        return patterns[id].needle;
    if (id < BASE_O)
        return browsers[id - BASE_B].needle;
    if (id < BASE_W)
        return oses[id - BASE_O].needle;
    return words[id - BASE_W];
}

static void ac_build(void)
{
    _Static_assert(N_NEEDLES <= 64 * MASK_WORDS, "more needles than the mask holds");
    ac.nclasses = 1; /* class 0: a byte no needle has */
    for (size_t id = 0; id < N_NEEDLES; id++)
        for (const unsigned char *p = (const unsigned char *)needle_of(id); *p; p++)
            if (!ac.cls[*p]) {
                assert(ac.nclasses < MAX_CLASSES);
                ac.cls[*p] = (uint8_t)ac.nclasses++;
            }
    for (int c = 'A'; c <= 'Z'; c++) /* fold case: 'A' reads as 'a' */
        ac.cls[c] = ac.cls[c - 'A' + 'a'];

    /* The trie; 0 in next[][] means "no edge" until the breadth-first pass fills it. */
    ac.nstates = 1;
    for (size_t id = 0; id < N_NEEDLES; id++) {
        unsigned st = 0;
        for (const unsigned char *p = (const unsigned char *)needle_of(id); *p; p++) {
            unsigned c = ac.cls[*p];
            if (!ac.next[st][c]) {
                assert(ac.nstates < MAX_STATES);
                ac.next[st][c] = (uint16_t)ac.nstates++;
            }
            st = ac.next[st][c];
        }
        ac.out[st][id / 64] |= UINT64_C(1) << (id % 64);
    }

    /* Failure links breadth first, folded into a complete transition table. */
    static uint16_t fail[MAX_STATES], queue[MAX_STATES];
    unsigned qh = 0, qt = 0;
    for (unsigned c = 0; c < ac.nclasses; c++)
        if (ac.next[0][c]) {
            fail[ac.next[0][c]] = 0;
            queue[qt++] = ac.next[0][c];
        }
    while (qh < qt) {
        unsigned u = queue[qh++];
        for (int w = 0; w < MASK_WORDS; w++)
            ac.out[u][w] |= ac.out[fail[u]][w];
        for (unsigned c = 0; c < ac.nclasses; c++) {
            unsigned v = ac.next[u][c];
            if (v) {
                fail[v] = ac.next[fail[u]][c];
                queue[qt++] = (uint16_t)v;
            } else {
                ac.next[u][c] = ac.next[fail[u]][c];
            }
        }
    }
    for (unsigned st = 0; st < ac.nstates; st++)
        for (int w = 0; w < MASK_WORDS; w++)
            ac.any[st] |= ac.out[st][w] != 0;
}

/* Which needles occur in 'ua' (its first UA_SCAN_MAX bytes), as a bit mask by needle id. */
static void ac_scan(const char *ua, uint64_t mask[MASK_WORDS])
{
    pthread_once(&ac_once, ac_build);
    memset(mask, 0, MASK_WORDS * sizeof(*mask));
    unsigned st = 0;
    const unsigned char *p = (const unsigned char *)ua;
    for (size_t i = 0; i < UA_SCAN_MAX && p[i]; i++) {
        st = ac.next[st][ac.cls[p[i]]];
        if (ac.any[st])
            for (int w = 0; w < MASK_WORDS; w++)
                mask[w] |= ac.out[st][w];
    }
}

static bool has(const uint64_t mask[MASK_WORDS], size_t id)
{
    return (mask[id / 64] >> (id % 64)) & 1;
}

/* The bot verdict from a scanned mask: the first pattern present, in table order. */
static const char *bot_of(const uint64_t mask[MASK_WORDS])
{
    for (size_t i = 0; i < N_PATTERNS; i++)
        if (has(mask, i))
            return patterns[i].reason;
    /* People's browsers all say Mozilla/5.0 (or Opera); anything else is a program. */
    if (!has(mask, BASE_W + W_MOZILLA) && !has(mask, BASE_W + W_OPERA))
        return has(mask, BASE_W + W_WHATSAPP) ? "preview" : "tool";
    return NULL;
}

/*
 * Verdicts remembered by this thread, by the whole user-agent string: 1024
 * strings in 128 sets of eight, more than the distinct phones and bots of a
 * busy hour, so the scan (and uap-core's regexes behind it) runs about once
 * per string per thread.  A set's eight hashes share one cache line, so a
 * look-up reads that line and the one entry whose hash matches; a full set
 * gives up its entries in turn.
 */
#define VERDICT_SETS   128
#define VERDICT_WAYS   8
#define VERDICT_UA_MAX 384 /* longer user-agents are judged every time */
struct verdict {
    size_t len;             /* of 'ua'; 0 for an empty slot */
    const struct sc_uap *u; /* the uap-core database it was judged with, or NULL */
    const char *bot;        /* the scan's reason, NULL for a person's browser */
    bool spider;            /* uap-core's device family "Spider" */
    struct sc_ua_info info; /* refined by uap-core's families when 'u' */
    char ua[VERDICT_UA_MAX];
};
struct verdict_set {
    uint64_t hash[VERDICT_WAYS]; /* of each way's string; 0: empty */
    unsigned next;               /* the way a newcomer takes */
};
struct verdicts {
    struct verdict_set sets[VERDICT_SETS];
    struct verdict v[VERDICT_SETS][VERDICT_WAYS];
};

/*
 * A thread's verdicts (half a MiB) are allocated at its first judgement and
 * freed when it ends: only the threads that judge (the HTTP threads, the
 * event writer) hold them, and only the pages they fill are resident —
 * static thread-local storage would be zeroed, so resident, in every thread.
 */
static _Thread_local struct verdicts *verdicts;
static pthread_key_t verdicts_key;
static pthread_once_t verdicts_once = PTHREAD_ONCE_INIT;

static void verdicts_key_make(void)
{
    if (pthread_key_create(&verdicts_key, free) != 0)
        abort();
}

/* This thread's verdicts, allocated on first use; NULL when out of memory (nothing kept). */
static struct verdicts *thread_verdicts(void)
{
    if (!verdicts) {
        pthread_once(&verdicts_once, verdicts_key_make);
        verdicts = calloc(1, sizeof(*verdicts));
        if (verdicts)
            (void)pthread_setspecific(verdicts_key, verdicts);
    }
    return verdicts;
}

uint64_t sc_ua_hash(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, s + i, n - i);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 29);
}

static const char *classify(const char *ua, struct sc_ua_info *out);

/* 'src' into 'dst' ('n' bytes), cut to fit. */
static void copy_name(char *dst, size_t n, const char *src)
{
    size_t len = strnlen(src, n - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* The scan's verdict on non-empty 'ua' into 'v' (not its key), refined by 'u' when given. */
static void judge(const char *ua, struct sc_uap *u, struct verdict *v)
{
    v->bot = classify(ua, &v->info);
    v->spider = false;
    v->u = u;
    if (!u)
        return;
    struct sc_uap_result r;
    sc_uap_parse(u, ua, &r);
    if (!v->info.inapp)
        copy_name(v->info.browser, sizeof(v->info.browser), r.browser);
    copy_name(v->info.os, sizeof(v->info.os), r.os);
    v->spider = r.spider;
}

/* What a verdict answers for a request ('head': a HEAD request). */
static const char *answer(const struct verdict *v, bool head, struct sc_ua_info *out)
{
    *out = v->info;
    const char *bot = head ? "head" : v->bot ? v->bot : v->spider && v->u ? "crawler" : NULL;
    if (bot && v->u)
        strcpy(out->device, "bot");
    return bot;
}

const char *sc_ua_judge(const char *ua, bool head, struct sc_uap *u, struct sc_ua_info *out)
{
    if (!ua || !ua[0]) {
        struct verdict v = {.u = u};
        strcpy(v.info.browser, "Other");
        strcpy(v.info.os, "Other");
        strcpy(v.info.device, "other");
        v.bot = "empty";
        return answer(&v, head, out);
    }
    size_t len = strlen(ua);
    struct verdicts *vs = len < VERDICT_UA_MAX ? thread_verdicts() : NULL;
    if (!vs) {
        struct verdict v;
        judge(ua, u, &v);
        return answer(&v, head, out);
    }
    uint64_t h = sc_ua_hash(ua, len) | 1; /* never 0, an empty way's hash */
    size_t i = (size_t)((h >> 1) % VERDICT_SETS);
    struct verdict_set *set = &vs->sets[i];
    struct verdict *ways = vs->v[i];
    for (unsigned w = 0; w < VERDICT_WAYS; w++) {
        struct verdict *v = &ways[w];
        if (set->hash[w] == h && v->len == len && v->u == u && memcmp(v->ua, ua, len) == 0)
            return answer(v, head, out);
    }
    unsigned w = set->next;
    set->next = (w + 1) % VERDICT_WAYS;
    struct verdict *v = &ways[w];
    judge(ua, u, v);
    memcpy(v->ua, ua, len);
    v->len = len;
    set->hash[w] = h;
    return answer(v, head, out);
}

const char *sc_ua_classify(const char *ua, bool head, struct sc_ua_info *out)
{
    return sc_ua_judge(ua, head, NULL, out);
}

/* The scan's verdict on non-empty 'ua': families into 'out', the bot reason or NULL. */
static const char *classify(const char *ua, struct sc_ua_info *out)
{
    strcpy(out->browser, "Other");
    strcpy(out->os, "Other");
    strcpy(out->device, "other");
    out->inapp = false;
    uint64_t mask[MASK_WORDS];
    ac_scan(ua, mask);
    const char *bot = bot_of(mask);
    if (bot) {
        strcpy(out->device, "bot");
        return bot;
    }
    for (size_t i = 0; i < N_BROWSERS; i++)
        if (has(mask, BASE_B + i)) {
            strcpy(out->browser, browsers[i].name);
            out->inapp = i < INAPP_COUNT;
            break;
        }
    for (size_t i = 0; i < N_OSES; i++)
        if (has(mask, BASE_O + i)) {
            strcpy(out->os, oses[i].name);
            break;
        }
    if (has(mask, BASE_W + W_IPAD) || has(mask, BASE_W + W_TABLET) ||
        (has(mask, BASE_W + W_ANDROID) && !has(mask, BASE_W + W_MOBILE)))
        strcpy(out->device, "tablet");
    else if (has(mask, BASE_W + W_MOBILE) || has(mask, BASE_W + W_IPHONE))
        strcpy(out->device, "phone");
    else if (strcmp(out->os, "Other") != 0)
        strcpy(out->device, "desktop");
    return NULL;
}

const char *sc_bot_reason(const char *ua, bool head)
{
    if (head)
        return "head";
    if (!ua || !ua[0])
        return "empty";
    uint64_t mask[MASK_WORDS];
    ac_scan(ua, mask);
    return bot_of(mask);
}

void sc_ua_families(const char *ua, struct sc_ua_info *out)
{
    (void)sc_ua_classify(ua, false, out);
}
