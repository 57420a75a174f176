"""Two instances on one PostgreSQL database deliver each webhook once (issue 12).

Both serve sign-ups and both run a dispatcher over the same outbox; a row is
claimed with FOR UPDATE SKIP LOCKED and a lease, so between them every event
reaches the receiver exactly once (at least once is the promise; with a
receiver that answers at once there is no reason for a second copy).
PostgreSQL only: skipped on SQLite.

Rewards whose hold ends are approved by each instance's upkeep (a moved clock, libfaketime,
one clock file for both): the due rows are taken FOR UPDATE SKIP LOCKED and changed only while
still pending, so each reward is approved once and announced once between the two.

A delivery's claim is a lease of 120 s timed by the database's clock: when the instances' own
clock jumps by an hour while a slow receiver holds the first attempt, neither instance takes
the row again, so the receiver gets it once and one attempt is recorded.
"""

import json
import http.server
import os
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_signups import Browser  # noqa: E402
from test_webhooks import ENV, PRIVATE_OK, Receiver, verify  # noqa: E402
from test_webhooks_clock import DAY, FAKETIME_LIB, faketime_env, wait_until  # noqa: E402

PEOPLE = 30


@unittest.skipUnless(harness.is_pg(), "PostgreSQL only: several instances share one database")
class TwoInstances(unittest.TestCase):
    def test_each_event_delivered_once_between_two_instances(self):
        rx = Receiver()
        a = harness.Server(env=ENV)
        b = harness.Server(db=a.db, env=ENV)
        try:
            harness.add_member(a.db, "Alice Member", "alice@example.com", "--slug", "alice")
            secret = harness.sharecard("webhook", "add", "--url", rx.url, "--events",
                                       "signup.created", db=a.db, env=PRIVATE_OK).stdout.strip()
            a.start()
            b.start()
            errors = []

            def sign_up(i):
                srv = (a, b)[i % 2]
                br = Browser(srv)
                st, _, body = br.get("/c/alice")
                st, _, body = br.sign_up(body.decode(), "alice", name=f"Person {i}",
                                         email=f"p{i}@example.com")
                if st != 201:
                    errors.append((i, st, body))

            threads = [threading.Thread(target=sign_up, args=(i,)) for i in range(PEOPLE)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            self.assertEqual(errors, [])
            rx.wait_for(lambda hs: len({json.loads(b)["data"]["email"] for _, b in hs}) >= PEOPLE,
                        timeout=120)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                left = harness.scalar(a.db, "SELECT count(*) FROM webhook_outbox "
                                            "WHERE status <> 'delivered'")
                if left == 0:
                    break
                time.sleep(0.2)
            self.assertEqual(left, 0)
            stored = {r[0] for r in harness.query(a.db, "SELECT msg_id FROM webhook_outbox")}
            self.assertEqual(len(stored), PEOPLE)
            ids = [h["webhook-id"] for h, _ in rx.hits]
            self.assertEqual(sorted(ids), sorted(stored), "each event delivered exactly once")
            for h, body in rx.hits:
                self.assertTrue(verify(secret, h, body))
            attempts = harness.scalar(a.db, "SELECT sum(attempts) FROM webhook_outbox")
            self.assertEqual(attempts, PEOPLE)
            b.stop()
            a.stop()
        finally:
            b.cleanup()
            a.cleanup()
            rx.close()


@unittest.skipUnless(harness.is_pg(), "PostgreSQL only: several instances share one database")
class TwoInstancesOneSweep(unittest.TestCase):
    REWARDS = 12

    def test_hold_ends_each_reward_approved_and_announced_once(self):
        if not os.path.exists(FAKETIME_LIB):
            self.fail("libfaketime is missing: scripts/deps.sh test installs the faketime package")
        rx = Receiver()
        self.addCleanup(rx.close)
        a = harness.Server()
        self.addCleanup(a.cleanup)
        clock = os.path.join(a.tmp, "faketime")

        def set_clock(seconds):
            with open(clock, "w") as f:
                f.write(f"+{int(seconds)}\n")

        set_clock(0)
        env = dict(faketime_env(clock), **ENV)
        a.env = env
        b = harness.Server(db=a.db, env=env)
        self.addCleanup(b.cleanup)
        db = a.db
        harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice")
        harness.sharecard("webhook", "add", "--url", rx.url, "--events", "reward.approved",
                          db=db, env=PRIVATE_OK)
        a.start()
        b.start()
        for i in range(self.REWARDS):
            br = Browser((a, b)[i % 2])
            st, _, page = br.get("/c/alice")
            self.assertEqual(st, 200)
            st, _, body = br.sign_up(page.decode(), "alice", name=f"Hold {i}",
                                     email=f"hold{i}@example.com")
            self.assertEqual(st, 201, body)
        pending = harness.query(db, "SELECT id, approve_after FROM rewards "
                                    "WHERE status = 'pending' ORDER BY id")
        self.assertEqual(len(pending), self.REWARDS, "each sign-up earns a pending reward")
        ids = sorted(rid for rid, _ in pending)

        set_clock(15 * DAY)  # the 14-day hold is over for both instances at once
        rx.wait_for(lambda hs: len(hs) >= self.REWARDS, timeout=120)
        wait_until(lambda: harness.query(db, "SELECT count(*) FROM webhook_outbox WHERE "
                                             "status = 'delivered'") == [(self.REWARDS,)],
                   "every reward.approved delivered and recorded")
        set_clock(16 * DAY)  # another upkeep round on each: nothing left to approve
        time.sleep(3)

        # Approved once: the rows say so, decided when the hold ended, and the two instances'
        # logs together count each reward once.
        self.assertEqual(harness.query(db, "SELECT id, approve_after FROM rewards "
                                           "WHERE status = 'approved' AND decided_at = "
                                           "approve_after ORDER BY id"), pending)
        counted = 0
        for srv in (a, b):
            for line in srv.log:
                m = re.search(r"(\d+) rewards approved at the end of their hold", line)
                if m:
                    counted += int(m.group(1))
        self.assertEqual(counted, self.REWARDS, "".join(a.log + b.log))
        # Announced once: one outbox row and one delivery per reward, each signed once.
        self.assertEqual(harness.query(db, "SELECT count(*), count(DISTINCT msg_id), "
                                           "sum(attempts) FROM webhook_outbox WHERE type = "
                                           "'reward.approved'"),
                         [(self.REWARDS, self.REWARDS, self.REWARDS)])
        got = [json.loads(body)["data"] for _, body in rx.hits]
        self.assertEqual(sorted(d["id"] for d in got), ids, "exactly one delivery per reward")
        self.assertEqual(len({h["webhook-id"] for h, _ in rx.hits}), self.REWARDS)
        b.stop()
        a.stop()


class SlowReceiver:
    """Holds each POST until release() (at most 8 s, within the sender's 10 s), then 204."""

    def __init__(self):
        self.hits = []
        self.arrived = threading.Event()
        self.released = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.hits.append(({k.lower(): v for k, v in self.headers.items()}, body))
                outer.arrived.set()
                outer.released.wait(8)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@unittest.skipUnless(harness.is_pg(), "PostgreSQL only: several instances share one database")
class ClockJumpMidDelivery(unittest.TestCase):
    def test_jump_beyond_the_lease_while_posting_sends_once(self):
        if not os.path.exists(FAKETIME_LIB):
            self.fail("libfaketime is missing: scripts/deps.sh test installs the faketime package")
        rx = SlowReceiver()
        self.addCleanup(rx.close)
        a = harness.Server()
        self.addCleanup(a.cleanup)
        clock = os.path.join(a.tmp, "faketime")

        def set_clock(seconds):
            with open(clock, "w") as f:
                f.write(f"+{int(seconds)}\n")

        set_clock(0)
        a.env = dict(faketime_env(clock), **ENV)
        b = harness.Server(db=a.db, env=a.env)
        self.addCleanup(b.cleanup)
        db = a.db
        harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice")
        harness.sharecard("webhook", "add", "--url", rx.url, "--events", "signup.created",
                          db=db, env=PRIVATE_OK)
        a.start()
        b.start()
        br = Browser(a)
        st, _, page = br.get("/c/alice")
        self.assertEqual(st, 200)
        st, _, body = br.sign_up(page.decode(), "alice", name="Jules Jump",
                                 email="jules@example.com")
        self.assertEqual(st, 201, body)
        self.assertTrue(rx.arrived.wait(60), "the first attempt reached the receiver")

        set_clock(3600)  # both instances' clock jumps an hour (> the 120 s lease) mid-post
        time.sleep(3)  # six polls of each dispatcher while the receiver still holds the post
        self.assertEqual(len(rx.hits), 1, "the row in flight was not taken and sent again")
        rx.released.set()
        wait_until(lambda: harness.query(db, "SELECT status, attempts, claimed_until FROM "
                                             "webhook_outbox") == [("delivered", 1, 0)],
                   "the one attempt recorded as delivered")
        time.sleep(1)
        self.assertEqual(len(rx.hits), 1)
        b.stop()
        a.stop()


if __name__ == "__main__":
    harness.main()
