/*
 * picoacme_port.h - the interfaces a port implements for the core.
 *
 * One struct of function pointers per concern plus an opaque `user`
 * pointer handed back on every call (coreHTTP's transport style). No call
 * may block: where a POSIX call would wait, return PICOACME_WANT_READ or
 * PICOACME_WANT_WRITE and the engine will come back when the socket is
 * ready. The core never owns port memory and the port never owns core
 * memory; buffers passed in are only valid for the duration of the call.
 */
#ifndef PICOACME_PORT_H
#define PICOACME_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "picoacme_err.h"

/* A connection or listener handle chosen by the port (an fd, a pool index).
 * Negative means "no socket". */
typedef int32_t picoacme_sock_t;
#define PICOACME_SOCK_NONE ((picoacme_sock_t)-1)

/* A gather list entry, for hashing without copying. */
typedef struct picoacme_iov {
    const uint8_t *ptr;
    size_t len;
} picoacme_iov_t;

/* ---- transport: non-blocking TCP ------------------------------------- */
typedef struct picoacme_transport {
    void *user;
    /* Start connecting to host (a name or a literal IPv4/IPv6 address) and
     * port. Returns PICOACME_OK with *sock set as soon as the attempt is
     * under way; until it completes, send() returns PICOACME_WANT_WRITE.
     * A failed attempt surfaces as PICOACME_ERR_IO from send()/recv().
     * A name is resolved without blocking: while it is, connect returns
     * PICOACME_AGAIN with *sock left PICOACME_SOCK_NONE, and the caller
     * calls again with the same host and port later (the engine: after
     * PICOACME_RESOLVE_POLL_MS, until its exchange deadline). The port
     * keeps the one pending lookup itself; a call with another host or
     * port replaces it. A literal never answers PICOACME_AGAIN. A name
     * that does not resolve answers PICOACME_ERR_NOT_FOUND; a resolver
     * failure (no server answered...) PICOACME_ERR_IO. */
    picoacme_err_t (*connect)(void *user, const char *host, uint16_t port, picoacme_sock_t *sock);
    /* Send up to len bytes. PICOACME_OK with *sent >= 1, or WANT_WRITE, or
     * an error. */
    picoacme_err_t (*send)(void *user, picoacme_sock_t sock, const uint8_t *buf, size_t len,
                           size_t *sent);
    /* Receive up to len bytes. PICOACME_OK with *received >= 1, WANT_READ,
     * PICOACME_ERR_CLOSED on an orderly close by the peer, or an error. */
    picoacme_err_t (*recv)(void *user, picoacme_sock_t sock, uint8_t *buf, size_t len,
                           size_t *received);
    /* Close and release the handle. Never fails. */
    void (*close)(void *user, picoacme_sock_t sock);
    /* Optional (may be NULL): listen on a TCP port of every local address,
     * for the http-01 responder. */
    picoacme_err_t (*listen)(void *user, uint16_t port, picoacme_sock_t *lsock);
    /* Optional: accept one pending connection, or WANT_READ if none. */
    picoacme_err_t (*accept)(void *user, picoacme_sock_t lsock, picoacme_sock_t *sock);
    /* Optional (NULL without dns-01): an unconnected UDP socket. */
    picoacme_err_t (*udp_open)(void *user, picoacme_sock_t *sock);
    /* Send one datagram to host (a literal address or a name) and port.
     * A name is resolved as connect() does: PICOACME_AGAIN (nothing sent)
     * until it is, then the datagram goes out; the same errors. */
    picoacme_err_t (*udp_send)(void *user, picoacme_sock_t sock, const char *host, uint16_t port,
                               const uint8_t *buf, size_t len);
    /* Receive one datagram (truncated to cap), or WANT_READ if none. */
    picoacme_err_t (*udp_recv)(void *user, picoacme_sock_t sock, uint8_t *buf, size_t cap,
                               size_t *received);
} picoacme_transport_t;

/* ---- tls: a client session over a transport socket -------------------- */
/* The port holds one client session at a time. Trust anchors are those of
 * the CA in use, configured in the port (never the system store unless the
 * integrator asks for it). */
typedef struct picoacme_tls {
    void *user;
    /* Start a session over sock; host is sent as SNI and verified against
     * the server certificate (DNS name or IP address). The handshake runs
     * inside the first send()/recv(). */
    picoacme_err_t (*open)(void *user, picoacme_sock_t sock, const char *host);
    /* Same contract as the transport's send/recv; a certificate that does
     * not verify fails with PICOACME_ERR_TLS_VERIFY. */
    picoacme_err_t (*send)(void *user, const uint8_t *buf, size_t len, size_t *sent);
    picoacme_err_t (*recv)(void *user, uint8_t *buf, size_t len, size_t *received);
    /* End the session (best-effort close_notify); does not close sock. */
    void (*close)(void *user);
    /* Optional (NULL without tls-alpn-01), RFC 8737: serve one TLS
     * handshake on an accepted socket, presenting cert_der (a self-signed
     * P-256 certificate) with the private scalar priv, accepting only the
     * ALPN protocol "acme-tls/1". One server session at a time, independent
     * of the client session. */
    picoacme_err_t (*server_open)(void *user, picoacme_sock_t sock, const uint8_t *cert_der,
                                  size_t cert_len, const uint8_t priv[32]);
    /* Drive the handshake: PICOACME_OK once it completed (the validator
     * has seen the certificate), WANT_READ/WANT_WRITE, or an error. */
    picoacme_err_t (*server_step)(void *user);
    /* End the server session; does not close sock. */
    void (*server_close)(void *user);
} picoacme_tls_t;

