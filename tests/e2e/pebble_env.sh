# pebble_env.sh -- sourceable bash library: a Pebble internal ACME CA on loopback.
#
#   . tests/e2e/pebble_env.sh
#   pebble_start WORKDIR [NAME=VALUE ...]   # extra NAME=VALUE go to pebble's env
#   ...                                     # use the PEBBLE_* variables below
#   pebble_stop
#
# pebble_start
#   (a) makes with openssl an ECDSA P-256 root (WORKDIR/tls-root.pem) and the
#       WFE TLS certificate for DNS:localhost + IP:127.0.0.1 (+ PEBBLE_WFE_NAMES)
#       signed by it;
#   (b) writes WORKDIR/pebble-config.json;
#   (c) starts pebble-challtestsrv with only its DNS server, answering
#       127.0.0.1 (A) and nothing (AAAA) for every name;
#   (d) starts pebble -strict against that DNS server with PEBBLE_VA_NOSLEEP=1,
#       waits for the directory and saves Pebble's issuing root (management
#       /roots/0) to WORKDIR/pebble-root.pem.
#
# Caller knobs (environment, read by pebble_start):
#   PEBBLE_WFE_NONCEREJECT   percentage of good nonces rejected (Pebble's own
#                            default, 5, when unset)
#   PEBBLE_CERT_VALIDITY     certificateValidityPeriod in seconds (Pebble's
#                            default when unset)
#   PEBBLE_START_TIMEOUT     seconds to wait for the directory (default 30)
#   PEBBLE_WFE_NAMES         extra DNS names (space separated) in the WFE
#                            certificate, e.g. the name an emulated device
#                            uses for the CA (default: none)
#   PEBBLE_EXTRA_CONFIG      raw JSON members appended to the "pebble" object of
#                            the config (e.g. profiles, keyAlgorithm for
#                            Pebble 2.10.1, pebble2_env.sh)
#   PEBBLE_DNS_SERVER        HOST:PORT of a DNS server already running (e.g.
#                            BIND from bind_env.sh, 127.0.0.1:$BIND_PORT) for
#                            Pebble's validator: then (c) is skipped (no
#                            challtestsrv, PEBBLE_CTS_PID empty) and the server
#                            must resolve the test names itself (default:
#                            unset, challtestsrv as above)
#
# Exported after pebble_start:
#   PEBBLE_DIR_URL       https://127.0.0.1:<wfe>/dir
#   PEBBLE_TLS_ROOT      root the WFE certificate chains to (give to clients)
#   PEBBLE_ISSUER_ROOT   Pebble's issuing root (verify issued chains with it)
#   PEBBLE_WFE_PORT PEBBLE_MGMT_PORT PEBBLE_HTTP01_PORT PEBBLE_TLSALPN_PORT
#   PEBBLE_DNS_PORT PEBBLE_CTS_MGMT_PORT PEBBLE_WORKDIR
#
# Everything listens on 127.0.0.1 only. Ports are picked free by the kernel
# (bind to port 0, TCP and UDP both free), all distinct.

# pebble_free_ports N: print N distinct ports free on 127.0.0.1 for TCP and UDP.
pebble_free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
n = int(sys.argv[1]); held = []; ports = []
while len(ports) < n:
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p))
    except OSError:
        t.close(); u.close(); continue
    held += [t, u]; ports.append(p)
print(" ".join(map(str, ports)))
for s in held:
    s.close()
EOF
}

# pebble_make_root DIR NAME CN: ECDSA P-256 self-signed CA -> DIR/NAME.pem, DIR/NAME.key
pebble_make_root() {
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$1/$2.key" -out "$1/$2.pem" -days 3650 -subj "/CN=$3" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1
}

pebble_log() { echo "pebble_env: $*" >&2; }

