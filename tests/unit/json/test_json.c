/*
 * test_json.c -- unit tests for src/json: the parser (values, nesting,
 * escapes, UTF-8, errors and their positions, the depth limit, the i64
 * rules), the writer (structure, escaping, doubles), jw_fmt (every
 * conversion, keys, nesting, use inside a value being built, malformed
 * templates panic) and round trips (writer output parses back).
 */
#include "t.h"
#include "json/json.h"

#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

typedef const kiln_value jv;   /* a parsed value, read-only */

static arena A;
static arena *ar(void)
{
    static int ready;
    if (!ready) { arena_init(&A, 0); ready = 1; }
    return &A;
}

static jv *parse_n(const char *s, size_t n, const char **err) { return json_parse(ar(), s, n, err); }
static jv *parse(const char *s) { return parse_n(s, strlen(s), NULL); }

/* The error message for s, or "(accepted)". */
static const char *perr_n(const char *s, size_t n)
{
    const char *e = "(no message)";
    return parse_n(s, n, &e) ? "(accepted)" : e;
}
static const char *perr(const char *s) { return perr_n(s, strlen(s)); }

/* Copies b into the arena as a C string and frees b. */
static const char *take(buf *b)
{
    char *s = arena_strndup(ar(), b->data ? b->data : "", b->len);
    buf_free(b);
    return s;
}

static const char *ser(jv *v)
{
    buf b; jw_state w;
    buf_init(&b, 0);
    jw_init(&w, &b);
    jw_value(&w, v);
    return take(&b);
}

static const char *esc_n(const char *s, size_t n)
{
    buf b;
    buf_init(&b, 0);
    json_escape(&b, s, n);
    return take(&b);
}
static const char *esc(const char *s) { return esc_n(s, strlen(s)); }

static const char *fmt(const char *tmpl, ...)
{
    buf b; jw_state w; va_list ap;
    buf_init(&b, 0);
    jw_init(&w, &b);
    va_start(ap, tmpl);
    jw_fmt(&w, tmpl, &ap);
    va_end(ap);
    return take(&b);
}

/* Does s parse, and serialise back to itself? (for writer output) */
static int reparses(const char *s)
{
    jv *v = parse(s);
    return v && strcmp(ser(v), s) == 0;
}

/* ---- Parser: values ---------------------------------------------------- */

TEST(parse_scalars)
{
    jv *v = parse(" null ");
    CHECK(v && v->type == KILN_JSON_NULL);
    CHECK((v = parse("true")) && v->type == KILN_JSON_TRUE);
    CHECK((v = parse("\tfalse\r\n")) && v->type == KILN_JSON_FALSE);
    CHECK((v = parse("\"hi\"")) && v->type == KILN_JSON_STRING);
    CHECK_EQ_STR(v->str, "hi");
    CHECK_EQ_INT(v->len, 2);
    CHECK((v = parse("\"\"")) && v->len == 0 && v->str[0] == '\0');
    CHECK(kiln_json_str(v) == v->str);
    CHECK(kiln_json_str(parse("1")) == NULL);
    CHECK(kiln_json_str(NULL) == NULL);
}

TEST(parse_numbers)
{
    static const struct { const char *in; double num; } ok[] = {
        { "0", 0 }, { "-0", -0.0 }, { "7", 7 }, { "-12", -12 }, { "1.5", 1.5 },
        { "1e3", 1000 }, { "1E+2", 100 }, { "-2.5e-3", -0.0025 }, { "0.1", 0.1 },
        { "123456789012345", 123456789012345.0 },
        { "12345678901234567", 12345678901234568.0 }, /* past 2^53: strtod */
        { "9007199254740993", 9007199254740992.0 },   /* rounds to even */
    };
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        jv *v = parse(ok[i].in);
        CHECK(v && v->type == KILN_JSON_NUMBER);
        if (!v) continue;
        CHECK_EQ_STR(v->str, ok[i].in);
        CHECK_EQ_INT(v->len, strlen(ok[i].in));
        if (v->num != ok[i].num) T_FAIL("%s -> %.17g", ok[i].in, v->num);
    }
    jv *v = parse("[1e400, -1e400, 1e-400]");
    CHECK(v && isinf(v->child->num) && v->child->num > 0);
    CHECK_EQ_STR(v->child->str, "1e400");         /* the literal is kept */
    CHECK(isinf(v->child->next->num) && v->child->next->num < 0);
    CHECK(v->child->next->next->num == 0);
    CHECK(signbit(parse("-0")->num));
    CHECK_EQ_STR(ser(v), "[1e400,-1e400,1e-400]");
}

