#!/usr/bin/env bash
# fuzz.sh -- long libFuzzer runs outside CI.
#
#   scripts/fuzz.sh TARGET|all MINUTES
#
# TARGET is a fuzz target of tests/fuzz (fuzz_flow, fuzz_http, ...); "all"
# runs every target one after the other, MINUTES each. Each run starts from
# the committed corpus tests/fuzz/corpus/TARGET (copied; the source tree is
# not touched unless FUZZ_MERGE=1) under nice, on FUZZ_JOBS processes (1).
# At the end a table: executions, coverage (libFuzzer's edges "cov" and
# features "ft" before and after), new corpus inputs, crashes.
#
# Crashing inputs go to tests/fuzz/crashes/TARGET/ (crash-*, leak-*,
# timeout-*, oom-*): ctest's fuzz.replay.TARGET replays every file there and
# in the corpus, so a committed crash input is a failing test until it is
# fixed. Replay one by hand: build-fuzz/tests/fuzz/TARGET FILE.
#
# FUZZ_MERGE=1 adds to the committed corpus the inputs of the run that
# reach new edges (-merge=1 -use_counters=0, smallest first; the committed
# files, named seeds included, stay). FUZZ_MERGE=min rebuilds the committed
# corpus as the minimal set of all of them (hash-named files only).
#
# Environment: FUZZ_BUILD_DIR (build-fuzz; configured and built here if
# absent, with ASan+UBSan and PICOACME_ASSERTS), FUZZ_JOBS (1),
# FUZZ_MAX_LEN (4096; fuzz_keeper 512, fuzz_flow 2048, fuzz_rfc3339 256:
# what their harness reads at most, about), FUZZ_MERGE (0), FUZZ_RUNS (0: no bound; else the run
# also stops after that many executions, e.g. 10000000, whichever is first),
# FUZZ_SANITIZE (asan: ASan+UBSan; ub: see below), FUZZ_RESUME (0),
# FUZZ_BUILD (1), FUZZ_TIMEOUT (10: libFuzzer's -timeout, seconds of wall
# clock per input; raise it when other work shares the CPUs, or an input of
# fuzz_keeper's slowest, a second or two of months of one-minute renewalInfo
# polls, is reported as a hang).
#
# A long run in sittings: each run keeps the previous run's directory of
# the same target as BUILD/fuzz-long/TARGET.prev. FUZZ_RESUME=1 starts from
# the corpus that run grew (plus the committed one) instead of the committed
# corpus alone, and FUZZ_BUILD=0 runs the fuzzers as they are built (the same
# binary as the sitting before, when nothing rebuilt them since). Only
# libFuzzer's in-memory state starts again; the table counts this sitting.
#
# FUZZ_SANITIZE=ub runs on a build with UBSan and the core's assertions but
# no ASan (build-fuzz-ub, FUZZ_BUILD_DIR; about twice the executions per
# second), then replays every input the run added to its corpus and every
# crash input on the ASan+UBSan build (FUZZ_REPLAY_BUILD_DIR, build-fuzz):
# a memory error only ASan sees in one of them is a crash of the run (its
# input is kept in tests/fuzz/crashes/TARGET/ like the others). A memory
# error on an input the run tried but did not keep is not seen.
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SAN=${FUZZ_SANITIZE:-asan}
case $SAN in
asan) BUILD=${FUZZ_BUILD_DIR:-$REPO/build-fuzz} ;;
ub) BUILD=${FUZZ_BUILD_DIR:-$REPO/build-fuzz-ub}; RBUILD=${FUZZ_REPLAY_BUILD_DIR:-$REPO/build-fuzz} ;;
*) echo "FUZZ_SANITIZE is asan or ub" >&2; exit 2 ;;
esac
JOBS=${FUZZ_JOBS:-1}
TMO=${FUZZ_TIMEOUT:-10}
# -max_len per target: the bytes its harness can use (fuzz_keeper: 64
# operations of 3 bytes and a state record of PICOACME_KEEPER_STATE_MAX;
# fuzz_flow: 64 edits, some with raw bytes; fuzz_rfc3339: one timestamp)
maxlen() {
    case $1 in
    fuzz_keeper) echo "${FUZZ_MAX_LEN:-512}" ;;
    fuzz_flow) echo "${FUZZ_MAX_LEN:-2048}" ;;
    fuzz_rfc3339) echo "${FUZZ_MAX_LEN:-256}" ;;
    *) echo "${FUZZ_MAX_LEN:-4096}" ;;
    esac
}
log() { echo "fuzz: $*" >&2; }

