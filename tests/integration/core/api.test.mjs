// api.test.mjs -- the handler API seen from outside: request helpers (query,
// headers, cookies, form, text, JSON bodies), response helpers (status,
// headers, content types, redirects, cookies, the JSON builder), misuse
// (no response, two responses, header injection), request ids in responses
// and logs, body limits, Expect: 100-continue, chunked and raw bodies, and a
// few cases through the real curl binary.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rawOne, rawExchange, parseResponses } from '../lib/server.mjs';
import {
  startFixture,
  request,
  openSocket,
  curl,
  parseCurlInclude,
  fnv1a,
  logsFor,
  sleep,
} from '../lib/extra.mjs';

let srv;
before(async () => {
  srv = await startFixture({ workers: 1 });
});
after(async () => {
  await srv?.stop();
});

const JSON_CT = 'application/json; charset=utf-8';
const MB = 1024 * 1024;
const call = (p, opts) => request(srv.port, p, opts);
const post = (p, body, headers = {}) => call(p, { method: 'POST', body, headers });

// ---- request helpers -------------------------------------------------------

test('query: every value of a repeated key, decoded', async () => {
  const r = await call('/api/echo?a=1&a=2&b=x%20y&c=&d&e=a+b&f=%E2%9C%93&a=3&g=%zz');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.query, {
    a: ['1', '2', '3'],
    b: ['x y'],
    c: [''],
    d: [''],
    e: ['a b'],
    f: ['✓'],
    g: ['%zz'],
  });
  assert.equal(r.json.queryString, 'a=1&a=2&b=x%20y&c=&d&e=a+b&f=%E2%9C%93&a=3&g=%zz');
  assert.equal(r.json.path, '/api/echo');
  const none = await call('/api/echo');
  assert.equal(none.json.queryString, '');
  assert.deepEqual(none.json.query, {});
});

test('headers: case-insensitive names, the first of repeated fields', async () => {
  const { response } = await rawOne(
    srv.port,
    'GET /api/echo HTTP/1.1\r\nHOST: h.example\r\nX-TeSt: first\r\nx-test: second\r\n' +
      'User-Agent:   padded value  \r\nConnection: close\r\n\r\n',
  );
  assert.equal(response.status, 200);
  const j = JSON.parse(response.text);
  assert.equal(j.headers.host, 'h.example');
  assert.equal(j.headers['x-test'], 'first');
  assert.equal(j.headers['user-agent'], 'padded value');
  assert.equal(j.headers['content-type'], null);
  assert.equal(j.remoteAddr, '127.0.0.1');
});

test('cookies: read by name, quotes removed, absent is null', async () => {
  const r = await call('/api/cookies', { headers: { Cookie: 'theme="dark"; session=s1;other=1' } });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { session: 's1', theme: 'dark', quoted: null, missing: null });
  const none = await call('/api/cookies');
  assert.deepEqual(none.json, { session: null, theme: null, quoted: null, missing: null });
});

