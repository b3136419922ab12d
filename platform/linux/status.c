/*
 * status.c - `picoacme status`: what the state file holds.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "picoacme_posix.h"
#include "picoacme_wolfssl.h"

static void print_time(const char *label, int64_t t)
{
    char buf[64];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%-11s %s\n", label, buf);
}

int cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {{"state", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *state = NULL;
    int c;
    picoacme_transport_t tp;
    picoacme_clock_t clk;
    picoacme_posix_flash_t flash;
    picoacme_storage_t st;
    picoacme_wolfssl_crypto_t wc;
    picoacme_crypto_t crypto;
    picoacme_config_t cfg;
    picoacme_ports_t ports;
    picoacme_stored_info_t info;
    picoacme_err_t e;
    int rc = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': state = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (state == NULL) {
        fprintf(stderr, "picoacme: status needs --state FILE\n");
        return 2;
    }
    if (access(state, R_OK) != 0) {
        fprintf(stderr, "picoacme: no state file %s: nothing issued yet\n", state);
        return 1;
    }
    if (state_claim(state, false, false) != 0) {
        return 1; /* not a state file: refused, untouched */
    }
    picoacme_posix_transport(&tp);
    picoacme_posix_clock(&clk);
    if (picoacme_posix_flash_open(&flash, state, STATE_SIZE, STATE_ERASE, &st) != PICOACME_OK) {
        fprintf(stderr, "picoacme: cannot open --state %s\n", state);
        return 1;
    }
    if (picoacme_wolfssl_crypto_init(&wc, NULL, &crypto) != PICOACME_OK) {
        picoacme_posix_flash_close(&flash);
        return 1;
    }
    memset(&cfg, 0, sizeof cfg);
    memset(&ports, 0, sizeof ports);
    ports.transport = &tp;
    ports.crypto = &crypto;
    ports.storage = &st;
    ports.clock = &clk;
    e = picoacme_init(&g_ctx, &cfg, &ports);
    if (e == PICOACME_OK) {
        e = picoacme_stored(&g_ctx, &info);
    }
    if (e == PICOACME_ERR_NOT_FOUND) {
        printf("no certificate stored in %s\n", state);
    } else if (e != PICOACME_OK) {
        fprintf(stderr, "picoacme: cannot read %s: %s\n", state, picoacme_err_str(e));
    } else {
        static uint8_t der[4096];
        size_t pos = 0, der_len = 0, sp = 0, vl = 0;
        picoacme_x509_t x;
        picoacme_id_type_t t;
        const uint8_t *v;
        int64_t now = (int64_t)time(NULL);
        if (picoacme_pem_next(info.chain_pem, info.chain_len, &pos, der, sizeof der, &der_len) ==
                PICOACME_OK &&
            picoacme_x509_parse(der, der_len, &x) == PICOACME_OK) {
            printf("names      ");
            while (picoacme_x509_san_next(&x, &sp, &t, &v, &vl) == PICOACME_OK) {
                if (t == PICOACME_ID_DNS) {
                    printf(" %.*s", (int)vl, (const char *)v);
                } else {
                    char ip[64];
                    size_t k, o = 0;
                    if (vl == 4) {
                        snprintf(ip, sizeof ip, "%u.%u.%u.%u", v[0], v[1], v[2], v[3]);
                    } else {
                        for (k = 0; k < vl && o + 6 < sizeof ip; k += 2) {
                            o += (size_t)snprintf(ip + o, sizeof ip - o, "%s%x", k ? ":" : "",
                                                  (unsigned)(v[k] << 8 | v[k + 1]));
                        }
                    }
                    printf(" %s", ip);
                }
            }
            printf("\n");
        }
        print_time("notBefore", info.not_before_s);
        print_time("notAfter", info.not_after_s);
        print_time("renewAt", info.renew_at_s);
        printf("account     %s\n", info.has_account ? "stored" : "none");
        printf("state       %s\n", now >= info.not_after_s  ? "expired"
                                   : now >= info.renew_at_s ? "renewal due"
                                                            : "valid");
        rc = 0;
    }
    picoacme_wolfssl_crypto_free(&wc);
    picoacme_posix_flash_close(&flash);
    return rc;
}
