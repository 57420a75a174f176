"""What a customer sees of their own in a browser (issue 14), over real HTTP.

The referral page /r/{code} is public: anyone with the link may open it.  Only the
browser that signed up as that customer (its visitor cookie) also sees their points,
tier, spend, commissions and each reward with whom it came from (first name only, or
masked); every other browser gets the public page alone."""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_signups import Browser  # noqa: E402


class OwnReferralPage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1", "SHARECARD_HOLD_DAYS": "0",
                                      "SHARECARD_COMMISSION": "10,5",
                                      "SHARECARD_TIERS": "普通:0,银卡:30",
                                      "SHARECARD_CURRENCY": "USD"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "admin@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
        cls.token = harness.sharecard("token", "create", "--email", "admin@example.com",
                                      db=db).stdout.strip()
        cls.a = harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice")
        cls.srv.start()
        cls.browsers, cls.codes, cls.ids = {}, {}, {}

        def sign_up(key, name, link):
            b = Browser(cls.srv)
            st, _, body = b.sign_up(b.open_link(link), "alice", name=name,
                                    email=f"{key}@example.com")
            assert st == 201, body
            j = json.loads(body)
            cls.browsers[key], cls.ids[key] = b, j["customer_id"]
            cls.codes[key] = j["referral_url"].rsplit("/", 1)[1]
            return j["referral_url"]

        bob = sign_up("bob", "Bob Brown", cls.a["qr_url"])
        carol = sign_up("carol", "Carol Smith", bob)  # bob: 2 points, level 1
        sign_up("dave", "张三", carol)  # carol: 2 points; bob: 1 point, level 2
        for n, (who, amount) in enumerate((("dave", "100"), ("bob", "40"))):
            st, _, body = cls.srv.request(
                "POST", "/api/v1/conversions",
                body=json.dumps({"email": f"{who}@example.com", "amount": amount,
                                 "order_id": f"P-{n}"}),
                headers={"Authorization": f"Bearer {cls.token}",
                         "Content-Type": "application/json"})
            assert st == 201, body

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def page(self, browser, whose):
        st, _, body = browser.get(f"/r/{self.codes[whose]}")
        self.assertEqual(st, 200)
        return body.decode()

    def test_1_own_browser_sees_points_tier_and_from_whom(self):
        page = self.page(self.browsers["bob"], "bob")
        self.assertIn('id="own"', page)
        self.assertIn('data-points="3"', page)  # 2 for carol, 1 for dave (level 2)
        self.assertIn('data-tier="银卡"', page)  # spent 40 ≥ 30
        self.assertIn('data-spend="40.00"', page)
        self.assertIn('data-commission="5.00"', page)  # 5% of dave's 100, level 2
        # Money as the dashboard shows it, in the deployment's currency (SHARECARD_CURRENCY).
        self.assertIn('data-commission="5.00" data-currency="USD">$5.00</dd>', page)
        self.assertIn('data-spend="40.00" data-currency="USD">$40.00</dd>', page)
        own = page.split('id="own"', 1)[1]
        rows = own.split('id="earned"', 1)[1]
        # Each reward: level, whom it came from (first name, or masked), amount, status.
        self.assertIn('<tr data-level="1" data-status="approved"><td>1</td>'
                      '<td class="who">Carol</td>', rows)
        self.assertEqual(rows.count('<td class="who">张**</td>'), 2)  # sign-up and purchase
        self.assertIn('<td class="n">$5.00</td>', rows)  # dave's purchase, level 2
        for full in ("Smith", "张三", "carol@example.com", "dave@example.com"):
            self.assertNotIn(full, page)
        # The public part is there too.
        self.assertIn(f"/r/{self.codes['bob']}/qr.svg", page)

    def test_2_other_browsers_see_the_public_page_only(self):
        fresh = Browser(self.srv)
        for who, page in (("a fresh browser", self.page(fresh, "bob")),
                          ("carol's browser", self.page(self.browsers["carol"], "bob"))):
            self.assertIn(f"/r/{self.codes['bob']}/qr.svg", page, who)
            for private in ('id="own"', "data-points", "Carol", "张", "40.00"):
                self.assertNotIn(private, page, who)
        # Carol's own page shows hers: 2 points for dave, 10% of his order.
        page = self.page(self.browsers["carol"], "carol")
        self.assertIn('data-points="2"', page)
        self.assertIn('data-commission="10.00"', page)
        self.assertNotIn('data-tier="银卡"', page)  # no purchase of her own
        # A cookie that is not the customer's (a forged one) sees nothing private either.
        forged = Browser(self.srv)
        forged.cookie = self.browsers["bob"].cookie[:-2] + ("AA" if not self.browsers[
            "bob"].cookie.endswith("AA") else "BB")
        st, _, body = forged.get(f"/r/{self.codes['bob']}")
        self.assertEqual(st, 200)
        self.assertNotIn('id="own"', body.decode())

    def test_3_in_chinese(self):
        page = self.page(self.browsers["bob"], "bob")
        st, _, body = self.browsers["bob"].get(f"/r/{self.codes['bob']}",
                                               headers={"Accept-Language": "zh-CN"})
        zh = body.decode()
        self.assertIn('id="own"', zh)
        for en in ("Your rewards", "What you earned", "Points", "Status"):
            self.assertIn(en, page)
            self.assertNotIn(en, zh)


