/*
 * main.c - the `picoacme` command: obtains a certificate from an ACME CA
 * (issue) or shows what is stored (status). The engine is pumped from a
 * poll() loop; everything it needs comes from the POSIX and wolfSSL ports.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "picoacme.h"
#include "picoacme_b64.h"
#include "picoacme_failover.h"
#include "picoacme_jws.h"
#include "picoacme_posix.h"
#include "picoacme_wolfssl.h"

#include <wolfssl/wolfcrypt/asn_public.h>

picoacme_ctx_t g_ctx; /* large: keep it off the stack */
static int g_verbose;

void usage(FILE *f)
{
    fputs("usage:\n"
          "  picoacme issue  --directory URL --ca-root PEMFILE --state FILE\n"
          "                  --domain NAME [--domain NAME ...] [--ip ADDR ...]\n"
          "                  --http01-port PORT --out DIR [--email ADDR] [-v]\n"
          "                  [--challenge http-01,tls-alpn-01,dns-01] [--tls-alpn01-port PORT]\n"
          "                  [--dns01-server HOST:PORT --tsig-key NAME:hmac-sha256:BASE64SECRET\n"
          "                   --dns01-resolver HOST:PORT --dns01-timeout SECONDS [--dns01-zone "
          "ZONE]]\n"
          "                  [--eab-kid KID --eab-hmac-key B64URL | --eab-hmac-key-file FILE]\n"
          "  picoacme run    (the issue options) [--renew-hook CMD] [--max-renewals N]\n"
          "                  [--fallback-directory URL --fallback-ca-root PEM\n"
          "                   --failover-after N --failback-s S] [--retry-s S]\n"
          "  picoacme status --state FILE [--json]\n"
          "  picoacme revoke     --directory URL --ca-root PEMFILE --state FILE [--reason N]\n"
          "  picoacme rollover   --directory URL --ca-root PEMFILE --state FILE\n"
          "  picoacme deactivate --directory URL --ca-root PEMFILE --state FILE\n"
          "  picoacme --version\n"
          "\n"
          "issue    obtain a certificate from the ACME CA and write DIR/cert.pem\n"
          "         (leaf first, then the chain) and DIR/key.pem (P-256). The\n"
          "         account and certificate are kept in the state file; the\n"
          "         account is reused on the next issue (renewal), the\n"
          "         certificate key is always fresh.\n"
          "run      stay running and keep a valid certificate: issue when none is\n"
          "         stored, renew at 2/3 of its lifetime (plus up to 1% or 60 s of\n"
          "         random delay), back off after failures; --renew-hook CMD runs\n"
          "         after each issuance (PICOACME_CERT names the --out directory);\n"
          "         --max-renewals N stops after N issuances (0: never). SIGTERM ends it.\n"
          "         --fallback-directory/--fallback-ca-root name a second CA, used after\n"
          "         --failover-after N failures in a row (default 3) with the first, for\n"
          "         --failback-s S (default 86400) before the first is tried again;\n"
          "         --retry-s S is the first back-off after a failure (default 60).\n"
          "status   print the stored certificate's names, serial, validity, renewal time,\n"
          "         CA and account (--json: one JSON object). Exit status: 0 valid,\n"
          "         1 renewal due, 2 expired, revoked or nothing stored, 3 unreadable.\n"
          "revoke   revoke the stored certificate (RFC 8555 7.6), signed with the stored\n"
          "         account's key; --reason N is an RFC 5280 CRLReason code (0..10,\n"
          "         not 7; default none). The state file keeps the certificate.\n"
          "rollover replace the stored account's key with a fresh one (RFC 8555 7.3.5);\n"
          "         the account URL stays, the state file gets the new key.\n"
          "deactivate  deactivate the stored account (RFC 8555 7.3.6): the CA refuses\n"
          "         it from then on, and an issue with this state file fails.\n"
          "         All three use the account the state file holds for --directory.\n"
          "\n"
          "  --directory URL    ACME directory URL of the CA (https:// or http://)\n"
          "  --ca-root PEMFILE  trust anchors for the CA's TLS certificate; only these\n"
          "                     are trusted (the system store never is)\n"
          "  --state FILE       state file (emulated flash, created if missing or empty;\n"
          "                     any other file is refused; locked while in use)\n"
          "  --domain NAME      DNS identifier (repeatable)\n"
          "  --ip ADDR          IP address identifier, IPv4 or IPv6 (repeatable)\n"
          "  --http01-port PORT port the built-in http-01 responder listens on\n"
          "                     (needed when http-01 is allowed)\n"
          "  --challenge LIST   allowed challenge types in order of preference, comma\n"
          "                     separated (default http-01); for each authorization the\n"
          "                     first one the CA offers is used, the next when it fails\n"
          "  --tls-alpn01-port PORT  port of the built-in tls-alpn-01 responder (RFC 8737)\n"
          "  --dns01-server HOST:PORT  DNS server taking RFC 2136 updates for the zone\n"
          "  --tsig-key NAME:hmac-sha256:BASE64SECRET  TSIG key allowed to update it\n"
          "  --tsig-key-file FILE  the same from a file (kept out of the process list)\n"
          "  --dns01-resolver HOST:PORT  resolver asked until the TXT record is visible\n"
          "  --dns01-timeout SECONDS     propagation timeout (default 60)\n"
          "  --dns01-zone ZONE  zone to update (default: found with an SOA query)\n"
          "  --dns01-tcp        talk to the DNS server and resolver over TCP (RFC 7766)\n"
          "  --eab-kid KID --eab-hmac-key B64URL  External Account Binding for CAs\n"
          "                     that require it (the key id and MAC key they issued)\n"
          "  --eab-hmac-key-file FILE  the MAC key from a file (kept out of the process list)\n"
          "  --out DIR          directory for cert.pem and key.pem (written only on success;\n"
          "                     both switch at once through DIR/live; run restores them\n"
          "                     from the state at every start)\n"
          "  --email ADDR       account contact (optional)\n" HWKEYS_USAGE
          "  -v, --verbose      log every ACME request\n"
          "  -h, --help         this text\n"
          "  --version          print the version\n",
          f);
}

