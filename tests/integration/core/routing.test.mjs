// routing.test.mjs -- file-system routing and per-method handlers, end to
// end through a real server (tests/fixtures/app, one worker).
//
// Proves: static > dynamic > catch-all precedence, the optional catch-all
// with zero segments, percent-decoded params (%2F stays inside a segment),
// params merged into the query with the param winning, catch-alls as lists,
// trailing slash -> 308, unknown -> 404 JSON, bad paths -> 400; per-method
// routes (405 + Allow, HEAD from GET without a body, OPTIONS 204); a
// one-function route sees every method; route objects are namespaced and
// APP/lib is shared.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rawOne } from '../lib/server.mjs';
import { startFixture, request } from '../lib/extra.mjs';

let srv;
before(async () => {
  srv = await startFixture({ workers: 1 });
});
after(async () => {
  await srv?.stop();
});

const get = (p, opts) => request(srv.port, p, opts);
const JSON_CT = 'application/json; charset=utf-8';

// The Allow header of methods.c (GET and POST): it names both, and never a
// method the route does not serve. (Whether HEAD and OPTIONS, which Kiln
// serves for it, are listed too is left open.)
function assertAllow(value) {
  assert.equal(typeof value, 'string');
  const set = value.split(',').map((s) => s.trim());
  assert.ok(set.includes('GET') && set.includes('POST'), value);
  for (const m of set) assert.ok(['GET', 'HEAD', 'POST', 'OPTIONS'].includes(m), value);
  assert.equal(new Set(set).size, set.length, value);
}

test('static beats dynamic: /api/posts/new is posts/new.c', async () => {
  const r = await get('/api/posts/new');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { route: '/api/posts/new', file: 'posts/new.c' });
});

test('index.c answers the folder: /api/posts', async () => {
  const r = await get('/api/posts?page=2');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { route: '/api/posts', file: 'posts/index.c', page: '2' });
});

test('dynamic segment: /api/posts/7, with kiln_query_i64', async () => {
  const r = await get('/api/posts/7');
  assert.equal(r.status, 200);
  assert.equal(r.json.file, 'posts/[id].c');
  assert.equal(r.json.route, '/api/posts/[id]');
  assert.equal(r.json.id, '7');
  assert.equal(r.json.isInt, true);
  assert.equal(r.json.idInt, 7);
  const neg = await get('/api/posts/-9223372036854775808');
  assert.equal(neg.json.isInt, true);
  assert.equal(neg.json.id, '-9223372036854775808');
  const over = await get('/api/posts/9223372036854775808');
  assert.equal(over.json.isInt, false);
  const word = await get('/api/posts/abc');
  assert.equal(word.json.isInt, false);
  assert.equal(word.json.id, 'abc');
});

test('a static name that does not match falls back to the dynamic route', async () => {
  // "newer" is not "new": [id] takes it.
  const r = await get('/api/posts/newer');
  assert.equal(r.json.file, 'posts/[id].c');
  assert.equal(r.json.id, 'newer');
});

test('route params are merged into the query; the param wins', async () => {
  const r = await get('/api/posts/7?id=9&q=z');
  assert.equal(r.status, 200);
  assert.equal(r.json.id, '7');
  assert.equal(r.json.idCount, 1);
  assert.equal(r.json.q, 'z');
});

test('params are percent-decoded, %2F stays inside one segment', async () => {
  let r = await get('/api/posts/hello%20world');
  assert.equal(r.json.id, 'hello world');
  r = await get('/api/posts/a%2Fb');
  assert.equal(r.status, 200);
  assert.equal(r.json.file, 'posts/[id].c');
  assert.equal(r.json.id, 'a/b');
  r = await get('/api/users/%C3%A9t%C3%A9/posts');
  assert.deepEqual(r.json, { route: '/api/users/[id]/posts', userId: 'été' });
  // '+' is not a space in a path.
  r = await get('/api/posts/a+b');
  assert.equal(r.json.id, 'a+b');
});

test('dynamic folder: /api/users/[id]/posts', async () => {
  const r = await get('/api/users/42/posts');
  assert.deepEqual(r.json, { route: '/api/users/[id]/posts', userId: '42' });
  const miss = await get('/api/users/42');
  assert.equal(miss.status, 404);
});

test('catch-all: one or more segments, as a list', async () => {
  let r = await get('/api/docs/a');
  assert.deepEqual(r.json, { route: '/api/docs/[...slug]', joined: 'a', count: 1, slug: ['a'] });
  r = await get('/api/docs/a/b/c');
  assert.deepEqual(r.json, { route: '/api/docs/[...slug]', joined: 'a/b/c', count: 3, slug: ['a', 'b', 'c'] });
  r = await get('/api/docs/x%2Fy/z%20w');
  assert.deepEqual(r.json.slug, ['x/y', 'z w']);
  // Zero segments do not match a required catch-all.
  r = await get('/api/docs');
  assert.equal(r.status, 404);
  assert.deepEqual(r.json, { error: 'Not Found' });
});

test('optional catch-all: zero segments too', async () => {
  let r = await get('/api/opt');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { route: '/api/opt/[[...slug]]', joined: null, count: 0, slug: [] });
  r = await get('/api/opt/one');
  assert.deepEqual(r.json.slug, ['one']);
  r = await get('/api/opt/a/b/c/d');
  assert.equal(r.json.count, 4);
  assert.equal(r.json.joined, 'a/b/c/d');
});

