#!/usr/bin/env bash
# deps.sh MODE -- install the Debian packages Kiln needs, and only the missing
# ones. MODE is one of:
#
#   run    build and serve: gcc/make, pkg-config, binutils, sqlite, libsodium
#   test   run + clang with its sanitizer/libFuzzer runtime, llvm-symbolizer,
#          curl and Node.js (for the integration tests)
#   bench  run + wrk, nginx, curl (bench/run.sh)
#
# Made for Debian 12 as root. Everything is checked first (dpkg-query or
# command -v); `apt-get update` runs once, and only if something is missing.
# When everything is there it prints nothing and takes a few milliseconds.
# Prints one line per thing it installs.
set -euo pipefail

mode=${1:-}
case "$mode" in
run | test | bench) ;;
*)
    echo "usage: scripts/deps.sh run|test|bench" >&2
    exit 2
    ;;
esac

# ---- what is missing -------------------------------------------------------

missing=()

# True when the Debian package is installed ("ii" in dpkg's status).
have_pkg() {
    [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" == ii* ]]
}

# want PKG [COMMAND]: missing unless the package is installed, or (when a
# command is named) that command is already on PATH by whatever means.
want() {
    local pkg=$1 cmd=${2:-}
    if [[ -n "$cmd" ]] && command -v "$cmd" >/dev/null 2>&1; then
        return 0
    fi
    have_pkg "$pkg" || missing+=("$pkg")
}

# Without dpkg (not Debian) we cannot check packages: say what is needed.
if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps.sh: not a Debian system; install by hand: gcc make pkg-config binutils" \
        "libsqlite3-dev libpq-dev libsodium-dev libcurl4-openssl-dev (test: prometheus, clang, compiler-rt, llvm, curl, node, npm, postgresql;" \
        "bench: wrk, nginx)" >&2
    exit 0
fi

want build-essential
want make make
want gcc gcc
want pkg-config pkg-config
want binutils objcopy
want libsqlite3-dev
want libpq-dev
want libsodium-dev
want libhiredis-dev # channels across machines (KILN_REDIS_URL)
want tcc tcc        # kiln dev compiles a saved route in milliseconds with it
want libcurl4-openssl-dev # error reports: HTTPS to Sentry (src/report/sender.c)
# WebSocket (src/ws): SHA-1 + base64 for the handshake, zlib for permessage-deflate
want nettle-dev
want zlib1g-dev

case "$mode" in
test)
    want clang clang
    want llvm llvm-symbolizer
    want curl curl
    want nodejs node # keep any node already on PATH (nodesource, nvm ...)
    want npm npm     # test clients from npm: joi (validator differential), next (lesson diff)
    want postgresql  # a throwaway cluster on loopback proves the PostgreSQL backend
    want procps pgrep
    want sqlite3 sqlite3 # tests read the SQLite files the servers wrote
    want prometheus promtool # metrics: promtool checks, a real Prometheus scrapes Kiln
    # Deploying (tests/integration/cluster): socket activation, taskset, the load balancer
    want systemd systemd-socket-activate
    want util-linux taskset
    want haproxy haproxy
    want iproute2 ip
    want chromium chromium # WebSocket proof with the browser's own client (playwright-core drives it)
    want redis-server redis-server # real-time: channels across two Kilns, Redis restarts
    ;;
bench)
    want curl curl
    want wrk wrk
    want procps pgrep
    want util-linux taskset
    want postgresql  # bench/pg.sh: a throwaway cluster on loopback, and pgbench
    want valgrind valgrind   # bench/graphql_cost.sh: instructions per request (cachegrind)
    if ! command -v nginx >/dev/null 2>&1 && ! have_pkg nginx-light && ! have_pkg nginx; then
        missing+=(nginx-light)
    fi
    ;;
esac

# ---- installing ------------------------------------------------------------

updated=0
sudo_cmd=()

apt_install() {
    ((${#@})) || return 0
    if [[ $EUID -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo_cmd=(sudo)
        else
            echo "deps.sh: missing packages ($*) and not root; install them first" >&2
            exit 1
        fi
    fi
    if ((!updated)); then
        if ! "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq update >/dev/null; then
            echo "deps.sh: apt-get update failed" >&2
            exit 1
        fi
        updated=1
    fi
    # A package's postinst may try to start its service (nginx on port 80):
    # forbid that while we install, with the usual policy-rc.d hook.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
        "${sudo_cmd[@]}" chmod 755 "$policy"
        made_policy=1
    fi
    # apt's chatter (debconf notes ...) is shown only if the install fails.
    local rc=0 log
    log=$(mktemp)
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get -qq install -y --no-install-recommends "$@" >"$log" 2>&1 || rc=$?
    if ((made_policy)); then
        "${sudo_cmd[@]}" rm -f "$policy"
    fi
    if ((rc != 0)); then
        cat "$log" >&2
        rm -f "$log"
        echo "deps.sh: apt-get install $* failed" >&2
        exit "$rc"
    fi
    rm -f "$log"
    local p
    for p in "$@"; do
        echo "deps: installed $p"
    done
}

apt_install "${missing[@]}"

# The sanitizer and libFuzzer runtime goes with the installed clang's major
# version (Debian 12: clang 14 -> libclang-rt-14-dev). Checked after clang is
# there, since clang may just have been installed.
if [[ $mode == test ]]; then
    major=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
    rt=()
    if [[ -n "$major" ]]; then
        # Older Debian releases ship the runtime inside libclang-common-N-dev.
        if ! have_pkg "libclang-rt-$major-dev" &&
            ! ls /usr/lib/llvm-"$major"/lib/clang/*/lib/linux/libclang_rt.fuzzer-"$(uname -m)".a >/dev/null 2>&1; then
            rt+=("libclang-rt-$major-dev")
        fi
    fi
    apt_install "${rt[@]}"
fi
exit 0
