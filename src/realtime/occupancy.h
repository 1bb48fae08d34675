/*
 * occupancy.h -- which channels have subscribers on this machine, and how
 * many: a table in memory shared by every worker, so any worker can answer
 * "which channels are occupied" (Pusher's GET /channels) for all of them.
 */
#ifndef KILN_REALTIME_OCCUPANCY_H
#define KILN_REALTIME_OCCUPANCY_H

#include "kiln.h"

#include <stdbool.h>
#include <stddef.h>

/* channel.c: this worker has its first subscription to a channel (returns
 * a slot, -1 if the name is too long or the table is full: then the
 * channel is simply not listed), its count changed, its last one left. */
int occupancy_claim(kiln_str name);
void occupancy_set(int slot, size_t count);
void occupancy_release(int slot);

/* Every occupied channel of the machine whose name starts with prefix:
 * fn(ctx, name, subscriptions summed over the workers). */
void occupancy_each(const char *prefix, void (*fn)(void *ctx, kiln_str name, size_t count), void *ctx);
/* Subscriptions to one channel on the whole machine. */
size_t occupancy_count(kiln_str name);

#endif
