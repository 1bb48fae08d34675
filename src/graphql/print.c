/*
 * print.c -- graphql-js 16's print(): the canonical text of a syntax tree.
 *
 * What it does. gql_print() renders a node the way graphql-js's
 * printDocASTReducer does, with the same helpers (join, wrap, block,
 * indent, the 80-column argument wrap, printString's escapes and
 * printBlockString's layout), so a document printed by Kiln and by
 * graphql-js is the same bytes. The differential test and the fuzzer's
 * round trip (print -> parse -> print is stable) rely on this.
 *
 * How. Each node is printed bottom-up into a string in a private scratch
 * arena, exactly as the reducer's `leave` functions build JavaScript
 * strings; the result is appended to the caller's buf and the scratch arena
 * is dropped. Lengths compared with 80/70 are UTF-16 lengths, as in JS.
 *
 * Owns: the scratch arena, for the duration of one call. Must never: print
 * text that parses to a different tree.
 */
#include "graphql/gql.h"

typedef struct str {
    const char *p;
    size_t n;
} str;

typedef struct printer {
    arena a;
} printer;

static const str empty = { "", 0 };

static str mk(printer *pr, const char *p, size_t n)
{
    char *s = arena_alloc(&pr->a, n + 1);
    if (n) memcpy(s, p, n);
    s[n] = '\0';
    return (str){ s, n };
}

static str lit(const char *s) { return (str){ s, strlen(s) }; }
static str slice(kiln_str k) { return (str){ k.ptr ? k.ptr : "", k.len }; }

/* Concatenate up to 8 strings. */
static str cat(printer *pr, int count, const str *parts)
{
    size_t n = 0;
    for (int i = 0; i < count; i++) n += parts[i].n;
    char *s = arena_alloc(&pr->a, n + 1), *w = s;
    for (int i = 0; i < count; i++) { if (parts[i].n) memcpy(w, parts[i].p, parts[i].n); w += parts[i].n; }
    *w = '\0';
    return (str){ s, n };
}
#define CAT(pr, ...) cat((pr), (int)(sizeof((str[]){ __VA_ARGS__ }) / sizeof(str)), (str[]){ __VA_ARGS__ })

/* join: the non-empty items separated by sep. */
static str join(printer *pr, const str *items, size_t count, const char *sep)
{
    size_t sl = strlen(sep), n = 0;
    bool any = false;
    for (size_t i = 0; i < count; i++)
        if (items[i].n) { n += items[i].n + (any ? sl : 0); any = true; }
    char *s = arena_alloc(&pr->a, n + 1), *w = s;
    any = false;
    for (size_t i = 0; i < count; i++) {
        if (!items[i].n) continue;
        if (any) { memcpy(w, sep, sl); w += sl; }
        memcpy(w, items[i].p, items[i].n);
        w += items[i].n;
        any = true;
    }
    *w = '\0';
    return (str){ s, n };
}
#define JOIN(pr, sep, ...) join((pr), (str[]){ __VA_ARGS__ }, sizeof((str[]){ __VA_ARGS__ }) / sizeof(str), (sep))

/* wrap: start + s + end when s is not empty, else "". */
static str wrap(printer *pr, const char *start, str s, const char *end)
{
    if (!s.n) return empty;
    return CAT(pr, lit(start), s, lit(end));
}

/* indent: "  " before s and after each \n in it. */
static str indent(printer *pr, str s)
{
    if (!s.n) return empty;
    size_t nl = 0;
    for (size_t i = 0; i < s.n; i++) nl += s.p[i] == '\n';
    char *o = arena_alloc(&pr->a, s.n + 2 * nl + 3), *w = o;
    *w++ = ' ';
    *w++ = ' ';
    for (size_t i = 0; i < s.n; i++) {
        *w++ = s.p[i];
        if (s.p[i] == '\n') { *w++ = ' '; *w++ = ' '; }
    }
    *w = '\0';
    return (str){ o, (size_t)(w - o) };
}

static str print_node(printer *pr, const gql_node *n);

/* Every node of a list, printed. */
static str *print_list(printer *pr, gql_list l)
{
    str *out = arena_alloc(&pr->a, sizeof(str) * (l.len + 1));
    size_t i = 0;
    for (const gql_node *c = l.first; c; c = c->next) out[i++] = print_node(pr, c);
    return out;
}

