"""The command line as users script it (DESIGN.md §10): outputs, exit codes
and error sentences, store creation and schema versions, clean shutdown."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import sharecard  # noqa: E402


class Cli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sharecard-cli-")
        self.db = harness.new_db(self.tmp, "s.db")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_version_and_help(self):
        p = sharecard("--version")
        self.assertRegex(p.stdout, r"^sharecard \d+\.\d+\.\d+\n$")
        self.assertIn("usage: sharecard", sharecard("--help").stdout)
        for cmd in (["init"], ["member", "add"], ["member", "list"], ["token", "create"],
                    ["serve"], ["qr"]):
            p = sharecard(*cmd, "--help")
            self.assertIn("usage: sharecard " + " ".join(cmd), p.stdout, cmd)

    def test_unknown_command_is_an_error(self):
        p = sharecard("frobnicate", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown command 'frobnicate'", p.stderr)

    def test_init_creates_store_and_admin(self):
        p = sharecard("init", "--admin-email", "Boss@Example.com", db=self.db,
                      env={"SHARECARD_ADMIN_PASSWORD": "correct horse battery"})
        self.assertEqual(p.stdout, "")
        listed = json.loads(sharecard("member", "list", "--json", db=self.db).stdout)
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]["email"], "boss@example.com")
        self.assertEqual(listed[0]["role"], "admin")
        h = harness.scalar(self.db, "SELECT password_hash FROM members")
        self.assertTrue(h.startswith("$argon2id$"), h)
        # A second init refuses, and changes nothing.
        p = sharecard("init", "--admin-email", "other@example.com", db=self.db, check=False,
                      env={"SHARECARD_ADMIN_PASSWORD": "correct horse battery"})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("already has an admin", p.stderr)
        self.assertEqual(len(json.loads(sharecard("member", "list", "--json",
                                                  db=self.db).stdout)), 1)

    def test_init_without_password_fails_clearly(self):
        p = sharecard("init", "--admin-email", "a@example.com", db=self.db, check=False,
                      env={"SHARECARD_ADMIN_PASSWORD": ""}, input="")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("SHARECARD_ADMIN_PASSWORD", p.stderr)
        p = sharecard("init", "--admin-email", "a@example.com", db=self.db, check=False,
                      env={"SHARECARD_ADMIN_PASSWORD": "short"})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("8 to 256 characters", p.stderr)

    def test_member_add_prints_slug_and_json(self):
        p = sharecard("member", "add", "--name", "Li Na", "--email", "li@example.com", db=self.db)
        slug = p.stdout.strip()
        self.assertRegex(slug, r"^[a-z0-9]{8}$")
        j = json.loads(sharecard("member", "add", "--name", "王芳", "--email", "w@example.com",
                                 "--json", "--slug", "wang-fang", "--role", "manager",
                                 "--team", "North", db=self.db,
                                 env={"SHARECARD_BASE_URL": "https://cards.example.com"}).stdout)
        self.assertEqual(set(j), {"id", "slug", "qr_url"})
        self.assertEqual(j["slug"], "wang-fang")
        self.assertRegex(j["qr_url"], r"^https://cards\.example\.com/l/[a-z0-9]{8}$")
        rows = {r["email"]: r for r in json.loads(sharecard("member", "list", "--json",
                                                            db=self.db).stdout)}
        self.assertEqual(rows["w@example.com"]["role"], "manager")
        self.assertEqual(rows["w@example.com"]["team"], "North")
        self.assertEqual(rows["w@example.com"]["name"], "王芳")
        self.assertEqual(rows["li@example.com"]["slug"], slug)
        text = sharecard("member", "list", db=self.db).stdout
        self.assertIn("wang-fang", text)
        self.assertIn("王芳", text)

    def test_member_add_errors_change_nothing(self):
        sharecard("member", "add", "--name", "A", "--email", "a@example.com", "--slug", "alpha",
                  db=self.db)
        cases = [
            (["--name", "B", "--email", "A@example.com"], "already exists"),
            (["--name", "B", "--email", "b@example.com", "--slug", "alpha"], "already exists"),
            (["--name", "B", "--email", "b@example.com", "--slug", "Bad Slug!"], "slug"),
            (["--name", "B", "--email", "b@example.com", "--slug", "admin"], "slug"),
            (["--name", "B", "--email", "not-an-email"], "mail"),
            (["--name", "B", "--email", "b@example.com", "--website", "javascript:alert(1)"],
             "website"),
            (["--name", "B", "--email", "b@example.com", "--role", "god"], "--role"),
            (["--name", "x" * 500, "--email", "b@example.com"], "too long"),
            (["--email", "b@example.com"], "required"),
        ]
        for args, needle in cases:
            p = sharecard("member", "add", *args, db=self.db, check=False)
            self.assertNotEqual(p.returncode, 0, args)
            self.assertIn(needle, p.stderr, args)
            self.assertTrue(p.stderr.startswith("sharecard: "), p.stderr)
        rows = json.loads(sharecard("member", "list", "--json", db=self.db).stdout)
        self.assertEqual(len(rows), 1)

    def test_token_create(self):
        sharecard("member", "add", "--name", "A", "--email", "a@example.com", db=self.db)
        t1 = sharecard("token", "create", "--email", "A@Example.com", db=self.db).stdout.strip()
        t2 = sharecard("token", "create", "--email", "a@example.com", db=self.db).stdout.strip()
        self.assertRegex(t1, r"^sc_[A-Za-z0-9_-]{43}$")
        self.assertNotEqual(t1, t2)
        stored = [r[0] for r in harness.query(self.db, "SELECT token_hash FROM tokens")]
        self.assertEqual(len(stored), 2)
        self.assertNotIn(t1, stored)  # only hashes are kept
        p = sharecard("token", "create", "--email", "nobody@example.com", db=self.db, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no member with the email", p.stderr)

    def test_qr_errors(self):
        slug = sharecard("member", "add", "--name", "A", "--email", "a@example.com",
                         db=self.db).stdout.strip()
        out = os.path.join(self.tmp, "q.svg")
        sharecard("qr", slug, "-o", out, db=self.db)
        with open(out, "rb") as f:
            self.assertIn(b"<svg", f.read())
        p = sharecard("qr", "nope-nope", "-o", out, db=self.db, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no card with the slug", p.stderr)
        p = sharecard("qr", slug, "-o", os.path.join(self.tmp, "q.gif"), db=self.db, check=False)
        self.assertIn(".png or .svg", p.stderr)
        p = sharecard("qr", slug, "-o", os.path.join(self.tmp, "q.png"), "--size", "9",
                      db=self.db, check=False)
        self.assertIn("--size", p.stderr)

    def test_store_is_upgraded_in_place_and_newer_is_refused(self):
        sharecard("member", "add", "--name", "A", "--email", "a@example.com", db=self.db)
        if harness.is_pg(self.db):
            get, put = "SELECT version FROM schema_version", "UPDATE schema_version SET version = {}"
        else:
            get, put = "PRAGMA user_version", "PRAGMA user_version = {}"
            self.assertEqual(harness.scalar(self.db, "PRAGMA journal_mode"), "wal")
        version = harness.scalar(self.db, get)
        self.assertGreaterEqual(version, 1)
        harness.query(self.db, put.format(999))
        p = sharecard("member", "list", db=self.db, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("newer sharecard", p.stderr)
        self.assertIn("schema 999", p.stderr)
        self.assertEqual(harness.scalar(self.db, get), 999)  # refused untouched
        harness.query(self.db, put.format(version))
        self.assertIn("a@example.com", sharecard("member", "list", db=self.db).stdout)

    def test_unopenable_store_is_a_clear_error(self):
        p = sharecard("member", "list", db=os.path.join(self.tmp, "no", "such", "dir", "x.db"),
                      check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cannot open the store", p.stderr)
        if harness.is_pg():
            # Nothing listens on port 1: a clear error, not a hang or a crash.
            p = sharecard("member", "list", db="postgresql://postgres@127.0.0.1:1/x",
                          check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("cannot open the store", p.stderr)
            self.assertIn("PostgreSQL", p.stderr)

    def test_serve_stops_cleanly_on_sigterm(self):
        srv = harness.Server(db=self.db).start()
        try:
            self.assertEqual(srv.request("GET", "/healthz")[0], 200)
            self.assertTrue(srv.stop())
        finally:
            srv.cleanup()
        if not harness.is_pg(self.db):
            self.assertEqual(harness.scalar(self.db, "PRAGMA integrity_check"), "ok")

    def test_demo_fills_a_fresh_store_through_the_real_paths(self):
        p = sharecard("demo", db=self.db)
        self.assertIn("sharecard-demo", p.stdout)
        q = lambda sql: harness.scalar(self.db, sql)  # noqa: E731
        chains = q("SELECT count(*) FROM customers WHERE level2_type != 0")
        bots = q("SELECT count(*) FROM events WHERE bot != 0")
        days = q("SELECT count(DISTINCT day) FROM rollups")
        rolled = q("SELECT sum(humans) FROM rollups WHERE type = 2")
        raw = q("SELECT count(*) FROM events WHERE type = 2 AND bot = 0")
        self.assertGreater(chains, 0)   # two-level chains through customers' links
        self.assertGreater(bots, 0)     # link previews, never counted
        self.assertGreaterEqual(days, 170)  # months of history before the 30-day window
        self.assertEqual(rolled, raw)   # rollups agree with the raw events
        # The demo tells a true story: an open is of a shared (non-QR) link,
        # every channel shared through brings visits, people have names and
        # their own phones, purchases spread over the window.
        self.assertEqual(q("SELECT count(*) FROM events e JOIN links l ON l.id = e.link_id "
                           "WHERE e.type = 1 AND l.channel = 0"), 0)
        self.assertGreater(q("SELECT count(*) FROM events e JOIN links l ON l.id = e.link_id "
                             "WHERE e.type = 1 AND e.bot = 0 AND l.channel = 1"), 100)
        self.assertEqual(q("SELECT count(*) FROM (SELECT l.channel FROM links l LEFT JOIN "
                           "events e ON e.link_id = l.id AND e.type = 1 AND e.bot = 0 "
                           "WHERE l.channel != 0 GROUP BY l.channel HAVING count(e.id) = 0) z"), 0)
        self.assertEqual(q("SELECT count(*) FROM customers WHERE name LIKE 'Customer %'"), 0)
        self.assertGreater(q("SELECT count(DISTINCT name) FROM customers"), 150)
        self.assertGreater(q("SELECT count(DISTINCT phone) FROM cards"), 7)
        self.assertGreater(q("SELECT count(*) FROM cards WHERE wechat IS NOT NULL AND bio IS "
                             "NOT NULL AND website IS NOT NULL"), 2)
        self.assertGreaterEqual(q("SELECT count(DISTINCT created_at / 86400) FROM conversions"), 90)
        # History before the default window: orders and sign-ups in at least four months
        # before it (previous periods, cohorts and customer value have something to show).
        cutoff = str(int(time.time()) - 30 * 86400)
        for table in ("conversions", "customers"):
            self.assertGreaterEqual(q("SELECT count(DISTINCT (created_at / 86400) / 30) FROM "
                                      f"{table} WHERE created_at < {cutoff}"), 4, table)
        self.assertGreater(q("SELECT count(*) FROM rollups WHERE type = 0 AND day < "
                             f"{cutoff} / 86400 - 120"), 0)
        # Nothing happens in the future, and a day's sign-ups come in the order of their
        # times, so "Latest sign-ups" (newest first) reads in time order.
        self.assertEqual(q(f"SELECT count(*) FROM events WHERE ts > {int(time.time()) + 5}"), 0)
        self.assertEqual(q(f"SELECT count(*) FROM customers WHERE created_at > "
                           f"{int(time.time()) + 5}"), 0)
        self.assertEqual(q("SELECT count(*) FROM customers a JOIN customers b ON b.id = a.id + 1 "
                           "WHERE b.created_at < a.created_at"), 0)
        # Commissions carry the time of their purchase, not the demo's, and the rewards
        # ledger (newest first, by id) reads in time order.
        self.assertGreater(q("SELECT count(DISTINCT created_at / 86400) FROM rewards WHERE "
                             "kind = 'commission'"), 90)
        self.assertEqual(q("SELECT count(*) FROM rewards a JOIN rewards b ON b.id = a.id + 1 "
                           "WHERE b.created_at < a.created_at"), 0)
        # Surveys answered (NPS, detractors with their comment) and birthdays given, so the
        # dashboard's NPS section and the customers' birthdays have something to show.
        answered = f"FROM nps_surveys WHERE score IS NOT NULL AND answered_at >= available_at " \
                   f"AND answered_at <= {int(time.time()) + 5}"
        self.assertGreater(q(f"SELECT count(*) {answered}"), 60)
        self.assertGreater(q(f"SELECT count(*) {answered} AND score <= 6 AND comment != ''"), 5)
        self.assertGreater(q(f"SELECT count(*) {answered} AND answered_at > "
                             f"{int(time.time()) - 30 * 86400}"), 5)
        self.assertGreater(q("SELECT count(*) FROM customers WHERE birth_month > 0"), 100)
        # No link is younger than its first visit (the members' QR links and cards were
        # written at the demo's wall-clock time), nor a member than their card's first scan.
        self.assertEqual(q("SELECT count(*) FROM links l WHERE created_at > (SELECT min(ts) "
                           "FROM events e WHERE e.link_id = l.id)"), 0)
        self.assertEqual(q("SELECT count(*) FROM members m WHERE created_at > (SELECT min(e.ts) "
                           "FROM events e JOIN cards c ON c.id = e.card_id WHERE c.member_id = "
                           "m.id)"), 0)
        # The share tree's customer links carry the time the customer signed up.
        self.assertEqual(q("SELECT count(*) FROM customers s JOIN links l ON l.id = "
                           "s.own_link_id WHERE l.created_at != s.created_at"), 0)
        self.assertGreater(q("SELECT count(*) FROM customers s JOIN links l ON l.id = "
                             "s.own_link_id WHERE l.created_at < " + cutoff), 100)
        srv = harness.Server(db=self.db).start()
        try:
            st, _, body = srv.request("GET", "/login")
            self.assertEqual(st, 200)
        finally:
            srv.stop()
            srv.cleanup()
        p = sharecard("demo", db=self.db, check=False)  # never on top of real data
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("fresh store", p.stderr)

    def test_serve_bad_listen_is_an_error(self):
        p = sharecard("serve", "--listen", "nonsense", db=self.db, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("HOST:PORT", p.stderr)


if __name__ == "__main__":
    harness.main()
