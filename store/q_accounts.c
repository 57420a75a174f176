/*
 * q_accounts.c — members, their cards and links, API tokens, sessions, the
 * store's secrets, the audit log and failed-attempt counts: written once,
 * over the statement layer (sql.h), for both backends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "store_int.h"

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

#define MEMBER_COLS                                                                                \
    "m.id, m.email, m.name, m.team, m.role, m.disabled, m.created_at, "                            \
    "(SELECT slug FROM cards WHERE member_id = m.id)"

static void read_member(struct sc_stmt *st, struct sc_member *m)
{
    memset(m, 0, sizeof(*m));
    m->id = sc_sql_col_int(st, 0);
    sc_sql_col_copy(st, 1, m->email, sizeof(m->email));
    sc_sql_col_copy(st, 2, m->name, sizeof(m->name));
    sc_sql_col_copy(st, 3, m->team, sizeof(m->team));
    m->role = (enum sc_role)sc_sql_col_int(st, 4);
    m->disabled = sc_sql_col_int(st, 5) != 0;
    m->created_at = sc_sql_col_int(st, 6);
    sc_sql_col_copy(st, 7, m->slug, sizeof(m->slug));
}

/* ---- members ------------------------------------------------------------------------ */

static struct sc_sql q_link_insert =
    SC_SQL("INSERT INTO links (code, card_id, channel, owner_member_id, owner_customer_id, "
           "parent_link_id, created_at, owner_visitor_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
           "ON CONFLICT (code) DO NOTHING RETURNING id");

enum sc_err sc_q_link_insert(struct sc_db *db, int64_t card_id, enum sc_channel ch,
                             int64_t member_id, int64_t customer_id, int64_t visitor_id,
                             int64_t parent, int64_t at, char code[SC_CODE_LEN + 1],
                             int64_t *link_id)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        sc_slug_random(code, SC_CODE_LEN);
        enum sc_err e = SC_OK;
        struct sc_stmt *st = sc_sql_prepare(db, &q_link_insert, &e);
        if (!st)
            return e;
        sc_sql_text(st, 1, code);
        sc_sql_int(st, 2, card_id);
        sc_sql_int(st, 3, (int64_t)ch);
        sc_sql_id(st, 4, member_id);
        sc_sql_id(st, 5, customer_id);
        sc_sql_id(st, 6, parent);
        sc_sql_int(st, 7, at ? at : now_s());
        sc_sql_id(st, 8, visitor_id);
        int64_t id = 0;
        bool found = false;
        if ((e = sc_sql_int1(st, &id, &found)) != SC_OK)
            return e;
        if (found) { /* else the random code was taken: another */
            if (link_id)
                *link_id = id;
            return SC_OK;
        }
    }
    return SC_ECONFLICT;
}

/* Binds the profile fields of 'p' from parameter 'first' on, with 'name' and 'email'. */
static void bind_card(struct sc_stmt *st, int first, const struct sc_card *p, const char *name,
                      const char *email)
{
    int i = first;
    sc_sql_opt(st, i++, name);
    sc_sql_opt(st, i++, p->title);
    sc_sql_opt(st, i++, p->company);
    sc_sql_opt(st, i++, p->phone);
    sc_sql_opt(st, i++, p->phone_work);
    sc_sql_opt(st, i++, email);
    sc_sql_opt(st, i++, p->wechat);
    sc_sql_opt(st, i++, p->website);
    sc_sql_opt(st, i++, p->address);
    sc_sql_opt(st, i++, p->bio);
    sc_sql_text(st, i++, p->theme);
    sc_sql_int(st, i++, (int64_t)p->lang);
    if (p->avatar && p->avatar_len)
        sc_sql_blob(st, i++, p->avatar, p->avatar_len);
    else
        sc_sql_null(st, i++);
    sc_sql_opt(st, i++, p->avatar_len ? p->avatar_mime : NULL);
    sc_sql_int(st, i++, now_s());
}

