/*
 * test_engine.c - the ACME engine (core/src/engine.c) pumped against a
 * small in-test ACME server behind a fake transport.
 *
 * The fake transport collects what the engine sends; once a whole request
 * is in (head + Content-Length body), the fake server answers it. Answers
 * come back 7 bytes per recv() with WANT_READ in between, and sends take at
 * most 512 bytes with WANT_WRITE in between, so every parser runs
 * incrementally. The clock is fake (it starts just before the 32-bit wrap
 * and moves only by what picoacme_step() asks to wait); the wall clock is
 * unknown, so time comes from the server's Date header. Crypto is the real
 * wolfSSL port, the store the POSIX file flash.
 *
 * The server checks every JWS like a CA would (nonce issued and unused,
 * url, jwk vs kid) and verifies every signature with the openssl CLI. Its
 * finalize endpoint has openssl sign the engine's CSR with a P-256 test CA;
 * its http-01 validator fetches the key authorization through the engine's
 * built-in listener and compares it with token "." thumbprint, the
 * thumbprint computed by openssl from the account JWK (RFC 7638, RFC 8555
 * §8.1).
 */
#define _GNU_SOURCE /* popen, gmtime_r, memmem */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "picoacme.h"
#include "picoacme_lifecycle.h"
#include "picoacme_posix.h"
#include "picoacme_record.h"
#include "picoacme_store.h"
#include "picoacme_wolfssl.h"

#define D          PICOACME_TEST_TMPDIR "/eng_"
#define BASE       "http://ca.test:4000"
#define TOKEN      "tok_ABCdef-0123456789_xyz"
#define DATE_S     784111777 /* Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110 */
#define H01_PORT   5002U
#define LSOCK      100
#define ALPN_PORT  5003U
#define LSOCK_ALPN 101

/* ---- independent helpers -------------------------------------------------- */

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* base64url without padding (this test's own); -1 on a bad character. */
static long b64u_dec(const char *in, size_t n, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)o;
}

static void write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    assert_non_null(f);
    n = fread(buf, 1, cap - 1U, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

static void scopy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    assert_true(n < cap);
    memcpy(dst, src, n + 1U);
}

static int sh(const char *cmd)
{
    return system(cmd);
}

