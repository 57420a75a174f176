/*
 * q_payouts.c — payouts and monthly statements, once for both backends
 * (issue 19).  A payout is checked against the party's approved, unpaid
 * balance and written in one transaction with the party's row locked, so
 * two payouts can never both spend the same balance; a statement is the
 * ledger's movements summed before and within a month, money (commission
 * cents) and points (sign-up and welcome rewards) each on its own
 * (sc_statement_make() in tracker/rewards.c does the arithmetic), in one
 * pass per table grouped by party along its index.
 */
#include <stdio.h>
#include <string.h>

#include "store_int.h"

/* The query texts below join macros inside strings, which clang-format would scatter. */
/* clang-format off */
/*
 * The eight sums of a party's rows of one kind before ?1 and within
 * [?1, ?2), approvals only up to ?3 (now): earned, approved, voided,
 * approved then voided.  A row's approval time is looked up once per sum.
 */
#define WHEN_APPROVED(COND)                                                                        \
    "sum(CASE WHEN r.approved_at IS NOT NULL THEN (CASE WHEN " COND("r.approved_at")               \
    " THEN r.amount ELSE 0 END) WHEN r.status = 'approved' THEN (CASE WHEN " COND("r.decided_at")  \
    " THEN r.amount ELSE 0 END) WHEN r.status = 'pending' THEN (CASE WHEN " COND("r.approve_after")\
    " THEN r.amount ELSE 0 END) ELSE 0 END)"
#define BEFORE(X) X " < CAST(?1 AS BIGINT) AND " X " <= CAST(?3 AS BIGINT)"
#define WITHIN(X)                                                                                  \
    X " >= CAST(?1 AS BIGINT) AND " X " < CAST(?2 AS BIGINT) AND " X " <= CAST(?3 AS BIGINT)"
#define MOVES                                                                                      \
    "sum(CASE WHEN r.created_at < CAST(?1 AS BIGINT) THEN r.amount ELSE 0 END), "                  \
    "sum(CASE WHEN r.created_at >= CAST(?1 AS BIGINT) AND r.created_at < CAST(?2 AS BIGINT) "      \
    "THEN r.amount ELSE 0 END), " WHEN_APPROVED(BEFORE) ", " WHEN_APPROVED(WITHIN) ", "            \
    "sum(CASE WHEN r.status = 'void' AND r.decided_at < CAST(?1 AS BIGINT) "                       \
    "THEN r.amount ELSE 0 END), "                                                                  \
    "sum(CASE WHEN r.status = 'void' AND r.decided_at >= CAST(?1 AS BIGINT) AND "                  \
    "r.decided_at < CAST(?2 AS BIGINT) THEN r.amount ELSE 0 END), "                                \
    "sum(CASE WHEN r.status = 'void' AND r.approved_at IS NOT NULL AND "                           \
    "r.decided_at < CAST(?1 AS BIGINT) THEN r.amount ELSE 0 END), "                                \
    "sum(CASE WHEN r.status = 'void' AND r.approved_at IS NOT NULL AND "                           \
    "r.decided_at >= CAST(?1 AS BIGINT) AND r.decided_at < CAST(?2 AS BIGINT) "                    \
    "THEN r.amount ELSE 0 END)"

/*
 * Per party and kind (restricted by WHERE-clause PR on rewards r and PP on
 * payouts), one ordered pass over each table along rewards_party_kind and
 * payouts_party (the GROUP BY follows the index, so a party's rows are read
 * together and nothing is sorted): the 8 sums of each ledger kind, and of
 * the payouts (kind 'payout') the 2 paid sums in c0 and c1.
 */
#define MOVEMENTS(PR, PP)                                                                          \
    "SELECT r.party_type, r.party_id, r.kind, " MOVES " FROM rewards r WHERE " PR                  \
    " AND r.kind IN ('commission', 'signup', 'welcome') "                                          \
    "GROUP BY r.party_type, r.party_id, r.kind "                                                   \
    "UNION ALL SELECT party_type, party_id, 'payout', "                                            \
    "sum(CASE WHEN created_at < CAST(?1 AS BIGINT) THEN amount ELSE 0 END), "                      \
    "sum(CASE WHEN created_at >= CAST(?1 AS BIGINT) AND created_at < CAST(?2 AS BIGINT) "          \
    "THEN amount ELSE 0 END), 0, 0, 0, 0, 0, 0 FROM payouts WHERE " PP                             \
    " GROUP BY party_type, party_id"
#define COLS "(pt, pid, k, c0, c1, c2, c3, c4, c5, c6, c7)"

/*
 * Per party, the 18 sums: money (commission cents) c0..c7, points (sign-up
 * and welcome rewards) c0..c7, paid c0 and c1.
 */
