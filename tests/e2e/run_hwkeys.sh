#!/usr/bin/env bash
# run_hwkeys.sh -- keys that never leave hardware (issue 11): the picoacme
# command with its keys in a SoftHSM2 token (PKCS#11) or a swtpm TPM 2.0,
# against a Pebble internal CA on loopback (pebble_env.sh).
#
#   bash tests/e2e/run_hwkeys.sh BUILD_DIR CASE
#
#   pkcs11-renew    a token in a private SOFTHSM2_CONF: issue, then 5
#                   renewals. Each time: key.uri (no key.pem), the chain
#                   verifies, the leaf's public key is the token key's, the
#                   token keys are sensitive, never extractable and local, the
#                   state holds only references (no key TLV, no PEM key), the
#                   account is reused, and the token holds exactly the live
#                   objects. Then openssl s_server serves with the token key
#                   (libengine-pkcs11-openssl) and curl --cacert connects;
#                   revoke signs with the token account key, rollover is
#                   refused before anything is sent.
#   pkcs11-powercut SIGKILL (strace) at the k-th write to the state file of
#                   a renewal, k = 1, 2, ... until one runs through: the stored
#                   certificate's key is always in the token, and the next
#                   run leaves exactly the live objects.
#   pkcs11-errors   a wrong PIN, a token that is not there, a module that is
#                   not there: each exits 1 with a clear last line, the state
#                   and --out unchanged (byte for byte), no object added; the
#                   PIN from the environment; run restores a lost --out
#                   (key.uri) from the state without ordering.
#   tpm2-renew      swtpm on loopback TCP: issue and renew; key.uri is
#                   handle:0x...; the leaf's public key is the TPM key's
#                   (tpm2_readpublic); the state holds only the handles; only
#                   the live persistent handles remain; swtpm restarted on
#                   its state directory still signs (a third issuance). Then
#                   tpm2-abrmd on a private D-Bus, openssl s_server with the
#                   tpm2-openssl provider serves, curl --cacert connects.
#   tpm2-gone       the TPM (swtpm) is killed while a renewal waits for
#                   Pebble's validation: a clear error naming the TPM, the
#                   state and --out unchanged; then no TPM at all: the same.
#
# Missing packages are installed (scripts/deps.sh); nothing is skipped.
# Every server listens on 127.0.0.1. Work files: BUILD_DIR/tests/e2e/work/CASE.
set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
. "$E2E_DIR/pebble_env.sh"
. "$REPO/scripts/deps.sh"

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR CASE" >&2
    exit 2
fi
BUILD_DIR=$(cd "$1" && pwd) || exit 2
CASE=$2
PICOACME=$BUILD_DIR/platform/linux/picoacme
WORK=$BUILD_DIR/tests/e2e/work/hw-$CASE
PICOACME_TIMEOUT=${PICOACME_TIMEOUT:-120}
TOKEN=picoacme-test
PIN=4321
PIDS=()

fail() { echo "FAIL: $CASE: $*"; exit 1; }
pass() { echo "PASS: $CASE"; exit 0; }

cleanup() {
    local p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    pebble_stop
}
trap cleanup EXIT

picoacme_deps $PICOACME_HW_PKGS >&2 || fail "cannot install $PICOACME_HW_PKGS"
[ -x "$PICOACME" ] || fail "no $PICOACME"
"$PICOACME" issue --help | grep -q -- --pkcs11-module \
    || fail "picoacme built without hardware keys (-DPICOACME_HWKEYS=ON)"
rm -rf "$WORK"
mkdir -p "$WORK"

start_ca() {
    pebble_start "$WORK/pebble" "$@" >"$WORK/pebble-start.log" 2>&1 || fail "pebble did not start"
}