static void capture(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    size_t n;
    assert_non_null(p);
    n = fread(out, 1, cap - 1U, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
}

/* "key":"value" in compact JSON; length or -1. */
static long jstr(const char *json, const char *key, const char **val)
{
    char pat[64];
    const char *p;
    const char *e;
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    p = strstr(json, pat);
    if (p == NULL)
        return -1;
    p += strlen(pat);
    e = strchr(p, '"');
    if (e == NULL)
        return -1;
    *val = p;
    return (long)(e - p);
}

/* "key":{...} (no nested objects inside) copied out; false if absent. */
static bool jobj(const char *json, const char *key, char *out, size_t cap)
{
    char pat[64];
    const char *p;
    const char *e;
    snprintf(pat, sizeof pat, "\"%s\":{", key);
    p = strstr(json, pat);
    if (p == NULL)
        return false;
    p += strlen(pat) - 1U;
    e = strchr(p, '}');
    if (e == NULL || (size_t)(e - p + 1) >= cap)
        return false;
    memcpy(out, p, (size_t)(e - p + 1));
    out[e - p + 1] = '\0';
    return true;
}

/* DER Ecdsa-Sig-Value from raw r||s. */
static size_t sig_der(const uint8_t rs[64], uint8_t *out)
{
    uint8_t ints[2][35];
    size_t il[2];
    size_t o = 0;
    for (int k = 0; k < 2; k++) {
        const uint8_t *v = rs + 32 * k;
        size_t s = 0;
        while (s < 31 && v[s] == 0)
            s++;
        il[k] = 0;
        ints[k][il[k]++] = 0x02;
        ints[k][il[k]++] = (uint8_t)(32 - s + ((v[s] & 0x80) ? 1 : 0));
        if (v[s] & 0x80)
            ints[k][il[k]++] = 0;
        memcpy(ints[k] + il[k], v + s, 32 - s);
        il[k] += 32 - s;
    }
    out[o++] = 0x30;
    out[o++] = (uint8_t)(il[0] + il[1]);
    memcpy(out + o, ints[0], il[0]);
    o += il[0];
    memcpy(out + o, ints[1], il[1]);
    return o + il[1];
}

/* ---- the fake ACME server ----------------------------------------------------- */

enum { H_NONE = 0, H_TRUNC, H_GARBAGE, H_OVERSIZE, H_OVERSIZE_CHUNKED, H_CHUNKED, H_BADJSON };

#define NCONN 8
#define IOBUF 32768

typedef struct conn {
    bool used;        /* handed to the engine, not yet closed by it */
    bool peer_closed; /* the server closed its side */
    bool close_after; /* close once out is drained */
    bool validator;   /* an http-01 validation connection */
    bool want_404;    /* the validator asks for an unknown token */
    bool dns;         /* a DNS-over-TCP connection to the fake primary */
    bool rtog;
    bool wtog;
    uint8_t in[IOBUF]; /* engine -> server */
    size_t in_len;
    uint8_t out[IOBUF]; /* server -> engine */
    size_t out_len;
    size_t out_off;
} conn_t;

static struct srv {
    /* knobs */
    unsigned bad_nonce_first;
    bool bad_nonce_always;
    unsigned rate_limit_order;
    int retry_after; /* -1: no Retry-After */
    bool reject_ident;
    bool authz_invalid;
    bool nonce_missing;
    bool dir_nonce; /* the directory answer carries a nonce too */
    const char *hostile_path;
    int hostile;
    unsigned hostile_skip;           /* matching answers left alone first */
    unsigned close_after_req;        /* Connection: close on the answer to request N */
    unsigned silent_close_after_req; /* close after answer N without saying so */
    bool send_reset;                 /* a send on a closed connection fails (RST) */
    bool order_not_ready;
    bool wrong_key;
    bool h01;                  /* validate through the engine's listener */
    const char *token;         /* the http-01 token served (default TOKEN) */
    bool ari;                  /* the directory names renewalInfo (RFC 9773) */
    int ari_status;            /* renewalInfo answer: status (0: 200), */
    const char *ari_body;      /* body */
    const char *ari_extra;     /* and extra header lines */
    unsigned already_replaced; /* newOrders with "replaces" answered 409 alreadyReplaced */
    unsigned replaces_500;     /* ... answered 500 serverInternal (Pebble 2.10.1, see below) */
    unsigned replaces_503;     /* ... answered 503, no Retry-After (a busy CA) */
    const char *serial;        /* openssl -set_serial for the issued leaf */
    unsigned ari_gets;
    const char *profiles; /* meta.profiles of the directory (JSON object), NULL none */
    char profile[64];     /* "profile" of the last newOrder */
    unsigned nonce_gone;  /* HEAD /nonce answers 404 this often (a moved URL) */
    unsigned dir_gets;
    unsigned ari_stale;   /* renewalInfo GETs while the CA has no ARI: 404 */
    char ari_certid[160]; /* the CertID of the last renewalInfo GET */
    unsigned orders_with_replaces;
    char replaces[160];        /* "replaces" of the last newOrder ("" none) */
    unsigned connect_again;    /* connect answers AGAIN (name resolving) this often first */
    unsigned connect_refuse;   /* then fails this often */
    unsigned connect_unknown;  /* then answers NOT_FOUND (no such name) this often */
    const char *hangup_path;   /* requests to this path: the peer closes, */
    unsigned hangup_count;     /* this many times */
    const char *silent_path;   /* requests to this path are never answered, */
    unsigned silent_count;     /* this many times */
    bool nonce_long;           /* HEAD newNonce answers a 4000-byte Replay-Nonce */
    const char *reject_detail; /* detail of the rejectedIdentifier problem */
    bool order_stuck;          /* the order stays "processing", Retry-After: 3600 */
    bool alpn;                 /* the authorization offers tls-alpn-01 (/chall/1) */
    unsigned alpn_open_fail;   /* the fake TLS server_open fails this often first, */
    unsigned alpn_stall;       /* then this many handshakes never finish, */
    unsigned alpn_hs_fail;     /* then this many handshakes fail */
    bool listen_fail;          /* the transport cannot listen on the tls-alpn-01 port */
    unsigned pending_alpn;     /* validation connections still to make */
    unsigned alpn_opens;       /* server_open calls */
    unsigned alpn_closes;      /* server_close calls */
    unsigned alpn_ok;          /* handshakes whose certificate held the digest */
    unsigned alpn_bad;         /* handshakes whose certificate did not */
    const char *ovr_path;      /* a POST to this path is answered once with */
    unsigned ovr_skip;         /* (after this many left alone) */
    int ovr_status;            /* this status, */
    const char *ovr_ctype;     /* Content-Type (NULL: application/json), */
    const char *ovr_extra;     /* extra header lines, */
    const char *ovr_body;      /* and body */
    const char *dir_body;      /* the directory's answer instead of the built-in one */
    bool order_quiet_stuck;    /* the order stays "processing", no Retry-After */
    const char *deact_status;  /* the account's status after a deactivation (NULL: deactivated) */
    unsigned revokes, keychanges, deactivates;
    char lc_payload[4096]; /* the payload of the last lifecycle POST */
    /* observed / state */
    unsigned reqs; /* complete requests seen */
    unsigned posts;
    unsigned connects;
    unsigned verified; /* POST signatures openssl accepted */
    unsigned violations;
    char violation[256];
    unsigned nonce_ctr;
    unsigned char nonce_used[4096];
    bool acct_registered;
    char acct_jwk[200];
    uint8_t acct_x[32], acct_y[32];
    char ka_expect[128];
    char last_acct_payload[1024];
    char last_acct_jwk[200];
    unsigned acct_posts;
    unsigned order_posts;
    uint32_t order_times[8];
    unsigned finalizes;
    unsigned not_ready_sent;
    bool chall_posted;
    bool authz_valid;
    const char *order_status;
    unsigned pending_validators;
    bool pending_404_first;
    unsigned h01_200_ok;
    unsigned h01_404_ok;
    unsigned h01_bad;
    char chain[32768];
    size_t chain_len;
    char csr_pub[64];
    unsigned extra_certs; /* RSA-2048 intermediates (big.pem) after ca.pem */
} srv;

static conn_t g_conn[NCONN];
static void (*g_eab_check)(const char *pay, const char *jwk); /* newAccount's EAB (NULL: none) */
static void (*g_dns_tcp)(conn_t *c); /* the fake primary over TCP (NULL: none) */
static unsigned g_dns_tcp_again;     /* its connects answer AGAIN this often first */
static unsigned g_dns_tcp_reset;     /* this many of its connections are reset */
static uint32_t g_now;
static unsigned g_io; /* bytes moved by the fake transport: progress */
static size_t g_piece = 7;

static void violation(const char *what)
{
    srv.violations++;
    if (srv.violation[0] == '\0') {
        snprintf(srv.violation, sizeof srv.violation, "%s", what);
    }
}

static void srv_reset(bool keep_account)
{
    bool reg = srv.acct_registered;
    char jwk[200];
    uint8_t x[32], y[32];
    char ka[128];
    memcpy(jwk, srv.acct_jwk, sizeof jwk);
    memcpy(x, srv.acct_x, 32);
    memcpy(y, srv.acct_y, 32);
    memcpy(ka, srv.ka_expect, sizeof ka);
    memset(&srv, 0, sizeof srv);
    srv.retry_after = -1;
    srv.h01 = true;
    srv.order_status = "pending";
    srv.token = TOKEN;
    if (keep_account && reg) {
        srv.acct_registered = true;
        memcpy(srv.acct_jwk, jwk, sizeof jwk);
        memcpy(srv.acct_x, x, 32);
        memcpy(srv.acct_y, y, 32);
        memcpy(srv.ka_expect, ka, sizeof ka);
    }
    memset(g_conn, 0, sizeof g_conn);
    g_piece = 7;
}

static void out_put(conn_t *c, const void *b, size_t n)
{
    memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
    c->out_len -= c->out_off;
    c->out_off = 0;
    assert_true(c->out_len + n <= IOBUF);
    memcpy(c->out + c->out_len, b, n);
    c->out_len += n;
}

static char g_resp[IOBUF];

/* Queue one answer; every answer gets a fresh Replay-Nonce unless told
 * otherwise, and a Date. */
static void respond(conn_t *c, const char *path, int status, const char *ctype, const char *extra,
                    const char *body, bool nonce)
{
    size_t bl = body != NULL ? strlen(body) : 0U;
    int n = 0;
    int hostile = H_NONE;
    bool close_it = false;
    char nh[64] = "";
    if (srv.hostile_path != NULL && strcmp(path, srv.hostile_path) == 0 &&
        srv.hostile_skip-- == 0) {
        hostile = srv.hostile;
        srv.hostile_path = NULL; /* once */
    }
    if (nonce) {
        snprintf(nh, sizeof nh, "Replay-Nonce: nonce-%04u-x_y\r\n", srv.nonce_ctr++);
    }
    if (srv.reqs == srv.close_after_req) {
        close_it = true;
    }
    if (hostile == H_GARBAGE) {
        const char g[] = "HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\n{}";
        out_put(c, g, sizeof g - 1U);
        return;
    }
    n = snprintf(g_resp, sizeof g_resp,
                 "HTTP/1.1 %d X\r\nServer: fake\r\n%sDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                 "%s%s%s%s",
                 status, nh, ctype != NULL ? "Content-Type: " : "", ctype != NULL ? ctype : "",
                 ctype != NULL ? "\r\n" : "", extra != NULL ? extra : "");
    if (close_it) {
        n += snprintf(g_resp + n, sizeof g_resp - (size_t)n, "Connection: close\r\n");
    }
    if (hostile == H_BADJSON) {
        body = "{\"status\":\"valid\",,\"certificate\":}";
        bl = strlen(body);
    }
    if (hostile == H_CHUNKED || hostile == H_OVERSIZE_CHUNKED) {
        size_t total = hostile == H_CHUNKED ? bl : 9000U;
        size_t off = 0;
        unsigned k = 0;
        n += snprintf(g_resp + n, sizeof g_resp - (size_t)n, "Transfer-Encoding: chunked\r\n\r\n");
        while (off < total) {
            size_t cl = (size_t)(1U + (k++ * 37U) % 300U);
            if (cl > total - off)
                cl = total - off;
            n += snprintf(g_resp + n, sizeof g_resp - (size_t)n, "%zx%s\r\n", cl,
                          k == 2 ? ";ext=1" : "");
            if (hostile == H_CHUNKED) {
                memcpy(g_resp + n, body + off, cl);
            } else {
                memset(g_resp + n, 'A', cl);
            }
            n += (int)cl;
            n += snprintf(g_resp + n, sizeof g_resp - (size_t)n, "\r\n");
            off += cl;
        }
        n += snprintf(g_resp + n, sizeof g_resp - (size_t)n, "0\r\n\r\n");
    } else if (hostile == H_OVERSIZE) {
        n += snprintf(g_resp + n, sizeof g_resp - (size_t)n, "Content-Length: 9000\r\n\r\n");
        memset(g_resp + n, ' ', 9000);
        g_resp[n] = '{';
        g_resp[n + 8999] = '}';
        n += 9000;
    } else {
        n += snprintf(g_resp + n, sizeof g_resp - (size_t)n, "Content-Length: %zu\r\n\r\n", bl);
        if (bl > 0)
            memcpy(g_resp + n, body, bl);
        n += (int)bl;
    }
    if (hostile == H_TRUNC) {
        n = n / 2;
        close_it = true;
    }
    out_put(c, g_resp, (size_t)n);
    if (close_it || srv.reqs == srv.silent_close_after_req) {
        c->close_after = true;
    }
}

static void problem(conn_t *c, const char *path, int status, const char *type, const char *detail,
                    const char *extra)
{
    char b[512];
    snprintf(b, sizeof b,
             "{\"type\":\"urn:ietf:params:acme:error:%s\",\"detail\":\"%s\",\"status\":%d}", type,
             detail, status);
    respond(c, path, status, "application/problem+json", extra, b, true);
}

/* openssl checks an ES256 signature over protected "." payload. */
static bool openssl_verify(const uint8_t x[32], const uint8_t y[32], const char *prot, size_t pl,
                           const char *pay, size_t yl, const char *sig, size_t sl)
{
    static const uint8_t spki[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
    static char input[8192];
    uint8_t der[128];
    uint8_t rs[64];
    uint8_t sd[80];
    if (b64u_dec(sig, sl, rs, sizeof rs) != 64)
        return false;
    memcpy(der, spki, sizeof spki);
    memcpy(der + sizeof spki, x, 32);
    memcpy(der + sizeof spki + 32, y, 32);
    write_file(D "pub.der", der, sizeof spki + 64U);
    write_file(D "sig.der", sd, sig_der(rs, sd));
    assert_true(pl + 1U + yl < sizeof input);
    memcpy(input, prot, pl);
    input[pl] = '.';
    memcpy(input + pl + 1U, pay, yl);
    write_file(D "input.txt", input, pl + 1U + yl);
    return sh("openssl pkey -pubin -inform DER -in " D "pub.der -out " D "pub.pem 2>/dev/null && "
              "openssl dgst -sha256 -verify " D "pub.pem -signature " D "sig.der " D
              "input.txt >/dev/null 2>&1") == 0;
}

/* openssl thumbprint of a JWK text: base64url(SHA-256(jwk)). */
static void openssl_thumbprint(const char *jwk, char *out, size_t cap)
{
    write_file(D "jwk.txt", jwk, strlen(jwk));
    capture("openssl dgst -sha256 -binary " D "jwk.txt | basenc --base64url | tr -d '=\\n'", out,
            cap);
}

static void authz_body(char *b, size_t cap, const char *status, const char *ch_status,
                       const char *err)
{
    snprintf(b, cap,
             "{\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},\"status\":\"%s\","
             "\"expires\":\"2030-01-01T00:00:00Z\",\"challenges\":["
             "{\"type\":\"dns-01\",\"url\":\"" BASE "/chall/9\",\"token\":\"dnsTOKENdnsTOKENdns\","
             "\"status\":\"pending\"},"
             "{\"type\":\"http-01\",\"url\":\"" BASE "/chall/0\",\"token\":\"%s"
             "\",\"status\":\"%s\"%s}%s]}",
             status, srv.token, ch_status, err,
             srv.alpn ? ",{\"type\":\"tls-alpn-01\",\"url\":\"" BASE "/chall/1\",\"token\":\"" TOKEN
                        "\",\"status\":\"pending\"}"
                      : "");
}

static void order_body(char *b, size_t cap, const char *status)
{
    snprintf(b, cap,
             "{\"status\":\"%s\",\"expires\":\"2030-01-01T00:00:00Z\","
             "\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}],"
             "\"authorizations\":[\"" BASE "/authz/0\"],\"finalize\":\"" BASE "/finalize\"%s}",
             status, strcmp(status, "valid") == 0 ? ",\"certificate\":\"" BASE "/cert\"" : "");
}

/* Issue a certificate for the CSR (DER) with the test CA. */
static void issue_cert(const uint8_t *csr, size_t len)
{
    char ca[4096];
    char cmd[1024];
    /* the CSR of THIS request is written first, then checked (checking a
     * file left by an earlier request would prove nothing) */
    unlink(D "csr.der");
    write_file(D "csr.der", csr, len);
    if (sh("openssl req -inform DER -in " D "csr.der -verify -noout 2>" D "csr.err") != 0) {
        /* keep the evidence: the CSR and openssl's words */
        (void)sh("cp " D "csr.der " D "csr_rejected.der; cat " D "csr.err >&2");
        violation("CSR signature does not verify");
    }
    snprintf(cmd, sizeof cmd,
             "openssl x509 -req -inform DER -in " D "csr.der -CA " D "ca.pem -CAkey " D
             "ca.key -days 30 -copy_extensions copyall -extfile " D "ext.cnf %s%s -out " D
             "leaf.pem 2>/dev/null",
             srv.serial != NULL ? "-set_serial " : "", srv.serial != NULL ? srv.serial : "");
    if (sh(cmd) != 0) {
        violation("openssl refused the CSR");
        return;
    }
    srv.chain_len =
        read_file(srv.wrong_key ? D "other.pem" : D "leaf.pem", srv.chain, sizeof srv.chain);
    srv.chain_len += read_file(D "ca.pem", ca, sizeof ca);
    strcat(srv.chain, ca);
    for (unsigned i = 0; i < srv.extra_certs; i++) {
        srv.chain_len += read_file(D "big.pem", ca, sizeof ca);
        assert_true(srv.chain_len < sizeof srv.chain);
        strcat(srv.chain, ca);
    }
}

static void handle_post(conn_t *c, const char *path, const char *body)
{
    static char prot[2048];
    static char pay[4096];
    char url[256];
    char b[2048];
    const char *p64 = NULL;
    const char *y64 = NULL;
    const char *s64 = NULL;
    const char *v;
    long pl = jstr(body, "protected", &p64);
    long yl = jstr(body, "payload", &y64);
    long sl = jstr(body, "signature", &s64);
    long n;
    bool is_acct = strcmp(path, "/acct") == 0;
    uint8_t x[32], y[32];
    char jwk[200] = "";

    srv.posts++;
    if (pl < 0 || yl < 0 || sl < 0) {
        violation("POST body is not a flattened JWS");
        problem(c, path, 400, "malformed", "not a JWS", NULL);
        return;
    }
    n = b64u_dec(p64, (size_t)pl, (uint8_t *)prot, sizeof prot - 1U);
    assert_true(n > 0);
    prot[n] = '\0';
    n = b64u_dec(y64, (size_t)yl, (uint8_t *)pay, sizeof pay - 1U);
    assert_true(n >= 0);
    pay[n] = '\0';
    if (strstr(prot, "\"alg\":\"ES256\"") == NULL)
        violation("alg is not ES256");
    if ((size_t)snprintf(url, sizeof url, BASE "%s", path) >= sizeof url) {
        violation("request path too long");
    }
    n = jstr(prot, "url", &v);
    if (n < 0 || (size_t)n != strlen(url) || memcmp(v, url, (size_t)n) != 0) {
        violation("protected url differs from the request URL");
    }
    if (is_acct) {
        if (!jobj(prot, "jwk", jwk, sizeof jwk) || strstr(prot, "\"kid\"") != NULL ||
            strstr(jwk, "\"x\":\"") == NULL || strstr(jwk, "\"y\":\"") == NULL) {
            violation("newAccount without jwk or with kid");
            problem(c, path, 400, "malformed", "jwk", NULL);
            return;
        }
        if (b64u_dec(strstr(jwk, "\"x\":\"") + 5, 43, x, 32) != 32 ||
            b64u_dec(strstr(jwk, "\"y\":\"") + 5, 43, y, 32) != 32) {
            violation("bad jwk");
        }
    } else {
        if (strstr(prot, "\"jwk\"") != NULL ||
            strstr(prot, "\"kid\":\"" BASE "/acct/1\"") == NULL) {
            violation("request without the account kid");
        }
        if (!srv.acct_registered) {
            /* RFC 8555 §7.3.1: a kid the CA does not know (as Pebble) */
            problem(c, path, 400, "accountDoesNotExist", "unable to find existing account", NULL);
            return;
        }
        memcpy(x, srv.acct_x, 32);
        memcpy(y, srv.acct_y, 32);
    }
    if (openssl_verify(x, y, p64, (size_t)pl, y64, (size_t)yl, s64, (size_t)sl)) {
        srv.verified++;
    } else {
        violation("JWS signature does not verify with openssl");
    }
    /* §6.5: the nonce must be one we issued and not yet used */
    n = jstr(prot, "nonce", &v);
    {
        unsigned k = 0;
        bool ok = n == 14 && sscanf(v, "nonce-%4u-x_y", &k) == 1 && k < srv.nonce_ctr &&
                  k < sizeof srv.nonce_used && !srv.nonce_used[k];
        if (ok)
            srv.nonce_used[k] = 1;
        if (!ok || srv.bad_nonce_always || srv.posts <= srv.bad_nonce_first) {
            if (!ok)
                violation("nonce not issued or reused");
            problem(c, path, 400, "badNonce", "JWS has an invalid anti-replay nonce", NULL);
            return;
        }
    }

    if (srv.ovr_path != NULL && strcmp(path, srv.ovr_path) == 0 && srv.ovr_skip-- == 0) {
        srv.ovr_path = NULL;
        respond(c, path, srv.ovr_status, srv.ovr_ctype != NULL ? srv.ovr_ctype : "application/json",
                srv.ovr_extra, srv.ovr_body, true);
        return;
    }
    if (strcmp(path, "/revoke") == 0 || strcmp(path, "/kc") == 0) {
        /* RFC 8555 §7.6, §7.3.5: 200 and no body needed */
        if (path[1] == 'r')
            srv.revokes++;
        else
            srv.keychanges++;
        scopy(srv.lc_payload, sizeof srv.lc_payload, pay);
        respond(c, path, 200, NULL, NULL, NULL, true);
        return;
    }
    if (strcmp(path, "/acct/1") == 0) {
        srv.deactivates++;
        scopy(srv.lc_payload, sizeof srv.lc_payload, pay);
        snprintf(b, sizeof b, "{\"status\":\"%s\"}",
                 srv.deact_status != NULL ? srv.deact_status : "deactivated");
        respond(c, path, 200, "application/json", NULL, b, true);
        return;
    }
    if (is_acct) {
        srv.acct_posts++;
        scopy(srv.last_acct_payload, sizeof srv.last_acct_payload, pay);
        scopy(srv.last_acct_jwk, sizeof srv.last_acct_jwk, jwk);
        if (strstr(pay, "\"onlyReturnExisting\":true") != NULL) {
            if (!srv.acct_registered || strcmp(jwk, srv.acct_jwk) != 0) {
                problem(c, path, 400, "accountDoesNotExist", "no account for this key", NULL);
                return;
            }
            respond(c, path, 200, "application/json", "Location: " BASE "/acct/1\r\n",
                    "{\"status\":\"valid\",\"orders\":\"" BASE "/acct/1/orders\"}", true);
            return;
        }
        if (strstr(pay, "\"termsOfServiceAgreed\":true") == NULL)
            violation("ToS not agreed");
        if (g_eab_check != NULL)
            g_eab_check(pay, jwk);
        srv.acct_registered = true;
        memcpy(srv.acct_jwk, jwk, sizeof jwk);
        memcpy(srv.acct_x, x, 32);
        memcpy(srv.acct_y, y, 32);
        {
            char tp[128];
            openssl_thumbprint(jwk, tp, sizeof tp);
            assert_int_equal(strlen(tp), 43);
            scopy(srv.ka_expect, sizeof srv.ka_expect, TOKEN ".");
            scopy(srv.ka_expect + strlen(TOKEN) + 1U, sizeof srv.ka_expect - strlen(TOKEN) - 1U,
                  tp);
        }
        respond(c, path, 201, "application/json", "Location: " BASE "/acct/1\r\n",
                "{\"status\":\"valid\",\"contact\":[],\"orders\":\"" BASE "/acct/1/orders\"}",
                true);
        return;
    }
    if (strcmp(path, "/order") == 0) {
        if (srv.order_posts < 8)
            srv.order_times[srv.order_posts] = g_now;
        srv.order_posts++;
        {
            /* the identifiers, and "replaces" (RFC 9773 §5) only when the
             * directory names renewalInfo */
            static const char ids[] = "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}]";
            static const char rp[] = ",\"replaces\":\"";
            static const char pf[] = ",\"profile\":\"";
            const char *rest = pay + strlen(ids);
            srv.replaces[0] = '\0';
            srv.profile[0] = '\0';
            if (strncmp(pay, ids, strlen(ids)) == 0 && strncmp(rest, pf, strlen(pf)) == 0) {
                const char *q = strchr(rest + strlen(pf), '"');
                size_t l = q != NULL ? (size_t)(q - rest - strlen(pf)) : 0U;
                if (q == NULL || l == 0 || l >= sizeof srv.profile)
                    violation("newOrder profile");
                else {
                    memcpy(srv.profile, rest + strlen(pf), l);
                    srv.profile[l] = '\0';
                    rest = q + 1;
                }
            }
            if (strncmp(pay, ids, strlen(ids)) != 0) {
                violation("newOrder payload");
            } else if (strncmp(rest, rp, strlen(rp)) == 0 && strlen(rest) > strlen(rp) + 2U &&
                       strcmp(rest + strlen(rest) - 2U, "\"}") == 0) {
                size_t l = strlen(rest) - strlen(rp) - 2U;
                if (!srv.ari)
                    violation("replaces without renewalInfo in the directory");
                if (l >= sizeof srv.replaces)
                    l = sizeof srv.replaces - 1U;
                memcpy(srv.replaces, rest + strlen(rp), l);
                srv.replaces[l] = '\0';
                srv.orders_with_replaces++;
                if (srv.already_replaced > 0) {
                    srv.already_replaced--;
                    problem(c, path, 409, "alreadyReplaced",
                            "the certificate has been replaced already", NULL);
                    return;
                }
                if (srv.replaces_500 > 0) {
                    srv.replaces_500--;
                    problem(c, path, 500, "serverInternal",
                            "could not find an order for the given certificate", NULL);
                    return;
                }
                if (srv.replaces_503 > 0) {
                    srv.replaces_503--;
                    problem(c, path, 503, "serverInternal", "busy", NULL);
                    return;
                }
            } else if (strcmp(rest, "}") != 0) {
                violation("newOrder payload");
            }
        }
        if (srv.rate_limit_order > 0) {
            char ra[64] = "";
            srv.rate_limit_order--;
            if (srv.retry_after >= 0)
                snprintf(ra, sizeof ra, "Retry-After: %d\r\n", srv.retry_after);
            problem(c, path, 429, "rateLimited", "too many new orders", ra);
            return;
        }
        if (srv.reject_ident) {
            problem(c, path, 400, "rejectedIdentifier",
                    srv.reject_detail != NULL
                        ? srv.reject_detail
                        : "Error creating new order :: Cannot issue for \\\"a.test\\\": policy",
                    NULL);
            return;
        }
        srv.order_status = "pending";
        srv.authz_valid = false;
        srv.chall_posted = false;
        order_body(b, sizeof b, "pending");
        respond(c, path, 201, "application/json", "Location: " BASE "/order/1\r\n", b, true);
        return;
    }
    if (strcmp(path, "/authz/0") == 0) {
        if (pay[0] != '\0')
            violation("authz fetch is not POST-as-GET");
        if (srv.authz_invalid && srv.chall_posted) {
            authz_body(b, sizeof b, "invalid", "invalid",
                       ",\"error\":{\"type\":\"urn:ietf:params:acme:error:connection\","
                       "\"detail\":\"Connection refused\",\"status\":400}");
        } else {
            authz_body(b, sizeof b, srv.authz_valid ? "valid" : "pending",
                       srv.authz_valid ? "valid" : (srv.chall_posted ? "processing" : "pending"),
                       "");
        }
        respond(c, path, 200, "application/json", NULL, b, true);
        return;
    }
    if (strcmp(path, "/chall/9") == 0) {
        /* dns-01: the fake CA trusts the engine's resolver check */
        srv.chall_posted = true;
        if (!srv.authz_invalid) {
            srv.authz_valid = true;
            srv.order_status = "ready";
        }
        respond(c, path, 200, "application/json", NULL,
                srv.authz_invalid
                    ? "{\"type\":\"dns-01\",\"url\":\"" BASE
                      "/chall/9\",\"token\":\"dnsTOKENdnsTOKENdns\",\"status\":\"processing\"}"
                    : "{\"type\":\"dns-01\",\"url\":\"" BASE
                      "/chall/9\",\"token\":\"dnsTOKENdnsTOKENdns\",\"status\":\"valid\"}",
                true);
        return;
    }
    if (strcmp(path, "/chall/0") == 0) {
        if (strcmp(pay, "{}") != 0)
            violation("challenge response payload is not {}");
        srv.chall_posted = true;
        if (srv.h01) {
            srv.pending_validators = 2; /* an unknown token first, then ours */
            srv.pending_404_first = true;
        } else if (!srv.authz_invalid) {
            srv.authz_valid = true;
            srv.order_status = "ready";
        }
        respond(c, path, 200, "application/json", "Link: <" BASE "/authz/0>;rel=\"up\"\r\n",
                "{\"type\":\"http-01\",\"url\":\"" BASE "/chall/0\",\"token\":\"" TOKEN
                "\",\"status\":\"processing\"}",
                true);
        return;
    }
    if (strcmp(path, "/chall/1") == 0) {
        /* tls-alpn-01: the validator connects to the engine's listener */
        if (strcmp(pay, "{}") != 0)
            violation("challenge response payload is not {}");
        srv.chall_posted = true;
        srv.pending_alpn = 1U + srv.alpn_open_fail + srv.alpn_stall + srv.alpn_hs_fail;
        respond(c, path, 200, "application/json", NULL,
                "{\"type\":\"tls-alpn-01\",\"url\":\"" BASE "/chall/1\",\"token\":\"" TOKEN
                "\",\"status\":\"processing\"}",
                true);
        return;
    }
    if (strcmp(path, "/finalize") == 0) {
        uint8_t der[2048];
        long dl;
        srv.finalizes++;
        if (srv.order_not_ready && srv.not_ready_sent == 0) {
            srv.not_ready_sent++;
            problem(c, path, 403, "orderNotReady",
                    "Order's status (\\\"pending\\\") is not acceptable for finalization", NULL);
            return;
        }
        if (strcmp(srv.order_status, "ready") != 0) {
            problem(c, path, 403, "orderNotReady", "not ready", NULL);
            return;
        }
        n = jstr(pay, "csr", &v);
        dl = n > 0 ? b64u_dec(v, (size_t)n, der, sizeof der) : -1;
        if (dl <= 0) {
            violation("finalize without a base64url CSR");
            problem(c, path, 400, "badCSR", "no CSR", NULL);
            return;
        }
        issue_cert(der, (size_t)dl);
        srv.order_status = "processing";
        order_body(b, sizeof b, "processing");
        respond(c, path, 200, "application/json", "Location: " BASE "/order/1\r\n", b, true);
        return;
    }
    if (strcmp(path, "/order/1") == 0) {
        if (pay[0] != '\0')
            violation("order fetch is not POST-as-GET");
        if (strcmp(srv.order_status, "processing") == 0 && !srv.order_stuck &&
            !srv.order_quiet_stuck) {
            srv.order_status = "valid";
        }
        order_body(b, sizeof b, srv.order_status);
        respond(c, path, 200, "application/json", srv.order_stuck ? "Retry-After: 3600\r\n" : NULL,
                b, true);
        return;
    }
    if (strcmp(path, "/kc") == 0) { /* §7.3.5: taken as it comes */
        respond(c, path, 200, "application/json", NULL, "{}", true);
        return;
    }
    if (strcmp(path, "/cert") == 0) {
        if (pay[0] != '\0')
            violation("certificate fetch is not POST-as-GET");
        respond(c, path, 200, "application/pem-certificate-chain", NULL, srv.chain, true);
        return;
    }
    problem(c, path, 404, "malformed", "no such resource", NULL);
}

/* Answer every complete request in c->in. */
static void serve(conn_t *c)
{
    for (;;) {
        char *end;
        char method[8];
        char target[256];
        size_t head;
        size_t cl = 0;
        const char *h;
        char body[8192];
        c->in[c->in_len < IOBUF ? c->in_len : IOBUF - 1U] = '\0';
        end = strstr((char *)c->in, "\r\n\r\n");
        if (end == NULL)
            return;
        head = (size_t)(end - (char *)c->in) + 4U;
        h = strstr((char *)c->in, "\r\nContent-Length: ");
        if (h != NULL && h < end)
            cl = (size_t)strtoul(h + 18, NULL, 10);
        if (c->in_len < head + cl)
            return;
        if (sscanf((char *)c->in, "%7s %255s HTTP/1.1\r\n", method, target) != 2) {
            violation("bad request line");
            return;
        }
        if (strstr((char *)c->in, "\r\nHost: ca.test:4000\r\n") == NULL)
            violation("Host header");
        assert_true(cl < sizeof body);
        memcpy(body, c->in + head, cl);
        body[cl] = '\0';
        srv.reqs++;
        if (srv.hangup_path != NULL && strcmp(target, srv.hangup_path) == 0 &&
            srv.hangup_count > 0) {
            srv.hangup_count--;
            c->peer_closed = true; /* no answer: the connection is closed */
        } else if (srv.silent_path != NULL && strcmp(target, srv.silent_path) == 0 &&
                   srv.silent_count > 0) {
            /* swallowed: no answer ever comes on this connection */
            srv.silent_count--;
            if (strcmp(method, "POST") == 0 && strcmp(target, "/order") == 0)
                srv.order_posts++;
        } else if (strcmp(target, "/dir") == 0 && strcmp(method, "GET") == 0 &&
                   srv.dir_body != NULL) {
            srv.dir_gets++;
            respond(c, target, 200, "application/json", NULL, srv.dir_body, srv.dir_nonce);
        } else if (strcmp(target, "/dir") == 0 && strcmp(method, "GET") == 0 &&
                   srv.profiles != NULL) {
            char d[1024];
            srv.dir_gets++;
            snprintf(d, sizeof d,
                     "{\"newNonce\":\"" BASE "/nonce\",\"newAccount\":\"" BASE "/acct\","
                     "\"newOrder\":\"" BASE "/order\",\"meta\":{\"profiles\":%s}}",
                     srv.profiles);
            respond(c, target, 200, "application/json", NULL, d, srv.dir_nonce);
        } else if (strcmp(target, "/dir") == 0 && strcmp(method, "GET") == 0) {
            srv.dir_gets++;
            respond(c, target, 200, "application/json", NULL,
                    srv.ari ? "{\"newNonce\":\"" BASE "/nonce\",\"newAccount\":\"" BASE "/acct\","
                              "\"newOrder\":\"" BASE "/order\",\"revokeCert\":\"" BASE "/revoke\","
                              "\"keyChange\":\"" BASE "/kc\",\"renewalInfo\":\"" BASE "/ari\","
                              "\"meta\":{\"termsOfService\":\"" BASE
                              "/tos\",\"externalAccountRequired\":false}}"
                            : "{\"newNonce\":\"" BASE "/nonce\",\"newAccount\":\"" BASE "/acct\","
                              "\"newOrder\":\"" BASE "/order\",\"revokeCert\":\"" BASE "/revoke\","
                              "\"keyChange\":\"" BASE "/kc\",\"meta\":{\"termsOfService\":\"" BASE
                              "/tos\",\"externalAccountRequired\":false}}",
                    srv.dir_nonce);
        } else if (strncmp(target, "/ari/", 5) == 0 && strcmp(method, "GET") == 0 && !srv.ari) {
            /* a CA without ARI (any more) knows no such path */
            srv.ari_stale++;
            problem(c, target, 404, "malformed", "no such resource", NULL);
        } else if (strncmp(target, "/ari/", 5) == 0 && strcmp(method, "GET") == 0) {
            /* RFC 9773 §4.1: unauthenticated GET of renewalInfo/<CertID> */
            if (!srv.ari)
                violation("renewalInfo GET without renewalInfo in the directory");
            if (cl != 0)
                violation("renewalInfo GET with a body");
            srv.ari_gets++;
            scopy(srv.ari_certid, sizeof srv.ari_certid, target + 5);
            respond(c, target, srv.ari_status != 0 ? srv.ari_status : 200,
                    srv.ari_status >= 400 ? "application/problem+json" : "application/json",
                    srv.ari_extra, srv.ari_body, false);
        } else if (strcmp(target, "/nonce") == 0 && strcmp(method, "HEAD") == 0 &&
                   srv.nonce_gone > 0) {
            srv.nonce_gone--;
            respond(c, target, 404, NULL, NULL, NULL, false);
        } else if (strcmp(target, "/nonce") == 0 && strcmp(method, "HEAD") == 0) {
            static char longnonce[4100];
            if (srv.nonce_long) {
                memcpy(longnonce, "Replay-Nonce: ", 14);
                memset(longnonce + 14, 'n', 4000);
                memcpy(longnonce + 4014, "\r\n", 3);
            }
            respond(c, target, 200, NULL,
                    srv.nonce_long ? longnonce : "Cache-Control: no-store\r\n", NULL,
                    !srv.nonce_missing && !srv.nonce_long);
        } else if (strcmp(method, "POST") == 0) {
            if (strstr((char *)c->in, "\r\nContent-Type: application/jose+json\r\n") == NULL) {
                violation("POST without application/jose+json");
            }
            if (strcmp(target, "/cert") == 0 &&
                strstr((char *)c->in, "\r\nAccept: application/pem-certificate-chain\r\n") ==
                    NULL) {
                violation("certificate download without Accept");
            }
            handle_post(c, target, body);
        } else {
            violation("unexpected method/target");
            problem(c, target, 405, "malformed", "method", NULL);
        }
        memmove(c->in, c->in + head + cl, c->in_len - head - cl);
        c->in_len -= head + cl;
    }
}

/* The validator has its answer (the engine closed the connection). */
static void validator_done(conn_t *c)
{
    char *b;
    c->in[c->in_len < IOBUF ? c->in_len : IOBUF - 1U] = '\0';
    b = strstr((char *)c->in, "\r\n\r\n");
    if (c->want_404) {
        if (strncmp((char *)c->in, "HTTP/1.1 404 ", 13) == 0 && b != NULL && b[4] == '\0') {
            srv.h01_404_ok++;
        } else {
            srv.h01_bad++;
        }
        return;
    }
    if (strncmp((char *)c->in, "HTTP/1.1 200 ", 13) == 0 && b != NULL &&
        strstr((char *)c->in, "\r\nContent-Length: ") != NULL &&
        strcmp(b + 4, srv.ka_expect) == 0) {
        srv.h01_200_ok++;
        if (!srv.authz_invalid) {
            srv.authz_valid = true;
            srv.order_status = "ready";
        }
    } else {
        srv.h01_bad++;
    }
}

/* ---- fake transport ------------------------------------------------------------ */

static conn_t *conn_of(picoacme_sock_t s)
{
    assert_true(s >= 3 && s < 3 + NCONN);
    assert_true(g_conn[s - 3].used);
    return &g_conn[s - 3];
}

static picoacme_sock_t conn_new(void)
{
    for (int i = 0; i < NCONN; i++) {
        if (!g_conn[i].used) {
            memset(&g_conn[i], 0, sizeof g_conn[i]);
            g_conn[i].used = true;
            return (picoacme_sock_t)(i + 3);
        }
    }
    fail_msg("out of fake connections (a socket leaks)");
    return PICOACME_SOCK_NONE;
}

static picoacme_err_t t_connect(void *u, const char *host, uint16_t port, picoacme_sock_t *s)
{
    (void)u;
    if (g_dns_tcp != NULL && strcmp(host, "127.0.0.1") == 0 && port == 5300U) {
        if (g_dns_tcp_again > 0) {
            g_dns_tcp_again--;
            return PICOACME_AGAIN;
        }
        *s = conn_new();
        g_conn[*s - 3].dns = true;
        if (g_dns_tcp_reset > 0) {
            g_dns_tcp_reset--;
            g_conn[*s - 3].peer_closed = true;
        }
        return PICOACME_OK;
    }
    if (strcmp(host, "ca.test") != 0 || port != 4000U)
        violation("connect to another host");
    if (srv.connect_again > 0) {
        srv.connect_again--;
        return PICOACME_AGAIN; /* the name is still resolving */
    }
    if (srv.connect_refuse > 0) {
        srv.connect_refuse--;
        return PICOACME_ERR_IO;
    }
    if (srv.connect_unknown > 0) {
        srv.connect_unknown--;
        return PICOACME_ERR_NOT_FOUND;
    }
    srv.connects++;
    *s = conn_new();
    return PICOACME_OK;
}

static picoacme_err_t t_send(void *u, picoacme_sock_t s, const uint8_t *b, size_t len, size_t *sent)
{
    conn_t *c = conn_of(s);
    size_t n = len > 512U ? 512U : len;
    (void)u;
    assert_true(len > 0);
    if ((c->wtog = !c->wtog))
        return PICOACME_WANT_WRITE;
    *sent = n;
    if (c->peer_closed && srv.send_reset)
        return PICOACME_ERR_CLOSED; /* the reset arrived before the send */
    if (c->peer_closed)
        return PICOACME_OK; /* like TCP: the first send still "works" */
    assert_true(c->in_len + n < IOBUF);
    memcpy(c->in + c->in_len, b, n);
    c->in_len += n;
    g_io++;
    if (c->dns)
        g_dns_tcp(c);
    else if (!c->validator)
        serve(c);
    return PICOACME_OK;
}

static picoacme_err_t t_recv(void *u, picoacme_sock_t s, uint8_t *b, size_t len, size_t *got)
{
    conn_t *c = conn_of(s);
    (void)u;
    assert_true(len > 0);
    if (c->out_off < c->out_len) {
        size_t n = c->out_len - c->out_off;
        if ((c->rtog = !c->rtog))
            return PICOACME_WANT_READ;
        if (n > g_piece)
            n = g_piece;
        if (n > len)
            n = len;
        memcpy(b, c->out + c->out_off, n);
        c->out_off += n;
        *got = n;
        g_io++;
        if (c->out_off == c->out_len && c->close_after)
            c->peer_closed = true;
        return PICOACME_OK;
    }
    if (c->close_after)
        c->peer_closed = true;
    return c->peer_closed ? PICOACME_ERR_CLOSED : PICOACME_WANT_READ;
}

static void t_close(void *u, picoacme_sock_t s)
{
    (void)u;
    if (s == LSOCK || s == LSOCK_ALPN || s == 150 /* DNS_SOCK */)
        return;
    conn_t *c = conn_of(s);
    if (c->validator)
        validator_done(c);
    c->used = false;
}

static bool g_listening;

static picoacme_err_t t_listen(void *u, uint16_t port, picoacme_sock_t *ls)
{
    (void)u;
    if (port == ALPN_PORT) {
        if (srv.listen_fail)
            return PICOACME_ERR_IO;
        *ls = LSOCK_ALPN;
        return PICOACME_OK;
    }
    assert_int_equal(port, H01_PORT);
    g_listening = true;
    *ls = LSOCK;
    return PICOACME_OK;
}

static picoacme_err_t t_accept(void *u, picoacme_sock_t ls, picoacme_sock_t *s)
{
    conn_t *c;
    char req[256];
    (void)u;
    if (ls == LSOCK_ALPN) {
        if (srv.pending_alpn == 0)
            return PICOACME_WANT_READ;
        srv.pending_alpn--;
        *s = conn_new();
        return PICOACME_OK;
    }
    assert_int_equal(ls, LSOCK);
    if (srv.pending_validators == 0)
        return PICOACME_WANT_READ;
    srv.pending_validators--;
    *s = conn_new();
    c = &g_conn[*s - 3];
    c->validator = true;
    c->want_404 = srv.pending_404_first;
    srv.pending_404_first = false;
    snprintf(req, sizeof req,
             "GET /.well-known/acme-challenge/%s HTTP/1.1\r\nHost: a.test\r\n"
             "User-Agent: validator\r\nAccept: */*\r\n\r\n",
             c->want_404 ? "unknownTOKENunknownTOKEN" : TOKEN);
    out_put(c, req, strlen(req));
    return PICOACME_OK;
}

/* ---- clock ------------------------------------------------------------------------ */

static int64_t c_wall(void *u)
{
    (void)u;
    return PICOACME_TIME_UNKNOWN;
}

static uint32_t c_mono(void *u)
{
    (void)u;
    return g_now;
}

/* ---- environment ----------------------------------------------------------------- */

static picoacme_ctx_t g_ctx;
static picoacme_wolfssl_crypto_t g_wc;
static picoacme_crypto_t g_crypto;
static picoacme_posix_flash_t g_fl;
static picoacme_storage_t g_st;
static picoacme_transport_t g_tp;
static picoacme_clock_t g_clk;
static picoacme_ports_t g_ports;
static picoacme_config_t g_cfg;
static const picoacme_ident_t g_ids[1] = {{PICOACME_ID_DNS, "a.test"}};
static uint32_t g_waits[64];
static unsigned g_nwaits;
static unsigned g_steps;
static void (*g_step_hook)(void); /* called after every step (NULL: none) */

/* ENGINE_LOG=1 shows the engine's log while debugging a case. */
static void log_hook(void *user, int level, const char *fmt, ...)
{
    va_list ap;
    (void)user;
    if (getenv("ENGINE_LOG") == NULL)
        return;
    va_start(ap, fmt);
    fprintf(stderr, "[%d] ", level);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static size_t g_flash_size = 16384U;

static void env_open(bool fresh_flash)
{
    if (fresh_flash)
        unlink(D "flash.bin");
    assert_int_equal(picoacme_posix_flash_open(&g_fl, D "flash.bin", g_flash_size, 4096U, &g_st),
                     PICOACME_OK);
    assert_int_equal(picoacme_wolfssl_crypto_init(&g_wc, NULL, &g_crypto), PICOACME_OK);
    memset(&g_tp, 0, sizeof g_tp);
    g_tp.connect = t_connect;
    g_tp.send = t_send;
    g_tp.recv = t_recv;
    g_tp.close = t_close;
    g_tp.listen = t_listen;
    g_tp.accept = t_accept;
    g_clk.wall_s = c_wall;
    g_clk.mono_ms = c_mono;
    memset(&g_ports, 0, sizeof g_ports);
    g_ports.transport = &g_tp;
    g_ports.tls = NULL;
    g_ports.crypto = &g_crypto;
    g_ports.storage = &g_st;
    g_ports.clock = &g_clk;
    g_ports.log = log_hook;
    memset(&g_cfg, 0, sizeof g_cfg);
    g_cfg.directory_url = BASE "/dir";
    g_cfg.ids = g_ids;
    g_cfg.n_ids = 1;
    g_cfg.http01_port = H01_PORT;
    g_now = UINT32_MAX - 3000U; /* the run crosses the 32-bit wrap */
    g_listening = false;
    g_step_hook = NULL;
    g_eab_check = NULL;
    g_dns_tcp = NULL;
    g_dns_tcp_again = g_dns_tcp_reset = 0;
}

static void env_close(void)
{
    picoacme_abort(&g_ctx);
    picoacme_wolfssl_crypto_free(&g_wc);
    picoacme_posix_flash_close(&g_fl);
}

static picoacme_err_t pump_engine(void)
{
    picoacme_wait_t w;
    picoacme_err_t e;
    unsigned idle = 0, io = g_io;
    for (g_steps = 0; g_steps < 200000U; g_steps++) {
        e = picoacme_step(&g_ctx, &w);
        if (g_step_hook != NULL)
            g_step_hook();
        /* a peer that never answers: time passes until the engine's deadline */
        idle = g_io == io ? idle + 1U : 0U;
        io = g_io;
        if (idle > 64U && (e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE)) {
            g_now += w.timeout_ms;
            idle = 0;
            continue;
        }
        if (!picoacme_err_is_pending(e)) {
            /* a finished engine keeps its answer */
            picoacme_err_t again = picoacme_step(&g_ctx, &w);
            assert_int_equal(again, e);
            return e;
        }
        if (e == PICOACME_AGAIN) {
            assert_true(w.timeout_ms != UINT32_MAX);
            if (g_nwaits < 64)
                g_waits[g_nwaits++] = w.timeout_ms;
            g_now += w.timeout_ms;
        } else {
            /* WANT_READ / WANT_WRITE: the socket is in the wait set */
            assert_true(w.count >= 1U);
            assert_true(w.timeout_ms <= PICOACME_IO_TIMEOUT_MS);
        }
    }
    fail_msg("the engine did not finish in 200000 steps (state %s, %u requests)",
             picoacme_state_str(picoacme_state(&g_ctx)), srv.reqs);
    return PICOACME_ERR_STATE;
}

static picoacme_err_t run(void)
{
    picoacme_err_t e;
    g_nwaits = 0;
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    e = picoacme_issue_start(&g_ctx);
    if (e != PICOACME_OK)
        return e;
    return pump_engine();
}

/* The ARI exchange (RFC 9773) on a fresh context, as after a reboot. */
static picoacme_err_t run_ari(void)
{
    picoacme_err_t e;
    g_nwaits = 0;
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    e = picoacme_ari_start(&g_ctx);
    if (e != PICOACME_OK)
        return e;
    return pump_engine();
}

static uint32_t max_wait(void)
{
    uint32_t m = 0;
    for (unsigned i = 0; i < g_nwaits; i++) {
        if (g_waits[i] > m)
            m = g_waits[i];
    }
    return m;
}

static void assert_no_violation(void)
{
    if (srv.violations != 0)
        fail_msg("fake CA saw %u violation(s): %s", srv.violations, srv.violation);
}

static void assert_nothing_stored(void)
{
    picoacme_stored_info_t info;
    assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_ERR_NOT_FOUND);
}

static void assert_problem(picoacme_err_t err, picoacme_state_t st, unsigned http, const char *type)
{
    const picoacme_problem_t *p = picoacme_last_problem(&g_ctx);
    assert_int_equal(p->err, err);
    if (p->state != st)
        fail_msg("failed in state %s, expected %s", picoacme_state_str(p->state),
                 picoacme_state_str(st));
    assert_int_equal(p->http_status, http);
    assert_string_equal(p->type, type);
}

static int group_setup(void **state)
{
    (void)state;
    /* the CA names itself in every leaf (authorityKeyIdentifier): the ARI CertID */
    write_file(D "ext.cnf", "authorityKeyIdentifier=keyid\n", 29U);
    if (sh("openssl ecparam -name prime256v1 -genkey -noout -out " D "ca.key 2>/dev/null && "
           "openssl req -x509 -new -key " D "ca.key -subj '/CN=picoacme test CA' -days 30 "
           "-out " D "ca.pem 2>/dev/null && "
           "openssl ecparam -name prime256v1 -genkey -noout -out " D "other.key 2>/dev/null && "
           "openssl req -new -key " D "other.key -subj /CN=a.test -addext "
           "subjectAltName=DNS:a.test -outform DER -out " D "other.der 2>/dev/null && "
           "openssl x509 -req -inform DER -in " D "other.der -CA " D "ca.pem -CAkey " D
           "ca.key -days 30 -copy_extensions copyall -out " D "other.pem 2>/dev/null") != 0) {
        return -1;
    }
    return 0;
}

/* ---- cases ----------------------------------------------------------------------- */

/* 1. happy path: one name, one connection, exact request count */
static void test_happy_path(void **state)
{
    const char *pem = NULL;
    size_t len = 0;
    picoacme_stored_info_t info;
    char ka[160];
    size_t kl = 0;
    (void)state;
    srv_reset(false);
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    /* dir, HEAD nonce, newAccount, newOrder, authz, challenge, authz poll,
     * finalize, order poll, certificate */
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 10);
    assert_int_equal(srv.reqs, 10);
    assert_int_equal(picoacme_stats(&g_ctx)->connections, 1);
    assert_int_equal(srv.connects, 1);
    assert_int_equal(picoacme_stats(&g_ctx)->bad_nonces, 0);
    assert_int_equal(srv.verified, 8); /* every POST's signature, checked by openssl */
    assert_true(g_listening);
    assert_int_equal(srv.h01_404_ok, 1);
    assert_int_equal(srv.h01_200_ok, 1);
    assert_int_equal(srv.h01_bad, 0);
    assert_int_equal(picoacme_result(&g_ctx, &pem, &len), PICOACME_OK);
    assert_int_equal(len, srv.chain_len);
    assert_memory_equal(pem, srv.chain, len);
    assert_int_equal(sh("openssl verify -CAfile " D "ca.pem " D "leaf.pem >/dev/null"), 0);
    /* no RTC: time comes from the CA's Date (no clock moved since) */
    assert_int_equal(picoacme_now(&g_ctx), DATE_S);
    /* http-01 key authorization = token "." openssl thumbprint */
    assert_int_equal(picoacme_http01_lookup(&g_ctx, "/.well-known/acme-challenge/" TOKEN,
                                            strlen("/.well-known/acme-challenge/" TOKEN), ka,
                                            sizeof ka, &kl),
                     PICOACME_OK);
    assert_int_equal(kl, strlen(srv.ka_expect));
    assert_memory_equal(ka, srv.ka_expect, kl);
    assert_int_equal(picoacme_http01_lookup(&g_ctx, "/.well-known/acme-challenge/" TOKEN, 30U, ka,
                                            sizeof ka, &kl),
                     PICOACME_ERR_NOT_FOUND);
    assert_int_equal(
        picoacme_http01_lookup(&g_ctx, "/x/" TOKEN, strlen("/x/" TOKEN), ka, sizeof ka, &kl),
        PICOACME_ERR_NOT_FOUND);
    assert_int_equal(picoacme_http01_lookup(&g_ctx, "/.well-known/acme-challenge/" TOKEN,
                                            strlen("/.well-known/acme-challenge/" TOKEN), ka,
                                            strlen(srv.ka_expect) - 1U, &kl),
                     PICOACME_ERR_NOSPACE);
    /* stored: the same chain, validity of the issued leaf */
    assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
    assert_int_equal(info.chain_len, srv.chain_len);
    assert_memory_equal(info.chain_pem, srv.chain, srv.chain_len);
    assert_true(info.has_account);
    assert_int_equal(info.not_after_s - info.not_before_s, 30 * 86400);
    assert_int_equal(info.renew_at_s, picoacme_renew_at(info.not_before_s, info.not_after_s));
    /* the record is exactly its TLVs: the chain TLV ends the record (a bug
     * once saved the chain twice over, reading past the record) */
    {
        static uint8_t rec[PICOACME_RX_BUF_SIZE];
        size_t len = 0, p = 0, last_len = 0;
        uint8_t last_tag = 0;
        assert_int_equal(picoacme_store_load(&g_st, rec, sizeof rec, &len, NULL), PICOACME_OK);
        while (p + 3U <= len) {
            size_t l = (size_t)rec[p + 1] | ((size_t)rec[p + 2] << 8);
            last_tag = rec[p];
            last_len = l;
            if (last_tag == PICOACME_REC_CHAIN) {
                assert_int_equal(l, 0); /* the chain runs to the record's end */
                last_len = len - p - 3U;
                l = last_len;
            }
            p += 3U + l;
        }
        assert_int_equal(p, len);
        assert_int_equal(last_tag, PICOACME_REC_CHAIN);
        assert_int_equal(last_len, srv.chain_len);
    }
    env_close();
}

/* 2. second issue with the same flash: the account is reused, the
 * certificate key is new */
static void test_account_reuse(void **state)
{
    uint8_t pub1[64];
    uint8_t pub2[64];
    uint8_t acc1[64];
    uint8_t acc2[64];
    char jwk1[200];
    char chain1[8192];
    picoacme_stored_info_t info;
    (void)state;
    srv_reset(false);
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_non_null(strstr(srv.last_acct_payload, "\"termsOfServiceAgreed\":true"));
    assert_null(strstr(srv.last_acct_payload, "onlyReturnExisting"));
    memcpy(jwk1, srv.last_acct_jwk, sizeof jwk1);
    memcpy(chain1, srv.chain, sizeof chain1);
    assert_int_equal(g_crypto.key_public(g_crypto.user, PICOACME_KEY_CERT, pub1), PICOACME_OK);
    assert_int_equal(g_crypto.key_public(g_crypto.user, PICOACME_KEY_ACCOUNT, acc1), PICOACME_OK);
    env_close();

    /* "reboot": new crypto instance, same flash file, same CA */
    srv_reset(true);
    env_open(false);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    /* issue 8: the stored account URL is the kid at once, no lookup */
    assert_int_equal(srv.acct_posts, 0);
    assert_string_equal(picoacme_account_url(&g_ctx), BASE "/acct/1");
    /* issue 8: nor the directory GET (its URLs are in the record): HEAD
     * nonce, order, authz, challenge, authz poll, finalize, order poll,
     * certificate */
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 8);
    assert_int_equal(srv.reqs, 8);
    assert_int_equal(g_crypto.key_public(g_crypto.user, PICOACME_KEY_CERT, pub2), PICOACME_OK);
    assert_int_equal(g_crypto.key_public(g_crypto.user, PICOACME_KEY_ACCOUNT, acc2), PICOACME_OK);
    assert_memory_equal(acc1, acc2, 64);
    assert_memory_not_equal(pub1, pub2, 64);
    assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
    assert_int_equal(info.chain_len, srv.chain_len);
    assert_memory_equal(info.chain_pem, srv.chain, srv.chain_len);
    assert_memory_not_equal(srv.chain, chain1, 64 + 27);
    env_close();

    /* the CA forgot the account: accountDoesNotExist -> a new account */
    srv_reset(false);
    env_open(false);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(srv.acct_posts, 2);
    assert_non_null(strstr(srv.last_acct_payload, "\"termsOfServiceAgreed\":true"));
    assert_string_equal(srv.last_acct_jwk, jwk1); /* same key, registered anew */
    /* the order with the stored kid (accountDoesNotExist), lookup, new
     * account; the directory's URLs are the stored ones */
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 11);
    env_close();
}

