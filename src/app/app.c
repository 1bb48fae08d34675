/*
 * app.c -- kiln_main(): an app's server. The one place that puts the layers
 * together: it registers the framework with the engine and runs it.
 *
 *   master start   build the router (a bad route table fails before anything
 *                  listens), check the routes' schemas, make the rate-limit
 *                  table shared by every worker, build the GraphQL schema
 *                  (api/graphql.c; a broken SDL fails here), apply the
 *                  migrations
 *   request        api/dispatch.c: route, run the handler on its coroutine
 *   worker start   channels (src/realtime) learn the worker's loop: they
 *                  attach to the machine's ring (and Redis) on first use
 *   worker exit    close the worker's database connections, free the router,
 *                  detach the channels (ring reader, Redis connections)
 *   long-lived     WebSocket (src/ws) and event streams hand themselves to
 *                  the engine (conn_proto, WAIT_PEER); a graceful stop ends
 *                  them (close 1001, end of stream)
 *   observability  report/observe.c: error reports, metrics, /_kiln/health
 *                  and /_kiln/ready, trace context
 *
 * kiln_dev_main (app/devhost.c) registers its own hooks first, then calls
 * kiln_main with no routes. kiln_openapi_main (`APP/.kiln/server
 * --openapi`, what `kiln openapi APP` runs) prints the app's API description
 * (src/openapi) after the same schema check, and serves nothing.
 *
 * Owns: the app being served and its router (api.router, inherited by every
 * worker through fork).
 * Must never: be called into by the layers it composes.
 */
#include "api/api.h"
#include "api/graphql.h"
#include "auth/auth.h"
#include "db/db.h"
#include "openapi/openapi.h"
#include "realtime/channel.h"
#include "report/observe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

api_state api;

static const kiln_app_def *the_app;
static router *master_router;

static int app_master_start(server_opts *o)
{
    const kiln_route_def *routes = the_app->routes;
    size_t nroutes = the_app->nroutes;
    o->nroutes = nroutes;
    char *err = NULL;
    master_router = router_new(routes, nroutes, &err);
    if (!master_router) {
        fprintf(stderr, "kiln: bad route table: %s\n", err ? err : "?");
        free(err);
        return 1;
    }
    api.router = master_router;
    api.app = the_app;
    api.app_dir = db_app_dir();
    if (validate_check_routes(routes, nroutes) != 0) return 1;
    if (graphql_check_app(the_app) != 0) return 1;   /* a broken SDL stops here */
    ratelimit_init();      /* shared by every worker, so made before fork */
    ratelimit_set_remote(channel_redis_rate);   /* and by every machine, with Redis */
    /* Apply the app's migrations once, before any worker exists. */
    if (db_migrate(db_app_dir(), true) != 0) return 1;
    return 0;
}

static void app_worker_start(worker *w)
{
    channel_worker_start(w->loop);
}

static void app_worker_exit(worker *w)
{
    (void)w;
    channel_worker_exit();
    db_worker_exit();
    auth_pwhash_helpers_stop();
    graphql_release();
    router_free(master_router);
    master_router = NULL;
}

int kiln_main(int argc, char **argv, const kiln_app_def *app)
{
    /* A password-hashing helper of a worker (auth/pwhelper.c), not a server. */
    if (argc == 2 && !strcmp(argv[1], "--pwhash-helper")) return auth_pwhash_helper_main();
    the_app = app;
    engine_set_handler(dispatch_request, dispatch_resume);
    engine_on_master_start(app_master_start);
    engine_on_worker_start(app_worker_start);
    engine_on_worker_exit(app_worker_exit);
    observe_register();    /* error reports, metrics, health, trace context */
    int rc = server_main(argc, argv);
    router_free(master_router);
    master_router = NULL;
    return rc;
}

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
