"""Issue 19 over real HTTP: the new customer's welcome gift and coupons.

A sign-up through a member's link credits level 1 and the new customer's
welcome reward on the same ledger (held with the others when the sign-up is
held); the customer's own browser sees it on their referral page, nobody
else does.  A welcome coupon is listed for the shop, redeemed once with an
order, refused the second time (409), when expired (410), unknown (404) or
mistyped (400), each with its reason and nothing stored; an erased
customer's coupon is void.  SHARECARD_REWARDS sets the rules per level, a
monthly cap and a minimum order; a change is a new, audited version that
applies to new sign-ups only.  A malformed SHARECARD_WELCOME or
SHARECARD_REWARDS stops the server at start with the reason."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_signups import Browser  # noqa: E402

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def check_char(payload):
    """Luhn mod 32 over 'payload' (the reference for the code's check character)."""
    total, factor = 0, 2
    for ch in reversed(payload):
        add = factor * ALPHABET.index(ch)
        total += add // 32 + add % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def dashed(s):
    return "-".join(s[i:i + 4] for i in range(0, len(s), 4))


class Base(unittest.TestCase):
    WELCOME = None

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_WELCOME": cls.WELCOME,
                                      "SHARECARD_TRUST_PROXY": "1"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "admin@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
        cls.token = harness.sharecard("token", "create", "--email", "admin@example.com",
                                      db=db).stdout.strip()
        cls.a = harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice",
                                   "--role", "sales", "--team", "east")
        cls.o = harness.add_member(db, "Olga Other", "olga@example.com", "--slug", "olga",
                                   "--role", "sales", "--team", "west")
        cls.olga = harness.sharecard("token", "create", "--email", "olga@example.com",
                                     db=db).stdout.strip()
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def api(self, method, path, body=None, token=None):
        h = {"Authorization": f"Bearer {token or self.token}"}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body)
        return self.srv.request(method, path, body=body, headers=h)

    def sign_up(self, email, slug="alice", member=None):
        b = Browser(self.srv)
        st, _, body = b.join((member or self.a)["qr_url"], slug, name="New " + email.split("@")[0],
                             email=email)
        self.assertEqual(st, 201, body)
        j = json.loads(body)
        return b, j, "/r/" + j["referral_url"].rsplit("/", 1)[1]

    def ledger(self, customer_id):
        st, _, body = self.api("GET", "/api/v1/rewards")
        self.assertEqual(st, 200, body)
        return sorted((r["level"], r["party"]["type"], r["party"]["id"], r["kind"], r["amount"],
                       r["status"]) for r in json.loads(body) if r["customer_id"] == customer_id)


class WelcomePoints(Base):
    WELCOME = "points:100"

    def test_signup_credits_level1_and_welcome(self):
        b, j, page = self.sign_up("bob@example.com")
        cid = j["customer_id"]
        self.assertEqual(self.ledger(cid),
                         [(0, "customer", cid, "welcome", 100, "pending"),
                          (1, "member", self.a["id"], "signup", 2, "pending")])
        # The customer's own browser sees both private sections on their page (the gift and
        # their rewards), kept out of shared caches; a stranger, or another customer's
        # browser, sees neither.
        st, h, html = b.get(page)
        self.assertEqual(st, 200)
        self.assertRegex(html.decode(), r'class="welcome-gift" data-status="pending">'
                                        r'Welcome gift: 100 points')
        self.assertIn('id="my-rewards"', html.decode())
        # One heading per part of the customer's own page (the balance's "Your rewards" is
        # the other part's).
        self.assertEqual(html.decode().count("Your rewards"), 1)
        self.assertIn("Your welcome gift and coupons", html.decode())
        self.assertIn('id="own"', html.decode())
        self.assertIn("private", h.get("cache-control", ""))
        other, _, _ = self.sign_up("dora@example.com")
        for who in (Browser(self.srv), other):
            st, h, html = who.get(page)
            self.assertEqual(st, 200)
            self.assertIn("/l/", html.decode())  # the public page, with the link to share
            for private in ("my-rewards", 'id="own"', "100 points"):
                self.assertNotIn(private, html.decode())
            self.assertNotIn("private", h.get("cache-control", ""))

    def test_held_signup_holds_the_welcome_gift(self):
        b, j, page = self.sign_up("someone@mailinator.com")
        cid = j["customer_id"]
        led = self.ledger(cid)
        self.assertEqual([r[5] for r in led], ["hold", "hold"])
        self.assertEqual(led[0][:5], (0, "customer", cid, "welcome", 100))
        _, _, html = b.get(page)
        self.assertIn('data-status="hold"', html.decode())


