/*
 * coro.h -- stackful coroutines: one per running request (Lwan's model).
 *
 * A coroutine owns an mmap'd stack with a PROT_NONE guard page below it, so
 * a handler that overflows its stack faults instead of corrupting memory.
 * Stacks are pooled per worker and reused.
 */
#ifndef KILN_CORO_H
#define KILN_CORO_H

#include <stddef.h>

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

#define CORO_STACK_SIZE (256 * 1024)

#endif
