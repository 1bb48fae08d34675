#!/usr/bin/env bash
# bench/lb.sh -- what the load balancer adds (issue 11), like with like:
# GET /api/posts/1 on N = 1, 2, 3 Kiln machines (one worker each, one
# SQLite file, reads only), once directly and once through HAProxy running
# the deployment guide's examples/deploy/haproxy.cfg (one `server` line per
# machine, as the file says to do). Both cases use the same load generator:
# N wrk processes with $conns/N connections each; directly, wrk i loads
# machine i (the same load spread over the same N machines, without the
# balancer); through HAProxy, all N load HAProxy, which spreads them. So the
# ratio is what HAProxy adds, not what N machines on one box cost.
#
# Rounds alternate direct / HAProxy (BENCH_ROUNDS of each, medians shown).
# Besides requests/s and p99 it prints CPU time per request, read from
# /proc/PID/stat (utime + stime) around each run: every Kiln process together,
# and HAProxy. On a box whose cores are all busy, HAProxy's own CPU per
# request is what the throughput ratio loses; with a core of its own (a real
# deployment), only Kiln's CPU per request and the added latency remain.
#
# CPU placement (taskset at start, inherited by every worker and thread):
#   BENCH_PIN=1 (default on 2+ CPUs): every Kiln on CPU 0; HAProxy and wrk on
#               CPU 1 (the balancer takes its CPU from the load generator, not
#               from the machines: the nearest this box gets to a balancer on
#               a machine of its own)
#   BENCH_PIN=0: nothing pinned; wrk, HAProxy and Kiln share every CPU
# A measurement, never a test: it exits 0 whenever the runs happened.
#
#   flock -o /work/bench.lock bench/lb.sh       # about 75 s (-o: the servers it
#                                               # starts do not inherit the lock)
#   BENCH_PIN=0 BENCH_DURATION=5s BENCH_CONNS=48 BENCH_ROUNDS=3 bench/lb.sh
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
unset MAKEFLAGS MFLAGS MAKELEVEL
. bench/lib.sh

duration=${BENCH_DURATION:-4s}
conns=${BENCH_CONNS:-48}   # divisible by 1, 2 and 3
rounds=${BENCH_ROUNDS:-3}
pin=${BENCH_PIN:-$pinned}
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

kiln_pin=() lb_pin=() wrk_pin=()
if ((pin)); then
    ((pinned)) || die "BENCH_PIN=1 needs 2 CPUs"
    kiln_pin=("${srv_pin[@]}") lb_pin=("${load_pin[@]}") wrk_pin=("${load_pin[@]}")
    placement="pinned: every Kiln on CPU 0; HAProxy and wrk on CPU 1"
else
    placement="unpinned: wrk, HAProxy and Kiln share all $(nproc) CPUs"
fi

# start_kiln PORT: one Kiln with one worker, in the background.
start_kiln() {
    DATABASE_URL="sqlite:$tmp/bench.db" KILN_LOG_LEVEL=warn \
        "${kiln_pin[@]}" build/kiln start "$tmp/app" --host 127.0.0.1 --port "$1" --workers 1 >/dev/null 2>>"$tmp/kiln.log" &
    pids+=($!)
    kiln_masters+=($!)
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

# start_haproxy N LB_PORT KILN_PORT...: HAProxy in front of them; its pid
# in lb_pid[N].
declare -A lb_pid
start_haproxy() {
    local n=$1 lb=$2 i=1 cfg="$tmp/haproxy-$1.cfg"
    shift 2
    haproxy_cfg $# >"$cfg"
    local envs=("KILN_LB_BIND=127.0.0.1:$lb")
    for k in "$@"; do envs+=("KILN_$i=127.0.0.1:$k"); i=$((i + 1)); done
    env "${envs[@]}" "${lb_pin[@]}" haproxy -db -f "$cfg" 2>>"$tmp/haproxy.log" &
    pids+=($!)
    lb_pid[$n]=$!
    until_200 "http://127.0.0.1:$lb/api/hello" || die "haproxy did not serve: $(tail -5 "$tmp/haproxy.log")"
}

# cpu_ticks PID...: utime + stime of those processes and their children
# that are still running (every Kiln worker), in clock ticks.
cpu_ticks() {
    local p sum=0 t
    for p in "$@" $(for q in "$@"; do pgrep -P "$q"; done); do
        t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null) && sum=$((sum + t))
    done
    echo "$sum"
}

