// echo.test.mjs -- WebSocket in a route, proven with the `ws` npm client and
// raw frames against examples/blog's GET /api/echo (straight-line handler)
// and the tests/fixtures/wsapp routes (callbacks, limits, middleware,
// channels, heartbeat, back-pressure). permessage-deflate on and off.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { startApp } from '../lib/server.mjs';
import { copyApp } from '../lib/db.mjs';
import { installClients, openRaw, frame, closePayload } from './lib.mjs';

const skip = installClients();
let WebSocket, blog, app, blogCopy, appCopy;

before(async () => {
  if (skip) return;
  WebSocket = (await import('./node_modules/ws/index.js')).default;
  blogCopy = copyApp('examples/blog');
  appCopy = copyApp('tests/fixtures/wsapp');
  blog = await startApp(blogCopy.dir, { workers: 1 });
  app = await startApp(appCopy.dir, { workers: 1 });
});
after(async () => {
  await blog?.stop();
  await app?.stop();
  blogCopy?.remove();
  appCopy?.remove();
});

// Opens a ws client; resolves once open. Messages queue in c.inbox.
function connect(url, opts = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts.protocols ?? [], { perMessageDeflate: opts.deflate ?? false, maxPayload: 64 << 20 });
    const c = { ws, inbox: [], waiters: [], closed: null };
    ws.on('message', (data, isBinary) => {
      c.inbox.push({ data: Buffer.from(data), isBinary });
      for (const w of c.waiters.splice(0)) w();
    });
    ws.on('close', (code, reason) => {
      c.closed = { code, reason: reason.toString() };
      for (const w of c.waiters.splice(0)) w();
    });
    ws.on('open', () => resolve(c));
    ws.on('error', (e) => { if (ws.readyState === WebSocket.CONNECTING) reject(e); });
    ws.on('unexpected-response', (req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
  });
}
function next(c, ms = 5000) {
  return new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error('no message in time')), ms);
    const check = () => {
      if (c.inbox.length) { clearTimeout(t); ok(c.inbox.shift()); return; }
      if (c.closed) { clearTimeout(t); fail(new Error(`closed ${c.closed.code} before a message`)); return; }
      c.waiters.push(check);
    };
    check();
  });
}
function closed(c, ms = 5000) {
  return new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error('not closed in time')), ms);
    const check = () => { if (c.closed) { clearTimeout(t); ok(c.closed); } else c.waiters.push(check); };
    check();
  });
}
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

for (const deflate of [false, true]) {
  const label = deflate ? 'permessage-deflate on' : 'permessage-deflate off';

  test(`ws client against /api/echo (${label}): types, fragments, sizes, ping, close`, async (t) => {
    if (skip) return t.skip(skip);
    const url = `ws://127.0.0.1:${blog.port}/api/echo`;
    const c = await connect(url, { deflate });
    assert.equal(c.ws.extensions.includes('permessage-deflate'), deflate, `extensions: "${c.ws.extensions}"`);

    c.ws.send('hello');
    let m = await next(c);
    assert.equal(m.isBinary, false);
    assert.equal(m.data.toString(), 'hello');

    c.ws.send(Buffer.from([0, 1, 2, 255]), { binary: true });
    m = await next(c);
    assert.equal(m.isBinary, true);
    assert.deepEqual([...m.data], [0, 1, 2, 255]);

    c.ws.send('');
    m = await next(c);
    assert.equal(m.isBinary, false);
    assert.equal(m.data.length, 0);

    const uni = 'κόσμε 😀 — ünïcödé';
    c.ws.send(uni);
    assert.equal((await next(c)).data.toString(), uni);

    // Fragmentation: three frames make one message.
    c.ws.send('Hel', { fin: false });
    c.ws.send('l', { fin: false });
    c.ws.send('o', { fin: true });
    m = await next(c);
    assert.equal(m.data.toString(), 'Hello');

    // Exactly the 1 MiB limit comes back intact (random: deflate cannot help).
    const big = crypto.randomBytes(1 << 20);
    c.ws.send(big, { binary: true });
    m = await next(c, 20_000);
    assert.equal(m.isBinary, true);
    assert.equal(m.data.length, big.length);
    assert.equal(sha(m.data), sha(big));

    // A compressible large text too.
    const text = 'abcdefghij'.repeat(50_000);
    c.ws.send(text);
    assert.equal((await next(c, 20_000)).data.toString(), text);

    // Ping is answered with the same payload.
    const pong = new Promise((ok) => c.ws.once('pong', ok));
    c.ws.ping('are you there');
    assert.equal((await pong).toString(), 'are you there');

    // Close code and reason are echoed.
    c.ws.close(4001, 'bye now');
    const cl = await closed(c);
    assert.equal(cl.code, 4001);
    assert.equal(cl.reason, 'bye now');
  });

  test(`a message over 1 MiB is closed with 1009 (${label})`, async (t) => {
    if (skip) return t.skip(skip);
    const c = await connect(`ws://127.0.0.1:${blog.port}/api/echo`, { deflate });
    c.ws.send(Buffer.alloc((1 << 20) + 1, 7), { binary: true });
    const cl = await closed(c, 10_000);
    assert.equal(cl.code, 1009);
  });
}

