#!/usr/bin/python3
"""The lead score and best time judged end to end (issue 13): simulated visitors talk to the
real server over HTTP while libfaketime moves its clock, then the model the server trains on
what it recorded is judged on leads it has not seen the outcome of.

    bench/sim_http.py PATH/TO/sharecard [LEADS_PER_WORLD] [SEED] [live]   (defaults 2000, 1)

Each visitor has a hidden intent (a standard normal) and a preferred hour of the day.  It
scans the card's QR link or opens the card (a phone user-agent from bench/agents.py, its own
address, its cookie kept), views the page, sends a dwell beacon, may save the contact and tap
call / WeChat / e-mail / website, comes back on later days at about its hour, and signs up
with a probability (its TRUE propensity) that depends on what it did and on its intent.  Two
worlds, as bench_score's in-process simulator has them:

  saving matters     saving the contact is the strong signal (a third of visitors save);
  returning matters  nearly everybody saves; coming back on other days is what counts.

Per world, on a fresh store, with the server under libfaketime (FAKETIME_TIMESTAMP_FILE +
FAKETIME_NO_CACHE=1 + FAKETIME_DONT_FAKE_MONOTONIC=1, libfaketimeMT preloaded; this script
writes the timestamp file before every request, so the server's days and hours are the
simulated ones):

  1. the older 80 % of the visitors play their whole stories, sign-ups included, over 60 days;
  2. the clock moves 31 days on (every one of their 30-day horizons closes) and
     `sharecard score train` runs under the same clock;
  3. the newest 20 % play their visits over the next 15 days; their sign-ups are held back;
  4. GET /api/v1/leads?limit=10000 at the end: on those held-out leads, the AUC of the
     model's score, of the view count, and of the true propensities (the ceiling), and the
     best-time hit rate: the share whose best_time hour is within ±1 h of their hidden
     preferred hour, beside the team's most common visiting hour as the baseline.

With `live`, steps 3 and 4 ask the question a live score answers instead: the newest 20 % play
with their sign-ups up to the middle of their 15 days, the leads are read then (`signed=no`),
and each held-out lead first seen by then and not signed up yet is labelled by whether it signs
up later.  A second, fair ceiling is printed under each row: the same propensity
formula on what each held-out lead had done by the time it was scored (all of its history, or
up to the middle with `live`), without its hidden intent: what a model of the observed
behaviour could reach at best.  The true ceiling also knows the days and actions still to come.

Needs Debian's faketime and uap-core packages.  Prints one table row per world.
"""

import http.client
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ left in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agents  # noqa: E402

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
DAY, HOUR = 86400, 3600
START = 1767571200  # 2026-01-05 00:00:00 UTC, a Monday: the simulated world's first day
TRAIN_DAYS, TEST_DAYS = 60, 15
WORLDS = ("saving matters", "returning matters")
CLICKS = ("call", "wechat", "email", "website")


def sigmoid(t):
    return 1 / (1 + math.exp(-t))


def poisson(rnd, lam):
    n, p, limit = 0, rnd.random(), math.exp(-lam)
    while p > limit:
        n += 1
        p *= rnd.random()
    return n


