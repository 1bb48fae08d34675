/* validate.c -- request checks shared by the routes (the lesson's
 * validateRequest with a Joi schema, written by hand until Kiln's schema
 * validator lands). Messages are Joi's, word for word. */
#include "validate.h"

#include <string.h>
#include <strings.h>

/* Length as JavaScript counts it (UTF-16 code units): one per code point,
 * two for those beyond U+FFFF (4-byte UTF-8 sequences). */
static size_t js_length(const char *s, size_t n)
{
    size_t units = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch & 0xC0) == 0x80) continue;          /* continuation byte */
        units += ch >= 0xF0 ? 2 : 1;
    }
    return units;
}

/* ---- Joi.string().email() ------------------------------------------- */

static bool is_alnum(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* atext of RFC 5321, plus any UTF-8 byte beyond ASCII (RFC 6531). */
static bool is_atext(unsigned char ch)
{
    return is_alnum(ch) || ch >= 0x80 || (ch && strchr("!#$%&'*+-/=?^_`{|}~", ch));
}

/* One domain label: letters, digits and '-', not at either end. The last
 * label (the TLD) must start with a letter. Non-ASCII bytes count as
 * letters (Joi punycodes them to "xn--..."). */
static bool label_ok(const char *s, size_t n, bool tld)
{
    if (n == 0 || n > 63) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!is_alnum(ch) && ch < 0x80 && ch != '-') return false;
    }
    unsigned char first = (unsigned char)s[0], last = (unsigned char)s[n - 1];
    if (first == '-' || last == '-') return false;
    if (tld && first >= '0' && first <= '9') return false;
    return true;
}

bool valid_email(const char *s, size_t len)
{
    if (len == 0 || memchr(s, '\0', len)) return false;
    const char *at = memchr(s, '@', len);
    if (!at || memchr(at + 1, '@', len - (size_t)(at - s) - 1)) return false;
    size_t local = (size_t)(at - s), domain = len - local - 1;
    if (local == 0 || local > 64 || js_length(s, len) > 254) return false;
    /* Local part: dot-separated atoms, none empty. */
    size_t seg = 0;
    for (size_t i = 0; i < local; i++) {
        if (s[i] == '.') {
            if (seg == 0) return false;
            seg = 0;
        } else if (is_atext((unsigned char)s[i])) {
            seg++;
        } else {
            return false;
        }
    }
    if (seg == 0) return false;
    /* Domain: at least two labels. */
    const char *d = at + 1;
    if (domain == 0 || domain > 256) return false;
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= domain; i++) {
        if (i < domain && d[i] != '.') continue;
        bool last = i == domain;
        if (!label_ok(d + start, i - start, last)) return false;
        labels++;
        start = i + 1;
    }
    return labels >= 2;
}

/* ---- Joi.object({...}) of strings ----------------------------------- */

/* True when the Content-Type is one Next.js parses into an object:
 * application/json, any +json, application/x-www-form-urlencoded. */
static bool json_or_form(kiln_req *req)
{
    const char *ct = kiln_header(req, "content-type");
    if (!ct) return false;
    size_t n = strcspn(ct, "; \t");
    return (n == 16 && !strncasecmp(ct, "application/json", 16))
        || (n > 5 && !strncasecmp(ct + n - 5, "+json", 5))
        || (n == 33 && !strncasecmp(ct, "application/x-www-form-urlencoded", 33));
}

const char *validate_fields(kiln_req *req, const field_rule *rules, size_t n)
{
    const kiln_value *body = req->json;
    /* A body that is not JSON reaches Joi as a string, an empty one too
     * unless its type is JSON or a form (Next.js parses those as {}). */
    if (!body && (req->body.len > 0 || !json_or_form(req))) return "\"value\" must be of type object";
    /* The lesson validates `req.body ?? {}`: JSON null is an empty object. */
    if (body && body->type == KILN_JSON_NULL) body = NULL;
    if (body && body->type != KILN_JSON_OBJECT) return "\"value\" must be of type object";
    for (size_t i = 0; i < n; i++) {
        const char *k = rules[i].key;
        const kiln_value *v = kiln_json_get(body, k);
        if (!v) return kiln_sprintf(req, "\"%s\" is required", k);
        if (v->type != KILN_JSON_STRING) return kiln_sprintf(req, "\"%s\" must be a string", k);
        if (v->len == 0) return kiln_sprintf(req, "\"%s\" is not allowed to be empty", k);
        if (rules[i].email && !valid_email(v->str, v->len))
            return kiln_sprintf(req, "\"%s\" must be a valid email", k);
        if (rules[i].min && js_length(v->str, v->len) < rules[i].min)
            return kiln_sprintf(req, "\"%s\" length must be at least %zu characters long", k, rules[i].min);
    }
    for (const kiln_value *m = body ? body->child : NULL; m; m = m->next) {
        bool known = false;
        for (size_t i = 0; i < n; i++) known |= !strcmp(m->key, rules[i].key);
        if (!known) return kiln_sprintf(req, "\"%s\" is not allowed", m->key);
    }
    return NULL;
}

bool validate_body(kiln_req *req, kiln_res *res, const field_rule *rules, size_t n)
{
    const char *err = validate_fields(req, rules, n);
    if (err) kiln_error(res, 400, err);
    return err == NULL;
}

bool validate_post(kiln_req *req, kiln_res *res)
{
    static const field_rule rules[] = { { .key = "title" }, { .key = "content" } };
    return validate_body(req, res, rules, 2);
}

int64_t route_id(kiln_req *req)
{
    int64_t id;
    return kiln_query_i64(req, "id", &id) && id > 0 ? id : 0;
}

int64_t post_id(kiln_req *req) { return route_id(req); }

kiln_str body_text(kiln_req *req, const char *key)
{
    return kiln_json_text(kiln_json_get(req->json, key));
}

char *lower_dup(kiln_req *req, const char *s)
{
    char *out = kiln_strdup(req, s ? s : "");
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    return out;
}
