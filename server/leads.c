/*
 * leads.c — the people who engaged with a card, and what each of them did.
 * A lead is a visitor (one browser, first-party cookie) on one card: when
 * they came, how often, what they tapped, saved or shared, how long they
 * stayed, and whether they signed up.  A salesperson sees their own card's
 * leads, a manager their team's, an admin everyone's; the same as JSON and
 * CSV under /api/v1/leads.  Each lead carries its intent score, label and
 * reasons, the best time and channel to reach out and a drafted next step
 * (lead_intel.c and intel/); a signed-up lead its contact details; the
 * lead's page takes follow-ups (channel, outcome, note, reminder).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sharecard/escape.h"

#include "auth_int.h"
#include "leads_int.h"
#include "llm_int.h"
#include "pages_int.h"
#include "ux_int.h"
#include "routes_int.h"

#define LEADS_DAYS      30
#define LEADS_MAX       500    /* rows by default */
#define LEADS_LIMIT_MAX 10000  /* rows at most (?limit=) */
#define LEADS_SCAN_MAX  200000 /* leads read when sorting or filtering by score */
#define LEADS_PAGE      50     /* rows on a page of /leads by default */
#define TIMELINE_MAX    200
#define NOTE_MAX        1000 /* bytes of a follow-up's note */

static const char *const what[SC_EV_COUNT] = {"Scanned the QR code",
                                              "Opened a shared link",
                                              "Viewed the card",
                                              "Shared the card",
                                              "Tapped a contact button",
                                              "Saved the contact",
                                              "Stayed on the page",
                                              "Signed up",
                                              "Bought"};

static const char *const outcome_names[SC_FU_COUNT] = {"reached", "no_answer", "not_interested",
                                                       "converted"};
static const char *const outcome_text[SC_FU_COUNT] = {"Reached", "No answer", "Not interested",
                                                      "Converted"};

const char *sc_leads_outcome_text(int outcome)
{
    return outcome >= 0 && outcome < SC_FU_COUNT ? outcome_text[outcome] : "Other";
}

/* ---- the list: what was asked for, read, scored, filtered and ordered ---------------- */

struct lead_query {
    int64_t days;     /* active in the last N days */
    int limit;        /* rows at most */
    bool by_score;    /* order=score (else most recent first) */
    int label;        /* enum sc_score_label, or -1: any */
    int64_t quiet;    /* > 0: only leads last seen at least this many days ago */
    int signed_up;    /* 1: signed up only, 0: not signed up only, -1: any */
    const char *lang; /* "en" or "zh-CN": reasons and drafts */
    const char *card; /* only this card's leads (its slug), or NULL */
    const char *find; /* only leads whose name or card holds this text, or NULL */
    long offset;      /* rows skipped (?offset=, or the page's start) */
    long page;        /* /leads: the page asked for, from 1 */
    bool html;        /* /leads (pages, a total) rather than the API */
    bool limit_given; /* ?limit= was in the request */
};

/* A positive whole number up to 'max' in 's' into '*out'; false when malformed. */
static bool whole(const char *s, long max, long *out)
{
    int64_t v = sc_num_arg(s); /* digits only: no sign, space or "0x"; 0 when not */
    if (v < 1 || v > max)
        return false;
    *out = (long)v;
    return true;
}

/* A lead's id at the start of a path's rest ("12" or "12/followup"): digits only, no sign or
 * space; '*tail' gets what follows them.  0 when there is none. */
static int64_t lead_id(const char *rest, const char **tail)
{
    size_t n = strspn(rest, "0123456789");
    char digits[19];
    *tail = rest + n;
    if (n == 0 || n >= sizeof(digits))
        return 0;
    memcpy(digits, rest, n);
    digits[n] = '\0';
    return sc_num_arg(digits);
}

/*
 * Reads ?days, limit, order, label, quiet, signed, card, q, and offset (the
 * API) or page (/leads, 'html': sorted by score and LEADS_PAGE rows a page
 * by default); NULL, or why not (a 400's message).
 */
static const char *lead_query_parse(struct req *r, struct lead_query *q, bool html)
{
    long v;
    const char *a;
    *q = (struct lead_query){.days = LEADS_DAYS,
                             .limit = html ? LEADS_PAGE : LEADS_MAX,
                             .by_score = html,
                             .label = -1,
                             .signed_up = -1,
                             .lang = "en",
                             .page = 1,
                             .html = html};
    q->lang = sc_req_lang(r, SC_LANG_EN) == SC_LANG_ZH ? "zh-CN" : "en";
    if ((a = sc_req_arg(r, "days")) != NULL) {
        if (!whole(a, 366, &v))
            return "days is a number from 1 to 366.";
        q->days = v;
    }
    if ((a = sc_req_arg(r, "limit")) != NULL) {
        if (!whole(a, LEADS_LIMIT_MAX, &v))
            return "limit is a number from 1 to 10000.";
        q->limit = (int)v;
        q->limit_given = true;
    }
    if (!html && (a = sc_req_arg(r, "offset")) != NULL && strcmp(a, "0") != 0) {
        if (!whole(a, LEADS_SCAN_MAX, &v))
            return "offset is a number from 0 to 200000.";
        q->offset = v;
    }
    if (html && (a = sc_req_arg(r, "page")) != NULL && a[0]) {
        if (!whole(a, LEADS_SCAN_MAX, &v) || (v - 1) * (long)q->limit > LEADS_SCAN_MAX)
            return "page is a page number from 1 to the last page.";
        q->page = v;
        q->offset = (v - 1) * (long)q->limit;
    }
    if ((a = sc_req_arg(r, "order")) != NULL && a[0]) {
        if (strcmp(a, "score") != 0 && strcmp(a, "recent") != 0)
            return "order is recent or score.";
        q->by_score = strcmp(a, "score") == 0;
    }
    if ((a = sc_req_arg(r, "label")) != NULL && a[0]) {
        if (strcmp(a, "hot") == 0)
            q->label = SC_LABEL_HOT;
        else if (strcmp(a, "warm") == 0)
            q->label = SC_LABEL_WARM;
        else if (strcmp(a, "cold") == 0)
            q->label = SC_LABEL_COLD;
        else
            return "label is hot, warm or cold.";
    }
    if ((a = sc_req_arg(r, "quiet")) != NULL && a[0]) {
        if (!whole(a, 366, &v))
            return "quiet is a number of days from 1 to 366.";
        q->quiet = v;
    }
    if ((a = sc_req_arg(r, "signed")) != NULL && a[0]) {
        if (strcmp(a, "yes") != 0 && strcmp(a, "no") != 0)
            return "signed is yes or no.";
        q->signed_up = strcmp(a, "yes") == 0;
    }
    if ((a = sc_req_arg(r, "card")) != NULL && a[0]) {
        if (strlen(a) > SC_SLUG_MAX || !sc_utf8_valid(a, strlen(a)))
            return "card is a card's slug.";
        q->card = a;
    }
    if ((a = sc_req_arg(r, "q")) != NULL && a[0]) {
        if (strlen(a) > 100 || !sc_utf8_valid(a, strlen(a)))
            return "q is text of at most 100 bytes.";
        q->find = a;
    }
    return NULL;
}

/* A lead as the list shows it: its every event counted (lead_intel.c's tally). */
struct lead_row {
    int64_t visitor_id;
    const char *card;     /* slug */
    const char *customer; /* their name once they signed up on this card, else NULL */
    int64_t first_ts, last_ts;
    int64_t visits; /* scans, opens and views */
    int64_t days;   /* distinct days they came back on */
    int64_t clicks, saves, shares;
    int64_t dwell_s;
    bool signed_up;
};

