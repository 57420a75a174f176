/*
 * lead_intel.c — lead intelligence wired to the store: the active model
 * (or the shipped prior), every lead of a scope scored with its reasons,
 * best time and channel, the labelled examples that training and
 * evaluation read from the store's outcomes, training itself, the server's
 * daily retraining thread, and the deployment's time zone.  The maths is
 * intel/'s (score.h); this file gathers its inputs.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "sharecard/log.h"

#include "leads_int.h"

/* ---- the deployment's time zone ------------------------------------------------------ */

static struct {
    bool zone;     /* a zone name: offsets from localtime_r() (TZ set once at start) */
    int32_t fixed; /* else this offset */
    char name[64];
} tz = {false, 0, "UTC"};

/* "+08:00", "-0530", "+8", "UTC+8", "UTC": minutes; false when not an offset. */
static bool parse_offset(const char *v, int32_t *out)
{
    if (strncmp(v, "UTC", 3) == 0 || strncmp(v, "GMT", 3) == 0)
        v += 3;
    if (!*v) {
        *out = 0;
        return true;
    }
    if (*v != '+' && *v != '-')
        return false;
    int sign = *v == '-' ? -1 : 1, h = 0, m = 0, digits = 0;
    v++;
    while (*v >= '0' && *v <= '9' && digits < 2) {
        h = h * 10 + (*v++ - '0');
        digits++;
    }
    if (!digits)
        return false;
    if (*v == ':')
        v++;
    if (*v) {
        if (!(v[0] >= '0' && v[0] <= '9' && v[1] >= '0' && v[1] <= '9') || v[2])
            return false;
        m = (v[0] - '0') * 10 + (v[1] - '0');
    }
    if (h > 14 || m > 59)
        return false;
    *out = sign * (h * 60 + m);
    return true;
}

void sc_tz_init(void)
{
    const char *v = getenv("SHARECARD_TZ");
    if (!v || !v[0] || strlen(v) >= sizeof(tz.name))
        return;
    snprintf(tz.name, sizeof(tz.name), "%s", v);
    if (parse_offset(v, &tz.fixed))
        return;
    /* A zone name: nothing else here reads local time, so TZ is ours to set. */
    setenv("TZ", v, 1);
    tzset();
    tz.zone = true;
}

int32_t sc_tz_min(int64_t at)
{
    if (!tz.zone)
        return tz.fixed;
    time_t t = (time_t)at;
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    return (int32_t)(tm.tm_gmtoff / 60);
}

const char *sc_tz_name(void)
{
    return tz.name;
}

/* ---- the active model ------------------------------------------------------------------ */

enum sc_err sc_leads_model(struct sc_store *s, struct sc_score_model *out, bool *trained)
{
    struct sc_model_row row;
    sc_score_prior(out);
    *trained = false;
    enum sc_err e = sc_store_model_get(s, &row);
    if (e == SC_ENOTFOUND)
        return SC_OK;
    if (e != SC_OK)
        return e;
    if (sc_score_model_from_json(row.json, out) == SC_OK)
        *trained = out->version > 0;
    else
        sc_warn("the stored intent model (version %lld) cannot be read; the prior is used",
                (long long)row.version);
    free(row.json);
    return SC_OK;
}

/* ---- scoring a scope's leads ------------------------------------------------------------- */

/* One lead's events as they stream from the store. */
struct gather {
    struct sc_lead_event *ev;
    size_t n, cap;
    size_t max;  /* 0, or keep only the lead's last 'max' events (the watch: WATCH_LEAD_EVENTS) */
    size_t wrap; /* once 'max' are kept, where the next one goes */
    struct brought {
        int64_t ts, visits;
    } * br; /* visits the lead's shares brought, by day */
    size_t nbr, capbr;
    int64_t visitor_id, card_id, member_id;
    char card[SC_SLUG_MAX + 1];
    bool open;
};

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

/* Appends event row 'r' to the lead being gathered; false on ENOMEM. */
static bool gather_add(struct gather *g, const struct sc_lead_event_row *r)
{
    if (r->brought) {
        if (!grow((void **)&g->br, &g->capbr, g->nbr + 1, sizeof(*g->br)))
            return false;
        g->br[g->nbr++] = (struct brought){r->ts, r->value > 0 ? r->value : 0};
        return true;
    }
    struct sc_lead_event *at;
    if (g->max && g->n == g->max) { /* full: the oldest kept goes (the rows come by time) */
        at = &g->ev[g->wrap];
        g->wrap = (g->wrap + 1) % g->max;
    } else {
        if (!grow((void **)&g->ev, &g->cap, g->n + 1, sizeof(*g->ev)))
            return false;
        at = &g->ev[g->n++];
    }
    *at = (struct sc_lead_event){
        .ts = r->ts,
        .type = r->type,
        .action = r->type == SC_EV_CLICK && r->value > 0 && r->value <= SC_ACT_MAP
                      ? (enum sc_click_action)r->value
                      : SC_ACT_NONE,
        .seconds = r->type == SC_EV_DWELL ? (int32_t)r->value : 0,
        .channel = r->channel >= 0 ? (enum sc_channel)r->channel : SC_CH_OTHER,
        .qr = r->qr,
    };
    return true;
}

