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
    /* issue 13, the live feed: a hot crossing's top reason ("code:value"), and reminders
     * found by when they fall due (their time, or when logged) without reading them all. */
    "ALTER TABLE lead_hot ADD COLUMN reason TEXT;"
    "CREATE INDEX followups_reminder ON followups(reminder_at);"
    "CREATE INDEX followups_created ON followups(created_at);",

    /*
     * Issue 19: coupons, a reward people can use.  One row per code, owned by
     * a customer, issued with its ledger row (reward_id: a welcome coupon is
     * usable once that row is neither held nor void), redeemed once with an
     * order (conversion_id, order_id, redeemed_at).  kind 'amount' (value in
     * cents) or 'percent' (value 1 to 100).
     */
    "CREATE TABLE coupons ("
    "  id INTEGER PRIMARY KEY,"
    "  code TEXT NOT NULL UNIQUE,"
    "  customer_id INTEGER NOT NULL REFERENCES customers(id),"
    "  reward_id INTEGER REFERENCES rewards(id),"
    "  kind TEXT NOT NULL,"
    "  value INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  redeemed_at INTEGER,"
    "  conversion_id INTEGER REFERENCES conversions(id),"
    "  order_id TEXT"
    ");"
    "CREATE INDEX coupons_customer ON coupons(customer_id);"
    /*
     * Payouts against approved rewards, idempotent on the caller's payout_id;
     * a reward's approval time (a manager's, or its hold's end once it is
     * voided after it), so a monthly statement is exact.
     */
    "ALTER TABLE rewards ADD COLUMN approved_at INTEGER;"
    "CREATE TABLE payouts ("
    "  id INTEGER PRIMARY KEY,"
    "  payout_id TEXT NOT NULL UNIQUE,"
    "  party_type INTEGER NOT NULL,"
    "  party_id INTEGER NOT NULL,"
    "  amount INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  actor TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX payouts_party ON payouts(party_type, party_id);"
    /*
     * The reward rules, versioned (SHARECARD_REWARDS in its canonical form):
     * each sign-up and reward keeps the version it was decided under, and a
     * customer's purchases follow the rules of their sign-up's version.
     */
    "CREATE TABLE reward_rules ("
    "  version INTEGER PRIMARY KEY,"
    "  rules TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"
    "ALTER TABLE customers ADD COLUMN rule_version INTEGER;"
    "ALTER TABLE rewards ADD COLUMN rule_version INTEGER;",

    /*
     * NPS surveys (issue 14, 回访): one per order, made in the order's
     * transaction.  'token' is the unguessable part of /s/{token} (128
     * random bits, hex); 'url' the full link as the conversion.created
     * webhook carried it; 'available_at' the order's time plus
     * SHARECARD_NPS_DELAY_DAYS.  The answer (0–10 and a comment) is written
     * once into the same row: 'answered_at' NULL until then.
     */
    "CREATE TABLE nps_surveys ("
    "  id INTEGER PRIMARY KEY,"
    "  token TEXT NOT NULL UNIQUE,"
    "  url TEXT NOT NULL,"
    "  customer_id INTEGER NOT NULL REFERENCES customers(id),"
    "  conversion_id INTEGER NOT NULL UNIQUE REFERENCES conversions(id),"
    "  created_at INTEGER NOT NULL,"
    "  available_at INTEGER NOT NULL,"
    "  score INTEGER,"
    "  comment TEXT,"
    "  answered_at INTEGER"
    ");"
    "CREATE INDEX nps_surveys_customer ON nps_surveys(customer_id, available_at);"
    "CREATE INDEX nps_surveys_answered ON nps_surveys(answered_at);"
    /* Birthdays (生日关怀), optional at sign-up: month and day, the year when given. */
    "ALTER TABLE customers ADD COLUMN birth_year INTEGER;"
    "ALTER TABLE customers ADD COLUMN birth_month INTEGER;"
    "ALTER TABLE customers ADD COLUMN birth_day INTEGER;",
    /*
     * Issue 19: monthly statements in one ordered pass, grouped by party
     * and kind (money or points); one party's statement reads its rows only.
     */
    "CREATE INDEX rewards_party_kind ON rewards(party_type, party_id, kind, created_at);",
    /*
     * Notifications (issue 18): a member's targets are webhook endpoints of
     * their own kind (wecom, dingtalk, feishu, slack, email; 'webhook' for the
     * signed webhooks of issue 12), so their deliveries share the outbox, its
     * claims, retries and log.  'member_id' owns the target (0: a company
     * webhook); for e-mail 'url' is "mailto:ADDRESS"; 'team' 1: a manager's target that
     * also gets the alerts of their team's members (an admin's: everyone's).  notify_prefs holds a
     * member's switches ('events': the alert kinds that are on, comma-separated;
     * no row: all on), quiet hours (minutes of the day in SHARECARD_TZ; equal:
     * none) and the digest's hour (-1: none) and the day it last went out;
     * followups.notified_at marks a reminder that was sent.
     */
    "ALTER TABLE webhooks ADD COLUMN kind TEXT NOT NULL DEFAULT 'webhook';"
    "ALTER TABLE webhooks ADD COLUMN member_id INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE webhooks ADD COLUMN team INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX webhooks_member ON webhooks(member_id, disabled);"
    "CREATE TABLE notify_prefs ("
    "  member_id INTEGER PRIMARY KEY,"
    "  events TEXT NOT NULL,"
    "  quiet_from INTEGER NOT NULL DEFAULT 0,"
    "  quiet_to INTEGER NOT NULL DEFAULT 0,"
    "  digest_hour INTEGER NOT NULL DEFAULT 8,"
    "  digest_day TEXT NOT NULL DEFAULT ''"
    ");"
    "ALTER TABLE followups ADD COLUMN notified_at INTEGER NOT NULL DEFAULT 0;",

    /*
     * r3-ux (issue 17): a purchase's rollup row (type 8, link 0) is keyed by
     * the day the order was made, as the revenue tile counts it, and counts
     * every order (whichever client posted it).  Re-keys the rows written
     * on the day of posting from the conversions themselves.
     */
    "DELETE FROM rollups WHERE type = 8;"
    "INSERT INTO rollups (day, card_id, link_id, type, humans, bots) "
    "SELECT v.created_at / 86400, s.card_id, 0, 8, count(*), 0 FROM conversions v "
    "JOIN customers s ON s.id = v.customer_id GROUP BY v.created_at / 86400, s.card_id;",

    /*
     * Webhook outbox pruning (issue 12): finished deliveries by age, so the
     * pruner's batch (older than the keeping period, oldest first) reads
     * only the rows it deletes instead of scanning the whole outbox.  A
     * partial index: pending rows, the ones the dispatcher reads, are not
     * in it.
     */
    "CREATE INDEX webhook_outbox_done ON webhook_outbox(created_at, id) "
    "WHERE status IN ('delivered', 'failed', 'cancelled');",

    /*
     * The leads list (issue 13): every lead's events in one ordered read of
     * an index that holds what lead intelligence needs (no row of the table
     * looked up per event), replacing events_visitor.  Partial: bots' rows,
     * which have no visitor, are in no index at all (issue 15: a bot's row
     * costs the writer the table's insert only).  Queries on a visitor say
     * "visitor_id IS NOT NULL" or "visitor_id = ?", which both backends take
     * to imply the index's condition.  The hot-lead watch finds the links
     * of the leads it reads by their owner (links_owner).
     */
    "DROP INDEX IF EXISTS events_visitor;"
    "CREATE INDEX events_lead ON events(visitor_id, card_id, ts, type, value, link_id, bot) "
    "WHERE visitor_id IS NOT NULL;"
    "CREATE INDEX links_owner ON links(owner_visitor_id, card_id) "
    "WHERE owner_visitor_id IS NOT NULL;",
};

const int sc_sqlite_nmigrations =
    (int)(sizeof(sc_sqlite_migrations) / sizeof(sc_sqlite_migrations[0]));
