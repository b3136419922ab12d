/*
 * lifecycle.c - account and certificate lifecycle (RFC 8555),
 * PICOACME_LIFECYCLE: revocation of the stored leaf (§7.6), account key
 * rollover (§7.3.5) and account deactivation (§7.3.6). Each run is
 * directory -> the stored account (onlyReturnExisting) -> the one request.
 * Compiled to the "unsupported" stubs without PICOACME_LIFECYCLE.
 */
#include "internal.h"

#if PICOACME_LIFECYCLE
#include "picoacme_b64.h"
#include "picoacme_jws.h"
#include "picoacme_store.h"

/* Shared start: the stored account of this directory, its key imported. */
static picoacme_err_t lc_start(picoacme_ctx_t *ctx, picoacme_op_t op, bool need_cert)
{
    size_t len = 0;
    size_t off = 0;
    size_t vl = 0;
    bool ok;
    if (ctx == NULL || ctx->cfg.directory_url == NULL) {
        return PICOACME_ERR_PARAM;
    }
    run_reset(ctx, op);
    ok = record_of_directory(ctx, &len) && import_key(ctx, len, T_ACCT_KEY, PICOACME_KEY_ACCOUNT) &&
         (!need_cert || record_cert(ctx, len, len, &off, &vl));
    memset(ctx->rx, 0, sizeof ctx->rx); /* the record holds the keys */
    BUF_GIVE(ctx, rx, BUF_RECORD);
    if (!ok) {
        return PICOACME_ERR_NOT_FOUND;
    }
    if (op == PICOACME_OP_KEY_CHANGE &&
        ctx->ports.crypto->key_generate(ctx->ports.crypto->user, PICOACME_KEY_CHALLENGE) !=
            PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_CRYPTO, "new account key generation failed");
    }
    ctx->run.account_key_loaded = true;
    ctx->run.only_existing = true;
    return goto_state(ctx, PICOACME_ST_DIRECTORY);
}

picoacme_err_t picoacme_revoke_start(picoacme_ctx_t *ctx, int reason)
{
    /* RFC 5280 §5.3.1 CRLReason: 0..10, 7 unused */
    if (ctx == NULL || reason < -1 || reason > 10 || reason == 7) {
        return PICOACME_ERR_PARAM;
    }
    picoacme_err_t e = lc_start(ctx, PICOACME_OP_REVOKE, true);
    ctx->run.u.lc.reason = reason;
    return e;
}

picoacme_err_t picoacme_key_rollover_start(picoacme_ctx_t *ctx)
{
    /* the new key would have to move into the account slot by its scalar */
    if (ctx != NULL && ctx->ports.crypto != NULL && ctx->ports.crypto->key_ref != NULL) {
        return PICOACME_ERR_UNSUPPORTED;
    }
    return lc_start(ctx, PICOACME_OP_KEY_CHANGE, false);
}

picoacme_err_t picoacme_account_deactivate_start(picoacme_ctx_t *ctx)
{
    return lc_start(ctx, PICOACME_OP_DEACTIVATE, false);
}

picoacme_err_t lc_on_directory(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    const char *key = ctx->run.op == PICOACME_OP_REVOKE ? "revokeCert" : "keyChange";
    return get_url(ctx, j, 0, key, ctx->run.u.lc.url, true);
}

static picoacme_err_t lc_done(picoacme_ctx_t *ctx)
{
    LOG(ctx, PICOACME_LOG_LVL_INF, "%s: done", picoacme_state_str(ctx->run.state));
    return engine_done(ctx);
}

/* ---- revocation (§7.6) ------------------------------------------------------------ */

