/*
 * validate-api.h -- PROPOSED public API block for include/kiln.h: declarative
 * validation, the C twin of the Joi schemas of the Next.js lesson.
 *
 * The lead pastes everything between the two "paste" markers into kiln.h
 * (after the JSON section: it uses kiln_value) and switches the include in
 * src/validate/schema.h from "../../notes/validate-api.h" to "kiln.h".
 * The include guard and the #include lines at the top are only here so the
 * file compiles on its own; do not paste them.
 */
#ifndef KILN_VALIDATE_API_H
#define KILN_VALIDATE_API_H

#include "kiln.h"

/* ---- paste from here ---------------------------------------------------- */

/* ------------------------------------------------------------------------
 * Validation: Joi-style schemas, declared as static C data.
 *
 *     static const kiln_rule post_schema[] = {
 *         KILN_STRING("title", .required = true, KILN_MAX(120)),
 *         KILN_STRING("content", .required = true),
 *         KILN_STRING("email", .email = true),
 *         KILN_STRING("role", KILN_ONE_OF("admin", "user")),
 *         KILN_INTEGER("age", KILN_MIN(18), KILN_MAX(120)),
 *         KILN_ARRAY("tags", KILN_MIN(1), .items = KILN_ITEMS(KILN_STRING(NULL))),
 *         KILN_OBJECT("author", .fields = KILN_FIELDS(
 *             KILN_STRING("name", .required = true))),
 *         {0}
 *     };
 *
 * is the twin of
 *
 *     Joi.object({
 *         title: Joi.string().max(120).required(),
 *         content: Joi.string().required(),
 *         email: Joi.string().email(),
 *         role: Joi.string().valid('admin', 'user'),
 *         age: Joi.number().integer().min(18).max(120),
 *         tags: Joi.array().items(Joi.string()).min(1),
 *         author: Joi.object({ name: Joi.string().required() }),
 *     })
 *
 * and answers with Joi's own messages, word for word:
 *     "title" is required              "title" is not allowed to be empty
 *     "age" must be an integer         "tags[0]" must be a string
 *     "role" must be one of [admin, user]          "x" is not allowed
 *     "code" with value "abc" fails to match the required pattern: /^[0-9]+$/
 *
 * Declare schemas at file scope, as above: KILN_ONE_OF, KILN_FIELDS and
 * KILN_ITEMS are compound literals, constant there (inside a function, drop
 * the `static`).
 *
 * A schema is a field list: the fields of the root object, ended by an entry
 * whose name is NULL ({0}). The end entry may say `.allow_unknown = true`
 * (KILN_END_UNKNOWN): keys the list does not name are then allowed in that
 * object; by default they are errors ("x" is not allowed), as in Joi.
 *
 * Semantics, all Joi's (with its defaults: convert on, presence optional):
 *  - A field is optional unless .required. An absent optional field is not
 *    checked; null is a value like any other ("x" must be a string).
 *  - Conversion: a numeric string passes a NUMBER/INTEGER field ("42",
 *    " 4.2e1 "), "true"/"false" (any case, trimmed) pass a BOOLEAN field,
 *    in bodies as in query strings. Nothing converts to a string.
 *  - Checks run in a fixed order: conversion, required, allowed values
 *    (.one_of, .allow_empty), the type, then the rules in the order of the
 *    struct fields below (string: min, max, pattern, email; integer: integer,
 *    min, max; array: items, then min, max). Keys are checked in schema
 *    order, then unknown keys in JavaScript's key order.
 *  - Strings count length like JavaScript: UTF-16 code units ("é" is 1,
 *    "😀" is 2). "" is rejected unless .allow_empty or KILN_MIN(0).
 *  - Numbers must be finite and within +-(2^53 - 1) ("x" must be a safe
 *    number).
 *  - .pattern is searched for, as Joi's regex.test(): anchor it (^...$) to
 *    match the whole value. Syntax: POSIX ERE, plus the JavaScript forms
 *    Joi schemas use: \d \w \s \D \W \S, (?:...), lazy quantifiers, \n \t,
 *    \xHH, \uHHHH; '.' and [^...] match one character (not one byte) and
 *    '.' does not match a newline. Remember C doubles backslashes: "^\\d+$".
 *    Not supported (the schema is rejected at start): look-arounds,
 *    back-references, named groups.
 *  - .email: Joi's rules (dot-atom local part of at most 64 bytes, two or
 *    more domain labels, a letter-led TLD, 254 characters at most), except
 *    that any well-formed TLD is accepted: Joi also requires the TLD to be
 *    in IANA's list.
 *  - Validation never allocates with malloc: messages and paths live in the
 *    request's arena. Regexes are compiled once per process and cached.
 *  - A broken schema (a bad regex, min > max, a rule that does not fit the
 *    type) is reported when the server starts, before anything listens.
 * ---------------------------------------------------------------------- */
