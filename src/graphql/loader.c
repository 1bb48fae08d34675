/*
 * loader.c -- the batching loader of GraphQL execution (kiln_gql_load), as
 * npm dataloader does it with its default options: per execution, one
 * loader per batch function; a key is cached for the whole execution (by
 * its JSON text); keys not yet loaded are queued and handed to ONE call of
 * the batch function when the executor dispatches (after a level). The
 * batch function sets a value or an error per key; a key it leaves alone
 * is null.
 *
 * Owns: the loaders and entries of one execution (all in its arena).
 * Must never: call a batch function with no keys or twice for one key, or
 * let one key's error reach another key.
 */
#include "graphql/loader.h"

#include <stdarg.h>

typedef struct loader {
    kiln_gql_batch_fn fn;
    gql_load_entry **slots;      /* hash table of every key (the cache)    */
    uint32_t nslots, nkeys;
    gql_load_entry **queue;      /* keys waiting for the next batch        */
    uint32_t nqueue, capqueue;
    uint64_t first_queued;       /* ask order of the first queued key      */
    struct loader *next;
} loader;

typedef struct job {
    uint64_t tick, order;
    void *rec;
    gql_load_entry *e;
    bool hop;                    /* a cache hit's adoption: queued again   */
} job;

typedef struct waiter {
    gql_load_entry *e;
    void *rec;
    bool hit;
} waiter;

struct gql_loads {
    arena *a;
    job *heap;                   /* jobs by (tick, order)                  */
    uint32_t njobs, capjobs;
    waiter *waiting;             /* records waiting for a batch            */
    uint32_t nwaiting, capwaiting;
    uint64_t now, order;
    void *context;
    gql_failed_fn *failed;
    loader *loaders;
    uint64_t asks;               /* every gql_loads_get, in order          */
    uint64_t settled;            /* entries settled so far (their seq)     */
    uint32_t calls;
};

struct kiln_gql_batch {
    gql_loads *l;
    gql_load_entry **keys;
    uint32_t n;
    const char *json;
    bool failed;                 /* kiln_gql_batch_fail: the batch threw */
};

gql_loads *gql_loads_new(arena *a, void *context, gql_failed_fn *failed)
{
    gql_loads *l = arena_alloc(a, sizeof *l);
    *l = (gql_loads){ .a = a, .context = context, .failed = failed };
    return l;
}

uint32_t gql_loads_calls(const gql_loads *l) { return l->calls; }

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;                    /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static void insert(loader *ld, gql_load_entry *e)
{
    uint32_t i = hash(e->key_json) & (ld->nslots - 1);
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

gql_load_entry *gql_loads_get(gql_loads *l, kiln_gql_batch_fn fn, const kiln_value *key, bool *cache_hit)
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
    l->asks++;
    if (!key) key = gql_v_null(l->a);
    buf b;
    buf_init(&b, 32);
    gql_stringify(&b, key);
    char *text = arena_strndup(l->a, b.data, b.len);
    buf_free(&b);

    if (ld->nslots) {
        uint32_t h = hash(text) & (ld->nslots - 1);
        for (gql_load_entry *e; (e = ld->slots[h]) != NULL; h = (h + 1) & (ld->nslots - 1))
            if (strcmp(e->key_json, text) == 0) { *cache_hit = true; return e; }
    }
    if ((ld->nkeys + 1) * 2 > ld->nslots) grow(l, ld);
    gql_load_entry *e = arena_alloc(l->a, sizeof *e);
    *e = (gql_load_entry){ .key = key, .key_json = text };
    insert(ld, e);
    ld->nkeys++;
    if (ld->nqueue == ld->capqueue) {
        uint32_t cap = ld->capqueue ? ld->capqueue * 2 : 16;
        gql_load_entry **q = arena_alloc(l->a, sizeof(*q) * cap);
        if (ld->nqueue) memcpy(q, ld->queue, sizeof(*q) * ld->nqueue);
        ld->queue = q;
        ld->capqueue = cap;
    }
    if (!ld->nqueue) ld->first_queued = l->asks;
    ld->queue[ld->nqueue++] = e;
    return e;
}

