/*
 * sqlite.c — the embedded SQLite backend.
 *
 * WAL mode with one writer connection, serialised by a mutex, and
 * synchronous=FULL so that whatever we acknowledge survives a power cut
 * (batched writes make that cheap).  Readers get a connection per thread,
 * made on first use, so reads run beside the writer without a lock.  Each
 * connection prepares a statement the first time it needs it and reuses it
 * afterwards.  ":memory:" stores have one connection for everything, since a
 * second connection would see another database.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "store_int.h"

enum stmt_id {
    ST_MEMBER_INSERT,
    ST_CARD_INSERT,
    ST_LINK_INSERT,
    ST_MEMBER_LIST,
    ST_MEMBER_BY_EMAIL,
    ST_MEMBER_BY_ID,
    ST_MEMBER_COUNT,
    ST_CARD_BY_SLUG,
    ST_CARD_UPDATE,
    ST_LINK_BY_CODE,
    ST_TOKEN_INSERT,
    ST_TOKEN_MEMBER,
    ST_SECRET_INSERT,
    ST_SECRET_GET,
    ST_VISITOR_UPSERT,
    ST_VISITOR_ID,
    ST_AGENT_GET,
    ST_AGENT_INSERT,
    ST_EVENT_INSERT,
    ST_ROLLUP_UPSERT,
    ST_UNIQUE_INSERT,
    ST_VISITOR_REACHED,
    ST_STATS_ROLLUP,
    ST_STATS_UNIQUES,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_COUNT
};

#define MEMBER_COLS                                                                                \
    "m.id, m.email, m.name, m.team, m.role, m.disabled, m.created_at, "                            \
    "(SELECT slug FROM cards WHERE member_id = m.id)"

static const char *const sql[ST_COUNT] = {
    [ST_MEMBER_INSERT] = "INSERT INTO members (email, name, team, role, password_hash, "
                         "created_at) VALUES (?, ?, ?, ?, ?, ?)",
    [ST_CARD_INSERT] = "INSERT INTO cards (member_id, slug, name, title, company, phone, "
                       "phone_work, email, wechat, website, address, bio, theme, lang, avatar, "
                       "avatar_mime, updated_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_LINK_INSERT] = "INSERT INTO links (code, card_id, channel, owner_member_id, "
                       "owner_customer_id, parent_link_id, created_at, owner_visitor_id) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_VISITOR_UPSERT] = "INSERT INTO visitors (vid, first_seen, last_seen) VALUES (?1, ?2, ?2) "
                          "ON CONFLICT (vid) DO UPDATE SET "
                          "last_seen = max(last_seen, excluded.last_seen) RETURNING id",
    [ST_VISITOR_ID] = "SELECT id FROM visitors WHERE vid = ?",
    [ST_AGENT_GET] = "SELECT id FROM agents WHERE ua = ?",
    [ST_AGENT_INSERT] = "INSERT INTO agents (ua, browser, os, device, bot_reason) "
                        "VALUES (?, ?, ?, ?, ?)",
    [ST_EVENT_INSERT] = "INSERT INTO events (ts, type, card_id, link_id, visitor_id, agent_id, "
                        "ip, referrer, bot, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_ROLLUP_UPSERT] = "INSERT INTO rollups (day, card_id, link_id, type, humans, bots) "
                         "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                         "humans = humans + excluded.humans, bots = bots + excluded.bots",
    [ST_UNIQUE_INSERT] = "INSERT OR IGNORE INTO rollup_uniques (card_id, day, visitor_id) "
                         "VALUES (?, ?, ?)",
    [ST_VISITOR_REACHED] = "SELECT 1 FROM events e JOIN visitors v ON v.id = e.visitor_id "
                           "WHERE v.vid = ?1 AND e.card_id = ?2 AND e.type IN (0, 1, 2) "
                           "AND (?3 = 0 OR e.link_id = ?3) LIMIT 1",
    [ST_STATS_ROLLUP] = "SELECT type, sum(humans), sum(bots) FROM rollups "
                        "WHERE card_id = ? AND day BETWEEN ? AND ? GROUP BY type",
    [ST_STATS_UNIQUES] = "SELECT count(DISTINCT visitor_id) FROM rollup_uniques "
                         "WHERE card_id = ? AND day BETWEEN ? AND ?",
    [ST_MEMBER_LIST] = "SELECT " MEMBER_COLS " FROM members m ORDER BY m.id",
    [ST_MEMBER_BY_EMAIL] = "SELECT " MEMBER_COLS " FROM members m WHERE m.email = ?",
    [ST_MEMBER_BY_ID] = "SELECT " MEMBER_COLS " FROM members m WHERE m.id = ?",
    [ST_MEMBER_COUNT] = "SELECT count(*) FROM members",
    [ST_CARD_BY_SLUG] =
        "SELECT c.id, c.member_id, c.slug, c.name, c.title, c.company, c.phone, c.phone_work, "
        "c.email, c.wechat, c.website, c.address, c.bio, c.theme, c.lang, c.avatar, "
        "c.avatar_mime, c.updated_at, m.disabled, "
        "(SELECT code FROM links l WHERE l.card_id = c.id AND l.channel = 0 "
        "   AND l.owner_member_id = c.member_id ORDER BY l.id LIMIT 1) "
        "FROM cards c JOIN members m ON m.id = c.member_id WHERE c.slug = ?",
    [ST_CARD_UPDATE] = "UPDATE cards SET name = ?, title = ?, company = ?, phone = ?, "
                       "phone_work = ?, email = ?, wechat = ?, website = ?, address = ?, "
                       "bio = ?, theme = ?, lang = ?, avatar = ?, avatar_mime = ?, "
                       "updated_at = ? WHERE id = ?",
    [ST_LINK_BY_CODE] = "SELECT l.id, l.code, l.card_id, c.slug, l.channel, "
                        "ifnull(l.owner_member_id, 0), ifnull(l.owner_customer_id, 0), "
                        "ifnull(l.parent_link_id, 0), l.created_at, "
                        "ifnull((SELECT vid FROM visitors WHERE id = l.owner_visitor_id), '') "
                        "FROM links l JOIN cards c ON c.id = l.card_id WHERE l.code = ?",
    [ST_TOKEN_INSERT] = "INSERT INTO tokens (member_id, token_hash, label, created_at) "
                        "VALUES (?, ?, ?, ?)",
    [ST_TOKEN_MEMBER] = "SELECT " MEMBER_COLS " FROM tokens t JOIN members m "
                        "ON m.id = t.member_id WHERE t.token_hash = ? "
                        "AND t.revoked_at IS NULL AND m.disabled = 0",
    [ST_SECRET_INSERT] = "INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)",
    [ST_SECRET_GET] = "SELECT value FROM secrets WHERE name = ?",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

struct conn {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    struct conn *next; /* in the store's list of readers */
};

