"""Customers' orders over real HTTP and the CLI (DESIGN.md §6 and §10, issue 14).

POST /api/v1/conversions takes only amounts a shop means (digits, at most two
decimals; anything else is a 400 that names the field and writes nothing) and
an optional ordered_at (ISO 8601, not in the future) that back-fills a shop's
history: the conversion's created_at is the time the order was made.
`sharecard import orders FILE.csv` does the same from a file, line by line,
idempotent on the order id."""

import calendar
import json
import os
import re
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_signups import Browser  # noqa: E402


def utc(y, mo, d, h=0, mi=0, s=0):
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))


class Orders(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "admin@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
        cls.token = harness.sharecard("token", "create", "--email", "admin@example.com",
                                      db=db).stdout.strip()
        cls.a = harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice")
        cls.srv.start()
        cls.cust = {}
        for name in ("bob", "carol"):
            b = Browser(cls.srv)
            st, _, body = b.join(cls.a["qr_url"], "alice", name=name.title(),
                                 email=f"{name}@example.com")
            assert st == 201, body
            cls.cust[name] = json.loads(body)["customer_id"]

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def post(self, body):
        h = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        raw = body if isinstance(body, str) else json.dumps(body)
        st, _, data = self.srv.request("POST", "/api/v1/conversions", body=raw, headers=h)
        return st, data.decode()

    def stored(self, order_id):
        rows = harness.query(self.srv.db, "SELECT customer_id, amount_cents, created_at FROM "
                             "conversions WHERE order_id = ?", (order_id,))
        return rows[0] if rows else None

    def count(self):
        return harness.scalar(self.srv.db, "SELECT count(*) FROM conversions")

    def test_1_amounts_are_strict(self):
        before = self.count()
        for amount in ("abc", "12abc", "", "1.999", "-1", "1e3", " 5", "5 ", "+5", "1,5",
                       "0x10", "NaN", "inf", ".5", "5.", "10000000000.01", 1.999, -1, 1e11,
                       None, True, [5]):
            st, msg = self.post({"email": "bob@example.com", "amount": amount,
                                 "order_id": f"BAD-{amount!r}"})
            self.assertEqual(st, 400, f"{amount!r}: {msg}")
            self.assertIn("amount", msg, amount)
        st, msg = self.post('{"email": "bob@example.com", "order_id": "BAD-none"}')
        self.assertEqual(st, 400, msg)
        self.assertIn("amount", msg)
        self.assertEqual(self.count(), before)  # nothing half-written

        for order, amount, cents in (("A-1", "12.5", 1250), ("A-2", 12, 1200), ("A-3", 0, 0),
                                     ("A-4", 199.99, 19999), ("A-5", "0.07", 7),
                                     ("A-6", "10000000000", 1000000000000), ("A-7", 0.1, 10)):
            st, msg = self.post({"email": "bob@example.com", "amount": amount,
                                 "order_id": order})
            self.assertEqual(st, 201, f"{amount!r}: {msg}")
            self.assertEqual(self.stored(order)[1], cents, amount)

    def test_2_ordered_at_backfills_and_refuses_the_future(self):
        now = int(time.time())
        cases = (("B-1", "2025-03-01T10:00:00Z", utc(2025, 3, 1, 10)),
                 ("B-2", "2025-03-01T10:00:00+08:00", utc(2025, 3, 1, 2)),
                 ("B-3", "2024-02-29", utc(2024, 2, 29)),
                 ("B-4", "2025-03-01T10:00:00.250-0130", utc(2025, 3, 1, 11, 30)),
                 ("B-5", "2025-03-01 10:00", utc(2025, 3, 1, 10)))
        for order, when, expect in cases:
            st, msg = self.post({"customer_id": self.cust["carol"], "amount": "5",
                                 "order_id": order, "ordered_at": when})
            self.assertEqual(st, 201, f"{when}: {msg}")
            self.assertEqual(self.stored(order), (self.cust["carol"], 500, expect), when)
        # Without ordered_at the order is dated when it is posted.
        st, msg = self.post({"customer_id": self.cust["carol"], "amount": "5", "order_id": "B-6"})
        self.assertEqual(st, 201, msg)
        self.assertLessEqual(abs(self.stored("B-6")[2] - now), 120)

        before = self.count()
        future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))
        for when, reason in ((future, "future"), ("2999-01-01", "future"),
                             ("2026-02-30", "exist"), ("2025-02-29", "exist"),
                             ("2025-13-01T00:00:00Z", "exist"), ("2025-03-01T24:00:00Z", "exist"),
                             ("1969-12-31", "exist"), ("yesterday", "ISO 8601"),
                             ("2025-03-01T10:00:00+25:00", "ISO 8601"),
                             ("2025-3-1", "ISO 8601"), ("", "ISO 8601"), (1740823200, "ordered_at")):
            st, msg = self.post({"email": "carol@example.com", "amount": "5",
                                 "order_id": f"C-{when}", "ordered_at": when})
            self.assertEqual(st, 400, f"{when!r}: {msg}")
            self.assertIn("ordered_at", msg, when)
            self.assertIn(reason, msg, when)
        self.assertEqual(self.count(), before)

    def test_3_import_orders_reports_each_line_and_is_idempotent(self):
        carol = self.cust["carol"]
        text = ("\ufefforder_id,email,customer_id,amount,ordered_at\r\n"
                "I-1,bob@example.com,,19.90,2025-01-05T09:30:00Z\r\n"
                f"I-2,,{carol},7,2025-02-01\r\n"
                "I-3,bob@example.com,,12abc,2025-01-06\r\n"
                "I-4,nobody@example.com,,5,2025-01-06\r\n"
                "I-5,bob@example.com,,5,2999-01-01\r\n"
                "\r\n"
                "I-1,bob@example.com,,19.90,2025-01-05T09:30:00Z\r\n"
                "I-6,bob@example.com,,0,\r\n")
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False,
                                         encoding="utf-8") as f:
            f.write(text)
        try:
            before = self.count()
            p = harness.sharecard("import", "orders", f.name, db=self.srv.db, check=False)
            self.assertEqual(p.returncode, 1, p.stderr)  # some lines were refused
            lines = p.stdout.splitlines()
            self.assertRegex(lines[0], r"^line 2: I-1 imported \(conversion \d+\)$")
            self.assertRegex(lines[1], r"^line 3: I-2 imported")
            self.assertRegex(lines[2], r"^line 4: refused: amount")
            self.assertRegex(lines[3], r"^line 5: I-4 refused: no customer")
            self.assertRegex(lines[4], r"^line 6: refused: ordered_at is in the future")
            self.assertRegex(lines[5], r"^line 8: I-1 already imported")
            self.assertRegex(lines[6], r"^line 9: I-6 imported")
            self.assertEqual(lines[7], "3 imported, 1 already imported, 3 refused")
            self.assertEqual(self.count(), before + 3)
            self.assertEqual(self.stored("I-1"), (self.cust["bob"], 1990, utc(2025, 1, 5, 9, 30)))
            self.assertEqual(self.stored("I-2"), (carol, 700, utc(2025, 2, 1)))
            self.assertEqual(self.stored("I-6")[1], 0)
            self.assertIsNone(self.stored("I-3"))

            # Run again: nothing new is written, every good line says so.
            p = harness.sharecard("import", "orders", f.name, db=self.srv.db, check=False)
            self.assertIn("0 imported, 4 already imported, 3 refused", p.stdout)
            self.assertEqual(self.count(), before + 3)
        finally:
            os.unlink(f.name)

        p = harness.sharecard("import", "orders", "-", db=self.srv.db, check=False,
                              input="order_id,amount,email\nI-7,3.5,carol@example.com\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.stored("I-7")[1], 350)
        p = harness.sharecard("import", "orders", "-", db=self.srv.db, check=False,
                              input="id,price\n1,2\n")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("first line must name the columns", p.stderr)


FIELDS = {"id", "name", "email", "phone", "card", "level1", "signed_up_at", "orders", "revenue",
          "first_order_at", "last_order_at", "rfm", "segment", "p_alive", "expected_orders_90d",
          "clv_1y", "points", "tier", "birthday"}


def days_ago(k):
    """Noon UTC k days before today, as ISO 8601, and as unix seconds."""
    today = int(time.time()) // 86400
    t = (today - k) * 86400 + 43200
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)), t


