"""Notifications where salespeople live (issue 18), against local stand-ins, on SQLite and
PostgreSQL.

One Python http.server plays WeCom, DingTalk, Feishu and Slack (a path each), checking
each body against the shape the platform documents and DingTalk's and Feishu's
signatures with Python's own hmac; a small SMTP sink in this file takes the e-mail.
A hot lead, a sign-up and a due reminder each arrive once, in the member's language;
a robot answering HTTP 200 with errcode != 0 is retried; alerts queued together go out
as one message; bad targets are refused with their reason.
"""

import base64
import email
import email.policy
import hashlib
import hmac
import http.server
import json
import os
import re
import socketserver
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_signups import Browser  # noqa: E402

ADMIN_PW = "admin-password-1"
SALES_PW = "sales-password-1"
DING_SECRET = "SEC0123456789abcdef0123456789abcdef"
FEISHU_SECRET = "feishu-secret-42"


class Robots:
    """Records each POST as (platform, query, body) after checking its shape and signature."""

    def __init__(self, port=0):
        self.hits, self.errors, self.script = [], [], []
        self.cv = threading.Condition()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                u = urllib.parse.urlsplit(self.path)
                platform = u.path.strip("/")
                q = urllib.parse.parse_qs(u.query)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                problem = outer.check(platform, q, body)
                with outer.cv:
                    answer = outer.script.pop(0) if outer.script and platform == "wecom" else None
                    if problem:
                        outer.errors.append(problem)
                    elif answer is None:
                        outer.hits.append((platform, q, body))
                    outer.cv.notify_all()
                if answer is None:
                    answer = {"errcode": 0, "errmsg": "ok"} if platform != "feishu" else {
                        "code": 0, "msg": "success"}
                    if platform == "slack":
                        answer = None
                reply = b"ok" if answer is None else json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, platform, query=""):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{platform}{query}"

    @staticmethod
    def check(platform, q, b):
        """None when the body is what the platform documents, else what is wrong."""
        if platform == "wecom":
            if b.get("msgtype") != "markdown" or not isinstance(b["markdown"].get("content"), str):
                return f"wecom shape {b}"
        elif platform == "dingtalk":
            md = b.get("markdown", {})
            if b.get("msgtype") != "markdown" or not md.get("title") or not md.get("text"):
                return f"dingtalk shape {b}"
            ts = q.get("timestamp", [""])[0]
            want = base64.b64encode(hmac.new(DING_SECRET.encode(), f"{ts}\n{DING_SECRET}".encode(),
                                             hashlib.sha256).digest()).decode()
            if q.get("sign", [""])[0] != want or abs(int(ts) / 1000 - time.time()) > 3600:
                return f"dingtalk signature {q}"
        elif platform == "feishu":
            if b.get("msg_type") != "text" or not isinstance(b.get("content", {}).get("text"), str):
                return f"feishu shape {b}"
            key = f"{b.get('timestamp')}\n{FEISHU_SECRET}".encode()
            want = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            if b.get("sign") != want:
                return f"feishu signature {b}"
        elif platform == "slack":
            if not isinstance(b.get("text"), str):
                return f"slack shape {b}"
        else:
            return f"unknown path {platform}"
        return None

    @staticmethod
    def text(hit):
        platform, _, b = hit
        return {"wecom": lambda: b["markdown"]["content"],
                "dingtalk": lambda: b["markdown"]["text"],
                "feishu": lambda: b["content"]["text"], "slack": lambda: b["text"]}[platform]()

    def wait_for(self, pred, timeout=60):
        deadline = time.monotonic() + timeout
        with self.cv:
            while not pred(self.hits) and time.monotonic() < deadline:
                self.cv.wait(0.2)
            return list(self.hits)


class SmtpSink:
    """Just enough SMTP (RFC 5321) to take a message: each one kept as (rcpt, message)."""

    def __init__(self):
        self.mails = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 sink ESMTP\r\n")
                rcpt = []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    cmd = line.decode().strip().upper()
                    if cmd.startswith(("EHLO", "HELO")):
                        self.wfile.write(b"250 sink\r\n")
                    elif cmd.startswith("RCPT TO:"):
                        rcpt.append(line.decode().strip()[8:].strip("<> "))
                        self.wfile.write(b"250 ok\r\n")
                    elif cmd == "DATA":
                        self.wfile.write(b"354 go on\r\n")
                        data = b""
                        while not data.endswith(b"\r\n.\r\n"):
                            chunk = self.rfile.readline()
                            if not chunk:
                                return
                            data += chunk
                        outer.mails.append((rcpt, data[:-5]))
                        self.wfile.write(b"250 queued\r\n")
                    elif cmd == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"smtp://127.0.0.1:{self.srv.server_address[1]}"


def csrf_of(page):
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


