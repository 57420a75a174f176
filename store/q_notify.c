/*
 * q_notify.c — a member's notification targets (group robots and e-mail)
 * and what is queued for them, written once for both backends.  A target is
 * a row of `webhooks` with its own kind and owner, so an alert is an outbox
 * row like any webhook delivery: the same claims, retries, delivery log and
 * "send again" (q_webhooks.c).  Alerts are queued in the transaction of the
 * fact they report where there is one (a sign-up: sc_q_notify_signup() in
 * the writer's transaction; a due reminder: marked sent in the same
 * transaction that queues it), so each goes out once and none is lost.
 * The store decides nothing about quiet hours or formats: the dispatcher in
 * server/ reads a target's member, language and quiet hours with
 * sc_store_notify_target_info() when it sends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sharecard/escape.h"
#include "store_int.h"

/* True when the comma-separated 'list' names 'kind'. */
static bool listed(const char *list, const char *kind)
{
    size_t n = strlen(kind);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, kind, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

static void put_str(struct sc_buf *b, const char *s)
{
    sc_buf_putc(b, '"');
    sc_esc_json(b, s ? s : "", s ? strlen(s) : 0);
    sc_buf_putc(b, '"');
}

/* ---- targets ----------------------------------------------------------------------------- */

enum sc_err sc_store_notify_target_add(struct sc_store *s, int64_t member_id, const char *kind,
                                       const char *url, const char *secret, bool team, int64_t now,
                                       int64_t *id)
{
    static struct sc_sql q_count = SC_SQL(
        "SELECT count(*) FROM webhooks WHERE member_id = ? AND kind <> 'webhook' AND disabled = 0");
    static struct sc_sql q =
        SC_SQL("INSERT INTO webhooks (url, secret, events, created_at, kind, member_id, team) "
               "VALUES (?, ?, '', ?, ?, ?, ?) RETURNING id");
    struct sc_q r;
    int64_t n = 0;
    if (sc_q_write(&r, s, true) && sc_q_prepare(&r, &q_count)) {
        sc_sql_int(r.st, 1, member_id);
        r.e = sc_sql_int1(r.st, &n, NULL);
        if (r.e == SC_OK && n >= SC_NOTIFY_TARGETS_MAX)
            r.e = SC_ETOOBIG;
    }
    if (sc_q_prepare(&r, &q)) {
        sc_sql_text(r.st, 1, url);
        sc_sql_text(r.st, 2, secret ? secret : "");
        sc_sql_int(r.st, 3, now);
        sc_sql_text(r.st, 4, kind);
        sc_sql_int(r.st, 5, member_id);
        sc_sql_int(r.st, 6, team ? 1 : 0);
        r.e = sc_sql_int1(r.st, id, NULL);
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_notify_target_list(struct sc_store *s, int64_t member_id,
                                        int (*fn)(const struct sc_notify_target_row *t, void *ctx),
                                        void *ctx)
{
    static struct sc_sql q = SC_SQL("SELECT id, member_id, kind, url, secret, created_at, team "
                                    "FROM webhooks WHERE member_id = ? AND kind <> 'webhook' "
                                    "AND disabled = 0 ORDER BY id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, member_id);
    while (sc_q_next(&r)) {
        struct sc_notify_target_row t = {sc_sql_col_int(r.st, 0),     sc_sql_col_int(r.st, 1),
                                         sc_sql_col_text(r.st, 2),    sc_sql_col_text(r.st, 3),
                                         sc_sql_col_text(r.st, 4),    sc_sql_col_int(r.st, 5),
                                         sc_sql_col_int(r.st, 6) != 0};
        if (fn(&t, ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_notify_target_remove(struct sc_store *s, int64_t member_id, int64_t id,
                                          int64_t now)
{
    static struct sc_sql q =
        SC_SQL("UPDATE webhooks SET disabled = ? WHERE id = ? AND member_id = ? "
               "AND kind <> 'webhook' AND disabled = 0");
    struct sc_q r;
    if (sc_q_write(&r, s, true) && sc_q_prepare(&r, &q)) {
        sc_sql_int(r.st, 1, now > 0 ? now : 1);
        sc_sql_int(r.st, 2, id);
        sc_sql_int(r.st, 3, member_id);
        if (sc_q_exec(&r, true))
            sc_q_outbox_cancel(&r, id);
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_notify_target_info(struct sc_store *s, int64_t id,
                                        struct sc_notify_target_info *out)
{
    static struct sc_sql q = SC_SQL(
        "SELECT w.member_id, coalesce(c.lang, 0), coalesce(p.quiet_from, 0), "
        "coalesce(p.quiet_to, 0) FROM webhooks w LEFT JOIN cards c ON c.member_id = w.member_id "
        "LEFT JOIN notify_prefs p ON p.member_id = w.member_id WHERE w.id = ?");
    struct sc_q r;
    memset(out, 0, sizeof(*out));
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, id);
    if (sc_q_next(&r)) {
        out->member_id = sc_sql_col_int(r.st, 0);
        out->lang = (int)sc_sql_col_int(r.st, 1);
        out->quiet_from = (int)sc_sql_col_int(r.st, 2);
        out->quiet_to = (int)sc_sql_col_int(r.st, 3);
    } else if (r.e == SC_OK) {
        r.e = SC_ENOTFOUND;
    }
    return sc_q_end(&r);
}

/* ---- preferences ------------------------------------------------------------------------- */

enum sc_err sc_store_notify_prefs_get(struct sc_store *s, int64_t member_id,
                                      struct sc_notify_prefs *out)
{
    static struct sc_sql q = SC_SQL("SELECT events, quiet_from, quiet_to, digest_hour "
                                    "FROM notify_prefs WHERE member_id = ?");
    struct sc_q r;
    memset(out, 0, sizeof(*out));
    snprintf(out->events, sizeof(out->events), "%s", SC_NOTIFY_EVENTS_ALL);
    out->digest_hour = SC_NOTIFY_DIGEST_HOUR;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, member_id);
    if (sc_q_next(&r)) {
        const char *ev = sc_sql_col_text(r.st, 0);
        snprintf(out->events, sizeof(out->events), "%s", ev ? ev : "");
        out->quiet_from = (int)sc_sql_col_int(r.st, 1);
        out->quiet_to = (int)sc_sql_col_int(r.st, 2);
        out->digest_hour = (int)sc_sql_col_int(r.st, 3);
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_notify_prefs_set(struct sc_store *s, int64_t member_id,
                                      const struct sc_notify_prefs *p)
{
    static struct sc_sql q =
        SC_SQL("INSERT INTO notify_prefs (member_id, events, quiet_from, quiet_to, digest_hour) "
               "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (member_id) DO UPDATE SET events = ?2, "
               "quiet_from = ?3, quiet_to = ?4, digest_hour = ?5");
    struct sc_q r;
    if (sc_q_write(&r, s, true) && sc_q_prepare(&r, &q)) {
        sc_sql_int(r.st, 1, member_id);
        sc_sql_text(r.st, 2, p->events);
        sc_sql_int(r.st, 3, p->quiet_from);
        sc_sql_int(r.st, 4, p->quiet_to);
        sc_sql_int(r.st, 5, p->digest_hour);
        sc_q_exec(&r, false);
    }
    return sc_q_end(&r);
}

/* ---- queueing alerts --------------------------------------------------------------------- */

/*
 * Inside 'db''s write: one outbox row of 'type' ("notify.KIND") per live
 * target of member 'member_id' (or only target 'only' when > 0), unless the
 * member switched KIND off.
 */
static enum sc_err notify_add(struct sc_db *db, int64_t member_id, int64_t only, const char *type,
                              int64_t event_ts, const char *data)
{
    /* The member's own targets, then the team targets of their team's managers and of
     * admins (not their own twice), with the member's name for those. */
    static struct sc_sql q_targets = SC_SQL(
        "SELECT w.id, coalesce(p.events, '" SC_NOTIFY_EVENTS_ALL "'), w.member_id, "
        "(SELECT name FROM members WHERE id = ?1) FROM webhooks w "
        "LEFT JOIN notify_prefs p ON p.member_id = w.member_id WHERE w.kind <> 'webhook' "
        "AND w.disabled = 0 AND (w.member_id = ?1 OR (w.team = 1 AND w.member_id IN ("
        "SELECT mg.id FROM members mg JOIN members me ON me.id = ?1 WHERE mg.disabled = 0 AND "
        "(mg.role = 2 OR (mg.role = 1 AND me.team <> '' AND mg.team = me.team))))) "
        "ORDER BY w.id LIMIT 64");
    int64_t ids[64];
    bool theirs[64];
    char *team_data = NULL;
    size_t n = 0;
    enum sc_err e = SC_OK;
    const char *kind = strncmp(type, "notify.", 7) == 0 ? type + 7 : type;
    struct sc_stmt *st = sc_sql_prepare(db, &q_targets, &e);
    if (!st)
        return e;
    sc_sql_int(st, 1, member_id);
    bool row = false;
    while ((e = sc_sql_step(st, &row)) == SC_OK && row) {
        int64_t id = sc_sql_col_int(st, 0);
        bool own = sc_sql_col_int(st, 2) == member_id;
        bool on = only > 0 ? id == only && own : listed(sc_sql_col_text(st, 1), kind);
        if (n < 64 && on) {
            theirs[n] = !own;
            ids[n++] = id;
        }
        if (!own && !team_data && data[0] == '{') {
            /* {"member":"NAME", ...the alert's fields} for a manager's team target */
            struct sc_buf b;
            sc_buf_init(&b, 1 << 20);
            sc_buf_puts(&b, "{\"member\":");
            put_str(&b, sc_sql_col_text(st, 3));
            if (data[1] != '}')
                sc_buf_putc(&b, ',');
            sc_buf_puts(&b, data + 1);
            team_data = sc_buf_error(&b) == SC_OK ? strdup(b.data) : NULL;
            sc_buf_cleanup(&b);
        }
    }
    sc_sql_reset(st);
    for (size_t i = 0; e == SC_OK && i < n; i++)
        e = sc_q_outbox_to(db, ids[i], type, event_ts, theirs[i] && team_data ? team_data : data);
    free(team_data);
    return e;
}

enum sc_err sc_store_notify_add(struct sc_store *s, int64_t member_id, int64_t only,
                                const char *type, int64_t event_ts, const char *data_json)
{
    struct sc_q r;
    if (sc_q_write(&r, s, true))
        r.e = notify_add(r.db, member_id, only, type, event_ts, data_json);
    return sc_q_end(&r);
}

enum sc_err sc_q_notify_signup(struct sc_db *db, int64_t customer_id)
{
    static struct sc_sql q = SC_SQL(
        "SELECT s.level1_type, coalesce(s.level1_id, 0), s.level2_type, coalesce(s.level2_id, 0), "
        "s.name, c.slug, s.created_at FROM customers s JOIN cards c ON c.id = s.card_id "
        "WHERE s.id = ?");
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
    if (!st)
        return e;
    sc_sql_int(st, 1, customer_id);
    bool row = false;
    int64_t member[2] = {0, 0}, ts = 0;
    char *data[2] = {NULL, NULL};
    if ((e = sc_sql_step(st, &row)) == SC_OK && row) {
        ts = sc_sql_col_int(st, 6);
        for (int lv = 0; lv < 2; lv++) {
            if (sc_sql_col_int(st, 2 * lv) != SC_PARTY_MEMBER)
                continue;
            member[lv] = sc_sql_col_int(st, 2 * lv + 1);
            struct sc_buf b;
            sc_buf_init(&b, 4096);
            sc_buf_printf(&b, "{\"level\":%d,\"customer_id\":%lld,\"card\":", lv + 1,
                          (long long)customer_id);
            put_str(&b, sc_sql_col_text(st, 5));
            /* The name only for the member the customer came to directly: level 2 sees a count. */
            if (lv == 0) {
                sc_buf_puts(&b, ",\"name\":");
                put_str(&b, sc_sql_col_text(st, 4));
            }
            sc_buf_putc(&b, '}');
            if (sc_buf_error(&b) == SC_OK)
                data[lv] = strdup(b.data);
            sc_buf_cleanup(&b);
            if (!data[lv])
                e = SC_ENOMEM;
        }
    }
    sc_sql_reset(st);
    for (int lv = 0; e == SC_OK && lv < 2; lv++)
        if (member[lv] > 0 && data[lv])
            e = notify_add(db, member[lv], 0, "notify.signup", ts, data[lv]);
    free(data[0]);
    free(data[1]);
    return e;
}

enum sc_err sc_store_notify_reminders(struct sc_store *s, int64_t now, int64_t *queued)
{
    /* Only reminders fallen due within the last day: older ones (set before this existed,
     * or while the service was down for long) are not news any more. */
    static struct sc_sql q_due = SC_SQL(
        "SELECT f.id, f.member_id, f.visitor_id, c.slug, f.note, f.reminder_at FROM followups f "
        "JOIN cards c ON c.id = f.card_id WHERE f.reminder_at IS NOT NULL AND f.reminder_at <= ?1 "
        "AND f.reminder_at > ?1 - 86400 AND f.done = 0 AND f.notified_at = 0 "
        "ORDER BY f.reminder_at LIMIT 100");
    static struct sc_sql q_mark = SC_SQL("UPDATE followups SET notified_at = ? WHERE id = ?");
    struct due {
        int64_t id, member, lead, at;
        char *data;
    } v[100];
    size_t n = 0;
    struct sc_q r;
    *queued = 0;
    if (sc_q_write(&r, s, true) && sc_q_prepare(&r, &q_due)) {
        sc_sql_int(r.st, 1, now);
        while (n < 100 && sc_q_next(&r)) {
            struct sc_buf b;
            sc_buf_init(&b, 8192);
            v[n].id = sc_sql_col_int(r.st, 0);
            v[n].member = sc_sql_col_int(r.st, 1);
            v[n].lead = sc_sql_col_int(r.st, 2);
            v[n].at = sc_sql_col_int(r.st, 5);
            sc_buf_printf(&b, "{\"lead\":%lld,\"card\":", (long long)v[n].lead);
            put_str(&b, sc_sql_col_text(r.st, 3));
            sc_buf_puts(&b, ",\"note\":");
            put_str(&b, sc_sql_col_text(r.st, 4));
            sc_buf_printf(&b, ",\"due\":%lld}", (long long)v[n].at);
            v[n].data = sc_buf_error(&b) == SC_OK ? strdup(b.data) : NULL;
            sc_buf_cleanup(&b);
            if (!v[n].data)
                r.e = SC_ENOMEM;
            n++;
        }
        if (r.st)
            sc_sql_reset(r.st);
    }
    for (size_t i = 0; i < n && r.e == SC_OK; i++) {
        r.e = notify_add(r.db, v[i].member, 0, "notify.reminder", v[i].at, v[i].data);
        if (r.e == SC_OK && sc_q_prepare(&r, &q_mark)) {
            sc_sql_int(r.st, 1, now);
            sc_sql_int(r.st, 2, v[i].id);
            sc_q_exec(&r, false);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(v[i].data);
    if (sc_q_end(&r) == SC_OK)
        *queued = (int64_t)n;
    return r.e;
}

enum sc_err sc_store_outbox_defer(struct sc_store *s, int64_t id, const char *token,
                                  int64_t next_at)
{
    static struct sc_sql q =
        SC_SQL("UPDATE webhook_outbox SET next_at = ?, claimed_by = NULL, claimed_until = 0 "
               "WHERE id = ? AND claimed_by = ? AND status = 'pending'");
    struct sc_q r;
    if (sc_q_write(&r, s, false) && sc_q_prepare(&r, &q)) {
        sc_sql_int(r.st, 1, next_at);
        sc_sql_int(r.st, 2, id);
        sc_sql_text(r.st, 3, token);
        sc_q_exec(&r, false);
    }
    return sc_q_end(&r);
}

/* ---- the daily digest ---------------------------------------------------------------------- */

enum sc_err sc_store_notify_digest_members(
    struct sc_store *s, int (*fn)(const struct sc_notify_digest_due *d, void *ctx), void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT DISTINCT w.member_id, coalesce(p.digest_hour, " SC_NOTIFY_DIGEST_HOUR_S "), "
               "coalesce(p.digest_day, '') FROM webhooks w LEFT JOIN notify_prefs p "
               "ON p.member_id = w.member_id WHERE w.kind <> 'webhook' AND w.disabled = 0 "
               "ORDER BY w.member_id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    while (sc_q_next(&r)) {
        struct sc_notify_digest_due d = {sc_sql_col_int(r.st, 0), (int)sc_sql_col_int(r.st, 1),
                                         sc_sql_col_text(r.st, 2)};
        if (!d.last_day)
            d.last_day = "";
        if (fn(&d, ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_notify_digest_figures(struct sc_store *s, int64_t member_id, int64_t from,
                                           int64_t to, int64_t day, struct sc_notify_digest *out)
{
    static struct sc_sql q_card = SC_SQL("SELECT id, slug FROM cards WHERE member_id = ?");
    static struct sc_sql q_signups =
        SC_SQL("SELECT count(*) FROM customers WHERE ((level1_type = 1 AND level1_id = ?1) OR "
               "(level2_type = 1 AND level2_id = ?1)) AND created_at >= ?2 AND created_at < ?3");
    static struct sc_sql q_rewards =
        SC_SQL("SELECT count(*) FROM rewards WHERE party_type = 1 AND party_id = ?1 "
               "AND created_at >= ?2 AND created_at < ?3");
    /* New leads: the card's people of UTC day ?2 (its unique rows, by primary key, as the
     * visitors figure) with no event on the card before that day (events_lead, one seek each;
     * events have no index by card and time, so they are not scanned for the day). */
    static struct sc_sql q_leads = SC_SQL(
        "SELECT count(*) FROM rollup_uniques u WHERE u.card_id = ?1 AND u.day = ?2 AND NOT "
        "EXISTS (SELECT 1 FROM events p WHERE p.visitor_id = u.visitor_id AND p.card_id = ?1 "
        "AND p.ts < ?2 * 86400)");
    /* The hottest leads that crossed in the week up to the day's end, each once. */
    static struct sc_sql q_hot =
        SC_SQL("SELECT visitor_id, max(score) FROM lead_hot WHERE card_id = ?1 AND hot = 1 "
               "AND ts >= ?2 - 604800 AND ts < ?3 GROUP BY visitor_id "
               "ORDER BY max(score) DESC, visitor_id LIMIT 3");
    struct sc_q r;
    int64_t card = 0;
    memset(out, 0, sizeof(*out));
    if (!sc_q_read(&r, s, &q_card))
        return r.e;
    sc_sql_int(r.st, 1, member_id);
    if (sc_q_next(&r)) {
        card = sc_sql_col_int(r.st, 0);
        const char *slug = sc_sql_col_text(r.st, 1);
        snprintf(out->card, sizeof(out->card), "%s", slug ? slug : "");
    }
    if (sc_q_end(&r) != SC_OK)
        return r.e;
    if (card == 0)
        return SC_ENOTFOUND;
    struct sc_stats st;
    enum sc_err e = sc_store_card_stats(s, card, day, day, &st);
    if (e != SC_OK)
        return e;
    out->scans = st.n[SC_EV_SCAN] + st.n[SC_EV_OPEN];
    out->views = st.n[SC_EV_VIEW];
    out->visitors = st.uniques;
    struct sc_sql *qs[3] = {&q_signups, &q_rewards, &q_leads};
    int64_t *outs[3] = {&out->signups, &out->rewards, &out->leads};
    for (int i = 0; i < 3; i++) {
        if (!sc_q_read(&r, s, qs[i]))
            return r.e;
        sc_sql_int(r.st, 1, i == 2 ? card : member_id);
        sc_sql_int(r.st, 2, i == 2 ? day : from);
        if (i < 2)
            sc_sql_int(r.st, 3, to);
        if (sc_q_next(&r))
            *outs[i] = sc_sql_col_int(r.st, 0);
        if (sc_q_end(&r) != SC_OK)
            return r.e;
    }
    if (!sc_q_read(&r, s, &q_hot))
        return r.e;
    sc_sql_int(r.st, 1, card);
    sc_sql_int(r.st, 2, from);
    sc_sql_int(r.st, 3, to);
    while (out->n_hot < 3 && sc_q_next(&r)) {
        out->hot[out->n_hot] = sc_sql_col_int(r.st, 0);
        out->hot_score[out->n_hot++] = (int)sc_sql_col_int(r.st, 1);
    }
    return sc_q_end(&r);
}

/* Inside the daily pass's write: "notify.quiet" for each level-1 customer of the member whose
 * last sign-up or order fell in [from, to). */
static enum sc_err gone_quiet(struct sc_db *db, int64_t member_id, int64_t from, int64_t to,
                              int64_t now)
{
    static struct sc_sql q = SC_SQL(
        "SELECT s.id, s.name, x.last FROM customers s JOIN (SELECT c.id, CASE WHEN "
        "coalesce(max(v.created_at), 0) > c.created_at THEN max(v.created_at) ELSE c.created_at "
        "END AS last FROM customers c LEFT JOIN conversions v ON v.customer_id = c.id "
        "WHERE c.level1_type = 1 AND c.level1_id = ?1 GROUP BY c.id, c.created_at) x "
        "ON x.id = s.id WHERE x.last >= ?2 AND x.last < ?3 ORDER BY x.last, s.id LIMIT 20");
    char *data[20];
    size_t n = 0;
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
    if (!st)
        return e;
    sc_sql_int(st, 1, member_id);
    sc_sql_int(st, 2, from);
    sc_sql_int(st, 3, to);
    bool row = false;
    while (n < 20 && (e = sc_sql_step(st, &row)) == SC_OK && row) {
        struct sc_buf b;
        sc_buf_init(&b, 4096);
        sc_buf_printf(&b, "{\"customer_id\":%lld,\"name\":", (long long)sc_sql_col_int(st, 0));
        put_str(&b, sc_sql_col_text(st, 1));
        sc_buf_printf(&b, ",\"last\":%lld}", (long long)sc_sql_col_int(st, 2));
        data[n] = sc_buf_error(&b) == SC_OK ? strdup(b.data) : NULL;
        sc_buf_cleanup(&b);
        if (!data[n])
            e = SC_ENOMEM;
        else
            n++;
    }
    sc_sql_reset(st);
    for (size_t i = 0; i < n; i++) {
        if (e == SC_OK)
            e = notify_add(db, member_id, 0, "notify.quiet", now, data[i]);
        free(data[i]);
    }
    return e;
}

enum sc_err sc_store_notify_daily(struct sc_store *s, int64_t member_id, const char *day,
                                  int64_t now, const char *digest_json, int64_t quiet_from,
                                  int64_t quiet_to, bool *queued)
{
    /* Marking the day first, where it was not yet marked: of two instances one queues it. */
    static struct sc_sql q_mark = SC_SQL(
        "INSERT INTO notify_prefs (member_id, events, digest_day) VALUES (?1, "
        "'" SC_NOTIFY_EVENTS_ALL "', ?2) ON CONFLICT (member_id) DO UPDATE SET digest_day = ?2 "
        "WHERE notify_prefs.digest_day <> ?2");
    struct sc_q r;
    int64_t changed = 0;
    *queued = false;
    if (sc_q_write(&r, s, true) && sc_q_prepare(&r, &q_mark)) {
        sc_sql_int(r.st, 1, member_id);
        sc_sql_text(r.st, 2, day);
        r.e = sc_sql_exec(r.st, &changed);
    }
    if (r.e == SC_OK && changed > 0) {
        if (digest_json)
            r.e = notify_add(r.db, member_id, 0, "notify.digest", now, digest_json);
        if (r.e == SC_OK)
            r.e = gone_quiet(r.db, member_id, quiet_from, quiet_to, now);
        *queued = r.e == SC_OK;
    }
    return sc_q_end(&r);
}
