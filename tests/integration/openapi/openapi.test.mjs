// openapi.test.mjs -- proofs of Kiln's API description (src/openapi, issue 10).
//
//   tests/run-integration.sh build tests/integration/openapi/openapi.test.mjs
//
// For examples/blog, the fixture made for it (tests/fixtures/openapiapp) and
// the other test fixtures (tests/fixtures/app, tests/fixtures/mwapp):
//   - `kiln openapi APP` prints a document that @redocly/cli lint (no errors)
//     and @apidevtools/swagger-parser both accept;
//   - every blog route and method is in it (found by reading the route files
//     here, independently of Kiln's C code);
//   - openapi-typescript generates types from it, and a TypeScript file that
//     uses them -- each documented body example, and (@ts-expect-error) each
//     body missing a required key or carrying an unknown one -- type-checks
//     with tsc --noEmit --strict;
//   - against the running server: a request built from each documented body
//     example is accepted, and one that breaks each documented constraint
//     (required, type, lengths, pattern, email, enum, min/max, items,
//     unknown keys, nested objects and arrays, typed query and path
//     parameters) is refused with 400;
//   - `kiln dev` serves /_kiln/openapi.json and reports a response that does
//     not match its declaration with the declaration's file and line;
//     `kiln start` serves the document only with KILN_OPENAPI=1.
//
// Setup done here: `npm install --no-audit --no-fund` in this folder when
// node_modules is missing (the npm registry must be reachable then; if it
// cannot be installed, the tests say so and skip). Apps are copied to a
// temporary folder first, so the sources stay clean.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { REPO, KILN, startServer, freePort, waitForPort } from '../lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = (name) => path.join(here, 'node_modules', '.bin', name);

function install() {
  const need = ['redocly', 'openapi-typescript', 'tsc'].some((b) => !fs.existsSync(bin(b)))
    || !fs.existsSync(path.join(here, 'node_modules/@apidevtools/swagger-parser/package.json'));
  if (!need) return null;
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit', timeout: 300_000 });
  return r.status === 0 ? null : `npm install failed in ${here} (is the npm registry reachable?)`;
}
const skipReason = install();

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-openapi-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function copyApp(rel) {
  const src = path.resolve(REPO, rel);
  const dst = path.join(tmp, `${path.basename(rel)}-${fs.readdirSync(tmp).length}`);
  fs.cpSync(src, dst, {
    recursive: true,
    filter: (s) => !/[/\\](\.kiln|data|node_modules)([/\\]|$)/.test(s.slice(src.length)),
  });
  return dst;
}

function kilnOpenapi(dir) {
  const out = execFileSync(KILN, ['openapi', dir], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 300_000 });
  return JSON.parse(out);
}

// The apps, each built and described once.
const apps = {};
function app(name) {
  if (apps[name]) return apps[name];
  const rel = { blog: 'examples/blog', fixture: 'tests/fixtures/openapiapp', core: 'tests/fixtures/app',
    mw: 'tests/fixtures/mwapp' }[name];
  const dir = copyApp(rel);
  const doc = kilnOpenapi(dir);
  const file = path.join(tmp, `${name}.openapi.json`);
  fs.writeFileSync(file, JSON.stringify(doc, null, 2));
  apps[name] = { dir, doc, file };
  return apps[name];
}

const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options'];
const operations = (doc) => Object.entries(doc.paths).flatMap(([p, item]) =>
  METHODS.filter((m) => item[m]).map((m) => ({ path: p, method: m, op: item[m] })));

// ---------------------------------------------------------------------------
// Validity

