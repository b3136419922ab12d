/*
 * pkcs11.c - the crypto port on a PKCS#11 v2.40 token (picoacme_pkcs11.h).
 * The account and certificate keys are token objects that never leave it;
 * randomness, hashes and the tls-alpn-01 challenge slot come from the
 * software port it is composed with.
 */
#include "picoacme_pkcs11.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

/* DER of the P-256 curve OID (1.2.840.10045.3.1.7), CKA_EC_PARAMS */
static const uint8_t p256_oid[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};

static picoacme_pkcs11_t *p11_of(void *user)
{
    return (picoacme_pkcs11_t *)user;
}

static CK_FUNCTION_LIST_PTR fl_of(const picoacme_pkcs11_t *p)
{
    return (CK_FUNCTION_LIST_PTR)p->fl;
}

/* Slots the token keeps; the challenge slot is the software port's. */
static bool in_token(picoacme_key_slot_t slot)
{
    return slot == PICOACME_KEY_ACCOUNT || slot == PICOACME_KEY_CERT;
}

static const char *rv_name(CK_RV rv)
{
    switch (rv) {
    case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT (wrong PIN)";
    case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
    case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
    case CKR_DEVICE_REMOVED: return "CKR_DEVICE_REMOVED";
    case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
    case CKR_SESSION_HANDLE_INVALID: return "CKR_SESSION_HANDLE_INVALID";
    case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
    case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
    case CKR_KEY_HANDLE_INVALID: return "CKR_KEY_HANDLE_INVALID";
    case CKR_OBJECT_HANDLE_INVALID: return "CKR_OBJECT_HANDLE_INVALID";
    case CKR_DEVICE_MEMORY: return "CKR_DEVICE_MEMORY";
    case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
    default: return "error";
    }
}

/* Record why call failed with rv; PICOACME_ERR_CRYPTO. */
static picoacme_err_t p11_fail(picoacme_pkcs11_t *p, const char *call, CK_RV rv)
{
    snprintf(p->why, sizeof p->why, "PKCS#11 %s: %s (0x%lx)", call, rv_name(rv), (unsigned long)rv);
    return PICOACME_ERR_CRYPTO;
}

static picoacme_err_t p11_random(void *user, uint8_t *buf, size_t len)
{
    picoacme_pkcs11_t *p = p11_of(user);
    return p->sw->random(p->sw->user, buf, len);
}

static picoacme_err_t p11_sha256(void *user, const picoacme_iov_t *iov, size_t iovcnt,
                                 uint8_t out[32])
{
    picoacme_pkcs11_t *p = p11_of(user);
    return p->sw->sha256(p->sw->user, iov, iovcnt, out);
}

static picoacme_err_t p11_hmac(void *user, const uint8_t *key, size_t key_len,
                               const picoacme_iov_t *iov, size_t iovcnt, uint8_t out[32])
{
    picoacme_pkcs11_t *p = p11_of(user);
    return p->sw->hmac_sha256(p->sw->user, key, key_len, iov, iovcnt, out);
}

static void label_of(const picoacme_pkcs11_t *p, picoacme_key_slot_t slot, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s-%s", p->prefix, slot == PICOACME_KEY_ACCOUNT ? "account" : "cert");
}

/* The first object of class with CKA_ID id, or CK_INVALID_HANDLE. */
static CK_OBJECT_HANDLE find_by_id(picoacme_pkcs11_t *p, CK_OBJECT_CLASS cls, const uint8_t *id,
                                   size_t id_len, CK_RV *rv)
{
    CK_FUNCTION_LIST_PTR f = fl_of(p);
    CK_ATTRIBUTE t[2] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_ID, (void *)id, id_len}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    *rv = f->C_FindObjectsInit(p->session, t, 2);
    if (*rv != CKR_OK) {
        return CK_INVALID_HANDLE;
    }
    *rv = f->C_FindObjects(p->session, &h, 1, &n);
    (void)f->C_FindObjectsFinal(p->session);
    return *rv == CKR_OK && n == 1U ? h : CK_INVALID_HANDLE;
}

