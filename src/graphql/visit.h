/*
 * visit.h -- internal to src/graphql: graphql-js's visit() with
 * visitInParallel(), the traversal every validation rule runs on, and the
 * "Did you mean ...?" suggestions (suggestionList, didYouMean).
 */
#ifndef KILN_GQL_VISIT_H
#define KILN_GQL_VISIT_H

#include "graphql/gql.h"

#define GQL_VISIT_MAX_DEPTH 1024

/* Where the traversal is: the nodes from the document down to the current
 * node's parent (lists are not nodes here, unlike graphql-js's ancestors). */
typedef struct gql_path {
    const gql_node *stack[GQL_VISIT_MAX_DEPTH];
    int depth;                     /* stack[0..depth) are the ancestors   */
} gql_path;

/* One rule: enter returns false to skip the node's children (for this rule
 * only, as visitInParallel does); either function may be NULL. */
typedef struct gql_rule {
    bool (*enter)(void *ctx, const gql_node *n, const gql_path *path);
    void (*leave)(void *ctx, const gql_node *n, const gql_path *path);
} gql_rule;

/* Visit root depth first in graphql-js's key order, calling every rule's
 * enter on the way down and leave on the way up, in rule order. */
void gql_visit(const gql_node *root, const gql_rule *rules, int nrules, void *ctx);
/* The same with graphql-js's visitWithTypeInfo: `hooks.enter` runs before
 * the rules' enter on each node, `hooks.leave` after their leave. */
void gql_visit_hooked(const gql_node *root, const gql_rule *rules, int nrules, void *ctx, gql_rule hooks);

/* The parent of the current node (NULL at the root), and its parent. */
static inline const gql_node *gql_path_up(const gql_path *p, int k)
{
    return p->depth - k >= 0 ? p->stack[p->depth - k] : NULL;
}

/* suggestionList(input, options): the options within lexical distance
 * floor(0.4 * len) + 1 of input, nearest first (ties in natural order);
 * duplicates once. Returns the count; *out is arena memory. */
uint32_t gql_suggest(arena *a, kiln_str input, const kiln_str *options, uint32_t n, kiln_str **out);
/* naturalCompare: digit runs compare as numbers ("A2" < "A10"). */
int gql_natural_compare(kiln_str a, kiln_str b);
/* didYouMean: " Did you mean \"a\", \"b\", or \"c\"?" (at most 5), or ""
 * for none; appended to b. sub (or NULL) goes after "mean": "the enum value". */
void gql_did_you_mean(buf *b, const char *sub, const kiln_str *s, uint32_t n);

#endif