static str join_list(printer *pr, gql_list l, const char *sep) { return join(pr, print_list(pr, l), l.len, sep); }

static str block(printer *pr, gql_list l)
{
    return wrap(pr, "{\n", indent(pr, join_list(pr, l, "\n")), "\n}");
}

static bool has_multiline(const str *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memchr(items[i].p, '\n', items[i].n)) return true;
    return false;
}

/* Arguments of a field or directive definition: one per line when any of
 * them spans lines (a description), else inline. */
static str arg_defs(printer *pr, gql_list l)
{
    str *items = print_list(pr, l);
    if (has_multiline(items, l.len)) return wrap(pr, "(\n", indent(pr, join(pr, items, l.len, "\n")), "\n)");
    return wrap(pr, "(", join(pr, items, l.len, ", "), ")");
}

/* printString: JSON-like escapes for C0 controls, ", \ and U+007F..U+009F. */
static str print_string(printer *pr, kiln_str v)
{
    buf b;
    buf_init(&b, v.len + 2);
    buf_putc(&b, '"');
    const unsigned char *s = (const unsigned char *)v.ptr;
    for (size_t i = 0; i < v.len; i++) {
        unsigned c = s[i];
        if (c == 0xC2 && i + 1 < v.len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F) {
            buf_printf(&b, "\\u%04X", s[i + 1]);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            const char *e = c == '\b' ? "\\b" : c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\f' ? "\\f"
                          : c == '\r' ? "\\r" : NULL;
            if (e) buf_puts(&b, e);
            else buf_printf(&b, "\\u%04X", c);
        } else if (c == '"' || c == '\\') {
            buf_putc(&b, '\\');
            buf_putc(&b, (char)c);
        } else {
            buf_putc(&b, (char)c);
        }
    }
    buf_putc(&b, '"');
    str r = mk(pr, b.data, b.len);
    buf_free(&b);
    return r;
}

static bool is_ws(int c) { return c == ' ' || c == '\t'; }

static bool ends_with(str s, const char *suf)
{
    size_t n = strlen(suf);
    return s.n >= n && memcmp(s.p + s.n - n, suf, n) == 0;
}

/* printBlockString. */
static str print_block_string(printer *pr, kiln_str raw)
{
    str value = slice(raw);
    buf e;  /* value with """ -> \""" */
    buf_init(&e, value.n + 8);
    for (size_t i = 0; i < value.n;) {
        if (i + 3 <= value.n && memcmp(value.p + i, "\"\"\"", 3) == 0) { buf_append(&e, "\\\"\"\"", 4); i += 3; }
        else buf_putc(&e, value.p[i++]);
    }
    str esc = mk(pr, e.data ? e.data : "", e.len);
    buf_free(&e);
    /* Lines of the escaped value (split at \r\n, \n, \r). */
    size_t lines = 1;
    bool lead_ok = true;  /* every line after the first is empty or starts with white space */
    for (size_t i = 0; i < esc.n; i++) {
        if (esc.p[i] != '\n' && esc.p[i] != '\r') continue;
        if (esc.p[i] == '\r' && i + 1 < esc.n && esc.p[i + 1] == '\n') i++;
        lines++;
        size_t j = i + 1;
        if (j < esc.n && esc.p[j] != '\n' && esc.p[j] != '\r' && !is_ws(esc.p[j])) lead_ok = false;
    }
    bool single = lines == 1;
    bool force_leading = lines > 1 && lead_ok;
    bool trailing_triple = ends_with(esc, "\\\"\"\"");
    bool trailing_quote = ends_with(value, "\"") && !trailing_triple;
    bool trailing_slash = ends_with(value, "\\");
    bool force_trailing = trailing_quote || trailing_slash;
    bool multiple = !single || gql_utf16_len(value.p, value.n) > 70 || force_trailing || force_leading
                    || trailing_triple;
    bool skip_leading = single && value.n && is_ws(value.p[0]);
    bool lead = (multiple && !skip_leading) || force_leading;
    bool trail = multiple || force_trailing;
    return CAT(pr, lit(lead ? "\"\"\"\n" : "\"\"\""), esc, lit(trail ? "\n\"\"\"" : "\"\"\""));
}