static picoacme_err_t p11_key_generate(void *user, picoacme_key_slot_t slot)
{
    picoacme_pkcs11_t *p = p11_of(user);
    CK_FUNCTION_LIST_PTR f;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    uint8_t id[PICOACME_PKCS11_ID_LEN];
    char label[48];
    CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
    CK_RV rv;
    if (p == NULL || (unsigned)slot >= (unsigned)PICOACME_KEY_SLOTS) {
        return PICOACME_ERR_PARAM;
    }
    if (!in_token(slot)) {
        return p->sw->key_generate(p->sw->user, slot);
    }
    f = fl_of(p);
    if (p->sw->random(p->sw->user, id, sizeof id) != PICOACME_OK) {
        return PICOACME_ERR_CRYPTO;
    }
    label_of(p, slot, label, sizeof label);
    {
        CK_ATTRIBUTE pt[] = {
            {CKA_TOKEN, &yes, sizeof yes},  {CKA_PRIVATE, &no, sizeof no},
            {CKA_VERIFY, &yes, sizeof yes}, {CKA_ENCRYPT, &no, sizeof no},
            {CKA_WRAP, &no, sizeof no},     {CKA_EC_PARAMS, (void *)p256_oid, sizeof p256_oid},
            {CKA_ID, id, sizeof id},        {CKA_LABEL, label, strlen(label)}};
        CK_ATTRIBUTE st[] = {{CKA_TOKEN, &yes, sizeof yes},     {CKA_PRIVATE, &yes, sizeof yes},
                             {CKA_SENSITIVE, &yes, sizeof yes}, {CKA_EXTRACTABLE, &no, sizeof no},
                             {CKA_SIGN, &yes, sizeof yes},      {CKA_DECRYPT, &no, sizeof no},
                             {CKA_UNWRAP, &no, sizeof no},      {CKA_DERIVE, &no, sizeof no},
                             {CKA_ID, id, sizeof id},           {CKA_LABEL, label, strlen(label)}};
        rv = f->C_GenerateKeyPair(p->session, &mech, pt, sizeof pt / sizeof pt[0], st,
                                  sizeof st / sizeof st[0], &pub, &priv);
    }
    if (rv != CKR_OK) {
        return p11_fail(p, "C_GenerateKeyPair", rv);
    }
    /* the slot's previous key stays in the token until pruned */
    p->pub[slot] = pub;
    p->priv[slot] = priv;
    memcpy(p->id[slot], id, sizeof id);
    p->have[slot] = true;
    return PICOACME_OK;
}

/* X||Y out of CKA_EC_POINT: the DER OCTET STRING v2.40 asks for, or the
 * raw uncompressed point some modules return. */
static picoacme_err_t point_xy(const uint8_t *pt, CK_ULONG len, uint8_t pub[64])
{
    if (len == 67U && pt[0] == 0x04 && pt[1] == 0x41 && pt[2] == 0x04) {
        memcpy(pub, pt + 3, 64);
        return PICOACME_OK;
    }
    if (len == 65U && pt[0] == 0x04) {
        memcpy(pub, pt + 1, 64);
        return PICOACME_OK;
    }
    return PICOACME_ERR_CRYPTO;
}

static picoacme_err_t p11_key_public(void *user, picoacme_key_slot_t slot, uint8_t pub[64])
{
    picoacme_pkcs11_t *p = p11_of(user);
    uint8_t pt[80];
    CK_ATTRIBUTE a = {CKA_EC_POINT, pt, sizeof pt};
    CK_RV rv;
    if (p == NULL || pub == NULL || (unsigned)slot >= (unsigned)PICOACME_KEY_SLOTS) {
        return PICOACME_ERR_PARAM;
    }
    if (!in_token(slot)) {
        return p->sw->key_public(p->sw->user, slot, pub);
    }
    if (!p->have[slot]) {
        return PICOACME_ERR_NOT_FOUND;
    }
    rv = fl_of(p)->C_GetAttributeValue(p->session, p->pub[slot], &a, 1);
    if (rv != CKR_OK) {
        return p11_fail(p, "C_GetAttributeValue(CKA_EC_POINT)", rv);
    }
    if (point_xy(pt, a.ulValueLen, pub) != PICOACME_OK) {
        snprintf(p->why, sizeof p->why, "PKCS#11: CKA_EC_POINT is no P-256 point");
        return PICOACME_ERR_CRYPTO;
    }
    return PICOACME_OK;
}