static void log_hook(void *user, int level, const char *fmt, ...)
{
    va_list ap;
    (void)user;
    /* without -v only the command's own last line reports a failure */
    if (!g_verbose || level > PICOACME_LOG_LVL_INF) {
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

/* The failure line: what broke, and what to change. */
static void report_failure(const char *what, const picoacme_wolfssl_tls_t *tls)
{
    const picoacme_problem_t *p = picoacme_last_problem(&g_ctx);
    fprintf(stderr, "picoacme: %s failed at step '%s': %s", what, picoacme_state_str(p->state),
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
        if (!picoacme_err_is_pending(e)) {
            return -1;
        }
        for (i = 0; i < w.count; i++) {
            pfd[i].fd = (int)w.sock[i];
            pfd[i].events = (short)(((w.events[i] & PICOACME_EV_READ) ? POLLIN : 0) |
                                    ((w.events[i] & PICOACME_EV_WRITE) ? POLLOUT : 0));
            pfd[i].revents = 0;
        }
        timeout = w.timeout_ms == UINT32_MAX ? 1000
                  : w.timeout_ms > 60000U    ? 60000
                                             : (int)w.timeout_ms;
        if (poll(pfd, w.count, timeout) < 0 && errno != EINTR) {
            return -1;
        }
    }
}

static int parse_port(const char *s, uint16_t *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < 1 || v > 65535) {
        return -1;
    }
    *out = (uint16_t)v;
    return 0;
}

/* "host:port", "[v6]:port"; host is copied into buf. */
static int parse_hostport(const char *s, char *buf, size_t cap, uint16_t *port)
{
    const char *colon;
    size_t n;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':') {
            return -1;
        }
        n = (size_t)(close - s - 1);
        if (n == 0 || n >= cap) {
            return -1;
        }
        memcpy(buf, s + 1, n);
        buf[n] = '\0';
        return parse_port(close + 2, port);
    }
    colon = strrchr(s, ':');
    if (colon == NULL || colon == s || strchr(s, ':') != colon) {
        return -1;
    }
    n = (size_t)(colon - s);
    if (n >= cap) {
        return -1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return parse_port(colon + 1, port);
}

/* Why read_secret_file() failed. */
static const char *secret_file_error(void)
{
    return errno == EINVAL ? "it must hold the secret on one line" : strerror(errno);
}

/* "http-01,tls-alpn-01,dns-01" */
static int parse_challenges(const char *s, picoacme_config_t *cfg)
{
    char buf[64];
    char *save = NULL;
    char *tok;
    if (strlen(s) >= sizeof buf) {
        return -1;
    }
    strcpy(buf, s);
    cfg->n_challenges = 0;
    for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        picoacme_chall_type_t t;
        size_t i;
        if (strcmp(tok, "http-01") == 0) {
            t = PICOACME_CHALL_HTTP01;
        } else if (strcmp(tok, "tls-alpn-01") == 0) {
            t = PICOACME_CHALL_TLSALPN01;
        } else if (strcmp(tok, "dns-01") == 0) {
            t = PICOACME_CHALL_DNS01;
        } else {
            return -1;
        }
        for (i = 0; i < cfg->n_challenges; i++) {
            if (cfg->challenges[i] == t) {
                return -1;
            }
        }
        cfg->challenges[cfg->n_challenges++] = t;
    }
    return cfg->n_challenges > 0 ? 0 : -1;
}

/* "NAME:hmac-sha256:BASE64SECRET" */
static int parse_tsig(const char *s, char *name, size_t name_cap, uint8_t *secret,
                      size_t secret_cap, size_t *secret_len)
{
    const char *c1 = strchr(s, ':');
    const char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
    size_t n;
    if (c1 == NULL || c2 == NULL || c1 == s) {
        return -1;
    }
    if ((size_t)(c2 - c1 - 1) != strlen("hmac-sha256") ||
        strncasecmp(c1 + 1, "hmac-sha256", (size_t)(c2 - c1 - 1)) != 0) {
        return -1;
    }
    n = (size_t)(c1 - s);
    if (n >= name_cap) {
        return -1;
    }
    memcpy(name, s, n);
    name[n] = '\0';
    return picoacme_b64_decode(c2 + 1, strlen(c2 + 1), secret, secret_cap, secret_len) ==
                       PICOACME_OK &&
                   *secret_len > 0
               ? 0
               : -1;
}

/* Open what every command that talks to a CA needs: the transport, the
 * clock, the state file as a flash region, the crypto and, for https, the
 * TLS client trusting only root_path. Returns 0, or the exit status after
 * saying why (everything opened so far is released again). */
