/*
 * coerce.c -- input coercion, as graphql-js 16 does it: variables
 * (getVariableValues + coerceInputValue, with its messages "Variable "$x"
 * got invalid value ...; Int cannot represent ..." and its 50-error cap),
 * literals (valueFromAST), field and directive arguments
 * (getArgumentValues), the specified scalars' parseValue/parseLiteral and
 * enums with "Did you mean the enum value ...?".
 *
 * Values are kiln_value trees in the caller's arena (see values.h).
 *
 * Owns: nothing. Must never: accept an input graphql-js rejects, or word an
 * error differently.
 */
#include "graphql/values.h"
#include "graphql/visit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define S(k) (int)(k).len, (k).ptr

/* ---- Scalars and enums: parseValue ---------------------------------------------------- */

static bool is_integer(double d) { return isfinite(d) && floor(d) == d; }

/* The enum suggestion tail: " Did you mean the enum value "A"?". */
static void enum_suggestions(arena *a, buf *b, const gql_type *t, kiln_str unknown)
{
    kiln_str *names = arena_alloc(a, sizeof(kiln_str) * (t->nvalues + 1)), *sug;
    for (uint32_t i = 0; i < t->nvalues; i++) names[i] = t->values[i].name;
    uint32_t n = gql_suggest(a, unknown, names, t->nvalues, &sug);
    gql_did_you_mean(b, "the enum value", sug, n);
}

/* parseValue of a leaf type: the value, or NULL with *msg set. */
static const kiln_value *parse_value(arena *a, const gql_type *t, const kiln_value *v, const char **msg)
{
    buf b;
    buf_init(&b, 96);
    const kiln_value *r = NULL;
    if (t->kind == GQL_TK_ENUM) {
        if (v->type != KILN_JSON_STRING) {
            const char *shown = gql_inspect_str(a, v);
            buf_printf(&b, "Enum \"%.*s\" cannot represent non-string value: %s.", S(t->name), shown);
            enum_suggestions(a, &b, t, gql_cstr(shown));
        } else {
            for (uint32_t i = 0; i < t->nvalues && !r; i++)
                if (gql_kstr_eq(t->values[i].name, (kiln_str){ v->str, v->len })) r = v;
            if (!r) {
                buf_printf(&b, "Value \"%.*s\" does not exist in \"%.*s\" enum.", (int)v->len, v->str, S(t->name));
                enum_suggestions(a, &b, t, (kiln_str){ v->str, v->len });
            }
        }
    } else if (!t->builtin) {
        r = v;                                   /* custom scalars: as given */
    } else if (t->scalar == GQL_SC_INT) {
        if (v->type != KILN_JSON_NUMBER || !is_integer(v->num))
            buf_printf(&b, "Int cannot represent non-integer value: %s", gql_inspect_str(a, v));
        else if (v->num > 2147483647.0 || v->num < -2147483648.0)
            buf_printf(&b, "Int cannot represent non 32-bit signed integer value: %s", gql_inspect_str(a, v));
        else r = gql_v_num(a, v->num);
    } else if (t->scalar == GQL_SC_FLOAT) {
        if (v->type != KILN_JSON_NUMBER || !isfinite(v->num))
            buf_printf(&b, "Float cannot represent non numeric value: %s", gql_inspect_str(a, v));
        else r = gql_v_num(a, v->num);
    } else if (t->scalar == GQL_SC_STRING) {
        if (v->type != KILN_JSON_STRING) buf_printf(&b, "String cannot represent a non string value: %s", gql_inspect_str(a, v));
        else r = v;
    } else if (t->scalar == GQL_SC_BOOLEAN) {
        if (v->type != KILN_JSON_TRUE && v->type != KILN_JSON_FALSE)
            buf_printf(&b, "Boolean cannot represent a non boolean value: %s", gql_inspect_str(a, v));
        else r = v;
    } else {                                     /* ID */
        if (v->type == KILN_JSON_STRING) r = v;
        else if (v->type == KILN_JSON_NUMBER && is_integer(v->num)) {
            buf n;
            buf_init(&n, 32);
            gql_js_number(&n, v->num);
            r = gql_v_str(a, (kiln_str){ n.data, n.len });
            buf_free(&n);
        } else buf_printf(&b, "ID cannot represent value: %s", gql_inspect_str(a, v));
    }
    if (!r) *msg = arena_strndup(a, b.data, b.len);
    buf_free(&b);
    return r;
}

