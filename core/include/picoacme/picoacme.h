/*
 * picoacme.h - the ACME (RFC 8555) engine.
 *
 * A state machine the caller pumps: picoacme_step() never blocks. All
 * memory is the caller's picoacme_ctx_t; its size follows from the options
 * in picoacme_config_defaults.h, and it may be a static global. Nothing here
 * allocates, sleeps or touches the OS: the ports do (picoacme_port.h).
 *
 * The step loop, for a superloop, an RTOS task or a poll() loop alike:
 *
 *     static picoacme_ctx_t ctx;        // ~13..20 KiB: keep it off the stack
 *     picoacme_wait_t wait;
 *     picoacme_err_t e;
 *
 *     e = picoacme_init(&ctx, &cfg, &ports);          // checks cfg, no I/O
 *     if (e == PICOACME_OK) {
 *         e = picoacme_issue_start(&ctx);             // or ari/revoke/... start
 *     }
 *     while (picoacme_err_is_pending(e)) {            // AGAIN / WANT_READ / WANT_WRITE
 *         // sleep until one of wait.sock[0..wait.count) is ready for
 *         // wait.events[i] (PICOACME_EV_READ/WRITE) or wait.timeout_ms passed
 *         // (UINT32_MAX: no timer); on lwIP/bare metal just poll the stack
 *         platform_wait(&wait);
 *         e = picoacme_step(&ctx, &wait);
 *     }
 *     if (e == PICOACME_OK) {
 *         const char *pem; size_t len;
 *         picoacme_result(&ctx, &pem, &len);          // chain, leaf first; stored already
 *     } else {
 *         const picoacme_problem_t *p = picoacme_last_problem(&ctx);
 *         log("%s failed: %s (%s, HTTP %u): %s", picoacme_state_str(p->state),
 *             picoacme_err_str(p->err), p->type, p->http_status, p->detail);
 *     }
 *     picoacme_abort(&ctx);                           // release sockets (always safe)
 *
 * Threading: one context belongs to one task. picoacme_step() and every
 * *_start() function must be called from that task. Only
 * picoacme_http01_lookup() and picoacme_tlsalpn_adopt() are meant for another
 * task (the appliance's own web server); define PICOACME_LOCK(ctx) and
 * PICOACME_UNLOCK(ctx) (in the PICOACME_CONFIG_FILE) to a mutex and the
 * engine takes it around those two and around picoacme_step(). They are
 * empty by default (coreMQTT's MQTT_PRE_SEND_HOOK style).
 *
 * Callers never read or write context fields: use the functions below
 * (picoacme_stats(), picoacme_account_url(), picoacme_state(), ...).
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
#include "picoacme_store.h"
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
    /* Total time one run (an issuance, an ARI question, a lifecycle call)
     * may take, waits for Retry-After included; 0 means
     * PICOACME_RUN_BUDGET_S. Running out fails with PICOACME_ERR_TIMEOUT. */
    uint32_t budget_s;
    /* Certificate profile (draft-ietf-acme-profiles): the name sent as
     * "profile" in every newOrder; it must be one the directory lists in
     * meta.profiles, else the run fails before any order. NULL: none (the
     * CA's default). At most PICOACME_PROFILE_MAX - 1 printable bytes. */
    const char *profile;
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
    PICOACME_ST_DEACTIVATE,   /* lifecycle: POST {"status":"deactivated"} (§7.3.6) */
    PICOACME_ST_COUNT
} picoacme_state_t;

/* What a run does: set by the start function, one per run. */
typedef enum picoacme_op {
    PICOACME_OP_NONE = 0,
    PICOACME_OP_ISSUE,      /* picoacme_issue_start() */
    PICOACME_OP_ARI,        /* picoacme_ari_start() */
    PICOACME_OP_REVOKE,     /* picoacme_revoke_start() */
    PICOACME_OP_KEY_CHANGE, /* picoacme_key_rollover_start() */
    PICOACME_OP_DEACTIVATE, /* picoacme_account_deactivate_start() */
    PICOACME_OP_DIRECTORY   /* picoacme_directory_start() */
} picoacme_op_t;

