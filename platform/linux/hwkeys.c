/*
 * hwkeys.c - keys that never leave hardware, for the picoacme command:
 * --pkcs11-module/--pkcs11-token/--pkcs11-pin-file (ports/pkcs11) or
 * --tpm2-tcti (ports/tpm2) put the account and certificate keys in a token
 * or a TPM. The state file then holds references (a CKA_ID, a persistent
 * handle) and --out gets DIR/key.uri (an RFC 7512 pkcs11: URI, or
 * tpm2-openssl's "handle:0x...") in place of DIR/key.pem.
 *
 * Key objects of a renewal are created beside the live ones; the ones the
 * stored record no longer names are destroyed only once the new record is
 * stored (when --out is published from it, and when the command ends).
 *
 * Built without PICOACME_HWKEYS, the options are refused with a message.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "picoacme_record.h"
#include "picoacme_store.h"

#if PICOACME_HWKEYS
#include "picoacme_pkcs11.h"
#include "picoacme_tpm2.h"
#endif

static const char *g_p11_module, *g_p11_token, *g_p11_pin_file, *g_tpm2_tcti;
static bool g_tpm2;

#if PICOACME_HWKEYS
static picoacme_pkcs11_t g_p11;
static picoacme_tpm2_t g_tpm;
static picoacme_crypto_t g_hw; /* the hardware port, composed on the software one */
static bool g_open;
#endif

int hwkeys_option(int c, const char *arg)
{
    switch (c) {
    case HWKEYS_OPT_P11_MODULE: g_p11_module = arg; return 1;
    case HWKEYS_OPT_P11_TOKEN: g_p11_token = arg; return 1;
    case HWKEYS_OPT_P11_PIN_FILE: g_p11_pin_file = arg; return 1;
    case HWKEYS_OPT_TPM2_TCTI:
        g_tpm2_tcti = arg;
        g_tpm2 = true;
        return 1;
    default: return 0;
    }
}

void hwkeys_set(const char *module, const char *token, const char *pin_file, const char *tcti)
{
    g_p11_module = module;
    g_p11_token = token;
    g_p11_pin_file = pin_file;
    g_tpm2_tcti = tcti;
    g_tpm2 = tcti != NULL;
}

bool hwkeys_active(void)
{
    return g_p11_module != NULL || g_p11_token != NULL || g_p11_pin_file != NULL || g_tpm2;
}

const char *hwkeys_key_name(void)
{
    return hwkeys_active() ? "key.uri" : "key.pem";
}

bool hwkeys_state_fits(const picoacme_storage_t *st, const char *state)
{
    static uint8_t rec[STATE_SIZE];
    size_t len = 0, off = 0, vl = 0;
    if (hwkeys_active() || picoacme_store_load(st, rec, sizeof rec, &len, NULL) != PICOACME_OK ||
        (picoacme_record_find(rec, len, PICOACME_REC_ACCT_KEY_REF, &off, &vl) != PICOACME_OK &&
         picoacme_record_find(rec, len, PICOACME_REC_CERT_KEY_REF, &off, &vl) != PICOACME_OK)) {
        return true;
    }
    /* without the options the software port would make new keys on disk */
    fprintf(stderr,
            "picoacme: the keys of --state %s are in a token or a TPM: give the same "
            "--pkcs11-module/--pkcs11-token or --tpm2-tcti\n",
            state);
    return false;
}

#if PICOACME_HWKEYS
/* The PIN: --pkcs11-pin-file, else $PICOACME_PKCS11_PIN. */
static int read_pin(char *pin, size_t cap)
{
    const char *env = getenv("PICOACME_PKCS11_PIN");
    if (g_p11_pin_file != NULL) {
        if (read_secret_file(g_p11_pin_file, pin, cap) != 0) {
            fprintf(stderr, "picoacme: cannot read --pkcs11-pin-file %s: %s\n", g_p11_pin_file,
                    errno == EINVAL ? "it must hold the PIN on one line" : strerror(errno));
            return -1;
        }
        return 0;
    }
    if (env == NULL || env[0] == '\0' || strlen(env) >= cap) {
        fprintf(stderr, "picoacme: the token's PIN comes from --pkcs11-pin-file FILE or the "
                        "environment variable PICOACME_PKCS11_PIN\n");
        return -1;
    }
    strcpy(pin, env);
    return 0;
}

