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

/* The public JWK of a P-256 key in RFC 7638 canonical member order:
 * {"crv":"P-256","kty":"EC","x":"...","y":"..."}. No NUL written. */
picoacme_err_t picoacme_jwk_write(const uint8_t pub[64], char *out, size_t cap, size_t *out_len);

/* base64url(SHA-256(canonical JWK)) of the key in slot; out gets
 * PICOACME_THUMBPRINT_LEN characters and a NUL. */
picoacme_err_t picoacme_jwk_thumbprint(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                       char out[PICOACME_THUMBPRINT_LEN + 1U]);

/* Write the flattened JWS {"protected":..,"payload":..,"signature":..}
 * into out. protected_json is the protected header (the caller writes alg,
 * jwk or kid, nonce, url); payload may be empty (POST-as-GET, §6.3). The
 * signature is ES256 with the key in slot through crypto. */
picoacme_err_t picoacme_jws_es256(const picoacme_crypto_t *crypto, picoacme_key_slot_t slot,
                                  const char *protected_json, size_t protected_len,
                                  const char *payload, size_t payload_len, char *out, size_t cap,
                                  size_t *out_len);

/* Same with HS256 and a MAC key (External Account Binding, §7.3.4). */
picoacme_err_t picoacme_jws_hs256(const picoacme_crypto_t *crypto, const uint8_t *key,
                                  size_t key_len, const char *protected_json, size_t protected_len,
                                  const char *payload, size_t payload_len, char *out, size_t cap,
                                  size_t *out_len);

#endif
