/* live.c -- see live.h. */
#include "live.h"

static kiln_str col(const kiln_rows *r, const char *name)
{
    return (kiln_str){ kiln_rows_str(r, 0, name), kiln_rows_len(r, 0, name) };
}

char *post_json(kiln_req *req, const kiln_rows *post)
{
    return kiln_json_fmt(req, "{id: %lld, title: %S, content: %S}", (long long)kiln_rows_i64(post, 0, "id"),
                         col(post, "title"), col(post, "content"));
}

void post_event(kiln_req *req, const char *event, const char *json)
{
    kiln_rows *ev = kiln_db_query(req, "INSERT INTO post_events (event, data) VALUES (?, ?) RETURNING id", event, json);
    if (kiln_rows_count(ev) == 0) return;   /* the database answered already */
    const char *id = kiln_sprintf(req, "%lld", (long long)kiln_rows_i64(ev, 0, "id"));
    kiln_publish_id("posts", event, id, json);
}
