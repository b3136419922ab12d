/*
 * test_bsdsock.c - ports/bsdsock over loopback: TCP connect (IPv4, IPv6,
 * refused, a name through the resolver hook with the address fallback),
 * send/recv/close, the listener, UDP, and picoacme_wait_pollfds(). Built
 * twice: against POSIX and against Zephyr's zsock_*() names
 * (PICOACME_BSDSOCK_ZEPHYR with tests/bsdsock/zephyr_fake, wrappers over
 * the host's sockets), so the code a Zephyr build compiles is the code
 * that runs here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "picoacme_bsdsock.h"

static picoacme_bsdsock_t g_b;
static picoacme_transport_t g_t;

/* Wait up to 2 s for what the transport's socket s needs. */
static void wait_for(picoacme_sock_t s, uint8_t ev)
{
    picoacme_wait_t w;
    picoacme_pollfd_t pfd[PICOACME_WAIT_SOCKS];
    int timeout = 0;
    size_t n;

    memset(&w, 0, sizeof w);
    w.sock[0] = s;
    w.events[0] = ev;
    w.count = 1;
    w.timeout_ms = 2000;
    n = picoacme_wait_pollfds(&w, pfd, PICOACME_WAIT_SOCKS, 5000, &timeout);
    assert_int_equal(n, 1);
    assert_int_equal(timeout, 2000);
    assert_true(PA_POLL(pfd, 1, timeout) >= 0);
}

/* A listener of the transport on an ephemeral loopback port. */
static picoacme_sock_t listener(uint16_t *port)
{
    picoacme_sock_t ls = PICOACME_SOCK_NONE;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;

    assert_int_equal(g_t.listen(g_t.user, 0, &ls), PICOACME_OK);
    assert_true(ls >= 0);
    assert_int_equal(getsockname((int)ls, (struct sockaddr *)&ss, &sl), 0);
    *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
    return ls;
}

static picoacme_sock_t accept_one(picoacme_sock_t ls)
{
    picoacme_sock_t s = PICOACME_SOCK_NONE;
    int i;
    for (i = 0; i < 20; i++) {
        picoacme_err_t e = g_t.accept(g_t.user, ls, &s);
        if (e == PICOACME_OK) {
            return s;
        }
        assert_int_equal(e, PICOACME_WANT_READ);
        wait_for(ls, PICOACME_EV_READ);
    }
    fail_msg("nothing to accept");
    return s;
}

/* send all of msg over c, receive it on a, and the way back. */
static void exchange(picoacme_sock_t c, picoacme_sock_t a)
{
    static const uint8_t msg[] = "GET / HTTP/1.1\r\n\r\n";
    uint8_t buf[64];
    size_t n = 0;
    int i;
    picoacme_err_t e = PICOACME_WANT_WRITE;

    for (i = 0; i < 50 && e == PICOACME_WANT_WRITE; i++) {
        e = g_t.send(g_t.user, c, msg, sizeof msg, &n);
        if (e == PICOACME_WANT_WRITE) {
            wait_for(c, PICOACME_EV_WRITE);
        }
    }
    assert_int_equal(e, PICOACME_OK);
    assert_int_equal(n, sizeof msg);
    e = PICOACME_WANT_READ;
    for (i = 0; i < 50 && e == PICOACME_WANT_READ; i++) {
        e = g_t.recv(g_t.user, a, buf, sizeof buf, &n);
        if (e == PICOACME_WANT_READ) {
            wait_for(a, PICOACME_EV_READ);
        }
    }
    assert_int_equal(e, PICOACME_OK);
    assert_int_equal(n, sizeof msg);
    assert_memory_equal(buf, msg, sizeof msg);
    /* nothing more to read yet */
    assert_int_equal(g_t.recv(g_t.user, a, buf, sizeof buf, &n), PICOACME_WANT_READ);
    assert_int_equal(n, 0);
    /* orderly close seen as ERR_CLOSED */
    g_t.close(g_t.user, c);
    e = PICOACME_WANT_READ;
    for (i = 0; i < 50 && e == PICOACME_WANT_READ; i++) {
        e = g_t.recv(g_t.user, a, buf, sizeof buf, &n);
        if (e == PICOACME_WANT_READ) {
            wait_for(a, PICOACME_EV_READ);
        }
    }
    assert_int_equal(e, PICOACME_ERR_CLOSED);
    g_t.close(g_t.user, a);
}

