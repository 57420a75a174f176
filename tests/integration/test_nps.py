"""NPS surveys (issue 14, 回访) over real HTTP: every order gets a survey whose link
(/s/{token}, 128 random bits) the conversion.created webhook carries (survey_url,
survey_available_at) and the customer's own referral page shows once it is open
(SHARECARD_NPS_DELAY_DAYS after the order; 0: at once).  The page needs no account:
0-10 and a comment, CSRF-safe, one answer per survey, in the card's language.  NPS per
company, team and salesperson in GET /api/v1/nps (scoped by role) and on the dashboard,
detractors listed with their comments, answers on the customer's timeline."""

import calendar
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_signups import Browser  # noqa: E402
from test_webhooks import PRIVATE_OK, Receiver  # noqa: E402

TOKEN_URL = re.compile(r"/s/([0-9a-f]{32})$")


def iso_seconds(s):
    return calendar.timegm(time.strptime(s.replace("Z", "+0000")[:19], "%Y-%m-%dT%H:%M:%S"))


class Base(unittest.TestCase):
    DELAY = "0"
    ENV = {}  # more settings for a subclass's server

    @classmethod
    def setUpClass(cls):
        cls.rx = Receiver()
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1",
                                      "SHARECARD_NPS_DELAY_DAYS": cls.DELAY,
                                      "SHARECARD_WEBHOOK_ALLOW_PRIVATE": "1", **cls.ENV})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "admin@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
        tok = lambda e: harness.sharecard("token", "create", "--email", e,  # noqa: E731
                                          db=db).stdout.strip()
        cls.a = harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice",
                                   "--team", "east")
        cls.o = harness.add_member(db, "Olga Other", "olga@example.com", "--slug", "olga",
                                   "--team", "west", "--lang", "zh-CN")
        cls.admin, cls.alice = tok("admin@example.com"), tok("alice@example.com")
        harness.sharecard("member", "password", "--email", "alice@example.com", db=db,
                          env={"SHARECARD_PASSWORD": "alice-password-1"})
        harness.sharecard("webhook", "add", "--url", cls.rx.url, "--events",
                          "conversion.created", db=db, env=PRIVATE_OK)
        cls.srv.start()
        cls.browsers, cls.ids, cls.codes, cls.surveys = {}, {}, {}, {}

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()
            cls.rx.close()

    @classmethod
    def sign_up(cls, key, link, slug):
        b = Browser(cls.srv)
        st, _, body = b.join(link, slug, name=key.title(),
                             email=f"{key}@example.com")
        assert st == 201, body
        j = json.loads(body)
        cls.browsers[key], cls.ids[key] = b, j["customer_id"]
        cls.codes[key] = j["referral_url"].rsplit("/", 1)[1]

    @classmethod
    def order(cls, key, order_id, ordered_at=None):
        body = {"email": f"{key}@example.com", "amount": "10", "order_id": order_id}
        if ordered_at:
            body["ordered_at"] = ordered_at
        st, _, data = cls.srv.request("POST", "/api/v1/conversions", body=json.dumps(body),
                                      headers={"Authorization": f"Bearer {cls.admin}",
                                               "Content-Type": "application/json"})
        assert st == 201, data
        hits = cls.rx.wait_for(lambda hs: any(
            json.loads(b)["data"].get("order_id") == order_id for _, b in hs))
        data = [json.loads(b)["data"] for _, b in hits
                if json.loads(b)["data"].get("order_id") == order_id][0]
        cls.surveys[order_id] = data
        return data

    def answer(self, token, fields, browser=None, headers=None):
        b = browser or Browser(self.srv)
        h = {"User-Agent": b.ua, "Content-Type": "application/x-www-form-urlencoded",
             "X-Forwarded-For": b.ip}
        h.update(headers or {})
        import urllib.parse
        st, _, body = self.srv.request("POST", f"/s/{token}", body=urllib.parse.urlencode(fields),
                                       headers=h)
        return st, body.decode()

    def form(self, token, browser=None):
        st, _, body = (browser or Browser(self.srv)).get(f"/s/{token}")
        self.assertEqual(st, 200)
        page = body.decode()
        m = re.search(r'name="csrf" value="([^"]+)"', page)
        return page, (m.group(1) if m else None)

    def token_of(self, order_id):
        return TOKEN_URL.search(self.surveys[order_id]["survey_url"]).group(1)


