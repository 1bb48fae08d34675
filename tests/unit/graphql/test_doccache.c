/*
 * test_doccache.c -- unit tests of src/graphql/doccache.c: a hit gives the
 * same entry and tree, a miss parses a copy of the text (no pointer into
 * the caller's buffer), syntax and validation verdicts are kept, eviction
 * of the least recently used by entries and by bytes, an entry too big to
 * keep is private, a pinned entry outlives its eviction, and a new schema
 * (or generation, or parser limits) flushes everything.
 */
#include "graphql/doccache.h"
#include "schema_t.h"

#include <stdlib.h>

static arena A;
static gql_schema *S;

static const char sdl[] = "type Query { a: String b: String n: N }\ntype N { a: String }\n";

static void setup(void)
{
    static bool done;
    if (done) return;
    done = true;
    arena_init(&A, 1 << 16);
    S = t_schema(&A, sdl);
}

/* get + validate + release, as the endpoint does; the state it ends in. */
static gql_doc_state use(gql_doccache *c, const char *src, bool *hit)
{
    arena scratch;
    arena_init(&scratch, 4096);
    gql_cached_doc *e = gql_doccache_get(c, S, 1, src, strlen(src), NULL, hit);
    gql_doccache_validate(e, S, &scratch);
    gql_doc_state st = e->state;
    gql_doccache_release(e);
    arena_destroy(&scratch);
    return st;
}

TEST(hit_and_miss)
{
    setup();
    gql_doccache c;
    gql_doccache_init(&c, 10, 1 << 20);
    char body[64];
    strcpy(body, "{ a n { a } }");
    bool hit;
    gql_cached_doc *e = gql_doccache_get(&c, S, 1, body, strlen(body), NULL, &hit);
    CHECK(!hit);
    CHECK_EQ_INT(e->state, GQL_DOC_PARSED);
    CHECK(e->text != body);
    /* The tree points into the entry's copy, not the caller's buffer. */
    const gql_node *op = e->doc->items.first;
    CHECK(op->selection_set->items.first->name.ptr >= e->text &&
          op->selection_set->items.first->name.ptr < e->text + e->len);
    gql_doccache_validate(e, S, &A);
    CHECK_EQ_INT(e->state, GQL_DOC_VALID);
    gql_doccache_release(e);
    memset(body, 'x', sizeof body - 1);              /* the request is gone */
    strcpy(body, "{ a n { a } }");
    gql_cached_doc *f = gql_doccache_get(&c, S, 1, body, strlen(body), NULL, &hit);
    CHECK(hit);
    CHECK(f == e);
    CHECK_EQ_INT(f->state, GQL_DOC_VALID);
    gql_doccache_release(f);
    /* A text differing by one byte is another document. */
    CHECK_EQ_INT(use(&c, "{ a  n { a } }", &hit), GQL_DOC_VALID);
    CHECK(!hit);
    CHECK_EQ_INT(c.hits, 1);
    CHECK_EQ_INT(c.misses, 2);
    CHECK_EQ_INT(c.count, 2);
    gql_doccache_free(&c);
}

TEST(verdicts_are_kept)
{
    setup();
    gql_doccache c;
    gql_doccache_init(&c, 10, 1 << 20);
    bool hit;
    CHECK_EQ_INT(use(&c, "{ a", &hit), GQL_DOC_SYNTAX);
    gql_cached_doc *e = gql_doccache_get(&c, S, 1, "{ a", 3, NULL, &hit);
    CHECK(hit);
    CHECK(e->doc == NULL);
    CHECK_EQ_MEM(e->errors, e->errors_len,
                 "[{\"message\":\"Syntax Error: Expected Name, found <EOF>.\",\"locations\":[{\"line\":1,\"column\":4}]}]");
    gql_doccache_release(e);
    CHECK_EQ_INT(use(&c, "{ nope }", &hit), GQL_DOC_INVALID);
    e = gql_doccache_get(&c, S, 1, "{ nope }", 8, NULL, &hit);
    CHECK(hit);
    CHECK_EQ_INT(e->state, GQL_DOC_INVALID);
    CHECK(e->errors_len > 0 && strstr(e->errors, "Cannot query field \\\"nope\\\" on type \\\"Query\\\".") != NULL);
    gql_doccache_release(e);
    gql_doccache_free(&c);
}

TEST(evicts_least_recently_used_by_entries)
{
    setup();
    gql_doccache c;
    gql_doccache_init(&c, 3, 1 << 20);
    bool hit;
    use(&c, "{ a }", &hit);
    use(&c, "{ b }", &hit);
    use(&c, "{ n { a } }", &hit);
    use(&c, "{ a }", &hit);                           /* { a } is the newest */
    CHECK(hit);
    use(&c, "{ a b }", &hit);                         /* evicts { b }        */
    CHECK_EQ_INT(c.count, 3);
    CHECK_EQ_INT(c.evictions, 1);
    use(&c, "{ a }", &hit);
    CHECK(hit);
    use(&c, "{ n { a } }", &hit);
    CHECK(hit);
    use(&c, "{ b }", &hit);
    CHECK(!hit);
    gql_doccache_free(&c);
}