static void connect_and_exchange(const char *host)
{
    uint16_t port = 0;
    picoacme_sock_t ls = listener(&port);
    picoacme_sock_t c = PICOACME_SOCK_NONE;

    assert_int_equal(g_t.connect(g_t.user, host, port, &c), PICOACME_OK);
    assert_true(c >= 0);
    exchange(c, accept_one(ls));
    g_t.close(g_t.user, ls);
}

static int setup(void **state)
{
    (void)state;
    picoacme_bsdsock_init(&g_b, NULL, &g_t);
    return 0;
}

static void test_ipv4_literal(void **state)
{
    (void)state;
    connect_and_exchange("127.0.0.1");
}

static void test_ipv6_literal(void **state)
{
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    (void)state;
    if (probe < 0) {
        skip(); /* a host without IPv6 */
    }
    (void)close(probe);
    connect_and_exchange("::1");
}

/* A port nobody listens on (bound, never listening). */
static uint16_t dead_port(int *keep)
{
    struct sockaddr_in a;
    socklen_t sl = sizeof a;
    *keep = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(*keep, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(*keep, (struct sockaddr *)&a, &sl), 0);
    return ntohs(a.sin_port);
}

static void test_refused(void **state)
{
    int keep;
    uint16_t port = dead_port(&keep);
    picoacme_sock_t c = PICOACME_SOCK_NONE;
    picoacme_err_t e = PICOACME_WANT_WRITE;
    uint8_t buf[8];
    size_t n;
    int i;

    (void)state;
    assert_int_equal(g_t.connect(g_t.user, "127.0.0.1", port, &c), PICOACME_OK);
    for (i = 0; i < 50 && e == PICOACME_WANT_WRITE; i++) {
        e = g_t.recv(g_t.user, c, buf, sizeof buf, &n);
        if (e == PICOACME_WANT_WRITE) {
            wait_for(c, PICOACME_EV_WRITE);
        }
    }
    assert_int_equal(e, PICOACME_ERR_IO);
    g_t.close(g_t.user, c);
    (void)close(keep);
}

/* The fake resolver: AGAIN twice, then a dead address and the live one. */
static int g_calls;
static uint16_t g_dead;
static picoacme_err_t fake_resolve(void *user, const char *host, uint16_t port, int socktype,
                                   picoacme_bsdsock_addr_t *addr, unsigned cap, unsigned *count)
{
    struct sockaddr_in *s4;
    unsigned i;
    (void)user;
    (void)socktype;
    *count = 0;
    if (strcmp(host, "nowhere.test") == 0) {
        return PICOACME_ERR_NOT_FOUND;
    }
    if (++g_calls <= 2) {
        return PICOACME_AGAIN;
    }
    assert_true(cap >= 2);
    for (i = 0; i < 2; i++) {
        memset(&addr[i], 0, sizeof addr[i]);
        s4 = (struct sockaddr_in *)&addr[i].ss;
        s4->sin_family = AF_INET;
        s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        s4->sin_port = htons(i == 0 ? g_dead : port);
        addr[i].len = sizeof *s4;
    }
    *count = 2;
    return PICOACME_OK;
}

