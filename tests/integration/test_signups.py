"""Sign-ups, attribution and rewards over real HTTP (DESIGN.md §4).

The chain member A -> customer B -> customer C must credit B at level 1 and
A at level 2; repeats, missing CSRF tokens, bots and one's own links must
credit nobody who should not be; conversions are idempotent."""

import csv
import http.client
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

from harness import PHONE_UA, Browser  # noqa: E402,F401 (re-exported)


class Signups(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_HOLD_DAYS": "14", "SHARECARD_TRUST_PROXY": "1"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "admin@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
        cls.token = harness.sharecard("token", "create", "--email", "admin@example.com",
                                      db=db).stdout.strip()
        cls.a = harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice",
                                   "--role", "sales", "--team", "east")
        cls.other = harness.add_member(db, "Olga Other", "olga@example.com", "--slug", "olga",
                                       "--team", "west")
        cls.olga_token = harness.sharecard("token", "create", "--email", "olga@example.com",
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

    def signups(self):
        st, _, body = self.api("GET", "/api/v1/signups")
        self.assertEqual(st, 200)
        return {s["email"] or s["phone"]: s for s in json.loads(body)}

    def rewards(self):
        st, _, body = self.api("GET", "/api/v1/rewards")
        self.assertEqual(st, 200)
        return json.loads(body)

    def test_1_two_level_chain_and_ledger(self):
        b = Browser(self.srv)
        page = b.open_link(self.a["qr_url"])
        st, _, body = b.sign_up(page, "alice", name="Bob Customer", email="Bob@Example.com ",
                                phone="138 0013 8000")
        self.assertEqual(st, 201, body)
        jb = json.loads(body)
        self.assertEqual(jb["level1"], {"type": "member", "id": self.a["id"],
                                        "name": "Alice Member"})
        self.assertIsNone(jb["level2"])
        self.assertEqual(jb["rule"], "last_touch")
        self.assertRegex(jb["referral_url"], rf"^{re.escape(self.srv.base)}/l/[a-z0-9]{{8}}$")

        c = Browser(self.srv, ua=PHONE_UA.replace("17_4", "16_1"))
        page = c.open_link(jb["referral_url"])
        self.assertIn("Alice Member", page)  # B's link opens the card B signed up on
        st, _, body = c.sign_up(page, "alice", name="张三", email="carol@example.com")
        self.assertEqual(st, 201, body)
        jc = json.loads(body)
        self.assertEqual(jc["level1"]["type"], "customer")
        self.assertEqual(jc["level1"]["id"], jb["customer_id"])
        self.assertEqual(jc["level1"]["name"], "Bob Customer")
        self.assertEqual(jc["level2"], {"type": "member", "id": self.a["id"],
                                        "name": "Alice Member"})

        s = self.signups()
        self.assertEqual(s["bob@example.com"]["phone"], "+8613800138000")
        self.assertEqual(s["carol@example.com"]["name"], "张三")
        self.assertEqual(s["carol@example.com"]["level1"]["id"], jb["customer_id"])
        self.assertEqual(s["carol@example.com"]["level2"]["id"], self.a["id"])
        self.assertEqual(s["carol@example.com"]["link"], jb["referral_url"].rsplit("/", 1)[1])
        self.assertEqual(s["carol@example.com"]["card"], "alice")

        led = [r for r in self.rewards() if r["customer_id"] == jc["customer_id"]]
        self.assertEqual(sorted((r["level"], r["party"]["type"], r["party"]["id"], r["amount"],
                                 r["kind"], r["status"]) for r in led),
                         [(1, "customer", jb["customer_id"], 2, "signup", "pending"),
                          (2, "member", self.a["id"], 1, "signup", "pending")])

        # Conversions: commissions to C's chain, idempotent on order_id.
        for _ in range(2):
            st, _, body = self.api("POST", "/api/v1/conversions",
                                   {"email": "Carol@example.com", "amount": 199.99,
                                    "order_id": "ORD-1"})
            self.assertEqual(st, 201, body)
        self.assertTrue(json.loads(body)["replayed"])
        com = sorted((r["level"], r["amount"]) for r in self.rewards()
                     if r["kind"] == "commission")
        self.assertEqual(com, [(1, 2000), (2, 1000)])  # 10 % and 5 % of 199.99, rounded
        self.assertEqual(harness.scalar(self.srv.db, "SELECT count(*) FROM conversions"), 1)
        # Balances are the sum of their rows.
        bal = dict(harness.query(self.srv.db, "SELECT party_type || ':' || party_id, sum(amount) "
                                 "FROM rewards WHERE kind = 'signup' GROUP BY 1"))
        self.assertEqual(bal[f"1:{self.a['id']}"], 2 + 1)
        self.assertEqual(bal[f"2:{jb['customer_id']}"], 2)
        st, _, _ = self.api("POST", "/api/v1/conversions",
                            {"email": "nobody@example.com", "amount": 5, "order_id": "ORD-2"})
        self.assertEqual(st, 404)

        # The thank-you page is the customer's own referral page, with a QR that scans.
        st, h, _ = c.join(self.a["qr_url"], "alice", json_answer=False,
                          name="Dave", phone="+44 20 7946 0001")
        self.assertEqual(st, 303)
        self.assertRegex(h["location"], r"^/r/[a-z0-9]{8}$")
        st, _, page = c.get(h["location"])
        self.assertEqual(st, 200)
        code = h["location"].rsplit("/", 1)[1]
        self.assertIn(f"{self.srv.base}/l/{code}", page.decode())
        st, _, png = c.get(f"{h['location']}/qr.png")
        self.assertEqual(st, 200)
        with tempfile.NamedTemporaryFile(suffix=".png") as f:
            f.write(png)
            f.flush()
            out = subprocess.run(["zbarimg", "-q", "--raw", f.name], capture_output=True,
                                 text=True).stdout.strip()
        self.assertEqual(out, f"{self.srv.base}/l/{code}")

    def test_2_duplicate_person_is_409_and_changes_nothing(self):
        b = Browser(self.srv)
        page = b.open_link(self.a["qr_url"])
        st, _, _ = b.sign_up(page, "alice", name="Erin", email="erin@example.com")
        self.assertEqual(st, 201)
        before = (len(self.signups()), len(self.rewards()))
        for fields in ({"email": "ERIN@example.com "}, {"email": "x@example.com",
                                                       "phone": "+8613900000001"}):
            other = Browser(self.srv)
            p2 = other.open_link(self.a["qr_url"])
            if "phone" in fields:
                st, _, _ = other.sign_up(p2, "alice", name="First", phone="139 0000 0001")
                self.assertEqual(st, 201)
                before = (len(self.signups()), len(self.rewards()))
            st, _, body = other.sign_up(p2, "alice", name="Again", **fields)
            self.assertEqual(st, 409, body)
            self.assertIn("already signed up", json.loads(body)["error"]["message"])
            self.assertEqual((len(self.signups()), len(self.rewards())), before)

    def test_3_csrf_and_validation(self):
        b = Browser(self.srv)
        page = b.open_link(self.a["qr_url"])
        st, _, _ = b.post("/c/alice/signup", {"name": "X", "email": "x1@example.com",
                                              "consent": "yes"})
        self.assertEqual(st, 403)
        st, _, _ = b.post("/c/alice/signup", {"name": "X", "email": "x1@example.com",
                                              "consent": "yes", "csrf": "forged"})
        self.assertEqual(st, 403)
        stranger = Browser(self.srv)  # someone else's token does not work either
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        st, _, _ = stranger.post("/c/alice/signup", {"name": "X", "email": "x1@example.com",
                                                     "consent": "yes", "csrf": csrf})
        self.assertEqual(st, 403)
        cases = [
            ({"name": "X", "email": "not-an-email"}, "valid email"),
            ({"name": "X", "phone": "12"}, "valid phone"),
            ({"name": "", "email": "y@example.com"}, "your name"),
            ({"name": "X" * 101, "email": "y@example.com"}, "your name"),
            ({"name": "X"}, "phone number or an email"),
            ({"name": "X", "email": "y@example.com", "consent": ""}, "tick the box"),
        ]
        for fields, needle in cases:
            st, _, body = b.sign_up(page, "alice", **fields)
            self.assertEqual(st, 422, fields)
            self.assertIn(needle, json.loads(body)["error"]["message"], fields)
        # In Chinese for a Chinese browser.
        st, _, body = b.sign_up(page, "alice", name="X", email="bad")
        h = {"User-Agent": PHONE_UA, "Cookie": f"sc_vid={b.cookie}",
             "Accept": "application/json", "Accept-Language": "zh-CN",
             "Content-Type": "application/x-www-form-urlencoded"}
        st, _, body = self.srv.request("POST", "/c/alice/signup", headers=h,
                                       body=urllib.parse.urlencode({"csrf": csrf, "name": "X",
                                                                    "email": "bad",
                                                                    "consent": "yes"}))
        self.assertEqual(st, 422)
        self.assertIn("邮箱", json.loads(body)["error"]["message"])
        self.assertNotIn("y@example.com", self.signups())

    def test_4_bot_touch_credits_nobody(self):
        # B's link is unfurled by a chat app; a person then signs up on Alice's card
        # with no touch of their own: Alice is credited by card_owner, never B.
        b = Browser(self.srv)
        page = b.open_link(self.a["qr_url"])
        st, _, body = b.sign_up(page, "alice", name="Frank", email="frank@example.com")
        frank = json.loads(body)
        bot = Browser(self.srv, ua="facebookexternalhit/1.1")
        st, h, _ = bot.get(f"/l/{frank['referral_url'].rsplit('/', 1)[1]}")
        self.assertEqual(st, 302)
        bot.get(h["location"])
        person = Browser(self.srv)
        st, _, page = person.get("/c/alice")
        st, _, body = person.sign_up(page.decode(), "alice", name="Gina",
                                     email="gina@example.com")
        g = json.loads(body)
        self.assertEqual(g["rule"], "card_owner")
        self.assertEqual(g["level1"]["id"], self.a["id"])
        self.assertEqual(g["level1"]["type"], "member")
        # And the bot, signing up itself, is not credited to B either.
        st, _, page = bot.get("/c/alice")
        st, _, body = bot.sign_up(page.decode(), "alice", name="Bot", email="bot@example.com")
        self.assertEqual(json.loads(body)["rule"], "card_owner")

    def test_5_own_link_is_ignored(self):
        b = Browser(self.srv)
        page = b.open_link(self.a["qr_url"])
        st, _, body = b.sign_up(page, "alice", name="Hank", email="hank@example.com")
        hank = json.loads(body)
        # Hank opens his own link and signs up a second person from his phone.
        page = b.open_link(hank["referral_url"])
        st, _, body = b.sign_up(page, "alice", name="Hank's wife", email="hw@example.com")
        self.assertEqual(st, 201)
        hw = json.loads(body)
        self.assertNotEqual((hw["level1"] or {}).get("id"), hank["customer_id"])
        self.assertEqual(hw["level1"]["id"], self.a["id"])  # Alice's QR, his earlier touch
        self.assertIn("self_referral_ignored", self.signups()["hw@example.com"]["notes"])

    def test_6_fraud_signals_hold_rewards(self):
        b = Browser(self.srv)
        page = b.open_link(self.a["qr_url"])
        st, _, body = b.sign_up(page, "alice", name="Ivy", email="ivy@mailinator.com")
        self.assertEqual(st, 201)
        ivy = json.loads(body)
        held = [r for r in self.rewards() if r["customer_id"] == ivy["customer_id"]]
        self.assertTrue(held)
        self.assertTrue(all(r["status"] == "hold" and r["reason"] == "disposable_email"
                            for r in held))
        # A friend "referred" from the referrer's own network: held for review.
        st, _, body = b.join(self.a["qr_url"], "alice", name="Jo",
                             email="jo@example.com")
        jo = json.loads(body)
        friend = Browser(self.srv, ip=b.ip.rsplit(".", 1)[0] + ".99")  # same /24
        page = friend.open_link(jo["referral_url"])
        st, _, body = friend.sign_up(page, "alice", name="Kim", email="kim@example.com")
        kim = json.loads(body)
        self.assertEqual(kim["level1"]["id"], jo["customer_id"])
        held = [r for r in self.rewards() if r["customer_id"] == kim["customer_id"]]
        self.assertEqual({(r["status"], r["reason"]) for r in held},
                         {("hold", "same_network_as_referrer")})

    def test_7_roles_and_csv(self):
        st, _, body = self.api("GET", "/api/v1/signups", token=self.olga_token)
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(body), [])  # Olga sees only her own card's sign-ups
        st, _, _ = self.api("POST", "/api/v1/conversions",
                            {"email": "bob@example.com", "amount": 1, "order_id": "O-9"},
                            token=self.olga_token)
        self.assertEqual(st, 403)
        st, _, _ = self.srv.request("GET", "/api/v1/signups")
        self.assertEqual(st, 401)
        st, h, body = self.api("GET", "/api/v1/signups?format=csv")
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("text/csv"))
        self.assertTrue(body.startswith(b"\xef\xbb\xbf"))
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
        st, _, js = self.api("GET", "/api/v1/signups")
        js = json.loads(js)
        self.assertEqual(len(rows), len(js))
        for r, j in zip(rows, js):
            self.assertEqual(r["name"], j["name"])
            self.assertEqual(r["rule"], j["rule"])
            self.assertEqual(r["email"], j["email"] or "")
        st, _, body = self.api("GET", "/api/v1/rewards?format=csv")
        self.assertEqual(st, 200)
        self.assertEqual(len(list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))),
                         len(self.rewards()))

    def test_9_customer_shares_as_customer(self):
        b = Browser(self.srv)
        page = b.open_link(self.a["qr_url"])
        st, _, body = b.sign_up(page, "alice", name="Lena", email="lena@example.com")
        lena = json.loads(body)
        st, _, body = b.post("/c/alice/share", {"channel": "wechat"}, json_answer=True)
        self.assertEqual(st, 201)
        shared = json.loads(body)
        friend = Browser(self.srv)
        page = friend.open_link(shared["url"])
        st, _, body = friend.sign_up(page, "alice", name="Mo", email="mo@example.com")
        mo = json.loads(body)
        self.assertEqual((mo["level1"]["type"], mo["level1"]["id"]),
                         ("customer", lena["customer_id"]))
        self.assertEqual(mo["level2"]["id"], self.a["id"])

    def test_9b_erasure_on_request(self):
        x = Browser(self.srv)
        st, _, body = x.join(self.a["qr_url"], "alice", name="Xena Erase",
                             email="xena@example.com", phone="138 0000 9999")
        xena = json.loads(body)
        y = Browser(self.srv)
        st, _, body = y.join(xena["referral_url"], "alice", name="Yuri",
                             email="yuri@example.com")
        self.assertEqual(json.loads(body)["level1"]["id"], xena["customer_id"])
        harness.sharecard("customer", "erase", "--email", "XENA@example.com", db=self.srv.db)
        s = self.signups()
        self.assertNotIn("xena@example.com", s)
        self.assertNotIn("+8613800009999", s)
        self.assertEqual(s["yuri@example.com"]["level1"]["name"], "erased")
        self.assertEqual(s["yuri@example.com"]["level1"]["id"], xena["customer_id"])
        mine = [r for r in self.rewards() if r["party"]["type"] == "customer"
                and r["party"]["id"] == xena["customer_id"]]
        self.assertTrue(mine)
        self.assertTrue(all(r["status"] == "void" and r["reason"] == "erasure" for r in mine))
        vids = [r[0] for r in harness.query(self.srv.db, "SELECT vid FROM visitors WHERE vid = ?",
                                            ("c:" + x.cookie,))]
        audit = harness.query(self.srv.db, "SELECT actor, action, target FROM audit "
                              "WHERE action = 'customer.erase'")
        self.assertEqual(vids, [])  # the browser no longer leads to the person
        if not harness.is_pg(self.srv.db):  # nor does its key lead to the old visitor id
            self.assertEqual(harness.scalar(self.srv.db, "SELECT count(*) FROM visitor_keys "
                                            "WHERE key = ?", (harness.visitor_key("c:" + x.cookie),)),
                             0)
        self.assertEqual(audit, [("cli", "customer.erase", f"customer:{xena['customer_id']}")])
        p = harness.sharecard("customer", "erase", "--email", "xena@example.com",
                              db=self.srv.db, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no customer with the email", p.stderr)

    def test_8_bad_conversion_bodies(self):
        for body in ("not json", "[]", '{"amount": 5}', '{"order_id": "x", "amount": -1, '
                     '"email": "bob@example.com"}', '{"order_id": "x", "amount": "NaN", '
                     '"email": "bob@example.com"}', '{"order_id": "x", "amount": 5}'):
            st, _, msg = self.srv.request("POST", "/api/v1/conversions", body=body,
                                          headers={"Authorization": f"Bearer {self.token}",
                                                   "Content-Type": "application/json"})
            self.assertEqual(st, 400, body)


class Velocity(unittest.TestCase):
    def test_a_burst_on_one_link_is_held(self):
        srv = harness.Server(env={"SHARECARD_VELOCITY": "2", "SHARECARD_TRUST_PROXY": "1"})
        try:
            a = harness.add_member(srv.db, "Vel", "vel@example.com", "--slug", "vel")
            srv.start()
            statuses = []
            for i in range(4):
                b = Browser(srv)
                page = b.open_link(a["qr_url"])
                st, _, body = b.sign_up(page, "vel", name=f"P{i}", email=f"p{i}@example.com")
                self.assertEqual(st, 201)
                statuses.append(json.loads(body)["customer_id"])
            got = [r[0] for r in harness.query(
                srv.db, "SELECT status FROM rewards ORDER BY customer_id")]
            self.assertEqual(got, ["pending", "pending", "hold", "hold"])
            # A manager looks and decides: approve one held row, void the other.
            held = [r[0] for r in harness.query(
                srv.db, "SELECT id FROM rewards WHERE status = 'hold' ORDER BY id")]
            harness.sharecard("reward", "approve", str(held[0]), db=srv.db)
            harness.sharecard("reward", "void", str(held[1]), "--reason", "fraud", db=srv.db)
            p = harness.sharecard("reward", "void", str(held[1]), db=srv.db, check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("no pending or held ledger row", p.stderr)
            got = harness.query(srv.db, "SELECT status, reason FROM rewards ORDER BY customer_id")
            self.assertEqual(got[2:], [("approved", "velocity"), ("void", "fraud")])
            srv.stop()
        finally:
            srv.cleanup()



class VisitorMeetsTheForm(unittest.TestCase):
    """Issue 17: what a visitor meets on the sign-up form and after it."""

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1"})
        harness.sharecard("init", "--admin-email", "admin@example.com", db=cls.srv.db,
                          env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
        cls.card = harness.add_member(cls.srv.db, "Vera Visit", "vera@example.com", "--slug",
                                      "vera")
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def test_form_marks_consent_required_with_a_contact_wording(self):
        page = Browser(self.srv).open_link(self.card["qr_url"])
        self.assertRegex(page, r'<input type="checkbox" name="consent" value="yes" required>')
        self.assertIn("contacted about my enquiry", page)
        self.assertNotIn("offer", page)
        self.assertIn('id="signup-error" role="alert" hidden', page)

    def test_errors_name_their_field_for_the_form(self):
        b = Browser(self.srv)
        page = b.open_link(self.card["qr_url"])
        for fields, field in (({"name": "X", "phone": "12"}, "phone"),
                              ({"name": "", "email": "z@example.com"}, "name"),
                              ({"name": "X", "email": "bad"}, "email"),
                              ({"name": "X", "email": "z@example.com", "consent": ""}, "consent")):
            st, _, body = b.sign_up(page, "vera", **fields)
            self.assertEqual(st, 422, fields)
            self.assertEqual(json.loads(body)["error"]["field"], field)

    def test_without_script_an_error_comes_back_on_the_form_with_the_fields_kept(self):
        # A plain form POST (no Accept: application/json), as a browser without script
        # sends it: the card page again, 422, the message at the form, the field marked,
        # what was typed kept, and a form that can be sent again as it is.
        b = Browser(self.srv)
        page = b.open_link(self.card["qr_url"])
        for fields, field, message in (
                ({"name": "Nora <No JS>", "email": "nora@example.com", "consent": ""},
                 "consent", "tick the box"),
                ({"name": "Nora <No JS>", "email": "not-an-email", "phone": "+44 20 7946 0002"},
                 "email", "valid email")):
            st, hd, body = b.sign_up(page, "vera", json_answer=False, **fields)
            body = body.decode()
            self.assertEqual(st, 422, fields)
            self.assertTrue(hd.get("content-type", "").startswith("text/html"))
            self.assertIn('<section id="signup" class="signup">', body)
            err = re.search(r'<p class="form-error" id="signup-error" role="alert">([^<]+)</p>',
                            body)
            self.assertIsNotNone(err, body[-2000:])
            self.assertIn(message, err.group(1).lower())
            self.assertRegex(body, r'<input[^>]*name="%s"[^>]*aria-invalid="true" autofocus'
                             % field)
            self.assertEqual(len(re.findall(r'aria-invalid="true"', body)), 1)
            self.assertIn('name="name" required maxlength="100" autocomplete="name" '
                          'value="Nora &lt;No JS&gt;"', body)
            self.assertRegex(body, r'name="email"[^>]*value="%s"' % re.escape(fields["email"]))
            self.assertEqual('value="yes" required checked' in body, bool(fields.get("consent",
                                                                                     "yes")))
            if "phone" in fields:
                self.assertIn('value="+44 20 7946 0002"', body)
            page = body  # its token works for the next try
        st, hd, _ = b.sign_up(page, "vera", json_answer=False, name="Nora",
                              email="nora@example.com")
        self.assertEqual(st, 303)
        self.assertTrue(hd.get("location", "").startswith("/r/"))

    def test_text_that_is_not_text_comes_back_on_the_form_too(self):
        # Issue 16's check (not UTF-8, or a control character) answered as the form's other
        # errors (issue 17): without script the card page, 422, the field marked and its
        # value not sent back, the rest kept; with script JSON naming the field.  Nothing
        # is stored.
        b = Browser(self.srv)
        page = b.open_link(self.card["qr_url"])
        for fields, field, message in (
                ({"name": "Mallory", "email": b"\xff@example.org"}, "email", "email address"),
                ({"name": "Mal\x01lory", "email": "mal@example.org"}, "name", "your name"),
                ({"name": "Mallory", "phone": "138\x0b0013", "email": "mal@example.org"},
                 "phone", "phone number")):
            st, hd, body = b.sign_up(page, "vera", json_answer=False, **fields)
            body = body.decode()
            self.assertEqual(st, 422, fields)
            self.assertIn('<section id="signup" class="signup">', body)
            err = re.search(r'<p class="form-error" id="signup-error" role="alert">([^<]+)</p>',
                            body)
            self.assertIsNotNone(err, body[-1500:])
            self.assertIn(message, err.group(1).lower())
            self.assertIn("not text", err.group(1))
            self.assertRegex(body, r'<input[^>]*name="%s"[^>]*value=""[^>]*aria-invalid="true"'
                             % field)
            self.assertNotIn("\x01", body)
            self.assertNotIn("\x0b", body)
            if field != "name":
                self.assertIn('value="Mallory"', body)
            st, _, j = b.sign_up(page, "vera", **fields)
            self.assertEqual(st, 422)
            self.assertEqual(json.loads(j)["error"]["field"], field)
            self.assertEqual(json.loads(j)["error"]["code"], f"{field}_text")
        self.assertEqual(harness.scalar(self.srv.db, "SELECT count(*) FROM customers WHERE "
                                        "email LIKE '%example.org'"), 0)
        # Any other field that is not text keeps the bare 422 naming it.
        st, _, body = b.sign_up(page, "vera", json_answer=False, name="M", email="m@example.org",
                                consent=b"\xff")
        self.assertEqual(st, 422)
        self.assertIn("consent", body.decode())

    def test_repeat_from_the_same_browser_leads_back_to_the_referral_page(self):
        b = Browser(self.srv)
        page = b.open_link(self.card["qr_url"])
        st, _, body = b.sign_up(page, "vera", name="Rita Repeat", email="rita@example.com",
                                phone="+44 20 7946 0001")
        self.assertEqual(st, 201)
        code = json.loads(body)["referral_url"].rsplit("/", 1)[1]
        # The thank-you page says what she earns and where to see it.
        st, _, thanks = b.get(f"/r/{code}")
        thanks = thanks.decode()
        self.assertIn("You earn 2 points for every friend", thanks)
        self.assertIn(f'href="{self.srv.base}/r/{code}"', thanks)
        # Again from this browser, by e-mail or by phone: the way back.
        page = b.open_link(self.card["qr_url"])
        for contact in ({"email": "RITA@example.com"}, {"phone": "+44 2079 460001",
                                                        "email": ""}):
            st, _, body = b.sign_up(page, "vera", name="Rita", **contact)
            self.assertEqual(st, 409, contact)
            j = json.loads(body)
            self.assertEqual(j["error"]["code"], "already")
            self.assertEqual(j["referral_page"], f"/r/{code}")
        st, hd, _ = b.sign_up(page, "vera", json_answer=False, name="Rita",
                              email="rita@example.com")
        self.assertEqual((st, hd.get("location")), (303, f"/r/{code}"))
        # Another browser typing her e-mail learns nothing of her link.
        other = Browser(self.srv)
        p2 = other.open_link(self.card["qr_url"])
        st, _, body = other.sign_up(p2, "vera", name="Mallory", email="rita@example.com")
        self.assertEqual(st, 409)
        self.assertNotIn(code, body.decode())
        self.assertNotIn("referral_page", json.loads(body))
        self.assertIn("browser you signed up with", json.loads(body)["error"]["message"])
        st, _, page_html = other.sign_up(p2, "vera", json_answer=False, name="Mallory",
                                         email="rita@example.com")
        self.assertEqual(st, 409)
        self.assertNotIn(code, page_html.decode())

    def test_consent_wording_is_the_deployments(self):
        srv = harness.Server(env={
            "SHARECARD_CONSENT_TEXT": "I agree that Example Ltd may call me back.",
            "SHARECARD_CONSENT_TEXT_ZH": "我同意示例公司回电联系我。"})
        try:
            harness.add_member(srv.db, "Carl Consent", "carl@example.com", "--slug", "carl")
            srv.start()
            _, _, en = srv.request("GET", "/c/carl", headers={"Accept-Language": "en"})
            _, _, zh = srv.request("GET", "/c/carl", headers={"Accept-Language": "zh-CN"})
            self.assertIn("I agree that Example Ltd may call me back.", en.decode())
            self.assertIn("我同意示例公司回电联系我。", zh.decode())
            srv.stop()
            env = dict(os.environb)
            env[b"SHARECARD_CONSENT_TEXT"] = b"bad \xff text"
            p = subprocess.run([harness.BIN, f"--db={srv.db}", "serve", "--listen",
                                "127.0.0.1:0"], capture_output=True, env=env, timeout=30)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"SHARECARD_CONSENT_TEXT must be", p.stderr)
        finally:
            srv.cleanup()


if __name__ == "__main__":
    harness.main()
