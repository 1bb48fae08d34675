/*
 * match.c -- the run-time half of routing: a segment trie built once from the
 * generated route table, and the matcher that every request goes through.
 *
 * A pattern is split on '/' into segments; each segment is one edge of the
 * trie. A node has
 *   - static children, sorted by label bytes (binary search);
 *   - at most one [name] child (one name per position, as in Next.js);
 *   - at most one [...name] or [[...name]] leaf (they end a pattern);
 *   - the route ending exactly at the node, if any.
 * Matching is a depth-first walk in precedence order -- static, then [x],
 * then [...x], then [[...x]] -- that backtracks when a branch dead-ends, so
 * the first route found is the first route in Next.js's sorted order that
 * matches. Each trie node sits at one depth and so sees one segment: a match
 * visits every node at most once.
 *
 * Owns: the trie (malloc'd nodes, labels, names) and a deep copy of the route
 * table's patterns and file names, so the caller's table may go away; handler
 * and config pointers are copied as they are.
 *
 * router_match only reads the router, so one router serves every thread.
 *
 * Must never: allocate with malloc at match time (param values go to the
 * request arena; a route without params allocates nothing); copy or decode a
 * segment that holds no '%'; accept a path with a bad escape, a decoded NUL
 * or a dot segment; accept a table that Next.js would refuse (the same rules
 * as the build-time scan, so the two never disagree).
 */
#include "router/router.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define NO_ROUTE SIZE_MAX
#define MAX_DEPTH 128       /* segments per pattern: bounds the walk's recursion */

enum seg_kind { SEG_STATIC, SEG_DYN, SEG_CATCH, SEG_OPT };

typedef struct rnode rnode;

typedef struct redge {
    char *label;            /* static segment, NUL-terminated copy */
    size_t len;
    rnode *child;
} redge;

struct rnode {
    redge *statics;         /* static children, sorted by label bytes      */
    size_t nstatic, capstatic;
    rnode *dyn;             /* the [name] child, or NULL                   */
    char *dyn_name;         /* its param name                              */
    size_t dyn_owner;       /* first route through it (for error messages) */
    size_t route;           /* route ending exactly here, or NO_ROUTE      */
    size_t catch_route;     /* the [...name] leaf's route, or NO_ROUTE     */
    char *catch_name;
    size_t opt_route;       /* the [[...name]] leaf's route, or NO_ROUTE   */
    char *opt_name;
};

struct router {
    rnode *root;
    kiln_route_def *defs;   /* deep copy of the table (pattern, file)      */
    size_t n;
};

/* An empty optional catch-all: count 0, values still a valid array. */
static const char *const no_values[1] = { NULL };

/* ---- Small helpers ---------------------------------------------------- */

static char *msgf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *msgf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) KILN_PANIC("out of memory formatting a message");
    return s;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = kiln_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static inline int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* ---- Patterns ----------------------------------------------------------- */

typedef struct pseg {
    int kind;               /* enum seg_kind                   */
    const char *name;       /* param name (not NUL-terminated) */
    size_t name_len;
} pseg;

enum { PSEG_OK, PSEG_EMPTY, PSEG_DOT, PSEG_BRACKET };

static bool ident_ok(const char *s, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

/* Classify one pattern segment: "x", "[x]", "[...x]" or "[[...x]]". */
static int seg_parse(const char *s, size_t len, pseg *g)
{
    g->kind = SEG_STATIC;
    g->name = NULL;
    g->name_len = 0;
    if (len == 0) return PSEG_EMPTY;
    if (!memchr(s, '[', len) && !memchr(s, ']', len)) {
        if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
            return PSEG_DOT;
        return PSEG_OK;
    }
    if (len >= 7 && !memcmp(s, "[[...", 5) && !memcmp(s + len - 2, "]]", 2)) {
        g->kind = SEG_OPT;
        g->name = s + 5;
        g->name_len = len - 7;
    } else if (len >= 5 && !memcmp(s, "[...", 4) && s[len - 1] == ']') {
        g->kind = SEG_CATCH;
        g->name = s + 4;
        g->name_len = len - 5;
    } else if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        g->kind = SEG_DYN;
        g->name = s + 1;
        g->name_len = len - 2;
    } else {
        return PSEG_BRACKET;
    }
    return ident_ok(g->name, g->name_len) ? PSEG_OK : PSEG_BRACKET;
}

/* Iterate the segments of a pattern: "/" has none, "/a/b" has "a" and "b". */
typedef struct seg_iter {
    const char *p, *end, *cur;
} seg_iter;