test('form: urlencoded fields, decoded', async () => {
  const body = 'name=Ada+Lovelace&email=ada%40example.com&note=a%26b%3Dc&name=second';
  const r = await post('/api/form', body, { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, {
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    note: 'a&b=c',
    missing: null,
    bodyLength: body.length,
  });
  // Not a form content type: no fields.
  const other = await post('/api/form', body, { 'Content-Type': 'text/plain' });
  assert.equal(other.json.name, null);
  // Like Next.js req.body, a form body is also req->json: an object of strings.
  const e = await post('/api/echo', 'a=1&b=x+y&c=%26', { 'Content-Type': 'application/x-www-form-urlencoded' });
  assert.deepEqual(e.json.json, { a: '1', b: 'x y', c: '&' });
});

test('text: a text/plain body comes back byte for byte', async () => {
  const body = Buffer.from('héllo\nworld\0with a NUL\r\n', 'utf8');
  const r = await post('/api/text', body, { 'Content-Type': 'text/plain' });
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(r.headers['x-body-length'], String(body.length));
  assert.ok(r.body.equals(body));
});

test('JSON body: parsed into req->json and sent back with %j', async () => {
  const doc = { a: 1, b: [true, null, false], s: 'é "q" \\', n: -1.5e-3, o: { deep: [[]] } };
  const r = await post('/api/echo', JSON.stringify(doc), { 'Content-Type': 'application/json' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.json, doc);
  assert.equal(r.json.bodyLength, Buffer.byteLength(JSON.stringify(doc)));
  // +json media types and parameters count as JSON.
  const v = await post('/api/echo', '[1,2]', { 'Content-Type': 'application/vnd.api+json; charset=utf-8' });
  assert.deepEqual(v.json.json, [1, 2]);
  // Another content type: not parsed.
  const t = await post('/api/echo', '[1,2]', { 'Content-Type': 'text/plain' });
  assert.equal(t.json.json, null);
  assert.equal(t.json.bodyLength, 5);
});

test('invalid JSON: 400 JSON naming the position; the handler does not run', async () => {
  const r = await post('/api/echo', '{"a": 1,}', { 'Content-Type': 'application/json' });
  assert.equal(r.status, 400);
  assert.equal(r.headers['content-type'], JSON_CT);
  assert.equal(r.json.error, 'Invalid JSON');
  assert.match(r.json.detail, /position \d+/);
  assert.ok(r.headers['x-request-id']);
  // The connection is still usable after a 400 from the handler layer.
  const ok = await post('/api/echo', '{}', { 'Content-Type': 'application/json' });
  assert.deepEqual(ok.json.json, {});
});

test('allow_invalid_json: an invalid body reaches the handler with json NULL', async () => {
  const bad = await post('/api/lenient', '{bad', { 'Content-Type': 'application/json' });
  assert.equal(bad.status, 200);
  assert.deepEqual(bad.json, { json: null, valid: false, body: '{bad' });
  const good = await post('/api/lenient', '{"x":[1]}', { 'Content-Type': 'application/json' });
  assert.deepEqual(good.json, { json: { x: [1] }, valid: true, body: '{"x":[1]}' });
});

// ---- response helpers ------------------------------------------------------

test('status and headers: set replaces, append adds, framing stays Kiln\'s', async () => {
  const { response: r } = await rawOne(
    srv.port,
    'GET /api/headers?status=201 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  );
  assert.equal(r.status, 201);
  assert.equal(r.reason, 'Created');
  assert.equal(r.headers['x-one'], 'replaced');
  assert.deepEqual(
    r.rawHeaders.filter(([k]) => k === 'X-Multi').map(([, v]) => v),
    ['a', 'b'],
  );
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.equal(r.headers['content-length'], String(r.body.length));
  assert.equal(r.text, '{"status":201}');
  assert.equal(r.headers['content-type'], JSON_CT);
  assert.match(r.headers.date, /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  assert.equal(r.headers.connection, 'close');

  const teapot = await call('/api/headers?status=418');
  assert.equal(teapot.status, 418);
  assert.deepEqual(teapot.json, { status: 418 });

  const csv = await call('/api/headers?ctype=text%2Fcsv');
  assert.equal(csv.headers['content-type'], 'text/csv');

  const none = await call('/api/headers?status=204');
  assert.equal(none.status, 204);
  assert.equal(none.body.length, 0);
  assert.equal(none.headers['content-length'], undefined);
  assert.equal(none.headers['x-one'], 'replaced');
});

test('JSON responses: content type exactly application/json; charset=utf-8', async () => {
  for (const p of ['/api/hello', '/api/builder', '/api/nope', '/api/cookies']) {
    const r = await call(p);
    assert.equal(r.headers['content-type'], JSON_CT, p);
    assert.equal(Number(r.headers['content-length']), r.body.length, p);
  }
});

test('redirect: 307 by default, any status on request', async () => {
  let r = await call('/api/redirect');
  assert.equal(r.status, 307);
  assert.equal(r.headers.location, '/api/hello');
  assert.equal(r.body.length, 0);
  r = await call('/api/redirect?code=308');
  assert.equal(r.status, 308);
  assert.equal(r.headers.location, '/api/hello');
  r = await call('/api/redirect?code=302&to=https%3A%2F%2Fexample.com%2Fx%3Fy%3D1');
  assert.equal(r.status, 302);
  assert.equal(r.headers.location, 'https://example.com/x?y=1');
  // fetch follows it.
  const f = await srv.fetch('/api/redirect');
  assert.equal(f.status, 200);
  assert.deepEqual((await f.json()).message, 'Hello, World!');
});

test('Set-Cookie: every attribute, one header per cookie, bad ones refused', async () => {
  const { response: r } = await rawOne(srv.port, 'GET /api/cookies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(r.status, 200);
  assert.deepEqual(r.headers['set-cookie'], [
    'session=abc123; Max-Age=3600; Domain=example.com; Path=/; Secure; HttpOnly; SameSite=Strict',
    'plain=v1',
    'gone=; Max-Age=0; Path=/api',
    'lax=x; SameSite=Lax',
  ]);
  assert.ok(!r.rawHeaders.some(([, v]) => v.startsWith('bad=')));
});

test('JSON builder: an array of objects', async () => {
  let r = await call('/api/builder?n=4');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, [
    { id: 0, title: 'post "quoted"', even: true },
    { id: 1, title: null, even: false, ratio: 0.5, nil: null },
    { id: 2, title: 'post "quoted"', even: true },
    { id: 3, title: null, even: false, ratio: 0.5, nil: null },
  ]);
  r = await call('/api/builder?n=0');
  assert.equal(r.text, '[]');
  r = await call('/api/builder?n=2000');
  assert.equal(r.json.length, 2000);
  assert.equal(r.json[1999].id, 1999);
});

test('a handler that sends twice: the first response wins, the second is logged', async () => {
  const r = await call('/api/twice');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { first: true });
  const id = r.headers['x-request-id'];
  const line = await srv.waitForLog((l) => l.requestId === id && l.level === 'error');
  assert.match(line.msg, /already sent/);
  assert.equal(line.route, '/api/twice');
});

test('a handler that returns without responding: 500 JSON and an error log', async () => {
  const r = await call('/api/noreply');
  assert.equal(r.status, 500);
  assert.equal(r.headers['content-type'], JSON_CT);
  const id = r.headers['x-request-id'];
  assert.deepEqual(r.json, { error: 'Internal Server Error', requestId: id });
  const line = await srv.waitForLog((l) => l.requestId === id && l.level === 'error');
  assert.match(line.msg, /without sending a response/);
  assert.equal(line.route, '/api/noreply');
  const access = await srv.waitForLog((l) => l.requestId === id && l.msg === 'request');
  assert.equal(access.status, 500);
});

test('header values with CR/LF are refused: nothing injected on the wire', async () => {
  const { data, response: r } = await rawOne(
    srv.port,
    'GET /api/header_inject HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  );
  assert.equal(r.status, 200);
  assert.equal(r.text, '{"ok":true}');
  assert.equal(r.headers['x-good'], 'fine');
  const wire = data.toString('latin1');
  assert.doesNotMatch(wire, /Injected/i);
  assert.doesNotMatch(wire, /X-Evil/i);
  assert.doesNotMatch(wire, /Bad Name/);
  const id = r.headers['x-request-id'];
  await srv.waitForLog((l) => l.requestId === id && l.level === 'error' && /refused/.test(l.msg));
  assert.ok(logsFor(srv, id).filter((l) => /invalid response header refused/.test(l.msg)).length >= 4);

  // A redirect to a location holding CRLF: refused, 500, nothing injected.
  const red = await rawOne(
    srv.port,
    'GET /api/header_inject?redirect=%2Fa%0D%0AInjected:%20yes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
  );
  assert.equal(red.response.status, 500);
  assert.doesNotMatch(red.data.toString('latin1'), /Injected/i);
  assert.equal(red.response.headers.location, undefined);
});

// ---- request ids -----------------------------------------------------------

test('X-Request-Id on every response, unique, and in the log lines', async () => {
  const ids = new Set();
  const check = async (raw, status) => {
    const { response } = await rawOne(srv.port, raw);
    assert.ok(response, raw);
    assert.equal(response.status, status, raw);
    const id = response.headers['x-request-id'];
    assert.match(id, /^[0-9a-f]{16}$/, raw);
    assert.ok(!ids.has(id), 'ids are unique');
    ids.add(id);
    const line = await srv.waitForLog((l) => l.requestId === id);
    assert.equal(line.requestId, id);
    return { id, response };
  };
  const req = (line, extra = '') => `${line}\r\nHost: x\r\n${extra}Connection: close\r\n\r\n`;
  const ok = await check(req('GET /api/hello HTTP/1.1'), 200);
  await check(req('GET /api/nope HTTP/1.1'), 404);
  await check(req('PUT /api/methods HTTP/1.1'), 405);
  await check(req('GET /api/hello/ HTTP/1.1'), 308);
  await check(req('GET /api/noreply HTTP/1.1'), 500);
  await check(req('POST /api/limit HTTP/1.1', 'Content-Length: 5000\r\n'), 413);
  await check('GET /api/hello HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n', 400);
  await check(req('POST /api/echo HTTP/1.1', 'Content-Type: application/json\r\nContent-Length: 1\r\n') + '{', 400);

  // The access log line of a normal request.
  const access = await srv.waitForLog((l) => l.requestId === ok.id && l.msg === 'request');
  assert.equal(access.level, 'info');
  assert.equal(access.method, 'GET');
  assert.equal(access.path, '/api/hello');
  assert.equal(access.status, 200);
  assert.equal(access.route, '/api/hello');
  assert.equal(typeof access.ms, 'number');
  assert.equal(access.worker, 0);
  assert.match(access.ts, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  // The handler sees the same id.
  const e = await call('/api/echo');
  assert.equal(e.json.id, e.headers['x-request-id']);
});

// ---- body limits -----------------------------------------------------------

test('default body limit: 1 MB passes, 1 MB + 1 byte gets 413 JSON', async () => {
  const ok = await post('/api/echo', Buffer.alloc(MB, 0x61), { 'Content-Type': 'application/octet-stream' });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.bodyLength, MB);
  const { response: r } = await rawOne(
    srv.port,
    `POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${MB + 1}\r\n\r\n`,
    { timeoutMs: 3000 },
  );
  assert.equal(r.status, 413);
  assert.equal(r.headers['content-type'], JSON_CT);
  assert.deepEqual(JSON.parse(r.text), { error: 'Payload Too Large', limit: MB });
  assert.equal(r.headers.connection, 'close');
  // The same through fetch, body and all.
  const f = await post('/api/echo', Buffer.alloc(MB + 1, 0x61)).catch((e) => e);
  if (!(f instanceof Error)) assert.equal(f.status, 413);
});

test('chunked body over the default limit: 413', async () => {
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  const pieces = ['POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'];
  for (let i = 0; i < 17; i++) pieces.push(Buffer.concat([Buffer.from('10000\r\n'), chunk, Buffer.from('\r\n')]));
  pieces.push('0\r\n\r\n');
  const ex = await rawExchange(srv.port, pieces, { delayMs: 1, timeoutMs: 5000 });
  const r = parseResponses(ex.data).responses[0];
  assert.equal(r.status, 413);
  assert.deepEqual(JSON.parse(r.text), { error: 'Payload Too Large', limit: MB });
  assert.ok(ex.closed);
});

test('per-route body limit (config.body_limit = 1024)', async () => {
  const ok = await post('/api/limit', Buffer.alloc(1024, 0x63));
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json, { bodyLength: 1024 });
  const over = await rawOne(srv.port, `POST /api/limit HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n${'c'.repeat(1025)}`);
  assert.equal(over.response.status, 413);
  assert.deepEqual(JSON.parse(over.response.text), { error: 'Payload Too Large', limit: 1024 });
  // Chunked: counted as it arrives.
  const ch = await rawOne(
    srv.port,
    'POST /api/limit HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n' + 'd'.repeat(1024) + '\r\n1\r\nd\r\n0\r\n\r\n',
  );
  assert.equal(ch.response.status, 413);
  const chOk = await rawOne(
    srv.port,
    'POST /api/limit HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n200\r\n' +
      'd'.repeat(512) + '\r\n200\r\n' + 'd'.repeat(512) + '\r\n0\r\n\r\n',
  );
  assert.equal(chOk.response.status, 200);
  assert.deepEqual(JSON.parse(chOk.response.text), { bodyLength: 1024 });
});

test('413 with Expect: 100-continue: answered at once, no 100, connection closed', async () => {
  const s = await openSocket(srv.port);
  s.write(`POST /api/limit HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\nExpect: 100-continue\r\n\r\n`);
  await s.waitFor((t) => /\r\n\r\n\{[^}]*\}/.test(t), 2000);
  const got = s.text();
  assert.doesNotMatch(got, /100 Continue/);
  const r = parseResponses(s.data()).responses[0];
  assert.equal(r.status, 413);
  assert.deepEqual(JSON.parse(r.text), { error: 'Payload Too Large', limit: 1024 });
  assert.ok(s.chunks[0].t < 1000, `413 took ${s.chunks[0].t} ms`);
  // The server ends the connection (FIN) without waiting for the body.
  const closedAt = await Promise.race([s.closed, sleep(1500).then(() => null)]);
  s.destroy();
  assert.notEqual(closedAt, null, 'connection left hanging after the 413');
  assert.ok(closedAt < 1500);
});

test('Expect: 100-continue for an accepted body: 100 first, then the answer', async () => {
  const s = await openSocket(srv.port);
  s.write('POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\nExpect: 100-continue\r\n\r\n');
  await s.waitFor((t) => t.includes('\r\n\r\n'), 2000);
  assert.equal(s.text(), 'HTTP/1.1 100 Continue\r\n\r\n');
  s.write('{"late":true}');
  await s.waitFor((t) => /"id":"[0-9a-f]+"\}$/.test(t), 2000);
  const rs = parseResponses(s.data()).responses;
  assert.equal(rs.length, 2);
  assert.equal(rs[0].status, 100);
  assert.equal(rs[1].status, 200);
  assert.deepEqual(JSON.parse(rs[1].text).json, { late: true });
  s.destroy();
});

test('chunked request bodies, with extensions and trailers', async () => {
  const { response: r } = await rawOne(
    srv.port,
    'POST /api/text HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
      '5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n',
  );
  assert.equal(r.status, 200);
  assert.equal(r.text, 'hello 0123456789');
  assert.equal(r.headers['x-body-length'], '16');
});

test('raw_body: kiln_body_read streams the body in small pieces', async () => {
  const body = Buffer.alloc(300 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 8)) & 0xff;
  const r = await post('/api/raw', body, { 'Content-Type': 'application/octet-stream' });
  assert.equal(r.status, 200);
  assert.equal(r.json.length, body.length);
  assert.equal(r.json.fnv1a, fnv1a(body));
  assert.equal(r.json.buffered, 0, 'a raw-body route gets no buffered body');
  assert.ok(r.json.reads >= Math.ceil(body.length / 7));
  // Chunked, in pieces over time, through Expect: 100-continue.
  const parts = ['POST /api/raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n'];
  const data = Buffer.from('The quick brown fox jumps over the lazy dog. '.repeat(50));
  for (let i = 0; i < data.length; i += 333) {
    const c = data.subarray(i, i + 333);
    parts.push(Buffer.concat([Buffer.from(c.length.toString(16) + '\r\n'), c, Buffer.from('\r\n')]));
  }
  parts.push('0\r\n\r\n');
  const ex = await rawExchange(srv.port, parts, { delayMs: 5 });
  const rs = parseResponses(ex.data).responses;
  assert.equal(rs[0].status, 100);
  const j = JSON.parse(rs[1].text);
  assert.equal(j.length, data.length);
  assert.equal(j.fnv1a, fnv1a(data));
  // Empty body.
  const empty = await post('/api/raw', '');
  assert.deepEqual(empty.json, { length: 0, fnv1a: fnv1a(Buffer.alloc(0)), reads: 0, buffered: 0 });
});

