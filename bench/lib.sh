# bench/lib.sh -- helpers shared by the bench scripts (sourced, not run).
#
#   srv_pin / load_pin   taskset prefixes: server on CPU 0, load on CPU 1
#                        (empty arrays on a one-CPU machine; pinned=0 then)
#   free_port            a loopback port nothing listens on (connect refused)
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
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}
