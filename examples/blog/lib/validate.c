/* validate.c -- the blog's schemas and shared helpers (see validate.h). */
#include "validate.h"

const kiln_rule post_schema[] = {
    KILN_STRING("title", .required = true),
    KILN_STRING("content", .required = true),
    { 0 }
};

const kiln_rule post_out[] = {
    KILN_INTEGER("id", .required = true),
    KILN_STRING("title", .required = true),
    KILN_STRING("content", .required = true),
    { 0 }
};

const kiln_rule user_schema[] = {
    KILN_STRING("name", .required = true),
    KILN_STRING("email", .required = true, .email = true),
    { 0 }
};

const kiln_rule signup_schema[] = {
    KILN_STRING("email", .required = true, .email = true),
    KILN_STRING("password", .required = true, KILN_MIN(8)),
    { 0 }
};

const kiln_rule login_schema[] = {
    KILN_STRING("email", .required = true),
    KILN_STRING("password", .required = true),
    { 0 }
};

int64_t route_id(kiln_req *req)
{
    int64_t id;
    return kiln_query_i64(req, "id", &id) && id > 0 ? id : 0;
}

char *lower_dup(kiln_req *req, const char *s)
{
    char *out = kiln_strdup(req, s ? s : "");
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    return out;
}
