"""Lead intelligence over real HTTP (issue 13): /api/v1/leads carries score, label,
reasons (in the request's language), best time and channel, a drafted next action and,
once signed up, the lead's e-mail and phone, for a salesperson and an admin alike; the
limit, order and label arguments; the CSV; the /leads page and a lead's page with its
draft; follow-ups logged on it (CSRF, checked fields) with a reminder shown on /me; and
a lead crossing the hot threshold recorded and announced once per crossing; and
'score train' / 'score eval' on a store whose outcomes were made with a moved clock."""

import datetime
import http.client
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
        self.assertIn('href="mailto:cleo@example.com"', page)
        self.assertRegex(page, r'<button [^>]*id="copy-wechat"[^>]*data-copy="\+8613800138000">')
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
        # The log is part of the timeline too: newest first, before the visit it followed.
        timeline = page[page.index('id="timeline"'):]
        self.assertIn("没接，明天再试", timeline)
        self.assertLess(timeline.index("没接，明天再试"), timeline.index("Saved the contact"))
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

    def test_followup_without_the_optional_fields(self):
        """A script posts a follow-up with channel and outcome only: logged, no reminder."""
        z = Session(self.srv, "198.51.100.204")
        z.login("zhang@example.com", SALES_PW)
        dan = [x for x in self.leads(self.zhang_token) if x["customer"] is None][0]
        _, _, page = z.get(f"/leads/{dan['id']}")
        path = f"/leads/{dan['id']}/followup"
        st, _, body = z.post(path, {"csrf": csrf_of(page), "outcome": "reached"})
        self.assertEqual(st, 400)
        self.assertIn("channel", body)
        st, _, body = z.post(path, {"csrf": csrf_of(page), "channel": "sms",
                                    "outcome": "not_interested"})
        self.assertEqual(st, 303, body)
        _, _, page = z.get(f"/leads/{dan['id']}")
        logged = set(re.findall(r'<li class="followup">.*?</li>', page))  # log and timeline
        self.assertEqual(len(logged), 1, logged)
        self.assertIn("Not interested", logged.pop())
        self.assertNotIn("reminder", page[page.index('class="followup"'):])
        _, _, me = z.get("/me")
        self.assertNotIn(f"/leads/{dan['id']}", me)

    def test_zh_pages_leave_no_english(self):
        """What /leads and a lead's page show in English through the i18n table, the
        zh-CN pages show translated: none of the table's English is left on them."""
        entries = i18n_entries()
        z = Session(self.srv, "198.51.100.203")
        z.login("zhang@example.com", SALES_PW)
        lead = [x for x in self.leads(self.zhang_token) if x["customer"] == "Cleo"][0]
        _, _, page = z.get(f"/leads/{lead['id']}")  # a follow-up with a reminder on her page
        later = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 3 * 86400))
        self.assertEqual(z.post(f"/leads/{lead['id']}/followup", {
            "csrf": csrf_of(page), "channel": "call", "outcome": "reached", "note": "",
            "remind_on": later, "remind_at": "10:00"})[0], 303)
        for path in ("/leads", f"/leads/{lead['id']}"):
            texts = {}
            for lang in ("en", "zh-CN,zh;q=0.9"):
                st, _, body = self.srv.request("GET", path, headers=z._headers(
                    {"Accept-Language": lang}))
                self.assertEqual(st, 200)
                texts[lang] = visible_text(body.decode())
            used = [en for en in entries if english_in(en, texts["en"])]
            self.assertGreater(len(used), 10, path)  # the check sees the page's strings
            left = [en for en in used if english_in(en, texts["zh-CN,zh;q=0.9"])]
            self.assertEqual(left, [], path)
        # The hint says the order the page has: by score unless asked for the most recent.
        _, _, page = z.get("/leads")
        self.assertNotIn("most recent first", page.lower())
        self.assertIn("Sorted by score: the likeliest to sign up first.", page)
        _, _, page = z.get("/leads?order=recent")
        self.assertIn("Most recent first.", page)
        self.assertNotIn("likeliest", page)