for (const name of ['blog', 'fixture', 'core', 'mw']) {
  test(`${name}: the document passes @redocly/cli lint and swagger-parser`, { skip: skipReason ?? false, timeout: 600_000 }, async () => {
    const { doc, file } = app(name);
    assert.equal(doc.openapi, '3.1.0');
    const r = spawnSync(bin('redocly'), ['lint', file, '--format=json'], { encoding: 'utf8', timeout: 120_000 });
    const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    const errors = report.problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message}`);
    assert.deepEqual(errors, [], 'redocly lint errors');
    assert.equal(r.status, 0, `redocly lint exited ${r.status}`);
    const { default: SwaggerParser } = await import(pathToFileURL(path.join(here, 'node_modules/@apidevtools/swagger-parser/lib/index.js')).href);
    const parsed = await SwaggerParser.validate(structuredClone(doc));
    assert.equal(Object.keys(parsed.paths).length, Object.keys(doc.paths).length);
    assert.ok(operations(doc).length > 0);
  });
}

// ---------------------------------------------------------------------------
// Completeness, read from the route files themselves

function routeFiles(dir, base = dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name.startsWith('_') || e.name.startsWith('.')) return [];
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return routeFiles(p, base);
    return e.name.endsWith('.c') ? [path.relative(base, p)] : [];
  });
}

function openapiPaths(rel) {
  const segs = ['api', ...rel.replace(/\.c$/, '').split(path.sep)];
  if (segs.at(-1) === 'index') segs.pop();
  const conv = segs.map((s) => s.replace(/^\[\[\.\.\.(.+)\]\]$/, '{$1}').replace(/^\[\.\.\.(.+)\]$/, '{$1}').replace(/^\[(.+)\]$/, '{$1}'));
  const full = '/' + conv.join('/');
  return /^\[\[\.\.\./.test(segs.at(-1)) ? ['/' + conv.slice(0, -1).join('/'), full] : [full];
}

// The blog's /api/graphql as the document describes it (kiln openapi and
// kiln dev's /_kiln/openapi.json alike).
function assertGraphqlEndpoint(doc, p) {
  const marked = Object.entries(doc.paths).flatMap(([q, item]) => METHODS.filter((m) => item[m]?.['x-kiln-graphql']).map((m) => `${m.toUpperCase()} ${q}`));
  assert.deepEqual(marked.sort(), [`GET ${p}`, `POST ${p}`]);
  assert.deepEqual(METHODS.filter((m) => doc.paths[p][m]), ['get', 'post']);
  const { get, post } = doc.paths[p];
  assert.equal(get['x-kiln-graphql'], true);
  assert.deepEqual(get.parameters.map((x) => [x.name, x.in, !!x.required]),
    [['query', 'query', true], ['operationName', 'query', false], ['variables', 'query', false], ['extensions', 'query', false]]);
  assert.ok(!get.requestBody);
  const body = post.requestBody.content['application/json'];
  assert.equal(post.requestBody.required, true);
  assert.equal(body.schema.$ref, '#/components/schemas/GraphQLRequest');
  const reqSchema = doc.components.schemas.GraphQLRequest;
  assert.deepEqual(Object.keys(reqSchema.properties).sort(), ['extensions', 'operationName', 'query', 'variables']);
  assert.deepEqual(reqSchema.required, ['query']);
  assert.deepEqual(Object.keys(doc.components.schemas.GraphQLResponse.properties).sort(), ['data', 'errors', 'extensions']);
  for (const op of [get, post]) {
    for (const status of ['200', '400']) {
      assert.deepEqual(Object.keys(op.responses[status].content).sort(), ['application/graphql-response+json', 'application/json'], `${status}`);
      assert.equal(op.responses[status].content['application/json'].schema.$ref, '#/components/schemas/GraphQLResponse');
    }
  }
}

test('blog: every route and every method of its files is in the document', { skip: skipReason ?? false, timeout: 600_000 }, () => {
  const { dir, doc } = app('blog');
  const pages = path.join(dir, 'pages/api');
  const files = routeFiles(pages);
  assert.ok(files.length >= 9, `found only ${files.length} blog routes`);
  for (const f of files) {
    const src = fs.readFileSync(path.join(pages, f), 'utf8');
    const defined = [...src.matchAll(/^void\s+(handler|GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)\s*\(/gm)].map((m) => m[1]);
    // A file calling kiln_graphql is the GraphQL endpoint: GET and POST only.
    const gql = /\bkiln_graphql\s*\(/.test(src.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''));
    const want = gql ? ['get', 'post'] : defined.includes('handler') ? ['get', 'post', 'put', 'patch', 'delete'] : defined.map((m) => m.toLowerCase());
    assert.ok(want.length > 0, `${f} defines no handler`);
    for (const p of openapiPaths(f)) {
      assert.ok(doc.paths[p], `${p} (${f}) is missing`);
      for (const m of want) {
        assert.ok(doc.paths[p][m], `${m.toUpperCase()} ${p} (${f}) is missing`);
        assert.equal(doc.paths[p][m]['x-kiln-route'].file, `pages/api/${f}`);
      }
      const listed = METHODS.filter((m) => doc.paths[p][m]);
      assert.deepEqual(listed.sort(), [...want].sort(), `${p}: methods listed beyond the file's`);
    }
  }
  assert.equal(Object.keys(doc.paths).length, files.flatMap(openapiPaths).length, 'paths that no file has');
  // The WebSocket routes are marked, with their declared upgrade; no other operation is.
  const marked = Object.entries(doc.paths).flatMap(([p, item]) => METHODS.filter((m) => item[m]?.['x-kiln-websocket']).map((m) => `${m.toUpperCase()} ${p}`));
  assert.deepEqual(marked.sort(), ['GET /api/echo', 'GET /api/posts/live']);
  for (const p of ['/api/echo', '/api/posts/live']) assert.match(doc.paths[p].get.responses['101'].description, /WebSocket/);
  // The GraphQL endpoint is marked, with GraphQL over HTTP's request and
  // response shapes; no other operation is.
  assertGraphqlEndpoint(doc, '/api/graphql');
  // Every route that calls kiln_validate() has its body described: the ones
  // whose handler checks it (after a 404 or 401) are marked so, with the
  // same schema as the routes that check it before the handler.
  const byHandler = Object.entries(doc.paths).flatMap(([p, item]) =>
    METHODS.filter((m) => item[m]?.requestBody?.['x-kiln-checked-by-handler']).map((m) => `${m.toUpperCase()} ${p}`),
  );
  assert.deepEqual(byHandler.sort(), ['POST /api/auth/login', 'PUT /api/posts/{id}', 'PUT /api/users/{id}']);
  const bodySchema = (p, m) => doc.paths[p][m].requestBody.content['application/json'].schema;
  assert.deepEqual(bodySchema('/api/posts/{id}', 'put'), bodySchema('/api/posts', 'post'));
  assert.deepEqual(bodySchema('/api/users/{id}', 'put'), bodySchema('/api/users', 'post'));
  assert.deepEqual(Object.keys(bodySchema('/api/auth/login', 'post').properties).sort(), ['email', 'password']);
  // The blog's info block comes from examples/blog/kiln.json.
  assert.equal(doc.info.title, JSON.parse(fs.readFileSync(path.join(dir, 'kiln.json'), 'utf8')).openapi.info.title);
});

