/*
 * main.c - the qemu-mps2 ACME firmware: a bare-metal superloop with no
 * heap that enrols the device with an internal ACME CA (RFC 8555, http-01)
 * and keeps its certificate renewed. The challenge is chosen at build time
 * (FW_CHALLENGE: http-01 on :80, tls-alpn-01 on :443, or dns-01 by RFC 2136
 * UPDATE with TSIG over TCP to FW_DNS_SERVER).
 *
 * boot -> lwIP up on the LAN9118 (DHCP) -> the certificate keeper
 * (picoacme_keeper.h) pumped from the loop that also polls the driver and
 * runs lwIP's timers: it reads the store, learns the time from the CA's
 * Date header (no RTC), enrols when nothing is stored, renews at its
 * renewal point (the lifetime fraction with the device's phase), backs off
 * after failures with jitter, and keeps its own state (plan, backoff, rate
 * limit) in a second flash region, FW_KEEPER_FLASH_FILE. The firmware only
 * reports: "stored certificate found", the chains, "ENROLLED" -> after
 * FW_RENEWALS renewals it exits through semihosting.
 *
 * No RTC: the clock port says "unknown", the keeper learns the time from
 * the CA's Date header before deciding, and wolfSSL uses a lower bound
 * until then (fw_time.c).
 *
 * Test knobs, semihosting arguments (-semihosting-config arg=...):
 *   renewals=N    renewals before exiting (default FW_RENEWALS)
 *   renew-now     a stored certificate is renewed at once, due or not
 *   failures=N    exit 23 after N failed attempts in a row (default 1;
 *                 0: never, the keeper backs off and tries again)
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
#include "picoacme_keeper.h"
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

enum mode { M_ADDR, M_RUN };

/* The keeper's own state: a second flash region (host file). */
#ifndef FW_KEEPER_FLASH_FILE
#define FW_KEEPER_FLASH_FILE "picoacme-keeper.bin"
#endif

static struct netif netif;
static picoacme_lwip_t lwip_tp;
static picoacme_wolfssl_tls_t tls_ctx;
static picoacme_wolfssl_crypto_t crypto_ctx;
static fw_flash_t flash;
static fw_flash_t kflash;
static picoacme_keeper_t g_keeper;
#define g_ctx (g_keeper.ctx) /* the engine context the keeper drives */
static uint8_t wolf_pool[FW_WOLF_POOL_SIZE] __attribute__((aligned(16)));

