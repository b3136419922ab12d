/*
 * clock.c - POSIX clock port: CLOCK_REALTIME for the wall clock and
 * CLOCK_MONOTONIC for millisecond timing.
 *
 * A device without a battery-backed RTC boots at the epoch (or at the build
 * date), so a wall clock before PICOACME_POSIX_MIN_WALL_S is reported as
 * PICOACME_TIME_UNKNOWN and the engine takes time from the CA's Date header.
 */
#include <time.h>

#include "picoacme_posix.h"

#ifndef PICOACME_POSIX_MIN_WALL_S
#define PICOACME_POSIX_MIN_WALL_S 1577836800LL /* 2020-01-01T00:00:00Z */
#endif

static int64_t posix_wall_s(void *user)
{
    struct timespec ts;

    (void)user;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        return PICOACME_TIME_UNKNOWN;
    }
    if ((long long)ts.tv_sec < PICOACME_POSIX_MIN_WALL_S) {
        return PICOACME_TIME_UNKNOWN;
    }
    return (int64_t)ts.tv_sec;
}

static uint32_t posix_mono_ms(void *user)
{
    struct timespec ts;
    uint64_t ms;

    (void)user;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0U;
    }
    ms = (uint64_t)ts.tv_sec * 1000U + (uint64_t)ts.tv_nsec / 1000000U;
    return (uint32_t)ms; /* wraps every ~49.7 days; callers subtract */
}

void picoacme_posix_clock(picoacme_clock_t *out)
{
    if (out == NULL) {
        return;
    }
    out->user = NULL;
    out->wall_s = posix_wall_s;
    out->mono_ms = posix_mono_ms;
}
