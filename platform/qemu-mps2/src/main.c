/*
 * main.c - the qemu-mps2 ACME firmware: a bare-metal superloop with no
 * heap that enrols the device with an internal ACME CA (RFC 8555, http-01)
 * and keeps its certificate renewed. The challenge is chosen at build time
 * (FW_CHALLENGE: http-01 on :80, tls-alpn-01 on :443, or dns-01 by RFC 2136
 * UPDATE with TSIG over TCP to FW_DNS_SERVER).
 *
 * boot -> lwIP up on the LAN9118 (DHCP) -> picoacme_stored(): a stored
 * certificate that is not yet due is kept ("stored certificate found");
 * otherwise picoacme_issue_start() and picoacme_step() pumped from the loop
 * that also polls the driver and runs lwIP's timers -> the chain is printed
 * ("ENROLLED") -> the loop waits, network still served, until the renewal
 * time and renews (new order, account from flash) -> after FW_RENEWALS
 * renewals it exits through semihosting.
 *
 * No RTC: the clock port says "unknown", the engine takes the time from the
 * CA's Date header, and wolfSSL uses a lower bound until then (fw_time.c).
 *
 * Test knobs, semihosting arguments (-semihosting-config arg=...):
 *   renewals=N    renewals before exiting (default FW_RENEWALS)
 *   renew-now     a stored certificate is renewed at once, due or not
 *   cut=N         (FW_FAULT_INJECTION builds) power cut after N bytes
 *                 programmed during a renewal's save: exit FW_EXIT_POWER_CUT
 *
 * Exit status: 0 done, 10 netif, 11 DHCP, 12 wolfSSL pool, 13 TLS setup,
 * 20 flash, 21 crypto, 22 configuration, 23 issuance failed, 24 store
 * unreadable, 42 power cut (fault injection).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "fw_config.h"
#include "fw_flash.h"
#include "fw_report.h"
#include "fw_time.h"
#include "lan9118.h"
#include "picoacme.h"
#include "picoacme_lwip.h"
#include "picoacme_wolfssl.h"
#include "fw_semihost.h"

#include "lwip/dhcp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/memory.h>

#include "fw_ca_root.h" /* generated: fw_ca_root_der[], _len, fw_ca_root_is_pem */
#if defined(FW_CHALLENGE_DNS01)
/* FW_TSIG_NAME and fw_tsig_secret[] (decoded hmac-sha256 key) */
#include FW_TSIG_HEADER
#endif

enum exit_code {
    EXIT_OK = 0,
    EXIT_NETIF = 10,
    EXIT_DHCP = 11,
    EXIT_POOL = 12,
    EXIT_TLS_INIT = 13,
    EXIT_FLASH = 20,
    EXIT_CRYPTO = 21,
    EXIT_CONFIG = 22,
    EXIT_ISSUE = 23,
    EXIT_STORE = 24
};

enum mode { M_ADDR, M_START, M_ISSUING, M_WAIT_RENEW };

static struct netif netif;
static picoacme_lwip_t lwip_tp;
static picoacme_wolfssl_tls_t tls_ctx;
static picoacme_wolfssl_crypto_t crypto_ctx;
static fw_flash_t flash;
static picoacme_ctx_t g_ctx;
static uint8_t wolf_pool[FW_WOLF_POOL_SIZE] __attribute__((aligned(16)));

/* test knobs from the semihosting command line */
static unsigned opt_renewals = FW_RENEWALS;
static long opt_cut = -1;
static int opt_renew_now;

static void parse_cmdline(void)
{
    static char line[160];
    if (sh_cmdline(line, sizeof line) != 0) {
        return;
    }
    for (char *tok = strtok(line, " "); tok != NULL; tok = strtok(NULL, " ")) {
        if (strncmp(tok, "renewals=", 9) == 0) {
            opt_renewals = (unsigned)strtoul(tok + 9, NULL, 10);
        } else if (strncmp(tok, "cut=", 4) == 0) {
            opt_cut = strtol(tok + 4, NULL, 10);
        } else if (strcmp(tok, "renew-now") == 0) {
            opt_renew_now = 1;
        }
    }
#ifndef FW_FAULT_INJECTION
    if (opt_cut >= 0) {
        printf("fw: cut=%ld ignored: built without FW_FAULT_INJECTION\n", opt_cut);
        opt_cut = -1;
    }
#endif
}