struct lead_item {
    struct lead_row l; /* its card and customer are the scored set's */
    const struct lead_intel *li;
};

struct lead_list {
    struct lead_item *v;
    size_t n;
    struct lead_intel_set set;
    const struct lead_query *q;
    int64_t now;
    size_t total; /* leads matching, before the offset and limit (/leads: all of them) */
};

/* Does 'hay' hold 'needle', ASCII letters in either case? */
static bool holds(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; hay && *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               (hay[i] == needle[i] ||
                ((unsigned char)(hay[i] | 0x20) >= 'a' && (unsigned char)(hay[i] | 0x20) <= 'z' &&
                 (hay[i] | 0x20) == (needle[i] | 0x20))))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

/* Is lead 'li' one that 'o''s query keeps? */
static bool keeps(const struct lead_list *o, const struct lead_intel *li)
{
    const struct lead_query *q = o->q;
    if (q->label >= 0 && (int)li->res.label != q->label)
        return false;
    if (q->signed_up >= 0 && (int)li->tally.signed_up != q->signed_up)
        return false;
    if (q->quiet > 0 && li->tally.last_ts > o->now - q->quiet * 86400)
        return false;
    if (q->card && strcmp(li->card, q->card) != 0)
        return false;
    const char *customer = li->customer >= 0 ? o->set.c[li->customer].name : NULL;
    if (q->find && !holds(customer, q->find) && !holds(li->card, q->find))
        return false;
    return true;
}

/* Most recent first; then by lead, so that pages neither repeat nor skip one. */
static int by_recent(const void *a, const void *b)
{
    const struct lead_intel *x = *(const struct lead_intel *const *)a,
                            *y = *(const struct lead_intel *const *)b;
    if (x->tally.last_ts != y->tally.last_ts)
        return (x->tally.last_ts < y->tally.last_ts) - (x->tally.last_ts > y->tally.last_ts);
    if (x->visitor_id != y->visitor_id)
        return (x->visitor_id < y->visitor_id) - (x->visitor_id > y->visitor_id);
    return (x->card_id > y->card_id) - (x->card_id < y->card_id);
}

static int by_score(const void *a, const void *b)
{
    const struct lead_intel *x = *(const struct lead_intel *const *)a,
                            *y = *(const struct lead_intel *const *)b;
    if (x->res.p != y->res.p)
        return x->res.p < y->res.p ? 1 : -1;
    if (x->tally.last_ts != y->tally.last_ts || x->visitor_id != y->visitor_id)
        return by_recent(a, b);
    return strcmp(x->card, y->card); /* one visitor's cards: by slug */
}

static void lead_list_free(struct lead_list *o)
{
    sc_ux_owners_free(); /* the cards' owners by slug (ux.c) */
    free(o->v);
    sc_leads_free(&o->set);
}

/* Lead 'li' of the scored set as the list shows it. */
static struct lead_row lead_row(const struct lead_intel_set *set, const struct lead_intel *li)
{
    const struct lead_tally *t = &li->tally;
    return (struct lead_row){
        .visitor_id = li->visitor_id,
        .card = li->card,
        .customer = li->customer >= 0 ? set->c[li->customer].name : NULL,
        .first_ts = t->first_ts,
        .last_ts = t->last_ts,
        .visits = t->visits,
        .days = t->days,
        .clicks = t->clicks,
        .saves = t->saves,
        .shares = t->shares,
        .dwell_s = t->dwell_s,
        .signed_up = t->signed_up,
    };
}

/*
 * Reads, scores, filters and orders the leads 'q' asks for into 'o' (free
 * with lead_list_free): one read of every lead's events (lead_intel.c),
 * which gives both the scores and the list's columns.  As before, the
 * LEADS_SCAN_MAX most recent leads (the page's worth when neither sorted
 * nor filtered) are the ones filtered and ordered.
 */
static enum sc_err lead_list_load(struct req *r, const struct sc_scope *scope,
                                  const struct lead_query *q, struct lead_list *o)
{
    memset(o, 0, sizeof(*o));
    o->q = q;
    o->now = (int64_t)time(NULL);
    sc_ux_owners_load(r->srv->store); /* cards shown by their owner's name (ux.c) */
    int64_t window = q->days + (q->quiet > 0 ? q->quiet : 0);
    int64_t since = o->now - window * 86400;
    enum sc_err e = sc_leads_score(r->srv->store, scope, since, o->now, true, &o->set);
    if (e != SC_OK || !o->set.n)
        return e;
    /* Ordered as pointers (a lead's row is written only for the page). */
    const struct lead_intel **p = malloc(o->set.n * sizeof(*p));
    if (!p)
        return SC_ENOMEM;
    size_t n = o->set.n;
    for (size_t i = 0; i < n; i++)
        p[i] = &o->set.v[i];
    bool whole_list = q->html || q->by_score || q->label >= 0 || q->quiet > 0 ||
                      q->signed_up >= 0 || q->card || q->find;
    size_t scan = whole_list ? LEADS_SCAN_MAX : (size_t)(q->offset + q->limit);
    if (n > 1 && (n > scan || !q->by_score)) /* (by score alone: its own order is total) */
        qsort(p, n, sizeof(*p), by_recent);
    if (n > scan)
        n = scan;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (keeps(o, p[i]))
            p[kept++] = p[i];
    n = kept;
    if (q->by_score && n > 1)
        qsort(p, n, sizeof(*p), by_score);
    o->total = n;
    /* The page: 'offset' rows dropped from the front, then at most 'limit' kept. */
    size_t skip = (size_t)q->offset < n ? (size_t)q->offset : n;
    size_t rows = n - skip < (size_t)q->limit ? n - skip : (size_t)q->limit;
    o->v = rows ? malloc(rows * sizeof(*o->v)) : NULL;
    if (rows && !o->v) {
        free(p);
        return SC_ENOMEM;
    }
    for (size_t i = 0; i < rows; i++)
        o->v[i] = (struct lead_item){lead_row(&o->set, p[skip + i]), p[skip + i]};
    o->n = rows;
    free(p);
    return SC_OK;
}

/* The lead's reasons in 'lang', joined by "; " into 'out'. */
static void reasons_joined(const struct sc_score_result *res, const char *lang, char *out,
                           size_t cap)
{
    size_t pos = 0;
    out[0] = '\0';
    for (size_t i = 0; i < res->n_reasons; i++) {
        char t[160];
        if (sc_score_reason_text(&res->reasons[i], lang, t, sizeof(t)) != SC_OK)
            continue;
        int k = snprintf(out + pos, cap - pos, "%s%s", pos ? "; " : "", t);
        if (k < 0 || (size_t)k >= cap - pos)
            break;
        pos += (size_t)k;
    }
}

/* The drafted next step for lead 'l' (its name when known) in 'lang'. */
static void next_action(const struct lead_list *o, const struct lead_item *it, const char *lang,
                        char *out, size_t cap)
{
    const struct lead_contact *c = sc_leads_contact(&o->set, it->li);
    const char *name = c && c->name ? c->name : it->l.customer;
    if (sc_score_next_action(name, it->li->channel, &it->li->bt, o->set.tz_min, &it->li->res, lang,
                             out, cap) != SC_OK)
        sc_score_next_action(NULL, it->li->channel, &it->li->bt, o->set.tz_min, NULL, lang, out,
                             cap);
}

/* 't' as "YYYY-MM-DD HH:MM" in the deployment's time zone (offset 'tz_min'). */
static void local_when(struct sc_buf *b, int64_t t, int32_t tz_min)
{
    time_t lt = (time_t)(t + (int64_t)tz_min * 60);
    struct tm tm;
    char s[32] = "";
    if (gmtime_r(&lt, &tm))
        strftime(s, sizeof(s), "%Y-%m-%d %H:%M", &tm);
    sc_ui_text(b, s);
}

