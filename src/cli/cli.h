/*
 * cli.h -- the `kiln` command's internal interface (one file per command).
 */
#ifndef KILN_CLI_H
#define KILN_CLI_H

#include <stdbool.h>
#include <stddef.h>

/* Where kiln.h, libkiln.a and the recorded compiler live, found relative to
 * the running executable (build tree or install tree). */
typedef struct toolchain {
    char include_dir[4096];
    char lib[4096];          /* path of libkiln.a           */
    char cc[256];            /* compiler the library was built with */
    char sanflags[512];      /* sanitizer flags to match the library */
} toolchain;

int toolchain_find(toolchain *tc);

/* proc.c: running commands without a shell */
struct buf;
typedef struct job { char **argv; char *what; } job;
char **argv_split(const char *cmd);     /* split on ' '; '\x1f' is a space in an argument */
void argv_free(char **v);
char *quote_arg(const char *s);         /* malloc'd: spaces become '\x1f'                 */
int run_jobs(job *jobs, size_t n, int par); /* how many failed                           */
int run1(const char *cmd);              /* 0 on success                                  */
int run_capture(char **argv, struct buf *out, bool echo); /* exit status, output in out  */

/* graphql.c: APP/graphql/schema.graphql checked against the resolvers of
 * the .c files of APP/graphql (errors printed with file:line); on success `code` holds
 * the generated declarations, resolver table and SDL for routes.c, and
 * `sources` the .c files to compile (APP-relative). 0 ok (present says
 * whether the app has a schema), -1 on errors. */
#include "core/buf.h"
typedef struct graphql_gen {
    bool present;
    buf code;
    size_t nresolvers;
    char **sources;
    size_t nsources;
} graphql_gen;
int graphql_build(const char *app_dir, graphql_gen *gen);
void graphql_gen_free(graphql_gen *gen);
/* Whether the route file APP/rel calls kiln_graphql() (outside comments and
 * strings): the GraphQL endpoint, marked in the route table (the `graphql`
 * field of kiln_route_def) by kiln build and kiln dev for the OpenAPI document. */
bool graphql_route_is_endpoint(const char *app_dir, const char *rel);

/* kiln build APP: returns 0 on success. Prints the route table. */
int cmd_build(const char *app_dir, bool quiet);
/* kiln dev [APP] [--port N] [--sanitize] */
int cmd_dev(int argc, char **argv);
/* kiln new NAME */
int cmd_new(const char *name);
/* kiln openapi APP: the app's OpenAPI 3.1 document on stdout */
int cmd_openapi(const char *app_dir);
/* kiln routes APP */
int cmd_routes(const char *app_dir);

/* Which handler functions a route file defines, by reading its source:
 * bit i set for method i (enum kiln_method), bit 31 for `handler`. */
unsigned route_methods_in_source(const char *path);
void print_route_table(const char *app_dir, void *routes, size_t n);

#endif
