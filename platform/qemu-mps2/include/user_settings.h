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
#define SIZEOF_LONG_LONG 8
#define HAVE_GMTIME_R

/* memory: no heap at all */
#define WOLFSSL_STATIC_MEMORY
#define WOLFSSL_NO_MALLOC
/* Buckets 64,128,256,512,1024,2432,3456,4544 and one for a full 16 KiB
 * record plus overhead. Distribution measured in QEMU (pool_report() in
 * main.c): peak use in a TLS 1.2/1.3 handshake + GET was 23,9,6,6,2,1,0,1,0
 * blocks, the 16 KiB input buffer comes on top with large records. One
 * round of this distribution is ~50 KB; the pool should be >= 64 KB. */
#define LARGEST_MEM_BUCKET 17536
#define WOLFMEM_DIST 28, 12, 8, 8, 4, 2, 1, 2, 1

/* entropy and time hooks (see board.c / fw_test_entropy.c) */
int fw_rng_seed(uint8_t *out, uint32_t len);
time_t fw_time(time_t *t);
uint32_t fw_time_ms(void);
#define CUSTOM_RAND_GENERATE_SEED(out, sz) fw_rng_seed((out), (uint32_t)(sz))
#define CUSTOM_RAND_TYPE uint8_t
#define XTIME(t) fw_time(t)
#define XTIME_MS(t) fw_time_ms()
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
