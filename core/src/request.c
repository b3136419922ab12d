/*
 * request.c - the requests the engine sends: GET/HEAD, and POST of a JWS
 * (RFC 8555 §6.2) signed with the account key, written into tx; and the
 * payloads of the directory, nonce, account (§7.3), order (§7.4), finalize
 * (§7.4) and download (§7.4.2) states. Payloads are built in work.
 */
#include "internal.h"

#include "picoacme_b64.h"
#include "picoacme_jws.h"

static picoacme_err_t parse_url(picoacme_ctx_t *ctx, const char *u, picoacme_url_t *url)
{
    if (picoacme_url_parse(u, util_strnlen(u, PICOACME_URL_MAX), url) != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_PROTOCOL, "the CA gave a URL that cannot be used");
    }
    return PICOACME_OK;
}

/* Start the exchange of the request now in tx[tx_off, tx_end). */
static picoacme_err_t send_request(picoacme_ctx_t *ctx, const picoacme_url_t *url, bool head,
                                   const char *method, const char *u)
{
    picoacme_err_t e = exchange_begin(ctx, url, head);
    LOG(ctx, PICOACME_LOG_LVL_INF, "%s %s", method, u);
    return e == PICOACME_OK ? e : fail(ctx, e, "cannot reach the CA URL");
}

picoacme_err_t request_get(picoacme_ctx_t *ctx, const char *u, bool head, const char *accept)
{
    picoacme_url_t url;
    size_t n = 0;
    const char *method = head ? "HEAD" : "GET";
    picoacme_err_t e = parse_url(ctx, u, &url);
    if (e != PICOACME_OK) {
        return e;
    }
    BUF_TAKE(ctx, tx, BUF_REQUEST);
    e = picoacme_http_request(ctx->tx, sizeof ctx->tx, &n, method, &url, accept, NULL, 0U);
    if (e != PICOACME_OK) {
        return fail(ctx, e, "request does not fit PICOACME_TX_BUF_SIZE");
    }
    ctx->conn.tx_off = 0;
    ctx->conn.tx_end = n;
    return send_request(ctx, &url, head, method, u);
}

/* The protected header (§6.2) after the payload in work: alg, then jwk
 * (newAccount) or kid, nonce, url. */
static picoacme_err_t protected_header(picoacme_ctx_t *ctx, const char *u, size_t payload_len,
                                       bool jwk, size_t *prot_len)
{
    picoacme_jw_t w;
    picoacme_jw_init(&w, ctx->work + payload_len, sizeof ctx->work - payload_len);
    picoacme_jw_obj_begin(&w);
    picoacme_jw_key(&w, "alg");
    picoacme_jw_str(&w, "ES256", 5U);
    if (jwk) {
        uint8_t pub[64];
        char jwk_json[128];
        size_t jwk_len = 0;
        picoacme_err_t e =
            ctx->ports.crypto->key_public(ctx->ports.crypto->user, PICOACME_KEY_ACCOUNT, pub);
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
        picoacme_jw_str(&w, ctx->dir.account_url,
                        util_strnlen(ctx->dir.account_url, sizeof ctx->dir.account_url));
    }
    picoacme_jw_key(&w, "nonce");
    picoacme_jw_str(&w, ctx->run.nonce, util_strnlen(ctx->run.nonce, sizeof ctx->run.nonce));
    picoacme_jw_key(&w, "url");
    picoacme_jw_str(&w, u, util_strnlen(u, PICOACME_URL_MAX));
    picoacme_jw_obj_end(&w);
    if (picoacme_jw_finish(&w, prot_len) != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_NOSPACE, "JWS header does not fit PICOACME_WORK_BUF_SIZE");
    }
    return PICOACME_OK;
}

/* A POST needs a fresh nonce: fetch one first, then come back (§7.2). */
static picoacme_err_t nonce_first(picoacme_ctx_t *ctx)
{
    picoacme_state_t back = ctx->run.state;
    picoacme_err_t e = goto_state(ctx, PICOACME_ST_NONCE);
    if (e == PICOACME_OK) {
        ctx->run.resume = back;
        e = begin_nonce(ctx);
    }
    return e;
}

