/*
 * engine.c - the ACME flow of RFC 8555 as an explicit, pumped state
 * machine: directory (§7.1.1) -> nonce (§7.2) -> account (§7.3) -> order
 * (§7.4) -> authorizations (§7.5) -> challenge (§7.5.1, http-01 §8.3) ->
 * poll (§7.5.1, Retry-After) -> finalize (§7.4) -> poll order -> download
 * (§7.4.2) -> store. One connection kept alive across the flow, the
 * Replay-Nonce of every response reused, badNonce (§6.5) retried.
 * ACME Renewal Information (RFC 9773, PICOACME_ARI): directory ->
 * renewalInfo/<CertID> (§4.1) -> a random point in the suggested window
 * (§4.2); "replaces" in the newOrder of a renewal (§5).
 * Lifecycle (PICOACME_LIFECYCLE): directory -> the stored account
 * (onlyReturnExisting) -> revokeCert (§7.6), keyChange (§7.3.5) or the
 * account deactivated (§7.3.6).
 */
#include "picoacme.h"

#include <string.h>

#include "picoacme_b64.h"
#include "picoacme_dns.h"
#include "picoacme_jws.h"
#include "picoacme_store.h"

#define ERR_PREFIX     "urn:ietf:params:acme:error:"
#define ERR_PREFIX_LEN 27U

/* exchange phases */
enum { PH_IDLE = 0, PH_TIMER, PH_CONNECT, PH_SEND, PH_RECV, PH_DNS };

/* store record tags (TLV: tag u8, length u16 little endian, value) */
enum { T_DIR = 1, T_ACCT_KEY = 2, T_ACCT_URL = 3, T_CERT_KEY = 4, T_CERT = 5 };

/* Room kept in front of a POST body for the request head. */
#define HEAD_ROOM 448U

#if PICOACME_ARI
#define ARI_RUN(ctx) ((ctx)->ari_run)
/* RFC 9773 §4.3: Retry-After when the CA sends none, and the bounds kept */
#define ARI_RETRY_DEFAULT_S 21600U
#define ARI_RETRY_MIN_S     60U
#define ARI_RETRY_MAX_S     86400U
#else
#define ARI_RUN(ctx) false
#endif

#if PICOACME_LIFECYCLE
#define LC_NEXT(ctx) ((ctx)->lc_next)
#else
#define LC_NEXT(ctx) PICOACME_ST_IDLE
#endif

#define LOG(ctx, lvl, ...)                                                                         \
    do {                                                                                           \
        if (PICOACME_LOG_LEVEL >= (lvl) && (ctx)->ports.log != NULL) {                             \
            (ctx)->ports.log((ctx)->ports.log_user, (lvl), __VA_ARGS__);                           \
        }                                                                                          \
    } while (0)

static const char *const state_names[] = {
    "start",        "directory",          "nonce",          "account",
    "order",        "authorization",      "dns-01 publish", "dns-01 propagation",
    "challenge",    "poll authorization", "dns-01 cleanup", "finalize",
    "poll order",   "certificate",        "store",          "done",
    "failed",
#if PICOACME_ARI || PICOACME_LIFECYCLE
    "renewal info",
#endif
#if PICOACME_LIFECYCLE
    "revoke",       "key change",         "deactivate",
#endif
};

static const char *const chall_names[PICOACME_CHALL_TYPES] = {"http-01", "tls-alpn-01", "dns-01"};

const char *picoacme_state_str(picoacme_state_t s)
{
    if ((size_t)s < sizeof state_names / sizeof state_names[0]) {
        return state_names[s];
    }
    return "?";
}

/* ---- small helpers ------------------------------------------------------ */

static uint32_t mono(const picoacme_ctx_t *ctx)
{
    return ctx->ports.clock->mono_ms(ctx->ports.clock->user);
}

/* true when deadline has passed (wrap-safe) */
static bool expired(uint32_t now, uint32_t deadline)
{
    return (int32_t)(now - deadline) >= 0;
}

static uint32_t remaining(uint32_t now, uint32_t deadline)
{
    return expired(now, deadline) ? 0U : deadline - now;
}

static void cpy(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap) {
        len = cap - 1U;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static size_t slen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n] != '\0') {
        n++;
    }
    return n;
}

static bool ieq(const char *a, size_t alen, const char *b)
{
    size_t i;
    for (i = 0; i < alen; i++) {
        char x = a[i];
        char y = b[i];
        if (y == '\0') {
            return false;
        }
        if (x >= 'A' && x <= 'Z') {
            x = (char)(x - 'A' + 'a');
        }
        if (y >= 'A' && y <= 'Z') {
            y = (char)(y - 'A' + 'a');
        }
        if (x != y) {
            return false;
        }
    }
    return b[alen] == '\0';
}

static void wait_add(picoacme_wait_t *w, picoacme_sock_t s, uint8_t ev)
{
    if (w != NULL && s != PICOACME_SOCK_NONE && w->count < PICOACME_WAIT_SOCKS) {
        w->sock[w->count] = s;
        w->events[w->count] = ev;
        w->count++;
    }
}

static void wait_timer(picoacme_wait_t *w, uint32_t ms)
{
    if (w != NULL && ms < w->timeout_ms) {
        w->timeout_ms = ms;
    }
}

static void conn_close(picoacme_ctx_t *ctx)
{
    if (ctx->sock != PICOACME_SOCK_NONE) {
        if (ctx->conn_tls && ctx->ports.tls != NULL) {
            ctx->ports.tls->close(ctx->ports.tls->user);
        }
        ctx->ports.transport->close(ctx->ports.transport->user, ctx->sock);
        ctx->sock = PICOACME_SOCK_NONE;
    }
}

static void h01_close(picoacme_ctx_t *ctx)
{
    if (ctx->h01_sock != PICOACME_SOCK_NONE) {
        ctx->ports.transport->close(ctx->ports.transport->user, ctx->h01_sock);
        ctx->h01_sock = PICOACME_SOCK_NONE;
    }
}

static void alpn_close(picoacme_ctx_t *ctx)
{
    if (ctx->alpn_sock != PICOACME_SOCK_NONE) {
        if (ctx->alpn_open && ctx->ports.tls != NULL && ctx->ports.tls->server_close != NULL) {
            ctx->ports.tls->server_close(ctx->ports.tls->user);
        }
        ctx->ports.transport->close(ctx->ports.transport->user, ctx->alpn_sock);
        ctx->alpn_sock = PICOACME_SOCK_NONE;
    }
    ctx->alpn_open = false;
}

static void sock_close(picoacme_ctx_t *ctx, picoacme_sock_t *s)
{
    if (*s != PICOACME_SOCK_NONE) {
        ctx->ports.transport->close(ctx->ports.transport->user, *s);
        *s = PICOACME_SOCK_NONE;
    }
}

static void release(picoacme_ctx_t *ctx)
{
    conn_close(ctx);
    h01_close(ctx);
    alpn_close(ctx);
    sock_close(ctx, &ctx->h01_lsock);
    sock_close(ctx, &ctx->alpn_lsock);
    sock_close(ctx, &ctx->dns_sock);
    ctx->alpn_cert_len = 0;
}

/* Record a failure. With PICOACME_ERROR_TEXT 0 the detail sentences are
 * left out of the image (the CA's problem detail is still kept). */
#define fail(ctx, err, detail) fail_((ctx), (err), PICOACME_ERROR_TEXT ? (detail) : NULL)

static picoacme_err_t fail_(picoacme_ctx_t *ctx, picoacme_err_t err, const char *detail)
{
    ctx->problem.err = err;
    ctx->problem.state = ctx->state;
    if (detail != NULL) {
        cpy(ctx->problem.detail, sizeof ctx->problem.detail, detail,
            slen(detail, sizeof ctx->problem.detail));
    }
    LOG(ctx, PICOACME_LOG_LVL_ERR, "%s failed: %s%s%s (HTTP %u): %s",
        picoacme_state_str(ctx->state), picoacme_err_str(err),
        ctx->problem.type[0] != '\0' ? ", " : "", ctx->problem.type,
        (unsigned)ctx->problem.http_status, ctx->problem.detail);
    if (ctx->dns_published && ctx->state != PICOACME_ST_DNS_CLEANUP) {
        /* the TXT record is removed on failure too; the failure is reported
         * once that is done */
        ctx->final_err = err;
        conn_close(ctx);
        ctx->state = PICOACME_ST_DNS_CLEANUP;
        ctx->phase = 0;
        ctx->dns_tries = 0;
        return PICOACME_AGAIN;
    }
    ctx->state = PICOACME_ST_FAILED;
    release(ctx);
    /* the certificate key of a failed order is never kept */
    memset(ctx->rx, 0, sizeof ctx->rx);
    memset(ctx->work, 0, sizeof ctx->work);
    return err;
}

static void goto_state(picoacme_ctx_t *ctx, picoacme_state_t st)
{
    ctx->state = st;
    ctx->phase = PH_IDLE;
    ctx->bad_nonce_left = PICOACME_BADNONCE_RETRIES;
    ctx->rate_limit_left = PICOACME_RATELIMIT_RETRIES;
}

static void set_timer(picoacme_ctx_t *ctx, uint32_t ms)
{
    ctx->phase = PH_TIMER;
    ctx->deadline_ms = mono(ctx) + ms;
}

/* ---- time ------------------------------------------------------------ */

int64_t picoacme_now(const picoacme_ctx_t *ctx)
{
    int64_t w = ctx->ports.clock->wall_s(ctx->ports.clock->user);
    if (w != PICOACME_TIME_UNKNOWN) {
        return w;
    }
    if (ctx->date_s > 0) {
        return ctx->date_s + (int64_t)((uint32_t)(mono(ctx) - ctx->date_mono_ms) / 1000U);
    }
    return PICOACME_TIME_UNKNOWN;
}

int64_t picoacme_renew_at(int64_t not_before_s, int64_t not_after_s)
{
    int64_t life = not_after_s - not_before_s;
    uint32_t l;
    if (life <= 0) {
        return not_before_s;
    }
    /* 32-bit arithmetic only (no 64-bit division helper on Cortex-M);
     * lifetimes beyond 136 years are taken as 136 years */
    l = life > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)life;
    return not_before_s + (int64_t)(l / 1000U) * (int64_t)PICOACME_RENEW_PERMILLE +
           (int64_t)((l % 1000U) * PICOACME_RENEW_PERMILLE / 1000U);
}

/* ---- requests ----------------------------------------------------------- */

/* Begin an exchange of tx[tx_off, tx_end) with the host of url. */
static picoacme_err_t exchange_begin(picoacme_ctx_t *ctx, const picoacme_url_t *url, bool head)
{
    if (url->host_len >= sizeof ctx->conn_host) {
        return PICOACME_ERR_NOSPACE;
    }
    if (url->https && ctx->ports.tls == NULL) {
        return PICOACME_ERR_UNSUPPORTED;
    }
    /* a request to another origin than the open connection's reconnects */
    if (ctx->sock != PICOACME_SOCK_NONE &&
        (url->port != ctx->conn_port || url->https != ctx->conn_tls ||
         !ieq(url->host, url->host_len, ctx->conn_host))) {
        conn_close(ctx);
    }
    cpy(ctx->conn_host, sizeof ctx->conn_host, url->host, url->host_len);
    ctx->conn_port = url->port;
    ctx->conn_tls = url->https;
    ctx->conn_retried = false;
    /* the problem detail describes this exchange, not the previous answer */
    ctx->problem.http_status = 0;
    ctx->problem.type[0] = '\0';
    ctx->problem.detail[0] = '\0';
    ctx->tx_start = ctx->tx_off;
    ctx->rx_len = 0;
    picoacme_http_resp_init(&ctx->resp, head);
    ctx->phase = PH_CONNECT;
    ctx->deadline_ms = mono(ctx) + PICOACME_IO_TIMEOUT_MS;
    ctx->stats.requests++;
    return PICOACME_OK;
}

static picoacme_err_t parse_url(picoacme_ctx_t *ctx, const char *u, picoacme_url_t *url)
{
    picoacme_err_t e = picoacme_url_parse(u, slen(u, PICOACME_URL_MAX), url);
    if (e != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_PROTOCOL, "the CA gave a URL that cannot be used");
    }
    return PICOACME_OK;
}

/* GET or HEAD of url. */
static picoacme_err_t request_get(picoacme_ctx_t *ctx, const char *u, bool head, const char *accept)
{
    picoacme_url_t url;
    size_t n = 0;
    picoacme_err_t e = parse_url(ctx, u, &url);
    if (e != PICOACME_OK) {
        return e;
    }
    e = picoacme_http_request(ctx->tx, sizeof ctx->tx, &n, head ? "HEAD" : "GET", &url, accept,
                              NULL, 0U);
    if (e != PICOACME_OK) {
        return fail(ctx, e, "request does not fit PICOACME_TX_BUF_SIZE");
    }
    ctx->tx_off = 0;
    ctx->tx_end = n;
    LOG(ctx, PICOACME_LOG_LVL_INF, "%s %s", head ? "HEAD" : "GET", u);
    e = exchange_begin(ctx, &url, head);
    return e == PICOACME_OK ? e : fail(ctx, e, "cannot reach the CA URL");
}

/* POST the JWS of payload (work[0, payload_len)) to url, signed with the
 * account key: with the JWK for newAccount, with the account URL otherwise
 * (§6.2). Without a nonce, one is fetched first. */
static picoacme_err_t request_post(picoacme_ctx_t *ctx, const char *u, size_t payload_len, bool jwk,
                                   const char *accept)
{
    picoacme_url_t url;
    picoacme_jw_t w;
    size_t prot_len = 0;
    size_t body_len = 0;
    size_t head_len = 0;
    size_t body_off = HEAD_ROOM;
    size_t tail;
    char *prot;
    picoacme_err_t e;

    if (ctx->nonce[0] == '\0') {
        ctx->resume = ctx->state;
        goto_state(ctx, PICOACME_ST_NONCE);
        return request_get(ctx, ctx->new_nonce, true, NULL);
    }
    e = parse_url(ctx, u, &url);
    if (e != PICOACME_OK) {
        return e;
    }
    /* protected header, after the payload in work */
    prot = ctx->work + payload_len;
    picoacme_jw_init(&w, prot, sizeof ctx->work - payload_len);
    picoacme_jw_obj_begin(&w);
    picoacme_jw_key(&w, "alg");
    picoacme_jw_str(&w, "ES256", 5U);
    if (jwk) {
        uint8_t pub[64];
        char jwk_json[128];
        size_t jwk_len = 0;
        e = ctx->ports.crypto->key_public(ctx->ports.crypto->user, PICOACME_KEY_ACCOUNT, pub);
        if (e == PICOACME_OK) {
            e = picoacme_jwk_write(pub, jwk_json, sizeof jwk_json, &jwk_len);
        }
        if (e != PICOACME_OK) {
            return fail(ctx, PICOACME_ERR_CRYPTO, "account public key unavailable");
        }
        picoacme_jw_key(&w, "jwk");
        picoacme_jw_raw(&w, jwk_json, jwk_len);
    } else {
        picoacme_jw_key(&w, "kid");
        picoacme_jw_str(&w, ctx->account_url, slen(ctx->account_url, sizeof ctx->account_url));
    }
    picoacme_jw_key(&w, "nonce");
    picoacme_jw_str(&w, ctx->nonce, slen(ctx->nonce, sizeof ctx->nonce));
    picoacme_jw_key(&w, "url");
    picoacme_jw_str(&w, u, slen(u, PICOACME_URL_MAX));
    picoacme_jw_obj_end(&w);
    e = picoacme_jw_finish(&w, &prot_len);
    if (e != PICOACME_OK) {
        return fail(ctx, e, "JWS header does not fit PICOACME_WORK_BUF_SIZE");
    }
    /* a nonce is used once (§7.2) */
    ctx->nonce[0] = '\0';
    e = picoacme_jws_es256(ctx->ports.crypto, PICOACME_KEY_ACCOUNT, prot, prot_len, ctx->work,
                           payload_len, (char *)ctx->tx + body_off, sizeof ctx->tx - body_off,
                           &body_len);
    if (e != PICOACME_OK) {
        return fail(ctx, e,
                    e == PICOACME_ERR_NOSPACE ? "request does not fit PICOACME_TX_BUF_SIZE"
                                              : "signing the request failed");
    }
    tail = body_off + body_len;
    e = picoacme_http_request(ctx->tx + tail, sizeof ctx->tx - tail, &head_len, "POST", &url,
                              accept, "application/jose+json", body_len);
    if (e != PICOACME_OK || head_len > body_off) {
        return fail(ctx, PICOACME_ERR_NOSPACE, "request does not fit PICOACME_TX_BUF_SIZE");
    }
    memmove(ctx->tx + body_off - head_len, ctx->tx + tail, head_len);
    ctx->tx_off = body_off - head_len;
    ctx->tx_end = tail;
    LOG(ctx, PICOACME_LOG_LVL_INF, "POST %s", u);
    e = exchange_begin(ctx, &url, false);
    return e == PICOACME_OK ? e : fail(ctx, e, "cannot reach the CA URL");
}

