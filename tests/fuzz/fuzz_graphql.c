/*
 * fuzz_graphql.c -- libFuzzer driver for the GraphQL parser and printer
 * (src/graphql). Properties checked (abort() on any failure):
 *
 *  1. gql_parse either returns a DOCUMENT or fails with a message that
 *     starts "Syntax Error: " and ends with "." or "?", whose offset is
 *     inside the input (or at its end), and whose (line, column) agree with
 *     a reference computation written here (lines split at \r\n, \n, \r;
 *     columns in UTF-16 units).
 *  2. Every node of an accepted tree has start <= end <= len, lies inside
 *     its parent's range, and has the fields its kind needs (a FIELD has a
 *     name, a LIST_TYPE an inner type ...). Names of fields, types and
 *     variables are slices of the input.
 *  3. Round trip: gql_print(tree) parses again, and printing that second
 *     tree gives the same bytes.
 *  4. Limits hold: with max_depth 8 and max_tokens 64, a document that
 *     parses needs no more, and one rejected by the limit is rejected with
 *     the limit's message.
 *  5. Schema: gql_schema_build on a parsed document either fails with at
 *     least one error (each with a message) or builds a schema whose
 *     printSchema text builds again into a schema that prints the same,
 *     with a query root and every type of the type map named once.
 *  6. Execution: any parsed document (valid or not: the executor must be
 *     defensive) executed on the execution test's schema and data, with
 *     and without variables, answers one JSON object with "data" or
 *     "errors" that json_parse accepts.
 *  7. Validation of any parsed document on that schema: every error has a
 *     message and locations inside the document.
 *  8. The batching loader (kiln_gql_load): Query.person and Person.best
 *     load people by id through one batch function, so any document
 *     exercises deferred fields; the batch function never gets a key twice
 *     in one execution, nor zero keys.
 */
#include "graphql/exec.h"
#include "json/json.h"

#include <stdio.h>
#include <stdlib.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_graphql: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static arena A;

static bool inside(const char *p, const uint8_t *data, size_t size)
{
    return p >= (const char *)data && p <= (const char *)data + size;
}

static void check_node(const gql_node *n, uint32_t lo, uint32_t hi, const uint8_t *data, size_t size, int depth);

static void check_list(gql_list l, const gql_node *parent, const uint8_t *data, size_t size, int depth)
{
    uint32_t count = 0;
    for (const gql_node *c = l.first; c; c = c->next, count++)
        check_node(c, parent->start, parent->end, data, size, depth + 1);
    if (count != l.len) FAIL("list len %u but %u nodes", l.len, count);
}

static void check_node(const gql_node *n, uint32_t lo, uint32_t hi, const uint8_t *data, size_t size, int depth)
{
    if (depth > 1000) FAIL("tree deeper than the input allows");
    if (n->kind >= GQL_KIND_COUNT) FAIL("bad kind %d", (int)n->kind);
    if (n->start > n->end || n->end > size) FAIL("node %d range %u..%u, len %zu", (int)n->kind, n->start, n->end, size);
    if (n->start < lo || n->end > hi) FAIL("node %d %u..%u outside its parent %u..%u", (int)n->kind, n->start, n->end, lo, hi);
    switch (n->kind) {
    case GQL_FIELD: case GQL_NAMED_TYPE: case GQL_VARIABLE: case GQL_ARGUMENT: case GQL_DIRECTIVE:
    case GQL_FRAGMENT_SPREAD: case GQL_FRAGMENT_DEF: case GQL_OBJECT_FIELD: case GQL_ENUM:
        if (!n->name.len || !inside(n->name.ptr, data, size)) FAIL("node %d without a name from the input", (int)n->kind);
        break;
    case GQL_LIST_TYPE: case GQL_NON_NULL_TYPE:
        if (!n->type) FAIL("wrapping type without an inner type");
        break;
    case GQL_OPERATION: case GQL_INLINE_FRAGMENT:
        if (!n->selection_set || !n->selection_set->items.len) FAIL("operation without selections");
        break;
    default: break;
    }
    if (n->kind == GQL_NON_NULL_TYPE && n->type->kind == GQL_NON_NULL_TYPE) FAIL("non-null of non-null");
    const gql_node *kids[] = { n->type, n->value, n->default_value, n->description, n->selection_set };
    for (size_t i = 0; i < ARRAY_LEN(kids); i++)
        if (kids[i]) check_node(kids[i], n->start, n->end, data, size, depth + 1);
    check_list(n->vars, n, data, size, depth);
    check_list(n->args, n, data, size, depth);
    check_list(n->directives, n, data, size, depth);
    check_list(n->interfaces, n, data, size, depth);
    check_list(n->items, n, data, size, depth);
}

