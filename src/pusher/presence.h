/*
 * presence.h -- members of presence- channels on this machine (all workers).
 */
#ifndef KILN_PUSHER_PRESENCE_H
#define KILN_PUSHER_PRESENCE_H

#include "kiln.h"

#include <stdbool.h>

#define PRESENCE_CHANNEL_MAX 165
#define PRESENCE_UID_MAX 128
#define PRESENCE_INFO_MAX 1024

/* A socket of user uid (JSON text of user_info in info) joins chan. Returns
 * a slot for presence_leave (-1: refused, too long or table full); *first:
 * no other socket of that user is on chan anywhere on the machine. */
int presence_join(kiln_str chan, kiln_str uid, kiln_str info, bool *first);
/* The socket leaves; true when it was the user's last on the machine. */
bool presence_leave(int slot);
/* Every member of chan once: fn(ctx, user id, user_info JSON). */
void presence_members(kiln_str chan, void (*fn)(void *ctx, kiln_str uid, kiln_str info), void *ctx);

#endif