/* The visits the lead's shares brought before 'cutoff'. */
static uint32_t brought_before(const struct gather *g, int64_t cutoff)
{
    int64_t n = 0;
    for (size_t i = 0; i < g->nbr; i++)
        if (g->br[i].ts < cutoff)
            n += g->br[i].visits;
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* Starts gathering the lead of row 'r'. */
static void gather_start(struct gather *g, const struct sc_lead_event_row *r)
{
    g->n = 0;
    g->wrap = 0;
    g->nbr = 0;
    g->visitor_id = r->visitor_id;
    g->card_id = r->card_id;
    g->member_id = r->member_id;
    snprintf(g->card, sizeof(g->card), "%s", r->card ? r->card : "");
    g->open = true;
}

static void gather_free(struct gather *g)
{
    free(g->ev);
    free(g->br);
}

/*
 * The hot-lead watch reads only the leads that did something since its
 * last look and keeps only those it may act on (issue 15: the whole day's
 * leads, read every ten seconds, grew with the visitors to seconds of CPU
 * and hundreds of megabytes under a burst): those hot now or whose last
 * record says hot ('hot', sorted).  Every visit since the last look
 * ('since') counts in the team's hours, which the kept leads' best times
 * are read against.  Each lead is read from its last WATCH_LEAD_EVENTS
 * events only (one browser reloading a card all day held them all: tens of
 * megabytes); a person's day is far fewer, and a lead with that many is hot
 * either way.  The leads list and the API read every event.
 */
struct lead_key {
    int64_t visitor_id, card_id;
};
#define WATCH_LEAD_EVENTS 2048

struct watch_filter {
    int64_t since;
    struct lead_key *hot;
    size_t n, cap;
    bool nomem;
    /* What the watch reads: the leads with an event id in (after_id, upto_id]. */
    int64_t after_id, upto_id;
    /* The team's visiting hours, kept across looks (each look's new visits added, older
     * ones fading by 'fade'): a look sees only the leads active since the last. */
    double *hours;
    double fade;
};

static int cmp_lead_key(const void *a, const void *b)
{
    const struct lead_key *x = a, *y = b;
    if (x->visitor_id != y->visitor_id)
        return (x->visitor_id > y->visitor_id) - (x->visitor_id < y->visitor_id);
    return (x->card_id > y->card_id) - (x->card_id < y->card_id);
}

static bool watch_keeps(const struct watch_filter *w, const struct lead_intel *l)
{
    if (l->res.label == SC_LABEL_HOT)
        return true;
    struct lead_key k = {l->visitor_id, l->card_id};
    return w->n && bsearch(&k, w->hot, w->n, sizeof(*w->hot), cmp_lead_key);
}

struct score_ctx {
    struct lead_intel_set *set;
    struct gather g;
    enum sc_err e;
    const struct watch_filter *keep; /* NULL: keep every lead */
};

static bool is_visit(enum sc_ev_type t)
{
    return t == SC_EV_SCAN || t == SC_EV_OPEN || t == SC_EV_VIEW;
}

/* What the leads list shows of the lead gathered in 'g': its every event counted. */
static void tally(const struct gather *g, struct lead_tally *t)
{
    memset(t, 0, sizeof(*t));
    int64_t day = 0;
    for (size_t i = 0; i < g->n; i++) { /* in time order (the watch's wrapped ring is not) */
        const struct sc_lead_event *ev = &g->ev[i];
        int64_t d = ev->ts >= 0 ? ev->ts / 86400 : (ev->ts - 86399) / 86400;
        if (i == 0 || ev->ts < t->first_ts)
            t->first_ts = ev->ts;
        if (i == 0 || ev->ts > t->last_ts)
            t->last_ts = ev->ts;
        if (i == 0 || d != day)
            t->days++;
        day = d;
        t->visits += is_visit(ev->type);
        t->clicks += ev->type == SC_EV_CLICK;
        t->saves += ev->type == SC_EV_SAVE;
        t->shares += ev->type == SC_EV_SHARE;
        t->signed_up = t->signed_up || ev->type == SC_EV_SIGNUP;
        if (ev->type == SC_EV_DWELL)
            t->dwell_s += ev->seconds;
    }
}

/* Closes the lead gathered: its features, its visits' times and its tally. */
static void score_close(struct score_ctx *c)
{
    struct gather *g = &c->g;
    struct lead_intel_set *set = c->set;
    if (!g->open)
        return;
    g->open = false;
    if (!grow((void **)&set->v, &set->cap, set->n + 1, sizeof(*set->v)) ||
        !grow((void **)&set->ts, &set->capts, set->nts + g->n, sizeof(*set->ts))) {
        c->e = SC_ENOMEM;
        return;
    }
    struct lead_intel *l = &set->v[set->n];
    memset(l, 0, sizeof(*l));
    l->visitor_id = g->visitor_id;
    l->card_id = g->card_id;
    l->member_id = g->member_id;
    snprintf(l->card, sizeof(l->card), "%s", g->card);
    l->contact = -1;
    l->customer = -1;
    struct sc_lead_events in = {g->ev, g->n, set->now + 1, brought_before(g, set->now + 1),
                                set->tz_min};
    double x[SC_SCORE_NF];
    if ((c->e = sc_lead_features(&in, x, &l->st)) != SC_OK)
        return;
    sc_score_lead(&set->model, x, &l->st, &l->res);
    l->ts_at = set->nts;
    for (size_t i = 0; i < g->n; i++)
        if (is_visit(g->ev[i].type) && g->ev[i].ts <= set->now) {
            set->ts[set->nts++] = g->ev[i].ts;
            int64_t local = g->ev[i].ts + (int64_t)set->tz_min * 60;
            if (!c->keep || g->ev[i].ts >= c->keep->since) /* the watch: new visits only */
                set->team_hours[((local / 3600) % 24 + 24) % 24] += 1;
        }
    l->ts_n = set->nts - l->ts_at;
    tally(g, &l->tally);
    if (c->keep && !watch_keeps(c->keep, l)) {
        set->nts = l->ts_at; /* its hours counted; the lead itself not kept */
        return;
    }
    set->n++;
}

static int score_row(const struct sc_lead_event_row *r, void *ctx)
{
    struct score_ctx *c = ctx;
    struct gather *g = &c->g;
    if (!g->open || g->visitor_id != r->visitor_id || g->card_id != r->card_id) {
        score_close(c);
        if (c->e != SC_OK)
            return 1;
        gather_start(g, r);
    }
    if (!gather_add(g, r)) {
        c->e = SC_ENOMEM;
        return 1;
    }
    return 0;
}

/* What worked for each salesperson, by channel. */
struct member_fu {
    int64_t member_id;
    struct sc_followup_stats fu;
};
struct fu_ctx {
    struct member_fu *v;
    size_t n, cap;
    bool nomem;
};

static struct member_fu *fu_of(struct fu_ctx *f, int64_t member_id)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i].member_id == member_id)
            return &f->v[i];
    return NULL;
}

