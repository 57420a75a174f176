"""NPS surveys with a moved clock (issue 14, libfaketime), over real HTTP.

A survey opens SHARECARD_NPS_DELAY_DAYS after its order; before then its page says when,
as a day and minute in SHARECARD_TZ (and in the card's language), and an answer posted
before then is refused with 409 and the same sentence.  NPS periods are days of
SHARECARD_TZ, as retention's and birthdays' are: an answer at 23:30 UTC in +08:00 falls
on the next day."""

import json
import os
import re
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_leads_intel import FAKETIME_LIB, faketime_env, under_tsan  # noqa: E402
from test_signups import Browser  # noqa: E402

OPENS = '<time datetime="2026-12-17T10:00:00Z">2026-12-17 18:00 (UTC+08:00)</time>'


@unittest.skipUnless(os.path.exists(FAKETIME_LIB), "needs Debian's faketime package")
class SurveyClock(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if under_tsan():
            raise unittest.SkipTest("faketime and ThreadSanitizer do not mix")
        cls.tmp = harness.tempfile.mkdtemp(prefix="sharecard-clock-")
        cls.clock = os.path.join(cls.tmp, "clock")
        cls.set_clock("2026-12-10 10:00:00")  # orders now: surveys open on the 17th, 10:00 UTC
        env = dict(faketime_env(cls.clock), SHARECARD_TRUST_PROXY="1", SHARECARD_TZ="+08:00",
                   SHARECARD_NPS_DELAY_DAYS="7")
        cls.srv = harness.Server(env=env)
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "admin@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
        cls.admin = harness.sharecard("token", "create", "--email", "admin@example.com",
                                      db=db).stdout.strip()
        cls.a = harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice")
        cls.o = harness.add_member(db, "Olga Other", "olga@example.com", "--slug", "olga",
                                   "--lang", "zh-CN")
        cls.srv.start()
        cls.tokens = {}
        for key, member in (("bob", cls.a), ("zoe", cls.o)):
            b = Browser(cls.srv)
            st, _, body = b.sign_up(b.open_link(member["qr_url"]), member["slug"],
                                    name=key.title(), email=f"{key}@example.com")
            assert st == 201, body
            cid = json.loads(body)["customer_id"]
            st, _, body = cls.srv.request(
                "POST", "/api/v1/conversions",
                body=json.dumps({"email": f"{key}@example.com", "amount": "10",
                                 "order_id": f"O-{key}",
                                 "ordered_at": "2026-12-10T10:00:00Z"}),
                headers={"Authorization": f"Bearer {cls.admin}",
                         "Content-Type": "application/json"})
            assert st == 201, body
            cls.tokens[key] = harness.query(db, "SELECT token FROM nps_surveys "
                                                "WHERE customer_id = ?", (cid,))[0][0]

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()
            harness.shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def set_clock(cls, utc):
        with open(cls.clock, "w") as f:
            f.write("@" + utc)

    def page(self, key):
        st, _, body = Browser(self.srv).get(f"/s/{self.tokens[key]}")
        self.assertEqual(st, 200)
        page = body.decode()
        m = re.search(r'name="csrf" value="([^"]+)"', page)
        return page, (m.group(1) if m else None)

    def answer(self, key, csrf, score):
        st, _, body = self.srv.request(
            "POST", f"/s/{self.tokens[key]}",
            body=urllib.parse.urlencode({"csrf": csrf, "score": str(score)}),
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "X-Forwarded-For": "198.51.100.9"})
        return st, body.decode()

    def nps(self, path):
        st, _, body = self.srv.request("GET", path,
                                       headers={"Authorization": f"Bearer {self.admin}"})
        self.assertEqual(st, 200, body)
        return json.loads(body)

    def test_1_before_it_opens_the_page_says_when(self):
        self.set_clock("2026-12-10 10:00:00")
        page, csrf = self.page("bob")
        self.assertIsNone(csrf)
        self.assertIn(f"This survey opens on {OPENS}.", page)
        page, csrf = self.page("zoe")  # a zh-CN card: the sentence in Chinese
        self.assertIsNone(csrf)
        self.assertIn(f"此问卷将于 {OPENS} 开放。", page)
        self.assertNotIn("This survey", page)
        # A minute before it opens, still closed; at the minute, the form.
        self.set_clock("2026-12-17 09:59:00")
        self.assertIsNone(self.page("bob")[1])
        self.set_clock("2026-12-17 10:00:30")
        self.assertIsNotNone(self.page("bob")[1])

    def test_2_an_answer_before_it_opens_is_409_with_the_reason(self):
        self.set_clock("2026-12-17 10:00:30")
        _, csrf = self.page("bob")  # the form's token, taken once it is open
        self.set_clock("2026-12-17 09:59:00")
        st, body = self.answer("bob", csrf, 9)
        self.assertEqual(st, 409, body)
        self.assertIn(f"This survey opens on {OPENS}.", body)
        self.assertEqual(harness.scalar(self.srv.db, "SELECT COUNT(*) FROM nps_surveys "
                                                     "WHERE answered_at IS NOT NULL"), 0)

    def test_3_an_answer_at_2330_utc_counts_on_the_next_day_in_plus_8(self):
        self.set_clock("2026-12-20 23:30:00")  # 07:30 on the 21st in +08:00
        _, csrf = self.page("bob")
        st, body = self.answer("bob", csrf, 10)
        self.assertEqual(st, 200, body)
        day = self.nps("/api/v1/nps?from=2026-12-21&to=2026-12-21")
        self.assertEqual((day["company"]["answers"], day["company"]["promoters"]), (1, 1))
        before = self.nps("/api/v1/nps?from=2026-12-20&to=2026-12-20")
        self.assertEqual(before["company"]["answers"], 0)
        # The default period ends today in +08:00, the 21st.
        d = self.nps("/api/v1/nps")
        self.assertEqual((d["to"], d["company"]["answers"]), ("2026-12-21", 1))
        # Retention's nps counts the same days.
        r = self.nps("/api/v1/retention?from=2026-12-21&to=2026-12-21")
        self.assertEqual(r["nps"], 100)
        r = self.nps("/api/v1/retention?from=2026-12-20&to=2026-12-20")
        self.assertIsNone(r["nps"])


if __name__ == "__main__":
    harness.main()
