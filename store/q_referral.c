/*
 * q_referral.c — the referral writes and reads, once for both backends:
 * a sign-up and a purchase inside the event writer's transaction (the
 * store gathers the facts, tracker/rewards.c decides, this file writes the
 * decision), the sign-up and ledger lists, a manager's ledger decision and
 * a customer's erasure.
 */
#include <stdio.h>
#include <string.h>

#include "store_int.h"

/* The name of party 'p' into p->name ("" when it has none). */
static enum sc_err party_name(struct sc_db *db, struct sc_party *p)
{
    static struct sc_sql q =
        SC_SQL("SELECT CASE CAST(?1 AS INTEGER) WHEN 1 THEN (SELECT name FROM members "
               "WHERE id = ?2) WHEN 2 THEN (SELECT name FROM customers WHERE id = ?2) END");
    p->name[0] = '\0';
    if (p->type == SC_PARTY_NONE)
        return SC_OK;
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
    if (!st)
        return e;
    sc_sql_int(st, 1, (int64_t)p->type);
    sc_sql_int(st, 2, p->id);
    bool row = false;
    if ((e = sc_sql_step(st, &row)) == SC_OK && row)
        sc_sql_col_copy(st, 0, p->name, sizeof(p->name));
    sc_sql_reset(st);
    return e;
}

static enum sc_err owner_member(struct sc_db *db, int64_t id, struct sc_owner *o)
{
    static struct sc_sql q = SC_SQL("SELECT m.name, m.email, coalesce(c.phone, '') FROM members m "
                                    "LEFT JOIN cards c ON c.member_id = m.id WHERE m.id = ?");
    memset(o, 0, sizeof(*o));
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
    if (!st)
        return e;
    sc_sql_int(st, 1, id);
    bool row = false;
    if ((e = sc_sql_step(st, &row)) == SC_OK && row) {
        o->party.type = SC_PARTY_MEMBER;
        o->party.id = id;
        sc_sql_col_copy(st, 0, o->party.name, sizeof(o->party.name));
        sc_sql_col_copy(st, 1, o->email, sizeof(o->email));
        /* A card's phone is as typed; compare it as E.164 when it reads as one. */
        char typed[64];
        const char *why;
        sc_sql_col_copy(st, 2, typed, sizeof(typed));
        if (typed[0] && sc_phone_normalise(typed, "86", o->phone, &why) != SC_OK)
            o->phone[0] = '\0';
    }
    sc_sql_reset(st);
    return e;
}

/* Customer 'id' as an owner, and the address they signed up from into 'ip' ('iplen' bytes). */
static enum sc_err owner_customer(struct sc_db *db, int64_t id, struct sc_owner *o, char *ip,
                                  size_t iplen)
{
    static struct sc_sql q = SC_SQL("SELECT c.name, coalesce(c.email, ''), coalesce(c.phone, ''), "
                                    "coalesce(v.vid, ''), c.level1_type, coalesce(c.level1_id, 0), "
                                    "coalesce(c.ip, '') FROM customers c "
                                    "LEFT JOIN visitors v ON v.id = c.visitor_id WHERE c.id = ?");
    memset(o, 0, sizeof(*o));
    ip[0] = '\0';
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
    if (!st)
        return e;
    sc_sql_int(st, 1, id);
    bool row = false;
    if ((e = sc_sql_step(st, &row)) == SC_OK && row) {
        o->party.type = SC_PARTY_CUSTOMER;
        o->party.id = id;
        sc_sql_col_copy(st, 0, o->party.name, sizeof(o->party.name));
        sc_sql_col_copy(st, 1, o->email, sizeof(o->email));
        sc_sql_col_copy(st, 2, o->phone, sizeof(o->phone));
        sc_sql_col_copy(st, 3, o->vid, sizeof(o->vid));
        o->referrer.type = (enum sc_party_type)sc_sql_col_int(st, 4);
        o->referrer.id = sc_sql_col_int(st, 5);
        sc_sql_col_copy(st, 6, ip, iplen);
    }
    sc_sql_reset(st);
    if (e == SC_OK && row)
        e = party_name(db, &o->referrer);
    return e;
}

