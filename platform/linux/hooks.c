/*
 * hooks.c - the commands picoacme runs after an issuance (--renew-hook),
 * with their exit status decoded for the log.
 */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

int hook_run(const char *cmd, char *why, size_t cap)
{
    int st = system(cmd);
    if (st == -1) {
        snprintf(why, cap, "could not be started");
        return -1;
    }
    if (WIFEXITED(st)) {
        snprintf(why, cap, "exited with status %d", WEXITSTATUS(st));
        return WEXITSTATUS(st) == 0 ? 0 : -1;
    }
    if (WIFSIGNALED(st)) {
        snprintf(why, cap, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
        return -1;
    }
    snprintf(why, cap, "ended with wait status %d", st);
    return -1;
}
