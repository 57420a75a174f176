#!/usr/bin/env bash
# Builds sharecard in release mode and runs it on its embedded SQLite store.
# On a fresh store it creates an admin (password printed once) and a sample
# card, so there is something to look at straight away.
#   scripts/run.sh [serve options, e.g. --listen 0.0.0.0:8080 --base-url https://cards.example.com]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh build
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DSC_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)"

bin=build/release/sharecard
export SHARECARD_DB="${SHARECARD_DB:-sharecard.db}"
if [ ! -e "$SHARECARD_DB" ]; then
    pw="${SHARECARD_ADMIN_PASSWORD:-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')}"
    SHARECARD_ADMIN_PASSWORD="$pw" "$bin" init --admin-email admin@example.com
    slug=$("$bin" member add --name "Ada Lovelace" --email ada@example.com \
        --title "Head of Sales" --company "Analytical Engines Ltd" \
        --phone "+44 20 7946 0000" --slug ada)
    echo "created $SHARECARD_DB: admin@example.com / $pw; sample card /c/$slug"
fi
exec "$bin" serve "$@"
