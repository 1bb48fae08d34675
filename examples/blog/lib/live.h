/* live.h -- the blog's real-time side: every change to a post is recorded
 * (table post_events, the history GET /api/posts/live replays) and
 * published on channel "posts" for SSE, WebSocket and Pusher clients. */
#ifndef BLOG_LIVE_H
#define BLOG_LIVE_H
#include <kiln.h>

/* The post in row 0 of `post` as JSON: {"id":..,"title":..,"content":..}. */
char *post_json(kiln_req *req, const kiln_rows *post);
/* Record event ("post.created" ...) with its JSON data and publish it on
 * channel "posts" with the record's id as the event id. */
void post_event(kiln_req *req, const char *event, const char *json);

#endif
