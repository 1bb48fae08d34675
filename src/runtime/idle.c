/*
 * idle.c -- the activity board for `--idle-exit`: one shared, anonymous
 * mapping made by the master before it forks, with a row per worker slot.
 *
 * A worker writes only its own row, after every loop turn (at least once a
 * second: the worker's loop never sleeps longer): its open connections and
 * the monotonic time of its last activity. Activity is any open connection,
 * or a change in its connection count or request counter since the turn
 * before (a connection opened and closed within one turn still counts).
 * The master reads every row; CLOCK_MONOTONIC is the same clock in every
 * process of the machine, so the times compare.
 *
 * Fields are single aligned 64-bit words written and read with relaxed
 * atomics: a reader may see one row a turn late, which only delays the exit
 * by that turn.
 *
 * Owns: the mapping. Must never: let a worker write another slot's row, or
 * report idle while any row shows an open connection.
 */
#include "runtime/idle.h"
#include "core/core.h"

#include <sys/mman.h>
#include <time.h>

typedef struct idle_row {
    uint64_t nconns;            /* open connections, as last published   */
    uint64_t last_active_ms;    /* CLOCK_MONOTONIC ms of the last activity */
    uint64_t nrequests;         /* the worker's request counter           */
    uint64_t pad[5];            /* one cache line per row                 */
} idle_row;

static idle_row *board;
static int nslots;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void idle_board_init(int slots)
{
    KILN_ASSERT(slots > 0 && !board);
    void *p = mmap(NULL, (size_t)slots * sizeof(idle_row), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) KILN_PANIC("idle board: mmap failed");
    board = p;
    nslots = slots;
    uint64_t now = mono_ms();
    for (int i = 0; i < slots; i++) __atomic_store_n(&board[i].last_active_ms, now, __ATOMIC_RELAXED);
}

void idle_board_publish(int slot, size_t nconns, unsigned long long nrequests, uint64_t now_ms)
{
    if (!board || slot < 0 || slot >= nslots) return;
    idle_row *r = &board[slot];
    uint64_t before = __atomic_load_n(&r->nconns, __ATOMIC_RELAXED);
    uint64_t reqs = __atomic_load_n(&r->nrequests, __ATOMIC_RELAXED);
    if (nconns > 0 || before != nconns || reqs != nrequests)
        __atomic_store_n(&r->last_active_ms, now_ms, __ATOMIC_RELAXED);
    __atomic_store_n(&r->nconns, (uint64_t)nconns, __ATOMIC_RELAXED);
    __atomic_store_n(&r->nrequests, (uint64_t)nrequests, __ATOMIC_RELAXED);
}

bool idle_board_idle_for(uint64_t now_ms, uint64_t ms)
{
    if (!board) return false;
    for (int i = 0; i < nslots; i++) {
        if (__atomic_load_n(&board[i].nconns, __ATOMIC_RELAXED) > 0) return false;
        uint64_t last = __atomic_load_n(&board[i].last_active_ms, __ATOMIC_RELAXED);
        if (now_ms < last + ms) return false;
    }
    return true;
}

void idle_board_free(void)
{
    if (!board) return;
    munmap(board, (size_t)nslots * sizeof(idle_row));
    board = NULL;
    nslots = 0;
}