/* POST-as-GET (§6.3) */
static picoacme_err_t request_post_as_get(picoacme_ctx_t *ctx, const char *u, const char *accept)
{
    return request_post(ctx, u, 0U, false, accept);
}

/* ---- the exchange pump --------------------------------------------------- */

static picoacme_err_t io_send(picoacme_ctx_t *ctx, const uint8_t *b, size_t n, size_t *done)
{
    if (ctx->conn_tls) {
        return ctx->ports.tls->send(ctx->ports.tls->user, b, n, done);
    }
    return ctx->ports.transport->send(ctx->ports.transport->user, ctx->sock, b, n, done);
}

static picoacme_err_t io_recv(picoacme_ctx_t *ctx, uint8_t *b, size_t n, size_t *done)
{
    if (ctx->conn_tls) {
        return ctx->ports.tls->recv(ctx->ports.tls->user, b, n, done);
    }
    return ctx->ports.transport->recv(ctx->ports.transport->user, ctx->sock, b, n, done);
}

/* A kept-alive connection the server closed before answering: reconnect
 * once and send the same request again (it was never processed). */
static bool retry_fresh(picoacme_ctx_t *ctx)
{
    if (ctx->conn_reused && !ctx->conn_retried && ctx->rx_len == 0U) {
        conn_close(ctx);
        ctx->conn_retried = true;
        ctx->tx_off = ctx->tx_start;
        ctx->phase = PH_CONNECT;
        return true;
    }
    return false;
}

static picoacme_err_t pump(picoacme_ctx_t *ctx)
{
    picoacme_err_t e;
    for (;;) {
        if (ctx->phase == PH_CONNECT) {
            if (ctx->sock != PICOACME_SOCK_NONE) {
                ctx->conn_reused = true;
            } else {
                ctx->conn_reused = false;
                e = ctx->ports.transport->connect(ctx->ports.transport->user, ctx->conn_host,
                                                  ctx->conn_port, &ctx->sock);
                if (e != PICOACME_OK) {
                    ctx->sock = PICOACME_SOCK_NONE;
                    if (e == PICOACME_AGAIN) {
                        return e; /* TEMP: the host name is being resolved */
                    }
                    return e == PICOACME_ERR_IO || e == PICOACME_ERR_NOT_FOUND ? e
                                                                               : PICOACME_ERR_IO;
                }
                ctx->stats.connections++;
                if (ctx->conn_tls) {
                    e = ctx->ports.tls->open(ctx->ports.tls->user, ctx->sock, ctx->conn_host);
                    if (e != PICOACME_OK) {
                        ctx->ports.transport->close(ctx->ports.transport->user, ctx->sock);
                        ctx->sock = PICOACME_SOCK_NONE;
                        return e;
                    }
                }
            }
            ctx->phase = PH_SEND;
        }
        if (ctx->phase == PH_SEND) {
            while (ctx->tx_off < ctx->tx_end) {
                size_t n = 0;
                e = io_send(ctx, ctx->tx + ctx->tx_off, ctx->tx_end - ctx->tx_off, &n);
                if (e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE) {
                    ctx->want = e == PICOACME_WANT_READ ? PICOACME_EV_READ : PICOACME_EV_WRITE;
                    return e;
                }
                if (e != PICOACME_OK) {
                    if (retry_fresh(ctx)) {
                        break;
                    }
                    return e;
                }
                ctx->tx_off += n;
            }
            if (ctx->phase == PH_CONNECT) {
                continue;
            }
            ctx->phase = PH_RECV;
        }
        if (ctx->phase == PH_RECV) {
            for (;;) {
                size_t n = 0;
                bool closed = false;
                if (ctx->rx_len >= sizeof ctx->rx) {
                    return PICOACME_ERR_NOSPACE;
                }
                e = io_recv(ctx, ctx->rx + ctx->rx_len, sizeof ctx->rx - ctx->rx_len, &n);
                if (e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE) {
                    ctx->want = e == PICOACME_WANT_READ ? PICOACME_EV_READ : PICOACME_EV_WRITE;
                    return e;
                }
                if (e == PICOACME_ERR_CLOSED) {
                    closed = true;
                    if (ctx->rx_len == 0U) {
                        if (retry_fresh(ctx)) {
                            break;
                        }
                        return PICOACME_ERR_CLOSED;
                    }
                } else if (e != PICOACME_OK) {
                    return e;
                }
                ctx->rx_len += n;
                e = picoacme_http_parse(&ctx->resp, ctx->rx, &ctx->rx_len, sizeof ctx->rx, closed);
                if (e == PICOACME_OK) {
                    return PICOACME_OK;
                }
                if (e != PICOACME_AGAIN) {
                    return e;
                }
                if (closed) {
                    return PICOACME_ERR_CLOSED;
                }
            }
            if (ctx->phase == PH_CONNECT) {
                continue;
            }
        }
        return PICOACME_ERR_STATE;
    }
}

/* ---- response handling ---------------------------------------------------- */

static const char *span(const picoacme_ctx_t *ctx, picoacme_span_t s)
{
    return (const char *)ctx->rx + s.off;
}

static picoacme_err_t body_json(picoacme_ctx_t *ctx, picoacme_json_t *j)
{
    picoacme_err_t e = picoacme_json_parse(j, span(ctx, ctx->resp.body), ctx->resp.body.len,
                                           ctx->tok, PICOACME_JSON_TOKENS);
    if (e == PICOACME_ERR_NOSPACE) {
        return fail(ctx, e, "CA answer has more JSON tokens than PICOACME_JSON_TOKENS");
    }
    if (e != PICOACME_OK || !picoacme_json_is_object(j, 0)) {
        return fail(ctx, PICOACME_ERR_PARSE, "CA answer is not a JSON object");
    }
    return PICOACME_OK;
}

static picoacme_err_t get_url(picoacme_ctx_t *ctx, const picoacme_json_t *j, int obj,
                              const char *key, char *out, bool required)
{
    size_t n = 0;
    picoacme_err_t e = picoacme_json_get_string(j, obj, key, out, PICOACME_URL_MAX, &n);
    if (e == PICOACME_ERR_NOT_FOUND && !required) {
        out[0] = '\0';
        return PICOACME_OK;
    }
    if (e == PICOACME_ERR_NOSPACE) {
        return fail(ctx, e, "a URL from the CA is longer than PICOACME_URL_MAX");
    }
    if (e != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_PROTOCOL, key);
    }
    return PICOACME_OK;
}

/* The "status" member compared to s. */
static bool status_is(const picoacme_json_t *j, int obj, const char *s)
{
    int t = picoacme_json_member(j, obj, "status");
    return t >= 0 && picoacme_json_string_eq(j, t, s);
}

/* Record a problem document (RFC 7807, §6.7) found at object obj. */
static void take_problem(picoacme_ctx_t *ctx, const picoacme_json_t *j, int obj)
{
    char type[96];
    size_t n = 0;
    if (picoacme_json_get_string(j, obj, "type", type, sizeof type, &n) == PICOACME_OK) {
        const char *t = type;
        if (n >= ERR_PREFIX_LEN && memcmp(type, ERR_PREFIX, ERR_PREFIX_LEN) == 0) {
            t += ERR_PREFIX_LEN;
            n -= ERR_PREFIX_LEN;
        }
        cpy(ctx->problem.type, sizeof ctx->problem.type, t, n);
    }
    if (picoacme_json_get_string(j, obj, "detail", ctx->problem.detail, sizeof ctx->problem.detail,
                                 &n) == PICOACME_ERR_NOSPACE) {
        /* keep what fits: copy the raw prefix */
        int d = picoacme_json_member(j, obj, "detail");
        if (d >= 0) {
            size_t len = (size_t)(j->tok[d].end - j->tok[d].start);
            cpy(ctx->problem.detail, sizeof ctx->problem.detail, j->js + j->tok[d].start, len);
        }
    }
}

static bool problem_is(const picoacme_ctx_t *ctx, const char *type)
{
    size_t n = slen(type, sizeof ctx->problem.type);
    return memcmp(ctx->problem.type, type, n) == 0 && ctx->problem.type[n] == '\0';
}

static void schedule_poll(picoacme_ctx_t *ctx)
{
    uint32_t ms = ctx->backoff_ms;
    if (ctx->resp.has_retry_after) {
        uint32_t ra = ctx->resp.retry_after_s;
        ms = ra > PICOACME_RETRY_AFTER_MAX_S ? PICOACME_RETRY_AFTER_MAX_S * 1000U : ra * 1000U;
    }
    ctx->backoff_ms =
        ctx->backoff_ms >= PICOACME_POLL_MAX_MS / 2U ? PICOACME_POLL_MAX_MS : ctx->backoff_ms * 2U;
    ctx->stats.polls++;
    set_timer(ctx, ms);
}

static void start_polls(picoacme_ctx_t *ctx, picoacme_state_t st)
{
    goto_state(ctx, st);
    ctx->polls_left = PICOACME_POLL_MAX;
    ctx->backoff_ms = PICOACME_POLL_MIN_MS;
}

static picoacme_err_t poll_again(picoacme_ctx_t *ctx)
{
    if (ctx->polls_left == 0U) {
        return fail(ctx, PICOACME_ERR_TIMEOUT,
                    "the CA did not finish within PICOACME_POLL_MAX polls");
    }
    ctx->polls_left--;
    schedule_poll(ctx);
    return PICOACME_OK;
}

/* The configured preference list ({http-01} when empty). */
static size_t prefs(const picoacme_ctx_t *ctx, const picoacme_chall_type_t **list)
{
    static const picoacme_chall_type_t dflt[1] = {PICOACME_CHALL_HTTP01};
    /* built with http-01 alone, the list is that whatever the configuration
     * says (the other types could not be answered) */
    if (!(PICOACME_TLSALPN01 || PICOACME_DNS01) || ctx->cfg.n_challenges == 0U) {
        *list = dflt;
        return 1U;
    }
    *list = ctx->cfg.challenges;
    return ctx->cfg.n_challenges < PICOACME_CHALL_TYPES ? ctx->cfg.n_challenges
                                                        : PICOACME_CHALL_TYPES;
}

/* Can challenge type t validate this identifier? (§8.4: only dns-01 for
 * wildcards; RFC 8738 §7: no dns-01 for IP addresses.) */
static bool type_fits(picoacme_chall_type_t t, bool ip, bool wildcard)
{
    if (wildcard) {
        return t == PICOACME_CHALL_DNS01;
    }
    return !(ip && t == PICOACME_CHALL_DNS01);
}

/* The next allowed, fitting type not yet failed for identifier idx. */
static bool type_left(const picoacme_ctx_t *ctx, size_t idx, bool ip, bool wildcard)
{
    const picoacme_chall_type_t *list;
    size_t n = prefs(ctx, &list);
    size_t i;
    for (i = 0; i < n; i++) {
        if (type_fits(list[i], ip, wildcard) && (ctx->failed[idx] & (1U << list[i])) == 0U) {
            return true;
        }
    }
    return false;
}

/* The authorization is done (valid): clean up dns-01, then go on. */
static void authz_done(picoacme_ctx_t *ctx)
{
    if (ctx->dns_published) {
        goto_state(ctx, PICOACME_ST_DNS_CLEANUP);
        ctx->dns_tries = 0;
        return;
    }
    ctx->alpn_cert_len = 0;
    ctx->authz_idx++;
    goto_state(ctx, ctx->authz_idx < ctx->n_authz ? PICOACME_ST_AUTHZ : PICOACME_ST_FINALIZE);
}

/* The challenge of the current authorization failed (the problem is
 * recorded): fall back to the next allowed type with a new order (an
 * invalid authorization cannot be retried, §7.1.4), or fail. */
static picoacme_err_t challenge_failed(picoacme_ctx_t *ctx)
{
    ctx->failed[ctx->id_idx] = (uint8_t)(ctx->failed[ctx->id_idx] | (1U << ctx->chall));
    if (type_left(ctx, ctx->id_idx, ctx->authz_ip, ctx->authz_wildcard) &&
        ctx->orders < 1U + PICOACME_CHALL_TYPES * PICOACME_MAX_IDENTIFIERS) {
        LOG(ctx, PICOACME_LOG_LVL_WRN, "%s failed for %s (%s); next challenge type, new order",
            chall_names[ctx->chall], ctx->authz_name, ctx->problem.type);
        ctx->retry_order = true;
        if (ctx->dns_published) {
            goto_state(ctx, PICOACME_ST_DNS_CLEANUP);
            ctx->dns_tries = 0;
        } else {
            goto_state(ctx, PICOACME_ST_ORDER);
        }
        return PICOACME_OK;
    }
    return fail(ctx, PICOACME_ERR_INVALID, NULL);
}

/* An invalid authorization: report the failed challenge's error. */
static picoacme_err_t authz_invalid(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    int ch = picoacme_json_member(j, 0, "challenges");
    int i;
    for (i = 0; ch >= 0 && i < picoacme_json_size(j, ch); i++) {
        int c = picoacme_json_element(j, ch, i);
        int err = picoacme_json_member(j, c, "error");
        if (err >= 0) {
            take_problem(ctx, j, err);
            break;
        }
    }
    return challenge_failed(ctx);
}

/* store record tags and lookup, defined with the store record below */
static picoacme_err_t tlv_find(const uint8_t *rec, size_t len, uint8_t tag, size_t *off,
                               size_t *vlen);

#if PICOACME_ARI
/* ---- ACME Renewal Information (RFC 9773) ------------------------------------ */

