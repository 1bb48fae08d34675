/*
 * capture.c -- from a request to a Sentry event: Kiln's automatic reports
 * (a database error's 500, a 504, a crash) and the public
 * kiln_capture_message / kiln_capture_error.
 *
 * An event about a request carries its method, URL, query and headers (with
 * Authorization, Cookie, Set-Cookie and anything named like a secret taken
 * out), the route pattern as its transaction, the session's user id (never
 * an email or a token), tags, the request's own log lines as breadcrumbs
 * (kept in a small per-process ring as they are logged), the request id and
 * the trace context. Its id goes back to the client as X-Sentry-Event-Id.
 *
 * A crash cannot build an event where it happens (the heap may be broken,
 * libcurl is not async-signal-safe): the signal handler copies what it knows
 * into a fixed record with plain loads and stores and sends it, in one
 * write, on a SOCK_SEQPACKET socket shared by every worker. The next worker
 * to start (the crashed one's replacement) reads it, symbolizes the stack
 * with addr2line, and reports it like any other event.
 *
 * Owns: the breadcrumb ring, the crash socket pair, the "reporting is on"
 * switch. Must never: block a request (events go through sender.c's
 * queue), allocate or lock in crash_record(), or send a bound SQL value.
 */
#include "report/capture.h"
#include "report/report.h"
#include "db/db.h"
#include "api/api.h"

#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

bool report_on;
static int crash_fds[2] = { -1, -1 };   /* [0] read, [1] write (both inherited) */

/* ---- breadcrumbs: the request's own log lines ----------------------------- */

#define CRUMBS 64
typedef struct crumb_slot {
    char rid[17];
    double ts;
    int level;
    char msg[160];
    char data[240];
} crumb_slot;
static crumb_slot ring[CRUMBS];
static unsigned ring_next;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void copy_str(char *dst, size_t cap, const char *s, size_t n)
{
    size_t k = n < cap - 1 ? n : cap - 1;
    for (size_t i = 0; i < k; i++) dst[i] = s[i];
    dst[k] = '\0';
}

void capture_log_line(int level, const char *rid, const char *msg, const char *fields, size_t len)
{
    if (!report_on) return;
    crumb_slot *s = &ring[ring_next++ % CRUMBS];
    copy_str(s->rid, sizeof s->rid, rid, strlen(rid));
    s->ts = now_s();
    s->level = level;
    copy_str(s->msg, sizeof s->msg, msg, strlen(msg));
    /* A field list that does not fit is left out (a cut one is not JSON). */
    if (len < sizeof s->data) copy_str(s->data, sizeof s->data, fields, len);
    else s->data[0] = '\0';
}

static const char *const crumb_levels[] = { "debug", "info", "warning", "error" };

static size_t crumbs_for(const char *rid, report_crumb *out, size_t cap)
{
    size_t n = 0;
    for (unsigned i = 0; i < CRUMBS && n < cap; i++) {
        crumb_slot *s = &ring[(ring_next + i) % CRUMBS];   /* oldest first */
        if (!s->rid[0] || strcmp(s->rid, rid)) continue;
        out[n++] = (report_crumb){ s->ts, crumb_levels[s->level & 3], s->msg, s->data };
    }
    return n;
}

/* ---- an event about a request ------------------------------------------------ */

#define MAX_HDRS 64

typedef struct req_view {
    report_kv hdrs[MAX_HDRS];
    report_crumb crumbs[CRUMBS];
    char url[2048];
} req_view;