# issue NAME [extra args]: one issuance into WORK/out with WORK/state; status
# in RC, stderr in WORK/picoacme.err
issue() {
    local name=$1; shift
    RC=0
    timeout "$PICOACME_TIMEOUT" "$PICOACME" issue --directory "$PEBBLE_DIR_URL" \
        --ca-root "$PEBBLE_TLS_ROOT" --state "$WORK/state" \
        --http01-port "$PEBBLE_HTTP01_PORT" --out "$WORK/out" --domain "$name" "$@" \
        >"$WORK/picoacme.out" 2>"$WORK/picoacme.err" || RC=$?
}

last_err() { grep -v '^[[:space:]]*$' "$WORK/picoacme.err" | tail -n 1; }

# split_chain: WORK/out/cert.pem -> WORK/leaf.pem, WORK/rest.pem; verify it
split_chain() {
    awk -v leaf="$WORK/leaf.pem" -v rest="$WORK/rest.pem" '
        /-----BEGIN CERTIFICATE-----/ { n++ }
        n == 1 { print > leaf } n > 1 { print > rest }' "$WORK/out/cert.pem"
    local v
    v=$(openssl verify -CAfile "$PEBBLE_ISSUER_ROOT" -untrusted "$WORK/rest.pem" \
        "$WORK/leaf.pem" 2>&1)
    [ "$v" = "$WORK/leaf.pem: OK" ] || fail "openssl verify: $v"
}

# rec_read: the stored record's REC_TAGS, REC_ACCT, REC_CERT (hex) and its
# leaf in WORK/stored-leaf.pem
rec_read() {
    local v
    v=$(python3 "$E2E_DIR/hw_record.py" "$WORK/state" vars "$WORK/stored-leaf.pem") \
        || fail "no valid record in the state"
    eval "$v"
}

# no_private_bytes: the state has no key TLV (2, 4) and no PEM key, --out
# holds no PEM key and no key.pem (after rec_read)
no_private_bytes() {
    local tags=" $REC_TAGS "
    case $tags in *" 2 "*) fail "the state holds an account key scalar (TLV 2)" ;; esac
    case $tags in *" 4 "*) fail "the state holds a certificate key scalar (TLV 4)" ;; esac
    case $tags in *" 8 "*) ;; *) fail "the state holds no account key reference (TLV 8)" ;; esac
    case $tags in *" 9 "*) ;; *) fail "the state holds no certificate key reference (TLV 9)" ;; esac
    grep -aq 'PRIVATE KEY' "$WORK/state" && fail "a PEM private key in the state"
    grep -rlaq 'PRIVATE KEY' "$WORK/out/" && fail "a PEM private key in --out"
    [ -e "$WORK/out/key.pem" ] && fail "--out has a key.pem"
    return 0
}

# ---- SoftHSM2 ------------------------------------------------------------

softhsm_init() {
    P11_MODULE=$(for f in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
        [ -f "$f" ] && echo "$f" && break; done)
    [ -n "$P11_MODULE" ] || fail "libsofthsm2.so not found"
    mkdir -p "$WORK/tokens"
    printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
        "$WORK/tokens" >"$WORK/softhsm2.conf"
    export SOFTHSM2_CONF=$WORK/softhsm2.conf
    softhsm2-util --init-token --free --label "$TOKEN" --so-pin 87654321 --pin "$PIN" \
        >"$WORK/softhsm-init.log" 2>&1 || fail "softhsm2-util --init-token failed"
    printf '%s\n' "$PIN" >"$WORK/pin"
    chmod 600 "$WORK/pin"
    P11_ARGS=(--pkcs11-module "$P11_MODULE" --pkcs11-token "$TOKEN" --pkcs11-pin-file "$WORK/pin")
}

p11tool() {
    pkcs11-tool --module "$P11_MODULE" --token-label "$TOKEN" --login --pin "$PIN" "$@" 2>/dev/null
}

