/*
 * picoacme.h - the ACME (RFC 8555) engine.
 *
 * A state machine the caller pumps: picoacme_step() never blocks. It
 * returns PICOACME_OK when the certificate is issued and stored,
 * PICOACME_WANT_READ / PICOACME_WANT_WRITE / PICOACME_AGAIN while it waits
 * (the picoacme_wait_t says for which sockets and for how long), or an
 * error, with the detail in picoacme_last_problem().
 *
 * All memory is the caller's picoacme_ctx_t; its size follows from the
 * options in picoacme_config_defaults.h. The context may be a static
 * global. Nothing here allocates, sleeps or touches the OS: the ports do.
 */
#ifndef PICOACME_H
#define PICOACME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme_config_defaults.h"
#include "picoacme_dns.h"
#include "picoacme_err.h"
#include "picoacme_http.h"
#include "picoacme_json.h"
#include "picoacme_port.h"
#include "picoacme_time.h"
#include "picoacme_x509.h"

/* Log levels of the hook. */
#define PICOACME_LOG_LVL_ERR 1
#define PICOACME_LOG_LVL_WRN 2
#define PICOACME_LOG_LVL_INF 3
#define PICOACME_LOG_LVL_DBG 4

#if defined(__GNUC__)
#define PICOACME_PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PICOACME_PRINTF_LIKE(f, a)
#endif

/* printf-like log hook; the platform formats (the core has no stdio). */
typedef void (*picoacme_log_fn)(void *user, int level, const char *fmt, ...)
    PICOACME_PRINTF_LIKE(3, 4);

/* The ports one engine uses. Pointers must stay valid while it runs. */
typedef struct picoacme_ports {
    const picoacme_transport_t *transport;
    const picoacme_tls_t *tls; /* NULL: only http:// directories */
    const picoacme_crypto_t *crypto;
    const picoacme_storage_t *storage;
    const picoacme_clock_t *clock;
    picoacme_log_fn log; /* optional */
    void *log_user;
} picoacme_ports_t;

/* Challenge types (RFC 8555 §8.3, §8.4; RFC 8737). */
typedef enum picoacme_chall_type {
    PICOACME_CHALL_HTTP01 = 0,
    PICOACME_CHALL_TLSALPN01 = 1,
    PICOACME_CHALL_DNS01 = 2,
    PICOACME_CHALL_TYPES = 3
} picoacme_chall_type_t;

/* dns-01 through an integrator's own DNS provider instead of RFC 2136:
 * publish (add) or remove the TXT record `value` at `fqdn`
 * ("_acme-challenge.<name>"). Must not block: return PICOACME_AGAIN to be
 * called again later, PICOACME_OK when done, or an error. */
typedef struct picoacme_dns_hook {
    void *user;
    picoacme_err_t (*txt)(void *user, const char *fqdn, const char *value, bool add);
} picoacme_dns_hook_t;

/* dns-01 for private zones. The DNS server and resolver, and the TSIG key
 * that is the trust for them, are separate from the ACME CA and its roots.
 * No resolver is ever built in: without `resolver`, propagation is not
 * checked. */
typedef struct picoacme_dns01_config {
    const char *server;       /* RFC 2136 primary (literal address or name) */
    uint16_t server_port;     /* usually 53 */
    const char *zone;         /* optional; found by an SOA query when NULL */
    picoacme_tsig_key_t tsig; /* hmac-sha256 key allowed to update the zone */
    const char *resolver;     /* asked for the TXT record until it is there */
    uint16_t resolver_port;
    uint32_t timeout_s;              /* propagation timeout */
    bool tcp;                        /* DNS over TCP (RFC 7766) instead of UDP */
    const picoacme_dns_hook_t *hook; /* optional: replaces the RFC 2136 update */
} picoacme_dns01_config_t;

/* What to obtain. Strings must stay valid while the engine runs. */
typedef struct picoacme_config {
    const char *directory_url;   /* https://ca.internal/acme/directory;
                                    NULL: only picoacme_stored() */
    const char *email;           /* optional account contact */
    const picoacme_ident_t *ids; /* 1..PICOACME_MAX_IDENTIFIERS */
    size_t n_ids;
    uint16_t http01_port;    /* built-in http-01 listener; 0 = none */
    uint16_t tlsalpn01_port; /* built-in tls-alpn-01 listener; 0 = none */
    /* allowed challenge types in order of preference; n_challenges == 0
     * means {http-01}. For each authorization the first type the CA offers
     * (and that fits the identifier) is used; when it fails, the next. */
    picoacme_chall_type_t challenges[PICOACME_CHALL_TYPES];
    size_t n_challenges;
    const picoacme_dns01_config_t *dns01; /* needed for dns-01 */
    /* External Account Binding (RFC 8555 §7.3.4), for CAs that require
     * it: the key identifier and the decoded HMAC key the CA handed out. */
    const char *eab_kid;
    const uint8_t *eab_key;
    size_t eab_key_len;
} picoacme_config_t;

