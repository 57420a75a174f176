"""No cache keeps a private page (issue 14), over real HTTP.

Every signed-in page and the API answer Cache-Control: private, no-store with
Vary: Cookie; so do a customer's survey /s/{token} and their referral (thank-you)
page /r/{code} when it shows their own section.  The public /r/{code} page varies
on the cookie; public card pages, QR images and avatars keep their caching."""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_signups import Browser  # noqa: E402

PRIVATE = "private, no-store"


class PrivateCache(unittest.TestCase):
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
        cls.bob = Browser(cls.srv)
        st, hd, body = cls.bob.sign_up(cls.bob.open_link(cls.a["qr_url"]), "alice",
                                       name="Bob Brown", email="bob@example.com",
                                       json_answer=False)
        assert st == 303, body
        cls.thanks = hd["location"]  # the thank-you page: the customer's /r/{code}
        assert cls.thanks.startswith("/r/"), cls.thanks
        st, _, body = cls.srv.request(
            "POST", "/api/v1/conversions",
            body=json.dumps({"email": "bob@example.com", "amount": "20", "order_id": "C-1"}),
            headers={"Authorization": f"Bearer {cls.token}",
                     "Content-Type": "application/json"})
        assert st == 201, body
        cls.admin = Session(cls.srv, ip="203.0.113.77")
        st, _, _ = cls.admin.login("admin@example.com", "admin-password-1")
        assert st == 303, st

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def assertPrivate(self, hd, what):
        self.assertEqual(hd.get("cache-control"), PRIVATE, what)
        self.assertIn("cookie", hd.get("vary", "").lower(), what)

    def test_1_own_referral_page_and_survey_are_private(self):
        st, hd, body = self.bob.get(self.thanks)
        self.assertEqual(st, 200)
        self.assertIn('id="own"', body.decode())
        self.assertPrivate(hd, "the customer's own thank-you page")
        token = re.search(r'href="/s/([0-9a-f]{32})"', body.decode()).group(1)
        for who, b in (("bob", self.bob), ("a fresh browser", Browser(self.srv))):
            st, hd, _ = b.get(f"/s/{token}")
            self.assertEqual(st, 200, who)
            self.assertPrivate(hd, f"the survey for {who}")
        st, hd, _ = Browser(self.srv).get("/s/" + "0" * 32)
        self.assertEqual(st, 404)
        self.assertPrivate(hd, "a survey that does not exist")

    def test_2_public_referral_page_varies_on_the_cookie(self):
        st, hd, body = Browser(self.srv).get(self.thanks)
        self.assertEqual(st, 200)
        self.assertNotIn('id="own"', body.decode())
        self.assertIn("cookie", hd.get("vary", "").lower())
        self.assertNotEqual(hd.get("cache-control"), PRIVATE)

    def test_3_signed_in_pages_and_api_are_private(self):
        for path in ("/me", "/leads", "/customers", "/dashboard", "/admin/members",
                     "/admin/rewards", "/admin/audit", "/admin/webhooks", "/admin/model"):
            st, hd, _ = self.admin.get(path)
            self.assertEqual(st, 200, path)
            self.assertPrivate(hd, path)
        for path in ("/api/v1/customers", "/api/v1/nps", "/api/v1/signups"):
            st, hd, _ = self.srv.request("GET", path,
                                         headers={"Authorization": f"Bearer {self.token}"})
            self.assertEqual(st, 200, path)
            self.assertPrivate(hd, path)
        # Signed out: the redirect to /login is not kept either.
        st, hd, _ = Session(self.srv, ip="203.0.113.78").get("/dashboard")
        self.assertEqual(st, 303)
        self.assertIn("no-store", hd.get("cache-control", ""))

    def test_4_public_pages_keep_their_caching(self):
        b = Browser(self.srv)
        st, hd, _ = b.get("/c/alice")
        self.assertEqual(st, 200)
        self.assertNotEqual(hd.get("cache-control"), PRIVATE)
        for path in ("/c/alice/qr.png", "/c/alice/qr.svg", self.thanks + "/qr.svg"):
            st, hd, _ = b.get(path)
            self.assertEqual(st, 200, path)
            self.assertEqual(hd.get("cache-control"), "public, max-age=86400", path)
            self.assertNotIn("vary", hd, path)


if __name__ == "__main__":
    harness.main()
