/*
 * picoacme_posix.h - the POSIX port: non-blocking TCP sockets (a socket's
 * picoacme_sock_t is its file descriptor), a file standing in for a flash
 * region, clock_gettime clocks and getrandom entropy.
 */
#ifndef PICOACME_POSIX_H
#define PICOACME_POSIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme_port.h"

/* Fill *out with the socket transport (connect and udp_send take IPv4 and
 * IPv6 literals at once and resolve names with getaddrinfo, without
 * AI_ADDRCONFIG so loopback names work, in a worker thread: PICOACME_AGAIN
 * until the answer is there; listen binds the wildcard address with
 * SO_REUSEADDR). */
void picoacme_posix_transport(picoacme_transport_t *out);

/* Fill *out with CLOCK_REALTIME / CLOCK_MONOTONIC. */
void picoacme_posix_clock(picoacme_clock_t *out);

/* getrandom(2), retried until len bytes are filled. */
picoacme_err_t picoacme_posix_entropy(uint8_t *buf, size_t len);

/* A file of `size` bytes emulating NOR flash: erase sets erase_size blocks
 * to 0xFF, write ANDs bytes in (can only clear bits), each write is synced
 * to disk. For tests, a power cut can be injected: after cut_after_bytes
 * more programmed/erased bytes the region stops changing and every call
 * fails with PICOACME_ERR_STORAGE (cut_after_bytes < 0 disables it). */
typedef struct picoacme_posix_flash {
    int fd;
    size_t size;
    size_t erase_size;
    long long cut_after_bytes;
    bool dead;
    unsigned long writes; /* write+erase calls so far, for tests */
} picoacme_posix_flash_t;

/* Open (creating, filled with 0xFF) the file at path as a flash region and
 * fill *out. size must be a multiple of erase_size. */
picoacme_err_t picoacme_posix_flash_open(picoacme_posix_flash_t *f, const char *path, size_t size,
                                         size_t erase_size, picoacme_storage_t *out);
void picoacme_posix_flash_close(picoacme_posix_flash_t *f);

#endif
