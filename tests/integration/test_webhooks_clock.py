"""Webhooks against a moved clock (issue 12): libfaketime moves the server's wall clock while a
local receiver listens, so what happens days later is tested without waiting days.

- A pending reward whose hold ends is approved for good by the dispatcher's upkeep, and
  reward.approved goes out once per reward (not only on a manager's approval).
- Finished deliveries (delivered, failed) older than SHARECARD_WEBHOOK_KEEP_DAYS (default 30)
  leave the outbox; younger ones and pending ones stay.
- Retries follow the real schedule (no test hook): the first within 30 s, then growing waits,
  and after about a day the delivery is marked failed, with one webhook-id throughout.

Under AddressSanitizer the preloaded library comes before ASan's runtime (allowed with
verify_asan_link_order=0); under ThreadSanitizer libfaketime's wrapper of
pthread_cond_timedwait hides the wait's unlock, so these servers run with report_bugs=0
(as the retention test in test_ops.py does).
"""

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
from test_signups import Browser  # noqa: E402
from test_webhooks import PRIVATE_OK, Receiver, types_of  # noqa: E402

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
DAY = 86400


def faketime_env(clock):
    asan = [o for o in os.environ.get("ASAN_OPTIONS", "").split(":") if o]
    tsan = [o for o in os.environ.get("TSAN_OPTIONS", "").split(":") if o]
    return {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME_TIMESTAMP_FILE": clock,
            "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "ASAN_OPTIONS": ":".join(asan + ["verify_asan_link_order=0"]),
            "TSAN_OPTIONS": ":".join(tsan + ["report_bugs=0"])}


def wait_until(pred, what, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.1)


class Clocked(unittest.TestCase):
    """A server whose clock the test sets (seconds from now) and a receiver subscribed to all."""

    env = {}

    def setUp(self):
        if not os.path.exists(FAKETIME_LIB):
            self.fail("libfaketime is missing: scripts/deps.sh test installs the faketime package")
        self.rx = Receiver()
        self.addCleanup(self.rx.close)
        self.srv = harness.Server()
        self.addCleanup(self.srv.cleanup)
        self.clock = os.path.join(self.srv.tmp, "faketime")
        self.set_clock(0)
        self.srv.env = dict(faketime_env(self.clock), SHARECARD_TRUST_PROXY="1",
                            SHARECARD_HOLD_DAYS="14", SHARECARD_WEBHOOK_ALLOW_PRIVATE="1",
                            **self.env)
        db = self.srv.db
        harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice")
        self.secret = harness.sharecard("webhook", "add", "--url", self.rx.url, db=db,
                                        env=PRIVATE_OK).stdout.strip()
        self.srv.start()

    def set_clock(self, seconds):
        with open(self.clock, "w") as f:
            f.write(f"+{int(seconds)}\n")

    def sign_up(self, name, email):
        b = Browser(self.srv)
        st, _, page = b.get("/c/alice")
        self.assertEqual(st, 200)
        st, _, body = b.sign_up(page.decode(), "alice", name=name, email=email)
        self.assertEqual(st, 201, body)
        return json.loads(body)

    def outbox(self):
        return harness.query(self.srv.db, "SELECT id, type, status FROM webhook_outbox "
                                          "ORDER BY id")

    def settle(self):
        """Waits until no delivery is pending or claimed.  On SQLite leases are the process's
        wall-clock times, so a clock moved while an attempt is in flight would end its lease
        early and the row would be attempted again (at least once: same webhook-id); the tests
        move it between.  (PostgreSQL times leases by its own clock: test_pg_webhooks.py.)"""
        far = int(time.time()) + 200 * DAY  # (a row parked beyond it is not waited for)
        wait_until(lambda: harness.query(self.srv.db, "SELECT count(*) FROM webhook_outbox "
                                                      "WHERE (status = 'pending' AND next_at < ?) "
                                                      "OR claimed_until > 0", (far,)) == [(0,)],
                   "every delivery made and recorded")


