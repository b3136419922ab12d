/*
 * test_resolve.c - host names in the POSIX transport (ports/posix/src/
 * resolve.c): literals connect at once, a name answers PICOACME_AGAIN
 * until its lookup is done, a lookup for another host replaces the
 * pending one, udp_send resolves the same way, and a name that does not
 * resolve fails.
 *
 * Only loopback and /etc/hosts are used. The lookups that need a DNS
 * server (names that do not exist) run in a child inside new network and
 * mount namespaces (`unshare -rnm`: no interface but loopback, and a
 * resolv.conf naming 127.0.0.1 where the child itself answers), so no
 * query can leave the machine; the test is skipped where those namespaces
 * cannot be made.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "picoacme_posix.h"

#define BOUND_MS 10000U /* longest wait for a lookup */

static uint32_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* A socket of type on 127.0.0.1, an ephemeral port; *port gets it. */
static int loopback_socket(int type, uint16_t *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, type | SOCK_NONBLOCK, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    if (type == SOCK_STREAM) {
        assert_int_equal(listen(fd, 4), 0);
    }
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Call connect until it stops answering AGAIN (bounded); counts the
 * AGAIN answers in *agains. */
static picoacme_err_t connect_wait(const picoacme_transport_t *tp, const char *host, uint16_t port,
                                   picoacme_sock_t *s, unsigned *agains)
{
    uint32_t t0 = now_ms();
    picoacme_err_t e;

    *agains = 0;
    for (;;) {
        uint32_t t = now_ms();
        *s = 12345;
        e = tp->connect(tp->user, host, port, s);
        assert_true(now_ms() - t < 200U); /* never waits on the resolver */
        if (e != PICOACME_AGAIN || now_ms() - t0 > BOUND_MS) {
            return e;
        }
        assert_int_equal(*s, PICOACME_SOCK_NONE);
        (*agains)++;
        usleep(2000);
    }
}

/* The connection s reaches the listener lfd: bytes both ways. */
static void check_link(const picoacme_transport_t *tp, picoacme_sock_t s, int lfd)
{
    uint32_t t0 = now_ms();
    int peer = -1;
    uint8_t buf[8];
    size_t n = 0;
    picoacme_err_t e;

    do {
        e = tp->send(tp->user, s, (const uint8_t *)"ping", 4, &n);
        if (e == PICOACME_WANT_WRITE) {
            usleep(1000);
        }
    } while (e == PICOACME_WANT_WRITE && now_ms() - t0 < BOUND_MS);
    assert_int_equal(e, PICOACME_OK);
    assert_int_equal(n, 4);
    while (peer < 0 && now_ms() - t0 < BOUND_MS) {
        peer = accept(lfd, NULL, NULL);
        if (peer < 0) {
            usleep(1000);
        }
    }
    assert_true(peer >= 0);
    assert_int_equal(write(peer, "pong", 4), 4);
    do {
        e = tp->recv(tp->user, s, buf, sizeof buf, &n);
        if (e == PICOACME_WANT_READ) {
            struct pollfd pfd = {.fd = (int)s, .events = POLLIN, .revents = 0};
            (void)poll(&pfd, 1, 100);
        }
    } while (e == PICOACME_WANT_READ && now_ms() - t0 < BOUND_MS);
    assert_int_equal(e, PICOACME_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "pong", 4);
    close(peer);
}

/* A literal is connected on the first call, with no lookup. */
static void test_literal_at_once(void **state)
{
    picoacme_transport_t tp;
    picoacme_sock_t s = PICOACME_SOCK_NONE;
    uint16_t port;
    int lfd = loopback_socket(SOCK_STREAM, &port);
    (void)state;

    picoacme_posix_transport(&tp);
    assert_int_equal(tp.connect(tp.user, "127.0.0.1", port, &s), PICOACME_OK);
    check_link(&tp, s, lfd);
    tp.close(tp.user, s);
    /* a literal between the polls of a name does not disturb the lookup */
    assert_int_equal(tp.connect(tp.user, "::ffff:127.0.0.1", port, &s), PICOACME_OK);
    tp.close(tp.user, s);
    close(lfd);
}

/* "localhost" (from /etc/hosts): AGAIN until resolved, then a working
 * connection; the first call never waits. */
static void test_name_again_then_ok(void **state)
{
    picoacme_transport_t tp;
    picoacme_sock_t s;
    unsigned agains;
    uint16_t port;
    int lfd = loopback_socket(SOCK_STREAM, &port);
    (void)state;

    picoacme_posix_transport(&tp);
    assert_int_equal(connect_wait(&tp, "localhost", port, &s, &agains), PICOACME_OK);
    print_message("localhost resolved after %u AGAIN answers\n", agains);
    assert_true(agains >= 1U); /* a name always goes to the lookup thread */
    assert_true(s >= 0);
    check_link(&tp, s, lfd);
    tp.close(tp.user, s);
    /* the next connect to the name looks it up afresh (no stale cache) */
    assert_int_equal(connect_wait(&tp, "LOCALHOST", port, &s, &agains), PICOACME_OK);
    check_link(&tp, s, lfd);
    tp.close(tp.user, s);
    close(lfd);
}

/* A call for another port replaces the pending lookup: the connection
 * goes where the last call asked. */
static void test_replace_pending(void **state)
{
    picoacme_transport_t tp;
    picoacme_sock_t s;
    unsigned agains;
    uint16_t port1, port2;
    int lfd1 = loopback_socket(SOCK_STREAM, &port1);
    int lfd2 = loopback_socket(SOCK_STREAM, &port2);
    (void)state;

    picoacme_posix_transport(&tp);
    assert_int_equal(tp.connect(tp.user, "localhost", port1, &s), PICOACME_AGAIN);
    assert_int_equal(connect_wait(&tp, "localhost", port2, &s, &agains), PICOACME_OK);
    check_link(&tp, s, lfd2);
    tp.close(tp.user, s);
    /* nothing was connected to the first port */
    assert_true(accept(lfd1, NULL, NULL) < 0);
    /* a finished lookup nobody took is dropped when another one starts */
    assert_int_equal(tp.connect(tp.user, "localhost", port1, &s), PICOACME_AGAIN);
    usleep(200000);
    assert_int_equal(connect_wait(&tp, "localhost", port2, &s, &agains), PICOACME_OK);
    assert_true(agains >= 1U);
    check_link(&tp, s, lfd2);
    tp.close(tp.user, s);
    close(lfd1);
    close(lfd2);
}

/* udp_send resolves like connect: AGAIN (nothing sent), then sent. */
static void test_udp_name(void **state)
{
    picoacme_transport_t tp;
    picoacme_sock_t s;
    uint16_t port;
    int srv = loopback_socket(SOCK_DGRAM, &port);
    uint32_t t0 = now_ms();
    unsigned agains = 0;
    uint8_t buf[8];
    picoacme_err_t e;
    (void)state;

    picoacme_posix_transport(&tp);
    assert_int_equal(tp.udp_open(tp.user, &s), PICOACME_OK);
    while ((e = tp.udp_send(tp.user, s, "localhost", port, (const uint8_t *)"ping", 4)) ==
               PICOACME_AGAIN &&
           now_ms() - t0 < BOUND_MS) {
        assert_true(recv(srv, buf, sizeof buf, MSG_DONTWAIT) < 0);
        agains++;
        usleep(2000);
    }
    assert_int_equal(e, PICOACME_OK);
    assert_true(agains >= 1U);
    {
        struct pollfd pfd = {.fd = srv, .events = POLLIN, .revents = 0};
        assert_int_equal(poll(&pfd, 1, 2000), 1);
    }
    assert_int_equal(recv(srv, buf, sizeof buf, 0), 4);
    assert_memory_equal(buf, "ping", 4);
    tp.close(tp.user, s);
    close(srv);
}

/* What is not a host name is refused at once, never looked up. */
static void test_not_a_name(void **state)
{
    static const char *const bad[] = {"no such host.invalid", "a..b", ".a", "a/b", "a:b:c:z",
                                      "-\xc3\xa9.invalid"};
    picoacme_transport_t tp;
    picoacme_sock_t s;
    char longname[300];
    size_t i;
    (void)state;

    picoacme_posix_transport(&tp);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tp.connect(tp.user, bad[i], 80, &s), PICOACME_ERR_IO);
        assert_int_equal(s, PICOACME_SOCK_NONE);
    }
    memset(longname, 'a', sizeof longname - 1U);
    longname[sizeof longname - 1U] = '\0';
    assert_int_equal(tp.connect(tp.user, longname, 80, &s), PICOACME_ERR_IO);
    memset(longname, 'a', 64);
    memcpy(longname + 64, ".invalid", 9); /* a 64-octet label */
    assert_int_equal(tp.connect(tp.user, longname, 80, &s), PICOACME_ERR_IO);
}

