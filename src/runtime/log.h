/*
 * log.h -- the engine's log: one JSON object per line on stderr (or one
 * readable line per event under `kiln dev`). Any layer may log through it.
 */
#ifndef KILN_RUNTIME_LOG_H
#define KILN_RUNTIME_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_init(int level, int worker_id);
bool log_enabled(int level);
/* `fields_fmt` (printf-style, may be NULL) adds raw JSON members:
 * "\"route\":\"%s\"". */
void log_event(int level, const char *request_id, const char *msg, const char *fields_fmt, ...);
void log_flush(void);
void log_set_pretty(bool color);    /* kiln dev: human-readable lines */
/* One access line per answered request. `route` may be NULL or "". */
void log_access(const char *request_id, const char *method, const char *path, const char *route,
                int status, double ms);
/* The request whose lines carry its trace id: lines logged with this very
 * request_id pointer get "traceId" (NULL, NULL: none). */
void log_set_context(const char *request_id, const char *trace_id);
/* Shown every line logged for a request (error reports keep them as
 * breadcrumbs): fields are the line's other members, JSON, len bytes. */
typedef void (*log_tap_fn)(int level, const char *request_id, const char *msg, const char *fields, size_t len);
void log_set_tap(log_tap_fn fn);

#endif