if [ $# -ne 2 ] || ! [ "$2" -gt 0 ] 2>/dev/null; then
    echo "usage: $0 TARGET|all MINUTES" >&2
    exit 2
fi
what=$1
secs=$(($2 * 60))

# configure (once) and build the fuzzers in $1 with the sanitizers $2
build() {
    if [ ! -f "$1/build.ninja" ]; then
        CC=${CC:-clang} cmake -S "$REPO" -B "$1" -G Ninja -DPICOACME_FUZZ=ON -DPICOACME_ASSERTS=ON \
            -DPICOACME_LINUX_STATIC=OFF -DPICOACME_FUZZ_SANITIZERS="$2" >&2 || exit 1
    fi
    nice cmake --build "$1" -j"$JOBS" --target picoacme_fuzzers >&2 || exit 1
}
if [ "${FUZZ_BUILD:-1}" = 0 ]; then
    log "FUZZ_BUILD=0: the fuzzers of $BUILD as they are"
elif [ "$SAN" = ub ]; then
    build "$BUILD" undefined
    build "$RBUILD" address,undefined
else
    build "$BUILD" address,undefined
fi

if [ "$what" = all ]; then
    targets=$(cd "$REPO/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
else
    [ -f "$REPO/tests/fuzz/$what.c" ] || { log "no target $what (tests/fuzz/$what.c)"; exit 2; }
    targets=$what
fi

# stat VALUE-NAME LOG: libFuzzer's -print_final_stats value (summed over jobs)
stat() { sed -n "s/^stat::$1: *//p" "$2" | awk '{s += $1} END {print s + 0}'; }
# the cov:/ft: figures of the first ("INITED") and the last status line
covft() { grep -E "^#[0-9]+.*cov: " "$2" | sed -n "$1" | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+).*/\1\/\2/'; }

rows=""
fail=0
for t in $targets; do
    exe=$BUILD/tests/fuzz/$t
    MAXLEN=$(maxlen "$t")
    work=$BUILD/fuzz-long/$t
    crashes=$REPO/tests/fuzz/crashes/$t
    [ -x "$exe" ] || { log "$t: no fuzzer $exe (FUZZ_BUILD=0 with nothing built?)"; exit 2; }
    rm -rf "$work.prev"
    [ ! -d "$work" ] || mv "$work" "$work.prev"
    mkdir -p "$work/corpus" "$crashes"
    cp "$REPO/tests/fuzz/corpus/$t"/* "$work/corpus/" 2>/dev/null
    if [ "${FUZZ_RESUME:-0}" = 1 ]; then
        [ -d "$work.prev/corpus" ] || { log "$t: FUZZ_RESUME=1 but no $work.prev/corpus"; exit 2; }
        cp "$work.prev/corpus"/* "$work/corpus/" 2>/dev/null
    fi
    before=$(ls "$work/corpus" | wc -l)
    touch "$work/log.start"
    log "$t: $2 min on $JOBS process(es), corpus $before inputs"
    if [ "$JOBS" -gt 1 ]; then
        par="-jobs=$JOBS -workers=$JOBS"
    else
        par=""
    fi
    if [ "${FUZZ_RUNS:-0}" -gt 0 ] 2>/dev/null; then
        par="$par -runs=$FUZZ_RUNS"
    fi
    (cd "$work" && nice "$exe" $par -max_total_time="$secs" -max_len="$MAXLEN" -timeout="$TMO" \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" corpus) \
        >"$work/log" 2>&1
    rc=$?
    # (with -jobs, libFuzzer copies each job's fuzz-N.log into its own
    # output when the job ends: the log holds them once; appending them
    # again counted every execution twice)
    execs=$(stat number_of_executed_units "$work/log")
    added=$(($(ls "$work/corpus" | wc -l) - before))
    if [ "$SAN" = ub ]; then
        # what the run kept and found, once more with ASan: the new corpus
        # inputs (not in the committed corpus), then the crash inputs
        mkdir -p "$work/new"
        for f in "$work/corpus"/*; do
            [ -e "$REPO/tests/fuzz/corpus/$t/${f##*/}" ] || cp "$f" "$work/new/"
        done
        find "$crashes" -newer "$work/log.start" -type f -exec cp {} "$work/new/" \;
        if (cd "$work" && nice "$RBUILD/tests/fuzz/$t" -runs=0 -timeout="$TMO" -rss_limit_mb=2048 \
            -artifact_prefix="$work/asan-" new) >"$work/replay.log" 2>&1; then
            log "$t: $(ls "$work/new" | wc -l) new inputs replayed with ASan+UBSan: no error"
        else
            rc=1
            # a crash the UBSan run did not see: keep its input (asan-crash-*)
            [ -n "$(find "$crashes" -newer "$work/log.start" -type f)" ] ||
                cp "$work"/asan-* "$crashes/" 2>/dev/null
            log "$t: replay with ASan+UBSan failed (log: $work/replay.log)"
            grep -m1 -A 12 -E "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error" \
                "$work/replay.log" >&2
        fi
    fi
    ncrash=$(find "$crashes" -newer "$work/log.start" -type f | wc -l)
    c0=$(covft 1p "$work/log"); c1=$(covft '$p' "$work/log")
    mins=$(awk -v s=$(($(date +%s) - $(command stat -c %Y "$work/log.start"))) 'BEGIN {printf "%.1f", s / 60}')
    rows+="| $t | $execs | $mins | ${c0:-?} | ${c1:-?} | $added | $ncrash |"$'\n'
    if [ $rc -ne 0 ] || [ $ncrash -gt 0 ]; then
        fail=1
        log "$t: crashed ($rc): $(ls -t "$crashes" | head -n 3 | tr '\n' ' ')(log: $work/log)"
        grep -m1 -A 12 -E "ERROR: (AddressSanitizer|libFuzzer|UndefinedBehavior)|runtime error" "$work/log" >&2
    fi
    merge="nice $exe -merge=1 -use_counters=0 -max_len=$MAXLEN -timeout=$TMO"
    if [ "${FUZZ_MERGE:-0}" = 1 ]; then
        (cd "$work" && $merge "$REPO/tests/fuzz/corpus/$t" corpus) >"$work/merge.log" 2>&1 &&
            log "$t: committed corpus now $(ls "$REPO/tests/fuzz/corpus/$t" | wc -l) inputs"
    elif [ "${FUZZ_MERGE:-0}" = min ]; then
        mkdir -p "$work/merged"
        (cd "$work" && $merge merged "$REPO/tests/fuzz/corpus/$t" corpus) >"$work/merge.log" 2>&1 &&
            rm -f "$REPO/tests/fuzz/corpus/$t"/* &&
            cp "$work/merged"/* "$REPO/tests/fuzz/corpus/$t/" &&
            log "$t: committed corpus now $(ls "$REPO/tests/fuzz/corpus/$t" | wc -l) inputs"
    fi
    rmdir "$crashes" 2>/dev/null
done
echo "| target | executions | minutes | cov/ft at start | cov/ft at end | new inputs | crashes |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf "%s" "$rows"
exit $fail
