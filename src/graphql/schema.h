/*
 * schema.h -- Kiln's GraphQL type system: a schema built from SDL, as
 * graphql-js's buildSchema() builds it (types, interfaces, unions, enums,
 * input objects, lists, non-null, custom scalars, directives, descriptions,
 * @deprecated, @specifiedBy, @oneOf, extensions), with the checks it makes.
 *
 * Internal to src/graphql and the layers above it (execution, validation,
 * introspection). Everything lives in the arena the schema was built in.
 */
#ifndef KILN_GQL_SCHEMA_H
#define KILN_GQL_SCHEMA_H

#include "graphql/gql.h"

typedef enum gql_tkind {
    GQL_TK_SCALAR, GQL_TK_OBJECT, GQL_TK_INTERFACE, GQL_TK_UNION, GQL_TK_ENUM, GQL_TK_INPUT_OBJECT
} gql_tkind;

typedef struct gql_type gql_type;

/* A type reference: a named type, [of] or of!. */
typedef struct gql_tref {
    enum { GQL_REF_NAMED, GQL_REF_LIST, GQL_REF_NON_NULL } kind;
    gql_type *named;                /* NAMED                              */
    const struct gql_tref *of;      /* LIST, NON_NULL                     */
} gql_tref;

/* An argument or an input field. */
typedef struct gql_arg {
    kiln_str name;
    const gql_node *description;    /* STRING node, or NULL               */
    const gql_tref *type;
    const gql_node *default_value;  /* the literal as written, or NULL    */
    const gql_node *deprecated;     /* the @deprecated directive, or NULL */
    kiln_str reason;                /* its reason (default "No longer supported") */
    const gql_node *ast;
} gql_arg;

struct kiln_gql;

typedef struct gql_field {
    kiln_str name;
    const gql_node *description;
    gql_arg *args;
    uint32_t nargs;
    const gql_tref *type;
    const gql_node *deprecated;
    kiln_str reason;
    const gql_node *ast;
    gql_type *owner;
    void (*resolve)(struct kiln_gql *r);   /* bound by gql_exec_bind, or NULL */
} gql_field;

typedef struct gql_enum_value {
    kiln_str name;
    const gql_node *description;
    const gql_node *deprecated;
    kiln_str reason;
    const gql_node *ast;
} gql_enum_value;

/* Which specified scalar a type is (std_names' order in schema.c): read
 * where each coerces or serializes its own way, instead of its name. */
typedef enum gql_scalar {
    GQL_SC_NONE, GQL_SC_STRING, GQL_SC_INT, GQL_SC_FLOAT, GQL_SC_BOOLEAN, GQL_SC_ID
} gql_scalar;

struct gql_type {
    gql_tkind kind;
    kiln_str name;
    const gql_node *description;
    bool builtin;                   /* a specified scalar or __ type      */
    gql_scalar scalar;              /* a specified scalar: which; else NONE */
    bool one_of;                    /* input object with @oneOf           */
    bool has_specified_by;
    kiln_str specified_by;          /* @specifiedBy(url:)                 */
    gql_field *fields;              /* OBJECT, INTERFACE                  */
    uint32_t nfields;
    gql_arg *input_fields;          /* INPUT_OBJECT                       */
    uint32_t ninput_fields;
    gql_type **interfaces;          /* OBJECT, INTERFACE                  */
    uint32_t ninterfaces;
    gql_type **members;             /* UNION                              */
    uint32_t nmembers;
    gql_enum_value *values;         /* ENUM                               */
    uint32_t nvalues;
    const gql_node *ast;            /* the definition, or NULL (built-in) */
    const gql_node **exts;          /* its `extend` nodes, in order       */
    uint32_t nexts;
    uint32_t index;                 /* position in the schema's type map  */
    const struct gql_schema *intro_schema; /* introspection types: their schema */
};

typedef enum gql_dloc {
    GQL_DL_QUERY, GQL_DL_MUTATION, GQL_DL_SUBSCRIPTION, GQL_DL_FIELD, GQL_DL_FRAGMENT_DEFINITION,
    GQL_DL_FRAGMENT_SPREAD, GQL_DL_INLINE_FRAGMENT, GQL_DL_VARIABLE_DEFINITION, GQL_DL_SCHEMA,
    GQL_DL_SCALAR, GQL_DL_OBJECT, GQL_DL_FIELD_DEFINITION, GQL_DL_ARGUMENT_DEFINITION, GQL_DL_INTERFACE,
    GQL_DL_UNION, GQL_DL_ENUM, GQL_DL_ENUM_VALUE, GQL_DL_INPUT_OBJECT, GQL_DL_INPUT_FIELD_DEFINITION,
    GQL_DL_COUNT
} gql_dloc;
extern const char *const gql_dloc_names[GQL_DL_COUNT];

