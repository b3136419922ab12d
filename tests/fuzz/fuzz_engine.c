/*
 * fuzz_engine.c - the whole engine against a hostile CA: every HTTP answer
 * the engine reads comes from the fuzz input (answers separated by the
 * line "@@@@"), delivered in pieces whose sizes come from the input too.
 * Fake ports: deterministic crypto (the CA is fake, nothing is verified),
 * a RAM flash region, a clock that jumps to every deadline, a dns-01 hook.
 * The engine must end (success or a clean error) within a bounded number
 * of steps, never crash, never read or write out of bounds.
 */
#define _GNU_SOURCE /* memmem */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "picoacme.h"

#define FLASH_SIZE (16U * 1024U)

static const uint8_t *g_in;
static size_t g_len, g_pos; /* the current answer: g_in[g_pos, g_end) */
static size_t g_end;
static size_t g_next;    /* where the next answer starts */
static bool g_answering; /* a request arrived, its answer is readable */
static uint32_t g_now;
static uint8_t g_flash[FLASH_SIZE];
static picoacme_ctx_t g_ctx;

static void next_answer(void)
{
    static const char sep[] = "\n@@@@\n";
    const uint8_t *p;
    g_pos = g_next;
    if (g_pos >= g_len) {
        g_end = g_pos;
        return;
    }
    p = memmem(g_in + g_pos, g_len - g_pos, sep, sizeof sep - 1U);
    g_end = p != NULL ? (size_t)(p - g_in) : g_len;
    g_next = p != NULL ? g_end + sizeof sep - 1U : g_len;
}

static picoacme_err_t t_connect(void *u, const char *host, uint16_t port, picoacme_sock_t *s)
{
    (void)u, (void)host, (void)port;
    *s = 3;
    return PICOACME_OK;
}

static picoacme_err_t t_send(void *u, picoacme_sock_t s, const uint8_t *b, size_t n, size_t *sent)
{
    (void)u, (void)s, (void)b;
    if (!g_answering) {
        g_answering = true;
        next_answer();
    }
    *sent = n;
    return PICOACME_OK;
}

static picoacme_err_t t_recv(void *u, picoacme_sock_t s, uint8_t *b, size_t n, size_t *got)
{
    size_t k;
    (void)u, (void)s;
    if (!g_answering) {
        return PICOACME_WANT_READ;
    }
    if (g_pos >= g_end) {
        g_answering = false;
        return PICOACME_ERR_CLOSED;
    }
    /* piece size from the first byte of what is left, 1..64 */
    k = (size_t)(g_in[g_pos] & 63U) + 1U;
    if (k > g_end - g_pos) {
        k = g_end - g_pos;
    }
    if (k > n) {
        k = n;
    }
    memcpy(b, g_in + g_pos, k);
    g_pos += k;
    *got = k;
    if (g_pos >= g_end) {
        g_answering = false; /* the next request gets the next answer */
    }
    return PICOACME_OK;
}

static void t_close(void *u, picoacme_sock_t s)
{
    (void)u, (void)s;
}

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

static picoacme_err_t c_hmac(void *u, const uint8_t *k, size_t kl, const picoacme_iov_t *iov,
                             size_t cnt, uint8_t out[32])
{
    (void)k, (void)kl;
    return c_hash(u, iov, cnt, out);
}

static picoacme_err_t c_gen(void *u, picoacme_key_slot_t s)
{
    (void)u, (void)s;
    return PICOACME_OK;
}

static picoacme_err_t c_pub(void *u, picoacme_key_slot_t s, uint8_t pub[64])
{
    (void)u;
    memset(pub, 0x11 + (int)s, 64);
    return PICOACME_OK;
}

static picoacme_err_t c_sign(void *u, picoacme_key_slot_t s, const uint8_t d[32], uint8_t sig[64])
{
    (void)u, (void)s;
    memcpy(sig, d, 32);
    memcpy(sig + 32, d, 32);
    return PICOACME_OK;
}

static picoacme_err_t c_export(void *u, picoacme_key_slot_t s, uint8_t priv[32])
{
    (void)u;
    memset(priv, 0x21 + (int)s, 32);
    return PICOACME_OK;
}

static picoacme_err_t c_import(void *u, picoacme_key_slot_t s, const uint8_t priv[32])
{
    (void)u, (void)s, (void)priv;
    return PICOACME_OK;
}