/* ---- coerceInputValue -------------------------------------------------------------------- */

typedef struct pathk {
    kiln_str key;        /* a field name, or {NULL, index} for a list index */
    size_t index;
} pathk;

typedef struct coerce {
    arena *a;
    gql_errs *errs;
    const gql_node *var_def;
    kiln_str var_name;
    pathk path[64];
    int depth;
    uint32_t count;      /* errors so far                         */
    bool aborted;        /* more than 50: graphql-js stops        */
} coerce;

static void coerce_error(coerce *c, const kiln_value *invalid, int depth, const char *extra_key, const char *msg)
{
    if (c->aborted) return;
    if (c->count >= 50) {
        gql_errs_add(c->errs, NULL, 0, "Too many errors processing variables, error limit reached. Execution aborted.");
        c->aborted = true;
        return;
    }
    c->count++;
    buf b;
    buf_init(&b, 128);
    buf_printf(&b, "Variable \"$%.*s\" got invalid value ", S(c->var_name));
    gql_inspect(&b, invalid);
    if (depth > 0 || extra_key) {
        buf_printf(&b, " at \"%.*s", S(c->var_name));
        for (int i = 0; i < depth; i++) {
            if (c->path[i].key.ptr) buf_printf(&b, ".%.*s", S(c->path[i].key));
            else buf_printf(&b, "[%zu]", c->path[i].index);
        }
        if (extra_key) buf_printf(&b, ".%s", extra_key);
        buf_putc(&b, '"');
    }
    buf_printf(&b, "; %s", msg);
    buf_putc(&b, '\0');
    gql_errs_add(c->errs, &c->var_def, 1, "%s", b.data);
    buf_free(&b);
}

static const kiln_value *coerce_input(coerce *c, const kiln_value *v, const gql_tref *t);

static const kiln_value *coerce_at(coerce *c, const kiln_value *v, const gql_tref *t, pathk k)
{
    if (c->depth >= 64) return coerce_input(c, v, t);
    c->path[c->depth++] = k;
    const kiln_value *r = coerce_input(c, v, t);
    c->depth--;
    return r;
}

