/*
 * picoacme_pkcs11.h - a crypto port whose account and certificate keys
 * live in a PKCS#11 v2.40 token (an HSM, a smart card, SoftHSM2).
 *
 * The module is loaded at run time (dlopen + C_GetFunctionList). Keys of
 * PICOACME_KEY_ACCOUNT and PICOACME_KEY_CERT are generated in the token
 * (CKA_TOKEN, CKA_SENSITIVE true, CKA_EXTRACTABLE false) and sign there
 * (CKM_ECDSA over the SHA-256 digest; the token's r||s is the port's
 * format). key_export/key_import answer PICOACME_ERR_UNSUPPORTED for them;
 * the store keeps key_ref instead: the object's CKA_ID
 * (PICOACME_PKCS11_ID_LEN random bytes). Objects are labelled
 * "<prefix>-account" and "<prefix>-cert".
 *
 * Composed with a software port (sw): random bytes, SHA-256, HMAC and the
 * short-lived PICOACME_KEY_CHALLENGE slot (the tls-alpn-01 certificate's
 * key, whose scalar the TLS server needs) come from it.
 *
 * A new certificate key is created beside the old one (a new CKA_ID); the
 * old one stays until picoacme_pkcs11_prune() is called with the
 * references of the record that was stored, so a power cut at any point
 * leaves the stored certificate's key in the token.
 */
#ifndef PICOACME_PKCS11_H
#define PICOACME_PKCS11_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme_port.h"

#define PICOACME_PKCS11_ID_LEN 16U

typedef struct picoacme_pkcs11 {
    void *dl;                               /* dlopen handle of the module */
    void *fl;                               /* its CK_FUNCTION_LIST */
    unsigned long session;                  /* CK_SESSION_HANDLE, logged in */
    bool initialized;                       /* C_Initialize succeeded */
    bool open;                              /* a session is open */
    unsigned long priv[PICOACME_KEY_SLOTS]; /* CK_OBJECT_HANDLEs of the slots */
    unsigned long pub[PICOACME_KEY_SLOTS];
    uint8_t id[PICOACME_KEY_SLOTS][PICOACME_PKCS11_ID_LEN];
    bool have[PICOACME_KEY_SLOTS];
    const picoacme_crypto_t *sw;
    char prefix[32]; /* label prefix */
    char token[33];  /* the token label */
    char why[200];   /* the last failure, for the user */
} picoacme_pkcs11_t;

/* Load module (a path), open the token labelled token, log in as the user
 * with pin and fill out. sw: a working software crypto port, kept by
 * pointer (it must outlive p). prefix: the label prefix of picoacme's
 * objects (NULL: "picoacme"). Returns PICOACME_OK; PICOACME_ERR_PARAM;
 * PICOACME_ERR_NOT_FOUND (the module cannot be loaded or no token has that
 * label); PICOACME_ERR_CRYPTO (login refused, e.g. a wrong PIN, or the
 * module failed). p->why says which, in words. On failure nothing stays
 * open. */
picoacme_err_t picoacme_pkcs11_open(picoacme_pkcs11_t *p, const char *module, const char *token,
                                    const char *pin, const char *prefix,
                                    const picoacme_crypto_t *sw, picoacme_crypto_t *out);

/* Destroy picoacme's key objects (private and public, both labels) whose
 * CKA_ID is none of keep[0..n) (each PICOACME_PKCS11_ID_LEN bytes) and
 * which no slot of p holds. *destroyed: how many objects went (may be
 * NULL). Returns PICOACME_OK or PICOACME_ERR_CRYPTO (p->why). */
picoacme_err_t picoacme_pkcs11_prune(picoacme_pkcs11_t *p, const uint8_t (*keep)[16], size_t n,
                                     unsigned *destroyed);

/* Forget what slot holds (the token object stays). */
void picoacme_pkcs11_forget(picoacme_pkcs11_t *p, picoacme_key_slot_t slot);

/* Log out, close the session, finalize and unload the module. */
void picoacme_pkcs11_close(picoacme_pkcs11_t *p);

#endif
