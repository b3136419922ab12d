/*
 * tls_smoke.c - qemu-mps2 TLS smoke firmware (FW_APP=tls-smoke): a bare-metal superloop with no
 * heap that brings up lwIP on the LAN9118, gets an address by DHCP (or uses a static one), opens
 * TCP through the picoacme lwIP transport, runs a TLS handshake with wolfSSL (static memory) and
 * prints the answer to one HTTP GET.
 *
 * Exit status (semihosting): 0 when the server answered "HTTP/1.x 200",
 * otherwise a small code naming the step that failed.
 * The ACME firmware (main.c) pumps the engine from the same kind of loop.
 */
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "fw_report.h"
#include "lan9118.h"
#include "picoacme_lwip.h"
#include "picoacme_wolfssl.h"

#include "lwip/dhcp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/memory.h>

#include "fw_ca_root.h" /* generated: fw_ca_root_der[], fw_ca_root_der_len */

#ifndef FW_TLS_HOST
#define FW_TLS_HOST "fw-tls.test"
#endif
#ifndef FW_TLS_ADDR
#define FW_TLS_ADDR "10.0.2.100"
#endif
#ifndef FW_TLS_PORT
#define FW_TLS_PORT 4433
#endif
#ifndef FW_HTTP_PATH
#define FW_HTTP_PATH "/"
#endif
#ifndef FW_WOLF_POOL_SIZE
#define FW_WOLF_POOL_SIZE (64u * 1024u)
#endif
/* After the GET, serve one plain HTTP request on this port (the http-01
 * responder path: listen/accept of the lwIP transport); 0 = off. */
#ifndef FW_LISTEN_PORT
#define FW_LISTEN_PORT 0
#endif
#ifndef FW_DEADLINE_MS
#define FW_DEADLINE_MS 60000u
#endif

enum exit_code {
    EXIT_OK = 0,
    EXIT_NETIF = 10,
    EXIT_DHCP = 11,
    EXIT_POOL = 12,
    EXIT_TLS_INIT = 13,
    EXIT_CONNECT = 14,
    EXIT_TLS = 15,
    EXIT_HTTP = 16,
    EXIT_TIMEOUT = 17,
    EXIT_TLS_VERIFY = 18,
    EXIT_LISTEN = 19
};

enum step { S_ADDR, S_SEND, S_RECV, S_ACCEPT, S_SERVE, S_DONE };

static struct netif netif;
static picoacme_lwip_t lwip_tp;
static picoacme_wolfssl_tls_t tls_ctx;
static uint8_t wolf_pool[FW_WOLF_POOL_SIZE] __attribute__((aligned(16)));
static uint8_t rx_buf[1024];
static char head[64];
static size_t head_len;
static size_t rx_total;

