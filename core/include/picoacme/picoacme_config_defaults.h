/*
 * picoacme_config_defaults.h - compile-time options and their defaults.
 *
 * Every option here has a Kconfig twin CONFIG_PICOACME_<NAME> with the same
 * default (see Kconfig at the repository root). A port or application may
 * override any of them from the file named by PICOACME_CONFIG_FILE, which is
 * included first. core/ never reads CONFIG_* itself.
 */
#ifndef PICOACME_CONFIG_DEFAULTS_H
#define PICOACME_CONFIG_DEFAULTS_H

#ifdef PICOACME_CONFIG_FILE
#include PICOACME_CONFIG_FILE
#endif

/* Receive buffer: one whole HTTP response (headers + decoded body). */
#ifndef PICOACME_RX_BUF_SIZE
#define PICOACME_RX_BUF_SIZE 8192U
#endif

/* Transmit buffer: one whole HTTP request (headers + JWS body). */
#ifndef PICOACME_TX_BUF_SIZE
#define PICOACME_TX_BUF_SIZE 3072U
#endif

/* Scratch buffer for JSON payloads, CSR DER and protected headers. */
#ifndef PICOACME_WORK_BUF_SIZE
#define PICOACME_WORK_BUF_SIZE 2048U
#endif

/* Longest URL kept (directory endpoints, account, order, authz...). */
#ifndef PICOACME_URL_MAX
#define PICOACME_URL_MAX 192U
#endif

/* Longest Replay-Nonce kept. */
#ifndef PICOACME_NONCE_MAX
#define PICOACME_NONCE_MAX 80U
#endif

/* Longest host name or textual identifier. */
#ifndef PICOACME_NAME_MAX
#define PICOACME_NAME_MAX 64U
#endif

/* Identifiers (DNS names + IP addresses) in one order. */
#ifndef PICOACME_MAX_IDENTIFIERS
#define PICOACME_MAX_IDENTIFIERS 4U
#endif

/* Longest certificate profile name kept, NUL included
 * (draft-ietf-acme-profiles; picoacme_config_t.profile). */
#ifndef PICOACME_PROFILE_MAX
#define PICOACME_PROFILE_MAX 32U
#endif

/* Longest problem detail kept from the CA, NUL included
 * (picoacme_problem_t.detail; RFC 7807 "detail"). Longer ones are cut. */
#ifndef PICOACME_PROBLEM_DETAIL_MAX
#define PICOACME_PROBLEM_DETAIL_MAX 160U
#endif

/* JSON tokens for one response. */
#ifndef PICOACME_JSON_TOKENS
#define PICOACME_JSON_TOKENS 96U
#endif

/* Longest certificate chain kept in the store (PEM bytes). The chain is
 * streamed into the store as it is downloaded, so it is not bounded by
 * PICOACME_RX_BUF_SIZE: this bounds it (with the store's slot, whichever
 * is smaller) against a CA sending without end. */
#ifndef PICOACME_CERT_MAX
#define PICOACME_CERT_MAX 32768U
#endif

/* Longest ACME challenge token. */
#ifndef PICOACME_TOKEN_MAX
#define PICOACME_TOKEN_MAX 64U
#endif

/* badNonce answers retried for one request before giving up. */
#ifndef PICOACME_BADNONCE_RETRIES
#define PICOACME_BADNONCE_RETRIES 128U
#endif

/* Polls of one authorization or order before giving up. */
#ifndef PICOACME_POLL_MAX
#define PICOACME_POLL_MAX 40U
#endif

/* First poll back-off (the first poll is immediate), then doubled up to the max. */
#ifndef PICOACME_POLL_MIN_MS
#define PICOACME_POLL_MIN_MS 250U
#endif
#ifndef PICOACME_POLL_MAX_MS
#define PICOACME_POLL_MAX_MS 8000U
#endif

/* After the validator fetched an http-01 token, poll the authorization
 * this much later (it decides in the meantime); also the delay of the first
 * order poll after finalize when the CA gives no Retry-After. */
#ifndef PICOACME_POLL_SETTLE_MS
#define PICOACME_POLL_SETTLE_MS 20U
#endif

/* Longest Retry-After honoured before the engine gives up (seconds). */
#ifndef PICOACME_RETRY_AFTER_MAX_S
#define PICOACME_RETRY_AFTER_MAX_S 3600U
#endif

/* rateLimited / 503 answers honoured for one request before giving up. */
#ifndef PICOACME_RATELIMIT_RETRIES
#define PICOACME_RATELIMIT_RETRIES 3U
#endif