static int fu_row(int64_t member_id, int channel, int64_t attempts, int64_t successes, void *ctx)
{
    struct fu_ctx *f = ctx;
    if (channel < 0 || channel >= SC_CONTACT_COUNT)
        return 0;
    struct member_fu *m = fu_of(f, member_id);
    if (!m) {
        if (!grow((void **)&f->v, &f->cap, f->n + 1, sizeof(*f->v))) {
            f->nomem = true;
            return 1;
        }
        m = &f->v[f->n++];
        memset(m, 0, sizeof(*m));
        m->member_id = member_id;
    }
    m->fu.attempts[channel] += (uint32_t)attempts;
    m->fu.successes[channel] += (uint32_t)successes;
    return 0;
}

/* What worked with each lead, by channel: sorted by (visitor_id, card_id) as the store gives. */
struct lead_fu {
    int64_t visitor_id, card_id;
    struct sc_followup_stats fu;
};
struct lead_fu_ctx {
    struct lead_fu *v;
    size_t n, cap;
    bool nomem;
};

static int lead_fu_row(const struct sc_followup_count_row *r, void *ctx)
{
    struct lead_fu_ctx *f = ctx;
    if (r->channel < 0 || r->channel >= SC_CONTACT_COUNT)
        return 0;
    if (!f->n || f->v[f->n - 1].visitor_id != r->visitor_id ||
        f->v[f->n - 1].card_id != r->card_id) {
        if (!grow((void **)&f->v, &f->cap, f->n + 1, sizeof(*f->v))) {
            f->nomem = true;
            return 1;
        }
        memset(&f->v[f->n], 0, sizeof(f->v[f->n]));
        f->v[f->n].visitor_id = r->visitor_id;
        f->v[f->n].card_id = r->card_id;
        f->n++;
    }
    struct sc_followup_stats *fu = &f->v[f->n - 1].fu;
    fu->attempts[r->channel] += (uint32_t)r->attempts;
    fu->successes[r->channel] += (uint32_t)r->successes;
    return 0;
}

static int cmp_lead_fu(const void *a, const void *b)
{
    const struct lead_fu *x = a, *y = b;
    if (x->visitor_id != y->visitor_id)
        return (x->visitor_id > y->visitor_id) - (x->visitor_id < y->visitor_id);
    return (x->card_id > y->card_id) - (x->card_id < y->card_id);
}

