/*
 * main.c - the FreeRTOS sample on QEMU mps2-an385: FreeRTOS-Kernel V11.3.0
 * with static allocation only, lwIP 2.1.3 threaded (tcpip_thread) on the
 * LAN9118, and a keeper task that keeps the device's certificate valid with
 * picoacme_keeper_t over ports/bsdsock (lwIP sockets) and ports/wolfssl.
 *
 * Tasks (priorities high to low):
 *   tcpip   lwIP's thread (sys_arch.c, static stack)
 *   eth     polls the LAN9118 RX FIFO every tick and hands frames to
 *           tcpip_thread (tcpip_input); the driver is qemu-mps2's, run
 *           under the tcpip core lock
 *   keeper  brings the network up (DHCP), then pumps the keeper: every
 *           step's wait descriptor becomes a pollfd array
 *           (picoacme_wait_pollfds) and the task blocks in lwip_poll()
 *           until a socket is ready or the keeper's timeout passes: no
 *           wake-up per tick
 *   IDLE    the idle hook sleeps with wfi, so QEMU does not spin a host core
 *
 * Semihosting arguments: renewals=N (exit after N renewals; 0: after the
 * enrolment or once a stored certificate is found), renew-now, cut=N (with
 * renew-now: the power fails after N bytes of the renewal's save, exit 42;
 * the next boot must find the old certificate). The stack
 * high-water mark of every task is printed before the exit.
 *
 * Exit status: 0 done, 10 netif, 11 DHCP, 12 wolfSSL pool, 13 TLS setup,
 * 20 flash, 22 configuration, 30 RTOS (assert, stack overflow).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "FreeRTOS.h"
#include "task.h"

#include "lwip/dhcp.h"
#include "lwip/netif.h"
#include "lwip/sockets.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/memory.h>

#include "board.h"
#include "fw_config.h"
#include "fw_flash.h"
#include "fw_semihost.h"
#include "fw_time.h"
#include "lan9118.h"
#include "picoacme.h"
#include "picoacme_bsdsock.h"
#include "picoacme_keeper.h"
#include "picoacme_wolfssl.h"

#if defined(FW_HTTPS)
#include "fw_https.h"
void fw_https_lock_init(void);
#define WOLF_LOCK()   xSemaphoreTake(fw_wolf_lock, portMAX_DELAY)
#define WOLF_UNLOCK() xSemaphoreGive(fw_wolf_lock)
#else
#define WOLF_LOCK()   ((void)0)
#define WOLF_UNLOCK() ((void)0)
#endif
#include "fw_ca_root.h" /* generated: fw_ca_root_der[], _len, fw_ca_root_is_pem */

/* stacks: ~1.5x the high-water marks measured in QEMU (printed at exit):
 * keeper 4228 B (TLS handshake + ECDSA in a keeper step), eth 196 B */
#define KEEPER_STACK_WORDS 1536U
#define ETH_STACK_WORDS    96U
#define KEEPER_PRIO        2
#define ETH_PRIO           3

static StaticTask_t keeper_tcb;
static StackType_t keeper_stack[KEEPER_STACK_WORDS];
static StaticTask_t eth_tcb;
static StackType_t eth_stack[ETH_STACK_WORDS];
static TaskHandle_t keeper_task;
static TaskHandle_t eth_task;

static struct netif netif;
static picoacme_keeper_t keeper;
static picoacme_bsdsock_t sock_ctx;
static picoacme_wolfssl_tls_t tls_ctx;
static picoacme_wolfssl_crypto_t crypto_ctx;
static fw_flash_t flash;
static fw_flash_t flash_state;
static uint8_t wolf_pool[FW_WOLF_POOL_SIZE] __attribute__((aligned(16)));

static unsigned opt_renewals = FW_RENEWALS;
static int opt_renew_now;
static long opt_cut = -1;
static unsigned opt_serve_s; /* keep serving this long after the last event */
static WOLFSSL_HEAP_HINT *wolf_heap;
static picoacme_crypto_t *crypto_port;

static void parse_cmdline(void)
{
    static char line[160];
    if (sh_cmdline(line, sizeof line) != 0) {
        return;
    }
    for (char *tok = strtok(line, " "); tok != NULL; tok = strtok(NULL, " ")) {
        if (strncmp(tok, "renewals=", 9) == 0) {
            opt_renewals = (unsigned)strtoul(tok + 9, NULL, 10);
        } else if (strcmp(tok, "renew-now") == 0) {
            opt_renew_now = 1;
        } else if (strncmp(tok, "serve=", 6) == 0) {
            opt_serve_s = (unsigned)strtoul(tok + 6, NULL, 10);
        } else if (strncmp(tok, "cut=", 4) == 0) {
            opt_cut = strtol(tok + 4, NULL, 10);
        }
    }
#ifndef FW_FAULT_INJECTION
    if (opt_cut >= 0) {
        printf("fw: cut=%ld ignored: built without FW_FAULT_INJECTION\n", opt_cut);
        opt_cut = -1;
    }
#endif
}

