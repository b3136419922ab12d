/*
 * arch/cc.h - lwIP compiler/platform glue for the qemu-mps2 firmware
 * (arm-none-eabi-gcc, picolibc, little endian Cortex-M3).
 */
#ifndef PICOACME_FW_ARCH_CC_H
#define PICOACME_FW_ARCH_CC_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define BYTE_ORDER           LITTLE_ENDIAN
#define LWIP_NO_STDINT_H     0
#define LWIP_TIMEVAL_PRIVATE 0

#define LWIP_PLATFORM_DIAG(x)                                                                      \
    do {                                                                                           \
        printf x;                                                                                  \
    } while (0)
/* Release image: no LWIP_ASSERT checks (their file/line strings and
 * printf calls cost ~3 KB of flash); FW_LWIP_ASSERT=ON keeps them. */
#ifndef FW_LWIP_ASSERT
#define LWIP_NOASSERT
#endif
#define LWIP_PLATFORM_ASSERT(x)                                                                    \
    do {                                                                                           \
        printf("lwip assert: %s (%s:%d)\n", (x), __FILE__, __LINE__);                              \
        exit(90);                                                                                  \
    } while (0)

#endif