enum sc_err sc_q_customer_of_visitor(struct sc_db *db, int64_t visitor_id, int64_t *out)
{
    static struct sc_sql q =
        SC_SQL("SELECT id FROM customers WHERE visitor_id = ? ORDER BY id LIMIT 1");
    return sc_sql_int_of(db, &q, visitor_id, out, NULL);
}

/*
 * The owner of a link (its raw owner columns 'member', 'customer',
 * 'visitor', and its 'parent') as attribution sees it.  A link an
 * anonymous visitor shared belongs to that visitor once they are a
 * customer; until then to the nearest member or customer up the share tree
 * (whose card, or whose link, the visitor was passing on).
 */
static enum sc_err link_owner(struct sc_db *db, int64_t member, int64_t customer, int64_t visitor,
                              int64_t parent, struct sc_owner *o, char *ip, size_t iplen)
{
    static struct sc_sql q_link = SC_SQL(
        "SELECT coalesce(owner_member_id, 0), coalesce(owner_customer_id, 0), "
        "coalesce(owner_visitor_id, 0), coalesce(parent_link_id, 0) FROM links WHERE id = ?");
    enum sc_err e = SC_OK;
    memset(o, 0, sizeof(*o));
    ip[0] = '\0';
    for (int depth = 0; depth < 64; depth++) {
        if (member)
            return owner_member(db, member, o);
        if (customer)
            return owner_customer(db, customer, o, ip, iplen);
        if (visitor) {
            int64_t cust = 0;
            if ((e = sc_q_customer_of_visitor(db, visitor, &cust)) != SC_OK)
                return e;
            if (cust)
                return owner_customer(db, cust, o, ip, iplen);
        }
        if (!parent)
            return SC_OK;
        struct sc_stmt *st = sc_sql_prepare(db, &q_link, &e);
        if (!st)
            return e;
        sc_sql_int(st, 1, parent);
        bool row = false;
        if ((e = sc_sql_step(st, &row)) == SC_OK && row) {
            member = sc_sql_col_int(st, 0);
            customer = sc_sql_col_int(st, 1);
            visitor = sc_sql_col_int(st, 2);
            parent = sc_sql_col_int(st, 3);
        }
        sc_sql_reset(st);
        if (e != SC_OK || !row)
            return e;
    }
    return SC_OK;
}

/*
 * Writes ledger row 'g' for customer 'customer_id' (and purchase
 * 'conversion_id', or 0), its id into '*id'.  A welcome reward (level 0) is
 * the new customer's own; a welcome coupon's row carries the coupon's value.
 */
