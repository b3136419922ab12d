/*
 * net.c - POSIX transport port: non-blocking TCP sockets. A picoacme_sock_t
 * is the file descriptor.
 *
 * connect() takes the addresses from resolve.c (a literal at once; a name
 * answers PICOACME_AGAIN until its lookup, in a worker thread, is done) and
 * starts a non-blocking connect to the first address. While the connect is
 * pending,
 * send() and recv() answer PICOACME_WANT_WRITE. If that address refuses,
 * the next resolved address is tried on the same descriptor number (dup2),
 * so "localhost" works whether the server listens on ::1 or 127.0.0.1.
 * The pending-connect table is static and not thread-safe: one engine
 * thread drives the transport, as everywhere in picoacme.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, dup3 (Linux) */
#endif
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "picoacme_posix.h"
#include "resolve.h"
#include "udp.h"

#define NET_PENDING_MAX 8U /* connects in progress at once */
#define NET_ADDRS_MAX   4U /* resolved addresses tried per connect */
#define NET_BACKLOG     16

typedef struct pending {
    int fd; /* -1 when free */
    unsigned next;
    unsigned count;
    struct sockaddr_storage addr[NET_ADDRS_MAX];
    socklen_t addr_len[NET_ADDRS_MAX];
} pending_t;

static pending_t g_pending[NET_PENDING_MAX];
static int g_pending_ready; /* table initialised */

static void pending_init(void)
{
    unsigned i;

    if (g_pending_ready) {
        return;
    }
    for (i = 0; i < NET_PENDING_MAX; i++) {
        g_pending[i].fd = -1;
    }
    g_pending_ready = 1;
}

static pending_t *pending_find(int fd)
{
    unsigned i;

    pending_init();
    for (i = 0; i < NET_PENDING_MAX; i++) {
        if (g_pending[i].fd == fd) {
            return &g_pending[i];
        }
    }
    return NULL;
}

/* Start a non-blocking connect; returns the fd or -1 with errno set. */
static int start_connect(const struct sockaddr *sa, socklen_t sa_len)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd < 0) {
        return -1;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, sa, sa_len) == 0 || errno == EINPROGRESS) {
        return fd;
    }
    {
        int saved = errno;
        (void)close(fd);
        errno = saved;
    }
    return -1;
}

/* Move the pending connect of p to its next address, keeping the fd number.
 * Returns WANT_WRITE when a new attempt is under way, ERR_IO when none is
 * left (p is released then). */
static picoacme_err_t pending_advance(pending_t *p)
{
    while (p->next < p->count) {
        unsigned i = p->next++;
        int nfd = start_connect((const struct sockaddr *)&p->addr[i], p->addr_len[i]);
        if (nfd < 0) {
            continue;
        }
        if (dup3(nfd, p->fd, O_CLOEXEC) < 0) {
            (void)close(nfd);
            break;
        }
        (void)close(nfd);
        return PICOACME_WANT_WRITE;
    }
    p->fd = -1;
    return PICOACME_ERR_IO;
}

/* For a socket whose connect may still be running: OK when connected,
 * WANT_WRITE while pending, ERR_IO when every address failed. */
static picoacme_err_t pending_check(int fd)
{
    pending_t *p = pending_find(fd);
    struct pollfd pfd;
    int err = 0;
    socklen_t err_len = sizeof err;
    int n;

    if (p == NULL) {
        return PICOACME_OK;
    }
    pfd.fd = fd;
    pfd.events = POLLOUT;
    pfd.revents = 0;
    n = poll(&pfd, 1, 0);
    if (n < 0) {
        return errno == EINTR ? PICOACME_WANT_WRITE : PICOACME_ERR_IO;
    }
    if (n == 0) {
        return PICOACME_WANT_WRITE;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) {
        err = errno;
    }
    if (err == 0) {
        p->fd = -1; /* connected */
        return PICOACME_OK;
    }
    if (err == EINPROGRESS || err == EALREADY) {
        return PICOACME_WANT_WRITE;
    }
    return pending_advance(p);
}

/* Keep up to NET_ADDRS_MAX addresses of res in p. */
static void pending_fill(pending_t *p, const struct addrinfo *res)
{
    const struct addrinfo *ai;

    memset(p, 0, sizeof *p);
    for (ai = res; ai != NULL && p->count < NET_ADDRS_MAX; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof p->addr[0]) {
            continue;
        }
        memcpy(&p->addr[p->count], ai->ai_addr, ai->ai_addrlen);
        p->addr_len[p->count] = ai->ai_addrlen;
        p->count++;
    }
}

static picoacme_err_t posix_connect(void *user, const char *host, uint16_t port,
                                    picoacme_sock_t *sock)
{
    struct addrinfo *res = NULL;
    pending_t tmp;
    picoacme_err_t e;
    unsigned i;
    int fd = -1;

    (void)user;
    if (host == NULL || sock == NULL || host[0] == '\0' || port == 0U) {
        return PICOACME_ERR_PARAM;
    }
    *sock = PICOACME_SOCK_NONE;
    e = picoacme_posix_resolve(host, port, SOCK_STREAM, &res);
    if (e != PICOACME_OK) {
        return e; /* AGAIN while the name resolves */
    }
    pending_fill(&tmp, res);
    freeaddrinfo(res);

    for (i = 0; i < tmp.count && fd < 0; i++) {
        fd = start_connect((const struct sockaddr *)&tmp.addr[i], tmp.addr_len[i]);
    }
    if (fd < 0) {
        return PICOACME_ERR_IO;
    }
    tmp.next = i;
    tmp.fd = fd;
    {
        pending_t *slot = pending_find(fd); /* stale entry for a reused fd */
        if (slot == NULL) {
            slot = pending_find(-1);
        }
        if (slot != NULL) {
            *slot = tmp; /* without a slot: no fallback, send() still works */
        }
    }
    *sock = (picoacme_sock_t)fd;
    return PICOACME_OK;
}

