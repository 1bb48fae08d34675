/*
 * subscription.c -- the blog's GraphQL subscriptions. Subscription.postCreated
 * is fed by the "posts" channel that both the REST routes and the GraphQL
 * mutations publish to (lib/live.c): every post.created event, from any
 * worker or machine, reaches each subscriber as its Post.
 */
#include <kiln.h>

void Subscription_postCreated(kiln_gql *g)
{
    kiln_gql_subscribe(g, "posts", "post.created");
}
