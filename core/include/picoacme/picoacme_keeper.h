/*
 * picoacme_keeper.h - the certificate keeper (PICOACME_KEEPER): keeps one
 * certificate valid for years, on every platform, with the same pump and
 * wait descriptor as the engine (picoacme.h).
 *
 * The keeper owns a picoacme_ctx_t and decides when to run it:
 *
 *   - boot: reads the engine's store and its own small state store. Without
 *     a wall clock (clock port says PICOACME_TIME_UNKNOWN) and with a
 *     certificate stored, it first learns the time from the CA's Date header
 *     (one GET of the directory), so a device that was off for months
 *     renews at once instead of late;
 *   - nothing stored: enrol;
 *   - a certificate stored: ask the CA's renewalInfo (RFC 9773) when the CA
 *     offers it; renew at a point picked inside the CA's window (never after
 *     its end; a window already passed means now), and ask again at the
 *     CA's Retry-After, also when the window ends after notAfter. Without
 *     ARI: renew at the device's own phase of a period a little shorter
 *     than the lifetime fraction PICOACME_RENEW_PERMILLE (see
 *     picoacme_keeper_fraction_point()), so a fleet enrolled in the same
 *     minute renews spread evenly from its first renewal on, and never
 *     later than the fraction;
 *   - after a boot: an overdue renewal point moves to a random point in
 *     the boot spread (boot_spread_s);
 *   - failure: exponential backoff with jitter, a rateLimited Retry-After
 *     honoured, both persisted so a device in a reboot loop does not hammer
 *     the CA; after a renewal the CA did not answer (no connection, TLS,
 *     a timeout, a 5xx), the retry is first one directory GET, and once
 *     the CA answers it the renewal goes at a random point before the next
 *     backoff level's retry and in the first half of the certificate's
 *     remaining life (PICOACME_KEEPER_WHY_RECOVERY), so a fleet back from a
 *     CA outage spreads its backlog instead of all its pending retries
 *     arriving at once (the GET's nonce serves the order: no extra request);
 *     failover over an ordered list of CAs and failback to the
 *     first after a while (the picoacme_failover.h policy, persisted).
 *
 * Its own state (the plan, backoff, failover, ARI window, last problem,
 * about 300 bytes) goes to a separate storage region through the A/B store
 * (picoacme_store.h), so saving it never rewrites the certificate record,
 * and a power cut during a save keeps the previous state.
 *
 * The loop, for a superloop, an RTOS task or a poll() loop:
 *
 *     static picoacme_keeper_t keeper;     // owns the engine context: static
 *     picoacme_wait_t wait;
 *
 *     if (picoacme_keeper_init(&keeper, &kcfg, &ports) != PICOACME_OK) { ... }
 *     for (;;) {
 *         switch (picoacme_keeper_step(&keeper, &wait)) {
 *         case PICOACME_KEEPER_EV_ISSUED: https_reload(); break;
 *         case PICOACME_KEEPER_EV_RENEWAL_FAILING:
 *             log_problem(picoacme_keeper_problem(&keeper)); break;
 *         case PICOACME_KEEPER_EV_EXPIRED: alarm(); break;
 *         default: break;
 *         }
 *         // sleep until a socket of wait is ready or wait.timeout_ms passed
 *         // (never UINT32_MAX: the keeper always names its next wake-up)
 *         platform_wait(&wait);
 *     }
 *
 * Threading: as for the engine. One keeper belongs to one task;
 * picoacme_keeper_step(), _renew_now() and _stop() are called from it.
 * picoacme_http01_lookup()/picoacme_tlsalpn_adopt() on
 * picoacme_keeper_ctx() may come from another task under PICOACME_LOCK.
 */
#ifndef PICOACME_KEEPER_H
#define PICOACME_KEEPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "picoacme.h"

/* One CA of the keeper's ordered list (the first is the primary). */
typedef struct picoacme_keeper_ca {
    /* directory, identifiers, challenges, EAB, budget: what one issuance
     * at this CA needs (picoacme.h). Copied at the first run with this CA;
     * the strings and arrays it points to must stay valid. */
    picoacme_config_t cfg;
    /* the TLS client port holding this CA's roots; NULL: the ports' tls */
    const picoacme_tls_t *tls;
} picoacme_keeper_ca_t;

