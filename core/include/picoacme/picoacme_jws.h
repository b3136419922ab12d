/*
 * picoacme_jws.h - flattened JWS (RFC 7515 §7.2.2) with ES256 (RFC 7518
 * §3.4: the signature is raw r||s) and the JWK thumbprint (RFC 7638), as
 * ACME uses them (RFC 8555 §6.2).
 */
#ifndef PICOACME_JWS_H
#define PICOACME_JWS_H

#include <stddef.h>
#include <stdint.h>

#include "picoacme_err.h"
#include "picoacme_port.h"

/* Length of a base64url SHA-256 (the thumbprint) without NUL. */
#define PICOACME_THUMBPRINT_LEN 43U

/* The public JWK of the P-256 key pub (X||Y) in RFC 7638 canonical member
 * order, {"crv":"P-256","kty":"EC","x":"...","y":"..."}, into the caller's
 * out[0..cap); *out_len gets its length. No NUL written.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (NULL pointer);
 * PICOACME_ERR_NOSPACE (cap too small; out may hold partial bytes). */
picoacme_err_t picoacme_jwk_write(const uint8_t pub[64], char *out, size_t cap, size_t *out_len);

/* base64url(SHA-256(canonical JWK)) (RFC 7638 §3) of the key in slot,
 * through crypto (key_public, sha256; crypto must not be NULL); the
 * caller's out gets PICOACME_THUMBPRINT_LEN characters and a NUL.
 * Returns one of: PICOACME_OK; an error of crypto->key_public or sha256. */
picoacme_err_t picoacme_jwk_thumbprint(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                       char out[PICOACME_THUMBPRINT_LEN + 1U]);

/* Write the flattened JWS {"protected":..,"payload":..,"signature":..}
 * into the caller's out[0..cap) (no NUL); *out_len gets its length.
 * protected_json[0..protected_len) is the protected header (the caller
 * writes alg, jwk or kid, nonce, url); payload may be NULL with
 * payload_len 0 (POST-as-GET, RFC 8555 §6.3). The signature is ES256 with
 * the key in slot through crypto (sha256, key_sign). The inputs are only
 * read and must not overlap out.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (NULL pointer);
 * PICOACME_ERR_NOSPACE (cap too small; checked before anything is signed
 * for the header and payload); an error of crypto->sha256 or key_sign. */
picoacme_err_t picoacme_jws_es256(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                  const char *protected_json, size_t protected_len,
                                  const char *payload, size_t payload_len, char *out, size_t cap,
                                  size_t *out_len);

/* Same with HS256 and the MAC key key[0..key_len) (External Account
 * Binding, RFC 8555 §7.3.4) through crypto->hmac_sha256; payload must not
 * be NULL here.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (NULL pointer);
 * PICOACME_ERR_NOSPACE; an error of crypto->hmac_sha256. */
picoacme_err_t picoacme_jws_hs256(const picoacme_crypto_t *crypto, const uint8_t *key,
                                  size_t key_len, const char *protected_json, size_t protected_len,
                                  const char *payload, size_t payload_len, char *out, size_t cap,
                                  size_t *out_len);

#endif
