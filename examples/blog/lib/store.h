/* store.h -- the blog's data access for the GraphQL resolvers (graphql/)
 * and the REST user routes (pages/api/users): the statements, and the
 * real-time events a change to a post publishes (lib/live.c), as the REST
 * post routes do. (pages/api/posts keep their statements inline: README.md
 * and docs/guide.md teach kiln_db_query with them, quoting those files.) */
#ifndef BLOG_STORE_H
#define BLOG_STORE_H
#include <kiln.h>

/* Posts: {id, title, content} rows. */
kiln_rows *posts_all(kiln_req *req);                       /* ordered by id */
kiln_rows *post_find(kiln_req *req, int64_t id);           /* 0 or 1 row    */
bool post_exists(kiln_req *req, int64_t id);
/* Insert; publishes post.created. */
kiln_rows *post_create(kiln_req *req, kiln_str title, kiln_str content);
/* Update (0 rows: no such post); publishes post.updated. */
kiln_rows *post_update(kiln_req *req, int64_t id, kiln_str title, kiln_str content);
/* Delete (false: no such post); publishes post.deleted. */
bool post_delete(kiln_req *req, int64_t id);

/* Users: {id, name, email} rows. A create or update whose email another
 * user has: kiln_rows_status() == KILN_DB_CONFLICT ("Email already exists"). */
kiln_rows *users_all(kiln_req *req);
kiln_rows *user_find(kiln_req *req, int64_t id);
bool user_exists(kiln_req *req, int64_t id);
kiln_rows *user_create(kiln_req *req, kiln_str name, kiln_str email);
kiln_rows *user_update(kiln_req *req, int64_t id, kiln_str name, kiln_str email);
bool user_delete(kiln_req *req, int64_t id);

#endif
