/*
 * resolvers.c -- the subscription test app's resolvers: an event filter
 * (kiln_gql_skip), a value computed from the event (kiln_gql_return), a
 * resolver that fails its events (kiln_gql_error), and one that reads the
 * socket's request and allocates for every event (room).
 */
#include <kiln.h>
#include <ctype.h>
#include <string.h>

void Query_hello(kiln_gql *g)
{
    kiln_gql_return(g, kiln_json_parse(kiln_gql_req(g), "\"Hello, World!\"", 15, NULL));
}

void Query_me(kiln_gql *g)
{
    int64_t user = kiln_session_user(kiln_gql_req(g), NULL);
    if (!user) { kiln_gql_error(g, "UNAUTHENTICATED", "Unauthorized"); return; }
    const char *json = kiln_json_fmt(kiln_gql_req(g), "%lld", (long long)user);
    kiln_gql_return(g, kiln_json_parse(kiln_gql_req(g), json, strlen(json), NULL));
}

void Mutation_shout(kiln_gql *g)
{
    kiln_publishf("shouts", "shout", "{text: %s}", kiln_json_str(kiln_gql_arg(g, "text")));
    kiln_gql_return(g, kiln_json_parse(kiln_gql_req(g), "true", 4, NULL));
}

/* postUpdated(id: ID!): only the events of that post. */
void Subscription_postUpdated(kiln_gql *g)
{
    if (kiln_gql_subscribe(g, "posts", "post.updated")) return;    /* subscribed */
    int64_t id = 0;                                                /* an event */
    kiln_json_i64(kiln_json_get(kiln_gql_parent(g), "id"), &id);
    const char *want = kiln_json_str(kiln_gql_arg(g, "id"));
    if (strcmp(kiln_sprintf(kiln_gql_req(g), "%lld", (long long)id), want) != 0) kiln_gql_skip(g);
}

void Subscription_shout(kiln_gql *g)
{
    if (kiln_gql_subscribe(g, "shouts", NULL)) return;
    const char *text = kiln_json_str(kiln_json_get(kiln_gql_parent(g), "text"));
    char *up = kiln_strdup(kiln_gql_req(g), text ? text : "");
    for (char *p = up; *p; p++) *p = (char)toupper((unsigned char)*p);
    const char *json = kiln_json_fmt(kiln_gql_req(g), "%s", up);
    kiln_gql_return(g, kiln_json_parse(kiln_gql_req(g), json, strlen(json), NULL));
}

void Subscription_broken(kiln_gql *g)
{
    if (kiln_gql_subscribe(g, "posts", NULL)) return;
    kiln_gql_error(g, "BROKEN", "cannot show %s", kiln_json_str(kiln_json_get(kiln_gql_parent(g), "title")));
}

/* room: "ROOM:TEXT" -- the socket request's ?room= (its lazy query view,
 * built again for each event) and the event's text, written into memory
 * allocated for the request, a kiln_defer'd clean-up per event too. */
static void count_cleanup(void *arg) { (void)arg; }

void Subscription_room(kiln_gql *g)
{
    if (kiln_gql_subscribe(g, "shouts", NULL)) return;
    kiln_req *req = kiln_gql_req(g);
    const char *room = kiln_query(req, "room");
    const char *text = kiln_json_str(kiln_json_get(kiln_gql_parent(g), "text"));
    kiln_defer(req, count_cleanup, NULL);
    const char *json = kiln_json_fmt(req, "%s", kiln_sprintf(req, "%s:%s", room ? room : "-", text ? text : ""));
    kiln_gql_return(g, kiln_json_parse(req, json, strlen(json), NULL));
}