#define AGENT_SLOTS 1024

struct agent_slot {
    int64_t id; /* 0: empty */
    char ua[SC_UA_MAX];
};

struct sq_store {
    struct sc_store base; /* first: the public face */
    char *path;
    bool memory;
    int version;
    pthread_mutex_t wlock; /* the writer connection is one thread's at a time */
    struct conn *writer;
    pthread_key_t key;     /* this thread's reader */
    pthread_mutex_t rlock; /* guards 'readers' */
    struct conn *readers;
    struct agent_slot *agents; /* writer's cache of user-agent ids, under 'wlock' */
};

static struct sq_store *sq(struct sc_store *s)
{
    return (struct sq_store *)s;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static enum sc_err map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return SC_OK;
    case SQLITE_CONSTRAINT: return SC_ECONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return SC_EBUSY;
    case SQLITE_NOMEM: return SC_ENOMEM;
    case SQLITE_TOOBIG: return SC_ETOOBIG;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN: return SC_EIO;
    default: return SC_EDB;
    }
}

/* The prepared statement 'id' on 'c', ready to bind; NULL if it cannot be prepared. */
static sqlite3_stmt *stmt(struct conn *c, enum stmt_id id)
{
    if (!c->st[id]) {
        if (sqlite3_prepare_v3(c->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->st[id], NULL) !=
            SQLITE_OK)
            return NULL;
    } else {
        sqlite3_reset(c->st[id]);
        sqlite3_clear_bindings(c->st[id]);
    }
    return c->st[id];
}

static void conn_close(struct conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->st[i]);
    sqlite3_close(c->db);
    free(c);
}

static struct conn *conn_open(const char *path, bool readonly, char *errmsg, size_t errlen)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(errmsg, errlen, "out of memory");
        return NULL;
    }
    int flags = SQLITE_OPEN_NOMUTEX |
                (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        snprintf(errmsg, errlen, "%s", c->db ? sqlite3_errmsg(c->db) : "out of memory");
        conn_close(c);
        return NULL;
    }
    sqlite3_busy_timeout(c->db, 5000);
    sqlite3_extended_result_codes(c->db, 1);
    return c;
}

static int exec(struct conn *c, const char *q)
{
    return sqlite3_exec(c->db, q, NULL, NULL, NULL);
}

/* Takes the connection for a read: this thread's reader, or the writer (locked). */
static struct conn *rd_begin(struct sq_store *s)
{
    if (s->memory) {
        pthread_mutex_lock(&s->wlock);
        return s->writer;
    }
    struct conn *c = pthread_getspecific(s->key);
    if (c)
        return c;
    char err[256];
    c = conn_open(s->path, true, err, sizeof(err));
    if (!c)
        return NULL;
    pthread_mutex_lock(&s->rlock);
    c->next = s->readers;
    s->readers = c;
    pthread_mutex_unlock(&s->rlock);
    pthread_setspecific(s->key, c);
    return c;
}

static void rd_end(struct sq_store *s, struct conn *c)
{
    if (c) {
        for (int i = 0; i < ST_COUNT; i++)
            if (c->st[i])
                sqlite3_reset(c->st[i]);
    }
    if (s->memory)
        pthread_mutex_unlock(&s->wlock);
}

