/* validate.h -- the lesson's lib/validate.js, in C: its Joi schemas as Kiln
 * schemas (answered with Joi's own messages), and small helpers the routes
 * share. */
#ifndef BLOG_VALIDATE_H
#define BLOG_VALIDATE_H
#include <kiln.h>

/* Joi.object({ title: Joi.string().required(), content: Joi.string().required() }) */
extern const kiln_rule post_schema[];
/* A post as the API answers it: {id, title, content} (declared responses). */
extern const kiln_rule post_out[];
/* Joi.object({ name: Joi.string().required(), email: Joi.string().email().required() }) */
extern const kiln_rule user_schema[];
/* Joi.object({ email: Joi.string().email().required(), password: Joi.string().min(8).required() }) */
extern const kiln_rule signup_schema[];
/* Joi.object({ email: Joi.string().required(), password: Joi.string().required() }) */
extern const kiln_rule login_schema[];

/* The route's [id] as a positive integer, or 0 when it is not one (0 matches
 * no row, so /api/posts/abc answers 404 like the lesson). */
int64_t route_id(kiln_req *req);

/* A lower-cased copy (emails are compared without case). */
char *lower_dup(kiln_req *req, const char *s);

#endif
