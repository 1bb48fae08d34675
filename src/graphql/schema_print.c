/*
 * schema_print.c -- graphql-js 16's printSchema(): the SDL of a built
 * schema, and the canonical form of default values it prints.
 *
 * What it does. gql_schema_print() writes the schema definition (when the
 * roots are not the conventional Query/Mutation/Subscription or it has a
 * description), the declared directives, then every type of the type map
 * but the specified scalars, each as graphql-js prints it: descriptions as
 * block strings when isPrintableAsBlockString() says so, arguments on one
 * line unless one has a description, @deprecated and @specifiedBy and
 * @oneOf, default values through valueFromAST + astFromValue
 * (gql_default_canonical: `Float = 1` prints `1`, input-object defaults
 * gain their fields' defaults, invalid ones vanish).
 *
 * Owns: nothing (scratch nodes go to the schema's arena).
 * Must never: print text that graphql-js would not.
 */
#include "graphql/values.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- Default values: valueFromAST then astFromValue -------------------------- */

static gql_node *mk(arena *a, gql_kind kind)
{
    gql_node *n = arena_calloc(a, sizeof *n);
    n->kind = kind;
    return n;
}

static bool integer_string(kiln_str s)
{
    size_t i = 0;
    if (i < s.len && s.ptr[i] == '-') i++;
    if (i >= s.len) return false;
    if (s.ptr[i] == '0') return i + 1 == s.len;
    for (; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9') return false;
    return true;
}

/* A JS number as an Int or Float literal, as astFromValue writes it. */
static gql_node *number_node(arena *a, double v)
{
    buf b;
    buf_init(&b, 32);
    gql_js_number(&b, v);
    kiln_str s = { arena_strndup(a, b.data, b.len), b.len };
    buf_free(&b);
    gql_node *n = mk(a, integer_string(s) ? GQL_INT : GQL_FLOAT);
    n->name = s;
    return n;
}

static double parse_num(kiln_str s)
{
    char tmp[64];
    if (s.len >= sizeof tmp) {
        char *big = malloc(s.len + 1);
        memcpy(big, s.ptr, s.len);
        big[s.len] = '\0';
        double d = strtod(big, NULL);
        free(big);
        return d;
    }
    memcpy(tmp, s.ptr, s.len);
    tmp[s.len] = '\0';
    return strtod(tmp, NULL);
}

static bool is_std(const gql_type *t, const char *name) { return t->builtin && gql_kstr_is(t->name, name); }

/* A custom scalar's literal, as valueFromASTUntyped + astFromValue see it:
 * numbers re-printed, enums become strings. Lists and objects cannot be
 * printed by graphql-js (it throws); they are dropped here. */
static const gql_node *untyped(arena *a, const gql_node *lit)
{
    switch (lit->kind) {
    case GQL_INT:
    case GQL_FLOAT: return number_node(a, parse_num(lit->name));
    case GQL_ENUM: { gql_node *s = mk(a, GQL_STRING); s->name = lit->name; return s; }
    case GQL_STRING: { gql_node *s = mk(a, GQL_STRING); s->name = lit->name; return s; }
    case GQL_BOOLEAN: case GQL_NULL: return lit;
    default: return NULL;
    }
}

static const gql_node *canon(arena *a, const gql_node *lit, const gql_tref *type)
{
    if (type->kind == GQL_REF_NON_NULL) {
        if (lit->kind == GQL_NULL) return NULL;
        return canon(a, lit, type->of);
    }
    if (lit->kind == GQL_NULL) return lit;
    if (type->kind == GQL_REF_LIST) {
        gql_node *l = mk(a, GQL_LIST);
        if (lit->kind != GQL_LIST) {          /* a single item: a list of one */
            const gql_node *c = canon(a, lit, type->of);
            if (!c) return NULL;
            gql_node *copy = mk(a, GQL_NULL);
            *copy = *c;
            copy->next = NULL;
            l->items.first = copy;
            l->items.len = 1;
            return l;
        }
        gql_node *tail = NULL;
        for (const gql_node *it = lit->items.first; it; it = it->next) {
            const gql_node *c = canon(a, it, type->of);
            if (!c) return NULL;
            gql_node *copy = mk(a, GQL_NULL);
            *copy = *c;
            copy->next = NULL;
            if (tail) tail->next = copy;
            else l->items.first = copy;
            tail = copy;
            l->items.len++;
        }
        return l;
    }
    const gql_type *t = type->named;
    switch (t->kind) {
    case GQL_TK_ENUM:
        if (lit->kind != GQL_ENUM) return NULL;
        for (uint32_t i = 0; i < t->nvalues; i++)
            if (gql_kstr_eq(t->values[i].name, lit->name)) return lit;
        return NULL;
    case GQL_TK_INPUT_OBJECT: {
        if (lit->kind != GQL_OBJECT) return NULL;
        gql_node *o = mk(a, GQL_OBJECT);
        gql_node *tail = NULL;
        for (uint32_t i = 0; i < t->ninput_fields; i++) {
            const gql_arg *f = &t->input_fields[i];
            const gql_node *given = NULL;
            for (const gql_node *of = lit->items.first; of; of = of->next)
                if (gql_kstr_eq(of->name, f->name)) { given = of->value; break; }
            const gql_node *c;
            if (!given) {
                if (f->default_value && (c = canon(a, f->default_value, f->type))) goto add;
                if (f->type->kind == GQL_REF_NON_NULL) return NULL;
                continue;
            }
            c = canon(a, given, f->type);
            if (!c) return NULL;
        add:;
            gql_node *of = mk(a, GQL_OBJECT_FIELD);
            of->name = f->name;
            of->value = (gql_node *)c;
            if (tail) tail->next = of;
            else o->items.first = of;
            tail = of;
            o->items.len++;
        }
        return o;
    }
    case GQL_TK_SCALAR:
        if (!t->builtin) return untyped(a, lit);
        if (is_std(t, "Int")) {
            if (lit->kind != GQL_INT) return NULL;
            double d = parse_num(lit->name);
            if (d > 2147483647.0 || d < -2147483648.0) return NULL;
            return number_node(a, d);
        }
        if (is_std(t, "Float")) {
            if (lit->kind != GQL_INT && lit->kind != GQL_FLOAT) return NULL;
            double d = parse_num(lit->name);
            return isfinite(d) ? number_node(a, d) : NULL;
        }
        if (is_std(t, "String")) return lit->kind == GQL_STRING ? untyped(a, lit) : NULL;
        if (is_std(t, "Boolean")) return lit->kind == GQL_BOOLEAN ? lit : NULL;
        /* ID: a string or an integer; printed as an Int when it reads as one. */
        if (lit->kind != GQL_STRING && lit->kind != GQL_INT) return NULL;
        {
            gql_node *n = mk(a, integer_string(lit->name) ? GQL_INT : GQL_STRING);
            n->name = lit->name;
            return n;
        }
    default:
        return NULL;
    }
}

const gql_node *gql_default_canonical(arena *a, const gql_node *lit, const gql_tref *type)
{
    return lit ? canon(a, lit, type) : NULL;
}

/* ---- printSchema ---------------------------------------------------------------- */

/* isPrintableAsBlockString. */
static bool printable_as_block(kiln_str v)
{
    if (v.len == 0) return true;
    bool empty_line = true, has_indent = false, common_indent = true, seen_non_empty = false;
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        if (c <= 0x08 || c == 0x0B || c == 0x0C || c == 0x0E || c == 0x0F || c == '\r') return false;
        if (c == '\n') {
            if (empty_line && !seen_non_empty) return false;
            seen_non_empty = true;
            empty_line = true;
            has_indent = false;
        } else if (c == '\t' || c == ' ') {
            has_indent = has_indent || empty_line;
        } else {
            common_indent = common_indent && has_indent;
            empty_line = false;
        }
    }
    if (empty_line) return false;
    if (common_indent && seen_non_empty) return false;
    return true;
}

