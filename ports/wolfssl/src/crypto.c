/*
 * crypto.c - the crypto port from wolfCrypt: Hash_DRBG random bytes,
 * SHA-256 and HMAC-SHA256 over gather lists, and two ECDSA P-256 key slots
 * (generate, public X||Y, sign a digest as r||s, export/import the scalar).
 *
 * Every wolfCrypt object is created with the caller's heap hint so a
 * WOLFSSL_STATIC_MEMORY build needs no system allocator.
 */
#include "picoacme_wolfssl.h"

#include <string.h>

#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/sha256.h>

#define P256_LEN     32U
#define WORD32_CHUNK 0x40000000U /* bytes handed to wolfCrypt per update */

/* Clear secrets in a way the compiler may not drop (wolfSSL's ForceZero is
 * not exported by shared builds). */
static void wipe(void *p, size_t len)
{
    volatile uint8_t *v = (volatile uint8_t *)p;

    while (len-- > 0U) {
        *v++ = 0;
    }
}

static picoacme_wolfssl_crypto_t *crypto_of(void *user)
{
    return (picoacme_wolfssl_crypto_t *)user;
}

static bool slot_ok(picoacme_key_slot_t slot)
{
    /* through unsigned: the enum may be an unsigned type (arm-none-eabi),
     * where a ">= 0" test is always true (-Wtype-limits) */
    return (unsigned)slot < (unsigned)PICOACME_KEY_SLOTS;
}