pebble_start() {
    local wd=$1; shift
    if [ -z "$wd" ]; then pebble_log "usage: pebble_start WORKDIR [NAME=VALUE ...]"; return 2; fi
    mkdir -p "$wd" || return 1
    wd=$(cd "$wd" && pwd)
    export PEBBLE_WORKDIR=$wd

    # (a) WFE TLS: our own P-256 root and a localhost/127.0.0.1 leaf.
    pebble_make_root "$wd" tls-root "picoacme e2e WFE root" || { pebble_log "openssl root failed"; return 1; }
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$wd/wfe.key" -out "$wd/wfe.csr" -subj "/CN=localhost" >/dev/null 2>&1 \
        || { pebble_log "openssl wfe csr failed"; return 1; }
    local san="DNS:localhost,IP:127.0.0.1" n
    for n in ${PEBBLE_WFE_NAMES:-}; do san="$san,DNS:$n"; done
    cat >"$wd/wfe.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san
EOF
    openssl x509 -req -in "$wd/wfe.csr" -CA "$wd/tls-root.pem" -CAkey "$wd/tls-root.key" \
        -CAcreateserial -days 825 -sha256 -extfile "$wd/wfe.ext" -out "$wd/wfe.pem" >/dev/null 2>&1 \
        || { pebble_log "openssl wfe cert failed"; return 1; }
    export PEBBLE_TLS_ROOT=$wd/tls-root.pem
    export PEBBLE_ISSUER_ROOT=$wd/pebble-root.pem

    # Ports: wfe mgmt http01 tlsalpn dns cts-mgmt.
    local ports
    ports=$(pebble_free_ports 6) || { pebble_log "no free ports"; return 1; }
    read -r PEBBLE_WFE_PORT PEBBLE_MGMT_PORT PEBBLE_HTTP01_PORT PEBBLE_TLSALPN_PORT \
        PEBBLE_DNS_PORT PEBBLE_CTS_MGMT_PORT <<<"$ports"
    export PEBBLE_WFE_PORT PEBBLE_MGMT_PORT PEBBLE_HTTP01_PORT PEBBLE_TLSALPN_PORT \
        PEBBLE_DNS_PORT PEBBLE_CTS_MGMT_PORT
    export PEBBLE_DIR_URL=https://127.0.0.1:$PEBBLE_WFE_PORT/dir

    # (b) Pebble config. Go's JSON decoding matches these keys case-insensitively.
    local validity=""
    if [ -n "${PEBBLE_CERT_VALIDITY:-}" ]; then
        validity=$(printf ',\n    "certificateValidityPeriod": %d' "$PEBBLE_CERT_VALIDITY")
    fi
    # PEBBLE_EAB_KID / PEBBLE_EAB_KEY (base64url): External Account Binding required
    local eab_required=false eab_keys=""
    if [ -n "${PEBBLE_EAB_KID:-}" ]; then
        eab_required=true
        eab_keys=$(printf ',\n    "externalAccountMACKeys": { "%s": "%s" }' "$PEBBLE_EAB_KID" "$PEBBLE_EAB_KEY")
    fi
    cat >"$wd/pebble-config.json" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:$PEBBLE_WFE_PORT",
    "managementListenAddress": "127.0.0.1:$PEBBLE_MGMT_PORT",
    "certificate": "$wd/wfe.pem",
    "privateKey": "$wd/wfe.key",
    "httpPort": $PEBBLE_HTTP01_PORT,
    "tlsPort": $PEBBLE_TLSALPN_PORT,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": $eab_required$validity$eab_keys${PEBBLE_EXTRA_CONFIG:+,
    $PEBBLE_EXTRA_CONFIG}
  }
}
EOF

    # (c) challtestsrv: DNS only, every name -> 127.0.0.1, no AAAA (unless the
    #     caller brings its own DNS server).
    local dns_server=${PEBBLE_DNS_SERVER:-127.0.0.1:$PEBBLE_DNS_PORT}
    PEBBLE_CTS_PID=""
    if [ -z "${PEBBLE_DNS_SERVER:-}" ]; then
        pebble-challtestsrv \
            -dns01 "127.0.0.1:$PEBBLE_DNS_PORT" \
            -http01 "" -https01 "" -tlsalpn01 "" \
            -management "127.0.0.1:$PEBBLE_CTS_MGMT_PORT" \
            -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
            >"$wd/challtestsrv.log" 2>&1 &
        PEBBLE_CTS_PID=$!
    fi

    # (d) pebble.
    local -a penv=(PEBBLE_VA_NOSLEEP=1)
    if [ -n "${PEBBLE_WFE_NONCEREJECT:-}" ]; then
        penv+=("PEBBLE_WFE_NONCEREJECT=$PEBBLE_WFE_NONCEREJECT")
    fi
    penv+=("$@")
    env "${penv[@]}" pebble -config "$wd/pebble-config.json" \
        -dnsserver "$dns_server" -strict \
        >"$wd/pebble.log" 2>&1 &
    PEBBLE_PID=$!
    printf '%s\n' "$PEBBLE_CTS_PID" >"$wd/challtestsrv.pid"
    printf '%s\n' "$PEBBLE_PID" >"$wd/pebble.pid"

    local deadline=$(( $(date +%s) + ${PEBBLE_START_TIMEOUT:-30} ))
    until curl -sf --max-time 2 --cacert "$PEBBLE_TLS_ROOT" "$PEBBLE_DIR_URL" >"$wd/dir.json" 2>/dev/null; do
        if ! kill -0 "$PEBBLE_PID" 2>/dev/null \
           || { [ -n "$PEBBLE_CTS_PID" ] && ! kill -0 "$PEBBLE_CTS_PID" 2>/dev/null; } \
           || [ "$(date +%s)" -ge "$deadline" ]; then
            pebble_log "pebble did not come up; logs:"
            tail -n 20 "$wd/pebble.log" "$wd/challtestsrv.log" >&2
            pebble_stop
            return 1
        fi
        sleep 0.1
    done
    # The DNS server must answer too before any validation is attempted (a
    # caller's own server was checked by the caller).
    until [ -n "${PEBBLE_DNS_SERVER:-}" ] || python3 - "$PEBBLE_DNS_PORT" <<'EOF'
import socket, sys
q = bytes.fromhex("12340100000100000000000004706f6e6708696e7465726e616c0000010001")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.5)
s.sendto(q, ("127.0.0.1", int(sys.argv[1])))
r = s.recv(512)
sys.exit(0 if r[:2] == b"\x12\x34" and r[6:8] != b"\x00\x00" and bytes([0, 4, 127, 0, 0, 1]) in r else 1)
EOF
    do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            pebble_log "challtestsrv DNS did not answer"; pebble_stop; return 1
        fi
        sleep 0.1
    done
    if ! curl -sf --max-time 5 --cacert "$PEBBLE_TLS_ROOT" \
            "https://127.0.0.1:$PEBBLE_MGMT_PORT/roots/0" -o "$PEBBLE_ISSUER_ROOT"; then
        pebble_log "cannot fetch Pebble's issuing root"; pebble_stop; return 1
    fi
    export PEBBLE_PID PEBBLE_CTS_PID
    return 0
}

pebble_stop() {
    local p
    for p in ${PEBBLE_PID:-} ${PEBBLE_CTS_PID:-}; do
        if kill -0 "$p" 2>/dev/null; then
            kill "$p" 2>/dev/null
            wait "$p" 2>/dev/null
        fi
    done
    PEBBLE_PID=""; PEBBLE_CTS_PID=""
    return 0
}
