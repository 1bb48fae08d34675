/*
 * exec_leaf.c -- leaf values of an execution: a scalar's or an enum's
 * serialize(), as graphql-js 16's built-in scalars do it (Int, Float,
 * String, Boolean, ID: what they accept and coerce, and their messages);
 * custom scalars pass their value through. Split from exec.c.
 *
 * Owns: nothing (the execution's arena). Must never: accept a value
 * graphql-js's serialize() rejects, or return one it would print otherwise.
 */
#include "graphql/exec_int.h"

#include <math.h>
#include <stdlib.h>

#define S(k) (int)(k).len, (k).ptr
#define msgf(x, ...) gql_arena_printf((x)->a, __VA_ARGS__)
#define inspect(x, v) gql_inspect_str((x)->a, (v))

/* A scalar's or enum's serialize(). */
kiln_value *gx_serialize(exec *x, const gql_type *t, const kiln_value *v, const char **err)
{
    bool b = v->type == KILN_JSON_TRUE || v->type == KILN_JSON_FALSE;
    bool num = v->type == KILN_JSON_NUMBER, str = v->type == KILN_JSON_STRING;
    if (t->kind == GQL_TK_ENUM) {
        if (str)
            for (uint32_t i = 0; i < t->nvalues; i++)
                if (gql_kstr_eq(t->values[i].name, (kiln_str){ v->str, v->len })) return (kiln_value *)v;
        *err = msgf(x, "Enum \"%.*s\" cannot represent value: %s", S(t->name), inspect(x, v));
        return NULL;
    }
    if (t->scalar == GQL_SC_NONE) return (kiln_value *)v;                 /* custom scalars */
    kiln_value *plain = gx_serialize_plain(x->a, t->scalar, v);
    if (plain) return plain;
    double d = num ? v->num : 0;
    bool numeric = num;
    if (str && v->len && (t->scalar == GQL_SC_INT || t->scalar == GQL_SC_FLOAT)) {   /* Number(string) */
        char *end;
        char *s = arena_strndup(x->a, v->str, v->len);
        while (*s == ' ' || *s == '\t' || *s == '\n') s++;
        d = strtod(s, &end);
        while (*end == ' ' || *end == '\t' || *end == '\n') end++;
        numeric = *s && !*end && !(s[0] == '0' && (s[1] == 'x' || s[1] == 'X'));
        if (!numeric) d = NAN;
        numeric = true;
    }
    if (t->scalar == GQL_SC_INT) {
        if (b) return gql_v_num(x->a, v->type == KILN_JSON_TRUE);
        if (!numeric || !isfinite(d) || floor(d) != d) {
            *err = msgf(x, "Int cannot represent non-integer value: %s", inspect(x, v));
            return NULL;
        }
        if (d > 2147483647.0 || d < -2147483648.0) {
            *err = msgf(x, "Int cannot represent non 32-bit signed integer value: %s", inspect(x, v));
            return NULL;
        }
        return gql_v_num(x->a, d);
    }
    if (t->scalar == GQL_SC_FLOAT) {
        if (b) return gql_v_num(x->a, v->type == KILN_JSON_TRUE);
        if (!numeric || !isfinite(d)) {
            *err = msgf(x, "Float cannot represent non numeric value: %s", inspect(x, v));
            return NULL;
        }
        return gql_v_num(x->a, d);
    }
    if (t->scalar == GQL_SC_STRING) {
        if (b) return gql_v_str(x->a, gql_cstr(v->type == KILN_JSON_TRUE ? "true" : "false"));
        if (num && isfinite(v->num)) return gql_v_num_string(x->a, v);
        *err = msgf(x, "String cannot represent value: %s", inspect(x, v));
        return NULL;
    }
    if (t->scalar == GQL_SC_BOOLEAN) {
        if (b) return (kiln_value *)v;
        if (num && isfinite(v->num)) return gql_v_bool(x->a, v->num != 0);
        *err = msgf(x, "Boolean cannot represent a non boolean value: %s", inspect(x, v));
        return NULL;
    }
    *err = msgf(x, "ID cannot represent value: %s", inspect(x, v));     /* ID: not plain */
    return NULL;
}
