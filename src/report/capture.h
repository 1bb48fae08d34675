/*
 * capture.h -- the hooks of capture.c (see there), for observe.c.
 */
#ifndef KILN_REPORT_CAPTURE_H
#define KILN_REPORT_CAPTURE_H

#include "api/api.h"

extern bool report_on;     /* SENTRY_DSN set and valid */

void capture_master_start(void);        /* the crash channel, before fork   */
void capture_worker_start(void);        /* report crashes of earlier workers */
void capture_answer(conn *c, int status);
void capture_log_line(int level, const char *rid, const char *msg, const char *fields, size_t len);
void capture_crash(conn *c, int sig, void *const *frames, int nframes, char *hdr, size_t cap);

#endif
