/*
 * test_stringify.c -- unit tests of gql_stringify (src/graphql/values.c),
 * JSON.stringify of a result: the executor's result objects
 * (gql_v_result_object) have response names as keys and are written
 * without escaping them; every other object's keys are escaped. Both kinds
 * must give the bytes JSON.stringify gives.
 */
#include "graphql/values.h"
#include "t.h"

#include <stdio.h>

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
    CHECK_EQ_STR(stringify(json), "{\"a\\\"b\":\"1\",\"line\\nbreak\":\"2\",\"\\u2028\":\"3\",\"\":\"4\"}");
    kiln_value *res = gql_v_result_object(&A);
    kiln_value *l = member(res, NULL, "id", str("7"));
    member(res, l, "extra", json);
    CHECK_EQ_STR(stringify(res), "{\"id\":\"7\",\"extra\":{\"a\\\"b\":\"1\",\"line\\nbreak\":\"2\",\"\\u2028\":\"3\",\"\":\"4\"}}");
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

int main(void)
{
    arena_init(&A, 4096);
    int r = t_run();
    arena_destroy(&A);
    return r;
}
