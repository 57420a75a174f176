/*
 * store_int.h — private to store/: the function table every backend fills,
 * the base struct it embeds first, and the query files' shared helpers.
 * Callers never know which backend they have.
 */
#ifndef SHARECARD_STORE_INT_H
#define SHARECARD_STORE_INT_H

#include "sharecard/store.h"
#include "sql.h"

/*
 * What is truly per backend: connections and migrations, the batched
 * hot-path event writes, and the few places where the two databases
 * genuinely differ (how a visitor's id text is filed, and what erasing a
 * visitor's key involves).  Everything else
 * is written once over the statement layer (sql.h) in the q_*.c files.
 */
struct sc_store_ops {
    const char *name; /* "sqlite", "postgres" */
    enum sc_dialect dialect;
    void (*close)(struct sc_store *s);
    int (*schema_version)(struct sc_store *s);
    /* Connections (see sql.h). */
    struct sc_db *(*db_read)(struct sc_store *s, enum sc_err *e);
    void (*db_read_end)(struct sc_store *s, struct sc_db *db);
    struct sc_db *(*db_write)(struct sc_store *s, bool tx, enum sc_err *e);
    enum sc_err (*db_write_end)(struct sc_store *s, struct sc_db *db, enum sc_err e);
    /* The hot path: batched, and written for each database's strengths. */
    enum sc_err (*events_write)(struct sc_store *s, struct sc_event_row *rows, size_t n);
    /* Visitors: SQLite files them under a 16-byte key, PostgreSQL by their id text. */
    enum sc_err (*link_create)(struct sc_store *s, struct sc_link *l);
    enum sc_err (*visitor_reached)(struct sc_store *s, const char *vid, int64_t card_id,
                                   int64_t link_id, bool *out);
    enum sc_err (*visitor_id)(struct sc_store *s, const char *vid, int64_t *out);
    /* Inside an erasure's transaction: visitor 'visitor_id''s key is cut from their browser. */
    enum sc_err (*visitor_forget)(struct sc_db *db, int64_t visitor_id);
    /* Appended 2026-11-30: management and more reports. */
    /*
     * Operations (issue 12): a consistent copy of the live store into file
     * 'dest'.  An entry here, not shared SQL, because the means differ
     * entirely: SQLite copies pages with its online backup API, while a
     * PostgreSQL store is backed up with pg_dump (its entry says so).
     */
    enum sc_err (*backup)(struct sc_store *s, const char *dest,
                          void (*progress)(int64_t done, int64_t total, void *ctx), void *ctx,
                          char *errmsg, size_t errlen);
};

struct sc_store {
    const struct sc_store_ops *ops;
    struct sc_rcache *rcache; /* owned: the compacted days' figures (q_cache.c); NULL: none */
};

/* ---- running a statement from shared code (store.c) ------------------------------- */

/* One statement in use: its connection, and the first error met. */
struct sc_q {
    struct sc_store *s;
    struct sc_db *db;
    struct sc_stmt *st; /* the statement last prepared with sc_q_prepare() */
    bool write;         /* 'db' is the writer */
    enum sc_err e;
};

/* Takes this thread's reader and prepares 'q' on it; false (nothing held, 'r->e' set) if not. */
bool sc_q_read(struct sc_q *r, struct sc_store *s, struct sc_sql *q);
/* Takes the writer, in a transaction when 'tx'; false ('r->e' set, nothing held) if not. */
bool sc_q_write(struct sc_q *r, struct sc_store *s, bool tx);
/* Prepares 'q' on r's connection into r->st; false (and 'r->e') if it cannot be. */
bool sc_q_prepare(struct sc_q *r, struct sc_sql *q);
/* Steps r->st: true with a row ready; false at the end or on an error (then in 'r->e'). */
bool sc_q_next(struct sc_q *r);
/* Runs r->st (bound) to its end; SC_ENOTFOUND in 'r->e' when 'need_row' and it touched none. */
bool sc_q_exec(struct sc_q *r, bool need_row);
/* Gives the connection back (a writer's transaction commits unless 'r->e'); returns 'r->e'. */
enum sc_err sc_q_end(struct sc_q *r);

/*
 * Inside 'db''s write: a new tracked link of card 'card_id' with a fresh
 * random code (into 'code'), owned by a member, a customer or a visitor
 * (ids, 0 when not), under link 'parent' (0: a root), made at unix time 'at'
 * (0: now; a customer's own link: when they signed up).  '*link_id' (may be
 * NULL) gets its id.  (q_accounts.c)
 */