static void test_name_through_resolver(void **state)
{
    picoacme_bsdsock_resolver_t r = {NULL, fake_resolve};
    uint16_t port = 0;
    picoacme_sock_t ls;
    picoacme_sock_t c = PICOACME_SOCK_NONE;
    int keep;
    uint8_t buf[4];
    size_t n;

    (void)state;
    picoacme_bsdsock_init(&g_b, &r, &g_t);
    g_calls = 0;
    g_dead = dead_port(&keep);
    ls = listener(&port);
    assert_int_equal(g_t.connect(g_t.user, "ca.test", port, &c), PICOACME_AGAIN);
    assert_int_equal(c, PICOACME_SOCK_NONE);
    assert_int_equal(g_t.connect(g_t.user, "ca.test", port, &c), PICOACME_AGAIN);
    assert_int_equal(g_t.connect(g_t.user, "ca.test", port, &c), PICOACME_OK);
    assert_true(c >= 0);
    assert_int_equal(g_calls, 3);
#ifdef PA_DUP2
    {
        /* the first address refuses; the second is tried on the same fd:
         * a zero-length send drives the connect until it is up */
        picoacme_err_t e = PICOACME_WANT_WRITE;
        int i;
        for (i = 0; i < 50 && e == PICOACME_WANT_WRITE; i++) {
            e = g_t.send(g_t.user, c, buf, 0, &n);
            if (e == PICOACME_WANT_WRITE) {
                wait_for(c, PICOACME_EV_WRITE);
            }
        }
        assert_int_equal(e, PICOACME_OK);
        exchange(c, accept_one(ls));
    }
#else
    {
        /* Zephyr: only the first address (no dup2): the refusal shows */
        picoacme_err_t e = PICOACME_WANT_WRITE;
        int i;
        for (i = 0; i < 50 && e == PICOACME_WANT_WRITE; i++) {
            e = g_t.recv(g_t.user, c, buf, sizeof buf, &n);
            if (e == PICOACME_WANT_WRITE) {
                wait_for(c, PICOACME_EV_WRITE);
            }
        }
        assert_int_equal(e, PICOACME_ERR_IO);
        g_t.close(g_t.user, c);
    }
#endif
    assert_int_equal(g_t.connect(g_t.user, "nowhere.test", port, &c), PICOACME_ERR_NOT_FOUND);
    /* udp_send asks the same hook */
    assert_int_equal(g_t.udp_open(g_t.user, &c), PICOACME_OK);
    assert_int_equal(g_t.udp_send(g_t.user, c, "nowhere.test", 53, buf, 1), PICOACME_ERR_NOT_FOUND);
    g_t.close(g_t.user, c);
    g_t.close(g_t.user, ls);
    (void)close(keep);
    (void)n;
}

static void test_name_without_resolver(void **state)
{
    picoacme_sock_t c = PICOACME_SOCK_NONE;
    (void)state;
    assert_int_equal(g_t.connect(g_t.user, "localhost", 80, &c), PICOACME_ERR_NOT_FOUND);
    assert_int_equal(c, PICOACME_SOCK_NONE);
    assert_int_equal(g_t.connect(g_t.user, "", 80, &c), PICOACME_ERR_PARAM);
    assert_int_equal(g_t.connect(g_t.user, "127.0.0.1", 0, &c), PICOACME_ERR_PARAM);
}

#if !defined(PICOACME_BSDSOCK_ZEPHYR)
static void test_gai_resolver(void **state)
{
    picoacme_bsdsock_resolver_t r;
    picoacme_bsdsock_addr_t a[PICOACME_BSDSOCK_ADDRS];
    unsigned count = 0;
    picoacme_err_t e = PICOACME_AGAIN;
    int i;

    (void)state;
    picoacme_bsdsock_gai_resolver(&r);
    for (i = 0; i < 500 && e == PICOACME_AGAIN; i++) {
        e = r.resolve(r.user, "localhost", 8080, SOCK_STREAM, a, PICOACME_BSDSOCK_ADDRS, &count);
        if (e == PICOACME_AGAIN) {
            (void)poll(NULL, 0, 10);
        }
    }
    assert_int_equal(e, PICOACME_OK);
    assert_true(count >= 1);
    assert_true(a[0].ss.ss_family == AF_INET || a[0].ss.ss_family == AF_INET6);
    assert_int_equal(ntohs(((struct sockaddr_in *)&a[0].ss)->sin_port), 8080);
    /* and a whole connect through it */
    picoacme_bsdsock_init(&g_b, &r, &g_t);
    {
        uint16_t port = 0;
        picoacme_sock_t ls = listener(&port);
        picoacme_sock_t c = PICOACME_SOCK_NONE;
        e = PICOACME_AGAIN;
        for (i = 0; i < 500 && e == PICOACME_AGAIN; i++) {
            e = g_t.connect(g_t.user, "localhost", port, &c);
            if (e == PICOACME_AGAIN) {
                (void)poll(NULL, 0, 10);
            }
        }
        assert_int_equal(e, PICOACME_OK);
        exchange(c, accept_one(ls));
        g_t.close(g_t.user, ls);
    }
}
#endif