/* {"certificate": base64url(DER of the stored leaf), "reason": N} */
picoacme_err_t lc_begin_revoke(picoacme_ctx_t *ctx)
{
    size_t len = 0;
    size_t der_len = 0;
    size_t n = 0;
    int reason = ctx->run.u.lc.reason;
    picoacme_err_t e = record_load(ctx, &len);
    if (e == PICOACME_OK) {
        /* the DER goes to tx, free until request_post() signs */
        e = record_leaf_der(ctx, len, &der_len);
    }
    memset(ctx->rx, 0, sizeof ctx->rx); /* the record holds the keys */
    BUF_GIVE(ctx, rx, BUF_RECORD);
    if (e != PICOACME_OK) {
        return fail(ctx, e, "the stored certificate cannot be read");
    }
    BUF_TAKE(ctx, work, BUF_PAYLOAD);
    memcpy(ctx->work, "{\"certificate\":\"", 16U);
    /* room after it for '"', the reason and '}' (16 bytes) */
    e = picoacme_b64url_encode(ctx->tx, der_len, ctx->work + 16, sizeof ctx->work - 32U, &n);
    BUF_GIVE(ctx, tx, BUF_SCRATCH);
    if (e != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_NOSPACE, "certificate does not fit PICOACME_WORK_BUF_SIZE");
    }
    n += 16U;
    ctx->work[n++] = '"';
    if (reason >= 0) {
        memcpy(ctx->work + n, ",\"reason\":", 10U);
        n += 10U;
        if (reason >= 10) {
            ctx->work[n++] = '1';
        }
        ctx->work[n++] = (char)('0' + reason % 10);
    }
    ctx->work[n++] = '}';
    return request_post(ctx, ctx->run.u.lc.url, n, false, NULL);
}

picoacme_err_t lc_on_revoked(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    (void)j; /* 200, no body */
    return lc_done(ctx);
}

/* ---- key rollover (§7.3.5) ------------------------------------------------------------ */

/* The public JWK of slot into out. */
static picoacme_err_t slot_jwk(picoacme_ctx_t *ctx, picoacme_key_slot_t slot, char *out, size_t cap,
                               size_t *out_len)
{
    uint8_t pub[64];
    picoacme_err_t e = ctx->ports.crypto->key_public(ctx->ports.crypto->user, slot, pub);
    return e == PICOACME_OK ? picoacme_jwk_write(pub, out, cap, out_len) : e;
}

/* The inner payload {"account", "oldKey"} into out. */
static picoacme_err_t inner_payload(picoacme_ctx_t *ctx, char *out, size_t cap, size_t *len)
{
    char jwk[128];
    size_t jwk_len = 0;
    picoacme_jw_t w;
    if (slot_jwk(ctx, PICOACME_KEY_ACCOUNT, jwk, sizeof jwk, &jwk_len) != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_CRYPTO, "account public key unavailable");
    }
    picoacme_jw_init(&w, out, cap);
    picoacme_jw_obj_begin(&w);
    picoacme_jw_key(&w, "account");
    picoacme_jw_str(&w, ctx->dir.account_url,
                    util_strnlen(ctx->dir.account_url, sizeof ctx->dir.account_url));
    picoacme_jw_key(&w, "oldKey");
    picoacme_jw_raw(&w, jwk, jwk_len);
    picoacme_jw_obj_end(&w);
    return picoacme_jw_finish(&w, len);
}

/* The inner protected header {alg, jwk of the new key, url} into out. */
static picoacme_err_t inner_header(picoacme_ctx_t *ctx, char *out, size_t cap, size_t *len)
{
    char jwk[128];
    size_t jwk_len = 0;
    picoacme_jw_t w;
    if (slot_jwk(ctx, PICOACME_KEY_CHALLENGE, jwk, sizeof jwk, &jwk_len) != PICOACME_OK) {
        return fail(ctx, PICOACME_ERR_CRYPTO, "new account public key unavailable");
    }
    picoacme_jw_init(&w, out, cap);
    picoacme_jw_obj_begin(&w);
    picoacme_jw_key(&w, "alg");
    picoacme_jw_str(&w, "ES256", 5U);
    picoacme_jw_key(&w, "jwk");
    picoacme_jw_raw(&w, jwk, jwk_len);
    picoacme_jw_key(&w, "url");
    picoacme_jw_str(&w, ctx->run.u.lc.url, util_strnlen(ctx->run.u.lc.url, PICOACME_URL_MAX));
    picoacme_jw_obj_end(&w);
    return picoacme_jw_finish(&w, len);
}

/* The inner JWS, signed by the new key (slot PICOACME_KEY_CHALLENGE) with
 * no nonce, is the payload of the outer JWS that the old key signs (kid).
 * The inner payload and header are built in work, the inner JWS is signed
 * into tx (scratch) and then becomes the payload in work. */
