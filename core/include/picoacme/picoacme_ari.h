/*
 * picoacme_ari.h - ACME Renewal Information (RFC 9773), PICOACME_ARI.
 * Included by picoacme.h; may also be included on its own.
 */
#ifndef PICOACME_ARI_H
#define PICOACME_ARI_H

#include "picoacme.h"

/* Begin asking the CA when to renew the stored certificate: the directory,
 * then an unauthenticated GET of <renewalInfo>/<CertID> (§4.1), pumped by
 * picoacme_step() like an issuance. When that ends with PICOACME_OK,
 * picoacme_stored() reports a renew_at_s picked uniformly at random in the
 * CA's suggested window (the current time when that point has passed), ari
 * true and ari_retry_at_s; when the CA's directory has no renewalInfo it
 * also ends with PICOACME_OK and picoacme_stored() keeps the lifetime
 * fraction (ari false). A failure of the run leaves the fraction in place.
 * The window lives in the context only: after a reboot, ask again. Opens no
 * listener, generates no key.
 * Returns one of: PICOACME_OK (pump with picoacme_step());
 * PICOACME_ERR_PARAM (no ctx or directory); PICOACME_ERR_NOT_FOUND
 * (nothing stored); PICOACME_ERR_UNSUPPORTED (the stored certificate has no
 * authorityKeyIdentifier, or ARI is not built in); PICOACME_ERR_PARSE. */
picoacme_err_t picoacme_ari_start(picoacme_ctx_t *ctx);

/* The ARI CertID of a parsed certificate (§4.1): base64url(keyIdentifier of
 * the authorityKeyIdentifier) "." base64url(the serial number's DER INTEGER
 * contents, a leading 00 included), written NUL-terminated to out (the
 * caller's, cap bytes); *out_len gets its length without the NUL.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM; PICOACME_ERR_NOT_FOUND
 * (no AKI key identifier or serial); PICOACME_ERR_NOSPACE (does not fit
 * cap). */
picoacme_err_t picoacme_ari_certid(const picoacme_x509_t *c, char *out, size_t cap,
                                   size_t *out_len);

#endif
