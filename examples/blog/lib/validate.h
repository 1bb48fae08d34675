/* validate.h -- the lesson's lib/validate.js, in C. */
#ifndef BLOG_VALIDATE_H
#define BLOG_VALIDATE_H
#include <kiln.h>

/* The lesson's schema: Joi.object({ title: Joi.string().required(),
 * content: Joi.string().required() }). On failure answers 400 {"error": ...}
 * in Joi's words and returns false. */
bool validate_post(kiln_req *req, kiln_res *res);

/* The route's [id] as a positive integer, or 0 when it is not one. */
int64_t post_id(kiln_req *req);

#endif
