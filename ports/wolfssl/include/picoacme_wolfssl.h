/*
 * picoacme_wolfssl.h - the wolfSSL port: a TLS client session over a
 * picoacme transport socket (wolfSSL custom I/O callbacks, non-blocking)
 * and the crypto port from wolfCrypt (P-256, SHA-256, HMAC, Hash_DRBG).
 *
 * heap is wolfSSL's heap hint: NULL on Linux, a WOLFSSL_HEAP_HINT for a
 * WOLFSSL_STATIC_MEMORY build.
 */
#ifndef PICOACME_WOLFSSL_H
#define PICOACME_WOLFSSL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef WOLFSSL_USER_SETTINGS
#include <wolfssl/options.h>
#endif
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#include "picoacme_port.h"

/* ---- crypto ----------------------------------------------------------- */
typedef struct picoacme_wolfssl_crypto {
    void *heap;
    WC_RNG rng;
    ecc_key key[PICOACME_KEY_SLOTS];
    bool have[PICOACME_KEY_SLOTS];
} picoacme_wolfssl_crypto_t;

/* Seed the DRBG and fill *out. Free with picoacme_wolfssl_crypto_free(),
 * which also wipes the keys. */
picoacme_err_t picoacme_wolfssl_crypto_init(picoacme_wolfssl_crypto_t *c, void *heap,
                                            picoacme_crypto_t *out);
void picoacme_wolfssl_crypto_free(picoacme_wolfssl_crypto_t *c);

/* ---- TLS client ------------------------------------------------------- */
typedef enum picoacme_wolfssl_fmt {
    PICOACME_WOLFSSL_PEM = 0,
    PICOACME_WOLFSSL_DER = 1
} picoacme_wolfssl_fmt_t;

/* Largest first TLS record (the ClientHello) the tls-alpn-01 responder
 * reads ahead to check for "acme-tls/1" before wolfSSL sees it; a longer
 * one is refused with PICOACME_ERR_NOSPACE. */
#ifndef PICOACME_WOLFSSL_HELLO_MAX
#define PICOACME_WOLFSSL_HELLO_MAX 2048U
#endif

/* The tls-alpn-01 server session (RFC 8737): its own context, certificate
 * and I/O state, independent of the client session. */
typedef struct picoacme_wolfssl_tls_server {
    WOLFSSL_CTX *ctx;
    WOLFSSL *ssl;
    picoacme_sock_t sock;
    picoacme_err_t io_err; /* last transport error seen by the callbacks */
    int last_wolfssl_err;  /* last wolfSSL error code, for messages */
    const picoacme_transport_t *tp;
    bool hello_ok;    /* the ClientHello offered "acme-tls/1" */
    size_t hello_len; /* bytes read ahead into hello */
    size_t hello_off; /* of which handed to wolfSSL */
    uint8_t hello[PICOACME_WOLFSSL_HELLO_MAX];
} picoacme_wolfssl_tls_server_t;

typedef struct picoacme_wolfssl_tls {
    void *heap;
    WOLFSSL_CTX *ctx;
    WOLFSSL *ssl;
    const picoacme_transport_t *tp;
    picoacme_sock_t sock;
    picoacme_err_t io_err;             /* last transport error seen by the callbacks */
    int last_wolfssl_err;              /* last wolfSSL error code, for messages */
    unsigned handshakes;               /* completed handshakes, for the bench */
    picoacme_wolfssl_tls_server_t srv; /* tls-alpn-01 responder session */
    bool host_ip;                      /* the session verifies an IP address */
} picoacme_wolfssl_tls_t;

/* Create the client context trusting only roots (PEM bundle or one DER
 * certificate): TLS 1.2 and 1.3, peer verification always on, host name or
 * IP checked, SNI sent. Fill *out, server_open/server_step/server_close
 * included (the tls-alpn-01 responder: TLS 1.2+, ALPN "acme-tls/1" only,
 * its own WOLFSSL_CTX created by server_open and freed by server_close). */
picoacme_err_t picoacme_wolfssl_tls_init(picoacme_wolfssl_tls_t *t, const picoacme_transport_t *tp,
                                         void *heap, const uint8_t *roots, size_t roots_len,
                                         picoacme_wolfssl_fmt_t fmt, picoacme_tls_t *out);
void picoacme_wolfssl_tls_free(picoacme_wolfssl_tls_t *t);

/* Human-readable reason of the last TLS failure (static string). */
const char *picoacme_wolfssl_tls_reason(const picoacme_wolfssl_tls_t *t);

#endif