# the CKA_IDs (hex) of the objects of KIND (Private, Public) in the listing
# WORK/objects.txt (pkcs11-tool --list-objects), sorted
token_ids() {
    awk -v kind="$1" '/ Key Object/ { cur = $1 } /^ *ID:/ && cur == kind { print $2 }' \
        "$WORK/objects.txt" | sort
}

# uri_id: the id of key.uri as plain hex
uri_id() {
    sed -n 's/.*;id=\([^;]*\);.*/\1/p' "$WORK/out/key.uri" | tr -d '%\n'
}

# pkcs11_check: one issuance's checks (see the header)
pkcs11_check() {
    [ -s "$WORK/out/key.uri" ] || fail "no key.uri"
    grep -q "^pkcs11:token=$TOKEN;object=picoacme-cert;id=%[0-9a-f%]*;type=private\$" \
        "$WORK/out/key.uri" || fail "key.uri: $(cat "$WORK/out/key.uri")"
    split_chain
    rec_read
    no_private_bytes
    local id acct
    id=$(uri_id)
    [ "$id" = "$REC_CERT" ] || fail "key.uri id $id is not the state's $REC_CERT"
    acct=$REC_ACCT
    # the leaf's public key is the token key's
    p11tool --read-object --type pubkey --id "$id" -o "$WORK/tokpub.der" >/dev/null \
        || fail "no public key with id $id in the token"
    [ "$(openssl pkey -pubin -inform DER -in "$WORK/tokpub.der" -pubout)" = \
      "$(openssl x509 -in "$WORK/leaf.pem" -noout -pubkey)" ] \
        || fail "the certificate's public key is not the token key's"
    # exactly the live objects: the account's and this certificate's pairs
    local want
    want=$(printf '%s\n%s\n' "$acct" "$id" | sort)
    p11tool --list-objects >"$WORK/objects.txt" || fail "pkcs11-tool --list-objects failed"
    [ "$(token_ids Private)" = "$want" ] || fail "private keys in the token: $(token_ids Private | tr '\n' ' '), want $(echo $want)"
    [ "$(token_ids Public)" = "$want" ] || fail "public keys in the token: $(token_ids Public | tr '\n' ' ')"
    [ "$(grep -c ' Object' "$WORK/objects.txt")" -eq 4 ] || fail "other objects in the token"
    # sensitive, never extractable, generated in the token
    local n
    n=$(grep -c 'Access: *sensitive, always sensitive, never extractable, local' "$WORK/objects.txt")
    [ "$n" -eq 2 ] || fail "$n of 2 private keys are sensitive, never extractable and local"
}

serve_check() { # PORT: curl --cacert Pebble's root reaches the server
    local port=$1 i
    for i in $(seq 1 50); do
        if curl -sS --max-time 5 --cacert "$PEBBLE_ISSUER_ROOT" \
            --resolve "$SERVE_NAME:$port:127.0.0.1" "https://$SERVE_NAME:$port/" \
            -o "$WORK/served.html" 2>"$WORK/curl.err"; then
            grep -q 'TLSv1.3' "$WORK/served.html" || fail "s_server page lacks TLSv1.3"
            return 0
        fi
        sleep 0.2
    done
    fail "curl could not reach the TLS server: $(cat "$WORK/curl.err")"
}