/* RFC 9773 §4.1 */
picoacme_err_t picoacme_ari_certid(const picoacme_x509_t *c, char *out, size_t cap, size_t *out_len)
{
    size_t a = 0;
    size_t n = 0;
    picoacme_err_t e;
    if (c == NULL || out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (c->aki == NULL || c->aki_len == 0U || c->serial == NULL || c->serial_len == 0U) {
        return PICOACME_ERR_NOT_FOUND;
    }
    e = picoacme_b64url_encode(c->aki, c->aki_len, out, cap, &a);
    if (e == PICOACME_OK && cap - a < 2U) {
        e = PICOACME_ERR_NOSPACE;
    }
    if (e == PICOACME_OK) {
        out[a] = '.';
        /* the serial's INTEGER contents as they are in the DER */
        e = picoacme_b64url_encode(c->serial, c->serial_len, out + a + 1, cap - a - 2U, &n);
    }
    if (e != PICOACME_OK) {
        return e == PICOACME_ERR_NOSPACE ? e : PICOACME_ERR_PARSE;
    }
    out[a + 1U + n] = '\0';
    *out_len = a + 1U + n;
    return PICOACME_OK;
}

/* The CertID of the leaf in the store record rx[0, len) into ari_certid. */
static picoacme_err_t record_certid(picoacme_ctx_t *ctx, size_t len)
{
    picoacme_x509_t c;
    size_t off = 0;
    size_t vl = 0;
    size_t pos = 0;
    size_t der_len = 0;
    size_t n = 0;
    picoacme_err_t e = tlv_find(ctx->rx, len, T_CERT, &off, &vl);
    if (e == PICOACME_OK) {
        e = picoacme_pem_next((const char *)ctx->rx + off, vl, &pos, ctx->tx, sizeof ctx->tx,
                              &der_len);
    }
    if (e == PICOACME_OK) {
        e = picoacme_x509_parse(ctx->tx, der_len, &c);
    }
    if (e == PICOACME_OK) {
        e = picoacme_ari_certid(&c, ctx->ari_certid, sizeof ctx->ari_certid, &n);
        if (e == PICOACME_ERR_NOT_FOUND) {
            e = PICOACME_ERR_UNSUPPORTED; /* no authorityKeyIdentifier */
        }
    }
    if (e != PICOACME_OK) {
        ctx->ari_certid[0] = '\0';
    }
    return e;
}

static picoacme_err_t ari_done(picoacme_ctx_t *ctx)
{
    release(ctx);
    ctx->state = PICOACME_ST_DONE;
    return PICOACME_OK;
}

/* The directory of an ARI exchange: the renewalInfo URL "/" CertID (§4.1)
 * goes to work, for the RENEWAL_INFO state's GET. */
static picoacme_err_t ari_directory(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    size_t n = 0;
    size_t c = slen(ctx->ari_certid, sizeof ctx->ari_certid);
    picoacme_err_t e;
    if (!ctx->ari_offered) {
        LOG(ctx, PICOACME_LOG_LVL_INF, "the CA offers no renewalInfo: the lifetime fraction stays");
        return ari_done(ctx);
    }
    e = picoacme_json_get_string(j, 0, "renewalInfo", ctx->work, PICOACME_URL_MAX, &n);
    if (e == PICOACME_OK && n + 1U + c >= PICOACME_URL_MAX) {
        e = PICOACME_ERR_NOSPACE;
    }
    if (e != PICOACME_OK) {
        return fail(ctx, e == PICOACME_ERR_NOSPACE ? e : PICOACME_ERR_PROTOCOL,
                    "renewalInfo URL unusable or, with the CertID, longer than PICOACME_URL_MAX");
    }
    ctx->work[n] = '/';
    memcpy(ctx->work + n + 1U, ctx->ari_certid, c + 1U);
    goto_state(ctx, PICOACME_ST_RENEWAL_INFO);
    return PICOACME_OK;
}

/* The RenewalInfo object (§4.2): pick a uniformly random point in the
 * suggested window; a point already passed means renew now. */
static picoacme_err_t on_renewal_info(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    char ts[48];
    size_t n = 0;
    int64_t start = 0;
    int64_t end = 0;
    int64_t now = picoacme_now(ctx);
    uint8_t r[4];
    uint32_t rnd;
    uint32_t span;
    uint32_t ra;
    int w = picoacme_json_member(j, 0, "suggestedWindow");
    /* §4.2: end not after start is as if there were no answer */
    if (w < 0 || !picoacme_json_is_object(j, w) ||
        picoacme_json_get_string(j, w, "start", ts, sizeof ts, &n) != PICOACME_OK ||
        picoacme_rfc3339(ts, n, &start) != PICOACME_OK ||
        picoacme_json_get_string(j, w, "end", ts, sizeof ts, &n) != PICOACME_OK ||
        picoacme_rfc3339(ts, n, &end) != PICOACME_OK || end <= start) {
        return fail(ctx, PICOACME_ERR_PROTOCOL,
                    "the CA's suggestedWindow is missing or invalid (RFC 9773 4.2)");
    }
    if (ctx->ports.crypto->random(ctx->ports.crypto->user, r, sizeof r) != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_CRYPTO, "random");
    }
    rnd = ((uint32_t)r[0] << 24) | ((uint32_t)r[1] << 16) | ((uint32_t)r[2] << 8) | r[3];
    /* start + rnd * (span + 1) / 2^32: no 64-bit division; windows beyond
     * 136 years are taken as 136 years */
    span = end - start >= (int64_t)UINT32_MAX ? UINT32_MAX - 1U : (uint32_t)(end - start);
    ctx->ari_renew_at_s = start + (int64_t)(((uint64_t)rnd * ((uint64_t)span + 1U)) >> 32);
    if (now != PICOACME_TIME_UNKNOWN && ctx->ari_renew_at_s < now) {
        ctx->ari_renew_at_s = now;
    }
    /* §4.3: ask again after Retry-After, within sane bounds */
    ra = ctx->resp.has_retry_after ? ctx->resp.retry_after_s : ARI_RETRY_DEFAULT_S;
    ra = ra < ARI_RETRY_MIN_S ? ARI_RETRY_MIN_S : ra > ARI_RETRY_MAX_S ? ARI_RETRY_MAX_S : ra;
    ctx->ari_retry_at_s = now == PICOACME_TIME_UNKNOWN ? PICOACME_TIME_UNKNOWN : now + (int64_t)ra;
    ctx->ari_valid = true;
    LOG(ctx, PICOACME_LOG_LVL_INF, "ARI: renew at %lld (window %lld..%lld), ask again in %u s",
        (long long)ctx->ari_renew_at_s, (long long)start, (long long)end, (unsigned)ra);
    return ari_done(ctx);
}
#endif

static picoacme_err_t on_directory(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    picoacme_err_t e = get_url(ctx, j, 0, "newNonce", ctx->new_nonce, true);
    if (e == PICOACME_OK) {
        e = get_url(ctx, j, 0, "newAccount", ctx->new_account, true);
    }
    if (e == PICOACME_OK) {
        e = get_url(ctx, j, 0, "newOrder", ctx->new_order, true);
    }
#if PICOACME_ARI
    if (e == PICOACME_OK) {
        ctx->ari_offered = picoacme_json_member(j, 0, "renewalInfo") >= 0;
        if (ctx->ari_run) {
            return ari_directory(ctx, j);
        }
    }
#endif
#if PICOACME_LIFECYCLE
    if (e == PICOACME_OK && ctx->lc_next == PICOACME_ST_REVOKE) {
        e = get_url(ctx, j, 0, "revokeCert", ctx->lc_url, true);
    } else if (e == PICOACME_OK && ctx->lc_next == PICOACME_ST_KEY_CHANGE) {
        e = get_url(ctx, j, 0, "keyChange", ctx->lc_url, true);
    }
#endif
    if (e == PICOACME_OK) {
        int meta = picoacme_json_member(j, 0, "meta");
        int ear = meta >= 0 ? picoacme_json_member(j, meta, "externalAccountRequired") : -1;
        if (picoacme_json_is_true(j, ear) && ctx->cfg.eab_kid == NULL) {
            return fail(ctx, PICOACME_ERR_UNSUPPORTED,
                        "the CA requires External Account Binding, which is not configured");
        }
        goto_state(ctx, PICOACME_ST_ACCOUNT);
    }
    return e;
}

static picoacme_err_t on_order(picoacme_ctx_t *ctx, const picoacme_json_t *j, bool created)
{
    int az;
    int i;
    picoacme_err_t e;
    if (created) {
        if (ctx->resp.location.len == 0U || ctx->resp.location.len >= PICOACME_URL_MAX) {
            return fail(ctx, PICOACME_ERR_PROTOCOL, "new order without a usable Location");
        }
        cpy(ctx->order_url, sizeof ctx->order_url, span(ctx, ctx->resp.location),
            ctx->resp.location.len);
        e = get_url(ctx, j, 0, "finalize", ctx->finalize_url, true);
        if (e != PICOACME_OK) {
            return e;
        }
        az = picoacme_json_member(j, 0, "authorizations");
        if (az < 0 || picoacme_json_size(j, az) < 1) {
            return fail(ctx, PICOACME_ERR_PROTOCOL, "order without authorizations");
        }
        if (picoacme_json_size(j, az) > (int)PICOACME_MAX_IDENTIFIERS) {
            return fail(ctx, PICOACME_ERR_NOSPACE,
                        "order has more authorizations than PICOACME_MAX_IDENTIFIERS");
        }
        ctx->n_authz = (uint8_t)picoacme_json_size(j, az);
        for (i = 0; i < (int)ctx->n_authz; i++) {
            size_t n = 0;
            e = picoacme_json_string(j, picoacme_json_element(j, az, i), ctx->authz_url[i],
                                     PICOACME_URL_MAX, &n);
            if (e != PICOACME_OK) {
                return fail(ctx, e == PICOACME_ERR_NOSPACE ? e : PICOACME_ERR_PROTOCOL,
                            "authorization URL");
            }
        }
    }
    if (status_is(j, 0, "invalid")) {
        int err = picoacme_json_member(j, 0, "error");
        if (err >= 0) {
            take_problem(ctx, j, err);
        }
        return fail(ctx, PICOACME_ERR_INVALID, "the order became invalid");
    }
    if (status_is(j, 0, "valid")) {
        e = get_url(ctx, j, 0, "certificate", ctx->cert_url, true);
        if (e == PICOACME_OK) {
            goto_state(ctx, PICOACME_ST_CERT);
        }
        return e;
    }
    if (status_is(j, 0, "ready")) {
        goto_state(ctx, PICOACME_ST_FINALIZE);
        return PICOACME_OK;
    }
    if (created) {
        ctx->authz_idx = 0;
        goto_state(ctx, PICOACME_ST_AUTHZ);
        return PICOACME_OK;
    }
    /* pending or processing */
    return poll_again(ctx);
}

/* SHA-256 of the key authorization token "." thumbprint (§8.1). */
static picoacme_err_t keyauth_digest(picoacme_ctx_t *ctx, uint8_t out[32])
{
    picoacme_iov_t iov[3];
    iov[0].ptr = (const uint8_t *)ctx->token[ctx->authz_idx];
    iov[0].len = slen(ctx->token[ctx->authz_idx], PICOACME_TOKEN_MAX);
    iov[1].ptr = (const uint8_t *)".";
    iov[1].len = 1U;
    iov[2].ptr = (const uint8_t *)ctx->thumbprint;
    iov[2].len = slen(ctx->thumbprint, sizeof ctx->thumbprint);
    return ctx->ports.crypto->sha256(ctx->ports.crypto->user, iov, 3U, out);
}

/* Which configured identifier does this authorization stand for? */
static picoacme_err_t authz_identifier(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    int id = picoacme_json_member(j, 0, "identifier");
    int wc = picoacme_json_member(j, 0, "wildcard");
    char type[8];
    size_t n = 0;
    size_t i;
    if (id < 0 || picoacme_json_get_string(j, id, "type", type, sizeof type, &n) != PICOACME_OK ||
        picoacme_json_get_string(j, id, "value", ctx->authz_name, sizeof ctx->authz_name, &n) !=
            PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_PROTOCOL, "authorization without a usable identifier");
    }
    ctx->authz_ip = type[0] == 'i' && type[1] == 'p' && type[2] == '\0';
    ctx->authz_wildcard = wc >= 0 && picoacme_json_is_true(j, wc);
    for (i = 0; i < ctx->cfg.n_ids; i++) {
        const picoacme_ident_t *c = &ctx->cfg.ids[i];
        const char *v = c->value;
        if (ctx->authz_ip) {
            uint8_t a[16], b[16];
            size_t al = 0, bl = 0;
            if (c->type == PICOACME_ID_IP &&
                picoacme_ip_parse(v, slen(v, PICOACME_NAME_MAX), a, &al) == PICOACME_OK &&
                picoacme_ip_parse(ctx->authz_name, n, b, &bl) == PICOACME_OK && al == bl &&
                memcmp(a, b, al) == 0) {
                break;
            }
            continue;
        }
        if (c->type != PICOACME_ID_DNS) {
            continue;
        }
        if (ctx->authz_wildcard) {
            if (v[0] == '*' && v[1] == '.' && ieq(ctx->authz_name, n, v + 2)) {
                break;
            }
        } else if (ieq(ctx->authz_name, n, v)) {
            break;
        }
    }
    if (i == ctx->cfg.n_ids) {
        return fail(ctx, PICOACME_ERR_PROTOCOL, "authorization for an identifier not asked for");
    }
    ctx->id_idx = (uint8_t)i;
    return PICOACME_OK;
}

/* Get ready to answer the chosen challenge. */
static picoacme_err_t prepare_challenge(picoacme_ctx_t *ctx)
{
    uint8_t digest[32];
    picoacme_err_t e;
    if (ctx->chall == PICOACME_CHALL_HTTP01) {
        goto_state(ctx, PICOACME_ST_CHALLENGE);
        return PICOACME_OK;
    }
    e = keyauth_digest(ctx, digest);
    if (e != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_CRYPTO, "hashing the key authorization failed");
    }
    if (ctx->chall == PICOACME_CHALL_TLSALPN01) {
#if PICOACME_TLSALPN01
        picoacme_ident_t id;
        if (!ctx->chall_key) {
            e = ctx->ports.crypto->key_generate(ctx->ports.crypto->user, PICOACME_KEY_CHALLENGE);
            if (e != PICOACME_OK) {
                return fail(ctx, PICOACME_ERR_CRYPTO, "tls-alpn-01 key generation failed");
            }
            ctx->chall_key = true;
        }
        id.type = ctx->authz_ip ? PICOACME_ID_IP : PICOACME_ID_DNS;
        id.value = ctx->authz_name;
        /* RFC 8737 §3: the acmeIdentifier certificate */
        e = picoacme_alpn_cert_build(ctx->ports.crypto, PICOACME_KEY_CHALLENGE, &id, digest,
                                     picoacme_now(ctx), ctx->alpn_cert, sizeof ctx->alpn_cert,
                                     &ctx->alpn_cert_len);
        if (e != PICOACME_OK) {
            ctx->alpn_cert_len = 0;
            return fail(ctx, e,
                        "building the tls-alpn-01 certificate failed (PICOACME_ALPN_CERT_MAX)");
        }
        goto_state(ctx, PICOACME_ST_CHALLENGE);
        return PICOACME_OK;
#else
        return fail(ctx, PICOACME_ERR_UNSUPPORTED,
                    "built without tls-alpn-01 (PICOACME_TLSALPN01)");
#endif
    }
    /* dns-01, §8.4: TXT "_acme-challenge.<name>" = base64url(SHA-256(key authz)) */
    {
        size_t n = slen(ctx->authz_name, sizeof ctx->authz_name);
        size_t tl = 0;
        memcpy(ctx->dns_fqdn, "_acme-challenge.", 16U);
        memcpy(ctx->dns_fqdn + 16, ctx->authz_name, n + 1U);
        e = picoacme_b64url_encode(digest, sizeof digest, ctx->dns_txt, sizeof ctx->dns_txt - 1U,
                                   &tl);
        if (e != PICOACME_OK) {
            return fail(ctx, e, "dns-01 value");
        }
        ctx->dns_txt[tl] = '\0';
    }
    ctx->dns_step = 0;
    ctx->dns_tries = 0;
    goto_state(ctx, PICOACME_ST_DNS_PUBLISH);
    return PICOACME_OK;
}

static picoacme_err_t on_authz(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    const picoacme_chall_type_t *list;
    size_t np;
    size_t p;
    int ch;
    picoacme_err_t e;
    if (status_is(j, 0, "valid")) {
        authz_done(ctx);
        return PICOACME_OK;
    }
    e = authz_identifier(ctx, j);
    if (e != PICOACME_OK) {
        return e;
    }
    if (!status_is(j, 0, "pending")) {
        return authz_invalid(ctx, j);
    }
    ch = picoacme_json_member(j, 0, "challenges");
    np = prefs(ctx, &list);
    /* the first allowed type, in the user's order, that the CA offers */
    for (p = 0; p < np; p++) {
        picoacme_chall_type_t t = list[p];
        int i;
        if ((unsigned)t >= PICOACME_CHALL_TYPES ||
            !type_fits(t, ctx->authz_ip, ctx->authz_wildcard) ||
            (ctx->failed[ctx->id_idx] & (1U << t)) != 0U) {
            continue;
        }
        for (i = 0; ch >= 0 && i < picoacme_json_size(j, ch); i++) {
            int c = picoacme_json_element(j, ch, i);
            int type = picoacme_json_member(j, c, "type");
            size_t n = 0;
            if (type < 0 || !picoacme_json_string_eq(j, type, chall_names[t])) {
                continue;
            }
            e = get_url(ctx, j, c, "url", ctx->chall_url, true);
            if (e != PICOACME_OK) {
                return e;
            }
            e = picoacme_json_get_string(j, c, "token", ctx->token[ctx->authz_idx],
                                         PICOACME_TOKEN_MAX, &n);
            if (e != PICOACME_OK || n < 16U) {
                return fail(ctx, PICOACME_ERR_PROTOCOL, "challenge token missing or too long");
            }
            /* §8.1: the token is base64url; anything else would break the path */
            for (size_t k = 0; k < n; k++) {
                char tc = ctx->token[ctx->authz_idx][k];
                if (!((tc >= 'A' && tc <= 'Z') || (tc >= 'a' && tc <= 'z') ||
                      (tc >= '0' && tc <= '9') || tc == '-' || tc == '_')) {
                    return fail(ctx, PICOACME_ERR_PROTOCOL, "challenge token is not base64url");
                }
            }
            ctx->chall = (uint8_t)t;
            LOG(ctx, PICOACME_LOG_LVL_INF, "%s for %s%s", chall_names[t],
                ctx->authz_wildcard ? "*." : "", ctx->authz_name);
            if (status_is(j, c, "valid")) {
                authz_done(ctx);
                return PICOACME_OK;
            }
            return prepare_challenge(ctx);
        }
    }
    return fail(ctx, PICOACME_ERR_UNSUPPORTED,
                "the CA offers none of the allowed challenge types for this identifier");
}