static char *dup_or_null(const char *s)
{
    return s && s[0] ? strdup(s) : NULL;
}

static int contact_row(const struct sc_lead_contact_row *r, void *ctx)
{
    struct lead_intel_set *set = ctx;
    if (set->nc && set->c[set->nc - 1].visitor_id == r->visitor_id &&
        set->c[set->nc - 1].card_id == r->card_id)
        return 0; /* one per visitor and card: the first */
    if (!grow((void **)&set->c, &set->capc, set->nc + 1, sizeof(*set->c)))
        return 1;
    struct lead_contact *c = &set->c[set->nc++];
    c->visitor_id = r->visitor_id;
    c->card_id = r->card_id;
    c->name = dup_or_null(r->name);
    c->email = dup_or_null(r->email);
    c->phone = dup_or_null(r->phone);
    return 0;
}

static int cmp_contact(const void *a, const void *b)
{
    const struct lead_contact *x = a, *y = b;
    if (x->visitor_id != y->visitor_id)
        return (x->visitor_id > y->visitor_id) - (x->visitor_id < y->visitor_id);
    return (x->card_id > y->card_id) - (x->card_id < y->card_id);
}

/* The first of visitor 'visitor_id''s contacts, or -1; '*card' gets the one on 'card_id'. */
static int contact_of(const struct lead_intel_set *set, int64_t visitor_id, int64_t card_id,
                      int *card)
{
    size_t lo = 0, hi = set->nc;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->c[mid].visitor_id < visitor_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *card = -1;
    for (size_t i = lo; i < set->nc && set->c[i].visitor_id == visitor_id; i++)
        if (set->c[i].card_id == card_id)
            *card = (int)i;
    return lo < set->nc && set->c[lo].visitor_id == visitor_id ? (int)lo : -1;
}

static enum sc_err leads_score(struct sc_store *s, const struct sc_scope *scope, int64_t since,
                               int64_t now, bool contacts, const struct watch_filter *keep,
                               struct lead_intel_set *out)
{
    memset(out, 0, sizeof(*out));
    out->now = now;
    out->tz_min = sc_tz_min(now);
    struct fu_ctx fu = {0};
    struct lead_fu_ctx lfu = {0};
    struct score_ctx c = {.set = out, .keep = keep};
    if (keep)
        c.g.max = WATCH_LEAD_EVENTS;
    enum sc_err e = sc_leads_model(s, &out->model, &out->trained);
    if (e == SC_OK)
        e = sc_store_followup_counts(s, scope, fu_row, &fu);
    if (e == SC_OK && fu.nomem)
        e = SC_ENOMEM;
    if (e == SC_OK)
        e = sc_store_followup_lead_counts(s, scope, lead_fu_row, &lfu);
    if (e == SC_OK && lfu.nomem)
        e = SC_ENOMEM;
    if (e == SC_OK && lfu.n > 1) /* the store's order, but be sure: it is searched */
        qsort(lfu.v, lfu.n, sizeof(*lfu.v), cmp_lead_fu);
    if (e == SC_OK)
        e = keep ? sc_store_lead_events_touched(s, keep->after_id, keep->upto_id, score_row, &c)
                 : sc_store_lead_events(s, scope, since, score_row, &c);
    if (e == SC_OK && c.e == SC_OK)
        score_close(&c);
    if (e == SC_OK && keep && keep->hours)
        for (int h = 0; h < 24; h++)
            out->team_hours[h] = keep->hours[h] = keep->hours[h] * keep->fade + out->team_hours[h];
    if (e == SC_OK)
        e = c.e;
    if (e == SC_OK && contacts) {
        e = sc_store_lead_contacts(s, scope, contact_row, out);
        if (out->nc > 1)
            qsort(out->c, out->nc, sizeof(*out->c), cmp_contact);
    }
    if (e != SC_OK)
        goto out;
    for (size_t i = 0; i < out->n; i++) {
        struct lead_intel *l = &out->v[i];
        sc_score_best_time(l->ts_n ? out->ts + l->ts_at : NULL, l->ts_n, out->team_hours,
                           out->tz_min, now, &l->bt);
        struct member_fu *m = fu_of(&fu, l->member_id);
        struct lead_fu fkey = {.visitor_id = l->visitor_id, .card_id = l->card_id};
        const struct lead_fu *mine =
            lfu.n ? bsearch(&fkey, lfu.v, lfu.n, sizeof(*lfu.v), cmp_lead_fu) : NULL;
        l->channel = sc_score_best_channel_fu(&l->st, m ? &m->fu : NULL, mine ? &mine->fu : NULL);
        if (contacts)
            l->contact = contact_of(out, l->visitor_id, l->card_id, &l->customer);
    }
out:
    gather_free(&c.g);
    free(fu.v);
    free(lfu.v);
    if (e != SC_OK)
        sc_leads_free(out);
    return e;
}