TEST(parse_nesting_and_order)
{
    jv *v = parse(" { \"b\" : [1, {\"x\": null}, []], \"a\": {}, \"c\": \"d\" } ");
    CHECK(v && v->type == KILN_JSON_OBJECT);
    if (!v) return;
    CHECK_EQ_INT(v->len, 3);
    jv *b = v->child, *a = b->next, *c = a->next;
    CHECK_EQ_STR(b->key, "b"); CHECK_EQ_INT(b->key_len, 1);
    CHECK_EQ_STR(a->key, "a");
    CHECK_EQ_STR(c->key, "c");
    CHECK(c->next == NULL);
    CHECK(b->type == KILN_JSON_ARRAY && b->len == 3);
    CHECK(a->type == KILN_JSON_OBJECT && a->len == 0 && a->child == NULL);
    CHECK(kiln_json_at(b, 0)->num == 1);
    CHECK(kiln_json_at(b, 1)->type == KILN_JSON_OBJECT);
    CHECK(kiln_json_get(kiln_json_at(b, 1), "x")->type == KILN_JSON_NULL);
    CHECK(kiln_json_at(b, 1)->child->key != NULL);
    CHECK(kiln_json_at(b, 2)->type == KILN_JSON_ARRAY && kiln_json_at(b, 2)->len == 0);
    CHECK(kiln_json_at(b, 3) == NULL);
    CHECK(kiln_json_at(v, 0) == NULL);            /* not an array */
    CHECK(kiln_json_at(NULL, 0) == NULL);
    CHECK(b->child->key == NULL);                 /* array elements have no key */
    CHECK(v->key == NULL && v->next == NULL);
    CHECK_EQ_STR(kiln_json_str(kiln_json_get(v, "c")), "d");
    CHECK(kiln_json_get(v, "zz") == NULL);
    CHECK(kiln_json_get(b, "x") == NULL);          /* not an object */
    CHECK(kiln_json_get(NULL, "x") == NULL);
    CHECK(kiln_json_get(v, NULL) == NULL);
}

TEST(parse_duplicate_keys_last_wins)
{
    jv *v = parse("{\"k\":1,\"j\":2,\"k\":3}");
    CHECK(v && v->len == 3);
    CHECK(kiln_json_get(v, "k")->num == 3);
    CHECK_EQ_STR(ser(v), "{\"k\":1,\"j\":2,\"k\":3}");   /* all kept, in order */
    /* A key with a NUL inside matches only its full length. */
    v = parse("{\"a\\u0000b\":1,\"a\":2}");
    CHECK(kiln_json_get(v, "a")->num == 2);
    CHECK_EQ_INT(v->child->key_len, 3);
}

TEST(parse_string_escapes)
{
    jv *v = parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"");
    CHECK(v && v->len == 8);
    CHECK_EQ_STR(v->str, "\"\\/\b\f\n\r\t");
    CHECK_EQ_STR(parse("\"\\u00e9\\u20AC\"")->str, "\xC3\xA9\xE2\x82\xAC");
    CHECK_EQ_STR(parse("\"\\uD83D\\uDE00\"")->str, "\xF0\x9F\x98\x80");   /* pair */
    CHECK_EQ_STR(parse("\"\\uDBFF\\uDFFF\"")->str, "\xF4\x8F\xBF\xBF");
    CHECK_EQ_STR(parse("\"\\u0041\\u007f\\u0080\\u07FF\\u0800\\uFFFF\"")->str,
                 "A\x7F\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF");
    v = parse("\"a\\u0000b\"");                      /* \u0000 is kept */
    CHECK(v && v->len == 3 && memcmp(v->str, "a\0b", 4) == 0);
    CHECK_EQ_STR(parse("\"\xC3\xA9\xF0\x9F\x98\x80\xEF\xBF\xBD\"")->str, "\xC3\xA9\xF0\x9F\x98\x80\xEF\xBF\xBD");
    CHECK_EQ_STR(parse("\"\x7F\"")->str, "\x7F");     /* DEL is not a control char in JSON */
}

TEST(parse_rejects_lone_surrogates)
{
    CHECK_EQ_STR(perr("\"\\uD800\""), "Unexpected token \" in JSON at position 7");
    CHECK_EQ_STR(perr("\"\\uDC00\""), "Unexpected token \\ in JSON at position 1");
    CHECK_EQ_STR(perr("\"\\uD800x\""), "Unexpected token x in JSON at position 7");
    CHECK_EQ_STR(perr("\"\\uD800\\u0041\""), "Unexpected token \\ in JSON at position 7");
    CHECK_EQ_STR(perr("\"\\uD800\\uD800\""), "Unexpected token \\ in JSON at position 7");
    CHECK_EQ_STR(perr("\"\\uD800\\n\""), "Unexpected token \\ in JSON at position 7");
    CHECK_EQ_STR(perr("\"\\uD800"), "Unexpected end of JSON input");
}