/* print({kind: STRING, value, block}) of a description, indented. */
static void description(buf *out, const gql_node *d, const char *indent, bool first)
{
    if (!d) return;
    gql_node s = { .kind = GQL_STRING, .name = d->name, .flag = printable_as_block(d->name) };
    buf tmp;
    buf_init(&tmp, d->name.len + 16);
    gql_print(&tmp, &s);
    if (*indent && !first) { buf_putc(out, '\n'); buf_puts(out, indent); }
    else buf_puts(out, indent);
    for (size_t i = 0; i < tmp.len; i++) {
        buf_putc(out, tmp.data[i]);
        if (tmp.data[i] == '\n') buf_puts(out, indent);
    }
    buf_putc(out, '\n');
    buf_free(&tmp);
}

static void string_lit(buf *out, kiln_str v)
{
    gql_node s = { .kind = GQL_STRING, .name = v };
    gql_print(out, &s);
}

static void deprecated(buf *out, const gql_node *dep, kiln_str reason)
{
    if (!dep) return;
    if (gql_kstr_is(reason, "No longer supported")) { buf_puts(out, " @deprecated"); return; }
    buf_puts(out, " @deprecated(reason: ");
    string_lit(out, reason);
    buf_putc(out, ')');
}

static void input_value(buf *out, const gql_schema *s, const gql_arg *a)
{
    buf_append(out, a->name.ptr, a->name.len);
    buf_puts(out, ": ");
    gql_tref_print(out, a->type);
    const gql_node *def = gql_default_canonical(s->a, a->default_value, a->type);
    if (def) { buf_puts(out, " = "); gql_print(out, def); }
    deprecated(out, a->deprecated, a->reason);
}