static int open_pkcs11(const picoacme_crypto_t *sw)
{
    char pin[256];
    picoacme_err_t e;
    if (g_p11_module == NULL || g_p11_token == NULL) {
        fprintf(stderr, "picoacme: keys in a PKCS#11 token need --pkcs11-module PATH and "
                        "--pkcs11-token LABEL\n");
        return 2;
    }
    if (read_pin(pin, sizeof pin) != 0) {
        return 2;
    }
    e = picoacme_pkcs11_open(&g_p11, g_p11_module, g_p11_token, pin, NULL, sw, &g_hw);
    memset(pin, 0, sizeof pin);
    if (e != PICOACME_OK) {
        fprintf(stderr, "picoacme: the PKCS#11 token \"%s\" cannot be used: %s\n", g_p11_token,
                g_p11.why[0] != '\0' ? g_p11.why : picoacme_err_str(e));
        return 1;
    }
    return 0;
}

int hwkeys_open(const picoacme_crypto_t *sw)
{
    int rc;
    if (!hwkeys_active()) {
        return 0;
    }
    if (g_tpm2 && g_p11_module != NULL) {
        fprintf(stderr, "picoacme: --tpm2-tcti and --pkcs11-* exclude each other\n");
        return 2;
    }
    if (g_tpm2) {
        /* tpm2-tss logs its errors to stderr: the command says what failed
         * itself (TSS2_LOG set by the user wins) */
        (void)setenv("TSS2_LOG", "all+NONE", 0);
        if (picoacme_tpm2_open(&g_tpm, g_tpm2_tcti, sw, &g_hw) != PICOACME_OK) {
            fprintf(stderr, "picoacme: the TPM cannot be used: %s\n", g_tpm.why);
            return 1;
        }
        rc = 0;
    } else {
        rc = open_pkcs11(sw);
    }
    g_open = rc == 0;
    return rc;
}

const picoacme_crypto_t *hwkeys_crypto(const picoacme_crypto_t *sw)
{
    return g_open ? &g_hw : sw;
}

/* The key references of the stored record: refs[0] the account's, refs[1]
 * the certificate's (lens 0 when absent). false when there is no record. */
static bool stored_refs(const picoacme_storage_t *st, uint8_t refs[2][PICOACME_KEY_REF_MAX],
                        size_t lens[2])
{
    static uint8_t rec[STATE_SIZE];
    static const picoacme_rec_tag_t tags[2] = {PICOACME_REC_ACCT_KEY_REF,
                                               PICOACME_REC_CERT_KEY_REF};
    size_t len = 0, i;
    if (st == NULL || picoacme_store_load(st, rec, sizeof rec, &len, NULL) != PICOACME_OK) {
        return false;
    }
    for (i = 0; i < 2U; i++) {
        size_t off = 0, vl = 0;
        lens[i] = 0;
        if (picoacme_record_find(rec, len, tags[i], &off, &vl) == PICOACME_OK && vl > 0U &&
            vl <= PICOACME_KEY_REF_MAX) {
            memcpy(refs[i], rec + off, vl);
            lens[i] = vl;
        }
    }
    return true;
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Destroy the key objects the stored record does not name (nothing when
 * no record with a reference can be read). */
static void prune(const picoacme_storage_t *st, bool quiet)
{
    uint8_t refs[2][PICOACME_KEY_REF_MAX];
    size_t lens[2] = {0, 0};
    unsigned gone = 0;
    picoacme_err_t e = PICOACME_OK;
    if (!g_open || !stored_refs(st, refs, lens) || (lens[0] == 0U && lens[1] == 0U)) {
        return;
    }
    if (g_tpm2) {
        uint32_t keep[2];
        size_t n = 0, i;
        for (i = 0; i < 2U; i++) {
            if (lens[i] == 4U) {
                keep[n++] = be32(refs[i]);
            }
        }
        picoacme_tpm2_forget(&g_tpm, PICOACME_KEY_ACCOUNT);
        picoacme_tpm2_forget(&g_tpm, PICOACME_KEY_CERT);
        e = picoacme_tpm2_prune(&g_tpm, keep, n, &gone);
    } else {
        uint8_t keep[2][16];
        size_t n = 0, i;
        for (i = 0; i < 2U; i++) {
            if (lens[i] == PICOACME_PKCS11_ID_LEN) {
                memcpy(keep[n++], refs[i], PICOACME_PKCS11_ID_LEN);
            }
        }
        /* the slots may hold keys of a run that failed: only the record counts */
        picoacme_pkcs11_forget(&g_p11, PICOACME_KEY_ACCOUNT);
        picoacme_pkcs11_forget(&g_p11, PICOACME_KEY_CERT);
        e = picoacme_pkcs11_prune(&g_p11, (const uint8_t(*)[16])keep, n, &gone);
    }
    if (e != PICOACME_OK && !quiet) {
        fprintf(stderr, "picoacme: old keys not removed: %s\n", g_tpm2 ? g_tpm.why : g_p11.why);
    } else if (gone > 0U) {
        fprintf(stderr, "picoacme: %u key object%s the state no longer names removed\n", gone,
                gone == 1U ? "" : "s");
    }
}

/* "%xx" for every byte but RFC 3986 unreserved ones. */
static size_t pct(char *out, size_t cap, const uint8_t *v, size_t len, bool all)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0, i;
    for (i = 0; i < len && n + 4U < cap; i++) {
        unsigned char ch = v[i];
        bool plain =
            !all && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~');
        if (plain) {
            out[n++] = (char)ch;
        } else {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15U];
        }
    }
    out[n] = '\0';
    return n;
}

