/*
 * test_arena_owns.c -- arena_owns: true for every byte an arena handed
 * out, in its first block and in the blocks it grew, false for another
 * arena's memory, the stack, and once the arena was reset (its grown
 * blocks are gone). request_event_end (api/req.c) relies on it to forget
 * what an event left in a request's state.
 */
#include "t.h"
#include "core/core.h"

TEST(owns_what_it_handed_out_and_nothing_else)
{
    arena a, b;
    arena_init(&a, 256);
    arena_init(&b, 256);
    char *first = arena_alloc(&a, 16);
    char *ptrs[64];
    for (int i = 0; i < 64; i++) ptrs[i] = arena_alloc(&a, 100);   /* several blocks */
    char *big = arena_alloc(&a, 100000);                           /* a block of its own */
    CHECK(arena_owns(&a, first));
    CHECK(arena_owns(&a, first + 15));
    for (int i = 0; i < 64; i++) CHECK(arena_owns(&a, ptrs[i]) && arena_owns(&a, ptrs[i] + 99));
    CHECK(arena_owns(&a, big) && arena_owns(&a, big + 99999));
    char *other = arena_alloc(&b, 16);
    int local = 0;
    CHECK(!arena_owns(&a, other));
    CHECK(!arena_owns(&b, first));
    CHECK(!arena_owns(&a, &local));
    CHECK(!arena_owns(&a, NULL));
    arena_reset(&a);                                /* only the first block stays */
    CHECK(arena_owns(&a, first));
    CHECK(!arena_owns(&a, big));
    arena_destroy(&a);
    arena_destroy(&b);
}

static void count(void *arg) { ++*(int *)arg; }

/* arena_run_defers runs the clean-ups (newest first, once) and keeps the
 * memory: what they free is theirs, what the arena handed out stays. */
TEST(run_defers_runs_them_once_and_keeps_the_memory)
{
    arena a;
    arena_init(&a, 256);
    int n = 0;
    char *big = arena_alloc(&a, 10000);
    arena_defer_fn(&a, count, &n);
    arena_defer_fn(&a, count, &n);
    arena_run_defers(&a);
    CHECK_EQ_INT(n, 2);
    CHECK(arena_owns(&a, big));
    arena_destroy(&a);
    CHECK_EQ_INT(n, 2);                               /* not again */
}

int main(void) { return t_run(); }
