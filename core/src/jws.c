/*
 * jws.c - flattened JWS with ES256 / HS256 and the JWK thumbprint
 * (RFC 7515, RFC 7518 §3.2 and §3.4, RFC 7638, RFC 8555 §6.2).
 */
#include "picoacme_jws.h"

#include <string.h>

#include "picoacme_b64.h"
#include "util.h"

/* base64url of in[0..n) at the end of w (b64.c's encoder writes straight
 * into the free room; no NUL). */
static void put_b64(util_wbuf_t *w, const uint8_t *in, size_t n)
{
    size_t k = 0;
    if (w->over || picoacme_b64url_encode(in, n, (char *)w->buf + w->len, w->cap - w->len, &k) !=
                       PICOACME_OK) {
        w->over = true;
        return;
    }
    w->len += k;
}

/* The length written, or PICOACME_ERR_NOSPACE if w ran out of room. */
static picoacme_err_t finish(const util_wbuf_t *w, size_t *out_len)
{
    if (w->over) {
        return PICOACME_ERR_NOSPACE;
    }
    *out_len = w->len;
    return PICOACME_OK;
}

picoacme_err_t picoacme_jwk_write(const uint8_t pub[64], char *out, size_t cap, size_t *out_len)
{
    util_wbuf_t w;
    if (pub == NULL || out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    util_wbuf_init(&w, (uint8_t *)out, cap);
    /* RFC 7638 §3.2: required members only, lexicographic order, no spaces. */
    util_put_str(&w, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"");
    put_b64(&w, pub, 32U);
    util_put_str(&w, "\",\"y\":\"");
    put_b64(&w, pub + 32, 32U);
    util_put_str(&w, "\"}");
    return finish(&w, out_len);
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

/* Where the two encoded parts of the signing input are in the output. */
typedef struct jws_spans {
    size_t prot_off, prot_end;
    size_t pay_off, pay_end;
} jws_spans_t;

/* Writes {"protected":"B64","payload":"B64","signature":" and notes the
 * spans of the two encoded parts, which form the signing input. */
static void jws_head(util_wbuf_t *w, const char *protected_json, size_t protected_len,
                     const char *payload, size_t payload_len, jws_spans_t *sp)
{
    util_put_str(w, "{\"protected\":\"");
    sp->prot_off = w->len;
    put_b64(w, (const uint8_t *)protected_json, protected_len);
    sp->prot_end = w->len;
    util_put_str(w, "\",\"payload\":\"");
    sp->pay_off = w->len;
    put_b64(w, (const uint8_t *)payload, payload_len);
    sp->pay_end = w->len;
    util_put_str(w, "\",\"signature\":\"");
}

/* The encoded signature and the closing of the object. */
static picoacme_err_t jws_tail(util_wbuf_t *w, const uint8_t *sig, size_t sig_len, size_t *out_len)
{
    put_b64(w, sig, sig_len);
    util_put_str(w, "\"}");
    return finish(w, out_len);
}

/* ASCII(BASE64URL(protected) || '.' || BASE64URL(payload)), RFC 7515 §5.1 */
static void signing_input(picoacme_iov_t iov[3], const char *out, const jws_spans_t *sp)
{
    iov[0].ptr = (const uint8_t *)out + sp->prot_off;
    iov[0].len = sp->prot_end - sp->prot_off;
    iov[1].ptr = (const uint8_t *)".";
    iov[1].len = 1U;
    iov[2].ptr = (const uint8_t *)out + sp->pay_off;
    iov[2].len = sp->pay_end - sp->pay_off;
}

picoacme_err_t picoacme_jws_es256(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                  const char *protected_json, size_t protected_len,
                                  const char *payload, size_t payload_len, char *out, size_t cap,
                                  size_t *out_len)
{
    util_wbuf_t w;
    jws_spans_t sp;
    uint8_t digest[32];
    uint8_t sig[64];
    picoacme_iov_t iov[3];
    picoacme_err_t e;
    if (crypto == NULL || protected_json == NULL || (payload == NULL && payload_len != 0U) ||
        out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    util_wbuf_init(&w, (uint8_t *)out, cap);
    jws_head(&w, protected_json, protected_len, payload == NULL ? "" : payload, payload_len, &sp);
    if (w.over) {
        return PICOACME_ERR_NOSPACE; /* before anything is signed */
    }
    signing_input(iov, out, &sp);
    e = crypto->sha256(crypto->user, iov, 3U, digest);
    if (e == PICOACME_OK) {
        e = crypto->key_sign(crypto->user, slot, digest, sig);
    }
    if (e == PICOACME_OK) {
        e = jws_tail(&w, sig, sizeof sig, out_len);
    }
    return e;
}

picoacme_err_t picoacme_jws_hs256(const picoacme_crypto_t *crypto, const uint8_t *key,
                                  size_t key_len, const char *protected_json, size_t protected_len,
                                  const char *payload, size_t payload_len, char *out, size_t cap,
                                  size_t *out_len)
{
    util_wbuf_t w;
    jws_spans_t sp;
    uint8_t mac[32];
    picoacme_iov_t iov[3];
    picoacme_err_t e;
    if (crypto == NULL || key == NULL || protected_json == NULL || payload == NULL || out == NULL ||
        out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    util_wbuf_init(&w, (uint8_t *)out, cap);
    jws_head(&w, protected_json, protected_len, payload, payload_len, &sp);
    if (w.over) {
        return PICOACME_ERR_NOSPACE;
    }
    signing_input(iov, out, &sp);
    e = crypto->hmac_sha256(crypto->user, key, key_len, iov, 3U, mac);
    if (e == PICOACME_OK) {
        e = jws_tail(&w, mac, sizeof mac, out_len);
    }
    return e;
}
