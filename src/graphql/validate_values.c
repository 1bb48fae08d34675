/*
 * validate_values.c -- graphql-js's ValuesOfCorrectType rule: every literal
 * in a document fits the input type of its position (lists, input objects
 * with their required fields, @oneOf, unknown fields with suggestions, null
 * in non-null positions, and the scalars' and enums' parseLiteral with
 * their messages).
 *
 * Owns: nothing. Must never: word an error differently from graphql-js.
 */
#include "graphql/rules.h"
#include "graphql/values.h"

#define S(k) (int)(k).len, (k).ptr
#define TOP(stack, n) ((n) > 0 ? (stack)[(n) - 1] : NULL)

static const gql_tref *input_type(const gql_vstate *c) { return TOP(c->ti->input, c->ti->ninput); }
static const gql_tref *parent_input_type(const gql_vstate *c)
{
    return c->ti->ninput > 1 ? c->ti->input[c->ti->ninput - 2] : NULL;
}

static const char *printed(gql_vstate *c, const gql_node *n)
{
    buf b;
    buf_init(&b, 32);
    gql_print(&b, n);
    const char *s = arena_strndup(c->a, b.data, b.len);
    buf_free(&b);
    return s;
}

static void expected(gql_vstate *c, const gql_tref *t, const gql_node *n)
{
    gql_errs_add(c->errs, &n, 1, "Expected value of type \"%s\", found %s.", gql_tref_str(c->a, t), printed(c, n));
}

/* " Did you mean the enum value ...?" for an enum. */
static void enum_hint(gql_vstate *c, buf *b, const gql_type *t, const char *value)
{
    kiln_str *names = arena_alloc(c->a, sizeof(kiln_str) * (t->nvalues + 1)), *sug;
    for (uint32_t i = 0; i < t->nvalues; i++) names[i] = t->values[i].name;
    uint32_t n = gql_suggest(c->a, gql_cstr(value), names, t->nvalues, &sug);
    gql_did_you_mean(b, "the enum value", sug, n);
}

/* isValidValueNode for a leaf literal (or a list/object where a leaf or a
 * mismatched type is expected). */
static void check_leaf(gql_vstate *c, const gql_node *n)
{
    const gql_tref *loc = input_type(c);
    if (!loc) return;
    const gql_type *t = gql_tref_named(loc);
    if (t->kind != GQL_TK_SCALAR && t->kind != GQL_TK_ENUM) { expected(c, loc, n); return; }
    buf b;
    buf_init(&b, 96);
    const char *p = printed(c, n);
    if (t->kind == GQL_TK_ENUM) {
        bool known = false;
        for (uint32_t i = 0; n->kind == GQL_ENUM && i < t->nvalues && !known; i++) known = gql_kstr_eq(t->values[i].name, n->name);
        if (n->kind != GQL_ENUM) {
            buf_printf(&b, "Enum \"%.*s\" cannot represent non-enum value: %s.", S(t->name), p);
            enum_hint(c, &b, t, p);
        } else if (!known) {
            buf_printf(&b, "Value \"%s\" does not exist in \"%.*s\" enum.", p, S(t->name));
            enum_hint(c, &b, t, p);
        }
    } else if (t->builtin) {
        if (t->scalar == GQL_SC_INT) {
            if (n->kind != GQL_INT) buf_printf(&b, "Int cannot represent non-integer value: %s", p);
            else {
                gql_tref named = { .kind = GQL_REF_NAMED, .named = (gql_type *)t };
                const kiln_value *v = gql_value_from_ast(c->a, n, &named, NULL);
                if (!v) buf_printf(&b, "Int cannot represent non 32-bit signed integer value: %.*s", S(n->name));
            }
        } else if (t->scalar == GQL_SC_FLOAT) {
            if (n->kind != GQL_INT && n->kind != GQL_FLOAT) buf_printf(&b, "Float cannot represent non numeric value: %s", p);
        } else if (t->scalar == GQL_SC_STRING) {
            if (n->kind != GQL_STRING) buf_printf(&b, "String cannot represent a non string value: %s", p);
        } else if (t->scalar == GQL_SC_BOOLEAN) {
            if (n->kind != GQL_BOOLEAN) buf_printf(&b, "Boolean cannot represent a non boolean value: %s", p);
        } else if (n->kind != GQL_STRING && n->kind != GQL_INT) {
            buf_printf(&b, "ID cannot represent a non-string and non-integer value: %s", p);
        }
    }
    if (b.len) {
        buf_putc(&b, '\0');
        gql_errs_add(c->errs, &n, 1, "%s", b.data);
    }
    buf_free(&b);
}