/* ---- board hooks (the tick is FreeRTOS's SysTick) ----------------------- */

static uint32_t rand_state = 0x9e3779b9u;

uint32_t fw_time_ms(void)
{
    return (uint32_t)(xTaskGetTickCount() * portTICK_PERIOD_MS);
}

uint32_t board_ms(void)
{
    return fw_time_ms();
}

uint32_t fw_lwip_rand(void)
{
    uint32_t x = rand_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    rand_state = x;
    return x;
}

void vApplicationIdleHook(void)
{
    __asm volatile("wfi");
}

void fw_rtos_assert(const char *file, int line)
{
    printf("fw: RTOS assert %s:%d\n", file, line);
    exit(30);
}

void vApplicationStackOverflowHook(TaskHandle_t task, char *name)
{
    (void)task;
    printf("fw: stack overflow in task %s\n", name);
    exit(30);
}

/* ---- the end of a run: stack marks, exit --------------------------------- */

static void report_stack(TaskHandle_t t, uint32_t words)
{
    UBaseType_t free_words = uxTaskGetStackHighWaterMark(t);
    printf("fw: stack %-6s %5lu of %5lu bytes used\n", pcTaskGetName(t),
           (unsigned long)((words - free_words) * sizeof(StackType_t)),
           (unsigned long)(words * sizeof(StackType_t)));
}

static void finish(int code)
{
    picoacme_keeper_stop(&keeper);
    vTaskDelay(pdMS_TO_TICKS(300)); /* FIN/ACKs out */
    report_stack(keeper_task, KEEPER_STACK_WORDS);
    report_stack(eth_task, ETH_STACK_WORDS);
    report_stack(xTaskGetHandle(TCPIP_THREAD_NAME), TCPIP_THREAD_STACKSIZE / sizeof(StackType_t));
    report_stack(xTaskGetIdleTaskHandle(), configMINIMAL_STACK_SIZE);
#if defined(FW_HTTPS)
    report_stack(fw_https_task(), fw_https_stack_words());
#endif
    printf("fw: exit %d after %lu ms\n", code, (unsigned long)fw_time_ms());
    exit(code);
}

/* ---- network ------------------------------------------------------------ */

static void eth_run(void *arg)
{
    (void)arg;
    for (;;) {
        LOCK_TCPIP_CORE();
        while (lan9118_poll(&netif) > 0) {
        }
        UNLOCK_TCPIP_CORE();
        vTaskDelay(1);
    }
}

static void net_up(void)
{
    ip4_addr_t zero;
    uint32_t t0 = fw_time_ms();

    tcpip_init(NULL, NULL);
    ip4_addr_set_zero(&zero);
    LOCK_TCPIP_CORE();
    if (netif_add(&netif, &zero, &zero, &zero, NULL, lan9118_netif_init, tcpip_input) == NULL) {
        UNLOCK_TCPIP_CORE();
        printf("fw: LAN9118 not found\n");
        finish(10);
    }
    netif_set_default(&netif);
    netif_set_up(&netif);
    if (lan9118_link_up()) {
        netif_set_link_up(&netif);
    }
    (void)dhcp_start(&netif);
    UNLOCK_TCPIP_CORE();
    eth_task =
        xTaskCreateStatic(eth_run, "eth", ETH_STACK_WORDS, NULL, ETH_PRIO, eth_stack, &eth_tcb);
    while (ip4_addr_isany_val(*netif_ip4_addr(&netif))) {
        if (fw_time_ms() - t0 > FW_DHCP_TIMEOUT_MS) {
            printf("fw: no address from DHCP\n");
            finish(11);
        }
        vTaskDelay(pdMS_TO_TICKS(10));
    }
    printf("fw: address %s after %lu ms\n", ip4addr_ntoa(netif_ip4_addr(&netif)),
           (unsigned long)(fw_time_ms() - t0));
}

/* ---- the keeper task ---------------------------------------------------- */

static void print_chain(const char *what, unsigned idx)
{
    picoacme_stored_info_t info;
    if (picoacme_stored(picoacme_keeper_ctx(&keeper), &info) != PICOACME_OK) {
        printf("fw: the certificate is not in the flash\n");
        finish(20);
    }
    printf("fw: %s chain %u begin\n", what, idx);
    fwrite(info.chain_pem, 1, info.chain_len, stdout);
    if (info.chain_len == 0 || info.chain_pem[info.chain_len - 1] != '\n') {
        printf("\n");
    }
    printf("fw: %s chain %u end\n", what, idx);
    printf("fw: stored in flash, valid %lu..%lu, renew at %lu\n", (unsigned long)info.not_before_s,
           (unsigned long)info.not_after_s, (unsigned long)info.renew_at_s);
}

