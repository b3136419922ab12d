/*
 * errors.c - what the operator can do about a failure: the CA's host:port
 * with the system's reason ("does not resolve" told apart from "refused"),
 * https for an http:// directory that answers 400, a --ca-root that
 * expired or is not yet valid, a detail the engine had to cut ended at a
 * word.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "picoacme_x509.h"

const char *g_dir_url;
static const uint8_t *g_roots;
static size_t g_roots_len;

void hint_roots(const uint8_t *pem, size_t len)
{
    g_roots = pem;
    g_roots_len = len;
}

static void fmt_day(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *roots_why(const uint8_t *pem, size_t len)
{
    static char why[160];
    static uint8_t der[4096];
    size_t pos = 0, der_len = 0;
    int64_t now = (int64_t)time(NULL);
    why[0] = '\0';
    while (pem != NULL && picoacme_pem_next((const char *)pem, len, &pos, der, sizeof der,
                                            &der_len) == PICOACME_OK) {
        picoacme_x509_t x;
        char t[32];
        if (picoacme_x509_parse(der, der_len, &x) != PICOACME_OK) {
            continue;
        }
        if (now >= x.not_before_s && now < x.not_after_s) {
            return ""; /* one usable anchor */
        }
        fmt_day(now < x.not_before_s ? x.not_before_s : x.not_after_s, t, sizeof t);
        snprintf(why, sizeof why, "; the --ca-root certificate %s %s",
                 now < x.not_before_s ? "is not yet valid: valid from" : "expired on", t);
    }
    return why;
}

/* host and port of an http(s) URL. */
static int url_hostport(const char *url, char *host, size_t hcap, char *port, size_t pcap)
{
    bool tls = strncmp(url, "https://", 8) == 0;
    const char *h = strstr(url, "://");
    const char *end, *colon;
    size_t n;
    if (h == NULL) {
        return -1;
    }
    h += 3;
    end = h + strcspn(h, "/?#");
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(end - h));
        if (rb == NULL) {
            return -1;
        }
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
        n = (size_t)(rb - h - 1);
        h++;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        n = (size_t)((colon != NULL ? colon : end) - h);
    }
    if (n == 0 || n >= hcap) {
        return -1;
    }
    memcpy(host, h, n);
    host[n] = '\0';
    snprintf(port, pcap, "%.*s", colon != NULL ? (int)(end - colon - 1) : 3,
             colon != NULL ? colon + 1 : (tls ? "443" : "80"));
    return 0;
}

/* Connect to one address (5 s at most): 0 or the errno. */
static int try_connect(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int err = 0;
    socklen_t el = sizeof err;
    struct pollfd p;
    if (fd < 0) {
        return errno;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        err = errno;
    } else {
        p.fd = fd;
        p.events = POLLOUT;
        p.revents = 0;
        if (poll(&p, 1, 5000) != 1) {
            err = ETIMEDOUT;
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) {
            err = errno;
        }
    }
    close(fd);
    return err;
}

/* Why the CA at url cannot be reached, into buf from o. */
static size_t why_unreachable(const char *url, char *buf, size_t cap, size_t o)
{
    char host[256], port[8];
    struct addrinfo hints, *res = NULL;
    int gai, err = 0;
    if (url_hostport(url, host, sizeof host, port, sizeof port) != 0) {
        return o;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        return o + (size_t)snprintf(buf + o, cap - o, "; %s:%s: the name does not resolve (%s)",
                                    host, port, gai_strerror(gai));
    }
    err = try_connect(res);
    freeaddrinfo(res);
    if (err == 0) {
        return o +
               (size_t)snprintf(buf + o, cap - o, "; %s:%s accepts connections now", host, port);
    }
    return o + (size_t)snprintf(buf + o, cap - o, "; %s:%s: %s%s", host, port, strerror(err),
                                err == ECONNREFUSED ? " (nothing listens there)" : "");
}

/* A detail the engine cut (its buffer full) ends at a word, marked. */
static void detail_at_word(const picoacme_problem_t *p, char *buf, size_t o)
{
    size_t dl = strlen(p->detail);
    char *d;
    if (dl + 1U < sizeof p->detail || dl == 0) {
        return;
    }
    d = strstr(buf, p->detail);
    if (d != NULL && o > (size_t)(d - buf) + dl) {
        return; /* something follows it: leave as is */
    }
    if (d != NULL) {
        char *sp = strrchr(d, ' ');
        if (sp != NULL && sp > d) {
            strcpy(sp, " [...]");
        }
    }
}

/* Did the last failure not reach the CA (no HTTP answer at all)? */
static bool unreachable(const picoacme_problem_t *p)
{
    return p->http_status == 0U && p->state != PICOACME_ST_IDLE &&
           (p->err == PICOACME_ERR_IO || p->err == PICOACME_ERR_NOT_FOUND ||
            p->err == PICOACME_ERR_TIMEOUT || p->err == PICOACME_ERR_CLOSED);
}

void hint_text(char *buf, size_t cap, size_t o, const picoacme_problem_t *p)
{
    if (o >= cap) {
        return;
    }
    detail_at_word(p, buf, strlen(buf));
    o = strlen(buf);
    if (g_dir_url != NULL && unreachable(p)) {
        o = why_unreachable(g_dir_url, buf, cap, o);
    }
    if (o < cap && g_dir_url != NULL && p->http_status == 400U &&
        strncmp(g_dir_url, "http://", 7) == 0) {
        o += (size_t)snprintf(buf + o, cap - o,
                              "; the CA answered 400 to plain http: is the directory "
                              "https://%s?",
                              g_dir_url + 7);
    }
    if (o < cap && p->err == PICOACME_ERR_TLS_VERIFY && g_roots != NULL) {
        (void)snprintf(buf + o, cap - o, "%s", roots_why(g_roots, g_roots_len));
    }
}
