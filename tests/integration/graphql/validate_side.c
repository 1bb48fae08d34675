/*
 * validate_side.c -- the Kiln side of the validation differential test
 * (validate_diff.test.mjs): {"sdl", "docs": [...]} in, one line per
 * document out: {"errors": [...]} from gql_validate (or {"syntax": ...}).
 * With "timed": true, a last line: the milliseconds spent validating.
 */
#include "side.h"

#include <time.h>

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: validate_side CASES.json\n"); return 2; }
    buf text;
    side_read(argv[1], &text);
    arena a;
    arena_init(&a, 1 << 16);
    const char *err = NULL;
    const kiln_value *in = json_parse(&a, text.data, text.len, &err);
    if (!in) { fprintf(stderr, "validate_side: %s\n", err); return 2; }
    const kiln_value *sdl = kiln_json_get(in, "sdl");
    gql_error pe;
    gql_node *sdoc = gql_parse(&a, sdl->str, sdl->len, NULL, &pe);
    gql_errs serrs = { 0 };
    gql_schema *s = sdoc ? gql_schema_build(&a, sdl->str, sdl->len, sdoc, &serrs) : NULL;
    if (!s) { fprintf(stderr, "validate_side: the schema does not build\n"); return 2; }
    buf out;
    buf_init(&out, 1 << 16);
    arena scratch;
    arena_init(&scratch, 1 << 16);
    const kiln_value *timed = kiln_json_get(in, "timed");
    double spent = 0;
    for (const kiln_value *d = kiln_json_get(in, "docs")->child; d; d = d->next) {
        jw_state w;
        jw_init(&w, &out);
        jw_begin_object(&w);
        gql_node *doc = gql_parse(&scratch, d->str, d->len, NULL, &pe);
        if (!doc) {
            jw_key(&w, "syntax", 6);
            jw_string(&w, pe.message, pe.message_len);
        } else {
            gql_errs errs = { .a = &scratch, .src = d->str, .src_len = d->len };
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            gql_validate(s, doc, &errs);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            spent += (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
            jw_key(&w, "errors", 6);
            side_put_errs(&w, &errs);
        }
        jw_end(&w);
        buf_putc(&out, '\n');
        arena_reset(&scratch);
    }
    if (timed) buf_printf(&out, "%.0f\n", spent);
    fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
    buf_free(&text);
    arena_destroy(&scratch);
    arena_destroy(&a);
    return 0;
}
