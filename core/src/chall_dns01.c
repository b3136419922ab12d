/*
 * chall_dns01.c - dns-01 (RFC 8555 §8.4) for private zones: the TXT record
 * "_acme-challenge.<name>" is added with an RFC 2136 UPDATE signed with
 * TSIG (RFC 8945) to the configured server (its zone found by an SOA query
 * unless configured), or through the integrator's hook; the configured
 * resolver is asked until it sees the record; the record is removed again
 * on success and on failure (state DNS_CLEANUP). Messages go over UDP with
 * retransmission, or over TCP (RFC 7766) for networks that carry only TCP.
 * Compiled out without PICOACME_DNS01.
 */
#include "internal.h"

#if PICOACME_DNS01
#include "picoacme_b64.h"
#include "picoacme_dns.h"

/* Propagation: the resolver is asked right after the UPDATE (or the hook)
 * published the record, then after 50 ms, doubled up to 4 s. */
#define DNS01_BACKOFF_MIN_MS 50U
#define DNS01_BACKOFF_MAX_MS 4000U

static const char *rcode_name(uint8_t rc)
{
    switch (rc) {
    case PICOACME_DNS_RCODE_SERVFAIL: return "SERVFAIL";
    case PICOACME_DNS_RCODE_NXDOMAIN: return "NXDOMAIN";
    case PICOACME_DNS_RCODE_REFUSED: return "REFUSED (update not allowed)";
    case PICOACME_DNS_RCODE_NOTAUTH: return "NOTAUTH (TSIG key not accepted or zone not served)";
    default: return "an error";
    }
}

/* §8.4: TXT "_acme-challenge.<name>" = base64url(SHA-256(key authorization)) */
picoacme_err_t dns01_prepare(picoacme_ctx_t *ctx, const uint8_t digest[32])
{
    picoacme_issue_run_t *is = &ctx->run.u.issue;
    picoacme_dns01_run_t *d = &is->dns;
    size_t n = util_strnlen(is->authz_name, sizeof is->authz_name);
    size_t tl = 0;
    memcpy(d->fqdn, "_acme-challenge.", 16U);
    memcpy(d->fqdn + 16, is->authz_name, n + 1U);
    if (picoacme_b64url_encode(digest, 32U, d->txt, sizeof d->txt - 1U, &tl) != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_NOSPACE, "dns-01 value");
    }
    d->txt[tl] = '\0';
    d->step = 0;
    ctx->dns.tries = 0;
    return goto_state(ctx, PICOACME_ST_DNS_PUBLISH);
}

/* The DNS message and its answer are done with tx and rx. */
static void give_buffers(picoacme_ctx_t *ctx)
{
    (void)ctx;
    if (BUF_IS(ctx, tx, BUF_DNS)) {
        BUF_GIVE(ctx, tx, BUF_DNS);
    }
    if (BUF_IS(ctx, rx, BUF_DNS)) {
        BUF_GIVE(ctx, rx, BUF_DNS);
    }
}

/* After the clean-up: end a failed run, fall back, or go on. */
static picoacme_err_t cleanup_done(picoacme_ctx_t *ctx)
{
    picoacme_issue_run_t *is = &ctx->run.u.issue;
    give_buffers(ctx);
    is->dns.published = false;
    if (picoacme_err_is_error(ctx->run.problem.err)) {
        return ctx->run.problem.err; /* the failure the clean-up followed */
    }
    if (is->retry_order) {
        return goto_state(ctx, PICOACME_ST_ORDER);
    }
    return authz_done(ctx);
}

/* Published (or the hook did it): wait for the resolver, or go on. */
static picoacme_err_t published(picoacme_ctx_t *ctx)
{
    const picoacme_dns01_config_t *d = ctx->cfg.dns01;
    picoacme_dns01_run_t *r = &ctx->run.u.issue.dns;
    /* the resolver is asked at once (the next state's begin), then after
     * DNS01_BACKOFF_MIN_MS, doubled up to DNS01_BACKOFF_MAX_MS */
    r->until_ms = mono(ctx) + d->timeout_s * 1000U;
    r->backoff_ms = DNS01_BACKOFF_MIN_MS;
    return goto_state(ctx, d->resolver != NULL ? PICOACME_ST_DNS_PROPAGATE : PICOACME_ST_CHALLENGE);
}

/* ---- sending ------------------------------------------------------------------ */

/* The TCP connection for one message behind its 2-byte length (RFC 1035
 * §4.2.2, RFC 7766), or the UDP datagram. */