class Notifications(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.robots = Robots()
        cls.smtp = SmtpSink()
        cls.env = {"SHARECARD_TRUST_PROXY": "1", "SHARECARD_HOT_WATCH_S": "1",
                   "SHARECARD_WEBHOOK_ALLOW_PRIVATE": "1", "SHARECARD_WEBHOOK_RETRY_TEST_S": "1",
                   "SHARECARD_SMTP_URL": cls.smtp.url,
                   "SHARECARD_SMTP_FROM": "alerts@example.com"}
        cls.srv = harness.Server(env=cls.env, extra_args=("--base-url", "https://cards.example.com"))
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
        cls.zhang = harness.add_member(db, "张伟", "zhang@example.com", "--slug", "zhang",
                                       "--lang", "zh", "--team", "east")
        cls.mia = harness.add_member(db, "Mia Manager", "mia@example.com", "--slug", "mia",
                                     "--role", "manager", "--team", "east")
        cls.ann = harness.add_member(db, "Ann Lee", "ann@example.com", "--slug", "ann")
        harness.sharecard("member", "password", "--email", "zhang@example.com", db=db,
                          env={"SHARECARD_PASSWORD": SALES_PW})

        def add(email_, *args, secret=None):
            extra = ("--secret", secret) if secret else ()
            out = harness.sharecard("member", "notify", "--email", email_, *args, *extra, db=db,
                                    env=cls.env)
            return out.stdout.strip()

        cls.t_wecom = add("zhang@example.com", "--kind", "wecom", "--url",
                          cls.robots.url("wecom", "?key=abc"))
        add("zhang@example.com", "--kind", "dingtalk", "--url",
            cls.robots.url("dingtalk", "?access_token=t1"), secret=DING_SECRET)
        add("zhang@example.com", "--kind", "feishu", "--url", cls.robots.url("feishu"),
            secret=FEISHU_SECRET)
        # The east team's manager has a team target: her team's alerts, in her language.
        add("mia@example.com", "--kind", "slack", "--url", cls.robots.url("slack", "?team=east"),
            "--team")
        cls.t_slack = add("ann@example.com", "--kind", "slack", "--url", cls.robots.url("slack"))
        add("ann@example.com", "--kind", "email", "--to", "ann@example.com")
        # No digest here (it has a test of its own, on a moved clock).
        for who in ("zhang@example.com", "ann@example.com", "mia@example.com"):
            add(who, "--digest-hour", "off")
        # A burst queued while the service is down: five test messages to Ann's Slack robot.
        for _ in range(5):
            add("ann@example.com", "--test", cls.t_slack)
        # WeCom's robot refuses the first message it gets (HTTP 200, errcode 45009).
        cls.robots.script.append({"errcode": 45009, "errmsg": "api freq out of limit"})
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()
            cls.robots.httpd.shutdown()
            cls.smtp.srv.shutdown()

    def hits(self, platform, needle, n=1, timeout=60):
        got = self.robots.wait_for(
            lambda hs: sum(h[0] == platform and needle in Robots.text(h) for h in hs) >= n,
            timeout)
        return [h for h in got if h[0] == platform and needle in Robots.text(h)]

    def test_1_burst_goes_out_as_one_message(self):
        got = self.hits("slack", "Test message from sharecard")
        self.assertEqual(len(got), 1)
        self.assertEqual(Robots.text(got[0]).count("Test message from sharecard"), 5)
        self.assertIn("https://cards.example.com/me/account", Robots.text(got[0]))

    def test_2_hot_lead_once_in_chinese_with_errcode_retried(self):
        b = Browser(self.srv)
        b.open_link(self.zhang["qr_url"])
        self.assertEqual(b.get("/c/zhang/vcard.vcf")[0], 200)
        for action in ("call", "wechat", "email", "call"):
            self.assertLess(b.post("/e", {"type": "click", "card": "zhang",
                                          "action": action})[0], 300)
        for platform in ("wecom", "dingtalk", "feishu"):
            got = self.hits(platform, "热门线索")
            self.assertEqual(len(got), 1, platform)
            self.assertIn("https://cards.example.com/leads/", Robots.text(got[0]))
            self.assertIn("评分", Robots.text(got[0]))
            # The score, then the top reasons (a line each), then the best time to reach out.
            lines = [ln.removeprefix("> ") for ln in Robots.text(got[0]).splitlines()]
            score = [i for i, ln in enumerate(lines) if "评分" in ln][0]
            best = [i for i, ln in enumerate(lines) if ln.startswith("最佳联系时间：")]
            self.assertEqual(len(best), 1, lines)
            self.assertRegex(lines[best[0]], r"^最佳联系时间：\d{4}-\d\d-\d\d \d\d:\d\d$")
            self.assertTrue(1 <= best[0] - score - 1 <= 3, f"1 to 3 reasons: {lines}")
        team = self.hits("slack", "[张伟] Hot lead on zhang")
        self.assertEqual([h[1] for h in team], [{"team": ["east"]}])
        time.sleep(3)  # the watcher looks again each second: still one each
        for platform in ("wecom", "dingtalk", "feishu"):
            self.assertEqual(len(self.hits(platform, "热门线索", timeout=0)), 1, platform)
        self.assertEqual(self.robots.errors, [])
        # WeCom's first answer was errcode 45009: a failed attempt, then delivered on retry.
        rows = harness.query(self.srv.db, "SELECT o.attempts, o.status FROM webhook_outbox o "
                             "JOIN webhooks w ON w.id = o.webhook_id WHERE w.kind = 'wecom' "
                             "AND o.type = 'notify.hot'")
        self.assertEqual([tuple(r) for r in rows], [(2, "delivered")])
        # The admins' delivery log shows the alerts with the webhooks.
        admin = Session(self.srv, "198.51.100.214")
        admin.login("root@example.com", ADMIN_PW)
        st, _, page = admin.get("/admin/webhooks")
        self.assertEqual(st, 200)
        self.assertIn("notify.hot", page)

    def test_3_signup_once_in_english_by_slack_and_email(self):
        b = Browser(self.srv)
        page = b.open_link(self.ann["qr_url"])
        st, _, body = b.sign_up(page, "ann", name="Cleo Wu", email="cleo@example.com")
        self.assertEqual(st, 201, body)
        got = self.hits("slack", "New sign-up: Cleo Wu")
        self.assertEqual(len(got), 1)
        self.assertNotIn("cleo@example.com", Robots.text(got[0]))
        deadline = time.monotonic() + 60
        while not self.smtp.mails and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)
        self.assertEqual(len(self.smtp.mails), 1)
        rcpt, raw = self.smtp.mails[0]
        self.assertEqual(rcpt, ["ann@example.com"])
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(msg["Subject"], "New sign-up: Cleo Wu")
        self.assertEqual(msg.get_content_type(), "multipart/alternative")
        parts = {p.get_content_type(): p.get_content() for p in msg.iter_parts()}
        self.assertIn("Cleo Wu", parts["text/plain"])
        self.assertIn("<h3>New sign-up: Cleo Wu</h3>", parts["text/html"])

    def test_4_due_reminder_once(self):
        z = Session(self.srv, "198.51.100.211")
        z.login("zhang@example.com", SALES_PW)
        lead = json.loads(self.srv.request("GET", "/api/v1/leads", headers={
            "Authorization": "Bearer " + harness.sharecard(
                "token", "create", "--email", "zhang@example.com",
                db=self.srv.db).stdout.strip()})[2])[0]
        st, _, page = z.get(f"/leads/{lead['id']}")
        self.assertEqual(st, 200)
        due = time.gmtime(time.time() - 300)
        form = {"csrf": csrf_of(page), "channel": "wechat", "outcome": "no_answer",
                # A long note: the alert cuts it at 300 bytes, never inside a character.
                "note": "回电话给客户" + "a" + "回" * 300, "remind_on": time.strftime("%Y-%m-%d", due),
                "remind_at": time.strftime("%H:%M", due)}
        self.assertEqual(z.post(f"/leads/{lead['id']}/followup", form)[0], 303)
        got = self.hits("wecom", "跟进提醒")
        self.assertEqual(len(got), 1)
        self.assertIn("回电话给客户", Robots.text(got[0]))
        time.sleep(3)
        self.assertEqual(len(self.hits("wecom", "跟进提醒", timeout=0)), 1)

    def test_5_pages_set_targets_with_reasons_and_send_a_test(self):
        z = Session(self.srv, "198.51.100.212")
        z.login("zhang@example.com", SALES_PW)
        st, _, page = z.get("/me/account")
        self.assertEqual(st, 200)
        self.assertIn('id="notify"', page)
        self.assertIn("dingtalk", page)
        self.assertNotIn(DING_SECRET, page)  # a secret is never shown again
        self.assertNotIn("access_token=t1", page)
        csrf = csrf_of(page)
        base = f"/notify/{self.zhang['id']}"
        form = {"csrf": csrf, "kind": "slack", "url": self.robots.url("slack", "?z=1"),
                "to": "", "secret": ""}
        for field, bad, reason in (("kind", "fax", "unknown kind"),
                                   ("url", "ftp://example.com/x", "url")):
            st, _, body = z.post(base + "/add", dict(form, **{field: bad}))
            self.assertEqual(st, 422, (field, bad))
            self.assertIn(field, body)
            self.assertIn(reason, body)
        st, _, body = z.post(base + "/add", dict(form, kind="email", to="nobody"))
        self.assertEqual((st, "to:" in body, "not an e-mail address" in body), (422, True, True))
        self.assertEqual(z.post(base + "/add", dict(form, csrf="stale"))[0], 403)
        self.assertEqual(z.post(base + "/add", form)[0], 303)
        st, _, page = z.get("/me/account")
        tid = re.findall(r'data-target="(\d+)"', page)[-1]
        self.assertEqual(z.post(base + "/test", {"csrf": csrf, "id": tid})[0], 303)
        got = self.robots.wait_for(lambda hs: any(h[0] == "slack" and h[1] == {"z": ["1"]}
                                                  for h in hs))
        mine = [h for h in got if h[0] == "slack" and h[1] == {"z": ["1"]}]
        self.assertEqual(len(mine), 1)
        self.assertIn("sharecard 测试消息", Robots.text(mine[0]))
        st, _, body = z.post(base + "/prefs", {"csrf": csrf, "quiet": "25:00-01:00"})
        self.assertEqual((st, "quiet" in body), (422, True))
        self.assertEqual(z.post(base + "/prefs", {"csrf": csrf, "ev_hot": "1",
                                                  "quiet": "22:00-07:30",
                                                  "digest_hour": "9"})[0], 303)
        self.assertIn('value="22:00-07:30"', z.get("/me/account")[2])
        self.assertEqual(z.post(base + "/remove", {"csrf": csrf, "id": tid})[0], 303)
        self.assertNotIn(f'data-target="{tid}"', z.get("/me/account")[2])
        # Back to all on, no quiet hours, for the other tests.
        self.assertEqual(z.post(base + "/prefs", {"csrf": csrf, **{
            f"ev_{k}": "1" for k in ("hot", "signup", "reminder", "quiet", "digest")},
            "digest_hour": "8"})[0], 303)
        # Someone else's notifications are not theirs to change.
        harness.sharecard("member", "password", "--email", "ann@example.com", db=self.srv.db,
                          env={"SHARECARD_PASSWORD": SALES_PW})
        a = Session(self.srv, "198.51.100.213")
        a.login("ann@example.com", SALES_PW)
        _, _, apage = a.get("/me/account")
        self.assertEqual(a.post(base + "/add", dict(form, csrf=csrf_of(apage)))[0], 403)

    def notify_cli(self, email_, *args, check=True):
        return harness.sharecard("member", "notify", "--email", email_, *args, db=self.srv.db,
                                 env=self.env, check=check)

    def test_6_cli_list_and_remove(self):
        rows = [ln.split("\t") for ln in
                self.notify_cli("zhang@example.com", "--list").stdout.splitlines()]
        by_kind = {r[1]: r for r in rows}
        self.assertEqual(set(by_kind), {"wecom", "dingtalk", "feishu"})
        self.assertEqual(by_kind["wecom"][0], self.t_wecom)
        self.assertEqual(by_kind["wecom"][2], self.robots.url("wecom", "?key=abc"))
        self.assertEqual([by_kind[k][3] for k in ("wecom", "dingtalk", "feishu")],
                         ["no secret", "secret set", "secret set"])
        self.assertEqual({r[4] for r in rows}, {"own"})
        for r in rows:
            self.assertRegex(r[5], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        listed = self.notify_cli("zhang@example.com", "--list").stdout
        self.assertNotIn(DING_SECRET, listed)
        self.assertNotIn(FEISHU_SECRET, listed)
        mia = self.notify_cli("mia@example.com", "--list").stdout.split("\t")
        self.assertEqual((mia[1], mia[4]), ("slack", "team"))
        ann = [ln.split("\t")[1:3] for ln in
               self.notify_cli("ann@example.com", "--list").stdout.splitlines()]
        self.assertIn(["email", "ann@example.com"], ann)
        # A target added, then removed: gone from the list, and once only.
        tid = self.notify_cli("zhang@example.com", "--kind", "slack", "--url",
                              self.robots.url("slack", "?gone=1")).stdout.strip()
        self.assertIn(f"{tid}\tslack\t", self.notify_cli("zhang@example.com", "--list").stdout)
        self.notify_cli("zhang@example.com", "--remove", tid)
        self.assertNotIn(f"{tid}\t", self.notify_cli("zhang@example.com", "--list").stdout)
        p = self.notify_cli("zhang@example.com", "--remove", tid, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"has no target {tid}", p.stderr)
        # Another member's target is not theirs to remove; an ID is a number.
        p = self.notify_cli("zhang@example.com", "--remove", self.t_slack, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"{self.t_slack}\tslack\t",
                      self.notify_cli("ann@example.com", "--list").stdout)
        p = self.notify_cli("zhang@example.com", "--remove", "abc", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("positive number", p.stderr)

    def test_7_level_2_signup_once_without_the_name(self):
        b = Browser(self.srv)
        st, _, body = b.sign_up(b.open_link(self.ann["qr_url"]), "ann", name="Lev One",
                                email="lev1@example.com")
        self.assertEqual(st, 201, body)
        c = Browser(self.srv, ua=harness.PHONE_UA.replace("17_", "16_"))
        st, _, body = c.sign_up(c.open_link(json.loads(body)["referral_url"]), "ann",
                                name="Lev Two", email="lev2@example.com")
        self.assertEqual(st, 201, body)
        self.assertEqual(json.loads(body)["level2"]["id"], self.ann["id"])
        got = self.hits("slack", "A level-2 sign-up was credited to you")
        self.assertEqual(len(got), 1)
        self.assertIn("https://cards.example.com/me", Robots.text(got[0]))
        self.assertNotIn("Lev Two", "".join(Robots.text(h) for h in self.robots.hits))
        # One alert for each of Ann's two targets, no more.
        rows = harness.query(self.srv.db, "SELECT w.kind FROM webhook_outbox o JOIN webhooks w "
                             "ON w.id = o.webhook_id WHERE o.type = 'notify.signup' AND "
                             "o.data LIKE '%\"level\":2%'")
        self.assertEqual(sorted(r[0] for r in rows), ["email", "slack"])

    def test_8_a_manager_sets_a_team_members_targets_on_their_page(self):
        harness.sharecard("member", "password", "--email", "mia@example.com", db=self.srv.db,
                          env={"SHARECARD_PASSWORD": SALES_PW})
        m = Session(self.srv, "198.51.100.215")
        self.assertEqual(m.login("mia@example.com", SALES_PW)[0], 303)
        zid = self.zhang["id"]
        st, _, page = m.get(f"/admin/members/{zid}")
        self.assertEqual(st, 200)
        self.assertIn('id="notify"', page)
        self.assertIn(f'data-target="{self.t_wecom}"', page)
        csrf = csrf_of(page)
        url = self.robots.url("slack", "?by=mia")
        form = {"csrf": csrf, "kind": "slack", "url": url, "to": "", "secret": ""}
        st, hd, _ = m.post(f"/notify/{zid}/add", form)
        self.assertEqual((st, hd.get("location")), (303, f"/admin/members/{zid}"))
        tid = [r.split("\t")[0] for r in self.notify_cli("zhang@example.com", "--list")
               .stdout.splitlines() if url in r][0]
        self.assertIn(f'data-target="{tid}"', m.get(f"/admin/members/{zid}")[2])
        # The test message goes in Zhang's language, not the manager's.
        self.assertEqual(m.post(f"/notify/{zid}/test", {"csrf": csrf, "id": tid})[0], 303)
        got = self.robots.wait_for(lambda hs: any(h[1] == {"by": ["mia"]} for h in hs))
        mine = [h for h in got if h[1] == {"by": ["mia"]}]
        self.assertEqual(len(mine), 1)
        self.assertIn("sharecard 测试消息", Robots.text(mine[0]))
        self.assertEqual(m.post(f"/notify/{zid}/remove", {"csrf": csrf, "id": tid})[0], 303)
        self.assertNotIn(url, self.notify_cli("zhang@example.com", "--list").stdout)
        # Ann is not on Mia's team: her notifications are not Mia's to change.
        st, _, _ = m.post(f"/notify/{self.ann['id']}/add", dict(form, url=url))
        self.assertEqual(st, 403)
        self.assertNotIn(url, self.notify_cli("ann@example.com", "--list").stdout)

    def test_10_the_account_page_in_the_readers_language(self):
        """/me/account (password, API tokens, notifications) reads in the language the
        browser asks for, as every signed-in page: of the i18n table's English on the page
        in English, none is left on it in Chinese, and the targets' kinds are named."""
        from test_leads_intel import english_in, i18n_entries, visible_text
        entries = i18n_entries()
        z = Session(self.srv, "198.51.100.215")
        z.login("zhang@example.com", SALES_PW)
        texts = {}
        for lang in ("en", "zh-CN,zh;q=0.9"):
            st, _, body = self.srv.request("GET", "/me/account", headers=z._headers(
                {"Accept-Language": lang}))
            self.assertEqual(st, 200)
            texts[lang] = visible_text(body.decode())
        used = [en for en in entries if english_in(en, texts["en"])]
        self.assertGreater(len(used), 20)  # the check sees the page's strings
        left = [en for en in used if english_in(en, texts["zh-CN,zh;q=0.9"])]
        self.assertEqual(left, [])
        for word in ("通知", "钉钉", "飞书", "企业微信", "免打扰时段"):
            self.assertIn(word, texts["zh-CN,zh;q=0.9"])
        for word in ("DingTalk", "Feishu", "WeCom", "Quiet hours"):
            self.assertIn(word, texts["en"])

    def test_9_what_a_customer_typed_makes_no_markup(self):
        """A name is shown as typed: no link, image, tag or mention of the whole group in the
        salesperson's robots."""
        b = Browser(self.srv, ua=harness.PHONE_UA.replace("17_4", "15_5"))
        name = 'Eve [win](https://evil.example/p.png) <@all> <at user_id="all">x</at> <!channel>'
        st, _, body = b.sign_up(b.open_link(self.zhang["qr_url"]), "zhang", name=name,
                                email="eve@example.com")
        self.assertEqual(st, 201, body)
        tags = '＜@all＞ ＜at user_id="all"＞x＜/at＞ ＜!channel＞'
        for platform in ("wecom", "dingtalk", "feishu"):
            # Markdown (WeCom, DingTalk) loses its link too; Feishu's text has no links.
            link = "［win］" if platform != "feishu" else "[win]"
            got = self.hits(platform, f"Eve {link}(https://evil.example/p.png) {tags}")
            self.assertEqual(len(got), 1, platform)
            self.assertNotIn("<", Robots.text(got[0]), platform)
        got = self.hits("slack", "[张伟] New sign-up: Eve")
        self.assertEqual(len(got), 1)
        self.assertIn('&lt;@all&gt; &lt;at user_id="all"&gt;x&lt;/at&gt; &lt;!channel&gt;',
                      Robots.text(got[0]))


FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


def under_tsan():
    import subprocess
    return "libtsan" in subprocess.run(["ldd", harness.BIN], capture_output=True,
                                       text=True).stdout


class MovedClock:
    """A clock file for libfaketime, and the environment of a server that reads it
    (SHARECARD_TZ +08:00); set() moves the server's clock to an absolute time."""

    def __init__(self, start, **extra):
        self.path = os.path.join(harness.tempfile.mkdtemp(prefix="sharecard-clock-"), "clock")
        self.set(start)
        # Under AddressSanitizer the preloaded faketime comes before its runtime: allowed here.
        asan = os.environ.get("ASAN_OPTIONS", "")
        self.env = {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME_TIMESTAMP_FILE": self.path,
                    "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                    "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0",
                    "SHARECARD_TZ": "+08:00", "SHARECARD_TRUST_PROXY": "1",
                    "SHARECARD_WEBHOOK_ALLOW_PRIVATE": "1", **extra}

    def set(self, when):
        with open(self.path, "w") as f:
            f.write("@" + when)


class QuietHours(unittest.TestCase):
    """Alerts inside a member's quiet hours (SHARECARD_TZ) wait for their end, then go as one."""

    def test_held_then_sent_together(self):
        if under_tsan():
            self.skipTest("faketime and ThreadSanitizer do not mix")
        robots = Robots()
        # 23:30 UTC is 07:30 in +08:00: inside quiet hours 22:00-08:00, which end at 00:00 UTC.
        clock = MovedClock("2026-12-03 23:30:00")
        env = clock.env
        srv = harness.Server(env=env)
        try:
            harness.sharecard("init", "--admin-email", "root@example.com", db=srv.db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            zhou = harness.add_member(srv.db, "Zhou", "zhou@example.com", "--slug", "zhou")
            harness.sharecard("member", "notify", "--email", "zhou@example.com", "--kind",
                              "slack", "--url", robots.url("slack"), db=srv.db, env=env)
            harness.sharecard("member", "notify", "--email", "zhou@example.com", "--quiet",
                              "22:00-08:00", "--digest-hour", "off", db=srv.db)
            srv.start()
            for i in range(3):
                b = Browser(srv)
                page = b.open_link(zhou["qr_url"])
                st, _, body = b.sign_up(page, "zhou", name=f"Night {i}",
                                        email=f"night{i}@example.com")
                self.assertEqual(st, 201, body)
            time.sleep(3)
            self.assertEqual(robots.hits, [])
            due = harness.query(srv.db, "SELECT DISTINCT o.next_at FROM webhook_outbox o "
                                "JOIN webhooks w ON w.id = o.webhook_id WHERE w.kind = 'slack'")
            self.assertEqual([r[0] for r in due], [1796342400])  # 2026-12-04 00:00 UTC
            clock.set("2026-12-04 00:00:30")
            got = robots.wait_for(lambda hs: len(hs) >= 1)
            time.sleep(2)
            self.assertEqual(len(robots.hits), 1)
            text = Robots.text(got[0])
            for i in range(3):
                self.assertIn(f"New sign-up: Night {i}", text)
        finally:
            srv.stop()
            srv.cleanup()
            robots.httpd.shutdown()


class Digest(unittest.TestCase):
    """The daily digest goes out once a day at the member's hour (SHARECARD_TZ), with
    yesterday's figures, in quiet hours too."""

    def test_once_a_day_with_yesterdays_figures(self):
        if under_tsan():
            self.skipTest("faketime and ThreadSanitizer do not mix")
        robots = Robots()
        # 02:00 UTC on 3 December is 10:00 in +08:00: past the digest hour (9).
        clock = MovedClock("2026-12-03 02:00:00", SHARECARD_NOTIFY_QUIET_DAYS="1")
        env = clock.env
        srv = harness.Server(env=env)
        try:
            harness.sharecard("init", "--admin-email", "root@example.com", db=srv.db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            wu = harness.add_member(srv.db, "吴芳", "wu@example.com", "--slug", "wufang",
                                    "--lang", "zh")
            harness.sharecard("member", "notify", "--email", "wu@example.com", "--kind",
                              "wecom", "--url", robots.url("wecom"), db=srv.db, env=env)
            # Only the digest and gone-quiet customers, and quiet hours that cover 09:00
            # (the digest goes anyway).
            harness.sharecard("member", "notify", "--email", "wu@example.com", "--events",
                              "digest,quiet", "--digest-hour", "9", "--quiet", "08:00-12:00",
                              db=srv.db)
            srv.start()
            # The digest of 2 December (an empty day) goes out at once: it is past 09:00.
            got = robots.wait_for(lambda hs: len(hs) >= 1)
            self.assertIn("2026-12-02 日报", Robots.text(got[0]))
            self.assertIn("扫码 0", Robots.text(got[0]))
            people = []
            for i in range(2):
                b = Browser(srv, ua=harness.PHONE_UA.replace("17_4", f"17_{i}"))
                people.append(b)
                page = b.open_link(wu["qr_url"])
                st, _, body = b.sign_up(page, "wufang", name=f"Day {i}",
                                        email=f"day{i}@example.com")
                self.assertEqual(st, 201, body)
            time.sleep(3)
            self.assertEqual(len(robots.hits), 1)  # once a day; sign-up alerts are off
            # 01:00 UTC on 4 December is 09:00 there: the digest of 3 December.
            clock.set("2026-12-04 01:00:10")
            got = robots.wait_for(lambda hs: len(hs) >= 2)
            text = Robots.text(got[1])
            self.assertIn("2026-12-03 日报", text)
            self.assertIn("扫码 2 · 浏览 2 · 访客 2", text)
            self.assertIn("新线索 2 · 注册 2 · 奖励 2", text)
            time.sleep(3)
            self.assertEqual(len(robots.hits), 2)
            # 4 December: Day 0 comes back (a visitor, not a new lead), a new person scans,
            # and four leads of the card turned hot (the digest names the top 3).
            self.assertEqual(people[0].get("/c/wufang")[0], 200)
            Browser(srv, ua=harness.PHONE_UA.replace("17_4", "16_2")).open_link(wu["qr_url"])
            card = harness.scalar(srv.db, "SELECT id FROM cards WHERE slug = 'wufang'")
            at = 1796349600  # 2026-12-04 02:00 UTC
            for vid, score in ((9001, 81), (9002, 95), (9003, 88), (9004, 70)):
                harness.query(srv.db, "INSERT INTO lead_hot (visitor_id, card_id, score, hot, "
                              "ts) VALUES (?, ?, ?, 1, ?)", (vid, card, score, at))
            # A day later with nothing new, the two customers of 3 December have gone quiet
            # (SHARECARD_NOTIFY_QUIET_DAYS=1 here): one alert each, once (quiet hours end at
            # 12:00, so they come then, with nothing else held).
            clock.set("2026-12-05 01:00:10")
            time.sleep(3)
            self.assertEqual(len(robots.hits), 3)  # the digest of 4 December only
            text = Robots.text(robots.hits[2])
            self.assertIn("2026-12-04 日报", text)
            self.assertIn("扫码 1 · 浏览 2 · 访客 2", text)
            self.assertIn("新线索 1 · 注册 0 · 奖励 0", text)
            self.assertIn("热门线索： #9002 (95) #9003 (88) #9001 (81)", text)
            clock.set("2026-12-05 04:00:10")
            got = robots.wait_for(lambda hs: len(hs) >= 4)
            text = Robots.text(got[3])
            self.assertIn("Day 0 已沉寂", text)
            self.assertIn("Day 1 已沉寂", text)
            time.sleep(3)
            self.assertEqual(len(robots.hits), 4)
            self.assertEqual(robots.errors, [])
        finally:
            srv.stop()
            srv.cleanup()
            robots.httpd.shutdown()


class Crash(unittest.TestCase):
    """A sign-up acknowledged while the robot is down, then kill -9: its alert still arrives,
    once, after the restart (the alert was written with the sign-up)."""

    def test_kill_9_loses_nothing(self):
        down = Robots()
        port = down.httpd.server_address[1]
        down.httpd.shutdown()
        down.httpd.server_close()
        env = {"SHARECARD_TRUST_PROXY": "1", "SHARECARD_WEBHOOK_ALLOW_PRIVATE": "1",
               "SHARECARD_WEBHOOK_RETRY_TEST_S": "1"}
        srv = harness.Server(env=env)
        robots = None
        try:
            harness.sharecard("init", "--admin-email", "root@example.com", db=srv.db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            kim = harness.add_member(srv.db, "Kim", "kim@example.com", "--slug", "kimkim")
            harness.sharecard("member", "notify", "--email", "kim@example.com", "--kind", "slack",
                              "--url", f"http://127.0.0.1:{port}/slack", db=srv.db, env=env)
            harness.sharecard("member", "notify", "--email", "kim@example.com", "--digest-hour",
                              "off", db=srv.db)
            srv.start()
            b = Browser(srv)
            page = b.open_link(kim["qr_url"])
            st, _, body = b.sign_up(page, "kimkim", name="Lee Crash", email="crash@example.com")
            self.assertEqual(st, 201, body)
            srv.proc.kill()
            srv.proc.wait()
            robots = Robots(port=port)
            srv.start()
            got = robots.wait_for(lambda hs: len(hs) >= 1)
            time.sleep(3)
            self.assertEqual(len(robots.hits), 1)
            self.assertIn("New sign-up: Lee Crash", Robots.text(got[0]))
        finally:
            srv.stop()
            srv.cleanup()
            if robots:
                robots.httpd.shutdown()


class RateLimit(unittest.TestCase):
    """At most 20 messages a minute to one target: the rest wait (no attempt counted), and a
    throttled target does not hold up another's message."""

    def test_twenty_a_minute_per_target(self):
        robots = Robots()
        env = {"SHARECARD_WEBHOOK_ALLOW_PRIVATE": "1"}
        srv = harness.Server(env=env)
        try:
            db = srv.db
            harness.add_member(db, "Bo", "bo@example.com", "--slug", "bobo")
            harness.add_member(db, "Cy", "cy@example.com", "--slug", "cycy")

            def notify(who, *args):
                return harness.sharecard("member", "notify", "--email", who, *args, db=db,
                                         env=env).stdout.strip()
            t_a = notify("bo@example.com", "--kind", "slack", "--url", robots.url("slack", "?a=1"))
            t_b = notify("cy@example.com", "--kind", "slack", "--url", robots.url("slack", "?b=1"))
            for who in ("bo@example.com", "cy@example.com"):
                notify(who, "--digest-hour", "off")
            # More than 20 messages' worth for A (at most 8 alerts go as one), queued while the
            # service is down, then one for B.
            for _ in range(21 * 8):
                notify("bo@example.com", "--test", t_a)
            notify("cy@example.com", "--test", t_b)
            srv.start()

            def of(q):
                return [h for h in robots.hits if h[1] == q]

            deadline = time.monotonic() + 90
            while True:
                left = harness.query(db, "SELECT attempts, next_at FROM webhook_outbox WHERE "
                                         "webhook_id = ? AND status = 'pending'", (int(t_a),))
                if (len(of({"a": ["1"]})) >= 20 and of({"b": ["1"]}) and left and
                        all(r[1] > time.time() + 30 for r in left)):
                    break
                self.assertLess(time.monotonic(), deadline,
                                f"{len(of({'a': ['1']}))} messages to A, {len(of({'b': ['1']}))}"
                                f" to B, left {left}")
                time.sleep(0.2)
            a = of({"a": ["1"]})
            self.assertEqual(len(a), 20)
            sent = [Robots.text(h).count("Test message from sharecard") for h in a]
            self.assertTrue(all(1 <= n <= 8 for n in sent), sent)
            self.assertEqual(sum(sent) + len(left), 21 * 8)
            self.assertEqual(len(of({"b": ["1"]})), 1)
            # The rest wait for the minute to pass, as no attempt (nothing failed).
            self.assertEqual({r[0] for r in left}, {0})
            self.assertEqual(robots.errors, [])
            srv.stop()
        finally:
            srv.cleanup()
            robots.httpd.shutdown()


class BadTargets(unittest.TestCase):
    def test_refused_with_reasons(self):
        srv = harness.Server()
        try:
            harness.sharecard("init", "--admin-email", "root@example.com", db=srv.db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            harness.add_member(srv.db, "Bo", "bo@example.com", "--slug", "bobo")
            cases = [
                (("--kind", "fax", "--url", "https://example.com/x"), {}, "unknown kind"),
                (("--kind", "wecom", "--url", "http://example.com/x"), {}, "https"),
                (("--kind", "slack", "--url", "https://example.com/x", "--secret", "s"), {},
                 "secret"),
                (("--kind", "slack", "--url", "https://127.0.0.1/x", "--team"),
                 {"SHARECARD_WEBHOOK_ALLOW_PRIVATE": "1"}, "only managers"),
                (("--kind", "email", "--to", "not-an-address"),
                 {"SHARECARD_SMTP_URL": "smtp://mail.example.com",
                  "SHARECARD_SMTP_FROM": "a@example.com"}, "not an e-mail address"),
                (("--kind", "email", "--to", "bo@example.com"),
                 {"SHARECARD_SMTP_URL": "smtp://", "SHARECARD_SMTP_FROM": "a@example.com"},
                 "SMTP URL"),
                (("--kind", "email", "--to", "bo@example.com"),
                 {"SHARECARD_SMTP_URL": "https://mail.example.com",
                  "SHARECARD_SMTP_FROM": "a@example.com"}, "smtp://"),
            ]
            for args, env, reason in cases:
                out = harness.sharecard("member", "notify", "--email", "bo@example.com", *args,
                                        db=srv.db, env=env, check=False)
                self.assertNotEqual(out.returncode, 0, args)
                self.assertIn(reason, out.stderr, args)
            out = harness.sharecard("member", "notify", "--email", "bo@example.com", "--quiet",
                                    "25:00-07:00", db=srv.db, check=False)
            self.assertEqual(out.returncode, 2)
            self.assertIn("HH:MM-HH:MM", out.stderr)
            self.assertEqual(harness.scalar(srv.db, "SELECT count(*) FROM webhooks"), 0)
        finally:
            srv.cleanup()


if __name__ == "__main__":
    harness.main()