static picoacme_err_t p11_key_sign(void *user, picoacme_key_slot_t slot, const uint8_t digest[32],
                                   uint8_t sig[64])
{
    picoacme_pkcs11_t *p = p11_of(user);
    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    CK_ULONG n = 64;
    CK_RV rv;
    if (p == NULL || digest == NULL || sig == NULL ||
        (unsigned)slot >= (unsigned)PICOACME_KEY_SLOTS) {
        return PICOACME_ERR_PARAM;
    }
    if (!in_token(slot)) {
        return p->sw->key_sign(p->sw->user, slot, digest, sig);
    }
    if (!p->have[slot]) {
        return PICOACME_ERR_NOT_FOUND;
    }
    rv = fl_of(p)->C_SignInit(p->session, &mech, p->priv[slot]);
    if (rv != CKR_OK) {
        return p11_fail(p, "C_SignInit", rv);
    }
    /* CKM_ECDSA signs the digest as given; the result is r||s, each the
     * order's length (PKCS#11 v2.40 2.3.1) */
    rv = fl_of(p)->C_Sign(p->session, (CK_BYTE_PTR)digest, 32, sig, &n);
    if (rv != CKR_OK) {
        return p11_fail(p, "C_Sign", rv);
    }
    if (n != 64U) {
        snprintf(p->why, sizeof p->why, "PKCS#11 C_Sign: %lu bytes, not 64", (unsigned long)n);
        return PICOACME_ERR_CRYPTO;
    }
    return PICOACME_OK;
}

static picoacme_err_t p11_key_export(void *user, picoacme_key_slot_t slot, uint8_t priv[32])
{
    picoacme_pkcs11_t *p = p11_of(user);
    if (p == NULL || (unsigned)slot >= (unsigned)PICOACME_KEY_SLOTS) {
        return PICOACME_ERR_PARAM;
    }
    /* a token key is not extractable */
    return in_token(slot) ? PICOACME_ERR_UNSUPPORTED : p->sw->key_export(p->sw->user, slot, priv);
}

static picoacme_err_t p11_key_import(void *user, picoacme_key_slot_t slot, const uint8_t priv[32])
{
    picoacme_pkcs11_t *p = p11_of(user);
    if (p == NULL || (unsigned)slot >= (unsigned)PICOACME_KEY_SLOTS) {
        return PICOACME_ERR_PARAM;
    }
    return in_token(slot) ? PICOACME_ERR_UNSUPPORTED : p->sw->key_import(p->sw->user, slot, priv);
}

static picoacme_err_t p11_key_ref(void *user, picoacme_key_slot_t slot,
                                  uint8_t ref[PICOACME_KEY_REF_MAX], size_t *len)
{
    picoacme_pkcs11_t *p = p11_of(user);
    if (p == NULL || ref == NULL || len == NULL || !in_token(slot)) {
        return PICOACME_ERR_PARAM;
    }
    if (!p->have[slot]) {
        return PICOACME_ERR_NOT_FOUND;
    }
    memcpy(ref, p->id[slot], PICOACME_PKCS11_ID_LEN);
    *len = PICOACME_PKCS11_ID_LEN;
    return PICOACME_OK;
}

static picoacme_err_t p11_key_ref_load(void *user, picoacme_key_slot_t slot, const uint8_t *ref,
                                       size_t len)
{
    picoacme_pkcs11_t *p = p11_of(user);
    CK_OBJECT_HANDLE priv, pub;
    CK_RV rv = CKR_OK;
    if (p == NULL || ref == NULL || !in_token(slot) || len != PICOACME_PKCS11_ID_LEN) {
        return PICOACME_ERR_PARAM;
    }
    priv = find_by_id(p, CKO_PRIVATE_KEY, ref, len, &rv);
    pub = rv == CKR_OK ? find_by_id(p, CKO_PUBLIC_KEY, ref, len, &rv) : CK_INVALID_HANDLE;
    if (rv != CKR_OK) {
        return p11_fail(p, "C_FindObjects", rv);
    }
    if (priv == CK_INVALID_HANDLE || pub == CK_INVALID_HANDLE) {
        snprintf(p->why, sizeof p->why,
                 "PKCS#11: the token %s holds no key pair with the stored CKA_ID", p->token);
        return PICOACME_ERR_NOT_FOUND;
    }
    p->priv[slot] = priv;
    p->pub[slot] = pub;
    memcpy(p->id[slot], ref, len);
    p->have[slot] = true;
    return PICOACME_OK;
}

