/*
 * limits_side.c -- the Kiln side of limits.test.mjs: {"sdl", "docs",
 * "limits": {"depth", "aliases", "fields", "introspection"}} in (missing
 * limits keep limits.h's defaults), one line per document out:
 * {"errors": [...]} from gql_check_limits (or {"syntax": ...}).
 */
#include "side.h"
#include "graphql/limits.h"

static void take(const kiln_value *lim, const char *key, uint32_t *to)
{
    const kiln_value *v = lim ? kiln_json_get(lim, key) : NULL;
    if (v && v->type == KILN_JSON_NUMBER) *to = (uint32_t)v->num;
}

static void check(side *sd, const gql_node *doc, gql_errs *errs, void *ctx)
{
    gql_check_limits(sd->schema, doc, (kiln_str){ NULL, 0 }, ctx, errs);
}

int main(int argc, char **argv)
{
    side sd;
    side_open(&sd, argc, argv, "limits_side");
    side_schema(&sd);
    gql_op_limits l;
    gql_op_limits_default(&l);
    const kiln_value *lim = kiln_json_get(sd.in, "limits");
    take(lim, "depth", &l.max_depth);
    take(lim, "aliases", &l.max_aliases);
    take(lim, "fields", &l.max_fields);
    const kiln_value *intro = lim ? kiln_json_get(lim, "introspection") : NULL;
    if (intro && intro->type == KILN_JSON_FALSE) l.introspection = false;
    side_docs(&sd, check, &l);
    return side_close(&sd);
}
