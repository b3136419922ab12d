/*
 * fw_tls.c - picoacme_tls_t on wolfSSL for the qemu-mps2 firmware.
 *
 * wolfSSL reads and writes through the picoacme transport in custom I/O
 * callbacks; "would block" from the transport becomes WANT_READ/WRITE and
 * travels back to the superloop unchanged, so nothing here ever waits.
 */
#include "fw_tls.h"

#include <string.h>

#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

static char alpn_buf[32];

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    fw_tls_t *t = ctx;
    size_t got = 0;
    (void)ssl;
    if (sz <= 0) {
        return 0;
    }
    picoacme_err_t e = t->tp->recv(t->tp->user, t->sock, (uint8_t *)buf, (size_t)sz, &got);
    switch (e) {
    case PICOACME_OK:
        return (int)got;
    case PICOACME_WANT_READ:
    case PICOACME_WANT_WRITE:
        return WOLFSSL_CBIO_ERR_WANT_READ;
    case PICOACME_ERR_CLOSED:
        t->io_err = e;
        return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    default:
        t->io_err = e;
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    fw_tls_t *t = ctx;
    size_t sent = 0;
    (void)ssl;
    if (sz <= 0) {
        return 0;
    }
    picoacme_err_t e = t->tp->send(t->tp->user, t->sock, (const uint8_t *)buf, (size_t)sz, &sent);
    switch (e) {
    case PICOACME_OK:
        return (int)sent;
    case PICOACME_WANT_READ:
    case PICOACME_WANT_WRITE:
        return WOLFSSL_CBIO_ERR_WANT_WRITE;
    case PICOACME_ERR_CLOSED:
        t->io_err = e;
        return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    default:
        t->io_err = e;
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
}

static picoacme_err_t map_err(fw_tls_t *t, int ret)
{
    int err = wolfSSL_get_error(t->ssl, ret);
    t->last_err = err;
    switch (err) {
    case WOLFSSL_ERROR_WANT_READ:
        return PICOACME_WANT_READ;
    case WOLFSSL_ERROR_WANT_WRITE:
        return PICOACME_WANT_WRITE;
    case WOLFSSL_ERROR_ZERO_RETURN:
        return PICOACME_ERR_CLOSED;
    case ASN_NO_SIGNER_E:
    case ASN_AFTER_DATE_E:
    case ASN_BEFORE_DATE_E:
    case ASN_SIG_CONFIRM_E:
    case DOMAIN_NAME_MISMATCH:
    case IPADDR_MISMATCH:
    case VERIFY_CERT_ERROR:
        return PICOACME_ERR_TLS_VERIFY;
    case SOCKET_PEER_CLOSED_E:
        return PICOACME_ERR_CLOSED;
    default:
        break;
    }
    if (t->io_err != PICOACME_OK) {
        return t->io_err;
    }
    return PICOACME_ERR_TLS;
}

static picoacme_err_t handshake(fw_tls_t *t)
{
    if (t->handshake_done) {
        return PICOACME_OK;
    }
    int ret = wolfSSL_connect(t->ssl);
    if (ret != WOLFSSL_SUCCESS) {
        return map_err(t, ret);
    }
    t->handshake_done = true;
    return PICOACME_OK;
}

static picoacme_err_t s_open(void *user, picoacme_sock_t sock, const char *host)
{
    fw_tls_t *t = user;
    if (t->ssl != NULL || host == NULL) {
        return PICOACME_ERR_STATE;
    }
    t->sock = sock;
    t->io_err = PICOACME_OK;
    t->last_err = 0;
    t->handshake_done = false;
    t->ssl = wolfSSL_new(t->ctx);
    if (t->ssl == NULL) {
        return PICOACME_ERR_NOSPACE;
    }
    wolfSSL_SetIOReadCtx(t->ssl, t);
    wolfSSL_SetIOWriteCtx(t->ssl, t);
    size_t hlen = strlen(host);
    if (hlen == 0 || hlen > 253u ||
        wolfSSL_UseSNI(t->ssl, WOLFSSL_SNI_HOST_NAME, host, (word16)hlen) != WOLFSSL_SUCCESS ||
        wolfSSL_check_domain_name(t->ssl, host) != WOLFSSL_SUCCESS) {
        wolfSSL_free(t->ssl);
        t->ssl = NULL;
        return PICOACME_ERR_TLS;
    }
    if (alpn_buf[0] != '\0' &&
        wolfSSL_UseALPN(t->ssl, alpn_buf, (word32)strlen(alpn_buf),
                        WOLFSSL_ALPN_CONTINUE_ON_MISMATCH) != WOLFSSL_SUCCESS) {
        wolfSSL_free(t->ssl);
        t->ssl = NULL;
        return PICOACME_ERR_TLS;
    }
    return PICOACME_OK;
}

static picoacme_err_t s_send(void *user, const uint8_t *buf, size_t len, size_t *sent)
{
    fw_tls_t *t = user;
    *sent = 0;
    if (t->ssl == NULL) {
        return PICOACME_ERR_STATE;
    }
    picoacme_err_t e = handshake(t);
    if (e != PICOACME_OK) {
        return e;
    }
    int n = len > 16384u ? 16384 : (int)len;
    int ret = wolfSSL_write(t->ssl, buf, n);
    if (ret <= 0) {
        return map_err(t, ret);
    }
    *sent = (size_t)ret;
    return PICOACME_OK;
}

static picoacme_err_t s_recv(void *user, uint8_t *buf, size_t len, size_t *received)
{
    fw_tls_t *t = user;
    *received = 0;
    if (t->ssl == NULL) {
        return PICOACME_ERR_STATE;
    }
    picoacme_err_t e = handshake(t);
    if (e != PICOACME_OK) {
        return e;
    }
    int n = len > 16384u ? 16384 : (int)len;
    int ret = wolfSSL_read(t->ssl, buf, n);
    if (ret <= 0) {
        return map_err(t, ret);
    }
    *received = (size_t)ret;
    return PICOACME_OK;
}

static void s_close(void *user)
{
    fw_tls_t *t = user;
    if (t->ssl != NULL) {
        if (t->handshake_done) {
            (void)wolfSSL_shutdown(t->ssl); /* best effort close_notify */
        }
        wolfSSL_free(t->ssl);
        t->ssl = NULL;
    }
    t->handshake_done = false;
}

picoacme_err_t fw_tls_init(fw_tls_t *t, const picoacme_transport_t *tp, void *heap,
                           const uint8_t *root_der, size_t root_len, const char *alpn,
                           picoacme_tls_t *out)
{
    memset(t, 0, sizeof *t);
    t->heap = heap;
    t->tp = tp;
    t->sock = PICOACME_SOCK_NONE;
    alpn_buf[0] = '\0';
    if (alpn != NULL) {
        size_t n = strlen(alpn);
        if (n >= sizeof alpn_buf) {
            return PICOACME_ERR_PARAM;
        }
        memcpy(alpn_buf, alpn, n + 1u);
    }
    if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
        return PICOACME_ERR_TLS;
    }
    t->ctx = wolfSSL_CTX_new_ex(wolfSSLv23_client_method_ex(heap), heap);
    if (t->ctx == NULL) {
        return PICOACME_ERR_NOSPACE;
    }
    if (wolfSSL_CTX_load_verify_buffer(t->ctx, root_der, (long)root_len,
                                       WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS) {
        fw_tls_free(t);
        return PICOACME_ERR_PARAM;
    }
    wolfSSL_CTX_set_verify(t->ctx, WOLFSSL_VERIFY_PEER, NULL);
    wolfSSL_CTX_SetIORecv(t->ctx, io_recv);
    wolfSSL_CTX_SetIOSend(t->ctx, io_send);
    out->user = t;
    out->open = s_open;
    out->send = s_send;
    out->recv = s_recv;
    out->close = s_close;
    return PICOACME_OK;
}

void fw_tls_free(fw_tls_t *t)
{
    s_close(t);
    if (t->ctx != NULL) {
        wolfSSL_CTX_free(t->ctx);
        t->ctx = NULL;
    }
}
