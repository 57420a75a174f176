#!/usr/bin/env bash
# Measures GET /api/v1/statements (issue 19) on a SQLite store with N commission rows
# (default 200,000) over 12 months and 1,000 earners, and N/100 payouts: the median of
# 15 calls for a month's statements of every party, and for one member's, and the server's
# CPU time per call.  Every party's statements are one ordered pass over the ledger, so
# their cost grows with its size; one member's read that member's rows only.
#
#   bench/statements.sh                       (200k rows)
#   SC_BENCH_ROWS=1000000 bench/statements.sh
#   SC_BENCH_BIN=path/to/another/sharecard bench/statements.sh   (compare a build)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${SC_BENCH_ROWS:-200000}"
bin="${SC_BENCH_BIN:-}" # another build to compare (e.g. an older commit's), or this tree's
if [ -z "$bin" ]; then
    scripts/deps.sh build
    cmake -S . -B build/bench-rewards -DCMAKE_BUILD_TYPE=Release -DSC_TESTS=OFF >/dev/null
    cmake --build build/bench-rewards --target sharecard -j2 >/dev/null
    bin=build/bench-rewards/sharecard
fi
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
db="$tmp/rewards.db"
SHARECARD_ADMIN_PASSWORD=bench-password-1 "$bin" --db "$db" init --admin-email admin@example.com
"$bin" --db "$db" member add --name "Bench" --email bench@example.com --slug bench >/dev/null
token=$("$bin" --db "$db" token create --email admin@example.com)
# Ledger rows written straight into the tables (the writer is not what is measured).
/usr/bin/python3 - "$db" "$n" <<'PY'
import random, sqlite3, sys
db, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
c = sqlite3.connect(db)
card = c.execute("SELECT id FROM cards LIMIT 1").fetchone()[0]
c.execute("INSERT INTO customers (card_id, name, created_at) VALUES (?, 'Bench', 0)", (card,))
t0 = 1767225600  # 2026-01-01
year = 365 * 86400
def row(i):
    t = t0 + rng.randrange(year)
    st = rng.choice(["pending", "approved", "approved", "void", "hold"])
    return (1, 1, 1 + i % 1000, 1, "commission", rng.randrange(1, 100000), st, t,
            t + 14 * 86400, t + 86400 if st in ("approved", "void") else None)
c.executemany("INSERT INTO rewards (customer_id, party_type, party_id, level, kind, amount, "
              "status, created_at, approve_after, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
              "?, ?)", (row(i) for i in range(n)))
c.executemany("INSERT INTO payouts (payout_id, party_type, party_id, amount, created_at) "
              "VALUES (?, 1, ?, ?, ?)", ((f"P{i}", 1 + i % 1000, rng.randrange(1, 5000),
                                          t0 + rng.randrange(year)) for i in range(n // 100)))
c.commit()
PY
echo "ledger: $n commission rows, $((n / 100)) payouts; store $(du -h "$db" | cut -f1)"
"$bin" --db "$db" serve --listen 127.0.0.1:0 --no-access-log >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$tmp/out" && break; sleep 0.1; done
port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/out")
/usr/bin/python3 - "$port" "$token" "$pid" <<'PY'
import http.client, os, statistics, sys, time
port, token, pid = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def cpu_s():  # the server's user + system CPU time: less noisy than wall time on a shared machine
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
def median_ms(path):
    times = []
    for _ in range(15):
        c = http.client.HTTPConnection("127.0.0.1", port)
        t = time.perf_counter()
        c.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        r = c.getresponse()
        body = r.read()
        times.append((time.perf_counter() - t) * 1000)
        assert r.status == 200, (r.status, body[:200])
        c.close()
    return statistics.median(times), len(body)
for path in ("/api/v1/statements?month=2026-06", "/api/v1/statements?month=2026-06&member=1",
             "/api/v1/statements?month=2026-06&format=csv"):
    c0 = cpu_s()
    ms, size = median_ms(path)
    cpu = (cpu_s() - c0) / 15 * 1000
    print(f"{path}: median {ms:.1f} ms, server CPU {cpu:.1f} ms per call ({size} bytes)")
PY
