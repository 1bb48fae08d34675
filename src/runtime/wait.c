/*
 * wait.c -- suspending a request until a file descriptor is ready (the
 * PostgreSQL socket, say) or until another request wakes it (a database
 * connection freed up).
 *
 * Owns: nothing long-lived: the loop_io for a wait lives on the waiting
 * coroutine's stack and is unregistered before wait_fd() returns.
 * Must never: resume a coroutine from inside another coroutine (wake-ups go
 * through a zero-delay timer, so the loop does the resuming).
 */
#include "runtime/engine.h"

#include <sys/epoll.h>

typedef struct fd_wait {
    loop_io io;
    conn *c;
    uint32_t got;
} fd_wait;

static void on_fd(loop_io *io, uint32_t events)
{
    fd_wait *fw = (fd_wait *)io;
    fw->got = events;
    conn_resume_after_wait(fw->c);
}

static void on_wake(loop_timer *t)
{
    conn *c = (conn *)((char *)t - offsetof(conn, wake_timer));
    conn_resume_after_wait(c);
}

conn *wait_self(void)
{
    worker *w = kiln_current_worker;
    return w ? w->crash_conn : NULL;
}

void wait_suspend(int what)
{
    conn *c = wait_self();
    KILN_ASSERT(c && c->co && coro_current() == c->co);
    c->wait = what;
    coro_yield(c->co);
}

void wait_wake_at(conn *c, uint64_t deadline_ms)
{
    c->wake_timer.on_fire = on_wake;
    loop_timer_set(c->w->loop, &c->wake_timer, deadline_ms);
}

int wait_fd(int fd, uint32_t events, unsigned timeout_ms)
{
    conn *c = wait_self();
    KILN_ASSERT(c);
    fd_wait fw = { .io = { .fd = fd, .on_event = on_fd }, .c = c };
    loop_add(c->w->loop, &fw.io, events | EPOLLERR | EPOLLHUP);
    if (timeout_ms) wait_wake_at(c, loop_now_ms(c->w->loop) + timeout_ms);
    wait_suspend(WAIT_FD);
    loop_del(c->w->loop, &fw.io);
    loop_timer_cancel(c->w->loop, &c->wake_timer);
    return (int)fw.got;
}

bool wait_gave_up(const conn *c) { return c->abandoned; }

int wait_workers(void)
{
    worker *w = kiln_current_worker;
    return w && w->opts ? w->opts->workers : 1;
}

void wait_wake_cancel(conn *c) { loop_timer_cancel(c->w->loop, &c->wake_timer); }

uint64_t wait_now_ms(void)
{
    worker *w = kiln_current_worker;
    return w ? loop_now_ms(w->loop) : 0;
}

bool wait_peer_gone(const conn *c) { return c->dead || c->abandoned || c->read_closed; }

bool wait_stopping(void)
{
    worker *w = kiln_current_worker;
    return w && w->draining;
}