/* A storage port over g_st whose power is cut after g_cut_left bytes of
 * writes: the cut write programs only its first bytes and fails. */
static size_t g_cut_left;
static picoacme_err_t cut_read(void *u, size_t off, uint8_t *b, size_t n)
{
    (void)u;
    return g_st.read(g_st.user, off, b, n);
}
static picoacme_err_t cut_write(void *u, size_t off, const uint8_t *b, size_t n)
{
    (void)u;
    if (n > g_cut_left) {
        if (g_cut_left > 0U)
            (void)g_st.write(g_st.user, off, b, g_cut_left);
        g_cut_left = 0;
        return PICOACME_ERR_STORAGE;
    }
    g_cut_left -= n;
    return g_st.write(g_st.user, off, b, n);
}
static picoacme_err_t cut_erase(void *u, size_t off, size_t n)
{
    (void)u;
    return g_st.erase(g_st.user, off, n);
}

/* 2b. the record is streamed to the store (fields, then the chain as it is
 * downloaded, the header at commit): a power cut at any point of that
 * write keeps the previous record whole */
static void test_store_power_cut(void **state)
{
    static const size_t cuts[] = {0, 1, 40, 300, 700};
    char chain1[8192];
    size_t chain1_len;
    picoacme_storage_t cut;
    picoacme_stored_info_t info;
    (void)state;
    srv_reset(false);
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    memcpy(chain1, srv.chain, sizeof chain1);
    chain1_len = srv.chain_len;
    env_close();
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        srv_reset(true);
        env_open(false);
        cut = g_st;
        cut.read = cut_read;
        cut.write = cut_write;
        cut.erase = cut_erase;
        g_cut_left = cuts[i];
        g_ports.storage = &cut;
        assert_int_equal(run(), PICOACME_ERR_STORAGE);
        /* the record is written while the chain is downloaded */
        assert_int_equal(picoacme_last_problem(&g_ctx)->state, PICOACME_ST_CERT);
        assert_int_equal(g_cut_left, 0);
        /* after the "reboot" the old record is the one read */
        g_ports.storage = &g_st;
        assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
        assert_int_equal(info.chain_len, chain1_len);
        assert_memory_equal(info.chain_pem, chain1, chain1_len);
        env_close();
    }
    /* no cut: the new chain replaces it */
    srv_reset(true);
    env_open(false);
    assert_int_equal(run(), PICOACME_OK);
    assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
    assert_int_equal(info.chain_len, srv.chain_len);
    assert_memory_equal(info.chain_pem, srv.chain, srv.chain_len);
    assert_memory_not_equal(srv.chain, chain1, 64 + 27);
    memcpy(chain1, srv.chain, sizeof chain1);
    chain1_len = srv.chain_len;
    env_close();
    /* a leaf without our key is checked before the record is committed:
     * the old record stays */
    srv_reset(true);
    srv.wrong_key = true;
    env_open(false);
    assert_int_equal(run(), PICOACME_ERR_PROTOCOL);
    assert_int_equal(picoacme_last_problem(&g_ctx)->state, PICOACME_ST_CERT);
    assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
    assert_int_equal(info.chain_len, chain1_len);
    assert_memory_equal(info.chain_pem, chain1, chain1_len);
    env_close();
}

/* 2c. a record longer than rx (a 5- and a 12-certificate chain): the
 * leaf's validity from picoacme_stored(), the whole chain, in pieces,
 * from picoacme_stored_chain_read() */
static void test_stored_long_chain(void **state)
{
    static const unsigned certs[] = {5, 12};
    static char chain[16 * 4096];
    static uint8_t rec[sizeof chain + 256];
    static char leaf[4096];
    static char ca[4096];
    picoacme_posix_flash_t fl;
    picoacme_storage_t st;
    picoacme_stored_info_t info;
    (void)state;
    srv_reset(false);
    env_open(true);
    assert_int_equal(run(), PICOACME_OK); /* issues leaf.pem for a.test */
    env_close();
    size_t leaf_len = read_file(D "leaf.pem", leaf, sizeof leaf);
    /* intermediates the size of real ones: RSA-2048 */
    assert_int_equal(sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout " D
                        "big.key -subj '/CN=picoacme test intermediate' -days 30 -out " D
                        "big.pem 2>/dev/null"),
                     0);
    size_t ca_len = read_file(D "big.pem", ca, sizeof ca);
    for (size_t k = 0; k < 2; k++) {
        size_t cl = leaf_len;
        size_t rl = 0;
        memcpy(chain, leaf, leaf_len);
        for (unsigned i = 1; i < certs[k]; i++, cl += ca_len)
            memcpy(chain + cl, ca, ca_len);
        assert_true(cl > PICOACME_RX_BUF_SIZE || certs[k] == 5);
        assert_true(cl <= 0xFFFFU);
        rec[rl++] = PICOACME_REC_DIR;
        rec[rl++] = 1;
        rec[rl++] = 0;
        rec[rl++] = 'x';
        rec[rl++] = PICOACME_REC_CERT;
        rec[rl++] = (uint8_t)(cl & 0xFFU);
        rec[rl++] = (uint8_t)(cl >> 8);
        memcpy(rec + rl, chain, cl);
        rl += cl;
        unlink(D "bigflash.bin");
        assert_int_equal(picoacme_posix_flash_open(&fl, D "bigflash.bin", 2U * 32768U, 4096U, &st),
                         PICOACME_OK);
        assert_int_equal(picoacme_store_save(&st, rec, rl), PICOACME_OK);
        env_open(false);
        g_ports.storage = &st;
        assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
        assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
        assert_int_equal(info.chain_len, cl);
        if (rl > PICOACME_RX_BUF_SIZE)
            assert_null(info.chain_pem);
        else
            assert_memory_equal(info.chain_pem, chain, cl);
        assert_int_equal(info.not_after_s - info.not_before_s, 30 * 86400);
        /* read back in odd pieces */
        static char back[sizeof chain];
        size_t got = 0, n = 0, total = 0;
        while (got < cl) {
            uint8_t piece[1000];
            assert_int_equal(
                picoacme_stored_chain_read(&g_ctx, got, piece, sizeof piece, &n, &total),
                PICOACME_OK);
            assert_int_equal(total, cl);
            assert_true(n > 0 && n <= sizeof piece);
            memcpy(back + got, piece, n);
            got += n;
        }
        assert_int_equal(got, cl);
        assert_memory_equal(back, chain, cl);
        assert_int_equal(picoacme_stored_chain_read(&g_ctx, cl, (uint8_t *)back, 10, &n, &total),
                         PICOACME_OK);
        assert_int_equal(n, 0);
        env_close();
        picoacme_posix_flash_close(&fl);
    }
}

/* A storage port over g_st that fails the write of a slot's header (the
 * commit) after programming half of it. */
static picoacme_err_t hdrcut_write(void *u, size_t off, const uint8_t *b, size_t n)
{
    size_t slot = picoacme_store_capacity(&g_st) + PICOACME_STORE_HDR_LEN;
    (void)u;
    if (off % slot == 0U) {
        (void)g_st.write(g_st.user, off, b, n / 2U);
        return PICOACME_ERR_STORAGE;
    }
    return g_st.write(g_st.user, off, b, n);
}

/* The chain, read back with picoacme_stored_chain_read(), is srv.chain. */
static void assert_stored_chain(const char *want, size_t want_len)
{
    static char back[32768];
    picoacme_stored_info_t info;
    size_t got = 0, n = 0, total = 0;
    assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
    assert_int_equal(info.chain_len, want_len);
    while (got < want_len) {
        assert_int_equal(
            picoacme_stored_chain_read(&g_ctx, got, (uint8_t *)back + got, 777U, &n, &total),
            PICOACME_OK);
        assert_true(n > 0U);
        got += n;
    }
    assert_int_equal(total, want_len);
    assert_memory_equal(back, want, want_len);
}

/* 2d. issue 8: a chain longer than rx, chunked and with Content-Length, is
 * streamed into the store's inactive slot as it arrives; a leaf without
 * our key, or a power cut in the middle of the stream or at the commit,
 * leaves the old record */
