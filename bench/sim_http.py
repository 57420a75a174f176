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
up later.

The columns, all AUCs on the same held-out leads:

  model          the score the server gave (GET /api/v1/leads);
  view-count     the naive baseline (the lead's visits);
  true ceiling   each visitor's TRUE propensity: it knows the hidden intent and, with `live`,
                 the days and actions still to come: unreachable by construction;
  Bayes ceiling  P(signs up (later) | everything observable by the time it is scored) under
                 the simulator's own generative model (class Bayes: exact on complete
                 histories, Monte Carlo over SIM_BAYES_DRAWS visitors, default 1,000,000,
                 with `live`): what the data allows, the honest target.

Under each row: what `score train` said; the older "fair ceiling" (the propensity formula on
what was seen, intent left out: not an upper bound, a model can beat it); and model − Bayes
ceiling with a 95 % paired bootstrap interval over the held-out leads (with a few hundred of
them, a model may land above the Bayes ceiling by chance; on average it cannot).  With
SIM_ROWS=FILE each held-out lead's score, label and Bayes probability are appended to FILE
(JSON lines) to be judged again later.

    bench/sim_http.py ceilings [N] [SEED] [live]

prints the ceilings alone, from the same draws, without a server (in seconds), and on
complete histories checks the Monte Carlo estimate against the exact one.

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
BAYES_DRAWS = int(os.environ.get("SIM_BAYES_DRAWS", "1000000"))  # Monte Carlo visitors
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


def signup_time(v):
    """When it signs up (just after its last visit), or None."""
    if not v.signs_up:
        return None
    t, dwell = v.visits[-1]
    return t + dwell + 30


