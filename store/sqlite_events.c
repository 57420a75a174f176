/*
 * sqlite_events.c — SQLite's hot path: a batch of events in one
 * transaction, visitors filed under 16-byte keys with ids from a counter,
 * user agents and recent keys and unique rows cached by the writer,
 * rollups summed per key and written once per batch.  Per backend because
 * it is written for SQLite's strengths (PostgreSQL's is pg_events.c); the
 * referral writes it calls are shared (q_referral.c).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sqlite_int.h"

const char *const sc_sqlite_sql[ST_COUNT] = {
    [ST_LINK_INSERT] = "INSERT INTO links (code, card_id, channel, owner_member_id, "
                       "owner_customer_id, parent_link_id, created_at, owner_visitor_id) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_VKEY_INSERT] = "INSERT INTO visitor_keys (key, id) VALUES (?, ?) ON CONFLICT DO NOTHING",
    [ST_VISITOR_NAME] = "INSERT OR IGNORE INTO visitors (id, vid, first_seen, last_seen) "
                        "VALUES (?1, ?2, ?3, ?3)",
    [ST_COUNTER_GET] = "SELECT value FROM counters WHERE name = ?",
    [ST_COUNTER_SET] = "INSERT INTO counters (name, value) VALUES (?1, ?2) "
                       "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    [ST_COUNTER_BUMP] = "INSERT INTO counters (name, value) VALUES (?1, 1) "
                        "ON CONFLICT (name) DO UPDATE SET value = value + 1",
    [ST_VISITOR_ID] = "SELECT id FROM visitor_keys WHERE key = ?",
    [ST_AGENT_GET] = "SELECT id FROM agents WHERE ua = ?",
    [ST_AGENT_INSERT] = "INSERT INTO agents (ua, browser, os, device, bot_reason) "
                        "VALUES (?, ?, ?, ?, ?)",
    [ST_EVENT_INSERT] = "INSERT INTO events (ts, type, card_id, link_id, visitor_id, agent_id, "
                        "ip, referrer, bot, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_ROLLUP_UPSERT] = "INSERT INTO rollups (day, card_id, link_id, type, humans, bots) "
                         "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                         "humans = humans + excluded.humans, bots = bots + excluded.bots",
    [ST_UNIQUE_INSERT] = "INSERT OR IGNORE INTO rollup_uniques (card_id, day, visitor_id, "
                         "device) VALUES (?, ?, ?, ?)",
    [ST_VISITOR_REACHED] = "SELECT 1 FROM visitor_keys k JOIN events e ON e.visitor_id = k.id "
                           "WHERE k.key = ?1 AND e.visitor_id IS NOT NULL AND e.card_id = ?2 "
                           "AND e.type IN (0, 1, 2) "
                           "AND (?3 = 0 OR e.link_id = ?3) LIMIT 1",
    [ST_ERASE_VKEY] = "DELETE FROM visitor_keys WHERE key = "
                      "sc_vid_key((SELECT vid FROM visitors WHERE id = ?1))",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v && v[0])
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* Steps a statement that returns no rows. */
enum sc_err sc_sqlite_step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SC_OK : sc_sqlite_map_rc(rc) ? sc_sqlite_map_rc(rc) : SC_EDB;
}

/*
 * An erasure cuts visitor 'visitor''s key from their browser: the key row
 * goes, and the erasure count moves, so every process's writer drops its
 * key cache at its next write (caches_check).
 */
enum sc_err sc_sqlite_visitor_forget(struct sc_db *db, int64_t visitor)
{
    struct conn *c = (struct conn *)db;
    sqlite3_stmt *st = sc_sqlite_stmt(c, ST_ERASE_VKEY);
    if (!st)
        return SC_EDB;
    sqlite3_bind_int64(st, 1, visitor);
    enum sc_err e = sc_sqlite_step_done(st);
    if (e == SC_OK && (st = sc_sqlite_stmt(c, ST_COUNTER_BUMP)) != NULL) {
        sqlite3_bind_text(st, 1, "erasures", -1, SQLITE_STATIC);
        e = sc_sqlite_step_done(st);
    }
    return e;
}

