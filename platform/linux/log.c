/*
 * log.c - what the picoacme command says: to stderr (with a wall-clock
 * ISO-8601 UTC timestamp when g_log.stamp, as `run` does) or to syslog
 * (--syslog), filtered by -q / -v / -vv.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

log_opts_t g_log;

void log_start(void)
{
    if (g_log.use_syslog) {
        openlog("picoacme", LOG_PID, LOG_DAEMON);
    }
}

/* Does a line of this syslog priority pass -q / -v / -vv? */
static bool wanted(int prio)
{
    int limit = g_log.verbosity < 0    ? LOG_WARNING
                : g_log.verbosity == 0 ? LOG_NOTICE
                : g_log.verbosity == 1 ? LOG_INFO
                                       : LOG_DEBUG;
    return prio <= limit;
}

void say_v(int prio, const char *fmt, va_list ap)
{
    if (!wanted(prio)) {
        return;
    }
    if (g_log.use_syslog) {
        vsyslog(prio, fmt, ap);
        return;
    }
    if (g_log.stamp) {
        char t[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(stderr, "%s ", t);
    }
    fputs("picoacme: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void say(int prio, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say_v(prio, fmt, ap);
    va_end(ap);
}

void log_hook(void *user, int level, const char *fmt, ...)
{
    va_list ap;
    (void)user;
    /* -v: the engine's requests (info); -vv: everything it says */
    if (g_log.verbosity < 1 || (g_log.verbosity < 2 && level > PICOACME_LOG_LVL_INF)) {
        return;
    }
    va_start(ap, fmt);
    say_v(level > PICOACME_LOG_LVL_INF ? LOG_DEBUG : LOG_INFO, fmt, ap);
    va_end(ap);
}