static int open_ports(const char *state, const char *root_path, picoacme_transport_t *tp,
                      picoacme_clock_t *clk, picoacme_posix_flash_t *flash, picoacme_storage_t *st,
                      picoacme_wolfssl_crypto_t *wc, picoacme_crypto_t *crypto,
                      picoacme_wolfssl_tls_t *wt, picoacme_tls_t *tls, uint8_t **roots,
                      size_t *roots_len)
{
    int rc = state_claim(state, true, true);
    *roots = NULL;
    *roots_len = 0;
    memset(wt, 0, sizeof *wt);
    if (rc != 0) {
        return rc == STATE_MISSING ? 1 : rc;
    }
    if (root_path != NULL && read_file(root_path, roots, roots_len) != 0) {
        fprintf(stderr, "picoacme: cannot read --ca-root %s: %s\n", root_path, strerror(errno));
        return 2;
    }
    picoacme_posix_transport(tp);
    picoacme_posix_clock(clk);
    if (picoacme_posix_flash_open(flash, state, STATE_SIZE, STATE_ERASE, st) != PICOACME_OK) {
        fprintf(stderr, "picoacme: cannot open --state %s\n", state);
        free(*roots);
        return 1;
    }
    if (picoacme_wolfssl_crypto_init(wc, NULL, crypto) != PICOACME_OK) {
        fprintf(stderr, "picoacme: crypto initialisation failed\n");
        picoacme_posix_flash_close(flash);
        free(*roots);
        return 1;
    }
    if (*roots != NULL && picoacme_wolfssl_tls_init(wt, tp, NULL, *roots, *roots_len,
                                                    PICOACME_WOLFSSL_PEM, tls) != PICOACME_OK) {
        fprintf(stderr, "picoacme: --ca-root %s holds no usable certificate\n", root_path);
        picoacme_wolfssl_crypto_free(wc);
        picoacme_posix_flash_close(flash);
        free(*roots);
        return 1;
    }
    return 0;
}

/* Can a listener take port (as the POSIX port does: IPv6 dual stack,
 * else IPv4)? errno says why not. */