/* What the keeper keeps. Every number of 0 means its default from
 * picoacme_config_defaults.h. */
typedef struct picoacme_keeper_config {
    const picoacme_keeper_ca_t *cas; /* the CA list, 1..255 entries; must stay valid */
    uint8_t n_cas;
    uint8_t failover_after;   /* failures in a row before the next CA
                                 (PICOACME_KEEPER_FAILOVER_AFTER) */
    uint32_t failback_s;      /* time on a fallback CA before the primary is
                                 tried again (PICOACME_KEEPER_FAILBACK_S) */
    uint32_t backoff_min_s;   /* first retry delay after a failure
                                 (PICOACME_KEEPER_BACKOFF_MIN_S) */
    uint32_t backoff_max_s;   /* the delay grows x8 per failure up to this
                                 (PICOACME_KEEPER_BACKOFF_MAX_S) */
    uint16_t jitter_permille; /* spread of the renewal point, per mille of
                                 the fraction point (PICOACME_KEEPER_JITTER_PERMILLE) */
    uint32_t boot_spread_s;   /* a device holding a certificate waits a
                                 random 0..boot_spread_s after boot before
                                 its first question to the CA (learning the
                                 time, an overdue renewal), at most a quarter
                                 of the certificate's remaining life, so a
                                 fleet rebooting at once after a power cut
                                 does not ask in the same minute; renew-now
                                 and enrolment do not wait. Then, once the
                                 time is known, a renewal point that passed
                                 (while the device was off or did not know
                                 the time) moves past the rest of the boot
                                 spread to a random point in the next
                                 2 * boot_spread_s, at most half of the
                                 remaining life, so the overdue renewals of
                                 such a fleet come after its time questions,
                                 not on top of them; not after failures
                                 (PICOACME_KEEPER_BOOT_SPREAD_S) */
    /* 0: the device's renewal phase is random (drawn once, kept in the
     * state store). n >= 1: the device's number in its fleet (a serial
     * number): the phase is picoacme_keeper_index_phase(n), and a fleet
     * numbered 1..N renews evenly spread over the period instead of with
     * the random (Poisson) bunching of independent phases; its boot
     * holds, overdue renewal points and backoff jitter come from the phase
     * too (picoacme_keeper_spread_rnd()), evenly spread instead of random. */
    uint32_t fleet_index;
    bool no_ari; /* never ask renewalInfo (default: ask when the
                    CA offers it and PICOACME_ARI is built in) */
    /* The keeper's own state (its A/B region; at least two erase blocks of
     * PICOACME_KEEPER_STATE_MAX + 24 bytes). NULL: RAM only (a reboot
     * starts without backoff, plan and ARI window). Must not overlap the
     * engine's storage. */
    const picoacme_storage_t *state_store;
} picoacme_keeper_config_t;

/* What picoacme_keeper_step() tells the application. */
typedef enum picoacme_keeper_event {
    PICOACME_KEEPER_EV_NONE = 0,
    /* a certificate was issued and stored: reload the TLS server (the
     * chain: picoacme_stored() on picoacme_keeper_ctx(); picoacme_stats()
     * there has the run's counters; picoacme_result() is not valid any
     * more, the keeper read the store since) */
    PICOACME_KEEPER_EV_ISSUED,
    /* an issuance attempt failed; the keeper backs off and tries again.
     * The problem: picoacme_keeper_problem(). Reported once per attempt. */
    PICOACME_KEEPER_EV_RENEWAL_FAILING,
    /* the stored certificate passed its notAfter (reported once per
     * certificate); the keeper keeps trying to renew */
    PICOACME_KEEPER_EV_EXPIRED
} picoacme_keeper_event_t;

/* What the keeper is doing. */
typedef enum picoacme_keeper_phase {
    PICOACME_KEEPER_PH_BOOT = 0, /* the stores are not read yet */
    PICOACME_KEEPER_PH_WAIT,     /* waiting for next_at_s */
    PICOACME_KEEPER_PH_TIME,     /* a directory GET to learn the time */
    PICOACME_KEEPER_PH_ARI,      /* asking the CA's renewalInfo */
    PICOACME_KEEPER_PH_ISSUE,    /* an issuance (enrolment or renewal) */
    PICOACME_KEEPER_PH_PROBE     /* after the CA did not answer: a directory GET, is it back? */
} picoacme_keeper_phase_t;

