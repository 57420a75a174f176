/*
 * q_cache.c — what the dashboards read over days already compacted, kept
 * in memory (issue 15): the union of a month's unique visitors (for the
 * company, a team or a member, and per card) and the whole company's rollup
 * sums per day, channel and type.
 *
 * Those figures change only when the compactor moves its mark or a late
 * event reopens a compacted day (uniques_compacted: the mark, and a
 * generation bumped by every reopening, in the writer's transaction).  So a
 * value is filed under (what it is, scope, first day, last compacted day of
 * the range, generation) and is valid exactly as long as those match what the
 * store says now: nothing is ever stale, there is nothing to invalidate, an
 * old key is simply never asked for again.  The days not yet compacted are
 * read from the store on every call and added to the cached part.  The
 * callers hold no pointer into an entry: they use it inside a callback, under
 * the cache's lock, so an entry can be dropped at any time.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/*
 * A dashboard asks for up to five keys.  The whole company's values (slots
 * 0 to COMPANY_SLOTS - 1: a few MB at 10M events, long to make) and the
 * teams' and members' (small, quick) are evicted each among their own, so a
 * morning of managers does not push the admin's month out.
 */
#define SLOTS         32
#define COMPANY_SLOTS 8

struct slot {
    struct sc_rcache_key key; /* key.team points at 'team' */
    char *team;
    void *val; /* NULL: empty */
    void (*drop)(void *val);
    uint64_t used; /* tick of the last use: the least recent goes first */
};

struct sc_rcache {
    pthread_mutex_t mu;
    struct slot slots[SLOTS];
    uint64_t tick;
};

struct sc_rcache *sc_rcache_new(void)
{
    struct sc_rcache *c = calloc(1, sizeof(*c));
    if (c && pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

void sc_rcache_free(struct sc_rcache *c)
{
    if (!c)
        return;
    for (int i = 0; i < SLOTS; i++)
        if (c->slots[i].val) {
            c->slots[i].drop(c->slots[i].val);
            free(c->slots[i].team);
        }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static bool same(const struct sc_rcache_key *a, const struct sc_rcache_key *b)
{
    return a->kind == b->kind && a->from == b->from && a->to == b->to && a->gen == b->gen &&
           a->member == b->member && !a->team == !b->team &&
           (!a->team || strcmp(a->team, b->team) == 0);
}

bool sc_rcache_use(struct sc_rcache *c, const struct sc_rcache_key *k,
                   void (*use)(const void *val, void *ctx), void *ctx)
{
    if (!c)
        return false;
    bool hit = false;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < SLOTS && !hit; i++)
        if (c->slots[i].val && same(&c->slots[i].key, k)) {
            c->slots[i].used = ++c->tick;
            use(c->slots[i].val, ctx);
            hit = true;
        }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void sc_rcache_put(struct sc_rcache *c, const struct sc_rcache_key *k, void *val,
                   void (*drop)(void *val))
{
    if (!c) {
        drop(val);
        return;
    }
    void *old = NULL;
    void (*old_drop)(void *) = NULL;
    char *team = k->team ? strdup(k->team) : NULL, *old_team = NULL;
    if (k->team && !team) {
        drop(val); /* out of memory: simply not kept */
        return;
    }
    pthread_mutex_lock(&c->mu);
    bool company = !k->member && !k->team;
    int first = company ? 0 : COMPANY_SLOTS, end = company ? COMPANY_SLOTS : SLOTS;
    for (int i = 0; i < SLOTS; i++)
        if (c->slots[i].val && same(&c->slots[i].key, k)) { /* another thread was first */
            pthread_mutex_unlock(&c->mu);
            drop(val);
            free(team);
            return;
        }
    int victim = first;
    for (int i = first; i < end; i++) {
        if (!c->slots[i].val || (c->slots[victim].val && c->slots[i].used < c->slots[victim].used))
            victim = i;
    }
    old = c->slots[victim].val;
    old_drop = c->slots[victim].drop;
    old_team = c->slots[victim].team;
    c->slots[victim] = (struct slot){*k, team, val, drop, ++c->tick};
    c->slots[victim].key.team = team;
    pthread_mutex_unlock(&c->mu);
    if (old)
        old_drop(old); /* outside the lock: freeing a month of bitmaps takes a moment */
    free(old_team);
}
