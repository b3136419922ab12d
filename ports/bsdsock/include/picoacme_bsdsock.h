/*
 * picoacme_bsdsock.h - the picoacme transport over BSD sockets: one source
 * (src/bsdsock.c) for POSIX, lwIP's socket API (threaded lwIP, NO_SYS 0)
 * and Zephyr's zsock_*() API; picoacme_bsdsock_compat.h maps the names
 * (define PICOACME_BSDSOCK_LWIP or PICOACME_BSDSOCK_ZEPHYR for those two).
 *
 * A picoacme_sock_t is the socket descriptor itself, so the engine's wait
 * descriptor turns into a pollfd array directly (picoacme_wait_pollfds()).
 * Every socket is non-blocking (fcntl O_NONBLOCK): connect() starts the
 * connection and send()/recv() answer PICOACME_WANT_WRITE until it is up.
 *
 * Names: a literal IPv4 or IPv6 address is converted at once (inet_pton).
 * Any other host goes to the resolver hook the platform provides; it must
 * never block either: it answers PICOACME_AGAIN until its answer is there
 * (src/resolve_gai.c: getaddrinfo on ports/posix's worker thread;
 * src/resolve_lwip.c: lwIP's DNS client under the tcpip core lock; Zephyr:
 * ports/zephyr over dns_get_addr_info()). Without a hook, names answer
 * PICOACME_ERR_NOT_FOUND.
 *
 * The context is caller-owned (a static, no heap) and belongs to the one
 * task that drives the engine.
 */
#ifndef PICOACME_BSDSOCK_H
#define PICOACME_BSDSOCK_H

#include <stddef.h>
#include <stdint.h>

#include "picoacme.h"
#include "picoacme_bsdsock_compat.h"
#include "picoacme_port.h"

/* Connects in progress at once (each keeps the addresses still to try). */
#ifndef PICOACME_BSDSOCK_PENDING
#define PICOACME_BSDSOCK_PENDING 4U
#endif
/* Addresses of one name tried in turn by a connect. Retrying on the same
 * descriptor number needs dup2(), so only POSIX goes past the first one. */
#ifndef PICOACME_BSDSOCK_ADDRS
#define PICOACME_BSDSOCK_ADDRS 4U
#endif
/* Backlog of the http-01 / tls-alpn-01 listener. */
#ifndef PICOACME_BSDSOCK_BACKLOG
#define PICOACME_BSDSOCK_BACKLOG 4
#endif

/* One socket address, with its length. */
typedef struct picoacme_bsdsock_addr {
    struct sockaddr_storage ss;
    socklen_t len;
} picoacme_bsdsock_addr_t;

/* The platform's name resolver (never called for a literal address).
 * resolve: up to cap addresses of host with port set (network order)
 *   into addr[], their number in *count; socktype is SOCK_STREAM or
 *   SOCK_DGRAM. Returns PICOACME_OK (*count >= 1), PICOACME_AGAIN while the
 *   lookup runs (the port asks again with the same arguments; another host
 *   may replace it), PICOACME_ERR_NOT_FOUND (no such name) or
 *   PICOACME_ERR_IO (no server answered, a name the resolver refuses). */
typedef struct picoacme_bsdsock_resolver {
    void *user;
    picoacme_err_t (*resolve)(void *user, const char *host, uint16_t port, int socktype,
                              picoacme_bsdsock_addr_t *addr, unsigned cap, unsigned *count);
} picoacme_bsdsock_resolver_t;

/* A connect in progress (internal). fd < 0: free. */
typedef struct picoacme_bsdsock_pending {
    int fd;
    uint8_t next;
    uint8_t count;
    picoacme_bsdsock_addr_t addr[PICOACME_BSDSOCK_ADDRS];
} picoacme_bsdsock_pending_t;

typedef struct picoacme_bsdsock {
    picoacme_bsdsock_resolver_t resolver;
    picoacme_bsdsock_pending_t pending[PICOACME_BSDSOCK_PENDING];
} picoacme_bsdsock_t;

/* Reset b and fill *out with the transport (connect, send, recv, close,
 * listen, accept, udp_open, udp_send, udp_recv); out->user is b.
 * resolver: copied; NULL means literal addresses only. b must outlive the
 * transport. Never fails. */
void picoacme_bsdsock_init(picoacme_bsdsock_t *b, const picoacme_bsdsock_resolver_t *resolver,
                           picoacme_transport_t *out);

/* Turn the engine's wait descriptor into pollfds for poll()/lwip_poll()/
 * zsock_poll(): one entry per socket of wait, events POLLIN for
 * PICOACME_EV_READ, POLLOUT for PICOACME_EV_WRITE, revents 0.
 * pfd: room for cap entries (PICOACME_WAIT_SOCKS is always enough).
 * timeout_ms (may be NULL): the poll timeout in ms, wait->timeout_ms
 *   clipped to max_ms (UINT32_MAX, "no timer", becomes max_ms; max_ms < 0
 *   leaves "no timer" as -1, poll's "forever").
 * Returns the number of entries written (0 when wait or pfd is NULL;
 * sockets beyond cap are left out). */
size_t picoacme_wait_pollfds(const picoacme_wait_t *wait, picoacme_pollfd_t *pfd, size_t cap,
                             int max_ms, int *timeout_ms);

#if !defined(PICOACME_BSDSOCK_LWIP) && !defined(PICOACME_BSDSOCK_ZEPHYR)
/* POSIX only (src/resolve_gai.c, link ports/posix): the resolver hook over
 * ports/posix's getaddrinfo in a worker thread (one lookup at a time,
 * PICOACME_AGAIN until done). Fills *out; never fails. */
void picoacme_bsdsock_gai_resolver(picoacme_bsdsock_resolver_t *out);
#endif

#if defined(PICOACME_BSDSOCK_LWIP)
/* lwIP only (src/resolve_lwip.c, LWIP_DNS and LWIP_TCPIP_CORE_LOCKING):
 * the resolver hook over lwIP's DNS client, called under the tcpip core
 * lock; the answer arrives in tcpip_thread. IPv4 answers only. One lookup
 * at a time; its state lives in a static. Fills *out; never fails. */
void picoacme_bsdsock_lwip_resolver(picoacme_bsdsock_resolver_t *out);
#endif

#endif