typedef enum kiln_type {
    KILN_T_ANY,       /* Joi.any(): any value                                 */
    KILN_T_STRING,    /* Joi.string()                                         */
    KILN_T_INTEGER,   /* Joi.number().integer()                               */
    KILN_T_NUMBER,    /* Joi.number()                                         */
    KILN_T_BOOLEAN,   /* Joi.boolean()                                        */
    KILN_T_OBJECT,    /* Joi.object()                                         */
    KILN_T_ARRAY      /* Joi.array()                                          */
} kiln_type;

typedef struct kiln_rule {
    const char *name;               /* the key; NULL ends a field list (and is
                                       ignored in an .items rule)              */
    kiln_type type;
    bool required;                  /* Joi .required()                        */
    bool allow_empty;               /* "" is allowed (Joi .allow(''))         */
    bool has_min, has_max;          /* use KILN_MIN(x) / KILN_MAX(x)          */
    double min, max;                /* STRING: length; ARRAY: items; INTEGER,
                                       NUMBER: value (Joi .min() / .max())    */
    const char *pattern;            /* STRING: Joi .pattern(); see above      */
    bool email;                     /* STRING: Joi .email()                   */
    const char *const *one_of;      /* NULL-terminated allowed values (Joi
                                       .valid()): STRING and ANY compare text,
                                       INTEGER and NUMBER numbers ("2.5")     */
    const struct kiln_rule *fields; /* OBJECT: its field list; NULL: any keys
                                       (Joi.object() without keys)            */
    const struct kiln_rule *items;  /* ARRAY: what every element must meet    */
    bool allow_unknown;             /* OBJECT: keys not in .fields are allowed
                                       (Joi .unknown())                       */
} kiln_rule;

#define KILN_ANY(...)     { .type = KILN_T_ANY, .name = __VA_ARGS__ }
#define KILN_STRING(...)  { .type = KILN_T_STRING, .name = __VA_ARGS__ }
#define KILN_INTEGER(...) { .type = KILN_T_INTEGER, .name = __VA_ARGS__ }
#define KILN_NUMBER(...)  { .type = KILN_T_NUMBER, .name = __VA_ARGS__ }
#define KILN_BOOLEAN(...) { .type = KILN_T_BOOLEAN, .name = __VA_ARGS__ }
#define KILN_OBJECT(...)  { .type = KILN_T_OBJECT, .name = __VA_ARGS__ }
#define KILN_ARRAY(...)   { .type = KILN_T_ARRAY, .name = __VA_ARGS__ }
#define KILN_MIN(x)       .has_min = true, .min = (x)
#define KILN_MAX(x)       .has_max = true, .max = (x)
#define KILN_ONE_OF(...)  .one_of = (const char *const[]){ __VA_ARGS__, NULL }
/* A nested field list, ended for you:  .fields = KILN_FIELDS(KILN_STRING("a"), ...) */
#define KILN_FIELDS(...)  ((const kiln_rule[]){ __VA_ARGS__, { 0 } })
/* The rule of an array's elements:     .items = KILN_ITEMS(KILN_STRING(NULL)) */
#define KILN_ITEMS(...)   (&(const kiln_rule)__VA_ARGS__)
/* Ends a field list whose object allows unknown keys. */
#define KILN_END_UNKNOWN  { .allow_unknown = true }

/* One validation error, as in Joi's error.details. */
typedef struct kiln_verror {
    const char *message;   /* "\"author.name\" is required"                   */
    const char *path;      /* "author.name", "tags[0]"; "" for the value itself */
    const char *type;      /* Joi's type: "any.required", "string.min" ...    */
} kiln_verror;

/* --- PROPOSED for the api layer (src/api), not implemented by src/validate:
 *
 * Validate req->json (a missing or non-JSON body counts as absent:
 * "value" is required) / the query and route parameters (unknown names are
 * not checked: route params live there too). Valid: returns true and sends
 * nothing. Invalid: answers 400 {"error": "<Joi's first message>"} -- the
 * lesson's res.status(400).json({ error: error.details[0].message }) -- and
 * returns false.
 *
 *     if (!kiln_validate(req, res, post_schema)) return;
 */
bool kiln_validate(kiln_req *req, kiln_res *res, const kiln_rule *schema);
bool kiln_validate_query(kiln_req *req, kiln_res *res, const kiln_rule *schema);
/* Every error (Joi's abortEarly: false), in the request's arena; returns how
 * many (0: valid) and sends nothing. v NULL counts as absent. */
size_t kiln_validate_all(kiln_req *req, const kiln_value *v, const kiln_rule *schema,
                         const kiln_verror **errors);

/* ---- paste up to here --------------------------------------------------- */

#endif /* KILN_VALIDATE_API_H */
