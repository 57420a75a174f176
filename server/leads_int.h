/*
 * leads_int.h — private to server/: lead intelligence wired to the store
 * (lead_intel.c): every lead in a scope scored with the active model, its
 * best time and channel; the training and evaluation examples built from
 * the store's outcomes; the deployment's time zone (SHARECARD_TZ).  The
 * pages and the API (leads.c) and the CLI (cli_score.c) use it.
 */
#ifndef SHARECARD_LEADS_INT_H
#define SHARECARD_LEADS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sharecard/score.h"
#include "sharecard/store.h"

/* Days after the first touch within which a sign-up (or purchase) counts as the outcome. */
#define SC_LEAD_HORIZON_DAYS 30

/* What the leads list shows of a lead: its every event counted (the list's columns). */
struct lead_tally {
    int64_t first_ts, last_ts;
    int64_t visits; /* scans, opens and views */
    int64_t days;   /* distinct days (UTC) it did anything on */
    int64_t clicks, saves, shares;
    int64_t dwell_s;
    bool signed_up;
};

/* One scored lead. */
struct lead_intel {
    int64_t visitor_id, card_id, member_id;
    char card[SC_SLUG_MAX + 1];
    struct sc_lead_stats st;
    struct sc_score_result res;
    struct sc_besttime bt;
    enum sc_contact channel;
    size_t ts_at, ts_n; /* its visits' times in the set's pool */
    int contact;        /* index into the set's contacts, -1: not signed up */
    int customer;       /* index of the customer who signed up on this very card, or -1 */
    struct lead_tally tally;
};

struct lead_contact {
    int64_t visitor_id, card_id;
    char *name, *email, *phone; /* owned; NULL when not given */
};

struct lead_intel_set {
    struct lead_intel *v; /* sorted by visitor_id, then card_id */
    size_t n, cap;
    int64_t *ts; /* visit times of every lead (pool) */
    size_t nts, capts;
    struct lead_contact *c; /* sorted by visitor_id, then card_id */
    size_t nc, capc;
    struct sc_score_model model;
    bool trained; /* the model was trained here (not the shipped prior) */
    double team_hours[24];
    int32_t tz_min;
    int64_t now;
};

/* The active model from the store into 'out', or the shipped prior (then 'trained' false). */
enum sc_err sc_leads_model(struct sc_store *s, struct sc_score_model *out, bool *trained);

/*
 * Scores every lead on the cards in 'scope' seen since 'since' at 'now'
 * into 'out' (new; free with sc_leads_free), with their contact details
 * when 'contacts'.
 */
enum sc_err sc_leads_score(struct sc_store *s, const struct sc_scope *scope, int64_t since,
                           int64_t now, bool contacts, struct lead_intel_set *out);
void sc_leads_free(struct lead_intel_set *set);
/* The lead (visitor_id, card slug) of 'set', or NULL. */
const struct lead_intel *sc_leads_find(const struct lead_intel_set *set, int64_t visitor_id,
                                       const char *card);
/* The contact of 'l', or NULL. */
const struct lead_contact *sc_leads_contact(const struct lead_intel_set *set,
                                            const struct lead_intel *l);

/*
 * Every lead of the store as a labelled example at 'now' (positives: signed
 * up or bought within SC_LEAD_HORIZON_DAYS of the first touch; leads whose
 * horizon has not passed without an outcome are left out), its features as
 * of sc_lead_example_cut's cut-off.  '*ex' new (free()).
 */
enum sc_err sc_leads_examples(struct sc_store *s, int64_t now, struct sc_score_example **ex,
                              size_t *n);

/*
 * Trains on the store's outcomes at 'now' and activates the new model when
 * sc_score_train says so; 'rep' says what happened.  Serialised within the
 * process.
 */
enum sc_err sc_leads_train(struct sc_store *s, int64_t now, struct sc_score_report *rep,
                           struct sc_score_model *active);

/*
 * Called once per crossing of the hot threshold by lead 'l' (borrowed): the
 * place where the `lead.hot` webhook is emitted (wired at merge).
 */
void sc_leads_on_hot(struct sc_store *s, const struct lead_intel *l, int64_t now);

/* The daily retraining thread (it also watches for leads crossing the hot threshold) of the server
 * (and a first run when no model is stored). */
struct score_daemon;
enum sc_err sc_score_daemon_start(struct sc_store *s, struct score_daemon **out);
void sc_score_daemon_stop(struct score_daemon *d); /* NULL is a no-op */

/*
 * The deployment's offset from UTC in minutes at 'at': SHARECARD_TZ is UTC
 * (default), an offset ("+08:00", "UTC+8", "-0530") or a zone name
 * ("Asia/Shanghai").  sc_tz_init() reads it once; call it before threads start.
 */
void sc_tz_init(void);
int32_t sc_tz_min(int64_t at);
/* The zone's name as configured ("UTC" by default). */
const char *sc_tz_name(void);

/* A logged follow-up's outcome (enum sc_followup_outcome) in words, English for sc_tr()
 * (leads.c; a customer's timeline tells their follow-ups the same way). */
const char *sc_leads_outcome_text(int outcome);

#endif
