/*
 * session.c - what every command that talks to a CA opens (transport,
 * clock, the state file as flash, crypto, TLS trusting only --ca-root),
 * the poll() loop that pumps the engine, the failure line, and --out
 * published from the state.
 */
#include "cli.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "picoacme_b64.h"

#include <wolfssl/wolfcrypt/asn_public.h>

/* PEM of the P-256 key in the certificate slot (RFC 5915 ECPrivateKey). */
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

void problem_text(char *buf, size_t cap, const picoacme_problem_t *p,
                  const picoacme_wolfssl_tls_t *tls)
{
    size_t o = (size_t)snprintf(buf, cap, "failed at step '%s': %s", picoacme_state_str(p->state),
                                picoacme_err_str(p->err));
    if (p->type[0] != '\0' && o < cap) {
        o += (size_t)snprintf(buf + o, cap - o, ", ACME problem urn:ietf:params:acme:error:%s",
                              p->type);
    }
    if (p->http_status != 0U && o < cap) {
        o += (size_t)snprintf(buf + o, cap - o, " (HTTP %u)", (unsigned)p->http_status);
    }
    if (p->detail[0] != '\0' && o < cap) {
        o += (size_t)snprintf(buf + o, cap - o, ": %s", p->detail);
    }
    if ((p->err == PICOACME_ERR_TLS || p->err == PICOACME_ERR_TLS_VERIFY) && tls != NULL &&
        o < cap) {
        o += (size_t)snprintf(buf + o, cap - o, "; TLS: %s", picoacme_wolfssl_tls_reason(tls));
    }
    hint_text(buf, cap, o, p);
}

void report_failure(const char *what, const picoacme_wolfssl_tls_t *tls)
{
    static char line[2048];
    problem_text(line, sizeof line, picoacme_last_problem(&g_ctx), tls);
    say(LOG_ERR, "%s %s", what, line);
}

int pump(void)
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

static void session_ports(session_t *s)
{
    memset(&s->ports, 0, sizeof s->ports);
    s->ports.transport = &s->tp;
    s->ports.tls = s->roots != NULL ? &s->tls : NULL;
    s->ports.crypto = hwkeys_crypto(&s->crypto);
    s->ports.storage = &s->st;
    s->ports.clock = &s->clk;
    s->ports.log = log_hook;
}

/* The --ca-root PEM read and judged before anything else is opened. */
static int read_roots(session_t *s, const char *root_path)
{
    if (root_path != NULL && read_file(root_path, &s->roots, &s->roots_len) != 0) {
        say(LOG_ERR, "cannot read --ca-root %s: %s", root_path, strerror(errno));
        return 2;
    }
    if (s->roots != NULL && roots_why(s->roots, s->roots_len)[0] != '\0') {
        say(LOG_ERR, "--ca-root %s cannot be trusted now%s", root_path,
            roots_why(s->roots, s->roots_len));
        free(s->roots);
        return 2;
    }
    hint_roots(s->roots, s->roots_len);
    return 0;
}

int session_open(session_t *s, const char *state, const char *root_path)
{
    int rc;
    memset(s, 0, sizeof *s);
    rc = read_roots(s, root_path);
    if (rc != 0) {
        return rc;
    }
    /* keys in a token or TPM: a device that cannot be used stops here,
     * before the state file is touched (s->crypto is filled in below) */
    rc = hwkeys_open(&s->crypto);
    if (rc != 0) {
        free(s->roots);
        return rc;
    }
    rc = state_claim(state, true, true);
    if (rc != 0) {
        hwkeys_close(NULL);
        free(s->roots);
        return rc == STATE_MISSING ? 1 : rc;
    }
    picoacme_posix_transport(&s->tp);
    picoacme_posix_clock(&s->clk);
    if (picoacme_posix_flash_open(&s->flash, state, state_size(state), STATE_ERASE, &s->st) !=
        PICOACME_OK) {
        say(LOG_ERR, "cannot open --state %s", state);
        hwkeys_close(NULL);
        free(s->roots);
        return 1;
    }
    if (!hwkeys_state_fits(&s->st, state)) {
        hwkeys_close(NULL);
        picoacme_posix_flash_close(&s->flash);
        free(s->roots);
        return 2;
    }
    if (picoacme_wolfssl_crypto_init(&s->wc, NULL, &s->crypto) != PICOACME_OK) {
        say(LOG_ERR, "crypto initialisation failed");
        hwkeys_close(NULL);
        picoacme_posix_flash_close(&s->flash);
        free(s->roots);
        return 1;
    }
    if (s->roots != NULL &&
        picoacme_wolfssl_tls_init(&s->wt, &s->tp, NULL, s->roots, s->roots_len,
                                  PICOACME_WOLFSSL_PEM, &s->tls) != PICOACME_OK) {
        say(LOG_ERR, "--ca-root %s holds no usable certificate", root_path);
        hwkeys_close(NULL);
        picoacme_wolfssl_crypto_free(&s->wc);
        picoacme_posix_flash_close(&s->flash);
        free(s->roots);
        return 1;
    }
    session_ports(s);
    return 0;
}