static const char *label_class[] = {"cold", "warm", "hot"};

/*
 * /leads?quiet=N: why to get back in touch with a lead gone quiet, in the
 * reader's language: how long it has been and the strongest thing they did
 * (the seeds' re-engagement of sleeping customers).
 */
static void quiet_reason(struct sc_buf *b, const struct lead_list *o, const struct lead_item *it,
                         const char *lang)
{
    bool zh = lang[0] == 'z';
    long long days = (long long)((o->now - it->l.last_ts) / 86400);
    char did[160] = "";
    for (size_t i = 0; i < it->li->res.n_reasons && !did[0]; i++)
        if (it->li->res.reasons[i].code != SC_R_RECENT &&
            sc_score_reason_text(&it->li->res.reasons[i], lang, did, sizeof(did)) != SC_OK)
            did[0] = '\0';
    if (!did[0])
        snprintf(did, sizeof(did), "%s", zh ? "看过你的名片" : "looked at your card");
    sc_ui_html(b, "<p class=\"reengage\">");
    if (zh)
        sc_ui_htmlf(b, "已 %lld 天没有动静；上次：", days);
    else
        sc_ui_htmlf(b,
                    days == 1 ? "Quiet for %lld day; last time they "
                              : "Quiet for %lld days; last time they ",
                    days);
    sc_ui_text(b, did);
    sc_ui_html(b, zh ? "。正是再联系的好时机：问候一下，带上新消息。</p>"
                     : ". A good moment to get back in touch with something new.</p>");
}

static void lead_html(struct sc_buf *b, const struct lead_list *o, const struct lead_item *it)
{
    const struct lead_row *l = &it->l;
    const struct lead_intel *li = it->li;
    const char *lang = sc_tr_lang() == SC_LANG_ZH ? "zh-CN" : "en";
    char reasons[600];
    reasons_joined(&li->res, lang, reasons, sizeof(reasons));
    sc_ui_htmlf(b, "<tr data-lead=\"%lld\" data-label=\"%s\"><td><a href=\"/leads/%lld\">",
                (long long)l->visitor_id, sc_score_label_name(li->res.label),
                (long long)l->visitor_id);
    if (l->customer)
        sc_ui_text(b, l->customer);
    else
        sc_ui_htmlf(b, "Visitor #%lld", (long long)l->visitor_id);
    sc_ui_htmlf(b, "</a></td><td class=\"n\" data-v=\"%d\">%d</td><td>", li->res.score,
                li->res.score);
    sc_ui_htmlf(b, "<span class=\"chip %s\">%s</span></td><td class=\"reasons\">",
                label_class[li->res.label], sc_tr(sc_score_label_name(li->res.label)));
    sc_ui_text(b, reasons);
    if (o->q->quiet > 0)
        quiet_reason(b, o, it, lang);
    sc_ui_htmlf(b, "</td><td data-v=\"%lld\">", (long long)li->bt.at);
    local_when(b, li->bt.at, o->set.tz_min);
    sc_ui_html(b, "</td><td>");
    sc_ui_text(b, sc_words_contact(sc_score_contact_name(li->channel)));
    sc_ui_html(b, "</td><td>");
    sc_ux_card_html(b, l->card);
    sc_ui_htmlf(b, "</td><td data-v=\"%lld\">", (long long)l->last_ts);
    local_when(b, l->last_ts, o->set.tz_min);
    sc_ui_htmlf(b,
                "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld"
                "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld"
                "</td><td>%s</td></tr>",
                (long long)l->visits, (long long)l->days, (long long)l->clicks, (long long)l->saves,
                (long long)l->shares, (long long)l->dwell_s,
                l->signed_up ? sc_tr("signed up") : "");
}

/* The filters of /leads as a GET form, with what 'q' asked for. */
static void filters_html(struct sc_buf *b, const struct lead_query *q)
{
    char quiet[24] = ""; /* empty when not asked for: "0" would not pass the check */
    if (q->quiet > 0)
        snprintf(quiet, sizeof(quiet), "%lld", (long long)q->quiet);
    static const char *const labels[] = {"cold", "warm", "hot"};
    sc_ui_html(b, "<form class=\"filters\" method=\"get\" action=\"/leads\"><label>Search "
                  "<input name=\"q\" maxlength=\"100\" value=\"");
    sc_ui_text(b, q->find ? q->find : "");
    sc_ui_html(b, "\"></label> <label>Card <input name=\"card\" maxlength=\"32\" value=\"");
    sc_ui_text(b, q->card ? q->card : "");
    sc_ui_html(b,
               "\"></label> <label>Label <select name=\"label\"><option value=\"\">All</option>");
    for (int i = 2; i >= 0; i--)
        sc_ui_htmlf(b, "<option value=\"%s\"%s>%s</option>", labels[i],
                    q->label == i ? " selected" : "", sc_tr(labels[i]));
    sc_ui_htmlf(b,
                "</select></label> <label>Quiet for days <input type=\"number\" name=\"quiet\" "
                "min=\"1\" max=\"366\" value=\"%s\"></label> <label>Signed up <select "
                "name=\"signed\"><option value=\"\">All</option><option value=\"yes\"%s>Yes"
                "</option><option value=\"no\"%s>No</option></select></label> <label>Order "
                "<select name=\"order\"><option value=\"score\"%s>Score</option><option "
                "value=\"recent\"%s>Most recent</option></select></label> <button class=\"btn\" "
                "type=\"submit\" style=\"width:auto;display:inline\">Show</button></form>",
                quiet, q->signed_up == 1 ? " selected" : "", q->signed_up == 0 ? " selected" : "",
                q->by_score ? " selected" : "", q->by_score ? "" : " selected");
}

/* 'n' with thousands separated by commas ("1,234") into 'out'. */
static void thousands(size_t n, char out[32])
{
    char d[24];
    int len = snprintf(d, sizeof(d), "%zu", n), o = 0;
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = d[i];
    }
    out[o] = '\0';
}

/* An argument of a page link: "&name=value", the value URL-encoded. */
static void link_arg(struct sc_buf *b, const char *name, const char *value)
{
    sc_buf_printf(b, "&%s=", name);
    sc_esc_url_component(b, value, strlen(value));
}

/* The href of page 'page' of /leads with the filters and order of 'q', HTML-escaped. */
static void page_href(struct sc_buf *b, const struct lead_query *q, long page)
{
    static const char *const labels[] = {"cold", "warm", "hot"};
    struct sc_buf u;
    char n[24];
    sc_buf_init(&u, 4096);
    sc_buf_printf(&u, "/leads?order=%s", q->by_score ? "score" : "recent");
    if (q->find)
        link_arg(&u, "q", q->find);
    if (q->card)
        link_arg(&u, "card", q->card);
    if (q->label >= 0)
        link_arg(&u, "label", labels[q->label]);
    if (q->quiet > 0) {
        snprintf(n, sizeof(n), "%lld", (long long)q->quiet);
        link_arg(&u, "quiet", n);
    }
    if (q->signed_up >= 0)
        link_arg(&u, "signed", q->signed_up ? "yes" : "no");
    if (q->days != LEADS_DAYS) {
        snprintf(n, sizeof(n), "%lld", (long long)q->days);
        link_arg(&u, "days", n);
    }
    if (q->limit_given) {
        snprintf(n, sizeof(n), "%d", q->limit);
        link_arg(&u, "limit", n);
    }
    snprintf(n, sizeof(n), "%ld", page);
    link_arg(&u, "page", n);
    sc_ui_text(b, u.data ? u.data : "/leads");
    sc_buf_cleanup(&u);
}

