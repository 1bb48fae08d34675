/* test_auth.c -- the pure parts of src/auth/session.c: the CSRF rule's
 * Origin-vs-Host comparison and the token shape check. (Hashing, sessions
 * and the middleware are proven end to end in tests/integration/auth/.) */
#include "t.h"
#include "auth/auth.h"

TEST(same_origin_exact_and_case)
{
    CHECK(auth_same_origin("http://localhost:3000", "localhost:3000"));
    CHECK(auth_same_origin("http://LocalHost:3000", "localhost:3000"));
    CHECK(auth_same_origin("HTTPS://blog.example.com", "BLOG.example.com"));
    CHECK(auth_same_origin("http://[::1]:8080", "[::1]:8080"));
}

TEST(same_origin_default_ports)
{
    CHECK(auth_same_origin("http://blog.example.com", "blog.example.com:80"));
    CHECK(auth_same_origin("http://blog.example.com:80", "blog.example.com"));
    CHECK(auth_same_origin("https://blog.example.com", "blog.example.com:443"));
    CHECK(auth_same_origin("https://blog.example.com:443", "blog.example.com"));
    /* A default port is only the default of the Origin's own scheme. */
    CHECK(!auth_same_origin("http://blog.example.com", "blog.example.com:443"));
    CHECK(!auth_same_origin("https://blog.example.com", "blog.example.com:80"));
}

TEST(cross_origin)
{
    CHECK(!auth_same_origin("https://evil.example", "blog.example.com"));
    CHECK(!auth_same_origin("http://localhost:3001", "localhost:3000"));
    CHECK(!auth_same_origin("http://localhost", "localhost:3000"));
    CHECK(!auth_same_origin("https://app.example.com", "api.example.com"));      /* same site, other host */
    CHECK(!auth_same_origin("http://blog.example.com.evil.example", "blog.example.com"));
    CHECK(!auth_same_origin("http://blog.example.co", "blog.example.com"));
}

TEST(malformed_origin_is_cross_origin)
{
    CHECK(!auth_same_origin("null", "localhost:3000"));
    CHECK(!auth_same_origin("", "localhost:3000"));
    CHECK(!auth_same_origin("localhost:3000", "localhost:3000"));                /* no scheme */
    CHECK(!auth_same_origin("://localhost:3000", "localhost:3000"));
    CHECK(!auth_same_origin("http://", ""));
    CHECK(!auth_same_origin("http://localhost:3000/", "localhost:3000"));        /* a path */
    CHECK(!auth_same_origin("http://user@localhost:3000", "localhost:3000"));
    CHECK(!auth_same_origin("http://localhost:3000", NULL));                     /* no Host */
    CHECK(!auth_same_origin("http://localhost:3000", ""));
    char big[400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(!auth_same_origin(big, big));
}

TEST(no_origin_claims_nothing)
{
    CHECK(auth_same_origin(NULL, "localhost:3000"));
    CHECK(auth_same_origin(NULL, NULL));
}

TEST(token_shape)
{
    CHECK(auth_token_shape_ok("QTXmZSEWTUAzU_3ZftarTrhtUWM2EGsSaGFBo6TxPPs"));
    CHECK(auth_token_shape_ok("-------------------------------------------"));
    CHECK(!auth_token_shape_ok(NULL));
    CHECK(!auth_token_shape_ok(""));
    CHECK(!auth_token_shape_ok("QTXmZSEWTUAzU_3ZftarTrhtUWM2EGsSaGFBo6TxPP"));   /* 42 */
    CHECK(!auth_token_shape_ok("QTXmZSEWTUAzU_3ZftarTrhtUWM2EGsSaGFBo6TxPPsA")); /* 44 */
    CHECK(!auth_token_shape_ok("QTXmZSEWTUAzU+3ZftarTrhtUWM2EGsSaGFBo6TxPPs"));  /* '+' */
    CHECK(!auth_token_shape_ok("QTXmZSEWTUAzU/3ZftarTrhtUWM2EGsSaGFBo6TxPPs"));
    CHECK(!auth_token_shape_ok("QTXmZSEWTUAzU 3ZftarTrhtUWM2EGsSaGFBo6TxPPs"));
    CHECK(!auth_token_shape_ok("QTXmZSEWTUAzU_3ZftarTrhtUWM2EGsSaGFBo6TxPP="));
}

int main(void) { return t_run(); }
