#!/usr/bin/env bash
# bench/graphql_cost.sh [TREE] [flat|nested|byid] [REQUESTS] -- what one GraphQL
# request costs the worker, in instructions (Ir), a figure that does not
# move with the box's load: bench/graphql/app_mem, built by TREE/build/kiln
# (TREE: a Kiln checkout, default the current folder), runs with one worker
# under valgrind's cachegrind; a node keep-alive client sends REQUESTS
# (3000) of the query, 8 at a time, and checks every answer; the server is
# stopped cleanly and the worker's Ir, less a run with no request (start-up
# and shutdown), is divided by REQUESTS. Then the top functions of the
# loaded run. TOP=N shows more lines; KEEP=FILE keeps cachegrind's output.
# Compare two checkouts to see what a change costs or saves:
#   bench/graphql_cost.sh /tmp/before nested; bench/graphql_cost.sh . nested
# Printed figures, never a test. Needs valgrind (scripts/deps.sh bench), node.
set -uo pipefail

tree=$(cd "${1:-.}" && pwd) || exit 1
kind=${2:-nested}
n=${3:-3000}
[[ -x $tree/build/kiln ]] || { echo "no $tree/build/kiln: run make there first" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "no valgrind (scripts/deps.sh bench)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$tree/bench/graphql/app_mem" "$tmp/app"
"$tree/build/kiln" build "$tmp/app" >/dev/null || exit 1
case $kind in
flat) q='{ posts { id title } }' ;;
byid) q='{ post(id: 1) { id title content } }' ;;
*) q='{ posts { id title author { name } } }' ;;
esac
body="{\"query\":\"$q\"}"
cat >"$tmp/drive.mjs" <<'JS'
import http from 'node:http';
const [port, n, body] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
let done = 0, sent = 0, bad = 0;
await new Promise((resolve) => {
  const one = () => {
    if (sent >= n) return;
    sent++;
    const r = http.request({ port, host: '127.0.0.1', path: '/api/graphql', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => { if (res.statusCode !== 200 || b.includes('"errors"')) bad++; if (++done === n) resolve(); else one(); });
    });
    r.end(body);
  };
  for (let i = 0; i < 8; i++) one();
});
agent.destroy();
if (bad) { console.error(`${bad} bad answers`); process.exit(1); }
JS

# run COUNT: the worker's Ir (the largest of the processes' outputs), its
# cachegrind output kept as $tmp/cg.last.COUNT
run() {
    local count=$1 port=$((20000 + RANDOM % 20000)) spid best='' bestir=0 f ir
    rm -f "$tmp"/cg.[0-9]*
    (cd "$tmp" && exec valgrind --tool=cachegrind --cache-sim=no --trace-children=yes \
        --cachegrind-out-file="$tmp/cg.%p" "$tree/build/kiln" start "$tmp/app" --port "$port" \
        --workers 1 --log-level warn >"$tmp/log" 2>&1) &
    spid=$!
    for _ in $(seq 120); do
        curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/api/graphql" \
            -H 'content-type: application/json' -d "$body" && break
        sleep 0.5
    done
    if ((count > 0)); then node "$tmp/drive.mjs" "$port" "$count" "$body" || exit 1; fi
    pkill -TERM -f "app/.kiln/server --port $port"
    wait "$spid" 2>/dev/null
    sleep 0.3
    for f in "$tmp"/cg.[0-9]*; do
        ir=$(cg_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
        if [[ -n $ir ]] && ((ir > bestir)); then bestir=$ir best=$f; fi
    done
    [[ -n $best ]] || { cat "$tmp/log" >&2; exit 1; }
    cp "$best" "$tmp/cg.last.$count"
    echo "$bestir"
}
base=$(run 0) || exit 1
loaded=$(run "$n") || exit 1
echo "$kind: $n requests, worker Ir $loaded (no-request run $base): Ir/request $(((loaded - base) / n))"
[[ -n ${KEEP:-} ]] && cp "$tmp/cg.last.$n" "$KEEP"
cg_annotate "$tmp/cg.last.$n" 2>/dev/null | sed -n '/file:function/,$p' | sed -n "3,${TOP:-35}p"
