/*
 * tpm2.c - the crypto port on a TPM 2.0 through ESAPI (picoacme_tpm2.h).
 * The account and certificate keys are persistent TPM objects under the
 * owner hierarchy; randomness, hashes and the tls-alpn-01 challenge slot
 * come from the software port it is composed with.
 */
#include "picoacme_tpm2.h"

#include <stdio.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

static picoacme_tpm2_t *tpm_of(void *user)
{
    return (picoacme_tpm2_t *)user;
}

static ESYS_CONTEXT *esys_of(const picoacme_tpm2_t *p)
{
    return (ESYS_CONTEXT *)p->esys;
}

static bool in_tpm(picoacme_key_slot_t slot)
{
    return slot == PICOACME_KEY_ACCOUNT || slot == PICOACME_KEY_CERT;
}

static picoacme_err_t tpm_fail(picoacme_tpm2_t *p, const char *call, TSS2_RC rc)
{
    snprintf(p->why, sizeof p->why, "TPM2 %s: %s (0x%x)", call, Tss2_RC_Decode(rc), (unsigned)rc);
    return PICOACME_ERR_CRYPTO;
}

static picoacme_err_t tpm_random(void *user, uint8_t *buf, size_t len)
{
    picoacme_tpm2_t *p = tpm_of(user);
    return p->sw->random(p->sw->user, buf, len);
}

static picoacme_err_t tpm_sha256(void *user, const picoacme_iov_t *iov, size_t iovcnt,
                                 uint8_t out[32])
{
    picoacme_tpm2_t *p = tpm_of(user);
    return p->sw->sha256(p->sw->user, iov, iovcnt, out);
}

static picoacme_err_t tpm_hmac(void *user, const uint8_t *key, size_t key_len,
                               const picoacme_iov_t *iov, size_t iovcnt, uint8_t out[32])
{
    picoacme_tpm2_t *p = tpm_of(user);
    return p->sw->hmac_sha256(p->sw->user, key, key_len, iov, iovcnt, out);
}

/* The owner hierarchy's ECC P-256 storage key (the TCG's SRK template);
 * the same template gives the same key, so nothing needs to persist. */
static TSS2_RC create_srk(picoacme_tpm2_t *p, ESYS_TR *srk)
{
    TPM2B_SENSITIVE_CREATE sens;
    TPM2B_PUBLIC pub;
    TPM2B_DATA outside;
    TPML_PCR_SELECTION pcr;
    memset(&sens, 0, sizeof sens);
    memset(&pub, 0, sizeof pub);
    memset(&outside, 0, sizeof outside);
    memset(&pcr, 0, sizeof pcr);
    pub.publicArea.type = TPM2_ALG_ECC;
    pub.publicArea.nameAlg = TPM2_ALG_SHA256;
    pub.publicArea.objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT |
                                      TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                      TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                      TPMA_OBJECT_NODA;
    pub.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
    pub.publicArea.parameters.eccDetail.symmetric.keyBits.aes = 128;
    pub.publicArea.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
    pub.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
    pub.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    pub.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    return Esys_CreatePrimary(esys_of(p), ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                              ESYS_TR_NONE, &sens, &pub, &outside, &pcr, srk, NULL, NULL, NULL,
                              NULL);
}

/* A P-256 signing key (ECDSA with SHA-256 chosen at each signature). */
static void key_template(TPM2B_PUBLIC *pub)
{
    memset(pub, 0, sizeof *pub);
    pub->publicArea.type = TPM2_ALG_ECC;
    pub->publicArea.nameAlg = TPM2_ALG_SHA256;
    pub->publicArea.objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_FIXEDTPM |
                                       TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                       TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA;
    pub->publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
    pub->publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
    pub->publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    pub->publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
}

