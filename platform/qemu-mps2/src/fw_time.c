/*
 * fw_time.c - wall clock of a board without RTC: a lower bound until the
 * ACME engine learns the time from the CA (see fw_time.h).
 */
#include "fw_time.h"

#include "board.h"

#ifndef FW_WALL_CLOCK_BASE
#define FW_WALL_CLOCK_BASE 0
#endif

/* wolfSSL's own check (asn.c, compiled because user_settings.h defines
 * USE_WOLF_VALIDDATE); 0 is its BEFORE date type. */
int wc_ValidateDate(const unsigned char *date, unsigned char format, int dateType);
#define WC_DATE_BEFORE 0

static bool known;
static int64_t base_s = (int64_t)FW_WALL_CLOCK_BASE; /* time at base_ms */
static uint32_t base_ms;

int64_t fw_time_now(bool *is_known)
{
    if (is_known != NULL) {
        *is_known = known;
    }
    return base_s + (int64_t)((uint32_t)(board_ms() - base_ms) / 1000u);
}

void fw_time_learn(int64_t now_s)
{
    base_s = now_s;
    base_ms = board_ms();
    known = true;
}

void fw_time_floor(int64_t floor_s)
{
    if (!known && floor_s > fw_time_now(NULL)) {
        base_s = floor_s;
        base_ms = board_ms();
    }
}

static int64_t clk_wall(void *user)
{
    (void)user;
    return PICOACME_TIME_UNKNOWN; /* no RTC: the engine uses the CA's Date */
}

static uint32_t clk_mono(void *user)
{
    (void)user;
    return board_ms();
}

void fw_time_clock(picoacme_clock_t *out)
{
    out->user = NULL;
    out->wall_s = clk_wall;
    out->mono_ms = clk_mono;
}

time_t fw_time(time_t *t)
{
    time_t now = (time_t)fw_time_now(NULL);
    if (t != NULL) {
        *t = now;
    }
    return now;
}

int fw_validate_date(const unsigned char *date, unsigned char format, int date_type)
{
    if (!known && date_type == WC_DATE_BEFORE) {
        return 1; /* a lower bound cannot refute notBefore */
    }
    return wc_ValidateDate(date, format, date_type);
}