static struct conn *wr_begin(struct sq_store *s)
{
    pthread_mutex_lock(&s->wlock);
    return s->writer;
}

static void wr_end(struct sq_store *s)
{
    for (int i = 0; i < ST_COUNT; i++)
        if (s->writer->st[i])
            sqlite3_reset(s->writer->st[i]);
    pthread_mutex_unlock(&s->wlock);
}

static enum sc_err run_simple(struct conn *c, enum stmt_id id)
{
    sqlite3_stmt *st = stmt(c, id);
    if (!st)
        return SC_EDB;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return map_rc(rc);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v && v[0])
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

static void col_copy(sqlite3_stmt *st, int i, char *dst, size_t n)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(dst, n, "%s", t ? (const char *)t : "");
}

static void read_member(sqlite3_stmt *st, struct sc_member *m)
{
    memset(m, 0, sizeof(*m));
    m->id = sqlite3_column_int64(st, 0);
    col_copy(st, 1, m->email, sizeof(m->email));
    col_copy(st, 2, m->name, sizeof(m->name));
    col_copy(st, 3, m->team, sizeof(m->team));
    m->role = (enum sc_role)sqlite3_column_int(st, 4);
    m->disabled = sqlite3_column_int(st, 5) != 0;
    m->created_at = sqlite3_column_int64(st, 6);
    col_copy(st, 7, m->slug, sizeof(m->slug));
}

/* ---- migrations ------------------------------------------------------------ */

static enum sc_err migrate(struct sq_store *s, char *errmsg, size_t errlen)
{
    struct conn *c = s->writer;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
        snprintf(errmsg, errlen, "%s", sqlite3_errmsg(c->db));
        return SC_EDB;
    }
    int rc = sqlite3_step(st);
    int version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (version < 0) {
        snprintf(errmsg, errlen, "%s", sqlite3_errmsg(c->db));
        return map_rc(rc) ? map_rc(rc) : SC_EDB;
    }
    if (version > sc_sqlite_nmigrations) {
        snprintf(errmsg, errlen,
                 "this database was written by a newer sharecard (schema %d, this build "
                 "knows up to %d); upgrade sharecard",
                 version, sc_sqlite_nmigrations);
        return SC_EVERSION;
    }
    while (version < sc_sqlite_nmigrations) {
        char setv[64];
        snprintf(setv, sizeof(setv), "PRAGMA user_version = %d", version + 1);
        char *err = NULL;
        if (exec(c, "BEGIN IMMEDIATE") != SQLITE_OK ||
            sqlite3_exec(c->db, sc_sqlite_migrations[version], NULL, NULL, &err) != SQLITE_OK ||
            exec(c, setv) != SQLITE_OK || exec(c, "COMMIT") != SQLITE_OK) {
            snprintf(errmsg, errlen, "upgrading the schema to version %d failed: %s", version + 1,
                     err ? err : sqlite3_errmsg(c->db));
            int code = sqlite3_errcode(c->db);
            sqlite3_free(err);
            exec(c, "ROLLBACK");
            return map_rc(code) ? map_rc(code) : SC_EDB;
        }
        version++;
    }
    s->version = version;
    return SC_OK;
}

/* ---- operations -------------------------------------------------------------- */

static void sq_close(struct sc_store *base)
{
    struct sq_store *s = sq(base);
    if (!s)
        return;
    pthread_mutex_lock(&s->rlock);
    struct conn *c = s->readers;
    while (c) {
        struct conn *next = c->next;
        conn_close(c);
        c = next;
    }
    s->readers = NULL;
    pthread_mutex_unlock(&s->rlock);
    if (s->writer) {
        if (!s->memory)
            exec(s->writer, "PRAGMA wal_checkpoint(TRUNCATE)");
        conn_close(s->writer);
    }
    if (!s->memory)
        pthread_key_delete(s->key);
    pthread_mutex_destroy(&s->wlock);
    pthread_mutex_destroy(&s->rlock);
    free(s->agents);
    free(s->path);
    free(s);
}

static int sq_schema_version(struct sc_store *base)
{
    return sq(base)->version;
}

static enum sc_err sq_ping(struct sc_store *base)
{
    struct sq_store *s = sq(base);
    struct conn *c = rd_begin(s);
    if (!c) {
        rd_end(s, NULL);
        return SC_EIO;
    }
    int rc = sqlite3_exec(c->db, "SELECT 1", NULL, NULL, NULL);
    rd_end(s, c);
    return map_rc(rc);
}

