/*
 * picoacme_lifecycle.h - account and certificate lifecycle (RFC 8555
 * §7.3.5, §7.3.6, §7.6), PICOACME_LIFECYCLE. Included by picoacme.h.
 *
 * Each start begins a run pumped by picoacme_step() like an issuance: the
 * directory, then the stored account of this directory is looked up
 * (newAccount with onlyReturnExisting, signed with its stored key; a missing
 * account is an error, never created; with EAB configured nothing changes),
 * then the one request below. PICOACME_OK from picoacme_step() means the CA
 * accepted it. No listener is opened; picoacme_result() is
 * PICOACME_ERR_STATE afterwards.
 * Each start returns one of: PICOACME_OK (pump with picoacme_step());
 * PICOACME_ERR_PARAM; PICOACME_ERR_NOT_FOUND (the store holds no account
 * key of this directory, or for a revocation no certificate);
 * PICOACME_ERR_CRYPTO; PICOACME_ERR_UNSUPPORTED (not built in).
 */
#ifndef PICOACME_LIFECYCLE_H
#define PICOACME_LIFECYCLE_H

#include "picoacme.h"

/* Revoke the stored leaf certificate (§7.6), signed with the account key
 * (kid). reason: an RFC 5280 §5.3.1 CRLReason code (0..10 except 7), or -1
 * to send none. The store keeps the record (and the revoked certificate). */
picoacme_err_t picoacme_revoke_start(picoacme_ctx_t *ctx, int reason);

/* Account key rollover (§7.3.5): a new key is generated in slot
 * PICOACME_KEY_CHALLENGE; the inner JWS {"account", "oldKey"} is signed by
 * it (protected alg, jwk, url; no nonce), the outer one by the old key (kid)
 * to keyChange. On the CA's 200 the new key is imported into
 * PICOACME_KEY_ACCOUNT and the store record is rewritten with it (the A/B
 * store keeps the old record until the new one is complete). When that write
 * fails, picoacme_step() returns the store's error: the CA already knows
 * only the new key, which stays in PICOACME_KEY_ACCOUNT. A crypto port
 * that keeps keys in hardware (key_ref set) cannot move the new key into
 * the account slot: PICOACME_ERR_UNSUPPORTED before anything is sent. */
picoacme_err_t picoacme_key_rollover_start(picoacme_ctx_t *ctx);

/* Deactivate the stored account (§7.3.6): POST {"status":"deactivated"} to
 * the account URL; the CA's answer must say "deactivated". The store keeps
 * the record; the CA refuses that account from then on. */
picoacme_err_t picoacme_account_deactivate_start(picoacme_ctx_t *ctx);

#endif
