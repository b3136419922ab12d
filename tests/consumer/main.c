/*
 * main.c - a program outside the picoacme tree built against an installed
 * picoacme (find_package or pkg-config): sets up an engine context with
 * the POSIX and wolfSSL ports and checks two pure functions. Does no
 * network I/O. Usage: consumer STATE_FILE; exits 0 when everything held.
 */
#include <stdio.h>
#include <string.h>

#include "picoacme.h"
#include "picoacme_b64.h"
#include "picoacme_err.h"
#include "picoacme_posix.h"
#include "picoacme_time.h"
#include "picoacme_wolfssl.h"

static picoacme_ctx_t g_ctx; /* the engine context is a complete struct */

static int check(int ok, const char *what)
{
    printf("%s: %s\n", ok ? "ok" : "FAILED", what);
    return ok ? 0 : 1;
}

static int pure_functions(void)
{
    int64_t t = 0;
    char enc[8];
    size_t enc_len = 0;
    int bad = 0;
    bad += check(picoacme_rfc3339("2024-02-29T12:34:56Z", 20, &t) == PICOACME_OK && t == 1709210096,
                 "picoacme_rfc3339(2024-02-29T12:34:56Z) == 1709210096");
    bad += check(picoacme_rfc3339("2023-02-29T00:00:00Z", 20, &t) != PICOACME_OK,
                 "picoacme_rfc3339 rejects 2023-02-29");
    bad += check(picoacme_b64url_encode((const uint8_t *)"\xfb\xff", 2, enc, sizeof enc,
                                        &enc_len) == PICOACME_OK &&
                     enc_len == 3 && memcmp(enc, "-_8", 3) == 0,
                 "picoacme_b64url_encode(fb ff) == \"-_8\"");
    return bad;
}

int main(int argc, char **argv)
{
    static picoacme_posix_flash_t flash;
    static picoacme_wolfssl_crypto_t wc;
    picoacme_transport_t tp;
    picoacme_clock_t clk;
    picoacme_storage_t st;
    picoacme_crypto_t crypto;
    picoacme_ports_t ports;
    picoacme_config_t cfg;
    const picoacme_ident_t id = {PICOACME_ID_DNS, "device.example"};
    int bad = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: consumer STATE_FILE\n");
        return 2;
    }
    bad += pure_functions();

    picoacme_posix_transport(&tp);
    picoacme_posix_clock(&clk);
    if (check(picoacme_posix_flash_open(&flash, argv[1], 16384U, 4096U, &st) == PICOACME_OK,
              "picoacme_posix_flash_open") != 0) {
        return 1;
    }
    if (check(picoacme_wolfssl_crypto_init(&wc, NULL, &crypto) == PICOACME_OK,
              "picoacme_wolfssl_crypto_init") != 0) {
        picoacme_posix_flash_close(&flash);
        return 1;
    }
    memset(&ports, 0, sizeof ports);
    ports.transport = &tp;
    ports.crypto = &crypto;
    ports.storage = &st;
    ports.clock = &clk;
    memset(&cfg, 0, sizeof cfg);
    cfg.directory_url = "http://127.0.0.1:14000/dir";
    cfg.ids = &id;
    cfg.n_ids = 1;
    bad += check(picoacme_init(&g_ctx, &cfg, &ports) == PICOACME_OK, "picoacme_init");
    bad += check(picoacme_now(&g_ctx) > 1700000000, "picoacme_now from the POSIX clock");
    bad += check(strcmp(picoacme_err_str(PICOACME_OK), "") != 0, "picoacme_err_str");
    picoacme_abort(&g_ctx);
    picoacme_wolfssl_crypto_free(&wc);
    picoacme_posix_flash_close(&flash);
    printf("%s\n", bad == 0 ? "PASS" : "FAIL");
    return bad == 0 ? 0 : 1;
}
