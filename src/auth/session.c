/*
 * session.c -- server-side sessions: kiln_session_create / _user / _revoke
 * and the kiln_require_session middleware (with its CSRF rule).
 *
 * A session is an opaque token: 32 bytes from randombytes_buf, base64url
 * without padding (43 characters). The database never sees a token, only
 * its BLAKE2b-256 digest in hex, in
 *
 *     kiln_sessions(token_hash TEXT PRIMARY KEY, user_id BIGINT, expires_at BIGINT)
 *
 * (expires_at in Unix seconds), created with CREATE TABLE IF NOT EXISTS the
 * first time a worker needs it, through kiln_db_query, so the same SQL
 * serves SQLite and PostgreSQL. A stolen copy of the table gives no usable
 * token. Lookups go by digest (the primary key); the stored digest is then
 * compared with sodium_memcmp as well (belt and braces: the comparison
 * never depends on where two digests first differ).
 *
 * A request presents its token as `Authorization: Bearer <token>` (which
 * wins when present) or as the session cookie. Expired rows are refused
 * (and deleted when met); kiln_session_revoke deletes the row, so a revoked
 * token is dead at once in every worker. Lifetime: opts->ttl_s, else the
 * KILN_SESSION_TTL_S environment variable, else 7 days.
 *
 * CSRF: a browser sends cookies on cross-site requests by itself, bearer
 * tokens it never does. So kiln_require_session refuses (403) a request
 * that is authenticated by the cookie, uses a method other than GET, HEAD
 * or OPTIONS, and carries an Origin whose host (and port) is not the Host
 * the request was sent to. SameSite=Lax on the cookie already keeps it off
 * most cross-site requests; the Origin check covers the rest (same-site
 * sibling hosts, older browsers).
 *
 * Owns: the kiln_sessions table and this worker's "table exists" flag.
 * Must never: store or log a token, compare digests with memcmp/strcmp, or
 * accept a token without checking its expiry.
 */
#include "auth/auth.h"
#include "api/request.h"
#include "core/core.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TOKEN_BYTES 32
#define TOKEN_LEN 43                      /* base64url of 32 bytes, no '=' */
#define DIGEST_BYTES 32                   /* BLAKE2b-256                   */
#define DIGEST_HEX (DIGEST_BYTES * 2)
#define DEFAULT_TTL_S (7L * 24 * 3600)
#define SWEEP_EVERY_S 3600

static bool table_ready;                  /* this worker made sure it exists */
static time_t last_sweep;

/* ---- small pieces ----------------------------------------------------- */

static const char *cookie_name(const kiln_session_opts *o)
{
    return o && o->cookie && *o->cookie ? o->cookie : "session";
}

static long ttl_of(const kiln_session_opts *o)
{
    if (o && o->ttl_s > 0) return o->ttl_s;
    const char *env = getenv("KILN_SESSION_TTL_S");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && v > 0) return v;
    }
    return DEFAULT_TTL_S;
}