static void seg_iter_init(seg_iter *it, const char *pattern)
{
    size_t n = strlen(pattern);
    it->p = pattern;
    it->end = pattern + n;
    it->cur = (n == 1) ? it->end : pattern;   /* at a '/' (or the end) */
}

static bool seg_next(seg_iter *it, const char **s, size_t *len)
{
    if (it->cur >= it->end) return false;
    *s = it->cur + 1;
    const char *e = memchr(*s, '/', (size_t)(it->end - *s));
    if (!e) e = it->end;
    *len = (size_t)(e - *s);
    it->cur = e;
    return true;
}

static const char *def_where(const kiln_route_def *d)
{
    return d->file ? d->file : d->pattern;
}

/* Check one pattern on its own. NULL, or a malloc'd message. */
static char *pattern_check(const kiln_route_def *d, size_t i)
{
    if (!d->pattern || d->pattern[0] != '/')
        return msgf("route %zu (%s): pattern \"%s\" must start with '/'", i,
                    d->file ? d->file : "?", d->pattern ? d->pattern : "(null)");
    const char *where = def_where(d);
    const char *names[ROUTER_MAX_PARAMS];
    size_t name_lens[ROUTER_MAX_PARAMS], nparams = 0;
    seg_iter it;
    const char *s;
    size_t len;
    bool ended = false;   /* saw a catch-all: nothing may follow */
    size_t depth = 0;
    seg_iter_init(&it, d->pattern);
    while (seg_next(&it, &s, &len)) {
        pseg g;
        if (++depth > MAX_DEPTH)
            return msgf("%s: more than %d segments in %s", where, MAX_DEPTH, d->pattern);
        switch (seg_parse(s, len, &g)) {
        case PSEG_EMPTY:
            return msgf("%s: empty segment in %s", where, d->pattern);
        case PSEG_DOT:
            return msgf("%s: \".\" or \"..\" segment in %s", where, d->pattern);
        case PSEG_BRACKET:
            return msgf("%s: malformed dynamic segment \"%.*s\" in %s (use [name], "
                        "[...name] or [[...name]], name = [A-Za-z_][A-Za-z0-9_]*)",
                        where, (int)len, s, d->pattern);
        }
        if (ended)
            return msgf("%s: a catch-all must be the last segment of %s", where, d->pattern);
        if (g.kind == SEG_STATIC) continue;
        if (g.kind != SEG_DYN) ended = true;
        for (size_t k = 0; k < nparams; k++)
            if (name_lens[k] == g.name_len && !memcmp(names[k], g.name, g.name_len))
                return msgf("%s: param name \"%.*s\" used twice in %s", where,
                            (int)g.name_len, g.name, d->pattern);
        if (nparams == ROUTER_MAX_PARAMS)
            return msgf("%s: more than %d params in %s", where, ROUTER_MAX_PARAMS, d->pattern);
        names[nparams] = g.name;
        name_lens[nparams++] = g.name_len;
    }
    return NULL;
}

/* ---- Building the trie ------------------------------------------------ */

static rnode *node_new(void)
{
    rnode *n = kiln_xcalloc(1, sizeof(*n));
    n->route = n->catch_route = n->opt_route = NO_ROUTE;
    return n;
}

static void node_free(rnode *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->nstatic; i++) {
        free(n->statics[i].label);
        node_free(n->statics[i].child);
    }
    free(n->statics);
    node_free(n->dyn);
    free(n->dyn_name);
    free(n->catch_name);
    free(n->opt_name);
    free(n);
}

/* Lexicographic byte order, shorter first on a tie: strcmp's order. */
static int label_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

static rnode *static_child(rnode *n, const char *s, size_t len)
{
    size_t lo = 0, hi = n->nstatic;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = label_cmp(n->statics[mid].label, n->statics[mid].len, s, len);
        if (c == 0) return n->statics[mid].child;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    if (n->nstatic == n->capstatic) {
        n->capstatic = n->capstatic ? n->capstatic * 2 : 4;
        n->statics = kiln_xrealloc(n->statics, n->capstatic * sizeof(redge));
    }
    memmove(&n->statics[lo + 1], &n->statics[lo], (n->nstatic - lo) * sizeof(redge));
    n->statics[lo] = (redge){ xstrndup(s, len), len, node_new() };
    n->nstatic++;
    return n->statics[lo].child;
}

