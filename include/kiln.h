/*
 * kiln.h -- the whole public API of Kiln: Next.js-style API routes, in C.
 *
 * An app is a folder. Every file under pages/api/ is a route:
 *
 *     pages/api/hello.c            ->  /api/hello
 *     pages/api/posts/index.c      ->  /api/posts
 *     pages/api/posts/[id].c       ->  /api/posts/:id        (kiln_query(req, "id"))
 *     pages/api/docs/[...slug].c   ->  /api/docs/a/b/c        (one or more segments)
 *     pages/api/opt/[[...slug]].c  ->  /api/opt, /api/opt/a/b (zero or more segments)
 *
 * A route file defines either one function that sees every method,
 *
 *     #include <kiln.h>
 *     void handler(kiln_req *req, kiln_res *res) {
 *         kiln_json(res, 200, "{message: %s}", "Hello, World!");
 *     }
 *
 * or one function per method: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS.
 * With per-method functions Kiln answers any other method with 405 and an
 * Allow header, serves HEAD from GET without the body, and answers OPTIONS
 * with 204 and Allow.
 *
 * A route may also define `const kiln_config config = { ... };`, the twin of
 * Next.js `export const config`.
 *
 * Rules every handler can rely on:
 *  - Everything Kiln hands you, and everything you get from kiln_alloc() and
 *    the other kiln_* allocators, lives in the request's arena and is freed
 *    when the response is done. Handler code never calls free().
 *  - Strings returned by lookups (kiln_query, kiln_header, kiln_cookie ...)
 *    are NUL-terminated and percent-decoded where that applies; NULL means
 *    "absent".
 *  - A response is sent exactly once. The first kiln_json / kiln_send /
 *    kiln_end / kiln_redirect / kiln_stream_begin call wins; later ones are
 *    logged and ignored. A handler that returns without responding gets a
 *    logged 500.
 *  - A handler runs on its own coroutine. kiln_offload() and kiln_sleep()
 *    suspend only this request; the worker keeps serving others.
 */
#ifndef KILN_H
#define KILN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_VERSION "0.1.0"

#if defined(__GNUC__)
#define KILN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KILN_PRINTF(f, a)
#endif

/* A byte string that is not necessarily NUL-terminated: a slice. */
typedef struct kiln_str {
    const char *ptr;
    size_t len;
} kiln_str;

typedef struct kiln_req kiln_req;
typedef struct kiln_res kiln_res;
typedef struct kiln_value kiln_value;
typedef struct kiln_jw kiln_jw;

/* ------------------------------------------------------------------------
 * The request
 * ---------------------------------------------------------------------- */

/* Read-only view of the request. Fields point into the request's memory. */
struct kiln_req {
    const char *method;       /* "GET", "POST" ... (NUL-terminated)              */
    const char *path;         /* "/api/posts/7": the path, without the query     */
    const char *query_string; /* raw query after '?', "" when there is none      */
    kiln_str body;            /* raw body bytes; body.ptr is NUL-terminated too  */
    const kiln_value *json;   /* the parsed body, like Next.js req.body: JSON for
                                 application/json, an object of strings for an
                                 urlencoded form (repeated keys: arrays); NULL
                                 for other types or no body                     */
    const char *remote_addr;  /* client address, "127.0.0.1" or "::1"; behind a
                                 proxy listed in KILN_TRUSTED_PROXIES, the
                                 right-most untrusted X-Forwarded-For entry    */
    const char *id;           /* request id, also sent as X-Request-Id           */
    const char *route;        /* the matched route pattern, "/api/posts/[id]"    */
    void *user;               /* free for middleware: the session's user, say    */
    struct kiln_req_private *priv; /* Kiln's own state; do not touch            */
};

/* Query and route parameters, merged like Next.js req.query: a route param
 * wins over a query-string key of the same name. Values are percent-decoded.
 * kiln_query returns the first value (for a catch-all: the segments joined
 * with '/'), or NULL. kiln_query_all stores every value in *out (an arena
 * array) and returns how many there are: for a catch-all, one per segment. */
const char *kiln_query(kiln_req *req, const char *name);
size_t kiln_query_all(kiln_req *req, const char *name, const char *const **out);

/* A route param as an integer: true only if the whole value is a decimal
 * integer that fits in int64_t. Handy for [id] routes. */
bool kiln_query_i64(kiln_req *req, const char *name, int64_t *out);

/* A request header, case-insensitive name. Repeated headers: the first. */
const char *kiln_header(kiln_req *req, const char *name);

/* A cookie from the Cookie header, or NULL. */
const char *kiln_cookie(kiln_req *req, const char *name);

/* A field of an application/x-www-form-urlencoded body, or NULL. */
const char *kiln_form(kiln_req *req, const char *name);

/* For routes with config.raw_body: read the next bytes of the body as they
 * arrive (suspends this request until some are there). Returns bytes read,
 * 0 at the end of the body, -1 if the client went away or broke framing. */
long kiln_body_read(kiln_req *req, void *buf, size_t cap);

/* ------------------------------------------------------------------------
 * Memory: the request's arena. Never NULL (out of memory aborts loudly).
 * ---------------------------------------------------------------------- */
void *kiln_alloc(kiln_req *req, size_t size);   /* zeroed, aligned for any type */
char *kiln_strdup(kiln_req *req, const char *s);
char *kiln_strndup(kiln_req *req, const char *s, size_t n);
char *kiln_sprintf(kiln_req *req, const char *fmt, ...) KILN_PRINTF(2, 3);
/* Run fn(arg) when the request is done (in reverse order of registration). */
void kiln_defer(kiln_req *req, void (*fn)(void *), void *arg);

/* ------------------------------------------------------------------------
 * Waiting without blocking the worker
 * ---------------------------------------------------------------------- */

/* Run fn(arg) on the worker's thread pool; this request is suspended and the
 * worker serves others meanwhile. Returns what fn returned. fn must not touch
 * req or res (it runs on another thread). */
void *kiln_offload(kiln_req *req, void *(*fn)(void *arg), void *arg);

/* Suspend this request for ms milliseconds. */
void kiln_sleep(kiln_req *req, unsigned ms);

/* ------------------------------------------------------------------------
 * The response
 * ---------------------------------------------------------------------- */

/* Headers, before the response starts. set replaces, append adds another. */
void kiln_set_header(kiln_res *res, const char *name, const char *value);
void kiln_append_header(kiln_res *res, const char *name, const char *value);

/* Send JSON built from a template: the template is JSON in which object keys
 * may be bare identifiers and these conversions stand for values:
 *   %s  const char *  as a JSON string (escaped), NULL -> null
 *   %S  kiln_str      as a JSON string (escaped)
 *   %d  int           %ld long   %lld long long   %u unsigned   %lu %llu
 *   %g  double        (non-finite -> null)
 *   %b  int           as true/false
 *   %j  const kiln_value * value as JSON, NULL -> null
 *   %r  const char *  raw JSON text, inserted as is
 *   %%  a literal '%'
 * Example: kiln_json(res, 201, "{id: %lld, title: %s}", id, title);
 * Content-Type: application/json; charset=utf-8. */
void kiln_json(kiln_res *res, int status, const char *tmpl, ...);
void kiln_json_v(kiln_res *res, int status, const char *tmpl, va_list ap);

/* Send a parsed JSON value. */
void kiln_send_json(kiln_res *res, int status, const kiln_value *value);

/* Send text/plain; charset=utf-8, printf-style. */
void kiln_text(kiln_res *res, int status, const char *fmt, ...) KILN_PRINTF(3, 4);

/* Send bytes with the given Content-Type (NULL: application/octet-stream). */
void kiln_send(kiln_res *res, int status, const char *content_type,
               const void *data, size_t len);

/* Send a status with an empty body (204, say). */
void kiln_end(kiln_res *res, int status);

/* Redirect: status 0 means 307. */
void kiln_redirect(kiln_res *res, int status, const char *location);

/* The shape of an error body: {"error": message}. */
void kiln_error(kiln_res *res, int status, const char *message);

/* Set-Cookie. Fields left zero are left out of the header. */
typedef struct kiln_cookie_opts {
    long max_age;          /* seconds; 0: session cookie; <0: expire now     */
    const char *path;      /* "/"                                            */
    const char *domain;
    const char *same_site; /* "Lax", "Strict" or "None"                      */
    bool http_only;
    bool secure;
} kiln_cookie_opts;
void kiln_set_cookie(kiln_res *res, const char *name, const char *value,
                     const kiln_cookie_opts *opts);

/* JSON built piece by piece, written straight into the response body.
 * Commas are placed for you. The response is sent when the handler returns.
 *
 *     kiln_jw *w = kiln_json_begin(res, 200);
 *     kiln_jw_array(w);
 *     for (...) kiln_jw_fmt(w, "{id: %d, title: %s}", id, title);
 *     kiln_jw_end(w);
 */
