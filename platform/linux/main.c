/*
 * main.c - the `picoacme` command: obtains a certificate from an ACME CA
 * (issue) or shows what is stored (status). The engine is pumped from a
 * poll() loop; everything it needs comes from the POSIX and wolfSSL ports.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "picoacme.h"
#include "picoacme_b64.h"
#include "picoacme_posix.h"
#include "picoacme_wolfssl.h"

#include <wolfssl/wolfcrypt/asn_public.h>

/* The --state file is a 16 KiB flash region with 4 KiB erase blocks. */
#define STATE_SIZE (16U * 1024U)
#define STATE_ERASE 4096U

static picoacme_ctx_t g_ctx; /* large: keep it off the stack */
static int g_verbose;

static void usage(FILE *f)
{
    fputs("usage:\n"
          "  picoacme issue  --directory URL --ca-root PEMFILE --state FILE\n"
          "                  --domain NAME [--domain NAME ...] [--ip ADDR ...]\n"
          "                  --http01-port PORT --out DIR [--email ADDR] [-v]\n"
          "  picoacme status --state FILE\n"
          "\n"
          "issue    obtain a certificate from the ACME CA and write DIR/cert.pem\n"
          "         (leaf first, then the chain) and DIR/key.pem (P-256). The\n"
          "         account and certificate are kept in the state file; the\n"
          "         account is reused on the next issue (renewal), the\n"
          "         certificate key is always fresh.\n"
          "status   print the stored certificate's names, validity and renewal time.\n"
          "\n"
          "  --directory URL    ACME directory URL of the CA (https:// or http://)\n"
          "  --ca-root PEMFILE  trust anchors for the CA's TLS certificate; only these\n"
          "                     are trusted (the system store never is)\n"
          "  --state FILE       state file (emulated flash, created if missing)\n"
          "  --domain NAME      DNS identifier (repeatable)\n"
          "  --ip ADDR          IP address identifier, IPv4 or IPv6 (repeatable)\n"
          "  --http01-port PORT port the built-in http-01 responder listens on\n"
          "  --out DIR          directory for cert.pem and key.pem (written only on success)\n"
          "  --email ADDR       account contact (optional)\n"
          "  -v, --verbose      log every ACME request\n"
          "  -h, --help         this text\n",
          f);
}

