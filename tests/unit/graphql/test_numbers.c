/*
 * test_numbers.c -- unit tests of gql_js_number and gql_v_num
 * (src/graphql/values.c): numbers written as JavaScript's String(number) /
 * JSON.stringify write them. Known outputs of node (edge cases: -0, 2^53,
 * INT64 min/max, 1e21, 1e-7, 0.1 + 0.2, the smallest and largest doubles),
 * then the integer fast path against %lld on many integers, and random
 * doubles for the properties of Number#toString (reads back exactly, the
 * fewest digits that do, exponent form outside [1e-6, 1e21)); JSON.stringify's
 * null for NaN and the infinities.
 */
#include "graphql/values.h"
#include "t.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char *js(double v)
{
    static char s[64];
    buf b;
    buf_init(&b, 0);
    gql_js_number(&b, v);
    snprintf(s, sizeof s, "%.*s", (int)b.len, b.data);
    buf_free(&b);
    return s;
}

/* An integer below 2^53 in magnitude: exactly its %lld digits ("0" for
 * -0), which is what Number#toString writes for it. */
static bool int_ok(double v)
{
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)v);
    bool ok = strcmp(js(v), want) == 0;
    if (!ok) fprintf(stderr, "  %.17g: %s, want %s\n", v, js(v), want);
    return ok;
}

/* Any finite double: the text reads back as v, with the fewest
 * significant digits that do (one fewer, rounded, does not), laid out as
 * Number#toString lays it out (plain from 1e-6 up to 1e21, else d.ddde±x). */
static bool double_ok(double v)
{
    const char *s = js(v);
    bool ok = strtod(s, NULL) == v;
    /* its significant digits: no leading zeros ("0.000123"), no trailing ones ("1200") */
    char tmp[40];
    int k = 0;
    for (const char *p = s; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && (k || *p != '0')) tmp[k++] = *p;
    while (k > 1 && tmp[k - 1] == '0') k--;
    if (k > 1) {
        char fewer[48];
        snprintf(fewer, sizeof fewer, "%.*e", k - 2, v);
        if (strtod(fewer, NULL) == v) ok = false;       /* not the shortest */
    }
    double a = fabs(v);
    bool expo = strchr(s, 'e') != NULL;
    if (v != 0 && expo != (a < 1e-6 || a >= 1e21)) ok = false;
    if (!ok) fprintf(stderr, "  %.17g: %s\n", v, s);
    return ok;
}

TEST(known_javascript_outputs)
{
    CHECK_EQ_STR(js(0), "0");
    CHECK_EQ_STR(js(-0.0), "0");                              /* String(-0) */
    CHECK_EQ_STR(js(1), "1");
    CHECK_EQ_STR(js(-1), "-1");
    CHECK_EQ_STR(js(10), "10");
    CHECK_EQ_STR(js(2147483647), "2147483647");
    CHECK_EQ_STR(js(-2147483648.0), "-2147483648");
    CHECK_EQ_STR(js(9007199254740991.0), "9007199254740991");   /* 2^53 - 1 */
    CHECK_EQ_STR(js(-9007199254740991.0), "-9007199254740991");
    CHECK_EQ_STR(js(9007199254740992.0), "9007199254740992");   /* 2^53 */
    CHECK_EQ_STR(js((double)INT64_MAX), "9223372036854776000");
    CHECK_EQ_STR(js((double)INT64_MIN), "-9223372036854776000");
    CHECK_EQ_STR(js(1e21), "1e+21");
    CHECK_EQ_STR(js(1e20), "100000000000000000000");
    CHECK_EQ_STR(js(123456789012345680000.0), "123456789012345680000");
    CHECK_EQ_STR(js(1e-7), "1e-7");
    CHECK_EQ_STR(js(1e-6), "0.000001");
    CHECK_EQ_STR(js(0.1 + 0.2), "0.30000000000000004");
    CHECK_EQ_STR(js(1.5), "1.5");
    CHECK_EQ_STR(js(-1.5), "-1.5");
    CHECK_EQ_STR(js(5e-324), "5e-324");
    CHECK_EQ_STR(js(1.7976931348623157e308), "1.7976931348623157e+308");
    CHECK_EQ_STR(js(4.35), "4.35");
}

