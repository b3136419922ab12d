/*
 * picoacme_b64.h - base64url (RFC 4648 §5, no padding) for JWS and
 * standard base64 (§4) for PEM. Bounded, no allocation.
 */
#ifndef PICOACME_B64_H
#define PICOACME_B64_H

#include <stddef.h>
#include <stdint.h>

#include "picoacme_err.h"

/* Encoded length of n bytes in base64url without padding. */
#define PICOACME_B64URL_LEN(n) (((n)*4U + 2U) / 3U)
/* Encoded length of n bytes in padded standard base64. */
#define PICOACME_B64_LEN(n) ((((n) + 2U) / 3U) * 4U)

/* Encode in to base64url without padding; no NUL is written.
 * PICOACME_ERR_NOSPACE if cap < PICOACME_B64URL_LEN(in_len). */
picoacme_err_t picoacme_b64url_encode(const uint8_t *in, size_t in_len, char *out, size_t cap,
                                      size_t *out_len);

/* Decode base64url without padding (padding '=' is rejected, as are
 * characters outside the URL-safe alphabet and non-zero trailing bits).
 * out may alias in. */
picoacme_err_t picoacme_b64url_decode(const char *in, size_t in_len, uint8_t *out, size_t cap,
                                      size_t *out_len);

/* Encode standard padded base64; no line breaks, no NUL. */
picoacme_err_t picoacme_b64_encode(const uint8_t *in, size_t in_len, char *out, size_t cap,
                                   size_t *out_len);

/* Decode standard base64, skipping CR, LF, space and tab (PEM bodies);
 * padding is required to be correct. */
picoacme_err_t picoacme_b64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap,
                                   size_t *out_len);

#endif