kiln_jw *kiln_json_begin(kiln_res *res, int status);
void kiln_jw_object(kiln_jw *w);              /* { */
void kiln_jw_array(kiln_jw *w);               /* [ */
void kiln_jw_end(kiln_jw *w);                 /* closes the innermost { or [ */
void kiln_jw_key(kiln_jw *w, const char *key);
void kiln_jw_string(kiln_jw *w, const char *s);          /* NULL -> null */
void kiln_jw_stringn(kiln_jw *w, const char *s, size_t n);
void kiln_jw_int(kiln_jw *w, long long v);
void kiln_jw_double(kiln_jw *w, double v);
void kiln_jw_bool(kiln_jw *w, bool v);
void kiln_jw_null(kiln_jw *w);
void kiln_jw_value(kiln_jw *w, const kiln_value *v);
void kiln_jw_fmt(kiln_jw *w, const char *tmpl, ...);  /* one value, template as kiln_json() */

/* Streaming (chunked) responses: each write goes to the client at once.
 * The basis of Server-Sent Events. Ends when kiln_stream_end is called or the
 * handler returns. kiln_stream_write returns false once the client is gone. */
void kiln_stream_begin(kiln_res *res, int status, const char *content_type);
bool kiln_stream_write(kiln_res *res, const void *data, size_t len);
bool kiln_stream_printf(kiln_res *res, const char *fmt, ...) KILN_PRINTF(2, 3);
void kiln_stream_end(kiln_res *res);

/* True once a response has been started. */
bool kiln_res_started(const kiln_res *res);

/* ------------------------------------------------------------------------
 * JSON values (request bodies, kiln_send_json)
 * ---------------------------------------------------------------------- */
typedef enum kiln_json_type {
    KILN_JSON_NULL,
    KILN_JSON_FALSE,
    KILN_JSON_TRUE,
    KILN_JSON_NUMBER,
    KILN_JSON_STRING,
    KILN_JSON_ARRAY,
    KILN_JSON_OBJECT
} kiln_json_type;

struct kiln_value {
    kiln_json_type type;
    size_t len;          /* STRING: bytes; NUMBER: literal bytes;
                            ARRAY/OBJECT: number of children                  */
    const char *str;     /* STRING: decoded UTF-8, NUL-terminated (may hold \0);
                            NUMBER: the literal as written, NUL-terminated    */
    double num;          /* NUMBER: its value                                 */
    const char *key;     /* a member of an object: its key, NUL-terminated    */
    size_t key_len;
    kiln_value *child;    /* ARRAY/OBJECT: the first child                     */
    kiln_value *next;     /* the next sibling                                  */
};

/* Member of an object by key (the last one if a key repeats), or NULL. */
const kiln_value *kiln_json_get(const kiln_value *obj, const char *key);
/* Element i of an array, or NULL. */
const kiln_value *kiln_json_at(const kiln_value *arr, size_t i);
/* The string, or NULL when v is not a string. */
const char *kiln_json_str(const kiln_value *v);
/* The string as a slice (its length counts any NUL bytes); {NULL, 0} when
 * v is not a string. Handy as a kiln_db_query parameter. */
kiln_str kiln_json_text(const kiln_value *v);
/* An integral number that fits in int64_t. */
bool kiln_json_i64(const kiln_value *v, int64_t *out);

/* Parse JSON text into the request's arena (NULL on invalid JSON; *err, if
 * given, gets a message that names the byte offset). */
const kiln_value *kiln_json_parse(kiln_req *req, const char *text, size_t len,
                                 const char **err);

/* ------------------------------------------------------------------------
 * The database: embedded SQLite by default (APP_DIR/data/app.db), PostgreSQL
 * when DATABASE_URL=postgres://... is set. One API for both.
 *
 *     kiln_rows *post = kiln_db_query(req, "SELECT id, title, content FROM posts WHERE id = ?", id);
 *     if (kiln_rows_count(post) == 0) return kiln_error(res, 404, "Post not found");
 *     kiln_send_row(res, 200, post);
 *
 * Parameters are `?` placeholders only (rewritten to $1.. for PostgreSQL);
 * values are bound, never pasted into SQL. Their C types pick the SQL type:
 * integers and bool -> integer, float/double -> real, char * -> text,
 * kiln_str -> text of that length (may hold NUL bytes), NULL -> null.
 * At most 16 parameters per statement.
 *
 * Results are read whole into the request's arena. A query never returns
 * NULL. When it fails:
 *   - a constraint violation (UNIQUE, FOREIGN KEY, NOT NULL, CHECK):
 *     kiln_rows_status() is KILN_DB_CONFLICT and nothing is sent: the
 *     handler decides (409, say);
 *   - invalid data (a NUL byte PostgreSQL cannot store, a bad number): the
 *     request is answered 400 {"error":...} at once;
 *   - the database is unreachable (PostgreSQL down, connection lost): 503;
 *   - anything else (an SQL syntax error, say): 500, logged with the SQL.
 * After such an automatic answer the handler's own sends are ignored
 * silently, so straight-line handler code stays correct.
 * Under kiln_graphql nothing is answered: the failure becomes the error of
 * the field whose resolver or batch function ran the query (docs/graphql.md).
 * A query may suspend the request (PostgreSQL I/O, a locked SQLite file);
 * the worker serves other requests meanwhile.
 * ---------------------------------------------------------------------- */
typedef struct kiln_rows kiln_rows;

typedef enum kiln_db_status {
    KILN_DB_OK = 0,
    KILN_DB_CONFLICT,     /* constraint violation: handler decides          */
    KILN_DB_INVALID,      /* invalid data: answered 400                      */
    KILN_DB_UNAVAILABLE,  /* database unreachable: answered 503              */
    KILN_DB_ERROR         /* any other failure: answered 500                 */
} kiln_db_status;

size_t kiln_rows_count(const kiln_rows *r);          /* rows returned          */
size_t kiln_rows_columns(const kiln_rows *r);
const char *kiln_rows_column(const kiln_rows *r, size_t col); /* its name     */
int64_t kiln_rows_changes(const kiln_rows *r);       /* rows changed by DML    */
kiln_db_status kiln_rows_status(const kiln_rows *r);
const char *kiln_rows_error(const kiln_rows *r);     /* NULL when OK           */

/* Typed getters by row index and column name. A missing column or a NULL
 * value gives 0 / NULL. Strings are NUL-terminated; kiln_rows_len gives the
 * byte length when the text may hold NUL bytes. */
int64_t kiln_rows_i64(const kiln_rows *r, size_t row, const char *col);
double kiln_rows_f64(const kiln_rows *r, size_t row, const char *col);
const char *kiln_rows_str(const kiln_rows *r, size_t row, const char *col);
size_t kiln_rows_len(const kiln_rows *r, size_t row, const char *col);
bool kiln_rows_is_null(const kiln_rows *r, size_t row, const char *col);

/* Send as JSON: every row as an array of objects, or the first row as one
 * object (404 {"error":"Not Found"} if there is none). Column names are the
 * keys; integers and reals are numbers, text is a string, NULL is null,
 * PostgreSQL json/jsonb columns are inserted as JSON. */
void kiln_send_rows(kiln_res *res, int status, const kiln_rows *r);
void kiln_send_row(kiln_res *res, int status, const kiln_rows *r);
/* The same, written into a JSON builder. */
void kiln_jw_rows(kiln_jw *w, const kiln_rows *r);
void kiln_jw_row(kiln_jw *w, const kiln_rows *r, size_t row);

/* Transactions. Between begin and commit the request keeps one connection.
 * A transaction still open when the request ends is rolled back. */
bool kiln_db_begin(kiln_req *req);
bool kiln_db_commit(kiln_req *req);
void kiln_db_rollback(kiln_req *req);

/* ---- parameter plumbing (read kiln_db_query above, not this) ---------- */
typedef struct kiln_param {
    int type;            /* 0 null, 1 integer, 2 real, 3 text */
    int64_t i;
    double d;
    const char *s;
    size_t n;
} kiln_param;
kiln_param kiln_p_i64(long long v);
kiln_param kiln_p_u64(unsigned long long v);
kiln_param kiln_p_f64(double v);
kiln_param kiln_p_text(const char *s);
kiln_param kiln_p_str(kiln_str s);
kiln_param kiln_p_null(const void *p);
kiln_rows *kiln_db_query_(kiln_req *req, const char *sql, const kiln_param *params, size_t n);

#define KILN_P_(x) _Generic((x),                                              \
    _Bool: kiln_p_i64, char: kiln_p_i64, signed char: kiln_p_i64,           \
    unsigned char: kiln_p_i64, short: kiln_p_i64, unsigned short: kiln_p_i64, \
    int: kiln_p_i64, unsigned: kiln_p_i64, long: kiln_p_i64,                 \
    unsigned long: kiln_p_u64, long long: kiln_p_i64,                        \
    unsigned long long: kiln_p_u64, float: kiln_p_f64, double: kiln_p_f64,   \
    char *: kiln_p_text, const char *: kiln_p_text, kiln_str: kiln_p_str,    \
    void *: kiln_p_null, const void *: kiln_p_null)(x)