case "$CASE" in
pkcs11-config)
    # the keys of the config file (with '_' for '-'): run --config issues
    # into the token; TPM and PKCS#11 together, or a second certificate
    # beside one with keys in hardware, are refused before anything is opened
    start_ca
    softhsm_init
    conf=$WORK/picoacme.conf
    section() {
        printf '[certificate %s]\ndirectory = %s\nca-root = %s\nhttp01-port = %s\n' \
            "$1" "$PEBBLE_DIR_URL" "$PEBBLE_TLS_ROOT" "$PEBBLE_HTTP01_PORT"
        printf 'domain = %s.internal\nstate = %s\nout = %s\nmax-renewals = 1\n' \
            "$1" "$WORK/$2" "$WORK/$3"
    }
    hw() {
        printf 'pkcs11_module = %s\npkcs11_token = %s\npkcs11_pin_file = %s\n' \
            "$P11_MODULE" "$TOKEN" "$WORK/pin"
    }
    run_conf() {
        RC=0
        timeout "$PICOACME_TIMEOUT" "$PICOACME" run --config "$conf" \
            >"$WORK/picoacme.out" 2>"$WORK/picoacme.err" || RC=$?
    }
    { section conf state out; hw; echo "tpm2_tcti = swtpm:host=127.0.0.1,port=1"; } >"$conf"
    run_conf
    [ $RC -eq 2 ] || fail "tpm2_tcti with pkcs11_*: exit $RC"
    last_err | grep -q 'exclude each other' || fail "tpm2_tcti with pkcs11_*: $(last_err)"
    { section conf state out; hw; section other state2 out2; } >"$conf"
    run_conf
    [ $RC -eq 2 ] || fail "two certificates, one with token keys: exit $RC"
    last_err | grep -q 'one \[certificate\] section' || fail "two certificates: $(last_err)"
    [ -e "$WORK/state" ] && fail "a refused file made a state"
    { section conf state out; hw; } >"$conf"
    run_conf
    [ $RC -eq 0 ] || fail "run --config exited $RC: $(last_err)"
    pkcs11_check
    pass ;;
pkcs11-renew)
    start_ca
    softhsm_init
    issue hsm.internal "${P11_ARGS[@]}"
    [ $RC -eq 0 ] || fail "issue exited $RC: $(last_err)"
    pkcs11_check
    acct0=$REC_ACCT
    id_prev=$(uri_id)
    for r in 1 2 3 4 5; do
        issue hsm.internal "${P11_ARGS[@]}"
        [ $RC -eq 0 ] || fail "renewal $r exited $RC: $(last_err)"
        pkcs11_check
        [ "$REC_ACCT" = "$acct0" ] || fail "renewal $r changed the account key"
        [ "$(uri_id)" != "$id_prev" ] || fail "renewal $r kept the certificate key"
        id_prev=$(uri_id)
    done
    grep -c 'newAccount' "$WORK/pebble/pebble.log" >/dev/null
    echo "--- pkcs11-tool --list-objects after 5 renewals"
    p11tool --list-objects | tee "$WORK/list-objects.txt"
    # the appliance serves TLS with the token key
    SERVE_NAME=hsm.internal
    port=$(pebble_free_ports 1)
    PKCS11_MODULE_PATH=$P11_MODULE openssl s_server -engine pkcs11 -keyform engine \
        -key "$(tr -d '\n' <"$WORK/out/key.uri");pin-value=$PIN" \
        -cert "$WORK/leaf.pem" -cert_chain "$WORK/rest.pem" \
        -accept "127.0.0.1:$port" -www >"$WORK/s_server.log" 2>&1 &
    PIDS+=($!)
    serve_check "$port"
    # revoke signs with the token's account key; rollover is refused up front
    lc() {
        LC_RC=0
        timeout "$PICOACME_TIMEOUT" "$PICOACME" "$1" --directory "$PEBBLE_DIR_URL" \
            --ca-root "$PEBBLE_TLS_ROOT" --state "$WORK/state" "${P11_ARGS[@]}" \
            >"$WORK/picoacme.out" 2>"$WORK/picoacme.err" || LC_RC=$?
    }
    lc revoke
    [ $LC_RC -eq 0 ] || fail "revoke exited $LC_RC: $(last_err)"
    grep -q 'POST /revoke-cert' "$WORK/pebble/pebble.log" || fail "Pebble saw no revocation"
    lc rollover
    [ $LC_RC -eq 2 ] || fail "rollover with token keys exited $LC_RC"
    last_err | grep -q 'not with keys in hardware' || fail "rollover: $(last_err)"
    pkcs11_check
    pass ;;
