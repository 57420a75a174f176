/*
 * q_rules.c — the reward rules' versions, once for both backends (issue
 * 19).  Every sign-up and reward keeps the version of the rules it was
 * decided under; a change of SHARECARD_REWARDS is a new version, so it
 * applies to new sign-ups only and history is never rewritten: a
 * customer's later purchases are decided under their sign-up's version.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

enum sc_err sc_store_rules_version(struct sc_store *s, const char *rules, int64_t now,
                                   int64_t *version, bool *is_new)
{
    static struct sc_sql q_latest =
        SC_SQL("SELECT version, rules FROM reward_rules ORDER BY version DESC LIMIT 1{for_update}");
    static struct sc_sql q_add =
        SC_SQL("INSERT INTO reward_rules (rules, created_at) VALUES (?, ?) RETURNING version");
    *version = 0;
    *is_new = false;
    struct sc_q r;
    if (!sc_q_write(&r, s, true) || !sc_q_prepare(&r, &q_latest))
        return sc_q_end(&r);
    bool same = false;
    if (sc_q_next(&r)) {
        *version = sc_sql_col_int(r.st, 0);
        same = strcmp(sc_sql_col_text(r.st, 1), rules) == 0;
    }
    sc_sql_reset(r.st);
    if (r.e == SC_OK && !same && sc_q_prepare(&r, &q_add)) {
        sc_sql_text(r.st, 1, rules);
        sc_sql_int(r.st, 2, now);
        r.e = sc_sql_int1(r.st, version, NULL);
        *is_new = r.e == SC_OK;
    }
    return sc_q_end(&r);
}

enum sc_err sc_q_rules_of_version(struct sc_db *db, int64_t version, struct sc_referral_config *cfg)
{
    static struct sc_sql q = SC_SQL("SELECT rules FROM reward_rules WHERE version = ?");
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
    if (!st)
        return e;
    sc_sql_int(st, 1, version);
    bool row = false;
    char text[512] = "", why[160];
    if ((e = sc_sql_step(st, &row)) == SC_OK && row)
        sc_sql_col_copy(st, 0, text, sizeof(text));
    sc_sql_reset(st);
    if (e == SC_OK && row && sc_rewards_parse(text, cfg, why, sizeof(why)) == SC_OK)
        cfg->rule_version = version;
    return e;
}

enum sc_err sc_q_rewarded_this_month(struct sc_db *db, const struct sc_party *p, int64_t now,
                                     int32_t (*tz_min)(int64_t at), int64_t *out)
{
    static struct sc_sql q =
        SC_SQL("SELECT count(*) FROM rewards WHERE party_type = ? AND party_id = ? AND level = 1 "
               "AND conversion_id IS NULL AND created_at >= ?");
    int64_t first, next; /* the month of 'now' in the deployment's zone */
    sc_month_of(now, tz_min, &first, &next);
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
    if (!st)
        return e;
    sc_sql_int(st, 1, (int64_t)p->type);
    sc_sql_int(st, 2, p->id);
    sc_sql_int(st, 3, first);
    return sc_sql_int1(st, out, NULL);
}
