#!/usr/bin/env bash
# bench/ws_idle.sh -- what an idle WebSocket costs a Kiln worker, and where
# it goes, printed (never a test). See bench/README.md. For each case a
# fresh worker (pinned to CPU 0) gets BENCH_IDLE (10,000) connections, which
# then wait 3 s (a straight-line handler is parked after 1 s): the worker's
# RSS growth per socket, for the straight-line /api/echo of
# tests/fixtures/wsapp without and with permessage-deflate offered, and for
# the callback-style /api/cb; then nginx's idle keep-alive connection on the
# same machine. With gdb installed, a breakdown of the straight-line cases is
# read from the worker's own structures (bench/ws_idle.py).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
unset MAKEFLAGS MFLAGS MAKELEVEL
make -j2 >/dev/null || { echo "bench/ws_idle.sh: build failed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/app"
cp -R tests/fixtures/wsapp/pages "$tmp/app/"
build/kiln build "$tmp/app" >/dev/null || exit 1
(cd tests/integration/ws && [[ -d node_modules/ws ]] || npm install --no-audit --no-fund >/dev/null) || exit 1
ulimit -n 30000 2>/dev/null || true
uptime
BENCH_APP="$tmp/app" node bench/ws_idle.mjs
