/*
 * loader.c -- the batching loader of GraphQL execution (kiln_gql_load), as
 * npm dataloader does it with its default options: per execution, one
 * loader per batch function; a key is cached for the whole execution (by
 * its JSON text); keys not yet loaded are queued and handed to ONE call of
 * the batch function when the executor dispatches (after a level). The
 * batch function sets a value or an error per key; a key it leaves alone
 * is null. When the batches run and when their keys settle is dataloader's
 * (2.2.3): a loader's batch is scheduled by its first load, batches run in
 * the order they were scheduled once no promise job is left, and settle
 * their promises (promise.h) as dataloader's .then and .catch do.
 *
 * Owns: the loaders and entries of one execution (all in its arena).
 * Must never: call a batch function with no keys, or twice for one key
 * (but after its batch failed as a whole: dataloader forgets those), or
 * let one key's error reach another key.
 */
#include "graphql/loader.h"
#include "graphql/promise.h"

#include <stdarg.h>

typedef struct loader loader;

/* dataloader's batch: the keys it will ask for and the cache hits it
 * resolves when it runs. */
typedef struct batch {
    loader *ld;
    gql_load_entry **keys;
    uint32_t n, cap;
    struct hit { jp *p, *cached; } *hits;   /* a hit's promise, the cached one */
    uint32_t nhits, caphits;
    bool dispatched;
    struct batch *next;          /* scheduled after it                    */
} batch;

struct loader {
    kiln_gql_batch_fn fn;
    gql_load_entry **slots;      /* hash table of every key (the cache)    */
    uint32_t nslots, nkeys;
    batch *batch;                /* the current batch                      */
    loader *next;
};

struct gql_loads {
    arena *a;
    jq *q;
    void *context;
    gql_failed_fn *failed;
    loader *loaders;
    batch *first, *last;         /* scheduled, not run                     */
    uint32_t calls;
    buf text;                    /* a key's JSON text, made here first:
                                    only a new key's is kept (freed with
                                    the arena)                            */
};

struct kiln_gql_batch {
    gql_loads *l;
    gql_load_entry **keys;
    uint32_t n;
    const char *json;
    bool failed;                 /* kiln_gql_batch_fail: the batch threw */
};

static void free_text(void *l) { buf_free(&((gql_loads *)l)->text); }

gql_loads *gql_loads_new(arena *a, void *context, gql_failed_fn *failed)
{
    gql_loads *l = arena_alloc(a, sizeof *l);
    *l = (gql_loads){ .a = a, .context = context, .failed = failed };
    l->q = jq_new(a, l);
    arena_defer_fn(a, free_text, l);
    return l;
}

uint32_t gql_loads_calls(const gql_loads *l) { return l->calls; }
jq *gql_loads_queue(gql_loads *l) { return l->q; }

static uint32_t hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;                    /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static void insert(loader *ld, gql_load_entry *e)
{
    uint32_t i = e->hash & (ld->nslots - 1);
    while (ld->slots[i]) i = (i + 1) & (ld->nslots - 1);
    ld->slots[i] = e;
}

static void grow(gql_loads *l, loader *ld)
{
    gql_load_entry **old = ld->slots;
    uint32_t n = ld->nslots;
    ld->nslots = n ? n * 2 : 16;
    ld->slots = arena_alloc(l->a, sizeof(*ld->slots) * ld->nslots);
    memset(ld->slots, 0, sizeof(*ld->slots) * ld->nslots);
    for (uint32_t i = 0; i < n; i++)
        if (old[i]) insert(ld, old[i]);
}

/* getCurrentBatch: the loader's batch, or a new one scheduled after the
 * others (its process.nextTick). */
static batch *current_batch(gql_loads *l, loader *ld)
{
    if (ld->batch && !ld->batch->dispatched) return ld->batch;
    batch *b = arena_alloc(l->a, sizeof *b);
    *b = (batch){ .ld = ld };
    ld->batch = b;
    if (l->last) l->last->next = b;
    else l->first = b;
    l->last = b;
    return b;
}

jp *gql_loads_get(gql_loads *l, kiln_gql_batch_fn fn, const kiln_value *key, bool *cache_hit)
{
    *cache_hit = false;
    if (!fn) KILN_PANIC("kiln_gql_load: no batch function");
    loader *ld = l->loaders, **tail = &l->loaders;
    for (; ld && ld->fn != fn; ld = ld->next) tail = &ld->next;
    if (!ld) {
        ld = arena_alloc(l->a, sizeof *ld);
        *ld = (loader){ .fn = fn };
        *tail = ld;
    }
    batch *b = current_batch(l, ld);
    if (!key) key = gql_v_null(l->a);
    buf *t = &l->text;
    t->len = 0;
    gql_stringify(t, key);
    buf_putc(t, 0);
    const char *text = t->data;
    uint32_t th = hash(text, t->len - 1);

    if (ld->nslots) {
        uint32_t h = th & (ld->nslots - 1);
        for (gql_load_entry *e; (e = ld->slots[h]) != NULL; h = (h + 1) & (ld->nslots - 1))
            if (e->hash == th && !e->cleared && strcmp(e->key_json, text) == 0) {
                *cache_hit = true;              /* new Promise(r => hits.push(() => r(cached))) */
                ARENA_GROW(l->a, b->hits, b->nhits, b->caphits, 8);
                b->hits[b->nhits] = (struct hit){ jp_new(l->q), e->p };
                return b->hits[b->nhits++].p;
            }
    }
    if ((ld->nkeys + 1) * 2 > ld->nslots) grow(l, ld);
    gql_load_entry *e = arena_alloc(l->a, sizeof *e);
    *e = (gql_load_entry){ .key = key, .key_json = arena_strndup(l->a, text, t->len - 1), .hash = th, .p = jp_new(l->q) };
    insert(ld, e);
    ld->nkeys++;
    ARENA_GROW(l->a, b->keys, b->n, b->cap, 8);
    b->keys[b->n++] = e;
    return e->p;
}

