"""What a visitor, a salesperson and a manager meet (issue 17), over real HTTP:
the salesperson's own figures on top of /me and their QR code at full
screen, money in the deployment's currency."""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_signups import Browser  # noqa: E402

ADMIN_PW = "admin-password-1"
SALES_PW = "sales-password-1"


def csrf_of(page):
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


class Ux(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1",
                                      "SHARECARD_CURRENCY": "USD"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
        cls.zhang = harness.add_member(db, "张伟", "zhang@example.com", "--slug", "zhang",
                                       "--team", "east")
        cls.li = harness.add_member(db, "Li Na", "li@example.com", "--slug", "lina",
                                    "--team", "east")
        harness.add_member(db, "Wes West", "wes@example.com", "--slug", "wes", "--team", "west")
        for email in ("zhang@example.com", "li@example.com"):
            harness.sharecard("member", "password", "--email", email, db=db,
                              env={"SHARECARD_PASSWORD": SALES_PW})
        cls.token = harness.sharecard("token", "create", "--email", "root@example.com",
                                      db=db).stdout.strip()
        cls.srv.start()
        # Two customers through Li's card, one through Zhang's; Zhang's buys for $1,234.50.
        for slug, card, name, email in (("lina", cls.li, "Ann", "ann@example.com"),
                                        ("lina", cls.li, "Bob", "bob@example.com"),
                                        ("zhang", cls.zhang, "Cai", "cai@example.com")):
            b = Browser(cls.srv)
            st, _, _ = b.sign_up(b.open_link(card["qr_url"]), slug, name=name, email=email)
            assert st == 201, st
        st, _, body = cls.srv.request(
            "POST", "/api/v1/conversions",
            body=json.dumps({"email": "cai@example.com", "amount": 1234.50, "order_id": "U-1"}),
            headers={"Authorization": f"Bearer {cls.token}", "Content-Type": "application/json"})
        assert st == 201, body

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def signed_in(self, email, pw, ip):
        s = Session(self.srv, ip=ip)
        st, _, _ = s.login(email, pw)
        self.assertEqual(st, 303)
        return s

    def tile(self, page, key):
        m = re.search(r'data-kpi="%s" data-value="(-?\d+)"><div class="v">([^<]*)<' % key, page)
        self.assertIsNotNone(m, key)
        return int(m.group(1)), m.group(2)

    def test_me_opens_with_show_my_qr_rank_and_own_earnings(self):
        z = self.signed_in("zhang@example.com", SALES_PW, "198.51.100.61")
        st, _, page = z.get("/me")
        self.assertEqual(st, 200)
        top = page.index('id="me-top"')
        self.assertLess(top, page.index('data-kpi="scans"'))  # before the traffic tiles
        self.assertIn('<a class="btn primary showqr" id="show-qr" href="/me/qr">', page)
        self.assertEqual(self.tile(page, "rank"), (2, "2 / 2"))  # Li has two sign-ups, Zhang one
        self.assertEqual(self.tile(page, "my-points")[0], 2)
        # 10 % of $1,234.50, in dollars as people read them.
        self.assertEqual(self.tile(page, "my-commission"), (12345, "$123.45"))
        li = self.signed_in("li@example.com", SALES_PW, "198.51.100.62")
        _, _, page = li.get("/me")
        self.assertEqual(self.tile(page, "rank"), (1, "1 / 2"))
        self.assertEqual(self.tile(page, "my-points")[0], 4)

    def test_show_my_qr_fills_the_screen(self):
        z = self.signed_in("zhang@example.com", SALES_PW, "198.51.100.63")
        st, _, page = z.get("/me/qr")
        self.assertEqual(st, 200)
        self.assertIn('<section class="qrfull" id="qrfull"><img src="/c/zhang/qr.svg"', page)
        self.assertIn("张伟", page)
        st, _, svg = self.srv.request("GET", "/c/zhang/qr.svg")
        self.assertEqual(st, 200)
        self.assertIn(b"<svg", svg)
        self.assertEqual(Session(self.srv, ip="198.51.100.64").get("/me/qr")[0], 303)


if __name__ == "__main__":
    harness.main()