static void ports_up(picoacme_ports_t *ports, picoacme_keeper_config_t *kcfg)
{
    static picoacme_transport_t tp;
    static picoacme_tls_t tls;
    static picoacme_crypto_t crypto;
    static picoacme_storage_t st;
    static picoacme_storage_t st_keeper;
    static picoacme_clock_t clk;
    static picoacme_ident_t id;
    static picoacme_keeper_ca_t ca;
    picoacme_bsdsock_resolver_t r;
    WOLFSSL_HEAP_HINT *heap = NULL;

    crypto_port = &crypto;
    if (wc_LoadStaticMemory(&heap, wolf_pool, sizeof wolf_pool, WOLFMEM_GENERAL, 1) != 0) {
        finish(12);
    }
    if (fw_flash_open(&flash, FW_FLASH_FILE, FW_FLASH_SIZE, FW_FLASH_ERASE, &st) != 0 ||
        fw_flash_open(&flash_state, FW_FLASH_FILE ".keeper", 2U * FW_FLASH_ERASE, FW_FLASH_ERASE,
                      &st_keeper) != 0) {
        finish(20);
    }
    picoacme_bsdsock_lwip_resolver(&r);
    picoacme_bsdsock_init(&sock_ctx, &r, &tp);
    if (picoacme_wolfssl_crypto_init(&crypto_ctx, heap, &crypto) != PICOACME_OK ||
        picoacme_wolfssl_tls_init(&tls_ctx, &tp, heap, fw_ca_root_der, fw_ca_root_der_len,
                                  fw_ca_root_is_pem ? PICOACME_WOLFSSL_PEM : PICOACME_WOLFSSL_DER,
                                  &tls) != PICOACME_OK) {
        finish(13);
    }
    wolf_heap = heap;
    fw_time_clock(&clk);
    id.type = PICOACME_ID_DNS;
    id.value = FW_DEVICE_NAME;
    ca.cfg.directory_url = PICOACME_FW_DIRECTORY_URL;
    ca.cfg.ids = &id;
    ca.cfg.n_ids = 1;
    ca.cfg.http01_port = FW_HTTP01_PORT;
    ports->transport = &tp;
    ports->tls = &tls;
    ports->crypto = &crypto;
    ports->storage = &st;
    ports->clock = &clk;
    kcfg->cas = &ca;
    kcfg->n_cas = 1;
    kcfg->boot_spread_s = 1; /* a test device: no fleet to spread */
    kcfg->state_store = &st_keeper;
}

/* Hand the stored certificate and its key to the HTTPS server task. */
static void publish(void)
{
#if defined(FW_HTTPS)
    picoacme_stored_info_t info;
    uint8_t priv[32];
    picoacme_ctx_t *ctx = picoacme_keeper_ctx(&keeper);
    int ok;

    WOLF_LOCK();
    /* the keys first: info.chain_pem points into the context and is only
     * valid until the next call */
    ok = picoacme_stored_load_keys(ctx) == PICOACME_OK &&
         crypto_port->key_export(crypto_port->user, PICOACME_KEY_CERT, priv) == PICOACME_OK &&
         picoacme_stored(ctx, &info) == PICOACME_OK;
    WOLF_UNLOCK();
    if (ok) {
        fw_https_set_cert(info.chain_pem, info.chain_len, priv, (uint32_t)info.not_after_s);
    } else {
        printf("fw: https: the stored certificate or its key cannot be read\n");
    }
    memset(priv, 0, sizeof priv);
#endif
}

/* One pass: a keeper step, then block in lwip_poll() on what it waits for. */
static picoacme_keeper_event_t keeper_pass(void)
{
    picoacme_wait_t w;
    struct pollfd pfd[PICOACME_WAIT_SOCKS];
    int timeout = 0;
    int64_t now_s;
    picoacme_keeper_event_t ev;
    size_t n;

    WOLF_LOCK(); /* the HTTPS task's wolfSSL calls are serialized with ours */
    ev = picoacme_keeper_step(&keeper, &w);
    WOLF_UNLOCK();
    n = picoacme_wait_pollfds(&w, pfd, PICOACME_WAIT_SOCKS, 1000, &timeout);

    now_s = picoacme_now(picoacme_keeper_ctx(&keeper));
    if (now_s != PICOACME_TIME_UNKNOWN) {
        fw_time_learn(now_s); /* the CA's authenticated Date for wolfSSL */
    }
    if (ev == PICOACME_KEEPER_EV_NONE) {
        if (n > 0U) {
            (void)lwip_poll(pfd, (nfds_t)n, timeout);
        } else {
            vTaskDelay(pdMS_TO_TICKS((uint32_t)timeout) + 1U);
        }
    }
    return ev;
}

