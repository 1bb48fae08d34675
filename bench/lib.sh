# bench/lib.sh -- helpers shared by the bench scripts (sourced, not run).
#
#   srv_pin / load_pin   taskset prefixes: server on CPU 0, load on CPU 1
#                        (empty arrays on a one-CPU machine; pinned=0 then)
#   free_port            a loopback port nothing listens on, below the kernel's
#                        ephemeral range, never the same twice in one run
#   serve_on_free_port LOG CMD...  starts a server on a free port ("{port}" in
#                        CMD's words), retrying on another port when the
#                        server dies or someone else holds it; sets port, pid
#   start_pg [-c OPT=V...]  a throwaway PostgreSQL cluster in $pgdir (binaries
#                        in $pg_bin) on a free loopback port, retried on
#                        another port when the bind fails; sets pgport, runas
#   until_200 URL        polls URL until it answers 200 (10 s at most)
#   descendants PID      every process under PID, children first
#   stop_server PID      SIGTERM, SIGKILL (PID and all under it) after 5 s
#   to_ms 812.00us       wrk's latency units -> milliseconds
#   run_wrk NAME URL [WRK_OPTION...]  wrk -t1 -c$conns -d$duration --latency
#                        (prefixed by the array wrk_pin when the caller sets it); sets
#                        rps[NAME], p50[NAME], p99[NAME]; when the caller sets
#                        cpu_of=PID, also cpu[NAME]: the CPU time (user + system)
#                        PID and its descendants spent per request, in microseconds
#   cpu_ticks PID        user + system clock ticks of PID and its descendants
#   bench_setup DURATION CONNS  the run's set-up (below); die MESSAGE
# Callers set `conns`, `duration` and `tmp` (a scratch folder) before use,
# or call bench_setup, which sets them.
# shellcheck shell=bash disable=SC2034,SC2154 # the arrays are used by the sourcing script, which sets tmp, pgdir ...

if (($(nproc) >= 2)); then
    srv_pin=(taskset -c 0)
    load_pin=(taskset -c 1)
    pinned=1
else
    srv_pin=()
    load_pin=()
    pinned=0
fi

# bench_setup DURATION CONNS: what every bench run sets up first: no make
# flags from a calling make; duration and conns (BENCH_DURATION and
# BENCH_CONNS override the defaults given); tmp, a scratch folder others may
# read (PostgreSQL runs as user postgres); server_pids, each killed with its
# children at exit; pg_bin, the newest PostgreSQL's binaries (empty when
# none), whose cluster in $pgdir (start_pg) is stopped at exit; tmp removed
# at exit.
bench_setup() {
    unset MAKEFLAGS MFLAGS MAKELEVEL
    duration=${BENCH_DURATION:-$1}
    conns=${BENCH_CONNS:-$2}
    tmp=$(mktemp -d)
    chmod 755 "$tmp"
    server_pids=()
    pg_bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    trap bench_cleanup EXIT
}

# shellcheck disable=SC2317 # called by the trap
bench_cleanup() {
    local p
    for p in "${server_pids[@]}"; do
        pkill -KILL -P "$p" 2>/dev/null
        kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null # reaped quietly (no "Killed" line)
    done
    if [[ -n ${pgdir:-} && -d $pgdir/data ]]; then
        "${runas[@]}" "$pg_bin/pg_ctl -D $pgdir/data -m immediate stop >/dev/null 2>&1"
    fi
    rm -rf "$tmp"
}

die() {
    echo "bench: $*" >&2
    exit 1
}

