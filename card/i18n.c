/*
 * i18n.c — the UI strings of our pages in English and Simplified Chinese.
 *
 * Card content is shown as the salesperson typed it; only our own labels
 * are translated.  A sorted table would be faster, but there are a few dozen
 * keys and pages look them up a handful of times per render.
 */
#include <string.h>

#include "sharecard/page.h"

struct entry {
    const char *key;
    const char *en;
    const char *zh;
};

static const struct entry strings[] = {
    {"call", "Call", "拨打电话"},
    {"email", "Email", "邮件"},
    {"wechat", "WeChat", "微信"},
    {"wechat_id", "WeChat", "微信号"},
    {"website", "Website", "网站"},
    {"save", "Save contact", "保存到通讯录"},
    {"share", "Share this card", "分享名片"},
    {"copied", "Copied:", "已复制："},
    {"mobile", "Mobile", "手机"},
    {"office", "Office", "座机"},
    {"address", "Address", "地址"},
    {"scan", "Scan to open this card", "扫码打开名片"},
    {"home", "Home", "首页"},
    {"card_of", "Business card", "电子名片"},
    {"disabled_title", "This card is no longer active", "该名片已停用"},
    {"disabled_msg",
     "The person you are looking for has moved on. Their company can help you further.",
     "您要找的人已不再使用这张名片，请联系其公司获取帮助。"},
    {"tagline", "Digital business cards with QR codes, share tracking and referral rewards.",
     "带二维码的电子名片：分享追踪、推荐奖励、线索洞察。"},
    {"f1", "Every salesperson gets a card and a QR code.", "每位销售都有自己的名片和二维码。"},
    {"f2", "Every scan, view and share is counted, bots apart.",
     "每次扫码、浏览和分享都被记录，机器人单独统计。"},
    {"f3", "Sign-ups are credited two levels up the referral chain.", "注册按两级推荐链计入奖励。"},
    {"login", "Sign in", "登录"},
    {"e400", "Bad request", "请求有误"},
    {"e401", "Sign-in required", "需要登录"},
    {"e403", "Not allowed", "无权访问"},
    {"e404", "Not found", "页面不存在"},
    {"e405", "Method not allowed", "不支持该请求方法"},
    {"e409", "Already exists", "已存在"},
    {"e413", "Too large", "请求过大"},
    {"e422", "Please check your input", "请检查输入"},
    {"e429", "Too many requests", "请求过于频繁"},
    {"e500", "Something went wrong", "服务器出错"},
    {"e503", "Busy, please try again", "服务繁忙，请稍后再试"},
    {"signup_title", "Stay in touch", "留下联系方式"},
    {"name", "Name", "姓名"},
    {"phone", "Phone", "手机号"},
    {"consent", "I agree to be contacted about my enquiry and to my details being kept for that.",
     "我同意对方就我的咨询与我联系，并为此保存我填写的信息。"},
    {"signup", "Sign up", "立即注册"},
    {"thanks_title", "Thank you!", "感谢注册！"},
    {"thanks_msg",
     "You are signed up. Share your own link below: when friends sign up through "
     "it, you earn rewards.",
     "注册成功。分享下面属于您的专属链接：好友通过它注册，您将获得奖励。"},
    {"copy_link", "Copy my link", "复制我的链接"},
    {"your_qr", "Your referral QR code", "您的专属二维码"},
    {"back_to_card", "Back to the card", "返回名片"},
    {"already", "You have already signed up with these details. Welcome back!",
     "您已使用这些信息注册过，欢迎回来！"},
    {"email_invalid", "Please enter a valid email address, like name@example.com.",
     "请输入有效的邮箱地址，例如 name@example.com。"},
    {"phone_invalid", "Please enter a valid phone number, like 138 0013 8000 or +44 20 7946 0000.",
     "请输入有效的手机号，例如 138 0013 8000。"},
    {"name_required", "Please tell us your name (up to 100 characters).",
     "请填写您的姓名（不超过 100 个字符）。"},
    /* A field that is not text (invalid UTF-8 or a control character): issue 16's check. */
    {"name_text", "Your name holds characters that are not text: please type it again.",
     "姓名中含有无法识别的字符，请重新输入。"},
    {"phone_text", "The phone number holds characters that are not text: please type it again.",
     "手机号中含有无法识别的字符，请重新输入。"},
    {"email_text", "The email address holds characters that are not text: please type it again.",
     "邮箱地址中含有无法识别的字符，请重新输入。"},
    {"birthday_text", "The birthday holds characters that are not text: please type it again.",
     "生日中含有无法识别的字符，请重新输入。"},
    {"contact_required", "Please give a phone number or an email address.",
     "请至少填写手机号或邮箱。"},
    {"consent_required", "Please tick the box to agree before signing up.",
     "请先勾选同意条款再注册。"},
    {"csrf_invalid", "This form has expired. Please reload the page and try again.",
     "表单已过期，请刷新页面后重试。"},
    {"too_many", "Too many sign-ups from here. Please try again later.",
     "注册过于频繁，请稍后再试。"},
    /* issue 17: the form's own errors, a repeat's way back, what a customer earns */
    {"signup_again", "You have already signed up: here is your referral page.",
     "您已经注册过：这是您的专属推荐页。"},
    {"already_elsewhere",
     "You have already signed up with these details. Open your referral page from the "
     "browser you signed up with, or use the link you were given then.",
     "您已使用这些信息注册过。请在当时注册所用的浏览器中打开您的专属推荐页，或使用当时获得的链接"
     "。"},
    {"earn1", "You earn {1} points for every friend who signs up through your link.",
     "每位好友通过您的链接注册，您可获得 {1} 积分。"},
    {"earn2",
     "You earn {1} points for every friend who signs up through your link, and {2} for "
     "every person they bring in turn.",
     "每位好友通过您的链接注册，您可获得 {1} 积分；他们再介绍的每位朋友，您再得 {2} 积分。"},
    {"where_to_see",
     "Your points and rewards are shown on this page, your referral page: bookmark it. It "
     "shows them in this browser only.",
     "您的积分和奖励显示在本页（您的专属推荐页），请收藏。仅在本浏览器中显示。"},
    /* birthdays (issue 14) */
    {"birthday", "Birthday (optional: MM-DD, or YYYY-MM-DD)", "生日（可选：MM-DD 或 YYYY-MM-DD）"},
    {"birthday_format", "birthday must be written MM-DD or YYYY-MM-DD, like 03-07.",
     "birthday（生日）请写成 MM-DD 或 YYYY-MM-DD，例如 03-07。"},
    {"birthday_month", "birthday: there is no such month.", "birthday（生日）：没有这个月份。"},
    {"birthday_day", "birthday: that month has no such day (like 02-30).",
     "birthday（生日）：该月没有这一天（例如 02-30）。"},
    {"birthday_year", "birthday: the year must be from 1900 and the date not in the future.",
     "birthday（生日）：年份须不早于 1900 年，且日期不能在将来。"},
};

const char *sc_i18n(enum sc_lang lang, const char *key)
{
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        if (strcmp(strings[i].key, key) == 0)
            return lang == SC_LANG_ZH ? strings[i].zh : strings[i].en;
    return key;
}
