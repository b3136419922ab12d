/*
 * lwipopts.h - lwIP 2.1.3 options of the qemu-mps2 firmware.
 *
 * NO_SYS superloop, raw API only, IPv4 + TCP + UDP + DHCP. Every buffer is a
 * static pool (lwIP's own mem heap is a static array too); sized for the
 * ACME client's few sequential connections plus one listener.
 */
#ifndef PICOACME_FW_LWIPOPTS_H
#define PICOACME_FW_LWIPOPTS_H

#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0

#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define IP_REASSEMBLY 0
#define IP_FRAG 0
#define LWIP_STATS 0
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1

#define MEM_ALIGNMENT 4
#define MEM_SIZE (8 * 1024)
/* the transport's connections (5) + one closing in TIME_WAIT */
#define MEMP_NUM_TCP_PCB 6
#define MEMP_NUM_TCP_PCB_LISTEN 1
#define MEMP_NUM_UDP_PCB 3
#define MEMP_NUM_TCP_SEG 16
#define MEMP_NUM_PBUF 16
#define PBUF_POOL_SIZE 12
#define PBUF_POOL_BUFSIZE 1536

#define TCP_MSS 1460
#define TCP_WND (4 * TCP_MSS)
#define TCP_SND_BUF (2 * TCP_MSS)
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF) / TCP_MSS)
#define LWIP_TCP_KEEPALIVE 0
/* listen again on :80 while accepted connections are in TIME_WAIT */
#define SO_REUSE 1

#define LWIP_CHECKSUM_CTRL_PER_NETIF 0

/* Randomness for ports, ISNs and DHCP xids: the board's hook. */
#include <stdint.h>
uint32_t fw_lwip_rand(void);
#define LWIP_RAND() fw_lwip_rand()


#endif