static picoacme_err_t f_read(void *u, size_t off, uint8_t *b, size_t n)
{
    (void)u;
    if (off > FLASH_SIZE || n > FLASH_SIZE - off) {
        return PICOACME_ERR_STORAGE;
    }
    memcpy(b, g_flash + off, n);
    return PICOACME_OK;
}

static picoacme_err_t f_write(void *u, size_t off, const uint8_t *b, size_t n)
{
    (void)u;
    if (off > FLASH_SIZE || n > FLASH_SIZE - off) {
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
    if (off > FLASH_SIZE || n > FLASH_SIZE - off) {
        return PICOACME_ERR_STORAGE;
    }
    memset(g_flash + off, 0xff, n);
    return PICOACME_OK;
}

static int64_t k_wall(void *u)
{
    (void)u;
    return 1800000000;
}

static uint32_t k_mono(void *u)
{
    (void)u;
    return g_now;
}

static picoacme_err_t d_txt(void *u, const char *fqdn, const char *value, bool add)
{
    (void)u, (void)fqdn, (void)value, (void)add;
    return PICOACME_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const picoacme_transport_t tp = {NULL, t_connect, t_send, t_recv, t_close,
                                            NULL, NULL,      NULL,   NULL,   NULL};
    static const picoacme_crypto_t cr = {NULL,  c_random, c_hash,   c_hmac,  c_gen,
                                         c_pub, c_sign,   c_export, c_import};
    static const picoacme_storage_t st = {NULL, FLASH_SIZE, 4096U, f_read, f_write, f_erase};
    static const picoacme_clock_t ck = {NULL, k_wall, k_mono};
    static const picoacme_dns_hook_t hook = {NULL, d_txt};
    static const picoacme_ident_t ids[2] = {{PICOACME_ID_DNS, "device.example"},
                                            {PICOACME_ID_IP, "192.0.2.7"}};
    static const uint8_t eab_key[4] = {1, 2, 3, 4};
    picoacme_dns01_config_t dns;
    picoacme_config_t cfg;
    picoacme_ports_t ports;
    picoacme_stored_info_t info;

    g_in = data;
    g_len = size;
    g_pos = g_end = g_next = 0;
    g_answering = false;
    g_now = 0xFFFFF000U; /* crosses the 32-bit wrap */
    memset(g_flash, 0xff, sizeof g_flash);

    memset(&dns, 0, sizeof dns);
    dns.hook = &hook;
    memset(&cfg, 0, sizeof cfg);
    cfg.directory_url = "http://ca.example/dir";
    cfg.ids = ids;
    cfg.n_ids = 2;
    cfg.challenges[0] = PICOACME_CHALL_DNS01;
    cfg.challenges[1] = PICOACME_CHALL_TLSALPN01;
    cfg.challenges[2] = PICOACME_CHALL_HTTP01;
    cfg.n_challenges = 3;
    cfg.dns01 = &dns;
    cfg.eab_kid = "kid";
    cfg.eab_key = eab_key;
    cfg.eab_key_len = sizeof eab_key;
    memset(&ports, 0, sizeof ports);
    ports.transport = &tp;
    ports.crypto = &cr;
    ports.storage = &st;
    ports.clock = &ck;
    if (picoacme_init(&g_ctx, &cfg, &ports) != PICOACME_OK ||
        picoacme_issue_start(&g_ctx) != PICOACME_OK) {
        __builtin_trap(); /* a valid configuration must start */
    }
    for (unsigned i = 0; i < 4000U; i++) {
        picoacme_wait_t w;
        picoacme_err_t e = picoacme_step(&g_ctx, &w);
        if (!picoacme_err_is_pending(e)) {
            break;
        }
        /* time jumps to the next deadline (or 1 s) */
        g_now += w.timeout_ms == UINT32_MAX
                     ? 1000U
                     : (w.timeout_ms > 100000U ? 100000U : w.timeout_ms) + 1U;
    }
    if (getenv("FUZZ_ENGINE_TRACE") != NULL) {
        const picoacme_problem_t *p = picoacme_last_problem(&g_ctx);
        fprintf(stderr, "end: state %s, err %s, step %s, http %u, type %s, %u requests\n",
                picoacme_state_str(picoacme_state(&g_ctx)), picoacme_err_str(p->err),
                picoacme_state_str(p->state), (unsigned)p->http_status, p->type,
                (unsigned)picoacme_stats(&g_ctx)->requests);
    }
    picoacme_abort(&g_ctx); /* the store is read between runs only */
    (void)picoacme_stored(&g_ctx, &info);
    return 0;
}