/* Static name of a state ("directory", "finalize", ...), "?" for others. */
const char *picoacme_state_str(picoacme_state_t s);

/* The detail of the last failure (BearSSL-style sticky error). type and
 * detail come from the CA: control characters in them are escaped ("\n",
 * "\x1b") before they are kept, so they are safe to print on one line. */
typedef struct picoacme_problem {
    picoacme_err_t err;
    picoacme_state_t state;                   /* the step that failed */
    uint16_t http_status;                     /* 0 when no HTTP answer was involved */
    char type[64];                            /* problem type without the
                                                 "urn:ietf:params:acme:error:" prefix */
    char detail[PICOACME_PROBLEM_DETAIL_MAX]; /* the problem's detail, cut to
                                               PICOACME_PROBLEM_DETAIL_MAX */
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

/* Counters of the current run, for tests and the bench. */
typedef struct picoacme_stats {
    uint32_t requests;    /* HTTP requests sent to the CA */
    uint32_t connections; /* TCP (and TLS) connections opened to the CA */
    uint32_t bad_nonces;  /* badNonce answers retried */
    uint32_t polls;       /* authorization/order polls */
    uint32_t io_retries;  /* idempotent requests sent again after a transport failure */
} picoacme_stats_t;

/* What the store holds, from picoacme_stored(). */
typedef struct picoacme_stored_info {
    /* points into the context, valid until the next call; NULL when the
     * chain is longer than what the context's rx holds behind the record's
     * other fields: picoacme_stored_chain_read() reads it from the store */
    const char *chain_pem;
    size_t chain_len; /* the whole chain's length, also when chain_pem is NULL */
    int64_t not_before_s;
    int64_t not_after_s;
    /* not_before + lifetime * PICOACME_RENEW_PERMILLE / 1000, or, when ari,
     * the point picked in the CA's suggested window (RFC 9773 §4.2) */
    int64_t renew_at_s;
    bool has_account;       /* the record holds an account key and URL */
    bool ari;               /* renew_at_s comes from the CA's renewalInfo */
    int64_t ari_retry_at_s; /* when ari: ask the CA again at this time
                               (its Retry-After, default 6 h, kept in
                               [1 min, 1 day]), PICOACME_TIME_UNKNOWN when
                               the time was unknown */
} picoacme_stored_info_t;

/* Longest ARI CertID kept (RFC 9773 §4.1): base64url of a keyIdentifier of
 * up to 32 bytes, ".", base64url of a serial of up to 36 bytes, NUL. */
#define PICOACME_ARI_CERTID_MAX 96U

/* ---- the context ------------------------------------------------------
 * Callers SHALL NOT access the fields (BearSSL's rule): they change between
 * releases. The struct is complete only so that it can be a static global. */

/* The connection to the CA and the one HTTP exchange in flight. */
typedef struct picoacme_conn {
    char host[PICOACME_NAME_MAX];
    uint16_t port;
    bool tls;
    bool reused; /* the exchange runs on a kept-alive connection */
    bool retried;
    bool idempotent; /* the request may be sent again after a failure */
    uint8_t step;    /* connect, send, receive */
    uint8_t want;    /* PICOACME_EV_* the exchange waits for */
    picoacme_sock_t sock;
    size_t tx_start;
    size_t tx_off;
    size_t tx_end;
    size_t rx_len;
    picoacme_http_resp_t resp;
} picoacme_conn_t;

/* The CA's directory (RFC 8555 §7.1.1), the account, and the CA's clock;
 * kept across runs of one context. */
typedef struct picoacme_dir {
    char new_nonce[PICOACME_URL_MAX];
    char new_account[PICOACME_URL_MAX];
    char new_order[PICOACME_URL_MAX];
    char account_url[PICOACME_URL_MAX];
#if PICOACME_ARI
    char renewal_info[PICOACME_URL_MAX]; /* "" when the CA offers none */
#endif
    char thumbprint[44]; /* of the account key (§8.1) */
    bool ari_offered;    /* the directory names a renewalInfo resource */
    bool loaded;         /* the URLs above hold: runs skip the directory GET */
    bool from_record;    /* they came from the store: a 404 re-reads the directory */
    bool eab_required;   /* meta.externalAccountRequired */
    bool profile_listed; /* meta.profiles lists cfg.profile */
    int64_t date_s;      /* the CA's last Date header, when the RTC is unknown */
    uint32_t date_mono_ms;
} picoacme_dir_t;

/* dns-01 of the current authorization (inside an issuance run). */
typedef struct picoacme_dns01_run {
    bool published; /* the TXT record may be out there: clean up */
    uint8_t step;   /* publish: 0 SOA query, 1 UPDATE */
    uint32_t until_ms;
    uint32_t backoff_ms;
    char zone[PICOACME_NAME_MAX];
    char fqdn[PICOACME_NAME_MAX + 16];
    char txt[48];
} picoacme_dns01_run_t;

/* The authorization URLs of one order, packed one after the other (NUL
 * after each): room for PICOACME_MAX_IDENTIFIERS URLs of full length up to
 * 4 identifiers; beyond, 96 bytes on average (a CA's authz URLs are ~70). */
#if PICOACME_MAX_IDENTIFIERS <= 4U
#define PICOACME_AUTHZ_URLS_SIZE (PICOACME_MAX_IDENTIFIERS * PICOACME_URL_MAX)
#else
#define PICOACME_AUTHZ_URLS_SIZE (4U * PICOACME_URL_MAX + (PICOACME_MAX_IDENTIFIERS - 4U) * 96U)
#endif

/* An issuance (§7.4 .. §7.4.2). */
typedef struct picoacme_issue_run {
    char order_url[PICOACME_URL_MAX];
    char finalize_url[PICOACME_URL_MAX];
    char cert_url[PICOACME_URL_MAX];
    char chall_url[PICOACME_URL_MAX];
    char authz_urls[PICOACME_AUTHZ_URLS_SIZE]; /* packed, NUL after each */
    char token[PICOACME_TOKEN_MAX];            /* of the current authorization */
    char authz_name[PICOACME_NAME_MAX];
    uint8_t failed[PICOACME_MAX_IDENTIFIERS]; /* bit per challenge type that failed */
    uint8_t n_authz;
    uint8_t authz_idx;
    uint8_t chall;   /* picoacme_chall_type_t */
    uint8_t id_idx;  /* cfg.ids index of the current authorization */
    uint16_t orders; /* orders made in this issuance */
    bool authz_ip;
    bool authz_wildcard;
    bool retry_order;    /* a challenge failed: new order, next type */
    bool chall_key;      /* PICOACME_KEY_CHALLENGE generated */
    bool finalize_again; /* orderNotReady: finalize once ready */
    bool ari_replaces;   /* newOrder carries "replaces": ari.certid (RFC 9773 §5) */
    /* the record being written as the chain is downloaded (record.c) */
    picoacme_store_writer_t store;
    size_t chain_at;  /* the chain's offset in its payload */
    size_t chain_len; /* chain bytes written */
#if PICOACME_DNS01
    picoacme_dns01_run_t dns;
#endif
} picoacme_issue_run_t;

/* A lifecycle call (§7.3.5, §7.3.6, §7.6). */
typedef struct picoacme_lc_run {
    char url[PICOACME_URL_MAX]; /* keyChange or revokeCert */
    int reason;                 /* revocation reason code, -1: none */
} picoacme_lc_run_t;

/* Everything a start function resets: one run, one memset. */
typedef struct picoacme_run {
    picoacme_op_t op;
    picoacme_state_t state;
    picoacme_state_t resume; /* state to return to after NONCE */
    picoacme_problem_t problem;
    picoacme_stats_t stats;
    char nonce[PICOACME_NONCE_MAX];
    uint8_t phase;           /* what the state waits for: nothing, a timer, the CA, DNS */
    uint32_t deadline_ms;    /* of the timer or of the exchange in flight */
    uint32_t budget_end_ms;  /* the run's time budget ends here */
    uint32_t backoff_ms;     /* next poll or retry delay */
    uint16_t bad_nonce_left; /* per request */
    uint16_t polls_left;
    uint8_t rate_limit_left; /* per request */
    uint8_t io_retries_left; /* per request */
    bool account_key_loaded; /* the account key came from the store */
    bool only_existing;      /* next newAccount uses onlyReturnExisting */
    bool account_known;      /* the stored account URL is used without a lookup */
    bool account_save;       /* nothing stored: a new account is saved at once */
    uint32_t served;         /* validations answered (http-01, tls-alpn-01) */
    uint32_t served_seen;    /* `served` when last looked at */
    union {
        picoacme_issue_run_t issue; /* PICOACME_OP_ISSUE */
        picoacme_lc_run_t lc;       /* PICOACME_OP_REVOKE, _KEY_CHANGE, _DEACTIVATE */
    } u;
} picoacme_run_t;

/* The built-in http-01 responder (§8.3). */
typedef struct picoacme_h01 {
    picoacme_sock_t lsock;
    picoacme_sock_t sock;
    size_t len;
    size_t sent;
    size_t out;
    uint32_t deadline_ms;
    uint8_t buf[384];
} picoacme_h01_t;

/* The built-in tls-alpn-01 responder (RFC 8737). */
typedef struct picoacme_alpn {
    picoacme_sock_t lsock;
    picoacme_sock_t sock;
    uint32_t deadline_ms;
    bool open;
    size_t cert_len;
#if PICOACME_TLSALPN01
    uint8_t cert[PICOACME_ALPN_CERT_MAX];
#endif
} picoacme_alpn_t;

/* The DNS message in flight (dns-01 over UDP or TCP). */
typedef struct picoacme_dns_xfer {
    picoacme_sock_t sock;
    uint16_t id;
    uint8_t tries;
    uint32_t deadline_ms; /* retransmission */
    size_t len;           /* message at tx + 2 */
    size_t off;           /* TCP: bytes sent of tx[0, len + 2) */
    size_t rx;            /* TCP: bytes of the answer in rx */
    uint8_t mac[32];      /* TSIG MAC of the request */
} picoacme_dns_xfer_t;

/* ACME Renewal Information (RFC 9773); in RAM only, asked again after a
 * reboot. */
typedef struct picoacme_ari {
    char certid[PICOACME_ARI_CERTID_MAX]; /* CertID of the stored certificate */
    int64_t renew_at_s;                   /* picked in the CA's window */
    int64_t retry_at_s;
    int64_t start_s; /* the CA's suggestedWindow (RFC 9773 §4.2) */
    int64_t end_s;
    bool valid; /* renew_at_s / retry_at_s hold for certid */
} picoacme_ari_t;

/* Buffer owners (checked with PICOACME_ASSERT; see core/src/internal.h). */
typedef struct picoacme_owners {
    uint8_t rx;
    uint8_t tx;
    uint8_t work;
} picoacme_owners_t;

/* The parts used on every step come first: small offsets make short code. */
typedef struct picoacme_ctx {
    picoacme_ports_t ports;
    picoacme_config_t cfg;
    picoacme_run_t run;
    picoacme_conn_t conn;
    picoacme_h01_t h01;
    picoacme_alpn_t alpn;
#if PICOACME_DNS01
    picoacme_dns_xfer_t dns;
#endif
    picoacme_dir_t dir;
#if PICOACME_ARI
    picoacme_ari_t ari;
#endif
#if PICOACME_ASSERT_ENABLE
    picoacme_owners_t own;
#endif
    /* buffers: who owns which when is in core/src/internal.h */
    uint8_t rx[PICOACME_RX_BUF_SIZE];
    uint8_t tx[PICOACME_TX_BUF_SIZE];
    char work[PICOACME_WORK_BUF_SIZE];
    picoacme_json_tok_t tok[PICOACME_JSON_TOKENS];
} picoacme_ctx_t;

/* ---- set-up and the pump ---------------------------------------------- */

/* Prepare ctx for cfg and ports. Does no I/O.
 * ctx:   any memory, uninitialised is fine; the caller owns it.
 * cfg:   copied; the strings and arrays it points to are not copied and
 *        must stay valid while ctx is used.
 * ports: copied; the port structs must stay valid while ctx is used.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (a NULL pointer, a
 * missing port, a bad identifier, URL, e-mail, EAB setting or profile name);
 * PICOACME_ERR_UNSUPPORTED (EAB configured but not built in). */
picoacme_err_t picoacme_init(picoacme_ctx_t *ctx, const picoacme_config_t *cfg,
                             const picoacme_ports_t *ports);

/* Begin obtaining a certificate for cfg->ids (RFC 8555 §7.3-§7.4.2).
 * Loads the account from the store when one exists for this directory: its
 * key is imported into the crypto port and its stored URL is the kid at
 * once, with no newAccount lookup (a CA that answers accountDoesNotExist or
 * unauthorized gets the lookup, and a new account if it has none).
 * Otherwise a new account key is generated; when nothing at all is stored,
 * the new account (directory, URL, key; no certificate) is written to the
 * store as soon as the CA made it, so an enrolment that fails later is
 * retried with the same account, not a new one per attempt (a record of
 * another CA is never replaced before a certificate arrives).
 * A fresh certificate key is always generated. Opens the
 * http-01/tls-alpn-01 listeners that cfg names. With PICOACME_ARI, a
 * renewal at the same CA names the stored certificate in "replaces"
 * (RFC 9773 §5); alreadyReplaced or 409 makes it order once more without.
 * Requests are saved where the protocol allows (issue 8): the directory
 * read by an earlier run of this context is used again, and so is the
 * CA's last Replay-Nonce (badNonce brings a fresh one); after a reboot the
 * record's copy of the directory's URLs is used when the account URL is
 * stored and cfg->profile is the one the record was ordered with (a 404
 * to one of them reads the directory anew). A renewal then takes 7
 * requests on a running context, 8 after a reboot; a first issuance 10.
 * With cfg->profile, a directory whose meta.profiles does not list it
 * fails the run with PICOACME_ERR_PARAM (state DIRECTORY) before any order.
 * Returns one of: PICOACME_OK (pump with picoacme_step());
 * PICOACME_ERR_PARAM (no identifiers or directory, a challenge setting that
 * cannot work); PICOACME_ERR_UNSUPPORTED (a configured challenge or
 * listener the build or the ports lack); PICOACME_ERR_CRYPTO;
 * PICOACME_ERR_IO (a listener port is taken). The detail of a failure is in
 * picoacme_last_problem(). */
picoacme_err_t picoacme_issue_start(picoacme_ctx_t *ctx);

/* Begin one GET of the directory (RFC 8555 §7.1.1), pumped by
 * picoacme_step(): the cheapest question to the CA, for a device without a
 * wall clock to learn the time from its Date header (picoacme_now() has it
 * afterwards) and to check that the CA answers. Opens no listener,
 * generates no key.
 * Returns one of: PICOACME_OK (pump with picoacme_step());
 * PICOACME_ERR_PARAM (no ctx or directory). */
picoacme_err_t picoacme_directory_start(picoacme_ctx_t *ctx);

/* Pump the engine: does the work that is ready, never blocks.
 * wait: filled with what to wait for before the next call (may be NULL for
 *       a caller that simply calls again soon).
 * Returns one of: PICOACME_OK (the run finished: for an issuance the chain
 * is stored and picoacme_result() has it); PICOACME_AGAIN,
 * PICOACME_WANT_READ, PICOACME_WANT_WRITE (keep going:
 * picoacme_err_is_pending()); any PICOACME_ERR_* (the run failed:
 * picoacme_err_is_error(), detail in picoacme_last_problem()). A finished
 * run keeps returning its result. PICOACME_ERR_STATE before a start. */
picoacme_err_t picoacme_step(picoacme_ctx_t *ctx, picoacme_wait_t *wait);

/* Stop the run and release every socket (safe at any time, also after
 * success or failure, and on a zeroed context picoacme_init() never saw). A dns-01 TXT record
 * published by an aborted run is left in the zone (no network I/O happens here). The stored
 * certificate and picoacme_result() of a finished issuance stay. */
void picoacme_abort(picoacme_ctx_t *ctx);

/* ---- results and queries ---------------------------------------------- */

/* The last failure's detail. Points into ctx, valid until the next start. */
const picoacme_problem_t *picoacme_last_problem(const picoacme_ctx_t *ctx);

/* The state the engine is in (PICOACME_ST_DONE, PICOACME_ST_FAILED, ...). */
picoacme_state_t picoacme_state(const picoacme_ctx_t *ctx);

/* The counters of the current (or last) run. Points into ctx. */
const picoacme_stats_t *picoacme_stats(const picoacme_ctx_t *ctx);

/* The account URL (the "kid") learned from the CA in this context, "" when
 * none yet. Points into ctx. */
const char *picoacme_account_url(const picoacme_ctx_t *ctx);

/* After picoacme_step() returned PICOACME_OK for an issuance: the issued
 * chain (PEM, leaf first). *pem points into ctx (rx) and stays valid until
 * the context is used again.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM; PICOACME_ERR_STATE (no
 * finished issuance); PICOACME_ERR_NOSPACE (the chain is longer than
 * PICOACME_RX_BUF_SIZE: it is stored whole, *pem and *len give its first
 * part; read the rest with picoacme_stored_chain_read()). */
picoacme_err_t picoacme_result(const picoacme_ctx_t *ctx, const char **pem, size_t *len);

/* Read the store (a pure read: no key is touched): the chain, its validity
 * and the renewal time. info->chain_pem points into ctx (rx), valid until
 * the next call on ctx.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM; PICOACME_ERR_NOT_FOUND
 * (nothing stored, or no certificate in the record); PICOACME_ERR_PARSE
 * (the stored leaf cannot be read); PICOACME_ERR_STORAGE. */
picoacme_err_t picoacme_stored(picoacme_ctx_t *ctx, picoacme_stored_info_t *info);

/* Read the stored chain (PEM, leaf first) in pieces, straight from the
 * store, whatever its length (picoacme_stored() points at it only when it
 * fits the context's rx).
 *
 * off:        first chain byte wanted
 * buf, cap:   the caller's buffer (buf may be NULL if cap is 0); nothing
 *             is kept after the call
 * n:          gets the bytes read: min(cap, *chain_len - off), 0 at the end
 * chain_len:  gets the whole chain's length
 *
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (ctx, n or chain_len
 * NULL); PICOACME_ERR_NOT_FOUND (nothing stored, or no certificate in the
 * record); PICOACME_ERR_PARSE (the record's TLVs are malformed);
 * PICOACME_ERR_STORAGE. */
picoacme_err_t picoacme_stored_chain_read(picoacme_ctx_t *ctx, size_t off, uint8_t *buf, size_t cap,
                                          size_t *n, size_t *chain_len);

/* Import the stored keys into the crypto port: the certificate key into
 * PICOACME_KEY_CERT and the account key into PICOACME_KEY_ACCOUNT (for a
 * TLS server that serves the stored certificate, or a port that keeps no
 * keys of its own). A port that cannot import keeps what it has.
 * Returns one of: PICOACME_OK (the certificate key was imported);
 * PICOACME_ERR_NOT_FOUND (nothing stored, or no certificate key);
 * PICOACME_ERR_CRYPTO (the port refused the key); PICOACME_ERR_PARAM. */
picoacme_err_t picoacme_stored_load_keys(picoacme_ctx_t *ctx);

/* Renewal time for a certificate valid [not_before, not_after]:
 * not_before + lifetime * PICOACME_RENEW_PERMILLE / 1000. */
int64_t picoacme_renew_at(int64_t not_before_s, int64_t not_after_s);

/* The current time in Unix seconds: the clock port's wall clock, or the
 * last CA Date header plus the monotonic time since, or
 * PICOACME_TIME_UNKNOWN. */
int64_t picoacme_now(const picoacme_ctx_t *ctx);

#include "picoacme_ari.h"       /* ACME Renewal Information (RFC 9773) */
#include "picoacme_challenge.h" /* http-01 and tls-alpn-01 for the appliance's servers */
#include "picoacme_lifecycle.h" /* revocation, key rollover, deactivation */

#endif
