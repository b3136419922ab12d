#!/usr/bin/env bash
# bench.sh -- footprint and speed figures as a markdown table (a benchmark,
# not a timed test). Progress goes to stderr, the table to stdout.
#
#   scripts/bench.sh              (build dir: build/; BENCH_RUNS=5)
#
# Speed: wall time of one single-name issuance with a fresh client state
# (new account key, account, order, http-01, finalize, download) against one
# local Pebble (loopback, PEBBLE_WFE_NONCEREJECT=0, PEBBLE_AUTHZREUSE=0 so
# every run does the full flow), median of BENCH_RUNS runs, for picoacme,
# uacme and lego. Peak RSS from GNU time (%M, max over the client's processes).
# Then the emulated device, and line coverage of the core from the fuzz
# corpora and the tests (scripts/coverage.sh; BENCH_COVERAGE=0 skips it).
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$REPO/${PICOACME_BUILD_DIR:-build}
RUNS=${BENCH_RUNS:-5}
. "$REPO/scripts/deps.sh"
. "$REPO/tests/e2e/pebble_env.sh"
. "$REPO/tests/e2e/clients_env.sh"

log() { echo "bench: $*" >&2; }

picoacme_deps llvm >&2 || exit 1
# wolfSSL from the Debian source package, built with user_settings_host.h
WOLFSSL_SRC=$(sh "$REPO/scripts/fw-deps.sh" 2>&1 | tee /dev/stderr | sed -n 's/^WOLFSSL_SRC=//p' | tail -n 1)
{ cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPICOACME_WOLFSSL_SRC="$WOLFSSL_SRC" \
  && cmake --build "$BUILD" --target picoacme; } >&2 || log "picoacme build failed"
PICOACME=$BUILD/platform/linux/picoacme
[ -x "$PICOACME" ] || PICOACME=""

WORK=$(mktemp -d /tmp/picoacme-bench.XXXXXX)
trap 'http01_stop; pebble_stop' EXIT
PEBBLE_WFE_NONCEREJECT=0 pebble_start "$WORK/ca" PEBBLE_AUTHZREUSE=0 >&2 || { log "pebble failed"; exit 1; }

# timed NAME RUN CMD...: run CMD under GNU time; append "seconds kib" to
# $WORK/NAME.times when it succeeds.
timed() {
    local name=$1 run=$2; shift 2
    local t0 t1 rc=0
    t0=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$WORK/$name.$run.rss" "$@" >"$WORK/$name.$run.out" 2>&1 || rc=$?
    t1=$(date +%s%N)
    if [ $rc -ne 0 ]; then
        log "$name run $run failed ($rc):"; tail -n 3 "$WORK/$name.$run.out" >&2
        return 1
    fi
    echo "$(( (t1 - t0) / 1000000 )) $(tail -n 1 "$WORK/$name.$run.rss")" >>"$WORK/$name.times"
}

bench_picoacme() {
    local r=$1 d=$WORK/picoacme.$1
    mkdir -p "$d/out"
    timed picoacme "$r" "$PICOACME" issue --directory "$PEBBLE_DIR_URL" --ca-root "$PEBBLE_TLS_ROOT" \
        --state "$d/state" --domain "p$r.bench.internal" --http01-port "$PEBBLE_HTTP01_PORT" --out "$d/out"
}

bench_uacme() {
    local r=$1 d=$WORK/uacme.$1 rc=0
    export UACME_WEBROOT=$d/www
    mkdir -p "$d" "$UACME_WEBROOT"
    http01_serve "$UACME_WEBROOT" || return 1      # not timed: uacme needs an external web server
    timed uacme "$r" bash -c '. "$1"; shift; uacme_run "$@"' _ "$REPO/tests/e2e/clients_env.sh" \
        "$d" "u$r.bench.internal" || rc=1
    http01_stop
    return $rc
}

bench_lego() {
    local r=$1 d=$WORK/lego.$1
    mkdir -p "$d"
    timed lego "$r" env LEGO_CA_CERTIFICATES="$PEBBLE_TLS_ROOT" lego --server "$PEBBLE_DIR_URL" \
        --email x@example.internal --domains "l$r.bench.internal" --key-type ec256 \
        --http --http.port "127.0.0.1:$PEBBLE_HTTP01_PORT" --accept-tos --path "$d" run
}

# min_col NAME COL: smallest value of column COL, or "".
min_col() {
    [ -s "$WORK/$1.times" ] || { echo ""; return; }
    awk -v c="$2" '{ print $c }' "$WORK/$1.times" | sort -n | head -n 1
}

