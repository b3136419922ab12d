/*
 * alpn.c - the device side of tls-alpn-01 (RFC 8737) with IP identifiers
 * (RFC 8738): the self-signed challenge certificate carrying the critical
 * id-pe-acmeIdentifier extension, the reverse-DNS name a validator sends as
 * SNI for an IP address, and a bounded look at a ClientHello to tell an ACME
 * validator ("acme-tls/1") from an ordinary HTTPS client.
 *
 * No allocation, no recursion: the certificate is written straight into the
 * caller's buffer with the DER writer of der.h; the ClientHello reader only
 * walks the caller's bytes with explicit lengths.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_x509.h"

#include "der.h"

/* 1.3.6.1.5.5.7.1.31 id-pe-acmeIdentifier (RFC 8737 §6.1) */
static const uint8_t oid_acme_id[] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x1F};

/* RFC 8737 §3 does not fix the subject; this one names what the cert is. */
static const char cert_cn[] = "picoacme tls-alpn-01";
#define CERT_CN_LEN (sizeof cert_cn - 1U)

#define SERIAL_LEN 16U
#define DAY_S      86400
/* Validity when the wall clock is unknown: 2020-01-01 .. 2021-01-01. */
#define UNKNOWN_NOT_BEFORE_S 1577836800
#define UNKNOWN_NOT_AFTER_S  1609459200
/* 9999-12-31T23:59:59Z, the last second GeneralizedTime can say here. */
#define TIME_MAX_S 253402300799

/* ======================================================================
 * Challenge certificate (RFC 8737 §3, RFC 5280 §4.1)
 * ====================================================================== */

/* Unix seconds to a UTCTime (years 1950..2049) or GeneralizedTime (other
 * years), RFC 5280 §4.1.2.5. t must be in [0, TIME_MAX_S]. Returns the
 * number of characters (13 or 15) written to out. */
static size_t time_encode(int64_t t, uint8_t *tag, uint8_t out[15])
{
    /* civil-from-days over the proleptic Gregorian calendar */
    int64_t days = t / DAY_S;
    int64_t sod = t % DAY_S;
    int64_t z = days + 719468;
    int64_t era = z / 146097; /* z >= 0 here */
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1;
    int64_t mon = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (mon <= 2 ? 1 : 0);
    int64_t f[6] = {year % 100, mon, day, sod / 3600, (sod / 60) % 60, sod % 60};
    size_t n = 0;

    if (year >= 1950 && year <= 2049) {
        *tag = TAG_UTCTIME;
    } else {
        *tag = TAG_GENTIME;
        out[n++] = (uint8_t)('0' + (year / 1000) % 10);
        out[n++] = (uint8_t)('0' + (year / 100) % 10);
    }
    for (size_t i = 0; i < 6U; i++) {
        out[n++] = (uint8_t)('0' + f[i] / 10);
        out[n++] = (uint8_t)('0' + f[i] % 10);
    }
    out[n++] = 'Z';
    return n;
}

/* The one GeneralName of the SAN: dNSName (no wildcard: RFC 8737 §3 is not
 * for wildcard names) or iPAddress (RFC 8738 §3). */
static picoacme_err_t ident_value(const picoacme_ident_t *id, uint8_t *tag, uint8_t ip[16],
                                  const uint8_t **val, size_t *val_len)
{
    size_t n = bounded_len(id->value, DNS_NAME_MAX);
    if (id->type == PICOACME_ID_DNS) {
        if (!dns_name_ok(id->value, n) || memchr(id->value, '*', n) != NULL) {
            return PICOACME_ERR_PARAM;
        }
        *tag = TAG_GN_DNS;
        *val = (const uint8_t *)id->value;
        *val_len = n;
        return PICOACME_OK;
    }
    if (id->type == PICOACME_ID_IP) {
        if (n > DNS_NAME_MAX || picoacme_ip_parse(id->value, n, ip, val_len) != PICOACME_OK) {
            return PICOACME_ERR_PARAM;
        }
        *tag = TAG_GN_IP;
        *val = ip;
        return PICOACME_OK;
    }
    return PICOACME_ERR_PARAM;
}