static enum sc_err grant_insert(struct sc_db *db, int64_t customer_id, int64_t conversion_id,
                                const struct sc_grant *g, int64_t now, int64_t rule_version,
                                int64_t *id)
{
    static struct sc_sql q =
        SC_SQL("INSERT INTO rewards (customer_id, conversion_id, party_type, party_id, level, "
               "kind, amount, status, reason, created_at, approve_after, rule_version) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
    if (!st)
        return e;
    bool own = g->level == 0 && g->party.id == 0;
    sc_sql_int(st, 1, customer_id);
    sc_sql_id(st, 2, conversion_id);
    sc_sql_int(st, 3, (int64_t)g->party.type);
    sc_sql_int(st, 4, own ? customer_id : g->party.id);
    sc_sql_int(st, 5, g->level);
    sc_sql_text(st, 6, g->coupon ? "coupon" : g->kind);
    sc_sql_int(st, 7, g->amount);
    sc_sql_text(st, 8, g->status);
    sc_sql_text(st, 9, g->reason);
    sc_sql_int(st, 10, now);
    sc_sql_int(st, 11, g->approve_after);
    sc_sql_id(st, 12, rule_version);
    return sc_sql_int1(st, id, NULL);
}

#define MAX_TOUCHES 64

/* Per-thread room for a sign-up's facts (too big for the stack of an MHD thread). */
struct signup_scratch {
    struct sc_touch touches[MAX_TOUCHES];
    struct sc_touch_signals signals[MAX_TOUCHES];
    int64_t raw[MAX_TOUCHES][4]; /* each touch's link: owner member, customer, visitor, parent */
};

/* The facts of sign-up 'ev' by visitor 'vid' (0: none): its touches, their owners, signals. */
static enum sc_err signup_facts(struct sc_db *db, const struct sc_event *ev, int64_t vid,
                                struct signup_scratch *t, struct sc_owner *card_owner,
                                struct sc_signup_facts *f)
{
    static struct sc_sql q_touches = SC_SQL(
        "SELECT e.id, e.ts, e.link_id, coalesce(l.owner_member_id, 0), "
        "coalesce(l.owner_customer_id, 0), coalesce(l.owner_visitor_id, 0), "
        "coalesce(l.parent_link_id, 0) FROM events e JOIN links l ON l.id = e.link_id "
        "WHERE e.visitor_id = ? AND e.type IN (0, 1) AND e.bot = 0 AND e.ts >= ? AND e.ts <= ? "
        "ORDER BY e.ts DESC, e.id DESC LIMIT 64");
    static struct sc_sql q_velocity =
        SC_SQL("SELECT count(*) FROM customers WHERE referrer_link_id = ? AND created_at > ?");
    static struct sc_sql q_card_owner = SC_SQL("SELECT member_id FROM cards WHERE id = ?");
    const struct sc_signup *su = ev->signup;
    enum sc_err e = SC_OK;
    size_t n = 0;
    if (vid) {
        struct sc_stmt *st = sc_sql_prepare(db, &q_touches, &e);
        if (!st)
            return e;
        sc_sql_int(st, 1, vid);
        sc_sql_int(st, 2, ev->ts - su->cfg->window_s);
        sc_sql_int(st, 3, ev->ts);
        bool row = false;
        while (n < MAX_TOUCHES && (e = sc_sql_step(st, &row)) == SC_OK && row) {
            memset(&t->touches[n], 0, sizeof(t->touches[n]));
            memset(&t->signals[n], 0, sizeof(t->signals[n]));
            t->touches[n].event_id = sc_sql_col_int(st, 0);
            t->touches[n].ts = sc_sql_col_int(st, 1);
            t->touches[n].link_id = sc_sql_col_int(st, 2);
            for (int k = 0; k < 4; k++)
                t->raw[n][k] = sc_sql_col_int(st, 3 + k);
            n++;
        }
        sc_sql_reset(st);
        if (e != SC_OK)
            return e;
    }
    for (size_t i = 0; i < n; i++) {
        struct sc_touch *tc = &t->touches[i];
        if ((e = link_owner(db, t->raw[i][0], t->raw[i][1], t->raw[i][2], t->raw[i][3], &tc->owner,
                            t->signals[i].owner_ip, sizeof(t->signals[i].owner_ip))) != SC_OK)
            return e;
        if (tc->owner.party.type == SC_PARTY_NONE)
            continue; /* never credited: its link's pace does not matter */
        size_t k = 0; /* each link counted once */
        while (k < i && t->touches[k].link_id != tc->link_id)
            k++;
        if (k < i) {
            t->signals[i].link_signups_hour = t->signals[k].link_signups_hour;
            continue;
        }
        struct sc_stmt *st = sc_sql_prepare(db, &q_velocity, &e);
        if (!st)
            return e;
        sc_sql_int(st, 1, tc->link_id);
        sc_sql_int(st, 2, ev->ts - 3600);
        if ((e = sc_sql_int1(st, &t->signals[i].link_signups_hour, NULL)) != SC_OK)
            return e;
    }
    int64_t owner_id = 0;
    if ((e = sc_sql_int_of(db, &q_card_owner, ev->card_id, &owner_id, NULL)) != SC_OK ||
        (e = owner_member(db, owner_id, card_owner)) != SC_OK)
        return e;
    *f = (struct sc_signup_facts){.now = ev->ts,
                                  .signer = {ev->visitor, su->email, su->phone},
                                  .ip = ev->ip,
                                  .touches = t->touches,
                                  .signals = t->signals,
                                  .n = n,
                                  .card_owner = card_owner};
    return SC_OK;
}

enum sc_err sc_q_signup_write(struct sc_db *db, struct sc_event_row *row, int64_t vid,
                              int64_t *touch_link)
{
    static struct sc_sql q_dup =
        SC_SQL("SELECT id FROM customers WHERE (CAST(?1 AS TEXT) IS NOT NULL AND email = ?1) "
               "OR (CAST(?2 AS TEXT) IS NOT NULL AND phone = ?2) LIMIT 1");
    /* Nothing on a race over the unique e-mail or phone (another instance): a repeat. */
    static struct sc_sql q_customer =
        SC_SQL("INSERT INTO customers (card_id, name, email, phone, referrer_link_id, "
               "created_at, visitor_id, ip, consent_version, rule, touch_event_id, "
               "level1_type, level1_id, level2_type, level2_id, notes) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
               "ON CONFLICT DO NOTHING RETURNING id");
    static struct sc_sql q_own_link =
        SC_SQL("UPDATE customers SET own_link_id = ?, rule_version = ? WHERE id = ?");
    static _Thread_local struct signup_scratch scratch;
    const struct sc_event *ev = row->ev;
    struct sc_signup *su = ev->signup;
    const struct sc_referral_config *cfg = su->cfg;
    *touch_link = 0;

    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q_dup, &e);
    if (!st)
        return e;
    sc_sql_opt(st, 1, su->email);
    sc_sql_opt(st, 2, su->phone);
    int64_t dup = 0;
    bool found = false;
    if ((e = sc_sql_int1(st, &dup, &found)) != SC_OK)
        return e;
    if (found) {
        row->result = SC_ECONFLICT;
        return SC_OK;
    }

    struct sc_owner card_owner;
    struct sc_signup_facts facts;
    struct sc_signup_decision d;
    if ((e = signup_facts(db, ev, vid, &scratch, &card_owner, &facts)) != SC_OK)
        return e;
    sc_signup_decide(&facts, cfg, &d);
    if (cfg->cap_l1_month > 0 && d.attr.level1.type != SC_PARTY_NONE) {
        int64_t l1_month = 0; /* issue 19: the level-1 referrer's rewarded sign-ups this month */
        if ((e = sc_q_rewarded_this_month(db, &d.attr.level1, ev->ts, cfg->tz_min, &l1_month)) !=
            SC_OK)
            return e;
        sc_signup_cap(cfg, l1_month, &d);
    }
    const struct sc_touch *win = d.attr.touch;
    snprintf(su->hold_reason, sizeof(su->hold_reason), "%s", d.hold_reason);

    if (!(st = sc_sql_prepare(db, &q_customer, &e)))
        return e;
    sc_sql_int(st, 1, ev->card_id);
    sc_sql_text(st, 2, su->name);
    sc_sql_opt(st, 3, su->email);
    sc_sql_opt(st, 4, su->phone);
    sc_sql_id(st, 5, win ? win->link_id : 0);
    sc_sql_int(st, 6, ev->ts);
    sc_sql_id(st, 7, vid);
    sc_sql_opt(st, 8, ev->ip);
    sc_sql_text(st, 9, cfg->consent_version);
    sc_sql_text(st, 10, sc_rule_name(d.attr.rule));
    sc_sql_id(st, 11, win ? win->event_id : 0);
    sc_sql_int(st, 12, (int64_t)d.attr.level1.type);
    sc_sql_id(st, 13, d.attr.level1.type ? d.attr.level1.id : 0);
    sc_sql_int(st, 14, (int64_t)d.attr.level2.type);
    sc_sql_id(st, 15, d.attr.level2.type ? d.attr.level2.id : 0);
    sc_sql_text(st, 16, d.notes);
    int64_t customer_id = 0;
    if ((e = sc_sql_int1(st, &customer_id, &found)) != SC_OK)
        return e;
    if (!found) {
        row->result = SC_ECONFLICT; /* someone took this e-mail or phone just now */
        return SC_OK;
    }

    int64_t own_link = 0;
    if ((e = sc_q_link_insert(db, ev->card_id, SC_CH_QR, 0, customer_id, 0, win ? win->link_id : 0,
                              ev->ts, su->referral_code, &own_link)) != SC_OK)
        return e;
    if (!(st = sc_sql_prepare(db, &q_own_link, &e)))
        return e;
    sc_sql_int(st, 1, own_link);
    sc_sql_id(st, 2, cfg->rule_version);
    sc_sql_int(st, 3, customer_id);
    if ((e = sc_sql_exec(st, NULL)) != SC_OK)
        return e;
    if ((e = sc_q_birthday_set(db, customer_id, su)) != SC_OK) /* q_birthdays.c */
        return e;
    for (size_t i = 0; i < d.ngrants; i++) {
        int64_t reward_id = 0;
        if ((e = grant_insert(db, customer_id, 0, &d.grants[i], ev->ts, cfg->rule_version,
                              &reward_id)) != SC_OK)
            return e;
        if (d.grants[i].coupon && (e = sc_q_coupon_issue(db, customer_id, reward_id,
                                                         d.grants[i].coupon, ev->ts)) != SC_OK)
            return e;
    }
    su->customer_id = customer_id;
    su->level1 = d.attr.level1;
    su->level2 = d.attr.level2;
    if ((e = party_name(db, &su->level1)) != SC_OK || (e = party_name(db, &su->level2)) != SC_OK)
        return e;
    su->rule = d.attr.rule;
    su->self_referral_ignored = d.attr.self_referral_ignored;
    *touch_link = win ? win->link_id : 0;
    /* The signup.created webhook, in this transaction: durable with the sign-up itself. */
    if ((e = sc_q_outbox_signup(db, customer_id)) != SC_OK)
        return e;
    /* The credited members' alerts (issue 18), in the same transaction. */
    return sc_q_notify_signup(db, customer_id);
}