def i18n_entries():
    """The English column of server/i18n_table.c (those translated to something else)."""
    src = os.path.join(os.path.dirname(__file__), "..", "..", "server", "i18n_table.c")
    with open(src, encoding="utf-8") as f:
        text = f.read()
    lit = r'(?:\s*"(?:[^"\\]|\\.)*")+'
    out = []
    for en, zh in re.findall(r"\{(" + lit + r")\s*,(" + lit + r")\s*\}", text):
        en, zh = ("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', x)) for x in (en, zh))
        if en != zh and re.search(r"[A-Za-z]{3}", en):
            out.append(en.replace('\\"', '"'))
    return out


def visible_text(html):
    """A page's text as a reader sees it: no scripts, styles or tags, entities decoded."""
    import html as htmllib
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<[^>]*>", "\n", html)
    return htmllib.unescape(html)


def english_in(en, text):
    """Whether the English 'en' (printf conversions match anything) is a phrase of 'text'."""
    parts = re.split(r"%[-+ #0-9.]*l{0,2}[sdufgc%]", en)
    pat = r".{0,40}?".join(re.escape(p.strip()) for p in parts if p.strip())
    if not pat:
        return False
    return re.search(r"(?<![A-Za-z])" + pat + r"(?![A-Za-z])", text) is not None


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
        got = []

        def receive(h, body):
            got.append(json.loads(body))
            harness.Stub.reply(h, 204)

        rx = harness.Stub(receive)
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
                              f"{rx.url}/hook", "--events",
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


class ChannelsFromFollowUps(unittest.TestCase):
    """Logged follow-ups are the training data for channels: a lead reached by e-mail is
    next to be reached by e-mail, whatever they tapped."""

    def test_successful_follow_ups_move_best_channel(self):
        srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1"})
        try:
            db = srv.db
            harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            member = harness.add_member(db, "Lu Xin", "lu@example.com", "--slug", "luxin")
            harness.sharecard("member", "password", "--email", "lu@example.com", db=db,
                              env={"SHARECARD_PASSWORD": SALES_PW})
            token = harness.sharecard("token", "create", "--email", "lu@example.com",
                                      db=db).stdout.strip()
            srv.start()
            # Ona scans, saves the contact and taps WeChat: WeChat is where to reach her.
            b = Browser(srv)
            b.open_link(member["qr_url"])
            self.assertEqual(b.get("/c/luxin/vcard.vcf")[0], 200)
            self.assertLess(b.post("/e", {"type": "click", "card": "luxin",
                                          "action": "wechat"})[0], 300)

            def lead():
                st, _, body = srv.request("GET", "/api/v1/leads",
                                          headers={"Authorization": f"Bearer {token}"})
                self.assertEqual(st, 200, body)
                rows = json.loads(body)
                self.assertEqual(len(rows), 1)
                return rows[0]

            ona = lead()
            self.assertEqual(ona["best_channel"], "wechat")
            z = Session(srv, "198.51.100.221")
            z.login("lu@example.com", SALES_PW)

            def log(channel, outcome):
                _, _, page = z.get(f"/leads/{ona['id']}")
                st, _, _ = z.post(f"/leads/{ona['id']}/followup", {
                    "csrf": csrf_of(page), "channel": channel, "outcome": outcome, "note": "",
                    "remind_on": "", "remind_at": ""})
                self.assertEqual(st, 303)

            # Unanswered e-mails teach nothing for e-mail; a WeChat unanswered twice and an
            # e-mail that reached her do.
            log("email", "no_answer")
            self.assertEqual(lead()["best_channel"], "wechat")
            log("wechat", "no_answer")
            log("wechat", "no_answer")
            log("email", "reached")
            self.assertEqual(lead()["best_channel"], "email")
            _, _, page = z.get(f"/leads/{ona['id']}")  # her page says so too
            self.assertRegex(page, r"Best time: [^<]*· E-mail</p>")  # in words; the API says "email"
        finally:
            srv.stop()
            srv.cleanup()


class LeadsFoundAndScoredAlike(unittest.TestCase):
    """The leads list and lead intelligence find leads the same way, so a lead who saved the
    contact without a visit in the window (no unique-visitor row) is both
    listed and scored on what they did, not on the prior of a lead with no events."""

    def test_a_lead_without_a_visit_is_scored_on_its_events(self):
        srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1"})
        try:
            db = srv.db
            harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            harness.add_member(db, "Lu Xin", "lu@example.com", "--slug", "luxin")
            token = harness.sharecard("token", "create", "--email", "lu@example.com",
                                      db=db).stdout.strip()
            srv.start()
            # Ona saves the contact from a vCard link passed on, never opening the card.
            ona = Browser(srv)
            self.assertEqual(ona.get("/c/luxin/vcard.vcf")[0], 200)
            self.assertIsNotNone(ona.cookie)
            # Dan only looks.
            self.assertEqual(Browser(srv).get("/c/luxin")[0], 200)
            st, _, body = srv.request("GET", "/api/v1/leads",
                                      headers={"Authorization": f"Bearer {token}"})
            self.assertEqual(st, 200, body)
            rows = json.loads(body)
            self.assertEqual(len(rows), 2, rows)
            saver = [x for x in rows if x["saves"] == 1]
            self.assertEqual(len(saver), 1, rows)
            viewer = [x for x in rows if x["visits"] == 1][0]
            saver = saver[0]
            self.assertEqual(saver["visits"], 0)
            self.assertIn("saved your contact", " ".join(saver["reasons"]))
            self.assertGreater(saver["score"], viewer["score"])
        finally:
            srv.stop()
            srv.cleanup()


class Pagination(unittest.TestCase):
    """/leads shows 50 leads a page with "1–50 of 55" and links that keep the filters and
    the order; /api/v1/leads pages with ?offset= the same way."""

    def test_pages_of_leads_and_the_api_offset(self):
        srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1"})
        try:
            db = srv.db
            harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            member = harness.add_member(db, "Pan Yue", "pan@example.com", "--slug", "panyue")
            harness.sharecard("member", "password", "--email", "pan@example.com", db=db,
                              env={"SHARECARD_PASSWORD": SALES_PW})
            token = harness.sharecard("token", "create", "--email", "pan@example.com",
                                      db=db).stdout.strip()
            srv.start()
            for i in range(55):  # 55 leads, the last two signed up
                b = Browser(srv, ip=f"203.0.113.{i + 1}")
                page = b.open_link(member["qr_url"])
                if i >= 53:
                    st, _, body = b.sign_up(page, "panyue", name=f"Lead {i}",
                                            email=f"lead{i}@example.com")
                    self.assertEqual(st, 201, body)
            z = Session(srv, "198.51.100.231")
            z.login("pan@example.com", SALES_PW)

            def shown(path):
                st, _, page = z.get(path)
                self.assertEqual(st, 200, page)
                ids = re.findall(r'<tr data-lead="(\d+)"', page)
                rng = re.search(r'<span id="range">([^<]*)</span>', page).group(1)
                links = {m.group(1): m.group(2).replace("&amp;", "&") for m in re.finditer(
                    r'<a rel="(prev|next)" href="([^"]+)"', page)}
                return ids, rng, links

            ids1, rng, links = shown("/leads")
            self.assertEqual((len(ids1), rng), (50, "1–50 of 55"))
            self.assertEqual(set(links), {"next"})
            ids2, rng, links = shown(links["next"])
            self.assertEqual((len(ids2), rng), (5, "51–55 of 55"))
            self.assertEqual(set(links), {"prev"})
            self.assertEqual(len(set(ids1) | set(ids2)), 55)  # none twice, none left out
            self.assertEqual(shown(links["prev"])[0], ids1)

            # Filters and the order ride along.
            ids1, rng, links = shown("/leads?signed=no&order=recent")
            self.assertEqual(rng, "1–50 of 53")
            nxt = links["next"]
            self.assertIn("signed=no", nxt)
            self.assertIn("order=recent", nxt)
            ids2, rng, links = shown(nxt)
            self.assertEqual((len(ids2), rng), (3, "51–53 of 53"))
            self.assertEqual(len(set(ids1) | set(ids2)), 53)
            self.assertIn("page=1", links["prev"])
            ids, rng, _ = shown("/leads?limit=20&page=3")
            self.assertEqual((len(ids), rng), (15, "41–55 of 55"))
            self.assertIn("none of 55 here", shown("/leads?page=9")[1])
            self.assertEqual(z.get("/leads?page=0")[0], 400)

            # The API: ?offset= after ?limit=, in the same order as the page.
            def api(query):
                st, _, body = srv.request("GET", f"/api/v1/leads{query}",
                                          headers={"Authorization": f"Bearer {token}"})
                return st, body

            by_score = shown("/leads?page=2")[0]
            st, body = api("?order=score&limit=50&offset=50")
            self.assertEqual(st, 200)
            self.assertEqual([str(x["id"]) for x in json.loads(body)], by_score)
            first = [x["id"] for x in json.loads(api("?limit=30")[1])]
            rest = [x["id"] for x in json.loads(api("?limit=30&offset=30")[1])]
            self.assertEqual((len(first), len(rest)), (30, 25))
            self.assertEqual(len(set(first) | set(rest)), 55)
            self.assertEqual(json.loads(api("?offset=0")[1])[0]["id"], first[0])
            self.assertEqual(json.loads(api("?offset=55")[1]), [])
            for bad in ("-1", "x", "200001", "1.5"):
                st, body = api(f"?offset={bad}")
                self.assertEqual(st, 400, bad)
                self.assertIn(b"offset", body)
        finally:
            srv.stop()
            srv.cleanup()


class LlmDrafts(unittest.TestCase):
    """SHARECARD_LLM_URL: a lead's page and its draft API show the model's draft, marked as
    such, sending it only what a draft needs; a hanging, broken or garbled model leaves the
    template; a list never asks the model."""

    def test_drafts_from_a_local_stub(self):
        got, mode = [], {"now": "draft"}
        release = threading.Event()  # a hanging model answers only once the test says so

        def model(h, body):
            got.append((h.path, dict(h.headers), json.loads(body)))
            m = mode["now"]
            if m == "hang":
                release.wait(120)
                return
            if m == "draft":
                text = " 你好 Qiao，看到你保存了我的联系方式，这周方便聊聊吗？\n"
                out = json.dumps({"id": "x", "choices": [{"index": 0, "message": {
                    "role": "assistant", "content": text}}]}).encode()
            elif m == "garbage":
                out = b"<html>this is not JSON</html>"
            elif m == "bad_utf8":
                out = b'{"choices":[{"message":{"content":"hi \xff\xfe there"}}]}'
            else:  # "huge": an answer over the size limit
                out = json.dumps({"choices": [{"message": {"content": "x" * 100000}}]}).encode()
            harness.Stub.reply(h, 200, out)

        stub = harness.Stub(model)
        url = stub.url + "/v1/chat/completions"
        srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1", "SHARECARD_LLM_URL": url,
                                  "SHARECARD_LLM_MODEL": "tiny-model", "SHARECARD_LLM_KEY":
                                  "sk-local-test", "SHARECARD_LLM_TIMEOUT_MS": "1000"})
        try:
            db = srv.db
            harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            member = harness.add_member(db, "Fang Yu", "fang@example.com", "--slug", "fangyu")
            harness.sharecard("member", "password", "--email", "fang@example.com", db=db,
                              env={"SHARECARD_PASSWORD": SALES_PW})
            token = harness.sharecard("token", "create", "--email", "fang@example.com",
                                      db=db).stdout.strip()
            srv.start()
            people = [("Qiao Lin", "qiao@example.com", "+8613700137000"),
                      ("Ren Bo", "ren@example.com", "+8613700137001"),
                      ("Shu Ke", "shu@example.com", "+8613700137002"),
                      ("Tao Yi", "tao@example.com", "+8613700137003"),
                      ("Uma Li", "uma@example.com", "+8613700137004")]
            for i, (name, email, phone) in enumerate(people):
                b = Browser(srv, ip=f"203.0.113.{i + 1}")
                page = b.open_link(member["qr_url"])
                self.assertEqual(b.get("/c/fangyu/vcard.vcf")[0], 200)
                st, _, body = b.sign_up(page, "fangyu", name=name, email=email, phone=phone)
                self.assertEqual(st, 201, body)
            auth = {"Authorization": f"Bearer {token}"}
            st, _, body = srv.request("GET", "/api/v1/leads?limit=10000", headers=auth)
            self.assertEqual(st, 200)
            rows = json.loads(body)
            ids = {x["customer"]: x["id"] for x in rows}
            self.assertEqual(got, [], "a list never asks the model")

            def draft(who, lang=None):
                h = dict(auth, **({"Accept-Language": lang} if lang else {}))
                t0 = time.monotonic()
                st, _, body = srv.request("GET", f"/api/v1/leads/{ids[who]}/draft", headers=h)
                self.assertEqual(st, 200, body)
                return json.loads(body), time.monotonic() - t0

            # The model answers: its draft, trimmed, marked as the model's, on the page too.
            # The first view has the template at once and the model asked in the background
            # (the page's script fetches the draft API); the API waits for that same call.
            z = Session(srv, "198.51.100.241")
            z.login("fang@example.com", SALES_PW)
            st, _, page = z.get(f"/leads/{ids['Qiao Lin']}")
            self.assertEqual(st, 200)
            self.assertIn('data-drafted-by="template" data-draft-src="/api/v1/leads/'
                          f'{ids["Qiao Lin"]}/draft" readonly', page)
            self.assertNotIn('id="drafted-by"', page)
            want = "你好 Qiao，看到你保存了我的联系方式，这周方便聊聊吗？"
            d, _ = draft("Qiao Lin")
            self.assertEqual((d["drafted_by"], d["next_action"]), ("model", want))
            st, _, page = z.get(f"/leads/{ids['Qiao Lin']}")
            self.assertIn(f'data-drafted-by="model" readonly rows="3" style="width:100%">{want}'
                          "</textarea>", page)
            self.assertIn('id="drafted-by"', page)
            self.assertEqual(len(got), 1)
            path, headers, req = got[0]
            self.assertEqual(path, "/v1/chat/completions")
            self.assertEqual(headers["Authorization"], "Bearer sk-local-test")
            self.assertEqual(req["model"], "tiny-model")
            sent = json.dumps(req, ensure_ascii=False)
            for secret in ("qiao@example.com", "+8613700137000", "13700137000", "Lin",
                           "example.com"):
                self.assertNotIn(secret, sent)  # no phone, no e-mail, no family name
            facts = json.loads(req["messages"][-1]["content"])
            self.assertEqual((facts["first_name"], facts["language"]), ("Qiao", "English"))
            self.assertIn("saved the contact", facts["looked_at"])
            self.assertIn("the digital business card of Fang Yu", facts["looked_at"])
            self.assertTrue(facts["reasons"])
            # The API says the same, from the cache: the model is not asked again.
            d, _ = draft("Qiao Lin")
            self.assertEqual((d["drafted_by"], d["next_action"]), ("model", want))
            self.assertEqual(len(got), 1)
            # Another language is another draft.
            d, _ = draft("Qiao Lin", "zh-CN")
            self.assertEqual(d["drafted_by"], "model")
            self.assertEqual(json.loads(got[-1][2]["messages"][-1]["content"])["language"],
                             "Simplified Chinese (zh-CN)")

            # A model that hangs, answers garbage, invalid UTF-8 or too much: the template.
            for who, m in (("Ren Bo", "hang"), ("Shu Ke", "garbage"), ("Tao Yi", "bad_utf8"),
                           ("Uma Li", "huge")):
                mode["now"] = m
                before = len(got)
                d, _ = draft(who)
                # For "hang" the stub still holds its answer: the server gave up on its own
                # timeout rather than waiting for the model.
                self.assertFalse(m == "hang" and release.is_set())
                self.assertEqual(d["drafted_by"], "template", m)
                self.assertIn(who.split()[0], d["next_action"])
                template = [x for x in rows if x["customer"] == who][0]["next_action"]
                self.assertEqual(d["next_action"], template, m)
                self.assertEqual(len(got), before + 1, m)
                release.set()
                _, _, page = z.get(f"/leads/{ids[who]}")
                self.assertIn('data-drafted-by="template"', page)
                self.assertNotIn('id="drafted-by"', page)
                self.assertNotIn("data-draft-src", page)  # the failure is known: no fetch
                self.assertEqual(len(got), before + 1, "a failure is remembered for a while")
            # Still no list asks the model.
            before = len(got)
            self.assertEqual(srv.request("GET", "/api/v1/leads?format=csv", headers=auth)[0], 200)
            self.assertEqual(z.get("/leads")[0], 200)
            self.assertEqual(len(got), before)
        finally:
            release.set()
            srv.stop()
            srv.cleanup()
            stub.shutdown()

    def test_pages_do_not_wait_for_the_model(self):
        """A model slower than a page view: the lead's page answers with the template while
        the model is still drafting (at most two calls in flight, each lead asked once);
        the draft API waits for it, and the next view shows the model's draft."""
        release, lock = threading.Event(), threading.Lock()
        state = {"in": 0, "max": 0, "asked": []}

        def model(h, body):
            facts = json.loads(json.loads(body)["messages"][-1]["content"])
            with lock:
                state["in"] += 1
                state["max"] = max(state["max"], state["in"])
                state["asked"].append(facts["first_name"])
            release.wait(60)
            with lock:  # counted out before the answer, so the server's next call is not
                state["in"] -= 1  # seen overlapping this one
            out = json.dumps({"choices": [{"message": {
                "content": f"Hi {facts['first_name']}, from the model"}}]}).encode()
            harness.Stub.reply(h, 200, out)

        stub = harness.Stub(model)
        url = stub.url + "/v1/chat/completions"
        srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1", "SHARECARD_LLM_URL": url,
                                  "SHARECARD_LLM_TIMEOUT_MS": "30000"})
        try:
            db = srv.db
            harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            member = harness.add_member(db, "Fang Yu", "fang@example.com", "--slug", "fangyu")
            harness.sharecard("member", "password", "--email", "fang@example.com", db=db,
                              env={"SHARECARD_PASSWORD": SALES_PW})
            token = harness.sharecard("token", "create", "--email", "fang@example.com",
                                      db=db).stdout.strip()
            srv.start()
            names = ["Ana", "Bo", "Cai", "Dee", "Eli"]
            for i, name in enumerate(names):
                b = Browser(srv, ip=f"203.0.113.{i + 1}")
                page = b.open_link(member["qr_url"])
                st, _, body = b.sign_up(page, "fangyu", name=name, email=f"{name}@example.com")
                self.assertEqual(st, 201, body)
            auth = {"Authorization": f"Bearer {token}"}
            rows = json.loads(srv.request("GET", "/api/v1/leads", headers=auth)[2])
            ids = {x["customer"]: x["id"] for x in rows}
            z = Session(srv, "198.51.100.242")
            z.login("fang@example.com", SALES_PW)
            # Every page answers while the model holds its answers back.
            for name in names + names:
                st, _, page = z.get(f"/leads/{ids[name]}")
                self.assertEqual(st, 200)
                self.assertIn('data-drafted-by="template" data-draft-src=', page)
                self.assertIn(name, page)
            self.assertFalse(release.is_set())
            deadline = time.monotonic() + 30
            while len(state["asked"]) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            release.set()
            for name in names:  # the API waits for the background call
                st, _, body = srv.request("GET", f"/api/v1/leads/{ids[name]}/draft",
                                          headers=auth)
                self.assertEqual(st, 200, body)
                d = json.loads(body)
                self.assertEqual((d["drafted_by"], d["next_action"]),
                                 ("model", f"Hi {name}, from the model"))
            self.assertEqual(sorted(state["asked"]), sorted(names))  # each lead once
            self.assertEqual(state["max"], 2)  # two in flight at most
            _, _, page = z.get(f"/leads/{ids['Cai']}")
            self.assertIn('data-drafted-by="model" readonly rows="3" style="width:100%">'
                          "Hi Cai, from the model</textarea>", page)
        finally:
            release.set()
            srv.stop()
            srv.cleanup()
            stub.shutdown()

    def test_off_by_default_and_the_url_checked(self):
        srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1"})
        try:
            harness.sharecard("init", "--admin-email", "root@example.com", db=srv.db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            member = harness.add_member(srv.db, "Gu Yi", "gu@example.com", "--slug", "guyi")
            token = harness.sharecard("token", "create", "--email", "gu@example.com",
                                      db=srv.db).stdout.strip()
            srv.start()
            Browser(srv).open_link(member["qr_url"])
            auth = {"Authorization": f"Bearer {token}"}
            lead = json.loads(srv.request("GET", "/api/v1/leads", headers=auth)[2])[0]
            st, _, body = srv.request("GET", f"/api/v1/leads/{lead['id']}/draft", headers=auth)
            self.assertEqual(st, 200)
            d = json.loads(body)
            self.assertEqual((d["id"], d["card"], d["drafted_by"], d["next_action"]),
                             (lead["id"], "guyi", "template", lead["next_action"]))
            self.assertEqual(srv.request("GET", "/api/v1/leads/999999/draft",
                                         headers=auth)[0], 404)
        finally:
            srv.stop()
        import subprocess

        def serve(**env):
            full = dict(os.environ, **env)
            full.pop("SHARECARD_DB", None)
            return subprocess.run([harness.BIN, f"--db={srv.db}", "serve", "--listen",
                                   "127.0.0.1:0"], env=full, capture_output=True, text=True,
                                  timeout=30)

        for bad in ("ftp://127.0.0.1/v1", "not a url", "file:///etc/passwd"):
            p = serve(SHARECARD_LLM_URL=bad)
            self.assertNotEqual(p.returncode, 0, bad)
            self.assertIn("SHARECARD_LLM_URL must be an http:// or https:// URL", p.stderr)
        p = serve(SHARECARD_LLM_URL="http://127.0.0.1:9/v1", SHARECARD_LLM_TIMEOUT_MS="soon")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("SHARECARD_LLM_TIMEOUT_MS", p.stderr)
        srv.cleanup()


class QuietLeads(unittest.TestCase):
    """/leads?quiet=30 lists the leads gone quiet with a reason to get back in touch."""

    @unittest.skipUnless(os.path.exists(FAKETIME_LIB), "needs Debian's faketime package")
    def test_reason_to_get_back_in_touch(self):
        if under_tsan():
            self.skipTest("faketime and ThreadSanitizer do not mix")
        tmp = harness.tempfile.mkdtemp(prefix="sharecard-clock-")
        clock = os.path.join(tmp, "clock")

        def set_clock(t):
            with open(clock, "w") as f:
                f.write(time.strftime("@%Y-%m-%d %H:%M:%S", time.gmtime(t)))

        now = time.time()
        set_clock(now - 40 * 86400 - 3600)  # 40 days and an hour: 40 whole days
        srv = harness.Server(env=dict(faketime_env(clock), SHARECARD_TRUST_PROXY="1"))
        try:
            db = srv.db
            harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            member = harness.add_member(db, "Qin Mo", "qin@example.com", "--slug", "qinmo")
            harness.sharecard("member", "password", "--email", "qin@example.com", db=db,
                              env={"SHARECARD_PASSWORD": SALES_PW})
            srv.start()
            old = Browser(srv, ip="203.0.113.9")  # 40 days ago: saved the contact
            old.open_link(member["qr_url"])
            self.assertEqual(old.get("/c/qinmo/vcard.vcf")[0], 200)
            set_clock(now)
            Browser(srv, ip="203.0.113.10").open_link(member["qr_url"])  # today
            z = Session(srv, "198.51.100.251")
            z.login("qin@example.com", SALES_PW)
            st, _, page = z.get("/leads?quiet=30")
            self.assertEqual(st, 200)
            self.assertEqual(len(re.findall(r"<tr data-lead=", page)), 1)
            self.assertIn('name="quiet" min="1" max="366" value="30"', page)
            self.assertIn("Quiet for 40 days; last time they saved your contact. A good moment "
                          "to get back in touch with something new.", page)
            st, _, page = z.get("/leads")
            self.assertNotIn('class="reengage"', page)  # only when asked for quiet leads
            # The filter form sends back what it shows: an empty quiet, not a refused 0.
            self.assertIn('name="quiet" min="1" max="366" value=""', page)
        finally:
            srv.stop()
            srv.cleanup()


class Feed:
    """An open /api/v1/live stream, its messages collected on a thread of its own."""

    def __init__(self, srv, token, lang=None, headers=None):
        self.seen, self.stop = [], threading.Event()
        self.conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
        h = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if lang:
            h["Accept-Language"] = lang
        h.update(headers or {})
        self.conn.request("GET", "/api/v1/live", headers=h)
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        ident = None
        while not self.stop.is_set():
            try:
                line = self.resp.fp.readline()
            except (OSError, ValueError):  # closed by close()
                break
            if not line:
                break
            if line.startswith(b"id: "):
                ident = line[4:].strip().decode()
            elif line.startswith(b"data: "):
                self.seen.append(dict(json.loads(line[6:]), sse_id=ident))

    def of(self, kind):
        return [e for e in self.seen if e.get("type") == kind]

    def wait_for(self, kind, seconds=60):
        deadline = time.monotonic() + seconds
        while not self.of(kind) and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.of(kind)

    def wait_for_text(self, tail, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            hits = [e for e in self.seen if e.get("text", "").endswith(tail)]
            if hits:
                return hits
            time.sleep(0.2)
        return []

    def close(self):
        import socket
        self.stop.set()
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)  # wakes the reader now
        except (OSError, AttributeError):
            pass
        self.conn.close()
        self.thread.join(5)


class LiveLeadLines(unittest.TestCase):
    """A lead crossing the hot threshold, and a reminder falling due, each show once in the
    owner's live feed (and their admin's, in the admin's language), and in nobody else's."""

    def test_hot_lead_and_due_reminder_in_the_live_feed(self):
        srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1", "SHARECARD_HOT_WATCH_S": "1"})
        feeds = []
        try:
            db = srv.db
            harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            member = harness.add_member(db, "Hu Ping", "hu@example.com", "--slug", "huping",
                                        "--team", "east")
            harness.add_member(db, "Wes West", "wes@example.com", "--slug", "wes", "--team",
                               "west")
            harness.sharecard("member", "password", "--email", "hu@example.com", db=db,
                              env={"SHARECARD_PASSWORD": SALES_PW})
            tok = {who: harness.sharecard("token", "create", "--email", f"{who}@example.com",
                                          db=db).stdout.strip() for who in ("root", "hu", "wes")}
            srv.start()
            hu, root, wes = (Feed(srv, tok["hu"]), Feed(srv, tok["root"], "zh-CN,zh;q=0.9"),
                             Feed(srv, tok["wes"]))
            feeds = [hu, root, wes]
            time.sleep(1.5)  # the streams are open and have read where "now" is

            # Mei scans Hu Ping's QR code, saves the contact, taps call, WeChat, e-mail, and
            # signs up: hot.
            b = Browser(srv)
            page = b.open_link(member["qr_url"])
            self.assertEqual(b.get("/c/huping/vcard.vcf")[0], 200)
            for action in ("call", "wechat", "email", "call"):
                self.assertLess(b.post("/e", {"type": "click", "card": "huping",
                                              "action": action})[0], 300)
            st, _, body = b.sign_up(page, "huping", name="Mei", email="mei@example.com",
                                    phone="+8613900139000")
            self.assertEqual(st, 201, body)
            _, _, body = srv.request("GET", "/api/v1/leads",
                                     headers={"Authorization": f"Bearer {tok['hu']}"})
            lead = json.loads(body)[0]
            self.assertEqual(lead["label"], "hot")

            hot = hu.wait_for("hot")
            self.assertEqual(len(hot), 1, hu.seen)
            line = hot[0]
            self.assertTrue(line["text"].startswith("Hot lead: Mei on Hu Ping's card (huping), "
                                                    f"score {lead['score']} — "), line)
            self.assertIn(line["text"].split(" — ", 1)[1], lead["reasons"])  # the top reason
            self.assertEqual((line["lead"], line["card"], line["url"]),
                             (lead["id"], "huping", f"/leads/{lead['id']}"))
            self.assertRegex(line["at"], ISO)
            zh = root.wait_for("hot")
            self.assertEqual(len(zh), 1)
            self.assertTrue(zh[0]["text"].startswith("热门线索：Mei（Hu Ping的名片 huping），评分"),
                            zh[0])

            # The salesperson logs a call with a reminder set in the past: due at once.
            z = Session(srv, "198.51.100.211")
            z.login("hu@example.com", SALES_PW)
            _, _, lpage = z.get(f"/leads/{lead['id']}")
            yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
            st, _, _ = z.post(f"/leads/{lead['id']}/followup", {
                "csrf": csrf_of(lpage), "channel": "wechat", "outcome": "no_answer",
                "note": "没接，再发微信", "remind_on": yesterday, "remind_at": "09:30"})
            self.assertEqual(st, 303)
            rem = hu.wait_for("reminder")
            self.assertEqual(len(rem), 1, hu.seen)
            self.assertEqual(rem[0]["text"],
                             "Follow up: Mei on Hu Ping's card (huping) on WeChat — 没接，再发微信")
            self.assertEqual(rem[0]["url"], f"/leads/{lead['id']}")
            zr = root.wait_for("reminder")
            self.assertEqual(zr[0]["text"], "该跟进了：Mei（Hu Ping的名片 huping），发微信 — 没接，再发微信")

            # More activity and more ticks: still one line each (the watcher runs every
            # second here and the feed looks every second).
            self.assertLess(b.post("/e", {"type": "click", "card": "huping",
                                          "action": "wechat"})[0], 300)
            time.sleep(4)
            self.assertEqual((len(hu.of("hot")), len(hu.of("reminder"))), (1, 1), hu.seen)
            self.assertEqual((len(root.of("hot")), len(root.of("reminder"))), (1, 1))
            # Another team's salesperson sees neither.
            self.assertEqual(wes.of("hot") + wes.of("reminder"), [])

            # A browser reconnecting with the last id it saw gets neither line again; one
            # resuming from before them gets each once.
            last = hu.seen[-1]["sse_id"]
            self.assertRegex(last, r"^\d+\.\d+\.\d+$")
            for resume, want in ((last, 0), ("0.0.0", 1)):
                again = Feed(srv, tok["hu"], headers={"Last-Event-ID": resume})
                feeds.append(again)
                time.sleep(4)
                self.assertEqual((len(again.of("hot")), len(again.of("reminder"))),
                                 (want, want), resume)
        finally:
            for f in feeds:
                f.close()
            srv.stop()
            srv.cleanup()


class LiveReminderBacklog(unittest.TestCase):
    """Reminders that fell due before the live feed was opened come first in it: the 20
    most recently due and not followed up since, newest on top (sent oldest first, as the
    page puts each line on top), each once; then new ones as they fall due."""

    def test_reminders_due_before_the_feed_opened(self):
        srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1"})
        feeds = []
        try:
            db = srv.db
            harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            harness.add_member(db, "Hu Ping", "hu@example.com", "--slug", "huping")
            harness.sharecard("member", "password", "--email", "hu@example.com", db=db,
                              env={"SHARECARD_PASSWORD": SALES_PW})
            token = harness.sharecard("token", "create", "--email", "hu@example.com",
                                      db=db).stdout.strip()
            srv.start()
            for _ in range(24):
                self.assertEqual(Browser(srv).get("/c/huping")[0], 200)
            st, _, body = srv.request("GET", "/api/v1/leads?order=recent&limit=100",
                                      headers={"Authorization": f"Bearer {token}"})
            ids = sorted(x["id"] for x in json.loads(body))
            self.assertEqual(len(ids), 24)
            z = Session(srv, "198.51.100.231")
            z.login("hu@example.com", SALES_PW)
            yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
            tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))

            def log(lead, note, day=None):
                _, _, page = z.get(f"/leads/{lead}")
                form = {"csrf": csrf_of(page), "channel": "call", "outcome": "no_answer",
                        "note": note}
                if day:
                    form.update(remind_on=day, remind_at="09:00")
                self.assertEqual(z.post(f"/leads/{lead}/followup", form)[0], 303)

            # 22 reminders due (set in the past: due as logged, in this order), one lead
            # followed up since its reminder, one reminder due tomorrow.
            for i in range(22):
                log(ids[i], f"n{i:02d}", yesterday)
            log(ids[21], "called back")
            log(ids[22], "later", tomorrow)
            hu = Feed(srv, token)
            feeds.append(hu)
            rem = hu.wait_for("reminder")
            time.sleep(3)  # more ticks: none again
            rem = hu.of("reminder")
            notes = [r["text"].rsplit(" — ", 1)[1] for r in rem]
            self.assertEqual(notes, [f"n{i:02d}" for i in range(1, 21)])
            self.assertEqual(hu.seen[:20], rem)  # the stream's first lines
            self.assertEqual(rem[-1]["url"], f"/leads/{ids[20]}")
            self.assertTrue(rem[0]["text"].startswith("Follow up: visitor #"), rem[0])
            # A new one falls due while it is open: shown once, as before.
            log(ids[23], "new", yesterday)
            self.assertTrue(any(r["text"].endswith("— new") for r in hu.wait_for_text("— new")))
            time.sleep(2)
            self.assertEqual(len(hu.of("reminder")), 21, hu.seen)
            # Reconnecting where it was shows none of them again.
            again = Feed(srv, token, headers={"Last-Event-ID": hu.seen[-1]["sse_id"]})
            feeds.append(again)
            time.sleep(3)
            self.assertEqual(again.of("reminder"), [])
        finally:
            for f in feeds:
                f.close()
            srv.stop()
            srv.cleanup()


if __name__ == "__main__":
    harness.main()