enum sc_err sc_leads_score(struct sc_store *s, const struct sc_scope *scope, int64_t since,
                           int64_t now, bool contacts, struct lead_intel_set *out)
{
    return leads_score(s, scope, since, now, contacts, NULL, out);
}

void sc_leads_free(struct lead_intel_set *set)
{
    for (size_t i = 0; i < set->nc; i++) {
        free(set->c[i].name);
        free(set->c[i].email);
        free(set->c[i].phone);
    }
    free(set->c);
    free(set->v);
    free(set->ts);
    set->c = NULL;
    set->v = NULL;
    set->ts = NULL;
    set->n = set->nc = set->nts = 0;
}

const struct lead_intel *sc_leads_find(const struct lead_intel_set *set, int64_t visitor_id,
                                       const char *card)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) { /* the first entry of this visitor */
        size_t mid = lo + (hi - lo) / 2;
        if (set->v[mid].visitor_id < visitor_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < set->n && set->v[i].visitor_id == visitor_id; i++)
        if (!card || strcmp(set->v[i].card, card) == 0)
            return &set->v[i];
    return NULL;
}

const struct lead_contact *sc_leads_contact(const struct lead_intel_set *set,
                                            const struct lead_intel *l)
{
    return l && l->contact >= 0 && (size_t)l->contact < set->nc ? &set->c[l->contact] : NULL;
}

/* ---- training examples from the store's outcomes ----------------------------------------- */

/*
 * Examples held before a lead's several cut-offs give way to one each: at
 * 168 bytes an example, 2^19 of them are 88 MB, and a store of a million
 * leads then trains on one example per lead in the memory it always took
 * (bench/RESULTS.md).  Several cut-offs matter for the small deployments,
 * where examples are few; a large one has plenty with one.
 */
#define EX_SEVERAL_MAX ((size_t)1 << 19)

/*
 * Cut-offs per past lead.  Four (SC_LEAD_CUTS, stratified, each weighing a
 * quarter) were measured against one on bench/sim_http.py, both questions,
 * both worlds, N = 1,000 and 2,000: no better (held-out AUC −0.008 on the
 * complete histories and −0.007 on the live question on average, all within
 * the noise of 20–121 sign-ups; bench/RESULTS.md), so one stays until a
 * deployment's data says otherwise; the trainer, the split and the counts
 * take several.
 */
#define EX_CUTS 1
_Static_assert(EX_CUTS >= 1 && EX_CUTS <= SC_LEAD_CUTS, "cut-offs per lead: 1 to SC_LEAD_CUTS");

struct ex_ctx {
    struct gather g;
    struct sc_score_example *ex;
    size_t n, cap;
    int k; /* cut-offs per lead: EX_CUTS, then 1 past EX_SEVERAL_MAX */
    int64_t now;
    int32_t tz_min;
    enum sc_err e;
};

/*
 * Keeps one example of each lead gathered so far, picked by 'key' (a
 * cut-off drawn from a stratum drawn uniformly: uniform in the lead's
 * window, as a lead with one cut-off has it).  One lead's examples are
 * adjacent, with the same first touch and per_lead.
 */
static void ex_thin(struct ex_ctx *c)
{
    size_t m = 0;
    for (size_t i = 0; i < c->n;) {
        size_t k = c->ex[i].per_lead > 1 ? c->ex[i].per_lead : 1;
        uint64_t h = (uint64_t)c->ex[i].first_touch * 0x9e3779b97f4a7c15u ^ i;
        h ^= h >> 29;
        c->ex[m] = c->ex[i + (size_t)(h % k)];
        c->ex[m].per_lead = 1;
        m++;
        i += k;
    }
    c->n = m;
    c->k = 1;
}

/*
 * The lead gathered as examples, its features as of each of the cut-offs
 * sc_lead_example_cuts chooses (moments drawn the way live leads are scored,
 * stratified over the lead's window: a positive's at or before its outcome, a
 * negative's within its horizon), so recency and every count mean in training
 * what they mean at "now", at whatever age a live lead is scored.
 */