/* While the transport resolves a host name (connect answered
 * PICOACME_AGAIN), ask again this often (ms); the exchange deadline
 * PICOACME_IO_TIMEOUT_MS bounds the lookup. */
#ifndef PICOACME_RESOLVE_POLL_MS
#define PICOACME_RESOLVE_POLL_MS 20U
#endif

/* Deadline for one network exchange (connect, request, response). */
#ifndef PICOACME_IO_TIMEOUT_MS
#define PICOACME_IO_TIMEOUT_MS 30000U
#endif

/* Transport failures retried per request, when that is safe (nothing of
 * it went out, or it is a GET, HEAD or POST-as-GET), after a back-off of
 * PICOACME_IO_RETRY_MS, doubled each time. */
#ifndef PICOACME_IO_RETRIES
#define PICOACME_IO_RETRIES 2U
#endif
#ifndef PICOACME_IO_RETRY_MS
#define PICOACME_IO_RETRY_MS 500U
#endif

/* Time budget of one run (seconds): the default of
 * picoacme_config_t.budget_s. Waits are clipped to it; running out fails
 * with PICOACME_ERR_TIMEOUT. */
#ifndef PICOACME_RUN_BUDGET_S
#define PICOACME_RUN_BUDGET_S 600U
#endif

/* Check internal invariants (buffer ownership, legal state moves) with
 * PICOACME_ASSERT, which traps unless the config file defines it. */
#ifndef PICOACME_ASSERT_ENABLE
#define PICOACME_ASSERT_ENABLE 0
#endif

/* Lock hooks around picoacme_step(), picoacme_http01_lookup() and
 * picoacme_tlsalpn_adopt(), for an appliance whose web server runs in
 * another task (coreMQTT's hook style). Empty by default: one task. */
#ifndef PICOACME_LOCK
#define PICOACME_LOCK(ctx) ((void)(ctx))
#endif
#ifndef PICOACME_UNLOCK
#define PICOACME_UNLOCK(ctx) ((void)(ctx))
#endif

/* Renew when this fraction (per mille) of the lifetime has passed. */
#ifndef PICOACME_RENEW_PERMILLE
#define PICOACME_RENEW_PERMILLE 667U
#endif

/* Built-in challenge responders. */
#ifndef PICOACME_HTTP01
#define PICOACME_HTTP01 1
#endif

/* Built-in tls-alpn-01 responder (RFC 8737) and dns-01 (RFC 2136 + TSIG). */
#ifndef PICOACME_TLSALPN01
#define PICOACME_TLSALPN01 1
#endif
#ifndef PICOACME_DNS01
#define PICOACME_DNS01 1
#endif

/* Largest tls-alpn-01 challenge certificate (DER bytes). */
#ifndef PICOACME_ALPN_CERT_MAX
#define PICOACME_ALPN_CERT_MAX 640U
#endif

/* Check every JSON answer against the full RFC 8259 grammar before jsmn
 * tokenizes it (jsmn, even strict, accepts e.g. trailing commas). 0 relies
 * on jsmn alone, which is still bounded, and saves about 0.7 KiB. */
#ifndef PICOACME_JSON_STRICT
#define PICOACME_JSON_STRICT 1
#endif

/* Parse the Link rel="up" header of every answer (RFC 8555 §7.4.2, the
 * issuer of an alternate chain) into picoacme_http_resp_t.link_up. The
 * engine itself does not follow it; 0 leaves the Link parser out (about
 * 0.4 KiB). */
#ifndef PICOACME_HTTP_LINK
#define PICOACME_HTTP_LINK 1
#endif

/* External Account Binding (RFC 8555 §7.3.4) for CAs that require it. */
#ifndef PICOACME_EAB
#define PICOACME_EAB 1
#endif

/* ACME Renewal Information (RFC 9773): picoacme_ari_start() and
 * "replaces" in the newOrder of a renewal. 0 leaves all of it out. */
#ifndef PICOACME_ARI
#define PICOACME_ARI 1
#endif

/* Account and certificate lifecycle (RFC 8555 §7.3.5 key rollover,
 * §7.3.6 account deactivation, §7.6 revocation):
 * picoacme_key_rollover_start(), picoacme_account_deactivate_start(),
 * picoacme_revoke_start(). 0 leaves them out. */
#ifndef PICOACME_LIFECYCLE
#define PICOACME_LIFECYCLE 1
#endif

/* Keep the engine's explanatory failure sentences (picoacme_problem_t
 * detail) in the image; 0 saves about 2 KiB of flash. */
#ifndef PICOACME_ERROR_TEXT
#define PICOACME_ERROR_TEXT 1
#endif

