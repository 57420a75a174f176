"""Tracking over real HTTP: scans, opens, views, shares, beacons and stats.

Managers pay on these counts, so each test states a count a person would
expect and checks the stats API (and, where it matters, the stored rows).
"""

import http.client
import json
import os
import re
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")

HUMANS = {
    "Safari iOS": IPHONE,
    "Chrome Android": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, "
                      "like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "WeChat in-app": "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
                     "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) "
                     "NetType/WIFI Language/zh_CN",
    "WeChat Android": "Mozilla/5.0 (Linux; Android 13; V2183A Build/TP1A.220624.014; wv) "
                      "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 "
                      "Mobile Safari/537.36 XWEB/1110005 MMWEBSDK/20230805 MMWEBID/2922 "
                      "MicroMessenger/8.0.42.2460(0x28002A35) WeChat/arm64 Weixin NetType/WIFI "
                      "Language/zh_CN ABI/arm64",
    "Samsung Internet": "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 "
                        "(KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile "
                        "Safari/537.36",
    "Firefox desktop": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 "
                       "Firefox/125.0",
    "Instagram in-app": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) "
                        "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram "
                        "317.0.3.27.111 (iPhone15,2; iOS 17_3; en_US; en)",
    "DingTalk": "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 "
                "(KHTML, like Gecko) Mobile/15E148 AliApp(DingTalk/7.0.40) "
                "com.laiwang.DingTalk/28826148 Channel/201200 language/zh-Hans-CN",
}

BOTS = {
    "WhatsApp": "WhatsApp/2.23.20.0 A",
    "Telegram": "TelegramBot (like TwitterBot)",
    "Slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Discord": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "LinkedIn": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitter": "Twitterbot/1.0",
    "Skype": "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
    "iMessage": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, "
                "like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot "
                "Twitterbot/1.0",
    "Google": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Bing": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Headless Chrome": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "HeadlessChrome/120.0.0.0 Safari/537.36",
    "Baidu": "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "curl": "curl/8.4.0",
    "empty": "",
}