picoacme_err_t request_post(picoacme_ctx_t *ctx, const char *u, size_t payload_len, bool jwk,
                            const char *accept)
{
    picoacme_url_t url;
    size_t prot_len = 0;
    size_t body_len = 0;
    size_t head_len = 0;
    const size_t body_off = HEAD_ROOM;
    picoacme_err_t e;
    if (ctx->run.nonce[0] == '\0') {
        BUF_GIVE(ctx, work, BUF_PAYLOAD);
        return nonce_first(ctx);
    }
    e = parse_url(ctx, u, &url);
    if (e == PICOACME_OK) {
        e = protected_header(ctx, u, payload_len, jwk, &prot_len);
    }
    if (e != PICOACME_OK) {
        return e;
    }
    ctx->run.nonce[0] = '\0'; /* a nonce is used once (§7.2) */
    BUF_TAKE(ctx, tx, BUF_REQUEST);
    e = picoacme_jws_es256(ctx->ports.crypto, PICOACME_KEY_ACCOUNT, ctx->work + payload_len,
                           prot_len, ctx->work, payload_len, (char *)ctx->tx + body_off,
                           sizeof ctx->tx - body_off, &body_len);
    BUF_GIVE(ctx, work, BUF_PAYLOAD);
    if (e != PICOACME_OK) {
        return fail(ctx, e,
                    e == PICOACME_ERR_NOSPACE ? "request does not fit PICOACME_TX_BUF_SIZE"
                                              : "signing the request failed");
    }
    /* the head is written behind the body, then moved in front of it */
    size_t tail = body_off + body_len;
    e = picoacme_http_request(ctx->tx + tail, sizeof ctx->tx - tail, &head_len, "POST", &url,
                              accept, "application/jose+json", body_len);
    if (e != PICOACME_OK || head_len > body_off) {
        return fail(ctx, PICOACME_ERR_NOSPACE, "request does not fit PICOACME_TX_BUF_SIZE");
    }
    memmove(ctx->tx + body_off - head_len, ctx->tx + tail, head_len);
    ctx->conn.tx_off = body_off - head_len;
    ctx->conn.tx_end = tail;
    return send_request(ctx, &url, false, "POST", u);
}

/* ---- the states' requests ---------------------------------------------------- */

picoacme_err_t begin_directory(picoacme_ctx_t *ctx)
{
    picoacme_op_t op = ctx->run.op;
    /* an issuance or ARI question uses the directory this context read
     * before (or the store kept); lifecycle calls need more of it. An ARI
     * question reads it again when the kept one names no renewalInfo: a
     * CA that starts offering ARI is found (at most one GET per question) */
    bool ari_known = op == PICOACME_OP_ARI && ctx->dir.ari_offered;
    if (ctx->dir.loaded && (op == PICOACME_OP_ISSUE || ari_known)) {
        return directory_next(ctx);
    }
    return request_get(ctx, ctx->cfg.directory_url, false, "application/json");
}

picoacme_err_t begin_nonce(picoacme_ctx_t *ctx)
{
    return request_get(ctx, ctx->dir.new_nonce, true, NULL);
}

/* "contact": ["mailto:<email>"] */
static void account_contact(const picoacme_ctx_t *ctx, picoacme_jw_t *w)
{
    char mailto[140];
    size_t el = util_strnlen(ctx->cfg.email, 128U);
    memcpy(mailto, "mailto:", 7U);
    memcpy(mailto + 7, ctx->cfg.email, el);
    picoacme_jw_key(w, "contact");
    picoacme_jw_arr_begin(w);
    picoacme_jw_str(w, mailto, el + 7U);
    picoacme_jw_arr_end(w);
}

/* "externalAccountBinding" (§7.3.4), built in the upper half of work. */
static picoacme_err_t account_eab(picoacme_ctx_t *ctx, picoacme_jw_t *w)
{
#if PICOACME_EAB
    const size_t half = sizeof ctx->work / 2U;
    size_t eab_len = 0;
    picoacme_err_t e = eab_jws(ctx, ctx->work + half, half, &eab_len);
    if (e != PICOACME_OK) {
        return fail(ctx, e,
                    e == PICOACME_ERR_NOSPACE
                        ? "External Account Binding does not fit PICOACME_WORK_BUF_SIZE"
                        : "External Account Binding cannot be signed (account key or HMAC)");
    }
    picoacme_jw_key(w, "externalAccountBinding");
    picoacme_jw_raw(w, ctx->work + half, eab_len);
#else
    (void)ctx;
    (void)w;
#endif
    return PICOACME_OK;
}

/* §7.3: a new account, or (§7.3.1) the existing one of the stored key */
picoacme_err_t begin_account(picoacme_ctx_t *ctx)
{
    picoacme_jw_t w;
    size_t n = 0;
    picoacme_err_t e = PICOACME_OK;
    BUF_TAKE(ctx, work, BUF_PAYLOAD);
    picoacme_jw_init(&w, ctx->work, sizeof ctx->work / 2U);
    picoacme_jw_obj_begin(&w);
    if (ctx->run.only_existing) {
        picoacme_jw_key(&w, "onlyReturnExisting");
        picoacme_jw_bool(&w, true);
    } else {
        picoacme_jw_key(&w, "termsOfServiceAgreed");
        picoacme_jw_bool(&w, true);
        if (ctx->cfg.email != NULL && ctx->cfg.email[0] != '\0') {
            account_contact(ctx, &w);
        }
        if (ctx->cfg.eab_kid != NULL) {
            e = account_eab(ctx, &w);
        }
    }
    picoacme_jw_obj_end(&w);
    if (e == PICOACME_OK && picoacme_jw_finish(&w, &n) != PICOACME_OK) {
        e = fail(ctx, PICOACME_ERR_NOSPACE, "account request does not fit PICOACME_WORK_BUF_SIZE");
    }
    return e == PICOACME_OK ? request_post(ctx, ctx->dir.new_account, n, true, NULL) : e;
}