#define KILN_NARG_(...) KILN_NARG__(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, _)
#define KILN_NARG__(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, N, ...) N
#define KILN_CAT_(a, b) KILN_CAT__(a, b)
#define KILN_CAT__(a, b) a##b
#define KILN_Q0_(s) s, (const kiln_param *)0, 0
#define KILN_Q1_(s, a) s, (const kiln_param[]){ KILN_P_(a) }, 1
#define KILN_Q2_(s, a, b) s, (const kiln_param[]){ KILN_P_(a), KILN_P_(b) }, 2
#define KILN_Q3_(s, a, b, c) s, (const kiln_param[]){ KILN_P_(a), KILN_P_(b), KILN_P_(c) }, 3
#define KILN_Q4_(s, a, b, c, d) s, (const kiln_param[]){ KILN_P_(a), KILN_P_(b), KILN_P_(c), KILN_P_(d) }, 4
#define KILN_Q5_(s, a, b, c, d, e) s, (const kiln_param[]){ KILN_P_(a), KILN_P_(b), KILN_P_(c), KILN_P_(d), KILN_P_(e) }, 5
#define KILN_Q6_(s, a, b, c, d, e, f) s, (const kiln_param[]){ KILN_P_(a), KILN_P_(b), KILN_P_(c), KILN_P_(d), KILN_P_(e), KILN_P_(f) }, 6
#define KILN_Q7_(s, a, b, c, d, e, f, g) s, (const kiln_param[]){ KILN_P_(a), KILN_P_(b), KILN_P_(c), KILN_P_(d), KILN_P_(e), KILN_P_(f), KILN_P_(g) }, 7
#define KILN_Q8_(s, a, b, c, d, e, f, g, h) s, (const kiln_param[]){ KILN_P_(a), KILN_P_(b), KILN_P_(c), KILN_P_(d), KILN_P_(e), KILN_P_(f), KILN_P_(g), KILN_P_(h) }, 8
#define KILN_Q9_(s, a, b, c, d, e, f, g, h, i) s, (const kiln_param[]){ KILN_P_(a), KILN_P_(b), KILN_P_(c), KILN_P_(d), KILN_P_(e), KILN_P_(f), KILN_P_(g), KILN_P_(h), KILN_P_(i) }, 9
#define KILN_Q10_(s, a, b, c, d, e, f, g, h, i, j) s, (const kiln_param[]){ KILN_P_(a), KILN_P_(b), KILN_P_(c), KILN_P_(d), KILN_P_(e), KILN_P_(f), KILN_P_(g), KILN_P_(h), KILN_P_(i), KILN_P_(j) }, 10
#define KILN_Q11_(s, a, b, c, d, e, f, g, h, i, j, k) s, (const kiln_param[]){ KILN_P_(a), KILN_P_(b), KILN_P_(c), KILN_P_(d), KILN_P_(e), KILN_P_(f), KILN_P_(g), KILN_P_(h), KILN_P_(i), KILN_P_(j), KILN_P_(k) }, 11
#define KILN_Q12_(s, a, b, c, d, e, f, g, h, i, j, k, l) s, (const kiln_param[]){ KILN_P_(a), KILN_P_(b), KILN_P_(c), KILN_P_(d), KILN_P_(e), KILN_P_(f), KILN_P_(g), KILN_P_(h), KILN_P_(i), KILN_P_(j), KILN_P_(k), KILN_P_(l) }, 12
#define KILN_Q13_(s, a, b, c, d, e, f, g, h, i, j, k, l, m) s, (const kiln_param[]){ KILN_P_(a), KILN_P_(b), KILN_P_(c), KILN_P_(d), KILN_P_(e), KILN_P_(f), KILN_P_(g), KILN_P_(h), KILN_P_(i), KILN_P_(j), KILN_P_(k), KILN_P_(l), KILN_P_(m) }, 13
#define KILN_Q14_(s, a, b, c, d, e, f, g, h, i, j, k, l, m, n) s, (const kiln_param[]){ KILN_P_(a), KILN_P_(b), KILN_P_(c), KILN_P_(d), KILN_P_(e), KILN_P_(f), KILN_P_(g), KILN_P_(h), KILN_P_(i), KILN_P_(j), KILN_P_(k), KILN_P_(l), KILN_P_(m), KILN_P_(n) }, 14
#define KILN_Q15_(s, a, b, c, d, e, f, g, h, i, j, k, l, m, n, o) s, (const kiln_param[]){ KILN_P_(a), KILN_P_(b), KILN_P_(c), KILN_P_(d), KILN_P_(e), KILN_P_(f), KILN_P_(g), KILN_P_(h), KILN_P_(i), KILN_P_(j), KILN_P_(k), KILN_P_(l), KILN_P_(m), KILN_P_(n), KILN_P_(o) }, 15
#define KILN_Q16_(s, a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) s, (const kiln_param[]){ KILN_P_(a), KILN_P_(b), KILN_P_(c), KILN_P_(d), KILN_P_(e), KILN_P_(f), KILN_P_(g), KILN_P_(h), KILN_P_(i), KILN_P_(j), KILN_P_(k), KILN_P_(l), KILN_P_(m), KILN_P_(n), KILN_P_(o), KILN_P_(p) }, 16
#define KILN_QARGS_(...) KILN_CAT_(KILN_Q, KILN_CAT_(KILN_NARG_(__VA_ARGS__), _))(__VA_ARGS__)
/* kiln_rows *kiln_db_query(kiln_req *req, const char *sql, ...params); */
#define kiln_db_query(req, ...) kiln_db_query_((req), KILN_QARGS_(__VA_ARGS__))

/* Several independent statements of one request, sent together: on
 * PostgreSQL they travel in one pipeline (one round trip for all), on
 * SQLite they simply run one after the other when you wait.
 *
 *     kiln_rows *post = kiln_db_send(req, "SELECT * FROM posts WHERE id = ?", id);
 *     kiln_rows *tags = kiln_db_send(req, "SELECT tag FROM tags WHERE post_id = ?", id);
 *     kiln_rows *user = kiln_db_send(req, "SELECT name FROM users WHERE id = ?", uid);
 *     if (!kiln_db_wait(req)) return;        // a failure was answered (or is yours)
 *     ... read post, tags, user as usual ...
 *
 * kiln_db_send() queues a statement and returns its rows, empty until
 * kiln_db_wait() sends every queued statement and waits for all of them
 * (before that, their status is KILN_DB_ERROR, "not sent yet").
 * Parameters are copied, so a loop may reuse its variables. Each statement
 * succeeds or fails on its own (no transaction joins them: use
 * kiln_db_begin for that; inside one they run on its connection, in order).
 * Failures are handled as for kiln_db_query, the first one answering.
 * kiln_db_wait() is true when every statement succeeded. kiln_db_query,
 * kiln_db_begin, kiln_db_commit and kiln_db_rollback first send and wait
 * for what is queued. */
kiln_rows *kiln_db_send_(kiln_req *req, const char *sql, const kiln_param *params, size_t n);
bool kiln_db_wait(kiln_req *req);
/* kiln_rows *kiln_db_send(kiln_req *req, const char *sql, ...params); */
#define kiln_db_send(req, ...) kiln_db_send_((req), KILN_QARGS_(__VA_ARGS__))


