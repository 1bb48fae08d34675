/*
 * test_stringify.c -- unit tests of gql_stringify (src/graphql/values.c),
 * JSON.stringify of a result: the executor's result objects
 * (gql_v_result_object) have response names as keys and are written
 * without escaping them; every other object's keys are escaped. Both kinds
 * must give the bytes JSON.stringify gives. Then many random trees (strings
 * that need escaping, unicode, invalid UTF-8, control characters, -0, large
 * integers, 1e21, random doubles, NaN, undefined members and items), built
 * once with result objects and once with plain ones, against a plain
 * reference writer (every key and string through json_escape, every number
 * through gql_js_number). And inspect()'s depth, as graphql-js cuts it.
 */
#include "graphql/values.h"
#include "json/json.h"
#include "t.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static arena A;

static const char *stringify(const kiln_value *v)
{
    static char s[4096];
    buf b;
    buf_init(&b, 0);
    gql_stringify(&b, v);
    snprintf(s, sizeof s, "%.*s", (int)b.len, b.data);
    buf_free(&b);
    return s;
}

static kiln_value *str(const char *s) { return gql_v_str(&A, (kiln_str){ s, strlen(s) }); }

static kiln_value *member(kiln_value *obj, kiln_value *last, const char *key, kiln_value *v)
{
    return gql_v_append(&A, obj, last, (kiln_str){ key, strlen(key) }, v);
}

/* Names of every length from 1 to 40 (the writer copies 1-3, 4-7, 8-16
 * bytes and longer ones differently): a result object writes exactly what
 * an ordinary object with the same members writes. */
TEST(result_object_names_of_every_length)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";
    char names[41][41];
    kiln_value *res = gql_v_result_object(&A), *plain = gql_v_object(&A);
    kiln_value *lr = NULL, *lp = NULL;
    for (size_t n = 1; n <= 40; n++) {
        for (size_t i = 0; i < n; i++) names[n][i] = chars[(n * 7 + i * 13) % (sizeof chars - 1)];
        names[n][0] = n % 2 ? '_' : 'q';                 /* a Name starts with a letter or _ */
        names[n][n] = '\0';
        lr = member(res, lr, names[n], str(names[n]));
        lp = member(plain, lp, names[n], str(names[n]));
    }
    char want[4096];
    snprintf(want, sizeof want, "%s", stringify(plain));
    CHECK_EQ_STR(stringify(res), want);
    CHECK(strstr(want, names[40]) && strlen(want) > 2 * (40 * 41 / 2));   /* the names are really there */
    CHECK_EQ_INT(res->len, 40);
}

/* Keys of other objects (a custom scalar's JSON value, coerced input) may
 * hold anything: they are escaped, also inside a result object. */
TEST(other_objects_escape_their_keys)
{
    kiln_value *json = gql_v_object(&A), *last = NULL;
    last = member(json, last, "a\"b", str("1"));
    last = member(json, last, "line\nbreak", str("2"));
    last = member(json, last, "\xe2\x80\xa8", str("3"));
    last = member(json, last, "", str("4"));
    CHECK_EQ_STR(stringify(json), "{\"a\\\"b\":\"1\",\"line\\nbreak\":\"2\",\"\xe2\x80\xa8\":\"3\",\"\":\"4\"}");
    kiln_value *res = gql_v_result_object(&A);
    kiln_value *l = member(res, NULL, "id", str("7"));
    member(res, l, "extra", json);
    CHECK_EQ_STR(stringify(res), "{\"id\":\"7\",\"extra\":{\"a\\\"b\":\"1\",\"line\\nbreak\":\"2\",\"\xe2\x80\xa8\":\"3\",\"\":\"4\"}}");
}

/* A result object is an ordinary object to everything else: not a host
 * object, an object with its members. */
TEST(result_object_is_an_object)
{
    kiln_value *res = gql_v_result_object(&A);
    CHECK(res->type == KILN_JSON_OBJECT);
    CHECK(gql_v_host_of(res) == NULL);
    CHECK(gql_v_host_of(gql_v_host(&A, GQL_HOST_SCHEMA, &A)) != NULL);
    CHECK_EQ_STR(stringify(res), "{}");
}