static void ex_close(struct ex_ctx *c)
{
    struct gather *g = &c->g;
    if (!g->open)
        return;
    g->open = false;
    int64_t first = 0, cutoff[SC_LEAD_CUTS];
    uint64_t key = (uint64_t)g->visitor_id * 0x9e3779b97f4a7c15u ^ (uint64_t)g->card_id;
    if (c->k > 1 && c->n + (size_t)c->k > EX_SEVERAL_MAX)
        ex_thin(c);
    int k = c->k;
    enum sc_lead_label y = sc_lead_example_cuts(
        g->ev, g->n, c->now, (int64_t)SC_LEAD_HORIZON_DAYS * 86400, key, k, &first, cutoff);
    if (y == SC_LEAD_SKIP)
        return;
    if (!grow((void **)&c->ex, &c->cap, c->n + (size_t)k, sizeof(*c->ex))) {
        c->e = SC_ENOMEM;
        return;
    }
    for (int i = 0; i < k; i++) {
        struct sc_score_example *x = &c->ex[c->n + (size_t)i];
        struct sc_lead_stats st;
        struct sc_lead_events in = {g->ev, g->n, cutoff[i], brought_before(g, cutoff[i]),
                                    c->tz_min};
        if ((c->e = sc_lead_features(&in, x->x, &st)) != SC_OK)
            return;
        x->first_touch = first;
        x->views = st.views;
        x->y = y == SC_LEAD_POSITIVE;
        x->per_lead = (uint16_t)k;
    }
    c->n += (size_t)k;
}

static int ex_row(const struct sc_lead_event_row *r, void *ctx)
{
    struct ex_ctx *c = ctx;
    struct gather *g = &c->g;
    if (!g->open || g->visitor_id != r->visitor_id || g->card_id != r->card_id) {
        ex_close(c);
        if (c->e != SC_OK)
            return 1;
        gather_start(g, r);
    }
    if (!gather_add(g, r)) {
        c->e = SC_ENOMEM;
        return 1;
    }
    return 0;
}

enum sc_err sc_leads_examples(struct sc_store *s, int64_t now, struct sc_score_example **ex,
                              size_t *n)
{
    struct ex_ctx c = {.k = EX_CUTS, .now = now, .tz_min = sc_tz_min(now)};
    struct sc_scope all = {0, NULL};
    enum sc_err e = sc_store_lead_events(s, &all, 0, ex_row, &c);
    if (e == SC_OK && c.e == SC_OK)
        ex_close(&c);
    if (e == SC_OK)
        e = c.e;
    gather_free(&c.g);
    if (e != SC_OK) {
        free(c.ex);
        c.ex = NULL;
        c.n = 0;
    }
    *ex = c.ex;
    *n = c.n;
    return e;
}

/* ---- training ------------------------------------------------------------------------------ */

static pthread_mutex_t train_mu = PTHREAD_MUTEX_INITIALIZER;

static int64_t ppm(double auc)
{
    return isfinite(auc) ? llround(auc * 1e6) : -1;
}

enum sc_err sc_leads_train(struct sc_store *s, int64_t now, struct sc_score_report *rep,
                           struct sc_score_model *active)
{
    pthread_mutex_lock(&train_mu);
    struct sc_score_example *ex = NULL;
    size_t n = 0;
    char *json = NULL;
    bool trained = false;
    enum sc_err e = sc_leads_model(s, active, &trained);
    if (e == SC_OK)
        e = sc_leads_examples(s, now, &ex, &n);
    struct sc_score_model out;
    if (e == SC_OK)
        e = sc_score_train(ex, n, active, 0, now, &out, rep);
    if (e == SC_OK && rep->verdict == SC_SCORE_ACTIVATED) {
        e = sc_score_model_to_json(&out, &json);
        struct sc_model_row row = {
            .version = out.version,
            .trained_at = out.trained_at,
            .auc_ppm = ppm(out.auc),
            .baseline_ppm = ppm(out.baseline_auc),
            .n_examples = out.n_examples,
            .n_positive = out.n_positive,
            .json = json,
        };
        if (e == SC_OK)
            e = sc_store_model_put(s, &row);
        if (e == SC_OK)
            *active = out;
    }
    free(json);
    free(ex);
    pthread_mutex_unlock(&train_mu);
    return e;
}

/* ---- the daily retraining thread -------------------------------------------------------- */

#define HOT_WATCH_S 10 /* seconds between looks for leads crossing the hot threshold */

struct score_daemon {
    struct sc_store *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    int watch_s; /* HOT_WATCH_S, or SHARECARD_HOT_WATCH_S */
    /* The watch's own (its thread's): the newest event id it has looked at, and the team's
     * visiting hours it keeps up to date. */
    int64_t last_id;
    double hours[24];
    bool seeded; /* the hours read at the first look */
};

#define WATCH_SEED_EVENTS 200000        /* the events the team's hours start from */
#define WATCH_HOURS_FADE  (7 * 86400.0) /* seconds over which old visits fade by 1/e */

static void train_now(struct sc_store *s)
{
    struct sc_score_report rep;
    struct sc_score_model m;
    enum sc_err e = sc_leads_train(s, (int64_t)time(NULL), &rep, &m);
    if (e != SC_OK)
        sc_warn("training the intent model failed: %s", sc_err_str(e));
    else if (rep.verdict == SC_SCORE_ACTIVATED)
        sc_info("intent model v%lld active: held-out AUC %.3f (view count %.3f) on %u examples",
                (long long)m.version, rep.auc, rep.auc_baseline, rep.n);
}

