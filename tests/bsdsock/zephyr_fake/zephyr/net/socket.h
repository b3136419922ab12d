/*
 * A stand-in for Zephyr's <zephyr/net/socket.h>, for tests only: the
 * zsock_*() names and ZSOCK_* constants the BSD-sockets port uses, as thin
 * wrappers over the host's POSIX sockets. Compiling ports/bsdsock with
 * PICOACME_BSDSOCK_ZEPHYR against it shows that the port uses nothing but
 * those names on Zephyr (no dup2, no accept4, no SOCK_NONBLOCK) and lets the
 * same unit test run over them. The signatures follow Zephyr's
 * (include/zephyr/net/socket.h, v3.x); Zephyr itself is not built here.
 */
#ifndef PICOACME_TEST_FAKE_ZEPHYR_SOCKET_H
#define PICOACME_TEST_FAKE_ZEPHYR_SOCKET_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* what a Zephyr build with CONFIG_NET_IPV6=y has in autoconf.h */
#define CONFIG_NET_IPV6 1

#define ZSOCK_POLLIN       POLLIN
#define ZSOCK_POLLOUT      POLLOUT
#define ZSOCK_MSG_DONTWAIT MSG_DONTWAIT

struct zsock_pollfd {
    int fd;
    short events;
    short revents;
};

static inline int zsock_socket(int family, int type, int proto)
{
    return socket(family, type, proto);
}
static inline int zsock_close(int sock)
{
    return close(sock);
}
static inline int zsock_connect(int sock, const struct sockaddr *addr, socklen_t addrlen)
{
    return connect(sock, addr, addrlen);
}
static inline int zsock_bind(int sock, const struct sockaddr *addr, socklen_t addrlen)
{
    return bind(sock, addr, addrlen);
}
static inline int zsock_listen(int sock, int backlog)
{
    return listen(sock, backlog);
}
static inline int zsock_accept(int sock, struct sockaddr *addr, socklen_t *addrlen)
{
    return accept(sock, addr, addrlen);
}
static inline ssize_t zsock_send(int sock, const void *buf, size_t len, int flags)
{
    return send(sock, buf, len, flags | MSG_NOSIGNAL); /* Zephyr has no SIGPIPE */
}
static inline ssize_t zsock_recv(int sock, void *buf, size_t max_len, int flags)
{
    return recv(sock, buf, max_len, flags);
}
static inline ssize_t zsock_sendto(int sock, const void *buf, size_t len, int flags,
                                   const struct sockaddr *dest_addr, socklen_t addrlen)
{
    return sendto(sock, buf, len, flags | MSG_NOSIGNAL, dest_addr, addrlen);
}
static inline int zsock_setsockopt(int sock, int level, int optname, const void *optval,
                                   socklen_t optlen)
{
    return setsockopt(sock, level, optname, optval, optlen);
}
static inline int zsock_getsockopt(int sock, int level, int optname, void *optval,
                                   socklen_t *optlen)
{
    return getsockopt(sock, level, optname, optval, optlen);
}
static inline int zsock_getsockname(int sock, struct sockaddr *addr, socklen_t *addrlen)
{
    return getsockname(sock, addr, addrlen);
}
static inline int zsock_fcntl(int sock, int cmd, int flags)
{
    return fcntl(sock, cmd, flags);
}
static inline int zsock_poll(struct zsock_pollfd *fds, int nfds, int timeout)
{
    return poll((struct pollfd *)(void *)fds, (nfds_t)nfds, timeout);
}
static inline int zsock_inet_pton(sa_family_t family, const char *src, void *dst)
{
    return inet_pton(family, src, dst);
}

#endif
