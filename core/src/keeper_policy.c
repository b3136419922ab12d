/*
 * keeper_policy.c - the keeper's time decisions as pure functions
 * (picoacme_keeper.h): the renewal point without ARI (the device's phase of
 * a period a little shorter than the lifetime fraction), the point in an
 * ARI window, the retry delay after failures. No clock, no I/O; 32-bit
 * divisions only (no 64-bit division helper on Cortex-M).
 */
#include "picoacme_keeper.h"

/* v * num / 1000 for v < 2^32, num <= 1000, without 64-bit division */
static uint32_t permille_of(uint32_t v, uint32_t num)
{
    return (v / 1000U) * num + (v % 1000U) * num / 1000U;
}

int64_t picoacme_keeper_fraction_point(int64_t nb, int64_t na, uint32_t phase_rnd,
                                       uint16_t renew_permille, uint16_t jitter_permille)
{
    int64_t life = na - nb;
    uint32_t f;
    uint32_t q;
    uint32_t back;
    uint32_t phase;
    int64_t end;
    if (life <= 0) {
        return nb;
    }
    if (renew_permille > 1000U) {
        renew_permille = 1000U;
    }
    if (jitter_permille > 1000U) {
        jitter_permille = 1000U;
    }
    f = permille_of(life > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)life, renew_permille);
    q = f - permille_of(f, jitter_permille);
    end = nb + (int64_t)f;
    if (q == 0U || jitter_permille == 0U) {
        return end;
    }
    /* the phase is the fraction phase_rnd / 2^32 of the period; end - t =
     * (end - phase) mod q: the last t <= end with t = phase (mod q). Unix
     * seconds fit 32 bits until 2106; their residues mod q are all that
     * matters */
    phase = (uint32_t)(((uint64_t)phase_rnd * q) >> 32);
    back = ((uint32_t)end % q + q - phase) % q;
    return end - (int64_t)back;
}

int64_t picoacme_keeper_window_point(int64_t start, int64_t end, int64_t not_after, int64_t now,
                                     uint32_t rnd)
{
    uint32_t span;
    if (not_after > 0 && end >= not_after) {
        if (start >= not_after) {
            return PICOACME_TIME_UNKNOWN;
        }
        end = not_after - 1; /* never after the expiry */
    }
    if (now != PICOACME_TIME_UNKNOWN && now > start) {
        if (now >= end) {
            return now; /* the window passed: renew now */
        }
        start = now; /* a window that started: a point in what is left of it */
    }
    if (end < start) {
        end = start;
    }
    span = end - start >= (int64_t)UINT32_MAX ? UINT32_MAX - 1U : (uint32_t)(end - start);
    return start + (int64_t)(((uint64_t)rnd * ((uint64_t)span + 1U)) >> 32);
}

uint32_t picoacme_keeper_index_phase(uint32_t index)
{
    /* the golden ratio's fraction (Weyl sequence): consecutive numbers
     * land far apart, any run of n of them fills the period evenly */
    return index * 0x9E3779B9U;
}

int64_t picoacme_keeper_overdue_point(int64_t now, int64_t not_after, uint32_t wait_s,
                                      uint32_t spread_s, uint32_t rnd)
{
    int64_t half = (not_after - now) / 2;
    int64_t t = (int64_t)wait_s + (int64_t)(((uint64_t)rnd * ((uint64_t)spread_s + 1U)) >> 32);
    if (half <= 0) {
        return now;
    }
    return now + (t < half ? t : half);
}

uint32_t picoacme_keeper_spread_rnd(uint32_t phase_rnd, uint32_t salt)
{
    /* a numbered fleet's phases are i * golden (a Weyl sequence); times an
     * odd constant they are another one, and the phases of any interval
     * (the devices whose renewal points fell in an outage) wrap around the
     * circle many times over: evenly spread. The salt rotates it. */
    return phase_rnd * 0xA54FF53BU + salt * 0x9E3779B9U;
}

uint32_t picoacme_keeper_backoff_s(uint16_t failures, uint32_t min_s, uint32_t max_s, uint32_t rnd,
                                   int64_t now, int64_t not_after)
{
    uint32_t d = min_s == 0U ? 1U : min_s;
    uint32_t quarter;
    if (max_s < d) {
        max_s = d;
    }
    /* x8 per failure: a fleet failing through a CA outage comes back at
     * its renewal rate times the retries each device made in the outage
     * (the retry levels whose summed delays fit in it); long second delays
     * keep that at about 2 for a 6-hour outage of 24-hour certificates
     * (x4 with a 4 h cap: 3, x2: 5) */
    for (uint16_t i = 1; i < failures && d < max_s; i++) {
        d = d > max_s / 8U ? max_s : d * 8U;
    }
    /* jitter over the last quarter: [3d/4, d] */
    quarter = d / 4U;
    d = d - quarter + (uint32_t)(((uint64_t)rnd * ((uint64_t)quarter + 1U)) >> 32);
    if (now != PICOACME_TIME_UNKNOWN && not_after > now) {
        /* near the expiry, try more often: two thirds of what is left, so
         * a third stays for the next attempts (a third of it made the fleet
         * of a CA outage retry every hour near the end: 6x the mean in the
         * hour after the recovery); after the jitter: with [1/2, 2/3] of
         * what is left, about half of a 6-hour outage's second retries
         * were due by the recovery */
        int64_t q = (not_after - now) * 2 / 3;
        if (q < (int64_t)d) {
            d = q < (int64_t)min_s ? min_s : (uint32_t)q;
        }
    }
    return d;
}
