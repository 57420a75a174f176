"""Whose a customer is (issue 14), over real HTTP with two teams.

A customer belongs to the card they signed up through: its salesperson, that person's
team's manager and the admin see them; another team sees them only as a visitor of its
cards (unnamed on /api/v1/leads and /leads).  Checked on /api/v1/customers (and ?birthday=week), /customers (its list, a
customer's page, ?nps=detractor, ?birthday=week), /api/v1/nps and retention's nps, for a
salesperson and a manager of each team."""

import json
import os
import re
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_signups import Browser  # noqa: E402

PEOPLE = {  # email: (name, role, team, slug)
    "alice@example.com": ("Alice East", "sales", "east", "alice"),
    "mia@example.com": ("Mia Manager", "manager", "east", "mia"),
    "olga@example.com": ("Olga West", "sales", "west", "olga"),
    "wade@example.com": ("Wade Manager", "manager", "west", "wade"),
}


class CustomerScope(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1",
                                      "SHARECARD_NPS_DELAY_DAYS": "0"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "admin@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
        cls.tokens, cls.cards = {}, {}
        for email, (name, role, team, slug) in PEOPLE.items():
            cls.cards[slug] = harness.add_member(db, name, email, "--slug", slug, "--role",
                                                 role, "--team", team)
            harness.sharecard("member", "password", "--email", email, db=db,
                              env={"SHARECARD_PASSWORD": f"{slug}-password-1"})
        for email in list(PEOPLE) + ["admin@example.com"]:
            cls.tokens[email.split("@")[0]] = harness.sharecard(
                "token", "create", "--email", email, db=db).stdout.strip()
        cls.srv.start()
        soon = time.strftime("%m-%d", time.gmtime(time.time() + 2 * 86400))
        cls.ids, cls.browsers = {}, {}
        # bob and carol signed up through alice's card (carol by bob's referral link),
        # zoe through olga's; zoe then also looks at alice's card: a visitor there.
        for key, via, slug in (("bob", cls.cards["alice"]["qr_url"], "alice"),
                               ("zoe", cls.cards["olga"]["qr_url"], "olga")):
            cls.sign_up(key, via, slug, soon)
        cls.sign_up("carol", cls.referral["bob"], "alice", soon)
        cls.browsers["zoe"].open_link(cls.cards["alice"]["qr_url"])
        for key, score, words in (("bob", 3, "slow east"), ("zoe", 2, "slow west")):
            cls.order_and_answer(key, score, words)

    @classmethod
    def sign_up(cls, key, link, slug, birthday):
        if not hasattr(cls, "referral"):
            cls.referral = {}
        b = Browser(cls.srv)
        page = b.open_link(link)
        st, _, body = b.sign_up(page, slug, name=key.title(), email=f"{key}@example.com",
                                birthday=birthday)
        assert st == 201, body
        j = json.loads(body)
        cls.ids[key], cls.browsers[key] = j["customer_id"], b
        cls.referral[key] = j["referral_url"]

    @classmethod
    def order_and_answer(cls, key, score, words):
        st, _, body = cls.srv.request(
            "POST", "/api/v1/conversions",
            body=json.dumps({"email": f"{key}@example.com", "amount": "10",
                             "order_id": f"O-{key}"}),
            headers={"Authorization": f"Bearer {cls.tokens['admin']}",
                     "Content-Type": "application/json"})
        assert st == 201, body
        token = harness.query(cls.srv.db, "SELECT token FROM nps_surveys WHERE customer_id = ?",
                              (cls.ids[key],))[0][0]
        st, _, page = cls.browsers[key].get(f"/s/{token}")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.decode()).group(1)
        st, _, body = cls.srv.request(
            "POST", f"/s/{token}",
            body=urllib.parse.urlencode({"csrf": csrf, "score": str(score), "comment": words}),
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "X-Forwarded-For": cls.browsers[key].ip})
        assert st == 200, body

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def api(self, who, path):
        st, _, body = self.srv.request("GET", path, headers={
            "Authorization": f"Bearer {self.tokens[who]}"})
        self.assertEqual(st, 200, (who, path, body))
        return json.loads(body)

    def session(self, slug):
        s = Session(self.srv, ip=f"203.0.113.{10 + len(slug)}")
        st, _, _ = s.login(f"{slug}@example.com", f"{slug}-password-1")
        self.assertEqual(st, 303)
        return s

    SEES = {"alice": {"bob", "carol"}, "mia": {"bob", "carol"}, "olga": {"zoe"},
            "wade": {"zoe"}, "admin": {"bob", "carol", "zoe"}}

    def names(self, ids):
        back = {v: k for k, v in self.ids.items()}
        return {back[i] for i in ids}

    def test_1_api_customers_and_birthdays(self):
        for who, sees in self.SEES.items():
            rows = self.api(who, "/api/v1/customers")
            self.assertEqual(self.names(r["id"] for r in rows), sees, who)
            rows = self.api(who, "/api/v1/customers?birthday=week")
            self.assertEqual(self.names(r["id"] for r in rows), sees, who)

    def test_2_api_nps_and_retention(self):
        for who, sees in self.SEES.items():
            j = self.api(who, "/api/v1/nps")
            answered = sees & {"bob", "zoe"}
            self.assertEqual(j["company"]["answers"], len(answered), who)
            self.assertEqual(self.names(d["customer_id"] for d in j["detractors"]), answered, who)
            self.assertEqual(self.api(who, "/api/v1/retention")["nps"], -100, who)
        # Asking for the other team's figures gives nothing of theirs.
        self.assertIsNone(self.api("alice", "/api/v1/retention?team=west")["nps"])
        self.assertIsNone(self.api("mia", "/api/v1/retention?team=west")["nps"])
        j = self.api("wade", "/api/v1/nps?team=east")
        self.assertEqual(self.names(d["customer_id"] for d in j["detractors"]), {"zoe"})

    def test_3_customers_pages(self):
        for slug in ("alice", "mia", "olga", "wade"):
            sees, s = self.SEES[slug], self.session(slug)
            st, _, page = s.get("/customers")
            self.assertEqual(st, 200)
            ids = {int(i) for i in re.findall(r'<tr data-id="(\d+)">', page)}
            self.assertEqual(self.names(ids), sees, slug)
            st, _, page = s.get("/customers?birthday=week")
            ids = {int(i) for i in re.findall(r'<tr data-id="(\d+)">', page)}
            self.assertEqual(self.names(ids), sees, slug)
            st, _, page = s.get("/customers?nps=detractor")
            self.assertEqual(st, 200)
            mine, theirs = ("slow east", "slow west") if "bob" in sees else ("slow west",
                                                                            "slow east")
            self.assertIn(mine, page, slug)
            self.assertNotIn(theirs, page, slug)
            for key in ("bob", "carol", "zoe"):
                st, _, page = s.get(f"/customers/{self.ids[key]}")
                self.assertEqual(st, 200 if key in sees else 404, (slug, key))

    def test_4_another_teams_customer_is_a_visitor_on_leads(self):
        # zoe (olga's customer, west) looked at alice's card: alice sees a visitor, unnamed.
        leads = self.api("alice", "/api/v1/leads")
        named = {x["customer"] for x in leads}
        self.assertEqual(named, {"Bob", "Carol", None})
        zoe = [x for x in leads if x["customer"] is None]
        self.assertEqual(len(zoe), 1)
        self.assertFalse(zoe[0]["signed_up"])
        self.assertNotIn("Zoe", json.dumps(leads))
        self.assertNotIn("zoe@", json.dumps(leads))
        st, _, page = self.session("mia").get("/leads")
        self.assertEqual(st, 200)
        self.assertIn("Bob", page)
        self.assertNotIn("Zoe", page)
        # On her own card's side (olga, wade) she is their customer, named.
        self.assertIn("Zoe", {x["customer"] for x in self.api("olga", "/api/v1/leads")})


if __name__ == "__main__":
    harness.main()
