/*
 * store.h — the storage interface.  Callers see only these functions; the
 * backend (SQLite or PostgreSQL) is chosen by sc_store_open() from the URL
 * and hidden inside struct sc_store: most operations are written once, in
 * SQL both databases accept, over a small statement layer each backend
 * implements; only connections, migrations and the batched event writes
 * are per backend.  Decisions (who is credited, which reward is held) are
 * not the store's: it gathers the facts and writes what tracker/ decided.
 *
 * Threads: any thread may call any function.  The SQLite backend serialises
 * writes on its one writer connection and gives each reading thread its own
 * read connection (WAL lets them run beside the writer); the PostgreSQL
 * backend gives each thread its own connection.
 */
#ifndef SHARECARD_STORE_H
#define SHARECARD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sharecard/card.h"
#include "sharecard/customers.h"
#include "sharecard/domain.h"
#include "sharecard/err.h"
#include "sharecard/referral.h"
#include "sharecard/tracker.h"

struct sc_store;

/*
 * An event after the writer classified it: what the store keeps.  'bot_reason'
 * is NULL for a person (static storage otherwise).
 */
struct sc_event_row {
    const struct sc_event *ev; /* borrowed */
    const char *bot_reason;
    const struct sc_ua_info *agent; /* borrowed */
    enum sc_err result;             /* out: this event's own outcome when the batch committed
                                       (SC_ECONFLICT: a repeat sign-up, SC_ENOTFOUND: a
                                       conversion for no known customer) */
};

struct sc_stats {
    int64_t n[SC_EV_COUNT]; /* humans, by event type */
    int64_t uniques;        /* distinct human visitors who scanned, opened or viewed */
    int64_t bots;           /* all events by bots */
};

/*
 * Opens (creating if needed) the store at 'url': "postgres://…" or
 * "postgresql://…" selects PostgreSQL, anything else is a SQLite file path
 * (":memory:" for tests).  Applies pending schema migrations; a store written
 * by a newer sharecard is refused with SC_EVERSION.  On failure writes a
 * sentence for a person into 'errmsg' ('errlen' bytes).
 * '*out' is new; close with sc_store_close().
 */
enum sc_err sc_store_open(const char *url, struct sc_store **out, char *errmsg, size_t errlen);
/* Waits for pending writes, checkpoints and closes.  NULL is a no-op. */
void sc_store_close(struct sc_store *s);

/* The schema version the store is at, and the newest this build knows. */
int sc_store_schema_version(struct sc_store *s);
int sc_store_schema_latest(void);

/* Cheap liveness check for /healthz. */
enum sc_err sc_store_ping(struct sc_store *s);

/*
 * Adds a member, their card (with 'profile''s fields; its slug when set must
 * be valid, else one is generated) and the card's qr-channel link, in one
 * transaction.  'password_hash' may be NULL (no password login yet).
 * Fills 'out' (id, slug, …); read the stored card back with sc_store_card_by_slug().
 * SC_ECONFLICT when the email or the custom slug is taken.
 */
enum sc_err sc_store_member_add(struct sc_store *s, const struct sc_member *m,
                                const char *password_hash, const struct sc_card *profile,
                                struct sc_member *out);

/* Calls 'fn' for each member in id order; stops early if 'fn' returns non-zero. */
enum sc_err sc_store_member_list(struct sc_store *s,
                                 int (*fn)(const struct sc_member *m, void *ctx), void *ctx);

enum sc_err sc_store_member_by_email(struct sc_store *s, const char *email, struct sc_member *out);
enum sc_err sc_store_member_by_id(struct sc_store *s, int64_t id, struct sc_member *out);
enum sc_err sc_store_member_count(struct sc_store *s, int64_t *out);

/* The card at 'slug' into 'out' (caller cleans up with sc_card_cleanup()). */
enum sc_err sc_store_card_by_slug(struct sc_store *s, const char *slug, struct sc_card *out);
/* Replaces the profile fields of card 'c->id' (validated by the caller). */
enum sc_err sc_store_card_update(struct sc_store *s, const struct sc_card *c);

/* The tracked link with 'code'. */
enum sc_err sc_store_link_by_code(struct sc_store *s, const char *code, struct sc_link *out);

/*
 * Stores an API token for 'member_id'.  'token_hash' is a keyed hash of the
 * token (hex, borrowed); the token itself is never stored.
 */
enum sc_err sc_store_token_add(struct sc_store *s, int64_t member_id, const char *token_hash,
                               const char *label);
/* The member owning the (non-revoked) token whose hash is 'token_hash'. */
enum sc_err sc_store_token_member(struct sc_store *s, const char *token_hash,
                                  struct sc_member *out);

/*
 * A per-store secret (32 random bytes, made on first open, hex in 'out' of
 * 65 bytes) used to key token hashes, so that a stolen store file alone
 * does not let anyone check token guesses offline against another install.
 */
enum sc_err sc_store_secret(struct sc_store *s, const char *name, char out[65]);

/*
 * Writes the 'n' events of 'rows' in one transaction — visitors and agents
 * are stored once each, every event gets its row, rollups are updated — and
 * makes it durable before returning.  All or nothing: on error no event of
 * the batch is stored.
 */
enum sc_err sc_store_events_write(struct sc_store *s, struct sc_event_row *rows, size_t n);

/*
 * Mints a tracked link: 'l' gives card_id, channel, owner (member, customer
 * or l->owner_visitor) and parent; its id, code and created_at are filled in.
 */
enum sc_err sc_store_link_create(struct sc_store *s, struct sc_link *l);

/*
 * Whether visitor 'vid' was served the page of card 'card_id' (and, when
 * 'link_id' is not 0, reached it through that link): beacons may only name
 * what their sender saw.
 */
enum sc_err sc_store_visitor_reached(struct sc_store *s, const char *vid, int64_t card_id,
                                     int64_t link_id, bool *out);

/* Stats of card 'card_id' over the UTC days 'day_from'..'day_to' (inclusive), from rollups. */
enum sc_err sc_store_card_stats(struct sc_store *s, int64_t card_id, int64_t day_from,
                                int64_t day_to, struct sc_stats *out);

/* One sign-up as the API lists it. */
struct sc_signup_row {
    int64_t id;
    const char *name, *email, *phone; /* NULL when not given */
    const char *card;                 /* the card's slug */
    const char *link;                 /* code of the winning touch's link, or NULL */
    struct sc_party level1, level2;
    const char *rule;  /* last_touch, first_touch, card_owner */
    const char *notes; /* e.g. "self_referral_ignored", "" when none */
    int64_t created_at;
};

/* One ledger row. */
struct sc_reward_row {
    int64_t id;
    int64_t customer_id;   /* whose sign-up or purchase earned it */
    int64_t conversion_id; /* 0 for a sign-up reward */
    struct sc_party party; /* who earns it */
    int level;             /* 1 or 2; 0 for the new customer's welcome reward */
    const char *kind;      /* "signup" (points), "commission" (cents), "welcome" (points),
                              "coupon" (a coupon's value: cents or percent) */
    int64_t amount;
    const char *status; /* pending, approved, hold, void (pending past its hold: approved) */
    const char *reason;
    int64_t created_at;
};

