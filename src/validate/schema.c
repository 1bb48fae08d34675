/*
 * schema.c -- Kiln's declarative validation: walks a kiln_rule schema and a
 * JSON value together and reports what Joi 17/18 would report, message for
 * message, in the same order.
 *
 * Joi's algorithm for one value against one rule (lib/validator.js), which
 * check() below follows step by step:
 *   1. conversion: a string becomes a number (NUMBER, INTEGER) or a boolean
 *      (BOOLEAN) when it reads as one; an inexact number is an error here;
 *   2. presence: an absent value is an error if required, else fine;
 *   3. allowed values: "" with .allow_empty passes at once, so does a value
 *      of .one_of; another value is an error ("must be one of [...]");
 *   4. the type ("must be a string" ...); a type error ends the checks of
 *      this value; an object's keys are part of this step: schema keys in
 *      schema order, then unknown keys in JavaScript's key order;
 *   5. the rules, in kiln_rule field order (string: min, max, pattern,
 *      email; integer: integer, min, max; array: items, min, max).
 * With abortEarly (all = false) the first error ends everything.
 *
 * Owns: nothing beyond a call; every result lives in the caller's arena.
 * Must never: allocate outside the caller's arena (the regex cache compiles
 * each pattern once, at schema_check() time), recurse deeper than the schema
 * (the value's own depth does not matter), or trust a schema that
 * schema_check() did not pass (a bad regex panics).
 */
#include "validate/schema.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- the walk's state --------------------------------------------------- */

typedef struct seg {      /* one step of the path: a key or an index */
    const char *key;      /* NULL for an index                        */
    size_t len;
    size_t index;
} seg;

typedef struct walk {
    arena *a;
    bool all;             /* every error, or stop at the first        */
    bool stop;
    schema_error *errs;
    size_t n, cap;
    int depth;
    seg path[SCHEMA_MAX_DEPTH + 2];
} walk;

/* A value as Joi sees it, after conversion. */
typedef enum { V_UNDEF, V_NULL, V_BOOL, V_NUM, V_STR, V_OBJ, V_ARR } vkind;
typedef struct val {
    vkind k;
    bool b;
    double num;
    const char *s;
    size_t len;
    const kiln_value *node;
} val;

/* Joi's errors.path(): keys joined by '.', indexes as [i]. */
static char *path_string(arena *a, const seg *path, int depth)
{
    size_t n = 0;
    for (int i = 0; i < depth; i++) n += path[i].key ? path[i].len + 1 : 22;
    char *s = arena_alloc(a, n + 1), *o = s;
    for (int i = 0; i < depth; i++) {
        if (path[i].key) {
            if (o > s) *o++ = '.';
            memcpy(o, path[i].key, path[i].len);
            o += path[i].len;
        } else {
            o += sprintf(o, "[%zu]", path[i].index);
        }
    }
    *o = '\0';
    return s;
}

