/*
 * failover.c - the CA failover policy of picoacme_failover.h.
 */
#include "picoacme_failover.h"

#include <stddef.h>

void picoacme_failover_init(picoacme_failover_t *f, uint8_t n_cas, uint8_t max_failures,
                            uint32_t failback_s)
{
    if (f == NULL) {
        return;
    }
    f->n_cas = n_cas == 0U ? 1U : n_cas;
    f->current = 0;
    f->failures = 0;
    f->max_failures = max_failures == 0U ? 1U : max_failures;
    f->failback_s = failback_s;
    f->failback_at_s = 0;
}

uint8_t picoacme_failover_ca(picoacme_failover_t *f, int64_t now_s)
{
    if (f == NULL) {
        return 0;
    }
    if (f->current != 0U && now_s >= f->failback_at_s) {
        /* fail back: the primary gets a fresh chance */
        f->current = 0;
        f->failures = 0;
    }
    return f->current;
}

bool picoacme_failover_result(picoacme_failover_t *f, int64_t now_s, bool ok)
{
    if (f == NULL) {
        return false;
    }
    if (ok) {
        f->failures = 0;
        return false;
    }
    if (f->failures < UINT8_MAX) {
        f->failures++;
    }
    if (f->failures < f->max_failures || f->n_cas < 2U) {
        return false;
    }
    f->failures = 0;
    f->current = (uint8_t)((f->current + 1U) % f->n_cas);
    if (f->current != 0U) {
        f->failback_at_s = now_s + (int64_t)f->failback_s;
    }
    return true;
}