/* Property 1's reference: line and UTF-16 column of an offset. */
static void ref_location(const uint8_t *s, size_t len, uint32_t off, uint32_t *line, uint32_t *col)
{
    uint32_t ln = 1;
    size_t ls = 0;
    for (size_t i = 0; i < len && i < off; i++) {
        if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') { ln++; ls = i + 2; i++; }
        else if (s[i] == '\n' || s[i] == '\r') { ln++; ls = i + 1; }
    }
    *line = ln;
    if (ls > off) { *col = 0; return; }
    uint32_t c = 1;
    for (size_t i = ls; i < off && i < len;) {
        /* A lead byte of a 4-byte sequence that is complete: 2 units. */
        unsigned b = s[i];
        size_t w = 1;
        if (b >= 0xC2 && b < 0xE0) w = 2;
        else if (b >= 0xE0 && b < 0xF0) w = 3;
        else if (b >= 0xF0 && b < 0xF5) w = 4;
        bool ok = w == 1 || (i + w <= len);
        for (size_t k = 1; ok && k < w; k++) ok = (s[i + k] & 0xC0) == 0x80;
        if (ok && w == 3) ok = !(b == 0xE0 && s[i + 1] < 0xA0) && !(b == 0xED && s[i + 1] > 0x9F);
        if (ok && w == 4) ok = !(b == 0xF0 && s[i + 1] < 0x90) && !(b == 0xF4 && s[i + 1] > 0x8F);
        if (!ok) w = 1;
        c += (w == 4) ? 2 : 1;
        i += w;
    }
    *col = c + (uint32_t)(off > len ? off - len : 0);
}