/* Name two routes in a message, in a stable (byte) order. */
static char *msg_pair(const router *r, size_t i, size_t j, const char *fmt_head,
                      const char *tail_pattern)
{
    const char *a = def_where(&r->defs[i]), *b = def_where(&r->defs[j]);
    if (strcmp(a, b) > 0) { const char *t = a; a = b; b = t; }
    if (tail_pattern)
        return msgf("%s: %s and %s both map to %s", fmt_head, a, b, tail_pattern);
    return msgf("%s: %s and %s", fmt_head, a, b);
}

static bool name_eq(const char *have, const pseg *g)
{
    return strlen(have) == g->name_len && !memcmp(have, g->name, g->name_len);
}

/* Insert route i (its pattern already checked); NULL or a message. */
static char *insert(router *r, size_t i)
{
    const char *pattern = r->defs[i].pattern;
    rnode *n = r->root;
    seg_iter it;
    const char *s;
    size_t len;
    seg_iter_init(&it, pattern);
    while (seg_next(&it, &s, &len)) {
        pseg g;
        seg_parse(s, len, &g);
        switch (g.kind) {
        case SEG_STATIC:
            n = static_child(n, s, len);
            break;
        case SEG_DYN:
            if (!n->dyn) {
                n->dyn = node_new();
                n->dyn_name = xstrndup(g.name, g.name_len);
                n->dyn_owner = i;
            } else if (!name_eq(n->dyn_name, &g)) {
                return msg_pair(r, n->dyn_owner, i,
                                "different slug names for the same dynamic path", NULL);
            }
            n = n->dyn;
            break;
        case SEG_CATCH:
        case SEG_OPT: {
            size_t *mine = g.kind == SEG_CATCH ? &n->catch_route : &n->opt_route;
            char **mine_name = g.kind == SEG_CATCH ? &n->catch_name : &n->opt_name;
            size_t other = g.kind == SEG_CATCH ? n->opt_route : n->catch_route;
            if (other != NO_ROUTE)
                return msg_pair(r, other, i,
                                "a catch-all and an optional catch-all at the same level", NULL);
            if (*mine != NO_ROUTE) {
                if (!name_eq(*mine_name, &g))
                    return msg_pair(r, *mine, i,
                                    "different slug names for the same dynamic path", NULL);
                return msg_pair(r, *mine, i, "ambiguous routes", pattern);
            }
            if (g.kind == SEG_OPT && n->route != NO_ROUTE)
                return msg_pair(r, n->route, i,
                                "an optional catch-all has the same specificity as another route",
                                NULL);
            *mine = i;
            *mine_name = xstrndup(g.name, g.name_len);
            return NULL;    /* a catch-all is always the last segment */
        }
        }
    }
    if (n->route != NO_ROUTE) return msg_pair(r, n->route, i, "ambiguous routes", pattern);
    if (n->opt_route != NO_ROUTE)
        return msg_pair(r, n->opt_route, i,
                        "an optional catch-all has the same specificity as another route", NULL);
    n->route = i;
    return NULL;
}

router *router_new(const kiln_route_def *routes, size_t n, char **err)
{
    if (err) *err = NULL;
    router *r = kiln_xcalloc(1, sizeof(*r));
    r->root = node_new();
    r->n = n;
    r->defs = kiln_xcalloc(n ? n : 1, sizeof(kiln_route_def));
    char *msg = NULL;
    for (size_t i = 0; i < n && !msg; i++) {
        r->defs[i] = routes[i];
        r->defs[i].pattern = routes[i].pattern ? kiln_xstrdup(routes[i].pattern) : NULL;
        r->defs[i].file = routes[i].file ? kiln_xstrdup(routes[i].file) : NULL;
        msg = pattern_check(&r->defs[i], i);
    }
    /* Every pattern is well-formed: now the rules between patterns. */
    for (size_t i = 0; i < n && !msg; i++) msg = insert(r, i);
    if (msg) {
        router_free(r);
        if (err) *err = msg;
        else free(msg);
        return NULL;
    }
    return r;
}

void router_free(router *r)
{
    if (!r) return;
    node_free(r->root);
    for (size_t i = 0; i < r->n; i++) {
        free((char *)r->defs[i].pattern);
        free((char *)r->defs[i].file);
    }
    free(r->defs);
    free(r);
}

