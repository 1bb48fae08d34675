/*
 * schema.h -- Kiln's declarative validation (the kiln_rule schemas of kiln.h),
 * the internal side: validate a JSON value or a query against a schema with
 * Joi's semantics and Joi's English messages, check a schema at start-up.
 *
 * A pure library unit: it needs core (arena, panic) and json (json_parse is
 * not used, only the kiln_value tree), never the server runtime.
 *
 * Files: schema.c walks the schema and the value (presence, allowed values,
 * types, objects, arrays, errors and their paths, schema checking); rules.c
 * holds the leaf rules (string length in UTF-16 units, Joi's number and
 * boolean conversions, JavaScript number formatting, e-mail); regex.c the
 * patterns (JavaScript-style regex -> POSIX ERE, compiled once, cached).
 */
#ifndef KILN_VALIDATE_SCHEMA_H
#define KILN_VALIDATE_SCHEMA_H

/* The public types (kiln_rule, kiln_verror ...) are in kiln.h. */
#include "kiln.h"
#include "core/core.h"

#include <locale.h>

typedef kiln_verror schema_error;

/* The deepest schema accepted (nested objects / arrays); schema_check()
 * rejects deeper ones, which also catches a schema that points to itself. */
#define SCHEMA_MAX_DEPTH 32

/* Validate v (the body; NULL = absent, reported as "value" is required)
 * against a root field list. Returns the number of errors (0 = valid).
 * all = false stops at the first error, as Joi's default abortEarly; true
 * collects them all, in Joi's order. *errs (if errs is not NULL) receives an
 * arena array of the errors; messages and paths are arena strings too.
 * The schema must pass schema_check(): a broken one panics here. */
size_t schema_validate(arena *a, const kiln_rule *root, const kiln_value *v, bool all,
                       schema_error **errs);

/* The same for one value against one rule (not a field list): a response
 * body declared as an array, say. Errors at the value itself say "value". */
size_t schema_validate_value(arena *a, const kiln_rule *rule, const kiln_value *v, bool all,
                             schema_error **errs);

/* The same for a query: every root field's value is get(ctx, name) (a
 * NUL-terminated, already decoded string, or NULL when absent), converted as
 * Joi converts strings. Unknown names are not looked for (get cannot list
 * them), so the root behaves as if it allowed unknown keys. */
size_t schema_validate_query(arena *a, const kiln_rule *root,
                             const char *(*get)(void *ctx, const char *name), void *ctx,
                             bool all, schema_error **errs);

/* Check a schema itself: the types, the rules that fit them, min <= max,
 * limits that are whole numbers where Joi wants them, one_of values, regexes
 * (each one is compiled now and stays cached), duplicate keys, depth.
 * Returns NULL when it is sound, else a message in `a` naming the field:
 *   schema field "author.name": min (10) is greater than max (8) */
const char *schema_check(arena *a, const kiln_rule *root);

/* ---- rules.c: shared with schema.c (and the unit tests) ----------------- */

/* Decodes the UTF-8 sequence at s[i] (i < n): returns its length and sets
 * *cp, or returns 1 with *cp = 0xFFFD for a byte that starts no valid one. */
size_t schema_utf8_next(const unsigned char *s, size_t n, size_t i, uint32_t *cp);

/* The "C" locale, made once (freed at exit): numbers and regexes never
 * follow the process locale. */
locale_t schema_c_locale(void);

/* Length of UTF-8 text in UTF-16 code units, like JavaScript's .length
 * (a byte that is not valid UTF-8 counts as one unit). */
size_t schema_utf16_len(const char *s, size_t n);

/* Joi's number conversion of a string: 1 = converted (*out set), 0 = not
 * numeric text (the value stays a string), -1 = numeric but not exactly
 * representable ("x" must be a safe number). Long text borrows from `a`. */
int schema_coerce_number(arena *a, const char *s, size_t n, double *out);

/* Joi's boolean conversion: 1 = converted (*out set), 0 = not "true"/"false". */
int schema_coerce_bool(const char *s, size_t n, bool *out);

/* JavaScript's Number.prototype.toString() of v into out (at least 32 bytes):
 * the shortest digits that read back as v, "1e+21", "1e-7", "Infinity". */
void schema_js_number(double v, char *out, size_t cap);

/* Joi's .email() test, with any well-formed TLD accepted (see kiln.h). */
bool schema_is_email(const char *s, size_t n);

/* A number of a NUMBER/INTEGER one_of list: JSON number syntax, finite. */
bool schema_parse_number(const char *s, double *out);

/* ---- regex.c ------------------------------------------------------------ */

/* NULL when a kiln_rule .pattern is sound, else why not (in `a`). The
 * compiled pattern stays in the process-wide cache (keyed by the pattern
 * pointer, checked against its text; compiled once, freed at exit; at most
 * 1024 patterns, beyond which each use compiles anew). Thread-safe. */
const char *schema_regex_check(arena *a, const char *pattern);

/* Does the cached regex of `pattern` find a match in s[0..n)? (Joi's
 * regex.test(value); s may hold NUL bytes but must be NUL-terminated at
 * s[n], as kiln_value strings are.) Linear in n: the search runs as one
 * anchored pass. Panics on an invalid pattern. */
bool schema_regex_test(const char *pattern, const char *s, size_t n);

/* Translate a JavaScript-style pattern into POSIX ERE (exposed for tests).
 * Returns a malloc'd string (caller frees) or NULL with *err set. */
char *schema_regex_translate(const char *pattern, const char **err);

/* The pattern as Joi prints it: String(new RegExp(pattern)), e.g. "/a\/b/". */
char *schema_regex_display(arena *a, const char *pattern);

/* Cache introspection and reset, for tests (and for LeakSanitizer). */
size_t schema_regex_cache_count(void);      /* compiled patterns held      */
size_t schema_regex_compile_count(void);    /* regcomp calls so far        */
void schema_regex_cache_clear(void);

#endif