TEST(integers_are_their_digits)
{
    bool all = true;
    for (long long i = -100000; i <= 100000 && all; i++) all = int_ok((double)i);
    CHECK(all);
    srand(9);
    for (int i = 0; i < 40000 && all; i++) {
        /* integers of every magnitude up to 2^53, both signs */
        long long n = ((long long)rand() << 31 | rand()) >> (rand() % 62);
        n %= 9007199254740992LL;
        all = int_ok((double)n) && int_ok(-(double)n);
    }
    CHECK(all);
    for (int e = 0; e <= 52 && all; e++) {                  /* around each power of two */
        double p = ldexp(1, e);
        all = int_ok(p) && int_ok(p - 1) && int_ok(p + 1) && int_ok(-p) && int_ok(-(p - 1));
    }
    for (int e = 53; e <= 80 && all; e++) all = double_ok(ldexp(1, e)) && double_ok(-ldexp(1, e));
    CHECK(all);
}

TEST(other_doubles_are_the_shortest_round_trip)
{
    bool all = true;
    srand(11);
    for (int i = 0; i < 30000 && all; i++) {
        uint64_t bits = (uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^ (uint64_t)rand();
        double v;
        memcpy(&v, &bits, sizeof v);
        if (isfinite(v)) all = double_ok(v);
        all = all && double_ok((double)rand() / 1000.0) && double_ok(rand() * 1e-9);
    }
    CHECK(all);
}

TEST(values_carry_their_text_and_stringify_writes_null_for_non_finite)
{
    arena a;
    arena_init(&a, 4096);
    kiln_value *v = gql_v_num(&a, 42);
    CHECK_EQ_STR(v->str, "42");
    CHECK_EQ_INT(v->len, 2);
    CHECK(v->num == 42);
    v = gql_v_num(&a, -0.0);
    CHECK_EQ_STR(v->str, "0");
    v = gql_v_num(&a, 0.1 + 0.2);
    CHECK_EQ_STR(v->str, "0.30000000000000004");
    CHECK_EQ_INT(v->len, 19);
    v = gql_v_num(&a, 1e21);
    CHECK_EQ_STR(v->str, "1e+21");
    double odd[] = { NAN, INFINITY, -INFINITY };
    for (int i = 0; i < 3; i++) {
        buf b;
        buf_init(&b, 0);
        kiln_value n = { .type = KILN_JSON_NUMBER, .num = odd[i], .str = "x", .len = 1 };
        gql_stringify(&b, &n);
        CHECK_EQ_INT(b.len, 4);
        CHECK(memcmp(b.data, "null", 4) == 0);
        buf_free(&b);
    }
    arena_destroy(&a);
}

/* A number node's own literal stands for String(number) only when it is
 * that text (the shortcut of gql_v_num_string and gql_stringify): every
 * other literal gives what the number's value gives, as graphql-js sees
 * only the value. */
TEST(a_literal_is_used_only_when_it_is_the_numbers_own_text)
{
    static const struct { const char *lit; double num; const char *want; } cases[] = {
        { "1", 1, "1" }, { "-1", -1, "-1" }, { "0", 0, "0" }, { "-0", -0.0, "0" },
        { "007", 7, "7" }, { "1.0", 1, "1" }, { "1e2", 100, "100" }, { "100", 100, "100" },
        { "123456789012345", 123456789012345.0, "123456789012345" },
        { "-123456789012345", -123456789012345.0, "-123456789012345" },
        { "1234567890123456", 1234567890123456.0, "1234567890123456" },
        { "9007199254740993", 9007199254740993.0, "9007199254740992" },
        { "5", 6, "6" },              /* text and value disagree: the value */
        { "+5", 5, "5" }, { " 5", 5, "5" }, { "5 ", 5, "5" }, { "", 3, "3" }, { "-", 2, "2" },
        { NULL, 12, "12" }, { "0.5", 0.5, "0.5" }, { "1e21", 1e21, "1e+21" },
    };
    arena a;
    arena_init(&a, 4096);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        kiln_value n = { .type = KILN_JSON_NUMBER, .num = cases[i].num, .str = cases[i].lit,
                         .len = cases[i].lit ? strlen(cases[i].lit) : 0 };
        kiln_value *s = gql_v_num_string(&a, &n);
        CHECK(s->type == KILN_JSON_STRING);
        CHECK_EQ_STR(s->str, cases[i].want);
        CHECK_EQ_INT(s->len, strlen(cases[i].want));
        buf b;
        buf_init(&b, 0);
        gql_stringify(&b, &n);
        buf_putc(&b, '\0');
        CHECK_EQ_STR(b.data, cases[i].want);
        buf_free(&b);
    }
    kiln_value own = { .type = KILN_JSON_NUMBER, .num = 42, .str = "42", .len = 2 };
    CHECK(gql_v_num_string(&a, &own)->str == own.str);          /* shared, not copied */
    arena_destroy(&a);
}

int main(void) { return t_run(); }