test('fixture: paths, catch-alls, any-method handlers, schemas, security and info say what the app has', { skip: skipReason ?? false, timeout: 600_000 }, () => {
  const { doc } = app('fixture');
  assert.deepEqual(doc.info, { title: 'OpenAPI fixture', version: '1.2.3', description: "Routes that exercise every part of Kiln's API description." });
  // catch-all, optional catch-all
  const files = doc.paths['/api/files/{path}'].get;
  assert.match(files.parameters[0].description, /one or more path segments/);
  assert.ok(doc.paths['/api/opt'] && doc.paths['/api/opt/{rest}'], 'an optional catch-all is two paths');
  for (const m of ['get', 'post', 'put', 'patch', 'delete']) {
    assert.equal(doc.paths['/api/opt/{rest}'][m]['x-kiln-route'].style, 'handler');
  }
  assert.notEqual(doc.paths['/api/opt'].post.operationId, doc.paths['/api/opt/{rest}'].post.operationId);
  // a path parameter typed by the query schema
  const id = doc.paths['/api/items/{id}'].get.parameters.find((p) => p.name === 'id');
  assert.deepEqual(id, { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } });
  // query parameters
  const q = doc.paths['/api/items'].get.parameters;
  assert.deepEqual(q.find((p) => p.name === 'page'), { name: 'page', in: 'query', required: true, schema: { type: 'integer', minimum: 1 } });
  assert.deepEqual(q.find((p) => p.name === 'sort').schema, { type: 'string', enum: ['asc', 'desc'] });
  // the body schema
  const body = doc.paths['/api/items'].post.requestBody;
  assert.equal(body.required, true);
  const s = body.content['application/json'].schema;
  assert.equal(s.additionalProperties, false);
  assert.deepEqual(s.required, ['name', 'email', 'code', 'owner']);
  assert.deepEqual(s.properties.name, { type: 'string', minLength: 2, maxLength: 20 });
  assert.equal(s.properties.email.format, 'email');
  assert.equal(s.properties.code.pattern, '^[A-Z]{3}-\\d+$');
  assert.deepEqual(s.properties.tags, { type: 'array', items: { type: 'string', minLength: 1, maxLength: 8 }, minItems: 1, maxItems: 3 });
  assert.equal(s.properties.owner.additionalProperties, false);
  assert.deepEqual(s.properties.owner.required, ['name']);
  // unknown keys allowed, "" allowed, a free-form object
  const open = doc.paths['/api/open'].post.requestBody.content['application/json'].schema;
  assert.equal(open.additionalProperties, undefined);
  assert.deepEqual(open.properties.label, { type: 'string' });
  assert.deepEqual(open.properties.meta, { type: 'object' });
  // declared responses, with where they are declared
  const r200 = doc.paths['/api/items'].get.responses['200'];
  assert.match(r200.description, /declared at pages\/api\/items\/index\.c:\d+/);
  assert.equal(r200.content['application/json'].schema.type, 'array');
  assert.ok(doc.paths['/api/items/{id}'].get.responses['404'].content['application/json'].schema.$ref.endsWith('/Error'));
  assert.equal(doc.paths['/api/items/{id}'].delete.responses['204'].content, undefined);
  // Kiln's own answers
  assert.ok(doc.paths['/api/items'].post.responses['400'].$ref.endsWith('/BadRequest'));
  assert.ok(doc.paths['/api/items'].post.responses['413'].$ref.endsWith('/PayloadTooLarge'));
  for (const k of ['BadRequest', 'Unauthorized', 'Forbidden', 'MethodNotAllowed', 'PayloadTooLarge', 'TooManyRequests']) {
    assert.ok(doc.components.responses[k], `components.responses.${k}`);
  }
  assert.ok(doc.components.responses.TooManyRequests.headers['Retry-After']);
  assert.ok(doc.components.responses.MethodNotAllowed.headers.Allow);
  assert.deepEqual(doc.components.schemas.Error.required, ['error']);
  // security where kiln_require_session guards the route, and only there
  assert.deepEqual(doc.paths['/api/private'].get.security, [{ bearerAuth: [] }, { sessionCookie: [] }]);
  assert.ok(doc.paths['/api/private'].get.responses['401'].$ref.endsWith('/Unauthorized'));
  assert.ok(doc.paths['/api/private'].post.responses['403'].$ref.endsWith('/Forbidden'));
  assert.deepEqual(doc.paths['/api/items'].get.security, []);
  assert.equal(doc.components.securitySchemes.bearerAuth.scheme, 'bearer');
  assert.deepEqual(doc.components.securitySchemes.sessionCookie, { ...doc.components.securitySchemes.sessionCookie, type: 'apiKey', in: 'cookie', name: 'session' });
  // every body schema offers an example
  for (const { path: p, method, op } of operations(doc)) {
    const media = op.requestBody?.content['application/json'];
    if (media && Object.keys(media.schema).length) assert.ok(media.example, `${method} ${p}: no example`);
  }
});

