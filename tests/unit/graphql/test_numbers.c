/*
 * test_numbers.c -- unit tests of gql_js_number and gql_v_num
 * (src/graphql/values.c): numbers written as JavaScript's String(number) /
 * JSON.stringify write them. Known outputs of node (edge cases: -0, 2^53,
 * INT64 min/max, 1e21, 1e-7, 0.1 + 0.2, the smallest and largest doubles),
 * then the integer fast path against the printf/strtod way it replaced
 * (ref_js_number below, kept here as the oracle) on many integers and on
 * random doubles; JSON.stringify's null for NaN and the infinities.
 */
#include "graphql/values.h"
#include "t.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* The writer before the integer fast path: the fewest %e digits that read
 * back as v, laid out as Number#toString does. The oracle. */
static void ref_js_number(buf *out, double v)
{
    if (v == 0) { buf_putc(out, '0'); return; }
    if (v < 0) { buf_putc(out, '-'); v = -v; }
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v) break;
    }
    char digits[24];
    int k = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[k++] = *p;
    while (k > 1 && digits[k - 1] == '0') k--;
    int n = atoi(p + 1) + 1;
    if (k <= n && n <= 21) {
        buf_append(out, digits, (size_t)k);
        for (int i = k; i < n; i++) buf_putc(out, '0');
    } else if (0 < n && n <= 21) {
        buf_append(out, digits, (size_t)n);
        buf_putc(out, '.');
        buf_append(out, digits + n, (size_t)(k - n));
    } else if (-6 < n && n <= 0) {
        buf_puts(out, "0.");
        for (int i = 0; i < -n; i++) buf_putc(out, '0');
        buf_append(out, digits, (size_t)k);
    } else {
        buf_putc(out, digits[0]);
        if (k > 1) { buf_putc(out, '.'); buf_append(out, digits + 1, (size_t)(k - 1)); }
        buf_printf(out, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
}

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

static bool same_as_ref(double v)
{
    buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 0);
    gql_js_number(&a, v);
    ref_js_number(&b, v);
    bool same = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
    if (!same) fprintf(stderr, "  %.17g: %.*s, was %.*s\n", v, (int)a.len, a.data, (int)b.len, b.data);
    buf_free(&a);
    buf_free(&b);
    return same;
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

TEST(integers_write_what_printf_wrote)
{
    bool all = true;
    for (long long i = -100000; i <= 100000 && all; i++) all = same_as_ref((double)i);
    CHECK(all);
    srand(9);
    for (int i = 0; i < 40000 && all; i++) {
        /* integers of every magnitude up to 2^53, both signs */
        long long n = ((long long)rand() << 31 | rand()) >> (rand() % 62);
        n %= 9007199254740992LL;
        all = same_as_ref((double)n) && same_as_ref(-(double)n);
    }
    CHECK(all);
    for (int e = 0; e <= 63 && all; e++) {                  /* around each power of two */
        double p = ldexp(1, e);
        all = same_as_ref(p) && same_as_ref(p - 1) && same_as_ref(p + 1) && same_as_ref(-p) && same_as_ref(-(p - 1));
    }
    CHECK(all);
}

TEST(other_doubles_write_what_printf_wrote)
{
    bool all = true;
    srand(11);
    for (int i = 0; i < 30000 && all; i++) {
        uint64_t bits = (uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^ (uint64_t)rand();
        double v;
        memcpy(&v, &bits, sizeof v);
        if (isfinite(v)) all = same_as_ref(v);
        all = all && same_as_ref((double)rand() / 1000.0) && same_as_ref(rand() * 1e-9);
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

int main(void) { return t_run(); }