TEST(parse_rejects_invalid_utf8)
{
    static const char *bad[] = {
        "\"\xFF\"", "\"\xC0\xAF\"", "\"\xC1\xBF\"", "\"\xE0\x80\xAF\"",  /* overlongs */
        "\"\xED\xA0\x80\"", "\"\xED\xBF\xBF\"",                       /* surrogates */
        "\"\xF4\x90\x80\x80\"", "\"\xF5\x80\x80\x80\"",                /* > U+10FFFF */
        "\"\xE2\x82\"", "\"\x80\"", "\"a\xC3\"", "\"\xF0\x9F\x98\"",   /* truncated */
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        if (parse(bad[i])) T_FAIL("accepted invalid UTF-8 #%zu", i);
    CHECK_EQ_STR(perr("\"ab\xFF\""), "Unexpected token \\xFF in JSON at position 3");
    CHECK_EQ_STR(perr("\"\xED\xA0\x80\""), "Unexpected token \\xED in JSON at position 1");
}

TEST(parse_error_positions)
{
    static const struct { const char *in, *msg; } cases[] = {
        { "", "Unexpected end of JSON input" },
        { "  \n", "Unexpected end of JSON input" },
        { "{", "Unexpected end of JSON input" },
        { "[1,", "Unexpected end of JSON input" },
        { "{\"a\":", "Unexpected end of JSON input" },
        { "\"abc", "Unexpected end of JSON input" },
        { "\"abc\\", "Unexpected end of JSON input" },
        { "tru", "Unexpected end of JSON input" },
        { "-", "Unexpected end of JSON input" },
        { "1.", "Unexpected end of JSON input" },
        { "1e", "Unexpected end of JSON input" },
        { "1e+", "Unexpected end of JSON input" },
        { "[1,]", "Unexpected token ] in JSON at position 3" },
        { "{\"a\":1,}", "Unexpected token } in JSON at position 7" },
        { "{\"a\" 1}", "Unexpected token 1 in JSON at position 5" },
        { "{a:1}", "Unexpected token a in JSON at position 1" },
        { "{\"a\":1]", "Unexpected token ] in JSON at position 6" },
        { "[1}", "Unexpected token } in JSON at position 2" },
        { "[1 2]", "Unexpected token 2 in JSON at position 3" },
        { "trux", "Unexpected token x in JSON at position 3" },
        { "nul", "Unexpected end of JSON input" },
        { "01", "Unexpected token 1 in JSON at position 1" },
        { "-01", "Unexpected token 1 in JSON at position 2" },
        { "1.e5", "Unexpected token e in JSON at position 2" },
        { "+1", "Unexpected token + in JSON at position 0" },
        { ".5", "Unexpected token . in JSON at position 0" },
        { "NaN", "Unexpected token N in JSON at position 0" },
        { "-Infinity", "Unexpected token I in JSON at position 1" },
        { "{\"a\":1}x", "Unexpected token x in JSON at position 7" },
        { "1 2", "Unexpected token 2 in JSON at position 2" },
        { "\"a\nb\"", "Unexpected token \\x0A in JSON at position 2" },
        { "\"a\tb\"", "Unexpected token \\x09 in JSON at position 2" },
        { "\"\\x\"", "Unexpected token x in JSON at position 2" },
        { "\"\\u12x4\"", "Unexpected token x in JSON at position 5" },
        { "\"\\u12\"", "Unexpected token \" in JSON at position 5" },
        { "[\xC3\xA9]", "Unexpected token \xC3\xA9 in JSON at position 1" },
        { "\f1", "Unexpected token \\x0C in JSON at position 0" },
        { "[1,\xFF]", "Unexpected token \\xFF in JSON at position 3" },
        { "'a'", "Unexpected token ' in JSON at position 0" },
        { "[1]//", "Unexpected token / in JSON at position 3" },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *got = perr(cases[i].in);
        if (strcmp(got, cases[i].msg))
            T_FAIL("#%zu: got \"%s\", want \"%s\"", i, got, cases[i].msg);
    }
    /* Bytes after len are never looked at; a NUL inside len is a token. */
    CHECK(parse_n("[1]garbage", 3, NULL) != NULL);
    CHECK_EQ_STR(perr_n("[1]\0", 4), "Unexpected token \\x00 in JSON at position 3");
    CHECK(parse_n(NULL, 0, NULL) == NULL);
    CHECK(parse_n("\"ab", 2, NULL) == NULL);        /* string cut by len */
    CHECK_EQ_STR(perr("\xEF\xBB\xBF{}"), "Unexpected token \xEF\xBB\xBF in JSON at position 0");
}

TEST(parse_depth_limit)
{
    size_t n = 100000;
    char *s = malloc(2 * n + 1);
    for (size_t d = 510; d <= 514; d++) {
        memset(s, '[', d);
        memset(s + d, ']', d);
        jv *v = parse_n(s, 2 * d, NULL);
        if ((v != NULL) != (d <= 512)) T_FAIL("depth %zu: %s", d, v ? "accepted" : "rejected");
    }
    memset(s, '[', 513);
    CHECK_EQ_STR(perr_n(s, 513), "Maximum nesting depth of 512 exceeded in JSON at position 512");
    /* Deep objects too, and a huge depth costs no stack. */
    buf b;
    buf_init(&b, 0);
    for (int i = 0; i < 512; i++) buf_puts(&b, "{\"a\":");
    buf_puts(&b, "1");
    for (int i = 0; i < 512; i++) buf_putc(&b, '}');
    jv *v = parse_n(b.data, b.len, NULL);
    CHECK(v != NULL);
    CHECK_EQ_STR(ser(v), take(&b));                 /* jw_value goes as deep */
    memset(s, '[', n);
    memset(s + n, ']', n);
    CHECK(parse_n(s, 2 * n, NULL) == NULL);
    for (size_t i = 0; i < n; i++) s[i] = i % 2 ? '[' : '{';
    CHECK(parse_n(s, n, NULL) == NULL);
    free(s);
}

TEST(parse_err_is_optional_and_untouched_on_success)
{
    const char *e = "unchanged";
    CHECK(json_parse(ar(), "[1]", 3, &e) != NULL);
    CHECK_EQ_STR(e, "unchanged");
    CHECK(json_parse(ar(), "[1", 2, NULL) == NULL);
}

TEST(i64_rules)
{
    static const struct { const char *in; int ok; int64_t want; } cases[] = {
        { "12", 1, 12 }, { "0", 1, 0 }, { "-0", 1, 0 }, { "-7", 1, -7 },
        { "9223372036854775807", 1, INT64_MAX },
        { "-9223372036854775808", 1, INT64_MIN },
        { "9223372036854775808", 0, 0 }, { "-9223372036854775809", 0, 0 },
        { "99999999999999999999", 0, 0 },
        { "9007199254740993", 1, 9007199254740993LL },  /* exact, not via double */
        { "1.0", 0, 0 }, { "1e2", 0, 0 }, { "1E0", 0, 0 }, { "-1.5", 0, 0 },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int64_t got = 42;
        jv *v = parse(cases[i].in);
        bool ok = kiln_json_i64(v, &got);
        if (ok != (bool)cases[i].ok) { T_FAIL("%s: ok=%d", cases[i].in, ok); continue; }
        if (ok && got != cases[i].want) T_FAIL("%s: got %lld", cases[i].in, (long long)got);
    }
    int64_t x;
    CHECK(!kiln_json_i64(parse("\"12\""), &x));
    CHECK(!kiln_json_i64(parse("true"), &x));
    CHECK(!kiln_json_i64(NULL, &x));
}

/* ---- Writer ------------------------------------------------------------ */

TEST(writer_structure)
{
    buf b; jw_state w;
    buf_init(&b, 0);
    jw_init(&w, &b);
    jw_begin_object(&w);
    jw_key(&w, "a", 1); jw_int(&w, 1);
    jw_key(&w, "list", 4);
    jw_begin_array(&w);
    jw_bool(&w, true); jw_bool(&w, false); jw_null(&w);
    jw_string(&w, "x", 1); jw_string(&w, NULL, 0);
    jw_begin_object(&w); jw_end(&w);
    jw_begin_array(&w); jw_end(&w);
    jw_raw(&w, "{\"r\":[1]}", 9);
    jw_uint(&w, 18446744073709551615ULL);
    jw_int(&w, LLONG_MIN);
    jw_end(&w);
    jw_key(&w, "q\"k", 3); jw_double(&w, 0.5);
    jw_end(&w);
    CHECK(w.depth == 0);
    const char *s = take(&b);
    CHECK_EQ_STR(s, "{\"a\":1,\"list\":[true,false,null,\"x\",null,{},[],{\"r\":[1]},"
                    "18446744073709551615,-9223372036854775808],\"q\\\"k\":0.5}");
    CHECK(reparses(s));
}

TEST(writer_doubles)
{
    static const struct { double v; const char *want; } cases[] = {
        { 1, "1" }, { 1.5, "1.5" }, { -2, "-2" }, { 0.1, "0.1" }, { -0.0, "0" },
        { 1.0 / 3, "0.3333333333333333" }, { 0.1 + 0.2, "0.30000000000000004" },
        { 1e300, "1e+300" }, { 5e-324, "4.94065645841247e-324" },
        { 9007199254740992.0, "9007199254740992" }, { 1e21, "1e+21" },
        { 123456.789, "123456.789" },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        buf b; jw_state w;
        buf_init(&b, 0);
        jw_init(&w, &b);
        jw_double(&w, cases[i].v);
        const char *got = take(&b);
        if (strcmp(got, cases[i].want)) T_FAIL("%.17g -> %s, want %s", cases[i].v, got, cases[i].want);
        jv *p = parse(got);
        if (!p || p->num != cases[i].v) T_FAIL("%s does not read back", got);
    }
    CHECK_EQ_STR(fmt("[%g,%g,%g]", NAN, INFINITY, -INFINITY), "[null,null,null]");
    /* Random doubles read back exactly. */
    srand(7);
    for (int i = 0; i < 2000; i++) {
        uint64_t bits = 0;
        for (int k = 0; k < 4; k++) bits = bits << 16 | (uint64_t)(rand() & 0xFFFF);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d)) continue;
        const char *s = fmt("%g", d);
        jv *p = parse(s);
        if (!p || p->num != d) { T_FAIL("%.17g -> %s", d, s); break; }
    }
}