/* Why the next action is at next_at_s. */
typedef enum picoacme_keeper_why {
    PICOACME_KEEPER_WHY_NONE = 0,
    PICOACME_KEEPER_WHY_ENROL,        /* nothing stored */
    PICOACME_KEEPER_WHY_FRACTION,     /* the lifetime fraction with the device's phase */
    PICOACME_KEEPER_WHY_ARI_WINDOW,   /* a point in the CA's suggested window */
    PICOACME_KEEPER_WHY_ARI_RETRY,    /* asking the CA's renewalInfo again (Retry-After) */
    PICOACME_KEEPER_WHY_BACKOFF,      /* after failed attempts */
    PICOACME_KEEPER_WHY_RATE_LIMIT,   /* the CA's rateLimited Retry-After */
    PICOACME_KEEPER_WHY_LEARN_TIME,   /* the time is unknown: ask the CA's Date */
    PICOACME_KEEPER_WHY_RENEW_NOW,    /* picoacme_keeper_renew_now() */
    PICOACME_KEEPER_WHY_TIME_UNKNOWN, /* no time and no CA answered yet */
    PICOACME_KEEPER_WHY_RECOVERY      /* the CA answers again after failing: a spread return */
} picoacme_keeper_why_t;

/* A snapshot from picoacme_keeper_status(). Times are Unix seconds,
 * PICOACME_TIME_UNKNOWN (-1) when unknown, 0 when not set. */
typedef struct picoacme_keeper_status {
    picoacme_keeper_phase_t phase;
    picoacme_keeper_why_t why;
    int64_t now_s;      /* the keeper's time (wall clock or learned) */
    int64_t next_at_s;  /* the next action */
    int64_t renew_at_s; /* the renewal point of the stored certificate */
    int64_t not_before_s;
    int64_t not_after_s; /* 0: no certificate stored */
    bool ari;            /* renew_at_s lies in the CA's window */
    int64_t ari_start_s; /* the CA's window, when ari */
    int64_t ari_end_s;
    int64_t ari_retry_at_s;       /* ask renewalInfo again at (0: not asked) */
    int64_t backoff_until_s;      /* no attempt before (0: none) */
    int64_t rate_limited_until_s; /* the CA's rateLimited Retry-After (0: none) */
    uint8_t ca;                   /* index in cfg.cas of the CA in use */
    uint16_t failures;            /* failed attempts in a row */
    uint32_t issued;              /* certificates issued by this keeper since init */
    picoacme_problem_t problem;   /* the last failure; problem.err PICOACME_OK: none */
} picoacme_keeper_status_t;

/* The keeper's persisted state (encoded by keeper_state.c, at most
 * PICOACME_KEEPER_STATE_MAX bytes in its store). Callers SHALL NOT access
 * the fields; use picoacme_keeper_status(). */
typedef struct picoacme_keeper_state {
    uint32_t phase_rnd;       /* the device's random renewal phase */
    int64_t plan_not_after_s; /* the certificate the plan below belongs to */
    int64_t renew_at_s;       /* the picked renewal point */
    int64_t backoff_until_s;
    int64_t rate_limited_until_s;
    int64_t failback_at_s;
    int64_t ari_start_s;
    int64_t ari_end_s;
    int64_t ari_retry_at_s;
    uint16_t failures;   /* in a row, any CA */
    uint8_t ca;          /* the CA in use */
    uint8_t ca_failures; /* in a row with it (failover) */
    bool ari;            /* the window holds for ari_certid */
    bool ca_answered;    /* after failures: the CA answered the probe (renew at backoff_until_s) */
    char ari_certid[PICOACME_ARI_CERTID_MAX];
    picoacme_problem_t problem; /* the last failure (type and detail truncated on save) */
} picoacme_keeper_state_t;

/* The keeper: the engine context plus a few hundred bytes. Callers SHALL
 * NOT access the fields (they change between releases); the struct is
 * complete only so that it can be a static global. */
