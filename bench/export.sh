#!/usr/bin/env bash
# Measures `sharecard export events` on a SQLite store of N raw events (default 1,000,000):
# wall time and peak memory (max RSS, from /usr/bin/time -v) for CSV and JSON.  The export
# streams, so memory should not grow with N: run with SC_BENCH_EVENTS=100000 and =1000000
# to compare.
#
#   bench/export.sh                     (1M events)
#   SC_BENCH_EVENTS=100000 bench/export.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n="${SC_BENCH_EVENTS:-1000000}"
scripts/deps.sh build
dpkg-query -W -f='${Status}' time 2>/dev/null | grep -q "install ok installed" ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
cmake -S . -B build/bench-export -DCMAKE_BUILD_TYPE=Release -DSC_TESTS=OFF >/dev/null
cmake --build build/bench-export --target sharecard -j2 >/dev/null
bin=build/bench-export/sharecard
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db="$tmp/export.db"
"$bin" --db "$db" member add --name "Bench" --email bench@example.com --slug bench >/dev/null
# Raw events written straight into the table (the writer's batching is not what is measured).
/usr/bin/python3 - "$db" "$n" <<'PY'
import sqlite3, sys
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
card, link = c.execute("SELECT card_id, id FROM links LIMIT 1").fetchone()
c.execute("INSERT INTO agents (ua, browser, os, device) VALUES ('Mozilla/5.0 bench', "
          "'Mobile Safari', 'iOS', 'phone')")
t0 = 1767225600  # 2026-01-01
rows = ((t0 + i * 30, i % 7, card, link, 1 + i % 50000, 1, 'example.com', 0, None)
        for i in range(n))
c.executemany("INSERT INTO events (ts, type, card_id, link_id, visitor_id, agent_id, referrer, "
              "bot, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
c.commit()
PY
echo "events: $n; store $(du -h "$db" | cut -f1)"
for fmt in csv json; do
    /usr/bin/time -v "$bin" --db "$db" export events --format "$fmt" >"$tmp/out.$fmt" \
        2>"$tmp/time.$fmt"
    wall=$(grep "Elapsed (wall clock)" "$tmp/time.$fmt" | awk '{print $NF}')
    rss=$(grep "Maximum resident set size" "$tmp/time.$fmt" | awk '{print $NF}')
    echo "$fmt: $(wc -l <"$tmp/out.$fmt") lines, $(du -h "$tmp/out.$fmt" | cut -f1), wall $wall, max RSS ${rss} KiB"
done
