/*
 * worker.c -- one worker process: its own SO_REUSEPORT listening socket
 * (opened by the master for this worker's slot, see master.c), its own event
 * loop and thread pool.
 *
 * Signals: SIGTERM/SIGINT (via signalfd) start a graceful drain: stop
 * accepting, let in-flight requests finish (bounded by the shutdown
 * timeout), close idle keep-alive connections, exit 0. A crash (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGABRT) is caught on an alternate stack: the
 * handler answers the request that crashed with a 500 JSON (after the
 * answers to earlier pipelined requests still queued), logs the route and
 * request id, and re-raises so the master restarts the worker.
 *
 * Owns: its copy of its slot's listening fd, the loop, every connection of
 * this worker.
 * Must never: share a connection with another worker, or survive a crash by
 * jumping out of the signal handler (the heap may be corrupt).
 */
#include "runtime/engine.h"
#include "runtime/idle.h"

#include <errno.h>
#include <execinfo.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

worker *kiln_current_worker;
extern int kiln_ready_fd;            /* write one byte here once listening */

/* ---- crash handling (async-signal-safe code only) ------------------- */

static size_t sappend(char *dst, size_t at, size_t cap, const char *s)
{
    while (*s && at + 1 < cap) dst[at++] = *s++;
    dst[at] = '\0';
    return at;
}

static size_t sappend_json(char *dst, size_t at, size_t cap, const char *s)
{
    for (; s && *s && at + 2 < cap; s++)
        if (*s != '"' && *s != '\\' && (unsigned char)*s >= 0x20) dst[at++] = *s;
    dst[at] = '\0';
    return at;
}

static size_t sappend_int(char *dst, size_t at, size_t cap, long v)
{
    char tmp[24];
    int i = 0;
    if (v < 0) { at = sappend(dst, at, cap, "-"); v = -v; }
    do { tmp[i++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (i > 0 && at + 1 < cap) dst[at++] = tmp[--i];
    dst[at] = '\0';
    return at;
}

/* Write all of p[0..n) to a non-blocking socket, waiting (poll) while it is
 * full, at most a second in all. */
static bool write_all(int fd, const char *p, size_t n)
{
    int waits = 0;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k > 0) { p += k; n -= (size_t)k; continue; }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waits++ < 10) {
            struct pollfd pf = { .fd = fd, .events = POLLOUT };
            if (poll(&pf, 1, 100) >= 0) continue;
        }
        return false;
    }
    return true;
}

