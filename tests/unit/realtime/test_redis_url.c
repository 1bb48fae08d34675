/*
 * test_redis_url.c -- redis_url.c: KILN_REDIS_URL's forms (name, IPv4,
 * IPv6 in brackets; password, user:password, port, db) and a plain reason
 * for each malformed one (brackets unclosed, empty, around a non-address,
 * missing around an IPv6 address; ports and databases that are not numbers).
 */
#include "t.h"
#include "realtime/bridge.h"

static redis_url u;

static const char *parse(const char *s) { return redis_url_parse(s, &u); }

TEST(names_and_ipv4)
{
    CHECK(parse("redis://localhost") == NULL);
    CHECK_EQ_STR(u.host, "localhost");
    CHECK_EQ_INT(u.port, 6379);
    CHECK_EQ_INT(u.db, 0);
    CHECK(!u.numeric);
    CHECK(parse("redis://127.0.0.1:6390/2") == NULL);
    CHECK_EQ_STR(u.host, "127.0.0.1");
    CHECK_EQ_INT(u.port, 6390);
    CHECK_EQ_INT(u.db, 2);
    CHECK(u.numeric);
    CHECK(parse("redis://:s3cret@redis.internal:7000/") == NULL);
    CHECK_EQ_STR(u.password, "s3cret");
    CHECK_EQ_STR(u.host, "redis.internal");
    CHECK_EQ_INT(u.port, 7000);
    CHECK(parse("redis://default:pw@10.0.0.1") == NULL);
    CHECK_EQ_STR(u.password, "pw");
    CHECK_EQ_STR(u.host, "10.0.0.1");
}

TEST(ipv6_in_brackets)
{
    CHECK(parse("redis://[::1]:6379/0") == NULL);
    CHECK_EQ_STR(u.host, "::1");
    CHECK_EQ_INT(u.port, 6379);
    CHECK_EQ_INT(u.db, 0);
    CHECK(u.numeric);
    CHECK(parse("redis://[::1]") == NULL);
    CHECK_EQ_STR(u.host, "::1");
    CHECK_EQ_INT(u.port, 6379);
    CHECK(parse("redis://[2001:db8::7]/5") == NULL);
    CHECK_EQ_STR(u.host, "2001:db8::7");
    CHECK_EQ_INT(u.db, 5);
    CHECK(parse("redis://:p@ss@[::ffff:127.0.0.1]:6390") == NULL);
    CHECK_EQ_STR(u.password, "p@ss");      /* the last '@' ends the password */
    CHECK_EQ_STR(u.host, "::ffff:127.0.0.1");
    CHECK_EQ_INT(u.port, 6390);
    CHECK(parse("redis://user:pw@[fe80::1]:1/15") == NULL);
    CHECK_EQ_STR(u.password, "pw");
    CHECK_EQ_STR(u.host, "fe80::1");
    CHECK_EQ_INT(u.port, 1);
    CHECK_EQ_INT(u.db, 15);
}

/* Each malformed URL is refused with the reason that names its fault. */
static void refused(const char *url, const char *reason_part)
{
    const char *why = parse(url);
    CHECK(why != NULL);
    if (why && !strstr(why, reason_part)) {
        t_failed_now = 1;
        fprintf(stderr, "  FAIL %s: reason \"%s\" lacks \"%s\"\n", url, why, reason_part);
    }
}

TEST(malformed)
{
    refused("redis://[::1:6379", "without its ']'");
    refused("redis://[::1/0]", "without its ']'");
    refused("redis://[]:6379", "empty []");
    refused("redis://[localhost]:6379", "not an IPv6 address");
    refused("redis://[127.0.0.1]:6379", "not an IPv6 address");
    refused("redis://[::1]x:6379", "may follow ']'");
    refused("redis://[::1]]:6379", "may follow ']'");
    refused("redis://::1:6379", "no host");
    refused("redis://fe80::1", "needs brackets");
    refused("redis://2001:db8::7:6379/0", "needs brackets");
    refused("redis://local]host:6379", "bracket in the host");
    refused("redis://local host:6379", "control character");
    refused("redis://\x01host", "control character");
    refused("redis://[::1]:", "port");
    refused("redis://[::1]:0", "port");
    refused("redis://[::1]:65536", "port");
    refused("redis://[::1]:63a9", "port");
    refused("redis://host:-1", "port");
    refused("redis://host:6379/x", "database");
    refused("redis://[::1]:6379/0/1", "database");
    refused("redis://host/-3", "database");
    refused("rediss://[::1]:6380", "TLS");
    refused("http://[::1]:6379", "redis://");
    refused("redis://", "no host");
    refused("redis://:pw@", "no host");
}

int main(void) { return t_run(); }