/* ---- crypto: P-256 keys in slots, hashes, randomness ------------------ */
/* The longest key reference a port hands to the store (key_ref). */
#define PICOACME_KEY_REF_MAX 64U

typedef enum picoacme_key_slot {
    PICOACME_KEY_ACCOUNT = 0,   /* the ACME account key */
    PICOACME_KEY_CERT = 1,      /* the key of the certificate being ordered */
    PICOACME_KEY_CHALLENGE = 2, /* the tls-alpn-01 challenge certificate's key */
    PICOACME_KEY_SLOTS = 3
} picoacme_key_slot_t;

typedef struct picoacme_crypto {
    void *user;
    /* Fill buf with len bytes from a seeded DRBG. */
    picoacme_err_t (*random)(void *user, uint8_t *buf, size_t len);
    /* SHA-256 over the concatenation of iov[0..iovcnt). */
    picoacme_err_t (*sha256)(void *user, const picoacme_iov_t *iov, size_t iovcnt, uint8_t out[32]);
    /* HMAC-SHA256 with key over the concatenation of iov[0..iovcnt). */
    picoacme_err_t (*hmac_sha256)(void *user, const uint8_t *key, size_t key_len,
                                  const picoacme_iov_t *iov, size_t iovcnt, uint8_t out[32]);
    /* Generate a fresh P-256 key in slot, replacing what was there. */
    picoacme_err_t (*key_generate)(void *user, picoacme_key_slot_t slot);
    /* Public key of slot as X||Y (32 bytes each, big endian). */
    picoacme_err_t (*key_public)(void *user, picoacme_key_slot_t slot, uint8_t pub[64]);
    /* ECDSA over a SHA-256 digest; signature as r||s (32 bytes each). */
    picoacme_err_t (*key_sign)(void *user, picoacme_key_slot_t slot, const uint8_t digest[32],
                               uint8_t sig[64]);
    /* Private scalar out of / into a slot, for the store. A token, TPM or
     * secure element that keeps keys inside returns PICOACME_ERR_UNSUPPORTED
     * and persists the key itself; the store then keeps key_ref's reference
     * (below). */
    picoacme_err_t (*key_export)(void *user, picoacme_key_slot_t slot, uint8_t priv[32]);
    picoacme_err_t (*key_import)(void *user, picoacme_key_slot_t slot, const uint8_t priv[32]);
    /* Optional (NULL for a port whose keys export): keys kept in hardware.
     * key_ref writes what finds the key of slot again (a PKCS#11 CKA_ID, a
     * TPM handle: never key material), 1..PICOACME_KEY_REF_MAX bytes, into
     * ref and its length into *len; PICOACME_ERR_NOT_FOUND when the slot is
     * empty. The store keeps it in place of the scalar whenever key_export
     * fails. key_ref_load makes slot use the key ref names again:
     * PICOACME_OK, PICOACME_ERR_NOT_FOUND (no such key any more),
     * PICOACME_ERR_CRYPTO (the device failed). A port with key_ref cannot
     * roll the account key over (picoacme_key_rollover_start() answers
     * PICOACME_ERR_UNSUPPORTED). */
    picoacme_err_t (*key_ref)(void *user, picoacme_key_slot_t slot,
                              uint8_t ref[PICOACME_KEY_REF_MAX], size_t *len);
    picoacme_err_t (*key_ref_load)(void *user, picoacme_key_slot_t slot, const uint8_t *ref,
                                   size_t len);
} picoacme_crypto_t;

/* ---- storage: a byte-addressed flash region --------------------------- */
typedef struct picoacme_storage {
    void *user;
    size_t size;       /* bytes in the region, a multiple of erase_size */
    size_t erase_size; /* erase block size in bytes */
    picoacme_err_t (*read)(void *user, size_t off, uint8_t *buf, size_t len);
    /* Program erased bytes (NOR semantics: a write can only clear bits). */
    picoacme_err_t (*write)(void *user, size_t off, const uint8_t *buf, size_t len);
    /* Erase [off, off+len) to 0xFF; both multiples of erase_size. */
    picoacme_err_t (*erase)(void *user, size_t off, size_t len);
} picoacme_storage_t;

/* ---- clock ------------------------------------------------------------ */
#define PICOACME_TIME_UNKNOWN ((int64_t)-1)
typedef struct picoacme_clock {
    void *user;
    /* Unix seconds, or PICOACME_TIME_UNKNOWN when the RTC was never set. */
    int64_t (*wall_s)(void *user);
    /* Monotonic milliseconds; may wrap (compare with subtraction). */
    uint32_t (*mono_ms)(void *user);
} picoacme_clock_t;

#endif
