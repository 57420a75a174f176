#!/usr/bin/env bash
# Benchmarks sharecard's hot paths against nginx on this machine, in one run,
# then QR generation and the store at 10M events in process.
#
#   bench/run.sh [SECONDS_PER_RUN] [RUNS]      (defaults: 5 s, 3 runs)
#   SC_BENCH_EVENTS=2000000 bench/run.sh       (a smaller store: 10M takes about 6 minutes)
#   SC_BENCH_PG=0 bench/run.sh                 (skip the scan on PostgreSQL)
#
# Builds in release mode, starts sharecard and nginx on free loopback ports
# (each pinned to core 1; wrk runs on core 0), and prints the median req/s of
# each endpoint, nginx's for the same answer, and their ratio.  Everything
# stays on 127.0.0.1, and each load run stops by itself.
#
# Requests carry what phones send: the people rows cycle through 328 real
# phone user-agents (iOS Safari, Android browsers, WeChat) from uap-core's
# test corpus, the bot row through 104 real crawlers, previews and tools
# (bench/agents.py).  After the rows the run checks, through the stats API,
# that every stored scan and view of the people rows was counted as a
# person's and every request of the bot row as a bot's, and fails otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"
runs="${2:-3}"
conns=64

scripts/deps.sh build
for p in nginx-light wrk sqlite3 python3-yaml; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p"; }
done
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DSC_TESTS=OFF -DSC_BENCH=ON >/dev/null
cmake --build build/bench -j"$(nproc)" >/dev/null

tmp="$(mktemp -d)"
pids=()
pg_dir=""
pg_as=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "${pg_dir:-}" ]; then # the PostgreSQL run's server, if still up
        if [ -f "$pg_dir/data/postmaster.pid" ]; then
            "${pg_as[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$pg_dir/data" -m fast -w stop \
                >/dev/null 2>&1 || true
        fi
        rm -rf "$pg_dir"
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

. bench/lib.sh # free_port, ticks

bin=build/bench/sharecard
export SHARECARD_DB="$tmp/bench.db"
SHARECARD_ADMIN_PASSWORD=benchmark-password "$bin" init --admin-email admin@example.com
code=$("$bin" member add --name "Ada Lovelace" --email ada@example.com --title "Head of Sales" \
    --company "Analytical Engines" --phone "+44 20 7946 0000" --slug ada --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["qr_url"].rsplit("/",1)[1])')

token=$("$bin" token create --email admin@example.com)
bench/agents.py human "$tmp/human.lua" >/dev/null
bench/agents.py bot "$tmp/bot.lua" >/dev/null
iphone="Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"

sc_port=$(free_port)
taskset -c 1 "$bin" serve --listen "127.0.0.1:$sc_port" --threads 1 --no-access-log >"$tmp/sc.out" 2>"$tmp/sc.err" &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$sc_port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done

mkdir -p "$tmp/www/c/ada"
curl -fs "http://127.0.0.1:$sc_port/c/ada" -o "$tmp/www/page.html"
curl -fs "http://127.0.0.1:$sc_port/c/ada/qr.png" -o "$tmp/www/qr.png"

ng_port=$(free_port)
mkdir -p "$tmp/nginx/logs"
cat >"$tmp/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log crit;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$ng_port;
        root $tmp/www;
        location = /r { return 302 /c/ada; }
        location = /page { default_type text/html; try_files /page.html =404; }
        location = /qr { default_type image/png; try_files /qr.png =404; }
    }
}
NGINX
taskset -c 1 nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
pids+=($!)
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$ng_port/page" && break; sleep 0.05; done

floor_port=$(free_port)
taskset -c 1 build/bench/mhd_floor "$floor_port" &
floor_pid=$!
pids+=($floor_pid)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$floor_port/r" && break; sleep 0.05; done

hz=$(getconf CLK_TCK)