static picoacme_err_t posix_send(void *user, picoacme_sock_t sock, const uint8_t *buf, size_t len,
                                 size_t *sent)
{
    picoacme_err_t e;
    ssize_t n;

    (void)user;
    if (sock < 0 || sent == NULL || (buf == NULL && len != 0U)) {
        return PICOACME_ERR_PARAM;
    }
    *sent = 0;
    e = pending_check((int)sock);
    if (e != PICOACME_OK) {
        return e;
    }
    if (len == 0U) {
        return PICOACME_OK;
    }
    for (;;) {
        n = send((int)sock, buf, len, MSG_NOSIGNAL);
        if (n >= 0) {
            break;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN) {
            return PICOACME_WANT_WRITE; /* ENOTCONN: connect still running */
        }
        return PICOACME_ERR_IO;
    }
    if (n == 0) {
        return PICOACME_WANT_WRITE;
    }
    *sent = (size_t)n;
    return PICOACME_OK;
}

static picoacme_err_t posix_recv(void *user, picoacme_sock_t sock, uint8_t *buf, size_t len,
                                 size_t *received)
{
    picoacme_err_t e;
    ssize_t n;

    (void)user;
    if (sock < 0 || received == NULL || buf == NULL || len == 0U) {
        return PICOACME_ERR_PARAM;
    }
    *received = 0;
    e = pending_check((int)sock);
    if (e != PICOACME_OK) {
        return e; /* WANT_WRITE: wait for the connect to finish */
    }
    for (;;) {
        n = recv((int)sock, buf, len, 0);
        if (n >= 0) {
            break;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return PICOACME_WANT_READ;
        }
        if (errno == ENOTCONN) {
            return PICOACME_WANT_WRITE;
        }
        return PICOACME_ERR_IO;
    }
    if (n == 0) {
        return PICOACME_ERR_CLOSED;
    }
    *received = (size_t)n;
    return PICOACME_OK;
}

static void posix_close(void *user, picoacme_sock_t sock)
{
    pending_t *p;

    (void)user;
    if (sock < 0) {
        return;
    }
    p = pending_find((int)sock);
    if (p != NULL) {
        p->fd = -1;
    }
    (void)close((int)sock);
}

static int listen_on(int family, uint16_t port)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    int zero = 0;
    int ok;

    if (fd < 0) {
        return -1;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6) {
        struct sockaddr_in6 a6;
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        memset(&a6, 0, sizeof a6);
        a6.sin6_family = AF_INET6;
        a6.sin6_addr = in6addr_any;
        a6.sin6_port = htons(port);
        ok = bind(fd, (const struct sockaddr *)&a6, sizeof a6) == 0;
    } else {
        struct sockaddr_in a4;
        memset(&a4, 0, sizeof a4);
        a4.sin_family = AF_INET;
        a4.sin_addr.s_addr = htonl(INADDR_ANY);
        a4.sin_port = htons(port);
        ok = bind(fd, (const struct sockaddr *)&a4, sizeof a4) == 0;
    }
    if (!ok || listen(fd, NET_BACKLOG) != 0) {
        (void)close(fd);
        return -1;
    }
    return fd;
}

static picoacme_err_t posix_listen(void *user, uint16_t port, picoacme_sock_t *lsock)
{
    int fd;

    (void)user;
    if (lsock == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *lsock = PICOACME_SOCK_NONE;
    fd = listen_on(AF_INET6, port); /* dual stack */
    if (fd < 0 && errno != EADDRINUSE) {
        fd = listen_on(AF_INET, port); /* no IPv6 on this host */
    }
    if (fd < 0) {
        return PICOACME_ERR_IO;
    }
    *lsock = (picoacme_sock_t)fd;
    return PICOACME_OK;
}

static picoacme_err_t posix_accept(void *user, picoacme_sock_t lsock, picoacme_sock_t *sock)
{
    int fd;
    int one = 1;

    (void)user;
    if (lsock < 0 || sock == NULL) {
        return PICOACME_ERR_PARAM;
    }
    *sock = PICOACME_SOCK_NONE;
    fd = accept4((int)lsock, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        switch (errno) {
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
        case EINTR:
        case ECONNABORTED:
        case EPROTO: return PICOACME_WANT_READ;
        default: return PICOACME_ERR_IO;
        }
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    {
        pending_t *p = pending_find(fd); /* a reused fd is never pending */
        if (p != NULL) {
            p->fd = -1;
        }
    }
    *sock = (picoacme_sock_t)fd;
    return PICOACME_OK;
}

void picoacme_posix_transport(picoacme_transport_t *out)
{
    if (out == NULL) {
        return;
    }
    memset(out, 0, sizeof *out);
    out->user = NULL;
    out->connect = posix_connect;
    out->send = posix_send;
    out->recv = posix_recv;
    out->close = posix_close;
    out->listen = posix_listen;
    out->accept = posix_accept;
    out->udp_open = picoacme_posix_udp_open;
    out->udp_send = picoacme_posix_udp_send;
    out->udp_recv = picoacme_posix_udp_recv;
}
