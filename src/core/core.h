/*
 * core.h -- the few things every layer of Kiln shares: loud failure,
 * allocation that never returns NULL, branch hints, and the request arena.
 *
 * Rule: out-of-memory and broken invariants abort with file:line (Redis's
 * serverPanic, h2o's h2o_fatal). Request-scoped errors never come here: they
 * become HTTP statuses where they happen.
 */
#ifndef KILN_CORE_H
#define KILN_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

_Noreturn void kiln_panic_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define KILN_PANIC(...) kiln_panic_at(__FILE__, __LINE__, __VA_ARGS__)
#define KILN_ASSERT(c) \
    do { if (UNLIKELY(!(c))) KILN_PANIC("assertion failed: %s", #c); } while (0)

void *kiln_xmalloc(size_t n);
void *kiln_xcalloc(size_t n, size_t size);
void *kiln_xrealloc(void *p, size_t n);
char *kiln_xstrdup(const char *s);

/* Blocks of a size a thread frees and takes again and again (a request's
 * read buffer and arena blocks): kiln_block_put keeps the last few of each
 * size for the next kiln_block_get of that size, when the thread turned its
 * cache on (the worker's loop thread does); otherwise they are malloc and
 * free. A cached block is an ordinary malloc'd one: free() is also right.
 * Blocks over KILN_BLOCK_MAX bytes are never kept. blockcache.c. */
#define KILN_BLOCK_MAX (128 * 1024)
void *kiln_block_get(size_t n);                /* n bytes (KILN_PANIC on OOM) */
void kiln_block_put(void *p, size_t n);        /* p: n bytes or more; NULL ok */
void kiln_block_cache(bool on);                /* off: frees what it kept     */
size_t kiln_block_cached(void);                /* bytes kept (for tests)      */

/* ---- The arena ---------------------------------------------------------
 * A bump allocator made of a chain of blocks. The first block is kept when
 * the arena is reset, so a steady stream of small requests allocates nothing
 * from malloc. Deferred clean-ups run (last registered first) on reset and
 * on destroy. */
typedef struct arena_block arena_block;
typedef struct arena_defer arena_defer;

typedef struct arena {
    arena_block *head;     /* current block (newest), chain to older ones */
    arena_defer *defers;   /* clean-ups, newest first                      */
    size_t first_size;     /* size of the kept first block                 */
    void *parked;          /* parked (or just restored): its packed copy   */
    uint32_t parked_len;   /* ... of this many bytes, from the block start */
    bool mapped;           /* the first block is an mmap of its own (paged) */
    bool off;              /* parked: the first block is PROT_NONE         */
} arena;

void arena_init(arena *a, size_t first_block_size);
/* 16-byte aligned, NOT zeroed. The fast path (room in the newest block) is
 * inline: it runs for every node of every response tree. */
struct arena_block {
    arena_block *prev;   /* older block                    */
    size_t size;         /* usable bytes in data[]         */
    size_t used;         /* bytes handed out from data[]   */
    _Alignas(16) unsigned char data[];
};
void *arena_alloc_grow(arena *a, size_t n);    /* the slow path: a new block  */
static inline void *arena_alloc(arena *a, size_t n)
{
    arena_block *b = a->head;
    size_t m = (n + 15 + !n) & ~(size_t)15;
    if (__builtin_expect(b->size - b->used >= m, 1)) {
        void *p = b->data + b->used;
        b->used += m;
        return p;
    }
    return arena_alloc_grow(a, n);
}
void *arena_calloc(arena *a, size_t n);        /* zeroed                      */
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_strdup(arena *a, const char *s);
/* printf into the arena: the formatted text, NUL-terminated. */
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3), nonnull(2)));
char *arena_vprintf(arena *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0), nonnull(2)));
/* Room for one more element in an arena array: v holds n elements of elem
 * bytes and has room for *cap. While n < *cap, v comes back as it is; else a
 * new array of twice the room (`first` when *cap is 0) with the n elements
 * copied in, and *cap set to its room (the old array stays in the arena
 * until reset). A size that overflows is a KILN_PANIC. */
void *arena_grow(arena *a, const void *v, size_t n, size_t *cap, size_t elem, size_t first);
/* The usual way to call it, for an array lvalue and a count and capacity of
 * any unsigned type (a capacity its type cannot hold is a KILN_PANIC):
 *     ARENA_GROW(a, d->pending, d->npending, d->cap, 8);
 *     d->pending[d->npending++] = ...; */
#define ARENA_GROW(a, arr, n, cap, first)                                           \
    do {                                                                            \
        if ((size_t)(n) >= (size_t)(cap)) {                                         \
            size_t cap_ = (size_t)(cap);                                            \
            (arr) = arena_grow((a), (arr), (size_t)(n), &cap_, sizeof *(arr), (first)); \
            (cap) = cap_;                                                           \
            if ((size_t)(cap) != cap_) KILN_PANIC("arena array: %zu elements do not fit its capacity's type", cap_); \
        }                                                                           \
    } while (0)
void arena_defer_fn(arena *a, void (*fn)(void *), void *arg);
void arena_reset(arena *a);                    /* run defers, keep 1st block  */
void arena_destroy(arena *a);                  /* run defers, free all        */
size_t arena_used(const arena *a);             /* bytes handed out (for tests) */
size_t arena_reserved(const arena *a);         /* bytes its blocks take from malloc */
bool arena_owns(const arena *a, const void *p); /* p is in one of its blocks   */
void arena_run_defers(arena *a);               /* its clean-ups now, memory kept */
/* A long wait begins (a parked WebSocket handler): the whole pages of the
 * newest block that nothing was handed out from go back to the kernel
 * (madvise; they read as zeros when next used). Allocation goes on as usual. */
void arena_release_unused(arena *a);
/* arena_init with a page-aligned first block of `bytes` rounded up to whole
 * pages (two at least), header included: for a request that may wait long
 * (an upgrade), so that arena_release_unused gives back every page beyond
 * the ones in use. */
void arena_init_paged(arena *a, size_t bytes);
/* Parking (runtime/park.c): a paged arena of one block whose request waits
 * long. arena_park packs the bytes in use (kiln_zrun_pack) and gives the
 * block's pages back, leaving them PROT_NONE (a touch faults, never reads
 * zeros); false when it cannot (not paged, more than one block, parked).
 * arena_unpark puts the bytes back at the same addresses (a no-op when not
 * parked); arena_reset, arena_destroy and arena_release_unused do it first.
 * arena_fault, from a SIGSEGV handler on the arena's thread: when addr lies
 * in the parked block, restore it (no allocation, no free: the copy is freed
 * by the next arena_unpark or arena_park) and return true. */
bool arena_park(arena *a);
void arena_unpark(arena *a);
bool arena_fault(arena *a, const void *addr);
/* The range a parked arena's touch faults in, [*lo, *hi); false when it is
 * not parked (park.c's index of parked ranges). */
bool arena_parked_span(const arena *a, uintptr_t *lo, uintptr_t *hi);
/* The same for any memory we own: the whole pages inside [p, p+n) are given
 * back (MADV_DONTNEED); their contents are lost, the range stays ours. */
void kiln_release_pages(void *p, size_t n);

/* zrun.c: memory set aside while unused (parked stacks and arenas), packed
 * by runs of zero bytes. kiln_zrun_pack returns a malloc'd block (free() it)
 * and its length; kiln_zrun_unpack writes exactly the n bytes that were
 * packed, allocates nothing and may run in a signal handler. */
void *kiln_zrun_pack(const void *p, size_t n, size_t *packed_len);
void kiln_zrun_unpack(void *dst, size_t n, const void *packed);

#endif