# "REQ/S US" for URL served by process PID: the median req/s of $runs wrk runs and the
# median of the server's CPU time per request in those runs (µs; the event writer
# thread included).  CPU per request moves less than req/s on a shared machine.
measure() {
    local url=$1 pid=$2 rs=() us=() a b r
    shift 2
    for _ in $(seq "$runs"); do
        a=$(ticks "$pid")
        r=$(taskset -c 0 wrk -t1 -c$conns -d"${secs}s" "$@" "$url" | awk '/Requests\/sec/ {print $2}')
        b=$(ticks "$pid")
        rs+=("$r")
        us+=("$(awk -v a="$a" -v b="$b" -v r="$r" -v s="$secs" -v hz="$hz" \
            'BEGIN {printf "%.2f", (b - a) / hz * 1e6 / (r * s)}')")
    done
    printf '%s %s\n' "$(printf '%s\n' "${rs[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" \
        "$(printf '%s\n' "${us[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
}

printf '%-40s %11s %11s %6s %9s %9s\n' "endpoint" "ours/s" "nginx/s" "ratio" "ours µs" "nginx µs"
# row NAME URL PID NGINX_URL [wrk options…]: one line of the table.
row() {
    local name=$1 url=$2 pid=$3 nurl=$4 a b
    shift 4
    read -r a au < <(measure "$url" "$pid" "$@")
    read -r b bu < <(measure "$nurl" "$ng_pid" "$@")
    printf '%-40s %11.0f %11.0f %6.2f %9.2f %9.2f\n' "$name" "$a" "$b" \
        "$(awk -v a="$a" -v b="$b" 'BEGIN {print a / b}')" "$au" "$bu"
}
sc_pid=${pids[0]}
idle_rss=$(awk '/VmRSS/ {print $2}' "/proc/$sc_pid/status")
# The peak so far is start-up's (argon2id's 64 MiB for the decoy password hash): reset it.
echo 5 >"/proc/$sc_pid/clear_refs" 2>/dev/null || true
ng_pid=$(pgrep -P "${pids[1]}" -x nginx | head -1) # the worker, which does the work
[ -n "$ng_pid" ] || ng_pid=${pids[1]}
visitor="Cookie: sc_vid=$(curl -fsi -A "$iphone" "http://127.0.0.1:$sc_port/l/$code" |
    sed -n 's/^Set-Cookie: sc_vid=\([^;]*\).*/\1/p')"
# FIELD of the card's stats (people only; "bots" apart), and events of TYPE stored in all.
stat() {
    curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:$sc_port/api/v1/cards/ada/stats" |
        python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}
stored() { sqlite3 "$SHARECARD_DB" "SELECT count(*) FROM events WHERE type = $1"; }
counted_ok=1
# check WHAT STAT STORED_BEFORE STAT_BEFORE BOTS_BEFORE TYPE: every event of TYPE stored since
# was counted in STAT (people) and none as a bot.
check_people() {
    local what=$1 field=$2 s0=$3 c0=$4 b0=$5 type=$6 s1 c1 b1
    sleep 0.5
    s1=$(stored "$type") c1=$(stat "$field") b1=$(stat bots)
    if [ $((s1 - s0)) -eq $((c1 - c0)) ] && [ "$b1" -eq "$b0" ] && [ $((s1 - s0)) -gt 0 ]; then
        echo "counted as people: $what: $((s1 - s0)) stored, $((c1 - c0)) counted, 0 as bots"
    else
        echo "MISCOUNTED: $what: $((s1 - s0)) stored, $((c1 - c0)) counted as people," \
            "$((b1 - b0)) as bots"
        counted_ok=0
    fi
}
row "floor: minimal libmicrohttpd, 302" "http://127.0.0.1:$floor_port/r" "$floor_pid" \
    "http://127.0.0.1:$ng_port/r"
row "GET /healthz (reads the store)" "http://127.0.0.1:$sc_port/healthz" "$sc_pid" "http://127.0.0.1:$ng_port/r"
s0=$(stored 0) c0=$(stat scans) b0=$(stat bots)
row "GET /l/{code} (302), new visitors" "http://127.0.0.1:$sc_port/l/$code" "$sc_pid" \
    "http://127.0.0.1:$ng_port/r" -s "$tmp/human.lua"
row "GET /l/{code} (302), returning visitor" "http://127.0.0.1:$sc_port/l/$code" "$sc_pid" \
    "http://127.0.0.1:$ng_port/r" -H "$visitor" -H "User-Agent: $iphone"
check_people "scans" scans "$s0" "$c0" "$b0" 0
# Every scan stored was answered, or its client had gone when its commit came (wrk drops
# the requests in flight when a run ends): stored = answered + unanswered, exactly.
sleep 0.5
scans=$(sqlite3 "$SHARECARD_DB" "SELECT count(*) FROM events WHERE type = 0")
metrics=$(curl -fs "http://127.0.0.1:$sc_port/metrics")
answered=$(awk '/class="3xx"/ {print $2}' <<<"$metrics")
gone=$(awk '/^sharecard_events_unanswered_total/ {print $2}' <<<"$metrics")
s0=$(stored 2) c0=$(stat views) b0=$(stat bots)
row "GET /c/{slug} landing page, new visitors" "http://127.0.0.1:$sc_port/c/ada" "$sc_pid" \
    "http://127.0.0.1:$ng_port/page" -s "$tmp/human.lua"
row "GET /c/{slug} landing page, returning" "http://127.0.0.1:$sc_port/c/ada" "$sc_pid" \
    "http://127.0.0.1:$ng_port/page" -H "$visitor" -H "User-Agent: $iphone"
check_people "views" views "$s0" "$c0" "$b0" 2
# Bots: recorded, never counted as scans.
s0=$(stored 0) c0=$(stat scans) b0=$(stat bots)
row "GET /l/{code} (302), bots and previews" "http://127.0.0.1:$sc_port/l/$code" "$sc_pid" \
    "http://127.0.0.1:$ng_port/r" -s "$tmp/bot.lua"
sleep 0.5
s1=$(stored 0) c1=$(stat scans) b1=$(stat bots)
if [ "$c1" -eq "$c0" ] && [ $((b1 - b0)) -eq $((s1 - s0)) ] && [ $((s1 - s0)) -gt 0 ]; then
    echo "counted as bots: $((s1 - s0)) stored, $((b1 - b0)) counted as bots, 0 as scans"
else
    echo "MISCOUNTED: bots: $((s1 - s0)) stored, $((b1 - b0)) counted as bots, $((c1 - c0)) as scans"
    counted_ok=0
fi
row "GET /c/{slug}/qr.png (cached)" "http://127.0.0.1:$sc_port/c/ada/qr.png" "$sc_pid" \
    "http://127.0.0.1:$ng_port/qr"
echo "page bytes: $(wc -c <"$tmp/www/page.html"), qr.png bytes: $(wc -c <"$tmp/www/qr.png")"

rss=$(awk '/VmRSS/ {print $2}' "/proc/${pids[0]}/status" 2>/dev/null || echo "?")
peak=$(awk '/VmHWM/ {print $2}' "/proc/${pids[0]}/status" 2>/dev/null || echo "?")
echo "sharecard RSS: ${idle_rss} kB idle after start, ${peak} kB at most under load, ${rss} kB after"
echo "scans stored: $scans = 302s answered ($answered) + clients gone before their commit ($gone):" \
    "$([ "$scans" -eq $((answered + gone)) ] && echo "equal" || echo "NOT EQUAL")"
curl -fs "http://127.0.0.1:$sc_port/metrics" | awk '
    /^sharecard_events_stored_total/ {e = $2} /^sharecard_event_batches_total/ {b = $2}
    END {if (b) printf "event batches: %d, %.1f events per commit\n", b, e / b}'

# The same scan on PostgreSQL (a private server in $tmp, as the postgres user, pinned
# with sharecard to core 1): what one instance of a scale-out deployment does.
if [ "${SC_BENCH_PG:-1}" != 0 ]; then
    pg_bin=/usr/lib/postgresql/15/bin
    [ -x "$pg_bin/initdb" ] ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }
    pg_dir="$(mktemp -d)" # its own: PostgreSQL runs as postgres, who cannot enter $tmp
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$pg_dir"
        pg_as=(runuser -u postgres --)
    fi
    pg_port=$(free_port)
    (cd "$pg_dir" && "${pg_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres \
        -E UTF8 --locale=C.UTF-8 >/dev/null)
    (cd "$pg_dir" && "${pg_as[@]}" taskset -c 1 "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" \
        -w -o "-k $pg_dir -p $pg_port -c listen_addresses=127.0.0.1" start >/dev/null)
    pg_stop() { "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true; }
    pg_url="postgresql://postgres@127.0.0.1:$pg_port/postgres"
    SHARECARD_ADMIN_PASSWORD=benchmark-password "$bin" --db "$pg_url" init \
        --admin-email admin@example.com >/dev/null
    pg_code=$("$bin" --db "$pg_url" member add --name "Ada Lovelace" --email ada@example.com \
        --slug ada --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["qr_url"].rsplit("/",1)[1])')
    pgs_port=$(free_port)
    taskset -c 1 "$bin" --db "$pg_url" serve --listen "127.0.0.1:$pgs_port" --threads 1 \
        --no-access-log >"$tmp/pgs.out" 2>"$tmp/pgs.err" &
    pgs_pid=$!
    pids+=($pgs_pid)
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$pgs_port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
    row "GET /l/{code} (302), new, PostgreSQL" "http://127.0.0.1:$pgs_port/l/$pg_code" "$pgs_pid" \
        "http://127.0.0.1:$ng_port/r" -s "$tmp/human.lua"
    curl -fs "http://127.0.0.1:$pgs_port/metrics" | awk '
        /^sharecard_events_stored_total/ {e = $2} /^sharecard_event_batches_total/ {b = $2}
        END {if (b) printf "PostgreSQL: %d events in %d batches, %.1f per commit\n", e, b, e / b}'
    kill "$pgs_pid" 2>/dev/null || true
    wait "$pgs_pid" 2>/dev/null || true
    pg_stop
fi

build/bench/bench_qr
echo "event writer, in process (the server's write path without HTTP; 3 runs each, median):"
for per in 1 4; do # scans by new visitors; visits of four events (scan, view, click, dwell)
    for _ in 1 2 3; do
        rm -f "$tmp"/ingest.db*
        taskset -c 1 build/bench/bench_ingest "$tmp" 300000 32 "$per"
    done | sort -t: -k2 -g | sed -n 2p
done
echo "store at scale (${SC_BENCH_EVENTS:-10000000} events; SC_BENCH_EVENTS to change):"
build/bench/bench_store "$tmp" "${SC_BENCH_EVENTS:-10000000}"
# Where the bytes are (dbstat needs a build with SQLITE_ENABLE_DBSTAT_VTAB, as Debian's has).
sqlite3 "$tmp/store.db" "SELECT printf('  %-16s %7.1f MB %6.1f bytes/event', name, sum(pgsize) / 1e6,
    sum(pgsize) * 1.0 / (SELECT count(*) FROM events)) FROM dbstat GROUP BY name
    ORDER BY sum(pgsize) DESC LIMIT 8" 2>/dev/null || true
if [ "$counted_ok" != 1 ]; then
    echo "FAILED: what was measured was not counted as what it claims (see MISCOUNTED above)" >&2
    exit 1
fi