pkcs11-powercut)
    start_ca
    softhsm_init
    command -v strace >/dev/null || fail "strace is needed"
    issue cut.internal "${P11_ARGS[@]}"
    [ $RC -eq 0 ] || fail "issue exited $RC: $(last_err)"
    k=1
    while :; do
        rc=0
        strace -f -qq -o /dev/null -e trace=pwrite64 -e inject=pwrite64:signal=KILL:when=$k \
            "$PICOACME" issue --directory "$PEBBLE_DIR_URL" --ca-root "$PEBBLE_TLS_ROOT" \
            --state "$WORK/state" --http01-port "$PEBBLE_HTTP01_PORT" --out "$WORK/out" \
            --domain cut.internal "${P11_ARGS[@]}" >"$WORK/picoacme.out" \
            2>"$WORK/picoacme.err" || rc=$?
        # the stored certificate's key is in the token
        rec_read
        ref=$REC_CERT
        p11tool --read-object --type pubkey --id "$ref" -o "$WORK/tokpub.der" >/dev/null \
            || fail "cut at write $k: the stored certificate's key is not in the token"
        [ "$(openssl pkey -pubin -inform DER -in "$WORK/tokpub.der" -pubout)" = \
          "$(openssl x509 -in "$WORK/stored-leaf.pem" -noout -pubkey)" ] \
            || fail "cut at write $k: the stored certificate and its token key differ"
        p11tool --list-objects --type privkey | grep -q "ID: *$ref" \
            || fail "cut at write $k: the private key $ref is gone"
        [ $rc -ne 0 ] || break
        k=$((k + 1))
        [ $k -le 40 ] || fail "still killed after 40 writes"
    done
    echo "state writes cut: $((k - 1))"
    [ $k -gt 1 ] || fail "no write was cut"
    pkcs11_check
    pass ;;
