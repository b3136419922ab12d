#!/bin/sh
# fw-deps.sh - everything the qemu-mps2 firmware build needs, from Debian.
#
# Installs the cross toolchain, QEMU and socat, adds a deb-src entry for
# bookworm (same hosts and suites as the machine's own deb822 sources) if
# none is there, and unpacks the Debian source packages of wolfSSL and lwIP
# into build-deps/ (ignored by git: /build*/). Idempotent: a source tree
# already unpacked is kept. Prints the two source dirs as CMake cache vars.
#
#   scripts/fw-deps.sh [DEPS_DIR]     (default: <repo>/build-deps)
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
deps=${1:-$repo/build-deps}
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

need_pkgs=
for p in gcc-arm-none-eabi picolibc-arm-none-eabi libnewlib-arm-none-eabi \
         qemu-system-arm socat openssl cmake ninja-build dpkg-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || need_pkgs="$need_pkgs $p"
done

src_list=/etc/apt/sources.list.d/picoacme-src.sources
have_src=no
if grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    have_src=yes
fi
updated=no
if [ "$have_src" = no ]; then
    echo "fw-deps: adding $src_list"
    $SUDO tee "$src_list" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    $SUDO apt-get update -q
    updated=yes
fi

if [ -n "$need_pkgs" ]; then
    [ "$updated" = yes ] || $SUDO apt-get update -q
    echo "fw-deps: installing$need_pkgs"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need_pkgs
fi

mkdir -p "$deps"
cd "$deps"
for pkg in wolfssl lwip; do
    if ls -d "$pkg"-*/ >/dev/null 2>&1; then
        echo "fw-deps: $pkg already unpacked"
        continue
    fi
    # --download-only + dpkg-source -x keeps this working as any user.
    apt-get source --download-only "$pkg"
    dsc=$(ls "$pkg"_*.dsc | tail -n 1)
    dpkg-source --no-check -x "$dsc"
done

WOLFSSL_SRC=$(ls -d "$deps"/wolfssl-*/ | tail -n 1)
LWIP_SRC=$(ls -d "$deps"/lwip-*/ | tail -n 1)
echo "WOLFSSL_SRC=${WOLFSSL_SRC%/}"
echo "LWIP_SRC=${LWIP_SRC%/}"
