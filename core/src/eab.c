/*
 * eab.c - External Account Binding (RFC 8555 §7.3.4), PICOACME_EAB: the
 * externalAccountBinding member of newAccount is a JWS over the account's
 * public JWK, HS256 with the MAC key the CA handed out, protected
 * {alg, kid, url}.
 */
#include "internal.h"

#if PICOACME_EAB
#include "picoacme_jws.h"

picoacme_err_t eab_jws(picoacme_ctx_t *ctx, char *out, size_t cap, size_t *out_len)
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
    picoacme_jw_str(&w, ctx->cfg.eab_kid, util_strnlen(ctx->cfg.eab_kid, 128U));
    picoacme_jw_key(&w, "url");
    picoacme_jw_str(&w, ctx->dir.new_account,
                    util_strnlen(ctx->dir.new_account, sizeof ctx->dir.new_account));
    picoacme_jw_obj_end(&w);
    e = picoacme_jw_finish(&w, &prot_len);
    if (e != PICOACME_OK) {
        return e;
    }
    return picoacme_jws_hs256(ctx->ports.crypto, ctx->cfg.eab_key, ctx->cfg.eab_key_len, prot,
                              prot_len, jwk, jwk_len, out, cap, out_len);
}
#endif
