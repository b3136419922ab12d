/* lwIP options for compiling ports/bsdsock against lwIP's socket API
 * (tests/bsdsock/compile_lwip.sh): threaded lwIP with sockets, IPv4 and
 * IPv6, the DNS client and the core lock, as an RTOS build has them. */
#ifndef PICOACME_TEST_LWIPOPTS_H
#define PICOACME_TEST_LWIPOPTS_H
#define NO_SYS                      0
#define LWIP_SOCKET                 1
#define LWIP_NETCONN                1
#define LWIP_SOCKET_POLL            1
#define LWIP_COMPAT_SOCKETS         0 /* lwip_* names only: no clash with libc */
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_TCPIP_CORE_LOCKING     1
#define LWIP_IPV4                   1
#define LWIP_IPV6                   1
#define LWIP_DNS                    1
#define LWIP_TCP                    1
#define LWIP_UDP                    1
#define SO_REUSE                    1
#define LWIP_TIMEVAL_PRIVATE        0
#define LWIP_ERRNO_STDINCLUDE       1
#endif
