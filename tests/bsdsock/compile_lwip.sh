#!/usr/bin/env bash
# compile_lwip.sh REPO OUTDIR - compile ports/lwip/src/tcp.c for threaded
# lwIP (NO_SYS 0, core locking), and ports/bsdsock/src/bsdsock.c and
# resolve_lwip.c with PICOACME_BSDSOCK_LWIP against lwIP 2.1.3's socket API
# (threaded lwIP: lwip_socket(), lwip_poll(), the DNS client under the core
# lock), -Wall -Wextra -Werror, for the host and, when arm-none-eabi-gcc is
# there, for Cortex-M3. The lwIP source: $LWIP_SRC, else REPO/build-deps/lwip-*
# (scripts/fw-deps.sh); without it: "skipped", exit 77.
set -eu
repo=$1
out=$2
lwip=${LWIP_SRC:-$(ls -d "$repo"/build-deps/lwip-*/ 2>/dev/null | tail -n 1)}
lwip=${lwip%/}
if [ -z "$lwip" ] || [ ! -f "$lwip/src/include/lwip/sockets.h" ]; then
    echo "skipped: no lwIP source (scripts/fw-deps.sh unpacks it into build-deps/)"
    exit 77
fi
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
inc=(-I"$here/lwip_host" -I"$lwip/src/include" -I"$repo/ports/bsdsock/include"
     -I"$repo/core/include/picoacme")
flags=(-std=c11 -Wall -Wextra -Werror -DPICOACME_BSDSOCK_LWIP)
compile() {
    local cc=$1; shift
    for f in bsdsock resolve_lwip; do
        "$cc" "${flags[@]}" "$@" "${inc[@]}" -c "$repo/ports/bsdsock/src/$f.c" \
            -o "$out/$f-$(basename "$cc").o"
        echo "ok: $cc $f.c (PICOACME_BSDSOCK_LWIP)"
    done
}
compile "${CC:-cc}"
if command -v arm-none-eabi-gcc >/dev/null; then
    compile arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb -Os --specs=picolibc.specs
fi
# ports/lwip (raw API) in threaded mode: its calls under the tcpip core lock
"${CC:-cc}" "${flags[@]}" "${inc[@]}" -I"$repo/ports/lwip/include" -Wconversion \
    -c "$repo/ports/lwip/src/tcp.c" -o "$out/lwip-tcp-threaded.o"
nm -u "$out/lwip-tcp-threaded.o" | grep -q 'sys_mutex_lock' \
    || { echo "FAIL: ports/lwip in threaded mode does not take the core lock"; exit 1; }
echo "ok: ports/lwip/src/tcp.c with NO_SYS 0 (calls under LOCK_TCPIP_CORE)"
# the names the object needs: lwIP's socket API, not the libc's
nm -u "$out/bsdsock-$(basename "${CC:-cc}").o" | grep -q 'lwip_poll' \
    || { echo "FAIL: bsdsock.o does not call lwip_poll"; exit 1; }
if nm -u "$out/bsdsock-$(basename "${CC:-cc}").o" | grep -qwE 'poll|socket|connect'; then
    echo "FAIL: bsdsock.o calls libc socket functions"; exit 1
fi
echo "PASS: ports/bsdsock compiles against lwIP's socket API"