void picoacme_pkcs11_forget(picoacme_pkcs11_t *p, picoacme_key_slot_t slot)
{
    if (p != NULL && in_token(slot)) {
        p->have[slot] = false;
    }
}

/* Is id kept: in keep[0..n) or in a slot of p? */
static bool id_kept(const picoacme_pkcs11_t *p, const uint8_t *id, CK_ULONG id_len,
                    const uint8_t (*keep)[16], size_t n)
{
    size_t i;
    if (id_len != PICOACME_PKCS11_ID_LEN) {
        return false;
    }
    for (i = 0; i < n; i++) {
        if (memcmp(keep[i], id, PICOACME_PKCS11_ID_LEN) == 0) {
            return true;
        }
    }
    for (i = 0; i < (size_t)PICOACME_KEY_SLOTS; i++) {
        if (p->have[i] && memcmp(p->id[i], id, PICOACME_PKCS11_ID_LEN) == 0) {
            return true;
        }
    }
    return false;
}

/* Destroy the objects labelled label that are not kept. */
static picoacme_err_t prune_label(picoacme_pkcs11_t *p, const char *label,
                                  const uint8_t (*keep)[16], size_t n, unsigned *destroyed)
{
    CK_FUNCTION_LIST_PTR f = fl_of(p);
    CK_ATTRIBUTE t = {CKA_LABEL, (void *)label, strlen(label)};
    CK_OBJECT_HANDLE h[64];
    CK_ULONG cnt = 0, i;
    CK_RV rv = f->C_FindObjectsInit(p->session, &t, 1);
    if (rv == CKR_OK) {
        rv = f->C_FindObjects(p->session, h, sizeof h / sizeof h[0], &cnt);
        (void)f->C_FindObjectsFinal(p->session);
    }
    if (rv != CKR_OK) {
        return p11_fail(p, "C_FindObjects", rv);
    }
    for (i = 0; i < cnt; i++) {
        uint8_t id[64];
        CK_ATTRIBUTE a = {CKA_ID, id, sizeof id};
        rv = f->C_GetAttributeValue(p->session, h[i], &a, 1);
        if (rv != CKR_OK || id_kept(p, id, a.ulValueLen, keep, n)) {
            continue;
        }
        rv = f->C_DestroyObject(p->session, h[i]);
        if (rv != CKR_OK) {
            return p11_fail(p, "C_DestroyObject", rv);
        }
        if (destroyed != NULL) {
            (*destroyed)++;
        }
    }
    return PICOACME_OK;
}

picoacme_err_t picoacme_pkcs11_prune(picoacme_pkcs11_t *p, const uint8_t (*keep)[16], size_t n,
                                     unsigned *destroyed)
{
    char label[48];
    picoacme_err_t e;
    if (p == NULL || !p->open || (keep == NULL && n != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    if (destroyed != NULL) {
        *destroyed = 0;
    }
    label_of(p, PICOACME_KEY_ACCOUNT, label, sizeof label);
    e = prune_label(p, label, keep, n, destroyed);
    if (e == PICOACME_OK) {
        label_of(p, PICOACME_KEY_CERT, label, sizeof label);
        e = prune_label(p, label, keep, n, destroyed);
    }
    return e;
}

/* The slot whose token carries label (blank-padded to 32 bytes). */
static picoacme_err_t find_token(picoacme_pkcs11_t *p, const char *token, CK_SLOT_ID *out)
{
    CK_FUNCTION_LIST_PTR f = fl_of(p);
    CK_SLOT_ID slots[32];
    CK_ULONG n = sizeof slots / sizeof slots[0], i;
    size_t tl = strlen(token);
    CK_RV rv = f->C_GetSlotList(CK_TRUE, slots, &n);
    if (rv != CKR_OK) {
        return p11_fail(p, "C_GetSlotList", rv);
    }
    for (i = 0; i < n; i++) {
        CK_TOKEN_INFO ti;
        size_t l = sizeof ti.label;
        if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK) {
            continue;
        }
        while (l > 0U && ti.label[l - 1U] == ' ') {
            l--;
        }
        if (l == tl && memcmp(ti.label, token, tl) == 0) {
            *out = slots[i];
            return PICOACME_OK;
        }
    }
    snprintf(p->why, sizeof p->why, "PKCS#11: no token labelled \"%s\" (%lu tokens present)", token,
             (unsigned long)n);
    return PICOACME_ERR_NOT_FOUND;
}

/* dlopen the module and C_Initialize it. */
static picoacme_err_t load_module(picoacme_pkcs11_t *p, const char *module)
{
    CK_C_GetFunctionList get;
    CK_FUNCTION_LIST_PTR f = NULL;
    CK_RV rv;
    p->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    if (p->dl == NULL) {
        snprintf(p->why, sizeof p->why, "PKCS#11: cannot load the module: %s", dlerror());
        return PICOACME_ERR_NOT_FOUND;
    }
    /* POSIX: a data pointer converts to a function pointer */
    *(void **)&get = dlsym(p->dl, "C_GetFunctionList");
    if (get == NULL || get(&f) != CKR_OK || f == NULL) {
        snprintf(p->why, sizeof p->why, "PKCS#11: %s has no C_GetFunctionList", module);
        return PICOACME_ERR_NOT_FOUND;
    }
    p->fl = f;
    rv = f->C_Initialize(NULL);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        return p11_fail(p, "C_Initialize", rv);
    }
    p->initialized = rv == CKR_OK;
    return PICOACME_OK;
}

