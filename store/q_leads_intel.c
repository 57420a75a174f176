/*
 * q_leads_intel.c — what lead intelligence (intel/score*.c) reads and
 * writes, once for both backends: each lead's human events with the visits
 * their shares brought, signed-up leads' contact details, the active intent
 * model, salespeople's follow-ups and reminders, and the record of leads
 * crossing the hot threshold.  The decisions (features, scores, channels)
 * are intel/'s; this file only gathers rows and keeps what was decided.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* The cards in scope: ?1 a member or 0, ?2 a team or NULL. */
#define SCOPE_CARDS                                                                                \
    "SELECT c.id FROM cards c JOIN members m ON m.id = c.member_id "                               \
    "WHERE (CAST(?1 AS BIGINT) = 0 OR c.member_id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR "         \
    "m.team = ?2)"

static void bind_scope2(struct sc_stmt *st, const struct sc_scope *scope)
{
    sc_sql_int(st, 1, scope ? scope->member_id : 0);
    sc_sql_opt(st, 2, scope ? scope->team : NULL);
}

/* ---- every lead's events, in one ordered read ----------------------------------------- */

/* A card in scope: its owner and slug, found by id. */
struct lead_card {
    int64_t id, member_id;
    char slug[SC_SLUG_MAX + 1];
};

/* A link of a card in scope: its channel, found by id. */
struct lead_link {
    int64_t id;
    int channel;
};

/* What sc_store_lead_events() holds while it reads. */
struct lead_read {
    struct lead_card *cards; /* by id */
    size_t ncards, capcards;
    struct lead_link *links; /* by id */
    size_t nlinks, caplinks;
    struct sc_lead_event_row *br; /* visits brought by leads' shares, by (visitor, card, ts) */
    size_t nbr, capbr, at;        /* 'at': the first not yet passed */
    struct sc_lead_event_row *ev; /* one lead's own events, in time order */
    size_t nev, capev;
    bool seen; /* the lead has an event since 'since': it is one of the leads asked for */
};

static bool lead_grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 256;
    void *q = realloc(*p, c * size);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

