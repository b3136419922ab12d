/*
 * exchange.c - one HTTP(S) exchange with the CA: the request in
 * tx[tx_off, tx_end) goes out on the kept-alive connection (or a new one,
 * whose host name may take a while to resolve), the answer is received into
 * rx and parsed as it arrives. A transport failure of a request that may be
 * sent again (nothing of it went out, or it is a GET, HEAD or POST-as-GET)
 * is retried after a short back-off; a POST that may have reached the CA is
 * never repeated blindly.
 */
#include "internal.h"

/* exchange steps (ctx->conn.step) */
enum { X_CONNECT = 0, X_SEND, X_RECV };

void conn_close(picoacme_ctx_t *ctx)
{
    if (ctx->conn.sock != PICOACME_SOCK_NONE) {
        if (ctx->conn.tls && ctx->ports.tls != NULL) {
            ctx->ports.tls->close(ctx->ports.tls->user);
        }
        ctx->ports.transport->close(ctx->ports.transport->user, ctx->conn.sock);
        ctx->conn.sock = PICOACME_SOCK_NONE;
    }
}

picoacme_err_t exchange_begin(picoacme_ctx_t *ctx, const picoacme_url_t *url, bool head)
{
    picoacme_conn_t *c = &ctx->conn;
    uint32_t now = mono(ctx);
    if (url->host_len >= sizeof c->host) {
        return PICOACME_ERR_NOSPACE;
    }
    if (url->https && ctx->ports.tls == NULL) {
        return PICOACME_ERR_UNSUPPORTED;
    }
    BUF_TAKE(ctx, rx, BUF_EXCHANGE);
    /* a request to another origin than the open connection's reconnects */
    if (c->sock != PICOACME_SOCK_NONE &&
        (url->port != c->port || url->https != c->tls || !ieq(url->host, url->host_len, c->host))) {
        conn_close(ctx);
    }
    cpy(c->host, sizeof c->host, url->host, url->host_len);
    c->port = url->port;
    c->tls = url->https;
    c->retried = false;
    /* the problem detail describes this exchange, not the previous answer */
    ctx->run.problem.http_status = 0;
    ctx->run.problem.type[0] = '\0';
    ctx->run.problem.detail[0] = '\0';
    c->tx_start = c->tx_off;
    c->rx_len = 0;
    picoacme_http_resp_init(&c->resp, head);
    /* the chain goes to the store as it arrives (cert_flush()) */
    c->resp.stream = ctx->run.state == PICOACME_ST_CERT;
    c->step = X_CONNECT;
    ctx->run.phase = PH_EXCHANGE;
    ctx->run.deadline_ms = now + PICOACME_IO_TIMEOUT_MS;
    if (remaining(now, ctx->run.budget_end_ms) < PICOACME_IO_TIMEOUT_MS) {
        ctx->run.deadline_ms = ctx->run.budget_end_ms;
    }
    ctx->run.stats.requests++;
    return PICOACME_OK;
}

static picoacme_err_t io_send(picoacme_ctx_t *ctx, const uint8_t *b, size_t n, size_t *done)
{
    if (ctx->conn.tls) {
        return ctx->ports.tls->send(ctx->ports.tls->user, b, n, done);
    }
    return ctx->ports.transport->send(ctx->ports.transport->user, ctx->conn.sock, b, n, done);
}

static picoacme_err_t io_recv(picoacme_ctx_t *ctx, uint8_t *b, size_t n, size_t *done)
{
    if (ctx->conn.tls) {
        return ctx->ports.tls->recv(ctx->ports.tls->user, b, n, done);
    }
    return ctx->ports.transport->recv(ctx->ports.transport->user, ctx->conn.sock, b, n, done);
}

/* A kept-alive connection the server closed before answering: reconnect
 * once and send the same request again (it was never processed). */
static bool retry_fresh(picoacme_ctx_t *ctx)
{
    picoacme_conn_t *c = &ctx->conn;
    if (c->reused && !c->retried && c->rx_len == 0U) {
        conn_close(ctx);
        c->retried = true;
        c->tx_off = c->tx_start;
        c->step = X_CONNECT;
        return true;
    }
    return false;
}

static bool pending(picoacme_err_t e)
{
    return e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE;
}

