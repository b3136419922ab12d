/*
 * chall_alpn.c - tls-alpn-01 (RFC 8737): the acmeIdentifier certificate of
 * the current authorization, the built-in responder on a transport
 * listener, and picoacme_tlsalpn_adopt() for an appliance's own HTTPS server
 * that peeked "acme-tls/1" in a ClientHello. One validation handshake at a
 * time; each gets 5 s. Compiled to the "unsupported" stub without
 * PICOACME_TLSALPN01.
 */
#include "internal.h"

#if PICOACME_TLSALPN01
picoacme_err_t picoacme_tlsalpn_adopt(picoacme_ctx_t *ctx, picoacme_sock_t sock)
{
    picoacme_err_t e = PICOACME_OK;
    if (ctx == NULL || sock == PICOACME_SOCK_NONE) {
        return PICOACME_ERR_PARAM;
    }
    PICOACME_LOCK(ctx);
    if (ctx->alpn.sock != PICOACME_SOCK_NONE || ctx->alpn.cert_len == 0U ||
        ctx->ports.tls == NULL || ctx->ports.tls->server_open == NULL) {
        e = PICOACME_ERR_STATE;
    } else {
        ctx->alpn.sock = sock;
        ctx->alpn.open = false;
        ctx->alpn.deadline_ms = mono(ctx) + 5000U;
    }
    PICOACME_UNLOCK(ctx);
    return e;
}

picoacme_err_t alpn_open(picoacme_ctx_t *ctx)
{
    const picoacme_transport_t *tp = ctx->ports.transport;
    const picoacme_tls_t *tls = ctx->ports.tls;
    if (ctx->cfg.tlsalpn01_port == 0U) {
        return PICOACME_OK;
    }
    if (tls == NULL || tls->server_open == NULL || tp->listen == NULL || tp->accept == NULL) {
        return fail(ctx, PICOACME_ERR_UNSUPPORTED,
                    "the tls or transport port cannot serve tls-alpn-01");
    }
    if (tp->listen(tp->user, ctx->cfg.tlsalpn01_port, &ctx->alpn.lsock) != PICOACME_OK) {
        ctx->alpn.lsock = PICOACME_SOCK_NONE;
        return fail(ctx, PICOACME_ERR_IO, "cannot listen on the tls-alpn-01 port");
    }
    return PICOACME_OK;
}

void alpn_close(picoacme_ctx_t *ctx)
{
    picoacme_alpn_t *a = &ctx->alpn;
    if (a->sock != PICOACME_SOCK_NONE) {
        if (a->open && ctx->ports.tls != NULL && ctx->ports.tls->server_close != NULL) {
            ctx->ports.tls->server_close(ctx->ports.tls->user);
        }
        sock_close(ctx, &a->sock);
    }
    a->open = false;
}

/* RFC 8737 §3: the acmeIdentifier certificate, with its own key */
picoacme_err_t alpn_prepare(picoacme_ctx_t *ctx, const uint8_t digest[32])
{
    picoacme_issue_run_t *is = &ctx->run.u.issue;
    picoacme_ident_t id;
    picoacme_err_t e;
    if (!is->chall_key) {
        e = ctx->ports.crypto->key_generate(ctx->ports.crypto->user, PICOACME_KEY_CHALLENGE);
        if (e != PICOACME_OK) {
            return fail(ctx, PICOACME_ERR_CRYPTO, "tls-alpn-01 key generation failed");
        }
        is->chall_key = true;
    }
    id.type = is->authz_ip ? PICOACME_ID_IP : PICOACME_ID_DNS;
    id.value = is->authz_name;
    e = picoacme_alpn_cert_build(ctx->ports.crypto, PICOACME_KEY_CHALLENGE, &id, digest,
                                 picoacme_now(ctx), ctx->alpn.cert, sizeof ctx->alpn.cert,
                                 &ctx->alpn.cert_len);
    if (e != PICOACME_OK) {
        ctx->alpn.cert_len = 0;
        return fail(ctx, e, "building the tls-alpn-01 certificate failed (PICOACME_ALPN_CERT_MAX)");
    }
    return goto_state(ctx, PICOACME_ST_CHALLENGE);
}

/* Accept a validation connection, or take none. false: nothing to serve. */
static bool alpn_accept(picoacme_ctx_t *ctx, picoacme_wait_t *wait, uint32_t now)
{
    picoacme_alpn_t *a = &ctx->alpn;
    picoacme_sock_t s = PICOACME_SOCK_NONE;
    if (a->sock != PICOACME_SOCK_NONE) {
        return true;
    }
    if (a->lsock == PICOACME_SOCK_NONE) {
        return false;
    }
    if (ctx->ports.transport->accept(ctx->ports.transport->user, a->lsock, &s) != PICOACME_OK) {
        wait_add(wait, a->lsock, PICOACME_EV_READ);
        return false;
    }
    a->sock = s;
    a->open = false;
    a->deadline_ms = now + 5000U;
    return true;
}

/* Start the TLS server session with the challenge certificate and key. */
static picoacme_err_t alpn_start(picoacme_ctx_t *ctx)
{
    picoacme_alpn_t *a = &ctx->alpn;
    uint8_t priv[32];
    picoacme_err_t e =
        ctx->ports.crypto->key_export(ctx->ports.crypto->user, PICOACME_KEY_CHALLENGE, priv);
    if (e == PICOACME_OK) {
        e = ctx->ports.tls->server_open(ctx->ports.tls->user, a->sock, a->cert, a->cert_len, priv);
    }
    memset(priv, 0, sizeof priv);
    if (e != PICOACME_OK) {
        LOG(ctx, PICOACME_LOG_LVL_WRN, "tls-alpn-01: cannot start the TLS server (%s)",
            picoacme_err_str(e));
        sock_close(ctx, &a->sock);
        return e;
    }
    a->open = true;
    return PICOACME_OK;
}

void alpn_service(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    picoacme_alpn_t *a = &ctx->alpn;
    uint32_t now = mono(ctx);
    picoacme_err_t e;
    if (!alpn_accept(ctx, wait, now)) {
        return;
    }
    if (expired(now, a->deadline_ms) || a->cert_len == 0U) {
        /* no challenge pending, or a stalled peer */
        alpn_close(ctx);
        wait_add(wait, a->lsock, PICOACME_EV_READ);
        return;
    }
    if (!a->open && alpn_start(ctx) != PICOACME_OK) {
        return;
    }
    e = ctx->ports.tls->server_step(ctx->ports.tls->user);
    if (e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE) {
        wait_add(wait, a->sock, e == PICOACME_WANT_READ ? PICOACME_EV_READ : PICOACME_EV_WRITE);
        wait_timer(wait, remaining(now, a->deadline_ms));
        return;
    }
    if (e == PICOACME_OK) {
        ctx->run.served++;
        LOG(ctx, PICOACME_LOG_LVL_INF, "tls-alpn-01: answered the validation handshake");
    } else {
        LOG(ctx, PICOACME_LOG_LVL_INF, "tls-alpn-01: handshake failed (%s)", picoacme_err_str(e));
    }
    alpn_close(ctx);
    wait_add(wait, a->lsock, PICOACME_EV_READ);
}
#else
picoacme_err_t picoacme_tlsalpn_adopt(picoacme_ctx_t *ctx, picoacme_sock_t sock)
{
    (void)ctx;
    (void)sock;
    return PICOACME_ERR_UNSUPPORTED;
}
#endif
