/*
 * q_webhooks.c — webhook endpoints and the outbox of deliveries, written
 * once for both backends.  A delivery is written in the same transaction as
 * the fact it reports (the sign-up and purchase writes of q_referral.c call
 * sc_q_outbox_*() inside the event writer's transaction, a reward decision
 * inside its own), one row per subscribed endpoint, so a crash after the
 * fact was acknowledged cannot lose its webhook.  A dispatcher above claims
 * due rows with a lease (claimed_by / claimed_until; FOR UPDATE SKIP LOCKED
 * on PostgreSQL, so instances never take the same row), makes the attempt
 * and records it here.  The store knows nothing of HTTP or signatures: it
 * keeps the event's JSON and time, and webhook/ builds the body from them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sharecard/escape.h"
#include "store_int.h"

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* A new message id: "msg_" + 26 random base32 characters (130 bits), as webhook/ makes them. */
static void msg_id_new(char out[31])
{
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    memcpy(out, "msg_", 4);
    for (int i = 0; i < 26; i++)
        out[4 + i] = b32[randombytes_uniform(32)];
    out[30] = '\0';
}

/* True when the comma-separated 'list' names 'type'. */
static bool subscribed(const char *list, const char *type)
{
    size_t n = strlen(type);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, type, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* The live endpoints subscribed to 'type' into 'ids' (at most SC_WEBHOOK_ENDPOINTS_MAX). */
static enum sc_err endpoints_for(struct sc_db *db, const char *type, int64_t *ids, size_t *n)
{
    static struct sc_sql q = SC_SQL("SELECT id, events FROM webhooks WHERE disabled = 0 "
                                    "ORDER BY id");
    *n = 0;
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
    if (!st)
        return e;
    bool row = false;
    while ((e = sc_sql_step(st, &row)) == SC_OK && row) {
        const char *events = sc_sql_col_text(st, 1);
        if (*n < SC_WEBHOOK_ENDPOINTS_MAX && subscribed(events, type))
            ids[(*n)++] = sc_sql_col_int(st, 0);
    }
    sc_sql_reset(st);
    return e;
}

static enum sc_err outbox_insert(struct sc_db *db, const int64_t *ids, size_t n, const char *type,
                                 int64_t event_ts, const char *data)
{
    static struct sc_sql q =
        SC_SQL("INSERT INTO webhook_outbox (msg_id, webhook_id, type, data, event_ts, "
               "created_at, next_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
    int64_t now = now_s();
    for (size_t i = 0; i < n; i++) {
        enum sc_err e = SC_OK;
        struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
        if (!st)
            return e;
        char id[31];
        msg_id_new(id);
        sc_sql_text(st, 1, id);
        sc_sql_int(st, 2, ids[i]);
        sc_sql_text(st, 3, type);
        sc_sql_text(st, 4, data);
        sc_sql_int(st, 5, event_ts);
        sc_sql_int(st, 6, now);
        sc_sql_int(st, 7, now);
        if ((e = sc_sql_exec(st, NULL)) != SC_OK)
            return e;
    }
    return SC_OK;
}

enum sc_err sc_q_outbox_to(struct sc_db *db, int64_t webhook_id, const char *type, int64_t event_ts,
                           const char *data_json)
{
    return outbox_insert(db, &webhook_id, 1, type, event_ts, data_json);
}

enum sc_err sc_q_outbox_add(struct sc_db *db, const char *type, int64_t event_ts,
                            const char *data_json)
{
    int64_t ids[SC_WEBHOOK_ENDPOINTS_MAX];
    size_t n = 0;
    enum sc_err e = endpoints_for(db, type, ids, &n);
    if (e != SC_OK || n == 0)
        return e;
    return outbox_insert(db, ids, n, type, event_ts, data_json);
}

/* ---- the events' JSON, from the stored rows ------------------------------------------- */

static void json_str(struct sc_buf *b, const char *s)
{
    if (!s) {
        sc_buf_puts(b, "null");
        return;
    }
    sc_buf_putc(b, '"');
    sc_esc_json(b, s, strlen(s));
    sc_buf_putc(b, '"');
}

static void json_time(struct sc_buf *b, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char out[32];
    gmtime_r(&tt, &tm);
    strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &tm);
    sc_buf_printf(b, "\"%s\"", out);
}

/* A party as the API shows it: null, or {"type","id","name"}; columns i (type), i+1, i+2. */
static void json_party(struct sc_buf *b, struct sc_stmt *st, int i)
{
    int64_t type = sc_sql_col_int(st, i);
    if (type != SC_PARTY_MEMBER && type != SC_PARTY_CUSTOMER) {
        sc_buf_puts(b, "null");
        return;
    }
    sc_buf_printf(b, "{\"type\":\"%s\",\"id\":%lld,\"name\":",
                  type == SC_PARTY_MEMBER ? "member" : "customer",
                  (long long)sc_sql_col_int(st, i + 1));
    const char *name = sc_sql_col_text(st, i + 2);
    json_str(b, name ? name : "");
    sc_buf_putc(b, '}');
}

/* The name of the party whose type and id are the columns 'type' and 'id' of table alias. */
#define PARTY_NAME(type, id)                                                                       \
    "CASE " type " WHEN 1 THEN (SELECT name FROM members WHERE id = " id ") "                      \
    "WHEN 2 THEN (SELECT name FROM customers WHERE id = " id ") END"

/*
 * Runs 'q' (one row by the id 'arg'), builds its JSON with 'build' and
 * writes event 'type' for the endpoints that want it; nothing (and no
 * query) when none does.
 */
static enum sc_err event_from_row(struct sc_db *db, const char *type, struct sc_sql *q, int64_t arg,
                                  int64_t (*build)(struct sc_buf *b, struct sc_stmt *st))
{
    int64_t ids[SC_WEBHOOK_ENDPOINTS_MAX];
    size_t n = 0;
    enum sc_err e = endpoints_for(db, type, ids, &n);
    if (e != SC_OK || n == 0)
        return e;
    struct sc_stmt *st = sc_sql_prepare(db, q, &e);
    if (!st)
        return e;
    sc_sql_int(st, 1, arg);
    struct sc_buf b;
    sc_buf_init(&b, 256 * 1024);
    bool row = false;
    int64_t ts = 0;
    if ((e = sc_sql_step(st, &row)) == SC_OK && row)
        ts = build(&b, st);
    sc_sql_reset(st);
    if (e == SC_OK && row && (e = sc_buf_error(&b)) == SC_OK)
        e = outbox_insert(db, ids, n, type, ts, b.data);
    sc_buf_cleanup(&b);
    return e;
}

/* The sign-up as /api/v1/signups shows it; returns its time. */
static int64_t signup_json(struct sc_buf *b, struct sc_stmt *st)
{
    sc_buf_printf(b, "{\"id\":%lld,\"name\":", (long long)sc_sql_col_int(st, 0));
    json_str(b, sc_sql_col_text(st, 1));
    sc_buf_puts(b, ",\"email\":");
    json_str(b, sc_sql_col_text(st, 2));
    sc_buf_puts(b, ",\"phone\":");
    json_str(b, sc_sql_col_text(st, 3));
    sc_buf_puts(b, ",\"card\":");
    json_str(b, sc_sql_col_text(st, 4));
    sc_buf_puts(b, ",\"link\":");
    json_str(b, sc_sql_col_text(st, 5));
    sc_buf_puts(b, ",\"level1\":");
    json_party(b, st, 6);
    sc_buf_puts(b, ",\"level2\":");
    json_party(b, st, 9);
    sc_buf_puts(b, ",\"rule\":");
    json_str(b, sc_sql_col_text(st, 12));
    sc_buf_puts(b, ",\"notes\":");
    json_str(b, sc_sql_col_text(st, 13));
    int64_t ts = sc_sql_col_int(st, 14);
    sc_buf_puts(b, ",\"created_at\":");
    json_time(b, ts);
    sc_buf_putc(b, '}');
    return ts;
}

enum sc_err sc_q_outbox_signup(struct sc_db *db, int64_t customer_id)
{
    static struct sc_sql q =
        SC_SQL("SELECT s.id, s.name, s.email, s.phone, c.slug, l.code, s.level1_type, "
               "coalesce(s.level1_id, 0), " PARTY_NAME(
                   "s.level1_type",
                   "s.level1_id") ", s.level2_type, "
                                  "coalesce(s.level2_id, 0), " PARTY_NAME(
                                      "s.level2_type",
                                      "s.level2_id") ", s.rule, "
                                                     "s.notes, s.created_at FROM customers s JOIN "
                                                     "cards c ON c.id = s.card_id "
                                                     "LEFT JOIN links l ON l.id = "
                                                     "s.referrer_link_id WHERE s.id = ?");
    return event_from_row(db, "signup.created", &q, customer_id, signup_json);
}

/* A purchase: the order, its customer, the amount and who was credited for the customer. */
static int64_t conversion_json(struct sc_buf *b, struct sc_stmt *st)
{
    int64_t cents = sc_sql_col_int(st, 3);
    sc_buf_printf(b, "{\"id\":%lld,\"order_id\":", (long long)sc_sql_col_int(st, 0));
    json_str(b, sc_sql_col_text(st, 1));
    sc_buf_printf(b, ",\"customer_id\":%lld,\"amount\":%s%lld.%02lld,\"amount_cents\":%lld",
                  (long long)sc_sql_col_int(st, 2), cents < 0 ? "-" : "",
                  (long long)(cents < 0 ? -cents : cents) / 100,
                  (long long)(cents < 0 ? -cents : cents) % 100, (long long)cents);
    sc_buf_puts(b, ",\"email\":");
    json_str(b, sc_sql_col_text(st, 4));
    sc_buf_puts(b, ",\"card\":");
    json_str(b, sc_sql_col_text(st, 5));
    sc_buf_puts(b, ",\"level1\":");
    json_party(b, st, 6);
    sc_buf_puts(b, ",\"level2\":");
    json_party(b, st, 9);
    int64_t ts = sc_sql_col_int(st, 12);
    sc_buf_puts(b, ",\"created_at\":");
    json_time(b, ts);
    /* Its NPS survey (q_nps.c): the link, and from when it may be answered. */
    const char *survey = sc_sql_col_text(st, 13);
    if (survey && survey[0]) {
        sc_buf_puts(b, ",\"survey_url\":");
        json_str(b, survey);
        sc_buf_puts(b, ",\"survey_available_at\":");
        json_time(b, sc_sql_col_int(st, 14));
    }
    sc_buf_putc(b, '}');
    return ts;
}

enum sc_err sc_q_outbox_conversion(struct sc_db *db, int64_t conversion_id)
{
    static struct sc_sql q = SC_SQL(
        "SELECT v.id, v.order_id, v.customer_id, v.amount_cents, s.email, c.slug, "
        "s.level1_type, coalesce(s.level1_id, 0), " PARTY_NAME(
            "s.level1_type",
            "s.level1_id") ", s.level2_type, coalesce(s.level2_id, "
                           "0), " PARTY_NAME("s.level2_type",
                                             "s.level2_id") ", v.created_at, "
                                                            "n.url, "
                                                            "coalesce(n.available_at, 0) FROM "
                                                            "conversions v JOIN "
                                                            "customers s ON s.id "
                                                            "= v.customer_id "
                                                            "JOIN cards c ON c.id "
                                                            "= s.card_id LEFT JOIN nps_surveys n "
                                                            "ON n.conversion_id = v.id WHERE "
                                                            "v.id = ?");
    return event_from_row(db, "conversion.created", &q, conversion_id, conversion_json);
}

/* A ledger row as /api/v1/rewards shows it; its time is the decision's. */
static int64_t reward_json(struct sc_buf *b, struct sc_stmt *st)
{
    sc_buf_printf(b, "{\"id\":%lld,\"customer_id\":%lld,\"conversion_id\":",
                  (long long)sc_sql_col_int(st, 0), (long long)sc_sql_col_int(st, 1));
    int64_t conv = sc_sql_col_int(st, 2);
    if (conv)
        sc_buf_printf(b, "%lld", (long long)conv);
    else
        sc_buf_puts(b, "null");
    sc_buf_puts(b, ",\"party\":");
    json_party(b, st, 3);
    sc_buf_printf(b, ",\"level\":%lld,\"kind\":", (long long)sc_sql_col_int(st, 6));
    json_str(b, sc_sql_col_text(st, 7));
    sc_buf_printf(b, ",\"amount\":%lld,\"status\":", (long long)sc_sql_col_int(st, 8));
    json_str(b, sc_sql_col_text(st, 9));
    sc_buf_puts(b, ",\"reason\":");
    json_str(b, sc_sql_col_text(st, 10));
    sc_buf_puts(b, ",\"created_at\":");
    json_time(b, sc_sql_col_int(st, 11));
    int64_t ts = sc_sql_col_int(st, 12);
    sc_buf_puts(b, ",\"decided_at\":");
    json_time(b, ts);
    sc_buf_putc(b, '}');
    return ts;
}

enum sc_err sc_q_outbox_reward(struct sc_db *db, int64_t reward_id)
{
    static struct sc_sql q = SC_SQL(
        "SELECT r.id, r.customer_id, coalesce(r.conversion_id, 0), r.party_type, r.party_id, "
        "" PARTY_NAME("r.party_type", "r.party_id") ", r.level, r.kind, r.amount, r.status, "
                                                    "r.reason, r.created_at, "
                                                    "coalesce(r.decided_at, 0) FROM rewards r "
                                                    "WHERE r.id = ?");
    return event_from_row(db, "reward.approved", &q, reward_id, reward_json);
}

enum sc_err sc_store_outbox_add(struct sc_store *s, const char *type, int64_t event_ts,
                                const char *data_json)
{
    struct sc_q r;
    if (sc_q_write(&r, s, true))
        r.e = sc_q_outbox_add(r.db, type, event_ts, data_json);
    return sc_q_end(&r);
}

/* ---- endpoints ------------------------------------------------------------------------ */

enum sc_err sc_store_webhook_add(struct sc_store *s, const char *url, const char *secret,
                                 const char *events, int64_t now, int64_t *id)
{
    static struct sc_sql q_count = SC_SQL("SELECT count(*) FROM webhooks WHERE disabled = 0 "
                                          "AND kind = 'webhook'");
    static struct sc_sql q =
        SC_SQL("INSERT INTO webhooks (url, secret, events, created_at) VALUES (?, ?, ?, ?) "
               "RETURNING id");
    struct sc_q r;
    int64_t n = 0;
    if (sc_q_write(&r, s, true) && sc_q_prepare(&r, &q_count)) {
        r.e = sc_sql_int1(r.st, &n, NULL);
        if (r.e == SC_OK && n >= SC_WEBHOOK_ENDPOINTS_MAX)
            r.e = SC_ETOOBIG;
    }
    if (sc_q_prepare(&r, &q)) {
        sc_sql_text(r.st, 1, url);
        sc_sql_text(r.st, 2, secret);
        sc_sql_text(r.st, 3, events);
        sc_sql_int(r.st, 4, now);
        r.e = sc_sql_int1(r.st, id, NULL);
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_webhook_list(struct sc_store *s,
                                  int (*fn)(const struct sc_webhook_row *r, void *ctx), void *ctx)
{
    static struct sc_sql q = SC_SQL("SELECT id, url, secret, events, created_at FROM webhooks "
                                    "WHERE disabled = 0 AND kind = 'webhook' ORDER BY id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    while (sc_q_next(&r)) {
        struct sc_webhook_row w = {sc_sql_col_int(r.st, 0), sc_sql_col_text(r.st, 1),
                                   sc_sql_col_text(r.st, 2), sc_sql_col_text(r.st, 3),
                                   sc_sql_col_int(r.st, 4)};
        if (fn(&w, ctx))
            break;
    }
    return sc_q_end(&r);
}

bool sc_q_outbox_cancel(struct sc_q *r, int64_t webhook_id)
{
    static struct sc_sql q =
        SC_SQL("UPDATE webhook_outbox SET status = 'cancelled' WHERE webhook_id = ? "
               "AND status = 'pending'");
    if (!sc_q_prepare(r, &q))
        return false;
    sc_sql_int(r->st, 1, webhook_id);
    return sc_q_exec(r, false);
}

enum sc_err sc_store_webhook_remove(struct sc_store *s, int64_t id, int64_t now)
{
    static struct sc_sql q =
        SC_SQL("UPDATE webhooks SET disabled = ? WHERE id = ? AND disabled = 0 "
               "AND kind = 'webhook'");
    struct sc_q r;
    if (sc_q_write(&r, s, true) && sc_q_prepare(&r, &q)) {
        sc_sql_int(r.st, 1, now > 0 ? now : 1);
        sc_sql_int(r.st, 2, id);
        if (sc_q_exec(&r, true))
            sc_q_outbox_cancel(&r, id);
    }
    return sc_q_end(&r);
}

/* ---- deliveries --------------------------------------------------------------------------- */

#define OUTBOX_COLS                                                                                \
    "o.id, o.msg_id, o.webhook_id, w.url, w.secret, o.type, o.data, o.event_ts, o.created_at, "    \
    "o.attempts, o.next_at, o.status, o.last_at, o.last_status, o.last_latency_ms, "               \
    "o.last_error, o.last_excerpt, w.kind FROM webhook_outbox o JOIN webhooks w ON w.id = "        \
    "o.webhook_id "

static void read_outbox(struct sc_stmt *st, struct sc_outbox_row *o)
{
    memset(o, 0, sizeof(*o));
    o->id = sc_sql_col_int(st, 0);
    o->msg_id = sc_sql_col_text(st, 1);
    o->webhook_id = sc_sql_col_int(st, 2);
    o->url = sc_sql_col_text(st, 3);
    o->secret = sc_sql_col_text(st, 4);
    o->type = sc_sql_col_text(st, 5);
    o->data = sc_sql_col_text(st, 6);
    o->event_ts = sc_sql_col_int(st, 7);
    o->created_at = sc_sql_col_int(st, 8);
    o->attempts = (int)sc_sql_col_int(st, 9);
    o->next_at = sc_sql_col_int(st, 10);
    o->status = sc_sql_col_text(st, 11);
    o->last_at = sc_sql_col_int(st, 12);
    o->last_status = sc_sql_col_int(st, 13);
    o->last_latency_ms = sc_sql_col_int(st, 14);
    o->last_error = sc_sql_col_text(st, 15);
    o->last_excerpt = sc_sql_col_text(st, 16);
    o->kind = sc_sql_col_text(st, 17);
}

/*
 * Leases and clocks.  A lease must not end early because a clock jumped:
 * a sender still posting its row would then see it claimed and posted again
 * by another.  On PostgreSQL several instances, perhaps on several hosts,
 * share the outbox, and the one clock they all share is the database's, so
 * there a lease is taken and tested against clock_timestamp() (its length
 * is 'until' - 'now'); a jump of an instance's own clock leaves the leases
 * alone.  SQLite is one process, whose clock is the database's anyway, so
 * there the times given are used.  Either way an attempt is recorded only
 * by the claim's owner (sc_store_outbox_attempt: claimed_by = token).
 */
#define LEASE_NOW "CAST(floor(extract(epoch FROM clock_timestamp())) AS BIGINT)"

enum sc_err sc_store_outbox_claim(struct sc_store *s, const char *token, int64_t now, int64_t until,
                                  int limit, int (*fn)(const struct sc_outbox_row *r, void *ctx),
                                  void *ctx)
{
    /* The rows are chosen and locked by the subquery; another instance's locked rows skipped.
     * PostgreSQL times the lease by the database's clock (LEASE_NOW), see above. */
    static struct sc_sql q_claim = SC_SQL2(
        "UPDATE webhook_outbox SET claimed_by = ?1, claimed_until = ?2 WHERE id IN ("
        "SELECT id FROM webhook_outbox WHERE status = 'pending' AND next_at <= ?3 "
        "AND claimed_until <= ?3 AND webhook_id IN (SELECT id FROM webhooks WHERE disabled = 0) "
        "ORDER BY next_at, id LIMIT ?4{skip_locked})",
        "UPDATE webhook_outbox SET claimed_by = ?1, claimed_until = " LEASE_NOW
        " + (CAST(?2 AS BIGINT) - CAST(?3 AS BIGINT)) "
        "WHERE id IN (SELECT id FROM webhook_outbox WHERE status = 'pending' AND next_at <= ?3 "
        "AND claimed_until <= " LEASE_NOW " AND webhook_id IN (SELECT id FROM webhooks WHERE "
        "disabled = 0) ORDER BY next_at, id LIMIT ?4{skip_locked})");
    static struct sc_sql q_rows =
        SC_SQL("SELECT " OUTBOX_COLS "WHERE o.claimed_by = ? AND o.status = 'pending' "
               "ORDER BY o.next_at, o.id");
    /* A read first: most polls find nothing due and need not take the writer. */
    static struct sc_sql q_due =
        SC_SQL2("SELECT 1 FROM webhook_outbox WHERE status = 'pending' AND next_at <= ?1 "
                "AND claimed_until <= ?1 LIMIT 1",
                "SELECT 1 FROM webhook_outbox WHERE status = 'pending' AND next_at <= ?1 "
                "AND claimed_until <= " LEASE_NOW " LIMIT 1");
    struct sc_q r;
    int64_t claimed = 0;
    bool due = false;
    if (!sc_q_read(&r, s, &q_due))
        return r.e;
    sc_sql_int(r.st, 1, now);
    due = sc_q_next(&r);
    if (sc_q_end(&r) != SC_OK || !due)
        return r.e;
    if (sc_q_write(&r, s, true) && sc_q_prepare(&r, &q_claim)) {
        sc_sql_text(r.st, 1, token);
        sc_sql_int(r.st, 2, until);
        sc_sql_int(r.st, 3, now);
        sc_sql_int(r.st, 4, limit);
        r.e = sc_sql_exec(r.st, &claimed);
    }
    if (sc_q_end(&r) != SC_OK || claimed == 0)
        return r.e;
    /* Handed out after the claim committed: an attempt may end before we return. */
    if (!sc_q_read(&r, s, &q_rows))
        return r.e;
    sc_sql_text(r.st, 1, token);
    while (sc_q_next(&r)) {
        struct sc_outbox_row o;
        read_outbox(r.st, &o);
        if (fn(&o, ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_outbox_attempt(struct sc_store *s, int64_t id, const char *token,
                                    const struct sc_outbox_result *res)
{
    static struct sc_sql q = SC_SQL(
        "UPDATE webhook_outbox SET status = ?, next_at = ?, attempts = attempts + 1, "
        "last_at = ?, last_status = ?, last_latency_ms = ?, last_error = ?, last_excerpt = ?, "
        "claimed_by = NULL, claimed_until = 0 WHERE id = ? AND claimed_by = ? "
        "AND status = 'pending'"); /* a removed endpoint's row stays cancelled */
    struct sc_q r;
    if (sc_q_write(&r, s, false) && sc_q_prepare(&r, &q)) {
        sc_sql_text(r.st, 1, res->status);
        sc_sql_int(r.st, 2, res->next_at);
        sc_sql_int(r.st, 3, res->at);
        sc_sql_int(r.st, 4, res->http_status);
        sc_sql_int(r.st, 5, res->latency_ms);
        sc_sql_text(r.st, 6, res->error ? res->error : "");
        sc_sql_text(r.st, 7, res->excerpt ? res->excerpt : "");
        sc_sql_int(r.st, 8, id);
        sc_sql_text(r.st, 9, token);
        sc_q_exec(&r, true);
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_outbox_release(struct sc_store *s, int64_t id, const char *token)
{
    static struct sc_sql q = SC_SQL("UPDATE webhook_outbox SET claimed_by = NULL, "
                                    "claimed_until = 0 WHERE id = ? AND claimed_by = ?");
    struct sc_q r;
    if (sc_q_write(&r, s, false) && sc_q_prepare(&r, &q)) {
        sc_sql_int(r.st, 1, id);
        sc_sql_text(r.st, 2, token);
        sc_q_exec(&r, false);
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_outbox_list(struct sc_store *s, int limit,
                                 int (*fn)(const struct sc_outbox_row *r, void *ctx), void *ctx)
{
    static struct sc_sql q = SC_SQL("SELECT " OUTBOX_COLS "ORDER BY o.id DESC LIMIT ?");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, limit);
    while (sc_q_next(&r)) {
        struct sc_outbox_row o;
        read_outbox(r.st, &o);
        if (fn(&o, ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_outbox_resend(struct sc_store *s, int64_t id, int64_t now)
{
    /* A claim still running is a conflict; PostgreSQL's leases are on its own clock. */
    static struct sc_sql q_find =
        SC_SQL2("SELECT o.claimed_until - ?2 FROM webhook_outbox o JOIN webhooks w "
                "ON w.id = o.webhook_id WHERE o.id = ?1 AND w.disabled = 0{for_update}",
                "SELECT o.claimed_until - " LEASE_NOW " FROM webhook_outbox o JOIN webhooks w "
                "ON w.id = o.webhook_id WHERE o.id = ?1 AND w.disabled = 0{for_update}");
    static struct sc_sql q =
        SC_SQL("UPDATE webhook_outbox SET status = 'pending', attempts = 0, next_at = ?, "
               "claimed_by = NULL, claimed_until = 0 WHERE id = ?");
    struct sc_q r;
    int64_t until = 0;
    bool found = false;
    if (sc_q_write(&r, s, true) && sc_q_prepare(&r, &q_find)) {
        sc_sql_int(r.st, 1, id);
        sc_sql_int(r.st, 2, now);
        r.e = sc_sql_int1(r.st, &until, &found);
        if (r.e == SC_OK && !found)
            r.e = SC_ENOTFOUND;
        else if (r.e == SC_OK && until > 0)
            r.e = SC_ECONFLICT;
    }
    if (sc_q_prepare(&r, &q)) {
        sc_sql_int(r.st, 1, now);
        sc_sql_int(r.st, 2, id);
        sc_q_exec(&r, true);
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_outbox_counts(struct sc_store *s, int64_t *pending, int64_t *delivered,
                                   int64_t *failed)
{
    static struct sc_sql q = SC_SQL("SELECT status, count(*) FROM webhook_outbox GROUP BY status");
    *pending = *delivered = *failed = 0;
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    while (sc_q_next(&r)) {
        const char *st = sc_sql_col_text(r.st, 0);
        int64_t n = sc_sql_col_int(r.st, 1);
        if (!st)
            continue;
        if (strcmp(st, "pending") == 0)
            *pending = n;
        else if (strcmp(st, "delivered") == 0)
            *delivered = n;
        else if (strcmp(st, "failed") == 0)
            *failed = n;
    }
    return sc_q_end(&r);
}
