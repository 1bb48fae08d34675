/* gql.c -- see gql.h. */
#include "gql.h"
#include <stdlib.h>

bool gql_require_session(kiln_gql *g)
{
    if (kiln_session_user(kiln_gql_req(g), NULL)) return true;
    kiln_gql_error(g, "UNAUTHENTICATED", "Unauthorized");
    return false;
}

int64_t gql_id_arg(kiln_gql *g, const char *name)
{
    const char *s = kiln_json_str(kiln_gql_arg(g, name));
    if (!s || *s < '1' || *s > '9') return 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    return *end || v <= 0 ? 0 : (int64_t)v;
}

const kiln_value *gql_valid_input(kiln_gql *g, const kiln_rule *schema)
{
    const kiln_value *in = kiln_gql_arg(g, "input");
    const kiln_verror *errs;
    if (kiln_validate_all(kiln_gql_req(g), in, schema, &errs) == 0) return in;
    kiln_gql_error(g, "BAD_USER_INPUT", "%s", errs[0].message);
    return NULL;
}
