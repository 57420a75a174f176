/*
 * score.h — lead intelligence (DESIGN.md §5): a lead's features, the intent
 * model that learns them from this deployment's outcomes, its evaluation,
 * the score's reasons in words, the best time and channel to reach out, and
 * the drafted next action.
 *
 * Pure computation over plain structs: no store, no HTTP, no clock (every
 * "now" is a parameter), so everything here is testable alone.  The store
 * hands rows in; the server renders what comes out.  Implemented in intel/.
 */
#ifndef SHARECARD_SCORE_H
#define SHARECARD_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sharecard/domain.h"
#include "sharecard/err.h"
#include "sharecard/tracker.h"

/* ---- a lead's events and features ------------------------------------------ */

/* One human event of a lead (a visitor on a card); bots are never passed in. */
struct sc_lead_event {
    int64_t ts;                  /* UTC, epoch seconds */
    enum sc_ev_type type;        /* scan, open, view, click, save, share, dwell, … */
    enum sc_click_action action; /* SC_EV_CLICK: which contact action */
    int32_t seconds;             /* SC_EV_DWELL: seconds on the page */
    enum sc_channel channel;     /* channel of the link the event came through */
    bool qr;                     /* came by scanning a QR code (met in person) */
};

struct sc_lead_events {
    const struct sc_lead_event *ev; /* borrowed; any order */
    size_t n;
    int64_t cutoff;        /* only events strictly before this count: the outcome or "now" */
    uint32_t share_visits; /* visits that this lead's shares brought before 'cutoff' */
    int32_t tz_min;        /* the deployment's offset from UTC in minutes (days are local) */
};

/*
 * The features, in this order (x[i]); counts enter as log1p(count).  A visit
 * is a run of events with no gap over 30 minutes that holds a scan, open or
 * view; days are local calendar days with any event.
 */
enum sc_feature {
    SC_F_VISITS = 0,   /* log1p(visits) */
    SC_F_DAYS,         /* log1p(distinct days) */
    SC_F_GAP,          /* log1p(mean days between return days); 0 with one day */
    SC_F_DWELL,        /* log1p(total dwell seconds) */
    SC_F_DWELL_VISIT,  /* log1p(dwell seconds per visit) */
    SC_F_CALL,         /* log1p(call clicks) */
    SC_F_EMAIL,        /* log1p(email clicks) */
    SC_F_WECHAT,       /* log1p(WeChat clicks) */
    SC_F_WEBSITE,      /* log1p(website clicks) */
    SC_F_MAP,          /* log1p(map clicks) */
    SC_F_SAVED,        /* 1 when the vCard was saved */
    SC_F_SHARES,       /* log1p(links this lead minted) */
    SC_F_SHARE_VISITS, /* log1p(visits those links brought) */
    SC_F_RECENCY,      /* log1p(days from the last event to the cut-off); 365 with none */
    SC_F_QR,           /* 1 when any event came by QR (met in person) */
    SC_F_CH_WECHAT,    /* first touch's channel, grouped one-hot (QR and the rest: none) */
    SC_F_CH_MESSAGE,   /* sms or email */
    SC_F_CH_SOCIAL,    /* whatsapp or linkedin */
    SC_F_CH_COPY,      /* a copied link */
    SC_SCORE_NF
};

/* The feature's name as stored with a model ("visits", …); static storage. */
const char *sc_score_feature_name(enum sc_feature f);

/* The raw counts behind the features, for reasons, baselines and drafts. */
struct sc_lead_stats {
    uint32_t views;          /* view events: the naive baseline counts these */
    uint32_t visits;         /* as defined above */
    uint32_t days;           /* distinct local days */
    double mean_gap_days;    /* mean days between distinct days; 0 with one */
    uint32_t dwell_s;        /* total dwell */
    uint32_t clicks[6];      /* by enum sc_click_action ([SC_ACT_NONE] unused) */
    bool saved;              /* vCard downloaded */
    uint32_t shares;         /* links minted */
    uint32_t share_visits;   /* visits they brought */
    double recency_days;     /* from the last event to the cut-off */
    bool qr;                 /* any event by QR */
    enum sc_channel channel; /* first touch's */
    int64_t first_ts;        /* first and last counted event; 0 with none */
    int64_t last_ts;
};