#define NSUMS 18
#define M(C) "sum(CASE WHEN t.k = 'commission' THEN t." C " ELSE 0 END)"
#define PTS(C) "sum(CASE WHEN t.k IN ('signup', 'welcome') THEN t." C " ELSE 0 END)"
#define PAID(C) "sum(CASE WHEN t.k = 'payout' THEN t." C " ELSE 0 END)"
#define SUMS                                                                                       \
    M("c0") ", " M("c1") ", " M("c2") ", " M("c3") ", "                                            \
    M("c4") ", " M("c5") ", " M("c6") ", " M("c7") ", "                                            \
    PTS("c0") ", " PTS("c1") ", " PTS("c2") ", " PTS("c3") ", "                                    \
    PTS("c4") ", " PTS("c5") ", " PTS("c6") ", " PTS("c7") ", "                                    \
    PAID("c0") ", " PAID("c1")

/*
 * The statements query over MOVEMENTS(PR, PP): names, the scope (?4 a
 * member, 0: any; ?5 a team, NULL: any), only parties with something by the
 * month's end (money, points or payouts: c0 + c1 of any kind).
 */
#define STATEMENTS(PR, PP)                                                                         \
    "WITH t" COLS " AS (" MOVEMENTS(PR, PP) ") SELECT t.pt, t.pid, CASE t.pt "                     \
    "WHEN 1 THEN (SELECT name FROM members WHERE id = t.pid) "                                     \
    "WHEN 2 THEN (SELECT name FROM customers WHERE id = t.pid) END, " SUMS " FROM t WHERE "        \
    "(CAST(?4 AS BIGINT) = 0 OR (t.pt = 1 AND t.pid = ?4) OR (t.pt = 2 AND t.pid IN "              \
    "(SELECT s.id FROM customers s JOIN cards c ON c.id = s.card_id WHERE c.member_id = ?4))) "    \
    "AND (CAST(?5 AS TEXT) IS NULL OR (t.pt = 1 AND t.pid IN (SELECT id FROM members WHERE "       \
    "team = ?5)) OR (t.pt = 2 AND t.pid IN (SELECT s.id FROM customers s JOIN cards c ON "         \
    "c.id = s.card_id JOIN members m ON m.id = c.member_id WHERE m.team = ?5))) "                  \
    "GROUP BY t.pt, t.pid HAVING sum(t.c0) + sum(t.c1) > 0 ORDER BY t.pt, t.pid"

/* One party's rows only (?6 its type, ?7 its id): a range of each table's index. */
#define ONE_R "r.party_type = CAST(?6 AS INTEGER) AND r.party_id = CAST(?7 AS BIGINT)"
#define ONE_P "party_type = CAST(?6 AS INTEGER) AND party_id = CAST(?7 AS BIGINT)"
#define ALL_R "1 = 1"

/* One party's sums (?4 and ?5 are bound and unused: PostgreSQL types each numbered parameter). */
#define PAYABLE                                                                                    \
    "WITH t" COLS " AS (" MOVEMENTS(ONE_R, ONE_P) ") SELECT " SUMS " FROM t "                      \
    "WHERE CAST(?4 AS BIGINT) = 0 AND CAST(?5 AS TEXT) IS NULL"
/* clang-format on */

/* Columns first .. first+17 into the money and points sums (points are never paid out). */
static void sums_of(struct sc_stmt *st, int first, struct sc_ledger_sums *money,
                    struct sc_ledger_sums *points)
{
    int64_t v[NSUMS];
    for (int i = 0; i < NSUMS; i++)
        v[i] = sc_sql_col_int(st, first + i);
    *money = (struct sc_ledger_sums){
        {v[0], v[1]}, {v[2], v[3]}, {v[4], v[5]}, {v[6], v[7]}, {v[16], v[17]}};
    *points = (struct sc_ledger_sums){
        {v[8], v[9]}, {v[10], v[11]}, {v[12], v[13]}, {v[14], v[15]}, {0, 0}};
}

/* Party 'type' 'id''s approved, unpaid balance at 'now' (under the writer's transaction). */
static enum sc_err payable_of(struct sc_db *db, int type, int64_t id, int64_t now, int64_t *out)
{
    static struct sc_sql q = SC_SQL(PAYABLE);
    enum sc_err e = SC_OK;
    struct sc_stmt *st = sc_sql_prepare(db, &q, &e);
    if (!st)
        return e;
    sc_sql_int(st, 1, now + 1); /* everything up to now is "before" */
    sc_sql_int(st, 2, now + 2);
    sc_sql_int(st, 3, now);
    sc_sql_int(st, 4, 0);
    sc_sql_opt(st, 5, NULL);
    sc_sql_int(st, 6, type);
    sc_sql_int(st, 7, id);
    bool row = false;
    struct sc_ledger_sums m, pts;
    memset(&m, 0, sizeof(m));
    if ((e = sc_sql_step(st, &row)) == SC_OK && row)
        sums_of(st, 0, &m, &pts);
    sc_sql_reset(st);
    struct sc_statement s;
    sc_statement_make(&m, &s);
    *out = s.payable;
    return e;
}