static picoacme_err_t on_challenge(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    if (status_is(j, 0, "valid")) {
        authz_done(ctx);
        return PICOACME_OK;
    }
    if (status_is(j, 0, "invalid")) {
        int err = picoacme_json_member(j, 0, "error");
        if (err >= 0) {
            take_problem(ctx, j, err);
        }
        return challenge_failed(ctx);
    }
    /* Poll as soon as the validator has fetched the key authorization (at
     * once when it already has), otherwise after PICOACME_POLL_MIN_MS; then
     * back off. This saves the poll that would only see "pending". */
    start_polls(ctx, PICOACME_ST_POLL_AUTHZ);
    if (ctx->h01_served == ctx->h01_seen || ctx->chall == PICOACME_CHALL_DNS01) {
        ctx->polls_left--;
        schedule_poll(ctx);
    }
    return PICOACME_OK;
}

static picoacme_err_t on_poll_authz(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    if (status_is(j, 0, "valid")) {
        authz_done(ctx);
        return PICOACME_OK;
    }
    if (status_is(j, 0, "pending")) {
        return poll_again(ctx);
    }
    return authz_invalid(ctx, j);
}

/* Check the downloaded chain: the leaf parses, carries our key and every
 * identifier. */
static picoacme_err_t check_chain(picoacme_ctx_t *ctx)
{
    picoacme_x509_t c;
    size_t pos = 0;
    size_t der_len = 0;
    uint8_t pub[64];
    size_t i;
    picoacme_err_t e = picoacme_pem_next(span(ctx, ctx->resp.body), ctx->resp.body.len, &pos,
                                         ctx->tx, sizeof ctx->tx, &der_len);
    if (e == PICOACME_OK) {
        e = picoacme_x509_parse(ctx->tx, der_len, &c);
    }
    if (e != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_PARSE, "the downloaded certificate cannot be parsed");
    }
    if (ctx->resp.body.len > PICOACME_CERT_MAX) {
        return fail(ctx, PICOACME_ERR_NOSPACE, "the chain is longer than PICOACME_CERT_MAX");
    }
    e = ctx->ports.crypto->key_public(ctx->ports.crypto->user, PICOACME_KEY_CERT, pub);
    if (e != PICOACME_OK || !c.ec_p256 || memcmp(pub, c.pub, sizeof pub) != 0) {
        return fail(ctx, PICOACME_ERR_PROTOCOL, "the issued certificate does not carry our key");
    }
    for (i = 0; i < ctx->cfg.n_ids; i++) {
        const picoacme_ident_t *id = &ctx->cfg.ids[i];
        uint8_t ip[16];
        size_t ip_len = 0;
        size_t sp = 0;
        picoacme_id_type_t t;
        const uint8_t *v;
        size_t vl;
        bool found = false;
        if (id->type == PICOACME_ID_IP &&
            picoacme_ip_parse(id->value, slen(id->value, PICOACME_NAME_MAX), ip, &ip_len) !=
                PICOACME_OK) {
            return fail(ctx, PICOACME_ERR_PARAM, "bad IP identifier");
        }
        while (!found && picoacme_x509_san_next(&c, &sp, &t, &v, &vl) == PICOACME_OK) {
            if (t != id->type) {
                continue;
            }
            found = t == PICOACME_ID_DNS ? ieq((const char *)v, vl, id->value)
                                         : (vl == ip_len && memcmp(v, ip, ip_len) == 0);
        }
        if (!found) {
            return fail(ctx, PICOACME_ERR_PROTOCOL,
                        "the issued certificate lacks a requested name");
        }
    }
    return PICOACME_OK;
}

#if PICOACME_LIFECYCLE
static picoacme_err_t lc_done(picoacme_ctx_t *ctx);
static picoacme_err_t key_changed(picoacme_ctx_t *ctx);
#endif

static picoacme_err_t dispatch(picoacme_ctx_t *ctx)
{
    picoacme_json_t j;
    picoacme_err_t e;
    const picoacme_http_resp_t *r = &ctx->resp;

    switch (ctx->state) {
    case PICOACME_ST_NONCE:
        if (ctx->nonce[0] == '\0') {
            return fail(ctx, PICOACME_ERR_PROTOCOL, "newNonce answered without Replay-Nonce");
        }
        goto_state(ctx, ctx->resume);
        return PICOACME_OK;
    case PICOACME_ST_CERT:
        if (r->status != 200U) {
            return fail(ctx, PICOACME_ERR_HTTP, "certificate download failed");
        }
        e = check_chain(ctx);
        if (e == PICOACME_OK) {
            goto_state(ctx, PICOACME_ST_STORE);
        }
        return e;
#if PICOACME_LIFECYCLE
    case PICOACME_ST_REVOKE: return lc_done(ctx); /* 200, no body (§7.6) */
    case PICOACME_ST_KEY_CHANGE: return key_changed(ctx);
#endif
    default: break;
    }
    e = body_json(ctx, &j);
    if (e != PICOACME_OK) {
        return e;
    }
    switch (ctx->state) {
    case PICOACME_ST_DIRECTORY: return on_directory(ctx, &j);
    case PICOACME_ST_ACCOUNT:
        if (r->location.len == 0U || r->location.len >= PICOACME_URL_MAX) {
            return fail(ctx, PICOACME_ERR_PROTOCOL, "account without a usable Location");
        }
        if (!status_is(&j, 0, "valid")) {
            return fail(ctx, PICOACME_ERR_INVALID, "the account is deactivated or revoked");
        }
        cpy(ctx->account_url, sizeof ctx->account_url, span(ctx, r->location), r->location.len);
        LOG(ctx, PICOACME_LOG_LVL_INF, "account %s", ctx->account_url);
        goto_state(ctx, LC_NEXT(ctx) != PICOACME_ST_IDLE ? LC_NEXT(ctx) : PICOACME_ST_ORDER);
        return PICOACME_OK;
    case PICOACME_ST_ORDER: return on_order(ctx, &j, true);
    case PICOACME_ST_AUTHZ: return on_authz(ctx, &j);
    case PICOACME_ST_CHALLENGE: return on_challenge(ctx, &j);
    case PICOACME_ST_POLL_AUTHZ: return on_poll_authz(ctx, &j);
#if PICOACME_ARI
    case PICOACME_ST_RENEWAL_INFO: return on_renewal_info(ctx, &j);
#endif
#if PICOACME_LIFECYCLE
    case PICOACME_ST_DEACTIVATE:
        if (!status_is(&j, 0, "deactivated")) {
            return fail(ctx, PICOACME_ERR_PROTOCOL, "the CA did not deactivate the account");
        }
        return lc_done(ctx);
#endif
    case PICOACME_ST_FINALIZE:
        if (status_is(&j, 0, "processing") || status_is(&j, 0, "ready")) {
            /* first poll almost at once (a CA signs in milliseconds, or says
             * Retry-After), then back off */
            start_polls(ctx, PICOACME_ST_POLL_ORDER);
            if (r->has_retry_after) {
                return poll_again(ctx);
            }
            set_timer(ctx, PICOACME_POLL_SETTLE_MS);
            return PICOACME_OK;
        }
        return on_order(ctx, &j, false);
    case PICOACME_ST_POLL_ORDER:
        if (status_is(&j, 0, "ready") && !ctx->finalize_again) {
            return poll_again(ctx);
        }
        ctx->finalize_again = false;
        return on_order(ctx, &j, false);
    default: return fail(ctx, PICOACME_ERR_STATE, "response in an unexpected state");
    }
}

/* What every response gets: nonce, Date, problems, retries. */
static picoacme_err_t on_response(picoacme_ctx_t *ctx)
{
    const picoacme_http_resp_t *r = &ctx->resp;
    LOG(ctx, PICOACME_LOG_LVL_INF, "  -> %u (%u bytes)", (unsigned)r->status,
        (unsigned)r->body.len);
    if (r->nonce.len > 0U && r->nonce.len < sizeof ctx->nonce) {
        cpy(ctx->nonce, sizeof ctx->nonce, span(ctx, r->nonce), r->nonce.len);
    }
    if (r->date_s > 0) {
        ctx->date_s = r->date_s;
        ctx->date_mono_ms = mono(ctx);
    }
    if (!r->keep_alive) {
        conn_close(ctx);
    }
    ctx->problem.http_status = r->status;
    ctx->problem.type[0] = '\0';
    ctx->problem.detail[0] = '\0';
    if (r->status >= 400U) {
        picoacme_json_t j;
        bool is_problem =
            r->content_type.len > 0U &&
            ieq(span(ctx, r->content_type), r->content_type.len, "application/problem+json");
        if (is_problem && picoacme_json_parse(&j, span(ctx, r->body), r->body.len, ctx->tok,
                                              PICOACME_JSON_TOKENS) == PICOACME_OK) {
            take_problem(ctx, &j, 0);
        }
        LOG(ctx, PICOACME_LOG_LVL_WRN, "problem %s: %s", ctx->problem.type, ctx->problem.detail);
        if (problem_is(ctx, "badNonce") && ctx->bad_nonce_left > 0U) {
            /* §6.5: retry with the fresh nonce of this answer */
            ctx->bad_nonce_left--;
            ctx->stats.bad_nonces++;
            ctx->phase = PH_IDLE;
            return PICOACME_OK;
        }
        if ((problem_is(ctx, "rateLimited") || r->status == 503U) && r->has_retry_after &&
            r->retry_after_s <= PICOACME_RETRY_AFTER_MAX_S && ctx->rate_limit_left > 0U) {
            ctx->rate_limit_left--;
            set_timer(ctx, r->retry_after_s * 1000U);
            return PICOACME_OK;
        }
        if (ctx->state == PICOACME_ST_ACCOUNT && ctx->only_existing &&
            LC_NEXT(ctx) == PICOACME_ST_IDLE && problem_is(ctx, "accountDoesNotExist")) {
            ctx->only_existing = false;
            goto_state(ctx, PICOACME_ST_ACCOUNT);
            return PICOACME_OK;
        }
#if PICOACME_ARI
        if (ctx->state == PICOACME_ST_ORDER && ctx->ari_replaces && ctx->ari_offered &&
            (problem_is(ctx, "alreadyReplaced") || r->status == 409U)) {
            /* RFC 9773 §5: the certificate was replaced already (or the CA
             * objects to "replaces"): order again without it */
            LOG(ctx, PICOACME_LOG_LVL_WRN, "newOrder without \"replaces\" after %s",
                ctx->problem.type);
            ctx->ari_replaces = false;
            goto_state(ctx, PICOACME_ST_ORDER);
            return PICOACME_OK;
        }
#endif
        if (ctx->state == PICOACME_ST_FINALIZE && problem_is(ctx, "orderNotReady")) {
            ctx->finalize_again = true;
            start_polls(ctx, PICOACME_ST_POLL_ORDER);
            return poll_again(ctx);
        }
        if (problem_is(ctx, "rateLimited")) {
            return fail(ctx, PICOACME_ERR_RATE_LIMITED, NULL);
        }
        if (problem_is(ctx, "badNonce")) {
            return fail(ctx, PICOACME_ERR_PROBLEM,
                        "the CA rejected every nonce (PICOACME_BADNONCE_RETRIES)");
        }
        return fail(ctx, ctx->problem.type[0] != '\0' ? PICOACME_ERR_PROBLEM : PICOACME_ERR_HTTP,
                    NULL);
    }
    if (ctx->state != PICOACME_ST_NONCE && ctx->state != PICOACME_ST_CERT && r->status != 200U &&
        r->status != 201U) {
        return fail(ctx, PICOACME_ERR_HTTP, "unexpected HTTP status");
    }
    return dispatch(ctx);
}

/* ---- store record ---------------------------------------------------------- */

static size_t tlv_put(uint8_t *p, uint8_t tag, const void *v, size_t len)
{
    p[0] = tag;
    p[1] = (uint8_t)(len & 0xFFU);
    p[2] = (uint8_t)(len >> 8);
    if (v != NULL) {
        memcpy(p + 3, v, len);
    }
    return 3U + len;
}

/* Find tag in a record; returns PICOACME_OK with value span. */
static picoacme_err_t tlv_find(const uint8_t *rec, size_t len, uint8_t tag, size_t *off,
                               size_t *vlen)
{
    size_t p = 0;
    while (p + 3U <= len) {
        size_t l = (size_t)rec[p + 1U] | ((size_t)rec[p + 2U] << 8);
        if (l > len - p - 3U) {
            return PICOACME_ERR_PARSE;
        }
        if (rec[p] == tag) {
            *off = p + 3U;
            *vlen = l;
            return PICOACME_OK;
        }
        p += 3U + l;
    }
    return PICOACME_ERR_NOT_FOUND;
}

static picoacme_err_t do_store(picoacme_ctx_t *ctx)
{
    const picoacme_crypto_t *c = ctx->ports.crypto;
    uint8_t akey[32];
    uint8_t ckey[32];
    bool have_a = c->key_export(c->user, PICOACME_KEY_ACCOUNT, akey) == PICOACME_OK;
    bool have_c = c->key_export(c->user, PICOACME_KEY_CERT, ckey) == PICOACME_OK;
    size_t dir_len = slen(ctx->cfg.directory_url, PICOACME_URL_MAX);
    size_t acct_len = slen(ctx->account_url, sizeof ctx->account_url);
    size_t chain_len = ctx->resp.body.len;
    size_t prefix = 3U + dir_len + 3U + acct_len + 3U + (have_a ? 35U : 0U) + (have_c ? 35U : 0U);
    size_t p = 0;
    picoacme_err_t e;

    if (prefix + chain_len > sizeof ctx->rx) {
        return fail(ctx, PICOACME_ERR_NOSPACE, "record does not fit PICOACME_RX_BUF_SIZE");
    }
    memmove(ctx->rx + prefix, ctx->rx + ctx->resp.body.off, chain_len);
    p += tlv_put(ctx->rx + p, T_DIR, ctx->cfg.directory_url, dir_len);
    p += tlv_put(ctx->rx + p, T_ACCT_URL, ctx->account_url, acct_len);
    if (have_a) {
        p += tlv_put(ctx->rx + p, T_ACCT_KEY, akey, sizeof akey);
    }
    if (have_c) {
        p += tlv_put(ctx->rx + p, T_CERT_KEY, ckey, sizeof ckey);
    }
    /* the chain already sits right behind its TLV header */
    (void)tlv_put(ctx->rx + p, T_CERT, NULL, chain_len);
    p += 3U;
    memset(akey, 0, sizeof akey);
    memset(ckey, 0, sizeof ckey);
    e = picoacme_store_save(ctx->ports.storage, ctx->rx, p + chain_len);
    /* keys do not stay in RAM longer than needed */
    memset(ctx->rx, 0, prefix);
    if (e != PICOACME_OK) {
        return fail(ctx, e, "writing the certificate to flash failed");
    }
    ctx->resp.body.off = (uint16_t)prefix;
    ctx->resp.body.len = (uint16_t)chain_len;
    LOG(ctx, PICOACME_LOG_LVL_INF, "stored %u bytes of chain", (unsigned)chain_len);
    release(ctx);
    ctx->state = PICOACME_ST_DONE;
    return PICOACME_OK;
}