static const kiln_value *coerce_input(coerce *c, const kiln_value *v, const gql_tref *t)
{
    arena *a = c->a;
    if (t->kind == GQL_REF_NON_NULL) {
        if (v->type != KILN_JSON_NULL) return coerce_input(c, v, t->of);
        char msg[600];
        snprintf(msg, sizeof msg, "Expected non-nullable type \"%s\" not to be null.", gql_tref_str(a, t));
        coerce_error(c, v, c->depth, NULL, msg);
        return NULL;
    }
    if (v->type == KILN_JSON_NULL) return v;
    if (t->kind == GQL_REF_LIST) {
        kiln_value *out = gql_v_array(a), *last = NULL;
        if (v->type == KILN_JSON_ARRAY) {
            size_t i = 0;
            for (const kiln_value *it = v->child; it; it = it->next, i++) {
                const kiln_value *r = coerce_at(c, it, t->of, (pathk){ { NULL, 0 }, i });
                last = gql_v_push(a, out, last, r ? r : gql_v_null(a));
            }
            return out;
        }
        const kiln_value *r = coerce_input(c, v, t->of);
        gql_v_put(a, out, (kiln_str){ NULL, 0 }, r ? (kiln_value *)r : gql_v_null(a));
        return out;
    }
    const gql_type *nt = t->named;
    if (nt->kind == GQL_TK_INPUT_OBJECT) {
        if (v->type != KILN_JSON_OBJECT) {
            char msg[600];
            snprintf(msg, sizeof msg, "Expected type \"%.*s\" to be an object.", S(nt->name));
            coerce_error(c, v, c->depth, NULL, msg);
            return NULL;
        }
        kiln_value *out = gql_v_object(a);
        /* The keys graphql-js's result object gets, in field order: an
         * invalid field's key holds `undefined` (NULL here). */
        kiln_str *keys = arena_alloc(a, sizeof(kiln_str) * (nt->ninput_fields + 1));
        const kiln_value **vals = arena_alloc(a, sizeof(kiln_value *) * (nt->ninput_fields + 1));
        uint32_t nkeys = 0;
        for (uint32_t i = 0; i < nt->ninput_fields; i++) {
            const gql_arg *f = &nt->input_fields[i];
            const kiln_value *fv = gql_v_get(v, f->name);
            if (!fv) {
                const kiln_value *def = f->default_value ? gql_value_from_ast(a, f->default_value, f->type, NULL) : NULL;
                if (def) {
                    gql_v_put(a, out, f->name, (kiln_value *)def);
                    keys[nkeys] = f->name;
                    vals[nkeys++] = def;
                } else if (f->type->kind == GQL_REF_NON_NULL) {
                    char msg[1200];
                    snprintf(msg, sizeof msg, "Field \"%.*s\" of required type \"%s\" was not provided.", S(f->name),
                             gql_tref_str(a, f->type));
                    coerce_error(c, v, c->depth, NULL, msg);
                }
                continue;
            }
            const kiln_value *r = coerce_at(c, fv, f->type, (pathk){ f->name, 0 });
            if (r) gql_v_put(a, out, f->name, (kiln_value *)r);
            keys[nkeys] = f->name;
            vals[nkeys++] = r;
        }
        for (const kiln_value *m = v->child; m; m = m->next) {
            kiln_str key = { m->key, m->key_len };
            if (gql_type_input_field(nt, key)) continue;
            kiln_str *names = arena_alloc(a, sizeof(kiln_str) * (nt->ninput_fields + 1)), *sug;
            for (uint32_t i = 0; i < nt->ninput_fields; i++) names[i] = nt->input_fields[i].name;
            uint32_t ns = gql_suggest(a, key, names, nt->ninput_fields, &sug);
            buf b;
            buf_init(&b, 128);
            buf_printf(&b, "Field \"%.*s\" is not defined by type \"%.*s\".", S(key), S(nt->name));
            gql_did_you_mean(&b, NULL, sug, ns);
            buf_putc(&b, '\0');
            coerce_error(c, v, c->depth, NULL, b.data);
            buf_free(&b);
        }
        if (nt->one_of) {
            if (nkeys != 1) {
                char msg[600];
                snprintf(msg, sizeof msg, "Exactly one key must be specified for OneOf type \"%.*s\".", S(nt->name));
                coerce_error(c, v, c->depth, NULL, msg);
            }
            if (nkeys > 0 && vals[0] && vals[0]->type == KILN_JSON_NULL) {
                char msg[600], key[300];
                snprintf(msg, sizeof msg, "Field \"%.*s\" must be non-null.", S(keys[0]));
                snprintf(key, sizeof key, "%.*s", S(keys[0]));
                coerce_error(c, vals[0], c->depth, key, msg);
            }
        }
        return out;
    }
    const char *msg = NULL;
    const kiln_value *r = parse_value(a, nt, v, &msg);
    if (!r) coerce_error(c, v, c->depth, NULL, msg);
    return r;
}

