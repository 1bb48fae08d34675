// doccache.test.mjs -- the parsed-document cache (src/graphql/doccache.c)
// over HTTP: a document answered from the cache (second and third time)
// answers byte for byte as a server without the cache
// (KILN_GRAPHQL_CACHE_ENTRIES=0) answers it fresh -- valid, syntax errors,
// validation errors, variable errors, limit errors; the limits are checked
// on a hit (another operationName of a cached document, introspection off);
// and a cached document whose entry is evicted while its request is
// suspended in a resolver still answers right (the pin; ASan run).
//
//   tests/run-integration.sh build tests/integration/graphql/http/doccache.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { http } from '../../lib/db.mjs';
import { startTestApp } from './lib.mjs';

const GQL = 'application/graphql-response+json';
const LIMITS = { KILN_GRAPHQL_MAX_DEPTH: '3', KILN_GRAPHQL_MAX_ALIASES: '3', KILN_GRAPHQL_INTROSPECTION: '0' };
let cached, fresh;
before(async () => {
  [cached, fresh] = await Promise.all([
    startTestApp({ env: { ...LIMITS, KILN_GRAPHQL_CACHE_ENTRIES: '4' } }),
    startTestApp({ env: { ...LIMITS, KILN_GRAPHQL_CACHE_ENTRIES: '0' } }),
  ]);
});
after(async () => { await cached?.stop(); await fresh?.stop(); });

const post = (app, body, accept = GQL) =>
  http(app.srv.port, '/api/graphql', { method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', accept } });
const shape = (r) => ({ status: r.status, type: r.headers['content-type'], body: r.text });

const deep = '{ items { id check } a: hello b: hello }';
const bodies = [
  { query: '{ hello }' },
  { query: '{ items { id check } }' },
  { query: 'query Q($n: Int!) { plusOne(n: $n) }', variables: { n: 41 } },
  { query: 'query Q($n: Int!) { plusOne(n: $n) }', variables: { n: 'x' } },
  { query: 'query Q($n: Int!) { plusOne(n: $n) }' },
  { query: '{' },
  { query: '{ hello(' },
  { query: '\u00a0{ hello }' },
  { query: '{ nope }' },
  { query: '{ hello { x } items }' },
  { query: 'query A { hello } query A { hello }' },
  { query: 'query A { hello } query B { nope }', operationName: 'A' },
  { query: 'query A { hello } query B { items { id } }', operationName: 'C' },
  { query: 'query A { hello } query B { items { id } }' },
  { query: '{ a: hello b: hello c: hello d: hello }' },
  { query: '{ __schema { queryType { name } } }' },
  { query: '{ __typename }' },
  { query: 'mutation { echo(text: "hi") }' },
  { query: deep },
];

test('a cached document answers as a fresh one: data, syntax, validation, variable and limit errors', async () => {
  for (const body of bodies) {
    for (const accept of [GQL, 'application/json']) {
      const want = shape(await post(fresh, body, accept));
      for (let i = 0; i < 3; i++) {                 // miss, then hits
        const got = shape(await post(cached, body, accept));
        assert.deepEqual(got, want, `${JSON.stringify(body)} (${accept}, time ${i + 1})`);
      }
    }
  }
  // They were not all answered the same way: the list covers each kind.
  const answers = await Promise.all(bodies.map((b) => post(fresh, b)));
  assert.ok(answers.filter((r) => r.status === 200).length >= 5);
  assert.ok(answers.some((r) => r.text.includes('Syntax Error')));
  assert.ok(answers.some((r) => r.text.includes('Cannot query field')));
  assert.ok(answers.some((r) => r.text.includes('aliases, exceeding the limit of 3')));
  assert.ok(answers.some((r) => r.text.includes('introspection has been disabled')));
});

test('limits apply on a hit: another operation of a cached, validated document', async () => {
  const doc = 'query Ok { hello } query Deep { items { id } a: hello b: hello c: hello d: hello }';
  for (let round = 0; round < 2; round++) {
    const ok = await post(cached, { query: doc, operationName: 'Ok' });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(JSON.parse(ok.text), { data: { hello: 'Hello, World!' } });
    const bad = await post(cached, { query: doc, operationName: 'Deep' });
    assert.equal(bad.status, 400, bad.text);
    assert.match(JSON.parse(bad.text).errors[0].message, /^Operation has 4 aliases, exceeding the limit of 3\.$/);
    assert.deepEqual(shape(bad), shape(await post(fresh, { query: doc, operationName: 'Deep' })));
  }
  // Introspection off holds for a text first seen as valid up to it.
  const intro = '{ hello } query I { __type(name: "Query") { name } }';
  for (let i = 0; i < 2; i++) {
    const r = await post(cached, { query: intro, operationName: 'I' });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /introspection has been disabled/);
  }
});

test('an entry evicted while its request waits in a resolver still answers right', async () => {
  const slow = { query: 'query S($ms: Int!) { slow(ms: $ms) hello }', variables: { ms: 300 } };
  await post(cached, slow);                          // cached
  const pending = post(cached, slow);                // pinned, suspended 300 ms
  await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 12; i++) {                     // evict it (4 entries)
    const r = await post(cached, { query: `{ x${i}: hello }` });
    assert.deepEqual(JSON.parse(r.text), { data: { [`x${i}`]: 'Hello, World!' } });
  }
  const r = await pending;
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(JSON.parse(r.text), { data: { slow: 300, hello: 'Hello, World!' } });
  assert.deepEqual(JSON.parse((await post(cached, slow)).text), { data: { slow: 300, hello: 'Hello, World!' } });
});