/* The persistent handles in picoacme's range, into h (at most cap). */
static TSS2_RC list_handles(picoacme_tpm2_t *p, uint32_t *h, size_t cap, size_t *n)
{
    TPMS_CAPABILITY_DATA *cap_data = NULL;
    TPMI_YES_NO more = TPM2_NO;
    TSS2_RC rc =
        Esys_GetCapability(esys_of(p), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                           PICOACME_TPM2_HANDLE_FIRST, PICOACME_TPM2_HANDLES, &more, &cap_data);
    size_t i;
    *n = 0;
    if (rc != TSS2_RC_SUCCESS) {
        return rc;
    }
    for (i = 0; i < cap_data->data.handles.count && *n < cap; i++) {
        uint32_t v = cap_data->data.handles.handle[i];
        if (v >= PICOACME_TPM2_HANDLE_FIRST &&
            v < PICOACME_TPM2_HANDLE_FIRST + PICOACME_TPM2_HANDLES) {
            h[(*n)++] = v;
        }
    }
    Esys_Free(cap_data);
    return TSS2_RC_SUCCESS;
}

/* The lowest free handle of the range; 0 when all are taken. */
static uint32_t free_handle(const uint32_t *used, size_t n)
{
    uint32_t h;
    for (h = PICOACME_TPM2_HANDLE_FIRST; h < PICOACME_TPM2_HANDLE_FIRST + PICOACME_TPM2_HANDLES;
         h++) {
        size_t i;
        bool taken = false;
        for (i = 0; i < n && !taken; i++) {
            taken = used[i] == h;
        }
        if (!taken) {
            return h;
        }
    }
    return 0;
}

/* Create a key under the SRK, load it, make it persistent at a free
 * handle; every transient object is flushed again. */
static picoacme_err_t make_persistent(picoacme_tpm2_t *p, uint32_t *handle, ESYS_TR *obj)
{
    ESYS_CONTEXT *e = esys_of(p);
    ESYS_TR srk = ESYS_TR_NONE, key = ESYS_TR_NONE;
    TPM2B_SENSITIVE_CREATE sens;
    TPM2B_PUBLIC tmpl;
    TPM2B_DATA outside;
    TPML_PCR_SELECTION pcr;
    TPM2B_PRIVATE *priv = NULL;
    TPM2B_PUBLIC *pub = NULL;
    uint32_t used[PICOACME_TPM2_HANDLES];
    size_t n = 0;
    const char *call = "GetCapability";
    TSS2_RC rc = list_handles(p, used, PICOACME_TPM2_HANDLES, &n);
    memset(&sens, 0, sizeof sens);
    memset(&outside, 0, sizeof outside);
    memset(&pcr, 0, sizeof pcr);
    key_template(&tmpl);
    *handle = rc == TSS2_RC_SUCCESS ? free_handle(used, n) : 0U;
    if (rc == TSS2_RC_SUCCESS && *handle == 0U) {
        snprintf(p->why, sizeof p->why, "TPM2: all %u handles from 0x%x are taken",
                 PICOACME_TPM2_HANDLES, PICOACME_TPM2_HANDLE_FIRST);
        return PICOACME_ERR_CRYPTO;
    }
    if (rc == TSS2_RC_SUCCESS) {
        call = "CreatePrimary (owner storage key)";
        rc = create_srk(p, &srk);
    }
    if (rc == TSS2_RC_SUCCESS) {
        call = "Create";
        rc = Esys_Create(e, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl,
                         &outside, &pcr, &priv, &pub, NULL, NULL, NULL);
    }
    if (rc == TSS2_RC_SUCCESS) {
        call = "Load";
        rc = Esys_Load(e, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub, &key);
    }
    if (rc == TSS2_RC_SUCCESS) {
        call = "EvictControl (make persistent)";
        rc = Esys_EvictControl(e, ESYS_TR_RH_OWNER, key, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                               ESYS_TR_NONE, *handle, obj);
    }
    Esys_Free(priv);
    Esys_Free(pub);
    if (key != ESYS_TR_NONE) {
        (void)Esys_FlushContext(e, key);
    }
    if (srk != ESYS_TR_NONE) {
        (void)Esys_FlushContext(e, srk);
    }
    return rc == TSS2_RC_SUCCESS ? PICOACME_OK : tpm_fail(p, call, rc);
}