enum sc_err sc_store_member_add(struct sc_store *s, const struct sc_member *m,
                                const char *password_hash, const struct sc_card *profile,
                                struct sc_member *out)
{
    static struct sc_sql q_member =
        SC_SQL("INSERT INTO members (email, name, team, role, password_hash, created_at) "
               "VALUES (?, ?, ?, ?, ?, ?) RETURNING id");
    static struct sc_sql q_card =
        SC_SQL("INSERT INTO cards (member_id, slug, name, title, company, phone, phone_work, "
               "email, wechat, website, address, bio, theme, lang, avatar, avatar_mime, "
               "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
               "ON CONFLICT (slug) DO NOTHING RETURNING id");
    static const struct sc_card empty;
    const struct sc_card *p = profile ? profile : &empty;
    bool custom = p->slug[0] != '\0';
    if (custom && !sc_slug_valid(p->slug, NULL))
        return SC_EINVAL;
    /* Say "invalid" here rather than let a NOT NULL constraint read as a conflict. */
    const char *card_name = p->name && p->name[0] ? p->name : m->name;
    if (!m->email[0] || !card_name[0])
        return SC_EINVAL;

    struct sc_q r;
    if (!sc_q_write(&r, s, true))
        return r.e;
    int64_t created = now_s(), member_id = 0, card_id = 0;
    bool found = false;
    char slug[SC_SLUG_MAX + 1] = "";
    if (sc_q_prepare(&r, &q_member)) {
        sc_sql_text(r.st, 1, m->email);
        sc_sql_text(r.st, 2, m->name);
        sc_sql_text(r.st, 3, m->team);
        sc_sql_int(r.st, 4, (int64_t)m->role);
        sc_sql_opt(r.st, 5, password_hash);
        sc_sql_int(r.st, 6, created);
        if ((r.e = sc_sql_int1(r.st, &member_id, &found)) == SC_OK && !found)
            r.e = SC_EDB;
    }
    for (int attempt = 0; r.e == SC_OK && attempt < (custom ? 1 : 5); attempt++) {
        if (custom)
            snprintf(slug, sizeof(slug), "%s", p->slug);
        else
            sc_slug_random(slug, SC_SLUG_GEN_LEN);
        if (!sc_q_prepare(&r, &q_card))
            break;
        sc_sql_int(r.st, 1, member_id);
        sc_sql_text(r.st, 2, slug);
        bind_card(r.st, 3, p, card_name, p->email && p->email[0] ? p->email : m->email);
        if ((r.e = sc_sql_int1(r.st, &card_id, &found)) == SC_OK && found)
            break;
        if (r.e == SC_OK)
            r.e = SC_ECONFLICT; /* the slug is taken */
        if (!custom && r.e == SC_ECONFLICT && attempt < 4)
            r.e = SC_OK;
    }
    char code[SC_CODE_LEN + 1];
    if (r.e == SC_OK)
        r.e = sc_q_link_insert(r.db, card_id, SC_CH_QR, member_id, 0, 0, 0, 0, code, NULL);
    if (sc_q_end(&r) != SC_OK)
        return r.e;
    if (out) {
        *out = *m;
        out->id = member_id;
        out->created_at = created;
        snprintf(out->slug, sizeof(out->slug), "%s", slug);
    }
    return SC_OK;
}

