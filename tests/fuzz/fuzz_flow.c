/*
 * fuzz_flow.c - structure-aware engine fuzzing: a fake CA that answers every
 * request of the engine with the answer a valid CA gives (the conversation
 * of a good issuance: directory, nonce, account, order, authorizations,
 * challenges, polls, finalize, certificate; renewalInfo; revokeCert,
 * keyChange, deactivation), and a fuzz input that says where and how to
 * spoil it. Random bytes almost never get past the directory (fuzz_engine);
 * here every input is a good conversation plus a few edits, so the engine
 * is attacked in every state.
 *
 * Input (a small structured encoding rather than a custom mutator: every
 * byte string is a valid program, so libFuzzer's own mutations, crossover
 * and comparison tracing work unchanged, any engine or a unit test replays
 * a file as it is, and there is no serializer to keep in step):
 *
 *   byte 0      the scenario: bits 0-1 the challenge types (http-01,
 *               tls-alpn-01, dns-01, all three with fallback); bits 2-4 the
 *               operation (0 issue, 1 renewal over a stored certificate,
 *               2 ARI, 3 revoke, 4 key rollover, 5 deactivate, 6 and 7 issue
 *               with dns-01 over RFC 2136 instead of the hook: 6 UDP with
 *               the zone found by SOA and a resolver checked, 7 TCP; without
 *               dns-01, 6 is the CA over TLS and 7 an IPv6 address first,
 *               a contact, a time budget and no http-01 listener);
 *               bit 5 renewalInfo offered; bit 6 EAB required; bit 7 one
 *               identifier
 *   then edits  4 bytes each {at, kind, a, b}: when answer number `at`
 *               (0-based, counted over the run) is written, edit `kind` is
 *               applied with the arguments a and b (RAW edits take b more
 *               bytes from the input)
 *
 * The certificate is made for the engine's own CSR (taken from its finalize
 * request): the leaf carries the CSR's public key and subjectAltName, an
 * authorityKeyIdentifier (for the ARI CertID) of a fixed P-256 CA key, so
 * the chain check passes and the store is reached; its signature is a
 * well-formed stand-in made from SHA-256 of the tbs (nothing verifies it),
 * so every byte is the same in every process. (The crypto port is fake and
 * deterministic, so the CSR and thus the leaf are the same for every input
 * of a scenario: the leaf is made once per scenario and cached.) Operations that need a stored
 * certificate start from a flash image made by one clean issuance at first
 * use. The DNS server of RFC 2136 is fake too: it answers the SOA query,
 * signs its UPDATE answers with TSIG (the fake HMAC is a checksum, so it
 * finds the MAC by trying) and resolves the TXT record last added; the
 * same edits apply to its answers (rcode, truncation, bytes, loss).
 *
 * Invariants checked besides ASan/UBSan and the core's own assertions: the
 * clean conversation of every scenario issues; an issuance that reports
 * success has stored its certificate; the tls-alpn-01 certificate handed
 * to the TLS port is one whole DER SEQUENCE; every run ends within 6000
 * steps (the clock jumps to each deadline).
 *
 * FUZZ_FLOW_TRACE=1 prints the requests, the answers' first lines and how
 * the run ended.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef WOLFSSL_USER_SETTINGS
#include <wolfssl/options.h>
#endif
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "picoacme.h"
#include "picoacme_ari.h"
#include "picoacme_dns.h"
#include "picoacme_lifecycle.h"
#include "picoacme_store.h"

#define FLASH_SIZE  (16U * 1024U)
#define REQ_CAP     (16U * 1024U)
#define ANS_CAP     (12U * 1024U)
#define CA          "http://ca.example"
#define SOCK_CA     3
#define SOCK_LISTEN 9 /* http-01; tls-alpn-01 listens on SOCK_LISTEN + 1 */
#define SOCK_VALID  10
#define SOCK_UDP    11
#define SOCK_DNS    12 /* DNS over TCP */

/* ---- the input ------------------------------------------------------------ */

enum {
    ED_STATUS,   /* status line code from a table */
    ED_HEADER,   /* one more header from a table */
    ED_DROP,     /* leave out Location / Replay-Nonce / Content-Type / body */
    ED_JSON,     /* the a-th string literal of the body becomes a table value */
    ED_JSON_RAW, /* the a-th string literal becomes b raw bytes of the input */
    ED_TRUNC,    /* the body cut to a*256+b (mod length), length adjusted */
    ED_CUT,      /* the answer's bytes cut there, then the connection closes */
    ED_SPLIT,    /* receive pieces of a+1 bytes */
    ED_PROBLEM,  /* a problem document of type a, status b */
    ED_OTHER,    /* the good answer to another request kind instead */
    ED_REPEAT,   /* the previous answer again */
    ED_RAW,      /* the body is b raw bytes of the input */
    ED_TIME,     /* the clocks jump before the answer */
    ED_CLOSE,    /* the connection closes before any byte */
    ED_CHUNKED,  /* Transfer-Encoding: chunked, pieces of a+1 bytes */
    ED_FAULT,    /* a port fails from now on: a%4 = flash write, hook, connect, flash read */
    ED_REBOOT,   /* the device restarts here: new context, same flash */
    ED_ADOPT,    /* the appliance's own servers: http01_lookup, tlsalpn_adopt */
    ED_IO,       /* the ports fail once (or b%4+1 times) from here: fault a%12 */
    ED_FLASH,    /* before the start: flash byte a*256+b XOR (at|1) (power loss, wear) */
    ED_LEAF,     /* the chain: a%5 = for another key, without SANs, CA first, a bad
                    second block, the leaf alone */
    ED_ALPN,     /* from the start (at unused), the tls-alpn-01 server's ports: a%5 = the
                    listen fails, the TLS server does not start, its handshake wants
                    b%4+1 more turns, the challenge key cannot be exported (each b%4+1
                    times), a TLS port without a server */
    ED_COUNT     /* kinds up to 31 are no edit (room for more kinds) */
};

typedef struct edit {
    uint8_t at, kind, a, b;
    const uint8_t *raw; /* ED_JSON_RAW, ED_RAW: b bytes */
} edit_t;

#define EDITS_MAX 64
static edit_t g_ed[EDITS_MAX];
static size_t g_ned;
static uint8_t g_scen;

static void parse_input(const uint8_t *d, size_t n)
{
    size_t i = 1;
    g_scen = n > 0 ? d[0] : 0;
    g_ned = 0;
    while (i + 4 <= n && g_ned < EDITS_MAX) {
        edit_t *e = &g_ed[g_ned++];
        e->at = (uint8_t)(d[i] % 64U);
        e->kind = (uint8_t)(d[i + 1] % 32U);
        e->a = d[i + 2];
        e->b = d[i + 3];
        e->raw = NULL;
        i += 4;
        if (e->kind == ED_JSON_RAW || e->kind == ED_RAW) {
            size_t k = e->b <= n - i ? e->b : n - i;
            e->b = (uint8_t)k;
            e->raw = d + i;
            i += k;
        }
    }
}

/* ---- small helpers -------------------------------------------------------- */

static bool g_trace;

static void trace(const char *fmt, ...)
{
    va_list ap;
    if (!g_trace) {
        return;
    }
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

typedef struct sbuf {
    char *p;
    size_t cap, len;
} sbuf_t;

static void sb_add(sbuf_t *s, const void *b, size_t n)
{
    if (n > s->cap - s->len) {
        n = s->cap - s->len;
    }
    memcpy(s->p + s->len, b, n);
    s->len += n;
}

static void sb_fmt(sbuf_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    if (k > 0) {
        s->len += (size_t)k < s->cap - s->len ? (size_t)k : s->cap - s->len - 1U;
    }
}

static int b64_val(int c, bool url)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == (url ? '-' : '+')) {
        return 62;
    }
    if (c == (url ? '_' : '/')) {
        return 63;
    }
    return -1;
}

/* base64url (no padding) of in[0..n) into out; decoded length. */
static size_t b64u_dec(const char *in, size_t n, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val((unsigned char)in[i], true);
        if (v < 0) {
            break;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o < cap) {
                out[o++] = (uint8_t)(acc >> bits);
            }
        }
    }
    return o;
}

static void pem_add(sbuf_t *s, const uint8_t *der, size_t n)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t col = 0;
    sb_fmt(s, "-----BEGIN CERTIFICATE-----\n");
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)der[i] << 16;
        char q[4];
        v |= i + 1 < n ? (uint32_t)der[i + 1] << 8 : 0U;
        v |= i + 2 < n ? der[i + 2] : 0U;
        q[0] = al[v >> 18];
        q[1] = al[(v >> 12) & 63U];
        q[2] = i + 1 < n ? al[(v >> 6) & 63U] : '=';
        q[3] = i + 2 < n ? al[v & 63U] : '=';
        sb_add(s, q, 4);
        col += 4;
        if (col == 64U) {
            sb_add(s, "\n", 1);
            col = 0;
        }
    }
    sb_fmt(s, "%s-----END CERTIFICATE-----\n", col != 0U ? "\n" : "");
}

/* ---- DER: what the fake CA needs to issue ------------------------------- */

/* TLV with contents c[0..n) at out; its size. out and c may overlap only if
 * c == out + header size (callers build inner parts first, elsewhere). */
static size_t der_tlv(uint8_t *out, uint8_t tag, const uint8_t *c, size_t n)
{
    size_t h = 2;
    out[0] = tag;
    if (n < 0x80U) {
        out[1] = (uint8_t)n;
    } else if (n < 0x100U) {
        out[1] = 0x81;
        out[2] = (uint8_t)n;
        h = 3;
    } else {
        out[1] = 0x82;
        out[2] = (uint8_t)(n >> 8);
        out[3] = (uint8_t)n;
        h = 4;
    }
    memmove(out + h, c, n);
    return h + n;
}

/* One TLV at p (< end): tag, contents, total size; false if malformed. */
static bool der_read(const uint8_t *p, const uint8_t *end, uint8_t *tag, const uint8_t **c,
                     size_t *n, size_t *total)
{
    size_t h = 2, len;
    if (end - p < 2) {
        return false;
    }
    *tag = p[0];
    len = p[1];
    if (len & 0x80U) {
        size_t k = len & 0x7FU;
        if (k == 0 || k > 2 || (size_t)(end - p) < 2 + k) {
            return false;
        }
        len = 0;
        for (size_t i = 0; i < k; i++) {
            len = (len << 8) | p[2 + i];
        }
        h += k;
    }
    if ((size_t)(end - p) < h + len) {
        return false;
    }
    *c = p + h;
    *n = len;
    *total = h + len;
    return true;
}

/* The CA's public key: a fixed P-256 point (openssl ecparam -genkey; the
 * private key is not kept: nothing checks a signature, see der_sign_cert). */
