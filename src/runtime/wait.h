/*
 * wait.h -- the engine's suspend/wait primitives, for the layers above it
 * that must wait without blocking the worker (the database pool, password
 * hashing, the handler API).
 *
 * A request's handler runs on a coroutine of its own. Waiting means: record
 * what we wait for, yield to the event loop, and be resumed by the loop when
 * a file descriptor is ready, a deadline passes, or another request wakes
 * us. A request is named by its connection, which is opaque here.
 *
 * This is the whole of the engine that the database and auth layers may use.
 */
#ifndef KILN_RUNTIME_WAIT_H
#define KILN_RUNTIME_WAIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct conn conn;

/* What a suspended request waits for. A 504 (the route's max duration)
 * wakes SLEEP, BODY, WRITE and QUEUE waits early; OFFLOAD and FD waits must
 * end on their own (a thread or a query in flight still owns the request). */
/* WAIT_PEER: a long-lived response (an event stream) waiting for something
 * to send; its peer closing its side, or the worker stopping, also wakes it.
 * WAIT_PROTO: an upgraded connection's handler waiting for its protocol (a
 * WebSocket message). */
enum { WAIT_NONE, WAIT_SLEEP, WAIT_OFFLOAD, WAIT_BODY, WAIT_WRITE, WAIT_FD, WAIT_QUEUE, WAIT_PEER, WAIT_PROTO };

/* The request whose handler is on the CPU now; NULL on the loop itself, in
 * the master, or in a command-line tool (then callers must block instead). */
conn *wait_self(void);

/* From the running request's coroutine: yield until something resumes it. */
void wait_suspend(int what);

/* Resume the suspended request `c` from the loop at deadline_ms (monotonic,
 * 0: next loop turn); never from a coroutine directly. */
void wait_wake_at(conn *c, uint64_t deadline_ms);

/* Cancel a wake-up set with wait_wake_at that has not fired yet (a wait
 * that ended for another reason). */
void wait_wake_cancel(conn *c);

/* The loop's clock (monotonic ms) of the calling worker. */
uint64_t wait_now_ms(void);

/* True once c's client is gone (it closed its side, reset, or its 504 went
 * out): a long-lived response should end. */
bool wait_peer_gone(const conn *c);

/* True once this worker is stopping (SIGTERM's drain): a long-lived
 * response should end, so its client reconnects to another worker. */
bool wait_stopping(void);

/* From the running request: wait until fd is ready for `events`
 * (EPOLLIN/EPOLLOUT) or timeout_ms passes (0: no timeout). Returns the ready
 * events, 0 on timeout. */
int wait_fd(int fd, uint32_t events, unsigned timeout_ms);

/* True once nobody will read c's answer (its 504 went out, or the client
 * left): a waiter in a queue should give up its place. */
bool wait_gave_up(const conn *c);

/* How many workers this server runs (1 outside a worker): for per-worker
 * shares of a machine-wide budget. */
int wait_workers(void);

#endif