enum sc_err sc_store_payout_add(struct sc_store *s, struct sc_payout *p)
{
    static struct sc_sql q_known =
        SC_SQL("SELECT party_type, party_id, amount, created_at FROM payouts WHERE payout_id = ?");
    static struct sc_sql q_member = SC_SQL("SELECT id FROM members WHERE id = ?{for_update}");
    static struct sc_sql q_customer = SC_SQL("SELECT id FROM customers WHERE id = ?{for_update}");
    static struct sc_sql q_insert =
        SC_SQL("INSERT INTO payouts (payout_id, party_type, party_id, amount, created_at, actor) "
               "VALUES (?, ?, ?, ?, ?, ?)");
    p->replayed = false;
    p->refused = NULL;
    struct sc_q r;
    if (!sc_q_write(&r, s, true) || !sc_q_prepare(&r, &q_known))
        return sc_q_end(&r);
    sc_sql_text(r.st, 1, p->payout_id);
    if (sc_q_next(&r)) {
        int type = (int)sc_sql_col_int(r.st, 0);
        int64_t id = sc_sql_col_int(r.st, 1), amount = sc_sql_col_int(r.st, 2);
        p->created_at = sc_sql_col_int(r.st, 3);
        sc_sql_reset(r.st);
        if (type != (int)p->party_type || id != p->party_id || amount != p->amount)
            p->refused = "payout_id: already used for another payout (another party or amount).";
        else
            p->replayed = true;
        return sc_q_end(&r);
    }
    sc_sql_reset(r.st);
    if (r.e != SC_OK)
        return sc_q_end(&r);
    /* The party's row, locked: payouts to one party are checked one after the other. */
    if (sc_q_prepare(&r, p->party_type == SC_PARTY_MEMBER ? &q_member : &q_customer)) {
        sc_sql_int(r.st, 1, p->party_id);
        bool found = sc_q_next(&r);
        sc_sql_reset(r.st);
        if (!found && r.e == SC_OK) {
            r.e = SC_ENOTFOUND;
            return sc_q_end(&r);
        }
    }
    if (r.e == SC_OK)
        r.e = payable_of(r.db, (int)p->party_type, p->party_id, p->now, &p->payable);
    if (r.e == SC_OK && p->amount > p->payable) {
        p->refused = "amount: more than the approved, unpaid balance.";
        return sc_q_end(&r); /* nothing written: the transaction is empty */
    }
    if (sc_q_prepare(&r, &q_insert)) {
        sc_sql_text(r.st, 1, p->payout_id);
        sc_sql_int(r.st, 2, (int64_t)p->party_type);
        sc_sql_int(r.st, 3, p->party_id);
        sc_sql_int(r.st, 4, p->amount);
        sc_sql_int(r.st, 5, p->now);
        sc_sql_text(r.st, 6, p->actor ? p->actor : "");
        sc_q_exec(&r, false);
    }
    p->created_at = p->now;
    p->payable -= p->amount;
    return sc_q_end(&r);
}

enum sc_err sc_store_statements(struct sc_store *s, const struct sc_scope *scope,
                                const struct sc_party *only, int64_t from, int64_t to, int64_t now,
                                int (*fn)(const struct sc_statement_row *r, void *ctx), void *ctx)
{
    static struct sc_sql q_all = SC_SQL(STATEMENTS(ALL_R, ALL_R));
    static struct sc_sql q_one = SC_SQL(STATEMENTS(ONE_R, ONE_P));
    struct sc_q r;
    if (!sc_q_read(&r, s, only ? &q_one : &q_all))
        return r.e;
    sc_sql_int(r.st, 1, from);
    sc_sql_int(r.st, 2, to);
    sc_sql_int(r.st, 3, now);
    sc_sql_int(r.st, 4, scope ? scope->member_id : 0);
    sc_sql_opt(r.st, 5, scope ? scope->team : NULL);
    if (only) {
        sc_sql_int(r.st, 6, (int64_t)only->type);
        sc_sql_int(r.st, 7, only->id);
    }
    while (sc_q_next(&r)) {
        struct sc_statement_row w;
        memset(&w, 0, sizeof(w));
        w.party.type = (enum sc_party_type)sc_sql_col_int(r.st, 0);
        w.party.id = sc_sql_col_int(r.st, 1);
        sc_sql_col_copy(r.st, 2, w.party.name, sizeof(w.party.name));
        sums_of(r.st, 3, &w.sums, &w.points_sums);
        sc_statement_make(&w.sums, &w.st);
        sc_statement_make(&w.points_sums, &w.points);
        if (fn(&w, ctx))
            break;
    }
    return sc_q_end(&r);
}