static picoacme_err_t tpm_key_generate(void *user, picoacme_key_slot_t slot)
{
    picoacme_tpm2_t *p = tpm_of(user);
    uint32_t handle = 0;
    ESYS_TR obj = ESYS_TR_NONE;
    picoacme_err_t e;
    if (p == NULL || (unsigned)slot >= (unsigned)PICOACME_KEY_SLOTS) {
        return PICOACME_ERR_PARAM;
    }
    if (!in_tpm(slot)) {
        return p->sw->key_generate(p->sw->user, slot);
    }
    e = make_persistent(p, &handle, &obj);
    if (e != PICOACME_OK) {
        return e;
    }
    /* the slot's previous key stays persistent until pruned */
    p->handle[slot] = handle;
    p->tr[slot] = obj;
    p->have[slot] = true;
    return PICOACME_OK;
}

/* Right-align a TPM2B_ECC_PARAMETER in a 32-byte field. */
static picoacme_err_t put32(uint8_t *field, const TPM2B_ECC_PARAMETER *v)
{
    if (v->size > 32U) {
        return PICOACME_ERR_CRYPTO;
    }
    memset(field, 0, 32U - v->size);
    memcpy(field + (32U - v->size), v->buffer, v->size);
    return PICOACME_OK;
}

static picoacme_err_t tpm_key_public(void *user, picoacme_key_slot_t slot, uint8_t pub[64])
{
    picoacme_tpm2_t *p = tpm_of(user);
    TPM2B_PUBLIC *out = NULL;
    picoacme_err_t e;
    TSS2_RC rc;
    if (p == NULL || pub == NULL || (unsigned)slot >= (unsigned)PICOACME_KEY_SLOTS) {
        return PICOACME_ERR_PARAM;
    }
    if (!in_tpm(slot)) {
        return p->sw->key_public(p->sw->user, slot, pub);
    }
    if (!p->have[slot]) {
        return PICOACME_ERR_NOT_FOUND;
    }
    rc = Esys_ReadPublic(esys_of(p), p->tr[slot], ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &out,
                         NULL, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        return tpm_fail(p, "ReadPublic", rc);
    }
    e = out->publicArea.type == TPM2_ALG_ECC &&
                out->publicArea.parameters.eccDetail.curveID == TPM2_ECC_NIST_P256 &&
                put32(pub, &out->publicArea.unique.ecc.x) == PICOACME_OK &&
                put32(pub + 32, &out->publicArea.unique.ecc.y) == PICOACME_OK
            ? PICOACME_OK
            : PICOACME_ERR_CRYPTO;
    Esys_Free(out);
    return e;
}

static picoacme_err_t tpm_key_sign(void *user, picoacme_key_slot_t slot, const uint8_t digest[32],
                                   uint8_t sig[64])
{
    picoacme_tpm2_t *p = tpm_of(user);
    TPM2B_DIGEST d;
    TPMT_SIG_SCHEME scheme;
    TPMT_TK_HASHCHECK check;
    TPMT_SIGNATURE *s = NULL;
    picoacme_err_t e;
    TSS2_RC rc;
    if (p == NULL || digest == NULL || sig == NULL ||
        (unsigned)slot >= (unsigned)PICOACME_KEY_SLOTS) {
        return PICOACME_ERR_PARAM;
    }
    if (!in_tpm(slot)) {
        return p->sw->key_sign(p->sw->user, slot, digest, sig);
    }
    if (!p->have[slot]) {
        return PICOACME_ERR_NOT_FOUND;
    }
    memset(&d, 0, sizeof d);
    memset(&scheme, 0, sizeof scheme);
    memset(&check, 0, sizeof check);
    d.size = 32;
    memcpy(d.buffer, digest, 32);
    scheme.scheme = TPM2_ALG_ECDSA;
    scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    /* a digest the TPM did not make itself: no ticket */
    check.tag = TPM2_ST_HASHCHECK;
    check.hierarchy = TPM2_RH_NULL;
    rc = Esys_Sign(esys_of(p), p->tr[slot], ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &d,
                   &scheme, &check, &s);
    if (rc != TSS2_RC_SUCCESS) {
        return tpm_fail(p, "Sign", rc);
    }
    e = s->sigAlg == TPM2_ALG_ECDSA && put32(sig, &s->signature.ecdsa.signatureR) == PICOACME_OK &&
                put32(sig + 32, &s->signature.ecdsa.signatureS) == PICOACME_OK
            ? PICOACME_OK
            : PICOACME_ERR_CRYPTO;
    Esys_Free(s);
    return e;
}

