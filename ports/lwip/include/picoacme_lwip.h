/*
 * picoacme_lwip.h - the picoacme transport over lwIP's raw TCP API, for
 * NO_SYS superloops (no threads, no heap beyond lwIP's own static pools).
 *
 * Connections live in a fixed table inside the caller-owned context; a
 * picoacme_sock_t is an index into it. Received data is copied from the
 * recv callback into a per-connection ring and acknowledged to the peer
 * (tcp_recved) only as the engine consumes it, so the TCP window is the
 * flow control. Host names are resolved through a static table the
 * firmware provides; literal dotted IPv4 addresses work without it.
 *
 * Everything must run in the lwIP context (the superloop that also calls
 * the netif poll and sys_check_timeouts()).
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

struct tcp_pcb;

/* One static name -> address entry (addr is a dotted IPv4 literal). */
typedef struct picoacme_lwip_host {
    const char *name;
    const char *addr;
} picoacme_lwip_host_t;

typedef struct picoacme_lwip_conn {
    struct tcp_pcb *pcb;
    uint8_t state;        /* internal: free, connecting, open, ... */
    bool pending_accept;  /* accepted by lwIP, not yet handed out */
    picoacme_err_t err;   /* the error reported once state is failed */
    size_t head;          /* ring read position */
    size_t len;           /* bytes in the ring */
    uint8_t ring[PICOACME_LWIP_RX_RING];
} picoacme_lwip_conn_t;

typedef struct picoacme_lwip {
    const picoacme_lwip_host_t *hosts;
    size_t n_hosts;
    struct tcp_pcb *listener;
    picoacme_lwip_conn_t conn[PICOACME_LWIP_CONNS];
} picoacme_lwip_t;

/* The listener's handle (a single listener is supported). */
#define PICOACME_LWIP_LISTENER ((picoacme_sock_t)PICOACME_LWIP_CONNS)

/* Reset the context and fill *out. hosts (may be NULL when n_hosts is 0)
 * must outlive the context; the table is searched case-insensitively. */
void picoacme_lwip_init(picoacme_lwip_t *l, const picoacme_lwip_host_t *hosts,
                        size_t n_hosts, picoacme_transport_t *out);

/* Abort every connection and the listener (e.g. before the netif goes). */
void picoacme_lwip_shutdown(picoacme_lwip_t *l);

#endif
