// endpoint.test.mjs -- kiln_graphql over HTTP beyond the audit: the exact
// status codes, media types and error shapes, what a resolver gets (the
// real request, its coroutine, its database), and the limits.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '../../lib/db.mjs';
import { startTestApp } from './lib.mjs';

const GQL = 'application/graphql-response+json';
let app, port;
before(async () => { app = await startTestApp({ env: { KILN_GRAPHQL_MAX_ALIASES: '2' } }); port = app.srv.port; });
after(async () => { await app?.stop(); });

const post = (body, headers = {}) =>
  http(port, '/api/graphql', { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers } });
const get = (params, headers = {}) => http(port, `/api/graphql?${new URLSearchParams(params)}`, { headers });

test('a query over POST and GET: data, media type by Accept', async () => {
  let r = await post({ query: '{ hello }' });
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^application\/json; charset=utf-8/);
  assert.deepEqual(r.json, { data: { hello: 'Hello, World!' } });
  r = await post({ query: '{ hello }' }, { accept: `${GQL}, application/json;q=0.9` });
  assert.equal(r.headers['content-type'], `${GQL}; charset=utf-8`);
  assert.deepEqual(JSON.parse(r.text), { data: { hello: 'Hello, World!' } });
  r = await get({ query: 'query Q($n: Int!) { plusOne(n: $n) }', variables: '{"n": 41}', operationName: 'Q' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { data: { plusOne: 42 } });
});

test('request errors: 400 under graphql-response+json, 200 under application/json, no data', async () => {
  for (const [body, message] of [
    [{ query: '{' }, 'Syntax Error: Expected Name, found <EOF>.'],
    [{ query: '{ nope }' }, 'Cannot query field "nope" on type "Query".'],
    [{ query: 'query($n: Int!) { plusOne(n: $n) }', variables: { n: 'x' } }, 'Variable "$n" got invalid value "x"; Int cannot represent non-integer value: "x"'],
  ]) {
    const g = await post(body, { accept: GQL });
    assert.equal(g.status, 400, g.text);
    const gj = JSON.parse(g.text);
    assert.equal(gj.data, undefined);
    assert.equal(gj.errors[0].message, message);
    const j = await post(body, { accept: 'application/json' });
    assert.equal(j.status, 200, j.text);
    assert.deepEqual(j.json, gj);
  }
  const r = await post({ query: '{ items { id } }', operationName: 'Other' }, { accept: GQL });
  assert.equal(r.status, 400);
  assert.deepEqual(JSON.parse(r.text), { errors: [{ message: 'Unknown operation named "Other".' }] });
});

test('malformed requests get clear errors', async () => {
  const cases = [
    [() => post([{ query: '{ hello }' }, { query: '{ hello }' }]), 400, 'Batched requests are not supported'],
    [() => post({ variables: {} }), 400, 'Missing query'],
    [() => post({ query: 7 }), 400, 'Invalid query'],
    [() => post({ query: '{ hello }', operationName: 1 }), 400, 'Invalid operationName'],
    [() => post({ query: '{ hello }', variables: [] }), 400, 'Invalid variables'],
    [() => post({ query: '{ hello }', extensions: 'x' }), 400, 'Invalid extensions'],
    [() => post('"just a string"'), 400, 'Invalid body: a JSON object is expected'],
    [() => http(port, '/api/graphql', { method: 'POST', headers: { 'content-type': 'application/json' } }), 400, 'Missing body'],
    [() => get({ query: '{ hello }', variables: '{nope' }), 400, 'Variables are invalid JSON'],
    [() => http(port, '/api/graphql', { method: 'POST', body: '{ hello }', headers: { 'content-type': 'application/graphql' } }), 415, 'Unsupported media type: POST application/json'],
  ];
  for (const [f, status, message] of cases) {
    const r = await f();
    assert.equal(r.status, status, r.text);
    assert.deepEqual(r.json, { errors: [{ message }] });
  }
  const bad = await post('{ "not a JSON');
  assert.equal(bad.status, 400);
  const big = await post({ query: `{ hello ${' '.repeat(1100 * 1024)} }` });
  assert.equal(big.status, 413);
});