/* Inserts the card's link with a fresh random code, retrying on a collision. */
static enum sc_err insert_link(struct conn *c, int64_t card_id, enum sc_channel ch,
                               int64_t member_id, int64_t customer_id, int64_t visitor_id,
                               int64_t parent, char code[SC_CODE_LEN + 1], int64_t *link_id)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        sc_slug_random(code, SC_CODE_LEN);
        sqlite3_stmt *st = stmt(c, ST_LINK_INSERT);
        if (!st)
            return SC_EDB;
        sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, card_id);
        sqlite3_bind_int(st, 3, (int)ch);
        if (member_id)
            sqlite3_bind_int64(st, 4, member_id);
        if (customer_id)
            sqlite3_bind_int64(st, 5, customer_id);
        if (parent)
            sqlite3_bind_int64(st, 6, parent);
        sqlite3_bind_int64(st, 7, now_s());
        if (visitor_id)
            sqlite3_bind_int64(st, 8, visitor_id);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_DONE) {
            if (link_id)
                *link_id = sqlite3_last_insert_rowid(c->db);
            return SC_OK;
        }
        if ((rc & 0xff) != SQLITE_CONSTRAINT)
            return map_rc(rc);
    }
    return SC_ECONFLICT;
}

static enum sc_err bind_card(sqlite3_stmt *st, int first, const struct sc_card *p, const char *name,
                             const char *email)
{
    int i = first;
    bind_text(st, i++, name);
    bind_text(st, i++, p->title);
    bind_text(st, i++, p->company);
    bind_text(st, i++, p->phone);
    bind_text(st, i++, p->phone_work);
    bind_text(st, i++, email);
    bind_text(st, i++, p->wechat);
    bind_text(st, i++, p->website);
    bind_text(st, i++, p->address);
    bind_text(st, i++, p->bio);
    sqlite3_bind_text(st, i++, p->theme, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, i++, (int)p->lang);
    if (p->avatar && p->avatar_len)
        sqlite3_bind_blob(st, i++, p->avatar, (int)p->avatar_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i++);
    bind_text(st, i++, p->avatar_len ? p->avatar_mime : NULL);
    sqlite3_bind_int64(st, i++, now_s());
    return SC_OK;
}

static enum sc_err sq_member_add(struct sc_store *base, const struct sc_member *m,
                                 const char *password_hash, const struct sc_card *profile,
                                 struct sc_member *out)
{
    struct sq_store *s = sq(base);
    static const struct sc_card empty;
    const struct sc_card *p = profile ? profile : &empty;
    bool custom = p->slug[0] != '\0';
    if (custom && !sc_slug_valid(p->slug, NULL))
        return SC_EINVAL;

    struct conn *c = wr_begin(s);
    enum sc_err e = run_simple(c, ST_BEGIN);
    if (e != SC_OK) {
        wr_end(s);
        return e;
    }
    int64_t created = now_s();
    sqlite3_stmt *st = stmt(c, ST_MEMBER_INSERT);
    if (!st) {
        e = SC_EDB;
        goto rollback;
    }
    sqlite3_bind_text(st, 1, m->email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->team, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, (int)m->role);
    bind_text(st, 5, password_hash);
    sqlite3_bind_int64(st, 6, created);
    if ((e = map_rc(sqlite3_step(st))) != SC_OK)
        goto rollback;
    int64_t member_id = sqlite3_last_insert_rowid(c->db);

    char slug[SC_SLUG_MAX + 1];
    int64_t card_id = 0;
    for (int attempt = 0; attempt < (custom ? 1 : 5); attempt++) {
        if (custom)
            snprintf(slug, sizeof(slug), "%s", p->slug);
        else
            sc_slug_random(slug, SC_SLUG_GEN_LEN);
        st = stmt(c, ST_CARD_INSERT);
        if (!st) {
            e = SC_EDB;
            goto rollback;
        }
        sqlite3_bind_int64(st, 1, member_id);
        sqlite3_bind_text(st, 2, slug, -1, SQLITE_STATIC);
        bind_card(st, 3, p, p->name && p->name[0] ? p->name : m->name,
                  p->email && p->email[0] ? p->email : m->email);
        e = map_rc(sqlite3_step(st));
        sqlite3_reset(st);
        if (e == SC_OK) {
            card_id = sqlite3_last_insert_rowid(c->db);
            break;
        }
        if (e != SC_ECONFLICT)
            goto rollback;
    }
    if (e != SC_OK)
        goto rollback;
    char code[SC_CODE_LEN + 1];
    if ((e = insert_link(c, card_id, SC_CH_QR, member_id, 0, 0, 0, code, NULL)) != SC_OK)
        goto rollback;
    if ((e = run_simple(c, ST_COMMIT)) != SC_OK)
        goto rollback;
    wr_end(s);
    if (out) {
        *out = *m;
        out->id = member_id;
        out->created_at = created;
        snprintf(out->slug, sizeof(out->slug), "%s", slug);
    }
    return SC_OK;
rollback:
    run_simple(c, ST_ROLLBACK);
    wr_end(s);
    return e;
}

static enum sc_err sq_member_list(struct sc_store *base,
                                  int (*fn)(const struct sc_member *m, void *ctx), void *ctx)
{
    struct sq_store *s = sq(base);
    struct conn *c = rd_begin(s);
    sqlite3_stmt *st = c ? stmt(c, ST_MEMBER_LIST) : NULL;
    if (!st) {
        rd_end(s, c);
        return SC_EDB;
    }
    int rc;
    struct sc_member m;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_member(st, &m);
        if (fn(&m, ctx))
            break;
    }
    enum sc_err e = rc == SQLITE_ROW ? SC_OK : map_rc(rc);
    rd_end(s, c);
    return e;
}

