/*
 * schema_side.c -- the Kiln side of the schema differential test
 * (schema_diff.test.mjs): reads a JSON array of SDL documents and writes one
 * JSON line per document, in order:
 *   {"syntax": "<message>"}                               a syntax error
 *   {"errors": [{"message": ..., "locations": [...]}]}     SDL or schema errors
 *   {"print": "<printSchema>", "types": [names in type-map order],
 *    "introspection": <the response to the introspection query>}  a valid schema
 * Input: {"sdls": [...], "introspection": "<query>"}.
 */
#include "side.h"

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: schema_side DOCS.json\n"); return 2; }
    buf text;
    side_read(argv[1], &text);

    arena a;
    arena_init(&a, 1 << 16);
    const char *err = NULL;
    const kiln_value *input = json_parse(&a, text.data, text.len, &err);
    const kiln_value *docs = input ? kiln_json_get(input, "sdls") : NULL;
    const kiln_value *iq = input ? kiln_json_get(input, "introspection") : NULL;
    if (!docs || docs->type != KILN_JSON_ARRAY || !iq) { fprintf(stderr, "schema_side: %s\n", err ? err : "bad input"); return 2; }
    gql_error qe;
    gql_node *iqdoc = gql_parse(&a, iq->str, iq->len, NULL, &qe);
    if (!iqdoc) { fprintf(stderr, "schema_side: %s\n", qe.message); return 2; }

    buf out, printed;
    buf_init(&out, 1 << 16);
    buf_init(&printed, 1 << 12);
    arena scratch;
    arena_init(&scratch, 1 << 16);
    for (const kiln_value *d = docs->child; d; d = d->next) {
        jw_state w;
        jw_init(&w, &out);
        jw_begin_object(&w);
        gql_error e;
        gql_node *doc = gql_parse(&scratch, d->str, d->len, NULL, &e);
        if (!doc) {
            jw_key(&w, "syntax", 6);
            jw_string(&w, e.message, e.message_len);
        } else {
            gql_errs errs = { 0 };
            gql_schema *s = gql_schema_build(&scratch, d->str, d->len, doc, &errs);
            if (s) {
                printed.len = 0;
                gql_schema_print(&printed, s);
                jw_key(&w, "print", 5);
                jw_string(&w, printed.data ? printed.data : "", printed.len);
                jw_key(&w, "types", 5);
                jw_begin_array(&w);
                for (uint32_t i = 0; i < s->ntypes; i++) jw_string(&w, s->types[i]->name.ptr, s->types[i]->name.len);
                jw_end(&w);
                gql_request rq = { .doc = iqdoc, .src = iq->str, .src_len = iq->len };
                buf resp;
                buf_init(&resp, 4096);
                gql_execute(&scratch, s, &rq, &resp);
                jw_key(&w, "introspection", 13);
                jw_raw(&w, resp.data, resp.len);
                buf_free(&resp);
            } else {
                jw_key(&w, "errors", 6);
                side_put_errs(&w, &errs);
            }
        }
        jw_end(&w);
        buf_putc(&out, '\n');
        arena_reset(&scratch);
    }
    fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
    buf_free(&printed);
    buf_free(&text);
    arena_destroy(&scratch);
    arena_destroy(&a);
    return 0;
}
