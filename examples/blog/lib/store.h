/* store.h -- the blog's data access, shared by the REST routes
 * (pages/api/posts, pages/api/users) and the GraphQL resolvers (graphql/):
 * one place for each statement, and for the real-time events a change to
 * a post publishes (lib/live.c), whichever API made it. */
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

/* Rows as values for GraphQL resolvers (kiln_gql_return): one row as an
 * object of its columns ("id" an integer, the others text), or every row
 * as an array of them. In the request's arena. */
const kiln_value *row_value(kiln_req *req, const kiln_rows *r, size_t row);
const kiln_value *rows_value(kiln_req *req, const kiln_rows *r);

#endif
