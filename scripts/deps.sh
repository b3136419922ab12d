# deps.sh -- sourced by scripts/*.sh: install the Debian packages picoacme
# needs, only when something is missing (a warm machine never runs apt).
#
#   . scripts/deps.sh; picoacme_deps [EXTRA_PKG ...]

PICOACME_PKGS="build-essential cmake ninja-build pkg-config libwolfssl-dev
 libjsmn-dev libcmocka-dev pebble openssl python3 clang gcc-arm-none-eabi
 libnewlib-arm-none-eabi picolibc-arm-none-eabi curl uacme lego valgrind time
 bind9 bind9-utils bind9-dnsutils clang-format socat qemu-system-arm pmccabe strace
 python3-kconfiglib
 libinih-dev debhelper bash-completion systemd"
# keys in hardware (issue 11): the ports' headers and libraries, SoftHSM2 and
# swtpm with their tools, OpenSSL's pkcs11 engine and tpm2 provider, the TPM
# access broker on a private D-Bus (tests/e2e/run_hwkeys.sh)
PICOACME_HW_PKGS="libp11-kit-dev libtss2-dev softhsm2 opensc libengine-pkcs11-openssl swtpm
 swtpm-tools tpm2-tools tpm2-openssl tpm2-abrmd libtss2-tcti-tabrmd0 dbus"
PICOACME_PKGS="$PICOACME_PKGS $PICOACME_HW_PKGS"

picoacme_deps() {
    local p missing=""
    for p in $PICOACME_PKGS "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing="$missing $p"
    done
    [ -n "$missing" ] || return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "deps: installing$missing"
    $sudo apt-get update -q || return 1
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
}
