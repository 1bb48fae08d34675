/* store.c -- see store.h. Owns the blog's SQL for posts and users; never
 * answers HTTP itself (the callers do: REST with statuses, GraphQL with
 * errors), except what kiln_db_query answers on its own (503, 500). */
#include "store.h"
#include "live.h"

kiln_rows *posts_all(kiln_req *req)
{
    return kiln_db_query(req, "SELECT id, title, content FROM posts ORDER BY id");
}

kiln_rows *post_find(kiln_req *req, int64_t id)
{
    return kiln_db_query(req, "SELECT id, title, content FROM posts WHERE id = ?", id);
}

bool post_exists(kiln_req *req, int64_t id)
{
    return kiln_rows_count(kiln_db_query(req, "SELECT 1 FROM posts WHERE id = ?", id)) > 0;
}

kiln_rows *post_create(kiln_req *req, kiln_str title, kiln_str content)
{
    kiln_rows *post = kiln_db_query(req, "INSERT INTO posts (title, content) VALUES (?, ?) RETURNING id, title, content",
                                    title, content);
    if (kiln_rows_count(post) == 1) post_event(req, "post.created", post_json(req, post));
    return post;
}

kiln_rows *post_update(kiln_req *req, int64_t id, kiln_str title, kiln_str content)
{
    kiln_rows *post = kiln_db_query(req, "UPDATE posts SET title = ?, content = ? WHERE id = ? RETURNING id, title, content",
                                    title, content, id);
    if (kiln_rows_count(post) == 1) post_event(req, "post.updated", post_json(req, post));
    return post;
}

bool post_delete(kiln_req *req, int64_t id)
{
    if (kiln_rows_changes(kiln_db_query(req, "DELETE FROM posts WHERE id = ?", id)) == 0) return false;
    post_event(req, "post.deleted", kiln_json_fmt(req, "{id: %lld}", (long long)id));
    return true;
}

kiln_rows *users_all(kiln_req *req)
{
    return kiln_db_query(req, "SELECT id, name, email FROM users ORDER BY id");
}

kiln_rows *user_find(kiln_req *req, int64_t id)
{
    return kiln_db_query(req, "SELECT id, name, email FROM users WHERE id = ?", id);
}

bool user_exists(kiln_req *req, int64_t id)
{
    return kiln_rows_count(kiln_db_query(req, "SELECT 1 FROM users WHERE id = ?", id)) > 0;
}

kiln_rows *user_create(kiln_req *req, kiln_str name, kiln_str email)
{
    return kiln_db_query(req, "INSERT INTO users (name, email) VALUES (?, ?) RETURNING id, name, email", name, email);
}

kiln_rows *user_update(kiln_req *req, int64_t id, kiln_str name, kiln_str email)
{
    return kiln_db_query(req, "UPDATE users SET name = ?, email = ? WHERE id = ? RETURNING id, name, email", name, email, id);
}

bool user_delete(kiln_req *req, int64_t id)
{
    return kiln_rows_changes(kiln_db_query(req, "DELETE FROM users WHERE id = ?", id)) > 0;
}