/* The child's DNS server on 127.0.0.1:53: NXDOMAIN for every name, but
 * SERVFAIL for names with a "servfail" label. */
static void *dns_server(void *arg)
{
    int fd = *(const int *)arg;
    uint8_t q[512];

    for (;;) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
        size_t end = 12;
        if (n < 17) {
            continue;
        }
        while (end < (size_t)n && q[end] != 0U) {
            end += 1U + q[end];
        }
        end += 5U; /* root label, QTYPE, QCLASS */
        if (end > (size_t)n) {
            continue;
        }
        q[2] = (uint8_t)(0x80U | (q[2] & 0x79U)); /* QR; opcode and RD kept */
        q[3] = (uint8_t)(0x80U | (memmem(q, end, "\x08servfail", 9) != NULL ? 2U : 3U));
        memset(q + 6, 0, 6); /* no answer, authority or additional records */
        (void)sendto(fd, q, end, 0, (struct sockaddr *)&from, fl);
    }
    return NULL;
}

/* In the child, inside its own network and mount namespaces, whose
 * resolv.conf names 127.0.0.1, served by dns_server(). */
static void test_unknown_name_child(void **state)
{
    struct sockaddr_in far = {.sin_family = AF_INET, .sin_port = htons(53)};
    struct sockaddr_in dns = {.sin_family = AF_INET, .sin_port = htons(53)};
    static int fd;
    picoacme_transport_t tp;
    picoacme_sock_t s;
    pthread_t t;
    unsigned agains;
    int probe;
    (void)state;

    /* guard: no route off this host (a UDP connect sends nothing) */
    assert_int_equal(inet_pton(AF_INET, "192.0.2.1", &far.sin_addr), 1);
    probe = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(probe >= 0);
    if (connect(probe, (struct sockaddr *)&far, sizeof far) == 0) {
        print_message("the namespace has a route off the host: not looking up\n");
        exit(77);
    }
    close(probe);
    dns.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&dns, sizeof dns) != 0) {
        print_message("cannot serve DNS on 127.0.0.1:53 in the namespace\n");
        exit(77);
    }
    assert_int_equal(pthread_create(&t, NULL, dns_server, &fd), 0);

    picoacme_posix_transport(&tp);
    assert_int_equal(connect_wait(&tp, "picoacme-nx.invalid", 443, &s, &agains),
                     PICOACME_ERR_NOT_FOUND);
    assert_true(agains >= 1U);
    assert_int_equal(s, PICOACME_SOCK_NONE);
    /* a resolver failure is a transport error */
    assert_int_equal(connect_wait(&tp, "servfail.picoacme.invalid", 443, &s, &agains),
                     PICOACME_ERR_IO);
    assert_int_equal(s, PICOACME_SOCK_NONE);
    /* /etc/hosts still answers */
    assert_int_equal(connect_wait(&tp, "localhost", 9, &s, &agains), PICOACME_OK);
    tp.close(tp.user, s);
}

