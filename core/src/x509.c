/*
 * x509.c - hand-written DER for ACME: the PKCS#10 CSR of a P-256 key with
 * DNS and IP SANs (RFC 2986, RFC 5280 §4.2.1.6, RFC 8738), a strict, bounded
 * and non-recursive X.509 v3 certificate reader (RFC 5280 §4.1), PEM
 * certificate blocks (RFC 7468) and IP address text (RFC 4291 §2.2).
 *
 * No allocation: the CSR is written straight into the caller's buffer and
 * the parser only returns pointers into the caller's DER.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_b64.h"
#include "picoacme_x509.h"

#include "der.h"

/* 1.2.840.113549.1.9.14 extensionRequest (RFC 2985 §5.4.2) */
static const uint8_t oid_ext_req[] = {0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x0E};
/* 2.5.29.35 authorityKeyIdentifier */
static const uint8_t oid_aki[] = {0x55, 0x1D, 0x23};

/* Longest commonName (RFC 5280 ub-common-name). */
#define CN_MAX 64U

/* ======================================================================
 * IP address text (RFC 4291 §2.2, RFC 791 dotted quad)
 * ====================================================================== */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Exactly four decimal parts 0..255, no sign, no leading zero ("01" is
 * rejected: some parsers read it as octal). */
static bool ipv4_parse(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;
    for (size_t part = 0; part < 4U; part++) {
        if (part > 0U) {
            if (i >= len || s[i] != '.') {
                return false;
            }
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && is_digit(s[i]) && i - start < 3U) {
            v = v * 10U + (unsigned)(s[i] - '0');
            i++;
        }
        size_t nd = i - start;
        if (nd == 0U || v > 255U || (nd > 1U && s[start] == '0')) {
            return false;
        }
        if (i < len && is_digit(s[i])) {
            return false; /* a fourth digit */
        }
        out[part] = (uint8_t)v;
    }
    return i == len;
}

/* Groups of 1..4 hex digits, at most one "::" standing for one or more zero
 * groups, optionally ending in a dotted quad. No zone index. */
static bool ipv6_parse(const char *s, size_t len, uint8_t out[16])
{
    uint8_t tmp[16];
    size_t n = 0;   /* bytes produced */
    size_t gap = 0; /* byte index of "::" */
    bool has_gap = false;
    size_t i = 0;

    if (len < 2U) {
        return false;
    }
    if (s[0] == ':') {
        if (s[1] != ':') {
            return false;
        }
        has_gap = true;
        i = 2;
    }
    while (i < len) {
        if (n >= 16U) {
            return false;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && hex_val(s[i]) >= 0 && i - start < 5U) {
            v = (v << 4) | (unsigned)hex_val(s[i]);
            i++;
        }
        if (i < len && s[i] == '.') {
            /* trailing dotted quad: the rest of the text, 4 bytes */
            if (n > 12U || !ipv4_parse(s + start, len - start, tmp + n)) {
                return false;
            }
            n += 4U;
            i = len;
            break;
        }
        if (i == start || i - start > 4U) {
            return false;
        }
        tmp[n++] = (uint8_t)(v >> 8);
        tmp[n++] = (uint8_t)(v & 0xFFU);
        if (i == len) {
            break;
        }
        if (s[i] != ':') {
            return false;
        }
        i++;
        if (i < len && s[i] == ':') {
            if (has_gap) {
                return false; /* a second "::" */
            }
            has_gap = true;
            gap = n;
            i++;
        } else if (i == len) {
            return false; /* trailing single ':' */
        }
    }
    if (has_gap) {
        if (n >= 16U) {
            return false; /* "::" must stand for at least one group */
        }
        size_t tail = n - gap;
        memset(out, 0, 16);
        memcpy(out, tmp, gap);
        memcpy(out + 16U - tail, tmp + gap, tail);
        return true;
    }
    if (n != 16U) {
        return false;
    }
    memcpy(out, tmp, 16);
    return true;
}

picoacme_err_t picoacme_ip_parse(const char *s, size_t len, uint8_t out[16], size_t *out_len)
{
    if (s == NULL || out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *out_len = 0;
    bool v6 = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ':') {
            v6 = true;
            break;
        }
    }
    if (v6) {
        if (!ipv6_parse(s, len, out)) {
            return PICOACME_ERR_PARSE;
        }
        *out_len = 16;
        return PICOACME_OK;
    }
    if (!ipv4_parse(s, len, out)) {
        return PICOACME_ERR_PARSE;
    }
    *out_len = 4;
    return PICOACME_OK;
}

