#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c, clang, ASan+UBSan), replays each
# target's corpus kept in the repository (tests/fuzz/corpus/<target>/: every input must
# still pass), then fuzzes every target for SECONDS each (default 10), as many at once as
# there are cores.  New inputs go to build/fuzz/corpus-<target>; a crash is written to
# build/fuzz/ and fails the run.
#   scripts/fuzz.sh            — what scripts/test.sh runs
#   scripts/fuzz.sh 3600       — an hour per target
# Add an input that found a bug to tests/fuzz/corpus/<target>/ so it is replayed forever.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
jobs="$(nproc)"

cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang -DSC_FUZZ=ON -DSC_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
cmake --build build/fuzz -j"$jobs" >/dev/null

targets=()
for src in tests/fuzz/fuzz_*.c; do
    targets+=("$(basename "$src" .c)")
done
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

echo "-- replaying the corpora in tests/fuzz/corpus"
for t in "${targets[@]}"; do
    kept="tests/fuzz/corpus/$t"
    if [ ! -d "$kept" ] || [ -z "$(ls -A "$kept")" ]; then
        echo "$t: no corpus in $kept" >&2
        exit 1
    fi
    "build/fuzz/$t" -runs=0 -artifact_prefix="build/fuzz/$t-" "$kept" >"build/fuzz/replay-$t.log" 2>&1 ||
        { cat "build/fuzz/replay-$t.log"; echo "$t: an input of $kept fails" >&2; exit 1; }
    echo "$t: $(ls "$kept" | wc -l) inputs pass"
done

echo "-- fuzzing each target for $secs s"
run_one() {
    t="$1" secs="$2"
    mkdir -p "build/fuzz/corpus-$t"
    if "build/fuzz/$t" -max_total_time="$secs" -max_len=4096 -artifact_prefix="build/fuzz/$t-" \
        -print_final_stats=1 "build/fuzz/corpus-$t" "tests/fuzz/corpus/$t" \
        >"build/fuzz/run-$t.log" 2>&1; then
        echo "$t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "build/fuzz/run-$t.log" |
            grep -o '[0-9]*$') executions, no finding"
    else
        tail -n 40 "build/fuzz/run-$t.log"
        echo "$t: FOUND A CRASH (build/fuzz/$t-*)" >&2
        return 1
    fi
}
export -f run_one
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$1" "$2"' _ {} "$secs"
