/*
 * lookup.h -- a host name's address, looked up on a thread nobody waits
 * for (lookup.c). Internal to src/realtime (the Redis host of
 * KILN_REDIS_URL). Loop thread only.
 */
#ifndef KILN_REALTIME_LOOKUP_H
#define KILN_REALTIME_LOOKUP_H

#include "runtime/loop.h"

#include <stdbool.h>

/* Called on the loop thread: addr is the host's first address (numeric,
 * IPv4 first, IPv6 when it has none), or NULL and why says why not. */
typedef void (*lookup_done_fn)(const char *addr, const char *why);

/* Look host up; done runs once, on l's thread, with the answer or after
 * wait_ms without one (the lookup is then abandoned, never waited for;
 * wait_ms doubles after each abandoned lookup, up to 8 x, until an answer).
 * One at a time: the caller checks lookup_busy first. */
void lookup_start(loop *l, const char *host, unsigned wait_ms, lookup_done_fn done);
bool lookup_busy(void);
/* Worker exit: abandon what is under way (no done call), unwatch. */
void lookup_detach(void);

#endif