/*
 * Where `lead.hot` goes out: called once per crossing of the hot threshold
 * (recorded in lead_hot first, so every instance agrees it is the one):
 * logged, and queued as lead.hot for the webhooks that want it.
 */
/*
 * The card owner's alert (issue 18): the lead's id, card, score, its top
 * reasons in both languages (the message is built in the member's) and the
 * best time in SHARECARD_TZ; no contact details (the link opens the lead).
 */
static void notify_hot(struct sc_store *s, const struct lead_intel *l, int64_t now)
{
    json_t *en = json_array(), *zh = json_array(), *data = NULL;
    for (size_t i = 0; en && zh && i < l->res.n_reasons && i < 3; i++) {
        char text[256];
        if (sc_score_reason_text(&l->res.reasons[i], "en", text, sizeof(text)) == SC_OK)
            json_array_append_new(en, json_string(text));
        if (sc_score_reason_text(&l->res.reasons[i], "zh-CN", text, sizeof(text)) == SC_OK)
            json_array_append_new(zh, json_string(text));
    }
    char best[32] = "";
    if (l->bt.at > 0) {
        time_t t = (time_t)(l->bt.at + (int64_t)sc_tz_min(l->bt.at) * 60);
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(best, sizeof(best), "%Y-%m-%d %H:%M", &tm);
    }
    if (en && zh)
        data = json_pack("{s:I, s:s, s:i, s:{s:o, s:o}, s:s}", "id", (json_int_t)l->visitor_id,
                         "card", l->card, "score", l->res.score, "reasons", "en", en, "zh", zh,
                         "best_time_local", best);
    else {
        json_decref(en);
        json_decref(zh);
    }
    char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
    enum sc_err e =
        text ? sc_store_notify_add(s, l->member_id, 0, "notify.hot", now, text) : SC_ENOMEM;
    if (e != SC_OK)
        sc_warn("the hot-lead alert for visitor %lld not queued: %s", (long long)l->visitor_id,
                sc_err_str(e));
    free(text);
    json_decref(data);
}

