/*
 * values.c -- runtime values as graphql-js sees them: constructors for
 * kiln_value trees in an arena, JavaScript's `undefined` marker, numbers
 * printed as JavaScript's Number#toString prints them, and the two ways
 * graphql-js prints a value: inspect() in messages, JSON.stringify() in
 * responses. Input coercion is in coerce.c.
 *
 * Owns: nothing (the caller's arena). Must never: print a value other than
 * graphql-js would.
 */
#include "graphql/values.h"
#include "graphql/visit.h"
#include "json/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define S(k) (int)(k).len, (k).ptr

/* ---- Numbers ----------------------------------------------------------------- */

/* An integral v below 2^53 in magnitude, written into tmp (24 bytes) as
 * Number#toString writes it: its decimal digits, at most 16 of them, so
 * never the exponent form (that starts at 10^21); -0 as "0". Exact: every
 * such integer is a double and its digits are its shortest round trip.
 * Returns the length, or 0 when v is not such an integer. */
static size_t js_small_int(char *tmp, double v)
{
    if (!(v > -9007199254740992.0 && v < 9007199254740992.0) || v != (double)(long long)v) return 0;
    long long n = (long long)v;
    unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    char d[24];
    size_t i = sizeof d, len = 0;
    do { d[--i] = (char)('0' + u % 10); u /= 10; } while (u);
    if (n < 0) tmp[len++] = '-';
    memcpy(tmp + len, d + i, sizeof d - i);
    return len + sizeof d - i;
}

/* The general case: the fewest significant digits (1 to 17) that read
 * back as v, through printf's %e and strtod. Integers below 2^53 take
 * js_small_int's way, which writes the same bytes without printf. */
void gql_js_number(buf *out, double v)
{
    char small[24];
    size_t sn = js_small_int(small, v);
    if (sn) { buf_append(out, small, sn); return; }
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
    int n = atoi(p + 1) + 1;     /* v = 0.d1d2... x 10^n */
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

/* ---- Constructors -------------------------------------------------------------- */

static kiln_value *node(arena *a, kiln_json_type t)
{
    kiln_value *v = arena_alloc(a, sizeof *v);
    *v = (kiln_value){ .type = t };     /* inline stores, no memset call */
    return v;
}

kiln_value *gql_v_null(arena *a) { return node(a, KILN_JSON_NULL); }

static const char undefined_mark[] = "undefined";

kiln_value *gql_v_undefined(arena *a)
{
    kiln_value *v = node(a, KILN_JSON_NULL);
    v->str = undefined_mark;
    return v;
}

bool gql_v_is_undefined(const kiln_value *v) { return v && v->type == KILN_JSON_NULL && v->str == undefined_mark; }

/* A host object is an OBJECT node with no members whose `str` points to
 * its gql_host (ordinary objects have str NULL). */
static const char host_mark[] = "host";

kiln_value *gql_v_host(arena *a, gql_host_kind kind, const void *ptr)
{
    gql_host *h = arena_alloc(a, sizeof *h);
    h->magic = host_mark;
    h->kind = kind;
    h->ptr = ptr;
    kiln_value *v = node(a, KILN_JSON_OBJECT);
    v->str = (const char *)h;
    return v;
}

const gql_host *gql_v_host_of(const kiln_value *v)
{
    if (!v || v->type != KILN_JSON_OBJECT || !v->str) return NULL;
    const gql_host *h = (const gql_host *)(const void *)v->str;
    return h->magic == host_mark ? h : NULL;
}
/* A result object's str points here: a gql_host whose magic is not
 * host_mark, so gql_v_host_of can still read it and says "not a host". */
static const char names_mark[] = "names";
static const gql_host names_host = { .magic = names_mark };

kiln_value *gql_v_result_object(arena *a)
{
    kiln_value *v = node(a, KILN_JSON_OBJECT);
    v->str = (const char *)&names_host;
    return v;
}

kiln_value *gql_v_bool(arena *a, bool b) { return node(a, b ? KILN_JSON_TRUE : KILN_JSON_FALSE); }
kiln_value *gql_v_array(arena *a) { return node(a, KILN_JSON_ARRAY); }
kiln_value *gql_v_object(arena *a) { return node(a, KILN_JSON_OBJECT); }

/* A number node's own literal when it is already the text String(v->num)
 * gives: an integer of 1 to 15 digits (so exact) with no leading zero or
 * sign but a '-' (not "-0"), whose value is v->num -- a JSON literal, a
 * row's integer, a gql_v_num all are. {NULL, 0} otherwise ("1.0", "1e2",
 * "-0", a 16-digit id, a node whose text and value disagree). */
static kiln_str js_literal(const kiln_value *v)
{
    const char *s = v->str;
    size_t n = v->len, i = 0;
    if (!s || n == 0 || n > 16) return (kiln_str){ NULL, 0 };
    bool neg = s[0] == '-';
    i = neg;
    if (n - i == 0 || n - i > 15 || (s[i] == '0' && (n - i > 1 || neg))) return (kiln_str){ NULL, 0 };
    long long x = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return (kiln_str){ NULL, 0 };
        x = x * 10 + (s[i] - '0');
    }
    if ((double)(neg ? -x : x) != v->num) return (kiln_str){ NULL, 0 };
    return (kiln_str){ s, n };
}

