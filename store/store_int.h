/*
 * store_int.h — private to store/: the function table every backend fills,
 * and the base struct it embeds first.  store.c's public functions only
 * call through the table, so callers never know which backend they have.
 */
#ifndef SHARECARD_STORE_INT_H
#define SHARECARD_STORE_INT_H

#include "sharecard/store.h"

struct sc_store_ops {
    const char *name; /* "sqlite", "postgres" */
    void (*close)(struct sc_store *s);
    int (*schema_version)(struct sc_store *s);
    enum sc_err (*ping)(struct sc_store *s);
    enum sc_err (*member_add)(struct sc_store *s, const struct sc_member *m,
                              const char *password_hash, const struct sc_card *profile,
                              struct sc_member *out);
    enum sc_err (*member_list)(struct sc_store *s, int (*fn)(const struct sc_member *m, void *ctx),
                               void *ctx);
    enum sc_err (*member_by_email)(struct sc_store *s, const char *email, struct sc_member *out);
    enum sc_err (*member_by_id)(struct sc_store *s, int64_t id, struct sc_member *out);
    enum sc_err (*member_count)(struct sc_store *s, int64_t *out);
    enum sc_err (*card_by_slug)(struct sc_store *s, const char *slug, struct sc_card *out);
    enum sc_err (*card_update)(struct sc_store *s, const struct sc_card *c);
    enum sc_err (*link_by_code)(struct sc_store *s, const char *code, struct sc_link *out);
    enum sc_err (*token_add)(struct sc_store *s, int64_t member_id, const char *token_hash,
                             const char *label);
    enum sc_err (*token_member)(struct sc_store *s, const char *token_hash, struct sc_member *out);
    enum sc_err (*secret)(struct sc_store *s, const char *name, char out[65]);
    enum sc_err (*events_write)(struct sc_store *s, struct sc_event_row *rows, size_t n);
    enum sc_err (*link_create)(struct sc_store *s, struct sc_link *l);
    enum sc_err (*visitor_reached)(struct sc_store *s, const char *vid, int64_t card_id,
                                   int64_t link_id, bool *out);
    enum sc_err (*card_stats)(struct sc_store *s, int64_t card_id, int64_t day_from, int64_t day_to,
                              struct sc_stats *out);
    enum sc_err (*visitor_id)(struct sc_store *s, const char *vid, int64_t *out);
    enum sc_err (*signups_list)(struct sc_store *s, const struct sc_scope *scope,
                                int (*fn)(const struct sc_signup_row *r, void *ctx), void *ctx);
    enum sc_err (*rewards_list)(struct sc_store *s, const struct sc_scope *scope, int64_t now,
                                int (*fn)(const struct sc_reward_row *r, void *ctx), void *ctx);
    enum sc_err (*reward_decide)(struct sc_store *s, int64_t id, const char *status,
                                 const char *reason, int64_t now);
    enum sc_err (*member_password)(struct sc_store *s, int64_t id, char out[128]);
    enum sc_err (*member_set_password)(struct sc_store *s, int64_t id, const char *hash);
    enum sc_err (*member_set_disabled)(struct sc_store *s, int64_t id, bool disabled);
    enum sc_err (*customer_erase)(struct sc_store *s, const char *email, int64_t now, int64_t *id);
    enum sc_err (*audit)(struct sc_store *s, const char *actor, const char *action,
                         const char *target, const char *detail);
    enum sc_err (*session_add)(struct sc_store *s, const char *token_hash, int64_t member_id,
                               int64_t now, int64_t expires_at);
    enum sc_err (*session_member)(struct sc_store *s, const char *token_hash, int64_t now,
                                  int64_t idle_s, struct sc_member *out);
    enum sc_err (*session_delete)(struct sc_store *s, const char *token_hash);
    enum sc_err (*scope_stats)(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                               int64_t to, struct sc_stats *out);
    enum sc_err (*series)(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                          int64_t to,
                          int (*fn)(int64_t day, enum sc_ev_type t, int64_t n, void *ctx),
                          void *ctx);
    enum sc_err (*leaderboard)(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                               int64_t to, int (*fn)(const struct sc_leader_row *r, void *ctx),
                               void *ctx);
    /* Appended 2026-11-30: management and more reports. */
    enum sc_err (*token_list)(struct sc_store *s, int64_t member_id,
                              int (*fn)(const struct sc_token_row *r, void *ctx), void *ctx);
    enum sc_err (*token_revoke)(struct sc_store *s, int64_t member_id, int64_t id, int64_t now);
    enum sc_err (*member_update)(struct sc_store *s, int64_t id, const char *name, const char *team,
                                 enum sc_role role);
    enum sc_err (*audit_list)(struct sc_store *s, int64_t before, int limit,
                              int (*fn)(const struct sc_audit_row *r, void *ctx), void *ctx);
    enum sc_err (*channels)(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                            int64_t to, int (*fn)(int ch, enum sc_ev_type t, int64_t n, void *ctx),
                            void *ctx);
    enum sc_err (*revenue)(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                           int64_t to, int64_t *orders, int64_t *cents);
    enum sc_err (*share_tree)(struct sc_store *s, int64_t card_id,
                              int (*fn)(const struct sc_tree_row *r, void *ctx), void *ctx);
    enum sc_err (*visits_after)(struct sc_store *s, const struct sc_scope *scope, int64_t after,
                                int limit, int (*fn)(const struct sc_visit_row *r, void *ctx),
                                void *ctx, int64_t *last);
    enum sc_err (*leads)(struct sc_store *s, const struct sc_scope *scope, int64_t since, int limit,
                         int (*fn)(const struct sc_lead_row *r, void *ctx), void *ctx);
    enum sc_err (*lead_timeline)(struct sc_store *s, const struct sc_scope *scope,
                                 int64_t visitor_id, int limit,
                                 int (*fn)(const struct sc_visit_row *r, void *ctx), void *ctx);
    enum sc_err (*failures)(struct sc_store *s, const char *key, int64_t now, int64_t window_s,
                            bool add, int64_t *count);
    enum sc_err (*devices)(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                           int64_t to, int64_t out[SC_DEV_COUNT]);
    enum sc_err (*member_links)(struct sc_store *s, int64_t card_id, int64_t member_id,
                                int (*fn)(const struct sc_link *l, void *ctx), void *ctx);
};

struct sc_store {
    const struct sc_store_ops *ops;
};

/* The SQLite backend (sqlite.c). */
enum sc_err sc_sqlite_open(const char *path, struct sc_store **out, char *errmsg, size_t errlen);

/* SQLite schema migrations (sqlite_schema.c): SQL scripts, index i takes version i to i+1. */
extern const char *const sc_sqlite_migrations[];
extern const int sc_sqlite_nmigrations;

/* The PostgreSQL backend (pg.c), for "postgres://…" and "postgresql://…" URLs. */
enum sc_err sc_pg_open(const char *url, struct sc_store **out, char *errmsg, size_t errlen);

/* PostgreSQL schema migrations (pg_schema.c), in step with SQLite's: the same count. */
extern const char *const sc_pg_migrations[];
extern const int sc_pg_nmigrations;

#endif