class Customers(unittest.TestCase):
    """GET /api/v1/customers: DESIGN §10's fields, hand-computed orders, RFM and tiers, scoped
    by role; customer value appears once `sharecard customers fit` has run."""

    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1", "SHARECARD_HOLD_DAYS": "0",
                                      "SHARECARD_TIERS": "basic:0,银卡:50,gold:90"})
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

        def sign_up(name, link, slug):
            b = Browser(cls.srv)
            st, _, body = b.join(link, slug, name=name.title(),
                                 email=f"{name}@example.com")
            assert st == 201, body
            j = json.loads(body)
            cls.ids[name] = j["customer_id"]
            return j

        bob = sign_up("bob", cls.a["qr_url"], "alice")
        sign_up("carol", bob["referral_url"], "alice")  # bob earns 2 points (no hold)
        sign_up("dave", cls.o["qr_url"], "olga")
        sign_up("erin", cls.o["qr_url"], "olga")
        cls.orders = {"bob": [(30, "10"), (20, "20"), (2, "30")],
                      "carol": [(60, "5"), (50, "5"), (45, "5"), (40, "5")],
                      "dave": [(100, "100")]}
        n = 0
        for who, rows in cls.orders.items():
            for k, amount in rows:
                n += 1
                st, _, body = cls.srv.request(
                    "POST", "/api/v1/conversions",
                    body=json.dumps({"email": f"{who}@example.com", "amount": amount,
                                     "order_id": f"O-{n}", "ordered_at": days_ago(k)[0]}),
                    headers={"Authorization": f"Bearer {cls.admin}",
                             "Content-Type": "application/json"})
                assert st == 201, body

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def get(self, query="", token=None):
        st, h, body = self.srv.request("GET", "/api/v1/customers" + query, headers={
            "Authorization": f"Bearer {token or self.admin}"})
        return st, h, body

    def rows(self, query="", token=None):
        st, _, body = self.get(query, token)
        self.assertEqual(st, 200, body)
        return {r["email"].split("@")[0]: r for r in json.loads(body)}

    def test_1_fields_orders_rfm_points_tiers(self):
        rows = self.rows()
        self.assertEqual(set(rows), {"bob", "carol", "dave", "erin"})
        for r in rows.values():
            self.assertEqual(set(r), FIELDS)
        bob, carol, dave, erin = (rows[k] for k in ("bob", "carol", "dave", "erin"))
        self.assertEqual((bob["id"], bob["name"], bob["card"]), (self.ids["bob"], "Bob", "alice"))
        self.assertEqual(bob["level1"], {"type": "member", "id": self.a["id"],
                                         "name": "Alice Member"})
        self.assertEqual(carol["level1"], {"type": "customer", "id": self.ids["bob"],
                                           "name": "Bob"})
        self.assertRegex(bob["signed_up_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual((bob["orders"], bob["revenue"]), (3, 60))
        self.assertEqual((carol["orders"], carol["revenue"]), (4, 20))
        self.assertEqual((dave["orders"], dave["revenue"]), (1, 100))
        self.assertEqual((erin["orders"], erin["revenue"]), (0, 0))
        fmt = lambda k: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(days_ago(k)[1]))  # noqa
        self.assertEqual((bob["first_order_at"], bob["last_order_at"]), (fmt(30), fmt(2)))
        self.assertEqual((erin["first_order_at"], erin["last_order_at"]), (None, None))
        # Quintiles among the 3 buyers, 1 + floor(5 w / 3), w = how many are strictly worse:
        # recency bob 2 < carol 40 < dave 100 days; order days carol 4 > bob 3 > dave 1;
        # revenue dave 100 > bob 60 > carol 20.
        self.assertEqual(bob["rfm"], {"r": 4, "f": 2, "m": 2})
        self.assertEqual(carol["rfm"], {"r": 2, "f": 4, "m": 1})
        self.assertEqual(dave["rfm"], {"r": 1, "f": 1, "m": 4})
        self.assertIsNone(erin["rfm"])
        self.assertEqual([bob["segment"], carol["segment"], dave["segment"], erin["segment"]],
                         ["potential loyalist", "at risk", "hibernating", None])
        self.assertEqual([r["points"] for r in (bob, carol, dave, erin)], [2, 0, 0, 0])
        self.assertEqual([r["tier"] for r in (bob, carol, dave, erin)],
                         ["银卡", "basic", "gold", "basic"])

    def test_2_scope_limit_segment_csv(self):
        self.assertEqual(set(self.rows(token=self.alice)), {"bob", "carol"})
        self.assertEqual(set(self.rows(token=self.olga)), {"dave", "erin"})
        self.assertEqual(len(self.rows("?limit=1")), 1)
        for q in ("?segment=at_risk", "?segment=at%20risk", "?segment=At-Risk"):
            self.assertEqual(set(self.rows(q)), {"carol"}, q)
        self.assertEqual(set(self.rows("?segment=hibernating")), {"dave"})
        self.assertEqual(self.rows("?segment=hibernating", token=self.alice), {})
        for q, field in (("?limit=0", "limit"), ("?limit=100001", "limit"),
                         ("?limit=abc", "limit"), ("?segment=vip", "segment")):
            st, _, body = self.get(q)
            self.assertEqual(st, 400, q)
            self.assertIn(field, body.decode(), q)
        st, h, body = self.get("?format=csv")
        self.assertEqual(st, 200)
        self.assertTrue(h["content-type"].startswith("text/csv"))
        lines = body.decode("utf-8-sig").splitlines()
        self.assertEqual(lines[0], "id,name,email,phone,card,level1,level1_name,signed_up_at,"
                         "orders,revenue,first_order_at,last_order_at,rfm_r,rfm_f,rfm_m,segment,"
                         "p_alive,expected_orders_90d,clv_1y,points,tier,birthday")
        self.assertEqual(len(lines), 5)
        st, _, _ = self.srv.request("GET", "/api/v1/customers")
        self.assertEqual(st, 401)

    def test_3_value_from_the_stored_fit(self):
        p = harness.sharecard("customers", "fit", db=self.srv.db, check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("BG/NBD on 3 customers", p.stdout)
        self.assertEqual(harness.scalar(self.srv.db, "SELECT count(*) FROM clv_fits"), 1)
        rows = self.rows()
        for k in ("bob", "carol", "dave"):
            self.assertTrue(0 <= rows[k]["p_alive"] <= 1, rows[k])
            for f in ("expected_orders_90d", "clv_1y"):  # null where the model cannot say
                self.assertTrue(rows[k][f] is None or rows[k][f] >= 0, rows[k])

        # The values are the stored fit's, evaluated now: with CDNOW's parameters (alpha in
        # days, v in cents) in its place, they are DESIGN §6's formulas for each history.
        r_, alpha, a, b, gp, gq, gv = 0.243, 30.9, 0.793, 2.426, 6.25, 3.74, 1545.0
        harness.query(self.srv.db, "UPDATE clv_fits SET params = ?",
                      (f"{r_} {alpha} {a} {b} {gp} {gq} {gv}",))
        rows = self.rows()

        def hyp2f1(a1, b1, c1, z):
            term, total, k = 1.0, 1.0, 0
            while abs(term) > 1e-15 * abs(total):
                term *= (a1 + k) * (b1 + k) / ((c1 + k) * (k + 1)) * z
                total += term
                k += 1
            return total

        def value(x, t_x, T, zbar):
            odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r_ + x) if x else 0
            p_alive = 1 / (1 + odds)

            def expected(t):
                z = t / (alpha + T + t)
                return ((a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r_ + x)
                        * hyp2f1(r_ + x, b + x, a + b + x - 1, z)) / (1 + odds))
            spend = gp * (gv + x * zbar) / (gp * x + gq - 1) if x else gv * gp / (gq - 1)
            return p_alive, expected(90), expected(365) * spend / 100

        # carol: order days 60, 50, 45 and 40 days ago (x = 3, t_x = 20, T = 60), repeat
        # orders of 5.00; dave: one order 100 days ago.
        for who, hist in (("carol", (3, 20, 60, 500)), ("dave", (0, 0, 100, 0))):
            pa, e90, clv = value(*hist)
            self.assertAlmostEqual(rows[who]["p_alive"], pa, delta=1e-4)
            self.assertAlmostEqual(rows[who]["expected_orders_90d"], e90, delta=1e-4)
            self.assertAlmostEqual(rows[who]["clv_1y"], clv, delta=0.01)
        self.assertEqual(rows["dave"]["p_alive"], 1)  # one order: BG/NBD cannot have lost him
        for f in ("p_alive", "expected_orders_90d", "clv_1y"):
            self.assertIsNone(rows["erin"][f])  # no order, no value

        # A fit that ran off to large a and b (the demo's orders give such a fit): drop-out
        # after a purchase is then the fixed p = a / (a + b), and every buyer still has figures,
        # E[Y(t)] = P(alive) (1 - ((alpha + T) / (alpha + T + p t))^(r + x)) / p.
        r_, alpha, a, b = 1.67, 68.95, 11541274.3, 8523459.1
        harness.query(self.srv.db, "UPDATE clv_fits SET params = ?",
                      (f"{r_} {alpha} {a} {b} {gp} {gq} {gv}",))
        rows = self.rows()
        p = a / (a + b)
        for who, (x, t_x, T) in (("carol", (3, 20, 60)), ("dave", (0, 0, 100))):
            odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r_ + x) if x else 0
            want = (1 - ((alpha + T) / (alpha + T + p * 90)) ** (r_ + x)) / p / (1 + odds)
            self.assertAlmostEqual(rows[who]["expected_orders_90d"], want, delta=1e-4)
            self.assertGreater(rows[who]["clv_1y"], 0)

    def retention(self, query, token=None):
        st, _, body = self.srv.request("GET", "/api/v1/retention" + query, headers={
            "Authorization": f"Bearer {token or self.admin}"})
        self.assertEqual(st, 200, body)
        return json.loads(body)

    def test_4_retention_by_hand(self):
        today = int(time.time()) // 86400
        day = lambda k: time.strftime("%Y-%m-%d", time.gmtime((today - k) * 86400))  # noqa
        q = f"?from={day(10)}&to={day(0)}"
        rep = self.retention(q)
        # Active on a day: a sign-up or an order in the 90 days ending that day.  Everyone
        # signed up today; the orders were back-filled.  On 'from' (10 days ago) bob (orders
        # 30 and 20 days ago) and carol (40 to 60 days ago) are active, dave (100 days ago)
        # is not: S = 2.  Today all four are (sign-ups): E = 4, and all four signed up after
        # 'from': N = 4.  CRR = (4 - 4) / 2, churn = (2 - 2) / 2.  NDR: S's orders in the 11
        # days of the period (bob's 30) over the 11 days before (bob's 20) = 1.5.
        self.assertEqual((rep["customers_start"], rep["customers_end"], rep["new"],
                          rep["retained"]), (2, 4, 4, 2))
        self.assertEqual((rep["crr"], rep["churn_rate"]), (0, 0))
        self.assertAlmostEqual(rep["ndr"], 1.5)
        self.assertEqual(rep["cohorts"], [{"month": day(0)[:7], "customers": 4,
                                           "retention": []}])
        self.assertIsNone(rep["nps"])
        # A salesperson sees their own customers; with none active at 'from' every ratio is null.
        rep = self.retention(q, token=self.alice)
        self.assertEqual((rep["customers_start"], rep["customers_end"], rep["new"]), (2, 2, 2))
        rep = self.retention(q, token=self.olga)
        self.assertEqual((rep["customers_start"], rep["customers_end"]), (0, 2))
        self.assertEqual((rep["crr"], rep["churn_rate"], rep["ndr"]), (None, None, None))
        rep = self.retention(q + f"&member={self.o['id']}")
        self.assertEqual((rep["customers_start"], rep["customers_end"]), (0, 2))
        rep = self.retention(q + "&team=east")
        self.assertEqual((rep["customers_start"], rep["customers_end"]), (2, 2))
        # Before any sign-up or order: an empty period.
        rep = self.retention(f"?from={day(400)}&to={day(300)}")
        self.assertEqual((rep["customers_start"], rep["customers_end"], rep["new"]), (0, 0, 0))
        self.assertIsNone(rep["crr"])
        for bad, field in (("?from=2026-02-30&to=2026-03-01", "from"),
                           ("?from=2026-01-01&to=2026-13-01", "to"),
                           ("?from=2026-2-1&to=2026-03-01", "from"),
                           ("?from=2026-03-02&to=2026-03-01", "from"),
                           (q + "&member=abc", "member")):
            st, _, body = self.srv.request("GET", "/api/v1/retention" + bad, headers={
                "Authorization": f"Bearer {self.admin}"})
            self.assertEqual(st, 400, bad)
            self.assertIn(field, body.decode(), bad)


    def session(self, email, password):
        s = Session(self.srv, ip=f"203.0.113.{len(email)}")
        st, _, page = s.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        st, _, _ = s.post("/login", {"csrf": csrf, "email": email, "password": password})
        self.assertEqual(st, 303)
        return s

    def test_5_pages(self):
        admin = self.session("admin@example.com", "admin-password-1")
        st, _, page = admin.get("/dashboard")
        self.assertEqual(st, 200)
        self.assertIn('id="retention"', page)
        self.assertIn('data-kpi="crr"', page)
        self.assertIn('<svg class="cohorts"', page)  # everyone signed up this month
        # One cohort is drawn at its own size: the SVG's width and height are its viewBox's,
        # so the one cell and its label are not stretched to the column's width.
        m = re.search(r'<svg class="cohorts" viewBox="0 0 (\d+) (\d+)" width="(\d+)" '
                      r'height="(\d+)"', page)
        self.assertIsNotNone(m)
        self.assertEqual((m.group(1), m.group(2)), (m.group(3), m.group(4)))
        # CRR by month: a bar chart of the API's crr_by_month, a labelled group per month.
        chart = page.split('<svg class="crr-trend"', 1)[1].split("</svg>", 1)[0]
        st, _, body = self.srv.request("GET", "/api/v1/retention", headers={
            "Authorization": f"Bearer {self.admin}"})
        trend = json.loads(body)["crr_by_month"]
        self.assertEqual(re.findall(r'<g data-month="([^"]+)"', chart),
                         [t["month"] for t in trend])
        for t in trend:
            self.assertIn(f'>{t["month"]}</text>', chart)
            if t["crr"] is not None:
                self.assertIn(f'data-month="{t["month"]}" data-crr="{t["crr"]:.4f}"', chart)
        # The period per team and per salesperson: each row is the API's with team= or
        # member=, and the teams together are the company's tiles.
        st, _, body = self.srv.request("GET", "/api/v1/retention", headers={
            "Authorization": f"Bearer {self.admin}"})
        company = json.loads(body)
        rows = {}
        for key, table in (("team", "retention-teams"), ("member", "retention-members")):
            part = page.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
            for who, s_, e, n, ret, crr in re.findall(
                    rf'<tr data-{key}="([^"]*)"><td>[^<]*</td><td class="n" data-s="(\d+)">\d+'
                    r'</td><td class="n">(\d+)</td><td class="n">(\d+)</td><td class="n">(\d+)'
                    r'</td><td class="n" data-crr="([^"]*)"', part):
                rows[(key, who)] = (int(s_), int(e), int(n), int(ret), crr)
        self.assertEqual(set(rows), {("team", "east"), ("team", "west"),
                                     ("member", str(self.a["id"])), ("member", str(self.o["id"]))})
        for (key, who), got in rows.items():
            q = f"?from={company['from']}&to={company['to']}&{key}={who}"
            want = self.retention(q)
            self.assertEqual(got, (want["customers_start"], want["customers_end"], want["new"],
                                   want["retained"],
                                   "" if want["crr"] is None else f"{want['crr']:.4f}"), q)
        self.assertEqual(sum(v[0] for k, v in rows.items() if k[0] == "team"),
                         company["customers_start"])
        seg = dict(re.findall(r'<tr data-segment="([^"]+)">.*?<td class="n">(\d+)</td>', page))
        self.assertEqual((seg["at risk"], seg["potential loyalist"], seg["hibernating"],
                          seg["champions"]), ("1", "1", "1", "0"))
        # ... and each segment's revenue: carol's 4 × 5, bob's 10 + 20 + 30, dave's 100.
        rev = dict(re.findall(r'<tr data-segment="([^"]+)">.*?<td class="n">\d+</td>'
                              r'<td class="n">([^<]*)</td>', page))
        self.assertEqual((rev["at risk"], rev["potential loyalist"], rev["hibernating"],
                          rev["champions"]), ("¥20.00", "¥60.00", "¥100.00", "¥0.00"))

        alice = self.session("alice@example.com", "alice-password-1")
        st, _, page = alice.get("/customers")
        self.assertEqual(st, 200)
        ids = [int(i) for i in re.findall(r'<tr data-id="(\d+)">', page)]
        # A salesperson's own customers, at risk and can't lose first.
        self.assertEqual(ids, [self.ids["carol"], self.ids["bob"]])
        st, _, page = alice.get("/customers?segment=potential_loyalist")
        self.assertEqual([int(i) for i in re.findall(r'<tr data-id="(\d+)">', page)],
                         [self.ids["bob"]])
        # A follow-up logged on carol as a lead shows on her timeline.
        lead = harness.scalar(self.srv.db, "SELECT visitor_id FROM customers WHERE id = ?",
                              (self.ids["carol"],))
        st, _, page = alice.get(f"/leads/{lead}")
        self.assertEqual(st, 200)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        st, _, _ = alice.post(f"/leads/{lead}/followup", {"csrf": csrf, "channel": "call",
                                                          "outcome": "reached",
                                                          "note": "asked about refills"})
        self.assertEqual(st, 303)
        st, _, page = alice.get(f"/customers/{self.ids['carol']}")
        self.assertEqual(st, 200)
        timeline = page.split('id="timeline"', 1)[1]
        self.assertEqual(timeline.count("Ordered ¥5.00"), 4)  # SHARECARD_CURRENCY, CNY by default
        self.assertIn("Signed up", timeline)
        self.assertIn("Viewed the card", timeline)  # her visits before she signed up
        self.assertIn("Followed up · Alice Member · call · Reached · asked about refills",
                      timeline)
        # Her figures beyond the list's columns, as the API gives them.
        api = self.rows()["carol"]
        figures = dict(re.findall(r'<dd data-k="([a-z0-9_]+)"(?: data-v="([^"]*)")?',
                                  page.split('id="figures"', 1)[1].split("</dl>", 1)[0]))
        self.assertEqual(figures["level1"], f"customer:{self.ids['bob']}")  # bob referred her
        self.assertEqual(figures["rfm"], "".join(str(api["rfm"][k]) for k in "rfm"))
        # (test_3 left a stored fit: both figures are given; without one both are "")
        fmt = lambda v, d: "" if v is None else f"{v:.{d}f}"  # noqa: E731
        self.assertEqual(figures["expected_orders_90d"], fmt(api["expected_orders_90d"], 4))
        self.assertEqual(figures["clv_1y"], fmt(api["clv_1y"], 2))
        self.assertEqual({"signed_up_at", "first_order_at", "last_order_at"} - set(figures),
                         set())
        st, _, page = alice.get(f"/customers/{self.ids['bob']}")
        self.assertIn("Earned 2 points", page)  # for bringing carol
        st, _, _ = alice.get(f"/customers/{self.ids['dave']}")
        self.assertEqual(st, 404)  # another salesperson's customer
        st, _, page = admin.get("/customers")
        self.assertEqual([int(i) for i in re.findall(r'<tr data-id="(\d+)">', page)],
                         sorted(self.ids.values()))

    def test_6_a_signup_stored_without_its_rule(self):
        """customers.rule came in a migration (ALTER TABLE ... ADD COLUMN rule TEXT): a store
        upgraded from before it, or written straight into its tables as bench/bench_customers.py
        does, has sign-ups without one; the dashboard's latest sign-ups crashed the server."""
        harness.query(self.srv.db, "UPDATE customers SET rule = NULL WHERE email = ?",
                      ("erin@example.com",))
        admin = self.session("admin@example.com", "admin-password-1")
        st, _, page = admin.get("/dashboard")
        self.assertEqual(st, 200)
        self.assertIn("Erin", page)
        st, _, body = self.srv.request("GET", "/api/v1/signups", headers={
            "Authorization": f"Bearer {self.admin}"})
        self.assertEqual(st, 200, body)
        self.assertIn("erin@example.com", [x["email"] for x in json.loads(body)])

    def test_7_pages_of_100(self):
        """/customers shows 100 a page ("1–100 of N"), every customer on some page once, with
        links that keep the filter; a salesperson's page is cut after sorting."""
        card = harness.scalar(self.srv.db, "SELECT id FROM cards WHERE slug = 'alice'")
        for i in range(230):  # straight into the table, as a shop's import of old customers
            harness.query(self.srv.db, "INSERT INTO customers (card_id, name, email, created_at, "
                          "level1_type, level1_id) VALUES (?, ?, ?, ?, 1, ?)",
                          (card, f"Old {i}", f"old{i}@example.com", int(time.time()) - 86400,
                           self.a["id"]))
        total = harness.scalar(self.srv.db, "SELECT count(*) FROM customers")
        admin = self.session("admin@example.com", "admin-password-1")
        seen = []
        page, n = 1, 0
        while True:
            st, _, html = admin.get(f"/customers?page={page}")
            self.assertEqual(st, 200)
            ids = [int(i) for i in re.findall(r'<tr data-id="(\d+)">', html)]
            rng = re.search(r'<span id="range">([^<]*)</span>', html).group(1)
            if not ids:
                self.assertEqual(rng, f"none of {total} here")
                break
            self.assertEqual(rng, f"{n + 1}–{n + len(ids)} of {total}")
            self.assertEqual(len(ids), min(100, total - n))
            self.assertEqual('rel="next"' in html, n + len(ids) < total)
            self.assertEqual('rel="prev"' in html, page > 1)
            seen += ids
            n += len(ids)
            page += 1
        self.assertEqual(sorted(seen), sorted(set(seen)))
        self.assertEqual(len(seen), total)
        # A filter is kept in the links.
        st, _, html = admin.get("/customers?segment=at_risk")
        self.assertIn("<span id=\"range\">1–1 of 1</span>", html)
        # Alice's own list: at risk first, then by id, cut into pages after that order.
        alice = self.session("alice@example.com", "alice-password-1")
        st, _, p1 = alice.get("/customers")
        st, _, p2 = alice.get("/customers?page=2")
        ids = [int(i) for p in (p1, p2) for i in re.findall(r'<tr data-id="(\d+)">', p)]
        self.assertEqual(ids[0], self.ids["carol"])
        self.assertEqual(len(ids), 200)
        self.assertIn('href="/customers?page=3"', p2)
        for bad in ("0", "-1", "x", "1.5", "+2"):
            st, _, _ = admin.get(f"/customers?page={bad}")
            self.assertEqual(st, 400, bad)
        st, _, html = admin.get("/customers?segment=hibernating&page=2")
        self.assertIn('href="/customers?segment=hibernating&amp;page=1"', html)


