/*
 * test_dns.c - DNS query / RFC 2136 UPDATE with TSIG / answer parsers
 * (core/src/dns_name.c, dns_msg.c, dns_answer.c, tsig.c) and the POSIX UDP
 * transport (ports/posix/src/udp.c).
 *
 * Independent sources: a real BIND `named` started by the test on
 * 127.0.0.1 (it must accept our TSIG signature and apply our UPDATE; its
 * signed answers must verify with our code; `dig` must see the record),
 * the RFC 1035 §4.1 layout written out by hand for a query, and the openssl
 * CLI recomputing the request MAC over the RFC 8945 §4.3.3 input rebuilt
 * here. Hostile answers: every truncation, compression loops, forward and
 * out-of-range pointers, oversized counts and names.
 *
 * With PICOACME_DNS_SEED_DIR set, the answers captured from named are
 * written there (the seeds of tests/fuzz/corpus/fuzz_dns/).
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "picoacme_dns.h"
#include "picoacme_posix.h"
#include "picoacme_wolfssl.h"

#define ZONE  "example.internal"
#define OWNER "_acme-challenge.host.example.internal"
#define VALUE "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"

static picoacme_wolfssl_crypto_t g_wc;
static picoacme_crypto_t g_crypto;
static picoacme_transport_t g_tp;
static char g_dir[256];
static pid_t g_named = -1;
static unsigned g_port;

/* The TSIG secret named knows: 32 known bytes. */
static uint8_t g_secret[32];
static const picoacme_tsig_key_t *key_good(void)
{
    static picoacme_tsig_key_t k;
    k.name = "acme-key";
    k.secret = g_secret;
    k.secret_len = sizeof g_secret;
    return &k;
}

/* Answers captured from named, for the hostile-input test and the seeds. */
static uint8_t g_ans_update[512];
static size_t g_ans_update_len;
static uint16_t g_ans_update_id;
static uint8_t g_ans_txt[512];
static size_t g_ans_txt_len;
static uint16_t g_ans_txt_id;

/* ---- helpers ------------------------------------------------------------ */

static void b64_std(const uint8_t *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
        out[o++] = a[(v >> 18) & 63];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
        out[o++] = a[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = a[(v >> 18) & 63];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
        out[o++] = a[(v >> 18) & 63];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
}

static void write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Run cmd, return its stdout (trailing newlines kept) in out. */
static void run(const char *cmd, char *out, size_t cap)
{
    FILE *p = popen(cmd, "r");
    size_t n;
    assert_non_null(p);
    n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    (void)pclose(p);
}

static unsigned free_port(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    unsigned port;
    assert_true(u >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(u, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(u, (struct sockaddr *)&a, &al), 0);
    port = ntohs(a.sin_port);
    close(u);
    return port;
}

/* One request/answer over the POSIX UDP transport, 3 s at most. */
static size_t exchange(const uint8_t *req, size_t req_len, uint8_t *ans, size_t cap)
{
    picoacme_sock_t s;
    size_t got = 0;
    int tries;
    assert_int_equal(g_tp.udp_open(g_tp.user, &s), PICOACME_OK);
    assert_int_equal(g_tp.udp_send(g_tp.user, s, "127.0.0.1", (uint16_t)g_port, req, req_len),
                     PICOACME_OK);
    for (tries = 0; tries < 30; tries++) {
        struct pollfd pfd = {.fd = (int)s, .events = POLLIN, .revents = 0};
        picoacme_err_t e;
        (void)poll(&pfd, 1, 100);
        e = g_tp.udp_recv(g_tp.user, s, ans, cap, &got);
        if (e == PICOACME_OK) {
            break;
        }
        assert_int_equal(e, PICOACME_WANT_READ);
    }
    g_tp.close(g_tp.user, s);
    assert_true(got > 0);
    return got;
}

static void dig(const char *name, const char *type, char *out, size_t cap)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "dig @127.0.0.1 -p %u +short +time=2 +tries=1 %s %s 2>&1", g_port,
             name, type);
    run(cmd, out, cap);
}

/* ---- named ---------------------------------------------------------------- */

static int start_named(void)
{
    char path[512], conf[2048], sec64[64], out[512];
    int attempt, i;

    for (attempt = 0; attempt < 5; attempt++) {
        g_port = free_port();
        snprintf(path, sizeof path, "%s/named.conf", g_dir);
        b64_std(g_secret, sizeof g_secret, sec64);
        snprintf(conf, sizeof conf,
                 "options {\n directory \"%s\";\n pid-file \"%s/named.pid\";\n"
                 " session-keyfile \"%s/session.key\";\n managed-keys-directory \"%s\";\n"
                 " listen-on port %u { 127.0.0.1; };\n listen-on-v6 { none; };\n"
                 " recursion no;\n dnssec-validation no;\n notify no;\n};\n"
                 "controls { };\n"
                 "key \"acme-key\" { algorithm hmac-sha256; secret \"%s\"; };\n"
                 "zone \"" ZONE "\" { type primary; file \"%s/zone.db\";"
                 " allow-update { key \"acme-key\"; }; };\n",
                 g_dir, g_dir, g_dir, g_dir, g_port, sec64, g_dir);
        write_file(path, conf, strlen(conf));
        snprintf(path, sizeof path, "%s/zone.db", g_dir);
        {
            static const char zone[] =
                "$TTL 60\n@ IN SOA ns." ZONE ". admin." ZONE ". 1 60 60 600 60\n"
                "@ IN NS ns." ZONE ".\nns IN A 127.0.0.1\nhost IN A 127.0.0.1\n";
            write_file(path, zone, strlen(zone));
        }
        snprintf(path, sizeof path, "%s/zone.db.jnl", g_dir);
        (void)unlink(path);
        g_named = fork();
        if (g_named < 0) {
            return -1;
        }
        if (g_named == 0) {
            char c[512], l[512];
            snprintf(c, sizeof c, "%s/named.conf", g_dir);
            snprintf(l, sizeof l, "%s/named.log", g_dir);
            if (freopen(l, "w", stderr) == NULL || freopen("/dev/null", "w", stdout) == NULL) {
                _exit(126);
            }
            execlp("named", "named", "-g", "-n", "1", "-c", c, (char *)NULL);
            _exit(127);
        }
        for (i = 0; i < 50; i++) {
            int st;
            if (waitpid(g_named, &st, WNOHANG) == g_named) {
                g_named = -1;
                break; /* exited: port taken? try another */
            }
            dig(ZONE, "SOA", out, sizeof out);
            if (strstr(out, "ns." ZONE ".") != NULL) {
                return 0;
            }
            {
                struct timespec ts = {0, 100000000L};
                nanosleep(&ts, NULL);
            }
        }
        if (g_named > 0) {
            kill(g_named, SIGTERM);
            waitpid(g_named, NULL, 0);
            g_named = -1;
        }
    }
    return -1;
}

