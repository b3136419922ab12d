/*
 * picoacme_alpn.h - the device side of tls-alpn-01 (RFC 8737) with IP
 * identifiers (RFC 8738): the self-signed challenge certificate, the name a
 * validator sends as SNI, and a bounded look at a ClientHello to tell an
 * ACME validator from an ordinary HTTPS client. picoacme_x509.h includes
 * this header, so code that includes only picoacme_x509.h keeps compiling.
 */
#ifndef PICOACME_ALPN_H
#define PICOACME_ALPN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme_err.h"
#include "picoacme_port.h"
#include "picoacme_x509.h"

/* The tls-alpn-01 challenge certificate (RFC 8737 §3), DER, into the
 * caller's out[0..cap): self-signed with the P-256 key in slot through
 * crypto (key_public, key_sign, sha256, random), subject and issuer CN
 * "picoacme tls-alpn-01", a random 16-byte positive serial, validity from
 * now_s - 1 day to now_s + 7 days (from 2020-01-01 for 1 year when now_s is
 * PICOACME_TIME_UNKNOWN), a subjectAltName with exactly the identifier id
 * (dNSName without wildcard, or iPAddress) and the critical
 * id-pe-acmeIdentifier extension (1.3.6.1.5.5.7.1.31) holding an OCTET
 * STRING of keyauth_sha256, the SHA-256 of the key authorization;
 * ecdsa-with-SHA256. *out_len gets the DER length (0 on failure). Nothing
 * is allocated; out may hold partial bytes after a failure.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (a NULL pointer or port
 * function, bad slot, a wildcard or malformed identifier, now_s outside
 * [1 day, 9999-12-24]); PICOACME_ERR_NOSPACE (cap too small); an error of
 * crypto->random, key_public, sha256 or key_sign. */
picoacme_err_t picoacme_alpn_cert_build(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                        const picoacme_ident_t *id,
                                        const uint8_t keyauth_sha256[32], int64_t now_s,
                                        uint8_t *out, size_t cap, size_t *out_len);

/* RFC 8737 §3 / RFC 8738 §6: the name a validator sends as SNI for an IP
 * identifier ip[0..ip_len) (text, no NUL needed): the reverse-DNS name
 * ("1.0.0.127.in-addr.arpa", nibbles under "ip6.arpa"), NUL-terminated into
 * the caller's out[0..cap); *out_len gets its length without the NUL.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (NULL pointer);
 * PICOACME_ERR_PARSE (ip is no IP address); PICOACME_ERR_NOSPACE (does not
 * fit with its NUL). */
picoacme_err_t picoacme_reverse_name(const char *ip, size_t ip_len, char *out, size_t cap,
                                     size_t *out_len);

/* Inspect the first len bytes of a TLS connection (a ClientHello record, as
 * peeked by an appliance's HTTPS server); buf stays the caller's and is
 * only read. *is_acme is true when it offers ALPN "acme-tls/1" (hand the
 * socket to picoacme_tlsalpn_adopt()). When sni is given, the server_name
 * is copied NUL-terminated into sni[0..sni_cap) ("" when there is none).
 * Only a ClientHello that fits in the first record is read.
 * Returns one of: PICOACME_OK; PICOACME_AGAIN (more bytes are needed);
 * PICOACME_ERR_PARAM (NULL is_acme, NULL buf with len > 0, sni_cap 0);
 * PICOACME_ERR_PARSE (no ClientHello, a malformed one, or one fragmented
 * over several records); PICOACME_ERR_NOSPACE (the server_name does not
 * fit in sni). */
picoacme_err_t picoacme_tls_clienthello_alpn(const uint8_t *buf, size_t len, bool *is_acme,
                                             char *sni, size_t sni_cap);

#endif