/*
 * Fills 'x' (SC_SCORE_NF values) and, unless NULL, 'st' from the events of
 * 'in' (borrowed) strictly before in->cutoff.  Sign-up and conversion events
 * are outcomes and never features.  Returns SC_ENOMEM or SC_OK.
 */
enum sc_err sc_lead_features(const struct sc_lead_events *in, double x[SC_SCORE_NF],
                             struct sc_lead_stats *st);

/* ---- a lead as a training example ----------------------------------------- */

/* What a lead's history is as a training example. */
enum sc_lead_label {
    SC_LEAD_SKIP = -1,    /* no touch before its outcome, or its horizon is still open */
    SC_LEAD_NEGATIVE = 0, /* no outcome within the horizon, which has closed by 'now' */
    SC_LEAD_POSITIVE = 1  /* signed up (or bought) within the horizon of its first touch */
};

/*
 * The one moment as of which a lead's features are taken for training
 * (events strictly before it count, recency is measured up to it), chosen so
 * that every feature means what it means when a live lead is scored at "now":
 * the question a live score answers is "will this lead, not signed up yet,
 * sign up from here on", asked at whatever age the lead has reached.  So
 * every example is cut the way live leads are scored, at a moment drawn
 * uniformly from 'key' (stable per lead, so a retraining sees the same
 * example) in (first touch, its last moment as a lead]:
 * - a positive's last moment is its outcome, so it is cut at or before it and
 *   its recency is the time from its last event before that moment;
 * - a negative's is its horizon's end (first touch + horizon_s).
 * Cutting positives exactly at their outcome makes nearly every positive look
 * active that very minute (a sign-up comes during a visit): the model then
 * learns "visiting right now" and ranks live leads, rarely caught mid-visit,
 * no better than chance (bench/sim_http.py: held-out AUC 0.816 → 0.495).
 * Cutting negatives at their horizon's end makes every negative look long
 * gone; cutting them just after their last event, or copying the positives'
 * gaps, leaves recency with nothing to learn.  'ev' (n, borrowed, any order)
 * are the lead's events, outcomes included; '*first' (the first touch, which
 * orders the time split) and '*cutoff' are set unless SC_LEAD_SKIP.
 */
enum sc_lead_label sc_lead_example_cut(const struct sc_lead_event *ev, size_t n, int64_t now,
                                       int64_t horizon_s, uint64_t key, int64_t *first,
                                       int64_t *cutoff);

/*
 * Several such moments for one lead, so that one model answers both "will a
 * lead seen for a while sign up" and "will this lead, not signed up yet, sign
 * up from here on" at whatever age it is scored: 'k' (1 … SC_LEAD_CUTS)
 * cut-offs into 'cutoff', stratified — the i-th drawn uniformly from 'key'
 * in the i-th of k equal parts of (first touch, last moment] — so the last
 * is always a late one; each example of the lead then weighs 1/k and every
 * lead counts once.  With k = 1 it is sc_lead_example_cut's moment.
 */
#define SC_LEAD_CUTS 4
enum sc_lead_label sc_lead_example_cuts(const struct sc_lead_event *ev, size_t n, int64_t now,
                                        int64_t horizon_s, uint64_t key, int k, int64_t *first,
                                        int64_t cutoff[]);

/* ---- the intent model ------------------------------------------------------ */

#define SC_SCORE_MIN_CLASS 40  /* positives and negatives needed before training */
#define SC_SCORE_HOT       70  /* score ≥ 70: hot */
#define SC_SCORE_WARM      40  /* score ≥ 40: warm; below: cold */
#define SC_SCORE_L2        1.0 /* default ridge penalty, on standardised features */
#define SC_SCORE_FORMAT    1   /* version of the JSON text */

/* A logistic model over standardised features; plain data the caller embeds. */
struct sc_score_model {
    int64_t version;            /* 0: the shipped prior; +1 each activation */
    int64_t trained_at;         /* UTC epoch seconds; 0 for the prior */
    uint32_t n_examples;        /* leads trained on (not their several examples) */
    uint32_t n_positive;        /* of which positive */
    double auc;                 /* held-out AUC when trained; NaN for the prior */
    double baseline_auc;        /* the view count's on the same test set; NaN for the prior */
    double l2;                  /* ridge penalty it was trained with */
    double bias;                /* intercept */
    double mean[SC_SCORE_NF];   /* x is standardised as (x - mean) / scale */
    double scale[SC_SCORE_NF];  /* > 0 */
    double weight[SC_SCORE_NF]; /* per standardised feature */
};