static picoacme_err_t tpm_key_export(void *user, picoacme_key_slot_t slot, uint8_t priv[32])
{
    picoacme_tpm2_t *p = tpm_of(user);
    if (p == NULL || (unsigned)slot >= (unsigned)PICOACME_KEY_SLOTS) {
        return PICOACME_ERR_PARAM;
    }
    return in_tpm(slot) ? PICOACME_ERR_UNSUPPORTED : p->sw->key_export(p->sw->user, slot, priv);
}

static picoacme_err_t tpm_key_import(void *user, picoacme_key_slot_t slot, const uint8_t priv[32])
{
    picoacme_tpm2_t *p = tpm_of(user);
    if (p == NULL || (unsigned)slot >= (unsigned)PICOACME_KEY_SLOTS) {
        return PICOACME_ERR_PARAM;
    }
    return in_tpm(slot) ? PICOACME_ERR_UNSUPPORTED : p->sw->key_import(p->sw->user, slot, priv);
}

static picoacme_err_t tpm_key_ref(void *user, picoacme_key_slot_t slot,
                                  uint8_t ref[PICOACME_KEY_REF_MAX], size_t *len)
{
    picoacme_tpm2_t *p = tpm_of(user);
    if (p == NULL || ref == NULL || len == NULL || !in_tpm(slot)) {
        return PICOACME_ERR_PARAM;
    }
    if (!p->have[slot]) {
        return PICOACME_ERR_NOT_FOUND;
    }
    ref[0] = (uint8_t)(p->handle[slot] >> 24);
    ref[1] = (uint8_t)(p->handle[slot] >> 16);
    ref[2] = (uint8_t)(p->handle[slot] >> 8);
    ref[3] = (uint8_t)p->handle[slot];
    *len = 4;
    return PICOACME_OK;
}

static picoacme_err_t tpm_key_ref_load(void *user, picoacme_key_slot_t slot, const uint8_t *ref,
                                       size_t len)
{
    picoacme_tpm2_t *p = tpm_of(user);
    ESYS_TR obj = ESYS_TR_NONE;
    uint32_t h;
    TSS2_RC rc;
    if (p == NULL || ref == NULL || !in_tpm(slot) || len != 4U) {
        return PICOACME_ERR_PARAM;
    }
    h = ((uint32_t)ref[0] << 24) | ((uint32_t)ref[1] << 16) | ((uint32_t)ref[2] << 8) | ref[3];
    rc = Esys_TR_FromTPMPublic(esys_of(p), h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &obj);
    if (rc != TSS2_RC_SUCCESS) {
        (void)tpm_fail(p, "TR_FromTPMPublic (the stored key's handle)", rc);
        /* a handle the TPM does not have answers an error of the handle */
        return (rc & TPM2_RC_HANDLE) == TPM2_RC_HANDLE ? PICOACME_ERR_NOT_FOUND
                                                       : PICOACME_ERR_CRYPTO;
    }
    if (p->have[slot] && p->tr[slot] != obj) {
        (void)Esys_TR_Close(esys_of(p), &p->tr[slot]);
    }
    p->handle[slot] = h;
    p->tr[slot] = obj;
    p->have[slot] = true;
    return PICOACME_OK;
}

void picoacme_tpm2_forget(picoacme_tpm2_t *p, picoacme_key_slot_t slot)
{
    if (p != NULL && in_tpm(slot) && p->have[slot]) {
        (void)Esys_TR_Close(esys_of(p), &p->tr[slot]);
        p->have[slot] = false;
    }
}

/* Is handle h kept: in keep[0..n) or in a slot of p? */
static bool handle_kept(const picoacme_tpm2_t *p, uint32_t h, const uint32_t *keep, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (keep[i] == h) {
            return true;
        }
    }
    for (i = 0; i < (size_t)PICOACME_KEY_SLOTS; i++) {
        if (p->have[i] && p->handle[i] == h) {
            return true;
        }
    }
    return false;
}