class RewardHoldEnds(Clocked):
    def test_pending_reward_approved_when_its_hold_ends_announced_once(self):
        db = self.srv.db
        self.sign_up("Hal Hold", "hal@example.com")
        self.rx.wait_for(lambda hs: "signup.created" in types_of(hs))
        self.settle()
        pending = harness.query(db, "SELECT id, approve_after FROM rewards "
                                    "WHERE status = 'pending' ORDER BY id")
        self.assertTrue(pending, "a sign-up through a member's card earns a pending reward")
        self.assertEqual(self.rx.of_type("reward.approved"), [])

        self.set_clock(13 * DAY)  # still within the 14-day hold: nothing changes
        time.sleep(2)
        self.assertEqual(harness.query(db, "SELECT count(*) FROM rewards WHERE status = "
                                           "'approved'"), [(0,)])

        self.set_clock(15 * DAY)  # the hold is over
        ids = {rid for rid, _ in pending}
        self.rx.wait_for(lambda hs: {json.loads(b)["data"]["id"] for _, b in hs
                                     if json.loads(b)["type"] == "reward.approved"} >= ids)
        self.settle()
        # Durable: the row itself says approved, decided when its hold ended.
        for rid, approve_after in pending:
            self.assertEqual(harness.query(db, "SELECT status, decided_at FROM rewards "
                                               "WHERE id = ?", (rid,)),
                             [("approved", approve_after)])
        # Once per reward, whatever further upkeep rounds (another day on) or a manager do.
        self.set_clock(16 * DAY)
        time.sleep(2)  # an upkeep round runs at once after a clock jump of a minute or more
        p = harness.sharecard("reward", "approve", str(pending[0][0]), db=db, check=False)
        self.assertNotEqual(p.returncode, 0, "an approved reward cannot be approved again")
        time.sleep(1)
        hits = self.rx.of_type("reward.approved")
        got = {h["webhook-id"]: json.loads(b)["data"] for h, b in hits}
        self.assertEqual(sorted(d["id"] for d in got.values()), sorted(ids))
        self.assertEqual(len(hits), len(ids), "one attempt each: every receiver answered 204")
        for d in got.values():
            self.assertEqual(d["status"], "approved")
        self.assertEqual(harness.query(db, "SELECT count(*) FROM webhook_outbox WHERE type = "
                                           "'reward.approved'"), [(len(ids),)])
        self.srv.stop()


class OutboxPruned(Clocked):
    def test_finished_deliveries_older_than_30_days_go(self):
        db = self.srv.db
        self.sign_up("Olga Old", "olga@example.com")
        self.settle()
        (signup_id, _, _), = [r for r in self.outbox() if r[1] == "signup.created"]
        wid = harness.scalar(db, "SELECT id FROM webhooks")
        now = int(time.time())
        # A failed delivery of the same age, and one still waiting for a far retry (pending).
        for msg, status, next_at in (("msg_failedfailedfailedfailedfa", "failed", now),
                                     ("msg_waitingwaitingwaitingwaiti", "pending",
                                      now + 400 * DAY)):
            harness.query(db, "INSERT INTO webhook_outbox (msg_id, webhook_id, type, data, "
                              "event_ts, created_at, next_at, status, attempts) VALUES "
                              "(?, ?, 'signup.created', '{}', ?, ?, ?, ?, 8)",
                          (msg, wid, now, now, next_at, status))

        # 29 days on: kept.  The hold of 14 days has ended, so the upkeep of this moment also
        # approves the reward; once its reward.approved is delivered that round is over.
        self.set_clock(29 * DAY)
        wait_until(lambda: [r for r in self.outbox()
                            if r[1] == "reward.approved" and r[2] == "delivered"],
                   "the reward.approved delivery made")
        self.settle()
        self.assertEqual(len(self.outbox()), 4)

        # 31 days on: the delivered sign-up and the failed one go; the 2-day-old reward.approved
        # delivery and the pending one stay.
        self.set_clock(31 * DAY)
        wait_until(lambda: signup_id not in [r[0] for r in self.outbox()],
                   "the 31-day-old delivery pruned")
        left = self.outbox()
        self.assertEqual(sorted((t, s) for _, t, s in left),
                         [("reward.approved", "delivered"), ("signup.created", "pending")])
        self.srv.stop()
        self.assertTrue(any("finished deliveries older than 30 days deleted" in ln
                            for ln in self.srv.log), self.srv.log)