static picoacme_err_t dns_send(picoacme_ctx_t *ctx, const char *host, uint16_t port)
{
    const picoacme_transport_t *tp = ctx->ports.transport;
    picoacme_dns_xfer_t *x = &ctx->dns;
    picoacme_err_t e = PICOACME_ERR_IO;
    if (ctx->cfg.dns01->tcp) {
        sock_close(ctx, &x->sock);
        util_set16(ctx->tx, (unsigned)x->len);
        x->off = 0;
        x->rx = 0;
        e = tp->connect(tp->user, host, port, &x->sock);
        if (e == PICOACME_AGAIN) {
            x->sock = PICOACME_SOCK_NONE;
        }
    } else {
        if (x->sock == PICOACME_SOCK_NONE) {
            e = tp->udp_open(tp->user, &x->sock);
        }
        if (x->sock != PICOACME_SOCK_NONE) {
            e = tp->udp_send(tp->user, x->sock, host, port, ctx->tx + 2, x->len);
        }
    }
    if (e == PICOACME_AGAIN) {
        return e; /* the port still resolves the name: nothing was sent */
    }
    if (e != PICOACME_OK && e != PICOACME_WANT_WRITE) {
        sock_close(ctx, &x->sock);
    }
    return x->sock == PICOACME_SOCK_NONE ? PICOACME_ERR_IO : PICOACME_OK;
}

/* Send the DNS message in tx[2, 2 + len) and wait for its answer. */
static picoacme_err_t dns_transmit(picoacme_ctx_t *ctx)
{
    const picoacme_dns01_config_t *d = ctx->cfg.dns01;
    picoacme_dns01_run_t *r = &ctx->run.u.issue.dns;
    bool resolver = ctx->run.state == PICOACME_ST_DNS_PROPAGATE;
    picoacme_err_t e = dns_send(ctx, resolver ? d->resolver : d->server,
                                resolver ? d->resolver_port : d->server_port);
    if (e == PICOACME_AGAIN) {
        set_timer(ctx, PICOACME_RESOLVE_POLL_MS); /* then the message is built again */
        return PICOACME_OK;
    }
    if (e != PICOACME_OK) {
        if (ctx->run.state == PICOACME_ST_DNS_CLEANUP) {
            /* the clean-up never hides the failure it follows */
            LOG(ctx, PICOACME_LOG_LVL_WRN, "dns-01: cannot send the clean-up of %s", r->fqdn);
            return cleanup_done(ctx);
        }
        return fail(ctx, PICOACME_ERR_DNS,
                    resolver ? "cannot send to the dns-01 resolver"
                             : "cannot send to the dns-01 server");
    }
    ctx->run.phase = PH_DNS;
    /* retransmit after 1, 2, 4 s; a propagation query never outlives the
     * dns-01 timeout */
    ctx->dns.deadline_ms = mono(ctx) + (1000U << ctx->dns.tries);
    if (resolver && expired(ctx->dns.deadline_ms, r->until_ms)) {
        ctx->dns.deadline_ms = r->until_ms;
    }
    return PICOACME_OK;
}

/* ---- the messages ------------------------------------------------------------- */

/* The integrator's DNS provider instead of RFC 2136. */
static picoacme_err_t hook_begin(picoacme_ctx_t *ctx)
{
    const picoacme_dns01_config_t *d = ctx->cfg.dns01;
    picoacme_dns01_run_t *r = &ctx->run.u.issue.dns;
    picoacme_state_t st = ctx->run.state;
    r->published = true;
    picoacme_err_t e = d->hook->txt(d->hook->user, r->fqdn, r->txt, st == PICOACME_ST_DNS_PUBLISH);
    if (e == PICOACME_AGAIN) {
        set_timer(ctx, 100U);
        return PICOACME_OK;
    }
    if (st == PICOACME_ST_DNS_CLEANUP) {
        return cleanup_done(ctx);
    }
    if (e != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_DNS, "the DNS hook could not publish the TXT record");
    }
    return published(ctx);
}