static void on_crash(int sig)
{
    worker *w = kiln_current_worker;
    conn *c = w ? w->crash_conn : NULL;
    const char *name = sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGFPE ? "SIGFPE"
                     : sig == SIGILL ? "SIGILL" : sig == SIGABRT ? "SIGABRT" : sig == SIGALRM ? "SIGALRM" : "signal";
    /* SIGALRM comes from the watchdog: a handler kept the CPU past its route's
     * max duration. The client gets the 504 it would have had. */
    bool overtime = sig == SIGALRM;
    char body[160], msg[1024], extra[160] = "";
    size_t b = 0, m = 0;
    /* The framework notes the crash first (error reports: this stack, and
     * an event id header for the answer). */
    if (c) {
        void *frames[64];
        int nf = backtrace(frames, 64);
        engine_crash_note(c, sig, frames, nf, extra, sizeof extra);
    }
    b = sappend(body, b, sizeof body, overtime ? "{\"error\":\"Gateway Timeout\",\"requestId\":\""
                                               : "{\"error\":\"Internal Server Error\",\"requestId\":\"");
    b = sappend_json(body, b, sizeof body, c && c->req_id ? c->req_id : "");
    b = sappend(body, b, sizeof body, "\"}");
    if (!overtime && engine_crash_answers() && c && c->io.fd >= 0 && !c->head_sent && write_all(c->io.fd, c->out.data, c->out.len)) {
        /* Dev: the answer carries the signal and a symbolized backtrace. */
        engine_crash(c, sig);
    } else if (c && c->io.fd >= 0 && !c->head_sent) {
        m = sappend(msg, m, sizeof msg, overtime ? "HTTP/1.1 504 Gateway Timeout\r\n" : "HTTP/1.1 500 Internal Server Error\r\n");
        m = sappend(msg, m, sizeof msg, "Content-Type: application/json; charset=utf-8\r\nConnection: close\r\nX-Request-Id: ");
        m = sappend_json(msg, m, sizeof msg, c->req_id ? c->req_id : "");
        m = sappend(msg, m, sizeof msg, "\r\n");
        m = sappend(msg, m, sizeof msg, extra);
        m = sappend(msg, m, sizeof msg, "Content-Length: ");
        m = sappend_int(msg, m, sizeof msg, (long)b);
        m = sappend(msg, m, sizeof msg, "\r\n\r\n");
        m = sappend(msg, m, sizeof msg, body);
        /* Answers to earlier pipelined requests may still sit in `out`:
         * they go first, or the client would take the 500 for one of them. */
        if (write_all(c->io.fd, c->out.data, c->out.len)) write_all(c->io.fd, msg, m);
    }
    m = 0;
    m = sappend(msg, m, sizeof msg, "{\"level\":\"error\",\"worker\":");
    m = sappend_int(msg, m, sizeof msg, w ? w->id : -1);
    m = sappend(msg, m, sizeof msg, overtime ? ",\"msg\":\"handler kept the CPU past its max duration; worker replaced\",\"signal\":\""
                                             : ",\"msg\":\"worker crashed in a handler\",\"signal\":\"");
    m = sappend(msg, m, sizeof msg, name);
    m = sappend(msg, m, sizeof msg, "\",\"route\":\"");
    m = sappend_json(msg, m, sizeof msg, c ? c->route : "");
    m = sappend(msg, m, sizeof msg, "\",\"requestId\":\"");
    m = sappend_json(msg, m, sizeof msg, c ? c->req_id : "");
    m = sappend(msg, m, sizeof msg, "\"}\n");
    log_flush();
    if (write(2, msg, m) < 0) { /* ignore */ }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The loop's thread: its faults are repaired here; another thread's (a pool
 * thread's) are repaired by the loop on request (conn_park_fault_remote). */
static pthread_t crash_thread;

/* A SIGSEGV may be a touch of a parked stack or arena (park.c): put it back
 * and let the access go on. Anything else is a crash. */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    worker *w = kiln_current_worker;
    if (sig == SIGSEGV && w) {
        if (pthread_equal(pthread_self(), crash_thread) ? conn_park_fault(w, si->si_addr)
                                                        : conn_park_fault_remote(si->si_addr))
            return;
    }
    on_crash(sig);
}

static void install_crash_handlers(void)
{
    crash_thread = pthread_self();
    static char altstack[64 * 1024];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    struct sigaction sa = { 0 };
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    int sigs[] = { SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM };
    for (size_t i = 0; i < ARRAY_LEN(sigs); i++) sigaction(sigs[i], &sa, NULL);
    /* SIGSEGV stays installed (no SA_RESETHAND): a fault on a parked page
     * is repaired and returns; on_crash resets it itself before raising. */
    struct sigaction sv = { 0 };
    sv.sa_sigaction = on_fault;
    sv.sa_flags = SA_ONSTACK | SA_SIGINFO;
    sigemptyset(&sv.sa_mask);
    sigaction(SIGSEGV, &sv, NULL);
}

/* ---- the watchdog ----------------------------------------------------
 * A thread that looks, every 25 ms, whether the handler now on the CPU has
 * run past its deadline (conn_run records both). Suspended
 * handlers are the loop's business (504 by timer); this catches the ones
 * that never yield. It cannot stop them safely, so it signals the worker
 * thread (SIGALRM): the crash path answers 504 and the master replaces the
 * worker. */
static pthread_t loop_thread;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void *watchdog_main(void *arg)
{
    worker *w = arg;
    for (;;) {
        struct timespec nap = { 0, 25 * 1000000 };
        nanosleep(&nap, NULL);
        if (__atomic_load_n(&w->running, __ATOMIC_ACQUIRE) &&
            mono_ms() > __atomic_load_n(&w->run_deadline_ms, __ATOMIC_RELAXED) + 50) {
            pthread_kill(loop_thread, SIGALRM);
            return NULL;
        }
    }
}

static void start_watchdog(worker *w)
{
    loop_thread = pthread_self();
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);   /* the thread takes no signals */
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    if (pthread_create(&t, &attr, watchdog_main, w) != 0) KILN_PANIC("cannot start the watchdog thread");
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- listening ------------------------------------------------------- */

/* A listening socket, opened by the master before any worker is forked. */
int listener_open(const server_opts *o, bool reuseport)
{
    char port[16];
    snprintf(port, sizeof port, "%d", o->port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
    struct addrinfo *res = NULL;
    int fd = -1, err = EADDRNOTAVAIL;
    if (getaddrinfo(o->host && *o->host ? o->host : "::", port, &hints, &res) != 0) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) { err = errno; continue; }
        int one = 1, zero = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4096) == 0) break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) errno = err;
    return fd;
}