pkcs11-errors)
    start_ca
    softhsm_init
    # a wrong PIN before anything is stored: no state file made
    printf '0000\n' >"$WORK/badpin"
    issue err.internal --pkcs11-module "$P11_MODULE" --pkcs11-token "$TOKEN" \
        --pkcs11-pin-file "$WORK/badpin"
    [ $RC -eq 1 ] || fail "wrong PIN (fresh): exit $RC"
    [ -e "$WORK/state" ] && fail "wrong PIN (fresh): a state file was made"
    issue err.internal "${P11_ARGS[@]}"
    [ $RC -eq 0 ] || fail "issue exited $RC: $(last_err)"
    pkcs11_check
    sum() { (cd "$WORK" && sha256sum state out/cert.pem out/key.uri; ls -la out/ | grep -v ' \.$' | awk '{print $NF}'); }
    before=$(sum)
    objs=$(p11tool --list-objects | sort)
    orders=$(grep -c 'POST /order-plz' "$WORK/pebble/pebble.log")
    issue err.internal --pkcs11-module "$P11_MODULE" --pkcs11-token "$TOKEN" \
        --pkcs11-pin-file "$WORK/badpin"
    [ $RC -eq 1 ] || fail "wrong PIN: exit $RC"
    last_err | grep -q 'cannot be used: PKCS#11 C_Login: CKR_PIN_INCORRECT' \
        || fail "wrong PIN: last line: $(last_err)"
    echo "wrong PIN: $(last_err)"
    issue err.internal --pkcs11-module "$P11_MODULE" --pkcs11-token no-such-token \
        --pkcs11-pin-file "$WORK/pin"
    [ $RC -eq 1 ] || fail "missing token: exit $RC"
    last_err | grep -q 'no token labelled "no-such-token"' \
        || fail "missing token: last line: $(last_err)"
    echo "missing token: $(last_err)"
    issue err.internal --pkcs11-module "$WORK/no-such-module.so" --pkcs11-token "$TOKEN" \
        --pkcs11-pin-file "$WORK/pin"
    [ $RC -eq 1 ] || fail "missing module: exit $RC"
    last_err | grep -q 'cannot load the module' || fail "missing module: last line: $(last_err)"
    echo "missing module: $(last_err)"
    # forgotten options: refused, not replaced by keys on disk
    issue err.internal
    [ $RC -eq 2 ] || fail "no --pkcs11-* with a token's state: exit $RC"
    last_err | grep -q 'are in a token or a TPM' || fail "no --pkcs11-*: last line: $(last_err)"
    # the PIN never on the command line: no --pkcs11-pin, and the environment works
    issue err.internal --pkcs11-module "$P11_MODULE" --pkcs11-token "$TOKEN" --pkcs11-pin "$PIN"
    [ $RC -eq 2 ] || fail "--pkcs11-pin was accepted"
    [ "$(sum)" = "$before" ] || fail "a failed run changed the state or --out"
    [ "$(p11tool --list-objects | sort)" = "$objs" ] || fail "a failed run changed the token"
    [ "$(grep -c 'POST /order-plz' "$WORK/pebble/pebble.log")" = "$orders" ] \
        || fail "a failed run ordered"
    RC=0
    PICOACME_PKCS11_PIN=$PIN timeout "$PICOACME_TIMEOUT" "$PICOACME" issue \
        --directory "$PEBBLE_DIR_URL" --ca-root "$PEBBLE_TLS_ROOT" --state "$WORK/state" \
        --http01-port "$PEBBLE_HTTP01_PORT" --out "$WORK/out" --domain err.internal \
        --pkcs11-module "$P11_MODULE" --pkcs11-token "$TOKEN" >"$WORK/picoacme.out" \
        2>"$WORK/picoacme.err" || RC=$?
    [ $RC -eq 0 ] || fail "PIN from the environment: exit $RC: $(last_err)"
    pkcs11_check
    # run restores a lost --out (key.uri too) from the state, ordering nothing
    cp "$WORK/out/key.uri" "$WORK/key.uri.before"
    rm -rf "$WORK/out"
    orders=$(grep -c 'POST /order-plz' "$WORK/pebble/pebble.log")
    "$PICOACME" run --directory "$PEBBLE_DIR_URL" --ca-root "$PEBBLE_TLS_ROOT" \
        --state "$WORK/state" --http01-port "$PEBBLE_HTTP01_PORT" --out "$WORK/out" \
        --domain err.internal "${P11_ARGS[@]}" >"$WORK/run.out" 2>"$WORK/run.err" &
    rpid=$!
    PIDS+=($rpid)
    for i in $(seq 1 100); do grep -q 'next renewal in' "$WORK/run.err" && break; sleep 0.1; done
    kill $rpid; wait $rpid 2>/dev/null
    grep -q 'restored from the state' "$WORK/run.err" || fail "run did not restore --out: $(cat "$WORK/run.err")"
    cmp -s "$WORK/out/key.uri" "$WORK/key.uri.before" || fail "run restored another key.uri"
    [ "$(grep -c 'POST /order-plz' "$WORK/pebble/pebble.log")" = "$orders" ] || fail "run ordered"
    pkcs11_check
    pass ;;
esac

# ---- swtpm (TCTI swtpm:host=127.0.0.1,port=P, control channel on P + 1) ----

# swtpm_start: a TPM on 127.0.0.1:TPM_PORT with its state in WORK/tpm
swtpm_start() {
    if [ ! -d "$WORK/tpm" ]; then
        mkdir -p "$WORK/tpm"
        swtpm_setup --tpm2 --tpmstate "$WORK/tpm" --createek --overwrite \
            >"$WORK/swtpm-setup.log" 2>&1 || fail "swtpm_setup failed"
        # the swtpm TCTI takes the control channel on port + 1
        read -r TPM_PORT TPM_CTRL <<<"$(python3 -c '
import socket
while True:
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1))
    except OSError:
        continue
    print(p, p + 1)
    break')"
    fi
    swtpm socket --tpm2 --tpmstate dir="$WORK/tpm" \
        --server type=tcp,port="$TPM_PORT",bindaddr=127.0.0.1 \
        --ctrl type=tcp,port="$TPM_CTRL",bindaddr=127.0.0.1 \
        --flags not-need-init,startup-clear >>"$WORK/swtpm.log" 2>&1 &
    SWTPM_PID=$!
    PIDS+=($SWTPM_PID)
    TCTI="swtpm:host=127.0.0.1,port=$TPM_PORT"
    local i
    for i in $(seq 1 50); do
        tpm2_getcap -T "$TCTI" properties-fixed >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "swtpm did not answer"
}

