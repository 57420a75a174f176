"""The webhook outbox's pruner reads through an index, not the whole table (issue 12).

SHARECARD_WEBHOOK_KEEP_DAYS prunes finished deliveries (delivered, failed, cancelled) older
than the keeping period in batches (store/q_upkeep.c, sc_store_outbox_prune).  Its rows are
found through the partial index webhook_outbox_done (created_at, id over finished rows), so a
batch costs the rows it deletes whatever the outbox's size.  Here the migrated store gets an
outbox of 20,000 rows, mostly recent, and the plan of the pruner's statement must name the
index on both backends: SQLite's EXPLAIN QUERY PLAN, and PostgreSQL's EXPLAIN of the prepared
statement both as a custom plan and as the generic plan a long-running server falls back to.
The statement is the one the pruner runs, as its database is given it, read from the binary
(`sharecard debug sql outbox_prune`), never a copy kept here.  Without the index (dropped here
to show the test can fail) the plan is a scan of the table.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_webhooks import PRIVATE_OK  # noqa: E402

ROWS = 20000
T0 = 1_700_000_000
DAY = 86400


def fill(db):
    hook = harness.scalar(db, "SELECT min(id) FROM webhooks")
    # One row in ten pending; the first 1% are 60 days old, the rest a few hours old.
    harness.query(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                      "WHERE i < ?) INSERT INTO webhook_outbox (msg_id, webhook_id, type, data, "
                      "event_ts, created_at, next_at, status) SELECT 'msg_plan' || i, ?, "
                      "'signup.created', '{}', ?, CASE WHEN i <= ? THEN ? ELSE ? END + i, 0, "
                      "CASE WHEN i % 10 = 0 THEN 'pending' ELSE 'delivered' END FROM n",
                  (ROWS, hook, T0, ROWS // 100, T0 - 60 * DAY, T0))
    harness.query(db, "ANALYZE")


def prune_sql(db):
    """The pruner's statement (?1/$1 before, ?2/$2 batch) exactly as store/q_upkeep.c runs it."""
    text = harness.sharecard("debug", "sql", "outbox_prune", db=db).stdout.strip()
    assert text.startswith("DELETE FROM webhook_outbox"), text
    return text


def plans(db, before, batch):
    """The plan texts of the pruner's statement: [sqlite] or [custom, generic] on PostgreSQL."""
    sql = prune_sql(db)
    if not harness.is_pg(db):
        rows = harness.query(db, "EXPLAIN QUERY PLAN " + sql, (before, batch))
        return ["\n".join(r[-1] for r in rows)]
    import psycopg2
    c = psycopg2.connect(db)
    try:
        cur = c.cursor()
        cur.execute("PREPARE prune(bigint, bigint) AS " + sql)
        out = []
        for mode in ("force_custom_plan", "force_generic_plan"):
            cur.execute(f"SET plan_cache_mode = {mode}")
            cur.execute("EXPLAIN EXECUTE prune(%s, %s)", (before, batch))
            out.append("\n".join(r[0] for r in cur.fetchall()))
        return out
    finally:
        c.close()


def prune(db, before, batch):
    """Runs the pruner's statement once: how many rows it deleted."""
    sql = prune_sql(db)
    if not harness.is_pg(db):
        import sqlite3
        c = sqlite3.connect(db)
        try:
            with c:
                return c.execute(sql, (before, batch)).rowcount
        finally:
            c.close()
    import psycopg2
    c = psycopg2.connect(db)
    try:
        with c:
            cur = c.cursor()
            cur.execute("PREPARE prune(bigint, bigint) AS " + sql)
            cur.execute("EXECUTE prune(%s, %s)", (before, batch))
            return cur.rowcount
    finally:
        c.close()


class PrunePlan(unittest.TestCase):
    def setUp(self):
        self.srv = harness.Server()
        self.addCleanup(self.srv.cleanup)
        db = self.srv.db
        # The CLI opens the store, which runs every migration.
        harness.sharecard("webhook", "add", "--url", "http://127.0.0.1:9/hook", db=db,
                          env=PRIVATE_OK)
        fill(db)

    def test_pruner_reads_through_the_finished_rows_index(self):
        before, batch = T0 - 30 * DAY, 500
        for plan in plans(self.srv.db, before, batch):
            self.assertIn("webhook_outbox_done", plan)
            self.assertNotIn("SCAN webhook_outbox\n", plan + "\n")  # SQLite's full scan
            self.assertNotIn("Seq Scan", plan)  # PostgreSQL's
        # And what it deletes is the old finished rows, and only those.
        self.assertEqual(prune(self.srv.db, before, batch), ROWS // 100 - ROWS // 1000)
        self.assertEqual(harness.scalar(self.srv.db, "SELECT count(*) FROM webhook_outbox "
                                                     "WHERE created_at < ?", (before,)),
                         ROWS // 1000)  # the old pending rows stay
        self.assertEqual(harness.scalar(self.srv.db, "SELECT count(*) FROM webhook_outbox"),
                         ROWS - ROWS // 100 + ROWS // 1000)

    def test_without_the_index_the_plan_scans_the_table(self):
        db = self.srv.db
        harness.query(db, "DROP INDEX webhook_outbox_done")
        for plan in plans(db, T0 - 30 * DAY, 500):
            self.assertNotIn("webhook_outbox_done", plan)
            self.assertTrue("SCAN webhook_outbox\n" in plan + "\n" or "Seq Scan" in plan, plan)


if __name__ == "__main__":
    harness.main()
