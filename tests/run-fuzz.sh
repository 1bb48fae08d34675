#!/usr/bin/env bash
# run-fuzz.sh [SECONDS_PER_FUZZER] -- build and run every libFuzzer target.
#
# Every tests/fuzz/fuzz_<name>.c (defines LLVMFuzzerTestOneInput, no main) is
# linked with the library (every src/**/*.c except src/cli/), built by clang
# with libFuzzer + ASan + UBSan into build/fuzz/, and run for the given time
# (default 45 s; env FUZZ_SECONDS is used when no argument is given).
#
# Seed corpus: tests/fuzz/corpus/<name>/ when it exists. It is COPIED (symlinks followed) into a
# temporary working corpus, so the repo is never written to. Crash inputs go
# to build/fuzz/artifacts/, logs to build/fuzz/logs/<name>.log.
#
# FUZZ_ONLY=name1,name2 runs only those (fuzz_<name>.c), for a quick check.
#
# A fuzzer passes when it builds and libFuzzer exits 0 (no crash, leak, UB,
# timeout or OOM). Closing line: exactly "N passed, M failed".
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1

secs=${1:-${FUZZ_SECONDS:-45}}
out=build/fuzz
cc=${FUZZ_CC:-clang}
# shellcheck disable=SC2054 # commas belong to -fsanitize=
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
    -D_GNU_SOURCE -Iinclude -Isrc -I/usr/include/postgresql)
# Objects are built without libFuzzer's main; only the final link adds it.
# shellcheck disable=SC2054
objflags=(-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
    -D_GNU_SOURCE -Iinclude -Isrc -I/usr/include/postgresql)

mapfile -t fuzzers < <(find tests/fuzz -maxdepth 1 -name 'fuzz_*.c' | sort)
if [[ -n ${FUZZ_ONLY:-} ]]; then
    only=()
    for f in "${fuzzers[@]}"; do
        n=${f##*/fuzz_}
        [[ ",$FUZZ_ONLY," == *",${n%.c},"* ]] && only+=("$f")
    done
    fuzzers=("${only[@]}")
fi
if ((${#fuzzers[@]} == 0)); then
    echo "run-fuzz: no tests/fuzz/fuzz_*.c"
    echo "0 passed, 0 failed"
    exit 0
fi

mkdir -p "$out/obj" "$out/logs" "$out/artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- the library, once -----------------------------------------------------
mapfile -t srcs < <(find src -name '*.c' -not -path 'src/cli/*' | sort)
echo "run-fuzz: building the library (${#srcs[@]} files) with $cc"
lib_ok=1
objs=()
compile_one() {
    local o=$out/obj/${1%.c}.o
    mkdir -p "$(dirname "$o")"
    "$cc" "${objflags[@]}" -c "$1" -o "$o"
}
# As many compiles at once as there are cores; each prints its own errors.
maxjobs=$(nproc 2>/dev/null || echo 2)
pids=()
for s in "${srcs[@]}"; do
    objs+=("$out/obj/${s%.c}.o")
    compile_one "$s" &
    pids+=($!)
    if ((${#pids[@]} >= maxjobs)); then
        wait "${pids[0]}" || lib_ok=0
        pids=("${pids[@]:1}")
    fi
done
for p in "${pids[@]}"; do
    wait "$p" || lib_ok=0
done
rm -f "$out/libkiln-fuzz.a"
if ((lib_ok)) && ((${#objs[@]})); then
    ar rcs "$out/libkiln-fuzz.a" "${objs[@]}" || lib_ok=0
fi

# ---- each fuzzer -------------------------------------------------------------
pass=0
fail=0
results=()
for f in "${fuzzers[@]}"; do
    name=$(basename "$f" .c)
    short=${name#fuzz_}
    bin=$out/$name
    log=$out/logs/$name.log
    echo "== $name (${secs}s)"
    if ((!lib_ok)); then
        echo "run-fuzz: the library did not build"
        fail=$((fail + 1))
        results+=("FAIL  $name (library did not build)")
        continue
    fi
    lib=()
    [[ -f $out/libkiln-fuzz.a ]] && lib=("$out/libkiln-fuzz.a")
    if ! "$cc" "${flags[@]}" "$f" "${lib[@]}" -lsqlite3 -lpq -lsodium -lcurl -lhiredis -lpthread -lm -lnettle -lz -o "$bin"; then
        fail=$((fail + 1))
        results+=("FAIL  $name (did not build)")
        continue
    fi
    corpus=$work/corpus-$name
    mkdir -p "$corpus"
    for seeds in "tests/fuzz/corpus/$name" "tests/fuzz/corpus/$short"; do
        if [[ -d $seeds ]]; then
            cp -RL "$seeds"/. "$corpus"/
        fi
    done
    rm -f "$out/artifacts/$name-"*
    rc=0
    # Past max_total_time libFuzzer finishes the current input and exits; the
    # outer timeout is only a guard against a hang outside its control.
    timeout -k 10 $((secs + 120)) "$bin" -max_total_time="$secs" -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" \
        "$corpus" >"$log" 2>&1 || rc=$?
    if ((rc == 0)); then
        pass=$((pass + 1))
        stats=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
        cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1 | grep -oE 'cov: [0-9]+' || true)
        echo "ok    $name: ${stats:-?} runs, ${cov:-cov: ?}"
        results+=("ok    $name (${stats:-?} runs)")
    else
        fail=$((fail + 1))
        echo "FAIL  $name: exit $rc; last lines of $log:"
        tail -n 60 "$log"
        for a in "$out/artifacts/$name-"*; do
            [[ -f $a ]] || continue
            echo "-- crash input $a ($(wc -c <"$a") bytes), first 256 bytes:"
            head -c 256 "$a" | od -c | head -n 20
            echo "-- reproduce: $bin $a"
        done
        results+=("FAIL  $name (exit $rc, log $log)")
    fi
done

echo
printf '%s\n' "${results[@]}"
echo
echo "$pass passed, $fail failed"
((fail == 0))