static enum sc_err member_one(struct sc_store *base, enum stmt_id id, const char *text, int64_t num,
                              struct sc_member *out)
{
    struct sq_store *s = sq(base);
    struct conn *c = rd_begin(s);
    sqlite3_stmt *st = c ? stmt(c, id) : NULL;
    if (!st) {
        rd_end(s, c);
        return SC_EDB;
    }
    if (text)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, num);
    int rc = sqlite3_step(st);
    enum sc_err e = rc == SQLITE_ROW ? SC_OK : rc == SQLITE_DONE ? SC_ENOTFOUND : map_rc(rc);
    if (e == SC_OK)
        read_member(st, out);
    rd_end(s, c);
    return e;
}

static enum sc_err sq_member_by_email(struct sc_store *s, const char *email, struct sc_member *out)
{
    return member_one(s, ST_MEMBER_BY_EMAIL, email, 0, out);
}

static enum sc_err sq_member_by_id(struct sc_store *s, int64_t id, struct sc_member *out)
{
    return member_one(s, ST_MEMBER_BY_ID, NULL, id, out);
}

static enum sc_err sq_token_member(struct sc_store *s, const char *hash, struct sc_member *out)
{
    return member_one(s, ST_TOKEN_MEMBER, hash, 0, out);
}

static enum sc_err sq_member_count(struct sc_store *base, int64_t *out)
{
    struct sq_store *s = sq(base);
    struct conn *c = rd_begin(s);
    sqlite3_stmt *st = c ? stmt(c, ST_MEMBER_COUNT) : NULL;
    if (!st) {
        rd_end(s, c);
        return SC_EDB;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    rd_end(s, c);
    return rc == SQLITE_ROW ? SC_OK : map_rc(rc);
}

static enum sc_err sq_card_by_slug(struct sc_store *base, const char *slug, struct sc_card *out)
{
    struct sq_store *s = sq(base);
    memset(out, 0, sizeof(*out));
    struct conn *c = rd_begin(s);
    sqlite3_stmt *st = c ? stmt(c, ST_CARD_BY_SLUG) : NULL;
    if (!st) {
        rd_end(s, c);
        return SC_EDB;
    }
    sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    enum sc_err e = rc == SQLITE_ROW ? SC_OK : rc == SQLITE_DONE ? SC_ENOTFOUND : map_rc(rc);
    if (e != SC_OK)
        goto out;
    out->id = sqlite3_column_int64(st, 0);
    out->member_id = sqlite3_column_int64(st, 1);
    col_copy(st, 2, out->slug, sizeof(out->slug));
    char **fields[] = {&out->name,  &out->title,  &out->company, &out->phone,   &out->phone_work,
                       &out->email, &out->wechat, &out->website, &out->address, &out->bio};
    for (int i = 0; i < 10; i++) {
        *fields[i] = col_dup(st, 3 + i);
        if (sqlite3_column_type(st, 3 + i) != SQLITE_NULL && !*fields[i])
            e = SC_ENOMEM;
    }
    col_copy(st, 13, out->theme, sizeof(out->theme));
    out->lang = sqlite3_column_int(st, 14) == 1 ? SC_LANG_ZH : SC_LANG_EN;
    int alen = sqlite3_column_bytes(st, 15);
    if (alen > 0) {
        out->avatar = malloc((size_t)alen);
        if (out->avatar) {
            memcpy(out->avatar, sqlite3_column_blob(st, 15), (size_t)alen);
            out->avatar_len = (size_t)alen;
        } else {
            e = SC_ENOMEM;
        }
    }
    col_copy(st, 16, out->avatar_mime, sizeof(out->avatar_mime));
    out->updated_at = sqlite3_column_int64(st, 17);
    out->disabled = sqlite3_column_int(st, 18) != 0;
    col_copy(st, 19, out->qr_code, sizeof(out->qr_code));
    if (e != SC_OK)
        sc_card_cleanup(out);
out:
    rd_end(s, c);
    return e;
}

static enum sc_err sq_card_update(struct sc_store *base, const struct sc_card *card)
{
    struct sq_store *s = sq(base);
    struct conn *c = wr_begin(s);
    sqlite3_stmt *st = stmt(c, ST_CARD_UPDATE);
    enum sc_err e = SC_EDB;
    if (st) {
        bind_card(st, 1, card, card->name, card->email);
        sqlite3_bind_int64(st, 16, card->id);
        e = map_rc(sqlite3_step(st));
        if (e == SC_OK && sqlite3_changes(c->db) == 0)
            e = SC_ENOTFOUND;
    }
    wr_end(s);
    return e;
}

static enum sc_err sq_link_by_code(struct sc_store *base, const char *code, struct sc_link *out)
{
    struct sq_store *s = sq(base);
    struct conn *c = rd_begin(s);
    sqlite3_stmt *st = c ? stmt(c, ST_LINK_BY_CODE) : NULL;
    if (!st) {
        rd_end(s, c);
        return SC_EDB;
    }
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    enum sc_err e = rc == SQLITE_ROW ? SC_OK : rc == SQLITE_DONE ? SC_ENOTFOUND : map_rc(rc);
    if (e == SC_OK) {
        memset(out, 0, sizeof(*out));
        out->id = sqlite3_column_int64(st, 0);
        col_copy(st, 1, out->code, sizeof(out->code));
        out->card_id = sqlite3_column_int64(st, 2);
        col_copy(st, 3, out->card_slug, sizeof(out->card_slug));
        out->channel = (enum sc_channel)sqlite3_column_int(st, 4);
        out->owner_member_id = sqlite3_column_int64(st, 5);
        out->owner_customer_id = sqlite3_column_int64(st, 6);
        out->parent_link_id = sqlite3_column_int64(st, 7);
        out->created_at = sqlite3_column_int64(st, 8);
        col_copy(st, 9, out->owner_visitor, sizeof(out->owner_visitor));
    }
    rd_end(s, c);
    return e;
}

static enum sc_err sq_token_add(struct sc_store *base, int64_t member_id, const char *hash,
                                const char *label)
{
    struct sq_store *s = sq(base);
    struct conn *c = wr_begin(s);
    sqlite3_stmt *st = stmt(c, ST_TOKEN_INSERT);
    enum sc_err e = SC_EDB;
    if (st) {
        sqlite3_bind_int64(st, 1, member_id);
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, label ? label : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now_s());
        e = map_rc(sqlite3_step(st));
    }
    wr_end(s);
    return e;
}