/* test knobs from the semihosting command line */
static unsigned opt_renewals = FW_RENEWALS;
static long opt_cut = -1;
static int opt_renew_now;
static unsigned opt_failures = 1;

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
        } else if (strncmp(tok, "failures=", 9) == 0) {
            opt_failures = (unsigned)strtoul(tok + 9, NULL, 10);
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
    picoacme_keeper_stop(&g_keeper);
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

/* The stored chain; pem NULL when the record is longer than rx: then it is
 * read from the flash in pieces. */
static void print_chain(const char *what, unsigned idx, const char *pem, size_t len)
{
    char piece[256];
    size_t off = 0;
    size_t n = 0;
    size_t total = 0;
    char last = '\n';
    printf("fw: %s chain %u begin\n", what, idx);
    while (pem == NULL && off < len &&
           picoacme_stored_chain_read(&g_ctx, off, (uint8_t *)piece, sizeof piece, &n, &total) ==
               PICOACME_OK &&
           n > 0U) {
        fwrite(piece, 1, n, stdout);
        off += n;
        last = piece[n - 1U];
    }
    if (pem != NULL) {
        fwrite(pem, 1, len, stdout);
        last = len > 0U ? pem[len - 1U] : '\0';
    }
    if (len == 0 || last != '\n') {
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
    const picoacme_problem_t *p = picoacme_keeper_problem(&g_keeper);
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

/* The keeper's report after a step: what the firmware prints and when it
 * stops. */
typedef struct fw_run {
    int announced; /* the boot's "stored certificate"/"enrolling" line is out */
    int renewing;  /* the next issuance replaces a certificate */
    unsigned renewals;
    unsigned chains;
    unsigned failures;
    uint8_t phase; /* the keeper's phase after the last step */
    uint32_t t_issue;
} fw_run_t;

/* The first decision of this boot: the stored certificate (once the time
 * is known) or the enrolment. */
static void announce(fw_run_t *r, const picoacme_keeper_status_t *ks)
{
    picoacme_stored_info_t info;
    if (ks->not_after_s == 0) {
        if (ks->phase == PICOACME_KEEPER_PH_ISSUE) {
            printf("fw: no certificate stored: enrolling\n");
            r->announced = 1;
        }
        return;
    }
    /* the store is read between runs only, once the time is known */
    if (ks->now_s == PICOACME_TIME_UNKNOWN || ks->phase != PICOACME_KEEPER_PH_WAIT ||
        read_store(&info) == 0) {
        return;
    }
    r->announced = 1;
    r->renewing = 1;
    print_chain("stored", r->chains++, info.chain_pem, info.chain_len);
    if (ks->next_at_s > ks->now_s && !opt_renew_now) {
        printf("stored certificate found, renew at %lu (in %ld s by the CA's clock, %s)\n",
               (unsigned long)ks->renew_at_s, (long)(ks->renew_at_s - ks->now_s),
               picoacme_keeper_why_str(ks->why));
        if (opt_renewals == 0) {
            finish(EXIT_OK);
        }
    } else {
        printf("stored certificate found, renewal due (renew at %lu)\n",
               (unsigned long)ks->renew_at_s);
    }
}

static void on_issued(fw_run_t *r)
{
    picoacme_stored_info_t info;
    picoacme_keeper_status_t ks;
    uint32_t took = board_ms() - r->t_issue;
    fw_flash_cut_after(&flash, -1);
    if (read_store(&info) == 0) {
        printf("fw: the issued certificate is not in the flash\n");
        finish(EXIT_STORE);
    }
    print_chain("issued", r->chains++, info.chain_pem, info.chain_len);
    printf("ENROLLED in %lu ms (%lu requests, %lu connections, %u TLS handshakes, "
           "%lu badNonce retries)%s\n",
           (unsigned long)took, (unsigned long)picoacme_stats(&g_ctx)->requests,
           (unsigned long)picoacme_stats(&g_ctx)->connections, tls_ctx.handshakes,
           (unsigned long)picoacme_stats(&g_ctx)->bad_nonces, r->renewing ? " (renewal)" : "");
    if (r->renewing) {
        r->renewals++;
    }
    r->failures = 0;
    picoacme_keeper_status(&g_keeper, &ks);
    printf("fw: stored in flash, valid %lu..%lu, renew at %lu (in %ld s)\n",
           (unsigned long)info.not_before_s, (unsigned long)info.not_after_s,
           (unsigned long)ks.renew_at_s, (long)(ks.renew_at_s - fw_time_now(NULL)));
    if (r->renewals >= opt_renewals) {
        finish(EXIT_OK);
    }
    r->renewing = 1;
}

/* A keeper event and the phase it moved to. */
static void after_step(fw_run_t *r, picoacme_keeper_event_t ev)
{
    picoacme_keeper_status_t ks;
    picoacme_keeper_status(&g_keeper, &ks);
    if (ks.now_s != PICOACME_TIME_UNKNOWN) {
        fw_time_learn(ks.now_s); /* the CA's authenticated Date */
    }
    if (!r->announced) {
        announce(r, &ks);
    }
    if (ks.phase == PICOACME_KEEPER_PH_ISSUE && r->phase != PICOACME_KEEPER_PH_ISSUE) {
        r->t_issue = board_ms();
        if (r->renewing) {
            printf("fw: renewal due (renew at %lu, %s): renewing\n", (unsigned long)ks.renew_at_s,
                   picoacme_keeper_why_str(ks.why));
            if (opt_cut >= 0) {
                printf("fw: fault injection: power cut after %ld bytes of this save\n", opt_cut);
                fw_flash_cut_after(&flash, opt_cut);
            }
        }
    }
    r->phase = (uint8_t)ks.phase;
    if (ev == PICOACME_KEEPER_EV_ISSUED) {
        on_issued(r);
    } else if (ev == PICOACME_KEEPER_EV_RENEWAL_FAILING) {
        report_failure();
        r->failures++;
        printf("fw: %u failed attempt(s), next at %lu (%s)\n", ks.failures,
               (unsigned long)ks.next_at_s, picoacme_keeper_why_str(ks.why));
        if (opt_failures != 0 && r->failures >= opt_failures) {
            finish(EXIT_ISSUE);
        }
    } else if (ev == PICOACME_KEEPER_EV_EXPIRED) {
        printf("fw: the stored certificate expired at %lu\n", (unsigned long)ks.not_after_s);
    }
}

static void superloop(void)
{
    enum mode mode = M_ADDR;
    picoacme_wait_t w = {0};
    fw_run_t r;
    uint32_t t_boot = board_ms();
    uint32_t wake_ms = 0;
    memset(&r, 0, sizeof r);
    for (;;) {
        net_pump();
        if (mode == M_ADDR) {
            if (!ip4_addr_isany_val(*netif_ip4_addr(&netif))) {
                printf("fw: address %s after %lu ms\n", ip4addr_ntoa(netif_ip4_addr(&netif)),
                       (unsigned long)(board_ms() - t_boot));
                mode = M_RUN;
                wake_ms = board_ms();
            } else if (board_ms() - t_boot > FW_DHCP_TIMEOUT_MS) {
                printf("fw: no address from DHCP\n");
                finish(EXIT_DHCP);
            }
        } else if (w.count != 0 || (int32_t)(board_ms() - wake_ms) >= 0) {
            /* with sockets to watch, try every pass (the lwIP port answers
             * "would block" at once); otherwise wait for the timer */
            picoacme_keeper_event_t ev = picoacme_keeper_step(&g_keeper, &w);
            wake_ms = board_ms() + (w.timeout_ms > 1000u ? 1000u : w.timeout_ms);
            after_step(&r, ev);
        }
        board_idle(); /* until the next SysTick (1 ms) */
    }
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
    static picoacme_storage_t kst;
    static picoacme_keeper_ca_t kca;
    static picoacme_keeper_config_t kcfg;
    if (fw_flash_open(&kflash, FW_KEEPER_FLASH_FILE, 2u * FW_FLASH_ERASE, FW_FLASH_ERASE, &kst) !=
        0) {
        printf("fw: cannot open the keeper flash file %s\n", FW_KEEPER_FLASH_FILE);
        finish(EXIT_FLASH);
    }
    kca.cfg = cfg;
    kcfg.cas = &kca;
    kcfg.n_cas = 1;
    kcfg.state_store = &kst;
    e = picoacme_keeper_init(&g_keeper, &kcfg, &ports);
    if (e != PICOACME_OK) {
        printf("fw: invalid configuration: %s\n", picoacme_err_str(e));
        finish(EXIT_CONFIG);
    }
    if (opt_renew_now) {
        (void)picoacme_keeper_renew_now(&g_keeper);
    }
    superloop();
}