/* Load the record into rx. Returns its length. */
static picoacme_err_t load_record(picoacme_ctx_t *ctx, size_t *len)
{
    if (ctx->ports.storage == NULL) {
        return PICOACME_ERR_NOT_FOUND;
    }
    return picoacme_store_load(ctx->ports.storage, ctx->rx, sizeof ctx->rx, len, NULL);
}

static void import_key(picoacme_ctx_t *ctx, size_t len, uint8_t tag, picoacme_key_slot_t slot,
                       bool *ok)
{
    size_t off = 0;
    size_t vl = 0;
    *ok = false;
    if (tlv_find(ctx->rx, len, tag, &off, &vl) == PICOACME_OK && vl == 32U) {
        *ok = ctx->ports.crypto->key_import(ctx->ports.crypto->user, slot, ctx->rx + off) ==
              PICOACME_OK;
    }
}

/* ---- public API --------------------------------------------------------------- */

picoacme_err_t picoacme_init(picoacme_ctx_t *ctx, const picoacme_config_t *cfg,
                             const picoacme_ports_t *ports)
{
    picoacme_url_t url;
    size_t i;
    if (ctx == NULL || cfg == NULL || ports == NULL || ports->transport == NULL ||
        ports->crypto == NULL || ports->clock == NULL) {
        return PICOACME_ERR_PARAM;
    }
    memset(ctx, 0, sizeof *ctx);
    ctx->cfg = *cfg;
    ctx->ports = *ports;
    ctx->sock = PICOACME_SOCK_NONE;
    ctx->h01_lsock = PICOACME_SOCK_NONE;
    ctx->h01_sock = PICOACME_SOCK_NONE;
    ctx->alpn_lsock = PICOACME_SOCK_NONE;
    ctx->alpn_sock = PICOACME_SOCK_NONE;
    ctx->dns_sock = PICOACME_SOCK_NONE;
    if (cfg->directory_url == NULL) {
        /* only picoacme_stored() is possible */
        return cfg->n_ids == 0U ? PICOACME_OK : PICOACME_ERR_PARAM;
    }
    if (slen(cfg->directory_url, PICOACME_URL_MAX) >= PICOACME_URL_MAX ||
        picoacme_url_parse(cfg->directory_url, slen(cfg->directory_url, PICOACME_URL_MAX), &url) !=
            PICOACME_OK) {
        return PICOACME_ERR_PARAM;
    }
    if (url.https && ports->tls == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (cfg->n_ids > PICOACME_MAX_IDENTIFIERS || (cfg->n_ids > 0U && cfg->ids == NULL)) {
        return PICOACME_ERR_PARAM;
    }
    for (i = 0; i < cfg->n_ids; i++) {
        const char *v = cfg->ids[i].value;
        size_t n;
        uint8_t ip[16];
        size_t ip_len;
        if (v == NULL) {
            return PICOACME_ERR_PARAM;
        }
        n = slen(v, PICOACME_NAME_MAX);
        if (n == 0U || n >= PICOACME_NAME_MAX) {
            return PICOACME_ERR_PARAM;
        }
        if (cfg->ids[i].type == PICOACME_ID_IP &&
            picoacme_ip_parse(v, n, ip, &ip_len) != PICOACME_OK) {
            return PICOACME_ERR_PARAM;
        }
    }
    if (cfg->email != NULL && slen(cfg->email, 128U) >= 128U) {
        return PICOACME_ERR_PARAM;
    }
    if (cfg->eab_kid != NULL && (!PICOACME_EAB || slen(cfg->eab_kid, 128U) >= 128U ||
                                 cfg->eab_key == NULL || cfg->eab_key_len == 0U)) {
        return PICOACME_EAB ? PICOACME_ERR_PARAM : PICOACME_ERR_UNSUPPORTED;
    }
    return PICOACME_OK;
}

/* Refuse up front what no allowed challenge can validate (before any
 * order is made): dns-01 cannot prove an IP address (RFC 8738 §7), only
 * dns-01 proves a wildcard (§7.1.3). */
static picoacme_err_t check_challenges(picoacme_ctx_t *ctx)
{
    const picoacme_chall_type_t *list;
    size_t n = prefs(ctx, &list);
    size_t i;
    for (i = 0; i < ctx->cfg.n_challenges && i < PICOACME_CHALL_TYPES; i++) {
        picoacme_chall_type_t t = ctx->cfg.challenges[i];
        if ((t == PICOACME_CHALL_TLSALPN01 && !PICOACME_TLSALPN01) ||
            (t == PICOACME_CHALL_DNS01 && !PICOACME_DNS01) ||
            (t == PICOACME_CHALL_HTTP01 && !PICOACME_HTTP01 && ctx->cfg.http01_port != 0U)) {
            return fail(ctx, PICOACME_ERR_UNSUPPORTED,
                        "a configured challenge type is not built in");
        }
    }
    for (i = 0; i < n; i++) {
        if ((unsigned)list[i] >= PICOACME_CHALL_TYPES) {
            return fail(ctx, PICOACME_ERR_PARAM, "unknown challenge type");
        }
        if (list[i] == PICOACME_CHALL_DNS01) {
            const picoacme_dns01_config_t *d = ctx->cfg.dns01;
            if (d == NULL ||
                (d->hook == NULL &&
                 (d->server == NULL || d->tsig.name == NULL || d->tsig.secret == NULL)) ||
                (d->resolver != NULL && d->timeout_s == 0U)) {
                return fail(ctx, PICOACME_ERR_PARAM,
                            "dns-01 needs a DNS server and TSIG key (or a DNS hook)");
            }
            if (d->hook == NULL && !d->tcp &&
                (ctx->ports.transport->udp_open == NULL || ctx->ports.transport->udp_send == NULL ||
                 ctx->ports.transport->udp_recv == NULL)) {
                return fail(ctx, PICOACME_ERR_UNSUPPORTED, "the transport has no UDP for dns-01");
            }
        }
    }
    for (i = 0; i < ctx->cfg.n_ids; i++) {
        const picoacme_ident_t *id = &ctx->cfg.ids[i];
        bool wildcard = id->type == PICOACME_ID_DNS && id->value[0] == '*';
        if (!type_left(ctx, i, id->type == PICOACME_ID_IP, wildcard)) {
            return fail(ctx, PICOACME_ERR_PARAM,
                        id->type == PICOACME_ID_IP
                            ? "dns-01 cannot validate an IP address (RFC 8738): allow http-01 "
                              "or tls-alpn-01"
                            : "a wildcard name needs dns-01");
        }
    }
    return PICOACME_OK;
}

picoacme_err_t picoacme_issue_start(picoacme_ctx_t *ctx)
{
    const picoacme_crypto_t *c;
    size_t len = 0;
    picoacme_err_t e;
    if (ctx == NULL || ctx->cfg.n_ids == 0U || ctx->cfg.directory_url == NULL) {
        return PICOACME_ERR_PARAM;
    }
    c = ctx->ports.crypto;
    release(ctx);
    memset(&ctx->problem, 0, sizeof ctx->problem);
    memset(&ctx->stats, 0, sizeof ctx->stats);
    ctx->nonce[0] = '\0';
    ctx->account_key_loaded = false;
    ctx->state = PICOACME_ST_IDLE;
    memset(ctx->failed, 0, sizeof ctx->failed);
    ctx->final_err = PICOACME_OK;
    ctx->dns_published = false;
    ctx->retry_order = false;
    ctx->chall_key = false;
    ctx->orders = 0;
    ctx->alpn_cert_len = 0;
#if PICOACME_ARI
    ctx->ari_run = false;
    ctx->ari_replaces = false;
#endif
#if PICOACME_LIFECYCLE
    ctx->lc_next = PICOACME_ST_IDLE;
#endif
    e = check_challenges(ctx);
    if (e != PICOACME_OK) {
        return e;
    }

    /* reuse the account of this CA when the store has one */
    if (load_record(ctx, &len) == PICOACME_OK) {
        size_t off = 0;
        size_t vl = 0;
        size_t dl = slen(ctx->cfg.directory_url, PICOACME_URL_MAX);
        if (tlv_find(ctx->rx, len, T_DIR, &off, &vl) == PICOACME_OK && vl == dl &&
            memcmp(ctx->rx + off, ctx->cfg.directory_url, dl) == 0) {
            import_key(ctx, len, T_ACCT_KEY, PICOACME_KEY_ACCOUNT, &ctx->account_key_loaded);
#if PICOACME_ARI
            /* a renewal at the same CA names the certificate it replaces */
            ctx->ari_replaces = record_certid(ctx, len) == PICOACME_OK;
#endif
        }
        memset(ctx->rx, 0, len);
    }
    if (!ctx->account_key_loaded) {
        e = c->key_generate(c->user, PICOACME_KEY_ACCOUNT);
        if (e != PICOACME_OK) {
            return fail(ctx, PICOACME_ERR_CRYPTO, "account key generation failed");
        }
    }
    ctx->only_existing = ctx->account_key_loaded;
    /* a fresh certificate key for every order (key rotation) */
    e = c->key_generate(c->user, PICOACME_KEY_CERT);
    if (e == PICOACME_OK) {
        e = picoacme_jwk_thumbprint(c, PICOACME_KEY_ACCOUNT, ctx->thumbprint);
    }
    if (e != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_CRYPTO, "key generation failed");
    }
    if (ctx->cfg.http01_port != 0U) {
        if (!PICOACME_HTTP01) {
            return fail(ctx, PICOACME_ERR_UNSUPPORTED,
                        "built without the http-01 responder (PICOACME_HTTP01)");
        }
        if (ctx->ports.transport->listen == NULL || ctx->ports.transport->accept == NULL) {
            return fail(ctx, PICOACME_ERR_UNSUPPORTED, "the transport cannot listen for http-01");
        }
        e = ctx->ports.transport->listen(ctx->ports.transport->user, ctx->cfg.http01_port,
                                         &ctx->h01_lsock);
        if (e != PICOACME_OK) {
            ctx->h01_lsock = PICOACME_SOCK_NONE;
            return fail(ctx, PICOACME_ERR_IO, "cannot listen on the http-01 port");
        }
    }
    if (ctx->cfg.tlsalpn01_port != 0U) {
        if (!PICOACME_TLSALPN01) {
            return fail(ctx, PICOACME_ERR_UNSUPPORTED,
                        "built without the tls-alpn-01 responder (PICOACME_TLSALPN01)");
        }
        if (ctx->ports.tls == NULL || ctx->ports.tls->server_open == NULL ||
            ctx->ports.transport->listen == NULL || ctx->ports.transport->accept == NULL) {
            return fail(ctx, PICOACME_ERR_UNSUPPORTED,
                        "the tls or transport port cannot serve tls-alpn-01");
        }
        e = ctx->ports.transport->listen(ctx->ports.transport->user, ctx->cfg.tlsalpn01_port,
                                         &ctx->alpn_lsock);
        if (e != PICOACME_OK) {
            ctx->alpn_lsock = PICOACME_SOCK_NONE;
            return fail(ctx, PICOACME_ERR_IO, "cannot listen on the tls-alpn-01 port");
        }
    }
    goto_state(ctx, PICOACME_ST_DIRECTORY);
    return PICOACME_OK;
}

picoacme_err_t picoacme_ari_start(picoacme_ctx_t *ctx)
{
#if PICOACME_ARI
    size_t len = 0;
    picoacme_err_t e;
    if (ctx == NULL || ctx->cfg.directory_url == NULL) {
        return PICOACME_ERR_PARAM;
    }
    release(ctx);
    memset(&ctx->problem, 0, sizeof ctx->problem);
    memset(&ctx->stats, 0, sizeof ctx->stats);
    ctx->nonce[0] = '\0';
    ctx->state = PICOACME_ST_IDLE;
    ctx->ari_valid = false;
    ctx->ari_run = true;
#if PICOACME_LIFECYCLE
    ctx->lc_next = PICOACME_ST_IDLE;
#endif
    e = load_record(ctx, &len);
    if (e == PICOACME_OK) {
        e = record_certid(ctx, len);
        memset(ctx->rx, 0, len); /* the record holds the keys */
    }
    if (e != PICOACME_OK) {
        return e;
    }
    goto_state(ctx, PICOACME_ST_DIRECTORY);
    return PICOACME_OK;
#else
    (void)ctx;
    return PICOACME_ERR_UNSUPPORTED;
#endif
}

/* ---- lifecycle: revocation (§7.6), key rollover (§7.3.5), deactivation (§7.3.6) ---- */

#if PICOACME_LIFECYCLE
static picoacme_err_t lc_done(picoacme_ctx_t *ctx)
{
    LOG(ctx, PICOACME_LOG_LVL_INF, "%s: done", picoacme_state_str(ctx->state));
    release(ctx);
    ctx->state = PICOACME_ST_DONE;
    return PICOACME_OK;
}

/* Load the record and find the value of tag in it (rx[*off, *off + *vl)). */
static picoacme_err_t record_field(picoacme_ctx_t *ctx, uint8_t tag, size_t *len, size_t *off,
                                   size_t *vl)
{
    picoacme_err_t e = load_record(ctx, len);
    if (e == PICOACME_OK) {
        e = tlv_find(ctx->rx, *len, tag, off, vl);
    }
    return e == PICOACME_OK ? e : PICOACME_ERR_NOT_FOUND;
}

/* §7.6: {"certificate": base64url(DER of the stored leaf), "reason": N} */
static picoacme_err_t revoke_begin(picoacme_ctx_t *ctx)
{
    size_t len = 0;
    size_t off = 0;
    size_t vl = 0;
    size_t pos = 0;
    size_t der_len = 0;
    size_t n = 0;
    picoacme_err_t e = record_field(ctx, T_CERT, &len, &off, &vl);
    if (e == PICOACME_OK) {
        /* the DER goes to tx, free until request_post() signs */
        e = picoacme_pem_next((const char *)ctx->rx + off, vl, &pos, ctx->tx, sizeof ctx->tx,
                              &der_len);
    }
    memset(ctx->rx, 0, sizeof ctx->rx); /* the record holds the keys */
    if (e != PICOACME_OK) {
        return fail(ctx, e, "the stored certificate cannot be read");
    }
    memcpy(ctx->work, "{\"certificate\":\"", 16U);
    /* room after it for '"', the reason and '}' (16 bytes) */
    e = picoacme_b64url_encode(ctx->tx, der_len, ctx->work + 16, sizeof ctx->work - 32U, &n);
    if (e != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_NOSPACE, "certificate does not fit PICOACME_WORK_BUF_SIZE");
    }
    n += 16U;
    ctx->work[n++] = '"';
    if (ctx->lc_reason >= 0) {
        memcpy(ctx->work + n, ",\"reason\":", 10U);
        n += 10U;
        if (ctx->lc_reason >= 10) {
            ctx->work[n++] = '1';
        }
        ctx->work[n++] = (char)('0' + ctx->lc_reason % 10);
    }
    ctx->work[n++] = '}';
    return request_post(ctx, ctx->lc_url, n, false, NULL);
}

/* The public JWK of slot into out. */
static picoacme_err_t slot_jwk(picoacme_ctx_t *ctx, picoacme_key_slot_t slot, char *out, size_t cap,
                               size_t *out_len)
{
    uint8_t pub[64];
    picoacme_err_t e = ctx->ports.crypto->key_public(ctx->ports.crypto->user, slot, pub);
    return e == PICOACME_OK ? picoacme_jwk_write(pub, out, cap, out_len) : e;
}

/* §7.3.5: the inner JWS, signed by the new key (slot PICOACME_KEY_CHALLENGE)
 * with protected {alg, jwk, url} and no nonce, over {"account", "oldKey"};
 * it is the payload of the outer JWS that the old key signs (kid). The
 * inner payload and header are built in the upper half of work, the inner
 * JWS in the lower half. */