/* Connect (or reuse the kept-alive connection). PICOACME_AGAIN while the
 * port resolves the host name. */
static picoacme_err_t x_connect(picoacme_ctx_t *ctx)
{
    picoacme_conn_t *c = &ctx->conn;
    picoacme_err_t e;
    c->step = X_SEND;
    if (c->sock != PICOACME_SOCK_NONE) {
        c->reused = true;
        return PICOACME_OK;
    }
    c->reused = false;
    e = ctx->ports.transport->connect(ctx->ports.transport->user, c->host, c->port, &c->sock);
    if (e != PICOACME_OK) {
        c->sock = PICOACME_SOCK_NONE;
        c->step = X_CONNECT;
        if (e == PICOACME_AGAIN) {
            return e; /* still resolving: call again */
        }
        return e == PICOACME_ERR_NOT_FOUND ? e : PICOACME_ERR_IO;
    }
    ctx->run.stats.connections++;
    if (c->tls) {
        e = ctx->ports.tls->open(ctx->ports.tls->user, c->sock, c->host);
        if (e != PICOACME_OK) {
            ctx->ports.transport->close(ctx->ports.transport->user, c->sock);
            c->sock = PICOACME_SOCK_NONE;
            return e;
        }
    }
    return PICOACME_OK;
}

static picoacme_err_t x_send(picoacme_ctx_t *ctx)
{
    picoacme_conn_t *c = &ctx->conn;
    while (c->tx_off < c->tx_end) {
        size_t n = 0;
        picoacme_err_t e = io_send(ctx, ctx->tx + c->tx_off, c->tx_end - c->tx_off, &n);
        if (pending(e)) {
            c->want = e == PICOACME_WANT_READ ? PICOACME_EV_READ : PICOACME_EV_WRITE;
            return e;
        }
        if (e != PICOACME_OK) {
            return retry_fresh(ctx) ? PICOACME_OK : e;
        }
        c->tx_off += n;
    }
    c->step = X_RECV;
    return PICOACME_OK;
}

/* Receive what is there and parse; PICOACME_OK once the answer is whole,
 * or with step X_CONNECT when a closed kept-alive connection is being
 * reconnected. */
static picoacme_err_t x_recv(picoacme_ctx_t *ctx)
{
    picoacme_conn_t *c = &ctx->conn;
    for (;;) {
        size_t n = 0;
        bool closed = false;
        if (c->rx_len >= sizeof ctx->rx) {
            return PICOACME_ERR_NOSPACE;
        }
        picoacme_err_t e = io_recv(ctx, ctx->rx + c->rx_len, sizeof ctx->rx - c->rx_len, &n);
        if (pending(e)) {
            c->want = e == PICOACME_WANT_READ ? PICOACME_EV_READ : PICOACME_EV_WRITE;
            return e;
        }
        if (e == PICOACME_ERR_CLOSED) {
            closed = true;
            if (c->rx_len == 0U) {
                return retry_fresh(ctx) ? PICOACME_OK : PICOACME_ERR_CLOSED;
            }
        } else if (e != PICOACME_OK) {
            return e;
        }
        c->rx_len += n;
        e = picoacme_http_parse(&c->resp, ctx->rx, &c->rx_len, sizeof ctx->rx, closed);
        if (e == PICOACME_AGAIN && c->resp.stream && c->rx_len == sizeof ctx->rx) {
            e = cert_flush(ctx);
            e = e == PICOACME_OK ? PICOACME_AGAIN : e;
        }
        if (e != PICOACME_AGAIN) {
            return e;
        }
        if (closed) {
            return PICOACME_ERR_CLOSED;
        }
    }
}

/* Connect, send, receive as far as the sockets allow. */
static picoacme_err_t x_run(picoacme_ctx_t *ctx)
{
    picoacme_conn_t *c = &ctx->conn;
    for (unsigned guard = 0; guard < 4U; guard++) {
        picoacme_err_t e = PICOACME_OK;
        if (c->step == X_CONNECT) {
            e = x_connect(ctx);
        }
        if (e == PICOACME_OK && c->step == X_SEND) {
            e = x_send(ctx);
        }
        if (e == PICOACME_OK && c->step == X_RECV) {
            e = x_recv(ctx);
        }
        /* X_CONNECT: a send or receive met a closed kept-alive connection */
        if (e != PICOACME_OK || c->step != X_CONNECT) {
            return e;
        }
    }
    return PICOACME_ERR_CLOSED;
}