static void log_hook(void *user, int level, const char *fmt, ...)
{
    static const char *const lvl[] = {"", "ERR", "WRN", "INF", "DBG"};
    va_list ap;
    (void)user;
    printf("acme %s: ", level >= 1 && level <= 4 ? lvl[level] : "?");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static void net_pump(void)
{
    (void)lan9118_poll(&netif);
    sys_check_timeouts();
}

static void finish(int code)
{
    picoacme_abort(&g_ctx);
    /* let FIN/ACKs go out before the machine stops */
    uint32_t t_end = board_ms();
    while (board_ms() - t_end < 300u) {
        net_pump();
    }
    fw_pool_report();
    printf("fw: wolfSSL pool %u of %u bytes touched, stack high-water ~%u bytes, "
           "flash %lu bytes programmed\n",
           (unsigned)fw_pool_touched(), (unsigned)sizeof wolf_pool, (unsigned)fw_stack_used(),
           (unsigned long)flash.programmed);
    printf("fw: exit %d after %lu ms\n", code, (unsigned long)board_ms());
    board_exit(code);
}

static void print_chain(const char *what, unsigned idx, const char *pem, size_t len)
{
    printf("fw: %s chain %u begin\n", what, idx);
    fwrite(pem, 1, len, stdout);
    if (len == 0 || pem[len - 1] != '\n') {
        printf("\n");
    }
    printf("fw: %s chain %u end\n", what, idx);
}

/* Read the store; 1 when a certificate is there (info filled), 0 when the
 * flash holds none. Exits on a store that cannot be read. */
static int read_store(picoacme_stored_info_t *info)
{
    picoacme_err_t e = picoacme_stored(&g_ctx, info);
    if (e == PICOACME_ERR_NOT_FOUND) {
        return 0;
    }
    if (e != PICOACME_OK) {
        printf("fw: reading the store failed: %s\n", picoacme_err_str(e));
        finish(EXIT_STORE);
    }
    /* the certificate existed at not_before: the time is at least that */
    fw_time_floor(info->not_before_s);
    return 1;
}

static void report_failure(void)
{
    const picoacme_problem_t *p = picoacme_last_problem(&g_ctx);
    printf("fw: issuance failed at step '%s': %s", picoacme_state_str(p->state),
           picoacme_err_str(p->err));
    if (p->http_status != 0) {
        printf(" (HTTP %u)", (unsigned)p->http_status);
    }
    if (p->type[0] != '\0') {
        printf(" %s", p->type);
    }
    if (p->detail[0] != '\0') {
        printf(": %s", p->detail);
    }
    if (p->err == PICOACME_ERR_TLS || p->err == PICOACME_ERR_TLS_VERIFY) {
        printf("; TLS: %s (wolfSSL error %d)", picoacme_wolfssl_tls_reason(&tls_ctx),
               tls_ctx.last_wolfssl_err);
    }
    printf("\n");
}

int main(void)
{
    fw_stack_paint();
    board_init();
    printf("fw: picoacme qemu-mps2 ACME firmware (lwIP %s, no heap)\n", LWIP_VERSION_STRING);
    printf("fw: WARNING entropy is fw_test_entropy.c: NOT RANDOM, test only\n");
    parse_cmdline();
    printf("fw: directory %s (%s -> %s), identifier %s, renewals %u%s\n", PICOACME_FW_DIRECTORY_URL,
           FW_CA_HOST, FW_CA_ADDR, FW_DEVICE_NAME, opt_renewals,
           opt_renew_now ? ", renew-now" : "");
#if defined(FW_CHALLENGE_TLSALPN01)
    printf("fw: challenge tls-alpn-01 on :%u\n", (unsigned)FW_TLSALPN01_PORT);
#elif defined(FW_CHALLENGE_DNS01)
    printf("fw: challenge dns-01 over TCP to %s:%u, TSIG key %s\n", FW_DNS_SERVER,
           (unsigned)FW_DNS_PORT, FW_TSIG_NAME);
#endif

    /* ---- network ------------------------------------------------------ */
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
#ifndef FW_STATIC_IP
    if (dhcp_start(&netif) != ERR_OK) {
        finish(EXIT_DHCP);
    }
#endif

    /* ---- ports -------------------------------------------------------- */
    if (wolfSSL_MemoryPaddingSz() != (int)FW_WOLF_BLOCK_HDR) {
        /* the pool was sized for another block header (user_settings.h) */
        printf("fw: wolfSSL block header %d, pool sized for %u\n", wolfSSL_MemoryPaddingSz(),
               (unsigned)FW_WOLF_BLOCK_HDR);
        finish(EXIT_POOL);
    }
    fw_pool_paint(wolf_pool, sizeof wolf_pool);
    WOLFSSL_HEAP_HINT *heap = NULL;
    if (wc_LoadStaticMemory(&heap, wolf_pool, sizeof wolf_pool, WOLFMEM_GENERAL, 1) != 0) {
        printf("fw: wc_LoadStaticMemory failed\n");
        finish(EXIT_POOL);
    }
    fw_pool_set_heap(heap);

    static picoacme_transport_t tp;
    static picoacme_tls_t tls;
    static picoacme_crypto_t crypto;
    static picoacme_storage_t st;
    static picoacme_clock_t clk;
    static picoacme_ports_t ports;
    static picoacme_ident_t ids[1];
    static picoacme_config_t cfg;

    if (fw_flash_open(&flash, FW_FLASH_FILE, FW_FLASH_SIZE, FW_FLASH_ERASE, &st) != 0) {
        printf("fw: cannot open the flash file %s\n", FW_FLASH_FILE);
        finish(EXIT_FLASH);
    }
    picoacme_lwip_init(&lwip_tp, &tp);
    if (picoacme_wolfssl_crypto_init(&crypto_ctx, heap, &crypto) != PICOACME_OK) {
        printf("fw: crypto init failed\n");
        finish(EXIT_CRYPTO);
    }
    picoacme_err_t e = picoacme_wolfssl_tls_init(
        &tls_ctx, &tp, heap, fw_ca_root_der, fw_ca_root_der_len,
        fw_ca_root_is_pem ? PICOACME_WOLFSSL_PEM : PICOACME_WOLFSSL_DER, &tls);
    if (e != PICOACME_OK) {
        printf("fw: TLS init failed (%s): no usable CA root compiled in?\n", picoacme_err_str(e));
        finish(EXIT_TLS_INIT);
    }
    fw_time_clock(&clk);

    ids[0].type = PICOACME_ID_DNS;
    ids[0].value = FW_DEVICE_NAME;
    cfg.directory_url = PICOACME_FW_DIRECTORY_URL;
    cfg.ids = ids;
    cfg.n_ids = 1;
#if defined(FW_CHALLENGE_TLSALPN01)
    /* tls-alpn-01 (RFC 8737): the validator's TLS handshake on :443 */
    cfg.tlsalpn01_port = FW_TLSALPN01_PORT;
    cfg.challenges[0] = PICOACME_CHALL_TLSALPN01;
    cfg.n_challenges = 1;
#elif defined(FW_CHALLENGE_DNS01)
    /* dns-01: RFC 2136 UPDATE signed with TSIG, then the TXT query until
     * it answers, both over TCP (the network carries only TCP) */
    static picoacme_dns01_config_t dns01;
    dns01.server = FW_DNS_SERVER;
    dns01.server_port = FW_DNS_PORT;
    dns01.tsig.name = FW_TSIG_NAME;
    dns01.tsig.secret = fw_tsig_secret;
    dns01.tsig.secret_len = sizeof fw_tsig_secret;
    dns01.resolver = FW_DNS_SERVER;
    dns01.resolver_port = FW_DNS_PORT;
    dns01.timeout_s = FW_DNS_TIMEOUT_S;
    dns01.tcp = true;
    cfg.dns01 = &dns01;
    cfg.challenges[0] = PICOACME_CHALL_DNS01;
    cfg.n_challenges = 1;
#else
    cfg.http01_port = FW_HTTP01_PORT;
#endif
    ports.transport = &tp;
    ports.tls = &tls;
    ports.crypto = &crypto;
    ports.storage = &st;
    ports.clock = &clk;
    ports.log = log_hook;
    e = picoacme_init(&g_ctx, &cfg, &ports);
    if (e != PICOACME_OK) {
        printf("fw: invalid configuration: %s\n", picoacme_err_str(e));
        finish(EXIT_CONFIG);
    }

    /* ---- the superloop ------------------------------------------------ */
    enum mode mode = M_ADDR;
    picoacme_wait_t w = {0};
    picoacme_stored_info_t info;
    uint32_t t_boot = board_ms();
    uint32_t t_issue = 0;
    uint32_t wake_ms = 0;
    int64_t renew_at = 0;
    unsigned renewals = 0;
    unsigned chains = 0;
    int renewing = 0;

    for (;;) {
        net_pump();
        int64_t now_s = picoacme_now(&g_ctx);
        if (now_s != PICOACME_TIME_UNKNOWN) {
            fw_time_learn(now_s); /* the CA's authenticated Date */
        }
        switch (mode) {
        case M_ADDR:
            if (!ip4_addr_isany_val(*netif_ip4_addr(&netif))) {
                printf("fw: address %s after %lu ms\n", ip4addr_ntoa(netif_ip4_addr(&netif)),
                       (unsigned long)(board_ms() - t_boot));
                if (read_store(&info)) {
                    bool known = false;
                    int64_t t = fw_time_now(&known);
                    renew_at = info.renew_at_s;
                    print_chain("stored", chains++, info.chain_pem, info.chain_len);
                    if (t < renew_at && !opt_renew_now) {
                        printf("stored certificate found, renew at %lu (in %ld s by the %s "
                               "clock)\n",
                               (unsigned long)renew_at, (long)(renew_at - t),
                               known ? "CA's" : "lower-bound");
                        if (opt_renewals == 0) {
                            finish(EXIT_OK);
                        }
                        mode = M_WAIT_RENEW;
                    } else {
                        printf("stored certificate found, renewal due (renew at %lu)\n",
                               (unsigned long)renew_at);
                        mode = M_START;
                    }
                    renewing = 1;
                } else {
                    printf("fw: no certificate stored: enrolling\n");
                    mode = M_START;
                }
            } else if (board_ms() - t_boot > FW_DHCP_TIMEOUT_MS) {
                printf("fw: no address from DHCP\n");
                finish(EXIT_DHCP);
            }
            break;
        case M_START:
            if (renewing && opt_cut >= 0) {
                printf("fw: fault injection: power cut after %ld bytes of this save\n", opt_cut);
                fw_flash_cut_after(&flash, opt_cut);
            }
            t_issue = board_ms();
            e = picoacme_issue_start(&g_ctx);
            if (e != PICOACME_OK) {
                report_failure();
                finish(EXIT_ISSUE);
            }
            wake_ms = board_ms();
            w.count = 0;
            mode = M_ISSUING;
            break;
        case M_ISSUING:
            /* with sockets to watch, try every pass (the lwIP port answers
             * "would block" at once); otherwise wait for the timer */
            if (w.count == 0 && (int32_t)(board_ms() - wake_ms) < 0) {
                break;
            }
            e = picoacme_step(&g_ctx, &w);
            if (e == PICOACME_OK) {
                uint32_t took = board_ms() - t_issue;
                const char *pem = NULL;
                size_t len = 0;
                fw_flash_cut_after(&flash, -1);
                if (picoacme_result(&g_ctx, &pem, &len) != PICOACME_OK) {
                    finish(EXIT_ISSUE);
                }
                print_chain("issued", chains++, pem, len);
                printf("ENROLLED in %lu ms (%lu requests, %lu connections, %u TLS handshakes, "
                       "%lu badNonce retries)%s\n",
                       (unsigned long)took, (unsigned long)picoacme_stats(&g_ctx)->requests,
                       (unsigned long)picoacme_stats(&g_ctx)->connections, tls_ctx.handshakes,
                       (unsigned long)picoacme_stats(&g_ctx)->bad_nonces,
                       renewing ? " (renewal)" : "");
                picoacme_abort(&g_ctx);
                if (renewing) {
                    renewals++;
                }
                if (read_store(&info) == 0) {
                    printf("fw: the issued certificate is not in the flash\n");
                    finish(EXIT_STORE);
                }
                renew_at = info.renew_at_s;
                printf("fw: stored in flash, valid %lu..%lu, renew at %lu (in %ld s)\n",
                       (unsigned long)info.not_before_s, (unsigned long)info.not_after_s,
                       (unsigned long)renew_at, (long)(renew_at - fw_time_now(NULL)));
                if (renewals >= opt_renewals) {
                    finish(EXIT_OK);
                }
                renewing = 1;
                mode = M_WAIT_RENEW;
            } else if (e == PICOACME_AGAIN || e == PICOACME_WANT_READ || e == PICOACME_WANT_WRITE) {
                uint32_t t = w.timeout_ms > 1000u ? 1000u : w.timeout_ms;
                wake_ms = board_ms() + t;
            } else {
                report_failure();
                finish(EXIT_ISSUE);
            }
            break;
        case M_WAIT_RENEW:
            if (fw_time_now(NULL) >= renew_at) {
                printf("fw: renewal due (renew at %lu): renewing\n", (unsigned long)renew_at);
                mode = M_START;
            }
            break;
        }
        if (mode != M_START) {
            board_idle(); /* until the next SysTick (1 ms) */
        }
    }
}
