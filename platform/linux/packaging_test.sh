#!/usr/bin/env bash
# packaging_test.sh -- checks of what platform/linux/ ships around the
# command: man pages, bash completion, systemd unit, OpenWrt init script,
# the Debian package.
#
#   bash platform/linux/packaging_test.sh BUILD_DIR CASE
#
#   man         both pages format without warnings; picoacme(1) names every
#               option of `picoacme --help`
#   completion  bash completes the subcommands and every --help option
#   systemd     systemd-analyze verify of picoacme.service (ExecStart pointed
#               at the built binary), with its dedicated user, capability,
#               StateDirectory and sandboxing
#   openwrt     the procd script parses (sh -n); its UCI -> INI conversion of
#               picoacme.uci (UCI functions stubbed) is a config picoacme reads
#   deb         dpkg-buildpackage builds the package from a copy of the tree;
#               `dpkg -x` unpacks it into a temporary root (nothing is
#               installed on this machine); the unit's ExecStart line, with
#               the unpacked binary and a config for Pebble, issues once
# Prints PASS/FAIL (or "skipped: why", exit 77).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "$1" && pwd) || exit 2
CASE=$2
BIN=$BUILD/platform/linux/picoacme
WORK=$BUILD/tests/packaging/$CASE
rm -rf "$WORK"; mkdir -p "$WORK"
fail() { echo "FAIL: $CASE: $*"; exit 1; }
pass() { echo "PASS: $CASE"; exit 0; }
skip() { echo "skipped: $*"; exit 77; }
help_opts() { "$BIN" --help | grep -o -- '--[a-z0-9-]*' | sort -u; }

case $CASE in
man)
    for p in picoacme.1 picoacme.conf.5; do
        out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$HERE/man/$p" 2>&1 >/dev/null)
        [ -z "$out" ] || fail "$p: $out"
    done
    for o in $(help_opts); do
        grep -qF -- "${o//-/\\-}" "$HERE/man/picoacme.1" || fail "picoacme(1) lacks $o"
    done
    # every key of the config file is in picoacme.conf(5) or is an option of picoacme(1)
    pass ;;