picoacme_err_t lc_begin_key_change(picoacme_ctx_t *ctx)
{
    size_t pay_len = 0;
    size_t prot_len = 0;
    size_t n = 0;
    BUF_TAKE(ctx, work, BUF_PAYLOAD);
    picoacme_err_t e = inner_payload(ctx, ctx->work, sizeof ctx->work, &pay_len);
    if (e == PICOACME_OK) {
        e = inner_header(ctx, ctx->work + pay_len, sizeof ctx->work - pay_len, &prot_len);
    }
    if (e == PICOACME_ERR_CRYPTO) {
        return e; /* recorded */
    }
    if (e == PICOACME_OK) {
        BUF_TAKE(ctx, tx, BUF_SCRATCH);
        e = picoacme_jws_es256(ctx->ports.crypto, PICOACME_KEY_CHALLENGE, ctx->work + pay_len,
                               prot_len, ctx->work, pay_len, (char *)ctx->tx, sizeof ctx->tx, &n);
        if (e == PICOACME_OK) {
            memcpy(ctx->work, ctx->tx, n);
        }
        BUF_GIVE(ctx, tx, BUF_SCRATCH);
    }
    if (e != PICOACME_OK) {
        return fail(ctx, e,
                    e == PICOACME_ERR_NOSPACE ? "key change does not fit PICOACME_WORK_BUF_SIZE"
                                              : "signing the key change failed");
    }
    return request_post(ctx, ctx->run.u.lc.url, n, false, NULL);
}

/* keyChange answered 200: the new key is the account key, in the crypto
 * port and in the store record (rewritten whole; the A/B store keeps the
 * old copy until the new one is complete). */
picoacme_err_t lc_on_key_changed(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    const picoacme_crypto_t *c = ctx->ports.crypto;
    uint8_t key[32];
    size_t len = 0;
    size_t total = 0;
    size_t off = 0;
    size_t vl = 0;
    (void)j;
    picoacme_err_t e = c->key_export(c->user, PICOACME_KEY_CHALLENGE, key);
    if (e == PICOACME_OK) {
        e = c->key_import(c->user, PICOACME_KEY_ACCOUNT, key);
    }
    if (e != PICOACME_OK) {
        memset(key, 0, sizeof key);
        return fail(ctx, PICOACME_ERR_CRYPTO, "the new account key cannot be moved to its slot");
    }
    BUF_PASS(ctx, rx, BUF_EXCHANGE, BUF_FREE);
    e = record_read(ctx, &len, &total);
    if (e == PICOACME_OK) {
        e = picoacme_record_find(ctx->rx, len, T_ACCT_KEY, &off, &vl);
    }
    if (e == PICOACME_OK && vl == sizeof key) {
        memcpy(ctx->rx + off, key, sizeof key);
        /* a record longer than rx (a long chain) keeps its rest */
        e = record_save(ctx, len, total);
    } else if (e == PICOACME_OK) {
        e = PICOACME_ERR_PARSE;
    }
    memset(key, 0, sizeof key);
    memset(ctx->rx, 0, sizeof ctx->rx);
    BUF_GIVE(ctx, rx, BUF_RECORD);
    if (e != PICOACME_OK) {
        return fail(ctx, e, "the CA took the new account key but writing it to flash failed");
    }
    return lc_done(ctx);
}

/* ---- deactivation (§7.3.6) ------------------------------------------------------------- */

picoacme_err_t lc_begin_deactivate(picoacme_ctx_t *ctx)
{
    BUF_TAKE(ctx, work, BUF_PAYLOAD);
    memcpy(ctx->work, "{\"status\":\"deactivated\"}", 24U);
    return request_post(ctx, ctx->dir.account_url, 24U, false, NULL);
}

picoacme_err_t lc_on_deactivated(picoacme_ctx_t *ctx, const picoacme_json_t *j)
{
    if (!status_is(j, 0, "deactivated")) {
        return fail(ctx, PICOACME_ERR_PROTOCOL, "the CA did not deactivate the account");
    }
    return lc_done(ctx);
}
#else
picoacme_err_t picoacme_revoke_start(picoacme_ctx_t *ctx, int reason)
{
    (void)ctx;
    (void)reason;
    return PICOACME_ERR_UNSUPPORTED;
}

picoacme_err_t picoacme_key_rollover_start(picoacme_ctx_t *ctx)
{
    (void)ctx;
    return PICOACME_ERR_UNSUPPORTED;
}

picoacme_err_t picoacme_account_deactivate_start(picoacme_ctx_t *ctx)
{
    (void)ctx;
    return PICOACME_ERR_UNSUPPORTED;
}
#endif
