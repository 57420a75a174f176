/*
 * q_export.c — the operator's exports, once for both backends: whole tables
 * for `sharecard export` (members, cards, links, events, signups, customers,
 * conversions, rewards, coupons, payouts, audit) and everything stored about one person for
 * `sharecard customer export` (the access right beside erasure).
 *
 * Rows are handed out one at a time as struct sc_xrow (column names, kinds
 * and values), so the caller writes CSV or JSON as it goes.  A table is
 * read in pages of EXPORT_PAGE rows by id (keyset: "id > last"), each page
 * on a short read, so memory stays constant on both backends (libpq holds a
 * whole result in memory) and no read holds back SQLite's checkpoints for
 * the length of a 10M-row export.  Secrets (password hashes, token hashes,
 * avatars) are never exported.
 */
#include <string.h>

#include "store_int.h"

#define EXPORT_PAGE 2000

#define K_INT     SC_X_INT
#define K_TEXT    SC_X_TEXT
#define K_TIME    SC_X_TIME
#define K_EVTYPE  SC_X_EVTYPE
#define K_CHANNEL SC_X_CHANNEL
#define K_PARTY   SC_X_PARTY
#define K_ROLE    SC_X_ROLE
#define K_BOT     SC_X_BOT
#define K_BOOL    SC_X_BOOL

/*
 * One exportable set: its columns, and a page's SQL: ?1 the last id handed
 * out, ?2..?3 the time range [from, to) on 'time_col', ?4 the page size.
 * For a person's sets ?1 is their customer (or visitor) id instead.
 */
struct xset {
    const char *name;
    bool one; /* a person's set of one row (an object, not a list) */
    int ncol;
    const char *names[SC_XCOLS_MAX];
    unsigned char kinds[SC_XCOLS_MAX];
    struct sc_sql *q;
};

#define PAGE          " ORDER BY id LIMIT ?4"
#define RANGE(col, t) " FROM " t " WHERE id > ?1 AND " col " >= ?2 AND " col " < ?3"

static struct sc_sql q_members = SC_SQL(
    "SELECT id, email, name, team, role, disabled, created_at" RANGE("created_at", "members") PAGE);
static struct sc_sql q_cards =
    SC_SQL("SELECT id, member_id, slug, name, title, company, phone, phone_work, email, wechat, "
           "website, address, bio, updated_at" RANGE("updated_at", "cards") PAGE);
static struct sc_sql q_links =
    SC_SQL("SELECT id, code, card_id, channel, owner_member_id, owner_customer_id, "
           "owner_visitor_id, parent_link_id, created_at" RANGE("created_at", "links") PAGE);
/* Agents are one row per user-agent: a primary-key lookup per event. */
static struct sc_sql q_events =
    SC_SQL("SELECT e.id, e.ts, e.type, e.card_id, e.link_id, e.visitor_id, a.browser, a.os, "
           "a.device, e.referrer, e.bot, e.value FROM events e LEFT JOIN agents a ON a.id = "
           "e.agent_id WHERE e.id > ?1 AND e.ts >= ?2 AND e.ts < ?3 ORDER BY e.id LIMIT ?4");
static struct sc_sql q_signups =
    SC_SQL("SELECT id, card_id, referrer_link_id, touch_event_id, rule, level1_type, level1_id, "
           "level2_type, level2_id, notes, created_at" RANGE("created_at", "customers") PAGE);
static struct sc_sql q_customers =
    SC_SQL("SELECT id, name, email, phone, card_id, visitor_id, own_link_id, consent_version, "
           "created_at" RANGE("created_at", "customers") PAGE);
static struct sc_sql q_conversions = SC_SQL("SELECT id, order_id, customer_id, amount_cents, "
                                            "created_at" RANGE("created_at", "conversions") PAGE);
static struct sc_sql q_rewards =
    SC_SQL("SELECT id, customer_id, conversion_id, party_type, party_id, level, kind, amount, "
           "status, reason, created_at, approve_after, "
           "decided_at" RANGE("created_at", "rewards") PAGE);
/* Issue 19: coupons (the code is what the shop redeems) and payouts (finance's record). */
static struct sc_sql q_coupons =
    SC_SQL("SELECT id, code, customer_id, reward_id, kind, value, created_at, expires_at, "
           "redeemed_at, conversion_id, order_id" RANGE("created_at", "coupons") PAGE);
static struct sc_sql q_payouts =
    SC_SQL("SELECT id, payout_id, party_type, party_id, amount, created_at, "
           "actor" RANGE("created_at", "payouts") PAGE);
