/*
 * x509.c - the certificate reader: a strict, bounded and non-recursive
 * X.509 v3 parser (RFC 5280 §4.1) for what ACME needs (validity, SANs, key,
 * the ARI CertID parts), SAN iteration, and PEM certificate blocks
 * (RFC 7468). The CSR writer is csr.c, IP address text ip.c.
 *
 * No allocation: the parser only returns pointers into the caller's DER.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_b64.h"
#include "picoacme_x509.h"

#include "der.h"
#include "util.h"

/* 2.5.29.35 authorityKeyIdentifier */
static const uint8_t oid_aki[] = {0x55, 0x1D, 0x23};

/* ======================================================================
 * DER reader (certificates): X.690 §10 DER, bounds checked at every step
 * ====================================================================== */

typedef struct der {
    const uint8_t *p;
    size_t len;
    size_t off; /* always <= len */
} der_t;

static der_t der_sub(const uint8_t *p, size_t len)
{
    der_t d = {p, len, 0};
    return d;
}

static bool der_end(const der_t *r)
{
    return r->off >= r->len;
}

/* Tag of the next element, or -1 at the end. */
static int der_peek(const der_t *r)
{
    return der_end(r) ? -1 : (int)r->p[r->off];
}

/* Read one TLV: single-byte tag, definite minimal length that fits. */
static bool der_next(der_t *r, uint8_t *tag, const uint8_t **val, size_t *vlen)
{
    if (r->off > r->len || r->len - r->off < 2U) {
        return false;
    }
    const uint8_t *q = r->p + r->off;
    size_t rem = r->len - r->off;
    if ((q[0] & 0x1FU) == 0x1FU) {
        return false; /* high tag numbers are never used here */
    }
    size_t hdr = 2;
    size_t n = q[1];
    if (n >= 0x80U) {
        size_t k = n & 0x7FU;
        if (k == 0U || k > 4U) {
            return false; /* indefinite (BER only) or absurdly long */
        }
        if (rem - 2U < k || q[2] == 0U) {
            return false; /* truncated, or leading zero octet */
        }
        uint32_t v = 0;
        for (size_t i = 0; i < k; i++) {
            v = (v << 8) | q[2U + i];
        }
        if (v < 0x80U) {
            return false; /* short form was required */
        }
        n = (size_t)v;
        hdr = 2U + k;
    }
    if (n > rem - hdr) {
        return false;
    }
    *tag = q[0];
    *val = q + hdr;
    *vlen = n;
    r->off += hdr + n;
    return true;
}

static bool der_expect(der_t *r, uint8_t want, const uint8_t **val, size_t *vlen)
{
    uint8_t tag;
    return der_next(r, &tag, val, vlen) && tag == want;
}

/* Expect a constructed element and return a reader over its contents. */
static bool der_enter(der_t *r, uint8_t want, der_t *inner)
{
    const uint8_t *v;
    size_t n;
    if (!der_expect(r, want, &v, &n)) {
        return false;
    }
    *inner = der_sub(v, n);
    return true;
}

static bool oid_is(const uint8_t *v, size_t n, const uint8_t *oid, size_t oid_len)
{
    return n == oid_len && memcmp(v, oid, n) == 0;
}

/* The n characters at v are all digits. */
static bool all_digits(const uint8_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!util_is_digit(v[i])) {
            return false;
        }
    }
    return true;
}

/* RFC 5280 §4.1.2.5.1 UTCTime YYMMDDHHMMSSZ (YY >= 50 is 19YY) and
 * §4.1.2.5.2 GeneralizedTime YYYYMMDDHHMMSSZ; seconds present, Zulu only. */