# median_col NAME COL: median of column COL (1 = ms, 2 = KiB) over the runs, or "".
median_col() {
    [ -s "$WORK/$1.times" ] || { echo ""; return; }
    awk -v c="$2" '{ print $c }' "$WORK/$1.times" | sort -n \
        | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

clients="uacme lego"
[ -n "$PICOACME" ] && clients="picoacme $clients"
for r in $(seq 1 "$RUNS"); do
    for c in $clients; do
        log "$c run $r/$RUNS"
        "bench_$c" "$r" || true
    done
done

debver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
ver_uacme=$(debver uacme)
ver_lego=$(debver lego)
ver_pebble=$(debver pebble)
p_ms=$(median_col picoacme 1)

row() {   # row CLIENT VERSION
    local ms kib ratio ok min
    ms=$(median_col "$1" 1); kib=$(median_col "$1" 2); min=$(min_col "$1" 1)
    ok=$( [ -s "$WORK/$1.times" ] && wc -l <"$WORK/$1.times" || echo 0)
    if [ -z "$ms" ]; then
        echo "| $1 | $2 | failed | — | — | — | 0/$RUNS |"; return
    fi
    if [ -n "$p_ms" ] && [ "$p_ms" -gt 0 ]; then
        ratio=$(awk -v a="$ms" -v b="$p_ms" 'BEGIN { printf "%.1f×", a / b }')
    else
        ratio="—"
    fi
    printf '| %s | %s | %d.%03d | %d.%03d | %s | %s | %s/%s |\n' "$1" "$2" \
        $((ms / 1000)) $((ms % 1000)) $((min / 1000)) $((min % 1000)) "$ratio" "$kib" "$ok" "$RUNS"
}

echo "## picoacme bench"
echo
echo "Pebble $ver_pebble on 127.0.0.1, http-01, one DNS name, fresh account per run, EC P-256 keys;"
echo "median of $RUNS runs on $(nproc) CPUs ($(uname -m))."
echo
echo "| client | version | wall time, median (s) | min (s) | median × picoacme | peak RSS (KiB) | runs ok |"
echo "|---|---|---:|---:|---:|---:|---:|"
if [ -n "$PICOACME" ]; then
    row picoacme "$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo dev)"
else
    echo "| picoacme | — | not built | — | — | — | — |"
fi
row uacme "$ver_uacme"
row lego "$ver_lego"
echo
echo "uacme's time excludes its external http-01 web server (started before timing)."
echo "lego sleeps about 5 s when the authorization is still pending at its first poll"
echo "(a race with Pebble's asynchronous validation), so its median and min can differ widely."
echo
echo "## per issuance"
echo
p_out=$(ls "$WORK"/picoacme.*.out 2>/dev/null | head -n 1)
if [ -n "$p_out" ] && grep -q 'requests' "$p_out"; then
    counts=$(grep -o '([0-9]* requests, [0-9]* connections, [0-9]* TLS handshakes' "$p_out" | tail -n 1)
    req=$(echo "$counts" | sed -E 's/\(([0-9]+) requests.*/\1/')
    hs=$(echo "$counts" | sed -E 's/.* ([0-9]+) TLS handshakes/\1/')
    echo "| item | picoacme | goal |"
    echo "|---|---:|---:|"
    echo "| HTTP requests, fresh single-name issuance | $req | ≤ 10 |"
    echo "| TLS handshakes | $hs | 1 |"
    if [ -n "$p_ms" ]; then
        u_ms=$(median_col uacme 1)
        [ -n "$u_ms" ] && awk -v a="$p_ms" -v b="$u_ms" 'BEGIN { printf "| wall time, median, as a fraction of uacme | %.2f× | ≤ 0.3× |\n", a / b }'
        echo "| peak RSS (KiB) | $(median_col picoacme 2) | ≤ 2048 |"
    fi
fi
echo
# issue 8: 100 names in one order (the Linux build's PICOACME_MAX_IDENTIFIERS),
# one run against the same Pebble; uacme's and certbot's figures are the
# issue's reference measurements, not run here.
echo "## 100 names in one order"
echo
if [ -n "$PICOACME" ]; then
    d100=$WORK/picoacme.names100
    mkdir -p "$d100/out"
    names100=(); for i in $(seq 1 100); do names100+=(--domain "n$i.many.bench.internal"); done
    if timed picoacme100 1 "$PICOACME" issue --directory "$PEBBLE_DIR_URL" --ca-root "$PEBBLE_TLS_ROOT" \
        --state "$d100/state" --http01-port "$PEBBLE_HTTP01_PORT" --out "$d100/out" "${names100[@]}"; then
        ms100=$(min_col picoacme100 1)
        req100=$(grep -o '([0-9]* requests' "$WORK/picoacme100.1.out" | tr -dc '0-9')
        echo "| client | wall time (s) | requests |"
        echo "|---|---:|---:|"
        awk -v ms="$ms100" -v r="$req100" 'BEGIN { printf "| picoacme | %.1f | %s |\n", ms / 1000, r }'
        echo "| uacme (issue 8's figure) | 14.9 | |"
        echo "| certbot (issue 8's figure) | 5.8 | |"
    else
        echo "picoacme failed the 100-name issuance (see the log)."
    fi
fi
echo
echo "## footprint (Cortex-M3, arm-none-eabi-gcc -Os, linked with --gc-sections)"
echo
echo "Core flash per source file as linked into a minimal application"
echo "(scripts/bench/core_main.c; ports not included). Profiles: *full* = all options at"
echo "their defaults; *firmware* = the emulated device's options and buffers"
echo "(platform/qemu-mps2/include/picoacme_fw_config.h: http-01 only, no log, no failure"
echo "sentences, jsmn alone, no EAB, ARI or lifecycle calls)."
echo
JSMN_DIR=$(dirname "$(ls /usr/include/jsmn.h)")
mkdir -p "$WORK/jsmn"; cp "$JSMN_DIR/jsmn.h" "$WORK/jsmn/"
full=$(python3 "$REPO/scripts/bench/core_footprint.py" "$REPO" "$WORK/jsmn" "$WORK/fp-full" 2>&1) || log "footprint (full) failed: $full"
fw=$(python3 "$REPO/scripts/bench/core_footprint.py" "$REPO" "$WORK/jsmn" "$WORK/fp-fw" \
    "-DPICOACME_CONFIG_FILE=\"$REPO/platform/qemu-mps2/include/picoacme_fw_config.h\"" 2>&1) || log "footprint (firmware) failed: $fw"
python3 - "$full" "$fw" <<'PY'
import json, sys
try:
    full, fw = json.loads(sys.argv[1]), json.loads(sys.argv[2])
except ValueError:
    print("footprint measurement failed"); sys.exit(0)
files = sorted(set(full["flash"]) | set(fw["flash"]))
print("| core file | flash, full (bytes) | flash, firmware (bytes) |")
print("|---|---:|---:|")
for f in files:
    print(f"| {f} | {full['flash'].get(f, 0)} | {fw['flash'].get(f, '—')} |")
print(f"| **core total** (goal ≤ 24576) | **{full['flash_total']}** | **{fw['flash_total']}** |")
print(f"| core static RAM (.data + .bss) | {full['ram_total']} | {fw['ram_total']} |")
print()
print("| item | value |")
print("|---|---:|")
print(f"| sizeof(picoacme_ctx_t), default options (bytes; the one RAM block the core uses) | {full['ctx_size']} |")
for e in ("picoacme_step", "picoacme_issue_start", "picoacme_stored"):
    print(f"| worst-case stack of {e}, core only (bytes; -fcallgraph-info) | {full['stack'][e]} |")
PY
if [ -n "$PICOACME" ]; then
    strip -o "$WORK/picoacme.stripped" "$PICOACME"
    echo "| picoacme Linux command, stripped, wolfSSL linked in (bytes) | $(stat -c %s "$WORK/picoacme.stripped") |"
fi
echo

# ==== emulated device (qemu-mps2, Cortex-M3) ================================
# The default http-01 image of platform/qemu-mps2 (the firmware
# tests/qemu/run_enroll.sh boots) built against a Pebble of its own:
# per-part flash and RAM from tests/qemu/fw_footprint.py (the link map),
# then one enrolment in qemu-system-arm that prints the wolfSSL pool peak,
# the painted stack peak and the enrolment time. Reuses the firmware build
# dir of the qemu ctest (build/tests/qemu/fw-enroll) when there is one
# (only the CA-specific units recompile), else build-fw-bench/.
fw_bench() {
    local d=$WORK/fw fwb lwip c rc t
    echo "## emulated device (qemu-mps2, Cortex-M3)"
    echo
    for t in qemu-system-arm socat arm-none-eabi-gcc; do
        command -v "$t" >/dev/null 2>&1 || { echo "not measured: $t missing (scripts/fw-deps.sh)"; return; }
    done
    lwip=$(ls -d "$REPO"/build-deps/lwip-*/ 2>/dev/null | tail -n 1)
    [ -n "$lwip" ] && [ -n "$WOLFSSL_SRC" ] || { echo "not measured: wolfSSL/lwIP sources missing (scripts/fw-deps.sh)"; return; }
    fwb=$REPO/build-fw-bench
    [ -f "$BUILD/tests/qemu/fw-enroll/CMakeCache.txt" ] && fwb=$BUILD/tests/qemu/fw-enroll
    mkdir -p "$d"
    pebble_stop
    PEBBLE_WFE_NAMES=acme.internal PEBBLE_WFE_NONCEREJECT=0 pebble_start "$d/ca" >&2 \
        || { echo "not measured: Pebble did not start"; return; }
    log "firmware build in $fwb"
    { cmake -S "$REPO/platform/qemu-mps2" -B "$fwb" -G Ninja \
        -DWOLFSSL_SRC="${WOLFSSL_SRC%/}" -DLWIP_SRC="${lwip%/}" -DFW_SRC_ROOT="$REPO" \
        -DFW_APP=acme -DFW_CHALLENGE=http-01 -DFW_FAULT_INJECTION=OFF \
        -DFW_CA_ROOT_DER="$PEBBLE_TLS_ROOT" \
        -DFW_DIRECTORY_URL="https://acme.internal:$PEBBLE_WFE_PORT/dir" \
        -DFW_CA_HOST=acme.internal -DFW_DEVICE_NAME=device.internal \
        -DFW_WALL_CLOCK_BASE="$(date +%s)" && cmake --build "$fwb"; } >"$d/build.log" 2>&1 \
        || { tail -n 20 "$d/build.log" >&2; echo "not measured: firmware build failed"; return; }
    log "one enrolment in qemu-system-arm"
    ( cd "$d" && exec timeout 120 qemu-system-arm -M mps2-an385 -nographic -monitor none \
        -kernel "$fwb/fw.elf" -semihosting-config enable=on,target=native,arg=fw.elf \
        -nic "user,model=lan9118,restrict=on,guestfwd=tcp:10.0.2.100:$PEBBLE_WFE_PORT-cmd:socat - TCP:127.0.0.1:$PEBBLE_WFE_PORT,hostfwd=tcp:127.0.0.1:$PEBBLE_HTTP01_PORT-:80" \
        </dev/null >console.raw 2>&1 )
    rc=$?
    tr -d '\r' <"$d/console.raw" >"$d/console.log"
    c=$d/console.log
    python3 - "$fwb" "$c" "$rc" "$d/build.log" "${fw:-}" "$REPO/tests/qemu/fw_footprint.py" <<'PY'
import json, re, subprocess, sys
fwb, console, rc, buildlog, corejson, fp = sys.argv[1:7]
con = open(console, errors="replace").read()
blog = open(buildlog, errors="replace").read()
print("Default image (FW_CHALLENGE=http-01, no fault injection), arm-none-eabi-gcc -Os,")
print("picolibc, linked with --gc-sections; sizes from the link map (tests/qemu/fw_footprint.py).")
print()
print(subprocess.run([sys.executable, fp, fwb], capture_output=True, text=True).stdout.rstrip())
print()
# the big RAM blocks (all static: bss)
nm = subprocess.run(["arm-none-eabi-nm", "-S", fwb + "/fw.elf"], capture_output=True, text=True).stdout
sym = {}
for line in nm.splitlines():
    p = line.split()
    if len(p) == 4:
        sym[p[3]] = int(p[1], 16)
size = subprocess.run(["arm-none-eabi-size", "-A", fwb + "/fw.elf"], capture_output=True, text=True).stdout
m = re.search(r"RAM data\+bss\+stack (\d+) bytes \(stack (\d+)\)", blog)
ram, stack_res = (int(m.group(1)), int(m.group(2))) if m else (None, None)
m = re.search(r"flash:\s+(\d+) B", blog)
flash = int(m.group(1)) if m else None
noalloc = "no malloc/free/calloc/realloc/_sbrk" in blog
pool = re.search(r"wolfSSL pool (\d+) of (\d+) bytes touched, stack high-water ~(\d+) bytes", con)
enr = re.search(r"^ENROLLED in (\d+) ms \((\d+) requests, (\d+) connections, (\d+) TLS handshakes", con, re.M)
addr = re.search(r"^fw: address \S+ after (\d+) ms", con, re.M)
core_stack = None
try:
    core_stack = json.loads(corejson)["stack"]["picoacme_step"]
except Exception:
    pass
kib = lambda b: f"{b / 1024:.1f} KiB"
print("| item | value | goal |")
print("|---|---:|---:|")
if flash is not None:
    print(f"| whole firmware, flash (text + data) | {flash} B ({kib(flash)}) | ≤ 160 KiB |")
if ram is not None:
    print(f"| whole firmware, RAM (data + bss + {stack_res} B stack) | {ram} B ({kib(ram)}) | ≤ 96 KiB |")
print(f"| heap | {'none: no allocator linked' if noalloc else 'ALLOCATOR LINKED'} | zero |")
for name, what in (("wolf_pool", "wolfSSL static pool (WOLFSSL_STATIC_MEMORY)"),
                   ("g_ctx", "picoacme_ctx_t (the engine's one RAM block)"),
                   ("lwip_tp", "lwIP transport (4 connections, receive rings)")):
    if name in sym:
        print(f"| of the RAM: {what} | {sym[name]} B | — |")
if pool:
    print(f"| wolfSSL pool peak in one enrolment (bytes ever touched) | {pool.group(1)} of {pool.group(2)} B | ≤ pool |")
    print(f"| peak stack, whole firmware (painted; TLS handshake + ECDSA inside picoacme_step) | {pool.group(3)} B | ≤ {stack_res} B reserved |")
if core_stack is not None:
    print(f"| engine stack, core only (worst case of picoacme_step, -fcallgraph-info, firmware profile) | {core_stack} B | ≤ 4096 B beside wolfSSL's |")
if enr:
    print(f"| one enrolment in the emulator (issue_start .. stored; {enr.group(2)} requests, {enr.group(4)} TLS handshake) | {int(enr.group(1)) / 1000:.2f} s | — |")
if addr:
    print(f"| boot to DHCP address | {int(addr.group(1)) / 1000:.2f} s | — |")
if rc != "0" or not enr:
    print()
    print(f"The enrolment did not complete (QEMU exit {rc}); see the console in {console}.")
print()
print("QEMU mps2-an385 emulates the Cortex-M3 without cycle timing: the enrolment time is")
print("the emulator's on this host, not a 25 MHz board's. Flash goal: text + data of fw.elf;")
print("RAM goal: data + bss + the stack reservation (the link fails beyond 160 / 96 KiB).")
PY
}
fw_bench

# ==== the FreeRTOS sample (platform/freertos-mps2, Cortex-M3) ================
# The keeper-only image (FreeRTOS V11.3.0 static, lwIP threaded + sockets,
# ports/bsdsock, wolfSSL): per-part flash/RAM from its link map
# (tests/qemu/fw_footprint.py --freertos), the task stack marks and one
# enrolment, both printed by the image in QEMU (tests/qemu/run_freertos.sh).
freertos_bench() {
    local fb=$REPO/build-freertos-bench out t
    echo
    echo "## FreeRTOS sample (platform/freertos-mps2)"
    echo
    out=$(FW_BUILD=$fb bash "$REPO/tests/qemu/run_freertos.sh" enroll https 2>&1)
    case $out in *"PASS enroll"*) ;; *) echo "not measured: $(echo "$out" | tail -n 3)"; return ;; esac
    echo "Keeper-only image (goal <= 160 KiB flash, <= 96 KiB RAM):"
    echo
    python3 "$REPO/tests/qemu/fw_footprint.py" --freertos "$fb/fw"
    echo
    grep -E 'flash:|ram:' "$fb/qemu-tests/build-main.log" | sed 's/^ */    /'
    if [ -f "$fb/fw-https/fw.map" ]; then
        echo
        echo "Image with the HTTPS status server (FW_HTTPS, goal <= 192 KiB flash, <= 128 KiB RAM):"
        echo
        python3 "$REPO/tests/qemu/fw_footprint.py" --freertos "$fb/fw-https"
        echo
        grep -E 'flash:|ram:' "$fb/qemu-tests/build-https.log" | sed 's/^ */    /'
    fi
    for t in enroll/console-enroll https/console-https; do
        [ -f "$fb/qemu-tests/$t.log" ] || continue
        echo
        echo "Task stacks, ${t%%/*} run (high-water mark printed by the image at exit):"
        echo
        echo "| task | stack used | reserved |"
        echo "|---|---:|---:|"
        sed -n 's/^fw: stack \(\S*\) *\([0-9]*\) of *\([0-9]*\) bytes used$/| \1 | \2 B | \3 B |/p' \
            "$fb/qemu-tests/$t.log"
        echo
        grep -E '^(ENROLLED|RENEWED|fw: address)' "$fb/qemu-tests/$t.log"
    done
    echo
    echo "$out" | grep -E '^(PASS|FAIL)'
    echo
    echo "All memory is static (task stacks, kernel objects, lwIP and wolfSSL pools); the link"
    echo "enforces both budgets. ENROLLED: ms from the keeper's start (DHCP done) to the stored"
    echo "certificate; RENEWED: ms after the previous issuance (the keeper's own plan)."
}
freertos_bench

