# bench/lib.sh -- helpers shared by the bench scripts (sourced, not run).
#
#   srv_pin / load_pin   taskset prefixes: server on CPU 0, load on CPU 1
#                        (empty arrays on a one-CPU machine; pinned=0 then)
#   free_port            a loopback port nothing listens on or uses (below 32768)
#   until_200 URL        polls URL until it answers 200 (10 s at most)
#   to_ms 812.00us       wrk's latency units -> milliseconds
#   run_wrk NAME URL [WRK_OPTION...]  wrk -t1 -c$conns -d$duration --latency
#                        (prefixed by the array wrk_pin when the caller sets it); sets
#                        rps[NAME], p50[NAME], p99[NAME]
# Callers set `conns`, `duration` and `tmp` (a scratch folder).
# shellcheck shell=bash disable=SC2034 # the arrays are used by the sourcing script

if (($(nproc) >= 2)); then
    srv_pin=(taskset -c 0)
    load_pin=(taskset -c 1)
    pinned=1
else
    srv_pin=()
    load_pin=()
    pinned=0
fi

free_port() {
    local p
    for _ in $(seq 1 100); do
        # Below the kernel's ephemeral range (32768 up): a busy box holds
        # thousands of outgoing connections and TIME_WAITs there, which a
        # connect test does not see but bind() refuses.
        p=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && [[ -z $(ss -tanH "( sport = :$p )" 2>/dev/null) ]]; then
            echo "$p"
            return 0
        fi
    done
    return 1
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

declare -A rps p50 p99
wrk_pin=() # a taskset prefix for wrk, set by the caller after sourcing
run_wrk() {
    local name=$1 url=$2 out=$tmp/wrk-$1.txt
    shift 2                      # the rest: more wrk options (-s script.lua)
    "${wrk_pin[@]}" wrk -t1 -c"$conns" -d"$duration" --latency "$@" "$url" >"$out" 2>&1
    rps[$name]=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50[$name]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    p99[$name]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    if grep -qE 'Non-2xx|Socket errors' "$out"; then
        echo "bench: $name: $(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ' | paste -sd ';' -)"
    fi
    [[ -n ${rps[$name]} ]] || { cat "$out"; rps[$name]=0; }
}