static void test_stream_long_chain(void **state)
{
    static char chain1[32768];
    size_t chain1_len = 0;
    const char *pem = NULL;
    size_t len = 0;
    picoacme_storage_t cut;
    (void)state;
    assert_int_equal(sh("test -s " D "big.pem || openssl req -x509 -newkey rsa:2048 -nodes "
                        "-keyout " D "big.key -subj '/CN=picoacme test intermediate' -days 30 "
                        "-out " D "big.pem 2>/dev/null"),
                     0);
    g_flash_size = 2U * 32768U;
    for (int chunked = 1; chunked >= 0; chunked--) {
        srv_reset(chunked == 0);
        srv.extra_certs = 8;
        srv.hostile_path = chunked ? "/cert" : NULL;
        srv.hostile = chunked ? H_CHUNKED : H_NONE;
        env_open(chunked == 1);
        assert_int_equal(run(), PICOACME_OK);
        assert_no_violation();
        assert_true(srv.chain_len > PICOACME_RX_BUF_SIZE);
        /* the first part in rx, the whole in the store */
        assert_int_equal(picoacme_result(&g_ctx, &pem, &len), PICOACME_ERR_NOSPACE);
        assert_true(len > 0U && len < srv.chain_len);
        assert_memory_equal(pem, srv.chain, len);
        assert_stored_chain(srv.chain, srv.chain_len);
        assert_int_equal(sh("openssl verify -CAfile " D "ca.pem " D "leaf.pem >/dev/null"), 0);
        memcpy(chain1, srv.chain, srv.chain_len);
        chain1_len = srv.chain_len;
        env_close();
    }
    /* a leaf without our key: found after the stream, nothing committed */
    srv_reset(true);
    srv.extra_certs = 8;
    srv.wrong_key = true;
    env_open(false);
    assert_int_equal(run(), PICOACME_ERR_PROTOCOL);
    assert_problem(PICOACME_ERR_PROTOCOL, PICOACME_ST_CERT, 200, "");
    assert_stored_chain(chain1, chain1_len);
    env_close();
    /* power cut in the middle of the stream (the first flush of a full rx
     * writes the fields and ~7 KB of chain), and at the commit */
    for (size_t i = 0; i < 3; i++) {
        static const size_t cuts[] = {3000, 6000};
        srv_reset(true);
        srv.extra_certs = 8;
        srv.hostile_path = "/cert";
        srv.hostile = H_CHUNKED;
        env_open(false);
        cut = g_st;
        cut.read = cut_read;
        cut.write = i < 2 ? cut_write : hdrcut_write;
        cut.erase = cut_erase;
        g_cut_left = i < 2 ? cuts[i] : 0U;
        g_ports.storage = &cut;
        assert_int_equal(run(), PICOACME_ERR_STORAGE);
        assert_problem(PICOACME_ERR_STORAGE, i < 2 ? PICOACME_ST_CERT : PICOACME_ST_STORE, 200, "");
        /* after the "reboot" the old record is the one read */
        g_ports.storage = &g_st;
        assert_stored_chain(chain1, chain1_len);
        env_close();
    }
    /* a key rollover rewrites the record: one longer than rx keeps its whole
     * chain, with the new account key */
    {
        static uint8_t rec[4096];
        uint8_t k1[32], k2[32];
        size_t n = 0, total = 0, off = 0, vl = 0;
        srv_reset(true);
        env_open(false);
        assert_int_equal(picoacme_store_read(&g_st, 0, rec, sizeof rec, &n, &total), PICOACME_OK);
        assert_true(total > PICOACME_RX_BUF_SIZE);
        assert_int_equal(picoacme_record_find(rec, n, PICOACME_REC_ACCT_KEY, &off, &vl),
                         PICOACME_OK);
        memcpy(k1, rec + off, 32);
        assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
        assert_int_equal(picoacme_key_rollover_start(&g_ctx), PICOACME_OK);
        assert_int_equal(pump_engine(), PICOACME_OK);
        assert_no_violation();
        assert_stored_chain(chain1, chain1_len);
        assert_int_equal(picoacme_store_read(&g_st, 0, rec, sizeof rec, &n, &total), PICOACME_OK);
        assert_int_equal(picoacme_record_find(rec, n, PICOACME_REC_ACCT_KEY, &off, &vl),
                         PICOACME_OK);
        memcpy(k2, rec + off, 32);
        assert_memory_not_equal(k1, k2, 32);
        env_close();
    }
    /* a chain longer than the store's slot: refused, the old record stays */
    g_flash_size = 16384U;
    srv_reset(false);
    srv.extra_certs = 8;
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_NOSPACE);
    assert_problem(PICOACME_ERR_NOSPACE, PICOACME_ST_CERT, 200, "");
    assert_nothing_stored();
    env_close();
}

/* 3. badNonce: retried with the fresh nonce, until the budget is spent */
static void test_bad_nonce(void **state)
{
    (void)state;
    srv_reset(false);
    srv.bad_nonce_first = 3;
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(picoacme_stats(&g_ctx)->bad_nonces, 3);
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 13);
    assert_int_equal(picoacme_stats(&g_ctx)->connections, 1);
    env_close();

    srv_reset(false);
    srv.bad_nonce_always = true;
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_PROBLEM);
    assert_no_violation();
    assert_problem(PICOACME_ERR_PROBLEM, PICOACME_ST_ACCOUNT, 400, "badNonce");
    assert_int_equal(picoacme_stats(&g_ctx)->bad_nonces, PICOACME_BADNONCE_RETRIES);
    /* dir + HEAD nonce + the first newAccount + every retry */
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 3U + PICOACME_BADNONCE_RETRIES);
    assert_int_equal(srv.posts, 1U + PICOACME_BADNONCE_RETRIES);
    assert_nothing_stored();
    env_close();
}

/* 4. rateLimited on newOrder */
static void test_rate_limited(void **state)
{
    (void)state;
    srv_reset(false);
    srv.rate_limit_order = 1;
    srv.retry_after = 2;
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(srv.order_posts, 2);
    assert_int_equal(g_waits[0], 2000U); /* the first wait is the Retry-After */
    assert_int_equal(max_wait(), 2000U);
    assert_int_equal((uint32_t)(srv.order_times[1] - srv.order_times[0]), 2000U);
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 11);
    env_close();

    srv_reset(false);
    srv.rate_limit_order = 100;
    srv.retry_after = 2;
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_RATE_LIMITED);
    assert_problem(PICOACME_ERR_RATE_LIMITED, PICOACME_ST_ORDER, 429, "rateLimited");
    assert_int_equal(srv.order_posts, 1U + PICOACME_RATELIMIT_RETRIES);
    assert_nothing_stored();
    env_close();

    srv_reset(false);
    srv.rate_limit_order = 1;
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_RATE_LIMITED);
    assert_no_violation();
    assert_problem(PICOACME_ERR_RATE_LIMITED, PICOACME_ST_ORDER, 429, "rateLimited");
    assert_string_equal(picoacme_last_problem(&g_ctx)->detail, "too many new orders");
    assert_int_equal(srv.order_posts, 1);
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 4);
    assert_nothing_stored();
    env_close();
}

/* 5. a problem document on newOrder */
static void test_rejected_identifier(void **state)
{
    (void)state;
    srv_reset(false);
    srv.reject_ident = true;
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_PROBLEM);
    assert_no_violation();
    assert_problem(PICOACME_ERR_PROBLEM, PICOACME_ST_ORDER, 400, "rejectedIdentifier");
    assert_string_equal(picoacme_last_problem(&g_ctx)->detail,
                        "Error creating new order :: Cannot issue for \"a.test\": policy");
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 4);
    assert_nothing_stored();
    env_close();
}

/* 6. the authorization turns invalid with the challenge's error */
static void test_authz_invalid(void **state)
{
    (void)state;
    srv_reset(false);
    srv.authz_invalid = true;
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_INVALID);
    assert_no_violation();
    assert_problem(PICOACME_ERR_INVALID, PICOACME_ST_POLL_AUTHZ, 200, "connection");
    assert_string_equal(picoacme_last_problem(&g_ctx)->detail, "Connection refused");
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 7);
    assert_nothing_stored();
    env_close();
}

/* hostile challenge tokens: they become a URL path and a file name */
static void test_bad_token(void **state)
{
    static const char *const bad[] = {"..%2F..%2Fetc%2Fpasswd_long", "short_token",
                                      "tok/../../etc/passwd/xxxxxx",
                                      ("tok_ABCdef-0123456789_xyz_0123456789_0123456789_"
                                       "0123456789_0123456789")};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        srv_reset(false);
        srv.token = bad[i];
        env_open(true);
        assert_int_equal(run(), PICOACME_ERR_PROTOCOL);
        assert_no_violation();
        assert_problem(PICOACME_ERR_PROTOCOL, PICOACME_ST_AUTHZ, 200, "");
        assert_int_equal(picoacme_stats(&g_ctx)->requests, 5);
        assert_nothing_stored();
        env_close();
    }
}

/* 7. newNonce answered without Replay-Nonce */
static void test_nonce_missing(void **state)
{
    (void)state;
    srv_reset(false);
    srv.nonce_missing = true;
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_PROTOCOL);
    assert_no_violation();
    assert_problem(PICOACME_ERR_PROTOCOL, PICOACME_ST_NONCE, 200, "");
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 2);
    assert_nothing_stored();
    env_close();

    /* a nonce on the directory answer is used: no HEAD at all */
    srv_reset(false);
    srv.dir_nonce = true;
    srv.nonce_missing = true;
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 9);
    env_close();
}

/* 8. hostile HTTP */
static void hostile(const char *path, int kind, picoacme_err_t expect, picoacme_state_t st,
                    unsigned http)
{
    srv_reset(false);
    srv.hostile_path = path;
    srv.hostile = kind;
    env_open(true);
    assert_int_equal(run(), expect);
    assert_no_violation();
    if (expect != PICOACME_OK) {
        assert_problem(expect, st, http, "");
        assert_nothing_stored();
    }
    env_close();
}

static void test_hostile_http(void **state)
{
    (void)state;
    hostile("/cert", H_TRUNC, PICOACME_ERR_PARSE, PICOACME_ST_CERT, 200);
    hostile("/dir", H_TRUNC, PICOACME_ERR_PARSE, PICOACME_ST_DIRECTORY, 200);
    /* no status line was read: no HTTP status reported */
    hostile("/cert", H_GARBAGE, PICOACME_ERR_PARSE, PICOACME_ST_CERT, 0);
    hostile("/authz/0", H_OVERSIZE, PICOACME_ERR_NOSPACE, PICOACME_ST_AUTHZ, 200);
    hostile("/authz/0", H_OVERSIZE_CHUNKED, PICOACME_ERR_NOSPACE, PICOACME_ST_AUTHZ, 200);
    hostile("/order/1", H_BADJSON, PICOACME_ERR_PARSE, PICOACME_ST_POLL_ORDER, 200);
    hostile("/dir", H_BADJSON, PICOACME_ERR_PARSE, PICOACME_ST_DIRECTORY, 200);

    /* a failure after a problem answer reports this exchange, not the
     * previous answer's badNonce / 400 */
    srv_reset(false);
    srv.bad_nonce_first = 3;
    srv.hostile_path = "/acct";
    srv.hostile = H_GARBAGE;
    srv.hostile_skip = 3;
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_PARSE);
    assert_no_violation();
    assert_int_equal(picoacme_stats(&g_ctx)->bad_nonces, 3);
    assert_problem(PICOACME_ERR_PARSE, PICOACME_ST_ACCOUNT, 0, "");
    assert_nothing_stored();
    env_close();

    /* a chunked certificate chain is joined and stored */
    hostile("/cert", H_CHUNKED, PICOACME_OK, PICOACME_ST_DONE, 200);
    {
        picoacme_stored_info_t info;
        srv_reset(false);
        srv.hostile_path = "/cert";
        srv.hostile = H_CHUNKED;
        g_piece = 1; /* one byte at a time */
        env_open(true);
        assert_int_equal(run(), PICOACME_OK);
        assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
        assert_int_equal(info.chain_len, srv.chain_len);
        assert_memory_equal(info.chain_pem, srv.chain, srv.chain_len);
        env_close();
    }
}

/* 9. the CA closes the kept-alive connection */
static void test_connection_close(void **state)
{
    (void)state;
    srv_reset(false);
    srv.close_after_req = 3; /* newAccount's answer says Connection: close */
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(picoacme_stats(&g_ctx)->connections, 2);
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 10);
    assert_int_equal(srv.reqs, 10);
    env_close();

    /* closed without saying so: the request on the dead connection is sent
     * again on a new one */
    srv_reset(false);
    srv.silent_close_after_req = 5;
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(picoacme_stats(&g_ctx)->connections, 2);
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 10);
    assert_int_equal(srv.reqs, 10);
    env_close();
}

/* The kept-alive connection is found closed when the next request is sent
 * (found by fuzz_flow, tests/fuzz/crashes/fuzz_flow/send-closed-reused): the
 * request goes again on a new connection, it is not taken for an empty
 * answer. */
static void test_connection_reset_at_send(void **state)
{
    (void)state;
    srv_reset(false);
    srv.silent_close_after_req = 5;
    srv.send_reset = true;
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(picoacme_stats(&g_ctx)->connections, 2);
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 10);
    assert_int_equal(srv.reqs, 10);
    env_close();
}

/* 10. orderNotReady on finalize */
static void test_order_not_ready(void **state)
{
    (void)state;
    srv_reset(false);
    srv.order_not_ready = true;
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(srv.finalizes, 2);
    /* ... finalize (403), order poll (ready), finalize, order poll, cert */
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 12);
    env_close();
}

/* 11. the issued certificate is for another key */
static void test_wrong_key(void **state)
{
    (void)state;
    srv_reset(false);
    srv.wrong_key = true;
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_PROTOCOL);
    assert_no_violation();
    assert_problem(PICOACME_ERR_PROTOCOL, PICOACME_ST_CERT, 200, "");
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 10);
    assert_nothing_stored();
    env_close();
}

/* 12. renewal at 2/3 (PICOACME_RENEW_PERMILLE) of the lifetime */
static void test_renew_at(void **state)
{
    (void)state;
    assert_int_equal(PICOACME_RENEW_PERMILLE, 667);
    /* 90 days = 7776000 s: 7776000 * 667 / 1000 = 5186592 */
    assert_int_equal(picoacme_renew_at(1700000000, 1700000000 + 7776000), 1700000000 + 5186592);
    /* 5 minutes: 300 * 667 / 1000 = 200.1 -> 200 */
    assert_int_equal(picoacme_renew_at(1700000000, 1700000300), 1700000200);
    /* 5 years, no overflow */
    assert_int_equal(picoacme_renew_at(0, 157680000), 105172560);
    /* empty or inverted validity: renew now */
    assert_int_equal(picoacme_renew_at(1700000000, 1700000000), 1700000000);
    assert_int_equal(picoacme_renew_at(1700000000, 1600000000), 1700000000);
}

/* ---- ACME Renewal Information (RFC 9773) ------------------------------------------- */

