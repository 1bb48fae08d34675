/*
 * limits.h -- limits against abusive GraphQL operations, checked by the
 * HTTP endpoint after parsing (and beside validation), before executing:
 *
 *   limit            env (read at worker start)       default    error
 *   ---------------  -------------------------------  ---------  -------------------------------------------
 *   query depth      KILN_GRAPHQL_MAX_DEPTH           12         Query depth 13 exceeds the limit of 12.
 *   aliases per op   KILN_GRAPHQL_MAX_ALIASES         30         Operation has 31 aliases, exceeding the limit of 30.
 *   fields per op    KILN_GRAPHQL_MAX_FIELDS          1000       Operation has 1001 fields, exceeding the limit of 1000.
 *   document size    KILN_GRAPHQL_MAX_BYTES           102400     Syntax Error: Document is larger than 102400 bytes. Parsing aborted.
 *   tokens           KILN_GRAPHQL_MAX_TOKENS          5000       Syntax Error: Document contains more that 5000 tokens. Parsing aborted.
 *   time budget      KILN_GRAPHQL_TIMEOUT_MS          10000      The operation's time budget ran out before this field was resolved.
 *   introspection    KILN_GRAPHQL_INTROSPECTION=0     on         GraphQL introspection has been disabled, but the requested query contained the field "__schema".
 *
 * (The token message is graphql-js's maxTokens message, typo included.)
 * Tokens bound the work of validation: some of graphql-js's rules are
 * quadratic in what one selection holds (OverlappingFieldsCanBeMerged in
 * fields of one response name, the uniqueness rules in names), so a
 * document of the parser's own ceiling (50,000 tokens) can take seconds;
 * 5,000 tokens keep it to milliseconds, and GraphiQL's introspection query
 * is under 200. The endpoint should check these limits before validating.
 *
 * A numeric limit of 0 means "no limit" (for tokens: the parser's own
 * 50,000). Depth counts the fields on the
 * longest path (`{ a { b } }` is 2; what is under __schema and __type
 * counts no deeper: the MaxIntrospectionDepth rule bounds it, and the
 * introspection query of GraphiQL is 15 deep); fields and aliases count every field
 * selection of the operation with its fragments expanded (a fragment
 * spread ten times counts ten times; the sums saturate, so a fragment
 * "bomb" cannot overflow them; cycles are cut). Limit errors carry the
 * locations of the operation or of the deepest field and extensions.code
 * GRAPHQL_VALIDATION_FAILED (GQL_CODE_LIMIT); time-budget errors are field
 * errors with code TIMEOUT (GQL_CODE_TIMEOUT), the data resolved so far
 * kept. With introspection off the check reports what graphql-js's
 * NoSchemaIntrospectionCustomRule reports, word for word.
 *
 * Depends on the language layer only (no HTTP).
 */
#ifndef KILN_GQL_LIMITS_H
#define KILN_GQL_LIMITS_H

#include "graphql/schema.h"

typedef struct gql_op_limits {
    uint32_t max_depth;
    uint32_t max_aliases;
    uint32_t max_fields;
    size_t max_bytes;
    uint32_t max_tokens;
    uint32_t timeout_ms;
    bool introspection;
    uint32_t cache_entries;    /* the parsed-document cache (doccache.h):  */
    size_t cache_bytes;        /* KILN_GRAPHQL_CACHE_ENTRIES / _BYTES      */
} gql_op_limits;

#define GQL_LIMIT_DEPTH 12u
#define GQL_LIMIT_ALIASES 30u
#define GQL_LIMIT_FIELDS 1000u
#define GQL_LIMIT_BYTES 102400u
#define GQL_LIMIT_TOKENS 5000u
#define GQL_LIMIT_TIMEOUT_MS 10000u
#define GQL_CODE_LIMIT "GRAPHQL_VALIDATION_FAILED"
#define GQL_CODE_TIMEOUT "TIMEOUT"

/* The defaults above (and doccache.h's for the cache). */
void gql_op_limits_default(gql_op_limits *l);
/* The defaults, then the KILN_GRAPHQL_* variables. Returns NULL, or a
 * message naming the variable that is not a number (l keeps its default). */
const char *gql_op_limits_from_env(gql_op_limits *l);
/* The parser's limits for gql_parse (document size, tokens). */
gql_limits gql_op_limits_parser(const gql_op_limits *l);

/* Check a parsed document: depth, aliases and fields of the operation
 * named (or of every operation when operation_name.ptr is NULL), and
 * introspection when it is off. Errors are added to errs (its src must be
 * the document's text); returns how many. */
uint32_t gql_check_limits(const gql_schema *s, const gql_node *doc, kiln_str operation_name, const gql_op_limits *l,
                          gql_errs *errs);

/* CLOCK_MONOTONIC in nanoseconds; the deadline of a budget starting now
 * (0: none), for gql_request.deadline_ns. */
uint64_t gql_clock_ns(void);
uint64_t gql_deadline_ns(const gql_op_limits *l);

#endif