/* Who may see which rows: everything, a team's cards, or one member's card. */
struct sc_scope {
    int64_t member_id; /* not 0: only this member's card */
    const char *team;  /* not NULL: only cards of this team's members */
};

enum sc_err sc_store_signups_list(struct sc_store *s, const struct sc_scope *scope,
                                  int (*fn)(const struct sc_signup_row *r, void *ctx), void *ctx);
enum sc_err sc_store_rewards_list(struct sc_store *s, const struct sc_scope *scope, int64_t now,
                                  int (*fn)(const struct sc_reward_row *r, void *ctx), void *ctx);
/* A manager's decision on ledger row 'id': "approved" or "void", with 'reason'. */
enum sc_err sc_store_reward_decide(struct sc_store *s, int64_t id, const char *status,
                                   const char *reason, int64_t now);

/* ---- coupons and the welcome reward (issue 19; store/q_coupons.c) ------------------- */

/* A coupon as the shop and its holder see it. */
struct sc_coupon_row {
    int64_t id;
    const char *code; /* "ABCD-EFGH-JKLM-N" */
    int64_t customer_id;
    const char *kind; /* "amount" (value in cents) or "percent" (value 1 to 100) */
    int64_t value;
    int64_t created_at, expires_at;
    int64_t redeemed_at;  /* 0: not yet */
    const char *order_id; /* "" until redeemed */
    const char *state;    /* usable, redeemed, expired, hold (its sign-up held), void */
};

/*
 * The coupons of customers of the cards in 'scope' (borrowed), as at 'now',
 * by id; a row and its strings are borrowed for the callback only.
 */
enum sc_err sc_store_coupons_list(struct sc_store *s, const struct sc_scope *scope, int64_t now,
                                  int (*fn)(const struct sc_coupon_row *r, void *ctx), void *ctx);
/* Customer 'customer_id''s own coupons, as at 'now', by id. */
enum sc_err sc_store_customer_coupons(struct sc_store *s, int64_t customer_id, int64_t now,
                                      int (*fn)(const struct sc_coupon_row *r, void *ctx),
                                      void *ctx);
/* Customer 'customer_id''s welcome points and their status at 'now' (0 and "" when none). */
enum sc_err sc_store_customer_welcome(struct sc_store *s, int64_t customer_id, int64_t now,
                                      int64_t *points, char status[16]);
/* Whether the browser of visitor id text 'vid' (borrowed; the request's cookie visitor) is
 * customer 'customer_id''s own: they signed up with it (customers.visitor_id). */
enum sc_err sc_store_customer_of_browser(struct sc_store *s, int64_t customer_id, const char *vid,
                                         bool *yes);

/* ---- payouts and monthly statements (issue 19; store/q_payouts.c) ------------------- */

/* A payout to record, and what became of it. */
struct sc_payout {
    char payout_id[129]; /* the caller's id: the same again is a replay */
    enum sc_party_type party_type;
    int64_t party_id;
    int64_t amount; /* cents, > 0 */
    int64_t now;
    const char *actor; /* who records it (audit), borrowed */
    /* filled by the store */
    bool replayed;       /* this payout_id was recorded before, with the same terms */
    const char *refused; /* NULL, or why nothing was written (static English) */
    int64_t payable;     /* the approved, unpaid balance after it (before it when refused) */
    int64_t created_at;
};

/*
 * Records payout 'p' (borrowed; its results filled in) against the party's
 * approved, unpaid commissions, in
 * one transaction with the party locked: SC_ENOTFOUND for no such party;
 * p->refused set (nothing written) above the balance or for a payout_id
 * already used otherwise.
 */
enum sc_err sc_store_payout_add(struct sc_store *s, struct sc_payout *p);

struct sc_statement_row {
    struct sc_party party;
    struct sc_ledger_sums sums; /* money: commission cents */
    struct sc_statement st;
    struct sc_ledger_sums points_sums; /* points: sign-up and welcome rewards (never paid) */
    struct sc_statement points;        /* paid is "redeemed", 0: points are not spent yet */
};

/*
 * The statement of every party in 'scope' (members, and customers of its
 * cards) with commission, points or payouts, or of 'only' (NULL: all), for
 * [from, to) with approvals counted up to 'now', by party.
 */
enum sc_err sc_store_statements(struct sc_store *s, const struct sc_scope *scope,
                                const struct sc_party *only, int64_t from, int64_t to, int64_t now,
                                int (*fn)(const struct sc_statement_row *r, void *ctx), void *ctx);

/* ---- reward rules, versioned (issue 19; store/q_rules.c) ---------------------------- */

/*
 * The version of rules 'rules' (canonical text, sc_rewards_format()): the
 * latest stored one when its text is the same, else a new version stored at
 * 'now' ('*is_new' true: the caller audits the change).
 */
enum sc_err sc_store_rules_version(struct sc_store *s, const char *rules, int64_t now,
                                   int64_t *version, bool *is_new);

/* ---- accounts ------------------------------------------------------------------- */

/* The argon2id hash of member 'id' into 'out' ("" when they have no password). */
enum sc_err sc_store_member_password(struct sc_store *s, int64_t id, char out[128]);
/* Sets member 'id''s argon2id password hash (and ends their sessions). */
enum sc_err sc_store_member_set_password(struct sc_store *s, int64_t id, const char *hash);
/* Stores a session for 'member_id' under 'token_hash' (hex, borrowed), valid until 'expires_at'. */
enum sc_err sc_store_session_add(struct sc_store *s, const char *token_hash, int64_t member_id,
                                 int64_t now, int64_t expires_at);
/*
 * The member of the live session 'token_hash' at 'now': not past its
 * absolute expiry, seen within 'idle_s', its member not disabled.  Marks it
 * seen (at most once a minute, to keep reads reads).  SC_ENOTFOUND otherwise.
 */
enum sc_err sc_store_session_member(struct sc_store *s, const char *token_hash, int64_t now,
                                    int64_t idle_s, struct sc_member *out);
enum sc_err sc_store_session_delete(struct sc_store *s, const char *token_hash);

/* Disables (or enables again) member 'id': their card shows a polite page, sessions end. */
enum sc_err sc_store_member_set_disabled(struct sc_store *s, int64_t id, bool disabled);

/*
 * Erases the personal data of the customer with 'email' (normalised): name,
 * e-mail, phone and address are blanked, their visitor id is cut loose from
 * their browser, and rewards they were to earn are voided ("erasure").  The
 * sign-up itself, its attribution and others' rewards stay, anonymous.
 * '*id' gets the customer's id.  SC_ENOTFOUND when there is none.
 */
