/*
 * live.c — GET /api/v1/live: a Server-Sent Events stream of human visits
 * as they happen ("Someone is viewing Zhang Wei's card — via a WeChat
 * share from customer Li"), for the cards the member may see.
 *
 * The feed reads the store, not this process's memory, so with several
 * instances on one PostgreSQL every instance's visits reach every viewer.
 * A stream's connection is suspended while it has nothing to send; one
 * thread looks for new events once a second, writes them into the waiting
 * streams and resumes those (the content reader suspends and returns 0,
 * as libmicrohttpd prescribes).  A stream ends after a minute and the
 * browser reconnects by itself (EventSource), so nothing lives forever and
 * a gone client is noticed at the next heartbeat.  Beside the visits, the
 * stream carries leads crossing the hot threshold and follow-up reminders
 * falling due (live_leads.c), each once.  With several instances,
 * batches commit out of id order; reading a little behind the newest id
 * seen, and remembering what was sent, shows each late one once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"
#include "leads_int.h"
#include "live_int.h"
#include "pages_int.h"
#include "routes_int.h"
#include "ux_int.h"

#define LIVE_MAX_STREAMS 64
#define LIVE_TICK_MS     1000
#define LIVE_HEARTBEAT_S 15
#define LIVE_LIFETIME_S  60
#define LIVE_BATCH       50
/*
 * Several instances commit event batches out of id order, so an id below
 * the newest one seen can still appear: each tick reads again from
 * LIVE_LOOKBACK ids behind, skipping the ids already sent.
 */
#define LIVE_LOOKBACK 256
#define LIVE_RECENT   512

struct live_sub {
    struct live *lv;
    struct MHD_Connection *conn;
    struct sc_scope scope;
    char team[SC_TEAM_MAX + 1];
    int64_t last;                  /* newest event id already sent */
    enum sc_lang lang;             /* of the page that opened it */
    int64_t sent_ids[LIVE_RECENT]; /* the ids sent lately, a ring: each one goes once */
    unsigned nsent;
    int64_t floor;           /* where the stream began: nothing at or below it is shown */
    struct live_leads leads; /* hot leads and due reminders (live_leads.c) */
    struct sc_buf out;       /* bytes waiting to be sent, from 'sent' on */
    size_t sent;
    bool suspended, done;
    time_t started, wrote;
    struct live_sub *next, **pprev;
};

struct live {
    struct sc_store *store;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool running, stopping;
    struct live_sub *subs;
    int nsubs;
};

static const char *const ev_names[SC_EV_COUNT] = {"scan", "open",  "view",   "share",  "click",
                                                  "save", "dwell", "signup", "convert"};

/* "Someone is viewing Zhang Wei's card — via a wechat share from customer Li (iPhone)" */
static void describe(struct sc_buf *b, const struct sc_visit_row *v)
{
    const char *owner = v->card_owner ? v->card_owner : v->card;
    if (v->type == SC_EV_SHARE) { /* the event's link is the one just minted */
        sc_buf_printf(b, sc_tr("%s shared %s's card"), v->via.type ? v->via.name : sc_tr("Someone"),
                      owner);
        if (v->channel >= 0)
            sc_buf_printf(b, sc_tr(" on %s"),
                          sc_words_channel(sc_channel_name((enum sc_channel)v->channel)));
        return;
    }
    switch (v->type) {
    case SC_EV_SCAN: sc_buf_printf(b, sc_tr("Someone scanned %s's QR code"), owner); break;
    case SC_EV_OPEN: sc_buf_printf(b, sc_tr("Someone opened a link to %s's card"), owner); break;
    case SC_EV_VIEW: sc_buf_printf(b, sc_tr("Someone is viewing %s's card"), owner); break;
    case SC_EV_SAVE: sc_buf_printf(b, sc_tr("Someone saved %s's contact"), owner); break;
    case SC_EV_SIGNUP: sc_buf_printf(b, sc_tr("New sign-up on %s's card"), owner); break;
    default: sc_buf_printf(b, sc_tr("Activity on %s's card"), owner); break;
    }
    if (v->channel >= 0 && v->via.type == SC_PARTY_CUSTOMER)
        sc_buf_printf(b, sc_tr(" — via a %s share from customer %s"),
                      sc_words_channel(sc_channel_name((enum sc_channel)v->channel)), v->via.name);
    else if (v->channel >= 0 && v->via.type == SC_PARTY_MEMBER && strcmp(v->via.name, owner) != 0)
        sc_buf_printf(b, sc_tr(" — via a %s share from %s"),
                      sc_words_channel(sc_channel_name((enum sc_channel)v->channel)), v->via.name);
    else if (v->channel == SC_CH_QR && v->type != SC_EV_SCAN)
        sc_buf_puts(b, sc_tr(" — from the QR code"));
    else if (v->channel > SC_CH_QR && v->via.type == SC_PARTY_NONE)
        sc_buf_printf(b, sc_tr(" — via a %s share from a visitor"),
                      sc_words_channel(sc_channel_name((enum sc_channel)v->channel)));
    else if (v->channel > SC_CH_QR)
        sc_buf_printf(b, sc_tr(" — via %s"),
                      sc_words_channel(sc_channel_name((enum sc_channel)v->channel)));
    bool os = v->os && v->os[0] && strcmp(v->os, "Other") != 0;
    bool dev = v->device && v->device[0] && strcmp(v->device, "Other") != 0;
    if (os || dev)
        sc_buf_printf(b, " (%s%s%s)", os ? v->os : "", os && dev ? " " : "", dev ? v->device : "");
}