class KeepForever(Clocked):
    env = {"SHARECARD_WEBHOOK_KEEP_DAYS": "0"}

    def test_keep_days_0_keeps_every_delivery(self):
        self.sign_up("Kai Keep", "kai@example.com")
        self.settle()
        self.set_clock(400 * DAY)
        wait_until(lambda: [r for r in self.outbox() if r[1] == "reward.approved" and
                            r[2] == "delivered"], "the later upkeep round over")
        self.assertEqual(len(self.outbox()), 2)
        self.srv.stop()


class RetriesOnTheRealSchedule(Clocked):
    """No test hook: the real delays (webhook/retry.c), the clock moved to each retry's time."""

    BASES = [20, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600]

    def row(self):
        return harness.query(self.srv.db, "SELECT attempts, status, last_at, next_at, msg_id, "
                                          "claimed_until FROM webhook_outbox WHERE type = "
                                          "'signup.created'")[0]

    def test_first_retry_within_30s_then_growing_then_failed_after_about_a_day(self):
        with self.rx.cv:
            self.rx.script[:] = [503] * 20
        self.sign_up("Rory Retry", "rory@example.com")
        offset, first_at, delays = 0, None, []
        for attempt in range(1, 9):
            row = wait_until(lambda: (lambda r: r if r[0] == attempt and r[5] == 0 else None)(
                self.row()), f"attempt {attempt} recorded")
            attempts, status, last_at, next_at, msg_id, _ = row
            self.assertEqual(len(self.rx.hits), attempt)
            if first_at is None:
                first_at = last_at
            if attempt == 8:
                self.assertEqual(status, "failed")
                break
            self.assertEqual(status, "pending")
            delay = next_at - last_at
            delays.append(delay)
            base = self.BASES[attempt - 1]
            self.assertGreaterEqual(delay, base - base // 10, (attempt, delays))
            self.assertLessEqual(delay, base + base // 10, (attempt, delays))
            if attempt == 1:
                self.assertLessEqual(delay, 30, "the first retry comes within 30 s")
            # Move the clock to the retry's time (plus a second); nothing real is waited for.
            offset = next_at + 1 - int(time.time())
            self.set_clock(offset)
        # Growing: each wait is longer than the one before could be (bar the last two, both
        # 10 h, which the jitter orders either way).
        for k in range(1, 5):
            self.assertGreater(delays[k], delays[k - 1], delays)
        self.assertGreater(delays[-1], 100 * delays[0])
        span = last_at - first_at
        self.assertGreater(span, 20 * 3600, "gives up after about a day, not sooner")
        self.assertLess(span, 32 * 3600, "and not much later")
        self.assertEqual(len({h["webhook-id"] for h, _ in self.rx.hits}), 1)
        self.assertEqual({h["webhook-id"] for h, _ in self.rx.hits}, {msg_id})
        # Given up for good: another hour on, no ninth attempt.
        self.set_clock(offset + 3600)
        time.sleep(2)
        self.assertEqual(len(self.rx.hits), 8)
        self.assertEqual(self.row()[1], "failed")
        st, _, m = self.srv.request("GET", "/metrics")
        self.assertIn(b"sharecard_webhook_given_up_total 1\n", m)
        self.srv.stop()


class BadKeepDays(unittest.TestCase):
    def test_refused_at_start(self):
        tmp = tempfile.mkdtemp(prefix="sharecard-it-")
        self.addCleanup(shutil.rmtree, tmp, True)
        db = harness.new_db(tmp)
        for v in ("-1", " 5", "+5", "1e3", "36501", "abc"):
            env = dict(os.environ, SHARECARD_WEBHOOK_KEEP_DAYS=v)
            p = subprocess.run([harness.BIN, f"--db={db}", "serve", "--listen", "127.0.0.1:0"],
                               capture_output=True, text=True, env=env, timeout=30)
            self.assertEqual(p.returncode, 1, v)
            self.assertIn("SHARECARD_WEBHOOK_KEEP_DAYS must be a whole number of days", p.stderr)


if __name__ == "__main__":
    harness.main()