static struct sc_sql q_audit =
    SC_SQL("SELECT id, ts, actor, action, target, detail" RANGE("ts", "audit") PAGE);

static const struct xset tables[] = {
    {"members",
     false,
     7,
     {"id", "email", "name", "team", "role", "disabled", "created_at"},
     {K_INT, K_TEXT, K_TEXT, K_TEXT, K_ROLE, K_BOOL, K_TIME},
     &q_members},
    {"cards",
     false,
     14,
     {"id", "member_id", "slug", "name", "title", "company", "phone", "phone_work", "email",
      "wechat", "website", "address", "bio", "updated_at"},
     {K_INT, K_INT, K_TEXT, K_TEXT, K_TEXT, K_TEXT, K_TEXT, K_TEXT, K_TEXT, K_TEXT, K_TEXT, K_TEXT,
      K_TEXT, K_TIME},
     &q_cards},
    {"links",
     false,
     9,
     {"id", "code", "card_id", "channel", "owner_member_id", "owner_customer_id",
      "owner_visitor_id", "parent_link_id", "created_at"},
     {K_INT, K_TEXT, K_INT, K_CHANNEL, K_INT, K_INT, K_INT, K_INT, K_TIME},
     &q_links},
    {"events",
     false,
     12,
     {"id", "ts", "type", "card_id", "link_id", "visitor_id", "browser", "os", "device", "referrer",
      "bot", "value"},
     {K_INT, K_TIME, K_EVTYPE, K_INT, K_INT, K_INT, K_TEXT, K_TEXT, K_TEXT, K_TEXT, K_BOT, K_INT},
     &q_events},
    {"signups",
     false,
     11,
     {"id", "card_id", "link_id", "touch_event_id", "rule", "level1_type", "level1_id",
      "level2_type", "level2_id", "notes", "created_at"},
     {K_INT, K_INT, K_INT, K_INT, K_TEXT, K_PARTY, K_INT, K_PARTY, K_INT, K_TEXT, K_TIME},
     &q_signups},
    {"customers",
     false,
     9,
     {"id", "name", "email", "phone", "card_id", "visitor_id", "own_link_id", "consent_version",
      "created_at"},
     {K_INT, K_TEXT, K_TEXT, K_TEXT, K_INT, K_INT, K_INT, K_TEXT, K_TIME},
     &q_customers},
    {"conversions",
     false,
     5,
     {"id", "order_id", "customer_id", "amount_cents", "created_at"},
     {K_INT, K_TEXT, K_INT, K_INT, K_TIME},
     &q_conversions},
    {"rewards",
     false,
     13,
     {"id", "customer_id", "conversion_id", "party_type", "party_id", "level", "kind", "amount",
      "status", "reason", "created_at", "approve_after", "decided_at"},
     {K_INT, K_INT, K_INT, K_PARTY, K_INT, K_INT, K_TEXT, K_INT, K_TEXT, K_TEXT, K_TIME, K_TIME,
      K_TIME},
     &q_rewards},
    {"coupons",
     false,
     11,
     {"id", "code", "customer_id", "reward_id", "kind", "value", "created_at", "expires_at",
      "redeemed_at", "conversion_id", "order_id"},
     {K_INT, K_TEXT, K_INT, K_INT, K_TEXT, K_INT, K_TIME, K_TIME, K_TIME, K_INT, K_TEXT},
     &q_coupons},
    {"payouts",
     false,
     7,
     {"id", "payout_id", "party_type", "party_id", "amount", "created_at", "actor"},
     {K_INT, K_TEXT, K_PARTY, K_INT, K_INT, K_TIME, K_TEXT},
     &q_payouts},
    {"audit",
     false,
     6,
     {"id", "ts", "actor", "action", "target", "detail"},
     {K_INT, K_TIME, K_TEXT, K_TEXT, K_TEXT, K_TEXT},
     &q_audit},
};

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static const char *const table_names[] = {"members", "cards",     "links",       "events",
                                          "signups", "customers", "conversions", "rewards",
                                          "coupons", "payouts",   "audit",       NULL};

const char *const *sc_store_export_tables(void)
{
    return table_names;
}

static const struct xset *find_table(const char *name)
{
    for (size_t i = 0; i < NTABLES; i++)
        if (strcmp(tables[i].name, name) == 0)
            return &tables[i];
    return NULL;
}

/* Fills 'r''s shape (set, names, kinds) from 'x', with no values. */
static void shape(struct sc_xrow *r, const struct xset *x)
{
    memset(r, 0, sizeof(*r));
    r->set = x->name;
    r->one = x->one;
    r->ncol = x->ncol;
    r->name = x->names;
    r->kind = x->kinds;
}

