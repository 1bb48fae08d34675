/* validate.c -- request checks shared by the posts routes (the lesson's
 * validateRequest with a Joi schema, written by hand until Kiln's schema
 * validator lands). */
#include "validate.h"

#include <string.h>

/* Joi's first error for an object of required, non-empty strings. */
static const char *first_error(kiln_req *req, const char *const *keys, size_t n)
{
    const kiln_value *body = req->json;
    if (body && body->type != KILN_JSON_OBJECT) return "\"value\" must be of type object";
    if (!body && req->body.len > 0) return "\"value\" must be of type object";
    for (size_t i = 0; i < n; i++) {
        const kiln_value *v = kiln_json_get(body, keys[i]);
        if (!v) return kiln_sprintf(req, "\"%s\" is required", keys[i]);
        if (v->type != KILN_JSON_STRING) return kiln_sprintf(req, "\"%s\" must be a string", keys[i]);
        if (v->len == 0) return kiln_sprintf(req, "\"%s\" is not allowed to be empty", keys[i]);
    }
    for (const kiln_value *m = body ? body->child : NULL; m; m = m->next) {
        bool known = false;
        for (size_t i = 0; i < n; i++) known |= !strcmp(m->key, keys[i]);
        if (!known) return kiln_sprintf(req, "\"%s\" is not allowed", m->key);
    }
    return NULL;
}

bool validate_post(kiln_req *req, kiln_res *res)
{
    static const char *const keys[] = { "title", "content" };
    const char *err = first_error(req, keys, 2);
    if (err) kiln_error(res, 400, err);
    return err == NULL;
}

int64_t post_id(kiln_req *req)
{
    int64_t id;
    return kiln_query_i64(req, "id", &id) && id > 0 ? id : 0;
}