/* Name ::= SEQUENCE { SET { SEQUENCE { commonName, UTF8String } } } */
static void wr_name(wr_t *w)
{
    size_t atv = tlv_size(tlv_size(sizeof oid_cn) + tlv_size(CERT_CN_LEN));
    wr_hdr(w, TAG_SEQUENCE, tlv_size(atv));
    wr_hdr(w, TAG_SET, atv);
    wr_hdr(w, TAG_SEQUENCE, tlv_size(sizeof oid_cn) + tlv_size(CERT_CN_LEN));
    wr_tlv(w, TAG_OID, oid_cn, sizeof oid_cn);
    wr_tlv(w, TAG_UTF8STRING, (const uint8_t *)cert_cn, CERT_CN_LEN);
}

/* The TBSCertificate is written 4 bytes into out (room for the longest
 * outer header), hashed and signed, then moved down behind the exact outer
 * header, as picoacme_csr_build() does. */
picoacme_err_t picoacme_alpn_cert_build(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                        const picoacme_ident_t *id,
                                        const uint8_t keyauth_sha256[32], int64_t now_s,
                                        uint8_t *out, size_t cap, size_t *out_len)
{
    if (crypto == NULL || crypto->random == NULL || crypto->sha256 == NULL ||
        crypto->key_public == NULL || crypto->key_sign == NULL || id == NULL || id->value == NULL ||
        keyauth_sha256 == NULL || out == NULL || out_len == NULL ||
        (unsigned)slot >= (unsigned)PICOACME_KEY_SLOTS) {
        return PICOACME_ERR_PARAM;
    }
    *out_len = 0;

    /* RFC 8737 §3: validity is not checked by validators; keep it short and
     * around now, or a fixed year when the clock is unknown. */
    int64_t nb;
    int64_t na;
    if (now_s == PICOACME_TIME_UNKNOWN) {
        nb = UNKNOWN_NOT_BEFORE_S;
        na = UNKNOWN_NOT_AFTER_S;
    } else {
        if (now_s < DAY_S || now_s > TIME_MAX_S - 7 * DAY_S) {
            return PICOACME_ERR_PARAM;
        }
        nb = now_s - DAY_S;
        na = now_s + 7 * DAY_S;
    }

    uint8_t gn_tag;
    uint8_t ip[16];
    const uint8_t *gn_val;
    size_t gn_len;
    picoacme_err_t err = ident_value(id, &gn_tag, ip, &gn_val, &gn_len);
    if (err != PICOACME_OK) {
        return err;
    }

    uint8_t nb_txt[15];
    uint8_t na_txt[15];
    uint8_t nb_tag;
    uint8_t na_tag;
    size_t nb_len = time_encode(nb, &nb_tag, nb_txt);
    size_t na_len = time_encode(na, &na_tag, na_txt);

    /* Sizes, inside out. */
    const size_t version = 5; /* [0] { INTEGER 2 } */
    size_t serial = tlv_size(SERIAL_LEN);
    size_t sig_alg = tlv_size(tlv_size(sizeof oid_ecdsa_sha256));
    size_t atv = tlv_size(tlv_size(sizeof oid_cn) + tlv_size(CERT_CN_LEN));
    size_t name = tlv_size(tlv_size(atv));
    size_t validity = tlv_size(tlv_size(nb_len) + tlv_size(na_len));
    size_t alg = tlv_size(tlv_size(sizeof oid_ec_pubkey) + tlv_size(sizeof oid_p256));
    size_t spki = tlv_size(alg + tlv_size(66));
    size_t gns = tlv_size(tlv_size(gn_len));
    size_t san_ext = tlv_size(tlv_size(sizeof oid_san) + tlv_size(gns));
    size_t acme_ext = tlv_size(tlv_size(sizeof oid_acme_id) + 3U + tlv_size(tlv_size(32)));
    size_t exts = tlv_size(tlv_size(san_ext + acme_ext));
    size_t tbs_body = version + serial + sig_alg + name + validity + name + spki + exts;
    size_t tbs = tlv_size(tbs_body);
    if (tbs > cap || 4U > cap - tbs) {
        return PICOACME_ERR_NOSPACE;
    }

    uint8_t pub[64];
    err = crypto->key_public(crypto->user, slot, pub);
    if (err != PICOACME_OK) {
        return err;
    }
    /* A random positive serial of exactly 16 octets: top bit clear, first
     * octet non-zero so the INTEGER is minimal (RFC 5280 §4.1.2.2). */
    uint8_t sn[SERIAL_LEN];
    err = crypto->random(crypto->user, sn, sizeof sn);
    if (err != PICOACME_OK) {
        return err;
    }
    sn[0] &= 0x7FU;
    if (sn[0] == 0U) {
        sn[0] = 0x01U;
    }

    wr_t w = {out, cap, 4, false};
    static const uint8_t version_v3[] = {TAG_CTX0_CONS, 0x03, TAG_INTEGER, 0x01, 0x02};
    wr_hdr(&w, TAG_SEQUENCE, tbs_body);
    wr_bytes(&w, version_v3, sizeof version_v3);
    wr_tlv(&w, TAG_INTEGER, sn, sizeof sn);
    wr_hdr(&w, TAG_SEQUENCE, tlv_size(sizeof oid_ecdsa_sha256));
    wr_tlv(&w, TAG_OID, oid_ecdsa_sha256, sizeof oid_ecdsa_sha256);
    wr_name(&w); /* issuer */
    wr_hdr(&w, TAG_SEQUENCE, tlv_size(nb_len) + tlv_size(na_len));
    wr_tlv(&w, nb_tag, nb_txt, nb_len);
    wr_tlv(&w, na_tag, na_txt, na_len);
    wr_name(&w); /* subject */
    /* subjectPublicKeyInfo (RFC 5480 §2) */
    wr_hdr(&w, TAG_SEQUENCE, alg + tlv_size(66));
    wr_hdr(&w, TAG_SEQUENCE, tlv_size(sizeof oid_ec_pubkey) + tlv_size(sizeof oid_p256));
    wr_tlv(&w, TAG_OID, oid_ec_pubkey, sizeof oid_ec_pubkey);
    wr_tlv(&w, TAG_OID, oid_p256, sizeof oid_p256);
    static const uint8_t point_hdr[] = {TAG_BIT_STRING, 66, 0x00, 0x04};
    wr_bytes(&w, point_hdr, sizeof point_hdr);
    wr_bytes(&w, pub, sizeof pub);
    /* extensions [3] EXPLICIT SEQUENCE OF Extension */
    wr_hdr(&w, TAG_CTX3_CONS, tlv_size(san_ext + acme_ext));
    wr_hdr(&w, TAG_SEQUENCE, san_ext + acme_ext);
    /* subjectAltName, not critical: the subject is not empty (RFC 5280
     * §4.2.1.6) */
    wr_hdr(&w, TAG_SEQUENCE, tlv_size(sizeof oid_san) + tlv_size(gns));
    wr_tlv(&w, TAG_OID, oid_san, sizeof oid_san);
    wr_hdr(&w, TAG_OCTET_STRING, gns);
    wr_hdr(&w, TAG_SEQUENCE, tlv_size(gn_len));
    wr_tlv(&w, gn_tag, gn_val, gn_len);
    /* RFC 8737 §3: critical acmeIdentifier, extnValue = DER of
     * Authorization ::= OCTET STRING (SIZE (32)) */
    static const uint8_t true_der[] = {TAG_BOOLEAN, 0x01, 0xFF};
    wr_hdr(&w, TAG_SEQUENCE, tlv_size(sizeof oid_acme_id) + 3U + tlv_size(tlv_size(32)));
    wr_tlv(&w, TAG_OID, oid_acme_id, sizeof oid_acme_id);
    wr_bytes(&w, true_der, sizeof true_der);
    wr_hdr(&w, TAG_OCTET_STRING, tlv_size(32));
    wr_tlv(&w, TAG_OCTET_STRING, keyauth_sha256, 32);
    if (w.over || w.off != 4U + tbs) {
        return PICOACME_ERR_NOSPACE;
    }

    /* Sign SHA-256(TBSCertificate), ecdsa-with-SHA256 (RFC 5758 §3.2). */
    return picoacme_der_sign_wrap(crypto, slot, out, cap, tbs, out_len);
}

