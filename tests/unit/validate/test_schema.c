/*
 * test_schema.c -- unit tests for src/validate: the lesson's schemas written
 * with the kiln.h macros, every Joi message Kiln promises (word for word),
 * the order of errors (abortEarly and all), paths, conversions, query
 * validation, schema_check() on broken schemas, the regex layer (translation,
 * display, caching, NUL bytes, locale independence, threads) and the leaf
 * helpers (UTF-16 length, JavaScript number text, Joi's number conversion,
 * e-mail). tests/validate/joi_diff/ checks the same ground against real Joi.
 */
#include "t.h"
#include "json/json.h"
#include "validate/schema.h"

#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static arena A;
static arena *ar(void)
{
    static int ready;
    if (!ready) { arena_init(&A, 0); ready = 1; }
    return &A;
}

static const kiln_value *parse(const char *s)
{
    const char *err = NULL;
    const kiln_value *v = json_parse(ar(), s, strlen(s), &err);
    if (!v) fprintf(stderr, "bad test JSON: %s: %s\n", s, err);
    return v;
}

/* The first error's message for body `json` (NULL when valid). */
static const char *first(const kiln_rule *schema, const char *json)
{
    schema_error *e;
    size_t n = schema_validate(ar(), schema, json ? parse(json) : NULL, false, &e);
    return n ? e[0].message : NULL;
}

/* Every error, as "path: message | path: message ...". */
static const char *all(const kiln_rule *schema, const char *json)
{
    schema_error *e;
    size_t n = schema_validate(ar(), schema, parse(json), true, &e);
    buf b;
    buf_init(&b, 0);
    for (size_t i = 0; i < n; i++) {
        if (i) buf_puts(&b, " | ");
        buf_printf(&b, "%s: %s", e[i].path, e[i].message);
    }
    buf_putc(&b, '\0');
    char *s = arena_strdup(ar(), b.data);
    buf_free(&b);
    return s;
}

/* ---- the schemas, as an application writes them ------------------------- */

static const kiln_rule post_schema[] = {
    KILN_STRING("title", .required = true),
    KILN_STRING("content", .required = true),
    { 0 }
};

static const kiln_rule user_schema[] = {
    KILN_STRING("name", .required = true, KILN_MIN(2), KILN_MAX(30)),
    KILN_STRING("email", .required = true, .email = true),
    KILN_STRING("password", .required = true, KILN_MIN(8)),
    KILN_INTEGER("age", KILN_MIN(18), KILN_MAX(120)),
    KILN_STRING("role", KILN_ONE_OF("admin", "user")),
    KILN_BOOLEAN("ok"),
    KILN_NUMBER("score", KILN_MIN(0), KILN_MAX(10)),
    KILN_ARRAY("tags", KILN_MIN(1), .items = KILN_ITEMS(KILN_STRING(NULL))),
    KILN_OBJECT("author", .fields = KILN_FIELDS(
        KILN_STRING("name", .required = true),
        KILN_STRING("email", .email = true))),
    KILN_STRING("code", .pattern = "^[0-9]+$"),
    KILN_ANY("x_any"),
    { 0 }
};

#define USER_OK "\"name\":\"Ada\",\"email\":\"ada@example.com\",\"password\":\"correct horse\""

TEST(post_schema_valid_and_required)
{
    CHECK(first(post_schema, "{\"title\":\"Hello\",\"content\":\"World\"}") == NULL);
    CHECK_EQ_STR(first(post_schema, "{\"content\":\"x\"}"), "\"title\" is required");
    CHECK_EQ_STR(first(post_schema, "{}"), "\"title\" is required");
    CHECK_EQ_STR(all(post_schema, "{}"), "title: \"title\" is required | content: \"content\" is required");
    CHECK_EQ_STR(first(post_schema, "{\"title\":\"\",\"content\":\"x\"}"), "\"title\" is not allowed to be empty");
    CHECK_EQ_STR(first(post_schema, "{\"title\":null,\"content\":\"x\"}"), "\"title\" must be a string");
    CHECK_EQ_STR(first(post_schema, "{\"title\":5,\"content\":\"x\"}"), "\"title\" must be a string");
    CHECK_EQ_STR(first(post_schema, "{\"title\":\"a\",\"content\":\"b\",\"x\":1}"), "\"x\" is not allowed");
}

TEST(root_must_be_an_object)
{
    CHECK_EQ_STR(first(post_schema, "[]"), "\"value\" must be of type object");
    CHECK_EQ_STR(first(post_schema, "null"), "\"value\" must be of type object");
    CHECK_EQ_STR(first(post_schema, "\"x\""), "\"value\" must be of type object");
    CHECK_EQ_STR(first(post_schema, NULL), "\"value\" is required");
    schema_error *e;
    CHECK_EQ_INT(schema_validate(ar(), post_schema, parse("7"), true, &e), 1);
    CHECK_EQ_STR(e[0].path, "");
    CHECK_EQ_STR(e[0].type, "object.base");
    /* errs may be NULL: just count. */
    CHECK_EQ_INT(schema_validate(ar(), post_schema, parse("{}"), true, NULL), 2);
}