/* ======================================================================
 * CSR writer (the DER writer itself is in der.h)
 * ====================================================================== */

/* RFC 2986 §4: CertificationRequest with a P-256 key, RFC 5280 §4.2.1.6 SAN
 * in an extensionRequest attribute (RFC 2985 §5.4.2), RFC 5758 §3.2
 * ecdsa-with-SHA256 (no parameters). The CertificationRequestInfo is written
 * 4 bytes into out (room for the longest outer header), hashed and signed,
 * then moved down behind the exact outer header. */
picoacme_err_t picoacme_csr_build(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                  const picoacme_ident_t *ids, size_t n_ids, uint8_t *out,
                                  size_t cap, size_t *out_len)
{
    if (crypto == NULL || crypto->sha256 == NULL || crypto->key_public == NULL ||
        crypto->key_sign == NULL || ids == NULL || n_ids == 0U || out == NULL || out_len == NULL ||
        (unsigned)slot >= (unsigned)PICOACME_KEY_SLOTS) {
        return PICOACME_ERR_PARAM;
    }
    *out_len = 0;

    /* Sizes, inside out: GeneralNames, SAN extension, attributes. */
    size_t gns = 0;
    for (size_t i = 0; i < n_ids; i++) {
        if (ids[i].value == NULL) {
            return PICOACME_ERR_PARAM;
        }
        size_t n = bounded_len(ids[i].value, DNS_NAME_MAX);
        if (ids[i].type == PICOACME_ID_DNS) {
            if (!dns_name_ok(ids[i].value, n)) {
                return PICOACME_ERR_PARAM;
            }
        } else if (ids[i].type == PICOACME_ID_IP) {
            uint8_t ip[16];
            if (picoacme_ip_parse(ids[i].value, n, ip, &n) != PICOACME_OK) {
                return PICOACME_ERR_PARAM;
            }
        } else {
            return PICOACME_ERR_PARAM;
        }
        gns += tlv_size(n);
        if (gns > cap) {
            return PICOACME_ERR_NOSPACE;
        }
    }
    size_t cn_len = 0;
    bool with_cn = false;
    if (ids[0].type == PICOACME_ID_DNS) {
        cn_len = bounded_len(ids[0].value, DNS_NAME_MAX);
        with_cn = cn_len <= CN_MAX;
    }
    /* RFC 5280 §4.2.1.6: with an empty subject the SAN is critical. */
    const bool critical = !with_cn;
    size_t san_seq = tlv_size(gns);
    size_t ext = tlv_size(tlv_size(sizeof oid_san) + (critical ? 3U : 0U) + tlv_size(san_seq));
    size_t exts = tlv_size(ext);
    size_t attr = tlv_size(tlv_size(sizeof oid_ext_req) + tlv_size(exts));
    size_t attrs = tlv_size(attr);
    size_t atv = tlv_size(tlv_size(sizeof oid_cn) + tlv_size(cn_len));
    size_t name = with_cn ? tlv_size(tlv_size(atv)) : 2U;
    size_t alg = tlv_size(tlv_size(sizeof oid_ec_pubkey) + tlv_size(sizeof oid_p256));
    size_t spki = tlv_size(alg + tlv_size(66));
    size_t cri = tlv_size(3U + name + spki + attrs);
    if (cri > cap || 4U > cap - cri) {
        return PICOACME_ERR_NOSPACE;
    }

    uint8_t pub[64];
    picoacme_err_t err = crypto->key_public(crypto->user, slot, pub);
    if (err != PICOACME_OK) {
        return err;
    }

    wr_t w = {out, cap, 4, false};
    static const uint8_t version0[] = {TAG_INTEGER, 0x01, 0x00};
    wr_hdr(&w, TAG_SEQUENCE, 3U + name + spki + attrs);
    wr_bytes(&w, version0, sizeof version0);
    /* subject */
    if (with_cn) {
        wr_hdr(&w, TAG_SEQUENCE, tlv_size(atv));
        wr_hdr(&w, TAG_SET, atv);
        wr_hdr(&w, TAG_SEQUENCE, tlv_size(sizeof oid_cn) + tlv_size(cn_len));
        wr_tlv(&w, TAG_OID, oid_cn, sizeof oid_cn);
        wr_tlv(&w, TAG_UTF8STRING, (const uint8_t *)ids[0].value, cn_len);
    } else {
        wr_hdr(&w, TAG_SEQUENCE, 0);
    }
    /* subjectPKInfo (RFC 5480 §2) */
    wr_hdr(&w, TAG_SEQUENCE, alg + tlv_size(66));
    wr_hdr(&w, TAG_SEQUENCE, tlv_size(sizeof oid_ec_pubkey) + tlv_size(sizeof oid_p256));
    wr_tlv(&w, TAG_OID, oid_ec_pubkey, sizeof oid_ec_pubkey);
    wr_tlv(&w, TAG_OID, oid_p256, sizeof oid_p256);
    static const uint8_t point_hdr[] = {TAG_BIT_STRING, 66, 0x00, 0x04};
    wr_bytes(&w, point_hdr, sizeof point_hdr);
    wr_bytes(&w, pub, sizeof pub);
    /* attributes [0] IMPLICIT SET OF Attribute */
    wr_hdr(&w, TAG_CTX0_CONS, attr);
    wr_hdr(&w, TAG_SEQUENCE, tlv_size(sizeof oid_ext_req) + tlv_size(exts));
    wr_tlv(&w, TAG_OID, oid_ext_req, sizeof oid_ext_req);
    wr_hdr(&w, TAG_SET, exts);
    wr_hdr(&w, TAG_SEQUENCE, ext);
    wr_hdr(&w, TAG_SEQUENCE, tlv_size(sizeof oid_san) + (critical ? 3U : 0U) + tlv_size(san_seq));
    wr_tlv(&w, TAG_OID, oid_san, sizeof oid_san);
    if (critical) {
        static const uint8_t true_der[] = {TAG_BOOLEAN, 0x01, 0xFF};
        wr_bytes(&w, true_der, sizeof true_der);
    }
    wr_hdr(&w, TAG_OCTET_STRING, san_seq);
    wr_hdr(&w, TAG_SEQUENCE, gns);
    for (size_t i = 0; i < n_ids; i++) {
        size_t n = bounded_len(ids[i].value, DNS_NAME_MAX);
        if (ids[i].type == PICOACME_ID_DNS) {
            wr_tlv(&w, TAG_GN_DNS, (const uint8_t *)ids[i].value, n);
        } else {
            uint8_t ip[16];
            (void)picoacme_ip_parse(ids[i].value, n, ip, &n);
            wr_tlv(&w, TAG_GN_IP, ip, n);
        }
    }
    if (w.over || w.off != 4U + cri) {
        return PICOACME_ERR_NOSPACE;
    }

    /* Sign SHA-256(CertificationRequestInfo) and wrap it. */
    return picoacme_der_sign_wrap(crypto, slot, out, cap, cri, out_len);
}

