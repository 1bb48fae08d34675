/*
 * doccache.c -- the parsed-document cache of doccache.h: an LRU of GraphQL
 * documents keyed by their exact text, per worker process (no locks: a
 * worker runs one coroutine at a time, and nothing here suspends).
 *
 * Layout. A hash table of chains (FNV-1a of the text; the table is sized
 * once, a power of two near max_entries) and a doubly-linked recency list,
 * newest first. Each entry is one malloc'd struct holding an arena: the
 * copy of the text, the tree gql_parse builds from that copy (so no node
 * points into a request's body), and the errors as the JSON text the
 * endpoint writes. An entry's cost is its struct, its text and what its
 * arena took from malloc (arena_reserved); the cache keeps the sum under
 * max_bytes and the count under max_entries by unlinking the oldest. An
 * entry that alone costs more than max_bytes is never linked: the request
 * gets a private one, freed at its release, exactly as with the cache off.
 *
 * Validity. An entry records the parse and the validation against one
 * schema; the cache remembers which (its address and a generation number
 * that kiln dev's hot reload bumps) and the parser limits used, and flushes
 * everything when asked for another. Validation runs lazily, after the
 * caller's limit checks, as it did before the cache (limits.h: the limits
 * bound validation's work), and is stored in the entry once done.
 *
 * Pins. A request holds its entry pinned (refs) across execution, which
 * may suspend in resolvers while other requests evict or flush: unlinking
 * a pinned entry only takes it out of the table and the list (its cost no
 * longer counted); the last release frees it.
 *
 * Owns: the table and every entry's memory. Must never: hand out a tree or
 * a verdict made for another text, schema or parser limits; free a pinned
 * entry; let the counted bytes exceed max_bytes after a get returns.
 */
#include "graphql/doccache.h"
#include "graphql/exec.h"
#include "json/json.h"

#include <stdlib.h>

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

void gql_doccache_init(gql_doccache *c, uint32_t max_entries, size_t max_bytes)
{
    memset(c, 0, sizeof *c);
    c->max_entries = max_bytes ? max_entries : 0;
    c->max_bytes = max_entries ? max_bytes : 0;
    if (!c->max_entries) return;
    uint32_t n = 16;
    while (n < c->max_entries && n < (1u << 20)) n <<= 1;
    c->nbuckets = n;
    c->buckets = kiln_xcalloc(n, sizeof *c->buckets);
}

static void entry_free(gql_cached_doc *e)
{
    arena_destroy(&e->a);
    free(e);
}

static size_t entry_cost(const gql_cached_doc *e) { return sizeof *e + arena_reserved(&e->a); }

/* Take e out of the table and the list; free it unless pinned. */
static void unlink_entry(gql_doccache *c, gql_cached_doc *e)
{
    gql_cached_doc **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e) pp = &(*pp)->chain;
    *pp = e->chain;
    if (e->newer) e->newer->older = e->older;
    else c->newest = e->older;
    if (e->older) e->older->newer = e->newer;
    else c->oldest = e->newer;
    c->count--;
    c->bytes -= e->cost;
    e->cache = NULL;
    e->newer = e->older = e->chain = NULL;
    if (!e->refs) entry_free(e);
}

/* Evict the oldest entries, sparing `keep`, until the bounds hold. */
static void shrink(gql_doccache *c, const gql_cached_doc *keep)
{
    gql_cached_doc *e = c->oldest;
    while (e && (c->count > c->max_entries || c->bytes > c->max_bytes)) {
        gql_cached_doc *newer = e->newer;
        if (e != keep) {
            unlink_entry(c, e);
            c->evictions++;
        }
        e = newer;
    }
}

void gql_doccache_flush(gql_doccache *c)
{
    while (c->newest) unlink_entry(c, c->newest);
}

void gql_doccache_free(gql_doccache *c)
{
    if (c->buckets) gql_doccache_flush(c);
    free(c->buckets);
    memset(c, 0, sizeof *c);
}

/* The errors of a syntax error, as the value of "errors". */
static void syntax_errors(gql_cached_doc *e, const gql_error *pe)
{
    buf out;
    buf_init(&out, 128 + pe->message_len);
    buf_puts(&out, "[{\"message\":");
    json_escape(&out, pe->message, pe->message_len);
    buf_printf(&out, ",\"locations\":[{\"line\":%u,\"column\":%u}]}]", pe->line, pe->column);
    e->errors = arena_strndup(&e->a, out.data, out.len);
    e->errors_len = out.len;
    buf_free(&out);
}

