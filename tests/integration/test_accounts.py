"""Signing in, sessions, roles, and the dashboard's figures (issue 5, first
part): wrong passwords, throttling, CSRF, session expiry, role isolation for
pages and the API, and the dashboard agreeing with the stats API."""

import json
import os
import re
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
      "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
PASSWORDS = {"boss@example.com": "boss-password-1", "mia@example.com": "mia-password-1",
             "sam@example.com": "sam-password-1"}


class Session:
    """A browser: keeps every cookie it is given."""

    def __init__(self, srv, ip="203.0.113.5"):
        self.srv, self.cookies, self.ip = srv, {}, ip

    def _headers(self, extra=None):
        h = {"User-Agent": UA, "X-Forwarded-For": self.ip}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        h.update(extra or {})
        return h

    def _keep(self, headers):
        sc = headers.get("set-cookie")
        if sc:
            for part in sc.split(", "):
                kv = part.split(";", 1)[0]
                if "=" in kv:
                    k, v = kv.split("=", 1)
                    if v:
                        self.cookies[k] = v
                    else:
                        self.cookies.pop(k, None)

    def get(self, path):
        st, h, body = self.srv.request("GET", path, headers=self._headers())
        self._keep(h)
        return st, h, body.decode("utf-8", "replace")

    def post(self, path, fields):
        st, h, body = self.srv.request(
            "POST", path, body=urllib.parse.urlencode(fields),
            headers=self._headers({"Content-Type": "application/x-www-form-urlencoded"}))
        self._keep(h)
        return st, h, body.decode("utf-8", "replace")

    def login(self, email, password=None):
        st, _, page = self.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        return self.post("/login", {"csrf": csrf, "email": email,
                                    "password": password or PASSWORDS[email]})