static bool time_parse(der_t *r, int64_t *out)
{
    uint8_t tag;
    const uint8_t *v;
    size_t n;
    if (!der_next(r, &tag, &v, &n) || (tag != TAG_UTCTIME && tag != TAG_GENTIME)) {
        return false;
    }
    size_t yl = tag == TAG_UTCTIME ? 2U : 4U;
    if (n != yl + 11U || v[n - 1U] != 'Z' || !all_digits(v, n - 1U)) {
        return false;
    }
    const char *c = (const char *)v;
    unsigned year = util_dec(c, yl);
    if (yl == 2U) {
        year += year >= 50U ? 1900U : 2000U;
    }
    c += yl;
    unsigned mon = util_dec(c, 2), day = util_dec(c + 2, 2), h = util_dec(c + 4, 2),
             m = util_dec(c + 6, 2), sec = util_dec(c + 8, 2);
    /* picoacme_month_days() is 0 for a month outside 1..12 */
    if (day < 1U || day > picoacme_month_days(year, mon) || h > 23U || m > 59U || sec > 59U) {
        return false;
    }
    *out = picoacme_civil_to_unix((int)year, (int)mon, (int)day, (int)h, (int)m, (int)sec);
    return true;
}

/* One GeneralName of a SAN: context-specific class; a dNSName is non-empty
 * printable ASCII, an iPAddress 4 or 16 bytes. */
static bool general_name_ok(uint8_t tag, const uint8_t *v, size_t n)
{
    if ((tag & 0xC0U) != 0x80U) {
        return false;
    }
    if (tag == TAG_GN_DNS) {
        if (n == 0U) {
            return false;
        }
        for (size_t i = 0; i < n; i++) {
            if (v[i] < 0x21U || v[i] > 0x7EU) {
                return false;
            }
        }
    } else if (tag == TAG_GN_IP) {
        return n == 4U || n == 16U;
    }
    return true;
}

/* extnValue of subjectAltName: GeneralNames ::= SEQUENCE SIZE (1..MAX) */
static bool san_parse(const uint8_t *v, size_t n, picoacme_x509_t *out)
{
    der_t r = der_sub(v, n);
    der_t seq;
    if (!der_enter(&r, TAG_SEQUENCE, &seq) || !der_end(&r) || der_end(&seq)) {
        return false;
    }
    while (!der_end(&seq)) {
        uint8_t tag;
        const uint8_t *gv;
        size_t gn;
        if (!der_next(&seq, &tag, &gv, &gn) || !general_name_ok(tag, gv, gn)) {
            return false;
        }
    }
    out->san = seq.p;
    out->san_len = seq.len;
    return true;
}

/* RFC 5280 §4.2.1.1: SEQUENCE { keyIdentifier [0] OPTIONAL,
 * authorityCertIssuer [1] OPTIONAL, authorityCertSerialNumber [2] OPTIONAL } */
static bool aki_parse(const uint8_t *v, size_t n, picoacme_x509_t *out)
{
    der_t r = der_sub(v, n);
    der_t seq;
    if (!der_enter(&r, TAG_SEQUENCE, &seq) || !der_end(&r)) {
        return false;
    }
    const uint8_t *kv;
    size_t kn;
    if (der_peek(&seq) == (int)TAG_CTX0_PRIM) {
        if (!der_expect(&seq, TAG_CTX0_PRIM, &kv, &kn) || kn == 0U) {
            return false;
        }
        out->aki = kv;
        out->aki_len = kn;
    }
    if (der_peek(&seq) == 0xA1) {
        if (!der_expect(&seq, 0xA1, &kv, &kn)) {
            return false;
        }
    }
    if (der_peek(&seq) == (int)TAG_CTX2_PRIM) {
        if (!der_expect(&seq, TAG_CTX2_PRIM, &kv, &kn)) {
            return false;
        }
    }
    return der_end(&seq);
}

/* Read the extensions known here (SAN, AKI); skip any other. §4.2: a
 * certificate MUST NOT include more than one instance of a particular
 * extension (bit 0 of *seen: SAN, bit 1: AKI). */
static bool extension_take(const uint8_t *oid, size_t oid_len, const uint8_t *ev, size_t en,
                           unsigned *seen, picoacme_x509_t *out)
{
    unsigned bit = oid_is(oid, oid_len, oid_san, sizeof oid_san)   ? 1U
                   : oid_is(oid, oid_len, oid_aki, sizeof oid_aki) ? 2U
                                                                   : 0U;
    if (bit == 0U) {
        return true;
    }
    if ((*seen & bit) != 0U) {
        return false;
    }
    *seen |= bit;
    return bit == 1U ? san_parse(ev, en, out) : aki_parse(ev, en, out);
}

/* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE,
 * extnValue OCTET STRING } */
static bool extension_next(der_t *list, const uint8_t **oid, size_t *oid_len, const uint8_t **ev,
                           size_t *en)
{
    der_t e;
    if (!der_enter(list, TAG_SEQUENCE, &e) || !der_expect(&e, TAG_OID, oid, oid_len) ||
        *oid_len == 0U) {
        return false;
    }
    if (der_peek(&e) == (int)TAG_BOOLEAN) {
        if (!der_expect(&e, TAG_BOOLEAN, ev, en) || *en != 1U ||
            ((*ev)[0] != 0x00U && (*ev)[0] != 0xFFU)) {
            return false;
        }
    }
    return der_expect(&e, TAG_OCTET_STRING, ev, en) && der_end(&e);
}

/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension (RFC 5280 §4.1) */
static bool extensions_parse(const uint8_t *v, size_t n, picoacme_x509_t *out)
{
    der_t r = der_sub(v, n);
    der_t list;
    unsigned seen = 0;
    if (!der_enter(&r, TAG_SEQUENCE, &list) || !der_end(&r) || der_end(&list)) {
        return false;
    }
    while (!der_end(&list)) {
        const uint8_t *oid;
        size_t oid_len;
        const uint8_t *ev;
        size_t en;
        if (!extension_next(&list, &oid, &oid_len, &ev, &en) ||
            !extension_take(oid, oid_len, ev, en, &seen, out)) {
            return false;
        }
    }
    return true;
}

/* AlgorithmIdentifier of a key: the OID and the optional parameters (par
 * NULL when absent). */
static bool key_alg_parse(der_t *spki, const uint8_t **oid, size_t *oid_len, uint8_t *par_tag,
                          const uint8_t **par, size_t *par_len)
{
    der_t alg;
    if (!der_enter(spki, TAG_SEQUENCE, &alg) || !der_expect(&alg, TAG_OID, oid, oid_len) ||
        *oid_len == 0U) {
        return false;
    }
    if (!der_end(&alg) && !der_next(&alg, par_tag, par, par_len)) {
        return false;
    }
    return der_end(&alg);
}

/* subjectPublicKey: a BIT STRING whose unused-bits count is sane. */
static bool key_bits_parse(der_t *spki, const uint8_t **bits, size_t *bits_len)
{
    if (!der_expect(spki, TAG_BIT_STRING, bits, bits_len) || !der_end(spki) || *bits_len == 0U) {
        return false;
    }
    return (*bits)[0] <= 7U && (*bits_len != 1U || (*bits)[0] == 0U);
}

/* SubjectPublicKeyInfo (RFC 5280 §4.1.2.7, RFC 5480 §2); the point of a
 * P-256 key (uncompressed, RFC 5480 §2.2) into out. */
static bool spki_parse(der_t *tbs, picoacme_x509_t *out)
{
    der_t spki;
    const uint8_t *oid;
    size_t oid_len;
    const uint8_t *par = NULL;
    size_t par_len = 0;
    uint8_t par_tag = 0;
    const uint8_t *bits;
    size_t bits_len;
    if (!der_enter(tbs, TAG_SEQUENCE, &spki) ||
        !key_alg_parse(&spki, &oid, &oid_len, &par_tag, &par, &par_len) ||
        !key_bits_parse(&spki, &bits, &bits_len)) {
        return false;
    }
    bool p256 = oid_is(oid, oid_len, oid_ec_pubkey, sizeof oid_ec_pubkey) && par != NULL &&
                par_tag == TAG_OID && oid_is(par, par_len, oid_p256, sizeof oid_p256);
    if (p256 && bits_len == 66U && bits[0] == 0U && bits[1] == 0x04U) {
        out->ec_p256 = true;
        memcpy(out->pub, bits + 2, 64);
    }
    return true;
}

/* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
 * signatureValue } and nothing after it; *tbs reads the TBSCertificate. */
static bool outer_parse(const uint8_t *der, size_t len, der_t *tbs)
{
    der_t top = der_sub(der, len);
    der_t cert;
    const uint8_t *v;
    size_t n;

    if (!der_enter(&top, TAG_SEQUENCE, &cert) || !der_end(&top)) {
        return false; /* trailing garbage after the certificate */
    }
    return der_enter(&cert, TAG_SEQUENCE, tbs) && der_expect(&cert, TAG_SEQUENCE, &v, &n) &&
           der_expect(&cert, TAG_BIT_STRING, &v, &n) && n != 0U && der_end(&cert);
}

/* version [0] EXPLICIT Version DEFAULT v1: DER omits v1, so only v2 (1)
 * or v3 (2) may be written; *version stays 0 without it. */
static bool version_parse(der_t *tbs, unsigned *version)
{
    der_t ver;
    const uint8_t *v;
    size_t n;

    *version = 0;
    if (der_peek(tbs) != (int)TAG_CTX0_CONS) {
        return true;
    }
    if (!der_enter(tbs, TAG_CTX0_CONS, &ver) || !der_expect(&ver, TAG_INTEGER, &v, &n) ||
        !der_end(&ver) || n != 1U || (v[0] != 1U && v[0] != 2U)) {
        return false;
    }
    *version = v[0];
    return true;
}

/* serialNumber: a minimal DER INTEGER (no redundant leading 00 or FF). */
static bool serial_parse(der_t *tbs, picoacme_x509_t *out)
{
    const uint8_t *v;
    size_t n;

    if (!der_expect(tbs, TAG_INTEGER, &v, &n) || n == 0U) {
        return false;
    }
    if (n > 1U &&
        ((v[0] == 0x00U && (v[1] & 0x80U) == 0U) || (v[0] == 0xFFU && (v[1] & 0x80U) != 0U))) {
        return false;
    }
    out->serial = v;
    out->serial_len = n;
    return true;
}

/* Validity ::= SEQUENCE { notBefore Time, notAfter Time } */
static bool validity_parse(der_t *tbs, picoacme_x509_t *out)
{
    der_t seq;
    return der_enter(tbs, TAG_SEQUENCE, &seq) && time_parse(&seq, &out->not_before_s) &&
           time_parse(&seq, &out->not_after_s) && der_end(&seq);
}

/* An optional element with tag at the reader, allowed from version
 * min_version on (0: v1); its contents in *v, *n (NULL when absent). */
static bool optional_parse(der_t *tbs, uint8_t tag, unsigned version, unsigned min_version,
                           const uint8_t **v, size_t *n)
{
    *v = NULL;
    *n = 0;
    if (der_peek(tbs) != (int)tag) {
        return true;
    }
    return version >= min_version && der_expect(tbs, tag, v, n);
}

/* RFC 5280 §4.1: Certificate and TBSCertificate, in order. */
static bool cert_parse(const uint8_t *der, size_t len, picoacme_x509_t *out)
{
    der_t tbs;
    const uint8_t *v;
    size_t n;
    unsigned version;

    /* version, serialNumber, signature, issuer, validity, subject, key */
    if (!outer_parse(der, len, &tbs) || !version_parse(&tbs, &version) ||
        !serial_parse(&tbs, out) || !der_expect(&tbs, TAG_SEQUENCE, &v, &n) ||
        !der_expect(&tbs, TAG_SEQUENCE, &v, &n) || !validity_parse(&tbs, out) ||
        !der_expect(&tbs, TAG_SEQUENCE, &v, &n) || !spki_parse(&tbs, out)) {
        return false;
    }
    /* issuerUniqueID [1], subjectUniqueID [2]: v2 or v3 only;
     * extensions [3] EXPLICIT: v3 only */
    if (!optional_parse(&tbs, TAG_CTX1_PRIM, version, 1U, &v, &n) ||
        !optional_parse(&tbs, TAG_CTX2_PRIM, version, 1U, &v, &n) ||
        !optional_parse(&tbs, TAG_CTX3_CONS, version, 2U, &v, &n) ||
        (v != NULL && !extensions_parse(v, n, out))) {
        return false;
    }
    return der_end(&tbs);
}