/* The UPDATE (add or delete) of the TXT record, signed with TSIG. */
static picoacme_err_t build_update(picoacme_ctx_t *ctx, bool add)
{
    const picoacme_dns01_config_t *d = ctx->cfg.dns01;
    picoacme_dns01_run_t *r = &ctx->run.u.issue.dns;
    int64_t now = picoacme_now(ctx);
    if (add && r->step == 0U) {
        /* the configured zone */
        cpy(r->zone, sizeof r->zone, d->zone, util_strnlen(d->zone, PICOACME_NAME_MAX));
        r->step = 1;
    }
    picoacme_err_t e = picoacme_dns_update(ctx->tx + 2, sizeof ctx->tx - 2U, &ctx->dns.len,
                                           ctx->dns.id, r->zone, r->fqdn, r->txt, 60U, add,
                                           &d->tsig, now, ctx->ports.crypto, ctx->dns.mac);
    if (add && e == PICOACME_OK) {
        /* published from here on: a lost answer still gets a clean-up (an
         * UPDATE that could not be built was never sent: nothing to remove) */
        r->published = true;
    }
    return e;
}

/* The current state's message is an UPDATE (not a query). */
static bool is_update(const picoacme_ctx_t *ctx)
{
    picoacme_state_t st = ctx->run.state;
    return st == PICOACME_ST_DNS_CLEANUP ||
           (st == PICOACME_ST_DNS_PUBLISH &&
            (ctx->run.u.issue.dns.step != 0U || ctx->cfg.dns01->zone != NULL));
}

/* The message of the current state into tx[2, ...). */
static picoacme_err_t build_message(picoacme_ctx_t *ctx)
{
    const picoacme_dns01_config_t *d = ctx->cfg.dns01;
    picoacme_dns01_run_t *r = &ctx->run.u.issue.dns;
    bool soa = ctx->run.state == PICOACME_ST_DNS_PUBLISH && r->step == 0U && d->zone == NULL;
    if (!is_update(ctx)) {
        /* the resolver's view of the record, or which zone holds the name */
        return picoacme_dns_query(ctx->tx + 2, sizeof ctx->tx - 2U, &ctx->dns.len, ctx->dns.id,
                                  r->fqdn, soa ? PICOACME_DNS_TYPE_SOA : PICOACME_DNS_TYPE_TXT);
    }
    return build_update(ctx, ctx->run.state == PICOACME_ST_DNS_PUBLISH);
}

static const char *message_name(const picoacme_ctx_t *ctx)
{
    switch (ctx->run.state) {
    case PICOACME_ST_DNS_PROPAGATE: return "TXT query for";
    case PICOACME_ST_DNS_CLEANUP: return "UPDATE delete";
    default: return ctx->run.u.issue.dns.step == 0U ? "SOA query for" : "UPDATE add";
    }
}

/* Build and send the DNS message of the current dns-01 state. */
picoacme_err_t dns01_begin(picoacme_ctx_t *ctx)
{
    picoacme_err_t e;
    if (ctx->run.state != PICOACME_ST_DNS_CLEANUP) {
        /* the problem describes this DNS exchange, not the last HTTP answer
         * (the clean-up after a failure keeps that failure's problem) */
        ctx->run.problem.http_status = 0;
        ctx->run.problem.type[0] = '\0';
        ctx->run.problem.detail[0] = '\0';
    }
    /* the hook publishes and removes; the resolver (when configured) is
     * asked the same way for either */
    if (ctx->cfg.dns01->hook != NULL && ctx->run.state != PICOACME_ST_DNS_PROPAGATE) {
        return hook_begin(ctx);
    }
    if (ctx->dns.tries == 0U) {
        uint8_t rnd[2];
        if (ctx->ports.crypto->random(ctx->ports.crypto->user, rnd, sizeof rnd) != PICOACME_OK) {
            return fail(ctx, PICOACME_ERR_CRYPTO, "random");
        }
        ctx->dns.id = util_get16(rnd);
    }
    if (is_update(ctx) && picoacme_now(ctx) == PICOACME_TIME_UNKNOWN) {
        return fail(ctx, PICOACME_ERR_DNS, "the time is unknown, TSIG cannot be signed");
    }
    BUF_TAKE(ctx, tx, BUF_DNS);
    e = build_message(ctx);
    if (e != PICOACME_OK) {
        return fail(ctx, e == PICOACME_ERR_NOSPACE ? e : PICOACME_ERR_PARAM,
                    "cannot build the DNS message (name, zone or TSIG key)");
    }
    LOG(ctx, PICOACME_LOG_LVL_INF, "dns-01: %s %s", message_name(ctx), ctx->run.u.issue.dns.fqdn);
    return dns_transmit(ctx);
}

/* ---- answers ------------------------------------------------------------------ */