enum sc_err sc_q_conversion_write(struct sc_db *db, struct sc_event_row *row, int64_t *card_id,
                                  int64_t *day, bool *skip)
{
    static struct sc_sql q_known = SC_SQL("SELECT id FROM conversions WHERE order_id = ?");
#define CUSTOMER_LEVELS                                                                            \
    "SELECT id, card_id, level1_type, coalesce(level1_id, 0), level2_type, "                       \
    "coalesce(level2_id, 0), coalesce(rule_version, 0) FROM customers "
    static struct sc_sql q_by_id = SC_SQL(CUSTOMER_LEVELS "WHERE id = ?");
    static struct sc_sql q_by_email = SC_SQL(CUSTOMER_LEVELS "WHERE email = ?");
#undef CUSTOMER_LEVELS
    /* Nothing when another instance stored this order just now: a replay. */
    static struct sc_sql q_insert =
        SC_SQL("INSERT INTO conversions (order_id, customer_id, amount_cents, created_at) "
               "VALUES (?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING RETURNING id");
    struct sc_conversion *cv = row->ev->conversion;
    enum sc_err e = SC_OK;
    bool found = false;
    struct sc_stmt *st = sc_sql_prepare(db, &q_known, &e);
    if (!st)
        return e;
    sc_sql_text(st, 1, cv->order_id);
    if ((e = sc_sql_int1(st, &cv->conversion_id, &found)) != SC_OK)
        return e;
    if (found) {
        cv->replayed = true;
        *skip = true;
        return SC_OK;
    }

    if (!(st = sc_sql_prepare(db, cv->customer_id ? &q_by_id : &q_by_email, &e)))
        return e;
    if (cv->customer_id)
        sc_sql_int(st, 1, cv->customer_id);
    else
        sc_sql_text(st, 1, cv->email);
    struct sc_conversion_facts f = {.now = row->ev->ts, .amount_cents = cv->amount_cents};
    int64_t customer = 0, rule_version = 0;
    bool any = false;
    if ((e = sc_sql_step(st, &any)) == SC_OK && any) {
        customer = sc_sql_col_int(st, 0);
        *card_id = sc_sql_col_int(st, 1);
        f.levels[0].type = (enum sc_party_type)sc_sql_col_int(st, 2);
        f.levels[0].id = sc_sql_col_int(st, 3);
        f.levels[1].type = (enum sc_party_type)sc_sql_col_int(st, 4);
        f.levels[1].id = sc_sql_col_int(st, 5);
        rule_version = sc_sql_col_int(st, 6);
    }
    sc_sql_reset(st);
    if (e != SC_OK)
        return e;
    if (!any) {
        row->result = SC_ENOTFOUND;
        *skip = true;
        return SC_OK;
    }
    /* A coupon is checked before anything is written: refused, the order is not stored. */
    int64_t coupon_id = 0;
    if (cv->coupon[0]) {
        if ((e = sc_q_coupon_check(db, cv, customer, row->ev->ts, &coupon_id)) != SC_OK)
            return e;
        if (cv->coupon_status) {
            row->result = SC_ECONFLICT;
            *skip = true;
            return SC_OK;
        }
    }

    if (!(st = sc_sql_prepare(db, &q_insert, &e)))
        return e;
    sc_sql_text(st, 1, cv->order_id);
    sc_sql_int(st, 2, customer);
    sc_sql_int(st, 3, cv->amount_cents);
    int64_t when = cv->ordered_at ? cv->ordered_at : row->ev->ts; /* back-filled orders */
    *day = when / 86400;
    sc_sql_int(st, 4, when);
    if ((e = sc_sql_int1(st, &cv->conversion_id, &found)) != SC_OK)
        return e;
    if (!found) {
        if (!(st = sc_sql_prepare(db, &q_known, &e)))
            return e;
        sc_sql_text(st, 1, cv->order_id);
        if ((e = sc_sql_int1(st, &cv->conversion_id, NULL)) != SC_OK)
            return e;
        cv->replayed = true;
        *skip = true;
        return SC_OK;
    }
    cv->customer_id = customer;
    if (coupon_id && (e = sc_q_coupon_redeem(db, coupon_id, cv->conversion_id, cv->order_id,
                                             row->ev->ts)) != SC_OK)
        return e;
    /* Issue 19: a customer's purchases follow the rules they signed up under. */
    struct sc_referral_config rules = *cv->cfg;
    if (rule_version && rule_version != rules.rule_version &&
        (e = sc_q_rules_of_version(db, rule_version, &rules)) != SC_OK)
        return e;
    struct sc_conversion_decision d;
    sc_conversion_decide(&f, &rules, &d);
    for (size_t i = 0; i < d.ngrants; i++) {
        int64_t reward_id = 0;
        if ((e = grant_insert(db, customer, cv->conversion_id, &d.grants[i], row->ev->ts,
                              rules.rule_version, &reward_id)) != SC_OK)
            return e;
    }
    /* Its NPS survey (q_nps.c), then the conversion.created webhook that carries its link;
     * none for a back-filled order older than the survey window (asking would be noise). */
    int64_t order_at = cv->ordered_at ? cv->ordered_at : row->ev->ts;
    bool too_old = cv->survey_max_age_s > 0 && row->ev->ts - order_at > cv->survey_max_age_s;
    if (!too_old &&
        (e = sc_q_survey_create(db, customer, cv->conversion_id, order_at, cv)) != SC_OK)
        return e;
    /* The conversion.created webhook, in this transaction. */
    return sc_q_outbox_conversion(db, cv->conversion_id);
}