static size_t hex_dec(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    size_t l = strlen(h);
    size_t i = 0;
    if (l % 2U == 1U) { /* an odd digit count: a leading 0 nibble */
        unsigned v;
        assert_int_equal(sscanf(h, "%1x", &v), 1);
        out[n++] = (uint8_t)v;
        i = 1;
    }
    for (; i < l; i += 2U) {
        unsigned v;
        assert_true(n < cap);
        assert_int_equal(sscanf(h + i, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* The CertID parts of a PEM certificate as openssl prints them: the AKI
 * keyIdentifier, the serial as DER INTEGER contents (a leading 00 when the
 * top bit is set, RFC 9773 §4.1). */
static void openssl_certid_parts(const char *pem, uint8_t *aki, size_t *aki_len, uint8_t *ser,
                                 size_t *ser_len)
{
    char cmd[512];
    char hex[512];
    uint8_t tmp[128];
    size_t n;
    snprintf(cmd, sizeof cmd,
             "openssl x509 -in %s -noout -ext authorityKeyIdentifier | tail -n 1 | "
             "sed 's/keyid://' | tr -d ' :'",
             pem);
    capture(cmd, hex, sizeof hex);
    assert_true(strlen(hex) >= 2U);
    *aki_len = hex_dec(hex, aki, 64);
    snprintf(cmd, sizeof cmd, "openssl x509 -in %s -noout -serial | sed 's/^serial=//'", pem);
    capture(cmd, hex, sizeof hex);
    n = hex_dec(hex, tmp, sizeof tmp);
    *ser_len = 0;
    if (tmp[0] & 0x80U)
        ser[(*ser_len)++] = 0;
    memcpy(ser + *ser_len, tmp, n);
    *ser_len += n;
}

/* A CertID text against the openssl parts of pem. */
static void assert_certid(const char *certid, const char *pem)
{
    uint8_t aki[64], ser[64], a2[64], s2[64];
    size_t al = 0, sl = 0;
    const char *dot = strchr(certid, '.');
    openssl_certid_parts(pem, aki, &al, ser, &sl);
    assert_non_null(dot);
    assert_null(strchr(certid, '='));
    assert_int_equal(b64u_dec(certid, (size_t)(dot - certid), a2, sizeof a2), (long)al);
    assert_memory_equal(a2, aki, al);
    assert_int_equal(b64u_dec(dot + 1, strlen(dot + 1), s2, sizeof s2), (long)sl);
    assert_memory_equal(s2, ser, sl);
}

static void rfc3339_of(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    assert_non_null(gmtime_r(&tt, &tm));
    assert_true(strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0);
}

static char g_ari_body[512];

static void ari_window(int64_t start, int64_t end)
{
    char a[40], b[40];
    rfc3339_of(start, a, sizeof a);
    rfc3339_of(end, b, sizeof b);
    snprintf(g_ari_body, sizeof g_ari_body,
             "{\"suggestedWindow\":{\"start\":\"%s\",\"end\":\"%s\"},"
             "\"explanationURL\":\"https://ca.test/why\"}",
             a, b);
    srv.ari_body = g_ari_body;
}

/* the CertID function against the example of RFC 9773 §4.1 */
static void test_ari_certid(void **state)
{
    static const uint8_t aki[20] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
                                    0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4};
    static const uint8_t serial[5] = {0x00, 0x87, 0x65, 0x43, 0x21};
    static const char expect[] = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
    picoacme_x509_t c;
    char out[64];
    size_t n = 0;
    (void)state;
    memset(&c, 0, sizeof c);
    c.aki = aki;
    c.aki_len = sizeof aki;
    c.serial = serial;
    c.serial_len = sizeof serial;
    assert_int_equal(picoacme_ari_certid(&c, out, sizeof out, &n), PICOACME_OK);
    assert_int_equal(n, strlen(expect));
    assert_string_equal(out, expect);
    /* exactly enough room (with the NUL), and every smaller room refused
     * without a byte written past it */
    assert_int_equal(picoacme_ari_certid(&c, out, sizeof expect, &n), PICOACME_OK);
    assert_string_equal(out, expect);
    for (size_t cap = 0; cap < sizeof expect; cap++) {
        memset(out, 'Q', sizeof out);
        assert_int_equal(picoacme_ari_certid(&c, out, cap, &n), PICOACME_ERR_NOSPACE);
        for (size_t k = cap; k < sizeof out; k++)
            assert_int_equal(out[k], 'Q');
    }
    c.aki = NULL;
    assert_int_equal(picoacme_ari_certid(&c, out, sizeof out, &n), PICOACME_ERR_NOT_FOUND);
    c.aki = aki;
    c.serial_len = 0;
    assert_int_equal(picoacme_ari_certid(&c, out, sizeof out, &n), PICOACME_ERR_NOT_FOUND);
    /* a caller's missing argument */
    c.serial_len = sizeof serial;
    assert_int_equal(picoacme_ari_certid(NULL, out, sizeof out, &n), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_ari_certid(&c, NULL, sizeof out, &n), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_ari_certid(&c, out, sizeof out, NULL), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_ari_start(NULL), PICOACME_ERR_PARAM);
}

/* RFC 3339 date-times against date(1) */
static void test_rfc3339(void **state)
{
    static const char *const good[] = {
        "2030-01-01T00:00:00Z",      "1994-11-06T08:49:37Z",      "2024-02-29T23:59:59Z",
        "2000-02-29T12:00:00z",      "2025-06-30t01:02:03.5Z",    "2025-06-30T01:02:03.123456789Z",
        "2025-06-30T01:02:03+02:00", "2025-06-30T01:02:03-05:30", "2025-01-01T00:30:00.25+00:45",
        "1970-01-01T00:00:00Z",      "9999-12-31T23:59:59Z",      "2025-12-31T23:30:00-23:59",
    };
    static const char *const bad[] = {
        "",
        "2030-01-01T00:00:00",
        "2030-01-01 00:00:00Z",
        "2030-01-01T00:00:00ZZ",
        "2030-1-01T00:00:00Z",
        "2030-13-01T00:00:00Z",
        "2030-00-01T00:00:00Z",
        "2030-01-00T00:00:00Z",
        "2030-01-32T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2030-04-31T00:00:00Z",
        "2030-01-01T24:00:00Z",
        "2030-01-01T00:60:00Z",
        "2030-01-01T00:00:61Z",
        "2030-01-01T00:00:00.Z",
        "2030-01-01T00:00:00.5",
        "2030-01-01T00:00:00+0200",
        "2030-01-01T00:00:00+24:00",
        "2030-01-01T00:00:00+02:60",
        "2030-01-01T00:00:00+02:00x",
        "2030-01-01T00:00:00+2:00",
        "+030-01-01T00:00:00Z",
        "2030-01-01T00:00:00 Z",
        "2030-01-01T0a:00:00Z",
    };
    int64_t t = 0;
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char cmd[128], out[64];
        snprintf(cmd, sizeof cmd, "date -u -d '%s' +%%s", good[i]);
        /* date(1) wants an upper-case T and no lower-case z */
        for (char *p = cmd; *p != '\0'; p++) {
            if (*p == 't' && p[-1] >= '0' && p[-1] <= '9')
                *p = 'T';
            if (*p == 'z' && p[-1] >= '0' && p[-1] <= '9')
                *p = 'Z';
        }
        capture(cmd, out, sizeof out);
        assert_int_equal(picoacme_rfc3339(good[i], strlen(good[i]), &t), PICOACME_OK);
        if (t != strtoll(out, NULL, 10))
            fail_msg("%s: %lld, date says %s", good[i], (long long)t, out);
    }
    /* a leap second is the next second */
    assert_int_equal(picoacme_rfc3339("2016-12-31T23:59:60Z", 20, &t), PICOACME_OK);
    assert_int_equal(t, 1483228800);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = 42;
        if (picoacme_rfc3339(bad[i], strlen(bad[i]), &t) != PICOACME_ERR_PARSE)
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(t, 42);
    }
    /* the length is the caller's: a NUL or more text after len is not read */
    assert_int_equal(picoacme_rfc3339("2030-01-01T00:00:00Zjunk", 20, &t), PICOACME_OK);
    assert_int_equal(t, 1893456000);
    assert_int_equal(picoacme_rfc3339("2030-01-01T00:00:00Z", 19, &t), PICOACME_ERR_PARSE);
    assert_int_equal(picoacme_rfc3339(NULL, 20, &t), PICOACME_ERR_PARAM);
}

/* Issue once with a CA offering renewalInfo; leaves the leaf in flash. */
static void ari_issue_first(const char *serial)
{
    srv_reset(false);
    srv.ari = true;
    srv.serial = serial;
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(srv.orders_with_replaces, 0); /* nothing to replace yet */
    env_close();
}

/* the window: a random point inside it, Retry-After, the CertID asked for */
static void test_ari_window(void **state)
{
    picoacme_stored_info_t info;
    int64_t nb, na, frac;
    int64_t seen[6];
    bool differ = false;
    (void)state;
    ari_issue_first(NULL);
    env_open(false);
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
    assert_false(info.ari);
    nb = info.not_before_s;
    na = info.not_after_s;
    frac = info.renew_at_s;
    env_close();

    for (int i = 0; i < 6; i++) {
        srv_reset(true);
        srv.ari = true;
        srv.ari_extra = "Retry-After: 3600\r\n";
        ari_window(nb + 10 * 86400, nb + 12 * 86400);
        env_open(false);
        assert_int_equal(run_ari(), PICOACME_OK);
        assert_no_violation();
        /* issue 8: the directory's URLs come from the store: only the
         * unauthenticated GET, no nonce, no JWS */
        assert_int_equal(picoacme_stats(&g_ctx)->requests, 1);
        assert_int_equal(srv.posts, 0);
        assert_int_equal(srv.ari_gets, 1);
        assert_certid(srv.ari_certid, D "leaf.pem");
        assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
        assert_true(info.ari);
        assert_int_equal(info.not_before_s, nb);
        assert_int_equal(info.not_after_s, na);
        assert_true(info.renew_at_s >= nb + 10 * 86400 && info.renew_at_s <= nb + 12 * 86400);
        /* no RTC: now is the CA's Date */
        assert_int_equal(info.ari_retry_at_s, DATE_S + 3600);
        seen[i] = info.renew_at_s;
        if (i > 0 && seen[i] != seen[0])
            differ = true;
        /* the ARI exchange is no issuance */
        {
            const char *pem;
            size_t pl;
            assert_int_equal(picoacme_result(&g_ctx, &pem, &pl), PICOACME_ERR_STATE);
        }
        env_close();
    }
    assert_true(differ); /* random, not a fixed point of the window */

    /* a window wholly in the past: renew now; no Retry-After: 6 hours */
    srv_reset(true);
    srv.ari = true;
    ari_window(DATE_S - 3 * 86400, DATE_S - 86400);
    env_open(false);
    assert_int_equal(run_ari(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
    assert_true(info.ari);
    assert_true(info.renew_at_s <= picoacme_now(&g_ctx));
    assert_int_equal(info.renew_at_s, DATE_S);
    assert_int_equal(info.ari_retry_at_s, DATE_S + 21600);
    env_close();

    /* a window beyond the expiry is not followed: the fraction stays */
    srv_reset(true);
    srv.ari = true;
    ari_window(na + 86400, na + 2 * 86400);
    env_open(false);
    assert_int_equal(run_ari(), PICOACME_OK);
    assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
    assert_false(info.ari);
    assert_int_equal(info.renew_at_s, frac);
    env_close();

    /* Retry-After bounded to [1 min, 1 day], an HTTP-date one too */
    {
        static const struct {
            const char *hdr;
            int64_t at;
        } ra[] = {
            {"Retry-After: 99999999999\r\n", DATE_S + 86400},
            {"Retry-After: 31536000\r\n", DATE_S + 86400},
            {"Retry-After: 0\r\n", DATE_S + 60},
            {"Retry-After: 120\r\n", DATE_S + 120},
            {"Retry-After: Sun, 06 Nov 1994 10:49:37 GMT\r\n", DATE_S + 7200},
            {"Retry-After: soon\r\n", DATE_S + 21600},
        };
        for (size_t i = 0; i < sizeof ra / sizeof ra[0]; i++) {
            srv_reset(true);
            srv.ari = true;
            srv.ari_extra = ra[i].hdr;
            ari_window(nb + 10 * 86400, nb + 12 * 86400);
            env_open(false);
            assert_int_equal(run_ari(), PICOACME_OK);
            assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
            assert_true(info.ari);
            if (info.ari_retry_at_s != ra[i].at)
                fail_msg("%s -> %lld", ra[i].hdr, (long long)(info.ari_retry_at_s - DATE_S));
            env_close();
        }
    }

    /* the CA has no renewalInfo any more: the stored renewalInfo URL
     * answers 404, the directory is read anew (issue 8) and names none: OK,
     * the fraction */
    srv_reset(true);
    env_open(false);
    assert_int_equal(run_ari(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 2);
    assert_int_equal(srv.ari_stale, 1);
    assert_int_equal(srv.ari_gets, 0);
    assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
    assert_false(info.ari);
    assert_int_equal(info.renew_at_s, frac);
    env_close();

    /* nothing stored */
    srv_reset(false);
    srv.ari = true;
    env_open(true);
    assert_int_equal(run_ari(), PICOACME_ERR_NOT_FOUND);
    assert_int_equal(srv.reqs, 0);
    env_close();
}

/* a serial with its top bit set keeps the leading 00 in the CertID */
static void test_ari_certid_leading_zero(void **state)
{
    picoacme_stored_info_t info;
    (void)state;
    ari_issue_first("0x81020304050607080910");
    srv_reset(true);
    srv.ari = true;
    env_open(false);
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
    ari_window(info.not_before_s + 86400, info.not_before_s + 2 * 86400);
    assert_int_equal(run_ari(), PICOACME_OK);
    assert_no_violation();
    assert_certid(srv.ari_certid, D "leaf.pem");
    /* base64url of 00 81 02 03 ... */
    assert_non_null(strstr(srv.ari_certid, ".AIECAwQFBgcICRA"));
    env_close();
}

/* hostile renewalInfo answers: a clean error, the fraction kept */
static void test_ari_hostile(void **state)
{
    static const struct {
        int status;
        const char *body;
        picoacme_err_t err;
    } cases[] = {
        {200, "this is not JSON", PICOACME_ERR_PARSE},
        {200, "", PICOACME_ERR_PARSE},
        {200, "[1,2]", PICOACME_ERR_PARSE},
        {200, "{}", PICOACME_ERR_PROTOCOL},
        {200, "{\"suggestedWindow\":\"soon\"}", PICOACME_ERR_PROTOCOL},
        {200, "{\"suggestedWindow\":{\"start\":\"2030-01-02T00:00:00Z\"}}", PICOACME_ERR_PROTOCOL},
        {200,
         "{\"suggestedWindow\":{\"start\":\"2030-13-01T00:00:00Z\",\"end\":\"2030-01-03T00:00:"
         "00Z\"}}",
         PICOACME_ERR_PROTOCOL},
        {200, "{\"suggestedWindow\":{\"start\":\"2030-01-02T00:00:00Z\",\"end\":\"yesterday\"}}",
         PICOACME_ERR_PROTOCOL},
        /* end before start, end equal to start (RFC 9773 §4.2: invalid) */
        {200,
         "{\"suggestedWindow\":{\"start\":\"2030-01-03T00:00:00Z\",\"end\":\"2030-01-02T00:00:"
         "00Z\"}}",
         PICOACME_ERR_PROTOCOL},
        {200,
         "{\"suggestedWindow\":{\"start\":\"2030-01-02T00:00:00Z\",\"end\":\"2030-01-02T00:00:"
         "00Z\"}}",
         PICOACME_ERR_PROTOCOL},
        {200, "{\"suggestedWindow\":{\"start\":1893456000,\"end\":1893542400}}",
         PICOACME_ERR_PROTOCOL},
        {200,
         "{\"suggestedWindow\":{\"start\":\"2030-01-02T00:00:00."
         "0000000000000000000000000000000000000000Z\","
         "\"end\":\"2030-01-03T00:00:00Z\"}}",
         PICOACME_ERR_PROTOCOL},
        {404,
         "{\"type\":\"urn:ietf:params:acme:error:malformed\",\"detail\":\"unknown certificate\"}",
         PICOACME_ERR_PROBLEM},
        {500, "oops", PICOACME_ERR_HTTP},
    };
    picoacme_stored_info_t info;
    int64_t frac;
    (void)state;
    ari_issue_first(NULL);
    env_open(false);
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
    frac = info.renew_at_s;
    env_close();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        srv_reset(true);
        srv.ari = true;
        srv.ari_status = cases[i].status;
        srv.ari_body = cases[i].body;
        env_open(false);
        if (run_ari() != cases[i].err)
            fail_msg("case %zu: %s", i, picoacme_err_str(picoacme_last_problem(&g_ctx)->err));
        assert_no_violation();
        assert_int_equal(picoacme_last_problem(&g_ctx)->state, PICOACME_ST_RENEWAL_INFO);
        assert_int_equal(picoacme_last_problem(&g_ctx)->http_status, cases[i].status);
        assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
        assert_false(info.ari);
        assert_int_equal(info.renew_at_s, frac);
        env_close();
    }
    /* hostile HTTP on the renewalInfo answer */
    {
        static char path[200];
        static const struct {
            int kind;
            picoacme_err_t err;
            unsigned http;
        } h[] = {{H_TRUNC, PICOACME_ERR_PARSE, 200},
                 {H_GARBAGE, PICOACME_ERR_PARSE, 0},
                 {H_OVERSIZE, PICOACME_ERR_NOSPACE, 200},
                 {H_OVERSIZE_CHUNKED, PICOACME_ERR_NOSPACE, 200},
                 {H_BADJSON, PICOACME_ERR_PARSE, 200}};
        snprintf(path, sizeof path, "/ari/%s", srv.ari_certid);
        for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
            srv_reset(true);
            srv.ari = true;
            ari_window(DATE_S, DATE_S + 86400);
            srv.hostile_path = path;
            srv.hostile = h[i].kind;
            env_open(false);
            assert_int_equal(run_ari(), h[i].err);
            assert_no_violation();
            assert_problem(h[i].err, PICOACME_ST_RENEWAL_INFO, h[i].http, "");
            assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
            assert_false(info.ari);
            assert_int_equal(info.renew_at_s, frac);
            env_close();
        }
    }
}

/* a renewal names the certificate it replaces; alreadyReplaced -> once more without */
/* Lifecycle (RFC 8555 §7.3.5, §7.3.6, §7.6): refused up front without a
 * stored account of this directory, or with a CRLReason that does not
 * exist; begun (at the directory) once an issuance stored one. */
static void test_lifecycle_start(void **state)
{
    static const char other_dir[] = BASE "/other-dir";
    (void)state;
    srv_reset(false);
    env_open(true);
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_revoke_start(&g_ctx, -1), PICOACME_ERR_NOT_FOUND);
    assert_int_equal(picoacme_key_rollover_start(&g_ctx), PICOACME_ERR_NOT_FOUND);
    assert_int_equal(picoacme_account_deactivate_start(&g_ctx), PICOACME_ERR_NOT_FOUND);
    assert_int_equal(picoacme_step(&g_ctx, NULL), PICOACME_ERR_STATE);
    assert_int_equal(run(), PICOACME_OK);
    assert_int_equal(picoacme_revoke_start(&g_ctx, 7), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_revoke_start(&g_ctx, 11), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_revoke_start(&g_ctx, -2), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_revoke_start(&g_ctx, 10), PICOACME_OK);
    assert_int_equal(picoacme_state(&g_ctx), PICOACME_ST_DIRECTORY);
    assert_string_equal(picoacme_state_str(PICOACME_ST_REVOKE), "revoke");
    assert_string_equal(picoacme_state_str(PICOACME_ST_KEY_CHANGE), "key change");
    assert_string_equal(picoacme_state_str(PICOACME_ST_DEACTIVATE), "deactivate");
    picoacme_abort(&g_ctx);
    /* the stored account belongs to another directory */
    g_cfg.directory_url = other_dir;
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_key_rollover_start(&g_ctx), PICOACME_ERR_NOT_FOUND);
    assert_int_equal(picoacme_account_deactivate_start(&g_ctx), PICOACME_ERR_NOT_FOUND);
    env_close();
}

static void test_ari_replaces(void **state)
{
    char first[8192];
    (void)state;
    ari_issue_first(NULL);
    read_file(D "leaf.pem", first, sizeof first);
    write_file(D "first.pem", first, strlen(first));

    srv_reset(true);
    srv.ari = true;
    env_open(false);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(srv.order_posts, 1);
    assert_int_equal(srv.orders_with_replaces, 1);
    assert_certid(srv.replaces, D "first.pem");
    /* no account lookup, no directory GET (stored) */
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 8);
    env_close();

    /* the CA says the certificate was replaced already */
    read_file(D "leaf.pem", first, sizeof first);
    write_file(D "first.pem", first, strlen(first));
    srv_reset(true);
    srv.ari = true;
    srv.already_replaced = 1;
    env_open(false);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(srv.order_posts, 2);
    assert_int_equal(srv.orders_with_replaces, 1);
    assert_string_equal(srv.replaces, ""); /* the second order went without */
    /* no account lookup, no directory GET */
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 9);
    env_close();

    /* ... and again: the retry is once only */
    srv_reset(true);
    srv.ari = true;
    srv.already_replaced = 5;
    env_open(false);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(srv.orders_with_replaces, 1);
    env_close();

    /* a CA that cannot process "replaces" (Pebble 2.10.1 answers 500 when
     * the serial's DER starts with a zero byte, RFC 9773 §4.1: it looks the
     * order up by the hex of the number): once more without */
    read_file(D "leaf.pem", first, sizeof first);
    write_file(D "first.pem", first, strlen(first));
    srv_reset(true);
    srv.ari = true;
    srv.replaces_500 = 1;
    env_open(false);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(srv.order_posts, 2);
    assert_int_equal(srv.orders_with_replaces, 1);
    assert_string_equal(srv.replaces, "");
    env_close();

    /* a busy CA (503) is not asked again at once, with or without */
    srv_reset(true);
    srv.ari = true;
    srv.replaces_503 = 1;
    env_open(false);
    assert_int_not_equal(run(), PICOACME_OK);
    assert_int_equal(srv.order_posts, 1);
    env_close();

    /* a CA without renewalInfo never sees "replaces" (the fake CA counts
     * it as a violation): neither when the directory is read (the record
     * names another CA's directory URLs: here a copy read anew) nor with
     * the URLs the record kept of it */
    srv_reset(true);
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(srv.orders_with_replaces, 0);
    env_close();
    srv_reset(true);
    env_open(false);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(srv.orders_with_replaces, 0);
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 8);
    env_close();
}

/* A dns-01 hook that counts what it is asked to do. */
static unsigned g_txt_adds, g_txt_removes;

static picoacme_err_t count_txt(void *user, const char *fqdn, const char *value, bool add)
{
    (void)user;
    (void)fqdn;
    (void)value;
    if (add)
        g_txt_adds++;
    else
        g_txt_removes++;
    return PICOACME_OK;
}

/* picoacme_abort() during a dns-01 issuance, then picoacme_ari_start(): the
 * ARI run starts clean. Its failure is its own (state "renewal info"), and
 * it is not routed into the clean-up of the aborted issuance's TXT record. */
static void test_abort_dns01_then_ari(void **state)
{
    static const picoacme_dns_hook_t hook = {NULL, count_txt};
    picoacme_dns01_config_t dns;
    picoacme_wait_t w;
    unsigned i;
    (void)state;
    ari_issue_first(NULL);
    env_open(false);
    memset(&dns, 0, sizeof dns);
    dns.hook = &hook;
    dns.timeout_s = 10;
    g_cfg.challenges[0] = PICOACME_CHALL_DNS01;
    g_cfg.n_challenges = 1;
    g_cfg.dns01 = &dns;
    g_cfg.http01_port = 0;
    g_txt_adds = g_txt_removes = 0;
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_issue_start(&g_ctx), PICOACME_OK);
    for (i = 0; i < 100000U && g_txt_adds == 0U; i++) {
        picoacme_err_t e = picoacme_step(&g_ctx, &w);
        assert_true(e == PICOACME_AGAIN || e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE);
        if (e == PICOACME_AGAIN)
            g_now += w.timeout_ms;
    }
    assert_int_equal(g_txt_adds, 1);
    picoacme_abort(&g_ctx);
    /* the CA's renewalInfo answers 500: the ARI run fails */
    srv.ari_status = 500;
    srv.ari_body = "oops";
    assert_int_equal(picoacme_ari_start(&g_ctx), PICOACME_OK);
    assert_int_equal(pump_engine(), PICOACME_ERR_HTTP);
    assert_problem(PICOACME_ERR_HTTP, PICOACME_ST_RENEWAL_INFO, 500, "");
    assert_int_equal(g_txt_removes, 0);
    assert_int_equal(srv.ari_gets, 1);
    env_close();
}

/* Defect 1 (issue 7): the CA's problem text is kept with its control
 * characters escaped, so a hostile CA cannot forge a log line or drive a
 * terminal. */
static void test_problem_escaped(void **state)
{
    const picoacme_problem_t *p;
    (void)state;
    srv_reset(false);
    srv.reject_ident = true;
    srv.reject_detail = "bad\\r\\npicoacme: issued a.test\\u001b[31m\\tend\\u007f";
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_PROBLEM);
    p = picoacme_last_problem(&g_ctx);
    assert_string_equal(p->type, "rejectedIdentifier");
    assert_string_equal(p->detail, "bad\\r\\npicoacme: issued a.test\\x1b[31m\\tend\\x7f");
    for (const char *c = p->detail; *c != '\0'; c++) {
        assert_true((unsigned char)*c >= 0x20U && (unsigned char)*c != 0x7fU);
    }
    env_close();

    /* a detail longer than the record keeps its first part, escaped too */
    srv_reset(false);
    srv.reject_ident = true;
    srv.reject_detail = "\\u001b\\u001b\\u001b\\u001b0123456789012345678901234567890123456789"
                        "0123456789012345678901234567890123456789012345678901234567890123"
                        "4567890123456789012345678901234567890123456789012345678901234567";
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_PROBLEM);
    p = picoacme_last_problem(&g_ctx);
    assert_true(strlen(p->detail) > 100U && strlen(p->detail) < sizeof p->detail);
    assert_true(strncmp(p->detail, "\\x1b\\x1b", 8) == 0 || strncmp(p->detail, "\\u001b", 6) == 0);
    for (const char *c = p->detail; *c != '\0'; c++) {
        assert_true((unsigned char)*c >= 0x20U);
    }
    env_close();
}

/* Defect 2 (issue 7): an order that stays "processing" with Retry-After:
 * 3600 ends at the run's time budget (10 minutes by default), not after 40
 * polls of an hour each. */
static void test_budget(void **state)
{
    uint32_t t0;
    (void)state;
    srv_reset(false);
    srv.order_stuck = true;
    env_open(true);
    t0 = g_now;
    assert_int_equal(run(), PICOACME_ERR_TIMEOUT);
    assert_problem(PICOACME_ERR_TIMEOUT, PICOACME_ST_POLL_ORDER, 200, "");
    assert_true((uint32_t)(g_now - t0) <= PICOACME_RUN_BUDGET_S * 1000U + 1000U);
    assert_true((uint32_t)(g_now - t0) >= PICOACME_RUN_BUDGET_S * 1000U);
    assert_nothing_stored();
    env_close();

    /* a budget of its own */
    srv_reset(false);
    srv.order_stuck = true;
    env_open(true);
    g_cfg.budget_s = 30;
    t0 = g_now;
    assert_int_equal(run(), PICOACME_ERR_TIMEOUT);
    assert_true((uint32_t)(g_now - t0) <= 31000U);
    env_close();
}

/* Defect 3 (issue 7): a transient failure of the first connection, or an
 * idempotent request that is never answered, is sent again; a POST that
 * may have reached the CA is not. */
static void test_io_retry(void **state)
{
    (void)state;
    srv_reset(false);
    srv.connect_refuse = 1;
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(picoacme_stats(&g_ctx)->io_retries, 1);
    env_close();

    /* the directory GET is never answered: after the exchange deadline it
     * goes out again, on a new connection */
    srv_reset(false);
    srv.silent_path = "/dir";
    srv.silent_count = 1;
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(picoacme_stats(&g_ctx)->io_retries, 1);
    assert_int_equal(picoacme_stats(&g_ctx)->connections, 2);
    env_close();

    /* more failures than retries: the run fails, naming the step */
    srv_reset(false);
    srv.connect_refuse = 1U + PICOACME_IO_RETRIES;
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_IO);
    assert_problem(PICOACME_ERR_IO, PICOACME_ST_DIRECTORY, 0, "");
    assert_int_equal(picoacme_stats(&g_ctx)->io_retries, PICOACME_IO_RETRIES);
    env_close();

    /* newOrder reached the CA but no answer came: never sent twice */
    srv_reset(false);
    srv.silent_path = "/order";
    srv.silent_count = 1;
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_TIMEOUT);
    assert_problem(PICOACME_ERR_TIMEOUT, PICOACME_ST_ORDER, 0, "");
    assert_int_equal(srv.order_posts, 1);
    assert_int_equal(picoacme_stats(&g_ctx)->io_retries, 0);
    assert_nothing_stored();
    env_close();
}

/* Defect 4 (issue 7): a 4,000-byte Replay-Nonce is named as too long, not
 * as missing. */
static void test_nonce_too_long(void **state)
{
    (void)state;
    srv_reset(false);
    srv.nonce_long = true;
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_PROTOCOL);
    assert_problem(PICOACME_ERR_PROTOCOL, PICOACME_ST_NONCE, 200, "");
    assert_non_null(
        strstr(picoacme_last_problem(&g_ctx)->detail, "longer than PICOACME_NONCE_MAX"));
    env_close();
}

/* The transport may take a while to resolve the CA's name (connect answers
 * PICOACME_AGAIN): the engine asks again soon, and the issuance is the same. */
static void test_connect_resolving(void **state)
{
    (void)state;
    srv_reset(false);
    srv.connect_again = 3;
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(srv.connect_again, 0);
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 10);
    assert_int_equal(picoacme_stats(&g_ctx)->connections, 1);
    assert_int_equal(g_waits[0], PICOACME_RESOLVE_POLL_MS);
    env_close();
}

/* The contracts are checked (PICOACME_ASSERT on in the tests): reading the
 * store while an exchange owns rx traps instead of corrupting the answer. */
/* picoacme_abort() on a context that was never initialised (a zeroed
 * static global, as an application's error path may meet it). */
static void test_abort_uninitialised(void **state)
{
    static picoacme_ctx_t zero;
    (void)state;
    picoacme_abort(&zero);
    picoacme_abort(NULL);
    assert_int_equal(picoacme_state(&zero), PICOACME_ST_IDLE);
}

/* The record layout, for tools that read a state image (picoacme_record.h). */
static void test_record_find(void **state)
{
    static uint8_t rec[PICOACME_RX_BUF_SIZE];
    size_t len = 0, off = 0, vl = 0;
    (void)state;
    srv_reset(false);
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_int_equal(picoacme_store_load(&g_st, rec, sizeof rec, &len, NULL), PICOACME_OK);
    assert_int_equal(picoacme_record_find(rec, len, PICOACME_REC_DIR, &off, &vl), PICOACME_OK);
    assert_int_equal(vl, strlen(BASE "/dir"));
    assert_memory_equal(rec + off, BASE "/dir", vl);
    assert_int_equal(picoacme_record_find(rec, len, PICOACME_REC_ACCT_URL, &off, &vl), PICOACME_OK);
    assert_memory_equal(rec + off, BASE "/acct/1", vl);
    assert_int_equal(picoacme_record_find(rec, len, PICOACME_REC_CERT, &off, &vl), PICOACME_OK);
    assert_int_equal(vl, srv.chain_len);
    assert_int_equal(rec[off - 3U], PICOACME_REC_CHAIN); /* written as it was downloaded */
    assert_int_equal(picoacme_record_find(rec, len, PICOACME_REC_CHAIN, &off, &vl), PICOACME_OK);
    assert_int_equal(vl, srv.chain_len);
    assert_memory_equal(rec + off, srv.chain, vl);
    assert_int_equal(picoacme_record_find(rec, len, (picoacme_rec_tag_t)9, &off, &vl),
                     PICOACME_ERR_NOT_FOUND);
    /* a record read in part: the chain's first part */
    assert_int_equal(picoacme_record_find(rec, len - 1U, PICOACME_REC_CERT, &off, &vl),
                     PICOACME_OK);
    assert_int_equal(vl, srv.chain_len - 1U);
    /* a record of the older form (PICOACME_REC_CERT, 16-bit length), cut
     * inside the chain's TLV */
    {
        static uint8_t old[64] = {
            PICOACME_REC_DIR, 1, 0, 'x', PICOACME_REC_CERT, 4, 0, 'a', 'b', 'c', 'd'};
        assert_int_equal(picoacme_record_find(old, 11U, PICOACME_REC_CERT, &off, &vl), PICOACME_OK);
        assert_int_equal(off, 7);
        assert_int_equal(vl, 4);
        assert_int_equal(picoacme_record_find(old, 10U, PICOACME_REC_CERT, &off, &vl),
                         PICOACME_ERR_PARSE);
    }
    assert_int_equal(picoacme_record_find(NULL, len, PICOACME_REC_DIR, &off, &vl),
                     PICOACME_ERR_PARAM);
    env_close();
}