static bool port_free(uint16_t port)
{
    static const int families[2] = {AF_INET6, AF_INET};
    size_t i;
    for (i = 0; i < 2U; i++) {
        int fd = socket(families[i], SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1, zero = 0, err;
        struct sockaddr_storage ss;
        socklen_t sl;
        if (fd < 0) {
            continue;
        }
        memset(&ss, 0, sizeof ss);
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (families[i] == AF_INET6) {
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
            (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
            a6->sin6_family = AF_INET6;
            a6->sin6_port = htons(port);
            sl = sizeof *a6;
        } else {
            struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
            a4->sin_family = AF_INET;
            a4->sin_port = htons(port);
            sl = sizeof *a4;
        }
        if (bind(fd, (struct sockaddr *)&ss, sl) == 0 && listen(fd, 1) == 0) {
            close(fd);
            return true;
        }
        err = errno;
        close(fd);
        errno = err;
        if (err == EADDRINUSE || err == EACCES) {
            return false;
        }
    }
    return false;
}

/* The listener ports the allowed challenges need are free now. */
static bool ports_free(const picoacme_config_t *cfg, uint16_t http_port, uint16_t alpn_port)
{
    size_t i;
    for (i = 0; i < cfg->n_challenges; i++) {
        bool h = cfg->challenges[i] == PICOACME_CHALL_HTTP01;
        uint16_t p = h ? http_port : alpn_port;
        if ((h || cfg->challenges[i] == PICOACME_CHALL_TLSALPN01) && !port_free(p)) {
            fprintf(stderr, "picoacme: --%s %u cannot be listened on: %s\n",
                    h ? "http01-port" : "tls-alpn01-port", (unsigned)p, strerror(errno));
            return false;
        }
    }
    return true;
}

/* Does the state file hold nothing, or the account of one of the
 * configured CAs? A record of another CA is not silently replaced. */
static bool state_fits_ca(const picoacme_storage_t *st, const char *state, const char *dir_url,
                          const char *fb_url)
{
    static char sdir[PICOACME_URL_MAX], sacct[PICOACME_URL_MAX];
    if (!state_record_urls(st, sdir, sizeof sdir, sacct, sizeof sacct) ||
        strcmp(sdir, dir_url) == 0 || (fb_url != NULL && strcmp(sdir, fb_url) == 0)) {
        return true;
    }
    fprintf(stderr,
            "picoacme: --state %s holds the account %s of another CA, %s: refusing to replace "
            "it; use a new --state file for %s\n",
            state, sacct[0] != '\0' ? sacct : "(none)", sdir, dir_url);
    return false;
}

/* Release what open_ports() opened. */
static void close_ports(picoacme_posix_flash_t *flash, picoacme_wolfssl_crypto_t *wc,
                        picoacme_wolfssl_tls_t *wt, uint8_t *roots)
{
    if (g_ctx.ports.transport != NULL) { /* never initialised: nothing to release */
        picoacme_abort(&g_ctx);
    }
    if (roots != NULL) {
        picoacme_wolfssl_tls_free(wt);
    }
    picoacme_wolfssl_crypto_free(wc);
    picoacme_posix_flash_close(flash);
    free(roots);
}

/* Make --out hold what the state holds (the state is the truth): the
 * stored chain and its key, published together when they differ from what
 * --out has. *published says whether --out was written. Returns 0 (also
 * when nothing is stored), or -1 after saying why. */
static int publish_stored(picoacme_wolfssl_crypto_t *wcp, const char *out, bool *published)
{
    static char key[1024];
    size_t key_len = 0;
    picoacme_stored_info_t info;
    /* the keys first: reading them reuses the buffer info points into */
    picoacme_err_t e = picoacme_stored_load_keys(&g_ctx);
    int rc = 0;
    *published = false;
    if (e == PICOACME_ERR_NOT_FOUND) {
        return 0;
    }
    if (e == PICOACME_OK &&
        (hwkeys_active() ? hwkeys_key_uri(g_ctx.ports.storage, key, sizeof key, &key_len)
                         : key_pem(wcp, key, sizeof key, &key_len)) == 0) {
        e = picoacme_stored(&g_ctx, &info);
    } else if (e == PICOACME_OK) {
        e = PICOACME_ERR_CRYPTO;
    }
    if (e != PICOACME_OK) {
        fprintf(stderr, "picoacme: cannot read the certificate and its key from the state: %s\n",
                picoacme_err_str(e));
        return -1;
    }
    if (!out_matches(out, info.chain_pem, info.chain_len, key, key_len)) {
        if (out_publish(out, info.chain_pem, info.chain_len, key, key_len) != 0) {
            fprintf(stderr, "picoacme: cannot write to --out %s: %s\n", out, strerror(errno));
            rc = -1;
        } else {
            *published = true;
        }
    }
    memset(key, 0, sizeof key);
    return rc;
}

/* One issuance with the configured ports: the certificate and key are
 * written to out on success. Returns 0 on success. */
static int issue_once(const picoacme_config_t *cfgp, const picoacme_ports_t *portsp,
                      picoacme_wolfssl_crypto_t *wcp, const picoacme_wolfssl_tls_t *wtp,
                      const char *out)
{
    picoacme_err_t e;
    const picoacme_wolfssl_tls_t *tlsp = portsp->tls != NULL ? wtp : NULL;
    unsigned hs0 = tlsp != NULL ? tlsp->handshakes : 0U;
    bool published = false;
    e = picoacme_init(&g_ctx, cfgp, portsp);
    if (e != PICOACME_OK) {
        fprintf(stderr,
                "picoacme: invalid configuration (%s): check --directory and the "
                "identifiers\n",
                picoacme_err_str(e));
        return 1;
    }
    e = picoacme_issue_start(&g_ctx);
    if (e != PICOACME_OK || pump() != 0) {
        report_failure("issue", tlsp);
        return 1;
    }
    if (publish_stored(wcp, out, &published) != 0) {
        return 1;
    }
    fprintf(stderr,
            "picoacme: issued %s/cert.pem and %s/%s (%u requests, %u connections, %u TLS "
            "handshakes, %u badNonce retries)\n",
            out, out, hwkeys_key_name(), (unsigned)picoacme_stats(&g_ctx)->requests,
            (unsigned)picoacme_stats(&g_ctx)->connections,
            tlsp != NULL ? tlsp->handshakes - hs0 : 0U,
            (unsigned)picoacme_stats(&g_ctx)->bad_nonces);
    return 0;
}

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* Sleep up to s seconds, waking early on SIGTERM/SIGINT. */
static void nap(int64_t s)
{
    while (s > 0 && !g_stop) {
        int ms = s > 60 ? 60000 : (int)s * 1000;
        (void)poll(NULL, 0, ms);
        s -= ms / 1000;
    }
}

/* RFC 9773: ask the CA when to renew the stored certificate (info is read
 * again); on any failure the lifetime fraction stays, with a log line. */
static void ari_refresh(picoacme_stored_info_t *info)
{
    picoacme_err_t e = picoacme_ari_start(&g_ctx);
    if (e == PICOACME_OK && pump() != 0) {
        e = picoacme_last_problem(&g_ctx)->err;
    }
    if (e != PICOACME_OK) {
        fprintf(stderr,
                "picoacme: ARI renewal info unavailable (%s), renewing at the lifetime "
                "fraction\n",
                picoacme_err_str(e));
    }
    picoacme_abort(&g_ctx);
    (void)picoacme_stored(&g_ctx, info);
}

/* At every start and wake-up of the daemon: --out is repaired from the
 * state, and a stored certificate that was revoked is due at once
 * (info->renew_at_s 0). info is read again. */
static void repair_out(picoacme_wolfssl_crypto_t *wcp, const char *state, const char *out,
                       picoacme_stored_info_t *info)
{
    bool published = false;
    char serial[80];
    if (publish_stored(wcp, out, &published) == 0 && published) {
        fprintf(stderr, "picoacme: --out %s restored from the state\n", out);
    }
    (void)picoacme_stored(&g_ctx, info);
    if (chain_serial_hex(info->chain_pem, info->chain_len, serial, sizeof serial) &&
        state_is_revoked(state, serial)) {
        fprintf(stderr, "picoacme: the stored certificate %s was revoked: renewing now\n", serial);
        info->renew_at_s = 0;
    }
}

/* The daemon: keep a valid certificate for ever (or max_renewals
 * issuances): issue when nothing is stored or the renewal time (2/3 of the
 * lifetime, plus a small random delay so a fleet does not renew in the same
 * second) has come, run the hook after each issuance, back off after a
 * failure (60 s doubling to 1 h). */
/* One CA of the daemon's ordered list. */
typedef struct run_ca {
    const picoacme_config_t *cfg;
    const picoacme_ports_t *ports;
    const picoacme_wolfssl_tls_t *wt;
} run_ca_t;

static int run_loop(const run_ca_t *cas, uint8_t n_cas, picoacme_failover_t *fo,
                    picoacme_wolfssl_crypto_t *wcp, const char *state, const char *out,
                    const char *hook, unsigned max_renewals, int64_t retry_s)
{
    unsigned done_n = 0;
    int64_t backoff = retry_s;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGINT, &sa, NULL);
    while (!g_stop) {
        picoacme_stored_info_t info;
        int64_t now = (int64_t)time(NULL);
        uint8_t ci = picoacme_failover_ca(fo, now);
        const picoacme_config_t *cfgp = cas[ci < n_cas ? ci : 0].cfg;
        const picoacme_ports_t *portsp = cas[ci < n_cas ? ci : 0].ports;
        const picoacme_wolfssl_tls_t *wtp = cas[ci < n_cas ? ci : 0].wt;
        bool ok;
        bool switched;
        bool have = picoacme_init(&g_ctx, cfgp, portsp) == PICOACME_OK &&
                    picoacme_stored(&g_ctx, &info) == PICOACME_OK;
        if (have) {
            repair_out(wcp, state, out, &info);
        }
        if (have && info.renew_at_s != 0) {
            ari_refresh(&info);
            /* ask the CA again when it said to, if that comes first */
            if (info.ari && info.ari_retry_at_s > 0 && info.ari_retry_at_s < info.renew_at_s) {
                info.renew_at_s = info.ari_retry_at_s;
            }
        }
        now = (int64_t)time(NULL);
        if (have && now < info.renew_at_s) {
            uint8_t r[2] = {0, 0};
            int64_t life = info.not_after_s - info.not_before_s;
            int64_t jitter_max = life / 100 < 60 ? life / 100 : 60;
            int64_t jitter = 0;
            if (jitter_max > 0 && wcp != NULL &&
                portsp->crypto->random(portsp->crypto->user, r, sizeof r) == PICOACME_OK) {
                jitter = (int64_t)((r[0] << 8) | r[1]) % (jitter_max + 1);
            }
            fprintf(stderr, "picoacme: next renewal in %lld s\n",
                    (long long)(info.renew_at_s - now + jitter));
            nap(info.renew_at_s - now + jitter);
            continue;
        }
        ok = issue_once(cfgp, portsp, wcp, wtp, out) == 0;
        switched = picoacme_failover_result(fo, (int64_t)time(NULL), ok);
        if (switched) {
            fprintf(stderr, "picoacme: CA %s failed %u times in a row: switching to %s\n",
                    cfgp->directory_url, (unsigned)fo->max_failures,
                    cas[fo->current < n_cas ? fo->current : 0].cfg->directory_url);
        }
        if (ok) {
            done_n++;
            backoff = retry_s;
            if (hook != NULL) {
                char why[128];
                setenv("PICOACME_CERT", out, 1);
                if (hook_run(hook, why, sizeof why) != 0) {
                    fprintf(stderr, "picoacme: --renew-hook %s\n", why);
                }
            }
            if (max_renewals != 0U && done_n >= max_renewals) {
                return 0;
            }
        } else if (switched) {
            backoff = retry_s; /* the next CA is tried at once */
        } else {
            fprintf(stderr, "picoacme: retrying in %lld s\n", (long long)backoff);
            nap(backoff);
            backoff = backoff >= 1800 ? 3600 : backoff * 2;
        }
    }
    return 0;
}

static int cmd_issue(int argc, char **argv, bool daemon)
{
    static const struct option opts[] = {{"directory", required_argument, NULL, 'd'},
                                         {"ca-root", required_argument, NULL, 'r'},
                                         {"state", required_argument, NULL, 's'},
                                         {"domain", required_argument, NULL, 'n'},
                                         {"ip", required_argument, NULL, 'i'},
                                         {"http01-port", required_argument, NULL, 'p'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"email", required_argument, NULL, 'e'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"challenge", required_argument, NULL, 'c'},
                                         {"tls-alpn01-port", required_argument, NULL, 'a'},
                                         {"dns01-server", required_argument, NULL, 'S'},
                                         {"tsig-key", required_argument, NULL, 'k'},
                                         {"dns01-resolver", required_argument, NULL, 'R'},
                                         {"dns01-timeout", required_argument, NULL, 't'},
                                         {"dns01-zone", required_argument, NULL, 'z'},
                                         {"dns01-tcp", no_argument, NULL, 'T'},
                                         {"eab-kid", required_argument, NULL, 'K'},
                                         {"eab-hmac-key", required_argument, NULL, 'H'},
                                         {"renew-hook", required_argument, NULL, 'X'},
                                         {"fallback-directory", required_argument, NULL, 'F'},
                                         {"fallback-ca-root", required_argument, NULL, 'G'},
                                         {"failover-after", required_argument, NULL, 'A'},
                                         {"failback-s", required_argument, NULL, 'B'},
                                         {"retry-s", required_argument, NULL, 'Y'},
                                         {"max-renewals", required_argument, NULL, 'M'},
                                         {"eab-hmac-key-file", required_argument, NULL, 'E'},
                                         {"tsig-key-file", required_argument, NULL, 'J'},
                                         HWKEYS_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    static char dns_server[256], dns_resolver[256], tsig_name[256];
    static uint8_t tsig_secret[128];
    static uint8_t eab_key[128];
    static char secret_line[512];
    size_t eab_len = 0;
    const char *eab_kid = NULL;
    const char *hook = NULL;
    const char *fb_url = NULL, *fb_root_path = NULL;
    long failover_after = 3, failback_s = 86400, retry_s = 60;
    uint8_t *fb_roots = NULL;
    size_t fb_roots_len = 0;
    picoacme_wolfssl_tls_t wt2;
    picoacme_tls_t tls2;
    picoacme_config_t cfg2;
    picoacme_ports_t ports2;
    picoacme_failover_t fo;
    run_ca_t cas[2];
    unsigned max_renewals = 0;
    size_t tsig_len = 0;
    picoacme_dns01_config_t dns;
    bool have_challenge = false;
    uint16_t alpn_port = 0;
    picoacme_config_t cfg;
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
    picoacme_ports_t ports;
    int rc = 1;
    struct stat sb;

    memset(&cfg, 0, sizeof cfg);
    memset(&dns, 0, sizeof dns);
    dns.timeout_s = 60;

    while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir_url = optarg; break;
        case 'r': root_path = optarg; break;
        case 's': state = optarg; break;
        case 'o': out = optarg; break;
        case 'e': email = optarg; break;
        case 'v': g_verbose = 1; break;
        case 'p': {
            uint16_t p16 = 0;
            if (parse_port(optarg, &p16) != 0) {
                fprintf(stderr, "picoacme: --http01-port must be 1..65535\n");
                return 2;
            }
            port = p16;
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
        case 'c':
            if (parse_challenges(optarg, &cfg) != 0) {
                fprintf(stderr, "picoacme: --challenge takes a comma-separated list of "
                                "http-01, tls-alpn-01, dns-01\n");
                return 2;
            }
            have_challenge = true;
            break;
        case 'a':
            if (parse_port(optarg, &alpn_port) != 0) {
                fprintf(stderr, "picoacme: --tls-alpn01-port must be 1..65535\n");
                return 2;
            }
            break;
        case 'S':
            if (parse_hostport(optarg, dns_server, sizeof dns_server, &dns.server_port) != 0) {
                fprintf(stderr, "picoacme: --dns01-server takes HOST:PORT ([v6]:PORT)\n");
                return 2;
            }
            dns.server = dns_server;
            break;
        case 'R':
            if (parse_hostport(optarg, dns_resolver, sizeof dns_resolver, &dns.resolver_port) !=
                0) {
                fprintf(stderr, "picoacme: --dns01-resolver takes HOST:PORT ([v6]:PORT)\n");
                return 2;
            }
            dns.resolver = dns_resolver;
            break;
        case 'J':
        case 'k':
            if (c == 'J' && read_secret_file(optarg, secret_line, sizeof secret_line) != 0) {
                fprintf(stderr, "picoacme: cannot read --tsig-key-file %s: %s\n", optarg,
                        secret_file_error());
                return 2;
            }
            if (parse_tsig(c == 'J' ? secret_line : optarg, tsig_name, sizeof tsig_name,
                           tsig_secret, sizeof tsig_secret, &tsig_len) != 0) {
                fprintf(stderr, "picoacme: --tsig-key%s takes NAME:hmac-sha256:BASE64SECRET\n",
                        c == 'J' ? "-file" : "");
                return 2;
            }
            memset(secret_line, 0, sizeof secret_line);
            dns.tsig.name = tsig_name;
            dns.tsig.secret = tsig_secret;
            dns.tsig.secret_len = tsig_len;
            break;
        case 't': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || v < 1 || v > 86400) {
                fprintf(stderr, "picoacme: --dns01-timeout must be 1..86400 seconds\n");
                return 2;
            }
            dns.timeout_s = (uint32_t)v;
            break;
        }
        case 'z': dns.zone = optarg; break;
        case 'T': dns.tcp = true; break;
        case 'X': hook = optarg; break;
        case 'F': fb_url = optarg; break;
        case 'G': fb_root_path = optarg; break;
        case 'A':
        case 'B':
        case 'Y': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || v < 1 || v > (c == 'A' ? 255 : 31536000)) {
                fprintf(stderr, "picoacme: --%s out of range\n",
                        c == 'A'   ? "failover-after"
                        : c == 'B' ? "failback-s"
                                   : "retry-s");
                return 2;
            }
            if (c == 'A') {
                failover_after = v;
            } else if (c == 'B') {
                failback_s = v;
            } else {
                retry_s = v;
            }
            break;
        }
        case 'M': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || v < 0 || v > 1000000) {
                fprintf(stderr, "picoacme: --max-renewals takes a count (0: for ever)\n");
                return 2;
            }
            max_renewals = (unsigned)v;
            break;
        }
        case 'K': eab_kid = optarg; break;
        case 'E':
        case 'H': {
            const char *v = optarg;
            if (c == 'E') {
                if (read_secret_file(optarg, secret_line, sizeof secret_line) != 0) {
                    fprintf(stderr, "picoacme: cannot read --eab-hmac-key-file %s: %s\n", optarg,
                            secret_file_error());
                    return 2;
                }
                v = secret_line;
            }
            /* the CA hands the MAC key out base64url-encoded (RFC 8555 §7.3.4) */
            if (picoacme_b64url_decode(v, strlen(v), eab_key, sizeof eab_key, &eab_len) !=
                    PICOACME_OK ||
                eab_len == 0) {
                fprintf(stderr, "picoacme: --eab-hmac-key%s takes the base64url MAC key\n",
                        c == 'E' ? "-file" : "");
                return 2;
            }
            memset(secret_line, 0, sizeof secret_line);
            break;
        }
        case 'h': usage(stdout); return 0;
        default:
            if (hwkeys_option(c, optarg) == 1) {
                break;
            }
            usage(stderr);
            return 2;
        }
    }
    if (!have_challenge) {
        cfg.challenges[0] = PICOACME_CHALL_HTTP01;
        cfg.n_challenges = 1;
    }
    {
        size_t i;
        for (i = 0; i < cfg.n_challenges; i++) {
            const char *need = NULL;
            if (cfg.challenges[i] == PICOACME_CHALL_HTTP01 && port == 0) {
                need = "http-01 needs --http01-port";
            } else if (cfg.challenges[i] == PICOACME_CHALL_TLSALPN01 && alpn_port == 0) {
                need = "tls-alpn-01 needs --tls-alpn01-port";
            } else if (cfg.challenges[i] == PICOACME_CHALL_DNS01 &&
                       (dns.server == NULL || dns.tsig.name == NULL)) {
                need = "dns-01 needs --dns01-server and --tsig-key";
            }
            if (need != NULL) {
                fprintf(stderr, "picoacme: %s\n", need);
                return 2;
            }
        }
    }
    if (dir_url == NULL || state == NULL || out == NULL || n_ids == 0 ||
        (strncmp(dir_url, "https://", 8) == 0 && root_path == NULL)) {
        fprintf(stderr, "picoacme: issue needs --directory, --ca-root, --state, --out "
                        "and at least one --domain or --ip\n");
        usage(stderr);
        return 2;
    }
    if ((eab_kid == NULL) != (eab_len == 0)) {
        fprintf(stderr, "picoacme: --eab-kid and --eab-hmac-key (or --eab-hmac-key-file) go "
                        "together\n");
        return 2;
    }
    if ((fb_url != NULL || fb_root_path != NULL) &&
        (!daemon || fb_url == NULL ||
         (strncmp(fb_url, "https://", 8) == 0 && fb_root_path == NULL))) {
        fprintf(stderr, "picoacme: --fallback-directory (with --fallback-ca-root for https) "
                        "is for picoacme run\n");
        return 2;
    }
    if (stat(out, &sb) == 0 ? !S_ISDIR(sb.st_mode) : errno != ENOENT) {
        fprintf(stderr, "picoacme: --out %s is not a usable directory\n", out);
        return 2;
    }
    /* local mistakes are found before the CA is asked for anything */
    if (out_check_writable(out) != 0) {
        fprintf(stderr, "picoacme: --out %s cannot be written: %s\n", out, strerror(errno));
        return 2;
    }
    if (!ports_free(&cfg, (uint16_t)port, alpn_port)) {
        return 2;
    }
    /* keys in a token or TPM: a device that cannot be used stops here,
     * before the state file is touched */
    rc = hwkeys_open(&crypto);
    if (rc != 0) {
        return rc;
    }
    rc = open_ports(state, root_path, &tp, &clk, &flash, &st, &wc, &crypto, &wt, &tls, &roots,
                    &roots_len);
    if (rc != 0) {
        return rc;
    }
    rc = 2;
    memset(&wt2, 0, sizeof wt2);
    if (!state_fits_ca(&st, state, dir_url, fb_url) || !hwkeys_state_fits(&st, state)) {
        goto done;
    }
    rc = 1;
    cfg.eab_kid = eab_kid;
    cfg.eab_key = eab_len > 0 ? eab_key : NULL;
    cfg.eab_key_len = eab_len;
    cfg.directory_url = dir_url;
    cfg.tlsalpn01_port = alpn_port;
    cfg.dns01 = dns.server != NULL ? &dns : NULL;
    cfg.email = email;
    cfg.ids = ids;
    cfg.n_ids = n_ids;
    cfg.http01_port = (uint16_t)port;
    memset(&ports, 0, sizeof ports);
    ports.transport = &tp;
    ports.tls = roots != NULL ? &tls : NULL;
    ports.crypto = hwkeys_crypto(&crypto);
    ports.storage = &st;
    ports.clock = &clk;
    ports.log = log_hook;

    cas[0].cfg = &cfg;
    cas[0].ports = &ports;
    cas[0].wt = &wt;
    if (fb_url != NULL) {
        /* the fallback CA: its own directory and roots, the same identity */
        if (fb_root_path != NULL) {
            if (read_file(fb_root_path, &fb_roots, &fb_roots_len) != 0 ||
                picoacme_wolfssl_tls_init(&wt2, &tp, NULL, fb_roots, fb_roots_len,
                                          PICOACME_WOLFSSL_PEM, &tls2) != PICOACME_OK) {
                fprintf(stderr, "picoacme: --fallback-ca-root %s holds no usable certificate\n",
                        fb_root_path);
                goto done;
            }
        }
        cfg2 = cfg;
        cfg2.directory_url = fb_url;
        cfg2.eab_kid = NULL; /* EAB is per CA: the primary's binding is not the fallback's */
        cfg2.eab_key = NULL;
        cfg2.eab_key_len = 0;
        ports2 = ports;
        ports2.tls = fb_roots != NULL ? &tls2 : NULL;
        cas[1].cfg = &cfg2;
        cas[1].ports = &ports2;
        cas[1].wt = &wt2;
    }
    picoacme_failover_init(&fo, fb_url != NULL ? 2U : 1U, (uint8_t)failover_after,
                           (uint32_t)failback_s);
    rc = daemon ? run_loop(cas, fb_url != NULL ? 2U : 1U, &fo, &wc, state, out, hook, max_renewals,
                           retry_s)
                : issue_once(&cfg, &ports, &wc, &wt, out);