test('trailing slash redirects with 308 to the path without it', async () => {
  let r = await get('/api/hello/');
  assert.equal(r.status, 308);
  assert.equal(r.headers.location, '/api/hello');
  r = await get('/api/posts/7//?a=1&b=2');
  assert.equal(r.status, 308);
  assert.equal(r.headers.location, '/api/posts/7?a=1&b=2');
  assert.ok(r.headers['x-request-id']);
});

test('unknown routes: 404 {"error":"Not Found"} as JSON', async () => {
  for (const p of ['/api/nope', '/api', '/', '/favicon.ico', '/api/posts/7/extra', '/api/hello.c']) {
    const r = await get(p);
    assert.equal(r.status, 404, p);
    assert.equal(r.headers['content-type'], JSON_CT, p);
    assert.deepEqual(r.json, { error: 'Not Found' }, p);
  }
});

test('malformed paths: 400', async () => {
  // node:http would normalise some of these; send them raw.
  for (const p of ['/api/posts/%ZZ', '/api/posts/%00', '/api/posts/../hello', '/api/./hello']) {
    const { response } = await rawOne(srv.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.ok(response, p);
    assert.equal(response.status, 400, p);
    assert.deepEqual(JSON.parse(response.text), { error: 'Bad Request' }, p);
  }
});

test('absolute-form request target routes by its path', async () => {
  const { response } = await rawOne(
    srv.port,
    'GET http://example.com/api/posts/5?q=1 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n',
  );
  assert.equal(response.status, 200);
  assert.equal(JSON.parse(response.text).id, '5');
});

// ---- methods -------------------------------------------------------------

test('per-method route: GET and POST run their own function', async () => {
  let r = await get('/api/methods');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { method: 'GET', handler: 'GET' });
  r = await get('/api/methods', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"a":[1,2]}',
  });
  assert.equal(r.status, 201);
  assert.deepEqual(r.json, { method: 'POST', handler: 'POST', body: { a: [1, 2] } });
});

test('per-method route: other methods get 405 with Allow and a text body', async () => {
  for (const m of ['PUT', 'DELETE', 'PATCH']) {
    const r = await get('/api/methods', { method: m });
    assert.equal(r.status, 405, m);
    assertAllow(r.headers.allow);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(r.text, `Method ${m} Not Allowed`);
  }
  // A method Kiln has no handler slot for at all.
  const { response } = await rawOne(srv.port, 'PURGE /api/methods HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(response.status, 405);
  assertAllow(response.headers.allow);
  assert.equal(response.text, 'Method PURGE Not Allowed');
});

test('per-method route: HEAD is served from GET, headers and length but no body', async () => {
  const g = await get('/api/methods');
  // Raw, so that a body after the head would be seen.
  const { data, responses } = await rawOne(
    srv.port,
    'HEAD /api/methods HTTP/1.1\r\nHost: x\r\n\r\nGET /api/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    { methods: ['HEAD', 'GET'] },
  );
  assert.equal(responses.length, 2, data.toString());
  const h = responses[0];
  assert.equal(h.status, 200);
  assert.equal(h.headers['x-handler'], 'GET');
  assert.equal(h.headers['content-type'], JSON_CT);
  // GET's body is {"method":"GET",...}; HEAD's would have said HEAD: same length.
  assert.equal(Number(h.headers['content-length']), JSON.stringify({ method: 'HEAD', handler: 'GET' }).length);
  assert.equal(Number(g.headers['content-length']), g.body.length);
  assert.equal(h.body.length, 0);
  // The next response on the connection starts right after HEAD's head.
  assert.equal(responses[1].status, 200);
  assert.deepEqual(JSON.parse(responses[1].text).message, 'Hello, World!');
});

test('per-method route: OPTIONS answers 204 with Allow', async () => {
  const r = await get('/api/methods', { method: 'OPTIONS' });
  assert.equal(r.status, 204);
  assertAllow(r.headers.allow);
  assert.equal(r.body.length, 0);
  assert.equal(r.headers['content-length'], undefined);
});

test('a one-function route sees every method', async () => {
  for (const m of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']) {
    const r = await get('/api/echo?x=1', { method: m });
    assert.equal(r.status, 200, m);
    if (m !== 'HEAD') assert.equal(r.json.method, m);
    else assert.equal(r.body.length, 0);
  }
  const { response } = await rawOne(srv.port, 'PROPFIND /api/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(response.status, 200);
  assert.equal(JSON.parse(response.text).method, 'PROPFIND');
});

// ---- build-level features, seen from outside ------------------------------

test('route objects are namespaced: two routes define the same globals', async () => {
  const a = await get('/api/ns/a');
  const b = await get('/api/ns/b');
  assert.deepEqual(a.json, { which: 'a', counter: 100, lib: 'hello from lib/util.c' });
  assert.deepEqual(b.json, { which: 'b', counter: 200, fnvAbc: 440920331 });
});

test('APP/lib is linked once and shared by routes', async () => {
  const r = await get('/api/hello');
  assert.deepEqual(r.json, { message: 'Hello, World!', lib: 'hello from lib/util.c' });
});