class Survey(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sign_up("bob", cls.a["qr_url"], "alice")
        cls.sign_up("carol", cls.a["qr_url"], "alice")
        cls.sign_up("dave", cls.o["qr_url"], "olga")
        for key in ("bob", "carol", "dave"):
            cls.order(key, f"O-{key}")

    def test_1_webhook_carries_the_link_at_once(self):
        for key in ("bob", "carol", "dave"):
            d = self.surveys[f"O-{key}"]
            self.assertTrue(d["survey_url"].startswith(self.srv.base + "/s/"), d)
            self.assertRegex(d["survey_url"], TOKEN_URL)
            self.assertEqual(d["survey_available_at"], d["created_at"])  # delay 0
        self.assertEqual(len({self.token_of(f"O-{k}") for k in ("bob", "carol", "dave")}), 3)

    def test_2_link_on_the_customers_own_referral_page_only(self):
        token = self.token_of("O-bob")
        st, _, page = self.browsers["bob"].get(f"/r/{self.codes['bob']}")
        self.assertIn(f'href="/s/{token}"', page.decode())
        st, _, page = Browser(self.srv).get(f"/r/{self.codes['bob']}")
        self.assertNotIn("/s/", page.decode())

    def test_3_answer_once_csrf_and_bad_input(self):
        token = self.token_of("O-carol")
        page, csrf = self.form(token)  # a fresh browser: no account, no cookie needed
        self.assertEqual(len(re.findall(r'<button[^>]+name="score" value="(\d+)"', page)), 11)
        self.assertIn("How likely", page)
        for fields, status, reason in (
                ({"score": "5"}, 403, "survey"),  # no CSRF token
                ({"csrf": "x" * 22, "score": "5"}, 403, "survey"),
                ({"csrf": csrf, "score": "11"}, 422, "score"),
                ({"csrf": csrf, "score": "-1"}, 422, "score"),
                ({"csrf": csrf, "score": "07"}, 422, "score"),
                ({"csrf": csrf, "score": "5.0"}, 422, "score"),
                ({"csrf": csrf}, 422, "score"),
                ({"csrf": csrf, "score": "3", "comment": "x" * 2001}, 422, "comment")):
            st, body = self.answer(token, fields)
            self.assertEqual(st, status, (fields.get("score"), body[:300]))
            self.assertIn(reason, body)
        # Another site's page posting the right token: refused (same-origin check).
        st, body = self.answer(token, {"csrf": csrf, "score": "3"},
                               headers={"Origin": "http://evil.example"})
        self.assertEqual(st, 403)
        # Nothing was written by the refusals: the one real answer goes through, once.
        st, body = self.answer(token, {"csrf": csrf, "score": "3",
                                       "comment": "送货太慢 — too slow"})
        self.assertEqual(st, 200, body)
        st, body = self.answer(token, {"csrf": csrf, "score": "10"})
        self.assertEqual(st, 409)
        self.assertIn("one answer per survey", body)
        page, csrf2 = self.form(token)
        self.assertIsNone(csrf2)  # answered: no form any more
        st, _, _ = Browser(self.srv).get("/s/" + "0" * 32)
        self.assertEqual(st, 404)
        st, _, _ = Browser(self.srv).get("/s/not-a-token")
        self.assertEqual(st, 404)
        # The customer's own page no longer offers the answered survey.
        st, _, page = self.browsers["carol"].get(f"/r/{self.codes['carol']}")
        self.assertNotIn(f"/s/{token}", page.decode())

    def test_4_in_the_cards_language(self):
        token = self.token_of("O-dave")
        page, csrf = self.form(token)
        self.assertIn('lang="zh-CN"', page)
        self.assertIn("推荐", page)
        self.assertNotIn("How likely", page)
        st, body = self.answer(token, {"csrf": csrf, "score": "99"})
        self.assertEqual(st, 422)
        self.assertIn("score", body)  # the field's name, in any language

    def nps(self, query="", token=None):
        st, hd, body = self.srv.request("GET", "/api/v1/nps" + query, headers={
            "Authorization": f"Bearer {token or self.admin}"})
        self.assertEqual(st, 200, body)
        return hd, body.decode()

    def test_5_nps_by_company_team_salesperson(self):
        for key, score in (("bob", "10"), ("dave", "9"), ("carol", "3")):
            page, csrf = self.form(self.token_of(f"O-{key}"))
            if csrf:  # carol answered in test_3 already
                st, body = self.answer(self.token_of(f"O-{key}"), {"csrf": csrf, "score": score})
                self.assertEqual(st, 200, body)
        _, body = self.nps()
        j = json.loads(body)
        # bob 10 and dave 9 promote, carol 3 detracts: (2 - 1) / 3.
        self.assertEqual((j["company"]["answers"], j["company"]["promoters"],
                          j["company"]["passives"], j["company"]["detractors"]), (3, 2, 0, 1))
        self.assertAlmostEqual(j["company"]["nps"], 100 / 3)
        teams = {t["team"]: t["nps"] for t in j["teams"]}
        self.assertEqual(teams, {"east": 0, "west": 100})
        members = {m["member_id"]: (m["answers"], m["nps"]) for m in j["members"]}
        self.assertEqual(members, {self.a["id"]: (2, 0), self.o["id"]: (1, 100)})
        self.assertEqual([(d["customer_id"], d["score"], d["comment"]) for d in j["detractors"]],
                         [(self.ids["carol"], 3, "送货太慢 — too slow")])
        # Validated against the OpenAPI document, with answers in it.
        import jsonschema
        st, _, doc = self.srv.request("GET", "/api/v1/openapi.json")
        doc = json.loads(doc)
        schema = doc["paths"]["/nps"]["get"]["responses"]["200"]["content"][
            "application/json"]["schema"]
        jsonschema.Draft202012Validator(
            schema, resolver=jsonschema.RefResolver.from_schema(doc)).validate(j)
        # A salesperson sees their own customers only.
        j = json.loads(self.nps(token=self.alice)[1])
        self.assertEqual((j["company"]["answers"], j["company"]["nps"]), (2, 0))
        self.assertEqual([t["team"] for t in j["teams"]], ["east"])
        # CSV: a row per group.
        hd, body = self.nps("?format=csv")
        self.assertTrue(hd["content-type"].startswith("text/csv"))
        rows = body.lstrip("\ufeff").strip().split("\r\n")
        self.assertEqual(rows[0], "group,team,member_id,member,answers,promoters,passives,"
                                  "detractors,nps")
        self.assertEqual(rows[1].split(",")[:5], ["company", "", "", "", "3"])
        self.assertEqual(len(rows), 1 + 1 + 2 + 2)
        # A period without answers: no NPS.
        j = json.loads(self.nps("?from=2020-01-01&to=2020-01-31")[1])
        self.assertEqual((j["company"]["answers"], j["company"]["nps"]), (0, None))
        st, _, body = self.srv.request("GET", "/api/v1/nps?from=2026-02-30", headers={
            "Authorization": f"Bearer {self.admin}"})
        self.assertEqual(st, 400)
        # The retention report carries the same NPS.
        st, _, body = self.srv.request("GET", "/api/v1/retention", headers={
            "Authorization": f"Bearer {self.admin}"})
        self.assertAlmostEqual(json.loads(body)["nps"], 100 / 3)
        for query, nps in (("?team=west", 100), (f"?member={self.a['id']}", 0)):
            st, _, body = self.srv.request("GET", "/api/v1/retention" + query, headers={
                "Authorization": f"Bearer {self.admin}"})
            self.assertEqual(json.loads(body)["nps"], nps, query)

        # The dashboard: the NPS tile, per salesperson, detractors with their comment.
        s = self.session("admin@example.com", "admin-password-1")
        st, _, page = s.get("/dashboard")
        self.assertEqual(st, 200)
        self.assertRegex(page, r'data-kpi="nps"><div class="v">33</div>')
        # Per team (all its salespeople) and per salesperson.
        table = page.split('id="nps-members"', 1)[1].split("</table>", 1)[0]
        rows = re.findall(r'<tr (?:class="team" data-team="([^"]+)"|data-member="(\d+)")>'
                          r'.*?<td class="n">(\d+)</td><td class="n">(-?\d*)</td>', table)
        self.assertEqual(rows, [("east", "", "2", "0"), ("", str(self.a["id"]), "2", "0"),
                                ("west", "", "1", "100"), ("", str(self.o["id"]), "1", "100")])
        det = page.split('id="detractors"', 1)[1].split("</table>", 1)[0]
        self.assertIn(f'data-customer="{self.ids["carol"]}"', det)
        self.assertIn("送货太慢 — too slow", det)
        self.assertNotIn(f'data-customer="{self.ids["bob"]}"', det)
        # The answer on the customer's timeline.
        st, _, page = s.get(f"/customers/{self.ids['carol']}")
        self.assertEqual(st, 200)
        timeline = page.split('id="timeline"', 1)[1]
        self.assertIn('data-nps="3"', timeline)
        self.assertIn("送货太慢 — too slow", timeline)

    def session(self, email, password):
        s = Session(self.srv, ip=f"203.0.113.{len(email) + 50}")
        st, _, page = s.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        st, _, _ = s.post("/login", {"csrf": csrf, "email": email, "password": password})
        self.assertEqual(st, 303)
        return s

    def test_5b_salesperson_lists_their_detractors(self):
        alice = self.session("alice@example.com", "alice-password-1")
        st, _, page = alice.get("/customers?nps=detractor")
        self.assertEqual(st, 200)
        det = page.split('id="detractors"', 1)[1].split("</table>", 1)[0]
        self.assertEqual(re.findall(r'data-customer="(\d+)"', det), [str(self.ids["carol"])])
        self.assertIn("送货太慢 — too slow", det)
        st, _, page = alice.get("/customers")
        self.assertIn('href="/customers?nps=detractor"', page)

    def test_6_erasure_forgets_the_comment(self):
        harness.sharecard("customer", "erase", "--email", "carol@example.com", db=self.srv.db)
        j = json.loads(self.nps()[1])
        self.assertEqual([(d["customer_id"], d["score"], d["comment"]) for d in j["detractors"]],
                         [(self.ids["carol"], 3, "")])  # the score stays, the words go


class DetractorsInTheZone(Base):
    """With SHARECARD_TZ set, a detractor's answer shows at the zone's time, as the page's
    footer says, under a heading that does not claim UTC; the NPS tables scroll sideways
    inside their box on a phone instead of widening the page (issue 17)."""
    ENV = {"SHARECARD_TZ": "+08:00"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sign_up("zed", cls.a["qr_url"], "alice")
        cls.order("zed", "Z-1")

    def test_answer_time_in_the_zone(self):
        token = self.token_of("Z-1")
        page, csrf = self.form(token)
        st, body = self.answer(token, {"csrf": csrf, "score": "2", "comment": "late"})
        self.assertEqual(st, 200, body)
        _, body = self.nps()
        at = json.loads(body)["detractors"][0]["answered_at"]
        self.assertTrue(at.endswith("Z"), at)  # the API stays UTC
        local = time.strftime("%Y-%m-%d %H:%M", time.gmtime(iso_seconds(at) + 8 * 3600))
        s = self.session("admin@example.com", "admin-password-1")
        for path in ("/dashboard", "/customers?nps=detractor"):
            st, _, page = s.get(path)
            self.assertEqual(st, 200, path)
            self.assertIn("Times are in +08:00", page)
            det = page.split('id="detractors"', 1)[1].split("</table>", 1)[0]
            self.assertIn(f"<td>{local}</td>", det, path)
            self.assertNotIn("UTC", det, path)
            self.assertRegex(page, r'<div class="scroll"><table class="t" id="detractors">')
        st, _, page = s.get("/dashboard")
        self.assertRegex(page, r'<div class="scroll"><table class="t" id="nps-members">')

    session = Survey.session
    nps = Survey.nps


class Delayed(Base):
    """SHARECARD_NPS_DELAY_DAYS=7: the webhook has the link at once, with when it opens;
    the survey opens 7 days after the order's time (a back-filled order's may be open)."""
    DELAY = "7"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sign_up("erin", cls.a["qr_url"], "alice")
        cls.order("erin", "D-now")
        eight = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 8 * 86400))
        cls.order("erin", "D-old", ordered_at=eight)

    def test_not_open_until_the_delay_has_passed(self):
        d = self.surveys["D-now"]
        self.assertEqual(iso_seconds(d["survey_available_at"]) - iso_seconds(d["created_at"]),
                         7 * 86400)
        token = self.token_of("D-now")
        page, csrf = self.form(token)
        self.assertIsNone(csrf)
        self.assertIn("This survey opens on <time", page)
        # Even with a token taken from an open survey's form, the answer is refused.
        old = self.token_of("D-old")
        page, csrf_old = self.form(old)
        self.assertIsNotNone(csrf_old)
        st, body = self.answer(token, {"csrf": csrf_old, "score": "9"})
        self.assertEqual(st, 403)  # the form token is bound to its own survey
        # The customer's page offers only the open one (ordered 8 days ago).
        st, _, page = self.browsers["erin"].get(f"/r/{self.codes['erin']}")
        page = page.decode()
        self.assertIn(f"/s/{old}", page)
        self.assertNotIn(f"/s/{token}", page)
        st, body = self.answer(old, {"csrf": csrf_old, "score": "9"})
        self.assertEqual(st, 200, body)


if __name__ == "__main__":
    harness.main()