done:
    if (fb_roots != NULL) {
        if (wt2.ctx != NULL) {
            picoacme_wolfssl_tls_free(&wt2);
        }
        free(fb_roots);
    }
    hwkeys_close(&st);
    close_ports(&flash, &wc, &wt, roots);
    return rc;
}

/* revoke, rollover, deactivate: one lifecycle exchange with the stored
 * account (RFC 8555 §7.6, §7.3.5, §7.3.6). */
static int cmd_lifecycle(int argc, char **argv, const char *what)
{
    static const struct option opts[] = {{"directory", required_argument, NULL, 'd'},
                                         {"ca-root", required_argument, NULL, 'r'},
                                         {"state", required_argument, NULL, 's'},
                                         {"reason", required_argument, NULL, 'R'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {"help", no_argument, NULL, 'h'},
                                         HWKEYS_OPTIONS,
                                         {NULL, 0, NULL, 0}};
    const char *dir_url = NULL, *root_path = NULL, *state = NULL;
    bool revoke = strcmp(what, "revoke") == 0;
    bool rollover = strcmp(what, "rollover") == 0;
    int reason = -1;
    int c;
    int rc = 1;
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
    char old_tp[PICOACME_THUMBPRINT_LEN + 1U] = "";
    while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir_url = optarg; break;
        case 'r': root_path = optarg; break;
        case 's': state = optarg; break;
        case 'v': g_verbose = 1; break;
        case 'R': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (!revoke || end == optarg || *end != '\0' || v < 0 || v > 10 || v == 7) {
                fprintf(stderr, "picoacme: --reason (revoke only) takes an RFC 5280 CRLReason "
                                "code, 0..10 but not 7\n");
                return 2;
            }
            reason = (int)v;
            break;
        }
        case 'h': usage(stdout); return 0;
        default:
            if (hwkeys_option(c, optarg) == 1) {
                break;
            }
            usage(stderr);
            return 2;
        }
    }
    if (dir_url == NULL || state == NULL ||
        (strncmp(dir_url, "https://", 8) == 0 && root_path == NULL)) {
        fprintf(stderr, "picoacme: %s needs --directory, --ca-root and --state\n", what);
        usage(stderr);
        return 2;
    }
    if (access(state, R_OK) != 0) {
        fprintf(stderr, "picoacme: no state file %s: no account to %s\n", state, what);
        return 1;
    }
    if (rollover && hwkeys_active()) {
        fprintf(stderr, "picoacme: rollover moves the new key into the account slot by its "
                        "scalar: not with keys in hardware\n");
        return 2;
    }
    rc = hwkeys_open(&crypto);
    if (rc != 0) {
        return rc;
    }
    rc = open_ports(state, root_path, &tp, &clk, &flash, &st, &wc, &crypto, &wt, &tls, &roots,
                    &roots_len);
    if (rc != 0) {
        return rc;
    }
    rc = 1;
    memset(&cfg, 0, sizeof cfg);
    cfg.directory_url = dir_url;
    memset(&ports, 0, sizeof ports);
    ports.transport = &tp;
    ports.tls = roots != NULL ? &tls : NULL;
    ports.crypto = hwkeys_crypto(&crypto);
    ports.storage = &st;
    ports.clock = &clk;
    ports.log = log_hook;
    e = picoacme_init(&g_ctx, &cfg, &ports);
    if (e != PICOACME_OK) {
        fprintf(stderr, "picoacme: invalid --directory (%s)\n", picoacme_err_str(e));
        goto done;
    }
    e = revoke     ? picoacme_revoke_start(&g_ctx, reason)
        : rollover ? picoacme_key_rollover_start(&g_ctx)
                   : picoacme_account_deactivate_start(&g_ctx);
    if (e == PICOACME_ERR_NOT_FOUND) {
        fprintf(stderr, "picoacme: %s failed: %s holds no %s for %s\n", what, state,
                revoke ? "account and certificate" : "account", dir_url);
        goto done;
    }
    if (rollover && e == PICOACME_OK) {
        (void)picoacme_jwk_thumbprint(&crypto, PICOACME_KEY_ACCOUNT, old_tp);
    }
    if (e != PICOACME_OK || pump() != 0) {
        report_failure(what, roots != NULL ? &wt : NULL);
        goto done;
    }
    if (rollover) {
        char new_tp[PICOACME_THUMBPRINT_LEN + 1U] = "";
        (void)picoacme_jwk_thumbprint(&crypto, PICOACME_KEY_ACCOUNT, new_tp);
        fprintf(stderr, "picoacme: account %s: key %s replaced by %s\n",
                picoacme_account_url(&g_ctx), old_tp, new_tp);
    } else {
        fprintf(stderr, "picoacme: %s: %s\n",
                revoke ? "certificate revoked" : "account deactivated",
                revoke ? state : picoacme_account_url(&g_ctx));
    }
    if (revoke) {
        /* the state keeps the certificate; status and run learn it is revoked */
        picoacme_stored_info_t info;
        char serial[80];
        if (picoacme_stored(&g_ctx, &info) == PICOACME_OK &&
            chain_serial_hex(info.chain_pem, info.chain_len, serial, sizeof serial) &&
            state_note_revoked(state, serial) != 0) {
            fprintf(stderr, "picoacme: cannot note the revocation next to %s: %s\n", state,
                    strerror(errno));
        }
    }
    rc = 0;
done:
    hwkeys_close(&st);
    close_ports(&flash, &wc, &wt, roots);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("picoacme %s\n", PICOACME_CLI_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "issue") == 0) {
        return cmd_issue(argc - 1, argv + 1, false);
    }
    if (strcmp(argv[1], "run") == 0) {
        return cmd_issue(argc - 1, argv + 1, true);
    }
    if (strcmp(argv[1], "status") == 0) {
        return cmd_status(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "revoke") == 0 || strcmp(argv[1], "rollover") == 0 ||
        strcmp(argv[1], "deactivate") == 0) {
        return cmd_lifecycle(argc - 1, argv + 1, argv[1]);
    }
    fprintf(stderr, "picoacme: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