/* Records an error: type is Joi's code, the message is "\"label\" " + text. */
static void report(walk *w, const char *type, const char *fmt, ...) __attribute__((format(printf, 3, 4), nonnull(3)));
static void report(walk *w, const char *type, const char *fmt, ...)
{
    char *path = path_string(w->a, w->path, w->depth);
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    char probe[1];
    int n = vsnprintf(probe, sizeof probe, fmt, ap);
    va_end(ap);
    KILN_ASSERT(n >= 0);
    const char *label = *path ? path : "value";
    size_t ll = strlen(label);
    char *msg = arena_alloc(w->a, ll + 3 + (size_t)n + 1);
    msg[0] = '"';
    memcpy(msg + 1, label, ll);
    memcpy(msg + 1 + ll, "\" ", 2);
    vsnprintf(msg + ll + 3, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    ARENA_GROW(w->a, w->errs, w->n, w->cap, 4);
    w->errs[w->n++] = (schema_error){ .message = msg, .path = path, .type = type };
    if (!w->all) w->stop = true;
}

static void push_key(walk *w, const char *key, size_t len)
{
    KILN_ASSERT(w->depth < (int)ARRAY_LEN(w->path));
    w->path[w->depth++] = (seg){ .key = key, .len = len };
}

static void push_index(walk *w, size_t i)
{
    KILN_ASSERT(w->depth < (int)ARRAY_LEN(w->path));
    w->path[w->depth++] = (seg){ .index = i };
}

static val val_of(const kiln_value *v)
{
    val x = { .k = V_UNDEF, .node = v };
    if (!v) return x;
    switch (v->type) {
    case KILN_JSON_NULL: x.k = V_NULL; break;
    case KILN_JSON_FALSE: x.k = V_BOOL; x.b = false; break;
    case KILN_JSON_TRUE: x.k = V_BOOL; x.b = true; break;
    case KILN_JSON_NUMBER: x.k = V_NUM; x.num = v->num; break;
    case KILN_JSON_STRING: x.k = V_STR; x.s = v->str; x.len = v->len; break;
    case KILN_JSON_ARRAY: x.k = V_ARR; break;
    case KILN_JSON_OBJECT: x.k = V_OBJ; break;
    }
    return x;
}

static bool numeric_type(kiln_type t) { return t == KILN_T_NUMBER || t == KILN_T_INTEGER; }

/* ---- allowed values (.one_of, .allow_empty) ---------------------------- */

static bool one_of_match(const kiln_rule *r, const val *v)
{
    for (const char *const *o = r->one_of; *o; o++) {
        if (numeric_type(r->type)) {
            double d;
            if (v->k == V_NUM && schema_parse_number(*o, &d) && d == v->num) return true;
        } else if (v->k == V_STR && strlen(*o) == v->len && memcmp(*o, v->s, v->len) == 0) {
            return true;
        }
    }
    return false;
}

/* Joi's display of its set of valid values: "admin, user" (each value once,
 * in order; the '' of .allow_empty last). *count: how many that is. */
static char *one_of_list(arena *a, const kiln_rule *r, size_t *count)
{
    size_t cap = 0;
    for (const char *const *o = r->one_of; *o; o++) cap += strlen(*o) + 34;
    char *s = arena_alloc(a, cap + 3), *out = s;
    bool has_empty = false;
    size_t shown = 0;
    for (const char *const *o = r->one_of; *o; o++) {
        char text[40];
        const char *t = *o;
        double d = 0;
        bool dup = false;
        if (numeric_type(r->type)) {
            schema_parse_number(*o, &d);
            schema_js_number(d == 0 ? 0 : d, text, sizeof text);
            t = text;
        }
        for (const char *const *p = r->one_of; p < o && !dup; p++) {
            double e;
            dup = numeric_type(r->type) ? schema_parse_number(*p, &e) && e == d : strcmp(*p, *o) == 0;
        }
        if (dup) continue;
        if (!numeric_type(r->type) && !*t) has_empty = true;
        if (shown++) { *out++ = ','; *out++ = ' '; }
        size_t l = strlen(t);
        memcpy(out, t, l);
        out += l;
    }
    if (r->allow_empty && !has_empty && shown++) { *out++ = ','; *out++ = ' '; }
    *count = shown;
    *out = '\0';
    return s;
}

/* ---- the walk ------------------------------------------------------------ */

static void check(walk *w, const kiln_rule *r, const kiln_value *node, bool root_unknown);

static bool is_end(const kiln_rule *f) { return f->name == NULL; }

static const kiln_value *member(const kiln_value *obj, const char *name)
{
    size_t n = strlen(name);
    const kiln_value *found = NULL;
    for (const kiln_value *m = obj->child; m; m = m->next)   /* the last one wins */
        if (m->key_len == n && memcmp(m->key, name, n) == 0) found = m;
    return found;
}

static bool in_fields(const kiln_rule *fields, const char *key, size_t len)
{
    for (const kiln_rule *f = fields; !is_end(f); f++)
        if (strlen(f->name) == len && memcmp(f->name, key, len) == 0) return true;
    return false;
}

/* An array index in JavaScript's sense: "0" or [1-9][0-9]* below 2^32 - 1.
 * Object.keys() lists those first, in numeric order. */
static bool array_index(const char *k, size_t n, uint64_t *out)
{
    if (n == 0 || n > 10 || (n > 1 && k[0] == '0')) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (k[i] < '0' || k[i] > '9') return false;
        v = v * 10 + (uint64_t)(k[i] - '0');
    }
    *out = v;
    return v < 0xFFFFFFFFull;
}

typedef struct unk {
    const kiln_value *m;
    size_t pos;           /* position among the members       */
    uint64_t index;       /* value when an array index         */
    bool is_index;
} unk;

