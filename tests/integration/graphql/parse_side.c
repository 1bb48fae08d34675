/*
 * parse_side.c -- the Kiln side of the parser differential test
 * (parse_diff.test.mjs): reads a JSON array of GraphQL documents (strings)
 * and writes one JSON line per document, in order:
 *   {"print": "<gql_print of the tree>"}                 when it parses
 *   {"message": "...", "locations": [{"line":L,"column":C}]} when it does not
 * The graphql-js side writes the same shape from parse() and print().
 */
#include "side.h"

int main(int argc, char **argv)
{
    side sd;
    side_open(&sd, argc, argv, "parse_side");
    if (sd.in->type != KILN_JSON_ARRAY) side_fail(&sd, "the input is not an array");
    buf printed;
    buf_init(&printed, 1 << 12);
    for (const kiln_value *d = sd.in->child; d; d = d->next) {
        gql_error e;
        gql_node *doc = gql_parse(&sd.scratch, d->str, d->len, NULL, &e);
        jw_state w;
        side_begin(&sd, &w);
        if (doc) {
            printed.len = 0;
            gql_print(&printed, doc);
            jw_key(&w, "print", 5);
            jw_string(&w, printed.data ? printed.data : "", printed.len);
        } else {
            jw_key(&w, "message", 7);
            jw_string(&w, e.message, e.message_len);
            jw_key(&w, "locations", 9);
            jw_begin_array(&w);
            jw_begin_object(&w);
            jw_key(&w, "line", 4);
            jw_uint(&w, e.line);
            jw_key(&w, "column", 6);
            jw_uint(&w, e.column);
            jw_end(&w);
            jw_end(&w);
        }
        side_end(&sd, &w);
    }
    buf_free(&printed);
    return side_close(&sd);
}
