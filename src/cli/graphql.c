/*
 * graphql.c -- `kiln build`'s GraphQL step: APP/graphql/schema.graphql
 * checked against the resolvers of the .c files of APP/graphql, and the resolver
 * table generated for the server -- no registration table to edit.
 *
 *   1. the schema is parsed and built as graphql-js builds it; any syntax or
 *      schema error is reported as APP/graphql/schema.graphql:LINE:COL
 *   2. resolvers are found by reading the sources: a non-static function
 *      `void Type_field(kiln_gql *g)` is the resolver of Type.field
 *   3. a resolver matching no field (with "did you mean") and a root field
 *      (Query, Mutation, Subscription) without a resolver are errors naming
 *      the file and line, like an ambiguous route tree
 *   4. the generated part of APP/.kiln/routes.c: extern declarations, the
 *      resolver table and the SDL as a C string (the server is one binary)
 *   5. a route file that calls kiln_graphql() is the endpoint: found by
 *      reading it the same way, for the route table's `graphql` mark
 *
 * Owns: nothing beyond its arena. Must never: let a schema that the server
 * would refuse, or a resolver that would never run, through the build.
 */
#include "cli/cli.h"
#include "graphql/schema.h"
#include "graphql/visit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct resolver {
    char name[160];
    char file[512];             /* APP-relative: graphql/posts.c */
    int line;
} resolver;