static int setup(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof g_secret; i++) {
        g_secret[i] = (uint8_t)(i * 7U + 3U);
    }
    if (picoacme_wolfssl_crypto_init(&g_wc, NULL, &g_crypto) != PICOACME_OK) {
        return -1;
    }
    picoacme_posix_transport(&g_tp);
    snprintf(g_dir, sizeof g_dir, "%s/dns_named", PICOACME_TEST_TMPDIR);
    (void)mkdir(g_dir, 0700);
    if (start_named() != 0) {
        fprintf(stderr, "named did not start (apt-get install bind9 bind9-dnsutils); see %s\n",
                g_dir);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_named > 0) {
        kill(g_named, SIGTERM);
        waitpid(g_named, NULL, 0);
        g_named = -1;
    }
    picoacme_wolfssl_crypto_free(&g_wc);
    return 0;
}

static void save_seed(const char *name, const uint8_t *buf, size_t len)
{
    const char *d = getenv("PICOACME_DNS_SEED_DIR");
    char path[512];
    if (d == NULL) {
        return;
    }
    snprintf(path, sizeof path, "%s/%s", d, name);
    write_file(path, buf, len);
}

/* ---- exact bytes ------------------------------------------------------------ */

static void test_query_bytes(void **state)
{
    /* RFC 1035 §4.1.1 header: ID 0xbeef, flags RD, QDCOUNT 1; §4.1.2 the
     * question: QNAME labels (lowercased), QTYPE TXT, QCLASS IN. */
    static const uint8_t expect[] = {
        0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 15,  '_',
        'a',  'c',  'm',  'e',  '-',  'c',  'h',  'a',  'l',  'l',  'e',  'n',  'g', 'e',
        4,    'h',  'o',  's',  't',  7,    'e',  'x',  'a',  'm',  'p',  'l',  'e', 8,
        'i',  'n',  't',  'e',  'r',  'n',  'a',  'l',  0,    0x00, 0x10, 0x00, 0x01};
    uint8_t out[300];
    size_t len = 0, cap;
    (void)state;

    assert_int_equal(picoacme_dns_query(out, sizeof out, &len, 0xbeef,
                                        "_acme-challenge.HOST.example.internal.", 16),
                     PICOACME_OK);
    assert_int_equal(len, sizeof expect);
    assert_memory_equal(out, expect, sizeof expect);
    assert_int_equal(picoacme_dns_query(out, sizeof out, &len, 0xbeef, OWNER, 16), PICOACME_OK);
    assert_memory_equal(out, expect, sizeof expect);
    for (cap = 0; cap < sizeof expect; cap++) {
        assert_int_equal(picoacme_dns_query(out, cap, &len, 0xbeef, OWNER, 16),
                         PICOACME_ERR_NOSPACE);
    }
    /* The root, and names that cannot be written. */
    assert_int_equal(picoacme_dns_query(out, sizeof out, &len, 1, ".", 6), PICOACME_OK);
    assert_int_equal(len, 12U + 1U + 4U);
    assert_int_equal(out[12], 0);
    {
        static const char *bad[] = {"a..b", ".a", "a.b..", "a\\.b", "a b", "..", "x.\x01"};
        size_t i;
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            assert_int_equal(picoacme_dns_query(out, sizeof out, &len, 1, bad[i], 16),
                             PICOACME_ERR_PARAM);
        }
    }
    {
        char name[400];
        /* 63-byte label fits, 64 does not. */
        memset(name, 'a', 64);
        name[63] = '\0';
        assert_int_equal(picoacme_dns_query(out, sizeof out, &len, 1, name, 16), PICOACME_OK);
        name[63] = 'a';
        name[64] = '\0';
        assert_int_equal(picoacme_dns_query(out, sizeof out, &len, 1, name, 16),
                         PICOACME_ERR_PARAM);
        /* 3 x 63 + 61 = wire 255 fits; 3 x 63 + 62 = 256 does not. */
        memset(name, 'b', sizeof name);
        name[63] = name[127] = name[191] = '.';
        name[192 + 61] = '\0';
        assert_int_equal(picoacme_dns_query(out, sizeof out, &len, 1, name, 16), PICOACME_OK);
        assert_int_equal(len, 12U + 255U + 4U);
        name[192 + 61] = 'b';
        name[192 + 62] = '\0';
        assert_int_equal(picoacme_dns_query(out, sizeof out, &len, 1, name, 16),
                         PICOACME_ERR_PARAM);
        name[192 + 61] = '.'; /* trailing dot: still 255 */
        assert_int_equal(picoacme_dns_query(out, sizeof out, &len, 1, name, 16), PICOACME_OK);
    }
}

/* The UPDATE laid out by hand (RFC 2136 §2, RFC 8945 §4.2) and the MAC
 * recomputed by openssl over the RFC 8945 §4.3.3 input built here. */
