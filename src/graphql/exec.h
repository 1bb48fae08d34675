/*
 * exec.h -- internal to src/graphql (the HTTP binding and the app API sit
 * on it): executing an operation of a parsed document against a schema, as
 * graphql-js 16's execute() does, with resolvers as plain C functions.
 *
 * Resolvers are bound by name: "Type_field" (Query_posts, Post_author). A
 * field without one reads its parent's value by name (a JSON object's
 * member). A resolver reads its parent, arguments and context through the
 * gql_rctx it gets, and returns one value (a kiln_value tree; lists and
 * objects for list and object fields) or an error.
 */
#ifndef KILN_GQL_EXEC_H
#define KILN_GQL_EXEC_H

#include "graphql/loader.h"
#include "graphql/values.h"

/* The resolver context is kiln.h's kiln_gql; resolvers and their table are
 * kiln.h's types (kiln_gql_parent, kiln_gql_arg, kiln_gql_return,
 * kiln_gql_error are the resolver API, for Kiln's own resolvers too). */
typedef kiln_gql gql_rctx;
typedef kiln_gql_resolver_def gql_resolver_def;

/* Bind resolvers to the schema's fields by name. Returns the number of
 * definitions that match no field (their names in *unmatched, arena). */
uint32_t gql_exec_bind(gql_schema *s, const gql_resolver_def *defs, size_t n, const char ***unmatched);

typedef struct gql_request {
    const gql_node *doc;        /* parsed (and validated) document          */
    const char *src;            /* its text, for error locations            */
    size_t src_len;
    kiln_str operation_name;    /* {NULL,0}: the only operation            */
    const kiln_value *variables;/* JSON object or NULL                      */
    const kiln_value *root;     /* the root value, or NULL                  */
    void *context;              /* handed to resolvers (the request)        */
    bool no_introspection;      /* __schema / __type are unknown fields     */
    uint64_t deadline_ns;       /* time budget (limits.h's gql_deadline_ns):
                                   fields not started by then fail with code
                                   TIMEOUT; 0: none                         */
    void *sub;                  /* a subscription's state (src/api/graphql_ws.c),
                                   for its resolvers; NULL otherwise        */
    gql_failed_fn *failed;      /* asked after each resolver and batch
                                   function: a failure of the data layer
                                   under it (the database's, caught by the
                                   HTTP binding) becomes the field's error,
                                   whatever the resolver returned; NULL: none */
} gql_request;

/* Execute and write the response as JSON ({"errors":[...],"data":{...}},
 * graphql-js's key order) onto out. Everything else lives in `a`. */
void gql_execute(arena *a, const gql_schema *s, const gql_request *rq, buf *out);

/* CreateSourceEventStream (graphql-js 16's createSourceEventStream) of a
 * subscription operation: select the operation, coerce the variables, and
 * call the resolver of its (only) root field, which subscribes to its
 * source (kiln_gql_subscribe, with rq->sub set). True when the resolver ran
 * without an error; otherwise false with the response ({"errors":[...]},
 * located, with the field's path) written onto out. Each event is then run
 * with gql_execute, the event's data as root value (MapSourceToResponseEvent). */
bool gql_subscribe(arena *a, const gql_schema *s, const gql_request *rq, buf *out);

/* A list of errors as the value of "errors" ([{message, locations, path,
 * extensions}]), graphql-js's key order. */
void gql_write_errors(buf *out, const gql_errs *errs);

/* collectFields: the selections of `set` on type t, grouped by response
 * key in order (fragments, inline fragments, @skip/@include with vars).
 * Returns the number of groups; *out is arena memory. */
typedef struct gql_field_group {
    kiln_str key;
    const gql_node **nodes;
    uint32_t n, cap;
    /* exec.c's memo for this execution (zero: not yet looked up): the
     * field's definition on the group's type and its arguments, the same
     * for every object of a list (the type and the variables are). */
    uint8_t memo;               /* 0 unknown, 1 __typename, 2 fd, 3 none */
    const struct gql_field *fd;
    const kiln_value *args;     /* NULL: coerce again (an error)          */
    const struct gql_type *sub_rt;  /* the last subfields collected, for */
    struct groups *sub;         /* an object of that type (exec.c)        */
} gql_field_group;
uint32_t gql_collect_fields(arena *a, const gql_schema *s, const gql_node *doc, const gql_type *t, const gql_node *set,
                            const kiln_value *vars, const gql_field_group **out);

/* ---- For resolvers, beside kiln.h's API -------------------------------- */
const kiln_value *gql_r_args(gql_rctx *r);                 /* an object   */
void *gql_r_context(gql_rctx *r);
arena *gql_r_arena(gql_rctx *r);
const gql_field *gql_r_field(gql_rctx *r);
const gql_request *gql_r_request(gql_rctx *r);

#endif
