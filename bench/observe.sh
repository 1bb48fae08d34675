#!/usr/bin/env bash
# bench/observe.sh -- what observability costs. Prints figures; never fails on
# slowness (the machine is shared: read them as an estimate).
#
#  1. /api/hello with metrics off and on (KILN_METRICS=1), same run: two
#     servers of one worker each pinned to CPU 0, wrk on CPU 1, each round
#     off and on back to back in alternating order, so that drift in the
#     machine's load hits both alike. The figures: the median of the rounds'
#     on/off ratios and their spread, in req/s and in the worker's CPU time
#     per request (which other work on the machine disturbs far less). The
#     goal: "on" within 3% of "off".
#  2. The trace comment Kiln appends to PostgreSQL statements, measured on
#     the server's side with pgbench: `SELECT 1` against the same statement
#     with a /*trace_id='...'*/ line, one client, same cluster.
#
# Env: BENCH_DURATION (5s per run), BENCH_ROUNDS (7), BENCH_CONNS (64),
#      BENCH_PG=0 (skip 2).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
# srv_pin, load_pin, serve_on_free_port, start_pg
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_setup 5s 64

command -v wrk >/dev/null || { echo "bench: wrk is not installed (scripts/deps.sh bench)"; exit 1; }
make -j2 >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; exit 1; }
build/kiln build examples/blog >/dev/null || exit 1

# Two servers at once, metrics off and on (one worker each, both on CPU 0;
# only the one under load works), so a round's two runs are back to back.
start_srv() { # MODE: starts the blog with KILN_METRICS=MODE, sets port_MODE
    local port pid
    serve_on_free_port "$tmp/srv$1.log" env KILN_METRICS="$1" KILN_LOG_LEVEL=warn "${srv_pin[@]}" \
        examples/blog/.kiln/server --port "{port}" --workers 1 || { cat "$tmp/srv$1.log"; exit 1; }
    server_pids+=("$pid")
    for _ in $(seq 100); do curl -s "127.0.0.1:$port/api/hello" >/dev/null && break; sleep 0.05; done
    printf -v "port_$1" '%s' "$port"
    printf -v "worker_$1" '%s' "$(pgrep -P "$pid" | head -n 1)"
}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# rps MODE: loads that server's /api/hello; prints "req/s CPU-us-per-request"
# (the worker's user + system time over the requests served: what a busy
# machine disturbs far less than req/s).
rps() {
    local port_var=port_$1 worker_var=worker_$1 t0 t1
    t0=$(ticks "${!worker_var}")
    "${load_pin[@]}" wrk -t1 -c"$conns" -d"$duration" "http://127.0.0.1:${!port_var}/api/hello" >"$tmp/wrk.txt" 2>&1
    t1=$(ticks "${!worker_var}")
    awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '/Requests\/sec/ { r = $2 } / requests in / { n = $1 }
        END { printf "%s %.2f\n", r, (n > 0 ? t * 1e6 / hz / n : 0) }' "$tmp/wrk.txt"
}
start_srv 0
start_srv 1
rps 0 >/dev/null # warm both up
rps 1 >/dev/null

# Each round runs off and on back to back, in alternating order (off-on,
# on-off, ...) so that a drift in the machine's load hits both alike; the
# figure is the median of the rounds' on/off ratios, with their spread.
declare -a off on
for round in $(seq "${BENCH_ROUNDS:-7}"); do
    if ((round % 2)); then
        off+=("$(rps 0)")
        on+=("$(rps 1)")
    else
        on+=("$(rps 1)")
        off+=("$(rps 0)")
    fi
    echo "round $round: metrics off ${off[-1]% *} req/s (${off[-1]#* } us CPU/request), on ${on[-1]% *} req/s (${on[-1]#* } us)"
done
python3 - "${off[@]}" "${on[@]}" <<'EOF'
import statistics, sys
v = [float(x or 0) for x in " ".join(sys.argv[1:]).split()]
pairs = list(zip(v[0::2], v[1::2]))            # (req/s, us per request)
off, on = pairs[:len(pairs)//2], pairs[len(pairs)//2:]
rate = sorted(b[0] / a[0] for a, b in zip(off, on) if a[0] > 0)
cpu = sorted(a[1] / b[1] for a, b in zip(off, on) if b[1] > 0)
med = statistics.median
print(f"/api/hello: metrics off {med(x[0] for x in off):.0f} req/s, on {med(x[0] for x in on):.0f} req/s (medians); "
      f"on/off per round: median {med(rate):.3f}, spread {rate[0]:.3f}-{rate[-1]:.3f} over {len(rate)} rounds")
print(f"CPU per request: off {med(x[1] for x in off):.2f} us, on {med(x[1] for x in on):.2f} us (medians); "
      f"throughput this allows, on/off per round: median {med(cpu):.3f}, spread {cpu[0]:.3f}-{cpu[-1]:.3f} "
      f"(goal: >= 0.97)")
EOF

if [[ ${BENCH_PG:-1} != 1 || -z $pg_bin ]] || ! command -v pgbench >/dev/null; then
    echo "bench: PostgreSQL or pgbench not installed (or BENCH_PG=0): no trace comment figures"
    exit 0
fi
pgdir=$tmp/pg
start_pg || { echo "bench: PostgreSQL did not start"; exit 0; }
printf 'SELECT 1;\n' >"$tmp/plain.sql"
printf "SELECT 1\n/*trace_id='4bf92f3577b34da6a3ce929d0e0e4736'*/;\n" >"$tmp/traced.sql"
tps() { "${load_pin[@]}" pgbench -n -h 127.0.0.1 -p "$pgport" -U kiln -c 1 -T "${duration%s}" -f "$1" postgres 2>&1 |
    awk '/^tps/ { print $3 }'; }
p1=$(tps "$tmp/plain.sql"); t1=$(tps "$tmp/traced.sql"); p2=$(tps "$tmp/plain.sql"); t2=$(tps "$tmp/traced.sql")
python3 - "$p1" "$p2" "$t1" "$t2" <<'EOF'
import sys
p1, p2, t1, t2 = (float(x or 0) for x in sys.argv[1:])
p, t = (p1 + p2) / 2, (t1 + t2) / 2
print(f"PostgreSQL SELECT 1: plain {p:.0f} tps, with the trace comment {t:.0f} tps: {t / p:.3f}")
EOF