class WelcomeGiftInTheBalance(unittest.TestCase):
    """Issue 19 beside issue 14: a sign-up through a customer's link credits level 1, level 2
    and the new customer's welcome gift; welcome points are points everywhere the customer's
    points show: their own page's balance (as the API's `points`), their list of what they
    earned, and the customer's timeline for the salesperson (never money, never a purchase);
    with SHARECARD_TIERS_BY=points the tier follows those points."""

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1", "SHARECARD_HOLD_DAYS": "0",
                                      "SHARECARD_WELCOME": "points:100",
                                      "SHARECARD_TIERS": "basic:0,silver:101",
                                      "SHARECARD_TIERS_BY": "points",
                                      "SHARECARD_CURRENCY": "USD"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "admin@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
        cls.token = harness.sharecard("token", "create", "--email", "admin@example.com",
                                      db=db).stdout.strip()
        cls.a = harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice")
        cls.srv.start()
        cls.bob_browser = Browser(cls.srv)
        st, _, body = cls.bob_browser.join(cls.a["qr_url"], "alice", name="Bob Brown",
                                           email="bob@example.com")
        assert st == 201, body
        cls.bob = json.loads(body)
        st, _, body = Browser(cls.srv).join(cls.bob["referral_url"], "alice",
                                            name="Carol Smith", email="carol@example.com")
        assert st == 201, body
        cls.carol = json.loads(body)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def api(self, path):
        st, _, body = self.srv.request("GET", path,
                                       headers={"Authorization": f"Bearer {self.token}"})
        self.assertEqual(st, 200, body)
        return json.loads(body)

    def test_1_customers_link_credits_both_levels_and_the_welcome(self):
        cid = self.carol["customer_id"]
        rows = sorted((r["level"], r["party"]["type"], r["party"]["id"], r["kind"], r["amount"])
                      for r in self.api("/api/v1/rewards") if r["customer_id"] == cid)
        self.assertEqual(rows, [(0, "customer", cid, "welcome", 100),
                                (1, "customer", self.bob["customer_id"], "signup", 2),
                                (2, "member", self.a["id"], "signup", 1)])

    def test_2_own_page_counts_welcome_points_as_the_api_does(self):
        rows = {c["id"]: c for c in self.api("/api/v1/customers")}
        bob, carol = rows[self.bob["customer_id"]], rows[self.carol["customer_id"]]
        self.assertEqual(bob["points"], 102)  # welcome 100 + 2 for carol
        # SHARECARD_TIERS_BY=points: tiers by points, not spend (neither has bought anything).
        self.assertEqual((bob["tier"], carol["points"], carol["tier"]), ("silver", 100, "basic"))
        code = self.bob["referral_url"].rsplit("/", 1)[1]
        st, _, body = self.bob_browser.get(f"/r/{code}")
        self.assertEqual(st, 200)
        own = body.decode().split('id="own"', 1)[1]
        self.assertIn('data-points="102"', own)
        self.assertIn('data-tier="silver"', own)
        rows = own.split('id="earned"', 1)[1]
        welcome = re.search(r'<tr data-level="0"[^>]*>(.*?)</tr>', rows)
        self.assertIsNotNone(welcome, rows)
        self.assertIn("Welcome gift", welcome.group(1))
        self.assertIn('<td class="n">100 points</td>', welcome.group(1))
        self.assertNotIn("$", welcome.group(1))

    def test_3_timeline_tells_the_welcome_gift_in_points(self):
        s = Session(self.srv, ip="198.51.100.7")
        st, _, _ = s.login("admin@example.com", "admin-password-1")
        self.assertEqual(st, 303)
        st, _, page = s.get(f"/customers/{self.bob['customer_id']}")
        self.assertEqual(st, 200)
        timeline = page.split('id="timeline"', 1)[1]
        self.assertIn("Welcome gift 100 points", timeline)
        self.assertIn("Earned 2 points", timeline)  # for bringing carol
        self.assertNotIn("$1.00", timeline)


if __name__ == "__main__":
    harness.main()