test('raw_body: a declared length over the limit gets 413; an unread body is not a request', async () => {
  const over = await rawOne(srv.port, `POST /api/raw HTTP/1.1\r\nHost: x\r\nContent-Length: ${64 * MB + 1}\r\n\r\n`);
  assert.equal(over.response.status, 413);
  assert.deepEqual(JSON.parse(over.response.text), { error: 'Payload Too Large', limit: 64 * MB });
  // The body of a request the handler did not read looks like a request:
  // it must not be run as one (the connection is closed instead).
  const inner = 'GET /api/noreply HTTP/1.1\r\nHost: x\r\n\r\n';
  const ex = await rawExchange(
    srv.port,
    `POST /api/raw?skip=1 HTTP/1.1\r\nHost: x\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`,
    { timeoutMs: 3000 },
  );
  const rs = parseResponses(ex.data).responses;
  assert.equal(rs.length, 1, ex.data.toString());
  assert.equal(rs[0].status, 200);
  assert.deepEqual(JSON.parse(rs[0].text), { skipped: true });
  assert.ok(ex.closed && !ex.timedOut, 'connection closed after the unread body');
});

// ---- curl --------------------------------------------------------------------

test('curl: GET, HEAD, JSON POST, and connection reuse', async () => {
  const url = `http://127.0.0.1:${srv.port}`;
  let c = await curl(['-i', `${url}/api/hello`]);
  assert.equal(c.code, 0, c.stderr);
  let r = parseCurlInclude(c.stdout);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], JSON_CT);
  assert.deepEqual(JSON.parse(r.body), { message: 'Hello, World!', lib: 'hello from lib/util.c' });

  c = await curl(['-I', `${url}/api/methods`]);
  r = parseCurlInclude(c.stdout);
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  assert.equal(r.headers['x-handler'], 'GET');

  c = await curl(['-i', '-X', 'POST', '-H', 'Content-Type: application/json', '--data', '{"k":"v"}', `${url}/api/methods`]);
  r = parseCurlInclude(c.stdout);
  assert.equal(r.status, 201);
  assert.deepEqual(JSON.parse(r.body).body, { k: 'v' });

  // Two URLs in one curl run share one connection (keep-alive).
  c = await curl(['-v', '-o', '/dev/null', '-o', '/dev/null', `${url}/api/hello`, `${url}/api/pid`]);
  assert.equal(c.code, 0);
  assert.match(c.stderr, /Re-using existing connection/);
  assert.equal((c.stderr.match(/< HTTP\/1.1 200 OK/g) || []).length, 2);
});

