/*
 * fuzz_json.c -- libFuzzer driver for src/json. Properties checked (abort()
 * on any failure):
 *
 *  1. json_parse either accepts the input or rejects it with a message.
 *  2. An accepted tree is well formed: containers' len = number of children,
 *     strings/numbers NUL-terminated at len, object members have keys,
 *     num == strtod(literal), and kiln_json_i64 agrees with a reference
 *     (strtoll on literals that are only an optional '-' and digits).
 *  3. Round trip: jw_value(tree) parses again, and writing that second tree
 *     gives the same bytes.
 *  4. json_escape(input) always parses as one JSON string, whose bytes equal
 *     the input when it is valid UTF-8, and otherwise equal the input with
 *     each invalid byte replaced by U+FFFD (checked against an independent
 *     decoder written here).
 *  5. jw_fmt "%s" / "%S" write exactly what json_escape writes.
 */
#include "json/json.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FAIL(...) do { fprintf(stderr, "fuzz_json: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

static arena A;

/* Property 2, recursively (trees are at most 512 deep). */
static void check_tree(const kiln_value *v, int in_object)
{
    if (in_object && !v->key) FAIL("member without a key");
    if (in_object && v->key[v->key_len] != '\0') FAIL("key not NUL-terminated");
    switch (v->type) {
    case KILN_JSON_STRING:
        if (!v->str || v->str[v->len] != '\0') FAIL("string not NUL-terminated");
        break;
    case KILN_JSON_NUMBER: {
        if (!v->str || strlen(v->str) != v->len) FAIL("bad number literal");
        double d = strtod(v->str, NULL);
        if (memcmp(&d, &v->num, sizeof d) != 0) FAIL("num %.17g != strtod(%s)", v->num, v->str);
        const char *p = v->str + (v->str[0] == '-');
        bool integral = *p != '\0';
        for (; *p; p++) if (*p < '0' || *p > '9') integral = false;
        errno = 0;
        long long ref = integral ? strtoll(v->str, NULL, 10) : 0;
        bool ref_ok = integral && errno != ERANGE;
        int64_t got = 0;
        bool ok = kiln_json_i64(v, &got);
        if (ok != ref_ok || (ok && got != ref)) FAIL("kiln_json_i64(%s) disagrees", v->str);
        break;
    }
    case KILN_JSON_ARRAY:
    case KILN_JSON_OBJECT: {
        size_t n = 0;
        for (const kiln_value *c = v->child; c; c = c->next, n++) {
            check_tree(c, v->type == KILN_JSON_OBJECT);
            if (v->type == KILN_JSON_ARRAY && kiln_json_at(v, n) != c) FAIL("kiln_json_at");
        }
        if (n != v->len) FAIL("len %zu but %zu children", v->len, n);
        break;
    }
    default:
        break;
    }
}

static void write_value(buf *b, const kiln_value *v)
{
    jw_state w;
    b->len = 0;
    jw_init(&w, b);
    jw_value(&w, v);
}

/* An independent UTF-8 decoder: length of the valid sequence at p, or 0. */
static size_t ref_utf8(const uint8_t *p, size_t avail)
{
    uint32_t cp, min;
    size_t n;
    if (p[0] < 0x80) return 1;
    else if ((p[0] & 0xE0) == 0xC0) { n = 2; cp = p[0] & 0x1F; min = 0x80; }
    else if ((p[0] & 0xF0) == 0xE0) { n = 3; cp = p[0] & 0x0F; min = 0x800; }
    else if ((p[0] & 0xF8) == 0xF0) { n = 4; cp = p[0] & 0x07; min = 0x10000; }
    else return 0;
    if (avail < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

/* jw_fmt needs a real va_list: this is how kiln_json() will call it. */
static void fmt(jw_state *w, const char *tmpl, ...)
{
    va_list ap;
    va_start(ap, tmpl);
    jw_fmt(w, tmpl, &ap);
    va_end(ap);
}

static void check_escape(const uint8_t *data, size_t size, buf *b, buf *want)
{
    b->len = 0;
    json_escape(b, (const char *)data, size);
    const char *err = NULL;
    const kiln_value *v = json_parse(&A, b->data, b->len, &err);
    if (!v || v->type != KILN_JSON_STRING) FAIL("escaped input does not parse: %s", err);
    want->len = 0;
    for (size_t i = 0; i < size;) {
        size_t n = ref_utf8(data + i, size - i);
        if (n) { buf_append(want, data + i, n); i += n; }
        else { buf_append(want, "\xEF\xBF\xBD", 3); i++; }
    }
    if (v->len != want->len || memcmp(v->str, want->data ? want->data : "", v->len) != 0)
        FAIL("escape + parse changed the bytes");

    /* jw_fmt("%s") and ("%S") must write the same bytes as json_escape. */
    char *z = arena_strndup(&A, (const char *)data, size);   /* %s stops at a NUL */
    size_t zlen = strlen(z);
    for (int form = 0; form < 2; form++) {
        want->len = 0;
        json_escape(want, z, form ? size : zlen);
        b->len = 0;
        jw_state w;
        jw_init(&w, b);
        if (form) fmt(&w, "%S", (kiln_str){ (const char *)data, size });
        else fmt(&w, "%s", z);
        if (b->len != want->len || memcmp(b->data, want->data, b->len) != 0)
            FAIL("jw_fmt %s differs from json_escape", form ? "%S" : "%s");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static buf b1, b2;
    if (!ready) {
        arena_init(&A, 0);
        buf_init(&b1, 0);
        buf_init(&b2, 0);
        ready = 1;
    }

    const char *err = NULL;
    const kiln_value *v = json_parse(&A, (const char *)data, size, &err);
    if (!v) {
        if (!err || !*err) FAIL("rejected without a message");
    } else {
        check_tree(v, 0);
        write_value(&b1, v);
        const kiln_value *v2 = json_parse(&A, b1.data, b1.len, &err);
        if (!v2) FAIL("output does not parse: %s: %.*s", err, (int)b1.len, b1.data);
        check_tree(v2, 0);
        write_value(&b2, v2);
        if (b1.len != b2.len || memcmp(b1.data, b2.data, b1.len) != 0)
            FAIL("second write differs: %.*s vs %.*s", (int)b1.len, b1.data, (int)b2.len, b2.data);
    }
    check_escape(data, size, &b1, &b2);
    arena_reset(&A);
    return 0;
}
