/*
 * coro.h -- stackful coroutines: one per running request (Lwan's model).
 *
 * A coroutine owns an mmap'd stack with a PROT_NONE guard page below it, so
 * a handler that overflows its stack faults instead of corrupting memory.
 * Stacks are pooled per worker and reused.
 */
#ifndef KILN_CORO_H
#define KILN_CORO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct coro coro;
typedef void (*coro_fn)(coro *co, void *arg);

/* Make a coroutine that will run fn(co, arg) when first resumed. When fn
 * returns, control goes back to the resumer and coro_done() is true. */
coro *coro_new(coro_fn fn, void *arg);
/* Give a finished coroutine back to the pool (or free it). */
void coro_release(coro *co);
/* Switch into co until it yields or finishes. Only from the scheduler. */
void coro_resume(coro *co);
/* From inside co: switch back to whoever resumed it. */
void coro_yield(coro *co);
int coro_done(const coro *co);
/* Free every pooled stack (worker exit; keeps LeakSanitizer quiet). */
void coro_pool_drain(void);
/* The coroutine currently running, or NULL on the scheduler's stack. */
coro *coro_current(void);

/* Parking (copying-stack mode, x86-64): from the scheduler, on a suspended
 * coroutine that will stay suspended a while (a WebSocket handler waiting
 * in kiln_ws_recv). The live part of its stack, from the saved stack
 * pointer to the top (about 200 bytes for a handler in kiln_ws_recv), is
 * packed (kiln_zrun_pack) into a right-sized heap block and the stack's
 * pages are given back to the kernel and made PROT_NONE; coro_resume puts
 * it back at the same addresses first, so every pointer into the stack is
 * valid again when the coroutine runs. While parked, a touch of its stack
 * faults: the loop thread puts it back (coro_fault, from the worker's
 * SIGSEGV handler, or on request of a pool thread that faulted: see
 * runtime/park.c) -- never silent corruption. False: not parked (not supported here, disabled by
 * KILN_CORO_PARK=0, or already parked). */
bool coro_park(coro *co);
bool coro_parked(const coro *co);
/* From a SIGSEGV handler on the coroutine's thread (runtime/park.c): when
 * addr lies in co's parked stack, put the stack back (no allocation, no
 * free) and return true: the faulting access then goes on. The coroutine
 * stays suspended; a later sweep may park it again. */
bool coro_fault(coro *co, const void *addr);
/* The range a parked stack's touch faults in, [*lo, *hi) (park.c's index of
 * parked ranges); false when co is not parked. */
bool coro_parked_span(const coro *co, uintptr_t *lo, uintptr_t *hi);

#define CORO_STACK_SIZE (256 * 1024)

#endif