test('methods: a mutation over GET is 405 with Allow: POST; PUT is 405; Accept none of ours is 406', async () => {
  let r = await get({ query: 'mutation { echo(text: "x") }' });
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'POST');
  assert.deepEqual(r.json, { errors: [{ message: 'Can only perform a mutation operation from a POST request' }] });
  r = await post({ query: 'mutation { echo(text: "x") }' });
  assert.deepEqual(r.json, { data: { echo: 'x' } });
  r = await http(port, '/api/graphql', { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 405);
  assert.match(r.headers.allow, /GET/);
  assert.match(r.headers.allow, /POST/);
  r = await post({ query: '{ hello }' }, { accept: 'text/html' });
  assert.equal(r.status, 406);
  r = await post({ query: '{ hello }' }, { accept: `${GQL};q=0, application/json` });
  assert.match(r.headers['content-type'], /^application\/json/);
});

test('resolver errors carry message, locations, path and extensions.code; data is kept', async () => {
  const r = await post({ query: '{ forbidden items {\n  id check } }' }, { accept: GQL });
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.text), {
    errors: [
      { message: 'Not for you, stranger', locations: [{ line: 1, column: 3 }], path: ['forbidden'], extensions: { code: 'FORBIDDEN' } },
      { message: 'item 2 is bad', locations: [{ line: 2, column: 6 }], path: ['items', 1, 'check'], extensions: { code: 'BAD_ITEM' } },
    ],
    data: { forbidden: null, items: [{ id: '1', check: 'ok' }, { id: '2', check: null }, { id: '3', check: 'ok' }] },
  });
});

test('a resolver gets the real request and runs on its coroutine', async () => {
  let r = await post({ query: '{ header(name: "x-probe") }' }, { 'x-probe': 'p-123' });
  assert.deepEqual(r.json, { data: { header: 'p-123' } });
  r = await post({ query: '{ plusOne(n: 1) }' });
  assert.deepEqual(r.json, { data: { plusOne: 2 } });
  // One worker: a resolver sleeping 1.5 s must not hold up other requests.
  const slow = post({ query: '{ slow(ms: 1500) }' });
  await new Promise((res) => setTimeout(res, 100));
  const t0 = Date.now();
  const [h, q] = await Promise.all([http(port, '/api/hello'), post({ query: '{ plusOne(n: 5) }' })]);
  const fastMs = Date.now() - t0;
  assert.equal(h.status, 200);
  assert.deepEqual(q.json, { data: { plusOne: 6 } });
  assert.deepEqual((await slow).json, { data: { slow: 1500 } });
  assert.ok(fastMs < 1000, `other requests waited ${fastMs} ms for the sleeping resolver`);
});

test('limits: the endpoint applies KILN_GRAPHQL_MAX_ALIASES (before validation) and the parser caps', async () => {
  let r = await post({ query: '{ a: hello b: hello }' }, { accept: GQL });
  assert.deepEqual(JSON.parse(r.text), { data: { a: 'Hello, World!', b: 'Hello, World!' } });
  r = await post({ query: '{ a: hello b: hello c: nope }' }, { accept: GQL });
  assert.equal(r.status, 400, r.text);
  const j = JSON.parse(r.text);
  assert.equal(j.data, undefined);
  assert.deepEqual(j.errors.map((e) => [e.message, e.extensions?.code]),
    [['Operation has 3 aliases, exceeding the limit of 2.', 'GRAPHQL_VALIDATION_FAILED']]);
  r = await post({ query: `{ hello ${'#'.repeat(110 * 1024)}\n }` }, { accept: GQL });
  assert.equal(r.status, 400, r.text);
  assert.match(JSON.parse(r.text).errors[0].message, /^Syntax Error: Document is larger than 102400 bytes/);
});