enum sc_err sc_store_member_list(struct sc_store *s,
                                 int (*fn)(const struct sc_member *m, void *ctx), void *ctx)
{
    static struct sc_sql q = SC_SQL("SELECT " MEMBER_COLS " FROM members m ORDER BY m.id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    struct sc_member m;
    while (sc_q_next(&r)) {
        read_member(r.st, &m);
        if (fn(&m, ctx))
            break;
    }
    return sc_q_end(&r);
}

/* The member statement 'q' finds with text 'text' (or, when NULL, number 'num') as ?1. */
static enum sc_err member_one(struct sc_store *s, struct sc_sql *q, const char *text, int64_t num,
                              struct sc_member *out)
{
    struct sc_q r;
    if (!sc_q_read(&r, s, q))
        return r.e;
    if (text)
        sc_sql_text(r.st, 1, text);
    else
        sc_sql_int(r.st, 1, num);
    if (sc_q_next(&r))
        read_member(r.st, out);
    else if (r.e == SC_OK)
        r.e = SC_ENOTFOUND;
    return sc_q_end(&r);
}

enum sc_err sc_store_member_by_email(struct sc_store *s, const char *email, struct sc_member *out)
{
    static struct sc_sql q = SC_SQL("SELECT " MEMBER_COLS " FROM members m WHERE m.email = ?");
    return member_one(s, &q, email, 0, out);
}

enum sc_err sc_store_member_by_id(struct sc_store *s, int64_t id, struct sc_member *out)
{
    static struct sc_sql q = SC_SQL("SELECT " MEMBER_COLS " FROM members m WHERE m.id = ?");
    return member_one(s, &q, NULL, id, out);
}

enum sc_err sc_store_token_member(struct sc_store *s, const char *token_hash, struct sc_member *out)
{
    static struct sc_sql q =
        SC_SQL("SELECT " MEMBER_COLS " FROM tokens t JOIN members m ON m.id = t.member_id "
               "WHERE t.token_hash = ? AND t.revoked_at IS NULL AND m.disabled = 0");
    return member_one(s, &q, token_hash, 0, out);
}

enum sc_err sc_store_member_count(struct sc_store *s, int64_t *out)
{
    static struct sc_sql q = SC_SQL("SELECT count(*) FROM members");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    r.e = sc_sql_int1(r.st, out, NULL);
    return sc_q_end(&r);
}

enum sc_err sc_store_member_password(struct sc_store *s, int64_t id, char out[128])
{
    static struct sc_sql q = SC_SQL("SELECT coalesce(password_hash, '') FROM members WHERE id = ?");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, id);
    if (sc_q_next(&r))
        sc_sql_col_copy(r.st, 0, out, 128);
    else if (r.e == SC_OK)
        r.e = SC_ENOTFOUND;
    return sc_q_end(&r);
}

static struct sc_sql q_sessions_end = SC_SQL("DELETE FROM sessions WHERE member_id = ?");

/* Runs 'q' with ?1 'text' (or NULL) and the member 'id' last (must touch a row); then, when
   'end_sessions', ends the member's sessions: one transaction. */
static enum sc_err member_change(struct sc_store *s, struct sc_sql *q, const char *text,
                                 int64_t num, int64_t id, bool end_sessions)
{
    struct sc_q r;
    if (!sc_q_write(&r, s, true))
        return r.e;
    if (sc_q_prepare(&r, q)) {
        if (text)
            sc_sql_text(r.st, 1, text);
        else
            sc_sql_int(r.st, 1, num);
        sc_sql_int(r.st, 2, id);
        sc_q_exec(&r, true);
    }
    if (end_sessions && sc_q_prepare(&r, &q_sessions_end)) {
        sc_sql_int(r.st, 1, id);
        sc_q_exec(&r, false);
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_member_set_password(struct sc_store *s, int64_t id, const char *hash)
{
    static struct sc_sql q = SC_SQL("UPDATE members SET password_hash = ? WHERE id = ?");
    return member_change(s, &q, hash, 0, id, true);
}

enum sc_err sc_store_member_set_disabled(struct sc_store *s, int64_t id, bool disabled)
{
    static struct sc_sql q = SC_SQL("UPDATE members SET disabled = ? WHERE id = ?");
    return member_change(s, &q, NULL, disabled ? 1 : 0, id, disabled);
}

enum sc_err sc_store_member_update(struct sc_store *s, int64_t id, const char *name,
                                   const char *team, enum sc_role role)
{
    static struct sc_sql q = SC_SQL("UPDATE members SET name = ?, team = ?, role = ? WHERE id = ?");
    struct sc_q r;
    if (!sc_q_write(&r, s, false) || !sc_q_prepare(&r, &q))
        return sc_q_end(&r);
    sc_sql_text(r.st, 1, name);
    sc_sql_text(r.st, 2, team ? team : "");
    sc_sql_int(r.st, 3, (int64_t)role);
    sc_sql_int(r.st, 4, id);
    sc_q_exec(&r, true);
    return sc_q_end(&r);
}

enum sc_err sc_store_member_links(struct sc_store *s, int64_t card_id, int64_t member_id,
                                  int (*fn)(const struct sc_link *l, void *ctx), void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT id, code, channel, created_at FROM links WHERE card_id = ? "
               "AND owner_member_id = ? AND parent_link_id IS NULL ORDER BY id LIMIT 100");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, card_id);
    sc_sql_int(r.st, 2, member_id);
    while (sc_q_next(&r)) {
        struct sc_link l;
        memset(&l, 0, sizeof(l));
        l.id = sc_sql_col_int(r.st, 0);
        sc_sql_col_copy(r.st, 1, l.code, sizeof(l.code));
        l.card_id = card_id;
        l.channel = (enum sc_channel)sc_sql_col_int(r.st, 2);
        l.owner_member_id = member_id;
        l.created_at = sc_sql_col_int(r.st, 3);
        if (fn(&l, ctx))
            break;
    }
    return sc_q_end(&r);
}

