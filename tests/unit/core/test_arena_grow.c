/*
 * test_arena_grow.c -- arena_grow / ARENA_GROW, the one way an arena array
 * makes room: unchanged while there is room, doubled (from `first`) when
 * full with the elements kept, any unsigned counter type, and a panic --
 * not a wrap-around -- when the size overflows or the capacity does not
 * fit its counter's type.
 */
#include "t.h"
#include "core/core.h"

#include <stdint.h>
#include <string.h>

TEST(doubles_and_keeps_the_elements)
{
    arena a;
    arena_init(&a, 64);
    uint64_t *v = NULL;
    size_t n = 0, cap = 0;
    size_t caps[8], ncaps = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        uint64_t *before = v;
        size_t cap_before = cap;
        ARENA_GROW(&a, v, n, cap, 8);
        if (n < cap_before) CHECK(v == before && cap == cap_before);   /* room: untouched */
        if (cap != cap_before && ncaps < 8) caps[ncaps++] = cap;
        v[n++] = i * 7;
    }
    CHECK_EQ_INT((int)cap, 1024);
    CHECK(ncaps == 8 && caps[0] == 8 && caps[1] == 16 && caps[2] == 32 && caps[7] == 1024);
    for (uint64_t i = 0; i < 1000; i++)
        if (v[i] != i * 7) T_FAIL("element %d is %d", (int)i, (int)v[i]);
    arena_destroy(&a);
}

TEST(any_counter_type_and_the_plain_call)
{
    arena a;
    arena_init(&a, 64);
    struct { const char **v; uint32_t n, cap; } l = { 0 };
    for (int i = 0; i < 40; i++) {
        ARENA_GROW(&a, l.v, l.n, l.cap, 4);
        l.v[l.n++] = i % 2 ? "odd" : "even";
    }
    CHECK_EQ_INT((int)l.cap, 64);
    CHECK_EQ_STR(l.v[39], "odd");
    CHECK_EQ_STR(l.v[0], "even");
    /* Rows of a width known at run time: the plain function. */
    size_t cap = 0, width = 3 * sizeof(int);
    int *rows = NULL;
    for (size_t r = 0; r < 10; r++) {
        rows = arena_grow(&a, rows, r, &cap, width, 2);
        for (int c = 0; c < 3; c++) rows[r * 3 + c] = (int)(r * 10 + c);
    }
    CHECK_EQ_INT((int)cap, 16);
    CHECK_EQ_INT(rows[9 * 3 + 2], 92);
    CHECK_EQ_INT(rows[0], 0);
    arena_destroy(&a);
}

static void overflow_bytes(const char *unused)
{
    (void)unused;
    arena a;
    arena_init(&a, 64);
    size_t cap = SIZE_MAX / 16 + 1;      /* doubled, times 8 bytes: past SIZE_MAX */
    arena_grow(&a, NULL, cap, &cap, 8, 8);
}

static void overflow_count(const char *unused)
{
    (void)unused;
    arena a;
    arena_init(&a, 64);
    size_t cap = SIZE_MAX / 2 + 1;
    arena_grow(&a, NULL, cap, &cap, 1, 8);
}

static void overflow_counter_type(const char *unused)
{
    (void)unused;
    arena a;
    arena_init(&a, 64);
    char *v = NULL;
    uint8_t n = 0, cap = 0;
    for (int i = 0; i < 300; i++) {      /* 256 does not fit a uint8_t */
        ARENA_GROW(&a, v, n, cap, 16);
        v[n++] = 'x';
    }
}

TEST(overflow_panics)
{
    CHECK(t_panics(overflow_bytes, NULL, "arena_grow"));
    CHECK(t_panics(overflow_count, NULL, "arena_grow"));
    CHECK(t_panics(overflow_counter_type, NULL, "capacity's type"));
}

int main(void) { return t_run(); }