static const uint8_t g_ca_pub[65] = {
    0x04, 0x64, 0xbf, 0xe0, 0x09, 0xb3, 0x84, 0xf5, 0x5d, 0xa3, 0x23, 0xce, 0xb3,
    0x5a, 0x78, 0x2c, 0x1b, 0x55, 0xa6, 0x14, 0x51, 0xc1, 0x11, 0x12, 0xb4, 0x71,
    0x18, 0x2d, 0xa3, 0xa1, 0xe5, 0xbc, 0xb9, 0x29, 0xd6, 0x52, 0xfd, 0xfc, 0x84,
    0x6c, 0x20, 0x10, 0xaa, 0x65, 0x9a, 0xb3, 0x1a, 0x31, 0xf7, 0x93, 0xae, 0x4a,
    0x89, 0x0f, 0xfe, 0x2f, 0xe4, 0xa9, 0x40, 0x63, 0x03, 0xe4, 0x25, 0x52, 0xb8};
static uint8_t g_ca_der[1024];
static size_t g_ca_len;
static uint8_t g_ca_kid[20];

static const uint8_t alg_ecdsa[] = {0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86,
                                    0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02};

/* Name: SEQUENCE { SET { SEQUENCE { commonName, UTF8String cn } } } */
static size_t der_name(uint8_t *out, const char *cn)
{
    uint8_t a[128], b[128];
    static const uint8_t oid_cn[] = {0x06, 0x03, 0x55, 0x04, 0x03};
    size_t n = strlen(cn);
    memcpy(a, oid_cn, sizeof oid_cn);
    n = sizeof oid_cn + der_tlv(a + sizeof oid_cn, 0x0C, (const uint8_t *)cn, n);
    n = der_tlv(b, 0x30, a, n);
    n = der_tlv(a, 0x31, b, n);
    return der_tlv(out, 0x30, a, n);
}

/* Certificate: SEQUENCE { tbs, ecdsa-with-SHA256, BIT STRING signature }.
 * The signature is an ECDSA-Sig-Value of fixed length whose r and s are
 * SHA-256 values of the tbs: the engine checks the chain's structure, keys
 * and names, never a signature (its crypto port is fake too), and the same
 * input must give the same bytes in every process (a real ECDSA signature,
 * random k, changed the leaf's bytes and length from one process to the
 * next, and so what an edit of the certificate answer met). */
static size_t der_sign_cert(uint8_t *out, const uint8_t *tbs, size_t tbs_len)
{
    uint8_t h[32], rs[70], sig[80], body[2048];
    size_t sl, n = 0;
    if (wc_Sha256Hash(tbs, (word32)tbs_len, h) != 0) {
        __builtin_trap();
    }
    for (size_t k = 0; k < 2U; k++) { /* INTEGER r, INTEGER s: 33 bytes each */
        uint8_t *p = rs + 35U * k;
        p[0] = 0x02;
        p[1] = 33;
        p[2] = 0;
        memcpy(p + 3, h, 32);
        p[3] |= 0x80U;
        if (wc_Sha256Hash(h, sizeof h, h) != 0) {
            __builtin_trap();
        }
    }
    sl = der_tlv(sig + 1, 0x30, rs, sizeof rs);
    sig[0] = 0;
    memcpy(body, tbs, tbs_len);
    n = tbs_len;
    memcpy(body + n, alg_ecdsa, sizeof alg_ecdsa);
    n += sizeof alg_ecdsa;
    n += der_tlv(body + n, 0x03, sig, sl + 1U);
    return der_tlv(out, 0x30, body, n);
}

/* TBSCertificate around subject, spki and the extensions' contents. */
static size_t der_tbs(uint8_t *out, uint8_t serial, const char *subject, const uint8_t *spki,
                      size_t spki_len, const uint8_t *exts, size_t exts_len)
{
    static const uint8_t ver[] = {0xA0, 0x03, 0x02, 0x01, 0x02};
    static const uint8_t validity[] = {0x30, 0x1E, 0x17, 0x0D, '2', '7', '0',  '1',  '0', '1', '0',
                                       '0',  '0',  '0',  '0',  '0', 'Z', 0x17, 0x0D, '2', '7', '0',
                                       '4',  '0',  '1',  '0',  '0', '0', '0',  '0',  '0', 'Z'};
    uint8_t b[2048], x[1024];
    size_t n = 0, k;
    memcpy(b, ver, sizeof ver);
    n = sizeof ver;
    uint8_t ser[2] = {0x7A, serial};
    n += der_tlv(b + n, 0x02, ser, 2);
    memcpy(b + n, alg_ecdsa, sizeof alg_ecdsa);
    n += sizeof alg_ecdsa;
    n += der_name(b + n, "picoacme fuzz CA");
    memcpy(b + n, validity, sizeof validity);
    n += sizeof validity;
    n += der_name(b + n, subject);
    memcpy(b + n, spki, spki_len);
    n += spki_len;
    k = der_tlv(x, 0x30, exts, exts_len);
    n += der_tlv(b + n, 0xA3, x, k);
    return der_tlv(out, 0x30, b, n);
}

/* authorityKeyIdentifier (or subjectKeyIdentifier) extension of the CA. */
static size_t der_kid_ext(uint8_t *out, bool authority)
{
    uint8_t a[64], b[64];
    size_t n;
    if (authority) {
        n = der_tlv(a, 0x80, g_ca_kid, sizeof g_ca_kid);
        n = der_tlv(b, 0x30, a, n);
        n = der_tlv(a, 0x04, b, n);
    } else {
        n = der_tlv(b, 0x04, g_ca_kid, sizeof g_ca_kid);
        n = der_tlv(a, 0x04, b, n);
    }
    static const uint8_t oid_aki[] = {0x06, 0x03, 0x55, 0x1D, 0x23};
    memcpy(b, oid_aki, sizeof oid_aki);
    if (!authority) {
        b[4] = 0x0E;
    }
    memcpy(b + sizeof oid_aki, a, n);
    return der_tlv(out, 0x30, b, sizeof oid_aki + n);
}