static int key_cmp(const kiln_value *a, const kiln_value *b)
{
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c) return c;
    return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

static int by_key_then_pos(const void *x, const void *y)
{
    const unk *a = x, *b = y;
    int c = key_cmp(a->m, b->m);
    if (c) return c;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int js_key_order(const void *x, const void *y)
{
    const unk *a = x, *b = y;
    if (a->is_index != b->is_index) return a->is_index ? -1 : 1;
    if (a->is_index) return a->index < b->index ? -1 : a->index > b->index;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Keys the schema does not name, each once, in the order Object.keys()
 * would list them (a repeated key sits where it first appeared). */
static void unknown_keys(walk *w, const kiln_rule *fields, const kiln_value *obj)
{
    size_t n = 0, pos = 0;
    for (const kiln_value *m = obj->child; m; m = m->next)
        if (!in_fields(fields, m->key, m->key_len)) n++;
    if (n == 0) return;
    unk *u = arena_alloc(w->a, n * sizeof *u);
    n = 0;
    for (const kiln_value *m = obj->child; m; m = m->next, pos++) {
        if (in_fields(fields, m->key, m->key_len)) continue;
        u[n] = (unk){ .m = m, .pos = pos };
        u[n].is_index = array_index(m->key, m->key_len, &u[n].index);
        n++;
    }
    qsort(u, n, sizeof *u, by_key_then_pos);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || key_cmp(u[k - 1].m, u[i].m) != 0) u[k++] = u[i];   /* first wins */
    qsort(u, k, sizeof *u, js_key_order);
    for (size_t i = 0; i < k && !w->stop; i++) {
        push_key(w, u[i].m->key, u[i].m->key_len);
        report(w, "object.unknown", "is not allowed");
        w->depth--;
    }
}

static void check_object(walk *w, const kiln_rule *r, const kiln_value *obj, bool root_unknown)
{
    if (!r->fields) return;                       /* Joi.object(): any keys */
    const kiln_rule *f = r->fields;
    for (; !is_end(f); f++) {
        push_key(w, f->name, strlen(f->name));
        check(w, f, member(obj, f->name), false);
        w->depth--;
        if (w->stop) return;
    }
    if (!r->allow_unknown && !f->allow_unknown && !root_unknown)
        unknown_keys(w, r->fields, obj);
}

static void check_string(walk *w, const kiln_rule *r, const val *v)
{
    if (v->k != V_STR) { report(w, "string.base", "must be a string"); return; }
    if (v->len == 0 && !(r->has_min && r->min == 0)) {
        report(w, "string.empty", "is not allowed to be empty");
        return;
    }
    size_t units = schema_utf16_len(v->s, v->len);
    if (r->has_min && (double)units < r->min) {
        report(w, "string.min", "length must be at least %.0f characters long", r->min);
        if (w->stop) return;
    }
    if (r->has_max && (double)units > r->max) {
        report(w, "string.max", "length must be less than or equal to %.0f characters long", r->max);
        if (w->stop) return;
    }
    if (r->pattern && !schema_regex_test(r->pattern, v->s, v->len)) {
        report(w, "string.pattern.base", "with value \"%.*s\" fails to match the required pattern: %s",
               (int)v->len, v->s, schema_regex_display(w->a, r->pattern));
        if (w->stop) return;
    }
    if (r->email && !schema_is_email(v->s, v->len))
        report(w, "string.email", "must be a valid email");
}

static void check_number(walk *w, const kiln_rule *r, const val *v)
{
    char lim[40];
    if (v->k == V_NUM && isinf(v->num)) { report(w, "number.infinity", "cannot be infinity"); return; }
    if (v->k != V_NUM) { report(w, "number.base", "must be a number"); return; }
    if (fabs(v->num) > 9007199254740991.0) { report(w, "number.unsafe", "must be a safe number"); return; }
    if (r->type == KILN_T_INTEGER && trunc(v->num) != v->num) {
        report(w, "number.integer", "must be an integer");
        if (w->stop) return;
    }
    if (r->has_min && !(v->num >= r->min)) {
        schema_js_number(r->min, lim, sizeof lim);
        report(w, "number.min", "must be greater than or equal to %s", lim);
        if (w->stop) return;
    }
    if (r->has_max && !(v->num <= r->max)) {
        schema_js_number(r->max, lim, sizeof lim);
        report(w, "number.max", "must be less than or equal to %s", lim);
    }
}

static void check_array(walk *w, const kiln_rule *r, const kiln_value *arr)
{
    if (r->items) {
        size_t i = 0;
        for (const kiln_value *e = arr->child; e; e = e->next, i++) {
            push_index(w, i);
            check(w, r->items, e, false);
            w->depth--;
            if (w->stop) return;
        }
    }
    if (r->has_min && (double)arr->len < r->min) {
        report(w, "array.min", "must contain at least %.0f items", r->min);
        if (w->stop) return;
    }
    if (r->has_max && (double)arr->len > r->max)
        report(w, "array.max", "must contain less than or equal to %.0f items", r->max);
}

/* One value (node NULL = absent) against one rule: Joi's steps 1 to 5. */
static void check(walk *w, const kiln_rule *r, const kiln_value *node, bool root_unknown)
{
    val v = val_of(node);
    /* 1. conversion */
    if (numeric_type(r->type) && v.k == V_STR) {
        double d;
        int rc = schema_coerce_number(w->a, v.s, v.len, &d);
        if (rc < 0) { report(w, "number.unsafe", "must be a safe number"); return; }
        if (rc > 0) { v.k = V_NUM; v.num = d; }
    } else if (r->type == KILN_T_BOOLEAN && v.k == V_STR) {
        bool b;
        if (schema_coerce_bool(v.s, v.len, &b)) { v.k = V_BOOL; v.b = b; }
    }
    /* 2. presence */
    if (v.k == V_UNDEF) {
        if (r->required) report(w, "any.required", "is required");
        return;
    }
    /* 3. allowed values */
    if (r->allow_empty && v.k == V_STR && v.len == 0) return;
    if (r->one_of) {
        if (one_of_match(r, &v)) return;
        size_t count;
        const char *list = one_of_list(w->a, r, &count);
        /* Joi: "must be {if(#valids.length == 1, "", "one of ")}{{#valids}}" */
        report(w, "any.only", "must be %s[%s]", count == 1 ? "" : "one of ", list);
        if (w->stop) return;
    }
    /* 4. the type, 5. the rules */
    switch (r->type) {
    case KILN_T_ANY:
        break;
    case KILN_T_STRING:
        check_string(w, r, &v);
        break;
    case KILN_T_INTEGER:
    case KILN_T_NUMBER:
        check_number(w, r, &v);
        break;
    case KILN_T_BOOLEAN:
        if (v.k != V_BOOL) report(w, "boolean.base", "must be a boolean");
        break;
    case KILN_T_OBJECT:
        if (v.k != V_OBJ) report(w, "object.base", "must be of type object");
        else check_object(w, r, v.node, root_unknown);
        break;
    case KILN_T_ARRAY:
        if (v.k != V_ARR) report(w, "array.base", "must be an array");
        else check_array(w, r, v.node);
        break;
    default:
        KILN_PANIC("validation: rule of unknown type %d (run schema_check at start-up)", (int)r->type);
    }
}

static size_t run(arena *a, const kiln_rule *root, const kiln_value *v, bool all,
                  bool root_unknown, schema_error **errs)
{
    KILN_ASSERT(root);
    walk w = { .a = a, .all = all };
    const kiln_rule top = { .type = KILN_T_OBJECT, .required = true, .fields = root };
    check(&w, &top, v, root_unknown);
    if (errs) *errs = w.errs;
    return w.n;
}

size_t schema_validate(arena *a, const kiln_rule *root, const kiln_value *v, bool all,
                       schema_error **errs)
{
    return run(a, root, v, all, false, errs);
}

size_t schema_validate_value(arena *a, const kiln_rule *rule, const kiln_value *v, bool all,
                             schema_error **errs)
{
    KILN_ASSERT(rule);
    walk w = { .a = a, .all = all };
    check(&w, rule, v, false);
    if (errs) *errs = w.errs;
    return w.n;
}

size_t schema_validate_query(arena *a, const kiln_rule *root,
                             const char *(*get)(void *ctx, const char *name), void *ctx,
                             bool all, schema_error **errs)
{
    /* The query as a JSON object of strings: one member per field present. */
    kiln_value *obj = arena_calloc(a, sizeof *obj), **tail = &obj->child;
    obj->type = KILN_JSON_OBJECT;
    for (const kiln_rule *f = root; !is_end(f); f++) {
        const char *s = get(ctx, f->name);
        if (!s) continue;
        kiln_value *m = arena_calloc(a, sizeof *m);
        m->type = KILN_JSON_STRING;
        m->str = s;
        m->len = strlen(s);
        m->key = f->name;
        m->key_len = strlen(f->name);
        *tail = m;
        tail = &m->next;
        obj->len++;
    }
    return run(a, root, obj, all, true, errs);
}

/* ---- checking a schema -------------------------------------------------- */

static const char *type_name(kiln_type t)
{
    static const char *const names[] = { "ANY", "STRING", "INTEGER", "NUMBER", "BOOLEAN", "OBJECT", "ARRAY" };
    return (unsigned)t < ARRAY_LEN(names) ? names[t] : "?";
}

/* label: the field's path ("author.name", "tags[]"). NULL when sound. */
static const char *check_rule(arena *a, const kiln_rule *r, const char *label, int depth)
{
#define BAD(...) return arena_printf(a, "schema field \"%s\": %s", label, arena_printf(a, __VA_ARGS__))
    kiln_type t = r->type;
    if (depth > SCHEMA_MAX_DEPTH) BAD("nested deeper than %d levels (does the schema contain itself?)", SCHEMA_MAX_DEPTH);
    if ((unsigned)t > KILN_T_ARRAY) BAD("unknown type %d", (int)t);
    bool counted = t == KILN_T_STRING || t == KILN_T_ARRAY;
    if ((r->has_min || r->has_max) && !counted && !numeric_type(t))
        BAD("min/max do not apply to %s", type_name(t));
    for (int i = 0; i < 2; i++) {
        bool has = i ? r->has_max : r->has_min;
        double x = i ? r->max : r->min;
        const char *what = i ? "max" : "min";
        if (!has) continue;
        if (!isfinite(x)) BAD("%s is not a finite number", what);
        if (counted && (x < 0 || x != floor(x) || x > 9007199254740991.0))
            BAD("%s (%g) must be a whole number >= 0 for %s", what, x, type_name(t));
    }
    if (r->has_min && r->has_max && r->min > r->max) BAD("min (%g) is greater than max (%g)", r->min, r->max);
    if (r->pattern) {
        const char *err;
        if (t != KILN_T_STRING) BAD("pattern applies to STRING only");
        if ((err = schema_regex_check(a, r->pattern))) BAD("pattern /%s/: %s", r->pattern, err);
    }
    if (r->email && t != KILN_T_STRING) BAD("email applies to STRING only");
    if (r->one_of) {
        if (t != KILN_T_STRING && t != KILN_T_ANY && !numeric_type(t)) BAD("one_of does not apply to %s", type_name(t));
        if (!r->one_of[0]) BAD("one_of is empty");
        for (const char *const *o = r->one_of; *o; o++) {
            double d;
            if (numeric_type(t) && !schema_parse_number(*o, &d)) BAD("one_of value \"%s\" is not a number", *o);
        }
    }
    if (r->fields && t != KILN_T_OBJECT) BAD("fields apply to OBJECT only");
    if (r->allow_unknown && t != KILN_T_OBJECT) BAD("allow_unknown applies to OBJECT only");
    if (r->items && t != KILN_T_ARRAY) BAD("items apply to ARRAY only");
    if (r->items) {
        const char *sub = arena_printf(a, "%s[]", label);
        if (r->items->required)
            return arena_printf(a, "schema field \"%s\": required has no meaning for array items "
                              "(Joi's required items mean 'must contain one')", sub);
        const char *e = check_rule(a, r->items, sub, depth + 1);
        if (e) return e;
    }
    if (r->fields) {
        for (const kiln_rule *f = r->fields; !is_end(f); f++) {
            const char *sub = *label ? arena_printf(a, "%s.%s", label, f->name) : f->name;
            for (const kiln_rule *g = r->fields; g < f; g++)
                if (strcmp(g->name, f->name) == 0)
                    return arena_printf(a, "schema field \"%s\": the key appears twice", sub);
            const char *e = check_rule(a, f, sub, depth + 1);
            if (e) return e;
        }
    }
    return NULL;
#undef BAD
}

const char *schema_check(arena *a, const kiln_rule *root)
{
    if (!root) return "schema: NULL field list";
    const kiln_rule top = { .type = KILN_T_OBJECT, .fields = root };
    return check_rule(a, &top, "", 0);
}
