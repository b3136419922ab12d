/* arch/cc.h for the host compile of ports/bsdsock against lwIP. */
#ifndef PICOACME_TEST_LWIP_CC_H
#define PICOACME_TEST_LWIP_CC_H
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#define LWIP_PLATFORM_DIAG(x)                                                                      \
    do {                                                                                           \
        printf x;                                                                                  \
    } while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                                    \
    do {                                                                                           \
        abort();                                                                                   \
    } while (0)
#endif