/* ---- cards and links ------------------------------------------------------------------ */

enum sc_err sc_store_card_by_slug(struct sc_store *s, const char *slug, struct sc_card *out)
{
    static struct sc_sql q = SC_SQL(
        "SELECT c.id, c.member_id, c.slug, c.name, c.title, c.company, c.phone, c.phone_work, "
        "c.email, c.wechat, c.website, c.address, c.bio, c.theme, c.lang, c.avatar, "
        "c.avatar_mime, c.updated_at, m.disabled, "
        "(SELECT code FROM links l WHERE l.card_id = c.id AND l.channel = 0 "
        "   AND l.owner_member_id = c.member_id ORDER BY l.id LIMIT 1) "
        "FROM cards c JOIN members m ON m.id = c.member_id WHERE c.slug = ?");
    memset(out, 0, sizeof(*out));
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_text(r.st, 1, slug);
    if (!sc_q_next(&r)) {
        if (r.e == SC_OK)
            r.e = SC_ENOTFOUND;
        return sc_q_end(&r);
    }
    struct sc_stmt *st = r.st;
    out->id = sc_sql_col_int(st, 0);
    out->member_id = sc_sql_col_int(st, 1);
    sc_sql_col_copy(st, 2, out->slug, sizeof(out->slug));
    char **fields[] = {&out->name,  &out->title,  &out->company, &out->phone,   &out->phone_work,
                       &out->email, &out->wechat, &out->website, &out->address, &out->bio};
    for (int i = 0; i < 10; i++) {
        const char *t = sc_sql_col_text(st, 3 + i);
        if (t && !(*fields[i] = strdup(t)))
            r.e = SC_ENOMEM;
    }
    sc_sql_col_copy(st, 13, out->theme, sizeof(out->theme));
    out->lang = sc_sql_col_int(st, 14) == 1 ? SC_LANG_ZH : SC_LANG_EN;
    size_t alen = 0;
    const void *avatar = sc_sql_col_blob(st, 15, &alen);
    if (!avatar && !sc_sql_col_null(st, 15))
        r.e = SC_ENOMEM;
    if (avatar && alen > 0) {
        if ((out->avatar = malloc(alen)) != NULL) {
            memcpy(out->avatar, avatar, alen);
            out->avatar_len = alen;
        } else {
            r.e = SC_ENOMEM;
        }
    }
    sc_sql_col_copy(st, 16, out->avatar_mime, sizeof(out->avatar_mime));
    out->updated_at = sc_sql_col_int(st, 17);
    out->disabled = sc_sql_col_int(st, 18) != 0;
    sc_sql_col_copy(st, 19, out->qr_code, sizeof(out->qr_code));
    if (r.e != SC_OK)
        sc_card_cleanup(out);
    return sc_q_end(&r);
}

