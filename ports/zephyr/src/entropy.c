/*
 * entropy.c - Zephyr port: sys_csrand_get() (a CSPRNG seeded by the
 * board's entropy driver; CONFIG_CSPRNG_ENABLED). NOT BUILT here.
 */
#include <zephyr/random/random.h>

#include "picoacme_zephyr.h"

picoacme_err_t picoacme_zephyr_entropy(uint8_t *buf, size_t len)
{
    if (buf == NULL && len != 0U) {
        return PICOACME_ERR_PARAM;
    }
    return sys_csrand_get(buf, len) == 0 ? PICOACME_OK : PICOACME_ERR_CRYPTO;
}