/* "1–50 of 1,234" and the links to the pages before and after. */
static void pager_html(struct sc_buf *b, const struct lead_query *q, size_t total, size_t shown)
{
    bool zh = sc_tr_lang() == SC_LANG_ZH;
    char from[32], to[32], all[32];
    thousands(shown ? (size_t)q->offset + 1 : 0, from);
    thousands((size_t)q->offset + shown, to);
    thousands(total, all);
    sc_ui_html(b, "<nav class=\"pager\" id=\"pager\"><span id=\"range\">");
    if (!shown)
        sc_ui_htmlf(b, zh ? "共 %s 条，本页无" : "none of %s here", all);
    else if (zh)
        sc_ui_htmlf(b, "第 %s–%s 条，共 %s 条", from, to, all);
    else
        sc_ui_htmlf(b, "%s–%s of %s", from, to, all);
    sc_ui_html(b, "</span>");
    if (q->page > 1) {
        sc_ui_html(b, " <a rel=\"prev\" href=\"");
        page_href(b, q, q->page - 1);
        sc_ui_html(b, zh ? "\">上一页</a>" : "\">Previous</a>");
    }
    if ((size_t)q->offset + shown < total) {
        sc_ui_html(b, " <a rel=\"next\" href=\"");
        page_href(b, q, q->page + 1);
        sc_ui_html(b, zh ? "\">下一页</a>" : "\">Next</a>");
    }
    sc_ui_html(b, "</nav>");
}

/* A lead's follow-ups as rendered, newest first, to weave into its timeline. */
struct fu_item {
    int64_t ts;
    char *html; /* owned */
};
struct fu_log {
    struct fu_item *v;
    size_t n, cap, next; /* 'next': the first not yet in the timeline */
    bool nomem;
    char csrf[32]; /* for the Done button of an open reminder */
};
struct timeline_ctx {
    struct sc_buf *b;
    struct fu_log *fl;
    size_t events;
};

static void followup_html(const struct sc_followup_row *f, const char *csrf, struct sc_buf *b);

static int fu_keep(const struct sc_followup_row *f, void *ctx)
{
    struct fu_log *fl = ctx;
    struct sc_buf h;
    if (fl->n == fl->cap) {
        size_t cap = fl->cap ? fl->cap * 2 : 16;
        struct fu_item *v = realloc(fl->v, cap * sizeof(*v));
        if (!v) {
            fl->nomem = true;
            return 1;
        }
        fl->v = v;
        fl->cap = cap;
    }
    sc_buf_init(&h, 1 << 16);
    followup_html(f, fl->csrf, &h);
    fl->v[fl->n].ts = f->created_at;
    fl->v[fl->n].html = sc_buf_error(&h) == SC_OK && h.data ? strdup(h.data) : NULL;
    sc_buf_cleanup(&h);
    if (!fl->v[fl->n].html) {
        fl->nomem = true;
        return 1;
    }
    fl->n++;
    return 0;
}

static void fu_log_free(struct fu_log *fl)
{
    for (size_t i = 0; i < fl->n; i++)
        free(fl->v[i].html);
    free(fl->v);
}

static int timeline_html(const struct sc_visit_row *v, void *ctx);
static enum MHD_Result lead_page(struct req *r, const struct sc_member *m,
                                 const struct sc_scope *scope, long long id);
static enum MHD_Result followup_post(struct req *r, const struct sc_member *m,
                                     const struct sc_scope *scope, long long id);
static enum MHD_Result followup_done_post(struct req *r, const struct sc_scope *scope, long long id,
                                          long long fid);