/* One labelled lead for training and evaluation. */
struct sc_score_example {
    double x[SC_SCORE_NF]; /* sc_lead_features at sc_lead_example_cut's cut-off */
    int64_t first_touch;   /* orders the time split */
    uint32_t views;        /* the baseline's score */
    int16_t y;             /* 1: signed up (or bought) within the horizon */
    uint16_t per_lead; /* examples of this lead (its cut-offs): each weighs 1/per_lead; 0 as 1 */
};

/* The shipped prior: hand-set weights on raw features (mean 0, scale 1). */
void sc_score_prior(struct sc_score_model *out);

/* Probability of the outcome for features 'x' under 'm' (both borrowed). */
double sc_score_prob(const struct sc_score_model *m, const double x[SC_SCORE_NF]);

/*
 * AUC of 'score' for labels 'y' (n of each, borrowed): the Mann–Whitney
 * probability that a random positive outscores a random negative, ties
 * counted half.  SC_EINVAL without a positive and a negative; SC_ENOMEM.
 */
enum sc_err sc_score_auc(const double *score, const int *y, size_t n, double *out);

/* Calibration by decile of predicted probability (equal counts, lowest first). */
struct sc_score_decile {
    uint32_t n;       /* leads in this decile (equal weights of leads) */
    double predicted; /* mean predicted probability */
    double observed;  /* observed positive rate */
};
#define SC_SCORE_DECILES 10

/* What a training or evaluation run found, on the newest fifth (the test set). */
enum sc_score_verdict {
    SC_SCORE_ACTIVATED = 0, /* the new model replaced the active one */
    SC_SCORE_TOO_FEW,       /* under 40 positives or negatives: the active model stays */
    SC_SCORE_UNTESTABLE,    /* the test set lacks a class: the active model stays */
    SC_SCORE_NOT_BETTER,    /* held-out AUC below the active model's: it stays */
    SC_SCORE_EVALUATED      /* sc_score_eval only */
};

struct sc_score_report {
    enum sc_score_verdict verdict;
    uint32_t n, positives;    /* all leads (a lead's examples weigh 1/per_lead each) */
    uint32_t n_train, n_test; /* leads: oldest 80 %, newest 20 % by first touch */
    double auc;               /* the new (train) or evaluated (eval) model, held out */
    double auc_active;        /* train: the previously active model on the same test set */
    double auc_baseline;      /* the view count on the same test set */
    struct sc_score_decile calibration[SC_SCORE_DECILES]; /* of the model behind 'auc' */
};

/*
 * Trains on the oldest 80 % of 'ex' (n, borrowed, any order; the examples of
 * one lead adjacent, with the same first_touch, and never split between
 * training and test) with ridge
 * penalty 'l2' (≤ 0: SC_SCORE_L2) and judges on the newest 20 %.  'active'
 * (borrowed) is the model in use; '*out' becomes the new model when the
 * verdict is SC_SCORE_ACTIVATED and a copy of 'active' otherwise ('out' may
 * be 'active').  'now' stamps trained_at.  'rep' (may be NULL) says what
 * happened.  Returns SC_ENOMEM or SC_OK (a kept model is not an error).
 */
enum sc_err sc_score_train(const struct sc_score_example *ex, size_t n,
                           const struct sc_score_model *active, double l2, int64_t now,
                           struct sc_score_model *out, struct sc_score_report *rep);

/*
 * Evaluates 'm' on the newest 20 % of 'ex' (as sc_score_train splits them):
 * AUC, the view-count baseline's AUC and calibration by decile into 'rep'.
 * SC_EINVAL when the test set lacks a class; SC_ENOMEM.
 */
enum sc_err sc_score_eval(const struct sc_score_model *m, const struct sc_score_example *ex,
                          size_t n, struct sc_score_report *rep);

/* The model as one JSON object; returns new text, free with free(). SC_ENOMEM. */
enum sc_err sc_score_model_to_json(const struct sc_score_model *m, char **out);

/*
 * Reads a model written by sc_score_model_to_json from 'json' (borrowed).
 * SC_EINVAL for malformed text; SC_EVERSION for a newer format or another
 * feature list (the caller then keeps the prior).  '*out' is untouched on error.
 */
enum sc_err sc_score_model_from_json(const char *json, struct sc_score_model *out);