kiln_value *gql_coerce_variables(arena *a, const gql_schema *s, const gql_node *op, const kiln_value *inputs,
                                 gql_errs *errs)
{
    uint32_t before = errs->count;
    kiln_value *out = gql_v_object(a);
    coerce c = { .a = a, .errs = errs };
    for (const gql_node *d = op->vars.first; d && !c.aborted; d = d->next) {
        kiln_str name = d->value->name;
        /* typeFromAST; an unknown or output type cannot be an input. */
        gql_tref *t = NULL;
        const gql_node *tn = d->type;
        gql_tref **slot = &t;
        bool ok = true;
        while (tn) {
            gql_tref *r = arena_calloc(a, sizeof *r);
            *slot = r;
            if (tn->kind == GQL_NAMED_TYPE) {
                r->kind = GQL_REF_NAMED;
                r->named = gql_schema_type(s, tn->name);
                ok = r->named && (r->named->kind == GQL_TK_SCALAR || r->named->kind == GQL_TK_ENUM
                                  || r->named->kind == GQL_TK_INPUT_OBJECT);
                break;
            }
            r->kind = tn->kind == GQL_LIST_TYPE ? GQL_REF_LIST : GQL_REF_NON_NULL;
            slot = (gql_tref **)&r->of;
            tn = tn->type;
        }
        if (!ok) {
            buf tb;
            buf_init(&tb, 32);
            gql_print(&tb, d->type);
            buf_putc(&tb, '\0');
            const gql_node *at = d->type;
            if (c.count++ >= 50) { gql_errs_add(errs, NULL, 0, "Too many errors processing variables, error limit reached. Execution aborted."); break; }
            gql_errs_add(errs, &at, 1, "Variable \"$%.*s\" expected value of type \"%s\" which cannot be used as an input type.",
                         S(name), tb.data);
            buf_free(&tb);
            continue;
        }
        const kiln_value *given = gql_v_get(inputs, name);
        if (!given) {
            if (d->default_value) {
                const kiln_value *dv = gql_value_from_ast(a, d->default_value, t, NULL);
                gql_v_put(a, out, name, dv ? (kiln_value *)dv : gql_v_undefined(a));
            } else if (t->kind == GQL_REF_NON_NULL) {
                if (c.count++ >= 50) { gql_errs_add(errs, NULL, 0, "Too many errors processing variables, error limit reached. Execution aborted."); break; }
                gql_errs_add(errs, &d, 1, "Variable \"$%.*s\" of required type \"%s\" was not provided.", S(name), gql_tref_str(a, t));
            }
            continue;
        }
        if (given->type == KILN_JSON_NULL && t->kind == GQL_REF_NON_NULL) {
            if (c.count++ >= 50) { gql_errs_add(errs, NULL, 0, "Too many errors processing variables, error limit reached. Execution aborted."); break; }
            gql_errs_add(errs, &d, 1, "Variable \"$%.*s\" of non-null type \"%s\" must not be null.", S(name), gql_tref_str(a, t));
            continue;
        }
        c.var_def = d;
        c.var_name = name;
        c.depth = 0;
        const kiln_value *r = coerce_input(&c, given, t);
        gql_v_put(a, out, name, r ? (kiln_value *)r : gql_v_null(a));
    }
    return errs->count > before ? NULL : out;
}

/* ---- valueFromAST ------------------------------------------------------------------------ */

static bool missing_variable(const gql_node *lit, const kiln_value *vars)
{
    if (lit->kind != GQL_VARIABLE) return false;
    const kiln_value *v = gql_v_get(vars, lit->name);
    return !v || gql_v_is_undefined(v);
}

/* valueFromASTUntyped (custom scalars). */
static const kiln_value *untyped(arena *a, const gql_node *lit, const kiln_value *vars)
{
    switch (lit->kind) {
    case GQL_NULL: return gql_v_null(a);
    case GQL_INT:
    case GQL_FLOAT: {
        char *t = arena_strndup(a, lit->name.ptr, lit->name.len);
        return gql_v_num(a, strtod(t, NULL));
    }
    case GQL_STRING:
    case GQL_ENUM: return gql_v_str(a, lit->name);
    case GQL_BOOLEAN: return gql_v_bool(a, lit->flag);
    case GQL_LIST: {
        kiln_value *l = gql_v_array(a), *last = NULL;
        for (const gql_node *it = lit->items.first; it; it = it->next) {
            const kiln_value *v = untyped(a, it, vars);
            last = gql_v_push(a, l, last, v ? v : gql_v_null(a));
        }
        return l;
    }
    case GQL_OBJECT: {
        kiln_value *o = gql_v_object(a);
        for (const gql_node *f = lit->items.first; f; f = f->next) {
            const kiln_value *v = untyped(a, f->value, vars);
            if (v) gql_v_put(a, o, f->name, (kiln_value *)v);
        }
        return o;
    }
    case GQL_VARIABLE: {
        const kiln_value *v = gql_v_get(vars, lit->name);
        return gql_v_is_undefined(v) ? NULL : v;
    }
    default: return NULL;
    }
}

