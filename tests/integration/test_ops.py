"""The operator's commands (issue 12): backup while serving and serving the copy,
a customer's data export, table exports as CSV and JSON."""

import csv
import datetime
import io
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")
ISO = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"


class Browser:
    """One phone: keeps its visitor cookie."""

    def __init__(self, srv, ua=PHONE_UA):
        self.srv, self.ua, self.cookie = srv, ua, None

    def req(self, method, path, body=None, headers=None):
        h = {"User-Agent": self.ua}
        if self.cookie:
            h["Cookie"] = f"sc_vid={self.cookie}"
        h.update(headers or {})
        st, hd, data = self.srv.request(method, path, body=body, headers=h)
        sc = hd.get("set-cookie", "")
        if sc.startswith("sc_vid="):
            self.cookie = sc.split(";", 1)[0].split("=", 1)[1]
        return st, hd, data

    def open_link(self, url):
        st, hd, _ = self.req("GET", "/l/" + url.rsplit("/", 1)[1])
        assert st == 302, st
        st, _, page = self.req("GET", hd["location"])
        assert st == 200, st
        return page.decode()

    def sign_up(self, page, slug, **fields):
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        form = {"csrf": csrf, "consent": "yes"}
        form.update(fields)
        return self.req("POST", f"/c/{slug}/signup", body=urllib.parse.urlencode(form),
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "Accept": "application/json"})


