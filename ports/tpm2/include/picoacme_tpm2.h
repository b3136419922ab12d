/*
 * picoacme_tpm2.h - a crypto port whose account and certificate keys live
 * in a TPM 2.0, through tpm2-tss ESAPI (Debian libtss2-dev).
 *
 * Keys of PICOACME_KEY_ACCOUNT and PICOACME_KEY_CERT are ECC P-256 signing
 * keys created under the owner hierarchy's storage key (an ECC P-256
 * primary made from the standard template, flushed after use) and made
 * persistent at a free handle in [PICOACME_TPM2_HANDLE_FIRST,
 * PICOACME_TPM2_HANDLE_FIRST + PICOACME_TPM2_HANDLES). Signing (ECDSA,
 * SHA-256 digest) and the public key read happen in the TPM. The store
 * keeps key_ref: the 4-byte persistent handle, big endian (tpm2-openssl
 * uses the key as "handle:0x8100ac00"). Transient objects are flushed at
 * once: a TPM with no resource manager (swtpm) holds only 3.
 *
 * Composed with a software port (sw) for random bytes, hashes and the
 * tls-alpn-01 challenge slot. A new certificate key is made persistent
 * beside the old one; picoacme_tpm2_prune() evicts what the stored record
 * no longer names.
 */
#ifndef PICOACME_TPM2_H
#define PICOACME_TPM2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme_port.h"

#define PICOACME_TPM2_HANDLE_FIRST 0x8100AC00U
#define PICOACME_TPM2_HANDLES      64U

typedef struct picoacme_tpm2 {
    void *tcti; /* TSS2_TCTI_CONTEXT */
    void *esys; /* ESYS_CONTEXT */
    uint32_t handle[PICOACME_KEY_SLOTS];
    uint32_t tr[PICOACME_KEY_SLOTS]; /* ESYS_TR of the persistent objects */
    bool have[PICOACME_KEY_SLOTS];
    const picoacme_crypto_t *sw;
    char why[200];
} picoacme_tpm2_t;

/* Connect to the TPM through tcti (a tpm2-tss TCTI string such as
 * "swtpm:host=127.0.0.1,port=2321", "device:/dev/tpmrm0" or
 * "tabrmd:bus_type=session"; NULL: the library's default) and fill out.
 * sw must outlive p. Returns PICOACME_OK; PICOACME_ERR_PARAM;
 * PICOACME_ERR_CRYPTO (no TPM answers: p->why says why). */
picoacme_err_t picoacme_tpm2_open(picoacme_tpm2_t *p, const char *tcti, const picoacme_crypto_t *sw,
                                  picoacme_crypto_t *out);

/* Evict the persistent keys of picoacme's handle range that are none of
 * keep[0..n) and that no slot of p holds. *evicted: how many (may be
 * NULL). Returns PICOACME_OK or PICOACME_ERR_CRYPTO (p->why). */
picoacme_err_t picoacme_tpm2_prune(picoacme_tpm2_t *p, const uint32_t *keep, size_t n,
                                   unsigned *evicted);

/* Forget what slot holds (the persistent key stays in the TPM). */
void picoacme_tpm2_forget(picoacme_tpm2_t *p, picoacme_key_slot_t slot);

/* Disconnect (the persistent keys stay in the TPM). */
void picoacme_tpm2_close(picoacme_tpm2_t *p);

#endif
