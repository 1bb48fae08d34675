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
    if (argc != 2) { fprintf(stderr, "usage: parse_side DOCS.json\n"); return 2; }
    buf text;
    side_read(argv[1], &text);

    arena a;
    arena_init(&a, 1 << 16);
    const char *err = NULL;
    const kiln_value *docs = json_parse(&a, text.data, text.len, &err);
    if (!docs || docs->type != KILN_JSON_ARRAY) { fprintf(stderr, "parse_side: %s: %s\n", argv[1], err ? err : "not an array"); return 2; }

    buf out, printed;
    buf_init(&out, 1 << 16);
    buf_init(&printed, 1 << 12);
    arena scratch;
    arena_init(&scratch, 1 << 16);
    for (const kiln_value *d = docs->child; d; d = d->next) {
        gql_error e;
        gql_node *doc = gql_parse(&scratch, d->str, d->len, NULL, &e);
        jw_state w;
        jw_init(&w, &out);
        jw_begin_object(&w);
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