# Line coverage per core file, from the committed fuzz corpora and from the
# tests (scripts/coverage.sh, about 4 minutes; BENCH_COVERAGE=0 skips it).
if [ "${BENCH_COVERAGE:-1}" != 0 ]; then
    echo
    echo "## line coverage of core/src (scripts/coverage.sh)"
    echo
    bash "$REPO/scripts/coverage.sh" || log "coverage failed"
fi

# Fleet figures (issue 8): 10,000 certificate keepers on a simulated clock
# against a fake CA that counts requests per minute (tests/fleet/fleet_sim.c),
# 24-hour certificates, 7 days, peak-to-mean over the last 5 days. About
# 15-25 s of CPU per row, ~2 min for the six; BENCH_FLEET=0 skips it,
# BENCH_FLEET_N sets the size.
fleet_bench() {
    local n=${BENCH_FLEET_N:-10000} sim=$BUILD/tests/fleet/fleet_sim args
    cmake --build "$BUILD" --target fleet_sim >&2 || { log "fleet_sim build failed"; return; }
    echo
    echo "## fleet: $n keepers, 24-hour certificates, 7 simulated days (tests/fleet/fleet_sim.c)"
    echo
    echo "| scenario | devices | mean req/min (last 5 d) | peak req/min | peak-to-mean | peak in the hour after recovery | worst minute of the day after, x mean | requests/device/day | refused connections | Poisson peak-to-mean at that rate |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for args in "-s a" "-s a -I" "-s a -A" "-s b -I" "-s b -I -C 175" "-s c -I -R"; do
        log "fleet_sim $args"
        "$sim" -q -n "$n" $args -t "$WORK" || log "fleet_sim $args failed"
    done
    echo
    echo "Random phases: each device draws its renewal phase; the fleet's renewals are"
    echo "then independent, a minute's count is a Poisson count, and the busiest of the"
    echo "7,200 minutes of 5 days is expected at about 2.3x the mean (last column: that"
    echo "expectation for the measured rate), whatever each device's policy. Only"
    echo "coordination lowers it. Fleet-indexed: the keeper's fleet_index (a serial"
    echo "number) puts device i at i x the golden ratio of the period. ARI: the fake CA"
    echo "gives each certificate a 60 s window in its least busy minute and Retry-After"
    echo "until it. (b): the CA refuses connections for 6 h on day 3; the first minutes"
    echo "after it would carry the fleet's renewals plus one retry per failed device for"
    echo "each retry level that fits in the outage (3.4x); a retry after the CA did not"
    echo "answer is a directory GET, and once the CA answers it the renewal waits a"
    echo "random point before the next retry, at most half the remaining life (the"
    echo "backlog spreads over hours). -C 175: the CA also answers a"
    echo "newOrder with 503 and Retry-After 60-600 s in a minute past 175 requests (the"
    echo "503 answers count). (c): every device off for 1 h on day 3, all booting in the"
    echo "same minute (no RTC: each learns the time from the CA first), boot_spread_s"
    echo "7200: the time question waits 0-2 h, an overdue renewal the rest of the 2 h and"
    echo "then 0-4 h (at most half the remaining life); a numbered fleet spreads both"
    echo "from its phases (evenly), others at random. Backoff after failures: 1 h, then"
    echo "x8 up to 8 h, jitter [3/4, 1], at most 2/3 of the certificate's remaining life."
}
if [ "${BENCH_FLEET:-1}" != 0 ]; then
    fleet_bench
fi
# Keys in hardware (issue 11): issuance and signature with software keys,
# SoftHSM2 and swtpm as ratios (its own build dir, build-hwkeys/: the
# command with -DPICOACME_HWKEYS=ON links dynamically)
if [ "${BENCH_HWKEYS:-1}" != 0 ]; then
    bash "$REPO/scripts/bench/hwkeys.sh" || log "hardware keys section failed"
fi
