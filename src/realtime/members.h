/*
 * members.h -- members of presence channels across machines (Redis).
 *
 * The layer above (Pusher presence, src/pusher) keeps the machine's own
 * table and calls these on every join and leave of a socket; this file
 * decides, over every machine sharing KILN_REDIS_URL, when a user is a new
 * member (first socket anywhere) or gone (last socket anywhere), publishes
 * the member events once for all machines, and answers member lists.
 * Without Redis, or while it is unreachable, the caller's own machine-level
 * decision stands and its events stay on this machine.
 *
 * Loop thread only (the Pusher socket callbacks), except members_list_wait
 * (a request's coroutine).
 */
#ifndef KILN_REALTIME_MEMBERS_H
#define KILN_REALTIME_MEMBERS_H

#include "kiln.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The events: pusher_internal:member_added {"user_id":U,"user_info":I}
 * and pusher_internal:member_removed {"user_id":U} (Pusher's protocol). */

/* A member list, called back on the loop thread: n pairs of (user id as
 * JSON text, user_info JSON text). shared: the list covers every machine;
 * false: Redis did not answer (in time), list your own machine's. */
typedef void (*members_list_fn)(void *ctx, bool shared, const kiln_str *uids, const kiln_str *infos, size_t n);
typedef struct members_req members_req;

/* A socket (origin) of user uid (JSON text), with user_info info (JSON
 * text), joins chan on this worker; local_first: it is the user's first
 * socket on this machine (the caller's table). Returns a pending list
 * request (fn is called once, later, unless cancelled), or NULL when Redis
 * is not configured or not up: then member_added was published on this
 * machine if local_first, and the caller lists its own table. */
members_req *members_join(kiln_str chan, kiln_str uid, kiln_str info, uint64_t origin, bool local_first,
                          members_list_fn fn, void *ctx);
/* fn will not be called (the socket left first). */
void members_cancel(members_req *r);
/* The socket leaves; local_last: it was the user's last on this machine. */
void members_leave(kiln_str chan, kiln_str uid, uint64_t origin, bool local_last);

/* From a request's coroutine (it suspends, at most MEMBERS_WAIT_MS): every
 * member of chan on every machine, each(ctx, uid, info) once per user.
 * Returns the number of members, or -1 when Redis is not configured or did
 * not answer in time (list this machine's). */
long members_list_wait(kiln_str chan, void (*each)(void *ctx, kiln_str uid, kiln_str info), void *ctx);
/* The same for the channels that have members on any machine, whose names
 * start with prefix: each(ctx, name, number of users as decimal text). */
long members_channels_wait(kiln_str prefix, void (*each)(void *ctx, kiln_str name, kiln_str users), void *ctx);

#endif
