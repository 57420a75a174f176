/*
 * live_leads.c — the live feed's lead lines (issue 13): "Hot lead: Cleo on
 * Zhang Wei's card (zhang), score 85 — saved your contact" when a lead
 * crosses the hot threshold, and "Follow up: Cleo … by WeChat — note" when
 * a follow-up reminder falls due, for the cards the viewer may see.
 *
 * Both come from the store (the lead_hot records the score watcher keeps
 * and the followups table), so every instance's crossings reach every
 * viewer.  Each stream shows each line once: crossings by id, reminders by
 * due time (the later of the reminder's time and when it was logged, so a
 * reminder set in the past shows as it is logged), each read a little
 * behind its cursor to catch late commits, with the ids sent remembered.
 * A new stream (not a reconnection) first shows the reminders that fell
 * due before it and were not followed up since, so a salesperson opening
 * the feed after lunch sees them.
 * The strings are here rather than in the shared page table: the reason's
 * words come from intel/ in the same language.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_int.h"
#include "pages_int.h"
#include "sharecard/score.h"

#define HOT_LOOKBACK 64 /* ids behind the newest crossing sent, read again */
#define REM_LOOKBACK 30 /* seconds behind the last look at reminders, read again */
#define HOT_BATCH    50
/* A new stream first shows the reminders due before it: at most these, of the last week. */
#define LIVE_BACKLOG   20
#define LIVE_BACKLOG_S (7 * 86400)

struct feed_ctx {
    struct live_leads *ll;
    bool zh;
    int64_t visit_id;
    struct sc_buf *out;
    bool backlog; /* reading the reminders due before the stream began */
};

static bool in_ring(const int64_t *ring, unsigned n, int64_t id)
{
    unsigned k = n < LIVE_LEADS_RECENT ? n : LIVE_LEADS_RECENT;
    for (unsigned i = 0; i < k; i++)
        if (ring[i] == id)
            return true;
    return false;
}

void sc_live_leads_cursor(const struct live_leads *ll, char out[48])
{
    snprintf(out, 48, "%lld.%lld", (long long)ll->hot_last, (long long)ll->rem_after);
}

enum sc_err sc_live_leads_start(struct sc_store *s, struct live_leads *ll, const char *resume,
                                int64_t now)
{
    memset(ll, 0, sizeof(*ll));
    if (resume) {
        long long h, r;
        char tail;
        if (sscanf(resume, "%lld.%lld%c", &h, &r, &tail) == 2 && h >= 0 && r >= 0) {
            ll->hot_last = ll->hot_floor = h;
            ll->rem_after = ll->rem_floor = r;
            return SC_OK;
        }
    }
    ll->rem_after = ll->rem_floor = now;
    ll->backlog = true;
    enum sc_err e = sc_store_live_hot_newest(s, &ll->hot_last);
    ll->hot_floor = ll->hot_last;
    return e;
}

/* Who the lead is: its name once signed up, else its number. */
static void who(struct sc_buf *b, bool zh, const char *customer, int64_t visitor_id)
{
    if (customer && customer[0])
        sc_buf_puts(b, customer);
    else
        sc_buf_printf(b, zh ? "访客 #%lld" : "visitor #%lld", (long long)visitor_id);
}

static void message(struct feed_ctx *c, const char *type, int64_t at, const char *card,
                    const char *owner, int64_t visitor_id, int score, const char *text)
{
    char ts[32], local[16], cur[48];
    sc_ui_iso_time(at, ts);
    sc_live_local_time(at, local);
    sc_live_leads_cursor(c->ll, cur);
    struct sc_buf *o = c->out;
    sc_buf_printf(o, "id: %lld.%s\ndata: {\"type\":\"%s\",\"at\":\"%s\",\"local\":\"%s\",\"card\":",
                  (long long)c->visit_id, cur, type, ts, local);
    sc_ui_json_str(o, card);
    sc_buf_puts(o, ",\"owner\":");
    sc_ui_json_str(o, owner);
    sc_buf_printf(o, ",\"lead\":%lld,\"url\":\"/leads/%lld\"", (long long)visitor_id,
                  (long long)visitor_id);
    if (score >= 0)
        sc_buf_printf(o, ",\"score\":%d", score);
    sc_buf_puts(o, ",\"text\":");
    sc_ui_json_str(o, text);
    sc_buf_puts(o, "}\n\n");
}