static enum sc_err sq_secret(struct sc_store *base, const char *name, char out[65])
{
    struct sq_store *s = sq(base);
    unsigned char raw[32];
    char hex[65];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
    sodium_memzero(raw, sizeof(raw));
    /* INSERT OR IGNORE, then read: two processes racing agree on one value. */
    struct conn *c = wr_begin(s);
    enum sc_err e = SC_EDB;
    sqlite3_stmt *st = stmt(c, ST_SECRET_INSERT);
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hex, -1, SQLITE_STATIC);
        e = map_rc(sqlite3_step(st));
    }
    if (e == SC_OK && (st = stmt(c, ST_SECRET_GET)) != NULL) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            col_copy(st, 0, out, 65);
            e = strlen(out) == 64 ? SC_OK : SC_EDB;
        } else {
            e = rc == SQLITE_DONE ? SC_EDB : map_rc(rc);
        }
    }
    wr_end(s);
    sodium_memzero(hex, sizeof(hex));
    return e;
}

/* ---- events ------------------------------------------------------------------- */

static int64_t visitor_upsert(struct conn *c, const char *vid, int64_t ts, enum sc_err *e)
{
    sqlite3_stmt *st = stmt(c, ST_VISITOR_UPSERT);
    if (!st) {
        *e = SC_EDB;
        return 0;
    }
    sqlite3_bind_text(st, 1, vid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ts);
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    if (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE || !id)
        *e = map_rc(rc) ? map_rc(rc) : SC_EDB;
    return id;
}

static size_t agent_slot_of(const char *ua)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)ua; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h % AGENT_SLOTS);
}

/* The id of user-agent 'row->ev->ua', stored on first sight. */
static int64_t agent_id(struct sq_store *s, struct conn *c, const struct sc_event_row *row,
                        enum sc_err *e)
{
    const char *ua = row->ev->ua;
    struct agent_slot *slot = &s->agents[agent_slot_of(ua)];
    if (slot->id && strcmp(slot->ua, ua) == 0)
        return slot->id;
    sqlite3_stmt *st = stmt(c, ST_AGENT_GET);
    if (!st) {
        *e = SC_EDB;
        return 0;
    }
    sqlite3_bind_text(st, 1, ua, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        *e = map_rc(rc);
        return 0;
    }
    if (!id) {
        st = stmt(c, ST_AGENT_INSERT);
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
            *e = map_rc(rc);
            return 0;
        }
        id = sqlite3_last_insert_rowid(c->db);
    }
    slot->id = id;
    snprintf(slot->ua, sizeof(slot->ua), "%s", ua);
    return id;
}