picoacme_err_t picoacme_der_sign_wrap(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                      uint8_t *out, size_t cap, size_t tbs, size_t *out_len)
{
    picoacme_err_t err;
    wr_t w = {out, cap, 0, false};
    uint8_t digest[32];
    uint8_t sig[64];
    picoacme_iov_t iov = {out + DER_SIGN_OFF, tbs};
    err = crypto->sha256(crypto->user, &iov, 1, digest);
    if (err != PICOACME_OK) {
        return err;
    }
    err = crypto->key_sign(crypto->user, slot, digest, sig);
    if (err != PICOACME_OK) {
        return err;
    }
    size_t skip;
    size_t r_len = uint_der_len(sig, &skip);
    size_t s_len = uint_der_len(sig + 32, &skip);
    size_t ecdsa = tlv_size(tlv_size(r_len) + tlv_size(s_len));
    size_t sig_alg = tlv_size(tlv_size(sizeof oid_ecdsa_sha256));
    size_t body = tbs + sig_alg + tlv_size(1U + ecdsa);
    size_t total = tlv_size(body);
    if (total > cap) {
        return PICOACME_ERR_NOSPACE;
    }
    size_t hdr = total - body;
    memmove(out + hdr, out + DER_SIGN_OFF, tbs);
    w.off = 0;
    w.over = false;
    wr_hdr(&w, TAG_SEQUENCE, body);
    w.off = hdr + tbs;
    wr_hdr(&w, TAG_SEQUENCE, tlv_size(sizeof oid_ecdsa_sha256));
    wr_tlv(&w, TAG_OID, oid_ecdsa_sha256, sizeof oid_ecdsa_sha256);
    wr_hdr(&w, TAG_BIT_STRING, 1U + ecdsa);
    const uint8_t unused_bits = 0;
    wr_bytes(&w, &unused_bits, 1);
    wr_hdr(&w, TAG_SEQUENCE, tlv_size(r_len) + tlv_size(s_len));
    wr_uint(&w, sig);
    wr_uint(&w, sig + 32);
    if (w.over || w.off != total) {
        return PICOACME_ERR_NOSPACE;
    }
    *out_len = total;
    return PICOACME_OK;
}

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

