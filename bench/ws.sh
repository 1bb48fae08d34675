#!/usr/bin/env bash
# bench/ws.sh -- WebSocket and idle-connection figures, printed (never a
# test). See bench/README.md. Same run, same machine: servers pinned to CPU 0,
# the load generator (node) to CPU 1.
#
#   - echo round trips/s: 64 connections, each sends a 32-byte text and
#     waits for it back, for BENCH_SECS (5) seconds: Kiln /api/cb (callbacks),
#     Kiln /api/echo (straight-line), and a `ws` npm echo server;
#   - fan-out: one event to 10,000 subscribers (Kiln kiln_ws_subscribe and
#     kiln_publish; ws: a loop over its clients), time until the last one
#     has it, measured by bench/fanout.c (a C epoll client; three runs);
#   - 10,000 idle connections, the worker's RSS growth per connection: Kiln
#     HTTP keep-alive (after one request), Kiln WebSocket, nginx keep-alive;
#   - /api/hello p50/p99 (2,000 sequential requests) with and without the
#     10,000 idle WebSockets open.
# Kore 4.1 is not packaged in Debian and was not built: no Kore column.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
unset MAKEFLAGS MFLAGS MAKELEVEL
make -j2 >/dev/null || { echo "bench/ws.sh: build failed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/app"
cp -R tests/fixtures/wsapp/pages "$tmp/app/"
build/kiln build "$tmp/app" >/dev/null || exit 1
cc -std=c17 -O2 -Wall -Wextra -Werror -o "$tmp/fanout" bench/fanout.c || exit 1
(cd tests/integration/ws && [[ -d node_modules/ws ]] || npm install --no-audit --no-fund >/dev/null) || exit 1
ulimit -n 30000 2>/dev/null || true
pin=()
command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]] && pin=(taskset -c 1)
BENCH_APP="$tmp/app" BENCH_TMP="$tmp" "${pin[@]}" node bench/ws.mjs