static void order_walk(const rnode *n, size_t *idx, size_t *k)
{
    if (n->route != NO_ROUTE) idx[(*k)++] = n->route;
    for (size_t i = 0; i < n->nstatic; i++) order_walk(n->statics[i].child, idx, k);
    if (n->dyn) order_walk(n->dyn, idx, k);
    if (n->catch_route != NO_ROUTE) idx[(*k)++] = n->catch_route;
    if (n->opt_route != NO_ROUTE) idx[(*k)++] = n->opt_route;
}

void router_order(const router *r, size_t *idx)
{
    size_t k = 0;
    order_walk(r->root, idx, &k);
    KILN_ASSERT(k == r->n);
}

/* ---- Matching ------------------------------------------------------- */

/* A value to hand out once the walk has found its route. */
typedef struct capture {
    const char *name;
    const char *raw;        /* [x]: the segment; catch-alls: the rest of the path */
    size_t len;
    bool rest;              /* a catch-all (split on '/')                          */
} capture;

typedef struct mctx {
    const char *path;
    size_t len;             /* 0 for the path "/" (no segments) */
    bool pct;               /* the path holds a '%' somewhere   */
    size_t route;
    size_t ncaps;
    capture caps[ROUTER_MAX_PARAMS];
} mctx;

/* The careful pass, for a path holding a '%': ROUTE_BAD_PATH for a bad
 * escape, a decoded (or raw) NUL, or a "." / ".." segment even when
 * percent-encoded; ROUTE_NOT_FOUND for an empty segment; else ROUTE_FOUND. */
static int path_check_pct(const char *p, size_t len)
{
    bool empty = false;
    size_t dlen = 0;          /* decoded length of the current segment */
    bool only_dots = true;
    for (size_t i = 1; i <= len; i++) {
        if (i == len || p[i] == '/') {
            if (dlen == 0) empty = true;
            else if (only_dots && dlen <= 2) return ROUTE_BAD_PATH;
            dlen = 0;
            only_dots = true;
            continue;
        }
        unsigned char c = (unsigned char)p[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len) return ROUTE_BAD_PATH;   /* needs two more bytes */
            if ((hi = hexval((unsigned char)p[i + 1])) < 0 ||
                (lo = hexval((unsigned char)p[i + 2])) < 0)
                return ROUTE_BAD_PATH;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0') return ROUTE_BAD_PATH;
        if (c != '.') only_dots = false;
        dlen++;
    }
    return empty ? ROUTE_NOT_FOUND : ROUTE_FOUND;
}

/* Bytes the quick pass must look at; everything else is skipped. */
static const unsigned char path_special[256] = { ['\0'] = 1, ['/'] = 1, ['%'] = 1 };

