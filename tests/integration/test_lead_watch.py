"""The hot-lead watch keeps only the leads it may act on (issue 15: it held every lead of
the day in memory, hundreds of megabytes under a burst of new visitors): a lead that is
hot now, or whose last record says hot.  This checks the second kind over real HTTP: a lead
recorded hot that is no longer hot gets its cooling recorded once it is active again."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_signups import Browser  # noqa: E402

ADMIN_PW = "admin-password-1"


class HotLeadCools(unittest.TestCase):
    def test_a_lead_recorded_hot_cools(self):
        srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1", "SHARECARD_HOT_WATCH_S": "1"})
        try:
            db = srv.db
            harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            member = harness.add_member(db, "Hu Ping", "hu@example.com", "--slug", "huping")
            token = harness.sharecard("token", "create", "--email", "root@example.com",
                                      db=db).stdout.strip()
            srv.start()
            b = Browser(srv)
            b.open_link(member["qr_url"])
            _, _, body = srv.request("GET", "/api/v1/leads",
                                     headers={"Authorization": f"Bearer {token}"})
            lead = json.loads(body)[0]
            self.assertNotEqual(lead["label"], "hot")
            card = harness.scalar(db, "SELECT id FROM cards WHERE slug = 'huping'")
            # As if an earlier look had found this lead hot.
            harness.query(db, "INSERT INTO lead_hot (visitor_id, card_id, score, hot, ts) "
                          "VALUES (?, ?, 90, 1, ?)", (lead["id"], card, int(time.time()) - 60))
            self.assertLess(b.get("/c/huping")[0], 300)  # active again, still not hot

            def last():
                return harness.query(db, "SELECT hot FROM lead_hot WHERE visitor_id = ? AND "
                                     "card_id = ? ORDER BY id DESC LIMIT 1", (lead["id"], card))

            deadline = time.monotonic() + 60
            while last() != [(0,)] and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertEqual(last(), [(0,)])
            self.assertEqual(harness.scalar(db, "SELECT count(*) FROM lead_hot"), 2)
        finally:
            srv.stop()
            srv.cleanup()


if __name__ == "__main__":
    harness.main()
