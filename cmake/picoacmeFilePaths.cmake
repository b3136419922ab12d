# picoacmeFilePaths.cmake - the picoacme sources and include directories,
# for any build system (the pattern of coreMQTT's mqttFilePaths.cmake).
# It only sets variables: no target, no option, no compiler flag.
#
#   include(<picoacme>/cmake/picoacmeFilePaths.cmake)
#   add_library(acme STATIC ${PICOACME_CORE_SOURCES})
#   target_include_directories(acme PUBLIC ${PICOACME_CORE_INCLUDE_DIRS}
#                              PRIVATE ${PICOACME_CORE_PRIVATE_INCLUDE_DIRS} <dir of jsmn.h>)
#
# A Makefile generator can print them: cmake -P with
#   include(cmake/picoacmeFilePaths.cmake) message("${PICOACME_CORE_SOURCES}")
#
# The core needs one header from outside: jsmn.h (Debian libjsmn-dev),
# private to core/src/json_read.c. Give the core a directory holding jsmn.h; in
# a cross build, copy it into a directory of its own rather than adding the
# host's /usr/include (core/CMakeLists.txt does that).
#
# The lists are explicit. ctest config.filepaths_complete
# (tests/config/check_filepaths.cmake) fails when a .c file in one of the
# source directories below is missing from its list, or listed but absent.

