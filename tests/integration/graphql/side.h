/*
 * side.h -- what the Kiln sides of the GraphQL differential tests share:
 * the run (read the input file, parse its JSON, build the schema of its
 * "sdl" member, one output line per case on a scratch arena, write it all
 * out) and writing errors as graphql-js's toJSON() does ({"message",
 * "locations"}). Test code only.
 *
 *     side sd;
 *     side_open(&sd, argc, argv, "validate_side");
 *     for (each case) { jw_state w; side_begin(&sd, &w); ...; side_end(&sd, &w); }
 *     return side_close(&sd);
 */
#ifndef KILN_GQL_TEST_SIDE_H
#define KILN_GQL_TEST_SIDE_H

#include "graphql/exec.h"
#include "json/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* The whole file into b, or exit(2). */
static inline void side_read(const char *path, buf *b)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) { perror(path); exit(2); }
    buf_init(b, 1 << 16);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0) buf_append(b, chunk, got);
    fclose(fp);
}

/* [{"message": ..., "locations": [{"line", "column"}]}, ...] */
static inline void side_put_errs(jw_state *w, const gql_errs *errs)
{
    jw_begin_array(w);
    for (const gql_err *x = errs->first; x; x = x->next) {
        jw_begin_object(w);
        jw_key(w, "message", 7);
        jw_string(w, x->message, strlen(x->message));
        if (x->nlocs) {
            jw_key(w, "locations", 9);
            jw_begin_array(w);
            for (uint32_t i = 0; i < x->nlocs; i++) {
                jw_begin_object(w);
                jw_key(w, "line", 4);
                jw_uint(w, x->locs[i].line);
                jw_key(w, "column", 6);
                jw_uint(w, x->locs[i].column);
                jw_end(w);
            }
            jw_end(w);
        }
        jw_end(w);
    }
    jw_end(w);
}

typedef struct side {
    const char *name;            /* for messages                          */
    buf text;                    /* the input file                        */
    arena a;                     /* lives for the run                     */
    arena scratch;               /* one case: reset by side_end           */
    const kiln_value *in;        /* the input JSON                        */
    gql_schema *schema;          /* built from in.sdl, or NULL (no "sdl") */
    buf out;
} side;

/* Exit 2 with a message: the input is not what the side expects. */
__attribute__((noreturn, format(printf, 2, 3)))
static inline void side_fail(const side *sd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", sd->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* argv[1] read and parsed; the schema built when the input has "sdl". */
static inline void side_open(side *sd, int argc, char **argv, const char *name)
{
    memset(sd, 0, sizeof *sd);
    sd->name = name;
    if (argc != 2) side_fail(sd, "usage: %s INPUT.json", name);
    side_read(argv[1], &sd->text);
    arena_init(&sd->a, 1 << 16);
    arena_init(&sd->scratch, 1 << 16);
    buf_init(&sd->out, 1 << 16);
    const char *err = NULL;
    sd->in = json_parse(&sd->a, sd->text.data, sd->text.len, &err);
    if (!sd->in) side_fail(sd, "%s: %s", argv[1], err);
    const kiln_value *sdl = sd->in->type == KILN_JSON_OBJECT ? kiln_json_get(sd->in, "sdl") : NULL;
    if (!sdl) return;
    gql_error pe;
    gql_node *sdoc = gql_parse(&sd->a, sdl->str, sdl->len, NULL, &pe);
    gql_errs serrs = { 0 };
    sd->schema = sdoc ? gql_schema_build(&sd->a, sdl->str, sdl->len, sdoc, &serrs) : NULL;
    if (!sd->schema) side_fail(sd, "the schema does not build");
}

/* The schema, which this side needs. */
static inline gql_schema *side_schema(const side *sd)
{
    if (!sd->schema) side_fail(sd, "the input has no \"sdl\"");
    return sd->schema;
}

/* A member of the input that must be there. */
static inline const kiln_value *side_get(const side *sd, const char *key)
{
    const kiln_value *v = kiln_json_get(sd->in, key);
    if (!v) side_fail(sd, "the input has no \"%s\"", key);
    return v;
}

/* One output line: a JSON object begun, then ended with a newline (and
 * the case's scratch memory dropped). */
static inline void side_begin(side *sd, jw_state *w)
{
    jw_init(w, &sd->out);
    jw_begin_object(w);
}

static inline void side_end(side *sd, jw_state *w)
{
    jw_end(w);
    buf_putc(&sd->out, '\n');
    arena_reset(&sd->scratch);
}

/* A case's document parsed on the scratch arena, or NULL after writing
 * {"syntax": message} for it into w. */
static inline gql_node *side_parse(side *sd, jw_state *w, const kiln_value *d)
{
    gql_error pe;
    gql_node *doc = gql_parse(&sd->scratch, d->str, d->len, NULL, &pe);
    if (!doc) {
        jw_key(w, "syntax", 6);
        jw_string(w, pe.message, pe.message_len);
    }
    return doc;
}

/* An error list located in document d (scratch memory). */
static inline gql_errs side_errs(side *sd, const kiln_value *d)
{
    return (gql_errs){ .a = &sd->scratch, .src = d->str, .src_len = d->len };
}

/* The usual loop over the input's "docs": one line per document, either
 * {"syntax": ...} or {"errors": [...]} with what check() adds to errs. */
typedef void (*side_check)(side *sd, const gql_node *doc, gql_errs *errs, void *ctx);

static inline void side_docs(side *sd, side_check check, void *ctx)
{
    for (const kiln_value *d = side_get(sd, "docs")->child; d; d = d->next) {
        jw_state w;
        side_begin(sd, &w);
        gql_node *doc = side_parse(sd, &w, d);
        if (doc) {
            gql_errs errs = side_errs(sd, d);
            check(sd, doc, &errs, ctx);
            jw_key(&w, "errors", 6);
            side_put_errs(&w, &errs);
        }
        side_end(sd, &w);
    }
}

/* Everything written to stdout and freed; the exit status. */
static inline int side_close(side *sd)
{
    fwrite(sd->out.data, 1, sd->out.len, stdout);
    buf_free(&sd->out);
    buf_free(&sd->text);
    arena_destroy(&sd->scratch);
    arena_destroy(&sd->a);
    return 0;
}

#endif
