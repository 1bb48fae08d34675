/*
 * report.h -- error reporting to Sentry (and servers that speak its
 * protocol): the internal interface of src/report/.
 *
 *   envelope.c  the wire format: DSN, event JSON, envelopes, client reports,
 *               X-Sentry-Rate-Limits. Pure functions, unit-tested and fuzzed.
 *   sender.c    the bounded queue and the sender thread (libcurl), rate
 *               limits honoured, drops counted, flush on stop.
 *   capture.c   from a request (or a crash record) to an event; the public
 *               kiln_capture_* API; the hooks the engine calls.
 *
 * Nothing here runs on the request's path for long: building an event is a
 * few kilobytes of formatting; sending happens on the sender thread.
 */
#ifndef KILN_REPORT_H
#define KILN_REPORT_H

#include "core/buf.h"
#include "core/core.h"

#include <stdint.h>

/* ---- DSN ---------------------------------------------------------------
 * {scheme}://{public_key}[:{secret}]@{host}[:{port}]{/path}/{project_id}
 * -> envelope URL {scheme}://{host}[:{port}]{/path}/api/{project_id}/envelope/ */
typedef struct report_dsn {
    char url[512];          /* the envelope endpoint                         */
    char key[128];          /* the public key (sentry_key)                   */
    char project[64];
} report_dsn;

/* 0 on success, -1 when dsn is not a valid DSN (http or https only). */
int report_dsn_parse(const char *dsn, report_dsn *out);

/* "Sentry sentry_version=7, sentry_key=KEY, sentry_client=kiln/VERSION" */
void report_auth_header(const report_dsn *d, char *out, size_t cap);

/* ---- events ------------------------------------------------------------ */
typedef struct report_frame {
    const char *function;
    const char *file;
    long line;
    bool in_app;            /* the app's own code (pages/, lib/)            */
} report_frame;

typedef struct report_crumb {
    double ts;              /* seconds since the epoch                       */
    const char *level;      /* "debug", "info", "warning", "error"           */
    const char *message;
    const char *data;       /* the log line's other fields, a JSON object's
                               members ("\"k\":v,..."), or NULL              */
} report_crumb;

typedef struct report_kv { const char *name; const char *value; } report_kv;

typedef struct report_event {
    char event_id[33];      /* 32 lowercase hex                              */
    double timestamp;       /* seconds since the epoch                       */
    const char *level;      /* "fatal", "error", "warning", "info", "debug"  */
    const char *message;    /* a message event's text, or NULL               */
    const char *exc_type;   /* an exception: its type ("SIGSEGV", "DatabaseError" ...) */
    const char *exc_value;  /* ... and its text                              */
    const report_frame *frames;  size_t nframes;   /* caller first, crash last */
    /* the request, when there is one (method NULL: none) */
    const char *method, *url, *query;
    const report_kv *headers;    size_t nheaders;  /* already scrubbed       */
    const char *transaction;     /* the route pattern                        */
    int64_t user_id;             /* 0: none                                  */
    const char *request_id;
    int worker;                  /* -1: the master                           */
    const char *trace_id, *span_id, *parent_span_id;   /* NULL: none        */
    const report_crumb *crumbs;  size_t ncrumbs;
    const char *sql;             /* extra.sql (text only, never values)      */
    const char *status;          /* extra.status: the HTTP answer            */
    /* A GraphQL resolver error: tags graphql.operation, extra graphql_path,
     * graphql_operation. NULL: none. */
    const char *gql_path, *gql_operation;
} report_event;

/* Fresh random ids (getrandom; async-signal-safe). */
void report_new_event_id(char out[33]);
void report_new_span_id(char out[17]);

/* True if a header (or field) of this name must not leave the server:
 * Authorization, Cookie, Set-Cookie, Proxy-Authorization and anything named
 * like a secret (token, secret, password, passwd, api-key, apikey,
 * session, csrf, auth), case-insensitive. */
bool report_sensitive_name(const char *name, size_t len);

/* Process-wide event settings (from the environment, report_configure). */
typedef struct report_settings {
    const char *environment;     /* SENTRY_ENVIRONMENT, default "production"  */
    const char *release;         /* SENTRY_RELEASE, default the build's identity */
    const char *server_name;     /* the host name                            */
    const char *dsn;             /* the DSN as given (envelope header)       */
} report_settings;

/* The event as JSON (one line) onto out. */
void report_event_json(buf *out, const report_event *e, const report_settings *s);

/* A whole envelope holding one event (and a client report when any of the
 * dropped counters is non-zero). */
typedef struct report_drops {
    uint64_t queue_overflow, ratelimit_backoff, sample_rate, network_error;
} report_drops;
void report_envelope(buf *out, const char *event_json, size_t len, const char *event_id,
                     const report_settings *s, const report_drops *drops);

/* ---- rate limits ---------------------------------------------------------
 * X-Sentry-Rate-Limits: "60:error;transaction:key, 2700:default:organization"
 * Returns the seconds the "error" category (events) must wait: the largest
 * retry_after of the entries naming "error", "default" or no category at all
 * (= every category); 0 when none applies or the header is malformed. */
unsigned report_parse_rate_limits(const char *header, size_t len);
/* Retry-After as seconds (only the delta-seconds form; default when absent
 * or an HTTP date: dflt). */
unsigned report_parse_retry_after(const char *header, size_t len, unsigned dflt);

/* ---- the sender (sender.c) ----------------------------------------------- */
/* Start the sender thread of this process (idempotent). 0, or -1 when the
 * DSN is invalid or libcurl fails to start (logged). */
int report_sender_start(const char *dsn, double sample_rate);
/* Queue an event (its JSON; copied). Never blocks: a full queue drops it
 * and counts it. Returns false when dropped or sampled out. */
bool report_sender_enqueue(const char *event_json, size_t len, const char *event_id);
/* Flush what is queued for up to timeout_ms, then stop the thread. */
void report_sender_stop(unsigned timeout_ms);
/* (Counts of what was queued, sent, dropped and failed go to the metrics:
 * kiln_reporter_events_total, kiln_reporter_queue_depth.) */
/* The settings events are built with (valid once a sender started). */
const report_settings *report_get_settings(void);

/* Queue capacity (events). */
#define REPORT_QUEUE_CAP 64

#endif
