#!/usr/bin/python3
"""A quick stand-in for the lead score, to screen candidate features before paying for
bench/sim_http.py's HTTP runs (issue 13).  No server: the same simulated visitors
(sim_http.plan), the features of intel/score_features.c recomputed in Python from what each
visitor did before a cut-off, training examples cut as sc_lead_example_cut cuts them (a
moment uniform in (first touch, sign-up] for a positive, (first touch, +30 days] for a
negative), a ridge logistic regression on standardised features (penalty 1, Newton), then
the held-out AUC on both of sim_http's questions (complete histories, and live: scored in the
middle of the 15 test days, not signed up by then) beside the Bayes ceiling (sim_http.Bayes).

    bench/model_replica.py N SEEDS CANDIDATES [HELD]
    bench/model_replica.py 2000 1,2,3,4 ",age+returned,age,returned" 5000

trains on the N − N/5 training visitors of each seed and judges on HELD fresh visitors of the
test days (default 5,000: far less noise than sim_http's few hundred); a candidate is "" (the
features of round 4) or extra features joined by "+": age, returned, active7 (visits in the
last 7 days), per_day (visits per day since the first touch), days_per_day.  Prints the mean
AUC over the seeds per world, question and candidate.  An approximation (no time split, no
activation rule, no channels or shares, which the simulator has none of): it matched the
server's AUC within about 0.02 on seed 1, and its choices must still be confirmed over HTTP.
"""

import math
import os
import random
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sim_http as S  # noqa: E402

DAY = S.DAY