int hwkeys_key_uri(const picoacme_storage_t *st, char *out, size_t cap, size_t *len)
{
    uint8_t refs[2][PICOACME_KEY_REF_MAX];
    size_t lens[2] = {0, 0};
    int n;
    if (!g_open || !stored_refs(st, refs, lens) || lens[1] == 0U) {
        return -1;
    }
    if (g_tpm2) {
        n = lens[1] == 4U ? snprintf(out, cap, "handle:0x%08x\n", (unsigned)be32(refs[1])) : -1;
    } else {
        char tok[3U * 32U + 1U], id[3U * PICOACME_KEY_REF_MAX + 1U];
        (void)pct(tok, sizeof tok, (const uint8_t *)g_p11_token, strlen(g_p11_token), false);
        (void)pct(id, sizeof id, refs[1], lens[1], true);
        n = snprintf(out, cap, "pkcs11:token=%s;object=picoacme-cert;id=%s;type=private\n", tok,
                     id);
    }
    if (n < 0 || (size_t)n >= cap) {
        return -1;
    }
    *len = (size_t)n;
    /* the new certificate is stored: the keys it replaced can go */
    prune(st, false);
    return 0;
}

void hwkeys_close(const picoacme_storage_t *st)
{
    const char *why;
    if (!g_open) {
        return;
    }
    /* what the device said when an operation failed (the engine's line
     * only says which step) */
    why = g_tpm2 ? g_tpm.why : g_p11.why;
    if (why[0] != '\0') {
        fprintf(stderr, "picoacme: %s: %s\n", g_tpm2 ? "the TPM" : "the PKCS#11 token", why);
    }
    /* after a failure too: the keys of a run that stored nothing go (a
     * device that failed is left alone: the next run prunes) */
    prune(st, true);
    if (g_tpm2) {
        picoacme_tpm2_close(&g_tpm);
    } else {
        picoacme_pkcs11_close(&g_p11);
    }
    g_open = false;
}
#else
int hwkeys_open(const picoacme_crypto_t *sw)
{
    (void)sw;
    if (!hwkeys_active()) {
        return 0;
    }
    fprintf(stderr, "picoacme: this build has no hardware keys (--pkcs11-*, --tpm2-tcti): "
                    "configure with -DPICOACME_HWKEYS=ON\n");
    return 2;
}

const picoacme_crypto_t *hwkeys_crypto(const picoacme_crypto_t *sw)
{
    return sw;
}

int hwkeys_key_uri(const picoacme_storage_t *st, char *out, size_t cap, size_t *len)
{
    (void)st;
    (void)out;
    (void)cap;
    (void)len;
    return -1;
}

void hwkeys_close(const picoacme_storage_t *st)
{
    (void)st;
}
#endif
