/*
 * kiln_side.c -- the Kiln half of the Joi differential test.
 *
 * Usage: kiln_side CASES.json
 * Reads the cases (see the comment atop diff.test.mjs), builds a kiln_rule tree for
 * each from the same small JSON DSL that run_joi.mjs turns into Joi schemas,
 * validates the input twice (first error only, then every error) and prints
 * one JSON line per case:
 *   {"name":..., "check":null|"<schema_check message>",
 *    "first":null|{"message","path","type"}, "all":[{...}, ...]}
 *
 * DSL rule: {"type": "string"|"integer"|"number"|"boolean"|"object"|"array"|
 * "any", "required", "allowEmpty", "min", "max", "pattern", "email", "oneOf":
 * [...], "keys": {name: rule ...} (object; absent = any keys), "items": rule,
 * "unknown"}. A case's "schema" is a keys map or the name of an entry of the
 * top-level "schemas"; "unknown": true lets the root allow unknown keys;
 * "query": true validates the input (an object of strings) as a query.
 */
#include "json/json.h"
#include "validate/schema.h"

#include <stdio.h>
#include <stdlib.h>

static const char *str_of(const kiln_value *v) { return v && v->type == KILN_JSON_STRING ? v->str : NULL; }
static bool bool_of(const kiln_value *v) { return v && v->type == KILN_JSON_TRUE; }

static kiln_rule *build_fields(arena *a, const kiln_value *keys, bool end_unknown);

static kiln_type type_of(const char *t)
{
    static const char *const names[] = { "any", "string", "integer", "number", "boolean", "object", "array" };
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (t && strcmp(t, names[i]) == 0) return (kiln_type)i;
    fprintf(stderr, "kiln_side: unknown type %s\n", t ? t : "(none)");
    exit(2);
}

static void build_rule(arena *a, kiln_rule *r, const char *name, const kiln_value *d)
{
    const kiln_value *v;
    memset(r, 0, sizeof *r);
    r->name = name;
    r->type = type_of(str_of(kiln_json_get(d, "type")));
    r->required = bool_of(kiln_json_get(d, "required"));
    r->allow_empty = bool_of(kiln_json_get(d, "allowEmpty"));
    r->email = bool_of(kiln_json_get(d, "email"));
    r->allow_unknown = bool_of(kiln_json_get(d, "unknown"));
    if ((v = kiln_json_get(d, "min"))) { r->has_min = true; r->min = v->num; }
    if ((v = kiln_json_get(d, "max"))) { r->has_max = true; r->max = v->num; }
    r->pattern = str_of(kiln_json_get(d, "pattern"));
    if ((v = kiln_json_get(d, "oneOf"))) {
        const char **list = arena_calloc(a, (v->len + 1) * sizeof *list);
        size_t i = 0;
        for (const kiln_value *e = v->child; e; e = e->next) list[i++] = e->str; /* number: its literal */
        r->one_of = list;
    }
    if ((v = kiln_json_get(d, "keys"))) r->fields = build_fields(a, v, false);
    if ((v = kiln_json_get(d, "items"))) {
        kiln_rule *it = arena_alloc(a, sizeof *it);
        build_rule(a, it, NULL, v);
        r->items = it;
    }
}

static kiln_rule *build_fields(arena *a, const kiln_value *keys, bool end_unknown)
{
    kiln_rule *f = arena_calloc(a, (keys->len + 1) * sizeof *f);
    size_t i = 0;
    for (const kiln_value *m = keys->child; m; m = m->next, i++) build_rule(a, &f[i], m->key, m);
    f[i].allow_unknown = end_unknown;          /* the {0} that ends the list */
    return f;
}

static void put_error(buf *out, const schema_error *e)
{
    buf_puts(out, "{\"message\":");
    json_escape(out, e->message, strlen(e->message));
    buf_puts(out, ",\"path\":");
    json_escape(out, e->path, strlen(e->path));
    buf_puts(out, ",\"type\":");
    json_escape(out, e->type, strlen(e->type));
    buf_putc(out, '}');
}

/* The query getter: the input object's string members. */
static const char *query_get(void *ctx, const char *name)
{
    return kiln_json_str(kiln_json_get(ctx, name));
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: kiln_side CASES.json\n"); return 2; }
    FILE *fp = fopen(argv[1], "rb");
    if (!fp) { perror(argv[1]); return 2; }
    buf text;
    buf_init(&text, 1 << 16);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0) buf_append(&text, chunk, got);
    fclose(fp);

    arena a;
    arena_init(&a, 1 << 16);
    const char *err = NULL;
    const kiln_value *doc = json_parse(&a, text.data, text.len, &err);
    if (!doc) { fprintf(stderr, "kiln_side: %s: %s\n", argv[1], err); return 2; }
    const kiln_value *schemas = kiln_json_get(doc, "schemas");
    const kiln_value *cases = kiln_json_get(doc, "cases");

    buf out;
    buf_init(&out, 1 << 16);
    for (const kiln_value *c = cases ? cases->child : NULL; c; c = c->next) {
        const kiln_value *sd = kiln_json_get(c, "schema");
        if (sd && sd->type == KILN_JSON_STRING) sd = kiln_json_get(schemas, sd->str);
        if (!sd) { fprintf(stderr, "kiln_side: case without a schema\n"); return 2; }
        kiln_rule *root = build_fields(&a, sd, bool_of(kiln_json_get(c, "unknown")));
        const kiln_value *input = kiln_json_get(c, "input");
        bool query = bool_of(kiln_json_get(c, "query"));

        buf_puts(&out, "{\"name\":");
        const char *name = str_of(kiln_json_get(c, "name"));
        json_escape(&out, name ? name : "", name ? strlen(name) : 0);
        const char *bad = schema_check(&a, root);
        buf_puts(&out, ",\"check\":");
        if (bad) json_escape(&out, bad, strlen(bad));
        else buf_puts(&out, "null");
        if (!bad) {
            schema_error *errs;
            size_t n = query ? schema_validate_query(&a, root, query_get, (void *)input, false, &errs)
                             : schema_validate(&a, root, input, false, &errs);
            if (n > 1) { fprintf(stderr, "kiln_side: abortEarly gave %zu errors\n", n); return 1; }
            buf_puts(&out, ",\"first\":");
            if (n) put_error(&out, &errs[0]);
            else buf_puts(&out, "null");
            n = query ? schema_validate_query(&a, root, query_get, (void *)input, true, &errs)
                      : schema_validate(&a, root, input, true, &errs);
            buf_puts(&out, ",\"all\":[");
            for (size_t i = 0; i < n; i++) {
                if (i) buf_putc(&out, ',');
                put_error(&out, &errs[i]);
            }
            buf_putc(&out, ']');
        }
        buf_puts(&out, "}\n");
    }
    fwrite(out.data, 1, out.len, stdout);
    buf_free(&out);
    buf_free(&text);
    arena_destroy(&a);
    return 0;
}
