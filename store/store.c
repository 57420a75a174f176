/*
 * store.c — the public storage functions: pick a backend by URL, then call
 * through its function table.
 */
#include <stdio.h>
#include <string.h>

#include "store_int.h"

enum sc_err sc_store_open(const char *url, struct sc_store **out, char *errmsg, size_t errlen)
{
    *out = NULL;
    if (errlen)
        errmsg[0] = '\0';
    if (!url || !url[0]) {
        snprintf(errmsg, errlen, "no store given");
        return SC_EINVAL;
    }
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        return sc_pg_open(url, out, errmsg, errlen);
    }
    return sc_sqlite_open(url, out, errmsg, errlen);
}

void sc_store_close(struct sc_store *s)
{
    if (s)
        s->ops->close(s);
}

int sc_store_schema_version(struct sc_store *s)
{
    return s->ops->schema_version(s);
}

int sc_store_schema_latest(void)
{
    return sc_sqlite_nmigrations;
}

enum sc_err sc_store_events_write(struct sc_store *s, struct sc_event_row *rows, size_t n)
{
    return n == 0 ? SC_OK : s->ops->events_write(s, rows, n);
}

enum sc_err sc_store_link_create(struct sc_store *s, struct sc_link *l)
{
    return s->ops->link_create(s, l);
}

enum sc_err sc_store_visitor_reached(struct sc_store *s, const char *vid, int64_t card_id,
                                     int64_t link_id, bool *out)
{
    return s->ops->visitor_reached(s, vid, card_id, link_id, out);
}

enum sc_err sc_store_card_stats(struct sc_store *s, int64_t card_id, int64_t day_from,
                                int64_t day_to, struct sc_stats *out)
{
    return s->ops->card_stats(s, card_id, day_from, day_to, out);
}

enum sc_err sc_store_visitor_id(struct sc_store *s, const char *vid, int64_t *out)
{
    return s->ops->visitor_id(s, vid, out);
}

enum sc_err sc_store_scope_stats(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                                 int64_t to, struct sc_stats *out)
{
    return s->ops->scope_stats(s, scope, from, to, out);
}

enum sc_err sc_store_series(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                            int64_t to,
                            int (*fn)(int64_t day, enum sc_ev_type t, int64_t n, void *ctx),
                            void *ctx)
{
    return s->ops->series(s, scope, from, to, fn, ctx);
}

enum sc_err sc_store_leaderboard(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                                 int64_t to, int (*fn)(const struct sc_leader_row *r, void *ctx),
                                 void *ctx)
{
    return s->ops->leaderboard(s, scope, from, to, fn, ctx);
}

enum sc_err sc_store_channels(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                              int64_t to,
                              int (*fn)(int ch, enum sc_ev_type t, int64_t n, void *ctx), void *ctx)
{
    return s->ops->channels(s, scope, from, to, fn, ctx);
}

enum sc_err sc_store_revenue(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                             int64_t to, int64_t *orders, int64_t *cents)
{
    return s->ops->revenue(s, scope, from, to, orders, cents);
}

enum sc_err sc_store_share_tree(struct sc_store *s, int64_t card_id,
                                int (*fn)(const struct sc_tree_row *r, void *ctx), void *ctx)
{
    return s->ops->share_tree(s, card_id, fn, ctx);
}

enum sc_err sc_store_visits_after(struct sc_store *s, const struct sc_scope *scope, int64_t after,
                                  int limit, int (*fn)(const struct sc_visit_row *r, void *ctx),
                                  void *ctx, int64_t *last)
{
    return s->ops->visits_after(s, scope, after, limit, fn, ctx, last);
}

enum sc_err sc_store_leads(struct sc_store *s, const struct sc_scope *scope, int64_t since,
                           int limit, int (*fn)(const struct sc_lead_row *r, void *ctx), void *ctx)
{
    return s->ops->leads(s, scope, since, limit, fn, ctx);
}

enum sc_err sc_store_lead_timeline(struct sc_store *s, const struct sc_scope *scope,
                                   int64_t visitor_id, int limit,
                                   int (*fn)(const struct sc_visit_row *r, void *ctx), void *ctx)
{
    return s->ops->lead_timeline(s, scope, visitor_id, limit, fn, ctx);
}

enum sc_err sc_store_devices(struct sc_store *s, const struct sc_scope *scope, int64_t from,
                             int64_t to, int64_t out[SC_DEV_COUNT])
{
    memset(out, 0, SC_DEV_COUNT * sizeof(*out));
    return s->ops->devices(s, scope, from, to, out);
}
