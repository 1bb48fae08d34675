#!/usr/bin/env bash
# bench/sse_fanout.sh -- Server-Sent Events fan-out, printed (never a test):
# the worker CPU time per channel event delivered to N event streams
# (kiln_sse_subscribe + kiln_publish, 1 worker, tests/fixtures/rtapp),
# measured by bench/sse_fanout.mjs from /proc/PID/stat. See bench/README.md.
#
#   flock -o /work/bench.lock bench/sse_fanout.sh     # about 1 min
#
# BENCH_BASE=path/to/kiln (another build's kiln command, e.g. of the commit
# before a change) runs a second server measured in the same rounds,
# alternating with this tree's. Servers on CPU 0, the client on CPU 1.
# Knobs: BENCH_N (1000 streams), BENCH_EVENTS (200 a round), BENCH_ROUNDS (7).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_setup 10 1
make -j2 >/dev/null || die "build failed"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
args=()
run() {   # run NAME KILN
    mkdir -p "$tmp/$1"
    cp -R tests/fixtures/rtapp/pages "$tmp/$1/"
    "$2" build "$tmp/$1" >/dev/null || die "$1: build failed"
    local p
    p=$(free_port)
    KILN_LOG_LEVEL=warn setsid "${srv_pin[@]}" "$2" start "$tmp/$1" --port "$p" --workers 1 >/dev/null 2>"$tmp/$1.err" &
    server_pids+=($!)
    local w=""
    for _ in $(seq 200); do
        w=$(pgrep -P "$!" | head -1)
        [[ -n $w ]] && (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break
        sleep 0.05
    done
    [[ -n $w ]] || die "$1 did not start"
    args+=("$1:$p:$w")
}
run kiln build/kiln
[[ -n ${BENCH_BASE:-} ]] && run base "$BENCH_BASE"
echo "# bench/sse_fanout.sh $(date -u '+%F %T') UTC; $(nproc) CPUs; uptime: $(uptime)"
"${load_pin[@]}" node bench/sse_fanout.mjs "${BENCH_N:-1000}" "${BENCH_EVENTS:-200}" "${BENCH_ROUNDS:-7}" "${args[@]}"
