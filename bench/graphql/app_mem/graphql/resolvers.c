/*
 * resolvers.c -- the GraphQL bench's in-memory app (bench/graphql.sh): the
 * same schema and data as bench/graphql/server.mjs serves on Node (10 posts,
 * 5 users), held in memory, so the comparison is like for like: no database
 * on either side. Post.author still goes through the batching loader
 * (kiln_gql_load), as Node's goes through dataloader.
 *
 * The data is plain static kiln_value trees (the public struct of kiln.h),
 * filled in once per worker on the first call; resolvers hand out pointers
 * into them and never allocate. Never writes to the trees after that.
 */
#include <kiln.h>
#include <stdio.h>
#include <string.h>

#define NPOSTS 10
#define NUSERS 5

static kiln_value posts, post[NPOSTS], post_field[NPOSTS][4];
static kiln_value user[NUSERS], user_field[NUSERS][2];
static char post_text[NPOSTS][4][40], user_text[NUSERS][2][16];
static int built;

/* A member KEY of an object, next to NEXT. */
static void member(kiln_value *v, const char *key, kiln_value *next)
{
    v->key = key;
    v->key_len = strlen(key);
    v->next = next;
}

static void number(kiln_value *v, char *buf, size_t size, int n)
{
    v->type = KILN_JSON_NUMBER;
    v->len = (size_t)snprintf(buf, size, "%d", n);
    v->str = buf;
    v->num = n;
}

static void string(kiln_value *v, char *buf, size_t size, const char *fmt, int n)
{
    v->type = KILN_JSON_STRING;
    v->len = (size_t)snprintf(buf, size, fmt, n);
    v->str = buf;
}

static void object(kiln_value *v, kiln_value *fields, size_t n)
{
    v->type = KILN_JSON_OBJECT;
    v->len = n;
    v->child = fields;
}

/* users: {id, name: "user i"}; posts: {id, title, content, author_id}. */
static void build(void)
{
    for (int i = 0; i < NUSERS; i++) {
        kiln_value *f = user_field[i];
        number(&f[0], user_text[i][0], sizeof user_text[i][0], i + 1);
        member(&f[0], "id", &f[1]);
        string(&f[1], user_text[i][1], sizeof user_text[i][1], "user %d", i + 1);
        member(&f[1], "name", NULL);
        object(&user[i], f, 2);
    }
    for (int i = 0; i < NPOSTS; i++) {
        kiln_value *f = post_field[i];
        char (*t)[40] = post_text[i];
        number(&f[0], t[0], sizeof t[0], i + 1);
        member(&f[0], "id", &f[1]);
        string(&f[1], t[1], sizeof t[1], "post %d", i + 1);
        member(&f[1], "title", &f[2]);
        string(&f[2], t[2], sizeof t[2], "content of post %d", i + 1);
        member(&f[2], "content", &f[3]);
        /* author_id = (id % 5) + 1, as server.mjs and the SQLite app. */
        number(&f[3], t[3], sizeof t[3], ((i + 1) % NUSERS) + 1);
        member(&f[3], "author_id", NULL);
        object(&post[i], f, 4);
        post[i].next = i + 1 < NPOSTS ? &post[i + 1] : NULL;
    }
    posts.type = KILN_JSON_ARRAY;
    posts.len = NPOSTS;
    posts.child = &post[0];
    built = 1;
}

void Query_posts(kiln_gql *g)
{
    if (!built) build();
    kiln_gql_return(g, &posts);
}

void Query_post(kiln_gql *g)
{
    if (!built) build();
    const char *id = kiln_json_str(kiln_gql_arg(g, "id"));
    for (int i = 0; i < NPOSTS; i++)
        if (id && strcmp(id, post[i].child->str) == 0) {
            kiln_gql_return(g, &post[i]);
            return;
        }
    kiln_gql_return(g, NULL);
}

/* Each key (an author_id number) gets its user, or null. */
static void users_by_id(kiln_gql_batch *b)
{
    for (size_t i = 0; i < kiln_gql_batch_count(b); i++) {
        int64_t id;
        bool ok = kiln_json_i64(kiln_gql_batch_key(b, i), &id) && id >= 1 && id <= NUSERS;
        kiln_gql_batch_set(b, i, ok ? &user[id - 1] : NULL);
    }
}

void Post_author(kiln_gql *g) { kiln_gql_load(g, users_by_id, kiln_json_get(kiln_gql_parent(g), "author_id")); }