class Accounts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1",
                                      "SHARECARD_SESSION_IDLE": "3"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "boss@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": PASSWORDS["boss@example.com"]})
        for email, role, team in (("mia@example.com", "manager", "north"),
                                  ("sam@example.com", "sales", "north")):
            harness.sharecard("member", "add", "--name", email.split("@")[0].title(), "--email",
                              email, "--role", role, "--team", team, "--slug",
                              email.split("@")[0] + "-card", db=db)
            harness.sharecard("member", "password", "--email", email, db=db,
                              env={"SHARECARD_PASSWORD": PASSWORDS[email]})
        harness.add_member(db, "Other Team", "olly@example.com", "--team", "south",
                           "--slug", "olly-card")
        cls.token = harness.sharecard("token", "create", "--email", "boss@example.com",
                                      db=db).stdout.strip()
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def test_wrong_password_and_unknown_account_look_the_same(self):
        s = Session(self.srv, ip="198.51.100.1")
        st, _, page = s.login("boss@example.com", "not-the-password")
        self.assertEqual(st, 401)
        self.assertIn("Wrong email or password.", page)
        st, _, page2 = s.login("nobody@example.com", "whatever-password")
        self.assertEqual(st, 401)
        self.assertIn("Wrong email or password.", page2)
        self.assertNotIn("sc_session", s.cookies)

    def test_throttling_after_repeated_failures(self):
        s = Session(self.srv, ip="198.51.100.2")
        codes = [s.login("sam@example.com", f"wrong-{i}")[0] for i in range(6)]
        self.assertEqual(codes[:5], [401] * 5)
        self.assertEqual(codes[5], 429)
        # Even the right password waits now: the account is being guessed at.
        st, _, page = s.login("sam@example.com")
        self.assertEqual(st, 429)
        self.assertIn("Wait 15 minutes", page)

    def test_card_editor(self):
        self.assertEqual(Session(self.srv).get("/me/edit")[0], 303)  # signed out
        sam = Session(self.srv, ip="198.51.100.30")
        sam.login("sam@example.com")
        st, _, page = sam.get("/me/edit")
        self.assertEqual(st, 200)
        self.assertIn('src="/c/sam-card?preview=1"', page)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        fields = {k: v for k, v in re.findall(r'<input name="(\w+)" maxlength="\d+" value="([^"]*)"',
                                               page)}
        self.assertEqual(fields["name"], "Sam")

        # Without the form's token nothing changes.
        st, _, _ = sam.post("/me/edit", dict(fields, title="Forged"))
        self.assertEqual(st, 403)
        # A link with a scheme outside the allow-list is refused, with the reason, and the
        # card keeps what it had.
        st, _, page = sam.post("/me/edit", dict(fields, csrf=csrf, title="Bad",
                                                website="javascript:alert(1)"))
        self.assertEqual(st, 422)
        self.assertIn('class="error"', page)
        st, _, card = sam.get("/c/sam-card")
        self.assertNotIn("Bad", card)

        st, h, _ = sam.post("/me/edit", dict(fields, csrf=csrf, title="区域销售经理",
                                             company="Acme & Sons", lang="zh-CN",
                                             website="https://acme.example"))
        self.assertEqual((st, h["location"]), (303, "/me/edit?saved=1"))
        st, _, page = sam.get("/me/edit?saved=1")
        self.assertIn("Saved.", page)
        self.assertIn('value="区域销售经理"', page)
        st, _, card = self.srv.request("GET", "/c/sam-card")
        card = card.decode()
        self.assertIn("区域销售经理", card)
        self.assertIn("Acme &amp; Sons", card)
        self.assertIn('lang="zh-CN"', card)

        # The owner's preview is not a view; anyone else's visit is.
        def views():
            st, _, body = self.srv.request("GET", "/api/v1/cards/sam-card/stats",
                                           headers={"Authorization": f"Bearer {self.token}"})
            return json.loads(body)["views"]
        before = views()
        sam.get("/c/sam-card?preview=1")
        time.sleep(0.2)
        self.assertEqual(views(), before)
        self.assertGreater(views(), 0)
        self.assertEqual(harness.scalar(self.srv.db, "SELECT count(*) FROM audit WHERE "
                                        "action = 'card.edit' AND target = 'sam-card'"), 1)

    def test_throttling_is_shared_by_instances_on_one_store(self):
        other = harness.Server(db=self.srv.db, env={"SHARECARD_TRUST_PROXY": "1"}).start()
        try:
            for i in range(5):
                st, _, _ = Session(self.srv, ip=f"198.51.100.{60 + i}").login(
                    "olly@example.com", f"guess-{i}-password")
                self.assertEqual(st, 401)
            # The sixth guess, from another address and to the other instance, waits too.
            st, _, page = Session(other, ip="198.51.100.70").login("olly@example.com",
                                                                   "guess-6-password")
            self.assertEqual(st, 429)
            self.assertIn("Wait 15 minutes", page)
        finally:
            try:
                other.stop()
            finally:
                other.cleanup()

    def test_csrf_missing_is_403(self):
        s = Session(self.srv, ip="198.51.100.3")
        s.get("/login")
        st, _, _ = s.post("/login", {"email": "boss@example.com",
                                     "password": PASSWORDS["boss@example.com"]})
        self.assertEqual(st, 403)

    def test_roles_on_pages_and_api(self):
        st, h, _ = Session(self.srv).get("/dashboard")
        self.assertEqual((st, h["location"]), (303, "/login"))
        self.assertEqual(Session(self.srv).get("/me")[0], 303)

        sam = Session(self.srv, ip="198.51.100.4")
        st, h, _ = sam.login("sam@example.com")
        self.assertEqual((st, h["location"]), (303, "/me"))
        self.assertIn("sc_session", sam.cookies)
        self.assertIn("HttpOnly", h["set-cookie"])
        self.assertIn("SameSite=Lax", h["set-cookie"])
        st, _, page = sam.get("/me")
        self.assertEqual(st, 200)
        self.assertIn("/c/sam-card/qr.png?size=2048", page)
        self.assertEqual(sam.get("/dashboard")[0], 403)
        self.assertEqual(sam.get("/api/v1/cards/olly-card/stats")[0], 403)
        self.assertEqual(sam.get("/api/v1/cards/sam-card/stats")[0], 200)

        st, h, _ = sam.get("/")  # the home page sends a signed-in member to their work
        self.assertEqual((st, h["location"]), (303, "/me"))

        mia = Session(self.srv, ip="198.51.100.5")
        st, h, _ = mia.login("mia@example.com")
        self.assertEqual((st, h["location"]), (303, "/dashboard"))
        st, _, page = mia.get("/dashboard")
        self.assertEqual(st, 200)
        self.assertIn("Sam", page)            # her team's salesperson
        self.assertNotIn("Other Team", page)  # not another team's
        self.assertEqual(mia.get("/api/v1/cards/sam-card/stats")[0], 200)
        self.assertEqual(mia.get("/api/v1/cards/olly-card/stats")[0], 403)

        # Logging out ends the session on the server, not just in the browser.
        token = mia.cookies["sc_session"]
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        st, h, _ = mia.post("/logout", {"csrf": csrf})
        self.assertEqual((st, h["location"]), (303, "/login"))
        replay = Session(self.srv, ip="198.51.100.5")
        replay.cookies["sc_session"] = token
        self.assertEqual(replay.get("/dashboard")[0], 303)

    def test_session_expires_when_idle(self):
        s = Session(self.srv, ip="198.51.100.6")
        s.login("boss@example.com")
        self.assertEqual(s.get("/dashboard")[0], 200)
        time.sleep(4.5)  # SHARECARD_SESSION_IDLE=3 for this server
        self.assertEqual(s.get("/dashboard")[0], 303)

    def test_dashboard_figures_equal_the_api(self):
        visitor = Session(self.srv, ip="192.0.2.77")
        for _ in range(3):
            visitor.cookies.clear()
            st, h, _ = visitor.get(f"/l/{self.qr_code('sam-card')}")
            visitor.get(h["location"])
        boss = Session(self.srv, ip="198.51.100.7")
        boss.login("boss@example.com")
        st, _, page = boss.get("/dashboard?days=30")
        self.assertEqual(st, 200)
        kpi = {k: int(v) for k, v in re.findall(r'data-kpi="(\w+)" data-value="(\d+)"', page)}
        total = {"scans": 0, "views": 0, "uniques": 0}
        for slug in ("sam-card", "mia-card", "olly-card"):
            st, _, body = self.srv.request(
                "GET", f"/api/v1/cards/{slug}/stats",
                headers={"Authorization": f"Bearer {self.token}"})
            s = json.loads(body)
            for k in total:
                total[k] += s[k]
        self.assertGreaterEqual(total["scans"], 3)
        self.assertEqual(kpi["scans"], total["scans"])
        self.assertEqual(kpi["views"], total["views"])
        self.assertEqual(kpi["uniques"], total["uniques"])
        self.assertIn("<svg class=\"chart\"", page)
        self.assertIn('id="leaderboard"', page)
        # The leaderboard API agrees with the cards' stats, member by member.
        st, _, body = self.srv.request("GET", "/api/v1/leaderboard",
                                       headers={"Authorization": f"Bearer {self.token}"})
        self.assertEqual(st, 200)
        board = {row["card"]: row for row in json.loads(body)}
        st, _, body = self.srv.request("GET", "/api/v1/cards/sam-card/stats",
                                       headers={"Authorization": f"Bearer {self.token}"})
        sam = json.loads(body)
        self.assertEqual((board["sam-card"]["scans"], board["sam-card"]["views"],
                          board["sam-card"]["uniques"]),
                         (sam["scans"], sam["views"], sam["uniques"]))
        self.assertNotIn("olly-card", {r["card"] for r in json.loads(self.srv.request(
            "GET", "/api/v1/leaderboard", headers={"Cookie": "; ".join(
                f"{k}={v}" for k, v in self.manager_cookies().items())})[2])})

    def test_z_disabled_member(self):
        token = harness.sharecard("token", "create", "--email", "mia@example.com",
                                  db=self.srv.db).stdout.strip()
        harness.sharecard("member", "disable", "--email", "mia@example.com", db=self.srv.db)
        try:
            st, _, page = Session(self.srv, ip="198.51.100.20").login("mia@example.com")
            self.assertEqual(st, 401)
            st, _, page = self.srv.request("GET", "/c/mia-card")
            self.assertEqual(st, 410)
            self.assertIn(b"no longer active", page)
            st, _, _ = self.srv.request("GET", "/api/v1/cards/mia-card/stats",
                                        headers={"Authorization": f"Bearer {token}"})
            self.assertEqual(st, 401)
        finally:
            harness.sharecard("member", "enable", "--email", "mia@example.com", db=self.srv.db)
        st, _, _ = Session(self.srv, ip="198.51.100.21").login("mia@example.com")
        self.assertEqual(st, 303)
        actions = [r[0] for r in harness.query(self.srv.db, "SELECT action FROM audit WHERE "
                                               "target = 'mia@example.com' ORDER BY id")]
        self.assertEqual(actions, ["member.add", "member.password_reset", "token.create",
                                   "member.disable", "member.enable"])  # tokens audited too

    def manager_cookies(self):
        mia = Session(self.srv, ip="198.51.100.9")
        mia.login("mia@example.com")
        return mia.cookies

    def qr_code(self, slug):
        return harness.scalar(self.srv.db, "SELECT l.code FROM links l JOIN cards c "
                              "ON c.id = l.card_id WHERE c.slug = ? AND l.channel = 0", (slug,))


if __name__ == "__main__":
    harness.main()