enum sc_err sc_store_customer_erase(struct sc_store *s, const char *email, int64_t now,
                                    int64_t *id);

/* Appends to the audit log: who did what to what. */
enum sc_err sc_store_audit(struct sc_store *s, const char *actor, const char *action,
                           const char *target, const char *detail);

/* ---- reports --------------------------------------------------------------------- */

/* Totals over the cards in 'scope' for UTC days 'from'..'to', from rollups. */
enum sc_err sc_store_scope_stats(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                                 int64_t to, struct sc_stats *out);
/* Per day and event type, the human count, for the cards in 'scope'; days without events skipped.
 */
enum sc_err sc_store_series(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                            int64_t to,
                            int (*fn)(int64_t day, enum sc_ev_type t, int64_t n, void *ctx),
                            void *ctx);

struct sc_leader_row {
    int64_t member_id;
    const char *name, *team, *slug;
    int64_t scans, opens, views, uniques, shares, signups;
    int64_t points; /* approved and pending sign-up points of this member */
};
/* Members in 'scope' with their figures for 'from'..'to', most sign-ups first. */
enum sc_err sc_store_leaderboard(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                                 int64_t to, int (*fn)(const struct sc_leader_row *r, void *ctx),
                                 void *ctx);

/* The id of the visitor 'vid', or SC_ENOTFOUND. */
enum sc_err sc_store_visitor_id(struct sc_store *s, const char *vid, int64_t *out);

/* ---- management: API tokens, members, the audit log ------------------------------- */

struct sc_token_row {
    int64_t id;
    const char *label;
    int64_t created_at;
    int64_t revoked_at; /* 0 while live */
};
/* Member 'member_id''s API tokens, newest first (the tokens themselves are never kept). */
enum sc_err sc_store_token_list(struct sc_store *s, int64_t member_id,
                                int (*fn)(const struct sc_token_row *r, void *ctx), void *ctx);
/* Revokes token 'id' of 'member_id' at 'now'; SC_ENOTFOUND if not theirs or already revoked. */
enum sc_err sc_store_token_revoke(struct sc_store *s, int64_t member_id, int64_t id, int64_t now);

/* Changes member 'id''s name, team and role (their e-mail and card stay). */
enum sc_err sc_store_member_update(struct sc_store *s, int64_t id, const char *name,
                                   const char *team, enum sc_role role);

struct sc_audit_row {
    int64_t id, ts;
    const char *actor, *action, *target, *detail;
};
/* The audit log, newest first: up to 'limit' rows with id below 'before' (0: from the newest). */
enum sc_err sc_store_audit_list(struct sc_store *s, int64_t before, int limit,
                                int (*fn)(const struct sc_audit_row *r, void *ctx), void *ctx);

/* ---- more reports ------------------------------------------------------------------- */

/*
 * Human counts per channel (an enum sc_channel: that of the link the event
 * came through; -1 when it came through none) and event type, for 'scope'.
 */
enum sc_err sc_store_channels(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                              int64_t to,
                              int (*fn)(int ch, enum sc_ev_type t, int64_t n, void *ctx),
                              void *ctx);

/* Purchases by customers of the cards in 'scope' made on days 'from'..'to': count and cents. */
enum sc_err sc_store_revenue(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                             int64_t to, int64_t *orders, int64_t *cents);

/* One tracked link of a card's share tree, with what came through it (all time, humans). */
struct sc_tree_row {
    int64_t id, parent_id; /* parent 0: a root (the card's own links) */
    const char *code;
    enum sc_channel channel;
    struct sc_party owner; /* member or customer; SC_PARTY_NONE: an anonymous visitor */
    int64_t created_at;
    int64_t visits;  /* scans + opens through this link */
    int64_t signups; /* customers whose winning touch was this link */
};
/* Every tracked link of card 'card_id', oldest first (parents before children). */
enum sc_err sc_store_share_tree(struct sc_store *s, int64_t card_id,
                                int (*fn)(const struct sc_tree_row *r, void *ctx), void *ctx);

/* A human visit or action as the live feed shows it. */
struct sc_visit_row {
    int64_t id, ts;
    enum sc_ev_type type;
    const char *card, *card_owner; /* the card's slug and its member's name */
    int channel;                   /* of the link it came through; -1: none */
    struct sc_party via;           /* who shared that link; SC_PARTY_NONE: the card's own */
    const char *device, *os;       /* families, "" when unknown */
    int64_t value;                 /* a dwell's seconds (lead timelines) */
};
/*
 * Human scans, opens, views, shares, saves and sign-ups on the cards in
 * 'scope' with an event id above 'after', oldest first, at most 'limit'.
 * '*last' gets the id to pass next time; with 'after' < 0 no rows are
 * given and '*last' is the newest event id now (where a feed starts).
 */
enum sc_err sc_store_visits_after(struct sc_store *s, const struct sc_scope *scope, int64_t after,
                                  int limit, int (*fn)(const struct sc_visit_row *r, void *ctx),
                                  void *ctx, int64_t *last);

/* The events of visitor 'visitor_id' on the cards in 'scope', newest first (dwell included). */
enum sc_err sc_store_lead_timeline(struct sc_store *s, const struct sc_scope *scope,
                                   int64_t visitor_id, int limit,
                                   int (*fn)(const struct sc_visit_row *r, void *ctx), void *ctx);

/*
 * Failed attempts under 'key' (e.g. "login-ip:203.0.113.0"): with 'add',
 * records one at 'now' first; '*count' gets how many fall within the last
 * 'window_s' seconds.  Kept in the store, so every instance sees the same.
 */
enum sc_err sc_store_failures(struct sc_store *s, const char *key, int64_t now, int64_t window_s,
                              bool add, int64_t *count);

/*
 * Compacts the unique visitor-days of each day at least two days before
 * 'today' (a day number) into bitmaps, oldest first, at most 'max_days'
 * days a call; '*done' gets how many.  Counts read the same before and
 * after; they read faster after.  The event writer calls it when idle.
 */
enum sc_err sc_store_uniques_compact(struct sc_store *s, int64_t today, int max_days, int *done);

/*
 * Issue 15, speed: reads the whole company's 30-day dashboard ending on day
 * 'today' once, so that its days already compacted are in this store
 * handle's memory (store/q_cache.c) before an admin asks; the compactor
 * calls it once it has caught up.  Results are not kept otherwise.
 */
enum sc_err sc_store_company_warm(struct sc_store *s, int64_t today);

/* Unique visitors per device class on the cards in 'scope', days 'from'..'to'. */
enum sc_err sc_store_devices(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                             int64_t to, int64_t out[SC_DEV_COUNT]);

/*
 * The member's own root links on card 'card_id' (no parent: the ones they
 * hand out themselves, one per channel), oldest first.  'l' has id, code,
 * card_id, channel, owner_member_id and created_at.
 */
