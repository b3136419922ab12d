/*
 * picoacme_x509.h - the DER that ACME needs, written and read by hand:
 * PKCS#10 CSRs for a P-256 key with DNS and IP SANs (signed through the
 * crypto port, so the key may live in a secure element), certificate
 * parsing for validity, SANs, key and the ARI CertID parts, PEM blocks and
 * IP address text. The tls-alpn-01 functions are in picoacme_alpn.h,
 * included at the end for code written before they moved there.
 */
#ifndef PICOACME_X509_H
#define PICOACME_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme_err.h"
#include "picoacme_port.h"
#include "picoacme_time.h"

typedef enum picoacme_id_type { PICOACME_ID_DNS = 0, PICOACME_ID_IP = 1 } picoacme_id_type_t;

/* One identifier of an order: a DNS name ("a.example", "*.example") or an
 * IP address in text form ("192.0.2.1", "2001:db8::1"). */
typedef struct picoacme_ident {
    picoacme_id_type_t type;
    const char *value; /* NUL-terminated */
} picoacme_ident_t;

/* Parse an IPv4 dotted quad or an IPv6 address (RFC 4291 §2.2 text forms,
 * "::" compression and a trailing dotted quad included) into network-order
 * bytes; *out_len is 4 or 16. PICOACME_ERR_PARSE otherwise. */
picoacme_err_t picoacme_ip_parse(const char *s, size_t len, uint8_t out[16], size_t *out_len);

/* Build a DER PKCS#10 CertificationRequest (RFC 2986) for the P-256 key in
 * slot: empty subject (or CN = first DNS identifier), an extensionRequest
 * with subjectAltName holding every identifier (dNSName / iPAddress),
 * signed ecdsa-with-SHA256 through crypto. */
picoacme_err_t picoacme_csr_build(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                  const picoacme_ident_t *ids, size_t n_ids, uint8_t *out,
                                  size_t cap, size_t *out_len);

/* What the engine reads from a certificate. Pointers point into the DER
 * given to picoacme_x509_parse(). */
typedef struct picoacme_x509 {
    int64_t not_before_s;
    int64_t not_after_s;
    bool ec_p256;          /* key is id-ecPublicKey on prime256v1 */
    uint8_t pub[64];       /* X||Y when ec_p256 */
    const uint8_t *serial; /* INTEGER contents, for the ARI CertID */
    size_t serial_len;
    const uint8_t *aki; /* authorityKeyIdentifier keyIdentifier, or NULL */
    size_t aki_len;
    const uint8_t *san; /* contents of the SAN GeneralNames SEQUENCE, or NULL */
    size_t san_len;
} picoacme_x509_t;

/* Parse an X.509 v3 certificate (RFC 5280). Strict DER lengths, bounded
 * depth; PICOACME_ERR_PARSE on anything malformed. The signature is not
 * verified (TLS and openssl do that). */
picoacme_err_t picoacme_x509_parse(const uint8_t *der, size_t len, picoacme_x509_t *out);

/* Iterate the SAN: start with *pos = 0. Returns PICOACME_OK with the next
 * dNSName (PICOACME_ID_DNS, ASCII) or iPAddress (PICOACME_ID_IP, 4 or 16
 * bytes), PICOACME_ERR_NOT_FOUND at the end; other name types are skipped. */
picoacme_err_t picoacme_x509_san_next(const picoacme_x509_t *c, size_t *pos,
                                      picoacme_id_type_t *type, const uint8_t **val,
                                      size_t *val_len);

/* Decode the next "-----BEGIN CERTIFICATE-----" block of a PEM text
 * starting at *pos into DER; *pos moves past its END line.
 * PICOACME_ERR_NOT_FOUND when there is no further block. */
picoacme_err_t picoacme_pem_next(const char *pem, size_t len, size_t *pos, uint8_t *der, size_t cap,
                                 size_t *der_len);

/* The tls-alpn-01 declarations used to be here; at the end, as they use
 * the types above. */
#include "picoacme_alpn.h"

#endif
