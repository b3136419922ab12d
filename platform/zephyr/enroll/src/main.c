/*
 * main.c - Zephyr sample: enrol this device with an internal ACME CA by
 * http-01 and keep the certificate in the flash area "storage_partition".
 * The engine is pumped with zsock_poll() on the sockets of its wait
 * descriptor (picoacme_wait_pollfds()), so the thread sleeps until the
 * network or the engine's timer wakes it. NOT BUILT in this project's CI.
 */
#include <stdio.h>
#include <zephyr/kernel.h>
#include <zephyr/storage/flash_map.h>

#include "picoacme.h"
#include "picoacme_bsdsock.h"
#include "picoacme_wolfssl.h"
#include "picoacme_zephyr.h"

#ifndef APP_DIRECTORY_URL
#define APP_DIRECTORY_URL "https://acme.internal:14000/dir"
#endif
#ifndef APP_DEVICE_NAME
#define APP_DEVICE_NAME "device.internal"
#endif

/* the CA's root (PEM), compiled in from APP_CA_ROOT by CMakeLists.txt */
static const unsigned char app_ca_root[] = {
#include "app_ca_root.inc"
};

static picoacme_ctx_t g_ctx;
static picoacme_bsdsock_t g_sock;
static picoacme_zephyr_flash_t g_flash;
static picoacme_wolfssl_tls_t g_wtls;
static picoacme_wolfssl_crypto_t g_wcrypto;

static int pump(void)
{
    picoacme_err_t e;
    picoacme_wait_t w;

    for (;;) {
        struct zsock_pollfd pfd[PICOACME_WAIT_SOCKS];
        int timeout;
        size_t n;

        e = picoacme_step(&g_ctx, &w);
        if (!picoacme_err_is_pending(e)) {
            return e == PICOACME_OK ? 0 : -1;
        }
        n = picoacme_wait_pollfds(&w, pfd, PICOACME_WAIT_SOCKS, 1000, &timeout);
        if (n == 0U) {
            k_msleep(timeout);
        } else {
            (void)zsock_poll(pfd, (int)n, timeout);
        }
    }
}

int main(void)
{
    static picoacme_transport_t tp;
    static picoacme_tls_t tls;
    static picoacme_crypto_t crypto;
    static picoacme_storage_t st;
    static picoacme_clock_t clk;
    static const picoacme_ident_t id = {PICOACME_ID_DNS, APP_DEVICE_NAME};
    picoacme_bsdsock_resolver_t r;
    picoacme_config_t cfg = {0};
    picoacme_ports_t ports = {0};

    picoacme_zephyr_resolver(&r);
    picoacme_bsdsock_init(&g_sock, &r, &tp);
    picoacme_zephyr_clock(&clk);
    if (picoacme_zephyr_flash_open(&g_flash, FIXED_PARTITION_ID(storage_partition), &st) !=
            PICOACME_OK ||
        picoacme_wolfssl_crypto_init(&g_wcrypto, NULL, &crypto) != PICOACME_OK ||
        picoacme_wolfssl_tls_init(&g_wtls, &tp, NULL, app_ca_root, sizeof app_ca_root,
                                  PICOACME_WOLFSSL_PEM, &tls) != PICOACME_OK) {
        printf("picoacme: port setup failed\n");
        return 1;
    }
    ports.transport = &tp;
    ports.tls = &tls;
    ports.crypto = &crypto;
    ports.storage = &st;
    ports.clock = &clk;
    cfg.directory_url = APP_DIRECTORY_URL;
    cfg.ids = &id;
    cfg.n_ids = 1;
    cfg.http01_port = 80;
    if (picoacme_init(&g_ctx, &cfg, &ports) != PICOACME_OK ||
        picoacme_issue_start(&g_ctx) != PICOACME_OK || pump() != 0) {
        const picoacme_problem_t *p = picoacme_last_problem(&g_ctx);
        printf("picoacme: failed in %s: %s\n", picoacme_state_str(p->state),
               picoacme_err_str(p->err));
        picoacme_abort(&g_ctx);
        return 1;
    }
    printf("picoacme: ENROLLED\n");
    picoacme_abort(&g_ctx);
    return 0;
}