#define ACCEPT_PAUSE_MS 200

static void watch_listener(worker *w)
{
    /* (Re-adding a socket that is already readable raises a new edge.) */
    loop_add(w->loop, &w->listen_io, EPOLLIN | EPOLLET);
}

static void on_accept_pause_end(loop_timer *t)
{
    worker *w = (worker *)((char *)t - offsetof(worker, accept_pause));
    if (!w->draining && w->listen_io.fd >= 0) watch_listener(w);
}

static void on_listen(loop_io *io, uint32_t events)
{
    (void)events;
    worker *w = (worker *)((char *)io - offsetof(worker, listen_io));
    if (w->draining) return;
    if (!conn_accept_all(w)) {
        /* Out of fds, connections still queued: edge-triggered, no new event
         * would come for them. Try again in a moment (closing connections
         * make room meanwhile). */
        loop_del(w->loop, &w->listen_io);
        w->accept_pause.on_fire = on_accept_pause_end;
        loop_timer_set(w->loop, &w->accept_pause, loop_now_ms(w->loop) + ACCEPT_PAUSE_MS);
    }
}

#define DRAIN_GRACE_MS 1000

/* A keep-alive connection between requests: safe to close when draining.
 * (One that has not sent its first request yet is not: see start_drain.) */
static bool idle_keepalive(const conn *c)
{
    return c->nreq > 0 && !c->in_request && c->state == CS_HEAD && c->in.len == 0 && c->out.len == 0;
}

static void start_drain(worker *w)
{
    if (w->draining) return;
    w->draining = true;
    w->drain_deadline = loop_now_ms(w->loop) + w->opts->shutdown_timeout_ms;
    loop_timer_cancel(w->loop, &w->accept_pause);
    conn_accept_all(w);                 /* take what the kernel queued for us */
    /* Closing our copy leaves the socket open in the master: on SIGHUP the
     * new worker of this slot accepts from the same queue. */
    loop_del(w->loop, &w->listen_io);
    close(w->listen_io.fd);
    w->listen_io.fd = -1;
    for (conn *c = w->conns, *next; c; c = next) {
        next = c->next;
        if (idle_keepalive(c)) {
            conn_close(c);
        } else if (c->nreq == 0 && c->in.len == 0 && c->state == CS_HEAD) {
            /* Accepted, request not here yet (it may be in flight: closing
             * now would reset it). A short grace, then the idle path closes. */
            uint64_t grace = loop_now_ms(w->loop) + DRAIN_GRACE_MS;
            if (!c->timer.armed || c->timer.deadline_ms > grace) loop_timer_set(w->loop, &c->timer, grace);
        }
    }
    conn_stop_long_lived(w);            /* WebSocket: close 1001; event streams end */
    log_event(LOG_INFO, NULL, "worker draining", "\"inFlight\":%zu", w->nconns);
}

static void on_stop_delay(loop_timer *t)
{
    worker *w = (worker *)((char *)t - offsetof(worker, stop_delay));
    start_drain(w);
}

/* SIGTERM: the worker is no longer ready at once (w->stopping, which a
 * readiness endpoint reports); with KILN_SHUTDOWN_DELAY_MS it keeps
 * accepting that long, so a load balancer polling readiness takes it out
 * of rotation before its socket closes; then the drain lets in-flight
 * requests finish. */
static void begin_stop(worker *w)
{
    if (w->stopping) return;
    w->stopping = true;
    const char *d = getenv("KILN_SHUTDOWN_DELAY_MS");
    long ms = d ? strtol(d, NULL, 10) : 0;
    if (ms <= 0 || ms > 60000) { start_drain(w); return; }
    log_event(LOG_INFO, NULL, "stopping: not ready, still serving", "\"delayMs\":%ld", ms);
    w->stop_delay.on_fire = on_stop_delay;
    loop_timer_set(w->loop, &w->stop_delay, loop_now_ms(w->loop) + (uint64_t)ms);
}

static void on_signal(loop_io *io, uint32_t events)
{
    (void)events;
    worker *w = (worker *)((char *)io - offsetof(worker, signal_io));
    struct signalfd_siginfo si;
    while (read(io->fd, &si, sizeof si) == (ssize_t)sizeof si)
        if (si.ssi_signo == SIGTERM) begin_stop(w);
        else if (si.ssi_signo == SIGINT) start_drain(w);
        else engine_user_signal(w, (int)si.ssi_signo);
}