/* ---- a crypto port that keeps keys in hardware (key_ref, issue 11) ---- */

/* The "device": the wolfSSL port's scalars kept out of the store, found by
 * a 5-byte reference ("HW", slot, serial big endian); it survives a
 * reboot like a token or a TPM does. */
static struct {
    uint8_t ref[8][5];
    uint8_t priv[8][32];
    unsigned n;
    uint8_t cur[PICOACME_KEY_SLOTS][5];
    bool have[PICOACME_KEY_SLOTS];
} g_dev;
static picoacme_crypto_t g_hw;

static bool hw_slot(picoacme_key_slot_t slot)
{
    return slot == PICOACME_KEY_ACCOUNT || slot == PICOACME_KEY_CERT;
}

static picoacme_err_t hw_generate(void *user, picoacme_key_slot_t slot)
{
    picoacme_err_t e = g_crypto.key_generate(user, slot);
    if (e != PICOACME_OK || !hw_slot(slot))
        return e;
    assert_true(g_dev.n < 8U);
    assert_int_equal(g_crypto.key_export(user, slot, g_dev.priv[g_dev.n]), PICOACME_OK);
    memcpy(g_dev.ref[g_dev.n], "HW", 2);
    g_dev.ref[g_dev.n][2] = (uint8_t)slot;
    g_dev.ref[g_dev.n][3] = 0;
    g_dev.ref[g_dev.n][4] = (uint8_t)g_dev.n;
    memcpy(g_dev.cur[slot], g_dev.ref[g_dev.n], 5);
    g_dev.have[slot] = true;
    g_dev.n++;
    return PICOACME_OK;
}

static picoacme_err_t hw_export(void *user, picoacme_key_slot_t slot, uint8_t priv[32])
{
    return hw_slot(slot) ? PICOACME_ERR_UNSUPPORTED : g_crypto.key_export(user, slot, priv);
}

static picoacme_err_t hw_import(void *user, picoacme_key_slot_t slot, const uint8_t priv[32])
{
    return hw_slot(slot) ? PICOACME_ERR_UNSUPPORTED : g_crypto.key_import(user, slot, priv);
}

static picoacme_err_t hw_ref(void *user, picoacme_key_slot_t slot,
                             uint8_t ref[PICOACME_KEY_REF_MAX], size_t *len)
{
    (void)user;
    if (!hw_slot(slot) || !g_dev.have[slot])
        return PICOACME_ERR_NOT_FOUND;
    memcpy(ref, g_dev.cur[slot], 5);
    *len = 5;
    return PICOACME_OK;
}

static picoacme_err_t hw_ref_load(void *user, picoacme_key_slot_t slot, const uint8_t *ref,
                                  size_t len)
{
    unsigned i;
    for (i = 0; i < g_dev.n; i++) {
        if (len == 5U && memcmp(ref, g_dev.ref[i], 5) == 0) {
            memcpy(g_dev.cur[slot], ref, 5);
            g_dev.have[slot] = true;
            return g_crypto.key_import(user, slot, g_dev.priv[i]);
        }
    }
    return PICOACME_ERR_NOT_FOUND;
}

static void hw_env_open(bool fresh)
{
    env_open(fresh);
    g_hw = g_crypto;
    g_hw.key_generate = hw_generate;
    g_hw.key_export = hw_export;
    g_hw.key_import = hw_import;
    g_hw.key_ref = hw_ref;
    g_hw.key_ref_load = hw_ref_load;
    g_ports.crypto = &g_hw;
    memset(g_dev.have, 0, sizeof g_dev.have);
}

/* The record of a port with key_ref holds references, never a scalar; a
 * reboot finds the account and the certificate key through them. */
static void test_key_refs(void **state)
{
    static uint8_t rec[PICOACME_RX_BUF_SIZE];
    size_t len = 0, off = 0, vl = 0;
    uint8_t acc1[64], acc2[64], pub[64];
    uint8_t cert_ref[5];
    picoacme_stored_info_t info;
    (void)state;
    memset(&g_dev, 0, sizeof g_dev);
    srv_reset(false);
    hw_env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(g_hw.key_public(g_hw.user, PICOACME_KEY_ACCOUNT, acc1), PICOACME_OK);
    assert_int_equal(picoacme_store_load(&g_st, rec, sizeof rec, &len, NULL), PICOACME_OK);
    assert_int_equal(picoacme_record_find(rec, len, PICOACME_REC_ACCT_KEY, &off, &vl),
                     PICOACME_ERR_NOT_FOUND);
    assert_int_equal(picoacme_record_find(rec, len, PICOACME_REC_CERT_KEY, &off, &vl),
                     PICOACME_ERR_NOT_FOUND);
    assert_int_equal(picoacme_record_find(rec, len, PICOACME_REC_ACCT_KEY_REF, &off, &vl),
                     PICOACME_OK);
    assert_int_equal(vl, 5);
    assert_memory_equal(rec + off, "HW\0\0\0", 5); /* the first key: the account's */
    assert_int_equal(picoacme_record_find(rec, len, PICOACME_REC_CERT_KEY_REF, &off, &vl),
                     PICOACME_OK);
    assert_int_equal(vl, 5);
    assert_memory_equal(rec + off, "HW\1\0\1", 5);
    memcpy(cert_ref, rec + off, 5);
    env_close();

    /* reboot: the account is found by its reference, no new account */
    srv_reset(true);
    hw_env_open(false);
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_stored(&g_ctx, &info), PICOACME_OK);
    assert_true(info.has_account);
    assert_int_equal(picoacme_stored_load_keys(&g_ctx), PICOACME_OK);
    assert_memory_equal(g_dev.cur[PICOACME_KEY_CERT], cert_ref, 5);
    assert_int_equal(g_hw.key_public(g_hw.user, PICOACME_KEY_CERT, pub), PICOACME_OK);
    /* a rollover would have to move the new key into the account slot */
    assert_int_equal(picoacme_key_rollover_start(&g_ctx), PICOACME_ERR_UNSUPPORTED);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(srv.acct_posts, 0);
    assert_int_equal(g_hw.key_public(g_hw.user, PICOACME_KEY_ACCOUNT, acc2), PICOACME_OK);
    assert_memory_equal(acc1, acc2, 64);
    assert_int_equal(picoacme_store_load(&g_st, rec, sizeof rec, &len, NULL), PICOACME_OK);
    assert_int_equal(picoacme_record_find(rec, len, PICOACME_REC_CERT_KEY_REF, &off, &vl),
                     PICOACME_OK);
    assert_memory_equal(rec + off, "HW\1\0\2", 5); /* a new certificate key */
    env_close();

    /* the device lost the keys: the account cannot be loaded, a new one is made */
    g_dev.n = 0;
    srv_reset(false);
    hw_env_open(false);
    assert_int_equal(run(), PICOACME_OK);
    assert_int_equal(srv.acct_posts, 1);
    env_close();
}

static void test_contract_trap(void **state)
{
#if PICOACME_ASSERT_ENABLE
    pid_t pid;
    int status = 0;
    (void)state;
    srv_reset(false);
    env_open(true);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        picoacme_wait_t w;
        picoacme_stored_info_t info;
        unsigned i;
        picoacme_err_t e;
        /* cmocka turns signals into failures: the child wants them raw */
        signal(SIGILL, SIG_DFL);
        signal(SIGTRAP, SIG_DFL);
        e = picoacme_init(&g_ctx, &g_cfg, &g_ports);
        if (e == PICOACME_OK)
            e = picoacme_issue_start(&g_ctx);
        if (e != PICOACME_OK) {
            fprintf(stderr, "child: %s\n", picoacme_err_str(e));
            _exit(2);
        }
        for (i = 0; i < 1000U && picoacme_step(&g_ctx, &w) != PICOACME_WANT_READ; i++) {
        }
        (void)picoacme_stored(&g_ctx, &info); /* rx belongs to the exchange */
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_true(WTERMSIG(status) == SIGILL || WTERMSIG(status) == SIGTRAP);
    env_close();
#else
    (void)state;
    skip(); /* built without PICOACME_ASSERTS */
#endif
}

/* ---- dns-01 propagation (issue 8) ------------------------------------------------ */

#define DNS_SOCK 150
static struct {
    char txt[64];    /* the value the hook published */
    uint32_t add_at; /* g_now of the hook's add */
    uint32_t query_at[16];
    unsigned queries;
    unsigned visible_after; /* the resolver sees the record from this query on */
    uint8_t answer[512];
    size_t answer_len;
} g_res;

static picoacme_err_t hook_txt(void *user, const char *fqdn, const char *value, bool add)
{
    (void)user;
    (void)fqdn;
    if (add) {
        scopy(g_res.txt, sizeof g_res.txt, value);
        g_res.add_at = g_now;
    }
    return PICOACME_OK;
}

static picoacme_err_t u_open(void *u, picoacme_sock_t *s)
{
    (void)u;
    *s = DNS_SOCK;
    return PICOACME_OK;
}

/* The resolver: NOERROR with no answer until visible_after, then the TXT. */
static picoacme_err_t u_send(void *u, picoacme_sock_t s, const char *host, uint16_t port,
                             const uint8_t *b, size_t len)
{
    size_t q = 12;
    uint8_t *a = g_res.answer;
    bool found;
    size_t tl = strlen(g_res.txt);
    (void)u;
    assert_int_equal(s, DNS_SOCK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 5353);
    if (g_res.queries < 16)
        g_res.query_at[g_res.queries] = g_now;
    found = g_res.queries >= g_res.visible_after;
    g_res.queries++;
    while (q < len && b[q] != 0)
        q += 1U + b[q];
    q += 5U; /* root label, QTYPE, QCLASS */
    assert_true(q <= len && q + 16U + tl <= sizeof g_res.answer);
    memcpy(a, b, q);
    a[2] = 0x81; /* QR, RD */
    a[3] = 0x80; /* RA, NOERROR */
    a[6] = 0;
    a[7] = found ? 1 : 0;
    memset(a + 8, 0, 4); /* no authority, no additional */
    g_res.answer_len = q;
    if (found) {
        uint8_t rr[12] = {0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 60, 0, 0};
        rr[10] = (uint8_t)((tl + 1U) >> 8);
        rr[11] = (uint8_t)(tl + 1U);
        memcpy(a + q, rr, sizeof rr);
        a[q + 12] = (uint8_t)tl;
        memcpy(a + q + 13, g_res.txt, tl);
        g_res.answer_len = q + 13U + tl;
    }
    return PICOACME_OK;
}

static picoacme_err_t u_recv(void *u, picoacme_sock_t s, uint8_t *b, size_t cap, size_t *got)
{
    (void)u;
    assert_int_equal(s, DNS_SOCK);
    if (g_res.answer_len == 0)
        return PICOACME_WANT_READ;
    assert_true(g_res.answer_len <= cap);
    memcpy(b, g_res.answer, g_res.answer_len);
    *got = g_res.answer_len;
    g_res.answer_len = 0;
    g_io++;
    return PICOACME_OK;
}

/* dns-01 with a hook and a resolver: the resolver is asked in the same
 * moment the record was published (no fixed first wait), then after a
 * short back-off that doubles. */
static void test_dns01_propagation(void **state)
{
    static const picoacme_dns_hook_t hook = {NULL, hook_txt};
    picoacme_dns01_config_t dns;
    (void)state;
    srv_reset(false);
    env_open(true);
    memset(&g_res, 0, sizeof g_res);
    g_res.visible_after = 3;
    g_tp.udp_open = u_open;
    g_tp.udp_send = u_send;
    g_tp.udp_recv = u_recv;
    memset(&dns, 0, sizeof dns);
    dns.hook = &hook;
    dns.resolver = "127.0.0.1";
    dns.resolver_port = 5353;
    dns.timeout_s = 30;
    g_cfg.challenges[0] = PICOACME_CHALL_DNS01;
    g_cfg.n_challenges = 1;
    g_cfg.dns01 = &dns;
    g_cfg.http01_port = 0;
    srv.h01 = false;
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(g_res.queries, 4);
    assert_int_equal(strlen(g_res.txt), 43);
    /* first query right after the hook published: no wait at all */
    assert_int_equal(g_res.query_at[0] - g_res.add_at, 0);
    /* then 50, 100, 200 ms */
    assert_int_equal(g_res.query_at[1] - g_res.query_at[0], 50);
    assert_int_equal(g_res.query_at[2] - g_res.query_at[1], 100);
    assert_int_equal(g_res.query_at[3] - g_res.query_at[2], 200);
    printf(
        "dns-01: resolver asked at +%u ms, +%u ms, +%u ms, +%u ms after the publish\n",
        (unsigned)(g_res.query_at[0] - g_res.add_at), (unsigned)(g_res.query_at[1] - g_res.add_at),
        (unsigned)(g_res.query_at[2] - g_res.add_at), (unsigned)(g_res.query_at[3] - g_res.add_at));
    env_close();
}

/* ---- fewer requests (issue 8) ----------------------------------------------------- */

/* A fresh issuance, a renewal on the same context (directory and the last
 * Replay-Nonce kept), a renewal after a reboot (the directory's URLs from
 * the store), and a stored URL gone stale (404: the directory is read
 * anew). */
static void test_request_counts(void **state)
{
    unsigned fresh, same, reboot;
    (void)state;
    srv_reset(false);
    env_open(true);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    fresh = picoacme_stats(&g_ctx)->requests;
    assert_int_equal(fresh, 10);
    /* same context: no directory, no nonce, no account */
    srv.reqs = 0;
    assert_int_equal(picoacme_issue_start(&g_ctx), PICOACME_OK);
    assert_int_equal(pump_engine(), PICOACME_OK);
    assert_no_violation();
    same = picoacme_stats(&g_ctx)->requests;
    assert_int_equal(same, 7);
    assert_int_equal(srv.reqs, 7);
    assert_int_equal(srv.dir_gets, 1);
    assert_int_equal(picoacme_stats(&g_ctx)->connections, 1);
    env_close();
    /* reboot: the record's directory URLs and account */
    srv_reset(true);
    env_open(false);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    reboot = picoacme_stats(&g_ctx)->requests;
    assert_int_equal(reboot, 8);
    assert_int_equal(srv.dir_gets, 0);
    env_close();
    printf("requests: fresh issuance %u, renewal on the same context %u, renewal after a "
           "reboot %u\n",
           fresh, same, reboot);
    /* the stored newNonce URL answers 404: the directory is read, then on */
    srv_reset(true);
    srv.nonce_gone = 1;
    env_open(false);
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(srv.dir_gets, 1);
    assert_int_equal(picoacme_stats(&g_ctx)->requests, 10);
    env_close();
    /* a newNonce URL that is gone for good fails after the one re-read */
    srv_reset(true);
    srv.nonce_gone = 5;
    env_open(false);
    assert_int_equal(run(), PICOACME_ERR_HTTP);
    assert_int_equal(srv.dir_gets, 1);
    assert_problem(PICOACME_ERR_HTTP, PICOACME_ST_NONCE, 404, "");
    env_close();
}

/* Profiles (draft-ietf-acme-profiles): the name goes into the newOrder and
 * the record; one the directory does not list is refused before any order. */
static void test_profiles(void **state)
{
    picoacme_ctx_t *c = &g_ctx;
    uint8_t rec[PICOACME_RX_BUF_SIZE];
    size_t len = 0, off = 0, vl = 0;
    (void)state;
    srv_reset(false);
    srv.profiles = "{\"classic\":\"90 days\",\"shortlived\":\"6 days\"}";
    env_open(true);
    g_cfg.profile = "shortlived";
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_string_equal(srv.profile, "shortlived");
    assert_int_equal(picoacme_store_load(&g_st, rec, sizeof rec, &len, NULL), PICOACME_OK);
    assert_int_equal(picoacme_record_find(rec, len, PICOACME_REC_PROFILE, &off, &vl), PICOACME_OK);
    assert_int_equal(vl, 10);
    assert_memory_equal(rec + off, "shortlived", 10);
    /* the same context again: the cached directory still vouches for it */
    assert_int_equal(picoacme_issue_start(c), PICOACME_OK);
    assert_int_equal(pump_engine(), PICOACME_OK);
    assert_string_equal(srv.profile, "shortlived");
    env_close();

    /* after a reboot with another profile: the stored URLs are not used
     * (the record was ordered with another profile), the directory is read */
    srv_reset(true);
    srv.profiles = "{\"classic\":\"90 days\",\"shortlived\":\"6 days\"}";
    env_open(false);
    g_cfg.profile = "classic";
    assert_int_equal(run(), PICOACME_OK);
    assert_int_equal(srv.dir_gets, 1);
    assert_string_equal(srv.profile, "classic");
    env_close();

    /* an unknown name: refused before any order */
    srv_reset(true);
    srv.profiles = "{\"classic\":\"90 days\"}";
    env_open(false);
    g_cfg.profile = "nope";
    assert_int_equal(run(), PICOACME_ERR_PARAM);
    assert_problem(PICOACME_ERR_PARAM, PICOACME_ST_DIRECTORY, 200, "");
    assert_non_null(strstr(picoacme_last_problem(c)->detail, "profile"));
    assert_int_equal(srv.order_posts, 0);
    assert_int_equal(srv.posts, 0);
    env_close();

    /* a directory without meta.profiles: refused as well */
    srv_reset(false);
    env_open(true);
    g_cfg.profile = "classic";
    assert_int_equal(run(), PICOACME_ERR_PARAM);
    assert_int_equal(srv.order_posts, 0);
    env_close();

    /* a name that could not be sent as a JSON string is a bad config */
    env_open(true);
    g_cfg.profile = "a\"b";
    assert_int_equal(picoacme_init(c, &g_cfg, &g_ports), PICOACME_ERR_PARAM);
    g_cfg.profile = "";
    assert_int_equal(picoacme_init(c, &g_cfg, &g_ports), PICOACME_ERR_PARAM);
    env_close();
}

/* The transport's failures named in the problem: a CA host name that does
 * not resolve, a CA that closes every connection before answering. */
static void test_transport_failures(void **state)
{
    (void)state;
    srv_reset(false);
    srv.connect_unknown = 100;
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_NOT_FOUND);
    assert_problem(PICOACME_ERR_NOT_FOUND, PICOACME_ST_DIRECTORY, 0, "");
    assert_true(!PICOACME_ERROR_TEXT ||
                strstr(picoacme_last_problem(&g_ctx)->detail, "does not resolve") != NULL);
    assert_nothing_stored();
    env_close();

    srv_reset(false);
    srv.hangup_path = "/dir";
    srv.hangup_count = 100;
    env_open(true);
    assert_int_equal(run(), PICOACME_ERR_CLOSED);
    assert_problem(PICOACME_ERR_CLOSED, PICOACME_ST_DIRECTORY, 0, "");
    assert_true(srv.hangup_count < 100);
    assert_true(!PICOACME_ERROR_TEXT ||
                strstr(picoacme_last_problem(&g_ctx)->detail, "closed the connection") != NULL);
    assert_nothing_stored();
    env_close();
}

/* ---- tls-alpn-01 through the engine (chall_alpn.c) --------------------------------- */

/* A fake TLS server port: it keeps the certificate the engine hands over,
 * and a "handshake" that completes checks it holds SHA-256 of the key
 * authorization (RFC 8737 §3), as the CA's validator would. */
static struct {
    uint8_t cert[2048];
    size_t cert_len;
    unsigned steps;
    bool stalled;
    bool failing;
} g_ftls;

static picoacme_err_t f_server_open(void *u, picoacme_sock_t sock, const uint8_t *cert, size_t len,
                                    const uint8_t priv[32])
{
    static const uint8_t zero[32];
    (void)u;
    (void)conn_of(sock); /* a connection the engine holds */
    assert_true(memcmp(priv, zero, 32) != 0);
    srv.alpn_opens++;
    if (srv.alpn_open_fail > 0) {
        srv.alpn_open_fail--;
        return PICOACME_ERR_TLS;
    }
    assert_true(len > 0 && len <= sizeof g_ftls.cert);
    memcpy(g_ftls.cert, cert, len);
    g_ftls.cert_len = len;
    g_ftls.steps = 0;
    g_ftls.stalled = false;
    g_ftls.failing = false;
    if (srv.alpn_stall > 0) {
        srv.alpn_stall--;
        g_ftls.stalled = true;
    } else if (srv.alpn_hs_fail > 0) {
        srv.alpn_hs_fail--;
        g_ftls.failing = true;
    }
    return PICOACME_OK;
}

static picoacme_err_t f_server_step(void *u)
{
    uint8_t d[32];
    picoacme_iov_t iov;
    (void)u;
    g_ftls.steps++;
    if (g_ftls.stalled)
        return PICOACME_WANT_READ;
    if (g_ftls.steps == 1U)
        return PICOACME_WANT_WRITE;
    if (g_ftls.failing)
        return PICOACME_ERR_TLS;
    iov.ptr = (const uint8_t *)srv.ka_expect;
    iov.len = strlen(srv.ka_expect);
    assert_int_equal(g_crypto.sha256(g_crypto.user, &iov, 1, d), PICOACME_OK);
    if (memmem(g_ftls.cert, g_ftls.cert_len, d, sizeof d) != NULL) {
        srv.alpn_ok++;
        srv.authz_valid = true;
        srv.order_status = "ready";
    } else {
        srv.alpn_bad++;
    }
    return PICOACME_OK;
}

static void f_server_close(void *u)
{
    (void)u;
    srv.alpn_closes++;
}

static picoacme_tls_t g_ftls_port;

static void alpn_env(uint16_t port)
{
    memset(&g_ftls, 0, sizeof g_ftls);
    memset(&g_ftls_port, 0, sizeof g_ftls_port);
    g_ftls_port.server_open = f_server_open;
    g_ftls_port.server_step = f_server_step;
    g_ftls_port.server_close = f_server_close;
    g_ports.tls = &g_ftls_port;
    g_cfg.challenges[0] = PICOACME_CHALL_TLSALPN01;
    g_cfg.n_challenges = 1;
    g_cfg.http01_port = 0;
    g_cfg.tlsalpn01_port = port;
    srv.alpn = true;
    srv.h01 = false;
}

/* The built-in responder: a TLS server that cannot start, a validator
 * that stalls past the 5 s, a failed handshake, then the one that sees
 * the certificate; each connection closed, the session ended once opened. */
static void test_tlsalpn01_responder(void **state)
{
    (void)state;
    srv_reset(false);
    env_open(true);
    alpn_env(ALPN_PORT);
    srv.alpn_open_fail = 1;
    srv.alpn_stall = 1;
    srv.alpn_hs_fail = 1;
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(srv.alpn_opens, 4);  /* one refused, three sessions */
    assert_int_equal(srv.alpn_closes, 3); /* the refused one had no session */
    assert_int_equal(srv.alpn_ok, 1);
    assert_int_equal(srv.alpn_bad, 0);
    assert_int_equal(srv.pending_alpn, 0);
    assert_int_equal(g_ctx.run.served, 1); /* only the good handshake */
    for (int i = 0; i < NCONN; i++)
        assert_false(g_conn[i].used); /* every validation connection closed */
    env_close();
}

