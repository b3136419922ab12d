/*
 * core_main.c - a minimal application of the engine for footprint
 * measurement (scripts/bench/core_footprint.py): it references the public
 * calls a firmware makes, so the linker keeps exactly what such a firmware
 * keeps. The ports are left undefined (sized elsewhere).
 */
#include "picoacme.h"

const size_t picoacme_ctx_size = sizeof(picoacme_ctx_t);
static picoacme_ctx_t ctx;
extern const picoacme_ports_t ports;
extern const picoacme_config_t config;

int main(void)
{
    picoacme_wait_t w;
    picoacme_stored_info_t info;
    char out[128];
    size_t n;
    if (picoacme_init(&ctx, &config, &ports) != PICOACME_OK) {
        return 1;
    }
    (void)picoacme_stored(&ctx, &info);
    (void)picoacme_issue_start(&ctx);
    while (picoacme_step(&ctx, &w) != PICOACME_OK) {
    }
    (void)picoacme_http01_lookup(&ctx, "/", 1U, out, sizeof out, &n);
    /* a firmware prints what failed */
    return (int)picoacme_err_str(picoacme_last_problem(&ctx)->err)[0] +
           (int)picoacme_state_str(picoacme_last_problem(&ctx)->state)[0];
}
