/*
 * schema.c -- kiln_rule trees (Joi-style schemas, kiln.h) as JSON Schema, the
 * dialect of OpenAPI 3.1, and example values that the validator accepts.
 *
 * The mapping says what the validator (src/validate) enforces, no more:
 *   STRING   type string; minLength 1 unless .allow_empty or KILN_MIN (Joi
 *            refuses "" by default); maxLength; pattern (searched for, as
 *            JSON Schema's pattern is: both are ECMAScript-style); format
 *            email; enum for .one_of (plus "" with .allow_empty)
 *   INTEGER  type integer, minimum/maximum; NUMBER type number
 *   BOOLEAN  type boolean; ANY no type (enum of strings with .one_of)
 *   OBJECT   type object, properties, required, additionalProperties false
 *            unless unknown keys are allowed; no field list: any object
 *   ARRAY    type array, items, minItems/maxItems
 * What JSON Schema cannot say exactly is left looser, never stricter: Joi's
 * conversions (a numeric string passes an integer field) are not
 * advertised, and lengths are counted by Kiln in UTF-16 units (JSON Schema
 * counts code points: they differ only past U+FFFF).
 *
 * Examples are built from the rules (the first allowed value, a length
 * within bounds, a pattern's first matching candidate ...) and then run
 * through schema_validate(): only an example the server accepts is offered.
 *
 * Owns: nothing. Must never: emit a constraint the validator does not
 * enforce (a client would refuse valid data), or an unchecked example.
 */
#include "openapi/openapi.h"
#include "validate/schema.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define KEY(w, k) jw_key((w), (k), sizeof(k) - 1)

static void str(jw_state *w, const char *s) { jw_string(w, s, strlen(s)); }

/* A .one_of entry of a numeric rule: a JSON number literal (checked by
 * schema_check), written as it is. */
static void enum_values(jw_state *w, const kiln_rule *r)
{
    KEY(w, "enum");
    jw_begin_array(w);
    for (const char *const *o = r->one_of; *o; o++) {
        if (r->type == KILN_T_INTEGER || r->type == KILN_T_NUMBER) jw_raw(w, *o, strlen(*o));
        else str(w, *o);
    }
    if (r->allow_empty) str(w, "");
    jw_end(w);
}

static void string_rules(jw_state *w, const kiln_rule *r)
{
    if (r->has_min && r->min > 0) { KEY(w, "minLength"); jw_double(w, r->min); }
    else if (!r->has_min && !r->allow_empty) { KEY(w, "minLength"); jw_int(w, 1); }
    if (r->has_max) { KEY(w, "maxLength"); jw_double(w, r->max); }
    if (r->pattern) { KEY(w, "pattern"); str(w, r->pattern); }
    if (r->email) { KEY(w, "format"); str(w, "email"); }
}

static bool fields_allow_unknown(const kiln_rule *fields)
{
    const kiln_rule *f = fields;
    while (f->name) f++;
    return f->allow_unknown;
}

static void object_body(jw_state *w, const kiln_rule *fields, bool allow_unknown)
{
    KEY(w, "type");
    str(w, "object");
    if (!fields) return;                      /* Joi.object(): any keys */
    KEY(w, "properties");
    jw_begin_object(w);
    for (const kiln_rule *f = fields; f->name; f++) {
        jw_key(w, f->name, strlen(f->name));
        openapi_rule_schema(w, f);
    }
    jw_end(w);
    bool any_required = false;
    for (const kiln_rule *f = fields; f->name; f++) any_required |= f->required;
    if (any_required) {
        KEY(w, "required");
        jw_begin_array(w);
        for (const kiln_rule *f = fields; f->name; f++)
            if (f->required) str(w, f->name);
        jw_end(w);
    }
    if (!allow_unknown && !fields_allow_unknown(fields)) {
        KEY(w, "additionalProperties");
        jw_bool(w, false);
    }
}

