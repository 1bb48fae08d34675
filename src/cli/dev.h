/*
 * dev.h -- what the two halves of `kiln dev` share (private to src/cli/dev*.c):
 * the supervisor's state, and the compiling half's interface.
 *
 *   dev.c        the supervisor: route list, manifest, the host process,
 *                watching with inotify, the command itself;
 *   dev_build.c  compiling: routes, middleware.c, lib/, graphql/ into
 *                shared objects (tcc first, the real compiler for
 *                diagnostics), and the diagnostics as JSON lines.
 */
#ifndef KILN_CLI_DEV_H
#define KILN_CLI_DEV_H

#include "cli/cli.h"
#include "core/buf.h"

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MAX_WATCHES 512

typedef struct dev_route {
    char *pattern, *file;      /* from routes_scan                         */
    char *so;                  /* current object, or NULL (failed/none)     */
    char *dep;                 /* gcc -MMD dependency file                  */
    bool dirty;
} dev_route;

typedef struct dev {
    const char *app;
    char dir[4200];            /* APP/.kiln/dev                             */
    toolchain tc;
    bool sanitize;
    const char *port;
    unsigned gen;
    dev_route *routes;
    size_t nroutes;
    char *lib_so, *mw_so;      /* current objects, or NULL                  */
    char *gql_so;              /* APP/graphql's object, or NULL             */
    bool lib_dirty, mw_dirty, rescan, gql_dirty;
    buf diags;                 /* JSON objects, one per line                */
    int ino;
    struct { int wd; char path[4200]; } watch[MAX_WATCHES];
    int nwatch;
    pid_t host;
    bool color;
} dev;

static inline bool exists(const char *p) { return access(p, F_OK) == 0; }

static inline time_t mtime_of(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_mtime : 0;
}

/* dev_build.c. Each compiles into a new object of generation d->gen and
 * sets the current object (NULL when it failed, with its diagnostics added
 * to d->diags). true on success (and for a part the app does not have). */
bool build_lib(dev *d);                 /* APP/lib sources -> libapp.so       */
bool build_route(dev *d, dev_route *r); /* one route, linked to libapp.so     */
bool build_middleware(dev *d);          /* APP/middleware.c                   */
bool build_graphql(dev *d);             /* APP/graphql: schema + resolvers    */
/* Does the gcc -MMD list `dep` name a file newer than `than`? (true when
 * the list cannot be read) */
bool deps_newer(const char *dep, time_t than);

#endif
