/*
 * fuzz_router.c -- router_match against a slow, obvious reference.
 *
 * A fixed table of representative patterns. Each input is a request path.
 * Invariants (abort() on failure):
 *  1. the result is FOUND, NOT_FOUND or BAD_PATH, and the same one the
 *     reference gives: split the path, decode every segment strictly, then try
 *     the patterns one by one in router_order's precedence order -- the first
 *     that fits must be the route the trie's backtracking walk found;
 *  2. when FOUND, every param has its pattern's name and its values are
 *     exactly the decoded segments of the path at its position ([x]: one;
 *     [...x]: one or more; [[...x]]: zero or more), NUL-terminated, with a
 *     NULL after the last; a route without params took nothing from the arena;
 *  3. rebuilding a path from the pattern and the values (percent-encoding
 *     what needs it) matches the same route with the same values.
 */
#include "router/router.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const patterns[] = {
    "/api",
    "/api/hello",
    "/api/hello world",
    "/api/a%b",
    "/api/posts",
    "/api/posts/new",
    "/api/posts/[id]",
    "/api/posts/[id]/comments",
    "/api/posts/[id]/comments/[cid]",
    "/api/users/[uid]/posts",
    "/api/docs/intro",
    "/api/docs/[...slug]",
    "/api/opt/[[...rest]]",
    "/api/[section]/about",
    "/api/[section]/[...tail]",
    "/api/x/[p]/y/[q]/[[...r]]",
    "/other/[...all]",
};
#define NPAT (sizeof(patterns) / sizeof(patterns[0]))

static router *R;
static size_t order[NPAT];
static arena A;

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (line %d)\n", \
    #c, __LINE__); abort(); } } while (0)

/* ---- The reference --------------------------------------------------- */

typedef struct seg { char *s; size_t len; } seg;

static int hexv(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void segs_free(seg *v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i].s);
    free(v);
}

/* Split and decode; ROUTE_FOUND means "well-formed, no empty segment". */
static int ref_split(const char *p, size_t len, seg **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (len == 0 || p[0] != '/') return ROUTE_BAD_PATH;
    if (len == 1) return ROUTE_FOUND;
    seg *v = calloc(len, sizeof(seg));
    size_t cnt = 0;
    bool empty = false;
    size_t start = 1;
    for (size_t i = 1; i <= len; i++) {
        if (i < len && p[i] != '/') continue;
        size_t rl = i - start;
        char *d = malloc(rl + 1);
        size_t dl = 0;
        for (size_t j = start; j < i; j++) {
            int c = (unsigned char)p[j];
            if (c == '%') {
                if (j + 2 >= i || hexv((unsigned char)p[j + 1]) < 0 || hexv((unsigned char)p[j + 2]) < 0) {
                    free(d);
                    segs_free(v, cnt);
                    return ROUTE_BAD_PATH;
                }
                c = hexv((unsigned char)p[j + 1]) * 16 + hexv((unsigned char)p[j + 2]);
                j += 2;
            }
            if (c == 0) { free(d); segs_free(v, cnt); return ROUTE_BAD_PATH; }
            d[dl++] = (char)c;
        }
        d[dl] = '\0';
        if ((dl == 1 && d[0] == '.') || (dl == 2 && d[0] == '.' && d[1] == '.')) {
            free(d);
            segs_free(v, cnt);
            return ROUTE_BAD_PATH;
        }
        if (dl == 0) empty = true;
        v[cnt++] = (seg){ d, dl };
        start = i + 1;
    }
    *out = v;
    *n = cnt;
    return empty ? ROUTE_NOT_FOUND : ROUTE_FOUND;
}

/* Pattern segment i of p: kind 0 static, 1 [x], 2 [...x], 3 [[...x]]. */
typedef struct pseg { const char *s; size_t len; int kind; const char *name; size_t nlen; } pseg;

static size_t pattern_segs(const char *p, pseg *out)
{
    size_t n = 0;
    if (!strcmp(p, "/")) return 0;
    const char *s = p + 1;
    for (;;) {
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        pseg g = { s, len, 0, NULL, 0 };
        if (len >= 7 && !strncmp(s, "[[...", 5)) g = (pseg){ s, len, 3, s + 5, len - 7 };
        else if (len >= 5 && !strncmp(s, "[...", 4)) g = (pseg){ s, len, 2, s + 4, len - 5 };
        else if (len >= 2 && s[0] == '[') g = (pseg){ s, len, 1, s + 1, len - 2 };
        out[n++] = g;
        if (!e) break;
        s = e + 1;
    }
    return n;
}

static bool ref_fits(const char *pattern, const seg *v, size_t n)
{
    pseg ps[32];
    size_t np = pattern_segs(pattern, ps);
    for (size_t i = 0; i < np; i++) {
        if (ps[i].kind == 2) return n > i;
        if (ps[i].kind == 3) return n >= i;
        if (i >= n) return false;
        if (ps[i].kind == 0 && (ps[i].len != v[i].len || memcmp(ps[i].s, v[i].s, v[i].len)))
            return false;
    }
    return np == n;
}

