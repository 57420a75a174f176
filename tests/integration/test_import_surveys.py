"""The NPS surveys of imported orders (issue 14), over real HTTP.

`sharecard import orders` gives each order's survey a link on the base URL `serve` would
use: --base-url, else SHARECARD_BASE_URL, else http://HOST:PORT of where it listens
(--listen, SHARECARD_LISTEN, default 127.0.0.1:8080), never a bare /s/… path.  An order
older than the survey window (SHARECARD_NPS_MAX_AGE_DAYS, default 90) gets no survey at
all, whether imported or posted to /api/v1/conversions."""

import json
import os
import re
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_signups import Browser  # noqa: E402

NO_BASE = {"SHARECARD_BASE_URL": "", "SHARECARD_LISTEN": "", "SHARECARD_NPS_DELAY_DAYS": "0"}


def days_ago(n):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - n * 86400))


class ImportSurveys(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1",
                                      "SHARECARD_NPS_DELAY_DAYS": "0"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "admin@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
        cls.token = harness.sharecard("token", "create", "--email", "admin@example.com",
                                      db=db).stdout.strip()
        cls.a = harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice")
        cls.srv.start()
        b = Browser(cls.srv)
        st, _, body = b.sign_up(b.open_link(cls.a["qr_url"]), "alice", name="Bob Brown",
                                email="bob@example.com")
        assert st == 201, body

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def imp(self, rows, *args, env=None):
        text = "order_id,email,amount,ordered_at\n" + "".join(
            f"{o},bob@example.com,5,{when}\n" for o, when in rows)
        p = harness.sharecard("import", "orders", "-", *args, db=self.srv.db, check=False,
                              input=text, env=dict(NO_BASE, **(env or {})))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def survey_url(self, order_id):
        rows = harness.query(self.srv.db, "SELECT n.url FROM nps_surveys n JOIN conversions v "
                                          "ON v.id = n.conversion_id WHERE v.order_id = ?",
                             (order_id,))
        return rows[0][0] if rows else None

    def test_1_links_use_serves_base_url(self):
        self.imp([("B-1", days_ago(2))])
        self.assertRegex(self.survey_url("B-1"), r"^http://127\.0\.0\.1:8080/s/[0-9a-f]{32}$")
        self.imp([("B-2", days_ago(2))], "--base-url", "https://cards.example.com/")
        self.assertRegex(self.survey_url("B-2"), r"^https://cards\.example\.com/s/[0-9a-f]{32}$")
        self.imp([("B-3", days_ago(2))], env={"SHARECARD_BASE_URL": "https://x.example.cn"})
        self.assertRegex(self.survey_url("B-3"), r"^https://x\.example\.cn/s/[0-9a-f]{32}$")
        self.imp([("B-4", days_ago(2))], "--listen", "127.0.0.1:9999")
        self.assertRegex(self.survey_url("B-4"), r"^http://127\.0\.0\.1:9999/s/[0-9a-f]{32}$")
        # --base-url wins over SHARECARD_BASE_URL, as for serve.
        self.imp([("B-5", days_ago(2))], "--base-url", "https://cli.example.com",
                 env={"SHARECARD_BASE_URL": "https://env.example.com"})
        self.assertTrue(self.survey_url("B-5").startswith("https://cli.example.com/s/"))
        p = harness.sharecard("import", "orders", "-", "--base-url", "ftp://x", db=self.srv.db,
                              check=False, input="order_id,email,amount\nB-6,bob@example.com,1\n")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--base-url", p.stderr)
        self.assertIsNone(self.survey_url("B-6"))
        # The imported link opens the survey on the server.
        path = urllib.parse.urlsplit(self.survey_url("B-1")).path
        st, _, body = Browser(self.srv).get(path)
        self.assertEqual(st, 200)
        self.assertIn('name="csrf"', body.decode())

    def test_2_orders_older_than_the_window_get_no_survey(self):
        p = self.imp([("W-89", days_ago(89)), ("W-91", days_ago(91)),
                      ("W-400", days_ago(400))])
        self.assertIn("3 imported", p.stdout)
        self.assertIsNotNone(self.survey_url("W-89"))
        self.assertIsNone(self.survey_url("W-91"))
        self.assertIsNone(self.survey_url("W-400"))
        self.assertEqual(harness.scalar(self.srv.db, "SELECT COUNT(*) FROM conversions WHERE "
                                                     "order_id IN ('W-91', 'W-400')"), 2)
        # The window is a setting: a year here.
        self.imp([("Y-200", days_ago(200))], env={"SHARECARD_NPS_MAX_AGE_DAYS": "365"})
        self.assertIsNotNone(self.survey_url("Y-200"))
        # The API's back-filled orders follow the same window.
        for oid, ago in (("A-91", 91), ("A-10", 10)):
            st, _, body = self.srv.request(
                "POST", "/api/v1/conversions",
                body=json.dumps({"email": "bob@example.com", "amount": "5", "order_id": oid,
                                 "ordered_at": days_ago(ago)}),
                headers={"Authorization": f"Bearer {self.token}",
                         "Content-Type": "application/json"})
            self.assertEqual(st, 201, body)
        self.assertIsNone(self.survey_url("A-91"))
        self.assertRegex(self.survey_url("A-10") or "", re.escape(self.srv.base) + "/s/")


if __name__ == "__main__":
    harness.main()
