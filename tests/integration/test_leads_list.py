"""The leads list's columns (issue 13: one read of each lead's events gives both its score
and its row): first and last seen, visits, distinct days, taps, saves, shares, time on the
page and sign-up, counted from what a person did over two days with a moved clock, and
checked against an independent count of the stored events for every lead; the customer's
name only on the card they signed up through; a bot's scan never a lead; a lead seen once
before the window and again in it is listed with its whole history."""

import collections
import datetime
import json
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_leads_intel import FAKETIME_LIB, faketime_env, under_tsan  # noqa: E402

ADMIN_PW = "admin-password-1"
DAY = 86400
VISITS = (0, 1, 2)  # scan, open, view
CLICK, SAVE, SHARE, DWELL, SIGNUP = 4, 5, 3, 6, 7


def epoch(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


@unittest.skipUnless(os.path.exists(FAKETIME_LIB), "needs Debian's faketime package")
class LeadsListColumns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if under_tsan():
            raise unittest.SkipTest("faketime and ThreadSanitizer do not mix")
        cls.tmp = tempfile.mkdtemp(prefix="sharecard-leads-list-")
        cls.clock = os.path.join(cls.tmp, "clock")
        # Day 1 about 61 hours ago (outside a 2-day window whatever the hour now), day 2
        # 25 hours later (inside it), neither near midnight (each day's events on one day).
        cls.t0 = int(time.time()) - 61 * 3600
        if cls.t0 % DAY > DAY - 2 * 3600:
            cls.t0 -= 3 * 3600
        cls.set_clock(cls.t0)
        env = dict(faketime_env(cls.clock), SHARECARD_TRUST_PROXY="1")
        cls.srv = harness.Server(env=env)
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
        cls.zhang = harness.add_member(db, "张伟", "zhang@example.com", "--slug", "zhang",
                                       "--team", "east")
        harness.add_member(db, "Li Na", "li@example.com", "--slug", "lina", "--team", "east")
        cls.token = harness.sharecard("token", "create", "--email", "root@example.com",
                                      db=db).stdout.strip()
        cls.srv.start()
        # Day 1: Cleo scans Zhang's QR code (a scan, then the page's view), saves the
        # contact, taps WeChat twice, stays 40 s, shares the card.
        cleo = harness.Browser(cls.srv)
        cleo.open_link(cls.zhang["qr_url"])
        cls.t_save = cls.t0 + 60
        cls.set_clock(cls.t_save)
        assert cleo.get("/c/zhang/vcard.vcf")[0] == 200
        for _ in range(2):
            assert cleo.post("/e", {"type": "click", "card": "zhang", "action": "wechat"})[0] < 300
        assert cleo.post("/e", {"type": "dwell", "card": "zhang", "seconds": 40})[0] < 300
        assert cleo.post("/c/zhang/share", {"channel": "sms"}, json_answer=True)[0] < 300
        # Day 2: she comes back, looks at Li Na's card too, and signs up on Zhang's.
        cls.set_clock(cls.t0 + DAY + 3600)
        st, _, page = cleo.get("/c/zhang")
        assert st == 200
        assert cleo.get("/c/lina")[0] == 200
        cls.t_signup = cls.t0 + DAY + 3700
        cls.set_clock(cls.t_signup)
        st, _, body = cleo.sign_up(page.decode(), "zhang", name="Cleo", email="cleo@example.com")
        assert st == 201, body
        # Dan looked once, 3 days ago; a crawler fetched the QR link.
        dan = harness.Browser(cls.srv)
        cls.set_clock(cls.t0 + 120)
        dan.get("/c/zhang")
        cls.set_clock(cls.t0 + 130)
        st, _, _ = cls.srv.request("GET", "/l/" + cls.zhang["qr_url"].rsplit("/", 1)[-1],
                                   headers={"User-Agent": "Googlebot/2.1"})
        assert st == 302
        cls.set_clock(time.time())
        cls.wait_for_bot()

    @classmethod
    def set_clock(cls, t):
        with open(cls.clock, "w") as f:
            f.write(time.strftime("@%Y-%m-%d %H:%M:%S", time.gmtime(t)))

    @classmethod
    def wait_for_bot(cls):
        """A bot is answered before its row is written: wait for it to land."""
        for _ in range(100):
            if harness.scalar(cls.srv.db, "SELECT count(*) FROM events WHERE bot <> 0"):
                return
            time.sleep(0.05)
        raise AssertionError("the bot's row never landed")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()
            harness.shutil.rmtree(cls.tmp, ignore_errors=True)

    def leads(self, query):
        st, _, body = self.srv.request("GET", f"/api/v1/leads{query}",
                                       headers={"Authorization": f"Bearer {self.token}"})
        self.assertEqual(st, 200, body)
        return json.loads(body)

    def by_card(self, rows):
        return {(x["id"], x["card"]): x for x in rows}

    def test_what_cleo_did_is_counted(self):
        rows = self.leads("?days=30")
        cleo = [x for x in rows if x["customer"] == "Cleo"]
        self.assertEqual(len(cleo), 1)
        z = cleo[0]
        self.assertEqual(z["card"], "zhang")
        # (the faked clock runs on from each time set: a second or two later)
        self.assertAlmostEqual(epoch(z["first_seen"]), self.t0, delta=5)
        self.assertAlmostEqual(epoch(z["last_seen"]), self.t_signup, delta=5)
        self.assertEqual(z["visits"], 3)  # the scan and its view, the return's view
        self.assertEqual(z["days"], 2)
        self.assertEqual((z["clicks"], z["saves"], z["shares"], z["dwell_s"]), (2, 1, 1, 40))
        self.assertTrue(z["signed_up"])
        # On Li Na's card Cleo is a visitor: no name, one visit, not signed up.
        li = [x for x in rows if x["card"] == "lina"]
        self.assertEqual(len(li), 1)
        self.assertEqual(li[0]["id"], z["id"])
        self.assertIsNone(li[0]["customer"])
        self.assertEqual((li[0]["visits"], li[0]["days"], li[0]["signed_up"]), (1, 1, False))
        # Dan, and no bot: three leads in all.
        self.assertEqual(len(rows), 3)

    def test_every_column_matches_the_stored_events(self):
        """An independent count from the raw rows, lead by lead."""
        want = collections.defaultdict(lambda: {"ts": [], "types": collections.Counter(),
                                                "dwell": 0})
        for vid, card, ts, typ, value in harness.query(
                self.srv.db, "SELECT e.visitor_id, c.slug, e.ts, e.type, e.value FROM events e "
                "JOIN cards c ON c.id = e.card_id WHERE e.bot = 0 AND e.visitor_id IS NOT NULL"):
            w = want[(vid, card)]
            w["ts"].append(ts)
            w["types"][typ] += 1
            if typ == DWELL:
                w["dwell"] += value or 0
        got = self.by_card(self.leads("?days=30&limit=10000"))
        self.assertEqual(set(got), set(want))
        for key, w in want.items():
            g = got[key]
            self.assertEqual(g["first_seen"], iso(min(w["ts"])), key)
            self.assertEqual(g["last_seen"], iso(max(w["ts"])), key)
            self.assertEqual(g["visits"], sum(w["types"][t] for t in VISITS), key)
            self.assertEqual(g["days"], len({t // DAY for t in w["ts"]}), key)
            self.assertEqual(g["clicks"], w["types"][CLICK], key)
            self.assertEqual(g["saves"], w["types"][SAVE], key)
            self.assertEqual(g["shares"], w["types"][SHARE], key)
            self.assertEqual(g["dwell_s"], w["dwell"], key)
            self.assertEqual(g["signed_up"], w["types"][SIGNUP] > 0, key)

    def test_a_lead_seen_in_the_window_keeps_its_whole_history(self):
        # Only Cleo's second day is within the last 2 days: listed with both days.
        rows = self.leads("?days=2")
        zhang = [x for x in rows if x["card"] == "zhang"]
        self.assertEqual([x["customer"] for x in zhang], ["Cleo"])
        self.assertEqual(zhang[0]["days"], 2)
        self.assertAlmostEqual(epoch(zhang[0]["first_seen"]), self.t0, delta=5)
        # CSV: the same row, the same counts.
        st, _, body = self.srv.request("GET", "/api/v1/leads?days=2&format=csv",
                                       headers={"Authorization": f"Bearer {self.token}"})
        self.assertEqual(st, 200)
        lines = body.decode().splitlines()
        head = lines[0].split(",")
        cleo = [dict(zip(head, x.split(","))) for x in lines[1:] if ",Cleo," in x]
        self.assertEqual(len(cleo), 1)
        self.assertEqual((cleo[0]["visits"], cleo[0]["days"], cleo[0]["dwell_s"]),
                         ("3", "2", "40"))


if __name__ == "__main__":
    harness.main()