/* resolveCacheHits: each hit follows its cached promise (a job later). */
static void resolve_hits(gql_loads *l, batch *b)
{
    for (uint32_t i = 0; i < b->nhits; i++) jp_adopt(l->q, b->hits[i].p, b->hits[i].cached);
}

/* batchPromise.then(values => ...): hits, then each key in order. */
static jp_ret batch_done(jq *q, void *ctx, void *arg)
{
    (void)arg;
    batch *b = ctx;
    gql_loads *l = jq_user(q);
    resolve_hits(l, b);
    for (uint32_t i = 0; i < b->n; i++) {
        gql_load_entry *e = b->keys[i];
        if (e->error) jp_reject(q, e->p, e);
        else jp_resolve(q, e->p, (void *)e->value);
    }
    return (jp_ret){ JP_VALUE, NULL };
}

/* .catch(error => failedDispatch(...)): hits, then each key dropped from
 * the cache and rejected. */
static jp_ret batch_failed(jq *q, void *ctx, void *arg)
{
    (void)arg;
    batch *b = ctx;
    gql_loads *l = jq_user(q);
    resolve_hits(l, b);
    for (uint32_t i = 0; i < b->n; i++) {
        b->keys[i]->cleared = true;
        jp_reject(q, b->keys[i]->p, b->keys[i]);
    }
    return (jp_ret){ JP_VALUE, NULL };
}

uint32_t gql_loads_dispatch(gql_loads *l)
{
    uint32_t ran = 0;
    batch *b = l->first;
    l->first = l->last = NULL;
    for (; b; b = b->next, ran++) {
        b->dispatched = true;
        if (!b->n) { resolve_hits(l, b); continue; }
        kiln_gql_batch kb = { .l = l, .keys = b->keys, .n = b->n };
        b->ld->fn(&kb);
        const char *msg, *code;
        if (l->failed && l->failed(l->context, &msg, &code)) kiln_gql_batch_fail(&kb, code, "%s", msg);
        for (uint32_t i = 0; i < b->n; i++)
            if (!b->keys[i]->error && !b->keys[i]->value) b->keys[i]->value = gql_v_null(l->a);
        l->calls++;
        /* The batch function is an async function: its promise is settled
         * when it returns (rejected: it threw). */
        jp *bp = jp_new(l->q);
        if (kb.failed) jp_reject(l->q, bp, NULL);
        else jp_resolve(l->q, bp, NULL);
        jp_then(l->q, jp_then(l->q, bp, batch_done, NULL, b), NULL, batch_failed, b);
    }
    return ran;
}

/* ---- The batch function's API (kiln.h) -------------------------------------- */

size_t kiln_gql_batch_count(kiln_gql_batch *b) { return b->n; }
arena *gql_batch_arena(kiln_gql_batch *b) { return b->l->a; }
kiln_req *kiln_gql_batch_req(kiln_gql_batch *b) { return b->l->context; }

const kiln_value *kiln_gql_batch_key(kiln_gql_batch *b, size_t i)
{
    if (i >= b->n) KILN_PANIC("kiln_gql_batch_key: index %zu of %u keys", i, b->n);
    return b->keys[i]->key;
}

const char *kiln_gql_batch_keys_json(kiln_gql_batch *b)
{
    if (b->json) return b->json;
    buf out;
    buf_init(&out, 16 * (size_t)b->n + 2);
    buf_putc(&out, '[');
    for (uint32_t i = 0; i < b->n; i++) {
        if (i) buf_putc(&out, ',');
        buf_puts(&out, b->keys[i]->key_json);
    }
    buf_putc(&out, ']');
    b->json = arena_strndup(b->l->a, out.data, out.len);
    buf_free(&out);
    return b->json;
}

void kiln_gql_batch_set(kiln_gql_batch *b, size_t i, const kiln_value *v)
{
    if (i >= b->n) KILN_PANIC("kiln_gql_batch_set: index %zu of %u keys", i, b->n);
    b->keys[i]->value = v ? v : gql_v_null(b->l->a);
    b->keys[i]->error = NULL;
}

static void set_error(kiln_gql_batch *b, size_t i, const char *code, const char *fmt, va_list ap)
{
    buf m;
    buf_init(&m, 64);
    buf_vprintf(&m, fmt, ap);
    gql_load_entry *e = b->keys[i];
    e->error = arena_strndup(b->l->a, m.data, m.len);
    e->code = code ? arena_strdup(b->l->a, code) : NULL;
    e->value = NULL;
    buf_free(&m);
}

void kiln_gql_batch_error(kiln_gql_batch *b, size_t i, const char *code, const char *fmt, ...)
{
    if (i >= b->n) KILN_PANIC("kiln_gql_batch_error: index %zu of %u keys", i, b->n);
    va_list ap;
    va_start(ap, fmt);
    set_error(b, i, code, fmt, ap);
    va_end(ap);
}

void kiln_gql_batch_fail(kiln_gql_batch *b, const char *code, const char *fmt, ...)
{
    b->failed = true;
    for (uint32_t i = 0; i < b->n; i++) {
        va_list ap;
        va_start(ap, fmt);
        set_error(b, i, code, fmt, ap);
        va_end(ap);
    }
}