static void test_update_bytes(void **state)
{
    static const uint8_t zone[] = {7,   'e', 'x', 'a', 'm', 'p', 'l', 'e', 8,
                                   'i', 'n', 't', 'e', 'r', 'n', 'a', 'l', 0};
    static const uint8_t owner[] = {15,  '_', 'a', 'c', 'm', 'e', '-', 'c', 'h', 'a', 'l', 'l', 'e',
                                    'n', 'g', 'e', 4,   'h', 'o', 's', 't', 7,   'e', 'x', 'a', 'm',
                                    'p', 'l', 'e', 8,   'i', 'n', 't', 'e', 'r', 'n', 'a', 'l', 0};
    static const uint8_t keyn[] = {8, 'a', 'c', 'm', 'e', '-', 'k', 'e', 'y', 0};
    static const uint8_t alg[] = {11, 'h', 'm', 'a', 'c', '-', 's', 'h', 'a', '2', '5', '6', 0};
    const int64_t t = 0x0001234567ABLL;
    uint8_t exp[1024], out[1024], mac[32], macin[1024];
    size_t e = 0, len = 0, m = 0, i, msg_len, cap;
    char txt[600], cmd[512], hex[65], res[256];
    picoacme_tsig_key_t k = *key_good();
    (void)state;

    k.name = "ACME-Key."; /* canonical form is lowercase */
    /* 300 bytes of text: two character-strings, 255 + 45. */
    for (i = 0; i < 300; i++) {
        txt[i] = (char)('A' + i % 26);
    }
    txt[300] = '\0';
#define B(x) (exp[e++] = (uint8_t)(x))
    B(0x12);
    B(0x34);
    B(0x28);
    B(0x00); /* id, opcode UPDATE */
    B(0);
    B(1);
    B(0);
    B(0);
    B(0);
    B(1);
    B(0);
    B(1);
    memcpy(exp + e, zone, sizeof zone);
    e += sizeof zone;
    B(0);
    B(6);
    B(0);
    B(1);
    memcpy(exp + e, owner, sizeof owner);
    e += sizeof owner;
    B(0);
    B(16);
    B(0);
    B(1);
    B(0);
    B(0);
    B(0x0e);
    B(0x10); /* TXT IN 3600 */
    B(0x01);
    B(0x2e); /* rdlength 302 */
    B(255);
    memcpy(exp + e, txt, 255);
    e += 255;
    B(45);
    memcpy(exp + e, txt + 255, 45);
    e += 45;
    msg_len = e;
    memcpy(exp + e, keyn, sizeof keyn);
    e += sizeof keyn;
    B(0);
    B(250);
    B(0);
    B(255);
    B(0);
    B(0);
    B(0);
    B(0);
    B(0);
    B(sizeof alg + 16 + 32);
    memcpy(exp + e, alg, sizeof alg);
    e += sizeof alg;
    B(0x00);
    B(0x01);
    B(0x23);
    B(0x45);
    B(0x67);
    B(0xAB);
    B(0x01);
    B(0x2C);
    B(0);
    B(32);
    e += 32; /* MAC, checked below */
    B(0x12);
    B(0x34);
    B(0);
    B(0);
    B(0);
    B(0);
#undef B

    assert_int_equal(picoacme_dns_update(out, sizeof out, &len, 0x1234, "Example.Internal", OWNER,
                                         txt, 3600, true, &k, t, &g_crypto, mac),
                     PICOACME_OK);
    assert_int_equal(len, e);
    assert_memory_equal(out, exp, e - 38);
    assert_memory_equal(out + e - 38, mac, 32);
    assert_memory_equal(out + e - 6, exp + e - 6, 6);

    /* RFC 8945 §4.3.3: message with ARCOUNT 0, then the TSIG variables. */
    memcpy(macin, exp, msg_len);
    macin[11] = 0;
    m = msg_len;
    memcpy(macin + m, keyn, sizeof keyn);
    m += sizeof keyn;
    macin[m++] = 0;
    macin[m++] = 255; /* class ANY */
    memset(macin + m, 0, 4);
    m += 4; /* TTL */
    memcpy(macin + m, alg, sizeof alg);
    m += sizeof alg;
    memcpy(macin + m, "\x00\x01\x23\x45\x67\xAB\x01\x2C", 8);
    m += 8;
    memset(macin + m, 0, 4);
    m += 4; /* error, other len */
    write_file(PICOACME_TEST_TMPDIR "/dns_macin.bin", macin, m);
    for (i = 0; i < 32; i++) {
        sprintf(hex + 2 * i, "%02x", g_secret[i]);
    }
    snprintf(cmd, sizeof cmd,
             "openssl dgst -sha256 -mac HMAC -macopt hexkey:%s -r " PICOACME_TEST_TMPDIR
             "/dns_macin.bin",
             hex);
    run(cmd, res, sizeof res);
    for (i = 0; i < 32; i++) {
        sprintf(hex + 2 * i, "%02x", mac[i]);
    }
    assert_memory_equal(res, hex, 64);

    /* Delete: class NONE, TTL 0 (RFC 2136 §2.5.4); the rest is the same. */
    assert_int_equal(picoacme_dns_update(out, sizeof out, &len, 0x1234, ZONE, OWNER, "x", 3600,
                                         false, &k, t, &g_crypto, mac),
                     PICOACME_OK);
    {
        size_t o = 12 + sizeof zone + 4 + sizeof owner;
        static const uint8_t del[] = {0, 16, 0, 254, 0, 0, 0, 0, 0, 2, 1, 'x'};
        assert_memory_equal(out + o, del, sizeof del);
    }
    /* Every short buffer is NOSPACE; bad arguments are PARAM. */
    for (cap = 0; cap < len; cap++) {
        size_t l2 = 99;
        assert_int_equal(picoacme_dns_update(out, cap, &l2, 0x1234, ZONE, OWNER, "x", 3600, false,
                                             &k, t, &g_crypto, mac),
                         PICOACME_ERR_NOSPACE);
        assert_int_equal(l2, 0);
    }
    assert_int_equal(picoacme_dns_update(out, sizeof out, &len, 1, ZONE, OWNER, "x", 1, true, &k,
                                         -1, &g_crypto, mac),
                     PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_dns_update(out, sizeof out, &len, 1, ZONE, OWNER, "x", 1, true, &k,
                                         0x1000000000000LL, &g_crypto, mac),
                     PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_dns_update(out, sizeof out, &len, 1, "a..b", OWNER, "x", 1, true, &k,
                                         t, &g_crypto, mac),
                     PICOACME_ERR_PARAM);
    /* Empty text: one empty character-string. */
    assert_int_equal(picoacme_dns_update(out, sizeof out, &len, 1, ZONE, OWNER, "", 1, true, &k, t,
                                         &g_crypto, mac),
                     PICOACME_OK);
    {
        size_t o = 12 + sizeof zone + 4 + sizeof owner + 8;
        assert_int_equal(out[o], 0);
        assert_int_equal(out[o + 1], 1);
        assert_int_equal(out[o + 2], 0);
    }
}