class Visitor:
    """One simulated person: the plan of what it does and when, and the truth about it."""

    def __init__(self, k, world, day0, rnd, phones, taken):
        self.k = k
        self.ua = phones[k % len(phones)]
        self.ip = f"10.{k // 62500 % 250 + 1}.{k // 250 % 250}.{k % 250 + 1}"
        self.cookie, self.page = None, ""
        self.intent = rnd.gauss(0, 1)
        self.hour = rnd.gauss(10, 2) if rnd.random() < 0.7 else rnd.gauss(20, 1.5)
        self.hour %= 24
        # The first touch: on its day, at about its hour, at a second no one else has.
        t0 = day0 + int(min(max(self.hour + rnd.gauss(0, 0.7), 0), 23.9) * HOUR)
        t0 += rnd.randrange(60)
        while t0 in taken:
            t0 += 1
        taken.add(t0)
        self.t0 = t0
        self.qr = rnd.random() < 0.35
        # Days: the first touch's, then distinct later days within three weeks.
        go_on = 0.5 if world == 0 else sigmoid(0.8 * self.intent)
        extra = 0
        while extra < 8 and rnd.random() < go_on:
            extra += 1
        days = [0] + sorted(rnd.sample(range(1, 21), extra))
        save_p = sigmoid(-0.85 + 1.0 * self.intent) if world == 0 else 0.85
        self.saved = rnd.random() < save_p
        clicks = {"call": poisson(rnd, 0.3 * math.exp(0.3 * self.intent)),
                  "wechat": poisson(rnd, 0.25), "email": poisson(rnd, 0.15),
                  "website": poisson(rnd, 0.3)}
        # Visits: (time, dwell seconds); several a day for a third of the visitors.
        binge = rnd.random() < 0.35
        self.visits = []
        for d in days:
            per_day = 1 + (poisson(rnd, 2.0) if binge else int(rnd.random() < 0.2))
            start = self.hour + rnd.gauss(0, 0.7)
            for v in range(per_day):
                hh = min(max(start + 1.2 * v + rnd.gauss(0, 0.15), 0), 23.9)
                t = t0 if not self.visits else t0 - t0 % DAY + d * DAY + int(hh * HOUR)
                if self.visits and t <= self.visits[-1][0] + self.visits[-1][1] + 10:
                    t = self.visits[-1][0] + self.visits[-1][1] + HOUR
                dwell = min(int(math.exp(3.3 + 0.6 * rnd.gauss(0, 1))), 3600)
                self.visits.append((t, dwell))
        nvis = len(self.visits)
        # Actions, each during a random visit.
        self.actions = []  # (visit index, kind, detail)
        if self.saved:
            self.actions.append((rnd.randrange(nvis), "save", None))
        for kind, n in clicks.items():
            for _ in range(n):
                self.actions.append((rnd.randrange(nvis), "click", kind))
        self.world = world
        if world == 0:
            t = (-2.4 + 2.6 * self.saved + 0.25 * math.log1p(clicks["call"])
                 + 0.1 * math.log1p(nvis) + 0.5 * self.intent)
        else:
            t = -3.4 + 2.3 * math.log1p(extra) + 0.15 * self.saved + 0.5 * self.intent
        self.p_true = sigmoid(t)
        self.signs_up = rnd.random() < self.p_true

    def propensity(self, cut, intent):
        """The propensity formula on what it did before 'cut' (days, visits, saving, calls)
        and on 'intent' (0: the hidden part left out): with every visit and its intent, about
        the true one (which counts its planned days)."""
        seen = [t for t, _ in self.visits if t < cut]
        nvis = len(seen)
        extra = len({(t - self.t0 + self.t0 % DAY) // DAY for t in seen}) - 1
        done = [(k, d) for i, k, d in self.actions if i < nvis]
        saved = any(k == "save" for k, _ in done)
        calls = sum(1 for k, d in done if d == "call")
        if self.world == 0:
            t = (-2.4 + 2.6 * saved + 0.25 * math.log1p(calls) + 0.1 * math.log1p(nvis)
                 + 0.5 * intent)
        else:
            t = -3.4 + 2.3 * math.log1p(max(extra, 0)) + 0.15 * saved + 0.5 * intent
        return sigmoid(t)

    def steps(self, hold_outcome):
        """(time, order, visitor, what, detail) of everything it does."""
        out = []
        for i, (t, dwell) in enumerate(self.visits):
            first = i == 0
            out.append((t, 0, self, "scan" if first and self.qr else "open", None))
            for j, (vi, kind, detail) in enumerate(a for a in self.actions if a[0] == i):
                out.append((t + 5 + 2 * j, 1, self, kind, detail))
            out.append((t + 1 + dwell, 2, self, "dwell", dwell))
        if self.signs_up and not hold_outcome:
            t, dwell = self.visits[-1]
            out.append((t + dwell + 30, 3, self, "signup", None))
        return out


class Sim:
    def __init__(self, binary, world, n, seed, live=False):
        self.binary, self.world, self.n, self.seed, self.live = binary, world, n, seed, live
        self.tmp = tempfile.mkdtemp(prefix="sc-sim-http-")
        self.db = os.path.join(self.tmp, "sim.db")
        self.clock = os.path.join(self.tmp, "clock")
        self.env = dict(os.environ, SHARECARD_DB=self.db, SHARECARD_TRUST_PROXY="1",
                        SHARECARD_TZ="UTC", SHARECARD_ADMIN_PASSWORD="sim-password-1",
                        LD_PRELOAD=FAKETIME_LIB, FAKETIME_TIMESTAMP_FILE=self.clock,
                        FAKETIME_NO_CACHE="1", FAKETIME_DONT_FAKE_MONOTONIC="1")
        self.proc, self.conn, self.now = None, None, START
        self.requests = 0

    def set_clock(self, t):
        if t < self.now:
            t = self.now  # never backwards
        self.now = t
        with open(self.clock + ".new", "w") as f:
            f.write(time.strftime("@%Y-%m-%d %H:%M:%S", time.gmtime(t)))
        os.replace(self.clock + ".new", self.clock)

    def cli(self, *args):
        return subprocess.run([self.binary, *args], env=self.env, check=True,
                              capture_output=True, text=True).stdout

    def start(self):
        self.proc = subprocess.Popen([self.binary, "serve", "--listen", "127.0.0.1:0",
                                      "--no-access-log"], env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if not m:
            sys.exit(f"server did not start: {line!r} {self.proc.stderr.read()}")
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()
        self.conn = http.client.HTTPConnection("127.0.0.1", int(m.group(1)), timeout=60)

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(30)
            self.proc = None

    def request(self, v, method, path, form=None, headers=None):
        h = {"User-Agent": v.ua, "X-Forwarded-For": v.ip} if v else {}
        if v and v.cookie:
            h["Cookie"] = f"sc_vid={v.cookie}"
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        self.requests += 1
        sc = r.getheader("set-cookie", "")
        if v and sc.startswith("sc_vid="):
            v.cookie = sc.split(";", 1)[0].split("=", 1)[1]
        return r.status, r, data

    def play(self, step, qr_path):
        t, _, v, what, detail = step
        self.set_clock(t)
        if what in ("scan", "open"):
            if what == "scan":
                st, r, _ = self.request(v, "GET", qr_path)
                assert st == 302, st
                u = urllib.parse.urlsplit(r.getheader("location"))
                st, _, page = self.request(v, "GET", u.path + ("?" + u.query if u.query else ""))
            else:
                st, _, page = self.request(v, "GET", "/c/sim")
            assert st == 200, st
            v.page = page.decode()
        elif what == "save":
            st, _, _ = self.request(v, "GET", "/c/sim/vcard.vcf")
            assert st == 200, st
        elif what == "click":
            st, _, body = self.request(v, "POST", "/e", {"type": "click", "card": "sim",
                                                         "action": detail})
            assert st == 204, (st, body)
        elif what == "dwell":
            st, _, body = self.request(v, "POST", "/e", {"type": "dwell", "card": "sim",
                                                         "seconds": str(detail)})
            assert st == 204, (st, body)
        elif what == "signup":
            csrf = re.search(r'name="csrf" value="([^"]+)"', v.page).group(1)
            st, _, body = self.request(v, "POST", "/c/sim/signup", {
                "csrf": csrf, "consent": "yes", "name": f"Visitor {v.k}",
                "email": f"visitor{v.k}@example.com"}, {"Accept": "application/json"})
            assert st == 201, (st, body)

    def run(self):
        rnd = random.Random(self.seed * 7919 + self.world)
        phones = sorted(set(agents.humans()))
        self.set_clock(START - DAY)
        self.cli("init", "--admin-email", "admin@example.com")
        member = json.loads(self.cli("member", "add", "--name", "Sim Seller", "--email",
                                     "seller@example.com", "--slug", "sim", "--json"))
        qr_path = urllib.parse.urlsplit(member["qr_url"]).path
        token = self.cli("token", "create", "--email", "admin@example.com").strip()
        ntest = self.n // 5
        ntrain = self.n - ntest
        taken = set()  # first touches at distinct seconds
        train = [Visitor(k, self.world, START + rnd.randrange(TRAIN_DAYS) * DAY, rnd, phones,
                         taken) for k in range(ntrain)]
        steps = sorted((s for v in train for s in v.steps(False)),
                       key=lambda s: (s[0], s[1], s[2].k))
        hours = [0] * 24
        for v in train:
            for t, _ in v.visits:
                hours[t // HOUR % 24] += 1
        team_hour = max(range(24), key=lambda h: hours[h])
        t_begin = time.monotonic()
        self.start()
        try:
            for s in steps:
                self.play(s, qr_path)
            self.stop()
            # Every training visitor's horizon (30 days from its first touch) closes.
            test_start = max(s[0] for s in steps) + 31 * DAY
            self.set_clock(test_start)
            trained = self.cli("score", "train").strip()
            self.start()
            day1 = test_start - test_start % DAY + DAY
            test = [Visitor(ntrain + k, self.world, day1 + rnd.randrange(TEST_DAYS) * DAY, rnd,
                            phones, taken) for k in range(ntest)]
            steps = sorted((s for v in test for s in v.steps(not self.live)),
                           key=lambda s: (s[0], s[1], s[2].k))
            mid = day1 + TEST_DAYS * DAY // 2  # live: scored here, before what follows
            for s in steps:
                if self.live and s[0] >= mid:
                    break
                self.play(s, qr_path)
            if self.live:
                # Leads by then, not signed up yet; labelled by what they do later.
                test = [v for v in test if v.visits[0][0] < mid and not any(
                    s[0] < mid and s[3] == "signup" for s in v.steps(False))]
                self.set_clock(mid)
            else:
                self.set_clock(self.now + HOUR)
            query = "&signed=no" if self.live else ""
            st, _, body = self.request(None, "GET", "/api/v1/leads?limit=10000&days=60" + query,
                                       headers={"Authorization": f"Bearer {token}"})
            assert st == 200, body[:200]
            leads = json.loads(body)
            leads = leads["leads"] if isinstance(leads, dict) else leads
        finally:
            self.stop()
        wall = time.monotonic() - t_begin
        # The held-out leads in order of first touch are the test visitors in that order:
        # libfaketime's "@" clock runs on from each written time at the real pace, so stamps
        # drift by the seconds the server has been up, but never out of order.
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(day1))
        held = sorted((lead for lead in leads if lead["first_seen"] >= since),
                      key=lambda lead: lead["first_seen"])
        test.sort(key=lambda v: v.t0)
        if len(held) != len(test):
            sys.exit(f"{len(held)} leads first seen since {since}, {len(test)} visitors")
        rows = []
        for v, lead in zip(test, held):
            best = time.strptime(lead["best_time"], "%Y-%m-%dT%H:%M:%SZ")
            rows.append((v, lead["score"], lead["visits"], best.tm_hour + best.tm_min / 60))
        return {"trained": trained, "rows": rows, "cut": mid if self.live else float("inf"), "team_hour": team_hour, "wall": wall,
                "requests": self.requests, "train": ntrain}

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def auc(scores, labels):
    """Mann-Whitney: P(a random positive outscores a random negative), ties counted half."""
    pairs = sorted(zip(scores, labels), key=lambda p: p[0])
    npos = sum(labels)
    nneg = len(labels) - npos
    if not npos or not nneg:
        return float("nan")
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid = (i + j + 1) / 2  # ranks i+1 … j share their mean
        rank_sum += mid * sum(1 for k in range(i, j) if pairs[k][1])
        i = j
    return (rank_sum - npos * (npos + 1) / 2) / (npos * nneg)


def near(h, pref):
    d = abs(h - pref) % 24
    return min(d, 24 - d) <= 1


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if not os.path.exists(FAKETIME_LIB):
        sys.exit("needs Debian's faketime package (" + FAKETIME_LIB + ")")
    binary = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    live = len(sys.argv) > 4 and sys.argv[4] == "live"
    print(f"HTTP behaviour simulator: {n} visitors per world (seed {seed}), newest "
          f"{n // 5} held out")
    print("| world | held out (signed up) | model AUC | view-count AUC | ceiling AUC | "
          "best time ±1 h | team's hour ±1 h | requests, wall |")
    print("|---|---|---|---|---|---|---|---|")
    for w, name in enumerate(WORLDS):
        sim = Sim(binary, w, n, seed, live)
        try:
            res = sim.run()
        finally:
            sim.cleanup()
        rows = res["rows"]
        y = [int(v.signs_up) for v, *_ in rows]
        model = auc([s for _, s, _, _ in rows], y)
        views = auc([c for _, _, c, _ in rows], y)
        ceiling = auc([v.p_true for v, *_ in rows], y)
        # A fair ceiling: the same formula on what was seen by the time of scoring, without
        # the hidden intent (the true one also knows the days and actions still to come).
        seen = auc([v.propensity(res["cut"], 0.0) for v, *_ in rows], y)
        hit = sum(near(b, v.hour) for v, _, _, b in rows) / len(rows)
        base = sum(near(res["team_hour"], v.hour) for v, *_ in rows) / len(rows)
        print(f"| {name} | {len(rows)} ({sum(y)}) | {model:.3f} | {views:.3f} | {ceiling:.3f} | "
              f"{hit:.1%} | {base:.1%} (hour {res['team_hour']}) | "
              f"{res['requests']:,}, {res['wall']:.0f} s |", flush=True)
        print(f"  score train: {res['trained']}", flush=True)
        print(f"  ceiling from what was seen by then (no intent): {seen:.3f}", flush=True)


if __name__ == "__main__":
    main()
