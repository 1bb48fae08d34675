/*
 * vars_side.c -- the Kiln side of the input-coercion differential test
 * (vars_diff.test.mjs). Reads {"sdl": ..., "cases": [{"query", "variables"}]}
 * and writes one JSON line per case:
 *   {"errors": [{message, locations}]}         variables rejected
 *   {"coerced": <variables>, "args": {<response key>: <args> | {"error", "locations"}}}
 * where args are the coerced arguments of each top-level field.
 */
#include "side.h"

static void raw_value(jw_state *w, const kiln_value *v)
{
    buf b;
    buf_init(&b, 64);
    gql_stringify(&b, v);
    jw_raw(w, b.data, b.len);
    buf_free(&b);
}

int main(int argc, char **argv)
{
    side sd;
    side_open(&sd, argc, argv, "vars_side");
    gql_schema *s = side_schema(&sd);
    gql_error pe;
    for (const kiln_value *c = side_get(&sd, "cases")->child; c; c = c->next) {
        const kiln_value *q = kiln_json_get(c, "query");
        const kiln_value *vars = kiln_json_get(c, "variables");
        jw_state w;
        side_begin(&sd, &w);
        gql_node *qd = gql_parse(&sd.scratch, q->str, q->len, NULL, &pe);
        if (!qd) side_fail(&sd, "query does not parse: %s", pe.message);
        const gql_node *op = qd->items.first;
        gql_errs errs = { .a = &sd.scratch, .src = q->str, .src_len = q->len };
        kiln_value *coerced = gql_coerce_variables(&sd.scratch, s, op, vars, &errs);
        if (!coerced) {
            jw_key(&w, "errors", 6);
            side_put_errs(&w, &errs);
        } else {
            jw_key(&w, "coerced", 7);
            raw_value(&w, coerced);
            jw_key(&w, "args", 4);
            jw_begin_object(&w);
            for (const gql_node *f = op->selection_set->items.first; f; f = f->next) {
                const gql_field *fd = gql_type_field(s->query, f->name);
                if (!fd) continue;
                kiln_str key = f->alias.ptr ? f->alias : f->name;
                jw_key(&w, key.ptr, key.len);
                const char *msg = NULL;
                const gql_node *at = NULL;
                kiln_value *args = gql_argument_values(&sd.scratch, fd->args, fd->nargs, f, coerced, &msg, &at);
                if (args) raw_value(&w, args);
                else {
                    gql_errs one = { .a = &sd.scratch, .src = q->str, .src_len = q->len };
                    gql_errs_add(&one, &at, 1, "%s", msg);
                    jw_begin_object(&w);
                    jw_key(&w, "error", 5);
                    side_put_errs(&w, &one);
                    jw_end(&w);
                }
            }
            jw_end(&w);
        }
        side_end(&sd, &w);
    }
    return side_close(&sd);
}