/* ---- against named ---------------------------------------------------------- */

static uint8_t g_last_mac[32];

static picoacme_err_t send_update(bool add, const picoacme_tsig_key_t *k, const char *value,
                                  uint16_t id, uint8_t *rcode, uint8_t *ans, size_t *ans_len)
{
    uint8_t req[600];
    uint8_t *mac = g_last_mac;
    size_t len = 0;
    assert_int_equal(picoacme_dns_update(req, sizeof req, &len, id, ZONE, OWNER, value, 60, add, k,
                                         (int64_t)time(NULL), &g_crypto, mac),
                     PICOACME_OK);
    *ans_len = exchange(req, len, ans, 512);
    return picoacme_dns_update_answer(ans, *ans_len, id, key_good(), mac, &g_crypto, rcode);
}

static bool txt_lookup(uint16_t id, const char *value, bool save)
{
    uint8_t q[300], ans[512];
    size_t qlen = 0, alen;
    bool found = true;
    uint8_t rcode = 0xFF;
    assert_int_equal(picoacme_dns_query(q, sizeof q, &qlen, id, OWNER, PICOACME_DNS_TYPE_TXT),
                     PICOACME_OK);
    alen = exchange(q, qlen, ans, sizeof ans);
    assert_int_equal(picoacme_dns_txt_has(ans, alen, id, OWNER, value, &found, &rcode),
                     PICOACME_OK);
    /* A wrong id is not our answer. */
    assert_int_equal(
        picoacme_dns_txt_has(ans, alen, (uint16_t)(id + 1), OWNER, value, &found, &rcode),
        PICOACME_ERR_PROTOCOL);
    assert_false(found);
    assert_int_equal(picoacme_dns_txt_has(ans, alen, id, OWNER, value, &found, &rcode),
                     PICOACME_OK);
    if (save && found) {
        memcpy(g_ans_txt, ans, alen);
        g_ans_txt_len = alen;
        g_ans_txt_id = id;
        save_seed("txt_answer.bin", ans, alen);
    }
    return found;
}

static void test_named_update_cycle(void **state)
{
    uint8_t ans[512], rcode = 0xFF, mac[32], req[600], add_mac[32];
    size_t alen = 0, len = 0, i;
    char out[512];
    picoacme_err_t e;
    (void)state;

    dig(OWNER, "TXT", out, sizeof out);
    assert_string_equal(out, "");
    assert_false(txt_lookup(0x0101, VALUE, false));

    /* Add: named verifies our TSIG and applies the update; its signed
     * answer verifies with our code. */
    e = send_update(true, key_good(), VALUE, 0x4242, &rcode, ans, &alen);
    assert_int_equal(e, PICOACME_OK);
    assert_int_equal(rcode, PICOACME_DNS_RCODE_NOERROR);
    memcpy(add_mac, g_last_mac, 32);
    memcpy(g_ans_update, ans, alen);
    g_ans_update_len = alen;
    g_ans_update_id = 0x4242;
    save_seed("update_answer.bin", ans, alen);
    dig(OWNER, "TXT", out, sizeof out);
    assert_string_equal(out, "\"" VALUE "\"\n");
    assert_true(txt_lookup(0x0102, VALUE, true));
    assert_false(txt_lookup(0x0103, VALUE "x", false));
    assert_false(txt_lookup(0x0104, "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX", false));

    /* The answer verifies only against the request MAC, key and id it
     * belongs to, and not once any byte is changed. */
    assert_int_equal(
        picoacme_dns_update_answer(ans, alen, 0x4242, key_good(), add_mac, &g_crypto, &rcode),
        PICOACME_OK);
    assert_int_equal(picoacme_dns_update(req, sizeof req, &len, 0x4242, ZONE, OWNER, "other", 60,
                                         true, key_good(), (int64_t)time(NULL), &g_crypto, mac),
                     PICOACME_OK);
    assert_int_equal(
        picoacme_dns_update_answer(ans, alen, 0x4242, key_good(), mac, &g_crypto, &rcode),
        PICOACME_ERR_PROTOCOL); /* MAC of another request */
    assert_int_equal(
        picoacme_dns_update_answer(ans, alen, 0x4243, key_good(), mac, &g_crypto, &rcode),
        PICOACME_ERR_PROTOCOL);
    for (i = 0; i < alen; i++) {
        uint8_t t[512];
        memcpy(t, ans, alen);
        t[i] ^= 0x01;
        e = picoacme_dns_update_answer(t, alen, 0x4242, key_good(), add_mac, &g_crypto, &rcode);
        assert_true(e == PICOACME_ERR_PROTOCOL || e == PICOACME_ERR_PARSE);
    }

    /* Delete that one record (class NONE), then it is gone. */
    e = send_update(false, key_good(), VALUE, 0x4343, &rcode, ans, &alen);
    assert_int_equal(e, PICOACME_OK);
    assert_int_equal(rcode, PICOACME_DNS_RCODE_NOERROR);
    dig(OWNER, "TXT", out, sizeof out);
    assert_string_equal(out, "");
    assert_false(txt_lookup(0x0105, VALUE, false));

    /* A record of more than 255 bytes: two character-strings, joined. */
    {
        char big[400];
        memset(big, 'z', 300);
        big[300] = '\0';
        big[0] = 'A';
        big[299] = 'B';
        assert_int_equal(send_update(true, key_good(), big, 0x4444, &rcode, ans, &alen),
                         PICOACME_OK);
        assert_int_equal(rcode, 0);
        assert_true(txt_lookup(0x0106, big, false));
        big[299] = 'C';
        assert_false(txt_lookup(0x0107, big, false));
        big[299] = 'B';
        assert_int_equal(send_update(false, key_good(), big, 0x4445, &rcode, ans, &alen),
                         PICOACME_OK);
        assert_false(txt_lookup(0x0108, big, false));
    }
}

