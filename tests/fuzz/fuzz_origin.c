/*
 * fuzz_origin.c -- src/auth/check.c: the CSRF rule's Origin-vs-Host check
 * and the token shape check, on arbitrary bytes.
 *
 * Input: origin NUL host (a missing NUL: the whole input is the origin and
 * the host is "example.com"). Properties checked (abort() on failure):
 *   - same-origin is only ever claimed for an Origin with "scheme://" and an
 *     authority of at most 255 bytes free of / ? # @ space tab, whose
 *     lower-cased form equals the lower-cased Host up to a default port;
 *   - "http://" + H is always same-origin with H for such an H (and
 *     "https://" + H too), in any letter case;
 *   - a NULL Origin is same-origin, a NULL or empty Host never is (with an
 *     Origin);
 *   - a token is accepted only when it is 43 base64url characters.
 */
#include "auth/auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool plain_authority(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 255 && !strpbrk(s, "/?#@ \t");
}

/* Equal ignoring case, allowing ":80"/":443" extra on either side. */
static bool eq_modulo_port(const char *a, const char *b)
{
    static const char *const ports[] = { "", ":80", ":443" };
    char x[600], y[600];
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 3; j++) {
            snprintf(x, sizeof x, "%s%s", a, ports[i]);
            snprintf(y, sizeof y, "%s%s", b, ports[j]);
            if (!strcasecmp(x, y)) return true;
        }
    return false;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size > 1024) return 0;
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = '\0';
    const char *origin = in;
    const char *host = "example.com";
    size_t olen = strlen(in);
    if (olen < size) host = in + olen + 1;

    if (auth_same_origin(origin, host)) {
        const char *sep = strstr(origin, "://");
        if (!sep || sep == origin) abort();
        if (!plain_authority(sep + 3)) abort();
        if (!eq_modulo_port(sep + 3, host)) abort();
    }
    if (!auth_same_origin(NULL, host)) abort();
    if (auth_same_origin(origin, NULL) || auth_same_origin(origin, "")) abort();

    if (plain_authority(host) && strlen(host) < 300) {
        char o[400];
        snprintf(o, sizeof o, "http://%s", host);
        if (!auth_same_origin(o, host)) abort();
        snprintf(o, sizeof o, "hTTpS://%s", host);
        for (char *p = o + 8; *p; p++) *p = (char)toupper((unsigned char)*p);
        if (!auth_same_origin(o, host)) abort();
    }

    if (auth_token_shape_ok(origin)) {
        if (strlen(origin) != 43) abort();
        for (const char *p = origin; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') abort();
    }
    free(in);
    return 0;
}