static bool sent_before(const struct live_sub *sub, int64_t id)
{
    unsigned n = sub->nsent < LIVE_RECENT ? sub->nsent : LIVE_RECENT;
    for (unsigned i = 0; i < n; i++)
        if (sub->sent_ids[i] == id)
            return true;
    return false;
}

/* The page prints this as it is rather than in the browser's own zone. */
void sc_live_local_time(int64_t ts, char out[16])
{
    time_t lt = (time_t)(ts + (int64_t)sc_tz_min(ts) * 60);
    struct tm tm;
    gmtime_r(&lt, &tm);
    strftime(out, 16, "%H:%M:%S", &tm);
}
static int add_visit(const struct sc_visit_row *v, void *ctx)
{
    struct live_sub *sub = ctx;
    if (v->id <= sub->floor || sent_before(sub, v->id))
        return 0;
    sub->sent_ids[sub->nsent++ % LIVE_RECENT] = v->id;
    if (v->id > sub->last)
        sub->last = v->id;
    struct sc_buf text;
    sc_buf_init(&text, 4096);
    describe(&text, v);
    char at[32], local[16], cur[48];
    sc_ui_iso_time(v->ts, at);
    sc_live_local_time(v->ts, local);
    sc_live_leads_cursor(&sub->leads, cur);
    sc_buf_printf(&sub->out,
                  "id: %lld.%s\ndata: {\"id\":%lld,\"at\":\"%s\",\"local\":\"%s\",\"type\":\"%s\","
                  "\"card\":",
                  (long long)v->id, cur, (long long)v->id, at, local,
                  v->type < SC_EV_COUNT ? ev_names[v->type] : "other");
    sc_ui_json_str(&sub->out, v->card);
    sc_buf_puts(&sub->out, ",\"owner\":");
    sc_ui_json_str(&sub->out, v->card_owner);
    sc_buf_printf(&sub->out, ",\"channel\":%s%s%s,\"via\":", v->channel >= 0 ? "\"" : "",
                  v->channel >= 0 ? sc_channel_name((enum sc_channel)v->channel) : "null",
                  v->channel >= 0 ? "\"" : "");
    sc_ui_json_str(&sub->out, v->via.type ? v->via.name : NULL);
    sc_buf_puts(&sub->out, ",\"device\":");
    sc_ui_json_str(&sub->out, v->device);
    sc_buf_puts(&sub->out, ",\"text\":");
    sc_ui_json_str(&sub->out, text.data ? text.data : "");
    sc_buf_puts(&sub->out, "}\n\n");
    sc_buf_cleanup(&text);
    return sc_buf_error(&sub->out) != SC_OK;
}

/* One tick for one waiting stream; the lock is held. */
static void feed(struct live *lv, struct live_sub *sub, time_t now)
{
    if (!sub->done) {
        int64_t from = sub->last > LIVE_LOOKBACK ? sub->last - LIVE_LOOKBACK : 0, last;
        sc_store_visits_after(lv->store, &sub->scope, from, LIVE_BATCH + LIVE_LOOKBACK, add_visit,
                              sub, &last);
        sc_live_leads_feed(lv->store, &sub->leads, &sub->scope, sub->lang, (int64_t)now, sub->last,
                           &sub->out);
        if (now - sub->started >= LIVE_LIFETIME_S || sc_buf_error(&sub->out))
            sub->done = true;
        else if (sub->out.len == sub->sent && now - sub->wrote >= LIVE_HEARTBEAT_S)
            sc_buf_puts(&sub->out, ": still here\n\n");
    }
    if (sub->out.len > sub->sent || sub->done) {
        sub->wrote = now;
        sub->suspended = false;
        MHD_resume_connection(sub->conn);
    }
}

static void *live_main(void *arg)
{
    struct live *lv = arg;
    pthread_mutex_lock(&lv->lock);
    while (!lv->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += LIVE_TICK_MS / 1000;
        pthread_cond_timedwait(&lv->wake, &lv->lock, &until);
        time_t now = time(NULL);
        for (struct live_sub *s = lv->subs; s && !lv->stopping; s = s->next)
            if (s->suspended) {
                sc_tr_set(s->lang); /* the sentences in the viewer's language */
                feed(lv, s, now);
            }
    }
    pthread_mutex_unlock(&lv->lock);
    return NULL;
}

struct live *sc_live_new(struct sc_store *store)
{
    struct live *lv = calloc(1, sizeof(*lv));
    if (!lv)
        return NULL;
    lv->store = store;
    pthread_mutex_init(&lv->lock, NULL);
    pthread_cond_init(&lv->wake, NULL);
    if (pthread_create(&lv->thread, NULL, live_main, lv) != 0) {
        pthread_mutex_destroy(&lv->lock);
        pthread_cond_destroy(&lv->wake);
        free(lv);
        return NULL;
    }
    lv->running = true;
    return lv;
}

