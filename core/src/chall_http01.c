/*
 * chall_http01.c - http-01 (RFC 8555 §8.3): the key authorization for an
 * appliance's own web server (picoacme_http01_lookup()), and the built-in
 * responder on a transport listener, served from picoacme_step() while the
 * engine waits. One validation connection at a time; each gets 5 s.
 */
#include "internal.h"

#include "picoacme_jws.h"

/* The key authorization of the token in path (the lock is held). */
static picoacme_err_t lookup(picoacme_ctx_t *ctx, const char *path, size_t path_len, char *out,
                             size_t cap, size_t *out_len)
{
    static const char prefix[] = "/.well-known/acme-challenge/";
    const size_t plen = sizeof prefix - 1U;
    const picoacme_issue_run_t *is = &ctx->run.u.issue;
    if (ctx->run.op != PICOACME_OP_ISSUE || ctx->dir.thumbprint[0] == '\0' || path_len <= plen ||
        memcmp(path, prefix, plen) != 0) {
        return PICOACME_ERR_NOT_FOUND;
    }
    /* only the current authorization's token: they are answered one at a
     * time */
    size_t tl = util_strnlen(is->token, PICOACME_TOKEN_MAX);
    if (tl == 0U || tl != path_len - plen || memcmp(is->token, path + plen, tl) != 0) {
        return PICOACME_ERR_NOT_FOUND;
    }
    /* key authorization = token "." thumbprint, §8.1 */
    if (tl + 1U + PICOACME_THUMBPRINT_LEN > cap) {
        return PICOACME_ERR_NOSPACE;
    }
    memcpy(out, is->token, tl);
    out[tl] = '.';
    memcpy(out + tl + 1U, ctx->dir.thumbprint, PICOACME_THUMBPRINT_LEN);
    *out_len = tl + 1U + PICOACME_THUMBPRINT_LEN;
    ctx->run.served++;
    return PICOACME_OK;
}

picoacme_err_t picoacme_http01_lookup(picoacme_ctx_t *ctx, const char *path, size_t path_len,
                                      char *out, size_t cap, size_t *out_len)
{
    picoacme_err_t e;
    if (ctx == NULL || path == NULL || out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    PICOACME_LOCK(ctx);
    e = lookup(ctx, path, path_len, out, cap, out_len);
    PICOACME_UNLOCK(ctx);
    return e;
}

#if PICOACME_HTTP01
picoacme_err_t h01_open(picoacme_ctx_t *ctx)
{
    const picoacme_transport_t *tp = ctx->ports.transport;
    if (ctx->cfg.http01_port == 0U) {
        return PICOACME_OK;
    }
    if (tp->listen == NULL || tp->accept == NULL) {
        return fail(ctx, PICOACME_ERR_UNSUPPORTED, "the transport cannot listen for http-01");
    }
    if (tp->listen(tp->user, ctx->cfg.http01_port, &ctx->h01.lsock) != PICOACME_OK) {
        ctx->h01.lsock = PICOACME_SOCK_NONE;
        return fail(ctx, PICOACME_ERR_IO, "cannot listen on the http-01 port");
    }
    return PICOACME_OK;
}

/* The answer to the request head in buf: the key authorization, or 404. */
static size_t h01_answer(picoacme_ctx_t *ctx)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                             "Connection: close\r\nContent-Length: ";
    static const char nf[] = "HTTP/1.1 404 Not Found\r\nConnection: close\r\n"
                             "Content-Length: 0\r\n\r\n";
    picoacme_h01_t *h = &ctx->h01;
    char ka[PICOACME_TOKEN_MAX + 1U + PICOACME_THUMBPRINT_LEN];
    size_t ka_len = 0;
    const char *p = (const char *)h->buf;
    size_t path_len = 0;
    util_wbuf_t w;
    /* request line: "GET <path> HTTP/1.x" */
    while (4U + path_len < h->len && p[4U + path_len] != ' ' && p[4U + path_len] != '\r') {
        path_len++;
    }
    if (h->len < 4U || memcmp(p, "GET ", 4U) != 0 ||
        lookup(ctx, p + 4, path_len, ka, sizeof ka, &ka_len) != PICOACME_OK) {
        memcpy(h->buf, nf, sizeof nf - 1U);
        return sizeof nf - 1U;
    }
    LOG(ctx, PICOACME_LOG_LVL_INF, "http-01: answered the validation request");
    util_wbuf_init(&w, h->buf, sizeof h->buf);
    util_put(&w, ok, sizeof ok - 1U);
    util_put_dec(&w, (uint32_t)ka_len);
    util_put(&w, "\r\n\r\n", 4U);
    util_put(&w, ka, ka_len);
    return w.len; /* fits: the head is 110 bytes, the key authorization 108 */
}