/* The responder cannot start: no TLS server in the port, no listener. */
static void test_tlsalpn01_cannot_serve(void **state)
{
    (void)state;
    srv_reset(false);
    env_open(true);
    alpn_env(ALPN_PORT);
    g_ftls_port.server_open = NULL;
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_issue_start(&g_ctx), PICOACME_ERR_UNSUPPORTED);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "cannot serve tls-alpn-01"));
    assert_int_equal(srv.reqs, 0);
    g_ftls_port.server_open = f_server_open;
    srv.listen_fail = true;
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_issue_start(&g_ctx), PICOACME_ERR_IO);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "cannot listen"));
    assert_int_equal(srv.reqs, 0);
    env_close();
}

/* picoacme_tlsalpn_adopt(): the appliance's own HTTPS server hands over a
 * connection that asked for acme-tls/1 (no built-in listener). */
static bool g_adopted;

static void adopt_hook(void)
{
    picoacme_sock_t s;
    if (g_adopted || srv.pending_alpn == 0 || g_ctx.alpn.cert_len == 0U)
        return;
    srv.pending_alpn--;
    s = conn_new();
    assert_int_equal(picoacme_tlsalpn_adopt(&g_ctx, s), PICOACME_OK);
    /* one validation at a time */
    assert_int_equal(picoacme_tlsalpn_adopt(&g_ctx, s), PICOACME_ERR_STATE);
    g_adopted = true;
}

static void test_tlsalpn01_adopt(void **state)
{
    (void)state;
    srv_reset(false);
    env_open(true);
    alpn_env(0);
    g_adopted = false;
    assert_int_equal(picoacme_tlsalpn_adopt(NULL, 5), PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_tlsalpn_adopt(&g_ctx, PICOACME_SOCK_NONE), PICOACME_ERR_PARAM);
    /* no challenge certificate yet */
    assert_int_equal(picoacme_tlsalpn_adopt(&g_ctx, 5), PICOACME_ERR_STATE);
    g_step_hook = adopt_hook;
    assert_int_equal(picoacme_issue_start(&g_ctx), PICOACME_OK);
    assert_int_equal(pump_engine(), PICOACME_OK);
    g_step_hook = NULL;
    assert_no_violation();
    assert_true(g_adopted);
    assert_int_equal(srv.alpn_ok, 1);
    assert_int_equal(srv.alpn_closes, 1);
    assert_int_equal(g_ctx.run.served, 1);
    for (int i = 0; i < NCONN; i++)
        assert_false(g_conn[i].used);
    env_close();
}

/* Challenge settings that cannot work are refused before any request. */
static void test_challenge_settings(void **state)
{
    static const picoacme_ident_t ip[1] = {{PICOACME_ID_IP, "192.0.2.7"}};
    static const picoacme_ident_t wild[1] = {{PICOACME_ID_DNS, "*.a.test"}};
    picoacme_dns01_config_t dns;
    (void)state;
    srv_reset(false);
    env_open(true);
    memset(&dns, 0, sizeof dns);
    g_cfg.challenges[0] = PICOACME_CHALL_DNS01;
    g_cfg.n_challenges = 1;
    /* dns-01 without a server and key */
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_issue_start(&g_ctx), PICOACME_ERR_PARAM);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "DNS server and TSIG key"));
    /* a resolver without a timeout */
    dns.server = "127.0.0.1";
    dns.tsig.name = "k.";
    dns.tsig.secret = (const uint8_t *)"0123456789abcdef0123456789abcdef";
    dns.tsig.secret_len = 32;
    dns.resolver = "127.0.0.1";
    g_cfg.dns01 = &dns;
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_issue_start(&g_ctx), PICOACME_ERR_PARAM);
    /* complete, but the transport has no UDP */
    dns.timeout_s = 10;
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_issue_start(&g_ctx), PICOACME_ERR_UNSUPPORTED);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "no UDP"));
    /* an unknown type */
    g_cfg.challenges[0] = (picoacme_chall_type_t)7;
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_issue_start(&g_ctx), PICOACME_ERR_PARAM);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "unknown challenge type"));
    /* an IP address with dns-01 only (RFC 8738 §7) */
    dns.resolver = NULL;
    dns.tcp = true;
    g_cfg.challenges[0] = PICOACME_CHALL_DNS01;
    g_cfg.ids = ip;
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_issue_start(&g_ctx), PICOACME_ERR_PARAM);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "cannot validate an IP"));
    /* a wildcard with http-01 only */
    g_cfg.challenges[0] = PICOACME_CHALL_HTTP01;
    g_cfg.ids = wild;
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_issue_start(&g_ctx), PICOACME_ERR_PARAM);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "wildcard name needs dns-01"));
    assert_int_equal(srv.reqs, 0);
    g_cfg.ids = g_ids;
    env_close();
}

/* ---- dns-01: the RFC 2136 server's failures, the hook's (chall_dns01.c) ---------- */

/* A fake primary over the fake UDP port: it answers each message (an SOA
 * query or an UPDATE) unsigned with g_ds.rcode and no records, or not at
 * all; knobs make the port fail the send or the receive. */
static struct {
    unsigned rcode;
    bool silent;      /* never answers */
    unsigned again;   /* udp_send answers AGAIN (resolving) this often first */
    bool send_fail;   /* udp_send fails */
    bool recv_fail;   /* udp_recv fails */
    bool stray_first; /* an answer of another id comes first */
    unsigned sends;   /* datagrams sent to the server */
    unsigned updates; /* of them UPDATEs (opcode 5) */
    uint8_t answer[512];
    size_t answer_len;
    uint8_t stray[64];
    size_t stray_len;
    unsigned tcp_wrong_id; /* TCP answers with another id, this often first */
    unsigned tcp_too_long; /* TCP answers announcing 65,535 bytes, this often first */
} g_ds;

static picoacme_err_t ds_send(void *u, picoacme_sock_t s, const char *host, uint16_t port,
                              const uint8_t *b, size_t len)
{
    size_t q = 12;
    (void)u;
    assert_int_equal(s, DNS_SOCK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 5300);
    if (g_ds.again > 0) {
        g_ds.again--;
        return PICOACME_AGAIN;
    }
    if (g_ds.send_fail)
        return PICOACME_ERR_IO;
    g_ds.sends++;
    assert_true(len > 12);
    if (((b[2] >> 3) & 0x0F) == 5)
        g_ds.updates++;
    if (g_ds.silent)
        return PICOACME_OK;
    while (q < len && b[q] != 0)
        q += 1U + b[q];
    q += 5U; /* the root label, type, class of the question (zone) */
    assert_true(q <= len && q <= sizeof g_ds.answer);
    memcpy(g_ds.answer, b, q);
    g_ds.answer[2] = (uint8_t)(b[2] | 0x80); /* QR, the opcode kept */
    g_ds.answer[3] = (uint8_t)g_ds.rcode;
    g_ds.answer[4] = 0;
    g_ds.answer[5] = 1;
    memset(g_ds.answer + 6, 0, 6);
    g_ds.answer_len = q;
    if (g_ds.stray_first) {
        g_ds.stray_first = false;
        memcpy(g_ds.stray, g_ds.answer, 12);
        g_ds.stray[0] ^= 0x5a; /* another id */
        g_ds.stray_len = 12;
    }
    return PICOACME_OK;
}

static picoacme_err_t ds_recv(void *u, picoacme_sock_t s, uint8_t *b, size_t cap, size_t *got)
{
    (void)u;
    assert_int_equal(s, DNS_SOCK);
    if (g_ds.recv_fail)
        return PICOACME_ERR_IO;
    if (g_ds.stray_len > 0) {
        memcpy(b, g_ds.stray, g_ds.stray_len);
        *got = g_ds.stray_len;
        g_ds.stray_len = 0;
        g_io++;
        return PICOACME_OK;
    }
    if (g_ds.answer_len == 0)
        return PICOACME_WANT_READ;
    assert_true(g_ds.answer_len <= cap);
    memcpy(b, g_ds.answer, g_ds.answer_len);
    *got = g_ds.answer_len;
    g_ds.answer_len = 0;
    g_io++;
    return PICOACME_OK;
}

static const uint8_t g_tsig_secret[32] = "0123456789abcdef0123456789abcdef";

static void ds_env(picoacme_dns01_config_t *dns, const char *zone)
{
    memset(&g_ds, 0, sizeof g_ds);
    g_tp.udp_open = u_open;
    g_tp.udp_send = ds_send;
    g_tp.udp_recv = ds_recv;
    memset(dns, 0, sizeof *dns);
    dns->server = "127.0.0.1";
    dns->server_port = 5300;
    dns->zone = zone;
    dns->tsig.name = "acme-key";
    dns->tsig.secret = g_tsig_secret;
    dns->tsig.secret_len = sizeof g_tsig_secret;
    g_cfg.challenges[0] = PICOACME_CHALL_DNS01;
    g_cfg.n_challenges = 1;
    g_cfg.dns01 = dns;
    g_cfg.http01_port = 0;
    srv.h01 = false;
}

/* One issuance that ends in the dns-01 publish: the error, the state, the
 * detail the CA's answer produced. */
static void ds_expect(picoacme_err_t err, const char *detail)
{
    picoacme_err_t e = run();
    const picoacme_problem_t *p = picoacme_last_problem(&g_ctx);
    if (e != err || strstr(p->detail, detail) == NULL)
        fail_msg("got %s \"%s\", expected %s \"%s\"", picoacme_err_str(e), p->detail,
                 picoacme_err_str(err), detail);
    assert_int_equal(p->state, PICOACME_ST_DNS_PUBLISH);
    assert_int_equal(p->http_status, 0); /* the DNS exchange, not the last HTTP answer */
    assert_false(srv.chall_posted);      /* nothing published: no challenge answered */
    assert_nothing_stored();
}

static void test_dns01_server_failures(void **state)
{
    picoacme_dns01_config_t dns;
    (void)state;
    srv_reset(false);
    env_open(true);
    ds_env(&dns, NULL);
    /* no zone configured: the SOA query finds none */
    ds_expect(PICOACME_ERR_DNS, "names no zone (SOA)");
    assert_int_equal(g_ds.sends, 1);
    assert_int_equal(g_ds.updates, 0);
    /* the zone given: the UPDATE refused, each RCODE named */
    dns.zone = "test";
    g_ds.rcode = PICOACME_DNS_RCODE_REFUSED;
    ds_expect(PICOACME_ERR_DNS, "refused the update: REFUSED");
    assert_int_equal(g_ds.updates, 1);
    g_ds.rcode = PICOACME_DNS_RCODE_SERVFAIL;
    g_ds.stray_first = true; /* dropped: another id */
    ds_expect(PICOACME_ERR_DNS, "refused the update: SERVFAIL");
    g_ds.rcode = PICOACME_DNS_RCODE_NXDOMAIN;
    ds_expect(PICOACME_ERR_DNS, "refused the update: NXDOMAIN");
    g_ds.rcode = 4; /* NOTIMP */
    ds_expect(PICOACME_ERR_DNS, "refused the update: an error");
    /* silence: sent again after 1 s and 2 s, then given up after 4 s;
     * the UPDATE may have been applied, so the delete follows (3 tries) */
    g_ds.sends = 0;
    g_ds.updates = 0;
    g_ds.silent = true;
    ds_expect(PICOACME_ERR_DNS, "did not answer");
    assert_int_equal(g_ds.sends, 6);
    assert_int_equal(g_ds.updates, 6);
    /* the port cannot receive: each try fails at once */
    g_ds.sends = 0;
    g_ds.silent = false;
    g_ds.recv_fail = true;
    ds_expect(PICOACME_ERR_DNS, "did not answer");
    assert_int_equal(g_ds.sends, 6);
    /* a zone that is no DNS name: no message can be built */
    g_ds.sends = 0;
    dns.zone = "a..test";
    ds_expect(PICOACME_ERR_PARAM, "cannot build the DNS message");
    assert_int_equal(g_ds.sends, 0);
    dns.zone = "test";
    /* the server's name still resolving, then it cannot be sent to */
    g_ds.recv_fail = false;
    g_ds.again = 2;
    g_ds.send_fail = true;
    ds_expect(PICOACME_ERR_DNS, "cannot send to the dns-01 server");
    assert_int_equal(g_ds.again, 0);
    assert_no_violation();
    env_close();
}

/* A DNS hook that is slow, fails, or publishes and then sees the
 * challenge fail: the removal follows, and the failure stays the run's. */
static struct {
    unsigned again; /* AGAIN this often first */
    bool fail;      /* then fails the add */
    unsigned adds, removes;
} g_hk;

static picoacme_err_t hook_slow(void *user, const char *fqdn, const char *value, bool add)
{
    (void)user;
    assert_string_equal(fqdn, "_acme-challenge.a.test");
    assert_int_equal(strlen(value), 43);
    if (g_hk.again > 0) {
        g_hk.again--;
        return PICOACME_AGAIN;
    }
    if (add && g_hk.fail)
        return PICOACME_ERR_IO;
    if (add)
        g_hk.adds++;
    else
        g_hk.removes++;
    return PICOACME_OK;
}

static void test_dns01_hook_failures(void **state)
{
    static const picoacme_dns_hook_t hook = {NULL, hook_slow};
    picoacme_dns01_config_t dns;
    (void)state;
    srv_reset(false);
    env_open(true);
    memset(&g_hk, 0, sizeof g_hk);
    memset(&dns, 0, sizeof dns);
    dns.hook = &hook;
    g_cfg.challenges[0] = PICOACME_CHALL_DNS01;
    g_cfg.n_challenges = 1;
    g_cfg.dns01 = &dns;
    g_cfg.http01_port = 0;
    srv.h01 = false;
    g_hk.again = 3;
    g_hk.fail = true;
    assert_int_equal(run(), PICOACME_ERR_DNS);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "hook could not publish"));
    assert_int_equal(g_hk.again, 0);
    assert_false(srv.chall_posted);
    /* a failed add may have done part of it: the removal follows */
    assert_int_equal(g_hk.adds, 0);
    assert_int_equal(g_hk.removes, 1);
    /* published, the authorization fails: removed, the failure kept */
    g_hk.fail = false;
    srv.authz_invalid = true;
    assert_int_equal(run(), PICOACME_ERR_INVALID);
    assert_int_equal(g_hk.adds, 1);
    assert_int_equal(g_hk.removes, 2);
    assert_int_equal(picoacme_last_problem(&g_ctx)->err, PICOACME_ERR_INVALID);
    assert_nothing_stored();
    assert_no_violation();
    env_close();
}

/* ---- the crypto port failing (request.c, eab.c, lifecycle.c) ---------------------- */

/* A key slot's operation fails, in one engine state or in any (IDLE). */
typedef struct {
    int slot; /* -1: never */
    picoacme_state_t st;
} fault_t;
static struct {
    fault_t gen, pub, exp, sign;
    int keyauth_hash; /* the key authorization's SHA-256 fails (1) */
    int random_in;    /* random fails in this state (-1: never) */
    int write_in;     /* a flash write fails in this state (-1: never) */
} g_fault;
static picoacme_storage_t g_fst;
static picoacme_crypto_t g_fc;
static void fault_clear(void);

static bool fault_hit(const fault_t *f, picoacme_key_slot_t slot)
{
    return f->slot == (int)slot && (f->st == PICOACME_ST_IDLE || g_ctx.run.state == f->st);
}

static picoacme_err_t fc_generate(void *u, picoacme_key_slot_t slot)
{
    return fault_hit(&g_fault.gen, slot) ? PICOACME_ERR_CRYPTO : g_crypto.key_generate(u, slot);
}

static picoacme_err_t fc_public(void *u, picoacme_key_slot_t slot, uint8_t pub[64])
{
    return fault_hit(&g_fault.pub, slot) ? PICOACME_ERR_CRYPTO : g_crypto.key_public(u, slot, pub);
}

static picoacme_err_t fc_export(void *u, picoacme_key_slot_t slot, uint8_t priv[32])
{
    return fault_hit(&g_fault.exp, slot) ? PICOACME_ERR_CRYPTO : g_crypto.key_export(u, slot, priv);
}

static picoacme_err_t fc_sign(void *u, picoacme_key_slot_t slot, const uint8_t digest[32],
                              uint8_t sig[64])
{
    return fault_hit(&g_fault.sign, slot) ? PICOACME_ERR_CRYPTO
                                          : g_crypto.key_sign(u, slot, digest, sig);
}

static picoacme_err_t fc_sha256(void *u, const picoacme_iov_t *iov, size_t n, uint8_t out[32])
{
    /* token "." thumbprint: three pieces, the last the 43-byte thumbprint */
    if (g_fault.keyauth_hash && n == 3U && iov[1].len == 1U && iov[2].len == 43U)
        return PICOACME_ERR_CRYPTO;
    return g_crypto.sha256(u, iov, n, out);
}

static picoacme_err_t fc_random(void *u, uint8_t *b, size_t n)
{
    return (int)g_ctx.run.state == g_fault.random_in ? PICOACME_ERR_CRYPTO
                                                     : g_crypto.random(u, b, n);
}

static picoacme_err_t fs_write(void *u, size_t off, const uint8_t *b, size_t n)
{
    return (int)g_ctx.run.state == g_fault.write_in ? PICOACME_ERR_STORAGE
                                                    : g_st.write(u, off, b, n);
}

static void fault_env(void)
{
    g_fc = g_crypto;
    g_fc.key_generate = fc_generate;
    g_fc.key_public = fc_public;
    g_fc.key_export = fc_export;
    g_fc.key_sign = fc_sign;
    g_fc.sha256 = fc_sha256;
    g_fc.random = fc_random;
    g_ports.crypto = &g_fc;
    g_fst = g_st;
    g_fst.write = fs_write;
    g_ports.storage = &g_fst;
    fault_clear();
}

static void fault_clear(void)
{
    memset(&g_fault, 0, sizeof g_fault);
    g_fault.gen.slot = g_fault.pub.slot = g_fault.exp.slot = g_fault.sign.slot = -1;
    g_fault.random_in = g_fault.write_in = -1;
}

static void fault_set(fault_t *f, picoacme_key_slot_t slot, picoacme_state_t st)
{
    fault_clear();
    f->slot = (int)slot;
    f->st = st;
}

/* Run one lifecycle call on a fresh context; its result, the detail checked. */
static picoacme_err_t lc_run(picoacme_err_t (*start)(picoacme_ctx_t *), const char *detail)
{
    picoacme_err_t e;
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    e = start(&g_ctx);
    if (e == PICOACME_OK)
        e = pump_engine();
    if (detail != NULL && strstr(picoacme_last_problem(&g_ctx)->detail, detail) == NULL)
        fail_msg("detail \"%s\", expected \"%s\"", picoacme_last_problem(&g_ctx)->detail, detail);
    return e;
}

static picoacme_err_t revoke10(picoacme_ctx_t *ctx)
{
    return picoacme_revoke_start(ctx, 10);
}

/* Revocation with reason 10 (two digits), a CA that does not deactivate,
 * and the key rollover failing at each step of the crypto port: nothing
 * reaches the CA before the failure, the stored account key stays. */
static void test_lifecycle_failures(void **state)
{
    uint8_t before[64], after[64];
    (void)state;
    srv_reset(false);
    env_open(true);
    fault_env();
    assert_int_equal(run(), PICOACME_OK);
    assert_int_equal(g_crypto.key_public(g_crypto.user, PICOACME_KEY_ACCOUNT, before), PICOACME_OK);
    assert_int_equal(picoacme_key_rollover_start(NULL), PICOACME_ERR_PARAM);
    /* revoke, reason aACompromise (10) */
    assert_int_equal(lc_run(revoke10, NULL), PICOACME_OK);
    assert_int_equal(srv.revokes, 1);
    assert_true(strncmp(srv.lc_payload, "{\"certificate\":\"", 16) == 0);
    assert_non_null(strstr(srv.lc_payload, "\",\"reason\":10}"));
    /* a deactivation the CA does not carry out */
    srv.deact_status = "valid";
    assert_int_equal(lc_run(picoacme_account_deactivate_start, "did not deactivate"),
                     PICOACME_ERR_PROTOCOL);
    assert_int_equal(srv.deactivates, 1);
    assert_string_equal(srv.lc_payload, "{\"status\":\"deactivated\"}");
    /* rollover: the new key cannot be generated */
    fault_set(&g_fault.gen, PICOACME_KEY_CHALLENGE, PICOACME_ST_IDLE);
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_key_rollover_start(&g_ctx), PICOACME_ERR_CRYPTO);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "key generation failed"));
    /* the old key's JWK for the inner payload */
    fault_set(&g_fault.pub, PICOACME_KEY_ACCOUNT, PICOACME_ST_KEY_CHANGE);
    assert_int_equal(lc_run(picoacme_key_rollover_start, "account public key unavailable"),
                     PICOACME_ERR_CRYPTO);
    /* the new key's JWK for the inner header */
    fault_set(&g_fault.pub, PICOACME_KEY_CHALLENGE, PICOACME_ST_KEY_CHANGE);
    assert_int_equal(lc_run(picoacme_key_rollover_start, "new account public key unavailable"),
                     PICOACME_ERR_CRYPTO);
    /* the inner JWS signed by the new key */
    fault_set(&g_fault.sign, PICOACME_KEY_CHALLENGE, PICOACME_ST_IDLE);
    assert_int_equal(lc_run(picoacme_key_rollover_start, "signing the key change failed"),
                     PICOACME_ERR_CRYPTO);
    assert_int_equal(srv.keychanges, 0);
    /* the CA took the new key, but it cannot be moved to the account slot */
    fault_set(&g_fault.exp, PICOACME_KEY_CHALLENGE, PICOACME_ST_IDLE);
    assert_int_equal(lc_run(picoacme_key_rollover_start, "cannot be moved to its slot"),
                     PICOACME_ERR_CRYPTO);
    assert_int_equal(srv.keychanges, 1);
    {
        /* the inner JWS (§7.3.5): account and oldKey in its payload */
        const char *v = NULL;
        char inner[512];
        long n = jstr(srv.lc_payload, "payload", &v);
        assert_true(n > 0);
        n = b64u_dec(v, (size_t)n, (uint8_t *)inner, sizeof inner - 1U);
        assert_true(n > 0);
        inner[n] = '\0';
        assert_true(strncmp(inner, "{\"account\":\"" BASE "/acct/1\",\"oldKey\":{", 40) == 0);
    }
    /* the CA took the new key, but the record cannot be written */
    fault_clear();
    g_fault.write_in = PICOACME_ST_KEY_CHANGE;
    assert_int_equal(lc_run(picoacme_key_rollover_start, "writing it to flash failed"),
                     PICOACME_ERR_STORAGE);
    assert_int_equal(srv.keychanges, 2);
    fault_clear();
    /* the stored account key is the old one still */
    assert_int_equal(picoacme_init(&g_ctx, &g_cfg, &g_ports), PICOACME_OK);
    assert_int_equal(picoacme_account_deactivate_start(&g_ctx), PICOACME_OK);
    assert_int_equal(g_crypto.key_public(g_crypto.user, PICOACME_KEY_ACCOUNT, after), PICOACME_OK);
    assert_memory_equal(before, after, 64);
    srv.deact_status = NULL;
    assert_int_equal(pump_engine(), PICOACME_OK);
    assert_int_equal(srv.deactivates, 2);
    assert_no_violation();
    env_close();
}