static void test_udp(void **state)
{
    int peer = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_storage from;
    struct sockaddr_in a;
    socklen_t sl = sizeof a;
    picoacme_sock_t u = PICOACME_SOCK_NONE;
    uint8_t buf[32];
    size_t n = 0;
    ssize_t r;
    int i;
    picoacme_err_t e;

    (void)state;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(peer, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(peer, (struct sockaddr *)&a, &sl), 0);
    assert_int_equal(g_t.udp_open(g_t.user, &u), PICOACME_OK);
    assert_int_equal(g_t.udp_recv(g_t.user, u, buf, sizeof buf, &n), PICOACME_WANT_READ);
    assert_int_equal(
        g_t.udp_send(g_t.user, u, "127.0.0.1", ntohs(a.sin_port), (const uint8_t *)"query", 5),
        PICOACME_OK);
    sl = sizeof from;
    r = recvfrom(peer, buf, sizeof buf, 0, (struct sockaddr *)&from, &sl);
    assert_int_equal(r, 5);
    assert_memory_equal(buf, "query", 5);
    assert_int_equal(sendto(peer, "answer!", 7, 0, (struct sockaddr *)&from, sl), 7);
    e = PICOACME_WANT_READ;
    for (i = 0; i < 20 && e == PICOACME_WANT_READ; i++) {
        e = g_t.udp_recv(g_t.user, u, buf, 4, &n); /* truncated to cap */
        if (e == PICOACME_WANT_READ) {
            wait_for(u, PICOACME_EV_READ);
        }
    }
    assert_int_equal(e, PICOACME_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(buf, "answ", 4);
    g_t.close(g_t.user, u);
    (void)close(peer);
}

static void test_wait_pollfds(void **state)
{
    picoacme_wait_t w;
    picoacme_pollfd_t pfd[PICOACME_WAIT_SOCKS];
    int t = 0;

    (void)state;
    memset(&w, 0, sizeof w);
    w.sock[0] = 7;
    w.events[0] = PICOACME_EV_READ;
    w.sock[1] = 9;
    w.events[1] = PICOACME_EV_WRITE;
    w.sock[2] = 11;
    w.events[2] = PICOACME_EV_READ | PICOACME_EV_WRITE;
    w.count = 3;
    w.timeout_ms = UINT32_MAX;
    assert_int_equal(picoacme_wait_pollfds(&w, pfd, PICOACME_WAIT_SOCKS, 1000, &t), 3);
    assert_int_equal(t, 1000);
    assert_int_equal(pfd[0].fd, 7);
    assert_int_equal(pfd[0].events, PA_POLLIN);
    assert_int_equal(pfd[1].fd, 9);
    assert_int_equal(pfd[1].events, PA_POLLOUT);
    assert_int_equal(pfd[2].events, PA_POLLIN | PA_POLLOUT);
    assert_int_equal(pfd[2].revents, 0);
    assert_int_equal(picoacme_wait_pollfds(&w, pfd, 2, -1, &t), 2); /* cap */
    assert_int_equal(t, -1);
    w.timeout_ms = 250;
    assert_int_equal(picoacme_wait_pollfds(&w, pfd, 2, 100, &t), 2);
    assert_int_equal(t, 100);
    assert_int_equal(picoacme_wait_pollfds(&w, pfd, 2, -1, &t), 2);
    assert_int_equal(t, 250);
    w.count = 0;
    assert_int_equal(picoacme_wait_pollfds(&w, pfd, 2, -1, NULL), 0);
    assert_int_equal(picoacme_wait_pollfds(NULL, pfd, 2, 5, &t), 0);
    assert_int_equal(t, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ipv4_literal, setup),
        cmocka_unit_test_setup(test_ipv6_literal, setup),
        cmocka_unit_test_setup(test_refused, setup),
        cmocka_unit_test_setup(test_name_through_resolver, setup),
        cmocka_unit_test_setup(test_name_without_resolver, setup),
#if !defined(PICOACME_BSDSOCK_ZEPHYR)
        cmocka_unit_test_setup(test_gai_resolver, setup),
#endif
        cmocka_unit_test_setup(test_udp, setup),
        cmocka_unit_test(test_wait_pollfds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
