/*
 * visit.c -- the traversal under every validation rule (graphql-js's
 * visit() + visitInParallel()), and the "Did you mean" suggestions
 * (suggestionList with its Damerau-Levenshtein lexical distance,
 * naturalCompare, didYouMean).
 *
 * The children of each node are visited in graphql-js's QueryDocumentKeys
 * order, so errors of rules running in parallel come out in the same order
 * as there. Name nodes are not separate nodes in Kiln's tree; no rule
 * needs to visit them.
 *
 * Owns: nothing. Must never: recurse deeper than GQL_VISIT_MAX_DEPTH (the
 * parser's depth limit keeps trees far shallower).
 */
#include "graphql/visit.h"

#include <stdlib.h>

typedef struct walk {
    const gql_rule *rules;
    int n;
    void *ctx;
    const gql_node *skipping[32];  /* per rule: the node whose subtree it skips */
    gql_rule hooks;                /* TypeInfo around the rules, or NULLs       */
    gql_path path;
} walk;

static void visit_node(walk *w, const gql_node *n);

static void visit_list(walk *w, gql_list l)
{
    for (const gql_node *c = l.first; c; c = c->next) visit_node(w, c);
}

static void visit_one(walk *w, const gql_node *n)
{
    if (n) visit_node(w, n);
}

static void children(walk *w, const gql_node *n)
{
    switch (n->kind) {
    case GQL_DOCUMENT: case GQL_SELECTION_SET: case GQL_LIST: case GQL_OBJECT:
        visit_list(w, n->items); break;
    case GQL_OPERATION:
        visit_list(w, n->vars); visit_list(w, n->directives); visit_one(w, n->selection_set); break;
    case GQL_VARIABLE_DEF:
        visit_one(w, n->value); visit_one(w, n->type); visit_one(w, n->default_value); visit_list(w, n->directives); break;
    case GQL_FIELD:
        visit_list(w, n->args); visit_list(w, n->directives); visit_one(w, n->selection_set); break;
    case GQL_ARGUMENT: case GQL_OBJECT_FIELD:
        visit_one(w, n->value); break;
    case GQL_FRAGMENT_SPREAD:
        visit_list(w, n->directives); break;
    case GQL_INLINE_FRAGMENT: case GQL_FRAGMENT_DEF:
        visit_one(w, n->type); visit_list(w, n->directives); visit_one(w, n->selection_set); break;
    case GQL_DIRECTIVE:
        visit_list(w, n->args); break;
    case GQL_LIST_TYPE: case GQL_NON_NULL_TYPE: case GQL_OPERATION_TYPE_DEF:
        visit_one(w, n->type); break;
    case GQL_SCHEMA_DEF:
        visit_one(w, n->description); visit_list(w, n->directives); visit_list(w, n->items); break;
    case GQL_SCALAR_DEF: case GQL_ENUM_VALUE_DEF:
        visit_one(w, n->description); visit_list(w, n->directives); break;
    case GQL_OBJECT_DEF: case GQL_INTERFACE_DEF:
        visit_one(w, n->description); visit_list(w, n->interfaces); visit_list(w, n->directives);
        visit_list(w, n->items); break;
    case GQL_FIELD_DEF:
        visit_one(w, n->description); visit_list(w, n->args); visit_one(w, n->type); visit_list(w, n->directives); break;
    case GQL_INPUT_VALUE_DEF:
        visit_one(w, n->description); visit_one(w, n->type); visit_one(w, n->default_value);
        visit_list(w, n->directives); break;
    case GQL_UNION_DEF:
        visit_one(w, n->description); visit_list(w, n->directives); visit_list(w, n->interfaces); break;
    case GQL_ENUM_DEF: case GQL_INPUT_OBJECT_DEF:
        visit_one(w, n->description); visit_list(w, n->directives); visit_list(w, n->items); break;
    case GQL_DIRECTIVE_DEF:
        visit_one(w, n->description); visit_list(w, n->args); visit_list(w, n->items); break;
    case GQL_SCHEMA_EXT: case GQL_ENUM_EXT: case GQL_INPUT_OBJECT_EXT:
        visit_list(w, n->directives); visit_list(w, n->items); break;
    case GQL_SCALAR_EXT:
        visit_list(w, n->directives); break;
    case GQL_OBJECT_EXT: case GQL_INTERFACE_EXT:
        visit_list(w, n->interfaces); visit_list(w, n->directives); visit_list(w, n->items); break;
    case GQL_UNION_EXT:
        visit_list(w, n->directives); visit_list(w, n->interfaces); break;
    default: break;                     /* leaves: values, names, types */
    }
}

static void visit_node(walk *w, const gql_node *n)
{
    KILN_ASSERT(w->path.depth < GQL_VISIT_MAX_DEPTH);
    if (w->hooks.enter) w->hooks.enter(w->ctx, n, &w->path);
    for (int i = 0; i < w->n; i++)
        if (!w->skipping[i] && w->rules[i].enter && !w->rules[i].enter(w->ctx, n, &w->path)) w->skipping[i] = n;
    w->path.stack[w->path.depth++] = n;
    children(w, n);
    w->path.depth--;
    for (int i = 0; i < w->n; i++) {
        if (!w->skipping[i]) {
            if (w->rules[i].leave) w->rules[i].leave(w->ctx, n, &w->path);
        } else if (w->skipping[i] == n) {
            w->skipping[i] = NULL;
        }
    }
    if (w->hooks.leave) w->hooks.leave(w->ctx, n, &w->path);
}

void gql_visit_hooked(const gql_node *root, const gql_rule *rules, int nrules, void *ctx, gql_rule hooks)
{
    KILN_ASSERT(nrules <= 32);
    walk *w = kiln_xcalloc(1, sizeof *w);
    w->rules = rules;
    w->n = nrules;
    w->ctx = ctx;
    w->hooks = hooks;
    visit_node(w, root);
    free(w);
}

