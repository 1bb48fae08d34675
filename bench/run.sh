#!/usr/bin/env bash
# bench/run.sh -- Kiln against nginx on one tiny JSON route. See bench/README.md.
#
# Builds Kiln (make) and examples/blog, then, one server at a time:
#   - Kiln: build/kiln start examples/blog --workers 1, pinned to CPU 0
#   - nginx: 1 worker, access_log off, `return 200` of the same JSON, CPU 0
# and loads each with wrk pinned to CPU 1 (wrk -t1 -c64 -d10s --latency).
# Prints requests/s, p50 and p99 latency for both, the Kiln/nginx ratio, the
# Kiln worker's RSS (idle after start, and after the run) and the time from
# start to the first 200 response.
#
# Exits 0 whenever the run happened, however slow; non-zero only when it
# could not run (build failed, a server did not come up).
#
# Then the lesson's database routes (issue #3), each with its ratio to
# /api/hello from the same run: GET /api/posts/:id, GET /api/posts (10 posts),
# POST /api/posts, on SQLite and on PostgreSQL (a throwaway loopback cluster).
#
# Env: BENCH_PATH (/api/hello), BENCH_DURATION (10s), BENCH_CONNS (64),
#      BENCH_KILN_LOG (warn: nginx runs with access_log off, so Kiln runs
#      without its access line; set info to include it), BENCH_PG=0 (skip
#      PostgreSQL), BENCH_VERBOSE=1 (show wrk's full output).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
# Server on CPU 0, load on CPU 1 (when there are two CPUs); free_port, to_ms
# (run_wrk is redefined below: pinned, and start_ms).
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_setup 10s 64

path=${BENCH_PATH:-/api/hello}
body='{"message":"Hello, World!"}'

scripts/deps.sh bench || die "could not install wrk/nginx"
make -j2 >"$tmp/make.log" 2>&1 || {
    cat "$tmp/make.log"
    die "make failed"
}
build/kiln build examples/blog || die "kiln build examples/blog failed"

if ((pinned)); then pin_note="server on CPU 0, wrk on CPU 1"; else pin_note="one CPU: no pinning"; fi

# ---- helpers ------------------------------------------------------------------

now_ns() { date +%s%N; }

# Polls URL until it answers 200 (10 s at most); prints the ms since $1.
wait_200() {
    local t0=$1 url=$2 code
    local deadline=$(($(now_ns) + 10000000000))
    while (($(now_ns) < deadline)); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null)
        if [[ $code == 200 ]]; then
            echo $((($(now_ns) - t0) / 1000000))
            return 0
        fi
        sleep 0.005
    done
    return 1
}

# The Kiln worker: the deepest descendant of the started process (master ->
# worker, or kiln -> app master -> worker); the process itself if it has none.
worker_of() {
    local pid=$1 kids
    kids=$(pgrep -P "$pid" 2>/dev/null | head -n 1)
    while [[ -n $kids ]]; do
        pid=$kids
        kids=$(pgrep -P "$pid" 2>/dev/null | head -n 1)
    done
    echo "$pid"
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }



# run_wrk NAME URL: loads URL, sets rps/p50/p99 for NAME.
declare -A rps p50 p99 start_ms
run_wrk() {
    local name=$1 url=$2 out=$tmp/wrk-$1.txt
    shift 2
    "${load_pin[@]}" wrk -t1 -c"$conns" -d"$duration" --latency "$@" "$url" >"$out" 2>&1
    [[ ${BENCH_VERBOSE:-} == 1 ]] && cat "$out"
    rps[$name]=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50[$name]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    p99[$name]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    if grep -qE 'Non-2xx|Socket errors' "$out"; then
        echo "bench: $name: $(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ' | paste -sd ';' -)"
    fi
    [[ -n ${rps[$name]} ]] || {
        cat "$out"
        rps[$name]=0
    }
}

# ---- Kiln -----------------------------------------------------------------------
echo "== kiln: examples/blog $path, --workers 1; $pin_note"
t0=$(now_ns)
serve_on_free_port "$tmp/kiln-hello.log" env DATABASE_URL="sqlite:$tmp/bench-hello.db" "${srv_pin[@]}" \
    build/kiln start examples/blog --port "{port}" --workers 1 --log-level "${BENCH_KILN_LOG:-warn}" ||
    die "kiln did not start (see the log: $(tail -n 3 "$tmp/kiln-hello.log"))"
kpid=$pid
server_pids+=("$kpid")
url="http://127.0.0.1:$port$path"
start_ms[kiln]=$(wait_200 "$t0" "$url") || die "kiln did not answer 200 on $url within 10 s"
echo "   $(curl -s -i "$url" | tr -d '\r' | grep -iE '^(HTTP|content-type)' | paste -sd ' ' -) $(curl -s "$url")"
sleep 1
worker=$(worker_of "$kpid")
rss_idle=$(rss_kb "$worker")
run_wrk kiln "$url"
sleep 1
rss_after=$(rss_kb "$worker")
stop_server "$kpid"