static void test_named_bad_key(void **state)
{
    uint8_t ans[512], rcode = 0xFF, secret[32];
    size_t alen = 0;
    picoacme_tsig_key_t k = *key_good();
    char out[512];
    (void)state;

    /* Wrong secret: named answers NOTAUTH with TSIG error BADSIG. */
    memcpy(secret, g_secret, sizeof secret);
    secret[5] ^= 0x80;
    k.secret = secret;
    assert_int_equal(send_update(true, &k, VALUE, 0x5151, &rcode, ans, &alen),
                     PICOACME_ERR_PROTOCOL);
    assert_int_equal(rcode, PICOACME_DNS_RCODE_NOTAUTH);
    assert_int_equal(ans[3] & 0x0F, PICOACME_DNS_RCODE_NOTAUTH);
    /* named's TSIG RR is last: ... error BADSIG (16), other len 0. */
    assert_int_equal(ans[alen - 4], 0);
    assert_int_equal(ans[alen - 3], 16);
    save_seed("badsig_answer.bin", ans, alen);

    /* Unknown key name: BADKEY. */
    k = *key_good();
    k.name = "other-key";
    assert_int_equal(send_update(true, &k, VALUE, 0x5252, &rcode, ans, &alen),
                     PICOACME_ERR_PROTOCOL);
    assert_int_equal(rcode, PICOACME_DNS_RCODE_NOTAUTH);
    assert_int_equal(ans[alen - 3], 17); /* BADKEY */

    dig(OWNER, "TXT", out, sizeof out);
    assert_string_equal(out, "");
}

/* RFC 8945 §5.2.3 on the answer: named's time signed (read from its TSIG
 * RR: time signed 48 bytes from the end, fudge 42) against our clock. */
static void test_named_answer_time(void **state)
{
    uint8_t req[600], ans[512], mac[32], rcode = 0xFF;
    size_t len = 0, alen;
    int64_t ts, fudge;
    const int64_t now = (int64_t)time(NULL);
    (void)state;

    assert_int_equal(picoacme_dns_update(req, sizeof req, &len, 0x6161, ZONE, OWNER, VALUE, 60,
                                         true, key_good(), now, &g_crypto, mac),
                     PICOACME_OK);
    alen = exchange(req, len, ans, sizeof ans);
    assert_int_equal(ans[alen - 3], 0); /* no TSIG error */
    ts = (int64_t)ans[alen - 48] << 40 | (int64_t)ans[alen - 47] << 32 |
         (int64_t)ans[alen - 46] << 24 | (int64_t)ans[alen - 45] << 16 |
         (int64_t)ans[alen - 44] << 8 | (int64_t)ans[alen - 43];
    fudge = (int64_t)ans[alen - 42] << 8 | ans[alen - 41];
    assert_int_equal(fudge, 300);
    assert_true(ts >= now - 5 && ts <= now + 5);
    assert_int_equal(
        picoacme_dns_update_answer_at(ans, alen, 0x6161, key_good(), mac, &g_crypto, ts, &rcode),
        PICOACME_OK);
    assert_int_equal(rcode, PICOACME_DNS_RCODE_NOERROR);
    assert_int_equal(picoacme_dns_update_answer_at(ans, alen, 0x6161, key_good(), mac, &g_crypto,
                                                   ts + fudge, &rcode),
                     PICOACME_OK);
    assert_int_equal(picoacme_dns_update_answer_at(ans, alen, 0x6161, key_good(), mac, &g_crypto,
                                                   ts - fudge, &rcode),
                     PICOACME_OK);
    assert_int_equal(picoacme_dns_update_answer_at(ans, alen, 0x6161, key_good(), mac, &g_crypto,
                                                   ts + fudge + 1, &rcode),
                     PICOACME_ERR_PROTOCOL);
    assert_int_equal(rcode, PICOACME_DNS_RCODE_NOTAUTH);
    rcode = 0xFF;
    assert_int_equal(picoacme_dns_update_answer_at(ans, alen, 0x6161, key_good(), mac, &g_crypto,
                                                   ts - fudge - 1, &rcode),
                     PICOACME_ERR_PROTOCOL);
    assert_int_equal(rcode, PICOACME_DNS_RCODE_NOTAUTH);
    /* Without a clock the time is not looked at; the clock's range. */
    assert_int_equal(
        picoacme_dns_update_answer(ans, alen, 0x6161, key_good(), mac, &g_crypto, &rcode),
        PICOACME_OK);
    assert_int_equal(
        picoacme_dns_update_answer_at(ans, alen, 0x6161, key_good(), mac, &g_crypto, -1, &rcode),
        PICOACME_ERR_PARAM);
    assert_int_equal(picoacme_dns_update_answer_at(ans, alen, 0x6161, key_good(), mac, &g_crypto,
                                                   0x1000000000000LL, &rcode),
                     PICOACME_ERR_PARAM);
    /* A MAC that does not verify stays a MAC failure at any time. */
    assert_int_equal(
        picoacme_dns_update_answer_at(ans, alen, 0x6162, key_good(), mac, &g_crypto, ts, &rcode),
        PICOACME_ERR_PROTOCOL);
    assert_int_equal(send_update(false, key_good(), VALUE, 0x6163, &rcode, ans, &alen),
                     PICOACME_OK);

    /* Our request signed 1000 s in the past: named refuses it with the
     * TSIG error BADTIME (18) and its own time as other data (6 bytes). */
    assert_int_equal(picoacme_dns_update(req, sizeof req, &len, 0x6164, ZONE, OWNER, VALUE, 60,
                                         true, key_good(), now - 1000, &g_crypto, mac),
                     PICOACME_OK);
    alen = exchange(req, len, ans, sizeof ans);
    assert_int_equal(ans[alen - 7], 6);  /* other len */
    assert_int_equal(ans[alen - 9], 18); /* BADTIME */
    assert_int_equal(
        picoacme_dns_update_answer_at(ans, alen, 0x6164, key_good(), mac, &g_crypto, now, &rcode),
        PICOACME_ERR_PROTOCOL);
    assert_int_equal(rcode, PICOACME_DNS_RCODE_NOTAUTH);
    assert_true(txt_lookup(0x6165, VALUE, false) == false);
}

