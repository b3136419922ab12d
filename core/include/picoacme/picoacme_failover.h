/*
 * picoacme_failover.h - which CA to ask: an ordered list of CAs (the
 * first is the primary), failing over to the next after repeated failures
 * and failing back to the primary after a while. A pure policy over a few
 * bytes of state, no I/O: the caller runs one issuance with the CA it
 * names and reports the outcome. Keep the state in RAM (a reboot starts on
 * the primary again) or in the caller's own storage.
 *
 * The certificate keeper (picoacme_keeper.h) applies this same policy
 * itself, with its state persisted, over its list of CAs
 * (failover_after, failback_s): a caller that drives a keeper does not use
 * these functions. They stay for callers that schedule issuances themselves.
 */
#ifndef PICOACME_FAILOVER_H
#define PICOACME_FAILOVER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct picoacme_failover {
    uint8_t n_cas;         /* CAs configured, in order of preference (1..255) */
    uint8_t current;       /* index of the CA in use */
    uint8_t failures;      /* consecutive failed attempts with it */
    uint8_t max_failures;  /* fail over after this many (>= 1) */
    uint32_t failback_s;   /* time spent on a fallback CA before the primary is tried again */
    int64_t failback_at_s; /* when that is (Unix seconds); meaningful when current != 0 */
} picoacme_failover_t;

/* Start on the primary. n_cas and max_failures of 0 are taken as 1. */
void picoacme_failover_init(picoacme_failover_t *f, uint8_t n_cas, uint8_t max_failures,
                            uint32_t failback_s);

/* The CA to use for an attempt at now_s: the current one, or the primary
 * again once failback_at_s has come. */
uint8_t picoacme_failover_ca(picoacme_failover_t *f, int64_t now_s);

/* Record the outcome of an attempt with picoacme_failover_ca()'s CA at now_s:
 * a success clears the failure count; the max_failures-th failure in a row
 * moves to the next CA in the list (wrapping round), and a move away from
 * the primary sets the fail-back time. Returns true when the CA changed. */
bool picoacme_failover_result(picoacme_failover_t *f, int64_t now_s, bool ok);

#endif
