#!/usr/bin/env bash
# The bot row or the new-visitor scan row of bench/run.sh alone, for A/B runs of several
# builds in one session (issue 15).
#
#   bench/bot_row.sh SECONDS RUNS BINARY...
#   SC_ROW=human bench/bot_row.sh SECONDS RUNS BINARY...   (phones, each request a new visitor)
#   SC_DROP_INDEX=events_lead bench/bot_row.sh 5 3 BINARY  (that index dropped in the
#                                                           scratch store first)
#
# For each run, each binary in turn (alternated) gets a fresh store in a scratch directory,
# is pinned to core 1 beside nginx (`return 302`), and serves bench/agents.py's 104 crawler
# and preview user-agents (SC_ROW=human: its 328 phone user-agents, no cookie) from wrk on
# core 0 for SECONDS; nginx is measured just before it.  Prints req/s and the server's CPU
# per request (all its threads; µs), counted once the writer has drained what was queued,
# the ratio of CPU per request to nginx's, and the rows of that kind stored (which must
# equal the 302s answered).  Loopback only; each load is bounded.
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,14p "$0"; exit 2; }
secs=$1 runs=$2
shift 2
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
row=${SC_ROW:-bot}
case $row in
bot) is_bot='bot <> 0' ;;
human) is_bot='bot = 0' ;;
*) echo "SC_ROW is bot or human" >&2; exit 2 ;;
esac
bench/agents.py "$row" "$tmp/row.lua" >/dev/null
. bench/lib.sh
hz=$(getconf CLK_TCK)
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
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$ng_port; location = /r { return 302 /c/ada; } }
}
NGINX
taskset -c 1 nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$ng_port/r" && break; sleep 0.05; done
ng_pid=$(pgrep -P "${pids[0]}" -x nginx | head -1)

# "REQ/S US" of one wrk run on URL served by PID (BASE: a sharecard to wait for).
one() {
    local a b r d
    a=$(ticks "$2")
    r=$(taskset -c 0 wrk -t1 -c64 -d"${secs}s" -s "$tmp/row.lua" "$1" |
        awk '/Non-2xx/ {print "NON-3XX" > "/dev/stderr"} /Requests\/sec/ {print $2}')
    if [ -n "${3:-}" ]; then # the writer drains what was queued: its work is counted too
        for _ in $(seq 200); do
            d=$(curl -fs "$3/metrics" | awk '/^sharecard_event_queue_depth/ {print $2}')
            [ "$d" = 0 ] && break
            sleep 0.05
        done
    fi
    b=$(ticks "$2")
    awk -v a="$a" -v b="$b" -v r="$r" -v s="$secs" -v hz="$hz" \
        'BEGIN {printf "%.0f %.2f\n", r, (b - a) / hz * 1e6 / (r * s)}'
}

for i in $(seq "$runs"); do
    for bin in "$@"; do
        export SHARECARD_DB="$tmp/db"
        rm -f "$SHARECARD_DB"*
        code=$(ada_store "$bin")
        [ -z "${SC_DROP_INDEX:-}" ] || sqlite3 "$SHARECARD_DB" "DROP INDEX $SC_DROP_INDEX"
        port=$(free_port)
        taskset -c 1 "$bin" serve --listen "127.0.0.1:$port" --threads 1 --no-access-log \
            >"$tmp/out" 2>"$tmp/err" &
        sp=$!
        for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
        read -r ng ngu < <(one "http://127.0.0.1:$ng_port/r" "$ng_pid")
        read -r sc scu < <(one "http://127.0.0.1:$port/l/$code" "$sp" "http://127.0.0.1:$port")
        sleep 0.3
        rows=$(sqlite3 "$SHARECARD_DB" "SELECT count(*) FROM events WHERE $is_bot")
        answered=$(curl -fs "http://127.0.0.1:$port/metrics" |
            awk '/^sharecard_http_responses_total\{class="3xx"\}/ {print $2}')
        kill "$sp"
        wait "$sp" 2>/dev/null || true
        printf '%s run %d: %7d/s %6.2f us | nginx %7d/s %5.2f us | CPU ratio %.2f | %s rows %s of %s 302s\n' \
            "$bin" "$i" "$sc" "$scu" "$ng" "$ngu" "$(awk -v a="$ngu" -v b="$scu" 'BEGIN {print a / b}')" "$row" \
            "$rows" "$answered"
    done
done