/* Property 6: the schema and root value of tests/integration/graphql/exec_cases.mjs. */
static const char fz_sdl[] = "\nscalar JSON\nenum Color { RED GREEN BLUE }\ninterface Node { id: ID! }\ninterface Named { name: String }\ntype Person implements Node & Named {\n  id: ID! name: String age: Int score: Float color: Color tags: [String!]\n  friends: [Person!]! best: Person pet: Pet fail: String failNN: String! nullNN: String! meta: JSON\n}\ntype Dog implements Node & Named { id: ID! name: String barks: Boolean }\ntype Cat implements Node & Named { id: ID! name: String lives: Int }\nunion Pet = Dog | Cat\ninput Filter { color: Color = RED, min: Int = 0, names: [String!] }\ntype Query {\n  hello: String!\n  people: [Person!]!\n  person(id: ID!): Person\n  nodes: [Node]\n  pets: [Pet!]\n  echo(a: Int, b: [Color!], f: Filter, j: JSON, s: String = \"dflt\"): String\n  boom: String\n  boomNN: String!\n  coded: String\n  numbers: [Float] ints: [Int] strs: [String] bools: [Boolean] ids: [ID] colors: [Color]\n  nested: [[Int!]]\n  badList: [Int]\n  weird: Pet\n  lost: Node\n  wrongType: Pet\n  notObject: Pet\n  deep: Person!\n  nullPeople: [Person!]\n  mixed: [Person]\n  missing: String\n  scalarObj: String\n}\ntype Mutation { setName(id: ID!, name: String!): Person fail: String! count: Int }\n";
static const char fz_root[] = "{\"hello\":\"Hello, World!\",\"people\":[{\"__typename\":\"Person\",\"id\":\"1\",\"name\":\"Ann\",\"age\":30,\"score\":1.5,\"color\":\"RED\",\"tags\":[\"a\",\"b\"],\"pet\":{\"__typename\":\"Dog\",\"id\":\"d1\",\"name\":\"Rex\",\"barks\":true},\"nullNN\":\"ok\",\"meta\":{\"a\":[1,{\"b\":null}],\"s\":\"x\"},\"friends\":[{\"__typename\":\"Person\",\"id\":\"2\",\"name\":\"Bob\",\"age\":null,\"score\":2,\"color\":\"BLUE\",\"tags\":[],\"pet\":{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9},\"nullNN\":null,\"meta\":7,\"friends\":[]},{\"__typename\":\"Person\",\"id\":\"3\",\"name\":null,\"age\":41,\"score\":1e+21,\"color\":\"GREEN\",\"tags\":null,\"pet\":null,\"nullNN\":\"x\",\"meta\":null,\"friends\":[]}],\"best\":{\"id\":\"2\",\"name\":\"Bob\",\"age\":null,\"score\":2,\"color\":\"BLUE\",\"tags\":[],\"pet\":{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9},\"nullNN\":null,\"meta\":7,\"__typename\":\"Person\",\"friends\":[]}},{\"__typename\":\"Person\",\"id\":\"2\",\"name\":\"Bob\",\"age\":null,\"score\":2,\"color\":\"BLUE\",\"tags\":[],\"pet\":{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9},\"nullNN\":null,\"meta\":7,\"friends\":[{\"__typename\":\"Person\",\"id\":\"1\",\"name\":\"Ann\",\"age\":30,\"score\":1.5,\"color\":\"RED\",\"tags\":[\"a\",\"b\"],\"pet\":{\"__typename\":\"Dog\",\"id\":\"d1\",\"name\":\"Rex\",\"barks\":true},\"nullNN\":\"ok\",\"meta\":{\"a\":[1,{\"b\":null}],\"s\":\"x\"},\"friends\":[]},{\"__typename\":\"Person\",\"id\":\"3\",\"name\":null,\"age\":41,\"score\":1e+21,\"color\":\"GREEN\",\"tags\":null,\"pet\":null,\"nullNN\":\"x\",\"meta\":null,\"friends\":[]}],\"best\":null},{\"__typename\":\"Person\",\"id\":\"3\",\"name\":null,\"age\":41,\"score\":1e+21,\"color\":\"GREEN\",\"tags\":null,\"pet\":null,\"nullNN\":\"x\",\"meta\":null,\"friends\":[{\"__typename\":\"Person\",\"id\":\"1\",\"name\":\"Ann\",\"age\":30,\"score\":1.5,\"color\":\"RED\",\"tags\":[\"a\",\"b\"],\"pet\":{\"__typename\":\"Dog\",\"id\":\"d1\",\"name\":\"Rex\",\"barks\":true},\"nullNN\":\"ok\",\"meta\":{\"a\":[1,{\"b\":null}],\"s\":\"x\"},\"friends\":[]},{\"__typename\":\"Person\",\"id\":\"2\",\"name\":\"Bob\",\"age\":null,\"score\":2,\"color\":\"BLUE\",\"tags\":[],\"pet\":{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9},\"nullNN\":null,\"meta\":7,\"friends\":[]}],\"best\":null}],\"nodes\":[{\"__typename\":\"Person\",\"id\":\"1\",\"name\":\"Ann\",\"age\":30,\"score\":1.5,\"color\":\"RED\",\"tags\":[\"a\",\"b\"],\"pet\":{\"__typename\":\"Dog\",\"id\":\"d1\",\"name\":\"Rex\",\"barks\":true},\"nullNN\":\"ok\",\"meta\":{\"a\":[1,{\"b\":null}],\"s\":\"x\"},\"friends\":[{\"__typename\":\"Person\",\"id\":\"2\",\"name\":\"Bob\",\"age\":null,\"score\":2,\"color\":\"BLUE\",\"tags\":[],\"pet\":{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9},\"nullNN\":null,\"meta\":7,\"friends\":[]},{\"__typename\":\"Person\",\"id\":\"3\",\"name\":null,\"age\":41,\"score\":1e+21,\"color\":\"GREEN\",\"tags\":null,\"pet\":null,\"nullNN\":\"x\",\"meta\":null,\"friends\":[]}],\"best\":{\"id\":\"2\",\"name\":\"Bob\",\"age\":null,\"score\":2,\"color\":\"BLUE\",\"tags\":[],\"pet\":{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9},\"nullNN\":null,\"meta\":7,\"__typename\":\"Person\",\"friends\":[]}},{\"__typename\":\"Dog\",\"id\":\"d1\",\"name\":\"Rex\",\"barks\":true},{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9},null],\"pets\":[{\"__typename\":\"Dog\",\"id\":\"d1\",\"name\":\"Rex\",\"barks\":true},{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9}],\"numbers\":[1,1.5,1e+21,1e-7,0,\"2.5\",true,123456789.125],\"ints\":[1,2,\"3\",true,-5,0],\"strs\":[\"s\",1,1.5,true,null,\"é😀\\n\\\"\\\\\"],\"bools\":[true,false,0,1],\"ids\":[\"a\",7,-3],\"colors\":[\"RED\",null,\"BLUE\"],\"nested\":[[1,2],[3],null],\"badList\":5,\"weird\":{\"__typename\":\"Nope\"},\"lost\":{\"id\":\"x\"},\"wrongType\":{\"__typename\":\"Person\",\"id\":\"9\"},\"notObject\":{\"__typename\":\"Named\"},\"deep\":{\"__typename\":\"Person\",\"id\":\"1\",\"name\":\"Ann\",\"age\":30,\"score\":1.5,\"color\":\"RED\",\"tags\":[\"a\",\"b\"],\"pet\":{\"__typename\":\"Dog\",\"id\":\"d1\",\"name\":\"Rex\",\"barks\":true},\"nullNN\":\"ok\",\"meta\":{\"a\":[1,{\"b\":null}],\"s\":\"x\"},\"friends\":[{\"__typename\":\"Person\",\"id\":\"2\",\"name\":\"Bob\",\"age\":null,\"score\":2,\"color\":\"BLUE\",\"tags\":[],\"pet\":{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9},\"nullNN\":null,\"meta\":7,\"friends\":[]},{\"__typename\":\"Person\",\"id\":\"3\",\"name\":null,\"age\":41,\"score\":1e+21,\"color\":\"GREEN\",\"tags\":null,\"pet\":null,\"nullNN\":\"x\",\"meta\":null,\"friends\":[]}],\"best\":{\"id\":\"2\",\"name\":\"Bob\",\"age\":null,\"score\":2,\"color\":\"BLUE\",\"tags\":[],\"pet\":{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9},\"nullNN\":null,\"meta\":7,\"__typename\":\"Person\",\"friends\":[]}},\"nullPeople\":[{\"__typename\":\"Person\",\"id\":\"1\",\"name\":\"Ann\",\"age\":30,\"score\":1.5,\"color\":\"RED\",\"tags\":[\"a\",\"b\"],\"pet\":{\"__typename\":\"Dog\",\"id\":\"d1\",\"name\":\"Rex\",\"barks\":true},\"nullNN\":\"ok\",\"meta\":{\"a\":[1,{\"b\":null}],\"s\":\"x\"},\"friends\":[{\"__typename\":\"Person\",\"id\":\"2\",\"name\":\"Bob\",\"age\":null,\"score\":2,\"color\":\"BLUE\",\"tags\":[],\"pet\":{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9},\"nullNN\":null,\"meta\":7,\"friends\":[]},{\"__typename\":\"Person\",\"id\":\"3\",\"name\":null,\"age\":41,\"score\":1e+21,\"color\":\"GREEN\",\"tags\":null,\"pet\":null,\"nullNN\":\"x\",\"meta\":null,\"friends\":[]}],\"best\":{\"id\":\"2\",\"name\":\"Bob\",\"age\":null,\"score\":2,\"color\":\"BLUE\",\"tags\":[],\"pet\":{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9},\"nullNN\":null,\"meta\":7,\"__typename\":\"Person\",\"friends\":[]}},null,{\"__typename\":\"Person\",\"id\":\"2\",\"name\":\"Bob\",\"age\":null,\"score\":2,\"color\":\"BLUE\",\"tags\":[],\"pet\":{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9},\"nullNN\":null,\"meta\":7,\"friends\":[{\"__typename\":\"Person\",\"id\":\"1\",\"name\":\"Ann\",\"age\":30,\"score\":1.5,\"color\":\"RED\",\"tags\":[\"a\",\"b\"],\"pet\":{\"__typename\":\"Dog\",\"id\":\"d1\",\"name\":\"Rex\",\"barks\":true},\"nullNN\":\"ok\",\"meta\":{\"a\":[1,{\"b\":null}],\"s\":\"x\"},\"friends\":[]},{\"__typename\":\"Person\",\"id\":\"3\",\"name\":null,\"age\":41,\"score\":1e+21,\"color\":\"GREEN\",\"tags\":null,\"pet\":null,\"nullNN\":\"x\",\"meta\":null,\"friends\":[]}],\"best\":null}],\"mixed\":[{\"__typename\":\"Person\",\"id\":\"1\",\"name\":\"Ann\",\"age\":30,\"score\":1.5,\"color\":\"RED\",\"tags\":[\"a\",\"b\"],\"pet\":{\"__typename\":\"Dog\",\"id\":\"d1\",\"name\":\"Rex\",\"barks\":true},\"nullNN\":\"ok\",\"meta\":{\"a\":[1,{\"b\":null}],\"s\":\"x\"},\"friends\":[{\"__typename\":\"Person\",\"id\":\"2\",\"name\":\"Bob\",\"age\":null,\"score\":2,\"color\":\"BLUE\",\"tags\":[],\"pet\":{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9},\"nullNN\":null,\"meta\":7,\"friends\":[]},{\"__typename\":\"Person\",\"id\":\"3\",\"name\":null,\"age\":41,\"score\":1e+21,\"color\":\"GREEN\",\"tags\":null,\"pet\":null,\"nullNN\":\"x\",\"meta\":null,\"friends\":[]}],\"best\":{\"id\":\"2\",\"name\":\"Bob\",\"age\":null,\"score\":2,\"color\":\"BLUE\",\"tags\":[],\"pet\":{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9},\"nullNN\":null,\"meta\":7,\"__typename\":\"Person\",\"friends\":[]}},null,{\"__typename\":\"Person\",\"id\":\"3\",\"name\":null,\"age\":41,\"score\":1e+21,\"color\":\"GREEN\",\"tags\":null,\"pet\":null,\"nullNN\":\"x\",\"meta\":null,\"friends\":[{\"__typename\":\"Person\",\"id\":\"1\",\"name\":\"Ann\",\"age\":30,\"score\":1.5,\"color\":\"RED\",\"tags\":[\"a\",\"b\"],\"pet\":{\"__typename\":\"Dog\",\"id\":\"d1\",\"name\":\"Rex\",\"barks\":true},\"nullNN\":\"ok\",\"meta\":{\"a\":[1,{\"b\":null}],\"s\":\"x\"},\"friends\":[]},{\"__typename\":\"Person\",\"id\":\"2\",\"name\":\"Bob\",\"age\":null,\"score\":2,\"color\":\"BLUE\",\"tags\":[],\"pet\":{\"__typename\":\"Cat\",\"id\":\"c1\",\"name\":\"Tom\",\"lives\":9},\"nullNN\":null,\"meta\":7,\"friends\":[]}],\"best\":null}],\"scalarObj\":{\"a\":1}}";