/* ------------------------------------------------------------------------
 * Validation: Joi-style schemas, declared as static C data.
 *
 *     static const kiln_rule post_schema[] = {
 *         KILN_STRING("title", .required = true, KILN_MAX(120)),
 *         KILN_STRING("content", .required = true),
 *         KILN_STRING("email", .email = true),
 *         KILN_STRING("role", KILN_ONE_OF("admin", "user")),
 *         KILN_INTEGER("age", KILN_MIN(18), KILN_MAX(120)),
 *         KILN_ARRAY("tags", KILN_MIN(1), .items = KILN_ITEMS(KILN_STRING(NULL))),
 *         KILN_OBJECT("author", .fields = KILN_FIELDS(
 *             KILN_STRING("name", .required = true))),
 *         {0}
 *     };
 *
 * is the twin of
 *
 *     Joi.object({
 *         title: Joi.string().max(120).required(),
 *         content: Joi.string().required(),
 *         email: Joi.string().email(),
 *         role: Joi.string().valid('admin', 'user'),
 *         age: Joi.number().integer().min(18).max(120),
 *         tags: Joi.array().items(Joi.string()).min(1),
 *         author: Joi.object({ name: Joi.string().required() }),
 *     })
 *
 * and answers with Joi's own messages, word for word:
 *     "title" is required              "title" is not allowed to be empty
 *     "age" must be an integer         "tags[0]" must be a string
 *     "role" must be one of [admin, user]          "x" is not allowed
 *     "role" must be [admin]   (one allowed value: Joi drops the "one of")
 *     "code" with value "abc" fails to match the required pattern: /^[0-9]+$/
 *
 * Declare schemas at file scope, as above: KILN_ONE_OF, KILN_FIELDS and
 * KILN_ITEMS are compound literals, constant there (inside a function, drop
 * the `static`).
 *
 * A schema is a field list: the fields of the root object, ended by an entry
 * whose name is NULL ({0}). The end entry may say `.allow_unknown = true`
 * (KILN_END_UNKNOWN): keys the list does not name are then allowed in that
 * object; by default they are errors ("x" is not allowed), as in Joi.
 *
 * Semantics, all Joi's (with its defaults: convert on, presence optional):
 *  - A field is optional unless .required. An absent optional field is not
 *    checked; null is a value like any other ("x" must be a string).
 *  - Conversion: a numeric string passes a NUMBER/INTEGER field ("42",
 *    " 4.2e1 "), "true"/"false" (any case, trimmed) pass a BOOLEAN field,
 *    in bodies as in query strings. Nothing converts to a string.
 *  - Checks run in a fixed order: conversion, required, allowed values
 *    (.one_of, .allow_empty), the type, then the rules in the order of the
 *    struct fields below (string: min, max, pattern, email; integer: integer,
 *    min, max; array: items, then min, max). Keys are checked in schema
 *    order, then unknown keys in JavaScript's key order.
 *  - Strings count length like JavaScript: UTF-16 code units ("é" is 1,
 *    "😀" is 2). "" is rejected unless .allow_empty or KILN_MIN(0).
 *  - Numbers must be finite and within +-(2^53 - 1) ("x" must be a safe
 *    number).
 *  - .pattern is searched for, as Joi's regex.test(): anchor it (^...$) to
 *    match the whole value. Syntax: POSIX ERE, plus the JavaScript forms
 *    Joi schemas use: \d \w \s \D \W \S, (?:...), lazy quantifiers, \n \t,
 *    \xHH, \uHHHH; '.' and [^...] match one character (not one byte) and
 *    '.' does not match a newline. Remember C doubles backslashes: "^\\d+$".
 *    Not supported (the schema is rejected at start): look-arounds,
 *    back-references, named groups. Matching takes time linear in the
 *    value's length, whatever the pattern (no catastrophic backtracking).
 *  - .email: Joi's rules (dot-atom local part of at most 64 bytes, two or
 *    more domain labels, a letter-led TLD, 254 characters at most), except
 *    that any well-formed TLD is accepted: Joi also requires the TLD to be
 *    in IANA's list.
 *  - Validation allocates only from the request's arena (messages, paths).
 *    Regexes are compiled once per process and cached.
 *  - A broken schema (a bad regex, min > max, a rule that does not fit the
 *    type, a key twice) is a programming error, never a client's: Kiln's
 *    schema check names the field -- schema field "p": min (10) is greater
 *    than max (8) -- and fails loudly.
 * ---------------------------------------------------------------------- */
typedef enum kiln_type {
    KILN_T_ANY,       /* Joi.any(): any value                                 */
    KILN_T_STRING,    /* Joi.string()                                         */
    KILN_T_INTEGER,   /* Joi.number().integer()                               */
    KILN_T_NUMBER,    /* Joi.number()                                         */
    KILN_T_BOOLEAN,   /* Joi.boolean()                                        */
    KILN_T_OBJECT,    /* Joi.object()                                         */
    KILN_T_ARRAY      /* Joi.array()                                          */
} kiln_type;

typedef struct kiln_rule {
    const char *name;               /* the key; NULL ends a field list (and is
                                       ignored in an .items rule)              */
    kiln_type type;
    bool required;                  /* Joi .required()                        */
    bool allow_empty;               /* "" is allowed (Joi .allow(''))         */
    bool has_min, has_max;          /* use KILN_MIN(x) / KILN_MAX(x)          */
    double min, max;                /* STRING: length; ARRAY: items; INTEGER,
                                       NUMBER: value (Joi .min() / .max())    */
    const char *pattern;            /* STRING: Joi .pattern(); see above      */
    bool email;                     /* STRING: Joi .email()                   */
    const char *const *one_of;      /* NULL-terminated allowed values (Joi
                                       .valid()): STRING and ANY compare text,
                                       INTEGER and NUMBER numbers ("2.5")     */
    const struct kiln_rule *fields; /* OBJECT: its field list; NULL: any keys
                                       (Joi.object() without keys)            */
    const struct kiln_rule *items;  /* ARRAY: what every element must meet    */
    bool allow_unknown;             /* OBJECT: keys not in .fields are allowed
                                       (Joi .unknown()); on the end entry of a
                                       list: the same, for that list's object
                                       (the way to say it for the root)       */
} kiln_rule;

#define KILN_ANY(...)     { .type = KILN_T_ANY, .name = __VA_ARGS__ }
#define KILN_STRING(...)  { .type = KILN_T_STRING, .name = __VA_ARGS__ }
#define KILN_INTEGER(...) { .type = KILN_T_INTEGER, .name = __VA_ARGS__ }
#define KILN_NUMBER(...)  { .type = KILN_T_NUMBER, .name = __VA_ARGS__ }
#define KILN_BOOLEAN(...) { .type = KILN_T_BOOLEAN, .name = __VA_ARGS__ }
#define KILN_OBJECT(...)  { .type = KILN_T_OBJECT, .name = __VA_ARGS__ }
#define KILN_ARRAY(...)   { .type = KILN_T_ARRAY, .name = __VA_ARGS__ }
#define KILN_MIN(x)       .has_min = true, .min = (x)
#define KILN_MAX(x)       .has_max = true, .max = (x)
#define KILN_ONE_OF(...)  .one_of = (const char *const[]){ __VA_ARGS__, NULL }
/* A nested field list, ended for you:  .fields = KILN_FIELDS(KILN_STRING("a"), ...) */
#define KILN_FIELDS(...)  ((const kiln_rule[]){ __VA_ARGS__, { 0 } })
/* The rule of an array's elements:     .items = KILN_ITEMS(KILN_STRING(NULL)) */
#define KILN_ITEMS(...)   (&(const kiln_rule)__VA_ARGS__)
/* Ends a field list whose object allows unknown keys. */
#define KILN_END_UNKNOWN  { .allow_unknown = true }

/* One validation error, as in Joi's error.details. */
typedef struct kiln_verror {
    const char *message;   /* "\"author.name\" is required"                   */
    const char *path;      /* "author.name", "tags[0]"; "" for the value itself */
    const char *type;      /* Joi's type: "any.required", "string.min" ...    */
} kiln_verror;

/* Validate req->json (an empty JSON or form body reads as {}, as in Next.js;
 * a body that is present and not an object -- JSON null, an array, text --
 * gets Joi's "value" must be of type object) / the query and route
 * parameters (unknown names are not checked: route params live there too). Valid: returns true and sends
 * nothing. Invalid: answers 400 {"error": "<Joi's first message>"} -- the
 * lesson's res.status(400).json({ error: error.details[0].message }) -- and
 * returns false.
 *
 *     if (!kiln_validate(req, res, post_schema)) return;
 */
bool kiln_validate(kiln_req *req, kiln_res *res, const kiln_rule *schema);
bool kiln_validate_query(kiln_req *req, kiln_res *res, const kiln_rule *schema);
/* Every error (Joi's abortEarly: false), in the request's arena; returns how
 * many (0: valid) and sends nothing. v NULL counts as absent. */
size_t kiln_validate_all(kiln_req *req, const kiln_value *v, const kiln_rule *schema,
                         const kiln_verror **errors);

/* Typed access to the top-level fields of the (validated) body. Absent, or
 * of another kind: NULL / {NULL, 0} / 0 / false. Numbers and booleans sent as
 * text ("42", "true"), which validation accepts as Joi does, are converted. */
const char *kiln_body_str(kiln_req *req, const char *key);
kiln_str kiln_body_text(kiln_req *req, const char *key);   /* keeps NUL bytes */
int64_t kiln_body_i64(kiln_req *req, const char *key);
double kiln_body_f64(kiln_req *req, const char *key);
bool kiln_body_bool(kiln_req *req, const char *key);

/* ------------------------------------------------------------------------
 * Middleware (the twin of Next.js middleware, and of per-route chains)
 *
 * A middleware is a function that runs before the handler, in the same
 * worker, with the same API (it may query the database):
 *
 *     bool my_check(kiln_req *req, kiln_res *res);
 *
 * It returns true to pass the request on, or answers (kiln_error ...) and
 * returns false to stop the chain. It may attach a value for later middleware
 * and the handler in req->user.
 *
 *  - App-wide: APP/middleware.c defines `bool middleware(kiln_req *, kiln_res *)`
 *    and, optionally, `const char *const matcher[] = { "/api/users/:path*", NULL };`
 *    (Next.js matcher syntax: literal segments, ":name" one segment, ":name*"
 *    zero or more, ":name+" one or more). Without a matcher it runs for every
 *    route.
 *  - Per route: a route file defines `const kiln_middleware middleware[] =
 *    { kiln_require_session, NULL };` and they run, in order, after the
 *    app-wide one.
 * Middleware runs before method dispatch, so it also sees the requests that
 * end in 405 or an automatic OPTIONS answer (CORS preflight needs that).
 * ---------------------------------------------------------------------- */
