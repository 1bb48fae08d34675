/*
 * fuzz_graphql_validate.c -- libFuzzer driver for GraphQL validation (all
 * of graphql-js's specifiedRules, OverlappingFieldsCanBeMerged included)
 * and the abuse limits, on any document the parser accepts, against a
 * fixed schema built to reach every branch of the field-merging rule
 * (interfaces and unions over objects, arguments, lists and non-null of
 * different types, input objects, enums). Properties checked (abort() on
 * any failure):
 *
 *  1. gql_validate ends (libFuzzer's timeout catches a hang) and every
 *     error has a message and at least one location, each inside the
 *     document: line >= 1, column >= 1, not past the end of the text;
 *     except graphql-js's "Too many validation errors ..." (maxErrors),
 *     which comes 101st, last and unlocated.
 *  2. Deterministic: validating the same tree again on a fresh arena gives
 *     the same errors (messages and locations) in the same order.
 *  3. Field conflicts are worded as graphql-js words them: "Fields \"k\"
 *     conflict because ... Use different aliases on the fields to fetch
 *     both if this was intentional." with at least two locations.
 *  4. gql_check_limits with tight limits and introspection off: every error
 *     has code GRAPHQL_VALIDATION_FAILED and one location inside the
 *     document; the same errors twice; with no limits and introspection on
 *     it reports nothing.
 *  5. The parsed-document cache (graphql/doccache.c, a small one, so that
 *     inputs evict each other) gives what a fresh parse and validation give:
 *     a syntax error's message and location, the validation verdict and its
 *     errors as JSON, the same printed tree; the caller's buffer is freed
 *     right after the get (ASan: no pointer into it); a second get of a
 *     kept entry is a hit on the same entry; the byte and entry bounds hold.
 */
#include "graphql/doccache.h"
#include "graphql/exec.h"
#include "graphql/limits.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_graphql_validate: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static const char sdl[] =
    "interface Item { id: ID! price: Float }\n"
    "interface Priced { price: Float }\n"
    "type Book implements Item & Priced { id: ID! price: Float title: String pages: Int author: Person }\n"
    "type Film implements Item & Priced { id: ID! price: Float title: String director: Person minutes: Int! }\n"
    "type Gift implements Item { id: ID! price: Float tags: [String!]! }\n"
    "union Thing = Book | Film | Person\n"
    "type Person { name: String friends: [Person] best: Person! }\n"
    "enum Kind { GIFT SALE }\n"
    "input OrderInput { items: [ID!]! note: String kind: Kind = SALE nested: OrderInput }\n"
    "type Shop { name: String! owner: Person items(first: Int, kind: Kind, in: OrderInput): [Item!]! things: [Thing] }\n"
    "type Order { id: ID! items: [Item] }\n"
    "type Query { shop: Shop item(id: ID!): Item search(q: String = \"\"): [Thing!] }\n"
    "type Mutation { order(input: OrderInput!): Order }\n"
    "type Subscription { shopChanged: Shop }\n";

static arena A, B;
static gql_schema *schema;
static gql_doccache cache;

static void setup(void)
{
    arena_init(&A, 1 << 16);
    arena_init(&B, 1 << 16);
    static arena S;
    arena_init(&S, 1 << 16);
    gql_error pe;
    gql_node *d = gql_parse(&S, sdl, sizeof sdl - 1, NULL, &pe);
    gql_errs e = { .a = &S };
    schema = d ? gql_schema_build(&S, sdl, sizeof sdl - 1, d, &e) : NULL;
    if (!schema) FAIL("the fixed schema does not build: %s", e.first ? e.first->message : pe.message);
    gql_doccache_init(&cache, 4, 1 << 16);
}

/* 5: the cache's entry for src against a fresh parse (doc, pe) and
 * validation (verr; NULL when doc is). */
static void check_cache(const char *src, size_t size, const gql_node *doc, const gql_error *pe, const gql_errs *verr)
{
    char *copy = malloc(size ? size : 1);
    if (size) memcpy(copy, src, size);
    bool hit;
    gql_cached_doc *e = gql_doccache_get(&cache, schema, 1, copy, size, NULL, &hit);
    memset(copy, 0xA5, size);
    free(copy);
    gql_doccache_validate(e, schema, &B);
    buf want, got;
    buf_init(&want, 256);
    buf_init(&got, 256);
    if (!doc) {
        if (e->state != GQL_DOC_SYNTAX) FAIL("cache: parsed what does not parse");
        buf_puts(&want, "[{\"message\":");
        json_escape(&want, pe->message, pe->message_len);
        buf_printf(&want, ",\"locations\":[{\"line\":%u,\"column\":%u}]}]", pe->line, pe->column);
        buf_append(&got, e->errors, e->errors_len);
    } else {
        if (e->state != (verr->count ? GQL_DOC_INVALID : GQL_DOC_VALID)) FAIL("cache: another verdict (%d)", (int)e->state);
        if (verr->count) {
            gql_write_errors(&want, verr);
            buf_append(&got, e->errors, e->errors_len);
            if (want.len != got.len || memcmp(want.data, got.data, want.len)) FAIL("cache: other validation errors");
        }
        want.len = 0;
        got.len = 0;
        gql_print(&want, doc);
        gql_print(&got, e->doc);
    }
    if (want.len != got.len || memcmp(want.data, got.data, want.len)) FAIL("cache: another answer than a fresh parse");
    buf_free(&want);
    buf_free(&got);
    bool kept = e->cache != NULL;
    gql_cached_doc *f = gql_doccache_get(&cache, schema, 1, src, size, NULL, &hit);
    if (kept && (!hit || f != e)) FAIL("cache: a kept entry missed");
    gql_doccache_release(f);
    gql_doccache_release(e);
    if (cache.count > cache.max_entries || cache.bytes > cache.max_bytes) FAIL("cache: past its bounds");
}

