/*
 * ratelimit.c — fixed-window counters per key (a visitor, an address),
 * in a table of fixed size: a key that collides with another shares its
 * budget, which errs on the side of refusing.  One instance's view only;
 * limits that must hold across instances live in the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth_int.h"

#define RL_SLOTS 8192

struct rl_slot {
    uint64_t key;
    int64_t window; /* start of the slot's window, unix seconds */
    unsigned count;
};

struct ratelimit {
    pthread_mutex_t lock;
    struct rl_slot slots[RL_SLOTS];
};

struct ratelimit *sc_rl_new(void)
{
    struct ratelimit *rl = calloc(1, sizeof(*rl));
    if (rl)
        pthread_mutex_init(&rl->lock, NULL);
    return rl;
}

void sc_rl_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

/* Counts one use of 'key' (when 'take') and says whether it was within 'limit'. */
static bool rl_check(struct ratelimit *rl, const char *scope, const char *key, unsigned limit,
                     unsigned window_s, bool take)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)scope; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ '|') * 1099511628211ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    int64_t now = (int64_t)time(NULL);
    int64_t window = now - now % (int64_t)window_s;
    struct rl_slot *s = &rl->slots[h % RL_SLOTS];
    pthread_mutex_lock(&rl->lock);
    if (s->key != h || s->window != window) {
        s->key = h;
        s->window = window;
        s->count = 0;
    }
    bool ok = s->count < limit;
    if (ok && take)
        s->count++;
    pthread_mutex_unlock(&rl->lock);
    return ok;
}

bool sc_rl_allow(struct ratelimit *rl, const char *scope, const char *key, unsigned limit,
                 unsigned window_s)
{
    return rl_check(rl, scope, key, limit, window_s, true);
}

bool sc_rl_within(struct ratelimit *rl, const char *scope, const char *key, unsigned limit,
                  unsigned window_s)
{
    return rl_check(rl, scope, key, limit, window_s, false);
}

/* ---- throttling, shared by every instance on the store ------------------------------ */

static void throttle_key(char *out, size_t n, const char *scope, const char *key)
{
    snprintf(out, n, "%s:%s", scope, key ? key : "");
}

bool sc_throttle_ok(struct req *r, const char *scope, const char *key, int64_t limit,
                    int64_t window_s)
{
    char k[400];
    int64_t n = 0;
    throttle_key(k, sizeof(k), scope, key);
    if (sc_store_failures(r->srv->store, k, (int64_t)time(NULL), window_s, false, &n) != SC_OK)
        return sc_rl_within(r->srv->rl, scope, key, (unsigned)limit, (unsigned)window_s);
    return n < limit;
}

void sc_throttle_fail(struct req *r, const char *scope, const char *key, int64_t window_s)
{
    char k[400];
    int64_t n = 0;
    throttle_key(k, sizeof(k), scope, key);
    sc_rl_allow(r->srv->rl, scope, key, UINT32_MAX, (unsigned)window_s); /* the fallback's count */
    sc_store_failures(r->srv->store, k, (int64_t)time(NULL), window_s, true, &n);
}

bool sc_throttle_take(struct req *r, const char *scope, const char *key, int64_t limit,
                      int64_t window_s)
{
    if (!sc_throttle_ok(r, scope, key, limit, window_s))
        return false;
    sc_throttle_fail(r, scope, key, window_s);
    return true;
}