typedef enum picoacme_state {
    PICOACME_ST_IDLE = 0,
    PICOACME_ST_DIRECTORY,
    PICOACME_ST_NONCE,
    PICOACME_ST_ACCOUNT,
    PICOACME_ST_ORDER,
    PICOACME_ST_AUTHZ,
    PICOACME_ST_DNS_PUBLISH,   /* dns-01: zone lookup and UPDATE add */
    PICOACME_ST_DNS_PROPAGATE, /* dns-01: wait until the resolver sees it */
    PICOACME_ST_CHALLENGE,
    PICOACME_ST_POLL_AUTHZ,
    PICOACME_ST_DNS_CLEANUP, /* dns-01: UPDATE delete, success or not */
    PICOACME_ST_FINALIZE,
    PICOACME_ST_POLL_ORDER,
    PICOACME_ST_CERT,
    PICOACME_ST_STORE,
    PICOACME_ST_DONE,
    PICOACME_ST_FAILED,
    PICOACME_ST_RENEWAL_INFO, /* ARI: GET renewalInfo/<CertID> (RFC 9773 §4.1) */
    PICOACME_ST_REVOKE,       /* lifecycle: POST revokeCert (RFC 8555 §7.6) */
    PICOACME_ST_KEY_CHANGE,   /* lifecycle: POST keyChange (§7.3.5) */
    PICOACME_ST_DEACTIVATE    /* lifecycle: POST {"status":"deactivated"} (§7.3.6) */
} picoacme_state_t;

/* Static name of a state ("directory", "finalize", ...). */
const char *picoacme_state_str(picoacme_state_t s);

/* The detail of the last failure (BearSSL-style sticky error). */
typedef struct picoacme_problem {
    picoacme_err_t err;
    picoacme_state_t state; /* the step that failed */
    uint16_t http_status;   /* 0 when no HTTP answer was involved */
    char type[64];          /* problem type without the
                               "urn:ietf:params:acme:error:" prefix */
    char detail[160];       /* the problem's detail, truncated */
} picoacme_problem_t;

#define PICOACME_EV_READ    1U
#define PICOACME_EV_WRITE   2U
#define PICOACME_WAIT_SOCKS 6U

/* What picoacme_step() waits for: any of the sockets becoming ready as
 * flagged, or timeout_ms passing (UINT32_MAX = no timer). */
typedef struct picoacme_wait {
    picoacme_sock_t sock[PICOACME_WAIT_SOCKS];
    uint8_t events[PICOACME_WAIT_SOCKS];
    uint8_t count;
    uint32_t timeout_ms;
} picoacme_wait_t;

/* Counters for tests and the bench. */
typedef struct picoacme_stats {
    uint32_t requests;    /* HTTP requests sent to the CA */
    uint32_t connections; /* TCP (and TLS) connections opened to the CA */
    uint32_t bad_nonces;  /* badNonce answers retried */
    uint32_t polls;       /* authorization/order polls */
} picoacme_stats_t;

/* What the store holds, from picoacme_stored(). */
typedef struct picoacme_stored_info {
    const char *chain_pem; /* points into the context; valid until the next call */
    size_t chain_len;
    int64_t not_before_s;
    int64_t not_after_s;
    /* not_before + lifetime * PICOACME_RENEW_PERMILLE / 1000, or, when ari,
     * the point picked in the CA's suggested window (RFC 9773 §4.2) */
    int64_t renew_at_s;
    bool has_account;
    bool ari;               /* renew_at_s comes from the CA's renewalInfo */
    int64_t ari_retry_at_s; /* when ari: ask the CA again at this time
                               (its Retry-After, default 6 h, kept in
                               [1 min, 1 day]), PICOACME_TIME_UNKNOWN when
                               the time was unknown */
} picoacme_stored_info_t;

