# bind_env.sh -- sourceable bash library: a BIND (named) authoritative server
# on loopback for the dns-01 e2e cases (RFC 2136 updates signed with TSIG).
#
#   . tests/e2e/bind_env.sh
#   bind_start WORKDIR        # named on 127.0.0.1:<free port>, zone acme.test
#   ...                       # use the BIND_* variables below
#   bind_stop
#
# bind_start
#   (a) makes a TSIG key "picoacme" (hmac-sha256, 32 random bytes, openssl);
#   (b) writes WORKDIR/named.conf: authoritative only (recursion no), listens
#       on 127.0.0.1 port P and nowhere else (no IPv6, no control channel),
#       pid/session-key/managed-keys/journal all in WORKDIR;
#   (c) writes the zone acme.test: SOA, NS, `acme.test. A 127.0.0.1` and
#       `* A 127.0.0.1` (so Pebble's validator, pointed at this server,
#       resolves every test name to 127.0.0.1), `allow-update { key picoacme; }`;
#   (d) starts `named -g` (foreground, logs to WORKDIR/named.log; runs as
#       the invoking user, root included: no -u) and waits until
#       `dig @127.0.0.1 -p P acme.test SOA` answers (BIND_START_TIMEOUT, 20 s).
#
# Exported after bind_start:
#   BIND_PORT     UDP and TCP port of named on 127.0.0.1
#   BIND_ZONE     acme.test
#   BIND_TSIG     picoacme:hmac-sha256:<base64 secret> (picoacme --tsig-key form)
#   BIND_TSIG_SECRET  the base64 secret alone
#   BIND_PID BIND_WORKDIR
#
# Needs the Debian packages bind9, bind9-utils, bind9-dnsutils (dig), openssl,
# python3 (free port pick).

bind_log() { echo "bind_env: $*" >&2; }

# bind_free_port: one port free on 127.0.0.1 for TCP and UDP.
bind_free_port() {
    python3 - <<'EOF'
import socket
while True:
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p))
    except OSError:
        t.close(); u.close(); continue
    t.close(); u.close(); print(p); break
EOF
}

bind_start() {
    local wd=$1
    if [ -z "$wd" ]; then bind_log "usage: bind_start WORKDIR"; return 2; fi
    command -v named >/dev/null || { bind_log "named not found (apt-get install bind9)"; return 1; }
    command -v dig >/dev/null || { bind_log "dig not found (apt-get install bind9-dnsutils)"; return 1; }
    mkdir -p "$wd" || return 1
    wd=$(cd "$wd" && pwd)
    export BIND_WORKDIR=$wd
    export BIND_ZONE=acme.test

    # (a) TSIG key
    BIND_TSIG_SECRET=$(openssl rand -base64 32) || { bind_log "openssl rand failed"; return 1; }
    export BIND_TSIG_SECRET
    export BIND_TSIG="picoacme:hmac-sha256:$BIND_TSIG_SECRET"

    BIND_PORT=$(bind_free_port) || { bind_log "no free port"; return 1; }
    export BIND_PORT

    # (b) named.conf
    cat >"$wd/named.conf" <<EOF
key "picoacme" {
    algorithm hmac-sha256;
    secret "$BIND_TSIG_SECRET";
};
options {
    directory "$wd";
    pid-file "$wd/named.pid";
    session-keyfile "$wd/session.key";
    managed-keys-directory "$wd";
    dump-file "$wd/named_dump.db";
    statistics-file "$wd/named.stats";
    listen-on port $BIND_PORT { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    allow-recursion { none; };
    allow-transfer { none; };
    notify no;
    querylog yes;
    dnssec-validation no;
    minimal-responses yes;
};
controls { };
zone "$BIND_ZONE" {
    type primary;
    file "$wd/$BIND_ZONE.db";
    journal "$wd/$BIND_ZONE.db.jnl";
    allow-update { key "picoacme"; };
};
EOF
    # (c) the zone; serial from the clock, TTLs short
    cat >"$wd/$BIND_ZONE.db" <<EOF
\$ORIGIN $BIND_ZONE.
\$TTL 60
@   IN SOA ns.$BIND_ZONE. hostmaster.$BIND_ZONE. ( $(date +%s) 60 60 600 1 )
@   IN NS  ns.$BIND_ZONE.
@   IN A   127.0.0.1
*   IN A   127.0.0.1
EOF
    rm -f "$wd/$BIND_ZONE.db.jnl" "$wd/named.pid"
    if command -v named-checkconf >/dev/null && ! named-checkconf -z "$wd/named.conf" >"$wd/checkconf.log" 2>&1; then
        bind_log "named-checkconf failed:"; cat "$wd/checkconf.log" >&2; return 1
    fi

    # (d) named in the foreground (our child), one worker thread
    named -g -n 1 -c "$wd/named.conf" >"$wd/named.log" 2>&1 &
    BIND_PID=$!
    export BIND_PID
    printf '%s\n' "$BIND_PID" >"$wd/named.pid.child"
    local deadline=$(( $(date +%s) + ${BIND_START_TIMEOUT:-20} ))
    until dig @127.0.0.1 -p "$BIND_PORT" +time=1 +tries=1 +norecurse +short \
            "$BIND_ZONE" SOA 2>/dev/null | grep -q "ns.$BIND_ZONE"; do
        if ! kill -0 "$BIND_PID" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
            bind_log "named did not come up; log:"
            tail -n 20 "$wd/named.log" >&2
            bind_stop
            return 1
        fi
        sleep 0.1
    done
    return 0
}

bind_stop() {
    if [ -n "${BIND_PID:-}" ] && kill -0 "$BIND_PID" 2>/dev/null; then
        kill "$BIND_PID" 2>/dev/null
        local i
        for i in $(seq 1 50); do
            kill -0 "$BIND_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$BIND_PID" 2>/dev/null && kill -9 "$BIND_PID" 2>/dev/null
        wait "$BIND_PID" 2>/dev/null
    fi
    BIND_PID=""
    return 0
}
