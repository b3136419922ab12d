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

/* Encode in[0, in_len) to base64url without padding into the caller's out
 * (cap bytes); no NUL is written; *out_len gets the length.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (a NULL pointer);
 * PICOACME_ERR_NOSPACE (cap < PICOACME_B64URL_LEN(in_len)). */
picoacme_err_t picoacme_b64url_encode(const uint8_t *in, size_t in_len, char *out, size_t cap,
                                      size_t *out_len);

/* Decode base64url without padding into the caller's out (cap bytes; out
 * may alias in); *out_len gets the length. Padding '=', characters outside
 * the URL-safe alphabet and non-zero trailing bits are rejected.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM; PICOACME_ERR_PARSE;
 * PICOACME_ERR_NOSPACE. */
picoacme_err_t picoacme_b64url_decode(const char *in, size_t in_len, uint8_t *out, size_t cap,
                                      size_t *out_len);

/* Encode standard padded base64 into the caller's out (cap bytes); no
 * line breaks, no NUL.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM; PICOACME_ERR_NOSPACE
 * (cap < PICOACME_B64_LEN(in_len)). */
picoacme_err_t picoacme_b64_encode(const uint8_t *in, size_t in_len, char *out, size_t cap,
                                   size_t *out_len);

/* Decode standard base64 into the caller's out (cap bytes), skipping CR,
 * LF, space and tab (PEM bodies); padding is required to be correct.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM; PICOACME_ERR_PARSE;
 * PICOACME_ERR_NOSPACE. */
picoacme_err_t picoacme_b64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap,
                                   size_t *out_len);

#endif