static const char *op_name(gql_op op)
{
    return op == GQL_QUERY ? "query" : op == GQL_MUTATION ? "mutation" : "subscription";
}

static str desc(printer *pr, const gql_node *n)
{
    return n->description ? CAT(pr, print_node(pr, n->description), lit("\n")) : empty;
}

static str opt(printer *pr, const gql_node *n) { return n ? print_node(pr, n) : empty; }

static str print_node(printer *pr, const gql_node *n)
{
    str name = slice(n->name);
    switch (n->kind) {
    case GQL_DOCUMENT: return join_list(pr, n->items, "\n\n");
    case GQL_OPERATION: {
        str vars = wrap(pr, "(", join_list(pr, n->vars, ", "), ")");
        str prefix = JOIN(pr, " ", lit(op_name(n->op)), JOIN(pr, "", name, vars), join_list(pr, n->directives, " "));
        str sel = print_node(pr, n->selection_set);
        if (prefix.n == 5 && memcmp(prefix.p, "query", 5) == 0) return sel;
        return CAT(pr, prefix, lit(" "), sel);
    }
    case GQL_VARIABLE_DEF:
        return CAT(pr, print_node(pr, n->value), lit(": "), print_node(pr, n->type),
                   wrap(pr, " = ", opt(pr, n->default_value), ""), wrap(pr, " ", join_list(pr, n->directives, " "), ""));
    case GQL_SELECTION_SET: return block(pr, n->items);
    case GQL_FIELD: {
        str prefix = CAT(pr, wrap(pr, "", slice(n->alias), ": "), name);
        str *args = print_list(pr, n->args);
        str line = CAT(pr, prefix, wrap(pr, "(", join(pr, args, n->args.len, ", "), ")"));
        if (gql_utf16_len(line.p, line.n) > 80)
            line = CAT(pr, prefix, wrap(pr, "(\n", indent(pr, join(pr, args, n->args.len, "\n")), "\n)"));
        return JOIN(pr, " ", line, join_list(pr, n->directives, " "), opt(pr, n->selection_set));
    }
    case GQL_ARGUMENT:
    case GQL_OBJECT_FIELD: return CAT(pr, name, lit(": "), print_node(pr, n->value));
    case GQL_FRAGMENT_SPREAD: return CAT(pr, lit("..."), name, wrap(pr, " ", join_list(pr, n->directives, " "), ""));
    case GQL_INLINE_FRAGMENT:
        return JOIN(pr, " ", lit("..."), wrap(pr, "on ", opt(pr, n->type), ""), join_list(pr, n->directives, " "),
                    print_node(pr, n->selection_set));
    case GQL_FRAGMENT_DEF:
        return CAT(pr, lit("fragment "), name, lit(" on "), print_node(pr, n->type), lit(" "),
                   wrap(pr, "", join_list(pr, n->directives, " "), " "), print_node(pr, n->selection_set));
    case GQL_VARIABLE: return CAT(pr, lit("$"), name);
    case GQL_INT:
    case GQL_FLOAT:
    case GQL_ENUM:
    case GQL_NAME:
    case GQL_NAMED_TYPE: return name;
    case GQL_STRING: return n->flag ? print_block_string(pr, n->name) : print_string(pr, n->name);
    case GQL_BOOLEAN: return lit(n->flag ? "true" : "false");
    case GQL_NULL: return lit("null");
    case GQL_LIST: return CAT(pr, lit("["), join_list(pr, n->items, ", "), lit("]"));
    case GQL_OBJECT: return CAT(pr, lit("{"), join_list(pr, n->items, ", "), lit("}"));
    case GQL_DIRECTIVE: return CAT(pr, lit("@"), name, wrap(pr, "(", join_list(pr, n->args, ", "), ")"));
    case GQL_LIST_TYPE: return CAT(pr, lit("["), print_node(pr, n->type), lit("]"));
    case GQL_NON_NULL_TYPE: return CAT(pr, print_node(pr, n->type), lit("!"));
    case GQL_SCHEMA_DEF:
        return CAT(pr, desc(pr, n), JOIN(pr, " ", lit("schema"), join_list(pr, n->directives, " "), block(pr, n->items)));
    case GQL_OPERATION_TYPE_DEF: return CAT(pr, lit(op_name(n->op)), lit(": "), print_node(pr, n->type));
    case GQL_SCALAR_DEF:
        return CAT(pr, desc(pr, n), JOIN(pr, " ", lit("scalar"), name, join_list(pr, n->directives, " ")));
    case GQL_OBJECT_DEF:
    case GQL_INTERFACE_DEF:
        return CAT(pr, desc(pr, n),
                   JOIN(pr, " ", lit(n->kind == GQL_OBJECT_DEF ? "type" : "interface"), name,
                        wrap(pr, "implements ", join_list(pr, n->interfaces, " & "), ""),
                        join_list(pr, n->directives, " "), block(pr, n->items)));
    case GQL_FIELD_DEF:
        return CAT(pr, desc(pr, n), name, arg_defs(pr, n->args), lit(": "), print_node(pr, n->type),
                   wrap(pr, " ", join_list(pr, n->directives, " "), ""));
    case GQL_INPUT_VALUE_DEF:
        return CAT(pr, desc(pr, n),
                   JOIN(pr, " ", CAT(pr, name, lit(": "), print_node(pr, n->type)),
                        wrap(pr, "= ", opt(pr, n->default_value), ""), join_list(pr, n->directives, " ")));
    case GQL_UNION_DEF:
        return CAT(pr, desc(pr, n),
                   JOIN(pr, " ", lit("union"), name, join_list(pr, n->directives, " "),
                        wrap(pr, "= ", join_list(pr, n->interfaces, " | "), "")));
    case GQL_ENUM_DEF:
        return CAT(pr, desc(pr, n), JOIN(pr, " ", lit("enum"), name, join_list(pr, n->directives, " "), block(pr, n->items)));
    case GQL_ENUM_VALUE_DEF: return CAT(pr, desc(pr, n), JOIN(pr, " ", name, join_list(pr, n->directives, " ")));
    case GQL_INPUT_OBJECT_DEF:
        return CAT(pr, desc(pr, n), JOIN(pr, " ", lit("input"), name, join_list(pr, n->directives, " "), block(pr, n->items)));
    case GQL_DIRECTIVE_DEF:
        return CAT(pr, desc(pr, n), lit("directive @"), name, arg_defs(pr, n->args),
                   lit(n->flag ? " repeatable" : ""), lit(" on "), join_list(pr, n->items, " | "));
    case GQL_SCHEMA_EXT:
        return JOIN(pr, " ", lit("extend schema"), join_list(pr, n->directives, " "), block(pr, n->items));
    case GQL_SCALAR_EXT: return JOIN(pr, " ", lit("extend scalar"), name, join_list(pr, n->directives, " "));
    case GQL_OBJECT_EXT:
    case GQL_INTERFACE_EXT:
        return JOIN(pr, " ", lit(n->kind == GQL_OBJECT_EXT ? "extend type" : "extend interface"), name,
                    wrap(pr, "implements ", join_list(pr, n->interfaces, " & "), ""),
                    join_list(pr, n->directives, " "), block(pr, n->items));
    case GQL_UNION_EXT:
        return JOIN(pr, " ", lit("extend union"), name, join_list(pr, n->directives, " "),
                    wrap(pr, "= ", join_list(pr, n->interfaces, " | "), ""));
    case GQL_ENUM_EXT: return JOIN(pr, " ", lit("extend enum"), name, join_list(pr, n->directives, " "), block(pr, n->items));
    case GQL_INPUT_OBJECT_EXT:
        return JOIN(pr, " ", lit("extend input"), name, join_list(pr, n->directives, " "), block(pr, n->items));
    case GQL_KIND_COUNT: break;
    }
    KILN_PANIC("gql_print: node kind %d", (int)n->kind);
}

void gql_print(buf *out, const gql_node *node)
{
    printer pr;
    arena_init(&pr.a, 4096);
    str s = print_node(&pr, node);
    buf_append(out, s.p, s.n);
    arena_destroy(&pr.a);
}
