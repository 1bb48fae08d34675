/*
 * openapi.c -- the framework's side of the API description (src/openapi):
 * the answer to GET /_kiln/openapi.json (kiln dev; kiln start with
 * KILN_OPENAPI=1). dispatch.c routes the path here and runs kiln dev's check
 * of each response against its declaration; kiln_openapi_main (`APP/.kiln/
 * server --openapi`, what `kiln openapi APP` runs) is app/app.c's.
 *
 * The document is written from the route table the server routes and
 * validates with (api.app), whose schemas were checked at start (kiln dev:
 * at each reload).
 *
 * Owns: the document built once per production worker. Must never: serve
 * the document in production unless asked (KILN_OPENAPI=1).
 */
#include "api/api.h"
#include "openapi/openapi.h"

#include <stdlib.h>

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

void openapi_answer(kiln_req *req, kiln_res *res)
{
    static buf cached;          /* production: the app never changes */
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        kiln_set_header(res, "Allow", "GET, HEAD");
        kiln_error(res, 405, "Method Not Allowed");
        return;
    }
    if (api.dev || !cached.len) {
        arena *a = kiln_alloc(req, sizeof *a);
        arena_init(a, 4096);
        kiln_defer(req, destroy_arena, a);
        openapi_info info;
        const char *err = NULL;
        if (openapi_info_load(a, api.app_dir ? api.app_dir : ".", &info, &err) != 0) {
            kiln_log(req, "error", "%s", err);
            kiln_error(res, 500, err);
            return;
        }
        cached.len = 0;
        openapi_write(&cached, api.app, &info);
    }
    kiln_set_header(res, "Cache-Control", "no-store");
    kiln_send(res, 200, "application/json; charset=utf-8", cached.data, cached.len);
}
