/*
 * db.h -- kiln_db internals: one API (kiln.h), two backends.
 *
 * A backend turns (sql, params) into a kiln_rows read whole into the
 * request's arena. db.c owns the per-worker pool, decides which connection a
 * request uses, and turns failures into statuses.
 */
#ifndef KILN_DB_H
#define KILN_DB_H

#include "kiln.h"
#include "core/core.h"

enum { DBV_NULL, DBV_INT, DBV_REAL, DBV_TEXT, DBV_JSON, DBV_BOOL };

typedef struct db_value {
    int type;
    int64_t i;          /* DBV_INT, DBV_BOOL            */
    double d;           /* DBV_REAL                     */
    const char *s;      /* DBV_TEXT, DBV_JSON (and the text form of numbers) */
    size_t n;
} db_value;

struct kiln_rows {
    kiln_db_status status;
    const char *error;
    size_t nrows, ncols;
    const char **cols;
    db_value *vals;     /* nrows * ncols, row-major */
    int64_t changes;
};

typedef struct db_conn db_conn;

typedef struct db_backend {
    const char *name;                       /* "sqlite" or "postgres"          */
    /* Connect (may suspend `req` when it is not NULL; NULL: blocking). */
    db_conn *(*connect)(const char *target, kiln_req *req, char **err);
    void (*close)(db_conn *c);
    /* Run one statement. Fills *out (status, rows, error). `a` is the arena. */
    void (*query)(db_conn *c, kiln_req *req, arena *a, const char *sql,
                  const kiln_param *p, size_t n, kiln_rows *out);
    /* False once the connection is known broken (drop it). */
    bool (*ok)(db_conn *c);
    /* Run a whole script (migrations), blocking. NULL on success, else a
     * malloc'd message. */
    char *(*exec_script)(db_conn *c, const char *sql);
    const char *begin_sql;                  /* "BEGIN IMMEDIATE" / "BEGIN"     */
} db_backend;

extern const db_backend db_sqlite;
extern const db_backend db_postgres;

/* Which backend and target the environment chooses for an app folder:
 * DATABASE_URL=postgres://... or postgresql://... -> PostgreSQL; otherwise
 * SQLite at APP_DIR/data/app.db (created on first start), or
 * DATABASE_URL=sqlite:PATH. *target is malloc'd. */
const db_backend *db_choose(const char *app_dir, char **target);

/* Apply APP_DIR/db/migrations (blocking). Returns 0, or -1 after printing
 * what failed. verbose: print each applied migration. */
int db_migrate(const char *app_dir, bool verbose);

/* The app folder of the running server (KILN_APP_DIR, or the folder above
 * the executable's .kiln/). */
const char *db_app_dir(void);

/* Per worker, at exit: close the pooled connections (app/app.c registers
 * it with the engine). */
void db_worker_exit(void);

/* Rewrite '?' placeholders to $1, $2 ... outside quotes and comments. */
char *db_rewrite_placeholders(arena *a, const char *sql, size_t *count);

#endif
