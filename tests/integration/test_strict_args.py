"""Numbers and dates in query strings and paths are parsed strictly (issue 16): " 5", "+5",
"5x", an impossible date or a range out of bounds is refused with 400 (404 for a path id) and
the reason, never read as something else or quietly replaced by a default.

- the dashboard (/dashboard, /me): days, from, to; the page shows the error;
- /api/v1/leads and /leads: days, limit, quiet, and a lead's id in the path;
- a QR image's size; the audit log's before (page and API).
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_signups import Browser  # noqa: E402

ADMIN_PW = "admin-password-1"
SALES_PW = "sales-password-1"


class StrictArgs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
        harness.add_member(db, "Sal Sales", "sal@example.com", "--slug", "sal")
        harness.sharecard("member", "password", "--email", "sal@example.com", db=db,
                          env={"SHARECARD_PASSWORD": SALES_PW})
        cls.token = harness.sharecard("token", "create", "--email", "root@example.com",
                                      db=db).stdout.strip()
        cls.srv.start()
        cls.root = Session(cls.srv, ip="198.51.100.81")
        st, _, _ = cls.root.login("root@example.com", ADMIN_PW)
        assert st == 303, st
        cls.sal = Session(cls.srv, ip="198.51.100.82")
        st, _, _ = cls.sal.login("sal@example.com", SALES_PW)
        assert st == 303, st
        # A lead: a visitor who opened Sal's card.
        st, _, _ = Browser(cls.srv).get("/c/sal")
        assert st == 200, st
        deadline = time.monotonic() + 30
        while True:
            st, _, body = cls.api("/api/v1/leads")
            if st == 200 and json.loads(body) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        cls.lead = json.loads(body)[0]["id"]

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    @classmethod
    def api(cls, path):
        return cls.srv.request("GET", path, headers={"Authorization": f"Bearer {cls.token}"})

    def refused(self, get, path, status, reason):
        st, h, body = get(path)
        body = body if isinstance(body, str) else body.decode("utf-8", "replace")
        self.assertEqual(st, status, (path, body[:300]))
        self.assertIn(reason, body, path)
        return body

    # ---- the dashboard ------------------------------------------------------------------

    def test_dashboard_bad_range_is_400_with_the_reason_on_the_page(self):
        today = time.strftime("%Y-%m-%d", time.gmtime())
        later = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 5 * 86400))
        for page, who in (("/dashboard", self.root), ("/me", self.sal)):
            for ok in ("", "?days=7", "?days=90", f"?from=2026-01-01&to={today}",
                       "?from=&to="):
                st, _, body = who.get(page + ok)
                self.assertEqual(st, 200, (page, ok))
            for q, reason in (
                    ("days=5", "days is 1, 7, 30 or 90."),
                    ("days=%207", "days is 1, 7, 30 or 90."),
                    ("days=%2B7", "days is 1, 7, 30 or 90."),
                    ("days=7x", "days is 1, 7, 30 or 90."),
                    ("days=", "days is 1, 7, 30 or 90."),
                    ("from=2026-02-30&to=2026-03-01", "each a date that exists"),
                    ("from=2026-01-01", "from and to are both needed"),
                    ("from=2026-03-01&to=2026-02-01", "from must not be after to."),
                    ("from=2024-01-01&to=2025-06-01", "at most 366 days apart"),
                    (f"from={today}&to={later}", "to must not be in the future.")):
                body = self.refused(who.get, f"{page}?{q}", 400, reason)
                # The page itself, with its range picker to choose again, and the error shown.
                self.assertIn('role="alert"', body, q)
                self.assertIn('name="from"', body, q)

    # ---- leads ------------------------------------------------------------------------------

    def test_leads_numbers_strict(self):
        st, _, _ = self.api("/api/v1/leads?days=5&limit=10&quiet=1")
        self.assertEqual(st, 200)
        for q, reason in (("days=%205", "days is a number"), ("days=%2B5", "days is a number"),
                          ("days=5%20", "days is a number"), ("days=0x5", "days is a number"),
                          ("days=367", "days is a number"), ("limit=-1", "limit is a number"),
                          ("limit=1e3", "limit is a number"), ("quiet=%2B1", "quiet is")):
            self.refused(self.api, f"/api/v1/leads?{q}", 400, reason)
            self.refused(self.sal.get, f"/leads?{q}", 400, reason)

    def test_lead_id_in_the_path_strict(self):
        st, _, _ = self.api(f"/api/v1/leads/{self.lead}")
        self.assertEqual(st, 200)
        st, _, _ = self.sal.get(f"/leads/{self.lead}")
        self.assertEqual(st, 200)
        for bad in (f"%2B{self.lead}", f"%20{self.lead}", f"{self.lead}x", f"0x{self.lead}",
                    f"-{self.lead}", "99999999999999999999999"):
            self.refused(self.api, f"/api/v1/leads/{bad}", 404, "There is no such lead.")
            self.refused(self.sal.get, f"/leads/{bad}", 404, "There is no such lead.")

    # ---- QR size, audit ---------------------------------------------------------------------

    def test_qr_size_strict(self):
        st, h, _ = self.srv.request("GET", "/c/sal/qr.png?size=300")
        self.assertEqual(st, 200)
        for bad in ("%20300", "%2B300", "300%20", "0x12c", ""):
            self.refused(lambda p: self.srv.request("GET", p), f"/c/sal/qr.png?size={bad}",
                         400, "size must be a whole number of pixels")

    def test_audit_before_strict(self):
        st, _, _ = self.api("/api/v1/audit?before=100")
        self.assertEqual(st, 200)
        st, _, _ = self.root.get("/admin/audit?before=100")
        self.assertEqual(st, 200)
        for bad in ("%2B5", "%205", "5x", "-5", "0", ""):
            q = "before=" + bad
            self.refused(self.api, f"/api/v1/audit?{q}", 400, "before must be")
            self.refused(self.root.get, f"/admin/audit?{q}", 400, "before must be")



if __name__ == "__main__":
    harness.main()