static void ca_init(void)
{
    static bool done;
    uint8_t spki[128], pt[80], tbs[2048], ext[256];
    size_t n, e;
    if (done) {
        return;
    }
    done = true;
    static const uint8_t alg_ec[] = {0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48,
                                     0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A,
                                     0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
    pt[0] = 0;
    memcpy(pt + 1, g_ca_pub, 65);
    memcpy(spki + 4, alg_ec, sizeof alg_ec);
    n = sizeof alg_ec + der_tlv(spki + 4 + sizeof alg_ec, 0x03, pt, 66);
    n = der_tlv(spki, 0x30, spki + 4, n);
    {
        uint8_t h[32];
        wc_Sha256Hash(g_ca_pub, 65, h);
        memcpy(g_ca_kid, h, sizeof g_ca_kid);
    }
    /* basicConstraints critical CA:TRUE, subjectKeyIdentifier */
    static const uint8_t bc[] = {0x30, 0x0F, 0x06, 0x03, 0x55, 0x1D, 0x13, 0x01, 0x01,
                                 0xFF, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xFF};
    memcpy(ext, bc, sizeof bc);
    e = sizeof bc + der_kid_ext(ext + sizeof bc, false);
    n = der_tbs(tbs, 1, "picoacme fuzz CA", spki, n, ext, e);
    g_ca_len = der_sign_cert(g_ca_der, tbs, n);
}

/* The leaf for a CSR: its SubjectPublicKeyInfo and requested extensions,
 * plus the CA's authorityKeyIdentifier. Cached per CSR. */
typedef struct leaf {
    uint8_t csr[1024];
    size_t csr_len;
    uint8_t der[2048];
    size_t len;
} leaf_t;
static leaf_t g_leaf[8];
static size_t g_nleaf;

static bool csr_parts(const uint8_t *csr, size_t n, const uint8_t **spki, size_t *spki_len,
                      const uint8_t **exts, size_t *exts_len)
{
    const uint8_t *c, *cri, *p, *end;
    size_t cn, t;
    uint8_t tag;
    *exts = NULL;
    *exts_len = 0;
    if (!der_read(csr, csr + n, &tag, &c, &cn, &t) || !der_read(c, c + cn, &tag, &cri, &cn, &t)) {
        return false;
    }
    p = cri;
    end = cri + cn;
    for (int i = 0; p < end; i++) {
        const uint8_t *v;
        size_t vn;
        if (!der_read(p, end, &tag, &v, &vn, &t)) {
            return false;
        }
        if (i == 2) {
            *spki = p;
            *spki_len = t;
        }
        if (tag == 0xA0) { /* attributes: the first one's first value */
            const uint8_t *a, *o, *s;
            size_t an, on, sn, t2;
            if (der_read(v, v + vn, &tag, &a, &an, &t2) &&
                der_read(a, a + an, &tag, &o, &on, &t2) &&
                der_read(a + t2, a + an, &tag, &s, &sn, &t2) &&
                der_read(s, s + sn, &tag, exts, exts_len, &t2)) {
                /* *exts: the contents of Extensions */
            }
        }
        p += t;
    }
    return *spki != NULL;
}

/* Issue for csr[0..n) into l: variant 0 as asked, 1 for another key (a
 * byte of the point changed), 2 without the subjectAltName. */
static bool leaf_build(const uint8_t *csr, size_t n, unsigned variant, leaf_t *l)
{
    const uint8_t *spki = NULL, *exts;
    size_t spki_len = 0, exts_len;
    uint8_t key[256], ext[1024], tbs[2048];
    if (n > sizeof l->csr || !csr_parts(csr, n, &spki, &spki_len, &exts, &exts_len) ||
        exts_len > 700U || spki_len > sizeof key) {
        return false;
    }
    ca_init();
    memcpy(l->csr, csr, n);
    l->csr_len = n;
    memcpy(key, spki, spki_len);
    key[spki_len - 1U] ^= variant == 1U ? 0x5AU : 0U;
    exts_len = variant == 2U ? 0U : exts_len;
    memcpy(ext, exts, exts_len);
    size_t e = exts_len + der_kid_ext(ext + exts_len, true);
    size_t t = der_tbs(tbs, (uint8_t)(0x80U + g_nleaf), "", key, spki_len, ext, e);
    l->len = der_sign_cert(l->der, tbs, t);
    return true;
}

/* The leaf for a CSR, cached (the fake crypto makes the same CSR for every
 * input of a scenario). */
static const leaf_t *leaf_for(const uint8_t *csr, size_t n)
{
    for (size_t i = 0; i < g_nleaf; i++) {
        if (g_leaf[i].csr_len == n && memcmp(g_leaf[i].csr, csr, n) == 0) {
            return &g_leaf[i];
        }
    }
    leaf_t *l = &g_leaf[g_nleaf < 8U ? g_nleaf++ : 7U];
    return leaf_build(csr, n, 0, l) ? l : NULL;
}

/* ---- the fake ports --------------------------------------------------------- */

/* ED_IO: the next port calls of one kind fail */
enum {
    IO_CONNECT_AGAIN, /* the name still resolves */
    IO_CONNECT_NOT_FOUND,
    IO_CONNECT_IO,
    IO_SEND_WANT, /* WANT_WRITE */
    IO_SEND_PART, /* half of it sent */
    IO_SEND_CLOSED,
    IO_RECV_STALL, /* no byte comes: the exchange times out */
    IO_RECV_WANT,
    IO_TLS_OPEN,
    IO_TLS_VERIFY,
    IO_KEYGEN,
    IO_SIGN,
    IO_KINDS
};
static unsigned g_io_fault, g_io_left;

static bool io_fault(unsigned kind)
{
    if (g_io_left == 0 || g_io_fault != kind) {
        return false;
    }
    g_io_left--;
    return true;
}

/* ED_ALPN: the tls-alpn-01 server's port faults */
enum { ALPN_LISTEN, ALPN_OPEN, ALPN_WANT, ALPN_EXPORT, ALPN_NO_SERVER, ALPN_KINDS };
static unsigned g_alpn_fault = ALPN_KINDS, g_alpn_left;

static bool alpn_fault(unsigned kind)
{
    if (g_alpn_left == 0 || g_alpn_fault != kind) {
        return false;
    }
    g_alpn_left--;
    return true;
}

static uint8_t g_flash[FLASH_SIZE];
static uint32_t g_now;
static int64_t g_wall_jump;
static bool g_fail_store, g_fail_hook, g_fail_connect, g_fail_read;

static picoacme_err_t c_random(void *u, uint8_t *b, size_t n)
{
    (void)u;
    for (size_t i = 0; i < n; i++) {
        b[i] = (uint8_t)(i * 37U + 11U);
    }
    return PICOACME_OK;
}

static picoacme_err_t c_hash(void *u, const picoacme_iov_t *iov, size_t cnt, uint8_t out[32])
{
    (void)u;
    memset(out, 0x5a, 32);
    for (size_t i = 0; i < cnt; i++) {
        for (size_t j = 0; j < iov[i].len; j++) {
            out[j % 32U] = (uint8_t)(out[j % 32U] * 31U + iov[i].ptr[j]);
        }
    }
    return PICOACME_OK;
}

/* HMAC: a checksum byte and 31 zeros, as in fuzz_dns.c: the fake DNS server
 * finds the MAC of its answers by trying the 256 values (the last value
 * computed is kept: it is the one to try first). */
static int g_hmac_last = -1;
static picoacme_err_t c_hmac(void *u, const uint8_t *k, size_t kl, const picoacme_iov_t *iov,
                             size_t cnt, uint8_t out[32])
{
    uint8_t sum = 0;
    (void)u;
    for (size_t j = 0; j < kl; j++) {
        sum = (uint8_t)(sum + k[j]);
    }
    for (size_t i = 0; i < cnt; i++) {
        for (size_t j = 0; j < iov[i].len; j++) {
            sum = (uint8_t)(sum + iov[i].ptr[j]);
        }
    }
    memset(out, 0, 32);
    out[0] = sum;
    g_hmac_last = sum;
    return PICOACME_OK;
}

static uint8_t g_keygen[3]; /* bumped by every key generation: rollover */

static picoacme_err_t c_gen(void *u, picoacme_key_slot_t s)
{
    (void)u;
    if (io_fault(IO_KEYGEN)) {
        return PICOACME_ERR_CRYPTO;
    }
    g_keygen[s % 3U]++;
    return PICOACME_OK;
}

static picoacme_err_t c_pub(void *u, picoacme_key_slot_t s, uint8_t pub[64])
{
    (void)u;
    memset(pub, 0x11 + (int)s, 64);
    pub[0] = g_keygen[s % 3U];
    return PICOACME_OK;
}

static picoacme_err_t c_sign(void *u, picoacme_key_slot_t s, const uint8_t d[32], uint8_t sig[64])
{
    (void)u, (void)s;
    if (io_fault(IO_SIGN)) {
        return PICOACME_ERR_CRYPTO;
    }
    memcpy(sig, d, 32);
    memcpy(sig + 32, d, 32);
    return PICOACME_OK;
}

static picoacme_err_t c_export(void *u, picoacme_key_slot_t s, uint8_t priv[32])
{
    (void)u;
    if (s == PICOACME_KEY_CHALLENGE && alpn_fault(ALPN_EXPORT)) {
        return PICOACME_ERR_CRYPTO;
    }
    memset(priv, 0x21 + (int)s, 32);
    priv[0] = g_keygen[s % 3U];
    return PICOACME_OK;
}

static picoacme_err_t c_import(void *u, picoacme_key_slot_t s, const uint8_t priv[32])
{
    (void)u;
    g_keygen[s % 3U] = priv[0];
    return PICOACME_OK;
}

static picoacme_err_t f_read(void *u, size_t off, uint8_t *b, size_t n)
{
    (void)u;
    if (g_fail_read || off > FLASH_SIZE || n > FLASH_SIZE - off) {
        return PICOACME_ERR_STORAGE;
    }
    memcpy(b, g_flash + off, n);
    return PICOACME_OK;
}

static picoacme_err_t f_write(void *u, size_t off, const uint8_t *b, size_t n)
{
    (void)u;
    if (g_fail_store || off > FLASH_SIZE || n > FLASH_SIZE - off) {
        return PICOACME_ERR_STORAGE;
    }
    for (size_t i = 0; i < n; i++) {
        g_flash[off + i] &= b[i];
    }
    return PICOACME_OK;
}

static picoacme_err_t f_erase(void *u, size_t off, size_t n)
{
    (void)u;
    if (g_fail_store || off > FLASH_SIZE || n > FLASH_SIZE - off) {
        return PICOACME_ERR_STORAGE;
    }
    memset(g_flash + off, 0xff, n);
    return PICOACME_OK;
}

static int64_t k_wall(void *u)
{
    (void)u;
    return 1800000000 + (int64_t)((uint32_t)(g_now - 0xFFFFF000U) / 1000U) + g_wall_jump;
}

static uint32_t k_mono(void *u)
{
    (void)u;
    return g_now;
}

static picoacme_err_t d_txt(void *u, const char *fqdn, const char *value, bool add)
{
    (void)u, (void)value;
    trace("  hook: %s %s\n", add ? "add" : "remove", fqdn);
    return g_fail_hook ? PICOACME_ERR_DNS : PICOACME_OK;
}

/* ---- the fake CA -------------------------------------------------------------- */

enum {
    K_DIR,
    K_NONCE,
    K_ACCT,
    K_ORDER,
    K_AUTHZ,
    K_CHALL,
    K_FINAL,
    K_POLL_ORDER,
    K_CERT,
    K_ARI,
    K_REVOKE,
    K_KEYCHANGE,
    K_ACCT_POST,
    K_UNKNOWN,
    K_KINDS
};

static struct ca {
    char req[REQ_CAP];
    size_t req_len;
    char ans[ANS_CAP];
    size_t ans_len, ans_pos;
    char prev[ANS_CAP];
    size_t prev_len;
    size_t piece;     /* receive piece size, 0: the engine's whole buffer */
    bool close_after; /* the connection closes after this answer */
    bool close_now;   /* ...or before any byte */
    bool open;
    unsigned n_answers; /* answers written in this run */
    int authz_polls[4]; /* -1: no challenge yet; polls since the challenge */
    int order_polls;    /* -1: not finalized; polls since finalize */
    char chall_type[4][16];
    int validate;     /* a validator waits to connect: 0 none, 1 http-01, 2 tls-alpn-01 */
    int validate_idx; /* for which authorization */
    const leaf_t *leaf;
    unsigned nonce;
} g_ca;

/* the validator's http-01 request / tls-alpn-01 handshake */
static struct validator {
    bool open, tls;
    char req[256];
    size_t len, pos;
} g_val;

static const char *g_tok[4] = {"tok0_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                               "tok1_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
                               "tok2_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC",
                               "tok3_DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD"};

/* The scenario's identifiers. */
static picoacme_ident_t g_ids[2];
static size_t g_nids;

static bool scen_ari(void)
{
    return (g_scen & 0x20U) != 0;
}

/* The payload of a JWS request body, decoded (NUL-terminated). */
static size_t jws_payload(const char *body, size_t n, char *out, size_t cap)
{
    const char *p = memmem(body, n, "\"payload\":\"", 11);
    size_t k = 0;
    if (p == NULL) {
        out[0] = '\0';
        return 0;
    }
    p += 11;
    const char *q = memchr(p, '"', (size_t)(body + n - p));
    if (q != NULL) {
        k = b64u_dec(p, (size_t)(q - p), (uint8_t *)out, cap - 1U);
    }
    out[k] = '\0';
    return k;
}

static void body_authz(sbuf_t *b, int i)
{
    const picoacme_ident_t *id = &g_ids[i];
    bool ip = id->type == PICOACME_ID_IP;
    bool wild = id->value[0] == '*';
    const char *val = wild ? id->value + 2 : id->value;
    int polls = g_ca.authz_polls[i];
    const char *st = polls >= 1 ? "valid" : "pending";
    sb_fmt(
        b,
        "{\"status\":\"%s\",\"expires\":\"2027-01-22T00:00:00Z\",\"identifier\":{\"type\":\"%s\","
        "\"value\":\"%s\"},%s\"challenges\":[",
        st, ip ? "ip" : "dns", val, wild ? "\"wildcard\":true," : "");
    static const char *const types[3] = {"http-01", "tls-alpn-01", "dns-01"};
    bool first = true;
    for (int t = 0; t < 3; t++) {
        if ((wild && t != 2) || (ip && t == 2)) {
            continue;
        }
        const char *cst = "pending";
        if (polls >= 1 && strcmp(g_ca.chall_type[i], types[t]) == 0) {
            cst = "valid";
        }
        sb_fmt(b,
               "%s{\"type\":\"%s\",\"url\":\"" CA
               "/chall/%d/%d\",\"status\":\"%s\",\"token\":\"%s\"%s}",
               first ? "" : ",", types[t], i, t, cst, g_tok[i],
               strcmp(cst, "valid") == 0 ? ",\"validated\":\"2027-01-15T00:00:00Z\"" : "");
        first = false;
    }
    sb_fmt(b, "]}");
}

static void body_order(sbuf_t *b)
{
    bool all = true;
    for (size_t i = 0; i < g_nids; i++) {
        all = all && g_ca.authz_polls[i] >= 1;
    }
    const char *st = g_ca.order_polls >= 1   ? "valid"
                     : g_ca.order_polls == 0 ? "processing"
                     : all                   ? "ready"
                                             : "pending";
    sb_fmt(b, "{\"status\":\"%s\",\"expires\":\"2027-01-22T00:00:00Z\",\"identifiers\":[", st);
    for (size_t i = 0; i < g_nids; i++) {
        const picoacme_ident_t *id = &g_ids[i];
        sb_fmt(b, "%s{\"type\":\"%s\",\"value\":\"%s\"}", i ? "," : "",
               id->type == PICOACME_ID_IP ? "ip" : "dns", id->value);
    }
    sb_fmt(b, "],\"authorizations\":[");
    for (size_t i = 0; i < g_nids; i++) {
        sb_fmt(b, "%s\"" CA "/authz/%u\"", i ? "," : "", (unsigned)i);
    }
    sb_fmt(b, "],\"finalize\":\"" CA "/finalize/1\"");
    if (g_ca.order_polls >= 1) {
        sb_fmt(b, ",\"certificate\":\"" CA "/cert/1\"");
    }
    sb_fmt(b, "}");
}

/* A good answer to a request of kind k: status, extra headers, body. */
typedef struct answer {
    int status;
    char hdr[1024];
    size_t hdr_len;
    char body[8192];
    size_t body_len;
    const char *ctype;
    bool head; /* no body bytes (HEAD) */
} answer_t;

static void good_answer(int k, int idx, const char *payload, answer_t *a)
{
    sbuf_t h = {a->hdr, sizeof a->hdr, 0};
    sbuf_t b = {a->body, sizeof a->body, 0};
    a->status = 200;
    a->ctype = "application/json";
    a->head = false;
    switch (k) {
    case K_DIR:
        sb_fmt(&b,
               "{\"newNonce\":\"" CA "/nonce\",\"newAccount\":\"" CA "/acct/new\","
               "\"newOrder\":\"" CA "/order/new\",\"revokeCert\":\"" CA "/revoke\","
               "\"keyChange\":\"" CA "/keychange\"%s,\"meta\":{\"termsOfService\":"
               "\"" CA "/tos\",\"externalAccountRequired\":%s}}",
               scen_ari() ? ",\"renewalInfo\":\"" CA "/ari\"" : "",
               (g_scen & 0x40U) ? "true" : "false");
        break;
    case K_NONCE:
        a->ctype = NULL;
        a->head = true;
        break;
    case K_ACCT:
        a->status = strstr(payload, "onlyReturnExisting") != NULL ? 200 : 201;
        sb_fmt(&h, "Location: " CA "/acct/1\r\n");
        sb_fmt(&b, "{\"status\":\"valid\",\"contact\":[],\"orders\":\"" CA "/acct/1/orders\"}");
        break;
    case K_ORDER:
        a->status = 201;
        sb_fmt(&h, "Location: " CA "/order/1\r\n");
        body_order(&b);
        break;
    case K_AUTHZ: body_authz(&b, idx); break;
    case K_CHALL:
        sb_fmt(&b,
               "{\"type\":\"%s\",\"url\":\"" CA "/chall/%d/0\",\"status\":\"processing\","
               "\"token\":\"%s\"}",
               g_ca.chall_type[idx], idx, g_tok[idx]);
        sb_fmt(&h, "Link: <" CA "/authz/%d>;rel=\"up\"\r\n", idx);
        break;
    case K_FINAL:
    case K_POLL_ORDER:
        sb_fmt(&h, "Location: " CA "/order/1\r\n");
        body_order(&b);
        if (g_ca.order_polls == 0) {
            sb_fmt(&h, "Retry-After: 1\r\n");
        }
        break;
    case K_CERT:
        a->ctype = "application/pem-certificate-chain";
        if (g_ca.leaf != NULL) {
            pem_add(&b, g_ca.leaf->der, g_ca.leaf->len);
            pem_add(&b, g_ca_der, g_ca_len);
        }
        break;
    case K_ARI:
        sb_fmt(&h, "Retry-After: 21600\r\n");
        sb_fmt(&b, "{\"suggestedWindow\":{\"start\":\"2027-01-20T00:00:00Z\",\"end\":"
                   "\"2027-01-21T00:00:00Z\"},\"explanationURL\":\"" CA "/why\"}");
        break;
    case K_REVOKE: a->ctype = NULL; break;
    case K_KEYCHANGE:
    case K_ACCT_POST:
        sb_fmt(&b, "{\"status\":\"%s\",\"orders\":\"" CA "/acct/1/orders\"}",
               strstr(payload, "deactivated") != NULL ? "deactivated" : "valid");
        break;
    default:
        a->status = 404;
        a->ctype = "application/problem+json";
        sb_fmt(&b,
               "{\"type\":\"urn:ietf:params:acme:error:malformed\",\"detail\":\"no such path\"}");
        break;
    }
    a->hdr_len = h.len;
    a->body_len = b.len;
}

/* ---- the edits ------------------------------------------------------------------- */

static const int k_status[] = {200, 201, 204, 202, 301, 400, 401, 403, 404,
                               405, 409, 429, 500, 503, 100, 999, 0,   299};
static const char *const k_header[] = {
    "Retry-After: 1",
    "Retry-After: 0",
    "Retry-After: 86400",
    "Retry-After: 4294967296",
    "Retry-After: Wed, 21 Oct 2026 07:28:00 GMT",
    "Retry-After: -1",
    "Replay-Nonce: ",
    "Replay-Nonce: bad nonce with spaces",
    "Replay-Nonce: "
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "Connection: close",
    "Connection: keep-alive",
    "Content-Type: application/problem+json",
    "Content-Type: text/html",
    "Location: " CA "/other/9",
    "Location: ",
    "Location: https://[::1]:443/x",
    "Link: <" CA "/dir>;rel=\"index\"",
    "Link: <" CA "/alt>;rel=\"alternate\"",
    "Date: Fri, 15 Jan 2027 08:00:00 GMT",
    "Date: Thu, 01 Jan 1970 00:00:00 GMT",
    "Date: garbage",
    "Content-Length: 5",
    "Content-Length: 999999999999",
    "Transfer-Encoding: gzip",
    "X-Long: "
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAA",
    "Replay-Nonce: second-nonce",
};
static const char *const k_value[] = {
    "",
    "valid",
    "invalid",
    "pending",
    "processing",
    "ready",
    "deactivated",
    "expired",
    "revoked",
    "http://ca.example/x",
    "https://ca.example:8443/y",
    "http://[::1]:80/z",
    "ftp://ca.example/",
    "http://",
    "http-01",
    "tls-alpn-01",
    "dns-01",
    "dns",
    "ip",
    "192.0.2.7",
    "other.example",
    "*.device.example",
    "2027-01-01T00:00:00Z",
    "2027-13-45T99:99:99Z",
    "1970-01-01T00:00:00Z",
    "2027-01-20T00:00:00.123+01:00",
    "urn:ietf:params:acme:error:badNonce",
    "a\\u0000b",
    "\\ud800",
    "tok/../../etc",
    "tok with space",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAA",
};
static const char *const k_problem[] = {"badNonce",
                                        "rateLimited",
                                        "orderNotReady",
                                        "alreadyReplaced",
                                        "accountDoesNotExist",
                                        "unauthorized",
                                        "serverInternal",
                                        "malformed",
                                        "badCSR",
                                        "rejectedIdentifier",
                                        "caa",
                                        "connection",
                                        "dns",
                                        "externalAccountRequired",
                                        "userActionRequired",
                                        "unsupportedIdentifier",
                                        "badRevocationReason",
                                        "alreadyRevoked",
                                        "badSignatureAlgorithm",
                                        "badPublicKey",
                                        "invalidContact",
                                        "incorrectResponse",
                                        "tls",
                                        "compound",
                                        "unsupportedContact",
                                        "badRevocation\r\nX-Injected: 1"};
static const int k_problem_status[] = {400, 403, 404, 429, 500, 503};
static const int64_t k_jump[] = {3600,        86400,  30 * 86400,      60 * 86400,
                                 365 * 86400, -86400, -3600 * 24 * 365};

/* The a-th string literal of the body: its span, quotes included. */
static bool nth_string(const char *s, size_t n, unsigned a, size_t *from, size_t *to)
{
    unsigned k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '"') {
            continue;
        }
        size_t j = i + 1;
        while (j < n && s[j] != '"') {
            j += s[j] == '\\' ? 2U : 1U;
        }
        if (j >= n) {
            return false;
        }
        if (k++ == a) {
            *from = i;
            *to = j + 1;
            return true;
        }
        i = j;
    }
    return false;
}