static void test_unknown_name(void **state)
{
    static const char conf[] = PICOACME_TEST_TMPDIR "/resolve.conf";
    char self[512];
    char cmd[1200];
    ssize_t n;
    FILE *f;
    int rc;
    (void)state;

    if (system("unshare -rnm true >/dev/null 2>&1") != 0 ||
        system("command -v ip >/dev/null 2>&1") != 0) {
        print_message("no unshare -rnm or no ip(8): unknown names not looked up\n");
        skip();
    }
    f = fopen(conf, "w");
    assert_non_null(f);
    fputs("nameserver 127.0.0.1\noptions attempts:1 timeout:2\n", f);
    fclose(f);
    n = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(n > 0);
    self[n] = '\0';
    (void)snprintf(cmd, sizeof cmd,
                   "PICOACME_RESOLVE_CHILD=1 unshare -rnm sh -c "
                   "'mount --bind %s /etc/resolv.conf && ip link set lo up && exec %s'",
                   conf, self);
    rc = system(cmd);
    assert_true(WIFEXITED(rc));
    if (WEXITSTATUS(rc) == 77) {
        skip();
    }
    assert_int_equal(WEXITSTATUS(rc), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_at_once), cmocka_unit_test(test_name_again_then_ok),
        cmocka_unit_test(test_replace_pending), cmocka_unit_test(test_udp_name),
        cmocka_unit_test(test_not_a_name),      cmocka_unit_test(test_unknown_name),
    };
    const struct CMUnitTest child[] = {
        cmocka_unit_test(test_unknown_name_child),
    };

    if (getenv("PICOACME_RESOLVE_CHILD") != NULL) {
        return cmocka_run_group_tests_name("resolve_child", child, NULL, NULL);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
