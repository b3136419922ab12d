/*
 * lwipopts.h - lwIP 2.1.3 of the FreeRTOS sample: threaded (NO_SYS 0,
 * tcpip_thread), the socket API for ports/bsdsock (lwip_* names only), the
 * core lock (the resolver hook calls the DNS client under it), IPv4 + TCP +
 * UDP + DHCP + DNS, static pools only (lwIP's heap is a static array).
 * ARP_QUEUEING on: the validators' connections that arrive together while
 * the gateway's MAC is still being resolved are queued, not dropped.
 */
#ifndef PICOACME_FREERTOS_LWIPOPTS_H
#define PICOACME_FREERTOS_LWIPOPTS_H

#define NO_SYS                      0
#define SYS_LIGHTWEIGHT_PROT        1
#define LWIP_TCPIP_CORE_LOCKING     1
#define LWIP_SOCKET                 1
#define LWIP_SOCKET_POLL            1
#define LWIP_SOCKET_SELECT          0
#define LWIP_NETCONN                1
#define LWIP_COMPAT_SOCKETS         0
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_NETIF_API              0
#define LWIP_TIMEVAL_PRIVATE        0
#define LWIP_ERRNO_STDINCLUDE       1
#define LWIP_SO_RCVTIMEO            0
#define LWIP_SO_SNDTIMEO            0
#define LWIP_TCP_KEEPALIVE          0
#define SO_REUSE                    1

#define TCPIP_THREAD_NAME         "tcpip"
#define TCPIP_THREAD_STACKSIZE    1024 /* bytes: ~2x the measured 488 */
#define TCPIP_THREAD_PRIO         4
#define TCPIP_MBOX_SIZE           16
#define DEFAULT_TCP_RECVMBOX_SIZE 16
#define DEFAULT_UDP_RECVMBOX_SIZE 4
#define DEFAULT_ACCEPTMBOX_SIZE   4

#define LWIP_IPV4          1
#define LWIP_IPV6          0
#define LWIP_ARP           1
#define ARP_QUEUEING       1
#define MEMP_NUM_ARP_QUEUE 8
#define LWIP_ETHERNET      1
#define LWIP_ICMP          1
#define LWIP_RAW           0
#define LWIP_UDP           1
#define LWIP_TCP           1
#define LWIP_DHCP          1
#define LWIP_AUTOIP        0
#define LWIP_IGMP          0

/* names: the CA's from the local host list (no DNS server in QEMU's
 * restricted network), FW_LWIP_HOST -> FW_LWIP_HOST_ADDR from CMake */
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

#define IP_REASSEMBLY                0
#define IP_FRAG                      0
#define LWIP_STATS                   0
#define LWIP_NETIF_STATUS_CALLBACK   1
#define LWIP_NETIF_LINK_CALLBACK     1
#define LWIP_CHECKSUM_CTRL_PER_NETIF 0

#define MEM_ALIGNMENT 4
#define MEM_SIZE      (8 * 1024)
/* sockets: the CA connection, 3 validators at once, the http-01 listener;
 * with the HTTPS server (FW_HTTPS) its listener and one connection more */
#if defined(FW_HTTPS)
#define MEMP_NUM_NETCONN        9
#define MEMP_NUM_TCP_PCB        8
#define MEMP_NUM_TCP_PCB_LISTEN 2
#else
#define MEMP_NUM_NETCONN        7
#define MEMP_NUM_TCP_PCB        6
#define MEMP_NUM_TCP_PCB_LISTEN 1
#endif
#define MEMP_NUM_UDP_PCB         3
#define MEMP_NUM_TCP_SEG         16
#define MEMP_NUM_PBUF            8
#define MEMP_NUM_NETBUF          4
#define MEMP_NUM_TCPIP_MSG_API   8
#define MEMP_NUM_TCPIP_MSG_INPKT 8
/* received frames wait in the sockets' mailboxes until read: 10 x 1.5 KB */
#define PBUF_POOL_SIZE    10
#define PBUF_POOL_BUFSIZE 1536

#define TCP_MSS          1460
#define TCP_WND          (2 * TCP_MSS)
#define TCP_SND_BUF      (2 * TCP_MSS)
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF) / TCP_MSS)

/* Debian's lwIP 2.1.3 (patch "port", for the Hurd) has sockets.c take
 * these from a port header; with lwIP's own struct sockaddr (sa_len
 * first) they are: */
#define IP4ADDR_SOCKADDR_SET_LEN(sin)  (sin)->sin_len = sizeof(struct sockaddr_in)
#define IP6ADDR_SOCKADDR_SET_LEN(sin6) (sin6)->sin6_len = sizeof(struct sockaddr_in6)
#define IPADDR_SOCKADDR_GET_LEN(addr)  (addr)->sa.sa_len

#include <stdint.h>
uint32_t fw_lwip_rand(void);
#define LWIP_RAND() fw_lwip_rand()

#endif
