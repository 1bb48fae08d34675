#!/usr/bin/env bash
# run-unit.sh BUILD BIN... -- run unit test binaries and add up their results.
#
# Each binary (built from tests/unit/<layer>/test_<name>.c with tests/unit/t.h)
# runs from the repo root and closes with a line "N passed, M failed". Its
# output is shown as it runs. A binary that is missing, crashes, exits
# non-zero or prints no closing line counts as 1 failed (on top of what its
# closing line said, if it said anything).
#
# Prints a total closing line, exactly "N passed, M failed", and exits
# non-zero when anything failed.
#
# Env: UNIT_TIMEOUT (seconds per binary, default 120).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1

if (($# < 1)); then
    echo "usage: tests/run-unit.sh BUILD BIN..." >&2
    exit 2
fi
build=$1
shift
timeout_s=${UNIT_TIMEOUT:-120}

total_pass=0
total_fail=0
bad=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for bin in "$@"; do
    name=${bin#"$build"/tests/}
    echo "== $name"
    if [[ ! -x "$bin" ]]; then
        echo "run-unit: $bin is missing (did it build?)"
        total_fail=$((total_fail + 1))
        bad+=("$name (missing)")
        continue
    fi
    rc=0
    timeout -k 5 "$timeout_s" "$bin" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)
    if [[ -z "$line" ]]; then
        echo "run-unit: $name printed no closing line (exit $rc)"
        total_fail=$((total_fail + 1))
        bad+=("$name (no closing line, exit $rc)")
        continue
    fi
    p=$(sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\1/' <<<"$line")
    f=$(sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    if ((rc != 0)); then
        if ((rc == 124 || rc == 137)); then
            echo "run-unit: $name timed out after ${timeout_s}s"
        elif ((f == 0)); then
            echo "run-unit: $name exited $rc after reporting no failure (crash or leak?)"
        fi
        ((f == 0)) && total_fail=$((total_fail + 1))
        bad+=("$name (exit $rc)")
    elif ((f > 0)); then
        bad+=("$name ($f failed)")
    fi
done

if ((${#bad[@]})); then
    echo
    echo "unit tests that failed:"
    printf '  %s\n' "${bad[@]}"
fi
echo
echo "$total_pass passed, $total_fail failed"
((total_fail == 0))