static int by_name(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Read a whole file (NUL-terminated) into b; false when it cannot. */
static bool slurp(const char *path, buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char chunk[16384];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(b, chunk, got);
    fclose(f);
    buf_putc(b, '\0');
    b->len--;
    return true;
}

static bool ident(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

/* Resolver definitions in one source: lines "void NAME(kiln_gql" at the
 * start of a line (after blanks), not static. */
static void scan_source(const char *app, const char *rel, resolver **v, size_t *n, size_t *cap)
{
    char path[4700];
    snprintf(path, sizeof path, "%s/%s", app, rel);
    buf b;
    buf_init(&b, 4096);
    if (!slurp(path, &b)) { buf_free(&b); return; }
    int line = 1;
    for (const char *p = b.data; p && *p; line++) {
        const char *eol = strchr(p, '\n');
        const char *q = p;
        while (*q == ' ' || *q == '\t') q++;
        if (strncmp(q, "void", 4) == 0 && (q[4] == ' ' || q[4] == '\t')) {
            q += 4;
            while (*q == ' ' || *q == '\t') q++;
            const char *name = q;
            while (ident((unsigned char)*q)) q++;
            size_t nl = (size_t)(q - name);
            while (*q == ' ' || *q == '\t') q++;
            if (nl && nl < sizeof(*v)->name && *q == '(') {
                q++;
                while (*q == ' ' || *q == '\t') q++;
                if (strncmp(q, "kiln_gql", 8) == 0 && !ident((unsigned char)q[8])) {
                    if (*n == *cap) {
                        *cap = *cap ? *cap * 2 : 16;
                        *v = kiln_xrealloc(*v, sizeof(resolver) * *cap);
                    }
                    resolver *r = &(*v)[(*n)++];
                    snprintf(r->name, sizeof r->name, "%.*s", (int)nl, name);
                    snprintf(r->file, sizeof r->file, "%s", rel);
                    r->line = line;
                }
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    buf_free(&b);
}

bool graphql_route_is_endpoint(const char *app, const char *rel)
{
    char path[4700];
    snprintf(path, sizeof path, "%s/%s", app, rel);
    buf b;
    buf_init(&b, 4096);
    bool found = false;
    if (!slurp(path, &b)) { buf_free(&b); return false; }
    /* Skip comments, string and character literals; look for the
     * identifier kiln_graphql followed by '('. */
    for (const char *p = b.data; *p && !found; ) {
        if (p[0] == '/' && p[1] == '/') { while (*p && *p != '\n') p++; continue; }
        if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
            continue;
        }
        if (*p == '"' || *p == '\'') {
            char quote = *p++;
            while (*p && *p != quote && *p != '\n') p += (*p == '\\' && p[1]) ? 2 : 1;
            if (*p) p++;
            continue;
        }
        if (ident((unsigned char)*p)) {
            const char *start = p;
            while (ident((unsigned char)*p)) p++;
            if ((size_t)(p - start) == 12 && !memcmp(start, "kiln_graphql", 12)) {
                const char *q = p;
                while (*q == ' ' || *q == '\t' || *q == '\n') q++;
                found = *q == '(';
            }
            continue;
        }
        p++;
    }
    buf_free(&b);
    return found;
}

/* The sources of APP/graphql, sorted (a stable table and stable errors). */
static size_t list_sources(const char *app, char ***out)
{
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/graphql", app);
    DIR *d = opendir(dir);
    size_t n = 0, cap = 0;
    char **v = NULL;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t l = strlen(e->d_name);
            if (l < 3 || strcmp(e->d_name + l - 2, ".c") || e->d_name[0] == '.') continue;
            if (n == cap) { cap = cap ? cap * 2 : 8; v = kiln_xrealloc(v, sizeof(char *) * cap); }
            v[n] = kiln_xmalloc(l + 16);
            snprintf(v[n++], l + 16, "graphql/%s", e->d_name);
        }
        closedir(d);
    }
    if (n) qsort(v, n, sizeof(char *), by_name);
    *out = v;
    return n;
}

/* The object field a resolver name designates, or NULL. */
static gql_field *field_for(const gql_schema *s, const char *name)
{
    for (uint32_t i = 0; i < s->ntypes; i++) {
        gql_type *t = s->types[i];
        if (t->builtin || t->kind != GQL_TK_OBJECT) continue;
        if (strncmp(name, t->name.ptr, t->name.len) || name[t->name.len] != '_') continue;
        gql_field *f = gql_type_field(t, gql_cstr(name + t->name.len + 1));
        if (f) return f;
    }
    return NULL;
}

/* Every Type_field of the object types: what a misspelt resolver may mean. */
static uint32_t all_resolver_names(arena *a, const gql_schema *s, kiln_str **out)
{
    uint32_t n = 0, cap = 0;
    for (uint32_t i = 0; i < s->ntypes; i++)
        if (!s->types[i]->builtin && s->types[i]->kind == GQL_TK_OBJECT) cap += s->types[i]->nfields;
    kiln_str *v = arena_alloc(a, sizeof(kiln_str) * (cap + 1));
    for (uint32_t i = 0; i < s->ntypes; i++) {
        const gql_type *t = s->types[i];
        if (t->builtin || t->kind != GQL_TK_OBJECT) continue;
        for (uint32_t k = 0; k < t->nfields; k++) {
            const char *nm = gql_arena_printf(a, "%.*s_%.*s", (int)t->name.len, t->name.ptr, (int)t->fields[k].name.len,
                                              t->fields[k].name.ptr);
            v[n++] = gql_cstr(nm);
        }
    }
    *out = v;
    return n;
}

/* The SDL as a C string literal: printable ASCII as is, the rest octal. */
static void c_string(buf *out, const char *s, size_t n)
{
    buf_putc(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') buf_puts(out, "\\n\"\n    \"");
        else if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '?') buf_putc(out, (char)c);
        else buf_printf(out, "\\%03o", c);
    }
    buf_putc(out, '"');
}

int graphql_build(const char *app, graphql_gen *gen)
{
    memset(gen, 0, sizeof *gen);
    buf_init(&gen->code, 0);
    char path[4300];
    snprintf(path, sizeof path, "%s/graphql/schema.graphql", app);
    buf sdl;
    buf_init(&sdl, 4096);
    if (!slurp(path, &sdl)) { buf_free(&sdl); return 0; }   /* no GraphQL in this app */
    gen->present = true;

    arena a;
    arena_init(&a, 1 << 16);
    int errors = 0;
    gql_error pe;
    gql_node *doc = gql_parse(&a, sdl.data, sdl.len, NULL, &pe);
    gql_schema *s = NULL;
    if (!doc) {
        fprintf(stderr, "kiln: %s:%u:%u: %s\n", path, pe.line, pe.column, pe.message);
        errors++;
    } else {
        gql_errs errs = { 0 };
        s = gql_schema_build(&a, sdl.data, sdl.len, doc, &errs);
        for (const gql_err *e = errs.first; e; e = e->next, errors++) {
            if (e->nlocs) fprintf(stderr, "kiln: %s:%u:%u: %s\n", path, e->locs[0].line, e->locs[0].column, e->message);
            else fprintf(stderr, "kiln: %s: %s\n", path, e->message);
        }
    }

    char **srcs;
    size_t nsrc = list_sources(app, &srcs);
    resolver *res = NULL;
    size_t nres = 0, cap = 0;
    for (size_t i = 0; i < nsrc; i++) scan_source(app, srcs[i], &res, &nres, &cap);

    if (s) {
        kiln_str *names = NULL;
        uint32_t nnames = all_resolver_names(&a, s, &names);
        for (size_t i = 0; i < nres; i++) {
            for (size_t j = 0; j < i; j++)
                if (strcmp(res[i].name, res[j].name) == 0) {
                    fprintf(stderr, "kiln: %s/%s:%d: resolver %s is also defined at %s:%d\n", app, res[i].file, res[i].line,
                            res[i].name, res[j].file, res[j].line);
                    errors++;
                }
            if (field_for(s, res[i].name)) continue;
            kiln_str *sug;
            uint32_t ns = gql_suggest(&a, gql_cstr(res[i].name), names, nnames, &sug);
            buf msg;
            buf_init(&msg, 128);
            buf_printf(&msg, "resolver %s matches no field of %s.", res[i].name, "graphql/schema.graphql");
            gql_did_you_mean(&msg, NULL, sug, ns);
            buf_putc(&msg, '\0');
            fprintf(stderr, "kiln: %s/%s:%d: %s\n", app, res[i].file, res[i].line, msg.data);
            buf_free(&msg);
            errors++;
        }
        /* Root fields read nothing from a parent: each needs its resolver. */
        const gql_type *roots[3] = { s->query, s->mutation, s->subscription };
        for (int r = 0; r < 3; r++) {
            const gql_type *t = roots[r];
            if (!t || (r == 1 && t == s->query) || (r == 2 && (t == s->query || t == s->mutation))) continue;
            for (uint32_t k = 0; k < t->nfields; k++) {
                char want[320];
                snprintf(want, sizeof want, "%.*s_%.*s", (int)t->name.len, t->name.ptr, (int)t->fields[k].name.len,
                         t->fields[k].name.ptr);
                bool found = false;
                for (size_t i = 0; i < nres && !found; i++) found = strcmp(res[i].name, want) == 0;
                if (found) continue;
                uint32_t line, col;
                gql_location(sdl.data, sdl.len, t->fields[k].ast->start, &line, &col);
                fprintf(stderr, "kiln: %s:%u:%u: %.*s.%.*s needs a resolver: define void %s(kiln_gql *g) in %s/graphql/\n",
                        path, line, col, (int)t->name.len, t->name.ptr, (int)t->fields[k].name.len, t->fields[k].name.ptr,
                        want, app);
                errors++;
            }
        }
    }

    if (!errors) {
        buf *c = &gen->code;
        buf_puts(c, "/* GraphQL: APP/graphql/schema.graphql and its resolvers */\n");
        for (size_t i = 0; i < nres; i++)
            buf_printf(c, "extern void %s(kiln_gql *); /* %s:%d */\n", res[i].name, res[i].file, res[i].line);
        buf_puts(c, "static const kiln_gql_resolver_def graphql_resolvers[] = {\n");
        for (size_t i = 0; i < nres; i++) buf_printf(c, "    { \"%s\", %s },\n", res[i].name, res[i].name);
        if (!nres) buf_puts(c, "    { 0, 0 }\n");
        buf_puts(c, "};\nstatic const char graphql_sdl[] =\n    ");
        c_string(c, sdl.data, sdl.len);
        buf_puts(c, ";\n\n");
        gen->nresolvers = nres;
        gen->sources = srcs;
        gen->nsources = nsrc;
    } else {
        fprintf(stderr, "kiln: build failed (%d GraphQL error%s)\n", errors, errors == 1 ? "" : "s");
        for (size_t i = 0; i < nsrc; i++) free(srcs[i]);
        free(srcs);
    }
    free(res);
    arena_destroy(&a);
    buf_free(&sdl);
    return errors ? -1 : 0;
}

void graphql_gen_free(graphql_gen *gen)
{
    buf_free(&gen->code);
    for (size_t i = 0; i < gen->nsources; i++) free(gen->sources[i]);
    free(gen->sources);
    memset(gen, 0, sizeof *gen);
}
