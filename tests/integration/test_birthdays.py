"""Birthdays (issue 14, 生日关怀) over real HTTP with a moved clock (libfaketime).

A birthday is optional at sign-up (MM-DD, or YYYY-MM-DD), checked strictly: 02-30 and
the like are refused with the reason and nothing is written.  "Birthdays this week" are
those in the seven days from today in the deployment's calendar (SHARECARD_TZ), across a
year's end and a month's end: `/api/v1/customers?birthday=week` and
`/customers?birthday=week`, a salesperson's own customers, a manager's team, the admin's
all."""

import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_leads_intel import FAKETIME_LIB, faketime_env, under_tsan  # noqa: E402
from test_signups import Browser  # noqa: E402


def at(iso):
    return "@" + iso.replace("T", " ").rstrip("Z")


@unittest.skipUnless(os.path.exists(FAKETIME_LIB), "needs Debian's faketime package")
class Birthdays(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if under_tsan():
            raise unittest.SkipTest("faketime and ThreadSanitizer do not mix")
        cls.tmp = harness.tempfile.mkdtemp(prefix="sharecard-clock-")
        cls.clock = os.path.join(cls.tmp, "clock")
        # 20:00 UTC on 28 December is 04:00 on the 29th in +08:00: "today" is the 29th.
        cls.set_clock("2026-12-28T20:00:00Z")
        env = dict(faketime_env(cls.clock), SHARECARD_TRUST_PROXY="1", SHARECARD_TZ="+08:00")
        cls.srv = harness.Server(env=env)
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "admin@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
        tok = lambda e: harness.sharecard("token", "create", "--email", e,  # noqa: E731
                                          db=db).stdout.strip()
        cls.a = harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice",
                                   "--team", "east")
        cls.o = harness.add_member(db, "Olga Other", "olga@example.com", "--slug", "olga",
                                   "--team", "west")
        cls.admin, cls.alice, cls.olga = (tok("admin@example.com"), tok("alice@example.com"),
                                          tok("olga@example.com"))
        harness.sharecard("member", "password", "--email", "alice@example.com", db=db,
                          env={"SHARECARD_PASSWORD": "alice-password-1"})
        cls.srv.start()
        cls.ids = {}
        for key, bday, member in (("bob", "01-02", cls.a),        # next year, in the week
                                  ("carol", "1990-01-04", cls.a),  # the week's last day
                                  ("dave", "01-05", cls.a),        # a day after
                                  ("erin", "12-28", cls.a),        # yesterday in +08:00
                                  ("fay", "", cls.a),              # none given
                                  ("hank", "02-03", cls.a),        # for the month end
                                  ("ivy", "2000-02-05", cls.a),
                                  ("gus", "12-30", cls.o)):        # olga's customer
            st, body = cls.sign_up(key, bday, member)
            assert st == 201, body
            cls.ids[key] = json.loads(body)["customer_id"]

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    @classmethod
    def set_clock(cls, iso):
        with open(cls.clock, "w") as f:
            f.write(at(iso))

    @classmethod
    def sign_up(cls, key, bday, member):
        b = Browser(cls.srv)
        fields = dict(name=key.title(), email=f"{key}@example.com")
        if bday:
            fields["birthday"] = bday
        st, _, body = b.join(member["qr_url"], member["slug"], **fields)
        return st, body.decode()

    def week(self, token):
        st, _, body = self.srv.request("GET", "/api/v1/customers?birthday=week", headers={
            "Authorization": f"Bearer {token}"})
        self.assertEqual(st, 200, body)
        return {r["name"].lower(): r["birthday"] for r in json.loads(body)}

    def test_1_strict_dates_refused_with_the_reason(self):
        for bday, reason in (("02-30", "no such day"), ("1999-02-29", "no such day"),
                             ("04-31", "no such day"), ("13-01", "no such month"),
                             ("2027-01-01", "future"), ("3-7", "MM-DD"),
                             ("03/07", "MM-DD"), ("12-1x", "MM-DD")):
            st, body = self.sign_up("zed", bday, self.a)
            self.assertEqual(st, 422, bday)
            self.assertIn(reason, body, bday)
            self.assertIn("birthday", body, bday)
        # Nothing was written: zed is not a customer, and can still sign up properly.
        st, _, body = self.srv.request("GET", "/api/v1/customers", headers={
            "Authorization": f"Bearer {self.admin}"})
        self.assertNotIn("zed@example.com", body.decode())
        st, _, body = self.srv.request("GET", "/api/v1/customers?birthday=month", headers={
            "Authorization": f"Bearer {self.admin}"})
        self.assertEqual(st, 400)
        self.assertIn("birthday", body.decode())

    def test_2_week_across_the_years_end_in_the_deployments_zone(self):
        self.set_clock("2026-12-28T20:00:00Z")
        self.assertEqual(self.week(self.alice), {"bob": "01-02", "carol": "1990-01-04"})
        self.assertEqual(self.week(self.olga), {"gus": "12-30"})
        self.assertEqual(set(self.week(self.admin)), {"bob", "carol", "gus"})
        # Every row carries the birthday; null when none was given.
        st, _, body = self.srv.request("GET", "/api/v1/customers", headers={
            "Authorization": f"Bearer {self.alice}"})
        rows = {r["name"].lower(): r["birthday"] for r in json.loads(body)}
        self.assertEqual((rows["fay"], rows["erin"], rows["ivy"]), (None, "12-28", "2000-02-05"))
        # (In UTC it was still the 28th: erin in, carol out.  The window is the zone's.)
        # At 23:00 on the 28th in +08:00 the week is 28 December to 3 January.
        self.set_clock("2026-12-28T15:00:00Z")
        self.assertEqual(set(self.week(self.alice)), {"erin", "bob"})  # 28th … 3 January

    def test_3_week_across_a_months_end(self):
        self.set_clock("2027-01-28T20:00:00Z")  # 29 January in +08:00: to 4 February
        self.assertEqual(self.week(self.alice), {"hank": "02-03"})
        self.set_clock("2027-01-30T20:00:00Z")  # 31 January: to 6 February
        self.assertEqual(self.week(self.alice), {"hank": "02-03", "ivy": "2000-02-05"})
        self.set_clock("2026-12-28T20:00:00Z")

    def test_4_page_lists_them_soonest_first(self):
        self.set_clock("2026-12-28T20:00:00Z")
        s = Session(self.srv, ip="203.0.113.99")
        st, _, page = s.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        st, _, _ = s.post("/login", {"csrf": csrf, "email": "alice@example.com",
                                     "password": "alice-password-1"})
        self.assertEqual(st, 303)
        st, _, page = s.get("/customers?birthday=week")
        self.assertEqual(st, 200)
        self.assertIn('id="birthdays"', page)
        ids = [int(i) for i in re.findall(r'<tr data-id="(\d+)">', page)]
        self.assertEqual(ids, [self.ids["bob"], self.ids["carol"]])
        self.assertIn('data-birthday="1990-01-04"', page)
        st, _, page = s.get("/customers")
        self.assertIn('href="/customers?birthday=week"', page)


if __name__ == "__main__":
    harness.main()
