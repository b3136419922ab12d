#!/bin/sh
# uacme_hook.sh -- uacme challenge hook for the e2e harness and the bench.
# uacme calls: uacme_hook.sh METHOD TYPE IDENT TOKEN AUTH
#   METHOD begin|done|failed; only http-01 is accepted (non-zero declines).
# The key authorization is written to
#   $UACME_WEBROOT/.well-known/acme-challenge/TOKEN
# which a plain HTTP server on 127.0.0.1:<http01 port> serves (see clients_env.sh).
METHOD=$1 TYPE=$2 IDENT=$3 TOKEN=$4 AUTH=$5
[ -n "$UACME_WEBROOT" ] || { echo "uacme_hook: UACME_WEBROOT not set" >&2; exit 1; }
[ "$TYPE" = "http-01" ] || exit 1
case "$TOKEN" in */*|.*|"") echo "uacme_hook: bad token" >&2; exit 1 ;; esac
dir=$UACME_WEBROOT/.well-known/acme-challenge
case "$METHOD" in
begin)
    mkdir -p "$dir" && printf '%s' "$AUTH" >"$dir/$TOKEN" ;;
done|failed)
    rm -f "$dir/$TOKEN" ;;
*)
    echo "uacme_hook: unknown method $METHOD ($IDENT)" >&2; exit 1 ;;
esac
