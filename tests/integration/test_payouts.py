"""Issue 19 over real HTTP: payouts and monthly statements.

A random sequence of purchases (some redeeming a coupon), approvals, voids
and payouts (too large, repeated, negative among them) runs against a chain
member -> customer -> customer -> customer; after every step each party's
statement for this month must equal the ledger (/api/v1/rewards) and the
payouts made, money and points each on its own: closing = earned - voided -
paid, payable = approved - paid (points: never paid, usable = approved),
next month opens at this month's close.  A payout above the approved,
unpaid balance is 409 and changes nothing; the same payout_id again is a
replay.  SHARECARD_PAYOUT_SEED replays one sequence."""

import csv
import io
import json
import os
import random
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from test_accounts import Session  # noqa: E402
from test_signups import Browser  # noqa: E402

ADMIN_PW = "admin-password-1"


def month_of(t):
    return time.strftime("%Y-%m", time.gmtime(t))


def next_month(m):
    y, mo = int(m[:4]), int(m[5:])
    return f"{y + mo // 12}-{mo % 12 + 1:02d}"


def prev_month(m):
    y, mo = int(m[:4]), int(m[5:])
    return f"{y - 1}-12" if mo == 1 else f"{y}-{mo - 1:02d}"


class Payouts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server(env={"SHARECARD_TRUST_PROXY": "1", "SHARECARD_HOLD_DAYS": "14",
                                      "SHARECARD_WELCOME": "coupon:5",
                                      "SHARECARD_CURRENCY": "EUR"})
        db = cls.srv.db
        harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                          env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
        cls.token = harness.sharecard("token", "create", "--email", "root@example.com",
                                      db=db).stdout.strip()
        cls.a = harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice",
                                   "--team", "east")
        cls.sales = harness.sharecard("token", "create", "--email", "alice@example.com",
                                      db=db).stdout.strip()
        cls.srv.start()
        # The chain: Alice -> Bob -> Carol -> Dan (each a customer through the one before).
        cls.cust = {}
        link = cls.a["qr_url"]
        for name in ("bob", "carol", "dan"):
            b = Browser(cls.srv)
            page = b.open_link(link)
            st, _, body = b.sign_up(page, "alice", name=name.title(), email=f"{name}@example.com")
            assert st == 201, body
            j = json.loads(body)
            cls.cust[name] = j["customer_id"]
            link = j["referral_url"]
        cls.admin = Session(cls.srv, ip="198.51.100.99")
        st, _, _ = cls.admin.login("root@example.com", ADMIN_PW)
        assert st == 303, st

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    def api(self, method, path, body=None, token=None):
        h = {"Authorization": f"Bearer {token or self.token}"}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body)
        st, _, data = self.srv.request(method, path, body=body, headers=h)
        return st, data.decode()

    def ledger(self, kinds=("commission",)):
        st, body = self.api("GET", "/api/v1/rewards")
        self.assertEqual(st, 200)
        return [r for r in json.loads(body) if r["kind"] in kinds]

    def statements(self, month, token=None, **only):
        q = "".join(f"&{k}={v}" for k, v in only.items())
        st, body = self.api("GET", f"/api/v1/statements?month={month}{q}", token=token)
        self.assertEqual(st, 200, body)
        rows = json.loads(body)
        for s in rows:  # money in cents of the deployment's currency, which each row names
            self.assertEqual((s["unit"], s["currency"]), ("cents", "EUR"))
        return {(s["party"]["type"], s["party"]["id"]): s for s in rows}

    def decide(self, rid, decision):
        st, _, page = self.admin.get("/admin/rewards")
        self.assertEqual(st, 200)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        st, _, _ = self.admin.post(f"/admin/rewards/{rid}", {"csrf": csrf, "decision": decision,
                                                              "reason": "property test"})
        self.assertEqual(st, 200)

    def check(self, paid, month, where):
        """Every party's statement equals the ledger's rows and the payouts made."""
        rows = self.ledger()
        points = self.ledger(("signup", "welcome"))
        self.assertTrue(points, "the chain's sign-ups earned points")
        st = self.statements(month)
        code, body = self.api("GET", "/api/v1/customers")
        self.assertEqual(code, 200, body)
        balances = {c["id"]: c["points"] for c in json.loads(body)}
        parties = {("member", self.a["id"])} | {("customer", c) for c in self.cust.values()}
        for p in parties:
            mine = [r for r in rows if (r["party"]["type"], r["party"]["id"]) == p]
            earned = sum(r["amount"] for r in mine)
            voided = sum(r["amount"] for r in mine if r["status"] == "void")
            approved = sum(r["amount"] for r in mine if r["status"] == "approved")
            got = st.get(p, {"opening": 0, "earned": 0, "approved": 0, "voided": 0, "paid": 0,
                             "closing": 0, "payable": 0})
            want = {"opening": 0, "earned": earned, "approved": approved, "voided": voided,
                    "paid": paid[p], "closing": earned - voided - paid[p],
                    "payable": approved - paid[p]}
            self.assertEqual({k: got[k] for k in want}, want, (where, p))
            self.assertEqual(got["closing"], got["opening"] + got["earned"] - got["voided"]
                             - got["paid"])
            # Points on their own: sign-up and welcome rows, never paid out.
            mine = [r for r in points if (r["party"]["type"], r["party"]["id"]) == p]
            earned = sum(r["amount"] for r in mine)
            voided = sum(r["amount"] for r in mine if r["status"] == "void")
            approved = sum(r["amount"] for r in mine if r["status"] == "approved")
            want = {"opening": 0, "earned": earned, "approved": approved, "voided": voided,
                    "redeemed": 0, "closing": earned - voided, "usable": approved}
            self.assertEqual(st.get(p, {"points": {k: 0 for k in want}})["points"], want,
                             (where, p, "points"))
            # A customer's points balance (GET /api/v1/customers, issue 14) is the same rows'.
            if p[0] == "customer":
                self.assertEqual(balances[p[1]], approved, (where, p, "balance"))
        # Next month opens where this one closes, with no movements; last month had none.
        nxt = self.statements(next_month(month))
        for p, s in st.items():
            self.assertEqual((nxt[p]["opening"], nxt[p]["earned"], nxt[p]["paid"],
                              nxt[p]["closing"]), (s["closing"], 0, 0, s["closing"]), where)
            n, c = nxt[p]["points"], s["points"]["closing"]
            self.assertEqual((n["opening"], n["earned"], n["closing"]), (c, 0, c), where)
        self.assertEqual(self.statements(prev_month(month)), {})

    def test_random_sequences_reconcile(self):
        seed = int(os.environ.get("SHARECARD_PAYOUT_SEED", random.randrange(1 << 30)))
        rng = random.Random(seed)
        where = f"seed {seed}"
        month = month_of(time.time())
        paid = {("member", self.a["id"]): 0}
        paid.update({("customer", c): 0 for c in self.cust.values()})
        # Payouts another test of this class made before.
        for t, i, amount in harness.query(self.srv.db, "SELECT party_type, party_id, "
                                          "sum(amount) FROM payouts GROUP BY party_type, party_id"):
            paid[("member" if t == 1 else "customer", i)] += int(amount)
        payouts = {}  # payout_id -> (party, amount)
        buyers = ["bob", "carol", "dan"]
        coupons = {}
        st, body = self.api("GET", "/api/v1/coupons")
        for c in json.loads(body):
            coupons[c["customer_id"]] = c["code"]
        n_orders = 0
        for step in range(int(os.environ.get("SHARECARD_PAYOUT_STEPS", "40"))):
            op = rng.choice(["order", "order", "approve", "approve", "void", "payout", "payout",
                             "replay", "bad"])
            at = f"{where}, step {step} ({op})"
            # Approvals and voids of money and points rows alike.
            pending = [r for r in self.ledger(("commission", "signup", "welcome"))
                       if r["status"] == "pending"]
            if op == "order" or (op in ("approve", "void") and not pending):
                who = rng.choice(buyers)
                n_orders += 1
                body = {"customer_id": self.cust[who], "order_id": f"P-{seed}-{n_orders}",
                        "amount": rng.randrange(100, 50000) / 100}
                code = coupons.pop(self.cust[who], None)
                if code and rng.random() < 0.5:
                    body["coupon"] = code  # redeemed with the order
                st, data = self.api("POST", "/api/v1/conversions", body)
                self.assertEqual(st, 201, (at, data))
            elif op in ("approve", "void"):
                self.decide(rng.choice(pending)["id"], "approved" if op == "approve" else "void")
            elif op == "payout":
                p = rng.choice(sorted(paid))
                payable = self.statements(month).get(p, {"payable": 0})["payable"]
                amount = rng.randrange(1, payable + 1) if payable > 0 and rng.random() < 0.7 \
                    else payable + rng.randrange(1, 5000)
                pid = f"PO-{seed}-{step}"
                st, data = self.api("POST", "/api/v1/payouts",
                                    {"payout_id": pid, p[0]: p[1], "amount": amount / 100})
                if amount <= payable:
                    self.assertEqual(st, 201, (at, data))
                    self.assertEqual(json.loads(data)["payable"], payable - amount)
                    paid[p] += amount
                    payouts[pid] = (p, amount)
                else:
                    self.assertEqual(st, 409, (at, data))
                    self.assertIn("approved, unpaid balance", data)
            elif op == "replay" and payouts:
                pid = rng.choice(sorted(payouts))
                p, amount = payouts[pid]
                st, data = self.api("POST", "/api/v1/payouts",
                                    {"payout_id": pid, p[0]: p[1], "amount": amount / 100})
                self.assertEqual(st, 200, (at, data))
                self.assertTrue(json.loads(data)["replayed"])
                st, data = self.api("POST", "/api/v1/payouts",
                                    {"payout_id": pid, p[0]: p[1], "amount": amount / 100 + 1})
                self.assertEqual(st, 409, (at, data))
                self.assertIn("payout_id", data)
            else:
                p = rng.choice(sorted(paid))
                st, data = self.api("POST", "/api/v1/payouts",
                                    {"payout_id": f"NEG-{step}", p[0]: p[1], "amount": -5})
                self.assertEqual(st, 400, (at, data))
                self.assertIn("amount", data)
            self.check(paid, month, at)
        self.assertEqual(harness.scalar(self.srv.db, "SELECT count(*) FROM payouts WHERE "
                                        "payout_id LIKE ?", (f"PO-{seed}-%",)), len(payouts))

    def test_export_coupons_and_payouts(self):
        """`sharecard export coupons|payouts` (JSON and CSV) give every stored row."""
        st, data = self.api("POST", "/api/v1/conversions",
                            {"customer_id": self.cust["bob"], "order_id": "EXP-ORDER",
                             "amount": 120})
        self.assertEqual(st, 201, data)
        com = [r for r in self.ledger() if r["status"] == "pending"][0]
        self.decide(com["id"], "approved")
        party = com["party"]
        st, data = self.api("POST", "/api/v1/payouts",
                            {"payout_id": "EXP-1", party["type"]: party["id"], "amount": 0.01})
        self.assertEqual(st, 201, data)
        db = self.srv.db

        def export(table, *args):
            return harness.sharecard("export", table, *args, db=db).stdout

        pays = json.loads(export("payouts", "--format", "json"))
        self.assertEqual(len(pays), harness.scalar(db, "SELECT count(*) FROM payouts"))
        mine = [p for p in pays if p["payout_id"] == "EXP-1"]
        self.assertEqual(len(mine), 1)
        self.assertEqual({k: mine[0][k] for k in ("party_type", "party_id", "amount", "actor")},
                         {"party_type": party["type"], "party_id": party["id"], "amount": 1,
                          "actor": "root@example.com"})
        self.assertRegex(mine[0]["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        st, body = self.api("GET", "/api/v1/coupons")
        codes = {c["code"]: c for c in json.loads(body)}
        self.assertTrue(codes, "the welcome coupons")
        cps = json.loads(export("coupons", "--format", "json"))
        self.assertEqual({c["code"] for c in cps}, set(codes))
        self.assertEqual(set(cps[0]), {"id", "code", "customer_id", "reward_id", "kind", "value",
                                       "created_at", "expires_at", "redeemed_at",
                                       "conversion_id", "order_id"})
        for c in cps:
            self.assertEqual((c["customer_id"], c["kind"]),
                             (codes[c["code"]]["customer_id"], codes[c["code"]]["kind"]))
        for table, first in (("coupons", ["id", "code", "customer_id"]),
                             ("payouts", ["id", "payout_id", "party_type"])):
            rows = list(csv.reader(io.StringIO(export(table).lstrip("\ufeff"))))
            self.assertEqual(rows[0][:3], first)
            self.assertEqual(len(rows) - 1, harness.scalar(db, f"SELECT count(*) FROM {table}"))
            # A range before anything happened: the header alone.
            old = export(table, "--from", "2001-01-01", "--to", "2001-01-31")
            self.assertEqual(len(list(csv.reader(io.StringIO(old.lstrip("\ufeff"))))), 1)

    def test_refusals_scope_and_csv(self):
        month = month_of(time.time())
        bad = [({"payout_id": "X1", "member": self.a["id"], "amount": 0}, 400, "amount"),
               ({"payout_id": "X2", "member": self.a["id"], "amount": "1.234"}, 400, "decimals"),
               ({"payout_id": "", "member": self.a["id"], "amount": 1}, 400, "payout_id"),
               ({"payout_id": "X3", "amount": 1}, 400, "member or customer"),
               ({"payout_id": "X4", "member": self.a["id"], "customer": 1, "amount": 1}, 400,
                "member or customer"),
               ({"payout_id": "X5", "member": 999999, "amount": 1}, 404, "member"),
               ({"payout_id": "X6", "customer": self.cust["dan"], "amount": 10**6}, 409,
                "balance")]
        for body, status, reason in bad:
            st, data = self.api("POST", "/api/v1/payouts", body)
            self.assertEqual(st, status, (body, data))
            self.assertIn(reason, data)
        self.assertEqual(harness.scalar(self.srv.db, "SELECT count(*) FROM payouts "
                                        "WHERE payout_id LIKE 'X%'"), 0)
        # Only admins record payouts.
        st, _ = self.api("POST", "/api/v1/payouts",
                         {"payout_id": "S1", "member": self.a["id"], "amount": 1},
                         token=self.sales)
        self.assertEqual(st, 403)
        for q in ("", "month=2026-13", "month=26-01", "month=2026-1", f"month={month}&member=x",
                  f"month={month}&member=1&customer=2", f"month={month}&customer=-1"):
            st, data = self.api("GET", f"/api/v1/statements?{q}")
            self.assertEqual(st, 400, (q, data))
        # One party; the salesperson sees theirs and their customers'.
        one = self.statements(month, member=self.a["id"])
        self.assertEqual(set(one), {("member", self.a["id"])} if one else set())
        st, body = self.api("GET", f"/api/v1/statements?month={month}&format=csv")
        self.assertEqual(st, 200)
        self.assertTrue(body.lstrip("\ufeff").startswith(
            "month,party_type,party_id,party_name,opening,earned,approved,voided,paid,closing,"
            "payable,points_opening,points_earned,points_approved,points_voided,"
            "points_redeemed,points_closing,points_usable,currency\r\n"))
        # The CSV carries each unit as the JSON does.
        js = self.statements(month)
        for line in body.lstrip("\ufeff").split("\r\n")[1:-1]:
            f = line.split(",")
            s = js[(f[1], int(f[2]))]
            p = s["points"]
            self.assertEqual(f[18], s["currency"])
            self.assertEqual([int(x) for x in f[4:18]],
                             [s[k] for k in ("opening", "earned", "approved", "voided", "paid",
                                             "closing", "payable")]
                             + [p[k] for k in ("opening", "earned", "approved", "voided",
                                               "redeemed", "closing", "usable")])


FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


class ZoneMonths(unittest.TestCase):
    """Statement and cap months follow SHARECARD_TZ: with +08:00, a reward made at 23:30 UTC
    on 31 October is November's (07:30 on 1 November there), and the monthly cap of one
    rewarded sign-up starts again for it (by UTC months it would have been capped)."""

    def test_reward_at_2330_utc_on_the_last_day_is_next_month(self):
        if not os.path.exists(FAKETIME_LIB):
            self.fail("libfaketime is missing: scripts/deps.sh test installs the faketime package")
        srv = harness.Server()
        clock = os.path.join(srv.tmp, "faketime")
        with open(clock, "w") as f:
            f.write("@2026-10-31 15:00:00\n")  # 23:00 on 31 October in +08:00
        # As in test_ops' moved clock: ASan accepts the preload order, TSan is told not to
        # report libfaketime's own wrapper of timed waits.
        asan = [o for o in os.environ.get("ASAN_OPTIONS", "").split(":") if o]
        tsan = [o for o in os.environ.get("TSAN_OPTIONS", "").split(":") if o]
        srv.env.update({
            "SHARECARD_TZ": "+08:00", "TZ": "UTC", "SHARECARD_TRUST_PROXY": "1",
            "SHARECARD_REWARDS": "l1=points:2,l2=points:1,cap_l1_month=1",
            "LD_PRELOAD": FAKETIME_LIB, "FAKETIME_TIMESTAMP_FILE": clock,
            "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "ASAN_OPTIONS": ":".join(asan + ["verify_asan_link_order=0"]),
            "TSAN_OPTIONS": ":".join(tsan + ["report_bugs=0"])})
        try:
            db = srv.db
            harness.sharecard("init", "--admin-email", "root@example.com", db=db,
                              env={"SHARECARD_ADMIN_PASSWORD": ADMIN_PW})
            token = harness.sharecard("token", "create", "--email", "root@example.com",
                                      db=db).stdout.strip()
            alice = harness.add_member(db, "Alice Member", "alice@example.com", "--slug", "alice")
            srv.start()

            def sign_up(name):
                b = Browser(srv)
                page = b.open_link(alice["qr_url"])
                st, _, body = b.sign_up(page, "alice", name=name, email=f"{name}@example.com")
                self.assertEqual(st, 201, body)

            def points(month):
                st, _, data = srv.request(
                    "GET", f"/api/v1/statements?month={month}&member={alice['id']}",
                    headers={"Authorization": f"Bearer {token}"})
                self.assertEqual(st, 200, data)
                rows = json.loads(data)
                return rows[0]["points"] if rows else None

            sign_up("early")  # 15:00 UTC: October in +08:00 as in UTC
            with open(clock, "w") as f:
                f.write("@2026-10-31 23:30:00\n")  # 07:30 on 1 November in +08:00
            sign_up("late")
            rewards = harness.query(db, "SELECT created_at FROM rewards WHERE party_type = 1 "
                                    "AND kind = 'signup' ORDER BY id")
            self.assertEqual(len(rewards), 2, "the cap counts +08:00 months: both rewarded")
            self.assertEqual(time.strftime("%Y-%m-%d %H", time.gmtime(rewards[1][0])),
                             "2026-10-31 23")
            octo, nov = points("2026-10"), points("2026-11")
            self.assertEqual((octo["opening"], octo["earned"], octo["closing"]), (0, 2, 2))
            self.assertEqual((nov["opening"], nov["earned"], nov["closing"]), (2, 2, 4))
            srv.stop()
        finally:
            srv.cleanup()


if __name__ == "__main__":
    harness.main()