void openapi_rule_schema(jw_state *w, const kiln_rule *r)
{
    /* .allow_empty with a minimum length: "" or a long enough string. */
    bool empty_or = r->type == KILN_T_STRING && r->allow_empty && r->has_min && r->min > 0 && !r->one_of;
    jw_begin_object(w);
    if (empty_or) {
        KEY(w, "anyOf");
        jw_begin_array(w);
        jw_begin_object(w);
        KEY(w, "const");
        str(w, "");
        jw_end(w);
        jw_begin_object(w);
    }
    switch (r->type) {
    case KILN_T_ANY:
        if (r->one_of) enum_values(w, r);     /* compared as text */
        break;
    case KILN_T_STRING:
        KEY(w, "type");
        str(w, "string");
        if (r->one_of) enum_values(w, r);     /* an allowed value skips the rules */
        else string_rules(w, r);
        break;
    case KILN_T_INTEGER:
    case KILN_T_NUMBER:
        KEY(w, "type");
        str(w, r->type == KILN_T_INTEGER ? "integer" : "number");
        if (r->one_of) { enum_values(w, r); break; }
        if (r->has_min) { KEY(w, "minimum"); jw_double(w, r->min); }
        if (r->has_max) { KEY(w, "maximum"); jw_double(w, r->max); }
        break;
    case KILN_T_BOOLEAN:
        KEY(w, "type");
        str(w, "boolean");
        break;
    case KILN_T_OBJECT:
        object_body(w, r->fields, r->allow_unknown);
        break;
    case KILN_T_ARRAY:
        KEY(w, "type");
        str(w, "array");
        if (r->items) { KEY(w, "items"); openapi_rule_schema(w, r->items); }
        if (r->has_min) { KEY(w, "minItems"); jw_double(w, r->min); }
        if (r->has_max) { KEY(w, "maxItems"); jw_double(w, r->max); }
        break;
    }
    if (empty_or) { jw_end(w); jw_end(w); }
    jw_end(w);
}

void openapi_fields_schema(jw_state *w, const kiln_rule *fields)
{
    jw_begin_object(w);
    object_body(w, fields, false);
    jw_end(w);
}

/* ---- examples --------------------------------------------------------- */

/* Strings a pattern is tried against, in order, each also padded or cut to
 * the rule's length bounds. */
static const char *const candidates[] = {
    "example", "abc", "Example", "ABC", "a", "A", "x", "0", "1", "42", "123", "12345",
    "a1", "A1", "abc123", "hello-world", "hello_world", "2024-01-01", "12:00", "2024-01-01T12:00:00Z",
    "user@example.com", "https://example.com", "+12345678901", "#ffffff", "ff",
    "00000000-0000-0000-0000-000000000000", "Aa1!aaaa",
};

static size_t clamp_len(const kiln_rule *r, size_t want)
{
    size_t lo = r->has_min ? (size_t)r->min : 1, hi = r->has_max ? (size_t)r->max : (size_t)-1;
    if (want < lo) want = lo;
    if (want > hi) want = hi;
    return want;
}

/* c, cut or padded (repeating its last character) to fit the length rules. */
static char *fit(arena *a, const kiln_rule *r, const char *c)
{
    size_t n = strlen(c), want = clamp_len(r, n);
    if (want > 4096) return NULL;
    char *s = arena_alloc(a, want + 1);
    for (size_t i = 0; i < want; i++) s[i] = i < n ? c[i] : (n ? c[n - 1] : 'x');
    s[want] = '\0';
    return s;
}

/* A string a simple pattern matches, built by walking it: literals as they
 * are, \\d -> 0, \\w -> a, a class -> its first character, a group's first
 * alternative, each atom repeated its least count (at least once for +).
 * Anything it gets wrong is caught by the regex test that follows. */
typedef struct gen { const char *p; buf *out; int depth; } gen;

static void gen_seq(gen *g);

static void gen_atom(gen *g, buf *atom)
{
    const char *p = g->p;
    if (*p == '(') {
        p += p[1] == '?' && p[2] == ':' ? 3 : 1;
        gen sub = { p, atom, g->depth + 1 };
        if (sub.depth < 16) gen_seq(&sub);
        /* skip the other alternatives up to the matching ')' */
        int level = 0;
        for (p = sub.p; *p; p++) {
            if (*p == '\\' && p[1]) { p++; continue; }
            if (*p == '(') level++;
            else if (*p == ')' && level-- == 0) { p++; break; }
        }
    } else if (*p == '[') {
        p++;
        bool neg = *p == '^';
        if (neg) p++;
        char c = neg ? 'x' : 0;
        for (bool first = true; *p && (*p != ']' || first); p++, first = false) {
            char here = *p;
            if (*p == '\\' && p[1]) { p++; here = *p == 'd' ? '0' : *p == 'w' ? 'a' : *p == 's' ? ' ' : *p; }
            if (!c) c = here;
        }
        if (*p == ']') p++;
        buf_putc(atom, c ? c : 'a');
    } else if (*p == '\\' && p[1]) {
        char e = p[1];
        buf_putc(atom, e == 'd' ? '0' : e == 'w' || e == 'D' || e == 'S' ? 'a' : e == 's' ? ' ' : e == 'W' ? '-' : e);
        p += 2;
    } else {
        buf_putc(atom, *p == '.' ? 'a' : *p);
        p++;
    }
    g->p = p;
}