static gql_schema *fz_schema;
static const kiln_value *fz_data, *fz_vars;
static arena FZ;

/* Property 8: people by id (person "3" fails its key); every key once. */
static const char *fz_keys[4096];
static size_t fz_nkeys;

static void fz_people(kiln_gql_batch *b)
{
    if (!kiln_gql_batch_count(b)) FAIL("a batch without keys");
    for (size_t i = 0; i < kiln_gql_batch_count(b); i++) {
        const kiln_value *k = kiln_gql_batch_key(b, i);
        const char *ks = k->type == KILN_JSON_STRING ? k->str : "(not a string)";
        for (size_t j = 0; j < fz_nkeys; j++)
            if (strcmp(fz_keys[j], ks) == 0 && k->type == KILN_JSON_STRING) FAIL("key %s batched twice", ks);
        if (fz_nkeys < 4096 && k->type == KILN_JSON_STRING) fz_keys[fz_nkeys++] = ks;
        if (k->type == KILN_JSON_STRING && strcmp(ks, "3") == 0) { kiln_gql_batch_error(b, i, NULL, "no person 3"); continue; }
        for (const kiln_value *p = kiln_json_get(fz_data, "people")->child; p; p = p->next) {
            const kiln_value *id = kiln_json_get(p, "id");
            if (k->type == KILN_JSON_STRING && id && strcmp(id->str, ks) == 0) kiln_gql_batch_set(b, i, p);
        }
    }
}

