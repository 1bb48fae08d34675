/*
 * arena.c -- per-request memory (the Lwan coro_malloc / h2o req->pool idea).
 *
 * A paged arena (arena_init_paged: a request that may wait for hours, a
 * WebSocket upgrade) has a first block mapped on its own, which parking
 * (arena_park) packs aside and makes PROT_NONE until it is used again.
 *
 * Owns: a chain of malloc'd blocks (the first one mmap'd when paged; the
 * others taken from and given back to the thread's block cache), a list
 * of deferred clean-ups, and while parked the packed copy of the first block.
 * Everything a request allocates comes from here and goes away at once when
 * the request ends, so handlers never free(). The first block survives
 * arena_reset() so that a keep-alive connection serving small requests makes
 * no malloc calls at all.
 *
 * Must never: return NULL (allocation failure aborts), free a block while
 * a defer registered after it could still touch it (defers run first), or
 * allocate or free in arena_fault (a signal handler calls it).
 */
#include "core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* struct arena_block is in core.h: arena_alloc()'s fast path is inline. */

struct arena_defer {
    arena_defer *next;
    void (*fn)(void *);
    void *arg;
};

#define ALIGN16(n) (((n) + 15) & ~(size_t)15)

static arena_block *block_new(size_t size, arena_block *prev)
{
    arena_block *b = kiln_block_get(sizeof(*b) + size);
    b->prev = prev;
    b->size = size;
    b->used = 0;
    return b;
}

void arena_init(arena *a, size_t first_block_size)
{
    a->first_size = first_block_size ? ALIGN16(first_block_size) : 4096;
    a->head = block_new(a->first_size, NULL);
    a->defers = NULL;
    a->mapped = a->off = false;
    a->parked = NULL;
    a->parked_len = 0;
}

static size_t page_size(void)
{
    static size_t page;
    if (!page) page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

void arena_init_paged(arena *a, size_t bytes)
{
    size_t page = page_size();
    size_t total = (bytes + page - 1) / page * page;
    if (total < 2 * page) total = 2 * page;
    /* An mapping of its own, so that parking can make it PROT_NONE. */
    void *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) KILN_PANIC("out of memory (%zu bytes, page-aligned)", total);
    arena_block *b = p;
    b->prev = NULL;
    b->size = total - sizeof(*b);
    b->used = 0;
    a->first_size = b->size;
    a->head = b;
    a->defers = NULL;
    a->mapped = true;
    a->off = false;
    a->parked = NULL;
    a->parked_len = 0;
}

static size_t mapped_len(const arena *a) { return a->first_size + sizeof(arena_block); }