enum sc_err sc_q_link_insert(struct sc_db *db, int64_t card_id, enum sc_channel ch,
                             int64_t member_id, int64_t customer_id, int64_t visitor_id,
                             int64_t parent, int64_t at, char code[SC_CODE_LEN + 1],
                             int64_t *link_id);

/*
 * The referral writes inside the event writer's transaction on 'db'
 * (q_referral.c), for both backends' events_write:
 * sc_q_signup_write stores the sign-up of 'row' by visitor 'vid' (0: none):
 * a repeat person sets row->result to SC_ECONFLICT and writes nothing;
 * otherwise the customer, their own link and the ledger rows, with the
 * decision in row->ev->signup; '*touch_link' gets the winning touch's link.
 * sc_q_conversion_write stores the purchase of 'row', idempotent on its
 * order id (a replay sets 'replayed' and writes nothing), commissions to
 * the customer's chain; '*card_id' gets the customer's card, '*day' the
 * day the order was made (its ordered_at, else the event's time; the
 * purchase's rollup is keyed by it so the chart and the revenue agree),
 * '*skip' is set when no event is due.
 */
enum sc_err sc_q_signup_write(struct sc_db *db, struct sc_event_row *row, int64_t vid,
                              int64_t *touch_link);
enum sc_err sc_q_conversion_write(struct sc_db *db, struct sc_event_row *row, int64_t *card_id,
                                  int64_t *day, bool *skip);
/*
 * Exact distinct visitors (q_uniques.c) of the cards chosen by 'scope'
 * (NULL: all) and 'card' (0: all of the scope) over days 'from'..'to':
 * '*total' and, when 'dev' is not NULL, per device class.
 */
enum sc_err sc_q_uniques(struct sc_store *s, const struct sc_scope *scope, int64_t card,
                         int64_t from, int64_t to, int64_t *total, int64_t dev[SC_DEV_COUNT]);
/*
 * Inside the event writer's transaction on 'db': unique rows were added for
 * day 'day' (the batch's earliest); if that day is compacted or being
 * compacted, it is read from rows again (q_uniques.c).  Both backends' hot
 * paths call it when a batch adds unique rows.
 */
enum sc_err sc_q_uniques_reopen(struct sc_db *db, int64_t day);
/* The same per card of 'scope': card ids sorted, and their counts ('*n' each; new, free()). */
enum sc_err sc_q_uniques_by_card(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                                 int64_t to, int64_t **ids, int64_t **counts, size_t *n);

/*
 * Coupons inside the writer's transaction (q_coupons.c).  sc_q_coupon_issue
 * gives customer 'customer_id' a fresh code on 'rule''s terms, tied to
 * ledger row 'reward_id'.  sc_q_coupon_check reads cv->coupon under lock
 * for an order of 'customer_id' at 'now': usable → '*coupon_id' and
 * cv->coupon_off; otherwise cv->coupon_status and cv->coupon_why (nothing
 * written).  sc_q_coupon_redeem marks it used by the order.
 */
enum sc_err sc_q_coupon_issue(struct sc_db *db, int64_t customer_id, int64_t reward_id,
                              const struct sc_reward_rule *rule, int64_t now);
enum sc_err sc_q_coupon_check(struct sc_db *db, struct sc_conversion *cv, int64_t customer_id,
                              int64_t now, int64_t *coupon_id);
enum sc_err sc_q_coupon_redeem(struct sc_db *db, int64_t coupon_id, int64_t conversion_id,
                               const char *order_id, int64_t now);

/*
 * The reward rules' versions (q_rules.c), inside the writer's transaction:
 * sc_q_rules_of_version parses stored version 'version' over 'cfg' (and
 * sets cfg->rule_version; a version that no longer parses keeps 'cfg');
 * sc_q_rewarded_this_month counts party 'p''s rewarded level-1 sign-ups in
 * the month of 'now' in the zone of 'tz_min' (sc_month_of(); NULL: UTC).
 */
enum sc_err sc_q_rules_of_version(struct sc_db *db, int64_t version,
                                  struct sc_referral_config *cfg);
enum sc_err sc_q_rewarded_this_month(struct sc_db *db, const struct sc_party *p, int64_t now,
                                     int32_t (*tz_min)(int64_t at), int64_t *out);

/*
 * Inside the writer's transaction on 'db' (q_nps.c): the NPS survey of order
 * 'conversion_id' of customer 'customer_id', made at 'order_at' and open
 * cv->survey_delay_s later, its link under cv->survey_base.
 */