enum sc_err sc_store_member_links(struct sc_store *s, int64_t card_id, int64_t member_id,
                                  int (*fn)(const struct sc_link *l, void *ctx), void *ctx);

/* ---- customers and retention (issue 14; store/q_customers.c) --------------------------- */

/* A customer as the customer list and the retention report read one. */
struct sc_customer_row {
    int64_t id;
    const char *name, *email, *phone; /* NULL when not given */
    const char *card;                 /* the card's slug */
    struct sc_party level1;           /* who was credited with the sign-up */
    int64_t signed_up_at;
    int64_t member_id;  /* the card's member */
    const char *team;   /* that member's team, "" when none */
    int64_t visitor_id; /* the visitor they signed up as, 0 when none */
};
/* Customers of the cards in 'scope' (NULL: all), by id; 'fn' stops early by returning non-zero. */
enum sc_err sc_store_customers(struct sc_store *s, const struct sc_scope *scope,
                               int (*fn)(const struct sc_customer_row *r, void *ctx), void *ctx);
/* The same, rows 'offset' to 'offset' + 'limit' - 1 of that order only (a page of the list). */
enum sc_err sc_store_customers_window(struct sc_store *s, const struct sc_scope *scope,
                                      int64_t offset, int64_t limit,
                                      int (*fn)(const struct sc_customer_row *r, void *ctx),
                                      void *ctx);
/* How many customers the cards in 'scope' (NULL: all) have, into '*out'. */
enum sc_err sc_store_customers_count(struct sc_store *s, const struct sc_scope *scope,
                                     int64_t *out);

/* One order (a conversion): when it was made (unix seconds) and its amount. */
struct sc_order_row {
    int64_t customer_id, at, amount_cents;
};
/* Orders of the customers of the cards in 'scope' (NULL: all), by customer, then time. */
enum sc_err sc_store_orders(struct sc_store *s, const struct sc_scope *scope,
                            int (*fn)(const struct sc_order_row *r, void *ctx), void *ctx);
/* Each customer's points at 'now': approved sign-up points (pending past their hold
 * included) they earned, by customer id; customers without any are not given. */
enum sc_err sc_store_customer_points(struct sc_store *s, int64_t now,
                                     int (*fn)(int64_t customer_id, int64_t points, void *ctx),
                                     void *ctx);

/* A BG/NBD + Gamma-Gamma fit as kept (the latest only). */
struct sc_clv_fit_row {
    int64_t fitted_at; /* unix seconds */
    int64_t customers; /* in the BG/NBD fit */
    struct sc_clv_bgnbd bg;
    struct sc_clv_gg gg;
    bool has_gg; /* false: too few repeat buyers for Gamma-Gamma (no clv_1y) */
};
/* Keeps 'f' (borrowed) as the latest fit. */
enum sc_err sc_store_clv_fit_save(struct sc_store *s, const struct sc_clv_fit_row *f);
/* The latest fit into 'out'; SC_ENOTFOUND before the first. */
enum sc_err sc_store_clv_fit_latest(struct sc_store *s, struct sc_clv_fit_row *out);
/* ---- a customer's own referral page: who they are, what they earned (issue 14;
 * store/q_loyalty.c) ------------------------------------------------------------------ */

struct sc_customer_balance {
    int64_t points; /* approved sign-up and welcome points (pending past their hold included) */
    int64_t commission_cents; /* approved commissions, likewise */
    int64_t spend_cents;      /* the customer's own orders */
};
/* Customer 'customer_id''s balance at 'now' (all 0 for an unknown id). */
enum sc_err sc_store_customer_balance(struct sc_store *s, int64_t customer_id, int64_t now,
                                      struct sc_customer_balance *out);

/* One ledger row a customer earned, and whose sign-up or purchase earned it. */
struct sc_earned_row {
    int level;        /* 1 or 2: how far up the chain the customer was; 0: their own welcome */
    const char *kind; /* "signup" or "welcome" (points), "commission" (cents), "coupon" */
    int64_t amount;
    const char *status;    /* pending, approved (pending past its hold too), hold, void */
    const char *from_name; /* the referred customer's full name: mask it before showing */
    int64_t created_at;
};
/* Customer 'customer_id''s ledger rows as beneficiary, newest first, at most 'limit';
 * strings are valid only during 'fn', which stops early by returning non-zero. */
enum sc_err sc_store_customer_earned(struct sc_store *s, int64_t customer_id, int64_t now,
                                     int limit, int (*fn)(const struct sc_earned_row *r, void *ctx),
                                     void *ctx);

/* ---- NPS surveys (issue 14, 回访; store/q_nps.c) ------------------------------------- */

#define SC_SURVEY_TOKEN_MAX 64 /* the token of /s/{token}: 32 hex digits as made */

/* A survey as its page needs it. */
struct sc_survey {
    int64_t id, customer_id;
    char card_slug[SC_SLUG_MAX + 1]; /* the customer's card: its language and colour */
    int64_t available_at;            /* unix seconds: the order's time + the delay */
    int64_t answered_at;             /* 0: not answered yet */
    int score;                       /* 0–10; -1 when not answered */
};
/* The survey of token 'token' (borrowed) into '*out'; SC_ENOTFOUND when none. */
enum sc_err sc_store_survey_by_token(struct sc_store *s, const char *token, struct sc_survey *out);
/*
 * Answers survey 'token' with 'score' (0–10, checked by the caller) and 'comment'
 * (borrowed; "" or NULL for none) at 'now', once: SC_ECONFLICT when it was answered
 * already (nothing is changed), SC_ENOTFOUND when there is no such survey.
 */
enum sc_err sc_store_survey_answer(struct sc_store *s, const char *token, int score,
                                   const char *comment, int64_t now);
/* Customer 'customer_id''s latest survey open at 'now' (available, not answered) into
 * 'token'; SC_ENOTFOUND when none. */
enum sc_err sc_store_survey_open(struct sc_store *s, int64_t customer_id, int64_t now,
                                 char token[SC_SURVEY_TOKEN_MAX + 1]);

/* One answer, with its customer and the card's member (strings valid during the callback). */
struct sc_nps_answer_row {
    int64_t survey_id, customer_id;
    const char *customer_name;
    int64_t member_id;
    const char *member_name, *team; /* team "" when none */
    int score;
    const char *comment; /* "" when none */
    int64_t answered_at;
};
/* Answers given in ['from', 'to') (unix seconds) by customers of the cards in 'scope'
 * (NULL: all), of customer 'customer_id' only when not 0, oldest first. */
enum sc_err sc_store_nps_answers(struct sc_store *s, const struct sc_scope *scope,
                                 int64_t customer_id, int64_t from, int64_t to,
                                 int (*fn)(const struct sc_nps_answer_row *r, void *ctx),
                                 void *ctx);

/* ---- birthdays (issue 14; store/q_birthdays.c) ---------------------------------------- */