bool arena_park(arena *a)
{
    if (!a->mapped || a->off || !a->head || a->head->prev || a->first_size > UINT32_MAX / 2) return false;
    free(a->parked);                       /* a copy left by arena_fault */
    arena_block *b = a->head;
    a->parked_len = (uint32_t)(sizeof(*b) + b->used);
    a->parked = kiln_zrun_pack(b, a->parked_len, &(size_t){ 0 });
    /* One call: the pages go back to the kernel and the range faults. */
    if (mmap(b, mapped_len(a), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
        KILN_PANIC("parking an arena: mmap failed");
    a->off = true;
    return true;
}

/* Put the bytes back (both paths); the copy stays. */
static void restore(arena *a)
{
    if (mprotect(a->head, mapped_len(a), PROT_READ | PROT_WRITE) != 0) KILN_PANIC("unparking an arena: mprotect failed");
    kiln_zrun_unpack(a->head, a->parked_len, a->parked);
    a->off = false;
}

void arena_unpark(arena *a)
{
    if (a->off) restore(a);
    free(a->parked);
    a->parked = NULL;
    a->parked_len = 0;
}

bool arena_fault(arena *a, const void *addr)
{
    uintptr_t lo = (uintptr_t)a->head, x = (uintptr_t)addr;
    if (!a->off || x < lo || x >= lo + mapped_len(a)) return false;
    restore(a);
    return true;
}

bool arena_parked_span(const arena *a, uintptr_t *lo, uintptr_t *hi)
{
    if (!a->off) return false;
    *lo = (uintptr_t)a->head;
    *hi = *lo + mapped_len(a);
    return true;
}

/* arena_alloc() found no room in the newest block. */
void *arena_alloc_grow(arena *a, size_t n)
{
    n = ALIGN16(n ? n : 1);
    arena_block *b = a->head;
    /* Grow geometrically, but give a large allocation a block of its own. */
    size_t size = b->size * 2;
    if (size < n) size = n;
    if (size > (1u << 20) && n < (1u << 20)) size = 1u << 20;
    if (size < n) size = n;
    b = block_new(size, a->head);
    a->head = b;
    b->used = n;
    return b->data;
}

void *arena_calloc(arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

void *arena_grow(arena *a, const void *v, size_t n, size_t *cap, size_t elem, size_t first)
{
    if (n < *cap) return (void *)v;
    if (n > *cap) KILN_PANIC("arena_grow: %zu elements in an array of %zu", n, *cap);
    size_t c = *cap ? *cap : (first ? first : 1);
    if (*cap && c > SIZE_MAX / 2) KILN_PANIC("arena_grow: %zu elements overflow", c);
    if (*cap) c *= 2;
    if (elem && c > SIZE_MAX / elem) KILN_PANIC("arena_grow: %zu elements of %zu bytes overflow", c, elem);
    void *nv = arena_alloc(a, c * elem);
    if (n) memcpy(nv, v, n * elem);
    *cap = c;
    return nv;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_vprintf(arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0) n = 0;
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void arena_defer_fn(arena *a, void (*fn)(void *), void *arg)
{
    arena_defer *d = arena_alloc(a, sizeof(*d));
    d->fn = fn;
    d->arg = arg;
    d->next = a->defers;
    a->defers = d;
}

static void run_defers(arena *a)
{
    /* A defer may register another defer; loop until the list is empty. */
    while (a->defers) {
        arena_defer *d = a->defers;
        a->defers = d->next;
        d->fn(d->arg);
    }
}

void arena_run_defers(arena *a)
{
    arena_unpark(a);
    run_defers(a);
}

void arena_reset(arena *a)
{
    arena_unpark(a);
    run_defers(a);
    arena_block *b = a->head;
    while (b->prev) {
        arena_block *prev = b->prev;
        kiln_block_put(b, sizeof(*b) + b->size);
        b = prev;
    }
    b->used = 0;
    a->head = b;
}

void arena_destroy(arena *a)
{
    if (!a->head) return;
    arena_reset(a);
    if (a->mapped) munmap(a->head, mapped_len(a));
    else kiln_block_put(a->head, sizeof(*a->head) + a->head->size);
    a->head = NULL;
    a->mapped = false;
}

size_t arena_used(const arena *a)
{
    size_t n = 0;
    for (const arena_block *b = a->head; b; b = b->prev) n += b->used;
    return n;
}

bool arena_owns(const arena *a, const void *p)
{
    const unsigned char *q = p;
    for (const arena_block *b = a->head; b; b = b->prev)
        if (q >= b->data && q < b->data + b->size) return true;
    return false;
}

size_t arena_reserved(const arena *a)
{
    size_t n = 0;
    for (const arena_block *b = a->head; b; b = b->prev) n += sizeof *b + b->size;
    return n;
}

/* ---- Loud failure and allocation that never fails for the caller ----- */

_Noreturn void kiln_panic_at(const char *file, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"panic: %s\",\"at\":\"%s:%d\"}\n", msg, file, line);
    fflush(stderr);
    abort();
}

void kiln_release_pages(void *p, size_t n)
{
    size_t page = page_size();
    uintptr_t lo = ((uintptr_t)p + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(uintptr_t)(page - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);   /* advice: failure is harmless */
}

void arena_release_unused(arena *a)
{
    arena_unpark(a);
    arena_block *b = a->head;
    if (b) kiln_release_pages(b->data + b->used, b->size - b->used);
}

void *kiln_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (UNLIKELY(!p)) KILN_PANIC("out of memory allocating %zu bytes", n);
    return p;
}

void *kiln_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (UNLIKELY(!p)) KILN_PANIC("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *kiln_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (UNLIKELY(!p)) KILN_PANIC("out of memory reallocating %zu bytes", n);
    return p;
}

char *kiln_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(kiln_xmalloc(n), s, n);
}