/* Accept one validation connection. false when there is none. */
static bool h01_accept(picoacme_ctx_t *ctx, uint32_t now)
{
    picoacme_h01_t *h = &ctx->h01;
    picoacme_sock_t s = PICOACME_SOCK_NONE;
    if (ctx->ports.transport->accept(ctx->ports.transport->user, h->lsock, &s) != PICOACME_OK) {
        return false;
    }
    h->sock = s;
    h->len = 0;
    h->out = 0;
    h->sent = 0;
    h->deadline_ms = now + 5000U;
    return true;
}

/* Read the request head; PICOACME_OK once the answer is ready in buf. */
static picoacme_err_t h01_read(picoacme_ctx_t *ctx)
{
    picoacme_h01_t *h = &ctx->h01;
    while (h->out == 0U) {
        size_t n = 0;
        picoacme_err_t e = ctx->ports.transport->recv(ctx->ports.transport->user, h->sock,
                                                      h->buf + h->len, sizeof h->buf - h->len, &n);
        if (e != PICOACME_OK) {
            return e;
        }
        h->len += n;
        for (size_t i = 3; i < h->len && h->out == 0U; i++) {
            if (memcmp(h->buf + i - 3U, "\r\n\r\n", 4U) == 0) {
                h->out = h01_answer(ctx);
            }
        }
        if (h->out == 0U && h->len == sizeof h->buf) {
            /* request head too large: not a validation request */
            h->len = 0;
            h->out = h01_answer(ctx);
        }
    }
    return PICOACME_OK;
}

/* Send the answer; PICOACME_OK when it is out (or cannot be sent). */
static picoacme_err_t h01_write(picoacme_ctx_t *ctx)
{
    picoacme_h01_t *h = &ctx->h01;
    while (h->sent < h->out) {
        size_t n = 0;
        picoacme_err_t e = ctx->ports.transport->send(ctx->ports.transport->user, h->sock,
                                                      h->buf + h->sent, h->out - h->sent, &n);
        if (e == PICOACME_WANT_WRITE) {
            return e;
        }
        if (e != PICOACME_OK) {
            break;
        }
        h->sent += n;
    }
    return PICOACME_OK;
}

void h01_service(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    picoacme_h01_t *h = &ctx->h01;
    uint32_t now;
    picoacme_err_t e;
    if (h->lsock == PICOACME_SOCK_NONE) {
        return;
    }
    now = mono(ctx);
    if (h->sock == PICOACME_SOCK_NONE && !h01_accept(ctx, now)) {
        wait_add(wait, h->lsock, PICOACME_EV_READ);
        return;
    }
    e = expired(now, h->deadline_ms) ? PICOACME_ERR_TIMEOUT : h01_read(ctx);
    if (e == PICOACME_OK) {
        e = h01_write(ctx);
    }
    if (e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE) {
        wait_add(wait, h->sock, e == PICOACME_WANT_READ ? PICOACME_EV_READ : PICOACME_EV_WRITE);
        wait_timer(wait, remaining(now, h->deadline_ms));
        return;
    }
    sock_close(ctx, &h->sock);
    if (e == PICOACME_OK || e == PICOACME_ERR_TIMEOUT) {
        wait_add(wait, h->lsock, PICOACME_EV_READ);
    }
}
#endif
