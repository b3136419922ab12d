/*
 * picoacme_lwip.h - the picoacme transport over lwIP's raw TCP API, for
 * NO_SYS superloops (no threads, no heap beyond lwIP's own static pools).
 *
 * Connections live in a fixed table inside the caller-owned context; a
 * picoacme_sock_t is an index into it. Received data is copied from the
 * recv callback into a per-connection ring and acknowledged to the peer
 * (tcp_recved) only as the engine consumes it, so the TCP window is the
 * flow control. Host names are resolved by lwIP's DNS client
 * (LWIP_DNS; its DNS_LOCAL_HOSTLIST gives fixed names without a server):
 * connect() and udp_send() answer PICOACME_AGAIN until the address is
 * there. Literal dotted IPv4 addresses need no DNS; without LWIP_DNS they
 * are the only hosts.
 *
 * NO_SYS 1: everything must run in the lwIP context (the superloop that
 * also calls the netif poll and sys_check_timeouts()). Threaded lwIP
 * (NO_SYS 0, LWIP_TCPIP_CORE_LOCKING 1): the transport may be called from
 * any one task; each call takes the tcpip core lock around its raw-API
 * work, and lwIP's callbacks fill the connection table from tcpip_thread.
 * The wake hook (picoacme_lwip_set_wake) lets that task sleep, e.g. on a
 * task notification, until a callback says something may be ready or the
 * engine's timeout passes, instead of waking every tick.
 */
#ifndef PICOACME_LWIP_H
#define PICOACME_LWIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme_port.h"

/* Connections (client and accepted) open at the same time. */
#ifndef PICOACME_LWIP_CONNS
#define PICOACME_LWIP_CONNS 3U
#endif
/* Receive ring per connection; must be >= lwIP's TCP_WND (checked). */
#ifndef PICOACME_LWIP_RX_RING
#define PICOACME_LWIP_RX_RING 8192U
#endif

/* UDP sockets (dns-01: RFC 2136 UPDATE and the propagation query); 0
 * leaves UDP out of the transport (udp_* are NULL: no dns-01). */
#ifndef PICOACME_LWIP_UDP_SOCKS
#define PICOACME_LWIP_UDP_SOCKS 1U
#endif
/* Datagrams queued per UDP socket, and the largest kept (longer ones are
 * truncated, as the contract says). */
#ifndef PICOACME_LWIP_UDP_QUEUE
#define PICOACME_LWIP_UDP_QUEUE 2U
#endif
#ifndef PICOACME_LWIP_UDP_MAX
#define PICOACME_LWIP_UDP_MAX 1232U
#endif

/* Longest host name looked up (longer: PICOACME_ERR_NOSPACE); lwIP's
 * DNS_MAX_NAME_LENGTH bounds it too. */
#ifndef PICOACME_LWIP_HOST_MAX
#define PICOACME_LWIP_HOST_MAX 255U
#endif

struct tcp_pcb;
struct udp_pcb;

typedef struct picoacme_lwip_conn {
    struct tcp_pcb *pcb;
    uint8_t state;       /* internal: free, connecting, open, ... */
    bool pending_accept; /* accepted by lwIP, not yet handed out */
    picoacme_err_t err;  /* the error reported once state is failed */
    size_t head;         /* ring read position */
    size_t len;          /* bytes in the ring */
    uint8_t ring[PICOACME_LWIP_RX_RING];
} picoacme_lwip_conn_t;

/* An unconnected UDP socket. Only datagrams from the address and port
 * last sent to are queued (a DNS client talks to one server at a time). */
typedef struct picoacme_lwip_udp {
    struct udp_pcb *pcb;
    uint32_t peer_addr; /* network order, 0 until the first send */
    uint16_t peer_port;
    uint8_t head;  /* oldest queued datagram */
    uint8_t count; /* datagrams queued */
    uint16_t len[PICOACME_LWIP_UDP_QUEUE];
    uint8_t data[PICOACME_LWIP_UDP_QUEUE][PICOACME_LWIP_UDP_MAX];
} picoacme_lwip_udp_t;

typedef struct picoacme_lwip {
    struct tcp_pcb *listener;
    /* the one name lookup (connect/udp_send ask again until it is done) */
    uint32_t lookup_addr; /* IPv4, network order, once found */
    uint8_t lookup_state; /* internal: idle, pending, found, failed */
    char lookup_name[PICOACME_LWIP_HOST_MAX + 1U];
    picoacme_lwip_conn_t conn[PICOACME_LWIP_CONNS];
#if PICOACME_LWIP_UDP_SOCKS > 0
    picoacme_lwip_udp_t udp[PICOACME_LWIP_UDP_SOCKS];
#endif
} picoacme_lwip_t;

/* Handles: 0..CONNS-1 are TCP connections, CONNS is the listener (one is
 * supported), CONNS+1.. are UDP sockets. */
#define PICOACME_LWIP_LISTENER ((picoacme_sock_t)PICOACME_LWIP_CONNS)
#define PICOACME_LWIP_UDP_BASE ((picoacme_sock_t)(PICOACME_LWIP_CONNS + 1U))

/* Reset the context and fill *out. The context must outlive lwIP's DNS
 * queries (a static): their callbacks carry it. */
void picoacme_lwip_init(picoacme_lwip_t *l, picoacme_transport_t *out);

/* The wake hook: fn(user) is called from lwIP's callbacks (in
 * tcpip_thread for threaded lwIP, in the superloop for NO_SYS) whenever a
 * connection, the listener, a UDP socket or a name lookup may have become
 * ready (FreeRTOS: xTaskNotifyGive(task) of the task that pumps the
 * engine, which waits in ulTaskNotifyTake() with the engine's timeout). It must not block or call
 * the transport. One hook per system; NULL removes it. */
void picoacme_lwip_set_wake(void (*fn)(void *user), void *user);

/* Abort every connection and the listener (e.g. before the netif goes). */
void picoacme_lwip_shutdown(picoacme_lwip_t *l);

#endif