/* Customers of the cards in 'scope' (NULL: all) who gave a birthday, by id: 'year' 0 when
 * not given, 'month' 1–12, 'day'.  'fn' stops early by returning non-zero. */
enum sc_err sc_store_birthdays(struct sc_store *s, const struct sc_scope *scope,
                               int (*fn)(int64_t customer_id, int year, int month, int day,
                                         void *ctx),
                               void *ctx);

/* ---- operations: backup, export, retention (issue 12) ---------------------------- */

/*
 * A consistent copy of the live store into new file 'dest' (SQLite: the
 * online backup API over one snapshot, while the server keeps writing;
 * written beside and renamed into place when whole).  'progress' (may be
 * NULL) gets pages done and in all after each step.  An existing 'dest' is
 * SC_ECONFLICT; a PostgreSQL store is SC_EINVAL (pg_dump is the tool).
 * 'errmsg' ('errlen' bytes) gets a sentence for a person on failure.
 */
enum sc_err sc_store_backup(struct sc_store *s, const char *dest,
                            void (*progress)(int64_t done, int64_t total, void *ctx), void *ctx,
                            char *errmsg, size_t errlen);

/* What an exported column holds, so that CSV and JSON writers can show it. */
enum sc_xkind {
    SC_X_INT,     /* a number (NULL possible) */
    SC_X_TEXT,    /* text (NULL possible) */
    SC_X_TIME,    /* unix seconds: written as ISO 8601 UTC */
    SC_X_EVTYPE,  /* an enum sc_ev_type: its name */
    SC_X_CHANNEL, /* an enum sc_channel: its name */
    SC_X_PARTY,   /* an enum sc_party_type: "member", "customer" or none */
    SC_X_ROLE,    /* an enum sc_role: its name */
    SC_X_BOT,     /* 0 a person, else the bot's code (sc_bot_name()) */
    SC_X_BOOL,    /* 0 or 1 */
};

#define SC_XCOLS_MAX 16

/* One exported row (or, with 'start', a set's shape before its rows). */
struct sc_xrow {
    const char *set; /* the table or part: "events", "profile", … */
    bool start;      /* no values: the set begins (CSV header, JSON key) */
    bool one;        /* a set of at most one row: an object rather than a list */
    int ncol;
    const char *const *name;        /* column names */
    const unsigned char *kind;      /* enum sc_xkind of each column */
    bool null[SC_XCOLS_MAX];        /* SQL NULL */
    int64_t num[SC_XCOLS_MAX];      /* every kind but SC_X_TEXT */
    const char *text[SC_XCOLS_MAX]; /* SC_X_TEXT; valid until 'fn' returns */
};

/* The tables sharecard export knows, in a fixed order, NULL-terminated (static storage). */
const char *const *sc_store_export_tables(void);
/* The shape of 'table' (no values) into 'out'; SC_ENOTFOUND for an unknown table. */
enum sc_err sc_store_export_columns(const char *table, struct sc_xrow *out);
/*
 * Every row of 'table' whose time (created_at, ts, or a card's updated_at)
 * falls in unix seconds ['from', 'to'), in id order, to 'fn' (a non-zero
 * return stops): first the shape ('start'), then each row.  Read in pages
 * of bounded size, so memory stays constant however large the table; rows
 * written while it runs may or may not be included.  Never exported:
 * password and token hashes, avatars, raw addresses.
 */
enum sc_err sc_store_export(struct sc_store *s, const char *table, int64_t from, int64_t to,
                            int (*fn)(const struct sc_xrow *r, void *ctx), void *ctx);
/*
 * Everything stored about the customer with 'email' or 'phone' (normalised;
 * either may be NULL), set by set, to 'fn': "profile" and "signup" (one row
 * each), their own "links", "visits" (their browser's events), "orders",
 * and the "rewards" they earn; each set's 'start' comes first, even when it
 * has no rows.  SC_ENOTFOUND when no customer matches (erased ones don't).
 */
enum sc_err sc_store_person_export(struct sc_store *s, const char *email, const char *phone,
                                   int (*fn)(const struct sc_xrow *r, void *ctx), void *ctx);

/*
 * Raw-event retention: deletes the events older than unix time 'before'
 * among the next 'batch' events by id after 'after' (0: from the oldest),
 * in one short transaction.  '*next' gets the id to pass as 'after' next
 * time, '*deleted' how many went, '*done' whether the round is over (the
 * batch reached events at or past 'before', or the end).  Rollups,
 * sign-ups, orders and rewards are untouched, so every figure read from
 * them stays as it was.
 */
enum sc_err sc_store_events_prune(struct sc_store *s, int64_t before, int64_t after, int batch,
                                  int64_t *next, int64_t *deleted, bool *done);
/* ---- webhooks: endpoints and the durable outbox of deliveries (issue 12) ---------------- */

/* The event types a webhook may subscribe to, comma-separated (the default: all of them). */
#define SC_WEBHOOK_EVENTS_ALL    "signup.created,conversion.created,reward.approved,lead.hot"
#define SC_WEBHOOK_ENDPOINTS_MAX 100 /* live endpoints, at most */

struct sc_webhook_row {
    int64_t id;
    const char *url;
    const char *secret; /* "whsec_..." */
    const char *events; /* comma-separated types */
    int64_t created_at;
};

/*
 * Adds an endpoint ('url' checked by the caller, 'secret' made by
 * sc_webhook_secret_new(), 'events' a comma-separated list of known types),
 * all borrowed; '*id' gets its id.  SC_ETOOBIG past SC_WEBHOOK_ENDPOINTS_MAX.
 */
enum sc_err sc_store_webhook_add(struct sc_store *s, const char *url, const char *secret,
                                 const char *events, int64_t now, int64_t *id);
/* The live endpoints, oldest first. */
enum sc_err sc_store_webhook_list(struct sc_store *s,
                                  int (*fn)(const struct sc_webhook_row *r, void *ctx), void *ctx);
/* Removes endpoint 'id' (kept, disabled, for the log) and cancels its pending deliveries. */
enum sc_err sc_store_webhook_remove(struct sc_store *s, int64_t id, int64_t now);

/*
 * Writes event 'type' (happened at 'event_ts'; its 'data_json' valid JSON,
 * borrowed) to the outbox in its own transaction: one delivery per live
 * endpoint subscribed to 'type', each with its own "msg_..." id, due now.
 * The writes of sign-ups, purchases and reward decisions do the same inside
 * their own transactions; this one is for facts stored elsewhere (lead.hot).
 */
enum sc_err sc_store_outbox_add(struct sc_store *s, const char *type, int64_t event_ts,
                                const char *data_json);

