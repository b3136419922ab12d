/*
 * h01.c - the daemon's one http-01 listener, shared by every certificate:
 * `picoacme run` opens it before any order and keeps it; each request is
 * answered from whichever engine knows the token
 * (picoacme_http01_lookup(), see daemon.c), so no engine opens a listener
 * of its own.
 */
#include "cli.h"
#include "h01.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int g_fd = -1;
static uint16_t g_port;

/* A listening socket on port: IPv6 dual stack, else IPv4. */
static int listen_on(uint16_t port)
{
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    int one = 1, zero = 0;
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    memset(&a6, 0, sizeof a6);
    memset(&a4, 0, sizeof a4);
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(port);
    a4.sin_family = AF_INET;
    a4.sin_port = htons(port);
    if (fd >= 0) {
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        if (bind(fd, (struct sockaddr *)&a6, sizeof a6) == 0 && listen(fd, 16) == 0) {
            return fd;
        }
        close(fd);
    }
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a4, sizeof a4) == 0 && listen(fd, 16) == 0) {
        return fd;
    }
    one = errno;
    close(fd);
    errno = one;
    return -1;
}

int cli_h01_open(uint16_t port)
{
    int fd;
    if (g_fd >= 0 && g_port == port) {
        return 0;
    }
    cli_h01_close();
    if (port == 0) {
        return 0;
    }
    fd = listen_on(port);
    if (fd < 0) {
        say(LOG_ERR, "--http01-port %u cannot be listened on: %s", (unsigned)port, strerror(errno));
        return -1;
    }
    g_fd = fd;
    g_port = port;
    return 0;
}

void cli_h01_close(void)
{
    if (g_fd >= 0) {
        close(g_fd);
    }
    g_fd = -1;
    g_port = 0;
}

int cli_h01_fd(void)
{
    return g_fd;
}

int cli_h01_accept(void)
{
    int fd = g_fd >= 0 ? accept(g_fd, NULL, NULL) : -1;
    if (fd >= 0) {
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC); /* not for the hooks */
    }
    return fd;
}

bool cli_h01_read_path(int fd, char *path, size_t cap)
{
    char req[1024];
    size_t n = 0;
    char *sp, *end;
    req[0] = '\0';
    /* one small GET; a validator that dawdles more than 2 s is dropped */
    while (n + 1U < sizeof req && strstr(req, "\r\n\r\n") == NULL) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t r;
        if (poll(&p, 1, 2000) != 1) {
            break;
        }
        r = read(fd, req + n, sizeof req - 1U - n);
        if (r <= 0) {
            break;
        }
        n += (size_t)r;
        req[n] = '\0';
    }
    if (strncmp(req, "GET ", 4) != 0) {
        return false;
    }
    sp = req + 4;
    end = strchr(sp, ' ');
    if (end == NULL || (size_t)(end - sp) >= cap) {
        return false;
    }
    memcpy(path, sp, (size_t)(end - sp));
    path[end - sp] = '\0';
    return true;
}

void cli_h01_answer(int fd, const char *body, size_t len)
{
    char head[160];
    int n = len > 0U ? snprintf(head, sizeof head,
                                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                                "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                                len)
                     : snprintf(head, sizeof head,
                                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                                "Connection: close\r\n\r\n");
    if (write(fd, head, (size_t)n) == n && len > 0U) {
        (void)!write(fd, body, len);
    }
    close(fd);
}
