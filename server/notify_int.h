/*
 * notify_int.h — private to server/: notifications where salespeople live
 * (issue 18).  A member's targets (chat robots, e-mail) are checked and
 * stored here for the CLI and the pages; the webhook dispatcher hands the
 * notification rows it claims to sc_notify_prepare(), which holds them over
 * quiet hours, keeps each robot under its rate limit, batches what came at
 * once into one message and builds the platform's request; the dispatcher's
 * loop calls sc_notify_tick() for the reminders that fell due.
 */
#ifndef SHARECARD_NOTIFY_INT_H
#define SHARECARD_NOTIFY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sharecard/err.h"
#include "sharecard/webhook.h"

struct sc_store;
struct sc_member;

#define SC_NOTIFY_BATCH_MAX 8 /* alerts in one message at most */

/* The base URL links point to (set once the server knows it; copied). */
void sc_notify_base_url_set(const char *url);

/*
 * Checks and stores a target of kind 'kind' ("wecom", ...) for member
 * 'm' (with 'team': their team's alerts too; managers and admins only): 'url' for a robot, 'to' for
 * e-mail (which also needs SHARECARD_SMTP_URL and SHARECARD_SMTP_FROM), 'secret' optional
 * (DingTalk, Feishu).  SC_EINVAL with the reason in 'why'; '*id' the new target.
 */
enum sc_err sc_notify_target_add(struct sc_store *s, const struct sc_member *m, const char *kind,
                                 const char *url, const char *to, const char *secret, bool team,
                                 int64_t *id, char *why, size_t why_size);
/* Queues a test message to target 'id' of member 'member_id'. */
enum sc_err sc_notify_test(struct sc_store *s, int64_t member_id, int64_t id);
/*
 * Parses "HH:MM-HH:MM" quiet hours into minutes of the day ("" or "off":
 * none, 0-0).  SC_EINVAL with the reason.
 */
enum sc_err sc_notify_quiet_parse(const char *in, int *from, int *to, char *why, size_t why_size);
/* Checks a list of alert kinds ("hot,signup,..."; "all"; "none") into 'out'. */
enum sc_err sc_notify_events_parse(const char *in, char *out, size_t size, char *why,
                                   size_t why_size);

/* One claimed notification row, as the dispatcher hands it over (borrowed). */
struct sc_notify_item {
    const char *type, *data;
};

/* What to do with a group of claimed rows of one target. */
struct sc_notify_plan {
    int64_t hold_until;           /* > 0: defer every row to then (quiet hours, rate limit) */
    struct sc_webhook_delivery d; /* else this attempt; its strings are the own_* below */
    char *own_url, *own_body, *own_from, *own_to;
};
/*
 * Plans the rows 'items' ('n' of them, all for target 'target' of kind
 * 'kind' at 'url' with 'secret') at wall-clock 'now'.  SC_EINVAL (reason in
 * 'why') when they cannot be sent at all.
 */
enum sc_err sc_notify_prepare(struct sc_store *s, int64_t target, const char *kind, const char *url,
                              const char *secret, const struct sc_notify_item *items, size_t n,
                              int64_t now, struct sc_notify_plan *p, char *why, size_t why_size);
void sc_notify_plan_free(struct sc_notify_plan *p);
/* Whether an alert of 'type' goes out in quiet hours too (the digest, a test): the dispatcher
 * does not batch these with alerts that quiet hours hold. */
bool sc_notify_any_hour(const char *type);
/*
 * The rate limit: true (the send counted) when target 't' of kind 'k' may
 * send at 'now' (at most 20 messages in any minute); else false with
 * '*until' the time it may.
 */
bool sc_notify_rate_take(int64_t t, enum sc_notify_kind k, int64_t now, int64_t *until);
/* Queues the reminders that fell due (at most every few seconds; cheap when none). */
void sc_notify_tick(struct sc_store *s, int64_t now);

#endif
