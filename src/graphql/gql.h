/*
 * gql.h -- Kiln's GraphQL language layer: the syntax tree, the parser of the
 * October 2021 specification (executable documents and the type-system
 * language, SDL) and the printer.
 *
 * The parser follows graphql-js 16 (the reference implementation Apollo
 * Server runs on) step for step, so that it accepts exactly the same
 * documents and rejects the others with the same message at the same place:
 *     Syntax Error: Expected Name, found <EOF>.
 * Locations are (line, column) with columns counted in UTF-16 code units, as
 * graphql-js reports them. The printer is graphql-js's print(): printing a
 * parsed document gives the same bytes on both sides.
 *
 * Depends on core (arena, buf) and json (UTF-8 helper) only.
 */
#ifndef KILN_GQL_H
#define KILN_GQL_H

#include "kiln.h"
#include "core/core.h"
#include "core/buf.h"

#include <string.h>

typedef enum gql_kind {
    GQL_DOCUMENT,
    /* executable definitions */
    GQL_OPERATION,          /* op, name, vars, directives, selection_set     */
    GQL_VARIABLE_DEF,       /* value = VARIABLE, type, default_value, dirs   */
    GQL_SELECTION_SET,      /* items = selections                            */
    GQL_FIELD,              /* alias, name, args, directives, selection_set  */
    GQL_ARGUMENT,           /* name, value                                   */
    GQL_FRAGMENT_SPREAD,    /* name, directives                              */
    GQL_INLINE_FRAGMENT,    /* type (NAMED_TYPE or NULL), dirs, selection_set */
    GQL_FRAGMENT_DEF,       /* name, type, directives, selection_set         */
    /* values */
    GQL_VARIABLE,           /* name                                          */
    GQL_INT,                /* name = the literal text                       */
    GQL_FLOAT,              /* name = the literal text                       */
    GQL_STRING,             /* name = the value (decoded); flag = block      */
    GQL_BOOLEAN,            /* flag                                          */
    GQL_NULL,
    GQL_ENUM,               /* name                                          */
    GQL_LIST,               /* items = values                                */
    GQL_OBJECT,             /* items = OBJECT_FIELDs                         */
    GQL_OBJECT_FIELD,       /* name, value                                   */
    GQL_DIRECTIVE,          /* name, args                                    */
    /* type references */
    GQL_NAMED_TYPE,         /* name                                          */
    GQL_LIST_TYPE,          /* type                                          */
    GQL_NON_NULL_TYPE,      /* type                                          */
    /* type system (SDL); description is a STRING node or NULL */
    GQL_SCHEMA_DEF,         /* description, directives, items = op types     */
    GQL_OPERATION_TYPE_DEF, /* op, type                                      */
    GQL_SCALAR_DEF,         /* description, name, directives                 */
    GQL_OBJECT_DEF,         /* description, name, interfaces, dirs, items = fields */
    GQL_FIELD_DEF,          /* description, name, args, type, directives     */
    GQL_INPUT_VALUE_DEF,    /* description, name, type, default_value, dirs  */
    GQL_INTERFACE_DEF,      /* as OBJECT_DEF                                 */
    GQL_UNION_DEF,          /* description, name, dirs, interfaces = members */
    GQL_ENUM_DEF,           /* description, name, dirs, items = values       */
    GQL_ENUM_VALUE_DEF,     /* description, name, directives                 */
    GQL_INPUT_OBJECT_DEF,   /* description, name, dirs, items = fields       */
    GQL_DIRECTIVE_DEF,      /* description, name, args, flag = repeatable,
                               items = locations (NAME nodes)                */
    GQL_NAME,               /* name (a directive location)                   */
    GQL_SCHEMA_EXT,         /* directives, items = op types                  */
    GQL_SCALAR_EXT,
    GQL_OBJECT_EXT,
    GQL_INTERFACE_EXT,
    GQL_UNION_EXT,
    GQL_ENUM_EXT,
    GQL_INPUT_OBJECT_EXT,
    GQL_KIND_COUNT
} gql_kind;

typedef enum gql_op { GQL_QUERY, GQL_MUTATION, GQL_SUBSCRIPTION } gql_op;

typedef struct gql_node gql_node;

/* A list of nodes chained through their `next` field, in document order. */
typedef struct gql_list {
    gql_node *first;
    uint32_t len;
} gql_list;

/* One node of the tree. A single shape for every kind (the comments at
 * gql_kind say which fields a kind uses); unused fields are zero. Strings
 * are slices into the source text, or into the arena for decoded strings. */
struct gql_node {
    gql_kind kind;
    gql_op op;                /* OPERATION, OPERATION_TYPE_DEF              */
    bool flag;                /* BOOLEAN value, STRING block, repeatable    */
    uint32_t start, end;      /* byte offsets: first token start, last end  */
    uint32_t name_at;         /* byte offset of the Name token, if any      */
    kiln_str name;            /* see gql_kind                               */
    kiln_str alias;           /* FIELD alias ({NULL,0} when none)           */
    gql_node *type;           /* a type reference or a type condition       */
    gql_node *value;          /* ARGUMENT/OBJECT_FIELD value; VARIABLE_DEF's variable */
    gql_node *default_value;  /* VARIABLE_DEF, INPUT_VALUE_DEF              */
    gql_node *description;    /* SDL definitions                            */
    gql_node *selection_set;
    gql_list vars;            /* OPERATION variable definitions             */
    gql_list args;            /* arguments or argument definitions          */
    gql_list directives;
    gql_list interfaces;      /* implements ...; union members              */
    gql_list items;           /* see gql_kind                               */
    gql_node *next;           /* next sibling in its list                   */
};

