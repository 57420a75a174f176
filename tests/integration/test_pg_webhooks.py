"""Two instances on one PostgreSQL database deliver each webhook once (issue 12).

Both serve sign-ups and both run a dispatcher over the same outbox; a row is
claimed with FOR UPDATE SKIP LOCKED and a lease, so between them every event
reaches the receiver exactly once (at least once is the promise; with a
receiver that answers at once there is no reason for a second copy).
PostgreSQL only: skipped on SQLite.
"""

import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_signups import Browser  # noqa: E402
from test_webhooks import ENV, PRIVATE_OK, Receiver, verify  # noqa: E402

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


if __name__ == "__main__":
    harness.main()
