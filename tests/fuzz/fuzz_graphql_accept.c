/*
 * fuzz_graphql_accept.c -- src/api/graphql.c's Accept negotiation (the
 * GraphQL endpoint's answer media type), on arbitrary header values.
 *
 * Properties checked (abort() on failure):
 *   - the answer is one of NONE, JSON, GQL, and the same when asked twice;
 *   - GQL only when the header names application/graphql-response+json,
 *     JSON only when it names json or a wildcard (or is empty);
 *   - a header with ", application/graphql-response+json" appended is always
 *     GQL, and one with ", * / *" appended is never NONE (each element is
 *     read on its own: nothing before the comma can swallow it).
 */
#include "api/graphql.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool has(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    for (; *s; s++)
        if (!strncasecmp(s, needle, n)) return true;
    return false;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size > 2048) return 0;
    char *in = malloc(size + 64);
    memcpy(in, data, size);
    in[size] = '\0';
    int mt = graphql_accept(in);
    if (mt != GRAPHQL_MT_NONE && mt != GRAPHQL_MT_JSON && mt != GRAPHQL_MT_GQL) abort();
    if (graphql_accept(in) != mt) abort();
    if (mt == GRAPHQL_MT_GQL && !has(in, "application/graphql-response+json")) abort();
    if (mt == GRAPHQL_MT_JSON && *in && !has(in, "json") && !has(in, "*")) abort();
    size_t len = strlen(in);
    strcpy(in + len, ", application/graphql-response+json");
    if (graphql_accept(in) != GRAPHQL_MT_GQL) abort();
    strcpy(in + len, ", */*");
    if (graphql_accept(in) == GRAPHQL_MT_NONE) abort();
    free(in);
    return 0;
}