static int hot_row(const struct sc_live_hot_row *h, void *ctx)
{
    struct feed_ctx *c = ctx;
    struct live_leads *ll = c->ll;
    if (h->id <= ll->hot_floor || in_ring(ll->hot_sent, ll->nhot, h->id))
        return 0;
    ll->hot_sent[ll->nhot++ % LIVE_LEADS_RECENT] = h->id;
    if (h->id > ll->hot_last)
        ll->hot_last = h->id;
    struct sc_buf t;
    sc_buf_init(&t, 2048);
    sc_buf_puts(&t, c->zh ? "热门线索：" : "Hot lead: ");
    who(&t, c->zh, h->customer, h->visitor_id);
    if (c->zh)
        sc_buf_printf(&t, "（%s的名片 %s），评分 %d", h->owner, h->card, h->score);
    else
        sc_buf_printf(&t, " on %s's card (%s), score %d", h->owner, h->card, h->score);
    int code;
    double value;
    char tail, words[256];
    if (h->reason && sscanf(h->reason, "%d:%lf%c", &code, &value, &tail) == 2 && code >= 0 &&
        code <= SC_R_CH_COPY) {
        struct sc_score_reason r = {.code = (enum sc_reason_code)code, .value = value};
        if (sc_score_reason_text(&r, c->zh ? "zh-CN" : "en", words, sizeof(words)) == SC_OK)
            sc_buf_printf(&t, " — %s", words);
    }
    message(c, "hot", h->ts, h->card, h->owner, h->visitor_id, h->score, t.data ? t.data : "");
    sc_buf_cleanup(&t);
    return sc_buf_error(c->out) != SC_OK;
}

static const char *const en_by[SC_CONTACT_COUNT] = {"by phone", "on WeChat", "by e-mail",
                                                    "by text message"};
static const char *const zh_by[SC_CONTACT_COUNT] = {"打电话", "发微信", "发邮件", "发短信"};

static int reminder_row(const struct sc_live_reminder_row *f, void *ctx)
{
    struct feed_ctx *c = ctx;
    struct live_leads *ll = c->ll;
    if ((!c->backlog && f->due <= ll->rem_floor) || in_ring(ll->rem_sent, ll->nrem, f->id))
        return 0;
    ll->rem_sent[ll->nrem++ % LIVE_LEADS_RECENT] = f->id;
    struct sc_buf t;
    sc_buf_init(&t, 4096);
    sc_buf_puts(&t, c->zh ? "该跟进了：" : "Follow up: ");
    who(&t, c->zh, f->customer, f->visitor_id);
    bool ch = f->channel >= 0 && f->channel < SC_CONTACT_COUNT;
    if (c->zh)
        sc_buf_printf(&t, "（%s的名片 %s）%s%s", f->owner, f->card, ch ? "，" : "",
                      ch ? zh_by[f->channel] : "");
    else
        sc_buf_printf(&t, " on %s's card (%s)%s%s", f->owner, f->card, ch ? " " : "",
                      ch ? en_by[f->channel] : "");
    if (f->note[0])
        sc_buf_printf(&t, " — %s", f->note);
    message(c, "reminder", f->due, f->card, f->owner, f->visitor_id, -1, t.data ? t.data : "");
    sc_buf_cleanup(&t);
    return sc_buf_error(c->out) != SC_OK;
}

void sc_live_leads_feed(struct sc_store *s, struct live_leads *ll, const struct sc_scope *scope,
                        enum sc_lang lang, int64_t now, int64_t visit_id, struct sc_buf *out)
{
    struct feed_ctx c = {ll, lang == SC_LANG_ZH, visit_id, out, false};
    if (ll->backlog) { /* what fell due before the stream began: a salesperson back from lunch */
        c.backlog = true;
        sc_store_live_reminders_open(s, scope, ll->rem_floor - LIVE_BACKLOG_S, ll->rem_floor,
                                     LIVE_BACKLOG, reminder_row, &c);
        ll->backlog = c.backlog = false;
    }
    int64_t from = ll->hot_last > HOT_LOOKBACK ? ll->hot_last - HOT_LOOKBACK : 0;
    if (from < ll->hot_floor)
        from = ll->hot_floor;
    sc_store_live_hot(s, scope, from, HOT_BATCH + HOT_LOOKBACK, hot_row, &c);
    int64_t after = ll->rem_after - REM_LOOKBACK;
    if (after < ll->rem_floor)
        after = ll->rem_floor;
    if (now > ll->rem_after)
        ll->rem_after = now; /* before the lines: their ids carry it */
    sc_store_live_reminders(s, scope, after, now, reminder_row, &c);
}