test('curl: chunked upload and Expect: 100-continue', async () => {
  const url = `http://127.0.0.1:${srv.port}`;
  const text = 'line one\nline two\n'.repeat(500);
  let c = await curl(
    ['-i', '-H', 'Transfer-Encoding: chunked', '-H', 'Content-Type: text/plain', '--data-binary', '@-', `${url}/api/text`],
    { input: text },
  );
  assert.equal(c.code, 0, c.stderr);
  let r = parseCurlInclude(c.stdout);
  assert.equal(r.status, 200);
  assert.equal(r.body, text);

  const file = path.join(os.tmpdir(), `kiln-core-${process.pid}.bin`);
  const data = Buffer.alloc(200 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
  fs.writeFileSync(file, data);
  try {
    c = await curl(['-v', '-i', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, `${url}/api/raw`]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^HTTP\/1.1 100 Continue\r\n/);
    r = parseCurlInclude(c.stdout);
    assert.equal(r.status, 200);
    const j = JSON.parse(r.body);
    assert.equal(j.length, data.length);
    assert.equal(j.fnv1a, fnv1a(data));
    // Over the per-route limit: curl gets the 413 instead of a 100.
    c = await curl(['-i', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, `${url}/api/limit`]);
    r = parseCurlInclude(c.stdout);
    assert.equal(r.status, 413);
    assert.doesNotMatch(c.stdout, /100 Continue/);
    assert.deepEqual(JSON.parse(r.body), { error: 'Payload Too Large', limit: 1024 });
  } finally {
    fs.rmSync(file, { force: true });
  }
});