static void splice(answer_t *a, size_t from, size_t to, const char *v, size_t vn)
{
    size_t tail = a->body_len - to;
    if (from + vn + tail > sizeof a->body) {
        return;
    }
    memmove(a->body + from + vn, a->body + to, tail);
    memcpy(a->body + from, v, vn);
    a->body_len = from + vn + tail;
}

static void edit_json(answer_t *a, unsigned idx, const char *v, size_t vn, bool quote)
{
    char q[300];
    size_t from, to;
    unsigned cnt = 0;
    for (size_t i = 0; i < a->body_len; i++) {
        cnt += a->body[i] == '"';
    }
    if (cnt < 2 || !nth_string(a->body, a->body_len, idx % (cnt / 2U), &from, &to)) {
        return;
    }
    if (quote) {
        int k = snprintf(q, sizeof q, "\"%.*s\"", (int)vn, v);
        splice(a, from, to, q, (size_t)k < sizeof q ? (size_t)k : sizeof q - 1U);
    } else {
        splice(a, from, to, v, vn);
    }
}

typedef struct shape {
    unsigned leaf; /* ED_LEAF: 1 + a%5 */
    bool drop_location, drop_nonce, drop_ctype, drop_body, chunked, cut;
    size_t chunk, cut_at;
} shape_t;

static void apply_edit(const edit_t *e, answer_t *a, shape_t *sh, int *kind)
{
    sbuf_t h = {a->hdr, sizeof a->hdr, a->hdr_len};
    switch (e->kind) {
    case ED_STATUS: a->status = k_status[e->a % (sizeof k_status / sizeof k_status[0])]; break;
    case ED_HEADER:
        sb_fmt(&h, "%s\r\n", k_header[e->a % (sizeof k_header / sizeof k_header[0])]);
        a->hdr_len = h.len;
        break;
    case ED_DROP:
        sh->drop_location |= (e->a & 1U) != 0;
        sh->drop_nonce |= (e->a & 2U) != 0;
        sh->drop_ctype |= (e->a & 4U) != 0;
        sh->drop_body |= (e->a & 8U) != 0;
        break;
    case ED_JSON: {
        const char *v = k_value[e->b % (sizeof k_value / sizeof k_value[0])];
        edit_json(a, e->a, v, strlen(v), true);
        break;
    }
    case ED_JSON_RAW: edit_json(a, e->a, (const char *)e->raw, e->b, false); break;
    case ED_TRUNC:
        if (a->body_len > 0) {
            a->body_len = ((size_t)e->a * 256U + e->b) % a->body_len;
        }
        break;
    case ED_CUT:
        sh->cut = true;
        sh->cut_at = (size_t)e->a * 256U + e->b;
        break;
    case ED_SPLIT: g_ca.piece = (size_t)e->a + 1U; break;
    case ED_PROBLEM: {
        sbuf_t b = {a->body, sizeof a->body, 0};
        a->status = k_problem_status[e->b % (sizeof k_problem_status / sizeof(int))];
        a->ctype = "application/problem+json";
        a->head = false;
        sb_fmt(&b,
               "{\"type\":\"urn:ietf:params:acme:error:%s\",\"detail\":\"fuzz\\n%u\","
               "\"status\":%d%s}",
               k_problem[e->a % (sizeof k_problem / sizeof k_problem[0])], e->b, a->status,
               (e->b & 0x40U) ? ",\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:caa\","
                                "\"identifier\":{\"type\":\"dns\",\"value\":\"device.example\"}}]"
                              : "");
        a->body_len = b.len;
        if (e->b & 0x80U) {
            sb_fmt(&h, "Retry-After: %u\r\n", (unsigned)(e->b & 7U));
            a->hdr_len = h.len;
        }
        break;
    }
    case ED_OTHER: *kind = e->a % K_KINDS; break;
    case ED_RAW:
        memcpy(a->body, e->raw, e->b);
        a->body_len = e->b;
        break;
    case ED_TIME:
        g_wall_jump += k_jump[e->a % (sizeof k_jump / sizeof k_jump[0])];
        g_now += (uint32_t)e->b * 60000U;
        break;
    case ED_CLOSE: g_ca.close_now = true; break;
    case ED_LEAF: sh->leaf = 1U + e->a % 5U; break;
    case ED_CHUNKED:
        sh->chunked = true;
        sh->chunk = (size_t)e->a + 1U;
        break;
    case ED_FAULT:
        g_fail_store |= e->a % 4U == 0;
        g_fail_hook |= e->a % 4U == 1;
        g_fail_connect |= e->a % 4U == 2;
        g_fail_read |= e->a % 4U == 3;
        break;
    default: break;
    }
}

