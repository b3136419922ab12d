/*
 * entropy.c - POSIX entropy port: getrandom(2) from the kernel CSPRNG.
 *
 * getrandom without flags only waits before the kernel pool is first
 * initialised (early boot); afterwards it never blocks.
 */
#include <errno.h>
#include <sys/random.h>

#include "picoacme_posix.h"

picoacme_err_t picoacme_posix_entropy(uint8_t *buf, size_t len)
{
    size_t done = 0;

    if (buf == NULL && len != 0U) {
        return PICOACME_ERR_PARAM;
    }
    while (done < len) {
        ssize_t n = getrandom(buf + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return PICOACME_ERR_CRYPTO;
        }
        if (n == 0) {
            return PICOACME_ERR_CRYPTO;
        }
        done += (size_t)n;
    }
    return PICOACME_OK;
}