static void fz_Query_person(kiln_gql *g) { kiln_gql_load(g, fz_people, kiln_gql_arg(g, "id")); }
static void fz_Person_best(kiln_gql *g)
{
    const kiln_value *best = kiln_json_get(kiln_gql_parent(g), "best");
    if (!best || best->type != KILN_JSON_OBJECT) { kiln_gql_return(g, NULL); return; }
    kiln_gql_load(g, fz_people, kiln_json_get(best, "id"));
}
static const gql_resolver_def fz_resolvers[] = { { "Query_person", fz_Query_person }, { "Person_best", fz_Person_best } };

static void check_execution(const char *src, size_t size, const gql_node *doc)
{
    if (!fz_schema) {
        arena_init(&FZ, 1 << 16);
        gql_error e;
        gql_node *sd = gql_parse(&FZ, fz_sdl, sizeof fz_sdl - 1, NULL, &e);
        gql_errs errs = { 0 };
        fz_schema = sd ? gql_schema_build(&FZ, fz_sdl, sizeof fz_sdl - 1, sd, &errs) : NULL;
        if (!fz_schema) FAIL("the execution schema does not build");
        if (gql_exec_bind(fz_schema, fz_resolvers, 2, NULL)) FAIL("a loader resolver matches no field");
        fz_data = json_parse(&FZ, fz_root, sizeof fz_root - 1, NULL);
        static const char vars[] = "{\"id\":\"1\",\"s\":true,\"a\":1,\"b\":[\"RED\"],\"f\":{\"min\":2},\"v\":null}";
        fz_vars = json_parse(&FZ, vars, sizeof vars - 1, NULL);
        if (!fz_data || !fz_vars) FAIL("the execution data does not parse");
    }
    gql_errs verrs = { .a = &A, .src = src, .src_len = size };
    gql_validate(fz_schema, doc, &verrs);
    for (const gql_err *e = verrs.first; e; e = e->next) {
        if (!e->message || !*e->message) FAIL("validation error without a message");
        uint32_t last_line, last_col;
        gql_location(src, size, (uint32_t)size, &last_line, &last_col);
        for (uint32_t i = 0; i < e->nlocs; i++)
            if (e->locs[i].line < 1 || e->locs[i].column < 1 || e->locs[i].line > last_line)
                FAIL("validation error located outside the document: %s", e->message);
    }
    for (int pass = 0; pass < 2; pass++) {
        gql_request rq = { .doc = doc, .src = src, .src_len = size, .variables = pass ? fz_vars : NULL, .root = fz_data };
        fz_nkeys = 0;
        buf out;
        buf_init(&out, 256);
        gql_execute(&A, fz_schema, &rq, &out);
        const char *err = NULL;
        const kiln_value *v = json_parse(&A, out.data, out.len, &err);
        if (!v || v->type != KILN_JSON_OBJECT) FAIL("response is not a JSON object: %s\n%.*s", err, (int)out.len, out.data);
        if (!kiln_json_get(v, "data") && !kiln_json_get(v, "errors")) FAIL("response without data or errors");
        buf_free(&out);
    }
}

