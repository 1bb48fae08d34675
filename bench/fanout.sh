#!/usr/bin/env bash
# bench/fanout.sh -- broadcast fan-out, printed (never a test): one event to
# N WebSocket subscribers, time until the last one has it, for Kiln
# (kiln_ws_subscribe + kiln_publish, 1 worker), the `ws` npm server (a loop
# over its clients) and the floor (bench/fanout_floor.c: one send() of a
# ready frame per socket, nothing else). See bench/README.md.
#
#   flock /work/bench.lock bench/fanout.sh     # about 1.5 min
#
# Same run, same machine, same client: every server on CPU 0, the client
# (bench/fanout.c, one C process on epoll, kernel receive stamps) on CPU 1.
# N=1000: the three servers in one client, rounds alternating K W F K W F ...
# N=10000 (the process's descriptor limit holds one server's subscribers at
# a time): blocks of BENCH_ROUNDS rounds, K W F then K W F again.
# Printed per server: when the first, the median and the last subscriber had
# the event in its socket (kernel stamps), when the client had read the
# last, and the server's CPU time per fan-out (the load-robust figure).
# Knobs: BENCH_ROUNDS (5), BENCH_N ("1000 10000"), BENCH_BASE=path/to/kiln
# (another build's kiln command, e.g. of the commit before a change: measured
# as "base" in the same rounds, after Kiln), BENCH_PERF=1 records the
# Kiln worker, the floor and the client with perf during the rounds of their
# first 10,000 block (perf.data files in $BENCH_PERF_OUT, default
# /tmp/fanout-perf).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
unset MAKEFLAGS MFLAGS MAKELEVEL
# shellcheck source=bench/lib.sh
source bench/lib.sh
make -j2 >/dev/null || { echo "bench/fanout.sh: build failed" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
mkdir -p "$tmp/app"
cp -R tests/fixtures/wsapp/pages "$tmp/app/"
build/kiln build "$tmp/app" >/dev/null || exit 1
cc -std=c17 -O2 -Wall -Wextra -Werror -o "$tmp/fanout" bench/fanout.c || exit 1
cc -std=c17 -O2 -Wall -Wextra -Werror -o "$tmp/floor" bench/fanout_floor.c || exit 1
(cd tests/integration/ws && { [[ -d node_modules/ws ]] || npm install --no-audit --no-fund >/dev/null; }) || exit 1
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
rounds=${BENCH_ROUNDS:-5}

start() {   # start NAME CMD... : in its own process group, pinned to CPU 0
    setsid "${srv_pin[@]}" "${@:2}" >/dev/null 2>"$tmp/$1.err" &
    pids+=($!)
}
kport=$(free_port); wport=$(free_port); fport=$(free_port)
KILN_LOG_LEVEL=warn start kiln build/kiln start "$tmp/app" --port "$kport" --workers 1
if [[ -n ${BENCH_BASE:-} ]]; then
    mkdir -p "$tmp/app-base"
    cp -R tests/fixtures/wsapp/pages "$tmp/app-base/"
    "$BENCH_BASE" build "$tmp/app-base" >/dev/null || exit 1
    bport=$(free_port)
    KILN_LOG_LEVEL=warn start base "$BENCH_BASE" start "$tmp/app-base" --port "$bport" --workers 1
fi
start ws node bench/fanout_ws.mjs "$wport"
start floor "$tmp/floor" "$fport"
until_200 "http://127.0.0.1:$kport/api/hello" || { echo "kiln did not start" >&2; exit 1; }
for p in "$wport" "$fport"; do
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.05; done
done
[[ -n ${BENCH_BASE:-} ]] && { until_200 "http://127.0.0.1:$bport/api/hello" || { echo "base did not start" >&2; exit 1; }; }
kworker=$(pgrep -P "${pids[0]}" | head -1)

body='{"channel":"fan","event":"fan.event","data":{"n":1}}'
K=(kiln "$kport" "$kworker" '/api/sub?channel=fan' subscribed POST /api/publish "$body")
B=()
if [[ -n ${BENCH_BASE:-} ]]; then
    B=(base "$bport" "$(pgrep -P "${pids[1]}" | head -1)" '/api/sub?channel=fan' subscribed POST /api/publish "$body")
    W=(ws "$wport" "${pids[2]}" / - GET / '')
    F=(floor "$fport" "${pids[3]}" / - GET /publish '')
else
    W=(ws "$wport" "${pids[1]}" / - GET / '')
    F=(floor "$fport" "${pids[2]}" / - GET /publish '')
fi
order=(K ${BENCH_BASE:+B} W F)

echo "# bench/fanout.sh $(date -u '+%F %T') UTC; $(nproc) CPUs; servers on CPU 0, client on CPU 1"
echo "# uptime: $(uptime)"
for n in ${BENCH_N:-1000 10000}; do
    if ((n <= 3000)); then
        "${load_pin[@]}" "$tmp/fanout" "$n" "$rounds" "${K[@]}" "${B[@]}" "${W[@]}" "${F[@]}"
    else
        for pass in 1 2; do
            for t in "${order[@]}"; do
                declare -n tgt=$t
                if [[ $t != W && ${BENCH_PERF:-0} == 1 && $pass == 1 ]]; then
                    out=${BENCH_PERF_OUT:-/tmp/fanout-perf}
                    mkdir -p "$out"
                    rm -f "$tmp/ctl"; mkfifo "$tmp/ctl"
                    perf record -q -D -1 --control "fifo:$tmp/ctl" -o "$out/${tgt[0]}.data" -p "${tgt[2]}" 2>/dev/null &
                    pw=$!
                    sleep 0.5
                    FANOUT_PERF_CTL=$tmp/ctl "${load_pin[@]}" "$tmp/fanout" "$n" "$rounds" "${tgt[@]}" | grep -v '^round'
                    sleep 0.2; kill -INT "$pw"; wait "$pw"
                else
                    "${load_pin[@]}" "$tmp/fanout" "$n" "$rounds" "${tgt[@]}" | grep -v '^round'
                fi
            done
        done
    fi
done
echo "# kiln worker RSS after: $(awk '/VmRSS/ {print $2, $3}' "/proc/$kworker/status" 2>/dev/null)"
[[ -n ${BENCH_BASE:-} ]] && echo "# base worker RSS after: $(awk '/VmRSS/ {print $2, $3}' "/proc/${B[2]}/status" 2>/dev/null)"
echo "# uptime: $(uptime)"
