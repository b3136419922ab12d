/*
 * udp.c - POSIX transport port, UDP for dns-01: one unconnected,
 * non-blocking datagram socket per udp_open (the picoacme_sock_t is the
 * fd; the transport's close() releases it).
 *
 * The socket is IPv6 with IPV6_V6ONLY off, so it reaches IPv6 peers and,
 * through v4-mapped addresses, IPv4 peers; on a host without IPv6 it is an
 * IPv4 socket and reaches IPv4 peers only. udp_send takes host's addresses
 * from resolve.c (a literal at once; for a name PICOACME_AGAIN, nothing
 * sent, until the lookup is done) and sends to the first address the
 * socket can reach.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "resolve.h"
#include "udp.h"

picoacme_err_t picoacme_posix_udp_open(void *user, picoacme_sock_t *sock)
{
    int fd;
    int zero = 0;

    (void)user;
    if (sock == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *sock = PICOACME_SOCK_NONE;
    fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) != 0) {
        (void)close(fd);
        fd = -1;
    }
    if (fd < 0) {
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    if (fd < 0) {
        return PICOACME_ERR_IO;
    }
    *sock = (picoacme_sock_t)fd;
    return PICOACME_OK;
}

/* The address family of the socket, or -1. */
static int sock_family(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;

    memset(&ss, 0, sizeof ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        return -1;
    }
    return ss.ss_family;
}

/* Fill *dst with an address of host:port the socket of family fam can
 * send to (IPv4 as v4-mapped for an IPv6 socket). */
static picoacme_err_t resolve(int fam, const char *host, uint16_t port,
                              struct sockaddr_storage *dst, socklen_t *dst_len)
{
    struct addrinfo *res = NULL;
    struct addrinfo *ai;
    picoacme_err_t e = picoacme_posix_resolve(host, port, SOCK_DGRAM, &res);

    if (e != PICOACME_OK) {
        return e; /* AGAIN while the name resolves */
    }
    e = PICOACME_ERR_IO; /* until an address the socket reaches is found */
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        memset(dst, 0, sizeof *dst);
        if (ai->ai_family == fam && ai->ai_addrlen <= sizeof *dst) {
            memcpy(dst, ai->ai_addr, ai->ai_addrlen);
            *dst_len = ai->ai_addrlen;
            e = PICOACME_OK;
            break;
        }
        if (fam == AF_INET6 && ai->ai_family == AF_INET) {
            const struct sockaddr_in *a4 = (const struct sockaddr_in *)ai->ai_addr;
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)dst;
            a6->sin6_family = AF_INET6;
            a6->sin6_port = a4->sin_port;
            a6->sin6_addr.s6_addr[10] = 0xFF;
            a6->sin6_addr.s6_addr[11] = 0xFF;
            memcpy(&a6->sin6_addr.s6_addr[12], &a4->sin_addr, 4);
            *dst_len = sizeof *a6;
            e = PICOACME_OK;
            break;
        }
    }
    freeaddrinfo(res);
    return e;
}

picoacme_err_t picoacme_posix_udp_send(void *user, picoacme_sock_t sock, const char *host,
                                       uint16_t port, const uint8_t *buf, size_t len)
{
    struct sockaddr_storage dst;
    socklen_t dst_len = 0;
    picoacme_err_t e;
    ssize_t n;
    int fam;

    (void)user;
    if (sock < 0 || host == NULL || host[0] == '\0' || port == 0U || (buf == NULL && len != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    fam = sock_family((int)sock);
    if (fam != AF_INET && fam != AF_INET6) {
        return PICOACME_ERR_IO;
    }
    e = resolve(fam, host, port, &dst, &dst_len);
    if (e != PICOACME_OK) {
        return e;
    }
    for (;;) {
        n = sendto((int)sock, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)&dst,
                   dst_len);
        if (n >= 0) {
            break;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
            return PICOACME_WANT_WRITE;
        }
        return PICOACME_ERR_IO;
    }
    return (size_t)n == len ? PICOACME_OK : PICOACME_ERR_IO;
}

picoacme_err_t picoacme_posix_udp_recv(void *user, picoacme_sock_t sock, uint8_t *buf, size_t cap,
                                       size_t *received)
{
    ssize_t n;

    (void)user;
    if (sock < 0 || buf == NULL || cap == 0U || received == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *received = 0;
    for (;;) {
        n = recv((int)sock, buf, cap, MSG_DONTWAIT);
        if (n >= 0) {
            break;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return PICOACME_WANT_READ;
        }
        /* ICMP port unreachable from an earlier send: that peer is not
         * listening. */
        return PICOACME_ERR_IO;
    }
    *received = (size_t)n;
    return PICOACME_OK;
}