/* Property 5. */
static void check_schema(const char *src, size_t size, const gql_node *doc)
{
    gql_errs errs = { 0 };
    gql_schema *s = gql_schema_build(&A, src, size, doc, &errs);
    if (!s) {
        if (!errs.count || !errs.first) FAIL("schema rejected without an error");
        for (const gql_err *e = errs.first; e; e = e->next)
            if (!e->message || !*e->message) FAIL("schema error without a message");
        return;
    }
    if (!s->query || errs.count) FAIL("schema built without a query root, or with errors");
    for (uint32_t i = 0; i < s->ntypes; i++)
        for (uint32_t j = 0; j < i; j++)
            if (gql_kstr_eq(s->types[i]->name, s->types[j]->name)) FAIL("type map names a type twice");
    buf p1, p2;
    buf_init(&p1, 256);
    buf_init(&p2, 256);
    gql_schema_print(&p1, s);
    gql_error e;
    gql_node *d2 = gql_parse(&A, p1.data ? p1.data : "", p1.len, NULL, &e);
    if (!d2) FAIL("printed schema does not parse: %s\n%.*s", e.message, (int)p1.len, p1.data);
    gql_errs errs2 = { 0 };
    gql_schema *s2 = gql_schema_build(&A, p1.data, p1.len, d2, &errs2);
    if (!s2) FAIL("printed schema does not build: %s\n%.*s", errs2.first->message, (int)p1.len, p1.data);
    gql_schema_print(&p2, s2);
    if (p1.len != p2.len || memcmp(p1.data, p2.data, p1.len))
        FAIL("printSchema not stable:\n%.*s\n---\n%.*s", (int)p1.len, p1.data, (int)p2.len, p2.data);
    buf_free(&p1);
    buf_free(&p2);
}