enum sc_err sc_q_survey_create(struct sc_db *db, int64_t customer_id, int64_t conversion_id,
                               int64_t order_at, const struct sc_conversion *cv);

/* Inside the sign-up's write on 'db' (q_birthdays.c): the birthday 'su' gives, if any. */
enum sc_err sc_q_birthday_set(struct sc_db *db, int64_t customer_id, const struct sc_signup *su);
/* Inside an erasure's write on 'db' (q_birthdays.c): customer 'id''s birthday and survey
 * comments are forgotten. */
enum sc_err sc_q_customer_erase_extra(struct sc_db *db, int64_t id);

/*
 * Issue 15, the dashboards in milliseconds (q_cache.c): a figure over
 * compacted days, filed under what it is ('kind', the reader's own number),
 * its scope, its first and last day and the compaction generation, valid
 * while those match.  sc_rcache_use() hands a hit to 'use' under the lock
 * and returns true; sc_rcache_put() takes 'val' (freed by 'drop').  A NULL
 * cache holds nothing.
 */
struct sc_rcache;
struct sc_rcache_key {
    int kind;
    int64_t from, to, gen;
    int64_t member;   /* the scope: a member (0: any) … */
    const char *team; /* … and a team (NULL: any); the cache keeps its own copy */
};
struct sc_rcache *sc_rcache_new(void);
void sc_rcache_free(struct sc_rcache *c);
bool sc_rcache_use(struct sc_rcache *c, const struct sc_rcache_key *k,
                   void (*use)(const void *val, void *ctx), void *ctx);
void sc_rcache_put(struct sc_rcache *c, const struct sc_rcache_key *k, void *val,
                   void (*drop)(void *val));
/* The first day not yet compacted (0: none is) and the generation, on r's connection. */
enum sc_err sc_q_compacted(struct sc_q *r, int64_t *first_open, int64_t *gen);

/* The first customer whose visitor is 'visitor_id' into '*out' (0: none). */
enum sc_err sc_q_customer_of_visitor(struct sc_db *db, int64_t visitor_id, int64_t *out);

/*
 * Webhooks (q_webhooks.c), inside a write on 'db': event 'type' at
 * 'event_ts' into the outbox, one delivery per live endpoint subscribed to
 * it.  sc_q_outbox_add takes the event's JSON ('data_json', borrowed); the
 * others build it from the stored rows (the sign-up as /api/v1/signups
 * shows it, the purchase, the ledger row) and write nothing, cheaply, when
 * no endpoint wants the type.
 */
enum sc_err sc_q_outbox_add(struct sc_db *db, const char *type, int64_t event_ts,
                            const char *data_json);
enum sc_err sc_q_outbox_signup(struct sc_db *db, int64_t customer_id);
enum sc_err sc_q_outbox_conversion(struct sc_db *db, int64_t conversion_id);
enum sc_err sc_q_outbox_reward(struct sc_db *db, int64_t reward_id);
/* One outbox row of 'type' for endpoint 'webhook_id', due now (notifications, issue 18). */
enum sc_err sc_q_outbox_to(struct sc_db *db, int64_t webhook_id, const char *type, int64_t event_ts,
                           const char *data_json);
/*
 * Inside r's write, once endpoint 'webhook_id' (a webhook or a notification
 * target) is disabled: its pending deliveries become 'cancelled'.  Both
 * removals call this, so a removed endpoint is never sent to, whatever its
 * kind; false (and 'r->e') on an error or when r has already failed.
 */
bool sc_q_outbox_cancel(struct sc_q *r, int64_t webhook_id);
/* Inside the sign-up's write: the alerts of the members credited at levels 1 and 2. */
enum sc_err sc_q_notify_signup(struct sc_db *db, int64_t customer_id);

/* The SQLite backend (sqlite_conn.c). */
enum sc_err sc_sqlite_open(const char *path, struct sc_store **out, char *errmsg, size_t errlen);

/* SQLite schema migrations (sqlite_schema.c): SQL scripts, index i takes version i to i+1. */
extern const char *const sc_sqlite_migrations[];
extern const int sc_sqlite_nmigrations;

/* The PostgreSQL backend (pg_conn.c), for "postgres://…" and "postgresql://…" URLs. */
enum sc_err sc_pg_open(const char *url, struct sc_store **out, char *errmsg, size_t errlen);

/* PostgreSQL schema migrations (pg_schema.c), in step with SQLite's: the same count. */
extern const char *const sc_pg_migrations[];
extern const int sc_pg_nmigrations;

#endif
