/*
 * log.c -- structured logs: one JSON object per line on stderr.
 *
 * Every line has ts, level, worker, msg and (for request events) requestId.
 * Lines are gathered in a per-process buffer and written once per event-loop
 * turn (log_flush), so an access log costs no syscall per request; warnings
 * and errors are flushed at once.
 * A request's lines also carry its W3C trace id ("traceId") when the
 * engine runs that request's code (log_set_context), and are shown to the
 * framework's tap (error reports keep them as breadcrumbs).
 *
 * Owns: the line buffer. Must never: block the loop for long (stderr is
 * written with a plain write; a full pipe would stall, as with any logger).
 */
#include "runtime/engine.h"
#include "json/escape.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int min_level = LOG_INFO;
static int worker_id = -1;
static buf out;
static const char *ctx_request_id, *ctx_trace_id;   /* the bound request */
static log_tap_fn tap;

void log_set_tap(log_tap_fn fn) { tap = fn; }

void log_set_context(const char *request_id, const char *trace_id)
{
    ctx_request_id = request_id;
    ctx_trace_id = trace_id && *trace_id ? trace_id : NULL;
}

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_init(int level, int id)
{
    min_level = level;
    worker_id = id;
}

bool log_enabled(int level) { return level >= min_level; }

/* "2026-11-24T05:06:06.123Z": the seconds part is formatted once per second. */
static void put_ts(buf *b)
{
    static time_t cached_sec = -1;
    static char cached[24];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = ts.tv_sec;
    }
    buf_puts(b, cached);
    unsigned ms = (unsigned)(ts.tv_nsec / 1000000);
    char t[6] = { '.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10), (char)('0' + ms % 10), 'Z', 0 };
    buf_append(b, t, 5);
}

void log_flush(void)
{
    size_t off = 0;
    while (off < out.len) {
        ssize_t n = write(2, out.data + off, out.len - off);
        if (n <= 0) break;
        off += (size_t)n;
    }
    out.len = 0;
}

static void begin_line(int level, const char *request_id, const char *msg)
{
    buf_puts(&out, "{\"ts\":\"");
    put_ts(&out);
    buf_puts(&out, "\",\"level\":\"");
    buf_puts(&out, level_names[level]);
    buf_puts(&out, "\"");
    if (worker_id >= 0) buf_printf(&out, ",\"worker\":%d", worker_id);
    else buf_puts(&out, ",\"process\":\"master\"");
    buf_puts(&out, ",\"msg\":");
    json_escape(&out, msg, strlen(msg));
    if (request_id) {
        buf_puts(&out, ",\"requestId\":\"");
        buf_puts(&out, request_id);
        buf_putc(&out, '"');
        if (request_id == ctx_request_id && ctx_trace_id) {
            buf_puts(&out, ",\"traceId\":\"");
            buf_puts(&out, ctx_trace_id);
            buf_putc(&out, '"');
        }
    }
}

/* fields_fmt: printf format producing `"k":v,"k2":v2` (already JSON), or NULL. */
/* kiln dev: lines for a person, not a log collector; colour on a TTY. */
static bool pretty, color;

void log_set_pretty(bool use_color)
{
    pretty = true;
    color = use_color;
}

static const char *level_color(int level)
{
    return level >= LOG_ERROR ? "31" : level == LOG_WARN ? "33" : level == LOG_DEBUG ? "90" : "36";
}

static void pretty_event(int level, const char *msg, const char *fields_fmt, va_list ap)
{
    if (color) buf_printf(&out, "\033[%sm%-5s\033[0m %s", level_color(level), level_names[level], msg);
    else buf_printf(&out, "%-5s %s", level_names[level], msg);
    if (fields_fmt) {
        buf_puts(&out, "  ");
        buf_vprintf(&out, fields_fmt, ap);
    }
    buf_putc(&out, '\n');
    log_flush();
}

void log_event(int level, const char *request_id, const char *msg, const char *fields_fmt, ...)
{
    if (level < min_level) return;
    if (pretty) {
        va_list ap;
        va_start(ap, fields_fmt);
        pretty_event(level, msg, fields_fmt, ap);
        va_end(ap);
        return;
    }
    begin_line(level, request_id, msg);
    size_t fields_at = out.len;
    if (fields_fmt) {
        buf_putc(&out, ',');
        va_list ap;
        va_start(ap, fields_fmt);
        buf_vprintf(&out, fields_fmt, ap);
        va_end(ap);
    }
    if (request_id && tap) {
        size_t skip = fields_fmt ? 1 : 0;
        tap(level, request_id, msg, out.data + fields_at + skip, out.len - fields_at - skip);
    }
    buf_puts(&out, "}\n");
    if (level >= LOG_WARN || worker_id < 0) log_flush();
}

void log_access(const char *request_id, const char *method, const char *path, const char *route,
                int status, double ms)
{
    if (LOG_INFO < min_level) return;
    if (pretty) {
        /* "GET /api/hello 200 0.31 ms", the status coloured by its class. */
        const char *sc = status >= 500 ? "31" : status >= 400 ? "33" : status >= 300 ? "36" : "32";
        if (color) buf_printf(&out, "%s %s \033[%sm%d\033[0m %.2f ms\n", method, path, sc, status, ms);
        else buf_printf(&out, "%s %s %d %.2f ms\n", method, path, status, ms);
        log_flush();
        return;
    }
    begin_line(LOG_INFO, request_id, "request");
    buf_puts(&out, ",\"method\":");
    json_escape(&out, method, strlen(method));
    buf_puts(&out, ",\"path\":");
    json_escape(&out, path, strlen(path));
    buf_puts(&out, ",\"status\":");
    buf_put_u64(&out, (unsigned)status);
    /* ms with 3 decimals, without printf's cost */
    unsigned long long us = ms > 0 ? (unsigned long long)(ms * 1000.0 + 0.5) : 0;
    buf_puts(&out, ",\"ms\":");
    buf_put_u64(&out, us / 1000);
    char frac[4] = { '.', (char)('0' + us / 100 % 10), (char)('0' + us / 10 % 10), (char)('0' + us % 10) };
    buf_append(&out, frac, 4);
    if (route && *route) { buf_puts(&out, ",\"route\":\""); buf_puts(&out, route); buf_putc(&out, '"'); }
    buf_puts(&out, "}\n");
    if (out.len > 32768) log_flush();
}