/* ---- events ------------------------------------------------------------------- */

/* A write transaction begins: the visitor counter is read afresh when first needed. */
static void visitors_begin(struct sq_store *s)
{
    s->vid_loaded = false;
    s->vid_dirty = false;
}

/* The store's counter 'name' (a row of 'counters') into '*out'; 0 when it has no row yet. */
static enum sc_err counter_get(struct conn *c, const char *name, int64_t *out)
{
    sqlite3_stmt *st = sc_sqlite_stmt(c, ST_COUNTER_GET);
    if (!st)
        return SC_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return sc_sqlite_map_rc(rc);
}

/* Before COMMIT: the counter's new value joins the transaction. */
static enum sc_err visitors_flush(struct sq_store *s, struct conn *c)
{
    if (!s->vid_dirty)
        return SC_OK;
    sqlite3_stmt *st = sc_sqlite_stmt(c, ST_COUNTER_SET);
    if (!st)
        return SC_EDB;
    sqlite3_bind_text(st, 1, "visitor", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, s->vid_last);
    enum sc_err e = sc_sqlite_step_done(st);
    if (e == SC_OK)
        s->vid_dirty = false;
    return e;
}

/*
 * The id of visitor 'vid', filed under its key (sc_visitor_key()); a new
 * visitor gets the next id of the counter, which visitors_flush() stores
 * with the transaction, and '*fresh' is set (it is left alone otherwise).
 * 'minted': the request minted 'vid' just now, so the cache is not asked.  Most visitors are new (a
 * scan is often someone's only visit), so this is one lookup and one insert into one B-tree.
 */
static int64_t visitor_of(struct sq_store *s, struct conn *c, const char *vid, bool minted,
                          bool *fresh, enum sc_err *e)
{
    unsigned char key[SC_VKEY_LEN];
    sc_visitor_key(vid, key);
    uint32_t h;
    memcpy(&h, key + SC_VKEY_LEN - sizeof(h), sizeof(h)); /* hash bytes, in every key */
    struct vkey_slot *slot = &s->vkeys[h % VKEY_SLOTS];
    /* An id minted by its request is in no cache: not worth a cache miss (the insert tells). */
    if (!minted && slot->id && memcmp(slot->key, key, SC_VKEY_LEN) == 0)
        return slot->id;
    sqlite3_stmt *st;
    int rc;
    if (!s->vid_loaded) {
        if ((*e = counter_get(c, "visitor", &s->vid_last)) != SC_OK)
            return 0;
        s->vid_loaded = true;
    }
    /* Most visitors are new (a scan is often someone's only visit): try the insert first. */
    if (!(st = sc_sqlite_stmt(c, ST_VKEY_INSERT))) {
        *e = SC_EDB;
        return 0;
    }
    sqlite3_bind_blob(st, 1, key, sizeof(key), SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, s->vid_last + 1);
    if ((*e = sc_sqlite_step_done(st)) != SC_OK)
        return 0;
    if (sqlite3_changes(c->db) == 1) {
        *fresh = true;
        s->vid_dirty = true;
        memcpy(slot->key, key, SC_VKEY_LEN);
        slot->id = ++s->vid_last;
        return slot->id;
    }
    if (!(st = sc_sqlite_stmt(c, ST_VISITOR_ID))) {
        *e = SC_EDB;
        return 0;
    }
    sqlite3_bind_blob(st, 1, key, sizeof(key), SQLITE_STATIC);
    rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (!id)
        *e = rc == SQLITE_ROW || rc == SQLITE_DONE ? SC_EDB : sc_sqlite_map_rc(rc);
    memcpy(slot->key, key, SC_VKEY_LEN);
    slot->id = id;
    return id;
}

/* A write transaction failed: what the caches learnt in it may not exist. */
static void caches_forget(struct sq_store *s)
{
    memset(s->vkeys, 0, VKEY_SLOTS * sizeof(*s->vkeys));
    memset(s->uniqs, 0, UNIQ_SLOTS * sizeof(*s->uniqs));
    memset(s->agents, 0, AGENT_SLOTS * sizeof(*s->agents));
}