typedef struct gql_directive {
    kiln_str name;
    const gql_node *description;
    gql_arg *args;
    uint32_t nargs;
    bool repeatable;
    bool builtin;
    gql_dloc *locations;            /* in the order written               */
    uint32_t nlocations;
    const gql_node *ast;
} gql_directive;

typedef struct gql_schema {
    arena *a;
    const char *src;                /* the SDL (for error locations)      */
    size_t src_len;
    const gql_node *doc;
    const gql_node *description;    /* schema { } description             */
    gql_type *query, *mutation, *subscription;
    gql_type **types;               /* graphql-js's type map order        */
    uint32_t ntypes;
    gql_directive **directives;     /* declared ones, then the specified  */
    uint32_t ndirectives;
    gql_field *meta_schema;         /* Query.__schema (intro.c)            */
    gql_field *meta_type;           /* Query.__type(name:)                 */
} gql_schema;

/* ---- Errors (shared by the schema checks, validation and execution) ---- */

typedef struct gql_loc {
    uint32_t line, column;
} gql_loc;

typedef struct gql_err {
    const char *message;
    gql_loc *locs;
    uint32_t nlocs;
    const kiln_value *path;         /* execution errors: the response path */
    const char *code;               /* extensions.code, or NULL           */
    struct gql_err *next;
} gql_err;

typedef struct gql_errs {
    arena *a;
    const char *src;                /* locations are computed in this text */
    size_t src_len;
    gql_err *first, *last;
    uint32_t count;
    uint32_t max;                   /* past it, one "Too many ..." error and no
                                       more (gql_validate: graphql-js's
                                       maxErrors, 100); 0: no limit        */
    bool stopped;                   /* max was reached                     */
} gql_errs;

/* Add an error located at the given nodes' starts (NULL nodes skipped). */
void gql_errs_add(gql_errs *e, const gql_node *const *nodes, int nnodes, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Located at byte offsets instead. */
void gql_errs_add_at(gql_errs *e, const uint32_t *offsets, int n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- Building ---------------------------------------------------------- */

/* Build the schema of an SDL document: graphql-js's buildSchema() (the SDL
 * rules first; any error stops there) then validateSchema(). Returns NULL
 * and fills errs (in graphql-js's order) when the SDL or the schema is
 * invalid. `doc` must come from gql_parse of src. */
gql_schema *gql_schema_build(arena *a, const char *src, size_t len, const gql_node *doc, gql_errs *errs);

gql_type *gql_schema_type(const gql_schema *s, kiln_str name);
gql_type *gql_schema_type_c(const gql_schema *s, const char *name);
gql_directive *gql_schema_directive(const gql_schema *s, kiln_str name);
gql_field *gql_type_field(const gql_type *t, kiln_str name);
gql_arg *gql_type_input_field(const gql_type *t, kiln_str name);
/* The named type under lists and non-nulls. */
gql_type *gql_tref_named(const gql_tref *r);
/* isTypeSubTypeOf: sub may stand where super is expected. */
bool gql_tref_subtype(const gql_tref *sub, const gql_tref *super);
/* "[Post!]!" */
void gql_tref_print(buf *out, const gql_tref *r);
/* The same as an arena string. */
const char *gql_tref_str(arena *a, const gql_tref *r);
/* printf into an arena string. */
const char *gql_arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Bind the introspection resolvers and make the meta-fields (intro.c). */
void gql_intro_setup(gql_schema *s);

/* The introspection types as SDL (intro_sdl.c). */
extern const char gql_intro_sdl[];

/* graphql-js's printSchema(). */
void gql_schema_print(buf *out, const gql_schema *s);

/* Internal to the schema files: the SDL rules (sdl_rules.c) and the schema
 * checks (schema_check.c), each adding to errs. */
void gql_sdl_validate(const gql_node *doc, gql_errs *errs);
void gql_schema_check(gql_schema *s, gql_errs *errs);
/* Validate an executable document against the schema (validate.c): the
 * rules written so far, errors added to errs in graphql-js's order. */
void gql_validate(const gql_schema *s, const gql_node *doc, gql_errs *errs);
/* Canonical form of a default value (valueFromAST then astFromValue), or
 * NULL when graphql-js would drop it (invalid for the type). */
const gql_node *gql_default_canonical(arena *a, const gql_node *lit, const gql_tref *type);

#endif
