/*
 * pgcache.c -- the prepared-statement cache of one PostgreSQL connection.
 *
 * Every db_conn (pg.h) keeps a table of the statements it has prepared on
 * the server, keyed by the SQL text exactly as the handler wrote it (before
 * '?' is rewritten to $n, so a lookup costs a hash and a strcmp, not a
 * rewrite). An entry names the server-side statement ("k<name>", the label
 * kept as text so that sending it needs no formatting), how many
 * parameters it takes, and whether it is a plain SELECT that may share a
 * Sync with others (pipeline.c's groups).
 *
 * The table is small (KILN_PG_STATEMENTS, 256 by default, 0: nothing is
 * prepared) and searched linearly by hash; when it is full, the least
 * recently used entry is the victim (pg_cache_victim), which pipeline.c
 * DEALLOCATEs on the server before it reuses the slot. Names are never
 * reused on a connection, so a statement still in flight under an evicted
 * name finds it (the DEALLOCATE goes out after it).
 *
 * Invalidation is pipeline.c's decision (it sees the server's answers):
 * a new connection starts empty (pg_cache_init); DISCARD / DEALLOCATE sent
 * by a handler empties it (pg_cache_clear, pg_resets_statements); a
 * statement the server no longer knows, or whose result shape changed, or
 * whose Parse failed, is forgotten (pg_cache_forget).
 *
 * Owns: the entries and their malloc'd SQL keys. Must never: talk to the
 * server (sending DEALLOCATE is pipeline.c's), or hand out an entry whose
 * parameter count differs from the caller's (pipeline.c checks nparams).
 */
#include "db/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

void pg_cache_init(db_conn *c)
{
    const char *e = getenv("KILN_PG_STATEMENTS");
    int n = e && *e ? atoi(e) : PG_STMT_CACHE_DEFAULT;
    if (n < 0) n = 0;
    if (n > PG_STMT_CACHE_MAX) n = PG_STMT_CACHE_MAX;
    c->cache_max = n;
    if (c->cache_max) c->cache = kiln_xcalloc((size_t)c->cache_max, sizeof *c->cache);
}

void pg_cache_free(db_conn *c)
{
    pg_cache_clear(c);
    free(c->cache);
    c->cache = NULL;
}

uint32_t pg_cache_hash(const char *s)
{
    uint32_t h = 2166136261u;                     /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

pg_stmt *pg_cache_find(db_conn *c, const char *sql, uint32_t h)
{
    for (int i = 0; i < c->ncache; i++)
        if (c->cache[i].hash == h && !strcmp(c->cache[i].sql, sql)) return &c->cache[i];
    return NULL;
}

pg_stmt *pg_cache_victim(db_conn *c)
{
    if (c->ncache < c->cache_max) return NULL;
    int lru = 0;
    for (int i = 1; i < c->ncache; i++)
        if (c->cache[i].used < c->cache[lru].used) lru = i;
    return &c->cache[lru];
}

pg_stmt *pg_cache_add(db_conn *c, const char *sql, uint32_t h, size_t nparams, bool plain_select)
{
    KILN_ASSERT(c->ncache < c->cache_max);
    pg_stmt *s = &c->cache[c->ncache++];
    s->sql = kiln_xstrdup(sql);
    s->hash = h;
    s->nparams = nparams;
    s->plain_select = plain_select;
    s->name = ++c->next_name;
    snprintf(s->label, sizeof s->label, "k%u", s->name);
    return s;
}

void pg_cache_use(db_conn *c, pg_stmt *s)
{
    s->used = ++c->clock;
}

void pg_cache_forget(db_conn *c, unsigned name)
{
    for (int i = 0; i < c->ncache; i++) {
        if (c->cache[i].name != name) continue;
        free(c->cache[i].sql);
        c->cache[i] = c->cache[--c->ncache];
        return;
    }
}

bool pg_cache_has(db_conn *c, unsigned name)
{
    for (int i = 0; i < c->ncache; i++)
        if (c->cache[i].name == name) return true;
    return false;
}

void pg_cache_clear(db_conn *c)
{
    for (int i = 0; i < c->ncache; i++) free(c->cache[i].sql);
    c->ncache = 0;
}

bool pg_resets_statements(const char *sql)
{
    while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r' || *sql == '(') sql++;
    return !strncasecmp(sql, "DISCARD", 7) || !strncasecmp(sql, "DEALLOCATE", 10);
}