class Ops(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A welcome coupon each (issue 19), so /coupons has rows to check.
        cls.srv = harness.Server(env={"SHARECARD_WELCOME": "coupon:5"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "admin@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
        cls.token = harness.sharecard("token", "create", "--email", "admin@example.com",
                                      db=db).stdout.strip()
        cls.a = harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice")
        cls.srv.start()
        # Two other visitors first, so that no id of Bob's (customer, visitor) is another's.
        for v in ("15_0", "15_1"):
            Browser(cls.srv, ua=PHONE_UA.replace("17_4", v)).open_link(cls.a["qr_url"])
        # Bob signs up through Alice's QR, buys once, and brings Carol (a reward for Bob).
        b = Browser(cls.srv)
        st, _, body = b.sign_up(b.open_link(cls.a["qr_url"]), "alice", name="Bob Customer",
                                email="Bob@Example.com", phone="+44 20 7946 0002")
        assert st == 201, body
        cls.bob = json.loads(body)
        c = Browser(cls.srv, ua=PHONE_UA.replace("17_4", "16_1"))
        st, _, body = c.sign_up(c.open_link(cls.bob["referral_url"]), "alice", name="Carol",
                                email="carol@example.com")
        assert st == 201, body
        st, _, body = cls.srv.request(
            "POST", "/api/v1/conversions",
            body=json.dumps({"email": "bob@example.com", "amount": 12.5, "order_id": "ORD-7"}),
            headers={"Authorization": f"Bearer {cls.token}",
                     "Content-Type": "application/json"})
        assert st == 201, body

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    # ---- backup -----------------------------------------------------------------

    def test_backup_while_serving_then_serve_the_copy(self):
        tmp = tempfile.mkdtemp(prefix="sharecard-backup-")
        dest = os.path.join(tmp, "copy.db")
        if harness.is_pg():
            p = harness.sharecard("backup", dest, db=self.srv.db, check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("pg_dump", p.stderr)
            self.assertFalse(os.path.exists(dest))
            return
        stop = threading.Event()
        scans = [0]

        def traffic():
            while not stop.is_set():
                st, _, _ = self.srv.request("GET", "/l/" + self.a["qr_url"].rsplit("/", 1)[1],
                                            headers={"User-Agent": PHONE_UA})
                assert st == 302, st
                scans[0] += 1

        t = threading.Thread(target=traffic)
        t.start()
        try:
            while scans[0] < 50:  # the server is writing when the backup starts
                threading.Event().wait(0.01)
            p = harness.sharecard("backup", dest, db=self.srv.db, check=False)
            before = scans[0]
            while scans[0] < before + 20:  # and still writing after it
                threading.Event().wait(0.01)
        finally:
            stop.set()
            t.join()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertNotIn("%", p.stderr)  # progress only on a terminal
        self.assertFalse(os.path.exists(dest + ".partial"))
        self.assertEqual(harness.query(dest, "PRAGMA integrity_check"), [("ok",)])
        # One snapshot: every scan event in the copy has its rollup count, and no more.
        ev = harness.scalar(dest, "SELECT count(*) FROM events WHERE type = 0 AND bot = 0")
        ro = harness.scalar(dest, "SELECT coalesce(sum(humans), 0) FROM rollups WHERE type = 0")
        self.assertEqual(ev, ro)
        live = harness.scalar(self.srv.db, "SELECT count(*) FROM events WHERE type = 0")
        self.assertGreater(ev, 50)
        self.assertLess(ev, live)  # the server went on writing after the copy was taken
        # An existing file is never overwritten.
        p2 = harness.sharecard("backup", dest, db=self.srv.db, check=False)
        self.assertNotEqual(p2.returncode, 0)
        self.assertIn("exists", p2.stderr)

        # Restore: serve the copy; its figures and people are there.
        srv2 = harness.Server(db=dest)
        try:
            srv2.start()
            st, _, page = srv2.request("GET", "/c/alice")
            self.assertEqual(st, 200)
            self.assertIn("Alice Member", page.decode())
            auth = {"Authorization": f"Bearer {self.token}"}
            st, _, body = srv2.request("GET", "/api/v1/cards/alice/stats", headers=auth)
            self.assertEqual(st, 200, body)
            self.assertEqual(json.loads(body)["scans"], ev)
            st, _, body = srv2.request("GET", "/api/v1/signups", headers=auth)
            self.assertEqual(st, 200)
            self.assertEqual(sorted(s["email"] for s in json.loads(body)),
                             ["bob@example.com", "carol@example.com"])
        finally:
            try:
                srv2.stop()
            finally:
                srv2.cleanup()

    def test_backup_progress_on_a_terminal(self):
        if harness.is_pg():
            self.skipTest("SQLite only: PostgreSQL is backed up with pg_dump")
        import pty
        tmp = tempfile.mkdtemp(prefix="sharecard-backup-")
        dest = os.path.join(tmp, "tty.db")
        main, sub = pty.openpty()
        try:
            p = subprocess.run([harness.BIN, f"--db={self.srv.db}", "backup", dest],
                               stdout=subprocess.PIPE, stderr=sub, timeout=60)
            os.close(sub)
            sub = -1
            err = b""
            while True:
                try:
                    chunk = os.read(main, 4096)
                except OSError:  # the terminal's other end is closed: all read
                    break
                if not chunk:
                    break
                err += chunk
        finally:
            if sub >= 0:
                os.close(sub)
            os.close(main)
        self.assertEqual(p.returncode, 0, err)
        self.assertRegex(err.decode(), r"backup: 100% \(\d+ of \d+ pages\)")
        self.assertEqual(harness.query(dest, "PRAGMA integrity_check"), [("ok",)])

    def test_backup_usage(self):
        p = harness.sharecard("backup", db=self.srv.db, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("FILE", p.stderr)

    # ---- customer export -------------------------------------------------------------

    def export_person(self, *args):
        p = harness.sharecard("customer", "export", *args, db=self.srv.db)
        return json.loads(p.stdout)

    def test_customer_export(self):
        d = self.export_person("--email", " BOB@example.com ")
        self.assertEqual(list(d), ["profile", "signup", "links", "visits", "orders", "rewards",
                                   "coupons", "payouts"])
        pr = d["profile"]
        self.assertEqual(pr["id"], self.bob["customer_id"])
        self.assertEqual((pr["name"], pr["email"], pr["phone"], pr["card"]),
                         ("Bob Customer", "bob@example.com", "+442079460002", "alice"))
        self.assertIsInstance(pr["consent_version"], str)
        self.assertTrue(pr["consent_version"])
        self.assertRegex(pr["consent_at"], ISO)
        self.assertRegex(pr["signed_up_at"], ISO)
        su = d["signup"]
        self.assertEqual((su["card"], su["rule"], su["level1_type"], su["level1_id"],
                          su["level2_type"]), ("alice", "last_touch", "member", self.a["id"], None))
        self.assertEqual(su["link"], self.a["qr_url"].rsplit("/", 1)[1])
        self.assertEqual([ln["code"] for ln in d["links"]],
                         [self.bob["referral_url"].rsplit("/", 1)[1]])
        kinds = [v["type"] for v in d["visits"]]
        for k in ("scan", "view", "signup"):
            self.assertIn(k, kinds)
        for v in d["visits"]:
            self.assertRegex(v["ts"], ISO)
            self.assertEqual(v["card"], "alice")
        self.assertEqual([(o["order_id"], o["amount_cents"]) for o in d["orders"]],
                         [("ORD-7", 1250)])
        self.assertEqual([(r["level"], r["kind"], r["amount"]) for r in d["rewards"]],
                         [(0, "coupon", 500), (1, "signup", 2)])  # welcome coupon, Carol
        # Issue 19: Bob's welcome coupon is his data too.
        self.assertEqual([(c["kind"], c["value"]) for c in d["coupons"]], [("amount", 500)])
        self.assertRegex(d["coupons"][0]["code"], r"^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){2}-")
        self.assertEqual(d["payouts"], [])
        # The same person by phone, written another way.
        self.assertEqual(self.export_person("--phone", "0044 20 7946 0002"), d)
        # Carol has no orders and only her welcome coupon: empty lists, not missing keys.
        c = self.export_person("--email", "carol@example.com")
        self.assertEqual(c["orders"], [])
        self.assertEqual([(r["level"], r["kind"]) for r in c["rewards"]], [(0, "coupon")])
        self.assertEqual(c["signup"]["level1_type"], "customer")

    def test_customer_export_refusals(self):
        p = harness.sharecard("customer", "export", "--email", "nobody@example.com",
                              db=self.srv.db, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no customer", p.stderr)
        self.assertEqual(p.stdout, "")
        p = harness.sharecard("customer", "export", "--email", "a@example.com", "--phone",
                              "+4420", db=self.srv.db, check=False)
        self.assertEqual(p.returncode, 2)
        p = harness.sharecard("customer", "export", db=self.srv.db, check=False)
        self.assertEqual(p.returncode, 2)

    # ---- table exports -------------------------------------------------------------

    def test_export_events_json_and_csv(self):
        n = harness.scalar(self.srv.db, "SELECT count(*) FROM events")
        p = harness.sharecard("export", "events", "--format", "json", db=self.srv.db)
        rows = json.loads(p.stdout)
        self.assertGreaterEqual(len(rows), n)  # traffic of another test may add rows
        ids = [r["id"] for r in rows]
        self.assertEqual(ids, sorted(set(ids)))
        self.assertEqual(set(rows[0]), {"id", "ts", "type", "card_id", "link_id", "visitor_id",
                                        "browser", "os", "device", "referrer", "bot", "value"})
        self.assertTrue({"scan", "view", "signup"} <= {r["type"] for r in rows})
        for r in rows:
            self.assertRegex(r["ts"], ISO)
        p = harness.sharecard("export", "events", db=self.srv.db)
        self.assertTrue(p.stdout.startswith("\ufeff"))
        table = list(csv.reader(io.StringIO(p.stdout[1:])))
        self.assertEqual(table[0][:3], ["id", "ts", "type"])
        self.assertGreaterEqual(len(table) - 1, n)
        # A range before anything happened has no rows, but keeps the header.
        p = harness.sharecard("export", "events", "--from", "2001-01-01", "--to", "2001-01-31",
                              db=self.srv.db)
        self.assertEqual(len(list(csv.reader(io.StringIO(p.stdout[1:])))), 1)
        p = harness.sharecard("export", "events", "--format", "json", "--from", "2001-01-01",
                              db=self.srv.db)
        self.assertNotEqual(json.loads(p.stdout), [])

    def test_export_every_table(self):
        for table, expect in (("members", {"alice@example.com", "admin@example.com"}),
                              ("customers", {"bob@example.com", "carol@example.com"})):
            rows = json.loads(harness.sharecard("export", table, "--format", "json",
                                                db=self.srv.db).stdout)
            self.assertEqual({r["email"] for r in rows}, expect)
        members = json.loads(harness.sharecard("export", "members", "--format", "json",
                                               db=self.srv.db).stdout)
        self.assertNotIn("password_hash", members[0])
        self.assertIn(members[0]["role"], ("admin", "sales", "manager"))
        for table in ("cards", "links", "signups", "conversions", "rewards", "audit"):
            p = harness.sharecard("export", table, "--format", "json", db=self.srv.db)
            self.assertIsInstance(json.loads(p.stdout), list, table)
            p = harness.sharecard("export", table, db=self.srv.db)
            self.assertTrue(p.stdout.startswith("\ufeffid,"), table)
        conv = json.loads(harness.sharecard("export", "conversions", "--format", "json",
                                            db=self.srv.db).stdout)
        self.assertEqual([(c["order_id"], c["amount_cents"]) for c in conv], [("ORD-7", 1250)])
        p = harness.sharecard("export", "tokens", db=self.srv.db, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown table", p.stderr)
        p = harness.sharecard("export", "events", "--format", "xml", db=self.srv.db, check=False)
        self.assertEqual(p.returncode, 2)
        p = harness.sharecard("export", "events", "--from", "2024-02-30x", db=self.srv.db,
                              check=False)
        self.assertEqual(p.returncode, 2)

    # ---- the OpenAPI document ----------------------------------------------------------

    def test_openapi_document_validates_real_answers(self):
        import jsonschema
        st, hd, body = self.srv.request("GET", "/api/v1/openapi.json")  # no token
        self.assertEqual(st, 200)
        self.assertTrue(hd["content-type"].startswith("application/json"))
        doc = json.loads(body)
        self.assertEqual(doc["openapi"][:4], "3.1.")
        # OpenAPI 3.1's schemas are JSON Schema 2020-12: each must be a valid one.  (No
        # OpenAPI meta-schema validator is packaged in Debian 12, so the document's own
        # structure is checked only as far as the lookups below go.)
        for name, s in doc["components"]["schemas"].items():
            jsonschema.Draft202012Validator.check_schema(s)
        resolver = jsonschema.RefResolver.from_schema(doc)
        auth = {"Authorization": f"Bearer {self.token}"}
        # Something in every list: a member change (audit), the lead of Bob's browser.
        harness.sharecard("member", "disable", "--email", "alice@example.com", db=self.srv.db)
        harness.sharecard("member", "enable", "--email", "alice@example.com", db=self.srv.db)
        seen = set()

        def check(method, path, template, status=200, body=None, headers=None, nonempty=True):
            h = dict(auth)
            h.update(headers or {})
            if body is not None:
                h["Content-Type"] = "application/json"
                body = json.dumps(body)
            st, hd, data = self.srv.request(method, "/api/v1" + path, body=body, headers=h)
            self.assertEqual(st, status, (path, data))
            resp = doc["paths"][template][method.lower()]["responses"][str(status)]
            schema = resp["content"]["application/json"]["schema"]
            value = json.loads(data)
            jsonschema.Draft202012Validator(schema, resolver=resolver).validate(value)
            if nonempty and isinstance(value, list):
                self.assertTrue(value, f"{path} gave no rows: nothing was checked")
            seen.add((method.lower(), template))
            return value

        check("GET", "/cards/alice/stats", "/cards/{slug}/stats")
        check("GET", "/cards/alice/stats?from=2026-01-01&to=2099-12-31", "/cards/{slug}/stats")
        check("GET", "/cards/nobody/stats", "/cards/{slug}/stats", status=404)
        check("GET", "/cards/alice/stats?from=tomorrow", "/cards/{slug}/stats", status=400)
        check("GET", "/cards/alice/stats", "/cards/{slug}/stats", status=401,
              headers={"Authorization": "Bearer wrong"})
        tree = check("GET", "/cards/alice/tree", "/cards/{slug}/tree")
        self.assertTrue(tree["nodes"])
        for p in ("/signups", "/rewards", "/leaderboard", "/channels", "/devices", "/members",
                  "/audit", "/leads"):
            check("GET", p, p)
        check("GET", "/customers", "/customers")
        check("GET", "/customers?birthday=week", "/customers", nonempty=False)
        check("GET", "/retention?from=2026-01-01&to=2027-12-31", "/retention")
        check("GET", "/retention?from=2026-02-30&to=2027-12-31", "/retention", status=400)
        check("GET", "/nps?from=2026-01-01&to=2027-12-31", "/nps")  # test_nps: with answers
        check("GET", "/nps?from=2026-02-30&to=2027-12-31", "/nps", status=400)
        leads = check("GET", "/leads?days=366", "/leads")
        check("GET", f"/leads/{leads[0]['id']}", "/leads/{id}")
        check("GET", f"/leads/{leads[0]['id']}/draft", "/leads/{id}/draft")
        check("POST", "/conversions", "/conversions", status=201,
              body={"customer_id": self.bob["customer_id"], "amount": 3, "order_id": "ORD-API"})
        check("POST", "/conversions", "/conversions", status=404,
              body={"email": "nobody@example.com", "amount": 3, "order_id": "ORD-X"})
        # Coupons (issue 19): the list, one redeemed with an order, refused the second time.
        coupon = [c for c in check("GET", "/coupons", "/coupons")
                  if c["customer_id"] == self.bob["customer_id"]][0]["code"]
        check("POST", "/conversions", "/conversions", status=201,
              body={"customer_id": self.bob["customer_id"], "amount": 9, "order_id": "ORD-CPN",
                    "coupon": coupon})
        check("POST", "/conversions", "/conversions", status=409,
              body={"customer_id": self.bob["customer_id"], "amount": 9, "order_id": "ORD-CPN2",
                    "coupon": coupon})
        check("POST", "/conversions", "/conversions", status=400,
              body={"customer_id": self.bob["customer_id"], "amount": 9, "order_id": "ORD-CPN3",
                    "coupon": "not-a-code"})
        check("GET", "/coupons?format=json", "/coupons")
        # Payouts and statements (issue 19): an approved commission of Alice's, paid in part.
        from test_accounts import Session
        admin = Session(self.srv, ip="198.51.100.98")
        self.assertEqual(admin.login("admin@example.com", "admin-password-1")[0], 303)
        st, _, page = admin.get("/admin/rewards")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        com = [r for r in check("GET", "/rewards", "/rewards")
               if r["kind"] == "commission" and r["status"] == "pending"][0]
        st, _, _ = admin.post(f"/admin/rewards/{com['id']}", {"csrf": csrf,
                                                               "decision": "approved"})
        self.assertEqual(st, 200)
        mem = com["party"]
        pay = {"payout_id": "PAY-1", mem["type"]: mem["id"], "amount": 0.01}
        check("POST", "/payouts", "/payouts", status=201, body=pay)
        check("POST", "/payouts", "/payouts", status=200, body=pay)
        check("POST", "/payouts", "/payouts", status=409,
              body={"payout_id": "PAY-2", mem["type"]: mem["id"], "amount": 10**9})
        check("POST", "/payouts", "/payouts", status=400,
              body={"payout_id": "PAY-3", mem["type"]: mem["id"], "amount": -1})
        month = time.strftime("%Y-%m", time.gmtime())
        check("GET", f"/statements?month={month}", "/statements")
        check("GET", f"/statements?month={month}&{mem['type']}={mem['id']}", "/statements")
        check("GET", "/statements?month=2026-1", "/statements", status=400)
        sales = harness.sharecard("token", "create", "--email", "alice@example.com",
                                  db=self.srv.db).stdout.strip()
        check("GET", "/members", "/members", status=403,
              headers={"Authorization": f"Bearer {sales}"})
        # Every operation the document names was exercised, but the event stream (SSE, no JSON
        # schema to check) and the document itself.
        named = {(m, p) for p, ops in doc["paths"].items() for m in ops}
        self.assertEqual(named - seen, {("get", "/live"), ("get", "/openapi.json")})
        # A field the document promises but an answer lacks fails the check (the check can fail).
        broken = json.loads(json.dumps(doc["components"]["schemas"]["Stats"]))
        broken["required"].append("unheard_of")
        broken["properties"]["unheard_of"] = {"type": "integer"}
        st, _, data = self.srv.request("GET", "/api/v1/cards/alice/stats", headers=auth)
        with self.assertRaises(jsonschema.ValidationError):
            jsonschema.Draft202012Validator(broken).validate(json.loads(data))

    def test_openapi_names_every_api_route(self):
        """Every /api/v1 route in the router's table is in the document (the table is the
        truth of what exists; a route added without its description fails here)."""
        st, _, body = self.srv.request("GET", "/api/v1/openapi.json")
        documented = set(json.loads(body)["paths"])
        src = open(os.path.join(os.path.dirname(__file__), "..", "..", "server",
                                "router.c")).read()
        table = src[src.index("api_routes[] = {"):]
        table = table[:table.index("};")]
        routes = set()
        for m in re.finditer(r'(?:API_\w+\("([^"]+)"|\{P\("([^"]+)"\),\s*(\w+),[^}]*?'
                             r'(?:"(/[a-z]+)"|NULL),)', table):
            name, prefix, kind, suffix = m.groups()
            if name:
                routes.add("/" + name)
            elif kind == "CARD_API":
                routes.add("/" + prefix + "{slug}" + suffix)
            elif kind == "TREE":
                routes.update({"/" + prefix, "/" + prefix + "/{id}"})
            else:
                routes.add("/" + prefix)
        self.assertIn("/cards/{slug}/stats", routes)  # the parse itself works
        self.assertEqual(routes - documented, set())


FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


class ReadmeSettings(unittest.TestCase):
    """Every setting the code reads (a "SHARECARD_…" name in a C string) is in the README's
    Configuration table exactly once, and no API route line is repeated."""

    ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

    def test_every_setting_documented_once(self):
        names = set()
        for folder in ("server", "store", "lib", "card", "intel", "tracker", "ingest", "webhook"):
            for dirpath, _, files in os.walk(os.path.join(self.ROOT, folder)):
                for f in files:
                    if f.endswith((".c", ".h")):
                        with open(os.path.join(dirpath, f), encoding="utf-8") as fh:
                            names.update(re.findall(r'"(SHARECARD_[A-Z0-9_]+)', fh.read()))
        self.assertIn("SHARECARD_TZ", names)  # the scan finds what it should
        with open(os.path.join(self.ROOT, "README.md"), encoding="utf-8") as fh:
            readme = fh.read()
        config = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
        # The table's rows: the lines from its header on while they start with "|" (a row left
        # after the paragraphs below it is no row of the table when the README is rendered).
        lines = config.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("|"))
        rows = list(itertools.takewhile(lambda line: line.startswith("|"), lines[start:]))
        for name in sorted(names):
            # The first cells (flag, name, default) of a row name the setting it documents.
            defining = [r for r in rows
                        if re.search(r"`%s(=[^`]*)?`" % name, "|".join(r.split("|")[:3]))]
            self.assertEqual(len(defining), 1, f"{name}: {len(defining)} rows in Configuration")
        api = readme.split("## HTTP API", 1)[1].split("\n## ", 1)[0]
        routes = re.findall(r"^\| `((?:GET|POST|PUT|DELETE|PATCH) [^`?\[]+)", api, re.M)
        self.assertGreater(len(routes), 10)
        self.assertEqual(sorted(set(routes)), sorted(routes), "a route is listed twice")


class Retention(unittest.TestCase):
    """Raw events older than SHARECARD_RETENTION_DAYS go; the dashboard's figures stay."""

    def test_old_events_pruned_figures_unchanged(self):
        if not os.path.exists(FAKETIME_LIB):
            self.fail("libfaketime is missing: scripts/deps.sh test installs the faketime package")
        srv = harness.Server()
        try:
            db = srv.db
            harness.sharecard("init", "--admin-email", "admin@example.com", db=db,
                              env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
            token = harness.sharecard("token", "create", "--email", "admin@example.com",
                                      db=db).stdout.strip()
            a = harness.add_member(db, "Rita Member", "rita@example.com", "--slug", "rita")
            srv.start()
            b = Browser(srv)
            st, _, body = b.sign_up(b.open_link(a["qr_url"]), "rita", name="Sam",
                                    email="sam@example.com")
            self.assertEqual(st, 201, body)
            for i in range(30):
                Browser(srv, ua=PHONE_UA.replace("17_4", f"17_{i}")).open_link(a["qr_url"])
            day = harness.scalar(db, "SELECT min(ts) FROM events") // 86400
            day = datetime.datetime.fromtimestamp(day * 86400, datetime.timezone.utc).date()
            day = day.isoformat()
            auth = {"Authorization": f"Bearer {token}"}
            paths = [f"/api/v1/cards/rita/stats?from={day}&to={day}",
                     f"/api/v1/leaderboard?from={day}&to={day}",
                     f"/api/v1/channels?from={day}&to={day}",
                     f"/api/v1/devices?from={day}&to={day}",
                     "/api/v1/signups"]  # (rewards' status moves with the clock: holds end)

            def figures(s):
                out = {}
                for p in paths:
                    st, _, body = s.request("GET", p, headers=auth)
                    self.assertEqual(st, 200, (p, body))
                    out[p] = json.loads(body)
                return out

            before = figures(srv)
            self.assertEqual(before[paths[0]]["scans"], 31)
            self.assertGreater(harness.scalar(db, "SELECT count(*) FROM events"), 60)
            srv.stop()

            # 500 days on: the events are past the default 400 days.
            clock = os.path.join(srv.tmp, "faketime")
            with open(clock, "w") as f:
                f.write("+500d\n")
            # Under AddressSanitizer (scripts/test.sh) the preloaded library comes before ASan's
            # runtime, which ASan refuses unless told that the order is intended.
            # Under ThreadSanitizer, libfaketime's own wrapper of pthread_cond_timedwait hides
            # the wait's unlock from TSan, which then reports every timed wait (the live feed's,
            # the writer's) as a double lock: this one process is not race-checked (every
            # other server of the suite, retention thread included, is).
            asan = [o for o in os.environ.get("ASAN_OPTIONS", "").split(":") if o]
            tsan = [o for o in os.environ.get("TSAN_OPTIONS", "").split(":") if o]
            faked = {"LD_PRELOAD": FAKETIME_LIB, "FAKETIME_TIMESTAMP_FILE": clock,
                     "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                     "ASAN_OPTIONS": ":".join(asan + ["verify_asan_link_order=0"]),
                     "TSAN_OPTIONS": ":".join(tsan + ["report_bugs=0"])}
            n_events = harness.scalar(db, "SELECT count(*) FROM events")

            def wait_log(s, text):
                deadline = time.monotonic() + 60
                while not any(text in ln for ln in s.log):
                    self.assertLess(time.monotonic(), deadline, f"never logged {text!r}")
                    time.sleep(0.1)

            # SHARECARD_RETENTION_DAYS=0 keeps every event (no pruning thread at all: the first
            # round would come 2 s after the start).
            keep = harness.Server(db=db, env=dict(faked, SHARECARD_RETENTION_DAYS="0"))
            try:
                keep.start()
                wait_log(keep, "raw events are kept forever")
                time.sleep(4)
                self.assertEqual(harness.scalar(db, "SELECT count(*) FROM events"), n_events)
                keep.stop()
            finally:
                keep.cleanup()
            # 600 days keeps events 500 days old: a round runs and deletes none of them.
            longer = harness.Server(db=db, env=dict(faked, SHARECARD_RETENTION_DAYS="600",
                                                    SHARECARD_LOG_LEVEL="debug"))
            try:
                longer.start()
                wait_log(longer, "retention: no raw events older than 600 days")
                self.assertEqual(harness.scalar(db, "SELECT count(*) FROM events"), n_events)
                longer.stop()
            finally:
                longer.cleanup()
            # A value that is not a whole number of days from 0 to 36500 stops the start.
            for bad in ("-1", "400d", "36501", " 7", "1e3"):
                env = dict(os.environ, SHARECARD_RETENTION_DAYS=bad)
                env.pop("SHARECARD_DB", None)
                try:  # (were it taken, the server would serve on: the timeout ends it)
                    p = subprocess.run([harness.BIN, f"--db={db}", "serve", "--listen",
                                        "127.0.0.1:0"], env=env, capture_output=True,
                                       text=True, timeout=30)
                except subprocess.TimeoutExpired:
                    self.fail(f"SHARECARD_RETENTION_DAYS={bad!r} was taken")
                self.assertEqual(p.returncode, 1, bad)
                self.assertIn("SHARECARD_RETENTION_DAYS must be a whole number", p.stderr, bad)
            # The default, 400 days: the old events go.
            later = harness.Server(db=db, env=faked)
            try:
                later.start()
                deadline = time.monotonic() + 60
                while harness.scalar(db, "SELECT count(*) FROM events") > 0:
                    self.assertLess(time.monotonic(), deadline,
                                    "old events were not pruned within a minute")
                    time.sleep(0.2)
                after = figures(later)
                self.assertEqual(after, before)
                self.assertEqual(harness.scalar(db, "SELECT count(*) FROM customers"), 1)
                self.assertGreater(harness.scalar(db, "SELECT count(*) FROM rollups"), 0)
                later.stop()
                self.assertTrue(any("retention:" in ln for ln in later.log), later.log)
            finally:
                later.cleanup()
        finally:
            srv.cleanup()


class JsonLog(unittest.TestCase):
    """SHARECARD_LOG_FORMAT=json: one JSON object per line; plain stays the default."""

    def test_json_lines(self):
        srv = harness.Server(env={"SHARECARD_LOG_FORMAT": "json"})
        try:
            srv.start()
            srv.request("GET", "/healthz", headers={"X-Request-Id": "req-42.a_b"})
            srv.request("GET", "/nothing/\"quoted\"%FF", headers={"X-Request-Id": "bad id!"})
            srv.stop()
            for _ in range(100):  # the harness reads stderr on a thread of its own
                if any('"/nothing/' in ln for ln in srv.log):
                    break
                time.sleep(0.05)
            lines = [json.loads(ln) for ln in srv.log]  # every line is one JSON object
            self.assertTrue(lines)
            for ln in lines:
                self.assertRegex(ln["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
                self.assertIn(ln["level"], ("debug", "info", "warn", "error"))
                self.assertIsInstance(ln["msg"], str)
            acc = [ln for ln in lines if ln["msg"] == "access"]
            health = [ln for ln in acc if ln["path"] == "/healthz" and
                      ln["request_id"] == "req-42.a_b"]
            self.assertEqual(len(health), 1)
            h = health[0]
            self.assertEqual((h["method"], h["status"], h["ip"]), ("GET", 200, "127.0.0.1"))
            for k in ("bytes", "us"):
                self.assertIsInstance(h[k], int)
                self.assertGreaterEqual(h[k], 0)
            self.assertGreater(h["bytes"], 0)
            odd = [ln for ln in acc if ln["path"].startswith("/nothing/")]
            self.assertEqual(len(odd), 1)
            self.assertEqual(odd[0]["status"], 404)
            self.assertNotEqual(odd[0]["request_id"], "bad id!")  # not well formed: our own
            self.assertTrue(odd[0]["request_id"])
            ids = [ln["request_id"] for ln in acc]
            self.assertEqual(len(ids), len(set(ids)))
        finally:
            srv.cleanup()

    def test_plain_is_the_default_and_bad_values_refused(self):
        srv = harness.Server()
        try:
            srv.start()
            srv.request("GET", "/healthz")
            srv.stop()
            for _ in range(100):
                if any(" access " in ln for ln in srv.log):
                    break
                time.sleep(0.05)
            acc = [ln for ln in srv.log if " access " in ln]
            self.assertTrue(acc)
            self.assertRegex(acc[0], r"^\d{4}-\d\d-\d\dT\S+Z info access 127\.0\.0\.1 GET "
                                     r"/healthz 200 \d+ [\d.]+ms$")
        finally:
            srv.cleanup()
        srv = harness.Server(env={"SHARECARD_LOG_FORMAT": "xml"})
        try:
            with self.assertRaises(AssertionError):
                srv.start()
        finally:
            srv.cleanup()


if __name__ == "__main__":
    harness.main()