# Ports are handed out from a block of 200 of their own per run (chosen by
# this shell's pid) below the ephemeral range, where no outgoing connection
# (wrk's, curl's) is given one, walked in turn through a counter file in
# $tmp, so two calls of one run never return the same port even before
# either is bound. A port something listens on is passed over. Another
# process can still bind it before the server does: serve_on_free_port
# checks that the server itself got it.
free_port() {
    local lo blocks base n p
    read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
    ((lo > 12000)) || lo=32768
    blocks=$(((lo - 10000) / 200))
    base=$((10000 + ($$ % blocks) * 200))
    for _ in $(seq 1 200); do
        n=0
        if [[ -n ${tmp:-} && -d $tmp ]]; then
            n=$(cat "$tmp/.free_port" 2>/dev/null || echo 0)
            echo $((n + 1)) >"$tmp/.free_port"
        else
            n=$RANDOM
        fi
        p=$((base + n % 200))
        # ss: a port in TIME_WAIT or held by an outgoing connection passes a
        # connect test but bind() refuses it.
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && [[ -z $(ss -tanH "( sport = :$p )" 2>/dev/null) ]]; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# True when TCP PORT is listened on, and only by PID and its descendants
# (another user's socket shows no pid: not ours).
owns_port() {
    local port=$1 tree line n=0
    tree=" $2 $(descendants "$2" | tr '\n' ' ') "
    while read -r line; do
        [[ $line =~ pid=([0-9]+) && $tree == *" ${BASH_REMATCH[1]} "* ]] || return 1
        n=$((n + 1))
    done < <(ss -Hltnp "sport = :$port" 2>/dev/null)
    ((n > 0))
}

# serve_on_free_port LOG CMD...: runs CMD in the background (stdout and
# stderr appended to LOG), every "{port}" in its words replaced by a port
# from free_port, and waits (30 s: kiln dev builds first) until the server listens on it itself.
# When it dies first (EADDRINUSE) or another process listens there, it is
# killed and started again on another port (3 tries). Sets `port` and `pid`;
# returns 1 when no try worked. Use `env VAR=...` and `env -C DIR` in CMD
# for environment and folder.
serve_on_free_port() {
    local log=$1 try
    shift
    for try in 1 2 3; do
        port=$(free_port) || return 1
        "${@//\{port\}/$port}" >>"$log" 2>&1 &
        pid=$!
        for _ in $(seq 1 600); do
            kill -0 "$pid" 2>/dev/null || break
            owns_port "$port" "$pid" && return 0
            sleep 0.05
        done
        echo "bench: try $try: no server of ours on port $port; another port" >>"$log"
        pkill -KILL -P "$pid" 2>/dev/null
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    return 1
}

# shellcheck disable=SC2120 # the options are optional
start_pg() {
    local try
    mkdir -p "$pgdir"
    if [[ $(id -u) == 0 ]]; then
        chown postgres "$pgdir"
        runas=(su postgres -s /bin/sh -c)
    else
        runas=(sh -c)
    fi
    "${runas[@]}" "$pg_bin/initdb -D $pgdir/data -A trust -U kiln >$pgdir/initdb.log 2>&1" || return 1
    for try in 1 2 3; do
        pgport=$(free_port) || return 1
        "${runas[@]}" "$pg_bin/pg_ctl -D $pgdir/data -o '-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 $*' \
            -l $pgdir/log -w start >/dev/null" && return 0
        echo "bench: try $try: PostgreSQL did not start on port $pgport" >>"$pgdir/log"
    done
    return 1
}

# All descendants of a process (children first).
descendants() {
    local c
    for c in $(pgrep -P "$1" 2>/dev/null); do
        echo "$c"
        descendants "$c"
    done
}

# Stops a server and everything under it: SIGTERM, SIGKILL after 5 s.
stop_server() {
    local pid=$1 all
    mapfile -t all < <(descendants "$pid")
    all+=("$pid")
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "${all[@]}" 2>/dev/null
    wait "$pid" 2>/dev/null
}

until_200() {
    local code
    for _ in $(seq 1 1000); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" 2>/dev/null)
        [[ $code == 200 ]] && return 0
        sleep 0.01
    done
    return 1
}

to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
        printf "%.3f", n }'
}

declare -A rps p50 p99 cpu
wrk_pin=() # a taskset prefix for wrk, set by the caller after sourcing
# cpu_ticks PID: the clock ticks (user + system, getconf CLK_TCK a second)
# PID and every process under it have run: fields 14 and 15 of stat, counted
# after the ")" that ends the command's name (which may hold spaces). A
# process's own figure includes all of its threads.
cpu_ticks() {
    local p sum=0 f
    for p in "$1" $(descendants "$1"); do
        f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
        read -r -a f <<<"$f"
        sum=$((sum + f[11] + f[12]))
    done
    echo "$sum"
}

run_wrk() {
    local name=$1 url=$2 out=$tmp/wrk-$1.txt c0=
    shift 2                      # the rest: more wrk options (-s script.lua)
    [[ -n ${cpu_of:-} ]] && c0=$(cpu_ticks "$cpu_of")
    "${wrk_pin[@]}" wrk -t1 -c"$conns" -d"$duration" --latency "$@" "$url" >"$out" 2>&1
    if [[ -n $c0 ]]; then
        cpu[$name]=$(awk -v t="$(($(cpu_ticks "$cpu_of") - c0))" -v hz="$(getconf CLK_TCK)" \
            -v n="$(awk '/ requests in / {print $1}' "$out")" 'BEGIN { if (n > 0) printf "%.1f", t / hz / n * 1e6; else print 0 }')
    fi
    rps[$name]=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50[$name]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    p99[$name]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    if grep -qE 'Non-2xx|Socket errors' "$out"; then
        echo "bench: $name: $(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ' | paste -sd ';' -)"
    fi
    [[ -n ${rps[$name]} ]] || { cat "$out"; rps[$name]=0; }
}