/*
 * Inside a write transaction: an erasure (by this process or another on the
 * same file) deletes a visitor's key, so the key cache is trusted only while
 * the store's erasure count is the one it was filled under.
 */
static enum sc_err caches_check(struct sq_store *s, struct conn *c)
{
    int64_t n = 0;
    enum sc_err e = counter_get(c, "erasures", &n);
    if (e != SC_OK)
        return e;
    if (n != s->erasures) {
        memset(s->vkeys, 0, VKEY_SLOTS * sizeof(*s->vkeys));
        s->erasures = n;
    }
    return SC_OK;
}

/* Keeps the text of visitor 'vid' (id 'id'): it owns a link or is a customer, and is read back. */
static enum sc_err visitor_name(struct conn *c, int64_t id, const char *vid, int64_t ts)
{
    sqlite3_stmt *st = sc_sqlite_stmt(c, ST_VISITOR_NAME);
    if (!st)
        return SC_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, vid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ts);
    return sc_sqlite_step_done(st);
}

static size_t agent_slot_of(const char *ua)
{
    return (size_t)(sc_ua_hash(ua, strlen(ua)) % AGENT_SLOTS);
}

/* The id of user-agent 'row->ev->ua', stored on first sight. */
static int64_t agent_id(struct sq_store *s, struct conn *c, const struct sc_event_row *row,
                        enum sc_err *e)
{
    const char *ua = row->ev->ua;
    struct agent_slot *slot = &s->agents[agent_slot_of(ua)];
    if (slot->id && strcmp(slot->ua, ua) == 0)
        return slot->id;
    sqlite3_stmt *st = sc_sqlite_stmt(c, ST_AGENT_GET);
    if (!st) {
        *e = SC_EDB;
        return 0;
    }
    sqlite3_bind_text(st, 1, ua, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        *e = sc_sqlite_map_rc(rc);
        return 0;
    }
    if (!id) {
        st = sc_sqlite_stmt(c, ST_AGENT_INSERT);
        if (!st) {
            *e = SC_EDB;
            return 0;
        }
        sqlite3_bind_text(st, 1, ua, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, row->agent->browser, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, row->agent->os, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, row->agent->device, -1, SQLITE_STATIC);
        bind_text(st, 5, row->bot_reason);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            *e = sc_sqlite_map_rc(rc);
            return 0;
        }
        id = sqlite3_last_insert_rowid(c->db);
    }
    slot->id = id;
    snprintf(slot->ua, sizeof(slot->ua), "%s", ua);
    return id;
}

/*
 * Binds an anonymised address compactly: an IPv4 /24 as the integer of its
 * first three octets (four bytes on disk instead of up to fifteen), anything
 * else (an IPv6 /48) as text, none as NULL.
 */
static void bind_ip(sqlite3_stmt *st, int i, const char *ip)
{
    struct in_addr a;
    if (inet_pton(AF_INET, ip, &a) == 1) {
        uint32_t v = ntohl(a.s_addr);
        sqlite3_bind_int64(st, i, (sqlite3_int64)(v >> 8));
    } else {
        bind_text(st, i, ip);
    }
}

/* A batch's contribution to one rollup row (type >= 0) or one unique row (type -1). */
struct tally {
    int64_t card_id, day, link_id, visitor_id;
    int type;
    int device; /* unique rows: the visitor's enum sc_device */
    bool fresh; /* unique rows: the visitor is new in this batch, so the row cannot exist yet */
    int64_t humans, bots;
};