enum sc_err sc_store_card_update(struct sc_store *s, const struct sc_card *c)
{
    static struct sc_sql q =
        SC_SQL("UPDATE cards SET name = ?, title = ?, company = ?, phone = ?, phone_work = ?, "
               "email = ?, wechat = ?, website = ?, address = ?, bio = ?, theme = ?, lang = ?, "
               "avatar = ?, avatar_mime = ?, updated_at = ? WHERE id = ?");
    struct sc_q r;
    if (!sc_q_write(&r, s, false) || !sc_q_prepare(&r, &q))
        return sc_q_end(&r);
    bind_card(r.st, 1, c, c->name, c->email);
    sc_sql_int(r.st, 16, c->id);
    sc_q_exec(&r, true);
    return sc_q_end(&r);
}

enum sc_err sc_store_link_by_code(struct sc_store *s, const char *code, struct sc_link *out)
{
    static struct sc_sql q =
        SC_SQL("SELECT l.id, l.code, l.card_id, c.slug, l.channel, "
               "coalesce(l.owner_member_id, 0), coalesce(l.owner_customer_id, 0), "
               "coalesce(l.parent_link_id, 0), l.created_at, "
               "coalesce((SELECT vid FROM visitors WHERE id = l.owner_visitor_id), '') "
               "FROM links l JOIN cards c ON c.id = l.card_id WHERE l.code = ?");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_text(r.st, 1, code);
    if (sc_q_next(&r)) {
        struct sc_stmt *st = r.st;
        memset(out, 0, sizeof(*out));
        out->id = sc_sql_col_int(st, 0);
        sc_sql_col_copy(st, 1, out->code, sizeof(out->code));
        out->card_id = sc_sql_col_int(st, 2);
        sc_sql_col_copy(st, 3, out->card_slug, sizeof(out->card_slug));
        out->channel = (enum sc_channel)sc_sql_col_int(st, 4);
        out->owner_member_id = sc_sql_col_int(st, 5);
        out->owner_customer_id = sc_sql_col_int(st, 6);
        out->parent_link_id = sc_sql_col_int(st, 7);
        out->created_at = sc_sql_col_int(st, 8);
        sc_sql_col_copy(st, 9, out->owner_visitor, sizeof(out->owner_visitor));
    } else if (r.e == SC_OK) {
        r.e = SC_ENOTFOUND;
    }
    return sc_q_end(&r);
}

/* ---- tokens, sessions, secrets --------------------------------------------------------- */

enum sc_err sc_store_token_add(struct sc_store *s, int64_t member_id, const char *token_hash,
                               const char *label)
{
    static struct sc_sql q =
        SC_SQL("INSERT INTO tokens (member_id, token_hash, label, created_at) VALUES (?, ?, ?, ?)");
    struct sc_q r;
    if (!sc_q_write(&r, s, false) || !sc_q_prepare(&r, &q))
        return sc_q_end(&r);
    sc_sql_int(r.st, 1, member_id);
    sc_sql_text(r.st, 2, token_hash);
    sc_sql_text(r.st, 3, label ? label : "");
    sc_sql_int(r.st, 4, now_s());
    sc_q_exec(&r, false);
    return sc_q_end(&r);
}