enum MHD_Result sc_h_leads(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    const char *rest = a->arg;
    struct sc_scope scope;
    sc_session_scope(m, &scope);
    if (rest && rest[0]) {
        const char *end;
        long long id = lead_id(rest, &end);
        long long fid = id > 0 && strncmp(end, "/followup/", 10) == 0 ? lead_id(end + 10, &end) : 0;
        if (fid > 0 && strcmp(end, "/done") == 0) { /* a reminder marked done */
            if (r->method != M_POST)
                return sc_reply_405(r, "POST");
            return followup_done_post(r, &scope, id, fid);
        }
        if (id <= 0 || fid || (*end && strcmp(end, "/followup") != 0))
            return sc_reply_error(r, 404, "There is no such lead.");
        if (*end) {
            if (r->method != M_POST)
                return sc_reply_405(r, "POST");
            return followup_post(r, m, &scope, id);
        }
        if (!sc_req_is_get(r))
            return sc_reply_405(r, "GET, HEAD");
        return lead_page(r, m, &scope, id);
    }
    if (!sc_req_is_get(r))
        return sc_reply_405(r, "GET, HEAD");
    struct lead_query q;
    const char *why = lead_query_parse(r, &q, true);
    if (why)
        return sc_reply_error(r, 400, why);
    struct lead_list o;
    enum sc_err e = lead_list_load(r, &scope, &q, &o);
    if (e != SC_OK) {
        lead_list_free(&o);
        return sc_reply_err(r, e, NULL);
    }
    struct sc_buf b;
    sc_buf_init(&b, 32 << 20);
    sc_ui_begin(r, &b, "Leads", m, "/leads");
    sc_ui_htmlf(&b,
                q.days == 1 ? "</header><p class=\"hint\">People who opened a card in the last "
                              "%d day; each line opens what they did.</p><p class=\"hint\">"
                            : "</header><p class=\"hint\">People who opened a card in the last "
                              "%d days; each line opens what they did.</p><p class=\"hint\">",
                (int)q.days);
    sc_ui_html(&b, q.by_score ? "<span>Sorted by score: the likeliest to sign up first.</span> "
                              : "<span>Most recent first.</span> ");
    if (q.quiet > 0)
        sc_ui_htmlf(&b,
                    q.quiet == 1 ? "<span>Only leads quiet for %lld day or more.</span> "
                                 : "<span>Only leads quiet for %lld days or more.</span> ",
                    (long long)q.quiet);
    sc_ui_html(&b, "<span>Time zone:</span> ");
    sc_ui_text(&b, sc_tz_name());
    sc_ui_html(&b, "</p>");
    filters_html(&b, &q);
    sc_ui_html(&b,
               "<div class=\"scroll\"><table class=\"t sortable\" id=\"leads\"><thead>"
               "<tr><th>Person</th><th class=\"n\">Score</th><th>Label</th><th>Why</th><th>Best "
               "time</th><th>Channel</th><th>Card</th><th>Last seen</th><th class=\"n\">"
               "Visits</th><th class=\"n\">Days</th><th class=\"n\">Taps</th><th "
               "class=\"n\">Saves</th><th class=\"n\">Shares</th><th class=\"n\">Seconds "
               "on page</th><th></th></tr></thead><tbody>");
    for (size_t i = 0; i < o.n; i++)
        lead_html(&b, &o, &o.v[i]);
    sc_ui_html(&b, "</tbody></table></div>");
    pager_html(&b, &q, o.total, o.n);
    sc_ui_html(&b, "<p><a href=\"/api/v1/leads?format=csv\">Export (CSV)</a></p>");
    lead_list_free(&o);
    sc_ui_end(&b);
    return sc_reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

/* ---- one lead's page: contact, score, draft, follow-ups, timeline ---------------------- */

/* A reminder's Done button ('back': "me" returns to /me, else to the lead's page). */
static void done_button(struct sc_buf *b, const struct sc_followup_row *f, const char *csrf,
                        const char *back)
{
    sc_ui_htmlf(b,
                " <form method=\"post\" class=\"done\" action=\"/leads/%lld/followup/%lld/done\" "
                "style=\"display:inline\"><input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                "<input type=\"hidden\" name=\"back\" value=\"%s\"><button class=\"btn\" "
                "type=\"submit\" style=\"width:auto;display:inline\">",
                (long long)f->visitor_id, (long long)f->id, csrf, back);
    sc_ui_html(b, "Done</button></form>");
}

/* One logged follow-up; 'csrf' for the Done button of its open reminder. */
static void followup_html(const struct sc_followup_row *f, const char *csrf, struct sc_buf *b)
{
    sc_ui_html(b, "<li class=\"followup\"><time>");
    sc_ui_when(b, f->created_at);
    sc_ui_html(b, "</time> ");
    sc_ui_text(b, f->member);
    sc_ui_html(b, " · ");
    sc_ui_text(b, sc_words_contact(sc_score_contact_name((enum sc_contact)(
                      f->channel >= 0 && f->channel < SC_CONTACT_COUNT ? f->channel : 0))));
    sc_ui_html(b, " · ");
    sc_ui_text(b, sc_tr(sc_leads_outcome_text(f->outcome)));
    if (f->note[0]) {
        sc_ui_html(b, " · ");
        sc_ui_text(b, f->note);
    }
    if (f->reminder_at) {
        sc_ui_html(b, " · <span>reminder</span> ");
        sc_ui_when(b, f->reminder_at);
        if (f->done)
            sc_ui_html(b, " · <span class=\"reminder-done\">done</span>");
        else
            done_button(b, f, csrf, "lead");
    }
    sc_ui_html(b, "</li>");
}

static void followup_form(struct req *r, struct sc_buf *b, long long id)
{
    sc_ui_htmlf(b,
                "<h2>Log a follow-up</h2><form method=\"post\" action=\"/leads/%lld/followup\" "
                "id=\"followup\">",
                id);
    sc_ui_csrf_field(r, b);
    sc_ui_html(b, "<label>Channel <select name=\"channel\">");
    for (int c = 0; c < SC_CONTACT_COUNT; c++)
        sc_ui_htmlf(b, "<option value=\"%s\">%s</option>",
                    sc_score_contact_name((enum sc_contact)c),
                    sc_words_contact(sc_score_contact_name((enum sc_contact)c)));
    sc_ui_html(b, "</select></label> <label>Outcome <select name=\"outcome\">");
    for (int k = 0; k < SC_FU_COUNT; k++)
        sc_ui_htmlf(b, "<option value=\"%s\">%s</option>", outcome_names[k],
                    sc_tr(outcome_text[k]));
    sc_ui_htmlf(b,
                "</select></label> <label>Note <input name=\"note\" maxlength=\"%d\"></label> "
                "<label>Remind me on <input type=\"date\" name=\"remind_on\"></label> <label>at "
                "<input type=\"time\" name=\"remind_at\"></label> <button class=\"btn primary\" "
                "type=\"submit\" style=\"width:auto;display:inline\">Log</button></form>",
                NOTE_MAX);
}

static enum MHD_Result lead_page(struct req *r, const struct sc_member *m,
                                 const struct sc_scope *scope, long long id)
{
    struct lead_query q = {
        .days = 366, .limit = 1, .label = -1, .signed_up = -1, .lang = "en", .page = 1};
    q.lang = sc_tr_lang() == SC_LANG_ZH ? "zh-CN" : "en";
    struct sc_buf b;
    sc_buf_init(&b, 16 << 20);
    char title[64];
    snprintf(title, sizeof(title), sc_tr("Lead #%lld"), id);
    sc_ui_begin(r, &b, title, m, "/leads");
    sc_ui_html(&b, "</header>");
    /* Its score, contact and draft: from the scored set of the last year. */
    struct lead_list o;
    memset(&o, 0, sizeof(o));
    o.now = (int64_t)time(NULL);
    enum sc_err e = sc_leads_score(r->srv->store, scope, o.now - 366 * 86400, o.now, true, &o.set);
    const struct lead_intel *li = e == SC_OK ? sc_leads_find(&o.set, id, NULL) : NULL;
    if (li) {
        const struct lead_contact *c = sc_leads_contact(&o.set, li);
        char reasons[600], draft[800];
        reasons_joined(&li->res, q.lang, reasons, sizeof(reasons));
        struct lead_item it = {.li = li};
        it.l.customer = c ? c->name : NULL;
        next_action(&o, &it, q.lang, draft, sizeof(draft));
        /* A model's draft when one is configured (this page only, never a list) and cached;
         * else the template's at once, the model asked in the background and the page's
         * script fetching its draft (data-draft-src). */
        char drafted[SC_LLM_DRAFT_MAX + 1];
        bool pending = false;
        bool by_model = sc_llm_lead_draft(r->srv->store, li, c ? c->name : NULL, q.lang, false,
                                          &pending, drafted, sizeof(drafted));
        if (by_model)
            snprintf(draft, sizeof(draft), "%s", drafted);
        sc_ui_htmlf(&b,
                    "<section class=\"lead-intel\"><p><span class=\"chip %s\">%s</span> "
                    "<b id=\"score\">%d</b>/100 · ",
                    label_class[li->res.label], sc_tr(sc_score_label_name(li->res.label)),
                    li->res.score);
        sc_ui_text(&b, reasons);
        sc_ui_html(&b, "</p>");
        if (c) {
            sc_ui_html(&b, "<p class=\"contact\" id=\"contact\">");
            sc_ui_text(&b, c->name);
            if (c->phone) {
                sc_ui_html(&b, " · <a href=\"tel:");
                sc_ui_text(&b, c->phone);
                sc_ui_html(&b, "\">");
                sc_ui_text(&b, c->phone);
                sc_ui_html(&b, "</a>");
                /* WeChat finds people by their phone number: one tap copies it. */
                sc_ui_html(&b, " <button class=\"btn copy\" type=\"button\" id=\"copy-wechat\" "
                               "style=\"width:auto;display:inline\" data-copy=\"");
                sc_ui_text(&b, c->phone);
                sc_ui_html(&b, q.lang[0] == 'z' ? "\">复制手机号加微信</button>"
                                                : "\">Copy for WeChat</button>");
            }
            if (c->email) {
                sc_ui_html(&b, " · <a href=\"mailto:");
                sc_ui_text(&b, c->email);
                sc_ui_html(&b, "\">");
                sc_ui_text(&b, c->email);
                sc_ui_html(&b, "</a>");
            }
            sc_ui_html(&b, "</p>");
        }
        sc_ui_html(&b, "<p>Best time: "); /* "Best time:", one text node to translate */
        local_when(&b, li->bt.at, o.set.tz_min);
        sc_ui_html(&b, " (");
        sc_ui_text(&b, sc_tz_name());
        sc_ui_html(&b, ") · ");
        sc_ui_text(&b, sc_words_contact(sc_score_contact_name(li->channel)));
        sc_ui_htmlf(&b, "</p><h2>Next step</h2><p><textarea id=\"draft\" data-drafted-by=\"%s\" ",
                    by_model ? "model" : "template");
        if (!by_model && pending)
            sc_ui_htmlf(&b, "data-draft-src=\"/api/v1/leads/%lld/draft\" ", id);
        sc_ui_html(&b, "readonly rows=\"3\" style=\"width:100%\">");
        sc_ui_text(&b, draft);
        sc_ui_html(&b, "</textarea><button class=\"btn copy\" type=\"button\" "
                       "style=\"width:auto;display:inline\" data-copy=\"");
        sc_ui_text(&b, draft);
        sc_buf_puts(&b, "\">");
        sc_ui_text(&b, sc_tr("Copy"));
        sc_ui_html(&b, "</button></p>");
        if (by_model)
            sc_ui_html(&b,
                       q.lang[0] == 'z'
                           ? "<p class=\"hint\" id=\"drafted-by\">由模型起草，发送前请核对。</p>"
                           : "<p class=\"hint\" id=\"drafted-by\">Drafted by the model: "
                             "check it before sending.</p>");
        sc_ui_html(&b, "</section>");
    }
    sc_leads_free(&o.set);
    /* The follow-ups: listed, and woven into the timeline by time (the log is part of it). */
    struct fu_log fl = {0};
    sc_csrf_token(r, fl.csrf);
    if (e == SC_OK) {
        followup_form(r, &b, id);
        e = sc_store_followups(r->srv->store, scope, id, fu_keep, &fl);
        if (e == SC_OK && fl.nomem)
            e = SC_ENOMEM;
    }
    if (e == SC_OK) {
        sc_ui_html(&b, "<h2>Follow-ups</h2><ol class=\"timeline\" id=\"followups\">");
        for (size_t i = 0; i < fl.n; i++)
            sc_buf_puts(&b, fl.v[i].html);
        sc_ui_html(&b, "</ol>");
    }
    sc_ui_html(&b, "<h2>Timeline</h2><ol class=\"timeline\" id=\"timeline\">");
    struct timeline_ctx tc = {&b, &fl, 0};
    if (e == SC_OK)
        e = sc_store_lead_timeline(r->srv->store, scope, id, TIMELINE_MAX, timeline_html, &tc);
    for (; e == SC_OK && tc.events && fl.next < fl.n; fl.next++) /* older than every event */
        sc_buf_puts(&b, fl.v[fl.next].html);
    fu_log_free(&fl);
    if (e == SC_OK && tc.events == 0) {
        sc_buf_cleanup(&b);
        return sc_reply_error(r, 404, "There is no such lead on the cards you may see.");
    }
    if (e != SC_OK) {
        sc_buf_cleanup(&b);
        return sc_reply_err(r, e, NULL);
    }
    sc_ui_htmlf(&b,
                "</ol><p><a href=\"/api/v1/leads/%lld\">As JSON</a> · "
                "<a href=\"/leads\">All leads</a></p>",
                id);
    sc_ui_end(&b);
    return sc_reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}

/* "YYYY-MM-DD" and "HH:MM" (local, 'tz_min') into UTC '*out'; false when malformed. */
static bool parse_local(const char *day, const char *hm, int32_t tz_min, int64_t *out)
{
    int64_t d;
    if (!sc_ui_day_parse(day, &d))
        return false;
    int h = 9, mi = 0;
    if (hm[0]) {
        if (strlen(hm) != 5 || hm[2] != ':' || hm[0] < '0' || hm[0] > '2' || hm[1] < '0' ||
            hm[1] > '9' || hm[3] < '0' || hm[3] > '5' || hm[4] < '0' || hm[4] > '9')
            return false;
        h = (hm[0] - '0') * 10 + (hm[1] - '0');
        mi = (hm[3] - '0') * 10 + (hm[4] - '0');
        if (h > 23)
            return false;
    }
    *out = d * 86400 + h * 3600 + mi * 60 - (int64_t)tz_min * 60;
    return true;
}

/*
 * Reads form field 'name' into 'out' ('n' bytes); an absent field reads as
 * empty (the optional ones mean "none": scripts post without them).  NULL,
 * or 'name' when it is too long or its encoding is broken.
 */
static const char *form_field_opt(struct req *r, const char *name, char *out, size_t n)
{
    enum sc_err e = sc_req_form_field(r, name, out, n);
    if (e == SC_ENOTFOUND) {
        out[0] = '\0';
        return NULL;
    }
    return e == SC_OK ? NULL : name;
}

static enum MHD_Result followup_post(struct req *r, const struct sc_member *m,
                                     const struct sc_scope *scope, long long id)
{
    if (!sc_csrf_ok(r))
        return sc_reply_error(r, 403, SC_FORM_EXPIRED);
    char ch[16], oc[24], note[NOTE_MAX + 8], day[16], hm[8];
    const char *bad = form_field_opt(r, "channel", ch, sizeof(ch));
    if (!bad)
        bad = form_field_opt(r, "outcome", oc, sizeof(oc));
    if (!bad)
        bad = form_field_opt(r, "note", note, sizeof(note));
    if (!bad)
        bad = form_field_opt(r, "remind_on", day, sizeof(day));
    if (!bad)
        bad = form_field_opt(r, "remind_at", hm, sizeof(hm));
    if (bad) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%s is too long or badly encoded (note: at most 1000 bytes).",
                 bad);
        return sc_reply_error(r, 400, msg);
    }
    int channel = -1, outcome = -1;
    for (int c = 0; c < SC_CONTACT_COUNT; c++)
        if (strcmp(ch, sc_score_contact_name((enum sc_contact)c)) == 0)
            channel = c;
    for (int k = 0; k < SC_FU_COUNT; k++)
        if (strcmp(oc, outcome_names[k]) == 0)
            outcome = k;
    if (channel < 0)
        return sc_reply_error(r, 400, "channel is call, wechat, email or sms.");
    if (outcome < 0)
        return sc_reply_error(r, 400,
                              "outcome is reached, no_answer, not_interested or converted.");
    if (strlen(note) > NOTE_MAX || !sc_utf8_valid(note, strlen(note)))
        return sc_reply_error(r, 400, "note is valid UTF-8 text of at most 1000 bytes.");
    int64_t now = (int64_t)time(NULL), remind = 0;
    if ((day[0] || hm[0]) && !parse_local(day, hm, sc_tz_min(now), &remind))
        return sc_reply_error(r, 400, "remind_on is a date YYYY-MM-DD, remind_at a time HH:MM.");
    /* The lead must be on a card this member may see. */
    int64_t card_id = 0;
    enum sc_err e = sc_store_lead_card(r->srv->store, scope, id, &card_id);
    if (e == SC_ENOTFOUND)
        return sc_reply_error(r, 404, "There is no such lead on the cards you may see.");
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    struct sc_followup_row f = {
        .visitor_id = id,
        .card_id = card_id,
        .member_id = m->id,
        .channel = channel,
        .outcome = outcome,
        .note = note,
        .reminder_at = remind,
    };
    e = sc_store_followup_add(r->srv->store, &f, now, NULL);
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    char to[64];
    snprintf(to, sizeof(to), "/leads/%lld", id);
    return sc_reply_redirect(r, 303, to);
}