class RetentionSnapshot(unittest.TestCase):
    """A new order shows in /api/v1/retention: at once while the snapshot is small (rebuilt
    in the request), and once the background rebuild ends when it is large
    (SHARECARD_SNAPSHOT_SYNC=0 makes every snapshot "large"); meanwhile the previous one
    answers at once with its age in `as_of`."""

    def order_changes_ndr(self, sync):
        srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1", "SHARECARD_SNAPSHOT_SYNC": sync})
        try:
            harness.sharecard("init", "--admin-email", "admin@example.com", db=srv.db,
                              env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
            m = harness.add_member(srv.db, "Alice Member", "alice@example.com", "--slug", "alice")
            admin = harness.sharecard("token", "create", "--email", "admin@example.com",
                                      db=srv.db).stdout.strip()
            srv.start()
            b = Browser(srv)
            st, _, body = b.join(m["qr_url"], "alice", name="Bob",
                                 email="bob@example.com")
            self.assertEqual(st, 201, body)
            auth = {"Authorization": f"Bearer {admin}", "Content-Type": "application/json"}

            def order(n, amount, when=None):
                o = {"email": "bob@example.com", "amount": amount, "order_id": f"O-{n}"}
                if when:
                    o["ordered_at"] = when
                st, _, body = srv.request("POST", "/api/v1/conversions", body=json.dumps(o),
                                          headers=auth)
                self.assertEqual(st, 201, body)

            today = int(time.time()) // 86400
            day = lambda k: time.strftime("%Y-%m-%d", time.gmtime((today - k) * 86400))  # noqa
            q = f"/api/v1/retention?from={day(10)}&to={day(0)}"

            def retention():
                st, _, body = srv.request("GET", q, headers=auth)
                self.assertEqual(st, 200, body)
                return json.loads(body)

            # Bob ordered 20 days ago (active at 'from': S = 1); nothing in the period: NDR 0.
            order(1, "20", days_ago(20)[0])
            before = retention()
            self.assertEqual((before["customers_start"], before["ndr"]), (1, 0))
            self.assertRegex(before["as_of"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            posted = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(time.time())))
            order(2, "30")  # today: NDR = 30 / 20
            rep = retention()
            if sync != "0":
                self.assertAlmostEqual(rep["ndr"], 1.5)
                return
            # The first request after the order starts the rebuild and is answered at once
            # from the previous snapshot, its age shown; a later one sees the order.
            self.assertEqual((rep["ndr"], rep["as_of"]), (0, before["as_of"]))
            deadline = time.time() + 120
            while rep["ndr"] == 0 and time.time() < deadline:
                time.sleep(0.05)
                rep = retention()
            self.assertAlmostEqual(rep["ndr"], 1.5)
            self.assertGreaterEqual(rep["as_of"], posted)
        finally:
            srv.stop()
            srv.cleanup()

    def test_small_snapshot_at_once(self):
        self.order_changes_ndr("20000")

    def test_large_snapshot_rebuilt_in_the_background(self):
        self.order_changes_ndr("0")

class ActiveDays(unittest.TestCase):
    """SHARECARD_ACTIVE_DAYS is the retention window A: bob, signed up today, ordered 20 days
    ago; on a day 8 days ago he is active with the default A = 90 and not with A = 10."""

    def test_window_from_the_setting(self):
        srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1", "SHARECARD_ACTIVE_DAYS": "10"})
        try:
            harness.sharecard("init", "--admin-email", "admin@example.com", db=srv.db,
                              env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
            m = harness.add_member(srv.db, "Alice Member", "alice@example.com", "--slug", "alice")
            auth = {"Authorization": "Bearer " + harness.sharecard(
                "token", "create", "--email", "admin@example.com", db=srv.db).stdout.strip()}
            srv.start()
            st, _, body = Browser(srv).join(m["qr_url"], "alice", name="Bob",
                                            email="bob@example.com")
            self.assertEqual(st, 201, body)
            st, _, body = srv.request("POST", "/api/v1/conversions", body=json.dumps(
                {"email": "bob@example.com", "amount": "20", "order_id": "O-1",
                 "ordered_at": days_ago(20)[0]}), headers=dict(auth, **{
                    "Content-Type": "application/json"}))
            self.assertEqual(st, 201, body)
            today = int(time.time()) // 86400
            day = lambda k: time.strftime("%Y-%m-%d", time.gmtime((today - k) * 86400))  # noqa
            q = f"/api/v1/retention?from={day(8)}&to={day(0)}"

            def start_end():
                st, _, body = srv.request("GET", q, headers=auth)
                self.assertEqual(st, 200, body)
                rep = json.loads(body)
                return rep["customers_start"], rep["customers_end"]

            self.assertEqual(start_end(), (0, 1))  # A = 10: the order is out of the window
            srv.stop()
            del srv.env["SHARECARD_ACTIVE_DAYS"]
            srv.start()
            self.assertEqual(start_end(), (1, 1))  # A = 90
        finally:
            srv.stop()
            srv.cleanup()


class FitSchedule(unittest.TestCase):
    """Customer value is refitted at start and daily (DESIGN §6) by the server's clock: a
    server started on a store with orders fits them at once, and once the clock (libfaketime)
    has moved a day on, it fits again by itself; retention's days follow that clock too."""

    def test_fit_at_start_and_a_day_later(self):
        from test_leads_intel import FAKETIME_LIB, faketime_env, under_tsan
        if not os.path.exists(FAKETIME_LIB):
            self.fail("libfaketime is missing: scripts/deps.sh test installs the faketime package")
        if under_tsan():
            self.skipTest("faketime and ThreadSanitizer do not mix")
        srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1"})
        clock = os.path.join(srv.tmp, "clock")
        now = int(time.time())

        def set_clock(t):
            with open(clock, "w") as f:
                f.write("@" + time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)))

        def latest():
            rows = harness.query(srv.db, "SELECT id, fitted_at FROM clv_fits")
            return rows[0] if rows else None

        def wait_for(pred, what):
            deadline = time.time() + 60
            while time.time() < deadline:
                got = latest()
                if pred(got):
                    return got
                time.sleep(0.2)
            self.fail(f"{what}: clv_fits is {latest()}")

        set_clock(now)
        srv.env.update(faketime_env(clock))
        try:
            harness.sharecard("init", "--admin-email", "admin@example.com", db=srv.db,
                              env={"SHARECARD_ADMIN_PASSWORD": "admin-password-1"})
            m = harness.add_member(srv.db, "Alice Member", "alice@example.com", "--slug", "alice")
            admin = harness.sharecard("token", "create", "--email", "admin@example.com",
                                      db=srv.db).stdout.strip()
            srv.start()
            for name in ("bob", "carol"):
                st, _, body = Browser(srv).join(m["qr_url"], "alice", name=name.title(),
                                                email=f"{name}@example.com")
                self.assertEqual(st, 201, body)
                for n, k in enumerate((30, 9)):
                    st, _, body = srv.request(
                        "POST", "/api/v1/conversions",
                        body=json.dumps({"email": f"{name}@example.com", "amount": "10",
                                         "order_id": f"{name}-{n}",
                                         "ordered_at": days_ago(k)[0]}),
                        headers={"Authorization": f"Bearer {admin}",
                                 "Content-Type": "application/json"})
                    self.assertEqual(st, 201, body)
            # (The fit at its start found no order, unless the fitter thread ran late.)
            srv.stop()
            before = latest()
            srv.start()
            first = wait_for(lambda r: r is not None and (before is None or r[0] > before[0]),
                             "a fit at start")
            set_clock(now + 86400 + 60)
            again = wait_for(lambda r: r is not None and r[0] > first[0], "a fit a day later")
            self.assertGreaterEqual(again[1], now + 86400 + 60)
            # Retention's days follow the same clock: its default period ends on the moved day.
            st, _, body = srv.request("GET", "/api/v1/retention",
                                      headers={"Authorization": f"Bearer {admin}"})
            self.assertEqual(st, 200, body)
            self.assertEqual(json.loads(body)["to"],
                             time.strftime("%Y-%m-%d", time.gmtime(now + 86400 + 60)))
        finally:
            srv.stop()
            srv.cleanup()


if __name__ == "__main__":
    harness.main()
