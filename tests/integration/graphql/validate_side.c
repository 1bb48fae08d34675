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
    side sd;
    side_open(&sd, argc, argv, "validate_side");
    gql_schema *s = side_schema(&sd);
    const kiln_value *timed = kiln_json_get(sd.in, "timed");
    double spent = 0;
    for (const kiln_value *d = side_get(&sd, "docs")->child; d; d = d->next) {
        jw_state w;
        side_begin(&sd, &w);
        gql_node *doc = side_parse(&sd, &w, d);
        if (doc) {
            gql_errs errs = side_errs(&sd, d);
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            gql_validate(s, doc, &errs);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            spent += (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
            jw_key(&w, "errors", 6);
            side_put_errs(&w, &errs);
        }
        side_end(&sd, &w);
    }
    if (timed) buf_printf(&sd.out, "%.0f\n", spent);
    return side_close(&sd);
}