/* Longest ARI CertID kept (RFC 9773 §4.1): base64url of a keyIdentifier of
 * up to 32 bytes, ".", base64url of a serial of up to 36 bytes, NUL. */
#define PICOACME_ARI_CERTID_MAX 96U

/* ---- the context ------------------------------------------------------ */
typedef struct picoacme_ctx {
    picoacme_config_t cfg;
    picoacme_ports_t ports;
    picoacme_state_t state;
    picoacme_state_t resume; /* state to return to after NONCE */
    picoacme_problem_t problem;
    picoacme_stats_t stats;

    /* endpoints, RFC 8555 §7.1.1 */
    char new_nonce[PICOACME_URL_MAX];
    char new_account[PICOACME_URL_MAX];
    char new_order[PICOACME_URL_MAX];
    char account_url[PICOACME_URL_MAX];
    char order_url[PICOACME_URL_MAX];
    char finalize_url[PICOACME_URL_MAX];
    char cert_url[PICOACME_URL_MAX];
    char chall_url[PICOACME_URL_MAX];
    char authz_url[PICOACME_MAX_IDENTIFIERS][PICOACME_URL_MAX];
    char token[PICOACME_MAX_IDENTIFIERS][PICOACME_TOKEN_MAX];
    char thumbprint[44];
    char nonce[PICOACME_NONCE_MAX];
    uint8_t n_authz;
    uint8_t authz_idx;
    bool account_key_loaded; /* account key came from the store */
    bool only_existing;      /* next newAccount uses onlyReturnExisting */
    bool finalize_again;     /* orderNotReady: finalize once ready */

    /* connection to the CA */
    char conn_host[PICOACME_NAME_MAX];
    uint16_t conn_port;
    bool conn_tls;
    bool conn_reused; /* the exchange runs on a kept-alive connection */
    bool conn_retried;
    picoacme_sock_t sock;

    /* the exchange in flight */
    uint8_t phase;
    uint8_t want; /* PICOACME_EV_* the exchange waits for */
    size_t tx_start;
    size_t tx_off;
    size_t tx_end;
    size_t rx_len;
    picoacme_http_resp_t resp;
    uint32_t deadline_ms;
    bool timer; /* deadline_ms is a wake-up time */
    uint16_t bad_nonce_left;
    uint8_t rate_limit_left;
    uint16_t polls_left;
    uint32_t backoff_ms;

    /* time: the CA's Date header when the RTC is unknown */
    int64_t date_s;
    uint32_t date_mono_ms;

    /* http-01 responder */
    picoacme_sock_t h01_lsock;
    picoacme_sock_t h01_sock;
    size_t h01_len;
    size_t h01_sent;
    size_t h01_out;
    uint32_t h01_deadline_ms;
    uint32_t h01_served; /* validations answered (http-01, tls-alpn-01) */
    uint32_t h01_seen;   /* h01_served when last looked at */
    uint8_t h01_buf[384];

    /* the challenge in progress */
    uint8_t chall;  /* picoacme_chall_type_t */
    uint8_t id_idx; /* cfg.ids index of the current authorization */
    bool authz_ip;
    bool authz_wildcard;
    bool retry_order; /* a challenge failed: new order, next type */
    bool chall_key;   /* PICOACME_KEY_CHALLENGE generated */
    char authz_name[PICOACME_NAME_MAX];
    uint8_t failed[PICOACME_MAX_IDENTIFIERS]; /* bit per challenge type that failed */
    picoacme_err_t final_err;                 /* failure held back for the dns-01 clean-up */
    uint8_t orders;                           /* orders made in this issuance */

#if PICOACME_ARI
    /* ACME Renewal Information (RFC 9773); in RAM only, asked again after
     * a reboot */
    char ari_certid[PICOACME_ARI_CERTID_MAX]; /* CertID of the stored certificate */
    int64_t ari_renew_at_s;                   /* picked in the CA's window */
    int64_t ari_retry_at_s;
    bool ari_valid;    /* ari_renew_at_s / ari_retry_at_s hold for ari_certid */
    bool ari_run;      /* the exchange is picoacme_ari_start()'s */
    bool ari_offered;  /* the directory names a renewalInfo resource */
    bool ari_replaces; /* newOrder carries "replaces": ari_certid (§5) */
#endif

#if PICOACME_LIFECYCLE
    /* account and certificate lifecycle (RFC 8555 §7.3.5, §7.3.6, §7.6) */
    picoacme_state_t lc_next;      /* state after the account lookup; IDLE: issuance */
    int lc_reason;                 /* revocation reason code, -1: none */
    char lc_url[PICOACME_URL_MAX]; /* keyChange or revokeCert */
#endif

    /* dns-01 */
    picoacme_sock_t dns_sock;
    uint8_t dns_step;
    uint8_t dns_tries;
    bool dns_published;
    uint16_t dns_id;
    uint32_t dns_deadline_ms; /* retransmission */
    uint32_t dns_until_ms;    /* propagation timeout */
    uint32_t dns_backoff_ms;
    size_t dns_len; /* message at tx + 2 */
    size_t dns_off; /* TCP: bytes sent of tx[0, dns_len + 2) */
    size_t dns_rx;  /* TCP: bytes of the answer in rx */
    uint8_t dns_mac[32];
    char dns_zone[PICOACME_NAME_MAX];
    char dns_fqdn[PICOACME_NAME_MAX + 16];
    char dns_txt[48];

    /* tls-alpn-01 responder */
    picoacme_sock_t alpn_lsock;
    picoacme_sock_t alpn_sock;
    uint32_t alpn_deadline_ms;
    bool alpn_open;
    size_t alpn_cert_len;
#if PICOACME_TLSALPN01
    uint8_t alpn_cert[PICOACME_ALPN_CERT_MAX];
#endif

    /* buffers */
    uint8_t rx[PICOACME_RX_BUF_SIZE];
    uint8_t tx[PICOACME_TX_BUF_SIZE];
    char work[PICOACME_WORK_BUF_SIZE];
    picoacme_json_tok_t tok[PICOACME_JSON_TOKENS];
} picoacme_ctx_t;

