/*
 * check.c -- the pure string checks behind sessions: the shape of a session
 * token, and whether a request's Origin names the host it was sent to (the
 * CSRF rule of kiln_require_session). No I/O and no allocation, so they can
 * be unit-tested and fuzzed on their own (tests/unit/auth, tests/fuzz).
 *
 * Owns: nothing. Must never: read past a NUL, or treat a malformed Origin as
 * same-origin (anything unparsable is another site).
 */
#include "auth/auth.h"

#include <string.h>
#include <strings.h>

#define TOKEN_LEN 43                      /* base64url of 32 bytes, no '=' */

/* 43 characters of the base64url alphabet, nothing else. */
bool auth_token_shape_ok(const char *s)
{
    if (!s) return false;
    size_t i = 0;
    for (; s[i]; i++) {
        char ch = s[i];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  ch == '-' || ch == '_';
        if (!ok || i >= TOKEN_LEN) return false;
    }
    return i == TOKEN_LEN;
}


/* ---- CSRF: is the Origin the host the request was sent to? ---------- */

/* Lower-cased copy of [s, s+n) without a trailing ":<default port>". */
static void authority_norm(char *out, size_t cap, const char *s, size_t n, const char *default_port)
{
    size_t dl = default_port ? strlen(default_port) : 0;
    if (dl && n > dl + 1 && s[n - dl - 1] == ':' && !memcmp(s + n - dl, default_port, dl)) n -= dl + 1;
    if (n >= cap) n = cap - 1;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        out[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    out[n] = '\0';
}

/* Origin is scheme://host[:port] (RFC 6454); Host is host[:port]. Compared
 * without case, with the Origin scheme's default port (80, 443) dropped on
 * both sides. NULL origin: the request makes no claim (not a browser, or a
 * same-origin GET): true. "null", a path, userinfo, junk: false. */
bool auth_same_origin(const char *origin, const char *host)
{
    if (!origin) return true;
    if (!host || !*host) return false;
    const char *sep = strstr(origin, "://");
    if (!sep || sep == origin) return false;                /* "null", junk */
    size_t slen = (size_t)(sep - origin);
    const char *def = NULL;
    if (slen == 4 && !strncasecmp(origin, "http", 4)) def = "80";
    else if (slen == 5 && !strncasecmp(origin, "https", 5)) def = "443";
    const char *auth = sep + 3;
    size_t alen = strlen(auth);
    if (alen == 0 || alen > 255 || strpbrk(auth, "/?#@ \t")) return false;
    size_t hlen = strlen(host);
    if (hlen > 255) return false;
    char a[256], h[256];
    authority_norm(a, sizeof a, auth, alen, def);
    authority_norm(h, sizeof h, host, hlen, def);
    return strcmp(a, h) == 0;
}