static picoacme_err_t key_change_begin(picoacme_ctx_t *ctx)
{
    const size_t half = sizeof ctx->work / 2U;
    char *pay = ctx->work + half;
    char jwk[128];
    size_t jwk_len = 0;
    size_t pay_len = 0;
    size_t prot_len = 0;
    size_t n = 0;
    picoacme_jw_t w;
    picoacme_err_t e = slot_jwk(ctx, PICOACME_KEY_ACCOUNT, jwk, sizeof jwk, &jwk_len);
    if (e != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_CRYPTO, "account public key unavailable");
    }
    picoacme_jw_init(&w, pay, half);
    picoacme_jw_obj_begin(&w);
    picoacme_jw_key(&w, "account");
    picoacme_jw_str(&w, ctx->account_url, slen(ctx->account_url, sizeof ctx->account_url));
    picoacme_jw_key(&w, "oldKey");
    picoacme_jw_raw(&w, jwk, jwk_len);
    picoacme_jw_obj_end(&w);
    e = picoacme_jw_finish(&w, &pay_len);
    if (e == PICOACME_OK) {
        e = slot_jwk(ctx, PICOACME_KEY_CHALLENGE, jwk, sizeof jwk, &jwk_len);
        if (e != PICOACME_OK) {
            return fail(ctx, PICOACME_ERR_CRYPTO, "new account public key unavailable");
        }
        picoacme_jw_init(&w, pay + pay_len, half - pay_len);
        picoacme_jw_obj_begin(&w);
        picoacme_jw_key(&w, "alg");
        picoacme_jw_str(&w, "ES256", 5U);
        picoacme_jw_key(&w, "jwk");
        picoacme_jw_raw(&w, jwk, jwk_len);
        picoacme_jw_key(&w, "url");
        picoacme_jw_str(&w, ctx->lc_url, slen(ctx->lc_url, sizeof ctx->lc_url));
        picoacme_jw_obj_end(&w);
        e = picoacme_jw_finish(&w, &prot_len);
    }
    if (e == PICOACME_OK) {
        e = picoacme_jws_es256(ctx->ports.crypto, PICOACME_KEY_CHALLENGE, pay + pay_len, prot_len,
                               pay, pay_len, ctx->work, half, &n);
    }
    if (e != PICOACME_OK) {
        return fail(ctx, e,
                    e == PICOACME_ERR_NOSPACE ? "key change does not fit PICOACME_WORK_BUF_SIZE"
                                              : "signing the key change failed");
    }
    return request_post(ctx, ctx->lc_url, n, false, NULL);
}

/* keyChange answered 200: the new key is the account key, in the crypto
 * port and in the store record (rewritten whole; the A/B store keeps the
 * old copy until the new one is complete). */
static picoacme_err_t key_changed(picoacme_ctx_t *ctx)
{
    const picoacme_crypto_t *c = ctx->ports.crypto;
    uint8_t key[32];
    size_t len = 0;
    size_t off = 0;
    size_t vl = 0;
    picoacme_err_t e = c->key_export(c->user, PICOACME_KEY_CHALLENGE, key);
    if (e == PICOACME_OK) {
        e = c->key_import(c->user, PICOACME_KEY_ACCOUNT, key);
    }
    if (e != PICOACME_OK) {
        memset(key, 0, sizeof key);
        return fail(ctx, PICOACME_ERR_CRYPTO, "the new account key cannot be moved to its slot");
    }
    e = record_field(ctx, T_ACCT_KEY, &len, &off, &vl);
    if (e == PICOACME_OK && vl == sizeof key) {
        memcpy(ctx->rx + off, key, sizeof key);
        e = picoacme_store_save(ctx->ports.storage, ctx->rx, len);
    } else if (e == PICOACME_OK) {
        e = PICOACME_ERR_PARSE;
    }
    memset(key, 0, sizeof key);
    memset(ctx->rx, 0, sizeof ctx->rx);
    if (e != PICOACME_OK) {
        return fail(ctx, e, "the CA took the new account key but writing it to flash failed");
    }
    return lc_done(ctx);
}

/* Shared start: the stored account of this directory, its key imported. */
static picoacme_err_t lc_start(picoacme_ctx_t *ctx, picoacme_state_t next, bool need_cert)
{
    size_t len = 0;
    size_t off = 0;
    size_t vl = 0;
    size_t dl;
    bool ok = false;
    picoacme_err_t e;
    if (ctx == NULL || ctx->cfg.directory_url == NULL) {
        return PICOACME_ERR_PARAM;
    }
    release(ctx);
    memset(&ctx->problem, 0, sizeof ctx->problem);
    memset(&ctx->stats, 0, sizeof ctx->stats);
    ctx->nonce[0] = '\0';
    ctx->state = PICOACME_ST_IDLE;
    ctx->dns_published = false;
#if PICOACME_ARI
    ctx->ari_run = false;
    ctx->ari_replaces = false;
#endif
    ctx->lc_next = PICOACME_ST_IDLE;
    dl = slen(ctx->cfg.directory_url, PICOACME_URL_MAX);
    e = record_field(ctx, T_DIR, &len, &off, &vl);
    if (e == PICOACME_OK && vl == dl && memcmp(ctx->rx + off, ctx->cfg.directory_url, dl) == 0) {
        import_key(ctx, len, T_ACCT_KEY, PICOACME_KEY_ACCOUNT, &ok);
        if (need_cert && tlv_find(ctx->rx, len, T_CERT, &off, &vl) != PICOACME_OK) {
            ok = false;
        }
    }
    memset(ctx->rx, 0, sizeof ctx->rx); /* the record holds the keys */
    if (!ok) {
        return PICOACME_ERR_NOT_FOUND;
    }
    if (next == PICOACME_ST_KEY_CHANGE &&
        ctx->ports.crypto->key_generate(ctx->ports.crypto->user, PICOACME_KEY_CHALLENGE) !=
            PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_CRYPTO, "new account key generation failed");
    }
    ctx->account_key_loaded = true;
    ctx->only_existing = true;
    ctx->lc_next = next;
    goto_state(ctx, PICOACME_ST_DIRECTORY);
    return PICOACME_OK;
}
#endif

picoacme_err_t picoacme_revoke_start(picoacme_ctx_t *ctx, int reason)
{
#if PICOACME_LIFECYCLE
    /* RFC 5280 §5.3.1 CRLReason: 0..10, 7 unused */
    if (ctx == NULL || reason < -1 || reason > 10 || reason == 7) {
        return PICOACME_ERR_PARAM;
    }
    ctx->lc_reason = reason;
    return lc_start(ctx, PICOACME_ST_REVOKE, true);
#else
    (void)ctx;
    (void)reason;
    return PICOACME_ERR_UNSUPPORTED;
#endif
}

picoacme_err_t picoacme_key_rollover_start(picoacme_ctx_t *ctx)
{
#if PICOACME_LIFECYCLE
    return lc_start(ctx, PICOACME_ST_KEY_CHANGE, false);
#else
    (void)ctx;
    return PICOACME_ERR_UNSUPPORTED;
#endif
}

picoacme_err_t picoacme_account_deactivate_start(picoacme_ctx_t *ctx)
{
#if PICOACME_LIFECYCLE
    return lc_start(ctx, PICOACME_ST_DEACTIVATE, false);
#else
    (void)ctx;
    return PICOACME_ERR_UNSUPPORTED;
#endif
}

/* ---- dns-01 (RFC 8555 §8.4) over RFC 2136 + TSIG, or the integrator's hook ---- */

#if PICOACME_DNS01
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

static picoacme_err_t cleanup_done(picoacme_ctx_t *ctx);

/* Send the DNS message in tx[2, 2 + dns_len) and wait for its answer: one
 * datagram, or (dns01.tcp) a fresh TCP connection carrying the message
 * behind its 2-byte length (RFC 1035 §4.2.2, RFC 7766). */
static picoacme_err_t dns_transmit(picoacme_ctx_t *ctx)
{
    const picoacme_transport_t *tp = ctx->ports.transport;
    const picoacme_dns01_config_t *d = ctx->cfg.dns01;
    bool resolver = ctx->state == PICOACME_ST_DNS_PROPAGATE;
    const char *host = resolver ? d->resolver : d->server;
    uint16_t port = resolver ? d->resolver_port : d->server_port;
    picoacme_err_t e = PICOACME_ERR_IO;
    if (d->tcp) {
        sock_close(ctx, &ctx->dns_sock);
        ctx->tx[0] = (uint8_t)(ctx->dns_len >> 8);
        ctx->tx[1] = (uint8_t)ctx->dns_len;
        ctx->dns_off = 0;
        ctx->dns_rx = 0;
        e = tp->connect(tp->user, host, port, &ctx->dns_sock);
        if (e != PICOACME_OK) {
            ctx->dns_sock = PICOACME_SOCK_NONE;
        }
    } else {
        if (ctx->dns_sock == PICOACME_SOCK_NONE) {
            e = tp->udp_open(tp->user, &ctx->dns_sock);
            if (e != PICOACME_OK) {
                ctx->dns_sock = PICOACME_SOCK_NONE;
            }
        }
        if (ctx->dns_sock != PICOACME_SOCK_NONE) {
            e = tp->udp_send(tp->user, ctx->dns_sock, host, port, ctx->tx + 2, ctx->dns_len);
        }
    }
    if (ctx->dns_sock == PICOACME_SOCK_NONE || (e != PICOACME_OK && e != PICOACME_WANT_WRITE)) {
        if (ctx->state == PICOACME_ST_DNS_CLEANUP) {
            /* the clean-up never hides the failure it follows */
            LOG(ctx, PICOACME_LOG_LVL_WRN, "dns-01: cannot send the clean-up of %s", ctx->dns_fqdn);
            return cleanup_done(ctx);
        }
        return fail(ctx, PICOACME_ERR_DNS,
                    resolver ? "cannot send to the dns-01 resolver"
                             : "cannot send to the dns-01 server");
    }
    ctx->phase = PH_DNS;
    /* retransmit after 1, 2, 4 s; a propagation query never outlives the
     * dns-01 timeout */
    ctx->dns_deadline_ms = mono(ctx) + (1000U << ctx->dns_tries);
    if (resolver && expired(ctx->dns_deadline_ms, ctx->dns_until_ms)) {
        ctx->dns_deadline_ms = ctx->dns_until_ms;
    }
    return PICOACME_OK;
}

static picoacme_err_t dns_new_id(picoacme_ctx_t *ctx)
{
    uint8_t r[2];
    if (ctx->ports.crypto->random(ctx->ports.crypto->user, r, sizeof r) != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_CRYPTO, "random");
    }
    ctx->dns_id = (uint16_t)((r[0] << 8) | r[1]);
    return PICOACME_OK;
}

/* After the clean-up: report the held-back failure, fall back, or go on. */
static picoacme_err_t cleanup_done(picoacme_ctx_t *ctx)
{
    ctx->dns_published = false;
    if (ctx->final_err != PICOACME_OK) {
        picoacme_err_t e = ctx->final_err;
        ctx->final_err = PICOACME_OK;
        ctx->state = ctx->problem.state;
        return fail(ctx, e, NULL);
    }
    if (ctx->retry_order) {
        goto_state(ctx, PICOACME_ST_ORDER);
        return PICOACME_OK;
    }
    authz_done(ctx);
    return PICOACME_OK;
}

/* Build and send the DNS message of the current dns-01 state. */
static picoacme_err_t dns_begin(picoacme_ctx_t *ctx)
{
    const picoacme_dns01_config_t *d = ctx->cfg.dns01;
    bool add = ctx->state == PICOACME_ST_DNS_PUBLISH;
    picoacme_err_t e;
    if (ctx->state != PICOACME_ST_DNS_CLEANUP) {
        /* the problem describes this DNS exchange, not the last HTTP answer
         * (the clean-up after a failure keeps that failure's problem) */
        ctx->problem.http_status = 0;
        ctx->problem.type[0] = '\0';
        ctx->problem.detail[0] = '\0';
    }
    if (d->hook != NULL) {
        /* the integrator's DNS provider */
        if (ctx->state == PICOACME_ST_DNS_PROPAGATE) {
            goto_state(ctx, PICOACME_ST_CHALLENGE);
            return PICOACME_OK;
        }
        ctx->dns_published = true;
        e = d->hook->txt(d->hook->user, ctx->dns_fqdn, ctx->dns_txt, add);
        if (e == PICOACME_AGAIN) {
            set_timer(ctx, 100U);
            return PICOACME_OK;
        }
        if (ctx->state == PICOACME_ST_DNS_CLEANUP) {
            return cleanup_done(ctx);
        }
        if (e != PICOACME_OK) {
            return fail(ctx, PICOACME_ERR_DNS, "the DNS hook could not publish the TXT record");
        }
        ctx->dns_until_ms = mono(ctx) + d->timeout_s * 1000U;
        ctx->dns_backoff_ms = 250U;
        goto_state(ctx, d->resolver != NULL ? PICOACME_ST_DNS_PROPAGATE : PICOACME_ST_CHALLENGE);
        return PICOACME_OK;
    }
    if (ctx->dns_tries == 0U) {
        e = dns_new_id(ctx);
        if (e != PICOACME_OK) {
            return e;
        }
    }
    if (ctx->state == PICOACME_ST_DNS_PROPAGATE) {
        e = picoacme_dns_query(ctx->tx + 2, sizeof ctx->tx - 2U, &ctx->dns_len, ctx->dns_id,
                               ctx->dns_fqdn, PICOACME_DNS_TYPE_TXT);
    } else if (add && ctx->dns_step == 0U && d->zone == NULL) {
        /* which zone holds the name: ask the server for its SOA */
        e = picoacme_dns_query(ctx->tx + 2, sizeof ctx->tx - 2U, &ctx->dns_len, ctx->dns_id,
                               ctx->dns_fqdn, PICOACME_DNS_TYPE_SOA);
    } else {
        int64_t now = picoacme_now(ctx);
        if (add && ctx->dns_step == 0U) {
            /* the configured zone */
            cpy(ctx->dns_zone, sizeof ctx->dns_zone, d->zone, slen(d->zone, PICOACME_NAME_MAX));
            ctx->dns_step = 1;
        }
        if (now == PICOACME_TIME_UNKNOWN) {
            return fail(ctx, PICOACME_ERR_DNS, "the time is unknown, TSIG cannot be signed");
        }
        if (add) {
            /* published from here on: a lost answer still gets a clean-up */
            ctx->dns_published = true;
        }
        e = picoacme_dns_update(ctx->tx + 2, sizeof ctx->tx - 2U, &ctx->dns_len, ctx->dns_id,
                                ctx->dns_zone, ctx->dns_fqdn, ctx->dns_txt, 60U, add, &d->tsig, now,
                                ctx->ports.crypto, ctx->dns_mac);
    }
    if (e != PICOACME_OK) {
        return fail(ctx, e == PICOACME_ERR_NOSPACE ? e : PICOACME_ERR_PARAM,
                    "cannot build the DNS message (name, zone or TSIG key)");
    }
    LOG(ctx, PICOACME_LOG_LVL_INF, "dns-01: %s %s",
        ctx->state == PICOACME_ST_DNS_PROPAGATE ? "TXT query for"
        : ctx->state == PICOACME_ST_DNS_CLEANUP ? "UPDATE delete"
        : ctx->dns_step == 0U                   ? "SOA query for"
                                                : "UPDATE add",
        ctx->dns_fqdn);
    return dns_transmit(ctx);
}

