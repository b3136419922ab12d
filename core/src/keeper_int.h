/*
 * keeper_int.h - private to the keeper's files (keeper.c, keeper_run.c):
 * the helpers they share.
 */
#ifndef PICOACME_KEEPER_INT_H
#define PICOACME_KEEPER_INT_H

#include "internal.h"

#include "picoacme_keeper.h"

#if PICOACME_KEEPER

#define NO_CA           0xFFU
#define ARI_RETRY_DEF_S 21600 /* RFC 9773 §4.3 default when the CA said nothing */
#define ARI_RETRY_MIN_S 60
#define ARI_RETRY_MAX_S 86400

typedef enum { ACT_NONE = 0, ACT_TIME, ACT_ARI, ACT_ISSUE, ACT_PROBE } act_t;

/* the salts of keeper_spread_rnd() */
enum { SALT_BOOT = 1, SALT_OVERDUE = 2, SALT_RECOVERY = 3 };

/* keeper.c */
uint32_t keeper_mono(const picoacme_keeper_t *k);
/* the wall clock, or the CA's Date plus the monotonic time since */
int64_t keeper_now(const picoacme_keeper_t *k);
uint32_t keeper_rand(picoacme_keeper_t *k);
/* the random value of a decision that spreads a fleet (salt: which one) */
uint32_t keeper_spread_rnd(picoacme_keeper_t *k, uint32_t salt);
/* r (uniform over 32 bits) scaled into [0, n] */
uint32_t keeper_scaled(uint32_t r, uint32_t n);
void keeper_log(picoacme_keeper_t *k, int lvl, const char *what, int64_t a, int64_t b);
uint32_t keeper_cfg_or(uint32_t v, uint32_t def);
void keeper_save_state(picoacme_keeper_t *k);
/* the engine context set up for CA i; false when picoacme_init refused */
bool keeper_ctx_for(picoacme_keeper_t *k, uint8_t i);
/* the stored certificate's validity into k (a new plan for a new one) */
void keeper_read_cert(picoacme_keeper_t *k);
/* the next action and its time (Unix seconds) */
act_t keeper_plan(picoacme_keeper_t *k, int64_t now, int64_t *at);

/* keeper_run.c */
/* start the engine run of action a (the phase set) */
picoacme_err_t keeper_start_run(picoacme_keeper_t *k, act_t a);
/* the run ended with e: its outcome into the state; the event to report */
picoacme_keeper_event_t keeper_run_end(picoacme_keeper_t *k, picoacme_err_t e);

#endif
#endif
