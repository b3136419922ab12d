/*
 * tls.c - the TLS client port: a wolfSSL session over a picoacme transport
 * socket, through wolfSSL's custom I/O callbacks, never blocking.
 *
 * Trust is exactly the roots handed to picoacme_wolfssl_tls_init() (the
 * ACME CA's anchors); the system store is never loaded. TLS 1.2 is the
 * minimum, the peer is always verified and its certificate is checked
 * against the host name or IP address given to open(). SNI is sent for
 * names only (RFC 6066 §3 forbids literal IP addresses in SNI).
 */
#include "picoacme_wolfssl.h"

#include <limits.h>
#include <string.h>

#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

static picoacme_wolfssl_tls_t *tls_of(void *user)
{
    return (picoacme_wolfssl_tls_t *)user;
}

/* ---- I/O callbacks: wolfSSL <-> picoacme transport -------------------- */

static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    picoacme_wolfssl_tls_t *t = tls_of(ctx);
    size_t got = 0;
    picoacme_err_t e;

    (void)ssl;
    if (t == NULL || t->tp == NULL || sz <= 0) {
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
    e = t->tp->recv(t->tp->user, t->sock, (uint8_t *)buf, (size_t)sz, &got);
    switch (e) {
    case PICOACME_OK:
        if (got == 0U || got > (size_t)sz) {
            t->io_err = PICOACME_ERR_IO;
            return WOLFSSL_CBIO_ERR_GENERAL;
        }
        return (int)got;
    case PICOACME_WANT_READ:
    case PICOACME_WANT_WRITE: /* connect still pending */
        t->io_err = e;
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
    picoacme_wolfssl_tls_t *t = tls_of(ctx);
    size_t sent = 0;
    picoacme_err_t e;

    (void)ssl;
    if (t == NULL || t->tp == NULL || sz <= 0) {
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
    e = t->tp->send(t->tp->user, t->sock, (const uint8_t *)buf, (size_t)sz, &sent);
    switch (e) {
    case PICOACME_OK:
        if (sent == 0U || sent > (size_t)sz) {
            t->io_err = PICOACME_ERR_IO;
            return WOLFSSL_CBIO_ERR_GENERAL;
        }
        return (int)sent;
    case PICOACME_WANT_READ:
    case PICOACME_WANT_WRITE:
        t->io_err = e;
        return WOLFSSL_CBIO_ERR_WANT_WRITE;
    case PICOACME_ERR_CLOSED:
        t->io_err = e;
        return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    default:
        t->io_err = e;
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
}

/* ---- error mapping ---------------------------------------------------- */

static bool is_verify_error(int err)
{
    switch (err) {
    case ASN_NO_SIGNER_E:
    case ASN_SELF_SIGNED_E:
    case ASN_AFTER_DATE_E:
    case ASN_BEFORE_DATE_E:
    case ASN_SIG_CONFIRM_E:
    case ASN_SIG_OID_E:
    case ASN_SIG_HASH_E:
    case ASN_SIG_KEY_E:
    case ASN_CRIT_EXT_E:
    case ASN_NAME_INVALID_E:
    case ASN_PATHLEN_SIZE_E:
    case ASN_PATHLEN_INV_E:
    case DOMAIN_NAME_MISMATCH:
    case IPADDR_MISMATCH:
    case VERIFY_CERT_ERROR:
    case NO_PEER_CERT:
    case OCSP_CERT_REVOKED:
    case CRL_CERT_REVOKED:
    case KEYUSE_SIGNATURE_E:
    case KEYUSE_ENCIPHER_E:
    case EXTKEYUSE_AUTH_E:
        return true;
    default:
        return false;
    }
}

/* Map the result of a wolfSSL call that returned ret <= 0. */
static picoacme_err_t map_error(picoacme_wolfssl_tls_t *t, int ret)
{
    int err = wolfSSL_get_error(t->ssl, ret);

    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) {
        /* what the socket really waits for (a pending connect wants write
         * even when wolfSSL was reading) */
        if (t->io_err == PICOACME_WANT_READ || t->io_err == PICOACME_WANT_WRITE) {
            return t->io_err;
        }
        return err == WOLFSSL_ERROR_WANT_READ ? PICOACME_WANT_READ : PICOACME_WANT_WRITE;
    }
    if (err == WOLFSSL_ERROR_ZERO_RETURN) {
        t->last_wolfssl_err = 0;
        return PICOACME_ERR_CLOSED;
    }
    t->last_wolfssl_err = err;
    if (is_verify_error(err)) {
        return PICOACME_ERR_TLS_VERIFY;
    }
    /* a transport failure under the TLS layer keeps its own code */
    if (t->io_err == PICOACME_ERR_CLOSED) {
        return PICOACME_ERR_CLOSED;
    }
    if (t->io_err >= PICOACME_ERR_PARAM) {
        return t->io_err;
    }
    return PICOACME_ERR_TLS;
}

/* Run the handshake if it is not done. OK once it is. */
static picoacme_err_t handshake(picoacme_wolfssl_tls_t *t)
{
    int ret;

    if (wolfSSL_is_init_finished(t->ssl)) {
        return PICOACME_OK;
    }
    ret = wolfSSL_connect(t->ssl);
    if (ret != WOLFSSL_SUCCESS) {
        return map_error(t, ret);
    }
    t->handshakes++;
    return PICOACME_OK;
}

/* ---- picoacme_tls_t --------------------------------------------------- */

/* True for an IPv4 dotted quad or an IPv6 literal (anything with ':'). */
static bool is_ip_literal(const char *host)
{
    const char *p;
    bool only_digits_dots = true;

    for (p = host; *p != '\0'; p++) {
        if (*p == ':') {
            return true;
        }
        if (!((*p >= '0' && *p <= '9') || *p == '.')) {
            only_digits_dots = false;
        }
    }
    return only_digits_dots;
}

static void tls_close(void *user)
{
    picoacme_wolfssl_tls_t *t = tls_of(user);

    if (t == NULL || t->ssl == NULL) {
        return;
    }
    t->io_err = PICOACME_OK;
    if (wolfSSL_is_init_finished(t->ssl)) {
        (void)wolfSSL_shutdown(t->ssl); /* one non-blocking close_notify */
    }
    wolfSSL_free(t->ssl);
    t->ssl = NULL;
    t->sock = PICOACME_SOCK_NONE;
}

static picoacme_err_t tls_open(void *user, picoacme_sock_t sock, const char *host)
{
    picoacme_wolfssl_tls_t *t = tls_of(user);
    size_t host_len;

    if (t == NULL || t->ctx == NULL || sock < 0 || host == NULL) {
        return PICOACME_ERR_PARAM;
    }
    host_len = strlen(host);
    if (host_len == 0U || host_len > 253U) {
        return PICOACME_ERR_PARAM;
    }
    tls_close(t);
    t->io_err = PICOACME_OK;
    t->last_wolfssl_err = 0;
    t->ssl = wolfSSL_new(t->ctx);
    if (t->ssl == NULL) {
        t->last_wolfssl_err = MEMORY_E;
        return PICOACME_ERR_NOSPACE;
    }
    t->sock = sock;
    wolfSSL_SetIOReadCtx(t->ssl, t);
    wolfSSL_SetIOWriteCtx(t->ssl, t);

    if (is_ip_literal(host)) {
#if defined(OPENSSL_EXTRA) || defined(OPENSSL_ALL)
        /* RFC 6125 / RFC 8738: match an iPAddress SAN, not a dNSName */
        if (wolfSSL_X509_VERIFY_PARAM_set1_ip_asc(wolfSSL_get0_param(t->ssl), host) !=
            WOLFSSL_SUCCESS) {
            tls_close(t);
            return PICOACME_ERR_PARAM;
        }
#else
        if (wolfSSL_check_domain_name(t->ssl, host) != WOLFSSL_SUCCESS) {
            tls_close(t);
            return PICOACME_ERR_NOSPACE;
        }
#endif
    } else {
#ifdef HAVE_SNI
        if (wolfSSL_UseSNI(t->ssl, WOLFSSL_SNI_HOST_NAME, host, (unsigned short)host_len) !=
            WOLFSSL_SUCCESS) {
            tls_close(t);
            return PICOACME_ERR_NOSPACE;
        }
#endif
        if (wolfSSL_check_domain_name(t->ssl, host) != WOLFSSL_SUCCESS) {
            tls_close(t);
            return PICOACME_ERR_NOSPACE;
        }
    }
    return PICOACME_OK;
}

static picoacme_err_t tls_send(void *user, const uint8_t *buf, size_t len, size_t *sent)
{
    picoacme_wolfssl_tls_t *t = tls_of(user);
    picoacme_err_t e;
    int n;

    if (t == NULL || sent == NULL || (buf == NULL && len != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    *sent = 0;
    if (t->ssl == NULL) {
        return PICOACME_ERR_STATE;
    }
    t->io_err = PICOACME_OK;
    e = handshake(t);
    if (e != PICOACME_OK || len == 0U) {
        return e;
    }
    n = wolfSSL_write(t->ssl, buf, len > (size_t)INT_MAX ? INT_MAX : (int)len);
    if (n <= 0) {
        return map_error(t, n);
    }
    *sent = (size_t)n;
    return PICOACME_OK;
}

static picoacme_err_t tls_recv(void *user, uint8_t *buf, size_t len, size_t *received)
{
    picoacme_wolfssl_tls_t *t = tls_of(user);
    picoacme_err_t e;
    int n;

    if (t == NULL || received == NULL || buf == NULL || len == 0U) {
        return PICOACME_ERR_PARAM;
    }
    *received = 0;
    if (t->ssl == NULL) {
        return PICOACME_ERR_STATE;
    }
    t->io_err = PICOACME_OK;
    e = handshake(t);
    if (e != PICOACME_OK) {
        return e;
    }
    n = wolfSSL_read(t->ssl, buf, len > (size_t)INT_MAX ? INT_MAX : (int)len);
    if (n <= 0) {
        return map_error(t, n);
    }
    *received = (size_t)n;
    return PICOACME_OK;
}

picoacme_err_t picoacme_wolfssl_tls_init(picoacme_wolfssl_tls_t *t,
                                         const picoacme_transport_t *tp, void *heap,
                                         const uint8_t *roots, size_t roots_len,
                                         picoacme_wolfssl_fmt_t fmt, picoacme_tls_t *out)
{
    WOLFSSL_METHOD *method;
    int type;

    if (t == NULL || tp == NULL || out == NULL || roots == NULL || roots_len == 0U ||
        roots_len > (size_t)LONG_MAX || tp->send == NULL || tp->recv == NULL) {
        return PICOACME_ERR_PARAM;
    }
    if (fmt == PICOACME_WOLFSSL_PEM) {
        type = WOLFSSL_FILETYPE_PEM;
    } else if (fmt == PICOACME_WOLFSSL_DER) {
        type = WOLFSSL_FILETYPE_ASN1;
    } else {
        return PICOACME_ERR_PARAM;
    }
    memset(t, 0, sizeof *t);
    t->heap = heap;
    t->tp = tp;
    t->sock = PICOACME_SOCK_NONE;
    if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
        return PICOACME_ERR_TLS;
    }
    method = wolfSSLv23_client_method_ex(heap);
    if (method == NULL) {
        (void)wolfSSL_Cleanup();
        return PICOACME_ERR_NOSPACE;
    }
    t->ctx = wolfSSL_CTX_new_ex(method, heap); /* takes ownership of method */
    if (t->ctx == NULL) {
        (void)wolfSSL_Cleanup();
        return PICOACME_ERR_NOSPACE;
    }
    if (wolfSSL_CTX_SetMinVersion(t->ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS) {
        picoacme_wolfssl_tls_free(t);
        return PICOACME_ERR_TLS;
    }
    /* only these anchors: no wolfSSL_CTX_load_system_CA_certs() */
    if (wolfSSL_CTX_load_verify_buffer(t->ctx, roots, (long)roots_len, type) !=
        WOLFSSL_SUCCESS) {
        picoacme_wolfssl_tls_free(t);
        t->last_wolfssl_err = ASN_PARSE_E;
        return PICOACME_ERR_PARSE;
    }
    wolfSSL_CTX_set_verify(t->ctx, WOLFSSL_VERIFY_PEER, NULL);
    wolfSSL_CTX_SetIORecv(t->ctx, io_recv);
    wolfSSL_CTX_SetIOSend(t->ctx, io_send);
#if defined(OPENSSL_EXTRA) || defined(OPENSSL_ALL)
    /* return what went out when a record boundary blocks, like send(2) */
    (void)wolfSSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
#endif

    memset(out, 0, sizeof *out);
    out->user = t;
    out->open = tls_open;
    out->send = tls_send;
    out->recv = tls_recv;
    out->close = tls_close;
    return PICOACME_OK;
}

void picoacme_wolfssl_tls_free(picoacme_wolfssl_tls_t *t)
{
    if (t == NULL || t->ctx == NULL) {
        return;
    }
    tls_close(t);
    wolfSSL_CTX_free(t->ctx);
    t->ctx = NULL;
    (void)wolfSSL_Cleanup();
}

const char *picoacme_wolfssl_tls_reason(const picoacme_wolfssl_tls_t *t)
{
    if (t == NULL) {
        return "no TLS context";
    }
    switch (t->last_wolfssl_err) {
    case 0:
        break;
    case ASN_NO_SIGNER_E:
        return "server certificate is not signed by the configured CA root";
    case ASN_SELF_SIGNED_E:
        return "server certificate is self-signed and not one of the configured CA roots";
    case DOMAIN_NAME_MISMATCH:
        return "server certificate does not match host name";
    case IPADDR_MISMATCH:
        return "server certificate does not match the IP address";
    case ASN_AFTER_DATE_E:
        return "server certificate has expired (or the device clock is wrong)";
    case ASN_BEFORE_DATE_E:
        return "server certificate is not yet valid (or the device clock is wrong)";
    case ASN_SIG_CONFIRM_E:
        return "server certificate signature does not verify";
    case ASN_SIG_OID_E:
    case ASN_SIG_HASH_E:
    case ASN_SIG_KEY_E:
        return "server certificate uses an unsupported signature algorithm";
    case ASN_CRIT_EXT_E:
        return "server certificate has an unsupported critical extension";
    case ASN_NAME_INVALID_E:
    case ASN_PATHLEN_SIZE_E:
    case ASN_PATHLEN_INV_E:
        return "server certificate chain violates a CA constraint";
    case OCSP_CERT_REVOKED:
    case CRL_CERT_REVOKED:
        return "server certificate is revoked";
    case KEYUSE_SIGNATURE_E:
    case KEYUSE_ENCIPHER_E:
    case EXTKEYUSE_AUTH_E:
        return "server certificate key usage does not allow TLS server authentication";
    case NO_PEER_CERT:
        return "server sent no certificate";
    case VERIFY_CERT_ERROR:
        return "server certificate verification failed";
    case VERSION_ERROR:
    case MATCH_SUITE_ERROR:
        return "no TLS version or cipher suite in common with the server (TLS 1.2+ required)";
    case FATAL_ERROR:
        return "server sent a fatal TLS alert";
    case MEMORY_E:
        return "out of memory for the TLS session";
    case ASN_PARSE_E:
        return "the configured CA roots could not be parsed";
    default:
        if (t->io_err == PICOACME_ERR_CLOSED) {
            return "server closed the connection during TLS";
        }
        if (t->io_err >= PICOACME_ERR_PARAM) {
            return "the connection to the server failed";
        }
        return wolfSSL_ERR_reason_error_string((unsigned long)t->last_wolfssl_err);
    }
    if (t->io_err == PICOACME_ERR_CLOSED) {
        return "server closed the connection";
    }
    if (t->io_err >= PICOACME_ERR_PARAM) {
        return "the connection to the server failed";
    }
    return "no TLS failure";
}