typedef struct picoacme_keeper {
    picoacme_ctx_t ctx;
    picoacme_keeper_config_t cfg;
    picoacme_ports_t ports;     /* the shared ports; tls per CA */
    picoacme_keeper_state_t st; /* persisted */
    uint8_t phase;              /* picoacme_keeper_phase_t */
    uint8_t why;                /* picoacme_keeper_why_t */
    uint8_t ctx_ca;             /* the CA ctx was set up for; 0xFF none */
    bool have_cert;
    bool renew_now;
    bool expired_told; /* EV_EXPIRED reported for this certificate */
    bool expired_due;  /* EV_EXPIRED to report at the next step */
    bool spread_done;  /* the boot spread was waited */
    int64_t not_before_s;
    int64_t not_after_s;
    int64_t next_at_s;
    int64_t learned_s; /* the CA's Date, when the clock has none */
    uint32_t learned_mono_ms;
    uint32_t issued;
    bool hold;             /* no time known: wait on the monotonic clock */
    uint32_t hold_mono_ms; /* until then */
    uint32_t boot_mono_ms; /* the boot (the start of its spread) */
} picoacme_keeper_t;

/* Prepare a keeper. Does no I/O (the stores are read by the first step).
 * k:     any memory (a static global: it holds a picoacme_ctx_t).
 * cfg:   copied; cfg->cas and what it points to must stay valid.
 * ports: copied; transport, crypto, storage (the engine's record) and
 *        clock are needed; tls is the default for CAs with tls NULL; log is
 *        optional. The port structs must stay valid.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (a NULL pointer, no CA,
 * a missing port, or a CA configuration picoacme_init() refuses, or
 * backoff_min_s above backoff_max_s); PICOACME_ERR_UNSUPPORTED (built
 * without PICOACME_KEEPER, or a CA needs a feature not built in). */
picoacme_err_t picoacme_keeper_init(picoacme_keeper_t *k, const picoacme_keeper_config_t *cfg,
                                    const picoacme_ports_t *ports);

/* Pump the keeper: decides, starts and pumps engine runs; never blocks,
 * never fails for good (a failed run becomes backoff, failover and an
 * event).
 * wait: filled as picoacme_step() fills it (may be NULL): the sockets of a
 *       run in flight, and timeout_ms until the next action (at most
 *       PICOACME_KEEPER_MAX_SLEEP_S, never UINT32_MAX).
 * Returns the event of this step (PICOACME_KEEPER_EV_NONE most of the
 * time); one event per call, a second one comes with the next call (the
 * wait is 0 then). */
picoacme_keeper_event_t picoacme_keeper_step(picoacme_keeper_t *k, picoacme_wait_t *wait);

/* Renew at the next step, whatever the plan and the backoff say (after a
 * revocation, a key compromise, an operator's request); a rateLimited
 * Retry-After still holds. A run in flight is not interrupted: an ARI or
 * time run is abandoned for the issuance, an issuance goes on.
 * Returns one of: PICOACME_OK; PICOACME_ERR_PARAM (k NULL). */
picoacme_err_t picoacme_keeper_renew_now(picoacme_keeper_t *k);

/* Stop a run in flight and release its sockets (safe at any time). The
 * next picoacme_keeper_step() decides again from the stored state. */
void picoacme_keeper_stop(picoacme_keeper_t *k);

/* A snapshot of the keeper (out is the caller's). Does no I/O. */
void picoacme_keeper_status(const picoacme_keeper_t *k, picoacme_keeper_status_t *out);

/* The last failure of an attempt (also kept across reboots with a state
 * store); problem.err PICOACME_OK when there was none. Points into k. */
const picoacme_problem_t *picoacme_keeper_problem(const picoacme_keeper_t *k);

/* The engine context the keeper drives: for picoacme_stored(),
 * picoacme_stats() of the last run, picoacme_http01_lookup(). Starting
 * runs on it yourself confuses the keeper: don't. */
picoacme_ctx_t *picoacme_keeper_ctx(picoacme_keeper_t *k);

/* Static names ("wait", "issue", ... / "fraction", "ARI window", ...). */
const char *picoacme_keeper_phase_str(picoacme_keeper_phase_t p);
const char *picoacme_keeper_why_str(picoacme_keeper_why_t w);

/* ---- the policy: pure functions (keeper_policy.c), for tests and tools -- */

