"""Webhooks (issue 12) against a real local receiver, on SQLite and PostgreSQL.

A receiver (Python's http.server in a thread) records every POST and
answers with the statuses a test scripts.  Signatures are checked with
Python's own hmac, independently of the C code: webhook-signature is
v1,base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")) with
the key the base64 after whsec_.  A 503 then a 204 must be exactly two
attempts with one webhook-id; a sign-up acknowledged just before a kill -9,
with the receiver down, must still arrive after the restart; bad URLs are
refused with their reason.  SHARECARD_WEBHOOK_RETRY_TEST_S=1 (tests only)
makes each retry wait 1 s instead of the schedule's 20 s, 5 min, ... (the real schedule
is tested with a moved clock in test_webhooks_clock.py; these stay hook-driven so that
ThreadSanitizer, which cannot check a process under libfaketime, checks the retry path).
"""

import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_signups import Browser  # noqa: E402

ADMIN_PW = "admin-password-1"
ENV = {"SHARECARD_TRUST_PROXY": "1", "SHARECARD_HOLD_DAYS": "14",
       "SHARECARD_WEBHOOK_ALLOW_PRIVATE": "1",
       "SHARECARD_WEBHOOK_RETRY_TEST_S": "1"}
PRIVATE_OK = {"SHARECARD_WEBHOOK_ALLOW_PRIVATE": "1"}


class Receiver:
    """Records each POST (headers, body) and answers with the next scripted status (then 204)."""

    def __init__(self, port=0):
        self.hits = []
        self.script = []
        self.lock = threading.Lock()
        self.cv = threading.Condition(self.lock)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with outer.cv:
                    status = outer.script.pop(0) if outer.script else 204
                    outer.hits.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    outer.cv.notify_all()
                self.send_response(status)
                reply = b"" if status == 204 else b"busy, try later"
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"

    def wait_for(self, pred, timeout=60):
        """Waits until pred(hits) is true; returns the hits (a copy)."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while not pred(self.hits):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the receiver never saw what was expected: "
                                         f"{[(h.get('webhook-id'), b[:80]) for h, b in self.hits]}")
                self.cv.wait(left)
            return list(self.hits)

    def of_type(self, t):
        with self.cv:
            return [(h, b) for h, b in self.hits if json.loads(b)["type"] == t]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def verify(secret, headers, body):
    """Standard Webhooks verification written from the specification, with Python's hmac."""
    assert secret.startswith("whsec_")
    key = base64.b64decode(secret[len("whsec_"):])
    msg_id, ts = headers["webhook-id"], headers["webhook-timestamp"]
    signed = f"{msg_id}.{ts}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = [s.split(",", 1)[1] for s in headers["webhook-signature"].split(" ")
             if s.startswith("v1,")]
    return any(hmac.compare_digest(expected, g) for g in given)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def types_of(hits):
    return [json.loads(b)["type"] for _, b in hits]


