/*
 * picoacme_challenge.h - answering challenges from the appliance's own
 * servers: http-01 (RFC 8555 §8.3) from its web server, tls-alpn-01
 * (RFC 8737) from its HTTPS server. These two may be called from another
 * task than the one that pumps the engine: define PICOACME_LOCK /
 * PICOACME_UNLOCK (see picoacme.h). Included by picoacme.h.
 */
#ifndef PICOACME_CHALLENGE_H
#define PICOACME_CHALLENGE_H

#include "picoacme.h"

/* http-01 for an appliance's own web server.
 * path:  the request path, path_len bytes ("/.well-known/acme-challenge/<token>").
 * out:   the caller's buffer of cap bytes; gets the key authorization
 *        (token "." thumbprint, §8.1, not NUL-terminated), *out_len its length.
 * A served token wakes the engine's authorization poll early.
 * Returns one of: PICOACME_OK; PICOACME_ERR_NOT_FOUND (any other path, an
 * unknown token, no issuance running); PICOACME_ERR_NOSPACE (cap too
 * small); PICOACME_ERR_PARAM. */
picoacme_err_t picoacme_http01_lookup(picoacme_ctx_t *ctx, const char *path, size_t path_len,
                                      char *out, size_t cap, size_t *out_len);

/* tls-alpn-01 for an appliance's own HTTPS server: after peeking a
 * ClientHello that picoacme_tls_clienthello_alpn() says offers
 * "acme-tls/1", hand the accepted transport socket over. On PICOACME_OK
 * the engine owns sock: it answers the handshake with the challenge
 * certificate from picoacme_step() and closes it.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM; PICOACME_ERR_STATE (no
 * tls-alpn-01 challenge pending, or another validation being served: the
 * caller keeps sock); PICOACME_ERR_UNSUPPORTED (not built in). */
picoacme_err_t picoacme_tlsalpn_adopt(picoacme_ctx_t *ctx, picoacme_sock_t sock);

#endif