kiln_value *gql_v_num_string(arena *a, const kiln_value *num)
{
    kiln_str lit = js_literal(num);
    if (lit.ptr) {                                 /* its text is String(num): share it */
        kiln_value *v = node(a, KILN_JSON_STRING);
        v->str = lit.ptr;
        v->len = lit.len;
        return v;
    }
    kiln_value *v = gql_v_num(a, num->num);
    v->type = KILN_JSON_STRING;
    v->num = 0;
    return v;
}

kiln_value *gql_v_num(arena *a, double d)
{
    kiln_value *v = node(a, KILN_JSON_NUMBER);
    char small[24];
    size_t sn = js_small_int(small, d);
    if (sn) {                                     /* no heap buffer for the common case */
        v->str = arena_strndup(a, small, sn);
        v->len = sn;
        v->num = d;
        return v;
    }
    buf b;
    buf_init(&b, 32);
    gql_js_number(&b, d);
    v->str = arena_strndup(a, b.data, b.len);
    v->len = b.len;
    v->num = d;
    buf_free(&b);
    return v;
}

kiln_value *gql_v_str(arena *a, kiln_str s)
{
    kiln_value *v = node(a, KILN_JSON_STRING);
    v->str = arena_strndup(a, s.ptr ? s.ptr : "", s.len);
    v->len = s.len;
    return v;
}

const kiln_value *gql_v_get(const kiln_value *obj, kiln_str key)
{
    if (!obj || obj->type != KILN_JSON_OBJECT) return NULL;
    /* The last member of that name wins (JSON.parse's duplicates). Keys
     * are short: compared inline, without a memcmp call. */
    const kiln_value *found = NULL;
    for (const kiln_value *c = obj->child; c; c = c->next) {
        if (c->key_len != key.len) continue;
        size_t i = 0;
        while (i < key.len && c->key[i] == key.ptr[i]) i++;
        if (i == key.len) found = c;
    }
    return found;
}

kiln_value *gql_v_put(arena *a, kiln_value *container, kiln_str key, kiln_value *v)
{
    kiln_value *copy = arena_alloc(a, sizeof *copy);
    *copy = *v;
    copy->next = NULL;
    copy->key = NULL;
    copy->key_len = 0;
    kiln_value **link = &container->child;
    if (container->type == KILN_JSON_OBJECT) {
        for (kiln_value *c = container->child; c; c = c->next)
            if (c->key_len == key.len && memcmp(c->key, key.ptr, key.len) == 0) {
                kiln_value *next = c->next;
                const char *k = c->key;
                *c = *copy;
                c->key = k;
                c->key_len = key.len;
                c->next = next;
                return c;
            }
        copy->key = arena_strndup(a, key.ptr, key.len);
        copy->key_len = key.len;
    }
    while (*link) link = &(*link)->next;
    *link = copy;
    container->len++;
    return copy;
}

kiln_value *gql_v_push(arena *a, kiln_value *list, kiln_value *last, const kiln_value *v)
{
    return gql_v_append(a, list, last, (kiln_str){ NULL, 0 }, v);
}

kiln_value *gql_v_append(arena *a, kiln_value *obj, kiln_value *last, kiln_str key, const kiln_value *v)
{
    kiln_value *copy = arena_alloc(a, sizeof *copy);
    *copy = *v;
    copy->next = NULL;
    copy->key = key.ptr;
    copy->key_len = key.len;
    if (last) last->next = copy;
    else obj->child = copy;
    obj->len++;
    return copy;
}

/* ---- Printing values --------------------------------------------------------------- */