# ---- nginx ----------------------------------------------------------------------
mkdir -p "$tmp/nginx/body"
# @PORT@: the port serve_on_free_port picks, put in when nginx starts.
cat >"$tmp/nginx/nginx.conf.in" <<EOF
daemon off;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    server {
        listen 127.0.0.1:@PORT@;
        location = /api/hello {
            default_type "application/json; charset=utf-8";
            return 200 '$body';
        }
    }
}
EOF
echo "== nginx $(nginx -v 2>&1 | sed 's/.*\///'): 1 worker, access_log off, return 200; $pin_note"
t0=$(now_ns)
# shellcheck disable=SC2016 # $1 and $2 are sh's
serve_on_free_port "$tmp/nginx/out.log" "${srv_pin[@]}" sh -c 'sed "s/@PORT@/$1/" "$2/nginx.conf.in" >"$2/nginx.conf" &&
    exec nginx -p "$2" -e "$2/error.log" -c "$2/nginx.conf"' nginx "{port}" "$tmp/nginx" || {
    cat "$tmp/nginx/error.log" >&2
    die "nginx did not start"
}
npid=$pid
server_pids+=("$npid")
url="http://127.0.0.1:$port/api/hello"
start_ms[nginx]=$(wait_200 "$t0" "$url") || {
    cat "$tmp/nginx/error.log" >&2
    die "nginx did not answer 200 on $url within 10 s"
}
sleep 1
run_wrk nginx "$url"
stop_server "$npid"

# ---- the lesson's database routes ---------------------------------------------
printf '%s\n' 'wrk.method = "POST"' \
    "wrk.body = '{\"title\":\"Bench\",\"content\":\"A post written by wrk\"}'" \
    'wrk.headers["Content-Type"] = "application/json"' >"$tmp/post.lua"
db_names=()
# bench_db NAME DATABASE_URL: start Kiln on that database, seed 10 posts, load the routes.
bench_db() {
    local name=$1 dburl=$2 u first port pid
    serve_on_free_port "$tmp/kiln-$name.log" env DATABASE_URL="$dburl" "${srv_pin[@]}" \
        build/kiln start examples/blog --port "{port}" --workers 1 --log-level "${BENCH_KILN_LOG:-warn}" || {
        cat "$tmp/kiln-$name.log"
        die "kiln on $name did not start"
    }
    server_pids+=("$pid")
    u="http://127.0.0.1:$port"
    wait_200 "$(now_ns)" "$u/api/posts" >/dev/null || {
        cat "$tmp/kiln-$name.log"
        die "kiln on $name did not start"
    }
    for i in $(seq 1 10); do
        curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
            -d "{\"title\":\"Post $i\",\"content\":\"Body of post $i\"}" "$u/api/posts"
    done
    first=$(curl -s "$u/api/posts" | sed -n 's/^\[{"id":\([0-9]*\).*/\1/p')
    echo "== kiln on $name: GET /api/posts/$first, GET /api/posts (10 posts), POST /api/posts"
    run_wrk "$name-get" "$u/api/posts/$first"
    run_wrk "$name-list" "$u/api/posts"
    run_wrk "$name-post" "$u/api/posts" -s "$tmp/post.lua"
    stop_server "$pid"
    db_names+=("$name")
}
bench_db sqlite "sqlite:$tmp/bench.db"

if [[ ${BENCH_PG:-1} == 1 && -n $pg_bin ]]; then
    pgdir=$tmp/pg
    if start_pg && "$pg_bin/createdb" -h 127.0.0.1 -p "$pgport" -U kiln blog; then
        bench_db postgres "postgres://kiln@127.0.0.1:$pgport/blog"
    else
        echo "bench: could not start PostgreSQL; skipping its figures"
    fi
    "${runas[@]}" "$pg_bin/pg_ctl -D $pgdir/data -m fast stop >/dev/null 2>&1"
else
    echo "bench: PostgreSQL not installed (or BENCH_PG=0): skipping its figures"
fi

# ---- report ---------------------------------------------------------------------
echo
echo "wrk -t1 -c$conns -d$duration --latency, $(nproc) CPUs, $(uname -m), $(date -u +%Y-%m-%d)"
printf '%-7s %12s %10s %10s %14s\n' server requests/s 'p50 ms' 'p99 ms' 'start->200 ms'
for s in kiln nginx; do
    printf '%-7s %12.0f %10s %10s %14s\n' "$s" "${rps[$s]}" "${p50[$s]}" "${p99[$s]}" "${start_ms[$s]}"
done
ratio=$(awk -v k="${rps[kiln]}" -v n="${rps[nginx]}" 'BEGIN { if (n > 0) printf "%.2f", k / n; else print "n/a" }')
echo "kiln/nginx requests/s: $ratio"
echo "kiln worker (pid $worker) VmRSS: ${rss_idle:-?} kB idle after start, ${rss_after:-?} kB after the run"
echo
printf '%-16s %12s %10s %10s %16s\n' route requests/s 'p50 ms' 'p99 ms' 'ratio to hello'
for n in "${db_names[@]}"; do
    for r in get list post; do
        k=$n-$r
        printf '%-16s %12.0f %10s %10s %16s\n' "$k" "${rps[$k]:-0}" "${p50[$k]:-?}" "${p99[$k]:-?}" \
            "$(awk -v a="${rps[$k]:-0}" -v h="${rps[kiln]}" 'BEGIN { if (h > 0) printf "%.2f", a / h; else print "n/a" }')"
    done
done
exit 0
