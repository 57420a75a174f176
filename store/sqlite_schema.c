/*
 * sqlite_schema.c — the SQLite schema as numbered migrations.  Entry i takes
 * a store from version i to i + 1 (PRAGMA user_version); each runs in its own
 * transaction at open.  Never edit a released entry: add a new one.
 */
#include "store_int.h"

const char *const sc_sqlite_migrations[] = {
    /* 0 → 1: members, cards, links, customers, tokens, secrets. */
    "CREATE TABLE members ("
    "  id INTEGER PRIMARY KEY,"
    "  email TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  team TEXT NOT NULL DEFAULT '',"
    "  role INTEGER NOT NULL DEFAULT 0,"
    "  password_hash TEXT,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE cards ("
    "  id INTEGER PRIMARY KEY,"
    "  member_id INTEGER NOT NULL UNIQUE REFERENCES members(id),"
    "  slug TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL, title TEXT, company TEXT, phone TEXT, phone_work TEXT,"
    "  email TEXT, wechat TEXT, website TEXT, address TEXT, bio TEXT,"
    "  theme TEXT NOT NULL DEFAULT '',"
    "  lang INTEGER NOT NULL DEFAULT 0,"
    "  avatar BLOB, avatar_mime TEXT,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE customers ("
    "  id INTEGER PRIMARY KEY,"
    "  card_id INTEGER NOT NULL REFERENCES cards(id),"
    "  name TEXT NOT NULL,"
    "  email TEXT, phone TEXT,"
    "  referrer_link_id INTEGER,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE UNIQUE INDEX customers_email ON customers(email) WHERE email IS NOT NULL;"
    "CREATE UNIQUE INDEX customers_phone ON customers(phone) WHERE phone IS NOT NULL;"
    "CREATE TABLE links ("
    "  id INTEGER PRIMARY KEY,"
    "  code TEXT NOT NULL UNIQUE,"
    "  card_id INTEGER NOT NULL REFERENCES cards(id),"
    "  channel INTEGER NOT NULL,"
    "  owner_member_id INTEGER REFERENCES members(id),"
    "  owner_customer_id INTEGER REFERENCES customers(id),"
    "  parent_link_id INTEGER REFERENCES links(id),"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX links_card ON links(card_id, channel);"
    "CREATE INDEX links_parent ON links(parent_link_id);"
    "CREATE TABLE tokens ("
    "  id INTEGER PRIMARY KEY,"
    "  member_id INTEGER NOT NULL REFERENCES members(id),"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  label TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  revoked_at INTEGER"
    ");"
    "CREATE TABLE secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);",

    /*
     * 1 → 2: events and their rollups.  Events hold ids, not repeated text:
     * visitors and user-agents are stored once each.  Rollups count humans
     * and bots per day × card × link × type; rollup_uniques remembers which
     * visitors reached a card on a day, so unique counts over any range are
     * a COUNT(DISTINCT) over a small table, never a scan of raw events.
     */
    "ALTER TABLE links ADD COLUMN owner_visitor_id INTEGER;"
    "CREATE TABLE visitors ("
    "  id INTEGER PRIMARY KEY,"
    "  vid TEXT NOT NULL UNIQUE,"
    "  first_seen INTEGER NOT NULL,"
    "  last_seen INTEGER NOT NULL"
    ");"
    "CREATE TABLE agents ("
    "  id INTEGER PRIMARY KEY,"
    "  ua TEXT NOT NULL UNIQUE,"
    "  browser TEXT NOT NULL, os TEXT NOT NULL, device TEXT NOT NULL,"
    "  bot_reason TEXT"
    ");"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  ts INTEGER NOT NULL,"
    "  type INTEGER NOT NULL,"
    "  card_id INTEGER NOT NULL,"
    "  link_id INTEGER,"
    "  visitor_id INTEGER,"
    "  agent_id INTEGER,"
    "  ip TEXT,"
    "  referrer TEXT,"
    "  bot INTEGER NOT NULL DEFAULT 0," /* 0 a person, else the reason: sc_bot_name() */
    "  value INTEGER"
    ");"
    "CREATE INDEX events_visitor ON events(visitor_id, card_id, type);"
    "CREATE INDEX events_card_ts ON events(card_id, ts);"
    "CREATE TABLE rollups ("
    "  day INTEGER NOT NULL, card_id INTEGER NOT NULL, link_id INTEGER NOT NULL,"
    "  type INTEGER NOT NULL,"
    "  humans INTEGER NOT NULL DEFAULT 0, bots INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (card_id, day, link_id, type)"
    ") WITHOUT ROWID;"
    "CREATE TABLE rollup_uniques ("
    "  card_id INTEGER NOT NULL, day INTEGER NOT NULL, visitor_id INTEGER NOT NULL,"
    "  PRIMARY KEY (card_id, day, visitor_id)"
    ") WITHOUT ROWID;",

    /*
     * 2 → 3: sign-ups and the rewards ledger.  A customer row is the sign-up
     * and keeps its explanation (rule, touch, link, levels, notes); rewards
     * are ledger rows, and a balance is always the sum of its rows.
     */
    "ALTER TABLE customers ADD COLUMN visitor_id INTEGER;"
    "ALTER TABLE customers ADD COLUMN ip TEXT;"
    "ALTER TABLE customers ADD COLUMN consent_version TEXT;"
    "ALTER TABLE customers ADD COLUMN own_link_id INTEGER;"
    "ALTER TABLE customers ADD COLUMN rule TEXT;"
    "ALTER TABLE customers ADD COLUMN touch_event_id INTEGER;"
    "ALTER TABLE customers ADD COLUMN level1_type INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE customers ADD COLUMN level1_id INTEGER;"
    "ALTER TABLE customers ADD COLUMN level2_type INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE customers ADD COLUMN level2_id INTEGER;"
    "ALTER TABLE customers ADD COLUMN notes TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX customers_visitor ON customers(visitor_id);"
    "CREATE INDEX customers_level1 ON customers(level1_type, level1_id);"
    "CREATE TABLE conversions ("
    "  id INTEGER PRIMARY KEY,"
    "  order_id TEXT NOT NULL UNIQUE,"
    "  customer_id INTEGER NOT NULL REFERENCES customers(id),"
    "  amount_cents INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE rewards ("
    "  id INTEGER PRIMARY KEY,"
    "  customer_id INTEGER NOT NULL REFERENCES customers(id),"
    "  conversion_id INTEGER REFERENCES conversions(id),"
    "  party_type INTEGER NOT NULL,"
    "  party_id INTEGER NOT NULL,"
    "  level INTEGER NOT NULL,"
    "  kind TEXT NOT NULL," /* 'signup' points or 'commission' cents */
    "  amount INTEGER NOT NULL,"
    "  status TEXT NOT NULL," /* pending, approved, hold, void */
    "  reason TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  approve_after INTEGER NOT NULL,"
    "  decided_at INTEGER"
    ");"
    "CREATE INDEX rewards_party ON rewards(party_type, party_id);"
    "CREATE INDEX rewards_pending ON rewards(status, approve_after);",

    /* 3 → 4: sign-in sessions (tokens stored hashed) and login throttling. */
    "CREATE TABLE sessions ("
    "  id INTEGER PRIMARY KEY,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  member_id INTEGER NOT NULL REFERENCES members(id),"
    "  created_at INTEGER NOT NULL,"
    "  last_seen INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX sessions_member ON sessions(member_id);",

    /* 4 → 5: the audit log of member changes, reward decisions and erasures. */
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  ts INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  detail TEXT NOT NULL DEFAULT ''"
    ");",

    /*
     * 5 → 6: events lose the (card_id, ts) index.  Nothing reads raw events
     * by card (reports read rollups), yet every event paid for an entry in it:
     * a random page write per batch and about 16 bytes on disk.
     */
    "DROP INDEX IF EXISTS events_card_ts;",

    /*
     * 6 → 7: failed sign-in attempts, kept in the store so that every
     * instance on one database counts the same ones (throttling is global).
     */
    "CREATE TABLE failures (key TEXT NOT NULL, ts INTEGER NOT NULL);"
    "CREATE INDEX failures_key ON failures(key, ts);",

    /* 7 → 8: each unique visitor-day keeps its device class, for the devices report. */
    "ALTER TABLE rollup_uniques ADD COLUMN device INTEGER NOT NULL DEFAULT 0;",

    /*
     * 8 → 9: visitors are found by a 16-byte key (sc_visitor_key(): the id's
     * time, then a hash) in one WITHOUT ROWID table, instead of a row with
     * the 34-character id plus a unique index on it: one B-tree insert per
     * new visitor instead of two, about 30 bytes instead of 100.  Their ids
     * come from a counter.  'visitors' keeps only the visitors whose id text
     * is read back: those who shared a link or signed up.  Erased visitors
     * get no key, so their cookie starts afresh.  From here events.ip holds
     * an IPv4 address's /24 as an integer (the address >> 8) and an IPv6 /48
     * as text; nothing reads it back.  sc_vid_key() is the store's own SQL
     * function (store/sqlite_conn.c).
     */
    "CREATE TABLE visitor_keys (key BLOB PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO visitor_keys (key, id) SELECT sc_vid_key(vid), id FROM visitors "
    "  WHERE vid NOT LIKE 'erased:%' ORDER BY 1;"
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO counters (name, value) VALUES ('visitor', (SELECT ifnull(max(id), 0) FROM "
    "visitors));"
    "DELETE FROM visitors WHERE id NOT IN (SELECT owner_visitor_id FROM links "
    "  WHERE owner_visitor_id IS NOT NULL) AND id NOT IN (SELECT visitor_id FROM customers "
    "  WHERE visitor_id IS NOT NULL);",

    /*
     * 9 → 10: exact unique visitors from bitmaps (store/q_uniques.c): one
     * compressed bitmap per card, day and device class for each day that is
     * over, and the first day not yet compacted.
     */
    "CREATE TABLE unique_bitmaps (card_id INTEGER NOT NULL, day INTEGER NOT NULL,"
    "  device INTEGER NOT NULL, n INTEGER NOT NULL, bits BLOB NOT NULL,"
    "  PRIMARY KEY (card_id, day, device)) WITHOUT ROWID;"
    "CREATE TABLE uniques_compacted (id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  day INTEGER NOT NULL, gen INTEGER NOT NULL);"
    "INSERT INTO uniques_compacted (id, day, gen) VALUES (1, 0, 0);",

    /*
     * 10 → 11, customers (issue 14): the latest BG/NBD + Gamma-Gamma fit (its seven
     * parameters as text, r alpha a b p q v, each written to round-trip), and
     * orders found by customer and time for the customer list and retention.
     */
    "CREATE TABLE clv_fits (id INTEGER PRIMARY KEY, fitted_at INTEGER NOT NULL,"
    "  customers INTEGER NOT NULL, params TEXT NOT NULL);"
    "CREATE INDEX conversions_customer ON conversions(customer_id, created_at);",

    /*
     * 11 → 12, webhooks (issue 12): the endpoints, and the outbox of deliveries.  An
     * outbox row is written in the same transaction as the fact it reports
     * (one row per subscribed endpoint), so nothing acknowledged is lost; a
     * dispatcher claims due rows (claimed_by / claimed_until: a lease, so an
     * instance that died gives its rows back) and records each attempt.
     * 'events' is a comma-separated list of event types; 'disabled' is when
     * the endpoint was removed (0: live).  'data' is the event's JSON and
     * 'event_ts' its time: the body is built from them on every attempt,
     * byte for byte the same.
     */
    "CREATE TABLE webhooks ("
    "  id INTEGER PRIMARY KEY,"
    "  url TEXT NOT NULL,"
    "  secret TEXT NOT NULL,"
    "  events TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  disabled INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE webhook_outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  msg_id TEXT NOT NULL UNIQUE,"
    "  webhook_id INTEGER NOT NULL REFERENCES webhooks(id),"
    "  type TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  event_ts INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at INTEGER NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'pending',"
    "  last_at INTEGER NOT NULL DEFAULT 0,"
    "  last_status INTEGER NOT NULL DEFAULT 0,"
    "  last_latency_ms INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  last_excerpt TEXT NOT NULL DEFAULT '',"
    "  claimed_by TEXT,"
    "  claimed_until INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX webhook_outbox_due ON webhook_outbox(status, next_at);",

    /*
     * 12 → 13, lead intelligence (issue 13): the active intent model (its
     * JSON and the figures the admin page shows, AUCs in millionths),
     * salespeople's follow-ups of a lead (channel and outcome as numbers:
     * enum sc_contact, enum sc_followup_outcome) with an optional reminder,
     * and each time a lead crossed the hot threshold (alerts go out once per
     * crossing).
     */
    "CREATE TABLE score_models ("
    "  id INTEGER PRIMARY KEY,"
    "  version INTEGER NOT NULL,"
    "  trained_at INTEGER NOT NULL,"
    "  auc_ppm INTEGER NOT NULL,"
    "  baseline_ppm INTEGER NOT NULL,"
    "  n_examples INTEGER NOT NULL,"
    "  n_positive INTEGER NOT NULL,"
    "  model TEXT NOT NULL"
    ");"
    "CREATE TABLE followups ("
    "  id INTEGER PRIMARY KEY,"
    "  visitor_id INTEGER NOT NULL,"
    "  card_id INTEGER NOT NULL,"
    "  member_id INTEGER NOT NULL,"
    "  channel INTEGER NOT NULL,"
    "  outcome INTEGER NOT NULL,"
    "  note TEXT NOT NULL DEFAULT '',"
    "  reminder_at INTEGER,"
    "  done INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX followups_lead ON followups(visitor_id, card_id);"
    "CREATE INDEX followups_member ON followups(member_id, reminder_at);"
    "CREATE TABLE lead_hot ("
    "  id INTEGER PRIMARY KEY,"
    "  visitor_id INTEGER NOT NULL,"
    "  card_id INTEGER NOT NULL,"
    "  score INTEGER NOT NULL,"
    "  hot INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL"
    ");"
    "CREATE INDEX lead_hot_lead ON lead_hot(visitor_id, card_id, id);",

    /*
     * Webhook outbox pruning (issue 12): finished deliveries by age, so the
     * pruner's batch (older than the keeping period, oldest first) reads
     * only the rows it deletes instead of scanning the whole outbox.  A
     * partial index: pending rows, the ones the dispatcher reads, are not
     * in it.
     */
    "CREATE INDEX webhook_outbox_done ON webhook_outbox(created_at, id) "
    "WHERE status IN ('delivered', 'failed', 'cancelled');",
};

const int sc_sqlite_nmigrations =
    (int)(sizeof(sc_sqlite_migrations) / sizeof(sc_sqlite_migrations[0]));