TEST(every_promised_message)
{
    static const struct { const char *body, *msg; } cases[] = {
        { "{" USER_OK ",\"age\":\"x\"}", "\"age\" must be a number" },
        { "{" USER_OK ",\"age\":18.5}", "\"age\" must be an integer" },
        { "{" USER_OK ",\"ok\":\"yes\"}", "\"ok\" must be a boolean" },
        { "{" USER_OK ",\"author\":\"Ada\"}", "\"author\" must be of type object" },
        { "{" USER_OK ",\"tags\":\"a\"}", "\"tags\" must be an array" },
        { "{\"name\":\"Ada\",\"email\":\"a@example.com\",\"password\":\"1234567\"}",
          "\"password\" length must be at least 8 characters long" },
        { "{\"name\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",\"email\":\"a@example.com\",\"password\":\"12345678\"}",
          "\"name\" length must be less than or equal to 30 characters long" },
        { "{" USER_OK ",\"age\":17}", "\"age\" must be greater than or equal to 18" },
        { "{" USER_OK ",\"age\":121}", "\"age\" must be less than or equal to 120" },
        { "{\"name\":\"Ada\",\"email\":\"ada\",\"password\":\"12345678\"}", "\"email\" must be a valid email" },
        { "{" USER_OK ",\"role\":\"root\"}", "\"role\" must be one of [admin, user]" },
        { "{" USER_OK ",\"author\":{}}", "\"author.name\" is required" },
        { "{" USER_OK ",\"tags\":[1]}", "\"tags[0]\" must be a string" },
        { "{" USER_OK ",\"tags\":[]}", "\"tags\" must contain at least 1 items" },
        { "{" USER_OK ",\"code\":\"abc\"}", "\"code\" with value \"abc\" fails to match the required pattern: /^[0-9]+$/" },
        { "{" USER_OK ",\"age\":1e400}", "\"age\" cannot be infinity" },
        { "{" USER_OK ",\"age\":9007199254740992}", "\"age\" must be a safe number" },
        { "{" USER_OK ",\"age\":\"9007199254740993\"}", "\"age\" must be a safe number" },
        { "{" USER_OK ",\"author\":{\"name\":\"a\",\"z\":1}}", "\"author.z\" is not allowed" },
        { "{" USER_OK ",\"score\":10.5}", "\"score\" must be less than or equal to 10" },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *got = first(user_schema, cases[i].body);
        if (!got || strcmp(got, cases[i].msg)) T_FAIL("case %zu: got %s, want %s", i, got ? got : "(valid)", cases[i].msg);
    }
    CHECK(first(user_schema, "{" USER_OK ",\"age\":36,\"role\":\"admin\",\"ok\":true,\"score\":9.5,"
                             "\"tags\":[\"x\"],\"author\":{\"name\":\"L\"},\"code\":\"42\",\"x_any\":null}") == NULL);
}

TEST(conversions_like_joi)
{
    CHECK(first(user_schema, "{" USER_OK ",\"age\":\"20\"}") == NULL);
    CHECK(first(user_schema, "{" USER_OK ",\"age\":\" 4.2e1 \"}") == NULL);
    CHECK(first(user_schema, "{" USER_OK ",\"ok\":\" TRUE \"}") == NULL);
    CHECK(first(user_schema, "{" USER_OK ",\"ok\":\"false\"}") == NULL);
    CHECK_EQ_STR(first(user_schema, "{" USER_OK ",\"ok\":1}"), "\"ok\" must be a boolean");
    CHECK_EQ_STR(first(user_schema, "{" USER_OK ",\"age\":\"\"}"), "\"age\" must be a number");
    CHECK_EQ_STR(first(user_schema, "{" USER_OK ",\"age\":\"20.5\"}"), "\"age\" must be an integer");
    /* nothing converts to a string */
    CHECK_EQ_STR(first(user_schema, "{\"name\":12,\"email\":\"a@example.com\",\"password\":\"12345678\"}"),
                 "\"name\" must be a string");
}