def seen_key(v, cut):
    """What can be seen of 'v' before 'cut' and bears on its sign-up, given the simulator's
    own model: the whole days since its first touch (which of its 20 possible return days
    have passed: which ones it used tells nothing more, they are a uniform draw), the days
    and visits seen, whether some day had 3 visits or more (only a binge visitor's do), saved
    so far, calls so far (capped at 3).  Dwell, the other clicks, QR and hours are drawn
    independently of the intent and of the sign-up."""
    seen = [t for t, _ in v.visits if t < cut]
    per_day = {}
    for t in seen:
        d = (t - v.t0 + v.t0 % DAY) // DAY
        per_day[d] = per_day.get(d, 0) + 1
    done = [(k, d) for i, k, d in v.actions if i < len(seen)]
    since = min((cut - v.t0) // DAY, 21) if cut != float("inf") else 21
    return (int(since), len(per_day), min(len(seen), 12), max(per_day.values()) >= 3,
            any(k == "save" for k, _ in done), min(sum(1 for _, d in done if d == "call"), 3))


class Bayes:
    """The Bayes ceiling: each held-out lead's probability of signing up given everything
    observable by the time it is scored, under the simulator's own generative model.

    Complete histories (everything seen, the intent hidden): exact, by quadrature over the
    intent's posterior.  The intent enters the propensity and, in "saving matters", whether
    the contact was saved and how often call was tapped (Poisson), in "returning matters" how
    many days it came back (each further day with probability sigmoid(0.8 intent), at most 8)
    and the calls.

    Live (scored at 'cut', not signed up by then): by Monte Carlo.  'draws' visitors from the
    same prior, first seen in the same days before the cut, cut the same way and kept when
    not signed up by then; a lead's probability is the sign-up rate of those with the same
    seen_key(), shrunk toward coarser keys where few share it (20 pseudo-draws per level).
    Each draw adds its propensity (when it would sign up after the cut) rather than a drawn
    outcome: the same expectation with less noise."""

    GRID = [-6 + 0.02 * i for i in range(601)]

    def __init__(self, world, day1, cut, draws, seed, exact=True):
        self.world, self.cut = world, cut
        self.exact_ok = exact and cut == float("inf")
        self.counts = {}
        if self.exact_ok:
            return
        rnd = random.Random(seed * 7919 + world + 104729)  # not the run's stream
        nodup = type("NoDup", (), {"__contains__": lambda s, x: False, "add": lambda s, x: None})()
        # first-touch days that can fall before the cut
        days = TEST_DAYS if cut == float("inf") else (cut - day1) // DAY + 1
        for k in range(draws):
            v = Visitor(k, world, day1 + rnd.randrange(days) * DAY, rnd, [""], nodup)
            if v.t0 >= cut:
                continue
            # Its chance of signing up later, and of being a lead then (not signed up yet):
            # the propensity itself rather than the drawn outcome, for less noise.
            late = cut == float("inf") or v.visits[-1][0] + v.visits[-1][1] + 30 >= cut
            for key in self.levels(seen_key(v, cut)):
                c = self.counts.setdefault(key, [0.0, 0.0])
                c[0] += 1 - (0 if late else v.p_true)
                c[1] += v.p_true if late else 0

    @staticmethod
    def levels(key):
        """The key, then coarser ones: days since, days, visits, saved; days since, days, saved;
        days since."""
        return (key, (key[0], key[1], key[2], key[4]), (key[0], key[1], key[4]), (key[0],))

    def p(self, v):
        if self.exact_ok:
            return self.exact(v)
        est = 0.0
        for key in reversed(self.levels(seen_key(v, self.cut))):
            n, pos = self.counts.get(key, (0, 0))
            est = (pos + 20 * est) / (n + 20)
        return est

    def exact(self, v):
        nvis = len(v.visits)
        extra = len({(t - v.t0 + v.t0 % DAY) // DAY for t, _ in v.visits}) - 1
        calls = sum(1 for _, k, d in v.actions if d == "call")
        num = den = 0.0
        for z in self.GRID:
            lam = 0.3 * math.exp(0.3 * z)
            w = math.exp(-z * z / 2 - lam) * lam ** calls
            if self.world == 0:
                s = sigmoid(-0.85 + z)
                w *= s if v.saved else 1 - s
                t = (-2.4 + 2.6 * v.saved + 0.25 * math.log1p(calls) + 0.1 * math.log1p(nvis)
                     + 0.5 * z)
            else:
                g = sigmoid(0.8 * z)
                w *= g ** extra * (1 - g if extra < 8 else 1)
                t = -3.4 + 2.3 * math.log1p(extra) + 0.15 * v.saved + 0.5 * z
            num += w * sigmoid(t)
            den += w
        return num / den


def plan(world, n, seed, phones):
    """The visitors of one run, drawn from the seed: the older 80 % (training), the newest
    20 % (held out) and the moment training runs (every training horizon closed)."""
    rnd = random.Random(seed * 7919 + world)
    ntest = n // 5
    ntrain = n - ntest
    taken = set()  # first touches at distinct seconds
    train = [Visitor(k, world, START + rnd.randrange(TRAIN_DAYS) * DAY, rnd, phones, taken)
             for k in range(ntrain)]
    # Every training visitor's horizon (30 days from its first touch) closes.
    test_start = max(s[0] for v in train for s in v.steps(False)) + 31 * DAY
    day1 = test_start - test_start % DAY + DAY
    test = [Visitor(ntrain + k, world, day1 + rnd.randrange(TEST_DAYS) * DAY, rnd, phones, taken)
            for k in range(ntest)]
    return train, test, test_start


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
        phones = sorted(set(agents.humans()))
        self.set_clock(START - DAY)
        self.cli("init", "--admin-email", "admin@example.com")
        member = json.loads(self.cli("member", "add", "--name", "Sim Seller", "--email",
                                     "seller@example.com", "--slug", "sim", "--json"))
        qr_path = urllib.parse.urlsplit(member["qr_url"]).path
        token = self.cli("token", "create", "--email", "admin@example.com").strip()
        train, test, test_start = plan(self.world, self.n, self.seed, phones)
        day1 = test_start - test_start % DAY + DAY
        ntrain = len(train)
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
            self.set_clock(test_start)
            trained = self.cli("score", "train").strip()
            self.start()
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
        return {"trained": trained, "rows": rows, "cut": mid if self.live else float("inf"),
                "day1": day1, "team_hour": team_hour, "wall": wall, "requests": self.requests,
                "train": ntrain}

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


def ceilings_only():
    """`ceilings N SEED [live]`: the held-out visitors' ceilings without a server (the same
    draws as a run's), the Bayes one both exactly and by Monte Carlo on complete histories."""
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    live = len(sys.argv) > 4 and sys.argv[4] == "live"
    for w, name in enumerate(WORLDS):
        _, test, test_start = plan(w, n, seed, [""])
        day1 = test_start - test_start % DAY + DAY
        cut = day1 + TEST_DAYS * DAY // 2 if live else float("inf")
        if live:
            test = [v for v in test if v.t0 < cut and not (v.signs_up and signup_time(v) < cut)]
        y = [int(v.signs_up) for v in test]
        t = time.monotonic()
        bayes = Bayes(w, day1, cut, BAYES_DRAWS, seed)
        b = [bayes.p(v) for v in test]
        line = (f"{name}: {len(test)} ({sum(y)}) true {auc([v.p_true for v in test], y):.3f} "
                f"fair {auc([v.propensity(cut, 0.0) for v in test], y):.3f} "
                f"Bayes {auc(b, y):.3f} (mean {sum(b) / len(b):.3f}, rate {sum(y) / len(y):.3f},"
                f" {time.monotonic() - t:.0f} s)")
        if not live:
            mc = Bayes(w, day1, cut, BAYES_DRAWS, seed, exact=False)
            m = [mc.p(v) for v in test]
            line += (f"; by Monte Carlo {auc(m, y):.3f}, largest difference "
                     f"{max(abs(p - q) for p, q in zip(b, m)):.3f}")
        print(line, flush=True)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if not os.path.exists(FAKETIME_LIB):
        sys.exit("needs Debian's faketime package (" + FAKETIME_LIB + ")")
    if sys.argv[1] == "ceilings":
        return ceilings_only()
    binary = os.path.abspath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    live = len(sys.argv) > 4 and sys.argv[4] == "live"
    print(f"HTTP behaviour simulator: {n} visitors per world (seed {seed}), newest "
          f"{n // 5} held out")
    print("| world | held out (signed up) | model AUC | view-count AUC | true ceiling | "
          "Bayes ceiling | best time ±1 h | team's hour ±1 h | requests, wall |")
    print("|---|---|---|---|---|---|---|---|---|")
    for w, name in enumerate(WORLDS):
        sim = Sim(binary, w, n, seed, live)
        try:
            res = sim.run()
        finally:
            sim.cleanup()
        rows = res["rows"]
        y = [int(v.signs_up) for v, *_ in rows]
        scores = [s for _, s, _, _ in rows]
        model = auc(scores, y)
        views = auc([c for _, _, c, _ in rows], y)
        ceiling = auc([v.p_true for v, *_ in rows], y)
        bayes = Bayes(w, res["day1"], res["cut"], BAYES_DRAWS, seed)
        bayes_p = [bayes.p(v) for v, *_ in rows]
        best = auc(bayes_p, y)
        # A fair ceiling: the same formula on what was seen by the time of scoring, without
        # the hidden intent (the true one also knows the days and actions still to come).
        seen = auc([v.propensity(res["cut"], 0.0) for v, *_ in rows], y)
        hit = sum(near(b, v.hour) for v, _, _, b in rows) / len(rows)
        base = sum(near(res["team_hour"], v.hour) for v, *_ in rows) / len(rows)
        print(f"| {name} | {len(rows)} ({sum(y)}) | {model:.3f} | {views:.3f} | {ceiling:.3f} | "
              f"{best:.3f} | {hit:.1%} | {base:.1%} (hour {res['team_hour']}) | "
              f"{res['requests']:,}, {res['wall']:.0f} s |", flush=True)
        print(f"  score train: {res['trained']}", flush=True)
        print(f"  ceiling from what was seen by then (no intent): {seen:.3f}", flush=True)
        lo, hi = paired_interval(scores, bayes_p, y, seed)
        print(f"  model − Bayes ceiling: {model - best:+.3f} (95 % paired bootstrap "
              f"{lo:+.3f} … {hi:+.3f})", flush=True)
        if os.environ.get("SIM_ROWS"):  # the held-out leads, to judge them again later
            with open(os.environ["SIM_ROWS"], "a") as f:
                for (v, s, c, _), p in zip(rows, bayes_p):
                    f.write(json.dumps({"world": w, "live": live, "n": n, "seed": seed,
                                        "k": v.k, "score": s, "views": c, "y": v.signs_up,
                                        "p_true": v.p_true, "bayes": p}) + "\n")


def paired_interval(a, b, y, seed, rounds=1000):
    """95 % interval of AUC(a) − AUC(b) over the same leads resampled with replacement."""
    rnd = random.Random(seed)
    diffs = []
    for _ in range(rounds):
        idx = [rnd.randrange(len(y)) for _ in y]
        yy = [y[i] for i in idx]
        if 0 < sum(yy) < len(yy):
            diffs.append(auc([a[i] for i in idx], yy) - auc([b[i] for i in idx], yy))
    diffs.sort()
    return diffs[len(diffs) // 40], diffs[len(diffs) * 39 // 40]


if __name__ == "__main__":
    main()