/* The params of a match must be the decoded segments at their positions. */
static void check_params(const route_match *m, const char *pattern, const seg *v, size_t n)
{
    pseg ps[32];
    size_t np = pattern_segs(pattern, ps), k = 0;
    for (size_t i = 0; i < np; i++) {
        if (ps[i].kind == 0) continue;
        REQUIRE(k < m->nparams);
        const route_param *p = &m->params[k++];
        REQUIRE(strlen(p->name) == ps[i].nlen && !memcmp(p->name, ps[i].name, ps[i].nlen));
        size_t want = ps[i].kind == 1 ? 1 : n - i;
        REQUIRE(p->count == want);
        if (ps[i].kind == 1) REQUIRE(p->count == 1);
        if (ps[i].kind == 2) REQUIRE(p->count >= 1);
        REQUIRE(p->values != NULL && p->values[p->count] == NULL);
        for (size_t j = 0; j < p->count; j++) {
            const seg *sg = &v[i + j];
            REQUIRE(strlen(p->values[j]) == sg->len);
            REQUIRE(!memcmp(p->values[j], sg->s, sg->len));
        }
    }
    REQUIRE(k == m->nparams);
}

/* ---- Rebuilding a path from a match ---------------------------------- */

static void put_enc(char **o, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' || c == '/' || c <= 0x20 || c >= 0x7f) {
            *(*o)++ = '%';
            *(*o)++ = hex[c >> 4];
            *(*o)++ = hex[c & 15];
        } else {
            *(*o)++ = (char)c;
        }
    }
}

static void check_rebuild(const route_match *m, size_t path_len)
{
    const char *pattern = m->route->pattern;
    pseg ps[32];
    size_t np = pattern_segs(pattern, ps), k = 0;
    char *buf = malloc(3 * path_len + 3 * strlen(pattern) + 8), *o = buf;
    for (size_t i = 0; i < np; i++) {
        if (ps[i].kind == 0) {
            *o++ = '/';
            put_enc(&o, ps[i].s, ps[i].len);
            continue;
        }
        const route_param *p = &m->params[k++];
        for (size_t j = 0; j < p->count; j++) {
            *o++ = '/';
            put_enc(&o, p->values[j], strlen(p->values[j]));
        }
    }
    if (o == buf) *o++ = '/';
    size_t len = (size_t)(o - buf);

    /* Values live in A: match again into a second arena. */
    static arena B;
    if (!B.head) arena_init(&B, 4096);
    arena_reset(&B);
    route_match m2;
    REQUIRE(router_match(R, buf, len, &B, &m2) == ROUTE_FOUND);
    REQUIRE(m2.route_index == m->route_index && m2.route == m->route);
    REQUIRE(m2.nparams == m->nparams);
    for (size_t i = 0; i < m->nparams; i++) {
        REQUIRE(m2.params[i].count == m->params[i].count);
        REQUIRE(!strcmp(m2.params[i].name, m->params[i].name));
        for (size_t j = 0; j < m->params[i].count; j++)
            REQUIRE(!strcmp(m2.params[i].values[j], m->params[i].values[j]));
    }
    free(buf);
}

/* ---- The target ---------------------------------------------------- */

static void setup(void)
{
    kiln_route_def defs[NPAT];
    memset(defs, 0, sizeof defs);
    for (size_t i = 0; i < NPAT; i++) defs[i].pattern = patterns[i];
    char *err = NULL;
    R = router_new(defs, NPAT, &err);
    if (!R) { fprintf(stderr, "router_new: %s\n", err); abort(); }
    router_order(R, order);
    arena_init(&A, 4096);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!R) setup();
    arena_reset(&A);
    const char *path = (const char *)data;
    route_match m;
    int rc = router_match(R, path, size, &A, &m);
    REQUIRE(rc == ROUTE_FOUND || rc == ROUTE_NOT_FOUND || rc == ROUTE_BAD_PATH);

    seg *v;
    size_t n;
    int want = ref_split(path, size, &v, &n);
    size_t want_route = SIZE_MAX;
    if (want == ROUTE_FOUND) {
        want = ROUTE_NOT_FOUND;
        for (size_t i = 0; i < NPAT; i++)
            if (ref_fits(patterns[order[i]], v, n)) {
                want = ROUTE_FOUND;
                want_route = order[i];
                break;
            }
    }
    REQUIRE(rc == want);
    if (rc == ROUTE_FOUND) {
        REQUIRE(m.route_index == want_route);
        REQUIRE(m.route != NULL && !strcmp(m.route->pattern, patterns[want_route]));
        check_params(&m, patterns[want_route], v, n);
        if (m.nparams == 0) REQUIRE(arena_used(&A) == 0);
        check_rebuild(&m, size);
    } else {
        REQUIRE(m.route == NULL && m.nparams == 0);
    }
    segs_free(v, n);
    return 0;
}