/* Decimal value of the n digits at p (checked by the caller). */
static int dec(const uint8_t *p, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* RFC 5280 §4.1.2.5.1 UTCTime YYMMDDHHMMSSZ (YY >= 50 is 19YY) and
 * §4.1.2.5.2 GeneralizedTime YYYYMMDDHHMMSSZ; seconds present, Zulu only. */
static bool time_parse(der_t *r, int64_t *out)
{
    uint8_t tag;
    const uint8_t *v;
    size_t n;
    if (!der_next(r, &tag, &v, &n)) {
        return false;
    }
    size_t yl = tag == TAG_UTCTIME ? 2U : 4U;
    if ((tag != TAG_UTCTIME && tag != TAG_GENTIME) || n != yl + 11U || v[n - 1U] != 'Z') {
        return false;
    }
    for (size_t i = 0; i + 1U < n; i++) {
        if (!is_digit((char)v[i])) {
            return false;
        }
    }
    int year = dec(v, yl);
    if (yl == 2U) {
        year += year >= 50 ? 1900 : 2000;
    }
    v += yl;
    int mon = dec(v, 2), day = dec(v + 2, 2), h = dec(v + 4, 2), m = dec(v + 6, 2),
        s = dec(v + 8, 2);
    static const uint8_t mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mon < 1 || mon > 12 || day < 1 || h > 23 || m > 59 || s > 59) {
        return false;
    }
    int dim = mdays[mon - 1];
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (mon == 2 && leap) {
        dim = 29;
    }
    if (day > dim) {
        return false;
    }
    *out = picoacme_civil_to_unix(year, mon, day, h, m, s);
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

/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension (RFC 5280 §4.1) */
static bool extensions_parse(const uint8_t *v, size_t n, picoacme_x509_t *out)
{
    der_t r = der_sub(v, n);
    der_t list;
    if (!der_enter(&r, TAG_SEQUENCE, &list) || !der_end(&r) || der_end(&list)) {
        return false;
    }
    bool seen_san = false;
    bool seen_aki = false;
    while (!der_end(&list)) {
        der_t e;
        const uint8_t *oid;
        size_t oid_len;
        const uint8_t *ev;
        size_t en;
        if (!der_enter(&list, TAG_SEQUENCE, &e) || !der_expect(&e, TAG_OID, &oid, &oid_len) ||
            oid_len == 0U) {
            return false;
        }
        if (der_peek(&e) == (int)TAG_BOOLEAN) {
            if (!der_expect(&e, TAG_BOOLEAN, &ev, &en) || en != 1U ||
                (ev[0] != 0x00U && ev[0] != 0xFFU)) {
                return false;
            }
        }
        if (!der_expect(&e, TAG_OCTET_STRING, &ev, &en) || !der_end(&e)) {
            return false;
        }
        /* §4.2: a certificate MUST NOT include more than one instance of a
         * particular extension. */
        if (oid_is(oid, oid_len, oid_san, sizeof oid_san)) {
            if (seen_san || !san_parse(ev, en, out)) {
                return false;
            }
            seen_san = true;
        } else if (oid_is(oid, oid_len, oid_aki, sizeof oid_aki)) {
            if (seen_aki || !aki_parse(ev, en, out)) {
                return false;
            }
            seen_aki = true;
        }
    }
    return true;
}

/* SubjectPublicKeyInfo (RFC 5280 §4.1.2.7, RFC 5480 §2) */
static bool spki_parse(der_t *tbs, picoacme_x509_t *out)
{
    der_t spki;
    der_t alg;
    const uint8_t *oid;
    size_t oid_len;
    const uint8_t *par = NULL;
    size_t par_len = 0;
    uint8_t par_tag = 0;
    const uint8_t *bits;
    size_t bits_len;
    if (!der_enter(tbs, TAG_SEQUENCE, &spki) || !der_enter(&spki, TAG_SEQUENCE, &alg) ||
        !der_expect(&alg, TAG_OID, &oid, &oid_len) || oid_len == 0U) {
        return false;
    }
    if (!der_end(&alg) && !der_next(&alg, &par_tag, &par, &par_len)) {
        return false;
    }
    if (!der_end(&alg) || !der_expect(&spki, TAG_BIT_STRING, &bits, &bits_len) || !der_end(&spki) ||
        bits_len == 0U || bits[0] > 7U || (bits_len == 1U && bits[0] != 0U)) {
        return false;
    }
    if (oid_is(oid, oid_len, oid_ec_pubkey, sizeof oid_ec_pubkey) && par != NULL &&
        par_tag == TAG_OID && oid_is(par, par_len, oid_p256, sizeof oid_p256) && bits_len == 66U &&
        bits[0] == 0U && bits[1] == 0x04U) {
        out->ec_p256 = true;
        memcpy(out->pub, bits + 2, 64);
    }
    return true;
}

/* RFC 5280 §4.1: Certificate and TBSCertificate, in order. */
static bool cert_parse(const uint8_t *der, size_t len, picoacme_x509_t *out)
{
    der_t top = der_sub(der, len);
    der_t cert;
    der_t tbs;
    der_t seq;
    const uint8_t *v;
    size_t n;

    if (!der_enter(&top, TAG_SEQUENCE, &cert) || !der_end(&top)) {
        return false; /* trailing garbage after the certificate */
    }
    if (!der_enter(&cert, TAG_SEQUENCE, &tbs) || !der_expect(&cert, TAG_SEQUENCE, &v, &n) ||
        !der_expect(&cert, TAG_BIT_STRING, &v, &n) || n == 0U || !der_end(&cert)) {
        return false;
    }

    /* version [0] EXPLICIT Version DEFAULT v1: DER omits v1, so only v2/v3 */
    unsigned version = 0;
    if (der_peek(&tbs) == (int)TAG_CTX0_CONS) {
        der_t ver;
        if (!der_enter(&tbs, TAG_CTX0_CONS, &ver) || !der_expect(&ver, TAG_INTEGER, &v, &n) ||
            !der_end(&ver) || n != 1U || (v[0] != 1U && v[0] != 2U)) {
            return false;
        }
        version = v[0];
    }
    /* serialNumber: a minimal DER INTEGER */
    if (!der_expect(&tbs, TAG_INTEGER, &v, &n) || n == 0U) {
        return false;
    }
    if (n > 1U &&
        ((v[0] == 0x00U && (v[1] & 0x80U) == 0U) || (v[0] == 0xFFU && (v[1] & 0x80U) != 0U))) {
        return false;
    }
    out->serial = v;
    out->serial_len = n;
    /* signature, issuer */
    if (!der_expect(&tbs, TAG_SEQUENCE, &v, &n) || !der_expect(&tbs, TAG_SEQUENCE, &v, &n)) {
        return false;
    }
    /* validity */
    if (!der_enter(&tbs, TAG_SEQUENCE, &seq) || !time_parse(&seq, &out->not_before_s) ||
        !time_parse(&seq, &out->not_after_s) || !der_end(&seq)) {
        return false;
    }
    /* subject */
    if (!der_expect(&tbs, TAG_SEQUENCE, &v, &n) || !spki_parse(&tbs, out)) {
        return false;
    }
    /* issuerUniqueID [1], subjectUniqueID [2]: v2 or v3 only */
    if (der_peek(&tbs) == (int)TAG_CTX1_PRIM) {
        if (version < 1U || !der_expect(&tbs, TAG_CTX1_PRIM, &v, &n)) {
            return false;
        }
    }
    if (der_peek(&tbs) == (int)TAG_CTX2_PRIM) {
        if (version < 1U || !der_expect(&tbs, TAG_CTX2_PRIM, &v, &n)) {
            return false;
        }
    }
    /* extensions [3] EXPLICIT: v3 only */
    if (der_peek(&tbs) == (int)TAG_CTX3_CONS) {
        if (version != 2U || !der_expect(&tbs, TAG_CTX3_CONS, &v, &n) ||
            !extensions_parse(v, n, out)) {
            return false;
        }
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
    for (size_t i = from; i <= len - nlen; i++) {
        if (memcmp(hay + i, needle, nlen) == 0) {
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