/* Prepare ctx (which may be uninitialised) for cfg and ports; checks the
 * configuration (identifiers, URL). Does no I/O. */
picoacme_err_t picoacme_init(picoacme_ctx_t *ctx, const picoacme_config_t *cfg,
                             const picoacme_ports_t *ports);

/* Begin obtaining a certificate for cfg->ids: loads the account from the
 * store when one exists for this directory (its key is imported into the
 * crypto port), otherwise a new account key is generated. A fresh
 * certificate key is always generated. Opens the http-01 listener. With
 * PICOACME_ARI, when the store holds a certificate from this directory
 * with an authorityKeyIdentifier and the CA's directory names renewalInfo,
 * the newOrder carries "replaces": its CertID (RFC 9773 §5); an
 * alreadyReplaced problem or a 409 answer to it makes the engine order
 * once more without "replaces". */
picoacme_err_t picoacme_issue_start(picoacme_ctx_t *ctx);

/* Pump the engine. See the file comment. */
picoacme_err_t picoacme_step(picoacme_ctx_t *ctx, picoacme_wait_t *wait);

/* Stop and release sockets (also after success or failure). */
void picoacme_abort(picoacme_ctx_t *ctx);

/* The last failure's detail. */
const picoacme_problem_t *picoacme_last_problem(const picoacme_ctx_t *ctx);

/* After picoacme_step() returned PICOACME_OK: the issued chain (PEM, leaf
 * first), valid until the context is used again. */
picoacme_err_t picoacme_result(const picoacme_ctx_t *ctx, const char **pem, size_t *len);

/* Read the store: the chain, its validity and the renewal time. The
 * certificate key is imported into slot PICOACME_KEY_CERT and the account
 * key into PICOACME_KEY_ACCOUNT when the crypto port supports import.
 * PICOACME_ERR_NOT_FOUND when no certificate was ever stored. */
picoacme_err_t picoacme_stored(picoacme_ctx_t *ctx, picoacme_stored_info_t *info);

/* ACME Renewal Information (RFC 9773), PICOACME_ARI. Begin asking the CA
 * when to renew the stored certificate: the directory, then an
 * unauthenticated GET of <renewalInfo>/<CertID>, pumped by picoacme_step()
 * like an issuance. When that ends with PICOACME_OK, picoacme_stored()
 * reports a renew_at_s picked uniformly at random in the CA's suggested
 * window (the current time when that point has passed), ari true and
 * ari_retry_at_s; when the CA's directory has no renewalInfo it also ends
 * with PICOACME_OK and picoacme_stored() keeps the lifetime fraction (ari
 * false). Any failure (an error from picoacme_step(), the problem in
 * picoacme_last_problem()) leaves the fraction in place too. Returns
 * PICOACME_ERR_NOT_FOUND when nothing is stored, PICOACME_ERR_UNSUPPORTED
 * when the stored certificate has no authorityKeyIdentifier (no CertID can
 * be formed) or ARI is not built in. The window lives in the context only:
 * after a reboot, ask again. Opens no listener, generates no key. */
