/*
 * fw_tls.h - firmware-local TLS client glue: a picoacme_tls_t over a
 * picoacme transport socket with wolfSSL custom I/O callbacks, no heap
 * (every wolfSSL object is created with the static-memory heap hint).
 *
 * Stand-in until ports/wolfssl/src/tls.c (same callback approach) builds
 * for the firmware; then this file goes away.
 */
#ifndef PICOACME_FW_TLS_H
#define PICOACME_FW_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/ssl.h>

#include "picoacme_port.h"

typedef struct fw_tls {
    void *heap;                     /* WOLFSSL_HEAP_HINT * */
    WOLFSSL_CTX *ctx;
    WOLFSSL *ssl;
    const picoacme_transport_t *tp;
    picoacme_sock_t sock;
    picoacme_err_t io_err;          /* last transport error seen by the callbacks */
    int last_err;                   /* last wolfSSL error code */
    bool handshake_done;
} fw_tls_t;

/* Client context trusting only the DER root(s) given (TLS 1.2 and 1.3,
 * peer verification on). alpn may be NULL. Fills *out. */
picoacme_err_t fw_tls_init(fw_tls_t *t, const picoacme_transport_t *tp, void *heap,
                           const uint8_t *root_der, size_t root_len, const char *alpn,
                           picoacme_tls_t *out);
void fw_tls_free(fw_tls_t *t);

#endif
