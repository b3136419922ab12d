/*
 * csr.c - the PKCS#10 CertificationRequest (RFC 2986 §4) of a P-256 key
 * with DNS and IP SANs (RFC 5280 §4.2.1.6, RFC 8738 §3) in an
 * extensionRequest attribute (RFC 2985 §5.4.2), signed ecdsa-with-SHA256
 * (RFC 5758 §3.2) through the crypto port.
 *
 * No allocation: the CertificationRequestInfo is written DER_SIGN_OFF bytes
 * into the caller's buffer (room for the longest outer header), hashed and
 * signed, then moved down behind the exact outer header (der_write.c).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_x509.h"

#include "der.h"

/* 1.2.840.113549.1.9.14 extensionRequest (RFC 2985 §5.4.2) */
static const uint8_t oid_ext_req[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x0E};

/* Longest commonName (RFC 5280 ub-common-name). */
#define CN_MAX 64U

/* Contents lengths of the nested parts, computed before anything is
 * written, inside out. */
typedef struct csr_sizes {
    size_t gns;      /* GeneralNames contents */
    size_t san;      /* the SAN Extension contents */
    size_t exts;     /* Extensions contents */
    size_t attr;     /* the extensionRequest Attribute contents */
    size_t cri_body; /* CertificationRequestInfo contents */
    size_t cn_len;
    bool with_cn;  /* subject CN = the first identifier */
    bool critical; /* RFC 5280 §4.2.1.6: critical SAN with an empty subject */
} csr_sizes_t;

/* Identifier id is a dNSName or an IP address; *n gets the length of its
 * GeneralName value (the text, or 4 or 16 bytes). */
static bool ident_ok(const picoacme_ident_t *id, size_t *n)
{
    uint8_t ip[16];
    size_t len = name_len(id->value);

    if (id->type == PICOACME_ID_DNS) {
        *n = len;
        return dns_name_ok(id->value, len);
    }
    return id->type == PICOACME_ID_IP && picoacme_ip_parse(id->value, len, ip, n) == PICOACME_OK;
}

/* Check every identifier and add up the GeneralNames contents. */
static picoacme_err_t names_size(const picoacme_ident_t *ids, size_t n_ids, size_t cap, size_t *gns)
{
    *gns = 0;
    for (size_t i = 0; i < n_ids; i++) {
        size_t n;
        if (ids[i].value == NULL || !ident_ok(&ids[i], &n)) {
            return PICOACME_ERR_PARAM;
        }
        *gns += tlv_size(n);
        if (*gns > cap) {
            return PICOACME_ERR_NOSPACE;
        }
    }
    return PICOACME_OK;
}

/* Every other size, from the GeneralNames' and the first identifier. */
static void layout(const picoacme_ident_t *first, csr_sizes_t *z)
{
    if (first->type == PICOACME_ID_DNS) {
        z->cn_len = name_len(first->value);
        z->with_cn = z->cn_len <= CN_MAX;
    }
    z->critical = !z->with_cn;
    z->san = tlv_size(sizeof oid_san) + (z->critical ? 3U : 0U) + tlv_size(tlv_size(z->gns));
    z->exts = tlv_size(z->san);
    z->attr = tlv_size(sizeof oid_ext_req) + tlv_size(tlv_size(z->exts));
    size_t name = z->with_cn ? der_cn_name_size(z->cn_len) : 2U;
    z->cri_body = 3U + name + der_spki_size() + tlv_size(tlv_size(z->attr));
}

/* The identifiers (checked by names_size()) as GeneralNames: dNSName
 * [2] IA5String or iPAddress [7] OCTET STRING. */
static void put_general_names(util_wbuf_t *w, const picoacme_ident_t *ids, size_t n_ids)
{
    for (size_t i = 0; i < n_ids; i++) {
        uint8_t ip[16];
        size_t n = name_len(ids[i].value);
        const uint8_t *val = (const uint8_t *)ids[i].value;
        uint8_t tag = TAG_GN_DNS;
        if (ids[i].type == PICOACME_ID_IP) {
            (void)picoacme_ip_parse(ids[i].value, n, ip, &n);
            val = ip;
            tag = TAG_GN_IP;
        }
        picoacme_der_tlv(w, tag, val, n);
    }
}

/* attributes [0] IMPLICIT SET OF Attribute: the one extensionRequest with
 * the one subjectAltName extension. */
static void put_attributes(util_wbuf_t *w, const csr_sizes_t *z, const picoacme_ident_t *ids,
                           size_t n_ids)
{
    static const uint8_t der_true = 0xFF;

    picoacme_der_hdr(w, TAG_CTX0_CONS, tlv_size(z->attr));
    picoacme_der_hdr(w, TAG_SEQUENCE, z->attr);
    picoacme_der_tlv(w, TAG_OID, oid_ext_req, sizeof oid_ext_req);
    picoacme_der_hdr(w, TAG_SET, tlv_size(z->exts));
    picoacme_der_hdr(w, TAG_SEQUENCE, z->exts);
    picoacme_der_hdr(w, TAG_SEQUENCE, z->san);
    picoacme_der_tlv(w, TAG_OID, oid_san, sizeof oid_san);
    if (z->critical) {
        picoacme_der_tlv(w, TAG_BOOLEAN, &der_true, 1);
    }
    picoacme_der_hdr(w, TAG_OCTET_STRING, tlv_size(z->gns));
    picoacme_der_hdr(w, TAG_SEQUENCE, z->gns);
    put_general_names(w, ids, n_ids);
}

/* The port functions this needs are there, and slot is a key slot. */
static bool crypto_ok(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot)
{
    return crypto != NULL && crypto->sha256 != NULL && crypto->key_public != NULL &&
           crypto->key_sign != NULL && (unsigned)slot < (unsigned)PICOACME_KEY_SLOTS;
}

picoacme_err_t picoacme_csr_build(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                  const picoacme_ident_t *ids, size_t n_ids, uint8_t *out,
                                  size_t cap, size_t *out_len)
{
    static const uint8_t version = 0; /* RFC 2986 §4.1: v1 is 0 */
    csr_sizes_t z = {0};
    util_wbuf_t w;
    uint8_t pub[64];

    if (!crypto_ok(crypto, slot) || ids == NULL || n_ids == 0U || out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *out_len = 0;
    picoacme_err_t err = names_size(ids, n_ids, cap, &z.gns);
    if (err != PICOACME_OK) {
        return err;
    }
    layout(&ids[0], &z);
    size_t cri = tlv_size(z.cri_body);
    if (cri > cap || DER_SIGN_OFF > cap - cri) {
        return PICOACME_ERR_NOSPACE;
    }
    err = crypto->key_public(crypto->user, slot, pub);
    if (err != PICOACME_OK) {
        return err;
    }
    util_wbuf_init(&w, out, cap);
    w.len = DER_SIGN_OFF;
    picoacme_der_hdr(&w, TAG_SEQUENCE, z.cri_body);
    picoacme_der_tlv(&w, TAG_INTEGER, &version, 1);
    if (z.with_cn) {
        der_put_cn_name(&w, ids[0].value, z.cn_len);
    } else {
        picoacme_der_hdr(&w, TAG_SEQUENCE, 0); /* empty subject */
    }
    der_put_spki(&w, pub);
    put_attributes(&w, &z, ids, n_ids);
    if (w.over || w.len != DER_SIGN_OFF + cri) {
        return PICOACME_ERR_NOSPACE;
    }
    return picoacme_der_sign_wrap(crypto, slot, out, cap, cri, out_len);
}
