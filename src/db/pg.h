/*
 * pg.h -- the PostgreSQL backend's insides, shared by pg.c (connecting,
 * reading results, scripts), pipeline.c (libpq pipeline mode, handing
 * results to the waiting requests) and pgcache.c (the prepared-statement
 * cache of each connection).
 */
#ifndef KILN_DB_PG_H
#define KILN_DB_PG_H

#include "db/db.h"
#include "api/request.h"
#include "runtime/wait.h"

#include <libpq-fe.h>

/* Prepared statements kept per connection (least recently used evicted,
 * with a DEALLOCATE). KILN_PG_STATEMENTS overrides (0: none prepared). */
#define PG_STMT_CACHE_DEFAULT 256
#define PG_STMT_CACHE_MAX 4096
/* Plain SELECTs that may share one Sync (pipeline.c); KILN_PG_GROUP
 * overrides (1: a Sync after every statement). */
#define PG_GROUP_DEFAULT 32
#define PG_GROUP_MAX 256

typedef struct pg_stmt {
    char *sql;                 /* malloc'd key: the handler's SQL text      */
    uint32_t hash;
    unsigned name;             /* server-side name "k<name>"                */
    char label[12];            /* that name as text                         */
    size_t nparams;            /* its '?' placeholders                      */
    bool plain_select;         /* may share a Sync (pipeline.c)             */
    uint64_t used;             /* clock of the last use (LRU)               */
} pg_stmt;

typedef struct pg_op pg_op;

struct db_conn {
    PGconn *pg;
    bool broken;               /* drop it (db.c asks through pg_ok)         */
    bool pipelined;            /* in libpq pipeline mode                    */
    bool reading;              /* a waiting request reads the socket for all */
    int wfd;                   /* dup of the socket for "writable" waits, -1 */
    bool corked;               /* TCP_CORK on: statements queued, not pushed */
    bool cork_failed;          /* not TCP (a Unix socket): never cork       */
    bool flushing;             /* a request pushes this turn's statements   */
    int group_len;             /* SELECTs queued since the last Sync        */
    int group_max;             /* KILN_PG_GROUP: SELECTs per Sync at most   */
    uint64_t idle_at;          /* loop ms when the FIFO last emptied        */
    pg_op *head, *tail;        /* sent, results not all read: in order      */
    pg_stmt *cache;            /* ncache entries of cache_max               */
    int ncache, cache_max;
    unsigned next_name;
    uint64_t clock;
};

/* pg.c */
kiln_db_status pg_classify(const char *sqlstate);
/* Read one PGresult into *out (keeps the first error, else the last rows). */
void pg_take_result(db_conn *c, arena *a, PGresult *res, kiln_rows *out);
/* Parameters as text values; false after setting out->status (a NUL byte
 * in a text). */
bool pg_text_values(arena *a, const kiln_param *p, size_t n, const char ***vals, kiln_rows *out);
/* The SQL with $n placeholders; false after setting out->status when their
 * count is not n. */
bool pg_dollar_sql(arena *a, const char *sql, size_t n, const char **q, kiln_rows *out);

/* pgcache.c: the prepared statements of one connection, keyed by SQL text.
 * init: empty, sized by KILN_PG_STATEMENTS; victim: the least recently used
 * entry when the table is full (the caller DEALLOCATEs and forgets it),
 * else NULL; add: a new entry (never when full) with a fresh name; use:
 * mark it used now; forget / has: by name; clear: forget everything (the
 * server dropped them). resets_statements: DISCARD / DEALLOCATE. */
void pg_cache_init(db_conn *c);
void pg_cache_free(db_conn *c);
uint32_t pg_cache_hash(const char *sql);
pg_stmt *pg_cache_find(db_conn *c, const char *sql, uint32_t hash);
pg_stmt *pg_cache_victim(db_conn *c);
pg_stmt *pg_cache_add(db_conn *c, const char *sql, uint32_t hash, size_t nparams, bool plain_select);
void pg_cache_use(db_conn *c, pg_stmt *s);
void pg_cache_forget(db_conn *c, unsigned name);
bool pg_cache_has(db_conn *c, unsigned name);
void pg_cache_clear(db_conn *c);
bool pg_resets_statements(const char *sql);

/* pipeline.c */
void pg_pipe_query(db_conn *c, kiln_req *req, arena *a, const char *sql,
                   const kiln_param *p, size_t n, kiln_rows *out);
void pg_pipe_query_many(db_conn *c, kiln_req *req, arena *a, db_stmt *st, size_t n);
/* Leave pipeline mode (nothing may be in flight): for PQexec scripts. */
void pg_pipe_leave(db_conn *c);
/* Forget every pending statement (connection closing). */
void pg_pipe_close(db_conn *c);

#endif
