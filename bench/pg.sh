#!/usr/bin/env bash
# bench/pg.sh -- Kiln on PostgreSQL against PostgreSQL's own limit, in one
# run on one box. See bench/README.md ("PostgreSQL at the database's speed").
#
# Starts a throwaway PostgreSQL cluster on 127.0.0.1 (a free port, removed at
# exit), then, each case about BENCH_DURATION (10 s):
#   1. pgbench -S -M prepared, 64 clients (select by primary key): the
#      figure Kiln's GET by id is compared to;
#   2. a pipelined pgbench script (\startpipeline, 8 SELECTs, \endpipeline)
#      on 4 connections: the database's ceiling on this box, in queries/s;
#   3. Kiln (bench/app, one worker on CPU 0, wrk -t1 -c64 on CPU 1):
#      GET /api/hello, GET /api/posts/:id, GET /api/queries?queries=20 (the
#      20 queries sent together) and ...&seq=1 (one at a time),
#      POST /api/posts, PUT /api/posts/:id (random ids).
# Prints each figure with its ratio to Kiln's /api/hello and to pgbench -S,
# the CPU time per request in Kiln's worker and in PostgreSQL's backends
# (steadier than requests/s on a shared machine), and the load average.
#
# BENCH_SWEEP=1 also loads GET by id and the 20-query route for a grid of
# KILN_DB_POOL x KILN_DB_PIPELINE (5 s each): how the defaults were chosen.
# Env: BENCH_DURATION (10s), BENCH_CONNS (64), BENCH_VERBOSE=1.
# Exits 0 whenever the run happened; non-zero only when it could not run.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
# shellcheck source=bench/lib.sh
. bench/lib.sh
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
bench_setup 10s 64
secs=${duration%s}
pgdir=$tmp/pg

[[ -n $pg_bin && -x $pg_bin/pgbench ]] || die "PostgreSQL server binaries (and pgbench) not found"
scripts/deps.sh bench || die "could not install wrk"
make -j2 >"$tmp/make.log" 2>&1 || {
    cat "$tmp/make.log"
    die "make failed"
}
build/kiln build bench/app >"$tmp/build.log" 2>&1 || {
    cat "$tmp/build.log"
    die "kiln build bench/app failed"
}

if ((pinned)); then
    pin_note="Kiln on CPU 0; wrk and pgbench on CPU 1; PostgreSQL unpinned"
else
    pin_note="one CPU: no pinning"
fi

# ---- PostgreSQL ---------------------------------------------------------------
start_pg -c max_connections=200 || die "could not start PostgreSQL ($pgdir/log)"
pgc=(-h 127.0.0.1 -p "$pgport" -U kiln)
"$pg_bin/createdb" "${pgc[@]}" pgbench || die "createdb pgbench failed"
"$pg_bin/createdb" "${pgc[@]}" kiln || die "createdb kiln failed"
"$pg_bin/pgbench" "${pgc[@]}" -i -s 1 -q pgbench >"$tmp/pgbench-init.log" 2>&1 || die "pgbench -i failed"