TEST(order_of_all_errors)
{
    CHECK_EQ_STR(all(user_schema, "{\"name\":\"A\",\"email\":\"nope\",\"password\":\"short\",\"age\":300.5,"
                                  "\"role\":\"root\",\"tags\":[1,\"\"],\"author\":{\"name\":\"\"},"
                                  "\"b\":1,\"2\":1,\"a\":1,\"1\":1,\"b\":2}"),
                 "name: \"name\" length must be at least 2 characters long | "
                 "email: \"email\" must be a valid email | "
                 "password: \"password\" length must be at least 8 characters long | "
                 "age: \"age\" must be an integer | age: \"age\" must be less than or equal to 120 | "
                 "role: \"role\" must be one of [admin, user] | "
                 "tags[0]: \"tags[0]\" must be a string | tags[1]: \"tags[1]\" is not allowed to be empty | "
                 "author.name: \"author.name\" is not allowed to be empty | "
                 "1: \"1\" is not allowed | 2: \"2\" is not allowed | b: \"b\" is not allowed | a: \"a\" is not allowed");
    /* a one_of miss and the type error both count when collecting all */
    CHECK_EQ_STR(all(user_schema, "{" USER_OK ",\"role\":5}"),
                 "role: \"role\" must be one of [admin, user] | role: \"role\" must be a string");
    /* a type error ends the checks of that value */
    CHECK_EQ_STR(all(user_schema, "{" USER_OK ",\"tags\":{}}"), "tags: \"tags\" must be an array");
}

static const kiln_rule nested_schema[] = {
    KILN_ARRAY("items", .items = KILN_ITEMS(KILN_OBJECT(NULL, .fields = KILN_FIELDS(
        KILN_INTEGER("id", .required = true),
        KILN_INTEGER("qty", KILN_MIN(1)))))),
    KILN_ARRAY("m", .items = KILN_ITEMS(KILN_ARRAY(NULL, .items = KILN_ITEMS(KILN_INTEGER(NULL))))),
    KILN_OBJECT("meta"),                                        /* any keys */
    KILN_OBJECT("open", .allow_unknown = true, .fields = KILN_FIELDS(KILN_STRING("a"))),
    KILN_OBJECT("closed", .fields = (const kiln_rule[]){ { 0 } }), /* no keys at all */
    KILN_OBJECT("a", .fields = KILN_FIELDS(KILN_OBJECT("b", .fields = KILN_FIELDS(
        KILN_STRING("c", .required = true))))),
    { 0 }
};

TEST(nested_paths)
{
    CHECK_EQ_STR(first(nested_schema, "{\"items\":[{\"qty\":0}]}"), "\"items[0].id\" is required");
    CHECK_EQ_STR(all(nested_schema, "{\"items\":[{\"qty\":0},5,{\"id\":1,\"x\":1}]}"),
                 "items[0].id: \"items[0].id\" is required | "
                 "items[0].qty: \"items[0].qty\" must be greater than or equal to 1 | "
                 "items[1]: \"items[1]\" must be of type object | items[2].x: \"items[2].x\" is not allowed");
    CHECK_EQ_STR(first(nested_schema, "{\"m\":[[1,2],[3,\"x\"]]}"), "\"m[1][1]\" must be a number");
    CHECK(first(nested_schema, "{\"meta\":{\"anything\":[1,{}]}}") == NULL);
    CHECK(first(nested_schema, "{\"open\":{\"a\":\"x\",\"b\":1}}") == NULL);
    CHECK_EQ_STR(first(nested_schema, "{\"closed\":{\"k\":1}}"), "\"closed.k\" is not allowed");
    CHECK_EQ_STR(first(nested_schema, "{\"a\":{\"b\":{}}}"), "\"a.b.c\" is required");
}

TEST(root_allowing_unknown_keys)
{
    static const kiln_rule open_root[] = { KILN_STRING("title", .required = true), KILN_END_UNKNOWN };
    CHECK(first(open_root, "{\"title\":\"a\",\"extra\":1}") == NULL);
    CHECK_EQ_STR(first(open_root, "{\"extra\":1}"), "\"title\" is required");
}

TEST(repeated_keys)
{
    CHECK(first(post_schema, "{\"title\":\"\",\"content\":\"b\",\"title\":\"ok\"}") == NULL);   /* last wins */
    CHECK_EQ_STR(all(post_schema, "{\"x\":1,\"title\":\"a\",\"y\":2,\"content\":\"b\",\"x\":3}"),
                 "x: \"x\" is not allowed | y: \"y\" is not allowed");
}

TEST(allowed_values)
{
    const kiln_rule s[] = {   /* not static: compound literals inside */
        KILN_STRING("nick", .allow_empty = true, KILN_MIN(3)),
        KILN_STRING("r", KILN_ONE_OF("a", "b", "a"), .allow_empty = true),
        KILN_NUMBER("n", KILN_ONE_OF("1", "2.5", "1.0")),
        KILN_STRING("z", KILN_MIN(0)),
        KILN_STRING("y", KILN_MAX(0)),
        { 0 }
    };
    CHECK(first(s, "{\"nick\":\"\"}") == NULL);
    CHECK_EQ_STR(first(s, "{\"nick\":\"ab\"}"), "\"nick\" length must be at least 3 characters long");
    CHECK_EQ_STR(first(s, "{\"r\":\"c\"}"), "\"r\" must be one of [a, b, ]");
    CHECK(first(s, "{\"r\":\"\"}") == NULL);
    CHECK_EQ_STR(first(s, "{\"n\":7}"), "\"n\" must be one of [1, 2.5]");
    CHECK(first(s, "{\"n\":\"2.50\"}") == NULL);
    CHECK(first(s, "{\"z\":\"\"}") == NULL);
    /* one allowed value: Joi drops the "one of" */
    const kiln_rule one[] = { KILN_STRING("r", KILN_ONE_OF("a", "a")), KILN_INTEGER("n", KILN_ONE_OF("1", "1.0")), { 0 } };
    CHECK_EQ_STR(first(one, "{\"r\":\"b\"}"), "\"r\" must be [a]");
    CHECK_EQ_STR(first(one, "{\"n\":2}"), "\"n\" must be [1]");
    CHECK_EQ_STR(first(s, "{\"y\":\"\"}"), "\"y\" is not allowed to be empty");
}

