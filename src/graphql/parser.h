/*
 * parser.h -- internal to src/graphql: the recursive-descent parser's state
 * and the helpers shared by parse.c (documents, operations, values, types)
 * and sdl.c (the type-system language). Not for other layers: use gql.h.
 */
#ifndef KILN_GQL_PARSER_H
#define KILN_GQL_PARSER_H

#include "graphql/gql.h"

typedef struct gql_parser {
    gql_lexer lx;
    uint32_t depth, max_depth;  /* current and allowed recursion           */
} gql_parser;

/* A list being built: its head and its last node. */
typedef struct gql_lb {
    gql_list l;
    gql_node *tail;
} gql_lb;

void gql_lb_push(gql_lb *b, gql_node *n);

/* A node of `kind` starting at the current token's start / at `start`. */
gql_node *gql_node_at(gql_parser *p, gql_kind kind, uint32_t start);
/* Set n->end to the end of the last consumed token; returns n. */
gql_node *gql_done(gql_parser *p, gql_node *n);

bool gql_peek(gql_parser *p, gql_tok k);
gql_token gql_expect(gql_parser *p, gql_tok k);  /* the consumed token */
bool gql_expect_optional(gql_parser *p, gql_tok k);
void gql_expect_keyword(gql_parser *p, const char *kw);
bool gql_expect_optional_keyword(gql_parser *p, const char *kw);
_Noreturn void gql_unexpected(gql_parser *p, const gql_token *t); /* t NULL: current */
bool gql_tok_is(const gql_token *t, const char *value);  /* value equals (any kind) */

/* Recursion guard around selection sets, values and type references. */
void gql_enter(gql_parser *p);
void gql_leave(gql_parser *p);

gql_node *gql_parse_name_node(gql_parser *p, gql_kind kind); /* NAME token -> node.name */
gql_node *gql_parse_named_type(gql_parser *p);
gql_node *gql_parse_type_ref(gql_parser *p);
gql_node *gql_parse_value(gql_parser *p, bool is_const);
gql_node *gql_parse_string_literal(gql_parser *p);
gql_list gql_parse_directives(gql_parser *p, bool is_const);
gql_list gql_parse_arguments(gql_parser *p, bool is_const);
gql_op gql_parse_operation_type(gql_parser *p);
gql_node *gql_parse_operation(gql_parser *p);
gql_node *gql_parse_fragment_def(gql_parser *p);

/* sdl.c: a type-system definition or extension, current token on its
 * description or keyword ("extend" for extensions). */
gql_node *gql_parse_type_system_def(gql_parser *p, const gql_token *keyword);
gql_node *gql_parse_type_system_ext(gql_parser *p);

#endif
