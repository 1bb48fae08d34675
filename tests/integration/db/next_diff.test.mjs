// next_diff.test.mjs -- the lesson's posts API in Kiln (examples/blog, on
// SQLite) against the Next.js reference of the same lesson
// (shared/reference/next-lesson): the same requests to both, comparing
// status, content type and body (created ids mapped, not compared).
//
// The reference is installed and built by lib/next.mjs (build/next-lesson/,
// reused while its sources are unchanged). When npm or the reference is not
// there, or the install fails, the test is skipped with the reason.
// Bounded: install 150 s, build 90 s, start 30 s.
//
// Deliberate differences, not compared: a body that is not valid JSON gets
// a JSON error body in Kiln (Next.js: the text "Invalid JSON"); Kiln sends
// Allow as one header (Next.js: one per method; compared as values) and
// a text/plain content type with a 405 (Next.js: none); HEAD and OPTIONS
// (Kiln serves HEAD from GET and answers OPTIONS with 204); a JSON body of
// `null` gets Joi's own answer in Kiln, "value" must be of type object (the
// lesson validates `req.body ?? {}`, so Next.js names the first required
// key): both must answer 400, and Kiln must say Joi's words.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { buildApp, startServer } from '../lib/server.mjs';
import { prepareReference, startNext } from '../lib/next.mjs';
import { copyApp, http } from '../lib/db.mjs';

let skipReason = null;
let next = null; // {port, stop}
let kiln = null;
let app = null;

before(async () => {
  skipReason = prepareReference();
  if (skipReason) return;
  next = await startNext();
  app = copyApp('examples/blog');
  buildApp(app.dir);
  kiln = await startServer(app.dir, {
    workers: 1,
    env: { DATABASE_URL: `sqlite:${path.join(app.dir, 'data', 'diff.db')}` },
  });
});

after(async () => {
  next?.stop();
  await kiln?.stop();
  app?.remove();
});

// Replaces the created ids (per server) by their names in a JSON value.
function mapIds(v, ids) {
  if (Array.isArray(v)) return v.map((x) => mapIds(x, ids));
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) {
      const name = k === 'id' ? Object.keys(ids).find((n) => ids[n] === x) : undefined;
      o[k] = name ? `<${name}>` : mapIds(x, ids);
    }
    return o;
  }
  return v;
}

// The requests, in order. path may hold {name} for a created id; `as`
// names the id a 201 creates. kind: 'json' (compare status, content type,
// JSON body), 'invalid-json' (both 400), '405' (status, Allow values, text).
const JSONH = { 'content-type': 'application/json' };
const STEPS = [
  { m: 'GET', p: '/api/posts' },
  { m: 'POST', p: '/api/posts', body: { title: 'First', content: 'Hello' }, as: 'a' },
  { m: 'POST', p: '/api/posts', body: { title: 'Second', content: 'é ✓ 😀' }, as: 'b' },
  { m: 'POST', p: '/api/posts', body: { title: "'; DROP TABLE posts; --", content: '" OR 1=1' }, as: 'c' },
  { m: 'GET', p: '/api/posts' },
  { m: 'GET', p: '/api/posts/{a}' },
  { m: 'GET', p: '/api/posts/0{b}' },
  { m: 'GET', p: '/api/posts/{b}?id=999' },
  { m: 'GET', p: '/api/posts?id=1' },
  { m: 'PUT', p: '/api/posts/{a}', body: { title: 'First!', content: 'Edited' } },
  { m: 'GET', p: '/api/posts/{a}' },
  { m: 'PUT', p: '/api/posts/{a}', body: { title: 'x' } },
  { m: 'PUT', p: '/api/posts/{a}', body: { title: 'x', content: 'y', z: 1 } },
  { m: 'PUT', p: '/api/posts/999', body: { title: 'x', content: 'y' } },
  { m: 'PUT', p: '/api/posts/999', body: { title: 1 } },
  { m: 'DELETE', p: '/api/posts/{c}' },
  { m: 'DELETE', p: '/api/posts/{c}' },
  { m: 'GET', p: '/api/posts/{c}' },
  ...['abc', '-1', '0', '1.0', '+1', '1e0', '%201', '99999999999999999999', '0x1'].map((id) => ({ m: 'GET', p: `/api/posts/${id}` })),
  ...[
    {},
    { content: 'x' },
    { title: 'x' },
    { title: '', content: 'x' },
    { title: 'x', content: '' },
    { title: 5, content: 'x' },
    { title: 'x', content: 5 },
    { title: 'x', content: null },
    { title: 'x', content: [] },
    { title: 'x', content: {} },
    { title: 'x', content: 'y', extra: true },
    { extra: true, title: 'x', content: 'y' },
    { title: 'x', extra: true },
    [],
    [1],
    'str',
    42,
    true,
    null,
  ].map((body) => ({ m: 'POST', p: '/api/posts', body, kind: body === null ? 'null-body' : undefined })),
  { m: 'PUT', p: '/api/posts/{a}', body: null, kind: 'null-body' },
  { m: 'POST', p: '/api/posts', raw: '', headers: JSONH },
  { m: 'POST', p: '/api/posts', raw: '' },
  { m: 'POST', p: '/api/posts', raw: 'hello', headers: { 'content-type': 'text/plain' } },
  { m: 'POST', p: '/api/posts', raw: '{"title":"a","title":"","content":"b"}', headers: JSONH },
  { m: 'POST', p: '/api/posts', raw: '{"title":"a","content":"b"}', headers: { 'content-type': 'application/json; charset=utf-8' } },
  { m: 'POST', p: '/api/posts', raw: '{"title":', headers: JSONH, kind: 'invalid-json' },
  { m: 'POST', p: '/api/posts', raw: '{bad}', headers: JSONH, kind: 'invalid-json' },
  { m: 'PUT', p: '/api/posts', body: { title: 'x', content: 'y' }, kind: '405' },
  { m: 'DELETE', p: '/api/posts', kind: '405' },
  { m: 'PATCH', p: '/api/posts', kind: '405' },
  { m: 'POST', p: '/api/posts/{a}', body: { title: 'x', content: 'y' }, kind: '405' },
  { m: 'PATCH', p: '/api/posts/{a}', kind: '405' },
  { m: 'GET', p: '/api/posts' },
  { m: 'GET', p: '/api/hello' },
];

