/*
 * picoacme_bsdsock_compat.h - the few names the BSD-sockets port uses,
 * mapped onto one of three socket APIs, chosen at compile time:
 *
 *   (default)                POSIX: <sys/socket.h>, poll(), fcntl()
 *   PICOACME_BSDSOCK_LWIP    lwIP's socket API (LWIP_SOCKET 1, NO_SYS 0):
 *                            lwip_socket(), lwip_poll() (LWIP_SOCKET_POLL)...
 *                            whatever LWIP_COMPAT_SOCKETS says
 *   PICOACME_BSDSOCK_ZEPHYR  Zephyr's zsock_*() (CONFIG_NET_SOCKETS), with or
 *                            without CONFIG_POSIX_API
 *
 * ports/bsdsock/src/bsdsock.c is written against the PA_* names only, so
 * the same source compiles unchanged on all three. A new stack needs one
 * more block here, nothing else.
 */
#ifndef PICOACME_BSDSOCK_COMPAT_H
#define PICOACME_BSDSOCK_COMPAT_H

#if defined(PICOACME_BSDSOCK_ZEPHYR)

#include <errno.h>
#include <zephyr/net/socket.h>

typedef struct zsock_pollfd picoacme_pollfd_t;
#define PA_SOCKET       zsock_socket
#define PA_CLOSE        zsock_close
#define PA_CONNECT      zsock_connect
#define PA_BIND         zsock_bind
#define PA_LISTEN       zsock_listen
#define PA_ACCEPT       zsock_accept
#define PA_SEND         zsock_send
#define PA_RECV         zsock_recv
#define PA_SENDTO       zsock_sendto
#define PA_SETSOCKOPT   zsock_setsockopt
#define PA_GETSOCKOPT   zsock_getsockopt
#define PA_GETSOCKNAME  zsock_getsockname
#define PA_FCNTL        zsock_fcntl
#define PA_POLL         zsock_poll
#define PA_INET_PTON    zsock_inet_pton
#define PA_POLLIN       ZSOCK_POLLIN
#define PA_POLLOUT      ZSOCK_POLLOUT
#define PA_MSG_NOSIGNAL 0 /* Zephyr raises no SIGPIPE */
#define PA_MSG_DONTWAIT ZSOCK_MSG_DONTWAIT
#if defined(CONFIG_NET_IPV6)
#define PA_HAVE_IPV6 1
#else
#define PA_HAVE_IPV6 0
#endif

#elif defined(PICOACME_BSDSOCK_LWIP)

#include <errno.h>

#include "lwip/opt.h"
#include "lwip/sockets.h"
#if !LWIP_SOCKET || !LWIP_SOCKET_POLL
#error "PICOACME_BSDSOCK_LWIP needs LWIP_SOCKET 1 and LWIP_SOCKET_POLL 1"
#endif

typedef struct pollfd picoacme_pollfd_t;
#define PA_SOCKET       lwip_socket
#define PA_CLOSE        lwip_close
#define PA_CONNECT      lwip_connect
#define PA_BIND         lwip_bind
#define PA_LISTEN       lwip_listen
#define PA_ACCEPT       lwip_accept
#define PA_SEND         lwip_send
#define PA_RECV         lwip_recv
#define PA_SENDTO       lwip_sendto
#define PA_SETSOCKOPT   lwip_setsockopt
#define PA_GETSOCKOPT   lwip_getsockopt
#define PA_GETSOCKNAME  lwip_getsockname
#define PA_FCNTL        lwip_fcntl
#define PA_POLL         lwip_poll
#define PA_INET_PTON    lwip_inet_pton
#define PA_POLLIN       POLLIN
#define PA_POLLOUT      POLLOUT
#define PA_MSG_NOSIGNAL 0 /* lwIP raises no SIGPIPE (and ignores the flag) */
#define PA_MSG_DONTWAIT MSG_DONTWAIT
#define PA_HAVE_IPV6    LWIP_IPV6

#else /* POSIX */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

typedef struct pollfd picoacme_pollfd_t;
#define PA_SOCKET      socket
#define PA_CLOSE       close
#define PA_CONNECT     connect
#define PA_BIND        bind
#define PA_LISTEN      listen
#define PA_ACCEPT      accept
#define PA_SEND        send
#define PA_RECV        recv
#define PA_SENDTO      sendto
#define PA_SETSOCKOPT  setsockopt
#define PA_GETSOCKOPT  getsockopt
#define PA_GETSOCKNAME getsockname
#define PA_FCNTL       fcntl
#define PA_POLL        poll
#define PA_INET_PTON   inet_pton
#define PA_POLLIN      POLLIN
#define PA_POLLOUT     POLLOUT
#ifdef MSG_NOSIGNAL
#define PA_MSG_NOSIGNAL MSG_NOSIGNAL
#else
#define PA_MSG_NOSIGNAL 0 /* BSDs: SO_NOSIGPIPE would be the way */
#endif
#define PA_MSG_DONTWAIT MSG_DONTWAIT
#define PA_HAVE_IPV6    1
/* Only POSIX moves a retried connect onto the same descriptor number. */
#define PA_DUP2         dup2

#endif

#endif