picoacme_err_t picoacme_ari_start(picoacme_ctx_t *ctx);

/* Lifecycle (RFC 8555), PICOACME_LIFECYCLE. Each begins an exchange
 * pumped by picoacme_step() like an issuance: the directory, then the
 * stored account of this directory is looked up (newAccount with
 * onlyReturnExisting, signed with its stored key; a missing account is an
 * error, never created), then the one request below. PICOACME_OK from
 * picoacme_step() means the CA accepted it. Each returns
 * PICOACME_ERR_NOT_FOUND when the store holds no account (key) of this
 * directory, PICOACME_ERR_UNSUPPORTED when not built in. No listener is
 * opened; picoacme_result() is PICOACME_ERR_STATE afterwards.
 *
 * Revoke the stored leaf certificate (§7.6), signed with the account key
 * (kid). reason: an RFC 5280 §5.3.1 CRLReason code (0..10 except 7), or
 * -1 to send none. PICOACME_ERR_NOT_FOUND also when no certificate is
 * stored. The store keeps the record (and the revoked certificate). */
picoacme_err_t picoacme_revoke_start(picoacme_ctx_t *ctx, int reason);

/* Account key rollover (§7.3.5): a new key is generated in slot
 * PICOACME_KEY_CHALLENGE; the inner JWS {"account", "oldKey"} is signed by
 * it (protected alg, jwk, url; no nonce), the outer one by the old key
 * (kid) to keyChange. On the CA's 200 the new key is imported into
 * PICOACME_KEY_ACCOUNT and the store record is rewritten with it (the A/B
 * store keeps the old record until the new one is complete). When that
 * write fails, picoacme_step() returns the store's error: the CA already
 * knows only the new key, which stays in PICOACME_KEY_ACCOUNT. */
picoacme_err_t picoacme_key_rollover_start(picoacme_ctx_t *ctx);

/* Deactivate the stored account (§7.3.6): POST {"status":"deactivated"}
 * to the account URL; the CA's answer must say "deactivated". The store
 * keeps the record; the CA refuses that account from then on. */
picoacme_err_t picoacme_account_deactivate_start(picoacme_ctx_t *ctx);

/* The ARI CertID of a parsed certificate (RFC 9773 §4.1):
 * base64url(keyIdentifier of the authorityKeyIdentifier) "." base64url(the
 * serial number's DER INTEGER contents, a leading 00 included), written
 * NUL-terminated to out. PICOACME_ERR_NOT_FOUND without an AKI key
 * identifier or serial, PICOACME_ERR_NOSPACE when it does not fit cap. */
picoacme_err_t picoacme_ari_certid(const picoacme_x509_t *c, char *out, size_t cap,
                                   size_t *out_len);

/* Renewal time for a certificate valid [not_before, not_after]. */
int64_t picoacme_renew_at(int64_t not_before_s, int64_t not_after_s);

/* The current time in Unix seconds: the clock port's wall clock, or the
 * last CA Date header plus the monotonic time since, or
 * PICOACME_TIME_UNKNOWN. */
int64_t picoacme_now(const picoacme_ctx_t *ctx);

/* http-01 for an appliance's own web server: given the request path
 * ("/.well-known/acme-challenge/<token>"), write the key authorization to
 * out. PICOACME_ERR_NOT_FOUND for any other path or an unknown token. A
 * served token wakes the engine's authorization poll early. */
picoacme_err_t picoacme_http01_lookup(picoacme_ctx_t *ctx, const char *path, size_t path_len,
                                      char *out, size_t cap, size_t *out_len);

/* tls-alpn-01 for an appliance's own HTTPS server: after peeking a
 * ClientHello that picoacme_tls_clienthello_alpn() says offers
 * "acme-tls/1", hand the accepted transport socket over; the engine
 * answers the handshake with the challenge certificate and closes the
 * socket. PICOACME_ERR_STATE when no tls-alpn-01 challenge is pending or
 * another validation is being served (the caller keeps the socket). */
picoacme_err_t picoacme_tlsalpn_adopt(picoacme_ctx_t *ctx, picoacme_sock_t sock);

#endif
