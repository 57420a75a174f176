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
    enum sc_err e;
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
        e = sc_pg_open(url, out, errmsg, errlen);
    else
        e = sc_sqlite_open(url, out, errmsg, errlen);
    if (e == SC_OK)
        (*out)->rcache = sc_rcache_new(); /* NULL when out of memory: then nothing is cached */
    return e;
}

void sc_store_close(struct sc_store *s)
{
    if (s) {
        sc_rcache_free(s->rcache);
        s->rcache = NULL;
        s->ops->close(s);
    }
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

enum sc_err sc_store_visitor_id(struct sc_store *s, const char *vid, int64_t *out)
{
    return s->ops->visitor_id(s, vid, out);
}

enum sc_err sc_store_backup(struct sc_store *s, const char *dest,
                            void (*progress)(int64_t done, int64_t total, void *ctx), void *ctx,
                            char *errmsg, size_t errlen)
{
    if (errlen)
        errmsg[0] = '\0';
    return s->ops->backup(s, dest, progress, ctx, errmsg, errlen);
}
