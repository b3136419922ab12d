/*
 * alpn_cert.c - the tls-alpn-01 challenge certificate (RFC 8737 §3, with IP
 * identifiers from RFC 8738 §3): self-signed, carrying the identifier as
 * its one SAN and the critical id-pe-acmeIdentifier extension.
 *
 * No allocation, no recursion: the TBSCertificate is written DER_SIGN_OFF
 * bytes into the caller's buffer with the DER writer of der.h, hashed and
 * signed, then moved down behind the exact outer header (der_write.c), as
 * picoacme_csr_build() does.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "picoacme_alpn.h"
#include "picoacme_time.h"

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

/* A validity bound as text: UTCTime or GeneralizedTime. */
typedef struct cert_time {
    uint8_t tag;
    uint8_t len;
    uint8_t txt[15];
} cert_time_t;

/* What goes into the certificate besides the key, and the sizes of the
 * nested parts (contents lengths), computed before anything is written. */
typedef struct cert_parts {
    cert_time_t nb, na;
    uint8_t gn_tag; /* the one GeneralName */
    const uint8_t *gn_val;
    size_t gn_len;
    uint8_t ip[16];
    uint8_t sn[SERIAL_LEN];
    size_t validity; /* Validity contents */
    size_t gns;      /* extnValue of the SAN: GeneralNames, header included */
    size_t san_ext;  /* the SAN Extension, header included */
    size_t acme_ext; /* the acmeIdentifier Extension, header included */
    size_t tbs_body; /* TBSCertificate contents */
} cert_parts_t;

/* Unix seconds to a UTCTime (years 1950..2049) or GeneralizedTime (other
 * years), RFC 5280 §4.1.2.5. t must be in [0, TIME_MAX_S]. */
static void time_encode(int64_t t, cert_time_t *ct)
{
    picoacme_civil_t c;
    size_t n = 0;

    (void)picoacme_unix_to_civil(t, &c); /* t is in range: checked by the caller */
    int f[6] = {c.year % 100, c.mon, c.day, c.hour, c.min, c.sec};
    ct->tag = c.year >= 1950 && c.year <= 2049 ? TAG_UTCTIME : TAG_GENTIME;
    if (ct->tag == TAG_GENTIME) {
        ct->txt[n++] = (uint8_t)('0' + c.year / 1000 % 10);
        ct->txt[n++] = (uint8_t)('0' + c.year / 100 % 10);
    }
    for (size_t i = 0; i < 6U; i++) {
        ct->txt[n++] = (uint8_t)('0' + f[i] / 10);
        ct->txt[n++] = (uint8_t)('0' + f[i] % 10);
    }
    ct->txt[n++] = 'Z';
    ct->len = (uint8_t)n;
}

/* RFC 8737 §3: validity is not checked by validators; keep it short and
 * around now, or a fixed year when the clock is unknown. */
static bool validity_make(int64_t now_s, cert_parts_t *c)
{
    int64_t nb = UNKNOWN_NOT_BEFORE_S;
    int64_t na = UNKNOWN_NOT_AFTER_S;

    if (now_s != PICOACME_TIME_UNKNOWN) {
        if (now_s < DAY_S || now_s > TIME_MAX_S - 7 * DAY_S) {
            return false;
        }
        nb = now_s - DAY_S;
        na = now_s + 7 * DAY_S;
    }
    time_encode(nb, &c->nb);
    time_encode(na, &c->na);
    return true;
}

/* The one GeneralName of the SAN: dNSName (no wildcard: RFC 8737 §3 is not
 * for wildcard names) or iPAddress (RFC 8738 §3). */
static bool ident_value(const picoacme_ident_t *id, cert_parts_t *c)
{
    size_t n = name_len(id->value);

    if (id->type == PICOACME_ID_DNS) {
        c->gn_tag = TAG_GN_DNS;
        c->gn_val = (const uint8_t *)id->value;
        c->gn_len = n;
        return dns_name_ok(id->value, n) && memchr(id->value, '*', n) == NULL;
    }
    c->gn_tag = TAG_GN_IP;
    c->gn_val = c->ip;
    return id->type == PICOACME_ID_IP && n <= DNS_NAME_MAX &&
           picoacme_ip_parse(id->value, n, c->ip, &c->gn_len) == PICOACME_OK;
}

/* Sizes, inside out. */
static void layout(cert_parts_t *c)
{
    const size_t version = 5; /* [0] { INTEGER 2 } */
    size_t sig_alg = tlv_size(tlv_size(sizeof oid_ecdsa_sha256));
    size_t name = der_cn_name_size(CERT_CN_LEN);

    c->validity = tlv_size(c->nb.len) + tlv_size(c->na.len);
    c->gns = tlv_size(tlv_size(c->gn_len));
    c->san_ext = tlv_size(tlv_size(sizeof oid_san) + tlv_size(c->gns));
    c->acme_ext = tlv_size(tlv_size(sizeof oid_acme_id) + 3U + tlv_size(tlv_size(32)));
    size_t exts = tlv_size(tlv_size(c->san_ext + c->acme_ext));
    c->tbs_body = version + tlv_size(SERIAL_LEN) + sig_alg + name + tlv_size(c->validity) + name +
                  der_spki_size() + exts;
}

/* A random positive serial of exactly 16 octets: top bit clear, first
 * octet non-zero so the INTEGER is minimal (RFC 5280 §4.1.2.2). */
