/*
 * user_settings.h - wolfSSL 5.5.4 configuration of the qemu-mps2 firmware.
 *
 * TLS 1.2 + 1.3 client, ECDSA/ECDHE P-256 only, AES-128-GCM, SHA-256, SNI,
 * ALPN. No heap: WOLFSSL_STATIC_MEMORY + WOLFSSL_NO_MALLOC, every object is
 * created with the firmware's heap hint over a static pool. Small stack is
 * impossible with NO_MALLOC in 5.5.4, so the stack must be generous.
 * Randomness: CUSTOM_RAND_GENERATE_SEED -> fw_rng_seed() (a board hook; the
 * QEMU build uses the test-only source in fw_test_entropy.c).
 * Time: XTIME -> fw_time() (lower bound or the CA's Date, fw_time.c),
 * XTIME_MS -> fw_time_ms() (ticks), XVALIDATE_DATE -> fw_validate_date().
 */
#ifndef PICOACME_FW_USER_SETTINGS_H
#define PICOACME_FW_USER_SETTINGS_H

#include <stdint.h>
#include <time.h>

/* platform */
#define SINGLE_THREADED
#define NO_FILESYSTEM
#define NO_WRITEV
#define WOLFSSL_USER_IO
#define WOLFSSL_NO_SOCK
#define NO_DEV_RANDOM
#define NO_MAIN_DRIVER
#define NO_SESSION_CACHE
#define WOLFSSL_IGNORE_FILE_WARN
#define NO_WOLFSSL_DIR
#define WOLFSSL_GENERAL_ALIGNMENT 4
#define SIZEOF_LONG_LONG          8
#define HAVE_GMTIME_R

/* memory: no heap at all */
#define WOLFSSL_STATIC_MEMORY
#define WOLFSSL_NO_MALLOC
/* Static pool buckets (wolfSSL's allocator takes the smallest free block
 * that fits and falls through to larger ones when a size runs out).
 *
 * Measured in QEMU (fw_report.c: blocks ever written = peak in use, the
 * free lists are LIFO), ACME enrolment and renewal against Pebble, TLS 1.3:
 *   64 x24, 128 x9, 256 x6, 512 x6, 1024 x3, 2432 x1, 3456 x1 (16.2 KB,
 *   blocks still held at exit included);
 * the smoke firmware's TLS 1.3/1.2 GETs with 16 KiB records:
 *   64 x20, 128 x9, 256 x7, 512 x5, 1024 x2, 17536 x1.
 * Distribution = measured peak + 1..4 blocks for the small sizes, one block of
 * each large size (the fall-through gives each large request two more
 * blocks to go to) and one record block.
 *
 * The record block holds the largest TLS record the device takes in.
 * FW_WOLF_RECORD_BUCKET (CMake): 7168 for the ACME firmware: every answer
 * the engine can use fits PICOACME_RX_BUF_SIZE (6144), so a record longer
 * than that + headers carries nothing it could keep; the server's first
 * flight (certificate chain) fits too. Go CAs (Pebble, step-ca, Boulder)
 * send ~1.2 KB records on a new connection anyway. 17536 (any 16 KiB
 * record) for the smoke firmware, whose 43 KB GET gets full records.
 *
 * The pool is exactly one round of the distribution (FW_WOLF_POOL_ROUND):
 * each block carries wolfSSL's 16-byte header (checked at boot against
 * wolfSSL_MemoryPaddingSz()). */
