/*
 * loader.h -- internal to src/graphql: the batching loader behind
 * kiln_gql_load (kiln.h), like npm dataloader. One gql_loads per
 * execution holds a loader per batch function: its keys (cached for the
 * execution) and the keys queued for the next batch. The executor asks
 * for keys while it runs a level, then dispatches: one call of each batch
 * function with the keys queued, in the order they were first asked for.
 */
#ifndef KILN_GQL_LOADER_H
#define KILN_GQL_LOADER_H

#include "graphql/values.h"

typedef struct gql_loads gql_loads;

/* One key of one loader: pending until its batch ran, then a value or an
 * error. `seq` orders keys as dataloader settles them (batch, position). */
typedef struct gql_load_entry {
    const kiln_value *key;
    const char *key_json;        /* its JSON text: the cache key          */
    bool done;
    const kiln_value *value;     /* done without error (NULL: null)       */
    const char *error, *code;    /* done with an error                    */
    uint64_t seq;
    bool late;                   /* its batch failed as a whole (a throw):
                                   dataloader rejects it a job later      */
    struct gql_load_entry *next_in_loader;
} gql_load_entry;

/* Asked after each batch function (exec.h's gql_request.failed): true when
 * the data layer failed under it; then every key of the batch fails with
 * *message and *code. */
typedef bool gql_failed_fn(void *context, const char **message, const char **code);

gql_loads *gql_loads_new(arena *a, void *context, gql_failed_fn *failed);
/* The entry of key for the loader `fn`: from the cache, or new and queued.
 * key NULL is JSON null. */
gql_load_entry *gql_loads_get(gql_loads *l, kiln_gql_batch_fn fn, const kiln_value *key, bool *cache_hit);
/* Run every loader that has queued keys: one call of its batch function
 * each, loaders in the order their first queued key was asked for. Returns
 * the number of calls (0: nothing was queued). */
uint32_t gql_loads_dispatch(gql_loads *l);
/* ---- Scheduling, as graphql-js's promise jobs run ---------------------
 * A deferred field (the executor's record, opaque here) waits for its
 * entry; jobs run in the order of their tick (a microtask "generation"),
 * then of their scheduling. When no job is left, the queued keys are
 * dispatched (dataloader's batch after the microtasks): the entries settle
 * at a new tick S, and each waiting record gets a job at S+1 (the
 * resolver's .then, which passes an error on to the field's catch at
 * S+2), entries in settle order, records in the order they asked. A
 * cache hit (a key asked for before, settled or not) waits too, as
 * dataloader resolves it with the cached promise at its next dispatch:
 * its job is at S+2, queued behind what the jobs at S+1 queued (the
 * cached promise's .then is itself a job at S+1, after the others), in
 * the order of asking. */
void gql_loads_wait(gql_loads *l, gql_load_entry *e, void *rec, bool cache_hit);
void gql_loads_push(gql_loads *l, uint64_t tick, void *rec, gql_load_entry *e);
uint64_t gql_loads_now(const gql_loads *l);
/* The tick of the next job, without dispatching (UINT64_MAX: none queued). */
uint64_t gql_loads_peek(const gql_loads *l);
/* The next job (false: nothing left to run or load). */
bool gql_loads_next(gql_loads *l, void **rec, gql_load_entry **e);

/* The arena of a batch's execution (for building values). */
arena *gql_batch_arena(kiln_gql_batch *b);

/* Batch function calls so far (for tests). */
uint32_t gql_loads_calls(const gql_loads *l);

#endif
