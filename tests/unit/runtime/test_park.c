/*
 * test_park.c -- the index of parked ranges (runtime/park.c): many parked
 * connections, each with its stack and its arena parked by the sweep
 * (conn_park_idle); every one touched from outside in a random order, one
 * at a time, through a SIGSEGV handler that asks conn_park_fault, as the
 * worker's does. A lookup that names the wrong connection (or none) shows:
 * the handler aborts on a miss, a touched range must come back with its own
 * bytes, and every range not touched yet must still be parked. Then the
 * sweep parks them again (a fresh index) and a second random pass touches
 * only a random half; a freed connection's entries name nothing. Last, a
 * second thread (as a pool thread would) reads and writes parked memory
 * while this thread runs the loop: each touch is put back by the loop
 * (conn_park_fault_remote), every byte read is right and every write kept.
 */
#include "t.h"
#include "runtime/engine.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 300

static worker w;
static conn *conns[N];
static volatile char *locals[N];       /* a buffer on each handler's stack */
static char *volatile mem[N];                 /* kiln_alloc-like memory in its arena */
static volatile int faults;

static pthread_t loop_thread;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    if (!pthread_equal(pthread_self(), loop_thread)) {        /* worker.c's remote path */
        if (conn_park_fault_remote(si->si_addr)) return;
    } else if (conn_park_fault(&w, si->si_addr)) {
        faults++;
        return;
    }
    static const char msg[] = "test_park: a fault the index did not find\n";
    if (write(2, msg, sizeof msg - 1) < 0) { /* nothing to do */ }
    abort();
}

static void handler(coro *co, void *arg)
{
    int i = (int)(intptr_t)arg;
    char name[64];
    snprintf(name, sizeof name, "stack of %d", i);
    locals[i] = name;
    coro_yield(co);                    /* "waits in kiln_ws_recv" */
    /* Resumed: its stack is its own. */
    char want[64];
    snprintf(want, sizeof want, "stack of %d", i);
    if (strcmp(name, want) != 0) abort();
}

/* The other thread: reads each parked name and record, writes a byte
 * into each. */
