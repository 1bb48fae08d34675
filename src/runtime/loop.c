/*
 * loop.c -- epoll and a binary min-heap of timers (Redis's ae.c, reduced).
 *
 * Owns: the epoll fd and the timer heap array (not the timers: they are
 * embedded in their owners). Time is read once per turn (CLOCK_MONOTONIC_COARSE
 * is not used: ms precision matters for 504 deadlines and tests).
 * Must never: block anywhere but epoll_wait, or call back into a timer that
 * was cancelled.
 */
#include "runtime/loop.h"
#include "core/core.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256

struct loop {
    int epfd;
    uint64_t now;
    loop_timer **heap;
    int nheap, capheap;
    void (*after_turn)(void *);
    void *after_arg;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

loop *loop_new(void)
{
    loop *l = kiln_xcalloc(1, sizeof(*l));
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) KILN_PANIC("epoll_create1 failed");
    l->now = mono_ms();
    return l;
}

void loop_free(loop *l)
{
    close(l->epfd);
    free(l->heap);
    free(l);
}

void loop_add(loop *l, loop_io *io, uint32_t events)
{
    struct epoll_event ev = { .events = events ? events : (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET),
                              .data.ptr = io };
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev) != 0)
        KILN_PANIC("epoll_ctl ADD fd %d failed", io->fd);
}

void loop_del(loop *l, loop_io *io) { epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL); }

uint64_t loop_now_ms(loop *l) { return l->now; }
void loop_update_time(loop *l) { l->now = mono_ms(); }
void loop_set_after_turn(loop *l, void (*fn)(void *), void *arg) { l->after_turn = fn; l->after_arg = arg; }

/* ---- timer heap ------------------------------------------------------ */
static void heap_swap(loop *l, int i, int j)
{
    loop_timer *t = l->heap[i];
    l->heap[i] = l->heap[j];
    l->heap[j] = t;
    l->heap[i]->heap_index = i;
    l->heap[j]->heap_index = j;
}

static void heap_up(loop *l, int i)
{
    while (i > 0) {
        int p = (i - 1) / 2;
        if (l->heap[p]->deadline_ms <= l->heap[i]->deadline_ms) break;
        heap_swap(l, i, p);
        i = p;
    }
}

static void heap_down(loop *l, int i)
{
    for (;;) {
        int a = 2 * i + 1, b = a + 1, m = i;
        if (a < l->nheap && l->heap[a]->deadline_ms < l->heap[m]->deadline_ms) m = a;
        if (b < l->nheap && l->heap[b]->deadline_ms < l->heap[m]->deadline_ms) m = b;
        if (m == i) return;
        heap_swap(l, i, m);
        i = m;
    }
}

void loop_timer_cancel(loop *l, loop_timer *t)
{
    if (!t->armed) return;
    int i = t->heap_index;
    KILN_ASSERT(i >= 0 && i < l->nheap && l->heap[i] == t);
    l->nheap--;
    if (i != l->nheap) {
        l->heap[i] = l->heap[l->nheap];
        l->heap[i]->heap_index = i;
        heap_down(l, i);
        heap_up(l, i);
    }
    t->armed = false;
    t->heap_index = -1;
}

void loop_timer_set(loop *l, loop_timer *t, uint64_t deadline_ms)
{
    if (t->armed) {
        uint64_t old = t->deadline_ms;
        t->deadline_ms = deadline_ms;
        if (deadline_ms < old) heap_up(l, t->heap_index);
        else heap_down(l, t->heap_index);
        return;
    }
    if (l->nheap == l->capheap) {
        l->capheap = l->capheap ? l->capheap * 2 : 64;
        l->heap = kiln_xrealloc(l->heap, (size_t)l->capheap * sizeof(*l->heap));
    }
    t->deadline_ms = deadline_ms;
    t->armed = true;
    t->heap_index = l->nheap;
    l->heap[l->nheap++] = t;
    heap_up(l, t->heap_index);
}

static void fire_timers(loop *l)
{
    while (l->nheap > 0 && l->heap[0]->deadline_ms <= l->now) {
        loop_timer *t = l->heap[0];
        loop_timer_cancel(l, t);
        t->on_fire(t);
    }
}

void loop_run_once(loop *l, int max_wait_ms)
{
    struct epoll_event evs[MAX_EVENTS];
    int wait = max_wait_ms;
    if (l->nheap > 0) {
        uint64_t d = l->heap[0]->deadline_ms;
        int until = d <= l->now ? 0 : (int)(d - l->now > 60000 ? 60000 : d - l->now);
        if (wait < 0 || until < wait) wait = until;
    }
    int n = epoll_wait(l->epfd, evs, MAX_EVENTS, wait);
    if (n < 0 && errno != EINTR) KILN_PANIC("epoll_wait failed");
    l->now = mono_ms();
    for (int i = 0; i < n; i++) {
        loop_io *io = evs[i].data.ptr;
        io->on_event(io, evs[i].events);
    }
    fire_timers(l);
    if (l->after_turn) l->after_turn(l->after_arg);
}