/* The answer to the UPDATE add (or to the SOA query before it). */
static picoacme_err_t publish_answer(picoacme_ctx_t *ctx, size_t len)
{
    const picoacme_dns01_config_t *d = ctx->cfg.dns01;
    picoacme_dns01_run_t *r = &ctx->run.u.issue.dns;
    uint8_t rcode = 0;
    if (r->step == 0U) {
        if (picoacme_dns_soa_zone(ctx->rx, len, ctx->dns.id, r->zone, sizeof r->zone) !=
            PICOACME_OK) {
            return fail(ctx, PICOACME_ERR_DNS,
                        "the dns-01 server names no zone (SOA) for the name");
        }
        r->step = 1;
        ctx->run.phase = PH_IDLE;
        return PICOACME_OK;
    }
    picoacme_err_t e = picoacme_dns_update_answer(ctx->rx, len, ctx->dns.id, &d->tsig, ctx->dns.mac,
                                                  ctx->ports.crypto, &rcode);
    if (e != PICOACME_OK || rcode != PICOACME_DNS_RCODE_NOERROR) {
        char msg[96];
        static const char pre[] = "the DNS server refused the update: ";
        const char *rn = e == PICOACME_ERR_PARSE ? "malformed answer" : rcode_name(rcode);
        size_t pl = sizeof pre - 1U;
        size_t rl = util_strnlen(rn, sizeof msg - pl - 1U);
        memcpy(msg, pre, pl);
        memcpy(msg + pl, rn, rl);
        msg[pl + rl] = '\0';
        r->published = false;
        return fail(ctx, PICOACME_ERR_DNS, msg);
    }
    return published(ctx);
}

/* The resolver's answer: the record is there, or ask again later. */
static picoacme_err_t propagate_answer(picoacme_ctx_t *ctx, size_t len, bool timed_out)
{
    picoacme_dns01_run_t *r = &ctx->run.u.issue.dns;
    uint8_t rcode = 0;
    bool found = false;
    if (!timed_out &&
        picoacme_dns_txt_has(ctx->rx, len, ctx->dns.id, r->fqdn, r->txt, &found, &rcode) ==
            PICOACME_OK &&
        found) {
        LOG(ctx, PICOACME_LOG_LVL_INF, "dns-01: %s is visible", r->fqdn);
        return goto_state(ctx, PICOACME_ST_CHALLENGE);
    }
    if (expired(mono(ctx), r->until_ms)) {
        return fail(ctx, PICOACME_ERR_TIMEOUT,
                    "the TXT record did not reach the resolver within the dns-01 timeout");
    }
    set_timer(ctx, r->backoff_ms);
    r->backoff_ms =
        r->backoff_ms >= DNS01_BACKOFF_MAX_MS / 2U ? DNS01_BACKOFF_MAX_MS : r->backoff_ms * 2U;
    return PICOACME_OK;
}

/* The answer to the UPDATE delete: logged, never a failure. */
static picoacme_err_t cleanup_answer(picoacme_ctx_t *ctx, size_t len, bool timed_out)
{
    const char *fqdn = ctx->run.u.issue.dns.fqdn;
    uint8_t rcode = 0;
    if (timed_out) {
        LOG(ctx, PICOACME_LOG_LVL_WRN, "dns-01: no answer to the clean-up of %s", fqdn);
    } else if (picoacme_dns_update_answer(ctx->rx, len, ctx->dns.id, &ctx->cfg.dns01->tsig,
                                          ctx->dns.mac, ctx->ports.crypto, &rcode) != PICOACME_OK ||
               rcode != PICOACME_DNS_RCODE_NOERROR) {
        LOG(ctx, PICOACME_LOG_LVL_WRN, "dns-01: clean-up of %s refused", fqdn);
    }
    return cleanup_done(ctx);
}

/* An answer (or none, len 0) to the DNS message in flight. */
static picoacme_err_t dns_answer(picoacme_ctx_t *ctx, size_t len, bool timed_out)
{
    picoacme_err_t e;
    ctx->dns.tries = 0;
    ctx->run.phase = PH_IDLE;
    switch (ctx->run.state) {
    case PICOACME_ST_DNS_PUBLISH:
        e = timed_out ? fail(ctx, PICOACME_ERR_DNS, "the dns-01 server did not answer")
                      : publish_answer(ctx, len);
        break;
    case PICOACME_ST_DNS_PROPAGATE: e = propagate_answer(ctx, len, timed_out); break;
    case PICOACME_ST_DNS_CLEANUP: e = cleanup_answer(ctx, len, timed_out); break;
    default: e = fail(ctx, PICOACME_ERR_STATE, "DNS answer in an unexpected state"); break;
    }
    give_buffers(ctx);
    return e;
}

