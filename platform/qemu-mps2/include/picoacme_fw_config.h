/*
 * picoacme_fw_config.h - the picoacme core's options for the qemu-mps2
 * firmware (PICOACME_CONFIG_FILE, included before
 * picoacme_config_defaults.h by every unit that sees picoacme_ctx_t: the
 * core, ports/wolfssl, ports/lwip and the firmware itself, so all agree on
 * the context's layout).
 *
 * The device profile: http-01 only, one identifier, no EAB, no log text.
 * Buffers are sized from what an enrolment against Pebble needs, with the
 * margin written next to each; a CA with longer URLs or chains needs the
 * numbers raised (the engine fails with PICOACME_ERR_NOSPACE and the step
 * that did not fit, it never truncates).
 */
#ifndef PICOACME_FW_CONFIG_CORE_H
#define PICOACME_FW_CONFIG_CORE_H

/* Challenges: one per image, chosen by the CMake option FW_CHALLENGE
 * (which defines FW_CHALLENGE_TLSALPN01 or FW_CHALLENGE_DNS01 for every
 * unit). The default image answers http-01 on :80 only. */
#if defined(FW_CHALLENGE_TLSALPN01)
/* tls-alpn-01 (RFC 8737) on :443 with wolfSSL's server code. */
#define PICOACME_HTTP01    0
#define PICOACME_TLSALPN01 1
#define PICOACME_DNS01     0
/* The challenge certificate (DER): a P-256 self-signed certificate with
 * one DNS SAN and the acmeIdentifier extension is ~0.4 KB for a 16-byte
 * name; 640 leaves room for a name of ~200 bytes more. */
#define PICOACME_ALPN_CERT_MAX 640U
#elif defined(FW_CHALLENGE_DNS01)
/* dns-01: RFC 2136 UPDATE + TSIG and the propagation query, over TCP. */
#define PICOACME_HTTP01        0
#define PICOACME_TLSALPN01     0
#define PICOACME_DNS01         1
#define PICOACME_ALPN_CERT_MAX 16U
#else
#define PICOACME_HTTP01        1
#define PICOACME_TLSALPN01     0
#define PICOACME_DNS01         0
/* With tls-alpn-01 off the context's challenge-certificate buffer is
 * unused (the core keeps the field; see the README). */
#define PICOACME_ALPN_CERT_MAX 16U
#endif

/* No log output from the core: on failure main.c prints the step, the
 * error, the HTTP status and the CA's problem type and detail from
 * picoacme_last_problem(), which is all the one ERR log line said. */
#define PICOACME_LOG_LEVEL 0
/* The engine's own explanatory sentences are left out (~2 KiB of flash);
 * the CA's problem detail is still kept and printed. */
#define PICOACME_ERROR_TEXT 0

/* No External Account Binding (the internal CA does not require it) and
 * JSON checked by jsmn alone (still bounded; the RFC 8259 pre-check is
 * left out): together ~2.5 KiB of core flash. A CA requiring EAB needs
 * PICOACME_EAB 1 and PICOACME_WORK_BUF_SIZE 1536. */
#define PICOACME_EAB         0
#define PICOACME_JSON_STRICT 0
#define PICOACME_HTTP_LINK   0

/* No ACME Renewal Information (RFC 9773): renewal at the lifetime
 * fraction only. ARI costs ~1.7 KiB of core flash and 120 B of context,
 * beyond the device's 24 KiB core budget. */
#define PICOACME_ARI 0

/* No key rollover, account deactivation or revocation from the device
 * (RFC 8555 §7.3.5, §7.3.6, §7.6): done from an operator's host against the
 * same account if ever needed; beyond the 24 KiB core budget too. */
#define PICOACME_LIFECYCLE 0

/* One identifier: the device's DNS name (fw_config.h FW_DEVICE_NAME). */
#define PICOACME_MAX_IDENTIFIERS 1U

/* Receive buffer: one CA answer but the chain, which is streamed into the
 * store's inactive slot as it arrives (only its unwritten tail sits in rx).
 * The largest other answers are the directory (~0.6 KB), the order and
 * the authorization (~0.5 KB of JSON each) plus ~0.4 KB of headers; a
 * record that fits rx (fields ~0.3 KB + Pebble's 2164 B chain) is read
 * back whole by picoacme_stored(), a longer one in pieces. 4096 is ~4x
 * the largest answer (6144 before the chain was streamed). */
#define PICOACME_RX_BUF_SIZE 4096U
/* Longest chain kept: bounded by the store's slot (FW_FLASH_SIZE / 2), not
 * RAM: 16 KiB holds a 12-certificate Pebble chain (~15.4 KB of PEM). */
#define PICOACME_CERT_MAX 16384U

/* Transmit buffer: the largest request is finalize: ~0.45 KB of request
 * head (the engine reserves 448 B) + a JWS of ~1 KB around a one-name
 * CSR. 2048 leaves ~0.5 KB. */
#define PICOACME_TX_BUF_SIZE 2048U
/* Scratch: a payload in the first half (the finalize payload, a one-name
 * CSR in base64url, is ~0.35 KB of 512), the protected header after it
 * (~0.25 KB with a kid URL and nonce). EAB (not used here) needs 1536. */
#define PICOACME_WORK_BUF_SIZE 1024U

/* URLs: Pebble's longest (authz, challenge, certificate) are ~70 bytes,
 * step-ca's ~90; 128 is ~1.4x the latter. */
#define PICOACME_URL_MAX 128U

/* JSON tokens of one answer: Pebble's authorization with three challenges
 * is ~40 tokens, the directory ~25; 64 is 1.6x. */
#define PICOACME_JSON_TOKENS 64U

#endif