swtpm_stop() {
    kill "$SWTPM_PID" 2>/dev/null
    wait "$SWTPM_PID" 2>/dev/null
}

# the persistent handles of picoacme's range (0x8100ac00..), sorted
tpm_handles() {
    tpm2_getcap -T "$TCTI" handles-persistent | sed -n 's/^- *//p' | tr 'A-F' 'a-f' \
        | grep '^0x8100ac' | sort
}

tpm_check() {
    [ -s "$WORK/out/key.uri" ] || fail "no key.uri"
    grep -qx 'handle:0x8100ac[0-9a-f][0-9a-f]' "$WORK/out/key.uri" \
        || fail "key.uri: $(cat "$WORK/out/key.uri")"
    split_chain
    rec_read
    no_private_bytes
    local h acct
    h=$(sed 's/^handle://' "$WORK/out/key.uri")
    [ "$REC_CERT" = "${h#0x}" ] || fail "key.uri $h is not the state's handle"
    acct=0x$REC_ACCT
    tpm2_readpublic -T "$TCTI" -c "$h" -f pem -o "$WORK/tpmpub.pem" >/dev/null 2>&1 \
        || fail "tpm2_readpublic $h failed"
    [ "$(openssl pkey -pubin -in "$WORK/tpmpub.pem" -pubout)" = \
      "$(openssl x509 -in "$WORK/leaf.pem" -noout -pubkey)" ] \
        || fail "the certificate's public key is not the TPM key's"
    [ "$(tpm_handles)" = "$(printf '%s\n%s\n' "$acct" "$h" | sort)" ] \
        || fail "persistent handles: $(tpm_handles | tr '\n' ' '), want $acct $h"
}

case "$CASE" in
tpm2-renew)
    # no rejected nonces: a badNonce retry posts newAccount twice, and the
    # case counts newAccount POSTs to see that the account is reused
    PEBBLE_WFE_NONCEREJECT=0 start_ca
    swtpm_start
    issue tpm.internal --tpm2-tcti "$TCTI"
    [ $RC -eq 0 ] || fail "issue exited $RC: $(last_err)"
    tpm_check
    h1=$(cat "$WORK/out/key.uri")
    issue tpm.internal --tpm2-tcti "$TCTI"
    [ $RC -eq 0 ] || fail "renewal exited $RC: $(last_err)"
    tpm_check
    [ "$(cat "$WORK/out/key.uri")" != "$h1" ] || fail "the renewal kept the certificate key"
    # a restarted TPM with the same state directory still has and uses the keys
    swtpm_stop
    swtpm_start
    issue tpm.internal --tpm2-tcti "$TCTI"
    [ $RC -eq 0 ] || fail "renewal after the swtpm restart exited $RC: $(last_err)"
    tpm_check
    [ "$(grep -c 'POST /sign-me-up' "$WORK/pebble/pebble.log")" -eq 1 ] \
        || fail "the account was not reused"
    # TLS with the TPM key: through the access broker (a private session bus)
    dbus-daemon --session --fork --print-address=1 --print-pid=1 >"$WORK/dbus.txt" \
        || fail "dbus-daemon failed"
    export DBUS_SESSION_BUS_ADDRESS=$(sed -n 1p "$WORK/dbus.txt")
    PIDS+=($(sed -n 2p "$WORK/dbus.txt"))
    swtpm_stop # abrmd takes the TPM's one connection
    swtpm socket --tpm2 --tpmstate dir="$WORK/tpm" \
        --server type=tcp,port="$TPM_PORT",bindaddr=127.0.0.1 \
        --ctrl type=tcp,port="$TPM_CTRL",bindaddr=127.0.0.1 \
        --flags not-need-init,startup-clear >>"$WORK/swtpm.log" 2>&1 &
    SWTPM_PID=$!
    PIDS+=($SWTPM_PID)
    sleep 0.3
    tpm2-abrmd --tcti="$TCTI" --session --allow-root >"$WORK/abrmd.log" 2>&1 &
    PIDS+=($!)
    for i in $(seq 1 50); do
        tpm2_getcap -T tabrmd:bus_type=session properties-fixed >/dev/null 2>&1 && break
        sleep 0.1
    done
    SERVE_NAME=tpm.internal
    port=$(pebble_free_ports 1)
    TPM2OPENSSL_TCTI=tabrmd:bus_type=session openssl s_server -provider tpm2 -provider default \
        -key "$(cat "$WORK/out/key.uri")" -cert "$WORK/leaf.pem" -cert_chain "$WORK/rest.pem" \
        -accept "127.0.0.1:$port" -www >"$WORK/s_server.log" 2>&1 &
    PIDS+=($!)
    serve_check "$port"
    pass ;;