/* ======================================================================
 * Reverse names (RFC 8738 §6, RFC 1035 §3.5, RFC 3596 §2.5)
 * ====================================================================== */

picoacme_err_t picoacme_reverse_name(const char *ip, size_t ip_len, char *out, size_t cap,
                                     size_t *out_len)
{
    static const char hex[] = "0123456789abcdef";
    static const char v4_suffix[] = "in-addr.arpa";
    static const char v6_suffix[] = "ip6.arpa";
    /* longest: 32 nibbles and dots, "ip6.arpa", NUL */
    char tmp[64 + sizeof v6_suffix];
    size_t n = 0;
    uint8_t a[16];
    size_t alen;

    if (ip == NULL || out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *out_len = 0;
    if (picoacme_ip_parse(ip, ip_len, a, &alen) != PICOACME_OK) {
        return PICOACME_ERR_PARSE;
    }
    if (alen == 4U) {
        for (size_t i = 4; i > 0U; i--) {
            unsigned v = a[i - 1U];
            if (v >= 100U) {
                tmp[n++] = (char)('0' + v / 100U);
            }
            if (v >= 10U) {
                tmp[n++] = (char)('0' + (v / 10U) % 10U);
            }
            tmp[n++] = (char)('0' + v % 10U);
            tmp[n++] = '.';
        }
        memcpy(tmp + n, v4_suffix, sizeof v4_suffix - 1U);
        n += sizeof v4_suffix - 1U;
    } else {
        for (size_t i = 16; i > 0U; i--) {
            tmp[n++] = hex[a[i - 1U] & 0x0FU];
            tmp[n++] = '.';
            tmp[n++] = hex[a[i - 1U] >> 4];
            tmp[n++] = '.';
        }
        memcpy(tmp + n, v6_suffix, sizeof v6_suffix - 1U);
        n += sizeof v6_suffix - 1U;
    }
    if (n >= cap) {
        return PICOACME_ERR_NOSPACE;
    }
    memcpy(out, tmp, n);
    out[n] = '\0';
    *out_len = n;
    return PICOACME_OK;
}

/* ======================================================================
 * ClientHello (RFC 8446 §4.1.2, §5.1; RFC 5246 §7.4.1.2; RFC 7301 §3.1;
 * RFC 6066 §3)
 * ====================================================================== */

#define TLS_CT_HANDSHAKE    22U
#define TLS_HS_CLIENT_HELLO 1U
#define TLS_RECORD_MAX      16384U /* 2^14, RFC 8446 §5.1 */
#define TLS_EXT_SNI         0U
#define TLS_EXT_ALPN        16U
#define SNI_HOST_NAME       0U

static const uint8_t acme_alpn[] = {'a', 'c', 'm', 'e', '-', 't', 'l', 's', '/', '1'};

typedef struct cur {
    const uint8_t *p;
    size_t len;
    size_t off; /* always <= len */
} cur_t;

static size_t cur_left(const cur_t *c)
{
    return c->len - c->off;
}

/* Read a big-endian integer of n (1..3) octets. */
static bool get_uint(cur_t *c, size_t n, size_t *v)
{
    if (cur_left(c) < n) {
        return false;
    }
    size_t x = 0;
    for (size_t i = 0; i < n; i++) {
        x = (x << 8) | c->p[c->off + i];
    }
    c->off += n;
    *v = x;
    return true;
}

/* A vector with an n-octet length prefix whose length is within
 * [min, max]; *inner reads its contents. */
static bool get_vec(cur_t *c, size_t n, size_t min, size_t max, cur_t *inner)
{
    size_t vlen;
    if (!get_uint(c, n, &vlen) || vlen < min || vlen > max || vlen > cur_left(c)) {
        return false;
    }
    inner->p = c->p + c->off;
    inner->len = vlen;
    inner->off = 0;
    c->off += vlen;
    return true;
}

/* ProtocolNameList (RFC 7301 §3.1): true in *found when "acme-tls/1" is
 * one of the names. */
static bool alpn_parse(cur_t *ext, bool *found)
{
    cur_t list;
    if (!get_vec(ext, 2, 2, 0xFFFFU, &list) || cur_left(ext) != 0U) {
        return false;
    }
    while (cur_left(&list) > 0U) {
        cur_t name;
        if (!get_vec(&list, 1, 1, 0xFFU, &name)) {
            return false;
        }
        if (name.len == sizeof acme_alpn && memcmp(name.p, acme_alpn, sizeof acme_alpn) == 0) {
            *found = true;
        }
    }
    return true;
}

/* ServerNameList (RFC 6066 §3): at most one host_name, printable ASCII.
 * The host name is returned through host and host_len (NULL if none). */
static bool sni_parse(cur_t *ext, const uint8_t **host, size_t *host_len)
{
    cur_t list;
    if (!get_vec(ext, 2, 1, 0xFFFFU, &list) || cur_left(ext) != 0U) {
        return false;
    }
    while (cur_left(&list) > 0U) {
        size_t type;
        cur_t name;
        if (!get_uint(&list, 1, &type) || !get_vec(&list, 2, 1, 0xFFFFU, &name)) {
            return false;
        }
        if (type != SNI_HOST_NAME) {
            continue;
        }
        if (*host != NULL) {
            return false; /* "MUST NOT contain more than one name of the same name_type" */
        }
        for (size_t i = 0; i < name.len; i++) {
            if (name.p[i] < 0x21U || name.p[i] > 0x7EU) {
                return false;
            }
        }
        *host = name.p;
        *host_len = name.len;
    }
    return true;
}

/* ClientHello body (RFC 8446 §4.1.2; the TLS 1.2 form of RFC 5246
 * §7.4.1.2 is the same up to the optional extensions block). */
static bool hello_parse(cur_t *h, bool *is_acme, const uint8_t **host, size_t *host_len)
{
    size_t v;
    cur_t skip;
    if (!get_uint(h, 2, &v) || (v >> 8) != 3U) {
        return false; /* legacy_version: SSL 3.0 .. TLS 1.2 */
    }
    if (cur_left(h) < 32U) {
        return false;
    }
    h->off += 32U; /* random */
    /* legacy_session_id, cipher_suites (pairs), legacy_compression_methods */
    if (!get_vec(h, 1, 0, 32, &skip) || !get_vec(h, 2, 2, 0xFFFEU, &skip) ||
        (skip.len & 1U) != 0U || !get_vec(h, 1, 1, 0xFFU, &skip)) {
        return false;
    }
    if (cur_left(h) == 0U) {
        return true; /* no extensions (TLS 1.2 only) */
    }
    cur_t exts;
    if (!get_vec(h, 2, 0, 0xFFFFU, &exts) || cur_left(h) != 0U) {
        return false;
    }
    bool seen_alpn = false;
    while (cur_left(&exts) > 0U) {
        size_t type;
        cur_t ext;
        if (!get_uint(&exts, 2, &type) || !get_vec(&exts, 2, 0, 0xFFFFU, &ext)) {
            return false;
        }
        /* RFC 8446 §4.2: no extension type twice */
        if (type == TLS_EXT_ALPN) {
            if (seen_alpn || !alpn_parse(&ext, is_acme)) {
                return false;
            }
            seen_alpn = true;
        } else if (type == TLS_EXT_SNI) {
            if (*host != NULL || !sni_parse(&ext, host, host_len) || *host == NULL) {
                return false;
            }
        }
    }
    return true;
}

/* Only a ClientHello that fits in the first record is read (every
 * ClientHello seen in practice, post-quantum key shares included, does).
 * One fragmented over several records is PICOACME_ERR_PARSE, as is one
 * followed by anything else in the same record. Bytes after the first
 * record are not looked at. */
picoacme_err_t picoacme_tls_clienthello_alpn(const uint8_t *buf, size_t len, bool *is_acme,
                                             char *sni, size_t sni_cap)
{
    if ((buf == NULL && len != 0U) || is_acme == NULL || (sni != NULL && sni_cap == 0U)) {
        return PICOACME_ERR_PARAM;
    }
    *is_acme = false;
    if (sni != NULL) {
        sni[0] = '\0';
    }
    /* Fail fast on what has arrived: plain HTTP, SSLv2 hellos, alerts. */
    if ((len > 0U && buf[0] != TLS_CT_HANDSHAKE) || (len > 1U && buf[1] != 3U) ||
        (len > 2U && buf[2] > 4U) || (len > 5U && buf[5] != TLS_HS_CLIENT_HELLO)) {
        return PICOACME_ERR_PARSE;
    }
    if (len < 5U) {
        return PICOACME_AGAIN;
    }
    size_t rec_len = ((size_t)buf[3] << 8) | buf[4];
    if (rec_len < 4U || rec_len > TLS_RECORD_MAX) {
        return PICOACME_ERR_PARSE;
    }
    if (len - 5U < rec_len) {
        return PICOACME_AGAIN;
    }
    cur_t rec = {buf + 5, rec_len, 1};
    cur_t hello;
    if (!get_vec(&rec, 3, 0, rec_len - 4U, &hello) || cur_left(&rec) != 0U) {
        return PICOACME_ERR_PARSE;
    }
    bool acme = false;
    const uint8_t *host = NULL;
    size_t host_len = 0;
    if (!hello_parse(&hello, &acme, &host, &host_len)) {
        return PICOACME_ERR_PARSE;
    }
    if (sni != NULL && host != NULL) {
        if (host_len >= sni_cap) {
            return PICOACME_ERR_NOSPACE;
        }
        memcpy(sni, host, host_len);
        sni[host_len] = '\0';
    }
    *is_acme = acme;
    return PICOACME_OK;
}