static void test_named_soa(void **state)
{
    uint8_t q[300], ans[512];
    size_t qlen = 0, alen;
    char zone[64];
    (void)state;

    /* A name below the apex: NXDOMAIN with the SOA in the authority
     * section. */
    assert_int_equal(picoacme_dns_query(q, sizeof q, &qlen, 0x7777, OWNER, 6), PICOACME_OK);
    alen = exchange(q, qlen, ans, sizeof ans);
    save_seed("soa_answer.bin", ans, alen);
    assert_int_equal(picoacme_dns_soa_zone(ans, alen, 0x7777, zone, sizeof zone), PICOACME_OK);
    assert_string_equal(zone, ZONE);
    assert_int_equal(picoacme_dns_soa_zone(ans, alen, 0x7778, zone, sizeof zone),
                     PICOACME_ERR_PROTOCOL);
    assert_int_equal(picoacme_dns_soa_zone(ans, alen, 0x7777, zone, strlen(ZONE)),
                     PICOACME_ERR_NOSPACE);
    assert_int_equal(picoacme_dns_soa_zone(ans, alen, 0x7777, zone, strlen(ZONE) + 1), PICOACME_OK);
    assert_string_equal(zone, ZONE);
    /* The apex itself: the SOA in the answer section. */
    assert_int_equal(picoacme_dns_query(q, sizeof q, &qlen, 0x7779, "EXAMPLE.internal", 6),
                     PICOACME_OK);
    alen = exchange(q, qlen, ans, sizeof ans);
    assert_int_equal(ans[7], 1); /* ANCOUNT */
    assert_int_equal(picoacme_dns_soa_zone(ans, alen, 0x7779, zone, sizeof zone), PICOACME_OK);
    assert_string_equal(zone, ZONE);
    /* A TXT answer has no SOA. */
    assert_int_equal(picoacme_dns_query(q, sizeof q, &qlen, 0x777a, "host." ZONE, 1), PICOACME_OK);
    alen = exchange(q, qlen, ans, sizeof ans);
    assert_int_equal(picoacme_dns_soa_zone(ans, alen, 0x777a, zone, sizeof zone),
                     PICOACME_ERR_NOT_FOUND);
}

/* ---- hostile answers ------------------------------------------------------- */

static size_t hdr(uint8_t *m, uint16_t id, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
    m[0] = (uint8_t)(id >> 8);
    m[1] = (uint8_t)id;
    m[2] = 0x81;
    m[3] = 0x80;
    m[4] = (uint8_t)(qd >> 8);
    m[5] = (uint8_t)qd;
    m[6] = (uint8_t)(an >> 8);
    m[7] = (uint8_t)an;
    m[8] = (uint8_t)(ns >> 8);
    m[9] = (uint8_t)ns;
    m[10] = (uint8_t)(ar >> 8);
    m[11] = (uint8_t)ar;
    return 12;
}

/* A hand-made TXT answer: question OWNER, one TXT record, its owner a
 * pointer to the question name. */
static size_t txt_answer(uint8_t *m)
{
    size_t n = hdr(m, 0x1111, 1, 1, 0, 0), i;
    uint8_t q[300];
    size_t qlen = 0;
    assert_int_equal(picoacme_dns_query(q, sizeof q, &qlen, 0x1111, OWNER, 16), PICOACME_OK);
    memcpy(m + n, q + 12, qlen - 12);
    n += qlen - 12;
    m[n++] = 0xC0;
    m[n++] = 12;
    m[n++] = 0;
    m[n++] = 16;
    m[n++] = 0;
    m[n++] = 1;
    m[n++] = 0;
    m[n++] = 0;
    m[n++] = 0;
    m[n++] = 60;
    m[n++] = 0;
    m[n++] = (uint8_t)(1 + strlen(VALUE));
    m[n++] = (uint8_t)strlen(VALUE);
    for (i = 0; VALUE[i] != '\0'; i++) {
        m[n++] = (uint8_t)VALUE[i];
    }
    return n;
}