/* Highest log level compiled in: 0 none, 1 error, 2 warning, 3 info,
 * 4 debug. Messages go to the log hook of picoacme_ports_t (when set). */
#ifndef PICOACME_LOG_LEVEL
#define PICOACME_LOG_LEVEL 3
#endif

/* The certificate keeper (picoacme_keeper.h): renewal policy, backoff,
 * ARI and failover in core. 0 leaves it out (the keeper functions answer
 * PICOACME_ERR_UNSUPPORTED / do nothing). */
#ifndef PICOACME_KEEPER
#define PICOACME_KEEPER 1
#endif

/* Keeper: failed attempts in a row with one CA before the next CA. */
#ifndef PICOACME_KEEPER_FAILOVER_AFTER
#define PICOACME_KEEPER_FAILOVER_AFTER 3U
#endif

/* Keeper: seconds on a fallback CA before the primary is tried again. */
#ifndef PICOACME_KEEPER_FAILBACK_S
#define PICOACME_KEEPER_FAILBACK_S 86400U
#endif

/* Keeper: first retry delay after a failure (seconds); it grows x8. Long
 * on purpose: the retries of a fleet meeting a CA's recovery grow with
 * log(outage / first delay) (tests/fleet/fleet_sim.c, scenario b). */
#ifndef PICOACME_KEEPER_BACKOFF_MIN_S
#define PICOACME_KEEPER_BACKOFF_MIN_S 3600U
#endif

/* Keeper: longest retry delay (seconds); never more than two thirds of
 * the certificate's remaining life. */
#ifndef PICOACME_KEEPER_BACKOFF_MAX_S
#define PICOACME_KEEPER_BACKOFF_MAX_S 28800U
#endif

/* Keeper: the renewal period is the lifetime fraction less this (per
 * mille of it); each device renews at its own random phase of it
 * (picoacme_keeper_fraction_point()). */
#ifndef PICOACME_KEEPER_JITTER_PERMILLE
#define PICOACME_KEEPER_JITTER_PERMILLE 100U
#endif

/* Keeper: a device that must learn the time first waits a random
 * 0..this many seconds after boot (a fleet rebooting at once). */
#ifndef PICOACME_KEEPER_BOOT_SPREAD_S
#define PICOACME_KEEPER_BOOT_SPREAD_S 0U
#endif

/* Keeper: longest wait it reports (seconds), so a clock set meanwhile
 * is noticed. */
#ifndef PICOACME_KEEPER_MAX_SLEEP_S
#define PICOACME_KEEPER_MAX_SLEEP_S 3600U
#endif

/* Keeper: largest encoded state (bytes, in its own store region). */
#ifndef PICOACME_KEEPER_STATE_MAX
#define PICOACME_KEEPER_STATE_MAX 320U
#endif

/* Sanity checks, lwIP style. */
#if PICOACME_RX_BUF_SIZE < 1024U
#error "PICOACME_RX_BUF_SIZE must be at least 1024"
#endif
#if PICOACME_TX_BUF_SIZE < 1024U
#error "PICOACME_TX_BUF_SIZE must be at least 1024"
#endif
#if PICOACME_PROBLEM_DETAIL_MAX < 32U || PICOACME_PROBLEM_DETAIL_MAX > 4096U
#error "PICOACME_PROBLEM_DETAIL_MAX must be between 32 and 4096"
#endif
#if PICOACME_MAX_IDENTIFIERS < 1U || PICOACME_MAX_IDENTIFIERS > 100U
#error "PICOACME_MAX_IDENTIFIERS must be between 1 and 100"
#endif
#if PICOACME_IO_RETRIES > 8U
#error "PICOACME_IO_RETRIES must be at most 8"
#endif
#if PICOACME_RUN_BUDGET_S < 10U || PICOACME_RUN_BUDGET_S > 2000000U
#error "PICOACME_RUN_BUDGET_S must be between 10 and 2000000"
#endif
#if PICOACME_RENEW_PERMILLE < 100U || PICOACME_RENEW_PERMILLE > 950U
#error "PICOACME_RENEW_PERMILLE must be between 100 and 950"
#endif
#if PICOACME_KEEPER_JITTER_PERMILLE > 450U
#error "PICOACME_KEEPER_JITTER_PERMILLE must be at most 450"
#endif
#if PICOACME_KEEPER_BACKOFF_MIN_S < 1U ||                                                          \
    PICOACME_KEEPER_BACKOFF_MIN_S > PICOACME_KEEPER_BACKOFF_MAX_S
#error "PICOACME_KEEPER_BACKOFF_MIN_S must be between 1 and PICOACME_KEEPER_BACKOFF_MAX_S"
#endif

#endif