class Webhooks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rx = Receiver()
        cls.srv = harness.Server(env=ENV)
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
        cls.token = harness.sharecard("token", "create", "--email", "root@example.com",
                                      db=db).stdout.strip()
        harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice")
        out = harness.sharecard("webhook", "add", "--url", cls.rx.url, db=db, env=PRIVATE_OK)
        cls.secret = out.stdout.strip()
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()
            cls.rx.close()

    def api(self, method, path, body=None):
        h = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body)
        return self.srv.request(method, path, body=body, headers=h)

    def sign_up(self, email):
        b = Browser(self.srv)
        st, _, body = b.get("/c/alice")
        self.assertEqual(st, 200)
        st, _, body = b.sign_up(body.decode(), "alice", name="Wendy Webhook", email=email)
        self.assertEqual(st, 201, body)
        return json.loads(body)

    def test_1_secret_once_one_line(self):
        self.assertRegex(self.secret, r"^whsec_[A-Za-z0-9+/]+={0,2}$")
        self.assertGreaterEqual(len(base64.b64decode(self.secret[6:])), 24)
        out = harness.sharecard("webhook", "list", db=self.srv.db).stdout
        self.assertIn(self.rx.url, out)
        self.assertNotIn(self.secret, out, "list must not print secrets")

    def test_2_signup_signed_and_as_the_api_shows_it(self):
        email = "wendy@example.com"
        answer = self.sign_up(email)
        hits = self.rx.wait_for(lambda hs: any(
            json.loads(b)["type"] == "signup.created" and
            json.loads(b)["data"]["email"] == email for _, b in hs))
        h, body = [(h, b) for h, b in hits if json.loads(b)["type"] == "signup.created"
                   and json.loads(b)["data"]["email"] == email][0]
        self.assertTrue(verify(self.secret, h, body), "signature does not verify")
        self.assertFalse(verify("whsec_" + base64.b64encode(b"x" * 32).decode(), h, body),
                         "a wrong key must not verify")
        self.assertRegex(h["webhook-id"], r"^msg_[a-z2-7]{26}$")
        self.assertRegex(h["webhook-timestamp"], r"^\d+$")
        self.assertEqual(h["content-type"], "application/json")
        doc = json.loads(body)
        self.assertEqual(set(doc), {"type", "timestamp", "data"})
        st, _, listed = self.api("GET", "/api/v1/signups")
        self.assertEqual(st, 200)
        row = [s for s in json.loads(listed) if s["email"] == email][0]
        self.assertEqual(doc["data"], row)
        self.assertEqual(doc["data"]["id"], answer["customer_id"])
        self.assertEqual(doc["data"]["level1"]["type"], "member")
        self.assertEqual(doc["data"]["level1"]["name"], "Alice Member")

    def test_3_503_then_204_is_two_attempts_with_one_id(self):
        email = "retry@example.com"
        with self.rx.cv:
            self.rx.script[:] = [503]
        self.sign_up(email)

        def mine(hs):
            return [(h, b) for h, b in hs if json.loads(b)["data"].get("email") == email]
        self.rx.wait_for(lambda hs: len(mine(hs)) >= 2)
        # The outbox says it is delivered, after two attempts: no third one can follow.
        db = self.srv.db
        deadline = time.monotonic() + 30
        while True:
            rows = harness.query(db, "SELECT status, attempts, msg_id, last_status FROM "
                                     "webhook_outbox WHERE type = 'signup.created' AND data "
                                     "LIKE ?", (f'%"{email}"%',))
            if rows and rows[0][0] == "delivered" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][0], "delivered")
        self.assertEqual(rows[0][1], 2)
        self.assertEqual(rows[0][3], 204)
        hits = mine(self.rx.hits)
        self.assertEqual(len(hits), 2)
        ids = {h["webhook-id"] for h, _ in hits}
        self.assertEqual(ids, {rows[0][2]}, "every attempt carries the same webhook-id")
        self.assertEqual(hits[0][1], hits[1][1], "the body is the same on every attempt")
        for h, b in hits:
            self.assertTrue(verify(self.secret, h, b))
        st, _, m = self.srv.request("GET", "/metrics")
        self.assertEqual(st, 200)
        failed = re.search(rb'sharecard_webhook_attempts_total\{outcome="failed"\} (\d+)', m)
        self.assertIsNotNone(failed)
        self.assertGreaterEqual(int(failed.group(1)), 1)

    def test_4_conversion_and_reward_approved(self):
        email = "buyer@example.com"
        self.sign_up(email)
        st, _, body = self.api("POST", "/api/v1/conversions",
                               {"email": email, "amount": 12.5, "order_id": "WH-1"})
        self.assertEqual(st, 201, body)
        hits = self.rx.wait_for(lambda hs: "conversion.created" in types_of(hs))
        conv = [json.loads(b)["data"] for b in (b for _, b in hits)
                if json.loads(b)["type"] == "conversion.created"][0]
        self.assertEqual(conv["order_id"], "WH-1")
        self.assertEqual(conv["amount_cents"], 1250)
        self.assertEqual(conv["level1"]["name"], "Alice Member")
        st, _, body = self.api("GET", "/api/v1/rewards")
        pending = [r for r in json.loads(body) if r["status"] in ("pending", "hold")]
        self.assertTrue(pending, body)
        rid = pending[0]["id"]
        harness.sharecard("reward", "approve", str(rid), db=self.srv.db)
        hits = self.rx.wait_for(lambda hs: "reward.approved" in types_of(hs))
        rew = [json.loads(b)["data"] for _, b in hits
               if json.loads(b)["type"] == "reward.approved"][0]
        self.assertEqual(rew["id"], rid)
        self.assertEqual(rew["status"], "approved")

    def test_5_bad_urls_refused_with_a_reason(self):
        db = self.srv.db
        cases = [
            ("http://127.0.0.1:9/x", {}, "loopback"),
            ("http://10.1.2.3/x", {}, "private"),
            ("http://192.168.0.10/x", {}, "private"),
            ("http://169.254.169.254/latest/meta-data", PRIVATE_OK, "link-local"),
            ("ftp://127.0.0.1/x", PRIVATE_OK, "http:// or https://"),
            ("file:///etc/passwd", PRIVATE_OK, "http"),
            ("http://user:pw@127.0.0.1/x", PRIVATE_OK, "user name or password"),
            ("http://127.0.0.1/" + "a" * 2100, PRIVATE_OK, "at most 2048"),
        ]
        before = harness.sharecard("webhook", "list", db=db).stdout
        for url, env, reason in cases:
            p = harness.sharecard("webhook", "add", "--url", url, db=db, env=env, check=False)
            self.assertNotEqual(p.returncode, 0, url)
            self.assertIn(reason, p.stderr, url)
            self.assertEqual(p.stdout, "", "no secret for a refused URL")
        p = harness.sharecard("webhook", "add", "--url", self.rx.url, "--events", "signup.made",
                              db=db, env=PRIVATE_OK, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("unknown event type", p.stderr)
        self.assertEqual(harness.sharecard("webhook", "list", db=db).stdout, before)

    def test_6_admin_page_add_refuse_remove_and_send_again(self):
        s = Session(self.srv, ip="198.51.100.90")
        st, _, _ = s.login("root@example.com", ADMIN_PW)
        self.assertEqual(st, 303)
        st, _, page = s.get("/admin/webhooks")
        self.assertEqual(st, 200)
        self.assertIn(self.rx.url, page)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        st, _, page = s.post("/admin/webhooks/add", {"csrf": csrf, "url":
                                                     "http://169.254.169.254/x"})
        self.assertEqual(st, 422)
        self.assertIn("link-local", page)
        rx2 = Receiver()
        try:
            st, _, page = s.post("/admin/webhooks/add", {"csrf": csrf, "url": rx2.url,
                                                         "events": "signup.created"})
            self.assertEqual(st, 200, page)
            secret2 = re.search(r'<code id="secret">(whsec_[^<]+)</code>', page).group(1)
            with rx2.cv:
                rx2.script[:] = [200]  # a 200 with a body: "busy, try later"
            self.sign_up("admin-added@example.com")
            hits = rx2.wait_for(lambda hs: len(hs) >= 1)
            self.assertTrue(verify(secret2, *hits[0]))
            # The log shows it; "send again" delivers it once more with the same webhook-id.
            wid = hits[0][0]["webhook-id"]
            deadline = time.monotonic() + 30
            while True:
                st, _, page = s.get("/admin/webhooks")
                m = re.search(r'<tr data-delivery="(\d+)" data-status="delivered">'
                              r'(?:(?!</tr>).)*' + re.escape(wid), page, re.S)
                if m or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.assertIsNotNone(m, "the delivery log shows the delivery")
            # Its row: when, the event, the endpoint, attempts, state, HTTP status, latency and
            # the start of the answer.
            row = page[m.start():page.index("</tr>", m.start())]
            cells = [re.sub(r"<[^>]+>", " ", c).split() for c in
                     re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            self.assertRegex(" ".join(cells[0]), r"^\d{4}-\d\d-\d\d \d\d:\d\d$")
            self.assertEqual(cells[1], ["signup.created", wid])
            self.assertEqual(cells[2:6], [[rx2.url], ["1"], ["delivered"], ["200"]])
            self.assertRegex(" ".join(cells[6]), r"^\d+ ms$")
            self.assertEqual(" ".join(cells[7]), "busy, try later")
            st, _, page = s.post(f"/admin/webhooks/deliveries/{m.group(1)}/resend",
                                 {"csrf": csrf})
            self.assertEqual(st, 200)
            hits = rx2.wait_for(lambda hs: len(hs) >= 2)
            self.assertEqual(hits[1][0]["webhook-id"], wid)
            wh = harness.scalar(self.srv.db, "SELECT id FROM webhooks WHERE url = ?", (rx2.url,))
            st, _, page = s.post(f"/admin/webhooks/{wh}/remove", {"csrf": csrf})
            self.assertEqual(st, 200)
            self.assertNotIn(rx2.url, harness.sharecard("webhook", "list",
                                                        db=self.srv.db).stdout)
        finally:
            rx2.close()

    def test_7_admins_only(self):
        """The delivery log shows endpoints (a robot's URL carries its key): admins only."""
        db = self.srv.db
        harness.add_member(db, "Max Manager", "max@example.com", "--slug", "maxm", "--role",
                           "manager", "--team", "north")
        for who in ("alice@example.com", "max@example.com"):
            harness.sharecard("member", "password", "--email", who, db=db,
                              env={"SHARECARD_PASSWORD": "member-password-1"})
        before = harness.sharecard("webhook", "list", db=db).stdout
        deliveries = harness.scalar(db, "SELECT max(id) FROM webhook_outbox")
        for i, who in enumerate(("alice@example.com", "max@example.com")):
            s = Session(self.srv, ip=f"198.51.100.{91 + i}")
            self.assertEqual(s.login(who, "member-password-1")[0], 303)
            st, _, page = s.get("/admin/webhooks")
            self.assertEqual(st, 403, who)
            self.assertNotIn(self.rx.url, page)
            csrf = re.search(r'name="csrf" value="([^"]+)"', s.get("/me/account")[2]).group(1)
            for path in ("/admin/webhooks/add", f"/admin/webhooks/deliveries/{deliveries}/resend",
                         "/admin/webhooks/1/remove"):
                st, _, _ = s.post(path, {"csrf": csrf, "url": "http://127.0.0.1:9/x"})
                self.assertEqual(st, 403, (who, path))
        self.assertEqual(harness.sharecard("webhook", "list", db=db).stdout, before)
        self.assertEqual(harness.scalar(db, "SELECT max(id) FROM webhook_outbox"), deliveries)


class Hanging(unittest.TestCase):
    def test_a_hanging_receiver_does_not_hold_up_another(self):
        release, arrived = threading.Event(), threading.Event()
        slow = Receiver()
        fast = Receiver()
        # The slow receiver takes the request and then sits on it (until the sender's 10 s
        # timeout, or the end of the test).
        orig = slow.httpd.RequestHandlerClass.do_POST

        def hang(handler):
            arrived.set()
            release.wait(30)
            orig(handler)
        slow.httpd.RequestHandlerClass.do_POST = hang
        srv = harness.Server(env=ENV)
        try:
            harness.add_member(srv.db, "Alice Member", "alice@example.com", "--slug", "alice")
            harness.sharecard("webhook", "add", "--url", slow.url, "--events", "signup.created",
                              db=srv.db, env=PRIVATE_OK)
            harness.sharecard("webhook", "add", "--url", fast.url, "--events",
                              "conversion.created", db=srv.db, env=PRIVATE_OK)
            harness.sharecard("init", "--admin-email", "root@example.com", db=srv.db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            token = harness.sharecard("token", "create", "--email", "root@example.com",
                                      db=srv.db).stdout.strip()
            srv.start()
            b = Browser(srv)
            st, _, body = b.get("/c/alice")
            st, _, body = b.sign_up(body.decode(), "alice", name="Hal Hang",
                                    email="hal@example.com")
            self.assertEqual(st, 201, body)
            # The slow receiver now holds its request; an event for the other comes next.
            self.assertTrue(arrived.wait(60), "the slow receiver never got its request")
            st, _, body = srv.request("POST", "/api/v1/conversions", body=json.dumps(
                {"email": "hal@example.com", "amount": 3, "order_id": "HANG-1"}),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            self.assertEqual(st, 201, body)
            hits = fast.wait_for(lambda hs: len(hs) >= 1)
            self.assertEqual(json.loads(hits[0][1])["data"]["order_id"], "HANG-1")
            # The slow delivery's attempt has not ended (no timeout yet): they ran side by side.
            slow_row = harness.query(srv.db, "SELECT o.attempts, o.status FROM webhook_outbox o "
                                             "JOIN webhooks w ON w.id = o.webhook_id "
                                             "WHERE w.url = ?", (slow.url,))
            self.assertEqual(slow_row, [(0, "pending")])
            self.assertEqual(slow.hits, [], "the slow receiver is still holding its request")
            st, _, _ = srv.request("GET", "/healthz")
            self.assertEqual(st, 200)
            release.set()
            srv.stop()
        finally:
            release.set()
            srv.cleanup()
            slow.close()
            fast.close()


class GiveUpAndGuard(unittest.TestCase):
    def test_always_503_is_eight_attempts_then_failed(self):
        rx = Receiver()
        with rx.cv:
            rx.script[:] = [503] * 20
        srv = harness.Server(env=ENV)
        try:
            harness.add_member(srv.db, "Alice Member", "alice@example.com", "--slug", "alice")
            harness.sharecard("webhook", "add", "--url", rx.url, db=srv.db, env=PRIVATE_OK)
            srv.start()
            b = Browser(srv)
            st, _, body = b.get("/c/alice")
            st, _, body = b.sign_up(body.decode(), "alice", name="Gus Giveup",
                                    email="gus@example.com")
            self.assertEqual(st, 201, body)
            deadline = time.monotonic() + 120
            while True:
                rows = harness.query(srv.db, "SELECT status, attempts, last_status "
                                             "FROM webhook_outbox")
                if rows and rows[0][0] == "failed" or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual(rows, [("failed", 8, 503)])
            self.assertEqual(len(rx.hits), 8)
            self.assertEqual(len({h["webhook-id"] for h, _ in rx.hits}), 1)
            st, _, m = srv.request("GET", "/metrics")
            self.assertIn(b"sharecard_webhook_given_up_total 1\n", m)
            self.assertIn(b'sharecard_webhook_outbox{state="failed"} 1\n', m)
            srv.stop()
        finally:
            srv.cleanup()
            rx.close()

    def test_private_target_refused_again_at_delivery(self):
        # Added while private targets were allowed; the server runs without the allowance, as
        # after DNS pointed a public name at an internal address: the connection is refused.
        rx = Receiver()
        env = {k: v for k, v in ENV.items() if k != "SHARECARD_WEBHOOK_ALLOW_PRIVATE"}
        srv = harness.Server(env=env)
        try:
            harness.add_member(srv.db, "Alice Member", "alice@example.com", "--slug", "alice")
            harness.sharecard("webhook", "add", "--url", rx.url, db=srv.db, env=PRIVATE_OK)
            srv.start()
            b = Browser(srv)
            st, _, body = b.get("/c/alice")
            st, _, body = b.sign_up(body.decode(), "alice", name="Pia Private",
                                    email="pia@example.com")
            self.assertEqual(st, 201, body)
            deadline = time.monotonic() + 60
            while True:
                rows = harness.query(srv.db, "SELECT attempts, last_error FROM webhook_outbox")
                if rows and rows[0][0] >= 2 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.assertGreaterEqual(rows[0][0], 2, rows)
            self.assertIn("loopback", rows[0][1])
            self.assertEqual(rx.hits, [], "nothing reached the private address")
            srv.stop()
        finally:
            srv.cleanup()
            rx.close()

    def test_cli_remove(self):
        tmp = tempfile.mkdtemp(prefix="sharecard-it-")
        self.addCleanup(shutil.rmtree, tmp, True)
        db = harness.new_db(tmp)
        harness.sharecard("webhook", "add", "--url", "http://127.0.0.1:9/a", db=db, env=PRIVATE_OK)
        line = harness.sharecard("webhook", "list", db=db).stdout.strip()
        wid, url, events, _ = line.split("\t")
        self.assertEqual(url, "http://127.0.0.1:9/a")
        self.assertEqual(events, "signup.created,conversion.created,reward.approved,lead.hot")
        harness.sharecard("webhook", "remove", wid, db=db)
        self.assertEqual(harness.sharecard("webhook", "list", db=db).stdout, "")
        p = harness.sharecard("webhook", "remove", wid, db=db, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"no webhook {wid}", p.stderr)


class Crash(unittest.TestCase):
    def test_kill_9_after_ack_with_the_receiver_down_still_delivers(self):
        port = free_port()  # nothing listens here yet: the receiver is down
        srv = harness.Server(env=ENV)
        rx = None
        try:
            harness.add_member(srv.db, "Alice Member", "alice@example.com", "--slug", "alice")
            secret = harness.sharecard("webhook", "add", "--url",
                                       f"http://127.0.0.1:{port}/hook", db=srv.db,
                                       env=PRIVATE_OK).stdout.strip()
            srv.start()
            b = Browser(srv)
            st, _, body = b.get("/c/alice")
            self.assertEqual(st, 200)
            st, _, body = b.sign_up(body.decode(), "alice", name="Kim Killed",
                                    email="kim@example.com")
            self.assertEqual(st, 201, body)  # acknowledged
            srv.proc.send_signal(signal.SIGKILL)
            srv.proc.wait()
            rx = Receiver(port)
            srv.start()
            hits = rx.wait_for(lambda hs: any(json.loads(b)["type"] == "signup.created"
                                              for _, b in hs), timeout=200)
            h, body = hits[0]
            self.assertEqual(json.loads(body)["data"]["email"], "kim@example.com")
            self.assertTrue(verify(secret, h, body))
            srv.stop()
        finally:
            srv.cleanup()
            if rx:
                rx.close()


if __name__ == "__main__":
    harness.main()
