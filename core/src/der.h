/*
 * der.h - private to core/src: the DER tags, object identifiers and the
 * bounded DER writer shared by x509.c (CSR) and alpn.c (tls-alpn-01
 * certificate). X.690 §10 DER: definite, minimal lengths, at most 4 length
 * octets. A writer that runs out of room sets `over` and writes nothing more.
 */
#ifndef PICOACME_DER_H
#define PICOACME_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_port.h"

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

typedef struct wr {
    uint8_t *p;
    size_t cap;
    size_t off;
    bool over;
} wr_t;

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

static inline void wr_bytes(wr_t *w, const uint8_t *b, size_t n)
{
    if (w->over || n > w->cap - w->off) {
        w->over = true;
        return;
    }
    if (n > 0U) {
        memcpy(w->p + w->off, b, n);
    }
    w->off += n;
}

static inline void wr_hdr(wr_t *w, uint8_t tag, size_t n)
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
    wr_bytes(w, h, k);
}

static inline void wr_tlv(wr_t *w, uint8_t tag, const uint8_t *b, size_t n)
{
    wr_hdr(w, tag, n);
    wr_bytes(w, b, n);
}

/* Length of a NUL-terminated string, or max + 1 if longer than max. */
static inline size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n] != '\0') {
        n++;
    }
    return n;
}

/* Letters, digits, '-', '.', '_' and '*' (wildcard), nothing else. */
static inline bool dns_name_ok(const char *s, size_t n)
{
    if (n == 0U || n > DNS_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_' || c == '*';
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

static inline void wr_uint(wr_t *w, const uint8_t x[32])
{
    size_t skip;
    size_t n = uint_der_len(x, &skip);
    wr_hdr(w, TAG_INTEGER, n);
    if (n > 32U - skip) {
        const uint8_t zero = 0;
        wr_bytes(w, &zero, 1);
    }
    wr_bytes(w, x + skip, 32U - skip);
}

/* The body DER_SIGN_OFF bytes into out (tbs_len of them) is signed
 * ecdsa-with-SHA256 with the key in slot and wrapped in place as
 * SEQUENCE { body, AlgorithmIdentifier, BIT STRING ECDSA-Sig-Value } -- the
 * outer shape of both a CertificationRequest (RFC 2986 §4.2) and a
 * Certificate (RFC 5280 §4.1). Defined in x509.c. */
#define DER_SIGN_OFF 4U
picoacme_err_t picoacme_der_sign_wrap(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                      uint8_t *out, size_t cap, size_t tbs_len, size_t *out_len);

#endif