/* Stores one event; appends its rollup and unique-visitor tallies to 'tl' (room for two). */
static enum sc_err write_event(struct sq_store *s, struct conn *c, struct sc_event_row *row,
                               struct tally *tl, size_t *ntl)
{
    const struct sc_event *ev = row->ev;
    enum sc_err e = SC_OK;
    bool fresh = false;
    int64_t vid = ev->visitor[0] ? visitor_of(s, c, ev->visitor, ev->minted, &fresh, &e) : 0;
    if (e != SC_OK)
        return e;
    int64_t aid = agent_id(s, c, row, &e);
    if (e != SC_OK)
        return e;
    bool bot = row->bot_reason != NULL;
    int64_t link_id = ev->link_id;
    int64_t card_id = ev->card_id;
    int64_t day = ev->ts / 86400; /* a purchase's: the day it was made */
    if (ev->type == SC_EV_SIGNUP && ev->signup) {
        if ((e = sc_q_signup_write(&c->base, row, vid, &link_id)) != SC_OK || row->result != SC_OK)
            return e;
        if (vid && (e = visitor_name(c, vid, ev->visitor, ev->ts)) != SC_OK)
            return e;
    } else if (ev->type == SC_EV_CONVERT && ev->conversion) {
        bool skip = false;
        if ((e = sc_q_conversion_write(&c->base, row, &card_id, &day, &skip)) != SC_OK || skip)
            return e;
        link_id = 0;
        bot = false; /* an order is an order, whichever client posted it */
    }
    if (ev->type == SC_EV_SHARE && ev->new_code[0]) {
        /* The minted link lives or dies with its share event. */
        int64_t cust = ev->owner_customer_id;
        if (!cust && !ev->owner_member_id && vid) {
            /* A visitor who is a customer shares as that customer. */
            if ((e = sc_q_customer_of_visitor(&c->base, vid, &cust)) != SC_OK)
                return e;
        }
        sqlite3_stmt *ls = sc_sqlite_stmt(c, ST_LINK_INSERT);
        if (!ls)
            return SC_EDB;
        sqlite3_bind_text(ls, 1, ev->new_code, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ls, 2, card_id);
        sqlite3_bind_int(ls, 3, ev->new_channel);
        if (ev->owner_member_id)
            sqlite3_bind_int64(ls, 4, ev->owner_member_id);
        if (cust)
            sqlite3_bind_int64(ls, 5, cust);
        if (ev->new_parent)
            sqlite3_bind_int64(ls, 6, ev->new_parent);
        sqlite3_bind_int64(ls, 7, ev->ts);
        if (vid && !cust && !ev->owner_member_id) {
            sqlite3_bind_int64(ls, 8, vid);
            if ((e = visitor_name(c, vid, ev->visitor, ev->ts)) != SC_OK) {
                sqlite3_reset(ls);
                return e;
            }
        }
        int lrc = sqlite3_step(ls);
        sqlite3_reset(ls);
        if (lrc != SQLITE_DONE)
            return sc_sqlite_map_rc(lrc) ? sc_sqlite_map_rc(lrc) : SC_EDB;
        link_id = sqlite3_last_insert_rowid(c->db);
    }
    sqlite3_stmt *st = sc_sqlite_stmt(c, ST_EVENT_INSERT);
    if (!st)
        return SC_EDB;
    sqlite3_bind_int64(st, 1, ev->ts);
    sqlite3_bind_int(st, 2, (int)ev->type);
    sqlite3_bind_int64(st, 3, card_id);
    if (link_id)
        sqlite3_bind_int64(st, 4, link_id);
    if (vid)
        sqlite3_bind_int64(st, 5, vid);
    sqlite3_bind_int64(st, 6, aid);
    bind_ip(st, 7, ev->ip);
    bind_text(st, 8, ev->referrer_host);
    sqlite3_bind_int(st, 9, sc_bot_code(row->bot_reason));
    if (ev->type == SC_EV_DWELL)
        sqlite3_bind_int(st, 10, ev->value);
    else if (ev->type == SC_EV_CLICK)
        sqlite3_bind_int(st, 10, (int)ev->action);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return sc_sqlite_map_rc(rc) ? sc_sqlite_map_rc(rc) : SC_EDB;

