# pebble2_env.sh -- sourceable bash library: Pebble 2.10.1 (ACME Renewal
# Information RFC 9773, certificate profiles, ECDSA issuing chains) on
# loopback, for the e2e.pebble2-* cases. Built by ../shared/ca/build-pebble.sh;
# scripts/test.sh exports its directory as PICOACME_PEBBLE2_DIR.
#
#   . tests/e2e/pebble_env.sh; . tests/e2e/pebble2_env.sh
#   pebble2_available || { echo "skipped: no Pebble >= 2.6"; exit 0; }
#   pebble2_start WORKDIR [NAME=VALUE ...]   # as pebble_start, with 2.10.1's binaries
#   pebble2_set_renewal_info LEAF_PEM JSON    # the CA's answer for that certificate
#
# Knobs as pebble_env.sh (PEBBLE_EXTRA_CONFIG for "profiles"/"keyAlgorithm";
# PEBBLE_CHAIN_LENGTH=N as a NAME=VALUE of pebble's environment).

pebble2_available() {
    [ -n "${PICOACME_PEBBLE2_DIR:-}" ] && [ -x "$PICOACME_PEBBLE2_DIR/pebble" ] \
        && [ -x "$PICOACME_PEBBLE2_DIR/pebble-challtestsrv" ]
}

# pebble2_start WORKDIR [NAME=VALUE ...]: pebble_start with 2.10.1's pebble
# (Debian's pebble-challtestsrv stays: 2.10.1's has other flags)
pebble2_start() {
    mkdir -p "$1.bin" && ln -sf "$PICOACME_PEBBLE2_DIR/pebble" "$1.bin/pebble" || return 1
    PATH="$1.bin:$PATH" pebble_start "$@"
}

# pebble2_set_renewal_info LEAF_PEM JSON: POST /set-renewal-info/ on the
# management port: renewalInfo for that certificate answers JSON from now on.
pebble2_set_renewal_info() {
    python3 - "$1" "$2" "https://127.0.0.1:$PEBBLE_MGMT_PORT/set-renewal-info/" "$PEBBLE_TLS_ROOT" <<'PY'
import json, ssl, sys, urllib.request
leaf, ari, url, root = sys.argv[1:5]
body = json.dumps({"Certificate": open(leaf).read(), "ARIResponse": ari}).encode()
ctx = ssl.create_default_context(cafile=root)
req = urllib.request.Request(url, data=body, method="POST")
with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
}

# pebble2_rfc3339 OFFSET_S: now + OFFSET_S as RFC 3339 UTC
pebble2_rfc3339() {
    date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ
}
