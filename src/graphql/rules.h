/*
 * rules.h -- internal to src/graphql: the state validation rules share and
 * the rules used both on SDL (sdl_rules.c) and on executable documents
 * (validate.c): KnownTypeNames, KnownDirectives,
 * UniqueDirectivesPerLocation, KnownArgumentNamesOnDirectives,
 * UniqueArgumentNames, UniqueInputFieldNames,
 * ProvidedRequiredArgumentsOnDirectives. With a schema they see its types
 * and directives, as graphql-js's rules do when given one.
 */
#ifndef KILN_GQL_RULES_H
#define KILN_GQL_RULES_H

#include "graphql/schema.h"
#include "graphql/visit.h"

/* A name seen, with where (a node's name offset). */
typedef struct gql_seen {
    kiln_str scope;              /* type or directive it belongs to ("" none) */
    kiln_str name;
    uint32_t at;
    const gql_node *node;
} gql_seen;

typedef struct gql_seen_set {
    gql_seen *v;
    uint32_t n, cap;
} gql_seen_set;

struct gql_nlist;

/* graphql-js's TypeInfo: where the traversal is in the schema. Stacks hold
 * NULL where graphql-js holds undefined. */
typedef struct gql_typeinfo {
    const gql_type *parent[GQL_VISIT_MAX_DEPTH];   /* parentTypeStack */
    int nparent;
    const gql_tref *type[GQL_VISIT_MAX_DEPTH];     /* typeStack       */
    int ntype;
    const gql_field *field[GQL_VISIT_MAX_DEPTH];   /* fieldDefStack   */
    int nfield;
    const gql_tref *input[GQL_VISIT_MAX_DEPTH];    /* inputTypeStack  */
    int ninput;
    const gql_node *defval[GQL_VISIT_MAX_DEPTH];   /* defaultValueStack: a
                                                      valid default, or NULL */
    int ndefval;
    const gql_directive *directive;
    const gql_arg *argument;
    gql_field typename_field;                      /* __typename: String! */
} gql_typeinfo;

typedef struct gql_vstate {
    arena *a;
    gql_errs *errs;
    const gql_node *doc;
    const gql_schema *schema;    /* NULL for SDL validation               */
    const gql_node *spec;        /* the specified directives' definitions */
    /* SDL rules */
    uint32_t schema_defs;
    gql_seen_set op_types, type_names, enum_values, field_names, directive_names;
    gql_seen_set schema_dirs, type_dirs;
    gql_seen_set *input_names[GQL_VISIT_MAX_DEPTH];
    int input_depth;
    /* executable rules (validate.c) */
    uint32_t operations;
    const gql_node **seen_ops;
    uint32_t nseen_ops;
    bool *cycle_seen;            /* NoFragmentCycles: per c->frags slot  */
    struct gql_nlist *usages;
    gql_typeinfo *ti;            /* executable validation only            */
    struct overlap *overlap;     /* validate_overlap.c's state, made on use */
    const gql_node **frags;      /* fragment definitions by name (validate.c) */
    uint32_t nfrags;
} gql_vstate;

/* validate_ti.c: TypeInfo's enter and leave (visit hooks), the named
 * type's tref, and the type-aware rules. */
bool gql_ti_enter(void *cx, const gql_node *n, const gql_path *p);  /* always true */
void gql_ti_leave(void *cx, const gql_node *n, const gql_path *p);
void gql_ti_init(gql_vstate *c);
bool gql_rule_scalar_leafs(void *cx, const gql_node *n, const gql_path *p);
bool gql_rule_fields_on_correct_type(void *cx, const gql_node *n, const gql_path *p);
bool gql_rule_possible_fragment_spreads(void *cx, const gql_node *n, const gql_path *p);
bool gql_rule_known_argument_names(void *cx, const gql_node *n, const gql_path *p);
void gql_rule_provided_required_arguments(void *cx, const gql_node *n, const gql_path *p);
/* The fragment definitions of doc sorted by name, equal names in document
 * order (validate.c); *out is arena memory. The index in such an array of
 * the last definition named name (graphql-js's getFragment), or -1: a
 * binary search. */
uint32_t gql_fragments_sorted(arena *a, const gql_node *doc, const gql_node ***out);
int64_t gql_fragment_index(const gql_node *const *sorted, uint32_t n, kiln_str name);
/* getFragment on the validation's index, or NULL. */
const gql_node *gql_fragment(const gql_vstate *c, kiln_str name);
/* getRecursivelyReferencedFragments of an operation (validate.c): the
 * count, the definitions in *out (room for every definition). */
uint32_t gql_referenced_fragments(gql_vstate *c, const gql_node *op, const gql_node **out);
/* VariablesInAllowedPosition (validate_ti.c). */
bool gql_rule_variables_in_allowed_position(void *cx, const gql_node *n, const gql_path *p);
void gql_rule_variables_in_allowed_position_leave(void *cx, const gql_node *n, const gql_path *p);
/* OverlappingFieldsCanBeMerged (validate_overlap.c). */
bool gql_rule_overlapping_fields(void *cx, const gql_node *n, const gql_path *p);
/* validate_values.c */
bool gql_rule_values_of_correct_type(void *cx, const gql_node *n, const gql_path *p);

void gql_vstate_init(gql_vstate *c, const gql_node *doc, gql_errs *errs, const gql_schema *schema);

bool gql_rule_known_type_names(void *cx, const gql_node *n, const gql_path *p);
bool gql_rule_known_directives(void *cx, const gql_node *n, const gql_path *p);
bool gql_rule_unique_directives_per_location(void *cx, const gql_node *n, const gql_path *p);
bool gql_rule_known_directive_args(void *cx, const gql_node *n, const gql_path *p);
bool gql_rule_unique_argument_names(void *cx, const gql_node *n, const gql_path *p);
bool gql_rule_unique_input_fields(void *cx, const gql_node *n, const gql_path *p);
void gql_rule_unique_input_fields_leave(void *cx, const gql_node *n, const gql_path *p);
void gql_rule_provided_directive_args(void *cx, const gql_node *n, const gql_path *p);

#endif