/* A delivery of the outbox, with its endpoint. */
struct sc_outbox_row {
    int64_t id;
    const char *msg_id; /* the webhook-id, the same on every attempt */
    int64_t webhook_id;
    const char *url, *secret; /* the endpoint's */
    const char *type;
    const char *data; /* the event's JSON */
    int64_t event_ts;
    int64_t created_at;
    int attempts;       /* made so far */
    int64_t next_at;    /* when the next is due (pending) */
    const char *status; /* pending, delivered, failed, cancelled */
    int64_t last_at;    /* when the last attempt ended; 0: none yet */
    int64_t last_status;
    int64_t last_latency_ms;
    const char *last_error, *last_excerpt;
    const char *kind; /* the endpoint's: "webhook", or a notification target's (issue 18) */
};

/*
 * Claims up to 'limit' due deliveries (pending, next_at <= 'now', not
 * claimed by anyone until after 'now', their endpoint live) for 'token'
 * (unique per claim) until 'until', and hands each to 'fn' after the claim
 * committed.  On PostgreSQL rows another instance holds are skipped (FOR
 * UPDATE SKIP LOCKED), so several instances deliver each row once, and the
 * lease ('until' - 'now' long) runs on the database's clock, so a jump of
 * this host's clock neither ends it early nor stretches it.
 */
enum sc_err sc_store_outbox_claim(struct sc_store *s, const char *token, int64_t now, int64_t until,
                                  int limit, int (*fn)(const struct sc_outbox_row *r, void *ctx),
                                  void *ctx);

/* The outcome of one attempt of delivery 'id' claimed by 'token'. */
struct sc_outbox_result {
    const char *status; /* "delivered", "pending" (again at 'next_at') or "failed" */
    int64_t next_at;
    int64_t at; /* when the attempt ended */
    int64_t http_status, latency_ms;
    const char *error, *excerpt; /* valid UTF-8, borrowed */
};
/*
 * Records an attempt (attempts + 1) and releases the claim; nothing when the
 * claim is no longer 'token''s (its lease ran out and another took it):
 * SC_ENOTFOUND then.
 */
enum sc_err sc_store_outbox_attempt(struct sc_store *s, int64_t id, const char *token,
                                    const struct sc_outbox_result *res);
/* Gives the claim back without an attempt (the sender stopped first). */
enum sc_err sc_store_outbox_release(struct sc_store *s, int64_t id, const char *token);
/* The newest 'limit' deliveries, newest first (the delivery log). */
enum sc_err sc_store_outbox_list(struct sc_store *s, int limit,
                                 int (*fn)(const struct sc_outbox_row *r, void *ctx), void *ctx);
/*
 * "Send again": delivery 'id' becomes pending, due at 'now', its attempts
 * counted afresh (same webhook-id).  SC_ENOTFOUND for no such delivery or a
 * removed endpoint, SC_ECONFLICT while an attempt is running.
 */
enum sc_err sc_store_outbox_resend(struct sc_store *s, int64_t id, int64_t now);
/* How many deliveries are pending, delivered, failed (for /metrics). */
enum sc_err sc_store_outbox_counts(struct sc_store *s, int64_t *pending, int64_t *delivered,
                                   int64_t *failed);
/* ---- upkeep of rewards and the outbox (issue 12; store/q_upkeep.c) -------------------- */

/*
 * Makes up to 'batch' (1..256) pending rewards whose hold ended by 'now'
 * approved for good (decided at the end of their hold), each with its
 * reward.approved delivery in the same transaction; only rows still pending
 * change, so each reward is announced once.  '*approved' gets how many.
 */
enum sc_err sc_store_rewards_approve_due(struct sc_store *s, int64_t now, int batch,
                                         int64_t *approved);
/*
 * Deletes up to 'batch' finished deliveries (delivered, failed, cancelled)
 * created before unix time 'before'; pending ones stay whatever their age.
 * '*deleted' gets how many, '*done' whether fewer than 'batch' were left.
 */
enum sc_err sc_store_outbox_prune(struct sc_store *s, int64_t before, int batch, int64_t *deleted,
                                  bool *done);

/* ---- statements by name (store/q_upkeep.c), for tests that read their plans ------------- */
/*
 * The text of statement 'name' exactly as s's backend prepares it (placeholders
 * ?1.. on SQLite, $1.. on PostgreSQL) into 'out' (reset first; borrowed);
 * SC_ENOTFOUND for a name not listed.  Names: "outbox_prune" (sc_store_outbox_prune;
 * ?1 before, ?2 batch).  `sharecard debug sql NAME` prints it.
 */
struct sc_buf;
enum sc_err sc_store_sql_text(struct sc_store *s, const char *name, struct sc_buf *out);

/* ---- notifications (issue 18; store/q_notify.c) ------------------------------------------ */

/* The alert kinds a member may switch (all on until they change them), comma-separated. */
#define SC_NOTIFY_EVENTS_ALL  "hot,signup,reminder,quiet,digest"
#define SC_NOTIFY_TARGETS_MAX 10 /* live targets per member */
#define SC_NOTIFY_DIGEST_HOUR 8  /* the digest's hour (SHARECARD_TZ) until a member picks one */

/* A member's target: a webhooks row of kind wecom, dingtalk, feishu, slack or email. */
struct sc_notify_target_row {
    int64_t id, member_id;
    const char *kind;
    const char *url;    /* the robot's webhook URL; for e-mail "mailto:ADDRESS" */
    const char *secret; /* DingTalk's or Feishu's signing secret; "" when none */
    int64_t created_at;
    bool team; /* a manager's target for their whole team (an admin's: everyone) */
};
/* Adds a target (all borrowed; checked by the caller, 'team' only for a manager or admin);
 * SC_ETOOBIG past SC_NOTIFY_TARGETS_MAX. */
enum sc_err sc_store_notify_target_add(struct sc_store *s, int64_t member_id, const char *kind,
                                       const char *url, const char *secret, bool team, int64_t now,
                                       int64_t *id);
/* Member 'member_id''s live targets, oldest first. */
enum sc_err sc_store_notify_target_list(struct sc_store *s, int64_t member_id,
                                        int (*fn)(const struct sc_notify_target_row *t, void *ctx),
                                        void *ctx);
/* Removes target 'id' of member 'member_id' and cancels its pending alerts; SC_ENOTFOUND. */
enum sc_err sc_store_notify_target_remove(struct sc_store *s, int64_t member_id, int64_t id,
                                          int64_t now);
/* What the dispatcher needs of target 'id' when it sends; SC_ENOTFOUND. */
struct sc_notify_target_info {
    int64_t member_id;
    int lang;                 /* enum sc_lang of the member's card */
    int quiet_from, quiet_to; /* minutes of the day in SHARECARD_TZ; equal: no quiet hours */
};
enum sc_err sc_store_notify_target_info(struct sc_store *s, int64_t id,
                                        struct sc_notify_target_info *out);

/* A member's switches, quiet hours and digest hour. */
struct sc_notify_prefs {
    char events[128];         /* the kinds on, comma-separated (of SC_NOTIFY_EVENTS_ALL) */
    int quiet_from, quiet_to; /* minutes of the day; equal: none */
    int digest_hour;          /* 0..23, -1: no digest */
};
/* The member's preferences, or the defaults (all on, no quiet hours) when never set. */
enum sc_err sc_store_notify_prefs_get(struct sc_store *s, int64_t member_id,
                                      struct sc_notify_prefs *out);