typedef bool (*kiln_middleware)(kiln_req *req, kiln_res *res);

/* CORS. Answers preflight requests (OPTIONS with Access-Control-Request-Method)
 * with 204 and stops the chain; on other requests from an allowed origin adds
 * the Access-Control-* headers and passes on. A request from an origin that
 * is not allowed passes on without CORS headers (the browser blocks it). */
typedef struct kiln_cors_opts {
    const char *const *origins;   /* NULL-terminated allowed origins; "*" for any */
    const char *methods;          /* default "GET, HEAD, POST, PUT, PATCH, DELETE"  */
    const char *headers;          /* allowed request headers; default: echo the
                                     Access-Control-Request-Headers of the request */
    const char *expose;           /* Access-Control-Expose-Headers, or NULL      */
    bool credentials;             /* Access-Control-Allow-Credentials: true
                                     (never together with "*": refused at start) */
    unsigned max_age;             /* preflight cache seconds; default 600        */
} kiln_cors_opts;
bool kiln_cors(kiln_req *req, kiln_res *res, const kiln_cors_opts *opts);

/* Rate limiting, counted across every worker of the server (shared memory),
 * and across every machine when KILN_REDIS_URL is set (in Redis; back to
 * this machine's count, logged, while Redis is down or slower than 50 ms):
 * at most `limit` requests per `window_s` seconds per key. Over it: 429
 * {"error":"Too Many Requests"} with Retry-After, and false. The key is the
 * client address when key is NULL. */
bool kiln_rate_limit(kiln_req *req, kiln_res *res, const char *key, unsigned limit, unsigned window_s);
/* Throttling failures only (logins: guesses, not users): check first without
 * counting (kiln_rate_check: 429 and false once `limit` were counted in the
 * window), count a failure with kiln_rate_limit (same key, limit, window),
 * and forget a key after a success if you like (kiln_rate_reset). Checking
 * again before a success keeps a guess that raced past the first check from
 * learning its answer once the limit was reached meanwhile. */
bool kiln_rate_check(kiln_req *req, kiln_res *res, const char *key, unsigned limit, unsigned window_s);
void kiln_rate_reset(kiln_req *req, const char *key, unsigned limit, unsigned window_s);

/* Security headers for API responses: X-Content-Type-Options: nosniff,
 * X-Frame-Options: DENY, Referrer-Policy: no-referrer,
 * Content-Security-Policy: default-src 'none'; frame-ancestors 'none',
 * Cross-Origin-Resource-Policy: same-origin. Always passes on. */
bool kiln_security_headers(kiln_req *req, kiln_res *res);
/* The same, configured. Fields left zero keep the defaults above; "" drops
 * that header. hsts_max_age > 0 adds Strict-Transport-Security (only send it
 * when the app is served over TLS). */
typedef struct kiln_security_opts {
    const char *csp;              /* Content-Security-Policy                 */
    const char *frame_options;    /* X-Frame-Options                         */
    const char *referrer_policy;  /* Referrer-Policy                         */
    const char *resource_policy;  /* Cross-Origin-Resource-Policy            */
    long hsts_max_age;            /* seconds; 0: no HSTS header              */
    bool hsts_subdomains;         /* ; includeSubDomains                     */
} kiln_security_opts;
bool kiln_security_headers_with(kiln_req *req, kiln_res *res, const kiln_security_opts *opts);

/* Logs one line when the request starts (method, path, address, user agent);
 * the access line at the end is always written at level info. Passes on. */
bool kiln_request_log(kiln_req *req, kiln_res *res);
/* The same, configured: the level ("info" unless given) and which request
 * headers to log besides (NULL-terminated names, e.g. "referer", "x-forwarded-for"). */
typedef struct kiln_request_log_opts {
    const char *level;
    const char *const *headers;
} kiln_request_log_opts;
bool kiln_request_log_with(kiln_req *req, kiln_res *res, const kiln_request_log_opts *opts);

/* ------------------------------------------------------------------------
 * Authentication: passwords and sessions
 *
 * Passwords are hashed with Argon2id (libsodium); hashing and verifying run
 * on the worker's thread pool, so a login never stalls other requests.
 * Sessions are random opaque tokens (256 bits, base64url). Only a hash of
 * each token is stored, in the app's database (table kiln_sessions, created
 * on first use), with an expiry. A request presents its token either as
 * `Authorization: Bearer <token>` or as the session cookie.
 * ---------------------------------------------------------------------- */

/* An Argon2id hash string ("$argon2id$v=19$...") in the arena, or NULL. */
char *kiln_password_hash(kiln_req *req, const char *password);
/* Hashing and verifying wait in a bounded queue for one of the worker's
 * hashing slots (KILN_PWHASH_CONCURRENCY, default (cores - 1) / workers;
 * KILN_PWHASH_QUEUE waiters, default 64): when the queue is full the request
 * is answered 503 {"error":"Service Unavailable"} with Retry-After: 1, the
 * functions below return NULL / false, kiln_res_started(res) is true, and the
 * handler's own answer is ignored. A flood of logins thus costs at most the
 * slots' CPU. */
/* True if password matches hash. Takes about the same time either way. */
bool kiln_password_verify(kiln_req *req, const char *hash, const char *password);
/* For a login with an unknown user: spend the same time as a real check,
 * so that "no such user" and "wrong password" cannot be told apart. */
void kiln_password_dummy_verify(kiln_req *req, const char *password);

typedef struct kiln_session_opts {
    const char *cookie;    /* cookie name; default "session"                     */
    long ttl_s;            /* lifetime; default 7 days                           */
} kiln_session_opts;

/* Create a session for user_id: stores its hash, sets the cookie (HttpOnly,
 * SameSite=Lax, Path=/; Secure behind TLS, i.e. X-Forwarded-Proto: https)
 * and returns the token (for a JSON body), or NULL after answering 503. */
const char *kiln_session_create(kiln_req *req, kiln_res *res, int64_t user_id,
                                const kiln_session_opts *opts);
/* The user id of the request's valid session, or 0 (none, unknown, expired,
 * revoked, malformed). The token is compared by its hash in constant time. */
int64_t kiln_session_user(kiln_req *req, const kiln_session_opts *opts);
/* Revoke the request's session at once (bearer and cookie alike) and clear
 * the cookie. True if a session was revoked. */
bool kiln_session_revoke(kiln_req *req, kiln_res *res, const kiln_session_opts *opts);

/* Middleware: no valid session -> 401 {"error":"Unauthorized"}. With one,
 * req->user points at its int64_t user id. A request authenticated by the
 * cookie (not a bearer token) with an unsafe method (anything but GET, HEAD
 * and OPTIONS) and an Origin of another site (or "null") -> 403
 * {"error":"Forbidden"} (CSRF).
 * Environment: KILN_SESSION_TTL_S (session lifetime when opts->ttl_s is 0),
 * KILN_PWHASH_CONCURRENCY (Argon2id hashes running at once per worker;
 * default (CPUs - 1) / workers, at least 1: each takes 64 MiB and a core). */
bool kiln_require_session(kiln_req *req, kiln_res *res);

/* ------------------------------------------------------------------------
 * Logging: one JSON line per event on stderr, with the request id.
 * level: "debug", "info", "warn", "error".
 * ---------------------------------------------------------------------- */
void kiln_log(kiln_req *req, const char *level, const char *fmt, ...) KILN_PRINTF(3, 4);

/* ------------------------------------------------------------------------
 * Error reporting (Sentry) and trace context
 *
 * With SENTRY_DSN set, Kiln reports to Sentry (or any server that speaks its
 * envelope protocol) on its own: a handler that crashes (with its stack), a
 * 500 from a database error (with the SQL text, never its values), a 504
 * from the time limit, a GraphQL resolver error that is not the client's
 * (no code, or not BAD_USER_INPUT / UNAUTHENTICATED / FORBIDDEN / CONFLICT;
 * with its path and operation). 4xx answers are never reported. Each event carries
 * the request (secrets taken out), the route, the session's user id, the
 * request's log lines, its request id and trace id; its id is logged and
 * sent to the client as X-Sentry-Event-Id. Also SENTRY_ENVIRONMENT,
 * SENTRY_RELEASE, SENTRY_SAMPLE_RATE (0..1). See docs/sentry.md.
 *
 * For errors the code handled but still wants seen. req may be NULL (code
 * outside a request, on the worker's own thread -- never inside a
 * kiln_offload function: the event then has no request). Both return the event
 * id (in req's arena, or valid until the thread's next capture when req is
 * NULL), or NULL when reporting is off or the event was dropped. Never
 * blocks: events are queued and sent by a background thread.
 *
 *     kiln_capture_error(req, "PaymentError", "charge %s declined", id);
 * ---------------------------------------------------------------------- */