class BadWelcome(unittest.TestCase):
    def test_malformed_setting_is_refused_at_start(self):
        srv = harness.Server()
        try:
            for var, bad, reason in (
                    ("SHARECARD_WELCOME", "points:-5", "points:N"),
                    ("SHARECARD_WELCOME", "coupon:50:0", "DAYS"),
                    ("SHARECARD_WELCOME", "coupon:9.999", "AMOUNT"),
                    ("SHARECARD_WELCOME", "coupon:150%", "percent"),
                    ("SHARECARD_WELCOME", "gift", "points:N or coupon"),
                    ("SHARECARD_REWARDS", "l1=points:5,l1=points:6", "l1: given twice"),
                    ("SHARECARD_REWARDS", "l3=points:5", "unknown key"),
                    ("SHARECARD_REWARDS", "l1_commission=120", "l1_commission=120"),
                    ("SHARECARD_REWARDS", "cap_l1_month=x", "cap_l1_month"),
                    ("SHARECARD_REWARDS", "min_order=-3", "min_order")):
                p = harness.sharecard("serve", "--listen", "127.0.0.1:0", db=srv.db,
                                      env={var: bad}, check=False)
                self.assertEqual(p.returncode, 2, (bad, p.stderr))
                self.assertIn(var, p.stderr)
                self.assertIn(reason, p.stderr)
                self.assertNotIn("listening", p.stdout)
            # Orders imported from a file follow the same rules, refused alike.
            harness.sharecard("init", "--admin-email", "admin@example.com", db=srv.db,
                              env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
            p = harness.sharecard("import", "orders", "-", db=srv.db, check=False,
                                  env={"SHARECARD_REWARDS": "min_order=lots"},
                                  input="order_id,amount,email\n")
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("SHARECARD_REWARDS", p.stderr)
            self.assertIn("min_order", p.stderr)
        finally:
            srv.cleanup()


class Rules(Base):
    """SHARECARD_REWARDS: per level, a cap, a minimum order; a change is a new, audited
    version that applies to new sign-ups only."""
    WELCOME = "off"
    RULES = "l1=points:5,l2=coupon:10:7,l1_commission=10,cap_l1_month=2,min_order=100"

    @classmethod
    def setUpClass(cls):
        os.environ["SHARECARD_REWARDS"] = cls.RULES  # read by the server started below
        try:
            super().setUpClass()
        finally:
            del os.environ["SHARECARD_REWARDS"]

    def audit_rules(self):
        st, _, body = self.api("GET", "/api/v1/audit")
        self.assertEqual(st, 200)
        return [a for a in json.loads(body) if a["action"] == "rewards.rules"]

    def test_rules_apply_to_new_signups_only(self):
        # Bob (through Alice), Carol and Dan (through Bob): a coupon to Bob at level 2 for Dan.
        _, bob, _ = self.sign_up("bob@example.com")
        self.assertEqual(self.ledger(bob["customer_id"]),
                         [(1, "member", self.a["id"], "signup", 5, "pending")])
        b = Browser(self.srv)
        st, _, body = b.join(bob["referral_url"], "alice", name="Carol",
                             email="carol@example.com")
        carol = json.loads(body)
        self.assertEqual(self.ledger(carol["customer_id"]),
                         [(1, "customer", bob["customer_id"], "signup", 5, "pending")])
        # Alice's cap of 2 rewarded sign-ups a month: her 3rd is credited, not rewarded.
        _, eve, _ = self.sign_up("eve@example.com")
        _, fay, _ = self.sign_up("fay@example.com")
        self.assertEqual(self.ledger(fay["customer_id"]), [])
        st, _, body = self.api("GET", "/api/v1/signups")
        notes = {x["email"]: x["notes"] for x in json.loads(body)}
        self.assertIn("cap_reached", notes["fay@example.com"])
        self.assertNotIn("cap_reached", notes["eve@example.com"])
        # Level 2 as a coupon goes to a customer (Bob, through Carol's link).
        d = Browser(self.srv)
        st, _, body = d.join(carol["referral_url"], "alice", name="Dan",
                             email="dan@example.com")
        dan = json.loads(body)
        self.assertEqual(self.ledger(dan["customer_id"]),
                         [(1, "customer", carol["customer_id"], "signup", 5, "pending"),
                          (2, "customer", bob["customer_id"], "coupon", 1000, "pending")])
        # The minimum order: 99.99 earns nothing, 100 earns 10 %.
        for oid, amount in (("R-1", 99.99), ("R-2", 100)):
            st, _, body = self.api("POST", "/api/v1/conversions",
                                   {"email": "eve@example.com", "amount": amount,
                                    "order_id": oid})
            self.assertEqual(st, 201, body)
        st, _, body = self.api("GET", "/api/v1/rewards")
        com = [(r["amount"]) for r in json.loads(body) if r["kind"] == "commission"]
        self.assertEqual(com, [1000])
        first = self.audit_rules()
        self.assertEqual(len(first), 1)
        self.assertEqual(first[0]["actor"], "config")
        self.assertIn("l1_commission=10.00", first[0]["detail"])
        v1 = first[0]["target"]

        # A restart with the same rules is no new version; changed rules are one, audited.
        self.srv.stop()
        self.srv.env["SHARECARD_REWARDS"] = self.RULES
        self.srv.start()
        self.assertEqual(len(self.audit_rules()), 1)
        self.srv.stop()
        self.srv.env["SHARECARD_REWARDS"] = "l1_commission=20,min_order=0"
        self.srv.start()
        now = self.audit_rules()
        self.assertEqual(len(now), 2)
        self.assertIn("l1_commission=20.00", [a["detail"] for a in now if a["target"] != v1][0])
        # Eve signed up under the old rules: her purchase earns 10 % still; a new customer's 20 %.
        _, gus, _ = self.sign_up("gus@example.com", member=self.o, slug="olga")
        for body in ({"email": "eve@example.com", "amount": 150, "order_id": "R-3"},
                     {"email": "gus@example.com", "amount": 150, "order_id": "R-4"},
                     {"email": "eve@example.com", "amount": 50, "order_id": "R-5"}):
            st, _, data = self.api("POST", "/api/v1/conversions", body)
            self.assertEqual(st, 201, data)
        st, _, body = self.api("GET", "/api/v1/rewards")
        com = sorted((r["customer_id"], r["amount"]) for r in json.loads(body)
                     if r["kind"] == "commission")
        # Eve: 10 % and the old minimum order (R-5 below it earns nothing); Gus: 20 %.
        self.assertEqual(com, sorted([(eve["customer_id"], 1000), (eve["customer_id"], 1500),
                                      (gus["customer_id"], 3000)]))
        # Each sign-up and reward keeps its version.
        versions = harness.query(self.srv.db, "SELECT DISTINCT rule_version FROM customers "
                                 "WHERE email IN ('eve@example.com', 'gus@example.com') "
                                 "ORDER BY 1")
        self.assertEqual(len(versions), 2)


class Coupons(Base):
    WELCOME = "coupon:50:30"

    def coupons(self, token=None):
        st, _, body = self.api("GET", "/api/v1/coupons", token=token)
        self.assertEqual(st, 200, body)
        return json.loads(body)

    def order(self, email, order_id, coupon=None, amount=199.0):
        body = {"email": email, "amount": amount, "order_id": order_id}
        if coupon is not None:
            body["coupon"] = coupon
        return self.api("POST", "/api/v1/conversions", body)

    def counts(self):
        return tuple(harness.scalar(self.srv.db, f"SELECT count(*) FROM {t}")
                     for t in ("conversions", "rewards", "coupons"))

    def test_1_welcome_coupon_issued_listed_and_shown(self):
        b, j, page = self.sign_up("carol@example.com")
        cid = j["customer_id"]
        self.assertEqual(self.ledger(cid),
                         [(0, "customer", cid, "coupon", 5000, "pending"),
                          (1, "member", self.a["id"], "signup", 2, "pending")])
        mine = [c for c in self.coupons() if c["customer_id"] == cid]
        self.assertEqual(len(mine), 1)
        c = mine[0]
        self.assertRegex(c["code"], r"^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-"
                                    r"[2-9A-HJ-NP-Z]$")
        raw = c["code"].replace("-", "")
        self.assertEqual(check_char(raw[:12]), raw[12])
        self.assertEqual((c["value"], c["kind"], c["redeemed_at"], c["order_id"], c["state"]),
                         (50, "amount", None, None, "usable"))
        # Role-scoped: Olga's token does not see Alice's customers' coupons.
        self.assertNotIn(c["code"], [x["code"] for x in self.coupons(self.olga)])
        # CSV for the shop.
        st, hd, body = self.api("GET", "/api/v1/coupons?format=csv")
        self.assertEqual(st, 200)
        self.assertIn("text/csv", hd["content-type"])
        self.assertIn(c["code"], body.decode("utf-8-sig"))
        # Their own browser: the code, a copy button and a QR of it; a stranger sees none.
        _, _, html = b.get(page)
        html = html.decode()
        self.assertIn(f'data-copy="{c["code"]}"', html)
        self.assertRegex(html, r'<div class="coupon-qr"><svg')
        _, _, other = Browser(self.srv).get(page)
        self.assertNotIn(c["code"], other.decode())
        self.__class__.code, self.__class__.email = c["code"], "carol@example.com"

    def test_2_redeemed_once_then_refused(self):
        before = self.counts()
        st, _, body = self.order(self.email, "C-1", self.code.lower().replace("-", " "))
        self.assertEqual(st, 201, body)
        j = json.loads(body)
        self.assertEqual((j["coupon"], j["coupon_off"]), (self.code, 50))
        after = self.counts()
        self.assertEqual(after[0], before[0] + 1)
        c = [x for x in self.coupons() if x["code"] == self.code][0]
        self.assertEqual((c["order_id"], c["state"]), ("C-1", "redeemed"))
        self.assertIsNotNone(c["redeemed_at"])
        # The same order again is a replay, not a second use.
        st, _, body = self.order(self.email, "C-1", self.code)
        self.assertEqual(st, 201, body)
        self.assertTrue(json.loads(body)["replayed"])
        # A second order with the used code: 409 with the reason, nothing stored.
        st, _, body = self.order(self.email, "C-2", self.code)
        self.assertEqual(st, 409, body)
        self.assertIn("already used", body.decode())
        self.assertEqual(self.counts(), after)

    def test_3_malformed_unknown_expired_other(self):
        _, j, _ = self.sign_up("dan@example.com")
        code = [c for c in self.coupons() if c["customer_id"] == j["customer_id"]][0]["code"]
        raw = code.replace("-", "")
        before = self.counts()
        # One character changed: the check fails, so it is malformed (400), not unknown.
        typo = raw[:3] + ALPHABET[(ALPHABET.index(raw[3]) + 1) % 32] + raw[4:]
        for bad in (dashed(typo), "ABCD-EFGH", "0OI1-AAAA-AAAA-A", 12345, raw + "Z"):
            st, _, body = self.order("dan@example.com", "D-bad", bad)
            self.assertEqual(st, 400, (bad, body))
            self.assertIn("coupon", body.decode())
        # Well formed, but nobody was given it: 404.
        unknown = "ABCDEFGHJKLM"
        st, _, body = self.order("dan@example.com", "D-unknown", dashed(unknown +
                                                                       check_char(unknown)))
        self.assertEqual(st, 404, body)
        self.assertIn("no such coupon", body.decode())
        # Someone else's code: refused.
        _, j2, _ = self.sign_up("erin@example.com")
        st, _, body = self.order("erin@example.com", "E-1", code)
        self.assertEqual(st, 409, body)
        self.assertIn("another customer", body.decode())
        # Expired: 410.
        harness.query(self.srv.db, "UPDATE coupons SET expires_at = 1000 WHERE code = ?", (code,))
        st, _, body = self.order("dan@example.com", "D-late", code)
        self.assertEqual(st, 410, body)
        self.assertIn("expired", body.decode())
        self.assertEqual([c["state"] for c in self.coupons() if c["code"] == code], ["expired"])
        self.assertEqual(self.counts()[0], before[0])
        self.assertEqual(harness.scalar(self.srv.db, "SELECT count(*) FROM coupons "
                                        "WHERE redeemed_at IS NOT NULL AND code <> ?",
                                        (self.code,)), 0)

    def test_4_held_signup_holds_its_coupon(self):
        _, j, _ = self.sign_up("held@mailinator.com")
        c = [c for c in self.coupons() if c["customer_id"] == j["customer_id"]][0]
        self.assertEqual(c["state"], "hold")
        before = self.counts()
        st, _, body = self.order("held@mailinator.com", "H-1", c["code"])
        self.assertEqual(st, 409, body)
        self.assertIn("review", body.decode())
        self.assertEqual(self.counts(), before)

    def test_5_erasure_voids_the_coupon(self):
        _, j, _ = self.sign_up("gone@example.com")
        code = [c for c in self.coupons() if c["customer_id"] == j["customer_id"]][0]["code"]
        harness.sharecard("customer", "erase", "--email", "gone@example.com", db=self.srv.db)
        self.assertEqual([c["state"] for c in self.coupons() if c["code"] == code], ["void"])
        st, _, body = self.order("gone@example.com", "G-1", code)  # the address is gone too
        self.assertEqual(st, 404, body)
        st, _, body = self.api("POST", "/api/v1/conversions",
                               {"customer_id": j["customer_id"], "amount": 10,
                                "order_id": "G-2", "coupon": code})
        self.assertEqual(st, 409, body)
        self.assertIn("voided", body.decode())


class PercentCoupon(Base):
    """A coupon worth a percent of the order: listed as such, and redeemed for that share of
    the order's amount (at most the amount), once."""
    WELCOME = "coupon:10%:30"

    def test_percent_off_the_order(self):
        _, j, _ = self.sign_up("pam@example.com")
        st, _, body = self.api("GET", "/api/v1/coupons")
        c = [c for c in json.loads(body) if c["customer_id"] == j["customer_id"]][0]
        self.assertEqual((c["value"], c["kind"], c["state"]), (10, "percent", "usable"))
        st, _, body = self.api("POST", "/api/v1/conversions",
                               {"email": "pam@example.com", "amount": "199.90",
                                "order_id": "PCT-1", "coupon": c["code"]})
        self.assertEqual(st, 201, body)
        self.assertEqual((json.loads(body)["coupon"], json.loads(body)["coupon_off"]),
                         (c["code"], 19.99))
        st, _, body = self.api("POST", "/api/v1/conversions",
                               {"email": "pam@example.com", "amount": "10",
                                "order_id": "PCT-2", "coupon": c["code"]})
        self.assertEqual(st, 409, body)


if __name__ == "__main__":
    harness.main()