def features(v, cut, extra):
    """Visitor 'v's features from what it did before 'cut' (score.h's list, without those
    the simulator never produces), then the 'extra' candidates."""
    vis = [(t, d) for t, d in v.visits if t < cut]
    n = len(vis)
    days = sorted({(t - v.t0 + v.t0 % DAY) // DAY for t, _ in vis})
    gap = (days[-1] - days[0]) / (len(days) - 1) if len(days) > 1 else 0
    dwell = sum(d for t, d in vis if t + 1 + d < cut)
    done = [(k, d) for i, k, d in v.actions if i < n]

    def clicks(what):
        return math.log1p(sum(1 for _, d in done if d == what))

    last = max(t + 1 + d if t + 1 + d < cut else t for t, d in vis)
    age = (cut - v.t0) / DAY
    x = [math.log1p(n), math.log1p(len(days)), math.log1p(gap), math.log1p(dwell),
         math.log1p(dwell / n), clicks("call"), clicks("email"), clicks("wechat"),
         clicks("website"), float(any(k == "save" for k, _ in done)),
         math.log1p(max((cut - last) / DAY, 0)), float(v.qr)]
    more = {"age": lambda: math.log1p(age),
            "returned": lambda: float(len(days) >= 2),
            "active7": lambda: math.log1p(sum(1 for t, _ in vis if t >= cut - 7 * DAY)),
            "per_day": lambda: math.log1p(n / max(age, 1)),
            "days_per_day": lambda: math.log1p(len(days) / max(age, 1))}
    return x + [more[e]() for e in extra]


def fit(xs, ys, l2=1.0):
    """Ridge logistic regression on standardised features by Newton's method; the scorer."""
    p, n = len(xs[0]), len(xs)
    mean = [sum(r[j] for r in xs) / n for j in range(p)]
    sd = [max(math.sqrt(sum((r[j] - mean[j]) ** 2 for r in xs) / n), 1e-9) for j in range(p)]

    def z(r):
        return [1.0] + [(r[j] - mean[j]) / sd[j] for j in range(p)]

    zs = [z(r) for r in xs]
    b = [0.0] * (p + 1)
    for _ in range(50):
        h = [[0.0] * (p + 2) for _ in range(p + 1)]  # the Hessian, the gradient in the last column
        for zr, y in zip(zs, ys):
            q = S.sigmoid(sum(bi * zi for bi, zi in zip(b, zr)))
            for i in range(p + 1):
                h[i][p + 1] += (q - y) * zr[i]
                for j in range(i + 1):
                    h[i][j] += q * (1 - q) * zr[i] * zr[j]
        for i in range(p + 1):
            if i:
                h[i][p + 1] += l2 * b[i]
                h[i][i] += l2
            for j in range(i):
                h[j][i] = h[i][j]
        for c in range(p + 1):  # Gauss-Jordan with partial pivoting
            piv = max(range(c, p + 1), key=lambda r: abs(h[r][c]))
            h[c], h[piv] = h[piv], h[c]
            for r in range(p + 1):
                if r != c:
                    f = h[r][c] / h[c][c]
                    h[r] = [a - f * bb for a, bb in zip(h[r], h[c])]
        step = [h[i][p + 1] / h[i][i] for i in range(p + 1)]
        b = [bi - si for bi, si in zip(b, step)]
        if max(abs(s) for s in step) < 1e-8:
            break
    return lambda r: sum(bi * zi for bi, zi in zip(b, z(r)))


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    n, seeds = int(sys.argv[1]), [int(s) for s in sys.argv[2].split(",")]
    cands = [tuple(c.split("+")) if c else () for c in sys.argv[3].split(",")]
    held = int(sys.argv[4]) if len(sys.argv) > 4 else 5000
    nodup = type("NoDup", (), {"__contains__": lambda s, x: False, "add": lambda s, x: None})()
    for w, name in enumerate(S.WORLDS):
        sums = {}

        def add(key, value):
            sums[key] = sums.get(key, 0.0) + value / len(seeds)

        bayes_live = None
        for seed in seeds:
            train, _, test_start = S.plan(w, n, seed, [""])
            day1 = test_start - test_start % DAY + DAY
            mid = day1 + S.TEST_DAYS * DAY // 2
            rnd = random.Random(seed * 7919 + w + 31337)
            test = [S.Visitor(10**7 + k, w, day1 + rnd.randrange(S.TEST_DAYS) * DAY, rnd, [""],
                              nodup) for k in range(held)]
            live = [v for v in test
                    if v.t0 < mid and not (v.signs_up and S.signup_time(v) < mid)]
            yc, yl = [int(v.signs_up) for v in test], [int(v.signs_up) for v in live]
            end = max(s[0] for v in test for s in v.steps(True)) + S.HOUR
            if bayes_live is None:  # relative to the cut: one table serves every seed
                bayes_live = S.Bayes(w, day1, mid, S.BAYES_DRAWS, 1)
            exact = S.Bayes(w, day1, float("inf"), 0, 0)
            add(("Bayes ceiling", 0), S.auc([exact.p(v) for v in test], yc))
            add(("Bayes ceiling", 1), S.auc([bayes_live.p(v) for v in live], yl))
            add(("view count", 0), S.auc([len(v.visits) for v in test], yc))
            add(("view count", 1), S.auc([sum(t < mid for t, _ in v.visits) for v in live], yl))
            for cand in cands:
                cuts = random.Random(seed)
                xs, ys = [], []
                for v in train:
                    last = S.signup_time(v) if v.signs_up else v.t0 + 30 * DAY
                    xs.append(features(v, v.t0 + 1 + int(cuts.random() * (last - v.t0)), cand))
                    ys.append(int(v.signs_up))
                score = fit(xs, ys)
                label = "+".join(cand) or "round 4's features"
                add((label, 0), S.auc([score(features(v, end, cand)) for v in test], yc))
                add((label, 1), S.auc([score(features(v, mid, cand)) for v in live], yl))
        for label in dict.fromkeys(k for k, _ in sums):
            print(f"{name}: {label}: complete {sums[(label, 0)]:.3f}, live {sums[(label, 1)]:.3f}",
                  flush=True)


if __name__ == "__main__":
    main()
