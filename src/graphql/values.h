/*
 * values.h -- internal to src/graphql: runtime values and input coercion,
 * as graphql-js 16 does them (coerceInputValue, getVariableValues,
 * valueFromAST, getArgumentValues, the scalars' parseValue/parseLiteral,
 * inspect()).
 *
 * Runtime values are kiln_value trees in an arena. JavaScript's `undefined`
 * (no value) is a NULL pointer; JSON null is a KILN_JSON_NULL node. Numbers
 * carry, in `str`, the text JavaScript's Number#toString gives them, so
 * they print as graphql-js prints them.
 */
#ifndef KILN_GQL_VALUES_H
#define KILN_GQL_VALUES_H

#include "graphql/schema.h"

/* JavaScript's String(number) for a finite double. */
void gql_js_number(buf *out, double v);

/* Constructors (arena). */
kiln_value *gql_v_null(arena *a);
kiln_value *gql_v_bool(arena *a, bool b);
kiln_value *gql_v_num(arena *a, double d);
kiln_value *gql_v_str(arena *a, kiln_str s);
/* String(num) as a string node, for a finite number node: its own literal
 * when that is String's text already (an integer's digits), shared, not
 * copied. */
kiln_value *gql_v_num_string(arena *a, const kiln_value *num);
kiln_value *gql_v_array(arena *a);
kiln_value *gql_v_object(arena *a);
/* Append to an array (key NULL) or set in an object (a key seen before is
 * replaced in place, as JavaScript assignment keeps the first position).
 * Returns the stored node (a copy of *v). */
kiln_value *gql_v_put(arena *a, kiln_value *container, kiln_str key, kiln_value *v);
const kiln_value *gql_v_get(const kiln_value *obj, kiln_str key);
/* Append a copy of *v to array `list` whose last element is `last` (NULL
 * when empty), without walking the list; returns the stored node (the
 * next call's `last`). For building long lists in linear time. */
kiln_value *gql_v_push(arena *a, kiln_value *list, kiln_value *last, const kiln_value *v);
/* The same for object `obj`, with a key not in it yet and NOT copied: it
 * must outlive the object (the executor's response keys, slices of the
 * document, pinned while it runs). The stored key is not NUL-terminated. */
kiln_value *gql_v_append(arena *a, kiln_value *obj, kiln_value *last, kiln_str key, const kiln_value *v);
/* A key that exists with JavaScript's `undefined` (a variable whose default
 * is invalid): a NULL node marked so. JSON.stringify leaves it out. */
kiln_value *gql_v_undefined(arena *a);
bool gql_v_is_undefined(const kiln_value *v);

/* A host object (introspection's schema, types, fields ...): an object
 * node without members that carries a pointer. Resolvers bound to the
 * introspection types read it; JSON.stringify prints it as {}. */
typedef enum gql_host_kind {
    GQL_HOST_SCHEMA, GQL_HOST_TYPE, GQL_HOST_TREF, GQL_HOST_FIELD, GQL_HOST_ARG, GQL_HOST_ENUM_VALUE,
    GQL_HOST_DIRECTIVE
} gql_host_kind;
typedef struct gql_host {
    const char *magic;           /* tells a host from a parsed object */
    gql_host_kind kind;
    const void *ptr;
} gql_host;
kiln_value *gql_v_host(arena *a, gql_host_kind kind, const void *ptr);
const gql_host *gql_v_host_of(const kiln_value *v);
/* executeFields' result object: an object node whose members' keys are
 * response names -- GraphQL Names, [_A-Za-z][_0-9A-Za-z]*, so
 * gql_stringify writes them with no escaping and no check. Only the
 * executor makes them; other objects (a custom scalar's JSON, coerced
 * input) may have any keys. */
kiln_value *gql_v_result_object(arena *a);

/* graphql-js's inspect(): "\"str\"", 12, { a: 1 }, [1, 2] ... */
void gql_inspect(buf *out, const kiln_value *v);
const char *gql_inspect_str(arena *a, const kiln_value *v);   /* the same, in the arena */
/* JSON.stringify(v) (numbers as JavaScript prints them). */
void gql_stringify(buf *out, const kiln_value *v);

/* getVariableValues: the coerced variables of `op` from `inputs` (a JSON
 * object or NULL), or NULL with the errors (at most 50) added to errs. */
kiln_value *gql_coerce_variables(arena *a, const gql_schema *s, const gql_node *op, const kiln_value *inputs,
                                 gql_errs *errs);

/* valueFromAST: the value of a literal for a type, or NULL (undefined)
 * when invalid. vars may be NULL. */
const kiln_value *gql_value_from_ast(arena *a, const gql_node *lit, const gql_tref *type, const kiln_value *vars);

/* getArgumentValues: the arguments of a field or directive as an object,
 * or NULL with *error set to graphql-js's message and *error_node to the
 * node it names. */
kiln_value *gql_argument_values(arena *a, const gql_arg *defs, uint32_t ndefs, const gql_node *node,
                                const kiln_value *vars, const char **error, const gql_node **error_node);

#endif
