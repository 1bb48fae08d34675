#!/usr/bin/env bash
# bench/dev.sh -- the dev loop: from saving a route file to the first
# response with the new code, for `kiln dev` and for Next.js's own dev server
# (`next dev`, the lesson at ../shared/reference/next-lesson), measured the
# same way in the same run:
#
#   start the dev server; time until the first 200 of /api/hello;
#   then ten times: rewrite hello's message, and poll /api/hello (curl, no
#   sleep) until the new message comes back; report p50 and p90 in ms.
#
# Figures, not a test: exits 0 whenever the run happened. BENCH_NEXT=0 skips
# Next.js (it needs `npm install` of the lesson, cached in build/next-lesson).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
unset MAKEFLAGS MFLAGS MAKELEVEL

tmp=$(mktemp -d)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${pids[@]}"; do pkill -KILL -P "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
# serve_on_free_port (free_port, owns_port)
# shellcheck source=bench/lib.sh
. bench/lib.sh
die() { echo "bench/dev: $*" >&2; exit 1; }

make -j2 >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; die "make failed"; }

now_ns() { date +%s%N; }

# wait_for URL TEXT: poll until the body contains TEXT (30 s at most).
wait_for() {
    local deadline=$(($(now_ns) + 30000000000))
    while (($(now_ns) < deadline)); do
        curl -s --max-time 2 "$1" 2>/dev/null | grep -qF "$2" && return 0
    done
    return 1
}

# edits NAME FILE URL SED_FROM: ten edits; prints p50 and p90.
edits() {
    local name=$1 file=$2 url=$3 i t0 ms all=()
    for i in $(seq 1 10); do
        sed -i "s/Hello, [A-Za-z0-9]*!/Hello, Edit$i!/" "$file"
        t0=$(now_ns)
        wait_for "$url" "Hello, Edit$i!" || die "$name: edit $i never showed"
        ms=$((($(now_ns) - t0) / 1000000))
        all+=("$ms")
        sleep 0.3
    done
    mapfile -t sorted < <(printf '%s\n' "${all[@]}" | sort -n)
    echo "$name: save -> new response over 10 edits (ms): ${all[*]}"
    echo "$name: p50 ${sorted[4]} ms, p90 ${sorted[8]} ms"
    p50[$name]=${sorted[4]}
}
declare -A p50 first

# ---- kiln dev -----------------------------------------------------------------
build/kiln new "$tmp/app" >/dev/null || die "kiln new failed"
t0=$(now_ns)
serve_on_free_port "$tmp/kiln-dev.log" build/kiln dev "$tmp/app" --port "{port}" || { cat "$tmp/kiln-dev.log"; die "kiln dev did not start"; }
pids+=("$pid")
wait_for "http://127.0.0.1:$port/api/hello" "Hello" || { cat "$tmp/kiln-dev.log"; die "kiln dev did not answer"; }
first[kiln]=$((($(now_ns) - t0) / 1000000))
echo "kiln dev: first answer $((first[kiln])) ms after start ($(command -v tcc >/dev/null && echo 'tcc fast path' || echo 'gcc -O0 -g'))"
edits kiln "$tmp/app/pages/api/hello.c" "http://127.0.0.1:$port/api/hello"

# ---- next dev -----------------------------------------------------------------
if [[ ${BENCH_NEXT:-1} == 1 && -d ../shared/reference/next-lesson ]]; then
    nl=$tmp/next
    cp -r ../shared/reference/next-lesson "$nl"
    if [[ -d build/next-lesson/node_modules ]]; then
        cp -r build/next-lesson/node_modules "$nl/"
    else
        (cd "$nl" && npm install --no-audit --no-fund >/dev/null 2>&1) || { echo "bench/dev: npm install failed; skipping Next.js"; nl=; }
    fi
    if [[ -n $nl ]]; then
        t0=$(now_ns)
        if serve_on_free_port "$tmp/next-dev.log" env -C "$nl" NEXT_TELEMETRY_DISABLED=1 \
            node_modules/.bin/next dev -H 127.0.0.1 -p "{port}" && pids+=("$pid") &&
            wait_for "http://127.0.0.1:$port/api/hello" "Hello"; then
            first[next]=$((($(now_ns) - t0) / 1000000))
            echo "next dev: first answer $((first[next])) ms after start"
            edits next "$nl/pages/api/hello.js" "http://127.0.0.1:$port/api/hello"
        else
            tail -20 "$tmp/next-dev.log"
            echo "bench/dev: next dev did not answer; skipping its figures"
        fi
    fi
fi

echo
printf '%-10s %16s %18s\n' server 'first answer ms' 'save->answer p50'
for s in kiln next; do
    [[ -n ${p50[$s]:-} ]] && printf '%-10s %16s %18s\n' "$s" "${first[$s]}" "${p50[$s]}"
done
exit 0
