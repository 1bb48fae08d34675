/*
 * doccache.h -- a per-worker LRU of parsed GraphQL documents, keyed by the
 * exact query text, holding each one's parse result and (once computed) its
 * validation result against the schema the cache serves. What Apollo
 * Server's documentStore does; the HTTP endpoint (src/api/graphql.c) uses it
 * so that a client sending the same document again skips the lexer, the
 * parser and validation.
 *
 *   setting                          default    meaning
 *   -------------------------------  ---------  ---------------------------------------
 *   KILN_GRAPHQL_CACHE_ENTRIES       1000       documents kept per worker (0: no cache)
 *   KILN_GRAPHQL_CACHE_BYTES         16777216   bytes they may take per worker (text,
 *                                               tree and error texts; 0: no cache)
 *
 * (read with the limits, limits.h's gql_op_limits_from_env). Everything an
 * entry holds -- its copy of the text, the tree parsed from that copy, its
 * errors as JSON -- is memory the entry owns, never the request's.
 *
 * An entry is pinned (gql_doccache_get) while a request uses it and released
 * after (gql_doccache_release): an entry evicted or flushed while pinned is
 * only unlinked, and freed at its last release, so a request suspended in a
 * resolver keeps its tree. The limits that depend on the request (which
 * operation, introspection) are not cached: the caller checks them on every
 * request, hit or miss (graphql.c).
 */
#ifndef KILN_GQL_DOCCACHE_H
#define KILN_GQL_DOCCACHE_H

#include "graphql/schema.h"

#define GQL_CACHE_ENTRIES 1000u
#define GQL_CACHE_BYTES (16u << 20)

typedef enum gql_doc_state {
    GQL_DOC_SYNTAX,     /* did not parse (or broke the parser's limits)   */
    GQL_DOC_PARSED,     /* parsed, not validated yet                      */
    GQL_DOC_VALID,      /* parsed and valid against the schema            */
    GQL_DOC_INVALID,    /* parsed, with validation errors                 */
} gql_doc_state;

typedef struct gql_cached_doc {
    gql_doc_state state;
    const char *text;            /* the entry's copy of the query (NUL-ended) */
    size_t len;
    const gql_node *doc;         /* parsed from text; NULL for SYNTAX       */
    const char *errors;          /* SYNTAX, INVALID: the value of "errors"  */
    size_t errors_len;           /* ([{"message":...}] as JSON)             */
    /* The cache's bookkeeping. */
    struct gql_doccache *cache;  /* NULL once unlinked (evicted, flushed)   */
    uint64_t hash;
    size_t cost;                 /* bytes counted against the bound         */
    uint32_t refs;               /* pins                                    */
    arena a;                     /* the tree and the error texts            */
    struct gql_cached_doc *newer, *older, *chain;
} gql_cached_doc;

typedef struct gql_doccache {
    uint32_t max_entries;
    size_t max_bytes;
    /* What the entries were made with; another value flushes them. */
    const gql_schema *schema;
    uint64_t schema_gen;
    gql_limits plim;
    gql_cached_doc **buckets;    /* hash chains; nbuckets a power of two    */
    uint32_t nbuckets;
    gql_cached_doc *newest, *oldest;
    uint32_t count;
    size_t bytes;
    uint64_t hits, misses, evictions;
} gql_doccache;

/* An empty cache of at most max_entries documents and max_bytes bytes
 * (either 0: nothing is kept; every get makes a private entry). */
void gql_doccache_init(gql_doccache *c, uint32_t max_entries, size_t max_bytes);
/* Drop every entry (pinned ones are freed at their release). */
void gql_doccache_flush(gql_doccache *c);
/* Flush and free the table; the cache can be initialised again. */
void gql_doccache_free(gql_doccache *c);

/* The entry of src[0..len) for `schema` (schema_gen: a number that changes
 * whenever the schema is rebuilt, even at the same address) parsed with
 * plim: found, or made now (parsed, not validated). Pinned: release it with
 * gql_doccache_release. *hit (may be NULL) says which. A schema, generation
 * or plim other than the entries' flushes them first. */
gql_cached_doc *gql_doccache_get(gql_doccache *c, const gql_schema *schema, uint64_t schema_gen, const char *src,
                                 size_t len, const gql_limits *plim, bool *hit);
/* Validate a PARSED entry against the cache's schema (scratch: an arena for
 * validation's working memory, e.g. the request's); VALID or INVALID after.
 * Other states are left as they are. */
void gql_doccache_validate(gql_cached_doc *e, const gql_schema *schema, arena *scratch);
/* Unpin; an unlinked entry is freed at its last release. */
void gql_doccache_release(gql_cached_doc *e);

#endif