tpm2-gone)
    # Pebble waits 1..15 s before validating: the TPM goes away while the
    # renewal polls (a new name: Pebble reuses the valid authorization of one)
    start_ca PEBBLE_VA_NOSLEEP=0
    swtpm_start
    issue gone.internal --tpm2-tcti "$TCTI"
    [ $RC -eq 0 ] || fail "issue exited $RC: $(last_err)"
    tpm_check
    before=$( (cd "$WORK" && sha256sum state out/cert.pem out/key.uri) )
    orders=$(grep -c 'POST /order-plz' "$WORK/pebble/pebble.log")
    RC=0
    timeout "$PICOACME_TIMEOUT" "$PICOACME" issue --directory "$PEBBLE_DIR_URL" \
        --ca-root "$PEBBLE_TLS_ROOT" --state "$WORK/state" \
        --http01-port "$PEBBLE_HTTP01_PORT" --out "$WORK/out" --domain gone2.internal \
        --tpm2-tcti "$TCTI" >"$WORK/picoacme.out" 2>"$WORK/picoacme.err" &
    ppid=$!
    for i in $(seq 1 300); do
        [ "$(grep -c 'POST /order-plz' "$WORK/pebble/pebble.log")" -gt "$orders" ] && break
        sleep 0.05
    done
    swtpm_stop
    wait $ppid || RC=$?
    [ $RC -eq 1 ] || fail "TPM gone mid-run: exit $RC ($(last_err))"
    last_err | grep -q '^picoacme: the TPM: TPM2 Sign: .*0xa000a' \
        || fail "TPM gone mid-run: last line: $(last_err)"
    echo "TPM gone mid-run: $(last_err)"
    [ "$( (cd "$WORK" && sha256sum state out/cert.pem out/key.uri) )" = "$before" ] \
        || fail "TPM gone mid-run: the state or --out changed"
    issue gone.internal --tpm2-tcti "$TCTI"
    [ $RC -eq 1 ] || fail "no TPM: exit $RC"
    last_err | grep -q 'the TPM cannot be used' || fail "no TPM: last line: $(last_err)"
    echo "no TPM: $(last_err)"
    [ "$( (cd "$WORK" && sha256sum state out/cert.pem out/key.uri) )" = "$before" ] \
        || fail "no TPM: the state or --out changed"
    pass ;;
*)
    echo "unknown case $CASE" >&2
    exit 2 ;;
esac