static void serialize(const answer_t *a, const shape_t *sh)
{
    sbuf_t o = {g_ca.ans, sizeof g_ca.ans, 0};
    size_t body_len = sh->drop_body ? 0 : a->body_len;
    sb_fmt(&o, "HTTP/1.1 %d X\r\nServer: fuzz\r\n", a->status);
    if (!sh->drop_nonce) {
        sb_fmt(&o, "Replay-Nonce: nonce-%u_AbC-dEf\r\n", ++g_ca.nonce);
    }
    if (a->ctype != NULL && !sh->drop_ctype) {
        sb_fmt(&o, "Content-Type: %s\r\n", a->ctype);
    }
    if (sh->drop_location) {
        /* the extra headers without Location */
        const char *p = a->hdr, *end = a->hdr + a->hdr_len;
        while (p < end) {
            const char *nl = memmem(p, (size_t)(end - p), "\r\n", 2);
            size_t n = nl != NULL ? (size_t)(nl - p) + 2U : (size_t)(end - p);
            if (strncmp(p, "Location:", 9) != 0) {
                sb_add(&o, p, n);
            }
            p += n;
        }
    } else {
        sb_add(&o, a->hdr, a->hdr_len);
    }
    if (sh->chunked && !a->head) {
        sb_fmt(&o, "Transfer-Encoding: chunked\r\n\r\n");
        for (size_t i = 0; i < body_len; i += sh->chunk) {
            size_t k = body_len - i < sh->chunk ? body_len - i : sh->chunk;
            sb_fmt(&o, "%zx\r\n", k);
            sb_add(&o, a->body + i, k);
            sb_fmt(&o, "\r\n");
        }
        sb_fmt(&o, "0\r\n\r\n");
    } else {
        sb_fmt(&o, "Content-Length: %zu\r\n\r\n", body_len);
        if (!a->head) {
            sb_add(&o, a->body, body_len);
        }
    }
    g_ca.ans_len = o.len;
    if (sh->cut && o.len > 0) {
        g_ca.ans_len = sh->cut_at % o.len;
        g_ca.close_after = true;
    }
}

/* ED_LEAF: a chain the engine must refuse, or take with care. */
static void spoil_chain(answer_t *a, unsigned how)
{
    static leaf_t other;
    sbuf_t b = {a->body, sizeof a->body, 0};
    const leaf_t *l = g_ca.leaf;
    if ((how == 1 || how == 2) && leaf_build(l->csr, l->csr_len, how, &other)) {
        l = &other;
    }
    if (how == 3) {
        pem_add(&b, g_ca_der, g_ca_len);
    }
    pem_add(&b, l->der, l->len);
    if (how == 4) {
        sb_fmt(&b, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    } else if (how != 5) {
        pem_add(&b, g_ca_der, g_ca_len);
    }
    a->body_len = b.len;
}

/* The request kind of a method and path, and the index in the path. */
static int kind_of(const char *m, const char *path, const char *payload, int *idx)
{
    static const struct {
        const char *prefix;
        int kind;
    } routes[] = {{"/dir", K_DIR},         {"/nonce", K_NONCE},        {"/acct/new", K_ACCT},
                  {"/order/new", K_ORDER}, {"/authz/", K_AUTHZ},       {"/chall/", K_CHALL},
                  {"/finalize/", K_FINAL}, {"/order/1", K_POLL_ORDER}, {"/cert/", K_CERT},
                  {"/ari/", K_ARI},        {"/revoke", K_REVOKE},      {"/keychange", K_KEYCHANGE},
                  {"/acct/1", K_ACCT_POST}};
    (void)m, (void)payload;
    *idx = 0;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        size_t n = strlen(routes[i].prefix);
        if (strncmp(path, routes[i].prefix, n) == 0) {
            const char *d = path + n;
            if (*d >= '0' && *d <= '3') {
                *idx = *d - '0';
            }
            return routes[i].kind;
        }
    }
    return K_UNKNOWN;
}

/* The CA's side effects of a request (before the edits). */
static void ca_act(int k, int idx, const char *payload, size_t plen)
{
    static const char *const types[3] = {"http-01", "tls-alpn-01", "dns-01"};
    switch (k) {
    case K_ORDER:
        for (int i = 0; i < 4; i++) {
            g_ca.authz_polls[i] = -1;
        }
        g_ca.order_polls = -1;
        break;
    case K_CHALL: {
        const char *p = strchr(g_ca.req, ' ');
        int t = 0;
        if (p != NULL && (p = strstr(p, "/chall/")) != NULL && p[8] == '/') {
            t = (p[9] - '0') % 3;
        }
        snprintf(g_ca.chall_type[idx], sizeof g_ca.chall_type[idx], "%s", types[t]);
        g_ca.authz_polls[idx] = 0;
        g_ca.validate = t == 0 ? 1 : t == 1 ? 2 : 0;
        g_ca.validate_idx = idx;
        break;
    }
    case K_AUTHZ:
        if (g_ca.authz_polls[idx] >= 0) {
            g_ca.authz_polls[idx]++;
        }
        break;
    case K_FINAL: {
        const char *c = strstr(payload, "\"csr\":\"");
        if (c != NULL) {
            static uint8_t der[2048];
            c += 7;
            const char *q = strchr(c, '"');
            size_t n = q != NULL ? b64u_dec(c, (size_t)(q - c), der, sizeof der) : 0U;
            g_ca.leaf = leaf_for(der, n);
        }
        g_ca.order_polls = 0;
        (void)plen;
        break;
    }
    case K_POLL_ORDER:
        if (g_ca.order_polls >= 0) {
            g_ca.order_polls++;
        }
        break;
    default: break;
    }
}

/* A whole request is in g_ca.req: write its answer. */
static void ca_answer(size_t hdr_end, size_t body_len)
{
    static answer_t a;
    static char payload[8192];
    char method[8] = "", path[256] = "";
    shape_t sh;
    int idx, k;
    unsigned n = g_ca.n_answers++;
    bool repeat = false;

    sscanf(g_ca.req, "%7s %255s", method, path);
    size_t plen = jws_payload(g_ca.req + hdr_end, body_len, payload, sizeof payload);
    k = kind_of(method, path, payload, &idx);
    trace("  #%u %s %s (%zu)\n", n, method, path, plen);
    ca_act(k, idx, payload, plen);
    memset(&sh, 0, sizeof sh);
    g_ca.piece = 0;
    g_ca.close_after = g_ca.close_now = false;
    int kind = k;
    good_answer(k, idx, payload, &a);
    for (size_t i = 0; i < g_ned; i++) {
        if (g_ed[i].at == n) {
            int before = kind;
            if (g_ed[i].kind == ED_REPEAT) {
                repeat = g_ca.prev_len > 0;
            }
            apply_edit(&g_ed[i], &a, &sh, &kind);
            if (kind != before) {
                good_answer(kind, idx, payload, &a);
            }
        }
    }
    if (sh.leaf != 0 && kind == K_CERT && g_ca.leaf != NULL) {
        spoil_chain(&a, sh.leaf);
    }
    if (repeat) {
        memcpy(g_ca.ans, g_ca.prev, g_ca.prev_len);
        g_ca.ans_len = g_ca.prev_len;
    } else {
        serialize(&a, &sh);
    }
    g_ca.ans_pos = 0;
    memcpy(g_ca.prev, g_ca.ans, g_ca.ans_len);
    g_ca.prev_len = g_ca.ans_len;
    if (g_trace) {
        const char *nl = memchr(g_ca.ans, '\r', g_ca.ans_len);
        trace("     -> %.*s\n", (int)(nl ? nl - g_ca.ans : 0), g_ca.ans);
    }
}

/* Is a whole request in g_ca.req? Then answer it. */
static void ca_take(void)
{
    const char *e = memmem(g_ca.req, g_ca.req_len, "\r\n\r\n", 4);
    size_t hdr_end, cl = 0;
    if (e == NULL) {
        return;
    }
    hdr_end = (size_t)(e - g_ca.req) + 4U;
    const char *c = memmem(g_ca.req, hdr_end, "Content-Length:", 15);
    if (c == NULL) {
        c = memmem(g_ca.req, hdr_end, "content-length:", 15);
    }
    if (c != NULL) {
        cl = strtoul(c + 15, NULL, 10);
    }
    if (g_ca.req_len < hdr_end + cl) {
        return;
    }
    g_ca.req[g_ca.req_len < REQ_CAP ? g_ca.req_len : REQ_CAP - 1U] = '\0';
    ca_answer(hdr_end, cl);
    g_ca.req_len = 0;
}

static const picoacme_crypto_t g_cr_dns = {NULL, NULL, NULL, c_hmac, NULL, NULL, NULL, NULL, NULL};

/* ---- the fake DNS server (dns-01 over RFC 2136, and the resolver) ----------------- */

static const uint8_t g_tsig_secret[8] = {9, 8, 7, 6, 5, 4, 3, 2};
static const picoacme_tsig_key_t g_tsig = {"acme-key", g_tsig_secret, sizeof g_tsig_secret};

static struct dns_srv {
    uint8_t ans[1024];
    size_t len, pos; /* an answer waiting (UDP: one datagram; TCP: framed) */
    bool ready;
    uint8_t prev[1024];
    size_t prev_len;
    uint8_t txt[512]; /* RDATA of the last TXT record added */
    size_t txt_len;
    uint8_t req[1024]; /* TCP: the request being received */
    size_t req_len;
    size_t piece;
    uint8_t req_mac[32]; /* UPDATE: the request's MAC, where ours goes */
    size_t mac_off;
} g_dns_srv;

/* Offset after the name at off (uncompressed or ending in a pointer). */
static size_t dns_skip_name(const uint8_t *m, size_t n, size_t off)
{
    while (off < n) {
        if ((m[off] & 0xC0U) == 0xC0U) {
            return off + 2;
        }
        if (m[off] == 0) {
            return off + 1;
        }
        off += (size_t)m[off] + 1U;
    }
    return n + 1;
}