static void args(buf *out, const gql_schema *s, const gql_arg *a, uint32_t n, const char *indent)
{
    if (!n) return;
    bool any_desc = false;
    for (uint32_t i = 0; i < n; i++) any_desc |= a[i].description != NULL;
    if (!any_desc) {
        buf_putc(out, '(');
        for (uint32_t i = 0; i < n; i++) {
            if (i) buf_puts(out, ", ");
            input_value(out, s, &a[i]);
        }
        buf_putc(out, ')');
        return;
    }
    char ind2[64];
    snprintf(ind2, sizeof ind2, "  %s", indent);
    buf_puts(out, "(\n");
    for (uint32_t i = 0; i < n; i++) {
        if (i) buf_putc(out, '\n');
        description(out, a[i].description, ind2, i == 0);
        buf_puts(out, ind2);
        input_value(out, s, &a[i]);
    }
    buf_putc(out, '\n');
    buf_puts(out, indent);
    buf_putc(out, ')');
}

static void print_type(buf *out, const gql_schema *s, const gql_type *t)
{
    description(out, t->description, "", true);
    static const char *const kw[] = { "scalar ", "type ", "interface ", "union ", "enum ", "input " };
    buf_puts(out, kw[t->kind]);
    buf_append(out, t->name.ptr, t->name.len);
    switch (t->kind) {
    case GQL_TK_SCALAR:
        if (t->has_specified_by) { buf_puts(out, " @specifiedBy(url: "); string_lit(out, t->specified_by); buf_putc(out, ')'); }
        return;
    case GQL_TK_OBJECT:
    case GQL_TK_INTERFACE:
        for (uint32_t i = 0; i < t->ninterfaces; i++) {
            buf_puts(out, i ? " & " : " implements ");
            buf_append(out, t->interfaces[i]->name.ptr, t->interfaces[i]->name.len);
        }
        if (!t->nfields) return;
        buf_puts(out, " {\n");
        for (uint32_t i = 0; i < t->nfields; i++) {
            const gql_field *f = &t->fields[i];
            if (i) buf_putc(out, '\n');
            description(out, f->description, "  ", i == 0);
            buf_puts(out, "  ");
            buf_append(out, f->name.ptr, f->name.len);
            args(out, s, f->args, f->nargs, "  ");
            buf_puts(out, ": ");
            gql_tref_print(out, f->type);
            deprecated(out, f->deprecated, f->reason);
        }
        buf_puts(out, "\n}");
        return;
    case GQL_TK_UNION:
        for (uint32_t i = 0; i < t->nmembers; i++) {
            buf_puts(out, i ? " | " : " = ");
            buf_append(out, t->members[i]->name.ptr, t->members[i]->name.len);
        }
        return;
    case GQL_TK_ENUM:
        if (!t->nvalues) return;
        buf_puts(out, " {\n");
        for (uint32_t i = 0; i < t->nvalues; i++) {
            if (i) buf_putc(out, '\n');
            description(out, t->values[i].description, "  ", i == 0);
            buf_puts(out, "  ");
            buf_append(out, t->values[i].name.ptr, t->values[i].name.len);
            deprecated(out, t->values[i].deprecated, t->values[i].reason);
        }
        buf_puts(out, "\n}");
        return;
    case GQL_TK_INPUT_OBJECT:
        if (t->one_of) buf_puts(out, " @oneOf");
        if (!t->ninput_fields) return;
        buf_puts(out, " {\n");
        for (uint32_t i = 0; i < t->ninput_fields; i++) {
            if (i) buf_putc(out, '\n');
            description(out, t->input_fields[i].description, "  ", i == 0);
            buf_puts(out, "  ");
            input_value(out, s, &t->input_fields[i]);
        }
        buf_puts(out, "\n}");
        return;
    }
}

