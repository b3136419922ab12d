/*
 * fake_ca.h - an in-process ACME CA behind a fake transport, a fake crypto
 * port, RAM flash and a simulated clock: for the keeper's unit tests
 * (tests/unit/test_keeper.c) and the fleet simulation (fleet_sim.c).
 *
 * The CA speaks enough RFC 8555 for the engine (directory, newNonce,
 * newAccount, newOrder, authorization, http-01 challenge answered
 * "processing" then valid at the poll, finalize, certificate download) and
 * RFC 9773 renewalInfo. It does not check signatures (the crypto port is a
 * fake: the point is the keeper's timing, not the cryptography, which
 * test_engine.c covers with openssl). Certificates are one real DER leaf
 * made by openssl once, with notBefore/notAfter and the serial patched per
 * issuance; the fake crypto port's certificate key is that leaf's key, so
 * the engine's "carries our key" check holds.
 *
 * Every request the CA answers is counted (total, per device, per path,
 * per simulated minute). While the CA is down, connections fail and are
 * counted as refused attempts.
 */
#ifndef FAKE_CA_H
#define FAKE_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme.h"

#define FCA_BASE "http://ca.test"

/* The simulated clock shared by the CA and its devices. */
typedef struct fca_clock {
    uint64_t ms;     /* simulated milliseconds since the start */
    int64_t epoch_s; /* Unix seconds at ms 0 */
} fca_clock_t;

static inline int64_t fca_wall(const fca_clock_t *c)
{
    return c->epoch_s + (int64_t)(c->ms / 1000U);
}

typedef enum fca_ari_mode {
    FCA_ARI_OFF = 0,   /* the directory names no renewalInfo */
    FCA_ARI_SPREAD,    /* a 60 s window per certificate in the least busy minute of
                          [nb + 45%, nb + 62%] of the lifetime: the CA flattens its load */
    FCA_ARI_FIXED,     /* window [ari_start_s, ari_end_s] */
    FCA_ARI_MALFORMED, /* {"suggestedWindow":"soon"} */
    FCA_ARI_ERROR      /* HTTP 500 */
} fca_ari_mode_t;

#define FCA_PATHS 10 /* dir nonce acct order authz chall fin cert ari other */

typedef struct fca_ca {
    fca_clock_t *clk;
    bool down;             /* connections fail */
    const char *down_host; /* when set: only connections to this host fail */
    fca_ari_mode_t ari;
    int64_t ari_start_s; /* FCA_ARI_FIXED */
    int64_t ari_end_s;
    uint32_t ari_retry_s; /* Retry-After of renewalInfo answers (0: none sent) */
    uint32_t rl_orders;   /* the next this many newOrders answer rateLimited */
    uint32_t rl_retry_s;  /* with this Retry-After (0: none) */
    uint32_t life_s;      /* lifetime of issued certificates */
    uint32_t cap_per_min; /* 0: none; else a newOrder in a minute that already
                             had this many requests answers 503 with a
                             Retry-After of 60..600 s (a busy CA) */
    /* counters */
    uint64_t requests;
    uint64_t refused; /* connection attempts while down */
    uint64_t issued;
    uint64_t busy; /* 503 answers of cap_per_min */
    uint64_t by_path[FCA_PATHS];
    uint32_t *per_min; /* optional: requests per simulated minute */
    uint32_t *refused_per_min;
    uint32_t *ari_load; /* optional (FCA_ARI_SPREAD): windows given per minute */
    size_t n_min;
    /* the certificate template */
    uint8_t der[1024];
    size_t der_len;
    size_t nb_off, na_off, serial_off; /* of the UTCTime digits / the 8 serial bytes */
    uint8_t pub[64];
    uint64_t serial;
} fca_ca_t;

#define FCA_CONNS  2
#define FCA_IO     4096
#define FCA_FLASH  4096U
#define FCA_ERASE  1024U
#define FCA_SFLASH 1024U
#define FCA_SERASE 512U

typedef struct fca_conn {
    bool used;
    bool refused;
    char host[32]; /* the answers name URLs at this host */
    size_t in_len;
    size_t out_len;
    size_t out_off;
    uint8_t in[FCA_IO];
    uint8_t out[FCA_IO];
} fca_conn_t;

/* RAM NOR flash with an optional power cut (like picoacme_posix_flash_t). */
typedef struct fca_flash {
    uint8_t *mem;
    size_t size;
    long long cut_after_bytes; /* < 0: none */
    bool dead;
} fca_flash_t;

/* One device: its connections, its flash, its clocks and entropy. */
typedef struct fca_dev {
    fca_ca_t *ca;
    bool rtc;           /* the wall clock is known */
    uint32_t mono_base; /* monotonic ms at sim ms 0 (changes at a reboot) */
    uint64_t rng;       /* xorshift state */
    uint32_t nonce;
    uint32_t requests; /* answered for this device */
    uint8_t authz_valid;
    int64_t cert_nb;   /* the last certificate issued to it */
    int64_t win_start; /* FCA_ARI_SPREAD: its window, for cert_nb */
    int64_t win_nb;
    fca_conn_t conn[FCA_CONNS];
    uint8_t flash_mem[FCA_FLASH];
    uint8_t sflash_mem[FCA_SFLASH];
    fca_flash_t flash;
    fca_flash_t sflash;
    char chain[1200];
    size_t chain_len;
    /* the ports */
    picoacme_transport_t tp;
    picoacme_crypto_t crypto;
    picoacme_storage_t storage;       /* the engine's record */
    picoacme_storage_t state_storage; /* the keeper's state */
    picoacme_clock_t clock;
    picoacme_ports_t ports;
} fca_dev_t;

/* Make the certificate template with openssl in dir (once per process);
 * 0 on success, -1 when openssl is missing or failed. */
int fca_init(fca_ca_t *ca, fca_clock_t *clk, const char *dir);

/* A fresh device (empty flash) with seed for its entropy. */
void fca_dev_init(fca_dev_t *d, fca_ca_t *ca, uint64_t seed, bool rtc);

/* A reboot: connections dropped, the monotonic clock starts elsewhere;
 * the flash stays. */
void fca_dev_reboot(fca_dev_t *d);

/* Count one request at the current simulated minute. */
void fca_count(fca_ca_t *ca, uint32_t *per_min);

/* Index names of by_path[]. */
const char *fca_path_name(int i);

#endif