/* Offset after the record at off; its type, rdata and rdlength. */
static size_t dns_skip_rr(const uint8_t *m, size_t n, size_t off, unsigned *type, size_t *rd,
                          size_t *rdlen)
{
    off = dns_skip_name(m, n, off);
    if (off + 10 > n) {
        return n + 1;
    }
    *type = (unsigned)(m[off] << 8 | m[off + 1]);
    *rdlen = (size_t)(m[off + 8] << 8 | m[off + 9]);
    *rd = off + 10;
    return off + 10 + *rdlen;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static bool dns_verifies(const uint8_t *a, size_t n)
{
    uint8_t rc = 0;
    return picoacme_dns_update_answer(a, n, (uint16_t)(a[0] << 8 | a[1]), &g_tsig,
                                      g_dns_srv.req_mac, &g_cr_dns, &rc) == PICOACME_OK;
}

/* The MAC of the UPDATE answer a[0..n): the one value of 256 that verifies
 * (the fake HMAC is a checksum byte). The MAC does not cover its own bytes:
 * the value the first verification computed is tried next, and only when
 * that fails too are the 256 values tried (as before: the first one that
 * verifies, else 255). */
static void dns_sign(uint8_t *a, size_t n)
{
    memset(a + g_dns_srv.mac_off, 0, 32);
    g_hmac_last = -1;
    if (dns_verifies(a, n)) {
        return;
    }
    if (g_hmac_last >= 0) {
        a[g_dns_srv.mac_off] = (uint8_t)g_hmac_last;
        if (dns_verifies(a, n)) {
            return;
        }
    }
    for (unsigned v = 0; v < 256U; v++) {
        a[g_dns_srv.mac_off] = (uint8_t)v;
        if (dns_verifies(a, n)) {
            return;
        }
    }
}

/* The good answer to the DNS message q[0..n) into a (its length, 0: none). */
static size_t dns_good(const uint8_t *q, size_t n, uint8_t *a, size_t cap)
{
    size_t qend, o;
    unsigned opcode, qtype;
    if (n < 12 || cap < 600) {
        return 0;
    }
    opcode = (q[2] >> 3) & 15U;
    qend = dns_skip_name(q, n, 12);
    if (qend + 4 > n) {
        return 0;
    }
    qtype = (unsigned)(q[qend] << 8 | q[qend + 1]);
    qend += 4;
    memcpy(a, q, qend); /* header and question (zone) */
    a[2] = (uint8_t)(0x80U | (opcode << 3) | (q[2] & 1U));
    a[3] = opcode == 5U ? 0 : 0x80;
    memset(a + 6, 0, 6);
    o = qend;
    if (opcode == 5U) {
        /* UPDATE: remember the TXT added; answer NOERROR signed like the request */
        unsigned type = 0;
        size_t rd = 0, rdlen = 0, off = qend, tsig = 0, tsig_end = 0;
        unsigned nrr = (unsigned)(q[6] << 8 | q[7]) + (unsigned)(q[8] << 8 | q[9]) +
                       (unsigned)(q[10] << 8 | q[11]);
        for (unsigned i = 0; i < nrr && off <= n; i++) {
            size_t start = off;
            off = dns_skip_rr(q, n, off, &type, &rd, &rdlen);
            if (off > n) {
                return 0;
            }
            if (type == 16U && rdlen <= sizeof g_dns_srv.txt &&
                q[rd - 7] == 1U) { /* class IN: added */
                memcpy(g_dns_srv.txt, q + rd, rdlen);
                g_dns_srv.txt_len = rdlen;
            }
            if (type == 250U) {
                tsig = start;
                tsig_end = off;
            }
        }
        if (tsig == 0 || tsig_end - tsig + o > cap) {
            return 0;
        }
        /* the request's TSIG RR with our MAC: the one value of 256 that verifies */
        size_t alg_end = dns_skip_name(q, n, rd);
        size_t mac_off = alg_end + 10 - tsig + o;
        uint8_t req_mac[32];
        if (alg_end + 10 + 32 > n) {
            return 0;
        }
        memcpy(req_mac, q + alg_end + 10, 32);
        memcpy(a + o, q + tsig, tsig_end - tsig);
        o += tsig_end - tsig;
        put16(a + 10, 1);
        memcpy(g_dns_srv.req_mac, req_mac, sizeof req_mac);
        g_dns_srv.mac_off = mac_off;
        dns_sign(a, o);
        return o;
    }
    if (qtype == PICOACME_DNS_TYPE_SOA) {
        /* authority: device.example SOA */
        static const uint8_t soa[] = {6,   'd', 'e', 'v', 'i', 'c', 'e', 7,  'e', 'x', 'a', 'm',
                                      'p', 'l', 'e', 0,   0,   6,   0,   1,  0,   0,   0,   60,
                                      0,   22,  0,   0,   0,   0,   0,   1,  0,   0,   0,   60,
                                      0,   0,   0,   60,  0,   0,   0,   60, 0,   0,   0,   60};
        memcpy(a + o, soa, sizeof soa);
        o += sizeof soa;
        put16(a + 8, 1);
        return o;
    }
    /* TXT: the record last added */
    static const uint8_t rr[] = {0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60};
    memcpy(a + o, rr, sizeof rr);
    o += sizeof rr;
    put16(a + o, (unsigned)g_dns_srv.txt_len);
    memcpy(a + o + 2, g_dns_srv.txt, g_dns_srv.txt_len);
    o += 2 + g_dns_srv.txt_len;
    put16(a + 6, 1);
    return o;
}

/* A DNS request arrived: its (edited) answer is ready to be received. */
static void dns_request(const uint8_t *q, size_t n)
{
    unsigned k = g_ca.n_answers++;
    size_t len = dns_good(q, n, g_dns_srv.ans, sizeof g_dns_srv.ans);
    bool lost = len == 0;
    g_dns_srv.piece = 0;
    for (size_t i = 0; i < g_ned && len > 0; i++) {
        const edit_t *e = &g_ed[i];
        if (e->at != k) {
            continue;
        }
        switch (e->kind) {
        case ED_STATUS: /* the server's verdict, still signed */
            g_dns_srv.ans[3] = (uint8_t)((g_dns_srv.ans[3] & 0xF0U) | (e->a & 15U));
            if (((q[2] >> 3) & 15U) == 5U && g_dns_srv.mac_off + 32U <= len) {
                dns_sign(g_dns_srv.ans, len);
            }
            break;
        case ED_TRUNC: len = ((size_t)e->a * 256U + e->b) % len; break;
        case ED_JSON: g_dns_srv.ans[e->a % len] = e->b; break;
        case ED_JSON_RAW:
        case ED_RAW:
            len = e->b;
            memcpy(g_dns_srv.ans, e->raw, len);
            break;
        case ED_CUT:
        case ED_CLOSE: lost = true; break;
        case ED_OTHER: g_dns_srv.ans[1] ^= 1U; break;
        case ED_REPEAT:
            memcpy(g_dns_srv.ans, g_dns_srv.prev, g_dns_srv.prev_len);
            len = g_dns_srv.prev_len;
            break;
        case ED_PROBLEM: put16(g_dns_srv.ans + 6, 0); break; /* no answer records */
        case ED_SPLIT: g_dns_srv.piece = (size_t)e->a % 8U + 1U; break;
        default: {
            int kind = 0;
            answer_t dummy;
            shape_t sh;
            memset(&sh, 0, sizeof sh);
            dummy.hdr_len = dummy.body_len = 0;
            apply_edit(e, &dummy, &sh, &kind); /* time, faults */
            break;
        }
        }
    }
    trace("  #%u dns opcode %u, %zu bytes%s\n", k, (unsigned)((q[2] >> 3) & 15U), len,
          lost ? " (lost)" : "");
    memcpy(g_dns_srv.prev, g_dns_srv.ans, len);
    g_dns_srv.prev_len = len;
    g_dns_srv.len = lost ? 0 : len;
    g_dns_srv.pos = 0;
    g_dns_srv.ready = !lost;
}

static picoacme_err_t t_udp_open(void *u, picoacme_sock_t *s)
{
    (void)u;
    *s = SOCK_UDP;
    return PICOACME_OK;
}

static picoacme_err_t t_udp_send(void *u, picoacme_sock_t s, const char *host, uint16_t port,
                                 const uint8_t *b, size_t n)
{
    (void)u, (void)s, (void)host, (void)port;
    if (g_fail_connect) {
        return PICOACME_ERR_IO;
    }
    dns_request(b, n);
    return PICOACME_OK;
}

static picoacme_err_t t_udp_recv(void *u, picoacme_sock_t s, uint8_t *b, size_t cap, size_t *got)
{
    (void)u, (void)s;
    if (!g_dns_srv.ready) {
        return PICOACME_WANT_READ;
    }
    g_dns_srv.ready = false;
    *got = g_dns_srv.len < cap ? g_dns_srv.len : cap;
    memcpy(b, g_dns_srv.ans, *got);
    return PICOACME_OK;
}

/* DNS over TCP: 2-byte length, then the message. */
static void dns_tcp_send(const uint8_t *b, size_t n)
{
    size_t k =
        n < sizeof g_dns_srv.req - g_dns_srv.req_len ? n : sizeof g_dns_srv.req - g_dns_srv.req_len;
    memcpy(g_dns_srv.req + g_dns_srv.req_len, b, k);
    g_dns_srv.req_len += k;
    if (g_dns_srv.req_len >= 2) {
        size_t m = (size_t)(g_dns_srv.req[0] << 8 | g_dns_srv.req[1]);
        if (g_dns_srv.req_len >= m + 2) {
            dns_request(g_dns_srv.req + 2, m);
            g_dns_srv.req_len = 0;
            if (g_dns_srv.ready) {
                memmove(g_dns_srv.ans + 2, g_dns_srv.ans, g_dns_srv.len);
                put16(g_dns_srv.ans, (unsigned)g_dns_srv.len);
                g_dns_srv.len += 2;
            }
        }
    }
}

static picoacme_err_t dns_tcp_recv(uint8_t *b, size_t n, size_t *got)
{
    size_t k;
    if (!g_dns_srv.ready) {
        return PICOACME_WANT_READ;
    }
    if (g_dns_srv.pos >= g_dns_srv.len) {
        return PICOACME_ERR_CLOSED;
    }
    k = g_dns_srv.len - g_dns_srv.pos;
    k = g_dns_srv.piece != 0 && k > g_dns_srv.piece ? g_dns_srv.piece : k;
    k = k < n ? k : n;
    memcpy(b, g_dns_srv.ans + g_dns_srv.pos, k);
    g_dns_srv.pos += k;
    *got = k;
    return PICOACME_OK;
}

static picoacme_err_t t_connect(void *u, const char *host, uint16_t port, picoacme_sock_t *s)
{
    (void)u, (void)host, (void)port;
    if (g_fail_connect) {
        return PICOACME_ERR_IO;
    }
    if (io_fault(IO_CONNECT_AGAIN)) {
        return PICOACME_AGAIN;
    }
    if (io_fault(IO_CONNECT_NOT_FOUND)) {
        return PICOACME_ERR_NOT_FOUND;
    }
    if (io_fault(IO_CONNECT_IO)) {
        return PICOACME_ERR_IO;
    }
    if (strcmp(host, "ca.example") != 0) {
        g_dns_srv.req_len = 0;
        g_dns_srv.ready = false;
        *s = SOCK_DNS;
        return PICOACME_OK;
    }
    g_ca.open = true;
    g_ca.req_len = 0;
    g_ca.ans_len = g_ca.ans_pos = 0;
    *s = SOCK_CA;
    return PICOACME_OK;
}

static picoacme_err_t t_send(void *u, picoacme_sock_t s, const uint8_t *b, size_t n, size_t *sent)
{
    (void)u;
    if (s == SOCK_VALID) {
        *sent = n; /* the responder's answer: read by nobody */
        return PICOACME_OK;
    }
    if (s == SOCK_DNS) {
        dns_tcp_send(b, n);
        *sent = n;
        return PICOACME_OK;
    }
    if (!g_ca.open || io_fault(IO_SEND_CLOSED)) {
        return PICOACME_ERR_CLOSED;
    }
    if (io_fault(IO_SEND_WANT)) {
        return PICOACME_WANT_WRITE;
    }
    if (n > 1 && io_fault(IO_SEND_PART)) {
        n /= 2;
    }
    size_t k = n < REQ_CAP - 1U - g_ca.req_len ? n : REQ_CAP - 1U - g_ca.req_len;
    memcpy(g_ca.req + g_ca.req_len, b, k);
    g_ca.req_len += k;
    *sent = n;
    ca_take();
    return PICOACME_OK;
}

static picoacme_err_t t_recv(void *u, picoacme_sock_t s, uint8_t *b, size_t n, size_t *got)
{
    size_t k;
    (void)u;
    if (s == SOCK_VALID) {
        if (g_val.pos >= g_val.len) {
            return PICOACME_WANT_READ;
        }
        k = g_val.len - g_val.pos < n ? g_val.len - g_val.pos : n;
        memcpy(b, g_val.req + g_val.pos, k);
        g_val.pos += k;
        *got = k;
        return PICOACME_OK;
    }
    if (s == SOCK_DNS) {
        return dns_tcp_recv(b, n, got);
    }
    if (g_ca.open && (io_fault(IO_RECV_WANT) || (g_io_fault == IO_RECV_STALL && g_io_left > 0))) {
        return PICOACME_WANT_READ;
    }
    if (!g_ca.open || g_ca.close_now) {
        g_ca.open = false;
        return PICOACME_ERR_CLOSED;
    }
    if (g_ca.ans_pos >= g_ca.ans_len) {
        if (g_ca.close_after) {
            g_ca.open = false;
            return PICOACME_ERR_CLOSED;
        }
        return PICOACME_WANT_READ;
    }
    k = g_ca.ans_len - g_ca.ans_pos;
    if (g_ca.piece != 0 && k > g_ca.piece) {
        k = g_ca.piece;
    }
    if (k > n) {
        k = n;
    }
    memcpy(b, g_ca.ans + g_ca.ans_pos, k);
    g_ca.ans_pos += k;
    *got = k;
    return PICOACME_OK;
}

static void t_close(void *u, picoacme_sock_t s)
{
    (void)u;
    if (s == SOCK_VALID) {
        g_val.open = false;
    } else if (s == SOCK_CA) {
        g_ca.open = false;
    }
}

static picoacme_err_t t_listen(void *u, uint16_t port, picoacme_sock_t *ls)
{
    (void)u;
    *ls = port == 443 ? SOCK_LISTEN + 1 : SOCK_LISTEN;
    return port == 443 && alpn_fault(ALPN_LISTEN) ? PICOACME_ERR_IO : PICOACME_OK;
}

static picoacme_err_t t_accept(void *u, picoacme_sock_t ls, picoacme_sock_t *s)
{
    (void)u;
    if (g_ca.validate == 0 || g_val.open || ls != SOCK_LISTEN + g_ca.validate - 1) {
        return PICOACME_WANT_READ;
    }
    g_ca.validate = 0;
    g_val.open = true;
    g_val.pos = 0;
    g_val.len = (size_t)snprintf(g_val.req, sizeof g_val.req,
                                 "GET /.well-known/acme-challenge/%s HTTP/1.1\r\nHost: "
                                 "device.example\r\nUser-Agent: validator\r\n\r\n",
                                 g_tok[g_ca.validate_idx & 3]);
    *s = SOCK_VALID;
    return PICOACME_OK;
}

static picoacme_err_t tls_open(void *u, picoacme_sock_t s, const char *host)
{
    (void)u, (void)s, (void)host;
    return io_fault(IO_TLS_OPEN) ? PICOACME_ERR_TLS : PICOACME_OK;
}

/* The fake TLS client session: the bytes go as they are over the CA socket. */
static picoacme_err_t tls_io(void *u, const uint8_t *b, size_t n, size_t *k)
{
    return t_send(u, SOCK_CA, b, n, k);
}

static picoacme_err_t tls_rd(void *u, uint8_t *b, size_t n, size_t *k)
{
    if (io_fault(IO_TLS_VERIFY)) {
        return PICOACME_ERR_TLS_VERIFY;
    }
    return t_recv(u, SOCK_CA, b, n, k);
}

static void tls_close(void *u)
{
    (void)u;
}

static picoacme_err_t tls_server_open(void *u, picoacme_sock_t s, const uint8_t *der, size_t n,
                                      const uint8_t priv[32])
{
    (void)u, (void)s, (void)priv;
    g_val.tls = true;
    /* the validator looks at the certificate: it must parse */
    const uint8_t *c;
    size_t cn, t;
    uint8_t tag;
    if (!der_read(der, der + n, &tag, &c, &cn, &t) || t != n || tag != 0x30) {
        __builtin_trap(); /* the engine wrote a malformed challenge certificate */
    }
    return alpn_fault(ALPN_OPEN) ? PICOACME_ERR_TLS : PICOACME_OK;
}

static picoacme_err_t tls_server_step(void *u)
{
    (void)u;
    if (alpn_fault(ALPN_WANT)) {
        return (g_alpn_left & 1U) ? PICOACME_WANT_WRITE : PICOACME_WANT_READ;
    }
    return (g_scen & 0x80U) && g_ca.n_answers % 3U == 0 ? PICOACME_ERR_TLS : PICOACME_OK;
}

static void tls_server_close(void *u)
{
    (void)u;
    g_val.tls = false;
}

/* ---- the run --------------------------------------------------------------------- */

static const picoacme_transport_t g_tp = {NULL,     t_connect, t_send,     t_recv,     t_close,
                                          t_listen, t_accept,  t_udp_open, t_udp_send, t_udp_recv};
static const picoacme_tls_t g_tls = {NULL,      tls_open,        tls_io,          tls_rd,
                                     tls_close, tls_server_open, tls_server_step, tls_server_close};
/* a TLS port that only speaks as a client (ED_ALPN, ALPN_NO_SERVER) */
static const picoacme_tls_t g_tls_client = {NULL,      tls_open, tls_io, tls_rd,
                                            tls_close, NULL,     NULL,   NULL};
static const picoacme_crypto_t g_cr = {NULL,  c_random, c_hash,   c_hmac,  c_gen,
                                       c_pub, c_sign,   c_export, c_import};
static const picoacme_storage_t g_st = {NULL, FLASH_SIZE, 4096U, f_read, f_write, f_erase};
static const picoacme_clock_t g_ck = {NULL, k_wall, k_mono};
static const picoacme_dns_hook_t g_hook = {NULL, d_txt};
static const uint8_t g_eab_key[4] = {1, 2, 3, 4};
static picoacme_dns01_config_t g_dns;
static picoacme_config_t g_cfg;
static picoacme_ports_t g_ports;
static picoacme_ctx_t g_ctx;

/* The configuration of the scenario. */
static void configure(void)
{
    static const picoacme_chall_type_t prefs[4][3] = {
        {PICOACME_CHALL_HTTP01},
        {PICOACME_CHALL_TLSALPN01},
        {PICOACME_CHALL_DNS01},
        {PICOACME_CHALL_DNS01, PICOACME_CHALL_TLSALPN01, PICOACME_CHALL_HTTP01}};
    unsigned c = g_scen & 3U;
    bool one = (g_scen & 0x80U) != 0;
    g_ids[0] = (picoacme_ident_t){PICOACME_ID_DNS, "device.example"};
    g_ids[1] = c == 2 ? (picoacme_ident_t){PICOACME_ID_DNS, "*.device.example"}
                      : (picoacme_ident_t){PICOACME_ID_IP, "192.0.2.7"};
    g_nids = one ? 1 : 2;
    if (((g_scen >> 2) & 7U) == 7U && c < 2) {
        /* an IPv6 address first: the CSR has an empty subject, a critical SAN */
        g_ids[1] = g_ids[0];
        g_ids[0] = (picoacme_ident_t){PICOACME_ID_IP, "2001:db8::7"};
    }
    memset(&g_dns, 0, sizeof g_dns);
    g_dns.hook = &g_hook;
    unsigned op = (g_scen >> 2) & 7U;
    if (op >= 6) {
        /* RFC 2136: 6 over UDP, the zone found by SOA, a resolver checked;
         * 7 over TCP, the zone given, no resolver */
        g_dns.hook = NULL;
        g_dns.server = "192.0.2.53";
        g_dns.server_port = 53;
        g_dns.tsig = g_tsig;
        g_dns.timeout_s = 60;
        g_dns.zone = op == 7 ? "device.example" : NULL;
        g_dns.resolver = op == 6 ? "192.0.2.54" : NULL;
        g_dns.resolver_port = 53;
        g_dns.tcp = op == 7;
    }
    memset(&g_cfg, 0, sizeof g_cfg);
    g_cfg.directory_url = CA "/dir";
    if (op >= 6 && c < 2) {
        /* 6: the CA over (fake) TLS; 7: a contact, a short time budget, no
         * http-01 listener (the appliance's server asks, ED_ADOPT) */
        g_cfg.directory_url = op == 6 ? "https://ca.example/dir" : CA "/dir";
        g_cfg.email = op == 7 ? "ops@device.example" : NULL;
        g_cfg.budget_s = op == 7 ? 600U : 0U;
    }
    g_cfg.ids = g_ids;
    g_cfg.n_ids = g_nids;
    g_cfg.http01_port = op == 7 && c < 2 ? 0 : 80;
    g_cfg.tlsalpn01_port = 443;
    memcpy(g_cfg.challenges, prefs[c], sizeof prefs[c]);
    g_cfg.n_challenges = c == 3 ? 3 : 1;
    g_cfg.dns01 = &g_dns;
    if (g_scen & 0x40U) {
        g_cfg.eab_kid = "kid-1";
        g_cfg.eab_key = g_eab_key;
        g_cfg.eab_key_len = sizeof g_eab_key;
    }
    memset(&g_ports, 0, sizeof g_ports);
    g_ports.transport = &g_tp;
    g_ports.tls = g_alpn_fault == ALPN_NO_SERVER ? &g_tls_client : &g_tls;
    g_ports.crypto = &g_cr;
    g_ports.storage = &g_st;
    g_ports.clock = &g_ck;
}

static void reset_ca(void)
{
    memset(&g_ca, 0, sizeof g_ca);
    memset(&g_val, 0, sizeof g_val);
    memset(&g_dns_srv, 0, sizeof g_dns_srv);
    for (int i = 0; i < 4; i++) {
        g_ca.authz_polls[i] = -1;
    }
    g_ca.order_polls = -1;
}

/* Start operation op; PICOACME_OK or why not. */
static picoacme_err_t start(unsigned op)
{
    switch (op) {
    case 2: return picoacme_ari_start(&g_ctx);
    case 3: return picoacme_revoke_start(&g_ctx, (int)(g_scen >> 6));
    case 4: return picoacme_key_rollover_start(&g_ctx);
    case 5: return picoacme_account_deactivate_start(&g_ctx);
    default: return picoacme_issue_start(&g_ctx);
    }
}

/* The appliance's own HTTP and HTTPS servers ask the engine (edit ED_ADOPT):
 * the http-01 key authorization of a path (the token's, or a spoiled one),
 * into a buffer of b bytes; and a TLS connection handed over for tls-alpn-01. */
static void own_servers(const edit_t *e)
{
    char path[128], out[256];
    size_t n = 0;
    int k = snprintf(path, sizeof path, "/.well-known/acme-challenge/%s%s", g_tok[e->a & 3U],
                     (e->a & 4U) ? "x" : "");
    size_t cap = e->b == 0 ? sizeof out : e->b;
    picoacme_err_t r = picoacme_http01_lookup(
        &g_ctx, path, (e->a & 8U) ? (size_t)k / 2U : (size_t)k, out, cap, &n);
    if (r == PICOACME_OK && n > cap) {
        __builtin_trap(); /* the key authorization must fit */
    }
    (void)picoacme_tlsalpn_adopt(&g_ctx, (e->a & 16U) ? PICOACME_SOCK_NONE : SOCK_VALID + 5);
}

/* Step the engine until it ends; edits of kind ED_REBOOT restart it. */
static picoacme_err_t pump(unsigned op)
{
    picoacme_err_t e = PICOACME_ERR_PARAM;
    bool rebooted[EDITS_MAX] = {false};
    for (unsigned i = 0; i < 6000U; i++) {
        picoacme_wait_t w;
        e = picoacme_step(&g_ctx, &w);
        for (size_t j = 0; j < g_ned; j++) {
            if (g_ed[j].kind == ED_IO && !rebooted[j] && g_ca.n_answers >= g_ed[j].at) {
                rebooted[j] = true;
                g_io_fault = g_ed[j].a % IO_KINDS;
                g_io_left = g_io_fault == IO_RECV_STALL ? 1000000U : g_ed[j].b % 4U + 1U;
            }
            if (g_ed[j].kind == ED_ADOPT && !rebooted[j] && g_ca.n_answers >= g_ed[j].at) {
                rebooted[j] = true;
                own_servers(&g_ed[j]);
            }
            if (g_ed[j].kind == ED_REBOOT && !rebooted[j] && g_ca.n_answers >= g_ed[j].at) {
                rebooted[j] = true;
                trace("  reboot\n");
                picoacme_abort(&g_ctx);
                g_ca.open = false;
                if (picoacme_init(&g_ctx, &g_cfg, &g_ports) != PICOACME_OK) {
                    __builtin_trap();
                }
                e = start(op);
                if (e == PICOACME_OK) {
                    e = PICOACME_AGAIN; /* started again: go on stepping */
                }
                break;
            }
        }
        if (!picoacme_err_is_pending(e)) {
            break;
        }
        g_now += w.timeout_ms == UINT32_MAX
                     ? 1000U
                     : (w.timeout_ms > 100000U ? 100000U : w.timeout_ms) + 1U;
    }
    return e;
}

/* The flash after one clean issuance of the scenario's configuration. */
static const uint8_t *stored_flash(void)
{
    static uint8_t img[4][FLASH_SIZE];
    static bool made[4];
    unsigned key = ((g_scen & 3U) == 2 ? 1U : 0U) | ((g_scen & 0x80U) ? 2U : 0U);
    if (!made[key]) {
        size_t ned = g_ned;
        uint8_t scen = g_scen;
        bool tr = g_trace;
        unsigned alpn = g_alpn_fault, alpn_left = g_alpn_left;
        g_alpn_fault = ALPN_KINDS;
        g_alpn_left = 0;
        g_ned = 0;
        g_scen = (uint8_t)(scen & 0xA3U); /* same ids and challenges, plain issue */
        g_trace = false;
        memset(g_flash, 0xff, sizeof g_flash);
        memset(g_keygen, 0, sizeof g_keygen);
        reset_ca();
        configure();
        g_now = 0xFFFFF000U;
        if (picoacme_init(&g_ctx, &g_cfg, &g_ports) != PICOACME_OK ||
            picoacme_issue_start(&g_ctx) != PICOACME_OK || pump(1) != PICOACME_OK) {
            __builtin_trap(); /* the clean conversation must issue */
        }
        picoacme_abort(&g_ctx);
        memcpy(img[key], g_flash, sizeof g_flash);
        made[key] = true;
        g_ned = ned;
        g_scen = scen;
        g_trace = tr;
        g_alpn_fault = alpn;
        g_alpn_left = alpn_left;
    }
    return img[key];
}

/* The stored chain read in pieces (as a record longer than rx must be:
 * picoacme_stored() then gives no chain_pem) begins with what
 * picoacme_stored() gave, and has its length; past its end nothing is
 * read. A flash read that fails (ED_IO, ED_FAULT) may fail the read, never
 * make it wrong. */
static bool stored_chain_consistent(const picoacme_stored_info_t *info)
{
    uint8_t head[64];
    size_t hn = 0, hl = 0;
    picoacme_err_t e = picoacme_stored_chain_read(&g_ctx, 0, head, sizeof head, &hn, &hl);
    if (info->chain_len == 0) {
        return false;
    }
    if (e == PICOACME_ERR_STORAGE) {
        return true;
    }
    if (e != PICOACME_OK || hl != info->chain_len || hn == 0 || hn > sizeof head ||
        (info->chain_pem != NULL && memcmp(head, info->chain_pem, hn) != 0)) {
        return false;
    }
    e = picoacme_stored_chain_read(&g_ctx, hl, head, sizeof head, &hn, &hl);
    return e == PICOACME_ERR_STORAGE || (e == PICOACME_OK && hn == 0 && hl == info->chain_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    picoacme_stored_info_t info;
    unsigned op;
    g_trace = getenv("FUZZ_FLOW_TRACE") != NULL;
    parse_input(data, size);
    g_fail_store = g_fail_hook = g_fail_connect = g_fail_read = false;
    g_io_fault = g_io_left = 0;
    g_wall_jump = 0;
    g_alpn_fault = ALPN_KINDS;
    g_alpn_left = 0;
    for (size_t i = 0; i < g_ned; i++) {
        if (g_ed[i].kind == ED_ALPN) {
            g_alpn_fault = g_ed[i].a % ALPN_KINDS;
            g_alpn_left = g_ed[i].b % 4U + 1U;
        }
    }
    op = (g_scen >> 2) & 7U;
    /* 0, 1, 6, 7: issue (1 over a stored certificate: renewal; 6 and 7 with
     * dns-01 over RFC 2136 instead of the hook) */
    bool stored = op >= 1 && op <= 5;
    if (stored) {
        memcpy(g_flash, stored_flash(), sizeof g_flash);
    } else {
        memset(g_flash, 0xff, sizeof g_flash);
    }
    for (size_t i = 0; i < g_ned; i++) {
        if (g_ed[i].kind == ED_FLASH) {
            g_flash[((size_t)g_ed[i].a * 256U + g_ed[i].b) % FLASH_SIZE] ^=
                (uint8_t)(g_ed[i].at | 1U);
        }
    }
    memset(g_keygen, 0, sizeof g_keygen);
    reset_ca();
    configure();
    g_now = 0xFFFFF000U; /* crosses the 32-bit wrap */
    g_wall_jump = 0;

    if (picoacme_init(&g_ctx, &g_cfg, &g_ports) != PICOACME_OK) {
        __builtin_trap(); /* a valid configuration must be accepted */
    }
    picoacme_err_t e = start(op);
    if (e == PICOACME_OK) {
        e = pump(op);
    }
    {
        /* what an application logs: every string must be there */
        const picoacme_problem_t *p = picoacme_last_problem(&g_ctx);
        if (picoacme_err_str(e) == NULL || picoacme_err_str(p->err) == NULL ||
            picoacme_state_str(p->state) == NULL ||
            picoacme_state_str(picoacme_state(&g_ctx)) == NULL ||
            memchr(p->detail, '\0', sizeof p->detail) == NULL ||
            memchr(p->type, '\0', sizeof p->type) == NULL) {
            __builtin_trap();
        }
    }
    if (g_trace) {
        const picoacme_problem_t *p = picoacme_last_problem(&g_ctx);
        fprintf(stderr, "end: op %u, %s, state %s, err %s, step %s, http %u, type %s, %s\n", op,
                picoacme_err_str(e), picoacme_state_str(picoacme_state(&g_ctx)),
                picoacme_err_str(p->err), picoacme_state_str(p->state), (unsigned)p->http_status,
                p->type, p->detail);
    }
    if (e == PICOACME_OK && !g_fail_store && !g_fail_read && (op < 2 || op > 5)) {
        /* a clean issuance must have stored what it got */
        if (picoacme_stored(&g_ctx, &info) != PICOACME_OK) {
            __builtin_trap();
        }
    }
    {
        const char *pem = NULL;
        size_t pem_len = 0;
        bool done = picoacme_result(&g_ctx, &pem, &pem_len) == PICOACME_OK;
        if ((done && (pem == NULL || pem_len == 0)) || picoacme_stats(&g_ctx) == NULL ||
            picoacme_account_url(&g_ctx) == NULL) {
            __builtin_trap();
        }
        (void)picoacme_now(&g_ctx);
    }
    picoacme_abort(&g_ctx);
    /* what a device does at boot with whatever the run left in flash */
    if (picoacme_stored(&g_ctx, &info) == PICOACME_OK && !stored_chain_consistent(&info)) {
        __builtin_trap();
    }
    (void)picoacme_stored_load_keys(&g_ctx);
    if (g_ned > 0 && g_ed[0].kind == ED_FLASH && g_ed[0].at == 63U) {
        /* a factory reset; on a flash whose erase fails (ED_FAULT) it
         * fails too, and the record may stay; on a flash whose reads fail
         * the record is not found or the read fails, never found */
        if (picoacme_store_wipe(&g_st) == PICOACME_OK) {
            picoacme_err_t e2 = picoacme_stored(&g_ctx, &info);
            if (e2 == PICOACME_OK || (!g_fail_read && e2 != PICOACME_ERR_NOT_FOUND)) {
                __builtin_trap();
            }
        }
    }
    return 0;
}