void gql_schema_print(buf *out, const gql_schema *s)
{
    bool first = true;
#define SEP() do { if (!first) buf_puts(out, "\n\n"); first = false; } while (0)
    bool common = (!s->query || gql_kstr_is(s->query->name, "Query"))
                  && (!s->mutation || gql_kstr_is(s->mutation->name, "Mutation"))
                  && (!s->subscription || gql_kstr_is(s->subscription->name, "Subscription"));
    if (s->description || !common) {
        SEP();
        description(out, s->description, "", true);
        buf_puts(out, "schema {\n");
        const gql_type *roots[3] = { s->query, s->mutation, s->subscription };
        static const char *const ops[3] = { "query", "mutation", "subscription" };
        bool any = false;
        for (int i = 0; i < 3; i++) {
            if (!roots[i]) continue;
            if (any) buf_putc(out, '\n');
            buf_printf(out, "  %s: %.*s", ops[i], (int)roots[i]->name.len, roots[i]->name.ptr);
            any = true;
        }
        buf_puts(out, "\n}");
    }
    for (uint32_t i = 0; i < s->ndirectives; i++) {
        const gql_directive *d = s->directives[i];
        static const char *const spec[] = { "include", "skip", "deprecated", "specifiedBy", "oneOf" };
        bool specified = false;
        for (size_t k = 0; k < ARRAY_LEN(spec); k++) specified |= gql_kstr_is(d->name, spec[k]);
        if (specified) continue;
        SEP();
        description(out, d->description, "", true);
        buf_puts(out, "directive @");
        buf_append(out, d->name.ptr, d->name.len);
        args(out, s, d->args, d->nargs, "");
        if (d->repeatable) buf_puts(out, " repeatable");
        for (uint32_t k = 0; k < d->nlocations; k++) {
            buf_puts(out, k ? " | " : " on ");
            buf_puts(out, gql_dloc_names[d->locations[k]]);
        }
    }
    for (uint32_t i = 0; i < s->ntypes; i++) {
        const gql_type *t = s->types[i];
        if (t->builtin) continue;
        SEP();
        print_type(out, s, t);
    }
#undef SEP
}
