/*
 * der_write.c - the bounded DER writer (X.690 §10: definite, minimal
 * lengths) and the pieces that the CSR writer (csr.c) and the tls-alpn-01
 * certificate writer (alpn_cert.c) both write: a P-256
 * SubjectPublicKeyInfo, a commonName-only Name, and the ecdsa-with-SHA256
 * signature wrap around a CertificationRequestInfo or a TBSCertificate.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "der.h"

void picoacme_der_hdr(util_wbuf_t *w, uint8_t tag, size_t n)
{
    uint8_t h[5];
    size_t k = 0;
    if (n > DER_LEN_MAX) {
        w->over = true;
        return;
    }
    h[k++] = tag;
    size_t ll = len_of_len(n);
    if (ll == 1U) {
        h[k++] = (uint8_t)n;
    } else {
        h[k++] = (uint8_t)(0x80U | (ll - 1U));
        for (size_t i = ll - 1U; i > 0U; i--) {
            h[k++] = (uint8_t)((n >> (8U * (i - 1U))) & 0xFFU);
        }
    }
    util_put(w, h, k);
}

void picoacme_der_tlv(util_wbuf_t *w, uint8_t tag, const uint8_t *b, size_t n)
{
    picoacme_der_hdr(w, tag, n);
    util_put(w, b, n);
}

void picoacme_der_uint(util_wbuf_t *w, const uint8_t x[32])
{
    size_t skip;
    size_t n = uint_der_len(x, &skip);
    picoacme_der_hdr(w, TAG_INTEGER, n);
    if (n > 32U - skip) {
        const uint8_t zero = 0;
        util_put(w, &zero, 1);
    }
    util_put(w, x + skip, 32U - skip);
}

/* SHA-256 of out[DER_SIGN_OFF, DER_SIGN_OFF + tbs) signed with the key in
 * slot: the raw r||s into sig. */
static picoacme_err_t sign_tbs(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                               const uint8_t *out, size_t tbs, uint8_t sig[64])
{
    uint8_t digest[32];
    picoacme_iov_t iov = {out + DER_SIGN_OFF, tbs};
    picoacme_err_t err = crypto->sha256(crypto->user, &iov, 1, digest);

    if (err != PICOACME_OK) {
        return err;
    }
    return crypto->key_sign(crypto->user, slot, digest, sig);
}

/* RFC 5758 §3.2 AlgorithmIdentifier (no parameters), then the signature
 * BIT STRING holding ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }
 * (RFC 5480 §2.2.3 / RFC 3279 §2.2.3). */
static void put_signature(util_wbuf_t *w, const uint8_t sig[64], size_t ecdsa_body)
{
    static const uint8_t unused_bits = 0;

    picoacme_der_hdr(w, TAG_SEQUENCE, tlv_size(sizeof oid_ecdsa_sha256));
    picoacme_der_tlv(w, TAG_OID, oid_ecdsa_sha256, sizeof oid_ecdsa_sha256);
    picoacme_der_hdr(w, TAG_BIT_STRING, 1U + tlv_size(ecdsa_body));
    util_put(w, &unused_bits, 1);
    picoacme_der_hdr(w, TAG_SEQUENCE, ecdsa_body);
    picoacme_der_uint(w, sig);
    picoacme_der_uint(w, sig + 32);
}

picoacme_err_t picoacme_der_sign_wrap(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                      uint8_t *out, size_t cap, size_t tbs, size_t *out_len)
{
    util_wbuf_t w;
    uint8_t sig[64];
    size_t skip;
    picoacme_err_t err = sign_tbs(crypto, slot, out, tbs, sig);

    if (err != PICOACME_OK) {
        return err;
    }
    size_t ecdsa_body =
        tlv_size(uint_der_len(sig, &skip)) + tlv_size(uint_der_len(sig + 32, &skip));
    size_t sig_alg = tlv_size(tlv_size(sizeof oid_ecdsa_sha256));
    size_t body = tbs + sig_alg + tlv_size(1U + tlv_size(ecdsa_body));
    size_t total = tlv_size(body);
    if (total > cap) {
        return PICOACME_ERR_NOSPACE;
    }
    /* the exact outer header, the body moved down behind it, the rest */
    size_t hdr = total - body;
    memmove(out + hdr, out + DER_SIGN_OFF, tbs);
    util_wbuf_init(&w, out, cap);
    picoacme_der_hdr(&w, TAG_SEQUENCE, body);
    w.len = hdr + tbs;
    put_signature(&w, sig, ecdsa_body);
    if (w.over || w.len != total) {
        return PICOACME_ERR_NOSPACE;
    }
    *out_len = total;
    return PICOACME_OK;
}
