#!/usr/bin/env bash
# Builds sharecard in release mode and runs it on its embedded SQLite store.
# On a fresh store it first loads the demo data (two teams, their cards and
# 180 days of traffic, sign-ups and purchases) so the dashboard is alive at
# once; set SHARECARD_NO_DEMO=1 to start empty with just an admin instead.
#   scripts/run.sh [serve options, e.g. --listen 0.0.0.0:8080 --base-url https://cards.example.com]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh build
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DSC_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)"

bin=build/release/sharecard
export SHARECARD_DB="${SHARECARD_DB:-sharecard.db}"
if [ ! -e "$SHARECARD_DB" ]; then
    if [ "${SHARECARD_NO_DEMO:-}" = 1 ]; then
        pw="${SHARECARD_ADMIN_PASSWORD:-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')}"
        SHARECARD_ADMIN_PASSWORD="$pw" "$bin" init --admin-email admin@example.com
        echo "created $SHARECARD_DB: sign in at /login as admin@example.com / $pw"
    else
        "$bin" demo
        echo "open http://127.0.0.1:8080/login (unless --listen says otherwise)"
    fi
fi
exec "$bin" serve "$@"
