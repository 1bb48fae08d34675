#!/usr/bin/env bash
# bench/gql_ws_idle.sh -- idle GraphQL subscribers (graphql-transport-ws):
# what each costs a Kiln worker while it waits, and what one event to all of
# them costs (time to the last subscriber, worker CPU), printed (never a
# test). See bench/README.md. BENCH_OTHER=label=path/to/kiln[,label=path...]
# adds other builds as cases (each builds its own copy of the app), run one
# after the other with this tree's ("after") for each size:
#   BENCH_OTHER=before=/tmp/base/build/kiln flock -o /work/bench.lock bench/gql_ws_idle.sh
# BENCH_SIZES (2000,5000), BENCH_ROUNDS (3 events per case).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
unset MAKEFLAGS MFLAGS MAKELEVEL
make -j2 >/dev/null || { echo "bench/gql_ws_idle.sh: build failed" >&2; exit 1; }
(cd tests/integration/graphql/subs && [[ -d node_modules/ws ]] || npm install --no-audit --no-fund >/dev/null) || exit 1
ulimit -n 30000 2>/dev/null || true
uptime
cases="after=$PWD/build/kiln"
[[ -n "${BENCH_OTHER:-}" ]] && cases="$BENCH_OTHER,$cases"
BENCH_CASES="$cases" node bench/gql_ws_idle.mjs
uptime