TEST(escape_rules)
{
    CHECK_EQ_STR(esc("plain"), "\"plain\"");
    CHECK_EQ_STR(esc(""), "\"\"");
    CHECK_EQ_STR(esc("q\"b\\s/"), "\"q\\\"b\\\\s/\"");
    CHECK_EQ_STR(esc("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
    CHECK_EQ_STR(esc("\x01\x1f\x0b\x7f"), "\"\\u0001\\u001f\\u000b\x7f\"");
    CHECK_EQ_STR(esc_n("a\0b", 3), "\"a\\u0000b\"");
    CHECK_EQ_STR(esc("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"), "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
    CHECK_EQ_STR(esc("a\xE2\x80\xA8" "b\xE2\x80\xA9" "c\xE2\x80\xAA"),
                 "\"a\\u2028b\\u2029c\xE2\x80\xAA\"");
    /* Invalid UTF-8: one \uFFFD per bad byte. */
    CHECK_EQ_STR(esc("a\xFF" "b"), "\"a\\uFFFDb\"");
    CHECK_EQ_STR(esc("\xE2\x82"), "\"\\uFFFD\\uFFFD\"");
    CHECK_EQ_STR(esc("\xC0\xAF"), "\"\\uFFFD\\uFFFD\"");
    CHECK_EQ_STR(esc("\xED\xA0\x80"), "\"\\uFFFD\\uFFFD\\uFFFD\"");
    CHECK_EQ_STR(esc("\xF4\x90\x80\x80"), "\"\\uFFFD\\uFFFD\\uFFFD\\uFFFD\"");
    CHECK_EQ_STR(esc("\xC3\xA9\x80\xC3\xA9"), "\"\xC3\xA9\\uFFFD\xC3\xA9\"");
    CHECK_EQ_STR(esc("\xC3"), "\"\\uFFFD\"");
    /* Every single byte escapes to something that parses back. */
    for (int c = 0; c < 256; c++) {
        char in[3] = { 'x', (char)c, 'y' };
        jv *v = parse(esc_n(in, 3));
        if (!v || v->type != KILN_JSON_STRING) { T_FAIL("byte %d", c); continue; }
        if (c < 0x80 && (v->len != 3 || memcmp(v->str, in, 3))) T_FAIL("byte %d changed", c);
        if (c >= 0x80 && strcmp(v->str, "x\xEF\xBF\xBDy")) T_FAIL("byte %d not U+FFFD", c);
    }
}

TEST(jw_value_writes_trees)
{
    const char *in = " {\"a\" : [1.0e+2, -0, \"x\\u00e9\\n\\u2028\\/\", true, null, {}],"
                     " \"b\":{\"c\":[[]]}} ";
    jv *v = parse(in);
    CHECK(v != NULL);
    const char *s = ser(v);
    CHECK_EQ_STR(s, "{\"a\":[1.0e+2,-0,\"x\xC3\xA9\\n\\u2028/\",true,null,{}],\"b\":{\"c\":[[]]}}");
    CHECK(reparses(s));
    /* A member alone: its siblings are not written. */
    CHECK_EQ_STR(ser(kiln_json_get(v, "a")), "[1.0e+2,-0,\"x\xC3\xA9\\n\\u2028/\",true,null,{}]");
    CHECK_EQ_STR(ser(kiln_json_at(kiln_json_get(v, "a"), 1)), "-0");
    CHECK_EQ_STR(ser(NULL), "null");
    /* A tree built by hand: a number without literal text uses num. */
    kiln_value n = { .type = KILN_JSON_NUMBER, .num = 2.5 };
    CHECK_EQ_STR(ser(&n), "2.5");
    /* Inside a writer: commas and keys placed around it. */
    buf b; jw_state w;
    buf_init(&b, 0);
    jw_init(&w, &b);
    jw_begin_array(&w);
    jw_value(&w, kiln_json_get(v, "b"));
    jw_value(&w, NULL);
    jw_begin_object(&w);
    jw_key(&w, "v", 1);
    jw_value(&w, kiln_json_get(v, "b"));
    jw_end(&w);
    jw_end(&w);
    CHECK_EQ_STR(take(&b), "[{\"c\":[[]]},null,{\"v\":{\"c\":[[]]}}]");
}

/* ---- jw_fmt ------------------------------------------------------------ */

TEST(fmt_basic)
{
    CHECK_EQ_STR(fmt("{message: %s}", "Hello, World!"), "{\"message\":\"Hello, World!\"}");
    CHECK_EQ_STR(fmt("  { a : [ 1 , 2 ] ,\n\t\"b c\" : { } , $d_1: [ ] }  "),
                 "{\"a\":[1,2],\"b c\":{},\"$d_1\":[]}");
    CHECK_EQ_STR(fmt("{\"quoted\": true, bare: false, n: null}"),
                 "{\"quoted\":true,\"bare\":false,\"n\":null}");
    CHECK_EQ_STR(fmt("{a: -1.5e3, b: 0, c: 0.25, d: 10E-2}"), "{\"a\":-1.5e3,\"b\":0,\"c\":0.25,\"d\":10E-2}");
    CHECK_EQ_STR(fmt("{s: \"x\\n\\\"y\\u00e9 100%% sure\"}"), "{\"s\":\"x\\n\\\"y\\u00e9 100% sure\"}");
    CHECK_EQ_STR(fmt("{\"%%k\": 1}"), "{\"%k\":1}");
    CHECK_EQ_STR(fmt("{a: {b: {c: [1, [2, {d: %d}]]}}}", 3), "{\"a\":{\"b\":{\"c\":[1,[2,{\"d\":3}]]}}}");
    CHECK_EQ_STR(fmt("[]"), "[]");
    CHECK_EQ_STR(fmt("{}"), "{}");
    CHECK_EQ_STR(fmt("%s", "solo"), "\"solo\"");
    CHECK_EQ_STR(fmt(" 42 "), "42");
    CHECK_EQ_STR(fmt("true"), "true");
    CHECK_EQ_STR(fmt("\"lit\""), "\"lit\"");
}

TEST(fmt_every_conversion)
{
    kiln_str S = { "sl\"ice-not-this", 5 };
    jv *j = parse("{\"k\":[1,\"v\"]}");
    const char *s = fmt("[%s,%S,%d,%ld,%lld,%u,%lu,%llu,%g,%b,%b,%j,%r]",
                        "a\nb", S, -5, -6L, LLONG_MIN, 4000000000u, 7UL,
                        18446744073709551615ULL, 2.5, 1, 0, j, "{\"raw\":1}");
    CHECK_EQ_STR(s, "[\"a\\nb\",\"sl\\\"ic\",-5,-6,-9223372036854775808,4000000000,7,"
                    "18446744073709551615,2.5,true,false,{\"k\":[1,\"v\"]},{\"raw\":1}]");
    CHECK(reparses(s));
    kiln_str none = { NULL, 0 };
    CHECK_EQ_STR(fmt("{s: %s, S: %S, j: %j, r: %r, g: %g, i: %g}",
                     (const char *)NULL, none, (jv *)NULL, (const char *)NULL, NAN, INFINITY),
                 "{\"s\":null,\"S\":null,\"j\":null,\"r\":null,\"g\":null,\"i\":null}");
    CHECK_EQ_STR(fmt("{d: %d, ld: %ld}", INT_MIN, LONG_MAX), "{\"d\":-2147483648,\"ld\":9223372036854775807}");
    CHECK_EQ_STR(fmt("%s", "bad \xFF utf8 \xE2\x80\xA8"), "\"bad \\uFFFD utf8 \\u2028\"");
    CHECK_EQ_STR(fmt("%j", kiln_json_at(kiln_json_get(j, "k"), 0)), "1");
}

/* jw_fmt takes a va_list pointer so one va_list can feed several templates. */
static const char *fmt_twice(const char *t1, const char *t2, ...)
{
    buf b; jw_state w; va_list ap;
    buf_init(&b, 0);
    jw_init(&w, &b);
    va_start(ap, t2);
    jw_begin_array(&w);
    jw_fmt(&w, t1, &ap);
    jw_fmt(&w, t2, &ap);
    jw_end(&w);
    va_end(ap);
    return take(&b);
}

TEST(fmt_va_list_advances)
{
    CHECK_EQ_STR(fmt_twice("{id: %d, t: %s}", "[%g, %s]", 1, "one", 2.5, "two"),
                 "[{\"id\":1,\"t\":\"one\"},[2.5,\"two\"]]");
    CHECK_EQ_STR(fmt_twice("%lld", "%S", 9LL, (kiln_str){ "ab", 2 }), "[9,\"ab\"]");
}

/* A helper that wraps jw_fmt the way kiln_jw_fmt will. */
static void wfmt(jw_state *w, const char *tmpl, ...)
{
    va_list ap;
    va_start(ap, tmpl);
    jw_fmt(w, tmpl, &ap);
    va_end(ap);
}

TEST(fmt_elements_of_an_array_being_built)
{
    buf b; jw_state w;
    buf_init(&b, 0);
    jw_init(&w, &b);
    jw_begin_object(&w);
    jw_key(&w, "posts", 5);
    jw_begin_array(&w);
    for (int i = 1; i <= 3; i++) wfmt(&w, "{id: %d, title: %s}", i, i == 2 ? NULL : "t");
    wfmt(&w, "%d", 4);
    jw_int(&w, 5);
    jw_end(&w);
    jw_key(&w, "meta", 4);
    wfmt(&w, "{count: %u}", 5u);
    jw_end(&w);
    const char *s = take(&b);
    CHECK_EQ_STR(s, "{\"posts\":[{\"id\":1,\"title\":\"t\"},{\"id\":2,\"title\":null},"
                    "{\"id\":3,\"title\":\"t\"},4,5],\"meta\":{\"count\":5}}");
    CHECK(reparses(s));
}

static void run_fmt(const char *tmpl) { fmt(tmpl, 1, 2, 3); }

TEST(fmt_malformed_templates_panic)
{
    static const char *bad[] = {
        "", "   ", "{a: 1", "{a: 1}}", "[1,]", "[1 2]", "{a 1}", "{a: }", "{,}", "{a: 1,}",
        "%q", "%l", "%lx", "%%", "{1: 2}", "{a: foo}", "[1] x", "[}", "{]",
        "{a: \"%d\"}", "{a: \"unterminated}", "01", "1.", "-", "1e", ".5", "{a: 1x}",
        "{%s: 1}", "[1:2]",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        if (!t_panics(run_fmt, bad[i], "jw_fmt")) T_FAIL("template \"%s\" did not panic", bad[i]);
    CHECK(t_panics(run_fmt, "{message %s}", "{message %s}"));   /* the template is named */
}

static void misuse(const char *what)
{
    buf b; jw_state w;
    buf_init(&b, 0);
    jw_init(&w, &b);
    if (!strcmp(what, "end")) jw_end(&w);
    if (!strcmp(what, "key")) jw_key(&w, "k", 1);
    if (!strcmp(what, "nokey")) { jw_begin_object(&w); jw_int(&w, 1); }
    if (!strcmp(what, "twokeys")) { jw_begin_object(&w); jw_key(&w, "a", 1); jw_key(&w, "b", 1); }
    if (!strcmp(what, "deep")) for (int i = 0; i <= JW_MAX_DEPTH; i++) jw_begin_array(&w);
}

TEST(writer_misuse_panics)
{
    CHECK(t_panics(misuse, "end", "jw_end"));
    CHECK(t_panics(misuse, "key", "jw_key"));
    CHECK(t_panics(misuse, "nokey", "jw_key first"));
    CHECK(t_panics(misuse, "twokeys", "jw_key"));
    CHECK(t_panics(misuse, "deep", "nesting"));
}

/* ---- Round trips ------------------------------------------------------- */

TEST(round_trips)
{
    static const char *docs[] = {
        "{\"a\":[1,2,{\"b\":\"c\"}],\"d\":null,\"e\":true,\"f\":false,\"g\":-1.25e-7}",
        "[\"\\u0000\\u001f\\\"\\\\\",\"\xF0\x9F\x98\x80\",\"\\u2028\\u2029\",\"\\uFFFD\"]",
        "\"just a string\"", "0", "[]", "{}", "[[[[[[[[[[]]]]]]]]]]",
        "{\"\":\"\",\"\\n\":{\"\\u0000\":[-0,0.0,1E+9]}}",
    };
    for (size_t i = 0; i < ARRAY_LEN(docs); i++) {
        jv *v = parse(docs[i]);
        if (!v) { T_FAIL("#%zu does not parse", i); continue; }
        const char *s1 = ser(v);
        jv *v2 = parse(s1);
        if (!v2) { T_FAIL("#%zu: output %s does not parse", i, s1); continue; }
        const char *s2 = ser(v2);
        if (strcmp(s1, s2)) T_FAIL("#%zu: %s != %s", i, s1, s2);
    }
    /* A string with every byte value survives escape + parse. */
    char all[256];
    for (int c = 0; c < 128; c++) all[c] = (char)c;
    jv *v = parse(esc_n(all, 128));
    CHECK(v && v->len == 128 && memcmp(v->str, all, 128) == 0);
}

/* json_escape against a byte-at-a-time reference written from its
 * documented rules (write.c's header): short escapes for \b \t \n \f \r
 * \" \\, \u00xx for other control bytes, valid UTF-8 kept except U+2028
 * and U+2029 (escaped), \uFFFD for each byte not in a valid sequence. The
 * inputs mix plain runs of every length around the 8-byte fast path with
 * bytes that need work, at every offset. */
static size_t ref_utf8(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xF0 && c < 0xF5 ? 4 : 0;
    if (!len || len > n) return 0;
    unsigned cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (p[k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

static void ref_escape(buf *b, const unsigned char *p, size_t n)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        const char *short_esc = c == '\b' ? "\\b" : c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\f' ? "\\f"
                              : c == '\r' ? "\\r" : c == '"' ? "\\\"" : c == '\\' ? "\\\\" : NULL;
        if (short_esc) { buf_puts(b, short_esc); i++; continue; }
        if (c < 0x20) { buf_printf(b, "\\u%04x", c); i++; continue; }
        size_t len = ref_utf8(p + i, n - i);
        if (!len) { buf_puts(b, "\\uFFFD"); i++; continue; }
        if (len == 3 && c == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
            buf_puts(b, p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
        } else {
            buf_append(b, p + i, len);
        }
        i += len;
    }
    buf_putc(b, '"');
}

TEST(escape_matches_a_byte_at_a_time_reference)
{
    static const char *pieces[] = { "a", "title", "0123456789abcdef", "\"", "\\", "\n", "\x01", "\x1f", "\x7f",
                                    "\xc3\xa9", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xf0\x9f\x98\x80", "\xff", "\xc3",
                                    "\xed\xa0\x80", " ", "~", "\x20" };
    unsigned seed = 12345;
    buf got, want;
    buf_init(&got, 0);
    buf_init(&want, 0);
    unsigned char in[256];
    for (int round = 0; round < 20000; round++) {
        size_t n = 0;
        int parts = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 8;
        for (int k = 0; k < parts; k++) {
            seed = seed * 1103515245u + 12345u;
            const char *pc = pieces[(seed >> 16) % ARRAY_LEN(pieces)];
            size_t reps = 1 + (seed >> 8) % 11;      /* runs of 1 to 11: across the 8-byte words */
            for (size_t r = 0; r < reps && n + strlen(pc) < sizeof in; r++) {
                memcpy(in + n, pc, strlen(pc));
                n += strlen(pc);
            }
        }
        got.len = want.len = 0;
        got.len = 0;
        buf_putc(&got, 'x');                         /* not at the buffer's start */
        json_escape(&got, (const char *)in, n);
        buf_putc(&want, 'x');
        ref_escape(&want, in, n);
        if (got.len != want.len || memcmp(got.data, want.data, got.len)) {
            T_FAIL("round %d: %.*s against %.*s", round, (int)got.len, got.data, (int)want.len, want.data);
            break;
        }
    }
    buf_free(&got);
    buf_free(&want);
}

/* json_escape_short: the same bytes as json_escape (then the `then` byte),
 * for every string of 0 to 20 bytes over an alphabet of plain letters and
 * of every kind of byte that needs escaping, at every length and position
 * -- including the lengths where its words overlap (8-16) or its three
 * bytes coincide (1-3) -- and past 16, where it hands over. */
TEST(escape_short_matches_escape)
{
    static const unsigned char alphabet[] = { 'a', 'Z', '_', '0', ' ', '~', '"', '\\', '\n', 0x01, 0x1f, 0x7f,
                                              0x80, 0xc3, 0xa9, 0xe2, 0xa8, 0xff, 0x00 };
    unsigned seed = 777;
    buf got, want;
    buf_init(&got, 0);
    buf_init(&want, 0);
    unsigned char in[24];
    for (int round = 0; round < 200000; round++) {
        size_t n = (size_t)round % 21;
        seed = seed * 1103515245u + 12345u;
        int specials = (int)(seed >> 16) % 3;   /* 0: plain letters only; else a few odd bytes */
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = specials && (seed >> 16) % 8 == 0 ? alphabet[(seed >> 20) % ARRAY_LEN(alphabet)]
                                                      : alphabet[(seed >> 20) % 6];
        }
        char then = (seed >> 8) & 1 ? ':' : 0;
        got.len = want.len = 0;
        buf_putc(&got, 'x');                         /* not at the buffer's start */
        json_escape_short(&got, (const char *)in, n, then);
        buf_putc(&want, 'x');
        json_escape_stringify(&want, (const char *)in, n);
        if (then) buf_putc(&want, then);
        if (got.len != want.len || memcmp(got.data, want.data, got.len)) {
            T_FAIL("round %d (%zu bytes): %.*s against %.*s", round, n, (int)got.len, got.data, (int)want.len, want.data);
            break;
        }
    }
    buf_free(&got);
    buf_free(&want);
}

/* json_escape_stringify writes what json_escape writes but for U+2028 and
 * U+2029, which JSON.stringify leaves as they are. */
TEST(stringify_escape_differs_only_by_line_separators)
{
    static const char *same[] = { "", "plain", "q\"b\\s", "\n\t\x01\x1f", "caf\xc3\xa9 \xf0\x9f\x98\x80", "\xff\xc3", "\xed\xa0\x80" };
    buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 0);
    for (size_t i = 0; i < ARRAY_LEN(same); i++) {
        a.len = b.len = 0;
        json_escape(&a, same[i], strlen(same[i]));
        json_escape_stringify(&b, same[i], strlen(same[i]));
        CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    }
    const char *ls = "a\xe2\x80\xa8" "b\xe2\x80\xa9" "c\"";
    a.len = b.len = 0;
    json_escape(&a, ls, strlen(ls));
    json_escape_stringify(&b, ls, strlen(ls));
    CHECK_EQ_MEM(a.data, a.len, "\"a\\u2028b\\u2029c\\\"\"");
    CHECK_EQ_MEM(b.data, b.len, "\"a\xe2\x80\xa8" "b\xe2\x80\xa9" "c\\\"\"");
    buf_free(&a);
    buf_free(&b);
}

int main(void)
{
    int r = t_run();
    arena_destroy(&A);
    return r;
}