enum sc_err sc_store_token_list(struct sc_store *s, int64_t member_id,
                                int (*fn)(const struct sc_token_row *r, void *ctx), void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT id, label, created_at, coalesce(revoked_at, 0) FROM tokens "
               "WHERE member_id = ? ORDER BY id DESC LIMIT 1000");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, member_id);
    while (sc_q_next(&r)) {
        struct sc_token_row t = {
            .id = sc_sql_col_int(r.st, 0),
            .label = sc_sql_col_text(r.st, 1),
            .created_at = sc_sql_col_int(r.st, 2),
            .revoked_at = sc_sql_col_int(r.st, 3),
        };
        if (fn(&t, ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_token_revoke(struct sc_store *s, int64_t member_id, int64_t id, int64_t now)
{
    static struct sc_sql q = SC_SQL("UPDATE tokens SET revoked_at = ? WHERE id = ? "
                                    "AND member_id = ? AND revoked_at IS NULL");
    struct sc_q r;
    if (!sc_q_write(&r, s, false) || !sc_q_prepare(&r, &q))
        return sc_q_end(&r);
    sc_sql_int(r.st, 1, now);
    sc_sql_int(r.st, 2, id);
    sc_sql_int(r.st, 3, member_id);
    sc_q_exec(&r, true);
    return sc_q_end(&r);
}

enum sc_err sc_store_session_add(struct sc_store *s, const char *token_hash, int64_t member_id,
                                 int64_t now, int64_t expires_at)
{
    static struct sc_sql q =
        SC_SQL("INSERT INTO sessions (token_hash, member_id, created_at, last_seen, "
               "expires_at) VALUES (?1, ?2, ?3, ?3, ?4)");
    struct sc_q r;
    if (!sc_q_write(&r, s, false) || !sc_q_prepare(&r, &q))
        return sc_q_end(&r);
    sc_sql_text(r.st, 1, token_hash);
    sc_sql_int(r.st, 2, member_id);
    sc_sql_int(r.st, 3, now);
    sc_sql_int(r.st, 4, expires_at);
    sc_q_exec(&r, false);
    return sc_q_end(&r);
}

enum sc_err sc_store_session_member(struct sc_store *s, const char *token_hash, int64_t now,
                                    int64_t idle_s, struct sc_member *out)
{
    static struct sc_sql q_get =
        SC_SQL("SELECT " MEMBER_COLS ", s.last_seen, s.id FROM sessions s "
               "JOIN members m ON m.id = s.member_id WHERE s.token_hash = ?1 "
               "AND s.expires_at > CAST(?2 AS BIGINT) "
               "AND s.last_seen > CAST(?2 AS BIGINT) - CAST(?3 AS BIGINT) AND m.disabled = 0");
    /* Never backwards: two instances may touch one session at once. */
    static struct sc_sql q_touch =
        SC_SQL("UPDATE sessions SET last_seen = CASE WHEN last_seen > ?1 THEN last_seen "
               "ELSE ?1 END WHERE id = ?2");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q_get))
        return r.e;
    sc_sql_text(r.st, 1, token_hash);
    sc_sql_int(r.st, 2, now);
    sc_sql_int(r.st, 3, idle_s);
    int64_t last = 0, sid = 0;
    if (sc_q_next(&r)) {
        read_member(r.st, out);
        last = sc_sql_col_int(r.st, 8);
        sid = sc_sql_col_int(r.st, 9);
    } else if (r.e == SC_OK) {
        r.e = SC_ENOTFOUND;
    }
    if (sc_q_end(&r) != SC_OK)
        return r.e;
    if (now - last >= 60 && sc_q_write(&r, s, false) && sc_q_prepare(&r, &q_touch)) {
        sc_sql_int(r.st, 1, now);
        sc_sql_int(r.st, 2, sid);
        sc_q_exec(&r, false);
    }
    sc_q_end(&r); /* best effort: a missed touch only shortens the idle time */
    return SC_OK;
}

enum sc_err sc_store_session_delete(struct sc_store *s, const char *token_hash)
{
    static struct sc_sql q = SC_SQL("DELETE FROM sessions WHERE token_hash = ?");
    struct sc_q r;
    if (!sc_q_write(&r, s, false) || !sc_q_prepare(&r, &q))
        return sc_q_end(&r);
    sc_sql_text(r.st, 1, token_hash);
    sc_q_exec(&r, false);
    return sc_q_end(&r);
}

enum sc_err sc_store_secret(struct sc_store *s, const char *name, char out[65])
{
    static struct sc_sql q_insert =
        SC_SQL("INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING");
    static struct sc_sql q_get = SC_SQL("SELECT value FROM secrets WHERE name = ?");
    unsigned char raw[32];
    char hex[65];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
    sodium_memzero(raw, sizeof(raw));
    /* Insert if missing, then read: processes and instances racing agree on one value. */
    struct sc_q r;
    if (sc_q_write(&r, s, false) && sc_q_prepare(&r, &q_insert)) {
        sc_sql_text(r.st, 1, name);
        sc_sql_text(r.st, 2, hex);
        sc_q_exec(&r, false);
    }
    if (sc_q_prepare(&r, &q_get)) {
        sc_sql_text(r.st, 1, name);
        if (sc_q_next(&r)) {
            sc_sql_col_copy(r.st, 0, out, 65);
            r.e = strlen(out) == 64 ? SC_OK : SC_EDB;
        } else if (r.e == SC_OK) {
            r.e = SC_EDB;
        }
    }
    sodium_memzero(hex, sizeof(hex));
    return sc_q_end(&r);
}

/* ---- the audit log and failed attempts -------------------------------------------------- */

enum sc_err sc_store_audit(struct sc_store *s, const char *actor, const char *action,
                           const char *target, const char *detail)
{
    static struct sc_sql q =
        SC_SQL("INSERT INTO audit (ts, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)");
    struct sc_q r;
    if (!sc_q_write(&r, s, false) || !sc_q_prepare(&r, &q))
        return sc_q_end(&r);
    sc_sql_int(r.st, 1, now_s());
    sc_sql_text(r.st, 2, actor);
    sc_sql_text(r.st, 3, action);
    sc_sql_text(r.st, 4, target);
    sc_sql_text(r.st, 5, detail ? detail : "");
    sc_q_exec(&r, false);
    return sc_q_end(&r);
}

enum sc_err sc_store_audit_list(struct sc_store *s, int64_t before, int limit,
                                int (*fn)(const struct sc_audit_row *r, void *ctx), void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT id, ts, actor, action, target, detail FROM audit "
               "WHERE CAST(?1 AS BIGINT) = 0 OR id < ?1 ORDER BY id DESC LIMIT ?2");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, before);
    sc_sql_int(r.st, 2, limit);
    while (sc_q_next(&r)) {
        struct sc_audit_row a = {
            .id = sc_sql_col_int(r.st, 0),
            .ts = sc_sql_col_int(r.st, 1),
            .actor = sc_sql_col_text(r.st, 2),
            .action = sc_sql_col_text(r.st, 3),
            .target = sc_sql_col_text(r.st, 4),
            .detail = sc_sql_col_text(r.st, 5),
        };
        if (fn(&a, ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_failures(struct sc_store *s, const char *key, int64_t now, int64_t window_s,
                              bool add, int64_t *count)
{
    static struct sc_sql q_add = SC_SQL("INSERT INTO failures (key, ts) VALUES (?, ?)");
    static struct sc_sql q_prune = SC_SQL("DELETE FROM failures WHERE ts < ?");
    static struct sc_sql q_count = SC_SQL("SELECT count(*) FROM failures WHERE key = ? AND ts > ?");
    *count = 0;
    struct sc_q r;
    /* The attempt is recorded (and day-old ones pruned) in one transaction. */
    if (add) {
        if (sc_q_write(&r, s, true) && sc_q_prepare(&r, &q_add)) {
            sc_sql_text(r.st, 1, key);
            sc_sql_int(r.st, 2, now);
            sc_q_exec(&r, false);
        }
        if (sc_q_prepare(&r, &q_prune)) {
            sc_sql_int(r.st, 1, now - 86400); /* nothing counts for longer than a day */
            sc_q_exec(&r, false);
        }
        if (sc_q_end(&r) != SC_OK)
            return r.e;
    }
    if (!sc_q_read(&r, s, &q_count))
        return r.e;
    sc_sql_text(r.st, 1, key);
    sc_sql_int(r.st, 2, now - window_s);
    r.e = sc_sql_int1(r.st, count, NULL);
    return sc_q_end(&r);
}

enum sc_err sc_store_ping(struct sc_store *s)
{
    static struct sc_sql q = SC_SQL("SELECT 1");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    int64_t one = 0;
    r.e = sc_sql_int1(r.st, &one, NULL);
    return sc_q_end(&r);
}