uint32_t gql_loads_dispatch(gql_loads *l)
{
    uint32_t calls = 0;
    for (;;) {
        /* dataloader schedules each loader's dispatch at its first queued
         * key: the loader whose first key was asked for first runs first. */
        loader *next = NULL;
        for (loader *ld = l->loaders; ld; ld = ld->next)
            if (ld->nqueue && (!next || ld->first_queued < next->first_queued)) next = ld;
        if (!next) return calls;
        kiln_gql_batch b = { .l = l, .keys = next->queue, .n = next->nqueue };
        next->queue = NULL;
        next->nqueue = next->capqueue = 0;
        next->fn(&b);
        const char *msg, *code;
        if (l->failed && l->failed(l->context, &msg, &code)) kiln_gql_batch_fail(&b, code, "%s", msg);
        for (uint32_t i = 0; i < b.n; i++) {
            gql_load_entry *e = b.keys[i];
            if (!e->error && !e->value) e->value = gql_v_null(l->a);
            e->done = true;
            e->late = b.failed;
            e->seq = ++l->settled;
        }
        calls++;
        l->calls++;
    }
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

/* ---- Scheduling ------------------------------------------------------------------ */

static bool before(const job *a, const job *b) { return a->tick < b->tick || (a->tick == b->tick && a->order < b->order); }

static void push(gql_loads *l, uint64_t tick, void *rec, gql_load_entry *e, bool hop)
{
    if (l->njobs == l->capjobs) {
        uint32_t cap = l->capjobs ? l->capjobs * 2 : 32;
        job *h = arena_alloc(l->a, sizeof(*h) * cap);
        if (l->njobs) memcpy(h, l->heap, sizeof(*h) * l->njobs);
        l->heap = h;
        l->capjobs = cap;
    }
    uint32_t i = l->njobs++;                       /* sift up */
    job j = { tick, l->order++, rec, e, hop };
    while (i && before(&j, &l->heap[(i - 1) / 2])) {
        l->heap[i] = l->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    l->heap[i] = j;
}

void gql_loads_push(gql_loads *l, uint64_t tick, void *rec, gql_load_entry *e) { push(l, tick, rec, e, false); }

static job pop(gql_loads *l)
{
    job top = l->heap[0], last = l->heap[--l->njobs];
    uint32_t i = 0;                                 /* sift down */
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= l->njobs) break;
        if (c + 1 < l->njobs && before(&l->heap[c + 1], &l->heap[c])) c++;
        if (!before(&l->heap[c], &last)) break;
        l->heap[i] = l->heap[c];
        i = c;
    }
    if (l->njobs) l->heap[i] = last;
    return top;
}

void gql_loads_wait(gql_loads *l, gql_load_entry *e, void *rec, bool cache_hit)
{
    if (l->nwaiting == l->capwaiting) {
        uint32_t cap = l->capwaiting ? l->capwaiting * 2 : 32;
        waiter *w = arena_alloc(l->a, sizeof(*w) * cap);
        if (l->nwaiting) memcpy(w, l->waiting, sizeof(*w) * l->nwaiting);
        l->waiting = w;
        l->capwaiting = cap;
    }
    l->waiting[l->nwaiting++] = (waiter){ e, rec, cache_hit };
}

uint64_t gql_loads_now(const gql_loads *l) { return l->now; }
uint64_t gql_loads_peek(const gql_loads *l) { return l->njobs ? l->heap[0].tick : UINT64_MAX; }

/* Stable: cache hits last (in ask order), the others by settle order, then
 * ask order (the array's). */
static void sort_waiting(waiter *w, waiter *tmp, uint32_t n)
{
    if (n < 2) return;
    uint32_t h = n / 2;
    sort_waiting(w, tmp, h);
    sort_waiting(w + h, tmp, n - h);
    uint32_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        uint64_t a = w[i].hit ? UINT64_MAX : w[i].e->seq, b = w[j].hit ? UINT64_MAX : w[j].e->seq;
        tmp[k++] = b < a ? w[j++] : w[i++];
    }
    while (i < h) tmp[k++] = w[i++];
    while (j < n) tmp[k++] = w[j++];
    memcpy(w, tmp, sizeof(*w) * n);
}

bool gql_loads_next(gql_loads *l, void **rec, gql_load_entry **e)
{
    if (!l->njobs) {
        if (!gql_loads_dispatch(l) && !l->nwaiting) return false;
        uint64_t settle = l->now + 1;
        waiter *w = l->waiting;
        uint32_t n = l->nwaiting;
        l->waiting = NULL;
        l->nwaiting = l->capwaiting = 0;
        sort_waiting(w, arena_alloc(l->a, sizeof(*w) * (n ? n : 1)), n);
        for (uint32_t i = 0; i < n; i++) {
            if (!w[i].e->done) KILN_PANIC("loader: a waiting key was not dispatched");
            push(l, settle + 1 + w[i].e->late, w[i].rec, w[i].e, w[i].hit);   /* late: .then, then .catch */
        }
        if (!l->njobs) return false;
    }
    job j = pop(l);
    while (j.hop) {             /* the cached promise's .then, queued behind this tick's jobs */
        l->now = j.tick;
        push(l, j.tick + 1, j.rec, j.e, false);
        j = pop(l);
    }
    l->now = j.tick;
    *rec = j.rec;
    *e = j.e;
    return true;
}