typedef enum kiln_level {
    KILN_LEVEL_DEBUG, KILN_LEVEL_INFO, KILN_LEVEL_WARNING, KILN_LEVEL_ERROR, KILN_LEVEL_FATAL
} kiln_level;
const char *kiln_capture_message(kiln_req *req, kiln_level level, const char *fmt, ...) KILN_PRINTF(3, 4);
/* type: the error's kind, shown as the issue's title ("GraphQLError" ...). */
const char *kiln_capture_error(kiln_req *req, const char *type, const char *fmt, ...) KILN_PRINTF(3, 4);

/* The request's W3C trace id (32 hex): the caller's traceparent's, or one
 * started for this request. Every log line of the request carries it. */
const char *kiln_trace_id(kiln_req *req);

/* ------------------------------------------------------------------------
 * WebSocket (RFC 6455, with permessage-deflate, RFC 7692)
 *
 * A route accepts the upgrade and then talks in a straight line on the
 * request's coroutine (a receive suspends only this connection):
 *
 *     void GET(kiln_req *req, kiln_res *res) {
 *         kiln_ws *ws = kiln_ws_accept(req, res, NULL);
 *         if (!ws) return;                      // not a handshake: 400 sent
 *         kiln_ws_msg msg;
 *         while (kiln_ws_recv(ws, &msg))        // false once it is closed
 *             kiln_ws_send(ws, msg.type, msg.data, msg.len);
 *     }
 *
 * or with callbacks: set .on_message (and .on_close) and return. The
 * connection then stays open with no coroutine, no arena and no read buffer
 * while it is idle (a few hundred bytes besides the connection itself): the
 * choice for many mostly-idle clients. Callbacks run on the worker's event
 * loop: they must not block (no database calls; kiln_ws_send is fine).
 *
 * Middleware runs before the handler as for any request, so an upgrade can be
 * refused with a plain HTTP status (401 from kiln_require_session, 403, 429)
 * before kiln_ws_accept. The protocol is handled for you: pings answered,
 * a heartbeat ping every ping_ms (a peer silent for two of them is dropped),
 * the close handshake, and these closes: a protocol error 1002, text that is
 * not UTF-8 1007, a message over max_message 1009, a full send queue 1008.
 * A handler that returns without callbacks (or channel subscriptions) closes
 * the connection with 1000.
 * ---------------------------------------------------------------------- */
typedef struct kiln_ws kiln_ws;

typedef enum kiln_ws_type { KILN_WS_TEXT = 1, KILN_WS_BINARY = 2 } kiln_ws_type;

/* A received message. data is NUL-terminated (not counted in len) and valid
 * until the next kiln_ws_recv (or until on_message returns). Text is valid
 * UTF-8. */
typedef struct kiln_ws_msg {
    kiln_ws_type type;
    const char *data;
    size_t len;
} kiln_ws_msg;

typedef struct kiln_ws_opts {
    size_t max_message;       /* bytes, after inflating; default 1 MiB. Over: 1009 */
    size_t send_limit;        /* bytes queued for a slow reader; default 1 MiB   */
    bool drop_when_full;      /* over send_limit: drop the message (logged)
                                 instead of closing with 1008 (logged)          */
    unsigned ping_ms;         /* heartbeat interval; default 30000              */
    bool no_deflate;          /* never negotiate permessage-deflate             */
    const char *protocol;     /* the subprotocol to pick if the client offers it */
    void (*on_message)(kiln_ws *ws, const kiln_ws_msg *msg);
    void (*on_close)(kiln_ws *ws, int code, kiln_str reason);  /* once; 1006: no
                                 close frame came (peer gone)                   */
    void *user;               /* kiln_ws_user()                                 */
} kiln_ws_opts;

/* Complete the handshake (101 Switching Protocols, with the headers the
 * handler and middleware set). NULL after answering 400 (not a WebSocket
 * handshake) or 426 (another protocol version). opts may be NULL. */
kiln_ws *kiln_ws_accept(kiln_req *req, kiln_res *res, const kiln_ws_opts *opts);
/* The next message (suspends this request until one comes). False once the
 * connection is closing or closed: the handler should return. Without
 * on_message only; with it, waits for the close and returns false. */
bool kiln_ws_recv(kiln_ws *ws, kiln_ws_msg *msg);
/* Queue a message (text must be UTF-8). False if the connection is closing
 * or closed, or the message was dropped by the send_limit policy. Works from
 * the handler and from callbacks. */
bool kiln_ws_send(kiln_ws *ws, kiln_ws_type type, const void *data, size_t len);
bool kiln_ws_send_text(kiln_ws *ws, const char *text);
/* Start the close handshake (code 1000 when 0; reason may be NULL). */
void kiln_ws_close(kiln_ws *ws, int code, const char *reason);
void *kiln_ws_user(const kiln_ws *ws);
void kiln_ws_set_user(kiln_ws *ws, void *user);
/* Forward a channel's events (kiln_publish) to this socket as text messages
 * {"event":"<event>","data":<data>}, from the event loop (no coroutine is
 * woken). Ends when the connection closes. False if channels are not
 * available. */
bool kiln_ws_subscribe(kiln_ws *ws, const char *channel);

/* ------------------------------------------------------------------------
 * Per-route configuration: `const kiln_config config = { ... };`
 * Zero means the default.
 * ---------------------------------------------------------------------- */
enum kiln_method {
    KILN_GET, KILN_HEAD, KILN_POST, KILN_PUT, KILN_PATCH, KILN_DELETE,
    KILN_OPTIONS, KILN_METHOD_COUNT
};

/* Declared responses (the API description, issue 10): what a route answers,
 * status -> the shape of its JSON body. They appear in the OpenAPI document
 * (`kiln openapi APP`), and `kiln dev` checks every real response of the
 * method against them, reporting a mismatch with the declaration's file and
 * line. A list per method, next to the schemas of the route's config:
 *
 *     const kiln_config config = { .responses = {
 *         [KILN_GET]  = KILN_RESPONSES(KILN_RESPONSE(200, .items = KILN_ITEMS(KILN_OBJECT(NULL, .fields = post_fields)))),
 *         [KILN_POST] = KILN_RESPONSES(KILN_RESPONSE(201, .body = post_fields),
 *                                      KILN_RESPONSE(409)) } };
 *
 * .body is an object's field list (the same kiln_rule lists as request
 * schemas: unknown keys are a mismatch unless the list allows them); .items
 * says the body is an array of that rule; neither: no body is declared (a
 * status >= 400 then has Kiln's error shape, {"error": "..."}; a 204 none).
 * HEAD uses GET's. A status the method does not declare is a mismatch, except
 * an error answer with Kiln's error shape. */
typedef struct kiln_response {
    const char *file;               /* where it is declared: KILN_RESPONSE    */
    int line;                       /* sets both                              */
    int status;                     /* 0 ends a list                          */
    const struct kiln_rule *body;   /* the body is an object with these fields */
    const struct kiln_rule *items;  /* the body is an array of this rule      */
    const char *description;        /* for the document; default: the reason */
} kiln_response;
#define KILN_RESPONSE(...)  { .file = __FILE__, .line = __LINE__, .status = __VA_ARGS__ }
#define KILN_RESPONSES(...) ((const kiln_response[]){ __VA_ARGS__, { 0 } })

typedef struct kiln_config {
    size_t body_limit;        /* bytes; default 1 MB (1048576). Over it: 413  */
    bool raw_body;            /* no buffering, no parsing: kiln_body_read()  */
    bool allow_invalid_json;  /* pass invalid JSON bodies on (req->json NULL) */
    unsigned max_duration_ms; /* default 10000. Past it: 504 JSON            */
    /* Schemas checked before the handler runs, per method, so the handler
     * only ever sees valid input; failure: 400 {"error": Joi's message}.
     *     .body = { [KILN_POST] = post_schema, [KILN_PUT] = post_schema }
     * HEAD uses GET's. Every schema is checked at start (a broken one stops
     * the server with a message naming the field). */
    const kiln_rule *body[KILN_METHOD_COUNT];
    const kiln_rule *query[KILN_METHOD_COUNT];
    /* Bodies the handler checks itself with kiln_validate() -- after its own
     * 404, say, as the lesson's PUT does -- per method. Nothing is checked
     * before the handler; the OpenAPI document describes the body as for
     * .body, and `kiln dev` warns (route file) when the handler validates a
     * body with a schema that is not the one declared here:
     *     .validates = { [KILN_PUT] = post_schema } */
    const kiln_rule *validates[KILN_METHOD_COUNT];
    bool all_errors;          /* the 400 also lists every error:
                                 "details":[{"path":..., "message":...}]      */
    const kiln_response *responses[KILN_METHOD_COUNT]; /* declared answers,
                                 per method (see kiln_response above)        */
} kiln_config;

