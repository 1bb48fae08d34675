/*
 * fuzz_schema.c -- untrusted JSON bodies through the schema validator.
 *
 * The input is parsed as JSON (invalid JSON is fine: it is then validated as
 * an absent body) and checked against a schema that uses every rule: nested
 * objects, arrays of objects, patterns, emails, one-of lists, bounds. The
 * properties: validation never crashes or hangs; the first error of the
 * abort-early run is the first error of the collect-all run; a valid body
 * has no errors either way; every message names its path.
 */
#include "json/json.h"
#include "validate/schema.h"

#include <stdlib.h>
#include <string.h>

static const kiln_rule schema[] = {
    KILN_STRING("title", .required = true, KILN_MAX(40)),
    KILN_STRING("email", .email = true),
    KILN_STRING("code", .pattern = "^[A-Z]{2}-\\d{2,4}$"),
    KILN_STRING("role", KILN_ONE_OF("admin", "user")),
    KILN_INTEGER("age", KILN_MIN(0), KILN_MAX(150)),
    KILN_NUMBER("score"),
    KILN_BOOLEAN("ok"),
    KILN_ARRAY("tags", KILN_MAX(5), .items = KILN_ITEMS(KILN_STRING(NULL, KILN_MIN(1)))),
    KILN_OBJECT("author", .fields = KILN_FIELDS(KILN_STRING("name", .required = true),
                                                  KILN_ARRAY("links", .items = KILN_ITEMS(KILN_OBJECT(NULL,
                                                      .fields = KILN_FIELDS(KILN_STRING("url", .pattern = "^https?://"))))))),
    { 0 }
};

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static bool checked;
    arena a;
    arena_init(&a, 4096);
    if (!checked) {
        if (schema_check(&a, schema)) abort();
        checked = true;
    }
    const kiln_value *v = json_parse(&a, (const char *)data, size, NULL);
    schema_error *first = NULL, *all = NULL;
    size_t n1 = schema_validate(&a, schema, v, false, &first);
    size_t n2 = schema_validate(&a, schema, v, true, &all);
    if ((n1 == 0) != (n2 == 0)) abort();
    if (n1 > 1) abort();
    if (n1) {
        if (strcmp(first[0].message, all[0].message) || strcmp(first[0].path, all[0].path)) abort();
        for (size_t i = 0; i < n2; i++)
            if (!all[i].message || !all[i].path || !all[i].type || !*all[i].message) abort();
    }
    arena_destroy(&a);
    return 0;
}