/* An answer (or none, len 0) to the DNS message in flight. */
static picoacme_err_t dns_answer(picoacme_ctx_t *ctx, size_t len, bool timed_out)
{
    const picoacme_dns01_config_t *d = ctx->cfg.dns01;
    uint8_t rcode = 0;
    bool found = false;
    picoacme_err_t e;
    ctx->dns_tries = 0;
    switch (ctx->state) {
    case PICOACME_ST_DNS_PUBLISH:
        if (timed_out) {
            return fail(ctx, PICOACME_ERR_DNS, "the dns-01 server did not answer");
        }
        if (ctx->dns_step == 0U) {
            e = picoacme_dns_soa_zone(ctx->rx, len, ctx->dns_id, ctx->dns_zone,
                                      sizeof ctx->dns_zone);
            if (e != PICOACME_OK) {
                return fail(ctx, PICOACME_ERR_DNS,
                            "the dns-01 server names no zone (SOA) for the name");
            }
            ctx->dns_step = 1;
            ctx->phase = PH_IDLE;
            return PICOACME_OK;
        }
        e = picoacme_dns_update_answer(ctx->rx, len, ctx->dns_id, &d->tsig, ctx->dns_mac,
                                       ctx->ports.crypto, &rcode);
        if (e != PICOACME_OK || rcode != PICOACME_DNS_RCODE_NOERROR) {
            char msg[96];
            static const char pre[] = "the DNS server refused the update: ";
            const char *rn = e == PICOACME_ERR_PARSE ? "malformed answer" : rcode_name(rcode);
            size_t pl = sizeof pre - 1U;
            size_t rl = slen(rn, sizeof msg - pl - 1U);
            memcpy(msg, pre, pl);
            memcpy(msg + pl, rn, rl);
            msg[pl + rl] = '\0';
            ctx->dns_published = false;
            return fail(ctx, PICOACME_ERR_DNS, msg);
        }
        ctx->dns_until_ms = mono(ctx) + d->timeout_s * 1000U;
        ctx->dns_backoff_ms = 250U;
        goto_state(ctx, d->resolver != NULL ? PICOACME_ST_DNS_PROPAGATE : PICOACME_ST_CHALLENGE);
        return PICOACME_OK;
    case PICOACME_ST_DNS_PROPAGATE:
        if (!timed_out &&
            picoacme_dns_txt_has(ctx->rx, len, ctx->dns_id, ctx->dns_fqdn, ctx->dns_txt, &found,
                                 &rcode) == PICOACME_OK &&
            found) {
            LOG(ctx, PICOACME_LOG_LVL_INF, "dns-01: %s is visible", ctx->dns_fqdn);
            goto_state(ctx, PICOACME_ST_CHALLENGE);
            return PICOACME_OK;
        }
        if (expired(mono(ctx), ctx->dns_until_ms)) {
            return fail(ctx, PICOACME_ERR_TIMEOUT,
                        "the TXT record did not reach the resolver within the dns-01 timeout");
        }
        set_timer(ctx, ctx->dns_backoff_ms);
        ctx->dns_backoff_ms = ctx->dns_backoff_ms >= 2000U ? 4000U : ctx->dns_backoff_ms * 2U;
        return PICOACME_OK;
    case PICOACME_ST_DNS_CLEANUP:
        if (timed_out) {
            LOG(ctx, PICOACME_LOG_LVL_WRN, "dns-01: no answer to the clean-up of %s",
                ctx->dns_fqdn);
        } else if (picoacme_dns_update_answer(ctx->rx, len, ctx->dns_id, &d->tsig, ctx->dns_mac,
                                              ctx->ports.crypto, &rcode) != PICOACME_OK ||
                   rcode != PICOACME_DNS_RCODE_NOERROR) {
            LOG(ctx, PICOACME_LOG_LVL_WRN, "dns-01: clean-up of %s refused", ctx->dns_fqdn);
        }
        return cleanup_done(ctx);
    default: return fail(ctx, PICOACME_ERR_STATE, "DNS answer in an unexpected state");
    }
}

/* No answer in time, or the connection failed: send again, or give up. */
static picoacme_err_t dns_no_answer(picoacme_ctx_t *ctx)
{
    ctx->phase = PH_IDLE;
    if (ctx->cfg.dns01->tcp) {
        sock_close(ctx, &ctx->dns_sock);
    }
    if (ctx->dns_tries < 2U) {
        ctx->dns_tries++;
        return dns_transmit(ctx);
    }
    return dns_answer(ctx, 0U, true);
}

/* DNS over TCP: send the length-prefixed message, read the length-prefixed
 * answer into rx. */
static picoacme_err_t dns_pump_tcp(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    const picoacme_transport_t *tp = ctx->ports.transport;
    uint32_t now = mono(ctx);
    picoacme_err_t e = PICOACME_OK;
    unsigned guard;
    for (guard = 0; guard < 16U && ctx->dns_off < ctx->dns_len + 2U; guard++) {
        size_t n = 0;
        e = tp->send(tp->user, ctx->dns_sock, ctx->tx + ctx->dns_off,
                     ctx->dns_len + 2U - ctx->dns_off, &n);
        if (e != PICOACME_OK) {
            break;
        }
        ctx->dns_off += n;
    }
    for (guard = 0; e == PICOACME_OK && guard < 16U; guard++) {
        size_t n = 0;
        size_t want = ctx->dns_rx < 2U ? 2U : 2U + (((size_t)ctx->rx[0] << 8) | ctx->rx[1]);
        if (want > sizeof ctx->rx) {
            e = PICOACME_ERR_NOSPACE;
            break;
        }
        if (ctx->dns_rx == want && want > 2U) {
            size_t len = want - 2U;
            sock_close(ctx, &ctx->dns_sock);
            memmove(ctx->rx, ctx->rx + 2, len);
            if (len < 2U || (uint16_t)((ctx->rx[0] << 8) | ctx->rx[1]) != ctx->dns_id) {
                return dns_no_answer(ctx);
            }
            ctx->phase = PH_IDLE;
            return dns_answer(ctx, len, false);
        }
        e = tp->recv(tp->user, ctx->dns_sock, ctx->rx + ctx->dns_rx, want - ctx->dns_rx, &n);
        if (e == PICOACME_OK) {
            ctx->dns_rx += n;
        }
    }
    if ((e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE) &&
        !expired(now, ctx->dns_deadline_ms)) {
        wait_add(wait, ctx->dns_sock,
                 e == PICOACME_WANT_READ ? PICOACME_EV_READ : PICOACME_EV_WRITE);
        wait_timer(wait, remaining(now, ctx->dns_deadline_ms));
        return PICOACME_WANT_READ;
    }
    return dns_no_answer(ctx);
}

/* Receive the answer of the DNS message in flight. */
static picoacme_err_t dns_pump(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    const picoacme_transport_t *tp = ctx->ports.transport;
    unsigned guard;
    if (ctx->cfg.dns01->tcp) {
        return dns_pump_tcp(ctx, wait);
    }
    for (guard = 0; guard < 8U; guard++) {
        size_t n = 0;
        picoacme_err_t e = tp->udp_recv(tp->user, ctx->dns_sock, ctx->rx, sizeof ctx->rx, &n);
        if (e == PICOACME_WANT_READ) {
            uint32_t now = mono(ctx);
            if (!expired(now, ctx->dns_deadline_ms)) {
                wait_add(wait, ctx->dns_sock, PICOACME_EV_READ);
                wait_timer(wait, remaining(now, ctx->dns_deadline_ms));
                return PICOACME_WANT_READ;
            }
            return dns_no_answer(ctx);
        }
        if (e != PICOACME_OK) {
            return dns_no_answer(ctx);
        }
        /* datagrams of other ids (late retransmissions) are dropped */
        if (n >= 2U && (uint16_t)((ctx->rx[0] << 8) | ctx->rx[1]) == ctx->dns_id) {
            ctx->phase = PH_IDLE;
            return dns_answer(ctx, n, false);
        }
    }
    return PICOACME_OK;
}
#else
static picoacme_err_t dns_begin(picoacme_ctx_t *ctx)
{
    return fail(ctx, PICOACME_ERR_UNSUPPORTED, "built without dns-01 (PICOACME_DNS01)");
}
static picoacme_err_t dns_pump(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    (void)wait;
    return fail(ctx, PICOACME_ERR_UNSUPPORTED, "built without dns-01 (PICOACME_DNS01)");
}
#endif

#if PICOACME_EAB
/* The externalAccountBinding member (§7.3.4): a JWS over the account's
 * public JWK, HS256 with the CA's MAC key, protected {alg, kid, url}. */
static picoacme_err_t eab_jws(picoacme_ctx_t *ctx, char *out, size_t cap, size_t *out_len)
{
    uint8_t pub[64];
    char jwk[128];
    char prot[PICOACME_URL_MAX + 160U];
    size_t jwk_len = 0;
    size_t prot_len = 0;
    picoacme_jw_t w;
    picoacme_err_t e =
        ctx->ports.crypto->key_public(ctx->ports.crypto->user, PICOACME_KEY_ACCOUNT, pub);
    if (e == PICOACME_OK) {
        e = picoacme_jwk_write(pub, jwk, sizeof jwk, &jwk_len);
    }
    if (e != PICOACME_OK) {
        return e;
    }
    picoacme_jw_init(&w, prot, sizeof prot);
    picoacme_jw_obj_begin(&w);
    picoacme_jw_key(&w, "alg");
    picoacme_jw_str(&w, "HS256", 5U);
    picoacme_jw_key(&w, "kid");
    picoacme_jw_str(&w, ctx->cfg.eab_kid, slen(ctx->cfg.eab_kid, 128U));
    picoacme_jw_key(&w, "url");
    picoacme_jw_str(&w, ctx->new_account, slen(ctx->new_account, sizeof ctx->new_account));
    picoacme_jw_obj_end(&w);
    e = picoacme_jw_finish(&w, &prot_len);
    if (e != PICOACME_OK) {
        return e;
    }
    return picoacme_jws_hs256(ctx->ports.crypto, ctx->cfg.eab_key, ctx->cfg.eab_key_len, prot,
                              prot_len, jwk, jwk_len, out, cap, out_len);
}
#endif

/* Build and send the request of the current state. */
static picoacme_err_t begin(picoacme_ctx_t *ctx)
{
    picoacme_jw_t w;
    size_t n = 0;
    size_t i;
    picoacme_err_t e;
    switch (ctx->state) {
    case PICOACME_ST_DIRECTORY:
        return request_get(ctx, ctx->cfg.directory_url, false, "application/json");
    case PICOACME_ST_NONCE: return request_get(ctx, ctx->new_nonce, true, NULL);
    case PICOACME_ST_ACCOUNT:
        picoacme_jw_init(&w, ctx->work, sizeof ctx->work / 2U);
        picoacme_jw_obj_begin(&w);
        if (ctx->only_existing) {
            picoacme_jw_key(&w, "onlyReturnExisting");
            picoacme_jw_bool(&w, true);
        } else {
            picoacme_jw_key(&w, "termsOfServiceAgreed");
            picoacme_jw_bool(&w, true);
            if (ctx->cfg.email != NULL && ctx->cfg.email[0] != '\0') {
                char mailto[140];
                size_t el = slen(ctx->cfg.email, 128U);
                memcpy(mailto, "mailto:", 7U);
                memcpy(mailto + 7, ctx->cfg.email, el);
                picoacme_jw_key(&w, "contact");
                picoacme_jw_arr_begin(&w);
                picoacme_jw_str(&w, mailto, el + 7U);
                picoacme_jw_arr_end(&w);
            }
#if PICOACME_EAB
            if (ctx->cfg.eab_kid != NULL) {
                size_t eab_len = 0;
                e = eab_jws(ctx, ctx->work + sizeof ctx->work / 2U, sizeof ctx->work / 2U,
                            &eab_len);
                if (e != PICOACME_OK) {
                    return fail(ctx, e,
                                "External Account Binding does not fit PICOACME_WORK_BUF_SIZE");
                }
                picoacme_jw_key(&w, "externalAccountBinding");
                picoacme_jw_raw(&w, ctx->work + sizeof ctx->work / 2U, eab_len);
            }
#endif
        }
        picoacme_jw_obj_end(&w);
        e = picoacme_jw_finish(&w, &n);
        if (e != PICOACME_OK) {
            return fail(ctx, e, "account request does not fit PICOACME_WORK_BUF_SIZE");
        }
        return request_post(ctx, ctx->new_account, n, true, NULL);
    case PICOACME_ST_ORDER:
        picoacme_jw_init(&w, ctx->work, sizeof ctx->work / 2U);
        picoacme_jw_obj_begin(&w);
        picoacme_jw_key(&w, "identifiers");
        picoacme_jw_arr_begin(&w);
        for (i = 0; i < ctx->cfg.n_ids; i++) {
            const picoacme_ident_t *id = &ctx->cfg.ids[i];
            picoacme_jw_obj_begin(&w);
            picoacme_jw_key(&w, "type");
            picoacme_jw_str(&w, id->type == PICOACME_ID_IP ? "ip" : "dns",
                            id->type == PICOACME_ID_IP ? 2U : 3U);
            picoacme_jw_key(&w, "value");
            picoacme_jw_str(&w, id->value, slen(id->value, PICOACME_NAME_MAX));
            picoacme_jw_obj_end(&w);
        }
        picoacme_jw_arr_end(&w);
#if PICOACME_ARI
        if (ctx->ari_replaces && ctx->ari_offered) {
            /* RFC 9773 §5 */
            picoacme_jw_key(&w, "replaces");
            picoacme_jw_str(&w, ctx->ari_certid, slen(ctx->ari_certid, sizeof ctx->ari_certid));
        }
#endif
        picoacme_jw_obj_end(&w);
        e = picoacme_jw_finish(&w, &n);
        if (e != PICOACME_OK) {
            return fail(ctx, e, "order request does not fit PICOACME_WORK_BUF_SIZE");
        }
        ctx->orders++;
        ctx->retry_order = false;
        return request_post(ctx, ctx->new_order, n, false, NULL);
    case PICOACME_ST_AUTHZ:
    case PICOACME_ST_POLL_AUTHZ:
        return request_post_as_get(ctx, ctx->authz_url[ctx->authz_idx], NULL);
    case PICOACME_ST_DNS_PUBLISH:
    case PICOACME_ST_DNS_PROPAGATE:
    case PICOACME_ST_DNS_CLEANUP: return dns_begin(ctx);
    case PICOACME_ST_CHALLENGE:
        ctx->h01_seen = ctx->h01_served;
        memcpy(ctx->work, "{}", 2U);
        return request_post(ctx, ctx->chall_url, 2U, false, NULL);
    case PICOACME_ST_FINALIZE: {
        size_t der_len = 0;
        size_t b = 0;
        /* the CSR DER is built in rx, free between exchanges */
        e = picoacme_csr_build(ctx->ports.crypto, PICOACME_KEY_CERT, ctx->cfg.ids, ctx->cfg.n_ids,
                               ctx->rx, sizeof ctx->rx, &der_len);
        if (e != PICOACME_OK) {
            return fail(ctx, e, "building the CSR failed");
        }
        if (PICOACME_B64URL_LEN(der_len) + 12U > sizeof ctx->work / 2U) {
            return fail(ctx, PICOACME_ERR_NOSPACE, "CSR does not fit PICOACME_WORK_BUF_SIZE");
        }
        memcpy(ctx->work, "{\"csr\":\"", 8U);
        e = picoacme_b64url_encode(ctx->rx, der_len, ctx->work + 8, sizeof ctx->work / 2U - 10U,
                                   &b);
        if (e != PICOACME_OK) {
            return fail(ctx, e, "CSR encoding failed");
        }
        memcpy(ctx->work + 8 + b, "\"}", 2U);
        return request_post(ctx, ctx->finalize_url, 10U + b, false, NULL);
    }
    case PICOACME_ST_POLL_ORDER: return request_post_as_get(ctx, ctx->order_url, NULL);
    case PICOACME_ST_CERT:
        return request_post_as_get(ctx, ctx->cert_url, "application/pem-certificate-chain");
    case PICOACME_ST_STORE: return do_store(ctx);
#if PICOACME_ARI
    case PICOACME_ST_RENEWAL_INFO:
        /* unauthenticated GET (RFC 9773 §4.1); the URL is in work */
        return request_get(ctx, ctx->work, false, "application/json");
#endif
#if PICOACME_LIFECYCLE
    case PICOACME_ST_REVOKE: return revoke_begin(ctx);
    case PICOACME_ST_KEY_CHANGE: return key_change_begin(ctx);
    case PICOACME_ST_DEACTIVATE:
        memcpy(ctx->work, "{\"status\":\"deactivated\"}", 24U);
        return request_post(ctx, ctx->account_url, 24U, false, NULL);
#endif
    default: return fail(ctx, PICOACME_ERR_STATE, "nothing to do in this state");
    }
}

/* ---- http-01 responder (§8.3) ------------------------------------------------- */

