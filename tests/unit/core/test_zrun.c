/*
 * test_zrun.c -- zero-run packing (core/zrun.c) and arena parking: what is
 * packed comes back byte for byte (zeros, literals, runs longer than one
 * token, lengths 0 and 1), mostly-zero memory packs small, and a parked
 * arena's handed-out bytes are the same after arena_unpark, with allocation
 * going on as usual.
 */
#include "t.h"
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

static void round_trip(const unsigned char *p, size_t n)
{
    size_t len = 0;
    void *z = kiln_zrun_pack(p, n, &len);
    unsigned char *back = malloc(n + 1);
    back[n] = 0xAB;
    kiln_zrun_unpack(back, n, z);
    CHECK(n == 0 || memcmp(back, p, n) == 0);
    CHECK(back[n] == 0xAB);                     /* nothing written past n */
    free(back);
    free(z);
}

TEST(zrun_round_trips)
{
    unsigned char b[1000] = { 0 };
    round_trip(b, 0);
    memset(b, 0, sizeof b);
    round_trip(b, 1);
    round_trip(b, sizeof b);                    /* runs longer than a token */
    for (size_t i = 0; i < sizeof b; i++) b[i] = (unsigned char)(i * 7 + 1);
    round_trip(b, sizeof b);                    /* literals longer than a token */
    srand(42);
    for (int k = 0; k < 500; k++) {
        size_t n = (size_t)rand() % sizeof b;
        for (size_t i = 0; i < n; i++) b[i] = rand() % 3 ? 0 : (unsigned char)rand();
        round_trip(b, n);
    }
}

TEST(zrun_packs_zeros_small)
{
    unsigned char b[1024] = { 0 };
    memcpy(b + 100, "GET /api/echo", 13);
    size_t len = 0;
    void *z = kiln_zrun_pack(b, sizeof b, &len);
    CHECK(len < 40);
    free(z);
}

TEST(arena_park_and_unpark)
{
    arena a;
    arena_init_paged(&a, 8192);
    char *p = arena_alloc(&a, 300);
    memset(p, 0, 300);
    strcpy(p + 10, "kept across parking");
    CHECK(arena_park(&a));
    CHECK(!arena_park(&a));                     /* already parked */
    arena_unpark(&a);
    CHECK_EQ_STR(p + 10, "kept across parking");
    char *q = arena_alloc(&a, 64);              /* goes on after the old bytes */
    CHECK(q >= p + 300);
    CHECK(arena_park(&a));
    CHECK(arena_fault(&a, p + 5));              /* a touch puts it back */
    CHECK_EQ_STR(p + 10, "kept across parking");
    CHECK(!arena_fault(&a, p + 5));             /* no longer parked */
    arena_destroy(&a);                          /* frees the copy left by the fault */
    arena b;
    arena_init(&b, 1024);
    CHECK(!arena_park(&b));                     /* not paged: not parked */
    arena_destroy(&b);
}

int main(void) { return t_run(); }
