/*
 * auth.h -- what password.c and session.c share (the public API is in
 * kiln.h: kiln_password_*, kiln_session_*, kiln_require_session).
 */
#ifndef KILN_AUTH_H
#define KILN_AUTH_H

#include "kiln.h"

/* sodium_init() and the dummy hash, once per process (thread-safe). */
void auth_sodium_init(void);

/* check.c: whether the Origin header names the host in the Host header.
 * NULL origin: true (no claim of another site). */
bool auth_same_origin(const char *origin, const char *host);

/* check.c: whether s has the shape of a session token: 43 base64url
 * characters. */
bool auth_token_shape_ok(const char *s);

#endif
