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

/* Parse the text s[0..len) (no NUL needed) as an IPv4 dotted quad (no
 * leading zeros) or an IPv6 address (RFC 4291 §2.2 text forms, "::"
 * compression and a trailing dotted quad included, no zone index) into the
 * caller's out in network order; *out_len gets 4 or 16 (0 on failure).
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (NULL pointer);
 * PICOACME_ERR_PARSE (anything else). */
picoacme_err_t picoacme_ip_parse(const char *s, size_t len, uint8_t out[16], size_t *out_len);

/* Build a DER PKCS#10 CertificationRequest (RFC 2986) for the P-256 key in
 * slot into the caller's out[0..cap): subject CN = the first identifier
 * when it is a DNS name of at most 64 bytes (else an empty subject and a
 * critical SAN), an extensionRequest with a subjectAltName holding every
 * identifier of ids[0..n_ids) (dNSName / iPAddress), signed
 * ecdsa-with-SHA256 through crypto (key_public, key_sign, sha256).
 * *out_len gets the DER length (0 on failure). Nothing is allocated; ids
 * are only read; out may hold partial bytes after a failure.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (a NULL pointer or port
 * function, n_ids 0, bad slot, a malformed identifier);
 * PICOACME_ERR_NOSPACE (cap too small); an error of crypto->key_public,
 * sha256 or key_sign. */
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

/* Parse the X.509 certificate der[0..len) (RFC 5280 §4.1; v1 to v3) into
 * out. Strict DER lengths, bounded depth, nothing after the certificate.
 * The signature is not verified (TLS and openssl do that). out's pointers
 * point into der, which stays the caller's and must outlive out; nothing
 * is copied but the key. On failure out is zeroed.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (NULL der or out);
 * PICOACME_ERR_PARSE (anything malformed). */
picoacme_err_t picoacme_x509_parse(const uint8_t *der, size_t len, picoacme_x509_t *out);

/* Iterate the SAN of a parsed certificate c: start with *pos = 0. The
 * next dNSName (*type PICOACME_ID_DNS, printable ASCII, no NUL) or
 * iPAddress (PICOACME_ID_IP, 4 or 16 bytes) is returned in *val and
 * *val_len, pointing into the certificate's DER; other name types are
 * skipped.
 * Returns one of: PICOACME_OK; PICOACME_ERR_NOT_FOUND (no SAN, or the
 * end); PICOACME_ERR_PARAM (NULL pointer, *pos past the SAN);
 * PICOACME_ERR_PARSE (a malformed name). */
picoacme_err_t picoacme_x509_san_next(const picoacme_x509_t *c, size_t *pos,
                                      picoacme_id_type_t *type, const uint8_t **val,
                                      size_t *val_len);

/* Decode the next "-----BEGIN CERTIFICATE-----" block (RFC 7468) of the
 * PEM text pem[0..len) from *pos on into the caller's der[0..cap);
 * *der_len gets the DER length (0 on failure) and *pos moves past the END
 * line (to len when there is no further block).
 * Returns one of: PICOACME_OK; PICOACME_ERR_NOT_FOUND (no further block);
 * PICOACME_ERR_PARAM (NULL pointer, *pos > len); PICOACME_ERR_PARSE (no
 * END line, bad or empty base64); PICOACME_ERR_NOSPACE (cap too small). */
picoacme_err_t picoacme_pem_next(const char *pem, size_t len, size_t *pos, uint8_t *der, size_t cap,
                                 size_t *der_len);

/* The tls-alpn-01 declarations used to be here; at the end, as they use
 * the types above. */
#include "picoacme_alpn.h"

#endif