/* May the request be sent again after e? Only transport failures, and only
 * when nothing of it left (any request) or it is idempotent. */
static bool may_retry(const picoacme_ctx_t *ctx, picoacme_err_t e)
{
    const picoacme_conn_t *c = &ctx->conn;
    bool transport = e == PICOACME_ERR_IO || e == PICOACME_ERR_CLOSED ||
                     e == PICOACME_ERR_TIMEOUT || e == PICOACME_ERR_TLS;
    bool unsent = c->tx_off == c->tx_start && c->rx_len == 0U;
    return transport && ctx->run.io_retries_left > 0U && (unsent || c->idempotent);
}

/* The exchange failed with e: retry it, or record the failure. */
static picoacme_err_t x_failed(picoacme_ctx_t *ctx, picoacme_err_t e)
{
    picoacme_run_t *r = &ctx->run;
    r->problem.http_status = ctx->conn.resp.status; /* 0 unless a status line was read */
    if (may_retry(ctx, e)) {
        uint32_t ms = PICOACME_IO_RETRY_MS << (PICOACME_IO_RETRIES - r->io_retries_left);
        LOG(ctx, PICOACME_LOG_LVL_WRN, "%s: %s, sending again in %u ms",
            picoacme_state_str(r->state), picoacme_err_str(e), (unsigned)ms);
        r->io_retries_left--;
        r->stats.io_retries++;
        BUF_GIVE(ctx, tx, BUF_REQUEST);
        BUF_GIVE(ctx, rx, BUF_EXCHANGE);
        retry_in(ctx, ms);
        return PICOACME_OK;
    }
    if (!PICOACME_ERROR_TEXT || r->problem.detail[0] != '\0') {
        return fail(ctx, e, NULL); /* the detail of cert_flush() */
    }
    switch (e) {
    case PICOACME_ERR_TLS_VERIFY:
        return fail(ctx, e,
                    "the CA's TLS certificate is not trusted (check --ca-root / the "
                    "configured CA root and the host name)");
    case PICOACME_ERR_TLS: return fail(ctx, e, "TLS handshake or record failure with the CA");
    case PICOACME_ERR_NOSPACE:
        return fail(ctx, e, "the CA's answer does not fit PICOACME_RX_BUF_SIZE");
    case PICOACME_ERR_PARSE: return fail(ctx, e, "the CA's HTTP answer is malformed");
    case PICOACME_ERR_CLOSED: return fail(ctx, e, "the CA closed the connection before answering");
    case PICOACME_ERR_NOT_FOUND: return fail(ctx, e, "the CA host name does not resolve");
    case PICOACME_ERR_TIMEOUT:
        return fail(ctx, e, "the CA did not answer in time (PICOACME_IO_TIMEOUT_MS)");
    default: return fail(ctx, e, "cannot connect to the CA (refused, reset or unreachable)");
    }
}

picoacme_err_t exchange_pump(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    uint32_t now = mono(ctx);
    picoacme_err_t e;
    PICOACME_ASSERT(BUF_IS(ctx, tx, BUF_REQUEST) && BUF_IS(ctx, rx, BUF_EXCHANGE));
    if (expired(now, ctx->run.deadline_ms)) {
        conn_close(ctx);
        return x_failed(ctx, PICOACME_ERR_TIMEOUT);
    }
    e = x_run(ctx);
    if (pending(e)) {
        wait_add(wait, ctx->conn.sock, ctx->conn.want);
        wait_timer(wait, remaining(now, ctx->run.deadline_ms));
        return e;
    }
    if (e == PICOACME_AGAIN) {
        /* the port resolves the name: ask again soon */
        uint32_t left = remaining(now, ctx->run.deadline_ms);
        wait_timer(wait, left < PICOACME_RESOLVE_POLL_MS ? left : PICOACME_RESOLVE_POLL_MS);
        return e;
    }
    if (e != PICOACME_OK) {
        conn_close(ctx);
        return x_failed(ctx, e);
    }
    return PICOACME_OK;
}
