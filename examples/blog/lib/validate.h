/* validate.h -- the lesson's lib/validate.js, in C: its Joi schemas written
 * by hand (until Kiln's schema validator lands), with Joi's messages. */
#ifndef BLOG_VALIDATE_H
#define BLOG_VALIDATE_H
#include <kiln.h>

/* One key of Joi.object({...}): always Joi.string().required(), plus
 * .email() and .min(n) when asked. */
typedef struct field_rule {
    const char *key;
    bool email;      /* Joi.string().email()                              */
    size_t min;      /* Joi.string().min(min): length in UTF-16 units; 0: none */
} field_rule;

/* Validate req->json (the lesson's `req.body ?? {}`) against the rules, in
 * their order, then refuse keys the rules do not name: Joi's first error
 * ("\"email\" is required", "\"email\" must be a valid email" ...), or NULL
 * when the body passes. */
const char *validate_fields(kiln_req *req, const field_rule *rules, size_t n);

/* validate_fields, answering 400 {"error": message} on failure. */
bool validate_body(kiln_req *req, kiln_res *res, const field_rule *rules, size_t n);

/* Joi.string().email() with its defaults (@hapi/address): one '@', a dot-atom
 * local part of at most 64 bytes, a domain of at least two labels whose last
 * one starts with a letter, 254 characters in all. Unlike Joi, the top-level
 * domain is not looked up in IANA's list. */
bool valid_email(const char *s, size_t len);

/* The lesson's schema: Joi.object({ title: Joi.string().required(),
 * content: Joi.string().required() }). On failure answers 400 {"error": ...}
 * in Joi's words and returns false. */
bool validate_post(kiln_req *req, kiln_res *res);

/* The route's [id] as a positive integer, or 0 when it is not one. */
int64_t route_id(kiln_req *req);
int64_t post_id(kiln_req *req);   /* the same, by its first name */

/* A field of the (validated) body, as a slice for kiln_db_query. */
kiln_str body_text(kiln_req *req, const char *key);

/* The lower-cased copy of an ASCII-insensitive string (emails). */
char *lower_dup(kiln_req *req, const char *s);

#endif