// ---------------------------------------------------------------------------
// A generated TypeScript client

test('openapi-typescript types from the documents type-check with tsc', { skip: skipReason ?? false, timeout: 600_000 }, () => {
  const dir = path.join(tmp, 'ts');
  fs.mkdirSync(dir, { recursive: true });
  const files = [];
  let checks = 0;
  for (const name of ['blog', 'fixture']) {
    const { file, doc } = app(name);
    execFileSync(bin('openapi-typescript'), [file, '-o', path.join(dir, `${name}.d.ts`)], { stdio: 'pipe', timeout: 120_000 });
    const lines = [`import type { paths } from './${name}.js';`, ''];
    operations(doc).forEach(({ path: p, method, op }, i) => {
      lines.push(`type Op${i} = paths[${JSON.stringify(p)}][${JSON.stringify(method)}];`);
      lines.push(`const id${i}: Op${i} extends { parameters: unknown } ? true : false = true; void id${i};`);
      const media = op.requestBody?.content['application/json'];
      if (!media?.example) return;
      const T = `NonNullable<paths[${JSON.stringify(p)}][${JSON.stringify(method)}]['requestBody']>['content']['application/json']`;
      lines.push(`const ok${i}: ${T} = ${JSON.stringify(media.example)}; void ok${i};`);
      checks++;
      for (const k of media.schema.required ?? []) {
        const missing = { ...media.example };
        delete missing[k];
        lines.push(`// @ts-expect-error: "${k}" is required`);
        lines.push(`const miss${i}_${k}: ${T} = ${JSON.stringify(missing)}; void miss${i}_${k};`);
        checks++;
      }
      if (media.schema.additionalProperties === false) {
        lines.push('// @ts-expect-error: unknown keys are refused');
        lines.push(`const extra${i}: ${T} = ${JSON.stringify({ ...media.example, unexpectedKey: 1 })}; void extra${i};`);
        checks++;
      }
    });
    fs.writeFileSync(path.join(dir, `use_${name}.ts`), lines.join('\n') + '\n');
    files.push(`use_${name}.ts`);
  }
  assert.ok(checks >= 10, `only ${checks} body checks`);
  const r = spawnSync(bin('tsc'), ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', ...files],
    { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
});

// ---------------------------------------------------------------------------
// Examples accepted, broken constraints refused, by the real server

const clone = (v) => structuredClone(v);
function setAt(obj, pathArr, fn) {
  const out = clone(obj);
  let o = out;
  for (const k of pathArr.slice(0, -1)) o = o[k];
  fn(o, pathArr.at(-1));
  return out;
}

// [label, mutate(example) -> body] for every documented constraint.
function bodyViolations(schema, at = []) {
  const out = [];
  const put = (label, value) => out.push([label, (ex) => setAt(ex, at, (o, k) => { o[k] = value; })]);
  const here2 = at.length ? at.join('.') : 'body';
  if (schema.enum) put(`${here2}: enum`, schema.type === 'integer' || schema.type === 'number' ? 987654 : 'not-in-the-list');
  switch (schema.type) {
    case 'string':
      put(`${here2}: type`, 12345);
      if (!schema.enum && schema.minLength > 0) put(`${here2}: minLength`, 'x'.repeat(schema.minLength - 1));
      if (schema.maxLength !== undefined) put(`${here2}: maxLength`, 'x'.repeat(schema.maxLength + 1));
      if (schema.pattern) {
        const bad = ['!!', '~', 'zz zz'].find((v) => !new RegExp(schema.pattern).test(v));
        put(`${here2}: pattern`, bad);
      }
      if (schema.format === 'email') put(`${here2}: format email`, 'not-an-email');
      break;
    case 'integer':
    case 'number':
      put(`${here2}: type`, schema.type === 'integer' ? 1.5 : 'abc');
      if (schema.minimum !== undefined) put(`${here2}: minimum`, schema.minimum - 1);
      if (schema.maximum !== undefined) put(`${here2}: maximum`, schema.maximum + 1);
      break;
    case 'boolean':
      put(`${here2}: type`, 'maybe');
      break;
    case 'array':
      put(`${here2}: type`, 'x');
      if (schema.minItems > 0) out.push([`${here2}: minItems`, (ex) => setAt(ex, at, (o, k) => { o[k] = o[k].slice(0, schema.minItems - 1); })]);
      if (schema.maxItems !== undefined) out.push([`${here2}: maxItems`, (ex) => setAt(ex, at, (o, k) => { o[k] = Array(schema.maxItems + 1).fill(o[k][0]); })]);
      if (schema.items) out.push(...bodyViolations(schema.items, [...at, 0]));
      break;
    case 'object':
      if (at.length) put(`${here2}: type`, 'x');
      for (const k of schema.required ?? []) {
        out.push([`${[...at, k].join('.')}: required`, (ex) => at.length ? setAt(ex, [...at, k], (o, kk) => { delete o[kk]; }) : (({ [k]: _, ...rest }) => rest)(ex)]);
      }
      if (schema.additionalProperties === false) {
        out.push([`${here2}: additionalProperties`, (ex) => at.length ? setAt(ex, [...at, 'unexpectedKey'], (o, kk) => { o[kk] = 1; }) : { ...ex, unexpectedKey: 1 }]);
      }
      for (const [k, s] of Object.entries(schema.properties ?? {})) out.push(...bodyViolations(s, [...at, k]));
      break;
    default:
  }
  return out;
}

// [label, mutate(example) -> body] that sit exactly on a documented limit
// (length, value, item count): the server must accept them, so a document
// looser or stricter than the server fails one side or the other.
function bodyBoundaries(schema, at = []) {
  const out = [];
  const put = (label, value) => out.push([label, (ex) => setAt(ex, at, (o, k) => { o[k] = value; })]);
  const label = at.join('.');
  if (schema.enum || !at.length) {
    /* an allowed value skips the rules */
  } else if (schema.type === 'string' && !schema.pattern && !schema.format) {
    if (schema.minLength !== undefined) put(`${label}: minLength`, 'x'.repeat(schema.minLength));
    if (schema.maxLength !== undefined) put(`${label}: maxLength`, 'x'.repeat(schema.maxLength));
  } else if (schema.type === 'integer' || schema.type === 'number') {
    if (schema.minimum !== undefined) put(`${label}: minimum`, schema.minimum);
    if (schema.maximum !== undefined) put(`${label}: maximum`, schema.maximum);
  } else if (schema.type === 'array') {
    if (schema.minItems > 0) out.push([`${label}: minItems`, (ex) => setAt(ex, at, (o, k) => { o[k] = Array(schema.minItems).fill(o[k][0]); })]);
    if (schema.maxItems !== undefined) out.push([`${label}: maxItems`, (ex) => setAt(ex, at, (o, k) => { o[k] = Array(schema.maxItems).fill(o[k][0]); })]);
    if (schema.items) out.push(...bodyBoundaries(schema.items, [...at, 0]));
  }
  if (schema.type === 'object') for (const [k, s] of Object.entries(schema.properties ?? {})) out.push(...bodyBoundaries(s, [...at, k]));
  return out;
}

function paramValue(p) {
  if (p.example !== undefined) return String(p.example);
  const s = p.schema ?? {};
  if (s.enum) return String(s.enum[0]);
  if (s.type === 'integer' || s.type === 'number') return String(s.minimum ?? 1);
  if (s.type === 'boolean') return 'true';
  return 'example';
}

// [label, params] where params = {name: value|undefined} break one rule.
function paramViolations(params) {
  const out = [];
  for (const p of params) {
    const s = p.schema ?? {};
    if (p.required && p.in === 'query') out.push([`${p.name}: required`, { [p.name]: undefined }]);
    if (s.enum) out.push([`${p.name}: enum`, { [p.name]: 'not-in-the-list' }]);
    if (s.type === 'integer' || s.type === 'number') {
      out.push([`${p.name}: type`, { [p.name]: 'abc' }]);
      if (s.minimum !== undefined) out.push([`${p.name}: minimum`, { [p.name]: String(s.minimum - 1) }]);
      if (s.maximum !== undefined) out.push([`${p.name}: maximum`, { [p.name]: String(s.maximum + 1) }]);
    }
    if (s.type === 'boolean') out.push([`${p.name}: type`, { [p.name]: 'maybe' }]);
  }
  return out;
}

function url(p, params, override = {}) {
  let u = p;
  const qs = new URLSearchParams();
  for (const prm of params) {
    const v = prm.name in override ? override[prm.name] : paramValue(prm);
    if (prm.in === 'path') u = u.replace(`{${prm.name}}`, encodeURIComponent(v ?? ''));
    else if (v !== undefined) qs.set(prm.name, v);
  }
  const q = qs.toString();
  return q ? `${u}?${q}` : u;
}

async function proveAgainstServer(name, login) {
  const { dir, doc } = app(name);
  const srv = await startServer(dir, { workers: 1 });
  let accepted = 0;
  let refused = 0;
  try {
    // login gives the session token, or {token, paths}: path parameter
    // values per path (a record that exists, for handlers that answer 404
    // before they check the body).
    const got = await login(srv);
    const token = typeof got === 'string' ? got : got.token;
    const pathValues = (typeof got === 'string' ? null : got.paths) ?? {};
    for (const { path: p, method, op } of operations(doc)) {
      const params = (op.parameters ?? []).map((x) =>
        x.in === 'path' && pathValues[p]?.[x.name] !== undefined ? { ...x, example: pathValues[p][x.name] } : x,
      );
      // A body the handler checks itself (config.validates) comes after the
      // handler's own answers: its example may get a 401 (wrong password) or
      // a 409; never a 400 or a 5xx.
      const byHandler = !!op.requestBody?.['x-kiln-checked-by-handler'];
      const media = op.requestBody?.content['application/json'];
      const hasBody = !!media?.example;
      if (!hasBody && !params.some((x) => x.schema && Object.keys(x.schema).length > 1)) continue;
      const headers = { 'content-type': 'application/json' };
      if (op.security?.length) headers.authorization = `Bearer ${token}`;
      const send = (u, body) => srv.fetch(u, { method: method.toUpperCase(), headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const good = hasBody ? media.example : undefined;
      const ok = await send(url(p, params), good);
      const okText = await ok.text();
      if (byHandler) assert.ok(ok.status !== 400 && ok.status < 500, `${method} ${p} with its example: ${ok.status} ${okText}`);
      else assert.ok(ok.status >= 200 && ok.status < 300, `${method} ${p} with its example: ${ok.status} ${okText}`);
      accepted++;
      for (const [label, f] of hasBody ? bodyBoundaries(media.schema) : []) {
        const r = await send(url(p, params), f(good));
        const text = await r.text();
        // Past validation: the handler may still say no for its own reasons
        // (the blog's signup: 409, the email is taken by the example).
        assert.ok(r.status !== 400 && r.status < 500, `${method.toUpperCase()} ${p}, exactly at ${label}: ${r.status} ${text}`);
        accepted++;
      }
      const cases = [
        ...(hasBody ? bodyViolations(media.schema).map(([l, f]) => [l, url(p, params), f(good)]) : []),
        ...paramViolations(params).map(([l, o]) => [l, url(p, params, o), good]),
      ];
      for (const [label, u, body] of cases) {
        const r = await send(u, body);
        const text = await r.text();
        assert.equal(r.status, 400, `${method.toUpperCase()} ${p}, breaking ${label}: ${r.status} ${text} (sent ${u} ${JSON.stringify(body)})`);
        assert.equal(typeof JSON.parse(text).error, 'string', `${label}: not Kiln's error shape`);
        refused++;
      }
    }
  } finally {
    await srv.stop();
  }
  return { accepted, refused };
}

test('fixture: each body example is accepted; each documented constraint, broken, is refused with 400', { skip: skipReason ?? false, timeout: 600_000 }, async () => {
  const { accepted, refused } = await proveAgainstServer('fixture', async (srv) => {
    const r = await srv.fetch('/api/login', { method: 'POST' });
    return (await r.json()).token;
  });
  assert.ok(accepted >= 15, `only ${accepted} examples and limits sent`);
  assert.ok(refused >= 40, `only ${refused} broken constraints sent`);
});

test('blog: each body example is accepted; each documented constraint, broken, is refused with 400', { skip: skipReason ?? false, timeout: 600_000 }, async () => {
  const { accepted, refused } = await proveAgainstServer('blog', async (srv) => {
    const creds = { email: 'openapi@example.com', password: 'correct horse battery' };
    const post = (p, b) => srv.fetch(p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
    assert.equal((await post('/api/auth/signup', creds)).status, 201);
    const token = (await (await post('/api/auth/login', creds)).json()).token;
    // Records for the routes that answer 404 before checking their body.
    const created = await post('/api/posts', { title: 'For the document', content: 'Its PUT body is checked by the handler' });
    assert.equal(created.status, 201);
    const user = await srv.fetch('/api/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'Doc User', email: 'doc-user@example.com' }),
    });
    assert.equal(user.status, 201, await user.clone().text());
    return {
      token,
      paths: { '/api/posts/{id}': { id: (await created.json()).id }, '/api/users/{id}': { id: (await user.json()).id } },
    };
  });
  assert.ok(accepted >= 6, `only ${accepted} examples sent`);
  assert.ok(refused >= 14, `only ${refused} broken constraints sent`);
});

// ---------------------------------------------------------------------------
// Serving it; checking responses against declarations in kiln dev

test('kiln start serves /_kiln/openapi.json only with KILN_OPENAPI=1', { skip: skipReason ?? false, timeout: 600_000 }, async () => {
  const { dir, doc } = app('fixture');
  const off = await startServer(dir, { workers: 1 });
  try {
    assert.equal((await off.fetch('/_kiln/openapi.json')).status, 404);
  } finally {
    await off.stop();
  }
  const on = await startServer(dir, { workers: 1, env: { KILN_OPENAPI: '1' } });
  try {
    const r = await on.fetch('/_kiln/openapi.json');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(await r.json(), doc);
    const p = await on.fetch('/_kiln/openapi.json', { method: 'POST' });
    assert.equal(p.status, 405);
    assert.equal(p.headers.get('allow'), 'GET, HEAD');
  } finally {
    await on.stop();
  }
});

// `kiln dev` on a fresh copy of an app; out() is its terminal so far.
async function startDev(rel) {
  const dir = copyApp(rel);
  const devDir = `${dir}-dev`;
  fs.renameSync(dir, devDir);
  const port = await freePort();
  const child = spawn(KILN, ['dev', devDir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const stop = async () => {
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  };
  try {
    await waitForPort(port, { timeoutMs: 120_000, isDead: () => child.exitCode !== null });
  } catch (e) {
    await stop();
    throw new Error(`${e.message}\n${out}`);
  }
  return { devDir, port, out: () => out, stop, get: (p, init) => fetch(`http://127.0.0.1:${port}${p}`, init) };
}

// The status a WebSocket handshake to path gets (the socket then closed).
function upgradeStatus(port, p) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: p, headers: {
      connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve(res.statusCode); });
    req.on('response', (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to the upgrade of ${p}`)));
    req.end();
  });
}

test('kiln dev: the declared responses of the blog hold for real traffic (no mismatch reported)', { skip: skipReason ?? false, timeout: 600_000 }, async () => {
  const dev = await startDev('examples/blog');
  try {
    const json = (method, body, token) => ({ method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: body && JSON.stringify(body) });
    const creds = { email: 'dev@example.com', password: 'correct horse battery' };
    assert.equal((await dev.get('/api/auth/signup', json('POST', creds))).status, 201);
    assert.equal((await dev.get('/api/auth/signup', json('POST', creds))).status, 409);
    assert.equal((await dev.get('/api/auth/login', json('POST', { ...creds, password: 'wrong password' }))).status, 401);
    const { token } = await (await dev.get('/api/auth/login', json('POST', creds))).json();
    assert.equal((await dev.get('/api/auth/session', json('GET', undefined, token))).status, 200);
    assert.equal((await dev.get('/api/auth/session')).status, 401);
    const post = await (await dev.get('/api/posts', json('POST', { title: 't', content: 'c' }))).json();
    for (const [p, init, status] of [
      [`/api/posts/${post.id}`, json('GET'), 200], ['/api/posts/999999', json('GET'), 404],
      [`/api/posts/${post.id}`, json('PUT', { title: 't2', content: 'c2' }), 200], [`/api/posts/${post.id}`, json('PUT', {}), 400],
      [`/api/posts/${post.id}`, json('DELETE'), 204], [`/api/posts/${post.id}`, json('DELETE'), 404],
    ]) assert.equal((await dev.get(p, init)).status, status, `${init.method} ${p}`);
    // the WebSocket routes' declared answers: the upgrade, the event stream, 406
    assert.equal(await upgradeStatus(dev.port, '/api/echo'), 101);
    assert.equal(await upgradeStatus(dev.port, '/api/posts/live'), 101);
    const ctl = new AbortController();
    const sse = await dev.get('/api/posts/live', { headers: { accept: 'text/event-stream' }, signal: ctl.signal });
    assert.equal(sse.status, 200);
    ctl.abort();
    assert.equal((await dev.get('/api/posts/live')).status, 406);
    // the GraphQL endpoint: marked in the document kiln dev serves, and its
    // example request answered
    assertGraphqlEndpoint(await (await dev.get('/_kiln/openapi.json')).json(), '/api/graphql');
    const gq = await dev.get('/api/graphql', json('POST', { query: '{ __typename }' }));
    assert.deepEqual(await gq.json(), { data: { __typename: 'Query' } });
    // the bodies the handlers check themselves, each as declared
    assert.equal((await dev.get('/api/auth/login', json('POST', { email: 'x' }))).status, 400);
    await new Promise((r) => setTimeout(r, 300));
    assert.doesNotMatch(dev.out(), /response does not match its declaration/);
    assert.doesNotMatch(dev.out(), /body check does not match its declaration/);
  } finally {
    await dev.stop();
  }
});

test('kiln dev serves the document and reports responses that break their declaration (file:line)', { skip: skipReason ?? false, timeout: 600_000 }, async () => {
  const dev = await startDev('tests/fixtures/openapiapp');
  const { devDir, get } = dev;
  try {
    const served = await (await get('/_kiln/openapi.json')).json();
    const { doc } = app('fixture');
    assert.deepEqual(Object.keys(served.paths), Object.keys(doc.paths));
    for (const { path: p, method, op } of operations(doc)) {
      assert.deepEqual(served.paths[p][method].requestBody, op.requestBody, `${method} ${p}: body differs between dev and build`);
      assert.deepEqual(served.paths[p][method].parameters, op.parameters, `${method} ${p}: parameters differ`);
    }
    // Responses that keep their declaration: no report.
    assert.equal((await get('/api/items?page=1')).status, 200);
    assert.equal((await get('/api/items/500')).status, 404);       // declared 404, Kiln's shape
    assert.equal((await get('/api/items/abc')).status, 400);       // Kiln's own 400: undeclared, error shape
    // One that does not.
    const src = fs.readFileSync(path.join(devDir, 'pages/api/wrong.c'), 'utf8').split('\n');
    const getLine = src.findIndex((l) => l.includes('[KILN_GET] = KILN_RESPONSES(KILN_RESPONSE(200')) + 1;
    assert.equal((await get('/api/wrong')).status, 200, 'the response goes out unchanged');
    assert.equal((await get('/api/wrong', { method: 'POST' })).status, 202);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !/status 202 is not declared/.test(dev.out())) await new Promise((r) => setTimeout(r, 50));
    const out = dev.out();
    // A body checked by the handler with a schema its config does not declare.
    assert.equal((await get('/api/wrong', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"id":1,"name":"n"}' })).status, 200);
    const bodyDeadline = Date.now() + 10_000;
    while (Date.now() < bodyDeadline && !/body check does not match/.test(dev.out())) await new Promise((r) => setTimeout(r, 50));
    const bodyReports = dev.out().split('\n').filter((l) => l.includes('body check does not match its declaration'));
    assert.equal(bodyReports.length, 1, `body reports:\n${dev.out()}`);
    assert.match(bodyReports[0], /"file":"pages\/api\/wrong\.c","line":1,"route":"\/api\/wrong","method":"PUT","problem":"kiln_validate\(\) checked the body, but config.validates declares no schema for this method"/);
    const reports = out.split('\n').filter((l) => l.includes('response does not match its declaration'));
    assert.equal(reports.length, 2, `reports:\n${out}`);
    assert.match(reports[0], new RegExp(`"file":"pages/api/wrong\\.c","line":${getLine},`));
    assert.match(reports[0], /"method":"GET","status":200,"problem":"\\"id\\" must be a number"/);
    assert.match(reports[1], /"file":"pages\/api\/wrong\.c","line":1,.*"status":202,"problem":"status 202 is not declared for this method"/);
  } finally {
    await dev.stop();
  }
});

test('a broken response declaration stops kiln start and kiln openapi, naming the file', { skip: skipReason ?? false, timeout: 600_000 }, async () => {
  const dir = path.join(tmp, 'broken');
  fs.mkdirSync(path.join(dir, 'pages/api'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'pages/api/bad.c'), `#include <kiln.h>
const kiln_config config = { .responses = { [KILN_GET] = KILN_RESPONSES(
    KILN_RESPONSE(200, .items = KILN_ITEMS(KILN_STRING(NULL, KILN_MIN(10), KILN_MAX(8))))) } };
void GET(kiln_req *req, kiln_res *res) { kiln_json(res, 200, "[]"); }
`);
  const doc = spawnSync(KILN, ['openapi', dir], { encoding: 'utf8', timeout: 120_000 });
  assert.notEqual(doc.status, 0);
  assert.match(doc.stderr, /pages\/api\/bad\.c: broken response schema \(status 200\): .*min \(10\) is greater than max \(8\)/);
  assert.equal(doc.stdout, '');
  const port = await freePort();
  const start = spawnSync(KILN, ['start', dir, '--port', String(port), '--workers', '1'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(start.status, 1);
  assert.match(start.stderr, /pages\/api\/bad\.c: broken response schema \(status 200\): .*min \(10\) is greater than max \(8\)/);
  // kiln dev refuses it as it refuses a broken request schema: every request
  // answers 500 with the message until it is fixed.
  const dev = await startDev(dir);
  try {
    const r = await dev.get('/api/bad');
    assert.equal(r.status, 500);
    assert.match(JSON.stringify(await r.json()), /pages\/api\/bad\.c: broken response schema \(status 200\)/);
  } finally {
    await dev.stop();
  }
});
