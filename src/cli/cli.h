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

/* kiln build APP: returns 0 on success. Prints the route table. */
int cmd_build(const char *app_dir, bool quiet);
/* kiln new NAME */
int cmd_new(const char *name);
/* kiln routes APP */
int cmd_routes(const char *app_dir);

/* Which handler functions a route file defines, by reading its source:
 * bit i set for method i (enum kiln_method), bit 31 for `handler`. */
unsigned route_methods_in_source(const char *path);
void print_route_table(const char *app_dir, void *routes, size_t n);

#endif