static void all_parsers(const uint8_t *m, size_t len, uint16_t id, picoacme_err_t expect)
{
    bool found = true;
    uint8_t rcode, mac[32] = {0};
    char zone[300];
    assert_int_equal(picoacme_dns_txt_has(m, len, id, OWNER, VALUE, &found, &rcode), expect);
    assert_false(found);
    assert_int_equal(picoacme_dns_soa_zone(m, len, id, zone, sizeof zone), expect);
    assert_int_equal(picoacme_dns_update_answer(m, len, id, key_good(), mac, &g_crypto, &rcode),
                     expect);
    assert_int_equal(
        picoacme_dns_update_answer_at(m, len, id, key_good(), mac, &g_crypto, 0, &rcode), expect);
}

static void test_hostile(void **state)
{
    uint8_t m[1200];
    size_t n, i;
    bool found = false;
    uint8_t rcode = 0xFF;
    char zone[300];
    (void)state;

    n = txt_answer(m);
    assert_int_equal(picoacme_dns_txt_has(m, n, 0x1111, "_ACME-challenge.host.example.internal",
                                          VALUE, &found, &rcode),
                     PICOACME_OK);
    assert_true(found);
    assert_int_equal(rcode, 0);
    assert_int_equal(picoacme_dns_soa_zone(m, n, 0x1111, zone, sizeof zone),
                     PICOACME_ERR_NOT_FOUND);
    /* Not a response (QR clear). */
    m[2] = 0x01;
    assert_int_equal(picoacme_dns_txt_has(m, n, 0x1111, OWNER, VALUE, &found, &rcode),
                     PICOACME_ERR_PROTOCOL);
    m[2] = 0x81;
    /* Truncated at every byte. */
    for (i = 0; i < n; i++) {
        all_parsers(m, i, 0x1111, PICOACME_ERR_PARSE);
    }
    /* ... and the answers captured from named. */
    assert_true(g_ans_update_len > 0 && g_ans_txt_len > 0);
    for (i = 0; i < g_ans_update_len; i++) {
        all_parsers(g_ans_update, i, g_ans_update_id, PICOACME_ERR_PARSE);
    }
    for (i = 0; i < g_ans_txt_len; i++) {
        all_parsers(g_ans_txt, i, g_ans_txt_id, PICOACME_ERR_PARSE);
    }
    /* Counts larger than the message. */
    for (i = 4; i < 12; i += 2) {
        uint8_t t[600];
        memcpy(t, m, n);
        t[i] = 0xFF;
        all_parsers(t, n, 0x1111, PICOACME_ERR_PARSE);
    }
    /* A pointer to itself, forward, out of range, into its own name. */
    {
        size_t at = 12 + 39 + 4; /* the answer's owner pointer */
        const uint16_t ptrs[] = {(uint16_t)at, (uint16_t)(at + 2), 0x3FFF, (uint16_t)n};
        assert_int_equal(m[at], 0xC0);
        for (i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++) {
            uint8_t t[600];
            memcpy(t, m, n);
            t[at] = (uint8_t)(0xC0 | (ptrs[i] >> 8));
            t[at + 1] = (uint8_t)ptrs[i];
            all_parsers(t, n, 0x1111, PICOACME_ERR_PARSE);
        }
    }
    /* A two-pointer loop: name A -> B -> A. */
    {
        uint8_t t[64];
        size_t k = hdr(t, 1, 1, 0, 0, 0);
        t[k++] = 1;
        t[k++] = 'a';
        t[k++] = 0xC0;
        t[k++] = 16; /* 12: "a" -> 16 */
        t[k++] = 1;
        t[k++] = 'b';
        t[k++] = 0xC0;
        t[k++] = 12; /* 16: "b" -> 12 */
        t[k++] = 0;
        t[k++] = 16;
        t[k++] = 0;
        t[k++] = 1;
        all_parsers(t, k, 1, PICOACME_ERR_PARSE);
    }
    /* Names over 255 bytes: plain labels, and built from backward
     * pointers (each name a 63-byte label then the previous name). */
    {
        size_t k = hdr(m, 2, 1, 0, 0, 0), j;
        for (j = 0; j < 4; j++) {
            m[k++] = 63;
            memset(m + k, 'x', 63);
            k += 63;
        }
        m[k++] = 0;
        m[k++] = 0;
        m[k++] = 16;
        m[k++] = 0;
        m[k++] = 1;
        all_parsers(m, k, 2, PICOACME_ERR_PARSE);

        k = hdr(m, 3, 5, 0, 0, 0);
        {
            size_t prev = 0;
            for (j = 0; j < 5; j++) {
                size_t here = k;
                m[k++] = 63;
                memset(m + k, 'y', 63);
                k += 63;
                if (j == 0) {
                    m[k++] = 0;
                } else {
                    m[k++] = (uint8_t)(0xC0 | (prev >> 8));
                    m[k++] = (uint8_t)prev;
                }
                m[k++] = 0;
                m[k++] = 6;
                m[k++] = 0;
                m[k++] = 1;
                prev = here;
            }
        }
        all_parsers(m, k, 3, PICOACME_ERR_PARSE);
        /* The same with 3 names (3 x 64 + 1 = 193 bytes) parses. */
        m[5] = 3;
        k = 12 + 3 * 68 + 2 * 2 + 1;
        assert_int_equal(picoacme_dns_soa_zone(m, k, 3, zone, sizeof zone), PICOACME_ERR_NOT_FOUND);
    }
    /* Extended label type 0x40, and a TXT string running past its rdata. */
    {
        uint8_t t[600];
        n = txt_answer(t);
        t[12] = 0x40 | 15;
        all_parsers(t, n, 0x1111, PICOACME_ERR_PARSE);
        n = txt_answer(t);
        t[n - strlen(VALUE) - 1] = (uint8_t)(strlen(VALUE) + 1);
        assert_int_equal(picoacme_dns_txt_has(t, n, 0x1111, OWNER, VALUE, &found, &rcode),
                         PICOACME_ERR_PARSE);
        /* Trailing garbage after a signed answer; a TSIG record not last. */
        memcpy(t, g_ans_update, g_ans_update_len);
        t[g_ans_update_len] = 0;
        assert_int_equal(picoacme_dns_update_answer(t, g_ans_update_len + 1, g_ans_update_id,
                                                    key_good(), (const uint8_t *)zone, &g_crypto,
                                                    &rcode),
                         PICOACME_ERR_PARSE);
    }
    /* SOA owner names as text: a label holding '.' is refused whatever
     * the buffer; the root is "". */
    {
        uint8_t t[64];
        size_t k = hdr(t, 4, 0, 0, 1, 0), rr;
        rr = k;
        t[k++] = 3;
        t[k++] = 'a';
        t[k++] = '.';
        t[k++] = 'b';
        t[k++] = 0;
        t[k++] = 0;
        t[k++] = 6;
        t[k++] = 0;
        t[k++] = 1;
        t[k++] = 0;
        t[k++] = 0;
        t[k++] = 0;
        t[k++] = 0;
        t[k++] = 0;
        t[k++] = 0;
        assert_int_equal(picoacme_dns_soa_zone(t, k, 4, zone, sizeof zone), PICOACME_ERR_PARSE);
        assert_int_equal(picoacme_dns_soa_zone(t, k, 4, zone, 1), PICOACME_ERR_PARSE);
        t[rr + 2] = 'x'; /* "a.b" -> "axb" */
        assert_int_equal(picoacme_dns_soa_zone(t, k, 4, zone, 3), PICOACME_ERR_NOSPACE);
        assert_int_equal(picoacme_dns_soa_zone(t, k, 4, zone, 4), PICOACME_OK);
        assert_string_equal(zone, "axb");
        t[rr] = 0; /* the root, then 4 bytes of garbage: rdlength 0 moved */
        memmove(t + rr + 1, t + rr + 5, k - rr - 5);
        k -= 4;
        assert_int_equal(picoacme_dns_soa_zone(t, k, 4, zone, 1), PICOACME_OK);
        assert_string_equal(zone, "");
    }
    /* An unsigned answer to an UPDATE is not trusted. */
    {
        uint8_t t[64];
        size_t k = hdr(t, 9, 0, 0, 0, 0);
        uint8_t mac[32] = {0};
        t[2] = 0xA8;
        t[3] = 0x00;
        assert_int_equal(picoacme_dns_update_answer(t, k, 9, key_good(), mac, &g_crypto, &rcode),
                         PICOACME_ERR_PROTOCOL);
        assert_int_equal(rcode, 0);
    }
}

