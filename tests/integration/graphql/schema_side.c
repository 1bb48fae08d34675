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
    side sd;
    side_open(&sd, argc, argv, "schema_side");
    const kiln_value *docs = side_get(&sd, "sdls"), *iq = side_get(&sd, "introspection");
    gql_error qe;
    gql_node *iqdoc = gql_parse(&sd.a, iq->str, iq->len, NULL, &qe);
    if (!iqdoc) side_fail(&sd, "%s", qe.message);
    buf printed;
    buf_init(&printed, 1 << 12);
    for (const kiln_value *d = docs->child; d; d = d->next) {
        jw_state w;
        side_begin(&sd, &w);
        gql_error e;
        gql_node *doc = gql_parse(&sd.scratch, d->str, d->len, NULL, &e);
        if (!doc) {
            jw_key(&w, "syntax", 6);
            jw_string(&w, e.message, e.message_len);
        } else {
            gql_errs errs = { 0 };
            gql_schema *s = gql_schema_build(&sd.scratch, d->str, d->len, doc, &errs);
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
                gql_execute(&sd.scratch, s, &rq, &resp);
                jw_key(&w, "introspection", 13);
                jw_raw(&w, resp.data, resp.len);
                buf_free(&resp);
            } else {
                jw_key(&w, "errors", 6);
                side_put_errs(&w, &errs);
            }
        }
        side_end(&sd, &w);
    }
    buf_free(&printed);
    return side_close(&sd);
}
