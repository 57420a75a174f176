#!/bin/bash
# The hot-lead watch's cost after a burst (issue 15): new visitors scan a card for SECS seconds
# (wrk, the bench's phone user-agents, 127.0.0.1), then the server idles for 25 s while its
# CPU time (all threads, clock ticks) is counted: what remains is the watch's looks at what the
# burst left.  Prints the load's and the idle time's ticks for each BINARY, one after the other.
#
#     bench/watch_cpu.sh SECS BINARY [BINARY ...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=$1
shift
. bench/lib.sh
for bin in "$@"; do
    tmp=$(mktemp -d /tmp/sharecard-watch.XXXXXX)
    export SHARECARD_DB="$tmp/b.db"
    code=$(ada_store "$bin")
    bench/agents.py human "$tmp/human.lua" >/dev/null
    port=$(free_port)
    taskset -c 1 "$bin" serve --listen "127.0.0.1:$port" --threads 1 --no-access-log \
        >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
    a=$(ticks "$pid")
    rps=$(taskset -c 0 wrk -t1 -c32 -d"${secs}s" -s "$tmp/human.lua" "http://127.0.0.1:$port/l/$code" |
        awk '/Requests\/sec/ {print $2}')
    b=$(ticks "$pid")
    sleep 25
    c=$(ticks "$pid")
    n=$(sqlite3 "$SHARECARD_DB" 'SELECT count(*) FROM events')
    echo "$bin: $rps scans/s for ${secs} s ($n events): $((b - a)) ticks under load, $((c - b)) ticks in the 25 s after"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    rm -rf "$tmp"
done
