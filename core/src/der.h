/*
 * der.h - private to core/src: the DER tags, object identifiers, TLV size
 * arithmetic and the bounded DER writer (der_write.c) shared by the
 * certificate reader (x509.c), the CSR writer (csr.c) and the tls-alpn-01
 * certificate writer (alpn_cert.c). X.690 §10 DER: definite, minimal
 * lengths, at most 4 length octets. The writer writes into util.h's
 * util_wbuf_t: one that runs out of room sets `over` and writes nothing
 * more, so the caller checks once at the end.
 */
#ifndef PICOACME_DER_H
#define PICOACME_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_port.h"
#include "util.h"

/* ---- DER tags and object identifiers (contents octets) ---------------- */
#define TAG_BOOLEAN      0x01U
#define TAG_INTEGER      0x02U
#define TAG_BIT_STRING   0x03U
#define TAG_OCTET_STRING 0x04U
#define TAG_OID          0x06U
#define TAG_UTF8STRING   0x0CU
#define TAG_UTCTIME      0x17U
#define TAG_GENTIME      0x18U
#define TAG_SEQUENCE     0x30U
#define TAG_SET          0x31U
#define TAG_CTX0_CONS    0xA0U /* [0] constructed */
#define TAG_CTX3_CONS    0xA3U /* [3] constructed */
#define TAG_CTX0_PRIM    0x80U /* [0] primitive */
#define TAG_CTX1_PRIM    0x81U
#define TAG_CTX2_PRIM    0x82U
#define TAG_GN_DNS       0x82U /* GeneralName dNSName [2] IMPLICIT IA5String */
#define TAG_GN_IP        0x87U /* GeneralName iPAddress [7] IMPLICIT OCTET STRING */

/* 1.2.840.10045.2.1 id-ecPublicKey */
static const uint8_t oid_ec_pubkey[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01};
/* 1.2.840.10045.3.1.7 prime256v1 */
static const uint8_t oid_p256[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
/* 1.2.840.10045.4.3.2 ecdsa-with-SHA256 */
static const uint8_t oid_ecdsa_sha256[] = {0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02};
/* 2.5.4.3 commonName */
static const uint8_t oid_cn[] = {0x55, 0x04, 0x03};
/* 2.5.29.17 subjectAltName */
static const uint8_t oid_san[] = {0x55, 0x1D, 0x11};

/* Longest DNS name accepted in a CSR (RFC 1035 §2.3.4, text form). */
#define DNS_NAME_MAX 253U
/* Largest DER length written or read (4 length octets at most). */
#define DER_LEN_MAX 0xFFFFFFUL

static inline size_t len_of_len(size_t n)
{
    if (n < 0x80U) {
        return 1;
    }
    if (n <= 0xFFU) {
        return 2;
    }
    if (n <= 0xFFFFU) {
        return 3;
    }
    return 4;
}

/* Size of a whole TLV whose contents are n bytes. */
static inline size_t tlv_size(size_t n)
{
    return 1U + len_of_len(n) + n;
}

/* Header (tag, minimal length) of a TLV whose contents are n bytes. */
void picoacme_der_hdr(util_wbuf_t *w, uint8_t tag, size_t n);

/* A whole TLV with contents b[0..n). */
void picoacme_der_tlv(util_wbuf_t *w, uint8_t tag, const uint8_t *b, size_t n);

/* Length of a NUL-terminated name, or DNS_NAME_MAX + 1 if longer. */
static inline size_t name_len(const char *s)
{
    return util_strnlen(s, DNS_NAME_MAX + 1U);
}

/* Letters, digits, '-', '.', '_' and '*' (wildcard), nothing else. */
static inline bool dns_name_ok(const char *s, size_t n)
{
    if (n == 0U || n > DNS_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok =
            util_is_alpha(c) || util_is_digit(c) || c == '-' || c == '.' || c == '_' || c == '*';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* Contents length of the minimal DER INTEGER for the unsigned big-endian
 * x[0..32); *skip gets the leading zero bytes to drop. */
static inline size_t uint_der_len(const uint8_t x[32], size_t *skip)
{
    size_t i = 0;
    while (i < 31U && x[i] == 0U) {
        i++;
    }
    *skip = i;
    return (32U - i) + ((x[i] & 0x80U) != 0U ? 1U : 0U);
}

/* The minimal DER INTEGER of the unsigned big-endian x[0..32). */
void picoacme_der_uint(util_wbuf_t *w, const uint8_t x[32]);

/* ---- what the CSR and the certificate writers share --------------------- */

/* The body DER_SIGN_OFF bytes into out (tbs_len of them) is signed
 * ecdsa-with-SHA256 with the key in slot and wrapped in place as
 * SEQUENCE { body, AlgorithmIdentifier, BIT STRING ECDSA-Sig-Value } -- the
 * outer shape of both a CertificationRequest (RFC 2986 §4.2) and a
 * Certificate (RFC 5280 §4.1). */
#define DER_SIGN_OFF 4U
picoacme_err_t picoacme_der_sign_wrap(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                      uint8_t *out, size_t cap, size_t tbs_len, size_t *out_len);

/* Size of a P-256 SubjectPublicKeyInfo (RFC 5480 §2), header included. */
static inline size_t der_spki_size(void)
{
    size_t alg = tlv_size(tlv_size(sizeof oid_ec_pubkey) + tlv_size(sizeof oid_p256));
    return tlv_size(alg + tlv_size(66));
}

/* Size of Name ::= SEQUENCE { SET { SEQUENCE { commonName, UTF8String } } }
 * for a commonName of n bytes, header included. */
static inline size_t der_cn_name_size(size_t n)
{
    return tlv_size(tlv_size(tlv_size(tlv_size(sizeof oid_cn) + tlv_size(n))));
}

/* The SubjectPublicKeyInfo of the P-256 point X||Y.
 * RFC 5480 §2: SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 },
 * BIT STRING (0 unused bits) 04 || X || Y } */
static inline void der_put_spki(util_wbuf_t *w, const uint8_t pub[64])
{
    static const uint8_t point_hdr[] = {TAG_BIT_STRING, 66, 0x00, 0x04};
    size_t alg = tlv_size(sizeof oid_ec_pubkey) + tlv_size(sizeof oid_p256);

    picoacme_der_hdr(w, TAG_SEQUENCE, tlv_size(alg) + tlv_size(66));
    picoacme_der_hdr(w, TAG_SEQUENCE, alg);
    picoacme_der_tlv(w, TAG_OID, oid_ec_pubkey, sizeof oid_ec_pubkey);
    picoacme_der_tlv(w, TAG_OID, oid_p256, sizeof oid_p256);
    util_put(w, point_hdr, sizeof point_hdr);
    util_put(w, pub, 64U);
}

/* The Name with the commonName cn[0..n).
 * RFC 5280 §4.1.2.4: one RDN with one commonName, as UTF8String. */
static inline void der_put_cn_name(util_wbuf_t *w, const char *cn, size_t n)
{
    size_t atv = tlv_size(sizeof oid_cn) + tlv_size(n);

    picoacme_der_hdr(w, TAG_SEQUENCE, tlv_size(tlv_size(atv)));
    picoacme_der_hdr(w, TAG_SET, tlv_size(atv));
    picoacme_der_hdr(w, TAG_SEQUENCE, atv);
    picoacme_der_tlv(w, TAG_OID, oid_cn, sizeof oid_cn);
    picoacme_der_tlv(w, TAG_UTF8STRING, (const uint8_t *)cn, n);
}

#endif