static void check_located(const gql_err *e, const char *src, size_t size)
{
    uint32_t last_line, last_col;
    gql_location(src, size, (uint32_t)size, &last_line, &last_col);
    for (uint32_t i = 0; i < e->nlocs; i++) {
        gql_loc l = e->locs[i];
        if (l.line < 1 || l.column < 1 || l.line > last_line || (l.line == last_line && l.column > last_col))
            FAIL("error located at %u:%u, outside the document (ends %u:%u): %s", l.line, l.column, last_line, last_col, e->message);
    }
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && memcmp(s + n - k, tail, k) == 0;
}

static void same_errors(const gql_errs *x, const gql_errs *y, const char *what)
{
    if (x->count != y->count) FAIL("%s: %u errors, then %u", what, x->count, y->count);
    for (const gql_err *a = x->first, *b = y->first; a && b; a = a->next, b = b->next) {
        if (strcmp(a->message, b->message) || a->nlocs != b->nlocs) FAIL("%s: \"%s\" then \"%s\"", what, a->message, b->message);
        for (uint32_t i = 0; i < a->nlocs; i++)
            if (a->locs[i].line != b->locs[i].line || a->locs[i].column != b->locs[i].column)
                FAIL("%s: \"%s\" located differently", what, a->message);
        if ((a->code == NULL) != (b->code == NULL)) FAIL("%s: code differs", what);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!schema) setup();
    if (size > 1 << 14) return 0;
    const char *src = (const char *)data;
    gql_error pe;
    gql_node *doc = gql_parse(&A, src, size, NULL, &pe);
    if (!doc) {
        check_cache(src, size, NULL, &pe, NULL);
        arena_reset(&A);
        arena_reset(&B);
        return 0;
    }

    /* 1, 3 */
    gql_errs first = { .a = &A, .src = src, .src_len = size };
    gql_validate(schema, doc, &first);
    uint32_t n = 0;
    for (const gql_err *e = first.first; e; e = e->next, n++) {
        if (!e->message || !*e->message) FAIL("validation error without a message");
        if (!strcmp(e->message, "Too many validation errors, error limit reached. Validation aborted.")) {
            if (n != 100 || e->next || e->nlocs) FAIL("the error limit's error is not the 101st and last, unlocated");
            continue;
        }
        if (!e->nlocs) FAIL("validation error without a location: %s", e->message);
        check_located(e, src, size);
        if (!strncmp(e->message, "Fields \"", 8)) {
            if (!strstr(e->message, "\" conflict because ")
                || !ends_with(e->message, ". Use different aliases on the fields to fetch both if this was intentional."))
                FAIL("field conflict worded otherwise: %s", e->message);
            if (e->nlocs < 2) FAIL("field conflict with %u location(s): %s", e->nlocs, e->message);
        }
    }
    if (n != first.count) FAIL("error count %u, list %u", first.count, n);

    /* 2 */
    gql_errs again = { .a = &B, .src = src, .src_len = size };
    gql_validate(schema, doc, &again);
    same_errors(&first, &again, "validation twice");

    /* 5 */
    check_cache(src, size, doc, NULL, &first);

    /* 4 */
    gql_op_limits tight = { .max_depth = 3, .max_aliases = 2, .max_fields = 8, .introspection = false };
    gql_errs l1 = { .a = &A, .src = src, .src_len = size }, l2 = { .a = &B, .src = src, .src_len = size };
    uint32_t k = gql_check_limits(schema, doc, (kiln_str){ NULL, 0 }, &tight, &l1);
    if (k != l1.count) FAIL("gql_check_limits returned %u for %u errors", k, l1.count);
    for (const gql_err *e = l1.first; e; e = e->next) {
        if (!e->code || strcmp(e->code, GQL_CODE_LIMIT)) FAIL("limit error without its code: %s", e->message);
        if (e->nlocs != 1) FAIL("limit error with %u locations: %s", e->nlocs, e->message);
        check_located(e, src, size);
    }
    gql_check_limits(schema, doc, (kiln_str){ NULL, 0 }, &tight, &l2);
    same_errors(&l1, &l2, "limits twice");
    gql_op_limits none = { .introspection = true };
    gql_errs l3 = { .a = &B, .src = src, .src_len = size };
    if (gql_check_limits(schema, doc, (kiln_str){ NULL, 0 }, &none, &l3))
        FAIL("no limits, yet: %s", l3.first->message);
    arena_reset(&A);
    arena_reset(&B);
    return 0;
}
