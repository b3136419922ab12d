# clients_env.sh -- sourceable bash helpers that drive reference ACME clients
# (uacme, lego) against the Pebble started by pebble_env.sh. Used by the
# harness self-check (run_e2e.sh uacme-*) and by scripts/bench.sh.
#
#   http01_serve WEBROOT      plain HTTP server on 127.0.0.1:$PEBBLE_HTTP01_PORT
#   http01_stop
#   with_ca_bundle ROOT CMD...  run CMD with ROOT as the only system CA bundle
#   uacme_issue CONFDIR NAME [NAME...]   account + one issuance; cert in
#                             CONFDIR/NAME/cert.pem, key in CONFDIR/private/NAME/key.pem
#   uacme_run CONFDIR NAME... the same without starting the http-01 server
#   lego_issue PATHDIR NAME [NAME...]    one issuance; cert in PATHDIR/certificates/NAME.crt
#
# uacme (Debian build: libcurl-gnutls) has no CA option and ignores
# SSL_CERT_FILE / CURL_CA_BUNDLE: libcurl uses its compiled-in bundle
# /etc/ssl/certs/ca-certificates.crt. with_ca_bundle therefore bind-mounts the
# test root over that path inside a private mount namespace (unshare -m as
# root, unshare -rm otherwise); the host's file is never touched.
# lego reads LEGO_CA_CERTIFICATES.

E2E_DIR=${E2E_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
CA_BUNDLE_PATH=/etc/ssl/certs/ca-certificates.crt

http01_serve() {
    mkdir -p "$1/.well-known/acme-challenge" || return 1
    python3 -m http.server --bind 127.0.0.1 --directory "$1" "$PEBBLE_HTTP01_PORT" \
        >"$1.http.log" 2>&1 &
    HTTP01_PID=$!
    local i
    for i in $(seq 1 50); do
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PEBBLE_HTTP01_PORT/" && return 0
        sleep 0.1
    done
    echo "clients_env: http-01 server did not start" >&2
    return 1
}

http01_stop() {
    if [ -n "${HTTP01_PID:-}" ] && kill -0 "$HTTP01_PID" 2>/dev/null; then
        kill "$HTTP01_PID" 2>/dev/null; wait "$HTTP01_PID" 2>/dev/null
    fi
    HTTP01_PID=""
    return 0
}

with_ca_bundle() {
    local root=$1; shift
    local -a ns=(unshare -m --propagation private)
    [ "$(id -u)" -eq 0 ] || ns=(unshare -rm --propagation private)
    "${ns[@]}" bash -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' with_ca_bundle \
        "$root" "$CA_BUNDLE_PATH" "$@"
}

# uacme_run CONFDIR NAME...: account + issuance; needs an http-01 server
# (http01_serve "$UACME_WEBROOT") already running.
uacme_run() {
    local conf=$1; shift
    local rc=0
    with_ca_bundle "$PEBBLE_TLS_ROOT" uacme -v -c "$conf" -a "$PEBBLE_DIR_URL" \
        -t EC -b 256 -y new x@example.internal >"$conf/uacme.log" 2>&1 || rc=$?
    if [ $rc -eq 0 ]; then
        with_ca_bundle "$PEBBLE_TLS_ROOT" uacme -v -c "$conf" -a "$PEBBLE_DIR_URL" \
            -t EC -b 256 -y -h "$E2E_DIR/uacme_hook.sh" issue "$@" >>"$conf/uacme.log" 2>&1 || rc=$?
    fi
    return $rc
}

uacme_issue() {
    local conf=$1; shift
    export UACME_WEBROOT=$conf/www
    mkdir -p "$conf" "$UACME_WEBROOT" || return 1
    http01_serve "$UACME_WEBROOT" || return 1
    local rc=0
    uacme_run "$conf" "$@" || rc=$?
    http01_stop
    [ $rc -eq 0 ] || { echo "clients_env: uacme failed ($rc), see $conf/uacme.log:" >&2; tail -n 5 "$conf/uacme.log" >&2; }
    return $rc
}

lego_issue() {
    local dir=$1; shift
    mkdir -p "$dir" || return 1
    local -a doms=() n
    for n in "$@"; do doms+=(--domains "$n"); done
    local rc=0
    LEGO_CA_CERTIFICATES=$PEBBLE_TLS_ROOT lego --server "$PEBBLE_DIR_URL" \
        --email x@example.internal "${doms[@]}" --key-type ec256 \
        --http --http.port "127.0.0.1:$PEBBLE_HTTP01_PORT" --accept-tos \
        --path "$dir" run >"$dir/lego.log" 2>&1 || rc=$?
    [ $rc -eq 0 ] || { echo "clients_env: lego failed ($rc), see $dir/lego.log:" >&2; tail -n 5 "$dir/lego.log" >&2; }
    return $rc
}