async function send(port, step, ids) {
  const p = step.p.replace(/\{(\w+)\}/g, (_, n) => String(ids[n]));
  const opts = { method: step.m, headers: step.headers };
  if (step.raw !== undefined) opts.body = step.raw;
  else if ('body' in step) opts.json = step.body;
  const r = await http(port, p, opts);
  if (step.as && r.status === 201 && r.json) ids[step.as] = r.json.id;
  return r;
}

test('Kiln answers the lesson\'s posts requests like the Next.js reference', async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const t0 = Date.now();
  const idsNext = {};
  const idsKiln = {};
  const diffs = [];
  for (const step of STEPS) {
    const a = await send(next.port, step, idsNext);
    const b = await send(kiln.port, step, idsKiln);
    const what = `${step.m} ${step.p} ${step.raw !== undefined ? JSON.stringify(step.raw) : JSON.stringify(step.body) ?? ''}`;
    const differ = (msg) => diffs.push(`${what}: ${msg}`);
    if (a.status !== b.status) {
      differ(`status next ${a.status} kiln ${b.status} (next ${a.text.slice(0, 120)} | kiln ${b.text.slice(0, 120)})`);
      continue;
    }
    const kind = step.kind ?? 'json';
    if (kind === 'null-body') {
      if (b.json?.error !== '"value" must be of type object') differ(`kiln body ${b.text} (Joi: "value" must be of type object)`);
      continue;
    }
    if (kind === 'invalid-json') {
      if (b.json?.error !== 'Invalid JSON') differ(`kiln body ${b.text}`);
      continue;
    }
    if (kind === '405') {
      if (a.headers.allow !== b.headers.allow) differ(`Allow next "${a.headers.allow}" kiln "${b.headers.allow}"`);
      if (a.text !== b.text) differ(`body next ${JSON.stringify(a.text)} kiln ${JSON.stringify(b.text)}`);
      continue;
    }
    if ((a.headers['content-type'] ?? null) !== (b.headers['content-type'] ?? null)) {
      differ(`content-type next ${a.headers['content-type']} kiln ${b.headers['content-type']}`);
    }
    if (a.status === 204) {
      if (a.body.length || b.body.length) differ('a 204 with a body');
      continue;
    }
    if (a.json === undefined || b.json === undefined) {
      if (a.text !== b.text) differ(`body next ${JSON.stringify(a.text)} kiln ${JSON.stringify(b.text)}`);
      continue;
    }
    try {
      assert.deepEqual(mapIds(b.json, idsKiln), mapIds(a.json, idsNext));
    } catch {
      differ(`body next ${JSON.stringify(a.json)} kiln ${JSON.stringify(b.json)}`);
    }
  }
  console.log(`# next_diff: ${STEPS.length} requests to each server in ${Date.now() - t0} ms, ${diffs.length} differences`);
  assert.deepEqual(diffs, []);
});

test(
  'form-urlencoded bodies are accepted like Next.js does',
  { todo: 'Kiln\'s blog validates JSON bodies only (Next.js parses x-www-form-urlencoded into req.body)' },
  async (t) => {
    if (skipReason) {
      t.skip(skipReason);
      return;
    }
    const step = { m: 'POST', p: '/api/posts', raw: 'title=form&content=body', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    const a = await send(next.port, step, {});
    const b = await send(kiln.port, step, {});
    assert.equal(a.status, 201);
    assert.equal(b.status, a.status, b.text);
  },
);