enum sc_err sc_store_notify_prefs_set(struct sc_store *s, int64_t member_id,
                                      const struct sc_notify_prefs *p);
/*
 * Queues alert 'type' ("notify.hot", "notify.test", ...; 'data_json' valid
 * JSON, borrowed) for every live target of member 'member_id', and every team
 * target of their team's managers and of admins (with "member": the member's
 * name added to the data), whose owner has that kind switched on, or only for target 'only' (> 0;
 * switches not asked: a test message), in one transaction.
 */
enum sc_err sc_store_notify_add(struct sc_store *s, int64_t member_id, int64_t only,
                                const char *type, int64_t event_ts, const char *data_json);
/*
 * Queues a "notify.reminder" for each follow-up reminder fallen due by 'now'
 * (within the last day, not done, not yet sent) and marks it sent, in one
 * transaction: each reminder goes out once.  '*queued' gets how many.
 */
enum sc_err sc_store_notify_reminders(struct sc_store *s, int64_t now, int64_t *queued);
/* The daily digest: who has targets, their digest hour and the local day it last went out. */
#define SC_NOTIFY_DIGEST_HOUR_S "8" /* SC_NOTIFY_DIGEST_HOUR, for SQL text */
struct sc_notify_digest_due {
    int64_t member_id;
    int hour;             /* -1: no digest */
    const char *last_day; /* "YYYY-MM-DD" (SHARECARD_TZ), "" when never */
};
enum sc_err sc_store_notify_digest_members(
    struct sc_store *s, int (*fn)(const struct sc_notify_digest_due *d, void *ctx), void *ctx);
/* A member's day in figures: their card's scans (and opens), views and visitors on UTC day
 * 'day' (rollups), and new leads among those visitors (no earlier event on the card), sign-ups
 * credited to them (level 1 or 2) and rewards in [from, to), and the top 3 leads that turned hot
 * on their card in the week up to 'to'. */
struct sc_notify_digest {
    char card[40];
    int64_t scans, views, visitors, signups, rewards;
    int64_t leads; /* new leads: the day's visitors with no earlier event on the card */
    int64_t hot[3];
    int hot_score[3];
    int n_hot;
};
enum sc_err sc_store_notify_digest_figures(struct sc_store *s, int64_t member_id, int64_t from,
                                           int64_t to, int64_t day, struct sc_notify_digest *out);
/*
 * The member's daily pass, once per local day 'day' (marked in the same transaction, so of
 * several instances one does it): queues "notify.digest" with 'digest_json' (NULL: none) and a
 * "notify.quiet" for each level-1 customer whose last sign-up or order fell in
 * [quiet_from, quiet_to) (gone quiet today).  '*queued': whether this call did the day.
 */
enum sc_err sc_store_notify_daily(struct sc_store *s, int64_t member_id, const char *day,
                                  int64_t now, const char *digest_json, int64_t quiet_from,
                                  int64_t quiet_to, bool *queued);
/* Puts claimed delivery 'id' back, due at 'next_at', without counting an attempt (quiet hours,
 * a robot's rate limit). */
enum sc_err sc_store_outbox_defer(struct sc_store *s, int64_t id, const char *token,
                                  int64_t next_at);

/* ---- lead intelligence (issue 13; store/q_leads_intel.c) --------------------------- */

/* One human event of a lead (a visitor on a card), as the intent model reads it. */
struct sc_lead_event_row {
    int64_t visitor_id, card_id, member_id; /* the lead, and the card's owner */
    const char *card;                       /* the card's slug */
    int64_t ts;
    enum sc_ev_type type;
    int64_t value; /* a click's enum sc_click_action, a dwell's seconds */
    int channel;   /* enum sc_channel of the link it came through; -1: none */
    bool qr;       /* came through a QR-channel link */
    bool brought;  /* not the lead's own: a scan or open through a link the lead shared */
};
/*
 * The events of every lead on the cards in 'scope' seen since unix time
 * 'since' (0: all leads), grouped by lead (visitor_id, then card_id), each
 * lead's in time order, with the visits their shares brought.
 */
enum sc_err sc_store_lead_events(struct sc_store *s, const struct sc_scope *scope, int64_t since,
                                 int (*fn)(const struct sc_lead_event_row *r, void *ctx),
                                 void *ctx);

/* The card (the newest) on which visitor 'visitor_id' is a lead in 'scope'; SC_ENOTFOUND. */
enum sc_err sc_store_lead_card(struct sc_store *s, const struct sc_scope *scope, int64_t visitor_id,
                               int64_t *card_id);

/* A signed-up lead's contact details (NULL when not given). */
struct sc_lead_contact_row {
    int64_t visitor_id, card_id; /* the customer, and the card they signed up through */
    const char *name, *email, *phone;
};
/* The customers who signed up on the cards in 'scope', by visitor, then card. */
enum sc_err sc_store_lead_contacts(struct sc_store *s, const struct sc_scope *scope,
                                   int (*fn)(const struct sc_lead_contact_row *r, void *ctx),
                                   void *ctx);

/* The active intent model; 'json' is borrowed from the store in callbacks, owned in _put. */
struct sc_model_row {
    int64_t version, trained_at;
    int64_t auc_ppm, baseline_ppm; /* AUCs in millionths; -1 when not measured */
    int64_t n_examples, n_positive;
    char *json; /* sc_score_model_to_json's text */
};
/* The newest stored model into 'out' ('out->json' new, free()); SC_ENOTFOUND when none. */
enum sc_err sc_store_model_get(struct sc_store *s, struct sc_model_row *out);
/* Stores 'm' (borrowed) as the active model. */
enum sc_err sc_store_model_put(struct sc_store *s, const struct sc_model_row *m);

/* Outcomes of a logged follow-up (stored as numbers). */
enum sc_followup_outcome {
    SC_FU_REACHED = 0,
    SC_FU_NO_ANSWER,
    SC_FU_NOT_INTERESTED,
    SC_FU_CONVERTED,
    SC_FU_COUNT
};
struct sc_followup_row {
    int64_t id, visitor_id, card_id, member_id;
    const char *member;  /* who logged it (name) */
    int channel;         /* enum sc_contact */
    int outcome;         /* enum sc_followup_outcome */
    const char *note;    /* "" when none */
    int64_t reminder_at; /* 0: none */
    bool done;
    int64_t created_at;
};
/* Logs a follow-up ('r' borrowed; its id and created_at are ignored); '*id' (may be NULL). */
enum sc_err sc_store_followup_add(struct sc_store *s, const struct sc_followup_row *r, int64_t now,
                                  int64_t *id);