/* ---- a lead's score and reasons -------------------------------------------- */

enum sc_score_label { SC_LABEL_COLD = 0, SC_LABEL_WARM, SC_LABEL_HOT };

/* What a reason says; each renders with the value in sc_score_reason_text. */
enum sc_reason_code {
    SC_R_VISITS = 0,   /* visited N times */
    SC_R_DAYS,         /* came back on N days */
    SC_R_GAP,          /* returns every N days */
    SC_R_DWELL,        /* spent N minutes on the card */
    SC_R_DWELL_VISIT,  /* N seconds per visit */
    SC_R_CALL,         /* tapped call N times */
    SC_R_EMAIL,        /* tapped email N times */
    SC_R_WECHAT,       /* tapped WeChat N times */
    SC_R_WEBSITE,      /* opened the website N times */
    SC_R_MAP,          /* opened the map N times */
    SC_R_SAVED,        /* saved the contact */
    SC_R_SHARES,       /* shared the card with N people */
    SC_R_SHARE_VISITS, /* the shares brought N visits */
    SC_R_RECENT,       /* last visit N days ago (0: today) */
    SC_R_QR,           /* met in person (scanned the QR) */
    SC_R_CH_WECHAT,    /* came through WeChat */
    SC_R_CH_MESSAGE,   /* came through a text or an email */
    SC_R_CH_SOCIAL,    /* came through WhatsApp or LinkedIn */
    SC_R_CH_COPY       /* came through a copied link */
};

struct sc_score_reason {
    enum sc_reason_code code;
    double value;   /* the count, days or minutes the text shows */
    double contrib; /* weight × standardised value, > 0 */
};

#define SC_SCORE_REASONS 3

struct sc_score_result {
    double p;                                         /* probability */
    int score;                                        /* round(100 p), 0–100 */
    enum sc_score_label label;                        /* by SC_SCORE_HOT / SC_SCORE_WARM */
    size_t n_reasons;                                 /* 0 … SC_SCORE_REASONS */
    struct sc_score_reason reasons[SC_SCORE_REASONS]; /* largest contribution first */
};

/*
 * Scores features 'x' under 'm' and picks the reasons: the largest positive
 * contributions (weight × standardised value) above 0.1, with values from
 * 'st' (all borrowed).
 */
void sc_score_lead(const struct sc_score_model *m, const double x[SC_SCORE_NF],
                   const struct sc_lead_stats *st, struct sc_score_result *out);

const char *sc_score_label_name(enum sc_score_label l); /* "hot", "warm", "cold" */

/* True for zh, zh-CN, zh-Hans…: Simplified Chinese; anything else is English. */
bool sc_score_lang_zh(const char *lang);

/*
 * Renders 'r' (borrowed) in 'lang' ("en", "zh-CN", …) into 'out' of 'cap'
 * bytes, NUL-terminated.  SC_ETOOBIG when it does not fit.
 */
enum sc_err sc_score_reason_text(const struct sc_score_reason *r, const char *lang, char *out,
                                 size_t cap);

/* ---- best time, channel and next action ------------------------------------ */

/*
 * The next good moment to reach a lead: the local hour of day at which they
 * engage, from 'ts' (n UTC epoch seconds, borrowed: their visits), smoothed
 * toward 'team_hours' (24 counts by local hour of the team's leads; NULL:
 * flat) with SC_BESTTIME_PSEUDO pseudo-counts, so a lead with one visit
 * mostly gets the team's hour.  A weekday is preferred only when the
 * distinct days of the history fall on one weekday more often than chance
 * allows (at least 3 days, one-sided binomial test against 1/7 at 5 %).
 */
#define SC_BESTTIME_PSEUDO 4.0

struct sc_besttime {
    int64_t at;     /* UTC: the next start of that local hour after 'now', within 7 days */
    int hour;       /* local hour of day, 0–23 */
    int weekday;    /* preferred local weekday, 0 = Sunday; -1 when none */
    bool from_team; /* the lead never engaged in that hour: the team's hours chose it */
};

void sc_score_best_time(const int64_t *ts, size_t n, const double team_hours[24], int32_t tz_min,
                        int64_t now, struct sc_besttime *out);

enum sc_contact {
    SC_CONTACT_CALL = 0,
    SC_CONTACT_WECHAT,
    SC_CONTACT_EMAIL,
    SC_CONTACT_SMS,
    SC_CONTACT_COUNT
};