void session_close(session_t *s)
{
    if (g_ctx.ports.transport == &s->tp) { /* g_ctx runs on this session */
        picoacme_abort(&g_ctx);
        memset(&g_ctx.ports, 0, sizeof g_ctx.ports);
    }
    if (s->roots != NULL) {
        picoacme_wolfssl_tls_free(&s->wt);
    }
    hwkeys_close(&s->st); /* the key objects the state no longer names go */
    picoacme_wolfssl_crypto_free(&s->wc);
    picoacme_posix_flash_close(&s->flash);
    free(s->roots);
    s->roots = NULL;
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

bool ports_free(const picoacme_config_t *cfg)
{
    size_t i;
    for (i = 0; i < cfg->n_challenges; i++) {
        bool h = cfg->challenges[i] == PICOACME_CHALL_HTTP01;
        uint16_t p = h ? cfg->http01_port : cfg->tlsalpn01_port;
        if ((h || cfg->challenges[i] == PICOACME_CHALL_TLSALPN01) && !port_free(p)) {
            say(LOG_ERR, "--%s %u cannot be listened on: %s", h ? "http01-port" : "tls-alpn01-port",
                (unsigned)p, strerror(errno));
            return false;
        }
    }
    return true;
}

bool state_fits_ca(const picoacme_storage_t *st, const char *state, const char *dir_url,
                   const char *fb_url)
{
    static char sdir[PICOACME_URL_MAX], sacct[PICOACME_URL_MAX];
    if (!state_record_urls(st, sdir, sizeof sdir, sacct, sizeof sacct) ||
        strcmp(sdir, dir_url) == 0 || (fb_url != NULL && strcmp(sdir, fb_url) == 0)) {
        return true;
    }
    say(LOG_ERR,
        "--state %s holds the account %s of another CA, %s: refusing to replace it; use a new "
        "--state file for %s",
        state, sacct[0] != '\0' ? sacct : "(none)", sdir, dir_url);
    return false;
}

int publish_stored(picoacme_ctx_t *ctx, picoacme_wolfssl_crypto_t *wcp, const char *out,
                   bool *published)
{
    static char key[1024];
    size_t key_len = 0;
    picoacme_stored_info_t info;
    /* the keys first: reading them reuses the buffer info points into */
    picoacme_err_t e = picoacme_stored_load_keys(ctx);
    int rc = 0;
    *published = false;
    if (e == PICOACME_ERR_NOT_FOUND) {
        return 0;
    }
    if (e == PICOACME_OK &&
        (hwkeys_active() ? hwkeys_key_uri(ctx->ports.storage, key, sizeof key, &key_len)
                         : key_pem(wcp, key, sizeof key, &key_len)) == 0) {
        e = picoacme_stored(ctx, &info);
    } else if (e == PICOACME_OK) {
        e = PICOACME_ERR_CRYPTO;
    }
    if (e != PICOACME_OK) {
        say(LOG_ERR, "cannot read the certificate and its key from the state: %s",
            picoacme_err_str(e));
        return -1;
    }
    if (!out_matches(out, info.chain_pem, info.chain_len, key, key_len)) {
        if (out_publish(out, info.chain_pem, info.chain_len, key, key_len) != 0) {
            say(LOG_ERR, "cannot write to --out %s: %s", out, strerror(errno));
            rc = -1;
        } else {
            *published = true;
        }
    }
    memset(key, 0, sizeof key);
    return rc;
}