test('raw frames: permessage-deflate really compresses (RSV1), and inflated input is echoed', async (t) => {
  if (skip) return t.skip(skip);
  const c = await openRaw(blog.port, '/api/echo', { extensions: 'permessage-deflate; client_max_window_bits' });
  assert.equal(c.status, 101);
  assert.equal(c.headers['sec-websocket-extensions'], 'permessage-deflate; server_no_context_takeover; client_no_context_takeover');
  assert.equal(c.headers['sec-websocket-accept'], crypto.createHash('sha1').update(c.key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64'));
  const text = 'compress me '.repeat(1000);
  const z = zlib.deflateRawSync(Buffer.from(text), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.deepEqual([...z.subarray(-4)], [0, 0, 255, 255]);
  c.send(frame(1, z.subarray(0, -4), { rsv: 4 }));
  const f = await c.waitFor((x) => x.opcode === 1);
  assert.equal(f.rsv, 4, 'the echo is compressed');
  assert.ok(f.payload.length < text.length / 10, `compressed to ${f.payload.length}`);
  const back = zlib.inflateRawSync(Buffer.concat([f.payload, Buffer.from([0, 0, 255, 255])]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  assert.equal(back.toString(), text);
  // server_max_window_bits=10 is honoured and echoed; 8 is declined.
  const c10 = await openRaw(blog.port, '/api/echo', { extensions: 'permessage-deflate; server_max_window_bits=10' });
  assert.match(c10.headers['sec-websocket-extensions'], /server_max_window_bits=10/);
  c10.send(frame(1, Buffer.from(text)));
  const f10 = await c10.waitFor((x) => x.opcode === 1);
  assert.equal(zlib.inflateRawSync(Buffer.concat([f10.payload, Buffer.from([0, 0, 255, 255])]), { windowBits: 10, finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString(), text);
  const c8 = await openRaw(blog.port, '/api/echo', { extensions: 'permessage-deflate; server_max_window_bits=8' });
  assert.equal(c8.headers['sec-websocket-extensions'], undefined);
  for (const x of [c, c10, c8]) x.close();
});

test('raw frames: bad UTF-8 is 1007, unmasked is 1002, bytes sent with the handshake are read', async (t) => {
  if (skip) return t.skip(skip);
  const a = await openRaw(blog.port, '/api/echo');
  a.send(frame(1, Buffer.from([0xc0, 0xaf])));
  assert.equal((await a.waitFor((f) => f.opcode === 8)).code, 1007);
  assert.ok(await a.waitEnd(5000), 'server closed the connection');
  const b = await openRaw(blog.port, '/api/echo');
  b.send(frame(1, Buffer.from('x'), { mask: false }));
  assert.equal((await b.waitFor((f) => f.opcode === 8)).code, 1002);
  assert.ok(await b.waitEnd(5000));
  // A client that sends its first frames in the same packet as the request.
  const early = await openRaw(blog.port, '/api/echo', { early: Buffer.concat([frame(1, Buffer.from('first')), frame(2, Buffer.from([1, 2]))]) });
  assert.equal(early.status, 101);
  assert.equal((await early.waitFor((f) => f.opcode === 1)).payload.toString(), 'first');
  assert.deepEqual([...(await early.waitFor((f) => f.opcode === 2)).payload], [1, 2]);
  early.close();
});

test('handshake refused with plain HTTP: 400 for a plain GET, 426 for another version', async (t) => {
  if (skip) return t.skip(skip);
  const r = await fetch(`http://127.0.0.1:${blog.port}/api/echo`);
  assert.equal(r.status, 400);
  assert.match((await r.json()).error, /WebSocket/);
  const v8 = await openRaw(blog.port, '/api/echo', { version: '8' });
  assert.equal(v8.status, 426);
  assert.equal(v8.headers['sec-websocket-version'], '13');
  v8.close();
});

test('middleware runs before the upgrade: 401 without a session, never a 101', async (t) => {
  if (skip) return t.skip(skip);
  const raw = await openRaw(app.port, '/api/private');
  assert.equal(raw.status, 401);
  assert.equal(raw.headers.upgrade, undefined);
  raw.close();
  await assert.rejects(connect(`ws://127.0.0.1:${app.port}/api/private`), (e) => e.status === 401);
});

test('callbacks: echo with no coroutine, subprotocol, a per-route limit of 1000 bytes', async (t) => {
  if (skip) return t.skip(skip);
  for (const deflate of [false, true]) {
    const c = await connect(`ws://127.0.0.1:${app.port}/api/cb`, { deflate });
    c.ws.send('via callback');
    assert.equal((await next(c)).data.toString(), 'via callback');
    c.ws.send(Buffer.from([9, 8, 7]), { binary: true });
    const m = await next(c);
    assert.equal(m.isBinary, true);
    c.ws.close(1000);
    assert.equal((await closed(c)).code, 1000);
  }
  await app.waitForLog((l) => /ws closed 1000/.test(l.msg ?? ''), 5000);
  const s = await connect(`ws://127.0.0.1:${app.port}/api/small`, { protocols: ['x', 'chat'] });
  assert.equal(s.ws.protocol, 'chat');
  s.ws.send('a'.repeat(1000));
  assert.equal((await next(s)).data.length, 1000);
  s.ws.send('a'.repeat(1001));
  assert.equal((await closed(s)).code, 1009);
});

test('kiln_ws_subscribe: published events arrive as {"event","data"} text messages', async (t) => {
  if (skip) return t.skip(skip);
  const c = await connect(`ws://127.0.0.1:${app.port}/api/sub?channel=news`);
  assert.equal((await next(c)).data.toString(), 'subscribed');
  for (let i = 1; i <= 3; i++) {
    const r = await fetch(`http://127.0.0.1:${app.port}/api/publish`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'news', event: 'post.created', data: { id: i, title: `t${i}` } }),
    });
    assert.equal(r.status, 204);
  }
  for (let i = 1; i <= 3; i++) {
    const m = await next(c);
    assert.equal(m.isBinary, false);
    assert.deepEqual(JSON.parse(m.data.toString()), { event: 'post.created', data: { id: i, title: `t${i}` } });
  }
  c.ws.close();
  await closed(c);
});

test('heartbeat: a peer that never answers pings is dropped; one that does stays', async (t) => {
  if (skip) return t.skip(skip);
  const dead = await openRaw(app.port, '/api/cb?ping=200');
  const t0 = Date.now();
  await dead.waitFor((f) => f.opcode === 9, 3000);
  assert.ok(await dead.waitEnd(3000), 'a silent peer is dropped');
  const took = Date.now() - t0;
  assert.ok(took >= 300 && took < 3000, `dropped after ${took} ms`);
  const live = await connect(`ws://127.0.0.1:${app.port}/api/cb?ping=200`);   // ws answers pings itself
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(live.closed, null, 'a peer answering pings stays connected');
  live.ws.send('still here');
  assert.equal((await next(live)).data.toString(), 'still here');
  live.ws.close();
});

test('back-pressure: a reader that never reads is closed with 1008 (logged), or messages dropped (logged)', async (t) => {
  if (skip) return t.skip(skip);
  const c = await openRaw(app.port, '/api/flood');
  c.sock.pause();
  const log = await app.waitForLog((l) => /send queue full: closing 1008/.test(l.msg ?? ''), 20_000);
  assert.ok(log.limit === 262144);
  c.sock.resume();
  assert.equal((await c.waitFor((f) => f.opcode === 8, 20_000)).code, 1008);
  c.close();
  const d = await openRaw(app.port, '/api/flood?drop=1');
  d.sock.pause();
  await app.waitForLog((l) => /message dropped/.test(l.msg ?? ''), 20_000);
  await app.waitForLog((l) => /flood done, dropped 3/.test(l.msg ?? ''), 20_000);
  d.close();
});

test('SIGHUP (new workers): open WebSockets get 1001 Going Away and the old worker exits at once', async (t) => {
  if (skip) return t.skip(skip);
  const a = await connect(`ws://127.0.0.1:${app.port}/api/cb`);            // callbacks, no coroutine
  const b = await connect(`ws://127.0.0.1:${app.port}/api/echo`);          // straight-line handler
  const t0 = Date.now();
  process.kill(app.proc.pid, 'SIGHUP');
  const [ca, cb] = await Promise.all([closed(a, 5000), closed(b, 5000)]);
  assert.deepEqual([ca.code, cb.code], [1001, 1001]);
  assert.equal(ca.reason, 'server restarting');
  assert.ok(Date.now() - t0 < 3000, `closed after ${Date.now() - t0} ms, not at the shutdown deadline`);
  // The new workers serve.
  let c;
  for (let i = 0; i < 50 && !c; i++) c = await connect(`ws://127.0.0.1:${app.port}/api/cb`).catch(() => null);
  c.ws.send('new worker');
  assert.equal((await next(c)).data.toString(), 'new worker');
  c.ws.close();
});