TEST(unicode_lengths)
{
    static const kiln_rule s[] = { KILN_STRING("s", KILN_MIN(2), KILN_MAX(3)), { 0 } };
    CHECK_EQ_STR(first(s, "{\"s\":\"\\u00e9\"}"), "\"s\" length must be at least 2 characters long");
    CHECK(first(s, "{\"s\":\"\\ud83d\\ude00\"}") == NULL);                 /* one emoji = 2 */
    CHECK_EQ_STR(first(s, "{\"s\":\"\\ud83d\\ude00\\ud83d\\ude00\"}"),
                 "\"s\" length must be less than or equal to 3 characters long");
    CHECK(first(s, "{\"s\":\"日本語\"}") == NULL);
    CHECK_EQ_STR(first(s, "{\"s\":\"a\\u0000bc\"}"), "\"s\" length must be less than or equal to 3 characters long");
}

/* ---- queries ---------------------------------------------------------------- */

static const char *kv_get(void *ctx, const char *name)
{
    for (const char *const *kv = ctx; *kv; kv += 2)
        if (strcmp(kv[0], name) == 0) return kv[1];
    return NULL;
}

static const char *query_first(const kiln_rule *s, const char *const *kv)
{
    schema_error *e;
    size_t n = schema_validate_query(ar(), s, kv_get, (void *)kv, false, &e);
    return n ? e[0].message : NULL;
}

TEST(query_validation)
{
    const kiln_rule q[] = {
        KILN_INTEGER("page", KILN_MIN(1)),
        KILN_BOOLEAN("active"),
        KILN_STRING("sort", KILN_ONE_OF("asc", "desc")),
        KILN_INTEGER("id", .required = true),
        { 0 }
    };
    CHECK(query_first(q, (const char *const[]){ "id", "7", "page", "2", "active", "TRUE", "other", "x", NULL }) == NULL);
    CHECK_EQ_STR(query_first(q, (const char *const[]){ "page", "2", NULL }), "\"id\" is required");
    CHECK_EQ_STR(query_first(q, (const char *const[]){ "id", "1", "page", "0", NULL }),
                 "\"page\" must be greater than or equal to 1");
    CHECK_EQ_STR(query_first(q, (const char *const[]){ "id", "1.5", NULL }), "\"id\" must be an integer");
    CHECK_EQ_STR(query_first(q, (const char *const[]){ "id", "", NULL }), "\"id\" must be a number");
    CHECK_EQ_STR(query_first(q, (const char *const[]){ "id", "1", "active", "1", NULL }), "\"active\" must be a boolean");
    CHECK_EQ_STR(query_first(q, (const char *const[]){ "id", "1", "sort", "up", NULL }), "\"sort\" must be one of [asc, desc]");
    schema_error *e;
    CHECK_EQ_INT(schema_validate_query(ar(), q, kv_get, (void *)(const char *const[]){ "page", "x", "sort", "", NULL },
                                       true, &e), 4);
    CHECK_EQ_STR(e[3].message, "\"id\" is required");
}

/* ---- schema_check ----------------------------------------------------------- */

static const char *check1(const kiln_rule r)
{
    kiln_rule s[2] = { r, { 0 } };
    return schema_check(ar(), s);
}

TEST(schema_check_accepts_sound_schemas)
{
    CHECK(schema_check(ar(), post_schema) == NULL);
    CHECK(schema_check(ar(), user_schema) == NULL);
    CHECK(schema_check(ar(), nested_schema) == NULL);
    CHECK(check1((kiln_rule)KILN_OBJECT("o")) == NULL);                  /* no fields: fine */
    CHECK(check1((kiln_rule)KILN_NUMBER("n", KILN_MIN(-1.5), KILN_MAX(-1.5))) == NULL);
}

