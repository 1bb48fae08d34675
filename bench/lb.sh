#!/usr/bin/env bash
# bench/lb.sh -- what the load balancer adds (issue 11): GET /api/posts/1 on
# Kiln directly, through HAProxy with one, two and three Kiln instances
# behind it. Prints requests/s, p50 and p99 for each and the ratio to
# direct: once unpinned, once pinned (Kiln on CPU 0; HAProxy and wrk on
# CPU 1; BENCH_PIN=0 skips it).
# A measurement, never a test: it exits 0 whenever the runs happened.
#
#   bench/lb.sh                      # about 45 s
#   BENCH_DURATION=10s BENCH_CONNS=64 bench/lb.sh
#
# HAProxy runs examples/deploy/haproxy.cfg, the file docs/deploy.md shows
# (one `server` line per instance, as the file says to do). Each Kiln
# has one worker; the database is one SQLite file (reads only). Everything
# shares this box's CPUs with wrk, so the absolute figures say little: read
# the ratios, and run it twice.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
unset MAKEFLAGS MFLAGS MAKELEVEL
. bench/lib.sh

duration=${BENCH_DURATION:-5s}
conns=${BENCH_CONNS:-32}
tmp=$(mktemp -d)
pids=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
die() { echo "bench/lb: $*" >&2; exit 1; }

command -v haproxy >/dev/null || die "haproxy is not installed (scripts/deps.sh test)"
command -v wrk >/dev/null || die "wrk is not installed (scripts/deps.sh bench)"
make -j2 >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; die "make failed"; }
mkdir -p "$tmp/app"
cp -r examples/blog/pages examples/blog/lib examples/blog/db "$tmp/app/"
build/kiln build "$tmp/app" >/dev/null || die "kiln build failed"

# start_kiln PORT: one Kiln with one worker, in the background.
start_kiln() {
    DATABASE_URL="sqlite:$tmp/bench.db" KILN_LOG_LEVEL=warn \
        build/kiln start "$tmp/app" --host 127.0.0.1 --port "$1" --workers 1 >/dev/null 2>>"$tmp/kiln.log" &
    pids+=($!)
    until_200 "http://127.0.0.1:$1/_kiln/ready" || die "kiln on $1 did not start: $(tail -5 "$tmp/kiln.log")"
}

# The guide's haproxy.cfg with one `server` line per machine (its own
# instructions; the same rewrite as tests/integration/cluster/cluster.mjs).
# haproxy_cfg N > FILE
haproxy_cfg() {
    awk -v n="$1" '
        /^[ \t]*server kiln[0-9]+ "\$\{KILN_[0-9]+\}" check[ \t]*$/ {
            if (!done) { match($0, /^[ \t]*/); ind = substr($0, 1, RLENGTH)
                for (i = 1; i <= n; i++) printf "%sserver kiln%d \"${KILN_%d}\" check\n", ind, i, i
                done = 1 }
            next }
        { print }' examples/deploy/haproxy.cfg
}

# start_haproxy LB_PORT KILN_PORT...: HAProxy in front of them.
start_haproxy() {
    local lb=$1 i=1 cfg="$tmp/haproxy-$1.cfg"
    shift
    haproxy_cfg $# >"$cfg"
    local envs=("KILN_LB_BIND=127.0.0.1:$lb")
    for k in "$@"; do envs+=("KILN_$i=127.0.0.1:$k"); i=$((i + 1)); done
    env "${envs[@]}" haproxy -db -f "$cfg" 2>>"$tmp/haproxy.log" &
    pids+=($!)
    until_200 "http://127.0.0.1:$lb/api/hello" || die "haproxy did not serve: $(tail -5 "$tmp/haproxy.log")"
    sleep 1 # every server seen up
}

# measure: every case once, with the current pinning; prints the table.
measure() {
    local n label ratio
    run_wrk direct "http://127.0.0.1:$k1/api/posts/1"
    run_wrk lb1 "http://127.0.0.1:$lb1/api/posts/1"
    run_wrk lb2 "http://127.0.0.1:$lb2/api/posts/1"
    run_wrk lb3 "http://127.0.0.1:$lb3/api/posts/1"
    echo
    echo "GET /api/posts/1, wrk -t1 -c$conns -d$duration, $(nproc) CPUs; $1"
    printf '%-28s %12s %9s %9s %14s\n' case 'requests/s' 'p50 ms' 'p99 ms' 'vs direct'
    for n in direct lb1 lb2 lb3; do
        case $n in
        direct) label="Kiln direct (1 worker)" ;;
        lb*) label="HAProxy -> ${n#lb} Kiln" ;;
        esac
        ratio=$(awk -v a="${rps[$n]}" -v b="${rps[direct]}" 'BEGIN { if (b > 0) printf "%.2fx rps", a / b; else print "-" }')
        printf '%-28s %12s %9s %9s %14s\n' "$label" "${rps[$n]}" "${p50[$n]}" "${p99[$n]}" "$ratio"
    done
}

k1=$(free_port) && k2=$(free_port) && k3=$(free_port) || die "no free port"
lb1=$(free_port) && lb2=$(free_port) && lb3=$(free_port) || die "no free port"
start_kiln "$k1"
start_kiln "$k2"
start_kiln "$k3"
curl -fsS -o /dev/null -H 'content-type: application/json' \
    -d '{"title":"bench","content":"one post to read"}' "http://127.0.0.1:$k1/api/posts" || die "cannot create the post"
start_haproxy "$lb1" "$k1"
start_haproxy "$lb2" "$k1" "$k2"
start_haproxy "$lb3" "$k1" "$k2" "$k3"
measure "unpinned: wrk, HAProxy and Kiln share every CPU"

# Pinned: Kiln alone on CPU 0, HAProxy and wrk on CPU 1, so that HAProxy
# takes its CPU from the load generator, not from Kiln (as on a real
# deployment, where the load balancer is a machine of its own).
if ((pinned)) && ((${BENCH_PIN:-1})); then
    for p in $(pgrep -f "kiln.*start $tmp/app"); do taskset -a -p -c 0 "$p" >/dev/null; done
    for p in $(pgrep -f "haproxy -db -f $tmp/"); do taskset -a -p -c 1 "$p" >/dev/null; done
    wrk_pin=("${load_pin[@]}")
    measure "pinned: Kiln on CPU 0, HAProxy and wrk on CPU 1"
fi
exit 0