picoacme_err_t picoacme_http01_lookup(picoacme_ctx_t *ctx, const char *path, size_t path_len,
                                      char *out, size_t cap, size_t *out_len)
{
    static const char prefix[] = "/.well-known/acme-challenge/";
    const size_t plen = sizeof prefix - 1U;
    size_t i;
    if (ctx == NULL || path == NULL || out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (path_len <= plen || memcmp(path, prefix, plen) != 0 || ctx->thumbprint[0] == '\0') {
        return PICOACME_ERR_NOT_FOUND;
    }
    for (i = 0; i < ctx->n_authz && i < PICOACME_MAX_IDENTIFIERS; i++) {
        size_t tl = slen(ctx->token[i], PICOACME_TOKEN_MAX);
        if (tl > 0U && tl == path_len - plen && memcmp(ctx->token[i], path + plen, tl) == 0) {
            /* key authorization = token "." thumbprint, §8.1 */
            if (tl + 1U + PICOACME_THUMBPRINT_LEN > cap) {
                return PICOACME_ERR_NOSPACE;
            }
            memcpy(out, ctx->token[i], tl);
            out[tl] = '.';
            memcpy(out + tl + 1U, ctx->thumbprint, PICOACME_THUMBPRINT_LEN);
            *out_len = tl + 1U + PICOACME_THUMBPRINT_LEN;
            ctx->h01_served++;
            return PICOACME_OK;
        }
    }
    return PICOACME_ERR_NOT_FOUND;
}

#if PICOACME_HTTP01
static size_t h01_answer(picoacme_ctx_t *ctx, size_t req_end)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                             "Connection: close\r\nContent-Length: ";
    static const char nf[] = "HTTP/1.1 404 Not Found\r\nConnection: close\r\n"
                             "Content-Length: 0\r\n\r\n";
    char ka[PICOACME_TOKEN_MAX + 1U + PICOACME_THUMBPRINT_LEN];
    size_t ka_len = 0;
    const char *p = (const char *)ctx->h01_buf;
    size_t path_len = 0;
    size_t n;
    char digits[4];
    size_t nd = 0;
    (void)req_end;
    /* request line: "GET <path> HTTP/1.x" */
    if (ctx->h01_len < 4U || memcmp(p, "GET ", 4U) != 0) {
        goto not_found;
    }
    while (4U + path_len < ctx->h01_len && p[4U + path_len] != ' ' && p[4U + path_len] != '\r') {
        path_len++;
    }
    if (picoacme_http01_lookup(ctx, p + 4, path_len, ka, sizeof ka, &ka_len) != PICOACME_OK) {
        goto not_found;
    }
    LOG(ctx, PICOACME_LOG_LVL_INF, "http-01: answered the validation request");
    n = sizeof ok - 1U;
    memcpy(ctx->h01_buf, ok, n);
    {
        size_t v = ka_len;
        do {
            digits[nd++] = (char)('0' + (v % 10U));
            v /= 10U;
        } while (v > 0U && nd < sizeof digits);
    }
    while (nd > 0U) {
        ctx->h01_buf[n++] = (uint8_t)digits[--nd];
    }
    memcpy(ctx->h01_buf + n, "\r\n\r\n", 4U);
    n += 4U;
    memcpy(ctx->h01_buf + n, ka, ka_len);
    return n + ka_len;
not_found:
    memcpy(ctx->h01_buf, nf, sizeof nf - 1U);
    return sizeof nf - 1U;
}

static void h01_service(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    const picoacme_transport_t *tp = ctx->ports.transport;
    uint32_t now;
    if (ctx->h01_lsock == PICOACME_SOCK_NONE) {
        return;
    }
    now = mono(ctx);
    if (ctx->h01_sock == PICOACME_SOCK_NONE) {
        picoacme_sock_t s = PICOACME_SOCK_NONE;
        if (tp->accept(tp->user, ctx->h01_lsock, &s) != PICOACME_OK) {
            wait_add(wait, ctx->h01_lsock, PICOACME_EV_READ);
            return;
        }
        ctx->h01_sock = s;
        ctx->h01_len = 0;
        ctx->h01_out = 0;
        ctx->h01_sent = 0;
        ctx->h01_deadline_ms = now + 5000U;
    }
    if (expired(now, ctx->h01_deadline_ms)) {
        h01_close(ctx);
        wait_add(wait, ctx->h01_lsock, PICOACME_EV_READ);
        return;
    }
    while (ctx->h01_out == 0U) {
        size_t n = 0;
        size_t i;
        picoacme_err_t e = tp->recv(tp->user, ctx->h01_sock, ctx->h01_buf + ctx->h01_len,
                                    sizeof ctx->h01_buf - ctx->h01_len, &n);
        if (e == PICOACME_WANT_READ) {
            wait_add(wait, ctx->h01_sock, PICOACME_EV_READ);
            wait_timer(wait, remaining(now, ctx->h01_deadline_ms));
            return;
        }
        if (e != PICOACME_OK) {
            h01_close(ctx);
            return;
        }
        ctx->h01_len += n;
        for (i = 3; i < ctx->h01_len; i++) {
            if (memcmp(ctx->h01_buf + i - 3U, "\r\n\r\n", 4U) == 0) {
                ctx->h01_out = h01_answer(ctx, i + 1U);
                break;
            }
        }
        if (ctx->h01_out == 0U && ctx->h01_len == sizeof ctx->h01_buf) {
            /* request head too large: not a validation request */
            ctx->h01_len = 0;
            ctx->h01_out = h01_answer(ctx, 0U);
        }
    }
    while (ctx->h01_sent < ctx->h01_out) {
        size_t n = 0;
        picoacme_err_t e = tp->send(tp->user, ctx->h01_sock, ctx->h01_buf + ctx->h01_sent,
                                    ctx->h01_out - ctx->h01_sent, &n);
        if (e == PICOACME_WANT_WRITE) {
            wait_add(wait, ctx->h01_sock, PICOACME_EV_WRITE);
            wait_timer(wait, remaining(now, ctx->h01_deadline_ms));
            return;
        }
        if (e != PICOACME_OK) {
            break;
        }
        ctx->h01_sent += n;
    }
    h01_close(ctx);
    wait_add(wait, ctx->h01_lsock, PICOACME_EV_READ);
}
#else
static void h01_service(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    (void)ctx;
    (void)wait;
}
#endif

/* ---- tls-alpn-01 responder (RFC 8737) ------------------------------------------ */

#if PICOACME_TLSALPN01
picoacme_err_t picoacme_tlsalpn_adopt(picoacme_ctx_t *ctx, picoacme_sock_t sock)
{
    if (ctx == NULL || sock == PICOACME_SOCK_NONE) {
        return PICOACME_ERR_PARAM;
    }
    if (ctx->alpn_sock != PICOACME_SOCK_NONE || ctx->alpn_cert_len == 0U ||
        ctx->ports.tls == NULL || ctx->ports.tls->server_open == NULL) {
        return PICOACME_ERR_STATE;
    }
    ctx->alpn_sock = sock;
    ctx->alpn_open = false;
    ctx->alpn_deadline_ms = mono(ctx) + 5000U;
    return PICOACME_OK;
}

static void alpn_service(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    const picoacme_transport_t *tp = ctx->ports.transport;
    const picoacme_tls_t *tls = ctx->ports.tls;
    uint32_t now = mono(ctx);
    picoacme_err_t e;
    if (ctx->alpn_sock == PICOACME_SOCK_NONE) {
        picoacme_sock_t s = PICOACME_SOCK_NONE;
        if (ctx->alpn_lsock == PICOACME_SOCK_NONE) {
            return;
        }
        if (tp->accept(tp->user, ctx->alpn_lsock, &s) != PICOACME_OK) {
            wait_add(wait, ctx->alpn_lsock, PICOACME_EV_READ);
            return;
        }
        ctx->alpn_sock = s;
        ctx->alpn_open = false;
        ctx->alpn_deadline_ms = now + 5000U;
    }
    if (expired(now, ctx->alpn_deadline_ms) || ctx->alpn_cert_len == 0U) {
        /* no challenge pending, or a stalled peer */
        alpn_close(ctx);
        wait_add(wait, ctx->alpn_lsock, PICOACME_EV_READ);
        return;
    }
    if (!ctx->alpn_open) {
        uint8_t priv[32];
        e = ctx->ports.crypto->key_export(ctx->ports.crypto->user, PICOACME_KEY_CHALLENGE, priv);
        if (e == PICOACME_OK) {
            e = tls->server_open(tls->user, ctx->alpn_sock, ctx->alpn_cert, ctx->alpn_cert_len,
                                 priv);
        }
        memset(priv, 0, sizeof priv);
        if (e != PICOACME_OK) {
            LOG(ctx, PICOACME_LOG_LVL_WRN, "tls-alpn-01: cannot start the TLS server (%s)",
                picoacme_err_str(e));
            ctx->ports.transport->close(ctx->ports.transport->user, ctx->alpn_sock);
            ctx->alpn_sock = PICOACME_SOCK_NONE;
            return;
        }
        ctx->alpn_open = true;
    }
    e = tls->server_step(tls->user);
    if (e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE) {
        wait_add(wait, ctx->alpn_sock,
                 e == PICOACME_WANT_READ ? PICOACME_EV_READ : PICOACME_EV_WRITE);
        wait_timer(wait, remaining(now, ctx->alpn_deadline_ms));
        return;
    }
    if (e == PICOACME_OK) {
        ctx->h01_served++;
        LOG(ctx, PICOACME_LOG_LVL_INF, "tls-alpn-01: answered the validation handshake");
    } else {
        LOG(ctx, PICOACME_LOG_LVL_INF, "tls-alpn-01: handshake failed (%s)", picoacme_err_str(e));
    }
    alpn_close(ctx);
    wait_add(wait, ctx->alpn_lsock, PICOACME_EV_READ);
}
#else
picoacme_err_t picoacme_tlsalpn_adopt(picoacme_ctx_t *ctx, picoacme_sock_t sock)
{
    (void)ctx;
    (void)sock;
    return PICOACME_ERR_UNSUPPORTED;
}
static void alpn_service(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    (void)ctx;
    (void)wait;
}
#endif

/* ---- the pump ------------------------------------------------------------ */

static picoacme_err_t io_failure(picoacme_ctx_t *ctx, picoacme_err_t e)
{
    ctx->problem.http_status = ctx->resp.status; /* 0 unless a status line was read */
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
    default: return fail(ctx, e, "cannot connect to the CA (refused, reset or unreachable)");
    }
}

picoacme_err_t picoacme_step(picoacme_ctx_t *ctx, picoacme_wait_t *wait)
{
    unsigned guard;
    picoacme_err_t e;
    if (ctx == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (wait != NULL) {
        wait->count = 0;
        wait->timeout_ms = UINT32_MAX;
    }
    if (ctx->state == PICOACME_ST_DONE) {
        return PICOACME_OK;
    }
    if (ctx->state == PICOACME_ST_FAILED) {
        return ctx->problem.err;
    }
    if (ctx->state == PICOACME_ST_IDLE) {
        return PICOACME_ERR_STATE;
    }
    h01_service(ctx, wait);
    alpn_service(ctx, wait);
    /* a bounded number of transitions per call keeps a superloop responsive */
    for (guard = 0; guard < 16U; guard++) {
        uint32_t now = mono(ctx);
        if (ctx->phase == PH_TIMER) {
            if (ctx->state == PICOACME_ST_POLL_AUTHZ && ctx->h01_served != ctx->h01_seen) {
                /* the validator fetched the token: poll once it had time to decide */
                ctx->h01_seen = ctx->h01_served;
                if (remaining(now, ctx->deadline_ms) > PICOACME_POLL_SETTLE_MS) {
                    ctx->deadline_ms = now + PICOACME_POLL_SETTLE_MS;
                }
            }
            if (!expired(now, ctx->deadline_ms)) {
                wait_timer(wait, remaining(now, ctx->deadline_ms));
                return PICOACME_AGAIN;
            }
            ctx->phase = PH_IDLE;
        }
        if (ctx->phase == PH_IDLE) {
            e = begin(ctx);
        } else if (ctx->phase == PH_DNS) {
            e = dns_pump(ctx, wait);
            if (e == PICOACME_WANT_READ) {
                return e;
            }
        } else if (expired(now, ctx->deadline_ms)) {
            e = fail(ctx, PICOACME_ERR_TIMEOUT,
                     "the CA did not answer in time (PICOACME_IO_TIMEOUT_MS)");
        } else {
            e = pump(ctx);
            if (e == PICOACME_AGAIN) { /* TEMP: connect again after a while */
                wait_timer(wait, remaining(now, ctx->deadline_ms));
                wait_timer(wait, PICOACME_RESOLVE_POLL_MS);
                return e;
            }
            if (e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE) {
                wait_add(wait, ctx->sock, ctx->want);
                wait_timer(wait, remaining(now, ctx->deadline_ms));
                return e;
            }
            if (e != PICOACME_OK) {
                e = io_failure(ctx, e);
            } else {
                ctx->phase = PH_IDLE;
                e = on_response(ctx);
            }
        }
        if (ctx->state == PICOACME_ST_DONE) {
            return PICOACME_OK;
        }
        /* AGAIN: a failure waits for the dns-01 clean-up; keep going */
        if (e != PICOACME_OK && e != PICOACME_AGAIN) {
            return e;
        }
    }
    wait_timer(wait, 0U);
    return PICOACME_AGAIN;
}

void picoacme_abort(picoacme_ctx_t *ctx)
{
    if (ctx != NULL) {
        release(ctx);
        if (ctx->state != PICOACME_ST_DONE) {
            ctx->state = PICOACME_ST_IDLE;
        }
    }
}

const picoacme_problem_t *picoacme_last_problem(const picoacme_ctx_t *ctx)
{
    return &ctx->problem;
}

picoacme_err_t picoacme_result(const picoacme_ctx_t *ctx, const char **pem, size_t *len)
{
    if (ctx == NULL || pem == NULL || len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (ctx->state != PICOACME_ST_DONE || ARI_RUN(ctx) || LC_NEXT(ctx) != PICOACME_ST_IDLE) {
        return PICOACME_ERR_STATE;
    }
    *pem = (const char *)ctx->rx + ctx->resp.body.off;
    *len = ctx->resp.body.len;
    return PICOACME_OK;
}

picoacme_err_t picoacme_stored(picoacme_ctx_t *ctx, picoacme_stored_info_t *info)
{
    size_t len = 0;
    size_t off = 0;
    size_t vl = 0;
    size_t pos = 0;
    size_t der_len = 0;
    picoacme_x509_t c;
    bool ok = false;
    picoacme_err_t e;
    if (ctx == NULL || info == NULL) {
        return PICOACME_ERR_PARAM;
    }
    memset(info, 0, sizeof *info);
    e = load_record(ctx, &len);
    if (e != PICOACME_OK) {
        return e;
    }
    if (tlv_find(ctx->rx, len, T_CERT, &off, &vl) != PICOACME_OK) {
        return PICOACME_ERR_NOT_FOUND;
    }
    e = picoacme_pem_next((const char *)ctx->rx + off, vl, &pos, ctx->tx, sizeof ctx->tx, &der_len);
    if (e == PICOACME_OK) {
        e = picoacme_x509_parse(ctx->tx, der_len, &c);
    }
    if (e != PICOACME_OK) {
        return PICOACME_ERR_PARSE;
    }
    import_key(ctx, len, T_CERT_KEY, PICOACME_KEY_CERT, &ok);
    import_key(ctx, len, T_ACCT_KEY, PICOACME_KEY_ACCOUNT, &info->has_account);
    info->chain_pem = (const char *)ctx->rx + off;
    info->chain_len = vl;
    info->not_before_s = c.not_before_s;
    info->not_after_s = c.not_after_s;
    info->renew_at_s = picoacme_renew_at(c.not_before_s, c.not_after_s);
#if PICOACME_ARI
    {
        /* the CA's window, when it was asked about this very certificate;
         * a window beyond the expiry is not followed */
        char id[PICOACME_ARI_CERTID_MAX];
        size_t n = 0;
        if (ctx->ari_valid && ctx->ari_renew_at_s <= c.not_after_s &&
            picoacme_ari_certid(&c, id, sizeof id, &n) == PICOACME_OK &&
            memcmp(id, ctx->ari_certid, n + 1U) == 0) {
            info->renew_at_s = ctx->ari_renew_at_s;
            info->ari = true;
            info->ari_retry_at_s = ctx->ari_retry_at_s;
        }
    }
#endif
    return PICOACME_OK;
}