/* Limits against abuse. Zero fields take the defaults below. */
typedef struct gql_limits {
    size_t max_bytes;         /* document size           (default 1 MiB)   */
    uint32_t max_tokens;      /* tokens, comments aside  (default 50,000)  */
    uint32_t max_depth;       /* nesting of selections, values and types
                                 (default 128)                               */
} gql_limits;

#define GQL_DEFAULT_MAX_BYTES (1u << 20)
#define GQL_DEFAULT_MAX_TOKENS 50000u
#define GQL_DEFAULT_MAX_DEPTH 128u

/* A syntax error: the full message ("Syntax Error: ...", an arena string)
 * and where it is. */
typedef struct gql_error {
    const char *message;      /* NUL-terminated; may hold NUL bytes from
                                 the document: message_len counts them     */
    size_t message_len;
    uint32_t offset;          /* byte offset into the source               */
    uint32_t line, column;    /* 1-based; column in UTF-16 code units      */
} gql_error;

/* Parse src[0..len) (any bytes) into a DOCUMENT allocated from `a`.
 * Returns NULL on a syntax error or a broken limit, and fills *err. The tree
 * keeps pointers into src: src must outlive it. lim may be NULL. */
gql_node *gql_parse(arena *a, const char *src, size_t len, const gql_limits *lim, gql_error *err);

/* (line, column) of a byte offset, as graphql-js's getLocation computes it
 * (lines end at \r\n, \n or \r; columns count UTF-16 code units). */
void gql_location(const char *src, size_t len, uint32_t offset, uint32_t *line, uint32_t *column);

/* Append graphql-js's print(node) to out: the canonical text of a document
 * or of any node (a value, a type reference ...). */
void gql_print(buf *out, const gql_node *node);

/* Slice equality: with another slice, with a C string. Inline: the
 * executor compares names on every field, and strlen() of a literal
 * folds to a constant here. */
static inline bool gql_kstr_eq(kiln_str a, kiln_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}
static inline bool gql_kstr_is(kiln_str a, const char *b) { return gql_kstr_eq(a, (kiln_str){ b, strlen(b) }); }

/* ---- Internal: shared by the lexer and the parser files ---------------- */

typedef enum gql_tok {
    GQL_T_SOF, GQL_T_EOF, GQL_T_BANG, GQL_T_DOLLAR, GQL_T_AMP, GQL_T_PAREN_L,
    GQL_T_PAREN_R, GQL_T_SPREAD, GQL_T_COLON, GQL_T_EQUALS, GQL_T_AT,
    GQL_T_BRACKET_L, GQL_T_BRACKET_R, GQL_T_BRACE_L, GQL_T_PIPE, GQL_T_BRACE_R,
    GQL_T_NAME, GQL_T_INT, GQL_T_FLOAT, GQL_T_STRING, GQL_T_BLOCK_STRING,
    GQL_T_COMMENT
} gql_tok;

typedef struct gql_token {
    gql_tok kind;
    uint32_t start, end;      /* byte offsets                               */
    kiln_str value;           /* NAME/INT/FLOAT/STRING/BLOCK_STRING; else {NULL,0} */
} gql_token;

typedef struct gql_lexer {
    arena *a;
    const char *src;
    uint32_t len;
    gql_token token;          /* the current token                          */
    gql_token ahead;          /* lexed by lookahead, not yet current        */
    bool has_ahead;
    uint32_t last_end;        /* end of the previous token (node ends)      */
    uint32_t tokens;          /* tokens advanced over, EOF aside            */
    uint32_t max_tokens;
    gql_error *err;
    void *jump;               /* jmp_buf * of gql_parse: errors long-jump   */
} gql_lexer;

/* Raise "Syntax Error: <msg>" at byte offset `at` (does not return). */
_Noreturn void gql_lex_fail(gql_lexer *lx, uint32_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Raise "Syntax Error: " followed by the n parts (which may hold NUL bytes:
 * token values are quoted as they are). */
_Noreturn void gql_fail_parts(gql_lexer *lx, uint32_t at, int n, const kiln_str *parts);
#define GQL_FAIL(lx, at, ...) gql_fail_parts((lx), (at), \
    (int)(sizeof((kiln_str[]){ __VA_ARGS__ }) / sizeof(kiln_str)), (kiln_str[]){ __VA_ARGS__ })
#define GQL_S(lit) ((kiln_str){ (lit), sizeof(lit) - 1 })
static inline kiln_str gql_cstr(const char *s) { return (kiln_str){ s, strlen(s) }; }
/* Make the next non-comment token current (counts it against max_tokens). */
void gql_lex_advance(gql_lexer *lx);
/* The token after the current one (lexed once, kept for advance). */
const gql_token *gql_lex_lookahead(gql_lexer *lx);
/* "Name \"foo\"", "\"{\"", "<EOF>": graphql-js's getTokenDesc. */
kiln_str gql_token_desc(gql_lexer *lx, const gql_token *t);
const char *gql_tok_kind_desc(gql_tok k);
/* Bytes of the first n UTF-16 code units of s[at..len) (clamped). */
uint32_t gql_utf16_span(const char *s, uint32_t len, uint32_t at, uint32_t n);
/* UTF-16 length of s[0..n). */
size_t gql_utf16_len(const char *s, size_t n);

#endif