/* No answer in time, or the connection failed: send again, or give up. */
static picoacme_err_t dns_no_answer(picoacme_ctx_t *ctx)
{
    ctx->run.phase = PH_IDLE;
    if (ctx->cfg.dns01->tcp) {
        sock_close(ctx, &ctx->dns.sock);
    }
    if (ctx->dns.tries < 2U) {
        ctx->dns.tries++;
        return dns_transmit(ctx);
    }
    return dns_answer(ctx, 0U, true);
}

/* DNS over TCP: send the length-prefixed message. */
static picoacme_err_t tcp_send(picoacme_ctx_t *ctx)
{
    const picoacme_transport_t *tp = ctx->ports.transport;
    picoacme_dns_xfer_t *x = &ctx->dns;
    for (unsigned guard = 0; guard < 16U && x->off < x->len + 2U; guard++) {
        size_t n = 0;
        picoacme_err_t e = tp->send(tp->user, x->sock, ctx->tx + x->off, x->len + 2U - x->off, &n);
        if (e != PICOACME_OK) {
            return e;
        }
        x->off += n;
    }
    return PICOACME_OK;
}

/* DNS over TCP: read the length-prefixed answer into rx; *len once whole. */
static picoacme_err_t tcp_recv(picoacme_ctx_t *ctx, size_t *len)
{
    const picoacme_transport_t *tp = ctx->ports.transport;
    picoacme_dns_xfer_t *x = &ctx->dns;
    for (unsigned guard = 0; guard < 16U; guard++) {
        size_t n = 0;
        size_t want = x->rx < 2U ? 2U : 2U + util_get16(ctx->rx);
        if (want > sizeof ctx->rx) {
            return PICOACME_ERR_NOSPACE;
        }
        if (x->rx == want && want > 2U) {
            *len = want - 2U;
            memmove(ctx->rx, ctx->rx + 2, *len);
            return PICOACME_OK;
        }
        picoacme_err_t e = tp->recv(tp->user, x->sock, ctx->rx + x->rx, want - x->rx, &n);
        if (e != PICOACME_OK) {
            return e;
        }
        x->rx += n;
    }
    return PICOACME_WANT_READ;
}

static picoacme_err_t pump_tcp(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    uint32_t now = mono(ctx);
    size_t len = 0;
    picoacme_err_t e = tcp_send(ctx);
    if (e == PICOACME_OK) {
        e = tcp_recv(ctx, &len);
    }
    if (e == PICOACME_OK) {
        sock_close(ctx, &ctx->dns.sock);
        if (len < 2U || util_get16(ctx->rx) != ctx->dns.id) {
            return dns_no_answer(ctx);
        }
        return dns_answer(ctx, len, false);
    }
    if ((e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE) &&
        !expired(now, ctx->dns.deadline_ms)) {
        wait_add(wait, ctx->dns.sock,
                 e == PICOACME_WANT_READ ? PICOACME_EV_READ : PICOACME_EV_WRITE);
        wait_timer(wait, remaining(now, ctx->dns.deadline_ms));
        return PICOACME_WANT_READ;
    }
    return dns_no_answer(ctx);
}

picoacme_err_t dns01_pump(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    const picoacme_transport_t *tp = ctx->ports.transport;
    BUF_TAKE(ctx, rx, BUF_DNS);
    if (ctx->cfg.dns01->tcp) {
        return pump_tcp(ctx, wait);
    }
    for (unsigned guard = 0; guard < 8U; guard++) {
        size_t n = 0;
        picoacme_err_t e = tp->udp_recv(tp->user, ctx->dns.sock, ctx->rx, sizeof ctx->rx, &n);
        if (e == PICOACME_WANT_READ) {
            uint32_t now = mono(ctx);
            if (expired(now, ctx->dns.deadline_ms)) {
                return dns_no_answer(ctx);
            }
            wait_add(wait, ctx->dns.sock, PICOACME_EV_READ);
            wait_timer(wait, remaining(now, ctx->dns.deadline_ms));
            return PICOACME_WANT_READ;
        }
        if (e != PICOACME_OK) {
            return dns_no_answer(ctx);
        }
        /* datagrams of other ids (late retransmissions) are dropped */
        if (n >= 2U && util_get16(ctx->rx) == ctx->dns.id) {
            return dns_answer(ctx, n, false);
        }
    }
    return PICOACME_OK;
}
#endif