/* ---- lists and a manager's decisions ---------------------------------------------------- */

/* The scope's filter on cards 'c': ?1 a member (0: any), ?2 a team (NULL: any). */
#define SCOPE_CARDS                                                                                \
    "(CAST(?1 AS BIGINT) = 0 OR c.member_id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR "               \
    "c.member_id IN (SELECT id FROM members WHERE team = ?2))"

/* The names of a sign-up's two levels (s), and of a reward's earner (r). */
#define LEVEL1_NAME                                                                                \
    "CASE s.level1_type WHEN 1 THEN (SELECT name FROM members WHERE id = s.level1_id) "            \
    "WHEN 2 THEN (SELECT name FROM customers WHERE id = s.level1_id) END"
#define LEVEL2_NAME                                                                                \
    "CASE s.level2_type WHEN 1 THEN (SELECT name FROM members WHERE id = s.level2_id) "            \
    "WHEN 2 THEN (SELECT name FROM customers WHERE id = s.level2_id) END"
#define EARNER_NAME                                                                                \
    "CASE r.party_type WHEN 1 THEN (SELECT name FROM members WHERE id = r.party_id) "              \
    "WHEN 2 THEN (SELECT name FROM customers WHERE id = r.party_id) END"

enum sc_err sc_store_signups_list(struct sc_store *s, const struct sc_scope *scope,
                                  int (*fn)(const struct sc_signup_row *r, void *ctx), void *ctx)
{
    static struct sc_sql q =
        SC_SQL("SELECT s.id, s.name, s.email, s.phone, c.slug, l.code, s.level1_type, "
               "coalesce(s.level1_id, 0), " LEVEL1_NAME
               ", s.level2_type, coalesce(s.level2_id, 0), " LEVEL2_NAME
               ", s.rule, s.notes, s.created_at FROM customers s "
               "JOIN cards c ON c.id = s.card_id LEFT JOIN links l ON l.id = s.referrer_link_id "
               "WHERE " SCOPE_CARDS " ORDER BY s.id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, scope ? scope->member_id : 0);
    sc_sql_opt(r.st, 2, scope ? scope->team : NULL);
    while (sc_q_next(&r)) {
        struct sc_stmt *st = r.st;
        struct sc_signup_row w;
        memset(&w, 0, sizeof(w));
        w.id = sc_sql_col_int(st, 0);
        w.name = sc_sql_col_text(st, 1);
        w.email = sc_sql_col_text(st, 2);
        w.phone = sc_sql_col_text(st, 3);
        w.card = sc_sql_col_text(st, 4);
        w.link = sc_sql_col_text(st, 5);
        w.level1.type = (enum sc_party_type)sc_sql_col_int(st, 6);
        w.level1.id = sc_sql_col_int(st, 7);
        sc_sql_col_copy(st, 8, w.level1.name, sizeof(w.level1.name));
        w.level2.type = (enum sc_party_type)sc_sql_col_int(st, 9);
        w.level2.id = sc_sql_col_int(st, 10);
        sc_sql_col_copy(st, 11, w.level2.name, sizeof(w.level2.name));
        w.rule = sc_sql_col_text(st, 12);
        if (!w.rule) /* customers.rule came by ALTER TABLE: older rows have none */
            w.rule = "";
        w.notes = sc_sql_col_text(st, 13);
        if (!w.notes)
            w.notes = "";
        w.created_at = sc_sql_col_int(st, 14);
        if (fn(&w, ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_rewards_list(struct sc_store *s, const struct sc_scope *scope, int64_t now,
                                  int (*fn)(const struct sc_reward_row *r, void *ctx), void *ctx)
{
    static struct sc_sql q = SC_SQL(
        "SELECT r.id, r.customer_id, coalesce(r.conversion_id, 0), r.party_type, "
        "r.party_id, " EARNER_NAME ", r.level, r.kind, r.amount, CASE WHEN r.status = 'pending' "
        "AND r.approve_after <= CAST(?3 AS BIGINT) THEN 'approved' ELSE r.status END, "
        "r.reason, r.created_at FROM rewards r JOIN customers s ON s.id = r.customer_id "
        "JOIN cards c ON c.id = s.card_id WHERE (CAST(?1 AS BIGINT) = 0 OR c.member_id = ?1 "
        "OR (r.party_type = 1 AND r.party_id = ?1)) AND (CAST(?2 AS TEXT) IS NULL OR "
        "c.member_id IN (SELECT id FROM members WHERE team = ?2)) ORDER BY r.id");
    struct sc_q r;
    if (!sc_q_read(&r, s, &q))
        return r.e;
    sc_sql_int(r.st, 1, scope ? scope->member_id : 0);
    sc_sql_opt(r.st, 2, scope ? scope->team : NULL);
    sc_sql_int(r.st, 3, now);
    while (sc_q_next(&r)) {
        struct sc_stmt *st = r.st;
        struct sc_reward_row w;
        memset(&w, 0, sizeof(w));
        w.id = sc_sql_col_int(st, 0);
        w.customer_id = sc_sql_col_int(st, 1);
        w.conversion_id = sc_sql_col_int(st, 2);
        w.party.type = (enum sc_party_type)sc_sql_col_int(st, 3);
        w.party.id = sc_sql_col_int(st, 4);
        sc_sql_col_copy(st, 5, w.party.name, sizeof(w.party.name));
        w.level = (int)sc_sql_col_int(st, 6);
        w.kind = sc_sql_col_text(st, 7);
        w.amount = sc_sql_col_int(st, 8);
        w.status = sc_sql_col_text(st, 9);
        w.reason = sc_sql_col_text(st, 10);
        w.created_at = sc_sql_col_int(st, 11);
        if (fn(&w, ctx))
            break;
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_reward_decide(struct sc_store *s, int64_t id, const char *status,
                                   const char *reason, int64_t now)
{
    static struct sc_sql q = SC_SQL(
        "UPDATE rewards SET status = ?1, reason = CASE WHEN CAST(?2 AS TEXT) = '' THEN reason "
        "ELSE ?2 END, decided_at = ?3, "
        /* when it was approved: now, or, voided after its hold ended, then (statements) */
        "approved_at = CASE WHEN CAST(?1 AS TEXT) = 'approved' THEN CAST(?3 AS BIGINT) "
        "WHEN status = 'pending' AND approve_after <= CAST(?3 AS BIGINT) THEN approve_after "
        "ELSE approved_at END WHERE id = ?4 AND status IN ('pending', 'hold')");
    if (strcmp(status, "approved") != 0 && strcmp(status, "void") != 0)
        return SC_EINVAL;
    struct sc_q r;
    /* A transaction: an approval and its reward.approved webhook are stored together. */
    if (!sc_q_write(&r, s, true) || !sc_q_prepare(&r, &q))
        return sc_q_end(&r);
    sc_sql_text(r.st, 1, status);
    sc_sql_text(r.st, 2, reason ? reason : "");
    sc_sql_int(r.st, 3, now);
    sc_sql_int(r.st, 4, id);
    if (sc_q_exec(&r, true) && strcmp(status, "approved") == 0) {
        sc_sql_reset(r.st);
        r.e = sc_q_outbox_reward(r.db, id);
    }
    return sc_q_end(&r);
}

enum sc_err sc_store_customer_erase(struct sc_store *s, const char *email, int64_t now, int64_t *id)
{
    static struct sc_sql q_find =
        SC_SQL("SELECT id, coalesce(visitor_id, 0) FROM customers WHERE email = ?{for_update}");
    static struct sc_sql q_customer =
        SC_SQL("UPDATE customers SET name = 'erased', email = NULL, phone = NULL, ip = NULL, "
               "notes = notes || CASE WHEN notes = '' THEN '' ELSE ',' END || 'erased' "
               "WHERE id = ?");
    static struct sc_sql q_visitor =
        SC_SQL("UPDATE visitors SET vid = 'erased:' || id WHERE id = ?");
    static struct sc_sql q_rewards =
        SC_SQL("UPDATE rewards SET status = 'void', reason = 'erasure', decided_at = ?2, "
               "approved_at = CASE WHEN status = 'pending' AND approve_after <= CAST(?2 AS BIGINT) "
               "THEN approve_after ELSE approved_at END "
               "WHERE party_type = 2 AND party_id = ?1 AND status IN ('pending', 'hold')");
    int64_t cust = 0, visitor = 0;
    struct sc_q r;
    if (sc_q_write(&r, s, true) && sc_q_prepare(&r, &q_find)) {
        sc_sql_text(r.st, 1, email);
        if (sc_q_next(&r)) {
            cust = sc_sql_col_int(r.st, 0);
            visitor = sc_sql_col_int(r.st, 1);
        } else if (r.e == SC_OK) {
            r.e = SC_ENOTFOUND;
        }
        sc_sql_reset(r.st);
    }
    if (sc_q_prepare(&r, &q_customer)) {
        sc_sql_int(r.st, 1, cust);
        sc_q_exec(&r, false);
    }
    if (visitor && r.e == SC_OK)
        r.e = s->ops->visitor_forget(r.db, visitor);
    if (visitor && sc_q_prepare(&r, &q_visitor)) {
        sc_sql_int(r.st, 1, visitor);
        sc_q_exec(&r, false);
    }
    if (r.e == SC_OK) /* their survey comments and birthday (q_nps.c, q_birthdays.c) */
        r.e = sc_q_customer_erase_extra(r.db, cust);
    if (sc_q_prepare(&r, &q_rewards)) {
        sc_sql_int(r.st, 1, cust);
        sc_sql_int(r.st, 2, now);
        sc_q_exec(&r, false);
    }
    if (sc_q_end(&r) == SC_OK)
        *id = cust;
    return r.e;
}