TEST(schema_check_rejects_broken_schemas)
{
    CHECK_EQ_STR(check1((kiln_rule)KILN_STRING("p", KILN_MIN(10), KILN_MAX(8))),
                 "schema field \"p\": min (10) is greater than max (8)");
    CHECK_EQ_STR(check1((kiln_rule)KILN_STRING("c", .pattern = "^[0-9+$")),
                 "schema field \"c\": pattern /^[0-9+$/: missing ] after [");
    CHECK_EQ_STR(check1((kiln_rule)KILN_STRING("c", .pattern = "a{2,1}")),
                 "schema field \"c\": pattern /a{2,1}/: numbers out of order in {} quantifier");
    const char *m = check1((kiln_rule)KILN_STRING("c", .pattern = "a{1,99999}"));   /* regcomp's own limit */
    CHECK(m && strstr(m, "schema field \"c\": pattern /a{1,99999}/: ") == m);
    CHECK(check1((kiln_rule)KILN_STRING("c", .pattern = "(?=a)")) != NULL);
    CHECK(check1((kiln_rule)KILN_STRING("c", .pattern = "(a)\\1")) != NULL);
    CHECK(check1((kiln_rule)KILN_STRING("c", .pattern = "*a")) != NULL);
    CHECK(check1((kiln_rule)KILN_STRING("c", .pattern = "(a")) != NULL);
    CHECK(check1((kiln_rule)KILN_STRING("s", KILN_MIN(1.5))) != NULL);
    CHECK(check1((kiln_rule)KILN_ARRAY("a", KILN_MIN(-1))) != NULL);
    CHECK(check1((kiln_rule)KILN_NUMBER("n", KILN_MAX(1.0 / 0.0))) != NULL);
    CHECK_EQ_STR(check1((kiln_rule)KILN_BOOLEAN("b", KILN_MIN(1))), "schema field \"b\": min/max do not apply to BOOLEAN");
    CHECK_EQ_STR(check1((kiln_rule)KILN_NUMBER("n", .pattern = "x")), "schema field \"n\": pattern applies to STRING only");
    CHECK(check1((kiln_rule)KILN_INTEGER("n", .email = true)) != NULL);
    CHECK_EQ_STR(check1((kiln_rule)KILN_BOOLEAN("b", KILN_ONE_OF("true"))), "schema field \"b\": one_of does not apply to BOOLEAN");
    CHECK_EQ_STR(check1((kiln_rule)KILN_NUMBER("n", KILN_ONE_OF("1", "x"))), "schema field \"n\": one_of value \"x\" is not a number");
    CHECK_EQ_STR(check1((kiln_rule)KILN_STRING("s", .one_of = (const char *const[]){ NULL })), "schema field \"s\": one_of is empty");
    CHECK(check1((kiln_rule)KILN_STRING("s", .fields = post_schema)) != NULL);
    CHECK(check1((kiln_rule)KILN_STRING("s", .items = post_schema)) != NULL);
    CHECK(check1((kiln_rule)KILN_ARRAY("s", .allow_unknown = true)) != NULL);
    CHECK_EQ_STR(check1((kiln_rule){ .name = "t", .type = (kiln_type)42 }), "schema field \"t\": unknown type 42");
    CHECK_EQ_STR(check1((kiln_rule)KILN_ARRAY("tags", .items = KILN_ITEMS(KILN_STRING(NULL, .required = true)))),
                 "schema field \"tags[]\": required has no meaning for array items "
                 "(Joi's required items mean 'must contain one')");
    CHECK_EQ_STR(check1((kiln_rule)KILN_OBJECT("author", .fields = KILN_FIELDS(KILN_STRING("a"), KILN_INTEGER("a")))),
                 "schema field \"author.a\": the key appears twice");
    CHECK_EQ_STR(check1((kiln_rule)KILN_OBJECT("author", .fields = KILN_FIELDS(KILN_INTEGER("n", KILN_MIN(5), KILN_MAX(1))))),
                 "schema field \"author.n\": min (5) is greater than max (1)");
    CHECK(schema_check(ar(), NULL) != NULL);
}

TEST(schema_check_catches_a_schema_that_contains_itself)
{
    static kiln_rule loop[2];
    loop[0] = (kiln_rule)KILN_OBJECT("self", .fields = loop);
    const char *m = schema_check(ar(), loop);
    CHECK(m && strstr(m, "nested deeper than 32 levels"));
}

static void expect_abort(void (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGABRT, SIG_DFL);
        freopen("/dev/null", "w", stderr);
        fn();
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0));
}

static void validate_bad_regex(void)
{
    static const kiln_rule s[] = { KILN_STRING("c", .pattern = "(?<=x)"), { 0 } };
    schema_validate(ar(), s, parse("{\"c\":\"a\"}"), false, NULL);
}

TEST(unchecked_broken_schema_panics)
{
    expect_abort(validate_bad_regex);
}

/* ---- the regex layer ------------------------------------------------------- */

static bool rx(const char *pattern, const char *s) { return schema_regex_test(pattern, s, strlen(s)); }