/* hex of BLAKE2b-256(token) into out[DIGEST_HEX + 1]. */
static void token_digest(const char *token, char *out)
{
    unsigned char d[DIGEST_BYTES];
    crypto_generichash(d, sizeof d, (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(out, DIGEST_HEX + 1, d, sizeof d);
    sodium_memzero(d, sizeof d);
}

/* The token the request presents. *bearer: it came from Authorization. A
 * Bearer header wins over the cookie, even when its token is bad. */
static const char *request_token(kiln_req *req, const kiln_session_opts *o, bool *bearer)
{
    const char *given = request_session_token(req);      /* connection_init's */
    if (given) { *bearer = true; return given; }
    const char *auth = kiln_header(req, "authorization");
    if (auth && !strncasecmp(auth, "Bearer ", 7)) {
        *bearer = true;
        const char *t = auth + 7;
        while (*t == ' ') t++;
        size_t n = strlen(t);
        while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t')) n--;
        return kiln_strndup(req, t, n);
    }
    *bearer = false;
    return kiln_cookie(req, cookie_name(o));
}

/* Behind a TLS-terminating proxy: X-Forwarded-Proto: https (first value). */
static bool behind_tls(kiln_req *req)
{
    const char *p = kiln_header(req, "x-forwarded-proto");
    if (!p) return false;
    while (*p == ' ') p++;
    return !strncasecmp(p, "https", 5) && (p[5] == '\0' || p[5] == ',' || p[5] == ' ');
}

static kiln_cookie_opts cookie_opts(kiln_req *req, long max_age)
{
    return (kiln_cookie_opts){
        .max_age = max_age, .path = "/", .same_site = "Lax", .http_only = true, .secure = behind_tls(req),
    };
}

/* CREATE TABLE IF NOT EXISTS, once per worker. Two workers creating it at
 * the same moment on PostgreSQL: the loser gets a unique violation on the
 * catalog (KILN_DB_CONFLICT), which means it exists now. False after
 * kiln_db answered the request (503/500). */
static bool ensure_table(kiln_req *req)
{
    if (table_ready) return true;
    kiln_rows *r = kiln_db_query(req,
        "CREATE TABLE IF NOT EXISTS kiln_sessions ("
        "token_hash TEXT PRIMARY KEY, user_id BIGINT NOT NULL, expires_at BIGINT NOT NULL)");
    if (kiln_rows_status(r) != KILN_DB_OK && kiln_rows_status(r) != KILN_DB_CONFLICT) return false;
    r = kiln_db_query(req, "CREATE INDEX IF NOT EXISTS kiln_sessions_expires_at ON kiln_sessions (expires_at)");
    if (kiln_rows_status(r) != KILN_DB_OK && kiln_rows_status(r) != KILN_DB_CONFLICT) return false;
    table_ready = true;
    return true;
}

/* The user of a valid (known, unexpired) token, or 0. */
static int64_t token_user(kiln_req *req, const char *token)
{
    if (!auth_token_shape_ok(token)) return 0;      /* garbage: no query at all */
    auth_sodium_init();
    if (!ensure_table(req)) return 0;
    char digest[DIGEST_HEX + 1];
    token_digest(token, digest);
    kiln_rows *r = kiln_db_query(req, "SELECT token_hash, user_id, expires_at FROM kiln_sessions WHERE token_hash = ?",
                                 (const char *)digest);
    if (kiln_rows_count(r) != 1) return 0;
    const char *stored = kiln_rows_str(r, 0, "token_hash");
    if (!stored || kiln_rows_len(r, 0, "token_hash") != DIGEST_HEX ||
        sodium_memcmp(stored, digest, DIGEST_HEX) != 0)
        return 0;
    int64_t uid = kiln_rows_i64(r, 0, "user_id");
    int64_t expires = kiln_rows_i64(r, 0, "expires_at");
    if (expires <= (int64_t)time(NULL)) {
        kiln_db_query(req, "DELETE FROM kiln_sessions WHERE token_hash = ?", (const char *)digest);
        return 0;
    }
    return uid > 0 ? uid : 0;
}

/* ---- the API ------------------------------------------------------------ */

const char *kiln_session_create(kiln_req *req, kiln_res *res, int64_t user_id, const kiln_session_opts *opts)
{
    auth_sodium_init();
    if (user_id <= 0) {
        kiln_log(req, "error", "kiln_session_create: user id %lld is not a positive id", (long long)user_id);
        kiln_error(res, 500, "Internal Server Error");
        return NULL;
    }
    if (!ensure_table(req)) return NULL;
    long ttl = ttl_of(opts);
    time_t now = time(NULL);
    if (now - last_sweep >= SWEEP_EVERY_S) {
        /* Now and then, drop the rows of sessions that ran out. */
        last_sweep = now;
        kiln_rows *r = kiln_db_query(req, "DELETE FROM kiln_sessions WHERE expires_at <= ?", (long long)now);
        if (kiln_rows_status(r) != KILN_DB_OK && kiln_rows_status(r) != KILN_DB_CONFLICT) return NULL;
    }

    unsigned char raw[TOKEN_BYTES];
    char token[sodium_base64_ENCODED_LEN(TOKEN_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(token, sizeof token, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    KILN_ASSERT(strlen(token) == TOKEN_LEN);
    char digest[DIGEST_HEX + 1];
    token_digest(token, digest);

    kiln_rows *r = kiln_db_query(req, "INSERT INTO kiln_sessions (token_hash, user_id, expires_at) VALUES (?, ?, ?)",
                                 (const char *)digest, (long long)user_id, (long long)(now + ttl));
    kiln_db_status st = kiln_rows_status(r);
    if (st != KILN_DB_OK) {
        /* Anything but a conflict was answered by kiln_db already. A
         * conflict would be two equal 256-bit random tokens. */
        if (st == KILN_DB_CONFLICT) kiln_error(res, 503, "Service Unavailable");
        sodium_memzero(token, sizeof token);
        return NULL;
    }
    kiln_cookie_opts co = cookie_opts(req, ttl);
    kiln_set_cookie(res, cookie_name(opts), token, &co);
    kiln_set_header(res, "Cache-Control", "no-store");    /* the token is in the body */
    char *out = kiln_strdup(req, token);
    sodium_memzero(token, sizeof token);
    return out;
}

int64_t kiln_session_user(kiln_req *req, const kiln_session_opts *opts)
{
    bool bearer;
    int64_t uid = token_user(req, request_token(req, opts, &bearer));
    if (uid) request_set_session_user(req, uid);   /* error reports name the user by id */
    return uid;
}

static bool revoke_token(kiln_req *req, const char *token)
{
    if (!auth_token_shape_ok(token)) return false;
    auth_sodium_init();
    if (!ensure_table(req)) return false;
    char digest[DIGEST_HEX + 1];
    token_digest(token, digest);
    kiln_rows *r = kiln_db_query(req, "DELETE FROM kiln_sessions WHERE token_hash = ?", (const char *)digest);
    return kiln_rows_status(r) == KILN_DB_OK && kiln_rows_changes(r) > 0;
}

bool kiln_session_revoke(kiln_req *req, kiln_res *res, const kiln_session_opts *opts)
{
    /* Both the bearer token and the cookie, when a client sent both: logging
     * out must not leave the other one alive. */
    bool revoked = false;
    const char *auth = kiln_header(req, "authorization");
    if (auth && !strncasecmp(auth, "Bearer ", 7)) {
        bool bearer;
        revoked |= revoke_token(req, request_token(req, opts, &bearer));
    }
    revoked |= revoke_token(req, kiln_cookie(req, cookie_name(opts)));
    kiln_cookie_opts co = cookie_opts(req, -1);
    kiln_set_cookie(res, cookie_name(opts), "", &co);
    return revoked;
}

/* ---- the middleware ---------------------------------------------------- */

static bool safe_method(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS");
}

bool kiln_require_session(kiln_req *req, kiln_res *res)
{
    bool bearer;
    const char *token = request_token(req, NULL, &bearer);
    int64_t uid = token_user(req, token);
    if (kiln_res_started(res)) return false;                /* kiln_db answered (503) */
    if (!uid) {
        kiln_error(res, 401, "Unauthorized");
        return false;
    }
    if (!bearer && !safe_method(req->method) &&
        !auth_same_origin(kiln_header(req, "origin"), kiln_header(req, "host"))) {
        kiln_log(req, "warn", "cross-site request with the session cookie refused (CSRF)");
        kiln_error(res, 403, "Forbidden");
        return false;
    }
    int64_t *u = kiln_alloc(req, sizeof *u);
    *u = uid;
    req->user = u;
    request_set_session_user(req, uid);   /* error reports name the user by id */
    return true;
}