static int done_remote, remote_bad;
static void *toucher(void *arg)
{
    (void)arg;
    for (int i = 0; i < N; i++) {
        char want[64];
        snprintf(want, sizeof want, "stack of %d", i);
        remote_bad += strncmp((const char *)locals[i], want, strlen(want)) != 0;
        snprintf(want, sizeof want, "arena of %d", i);
        remote_bad += strncmp(mem[i], want, strlen(want)) != 0;
        locals[i][62] = 'r';
        ((volatile char *)mem[i])[98] = 'r';
    }
    __atomic_store_n(&done_remote, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void shuffle(int *p, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = rand() % (i + 1), t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
}

static bool stack_parked(int i) { return coro_parked(conns[i]->co); }
static bool arena_parked(int i) { return conns[i]->arena.off; }

/* A sweep now (its clock is past every connection's wait). */
static void sweep(void)
{
    w.park_sweep_ms = 0;
    conn_park_idle(&w);
}

TEST(every_parked_range_found_in_any_order)
{
    srand(12345);
    loop_thread = pthread_self();
    struct sigaction sa = { 0 };
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    struct sigaction old;
    sigaction(SIGSEGV, &sa, &old);

    w.loop = loop_new();
    for (int i = 0; i < N; i++) {
        conn *c = kiln_xcalloc(1, sizeof *c);
        c->w = &w;
        c->state = CS_HANDLER;
        c->wait = WAIT_PROTO;
        c->yielded_ms = 0;
        arena_init_paged(&c->arena, 8192);
        c->arena_live = true;
        mem[i] = arena_alloc(&c->arena, 100);
        snprintf(mem[i], 100, "arena of %d", i);
        c->co = coro_new(handler, (void *)(intptr_t)i);
        coro_resume(c->co);
        c->next = w.conns;
        if (w.conns) w.conns->prev = c;
        w.conns = c;
        conns[i] = c;
    }
    sweep();
    int parked = 0;
    for (int i = 0; i < N; i++) parked += stack_parked(i) && arena_parked(i);
    CHECK_EQ_INT(parked, N);
    CHECK_EQ_INT(w.park_n, 2 * N);

    /* Pass 1: every stack and every arena, in a random order. */
    int order[2 * N];
    for (int k = 0; k < 2 * N; k++) order[k] = k;
    shuffle(order, 2 * N);
    bool touched[2 * N];
    memset(touched, 0, sizeof touched);
    int bad = 0;
    for (int k = 0; k < 2 * N; k++) {
        int i = order[k] / 2;
        char want[64];
        if (order[k] % 2 == 0) {
            snprintf(want, sizeof want, "stack of %d", i);
            bad += strcmp((const char *)locals[i], want) != 0;          /* faults, comes back */
            bad += stack_parked(i);
        } else {
            snprintf(want, sizeof want, "arena of %d", i);
            bad += strcmp(mem[i], want) != 0;
            bad += arena_parked(i);
        }
        touched[order[k]] = true;
        /* Only what was touched came back: a lookup that restored another
         * connection's range would show here. */
        if (k % 37 == 0)
            for (int j = 0; j < 2 * N; j++)
                bad += (j % 2 == 0 ? stack_parked(j / 2) : arena_parked(j / 2)) == touched[j];
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(faults, 2 * N);

    /* Pass 2: parked again, a fresh index; half of them touched, writing. */
    sweep();
    parked = 0;
    for (int i = 0; i < N; i++) parked += stack_parked(i) && arena_parked(i);
    CHECK_EQ_INT(parked, N);
    faults = 0;
    shuffle(order, 2 * N);
    memset(touched, 0, sizeof touched);
    for (int k = 0; k < N; k++) {
        int i = order[k] / 2;
        if (order[k] % 2 == 0) locals[i][63] = 0;
        else ((volatile char *)mem[i])[99] = 0;
        touched[order[k]] = true;
    }
    CHECK_EQ_INT(faults, N);
    bad = 0;
    for (int j = 0; j < 2 * N; j++) bad += (j % 2 == 0 ? stack_parked(j / 2) : arena_parked(j / 2)) == touched[j];
    CHECK_EQ_INT(bad, 0);

    /* A freed connection's entries name nothing: its range is not found. */
    conn_park_forget(conns[0]);
    CHECK(conns[0]->park_slot[0] == 0 && conns[0]->park_slot[1] == 0);
    uintptr_t lo, hi;
    if (coro_parked_span(conns[0]->co, &lo, &hi)) CHECK(!conn_park_fault(&w, (void *)(lo + 8)));
    CHECK(!conn_park_fault(&w, (void *)&bad));                 /* not parked memory at all */

    /* Another thread touches every parked range, reading and writing, while
     * this one runs the loop (it answers the remote faults). */
    sweep();
    parked = 0;
    for (int i = 0; i < N; i++) parked += stack_parked(i) && arena_parked(i);
    CHECK_EQ_INT(parked, N);                                   /* a fresh index names conns[0] again */
    kiln_current_worker = &w;
    conn_park_remote_init(&w);
    done_remote = 0;
    pthread_t th;
    pthread_create(&th, NULL, toucher, NULL);
    for (int t = 0; t < 20000 && !__atomic_load_n(&done_remote, __ATOMIC_ACQUIRE); t++) loop_run_once(w.loop, 10);
    pthread_join(th, NULL);
    CHECK_EQ_INT(remote_bad, 0);
    CHECK_EQ_INT(done_remote, 1);
    bad = 0;
    for (int i = 0; i < N; i++) bad += stack_parked(i) || arena_parked(i) || mem[i][98] != 'r' || locals[i][62] != 'r';
    CHECK_EQ_INT(bad, 0);
    kiln_current_worker = NULL;

    /* Every handler resumes with its own stack and ends. */
    for (int i = 0; i < N; i++) {
        conn *c = conns[i];
        arena_unpark(&c->arena);
        coro_resume(c->co);
        CHECK(coro_done(c->co));
        CHECK(strncmp(mem[i], "arena of ", 9) == 0 && atoi(mem[i] + 9) == i);
        coro_release(c->co);
        arena_destroy(&c->arena);
        free(c);
    }
    w.conns = NULL;
    conn_park_free(&w);
    loop_free(w.loop);
    coro_pool_drain();
    sigaction(SIGSEGV, &old, NULL);
}

int main(void) { return t_run(); }