TEST(regex_translation)
{
    const char *err;
    char *t = schema_regex_translate("^\\d{3}-\\w+$", &err);
    CHECK_EQ_STR(t, "^[0-9]{3}-[0-9A-Z_a-z]+$");
    free(t);
    t = schema_regex_translate("^(?:ab)+?c??$", &err);
    CHECK_EQ_STR(t, "^(ab)+c?$");
    free(t);
    t = schema_regex_translate("a{b}]", &err);
    CHECK_EQ_STR(t, "a\\{b\\}\\]");
    free(t);
    t = schema_regex_translate("[\\]a-c^-]", &err);
    CHECK_EQ_STR(t, "[]a-c^-]");
    free(t);
    t = schema_regex_translate("[\\^]", &err);
    CHECK_EQ_STR(t, "\\^");
    free(t);
    CHECK(schema_regex_translate("[z-a]", &err) == NULL && strstr(err, "out of order"));
    CHECK(schema_regex_translate("a\\", &err) == NULL && strstr(err, "backslash"));
    CHECK(schema_regex_translate("[^é]", &err) == NULL);
    CHECK(schema_regex_translate("\\0", &err) == NULL);
    CHECK(schema_regex_translate("a\xFF" "b", &err) == NULL && strstr(err, "UTF-8"));
    CHECK(schema_regex_translate("[a\xC3]", &err) == NULL && strstr(err, "UTF-8"));
    t = schema_regex_translate("\xEF\xBF\xBD+", &err);          /* a real U+FFFD */
    CHECK_EQ_STR(t, "(\xEF\xBF\xBD)+");
    free(t);
}

TEST(regex_matching_like_javascript)
{
    CHECK(rx("[0-9]", "a1b"));                     /* a search, as regex.test() */
    CHECK(!rx("^[0-9]+$", "12a"));
    CHECK(rx("^\\d{3}-\\d{4}$", "555-1234"));
    CHECK(rx("^.{3}$", "é€x"));                    /* '.' is one character  */
    CHECK(!rx("^a.b$", "a\nb"));
    CHECK(rx("^[^a]$", "é"));
    CHECK(rx("^né+$", "nééé"));
    CHECK(rx("^a\\sb$", "a\xC2\xA0" "b"));         /* NBSP is \s            */
    CHECK(rx("^[éè]+$", "èé"));
    CHECK(!rx("^\\w+$", "é"));
    CHECK(rx("\\bcat\\b", "a cat"));
    CHECK(!rx("\\bcat\\b", "concat"));
    CHECK(rx("^a{$", "a{"));
    CHECK(rx("^\\x41\\u00e9$", "Aé"));
    CHECK(rx("^[^]$", "\n"));
    CHECK(rx("", "anything"));
    /* NUL bytes inside the value are matched, not a terminator */
    CHECK(schema_regex_test("c$", "ab\0c", 4));
    CHECK(!schema_regex_test("^[a-c]+$", "ab\0c", 4));
}

TEST(regex_search_is_linear)
{
    /* An unanchored search that fails restarts at every byte in a plain
     * regexec (quadratic: minutes for a 1 MB body); Kiln's is one pass. */
    size_t n = 1 << 20;
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++) s[i] = "ab"[i & 1];
    s[n] = '\0';
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(!schema_regex_test("(a|ab)*c", s, n));
    CHECK(!schema_regex_test("[a-z]+@", s, n));
    CHECK(!schema_regex_test("^(a+)+$", s, n));
    CHECK(schema_regex_test("(ab)+$", s, n));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (secs > 5) T_FAIL("four 1 MB searches took %.1fs", secs);
    free(s);
}

TEST(regex_display_like_javascript)
{
    CHECK_EQ_STR(schema_regex_display(ar(), "^[0-9]+$"), "/^[0-9]+$/");
    CHECK_EQ_STR(schema_regex_display(ar(), "a/b"), "/a\\/b/");
    CHECK_EQ_STR(schema_regex_display(ar(), "a\\/b"), "/a\\/b/");
    CHECK_EQ_STR(schema_regex_display(ar(), "[/]/"), "/[/]\\//");
    CHECK_EQ_STR(schema_regex_display(ar(), "x\ny\r"), "/x\\ny\\r/");
    CHECK_EQ_STR(schema_regex_display(ar(), "\\\n"), "/\\n/");
    CHECK_EQ_STR(schema_regex_display(ar(), "a\xE2\x80\xA8"), "/a\\u2028/");
    CHECK_EQ_STR(schema_regex_display(ar(), ""), "/(?:)/");
}

