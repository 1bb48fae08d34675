/*
 * hooks.h -- the points where the framework above the engine (error
 * reporting, metrics, health, trace context) plugs into it. The engine calls
 * them when set and knows nothing of what they do; each is optional (NULL:
 * nothing happens, at the cost of one predictable branch).
 *
 * Set once, before kiln_main forks (runtime_hooks is plain data copied
 * into every worker).
 */
#ifndef KILN_RUNTIME_HOOKS_H
#define KILN_RUNTIME_HOOKS_H

#include "kiln.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct worker;
struct server_opts;

typedef struct runtime_hooks {
    /* master */
    void (*master_start)(const struct server_opts *o);   /* before the first fork */
    void (*worker_ended)(int slot, bool crashed, bool restarted);
    void (*master_stop)(void);                           /* after the workers ended */
    /* worker */
    void (*worker_start)(struct worker *w);              /* before the loop runs  */
    void (*worker_stop)(struct worker *w);               /* draining ended        */
    /* requests (worker, on the loop or the request's coroutine) */
    void (*request_begin)(struct conn *c);   /* head parsed, req set up (not routed) */
    kiln_handler (*request_intercept)(struct conn *c); /* a built-in endpoint
                                                 (/_kiln/...): its handler, run on
                                                 a coroutine like a route's; NULL:
                                                 route as usual                   */
    void (*request_answer)(struct conn *c, int status); /* Kiln answers 5xx itself
                                                 (before the head is written)      */
    void (*request_end)(struct conn *c, int status, uint64_t us); /* answer queued */
    void (*request_release)(struct conn *c); /* the request's state is let go     */
    /* a log line of a request (the line's own fields as JSON members) */
    void (*log_line)(int level, const char *request_id, const char *msg, const char *fields, size_t len);
    /* A crash (or a watchdog 504) in the worker's signal handler: must be
     * async-signal-safe. frames are backtrace() return addresses. Writes the
     * response header line(s) to add to the crash answer into hdr (or "")
     * before it is sent. */
    void (*crash)(struct conn *c, int sig, void *const *frames, int nframes, char *hdr, size_t cap);
} runtime_hooks;

extern runtime_hooks kiln_hooks;

#endif
