/*
 * bots.c — tells people from machines by their user-agent.
 *
 * Link-preview fetchers (the chat apps that unfurl a pasted link), search
 * crawlers, headless browsers, e-mail link scanners and scripting tools are
 * recorded but never counted.  The patterns are matched case-insensitively
 * as substrings; order matters only for the reason given.  In-app browsers
 * (WeChat's MicroMessenger, WhatsApp's and Instagram's web views, …) are
 * people on phones and are not listed here.
 */
#include <ctype.h>
#include <string.h>

#include "sharecard/tracker.h"

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
    {"snapchat", "preview"},
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

/* Case-insensitive substring search; 'needle' is lower-case. */
static bool contains(const char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    if (m > n)
        return false;
    for (size_t i = 0; i + m <= n; i++) {
        size_t j = 0;
        while (j < m && (char)tolower((unsigned char)hay[i + j]) == needle[j])
            j++;
        if (j == m)
            return true;
    }
    return false;
}

const char *sc_bot_reason(const char *ua, bool head)
{
    if (head)
        return "head";
    if (!ua || !ua[0])
        return "empty";
    size_t n = strnlen(ua, 1024);
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
        if (contains(ua, n, patterns[i].needle))
            return patterns[i].reason;
    /* People's browsers all say Mozilla/5.0 (or Opera); anything else is a program. */
    if (!contains(ua, n, "mozilla/") && !contains(ua, n, "opera"))
        return contains(ua, n, "whatsapp") ? "preview" : "tool";
    return NULL;
}

#define INAPP_COUNT 11 /* the first entries of browsers[] below are apps' own browsers */

void sc_ua_families(const char *ua, struct sc_ua_info *out)
{
    static const struct {
        const char *needle;
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
    static const struct {
        const char *needle;
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

    strcpy(out->browser, "Other");
    strcpy(out->os, "Other");
    strcpy(out->device, "other");
    out->inapp = false;
    if (!ua || !ua[0])
        return;
    size_t n = strnlen(ua, 1024);
    if (sc_bot_reason(ua, false)) {
        strcpy(out->device, "bot");
        return;
    }
    for (size_t i = 0; i < sizeof(browsers) / sizeof(browsers[0]); i++)
        if (contains(ua, n, browsers[i].needle)) {
            strcpy(out->browser, browsers[i].name);
            out->inapp = i < INAPP_COUNT;
            break;
        }
    for (size_t i = 0; i < sizeof(oses) / sizeof(oses[0]); i++)
        if (contains(ua, n, oses[i].needle)) {
            strcpy(out->os, oses[i].name);
            break;
        }
    if (contains(ua, n, "ipad") || contains(ua, n, "tablet") ||
        (contains(ua, n, "android") && !contains(ua, n, "mobile")))
        strcpy(out->device, "tablet");
    else if (contains(ua, n, "mobile") || contains(ua, n, "iphone"))
        strcpy(out->device, "phone");
    else if (strcmp(out->os, "Other") != 0)
        strcpy(out->device, "desktop");
}
