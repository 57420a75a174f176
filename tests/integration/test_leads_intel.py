"""Lead intelligence over real HTTP (issue 13): /api/v1/leads carries score, label,
reasons (in the request's language), best time and channel, a drafted next action and,
once signed up, the lead's e-mail and phone, for a salesperson and an admin alike; the
limit, order and label arguments; the CSV; the /leads page and a lead's page with its
draft; follow-ups logged on it (CSRF, checked fields) with a reminder shown on /me; and
a lead crossing the hot threshold recorded and announced once per crossing; and
'score train' / 'score eval' on a store whose outcomes were made with a moved clock."""

import datetime
import json
import os
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_signups import Browser  # noqa: E402

ADMIN_PW = "admin-password-1"
SALES_PW = "sales-password-1"
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
NEW_FIELDS = ("score", "label", "reasons", "best_time", "best_channel", "next_action")


def csrf_of(page):
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


class LeadsApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1", "SHARECARD_TZ": "+08:00"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
        cls.zhang = harness.add_member(db, "张伟", "zhang@example.com", "--slug", "zhang",
                                       "--team", "east")
        harness.add_member(db, "Wes West", "wes@example.com", "--slug", "wes", "--team", "west")
        harness.sharecard("member", "password", "--email", "zhang@example.com", db=db,
                          env={"SHARECARD_PASSWORD": SALES_PW})
        cls.admin_token = harness.sharecard("token", "create", "--email", "root@example.com",
                                            db=db).stdout.strip()
        cls.zhang_token = harness.sharecard("token", "create", "--email", "zhang@example.com",
                                            db=db).stdout.strip()
        cls.wes_token = harness.sharecard("token", "create", "--email", "wes@example.com",
                                          db=db).stdout.strip()
        cls.srv.start()
        # Cleo scans, saves the contact, taps WeChat and signs up; Dan only looks.
        cleo = Browser(cls.srv)
        page = cleo.open_link(cls.zhang["qr_url"])
        assert cleo.get("/c/zhang/vcard.vcf")[0] == 200
        assert cleo.post("/e", {"type": "click", "card": "zhang", "action": "wechat"})[0] < 300
        st, _, body = cleo.sign_up(page, "zhang", name="Cleo", email="cleo@example.com",
                                   phone="+8613800138000")
        assert st == 201, body
        dan = Browser(cls.srv)
        dan.get("/c/zhang")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def api(self, path, token, lang=None):
        h = {"Authorization": f"Bearer {token}"}
        if lang:
            h["Accept-Language"] = lang
        return self.srv.request("GET", path, headers=h)

    def leads(self, token, query="", lang=None):
        st, _, body = self.api(f"/api/v1/leads{query}", token, lang)
        self.assertEqual(st, 200, body)
        return json.loads(body)

    def check_lead(self, lead):
        now = time.time()
        for f in ("id", "card", "customer", "first_seen", "last_seen", "visits", "days",
                  "clicks", "saves", "shares", "dwell_s", "signed_up") + NEW_FIELDS:
            self.assertIn(f, lead)
        self.assertIsInstance(lead["score"], int)
        self.assertTrue(0 <= lead["score"] <= 100)
        self.assertIn(lead["label"], ("hot", "warm", "cold"))
        self.assertTrue(all(isinstance(r, str) and r for r in lead["reasons"]))
        self.assertRegex(lead["best_time"], ISO)
        best = datetime.datetime.strptime(lead["best_time"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        self.assertGreater(best, now - 5)
        self.assertLessEqual(best, now + 8 * 86400)
        self.assertIn(lead["best_channel"], ("call", "wechat", "email", "sms"))
        self.assertTrue(lead["next_action"])

    def test_fields_for_the_salesperson_and_the_admin(self):
        for token in (self.zhang_token, self.admin_token):
            rows = self.leads(token)
            self.assertEqual(len(rows), 2)
            for lead in rows:
                self.check_lead(lead)
            cleo = [x for x in rows if x["customer"] == "Cleo"][0]
            dan = [x for x in rows if x["customer"] is None][0]
            self.assertEqual((cleo["email"], cleo["phone"]), ("cleo@example.com",
                                                              "+8613800138000"))
            self.assertNotIn("email", dan)
            self.assertNotIn("phone", dan)
            # Saving the contact and tapping WeChat weigh more than a look.
            self.assertGreater(cleo["score"], dan["score"])
            self.assertIn("saved your contact", " ".join(cleo["reasons"]))
            self.assertEqual(cleo["best_channel"], "wechat")
            self.assertIn("Cleo", cleo["next_action"])
        # Another team's salesperson sees neither.
        self.assertEqual(self.leads(self.wes_token), [])

    def test_reasons_and_drafts_in_the_readers_language(self):
        rows = self.leads(self.zhang_token, lang="zh-CN,zh;q=0.9")
        cleo = [x for x in rows if x["customer"] == "Cleo"][0]
        self.assertTrue(cleo["reasons"])
        self.assertTrue(all(re.search(r"[\u4e00-\u9fff]", r) for r in cleo["reasons"]))
        self.assertIn("保存了", "".join(cleo["reasons"]))
        self.assertRegex(cleo["next_action"], r"[\u4e00-\u9fff]")

    def test_order_label_limit_and_their_checks(self):
        rows = self.leads(self.admin_token, "?order=score")
        scores = [x["score"] for x in rows]
        self.assertEqual(scores, sorted(scores, reverse=True))
        self.assertEqual(len(self.leads(self.admin_token, "?order=score&limit=1")), 1)
        self.assertEqual(self.leads(self.admin_token, "?order=score&limit=1")[0]["score"],
                         max(scores))
        for label in ("hot", "warm", "cold"):
            got = self.leads(self.admin_token, f"?label={label}")
            self.assertTrue(all(x["label"] == label for x in got))
            self.assertEqual(len(got), sum(x["label"] == label for x in rows))
        self.assertEqual(len(self.leads(self.admin_token, "?limit=10000")), 2)
        self.assertEqual(len(self.leads(self.admin_token, "?card=zhang")), 2)
        self.assertEqual(self.leads(self.admin_token, "?card=wes"), [])
        self.assertEqual([x["customer"] for x in self.leads(self.admin_token, "?q=cle")],
                         ["Cleo"])
        for bad, why in (("limit=10001", b"limit"), ("limit=0", b"limit"), ("limit=1x", b"limit"),
                         ("order=best", b"order"), ("label=tepid", b"label"),
                         ("days=0", b"days"), ("quiet=-1", b"quiet"),
                         ("card=" + "x" * 33, b"card"), ("q=" + "x" * 101, b"q is")):
            st, _, body = self.api(f"/api/v1/leads?{bad}", self.admin_token)
            self.assertEqual(st, 400, bad)
            self.assertIn(why, body)

    def test_csv_carries_the_new_columns(self):
        st, h, body = self.api("/api/v1/leads?format=csv", self.zhang_token)
        self.assertEqual(st, 200)
        text = body.decode("utf-8-sig")
        header = text.splitlines()[0].split(",")
        self.assertEqual(header[:12], ["id", "card", "customer", "first_seen", "last_seen",
                                       "visits", "days", "clicks", "saves", "shares", "dwell_s",
                                       "signed_up"])
        for f in NEW_FIELDS + ("email", "phone"):
            self.assertIn(f, header)
        self.assertIn("cleo@example.com", text)

    def test_quiet_leads(self):
        # Everybody here came today: nobody has been quiet for a day.
        self.assertEqual(self.leads(self.admin_token, "?quiet=1"), [])
        self.assertEqual(len(self.leads(self.admin_token, "?signed=yes")), 1)
        self.assertEqual(self.leads(self.admin_token, "?signed=no")[0]["customer"], None)

    def test_model_page_for_admins_only(self):
        root = Session(self.srv, "198.51.100.203")
        root.login("root@example.com", ADMIN_PW)
        st, _, page = root.get("/admin/model")
        self.assertEqual(st, 200)
        self.assertIn("shipped prior", page)
        z = Session(self.srv, "198.51.100.204")
        z.login("zhang@example.com", SALES_PW)
        self.assertEqual(z.get("/admin/model")[0], 403)

    def test_pages_followups_and_reminders(self):
        z = Session(self.srv, "198.51.100.201")
        z.login("zhang@example.com", SALES_PW)
        st, _, page = z.get("/leads")
        self.assertEqual(st, 200)
        self.assertIn("Cleo", page)
        self.assertIn('class="chip', page)
        self.assertIn("+08:00", page)  # times are shown in SHARECARD_TZ
        lead = [x for x in self.leads(self.zhang_token) if x["customer"] == "Cleo"][0]
        st, _, page = z.get(f"/leads/{lead['id']}")
        self.assertEqual(st, 200)
        self.assertIn("cleo@example.com", page)
        self.assertIn('href="tel:+8613800138000"', page)
        self.assertIn('id="draft"', page)
        self.assertIn("Saved the contact", page)
        csrf = csrf_of(page)
        path = f"/leads/{lead['id']}/followup"
        today = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
        form = {"csrf": csrf, "channel": "wechat", "outcome": "no_answer",
                "note": "没接，明天再试", "remind_on": today, "remind_at": "09:30"}
        self.assertEqual(z.post(path, dict(form, csrf="stale"))[0], 403)
        for field, value in (("channel", "fax"), ("outcome", "maybe"), ("remind_on", "2026-13-40"),
                             ("remind_at", "25:00"), ("note", "x" * 1001)):
            st, _, body = z.post(path, dict(form, **{field: value}))
            self.assertEqual(st, 400, field)
            self.assertIn(field.encode(), body.encode() if isinstance(body, str) else body)
        st, h, _ = z.post(path, form)
        self.assertEqual(st, 303)
        st, _, page = z.get(f"/leads/{lead['id']}")
        self.assertIn("没接，明天再试", page)
        # The reminder was due yesterday: it shows on /me.
        st, _, me = z.get("/me")
        self.assertEqual(st, 200)
        self.assertIn("没接，明天再试", me)
        self.assertIn(f"/leads/{lead['id']}", me)
        # Another team's salesperson cannot log on Cleo.
        harness.sharecard("member", "password", "--email", "wes@example.com", db=self.srv.db,
                          env={"SHARECARD_PASSWORD": SALES_PW})
        w = Session(self.srv, "198.51.100.202")
        w.login("wes@example.com", SALES_PW)
        _, _, wpage = w.get("/leads")
        self.assertEqual(w.post(path, dict(form, csrf=csrf_of(wpage)))[0], 404)


def under_tsan():
    """libfaketime wraps pthread_cond_timedwait, which hides the mutex's release inside it
    from ThreadSanitizer: every condition wait then reads as a double lock."""
    import subprocess
    out = subprocess.run(["ldd", harness.BIN], capture_output=True, text=True).stdout
    return "libtsan" in out


def faketime_env(clock_file):
    # Under AddressSanitizer the preloaded faketime comes before its runtime: allowed here.
    asan = os.environ.get("ASAN_OPTIONS", "")
    return {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME_TIMESTAMP_FILE": clock_file,
            "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"}


class ScoreCommands(unittest.TestCase):
    def test_train_and_eval_on_a_fresh_store(self):
        srv = harness.Server()
        try:
            harness.sharecard("init", "--admin-email", "root@example.com", db=srv.db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            p = harness.sharecard("score", "train", db=srv.db)
            self.assertEqual(p.returncode, 0)
            self.assertEqual(len(p.stdout.strip().splitlines()), 1)
            self.assertIn("examples 0, positives 0", p.stdout)
            self.assertIn("shipped prior stays", p.stdout)
            p = harness.sharecard("score", "eval", db=srv.db, check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("nothing to evaluate", p.stderr)
            self.assertEqual(harness.sharecard("score", "bogus", db=srv.db,
                                               check=False).returncode, 2)
        finally:
            srv.cleanup()

    @unittest.skipUnless(os.path.exists(FAKETIME_LIB), "needs Debian's faketime package")
    def test_train_learns_from_outcomes_made_with_a_moved_clock(self):
        """120 leads 90 days ago: savers mostly sign up, others mostly not."""
        if under_tsan():
            self.skipTest("faketime and ThreadSanitizer do not mix")
        tmp = harness.tempfile.mkdtemp(prefix="sharecard-clock-")
        clock = os.path.join(tmp, "clock")
        start = time.time() - 90 * 86400

        def set_clock(t):
            with open(clock, "w") as f:
                f.write(time.strftime("@%Y-%m-%d %H:%M:%S", time.gmtime(t)))

        set_clock(start)
        env = dict(faketime_env(clock), SHARECARD_TRUST_PROXY="1")
        srv = harness.Server(env=env)
        try:
            harness.sharecard("init", "--admin-email", "root@example.com", db=srv.db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            member = harness.add_member(srv.db, "Li Na", "li@example.com", "--slug", "lina")
            srv.start()
            for i in range(120):
                set_clock(start + i * 1800)
                b = Browser(srv, ip=f"203.0.{i // 200}.{i % 200 + 1}")
                page = b.open_link(member["qr_url"])
                saver = i % 2 == 0
                if saver:
                    self.assertEqual(b.get("/c/lina/vcard.vcf")[0], 200)
                if (saver and i % 10 != 0) or (not saver and i % 10 == 1):
                    set_clock(start + i * 1800 + 300)
                    st, _, body = b.sign_up(page, "lina", name=f"Lead {i}",
                                            email=f"lead{i}@example.com")
                    self.assertEqual(st, 201, body)
        finally:
            srv.stop()
        try:
            p = harness.sharecard("score", "train", db=srv.db)
            self.assertEqual(p.returncode, 0)
            line = p.stdout.strip()
            self.assertEqual(len(line.splitlines()), 1)
            self.assertIn("examples 120, positives 60", line)
            # Sign-ups come 5 minutes after a visit and negatives are cut within their
            # horizon, as live leads are scored: recency separates them as well as saving.
            self.assertRegex(line, r"AUC [01]\.\d{3}.*view count 0\.\d{3}")
            p = harness.sharecard("score", "eval", "--json", db=srv.db)
            ev = json.loads(p.stdout)
            self.assertEqual((ev["examples"], ev["positives"], ev["test"]), (120, 60, 24))
            self.assertGreater(ev["auc"], 0.8)  # saving (and recency) are the signal here
            self.assertAlmostEqual(ev["baseline_auc"], 0.5, delta=0.2)  # one view each
            self.assertEqual(len(ev["calibration"]), 10)
            self.assertEqual(sum(d["n"] for d in ev["calibration"]), 24)
            p = harness.sharecard("score", "eval", db=srv.db)
            self.assertIn("view-count baseline", p.stdout)
        finally:
            srv.cleanup()


class HotLeads(unittest.TestCase):
    """A lead crossing the hot threshold is recorded, and announced, once per crossing."""

    def test_once_per_crossing(self):
        # A webhook subscribed to lead.hot, on a receiver of our own (a loopback target is
        # allowed by SHARECARD_WEBHOOK_ALLOW_PRIVATE).
        import http.server
        got = []

        class Receiver(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        rx = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=rx.serve_forever, daemon=True).start()
        private = {"SHARECARD_WEBHOOK_ALLOW_PRIVATE": "1"}
        srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1", "SHARECARD_HOT_WATCH_S": "1",
                                  **private})
        try:
            harness.sharecard("init", "--admin-email", "root@example.com", db=srv.db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            member = harness.add_member(srv.db, "Hu Ping", "hu@example.com", "--slug", "huping")
            token = harness.sharecard("token", "create", "--email", "root@example.com",
                                      db=srv.db).stdout.strip()
            harness.sharecard("webhook", "add", "--url",
                              f"http://127.0.0.1:{rx.server_address[1]}/hook", "--events",
                              "lead.hot", db=srv.db, env=private)
            srv.start()
            b = Browser(srv)
            b.open_link(member["qr_url"])
            self.assertEqual(b.get("/c/huping/vcard.vcf")[0], 200)
            for action in ("call", "wechat", "email", "call"):
                self.assertLess(b.post("/e", {"type": "click", "card": "huping",
                                              "action": action})[0], 300)
            _, _, body = srv.request("GET", "/api/v1/leads",
                                     headers={"Authorization": f"Bearer {token}"})
            lead = json.loads(body)[0]
            self.assertEqual(lead["label"], "hot")

            def announced():
                return sum(f"hot lead: visitor {lead['id']} " in line for line in srv.log)

            deadline = time.monotonic() + 60
            while announced() == 0 and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertEqual(announced(), 1)
            # Still hot after more activity: the watcher (every second here) looks again
            # and neither records nor announces a second crossing.
            self.assertLess(b.post("/e", {"type": "click", "card": "huping",
                                          "action": "wechat"})[0], 300)
            time.sleep(3)
            self.assertEqual(harness.scalar(srv.db, "SELECT count(*) FROM lead_hot"), 1)
            self.assertEqual(announced(), 1)
            # The crossing went out as lead.hot, once, with the lead the API shows.
            deadline = time.monotonic() + 30
            while not got and time.monotonic() < deadline:
                time.sleep(0.2)
            self.assertEqual([g["type"] for g in got], ["lead.hot"])
            data = got[0]["data"]
            self.assertEqual((data["id"], data["card"], data["label"]),
                             (lead["id"], "huping", "hot"))
            self.assertGreaterEqual(data["score"], 70)
            self.assertTrue(data["reasons"])
            self.assertIn(data["best_channel"], ("call", "wechat", "email", "sms"))
        finally:
            srv.stop()
            srv.cleanup()
            rx.shutdown()


if __name__ == "__main__":
    harness.main()