/* The renewal point without ARI for a certificate valid [nb, na]: the last
 * instant t <= nb + lifetime * renew_permille / 1000 with
 * t = phase (mod Q), Q = that fraction * (1000 - jitter_permille) / 1000
 * and phase = Q * phase_rnd / 2^32 (Unix time, so the phase is absolute).
 * A device renewing at its point gets a certificate whose next point is
 * exactly Q later, so a fleet with uniformly random phases renews evenly
 * spread from the first renewal on and stays so; the first point after an
 * enrolment lies in [fraction - Q, fraction]. jitter_permille 0 gives the
 * fraction itself. Returns nb for an empty or negative lifetime. */
int64_t picoacme_keeper_fraction_point(int64_t nb, int64_t na, uint32_t phase_rnd,
                                       uint16_t renew_permille, uint16_t jitter_permille);

/* The phase of fleet member number index (picoacme_keeper_config_t
 * fleet_index): index times the golden ratio's fraction of 2^32, so the
 * phases of any n consecutive numbers spread evenly over the period. */
uint32_t picoacme_keeper_index_phase(uint32_t index);

/* The renewal point of a renewal found overdue at boot (its point passed
 * while the device was off or did not know the time): wait_s (what is
 * left of the fleet's boot spread, in which the fleet asks the time), then
 * a point in the next spread_s from rnd; never later than half of what is
 * left until not_after (a hard floor: the other half stays for retries),
 * and now itself when nothing is left. */
int64_t picoacme_keeper_overdue_point(int64_t now, int64_t not_after, uint32_t wait_s,
                                      uint32_t spread_s, uint32_t rnd);

/* The spreading value (the rnd of a backoff, a boot hold, an overdue
 * renewal's point) of a numbered fleet's member from its phase and a salt
 * (the purpose, the failure count): the members' values are as evenly
 * spread as their phases, also for any subset whose phases lie in an
 * interval (those whose renewal points fell in a CA outage), so their
 * retries come back at a flat rate instead of with random (Poisson)
 * bunching; like systemd's FixedRandomDelay. Deterministic. */
uint32_t picoacme_keeper_spread_rnd(uint32_t phase_rnd, uint32_t salt);

/* A point in the ARI window [start, end] from rnd (uniform over it),
 * clipped into [now, end] when now is known and the window started, and
 * never after not_after: a window ending after not_after uses
 * [start, not_after) when start < not_after; returns
 * PICOACME_TIME_UNKNOWN when the window starts after not_after (the caller
 * keeps the fraction and asks again). */
int64_t picoacme_keeper_window_point(int64_t start, int64_t end, int64_t not_after, int64_t now,
                                     uint32_t rnd);

/* The retry delay after `failures` failed attempts in a row (>= 1):
 * min_s * 8^(failures-1) capped at max_s, with jitter: a uniform point in
 * [3/4, 1] of it from rnd; then never more than two thirds of what is left
 * until not_after (when now and not_after are known; at least min_s).
 * Why x8 and two thirds: a fleet failing through a CA outage comes back,
 * when the CA does, at its renewal rate times the retries each device has
 * pending in the outage; long delays keep that low. The cap comes after
 * the jitter, so a capped delay is not pulled below it (tests/fleet (b):
 * with [1/2, 2/3] of what is left, about half of a 6-hour outage's second
 * retries were due by the recovery). */
uint32_t picoacme_keeper_backoff_s(uint16_t failures, uint32_t min_s, uint32_t max_s, uint32_t rnd,
                                   int64_t now, int64_t not_after);

/* ---- the persisted state (keeper_state.c) ------------------------------- */

/* Encode st into buf (cap bytes); *len gets the size. Returns one of:
 * PICOACME_OK; PICOACME_ERR_PARAM; PICOACME_ERR_NOSPACE. */
picoacme_err_t picoacme_keeper_state_encode(const picoacme_keeper_state_t *st, uint8_t *buf,
                                            size_t cap, size_t *len);

/* Decode buf[0, len) into st (zeroed first; zeroed again on a failure).
 * Only what encode writes is taken. Returns one of: PICOACME_OK;
 * PICOACME_ERR_PARAM; PICOACME_ERR_PARSE (another version, a bad length, a
 * string with a NUL inside its length or longer than encode writes). */
picoacme_err_t picoacme_keeper_state_decode(picoacme_keeper_state_t *st, const uint8_t *buf,
                                            size_t len);

#endif