/* POST /leads/{id}/followup/{fid}/done: the reminder is done; back to /me or the lead. */
static enum MHD_Result followup_done_post(struct req *r, const struct sc_scope *scope, long long id,
                                          long long fid)
{
    if (!sc_csrf_ok(r))
        return sc_reply_error(r, 403, SC_FORM_EXPIRED);
    char back[8];
    if (form_field_opt(r, "back", back, sizeof(back)) ||
        (back[0] && strcmp(back, "me") != 0 && strcmp(back, "lead") != 0))
        return sc_reply_error(r, 400, "back is me or lead.");
    enum sc_err e = sc_store_followup_done(r->srv->store, scope, id, fid);
    if (e == SC_ENOTFOUND)
        return sc_reply_error(r, 404, "There is no such reminder on the cards you may see.");
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    char to[64];
    if (strcmp(back, "me") == 0)
        snprintf(to, sizeof(to), "/me");
    else
        snprintf(to, sizeof(to), "/leads/%lld", id);
    return sc_reply_redirect(r, 303, to);
}

static int timeline_html(const struct sc_visit_row *v, void *ctx)
{
    struct timeline_ctx *tc = ctx;
    struct sc_buf *b = tc->b;
    struct fu_log *fl = tc->fl;
    tc->events++;
    /* Both newest first: the follow-ups logged since this event go before it. */
    for (; fl->next < fl->n && fl->v[fl->next].ts >= v->ts; fl->next++)
        sc_buf_puts(b, fl->v[fl->next].html);
    sc_ui_htmlf(b, "<li data-type=\"%d\"><time>", (int)v->type);
    sc_ui_when(b, v->ts);
    sc_ui_html(b, "</time> ");
    sc_ui_text(b, sc_tr(v->type < SC_EV_COUNT ? what[v->type] : "Activity"));
    if (v->type == SC_EV_DWELL)
        sc_ui_htmlf(b, " for %lld s", (long long)v->value);
    sc_ui_html(b, " · ");
    sc_ui_text(b, v->card_owner && v->card_owner[0] ? v->card_owner : v->card); /* by name */
    if (v->channel >= 0)
        sc_ui_htmlf(b, " · via %s", sc_words_channel(sc_channel_name((enum sc_channel)v->channel)));
    if (v->via.type) {
        sc_ui_html(b, " from ");
        sc_ui_text(b, v->via.name);
    }
    if (v->device && v->device[0]) {
        sc_ui_html(b, " · ");
        sc_ui_text(b, v->os);
        sc_buf_putc(b, ' ');
        sc_ui_text(b, sc_tr(v->device));
    }
    sc_ui_html(b, "</li>");
    return sc_buf_error(b) != SC_OK;
}