static void fill_request(conn *c, report_event *e, req_view *v)
{
    struct kiln_req_private *p = &rq(c)->priv;
    kiln_req *req = &rq(c)->req;
    e->method = req->method;
    const char *host = kiln_header(req, "host");
    const char *proto = kiln_header(req, "x-forwarded-proto");
    snprintf(v->url, sizeof v->url, "%s://%s%s", proto && !strcmp(proto, "https") ? "https" : "http",
             host ? host : "localhost", req->path);
    e->url = v->url;
    e->query = req->query_string;
    size_t n = 0;
    for (size_t i = 0; i < c->http.num_headers && n < MAX_HDRS; i++) {
        const http_header *h = &c->http.headers[i];
        if (report_sensitive_name(h->name, h->name_len)) continue;
        v->hdrs[n++] = (report_kv){ h->name, h->value };
    }
    e->headers = v->hdrs;
    e->nheaders = n;
    e->transaction = req->route;
    e->user_id = p->session_user;
    e->request_id = req->id;
    e->trace_id = p->trace_id[0] ? p->trace_id : NULL;
    e->span_id = p->span_id[0] ? p->span_id : NULL;
    e->parent_span_id = p->parent_span_id[0] ? p->parent_span_id : NULL;
    e->crumbs = v->crumbs;
    e->ncrumbs = req->id ? crumbs_for(req->id, v->crumbs, CRUMBS) : 0;
}

/* Queue the event; its id, or NULL when it was not queued. */
static bool send_event(report_event *e)
{
    buf b;
    buf_init(&b, 4096);
    report_event_json(&b, e, report_get_settings());
    bool ok = report_sender_enqueue(b.data, b.len, e->event_id);
    buf_free(&b);
    if (ok) log_event(LOG_INFO, e->request_id, "error reported", "\"eventId\":\"%s\"", e->event_id);
    return ok;
}

static const char *capture_on(conn *c, const char *level, const char *message,
                              const char *type, const char *value, int status)
{
    report_event e = { .timestamp = now_s(), .level = level, .message = message, .exc_type = type,
                       .exc_value = value, .worker = kiln_current_worker ? kiln_current_worker->id : -1 };
    report_new_event_id(e.event_id);
    req_view *v = NULL;
    if (c) {
        v = kiln_xmalloc(sizeof *v);
        fill_request(c, &e, v);
        e.sql = rq(c)->priv.error_sql;
        e.gql_path = rq(c)->priv.gql_path;
        e.gql_operation = rq(c)->priv.gql_operation;
        if (status) {
            static __thread char st[12];
            snprintf(st, sizeof st, "%d", status);
            e.status = st;
        }
    }
    bool ok = send_event(&e);
    free(v);
    if (!ok) return NULL;
    if (c) {
        memcpy(rq(c)->priv.event_id, e.event_id, 33);
        return rq(c)->priv.event_id;
    }
    static __thread char last[33];
    memcpy(last, e.event_id, 33);
    return last;
}

/* The engine is about to answer 5xx itself (hooks.h request_answer). */
void capture_answer(conn *c, int status)
{
    if (!report_on) return;
    struct kiln_req_private *p = &rq(c)->priv;
    if (status == 504) {
        capture_on(c, "error", NULL, "Timeout", kiln_sprintf(&rq(c)->req, "handler exceeded its max duration (%s)", rq(c)->req.route), 504);
    } else if (status == 500 && p->error_sql) {
        capture_on(c, "error", NULL, "DatabaseError", p->error_text ? p->error_text : "database error", 500);
    } else if (status == 500 && !rq(c)->res.started) {
        capture_on(c, "error", NULL, "NoResponse", "handler returned without sending a response", 500);
    }
}

/* ---- the public API ---------------------------------------------------------- */

static const char *level_name(kiln_level l)
{
    switch (l) {
    case KILN_LEVEL_DEBUG: return "debug";
    case KILN_LEVEL_INFO: return "info";
    case KILN_LEVEL_WARNING: return "warning";
    case KILN_LEVEL_FATAL: return "fatal";
    default: return "error";
    }
}

static const char *capture_v(kiln_req *req, const char *level, const char *type, const char *fmt, va_list ap)
{
    if (!report_on) return NULL;
    char text[2048];
    vsnprintf(text, sizeof text, fmt, ap);
    conn *c = req && req->priv ? req->priv->c : NULL;
    const char *id = type ? capture_on(c, level, NULL, type, text, 0) : capture_on(c, level, text, NULL, NULL, 0);
    if (id && req) return kiln_strdup(req, id);
    return id;
}

