/*
 * main.c - host test: the keeper in a FreeRTOS task on the kernel's POSIX
 * simulator port (tasks as host threads), over ports/bsdsock (POSIX
 * sockets, getaddrinfo resolver hook) and ports/wolfssl, built with
 * ASan/UBSan. Static allocation only. The task steps the keeper, turns the
 * wait into pollfds (picoacme_wait_pollfds) and polls them without blocking
 * the simulator (a host thread must not block in a system call for long:
 * the tick is a signal), sleeping with vTaskDelay() between passes.
 *
 *   test_freertos_posix DIRECTORY_URL CA_ROOT_PEM STATE_FILE HTTP01_PORT NAME
 *
 * Prints the issued chain between "chain begin"/"chain end", then
 * "ENROLLED" and exits 0; 1 on failure. (The POSIX port runs each task on
 * its pthread's own stack, so no stack high-water mark is measured here:
 * the device's are in platform/freertos-mps2.)
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "FreeRTOS.h"
#include "task.h"

#include "picoacme.h"
#include "picoacme_bsdsock.h"
#include "picoacme_keeper.h"
#include "picoacme_posix.h"
#include "picoacme_wolfssl.h"

#define KEEPER_STACK_WORDS (16U * 1024U / sizeof(StackType_t))

static StaticTask_t keeper_tcb;
static StackType_t keeper_stack[KEEPER_STACK_WORDS];
static picoacme_keeper_t keeper;
static picoacme_bsdsock_t bs;
static picoacme_posix_flash_t flash;
static picoacme_wolfssl_crypto_t wcrypto;
static picoacme_wolfssl_tls_t wtls;
static char **g_argv;
static uint8_t roots[16384];

static void fail(const char *what)
{
    printf("FAIL: %s\n", what);
    exit(1);
}

static void setup(picoacme_ports_t *ports, picoacme_keeper_config_t *kcfg)
{
    static picoacme_transport_t tp;
    static picoacme_tls_t tls;
    static picoacme_crypto_t crypto;
    static picoacme_storage_t st;
    static picoacme_clock_t clk;
    static picoacme_ident_t id;
    static picoacme_keeper_ca_t ca;
    picoacme_bsdsock_resolver_t r;
    FILE *f = fopen(g_argv[2], "rb");
    size_t n;

    if (f == NULL) {
        fail("cannot open the CA root");
    }
    n = fread(roots, 1, sizeof roots, f);
    fclose(f);
    picoacme_bsdsock_gai_resolver(&r);
    picoacme_bsdsock_init(&bs, &r, &tp);
    picoacme_posix_clock(&clk);
    if (picoacme_posix_flash_open(&flash, g_argv[3], 16384, 4096, &st) != PICOACME_OK ||
        picoacme_wolfssl_crypto_init(&wcrypto, NULL, &crypto) != PICOACME_OK ||
        picoacme_wolfssl_tls_init(&wtls, &tp, NULL, roots, n, PICOACME_WOLFSSL_PEM, &tls) !=
            PICOACME_OK) {
        fail("ports");
    }
    id.type = PICOACME_ID_DNS;
    id.value = g_argv[5];
    ca.cfg.directory_url = g_argv[1];
    ca.cfg.ids = &id;
    ca.cfg.n_ids = 1;
    ca.cfg.http01_port = (uint16_t)atoi(g_argv[4]);
    ports->transport = &tp;
    ports->tls = &tls;
    ports->crypto = &crypto;
    ports->storage = &st;
    ports->clock = &clk;
    kcfg->cas = &ca;
    kcfg->n_cas = 1;
    kcfg->boot_spread_s = 1;
}

static void done(void)
{
    picoacme_stored_info_t info;
    const picoacme_stats_t *s = picoacme_stats(picoacme_keeper_ctx(&keeper));

    if (picoacme_stored(picoacme_keeper_ctx(&keeper), &info) != PICOACME_OK) {
        fail("nothing stored");
    }
    printf("chain begin\n%.*schain end\n", (int)info.chain_len, info.chain_pem);
    printf("ENROLLED (%lu requests)\n", (unsigned long)s->requests);
    picoacme_keeper_stop(&keeper);
    fflush(stdout);
    exit(0);
}

static void keeper_run(void *arg)
{
    static picoacme_ports_t ports;
    static picoacme_keeper_config_t kcfg;
    TickType_t t0 = xTaskGetTickCount();
    (void)arg;

    setup(&ports, &kcfg);
    if (picoacme_keeper_init(&keeper, &kcfg, &ports) != PICOACME_OK) {
        fail("keeper init");
    }
    while (xTaskGetTickCount() - t0 < pdMS_TO_TICKS(120000)) {
        picoacme_wait_t w;
        struct pollfd pfd[PICOACME_WAIT_SOCKS];
        int timeout = 0;
        picoacme_keeper_event_t ev = picoacme_keeper_step(&keeper, &w);
        size_t n = picoacme_wait_pollfds(&w, pfd, PICOACME_WAIT_SOCKS, 20, &timeout);

        if (ev == PICOACME_KEEPER_EV_ISSUED) {
            done();
        }
        if (ev == PICOACME_KEEPER_EV_RENEWAL_FAILING) {
            const picoacme_problem_t *p = picoacme_keeper_problem(&keeper);
            printf("attempt failed: %s %s %s\n", picoacme_err_str(p->err), p->type, p->detail);
            fail("enrolment");
        }
        if (ev == PICOACME_KEEPER_EV_NONE && (n == 0U || poll(pfd, (nfds_t)n, 0) == 0)) {
            vTaskDelay(pdMS_TO_TICKS((uint32_t)(timeout > 0 ? timeout : 1)));
        }
    }
    fail("no enrolment in 120 s");
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s DIRECTORY_URL CA_ROOT STATE HTTP01_PORT NAME\n", argv[0]);
        return 2;
    }
    g_argv = argv;
    setvbuf(stdout, NULL, _IOLBF, 0);
    xTaskCreateStatic(keeper_run, "keeper", KEEPER_STACK_WORDS, NULL, 2, keeper_stack, &keeper_tcb);
    vTaskStartScheduler();
    return 1;
}