static picoacme_err_t open_session(picoacme_pkcs11_t *p, const char *token, const char *pin)
{
    CK_FUNCTION_LIST_PTR f = fl_of(p);
    CK_SLOT_ID slot = 0;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    picoacme_err_t e = find_token(p, token, &slot);
    CK_RV rv;
    if (e != PICOACME_OK) {
        return e;
    }
    rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
    if (rv != CKR_OK) {
        return p11_fail(p, "C_OpenSession", rv);
    }
    p->session = s;
    p->open = true;
    rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
        return p11_fail(p, "C_Login", rv);
    }
    return PICOACME_OK;
}

picoacme_err_t picoacme_pkcs11_open(picoacme_pkcs11_t *p, const char *module, const char *token,
                                    const char *pin, const char *prefix,
                                    const picoacme_crypto_t *sw, picoacme_crypto_t *out)
{
    picoacme_err_t e;
    if (p == NULL || module == NULL || token == NULL || pin == NULL || sw == NULL || out == NULL ||
        strlen(token) >= sizeof p->token ||
        (prefix != NULL && (prefix[0] == '\0' || strlen(prefix) >= sizeof p->prefix))) {
        return PICOACME_ERR_PARAM;
    }
    memset(p, 0, sizeof *p);
    p->sw = sw;
    snprintf(p->prefix, sizeof p->prefix, "%s", prefix != NULL ? prefix : "picoacme");
    snprintf(p->token, sizeof p->token, "%s", token);
    e = load_module(p, module);
    if (e == PICOACME_OK) {
        e = open_session(p, token, pin);
    }
    if (e != PICOACME_OK) {
        char why[sizeof p->why];
        memcpy(why, p->why, sizeof why);
        picoacme_pkcs11_close(p);
        memcpy(p->why, why, sizeof why);
        return e;
    }
    memset(out, 0, sizeof *out);
    out->user = p;
    out->random = p11_random;
    out->sha256 = p11_sha256;
    out->hmac_sha256 = p11_hmac;
    out->key_generate = p11_key_generate;
    out->key_public = p11_key_public;
    out->key_sign = p11_key_sign;
    out->key_export = p11_key_export;
    out->key_import = p11_key_import;
    out->key_ref = p11_key_ref;
    out->key_ref_load = p11_key_ref_load;
    return PICOACME_OK;
}

void picoacme_pkcs11_close(picoacme_pkcs11_t *p)
{
    CK_FUNCTION_LIST_PTR f;
    if (p == NULL) {
        return;
    }
    f = fl_of(p);
    if (f != NULL && p->open) {
        (void)f->C_Logout(p->session);
        (void)f->C_CloseSession(p->session);
    }
    if (f != NULL && p->initialized) {
        (void)f->C_Finalize(NULL);
    }
    if (p->dl != NULL) {
        (void)dlclose(p->dl);
    }
    memset(p, 0, sizeof *p);
}
