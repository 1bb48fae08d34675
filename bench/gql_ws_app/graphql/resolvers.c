/*
 * resolvers.c -- bench/gql_ws_idle.sh's app: Subscription.postCreated is
 * every post.created event of the "posts" channel, as in examples/blog.
 */
#include <kiln.h>

void Query_hello(kiln_gql *g)
{
    kiln_gql_return(g, kiln_json_parse(kiln_gql_req(g), "\"Hello, World!\"", 15, NULL));
}

void Subscription_postCreated(kiln_gql *g)
{
    kiln_gql_subscribe(g, "posts", "post.created");
}
