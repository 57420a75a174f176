"""Several instances on one PostgreSQL database (DESIGN.md §7, scale-out).

Two `sharecard serve` processes share a database.  Scans and sign-ups hit
both at once from many threads; afterwards every answered scan is stored
exactly once and both instances report the same figures, each person is a
customer once with one reward per level, and a session made on one
instance is valid on the other.  Then PostgreSQL goes away: /healthz and
scans answer 503 with a reason (no 500, no crash), and once it is back the
same processes serve again.  PostgreSQL only: skipped on SQLite.
"""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
      "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
PASSWORD = "correct horse battery staple"
PG_BIN = "/usr/lib/postgresql/15/bin"
ENV = {"SHARECARD_TRUST_PROXY": "1", "SHARECARD_VELOCITY": "100000"}


class Phone:
    """One person's browser: its own address and cookies, speaking to any instance."""
    _n = 0

    def __init__(self):
        Phone._n += 1
        self.ip = f"198.{51 + Phone._n // 250 % 4}.{Phone._n % 250}.7"
        self.cookies = {}

    def _headers(self, extra=None):
        h = {"User-Agent": UA, "X-Forwarded-For": self.ip}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        h.update(extra or {})
        return h

    def _keep(self, hd):
        for part in hd.get("set-cookie", "").split(", "):
            kv = part.split(";", 1)[0]
            if "=" in kv:
                k, v = kv.split("=", 1)
                if v:
                    self.cookies[k] = v

    def get(self, srv, path):
        st, hd, body = srv.request("GET", path, headers=self._headers())
        self._keep(hd)
        return st, hd, body.decode("utf-8", "replace")

    def post(self, srv, path, fields, extra=None):
        st, hd, body = srv.request("POST", path, body=urllib.parse.urlencode(fields),
                                   headers=self._headers(dict(
                                       {"Content-Type": "application/x-www-form-urlencoded"},
                                       **(extra or {}))))
        self._keep(hd)
        return st, hd, body.decode("utf-8", "replace")

    def open(self, srv, code):
        st, hd, _ = self.get(srv, f"/l/{code}")
        assert st == 302, st
        st, _, page = self.get(srv, hd["location"])
        assert st == 200, st
        return page

    def sign_up(self, srv, page, slug, **fields):
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        form = {"csrf": csrf, "consent": "yes"}
        form.update(fields)
        return self.post(srv, f"/c/{slug}/signup", form, {"Accept": "application/json"})