/* ---- GET /api/v1/leads[/{id}] ------------------------------------------------------ */

/* One lead as a JSON object or a CSV row: today's fields, then the intelligence. */
static void lead_json(struct list_out *o, const struct lead_list *ll, const struct lead_item *it,
                      const char *lang)
{
    const struct lead_row *l = &it->l;
    const struct lead_intel *li = it->li;
    const struct lead_contact *c = l->signed_up ? sc_leads_contact(&ll->set, li) : NULL;
    char first[32], last[32], best[32], draft[800];
    sc_ui_iso_time(l->first_ts, first);
    sc_ui_iso_time(l->last_ts, last);
    sc_ui_iso_time(li->bt.at, best);
    next_action(ll, it, lang, draft, sizeof(draft));
    if (o->csv) {
        char n[9][24], reasons[600];
        const int64_t v[9] = {l->visitor_id, l->visits,  l->days,      l->clicks,    l->saves,
                              l->shares,     l->dwell_s, l->signed_up, li->res.score};
        for (int i = 0; i < 9; i++)
            snprintf(n[i], sizeof(n[i]), "%lld", (long long)v[i]);
        reasons_joined(&li->res, lang, reasons, sizeof(reasons));
        const char *f[] = {n[0],
                           l->card,
                           l->customer,
                           first,
                           last,
                           n[1],
                           n[2],
                           n[3],
                           n[4],
                           n[5],
                           n[6],
                           n[7],
                           n[8],
                           sc_score_label_name(li->res.label),
                           reasons,
                           best,
                           sc_score_contact_name(li->channel),
                           draft,
                           c ? c->email : NULL,
                           c ? c->phone : NULL,
                           sc_ux_card_owner(l->card)};
        sc_list_csv_row(o, f, sizeof(f) / sizeof(f[0]));
    } else {
        /* (appended piece by piece: 10,000 rows through printf cost a tenth of the request) */
        struct sc_buf *b = &o->b;
        sc_buf_puts(b, o->rows ? ",\n{\"id\":" : "\n{\"id\":");
        sc_ui_int(b, l->visitor_id);
        sc_buf_puts(b, ",\"card\":");
        sc_ui_json_str(&o->b, l->card);
        sc_buf_puts(&o->b, ",\"card_owner\":");
        sc_ui_json_str(&o->b, sc_ux_card_owner(l->card));
        sc_buf_puts(&o->b, ",\"customer\":");
        sc_ui_json_str(&o->b, l->customer);
        static const char *const keys[] = {",\"visits\":", ",\"days\":",   ",\"clicks\":",
                                           ",\"saves\":",  ",\"shares\":", ",\"dwell_s\":"};
        const int64_t vals[] = {l->visits, l->days, l->clicks, l->saves, l->shares, l->dwell_s};
        sc_buf_puts(b, ",\"first_seen\":\"");
        sc_buf_puts(b, first);
        sc_buf_puts(b, "\",\"last_seen\":\"");
        sc_buf_puts(b, last);
        sc_buf_putc(b, '"');
        for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
            sc_buf_puts(b, keys[i]);
            sc_ui_int(b, vals[i]);
        }
        sc_buf_puts(b, l->signed_up ? ",\"signed_up\":true,\"score\":"
                                    : ",\"signed_up\":false,\"score\":");
        sc_ui_int(b, li->res.score);
        sc_buf_puts(b, ",\"label\":\"");
        sc_buf_puts(b, sc_score_label_name(li->res.label));
        sc_buf_puts(b, "\",\"reasons\":[");
        for (size_t i = 0; i < li->res.n_reasons; i++) {
            char t[160];
            if (sc_score_reason_text(&li->res.reasons[i], lang, t, sizeof(t)) != SC_OK)
                continue;
            if (i)
                sc_buf_putc(&o->b, ',');
            sc_ui_json_str(&o->b, t);
        }
        sc_buf_puts(b, "],\"best_time\":\"");
        sc_buf_puts(b, best);
        sc_buf_puts(b, "\",\"best_channel\":\"");
        sc_buf_puts(b, sc_score_contact_name(li->channel));
        sc_buf_puts(b, "\",\"next_action\":");
        sc_ui_json_str(&o->b, draft);
        if (c) {
            sc_buf_puts(&o->b, ",\"email\":");
            sc_ui_json_str(&o->b, c->email);
            sc_buf_puts(&o->b, ",\"phone\":");
            sc_ui_json_str(&o->b, c->phone);
        }
        sc_buf_putc(&o->b, '}');
    }
    o->rows++;
}

static const char *const ev_names[SC_EV_COUNT] = {"scan", "open",  "view",   "share",  "click",
                                                  "save", "dwell", "signup", "convert"};

static int event_json(const struct sc_visit_row *v, void *ctx)
{
    struct list_out *o = ctx;
    char at[32];
    sc_ui_iso_time(v->ts, at);
    sc_buf_printf(&o->b, "%s{\"at\":\"%s\",\"type\":\"%s\",\"card\":", o->rows ? ",\n" : "\n", at,
                  v->type < SC_EV_COUNT ? ev_names[v->type] : "other");
    sc_ui_json_str(&o->b, v->card);
    sc_buf_printf(&o->b, ",\"channel\":%s%s%s,\"via\":", v->channel >= 0 ? "\"" : "",
                  v->channel >= 0 ? sc_channel_name((enum sc_channel)v->channel) : "null",
                  v->channel >= 0 ? "\"" : "");
    sc_ui_json_str(&o->b, v->via.type ? v->via.name : NULL);
    sc_buf_puts(&o->b, ",\"device\":");
    sc_ui_json_str(&o->b, v->device);
    sc_buf_puts(&o->b, ",\"os\":");
    sc_ui_json_str(&o->b, v->os);
    sc_buf_printf(&o->b, ",\"value\":%lld}", (long long)v->value);
    o->rows++;
    return sc_buf_error(&o->b) != SC_OK;
}

/*
 * GET /api/v1/leads/{id}/draft: the lead's next message, drafted by the model
 * when one is configured (SHARECARD_LLM_URL), else by the template; one lead
 * at a time, cached, never for a list.
 */
