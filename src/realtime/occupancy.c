/*
 * occupancy.c -- the machine's table of occupied channels (occupancy.h).
 *
 * One slot per (channel, worker) pair that has subscriptions, in a fixed
 * table mapped MAP_SHARED before the first fork (a constructor, like the
 * channel ring). A worker claims a slot when it gets its first subscription
 * to a channel and releases it with its last; in between it only stores the
 * count (an atomic store, no lock). Readers lock, scan, and add up the
 * counts per name. A worker that dies leaves its slots behind: readers skip
 * slots whose pid no longer exists and free them.
 *
 * Owns: the shared table.
 * Must never: grow (a full table means "not listed", logged once per
 * worker), or trust a slot of a process that is gone.
 */
#include "realtime/occupancy.h"
#include "realtime/shm.h"
#include "core/buf.h"
#include "core/core.h"
#include "runtime/log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#define OCC_SLOTS 8192
#define OCC_NAME_MAX 200

typedef struct occ_slot {
    int32_t pid;                /* 0: free                                   */
    uint32_t count;             /* subscriptions of that worker              */
    uint32_t len;
    char name[OCC_NAME_MAX];
} occ_slot;

typedef struct occ_table {
    pthread_mutex_t mu;         /* process-shared, robust; claims and scans  */
    occ_slot slot[OCC_SLOTS];
} occ_table;

static occ_table *T;
static bool full_logged;

__attribute__((constructor)) static void occ_create(void)
{
    T = shm_table(sizeof(occ_table), "channel occupancy");
}

static void lock(void) { shm_lock(&T->mu, "channel occupancy"); }

static bool pid_gone(int32_t pid)
{
    return kill(pid, 0) != 0 && errno == ESRCH;
}

/* One kill(pid, 0) per process and scan, not per slot. */
typedef struct pid_cache { int32_t pid[64]; bool gone[64]; int n; } pid_cache;

static bool cached_gone(pid_cache *c, int32_t pid)
{
    for (int i = 0; i < c->n; i++) if (c->pid[i] == pid) return c->gone[i];
    bool g = pid_gone(pid);
    if (c->n < 64) { c->pid[c->n] = pid; c->gone[c->n++] = g; }
    return g;
}

int occupancy_claim(kiln_str name)
{
    if (name.len == 0 || name.len > OCC_NAME_MAX) return -1;
    int32_t me = (int32_t)getpid();
    lock();
    int found = -1;
    pid_cache pc = { 0 };
    for (int pass = 0; pass < 2 && found < 0; pass++)
    for (int i = 0; i < OCC_SLOTS && found < 0; i++) {
        occ_slot *s = &T->slot[i];
        /* Second pass: take back the slots of workers that died. */
        if (pass == 1 && s->pid && s->pid != me && cached_gone(&pc, s->pid)) s->pid = 0;
        if (!s->pid) {
            s->len = (uint32_t)name.len;
            memcpy(s->name, name.ptr, name.len);
            s->count = 0;
            __atomic_store_n(&s->pid, me, __ATOMIC_RELEASE);
            found = i;
        }
    }
    pthread_mutex_unlock(&T->mu);
    if (found < 0 && !full_logged) {
        log_event(LOG_WARN, NULL, "channel occupancy table full: some channels are not listed", "\"slots\":%d", OCC_SLOTS);
        full_logged = true;
    }
    return found;
}

void occupancy_set(int slot, size_t count)
{
    if (slot >= 0) __atomic_store_n(&T->slot[slot].count, (uint32_t)count, __ATOMIC_RELAXED);
}

void occupancy_release(int slot)
{
    if (slot < 0) return;
    lock();
    T->slot[slot].count = 0;
    T->slot[slot].pid = 0;
    pthread_mutex_unlock(&T->mu);
}

/* Names seen in one scan, with their summed counts (a small open hash). */
typedef struct agg { const char *name; uint32_t len; size_t count; } agg;

void occupancy_each(const char *prefix, void (*fn)(void *ctx, kiln_str name, size_t count), void *ctx)
{
    size_t plen = prefix ? strlen(prefix) : 0;
    agg *seen = kiln_xcalloc(OCC_SLOTS * 2, sizeof *seen);
    occ_slot *copy = kiln_xmalloc(sizeof(occ_slot) * OCC_SLOTS);
    int n = 0;
    pid_cache pc = { 0 };
    lock();
    for (int i = 0; i < OCC_SLOTS; i++) {
        occ_slot *s = &T->slot[i];
        if (!s->pid) continue;
        if (cached_gone(&pc, s->pid)) { s->pid = 0; continue; }
        if (!s->count || s->len < plen || memcmp(s->name, prefix, plen) != 0) continue;
        copy[n++] = *s;
    }
    pthread_mutex_unlock(&T->mu);
    for (int i = 0; i < n; i++) {
        uint64_t h = 1469598103934665603ull;
        for (uint32_t k = 0; k < copy[i].len; k++) h = (h ^ (unsigned char)copy[i].name[k]) * 1099511628211ull;
        size_t j = h & (OCC_SLOTS * 2 - 1);
        while (seen[j].name && !(seen[j].len == copy[i].len && !memcmp(seen[j].name, copy[i].name, copy[i].len)))
            j = (j + 1) & (OCC_SLOTS * 2 - 1);
        seen[j].name = copy[i].name;
        seen[j].len = copy[i].len;
        seen[j].count += copy[i].count;
    }
    for (size_t j = 0; j < OCC_SLOTS * 2; j++)
        if (seen[j].name) fn(ctx, (kiln_str){ seen[j].name, seen[j].len }, seen[j].count);
    free(copy);
    free(seen);
}

size_t occupancy_count(kiln_str name)
{
    size_t total = 0;
    pid_cache pc = { 0 };
    lock();
    for (int i = 0; i < OCC_SLOTS; i++) {
        occ_slot *s = &T->slot[i];
        if (s->pid && s->len == name.len && !memcmp(s->name, name.ptr, name.len) && !cached_gone(&pc, s->pid))
            total += s->count;
    }
    pthread_mutex_unlock(&T->mu);
    return total;
}
