/*
 * log.h -- the engine's log: one JSON object per line on stderr (or one
 * readable line per event under `kiln dev`). Any layer may log through it.
 */
#ifndef KILN_RUNTIME_LOG_H
#define KILN_RUNTIME_LOG_H

#include <stdbool.h>

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

#endif
