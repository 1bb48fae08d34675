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
    if (argc != 2) { fprintf(stderr, "usage: vars_side CASES.json\n"); return 2; }
    buf text;
    side_read(argv[1], &text);

    arena a;
    arena_init(&a, 1 << 16);
    const char *err = NULL;
    const kiln_value *doc = json_parse(&a, text.data, text.len, &err);
    if (!doc) { fprintf(stderr, "vars_side: %s\n", err); return 2; }
    const kiln_value *sdl = kiln_json_get(doc, "sdl");
    gql_error pe;
    gql_node *sdoc = gql_parse(&a, sdl->str, sdl->len, NULL, &pe);
    gql_errs serrs = { 0 };
    gql_schema *s = sdoc ? gql_schema_build(&a, sdl->str, sdl->len, sdoc, &serrs) : NULL;
    if (!s) { fprintf(stderr, "vars_side: the schema does not build\n"); return 2; }

    buf out;
    buf_init(&out, 1 << 16);
    arena scratch;
    arena_init(&scratch, 1 << 16);
    for (const kiln_value *c = kiln_json_get(doc, "cases")->child; c; c = c->next) {
        const kiln_value *q = kiln_json_get(c, "query");
        const kiln_value *vars = kiln_json_get(c, "variables");
        jw_state w;
        jw_init(&w, &out);
        jw_begin_object(&w);
        gql_node *qd = gql_parse(&scratch, q->str, q->len, NULL, &pe);
        if (!qd) { fprintf(stderr, "vars_side: query does not parse: %s\n", pe.message); return 2; }
        const gql_node *op = qd->items.first;
        gql_errs errs = { .a = &scratch, .src = q->str, .src_len = q->len };
        kiln_value *coerced = gql_coerce_variables(&scratch, s, op, vars, &errs);
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
                kiln_value *args = gql_argument_values(&scratch, fd->args, fd->nargs, f, coerced, &msg, &at);
                if (args) raw_value(&w, args);
                else {
                    gql_errs one = { .a = &scratch, .src = q->str, .src_len = q->len };
                    gql_errs_add(&one, &at, 1, "%s", msg);
                    jw_begin_object(&w);
                    jw_key(&w, "error", 5);
                    side_put_errs(&w, &one);
                    jw_end(&w);
                }
            }
            jw_end(&w);
        }
        jw_end(&w);
        buf_putc(&out, '\n');
        arena_reset(&scratch);
    }
    fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
    buf_free(&text);
    arena_destroy(&scratch);
    arena_destroy(&a);
    return 0;
}
