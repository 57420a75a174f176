"""What a visitor, a salesperson and a manager meet (issue 17), over real HTTP:
the salesperson's own figures on top of /me and their QR code at full
screen, money in the deployment's currency."""

import csv
import io
import json
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import time
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
                                      "SHARECARD_CURRENCY": "USD", "SHARECARD_TZ": "+08:00"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
        cls.zhang = harness.add_member(db, "张伟", "zhang@example.com", "--slug", "zhang",
                                       "--team", "east")
        cls.li = harness.add_member(db, "Li Na", "li@example.com", "--slug", "lina",
                                    "--team", "east")
        cls.wes = harness.add_member(db, "Wes West", "wes@example.com", "--slug", "wes",
                                     "--team", "west")
        harness.add_member(db, "Mona Manager", "mona@example.com", "--slug", "mona", "--role",
                           "manager", "--team", "east")
        for email in ("zhang@example.com", "li@example.com", "mona@example.com"):
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
        # Ann (Li's customer) also looks at Zhang's card; Wes's team has a customer too.
        cls.ann = b = Browser(cls.srv)
        st, _, _ = b.sign_up(b.open_link(cls.li["qr_url"]), "lina", name="Ann Again",
                             email="ann2@example.com")
        b.open_link(cls.zhang["qr_url"])
        w = Browser(cls.srv)
        st, _, _ = w.sign_up(w.open_link(cls.wes["qr_url"]), "wes", name="Wu West",
                             email="wu@example.com")
        assert st == 201, st

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
        self.assertEqual(self.tile(page, "rank"), (2, "2 / 3"))  # Li has three sign-ups, Zhang one
        self.assertEqual(self.tile(page, "my-points")[0], 2)
        # 10 % of $1,234.50, in dollars as people read them.
        self.assertEqual(self.tile(page, "my-commission"), (12345, "$123.45"))
        li = self.signed_in("li@example.com", SALES_PW, "198.51.100.62")
        _, _, page = li.get("/me")
        self.assertEqual(self.tile(page, "rank"), (1, "1 / 3"))
        self.assertEqual(self.tile(page, "my-points")[0], 6)

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


    # ---- the manager ------------------------------------------------------------------

    def test_why_in_words_in_both_languages(self):
        mona = self.signed_in("mona@example.com", SALES_PW, "198.51.100.65")
        st, _, page = mona.get("/dashboard")
        self.assertEqual(st, 200)
        rows = page[page.index('id="signups"'):]
        self.assertIn('<span title="last_touch">the last link they came through</span>', rows)
        self.assertNotIn(">last_touch<", rows)
        mona_zh = Session(self.srv, ip="198.51.100.66")
        mona_zh.login("mona@example.com", SALES_PW)
        h = mona_zh._headers({"Accept-Language": "zh-CN"})
        st, _, body = self.srv.request("GET", "/dashboard", headers=h)
        self.assertIn("最后一次来访所用的链接", body.decode())

    def test_leads_show_card_owners_by_name_and_others_customers_as_visitors(self):
        li = self.signed_in("li@example.com", SALES_PW, "198.51.100.67")
        st, _, page = li.get("/leads")
        self.assertIn("<th>Person</th>", page)
        self.assertIn('<span class="owner" title="lina">Li Na</span>', page)
        self.assertIn("Ann Again", page)  # Li's own customer, by name
        z = self.signed_in("zhang@example.com", SALES_PW, "198.51.100.68")
        st, _, page = z.get("/leads")
        self.assertNotIn("Ann Again", page)  # Li's customer on Zhang's card: a visitor
        self.assertIn("Cai", page)
        zh = Session(self.srv, ip="198.51.100.69")
        zh.login("zhang@example.com", SALES_PW)
        _, _, body = self.srv.request("GET", "/leads",
                                      headers=zh._headers({"Accept-Language": "zh-CN"}))
        self.assertIn("<th>访客或客户</th>", body.decode())
        self.assertNotIn("操作人", body.decode())
        st, _, body = self.srv.request("GET", "/api/v1/leads",
                                       headers={"Authorization": f"Bearer {self.token}"})
        leads = json.loads(body)
        self.assertEqual({(x["card"], x["card_owner"]) for x in leads},
                         {("lina", "Li Na"), ("zhang", "张伟"), ("wes", "Wes West")})
        # One lead's timeline names the card by its owner too.
        lead = next(x for x in leads if x["card"] == "lina")
        st, _, page = li.get(f"/leads/{lead['id']}")
        self.assertEqual(st, 200)
        self.assertIn(" · Li Na", page)
        self.assertNotIn(" · lina", page)

    def test_rewards_newest_first_filtered_paged_and_approved_in_bulk(self):
        # Enough rows for two pages: purchases by Li's customers earn commissions.
        for i in range(28):
            b = Browser(self.srv)
            email = f"bulk{i}@example.com"
            st, _, _ = b.sign_up(b.open_link(self.li["qr_url"]), "lina", name=f"Bulk {i}",
                                 email=email)
            self.assertEqual(st, 201)
            st, _, _ = self.srv.request(
                "POST", "/api/v1/conversions",
                body=json.dumps({"email": email, "amount": 10 + i, "order_id": f"B-{i}"}),
                headers={"Authorization": f"Bearer {self.token}",
                         "Content-Type": "application/json"})
            self.assertEqual(st, 201)
        mona = self.signed_in("mona@example.com", SALES_PW, "198.51.100.70")
        st, _, page = mona.get("/admin/rewards")
        self.assertEqual(st, 200)
        self.assertIn('<a href="/admin/rewards" class="on">', page)  # in the navigation
        ids = [int(x) for x in re.findall(r'data-reward="(\d+)"', page)]
        self.assertEqual(len(ids), 50)
        self.assertEqual(ids, sorted(ids, reverse=True))  # newest first
        total = int(re.search(r'data-total="(\d+)"', page).group(1))
        self.assertGreater(total, 50)
        self.assertIn('rel="next" href="/admin/rewards?status=all&amp;page=2"', page)
        _, _, page2 = mona.get("/admin/rewards?page=2")
        ids2 = [int(x) for x in re.findall(r'data-reward="(\d+)"', page2)]
        self.assertEqual(len(ids) + len(ids2), total)
        self.assertLess(max(ids2), min(ids))
        # Points and money in their own columns, money in dollars.
        self.assertRegex(page, r'<td class="n"></td><td class="n">\$\d+\.\d\d</td>')
        # The filter.
        _, _, pend = mona.get("/admin/rewards?status=pending")
        self.assertEqual(set(re.findall(r'data-status="(\w+)"', pend)), {"pending"})
        self.assertEqual(mona.get("/admin/rewards?status=xml")[0], 400)
        # Approve two selected rows at once; a row of another team is not touched.
        pending = [int(x) for x in re.findall(r'data-reward="(\d+)" data-status="pending"', pend)]
        st, _, body = self.srv.request("GET", "/api/v1/rewards",
                                       headers={"Authorization": f"Bearer {self.token}"})
        west = [w["id"] for w in json.loads(body)
                if w["party"]["name"] == "Wes West" and w["status"] == "pending"]
        self.assertTrue(west)
        pick = pending[:2] + west[:1]
        body = "&".join([f"csrf={csrf_of(pend)}", "decision=approved", "reason=checked"] +
                        [f"id={i}" for i in pick])
        st, h, out = self.srv.request("POST", "/admin/rewards/bulk", body=body, headers=mona._headers(
            {"Content-Type": "application/x-www-form-urlencoded"}))
        self.assertEqual(st, 200, out)
        self.assertIn("Approved 2 of the 3 selected rows.", out.decode())
        st, _, body = self.srv.request("GET", "/api/v1/rewards",
                                       headers={"Authorization": f"Bearer {self.token}"})
        status = {w["id"]: w["status"] for w in json.loads(body)}
        self.assertEqual([status[i] for i in pick], ["approved", "approved", "pending"])
        st, _, body = self.srv.request("GET", "/api/v1/audit",
                                       headers={"Authorization": f"Bearer {self.token}"})
        audited = {(a["actor"], a["action"], a["target"]) for a in json.loads(body)}
        for i in pick[:2]:
            self.assertIn(("mona@example.com", "reward.approve", f"reward:{i}"), audited)
        # Without the form's token nothing happens.
        st, _, _ = self.srv.request("POST", "/admin/rewards/bulk", body=f"decision=approved&id="
                                    f"{pending[2]}", headers=mona._headers(
                                        {"Content-Type": "application/x-www-form-urlencoded"}))
        self.assertEqual(st, 403)


    def test_dashboard_money_in_the_currency_and_times_in_the_zone(self):
        mona = self.signed_in("mona@example.com", SALES_PW, "198.51.100.72")
        st, _, page = mona.get("/dashboard")
        self.assertEqual(st, 200)
        m = re.search(r'data-kpi="revenue" data-value="(\d+)" data-currency="USD"><div '
                      r'class="v">([^<]+)<', page)
        self.assertIsNotNone(m)
        cents = int(m.group(1))
        self.assertGreaterEqual(cents, 123450)
        self.assertEqual(m.group(2), "${:,}.{:02d}".format(cents // 100, cents % 100))
        # The sign-ups' times in SHARECARD_TZ (+08:00); the API stays UTC.
        st, _, body = self.srv.request("GET", "/api/v1/signups",
                                       headers={"Authorization": f"Bearer {self.token}"})
        cai = next(x for x in json.loads(body) if x["name"] == "Cai")
        self.assertTrue(cai["created_at"].endswith("Z"))
        import datetime
        utc = datetime.datetime.strptime(cai["created_at"], "%Y-%m-%dT%H:%M:%SZ")
        local = (utc + datetime.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
        self.assertRegex(page, r"<tr><td>%s</td><td>Cai</td>" % re.escape(local))
        self.assertIn('<p class="hint tz" id="tz">Times are in +08:00', page)
        self.assertIn("<th>When</th>", page)
        # The daily chart has dates under its axis and a legend in text.
        self.assertRegex(page, r'<text class="xday"[^>]*>\d\d-\d\d</text>')
        self.assertIn('<ul class="legend" id="chart-legend">', page)


    def test_a_back_dated_order_counts_on_its_own_day_everywhere(self):
        # Posted today, made 10 days ago: its bar, its tile and the previous-period
        # comparison all follow ordered_at, not the day it was imported.
        import datetime
        today = datetime.datetime.now(datetime.timezone.utc).date()
        then = today - datetime.timedelta(days=10)
        st, _, body = self.srv.request(
            "POST", "/api/v1/conversions",
            body=json.dumps({"email": "wu@example.com", "amount": 50, "order_id": "U-BACK",
                             "ordered_at": f"{then.isoformat()}T12:00:00Z"}),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        self.assertEqual(st, 201, body)
        root = self.signed_in("root@example.com", ADMIN_PW, "198.51.100.73")

        def day(d):
            st, _, page = root.get(f"/dashboard?from={d.isoformat()}&to={d.isoformat()}")
            self.assertEqual(st, 200)
            m = re.search(r'<polyline data-type="convert" data-n="([\d,]*)"', page)
            return page, [int(x) for x in m.group(1).split(",")] if m else [0]

        page, bars = day(then)
        self.assertEqual(bars, [1])
        self.assertEqual(self.tile(page, "orders")[0], 1)
        self.assertRegex(page, r'data-kpi="revenue" data-value="5000"')
        # The day after: that order is the previous period's.
        page, bars = day(then + datetime.timedelta(days=1))
        self.assertEqual(bars, [0])
        self.assertRegex(page, r'data-kpi="orders" data-value="0"[^>]*><div class="v">0</div>'
                               r'<div class="k">[^<]*</div><div class="d[^"]*">[^<]*-100%')
        # Today has only the order made today (Cai's $1,234.50), in the chart and the tile.
        page, bars = day(today)
        self.assertEqual(bars, [1])
        self.assertEqual(self.tile(page, "orders")[0], 1)
        self.assertRegex(page, r'data-kpi="revenue" data-value="123450"')

    def test_live_feed_times_in_the_deployments_zone(self):
        # The feed carries each visit's time of day in SHARECARD_TZ (+08:00 here), as the
        # pages show times, beside the UTC instant; the page prints that, not the browser's.
        import datetime
        import http.client
        root = self.signed_in("root@example.com", ADMIN_PW, "198.51.100.74")
        c = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=30)
        c.request("GET", "/api/v1/live", headers={
            "Cookie": "; ".join(f"{k}={v}" for k, v in root.cookies.items()),
            "Accept": "text/event-stream"})
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        try:
            Browser(self.srv).open_link(self.li["qr_url"])
            seen = None
            while seen is None:
                line = r.fp.readline()
                self.assertTrue(line, "the feed ended")
                if line.startswith(b"data: "):
                    seen = json.loads(line[6:])
        finally:
            c.close()
        utc = datetime.datetime.strptime(seen["at"], "%Y-%m-%dT%H:%M:%SZ")
        self.assertEqual(seen["local"], (utc + datetime.timedelta(hours=8)).strftime("%H:%M:%S"))
        st, _, js = self.srv.request("GET", "/static/app.js")
        self.assertEqual(st, 200)
        self.assertIn("t.textContent = v.local ||", js.decode())

    def test_unknown_format_is_refused_on_every_list(self):
        for path in ("/api/v1/signups", "/api/v1/rewards", "/api/v1/leads", "/api/v1/members",
                     "/api/v1/leaderboard", "/api/v1/customers", "/api/v1/channels"):
            st, _, body = self.srv.request("GET", path + "?format=xml",
                                           headers={"Authorization": f"Bearer {self.token}"})
            self.assertEqual(st, 400, path)
            self.assertIn("format must be json or csv", body.decode(), path)
            for ok in ("json", "csv"):
                st, _, _ = self.srv.request("GET", f"{path}?format={ok}",
                                            headers={"Authorization": f"Bearer {self.token}"})
                self.assertEqual(st, 200, (path, ok))

    def test_signups_csv_phones_as_text_without_an_apostrophe(self):
        b = Browser(self.srv)
        st, _, _ = b.sign_up(b.open_link(self.zhang["qr_url"]), "zhang", name="Pan Phone",
                             phone="+86 139 1234 5678")
        self.assertEqual(st, 201)
        st, _, body = self.srv.request("GET", "/api/v1/signups?format=csv",
                                       headers={"Authorization": f"Bearer {self.token}"})
        text = body.decode("utf-8-sig")
        self.assertNotIn("'+86", text)
        self.assertIn('"\t+8613912345678"', text)
        row = next(r for r in csv.DictReader(io.StringIO(text)) if r["name"] == "Pan Phone")
        self.assertEqual(row["phone"], "\t+8613912345678")
        self.assertEqual(row["phone"].strip(), "+8613912345678")  # the text is the number


class LiveFeedLeaving(unittest.TestCase):
    """A client leaving the live feed is logged at debug, never as a warning."""

    def test_client_leaving_the_live_feed_is_debug(self):
        srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1", "SHARECARD_LOG_LEVEL": "debug"})
        try:
            harness.sharecard("init", "--admin-email", "root@example.com", db=srv.db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            card = harness.add_member(srv.db, "Lu Live", "lu@example.com", "--slug", "lulu")
            srv.start()
            root = Session(srv, ip="198.51.100.90")
            self.assertEqual(root.login("root@example.com", ADMIN_PW)[0], 303)
            cookie = "; ".join(f"{k}={v}" for k, v in root.cookies.items())
            for _ in range(3):
                s = socket.create_connection(("127.0.0.1", srv.port))
                s.sendall(f"GET /api/v1/live HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n"
                          "Accept: text/event-stream\r\n\r\n".encode())
                self.assertIn(b" 200 ", s.recv(4096))
                # Gone at once (a reset, as a closed tab), then visits arrive for the feed.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
                Browser(srv).open_link(card["qr_url"])
            deadline = time.monotonic() + 30  # the feed writes each second: wait for it to try
            while time.monotonic() < deadline and not any(
                    " debug http: " in line for line in srv.log):
                time.sleep(0.2)
            srv.stop()
            log = "".join(srv.log)
            self.assertIn(" debug http: ", log)  # it did notice the client leaving
            self.assertNotIn(" warn http: ", log)
        finally:
            srv.cleanup()


class CliUx(unittest.TestCase):
    """The command line as a new user meets it (issue 17)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sharecard-cliux-")
        self.db = harness.new_db(self.tmp, "s.db")
        harness.sharecard("init", "--admin-email", "root@example.com", db=self.db,
                          env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_member_add_refuses_an_unknown_language(self):
        p = harness.sharecard("member", "add", "--name", "Fay", "--email", "fay@example.com",
                              "--lang", "fr", db=self.db, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--lang must be en or zh-CN", p.stderr)
        for ok in ("en", "zh-CN", "zh"):
            harness.sharecard("member", "add", "--name", "Fay " + ok, "--email",
                              f"fay.{ok.lower()}@example.com", "--lang", ok, db=self.db)

    @harness.skip_unless_sqlite("a missing store is a missing file")
    def test_read_only_commands_refuse_a_store_that_does_not_exist(self):
        typo = os.path.join(self.tmp, "typo.db")
        for cmd in (["member", "list"], ["qr", "x", "-o", os.path.join(self.tmp, "q.png")],
                    ["export", "members"], ["webhook", "list"], ["score", "eval"],
                    ["customer", "export", "--email", "a@example.com"]):
            p = harness.sharecard(*cmd, db=typo, check=False)
            self.assertNotEqual(p.returncode, 0, cmd)
            self.assertIn("it does not exist", p.stderr, cmd)
            self.assertFalse(os.path.exists(typo), cmd)
        # A command that creates one still does.
        harness.sharecard("init", "--admin-email", "a@example.com", db=typo,
                          env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
        self.assertTrue(os.path.exists(typo))

    def test_qr_says_its_base_url_warns_on_loopback_and_has_the_size_asked(self):
        card = harness.add_member(self.db, "Qi", "qi@example.com", "--slug", "qiqi")
        self.assertTrue(card["slug"])
        out = os.path.join(self.tmp, "q.png")
        p = harness.sharecard("qr", "qiqi", "-o", out, db=self.db)
        self.assertIn("http://127.0.0.1:8080/l/", p.stderr)
        self.assertIn("warning", p.stderr)
        p = harness.sharecard("qr", "qiqi", "-o", out, "--base-url", "https://cards.example.com",
                              db=self.db)
        self.assertIn("https://cards.example.com/l/", p.stderr)
        self.assertNotIn("warning", p.stderr)
        for size in (512, 2048, 1000, 128):
            harness.sharecard("qr", "qiqi", "-o", out, "--size", str(size), db=self.db)
            with open(out, "rb") as f:
                head = f.read(24)
            self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
            w, h = struct.unpack(">II", head[16:24])
            self.assertEqual((w, h), (size, size))

    def test_duplicate_member_names_which_one(self):
        harness.add_member(self.db, "Dee", "dee@example.com", "--slug", "dee")
        p = harness.sharecard("member", "add", "--name", "Dee 2", "--email", "DEE@example.com",
                              db=self.db, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("a member with the email dee@example.com already exists (Dee, card dee)",
                      p.stderr)
        p = harness.sharecard("member", "add", "--name", "Other", "--email", "o@example.com",
                              "--slug", "dee", db=self.db, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("a card with the slug dee already exists (Dee's)", p.stderr)

    def test_member_help_lists_every_subcommand(self):
        p = harness.sharecard("member", "--help")
        self.assertIn("add|list|password|disable|enable", p.stdout)

    def test_token_create_is_audited(self):
        harness.sharecard("token", "create", "--email", "root@example.com", "--label", "crm",
                          db=self.db)
        rows = harness.query(self.db, "SELECT actor, action, target, detail FROM audit")
        self.assertIn(("cli", "token.create", "root@example.com", "crm"),
                      [tuple(r) for r in rows])


if __name__ == "__main__":
    harness.main()