/* ------------------------------------------------------------------------
 * Real-time: channels and Server-Sent Events
 *
 * kiln_publish() sends an event to every subscriber of a channel: on every
 * worker of this machine (no extra server), and on every machine sharing
 * KILN_REDIS_URL=redis://host:port. Callable from a handler, a middleware,
 * an offloaded function or any C code of the app. json is JSON text (NULL:
 * null). Per publisher, subscribers see events in publish order. An event
 * is at most 1 MiB; a worker that stalls loses events rather than making
 * anyone buffer them (logged and counted).
 * ---------------------------------------------------------------------- */
void kiln_publish(const char *channel, const char *event, const char *json);
/* The same with an event id, which Server-Sent Events send as `id:` (the
 * browser returns the last one as Last-Event-ID when it reconnects). */
void kiln_publish_id(const char *channel, const char *event, const char *id, const char *json);
/* The same with the JSON built from a template, as kiln_json() does:
 *     kiln_publishf("posts", "post.deleted", "{id: %lld}", (long long)id); */
void kiln_publishf(const char *channel, const char *event, const char *tmpl, ...);
/* JSON text built from a template (as kiln_json), in the request's arena:
 * handy to publish with an id, or to store an event for replay. */
char *kiln_json_fmt(kiln_req *req, const char *tmpl, ...);

/* Server-Sent Events (text/event-stream). A route streams events to the
 * browser's EventSource; each one goes out when it is sent, never buffered.
 *
 *     void GET(kiln_req *req, kiln_res *res) {
 *         kiln_sse *s = kiln_sse_begin(req, res);
 *         kiln_sse_subscribe(s, "posts");          // forward the channel
 *         kiln_sse_run(s, 0);                      // until the client leaves
 *     }
 *
 * kiln_sse_begin answers 200 with Content-Type: text/event-stream,
 * Cache-Control: no-cache, and lifts the route's max duration (a stream
 * lives as long as its client). An event is `id:` (if any), `event:` (if
 * any) and one `data:` line per line of data (\n, \r\n or \r). Forwarded
 * channel events carry their event name, their JSON as data and the id given
 * to kiln_publish_id. Ids that are integers are taken to grow: a forwarded
 * event whose integer id is not above the last integer id sent on this
 * stream is skipped, so replaying history from Last-Event-ID and then
 * forwarding never sends an event twice. A client that cannot keep up
 * (over 1 MiB waiting) is disconnected (logged); its EventSource reconnects
 * with Last-Event-ID. Sends return false once the client is gone. */
typedef struct kiln_sse kiln_sse;
kiln_sse *kiln_sse_begin(kiln_req *req, kiln_res *res);
/* Last-Event-ID of a reconnecting client, or NULL. */
const char *kiln_sse_last_event_id(kiln_sse *s);
bool kiln_sse_send(kiln_sse *s, const char *event, const char *id, const char *data);
bool kiln_sse_retry(kiln_sse *s, unsigned ms);          /* retry: ms        */
bool kiln_sse_comment(kiln_sse *s, const char *text);   /* ": text" line   */
/* Forward a channel's events to this stream (from now on). */
void kiln_sse_subscribe(kiln_sse *s, const char *channel);
/* Hand the stream over to Kiln and return at once: from now on forwarded
 * events are written as they come and a heartbeat comment every
 * heartbeat_ms (0: $KILN_SSE_HEARTBEAT_MS, default 15000) so proxies keep
 * the connection open, until the client leaves or the server stops. Call it
 * last: the handler then returns, and an idle stream holds no coroutine,
 * arena or read buffer (about 1.2 KB). If the client already left, or the
 * server stops, the stream simply ends with the request. */
void kiln_sse_run(kiln_sse *s, unsigned heartbeat_ms);

/* Pusher Channels, served by Kiln itself (PUSHER_APP_ID, PUSHER_KEY and
 * PUSHER_SECRET set; off otherwise). Every app answers Pusher's REST API
 * (/apps/{app_id}/events, /batch_events, /channels ...), and Pusher channels
 * are Kiln channels: kiln_publish reaches Pusher subscribers and a REST
 * trigger reaches Kiln's.
 *
 * The body of a channel authorization answer, for the app's auth route
 * (pusher-js POSTs socket_id and channel_name to it): {"auth":"key:sig"},
 * plus "channel_data" for presence- channels, where presence_json is the
 * member, {"user_id":"7","user_info":{...}} (required there, ignored
 * otherwise). NULL when Pusher is off or socket_id/channel are malformed.
 *     const char *body = kiln_pusher_authorize(req, kiln_form(req, "socket_id"),
 *                                              kiln_form(req, "channel_name"), NULL);
 *     if (body) kiln_send(res, 200, "application/json", body, strlen(body)); */
const char *kiln_pusher_authorize(kiln_req *req, const char *socket_id, const char *channel,
                                  const char *presence_json);

/* ------------------------------------------------------------------------
 * For the code that `kiln build` generates; applications do not use this.
 * ---------------------------------------------------------------------- */
typedef void (*kiln_handler)(kiln_req *req, kiln_res *res);


typedef struct kiln_route_def {
    const char *pattern;                   /* "/api/posts/[id]"              */
    const char *file;                      /* "pages/api/posts/[id].c"       */
    kiln_handler handler;                  /* the one-function style, or NULL */
    kiln_handler methods[KILN_METHOD_COUNT]; /* per-method style              */
    const kiln_config *config;             /* NULL: defaults                 */
    const kiln_middleware *middleware;     /* NULL-terminated chain, or NULL */
    /* Set by `kiln build` / `kiln dev` when the route file calls
     * kiln_graphql(): the GraphQL endpoint, described as such by the OpenAPI
     * document (x-kiln-graphql). Changes nothing in how it is served. */
    bool graphql;
} kiln_route_def;

typedef struct kiln_gql_resolver_def kiln_gql_resolver_def;

typedef struct kiln_app_def {
    const kiln_route_def *routes;
    size_t nroutes;
    kiln_middleware middleware;            /* APP/middleware.c, or NULL      */
    const char *const *matcher;            /* its matcher, or NULL: all      */
    /* GraphQL (APP/graphql/): the schema's SDL and the resolvers found by
     * name in the .c files of APP/graphql; NULL / 0 without a schema. */
    const char *graphql_sdl;
    const kiln_gql_resolver_def *graphql_resolvers;
    size_t graphql_nresolvers;
} kiln_app_def;

/* The server's main(): parses --port, --workers and the environment, then
 * runs the master and its workers. Returns the process exit code. */
int kiln_main(int argc, char **argv, const kiln_app_def *app);
/* The `kiln dev` host's main: routes come from the shared objects named in
 * the manifest at $KILN_DEV_MANIFEST, reloaded on SIGUSR1. */
int kiln_dev_main(int argc, char **argv);
/* `APP/.kiln/server --openapi`: print the app's OpenAPI 3.1 document (what
 * `kiln openapi APP` runs). The generated main() calls it. */
int kiln_openapi_main(const kiln_app_def *app);

/* ------------------------------------------------------------------------
 * GraphQL resolvers (APP/graphql/): the schema is APP/graphql/schema.graphql
 * (SDL); each field that needs code is resolved by a plain C function named
 * Type_field in the .c files of APP/graphql -- no table to edit:
 *
 *     void Query_post(kiln_gql *g)
 *     {
 *         kiln_rows *r = kiln_db_query(kiln_gql_req(g), "SELECT id, title FROM posts WHERE id = ?",
 *                                      kiln_json_str(kiln_gql_arg(g, "id")));
 *         ...
 *     }
 *
 * `kiln build` checks the two against each other: a field of Query,
 * Mutation or Subscription without a resolver, or a resolver that matches
 * no field, is a build error naming the file and line. Other fields read
 * their parent's value by name when they have no resolver. Functions of
 * the .c files of APP/graphql that are not resolvers must be static.
 * ---------------------------------------------------------------------- */
typedef struct kiln_gql kiln_gql;              /* the field being resolved     */
typedef void (*kiln_gql_resolver)(kiln_gql *g);

struct kiln_gql_resolver_def {                /* generated by `kiln build`    */
    const char *name;                          /* "Query_posts"                */
    kiln_gql_resolver fn;
};

/* The parent value (the root value, or what the parent field returned). */
const kiln_value *kiln_gql_parent(kiln_gql *g);
/* An argument, coerced to its declared type (NULL: not given, no default). */
const kiln_value *kiln_gql_arg(kiln_gql *g, const char *name);
/* The HTTP request the operation came with (session, database ...). */
kiln_req *kiln_gql_req(kiln_gql *g);
/* The field's value: a JSON tree (objects for object fields, arrays for
 * lists); NULL is null. */
void kiln_gql_return(kiln_gql *g, const kiln_value *v);
/* Fail the field: the message and extensions.code (NULL: none), e.g.
 * kiln_gql_error(g, "UNAUTHENTICATED", "Unauthorized"). */
void kiln_gql_error(kiln_gql *g, const char *code, const char *fmt, ...) KILN_PRINTF(3, 4);

