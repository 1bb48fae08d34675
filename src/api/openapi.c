/*
 * openapi.c -- the server's side of the API description (src/openapi):
 * `APP/.kiln/server --openapi` (kiln_openapi_main, what `kiln openapi APP`
 * runs) and the answer to GET /_kiln/openapi.json (kiln dev; kiln start with
 * KILN_OPENAPI=1).
 *
 * Both write the document from the route table the server routes and
 * validates with, after the same schema check the server runs at start.
 *
 * Owns: the document built once per production worker. Must never: serve
 * the document in production unless asked (KILN_OPENAPI=1).
 */
#include "runtime/server.h"
#include "db/db.h"
#include "openapi/openapi.h"

#include <stdio.h>
#include <stdlib.h>

int kiln_openapi_main(const kiln_app_def *app)
{
    if (validate_check_routes(app->routes, app->nroutes) != 0) return 1;
    arena a;
    arena_init(&a, 16384);
    openapi_info info;
    const char *err = NULL;
    int rc = 1;
    if (openapi_info_load(&a, db_app_dir(), &info, &err) != 0) {
        fprintf(stderr, "kiln openapi: %s\n", err);
    } else {
        buf out;
        buf_init(&out, 16384);
        openapi_write(&out, app, &info);
        buf_putc(&out, '\n');
        rc = fwrite(out.data, 1, out.len, stdout) == out.len && fflush(stdout) == 0 ? 0 : 1;
        buf_free(&out);
    }
    arena_destroy(&a);
    return rc;
}

bool openapi_serving(void)
{
    static int on = -1;
    if (on < 0) {
        const char *e = getenv("KILN_OPENAPI");
        on = e && !strcmp(e, "1");
    }
    return on == 1;
}

static void destroy_arena(void *a) { arena_destroy(a); }

void openapi_answer(kiln_req *req, kiln_res *res, const kiln_app_def *app, bool fresh)
{
    static buf cached;          /* production: the app never changes */
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        kiln_set_header(res, "Allow", "GET, HEAD");
        kiln_error(res, 405, "Method Not Allowed");
        return;
    }
    if (fresh || !cached.len) {
        arena *a = kiln_alloc(req, sizeof *a);
        arena_init(a, 4096);
        kiln_defer(req, destroy_arena, a);
        openapi_info info;
        const char *err = NULL;
        if (openapi_info_load(a, db_app_dir(), &info, &err) != 0) {
            kiln_log(req, "error", "%s", err);
            kiln_error(res, 500, err);
            return;
        }
        cached.len = 0;
        openapi_write(&cached, app, &info);
    }
    kiln_set_header(res, "Cache-Control", "no-store");
    kiln_send(res, 200, "application/json; charset=utf-8", cached.data, cached.len);
}