static void inspect_at(buf *out, const kiln_value *v, int depth)
{
    switch (v->type) {
    case KILN_JSON_NULL: buf_puts(out, "null"); return;
    case KILN_JSON_TRUE: buf_puts(out, "true"); return;
    case KILN_JSON_FALSE: buf_puts(out, "false"); return;
    case KILN_JSON_NUMBER: gql_js_number(out, v->num); return;
    case KILN_JSON_STRING: json_escape_short(out, v->str, v->len, 0); return;
    case KILN_JSON_ARRAY: {
        if (!v->len) { buf_puts(out, "[]"); return; }
        /* graphql-js: a container with more than MAX_RECURSIVE_DEPTH (2)
         * containers seen down to it, itself included, is [Array] / [Object] */
        if (depth > 1) { buf_puts(out, "[Array]"); return; }
        buf_putc(out, '[');
        size_t i = 0;
        for (const kiln_value *c = v->child; c && i < 10; c = c->next, i++) {
            if (i) buf_puts(out, ", ");
            inspect_at(out, c, depth + 1);
        }
        if (v->len == 11) buf_puts(out, ", ... 1 more item");
        else if (v->len > 11) buf_printf(out, ", ... %zu more items", v->len - 10);
        buf_putc(out, ']');
        return;
    }
    case KILN_JSON_OBJECT:
        if (!v->len) { buf_puts(out, "{}"); return; }
        if (depth > 1) { buf_puts(out, "[Object]"); return; }
        buf_puts(out, "{ ");
        for (const kiln_value *c = v->child; c; c = c->next) {
            if (c != v->child) buf_puts(out, ", ");
            buf_append(out, c->key, c->key_len);
            buf_puts(out, ": ");
            inspect_at(out, c, depth + 1);
        }
        buf_puts(out, " }");
        return;
    }
}

void gql_inspect(buf *out, const kiln_value *v) { inspect_at(out, v, 0); }

const char *gql_inspect_str(arena *a, const kiln_value *v)
{
    buf b;
    buf_init(&b, 64);
    gql_inspect(&b, v);
    const char *s = arena_strndup(a, b.data, b.len);
    buf_free(&b);
    return s;
}

/* `"name":` for a key known to be a GraphQL Name (nothing to escape). */
static inline void put_name(buf *out, const char *k, size_t n)
{
    buf_reserve(out, n + 3);
    char *d = out->data + out->len;
    d[0] = '"';
    if (n <= 16) copy_upto16(d + 1, k, n);
    else memcpy(d + 1, k, n);
    d[n + 1] = '"';
    d[n + 2] = ':';
    out->len += n + 3;
}

/* JSON.stringify of a value that is neither an array nor an object
 * (JavaScript's undefined, in an array, is null too). */
static void put_leaf(buf *out, const kiln_value *v)
{
    switch (v->type) {
    case KILN_JSON_TRUE: buf_append(out, "true", 4); return;
    case KILN_JSON_FALSE: buf_append(out, "false", 5); return;
    case KILN_JSON_NUMBER: {
        kiln_str lit = js_literal(v);
        if (lit.ptr) buf_append(out, lit.ptr, lit.len);
        else if (isfinite(v->num)) gql_js_number(out, v->num);
        else buf_append(out, "null", 4);
        return;
    }
    case KILN_JSON_STRING: json_escape_short(out, v->str, v->len, 0); return;
    default: buf_append(out, "null", 4); return;
    }
}

/* Recursion only for containers: a member that is a string, the common
 * case, is written in the loop. */
void gql_stringify(buf *out, const kiln_value *v)
{
    if (v->type != KILN_JSON_ARRAY && v->type != KILN_JSON_OBJECT) { put_leaf(out, v); return; }
    bool obj = v->type == KILN_JSON_OBJECT, names = v->str == (const char *)&names_host;
    buf_putc(out, obj ? '{' : '[');
    bool first = true;
    for (const kiln_value *c = v->child; c; c = c->next) {
        if (obj && gql_v_is_undefined(c)) continue;
        if (!first) buf_putc(out, ',');
        first = false;
        if (names) put_name(out, c->key, c->key_len);
        else if (obj) json_escape_short(out, c->key, c->key_len, ':');
        if (c->type == KILN_JSON_STRING) json_escape_short(out, c->str, c->len, 0);
        else if (c->type == KILN_JSON_OBJECT || c->type == KILN_JSON_ARRAY) gql_stringify(out, c);
        else put_leaf(out, c);
    }
    buf_putc(out, obj ? '}' : ']');
}
