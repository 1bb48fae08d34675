#!/usr/bin/env bash
# run-integration.sh BUILD [FILE...] -- the end-to-end tests, under node's
# test runner.
#
# The tests are tests/integration/**/*.test.mjs (except the HTTP differential
# test under http_diff/, which run-all.sh runs as a step of its own; name its
# file to run it here). They drive a real server through
# tests/integration/lib/server.mjs, which reads:
#   KILN        the kiln command to use ($BUILD/kiln)
#   KILN_BUILD  the build folder ($BUILD)
# ASAN_OPTIONS / UBSAN_OPTIONS in the environment pass on to the servers.
#
# Prints node's own summary, then the same counts as a plain closing line
# "N passed, M failed". Exit status: node's (non-zero on any failure).
# Env: INTEGRATION_TIMEOUT (seconds for the whole run, default 1200).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1

if (($# < 1)); then
    echo "usage: tests/run-integration.sh BUILD [FILE...]" >&2
    exit 2
fi
build=${1%/}
shift

if (($# > 0)); then
    files=("$@")
else
    mapfile -t files < <(find tests/integration -name '*.test.mjs' \
        -not -path 'tests/integration/http_diff/*' -not -path '*/node_modules/*' | sort)
fi
if ((${#files[@]} == 0)); then
    echo "run-integration: no tests/integration/**/*.test.mjs"
    echo "0 passed, 0 failed"
    exit 0
fi

if ! command -v node >/dev/null 2>&1; then
    echo "run-integration: node is not installed (scripts/deps.sh test)"
    echo "0 passed, 1 failed"
    exit 1
fi

export KILN="$PWD/$build/kiln" KILN_BUILD="$PWD/$build"
[[ $build == /* ]] && export KILN="$build/kiln" KILN_BUILD="$build"

# The spec reporter reads well in a log and ends with "ℹ pass N" lines; older
# nodes without --test-reporter fall back to TAP ("# pass N").
reporter=()
if node --help 2>/dev/null | grep -q -- '--test-reporter'; then
    reporter=(--test-reporter=spec)
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
timeout -k 10 "${INTEGRATION_TIMEOUT:-1200}" \
    node --test "${reporter[@]}" "${files[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

# Node's counts: "ℹ pass 3" (spec) or "# pass 3" (tap).
count() {
    grep -aE "^(ℹ|#) $1 [0-9]+\$" "$log" | tail -n 1 | awk '{print $3}'
}
p=$(count pass)
f=$(count fail)
c=$(count cancelled)
p=${p:-0}
f=$((${f:-0} + ${c:-0}))
if ((rc == 124 || rc == 137)); then
    echo "run-integration: timed out after ${INTEGRATION_TIMEOUT:-1200}s"
fi
# A failing exit with no failure counted (node itself crashed, timed out ...)
# still counts as one failure.
if ((rc != 0 && f == 0)); then
    f=1
fi
echo "$p passed, $f failed"
exit "$rc"