const char *kiln_capture_message(kiln_req *req, kiln_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *id = capture_v(req, level_name(level), NULL, fmt, ap);
    va_end(ap);
    return id;
}

const char *kiln_capture_error(kiln_req *req, const char *type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *id = capture_v(req, "error", type && *type ? type : "Error", fmt, ap);
    va_end(ap);
    return id;
}

/* ---- crashes ------------------------------------------------------------------- */

#define CRASH_MAGIC 0x6b636c6eu   /* "kcln" */
#define CRASH_FRAMES 48
#define CRASH_CRUMBS 12

typedef struct crash_rec {
    uint32_t magic;
    int32_t worker, sig;
    char event_id[33], request_id[17], trace_id[33], span_id[17], parent_span_id[17];
    int64_t user_id;
    char method[16], route[256], url[1024], query[1024];
    uint32_t hdr_len;
    char hdrs[4096];                  /* name\0value\0 ... (already scrubbed) */
    uint32_t ncrumbs;
    struct { double ts; int32_t level; char msg[160]; char data[240]; } crumbs[CRASH_CRUMBS];
    uint32_t nframes;
    uint64_t off[CRASH_FRAMES];       /* offsets in the executable           */
    uint8_t in_exe[CRASH_FRAMES];
    uint8_t exact[CRASH_FRAMES];      /* the faulting PC (not a return address) */
} crash_rec;

static uintptr_t exe_base, exe_lo, exe_hi;   /* the executable: load base, mapping */
static crash_rec rec;                 /* static: no stack needed in the handler */

static int find_exe(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size; (void)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!exe_lo || lo < exe_lo) exe_lo = lo;
        if (hi > exe_hi) exe_hi = hi;
    }
    exe_base = info->dlpi_addr;      /* offsets are from the load base */
    return 1;                        /* the first object is the executable */
}

void capture_master_start(void)
{
    if (!report_on) return;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, crash_fds) != 0)
        log_event(LOG_WARN, NULL, "error reports: no crash channel", NULL);
}

static size_t s_copy(char *dst, size_t cap, const char *s)
{
    size_t i = 0;
    if (s) for (; s[i] && i + 1 < cap; i++) dst[i] = s[i];
    dst[i] = '\0';
    return i;
}