class Tracking(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server()
        db = cls.srv.db
        cls.admin_email = "admin@example.com"
        harness.sharecard("init", "--admin-email", cls.admin_email, db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
        cls.token = harness.sharecard("token", "create", "--email", cls.admin_email,
                                      db=db).stdout.strip()
        cls.cards = {}
        for i, name in enumerate(["scan", "same", "bots", "humans", "tree", "beacon", "dnt",
                                  "other", "botfast", "botsame", "botview"]):
            cls.cards[name] = harness.add_member(db, f"Member {name}", f"{name}@example.com",
                                                 "--slug", f"card-{name}", "--team", "t1")
        harness.add_member(db, "Sales Two", "two@example.com", "--team", "t2")
        cls.sales_token = harness.sharecard("token", "create", "--email", "two@example.com",
                                            db=db).stdout.strip()
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    # -- helpers ------------------------------------------------------------

    def code(self, name):
        return self.cards[name]["qr_url"].rsplit("/", 1)[1]

    def req(self, method, path, ua=IPHONE, cookie=None, body=None, headers=None):
        h = {"User-Agent": ua} if ua is not None else {}
        if cookie:
            h["Cookie"] = f"sc_vid={cookie}"
        if body is not None:
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        return self.srv.request(method, path, body=body, headers=h)

    @staticmethod
    def cookie_of(headers):
        sc = headers.get("set-cookie", "")
        if not sc.startswith("sc_vid="):
            return None
        return sc.split(";", 1)[0].split("=", 1)[1]

    def stats(self, slug, token=None, query=""):
        st, _, body = self.srv.request("GET", f"/api/v1/cards/{slug}/stats{query}",
                                       headers={"Authorization": f"Bearer {token or self.token}"})
        self.assertEqual(st, 200, body)
        return json.loads(body)

    def stats_once(self, slug, field, want):
        """The card's stats once 'field' reached 'want' (a bot's scan is answered before its
        row is written, in the writer's next batch), or as they are after 30 s."""
        deadline = time.monotonic() + 30
        while True:
            s = self.stats(slug)
            if s[field] >= want or time.monotonic() > deadline:
                return s
            time.sleep(0.05)

    def visit(self, name, ua=IPHONE, cookie=None):
        """Scan a card's QR as a person would: /l/{code}, then the page it redirects to."""
        st, h, _ = self.req("GET", f"/l/{self.code(name)}", ua=ua, cookie=cookie)
        self.assertEqual(st, 302)
        cookie = cookie or self.cookie_of(h)
        st, _, page = self.req("GET", h["location"], ua=ua, cookie=cookie)
        self.assertEqual(st, 200)
        return cookie, page.decode()

    def db(self):
        return harness.Rows(self.srv.db)

    # -- tests ----------------------------------------------------------------

    def test_distinct_visitors_are_distinct(self):
        n = 12  # twelve people on one venue Wi-Fi with the same phone
        cookies = set()
        for _ in range(n):
            c, _ = self.visit("scan")
            cookies.add(c)
        self.assertEqual(len(cookies), n)
        s = self.stats("card-scan")
        self.assertEqual((s["scans"], s["views"], s["uniques"], s["bots"]), (n, n, n, 0))

    def test_same_visitor_twice_is_one_unique(self):
        c, _ = self.visit("same")
        c2, _ = self.visit("same", cookie=c)
        self.assertEqual(c, c2)
        s = self.stats("card-same")
        self.assertEqual((s["scans"], s["views"], s["uniques"]), (2, 2, 1))

    def test_cookie_attributes(self):
        st, h, _ = self.req("GET", f"/l/{self.code('other')}")
        sc = h["set-cookie"]
        self.assertIn("HttpOnly", sc)
        self.assertIn("SameSite=Lax", sc)
        self.assertIn("Path=/", sc)
        self.assertRegex(sc, r"Max-Age=\d{7,}")
        self.assertNotIn("Secure", sc)  # the test server's base URL is http

    def test_bots_and_previews_never_count(self):
        for name, ua in BOTS.items():
            st, h, _ = self.req("GET", f"/l/{self.code('bots')}", ua=ua)
            self.assertEqual(st, 302, name)
            st, _, _ = self.req("GET", "/c/card-bots", ua=ua)
            self.assertEqual(st, 200, name)
        st, _, _ = self.req("HEAD", f"/l/{self.code('bots')}")
        self.assertEqual(st, 302)
        st, _, _ = self.req("HEAD", "/c/card-bots")
        self.assertEqual(st, 200)
        s = self.stats_once("card-bots", "bots", 2 * len(BOTS) + 2)
        self.assertEqual((s["scans"], s["opens"], s["views"], s["uniques"]), (0, 0, 0, 0), s)
        self.assertEqual(s["bots"], 2 * len(BOTS) + 2)
        with self.db() as d:
            reasons = {r[0] for r in d.execute(
                "SELECT e.bot FROM events e JOIN cards c ON c.id = e.card_id "
                "WHERE c.slug = 'card-bots'")}
        self.assertNotIn(0, reasons)
        self.assertLessEqual({1, 2, 3, 5, 6, 7}, reasons)  # preview … head, all recorded

    def test_a_bot_is_answered_at_once_and_its_row_lands(self):
        # Issue 15: a crawler's or a preview's scan is answered without waiting for its
        # commit, and without a cookie; its row lands in the next batch, as a bot's, with no
        # visitor (no visitor key, never a unique).
        before = harness.scalar(self.srv.db, "SELECT count(*) FROM visitors") if \
            harness.is_pg(self.srv.db) else harness.scalar(
                self.srv.db, "SELECT count(*) FROM visitor_keys")
        for ua in (BOTS["Google"], BOTS["WhatsApp"]):
            st, h, _ = self.req("GET", f"/l/{self.code('botfast')}", ua=ua)
            self.assertEqual(st, 302)
            self.assertEqual(h["location"], f"/c/card-botfast?l={self.code('botfast')}")
            self.assertIsNone(self.cookie_of(h))
        s = self.stats_once("card-botfast", "bots", 2)
        self.assertEqual((s["bots"], s["scans"], s["uniques"]), (2, 0, 0), s)
        with self.db() as d:
            rows = d.execute("SELECT e.bot, e.visitor_id FROM events e JOIN cards c ON "
                             "c.id = e.card_id WHERE c.slug = 'card-botfast'")
        self.assertEqual(len(rows), 2)
        self.assertTrue(all(bot != 0 and vid is None for bot, vid in rows), rows)
        after = harness.scalar(self.srv.db, "SELECT count(*) FROM visitors") if \
            harness.is_pg(self.srv.db) else harness.scalar(
                self.srv.db, "SELECT count(*) FROM visitor_keys")
        self.assertEqual(after, before)
        # A person on the same link still gets a cookie and is counted once committed.
        cookie, _ = self.visit("botfast")
        self.assertIsNotNone(cookie)
        s = self.stats("card-botfast")
        self.assertEqual((s["bots"], s["scans"], s["uniques"]), (2, 1, 1), s)

    def test_bots_share_one_answer_that_is_a_persons_without_the_cookie(self):
        # Issue 15: every bot on a link gets the same 302, built once: a person's 302 but for
        # the cookie, also on a kept-alive connection; a person after the bots still gets
        # their own cookie, and each bot request still has its row.
        path = f"/l/{self.code('botsame')}"
        st, person, _ = self.req("GET", path)
        self.assertEqual(st, 302)
        self.assertIsNotNone(self.cookie_of(person))
        skip = {"set-cookie", "date", "connection", "keep-alive"}
        want = {k: v for k, v in person.items() if k not in skip}
        self.assertEqual(want["location"], f"/c/card-botsame?l={self.code('botsame')}")
        self.assertEqual(want["cache-control"], "no-store")
        self.assertIn("content-security-policy", want)
        n = 0
        for ua in (BOTS["Google"], BOTS["WhatsApp"], BOTS["Bing"]):
            st, h, _ = self.req("GET", path, ua=ua)
            n += 1
            self.assertEqual(st, 302)
            self.assertEqual({k: v for k, v in h.items() if k not in skip}, want)
            self.assertNotIn("set-cookie", h)
        c = self.srv.conn()
        try:
            for ua in (BOTS["Slack"], BOTS["Twitter"], BOTS["Slack"]):
                c.request("GET", path, headers={"User-Agent": ua})
                r = c.getresponse()
                r.read()
                n += 1
                h = {k.lower(): v for k, v in r.getheaders()}
                self.assertEqual(r.status, 302)
                self.assertEqual({k: v for k, v in h.items() if k not in skip}, want)
        finally:
            c.close()
        st, h, _ = self.req("GET", path)
        self.assertEqual(st, 302)
        self.assertIsNotNone(self.cookie_of(h))
        self.assertNotEqual(self.cookie_of(h), self.cookie_of(person))
        s = self.stats_once("card-botsame", "bots", n)
        self.assertEqual((s["bots"], s["scans"], s["uniques"]), (n, 2, 2), s)

    def test_a_bots_view_is_answered_at_once_and_its_row_lands(self):
        # Issue 15: a bot fetching the landing page (a preview unfurling it, a crawler) is
        # answered without waiting for its commit; its view lands as a bot's with no visitor
        # (no visitor key, never a unique).  Its page keeps a working sign-up form (headless
        # browsers and tools do sign up), so it carries a token and the cookie it is bound to.
        is_pg = harness.is_pg(self.srv.db)
        keys = "SELECT count(*) FROM visitors" if is_pg else "SELECT count(*) FROM visitor_keys"
        before = harness.scalar(self.srv.db, keys)
        uas = (BOTS["Google"], BOTS["WhatsApp"], BOTS["Slack"], BOTS["Google"])
        for i, ua in enumerate(uas):
            path = "/c/card-botview" + ("?l=" + self.code("botview") if i % 2 else "")
            st, h, page = self.req("GET", path, ua=ua)
            self.assertEqual(st, 200)
            self.assertIsNotNone(self.cookie_of(h))
            self.assertRegex(page, rb'name="csrf" value="[A-Za-z0-9_-]{22}"')
        st, h, _ = self.req("HEAD", "/c/card-botview")
        self.assertEqual(st, 200)
        n = len(uas) + 1
        s = self.stats_once("card-botview", "bots", n)
        self.assertEqual((s["bots"], s["views"], s["uniques"]), (n, 0, 0), s)
        with self.db() as d:
            rows = d.execute("SELECT e.bot, e.visitor_id FROM events e JOIN cards c ON "
                             "c.id = e.card_id WHERE c.slug = 'card-botview' AND e.type = 2")
        self.assertEqual(len(rows), n)
        self.assertTrue(all(bot != 0 and vid is None for bot, vid in rows), rows)
        self.assertEqual(harness.scalar(self.srv.db, keys), before)
        # The bot's tap and time on the page (its cookie, bound to its page's token, names
        # no visitor): accepted, and recorded as a bot's, like its view.
        st, h, _ = self.req("GET", "/c/card-botview", ua=BOTS["Slack"])
        cookie = self.cookie_of(h)
        for body in ("type=click&card=card-botview&action=call",
                     "type=dwell&card=card-botview&seconds=12"):
            st, _, answer = self.req("POST", "/e", ua=BOTS["Slack"], cookie=cookie, body=body)
            self.assertEqual(st, 204, answer)
        n += 1
        self.stats_once("card-botview", "bots", n + 2)
        with self.db() as d:
            taps = d.execute("SELECT e.type, e.value, e.bot, e.visitor_id FROM events e JOIN "
                             "cards c ON c.id = e.card_id WHERE c.slug = 'card-botview' AND "
                             "e.type IN (4, 6) ORDER BY e.type")
        self.assertEqual(len(taps), 2, taps)
        self.assertTrue(all(bot != 0 and vid is None for _, _, bot, vid in taps), taps)
        self.assertEqual(taps[1][1], 12)
        # A person's view of the same page: counted, and a unique, once committed.
        st, h, page = self.req("GET", "/c/card-botview")
        self.assertEqual(st, 200)
        self.assertIsNotNone(self.cookie_of(h))
        s = self.stats("card-botview")
        self.assertEqual((s["bots"], s["views"], s["uniques"]), (n + 2, 1, 1), s)

    def test_real_phone_browsers_are_people(self):
        for name, ua in HUMANS.items():
            self.visit("humans", ua=ua)
        s = self.stats("card-humans")
        n = len(HUMANS)
        self.assertEqual((s["scans"], s["views"], s["uniques"], s["bots"]), (n, n, n, 0), s)
        with self.db() as d:
            fams = {r[0] for r in d.execute("SELECT browser FROM agents WHERE bot_reason IS NULL")}
        self.assertIn("WeChat", fams)

    def test_shares_build_the_tree(self):
        # A scans the card's QR and shares it on WeChat; B opens A's link and re-shares by SMS.
        a, page = self.visit("tree")
        self.assertIn(f'data-link="{self.code("tree")}"', page)
        st, _, body = self.req("POST", "/c/card-tree/share", cookie=a,
                               body=f"channel=wechat&from={self.code('tree')}",
                               headers={"Accept": "application/json"})
        self.assertEqual(st, 201, body)
        l1 = json.loads(body)
        self.assertEqual(l1["url"], f"{self.srv.base}/l/{l1['code']}")
        st, h, _ = self.req("GET", f"/l/{l1['code']}", ua=HUMANS["Chrome Android"])
        self.assertEqual(st, 302)
        b = self.cookie_of(h)
        self.assertNotEqual(a, b)
        st, _, page = self.req("GET", h["location"], ua=HUMANS["Chrome Android"], cookie=b)
        self.assertIn(f'data-link="{l1["code"]}"', page.decode())
        st, _, body = self.req("POST", "/c/card-tree/share", ua=HUMANS["Chrome Android"],
                               cookie=b, body=f"channel=sms&from={l1['code']}")
        self.assertEqual(st, 201)
        l2 = json.loads(body)
        with self.db() as d:
            rows = {code: (ch, parent, vid) for code, ch, parent, vid in d.execute(
                "SELECT l.code, l.channel, p.code, v.vid FROM links l "
                "LEFT JOIN links p ON p.id = l.parent_link_id "
                "LEFT JOIN visitors v ON v.id = l.owner_visitor_id")}
        self.assertEqual(rows[l1["code"]], (1, self.code("tree"), "c:" + a))
        self.assertEqual(rows[l2["code"]], (2, l1["code"], "c:" + b))
        s = self.stats("card-tree")
        self.assertEqual((s["scans"], s["opens"], s["shares"], s["uniques"]), (1, 1, 2, 2))

    def test_share_needs_a_known_channel(self):
        for body in ("channel=carrier-pigeon", "", "channel=qr"):
            st, _, msg = self.req("POST", "/c/card-other/share", body=body)
            self.assertEqual(st, 400, body)
            self.assertIn(b"channel must be", msg)
        st, _, _ = self.req("POST", "/c/no-such-card/share", body="channel=copy")
        self.assertEqual(st, 404)

    def test_beacons(self):
        v, _ = self.visit("beacon")
        code = self.code("beacon")
        ok = [f"type=click&card=card-beacon&action=call&link={code}",
              "type=click&card=card-beacon&action=wechat",
              "type=save&card=card-beacon",
              "type=dwell&card=card-beacon&seconds=42"]
        for body in ok:
            st, _, msg = self.req("POST", "/e", cookie=v, body=body)
            self.assertEqual(st, 204, (body, msg))
        st, _, _ = self.srv.request("POST", "/e", body=json.dumps(
            {"type": "dwell", "card": "card-beacon", "seconds": 7}),
            headers={"Content-Type": "application/json", "Cookie": f"sc_vid={v}",
                     "User-Agent": IPHONE})
        self.assertEqual(st, 204)
        forged = {
            "type=click&card=card-other&action=call": b"did not open",      # never saw it
            f"type=click&card=card-other&action=call&link={code}": b"does not lead",
            "type=click&card=card-beacon&action=call&link=zzzzzzzz": b"does not lead",
            "type=click&card=nope&action=call": b"does not exist",
            "type=click&card=card-beacon&action=fax": b"action must be",
            "type=dwell&card=card-beacon&seconds=-1": b"seconds must be",
            "type=dwell&card=card-beacon&seconds=99999": b"seconds must be",
            "type=view&card=card-beacon": b"type must be",
            "type=click&card=card-beacon&action=call&link=%zz": b"malformed",
        }
        for body, why in forged.items():
            st, _, msg = self.req("POST", "/e", cookie=v, body=body)
            self.assertEqual(st, 400, body)
            self.assertIn(why, msg, body)
        # A new browser that saw nothing may not send events at all.
        st, _, msg = self.req("POST", "/e", body="type=save&card=card-beacon")
        self.assertEqual(st, 400)
        s = self.stats("card-beacon")
        self.assertEqual((s["clicks"], s["saves"]), (2, 1))
        with self.db() as d:
            dwell = sorted(r[0] for r in d.execute(
                "SELECT value FROM events WHERE type = 6"))
        self.assertIn(42, dwell)
        self.assertIn(7, dwell)

    def test_dnt_visitors_count_without_cookies(self):
        for _ in range(2):
            st, h, _ = self.req("GET", f"/l/{self.code('dnt')}", headers={"DNT": "1"})
            self.assertEqual(st, 302)
            self.assertNotIn("set-cookie", h)
        st, h, _ = self.req("GET", "/c/card-dnt", headers={"Sec-GPC": "1"})
        self.assertNotIn("set-cookie", h)
        s = self.stats("card-dnt")
        self.assertEqual((s["scans"], s["views"], s["uniques"]), (2, 1, 1))
        vids = harness.event_visitors(
            self.srv.db, "e.card_id = (SELECT id FROM cards WHERE slug = 'card-dnt')")
        self.assertEqual(len(vids), 1)
        if harness.is_pg(self.srv.db):
            self.assertTrue(next(iter(vids)).startswith("h:"))
        else:  # a hashed id has no time to lead its key: none of it is the milliseconds
            now_ms = int(time.time() * 1000)
            self.assertGreater(abs(int.from_bytes(next(iter(vids))[:6], "big") - now_ms), 86400000)

    def test_stored_ips_are_anonymised(self):
        self.visit("other")
        with self.db() as d:
            ips = {harness.stored_ip(r[0]) for r in d.execute("SELECT ip FROM events")}
        self.assertEqual(ips, {"127.0.0.0"})

    def test_saving_the_contact_counts(self):
        c, _ = self.visit("other")
        before = self.stats("card-other")["saves"]
        st, _, _ = self.req("GET", "/c/card-other/vcard.vcf", cookie=c)
        self.assertEqual(st, 200)
        self.assertEqual(self.stats("card-other")["saves"], before + 1)

    def test_stats_api_auth_and_ranges(self):
        st, h, body = self.srv.request("GET", "/api/v1/cards/card-scan/stats")
        self.assertEqual(st, 401)
        self.assertIn("error", json.loads(body))
        st, _, _ = self.srv.request("GET", "/api/v1/cards/card-scan/stats",
                                    headers={"Authorization": "Bearer sc_wrong"})
        self.assertEqual(st, 401)
        st, _, _ = self.srv.request("GET", "/api/v1/cards/card-scan/stats",
                                    headers={"Authorization": f"Bearer {self.sales_token}"})
        self.assertEqual(st, 403)
        self.visit("other")
        s = self.stats("card-other", query="?from=2000-01-01&to=2000-01-31")
        self.assertEqual(s["views"], 0)
        s = self.stats("card-other", query="?from=2020-01-01")
        self.assertGreater(s["views"], 0)
        for bad in ("?from=yesterday", "?from=2024-13-01", "?from=2024-02-01&to=2024-01-01"):
            st, _, _ = self.srv.request("GET", f"/api/v1/cards/card-other/stats{bad}",
                                        headers={"Authorization": f"Bearer {self.token}"})
            self.assertEqual(st, 400, bad)
        st, _, _ = self.srv.request("GET", "/api/v1/cards/nope/stats",
                                    headers={"Authorization": f"Bearer {self.token}"})
        self.assertEqual(st, 404)

    def test_metrics(self):
        self.visit("other")
        st, h, body = self.srv.request("GET", "/metrics")
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("text/plain"))
        m = dict(re.findall(r"^(sharecard_\S+) (\d+)$", body.decode(), re.M))
        self.assertGreaterEqual(int(m["sharecard_events_stored_total"]), 2)
        self.assertEqual(m["sharecard_events_failed_total"], "0")
        self.assertGreater(int(m['sharecard_http_responses_total{class="3xx"}']), 0)

    def test_every_stored_scan_is_answered_or_counted_unanswered(self):
        # Phones that give up mid-scan (the tab closed, the train entered a tunnel): their
        # scans may still be stored, and /metrics then says that nobody heard the answer, so
        # stored = answered + unanswered holds exactly, whoever was quicker.
        def metrics():
            body = self.srv.request("GET", "/metrics")[2].decode()
            m = dict(re.findall(r"^(sharecard_\S+) (\d+)$", body, re.M))
            return (int(m["sharecard_events_stored_total"]),
                    int(m['sharecard_http_responses_total{class="3xx"}']),
                    int(m["sharecard_events_unanswered_total"]))
        before = metrics()
        code = self.code("other")
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", self.srv.port))
            s.sendall(f"GET /l/{code} HTTP/1.1\r\nHost: x\r\nUser-Agent: {IPHONE}\r\n\r\n"
                      .encode())
            s.close()
        for _ in range(5):
            self.assertEqual(self.req("GET", f"/l/{code}")[0], 302)
        deadline = time.time() + 10
        while metrics()[0] - before[0] < 25 and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # the last resumed connections answer or close
        after = metrics()
        stored, answered, gone = (a - b for a, b in zip(after, before))
        self.assertEqual(stored, 25)
        self.assertEqual(answered + gone, 25, (answered, gone))

    def test_unknown_link_is_404_not_a_redirect(self):
        st, h, _ = self.req("GET", "/l/abcdefgh")
        self.assertEqual(st, 404)
        self.assertNotIn("location", h)


if __name__ == "__main__":
    harness.main()
