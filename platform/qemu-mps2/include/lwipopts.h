/*
 * lwipopts.h - lwIP 2.1.3 options of the qemu-mps2 firmware.
 *
 * NO_SYS superloop, raw API only, IPv4 + TCP + UDP + DHCP + DNS. Every buffer is a
 * static pool (lwIP's own mem heap is a static array too); sized for the
 * ACME client's few sequential connections plus one listener.
 */
#ifndef PICOACME_FW_LWIPOPTS_H
#define PICOACME_FW_LWIPOPTS_H

#define NO_SYS               1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_SOCKET          0
#define LWIP_NETCONN         0
#define LWIP_NETIF_API       0

#define LWIP_IPV4     1
#define LWIP_IPV6     0
#define LWIP_ARP      1
#define LWIP_ETHERNET 1
#define LWIP_ICMP     1
#define LWIP_RAW      0
#define LWIP_UDP      1
#define LWIP_TCP      1
#define LWIP_DHCP     1
#define LWIP_AUTOIP   0
#define LWIP_IGMP     0
/* Names through lwIP's DNS client. QEMU's restricted network has no DNS
 * server, so the one name the firmware needs comes from the local host
 * list: FW_LWIP_HOST -> FW_LWIP_HOST_ADDR, set by CMakeLists.txt from
 * FW_CA_HOST / FW_CA_ADDR (FW_TLS_HOST / FW_TLS_ADDR for tls-smoke); the
 * address is written as its four bytes in parentheses. One table entry
 * and short names keep the RAM small. */
#define LWIP_DNS            1
#define DNS_TABLE_SIZE      1
#define DNS_MAX_NAME_LENGTH 64
#define DNS_MAX_SERVERS     1
#define DNS_LOCAL_HOSTLIST  1
#ifndef FW_LWIP_HOST
#define FW_LWIP_HOST "acme.internal"
#endif
#ifndef FW_LWIP_HOST_ADDR
#define FW_LWIP_HOST_ADDR (10, 0, 2, 100)
#endif
#define FW_LWIP_ADDR4(bytes) IPADDR4_INIT_BYTES bytes
#define DNS_LOCAL_HOSTLIST_INIT                                                                    \
    {                                                                                              \
        DNS_LOCAL_HOSTLIST_ELEM(FW_LWIP_HOST, FW_LWIP_ADDR4(FW_LWIP_HOST_ADDR))                    \
    }
#define IP_REASSEMBLY              0
#define IP_FRAG                    0
#define LWIP_STATS                 0
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK   1

#define MEM_ALIGNMENT 4
/* lwIP's heap holds transmitted data until it is acknowledged: the CA
 * connection's TCP_SND_BUF (2920) + three http-01 answers (~0.4 KB each)
 * + ARP/DHCP. When it is full tcp_write() says ERR_MEM and the transport
 * answers "would block" (the engine retries), so this only bounds speed. */
#define MEM_SIZE (6 * 1024)
/* PICOACME_LWIP_CONNS (4: the CA + Pebble's 3 concurrent validators) + one
 * more; a pcb in TIME_WAIT is reused by tcp_alloc() when they run out. */
#define MEMP_NUM_TCP_PCB        5
#define MEMP_NUM_TCP_PCB_LISTEN 1
/* DHCP, and a DNS query (the transport has no UDP sockets in this
 * firmware). */
#define MEMP_NUM_UDP_PCB 2
#define MEMP_NUM_TCP_SEG 16
/* PBUF_REF/ROM: the transport copies (TCP_WRITE_FLAG_COPY). */
#define MEMP_NUM_PBUF 4
/* Received frames: the driver hands each to lwIP at once and the
 * transport's recv callback copies it into the connection's ring, so only
 * out-of-order segments (at most a window, 2 segments, per connection)
 * stay. 6 x 1536 B. */
#define PBUF_POOL_SIZE    6
#define PBUF_POOL_BUFSIZE 1536

#define TCP_MSS 1460
/* The receive window is the transport's ring per connection
 * (PICOACME_LWIP_RX_RING >= TCP_WND, checked by the port): 2 segments.
 * Bigger windows only speed up bulk transfers, which ACME has none of. */
#define TCP_WND            (2 * TCP_MSS)
#define TCP_SND_BUF        (2 * TCP_MSS)
#define TCP_SND_QUEUELEN   ((4 * TCP_SND_BUF) / TCP_MSS)
#define LWIP_TCP_KEEPALIVE 0
/* listen again on :80 while accepted connections are in TIME_WAIT */
#define SO_REUSE 1

#define LWIP_CHECKSUM_CTRL_PER_NETIF 0

/* Randomness for ports, ISNs and DHCP xids: the board's hook. */
#include <stdint.h>
uint32_t fw_lwip_rand(void);
#define LWIP_RAND() fw_lwip_rand()

#endif