declare -A rps p99 pgtx_us
# pgbench's backends exit with it; the postmaster reaps them, so its children's
# CPU time (cutime + cstime) grows by what they used: CPU per transaction.
reaped_ticks() { awk '{ print $16 + $17 }' "/proc/$(head -1 "$pgdir/data/postmaster.pid")/stat"; }
run_pgbench() { # NAME ARGS...: sets rps[NAME] (transactions/s) and pgtx_us[NAME]
    local name=$1 out=$tmp/pgbench-$1.txt t0 n
    shift
    t0=$(reaped_ticks)
    "${load_pin[@]}" "$pg_bin/pgbench" "${pgc[@]}" -n -T "$secs" "$@" pgbench >"$out" 2>&1
    sleep 0.2 # the last backends are reaped
    n=$(awk '/^number of transactions actually processed:/ { print $NF; exit }' "$out")
    pgtx_us[$name]=$(awk -v t="$(($(reaped_ticks) - t0))" -v n="${n:-0}" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "?" }')
    [[ ${BENCH_VERBOSE:-} == 1 ]] && cat "$out"
    rps[$name]=$(awk '/^tps = / {print $3; exit}' "$out")
    [[ -n ${rps[$name]} ]] || { cat "$out"; rps[$name]=0; }
}
echo "== pgbench -S -M prepared -c $conns -j 1 (select by primary key)"
run_pgbench pgbench-S -S -M prepared -c "$conns" -j 1
{
    for i in 1 2 3 4 5 6 7 8; do echo "\\set a$i random(1, 100000)"; done
    printf '%s\n' '\startpipeline'
    for i in 1 2 3 4 5 6 7 8; do echo "SELECT abalance FROM pgbench_accounts WHERE aid = :a$i;"; done
    printf '%s\n' '\endpipeline'
} >"$tmp/pipeline.sql"
printf '%s\n' "== pgbench pipelined: 8 SELECTs per \\startpipeline ... \\endpipeline, -M prepared -c 4"
run_pgbench pgbench-pipe -M prepared -c 4 -j 1 -f "$tmp/pipeline.sql"
pipe_qps=$(awk -v t="${rps[pgbench-pipe]}" 'BEGIN { printf "%.0f", t * 8 }')
# The database driven by its own tool in the 20-query shape: 20 SELECTs per
# pipeline and Sync (what Kiln's batch sends), at several client counts; the
# best batches/s is printed for reference (pgbench's one client thread, not
# only the database, limits it).
{
    for i in $(seq 20); do echo "\\set a$i random(1, 100000)"; done
    printf '%s\n' '\startpipeline'
    for i in $(seq 20); do echo "SELECT abalance FROM pgbench_accounts WHERE aid = :a$i;"; done
    printf '%s\n' '\endpipeline'
} >"$tmp/pipeline20.sql"
pipe20_best=0 pipe20_c=0
for c in 2 4 8 64; do
    printf '%s\n' "== pgbench pipelined: 20 SELECTs per \\startpipeline ... \\endpipeline, -M prepared -c $c"
    run_pgbench "pgbench-pipe20-c$c" -M prepared -c "$c" -j 1 -f "$tmp/pipeline20.sql"
    if awk -v a="${rps[pgbench-pipe20-c$c]}" -v b="$pipe20_best" 'BEGIN { exit !(a > b) }'; then
        pipe20_best=${rps[pgbench-pipe20-c$c]} pipe20_c=$c
    fi
done

# ---- Kiln -----------------------------------------------------------------------
lua() { # NAME: a wrk script
    case $1 in
    post) printf '%s\n' 'wrk.method = "POST"' \
        "wrk.body = '{\"title\":\"Bench\",\"content\":\"A post written by wrk\"}'" \
        'wrk.headers["Content-Type"] = "application/json"' ;;
    put) printf '%s\n' 'local body = '"'"'{"title":"Updated","content":"A post updated by wrk"}'"'" \
        'local headers = { ["Content-Type"] = "application/json" }' \
        'request = function() return wrk.format("PUT", "/api/posts/" .. math.random(1, 10000), headers, body) end' ;;
    esac
}
lua post >"$tmp/post.lua"
lua put >"$tmp/put.lua"

# CPU time per request, which a busy machine disturbs far less than
# requests/s: clock ticks of Kiln's worker and of the database's backends
# (those of database kiln; a backend opened during the run counts from 0).
declare -A kus pgus
ticks_of() { # PIDS...: "pid ticks" lines (user + system)
    local p
    for p in "$@"; do [[ -r /proc/$p/stat ]] && awk -v p="$p" '{ print p, $14 + $15 }' "/proc/$p/stat"; done
}
pg_backends() { pgrep -f "postgres: kiln kiln 127" || true; }
ticks_since() { # BEFORE-FILE PIDS...: ticks used since the snapshot
    ticks_of "${@:2}" | awk -v f="$1" 'BEGIN { while ((getline l < f) > 0) { split(l, a, " "); t0[a[1]] = a[2] } }
        { s += $2 - ($1 in t0 ? t0[$1] : 0) } END { print s + 0 }'
}