picoacme_err_t picoacme_x509_parse(const uint8_t *der, size_t len, picoacme_x509_t *out)
{
    if (der == NULL || out == NULL) {
        return PICOACME_ERR_PARAM;
    }
    memset(out, 0, sizeof *out);
    if (!cert_parse(der, len, out)) {
        memset(out, 0, sizeof *out);
        return PICOACME_ERR_PARSE;
    }
    return PICOACME_OK;
}

picoacme_err_t picoacme_x509_san_next(const picoacme_x509_t *c, size_t *pos,
                                      picoacme_id_type_t *type, const uint8_t **val,
                                      size_t *val_len)
{
    if (c == NULL || pos == NULL || type == NULL || val == NULL || val_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (c->san == NULL) {
        return PICOACME_ERR_NOT_FOUND;
    }
    if (*pos > c->san_len) {
        return PICOACME_ERR_PARAM;
    }
    der_t r = {c->san, c->san_len, *pos};
    while (!der_end(&r)) {
        uint8_t tag;
        const uint8_t *v;
        size_t n;
        if (!der_next(&r, &tag, &v, &n) || !general_name_ok(tag, v, n)) {
            return PICOACME_ERR_PARSE;
        }
        if (tag == TAG_GN_DNS || tag == TAG_GN_IP) {
            *type = tag == TAG_GN_DNS ? PICOACME_ID_DNS : PICOACME_ID_IP;
            *val = v;
            *val_len = n;
            *pos = r.off;
            return PICOACME_OK;
        }
    }
    *pos = r.off;
    return PICOACME_ERR_NOT_FOUND;
}

/* ======================================================================
 * PEM (RFC 7468 §2, §5)
 * ====================================================================== */

static const char pem_begin[] = "-----BEGIN CERTIFICATE-----";
static const char pem_end[] = "-----END CERTIFICATE-----";

/* Offset of needle in hay[from..len), or len if absent. */
static size_t find(const char *hay, size_t len, size_t from, const char *needle, size_t nlen)
{
    if (len < nlen) {
        return len;
    }
    /* the first byte before memcmp: a certificate's base64 body has no '-' */
    for (size_t i = from; i <= len - nlen; i++) {
        if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0) {
            return i;
        }
    }
    return len;
}

picoacme_err_t picoacme_pem_next(const char *pem, size_t len, size_t *pos, uint8_t *der, size_t cap,
                                 size_t *der_len)
{
    if (pem == NULL || pos == NULL || der == NULL || der_len == NULL || *pos > len) {
        return PICOACME_ERR_PARAM;
    }
    *der_len = 0;
    const size_t blen = sizeof pem_begin - 1U;
    const size_t elen = sizeof pem_end - 1U;
    size_t b = find(pem, len, *pos, pem_begin, blen);
    if (b == len) {
        *pos = len;
        return PICOACME_ERR_NOT_FOUND;
    }
    size_t body = b + blen;
    size_t e = find(pem, len, body, pem_end, elen);
    if (e == len) {
        return PICOACME_ERR_PARSE;
    }
    size_t n = 0;
    picoacme_err_t err = picoacme_b64_decode(pem + body, e - body, der, cap, &n);
    if (err != PICOACME_OK) {
        return err == PICOACME_ERR_NOSPACE ? err : PICOACME_ERR_PARSE;
    }
    if (n == 0U) {
        return PICOACME_ERR_PARSE;
    }
    size_t after = e + elen;
    if (after < len && pem[after] == '\r') {
        after++;
    }
    if (after < len && pem[after] == '\n') {
        after++;
    }
    *pos = after;
    *der_len = n;
    return PICOACME_OK;
}