static picoacme_err_t wc_random(void *user, uint8_t *buf, size_t len)
{
    picoacme_wolfssl_crypto_t *c = crypto_of(user);

    if (c == NULL || (buf == NULL && len != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    while (len > 0U) {
        word32 n = len > RNG_MAX_BLOCK_LEN ? (word32)RNG_MAX_BLOCK_LEN : (word32)len;
        if (wc_RNG_GenerateBlock(&c->rng, buf, n) != 0) {
            return PICOACME_ERR_CRYPTO;
        }
        buf += n;
        len -= n;
    }
    return PICOACME_OK;
}

/* The iovecs into a hash or HMAC update, in word32-sized pieces. */
typedef int (*update_fn)(void *obj, const byte *p, word32 n);

static int sha_update(void *obj, const byte *p, word32 n)
{
    return wc_Sha256Update((wc_Sha256 *)obj, p, n);
}

static int hmac_update(void *obj, const byte *p, word32 n)
{
    return wc_HmacUpdate((Hmac *)obj, p, n);
}

static picoacme_err_t feed_iov(update_fn update, void *obj, const picoacme_iov_t *iov,
                               size_t iovcnt)
{
    for (size_t i = 0; i < iovcnt; i++) {
        const uint8_t *p = iov[i].ptr;
        size_t left = iov[i].len;
        if (p == NULL && left != 0U) {
            return PICOACME_ERR_PARAM;
        }
        while (left > 0U) {
            word32 n = left > WORD32_CHUNK ? WORD32_CHUNK : (word32)left;
            if (update(obj, p, n) != 0) {
                return PICOACME_ERR_CRYPTO;
            }
            p += n;
            left -= n;
        }
    }
    return PICOACME_OK;
}

static picoacme_err_t wc_sha256(void *user, const picoacme_iov_t *iov, size_t iovcnt,
                                uint8_t out[32])
{
    picoacme_wolfssl_crypto_t *c = crypto_of(user);
    wc_Sha256 sha;
    picoacme_err_t e = PICOACME_OK;

    if (c == NULL || out == NULL || (iov == NULL && iovcnt != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    if (wc_InitSha256_ex(&sha, c->heap, INVALID_DEVID) != 0) {
        return PICOACME_ERR_CRYPTO;
    }
    if (e == PICOACME_OK) {
        e = feed_iov(sha_update, &sha, iov, iovcnt);
    }
    if (e == PICOACME_OK && wc_Sha256Final(&sha, out) != 0) {
        e = PICOACME_ERR_CRYPTO;
    }
    wc_Sha256Free(&sha);
    wipe(&sha, sizeof sha);
    return e;
}

static picoacme_err_t wc_hmac_sha256(void *user, const uint8_t *key, size_t key_len,
                                     const picoacme_iov_t *iov, size_t iovcnt, uint8_t out[32])
{
    static const uint8_t empty_key[1] = {0};
    picoacme_wolfssl_crypto_t *c = crypto_of(user);
    Hmac hmac;
    picoacme_err_t e = PICOACME_OK;

    if (c == NULL || out == NULL || (key == NULL && key_len != 0U) || key_len > WORD32_CHUNK ||
        (iov == NULL && iovcnt != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    if (key == NULL) {
        key = empty_key;
    }
    if (wc_HmacInit(&hmac, c->heap, INVALID_DEVID) != 0) {
        return PICOACME_ERR_CRYPTO;
    }
    if (wc_HmacSetKey(&hmac, WC_SHA256, key, (word32)key_len) != 0) {
        e = PICOACME_ERR_CRYPTO;
    }
    if (e == PICOACME_OK) {
        e = feed_iov(hmac_update, &hmac, iov, iovcnt);
    }
    if (e == PICOACME_OK && wc_HmacFinal(&hmac, out) != 0) {
        e = PICOACME_ERR_CRYPTO;
    }
    wc_HmacFree(&hmac);
    wipe(&hmac, sizeof hmac); /* holds the padded key */
    return e;
}

/* Release slot and leave it initialised and empty. */
static picoacme_err_t slot_reset(picoacme_wolfssl_crypto_t *c, picoacme_key_slot_t slot)
{
    ecc_key *k = &c->key[slot];

    wc_ecc_free(k);
    wipe(k, sizeof *k);
    c->have[slot] = false;
    if (wc_ecc_init_ex(k, c->heap, INVALID_DEVID) != 0) {
        return PICOACME_ERR_CRYPTO;
    }
    /* timing-resistant ECC blinds scalar multiplications with the DRBG */
    if (wc_ecc_set_rng(k, &c->rng) != 0) {
        return PICOACME_ERR_CRYPTO;
    }
    return PICOACME_OK;
}

static picoacme_err_t wc_key_generate(void *user, picoacme_key_slot_t slot)
{
    picoacme_wolfssl_crypto_t *c = crypto_of(user);
    picoacme_err_t e;

    if (c == NULL || !slot_ok(slot)) {
        return PICOACME_ERR_PARAM;
    }
    e = slot_reset(c, slot);
    if (e != PICOACME_OK) {
        return e;
    }
    if (wc_ecc_make_key_ex(&c->rng, (int)P256_LEN, &c->key[slot], ECC_SECP256R1) != 0) {
        (void)slot_reset(c, slot);
        return PICOACME_ERR_CRYPTO;
    }
    c->have[slot] = true;
    return PICOACME_OK;
}

/* Right-align an unsigned big-endian integer of len bytes in a 32-byte
 * field (wolfCrypt writes minimal-length integers). */
static picoacme_err_t pad32(uint8_t *field, word32 len)
{
    if (len > P256_LEN) {
        return PICOACME_ERR_CRYPTO;
    }
    if (len < P256_LEN) {
        memmove(field + (P256_LEN - len), field, len);
        memset(field, 0, P256_LEN - len);
    }
    return PICOACME_OK;
}

static picoacme_err_t wc_key_public(void *user, picoacme_key_slot_t slot, uint8_t pub[64])
{
    picoacme_wolfssl_crypto_t *c = crypto_of(user);
    word32 xl = P256_LEN;
    word32 yl = P256_LEN;

    if (c == NULL || pub == NULL || !slot_ok(slot)) {
        return PICOACME_ERR_PARAM;
    }
    if (!c->have[slot]) {
        return PICOACME_ERR_NOT_FOUND;
    }
    if (wc_ecc_export_public_raw(&c->key[slot], pub, &xl, pub + P256_LEN, &yl) != 0) {
        return PICOACME_ERR_CRYPTO;
    }
    if (pad32(pub, xl) != PICOACME_OK || pad32(pub + P256_LEN, yl) != PICOACME_OK) {
        return PICOACME_ERR_CRYPTO;
    }
    return PICOACME_OK;
}

static picoacme_err_t wc_key_sign(void *user, picoacme_key_slot_t slot, const uint8_t digest[32],
                                  uint8_t sig[64])
{
    picoacme_wolfssl_crypto_t *c = crypto_of(user);
    uint8_t der[ECC_MAX_SIG_SIZE];
    word32 der_len = (word32)sizeof der;
    word32 rl = P256_LEN;
    word32 sl = P256_LEN;
    picoacme_err_t e = PICOACME_OK;

    if (c == NULL || digest == NULL || sig == NULL || !slot_ok(slot)) {
        return PICOACME_ERR_PARAM;
    }
    if (!c->have[slot]) {
        return PICOACME_ERR_NOT_FOUND;
    }
    if (wc_ecc_sign_hash(digest, P256_LEN, der, &der_len, &c->rng, &c->key[slot]) != 0 ||
        wc_ecc_sig_to_rs(der, der_len, sig, &rl, sig + P256_LEN, &sl) != 0 ||
        pad32(sig, rl) != PICOACME_OK || pad32(sig + P256_LEN, sl) != PICOACME_OK) {
        memset(sig, 0, 64);
        e = PICOACME_ERR_CRYPTO;
    }
    wipe(der, sizeof der);
    return e;
}

static picoacme_err_t wc_key_export(void *user, picoacme_key_slot_t slot, uint8_t priv[32])
{
    picoacme_wolfssl_crypto_t *c = crypto_of(user);
    word32 len = P256_LEN;

    if (c == NULL || priv == NULL || !slot_ok(slot)) {
        return PICOACME_ERR_PARAM;
    }
    if (!c->have[slot]) {
        return PICOACME_ERR_NOT_FOUND;
    }
    if (wc_ecc_export_private_only(&c->key[slot], priv, &len) != 0 ||
        pad32(priv, len) != PICOACME_OK) {
        wipe(priv, P256_LEN);
        return PICOACME_ERR_CRYPTO;
    }
    return PICOACME_OK;
}

static picoacme_err_t wc_key_import(void *user, picoacme_key_slot_t slot, const uint8_t priv[32])
{
    picoacme_wolfssl_crypto_t *c = crypto_of(user);
    ecc_key *k;
    picoacme_err_t e;

    if (c == NULL || priv == NULL || !slot_ok(slot)) {
        return PICOACME_ERR_PARAM;
    }
    e = slot_reset(c, slot);
    if (e != PICOACME_OK) {
        return e;
    }
    k = &c->key[slot];
    /* Private scalar only, then Q = d*G recomputed, then a full check
     * (0 < d < n, Q on the curve and matching d). */
    if (wc_ecc_import_private_key_ex(priv, P256_LEN, NULL, 0, k, ECC_SECP256R1) != 0 ||
        wc_ecc_make_pub_ex(k, NULL, &c->rng) != 0 || wc_ecc_check_key(k) != 0) {
        (void)slot_reset(c, slot);
        return PICOACME_ERR_CRYPTO;
    }
    c->have[slot] = true;
    return PICOACME_OK;
}

picoacme_err_t picoacme_wolfssl_crypto_init(picoacme_wolfssl_crypto_t *c, void *heap,
                                            picoacme_crypto_t *out)
{
    unsigned i;

    if (c == NULL || out == NULL) {
        return PICOACME_ERR_PARAM;
    }
    memset(c, 0, sizeof *c);
    c->heap = heap;
    if (wc_InitRng_ex(&c->rng, heap, INVALID_DEVID) != 0) {
        return PICOACME_ERR_CRYPTO;
    }
    for (i = 0; i < (unsigned)PICOACME_KEY_SLOTS; i++) {
        if (wc_ecc_init_ex(&c->key[i], heap, INVALID_DEVID) != 0 ||
            wc_ecc_set_rng(&c->key[i], &c->rng) != 0) {
            while (i > 0U) {
                i--;
                wc_ecc_free(&c->key[i]);
            }
            wc_FreeRng(&c->rng);
            return PICOACME_ERR_CRYPTO;
        }
    }
    /* every optional entry (key_ref, key_ref_load: keys in hardware) NULL */
    memset(out, 0, sizeof *out);
    out->user = c;
    out->random = wc_random;
    out->sha256 = wc_sha256;
    out->hmac_sha256 = wc_hmac_sha256;
    out->key_generate = wc_key_generate;
    out->key_public = wc_key_public;
    out->key_sign = wc_key_sign;
    out->key_export = wc_key_export;
    out->key_import = wc_key_import;
    return PICOACME_OK;
}

void picoacme_wolfssl_crypto_free(picoacme_wolfssl_crypto_t *c)
{
    unsigned i;

    if (c == NULL) {
        return;
    }
    for (i = 0; i < (unsigned)PICOACME_KEY_SLOTS; i++) {
        wc_ecc_free(&c->key[i]);
        c->have[i] = false;
    }
    wc_FreeRng(&c->rng);
    wipe(c, sizeof *c);
}
