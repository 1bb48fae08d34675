/*
 * test_loader.c -- the batching loader (kiln_gql_load) on a real SQLite
 * database: N posts with an author cost N+1 statements with a query per
 * author and 2 with the loader; one batch per level; keys cached for the
 * execution (across levels too); one key's error fails only the fields
 * that asked for it; a failed batch fails its keys and nothing else.
 *
 * Statements are counted with sqlite3_trace_v2(SQLITE_TRACE_STMT), which
 * SQLite calls each time a prepared statement starts running: the count is
 * what the database actually ran, not what the resolvers meant to run.
 * (The same count through the HTTP endpoint and PostgreSQL is not here:
 * see the branch report.)
 */
#include "graphql/exec.h"
#include "graphql/loader.h"
#include "graphql/schema.h"
#include "json/json.h"
#include "schema_t.h"

#include <sqlite3.h>

enum { NPOSTS = 20, NUSERS = 7 };

static sqlite3 *db;
static int statements, batches;

static int count_stmt(unsigned type, void *ctx, void *p, void *x)
{
    (void)ctx, (void)p, (void)x;
    if (type == SQLITE_TRACE_STMT) statements++;
    return 0;
}

static void open_db(void)
{
    if (db) return;
    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT, best TEXT);"
                           "CREATE TABLE posts (id TEXT PRIMARY KEY, title TEXT, author_id TEXT);", NULL, NULL, NULL) == SQLITE_OK);
    char sql[128];
    for (int u = 1; u <= NUSERS; u++) {            /* user u's best friend: u+1 (7's is 1) */
        snprintf(sql, sizeof sql, "INSERT INTO users VALUES ('%d', 'user %d', '%d')", u, u, u % NUSERS + 1);
        CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    }
    for (int p = 1; p <= NPOSTS; p++) {            /* authors 1..5 only */
        snprintf(sql, sizeof sql, "INSERT INTO posts VALUES ('%02d', 'post %d', '%d')", p, p, (p - 1) % 5 + 1);
        CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    }
    sqlite3_trace_v2(db, SQLITE_TRACE_STMT, count_stmt, NULL);
}

/* Rows of a statement as objects of text columns. */
static kiln_value *rows(arena *a, const char *sql, const char *param)
{
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
    if (param) sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
    kiln_value *list = gql_v_array(a);
    while (sqlite3_step(st) == SQLITE_ROW) {
        kiln_value *o = gql_v_object(a);
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *t = (const char *)sqlite3_column_text(st, c);
            gql_v_put(a, o, gql_cstr(sqlite3_column_name(st, c)), t ? gql_v_str(a, gql_cstr(t)) : gql_v_null(a));
        }
        gql_v_put(a, list, (kiln_str){ NULL, 0 }, o);
    }
    sqlite3_finalize(st);
    return list;
}

static arena *exec_arena;
static const char *fail_key;                       /* users_by_id fails this key */
static bool fail_batch;                            /* ... or the whole batch     */

static void users_by_id(kiln_gql_batch *b)
{
    batches++;
    if (fail_batch) { kiln_gql_batch_fail(b, "UNAVAILABLE", "users down"); return; }
    kiln_value *found = rows(exec_arena, "SELECT id, name, best FROM users WHERE id IN (SELECT value FROM json_each(?))",
                             kiln_gql_batch_keys_json(b));
    for (size_t i = 0; i < kiln_gql_batch_count(b); i++) {
        const char *k = kiln_json_str(kiln_gql_batch_key(b, i));
        if (fail_key && strcmp(k, fail_key) == 0) { kiln_gql_batch_error(b, i, NULL, "no access to user %s", k); continue; }
        for (const kiln_value *u = found->child; u; u = u->next)
            if (strcmp(kiln_json_str(kiln_json_get(u, "id")), k) == 0) kiln_gql_batch_set(b, i, u);
    }
}

static void Query_posts(kiln_gql *g) { kiln_gql_return(g, rows(exec_arena, "SELECT id, title, author_id FROM posts ORDER BY id", NULL)); }
static void Post_author(kiln_gql *g) { kiln_gql_load(g, users_by_id, kiln_json_get(kiln_gql_parent(g), "author_id")); }
static void User_best(kiln_gql *g) { kiln_gql_load(g, users_by_id, kiln_json_get(kiln_gql_parent(g), "best")); }
static void Post_authorEach(kiln_gql *g)           /* the N+1 way: a query per post */
{
    kiln_value *r = rows(exec_arena, "SELECT id, name, best FROM users WHERE id = ?",
                         kiln_json_str(kiln_json_get(kiln_gql_parent(g), "author_id")));
    kiln_gql_return(g, r->child);
}

static const gql_resolver_def defs[] = {
    { "Query_posts", Query_posts }, { "Post_author", Post_author }, { "Post_authorEach", Post_authorEach },
    { "User_best", User_best },
};
static const char SDL[] = "type User { id: ID! name: String! best: User } "
                          "type Post { id: ID! title: String! author: User authorEach: User } "
                          "type Query { posts: [Post!]! }";

