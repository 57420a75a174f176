#!/usr/bin/env bash
# Installs what sharecard needs from Debian 12's packages, only when missing.
#   scripts/deps.sh build   — compiler, CMake and the libraries
#   scripts/deps.sh test    — the above plus what the tests use
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config
    libmicrohttpd-dev libsqlite3-dev libqrencode-dev libpng-dev
    libsodium-dev libjansson-dev libpq-dev libyaml-dev libpcre2-dev libcsv-dev libturbojpeg0-dev uap-core
    libgsl-dev libcurl4-openssl-dev)
# postgresql + python3-psycopg2: the integration suite runs on PostgreSQL too (scripts/test.sh
# starts a private server).
test_pkgs=(libcmocka-dev python3 python3-vobject zbar-tools clang-format clang libclang-rt-14-dev
    postgresql python3-psycopg2 faketime)

want=("${build_pkgs[@]}")
if [ "${1:-build}" = test ]; then
    # fonts-wqy-microhei: so the screenshots show Chinese names, not empty boxes.
    want+=("${test_pkgs[@]}" chromium fonts-wqy-microhei)
    # Node.js for playwright-core: the machine's own if it has one, else Debian's.
    command -v node >/dev/null 2>&1 || want+=(nodejs)
    command -v npm >/dev/null 2>&1 || want+=(npm)
fi

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