static const gql_node *find_field(const gql_node *obj, kiln_str name)
{
    const gql_node *found = NULL;
    for (const gql_node *f = obj->items.first; f; f = f->next)
        if (gql_kstr_eq(f->name, name)) found = f;          /* keyMap: the last */
    return found;
}

static const gql_node *var_def(const gql_path *p, kiln_str name)
{
    for (int i = 0; i < p->depth; i++)
        if (p->stack[i]->kind == GQL_OPERATION)
            for (const gql_node *v = p->stack[i]->vars.first; v; v = v->next)
                if (gql_kstr_eq(v->value->name, name)) return v;
    return NULL;
}

bool gql_rule_values_of_correct_type(void *cx, const gql_node *n, const gql_path *p)
{
    gql_vstate *c = cx;
    switch (n->kind) {
    case GQL_LIST: {
        const gql_tref *t = parent_input_type(c);
        if (t && t->kind == GQL_REF_NON_NULL) t = t->of;
        if (!t || t->kind != GQL_REF_LIST) { check_leaf(c, n); return false; }
        return true;
    }
    case GQL_OBJECT: {
        const gql_tref *loc = input_type(c);
        const gql_type *t = loc ? gql_tref_named(loc) : NULL;
        if (!t || t->kind != GQL_TK_INPUT_OBJECT) { check_leaf(c, n); return false; }
        for (uint32_t i = 0; i < t->ninput_fields; i++) {
            const gql_arg *f = &t->input_fields[i];
            if (find_field(n, f->name) || f->type->kind != GQL_REF_NON_NULL) continue;
            if (gql_default_canonical(c->a, f->default_value, f->type)) continue;
            gql_errs_add(c->errs, &n, 1, "Field \"%.*s.%.*s\" of required type \"%s\" was not provided.", S(t->name), S(f->name),
                         gql_tref_str(c->a, f->type));
        }
        if (t->one_of) {
            uint32_t keys = 0;
            const gql_node *first = NULL;
            for (const gql_node *f = n->items.first; f; f = f->next) {
                bool dup = false;
                for (const gql_node *g = n->items.first; g != f; g = g->next) dup |= gql_kstr_eq(g->name, f->name);
                if (!dup && !keys++) first = f;
            }
            if (keys != 1) {
                gql_errs_add(c->errs, &n, 1, "OneOf Input Object \"%.*s\" must specify exactly one key.", S(t->name));
            } else {
                const gql_node *v = find_field(n, first->name)->value;
                if (!v || v->kind == GQL_NULL) {
                    gql_errs_add(c->errs, &n, 1, "Field \"%.*s.%.*s\" must be non-null.", S(t->name), S(first->name));
                } else if (v->kind == GQL_VARIABLE) {
                    const gql_node *d = var_def(p, v->name);
                    if (d && d->type->kind != GQL_NON_NULL_TYPE)
                        gql_errs_add(c->errs, &n, 1, "Variable \"%.*s\" must be non-nullable to be used for OneOf Input Object \"%.*s\".",
                                     S(v->name), S(t->name));
                }
            }
        }
        return true;
    }
    case GQL_OBJECT_FIELD: {
        const gql_tref *pt = parent_input_type(c);
        const gql_type *parent = pt ? gql_tref_named(pt) : NULL;
        if (input_type(c) || !parent || parent->kind != GQL_TK_INPUT_OBJECT) return true;
        kiln_str *names = arena_alloc(c->a, sizeof(kiln_str) * (parent->ninput_fields + 1)), *sug;
        for (uint32_t i = 0; i < parent->ninput_fields; i++) names[i] = parent->input_fields[i].name;
        uint32_t m = gql_suggest(c->a, n->name, names, parent->ninput_fields, &sug);
        buf b;
        buf_init(&b, 96);
        buf_printf(&b, "Field \"%.*s\" is not defined by type \"%.*s\".", S(n->name), S(parent->name));
        gql_did_you_mean(&b, NULL, sug, m);
        buf_putc(&b, '\0');
        gql_errs_add(c->errs, &n, 1, "%s", b.data);
        buf_free(&b);
        return true;
    }
    case GQL_NULL: {
        const gql_tref *t = input_type(c);
        if (t && t->kind == GQL_REF_NON_NULL) expected(c, t, n);
        return true;
    }
    case GQL_ENUM: case GQL_INT: case GQL_FLOAT: case GQL_STRING: case GQL_BOOLEAN:
        check_leaf(c, n);
        return true;
    default:
        return true;
    }
}
