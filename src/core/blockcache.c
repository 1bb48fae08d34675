/*
 * blockcache.c -- a worker thread's small cache of freed memory blocks.
 *
 * An idle keep-alive connection holds no read buffer and no arena (that is
 * how it stays near 1.4 KB), so every request on it takes a 32 KB read
 * buffer, an 8 KB arena block and a few small buffers from malloc and gives
 * them back when it is answered. Through glibc that is a handful of
 * _int_malloc/_int_free walks per request for blocks that are the same size
 * every time. Here the thread keeps the last few blocks of each such size
 * and hands them out again: the next request gets memory that is still in
 * the CPU's cache, with no malloc call.
 *
 * The cache is per thread and off unless the thread turned it on
 * (kiln_block_cache(true): the worker's loop thread does, pool threads do
 * not). It is bounded: two sizes per power of two up to 128 KB, a few
 * blocks each, BC_MAX_BYTES in all.
 * Every block in it is an ordinary malloc'd block, so code that frees one
 * with free() instead of kiln_block_put() is still right, only uncached.
 * Under AddressSanitizer the cached blocks are poisoned, so a use after
 * "free" is still reported.
 *
 * Owns: the blocks in the calling thread's cache. Must never: hand out a
 * block smaller than asked (a put checks the block's usable size), keep
 * more than BC_MAX_BYTES, or keep anything once the thread turned it off.
 */
#include "core.h"

#include <malloc.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define BC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BC_ASAN 1
#endif
#endif
#ifdef BC_ASAN
#include <sanitizer/asan_interface.h>
#define BC_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define BC_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define BC_POISON(p, n) ((void)(p), (void)(n))
#define BC_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

enum {
    BC_CLASSES = 18,              /* one size per power of two, up to 2^17 */
    BC_DEPTH = 16,                /* blocks kept of each size              */
    BC_MAX_BYTES = 1024 * 1024,   /* all blocks kept, together             */
};

/* Two exact sizes per power-of-two class: finding a block's slot is one
 * count-leading-zeros and at most two compares, not a search. An empty
 * slot goes to the next size put in its class, so a size seen once at
 * start-up does not hold it for good. */
typedef struct bc_slot {
    size_t size;                  /* 0: unclaimed                           */
    unsigned n;
    void *blocks[BC_DEPTH];
} bc_slot;

static _Thread_local bool bc_on;
static _Thread_local size_t bc_bytes;
static _Thread_local bc_slot bc_slots[BC_CLASSES][2];

/* n's slot, or (claim) an empty one of its class for it; NULL if none. */
static inline bc_slot *slot_of(size_t n, bool claim)
{
    bc_slot *w = bc_slots[63 - __builtin_clzll((unsigned long long)n)];
    if (w[0].size == n) return &w[0];
    if (w[1].size == n) return &w[1];
    if (!claim) return NULL;
    bc_slot *s = !w[0].n ? &w[0] : !w[1].n ? &w[1] : NULL;
    if (s) s->size = n;
    return s;
}

void *kiln_block_get(size_t n)
{
    if (bc_on && n && n <= KILN_BLOCK_MAX) {
        bc_slot *s = slot_of(n, false);
        if (s && s->n) {
            void *p = s->blocks[--s->n];
            bc_bytes -= n;
            BC_UNPOISON(p, n);
            return p;
        }
    }
    return kiln_xmalloc(n);
}

void kiln_block_put(void *p, size_t n)
{
    if (!p) return;
    if (bc_on && n && n <= KILN_BLOCK_MAX && bc_bytes + n <= BC_MAX_BYTES) {
        bc_slot *s = slot_of(n, true);
        /* The usable-size check keeps a caller's wrong n from ever making
         * a later get() hand out too small a block. */
        if (s && s->n < BC_DEPTH && malloc_usable_size(p) >= n) {
            BC_POISON(p, n);
            s->blocks[s->n++] = p;
            bc_bytes += n;
            return;
        }
    }
    free(p);
}

void kiln_block_cache(bool on)
{
    if (!on) {
        for (int i = 0; i < 2 * BC_CLASSES; i++) {
            bc_slot *s = &bc_slots[i / 2][i % 2];
            while (s->n) {
                void *p = s->blocks[--s->n];
                BC_UNPOISON(p, s->size);
                free(p);
            }
            s->size = 0;
        }
        bc_bytes = 0;
    }
    bc_on = on;
}

size_t kiln_block_cached(void) { return bc_bytes; }
