/*
 * loop.h -- a worker's event loop: epoll (edge-triggered) plus a timer heap.
 * One loop per worker process; nothing here is thread-safe except
 * loop_wake(), which a thread-pool thread may call.
 */
#ifndef KILN_LOOP_H
#define KILN_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct loop loop;
typedef struct loop_io loop_io;
typedef struct loop_timer loop_timer;

/* An fd watched by the loop. Embed it; `on_event` gets the epoll events. */
struct loop_io {
    int fd;
    void (*on_event)(loop_io *io, uint32_t events);
};

/* A one-shot timer. Embed it; zero-initialise before first use. */
struct loop_timer {
    uint64_t deadline_ms;
    void (*on_fire)(loop_timer *t);
    int heap_index;           /* -1 (or 0 when zeroed: see loop.c) when idle */
    bool armed;
};

loop *loop_new(void);
void loop_free(loop *l);
/* Watch io->fd for in+out+rdhup (edge-triggered) or only `events`. */
void loop_add(loop *l, loop_io *io, uint32_t events);
void loop_del(loop *l, loop_io *io);
/* Run one turn: wait at most until the next timer (or max_wait_ms, -1 none),
 * dispatch events, fire due timers, then call the idle hook. */
void loop_run_once(loop *l, int max_wait_ms);
void loop_set_after_turn(loop *l, void (*fn)(void *), void *arg);

uint64_t loop_now_ms(loop *l);   /* monotonic ms, refreshed once per turn */
void loop_update_time(loop *l);

void loop_timer_set(loop *l, loop_timer *t, uint64_t deadline_ms);
void loop_timer_cancel(loop *l, loop_timer *t);

#endif