static picoacme_err_t serial_make(const picoacme_crypto_t *crypto, uint8_t sn[SERIAL_LEN])
{
    picoacme_err_t err = crypto->random(crypto->user, sn, SERIAL_LEN);

    sn[0] &= 0x7FU;
    if (sn[0] == 0U) {
        sn[0] = 0x01U;
    }
    return err;
}

/* extensions [3] EXPLICIT SEQUENCE OF Extension: the subjectAltName (not
 * critical: the subject is not empty, RFC 5280 §4.2.1.6) and the critical
 * acmeIdentifier whose extnValue is the DER of Authorization ::= OCTET
 * STRING (SIZE (32)) (RFC 8737 §3). */
static void put_extensions(util_wbuf_t *w, const cert_parts_t *c, const uint8_t keyauth[32])
{
    static const uint8_t der_true = 0xFF;

    picoacme_der_hdr(w, TAG_CTX3_CONS, tlv_size(c->san_ext + c->acme_ext));
    picoacme_der_hdr(w, TAG_SEQUENCE, c->san_ext + c->acme_ext);
    picoacme_der_hdr(w, TAG_SEQUENCE, tlv_size(sizeof oid_san) + tlv_size(c->gns));
    picoacme_der_tlv(w, TAG_OID, oid_san, sizeof oid_san);
    picoacme_der_hdr(w, TAG_OCTET_STRING, c->gns);
    picoacme_der_hdr(w, TAG_SEQUENCE, tlv_size(c->gn_len));
    picoacme_der_tlv(w, c->gn_tag, c->gn_val, c->gn_len);
    picoacme_der_hdr(w, TAG_SEQUENCE, tlv_size(sizeof oid_acme_id) + 3U + tlv_size(tlv_size(32)));
    picoacme_der_tlv(w, TAG_OID, oid_acme_id, sizeof oid_acme_id);
    picoacme_der_tlv(w, TAG_BOOLEAN, &der_true, 1);
    picoacme_der_hdr(w, TAG_OCTET_STRING, tlv_size(32));
    picoacme_der_tlv(w, TAG_OCTET_STRING, keyauth, 32);
}

/* TBSCertificate (RFC 5280 §4.1), v3, issuer = subject. */
static void put_tbs(util_wbuf_t *w, const cert_parts_t *c, const uint8_t pub[64],
                    const uint8_t keyauth[32])
{
    static const uint8_t v3 = 2;

    picoacme_der_hdr(w, TAG_SEQUENCE, c->tbs_body);
    picoacme_der_hdr(w, TAG_CTX0_CONS, 3); /* version [0] EXPLICIT v3 */
    picoacme_der_tlv(w, TAG_INTEGER, &v3, 1);
    picoacme_der_tlv(w, TAG_INTEGER, c->sn, sizeof c->sn);
    picoacme_der_hdr(w, TAG_SEQUENCE, tlv_size(sizeof oid_ecdsa_sha256));
    picoacme_der_tlv(w, TAG_OID, oid_ecdsa_sha256, sizeof oid_ecdsa_sha256);
    der_put_cn_name(w, cert_cn, CERT_CN_LEN); /* issuer */
    picoacme_der_hdr(w, TAG_SEQUENCE, c->validity);
    picoacme_der_tlv(w, c->nb.tag, c->nb.txt, c->nb.len);
    picoacme_der_tlv(w, c->na.tag, c->na.txt, c->na.len);
    der_put_cn_name(w, cert_cn, CERT_CN_LEN); /* subject */
    der_put_spki(w, pub);
    put_extensions(w, c, keyauth);
}

/* The port functions this needs are there, and slot is a key slot. */
static bool crypto_ok(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot)
{
    return crypto != NULL && crypto->random != NULL && crypto->sha256 != NULL &&
           crypto->key_public != NULL && crypto->key_sign != NULL &&
           (unsigned)slot < (unsigned)PICOACME_KEY_SLOTS;
}

picoacme_err_t picoacme_alpn_cert_build(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                        const picoacme_ident_t *id,
                                        const uint8_t keyauth_sha256[32], int64_t now_s,
                                        uint8_t *out, size_t cap, size_t *out_len)
{
    cert_parts_t c;
    uint8_t pub[64];
    util_wbuf_t w;

    if (!crypto_ok(crypto, slot) || id == NULL || id->value == NULL || keyauth_sha256 == NULL ||
        out == NULL || out_len == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *out_len = 0;
    if (!validity_make(now_s, &c) || !ident_value(id, &c)) {
        return PICOACME_ERR_PARAM;
    }
    layout(&c);
    size_t tbs = tlv_size(c.tbs_body);
    if (tbs > cap || DER_SIGN_OFF > cap - tbs) {
        return PICOACME_ERR_NOSPACE;
    }
    picoacme_err_t err = crypto->key_public(crypto->user, slot, pub);
    if (err == PICOACME_OK) {
        err = serial_make(crypto, c.sn);
    }
    if (err != PICOACME_OK) {
        return err;
    }
    util_wbuf_init(&w, out, cap);
    w.len = DER_SIGN_OFF;
    put_tbs(&w, &c, pub, keyauth_sha256);
    if (w.over || w.len != DER_SIGN_OFF + tbs) {
        return PICOACME_ERR_NOSPACE;
    }
    /* Sign SHA-256(TBSCertificate), ecdsa-with-SHA256 (RFC 5758 §3.2). */
    return picoacme_der_sign_wrap(crypto, slot, out, cap, tbs, out_len);
}