static inline bool dot_segment(const char *s, size_t len)
{
    return (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.');
}

/* Same verdicts as path_check_pct, to which it hands over at the first '%';
 * *pct tells the matcher whether segments may need decoding. */
static int path_check(const char *p, size_t len, bool *pct)
{
    *pct = false;
    if (len == 0 || p[0] != '/') return ROUTE_BAD_PATH;
    if (len == 1) return ROUTE_FOUND;   /* "/": the root, no segments */
    bool empty = false;
    size_t seg = 1;                     /* start of the current segment */
    for (size_t i = 1; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (LIKELY(!path_special[c])) continue;
        if (c == '%') {
            *pct = true;
            return path_check_pct(p, len);
        }
        if (c == '\0') return ROUTE_BAD_PATH;
        /* c == '/': a segment ends */
        if (i == seg) empty = true;
        else if (dot_segment(p + seg, i - seg)) return ROUTE_BAD_PATH;
        seg = i + 1;
    }
    if (len == seg) empty = true;
    else if (dot_segment(p + seg, len - seg)) return ROUTE_BAD_PATH;
    return empty ? ROUTE_NOT_FOUND : ROUTE_FOUND;
}

/* Compare a label with a raw segment holding escapes (already validated),
 * in label_cmp's order, decoding on the fly. */
static int label_cmp_pct(const char *label, size_t llen, const char *raw, size_t rlen)
{
    size_t i = 0, j = 0;
    while (i < llen && j < rlen) {
        unsigned char c = (unsigned char)raw[j];
        if (c == '%') {
            c = (unsigned char)(hexval((unsigned char)raw[j + 1]) << 4 |
                                hexval((unsigned char)raw[j + 2]));
            j += 3;
        } else {
            j++;
        }
        unsigned char l = (unsigned char)label[i++];
        if (l != c) return l < c ? -1 : 1;
    }
    if (i < llen) return 1;
    if (j < rlen) return -1;
    return 0;
}

static const rnode *find_static(const rnode *n, const char *s, size_t len, bool pct)
{
    size_t lo = 0, hi = n->nstatic;
    pct = pct && memchr(s, '%', len);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const redge *e = &n->statics[mid];
        int c;
        if (pct) c = label_cmp_pct(e->label, e->len, s, len);
        else if ((c = (unsigned char)e->label[0] - (unsigned char)s[0]) == 0)
            c = label_cmp(e->label, e->len, s, len);   /* both non-empty */
        if (c == 0) return e->child;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static bool walk(const rnode *n, mctx *c, size_t pos)
{
    if (pos == c->len) {
        if (n->route != NO_ROUTE) {
            c->route = n->route;
            return true;
        }
        if (n->opt_route != NO_ROUTE) {
            c->caps[c->ncaps++] = (capture){ n->opt_name, NULL, 0, true };
            c->route = n->opt_route;
            return true;
        }
        return false;
    }
    /* path[pos] is the '/' before a (non-empty) segment. */
    const char *s = c->path + pos + 1, *end = c->path + c->len;
    const char *e = memchr(s, '/', (size_t)(end - s));
    if (!e) e = end;
    size_t len = (size_t)(e - s), next = (size_t)(e - c->path);
    if (n->nstatic) {
        const rnode *child = find_static(n, s, len, c->pct);
        if (child && walk(child, c, next)) return true;
    }
    if (n->dyn) {
        /* A trie path holds no more params than the longest pattern. */
        KILN_ASSERT(c->ncaps < ROUTER_MAX_PARAMS);
        c->caps[c->ncaps++] = (capture){ n->dyn_name, s, len, false };
        if (walk(n->dyn, c, next)) return true;
        c->ncaps--;
    }
    size_t leaf = n->catch_route != NO_ROUTE ? n->catch_route : n->opt_route;
    if (leaf != NO_ROUTE) {
        const char *name = n->catch_route != NO_ROUTE ? n->catch_name : n->opt_name;
        c->caps[c->ncaps++] = (capture){ name, s, (size_t)(end - s), true };
        c->route = leaf;
        return true;
    }
    return false;
}

/* A NUL-terminated, percent-decoded copy of a (validated) segment. */
static const char *seg_dup(arena *a, const char *s, size_t len, bool pct)
{
    if (!pct || !memchr(s, '%', len)) return arena_strndup(a, s, len);
    char *out = arena_alloc(a, len + 1), *o = out;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            *o++ = (char)(hexval((unsigned char)s[i + 1]) << 4 | hexval((unsigned char)s[i + 2]));
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

static void fill_param(route_param *p, const capture *cp, arena *a, bool pct)
{
    p->name = cp->name;
    if (!cp->rest) {
        const char **v = arena_alloc(a, 2 * sizeof(char *));
        v[0] = seg_dup(a, cp->raw, cp->len, pct);
        v[1] = NULL;
        p->values = v;
        p->count = 1;
        return;
    }
    if (cp->len == 0) {
        p->values = no_values;
        p->count = 0;
        return;
    }
    size_t count = 1;
    for (const char *q = cp->raw, *end = cp->raw + cp->len;
         (q = memchr(q, '/', (size_t)(end - q))) != NULL; q++)
        count++;
    const char **v = arena_alloc(a, (count + 1) * sizeof(char *));
    const char *s = cp->raw, *end = cp->raw + cp->len;
    for (size_t k = 0; k < count; k++) {
        const char *e = memchr(s, '/', (size_t)(end - s));
        if (!e) e = end;
        v[k] = seg_dup(a, s, (size_t)(e - s), pct);
        s = e + 1;
    }
    v[count] = NULL;
    p->values = v;
    p->count = count;
}

int router_match(const router *r, const char *path, size_t len, arena *a, route_match *m)
{
    m->route = NULL;
    m->route_index = 0;
    m->nparams = 0;
    mctx c;
    int rc = path_check(path, len, &c.pct);
    if (rc != ROUTE_FOUND) return rc;
    c.path = path;
    c.len = len == 1 ? 0 : len;
    c.ncaps = 0;
    c.route = NO_ROUTE;
    if (!walk(r->root, &c, 0)) return ROUTE_NOT_FOUND;
    m->route = &r->defs[c.route];
    m->route_index = c.route;
    m->nparams = c.ncaps;
    for (size_t i = 0; i < c.ncaps; i++) fill_param(&m->params[i], &c.caps[i], a, c.pct);
    return ROUTE_FOUND;
}