static const kiln_value *leaf_literal(arena *a, const gql_type *t, const gql_node *lit, const kiln_value *vars)
{
    if (t->kind == GQL_TK_ENUM) {
        if (lit->kind != GQL_ENUM) return NULL;
        for (uint32_t i = 0; i < t->nvalues; i++)
            if (gql_kstr_eq(t->values[i].name, lit->name)) return gql_v_str(a, lit->name);
        return NULL;
    }
    if (!t->builtin) return untyped(a, lit, vars);
    char tmp[64];
    if (t->scalar == GQL_SC_INT) {
        if (lit->kind != GQL_INT) return NULL;
        snprintf(tmp, sizeof tmp, "%.*s", S(lit->name));
        double d = strtod(tmp, NULL);
        if (lit->name.len >= sizeof tmp || d > 2147483647.0 || d < -2147483648.0) return NULL;
        return gql_v_num(a, d);
    }
    if (t->scalar == GQL_SC_FLOAT) {
        if (lit->kind != GQL_INT && lit->kind != GQL_FLOAT) return NULL;
        char *s = arena_strndup(a, lit->name.ptr, lit->name.len);
        return gql_v_num(a, strtod(s, NULL));
    }
    if (t->scalar == GQL_SC_STRING) return lit->kind == GQL_STRING ? gql_v_str(a, lit->name) : NULL;
    if (t->scalar == GQL_SC_BOOLEAN) return lit->kind == GQL_BOOLEAN ? gql_v_bool(a, lit->flag) : NULL;
    return (lit->kind == GQL_STRING || lit->kind == GQL_INT) ? gql_v_str(a, lit->name) : NULL;   /* ID */
}

const kiln_value *gql_value_from_ast(arena *a, const gql_node *lit, const gql_tref *t, const kiln_value *vars)
{
    if (!lit) return NULL;
    if (lit->kind == GQL_VARIABLE) {
        const kiln_value *v = gql_v_get(vars, lit->name);
        if (!v || gql_v_is_undefined(v)) return NULL;
        if (v->type == KILN_JSON_NULL && t->kind == GQL_REF_NON_NULL) return NULL;
        return v;
    }
    if (t->kind == GQL_REF_NON_NULL) {
        if (lit->kind == GQL_NULL) return NULL;
        return gql_value_from_ast(a, lit, t->of, vars);
    }
    if (lit->kind == GQL_NULL) return gql_v_null(a);
    if (t->kind == GQL_REF_LIST) {
        kiln_value *l = gql_v_array(a), *last = NULL;
        if (lit->kind == GQL_LIST) {
            for (const gql_node *it = lit->items.first; it; it = it->next) {
                if (missing_variable(it, vars)) {
                    if (t->of->kind == GQL_REF_NON_NULL) return NULL;
                    last = gql_v_push(a, l, last, gql_v_null(a));
                    continue;
                }
                const kiln_value *v = gql_value_from_ast(a, it, t->of, vars);
                if (!v) return NULL;
                last = gql_v_push(a, l, last, v);
            }
            return l;
        }
        const kiln_value *v = gql_value_from_ast(a, lit, t->of, vars);
        if (!v) return NULL;
        gql_v_put(a, l, (kiln_str){ NULL, 0 }, (kiln_value *)v);
        return l;
    }
    const gql_type *nt = t->named;
    if (nt->kind == GQL_TK_INPUT_OBJECT) {
        if (lit->kind != GQL_OBJECT) return NULL;
        kiln_value *o = gql_v_object(a);
        for (uint32_t i = 0; i < nt->ninput_fields; i++) {
            const gql_arg *f = &nt->input_fields[i];
            const gql_node *given = NULL;
            for (const gql_node *of = lit->items.first; of; of = of->next)
                if (gql_kstr_eq(of->name, f->name)) given = of;           /* the last one wins */
            if (!given || missing_variable(given->value, vars)) {
                const kiln_value *def = f->default_value ? gql_value_from_ast(a, f->default_value, f->type, NULL) : NULL;
                if (def) gql_v_put(a, o, f->name, (kiln_value *)def);
                else if (f->type->kind == GQL_REF_NON_NULL) return NULL;
                continue;
            }
            const kiln_value *v = gql_value_from_ast(a, given->value, f->type, vars);
            if (!v) return NULL;
            gql_v_put(a, o, f->name, (kiln_value *)v);
        }
        if (nt->one_of && (o->len != 1 || o->child->type == KILN_JSON_NULL)) return NULL;
        return o;
    }
    return leaf_literal(a, nt, lit, vars);
}