void gql_visit(const gql_node *root, const gql_rule *rules, int nrules, void *ctx)
{
    gql_visit_hooked(root, rules, nrules, ctx, (gql_rule){ NULL, NULL });
}

/* ---- Suggestions ------------------------------------------------------------- */

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

/* LexicalDistance.measure: Damerau-Levenshtein on lower-cased names, case
 * changes alone count 1; -1 when above the threshold. */
static int distance(kiln_str in, kiln_str opt, int threshold)
{
    if (gql_kstr_eq(in, opt)) return 0;
    bool same_lower = in.len == opt.len;
    for (size_t i = 0; same_lower && i < in.len; i++) same_lower = lower(in.ptr[i]) == lower(opt.ptr[i]);
    if (same_lower) return 1;
    kiln_str a = opt, b = in;
    if (a.len < b.len) { kiln_str t = a; a = b; b = t; }
    if ((int)(a.len - b.len) > threshold) return -1;
    int *rows = kiln_xcalloc(3 * (b.len + 1), sizeof(int));
#define ROW(i) (rows + ((i) % 3) * (b.len + 1))
    for (size_t j = 0; j <= b.len; j++) ROW(0)[j] = (int)j;
    for (size_t i = 1; i <= a.len; i++) {
        int *up = ROW(i - 1), *cur = ROW(i);
        int smallest = cur[0] = (int)i;
        for (size_t j = 1; j <= b.len; j++) {
            int cost = lower(a.ptr[i - 1]) == lower(b.ptr[j - 1]) ? 0 : 1;
            int cell = up[j] + 1;
            if (cur[j - 1] + 1 < cell) cell = cur[j - 1] + 1;
            if (up[j - 1] + cost < cell) cell = up[j - 1] + cost;
            if (i > 1 && j > 1 && lower(a.ptr[i - 1]) == lower(b.ptr[j - 2]) && lower(a.ptr[i - 2]) == lower(b.ptr[j - 1])) {
                int dd = ROW(i - 2)[j - 2] + 1;
                if (dd < cell) cell = dd;
            }
            if (cell < smallest) smallest = cell;
            cur[j] = cell;
        }
        if (smallest > threshold) { free(rows); return -1; }
    }
    int d = ROW(a.len)[b.len];
#undef ROW
    free(rows);
    return d <= threshold ? d : -1;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

/* naturalCompare: digit runs compare as numbers. */
int gql_natural_compare(kiln_str a, kiln_str b)
{
    size_t ai = 0, bi = 0;
    while (ai < a.len && bi < b.len) {
        int ac = (unsigned char)a.ptr[ai], bc = (unsigned char)b.ptr[bi];
        if (is_digit(ac) && is_digit(bc)) {
            double an = 0, bn = 0;
            do { ++ai; an = an * 10 + ac - '0'; ac = ai < a.len ? (unsigned char)a.ptr[ai] : -1; } while (is_digit(ac) && an > 0);
            do { ++bi; bn = bn * 10 + bc - '0'; bc = bi < b.len ? (unsigned char)b.ptr[bi] : -1; } while (is_digit(bc) && bn > 0);
            if (an < bn) return -1;
            if (an > bn) return 1;
        } else {
            if (ac < bc) return -1;
            if (ac > bc) return 1;
            ++ai;
            ++bi;
        }
    }
    return (int)a.len - (int)b.len;
}

uint32_t gql_suggest(arena *a, kiln_str input, const kiln_str *options, uint32_t n, kiln_str **out)
{
    kiln_str *s = arena_alloc(a, sizeof(kiln_str) * (n + 1));
    int *d = arena_alloc(a, sizeof(int) * (n + 1));
    uint32_t k = 0;
    int threshold = (int)(gql_utf16_len(input.ptr, input.len) * 4 / 10) + 1;
    for (uint32_t i = 0; i < n; i++) {
        bool dup = false;
        for (uint32_t j = 0; j < k && !dup; j++) dup = gql_kstr_eq(s[j], options[i]);
        if (dup) continue;
        int dist = distance(input, options[i], threshold);
        if (dist < 0) continue;
        s[k] = options[i];
        d[k++] = dist;
    }
    /* A stable insertion sort: by distance, then natural order. */
    for (uint32_t i = 1; i < k; i++) {
        kiln_str ks = s[i];
        int kd = d[i];
        uint32_t j = i;
        while (j > 0 && (d[j - 1] > kd || (d[j - 1] == kd && gql_natural_compare(s[j - 1], ks) > 0))) {
            s[j] = s[j - 1];
            d[j] = d[j - 1];
            j--;
        }
        s[j] = ks;
        d[j] = kd;
    }
    *out = s;
    return k;
}

void gql_did_you_mean(buf *b, const char *sub, const kiln_str *s, uint32_t n)
{
    if (n == 0) return;
    buf_puts(b, " Did you mean ");
    if (sub) { buf_puts(b, sub); buf_putc(b, ' '); }
    if (n == 1) { buf_printf(b, "\"%.*s\"?", (int)s[0].len, s[0].ptr); return; }
    if (n == 2) {
        buf_printf(b, "\"%.*s\" or \"%.*s\"?", (int)s[0].len, s[0].ptr, (int)s[1].len, s[1].ptr);
        return;
    }
    uint32_t m = n < 5 ? n : 5;
    for (uint32_t i = 0; i + 1 < m; i++) buf_printf(b, "\"%.*s\", ", (int)s[i].len, s[i].ptr);
    buf_printf(b, "or \"%.*s\"?", (int)s[m - 1].len, s[m - 1].ptr);
}