get_filename_component(PICOACME_ROOT_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

# ---- core: the portable engine (C11, no OS, no heap) --------------------
# The engine and the codecs every build needs.
set(PICOACME_CORE_BASE_SOURCES
    ${PICOACME_ROOT_DIR}/core/src/authz.c
    ${PICOACME_ROOT_DIR}/core/src/b64.c
    ${PICOACME_ROOT_DIR}/core/src/csr.c
    ${PICOACME_ROOT_DIR}/core/src/der_write.c
    ${PICOACME_ROOT_DIR}/core/src/engine.c
    ${PICOACME_ROOT_DIR}/core/src/err.c
    ${PICOACME_ROOT_DIR}/core/src/exchange.c
    ${PICOACME_ROOT_DIR}/core/src/failover.c
    ${PICOACME_ROOT_DIR}/core/src/http_chars.c
    ${PICOACME_ROOT_DIR}/core/src/http_link.c
    ${PICOACME_ROOT_DIR}/core/src/http_parse.c
    ${PICOACME_ROOT_DIR}/core/src/http_stream.c
    ${PICOACME_ROOT_DIR}/core/src/http_write.c
    ${PICOACME_ROOT_DIR}/core/src/ip.c
    ${PICOACME_ROOT_DIR}/core/src/json_read.c
    ${PICOACME_ROOT_DIR}/core/src/json_write.c
    ${PICOACME_ROOT_DIR}/core/src/jws.c
    ${PICOACME_ROOT_DIR}/core/src/record.c
    ${PICOACME_ROOT_DIR}/core/src/request.c
    ${PICOACME_ROOT_DIR}/core/src/response.c
    ${PICOACME_ROOT_DIR}/core/src/store.c
    ${PICOACME_ROOT_DIR}/core/src/time.c
    ${PICOACME_ROOT_DIR}/core/src/url.c
    ${PICOACME_ROOT_DIR}/core/src/util.c
    ${PICOACME_ROOT_DIR}/core/src/x509.c)
# One list per feature (the PICOACME_<FEATURE> option of the same name). A
# file whose option is 0 compiles to the public "unsupported" stubs, so a
# build may list them all (PICOACME_CORE_SOURCES) or only the features its
# config header turns on.
set(PICOACME_CORE_HTTP01_SOURCES
    ${PICOACME_ROOT_DIR}/core/src/chall_http01.c)
set(PICOACME_CORE_TLSALPN01_SOURCES
    ${PICOACME_ROOT_DIR}/core/src/alpn_cert.c
    ${PICOACME_ROOT_DIR}/core/src/chall_alpn.c
    ${PICOACME_ROOT_DIR}/core/src/clienthello.c)
set(PICOACME_CORE_DNS01_SOURCES
    ${PICOACME_ROOT_DIR}/core/src/chall_dns01.c
    ${PICOACME_ROOT_DIR}/core/src/dns_answer.c
    ${PICOACME_ROOT_DIR}/core/src/dns_msg.c
    ${PICOACME_ROOT_DIR}/core/src/dns_name.c
    ${PICOACME_ROOT_DIR}/core/src/tsig.c)
set(PICOACME_CORE_ARI_SOURCES
    ${PICOACME_ROOT_DIR}/core/src/ari.c)
set(PICOACME_CORE_LIFECYCLE_SOURCES
    ${PICOACME_ROOT_DIR}/core/src/lifecycle.c)
set(PICOACME_CORE_EAB_SOURCES
    ${PICOACME_ROOT_DIR}/core/src/eab.c)
set(PICOACME_CORE_KEEPER_SOURCES
    ${PICOACME_ROOT_DIR}/core/src/keeper.c
    ${PICOACME_ROOT_DIR}/core/src/keeper_policy.c
    ${PICOACME_ROOT_DIR}/core/src/keeper_state.c
    ${PICOACME_ROOT_DIR}/core/src/keeper_run.c)
set(PICOACME_CORE_SOURCES
    ${PICOACME_CORE_BASE_SOURCES}
    ${PICOACME_CORE_HTTP01_SOURCES}
    ${PICOACME_CORE_TLSALPN01_SOURCES}
    ${PICOACME_CORE_DNS01_SOURCES}
    ${PICOACME_CORE_ARI_SOURCES}
    ${PICOACME_CORE_LIFECYCLE_SOURCES}
    ${PICOACME_CORE_EAB_SOURCES}
    ${PICOACME_CORE_KEEPER_SOURCES})

# Public: the API headers (#include "picoacme.h").
set(PICOACME_CORE_INCLUDE_DIRS
    ${PICOACME_ROOT_DIR}/core/include/picoacme)

# Private to the core's own sources (util.h, der.h); plus jsmn.h, see above.
set(PICOACME_CORE_PRIVATE_INCLUDE_DIRS
    ${PICOACME_ROOT_DIR}/core/src)

# ---- ports ----------------------------------------------------------------
# POSIX: sockets, file-backed flash, clocks, entropy. Compile with
# _POSIX_C_SOURCE=200809L and _DEFAULT_SOURCE.
set(PICOACME_POSIX_SOURCES
    ${PICOACME_ROOT_DIR}/ports/posix/src/clock.c
    ${PICOACME_ROOT_DIR}/ports/posix/src/entropy.c
    ${PICOACME_ROOT_DIR}/ports/posix/src/flash.c
    ${PICOACME_ROOT_DIR}/ports/posix/src/net.c
    ${PICOACME_ROOT_DIR}/ports/posix/src/resolve.c
    ${PICOACME_ROOT_DIR}/ports/posix/src/udp.c)
set(PICOACME_POSIX_INCLUDE_DIRS
    ${PICOACME_ROOT_DIR}/ports/posix/include)

# wolfSSL: the TLS client/server port and the crypto port (wolfCrypt).
# Needs the wolfSSL headers and library (system, or built with
# WOLFSSL_USER_SETTINGS and a user_settings.h).
set(PICOACME_WOLFSSL_TLS_SOURCES
    ${PICOACME_ROOT_DIR}/ports/wolfssl/src/tls.c)
set(PICOACME_WOLFSSL_CRYPTO_SOURCES
    ${PICOACME_ROOT_DIR}/ports/wolfssl/src/crypto.c)
set(PICOACME_WOLFSSL_SOURCES
    ${PICOACME_WOLFSSL_TLS_SOURCES} ${PICOACME_WOLFSSL_CRYPTO_SOURCES})
set(PICOACME_WOLFSSL_INCLUDE_DIRS
    ${PICOACME_ROOT_DIR}/ports/wolfssl/include)

# lwIP raw API transport (NO_SYS). Needs the lwIP headers and lwipopts.h.
set(PICOACME_LWIP_SOURCES
    ${PICOACME_ROOT_DIR}/ports/lwip/src/tcp.c)
set(PICOACME_LWIP_INCLUDE_DIRS
    ${PICOACME_ROOT_DIR}/ports/lwip/include)

# BSD sockets (ports/bsdsock): one transport for POSIX, lwIP's socket API
# (define PICOACME_BSDSOCK_LWIP) and Zephyr's zsock_* (PICOACME_BSDSOCK_ZEPHYR).
# A resolver hook per stack: GAI (POSIX, needs ports/posix/src on the include
# path and picoacme_posix), LWIP (threaded lwIP's DNS client).
set(PICOACME_BSDSOCK_SOURCES
    ${PICOACME_ROOT_DIR}/ports/bsdsock/src/bsdsock.c)
set(PICOACME_BSDSOCK_GAI_SOURCES
    ${PICOACME_ROOT_DIR}/ports/bsdsock/src/resolve_gai.c)
set(PICOACME_BSDSOCK_LWIP_SOURCES
    ${PICOACME_ROOT_DIR}/ports/bsdsock/src/resolve_lwip.c)
set(PICOACME_BSDSOCK_ALL_SOURCES
    ${PICOACME_BSDSOCK_SOURCES} ${PICOACME_BSDSOCK_GAI_SOURCES} ${PICOACME_BSDSOCK_LWIP_SOURCES})
set(PICOACME_BSDSOCK_INCLUDE_DIRS
    ${PICOACME_ROOT_DIR}/ports/bsdsock/include)

# Zephyr (ports/zephyr): flash area storage, sys_csrand_get entropy,
# k_uptime_get/RTC clock, the bsdsock resolver hook over dns_get_addr_info.
# Built by zephyr/CMakeLists.txt (a Zephyr module) only.
set(PICOACME_ZEPHYR_SOURCES
    ${PICOACME_ROOT_DIR}/ports/zephyr/src/clock.c
    ${PICOACME_ROOT_DIR}/ports/zephyr/src/entropy.c
    ${PICOACME_ROOT_DIR}/ports/zephyr/src/resolve.c
    ${PICOACME_ROOT_DIR}/ports/zephyr/src/storage.c)
set(PICOACME_ZEPHYR_INCLUDE_DIRS
    ${PICOACME_ROOT_DIR}/ports/zephyr/include)

# PKCS#11 (keys in a token; the module is dlopen()ed): needs the PKCS#11
# header of p11-kit (libp11-kit-dev) and -ldl.
set(PICOACME_PKCS11_SOURCES
    ${PICOACME_ROOT_DIR}/ports/pkcs11/src/pkcs11.c)
set(PICOACME_PKCS11_INCLUDE_DIRS
    ${PICOACME_ROOT_DIR}/ports/pkcs11/include)

# TPM 2.0 (keys as persistent TPM objects): tpm2-tss ESAPI (libtss2-dev:
# tss2-esys, tss2-tctildr, tss2-rc).
set(PICOACME_TPM2_SOURCES
    ${PICOACME_ROOT_DIR}/ports/tpm2/src/tpm2.c)
set(PICOACME_TPM2_INCLUDE_DIRS
    ${PICOACME_ROOT_DIR}/ports/tpm2/include)
