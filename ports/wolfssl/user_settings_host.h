/*
 * user_settings_host.h - wolfSSL 5.5.4 configuration of the Linux (host)
 * build when wolfSSL is compiled from source (PICOACME_WOLFSSL_SRC, see
 * ports/wolfssl/CMakeLists.txt, which makes it the "user_settings.h" of
 * WOLFSSL_USER_SETTINGS for wolfSSL and for every consumer alike).
 *
 * Only what picoacme uses: TLS 1.2 + 1.3 client, and a server for the
 * tls-alpn-01 responder (RFC 8737); SNI, ALPN, supported curves; ECDSA /
 * ECDHE P-256 and P-384, RSA signature verification (public CA chains and
 * internal CAs with RSA roots; Pebble's issuing chain is RSA) incl. RSA-PSS
 * for TLS 1.3; SHA-1/256/384/512 for certificate signatures, HMAC, HKDF,
 * AES-GCM; Hash_DRBG seeded from /dev/urandom (wolfSSL's default).
 *
 * Footprint: SP math (sp_int + the portable 64-bit SP code, small variant),
 * and NO FP_ECC: Debian's libwolfssl is built with FP_ECC, whose fixed-point
 * cache allocates ~823 KB for every new base point (4 entries = 3.3 MB of
 * heap in one issuance). No session cache (the port never resumes), no
 * filesystem (roots come as buffers), no OpenSSL compatibility layer: an IP
 * literal is checked by wolfSSL_check_domain_name against iPAddress SANs
 * (WOLFSSL_IP_ALT_NAME), which is what the OpenSSL-compat
 * X509_VERIFY_PARAM_set1_ip_asc path ends in too (CheckIPAddr ->
 * CheckHostName).
 */
#ifndef PICOACME_USER_SETTINGS_HOST_H
#define PICOACME_USER_SETTINGS_HOST_H

/* platform: Linux, glibc, /dev/urandom, pthreads (wolfSSL's defaults) */
#define NO_FILESYSTEM
#define NO_WOLFSSL_DIR
#define NO_MAIN_DRIVER
#define WOLFSSL_USER_IO /* the port installs its own I/O callbacks */
#define WOLFSSL_IGNORE_FILE_WARN
#define HAVE_GMTIME_R
#define SIZEOF_LONG_LONG 8
#define NO_SESSION_CACHE

/* TLS: 1.2 and 1.3, client and server (tls-alpn-01 responder) */
#define NO_OLD_TLS
#define WOLFSSL_TLS13
#define HAVE_TLS_EXTENSIONS
#define HAVE_SUPPORTED_CURVES
#define HAVE_SNI
#define HAVE_ALPN
#define HAVE_HKDF
#define HAVE_EXTENDED_MASTER
#define HAVE_SERVER_RENEGOTIATION_INFO
#define WOLFSSL_IP_ALT_NAME
#define NO_PSK
/* WOLFSSL_STATIC_RSA, OPENSSL_EXTRA, WOLFSSL_SMALL_STACK, FP_ECC: off */

/* hardening */
#define TFM_TIMING_RESISTANT
#define ECC_TIMING_RESISTANT
#define WC_RSA_BLINDING

/* symmetric ciphers and hashes */
#define HAVE_AESGCM
#define GCM_TABLE_4BIT
#define NO_AES_CBC
#define NO_AES_192
#define WOLFSSL_SHA384
#define WOLFSSL_SHA512
#define HAVE_HASHDRBG
#define NO_DES3
#define NO_RC4
#define NO_MD4
#define NO_MD5
#define NO_DSA
#define NO_DH
#define NO_PWDBASED
#define WOLFSSL_NO_SHAKE256

/* ECC: P-256 (keys, ECDHE, ECDSA) and P-384 (CA chains) */
#define HAVE_ECC
#define ECC_USER_CURVES
#define HAVE_ECC384
#define ECC_SHAMIR
#define HAVE_ECC_SIGN
#define HAVE_ECC_VERIFY
#define HAVE_ECC_DHE
#define HAVE_ECC_KEY_EXPORT /* wc_ecc_export_private_only, wc_EccKeyToDer */
#define HAVE_ECC_KEY_IMPORT

/* RSA: used for verification only (signatures in chains, RSA-PSS in TLS
 * 1.3). WOLFSSL_RSA_PUBLIC_ONLY does not compile with NO_DH in 5.5.4
 * (sp_int.c, _sp_exptmod). */
#define WC_RSA_PSS

/* math: sp_int for everything, optimised portable C for P-256/P-384 and
 * RSA 2048/3072 public operations; RSA up to 4096 bits via sp_int */
#define WOLFSSL_SP_MATH_ALL
#define WOLFSSL_SP_SMALL
#define WOLFSSL_HAVE_SP_ECC
#define WOLFSSL_SP_384
#define WOLFSSL_HAVE_SP_RSA
#define SP_INT_BITS 4096
#if defined(__SIZEOF_INT128__) && defined(__LP64__)
#define HAVE___UINT128_T
#define SP_WORD_SIZE 64 /* sp_c64.c; otherwise sp_c32.c */
#endif

#endif
