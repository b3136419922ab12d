/*
 * picoacme_zephyr.h - the Zephyr port: storage on a flash area (flash map),
 * entropy from sys_csrand_get(), the clock from k_uptime_get() with an
 * optional RTC, and the resolver hook of the BSD-sockets transport over
 * Zephyr's asynchronous DNS resolver. The transport itself is
 * ports/bsdsock compiled with PICOACME_BSDSOCK_ZEPHYR (zsock_*()).
 *
 * NOT BUILT in this project's CI: a Zephyr tree is not available there.
 * See zephyr/README.md for what was and was not checked.
 */
#ifndef PICOACME_ZEPHYR_H
#define PICOACME_ZEPHYR_H

#include <stddef.h>
#include <stdint.h>

#include "picoacme_bsdsock.h"
#include "picoacme_port.h"

struct flash_area;

/* A flash area as picoacme storage. */
typedef struct picoacme_zephyr_flash {
    const struct flash_area *fa;
    size_t write_block; /* the device's write alignment (bytes) */
} picoacme_zephyr_flash_t;

/* Open the flash area area_id (e.g. FIXED_PARTITION_ID(storage_partition))
 * and fill *out: size is the area's size rounded down to whole erase
 * blocks, erase_size the device's erase block (uniform pages required).
 * Writes at any offset and length are honoured by reading, merging and
 * programming whole write blocks (NOR semantics: bits only cleared).
 * Returns PICOACME_OK, PICOACME_ERR_STORAGE (no such area, a device that
 * is not ready, pages of different sizes) or PICOACME_ERR_PARAM. */
picoacme_err_t picoacme_zephyr_flash_open(picoacme_zephyr_flash_t *f, uint8_t area_id,
                                          picoacme_storage_t *out);
void picoacme_zephyr_flash_close(picoacme_zephyr_flash_t *f);

/* sys_csrand_get() (CONFIG_CSPRNG_ENABLED / an entropy driver): the seed of
 * the crypto port's DRBG. PICOACME_OK or PICOACME_ERR_CRYPTO. */
picoacme_err_t picoacme_zephyr_entropy(uint8_t *buf, size_t len);

/* mono_ms from k_uptime_get(); wall_s from the RTC when
 * CONFIG_PICOACME_ZEPHYR_RTC and a "rtc" alias exist and it holds a time
 * after 2020, else PICOACME_TIME_UNKNOWN (the engine then takes the CA's
 * Date). Fills *out; never fails. */
void picoacme_zephyr_clock(picoacme_clock_t *out);

/* The BSD-sockets resolver hook over dns_get_addr_info() (CONFIG_DNS_RESOLVER):
 * PICOACME_AGAIN until the callback brought the addresses. One lookup at a
 * time (a static). Fills *out; never fails. */
void picoacme_zephyr_resolver(picoacme_bsdsock_resolver_t *out);

#endif