/* The reference: JSON.stringify, the plain way. */
static void ref(buf *out, const kiln_value *v)
{
    switch (v->type) {
    case KILN_JSON_NULL: buf_puts(out, "null"); return;
    case KILN_JSON_TRUE: buf_puts(out, "true"); return;
    case KILN_JSON_FALSE: buf_puts(out, "false"); return;
    case KILN_JSON_NUMBER:
        if (isfinite(v->num)) gql_js_number(out, v->num);
        else buf_puts(out, "null");
        return;
    case KILN_JSON_STRING: json_escape_stringify(out, v->str, v->len); return;
    case KILN_JSON_ARRAY:
    case KILN_JSON_OBJECT: {
        bool obj = v->type == KILN_JSON_OBJECT;
        buf_putc(out, obj ? '{' : '[');
        bool first = true;
        for (const kiln_value *c = v->child; c; c = c->next) {
            if (obj && gql_v_is_undefined(c)) continue;
            if (!first) buf_putc(out, ',');
            first = false;
            if (obj) { json_escape_stringify(out, c->key, c->key_len); buf_putc(out, ':'); }
            if (gql_v_is_undefined(c)) buf_puts(out, "null");
            else ref(out, c);
        }
        buf_putc(out, obj ? '}' : ']');
        return;
    }
    }
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A GraphQL Name ([_A-Za-z][_0-9A-Za-z]*), what response keys are. */
static kiln_str rand_name(arena *a)
{
    static const char first[] = "_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static const char rest[] = "_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t n = 1 + rnd() % 24;
    char *s = arena_alloc(a, n);
    s[0] = first[rnd() % (sizeof first - 1)];
    for (size_t i = 1; i < n; i++) s[i] = rest[rnd() % (sizeof rest - 1)];
    return (kiln_str){ s, n };
}

/* Strings: plain ASCII, or bytes that need escaping: quotes, backslashes,
 * control characters, UTF-8 (valid, U+2028, invalid), of every length up
 * to 40 (the escaper's word paths: under 4, 4-7, 8 and over). */
static kiln_str text(arena *a)
{
    static const char *const bits[] = { "a", "Z", "0", " ", "\"", "\\", "\n", "\t", "\x01", "\x1f", "\x7f", "é",
                                        "\xe2\x80\xa8", "\xe2\x80\xa9", "😀", "\xff", "\xc3", "\xed\xa0\x80", "/",
                                        "post ", "user 1" };
    size_t n = rnd() % 41;
    bool plain = rnd() % 2;
    char *s = arena_alloc(a, n + 8);
    size_t len = 0;
    while (len < n) {
        const char *b = plain ? bits[rnd() % 4] : bits[rnd() % (sizeof bits / sizeof *bits)];
        size_t bl = strlen(b);
        if (len + bl > n + 7) break;
        memcpy(s + len, b, bl);
        len += bl;
    }
    return (kiln_str){ s, len };
}

static double number(void)
{
    static const double edge[] = { 0, -0.0, 1, -1, 2147483647.0, -2147483648.0, 9007199254740991.0,
                                   -9007199254740991.0, 9007199254740992.0, 1e21, -1e21, 1e20, 1e-7, 0.1,
                                   123456789012345678.0, 5e-324, 1.7976931348623157e308 };
    switch (rnd() % 4) {
    case 0: return edge[rnd() % (sizeof edge / sizeof *edge)];
    case 1: return (double)(int32_t)rnd();
    case 2: return (double)(int64_t)rnd() / (double)(1 + rnd() % 1000);
    default: {
        uint64_t bits = rnd();
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;           /* NaN and the infinities too: written null */
    }
    }
}

/* A random tree, from the generator's state; `resp`: objects as the
 * executor makes them (the same state gives the same tree either way). */
static kiln_value *tree(arena *a, int depth, bool resp)
{
    switch (rnd() % (depth < 4 ? 9 : 6)) {
    case 0: return gql_v_null(a);
    case 1: return gql_v_bool(a, rnd() % 2);
    case 2: return gql_v_num(a, number());
    case 3: case 4: return gql_v_str(a, text(a));
    case 5: return gql_v_undefined(a);
    case 6: {
        kiln_value *l = gql_v_array(a), *last = NULL;
        for (unsigned n = (unsigned)(rnd() % 5); n; n--) last = gql_v_push(a, l, last, tree(a, depth + 1, resp));
        return l;
    }
    default: {
        kiln_value *o = resp ? gql_v_result_object(a) : gql_v_object(a), *last = NULL;
        for (unsigned n = (unsigned)(rnd() % 6); n; n--) {
            kiln_str key = rand_name(a);
            last = gql_v_append(a, o, last, key, tree(a, depth + 1, resp));
        }
        return o;
    }
    }
}

static bool same(const kiln_value *v, const char *what)
{
    buf got, want;
    buf_init(&got, 0);
    buf_init(&want, 0);
    gql_stringify(&got, v);
    ref(&want, v);
    bool ok = got.len == want.len && memcmp(got.data, want.data, got.len) == 0;
    if (!ok) fprintf(stderr, "  %s:\n   got  %.*s\n   want %.*s\n", what, (int)got.len, got.data, (int)want.len, want.data);
    buf_free(&got);
    buf_free(&want);
    return ok;
}

TEST(random_trees_match_the_reference)
{
    int bad = 0;
    for (uint64_t i = 1; i <= 20000 && bad < 5; i++) {
        arena a;
        arena_init(&a, 0);
        uint64_t seed = i * 0x9e3779b97f4a7c15ull;
        rng = seed;
        kiln_value *r = tree(&a, 0, true);
        rng = seed;
        kiln_value *p = tree(&a, 0, false);
        if (!same(r, "response objects")) bad++;
        if (!same(p, "plain objects")) bad++;
        arena_destroy(&a);
    }
    CHECK_EQ_INT(bad, 0);
}

/* graphql-js's inspect() prints a container with more than two containers
 * seen down to it (itself included) as [Array] / [Object] (node's output
 * of graphql/jsutils/inspect for the same values). */
TEST(inspect_cuts_nesting_where_graphql_js_does)
{
    kiln_value *inner = gql_v_object(&A);
    member(inner, NULL, "b", gql_v_num(&A, 1));
    kiln_value *list = gql_v_array(&A);
    gql_v_push(&A, list, NULL, inner);
    kiln_value *top = gql_v_object(&A);
    member(top, NULL, "a", list);
    CHECK_EQ_STR(gql_inspect_str(&A, top), "{ a: [[Object]] }");
    CHECK_EQ_STR(gql_inspect_str(&A, list), "[{ b: 1 }]");
    kiln_value *l1 = gql_v_array(&A), *l2 = gql_v_array(&A), *l3 = gql_v_array(&A);
    gql_v_push(&A, l3, NULL, gql_v_num(&A, 1));
    gql_v_push(&A, l2, NULL, l3);
    gql_v_push(&A, l1, NULL, l2);
    CHECK_EQ_STR(gql_inspect_str(&A, l1), "[[[Array]]]");
    kiln_value *o1 = gql_v_object(&A), *o2 = gql_v_object(&A), *o3 = gql_v_object(&A);
    member(o3, NULL, "c", gql_v_num(&A, 1));
    member(o2, NULL, "b", o3);
    member(o1, NULL, "a", o2);
    CHECK_EQ_STR(gql_inspect_str(&A, o1), "{ a: { b: [Object] } }");
    kiln_value *empty = gql_v_array(&A), *e2 = gql_v_array(&A), *e1 = gql_v_array(&A);
    gql_v_push(&A, e2, NULL, empty);
    gql_v_push(&A, e1, NULL, e2);
    CHECK_EQ_STR(gql_inspect_str(&A, e1), "[[[]]]");              /* empty ones are never cut */
}

int main(void)
{
    arena_init(&A, 4096);
    int r = t_run();
    arena_destroy(&A);
    return r;
}
