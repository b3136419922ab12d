#!/usr/bin/env bash
# install_consumer.sh BUILD_DIR SOURCE_DIR - ctest config.install_consumer.
# Installs BUILD_DIR into a temporary prefix, then builds tests/consumer
# (a project outside the tree) against it twice: with find_package(picoacme)
# and with `pkg-config --cflags --libs picoacme`; each program must run and
# pass. Also checks that no installed header needs jsmn.h and that nothing
# installed points back into the source or build tree.
# Env: CC (compiler for the consumer, default cc), KEEP=1 keeps the prefix.
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
cc=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/picoacme-install.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "FAIL: $*"; exit 1; }

echo "== cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 \
    || { cat "$tmp/install.log"; fail "cmake --install"; }
for f in picoacme.h picoacme_port.h picoacme_posix.h picoacme_wolfssl.h; do
    [ -f "$prefix/include/picoacme/$f" ] || fail "include/picoacme/$f not installed"
done
for l in core posix wolfssl; do
    ls "$prefix"/lib*/libpicoacme_$l.a "$prefix"/lib/*/libpicoacme_$l.a >/dev/null 2>&1 \
        || [ -n "$(find "$prefix" -name "libpicoacme_$l.a")" ] || fail "libpicoacme_$l.a not installed"
done
cfg=$(find "$prefix" -name picoacmeConfig.cmake | head -n 1)
pc=$(find "$prefix" -name picoacme.pc | head -n 1)
[ -n "$cfg" ] || fail "picoacmeConfig.cmake not installed"
[ -n "$pc" ] || fail "picoacme.pc not installed"
[ -n "$(find "$prefix" -name picoacmeConfigVersion.cmake)" ] || fail "picoacmeConfigVersion.cmake not installed"
if grep -rn '#include[[:space:]]*[<"]jsmn.h' "$prefix/include"; then
    fail "an installed header includes jsmn.h (not installed: private to the core)"
fi
if grep -rln -e "$src" -e "$build" "$prefix" --include='*.cmake' --include='*.pc' --include='*.h'; then
    fail "installed files name the source or build tree"
fi

echo "== find_package(picoacme): tests/consumer"
cmake -S "$src/tests/consumer" -B "$tmp/consumer" -DCMAKE_C_COMPILER="$cc" \
      -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
      >"$tmp/consumer-cmake.log" 2>&1 || { cat "$tmp/consumer-cmake.log"; fail "consumer configure"; }
cmake --build "$tmp/consumer" >"$tmp/consumer-build.log" 2>&1 \
    || { cat "$tmp/consumer-build.log"; fail "consumer build"; }
"$tmp/consumer/consumer" "$tmp/state-cmake.bin" || fail "consumer (find_package) run"

echo "== pkg-config --cflags --libs picoacme"
export PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
flags=$(pkg-config --cflags --libs picoacme) || fail "pkg-config picoacme"
echo "pkg-config: $flags"
# pkg-config quotes for a shell (as a Makefile recipe passes it on):
# -DPICOACME_CONFIG_FILE=\"picoacme_build_config.h\" when the library was
# built with a config file
eval "set -- $flags"
"$cc" -std=c11 -Wall -Wextra -Werror -o "$tmp/consumer-pc" "$src/tests/consumer/main.c" "$@" \
    || fail "consumer (pkg-config) compile"
"$tmp/consumer-pc" "$tmp/state-pc.bin" || fail "consumer (pkg-config) run"
echo "PASS: installed picoacme works with find_package and pkg-config"
