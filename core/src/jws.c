/*
 * jws.c - flattened JWS with ES256 / HS256 and the JWK thumbprint
 * (RFC 7515, RFC 7518 §3.2 and §3.4, RFC 7638, RFC 8555 §6.2).
 */
#include "picoacme_jws.h"

#include <string.h>

#include "picoacme_b64.h"

static picoacme_err_t put(char *out, size_t cap, size_t *pos, const char *s, size_t n)
{
    if (n > cap - *pos) {
        return PICOACME_ERR_NOSPACE;
    }
    memcpy(out + *pos, s, n);
    *pos += n;
    return PICOACME_OK;
}

static picoacme_err_t put_b64(char *out, size_t cap, size_t *pos, const uint8_t *in, size_t n)
{
    size_t w = 0;
    picoacme_err_t e = picoacme_b64url_encode(in, n, out + *pos, cap - *pos, &w);
    if (e == PICOACME_OK) {
        *pos += w;
    }
    return e;
}

picoacme_err_t picoacme_jwk_write(const uint8_t pub[64], char *out, size_t cap, size_t *out_len)
{
    size_t pos = 0;
    picoacme_err_t e;
    if (pub == NULL || out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    /* RFC 7638 §3.2: required members only, lexicographic order, no spaces. */
    e = put(out, cap, &pos, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"", 31U);
    if (e == PICOACME_OK) {
        e = put_b64(out, cap, &pos, pub, 32U);
    }
    if (e == PICOACME_OK) {
        e = put(out, cap, &pos, "\",\"y\":\"", 7U);
    }
    if (e == PICOACME_OK) {
        e = put_b64(out, cap, &pos, pub + 32, 32U);
    }
    if (e == PICOACME_OK) {
        e = put(out, cap, &pos, "\"}", 2U);
    }
    if (e == PICOACME_OK) {
        *out_len = pos;
    }
    return e;
}

picoacme_err_t picoacme_jwk_thumbprint(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                       char out[PICOACME_THUMBPRINT_LEN + 1U])
{
    uint8_t pub[64];
    uint8_t digest[32];
    char jwk[128];
    size_t jwk_len = 0;
    size_t n = 0;
    picoacme_iov_t iov;
    picoacme_err_t e = crypto->key_public(crypto->user, slot, pub);
    if (e != PICOACME_OK) {
        return e;
    }
    e = picoacme_jwk_write(pub, jwk, sizeof jwk, &jwk_len);
    if (e != PICOACME_OK) {
        return e;
    }
    iov.ptr = (const uint8_t *)jwk;
    iov.len = jwk_len;
    e = crypto->sha256(crypto->user, &iov, 1U, digest);
    if (e != PICOACME_OK) {
        return e;
    }
    e = picoacme_b64url_encode(digest, sizeof digest, out, PICOACME_THUMBPRINT_LEN, &n);
    if (e == PICOACME_OK) {
        out[n] = '\0';
    }
    return e;
}

/* Writes {"protected":"B64","payload":"B64","signature":" and returns the
 * spans of the two encoded parts, which form the signing input. */
static picoacme_err_t jws_head(const char *protected_json, size_t protected_len,
                               const char *payload, size_t payload_len, char *out, size_t cap,
                               size_t *pos, size_t *prot_off, size_t *pay_off, size_t *pay_end)
{
    picoacme_err_t e = put(out, cap, pos, "{\"protected\":\"", 14U);
    if (e == PICOACME_OK) {
        *prot_off = *pos;
        e = put_b64(out, cap, pos, (const uint8_t *)protected_json, protected_len);
    }
    if (e == PICOACME_OK) {
        e = put(out, cap, pos, "\",\"payload\":\"", 13U);
    }
    if (e == PICOACME_OK) {
        *pay_off = *pos;
        e = put_b64(out, cap, pos, (const uint8_t *)payload, payload_len);
        *pay_end = *pos;
    }
    if (e == PICOACME_OK) {
        e = put(out, cap, pos, "\",\"signature\":\"", 15U);
    }
    return e;
}

static picoacme_err_t jws_tail(char *out, size_t cap, size_t *pos, const uint8_t *sig,
                               size_t sig_len, size_t *out_len)
{
    picoacme_err_t e = put_b64(out, cap, pos, sig, sig_len);
    if (e == PICOACME_OK) {
        e = put(out, cap, pos, "\"}", 2U);
    }
    if (e == PICOACME_OK) {
        *out_len = *pos;
    }
    return e;
}

static void signing_input(picoacme_iov_t iov[3], const char *out, size_t prot_off, size_t pay_off,
                          size_t pay_end)
{
    /* ASCII(BASE64URL(protected) || '.' || BASE64URL(payload)), RFC 7515 §5.1 */
    iov[0].ptr = (const uint8_t *)out + prot_off;
    iov[0].len = pay_off - 13U - prot_off;
    iov[1].ptr = (const uint8_t *)".";
    iov[1].len = 1U;
    iov[2].ptr = (const uint8_t *)out + pay_off;
    iov[2].len = pay_end - pay_off;
}

picoacme_err_t picoacme_jws_es256(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                  const char *protected_json, size_t protected_len,
                                  const char *payload, size_t payload_len, char *out, size_t cap,
                                  size_t *out_len)
{
    size_t pos = 0;
    size_t prot_off = 0;
    size_t pay_off = 0;
    size_t pay_end = 0;
    uint8_t digest[32];
    uint8_t sig[64];
    picoacme_iov_t iov[3];
    picoacme_err_t e;
    if (crypto == NULL || protected_json == NULL || (payload == NULL && payload_len != 0U) ||
        out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    e = jws_head(protected_json, protected_len, payload == NULL ? "" : payload, payload_len, out,
                 cap, &pos, &prot_off, &pay_off, &pay_end);
    if (e != PICOACME_OK) {
        return e;
    }
    signing_input(iov, out, prot_off, pay_off, pay_end);
    e = crypto->sha256(crypto->user, iov, 3U, digest);
    if (e == PICOACME_OK) {
        e = crypto->key_sign(crypto->user, slot, digest, sig);
    }
    if (e == PICOACME_OK) {
        e = jws_tail(out, cap, &pos, sig, sizeof sig, out_len);
    }
    return e;
}

picoacme_err_t picoacme_jws_hs256(const picoacme_crypto_t *crypto, const uint8_t *key,
                                  size_t key_len, const char *protected_json, size_t protected_len,
                                  const char *payload, size_t payload_len, char *out, size_t cap,
                                  size_t *out_len)
{
    size_t pos = 0;
    size_t prot_off = 0;
    size_t pay_off = 0;
    size_t pay_end = 0;
    uint8_t mac[32];
    picoacme_iov_t iov[3];
    picoacme_err_t e;
    if (crypto == NULL || key == NULL || protected_json == NULL || payload == NULL || out == NULL ||
        out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    e = jws_head(protected_json, protected_len, payload, payload_len, out, cap, &pos, &prot_off,
                 &pay_off, &pay_end);
    if (e != PICOACME_OK) {
        return e;
    }
    signing_input(iov, out, prot_off, pay_off, pay_end);
    e = crypto->hmac_sha256(crypto->user, key, key_len, iov, 3U, mac);
    if (e == PICOACME_OK) {
        e = jws_tail(out, cap, &pos, mac, sizeof mac, out_len);
    }
    return e;
}