    /* Rollups and unique rows are counted here and written once per key at the batch's end. */
    struct tally *t = &tl[(*ntl)++];
    *t = (struct tally){.card_id = card_id,
                        .day = day,
                        .link_id = link_id,
                        .type = (int)ev->type,
                        .visitor_id = 0,
                        .humans = bot ? 0 : 1,
                        .bots = bot ? 1 : 0};
    if (!bot && vid &&
        (ev->type == SC_EV_SCAN || ev->type == SC_EV_OPEN || ev->type == SC_EV_VIEW)) {
        *(t + 1) =
            (struct tally){.card_id = card_id,
                           .day = day,
                           .visitor_id = vid,
                           .type = -1,
                           .fresh = fresh,
                           .device = (int)sc_device_of(row->agent ? row->agent->device : NULL)};
        (*ntl)++;
    }
    return SC_OK;
}

/* Orders tallies by rollup key (unique rows, type -1, by visitor): the tables' own order. */
static int tally_cmp(const void *a, const void *b)
{
    const struct tally *x = a, *y = b;
    if ((x->type < 0) != (y->type < 0))
        return x->type < 0 ? 1 : -1;
#define CMP(f)                                                                                     \
    if (x->f != y->f)                                                                              \
        return x->f < y->f ? -1 : 1;
    CMP(card_id)
    CMP(day)
    CMP(link_id)
    CMP(type)
    CMP(visitor_id)
#undef CMP
    return 0;
}

/*
 * Writes a batch's tallies 'tl' (n of them; sorted here): one rollup upsert
 * per (day, card, link, type) and one unique row per (card, day, visitor),
 * in key order, instead of a statement per event.
 */
static enum sc_err write_tallies(struct sq_store *s, struct conn *c, struct tally *tl, size_t n)
{
    /*
     * The batch's earliest day: a compacted day that gets an event is
     * reopened, whatever the event, since the cached company sums of those
     * days (q_cache.c) must stay the stored ones.
     */
    int64_t first = INT64_MAX;
    qsort(tl, n, sizeof(*tl), tally_cmp);
    for (size_t i = 0; i < n;) {
        struct tally sum = tl[i];
        size_t j = i + 1;
        for (; j < n && tally_cmp(&tl[j], &sum) == 0; j++) {
            sum.humans += tl[j].humans;
            sum.bots += tl[j].bots;
            sum.fresh |= tl[j].fresh;
        }
        i = j;
        if (sum.day < first)
            first = sum.day;
        bool uniq = sum.type < 0;
        struct uniq_slot *u = NULL;
        if (uniq) { /* a visitor's second event of the day on a card: its row is there */
            uint64_t h = ((uint64_t)sum.visitor_id * 0x9E3779B97F4A7C15ULL) ^
                         ((uint64_t)sum.card_id * 0xC2B2AE3D27D4EB4FULL) ^ (uint64_t)sum.day;
            u = &s->uniqs[(h >> 32) % UNIQ_SLOTS];
            /* A visitor new in this batch has no row anywhere: not worth a cache miss. */
            if (!sum.fresh && u->visitor_id == sum.visitor_id && u->card_id == sum.card_id &&
                u->day == sum.day)
                continue;
        }
        sqlite3_stmt *st = sc_sqlite_stmt(c, uniq ? ST_UNIQUE_INSERT : ST_ROLLUP_UPSERT);
        if (!st)
            return SC_EDB;
        if (uniq) {
            sqlite3_bind_int64(st, 1, sum.card_id);
            sqlite3_bind_int64(st, 2, sum.day);
            sqlite3_bind_int64(st, 3, sum.visitor_id);
            sqlite3_bind_int(st, 4, sum.device);
        } else {
            sqlite3_bind_int64(st, 1, sum.day);
            sqlite3_bind_int64(st, 2, sum.card_id);
            sqlite3_bind_int64(st, 3, sum.link_id);
            sqlite3_bind_int(st, 4, sum.type);
            sqlite3_bind_int64(st, 5, sum.humans);
            sqlite3_bind_int64(st, 6, sum.bots);
        }
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return sc_sqlite_map_rc(rc) ? sc_sqlite_map_rc(rc) : SC_EDB;
        if (u)
            *u = (struct uniq_slot){sum.card_id, sum.day, sum.visitor_id};
    }
    return first == INT64_MAX ? SC_OK : sc_q_uniques_reopen(&c->base, first);
}

