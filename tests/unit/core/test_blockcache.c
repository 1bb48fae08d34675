/*
 * test_blockcache.c -- the thread's block cache (core/blockcache.c): off, it
 * is malloc and free; on, a block put back is the next one handed out for
 * that size (two sizes per power of two, a bounded depth and total); a
 * block it would be wrong to hand out again (smaller than claimed, too
 * large) is freed instead; turning it off frees everything; a buffer and an
 * arena going through it reuse their blocks; and under AddressSanitizer a
 * kept block is poisoned, so a use after "free" is still reported.
 */
#include "t.h"
#include "core/core.h"
#include "core/buf.h"

#include <stdint.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define T_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define T_ASAN 1
#endif
#endif
#ifdef T_ASAN
#include <sanitizer/asan_interface.h>
#endif

TEST(off_it_keeps_nothing)
{
    kiln_block_cache(false);
    void *p = kiln_block_get(4096);
    kiln_block_put(p, 4096);
    CHECK_EQ_INT((int)kiln_block_cached(), 0);
}

TEST(on_a_block_put_back_is_handed_out_again)
{
    kiln_block_cache(true);
    void *a = kiln_block_get(8224), *b = kiln_block_get(8224);
    kiln_block_put(a, 8224);
    kiln_block_put(b, 8224);
    CHECK_EQ_INT((int)kiln_block_cached(), 2 * 8224);
#ifdef T_ASAN
    CHECK(__asan_address_is_poisoned(a) && __asan_address_is_poisoned((char *)b + 8223));
#endif
    CHECK(kiln_block_get(8224) == b);              /* last in, first out */
    CHECK(kiln_block_get(8224) == a);
    CHECK_EQ_INT((int)kiln_block_cached(), 0);
    memset(a, 1, 8224);                            /* whole and writable again */
    memset(b, 2, 8224);
    /* Two sizes of one power of two are both kept; a third is not. */
    void *c = kiln_block_get(8192), *d = kiln_block_get(12000);
    kiln_block_put(a, 8224);
    kiln_block_put(c, 8192);
    kiln_block_put(d, 12000);
    CHECK_EQ_INT((int)kiln_block_cached(), 8224 + 8192);
    CHECK(kiln_block_get(8192) == c);
    CHECK(kiln_block_get(8224) == a);
    /* Emptied, a slot goes to the next size of its class. */
    d = kiln_block_get(12000);
    kiln_block_put(d, 12000);
    CHECK(kiln_block_get(12000) == d);
    free(a);                                       /* plain free() is right too */
    free(b);
    free(c);
    free(d);
    kiln_block_cache(false);
}

TEST(bounded_in_depth_total_and_size)
{
    kiln_block_cache(true);
    void *v[40];
    for (int i = 0; i < 40; i++) v[i] = kiln_block_get(1024);
    for (int i = 0; i < 40; i++) kiln_block_put(v[i], 1024);
    CHECK(kiln_block_cached() <= 16 * 1024);       /* a few of each size  */
    CHECK(kiln_block_cached() >= 1024);
    for (int i = 0; i < 60; i++) {                 /* many sizes, 64 KB+ each */
        size_t n = 65536 + (size_t)(i % 2) * 4096;
        kiln_block_put(kiln_block_get(n), n);
    }
    void *w[40];
    for (int i = 0; i < 40; i++) w[i] = kiln_block_get(65536);
    for (int i = 0; i < 40; i++) kiln_block_put(w[i], 65536);
    CHECK(kiln_block_cached() <= 1024 * 1024);     /* never past the total */
    void *big = kiln_block_get(1 << 20);           /* too large: freed    */
    size_t before = kiln_block_cached();
    kiln_block_put(big, 1 << 20);
    CHECK_EQ_INT((int)kiln_block_cached(), (int)before);
    kiln_block_cache(false);
    CHECK_EQ_INT((int)kiln_block_cached(), 0);
}

TEST(a_block_smaller_than_claimed_is_not_kept)
{
    kiln_block_cache(true);
    void *p = malloc(100);
    kiln_block_put(p, 4096);                       /* a caller's wrong size */
    CHECK_EQ_INT((int)kiln_block_cached(), 0);
    void *q = kiln_block_get(4096);
    CHECK(q != p || kiln_block_cached() == 0);
    memset(q, 0, 4096);
    kiln_block_put(q, 4096);
    kiln_block_cache(false);
}

TEST(buffers_and_arenas_reuse_their_blocks)
{
    kiln_block_cache(true);
    buf b;
    buf_init(&b, 0);
    buf_reserve(&b, 20480);
    char *first = b.data;
    for (int i = 0; i < 20000; i++) buf_putc(&b, (char)('a' + i % 26));
    buf_free(&b);
    buf_reserve(&b, 20480);                        /* the next request's read buffer */
    CHECK(b.data == first);
    buf_free(&b);
    /* Growth keeps the bytes, through the cache as through realloc. */
    buf_init(&b, 16);
    for (int i = 0; i < 300000; i++) buf_putc(&b, (char)('a' + i % 26));
    for (int i = 0; i < 300000; i++)
        if (b.data[i] != (char)('a' + i % 26)) { T_FAIL("byte %d", i); break; }
    buf_free(&b);

    arena a;
    arena_init(&a, 8192);
    void *head = a.head;
    for (int i = 0; i < 100; i++) arena_alloc(&a, 1000);   /* a second and third block */
    arena_destroy(&a);
    CHECK(kiln_block_cached() >= 8192);
    arena_init(&a, 8192);
    CHECK(a.head == head);
    arena_destroy(&a);
    kiln_block_cache(false);
}

int main(void) { return t_run(); }