/* §7.4: {"identifiers": [{"type", "value"}...], "replaces"?} */
picoacme_err_t begin_order(picoacme_ctx_t *ctx)
{
    picoacme_jw_t w;
    size_t n = 0;
    BUF_TAKE(ctx, work, BUF_PAYLOAD);
    picoacme_jw_init(&w, ctx->work, sizeof ctx->work / 2U);
    picoacme_jw_obj_begin(&w);
    picoacme_jw_key(&w, "identifiers");
    picoacme_jw_arr_begin(&w);
    for (size_t i = 0; i < ctx->cfg.n_ids; i++) {
        const picoacme_ident_t *id = &ctx->cfg.ids[i];
        bool ip = id->type == PICOACME_ID_IP;
        picoacme_jw_obj_begin(&w);
        picoacme_jw_key(&w, "type");
        picoacme_jw_str(&w, ip ? "ip" : "dns", ip ? 2U : 3U);
        picoacme_jw_key(&w, "value");
        picoacme_jw_str(&w, id->value, util_strnlen(id->value, PICOACME_NAME_MAX));
        picoacme_jw_obj_end(&w);
    }
    picoacme_jw_arr_end(&w);
    if (ctx->cfg.profile != NULL) {
        picoacme_jw_key(&w, "profile");
        picoacme_jw_str(&w, ctx->cfg.profile, util_strnlen(ctx->cfg.profile, PICOACME_PROFILE_MAX));
    }
    ari_order_member(ctx, &w);
    picoacme_jw_obj_end(&w);
    if (picoacme_jw_finish(&w, &n) != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_NOSPACE, "order request does not fit PICOACME_WORK_BUF_SIZE");
    }
    ctx->run.u.issue.orders++;
    ctx->run.u.issue.retry_order = false;
    return request_post(ctx, ctx->dir.new_order, n, false, NULL);
}

/* §7.4: {"csr": base64url(DER)}; the DER is built in rx, free between
 * exchanges */
picoacme_err_t begin_finalize(picoacme_ctx_t *ctx)
{
    size_t der_len = 0;
    size_t b = 0;
    BUF_TAKE(ctx, rx, BUF_CSR);
    picoacme_err_t e = picoacme_csr_build(ctx->ports.crypto, PICOACME_KEY_CERT, ctx->cfg.ids,
                                          ctx->cfg.n_ids, ctx->rx, sizeof ctx->rx, &der_len);
    if (e != PICOACME_OK) {
        return fail(ctx, e, "building the CSR failed");
    }
    if (PICOACME_B64URL_LEN(der_len) + 12U > sizeof ctx->work / 2U) {
        return fail(ctx, PICOACME_ERR_NOSPACE, "CSR does not fit PICOACME_WORK_BUF_SIZE");
    }
    BUF_TAKE(ctx, work, BUF_PAYLOAD);
    memcpy(ctx->work, "{\"csr\":\"", 8U);
    e = picoacme_b64url_encode(ctx->rx, der_len, ctx->work + 8, sizeof ctx->work / 2U - 10U, &b);
    BUF_GIVE(ctx, rx, BUF_CSR);
    if (e != PICOACME_OK) {
        return fail(ctx, e, "CSR encoding failed");
    }
    memcpy(ctx->work + 8 + b, "\"}", 2U);
    return request_post(ctx, ctx->run.u.issue.finalize_url, 10U + b, false, NULL);
}

/* POST-as-GET (§6.3) of the order */
picoacme_err_t begin_poll_order(picoacme_ctx_t *ctx)
{
    BUF_TAKE(ctx, work, BUF_PAYLOAD);
    return request_post(ctx, ctx->run.u.issue.order_url, 0U, false, NULL);
}

/* POST-as-GET of the certificate (§7.4.2) */
picoacme_err_t begin_cert(picoacme_ctx_t *ctx)
{
    record_stream_reset(ctx); /* a download sent again starts a new record */
    BUF_TAKE(ctx, work, BUF_PAYLOAD);
    return request_post(ctx, ctx->run.u.issue.cert_url, 0U, false,
                        "application/pem-certificate-chain");
}