/* The run's last event: exit now, or after serve=N seconds more. */
static uint32_t done_at;
static void end_run(void)
{
    if (opt_serve_s == 0U) {
        finish(0);
    }
    if (done_at == 0U) {
        printf("fw: serving for %u s\n", opt_serve_s);
        done_at = fw_time_ms() + opt_serve_s * 1000U;
        done_at += done_at == 0U ? 1U : 0U;
    }
}

static void keeper_run(void *arg)
{
    static picoacme_ports_t ports;
    static picoacme_keeper_config_t kcfg;
    picoacme_keeper_status_t s;
    unsigned issued = 0;
    uint32_t t_start;
    int published = 0;
    int told_stored = 0;
    (void)arg;

    net_up();
    ports_up(&ports, &kcfg);
    if (picoacme_keeper_init(&keeper, &kcfg, &ports) != PICOACME_OK) {
        finish(22);
    }
    if (opt_renew_now) {
        (void)picoacme_keeper_renew_now(&keeper);
        if (opt_cut >= 0) {
            /* test: the power fails after opt_cut more bytes are programmed
             * into the certificate's flash (QEMU exits with 42 then) */
            printf("fw: fault injection: power cut after %ld bytes\n", opt_cut);
            fw_flash_cut_after(&flash, opt_cut);
        }
    }
#if defined(FW_HTTPS)
    fw_https_start(443, wolf_heap);
#endif
    t_start = fw_time_ms();
    for (;;) {
        picoacme_keeper_event_t ev = keeper_pass();
        picoacme_keeper_status(&keeper, &s);
        if (done_at != 0U && (int32_t)(fw_time_ms() - done_at) >= 0) {
            finish(0);
        }
        if (ev != PICOACME_KEEPER_EV_ISSUED && !published && s.phase == PICOACME_KEEPER_PH_WAIT &&
            s.not_after_s != 0) {
            publish(); /* a stored certificate at boot */
            published = 1;
        }
        if (ev == PICOACME_KEEPER_EV_ISSUED) {
            publish();
            published = 1;
            const picoacme_stats_t *st = picoacme_stats(picoacme_keeper_ctx(&keeper));
            print_chain("issued", issued);
            /* ms: since the keeper started, or since the previous issuance */
            printf("%s after %lu ms (%lu requests, %lu connections, %u TLS handshakes)\n",
                   issued == 0 && !opt_renew_now && s.issued == 1U ? "ENROLLED" : "RENEWED",
                   (unsigned long)(fw_time_ms() - t_start), (unsigned long)st->requests,
                   (unsigned long)st->connections, tls_ctx.handshakes);
            if (issued++ >= opt_renewals) {
                end_run();
            }
            t_start = fw_time_ms();
        } else if (ev == PICOACME_KEEPER_EV_RENEWAL_FAILING) {
            const picoacme_problem_t *p = picoacme_keeper_problem(&keeper);
            printf("fw: attempt failed at '%s': %s (HTTP %u) %s %s\n", picoacme_state_str(p->state),
                   picoacme_err_str(p->err), (unsigned)p->http_status, p->type, p->detail);
        } else if (s.phase == PICOACME_KEEPER_PH_WAIT && s.not_after_s != 0 && issued == 0 &&
                   opt_renewals == 0 && !opt_renew_now) {
            if (!told_stored) {
                print_chain("stored", 0);
                printf("stored certificate found, renew at %lu\n", (unsigned long)s.renew_at_s);
                told_stored = 1;
                end_run();
            }
        }
    }
}

int main(void)
{
    printf("fw: picoacme FreeRTOS %s sample (lwIP threaded, static allocation)\n",
           tskKERNEL_VERSION_NUMBER);
    printf("fw: WARNING entropy is fw_test_entropy.c: NOT RANDOM, test only\n");
    parse_cmdline();
#if defined(FW_HTTPS)
    fw_https_lock_init();
#endif
    {
        uint8_t seed[4];
        if (fw_rng_seed(seed, sizeof seed) == 0) {
            rand_state ^= (uint32_t)seed[0] | (uint32_t)seed[1] << 8 | (uint32_t)seed[2] << 16 |
                          (uint32_t)seed[3] << 24;
        }
    }
    keeper_task = xTaskCreateStatic(keeper_run, "keeper", KEEPER_STACK_WORDS, NULL, KEEPER_PRIO,
                                    keeper_stack, &keeper_tcb);
    vTaskStartScheduler();
    return 30; /* not reached */
}