static void log_hook(void *user, int level, const char *fmt, ...)
{
    va_list ap;
    (void)user;
    if (level > (g_verbose ? PICOACME_LOG_LVL_INF : PICOACME_LOG_LVL_WRN)) {
        return;
    }
    if (level == PICOACME_LOG_LVL_WRN && !g_verbose) {
        return;
    }
    if (g_verbose) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        fprintf(stderr, "picoacme: [%ld.%03ld] ", (long)ts.tv_sec % 1000L, ts.tv_nsec / 1000000L);
    } else {
        fputs("picoacme: ", stderr);
    }
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    long n;
    if (f == NULL) {
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    *buf = malloc((size_t)n + 1U);
    if (*buf == NULL || fread(*buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(*buf);
        return -1;
    }
    fclose(f);
    *len = (size_t)n;
    return 0;
}

/* Write data to dir/name atomically: temp file, fsync, rename. */
static int write_atomic(const char *dir, const char *name, const void *data, size_t len,
                        mode_t mode, char *tmp_out, size_t tmp_cap)
{
    char tmp[4096];
    int fd;
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        return -1;
    }
    if (write(fd, data, len) != (ssize_t)len || fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    snprintf(tmp_out, tmp_cap, "%s", tmp);
    return 0;
}

/* PEM of the P-256 key in slot (RFC 5915 ECPrivateKey, "EC PRIVATE KEY"). */
static int key_pem(picoacme_wolfssl_crypto_t *wc, char *out, size_t cap, size_t *out_len)
{
    uint8_t der[256];
    char b64[512];
    size_t b64_len = 0;
    size_t pos = 0;
    size_t i;
    int n = wc_EccKeyToDer(&wc->key[PICOACME_KEY_CERT], der, sizeof der);
    if (n <= 0 || picoacme_b64_encode(der, (size_t)n, b64, sizeof b64, &b64_len) != PICOACME_OK) {
        return -1;
    }
    pos += (size_t)snprintf(out + pos, cap - pos, "-----BEGIN EC PRIVATE KEY-----\n");
    for (i = 0; i < b64_len; i += 64U) {
        size_t l = b64_len - i < 64U ? b64_len - i : 64U;
        if (pos + l + 1U >= cap) {
            return -1;
        }
        memcpy(out + pos, b64 + i, l);
        pos += l;
        out[pos++] = '\n';
    }
    pos += (size_t)snprintf(out + pos, cap - pos, "-----END EC PRIVATE KEY-----\n");
    memset(der, 0, sizeof der);
    memset(b64, 0, sizeof b64);
    *out_len = pos;
    return 0;
}

static void print_time(const char *label, int64_t t)
{
    char buf[64];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%-11s %s\n", label, buf);
}

/* The failure line: what broke, and what to change. */
static void report_failure(const picoacme_wolfssl_tls_t *tls)
{
    const picoacme_problem_t *p = picoacme_last_problem(&g_ctx);
    fprintf(stderr, "picoacme: issue failed at step '%s': %s", picoacme_state_str(p->state),
            picoacme_err_str(p->err));
    if (p->type[0] != '\0') {
        fprintf(stderr, ", ACME problem urn:ietf:params:acme:error:%s", p->type);
    }
    if (p->http_status != 0U) {
        fprintf(stderr, " (HTTP %u)", (unsigned)p->http_status);
    }
    if (p->detail[0] != '\0') {
        fprintf(stderr, ": %s", p->detail);
    }
    if ((p->err == PICOACME_ERR_TLS || p->err == PICOACME_ERR_TLS_VERIFY) && tls != NULL) {
        fprintf(stderr, "; TLS: %s", picoacme_wolfssl_tls_reason(tls));
    }
    fputc('\n', stderr);
}

static int pump(void)
{
    for (;;) {
        picoacme_wait_t w;
        struct pollfd pfd[PICOACME_WAIT_SOCKS];
        int timeout;
        unsigned i;
        picoacme_err_t e = picoacme_step(&g_ctx, &w);
        if (e == PICOACME_OK) {
            return 0;
        }
        if (e != PICOACME_AGAIN && e != PICOACME_WANT_READ && e != PICOACME_WANT_WRITE) {
            return -1;
        }
        for (i = 0; i < w.count; i++) {
            pfd[i].fd = (int)w.sock[i];
            pfd[i].events = (short)(((w.events[i] & PICOACME_EV_READ) ? POLLIN : 0) |
                                    ((w.events[i] & PICOACME_EV_WRITE) ? POLLOUT : 0));
            pfd[i].revents = 0;
        }
        timeout = w.timeout_ms == UINT32_MAX ? 1000
                  : w.timeout_ms > 60000U   ? 60000
                                            : (int)w.timeout_ms;
        if (poll(pfd, w.count, timeout) < 0 && errno != EINTR) {
            return -1;
        }
    }
}

static int cmd_issue(int argc, char **argv)
{
    static const struct option opts[] = {
        {"directory", required_argument, NULL, 'd'}, {"ca-root", required_argument, NULL, 'r'},
        {"state", required_argument, NULL, 's'},     {"domain", required_argument, NULL, 'n'},
        {"ip", required_argument, NULL, 'i'},        {"http01-port", required_argument, NULL, 'p'},
        {"out", required_argument, NULL, 'o'},       {"email", required_argument, NULL, 'e'},
        {"verbose", no_argument, NULL, 'v'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    picoacme_ident_t ids[PICOACME_MAX_IDENTIFIERS];
    size_t n_ids = 0;
    const char *dir_url = NULL, *root_path = NULL, *state = NULL, *out = NULL, *email = NULL;
    long port = 0;
    int c;
    uint8_t *roots = NULL;
    size_t roots_len = 0;
    picoacme_transport_t tp;
    picoacme_clock_t clk;
    picoacme_posix_flash_t flash;
    picoacme_storage_t st;
    picoacme_wolfssl_crypto_t wc;
    picoacme_crypto_t crypto;
    picoacme_wolfssl_tls_t wt;
    picoacme_tls_t tls;
    picoacme_config_t cfg;
    picoacme_ports_t ports;
    picoacme_err_t e;
    int rc = 1;
    struct stat sb;

    while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir_url = optarg; break;
        case 'r': root_path = optarg; break;
        case 's': state = optarg; break;
        case 'o': out = optarg; break;
        case 'e': email = optarg; break;
        case 'v': g_verbose = 1; break;
        case 'p': {
            char *end = NULL;
            port = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || port < 1 || port > 65535) {
                fprintf(stderr, "picoacme: --http01-port must be 1..65535\n");
                return 2;
            }
            break;
        }
        case 'n':
        case 'i':
            if (n_ids == PICOACME_MAX_IDENTIFIERS) {
                fprintf(stderr, "picoacme: at most %u identifiers (PICOACME_MAX_IDENTIFIERS)\n",
                        (unsigned)PICOACME_MAX_IDENTIFIERS);
                return 2;
            }
            ids[n_ids].type = c == 'n' ? PICOACME_ID_DNS : PICOACME_ID_IP;
            ids[n_ids].value = optarg;
            n_ids++;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (dir_url == NULL || state == NULL || out == NULL || n_ids == 0 || port == 0 ||
        (strncmp(dir_url, "https://", 8) == 0 && root_path == NULL)) {
        fprintf(stderr, "picoacme: issue needs --directory, --ca-root, --state, --out, "
                        "--http01-port and at least one --domain or --ip\n");
        usage(stderr);
        return 2;
    }
    if (stat(out, &sb) == 0 ? !S_ISDIR(sb.st_mode) : errno != ENOENT) {
        fprintf(stderr, "picoacme: --out %s is not a usable directory\n", out);
        return 2;
    }
    if (root_path != NULL && read_file(root_path, &roots, &roots_len) != 0) {
        fprintf(stderr, "picoacme: cannot read --ca-root %s: %s\n", root_path, strerror(errno));
        return 2;
    }

    picoacme_posix_transport(&tp);
    picoacme_posix_clock(&clk);
    if (picoacme_posix_flash_open(&flash, state, STATE_SIZE, STATE_ERASE, &st) != PICOACME_OK) {
        fprintf(stderr, "picoacme: cannot open --state %s\n", state);
        free(roots);
        return 1;
    }
    if (picoacme_wolfssl_crypto_init(&wc, NULL, &crypto) != PICOACME_OK) {
        fprintf(stderr, "picoacme: crypto initialisation failed\n");
        picoacme_posix_flash_close(&flash);
        free(roots);
        return 1;
    }
    memset(&wt, 0, sizeof wt);
    if (roots != NULL) {
        e = picoacme_wolfssl_tls_init(&wt, &tp, NULL, roots, roots_len, PICOACME_WOLFSSL_PEM,
                                      &tls);
        if (e != PICOACME_OK) {
            fprintf(stderr, "picoacme: --ca-root %s holds no usable certificate\n", root_path);
            goto done;
        }
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.directory_url = dir_url;
    cfg.email = email;
    cfg.ids = ids;
    cfg.n_ids = n_ids;
    cfg.http01_port = (uint16_t)port;
    memset(&ports, 0, sizeof ports);
    ports.transport = &tp;
    ports.tls = roots != NULL ? &tls : NULL;
    ports.crypto = &crypto;
    ports.storage = &st;
    ports.clock = &clk;
    ports.log = log_hook;

    e = picoacme_init(&g_ctx, &cfg, &ports);
    if (e != PICOACME_OK) {
        fprintf(stderr, "picoacme: invalid configuration (%s): check --directory and the "
                        "identifiers\n", picoacme_err_str(e));
        goto done;
    }
    e = picoacme_issue_start(&g_ctx);
    if (e != PICOACME_OK || pump() != 0) {
        report_failure(roots != NULL ? &wt : NULL);
        goto done;
    }
    {
        const char *pem = NULL;
        size_t pem_len = 0;
        static char key[1024];
        size_t key_len = 0;
        char tmp_cert[4200], tmp_key[4200];
        char final[4200];
        if (picoacme_result(&g_ctx, &pem, &pem_len) != PICOACME_OK ||
            key_pem(&wc, key, sizeof key, &key_len) != 0) {
            fprintf(stderr, "picoacme: issue failed: cannot export the certificate key\n");
            goto done;
        }
        /* --out is created on success only: a failure leaves nothing */
        if (mkdir(out, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "picoacme: issue failed: cannot create %s: %s\n", out,
                    strerror(errno));
            goto done;
        }
        if (write_atomic(out, "key.pem", key, key_len, 0600, tmp_key, sizeof tmp_key) != 0 ||
            write_atomic(out, "cert.pem", pem, pem_len, 0644, tmp_cert, sizeof tmp_cert) != 0) {
            fprintf(stderr, "picoacme: issue failed: cannot write to %s: %s\n", out,
                    strerror(errno));
            unlink(tmp_key);
            goto done;
        }
        memset(key, 0, sizeof key);
        snprintf(final, sizeof final, "%s/key.pem", out);
        if (rename(tmp_key, final) != 0) {
            unlink(tmp_key);
            unlink(tmp_cert);
            goto done;
        }
        snprintf(final, sizeof final, "%s/cert.pem", out);
        if (rename(tmp_cert, final) != 0) {
            unlink(tmp_cert);
            goto done;
        }
        {
            int dfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                (void)fsync(dfd);
                close(dfd);
            }
        }
        fprintf(stderr,
                "picoacme: issued %s and %s/key.pem (%u requests, %u connections, %u TLS "
                "handshakes, %u badNonce retries)\n",
                final, out, (unsigned)g_ctx.stats.requests, (unsigned)g_ctx.stats.connections,
                roots != NULL ? wt.handshakes : 0U, (unsigned)g_ctx.stats.bad_nonces);
        rc = 0;
    }
done:
    picoacme_abort(&g_ctx);
    if (roots != NULL) {
        picoacme_wolfssl_tls_free(&wt);
    }
    picoacme_wolfssl_crypto_free(&wc);
    picoacme_posix_flash_close(&flash);
    free(roots);
    return rc;
}

static int cmd_status(int argc, char **argv)
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
        printf("state       %s\n", now >= info.not_after_s ? "expired"
                                   : now >= info.renew_at_s ? "renewal due"
                                                            : "valid");
        rc = 0;
    }
    picoacme_wolfssl_crypto_free(&wc);
    picoacme_posix_flash_close(&flash);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "issue") == 0) {
        return cmd_issue(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "status") == 0) {
        return cmd_status(argc - 1, argv + 1);
    }
    fprintf(stderr, "picoacme: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
