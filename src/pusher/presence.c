/*
 * presence.c -- who is on each presence- channel of this machine, across
 * workers: a table in memory shared by every worker (mapped before the
 * first fork), one slot per (channel, user, worker) with that worker's
 * number of sockets of that user on that channel.
 *
 * A join that finds no socket of that user anywhere on the machine is a new
 * member (member_added); a leave that leaves none is a member gone
 * (member_removed). Slots of workers that died are skipped and taken back.
 *
 * With KILN_REDIS_URL this table is what one machine knows: socket.c
 * passes its first-join / last-leave answers to realtime/members.c, which
 * decides over every machine through Redis and uses them only while Redis
 * is unreachable; member lists then come from Redis, this table being the
 * fallback.
 *
 * Owns: the shared table (PRES_SLOTS slots; full: the join is refused).
 * Must never: count a dead worker's sockets, or grow.
 */
#include "pusher/presence.h"
#include "realtime/shm.h"
#include "core/buf.h"
#include "core/core.h"
#include "runtime/log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PRES_SLOTS 4096

typedef struct pres_slot {
    int32_t pid;                 /* 0: free                                 */
    uint32_t conns;              /* sockets of this user here, this worker  */
    uint32_t chan_len, uid_len, info_len;
    char chan[PRESENCE_CHANNEL_MAX];
    char uid[PRESENCE_UID_MAX];
    char info[PRESENCE_INFO_MAX];
} pres_slot;

typedef struct pres_table {
    pthread_mutex_t mu;
    pres_slot slot[PRES_SLOTS];
} pres_table;

static pres_table *P;

__attribute__((constructor)) static void pres_create(void)
{
    P = shm_table(sizeof(pres_table), "presence table");
}

static void lock(void) { shm_lock(&P->mu, "presence table"); }

static bool alive(pres_slot *s)
{
    if (!s->pid) return false;
    if (s->pid == (int32_t)getpid()) return true;
    if (kill(s->pid, 0) != 0 && errno == ESRCH) { s->pid = 0; return false; }   /* take it back */
    return true;
}

static bool same(const pres_slot *s, kiln_str chan, kiln_str uid)
{
    return s->chan_len == chan.len && !memcmp(s->chan, chan.ptr, chan.len) &&
           (!uid.ptr || (s->uid_len == uid.len && !memcmp(s->uid, uid.ptr, uid.len)));
}

/* Sockets of uid on chan on the whole machine (lock held). */
static size_t total(kiln_str chan, kiln_str uid)
{
    size_t n = 0;
    for (int i = 0; i < PRES_SLOTS; i++)
        if (P->slot[i].pid && same(&P->slot[i], chan, uid) && alive(&P->slot[i])) n += P->slot[i].conns;
    return n;
}

int presence_join(kiln_str chan, kiln_str uid, kiln_str info, bool *first)
{
    if (!chan.len || chan.len > PRESENCE_CHANNEL_MAX || !uid.len || uid.len > PRESENCE_UID_MAX ||
        info.len > PRESENCE_INFO_MAX)
        return -1;
    int32_t me = (int32_t)getpid();
    lock();
    *first = total(chan, uid) == 0;
    int mine = -1, free_slot = -1;
    for (int i = 0; i < PRES_SLOTS && mine < 0; i++) {
        pres_slot *s = &P->slot[i];
        if (s->pid == me && same(s, chan, uid)) mine = i;
        else if (free_slot < 0 && !alive(s)) free_slot = i;
    }
    if (mine < 0 && free_slot >= 0) {
        pres_slot *s = &P->slot[free_slot];
        s->chan_len = (uint32_t)chan.len;
        memcpy(s->chan, chan.ptr, chan.len);
        s->uid_len = (uint32_t)uid.len;
        memcpy(s->uid, uid.ptr, uid.len);
        s->info_len = (uint32_t)info.len;
        memcpy(s->info, info.ptr, info.len);
        s->conns = 0;
        s->pid = me;
        mine = free_slot;
    }
    if (mine >= 0) P->slot[mine].conns++;
    pthread_mutex_unlock(&P->mu);
    return mine;
}

bool presence_leave(int slot)
{
    if (slot < 0) return false;
    lock();
    pres_slot *s = &P->slot[slot];
    KILN_ASSERT(s->pid == (int32_t)getpid() && s->conns > 0);
    kiln_str chan = { s->chan, s->chan_len }, uid = { s->uid, s->uid_len };
    bool last;
    if (--s->conns == 0) {
        s->pid = 0;
        last = total(chan, uid) == 0;   /* chan/uid still readable: the slot is ours */
    } else {
        last = false;
    }
    pthread_mutex_unlock(&P->mu);
    return last;
}

void presence_members(kiln_str chan, void (*fn)(void *ctx, kiln_str uid, kiln_str info), void *ctx)
{
    /* Copy out under the lock, one entry per user, then call fn without it. */
    pres_slot *copy = kiln_xmalloc(sizeof(pres_slot) * 64);
    size_t n = 0, cap = 64;
    lock();
    for (int i = 0; i < PRES_SLOTS; i++) {
        pres_slot *s = &P->slot[i];
        if (!s->pid || !same(s, chan, (kiln_str){ NULL, 0 }) || !s->conns || !alive(s)) continue;
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = copy[k].uid_len == s->uid_len && !memcmp(copy[k].uid, s->uid, s->uid_len);
        if (dup) continue;
        if (n == cap) copy = kiln_xrealloc(copy, sizeof(pres_slot) * (cap *= 2));
        copy[n++] = *s;
    }
    pthread_mutex_unlock(&P->mu);
    for (size_t k = 0; k < n; k++)
        fn(ctx, (kiln_str){ copy[k].uid, copy[k].uid_len }, (kiln_str){ copy[k].info, copy[k].info_len });
    free(copy);
}