def run_threads(fns):
    errors = []

    def wrap(fn):
        try:
            fn()
        except Exception as e:  # surfaced below, with the thread's own message
            errors.append(repr(e))
    threads = [threading.Thread(target=wrap, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


@unittest.skipUnless(harness.is_pg(), "PostgreSQL only (SHARECARD_TEST_BACKEND=postgres)")
class TwoInstances(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sharecard-multi-")
        cls.db = harness.new_db(cls.tmp)
        harness.sharecard("init", "--admin-email", "boss@example.com", db=cls.db,
                          env={"SHARECARD_ADMIN_PASSWORD": PASSWORD})
        cls.token = harness.sharecard("token", "create", "--email", "boss@example.com",
                                      db=cls.db).stdout.strip()
        cls.card = harness.add_member(cls.db, "Multi Member", "multi@example.com",
                                      "--slug", "multi")
        cls.code = cls.card["qr_url"].rsplit("/", 1)[1]
        # Both start on the same database at the same moment: migrations take turns.
        cls.a = harness.Server(db=cls.db, env=ENV)
        cls.b = harness.Server(db=cls.db, env=ENV)
        errors = run_threads([cls.a.start, cls.b.start])
        if errors:
            raise AssertionError(errors)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.a.stop()
            cls.b.stop()
        finally:
            cls.a.cleanup()
            cls.b.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def stats(self, srv):
        st, _, body = srv.request("GET", "/api/v1/cards/multi/stats",
                                  headers={"Authorization": f"Bearer {self.token}"})
        self.assertEqual(st, 200, body)
        return json.loads(body)

    def test_1_concurrent_scans_are_counted_exactly(self):
        before = self.stats(self.a)
        answered = []
        lock = threading.Lock()

        def load(i):
            def go():
                ok = 0
                for k in range(40):
                    srv = (self.a, self.b)[(i + k) % 2]
                    cookie = secrets.token_urlsafe(24)[:32].ljust(32, "A")
                    st, _, _ = srv.request("GET", f"/l/{self.code}",
                                           headers={"Cookie": f"sc_vid={cookie}",
                                                    "User-Agent": UA})
                    if st == 302:
                        ok += 1
                with lock:
                    answered.append(ok)
            return go
        self.assertEqual(run_threads([load(i) for i in range(8)]), [])
        total = sum(answered)
        self.assertEqual(total, 8 * 40)
        time.sleep(0.2)
        sa, sb = self.stats(self.a), self.stats(self.b)
        self.assertEqual(sa, sb)  # one database: both instances tell the same story
        self.assertEqual(sa["scans"] - before["scans"], total)
        self.assertEqual(sa["uniques"] - before["uniques"], total)
        raw = harness.scalar(self.db, "SELECT count(*) FROM events e JOIN cards c "
                             "ON c.id = e.card_id WHERE c.slug = 'multi' AND e.type = 0 "
                             "AND e.bot = 0")
        rolled = harness.scalar(self.db, "SELECT sum(humans) FROM rollups r JOIN cards c "
                                "ON c.id = r.card_id WHERE c.slug = 'multi' AND r.type = 0")
        self.assertEqual(raw, rolled)
        self.assertEqual(raw, sa["scans"])

    def test_2_each_sign_up_is_credited_once(self):
        # B signs up through the member's link; then C1..Cn sign up through B's link,
        # each of them posting the same sign-up to both instances at the same moment.
        pb = Phone()
        st, _, body = pb.sign_up(self.a, pb.open(self.a, self.code), "multi", name="Bea",
                                 email="bea@example.com")
        self.assertEqual(st, 201, body)
        bea = json.loads(body)
        bea_code = bea["referral_url"].rsplit("/", 1)[1]
        n = 12
        outcomes = {}
        lock = threading.Lock()

        def person(i):
            def go():
                p = Phone()
                page = p.open((self.a, self.b)[i % 2], bea_code)
                got = []
                barrier = threading.Barrier(2)

                def post(srv):
                    barrier.wait()
                    st, _, _ = p.sign_up(srv, page, "multi", name=f"C{i}",
                                         email=f"c{i}@example.com")
                    got.append(st)
                errs = run_threads([lambda: post(self.a), lambda: post(self.b)])
                with lock:
                    outcomes[i] = (sorted(got), errs)
            return go
        self.assertEqual(run_threads([person(i) for i in range(n)]), [])
        for i in range(n):
            self.assertEqual(outcomes[i], ([201, 409], []), f"person {i}")
        custs = harness.query(self.db, "SELECT email, count(*) FROM customers "
                              "WHERE email LIKE 'c%@example.com' GROUP BY email")
        self.assertEqual(len(custs), n)
        self.assertTrue(all(k == 1 for _, k in custs))
        rows = harness.query(self.db, "SELECT s.email, w.level, w.party_type, w.party_id, "
                             "count(*) FROM rewards w JOIN customers s ON s.id = w.customer_id "
                             "WHERE s.email LIKE 'c%@example.com' AND w.kind = 'signup' "
                             "GROUP BY 1, 2, 3, 4")
        self.assertEqual(len(rows), 2 * n)  # level 1 and level 2 for each, once
        for email, level, ptype, pid, k in rows:
            self.assertEqual(k, 1, email)
            if level == 1:
                self.assertEqual((ptype, pid), (2, bea["customer_id"]))
            else:
                self.assertEqual((ptype, pid), (1, self.card["id"]))
        sa, sb = self.stats(self.a), self.stats(self.b)
        self.assertEqual(sa, sb)
        self.assertEqual(sa["signups"], n + 1)

    def test_3_a_session_from_one_instance_works_on_the_other(self):
        p = Phone()
        st, _, page = p.get(self.a, "/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        st, hd, _ = p.post(self.a, "/login", {"csrf": csrf, "email": "boss@example.com",
                                               "password": PASSWORD})
        self.assertEqual((st, hd.get("location")), (303, "/dashboard"))
        st, hd, _ = p.get(self.b, "/dashboard")
        self.assertEqual(st, 200, hd)
        # And a stranger without the cookie is sent to log in, on either.
        st, hd, _ = Phone().get(self.b, "/dashboard")
        self.assertEqual((st, hd.get("location")), (303, "/login"))

    def test_4_sign_up_limits_hold_across_instances(self):
        # Sign-ups earn rewards: the 30 an hour one address may make are counted in the
        # store, so a second instance behind the load balancer does not double them.
        answers = []
        for i in range(40):
            p = Phone()
            p.ip = "203.0.113.9"  # forty people behind one venue's address
            srv = (self.a, self.b)[i % 2]
            st, _, body = p.sign_up(srv, p.open(srv, self.code), "multi", name=f"L{i}",
                                    email=f"limit{i}@example.com")
            answers.append(st)
        self.assertEqual(answers, [201] * 30 + [429] * 10, answers)
        self.assertEqual(harness.scalar(self.db, "SELECT count(*) FROM customers "
                                        "WHERE email LIKE 'limit%@example.com'"), 30)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PrivatePostgres:
    """A throw-away PostgreSQL server of our own, to stop and start at will.

    PostgreSQL refuses to run as root: as root it runs as the postgres user."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sharecard-pg-")
        self.as_user = []
        if os.geteuid() == 0:
            os.chmod(self.dir, 0o755)
            shutil.chown(self.dir, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self._pg("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                 "--locale=C.UTF-8")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, tool, *args):
        subprocess.run(self.as_user + [os.path.join(PG_BIN, tool), *args],
                       check=True, capture_output=True, cwd="/")

    def start(self):
        self._pg("pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w", "-o",
                 f"-k {self.dir} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off",
                 "start")

    def stop(self):
        self._pg("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def cleanup(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(harness.is_pg(), "PostgreSQL only (SHARECARD_TEST_BACKEND=postgres)")
@unittest.skipUnless(os.path.exists(os.path.join(PG_BIN, "initdb")),
                     "needs PostgreSQL 15's server binaries for a private server")
class ServerGoesAway(unittest.TestCase):
    def test_503_while_down_then_recovers(self):
        pg = PrivatePostgres()
        srv = None
        try:
            pg.start()
            card = harness.add_member(pg.url, "Down Town", "down@example.com", "--slug", "down")
            code = card["qr_url"].rsplit("/", 1)[1]
            srv = harness.Server(db=pg.url).start()
            # A person's scan (a request without a user-agent is a bot's, answered before
            # its row is written, which the server going away next may lose).
            self.assertEqual(srv.request("GET", f"/l/{code}", headers={"User-Agent": UA})[0], 302)
            pg.stop()
            for _ in range(3):  # every answer while down: 503 with a reason, never a 500
                st, _, body = srv.request("GET", "/healthz")
                self.assertEqual(st, 503)
                self.assertIn(b"unavailable", body)
                st, _, body = srv.request("GET", f"/l/{code}",
                                          headers={"User-Agent": UA})
                self.assertEqual(st, 503, body)
                self.assertTrue(body.strip(), "a 503 says why")
            self.assertIsNone(srv.proc.poll(), "the server must survive its database going away")
            pg.start()
            deadline = time.monotonic() + 15
            while True:  # each connection reconnects on its next use, within its backoff
                ok = (srv.request("GET", "/healthz")[0] == 200 and
                      srv.request("GET", f"/l/{code}", headers={"User-Agent": UA})[0] == 302)
                if ok:
                    break
                self.assertLess(time.monotonic(), deadline, "never recovered")
                time.sleep(0.2)
            # Recovered for good: a run of scans all succeed and are all counted.
            for _ in range(20):
                self.assertEqual(srv.request("GET", f"/l/{code}",
                                             headers={"User-Agent": UA})[0], 302)
            stored = harness.scalar(pg.url, "SELECT count(*) FROM events WHERE type = 0")
            self.assertGreaterEqual(stored, 22)
            self.assertTrue(srv.stop())
        finally:
            if srv:
                srv.cleanup()
            pg.cleanup()


if __name__ == "__main__":
    harness.main()
