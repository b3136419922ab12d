/*
 * lock_hooks_config.h - PICOACME_CONFIG_FILE of the lock-hook test: the
 * engine's lock hooks call the test's counters.
 */
#ifndef LOCK_HOOKS_CONFIG_H
#define LOCK_HOOKS_CONFIG_H

struct picoacme_ctx;
void test_lock(const struct picoacme_ctx *ctx);
void test_unlock(const struct picoacme_ctx *ctx);

#define PICOACME_LOCK(ctx)   test_lock(ctx)
#define PICOACME_UNLOCK(ctx) test_unlock(ctx)

#endif