/* ------------------------------------------------------------------------
 * GraphQL subscriptions (docs/graphql.md): the endpoint (kiln_graphql)
 * serves them over WebSocket with the graphql-transport-ws protocol (the
 * npm `graphql-ws` client's). A field of the Subscription type names its
 * source of events -- a real-time channel (kiln_publish), and optionally
 * one event name of it -- when a client subscribes:
 *
 *     void Subscription_postCreated(kiln_gql *g)
 *     {
 *         kiln_gql_subscribe(g, "posts", "post.created");
 *     }
 *
 * Then for every such event the operation runs again with the event's data
 * as the root value, and the same resolver is called: kiln_gql_subscribe
 * now returns false and makes the event's data the field's value. The
 * resolver may go on to replace it (kiln_gql_return), fail it
 * (kiln_gql_error: the client gets a result with errors), or drop the
 * event for this subscriber (kiln_gql_skip): the event filter.
 *
 *     void Subscription_postUpdated(kiln_gql *g)      // postUpdated(id: ID!)
 *     {
 *         if (kiln_gql_subscribe(g, "posts", "post.updated")) return;
 *         int64_t id = 0;
 *         kiln_json_i64(kiln_json_get(kiln_gql_parent(g), "id"), &id);
 *         if (strcmp(kiln_sprintf(kiln_gql_req(g), "%lld", (long long)id),
 *                    kiln_json_str(kiln_gql_arg(g, "id"))) != 0)
 *             kiln_gql_skip(g);
 *     }
 *
 * Resolvers run for an event on the worker's event loop, like WebSocket
 * callbacks: they must not block (no database calls). Over HTTP a
 * subscription field fails with an error naming WebSocket.
 * ---------------------------------------------------------------------- */
/* Channel events in C code (what subscriptions are built on): fn(ctx, event,
 * data_json) for every event published on `channel` from now on, called on
 * this worker's event loop (never on a coroutine: it must not block), the
 * slices valid during the call only. Call from a handler or a loop callback
 * of a worker; kiln_channel_unsubscribe (safe inside fn, its own too) ends it
 * and frees the subscription. */
typedef struct kiln_channel_sub kiln_channel_sub;
typedef void (*kiln_channel_fn)(void *ctx, kiln_str event, kiln_str data_json);
kiln_channel_sub *kiln_channel_subscribe(const char *channel, kiln_channel_fn fn, void *ctx);
void kiln_channel_unsubscribe(kiln_channel_sub *sub);

/* While subscribing: subscribe the operation to `channel` (only events named
 * `event`; NULL: every event) and return true. For an event: return false,
 * the event's data being the field's value. */
bool kiln_gql_subscribe(kiln_gql *g, const char *channel, const char *event);
/* For an event: send nothing for it to this subscriber. */
void kiln_gql_skip(kiln_gql *g);

/* ------------------------------------------------------------------------
 * The GraphQL endpoint (GraphQL over HTTP): mount the app's schema
 * (APP/graphql/schema.graphql and its resolvers) at a route, e.g.
 * pages/api/graphql.c:
 *
 *     void handler(kiln_req *req, kiln_res *res) { kiln_graphql(req, res); }
 *
 * POST application/json {"query", "operationName", "variables",
 * "extensions"}; GET with the same as URL parameters, for queries only (a
 * mutation over GET: 405 with Allow: POST). The answer is
 * application/graphql-response+json when the client accepts it (a request
 * that fails to parse, validate or coerce its variables: 400), otherwise
 * application/json (those: 200 with "errors"). Batched (array) bodies and
 * malformed parameters: 400 with {"errors":[{"message":...}]}. A WebSocket
 * upgrade offering graphql-transport-ws is served as subscriptions.
 * Resolvers run on this request's coroutine; kiln_gql_req() is `req`.
 * ---------------------------------------------------------------------- */
void kiln_graphql(kiln_req *req, kiln_res *res);

/* ------------------------------------------------------------------------
 * GraphQL batching loader (like npm `dataloader`), against the N+1 problem.
 * A resolver asks for a key instead of querying:
 *
 *     static void users_by_id(kiln_gql_batch *b)      // N keys in, N values out
 *     {
 *         kiln_rows *r = kiln_db_query(kiln_gql_batch_req(b),
 *             "SELECT id, name FROM users WHERE id IN (SELECT value FROM json_each(?))",
 *             kiln_gql_batch_keys_json(b));
 *         kiln_gql_batch_rows(b, r, "id");            // each key gets the row whose id matches
 *     }
 *     void Post_author(kiln_gql *g)
 *     {
 *         kiln_gql_load(g, users_by_id, kiln_json_get(kiln_gql_parent(g), "author_id"));
 *     }
 *
 * Every key asked for while one level of the operation executes (Post.author
 * of every post of a list) goes to ONE call of the batch function, after
 * that level; a key asked for again in the same operation comes from the
 * cache. Keys are compared by their JSON text (1 and "1" differ). The
 * response is the one graphql-js gives with dataloader: the same data,
 * null propagation and errors.
 * ---------------------------------------------------------------------- */
typedef struct kiln_gql_batch kiln_gql_batch;   /* one call of a batch fn   */
typedef void (*kiln_gql_batch_fn)(kiln_gql_batch *b);

/* The field's value is the value the batch function gives for key (the
 * loader is the function itself). Instead of kiln_gql_return. */
void kiln_gql_load(kiln_gql *g, kiln_gql_batch_fn fn, const kiln_value *key);

/* In a batch function: the keys, in the order they were first asked for. */
size_t kiln_gql_batch_count(kiln_gql_batch *b);
const kiln_value *kiln_gql_batch_key(kiln_gql_batch *b, size_t i);
/* The keys as one JSON array text, for `IN (SELECT value FROM json_each(?))`
 * (SQLite) or `= ANY(ARRAY(SELECT json_array_elements_text(?::json)))`. */
const char *kiln_gql_batch_keys_json(kiln_gql_batch *b);
/* The request of the operation (its database, session ...). */
kiln_req *kiln_gql_batch_req(kiln_gql_batch *b);
/* The value of key i (NULL: null). A key given no value is null. */
void kiln_gql_batch_set(kiln_gql_batch *b, size_t i, const kiln_value *v);
/* Key i fails (the fields that asked for it get this error), or every key
 * fails (the batch as a whole did: its keys leave the cache, as in
 * dataloader, so a key asked for again later goes to a new batch). */
void kiln_gql_batch_error(kiln_gql_batch *b, size_t i, const char *code, const char *fmt, ...) KILN_PRINTF(4, 5);
void kiln_gql_batch_fail(kiln_gql_batch *b, const char *code, const char *fmt, ...) KILN_PRINTF(3, 4);
/* Each key's value is the row of r (as an object of its columns, typed as
 * kiln_gql_return_rows gives them) whose column `col` equals the key
 * (compared as text: an integer column's 3 matches the key 3 or "3"), or
 * null; if r failed, every key fails with "Internal server error" (code
 * INTERNAL_SERVER_ERROR). */
void kiln_gql_batch_rows(kiln_gql_batch *b, kiln_rows *r, const char *col);

/* ------------------------------------------------------------------------
 * GraphQL values straight from database rows, without JSON text in between
 * (docs/graphql.md section 3):
 *
 *     void Query_posts(kiln_gql *g)                   // posts: [Post!]!
 *     {
 *         kiln_gql_return_rows(g, kiln_db_query(kiln_gql_req(g), "SELECT id, title FROM posts ORDER BY id"));
 *     }
 *     void Query_post(kiln_gql *g)                    // post(id: ID!): Post
 *     {
 *         kiln_gql_return_row(g, kiln_db_query(kiln_gql_req(g), "SELECT id, title FROM posts WHERE id = ?",
 *                                              kiln_json_str(kiln_gql_arg(g, "id"))));
 *     }
 *
 * Each row is an object of its columns, which the fields below read by
 * column name (a field with no such column: undefined, as a missing
 * property). Types are kept as kiln_send_rows writes them: integers and
 * reals are numbers, text is a string, NULL is null, PostgreSQL booleans
 * are booleans and json/jsonb columns their JSON value; GraphQL then
 * coerces (an ID field of an integer column answers "1").
 * ---------------------------------------------------------------------- */
/* The field's value: every row of r, in order (a list field), or its first
 * row, null when there is none (an object field). If r failed, the field
 * fails: with the database layer's error when it caught the failure (docs/graphql.md),
 * else (a constraint violation) "Internal server error", INTERNAL_SERVER_ERROR. */
void kiln_gql_return_rows(kiln_gql *g, const kiln_rows *r);
void kiln_gql_return_row(kiln_gql *g, const kiln_rows *r);
/* Row `row` of r as such an object (NULL past the last row), in the
 * request's arena; its strings point into r. For batch functions that
 * match rows to keys themselves (kiln_gql_batch_set). */
const kiln_value *kiln_rows_value(kiln_req *req, const kiln_rows *r, size_t row);

#ifdef __cplusplus
}
#endif
#endif /* KILN_H */