static enum sc_err write_event(struct sq_store *s, struct conn *c, const struct sc_event_row *row)
{
    const struct sc_event *ev = row->ev;
    enum sc_err e = SC_OK;
    int64_t vid = ev->visitor[0] ? visitor_upsert(c, ev->visitor, ev->ts, &e) : 0;
    if (e != SC_OK)
        return e;
    int64_t aid = agent_id(s, c, row, &e);
    if (e != SC_OK)
        return e;
    bool bot = row->bot_reason != NULL;
    int64_t link_id = ev->link_id;
    if (ev->type == SC_EV_SHARE && ev->new_code[0]) {
        /* The minted link lives or dies with its share event. */
        sqlite3_stmt *ls = stmt(c, ST_LINK_INSERT);
        if (!ls)
            return SC_EDB;
        sqlite3_bind_text(ls, 1, ev->new_code, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ls, 2, ev->card_id);
        sqlite3_bind_int(ls, 3, ev->new_channel);
        if (ev->owner_member_id)
            sqlite3_bind_int64(ls, 4, ev->owner_member_id);
        if (ev->owner_customer_id)
            sqlite3_bind_int64(ls, 5, ev->owner_customer_id);
        if (ev->new_parent)
            sqlite3_bind_int64(ls, 6, ev->new_parent);
        sqlite3_bind_int64(ls, 7, ev->ts);
        if (vid && !ev->owner_member_id && !ev->owner_customer_id)
            sqlite3_bind_int64(ls, 8, vid);
        int lrc = sqlite3_step(ls);
        sqlite3_reset(ls);
        if (lrc != SQLITE_DONE)
            return map_rc(lrc) ? map_rc(lrc) : SC_EDB;
        link_id = sqlite3_last_insert_rowid(c->db);
    }
    sqlite3_stmt *st = stmt(c, ST_EVENT_INSERT);
    if (!st)
        return SC_EDB;
    sqlite3_bind_int64(st, 1, ev->ts);
    sqlite3_bind_int(st, 2, (int)ev->type);
    sqlite3_bind_int64(st, 3, ev->card_id);
    if (link_id)
        sqlite3_bind_int64(st, 4, link_id);
    if (vid)
        sqlite3_bind_int64(st, 5, vid);
    sqlite3_bind_int64(st, 6, aid);
    bind_text(st, 7, ev->ip);
    bind_text(st, 8, ev->referrer_host);
    sqlite3_bind_int(st, 9, sc_bot_code(row->bot_reason));
    if (ev->type == SC_EV_DWELL)
        sqlite3_bind_int(st, 10, ev->value);
    else if (ev->type == SC_EV_CLICK)
        sqlite3_bind_int(st, 10, (int)ev->action);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return map_rc(rc) ? map_rc(rc) : SC_EDB;

    int64_t day = ev->ts / 86400;
    st = stmt(c, ST_ROLLUP_UPSERT);
    if (!st)
        return SC_EDB;
    sqlite3_bind_int64(st, 1, day);
    sqlite3_bind_int64(st, 2, ev->card_id);
    sqlite3_bind_int64(st, 3, link_id);
    sqlite3_bind_int(st, 4, (int)ev->type);
    sqlite3_bind_int(st, 5, bot ? 0 : 1);
    sqlite3_bind_int(st, 6, bot ? 1 : 0);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return map_rc(rc) ? map_rc(rc) : SC_EDB;

    if (!bot && vid &&
        (ev->type == SC_EV_SCAN || ev->type == SC_EV_OPEN || ev->type == SC_EV_VIEW)) {
        st = stmt(c, ST_UNIQUE_INSERT);
        if (!st)
            return SC_EDB;
        sqlite3_bind_int64(st, 1, ev->card_id);
        sqlite3_bind_int64(st, 2, day);
        sqlite3_bind_int64(st, 3, vid);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return map_rc(rc) ? map_rc(rc) : SC_EDB;
    }
    return SC_OK;
}

static enum sc_err sq_events_write(struct sc_store *base, const struct sc_event_row *rows, size_t n)
{
    struct sq_store *s = sq(base);
    struct conn *c = wr_begin(s);
    enum sc_err e = run_simple(c, ST_BEGIN);
    for (size_t i = 0; e == SC_OK && i < n; i++)
        e = write_event(s, c, &rows[i]);
    if (e == SC_OK)
        e = run_simple(c, ST_COMMIT);
    if (e != SC_OK) {
        run_simple(c, ST_ROLLBACK);
        /* Ids cached during the failed transaction do not exist. */
        memset(s->agents, 0, AGENT_SLOTS * sizeof(*s->agents));
    }
    wr_end(s);
    return e;
}

static enum sc_err sq_link_create(struct sc_store *base, struct sc_link *l)
{
    struct sq_store *s = sq(base);
    struct conn *c = wr_begin(s);
    enum sc_err e = run_simple(c, ST_BEGIN);
    int64_t ts = now_s();
    int64_t vid = 0;
    if (e == SC_OK && l->owner_visitor[0])
        vid = visitor_upsert(c, l->owner_visitor, ts, &e);
    if (e == SC_OK)
        e = insert_link(c, l->card_id, l->channel, l->owner_member_id, l->owner_customer_id, vid,
                        l->parent_link_id, l->code, &l->id);
    if (e == SC_OK)
        e = run_simple(c, ST_COMMIT);
    if (e != SC_OK)
        run_simple(c, ST_ROLLBACK);
    else
        l->created_at = ts;
    wr_end(s);
    return e;
}

static enum sc_err sq_visitor_reached(struct sc_store *base, const char *vid, int64_t card_id,
                                      int64_t link_id, bool *out)
{
    struct sq_store *s = sq(base);
    struct conn *c = rd_begin(s);
    sqlite3_stmt *st = c ? stmt(c, ST_VISITOR_REACHED) : NULL;
    if (!st) {
        rd_end(s, c);
        return SC_EDB;
    }
    sqlite3_bind_text(st, 1, vid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, card_id);
    sqlite3_bind_int64(st, 3, link_id);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW;
    rd_end(s, c);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SC_OK : map_rc(rc);
}