static const char served[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                             "Content-Length: 18\r\n\r\nhello-from-device\n";

static const char request[] =
    "GET " FW_HTTP_PATH " HTTP/1.0\r\nHost: " FW_TLS_HOST "\r\nUser-Agent: picoacme-fw\r\n\r\n";

static void net_pump(void)
{
    (void)lan9118_poll(&netif);
    sys_check_timeouts();
}

static void finish(int code)
{
    fw_pool_report();
    printf("fw: wolfSSL pool %u of %u bytes touched, stack high-water ~%u bytes\n",
           (unsigned)fw_pool_touched(), (unsigned)sizeof wolf_pool, (unsigned)fw_stack_used());
    printf("fw: exit %d after %lu ms\n", code, (unsigned long)board_ms());
    board_exit(code);
}

int main(void)
{
    fw_stack_paint();
    board_init();
    printf("fw: picoacme qemu-mps2 firmware (lwIP %s, no heap)\n", LWIP_VERSION_STRING);
    printf("fw: WARNING entropy is fw_test_entropy.c: NOT RANDOM, test only\n");

    lwip_init();
    ip4_addr_t ip, mask, gw;
#ifdef FW_STATIC_IP
    IP4_ADDR(&ip, 10, 0, 2, 15);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 10, 0, 2, 2);
#else
    ip4_addr_set_zero(&ip);
    ip4_addr_set_zero(&mask);
    ip4_addr_set_zero(&gw);
#endif
    if (netif_add(&netif, &ip, &mask, &gw, NULL, lan9118_netif_init, ethernet_input) == NULL) {
        printf("fw: LAN9118 not found\n");
        finish(EXIT_NETIF);
    }
    netif_set_default(&netif);
    netif_set_up(&netif);
    if (lan9118_link_up()) {
        netif_set_link_up(&netif);
    }
    printf("fw: LAN9118 MAC %02x:%02x:%02x:%02x:%02x:%02x link %s\n", netif.hwaddr[0],
           netif.hwaddr[1], netif.hwaddr[2], netif.hwaddr[3], netif.hwaddr[4], netif.hwaddr[5],
           netif_is_link_up(&netif) ? "up" : "down");
#ifndef FW_STATIC_IP
    if (dhcp_start(&netif) != ERR_OK) {
        finish(EXIT_DHCP);
    }
#endif

    fw_pool_paint(wolf_pool, sizeof wolf_pool);
    WOLFSSL_HEAP_HINT *heap = NULL;
    if (wc_LoadStaticMemory(&heap, wolf_pool, sizeof wolf_pool, WOLFMEM_GENERAL, 1) != 0) {
        printf("fw: wc_LoadStaticMemory failed\n");
        finish(EXIT_POOL);
    }
    fw_pool_set_heap(heap);

    picoacme_transport_t tp;
    picoacme_tls_t tls;
    picoacme_lwip_init(&lwip_tp, &tp);
    picoacme_err_t e = picoacme_wolfssl_tls_init(&tls_ctx, &tp, heap, fw_ca_root_der,
                                                 fw_ca_root_der_len, PICOACME_WOLFSSL_DER, &tls);
    if (e != PICOACME_OK) {
        printf("fw: TLS init failed (%d)\n", (int)e);
        finish(EXIT_TLS_INIT);
    }

    enum step step = S_ADDR;
    picoacme_sock_t sock = PICOACME_SOCK_NONE;
    picoacme_sock_t lsock = PICOACME_SOCK_NONE;
    picoacme_sock_t csock = PICOACME_SOCK_NONE;
    size_t req_off = 0;
    uint32_t t_start = board_ms();
    uint32_t t_conn = 0;
    int result = EXIT_TIMEOUT;

    while (step != S_DONE) {
        net_pump();
        if (board_ms() - t_start > FW_DEADLINE_MS) {
            printf("fw: deadline passed in step %d (last wolfSSL error %d)\n", (int)step,
                   tls_ctx.last_wolfssl_err);
            break;
        }
        switch (step) {
        case S_ADDR:
            if (!ip4_addr_isany_val(*netif_ip4_addr(&netif))) {
                printf("fw: address %s\n", ip4addr_ntoa(netif_ip4_addr(&netif)));
                e = tp.connect(tp.user, FW_TLS_HOST, FW_TLS_PORT, &sock);
                if (e == PICOACME_AGAIN) {
                    break; /* the name is being resolved: ask again */
                }
                if (e != PICOACME_OK) {
                    printf("fw: connect %s:%d failed: %d\n", FW_TLS_HOST, FW_TLS_PORT, (int)e);
                    result = EXIT_CONNECT;
                    step = S_DONE;
                    break;
                }
                e = tls.open(tls.user, sock, FW_TLS_HOST);
                if (e != PICOACME_OK) {
                    result = EXIT_TLS;
                    step = S_DONE;
                    break;
                }
                t_conn = board_ms();
                printf("fw: connecting to %s (%s:%d)\n", FW_TLS_HOST, FW_TLS_ADDR, FW_TLS_PORT);
                step = S_SEND;
            }
            break;
        case S_SEND: {
            size_t sent = 0;
            e = tls.send(tls.user, (const uint8_t *)request + req_off,
                         sizeof request - 1u - req_off, &sent);
            if (e == PICOACME_OK) {
                if (req_off == 0) {
                    printf("fw: TLS handshake done in %lu ms: %s %s\n",
                           (unsigned long)(board_ms() - t_conn), wolfSSL_get_version(tls_ctx.ssl),
                           wolfSSL_get_cipher_name(tls_ctx.ssl));
                }
                req_off += sent;
                if (req_off == sizeof request - 1u) {
                    step = S_RECV;
                }
            } else if (e != PICOACME_WANT_READ && e != PICOACME_WANT_WRITE) {
                printf("fw: TLS failed: %d (wolfSSL error %d): %s\n", (int)e,
                       tls_ctx.last_wolfssl_err, picoacme_wolfssl_tls_reason(&tls_ctx));
                result = e == PICOACME_ERR_TLS_VERIFY ? EXIT_TLS_VERIFY : EXIT_TLS;
                step = S_DONE;
            }
            break;
        }
        case S_RECV: {
            size_t got = 0;
            e = tls.recv(tls.user, rx_buf, sizeof rx_buf, &got);
            if (e == PICOACME_OK) {
                if (head_len < sizeof head - 1u) {
                    size_t n = sizeof head - 1u - head_len;
                    n = n < got ? n : got;
                    memcpy(head + head_len, rx_buf, n);
                    head_len += n;
                }
                rx_total += got;
                fwrite(rx_buf, 1, got, stdout);
            } else if (e == PICOACME_ERR_CLOSED) {
                printf("\nfw: server closed the connection after %u bytes\n", (unsigned)rx_total);
                head[head_len] = '\0';
                int ok = (strncmp(head, "HTTP/1.0 200", 12) == 0 ||
                          strncmp(head, "HTTP/1.1 200", 12) == 0);
                printf("fw: HTTP status line %s\n", ok ? "200 OK" : "not 200");
                result = ok ? EXIT_OK : EXIT_HTTP;
                step = S_DONE;
                if (ok && FW_LISTEN_PORT != 0) {
                    e = tp.listen(tp.user, FW_LISTEN_PORT, &lsock);
                    printf("fw: listening on tcp/%d: %d\n", FW_LISTEN_PORT, (int)e);
                    result = EXIT_LISTEN;
                    step = e == PICOACME_OK ? S_ACCEPT : S_DONE;
                }
            } else if (e != PICOACME_WANT_READ && e != PICOACME_WANT_WRITE) {
                printf("fw: TLS read failed: %d (wolfSSL error %d)\n", (int)e,
                       tls_ctx.last_wolfssl_err);
                result = EXIT_TLS;
                step = S_DONE;
            }
            break;
        }
        case S_ACCEPT:
            e = tp.accept(tp.user, lsock, &csock);
            if (e == PICOACME_OK) {
                printf("fw: accepted a connection\n");
                head_len = 0;
                req_off = 0;
                step = S_SERVE;
            } else if (e != PICOACME_WANT_READ) {
                step = S_DONE;
            }
            break;
        case S_SERVE: {
            size_t got = 0;
            if (head_len < 4 || memcmp(head + head_len - 4, "\r\n\r\n", 4) != 0) {
                /* read the request head byte by byte into head[] */
                if (head_len == sizeof head - 1u) {
                    head_len -= 4; /* keep only the tail of a long head */
                    memmove(head, head + 4, head_len);
                }
                e = tp.recv(tp.user, csock, (uint8_t *)head + head_len, 1, &got);
                if (e == PICOACME_OK) {
                    head_len += got;
                } else if (e != PICOACME_WANT_READ) {
                    step = S_DONE;
                }
                break;
            }
            size_t sent = 0;
            e = tp.send(tp.user, csock, (const uint8_t *)served + req_off,
                        sizeof served - 1u - req_off, &sent);
            if (e == PICOACME_OK) {
                req_off += sent;
                if (req_off == sizeof served - 1u) {
                    printf("fw: served one HTTP request\n");
                    result = EXIT_OK;
                    step = S_DONE;
                }
            } else if (e != PICOACME_WANT_WRITE) {
                step = S_DONE;
            }
            break;
        }
        case S_DONE: break;
        }
    }

    tls.close(tls.user);
    if (sock != PICOACME_SOCK_NONE) {
        tp.close(tp.user, sock);
    }
    if (csock != PICOACME_SOCK_NONE) {
        tp.close(tp.user, csock);
    }
    if (lsock != PICOACME_SOCK_NONE) {
        tp.close(tp.user, lsock);
    }
    /* Let the data and FIN/ACKs go out before stopping the machine. */
    uint32_t t_end = board_ms();
    while (board_ms() - t_end < 500u) {
        net_pump();
    }
    picoacme_wolfssl_tls_free(&tls_ctx);
    finish(result);
    return result;
}
