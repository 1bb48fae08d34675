/*
 * validate_side.c -- the Kiln side of the validation differential test
 * (validate_diff.test.mjs): {"sdl", "docs": [...]} in, one line per
 * document out: {"errors": [...]} from gql_validate (or {"syntax": ...}).
 * With "timed": true, a last line: the milliseconds spent validating.
 */
#include "side.h"

#include <time.h>

static void check(side *sd, const gql_node *doc, gql_errs *errs, void *ctx)
{
    double *spent = ctx;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gql_validate(sd->schema, doc, errs);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *spent += (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

int main(int argc, char **argv)
{
    side sd;
    side_open(&sd, argc, argv, "validate_side");
    side_schema(&sd);
    double spent = 0;
    side_docs(&sd, check, &spent);
    if (kiln_json_get(sd.in, "timed")) buf_printf(&sd.out, "%.0f\n", spent);
    return side_close(&sd);
}