enum sc_err sc_sqlite_events_write(struct sc_store *base, struct sc_event_row *rows, size_t n)
{
    struct sq_store *s = sq(base);
    struct tally *tl = malloc((2 * n + 1) * sizeof(*tl));
    if (!tl)
        return SC_ENOMEM;
    size_t ntl = 0;
    struct conn *c = sc_sqlite_wr_begin(s);
    enum sc_err e = sc_sqlite_run(c, ST_BEGIN);
    visitors_begin(s);
    if (e == SC_OK)
        e = caches_check(s, c);
    for (size_t i = 0; e == SC_OK && i < n; i++) {
        rows[i].result = SC_OK;
        e = write_event(s, c, &rows[i], tl, &ntl);
    }
    if (e == SC_OK)
        e = write_tallies(s, c, tl, ntl);
    free(tl);
    if (e == SC_OK)
        e = visitors_flush(s, c);
    if (e == SC_OK)
        e = sc_sqlite_run(c, ST_COMMIT);
    if (e != SC_OK) {
        sc_sqlite_run(c, ST_ROLLBACK);
        /* Ids and rows cached during the failed transaction do not exist. */
        caches_forget(s);
    }
    sc_sqlite_wr_end(s);
    return e;
}

enum sc_err sc_sqlite_link_create(struct sc_store *base, struct sc_link *l)
{
    struct sq_store *s = sq(base);
    struct conn *c = sc_sqlite_wr_begin(s);
    enum sc_err e = sc_sqlite_run(c, ST_BEGIN);
    visitors_begin(s);
    if (e == SC_OK)
        e = caches_check(s, c);
    int64_t ts = now_s();
    int64_t vid = 0;
    if (e == SC_OK && l->owner_visitor[0]) {
        bool fresh = false;
        vid = visitor_of(s, c, l->owner_visitor, false, &fresh, &e);
        if (e == SC_OK)
            e = visitor_name(c, vid, l->owner_visitor, ts);
    }
    if (e == SC_OK)
        e = sc_q_link_insert(&c->base, l->card_id, l->channel, l->owner_member_id,
                             l->owner_customer_id, vid, l->parent_link_id, 0, l->code, &l->id);
    if (e == SC_OK)
        e = visitors_flush(s, c);
    if (e == SC_OK)
        e = sc_sqlite_run(c, ST_COMMIT);
    if (e != SC_OK) {
        sc_sqlite_run(c, ST_ROLLBACK);
        caches_forget(s);
    } else {
        l->created_at = ts;
    }
    sc_sqlite_wr_end(s);
    return e;
}

enum sc_err sc_sqlite_visitor_reached(struct sc_store *base, const char *vid, int64_t card_id,
                                      int64_t link_id, bool *out)
{
    struct sq_store *s = sq(base);
    struct conn *c;
    sqlite3_stmt *st = sc_sqlite_rd_stmt(s, ST_VISITOR_REACHED, &c);
    if (!st)
        return SC_EDB;
    unsigned char key[SC_VKEY_LEN];
    sc_visitor_key(vid, key);
    sqlite3_bind_blob(st, 1, key, sizeof(key), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, card_id);
    sqlite3_bind_int64(st, 3, link_id);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW;
    sc_sqlite_rd_end(s, c);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SC_OK : sc_sqlite_map_rc(rc);
}

enum sc_err sc_sqlite_visitor_id(struct sc_store *base, const char *vid, int64_t *out)
{
    struct sq_store *s = sq(base);
    struct conn *c;
    sqlite3_stmt *st = sc_sqlite_rd_stmt(s, ST_VISITOR_ID, &c);
    if (!st)
        return SC_EDB;
    unsigned char key[SC_VKEY_LEN];
    sc_visitor_key(vid, key);
    sqlite3_bind_blob(st, 1, key, sizeof(key), SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sc_sqlite_rd_end(s, c);
    return rc == SQLITE_ROW ? SC_OK : rc == SQLITE_DONE ? SC_ENOTFOUND : sc_sqlite_map_rc(rc);
}
