#!/usr/bin/env bash
# Installs what the tests need, then builds and runs the whole suite: a
# normal build with warnings as errors, an ASan+UBSan build, and a
# ThreadSanitizer build of the unit and integration suites.  Also checks
# formatting and runs the fuzzers briefly.  CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh test
jobs="$(nproc)"

echo "== format (clang-format)"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build/*')
if [ -n "$files" ]; then
    clang-format --dry-run --Werror $files
fi

echo "== layers (scripts/layers.sh: every include points down, as docs/ARCHITECTURE.md draws)"
scripts/layers.sh

echo "== fuzz: each target's corpus replayed, then each libFuzzer target for ${SC_FUZZ_SECONDS:-10} s"
scripts/fuzz.sh "${SC_FUZZ_SECONDS:-10}"

echo "== end-to-end test dependencies (playwright-core from npm, exact versions from the lock file)"
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)

echo "== PostgreSQL for the tests: a private server in a temporary directory, stopped on exit"
pg_bin=/usr/lib/postgresql/15/bin
pg_dir="$(mktemp -d)"
pg_as=()
if [ "$(id -u)" -eq 0 ]; then # PostgreSQL refuses to run as root
    chown postgres "$pg_dir"
    pg_as=(runuser -u postgres --)
fi
pg_stop() {
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
}
trap pg_stop EXIT
pg_port="$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# Each test server holds about a connection per thread (one per core): room for ctest -j.
pg_conns=$((jobs * (jobs + 4) * 3 + 100))
(cd "$pg_dir" && "${pg_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres \
    -E UTF8 --locale=C.UTF-8 >/dev/null)
(cd "$pg_dir" && "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -t 60 \
    -o "-k $pg_dir -p $pg_port -c listen_addresses=127.0.0.1 -c fsync=off \
        -c max_connections=$pg_conns" start >/dev/null)
export SHARECARD_TEST_PG="postgresql://postgres@127.0.0.1:$pg_port/postgres"

echo "== build and test (warnings are errors)"
cmake -S . -B build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSC_WERROR=ON >/dev/null
cmake --build build/test -j"$jobs"
echo "== the release binary is hardened (PIE, full RELRO, no executable stack, fortified calls)"
bin=build/test/sharecard
readelf -h "$bin" | grep 'DYN (Position-Independent Executable' >/dev/null || { echo "not PIE" >&2; exit 1; }
readelf -d "$bin" | grep 'BIND_NOW' >/dev/null || { echo "no BIND_NOW (partial RELRO)" >&2; exit 1; }
readelf -lW "$bin" | grep 'GNU_RELRO' >/dev/null || { echo "no RELRO segment" >&2; exit 1; }
readelf -lW "$bin" | grep 'GNU_STACK' | grep 'RW ' >/dev/null || { echo "executable stack" >&2; exit 1; }
nm -D "$bin" | grep '__.*_chk' >/dev/null || { echo "no _FORTIFY_SOURCE checked calls" >&2; exit 1; }
(cd build/test && ctest --output-on-failure -j"$jobs")

echo "== valgrind (memcheck): the unit tests and one integration test (uninitialised reads,"
echo "   which ASan does not see); any error fails the run"
vg_log="$(mktemp -d)"
vg=(valgrind --error-exitcode=1 --quiet --num-callers=30 --leak-check=no
    --log-file="$vg_log/vg.%p")
# SC_TEST_SMALL=1: the compute-bound suites run every path on fewer rows (test_clv's fits;
# test_uap's uap-core suites on every 25th case; test_score is quick as it is): about 50 s,
# 2 min and 6 s of CPU under valgrind on a shared 2-core machine.  Under valgrind tracker/uap.c
# interprets its regexes instead of JIT-compiling them (RUNNING_ON_VALGRIND), since memcheck
# cannot follow PCRE2's generated code.
vg_skip=" "
for t in build/test/tests/test_*; do
    [ -x "$t" ] || continue
    case "$vg_skip" in *" $(basename "$t") "*) continue ;; esac
    rc=0
    SC_TEST_SMALL=1 SC_TEST_TMPDIR="$(pwd)/build/test/tests" "${vg[@]}" "$t" >"$vg_log/out" 2>&1 ||
        rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
        cat "$vg_log/out" "$vg_log"/vg.* 2>/dev/null
        echo "valgrind: $t failed" >&2
        exit 1
    fi
    echo "$(basename "$t"): clean"
done
# The server and every CLI call of one integration test under valgrind, through a wrapper.
printf '#!/bin/sh\nexec %s "%s" "$@"\n' "${vg[*]}" "$(pwd)/build/test/sharecard" \
    >build/test/sharecard-valgrind
chmod +x build/test/sharecard-valgrind
/usr/bin/python3 tests/integration/test_hardening.py build/test/sharecard-valgrind Hardening 2>&1 |
    tail -n 3
if [ -n "$(find "$vg_log" -name 'vg.*' -size +0)" ]; then
    cat "$vg_log"/vg.*
    echo "valgrind reported the errors above" >&2
    exit 1
fi
rm -rf "$vg_log"

echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DSC_WERROR=ON -DSC_SANITIZE=ON >/dev/null
cmake --build build/asan -j"$jobs"
(cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j"$jobs")

echo "== build and test under ThreadSanitizer (unit and integration suites)"
# The event writer, MHD's pool threads, the live feed and the caches share memory.  Every
# report, from a test program or from a server a test started, goes to a file in
# $tsan_logs; any file there fails the run, with its report printed.
tsan_logs="$(mktemp -d)"
cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=Debug -DSC_WERROR=ON -DSC_TSAN=ON >/dev/null
cmake --build build/tsan -j"$jobs"
tsan_rc=0
(cd build/tsan && TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:log_path=$tsan_logs/race" \
    ctest --output-on-failure -j"$jobs" -L 'unit|integration') || tsan_rc=$?
# A server that saw a race exits 66 and fails its test; its report is printed here either way.
if [ -n "$(ls -A "$tsan_logs")" ]; then
    cat "$tsan_logs"/*
    echo "ThreadSanitizer reported the races above" >&2
    exit 1
fi
rm -rf "$tsan_logs"
[ "$tsan_rc" -eq 0 ] || exit "$tsan_rc"
