// broadcast.test.mjs -- a channel event sent to many WebSockets
// (kiln_ws_subscribe + kiln_publish, tests/fixtures/wsapp /api/sub and
// /api/publish). The event is framed once per permessage-deflate window
// size and the same bytes go to every socket (src/ws/session.c, ws_shared),
// written straight from that frame when nothing is queued (conn_send). What
// must hold: every subscriber, whatever it negotiated, gets every event,
// exactly, in publish order; a compressed frame really is compressed (RSV1)
// and inflates to the text; a subscriber that stops reading is closed with
// 1008 (logged) once its queue passes the limit, and never holds the others
// back.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { startApp } from '../lib/server.mjs';
import { copyApp } from '../lib/db.mjs';
import { installClients, openRaw } from './lib.mjs';

const skip = installClients();
let WebSocket, app, appCopy;

before(async () => {
  if (skip) return;
  WebSocket = (await import('./node_modules/ws/index.js')).default;
  appCopy = copyApp('tests/fixtures/wsapp');
  app = await startApp(appCopy.dir, { workers: 1 });
});
after(async () => {
  await app?.stop();
  appCopy?.remove();
});

// A ws client that collects text messages; resolves once "subscribed" came.
function subscriber(channel, perMessageDeflate) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${app.port}/api/sub?channel=${channel}`, { perMessageDeflate, maxPayload: 64 << 20 });
    const c = { ws, inbox: [], closed: null };
    ws.on('message', (d) => {
      const s = d.toString();
      if (s === 'subscribed') resolve(c);
      else c.inbox.push(s);
    });
    ws.on('close', (code) => { c.closed = code; });
    ws.on('error', reject);
  });
}

async function publish(channel, event, data) {
  const r = await fetch(`http://127.0.0.1:${app.port}/api/publish`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel, event, data }),
  });
  assert.equal(r.status, 204);
}

async function until(pred, ms, what) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('one event to subscribers with and without permessage-deflate (window 15, 10, 9): each gets every event, exactly, in order', async (t) => {
  if (skip) return t.skip(skip);
  const ch = 'mix';
  // Raw sockets see the frames themselves: window 9 compressed, and plain.
  // Subscribers are called newest first: the smallest windows subscribe
  // first, so a frame made for a larger one would reach them if mixed up.
  const rawZ = await openRaw(app.port, `/api/sub?channel=${ch}`, { extensions: 'permessage-deflate; server_max_window_bits=9' });
  assert.match(rawZ.headers['sec-websocket-extensions'] ?? '', /server_max_window_bits=9/);
  const rawPlain = await openRaw(app.port, `/api/sub?channel=${ch}`);
  for (const r of [rawZ, rawPlain]) await r.waitFor((f) => f.opcode === 1, 5000);   // "subscribed"
  const clients = [
    await subscriber(ch, { serverMaxWindowBits: 10 }),
    await subscriber(ch, { serverMaxWindowBits: 10 }),
    await subscriber(ch, false),
    await subscriber(ch, false),
    await subscriber(ch, true),
  ];
  assert.equal(clients[4].ws.extensions.includes('permessage-deflate'), true);

  // Small events (under the 64-byte compression threshold) and large
  // compressible ones, interleaved; each text is what kiln_ws_subscribe sends.
  // A large one repeats a random 1,500-character run: a compressor with a
  // 15-bit window refers back 1,500 bytes, which an inflater with a 9- or
  // 10-bit window refuses, so a frame made for another window size fails.
  const expected = [];
  for (let i = 0; i < 12; i++) {
    const run = crypto.randomBytes(1125).toString('base64');
    const data = i % 2 ? { i } : { i, text: run.repeat(3) + `ab${i}`.repeat(400) };
    await publish(ch, 'fan.test', data);
    expected.push(JSON.stringify({ event: 'fan.test', data }));
  }
  for (const c of clients) await until(() => c.inbox.length >= expected.length, 10_000, 'every event');
  for (const c of clients) assert.deepEqual(c.inbox, expected);

  const texts = (r, inflate) => r.frames.filter((f) => f.opcode === 1).slice(1).map((f) => {
    if (!f.rsv) return f.payload.toString();
    assert.ok(inflate, 'RSV1 only where deflate was agreed');
    // A 9-bit inflater: distances past the agreed window would fail here.
    return zlib.inflateRawSync(Buffer.concat([f.payload, Buffer.from([0, 0, 0xff, 0xff])]),
      { windowBits: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString();
  });
  await until(() => rawZ.frames.length >= expected.length + 1 && rawPlain.frames.length >= expected.length + 1, 10_000, 'raw frames');
  assert.deepEqual(texts(rawZ, true), expected);
  assert.deepEqual(texts(rawPlain, false), expected);
  const zFrames = rawZ.frames.filter((f) => f.opcode === 1).slice(1);
  for (let i = 0; i < expected.length; i++) {
    const big = i % 2 === 0;
    assert.equal(zFrames[i].rsv, big ? 4 : 0, `event ${i}: RSV1 ${big ? 'set (compressed)' : 'clear (small)'}`);
    if (big) assert.ok(zFrames[i].payload.length < expected[i].length * 0.8, 'really compressed');
  }
  assert.ok(rawPlain.frames.every((f) => f.rsv === 0));
  for (const c of clients) c.ws.close();
  rawZ.close();
  rawPlain.close();
});

test('a subscriber that stops reading is closed with 1008 (logged) and never holds the others back', async (t) => {
  if (skip) return t.skip(skip);
  const ch = 'slow';
  const fast = await subscriber(ch, false);
  const slow = await openRaw(app.port, `/api/sub?channel=${ch}`);
  await slow.waitFor((f) => f.opcode === 1, 5000);
  slow.sock.pause();                        // the kernel's buffers fill, then Kiln's queue (1 MiB)
  const pad = 'x'.repeat(400_000);
  const expected = [];
  for (let i = 0; i < 40; i++) {
    await publish(ch, 'big', { i, pad });
    expected.push(i);
  }
  const log = await app.waitForLog((l) => /send queue full: closing 1008/.test(l.msg ?? ''), 20_000);
  assert.equal(log.limit, 1 << 20);
  await until(() => fast.inbox.length >= expected.length, 20_000, 'the reading subscriber to get all 40');
  assert.deepEqual(fast.inbox.map((s) => JSON.parse(s).data.i), expected);
  slow.sock.resume();
  assert.equal((await slow.waitFor((f) => f.opcode === 8, 20_000)).code, 1008);
  // What it got before the close is a prefix of the events, in order.
  const got = slow.frames.filter((f) => f.opcode === 1).slice(1).map((f) => JSON.parse(f.payload.toString()).data.i);
  assert.deepEqual(got, expected.slice(0, got.length));
  assert.ok(got.length < expected.length);
  // The fast one still gets new events.
  await publish(ch, 'after', 1);
  await until(() => fast.inbox.length > expected.length, 5000, 'an event after the close');
  fast.ws.close();
  slow.close();
});