/* ---- getArgumentValues --------------------------------------------------------------------- */

kiln_value *gql_argument_values(arena *a, const gql_arg *defs, uint32_t ndefs, const gql_node *node,
                                const kiln_value *vars, const char **error, const gql_node **error_node)
{
    kiln_value *out = gql_v_object(a);
    for (uint32_t i = 0; i < ndefs; i++) {
        const gql_arg *d = &defs[i];
        const gql_node *given = NULL;
        for (const gql_node *g = node->args.first; g; g = g->next)
            if (gql_kstr_eq(g->name, d->name)) { given = g; break; }
        const kiln_value *def = d->default_value ? gql_value_from_ast(a, d->default_value, d->type, NULL) : NULL;
        buf b;
        buf_init(&b, 128);
        if (!given) {
            if (def) gql_v_put(a, out, d->name, (kiln_value *)def);
            else if (d->type->kind == GQL_REF_NON_NULL) {
                buf_printf(&b, "Argument \"%.*s\" of required type \"%s\" was not provided.", S(d->name), gql_tref_str(a, d->type));
                *error_node = node;
                goto fail;
            }
            buf_free(&b);
            continue;
        }
        const gql_node *lit = given->value;
        bool is_null = lit->kind == GQL_NULL;
        if (lit->kind == GQL_VARIABLE) {
            const kiln_value *v = gql_v_get(vars, lit->name);
            if (!v) {
                if (def) gql_v_put(a, out, d->name, (kiln_value *)def);
                else if (d->type->kind == GQL_REF_NON_NULL) {
                    buf_printf(&b, "Argument \"%.*s\" of required type \"%s\" was provided the variable \"$%.*s\" which was not provided a runtime value.",
                               S(d->name), gql_tref_str(a, d->type), S(lit->name));
                    *error_node = lit;
                    goto fail;
                }
                buf_free(&b);
                continue;
            }
            is_null = v->type == KILN_JSON_NULL;
        }
        if (is_null && d->type->kind == GQL_REF_NON_NULL) {
            buf_printf(&b, "Argument \"%.*s\" of non-null type \"%s\" must not be null.", S(d->name), gql_tref_str(a, d->type));
            *error_node = lit;
            goto fail;
        }
        const kiln_value *v = gql_value_from_ast(a, lit, d->type, vars);
        if (!v) {
            buf p;
            buf_init(&p, 64);
            gql_print(&p, lit);
            buf_printf(&b, "Argument \"%.*s\" has invalid value %.*s.", S(d->name), (int)p.len, p.data);
            buf_free(&p);
            *error_node = lit;
            goto fail;
        }
        gql_v_put(a, out, d->name, (kiln_value *)v);
        buf_free(&b);
        continue;
    fail:
        *error = arena_strndup(a, b.data, b.len);
        buf_free(&b);
        return NULL;
    }
    return out;
}