static void gen_seq(gen *g)
{
    while (*g->p && *g->p != '|' && *g->p != ')' && g->out->len < 256) {
        if (*g->p == '^' || *g->p == '$') { g->p++; continue; }
        buf atom;
        buf_init(&atom, 16);
        gen_atom(g, &atom);
        long times = 1;
        const char *p = g->p;
        if (*p == '*' || *p == '?') { times = 0; p++; }
        else if (*p == '+') p++;
        else if (*p == '{') {
            char *end;
            times = strtol(p + 1, &end, 10);
            p = strchr(p, '}') ? strchr(p, '}') + 1 : p + 1;
            if (times < 0 || times > 64) times = 1;
        }
        if (*p == '?') p++;                  /* lazy */
        g->p = p;
        for (long i = 0; i < times; i++) buf_append(g->out, atom.data, atom.len);
        buf_free(&atom);
    }
}

static const char *pattern_example(arena *a, const char *pattern)
{
    buf out;
    buf_init(&out, 64);
    gen g = { pattern, &out, 0 };
    gen_seq(&g);
    const char *s = arena_strndup(a, out.data ? out.data : "", out.len);
    buf_free(&out);
    return s;
}

static const char *string_example(arena *a, const kiln_rule *r)
{
    if (r->email) return "user@example.com";
    if (!r->pattern) return fit(a, r, "example");
    const char *built = pattern_example(a, r->pattern);
    for (size_t i = 0; i <= ARRAY_LEN(candidates); i++) {
        const char *c = i == 0 ? built : candidates[i - 1];
        const char *tries[2] = { c, fit(a, r, c) };
        for (int k = 0; k < 2; k++) {
            const char *s = tries[k];
            if (!s) continue;
            size_t n = strlen(s);
            bool len_ok = (!r->has_min || n >= r->min) && (!r->has_max || n <= r->max) && (n > 0 || r->allow_empty);
            if (len_ok && schema_regex_test(r->pattern, s, n)) return s;
        }
    }
    return NULL;
}

static bool example_of(arena *a, jw_state *w, const kiln_rule *r, int depth);

static bool fields_example(arena *a, jw_state *w, const kiln_rule *fields, int depth)
{
    jw_begin_object(w);
    for (const kiln_rule *f = fields; f && f->name; f++) {
        jw_key(w, f->name, strlen(f->name));
        if (!example_of(a, w, f, depth + 1)) return false;
    }
    jw_end(w);
    return true;
}

static bool example_of(arena *a, jw_state *w, const kiln_rule *r, int depth)
{
    if (depth > SCHEMA_MAX_DEPTH) return false;
    if (r->one_of) {
        if (r->type == KILN_T_INTEGER || r->type == KILN_T_NUMBER) jw_raw(w, r->one_of[0], strlen(r->one_of[0]));
        else str(w, r->one_of[0]);
        return true;
    }
    switch (r->type) {
    case KILN_T_ANY:
        str(w, "example");
        return true;
    case KILN_T_STRING: {
        const char *s = string_example(a, r);
        if (!s) return false;
        str(w, s);
        return true;
    }
    case KILN_T_INTEGER:
    case KILN_T_NUMBER: {
        double v = 1;
        if (r->has_min && v < r->min) v = r->type == KILN_T_INTEGER ? ceil(r->min) : r->min;
        if (r->has_max && v > r->max) v = r->type == KILN_T_INTEGER ? floor(r->max) : r->max;
        jw_double(w, v);
        return true;
    }
    case KILN_T_BOOLEAN:
        jw_bool(w, true);
        return true;
    case KILN_T_OBJECT:
        return fields_example(a, w, r->fields, depth);
    case KILN_T_ARRAY: {
        double n = r->has_min ? r->min : 1;
        if (r->has_max && n > r->max) n = r->max;
        if (n > 64) return false;
        jw_begin_array(w);
        for (int i = 0; r->items && i < (int)n; i++)
            if (!example_of(a, w, r->items, depth + 1)) return false;
        jw_end(w);
        return true;
    }
    }
    return false;
}

bool openapi_example(arena *a, buf *out, const kiln_rule *fields)
{
    buf tmp;
    buf_init(&tmp, 256);
    jw_state w;
    jw_init(&w, &tmp);
    bool ok = fields_example(a, &w, fields, 0);
    if (ok) {
        /* Offered only if the server's own validator accepts it. */
        const kiln_value *v = json_parse(a, tmp.data, tmp.len, NULL);
        ok = v && schema_validate(a, fields, v, false, NULL) == 0;
    }
    if (ok) buf_append(out, tmp.data, tmp.len);
    buf_free(&tmp);
    return ok;
}
