/*
 * retry.c — when a failed webhook is tried again.  Delays grow from seconds
 * (a receiver restarting) to hours (a receiver down for the night), and stop
 * after about a day, the pattern receivers of Standard Webhooks expect:
 *
 *   after attempt   1     2      3       4     5     6      7      8
 *   wait           20 s  5 min  30 min  2 h   5 h   10 h   10 h   give up
 *
 * 27.6 hours from the first attempt to the last.  Each wait carries up to
 * ±10 % random jitter, so the deliveries that failed together during an
 * outage do not all come back in the same second.
 */
#include "sharecard/webhook.h"

#include <sodium.h>

static const int64_t delays[] = {20, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600};

bool sc_webhook_next_attempt(int attempts, int64_t now, int64_t *when)
{
    int64_t base, spread;
    if (attempts < 1) { /* nothing tried yet: now */
        *when = now;
        return true;
    }
    if (attempts > (int)(sizeof(delays) / sizeof(delays[0])))
        return false;
    base = delays[attempts - 1];
    spread = base / 10; /* ±10 %: the first wait stays within 18..22 s */
    if (sodium_init() < 0)
        spread = 0;
    *when = now + base - spread + (int64_t)randombytes_uniform((uint32_t)(2 * spread + 1));
    return true;
}
