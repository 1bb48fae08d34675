/*
 * hooks.c -- where the framework plugs into the engine.
 *
 * The engine (loop, connections, coroutines, master and worker processes)
 * knows nothing of routes, handlers or databases. The framework registers
 * what it needs before server_main(): work at master start (routes,
 * migrations, shared tables), per worker at start and at exit (loading dev
 * routes, closing database connections), the handler entry that a parsed
 * request goes to, and optionally SIGUSR1/SIGUSR2 handling and a richer
 * crash answer (kiln dev).
 *
 * Owns: the registered hook lists (fixed-size, filled once before fork).
 * Must never: call anything it was not given; run a hook list out of order.
 */
#include "runtime/engine.h"

#define MAX_HOOKS 8

static engine_master_start_fn master_start[MAX_HOOKS];
static engine_worker_fn worker_start[MAX_HOOKS], worker_exit[MAX_HOOKS];
static int nmaster_start, nworker_start, nworker_exit;
static engine_conn_fn on_request, on_resume;
static engine_signal_fn on_user_signal;
static engine_crash_fn on_crash;
static engine_crash_note_fn on_crash_note;
static engine_worker_ended_fn on_worker_ended;

#define ADD(list, n, fn) do { \
        if ((n) == MAX_HOOKS) KILN_PANIC("too many engine hooks of one kind"); \
        (list)[(n)++] = (fn); \
    } while (0)

void engine_on_master_start(engine_master_start_fn fn) { ADD(master_start, nmaster_start, fn); }
void engine_on_worker_start(engine_worker_fn fn) { ADD(worker_start, nworker_start, fn); }
void engine_on_worker_exit(engine_worker_fn fn) { ADD(worker_exit, nworker_exit, fn); }

void engine_set_handler(engine_conn_fn request, engine_conn_fn resume)
{
    on_request = request;
    on_resume = resume;
}

void engine_on_user_signal(engine_signal_fn fn) { on_user_signal = fn; }
void engine_on_crash(engine_crash_fn fn) { on_crash = fn; }
void engine_on_crash_note(engine_crash_note_fn fn) { on_crash_note = fn; }
void engine_on_worker_ended(engine_worker_ended_fn fn) { on_worker_ended = fn; }

int engine_run_master_start(server_opts *o)
{
    if (!on_request) KILN_PANIC("no request handler registered (engine_set_handler)");
    for (int i = 0; i < nmaster_start; i++) {
        int rc = master_start[i](o);
        if (rc != 0) return rc;
    }
    return 0;
}

void engine_run_worker_start(worker *w)
{
    for (int i = 0; i < nworker_start; i++) worker_start[i](w);
}

/* In reverse: what started last stops first. */
void engine_run_worker_exit(worker *w)
{
    for (int i = nworker_exit - 1; i >= 0; i--) worker_exit[i](w);
}

void engine_request(conn *c) { on_request(c); }
void engine_resume(conn *c) { if (on_resume) on_resume(c); }
bool engine_user_signals(void) { return on_user_signal != NULL; }
void engine_user_signal(worker *w, int sig) { if (on_user_signal) on_user_signal(w, sig); }
bool engine_crash_answers(void) { return on_crash != NULL; }
void engine_crash(conn *c, int sig) { if (on_crash) on_crash(c, sig); }

void engine_crash_note(conn *c, int sig, void *const *frames, int nframes, char *hdr, size_t cap)
{
    if (cap) hdr[0] = '\0';
    if (on_crash_note) on_crash_note(c, sig, frames, nframes, hdr, cap);
}

void engine_worker_ended(int slot, bool crashed, bool restarted)
{
    if (on_worker_ended) on_worker_ended(slot, crashed, restarted);
}