/* The current row of 'st' into 'r' (shaped); its text is valid until the next step. */
static void read_row(struct sc_stmt *st, struct sc_xrow *r)
{
    r->start = false;
    for (int i = 0; i < r->ncol; i++) {
        r->null[i] = sc_sql_col_null(st, i);
        r->num[i] = r->null[i] ? 0 : sc_sql_col_int(st, i);
        r->text[i] = r->kind[i] == SC_X_TEXT ? sc_sql_col_text(st, i) : NULL;
    }
}

enum sc_err sc_store_export_columns(const char *table, struct sc_xrow *out)
{
    const struct xset *x = find_table(table);
    if (!x)
        return SC_ENOTFOUND;
    shape(out, x);
    out->start = true;
    return SC_OK;
}

enum sc_err sc_store_export(struct sc_store *s, const char *table, int64_t from, int64_t to,
                            int (*fn)(const struct sc_xrow *r, void *ctx), void *ctx)
{
    const struct xset *x = find_table(table);
    if (!x)
        return SC_ENOTFOUND;
    struct sc_xrow row;
    shape(&row, x);
    row.start = true;
    if (fn(&row, ctx))
        return SC_OK;
    int64_t last = 0;
    for (;;) {
        struct sc_q r;
        if (!sc_q_read(&r, s, x->q))
            return r.e;
        sc_sql_int(r.st, 1, last);
        sc_sql_int(r.st, 2, from);
        sc_sql_int(r.st, 3, to);
        sc_sql_int(r.st, 4, EXPORT_PAGE);
        int n = 0, stop = 0;
        while (!stop && sc_q_next(&r)) {
            read_row(r.st, &row);
            last = row.num[0];
            n++;
            stop = fn(&row, ctx);
        }
        enum sc_err e = sc_q_end(&r);
        if (e != SC_OK || stop || n < EXPORT_PAGE)
            return e;
    }
}

/* ---- one person --------------------------------------------------------------- */

static struct sc_sql q_person_find = SC_SQL(
    "SELECT id, coalesce(visitor_id, 0) FROM customers WHERE (CAST(?1 AS TEXT) IS NOT NULL AND "
    "email = ?1) OR (CAST(?2 AS TEXT) IS NOT NULL AND phone = ?2) ORDER BY id LIMIT 1");
static struct sc_sql q_person_profile =
    SC_SQL("SELECT c.id, c.name, c.email, c.phone, k.slug, c.ip, c.consent_version, c.created_at, "
           "c.created_at FROM customers c JOIN cards k ON k.id = c.card_id WHERE c.id = ?1");
static struct sc_sql q_person_signup =
    SC_SQL("SELECT k.slug, l.code, c.rule, c.level1_type, c.level1_id, c.level2_type, "
           "c.level2_id, c.notes, c.created_at FROM customers c JOIN cards k ON k.id = c.card_id "
           "LEFT JOIN links l ON l.id = c.referrer_link_id WHERE c.id = ?1");
static struct sc_sql q_person_links =
    SC_SQL("SELECT l.code, k.slug, l.channel, l.created_at FROM links l JOIN cards k ON k.id = "
           "l.card_id WHERE l.owner_customer_id = ?1 ORDER BY l.id");
static struct sc_sql q_person_visits =
    SC_SQL("SELECT e.ts, e.type, k.slug, l.code, l.channel, a.browser, a.os, a.device, "
           "e.referrer, e.value FROM events e JOIN cards k ON k.id = e.card_id LEFT JOIN links l "
           "ON l.id = e.link_id LEFT JOIN agents a ON a.id = e.agent_id WHERE e.visitor_id = ?1 "
           "ORDER BY e.id");
static struct sc_sql q_person_orders =
    SC_SQL("SELECT order_id, amount_cents, created_at FROM conversions WHERE customer_id = ?1 "
           "ORDER BY id");
static struct sc_sql q_person_rewards =
    SC_SQL("SELECT id, level, kind, amount, status, reason, customer_id, conversion_id, "
           "created_at, decided_at FROM rewards WHERE party_type = 2 AND party_id = ?1 "
           "ORDER BY id");

/* Issue 19: a person's coupons and the payouts made to them. */
static struct sc_sql q_person_coupons =
    SC_SQL("SELECT code, kind, value, created_at, expires_at, redeemed_at, order_id "
           "FROM coupons WHERE customer_id = ?1 ORDER BY id");