picoacme_err_t picoacme_tpm2_prune(picoacme_tpm2_t *p, const uint32_t *keep, size_t n,
                                   unsigned *evicted)
{
    uint32_t used[PICOACME_TPM2_HANDLES];
    size_t cnt = 0, i;
    TSS2_RC rc;
    if (p == NULL || p->esys == NULL || (keep == NULL && n != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    if (evicted != NULL) {
        *evicted = 0;
    }
    rc = list_handles(p, used, PICOACME_TPM2_HANDLES, &cnt);
    if (rc != TSS2_RC_SUCCESS) {
        return tpm_fail(p, "GetCapability", rc);
    }
    for (i = 0; i < cnt; i++) {
        ESYS_TR obj = ESYS_TR_NONE, none = ESYS_TR_NONE;
        if (handle_kept(p, used[i], keep, n)) {
            continue;
        }
        rc = Esys_TR_FromTPMPublic(esys_of(p), used[i], ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   &obj);
        if (rc == TSS2_RC_SUCCESS) {
            rc = Esys_EvictControl(esys_of(p), ESYS_TR_RH_OWNER, obj, ESYS_TR_PASSWORD,
                                   ESYS_TR_NONE, ESYS_TR_NONE, used[i], &none);
        }
        if (rc != TSS2_RC_SUCCESS) {
            return tpm_fail(p, "EvictControl (remove)", rc);
        }
        if (evicted != NULL) {
            (*evicted)++;
        }
    }
    return PICOACME_OK;
}

picoacme_err_t picoacme_tpm2_open(picoacme_tpm2_t *p, const char *tcti, const picoacme_crypto_t *sw,
                                  picoacme_crypto_t *out)
{
    TSS2_TCTI_CONTEXT *t = NULL;
    ESYS_CONTEXT *e = NULL;
    TSS2_RC rc;
    if (p == NULL || sw == NULL || out == NULL) {
        return PICOACME_ERR_PARAM;
    }
    memset(p, 0, sizeof *p);
    p->sw = sw;
    rc = Tss2_TctiLdr_Initialize(tcti, &t);
    if (rc != TSS2_RC_SUCCESS) {
        snprintf(p->why, sizeof p->why, "TPM2: no TPM through the TCTI \"%s\": %s (0x%x)",
                 tcti != NULL ? tcti : "(default)", Tss2_RC_Decode(rc), (unsigned)rc);
        return PICOACME_ERR_CRYPTO;
    }
    rc = Esys_Initialize(&e, t, NULL);
    if (rc != TSS2_RC_SUCCESS) {
        snprintf(p->why, sizeof p->why, "TPM2 Esys_Initialize: %s (0x%x)", Tss2_RC_Decode(rc),
                 (unsigned)rc);
        Tss2_TctiLdr_Finalize(&t);
        return PICOACME_ERR_CRYPTO;
    }
    p->tcti = t;
    p->esys = e;
    /* a TPM that was reset needs TPM2_Startup; one that runs answers
     * TPM2_RC_INITIALIZE, which is fine */
    rc = Esys_Startup(e, TPM2_SU_CLEAR);
    if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE) {
        (void)tpm_fail(p, "Startup", rc);
        picoacme_tpm2_close(p);
        return PICOACME_ERR_CRYPTO;
    }
    memset(out, 0, sizeof *out);
    out->user = p;
    out->random = tpm_random;
    out->sha256 = tpm_sha256;
    out->hmac_sha256 = tpm_hmac;
    out->key_generate = tpm_key_generate;
    out->key_public = tpm_key_public;
    out->key_sign = tpm_key_sign;
    out->key_export = tpm_key_export;
    out->key_import = tpm_key_import;
    out->key_ref = tpm_key_ref;
    out->key_ref_load = tpm_key_ref_load;
    return PICOACME_OK;
}

void picoacme_tpm2_close(picoacme_tpm2_t *p)
{
    ESYS_CONTEXT *e;
    TSS2_TCTI_CONTEXT *t;
    char why[sizeof p->why];
    if (p == NULL) {
        return;
    }
    e = esys_of(p);
    t = (TSS2_TCTI_CONTEXT *)p->tcti;
    if (e != NULL) {
        Esys_Finalize(&e);
    }
    if (t != NULL) {
        Tss2_TctiLdr_Finalize(&t);
    }
    memcpy(why, p->why, sizeof why);
    memset(p, 0, sizeof *p);
    memcpy(p->why, why, sizeof why);
}
