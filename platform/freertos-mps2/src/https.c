/*
 * https.c - the HTTPS status server of the FreeRTOS sample (FW_HTTPS).
 *
 * One task: blocking lwip_accept() on :443, then a wolfSSL server session
 * over the non-blocking socket (every wolfSSL call under fw_wolf_lock; on
 * WANT_READ/WRITE the lock is released and the task waits in lwip_poll()),
 * one request read, a plain-text page with the certificate's not-after and
 * the chain PEM written, close. The credential (chain + private scalar) is
 * handed over by the keeper task (fw_https_set_cert); when its generation
 * changes the server builds a new WOLFSSL_CTX before the next connection.
 */
#include <stdio.h>
#include <string.h>

#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"

#include "lwip/sockets.h"

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include "fw_https.h"
#include "picoacme_config_defaults.h"

/* ~1.5x the measured mark (2684 B: the TLS 1.3 server handshake, ECDHE
 * and the ECDSA signature) */
#define HTTPS_STACK_WORDS 1024U
#define HTTPS_PRIO        1
#define IO_TIMEOUT_MS     5000

SemaphoreHandle_t fw_wolf_lock;
static StaticSemaphore_t lock_buf;
static StaticTask_t https_tcb;
static StackType_t https_stack[HTTPS_STACK_WORDS];
static TaskHandle_t https_handle;
static uint16_t https_port;
static void *wolf_heap;

/* the credential handed over by the keeper task (under cred_lock) */
static SemaphoreHandle_t cred_lock;
static StaticSemaphore_t cred_lock_buf;
static char cred_pem[PICOACME_CERT_MAX];
static size_t cred_len;
static uint8_t cred_priv[32];
static uint32_t cred_not_after;
static uint32_t cred_gen;

/* what the server uses (only the server task touches these) */
static WOLFSSL_CTX *srv_ctx;
static uint32_t srv_gen;
static char srv_pem[PICOACME_CERT_MAX];
static size_t srv_len;
static uint32_t srv_not_after;
static uint32_t served;

void fw_https_set_cert(const char *chain_pem, size_t len, const uint8_t priv[32],
                       uint32_t not_after)
{
    if (len > sizeof cred_pem) {
        return;
    }
    xSemaphoreTake(cred_lock, portMAX_DELAY);
    memcpy(cred_pem, chain_pem, len);
    cred_len = len;
    memcpy(cred_priv, priv, 32);
    cred_not_after = not_after;
    cred_gen++;
    xSemaphoreGive(cred_lock);
}

/* Under fw_wolf_lock: a server context for the credential. */
static WOLFSSL_CTX *ctx_for(const char *pem, size_t len, const uint8_t priv[32])
{
    WOLFSSL_CTX *ctx = wolfSSL_CTX_new_ex(wolfSSLv23_server_method_ex(wolf_heap), wolf_heap);
    ecc_key key;
    uint8_t der[160];
    int n = -1;
    int n2;

    if (ctx == NULL) {
        printf("fw: https: no server context (pool)\n");
        return NULL;
    }
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
    if (wc_ecc_init_ex(&key, wolf_heap, INVALID_DEVID) == 0) {
        if (wc_ecc_import_private_key_ex(priv, 32, NULL, 0, &key, ECC_SECP256R1) == 0 &&
            wc_ecc_make_pub(&key, NULL) == 0) {
            n = wc_EccKeyToDer(&key, der, (word32)sizeof der);
        }
        wc_ecc_free(&key);
    }
    if (n <= 0) {
        printf("fw: https: the key does not load (%d)\n", n);
    } else if ((n2 = wolfSSL_CTX_use_certificate_chain_buffer_format(
                    ctx, (const unsigned char *)pem, (long)len, WOLFSSL_FILETYPE_PEM)) !=
               WOLFSSL_SUCCESS) {
        printf("fw: https: the chain does not load (%d)\n", n2);
        n = -1;
    } else if ((n2 = wolfSSL_CTX_use_PrivateKey_buffer(ctx, der, n, WOLFSSL_FILETYPE_ASN1)) !=
               WOLFSSL_SUCCESS) {
        printf("fw: https: the key is refused (%d)\n", n2);
        n = -1;
    }
    if (n <= 0) {
        wolfSSL_CTX_free(ctx);
        ctx = NULL;
    }
    memset(der, 0, sizeof der);
    return ctx;
}

/* Take a new credential when there is one. */
static void refresh(void)
{
    uint8_t priv[32];
    uint32_t gen;

    xSemaphoreTake(cred_lock, portMAX_DELAY);
    gen = cred_gen;
    if (gen != srv_gen) {
        memcpy(srv_pem, cred_pem, cred_len);
        srv_len = cred_len;
        srv_not_after = cred_not_after;
        memcpy(priv, cred_priv, sizeof priv);
    }
    xSemaphoreGive(cred_lock);
    if (gen == srv_gen) {
        return;
    }
    xSemaphoreTake(fw_wolf_lock, portMAX_DELAY);
    if (srv_ctx != NULL) {
        wolfSSL_CTX_free(srv_ctx);
    }
    srv_ctx = ctx_for(srv_pem, srv_len, priv);
    xSemaphoreGive(fw_wolf_lock);
    memset(priv, 0, sizeof priv);
    srv_gen = gen;
    printf("fw: https: serving certificate generation %lu%s\n", (unsigned long)gen,
           srv_ctx == NULL ? " FAILED" : "");
}

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    int fd = *(int *)ctx;
    int n = lwip_recv(fd, buf, (size_t)sz, 0);
    (void)ssl;
    if (n > 0) {
        return n;
    }
    if (n == 0) {
        return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    }
    return errno == EWOULDBLOCK || errno == EAGAIN ? WOLFSSL_CBIO_ERR_WANT_READ
                                                   : WOLFSSL_CBIO_ERR_GENERAL;
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    int fd = *(int *)ctx;
    int n = lwip_send(fd, buf, (size_t)sz, 0);
    (void)ssl;
    if (n >= 0) {
        return n;
    }
    return errno == EWOULDBLOCK || errno == EAGAIN ? WOLFSSL_CBIO_ERR_WANT_WRITE
                                                   : WOLFSSL_CBIO_ERR_GENERAL;
}