#ifndef FW_WOLF_RECORD_BUCKET
#define FW_WOLF_RECORD_BUCKET 7168
#endif
#define LARGEST_MEM_BUCKET    FW_WOLF_RECORD_BUCKET
#define WOLFMEM_BUCKETS       64, 128, 256, 512, 1024, 2432, 3456, 4544, LARGEST_MEM_BUCKET
#define WOLFMEM_DIST          28, 12, 8, 8, 4, 1, 1, 1, 1
#define FW_WOLF_BLOCK_HDR     16u
#define FW_WOLF_BLOCKS(sz, n) ((n) * ((sz) + FW_WOLF_BLOCK_HDR))
#define FW_WOLF_POOL_ROUND                                                                         \
    (FW_WOLF_BLOCKS(64u, 28u) + FW_WOLF_BLOCKS(128u, 12u) + FW_WOLF_BLOCKS(256u, 8u) +             \
     FW_WOLF_BLOCKS(512u, 8u) + FW_WOLF_BLOCKS(1024u, 4u) + FW_WOLF_BLOCKS(2432u, 1u) +            \
     FW_WOLF_BLOCKS(3456u, 1u) + FW_WOLF_BLOCKS(4544u, 1u) +                                       \
     FW_WOLF_BLOCKS((unsigned)FW_WOLF_RECORD_BUCKET, 1u))

/* entropy and time hooks (see board.c / fw_test_entropy.c) */
int fw_rng_seed(uint8_t *out, uint32_t len);
time_t fw_time(time_t *t);
uint32_t fw_time_ms(void);
#define CUSTOM_RAND_GENERATE_SEED(out, sz) fw_rng_seed((out), (uint32_t)(sz))
#define CUSTOM_RAND_TYPE                   uint8_t
#define XTIME(t)                           fw_time(t)
#define XTIME_MS(t)                        fw_time_ms()
/* No RTC: XTIME is a lower bound until the CA's Date is known; notBefore is
 * only checked once the time is known (fw_time.c). wolfSSL's own check
 * stays compiled (USE_WOLF_VALIDDATE) and does the rest. */
int fw_validate_date(const unsigned char *date, unsigned char format, int date_type);
#define USE_WOLF_VALIDDATE
#define XVALIDATE_DATE(d, f, t) fw_validate_date((d), (f), (t))

/* TLS */
/* The TLS server is only for the tls-alpn-01 responder (RFC 8737) of
 * ports/wolfssl/src/tls.c; FW_TLS_SERVER (CMake option) keeps it. */
#ifndef FW_TLS_SERVER
#define NO_WOLFSSL_SERVER
#endif
#define NO_OLD_TLS
#define WOLFSSL_TLS13
#define HAVE_TLS_EXTENSIONS
#define HAVE_SUPPORTED_CURVES
#define HAVE_SNI
#define HAVE_ALPN
#define HAVE_HKDF
#define NO_PSK
#define NO_ERROR_STRINGS

/* hardening */
#define TFM_TIMING_RESISTANT
#define ECC_TIMING_RESISTANT

/* ciphers and hashes */
#define HAVE_AESGCM
#define GCM_SMALL
#define NO_AES_192
#define NO_AES_256
#define NO_AES_CBC
#define WOLFSSL_AES_SMALL_TABLES
#define USE_SLOW_SHA256
#define NO_DES3
#define NO_RC4
#define NO_MD4
#define NO_MD5
#define NO_DSA
#define NO_DH
#define NO_RSA
#define NO_PWDBASED
#define WOLFSSL_NO_SHAKE256
#define NO_SHA
#define WOLFSSL_NO_CLIENT_AUTH

/* ECC P-256 */
#define HAVE_ECC
#define ECC_USER_CURVES
#define ECC_SHAMIR
#define HAVE_ECC_SIGN
#define HAVE_ECC_VERIFY
#define HAVE_ECC_KEY_EXPORT
#define HAVE_ECC_KEY_IMPORT

/* math: sp_int sized for P-256 only, no dynamic stack */
#define WOLFSSL_SP_MATH
#define WOLFSSL_SP_SMALL
#define WOLFSSL_HAVE_SP_ECC
#define WOLFSSL_SP_NO_MALLOC
#define WOLFSSL_SP_NO_DYN_STACK
#define SP_INT_BITS 256

#endif
