/*
 * promise.h -- internal to src/graphql: a model of JavaScript's promises
 * and microtask queue (ECMAScript 2022, 27.2), so that the loader's
 * deferred fields settle -- and their errors are recorded -- in exactly
 * the order graphql-js 16 with npm dataloader settles them on Node. A
 * promise here carries no JS value: `v` is whatever the caller puts there
 * (a kiln_value, an error record). The jobs are the spec's: a reaction job
 * per settled promise and .then, a resolve-thenable job when a promise is
 * resolved with another; they run first in, first out.
 */
#ifndef KILN_GQL_PROMISE_H
#define KILN_GQL_PROMISE_H

#include "core/core.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct jp jp;               /* a promise                             */
typedef struct jq jq;               /* the microtask queue of one execution  */

/* What a .then handler returned (or threw). */
typedef enum {
    JP_VALUE,                       /* a plain value: the derived fulfills   */
    JP_PROMISE,                     /* a promise: the derived adopts it      */
    JP_THROW,                       /* an exception: the derived rejects     */
    JP_LATER,                       /* the caller settles the derived itself
                                       before any other job runs (jp_handler_later) */
} jp_kind;

typedef struct jp_ret {
    jp_kind kind;
    void *v;                        /* the value, the promise or the reason  */
} jp_ret;

/* A handler: `ctx` as given to jp_then, `arg` the value or the reason. */
typedef jp_ret jp_fn(jq *q, void *ctx, void *arg);

jq *jq_new(arena *a, void *user);
void *jq_user(jq *q);               /* the `user` of jq_new                  */
arena *jq_arena(jq *q);

jp *jp_new(jq *q);                  /* pending: new Promise(...)             */
/* The resolving functions of a promise made by jp_new (each promise is
 * resolved at most once: later calls do nothing). */
void jp_resolve(jq *q, jp *p, void *v);          /* with a plain value       */
void jp_adopt(jq *q, jp *p, jp *with);           /* with a promise           */
void jp_reject(jq *q, jp *p, void *reason);
/* p.then(ok, err): ok or err NULL passes the value or the reason on. */
jp *jp_then(jq *q, jp *p, jp_fn *ok, jp_fn *err, void *ctx);
/* p.then().then() ... (`hops` pass-through .then()s, or Promise.all([p])s:
 * each settles a job after the one before) .then(ok, err), where nobody
 * sees the promises in between: the same jobs, in the same places of the
 * queue, as the whole chain, without making those promises. */
jp *jp_then_after(jq *q, jp *p, uint32_t hops, jp_fn *ok, jp_fn *err, void *ctx);
/* Promise.all(parts) of n promises (pending ones: a value part costs a
 * job that never decides anything, so it is left out). */
jp *jp_all(jq *q, jp *const *parts, uint32_t n);
/* The handler that returned JP_LATER settles its derived now. */
void jp_later(jq *q, jp *derived, jp_ret r);

bool jp_pending(const jp *p);
bool jp_rejected(const jp *p);

/* Run the next job (false: the queue is empty). */
bool jq_run(jq *q);
/* Run jobs until the queue is empty or *stop is true (a handler sets it);
 * the number run. */
uint32_t jq_run_until(jq *q, const bool *stop);
/* The derived promise of the reaction job running now (for JP_LATER). */
jp *jq_current(jq *q);

#endif
