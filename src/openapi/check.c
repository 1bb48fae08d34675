/*
 * check.c -- the document's edges: the optional info block of the app's
 * configuration (APP/kiln.json), and the check `kiln dev` runs on every real
 * response of a route that declares its responses (kiln_config.responses).
 *
 * APP/kiln.json is the app's configuration file; this unit reads only its
 * "openapi" member:
 *
 *     { "openapi": { "info": { "title": "Blog", "version": "1.0.0",
 *                              "description": "The lesson's API" } } }
 *
 * A response matches its declaration when its status is declared for the
 * method and its body meets the declared shape: parsed as JSON and checked
 * with the same validator as request bodies (src/validate), so "matches"
 * means exactly what a request schema would accept. An undeclared error
 * status with Kiln's error shape ({"error": "..."}) is accepted: those are
 * Kiln's own answers (a schema's 400, a session's 401, a 404 of
 * kiln_send_row ...), which the document lists as the default response.
 *
 * Owns: nothing. Must never: send or alter a response (the caller reports).
 */
#include "openapi/openapi.h"
#include "validate/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static char *aprintf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *aprintf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[1024];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return arena_strdup(a, tmp);
}

/* ---- info ---------------------------------------------------------------- */

static const char *read_file(arena *a, const char *path, size_t *len)
{
    buf b;
    buf_init(&b, 1024);
    char *s = buf_read_file(&b, path) ? arena_strndup(a, b.data, b.len) : NULL;
    *len = b.len;
    buf_free(&b);
    return s;
}

/* The default title: the app folder's name. */
static const char *folder_name(arena *a, const char *dir)
{
    char abs[4096];
    if (realpath(dir, abs)) dir = abs;
    const char *s = dir + strlen(dir);
    while (s > dir && s[-1] == '/') s--;
    const char *end = s;
    while (s > dir && s[-1] != '/') s--;
    return end > s ? arena_strndup(a, s, (size_t)(end - s)) : "Kiln app";
}

static int info_load(arena *a, const char *app_dir, openapi_info *info, const char **err);

int openapi_info_load(arena *a, const char *app_dir, openapi_info *info, const char **err)
{
    int rc = info_load(a, app_dir, info, err);
    if (rc == 0 && !info->title) info->title = folder_name(a, app_dir);
    return rc;
}

static int info_load(arena *a, const char *app_dir, openapi_info *info, const char **err)
{
    memset(info, 0, sizeof *info);
    char path[4200];
    snprintf(path, sizeof path, "%s/kiln.json", app_dir);
    size_t len = 0;
    const char *text = read_file(a, path, &len);
    if (!text) return 0;
    const char *perr = NULL;
    const kiln_value *root = json_parse(a, text, len, &perr);
    if (!root || root->type != KILN_JSON_OBJECT) {
        *err = aprintf(a, "%s: %s", path, root ? "not a JSON object" : perr);
        return -1;
    }
    const kiln_value *oa = kiln_json_get(root, "openapi");
    if (!oa) return 0;
    const kiln_value *in = oa->type == KILN_JSON_OBJECT ? kiln_json_get(oa, "info") : NULL;
    if (oa->type != KILN_JSON_OBJECT || (in && in->type != KILN_JSON_OBJECT)) {
        *err = aprintf(a, "%s: \"openapi\" and \"openapi.info\" must be objects", path);
        return -1;
    }
    static const char *const names[] = { "title", "version", "description" };
    const char **slots[] = { &info->title, &info->version, &info->description };
    for (size_t i = 0; in && i < ARRAY_LEN(names); i++) {
        const kiln_value *v = kiln_json_get(in, names[i]);
        if (!v) continue;
        if (v->type != KILN_JSON_STRING || memchr(v->str, '\0', v->len)) {
            *err = aprintf(a, "%s: \"openapi.info.%s\" must be a string", path, names[i]);
            return -1;
        }
        *slots[i] = v->str;
    }
    return 0;
}

/* ---- checking responses -------------------------------------------------- */

bool openapi_declared(const kiln_config *cfg, int method, int status, const kiln_response **decl)
{
    *decl = NULL;
    if (!cfg || method < 0 || method >= KILN_METHOD_COUNT) return false;
    const kiln_response *l = cfg->responses[method];
    if (!l && method == KILN_HEAD) l = cfg->responses[KILN_GET];
    if (!l) return false;
    for (; l->status; l++)
        if (l->status == status) { *decl = l; break; }
    return true;
}

static bool is_json_type(const char *ct)
{
    if (!ct) return false;
    size_t n = strcspn(ct, "; \t");
    return (n == 16 && !strncasecmp(ct, "application/json", 16)) || (n > 5 && !strncasecmp(ct + n - 5, "+json", 5));
}

static bool kiln_error_shape(const kiln_value *v)
{
    const kiln_value *e = v && v->type == KILN_JSON_OBJECT ? kiln_json_get(v, "error") : NULL;
    return e && e->type == KILN_JSON_STRING;
}

const char *openapi_check_response(arena *a, const kiln_config *cfg, int method, int status,
                                   const char *content_type, const char *body, size_t len,
                                   const kiln_response **decl)
{
    if (!openapi_declared(cfg, method, status, decl)) return NULL;
    const kiln_value *v = len && is_json_type(content_type) ? json_parse(a, body, len, NULL) : NULL;
    const kiln_response *d = *decl;
    if (!d) {
        if (status >= 400 && kiln_error_shape(v)) return NULL;
        return aprintf(a, "status %d is not declared for this method", status);
    }
    if (!d->body && !d->items) {
        if (status >= 400)
            return kiln_error_shape(v) ? NULL : aprintf(a, "status %d is declared with Kiln's error shape, but the body is not {\"error\": \"...\"}", status);
        return len == 0 ? NULL : aprintf(a, "status %d is declared without a body, but the response has %zu bytes", status, len);
    }
    if (!v) return aprintf(a, "the body is not JSON%s", is_json_type(content_type) ? "" : " (Content-Type)");
    /* A broken declaration is reported, not panicked on: this runs in dev. */
    kiln_rule wrap[2] = { { .name = "items", .type = KILN_T_ARRAY, .items = d->items }, { 0 } };
    const char *broken = schema_check(a, d->body ? d->body : wrap);
    if (broken) return aprintf(a, "the declared shape is broken: %s", broken);
    schema_error *errs = NULL;
    size_t n;
    if (d->body) {
        n = schema_validate(a, d->body, v, false, &errs);
    } else {
        const kiln_rule arr = { .type = KILN_T_ARRAY, .required = true, .items = d->items };
        n = schema_validate_value(a, &arr, v, false, &errs);
    }
    return n ? errs[0].message : NULL;
}