const char *sc_score_contact_name(enum sc_contact c); /* "call", "wechat", "email", "sms" */

/* One salesperson's logged follow-ups by channel (enum sc_contact). */
struct sc_followup_stats {
    uint32_t attempts[SC_CONTACT_COUNT];
    uint32_t successes[SC_CONTACT_COUNT];
};

/*
 * The channel to use: the lead's own signals from 'st' (tapped WeChat → WeChat,
 * tapped email → email, tapped call or saved the contact → call, saved → sms
 * too) times what worked for this salesperson ('fu', may be NULL: each
 * channel's rate of reaching leads, shrunk toward a modest prior, so a
 * channel that worked beats one never tried).
 */
enum sc_contact sc_score_best_channel(const struct sc_lead_stats *st,
                                      const struct sc_followup_stats *fu);
/*
 * The same, also learning from this lead's own logged follow-ups ('lead', may
 * be NULL): a channel that reached them is preferred, one where they did not
 * answer is not.  Successes are outcomes reached or converted.
 */
enum sc_contact sc_score_best_channel_fu(const struct sc_lead_stats *st,
                                         const struct sc_followup_stats *fu,
                                         const struct sc_followup_stats *lead);

/*
 * Drafts the next action in 'lang' into 'out' of 'cap' bytes: "Call Wang Fang
 * around 10:00 on Tue: saved your contact, came back on 3 days." / "周二
 * 10:00 左右给 Wang Fang 打电话：保存了您的联系方式，在 3 天里回访。".  'name'
 * may be NULL or "" (then "this lead"); 'bt' and 'res' are borrowed.
 * SC_ETOOBIG when it does not fit.
 */
enum sc_err sc_score_next_action(const char *name, enum sc_contact c, const struct sc_besttime *bt,
                                 int32_t tz_min, const struct sc_score_result *res,
                                 const char *lang, char *out, size_t cap);

/* ---- drafts by a language model (optional; intel/llm.c) ------------------- */

#define SC_LLM_DRAFT_MAX 600 /* bytes: a longer answer is not a draft, the template stays */

/* What a model may know of a lead to draft a message: nothing that reaches them. */
struct sc_llm_facts {
    const char *first_name;            /* may be NULL or "" */
    const char *lang;                  /* the reader's: "en", "zh-CN" */
    const char *card_owner;            /* whose card they looked at; may be NULL */
    const struct sc_lead_stats *st;    /* what they did; may be NULL */
    const struct sc_score_result *res; /* the reasons; may be NULL */
    enum sc_contact channel;           /* how the message will go */
};

/* The first word of 'name' (at most 64 bytes, whole characters) into 'out' of 'cap' bytes. */
void sc_llm_first_name(const char *name, char *out, size_t cap);
/* The chat-completions request for 'f' (borrowed) and 'model' as new JSON text ('*out', free()). */
enum sc_err sc_llm_request_json(const struct sc_llm_facts *f, const char *model, char **out);
/*
 * The draft in a chat-completions reply 'body' (n bytes): choices[0].message.content,
 * trimmed, into 'out' of 'cap' bytes.  SC_EINVAL when the reply is not such JSON or the
 * text is empty or not valid UTF-8 (controls refused); SC_ETOOBIG over SC_LLM_DRAFT_MAX.
 */
enum sc_err sc_llm_reply_draft(const char *body, size_t n, char *out, size_t cap);

/* ---- synthetic leads (tests, bench, demo) ---------------------------------- */

/* Worlds whose outcomes hang on different signals, to check the model learns. */
enum sc_score_world {
    SC_WORLD_SAVING = 0, /* saving the contact is the strong signal */
    SC_WORLD_RETURNING,  /* nearly everybody saves; coming back on other days counts */
    SC_WORLD_MIXED       /* WeChat taps, dwell per visit and meeting by QR, weaker */
};

/*
 * Simulates 'n' leads of world 'w' from 'seed' (deterministic): their events
 * over the year before 'now', each lead's TRUE propensity into 'p_true' (n,
 * may be NULL) and its outcome drawn from it, run through sc_lead_features
 * into 'ex' (n).  Returns SC_ENOMEM or SC_OK.
 */
enum sc_err sc_score_simulate(enum sc_score_world w, size_t n, uint64_t seed, int64_t now,
                              struct sc_score_example *ex, double *p_true);

#endif