static void after_turn(void *arg)
{
    worker *w = arg;
    conn_flush_queued(w);     /* before any connection is freed */
    conn_free_dead(w);
    http_date_tick();
    log_flush();
    idle_board_publish(w->id, w->nconns, w->id_counter, loop_now_ms(w->loop));   /* --idle-exit */
    conn_park_idle(w);   /* idle straight-line WebSockets give their stacks back */
}

int worker_run(const server_opts *opts, int id)
{
    /* Static, not on this stack: the watchdog thread reads it until the
     * process ends, also after worker_run has returned (the exit path,
     * LeakSanitizer's report), when this frame's memory is reused. */
    static worker w;
    w = (worker){ .id = id, .opts = opts };
    kiln_current_worker = &w;
    log_init(opts->log_level, id);
    /* backtrace() loads libgcc on its first call: now, not in a crash. */
    void *warm[2];
    backtrace(warm, 2);
    install_crash_handlers();
    signal(SIGPIPE, SIG_IGN);
    start_watchdog(&w);

    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd) rnd = (uint32_t)getpid() * 2654435761u;
    snprintf(w.id_prefix, sizeof w.id_prefix, "%08x", rnd);

    w.loop = loop_new();
    kiln_block_cache(true);   /* requests' read buffers and arena blocks, kept hot */
    w.pool = offload_pool_new(w.loop, opts->offload_threads);
    conn_park_remote_init(&w);
    engine_run_worker_start(&w);   /* the framework's per-worker set-up */

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (engine_user_signals()) {
        sigaddset(&set, SIGUSR1);   /* kiln dev: load the new manifest */
        sigaddset(&set, SIGUSR2);   /* kiln dev: hold requests         */
    }
    sigprocmask(SIG_BLOCK, &set, NULL);
    w.signal_io.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    w.signal_io.on_event = on_signal;
    loop_add(w.loop, &w.signal_io, EPOLLIN);

    /* Our slot's socket; the other slots' copies are not ours to hold (a
     * socket must close once its own workers and the master let go). */
    for (int i = 0; i < opts->workers; i++)
        if (i != id) close(opts->listen_fds[i]);
    w.listen_io.fd = opts->listen_fds[id];
    w.listen_io.on_event = on_listen;
    w.accept_pause.heap_index = -1;
    w.stop_delay.heap_index = -1;
    watch_listener(&w);
    loop_set_after_turn(w.loop, after_turn, &w);
    if (kiln_ready_fd >= 0) {
        if (write(kiln_ready_fd, "r", 1) < 0) { /* master gone: keep serving */ }
        close(kiln_ready_fd);
    }
    log_event(LOG_DEBUG, NULL, "worker listening", "\"port\":%d,\"pid\":%d", opts->port, (int)getpid());

    while (!(w.draining && w.nconns == 0)) {
        loop_run_once(w.loop, 1000);
        if (w.draining && loop_now_ms(w.loop) >= w.drain_deadline) {
            log_event(LOG_WARN, NULL, "shutdown timeout: closing remaining connections", "\"open\":%zu", w.nconns);
            break;
        }
        if (w.draining) {
            for (conn *c = w.conns, *next; c; c = next) {
                next = c->next;
                if (idle_keepalive(c)) conn_close(c);
            }
        }
    }
    /* Tear down (LeakSanitizer checks every exit path). */
    conn_flush_queued(&w);
    for (conn *c = w.conns, *next; c; c = next) {
        next = c->next;
        if (c->co && !coro_done(c->co)) {
            /* A handler still suspended past the deadline: its stack holds
             * state we cannot unwind; exit without freeing it. */
            log_flush();
            _exit(0);
        }
        conn_close(c);
    }
    conn_free_dead(&w);
    conn_park_free(&w);
    loop_timer_cancel(w.loop, &w.stop_delay);
    offload_pool_free(w.pool);
    engine_run_worker_exit(&w);    /* the framework's per-worker tear-down */
    close(w.signal_io.fd);
    loop_free(w.loop);
    coro_pool_drain();
    kiln_block_cache(false);
    log_event(LOG_DEBUG, NULL, "worker exiting", NULL);
    log_flush();
    kiln_current_worker = NULL;
    return 0;
}