static const struct lead_card *lead_card_of(const struct lead_read *lr, int64_t id)
{
    size_t lo = 0, hi = lr->ncards;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lr->cards[mid].id == id)
            return &lr->cards[mid];
        if (lr->cards[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The channel of link 'id' (an event's), or -1: none, or not a link of the scope's cards. */
static int lead_link_channel(const struct lead_read *lr, int64_t id)
{
    size_t lo = 0, hi = lr->nlinks;
    while (id > 0 && lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lr->links[mid].id == id)
            return lr->links[mid].channel;
        if (lr->links[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int lead_key_cmp(const struct sc_lead_event_row *a, int64_t visitor_id, int64_t card_id)
{
    if (a->visitor_id != visitor_id)
        return a->visitor_id < visitor_id ? -1 : 1;
    return (a->card_id > card_id) - (a->card_id < card_id);
}

/* Hands the lead gathered in lr->ev, with the visits its shares brought, to 'fn' in time order
 * when it is one of the leads asked for; the brought rows of leads before it are passed. */
static int lead_emit(struct lead_read *lr, int (*fn)(const struct sc_lead_event_row *r, void *ctx),
                     void *ctx)
{
    if (!lr->nev)
        return 0;
    int64_t vid = lr->ev[0].visitor_id, cid = lr->ev[0].card_id;
    while (lr->at < lr->nbr && lead_key_cmp(&lr->br[lr->at], vid, cid) < 0)
        lr->at++;
    size_t i = 0, b = lr->at;
    while (b < lr->nbr && lead_key_cmp(&lr->br[b], vid, cid) == 0)
        b++;
    size_t bend = b;
    b = lr->at;
    lr->at = bend;
    if (!lr->seen)
        return 0;
    while (i < lr->nev || b < bend) {
        const struct sc_lead_event_row *r =
            b == bend || (i < lr->nev && lr->ev[i].ts <= lr->br[b].ts) ? &lr->ev[i++]
                                                                       : &lr->br[b++];
        if (fn(r, ctx))
            return 1;
    }
    return 0;
}

enum sc_err sc_store_lead_events(struct sc_store *s, const struct sc_scope *scope, int64_t since,
                                 int (*fn)(const struct sc_lead_event_row *r, void *ctx), void *ctx)
{
    /*
     * Four reads, none of them per lead or per event.  The scope's cards
     * (their owners and slugs) and their links' channels; the visits brought by links the leads
     * shared, from the rollups (per day: there is no index of events by link), dated at the start
     * of their day; and every human event of the scope's visitors in the order of the covering
     * index events_lead (visitor, card, time), so no row of the table is looked up.  A lead
     * (visitor, card) is one asked for when any of its events is since ?3; its every event is
     * given.
     */
    static struct sc_sql q_cards =
        SC_SQL("SELECT c.id, c.member_id, c.slug FROM cards c WHERE c.id IN (" SCOPE_CARDS
               ") ORDER BY c.id");
    static struct sc_sql q_links =
        SC_SQL("SELECT l.id, l.channel FROM links l WHERE l.card_id IN (" SCOPE_CARDS ") "
               "ORDER BY l.id");
    static struct sc_sql q_brought =
        SC_SQL("SELECT l.owner_visitor_id, l.card_id, r.day * 86400, r.type, r.humans, l.channel "
               "FROM rollups r JOIN links l ON l.id = r.link_id "
               "WHERE r.card_id IN (" SCOPE_CARDS ") AND r.type IN (0, 1) AND r.humans > 0 "
               "AND l.owner_visitor_id IS NOT NULL ORDER BY 1, 2, 3");
    /* (a NULL value or link reads as 0 on both backends) */
    static struct sc_sql q_events =
        SC_SQL("SELECT e.visitor_id, e.card_id, e.ts, e.type, e.value, e.link_id FROM events e "
               "WHERE e.visitor_id IS NOT NULL AND e.bot = 0 AND e.card_id IN (" SCOPE_CARDS ") "
               "ORDER BY e.visitor_id, e.card_id, e.ts");
    /* The whole company's: the same without a test of each row's card (a fifth of the read). */
    static struct sc_sql q_brought_all =
        SC_SQL("SELECT l.owner_visitor_id, l.card_id, r.day * 86400, r.type, r.humans, l.channel "
               "FROM rollups r JOIN links l ON l.id = r.link_id "
               "WHERE r.type IN (0, 1) AND r.humans > 0 "
               "AND l.owner_visitor_id IS NOT NULL ORDER BY 1, 2, 3");
    static struct sc_sql q_events_all =
        SC_SQL("SELECT e.visitor_id, e.card_id, e.ts, e.type, e.value, e.link_id FROM events e "
               "WHERE e.visitor_id IS NOT NULL AND e.bot = 0 "
               "ORDER BY e.visitor_id, e.card_id, e.ts");
    bool all = !scope || (scope->member_id == 0 && !scope->team);
    struct lead_read lr = {0};
    struct sc_q r;
    if (!sc_q_read(&r, s, &q_cards))
        return r.e;
    bind_scope2(r.st, scope);
    while (sc_q_next(&r)) {
        if (!lead_grow((void **)&lr.cards, &lr.capcards, lr.ncards + 1, sizeof(*lr.cards))) {
            r.e = SC_ENOMEM;
            break;
        }
        struct lead_card *c = &lr.cards[lr.ncards++];
        c->id = sc_sql_col_int(r.st, 0);
        c->member_id = sc_sql_col_int(r.st, 1);
        sc_sql_col_copy(r.st, 2, c->slug, sizeof(c->slug));
    }
    if (r.st)
        sc_sql_reset(r.st);
    if (r.e == SC_OK && sc_q_prepare(&r, &q_links)) {
        bind_scope2(r.st, scope);
        while (sc_q_next(&r)) {
            if (!lead_grow((void **)&lr.links, &lr.caplinks, lr.nlinks + 1, sizeof(*lr.links))) {
                r.e = SC_ENOMEM;
                break;
            }
            lr.links[lr.nlinks++] =
                (struct lead_link){sc_sql_col_int(r.st, 0), (int)sc_sql_col_int(r.st, 1)};
        }
        if (r.st)
            sc_sql_reset(r.st);
    }
    if (r.e == SC_OK && sc_q_prepare(&r, all ? &q_brought_all : &q_brought)) {
        if (!all)
            bind_scope2(r.st, scope);
        while (sc_q_next(&r)) {
            const struct lead_card *c = lead_card_of(&lr, sc_sql_col_int(r.st, 1));
            if (!c)
                continue;
            if (!lead_grow((void **)&lr.br, &lr.capbr, lr.nbr + 1, sizeof(*lr.br))) {
                r.e = SC_ENOMEM;
                break;
            }
            lr.br[lr.nbr++] = (struct sc_lead_event_row){
                .visitor_id = sc_sql_col_int(r.st, 0),
                .card_id = c->id,
                .member_id = c->member_id,
                .card = c->slug,
                .ts = sc_sql_col_int(r.st, 2),
                .type = (enum sc_ev_type)sc_sql_col_int(r.st, 3),
                .value = sc_sql_col_int(r.st, 4),
                .channel = (int)sc_sql_col_int(r.st, 5),
                .brought = true,
            };
            lr.br[lr.nbr - 1].qr =
                lr.br[lr.nbr - 1].type == SC_EV_SCAN || lr.br[lr.nbr - 1].channel == SC_CH_QR;
        }
        if (r.st)
            sc_sql_reset(r.st);
    }
    bool stop = false;
    const struct lead_card *last = NULL;
    if (r.e == SC_OK && sc_q_prepare(&r, all ? &q_events_all : &q_events)) {
        if (!all)
            bind_scope2(r.st, scope);
        while (!stop && sc_q_next(&r)) {
            struct sc_stmt *st = r.st;
            int64_t card_id = sc_sql_col_int(st, 1);
            if (!last || last->id != card_id) /* a lead's rows share their card */
                last = lead_card_of(&lr, card_id);
            const struct lead_card *c = last;
            if (!c)
                continue;
            struct sc_lead_event_row e = {
                .visitor_id = sc_sql_col_int(st, 0),
                .card_id = c->id,
                .member_id = c->member_id,
                .card = c->slug,
                .ts = sc_sql_col_int(st, 2),
                .type = (enum sc_ev_type)sc_sql_col_int(st, 3),
                .value = sc_sql_col_int(st, 4),
                .channel = lead_link_channel(&lr, sc_sql_col_int(st, 5)),
            };
            e.qr = e.type == SC_EV_SCAN || e.channel == SC_CH_QR;
            if (lr.nev && lead_key_cmp(&lr.ev[0], e.visitor_id, e.card_id) != 0) {
                stop = lead_emit(&lr, fn, ctx) != 0;
                lr.nev = 0;
                lr.seen = false;
            }
            if (!lead_grow((void **)&lr.ev, &lr.capev, lr.nev + 1, sizeof(*lr.ev))) {
                r.e = SC_ENOMEM;
                break;
            }
            lr.ev[lr.nev++] = e;
            lr.seen = lr.seen || e.ts >= since;
        }
    }
    enum sc_err e = sc_q_end(&r);
    if (e == SC_OK && !stop)
        lead_emit(&lr, fn, ctx);
    free(lr.cards);
    free(lr.links);
    free(lr.br);
    free(lr.ev);
    return e;
}

enum sc_err sc_store_lead_card(struct sc_store *s, const struct sc_scope *scope, int64_t visitor_id,
                               int64_t *card_id)
{
    static struct sc_sql q =
        SC_SQL("SELECT e.card_id FROM events e WHERE e.visitor_id = ?3 AND e.bot = 0 "
               "AND e.card_id IN (" SCOPE_CARDS ") ORDER BY e.id DESC LIMIT 1");
    bool found = false;
    *card_id = 0;
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    bind_scope2(r.st, scope);
    sc_sql_int(r.st, 3, visitor_id);
    r.e = sc_sql_int1(r.st, card_id, &found);
    if (r.e == SC_OK && !found)
        r.e = SC_ENOTFOUND;
    return sc_q_end(&r);
}

enum sc_err sc_store_lead_contacts(struct sc_store *s, const struct sc_scope *scope,
                                   int (*fn)(const struct sc_lead_contact_row *r, void *ctx),
                                   void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT s.visitor_id, s.name, s.email, s.phone, s.card_id FROM customers s "
               "WHERE s.visitor_id IS NOT NULL AND s.card_id IN (" SCOPE_CARDS ") "
               "ORDER BY s.visitor_id, s.card_id, s.id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    bind_scope2(r.st, scope);
    while (sc_q_next(&r)) {
        struct sc_lead_contact_row c = {
            .visitor_id = sc_sql_col_int(r.st, 0),
            .name = sc_sql_col_null(r.st, 1) ? NULL : sc_sql_col_text(r.st, 1),
            .email = sc_sql_col_null(r.st, 2) ? NULL : sc_sql_col_text(r.st, 2),
            .phone = sc_sql_col_null(r.st, 3) ? NULL : sc_sql_col_text(r.st, 3),
            .card_id = sc_sql_col_int(r.st, 4),
        };
        if (fn(&c, ctx))
            break;
    }
    return sc_q_end(&r);
}

/* ---- the active model ---------------------------------------------------------------- */

enum sc_err sc_store_model_get(struct sc_store *s, struct sc_model_row *out)
{
    static struct sc_sql q =
        SC_SQL("SELECT version, trained_at, auc_ppm, baseline_ppm, n_examples, n_positive, model "
               "FROM score_models ORDER BY id DESC LIMIT 1");
    memset(out, 0, sizeof(*out));
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    if (sc_q_next(&r)) {
        out->version = sc_sql_col_int(r.st, 0);
        out->trained_at = sc_sql_col_int(r.st, 1);
        out->auc_ppm = sc_sql_col_int(r.st, 2);
        out->baseline_ppm = sc_sql_col_int(r.st, 3);
        out->n_examples = sc_sql_col_int(r.st, 4);
        out->n_positive = sc_sql_col_int(r.st, 5);
        const char *j = sc_sql_col_text(r.st, 6);
        out->json = strdup(j ? j : "");
        if (!out->json)
            r.e = SC_ENOMEM;
    } else if (r.e == SC_OK) {
        r.e = SC_ENOTFOUND;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_model_put(struct sc_store *s, const struct sc_model_row *m)
{
    static struct sc_sql q =
        SC_SQL("INSERT INTO score_models (version, trained_at, auc_ppm, baseline_ppm, n_examples, "
               "n_positive, model) VALUES (?, ?, ?, ?, ?, ?, ?)");
    struct sc_q r;
    if (sc_q_write(&r, s, false) && sc_q_prepare(&r, &q)) {
        sc_sql_int(r.st, 1, m->version);
        sc_sql_int(r.st, 2, m->trained_at);
        sc_sql_int(r.st, 3, m->auc_ppm);
        sc_sql_int(r.st, 4, m->baseline_ppm);
        sc_sql_int(r.st, 5, m->n_examples);
        sc_sql_int(r.st, 6, m->n_positive);
        sc_sql_text(r.st, 7, m->json);
        sc_q_exec(&r, true);
    }
    return sc_q_end(&r);
}

/* ---- follow-ups and reminders ------------------------------------------------------------ */

enum sc_err sc_store_followup_add(struct sc_store *s, const struct sc_followup_row *f, int64_t now,
                                  int64_t *id)
{
    static struct sc_sql q =
        SC_SQL("INSERT INTO followups (visitor_id, card_id, member_id, channel, outcome, note, "
               "reminder_at, done, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?) RETURNING id");
    int64_t got = 0;
    bool found = false;
    struct sc_q r;
    if (sc_q_write(&r, s, false) && sc_q_prepare(&r, &q)) {
        sc_sql_int(r.st, 1, f->visitor_id);
        sc_sql_int(r.st, 2, f->card_id);
        sc_sql_int(r.st, 3, f->member_id);
        sc_sql_int(r.st, 4, f->channel);
        sc_sql_int(r.st, 5, f->outcome);
        sc_sql_text(r.st, 6, f->note ? f->note : "");
        if (f->reminder_at > 0)
            sc_sql_int(r.st, 7, f->reminder_at);
        else
            sc_sql_null(r.st, 7);
        sc_sql_int(r.st, 8, now);
        if ((r.e = sc_sql_int1(r.st, &got, &found)) == SC_OK && !found)
            r.e = SC_EDB;
    }
    if (id)
        *id = got;
    return sc_q_end(&r);
}

#define FOLLOWUP_COLS                                                                              \
    "SELECT f.id, f.visitor_id, f.card_id, f.member_id, m.name, f.channel, f.outcome, f.note, "    \
    "coalesce(f.reminder_at, 0), f.done, f.created_at FROM followups f "                           \
    "JOIN members m ON m.id = f.member_id "

static void followup_rows(struct sc_q *r, int (*fn)(const struct sc_followup_row *f, void *ctx),
                          void *ctx)
{
    while (sc_q_next(r)) {
        struct sc_stmt *st = r->st;
        struct sc_followup_row f = {
            .id = sc_sql_col_int(st, 0),
            .visitor_id = sc_sql_col_int(st, 1),
            .card_id = sc_sql_col_int(st, 2),
            .member_id = sc_sql_col_int(st, 3),
            .member = sc_sql_col_text(st, 4),
            .channel = (int)sc_sql_col_int(st, 5),
            .outcome = (int)sc_sql_col_int(st, 6),
            .note = sc_sql_col_text(st, 7),
            .reminder_at = sc_sql_col_int(st, 8),
            .done = sc_sql_col_int(st, 9) != 0,
            .created_at = sc_sql_col_int(st, 10),
        };
        if (!f.note)
            f.note = "";
        if (fn(&f, ctx))
            break;
    }
}

enum sc_err sc_store_followups(struct sc_store *s, const struct sc_scope *scope, int64_t visitor_id,
                               int (*fn)(const struct sc_followup_row *r, void *ctx), void *ctx)
{
    static struct sc_sql q =
        SC_SQL(FOLLOWUP_COLS "WHERE f.visitor_id = ?3 AND f.card_id IN (" SCOPE_CARDS
                             ") ORDER BY f.id DESC LIMIT 200");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    bind_scope2(r.st, scope);
    sc_sql_int(r.st, 3, visitor_id);
    followup_rows(&r, fn, ctx);
    return sc_q_end(&r);
}

enum sc_err sc_store_reminders_due(struct sc_store *s, int64_t member_id, int64_t until,
                                   int (*fn)(const struct sc_followup_row *r, void *ctx), void *ctx)
{
    static struct sc_sql q =
        SC_SQL(FOLLOWUP_COLS "WHERE f.member_id = ?1 AND f.reminder_at IS NOT NULL "
                             "AND f.reminder_at <= ?2 AND f.done = 0 "
                             "ORDER BY f.reminder_at LIMIT 100");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, member_id);
    sc_sql_int(r.st, 2, until);
    followup_rows(&r, fn, ctx);
    return sc_q_end(&r);
}

enum sc_err sc_store_followup_done(struct sc_store *s, const struct sc_scope *scope,
                                   int64_t visitor_id, int64_t id)
{
    static struct sc_sql q =
        SC_SQL("UPDATE followups SET done = 1 WHERE id = ?3 AND visitor_id = ?4 "
               "AND reminder_at IS NOT NULL AND card_id IN (" SCOPE_CARDS ")");
    struct sc_q r;
    if (sc_q_write(&r, s, false) && sc_q_prepare(&r, &q)) {
        bind_scope2(r.st, scope);
        sc_sql_int(r.st, 3, id);
        sc_sql_int(r.st, 4, visitor_id);
        sc_q_exec(&r, true);
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_followup_counts(struct sc_store *s, const struct sc_scope *scope,
                                     int (*fn)(int64_t member_id, int channel, int64_t attempts,
                                               int64_t successes, void *ctx),
                                     void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT f.member_id, f.channel, count(*), "
               "sum(CASE WHEN f.outcome IN (0, 3) THEN 1 ELSE 0 END) FROM followups f "
               "WHERE f.card_id IN (" SCOPE_CARDS ") GROUP BY f.member_id, f.channel");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    bind_scope2(r.st, scope);
    while (sc_q_next(&r)) {
        if (fn(sc_sql_col_int(r.st, 0), (int)sc_sql_col_int(r.st, 1), sc_sql_col_int(r.st, 2),
               sc_sql_col_int(r.st, 3), ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_followup_lead_counts(struct sc_store *s, const struct sc_scope *scope,
                                          int (*fn)(const struct sc_followup_count_row *r,
                                                    void *ctx),
                                          void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT f.visitor_id, f.card_id, f.channel, count(*), "
               "sum(CASE WHEN f.outcome IN (0, 3) THEN 1 ELSE 0 END) FROM followups f "
               "WHERE f.card_id IN (" SCOPE_CARDS ") GROUP BY f.visitor_id, f.card_id, f.channel "
               "ORDER BY f.visitor_id, f.card_id, f.channel");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    bind_scope2(r.st, scope);
    while (sc_q_next(&r)) {
        struct sc_followup_count_row c = {
            .visitor_id = sc_sql_col_int(r.st, 0),
            .card_id = sc_sql_col_int(r.st, 1),
            .channel = (int)sc_sql_col_int(r.st, 2),
            .attempts = sc_sql_col_int(r.st, 3),
            .successes = sc_sql_col_int(r.st, 4),
        };
        if (fn(&c, ctx))
            break;
    }
    return sc_q_end(&r);
}

/* ---- hot-lead crossings --------------------------------------------------------------------- */

/* Whether the last record of the lead says hot ('*found' false when there is none). */
static void last_hot(struct sc_q *r, struct sc_sql *q, int64_t visitor_id, int64_t card_id,
                     bool *found, bool *hot)
{
    int64_t last = 0;
    *found = false;
    if (!sc_q_prepare(r, q))
        return;
    sc_sql_int(r->st, 1, visitor_id);
    sc_sql_int(r->st, 2, card_id);
    r->e = sc_sql_int1(r->st, &last, found);
    *hot = last != 0;
}

enum sc_err sc_store_lead_hot_mark(struct sc_store *s, int64_t visitor_id, int64_t card_id,
                                   int score, bool hot, const char *reason, int64_t now,
                                   bool *crossed)
{
    static struct sc_sql q_last = SC_SQL("SELECT hot FROM lead_hot WHERE visitor_id = ?1 AND "
                                         "card_id = ?2 ORDER BY id DESC LIMIT 1");
    static struct sc_sql q_add =
        SC_SQL("INSERT INTO lead_hot (visitor_id, card_id, score, hot, ts, reason) "
               "VALUES (?, ?, ?, ?, ?, ?)");
    *crossed = false;
    /* A reader first: most leads keep their hotness, and need not wait for the writer. */
    bool found = false, was = false;
    struct sc_q r;
    if (!sc_q_read(&r, s, &q_last))
        return r.e;
    sc_sql_int(r.st, 1, visitor_id);
    sc_sql_int(r.st, 2, card_id);
    int64_t last = 0;
    r.e = sc_sql_int1(r.st, &last, &found);
    was = last != 0;
    enum sc_err e = sc_q_end(&r);
    if (e != SC_OK || (found ? was == hot : !hot))
        return e;
    /* Changed: checked again and written in one transaction, so one instance records it. */
    if (!sc_q_write(&r, s, true))
        return r.e;
    last_hot(&r, &q_last, visitor_id, card_id, &found, &was);
    bool changed = found ? was != hot : hot;
    if (r.e == SC_OK && changed && sc_q_prepare(&r, &q_add)) {
        sc_sql_int(r.st, 1, visitor_id);
        sc_sql_int(r.st, 2, card_id);
        sc_sql_int(r.st, 3, score);
        sc_sql_int(r.st, 4, hot ? 1 : 0);
        sc_sql_int(r.st, 5, now);
        sc_sql_opt(r.st, 6, reason);
        if (sc_q_exec(&r, true))
            *crossed = hot;
    }
    return sc_q_end(&r);
}
