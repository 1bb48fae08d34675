/*
 * date.c -- the HTTP Date header value, formatted once per second.
 * Owns: a per-process cached string. Must never: call strftime per request.
 */
#include "runtime/engine.h"

#include <time.h>

static char cached[40];
static time_t cached_sec = -1;

void http_date_tick(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec == cached_sec) return;
    cached_sec = ts.tv_sec;
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(cached, sizeof cached, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

const char *http_date_now(void)
{
    if (cached_sec < 0) http_date_tick();
    return cached;
}