TEST(regex_cache_compiles_once)
{
    schema_regex_cache_clear();
    size_t c0 = schema_regex_compile_count();
    static const char pat[] = "^[a-z]+$";
    CHECK(schema_regex_check(ar(), pat) == NULL);
    for (int i = 0; i < 100; i++) CHECK(rx(pat, "abc"));
    CHECK_EQ_INT(schema_regex_compile_count() - c0, 1);
    CHECK_EQ_INT(schema_regex_cache_count(), 1);
    /* another pointer with the same text is another key */
    char copy[sizeof pat];
    memcpy(copy, pat, sizeof pat);
    CHECK(rx(copy, "abc"));
    CHECK_EQ_INT(schema_regex_compile_count() - c0, 2);
    /* the same pointer with new text is recompiled, not trusted */
    copy[1] = '0';
    CHECK(!rx(copy, "abc"));
    CHECK_EQ_INT(schema_regex_compile_count() - c0, 3);
    CHECK(rx(pat, "abc"));                                /* the first is untouched */
    CHECK_EQ_INT(schema_regex_compile_count() - c0, 3);
    /* a broken pattern is cached with its error, compiled once */
    static const char broken[] = "([a";
    const char *err = schema_regex_check(ar(), broken);
    CHECK(err != NULL);
    CHECK_EQ_STR(schema_regex_check(ar(), broken), err);
    CHECK_EQ_INT(schema_regex_compile_count() - c0, 4);
    /* many patterns: the table grows, every entry stays reachable */
    char pats[64][16];
    for (int i = 0; i < 64; i++) snprintf(pats[i], sizeof pats[i], "^x%d$", i);
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 64; i++) {
            char v[16];
            snprintf(v, sizeof v, "x%d", i);
            CHECK(rx(pats[i], v));
        }
    CHECK_EQ_INT(schema_regex_compile_count() - c0, 4 + 64);
    schema_regex_cache_clear();
    CHECK_EQ_INT(schema_regex_cache_count(), 0);
    CHECK(rx(pat, "abc"));                                 /* usable after a clear */
}

TEST(regex_cache_is_bounded)
{
    /* Patterns built at run time (one buffer, new text each time) must not
     * grow the cache without end: past 1024 entries they compile per use. */
    schema_regex_cache_clear();
    char p[32];
    for (int i = 0; i < 1500; i++) {
        snprintf(p, sizeof p, "^n%d$", i);
        char v[32];
        snprintf(v, sizeof v, "n%d", i);
        if (!rx(p, v)) { T_FAIL("pattern %d", i); break; }
    }
    CHECK_EQ_INT(schema_regex_cache_count(), 1024);
    size_t c0 = schema_regex_compile_count();
    CHECK(rx(p, "n1499") && rx(p, "n1499"));               /* compiled each time now */
    CHECK_EQ_INT(schema_regex_compile_count() - c0, 2);
    CHECK(schema_regex_check(ar(), "(") != NULL);          /* errors still reported */
    schema_regex_cache_clear();
}

static void *rx_thread(void *arg)
{
    static const char *const pats[] = { "^[0-9]+$", "^\\w+@\\w+$", "^.{2,4}$", "^(a|b)+$" };
    long ok = 0;
    for (int i = 0; i < 2000; i++) {
        const char *p = pats[(i + (long)arg) % 4];
        ok += rx(p, "1234") + rx(p, "ab");
    }
    return (void *)ok;
}

TEST(regex_cache_is_thread_safe)
{
    pthread_t t[4];
    for (long i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, rx_thread, (void *)i) == 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        CHECK((long)r == 2000);   /* per 4 rounds: 1 + 0 + 2 + 1 matches */
    }
}

TEST(locale_does_not_matter)
{
    /* A UTF-8 locale would make regcomp read multibyte characters and
     * strtod/printf follow LC_NUMERIC; Kiln uses the C locale regardless. */
    if (!setlocale(LC_ALL, "C.UTF-8") && !setlocale(LC_ALL, "C.utf8")) return;
    schema_regex_cache_clear();
    CHECK(rx("^.{3}$", "é€x"));
    CHECK(!rx("^[^a]$", "ab"));
    double d;
    CHECK_EQ_INT(schema_coerce_number(ar(), "1.5", 3, &d), 1);
    CHECK(d == 1.5);
    setlocale(LC_ALL, "C");
}

/* ---- leaf helpers ----------------------------------------------------------- */

TEST(utf16_length)
{
    CHECK_EQ_INT(schema_utf16_len("", 0), 0);
    CHECK_EQ_INT(schema_utf16_len("abc", 3), 3);
    CHECK_EQ_INT(schema_utf16_len("é", 2), 1);
    CHECK_EQ_INT(schema_utf16_len("€", 3), 1);
    CHECK_EQ_INT(schema_utf16_len("😀", 4), 2);
    CHECK_EQ_INT(schema_utf16_len("\xFF\xC3", 2), 2);            /* invalid bytes: one each */
    CHECK_EQ_INT(schema_utf16_len("\xED\xA0\x80", 3), 3);        /* encoded surrogate       */
    CHECK_EQ_INT(schema_utf16_len("a\0b", 3), 3);
}