/* A new entry for src: the text copied, parsed from the copy. */
static gql_cached_doc *entry_new(const char *src, size_t len, uint64_t hash, const gql_limits *plim)
{
    gql_cached_doc *e = kiln_xcalloc(1, sizeof *e);
    /* A tree takes some tens of bytes per byte of text: one block for a
     * usual document; the arena grows for a large one (never a big block
     * up front: a document past the size limit is refused at once). */
    arena_init(&e->a, 1024 + (len < 4096 ? len * 16 : 65536));
    e->hash = hash;
    e->len = len;
    e->text = arena_strndup(&e->a, src, len);
    gql_error pe;
    e->doc = gql_parse(&e->a, e->text, len, plim, &pe);
    if (e->doc) {
        e->state = GQL_DOC_PARSED;
    } else {
        e->state = GQL_DOC_SYNTAX;
        syntax_errors(e, &pe);
    }
    e->refs = 1;
    return e;
}

static bool same_limits(const gql_limits *a, const gql_limits *b)
{
    return a->max_bytes == b->max_bytes && a->max_tokens == b->max_tokens && a->max_depth == b->max_depth;
}

gql_cached_doc *gql_doccache_get(gql_doccache *c, const gql_schema *schema, uint64_t schema_gen, const char *src,
                                 size_t len, const gql_limits *plim, bool *hit)
{
    static const gql_limits none;
    if (!plim) plim = &none;
    uint64_t h = fnv1a(src, len);
    if (hit) *hit = false;
    if (!c->max_entries) return entry_new(src, len, h, plim);
    if (schema != c->schema || schema_gen != c->schema_gen || !same_limits(plim, &c->plim)) {
        gql_doccache_flush(c);
        c->schema = schema;
        c->schema_gen = schema_gen;
        c->plim = *plim;
    }
    for (gql_cached_doc *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->chain) {
        if (e->hash != h || e->len != len || memcmp(e->text, src, len) != 0) continue;
        /* Move to the front of the recency list. */
        if (e->newer) {
            e->newer->older = e->older;
            if (e->older) e->older->newer = e->newer;
            else c->oldest = e->newer;
            e->newer = NULL;
            e->older = c->newest;
            c->newest->newer = e;
            c->newest = e;
        }
        e->refs++;
        c->hits++;
        if (hit) *hit = true;
        return e;
    }
    c->misses++;
    gql_cached_doc *e = entry_new(src, len, h, plim);
    e->cost = entry_cost(e);
    if (e->cost > c->max_bytes) return e;          /* too big to keep: private */
    e->cache = c;
    gql_cached_doc **b = &c->buckets[h & (c->nbuckets - 1)];
    e->chain = *b;
    *b = e;
    e->older = c->newest;
    if (c->newest) c->newest->newer = e;
    else c->oldest = e;
    c->newest = e;
    c->count++;
    c->bytes += e->cost;
    shrink(c, e);
    return e;
}

void gql_doccache_validate(gql_cached_doc *e, const gql_schema *schema, arena *scratch)
{
    if (e->state != GQL_DOC_PARSED) return;
    KILN_ASSERT(!e->cache || e->cache->schema == schema);
    gql_errs errs = { .a = scratch, .src = e->text, .src_len = e->len };
    gql_validate(schema, e->doc, &errs);
    if (!errs.count) {
        e->state = GQL_DOC_VALID;
        return;
    }
    buf out;
    buf_init(&out, 256);
    gql_write_errors(&out, &errs);
    e->errors = arena_strndup(&e->a, out.data, out.len);
    e->errors_len = out.len;
    buf_free(&out);
    e->state = GQL_DOC_INVALID;
    gql_doccache *c = e->cache;
    if (!c) return;
    size_t cost = entry_cost(e);
    c->bytes += cost - e->cost;
    e->cost = cost;
    if (cost > c->max_bytes) {                     /* no longer fits at all */
        unlink_entry(c, e);
        c->evictions++;
    } else {
        shrink(c, e);
    }
}

void gql_doccache_release(gql_cached_doc *e)
{
    KILN_ASSERT(e->refs > 0);
    if (--e->refs == 0 && !e->cache) entry_free(e);
}
