// null_body.test.mjs -- a JSON body of `null` on examples/blog is present and
// is not an object: every body schema of the blog answers Joi's own words,
// 400 {"error": "\"value\" must be of type object"}, on POST and PUT of
// posts and users and on the auth bodies (tests/validate/joi_diff holds the
// same schemas against the real Joi: cases "... body null"). An absent body
// still reads as {} (Next.js parses an empty JSON body to {}).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareApp, startOn, stopAll, signupAndLogin } from './helpers.mjs';

const APP = prepareApp('examples/blog', 'blog-null-body');
const JOI_NOT_OBJECT = '"value" must be of type object';

let s;
let me;
before(async () => {
  s = await startOn(APP, 'sqlite', { env: { BLOG_LOGIN_PER_ADDRESS: '10000', BLOG_LOGIN_PER_EMAIL: '10000' } });
  me = await signupAndLogin(s.api);
});
after(stopAll);

function assertError(r, what, message) {
  assert.equal(r.status, 400, `${what}: 400 expected, got ${r.status}: ${r.text}`);
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8', what);
  assert.deepEqual(r.json, { error: message }, what);
}

test('a null JSON body: Joi\'s "value" must be of type object on posts, users and auth', async () => {
  const post = await s.api.request('/api/posts', { method: 'POST', json: { title: 't', content: 'c' } });
  assert.equal(post.status, 201, post.text);
  const user = await s.api.request('/api/users', { method: 'POST', bearer: me.token,
    json: { name: 'Nell', email: `nell.${process.pid}@example.com` } });
  assert.equal(user.status, 201, user.text);

  for (const [method, p, auth] of [
    ['POST', '/api/posts'],
    ['PUT', `/api/posts/${post.json.id}`],
    ['POST', '/api/users', true],
    ['PUT', `/api/users/${user.json.id}`, true],
    ['POST', '/api/auth/signup'],
    ['POST', '/api/auth/login'],
  ]) {
    for (const text of ['null', ' null\n']) {
      const r = await s.api.request(p, { method, json: text, bearer: auth ? me.token : undefined });
      assertError(r, `${method} ${p} ${JSON.stringify(text)}`, JOI_NOT_OBJECT);
    }
  }
  // Nothing was changed by the refused bodies.
  const again = await s.api.request(`/api/posts/${post.json.id}`);
  assert.deepEqual(again.json, { id: post.json.id, title: 't', content: 'c' });
});

test('an absent JSON body still reads as {} (the first required key is named)', async () => {
  const r = await s.api.request('/api/posts', { method: 'POST', headers: { 'content-type': 'application/json' } });
  assertError(r, 'POST /api/posts without a body', '"title" is required');
  const l = await s.api.request('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' } });
  assertError(l, 'POST /api/auth/login without a body', '"email" is required');
});
