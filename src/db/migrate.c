/*
 * migrate.c -- schema migrations: APP_DIR/db/migrations/NNN_name.sql,
 * applied in name order, each in its own transaction, recorded in the
 * kiln_migrations table, never applied twice.
 *
 * Where SQLite and PostgreSQL differ, a migration may come in dialect
 * versions: NNN_name.sqlite.sql and NNN_name.pg.sql. The one for the
 * backend in use is applied; a plain NNN_name.sql serves both. A migration's
 * identity is NNN_name (without the dialect), so switching backends does not
 * re-run anything.
 *
 * Runs at server start in the master (before any worker exists) and from
 * `kiln migrate APP_DIR`. Concurrent starts are serialized by the database
 * (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock on a fixed key,
 * held for the whole run, so N machines started at the same moment apply
 * each migration exactly once, and none of them serves before the
 * migrations are in: the master runs this before any worker exists).
 *
 * Owns: nothing beyond one call. Must never: apply a migration partially
 * (failure rolls back that file and stops).
 */
#include "db/db.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

/* The advisory lock key (per database) held while migrations run. */
#define MIGRATION_LOCK "7270411"

typedef struct mig { char id[256]; char file[256]; int rank; } mig;

static int cmp_mig(const void *a, const void *b)
{
    return strcmp(((const mig *)a)->id, ((const mig *)b)->id);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = kiln_xmalloc((size_t)(n < 0 ? 0 : n) + 1);
    size_t got = fread(s, 1, (size_t)(n < 0 ? 0 : n), f);
    s[got] = '\0';
    fclose(f);
    return s;
}

/* A query that runs without a request (blocking). */
static bool run(const db_backend *be, db_conn *c, const char *sql, const kiln_param *p, size_t n, kiln_rows *out, arena *a)
{
    memset(out, 0, sizeof *out);
    be->query(c, NULL, a, sql, p, n, out);
    return out->status == KILN_DB_OK;
}

int db_migrate(const char *app_dir, bool verbose)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/db/migrations", app_dir);
    DIR *d = opendir(dir);
    if (!d) return 0;                           /* no migrations: nothing to do */

    char *target = NULL;
    const db_backend *be = db_choose(app_dir, &target);
    const char *dialect = be == &db_sqlite ? "sqlite" : "pg";

    size_t n = 0, cap = 16;
    mig *list = kiln_xmalloc(cap * sizeof *list);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".sql") || e->d_name[0] == '.' || l >= 250) continue;
        mig m = { .rank = 1 };
        snprintf(m.file, sizeof m.file, "%s", e->d_name);
        snprintf(m.id, sizeof m.id, "%.*s", (int)(l - 4), e->d_name);
        char *dot = strrchr(m.id, '.');
        if (dot) {
            if (strcmp(dot + 1, dialect) != 0 && !(!strcmp(dialect, "pg") && !strcmp(dot + 1, "postgres")))
                continue;                       /* the other dialect's version */
            *dot = '\0';
            m.rank = 0;                         /* a dialect file beats a plain one */
        }
        bool dup = false;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(list[i].id, m.id)) {
                if (m.rank < list[i].rank) list[i] = m;
                dup = true;
            }
        if (dup) continue;
        if (n == cap) list = kiln_xrealloc(list, (cap *= 2) * sizeof *list);
        list[n++] = m;
    }
    closedir(d);
    qsort(list, n, sizeof *list, cmp_mig);

    int rc = -1;
    char *err = NULL;
    arena a;
    arena_init(&a, 4096);
    db_conn *c = be->connect(target, NULL, &err);
    if (!c) {
        fprintf(stderr, "kiln: migrations: %s\n", err ? err : "cannot connect");
        goto out;
    }
    kiln_rows r;
    const char *create = be == &db_sqlite
        ? "CREATE TABLE IF NOT EXISTS kiln_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        : "CREATE TABLE IF NOT EXISTS kiln_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";
    /* PostgreSQL: machines started together queue here; the first applies,
     * the others find every migration recorded once the lock is theirs. */
    if (be == &db_postgres) {
        if (!run(be, c, "SELECT pg_try_advisory_lock(" MIGRATION_LOCK ") AS got", NULL, 0, &r, &a)) {
            fprintf(stderr, "kiln: migrations: %s\n", r.error);
            goto close;
        }
        if (r.nrows == 1 && r.vals[0].type == DBV_BOOL && !r.vals[0].i) {
            fprintf(stderr, "kiln: migrations: another process is applying migrations; waiting for it\n");
            if (!run(be, c, "SELECT pg_advisory_lock(" MIGRATION_LOCK ")", NULL, 0, &r, &a)) {
                fprintf(stderr, "kiln: migrations: %s\n", r.error);
                goto close;
            }
        }
    }
    if (!run(be, c, create, NULL, 0, &r, &a)) {
        fprintf(stderr, "kiln: migrations: cannot create kiln_migrations: %s\n", r.error);
        goto close;
    }
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        kiln_param p = kiln_p_text(list[i].id);
        if (!run(be, c, be->begin_sql, NULL, 0, &r, &a)) { rc = -1; fprintf(stderr, "kiln: migrations: %s\n", r.error); break; }
        if (!run(be, c, "SELECT 1 FROM kiln_migrations WHERE name = ?", &p, 1, &r, &a)) {
            fprintf(stderr, "kiln: migrations: %s\n", r.error);
            rc = -1;
        } else if (r.nrows == 0) {
            char path[4600];
            snprintf(path, sizeof path, "%s/%s", dir, list[i].file);
            char *sql = read_file(path);
            char *e2 = sql ? be->exec_script(c, sql) : kiln_xstrdup("cannot read the file");
            if (!e2 && !run(be, c, "INSERT INTO kiln_migrations (name) VALUES (?)", &p, 1, &r, &a))
                e2 = kiln_xstrdup(r.error ? r.error : "cannot record the migration");
            if (e2) {
                fprintf(stderr, "kiln: migration db/migrations/%s failed: %s\n", list[i].file, e2);
                free(e2);
                rc = -1;
            } else if (verbose) {
                printf("kiln: applied migration %s\n", list[i].file);
            }
            free(sql);
        }
        kiln_rows r2;
        run(be, c, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, 0, &r2, &a);
        if (rc == 0 && r2.status != KILN_DB_OK) {
            fprintf(stderr, "kiln: migration db/migrations/%s: commit failed: %s\n", list[i].file, r2.error);
            rc = -1;
        }
        arena_reset(&a);
    }
    if (be == &db_postgres) run(be, c, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")", NULL, 0, &r, &a);
close:
    be->close(c);
out:
    arena_destroy(&a);
    free(err);
    free(target);
    free(list);
    return rc;
}
