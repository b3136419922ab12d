/*
 * fw_config.h - configuration of the qemu-mps2 ACME firmware, with the
 * defaults a build without -D options gets. CMake cache variables of the
 * same names override them (see CMakeLists.txt).
 */
#ifndef PICOACME_FW_CONFIG_H
#define PICOACME_FW_CONFIG_H

/* ACME directory of the internal CA. */
#ifndef PICOACME_FW_DIRECTORY_URL
#define PICOACME_FW_DIRECTORY_URL "https://acme.internal:14000/dir"
#endif
/* The CA's host name and its IPv4 address (in QEMU the guestfwd address),
 * the entry of lwIP's local host list (lwipopts.h: QEMU's restricted
 * network has no DNS server). */
#ifndef FW_CA_HOST
#define FW_CA_HOST "acme.internal"
#endif
#ifndef FW_CA_ADDR
#define FW_CA_ADDR "10.0.2.100"
#endif
/* The device's identifier (a DNS name) and the http-01 listener port. */
#ifndef FW_DEVICE_NAME
#define FW_DEVICE_NAME "device.internal"
#endif
#ifndef FW_HTTP01_PORT
#define FW_HTTP01_PORT 80
#endif
/* Renewals to perform before exiting (tests); 0 = exit after the first
 * enrolment or the stored-certificate check. Semihosting argument
 * "renewals=N" overrides it. */
#ifndef FW_RENEWALS
#define FW_RENEWALS 0
#endif
/* The flash region: a host file (semihosting), its size and erase size. */
#ifndef FW_FLASH_FILE
#define FW_FLASH_FILE "picoacme-flash.bin"
#endif
#ifndef FW_FLASH_SIZE
#define FW_FLASH_SIZE (64u * 1024u) /* two 32 KiB slots: a 12-certificate chain */
#endif
#ifndef FW_FLASH_ERASE
#define FW_FLASH_ERASE 4096u
#endif
/* wolfSSL static pool: one round of the bucket distribution in
 * user_settings.h unless the build gives a size (FW_WOLF_POOL_KB). */
#ifndef FW_WOLF_POOL_SIZE
#define FW_WOLF_POOL_SIZE FW_WOLF_POOL_ROUND
#endif
/* Give up waiting for an address after this long. */
#ifndef FW_DHCP_TIMEOUT_MS
#define FW_DHCP_TIMEOUT_MS 20000u
#endif

#endif