/* ---- POSIX UDP transport --------------------------------------------------- */

static void udp_roundtrip(int family, const char *host)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int srv = socket(family, SOCK_DGRAM, 0);
    picoacme_sock_t s;
    uint8_t buf[64];
    size_t got = 0;
    unsigned port;
    ssize_t n;
    assert_true(srv >= 0);
    memset(&ss, 0, sizeof ss);
    ss.ss_family = (sa_family_t)family;
    if (family == AF_INET) {
        ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sl = sizeof(struct sockaddr_in);
    } else {
        ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
        sl = sizeof(struct sockaddr_in6);
    }
    if (bind(srv, (struct sockaddr *)&ss, sl) != 0) {
        close(srv);
        return; /* no such stack on this host */
    }
    assert_int_equal(getsockname(srv, (struct sockaddr *)&ss, &sl), 0);
    port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                   : ((struct sockaddr_in6 *)&ss)->sin6_port);
    assert_int_equal(g_tp.udp_open(g_tp.user, &s), PICOACME_OK);
    assert_int_equal(g_tp.udp_recv(g_tp.user, s, buf, sizeof buf, &got), PICOACME_WANT_READ);
    assert_int_equal(g_tp.udp_send(g_tp.user, s, host, (uint16_t)port, (const uint8_t *)"ping", 4),
                     PICOACME_OK);
    n = recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&ss, &sl);
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(sendto(srv, "pong!", 5, 0, (struct sockaddr *)&ss, sl), 5);
    {
        struct pollfd pfd = {.fd = (int)s, .events = POLLIN, .revents = 0};
        assert_int_equal(poll(&pfd, 1, 2000), 1);
    }
    /* Truncated to cap. */
    assert_int_equal(g_tp.udp_recv(g_tp.user, s, buf, 3, &got), PICOACME_OK);
    assert_int_equal(got, 3);
    assert_memory_equal(buf, "pon", 3);
    assert_int_equal(g_tp.udp_recv(g_tp.user, s, buf, sizeof buf, &got), PICOACME_WANT_READ);
    g_tp.close(g_tp.user, s);
    close(srv);
}

static void test_udp_port(void **state)
{
    picoacme_sock_t s;
    (void)state;
    udp_roundtrip(AF_INET, "127.0.0.1");
    udp_roundtrip(AF_INET6, "::1");
    assert_int_equal(g_tp.udp_open(g_tp.user, &s), PICOACME_OK);
    assert_int_equal(g_tp.udp_send(g_tp.user, s, "", 53, (const uint8_t *)"x", 1),
                     PICOACME_ERR_PARAM);
    assert_int_equal(g_tp.udp_send(g_tp.user, s, "127.0.0.1", 0, (const uint8_t *)"x", 1),
                     PICOACME_ERR_PARAM);
    g_tp.close(g_tp.user, s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_bytes),   cmocka_unit_test(test_update_bytes),
        cmocka_unit_test(test_udp_port),      cmocka_unit_test(test_named_update_cycle),
        cmocka_unit_test(test_named_bad_key), cmocka_unit_test(test_named_answer_time),
        cmocka_unit_test(test_named_soa),     cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