# run_split OUT URL...: one wrk per URL at once, $conns / (number of URLs)
# connections each; appends "requests rps p99 kiln_ticks lb_ticks" to OUT
# (p99: the highest of the wrk processes'). LB_PID: HAProxy's pid or empty.
run_split() {
    local out=$1 n i=0 k0 l0 k1 l1 reqs=0 sum_rps=0 worst_p99=0 f v
    shift
    n=$#
    k0=$(cpu_ticks "${kiln_masters[@]}")
    l0=$( [[ -n $LB_PID ]] && cpu_ticks "$LB_PID" || echo 0)
    for u in "$@"; do
        "${wrk_pin[@]}" wrk -t1 -c$((conns / n)) -d"$duration" --latency "$u" >"$tmp/wrk-$i.txt" 2>&1 &
        i=$((i + 1))
    done
    wait_wrk
    k1=$(cpu_ticks "${kiln_masters[@]}")
    l1=$( [[ -n $LB_PID ]] && cpu_ticks "$LB_PID" || echo 0)
    for ((i = 0; i < n; i++)); do
        f=$tmp/wrk-$i.txt
        if grep -qE 'Non-2xx|Socket errors' "$f"; then
            echo "bench/lb: $(grep -E 'Non-2xx|Socket errors' "$f" | tr -s ' ' | paste -sd ';' -)" >&2
        fi
        v=$(awk '/ requests in / { print $1 }' "$f") && reqs=$((reqs + ${v:-0}))
        sum_rps=$(awk -v a="$sum_rps" -v b="$(awk '/^Requests\/sec:/ { print $2 }' "$f")" 'BEGIN { printf "%.0f", a + b }')
        worst_p99=$(awk -v a="$worst_p99" -v b="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$f")")" 'BEGIN { print (b > a ? b : a) }')
    done
    echo "$reqs $sum_rps $worst_p99 $((k1 - k0)) $((l1 - l0))" >>"$out"
}
wait_wrk() { local j; for j in $(jobs -p); do [[ " ${pids[*]} " == *" $j "* ]] || wait "$j"; done; }

kiln_masters=()
k=() lbp=()
# Each port picked just before its server starts (two picks at once could
# name the same free port).
for i in 1 2 3; do k[i]=$(free_port) || die "no free port"; start_kiln "${k[i]}"; done
curl -fsS -o /dev/null -H 'content-type: application/json' \
    -d '{"title":"bench","content":"one post to read"}' "http://127.0.0.1:${k[1]}/api/posts" || die "cannot create the post"
for n in 1 2 3; do lbp[n]=$(free_port) || die "no free port"; start_haproxy "$n" "${lbp[n]}" "${k[@]:1:n}"; done
sleep 1 # every server seen up (rise 2 x 250 ms)
hz=$(getconf CLK_TCK)

# Rounds: for each N, direct and HAProxy in turn, $rounds times.
for n in 1 2 3; do
    direct=() via=()
    for ((i = 1; i <= n; i++)); do
        direct+=("http://127.0.0.1:${k[i]}/api/posts/1")
        via+=("http://127.0.0.1:${lbp[n]}/api/posts/1")
    done
    for ((r = 1; r <= rounds; r++)); do
        LB_PID='' run_split "$tmp/direct-$n" "${direct[@]}"
        LB_PID=${lb_pid[$n]} run_split "$tmp/lb-$n" "${via[@]}"
    done
done

# median FILE COLUMN: the median of that column over the rounds.
median() { awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# per_req FILE TICKS_COLUMN: CPU microseconds per request, median of rounds.
per_req() { awk -v c="$2" -v hz="$hz" '$1 > 0 { printf "%.1f\n", $c * 1e6 / hz / $1 }' "$1" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo
echo "GET /api/posts/1; N wrk -t1 -c$((conns))/N -d$duration each; $rounds rounds, medians; $(nproc) CPUs; $placement"
uptime
printf '%-4s %-9s %10s %9s %13s %15s %15s\n' N case 'req/s' 'p99 ms' 'vs direct' 'Kiln CPU us/req' 'HAProxy us/req'
for n in 1 2 3; do
    d=$(median "$tmp/direct-$n" 2)
    for c in direct lb; do
        f=$tmp/$c-$n
        v=$(median "$f" 2)
        ratio=$(awk -v a="$v" -v b="$d" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
        lbcpu=$([[ $c == lb ]] && per_req "$f" 5 || echo -)
        printf '%-4s %-9s %10s %9s %13s %15s %15s\n' "$n" "$([[ $c == lb ]] && echo HAProxy || echo direct)" "$v" "$(median "$f" 3)" "$ratio" "$(per_req "$f" 4)" "$lbcpu"
    done
done
exit 0