TEST(js_number_text)
{
    static const struct { double v; const char *s; } t[] = {
        { 0, "0" }, { -0.0, "0" }, { 1, "1" }, { -5, "-5" }, { 0.1, "0.1" }, { 123.456, "123.456" },
        { 1e21, "1e+21" }, { 1e20, "100000000000000000000" }, { 1.5e21, "1.5e+21" }, { 1e-7, "1e-7" },
        { 0.000001, "0.000001" }, { 1.25e-7, "1.25e-7" }, { 0.1 + 0.2, "0.30000000000000004" },
        { 9007199254740993.0, "9007199254740992" }, { 5e-324, "5e-324" }, { 1.7976931348623157e308, "1.7976931348623157e+308" },
        { 1.0 / 0.0, "Infinity" }, { -1.0 / 0.0, "-Infinity" }, { 12345678901234567890.0, "12345678901234567000" },
    };
    for (size_t i = 0; i < ARRAY_LEN(t); i++) {
        char s[40];
        schema_js_number(t[i].v, s, sizeof s);
        if (strcmp(s, t[i].s)) T_FAIL("js_number(%.17g) = %s, want %s", t[i].v, s, t[i].s);
    }
}

TEST(joi_number_conversion)
{
    static const struct { const char *s; int rc; double v; } t[] = {
        { "5", 1, 5 }, { " 5 ", 1, 5 }, { "\xC2\xA0" "5\xE3\x80\x80", 1, 5 }, { "+.5", 1, 0.5 }, { "1.", 1, 1 },
        { "-0", 1, 0 }, { "007", 1, 7 }, { "1.50", 1, 1.5 }, { "1e3", 1, 1000 }, { "1.5e3", 1, 1500 },
        { "123e-2", 1, 1.23 }, { "1e21", 1, 1e21 } /* unsafe later, as a number */, { "1e-400", -1, 0 }, { "1e400", -1, 0 },
        { "9007199254740993", -1, 0 }, { "0.1000000000000000000001", -1, 0 }, { "12345678901234567890", -1, 0 },
        { "", 0, 0 }, { " ", 0, 0 }, { "-", 0, 0 }, { ".", 0, 0 }, { "0x10", 0, 0 }, { "Infinity", 0, 0 },
        { "1_000", 0, 0 }, { "1e", 0, 0 }, { "1 2", 0, 0 }, { "++1", 0, 0 },
        { "100000000000000000000000000", 1, 1e26 },    /* prints as 1e+26: Joi lets it through here */
    };
    for (size_t i = 0; i < ARRAY_LEN(t); i++) {
        double v = -99;
        int rc = schema_coerce_number(ar(), t[i].s, strlen(t[i].s), &v);
        if (rc != t[i].rc || (rc == 1 && v != t[i].v))
            T_FAIL("coerce(\"%s\") = %d (%g), want %d (%g)", t[i].s, rc, v, t[i].rc, t[i].v);
    }
    /* long numeric text borrows its work space from the arena */
    char big[400];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    double v;
    CHECK_EQ_INT(schema_coerce_number(ar(), big, strlen(big), &v), -1);
    bool b;
    CHECK(schema_coerce_bool(" TrUe\t", 6, &b) == 1 && b);
    CHECK(schema_coerce_bool("FALSE", 5, &b) == 1 && !b);
    CHECK(schema_coerce_bool("yes", 3, &b) == 0);
    CHECK(schema_coerce_bool("true!", 5, &b) == 0);
}

TEST(email_rules)
{
    static const char *const good[] = {
        "user@example.com", "user.name+tag@example.org", "a@b.co", "üser@example.com", "user@exämple.com",
        "!#$%&'*+-/=?^_`{|}~@example.com", "user@123.com", "user@EXAMPLE.COM", "user@example.xn--p1ai",
    };
    static const char *const bad[] = {
        "", "user", "user@localhost", "@example.com", "user@", "a@b@c.com", ".user@example.com",
        "user.@example.com", "us..er@example.com", "user@example..com", "user@example.com.", "us er@example.com",
        "\"user\"@example.com", "user@[1.2.3.4]", "user@1.2.3.4", "user@-example.com", "user@example-.com",
        "user@exa_mple.com", "user@example.123", "user@exa%mple.com",
    };
    for (size_t i = 0; i < ARRAY_LEN(good); i++)
        if (!schema_is_email(good[i], strlen(good[i]))) T_FAIL("%s should be valid", good[i]);
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        if (schema_is_email(bad[i], strlen(bad[i]))) T_FAIL("%s should be invalid", bad[i]);
    char local[80];
    memset(local, 'x', 65);
    strcpy(local + 65, "@example.com");
    CHECK(!schema_is_email(local, strlen(local)));
    CHECK(schema_is_email(local + 1, strlen(local + 1)));
    CHECK(!schema_is_email("a\0b@example.com", 15));
}

TEST(errors_live_in_the_arena)
{
    arena a;
    arena_init(&a, 256);
    schema_error *e;
    size_t n = schema_validate(&a, user_schema, json_parse(&a, "{\"tags\":[1,2,3]}", 16, NULL), true, &e);
    CHECK_EQ_INT(n, 6);
    CHECK_EQ_STR(e[5].message, "\"tags[2]\" must be a string");
    CHECK(arena_used(&a) > 0);
    arena_destroy(&a);
}

int main(void)
{
    int rc = t_run();
    arena_destroy(ar());
    return rc;
}
