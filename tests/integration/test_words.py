"""Words instead of codes on the English pages (issue 17), over real HTTP:
channels ("WeChat", not "wechat"), reward kinds and states, counts with their
noun in the singular or plural, a coupon's last day in SHARECARD_TZ and a
funnel whose steps never exceed the one before.  The API keeps the codes."""

import http.client
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402

ADMIN_PW = "admin-password-1"
SALES_PW = "sales-password-1"


class Words(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A zone whose day differs from UTC's at this hour (for a coupon's last day), and a
        # welcome coupon for each new customer.
        cls.tz = 14 if time.gmtime().tm_hour >= 11 else -12
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1",
                                      "SHARECARD_TZ": "%+03d:00" % cls.tz,
                                      "SHARECARD_WELCOME": "coupon:50:30"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
        cls.zhang = harness.add_member(db, "Zhang Wei", "zhang@example.com", "--slug", "zhang",
                                       "--team", "east")
        harness.sharecard("member", "password", "--email", "zhang@example.com", db=db,
                          env={"SHARECARD_PASSWORD": SALES_PW})
        cls.token = harness.sharecard("token", "create", "--email", "root@example.com",
                                      db=db).stdout.strip()
        cls.srv.start()
        # Ann scans Zhang's QR code and shares the card on WeChat; Bob opens her share
        # and signs up through it.
        ann = harness.Browser(cls.srv)
        ann.open_link(cls.zhang["qr_url"])
        st, _, body = ann.post("/c/zhang/share", {"channel": "wechat"}, json_answer=True)
        assert st < 300, body
        cls.share = json.loads(body)["url"]
        bob = harness.Browser(cls.srv)
        st, _, body = bob.join(cls.share, "zhang", name="Bob", email="bob@example.com")
        assert st == 201, body
        # Carol signs up through Bob's referral link (Bob earns sign-up points) and buys.
        cls.bob, bj = bob, json.loads(body)
        cls.bob_page = "/r/" + bj["referral_url"].rsplit("/", 1)[1]
        cls.bob_id = bj["customer_id"]
        st, _, body = harness.Browser(cls.srv).join(bj["referral_url"], "zhang", name="Carol",
                                                    email="carol@example.com")
        assert st == 201, body
        st, _, body = cls.srv.request(
            "POST", "/api/v1/conversions",
            body=json.dumps({"email": "carol@example.com", "amount": 300, "order_id": "W-1"}),
            headers={"Authorization": f"Bearer {cls.token}", "Content-Type": "application/json"})
        assert st == 201, body

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def signed_in(self, email, pw, ip, lang=None):
        s = Session(self.srv, ip=ip)
        st, _, _ = s.login(email, pw)
        self.assertEqual(st, 303)
        return s

    def page(self, s, path, zh=False):
        h = s._headers({"Accept-Language": "zh-CN"} if zh else None)
        st, _, body = self.srv.request("GET", path, headers=h)
        self.assertEqual(st, 200, path)
        return body.decode()

    def api(self, path):
        st, _, body = self.srv.request("GET", path,
                                       headers={"Authorization": f"Bearer {self.token}"})
        self.assertEqual(st, 200, path)
        return json.loads(body)

    # ---- 1. channels -----------------------------------------------------------------

    def test_channels_in_words_on_pages_and_codes_in_the_api(self):
        root = self.signed_in("root@example.com", ADMIN_PW, "198.51.100.90")
        dash = self.page(root, "/dashboard")
        table = dash[dash.index('id="channels"'):dash.index("</table>", dash.index('id="channels"'))]
        self.assertIn('<tr data-channel="qr"><td>QR code</td>', table)
        self.assertIn('<tr data-channel="wechat"><td>WeChat</td>', table)
        self.assertNotRegex(table, r"<td>(qr|wechat|direct)\b")
        zh = self.page(root, "/dashboard", zh=True)
        self.assertIn('<tr data-channel="wechat"><td>微信</td>', zh)
        self.assertIn('<tr data-channel="qr"><td>二维码</td>', zh)
        # The share tree: Ann's share is a WeChat one.
        tree = self.page(root, "/dashboard/tree/zhang")
        self.assertIn('<span class="chip">WeChat</span>', tree)
        self.assertIn('<span class="chip">QR code</span>', tree)
        self.assertNotIn('<span class="chip">wechat</span>', tree)
        self.assertIn('<span class="chip">微信</span>', self.page(root, "/dashboard/tree/zhang",
                                                                  zh=True))
        # A lead's page: Bob came via WeChat; the best way to reach a lead is in words.
        leads = self.page(root, "/leads")
        lead = re.search(r'href="/leads/(\d+)"', leads).group(1)
        self.assertNotRegex(leads, r"<td>(call|wechat|email|sms)</td>")
        one = self.page(root, f"/leads/{lead}")
        self.assertNotIn("via wechat", one)
        self.assertNotIn("via qr", one)
        self.assertRegex(one, r"via (WeChat|QR code)")
        self.assertNotRegex(one, r'<option value="call">call<')
        self.assertIn('<option value="call">Phone call</option>', one)
        # The API keeps the codes.
        self.assertIn("wechat", [c["channel"] for c in self.api("/api/v1/channels")])
        tree_api = self.api("/api/v1/cards/zhang/tree")
        self.assertIn("wechat", json.dumps(tree_api))

    def live_line(self, ip, zh=False):
        """The first visit with a channel on a live feed opened before Ann's share is opened."""
        root = self.signed_in("root@example.com", ADMIN_PW, ip)
        c = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
        h = {"Cookie": "; ".join(f"{k}={v}" for k, v in root.cookies.items()),
             "Accept": "text/event-stream"}
        if zh:
            h["Accept-Language"] = "zh-CN"
        c.request("GET", "/api/v1/live", headers=h)
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        try:
            harness.Browser(self.srv).open_link(self.share)
            seen = None
            while seen is None:
                line = r.fp.readline()
                self.assertTrue(line, "the feed ended")
                if line.startswith(b"data: "):
                    ev = json.loads(line[6:])
                    if ev.get("channel") is not None:
                        seen = ev
        finally:
            c.close()
        return seen

    def test_live_feed_lines_in_words_and_its_channel_field_a_code(self):
        seen = self.live_line("198.51.100.91")
        self.assertEqual(seen["channel"], "wechat")
        self.assertIn("via a WeChat share", seen["text"])
        # A Chinese page's feed: its sentences in Chinese, the field still the code.
        seen = self.live_line("198.51.100.95", zh=True)
        self.assertEqual(seen["channel"], "wechat")
        self.assertIn("微信", seen["text"])

    # ---- 2. reward kinds and states ----------------------------------------------------

    def test_reward_kinds_and_states_in_words(self):
        root = self.signed_in("root@example.com", ADMIN_PW, "198.51.100.92")
        page = self.page(root, "/admin/rewards")
        rows = page[page.index("<tbody"):page.index("</tbody>")]
        for code in ("signup", "commission", "coupon", "pending", "hold", "approved"):
            self.assertNotRegex(rows, r"<td>%s[<:]" % code)
        self.assertIn("<td>Sign-up points</td>", rows)
        self.assertIn("<td>Commission</td>", rows)
        self.assertIn("<td>Coupon</td>", rows)
        self.assertRegex(rows, r"<td>(Pending|Approved)</td>")
        self.assertIn('<option value="pending">Pending</option>', page)
        self.assertIn('<option value="hold">Held for review</option>', page)
        zh = self.page(root, "/admin/rewards", zh=True)
        self.assertIn("<td>注册积分</td>", zh)
        self.assertIn("<td>佣金</td>", zh)
        # Bob's own browser on his referral page: Carol's sign-up earned him points.
        _, _, own = self.bob.get(self.bob_page)
        own = own.decode()
        earned = own[own.index('id="own"'):]
        self.assertRegex(earned, r'data-status="pending">.*?<td>Pending</td>')
        self.assertNotIn("<td>pending</td>", earned)
        # His own welcome coupon is a welcome gift whose reward is a coupon, not a purchase
        # worth its value.
        self.assertRegex(earned, r'<tr data-level="0" [^>]*><td>0</td><td class="who">B\*\*</td>'
                                 r'<td>Welcome gift</td><td class="n">Coupon</td>')
        # Bob's customer page: his welcome coupon and points, in words.
        cust = self.page(root, f"/customers/{self.bob_id}")
        self.assertNotRegex(cust, r"\((pending|approved|hold)\)")
        self.assertRegex(cust, r"\((Pending|Approved)\)")
        self.assertIn("Coupon (", cust)
        # The API keeps the codes.
        kinds = {r["kind"] for r in self.api("/api/v1/rewards")}
        self.assertTrue({"signup", "commission", "coupon"} <= kinds, kinds)

    # ---- 3. plurals ----------------------------------------------------------------------

    def test_a_count_of_one_takes_the_singular(self):
        root = self.signed_in("root@example.com", ADMIN_PW, "198.51.100.93")
        tree = self.page(root, "/dashboard/tree/zhang")
        hints = re.findall(r'<span class="hint">([^<]*)</span>', tree)
        self.assertTrue(hints)
        self.assertIn("1 sign-up · ", "\n".join(hints))  # Bob's link: Carol
        self.assertRegex("\n".join(hints), r"(^|\n)1 visit · ")
        for h in hints:
            self.assertNotRegex(h, r"(^|\D)1 (visits|sign-ups)\b", h)
            self.assertRegex(h, r"^\d+ visits? · \d+ sign-ups? · ")
        # Chinese has no plural: the sentence stays.
        zh = self.page(root, "/dashboard/tree/zhang", zh=True)
        self.assertRegex(zh, r"\d+ 次访问 · \d+ 个注册 · ")
        # A lead list asked for one quiet day says "day".
        leads = self.page(root, "/leads?quiet=1")
        self.assertIn("Only leads quiet for 1 day or more.", leads)

    # ---- 4. a coupon's last day ------------------------------------------------------------

    def test_coupon_last_day_in_the_deployments_zone(self):
        import datetime
        bob = [c for c in self.api("/api/v1/coupons") if c["customer_id"] == self.bob_id]
        self.assertEqual(len(bob), 1)
        utc = datetime.datetime.strptime(bob[0]["expires_at"], "%Y-%m-%dT%H:%M:%SZ")  # UTC
        local = (utc + datetime.timedelta(hours=self.tz)).strftime("%Y-%m-%d")
        self.assertNotEqual(local, utc.strftime("%Y-%m-%d"))  # the zone was chosen so
        _, _, own = self.bob.get(self.bob_page)
        own = own.decode()
        self.assertIn("valid until %s ·" % local, own)
        self.assertNotIn(utc.strftime("%Y-%m-%d"), own)

    # ---- 5. the funnel ---------------------------------------------------------------------

    def test_funnel_says_its_percentages_are_ratios_that_may_pass_100(self):
        root = self.signed_in("root@example.com", ADMIN_PW, "198.51.100.94")
        dash = self.page(root, "/dashboard")
        funnel = dash[dash.index('class="funnel"'):]
        funnel = funnel[:funnel.index("</section>")]
        self.assertIn('<p class="hint" id="funnel-note">Counts of events, not people: a visitor '
                      'may view the card again or come without a tracked link, so a step\'s '
                      'share of scans and opens can be more than 100%</p>', funnel)
        steps = [int(v) for v in re.findall(r'<g data-step="\d" data-value="(\d+)"', funnel)]
        self.assertEqual(len(steps), 5)
        zh = self.page(root, "/dashboard", zh=True)
        self.assertIn("统计的是事件次数，而非人数：", zh)


if __name__ == "__main__":
    harness.main()
