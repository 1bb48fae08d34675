/*
 * exec_side.c -- the Kiln side of the execution differential test
 * (exec_diff.test.mjs): the resolvers of exec_cases.mjs written as C
 * functions bound by name (Query_echo ...), the executor run on each case,
 * one response per line, as gql_execute writes it.
 * Input: {"sdl", "root", "cases": [{"query", "variables", "operationName"}]}.
 */
#include "side.h"

static int counter;

static void Query_echo(gql_rctx *r)
{
    buf b;
    buf_init(&b, 64);
    gql_stringify(&b, gql_r_args(r));
    kiln_gql_return(r, gql_v_str(gql_r_arena(r), (kiln_str){ b.data, b.len }));
    buf_free(&b);
}

static void Query_boom(gql_rctx *r) { kiln_gql_error(r, NULL, "boom"); }
static void Query_boomNN(gql_rctx *r) { kiln_gql_error(r, NULL, "boom NN"); }
static void Query_coded(gql_rctx *r) { kiln_gql_error(r, "UNAUTHENTICATED", "Unauthorized"); }

static void Query_person(gql_rctx *r)
{
    const kiln_value *id = kiln_gql_arg(r, "id");
    const kiln_value *people = kiln_json_get(kiln_gql_parent(r), "people");
    for (const kiln_value *p = people ? people->child : NULL; p; p = p->next) {
        const kiln_value *pid = kiln_json_get(p, "id");
        if (pid && id && pid->len == id->len && memcmp(pid->str, id->str, id->len) == 0) { kiln_gql_return(r, p); return; }
    }
    kiln_gql_return(r, NULL);
}

static void Person_fail(gql_rctx *r)
{
    kiln_gql_error(r, NULL, "fail %s", kiln_json_str(kiln_json_get(kiln_gql_parent(r), "id")));
}

static void Person_failNN(gql_rctx *r)
{
    kiln_gql_error(r, NULL, "failNN %s", kiln_json_str(kiln_json_get(kiln_gql_parent(r), "id")));
}

static void Mutation_count(gql_rctx *r) { kiln_gql_return(r, gql_v_num(gql_r_arena(r), ++counter)); }
static void Mutation_fail(gql_rctx *r) { kiln_gql_error(r, "BAD_USER_INPUT", "mutation failed"); }

static void Mutation_setName(gql_rctx *r)
{
    arena *a = gql_r_arena(r);
    kiln_value *o = gql_v_object(a);
    gql_v_put(a, o, gql_cstr("id"), (kiln_value *)kiln_gql_arg(r, "id"));
    gql_v_put(a, o, gql_cstr("name"), (kiln_value *)kiln_gql_arg(r, "name"));
    kiln_gql_return(r, o);
}

static const gql_resolver_def resolvers[] = {
    { "Query_echo", Query_echo }, { "Query_boom", Query_boom }, { "Query_boomNN", Query_boomNN },
    { "Query_coded", Query_coded }, { "Query_person", Query_person }, { "Person_fail", Person_fail },
    { "Person_failNN", Person_failNN }, { "Mutation_count", Mutation_count }, { "Mutation_fail", Mutation_fail },
    { "Mutation_setName", Mutation_setName },
};

int main(int argc, char **argv)
{
    side sd;
    side_open(&sd, argc, argv, "exec_side");
    gql_schema *s = side_schema(&sd);
    const kiln_value *doc = sd.in;
    gql_error pe;
    const char **unmatched;
    if (gql_exec_bind(s, resolvers, ARRAY_LEN(resolvers), &unmatched)) side_fail(&sd, "resolver %s matches no field", unmatched[0]);
    for (const kiln_value *c = side_get(&sd, "cases")->child; c; c = c->next) {
        const kiln_value *q = kiln_json_get(c, "query");
        const kiln_value *name = kiln_json_get(c, "operationName");
        gql_node *qd = gql_parse(&sd.scratch, q->str, q->len, NULL, &pe);
        if (!qd) side_fail(&sd, "%s", pe.message);
        counter = 0;
        gql_request rq = {
            .doc = qd, .src = q->str, .src_len = q->len,
            .operation_name = name && name->type == KILN_JSON_STRING ? (kiln_str){ name->str, name->len } : (kiln_str){ NULL, 0 },
            .variables = kiln_json_get(c, "variables"), .root = kiln_json_get(doc, "root"),
        };
        gql_execute(&sd.scratch, s, &rq, &sd.out);
        buf_putc(&sd.out, '\n');
        arena_reset(&sd.scratch);
    }
    return side_close(&sd);
}