/* The follow-ups of lead 'visitor_id' on the cards in 'scope', newest first. */
enum sc_err sc_store_followups(struct sc_store *s, const struct sc_scope *scope, int64_t visitor_id,
                               int (*fn)(const struct sc_followup_row *r, void *ctx), void *ctx);
/* Member 'member_id''s reminders not done and due by 'until', soonest first. */
enum sc_err sc_store_reminders_due(struct sc_store *s, int64_t member_id, int64_t until,
                                   int (*fn)(const struct sc_followup_row *r, void *ctx),
                                   void *ctx);
/*
 * Marks the reminder of follow-up 'id' of lead 'visitor_id' done, on the cards in 'scope'
 * (again: no change); a done reminder leaves /me, the live feed and the alerts.
 * SC_ENOTFOUND when there is no such follow-up with a reminder there.
 */
enum sc_err sc_store_followup_done(struct sc_store *s, const struct sc_scope *scope,
                                   int64_t visitor_id, int64_t id);
/*
 * Logged follow-ups per member and channel on the cards in 'scope': attempts,
 * and those that reached the lead or converted.
 */
enum sc_err sc_store_followup_counts(struct sc_store *s, const struct sc_scope *scope,
                                     int (*fn)(int64_t member_id, int channel, int64_t attempts,
                                               int64_t successes, void *ctx),
                                     void *ctx);
/* Logged follow-ups of one lead on one channel: attempts, and those that reached or converted. */
struct sc_followup_count_row {
    int64_t visitor_id, card_id;
    int channel; /* enum sc_contact */
    int64_t attempts, successes;
};
/* Per lead and channel on the cards in 'scope', ordered by visitor_id, card_id, channel. */
enum sc_err sc_store_followup_lead_counts(struct sc_store *s, const struct sc_scope *scope,
                                          int (*fn)(const struct sc_followup_count_row *r,
                                                    void *ctx),
                                          void *ctx);
/*
 * Records lead (visitor_id, card_id)'s score at 'now' when its hotness
 * changed since the last record (or there is none and it is hot); '*crossed'
 * is true when this call recorded a crossing into hot.
 */
enum sc_err sc_store_lead_hot_mark(struct sc_store *s, int64_t visitor_id, int64_t card_id,
                                   int score, bool hot, const char *reason, int64_t now,
                                   bool *crossed);

/* ---- lead intelligence in the live feed (issue 13; store/q_live_leads.c) ---------- */

/* A lead's crossing into hot, for the live feed. */
struct sc_live_hot_row {
    int64_t id, visitor_id;
    const char *card, *owner; /* the card's slug and its owner's name */
    const char *customer;     /* the lead's name once signed up on the card, else NULL */
    int score;
    const char *reason; /* its top reason as "code:value" (enum sc_reason_code), or NULL */
    int64_t ts;
};
/* The newest crossing's id (0 with none): where a new stream starts. */
enum sc_err sc_store_live_hot_newest(struct sc_store *s, int64_t *id);
/* Crossings into hot with id > 'after' on the cards in 'scope', oldest first, at most 'limit'. */
enum sc_err sc_store_live_hot(struct sc_store *s, const struct sc_scope *scope, int64_t after,
                              int limit, int (*fn)(const struct sc_live_hot_row *r, void *ctx),
                              void *ctx);
/* A follow-up reminder falling due, for the live feed. */
struct sc_live_reminder_row {
    int64_t id, visitor_id;
    const char *card, *owner, *customer; /* as in sc_live_hot_row */
    int channel;                         /* enum sc_contact */
    const char *note;                    /* "" when none */
    int64_t reminder_at;
    int64_t due; /* the later of reminder_at and when it was logged */
};
/* Open reminders on the cards in 'scope' falling due in ('after', 'until'], soonest first. */
enum sc_err sc_store_live_reminders(struct sc_store *s, const struct sc_scope *scope, int64_t after,
                                    int64_t until,
                                    int (*fn)(const struct sc_live_reminder_row *r, void *ctx),
                                    void *ctx);
/*
 * Live feed, reminders due before it opened (issue 13): the 'limit' open
 * reminders most recently due with reminder_at in ('since', 'until'], on
 * the cards in 'scope', not followed up since (no later follow-up logged on
 * the lead), handed over in time order.
 */
enum sc_err sc_store_live_reminders_open(struct sc_store *s, const struct sc_scope *scope,
                                         int64_t since, int64_t until, int limit,
                                         int (*fn)(const struct sc_live_reminder_row *r, void *ctx),
                                         void *ctx);

/* ---- what visitors and managers meet (issue 17, q_ux.c) ---- */

/*
 * The code of the own referral link of the customer who signed up as visitor
 * 'visitor_id' with e-mail 'email' or phone 'phone' (normalised; either may
 * be NULL or ""): a repeat sign-up's way back, for that browser only.
 * SC_ENOTFOUND when this visitor is not that customer.
 */
enum sc_err sc_store_own_link_of_visitor(struct sc_store *s, int64_t visitor_id, const char *email,
                                         const char *phone, char code[SC_CODE_LEN + 1]);
/* Member 'member_id''s reward points and commission cents, approved and pending, all time. */
enum sc_err sc_store_member_earnings(struct sc_store *s, int64_t member_id, int64_t *points,
                                     int64_t *cents);

/* ---- the demo's dates (issue 17, q_demo.c) ---- */

/* Dates every member and link written at or after 'since' (unix seconds) at 'at': the demo
 * writes its members now and their history from months before.  Demo stores only. */
enum sc_err sc_store_demo_backdate(struct sc_store *s, int64_t since, int64_t at);

/* ---- the hot-lead watch, bounded (issue 15, q_lead_watch.c) ---- */

/* Each lead (visitor_id, card_id) whose last lead_hot record says hot, ordered by both; 'fn'
 * returns non-zero to stop. */
enum sc_err sc_store_leads_hot_now(struct sc_store *s,
                                   int (*fn)(int64_t visitor_id, int64_t card_id, void *ctx),
                                   void *ctx);
/* The newest event's id (0: none yet). */
enum sc_err sc_store_events_newest(struct sc_store *s, int64_t *id);
/*
 * As sc_store_lead_events(), on every card, for the leads with a human
 * event whose id is in (after_id, upto_id]: what they did since the watch
 * last looked.  (With several PostgreSQL instances an event that commits
 * after a higher id was read is seen with its lead's next event.)
 */
enum sc_err sc_store_lead_events_touched(struct sc_store *s, int64_t after_id, int64_t upto_id,
                                         int (*fn)(const struct sc_lead_event_row *r, void *ctx),
                                         void *ctx);
/* The times of people's visits (scans, opens, views) with an id in (after_id, upto_id] and a
 * time since 'since'. */
enum sc_err sc_store_visit_times(struct sc_store *s, int64_t after_id, int64_t upto_id,
                                 int64_t since, int (*fn)(int64_t ts, void *ctx), void *ctx);

#endif
