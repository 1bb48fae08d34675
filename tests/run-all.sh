#!/usr/bin/env bash
# run-all.sh -- Kiln's whole test suite, as `make test` runs it (after
# scripts/deps.sh test). Steps, each run whatever happened before it:
#
#   (a) gcc     make -j2 (BUILD=build); unit tests; integration tests
#   (b) clang   make -j2 BUILD=build/clang CC=clang; unit tests
#   (c) asan    make -j2 BUILD=build/asan CC=clang SAN=1; unit tests and
#               integration tests under ASan+UBSan (leaks, abort on error)
#   (d) fuzz    every tests/fuzz/fuzz_*.c for FUZZ_SECONDS (45) seconds
#   (e) http-diff  the parser differential test against llhttp
#   (f) joi-diff   the schema validator's differential test against Joi
#               (tests/integration/http_diff/), against the ASan build
#
# Each step's tests are counted from its closing line "N passed, M failed";
# a step without one (a build) counts as 1 test. A step that exits non-zero
# counts at least one failure. Prints a summary table and, last, exactly
# "N passed, M failed" summed over all steps; exits non-zero if anything
# failed. Logs of each step: build/test-logs/<step>.log.
#
# Env: FUZZ_SECONDS (per fuzzer, default 45), CI=true (no colours),
#      RUN_ALL_STEPS="gcc clang asan fuzz http-diff" (run only these groups,
#      for local use; .ci/run never sets it).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
# Called from `make test`: our own makes must not inherit its flags.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

FUZZ_SECONDS=${FUZZ_SECONDS:-45}
export FUZZ_SECONDS
groups=${RUN_ALL_STEPS:-gcc clang asan fuzz http-diff joi-diff}
logdir=build/test-logs
mkdir -p "$logdir"

if [[ -t 1 && ${CI:-} != true && -z ${NO_COLOR:-} ]]; then
    red=$'\e[31m' green=$'\e[32m' bold=$'\e[1m' reset=$'\e[0m'
else
    red='' green='' bold='' reset=''
    export NO_COLOR=1
    unset FORCE_COLOR
fi

# with_asan CMD...: CMD with the sanitizer options the ASan steps use.
with_asan() {
    (
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        "$@"
    )
}

step_names=()
step_ok=()
step_pass=()
step_fail=()
step_secs=()

# run_step NAME CMD...: runs CMD (stdin closed, output shown and logged) and
# records its counts.
run_step() {
    local name=$1
    shift
    local log="$logdir/${name//[^a-zA-Z0-9_.-]/_}.log"
    echo
    echo "${bold}=== $name${reset}"
    local t0=$SECONDS rc
    "$@" </dev/null 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    local line p f
    line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 || true)
    if [[ -n $line ]]; then
        p=$(sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\1/' <<<"$line")
        f=$(sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
        if ((rc != 0 && f == 0)); then f=1; fi
    elif ((rc == 0)); then
        p=1 f=0
    else
        p=0 f=1
    fi
    step_names+=("$name")
    step_ok+=("$((rc == 0 && f == 0))")
    step_pass+=("$p")
    step_fail+=("$f")
    step_secs+=("$((SECONDS - t0))")
    if ((rc == 0 && f == 0)); then
        echo "${green}--- $name: ok ($p passed)${reset}"
    else
        echo "${red}--- $name: FAILED ($p passed, $f failed, exit $rc)${reset}"
    fi
}

# The unit test binaries a build folder should hold, one per tests/unit/**/test_*.c.
unit_bins() {
    local build=$1 src
    while IFS= read -r src; do
        src=${src#tests/unit/}
        echo "$build/tests/${src%.c}"
    done < <(find tests/unit -name 'test_*.c' | sort)
}

# unit BUILD MAKEVAR...: build the unit tests (keep going past one that does
# not compile: it is then counted as failed) and run them.
unit() {
    local build=$1
    shift
    local bins
    mapfile -t bins < <(unit_bins "$build")
    if ((${#bins[@]})); then
        make -k -j2 "$@" "${bins[@]}" || echo "run-all: some unit tests did not build"
    fi
    tests/run-unit.sh "$build" "${bins[@]}"
}

wants() { [[ " $groups " == *" $1 "* ]]; }

start=$SECONDS

if wants gcc; then
    run_step "gcc: build" make -j2 BUILD=build
    run_step "gcc: unit" unit build BUILD=build
    run_step "gcc: integration" tests/run-integration.sh build
fi

if wants clang; then
    run_step "clang: build" make -j2 BUILD=build/clang CC=clang
    run_step "clang: unit" unit build/clang BUILD=build/clang CC=clang
fi

if wants asan; then
    run_step "asan: build" make -j2 BUILD=build/asan CC=clang SAN=1
    run_step "asan: unit" with_asan unit build/asan BUILD=build/asan CC=clang SAN=1
    run_step "asan: integration" with_asan tests/run-integration.sh build/asan
fi

if wants fuzz; then
    run_step "fuzz (${FUZZ_SECONDS}s each)" tests/run-fuzz.sh "$FUZZ_SECONDS"
fi

if wants http-diff; then
    run_step "http-diff (asan)" with_asan \
        tests/run-integration.sh build/asan tests/integration/http_diff/diff.test.mjs
fi

if wants joi-diff; then
    # The schema validator against the real Joi (npm), case by case.
    run_step "joi-diff (asan)" with_asan \
        tests/run-integration.sh build/asan tests/validate/joi_diff/diff.test.mjs
fi

# ---- summary ---------------------------------------------------------------
total_pass=0
total_fail=0
failed_steps=0
echo
echo "${bold}=== summary${reset}"
printf '%-28s %-7s %7s %7s %7s\n' step result passed failed time
for i in "${!step_names[@]}"; do
    if ((step_ok[i])); then
        res="${green}ok${reset}     "
    else
        res="${red}FAILED${reset} "
        failed_steps=$((failed_steps + 1))
    fi
    printf '%-28s %s %7d %7d %6ds\n' "${step_names[i]}" "$res" "${step_pass[i]}" "${step_fail[i]}" "${step_secs[i]}"
    total_pass=$((total_pass + step_pass[i]))
    total_fail=$((total_fail + step_fail[i]))
done
echo "total time $((SECONDS - start))s; logs in $logdir/"
if ((failed_steps)); then
    echo "${red}$failed_steps step(s) failed${reset}"
fi
echo
echo "$total_pass passed, $total_fail failed"
((failed_steps == 0 && total_fail == 0))