TEST(bytes_bound)
{
    setup();
    gql_doccache c;
    gql_doccache_init(&c, 1000, 8192);
    bool hit;
    char q[64];
    for (int i = 0; i < 50; i++) {
        snprintf(q, sizeof q, "{ a%d: a }", i);
        use(&c, q, &hit);
        CHECK(!hit);
        CHECK(c.bytes <= c.max_bytes);
        CHECK(c.count >= 1);
    }
    CHECK(c.count < 50);
    CHECK(c.evictions > 0);
    /* The newest is there. */
    use(&c, "{ a49: a }", &hit);
    CHECK(hit);
    /* A document costing more than the whole bound is never kept. */
    size_t n = 20000;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, "{ a }", 5);
    big[n] = 0;
    uint32_t before = c.count;
    gql_cached_doc *e = gql_doccache_get(&c, S, 1, big, n, NULL, &hit);
    CHECK(!hit);
    CHECK(e->cache == NULL);
    CHECK_EQ_INT(c.count, before);
    gql_doccache_validate(e, S, &A);
    CHECK_EQ_INT(e->state, GQL_DOC_VALID);
    gql_doccache_release(e);                         /* freed (ASan: no leak) */
    free(big);
    gql_doccache_free(&c);
}

TEST(pinned_entry_outlives_eviction_and_flush)
{
    setup();
    gql_doccache c;
    gql_doccache_init(&c, 1, 1 << 20);
    bool hit;
    gql_cached_doc *e = gql_doccache_get(&c, S, 1, "{ a }", 5, NULL, &hit);
    use(&c, "{ b }", &hit);                           /* evicts { a }, pinned */
    CHECK(e->cache == NULL);
    CHECK_EQ_INT(c.count, 1);
    CHECK(gql_kstr_is(e->doc->items.first->selection_set->items.first->name, "a"));
    gql_doccache_validate(e, S, &A);
    CHECK_EQ_INT(e->state, GQL_DOC_VALID);
    gql_doccache_release(e);
    gql_cached_doc *f = gql_doccache_get(&c, S, 1, "{ b }", 5, NULL, &hit);
    CHECK(hit);
    gql_doccache_flush(&c);
    CHECK_EQ_INT(c.count, 0);
    CHECK_EQ_INT(c.bytes, 0);
    CHECK(gql_kstr_is(f->doc->items.first->selection_set->items.first->name, "b"));
    gql_doccache_release(f);
    gql_doccache_free(&c);
}

TEST(schema_change_flushes)
{
    setup();
    static arena B;
    arena_init(&B, 1 << 16);
    gql_schema *s2 = t_schema(&B, "type Query { a: Int nope: String }\n");
    gql_doccache c;
    gql_doccache_init(&c, 10, 1 << 20);
    bool hit;
    CHECK_EQ_INT(use(&c, "{ nope }", &hit), GQL_DOC_INVALID);
    /* The same text against the new schema: validated again, now valid. */
    arena scratch;
    arena_init(&scratch, 4096);
    gql_cached_doc *e = gql_doccache_get(&c, s2, 2, "{ nope }", 8, NULL, &hit);
    CHECK(!hit);
    gql_doccache_validate(e, s2, &scratch);
    CHECK_EQ_INT(e->state, GQL_DOC_VALID);
    gql_doccache_release(e);
    /* Same address, another generation (a reload): flushed too. */
    e = gql_doccache_get(&c, s2, 3, "{ nope }", 8, NULL, &hit);
    CHECK(!hit);
    gql_doccache_release(e);
    e = gql_doccache_get(&c, s2, 3, "{ nope }", 8, NULL, &hit);
    CHECK(hit);
    gql_doccache_release(e);
    /* Other parser limits: flushed (a token limit may now refuse it). */
    gql_limits lim = { .max_tokens = 2 };
    e = gql_doccache_get(&c, s2, 3, "{ nope }", 8, &lim, &hit);
    CHECK(!hit);
    CHECK_EQ_INT(e->state, GQL_DOC_SYNTAX);
    gql_doccache_release(e);
    arena_destroy(&scratch);
    gql_doccache_free(&c);
    arena_destroy(&B);
}

TEST(disabled_cache_keeps_nothing)
{
    setup();
    gql_doccache c;
    gql_doccache_init(&c, 0, 1 << 20);
    bool hit;
    CHECK_EQ_INT(use(&c, "{ a }", &hit), GQL_DOC_VALID);
    CHECK_EQ_INT(use(&c, "{ a }", &hit), GQL_DOC_VALID);
    CHECK(!hit);
    CHECK_EQ_INT(c.count, 0);
    gql_doccache_free(&c);
}

int main(void) { return t_run(); }