static enum sc_err sq_visitor_id(struct sc_store *base, const char *vid, int64_t *out)
{
    struct sq_store *s = sq(base);
    struct conn *c = rd_begin(s);
    sqlite3_stmt *st = c ? stmt(c, ST_VISITOR_ID) : NULL;
    if (!st) {
        rd_end(s, c);
        return SC_EDB;
    }
    sqlite3_bind_text(st, 1, vid, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    rd_end(s, c);
    return rc == SQLITE_ROW ? SC_OK : rc == SQLITE_DONE ? SC_ENOTFOUND : map_rc(rc);
}

static enum sc_err sq_card_stats(struct sc_store *base, int64_t card_id, int64_t day_from,
                                 int64_t day_to, struct sc_stats *out)
{
    struct sq_store *s = sq(base);
    memset(out, 0, sizeof(*out));
    struct conn *c = rd_begin(s);
    sqlite3_stmt *st = c ? stmt(c, ST_STATS_ROLLUP) : NULL;
    if (!st) {
        rd_end(s, c);
        return SC_EDB;
    }
    sqlite3_bind_int64(st, 1, card_id);
    sqlite3_bind_int64(st, 2, day_from);
    sqlite3_bind_int64(st, 3, day_to);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int t = sqlite3_column_int(st, 0);
        if (t >= 0 && t < SC_EV_COUNT)
            out->n[t] = sqlite3_column_int64(st, 1);
        out->bots += sqlite3_column_int64(st, 2);
    }
    enum sc_err e = map_rc(rc);
    if (e == SC_OK && (st = stmt(c, ST_STATS_UNIQUES)) != NULL) {
        sqlite3_bind_int64(st, 1, card_id);
        sqlite3_bind_int64(st, 2, day_from);
        sqlite3_bind_int64(st, 3, day_to);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            out->uniques = sqlite3_column_int64(st, 0);
        else
            e = map_rc(rc) ? map_rc(rc) : SC_EDB;
    }
    rd_end(s, c);
    return e;
}

static const struct sc_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .schema_version = sq_schema_version,
    .ping = sq_ping,
    .member_add = sq_member_add,
    .member_list = sq_member_list,
    .member_by_email = sq_member_by_email,
    .member_by_id = sq_member_by_id,
    .member_count = sq_member_count,
    .card_by_slug = sq_card_by_slug,
    .card_update = sq_card_update,
    .link_by_code = sq_link_by_code,
    .token_add = sq_token_add,
    .token_member = sq_token_member,
    .secret = sq_secret,
    .events_write = sq_events_write,
    .link_create = sq_link_create,
    .visitor_reached = sq_visitor_reached,
    .card_stats = sq_card_stats,
    .visitor_id = sq_visitor_id,
};

enum sc_err sc_sqlite_open(const char *path, struct sc_store **out, char *errmsg, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(errmsg, errlen, "libsodium could not start");
        return SC_ENOMEM;
    }
    struct sq_store *s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(path))) {
        free(s);
        snprintf(errmsg, errlen, "out of memory");
        return SC_ENOMEM;
    }
    s->base.ops = &sqlite_ops;
    s->agents = calloc(AGENT_SLOTS, sizeof(*s->agents));
    if (!s->agents) {
        free(s->path);
        free(s);
        snprintf(errmsg, errlen, "out of memory");
        return SC_ENOMEM;
    }
    s->memory = strcmp(path, ":memory:") == 0 || strncmp(path, "file::memory:", 13) == 0;
    pthread_mutex_init(&s->wlock, NULL);
    pthread_mutex_init(&s->rlock, NULL);
    if (!s->memory && pthread_key_create(&s->key, NULL) != 0) {
        snprintf(errmsg, errlen, "out of thread keys");
        s->memory = true; /* so close does not delete a key we do not have */
        sq_close(&s->base);
        return SC_ENOMEM;
    }
    enum sc_err e = SC_EIO;
    s->writer = conn_open(path, false, errmsg, errlen);
    if (!s->writer)
        goto fail;
    /* A file that is not a database fails on its first read: say so plainly. */
    int rc;
    if ((rc = exec(s->writer, "PRAGMA journal_mode = WAL")) != SQLITE_OK ||
        (rc = exec(s->writer, "PRAGMA synchronous = FULL")) != SQLITE_OK ||
        (rc = exec(s->writer, "PRAGMA foreign_keys = ON")) != SQLITE_OK) {
        snprintf(errmsg, errlen, "%s", sqlite3_errmsg(s->writer->db));
        e = map_rc(rc) ? map_rc(rc) : SC_EDB;
        goto fail;
    }
    e = migrate(s, errmsg, errlen);
    if (e != SC_OK)
        goto fail;
    *out = &s->base;
    return SC_OK;
fail:
    sq_close(&s->base);
    return e;
}