/* One wolfSSL operation until done: op() under the lock; on WANT_*
 * wait in lwip_poll(). Returns op's result (> 0 or success) or <= 0. */
typedef int (*ssl_op_t)(WOLFSSL *ssl, void *arg);

static int run_op(WOLFSSL *ssl, int fd, ssl_op_t op, void *arg)
{
    for (int tries = 0; tries < 100; tries++) {
        struct pollfd p = {.fd = fd, .events = 0, .revents = 0};
        int ret;
        int err;
        xSemaphoreTake(fw_wolf_lock, portMAX_DELAY);
        ret = op(ssl, arg);
        err = ret > 0 ? 0 : wolfSSL_get_error(ssl, ret);
        xSemaphoreGive(fw_wolf_lock);
        if (ret > 0) {
            return ret;
        }
        if (err == WOLFSSL_ERROR_WANT_READ) {
            p.events = POLLIN;
        } else if (err == WOLFSSL_ERROR_WANT_WRITE) {
            p.events = POLLOUT;
        } else {
            return -1;
        }
        if (lwip_poll(&p, 1, IO_TIMEOUT_MS) <= 0) {
            return -1;
        }
    }
    return -1;
}

static int op_accept(WOLFSSL *ssl, void *arg)
{
    (void)arg;
    return wolfSSL_accept(ssl) == WOLFSSL_SUCCESS ? 1 : -1;
}

typedef struct rw {
    char *buf;
    int len;
} rw_t;

static int op_read(WOLFSSL *ssl, void *arg)
{
    rw_t *r = arg;
    return wolfSSL_read(ssl, r->buf, r->len);
}

static int op_write(WOLFSSL *ssl, void *arg)
{
    rw_t *r = arg;
    return wolfSSL_write(ssl, r->buf, r->len);
}

static void write_all(WOLFSSL *ssl, int fd, const char *p, size_t len)
{
    while (len > 0) {
        rw_t w = {(char *)(uintptr_t)p, len > 1024U ? 1024 : (int)len};
        int n = run_op(ssl, fd, op_write, &w);
        if (n <= 0) {
            return;
        }
        p += n;
        len -= (size_t)n;
    }
}

static void serve(int fd)
{
    static char req[512];
    static char head[256];
    WOLFSSL *ssl;
    rw_t r = {req, (int)sizeof req - 1};
    int one = 1;

    (void)lwip_ioctl(fd, FIONBIO, &one);
    xSemaphoreTake(fw_wolf_lock, portMAX_DELAY);
    ssl = wolfSSL_new(srv_ctx);
    if (ssl != NULL) {
        wolfSSL_SSLSetIORecv(ssl, io_recv);
        wolfSSL_SSLSetIOSend(ssl, io_send);
        wolfSSL_SetIOReadCtx(ssl, &fd);
        wolfSSL_SetIOWriteCtx(ssl, &fd);
    }
    xSemaphoreGive(fw_wolf_lock);
    if (ssl == NULL) {
        return;
    }
    if (run_op(ssl, fd, op_accept, NULL) > 0 && run_op(ssl, fd, op_read, &r) > 0) {
        int n =
            snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
                     "picoacme device status\nrequests served: %lu\n"
                     "certificate generation: %lu\nnot after: %lu\n\n",
                     (unsigned long)++served, (unsigned long)srv_gen, (unsigned long)srv_not_after);
        write_all(ssl, fd, head, (size_t)n);
        write_all(ssl, fd, srv_pem, srv_len);
        xSemaphoreTake(fw_wolf_lock, portMAX_DELAY);
        (void)wolfSSL_shutdown(ssl);
        xSemaphoreGive(fw_wolf_lock);
    }
    xSemaphoreTake(fw_wolf_lock, portMAX_DELAY);
    wolfSSL_free(ssl);
    xSemaphoreGive(fw_wolf_lock);
}

static void https_run(void *arg)
{
    struct sockaddr_in a;
    int ls = lwip_socket(AF_INET, SOCK_STREAM, 0);
    (void)arg;

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = lwip_htons(https_port);
    if (ls < 0 || lwip_bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || lwip_listen(ls, 2) != 0) {
        printf("fw: https: cannot listen on :%u (errno %d)\n", (unsigned)https_port, errno);
        vTaskSuspend(NULL);
    }
    for (;;) {
        int fd = lwip_accept(ls, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        refresh();
        if (srv_ctx != NULL) {
            serve(fd);
        }
        (void)lwip_close(fd);
    }
}

void fw_https_start(uint16_t port, void *heap)
{
    https_port = port;
    wolf_heap = heap;
    cred_lock = xSemaphoreCreateMutexStatic(&cred_lock_buf);
    https_handle = xTaskCreateStatic(https_run, "https", HTTPS_STACK_WORDS, NULL, HTTPS_PRIO,
                                     https_stack, &https_tcb);
}

void *fw_https_task(void)
{
    return https_handle;
}

uint32_t fw_https_stack_words(void)
{
    return HTTPS_STACK_WORDS;
}

/* created before any task runs (main) */
void fw_https_lock_init(void);
void fw_https_lock_init(void)
{
    fw_wolf_lock = xSemaphoreCreateMutexStatic(&lock_buf);
}