completion)
    [ -r /usr/share/bash-completion/bash_completion ] || skip "bash-completion not installed"
    for o in $(help_opts); do
        got=$(bash -c '. /usr/share/bash-completion/bash_completion; . "$1"
            COMP_WORDS=(picoacme run "$2"); COMP_CWORD=2; COMP_LINE="picoacme run $2"; COMP_POINT=${#COMP_LINE}
            _picoacme; printf "%s\n" "${COMPREPLY[@]}"' _ "$HERE/completion/picoacme" "$o")
        case $o in --json|--reason|--version) continue ;; esac
        printf '%s\n' "$got" | grep -qx -- "$o" || fail "run $o not completed: $got"
    done
    got=$(bash -c '. /usr/share/bash-completion/bash_completion; . "$1"
        COMP_WORDS=(picoacme st); COMP_CWORD=1; COMP_LINE="picoacme st"; COMP_POINT=11; _picoacme; echo "${COMPREPLY[*]}"' _ "$HERE/completion/picoacme")
    [ "$got" = status ] || fail "subcommand: $got"
    pass ;;
systemd)
    command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
    unit=$WORK/picoacme.service
    sed "s|/usr/bin/picoacme|$BIN|" "$HERE/systemd/picoacme.service" >"$unit"
    out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$unit" 2>&1)
    # the user exists only once the package is installed; everything else must be clean
    out=$(printf '%s\n' "$out" | grep -v -e "picoacme.service: User" -e '^$' || true)
    [ -z "$out" ] || fail "systemd-analyze verify: $out"
    for d in '^User=picoacme$' '^AmbientCapabilities=CAP_NET_BIND_SERVICE$' \
             '^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$' '^StateDirectory=picoacme$' \
             '^ProtectSystem=strict$' '^NoNewPrivileges=yes$' '^ExecReload=/bin/kill -HUP \$MAINPID$'; do
        grep -q "$d" "$unit" || fail "the unit lacks $d"
    done
    pass ;;
openwrt)
    sh -n "$HERE/openwrt/picoacme.init" || fail "sh -n"
    # UCI stubs: picoacme.uci read into shell variables, as /lib/functions.sh does
    conf=$WORK/picoacme.conf
    sh -c '
        eval "$(awk "
            /^config /{ s=\$3; gsub(/\x27/,\"\",s); print \"SECTIONS=\\\"\$SECTIONS \" s \"\\\"\" }
            /^[ \t]*(option|list) /{ v=\$0; sub(/^[ \t]*(option|list) [a-z0-9_]+ /,\"\",v); gsub(/\x27/,\"\",v)
                k=\$2; print \"CONFIG_\" s \"_\" k \"=\\\"\${CONFIG_\" s \"_\" k \":+\$CONFIG_\" s \"_\" k \" }\" v \"\\\"\" }" "$1")"
        config_load() { :; }
        config_get() { eval "$1=\"\${CONFIG_$2_$3:-}\""; }
        config_get_bool() { local v; eval "v=\${CONFIG_$2_$3:-$4}"; case $v in 1|on|true|yes) eval "$1=1";; *) eval "$1=0";; esac; }
        config_foreach() { for s in $SECTIONS; do "$1" "$s"; done; }
        procd_open_instance() { :; }
        . "$2"
        CONF=$3
        write_conf
    ' _ "$HERE/openwrt/picoacme.uci" "$HERE/openwrt/picoacme.init" "$conf" || fail "write_conf"
    grep -qx '\[certificate router\]' "$conf" || fail "no router section: $(cat "$conf")"
    ! grep -q 'certificate vpn' "$conf" || fail "the disabled section was written"
    grep -qx 'domain = openwrt.lan.example' "$conf" || fail "list domain lost: $(cat "$conf")"
    # picoacme reads it: the first error is a path of the router that does not exist here
    rc=0; "$BIN" run --config "$conf" 2>"$WORK/err" || rc=$?
    grep -q -e "--out /etc/picoacme/router" -e "--ca-root /etc/picoacme/ca-root.pem" "$WORK/err" \
        || fail "picoacme on the generated file: exit $rc: $(cat "$WORK/err")"
    pass ;;
deb)
    command -v dpkg-buildpackage >/dev/null || skip "dpkg-dev not installed"
    dpkg -s debhelper libinih-dev >/dev/null 2>&1 || skip "debhelper or libinih-dev not installed"
    . "$ROOT/tests/e2e/pebble_env.sh"
    src=$WORK/picoacme-0.1.0
    mkdir -p "$src"
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | grep -zv '^build' |
        xargs -0 cp --parents -t "$src") || fail "copy of the tree"
    [ -d "$ROOT/build-deps" ] && ln -s "$ROOT/build-deps" "$src/build-deps"
    cp -r "$src/platform/linux/debian" "$src/debian"
    (cd "$src" && dpkg-buildpackage -us -uc -b >"$WORK/build.log" 2>&1) \
        || fail "dpkg-buildpackage: $(tail -n 5 "$WORK/build.log")"
    deb=$(ls "$WORK"/picoacme_0.1.0-1_*.deb) || fail "no .deb"
    dpkg -x "$deb" "$WORK/root" || fail "dpkg -x"
    for f in usr/bin/picoacme usr/share/man/man1/picoacme.1.gz usr/share/man/man5/picoacme.conf.5.gz \
             usr/share/bash-completion/completions/picoacme lib/systemd/system/picoacme.service; do
        [ -e "$WORK/root/$f" ] || fail "the package lacks /$f"
    done
    dpkg-deb -I "$deb" postinst | grep -q 'adduser --system' || fail "no service user made by postinst"
    # the unit's command line against Pebble, with the unpacked binary
    pebble_start "$WORK/pebble" || fail "pebble did not start"
    trap pebble_stop EXIT
    cat >"$WORK/picoacme.conf" <<CONF
[certificate deb]
directory = $PEBBLE_DIR_URL
ca-root = $PEBBLE_TLS_ROOT
http01-port = $PEBBLE_HTTP01_PORT
names = deb.internal
state = $WORK/deb.state
out = $WORK/out
max-renewals = 1
CONF
    cmd=$(sed -n 's/^ExecStart=//p' "$WORK/root/lib/systemd/system/picoacme.service")
    cmd=${cmd//\/usr\/bin\/picoacme/$WORK/root/usr/bin/picoacme}
    cmd=${cmd//\/etc\/picoacme\/picoacme.conf/$WORK/picoacme.conf}
    echo "unit command line: $cmd"
    timeout 60 $cmd 2>"$WORK/run.err" || fail "the unit's command failed: $(tail -n 2 "$WORK/run.err")"
    openssl x509 -in "$WORK/out/cert.pem" -noout -ext subjectAltName | grep -q 'DNS:deb.internal' \
        || fail "no certificate for deb.internal"
    pass ;;
*) echo "unknown case $CASE" >&2; exit 2 ;;
esac
