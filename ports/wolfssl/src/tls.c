/*
 * tls.c - the TLS port: a wolfSSL client session over a picoacme transport
 * socket, through wolfSSL's custom I/O callbacks, never blocking; and the
 * tls-alpn-01 responder (RFC 8737), a second, short-lived server context
 * and session over an accepted socket that presents the challenge
 * certificate only when "acme-tls/1" is negotiated.
 *
 * Trust is exactly the roots handed to picoacme_wolfssl_tls_init() (the
 * ACME CA's anchors); the system store is never loaded. TLS 1.2 is the
 * minimum, the peer is always verified and its certificate is checked
 * against the host name or IP address given to open(). SNI is sent for
 * names only (RFC 6066 §3 forbids literal IP addresses in SNI).
 */
#include "picoacme_wolfssl.h"
#include "picoacme_x509.h"

#include <limits.h>
#include <string.h>

#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

static picoacme_wolfssl_tls_t *tls_of(void *user)
{
    return (picoacme_wolfssl_tls_t *)user;
}

/* ---- I/O callbacks: wolfSSL <-> picoacme transport -------------------- */

/* One transport receive for wolfSSL; *io_err keeps what the transport said. */
static int io_recv_on(const picoacme_transport_t *tp, picoacme_sock_t sock, picoacme_err_t *io_err,
                      char *buf, int sz)
{
    size_t got = 0;
    picoacme_err_t e;

    if (tp == NULL || sz <= 0) {
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
    e = tp->recv(tp->user, sock, (uint8_t *)buf, (size_t)sz, &got);
    switch (e) {
    case PICOACME_OK:
        if (got == 0U || got > (size_t)sz) {
            *io_err = PICOACME_ERR_IO;
            return WOLFSSL_CBIO_ERR_GENERAL;
        }
        return (int)got;
    case PICOACME_WANT_READ:
    case PICOACME_WANT_WRITE: /* connect still pending */
        *io_err = e;
        return WOLFSSL_CBIO_ERR_WANT_READ;
    case PICOACME_ERR_CLOSED: *io_err = e; return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    default: *io_err = e; return WOLFSSL_CBIO_ERR_GENERAL;
    }
}

static int io_send_on(const picoacme_transport_t *tp, picoacme_sock_t sock, picoacme_err_t *io_err,
                      const char *buf, int sz)
{
    size_t sent = 0;
    picoacme_err_t e;

    if (tp == NULL || sz <= 0) {
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
    e = tp->send(tp->user, sock, (const uint8_t *)buf, (size_t)sz, &sent);
    switch (e) {
    case PICOACME_OK:
        if (sent == 0U || sent > (size_t)sz) {
            *io_err = PICOACME_ERR_IO;
            return WOLFSSL_CBIO_ERR_GENERAL;
        }
        return (int)sent;
    case PICOACME_WANT_READ:
    case PICOACME_WANT_WRITE: *io_err = e; return WOLFSSL_CBIO_ERR_WANT_WRITE;
    case PICOACME_ERR_CLOSED: *io_err = e; return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    default: *io_err = e; return WOLFSSL_CBIO_ERR_GENERAL;
    }
}

/* client session: ctx is the picoacme_wolfssl_tls_t */
static int io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    picoacme_wolfssl_tls_t *t = tls_of(ctx);

    (void)ssl;
    if (t == NULL) {
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
    return io_recv_on(t->tp, t->sock, &t->io_err, buf, sz);
}

static int io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    picoacme_wolfssl_tls_t *t = tls_of(ctx);

    (void)ssl;
    if (t == NULL) {
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
    return io_send_on(t->tp, t->sock, &t->io_err, buf, sz);
}

#ifndef NO_WOLFSSL_SERVER
/* server session: ctx is the picoacme_wolfssl_tls_server_t; the bytes read
 * ahead to inspect the ClientHello go first */
static int srv_io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    picoacme_wolfssl_tls_server_t *s = (picoacme_wolfssl_tls_server_t *)ctx;

    (void)ssl;
    if (s == NULL || sz <= 0) {
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
    if (s->hello_off < s->hello_len) {
        size_t n = s->hello_len - s->hello_off;
        if (n > (size_t)sz) {
            n = (size_t)sz;
        }
        memcpy(buf, s->hello + s->hello_off, n);
        s->hello_off += n;
        return (int)n;
    }
    return io_recv_on(s->tp, s->sock, &s->io_err, buf, sz);
}

static int srv_io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
    picoacme_wolfssl_tls_server_t *s = (picoacme_wolfssl_tls_server_t *)ctx;

    (void)ssl;
    if (s == NULL) {
        return WOLFSSL_CBIO_ERR_GENERAL;
    }
    return io_send_on(s->tp, s->sock, &s->io_err, buf, sz);
}
#endif

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
    case EXTKEYUSE_AUTH_E: return true;
    default: return false;
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
    if (picoacme_err_is_error(t->io_err)) {
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

    t->host_ip = is_ip_literal(host);
    if (t->host_ip) {
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

#ifndef NO_WOLFSSL_SERVER
/* ---- tls-alpn-01 server session (RFC 8737 §3) ------------------------- */

static const char acme_alpn[] = "acme-tls/1";
#define ACME_ALPN_LEN (sizeof acme_alpn - 1U)

/* Clear secrets in a way the compiler may not drop. */
static void wipe(void *p, size_t len)
{
    volatile uint8_t *v = (volatile uint8_t *)p;

    while (len-- > 0U) {
        *v++ = 0;
    }
}

static bool alpn_is_acme(WOLFSSL *ssl)
{
    char *proto = NULL;
    unsigned short n = 0;

    return wolfSSL_ALPN_GetProtocol(ssl, &proto, &n) == WOLFSSL_SUCCESS && proto != NULL &&
           n == ACME_ALPN_LEN && memcmp(proto, acme_alpn, ACME_ALPN_LEN) == 0;
}

/* RFC 8737 §3: the challenge certificate only where "acme-tls/1" is
 * negotiated. wolfSSL's WOLFSSL_ALPN_FAILED_ON_MISMATCH refuses a client
 * whose ALPN list lacks it, but serves one that sends no ALPN extension at
 * all, and its ClientHello hooks need OPENSSL_EXTRA builds. So the first
 * record is read ahead here and checked with the core's bounded parser;
 * wolfSSL then gets the same bytes through srv_io_recv(). */
static picoacme_err_t srv_check_hello(picoacme_wolfssl_tls_server_t *s)
{
    /* fatal no_application_protocol(120) alert, RFC 7301 §3.2 */
    static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 120};

    for (;;) {
        bool acme = false;
        size_t got = 0;
        picoacme_err_t e = picoacme_tls_clienthello_alpn(s->hello, s->hello_len, &acme, NULL, 0);
        if (e == PICOACME_OK && acme) {
            s->hello_ok = true;
            return PICOACME_OK;
        }
        if (e == PICOACME_OK || e == PICOACME_ERR_PARSE) {
            size_t sent = 0;
            (void)s->tp->send(s->tp->user, s->sock, alert, sizeof alert, &sent);
            s->last_wolfssl_err = UNKNOWN_ALPN_PROTOCOL_NAME_E;
            return e == PICOACME_OK ? PICOACME_ERR_TLS : PICOACME_ERR_PARSE;
        }
        if (e != PICOACME_AGAIN) {
            return e;
        }
        if (s->hello_len >= sizeof s->hello) {
            return PICOACME_ERR_NOSPACE; /* raise PICOACME_WOLFSSL_HELLO_MAX */
        }
        e = s->tp->recv(s->tp->user, s->sock, s->hello + s->hello_len,
                        sizeof s->hello - s->hello_len, &got);
        if (e != PICOACME_OK) {
            return e;
        }
        if (got == 0U || got > sizeof s->hello - s->hello_len) {
            return PICOACME_ERR_IO;
        }
        s->hello_len += got;
    }
}

static picoacme_err_t srv_map_error(picoacme_wolfssl_tls_server_t *s, int ret)
{
    int err = wolfSSL_get_error(s->ssl, ret);

    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) {
        if (s->io_err == PICOACME_WANT_READ || s->io_err == PICOACME_WANT_WRITE) {
            return s->io_err;
        }
        return err == WOLFSSL_ERROR_WANT_READ ? PICOACME_WANT_READ : PICOACME_WANT_WRITE;
    }
    s->last_wolfssl_err = err;
    if (err == WOLFSSL_ERROR_ZERO_RETURN || s->io_err == PICOACME_ERR_CLOSED) {
        return PICOACME_ERR_CLOSED;
    }
    if (picoacme_err_is_error(s->io_err)) {
        return s->io_err;
    }
    return PICOACME_ERR_TLS;
}

static void srv_close(void *user)
{
    picoacme_wolfssl_tls_t *t = tls_of(user);
    picoacme_wolfssl_tls_server_t *s;

    if (t == NULL) {
        return;
    }
    s = &t->srv;
    if (s->ssl != NULL) {
        wolfSSL_free(s->ssl); /* no close_notify: the validator hangs up */
        s->ssl = NULL;
    }
    if (s->ctx != NULL) {
        wolfSSL_CTX_free(s->ctx);
        s->ctx = NULL;
    }
    s->sock = PICOACME_SOCK_NONE;
    s->io_err = PICOACME_OK;
    s->hello_ok = false;
    s->hello_len = 0;
    s->hello_off = 0;
}

/* The private scalar as a DER ECPrivateKey (RFC 5915) with its public key,
 * loaded into the session; the DER copy is wiped. The public key must be
 * the one in the certificate (checked here, as wolfSSL_check_private_key()
 * exists only in OPENSSL_EXTRA builds). */
static picoacme_err_t srv_load_key(picoacme_wolfssl_tls_t *t, const uint8_t *cert_der,
                                   size_t cert_len, const uint8_t priv[32])
{
    ecc_key key;
    uint8_t der[160];
    uint8_t pub[64];
    word32 xl = 32;
    word32 yl = 32;
    picoacme_x509_t cert;
    int n;
    picoacme_err_t e = PICOACME_OK;

    if (picoacme_x509_parse(cert_der, cert_len, &cert) != PICOACME_OK || !cert.ec_p256) {
        return PICOACME_ERR_PARAM;
    }
    if (wc_ecc_init_ex(&key, t->heap, INVALID_DEVID) != 0) {
        return PICOACME_ERR_CRYPTO;
    }
    memset(pub, 0, sizeof pub);
    if (wc_ecc_import_private_key_ex(priv, 32, NULL, 0, &key, ECC_SECP256R1) != 0 ||
        wc_ecc_make_pub(&key, NULL) != 0 ||
        wc_ecc_export_public_raw(&key, pub, &xl, pub + 32, &yl) != 0) {
        e = PICOACME_ERR_CRYPTO;
    } else if (xl != 32U || yl != 32U || memcmp(pub, cert.pub, sizeof pub) != 0) {
        e = PICOACME_ERR_PARAM; /* priv is not the certificate's key */
    }
    if (e == PICOACME_OK) {
        n = wc_EccKeyToDer(&key, der, (word32)sizeof der);
        if (n <= 0) {
            e = PICOACME_ERR_CRYPTO;
        } else if (wolfSSL_CTX_use_PrivateKey_buffer(t->srv.ctx, der, n, WOLFSSL_FILETYPE_ASN1) !=
                   WOLFSSL_SUCCESS) {
            e = PICOACME_ERR_CRYPTO;
        }
    }
    wipe(der, sizeof der);
    wc_ecc_free(&key);
    wipe(&key, sizeof key);
    return e;
}

static picoacme_err_t srv_open(void *user, picoacme_sock_t sock, const uint8_t *cert_der,
                               size_t cert_len, const uint8_t priv[32])
{
    picoacme_wolfssl_tls_t *t = tls_of(user);
    picoacme_wolfssl_tls_server_t *s;
    WOLFSSL_METHOD *method;
    char alpn[sizeof acme_alpn];
    picoacme_err_t e;
    int ret;

    if (t == NULL || t->tp == NULL || sock < 0 || cert_der == NULL || cert_len == 0U ||
        cert_len > (size_t)LONG_MAX || priv == NULL) {
        return PICOACME_ERR_PARAM;
    }
    srv_close(t);
    s = &t->srv;
    s->tp = t->tp;
    s->last_wolfssl_err = 0;
    method = wolfSSLv23_server_method_ex(t->heap);
    if (method == NULL) {
        return PICOACME_ERR_NOSPACE;
    }
    s->ctx = wolfSSL_CTX_new_ex(method, t->heap); /* takes ownership of method */
    if (s->ctx == NULL) {
        return PICOACME_ERR_NOSPACE;
    }
    /* RFC 8737 §4: TLS 1.2 or higher */
    if (wolfSSL_CTX_SetMinVersion(s->ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS) {
        srv_close(t);
        return PICOACME_ERR_TLS;
    }
    wolfSSL_CTX_set_verify(s->ctx, WOLFSSL_VERIFY_NONE, NULL);
    wolfSSL_CTX_SetIORecv(s->ctx, srv_io_recv);
    wolfSSL_CTX_SetIOSend(s->ctx, srv_io_send);
    /* the context lives as long as this one session: certificate and key
     * go there (a server WOLFSSL cannot be created without them) */
    ret =
        wolfSSL_CTX_use_certificate_buffer(s->ctx, cert_der, (long)cert_len, WOLFSSL_FILETYPE_ASN1);
    if (ret != WOLFSSL_SUCCESS) {
        srv_close(t);
        s->last_wolfssl_err = ret;
        return PICOACME_ERR_PARAM;
    }
    e = srv_load_key(t, cert_der, cert_len, priv);
    if (e != PICOACME_OK) {
        srv_close(t);
        return e;
    }
    s->ssl = wolfSSL_new(s->ctx);
    if (s->ssl == NULL) {
        srv_close(t);
        s->last_wolfssl_err = MEMORY_E;
        return PICOACME_ERR_NOSPACE;
    }
    memcpy(alpn, acme_alpn, sizeof acme_alpn);
    if (wolfSSL_UseALPN(s->ssl, alpn, (unsigned)ACME_ALPN_LEN, WOLFSSL_ALPN_FAILED_ON_MISMATCH) !=
        WOLFSSL_SUCCESS) {
        srv_close(t);
        return PICOACME_ERR_TLS;
    }
    s->sock = sock;
    s->io_err = PICOACME_OK;
    wolfSSL_SetIOReadCtx(s->ssl, s);
    wolfSSL_SetIOWriteCtx(s->ssl, s);
    return PICOACME_OK;
}

static picoacme_err_t srv_step(void *user)
{
    picoacme_wolfssl_tls_t *t = tls_of(user);
    picoacme_wolfssl_tls_server_t *s;
    int ret;

    if (t == NULL) {
        return PICOACME_ERR_PARAM;
    }
    s = &t->srv;
    if (s->ssl == NULL) {
        return PICOACME_ERR_STATE;
    }
    if (wolfSSL_is_init_finished(s->ssl)) {
        return PICOACME_OK;
    }
    if (!s->hello_ok) {
        picoacme_err_t e = srv_check_hello(s);
        if (e != PICOACME_OK) {
            return e;
        }
    }
    s->io_err = PICOACME_OK;
    ret = wolfSSL_accept(s->ssl);
    if (ret != WOLFSSL_SUCCESS) {
        return srv_map_error(s, ret);
    }
    if (!alpn_is_acme(s->ssl)) {
        s->last_wolfssl_err = UNKNOWN_ALPN_PROTOCOL_NAME_E;
        return PICOACME_ERR_TLS; /* not reached: srv_check_hello and wolfSSL refuse first */
    }
    return PICOACME_OK;
}
#endif /* NO_WOLFSSL_SERVER */

picoacme_err_t picoacme_wolfssl_tls_init(picoacme_wolfssl_tls_t *t, const picoacme_transport_t *tp,
                                         void *heap, const uint8_t *roots, size_t roots_len,
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
    t->srv.sock = PICOACME_SOCK_NONE;
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
    if (wolfSSL_CTX_load_verify_buffer(t->ctx, roots, (long)roots_len, type) != WOLFSSL_SUCCESS) {
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
#ifndef NO_WOLFSSL_SERVER
    out->server_open = srv_open;
    out->server_step = srv_step;
    out->server_close = srv_close;
#endif
    return PICOACME_OK;
}

void picoacme_wolfssl_tls_free(picoacme_wolfssl_tls_t *t)
{
    if (t == NULL || t->ctx == NULL) {
        return;
    }
    tls_close(t);
#ifndef NO_WOLFSSL_SERVER
    srv_close(t);
#endif
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
    case 0: break;
    case ASN_NO_SIGNER_E: return "server certificate is not signed by the configured CA root";
    case ASN_SELF_SIGNED_E:
        return "server certificate is self-signed and not one of the configured CA roots";
    case DOMAIN_NAME_MISMATCH:
        /* without OPENSSL_EXTRA an IP is checked through the name check */
        return t->host_ip ? "server certificate does not match the IP address"
                          : "server certificate does not match host name";
    case IPADDR_MISMATCH: return "server certificate does not match the IP address";
    case ASN_AFTER_DATE_E: return "server certificate has expired (or the device clock is wrong)";
    case ASN_BEFORE_DATE_E:
        return "server certificate is not yet valid (or the device clock is wrong)";
    case ASN_SIG_CONFIRM_E: return "server certificate signature does not verify";
    case ASN_SIG_OID_E:
    case ASN_SIG_HASH_E:
    case ASN_SIG_KEY_E: return "server certificate uses an unsupported signature algorithm";
    case ASN_CRIT_EXT_E: return "server certificate has an unsupported critical extension";
    case ASN_NAME_INVALID_E:
    case ASN_PATHLEN_SIZE_E:
    case ASN_PATHLEN_INV_E: return "server certificate chain violates a CA constraint";
    case OCSP_CERT_REVOKED:
    case CRL_CERT_REVOKED: return "server certificate is revoked";
    case KEYUSE_SIGNATURE_E:
    case KEYUSE_ENCIPHER_E:
    case EXTKEYUSE_AUTH_E:
        return "server certificate key usage does not allow TLS server authentication";
    case NO_PEER_CERT: return "server sent no certificate";
    case VERIFY_CERT_ERROR: return "server certificate verification failed";
    case VERSION_ERROR:
    case MATCH_SUITE_ERROR:
        return "no TLS version or cipher suite in common with the server (TLS 1.2+ required)";
    case FATAL_ERROR: return "server sent a fatal TLS alert";
    case MEMORY_E: return "out of memory for the TLS session";
    case ASN_PARSE_E: return "the configured CA roots could not be parsed";
    default:
        if (t->io_err == PICOACME_ERR_CLOSED) {
            return "server closed the connection during TLS";
        }
        if (picoacme_err_is_error(t->io_err)) {
            return "the connection to the server failed";
        }
        return wolfSSL_ERR_reason_error_string((unsigned long)t->last_wolfssl_err);
    }
    if (t->io_err == PICOACME_ERR_CLOSED) {
        return "server closed the connection";
    }
    if (picoacme_err_is_error(t->io_err)) {
        return "the connection to the server failed";
    }
    return "no TLS failure";
}