/* Requests that cannot be built: the account key's JWK (with and without
 * EAB), the JWS signature, the CSR; a directory URL that is no URL. */
static void test_request_failures(void **state)
{
    static const uint8_t hmac[32] = "hmac-key-hmac-key-hmac-key-hmac";
    (void)state;
    srv_reset(false);
    env_open(true);
    fault_env();
    fault_set(&g_fault.pub, PICOACME_KEY_ACCOUNT, PICOACME_ST_ACCOUNT);
    assert_int_equal(run(), PICOACME_ERR_CRYPTO);
    assert_non_null(
        strstr(picoacme_last_problem(&g_ctx)->detail, "account public key unavailable"));
    assert_int_equal(srv.acct_posts, 0);
    /* with External Account Binding: its JWS needs the JWK first */
    g_cfg.eab_kid = "kid-1";
    g_cfg.eab_key = hmac;
    g_cfg.eab_key_len = sizeof hmac;
    assert_int_equal(run(), PICOACME_ERR_CRYPTO);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "External Account Binding"));
    /* a crypto failure is not a buffer too small */
    assert_null(strstr(picoacme_last_problem(&g_ctx)->detail, "does not fit"));
    assert_int_equal(srv.acct_posts, 0);
    g_cfg.eab_kid = NULL;
    g_cfg.eab_key = NULL;
    g_cfg.eab_key_len = 0;
    /* the newOrder JWS cannot be signed */
    fault_set(&g_fault.sign, PICOACME_KEY_ACCOUNT, PICOACME_ST_ORDER);
    assert_int_equal(run(), PICOACME_ERR_CRYPTO);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "signing the request failed"));
    assert_int_equal(srv.acct_posts, 1);
    assert_int_equal(srv.order_posts, 0);
    /* the CSR cannot be signed */
    fault_set(&g_fault.sign, PICOACME_KEY_CERT, PICOACME_ST_IDLE);
    assert_int_equal(run(), PICOACME_ERR_CRYPTO);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "building the CSR failed"));
    assert_int_equal(srv.finalizes, 0);
    /* the account of the first attempt was saved when the CA made it: the
     * retry uses it (no second account per failed enrolment) */
    assert_int_equal(srv.acct_posts, 1);
    assert_nothing_stored(); /* no certificate: an account alone */
    fault_clear();
    /* newNonce is no URL (a fresh device: the directory is read) */
    env_close();
    env_open(true);
    srv.dir_body = "{\"newNonce\":\"nonce-url\",\"newAccount\":\"" BASE
                   "/acct\",\"newOrder\":\"" BASE "/order\"}";
    assert_int_equal(run(), PICOACME_ERR_PROTOCOL);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "URL that cannot be used"));
    srv.dir_body = NULL;
    assert_no_violation();
    assert_nothing_stored();
    env_close();
}

/* ---- malformed CA answers (response.c) --------------------------------------------- */

#define ORDER_HEAD                                                                                 \
    "{\"status\":\"pending\",\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}],"
#define LOC_ORDER "Location: " BASE "/order/1\r\n"
#define LONG_URL                                                                                   \
    BASE "/0123456789012345678901234567890123456789012345678901234567890123456789012345678901234"  \
         "56789012345678901234567890123456789012345678901234567890123456789012345678901234567890"  \
         "0123456789012345678901234567890123456789" /* over PICOACME_URL_MAX */

static const struct hostile_answer {
    const char *path;
    int status;
    const char *ctype;
    const char *extra;
    const char *body;
    picoacme_err_t err;
    const char *detail;
} g_hostile[] = {
    {"/acct", 201, NULL, NULL, "{\"status\":\"valid\"}", PICOACME_ERR_PROTOCOL,
     "account without a usable Location"},
    {"/acct", 200, NULL, "Location: " BASE "/acct/1\r\n", "{\"status\":\"deactivated\"}",
     PICOACME_ERR_INVALID, "deactivated or revoked"},
    {"/acct", 400, "application/problem+json", NULL, "{\"type\":5,\"detail\":\"odd type\"}",
     PICOACME_ERR_HTTP, "odd type"}, /* no usable type: no problem, the detail kept */
    {"/order", 201, NULL, NULL,
     ORDER_HEAD "\"authorizations\":[\"" BASE "/authz/0\"],\"finalize\":\"" BASE "/finalize\"}",
     PICOACME_ERR_PROTOCOL, "new order without a usable Location"},
    {"/order", 202, NULL, LOC_ORDER,
     ORDER_HEAD "\"authorizations\":[\"" BASE "/authz/0\"],\"finalize\":\"" BASE "/finalize\"}",
     PICOACME_ERR_HTTP, "unexpected HTTP status"},
    {"/order", 201, NULL, LOC_ORDER, ORDER_HEAD "\"authorizations\":[\"" BASE "/authz/0\"]}",
     PICOACME_ERR_PROTOCOL, "finalize"},
    {"/order", 201, NULL, LOC_ORDER,
     ORDER_HEAD "\"authorizations\":[\"" BASE "/authz/0\"],\"finalize\":\"" LONG_URL "\"}",
     PICOACME_ERR_NOSPACE, "longer than PICOACME_URL_MAX"},
    {"/order", 201, NULL, LOC_ORDER,
     ORDER_HEAD "\"authorizations\":[],\"finalize\":\"" BASE "/finalize\"}", PICOACME_ERR_PROTOCOL,
     "order without authorizations"},
    {"/order", 201, NULL, LOC_ORDER,
     ORDER_HEAD "\"authorizations\":[\"" BASE "/a/1\",\"" BASE "/a/2\",\"" BASE "/a/3\",\"" BASE
                "/a/4\",\"" BASE "/a/5\"],\"finalize\":\"" BASE "/finalize\"}",
     PICOACME_ERR_NOSPACE, "more authorizations than PICOACME_MAX_IDENTIFIERS"},
    {"/order", 201, NULL, LOC_ORDER,
     ORDER_HEAD "\"authorizations\":[5],\"finalize\":\"" BASE "/finalize\"}", PICOACME_ERR_PROTOCOL,
     "authorization URL"},
    {"/order", 201, NULL, LOC_ORDER,
     "{\"status\":\"invalid\",\"authorizations\":[\"" BASE "/authz/0\"],\"finalize\":\"" BASE
     "/finalize\",\"error\":{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\","
     "\"detail\":\"not this name\"}}",
     PICOACME_ERR_INVALID, "not this name"}, /* the CA's detail kept */
    {"/order", 201, NULL, LOC_ORDER,
     "{\"status\":\"invalid\",\"authorizations\":[\"" BASE "/authz/0\"],\"finalize\":\"" BASE
     "/finalize\"}",
     PICOACME_ERR_INVALID, "the order became invalid"},
    {"/cert", 200, "application/pem-certificate-chain", NULL,
     "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", PICOACME_ERR_PARSE,
     "cannot be parsed"},
    {"/cert", 202, "text/plain", NULL, "later", PICOACME_ERR_HTTP, "certificate download failed"},
    {"/authz/0", 200, NULL, NULL, "{\"status\":\"pending\",\"challenges\":[]}",
     PICOACME_ERR_PROTOCOL, "without a usable identifier"},
    {"/authz/0", 200, NULL, NULL,
     "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"b.test\"},"
     "\"challenges\":[]}",
     PICOACME_ERR_PROTOCOL, "identifier not asked for"},
    {"/authz/0", 200, NULL, NULL,
     "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},"
     "\"challenges\":[{\"type\":\"http-01\",\"token\":\"" TOKEN "\"}]}",
     PICOACME_ERR_PROTOCOL, "url"},
    {"/authz/0", 200, NULL, NULL,
     "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},"
     "\"challenges\":[{\"type\":\"other-01\",\"url\":\"" BASE "/c\",\"token\":\"" TOKEN "\"}]}",
     PICOACME_ERR_UNSUPPORTED, "none of the allowed challenge types"},
    {"/authz/0", 200, NULL, NULL,
     "{\"status\":\"invalid\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},"
     "\"challenges\":[{\"type\":\"http-01\",\"url\":\"" BASE "/chall/0\",\"token\":\"" TOKEN
     "\",\"error\":{\"type\":\"urn:ietf:params:acme:error:unauthorized\","
     "\"detail\":\"expired before validation\"}}]}",
     PICOACME_ERR_INVALID, "expired before validation"},
    {"/chall/0", 200, NULL, NULL,
     "{\"type\":\"http-01\",\"status\":\"invalid\",\"error\":{\"type\":"
     "\"urn:ietf:params:acme:error:incorrectResponse\",\"detail\":\"wrong key authorization\"}}",
     PICOACME_ERR_INVALID, "wrong key authorization"},
};

static void test_hostile_answers(void **state)
{
    (void)state;
    srv_reset(false);
    env_open(true);
    for (size_t i = 0; i < sizeof g_hostile / sizeof g_hostile[0]; i++) {
        const struct hostile_answer *h = &g_hostile[i];
        picoacme_err_t e;
        /* a fresh device: the account is asked for too */
        env_close();
        srv_reset(false);
        env_open(true);
        srv.ovr_path = h->path;
        srv.ovr_status = h->status;
        srv.ovr_ctype = h->ctype;
        srv.ovr_extra = h->extra;
        srv.ovr_body = h->body;
        e = run();
        if (e != h->err || strstr(picoacme_last_problem(&g_ctx)->detail, h->detail) == NULL)
            fail_msg("case %zu (%s %d): %s \"%s\", expected %s \"%s\"", i, h->path, h->status,
                     picoacme_err_str(e), picoacme_last_problem(&g_ctx)->detail,
                     picoacme_err_str(h->err), h->detail);
        assert_null(srv.ovr_path); /* the answer was given */
        if (h->err == PICOACME_ERR_INVALID && strstr(h->body, "rejectedIdentifier") != NULL)
            assert_problem(PICOACME_ERR_INVALID, PICOACME_ST_ORDER, 201, "rejectedIdentifier");
        assert_no_violation();
    }
    env_close();
}

/* The directory: without newOrder, or requiring EAB none is configured for. */
static void test_hostile_directory(void **state)
{
    (void)state;
    srv_reset(false);
    env_open(true);
    srv.dir_body = "{\"newNonce\":\"" BASE "/nonce\",\"newAccount\":\"" BASE "/acct\"}";
    assert_int_equal(run(), PICOACME_ERR_PROTOCOL);
    assert_string_equal(picoacme_last_problem(&g_ctx)->detail, "newOrder");
    assert_false(g_ctx.dir.loaded);
    srv.dir_body = "{\"newNonce\":\"" BASE "/nonce\",\"newAccount\":\"" BASE
                   "/acct\",\"newOrder\":\"" BASE "/order\",\"meta\":{"
                   "\"externalAccountRequired\":true}}";
    assert_int_equal(run(), PICOACME_ERR_UNSUPPORTED);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "requires External Account"));
    assert_int_equal(srv.acct_posts, 0);
    assert_no_violation();
    env_close();
}

/* Polling the order: "ready" again after finalize is polled on; a
 * finalize answer with Retry-After waits for it; an order that never
 * finishes ends after PICOACME_POLL_MAX polls. */
static void test_order_polls(void **state)
{
    char body[1024];
    (void)state;
    srv_reset(false);
    env_open(true);
    snprintf(body, sizeof body,
             "{\"status\":\"ready\",\"authorizations\":[\"" BASE "/authz/0\"],\"finalize\":\"" BASE
             "/finalize\"}");
    srv.ovr_path = "/order/1";
    srv.ovr_status = 200;
    srv.ovr_body = body;
    assert_int_equal(run(), PICOACME_OK);
    assert_null(srv.ovr_path);
    assert_int_equal(srv.finalizes, 1);
    srv_reset(true);
    srv.order_quiet_stuck = true;
    srv.ovr_path = "/finalize";
    srv.ovr_status = 200;
    srv.ovr_extra = "Retry-After: 2\r\n";
    srv.ovr_body = "{\"status\":\"processing\",\"authorizations\":[\"" BASE
                   "/authz/0\"],\"finalize\":\"" BASE "/finalize\"}";
    srv.order_status = "ready";
    assert_int_equal(run(), PICOACME_ERR_TIMEOUT);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "PICOACME_POLL_MAX polls"));
    assert_no_violation();
    env_close();
}

/* The challenge's own crypto failing: the key authorization's hash, the
 * tls-alpn-01 key and certificate, the DNS message id. */
static void test_challenge_crypto_failures(void **state)
{
    picoacme_dns01_config_t dns;
    (void)state;
    srv_reset(false);
    env_open(true);
    alpn_env(ALPN_PORT);
    fault_env();
    g_fault.keyauth_hash = 1;
    assert_int_equal(run(), PICOACME_ERR_CRYPTO);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "hashing the key authorization"));
    fault_set(&g_fault.gen, PICOACME_KEY_CHALLENGE, PICOACME_ST_AUTHZ);
    assert_int_equal(run(), PICOACME_ERR_CRYPTO);
    assert_non_null(strstr(picoacme_last_problem(&g_ctx)->detail, "tls-alpn-01 key generation"));
    fault_set(&g_fault.sign, PICOACME_KEY_CHALLENGE, PICOACME_ST_AUTHZ);
    assert_int_equal(run(), PICOACME_ERR_CRYPTO);
    assert_non_null(
        strstr(picoacme_last_problem(&g_ctx)->detail, "tls-alpn-01 certificate failed"));
    assert_int_equal(g_ctx.alpn.cert_len, 0);
    assert_false(srv.chall_posted);
    assert_int_equal(srv.alpn_opens, 0);
    /* dns-01: no random id for the message */
    ds_env(&dns, "test");
    fault_clear();
    g_fault.random_in = PICOACME_ST_DNS_PUBLISH;
    assert_int_equal(run(), PICOACME_ERR_CRYPTO);
    assert_string_equal(picoacme_last_problem(&g_ctx)->detail, "random");
    assert_int_equal(g_ds.sends, 0);
    assert_no_violation();
    assert_nothing_stored();
    env_close();
}

/* The fake primary over TCP: a whole length-prefixed message in, the
 * answer ds_send() would give out, behind its length. */
static void dns_tcp_serve(conn_t *c)
{
    size_t len;
    uint8_t pre[2];
    if (c->in_len < 2)
        return;
    len = ((size_t)c->in[0] << 8) | c->in[1];
    if (c->in_len < 2 + len)
        return;
    assert_int_equal(ds_send(NULL, DNS_SOCK, "127.0.0.1", 5300, c->in + 2, len), PICOACME_OK);
    c->in_len = 0;
    if (g_ds.answer_len == 0)
        return; /* silent */
    if (g_ds.tcp_wrong_id > 0) {
        g_ds.tcp_wrong_id--;
        g_ds.answer[0] ^= 0x5a;
    }
    pre[0] = (uint8_t)(g_ds.answer_len >> 8);
    pre[1] = (uint8_t)g_ds.answer_len;
    if (g_ds.tcp_too_long > 0) {
        g_ds.tcp_too_long--;
        pre[0] = pre[1] = 0xff;
    }
    out_put(c, pre, 2);
    out_put(c, g_ds.answer, g_ds.answer_len);
    g_ds.answer_len = 0;
}

/* dns-01 over TCP (RFC 7766): the primary's name resolving, a reset
 * connection, an answer of another id, one longer than the buffer, and
 * silence: each try on a new connection, three at most. */
static void test_dns01_tcp_failures(void **state)
{
    picoacme_dns01_config_t dns;
    (void)state;
    srv_reset(false);
    env_open(true);
    ds_env(&dns, "test");
    dns.tcp = true;
    g_dns_tcp = dns_tcp_serve;
    g_ds.rcode = PICOACME_DNS_RCODE_REFUSED;
    g_dns_tcp_again = 2;
    ds_expect(PICOACME_ERR_DNS, "refused the update: REFUSED");
    assert_int_equal(g_dns_tcp_again, 0);
    assert_int_equal(g_ds.sends, 1);
    /* reset, then an answer of another id: both tried again */
    g_ds.sends = 0;
    g_dns_tcp_reset = 1;
    srv.send_reset = true;
    g_ds.tcp_wrong_id = 1;
    ds_expect(PICOACME_ERR_DNS, "refused the update: REFUSED");
    assert_int_equal(g_ds.sends, 2); /* the reset one never reached it */
    srv.send_reset = false;
    /* an answer longer than the receive buffer: tried again */
    g_ds.sends = 0;
    g_ds.tcp_too_long = 1;
    ds_expect(PICOACME_ERR_DNS, "refused the update: REFUSED");
    assert_int_equal(g_ds.sends, 2);
    /* silence: three tries for the add, three for the delete */
    g_ds.sends = 0;
    g_ds.silent = true;
    ds_expect(PICOACME_ERR_DNS, "did not answer");
    assert_int_equal(g_ds.sends, 6);
    for (int i = 0; i < NCONN; i++)
        assert_false(g_conn[i].used); /* every connection closed */
    assert_no_violation();
    env_close();
}

/* ---- External Account Binding (eab.c) -------------------------------------------- */

static const uint8_t g_eab_key[32] = "eab-hmac-key-eab-hmac-key-eab-h";
static unsigned g_eab_ok;

/* The CA's check of RFC 8555 §7.3.4: a JWS over the account's JWK, HS256
 * with the key it handed out, kid and url in its protected header. */
static void eab_check(const char *pay, const char *jwk)
{
    const char *eab = strstr(pay, "\"externalAccountBinding\":{");
    const char *p64 = NULL, *y64 = NULL, *s64 = NULL;
    long pl, yl, sl, n;
    char prot[512], inner[256];
    uint8_t sig[64], mac[32];
    picoacme_iov_t iov[3];
    if (eab == NULL) {
        violation("newAccount without externalAccountBinding");
        return;
    }
    pl = jstr(eab, "protected", &p64);
    yl = jstr(eab, "payload", &y64);
    sl = jstr(eab, "signature", &s64);
    assert_true(pl > 0 && yl > 0 && sl > 0);
    n = b64u_dec(p64, (size_t)pl, (uint8_t *)prot, sizeof prot - 1U);
    assert_true(n > 0);
    prot[n] = '\0';
    if (strcmp(prot, "{\"alg\":\"HS256\",\"kid\":\"kid-1\",\"url\":\"" BASE "/acct\"}") != 0)
        violation("EAB protected header");
    n = b64u_dec(y64, (size_t)yl, (uint8_t *)inner, sizeof inner - 1U);
    assert_true(n > 0);
    inner[n] = '\0';
    if (strcmp(inner, jwk) != 0)
        violation("EAB payload is not the account JWK");
    iov[0].ptr = (const uint8_t *)p64;
    iov[0].len = (size_t)pl;
    iov[1].ptr = (const uint8_t *)".";
    iov[1].len = 1;
    iov[2].ptr = (const uint8_t *)y64;
    iov[2].len = (size_t)yl;
    assert_int_equal(g_crypto.hmac_sha256(g_crypto.user, g_eab_key, sizeof g_eab_key, iov, 3, mac),
                     PICOACME_OK);
    if (b64u_dec(s64, (size_t)sl, sig, sizeof sig) != 32 || memcmp(sig, mac, 32) != 0)
        violation("EAB MAC does not verify");
    else
        g_eab_ok++;
}

/* A CA that requires EAB: the binding is sent, and verifies. */
static void test_eab(void **state)
{
    (void)state;
    srv_reset(false);
    env_open(true);
    g_eab_check = eab_check;
    g_eab_ok = 0;
    srv.dir_body = "{\"newNonce\":\"" BASE "/nonce\",\"newAccount\":\"" BASE
                   "/acct\",\"newOrder\":\"" BASE "/order\",\"meta\":{"
                   "\"externalAccountRequired\":true}}";
    g_cfg.eab_kid = "kid-1";
    g_cfg.eab_key = g_eab_key;
    g_cfg.eab_key_len = sizeof g_eab_key;
    assert_int_equal(run(), PICOACME_OK);
    assert_no_violation();
    assert_int_equal(g_eab_ok, 1);
    assert_int_equal(srv.acct_posts, 1);
    /* a kid of control characters, each written as \u00XX: the binding's
     * protected header overflows, said so, nothing sent */
    {
        static char kid[101];
        memset(kid, 1, 100);
        env_close();
        srv_reset(false);
        env_open(true);
        g_eab_check = eab_check;
        srv.dir_body = "{\"newNonce\":\"" BASE "/nonce\",\"newAccount\":\"" BASE
                       "/acct\",\"newOrder\":\"" BASE "/order\"}";
        g_cfg.eab_kid = kid;
        g_cfg.eab_key = g_eab_key;
        g_cfg.eab_key_len = sizeof g_eab_key;
        assert_int_equal(run(), PICOACME_ERR_NOSPACE);
        assert_non_null(
            strstr(picoacme_last_problem(&g_ctx)->detail, "External Account Binding does not fit"));
        assert_int_equal(srv.acct_posts, 0);
    }
    env_close();
}

int main(void)
{
    /* ENGINE_TEST=<glob> runs only the matching cases while debugging */
    if (getenv("ENGINE_TEST") != NULL)
        cmocka_set_test_filter(getenv("ENGINE_TEST"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_happy_path),
        cmocka_unit_test(test_account_reuse),
        cmocka_unit_test(test_store_power_cut),
        cmocka_unit_test(test_stored_long_chain),
        cmocka_unit_test(test_stream_long_chain),
        cmocka_unit_test(test_bad_nonce),
        cmocka_unit_test(test_rate_limited),
        cmocka_unit_test(test_rejected_identifier),
        cmocka_unit_test(test_authz_invalid),
        cmocka_unit_test(test_nonce_missing),
        cmocka_unit_test(test_bad_token),
        cmocka_unit_test(test_hostile_http),
        cmocka_unit_test(test_connection_close),
        cmocka_unit_test(test_connection_reset_at_send),
        cmocka_unit_test(test_order_not_ready),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_renew_at),
        cmocka_unit_test(test_ari_certid),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_ari_window),
        cmocka_unit_test(test_ari_certid_leading_zero),
        cmocka_unit_test(test_ari_hostile),
        cmocka_unit_test(test_ari_replaces),
        cmocka_unit_test(test_lifecycle_start),
        cmocka_unit_test(test_abort_dns01_then_ari),
        cmocka_unit_test(test_problem_escaped),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_io_retry),
        cmocka_unit_test(test_nonce_too_long),
        cmocka_unit_test(test_connect_resolving),
        cmocka_unit_test(test_transport_failures),
        cmocka_unit_test(test_abort_uninitialised),
        cmocka_unit_test(test_record_find),
        cmocka_unit_test(test_key_refs),
        cmocka_unit_test(test_contract_trap),
        cmocka_unit_test(test_dns01_propagation),
        cmocka_unit_test(test_request_counts),
        cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_tlsalpn01_responder),
        cmocka_unit_test(test_tlsalpn01_cannot_serve),
        cmocka_unit_test(test_tlsalpn01_adopt),
        cmocka_unit_test(test_challenge_settings),
        cmocka_unit_test(test_dns01_server_failures),
        cmocka_unit_test(test_dns01_hook_failures),
        cmocka_unit_test(test_lifecycle_failures),
        cmocka_unit_test(test_request_failures),
        cmocka_unit_test(test_hostile_answers),
        cmocka_unit_test(test_hostile_directory),
        cmocka_unit_test(test_order_polls),
        cmocka_unit_test(test_challenge_crypto_failures),
        cmocka_unit_test(test_dns01_tcp_failures),
        cmocka_unit_test(test_eab),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
