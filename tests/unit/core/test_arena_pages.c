/*
 * test_arena_pages.c -- giving idle memory back: arena_init_paged's first
 * block is page-aligned; arena_release_unused and kiln_release_pages give
 * back only whole pages that nothing was handed out from (what was handed
 * out keeps its bytes), and the arena allocates on as usual afterwards.
 */
#include "t.h"
#include "core/core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TEST(paged_arena_keeps_what_is_used)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    arena a;
    arena_init_paged(&a, 8192);
    char *p = arena_alloc(&a, 100);
    CHECK((uintptr_t)p / page == (uintptr_t)a.head / page);   /* in the first page */
    CHECK((uintptr_t)a.head % page == 0);
    memset(p, 'x', 100);
    char *q = arena_alloc(&a, page);                            /* spans into page 2 */
    memset(q, 'y', page);
    arena_release_unused(&a);                                   /* nothing whole is free: no-op */
    CHECK(p[0] == 'x' && p[99] == 'x' && q[0] == 'y' && q[page - 1] == 'y');
    arena_reset(&a);
    p = arena_alloc(&a, 64);
    memset(p, 'z', 64);
    arena_release_unused(&a);                                   /* page 2 goes back */
    CHECK(p[0] == 'z' && p[63] == 'z');
    char *r = arena_alloc(&a, 2 * page);                        /* grows on, usable */
    memset(r, 1, 2 * page);
    CHECK(r[2 * page - 1] == 1);
    CHECK(arena_used(&a) >= 64 + 2 * page);
    arena_destroy(&a);
}

TEST(release_pages_leaves_partial_pages_alone)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *b = malloc(5 * page);
    memset(b, 7, 5 * page);
    kiln_release_pages(b + 10, 5 * page - 20);                  /* interior pages only */
    CHECK(b[0] == 7 && b[9] == 7);                              /* the partial head page stays */
    CHECK(b[5 * page - 1] == 7 && b[5 * page - 10] == 7);       /* and the partial tail page */
    uintptr_t first = ((uintptr_t)b + 10 + page - 1) & ~(uintptr_t)(page - 1);
    CHECK(*(unsigned char *)first == 0);                        /* a whole page was given back */
    kiln_release_pages(b, 0);                                   /* nothing: no-op */
    free(b);
}

int main(void) { return t_run(); }