/* Run q; its response in out. */
static void run(arena *a, const char *q, buf *out)
{
    open_db();
    exec_arena = a;
    gql_schema *s = t_schema(a, SDL);
    CHECK(gql_exec_bind(s, defs, ARRAY_LEN(defs), NULL) == 0);
    gql_error pe;
    gql_node *d = gql_parse(a, q, strlen(q), NULL, &pe);
    CHECK(d != NULL);
    gql_request rq = { .doc = d, .src = q, .src_len = strlen(q) };
    statements = batches = 0;
    buf_init(out, 4096);
    gql_execute(a, s, &rq, out);
    buf_putc(out, '\0');
}

TEST(loader_n_posts_cost_two_statements_instead_of_n_plus_one)
{
    arena a;
    arena_init(&a, 1 << 16);
    buf each, loaded;
    run(&a, "{ posts { title authorEach { name } } }", &each);
    CHECK_EQ_INT(statements, NPOSTS + 1);
    run(&a, "{ posts { title author { name } } }", &loaded);
    CHECK_EQ_INT(statements, 2);
    CHECK_EQ_INT(batches, 1);                      /* 20 posts, 5 distinct authors, 1 call */
    /* The same data either way. */
    const char *e = strstr(each.data, "\"data\""), *l = strstr(loaded.data, "\"data\"");
    CHECK(e && l);
    buf want;
    buf_init(&want, 4096);
    for (const char *p = e; *p; p++) {              /* authorEach -> author */
        if (strncmp(p, "authorEach", 10) == 0) { buf_puts(&want, "author"); p += 9; continue; }
        buf_putc(&want, *p);
    }
    buf_putc(&want, '\0');
    CHECK_EQ_STR(l, want.data);
    CHECK(strstr(l, "{\"title\":\"post 6\",\"author\":{\"name\":\"user 1\"}}") != NULL);
    buf_free(&each);
    buf_free(&loaded);
    buf_free(&want);
    arena_destroy(&a);
}

TEST(loader_one_batch_per_level_and_cache_across_levels)
{
    arena a;
    arena_init(&a, 1 << 16);
    buf out;
    /* Level 2 asks for users 2..6: 2..5 are cached from level 1, 6 is new. */
    run(&a, "{ posts { author { name best { name } } } }", &out);
    CHECK_EQ_INT(batches, 2);
    CHECK_EQ_INT(statements, 3);
    CHECK(strstr(out.data, "{\"name\":\"user 5\",\"best\":{\"name\":\"user 6\"}}") != NULL);
    buf_free(&out);
    /* Level 3 is all cached: no third batch. */
    run(&a, "{ posts { author { best { best { name } } } } }", &out);
    CHECK_EQ_INT(batches, 3);                       /* users 1-5, then 6, then 7 */
    CHECK_EQ_INT(statements, 4);
    buf_free(&out);
    run(&a, "{ posts { author { best { name } } } a: posts { author { name } } }", &out);
    CHECK_EQ_INT(batches, 2);                       /* both lists' authors share one batch */
    buf_free(&out);
    arena_destroy(&a);
}

TEST(loader_one_key_error_fails_only_its_fields)
{
    arena a;
    arena_init(&a, 1 << 16);
    buf out;
    fail_key = "3";
    run(&a, "{ posts { id author { name } } }", &out);
    fail_key = NULL;
    CHECK_EQ_INT(batches, 1);
    /* Posts 03, 08, 13, 18 have author 3: four errors, the others intact. */
    int errors = 0;
    for (const char *p = out.data; (p = strstr(p, "no access to user 3")) != NULL; p++) errors++;
    CHECK_EQ_INT(errors, 4);
    CHECK(strstr(out.data, "\"path\":[\"posts\",2,\"author\"]") != NULL);
    CHECK(strstr(out.data, "{\"id\":\"03\",\"author\":null}") != NULL);
    CHECK(strstr(out.data, "{\"id\":\"04\",\"author\":{\"name\":\"user 4\"}}") != NULL);
    buf_free(&out);
    arena_destroy(&a);
}

TEST(loader_failed_batch_fails_its_keys_only)
{
    arena a;
    arena_init(&a, 1 << 16);
    buf out;
    fail_batch = true;
    run(&a, "{ posts { title author { name } } }", &out);
    fail_batch = false;
    CHECK_EQ_INT(batches, 1);
    int errors = 0;
    for (const char *p = out.data; (p = strstr(p, "\"users down\"")) != NULL; p++) errors++;
    CHECK_EQ_INT(errors, NPOSTS);
    CHECK(strstr(out.data, "\"extensions\":{\"code\":\"UNAVAILABLE\"}") != NULL);
    CHECK(strstr(out.data, "{\"title\":\"post 1\",\"author\":null}") != NULL);
    buf_free(&out);
    arena_destroy(&a);
}

int main(void)
{
    int rc = t_run();
    if (db) sqlite3_close(db);
    return rc;
}