static bool starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) { arena_init(&A, 1 << 16); init = true; }
    if (size > 1 << 16) return 0;
    const char *src = (const char *)data;

    gql_error e;
    gql_node *doc = gql_parse(&A, src, size, NULL, &e);
    if (!doc) {
        if (!e.message || !starts(e.message, "Syntax Error: ")) FAIL("error without a message");
        char last = e.message[e.message_len - 1];
        if (last != '.' && last != '?') FAIL("message does not end a sentence: %s", e.message);
        if (e.offset > size) FAIL("error offset %u past the end %zu", e.offset, size);
        uint32_t line, col;
        ref_location(data, size, e.offset, &line, &col);
        if (line != e.line || col != e.column)
            FAIL("location %u:%u, reference %u:%u (offset %u)", e.line, e.column, line, col, e.offset);
        if (e.column < 1) FAIL("column 0 at offset %u", e.offset);
    } else {
        if (doc->kind != GQL_DOCUMENT || !doc->items.len) FAIL("empty document accepted");
        check_node(doc, 0, (uint32_t)size, data, size, 0);

        buf p1, p2;
        buf_init(&p1, 256);
        buf_init(&p2, 256);
        gql_print(&p1, doc);
        gql_limits big = { .max_bytes = 1u << 26, .max_tokens = 1u << 24, .max_depth = 4096 };
        gql_node *again = gql_parse(&A, p1.data, p1.len, &big, &e);
        if (!again) FAIL("printed document does not parse: %s\n---\n%.*s", e.message, (int)p1.len, p1.data);
        gql_print(&p2, again);
        if (p1.len != p2.len || memcmp(p1.data, p2.data, p1.len))
            FAIL("print is not stable:\n%.*s\n---\n%.*s", (int)p1.len, p1.data, (int)p2.len, p2.data);
        buf_free(&p1);
        buf_free(&p2);
        check_schema(src, size, doc);
        check_execution(src, size, doc);
    }

    /* Property 4. */
    gql_limits small = { .max_depth = 8, .max_tokens = 64 };
    gql_node *lim = gql_parse(&A, src, size, &small, &e);
    if (lim && !doc) FAIL("limits made an invalid document valid");
    if (!lim && doc && !strstr(e.message, "Parsing aborted."))
        FAIL("valid document rejected under limits without the limit's message: %s", e.message);
    arena_reset(&A);
    return 0;
}