/* The crash hook: async-signal-safe (loads, stores, getrandom, send). */
void capture_crash(conn *c, int sig, void *const *frames, int nframes, char *hdr, size_t cap)
{
    if (!report_on || crash_fds[1] < 0) return;
    crash_rec *r = &rec;
    r->magic = CRASH_MAGIC;
    r->worker = kiln_current_worker ? kiln_current_worker->id : -1;
    r->sig = sig;
    report_new_event_id(r->event_id);
    if (!c->app) return;                  /* no request state yet */
    kiln_req *req = &rq(c)->req;
    struct kiln_req_private *p = &rq(c)->priv;
    s_copy(r->request_id, sizeof r->request_id, req->id);
    s_copy(r->trace_id, sizeof r->trace_id, p->trace_id);
    s_copy(r->span_id, sizeof r->span_id, p->span_id);
    s_copy(r->parent_span_id, sizeof r->parent_span_id, p->parent_span_id);
    r->user_id = p->session_user;
    s_copy(r->method, sizeof r->method, req->method);
    s_copy(r->route, sizeof r->route, req->route);
    s_copy(r->query, sizeof r->query, req->query_string);
    /* url: scheme://host/path (the Host header found below) */
    const char *host = "localhost";
    r->hdr_len = 0;
    for (size_t i = 0; i < c->http.num_headers; i++) {
        const http_header *h = &c->http.headers[i];
        if (h->name_len == 4 && (h->name[0] | 32) == 'h' && (h->name[1] | 32) == 'o' && (h->name[2] | 32) == 's'
            && (h->name[3] | 32) == 't') host = h->value;
        if (report_sensitive_name(h->name, h->name_len)) continue;
        if (r->hdr_len + h->name_len + h->value_len + 2 > sizeof r->hdrs) break;
        memcpy(r->hdrs + r->hdr_len, h->name, h->name_len);
        r->hdr_len += (uint32_t)h->name_len;
        r->hdrs[r->hdr_len++] = '\0';
        memcpy(r->hdrs + r->hdr_len, h->value, h->value_len);
        r->hdr_len += (uint32_t)h->value_len;
        r->hdrs[r->hdr_len++] = '\0';
    }
    size_t u = s_copy(r->url, sizeof r->url, "http://");
    u += s_copy(r->url + u, sizeof r->url - u, host);
    s_copy(r->url + u, sizeof r->url - u, req->path);
    r->ncrumbs = 0;
    for (unsigned i = 0; i < CRUMBS && r->ncrumbs < CRASH_CRUMBS; i++) {
        crumb_slot *s = &ring[(ring_next + i) % CRUMBS];
        if (!s->rid[0] || !req->id || strcmp(s->rid, req->id)) continue;
        r->crumbs[r->ncrumbs].ts = s->ts;
        r->crumbs[r->ncrumbs].level = s->level;
        s_copy(r->crumbs[r->ncrumbs].msg, sizeof r->crumbs[0].msg, s->msg);
        s_copy(r->crumbs[r->ncrumbs].data, sizeof r->crumbs[0].data, s->data);
        r->ncrumbs++;
    }
    /* The stack: frames[0] is this hook, then the crash handler, then the
     * kernel's signal frame (outside the executable); after it comes the
     * faulting function. */
    int start = 0;
    for (int i = 1; i < nframes; i++) {
        uintptr_t a = (uintptr_t)frames[i];
        if (a < exe_lo || a >= exe_hi) { start = i + 1; break; }
    }
    r->nframes = 0;
    for (int i = start; i < nframes && r->nframes < CRASH_FRAMES; i++) {
        uintptr_t a = (uintptr_t)frames[i];
        bool in = a >= exe_lo && a < exe_hi;
        r->in_exe[r->nframes] = in;
        r->exact[r->nframes] = i == start;
        r->off[r->nframes] = in ? a - exe_base : a;
        r->nframes++;
    }
    if (send(crash_fds[1], r, sizeof *r, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof *r) {
        size_t n = s_copy(hdr, cap, "X-Sentry-Event-Id: ");
        n += s_copy(hdr + n, cap - n, r->event_id);
        s_copy(hdr + n, cap - n, "\r\n");
    }
}

/* Build and queue the event of one crash record (in a healthy worker). */
static void report_crash(const crash_rec *r)
{
    static const char *const names[] = { [4] = "SIGILL", [6] = "SIGABRT", [7] = "SIGBUS", [8] = "SIGFPE",
                                         [11] = "SIGSEGV", [14] = "SIGALRM" };
    const char *sig = r->sig > 0 && r->sig < (int)ARRAY_LEN(names) && names[r->sig] ? names[r->sig] : "signal";
    report_frame frames[CRASH_FRAMES];
    static char funcs[CRASH_FRAMES][256], files[CRASH_FRAMES][512];
    size_t nf = 0;
    const char *app = db_app_dir();
    size_t al = strlen(app);
    char exe[1024];                      /* (addr2line's own /proc/self is not ours) */
    ssize_t xl = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (xl <= 0) return;
    exe[xl] = '\0';
    /* Sentry wants the oldest frame first. */
    for (int i = (int)r->nframes - 1; i >= 0; i--) {
        if (!r->in_exe[i]) continue;
        char loc[1024];
        if (!symbolize(exe, (uintptr_t)(r->off[i] - (r->exact[i] ? 0 : 1)), funcs[nf], sizeof funcs[nf], loc, sizeof loc))
            continue;
        char *colon = strrchr(loc, ':');
        long line = 0;
        if (colon) { line = strtol(colon + 1, NULL, 10); *colon = '\0'; }
        const char *file = loc;
        if (al && !strncmp(file, app, al) && file[al] == '/') file += al + 1;
        bool in_app = !strncmp(file, "pages/", 6) || !strncmp(file, "lib/", 4) || !strncmp(file, "middleware.c", 12);
        copy_str(files[nf], sizeof files[nf], file, strlen(file));
        frames[nf] = (report_frame){ funcs[nf], files[nf], line, in_app };
        nf++;
    }
    report_kv hdrs[MAX_HDRS];
    size_t nh = 0;
    for (uint32_t at = 0; at < r->hdr_len && nh < MAX_HDRS;) {
        const char *name = r->hdrs + at;
        at += (uint32_t)strnlen(name, r->hdr_len - at) + 1;
        if (at >= r->hdr_len) break;
        const char *value = r->hdrs + at;
        at += (uint32_t)strnlen(value, r->hdr_len - at) + 1;
        hdrs[nh++] = (report_kv){ name, value };
    }
    report_crumb crumbs[CRASH_CRUMBS];
    for (uint32_t i = 0; i < r->ncrumbs && i < CRASH_CRUMBS; i++)
        crumbs[i] = (report_crumb){ r->crumbs[i].ts, crumb_levels[r->crumbs[i].level & 3], r->crumbs[i].msg, r->crumbs[i].data };
    /* SIGALRM is the watchdog's: a handler kept the CPU past its time limit
     * (answered 504); the stack shows where it was spinning. */
    bool overtime = r->sig == SIGALRM;
    char value[400];
    if (overtime)
        snprintf(value, sizeof value, "handler kept the CPU past its max duration (%.255s); the worker was replaced", r->route);
    else
        snprintf(value, sizeof value, "%s in a handler (%.255s); the worker was replaced", sig, r->route);
    report_event e = { .timestamp = now_s(), .level = overtime ? "error" : "fatal",
                       .exc_type = overtime ? "Timeout" : sig, .exc_value = value,
                       .frames = frames, .nframes = nf, .method = r->method, .url = r->url, .query = r->query,
                       .headers = hdrs, .nheaders = nh, .transaction = r->route, .user_id = r->user_id,
                       .request_id = r->request_id, .worker = r->worker,
                       .trace_id = r->trace_id[0] ? r->trace_id : NULL, .span_id = r->span_id[0] ? r->span_id : NULL,
                       .parent_span_id = r->parent_span_id[0] ? r->parent_span_id : NULL,
                       .crumbs = crumbs, .ncrumbs = r->ncrumbs, .status = overtime ? "504" : "500" };
    memcpy(e.event_id, r->event_id, 33);
    send_event(&e);
}

void capture_worker_start(void)
{
    if (!report_on) return;
    dl_iterate_phdr(find_exe, NULL);
    if (crash_fds[0] < 0) return;
    /* Crashes of workers before us: report them now. */
    static crash_rec in;
    ssize_t n;
    while ((n = recv(crash_fds[0], &in, sizeof in, MSG_DONTWAIT)) == (ssize_t)sizeof in)
        if (in.magic == CRASH_MAGIC) {
            in.route[sizeof in.route - 1] = in.method[sizeof in.method - 1] = '\0';
            in.url[sizeof in.url - 1] = in.query[sizeof in.query - 1] = '\0';
            in.request_id[16] = in.trace_id[32] = in.span_id[16] = in.parent_span_id[16] = in.event_id[32] = '\0';
            if (in.hdr_len > sizeof in.hdrs) in.hdr_len = 0;
            if (in.nframes > CRASH_FRAMES) in.nframes = 0;
            if (in.ncrumbs > CRASH_CRUMBS) in.ncrumbs = 0;
            for (uint32_t i = 0; i < in.ncrumbs; i++) {
                in.crumbs[i].msg[sizeof in.crumbs[i].msg - 1] = '\0';
                in.crumbs[i].data[sizeof in.crumbs[i].data - 1] = '\0';
            }
            report_crash(&in);
        }
}