run_wrk() { # NAME URL [wrk args]
    local name=$1 url=$2 out=$tmp/wrk-$1.txt d=${WRK_DURATION:-$duration} workers n kt pt
    shift 2
    mapfile -t workers < <(pgrep -P "$kpid")
    ticks_of "${workers[@]}" >"$tmp/k0"
    # shellcheck disable=SC2046 # one pid per word
    ticks_of $(pg_backends) >"$tmp/p0"
    "${load_pin[@]}" wrk -t1 -c"$conns" -d"$d" --latency "$@" "$url" >"$out" 2>&1
    kt=$(ticks_since "$tmp/k0" "${workers[@]}")
    # shellcheck disable=SC2046
    pt=$(ticks_since "$tmp/p0" $(pg_backends))
    n=$(awk '/ requests in / {print $1}' "$out")
    kus[$name]=$(awk -v t="$kt" -v n="${n:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "?" }')
    pgus[$name]=$(awk -v t="$pt" -v n="${n:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "?" }')
    [[ ${BENCH_VERBOSE:-} == 1 ]] && cat "$out"
    rps[$name]=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p99[$name]=$(awk '$1 == "99%" {print $2}' "$out")
    if grep -qE 'Non-2xx|Socket errors' "$out"; then
        echo "bench: $name: $(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ' | paste -sd ';' -)"
    fi
    [[ -n ${rps[$name]} ]] || { cat "$out"; rps[$name]=0; }
}

start_kiln() { # env assignments...: starts bench/app, sets kport kpid
    local port pid
    : >"$tmp/kiln.log"
    serve_on_free_port "$tmp/kiln.log" env DATABASE_URL="postgres://kiln@127.0.0.1:$pgport/kiln" "$@" "${srv_pin[@]}" \
        build/kiln start bench/app --port "{port}" --workers 1 --log-level warn || { cat "$tmp/kiln.log"; die "kiln did not start"; }
    kport=$port kpid=$pid
    server_pids+=("$kpid")
    until_200 "http://127.0.0.1:$kport/api/posts/1" || { cat "$tmp/kiln.log"; die "kiln did not start"; }
}

start_kiln
u="http://127.0.0.1:$kport"
echo "== kiln bench/app, --workers 1, defaults (pool and depth: src/db/pg.c); $pin_note"
run_wrk hello "$u/api/hello"
run_wrk get "$u/api/posts/42"
run_wrk q20 "$u/api/queries?queries=20"
run_wrk q20seq "$u/api/queries?queries=20&seq=1"
run_wrk post "$u/api/posts" -s "$tmp/post.lua"
run_wrk put "$u/api/posts" -s "$tmp/put.lua"
stop_server "$kpid"
# One at a time in its plainest sense: one statement in flight per pooled
# connection, so concurrent requests do not share a pipeline either.
start_kiln KILN_DB_PIPELINE=1
echo "== kiln bench/app, KILN_DB_PIPELINE=1 (no pipelining across requests)"
run_wrk q20seq1 "http://127.0.0.1:$kport/api/queries?queries=20&seq=1"
stop_server "$kpid"

if [[ ${BENCH_SWEEP:-} == 1 ]]; then
    echo "== sweep: KILN_DB_POOL x KILN_DB_PIPELINE, GET by id, 20 queries together, POST; 5 s each"
    printf '%-6s %-6s %12s %12s %12s\n' pool depth 'get req/s' 'q20 req/s' 'post req/s'
    for pool in 1 2 4 8; do
        for depth in 1 16 64; do
            start_kiln KILN_DB_POOL=$pool KILN_DB_PIPELINE=$depth
            WRK_DURATION=5s run_wrk "s-get" "http://127.0.0.1:$kport/api/posts/42"
            WRK_DURATION=5s run_wrk "s-q20" "http://127.0.0.1:$kport/api/queries?queries=20"
            WRK_DURATION=5s run_wrk "s-post" "http://127.0.0.1:$kport/api/posts" -s "$tmp/post.lua"
            stop_server "$kpid"
            printf '%-6s %-6s %12.0f %12.0f %12.0f\n' "$pool" "$depth" "${rps[s-get]}" "${rps[s-q20]}" "${rps[s-post]}"
        done
    done
fi

# ---- report ---------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
S=${rps[pgbench-S]}
H=${rps[hello]}
echo
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}'), $(nproc) CPUs, $(uname -m), $(date -u +%Y-%m-%d); $pin_note"
echo "load average $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end (other work on the machine)"
printf '%-34s %12s %12s %10s %10s %10s %10s %10s\n' case 'requests/s' 'queries/s' 'p99' 'x hello' 'x pgbench' \
    'kiln us' 'pg us'
printf '%-34s %12.0f %12.0f %10s %10s %10s %10s %10s\n' "pgbench -S -M prepared -c $conns" "$S" "$S" - - 1.00 - "${pgtx_us[pgbench-S]}"
printf '%-34s %12.0f %12.0f %10s %10s %10s %10s %10s\n' "pgbench pipelined 8 x -c 4" "${rps[pgbench-pipe]}" "$pipe_qps" - - \
    "$(ratio "$pipe_qps" "$S")" - "${pgtx_us[pgbench-pipe]}"
printf '%-34s %12.0f %12.0f %10s %10s %10s %10s %10s\n' "pgbench pipelined 20 x -c $pipe20_c (best)" "$pipe20_best" \
    "$(awk -v t="$pipe20_best" 'BEGIN { printf "%.0f", t * 20 }')" - - \
    "$(ratio "$(awk -v t="$pipe20_best" 'BEGIN { print t * 20 }')" "$S")" - "${pgtx_us[pgbench-pipe20-c$pipe20_c]}"
row() { # NAME LABEL QUERIES-PER-REQUEST
    local r=${rps[$1]:-0} q
    q=$(awk -v r="$r" -v n="$3" 'BEGIN { printf "%.0f", r * n }')
    printf '%-34s %12.0f %12.0f %10s %10s %10s %10s %10s\n' "$2" "$r" "$q" "${p99[$1]:-?}" "$(ratio "$r" "$H")" \
        "$(ratio "$q" "$S")" "${kus[$1]:-?}" "${pgus[$1]:-?}"
}
row hello "kiln GET /api/hello" 0
row get "kiln GET /api/posts/:id" 1
row q20 "kiln 20 queries, sent together" 20
row q20seq "kiln 20 queries, one at a time" 20
row post "kiln POST /api/posts" 1
row put "kiln PUT /api/posts/:id" 1
row q20seq1 "kiln 20 one at a time, depth 1" 20
echo "20 queries together / one at a time: $(ratio "${rps[q20]}" "${rps[q20seq]}")x"
echo "20 queries together / one at a time without pipelining across requests (depth 1): $(ratio "${rps[q20]}" "${rps[q20seq1]}")x"
# The bound on "together / one at a time" when the CPU is the limit: even if
# Kiln's own work for the batch cost nothing, the backends' CPU for its 20
# statements stays; one at a time costs Kiln's CPU plus the backends'.
echo "bound: (kiln us + pg us, one at a time) / (pg us, together) = $(awk -v k="${kus[q20seq]}" -v p="${pgus[q20seq]}" -v b="${pgus[q20]}" \
    'BEGIN { if (b > 0) printf "%.2f", (k + p) / b; else print "n/a" }')x: the most the batch could give over one at a time"
echo " (pipelined) with the same statements in PostgreSQL, were Kiln's own CPU for it zero"
echo "(x pgbench compares queries/s with pgbench -S transactions/s; one query each;"
echo " kiln us / pg us: CPU microseconds per request in Kiln's worker / in PostgreSQL's backends;"
echo " for pgbench rows, pg us is the backends' CPU per pgbench transaction, pgbench's own CPU not counted)"
exit 0
