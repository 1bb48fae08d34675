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
struct jq;
struct jp;

/* One key of one loader: pending until its batch ran, then a value or an
 * error. Its promise (dataloader's) is fulfilled with `value` or rejected
 * with the entry itself. */
typedef struct gql_load_entry {
    const kiln_value *key;
    const char *key_json;        /* its JSON text: the cache key          */
    uint32_t hash;               /* ... hashed                            */
    const kiln_value *value;     /* settled without error (null: none)    */
    const char *error, *code;    /* settled with an error                 */
    struct jp *p;
    bool cleared;                /* its batch failed as a whole: dataloader
                                    drops it from the cache               */
} gql_load_entry;

/* Asked after each batch function (exec.h's gql_request.failed): true when
 * the data layer failed under it; then every key of the batch fails with
 * *message and *code. */
typedef bool gql_failed_fn(void *context, const char **message, const char **code);

gql_loads *gql_loads_new(arena *a, void *context, gql_failed_fn *failed);
/* The promise jobs of the execution (promise.h): the batches settle their
 * keys there. */
struct jq *gql_loads_queue(gql_loads *l);
/* dataloader's load(key) for the loader `fn`: a new key joins the
 * loader's current batch (one is scheduled when there is none); a key
 * asked before (*cache_hit) gets a new promise that the current batch
 * resolves with the cached one when it runs. key NULL is JSON null. */
struct jp *gql_loads_get(gql_loads *l, kiln_gql_batch_fn fn, const kiln_value *key, bool *cache_hit);
/* Run the batches scheduled so far, in the order they were scheduled
 * (dataloader's process.nextTick jobs, run once no promise job is left):
 * a batch with keys calls its batch function and settles its keys and
 * cache hits a promise job later (two when it failed as a whole: .then,
 * then .catch); one with only cache hits resolves them at once. Returns
 * the number of batches run (0: none was scheduled). */
uint32_t gql_loads_dispatch(gql_loads *l);

/* The arena of a batch's execution (for building values). */
arena *gql_batch_arena(kiln_gql_batch *b);

/* Batch function calls so far (for tests). */
uint32_t gql_loads_calls(const gql_loads *l);

#endif
