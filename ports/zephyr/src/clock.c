/*
 * clock.c - Zephyr port: k_uptime_get() for the monotonic clock; the wall
 * clock from the RTC (CONFIG_PICOACME_ZEPHYR_RTC, devicetree alias "rtc")
 * when it holds a plausible time, else unknown. NOT BUILT here.
 */
#include <zephyr/kernel.h>
#if defined(CONFIG_PICOACME_ZEPHYR_RTC)
#include <zephyr/drivers/rtc.h>
#include <zephyr/sys/timeutil.h>
#endif

#include "picoacme_zephyr.h"

#define MIN_WALL_S 1577836800LL /* 2020-01-01: an RTC before that was never set */

static int64_t z_wall_s(void *user)
{
    (void)user;
#if defined(CONFIG_PICOACME_ZEPHYR_RTC) && DT_NODE_EXISTS(DT_ALIAS(rtc))
    {
        const struct device *rtc = DEVICE_DT_GET(DT_ALIAS(rtc));
        struct rtc_time t;
        if (device_is_ready(rtc) && rtc_get_time(rtc, &t) == 0) {
            int64_t s = (int64_t)timeutil_timegm64(rtc_time_to_tm(&t));
            if (s >= MIN_WALL_S) {
                return s;
            }
        }
    }
#endif
    return PICOACME_TIME_UNKNOWN;
}

static uint32_t z_mono_ms(void *user)
{
    (void)user;
    return (uint32_t)k_uptime_get(); /* wraps; callers subtract */
}

void picoacme_zephyr_clock(picoacme_clock_t *out)
{
    out->user = NULL;
    out->wall_s = z_wall_s;
    out->mono_ms = z_mono_ms;
}