void sc_leads_on_hot(struct sc_store *s, const struct lead_intel *l, int64_t now)
{
    sc_info("hot lead: visitor %lld on card %s scored %d at %lld", (long long)l->visitor_id,
            l->card, l->res.score, (long long)now);
    /*
     * lead.hot to the webhooks subscribed to it (their outbox rows in one
     * transaction): the lead as /api/v1/leads names it, its score, label and
     * reasons (in English: a webhook has no reader's language), and when and
     * how to reach out.
     */
    json_t *reasons = json_array(), *data = NULL;
    for (size_t i = 0; reasons && i < l->res.n_reasons; i++) {
        char text[256];
        if (sc_score_reason_text(&l->res.reasons[i], "en", text, sizeof(text)) == SC_OK)
            json_array_append_new(reasons, json_string(text));
    }
    char best[32] = "";
    if (l->bt.at > 0) {
        time_t t = (time_t)l->bt.at;
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(best, sizeof(best), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    if (reasons)
        data = json_pack("{s:I, s:s, s:i, s:s, s:o, s:s?, s:s}", "id", (json_int_t)l->visitor_id,
                         "card", l->card, "score", l->res.score, "label",
                         sc_score_label_name(l->res.label), "reasons", reasons, "best_time",
                         best[0] ? best : NULL, "best_channel", sc_score_contact_name(l->channel));
    char *text = data ? json_dumps(data, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    enum sc_err e = text ? sc_store_outbox_add(s, "lead.hot", now, text) : SC_ENOMEM;
    if (e != SC_OK)
        sc_warn("lead.hot for visitor %lld not queued: %s", (long long)l->visitor_id,
                sc_err_str(e));
    free(text);
    json_decref(data); /* json_pack took 'reasons', even had it failed (jansson >= 2.11) */
    notify_hot(s, l, now);
}

/*
 * Rescores the leads that did something since the last look (event ids
 * after d->last_id; 'since' the time of that look) and records each one
 * whose hotness changed; a crossing into hot goes to sc_leads_on_hot().
 * Leads cool without acting only in the record of their next activity.
 * Each look costs what happened since the last, not the day so far.
 */
static int hot_now_row(int64_t visitor_id, int64_t card_id, void *ctx)
{
    struct watch_filter *w = ctx;
    if (!grow((void **)&w->hot, &w->cap, w->n + 1, sizeof(*w->hot))) {
        w->nomem = true;
        return 1;
    }
    w->hot[w->n++] = (struct lead_key){visitor_id, card_id};
    return 0;
}

static void watch_hot(struct score_daemon *d, int64_t since, int64_t now)
{
    struct sc_store *s = d->store;
    struct lead_intel_set set;
    struct sc_scope all = {0, NULL};
    struct watch_filter keep = {.since = since,
                                .after_id = d->last_id,
                                .hours = d->hours,
                                .fade = exp(-(double)(now - since) / WATCH_HOURS_FADE)};
    enum sc_err e = sc_store_events_newest(s, &keep.upto_id);
    if (e != SC_OK || keep.upto_id <= d->last_id)
        return; /* nothing new */
    if (e == SC_OK)
        e = sc_store_leads_hot_now(s, hot_now_row, &keep);
    if (e == SC_OK && keep.nomem)
        e = SC_ENOMEM;
    if (e == SC_OK && keep.n > 1) /* the store's order, but be sure: it is searched */
        qsort(keep.hot, keep.n, sizeof(*keep.hot), cmp_lead_key);
    if (e == SC_OK)
        e = leads_score(s, &all, since, now, false, &keep, &set);
    free(keep.hot);
    if (e != SC_OK)
        return;
    d->last_id = keep.upto_id;
    for (size_t i = 0; i < set.n; i++) { /* each did something since the last look */
        const struct lead_intel *l = &set.v[i];
        bool crossed = false;
        char reason[64] = ""; /* the top reason, language-neutral: the live feed words it */
        if (l->res.n_reasons)
            snprintf(reason, sizeof(reason), "%d:%.17g", (int)l->res.reasons[0].code,
                     l->res.reasons[0].value);
        if (sc_store_lead_hot_mark(s, l->visitor_id, l->card_id, l->res.score,
                                   l->res.label == SC_LABEL_HOT, reason[0] ? reason : NULL, now,
                                   &crossed) == SC_OK &&
            crossed)
            sc_leads_on_hot(s, l, now);
    }
    sc_leads_free(&set);
}

/*
 * The team's hours at the watch's first look: the visits of the last week
 * among the WATCH_SEED_EVENTS events before the watch started (bounded
 * however large the store).
 */
struct seed_ctx {
    double *hours;
    int32_t tz_min;
};

static int seed_hour(int64_t ts, void *ctx)
{
    struct seed_ctx *c = ctx;
    int64_t local = ts + (int64_t)c->tz_min * 60;
    c->hours[((local / 3600) % 24 + 24) % 24] += 1;
    return 0;
}

static void watch_seed(struct score_daemon *d, int64_t now)
{
    int64_t newest = d->last_id;
    struct seed_ctx c = {d->hours, sc_tz_min(now)};
    d->seeded = true;
    if (newest > 0)
        sc_store_visit_times(d->store, newest > WATCH_SEED_EVENTS ? newest - WATCH_SEED_EVENTS : 0,
                             newest, now - 7 * 86400, seed_hour, &c);
}

static void *daemon_main(void *arg)
{
    struct score_daemon *d = arg;
    struct sc_model_row row;
    enum sc_err e = sc_store_model_get(d->store, &row);
    if (e == SC_OK)
        free(row.json);
    int64_t next = (int64_t)time(NULL); /* at start when no model is stored, else in a day */
    if (e == SC_OK)
        next += 86400;
    int64_t watched = (int64_t)time(NULL);
    if (sc_store_events_newest(d->store, &d->last_id) != SC_OK)
        d->last_id = 0; /* (then the first look reads every lead once) */
    pthread_mutex_lock(&d->mu);
    while (!d->stop) {
        int64_t now = (int64_t)time(NULL); /* the wall clock: a moved clock moves training */
        if (now >= next) {
            pthread_mutex_unlock(&d->mu);
            train_now(d->store);
            pthread_mutex_lock(&d->mu);
            next = now + 86400;
            continue;
        }
        if (now >= watched + d->watch_s) {
            pthread_mutex_unlock(&d->mu);
            if (!d->seeded)
                watch_seed(d, now);
            watch_hot(d, watched, now);
            pthread_mutex_lock(&d->mu);
            watched = now;
            continue;
        }
        /* Sleep a few seconds (a duration: the monotonic clock), then look at the wall
         * clock again, which may have jumped. */
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += d->watch_s;
        pthread_cond_timedwait(&d->cv, &d->mu, &until);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

enum sc_err sc_score_daemon_start(struct sc_store *s, struct score_daemon **out)
{
    struct score_daemon *d = calloc(1, sizeof(*d));
    *out = NULL;
    if (!d)
        return SC_ENOMEM;
    d->store = s;
    const char *w = getenv("SHARECARD_HOT_WATCH_S");
    d->watch_s = w && atoi(w) > 0 && atoi(w) <= 3600 ? atoi(w) : HOT_WATCH_S;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&d->thread, NULL, daemon_main, d) != 0) {
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv);
        free(d);
        return SC_EIO;
    }
    *out = d;
    return SC_OK;
}

void sc_score_daemon_stop(struct score_daemon *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stop = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    free(d);
}
