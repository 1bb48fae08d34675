/*
 * auth.h -- what password.c and session.c share (the public API is in
 * kiln.h: kiln_password_*, kiln_session_*, kiln_require_session).
 */
#ifndef KILN_AUTH_H
#define KILN_AUTH_H

#include "kiln.h"

/* The Argon2id cost of every hash (password.c says why these): use only
 * where <sodium.h> is included. */
#define AUTH_PW_OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define AUTH_PW_MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE

/* sodium_init() and the dummy hash, once per process (thread-safe). */
void auth_sodium_init(void);

/* check.c: whether the Origin header names the host in the Host header.
 * NULL origin: true (no claim of another site). */
bool auth_same_origin(const char *origin, const char *host);

/* check.c: whether s has the shape of a session token: 43 base64url
 * characters. */
bool auth_token_shape_ok(const char *s);

/* pwhelper.c, on a pool thread: a hash ('H', out gets the string, of
 * crypto_pwhash_STRBYTES) or a verify ('V' against hash), by a helper
 * process when one answers, else by this thread. What crypto_pwhash_str /
 * _verify return. */
int auth_pwhash(char op, const char *password, size_t len, const char *hash, char *out);

/* pwhelper.c: the helper's main loop, for `SERVER --pwhash-helper` (its
 * socket on fd 3); and, at worker exit, closing the idle helpers. */
int auth_pwhash_helper_main(void);
void auth_pwhash_helpers_stop(void);

#endif