static enum MHD_Result lead_draft_api(struct req *r, const struct sc_scope *scope, long long id)
{
    struct lead_list o;
    memset(&o, 0, sizeof(o));
    o.now = (int64_t)time(NULL);
    const char *lang = sc_req_lang(r, SC_LANG_EN) == SC_LANG_ZH ? "zh-CN" : "en";
    enum sc_err e = sc_leads_score(r->srv->store, scope, o.now - 366 * 86400, o.now, true, &o.set);
    if (e != SC_OK)
        return sc_reply_err(r, e, NULL);
    const struct lead_intel *li = sc_leads_find(&o.set, id, NULL);
    if (!li) {
        sc_leads_free(&o.set);
        return sc_reply_error(r, 404, "There is no such lead on the cards you may see.");
    }
    const struct lead_contact *c = sc_leads_contact(&o.set, li);
    struct lead_item it = {.li = li};
    it.l.customer = c ? c->name : NULL;
    char draft[800], drafted[SC_LLM_DRAFT_MAX + 1];
    next_action(&o, &it, lang, draft, sizeof(draft));
    bool by_model = sc_llm_lead_draft(r->srv->store, li, c ? c->name : NULL, lang, true, NULL,
                                      drafted, sizeof(drafted)); /* an explicit request: it waits */
    struct sc_buf b;
    sc_buf_init(&b, 1 << 16);
    sc_buf_printf(&b, "{\"id\":%lld,\"card\":", id);
    sc_ui_json_str(&b, li->card);
    sc_buf_puts(&b, ",\"next_action\":");
    sc_ui_json_str(&b, by_model ? drafted : draft);
    sc_buf_printf(&b, ",\"drafted_by\":\"%s\"}\n", by_model ? "model" : "template");
    sc_leads_free(&o.set);
    return sc_reply_bytes(r, 200, "application/json", &b);
}

enum MHD_Result sc_api_leads(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    const char *rest = a->arg;
    struct sc_scope scope;
    sc_session_scope(m, &scope);
    struct list_out o;
    if (rest && rest[0]) {
        const char *end;
        long long id = lead_id(rest, &end);
        if (id > 0 && strcmp(end, "/draft") == 0)
            return lead_draft_api(r, &scope, id);
        if (id <= 0 || *end)
            return sc_reply_error(r, 404, "There is no such lead.");
        o.csv = false; /* a timeline is JSON only */
        o.rows = 0;
        sc_buf_init(&o.b, 16 << 20);
        sc_buf_putc(&o.b, '[');
        enum sc_err e =
            sc_store_lead_timeline(r->srv->store, &scope, id, TIMELINE_MAX, event_json, &o);
        if (e == SC_OK && o.rows == 0) {
            sc_buf_cleanup(&o.b);
            return sc_reply_error(r, 404, "There is no such lead on the cards you may see.");
        }
        return sc_list_finish(r, &o, e);
    }
    struct lead_query q;
    const char *why = lead_query_parse(r, &q, false);
    if (why)
        return sc_reply_error(r, 400, why);
    struct lead_list ll;
    enum sc_err e = lead_list_load(r, &scope, &q, &ll);
    sc_list_begin(r, &o,
                  "id,card,customer,first_seen,last_seen,visits,days,clicks,saves,shares,dwell_s,"
                  "signed_up,score,label,reasons,best_time,best_channel,next_action,email,"
                  "phone,card_owner\r\n");
    for (size_t i = 0; e == SC_OK && i < ll.n && !sc_buf_error(&o.b); i++)
        lead_json(&o, &ll, &ll.v[i], q.lang);
    lead_list_free(&ll);
    return sc_list_finish(r, &o, e);
}

/* ---- reminders on /me, the model on /admin/model ----------------------------------------- */

struct reminders_ctx {
    struct sc_buf *b;
    char csrf[32];
};

static int reminder_html(const struct sc_followup_row *f, void *ctx)
{
    struct reminders_ctx *rc = ctx;
    struct sc_buf *b = rc->b;
    sc_ui_htmlf(b, "<li><a href=\"/leads/%lld\">", (long long)f->visitor_id);
    sc_ui_htmlf(b, sc_tr("Lead #%lld"), (long long)f->visitor_id);
    sc_ui_html(b, "</a> · <time>");
    sc_ui_when(b, f->reminder_at);
    sc_ui_html(b, "</time> · ");
    sc_ui_text(b, sc_words_contact(sc_score_contact_name((enum sc_contact)(
                      f->channel >= 0 && f->channel < SC_CONTACT_COUNT ? f->channel : 0))));
    if (f->note[0]) {
        sc_ui_html(b, " · ");
        sc_ui_text(b, f->note);
    }
    done_button(b, f, rc->csrf, "me");
    sc_ui_html(b, "</li>");
    return sc_buf_error(b) != SC_OK;
}

void sc_leads_reminders_html(struct req *r, const struct sc_member *m, struct sc_buf *b)
{
    struct sc_buf items;
    sc_buf_init(&items, 1 << 20);
    struct reminders_ctx rc = {&items, ""};
    sc_csrf_token(r, rc.csrf);
    enum sc_err e =
        sc_store_reminders_due(r->srv->store, m->id, (int64_t)time(NULL), reminder_html, &rc);
    if (e == SC_OK && items.len && !sc_buf_error(&items)) {
        sc_ui_html(b, "<h2>Follow-ups due</h2><ul class=\"reminders\" id=\"reminders\">");
        sc_buf_append(b, items.data, items.len);
        sc_ui_html(b, "</ul>");
    }
    sc_buf_cleanup(&items);
}

static void auc_cell(struct sc_buf *b, int64_t ppm)
{
    if (ppm < 0)
        sc_ui_html(b, "—");
    else
        sc_ui_htmlf(b, "%.3f", (double)ppm / 1e6);
}

enum MHD_Result sc_h_admin_model(struct req *r, const struct route_args *a)
{
    if (!sc_req_is_get(r))
        return sc_reply_405(r, "GET, HEAD");
    struct sc_model_row row;
    enum sc_err e = sc_store_model_get(r->srv->store, &row);
    if (e != SC_OK && e != SC_ENOTFOUND)
        return sc_reply_err(r, e, NULL);
    struct sc_buf b;
    sc_buf_init(&b, 1 << 20);
    sc_ui_begin(r, &b, "Intent model", a->m, "/admin/model");
    sc_ui_html(&b, "</header>");
    if (e == SC_ENOTFOUND) {
        sc_ui_htmlf(&b,
                    "<p id=\"model\">The shipped prior is in use: a model is trained once %d "
                    "leads signed up and %d did not (<code>sharecard score train</code>; the "
                    "server tries daily).</p>",
                    SC_SCORE_MIN_CLASS, SC_SCORE_MIN_CLASS);
    } else {
        sc_ui_htmlf(&b,
                    "<table class=\"t\" id=\"model\"><tr><th>Version</th><td>%lld</td></tr>"
                    "<tr><th>Trained</th><td>",
                    (long long)row.version);
        sc_ui_when(&b, row.trained_at);
        sc_ui_html(&b, " UTC</td></tr><tr><th>Held-out AUC</th><td>");
        auc_cell(&b, row.auc_ppm);
        sc_ui_html(&b, "</td></tr><tr><th>View-count baseline AUC</th><td>");
        auc_cell(&b, row.baseline_ppm);
        sc_ui_htmlf(&b,
                    "</td></tr><tr><th>Training size</th><td>%lld (%lld signed up)</td></tr>"
                    "</table>",
                    (long long)row.n_examples, (long long)row.n_positive);
        free(row.json);
    }
    sc_ui_end(&b);
    return sc_reply_bytes(r, 200, "text/html; charset=utf-8", &b);
}