static struct sc_sql q_person_payouts =
    SC_SQL("SELECT payout_id, amount, created_at FROM payouts WHERE party_type = 2 AND "
           "party_id = ?1 ORDER BY id");

/* A person's sets in the order they are handed out; 'by_visitor': ?1 is their visitor id. */
static const struct {
    struct xset x;
    bool by_visitor;
} person[] = {
    {{"profile",
      true,
      9,
      {"id", "name", "email", "phone", "card", "ip", "consent_version", "consent_at",
       "signed_up_at"},
      {K_INT, K_TEXT, K_TEXT, K_TEXT, K_TEXT, K_TEXT, K_TEXT, K_TIME, K_TIME},
      &q_person_profile},
     false},
    {{"signup",
      true,
      9,
      {"card", "link", "rule", "level1_type", "level1_id", "level2_type", "level2_id", "notes",
       "created_at"},
      {K_TEXT, K_TEXT, K_TEXT, K_PARTY, K_INT, K_PARTY, K_INT, K_TEXT, K_TIME},
      &q_person_signup},
     false},
    {{"links",
      false,
      4,
      {"code", "card", "channel", "created_at"},
      {K_TEXT, K_TEXT, K_CHANNEL, K_TIME},
      &q_person_links},
     false},
    {{"visits",
      false,
      10,
      {"ts", "type", "card", "link", "channel", "browser", "os", "device", "referrer", "value"},
      {K_TIME, K_EVTYPE, K_TEXT, K_TEXT, K_CHANNEL, K_TEXT, K_TEXT, K_TEXT, K_TEXT, K_INT},
      &q_person_visits},
     true},
    {{"orders",
      false,
      3,
      {"order_id", "amount_cents", "created_at"},
      {K_TEXT, K_INT, K_TIME},
      &q_person_orders},
     false},
    {{"rewards",
      false,
      10,
      {"id", "level", "kind", "amount", "status", "reason", "from_customer_id", "conversion_id",
       "created_at", "decided_at"},
      {K_INT, K_INT, K_TEXT, K_INT, K_TEXT, K_TEXT, K_INT, K_INT, K_TIME, K_TIME},
      &q_person_rewards},
     false},
    {{"coupons",
      false,
      7,
      {"code", "kind", "value", "created_at", "expires_at", "redeemed_at", "order_id"},
      {K_TEXT, K_TEXT, K_INT, K_TIME, K_TIME, K_TIME, K_TEXT},
      &q_person_coupons},
     false},
    {{"payouts",
      false,
      3,
      {"payout_id", "amount_cents", "created_at"},
      {K_TEXT, K_INT, K_TIME},
      &q_person_payouts},
     false},
};

#define NPERSON (sizeof(person) / sizeof(person[0]))

/*
 * Runs set 'x' for 'arg' (customer or visitor id; 0: no rows), handing 'fn'
 * the set's start and its rows; a non-zero 'fn' sets '*stop'.
 */
static enum sc_err run_set(struct sc_store *s, const struct xset *x, int64_t arg,
                           int (*fn)(const struct sc_xrow *r, void *ctx), void *ctx, int *stop)
{
    struct sc_xrow row;
    shape(&row, x);
    row.start = true;
    if ((*stop = fn(&row, ctx)) != 0 || arg == 0)
        return SC_OK;
    struct sc_q r;
    if (!sc_q_read(&r, s, x->q))
        return r.e;
    sc_sql_int(r.st, 1, arg);
    while (!*stop && sc_q_next(&r)) {
        read_row(r.st, &row);
        *stop = fn(&row, ctx);
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_person_export(struct sc_store *s, const char *email, const char *phone,
                                   int (*fn)(const struct sc_xrow *r, void *ctx), void *ctx)
{
    int64_t id = 0, visitor = 0;
    struct sc_q r;
    if (!sc_q_read(&r, s, &q_person_find))
        return r.e;
    sc_sql_opt(r.st, 1, email);
    sc_sql_opt(r.st, 2, phone);
    if (sc_q_next(&r)) {
        id = sc_sql_col_int(r.st, 0);
        visitor = sc_sql_col_int(r.st, 1);
    } else if (r.e == SC_OK) {
        r.e = SC_ENOTFOUND;
    }
    enum sc_err e = sc_q_end(&r);
    int stop = 0;
    for (size_t i = 0; e == SC_OK && !stop && i < NPERSON; i++)
        e = run_set(s, &person[i].x, person[i].by_visitor ? visitor : id, fn, ctx, &stop);
    return e;
}