void sc_live_stop(struct live *lv)
{
    if (!lv)
        return;
    pthread_mutex_lock(&lv->lock);
    lv->stopping = true;
    for (struct live_sub *s = lv->subs; s; s = s->next) {
        s->done = true;
        if (s->suspended) {
            s->suspended = false;
            MHD_resume_connection(s->conn);
        }
    }
    pthread_cond_signal(&lv->wake);
    pthread_mutex_unlock(&lv->lock);
    if (lv->running) {
        pthread_join(lv->thread, NULL);
        lv->running = false;
    }
}

/* After the daemon stopped: every stream's response is gone by then. */
void sc_live_free(struct live *lv)
{
    if (!lv)
        return;
    sc_live_stop(lv);
    pthread_mutex_destroy(&lv->lock);
    pthread_cond_destroy(&lv->wake);
    free(lv);
}

static ssize_t live_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct live_sub *sub = cls;
    struct live *lv = sub->lv;
    pthread_mutex_lock(&lv->lock);
    size_t have = sub->out.len - sub->sent;
    if (have) {
        size_t n = have < max ? have : max;
        memcpy(buf, sub->out.data + sub->sent, n);
        sub->sent += n;
        if (sub->sent == sub->out.len) {
            sc_buf_reset(&sub->out);
            sub->sent = 0;
        }
        pthread_mutex_unlock(&lv->lock);
        return (ssize_t)n;
    }
    if (sub->done) {
        pthread_mutex_unlock(&lv->lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    sub->suspended = true;
    MHD_suspend_connection(sub->conn);
    pthread_mutex_unlock(&lv->lock);
    return 0;
}

static void live_gone(void *cls)
{
    struct live_sub *sub = cls;
    struct live *lv = sub->lv;
    pthread_mutex_lock(&lv->lock);
    *sub->pprev = sub->next;
    if (sub->next)
        sub->next->pprev = sub->pprev;
    lv->nsubs--;
    pthread_mutex_unlock(&lv->lock);
    sc_buf_cleanup(&sub->out);
    free(sub);
}

enum MHD_Result sc_api_live(struct req *r, const struct route_args *a)
{
    const struct sc_member *m = a->m;
    enum MHD_Result ret;
    struct live *lv = r->srv->live;
    if (!lv)
        return sc_reply_error(r, 503, "The live feed is not running.");
    struct live_sub *sub = calloc(1, sizeof(*sub));
    if (!sub)
        return sc_reply_err(r, SC_ENOMEM, NULL);
    sub->lv = lv;
    sub->conn = r->conn;
    sc_session_scope(m, &sub->scope);
    if (sub->scope.team) {
        snprintf(sub->team, sizeof(sub->team), "%s", sub->scope.team);
        sub->scope.team = sub->team;
    }
    sub->started = sub->wrote = time(NULL);
    sub->lang = sc_req_lang(r, SC_LANG_EN);
    sc_buf_init(&sub->out, 1 << 20);
    /* Start at the newest event: the feed shows what happens from now on.  A reconnecting
     * browser says where it was: "V" (visits only) or "V.H.R" (and the lead lines'). */
    const char *from = sc_req_header(r, "Last-Event-ID");
    char *end = NULL;
    long long resume = from ? strtoll(from, &end, 10) : -1;
    if (!from || (*end && *end != '.') || resume < 0)
        resume = -1;
    enum sc_err le =
        sc_live_leads_start(r->srv->store, &sub->leads, resume >= 0 && *end == '.' ? end + 1 : NULL,
                            (int64_t)sub->started);
    enum sc_err e = resume >= 0 ? SC_OK
                                : sc_store_visits_after(r->srv->store, &sub->scope, -1, 0, NULL,
                                                        NULL, &sub->last);
    if (resume >= 0)
        sub->last = resume;
    sub->floor = sub->last;
    sc_buf_puts(&sub->out, "retry: 3000\n: live visits\n\n");
    if (e == SC_OK)
        e = le;
    if (e != SC_OK) {
        sc_buf_cleanup(&sub->out);
        free(sub);
        return sc_reply_err(r, e, NULL);
    }
    pthread_mutex_lock(&lv->lock);
    bool full = lv->nsubs >= LIVE_MAX_STREAMS || lv->stopping;
    if (!full) {
        sub->next = lv->subs;
        if (lv->subs)
            lv->subs->pprev = &sub->next;
        sub->pprev = &lv->subs;
        lv->subs = sub;
        lv->nsubs++;
    }
    pthread_mutex_unlock(&lv->lock);
    if (full) {
        sc_buf_cleanup(&sub->out);
        free(sub);
        return sc_reply_error(r, 503, "Too many live feeds are open; try again in a minute.");
    }
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, live_read, sub, live_gone);
    if (!resp) {
        live_gone(sub);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    sc_reply_security_headers(r->srv, resp);
    ret = sc_reply_response(r, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}
