// sse.test.mjs -- Server-Sent Events and channels on one machine:
//   - the event-stream format (multi-line data, ids, names, retry,
//     comments, heartbeats), never buffered;
//   - kiln_publish reaching streams held by the other worker, in publish
//     order per publisher, from a handler and from an offloaded thread;
//   - 10,000 stream open/close cycles without memory growth;
//   - 70 streams (chunked and HTTP/1.0) read byte-identical event bytes;
//   - 2,000 idle streams cost the worker under 4 KB each (after kiln_sse_run
//     a stream holds no coroutine stack, arena or read buffer), and a publish
//     still reaches every one;
//   - the blog's GET /api/posts/live read by Chromium's own EventSource,
//     through a server restart, with Last-Event-ID replaying what it missed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp, startServer } from '../lib/server.mjs';
import { copyApp, http } from '../lib/db.mjs';
import { workersOf } from '../lib/procs.mjs';
import { sanitizerBuild, sleep } from '../lib/extra.mjs';
import { openStream, rssKiB, installClients, HERE } from './lib.mjs';
import net from 'node:net';
import path from 'node:path';

const rt = copyApp('tests/fixtures/rtapp');
const blog = copyApp('examples/blog');
let srv;

before(async () => {
  buildApp(rt.dir);
  buildApp(blog.dir);
  srv = await startServer(rt.dir, { workers: 2, env: { KILN_SSE_HEARTBEAT_MS: '200' } });
});
after(async () => {
  await srv?.stop();
  rt.remove();
  blog.remove();
});

test('event-stream format: multi-line data, ids, names, retry, comments', async () => {
  const s = await openStream(srv.port, '/api/sse/lines', { headers: { 'Last-Event-ID': '41' } });
  assert.equal(s.status, 200);
  assert.equal(s.headers['content-type'], 'text/event-stream');
  assert.equal(s.headers['cache-control'], 'no-cache');
  await s.waitFor((e) => e.type === 'last');
  assert.match(s.raw, /^retry: 1500\n\n: a comment\n: over two lines\n\n/);
  assert.ok(s.raw.includes('id: 1\nevent: multi\ndata: a\ndata: b\ndata: c\ndata: d\n\n'), s.raw);
  assert.deepEqual(s.events.map((e) => [e.type, e.data, e.lastEventId]), [
    ['message', 'plain', ''],
    ['multi', 'a\nb\nc\nd', '1'],
    ['trailing', 'x\n', '2'],
    ['empty', '', '2'],             // "data: " (one empty line) is an event
    ['bad', '{"k":1}', '3'],        // a name or id is one line: the rest is cut
    ['last', '41', '3'],
  ]);
});

test('heartbeats are comments, sent while nothing happens', async () => {
  const s = await openStream(srv.port, '/api/sse/sub?channel=quiet');
  await s.waitFor((e) => e.type === 'ready');
  await sleep(900);
  s.close();
  const beats = s.raw.split(':\n\n').length - 1;
  assert.ok(beats >= 2, `heartbeats in 900 ms at 200 ms: ${beats}\n${s.raw}`);
});

// Streams until both workers hold at least one.
async function streamsOnBothWorkers(channel) {
  const streams = [];
  const pids = new Set();
  for (let i = 0; i < 40 && (pids.size < 2 || streams.length < 4); i++) {
    const s = await openStream(srv.port, `/api/sse/sub?channel=${channel}`);
    const ready = await s.waitFor((e) => e.type === 'ready');
    s.pid = JSON.parse(ready.data).pid;
    pids.add(s.pid);
    streams.push(s);
  }
  assert.equal(pids.size, 2, 'the kernel spread 40 connections over one worker only');
  return streams;
}

test('kiln_publish reaches every stream on both workers, in order, unbuffered', async () => {
  const streams = await streamsOnBothWorkers('across');
  // Publish from both workers (new connections land on either).
  const publishers = new Set();
  let n = 0;
  for (let i = 0; i < 60 && (publishers.size < 2 || n < 10); i++) {
    const r = await http(srv.port, '/api/publish', { method: 'POST', json: { channel: 'across', event: 'ping', data: { n }, id: String(n + 1) } });
    assert.equal(r.status, 200);
    publishers.add(r.json.pid);
    // Unbuffered: every stream has this event before the next is published.
    for (const s of streams) await s.waitFor((e) => e.type === 'ping' && JSON.parse(e.data).n === n, 5000);
    n++;
  }
  assert.equal(publishers.size, 2, 'publishes came through one worker only');
  for (const s of streams) {
    const got = s.events.filter((e) => e.type === 'ping').map((e) => JSON.parse(e.data).n);
    assert.deepEqual(got, [...Array(n).keys()], `stream on worker ${s.pid}`);
    assert.equal(s.events.at(-1).lastEventId, String(n));
  }
  // One handler publishing 500 in a row, then from an offloaded thread:
  // every stream sees 0..499 in order, then the thread's event.
  const b = await http(srv.port, '/api/burst?channel=across&n=500', { method: 'POST' });
  assert.equal(b.status, 200);
  for (const s of streams) {
    await s.waitFor((e) => e.type === 'thread', 10_000);
    const seq = s.events.filter((e) => e.type === 'seq').map((e) => JSON.parse(e.data).i);
    assert.deepEqual(seq, [...Array(500).keys()], `order on worker ${s.pid}`);
    assert.equal(s.events.at(-1).type, 'thread');
    s.close();
  }
});

test('a client that leaves is unsubscribed at once; 10,000 cycles do not grow the worker', async () => {
  const one = await startServer(rt.dir, { workers: 1 });
  try {
    const [worker] = await workersOf(one.proc.pid, 1);
    // Open a stream, see it subscribed, leave without reading: raw sockets.
    const cycle = () => new Promise((resolve, reject) => {
      const c = net.connect(one.port, '127.0.0.1');
      let got = '';
      c.on('data', (d) => {
        got += d;
        if (got.includes('event: ready')) c.destroy(), resolve();
      });
      c.on('error', reject);
      c.write('GET /api/sse/sub?channel=cyc HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    });
    // A connect may fail on a box busy with other tests (ephemeral ports in
    // TIME_WAIT): retried, counted, and allowed only rarely.
    const failures = [];
    const run = async (n, conc) => {
      let next = 0;
      await Promise.all(Array.from({ length: conc }, async () => {
        while (next < n) {
          next++;
          for (let tries = 0; ; tries++) {
            try { await cycle(); break; } catch (e) { failures.push(e.message); if (tries === 2) throw e; }
          }
        }
      }));
    };
    await run(1000, 20);
    await sleep(300);
    const base = rssKiB(worker);
    const t0 = Date.now();
    await run(9000, 20);
    await sleep(300);
    const grown = rssKiB(worker) - base;
    // Still delivering (subscriptions of the gone clients are not in the way).
    const s = await openStream(one.port, '/api/sse/sub?channel=cyc');
    await s.waitFor((e) => e.type === 'ready');
    await http(one.port, '/api/publish', { method: 'POST', json: { channel: 'cyc', event: 'after', data: 1 } });
    await s.waitFor((e) => e.type === 'after');
    s.close();
    assert.ok(failures.length < 50, `connection failures: ${failures.slice(0, 5)}`);
    if (!sanitizerBuild()) assert.ok(grown < 2048, `worker RSS grew ${grown} KiB over 9,000 cycles`);
    console.log(`10,000 stream cycles: RSS +${grown} KiB over the last 9,000, ${Date.now() - t0} ms, ${failures.length} retried (${failures[0] ?? ''})`);
  } finally {
    await one.stop();
  }
});

// A channel event is formatted once (channel_event_serial) and the same
// bytes go to every stream: 60 HTTP/1.1 streams (chunked) and 10 HTTP/1.0
// streams (bare) on one worker read, after their "ready", exactly the bytes
// the event-stream format and the chunked framing give for what was
// published -- ids, names and data, 300 events in a burst, and the event
// from an offloaded thread -- byte for byte the same on every stream.
test('many streams get byte-identical frames of every published event', async () => {
  const one = await startServer(rt.dir, { workers: 1 });
  const socks = [];
  try {
    const open = (minor) => new Promise((resolve, reject) => {
      const c = net.connect(one.port, '127.0.0.1');
      c.setEncoding('latin1');
      c.minor = minor;
      c.got = '';
      c.on('data', (d) => {
        c.got += d;
        if (c.got.includes('event: ready') && !c.ready) { c.ready = true; resolve(c); }
      });
      c.on('error', reject);
      c.write(`GET /api/sse/sub?channel=same HTTP/1.${minor}\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
    });
    for (let i = 0; i < 70; i += 10)
      socks.push(...(await Promise.all(Array.from({ length: 10 }, (_, k) => open(i + k < 60 ? 1 : 0)))));

    const frames = [];
    const pub = async (event, data, id) => {
      const r = await http(one.port, '/api/publish', { method: 'POST', json: { channel: 'same', event, data, id } });
      assert.equal(r.status, 200);
      frames.push(`${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    await pub('first', { n: 1, s: 'two\nlines' }, '7');
    await pub('second', [1, 2, 3], '8');
    await pub('third', 'no id');
    const N = 300;
    assert.equal((await http(one.port, `/api/burst?channel=same&n=${N}`, { method: 'POST' })).status, 200);
    for (let i = 0; i < N; i++) frames.push(`event: seq\ndata: {"i":${i}}\n\n`);
    frames.push('event: thread\ndata: {"from":"offload"}\n\n');

    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !socks.every((c) => c.got.includes('event: thread'))) await sleep(50);
    const chunk = (f) => `${Buffer.byteLength(f, 'latin1').toString(16)}\r\n${f}\r\n`;
    const want = { 1: frames.map(chunk).join(''), 0: frames.join('') };
    const after = (c) => {
      const ready = c.got.indexOf('event: ready');
      const end = c.got.indexOf(c.minor === 1 ? '\n\n\r\n' : '\n\n', ready);
      return c.got.slice(end + (c.minor === 1 ? 4 : 2));
    };
    for (const c of socks) {
      const got = after(c);
      assert.equal(got.length, want[c.minor].length, `HTTP/1.${c.minor} stream: ${got.length} bytes, want ${want[c.minor].length}\n${got.slice(0, 400)}`);
      assert.equal(got, want[c.minor], `HTTP/1.${c.minor} stream differs`);
    }
  } finally {
    for (const c of socks) c.destroy();
    await one.stop();
  }
});

test('2,000 idle event streams: under 4 KB each, and a publish reaches them all', async (t) => {
  if (sanitizerBuild()) return t.skip('memory figures mean nothing under AddressSanitizer');
  const N = 2000, LIMIT = 4096;
  const one = await startServer(rt.dir, { workers: 1 });
  const socks = [];
  try {
    const [worker] = await workersOf(one.proc.pid, 1);
    const open = () => new Promise((resolve, reject) => {
      const c = net.connect(one.port, '127.0.0.1');
      c.got = '';
      c.on('data', (d) => {
        c.got += d;
        if (c.got.includes('event: ready') && !c.ready) { c.ready = true; resolve(c); }
      });
      c.on('error', reject);
      c.write('GET /api/sse/sub?channel=idle HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    });
    const openMany = async (n) => {
      const out = [];
      for (let i = 0; i < n; i += 100) out.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, open))));
      return out;
    };
    for (const c of await openMany(300)) c.destroy();       // warm up pools and the allocator
    await sleep(300);
    const base = rssKiB(worker);
    socks.push(...(await openMany(N)));
    await sleep(300);
    const per = ((rssKiB(worker) - base) * 1024) / N;
    console.log(`idle event stream: ${per.toFixed(0)} B each (${N} streams)`);
    await http(one.port, '/api/publish', { method: 'POST', json: { channel: 'idle', event: 'wake', data: 7 } });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !socks.every((c) => c.got.includes('event: wake'))) await sleep(50);
    assert.equal(socks.filter((c) => c.got.includes('event: wake\ndata: 7')).length, N);
    assert.ok(per < LIMIT, `an idle event stream holds ${per.toFixed(0)} bytes`);
  } finally {
    for (const c of socks) c.destroy();
    await one.stop();
  }
});

test("the blog's /api/posts/live in Chromium's EventSource, through a restart, with Last-Event-ID", async (t) => {
  const why = installClients();
  if (why) { t.skip(why); return; }
  const { chromium } = await import(path.join(HERE, 'node_modules/playwright-core/index.mjs'));
  const b = await startServer(blog.dir, { workers: 1, env: { KILN_SHUTDOWN_TIMEOUT_MS: '300' } });
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const page = await browser.newPage();
    await page.goto(`${b.url}/api/hello`);
    await page.evaluate(() => {
      window.got = [];
      window.errors = 0;
      const es = new EventSource('/api/posts/live');
      window.es = es;
      for (const type of ['post.created', 'post.updated', 'post.deleted'])
        es.addEventListener(type, (e) => window.got.push({ type, data: JSON.parse(e.data), id: e.lastEventId }));
      es.onerror = () => { window.errors++; };
      return new Promise((ok) => { es.onopen = ok; });
    });
    const post = (json) => http(b.port, '/api/posts', { method: 'POST', json });
    const p1 = (await post({ title: 'one', content: 'first' })).json;
    const upd = await http(b.port, `/api/posts/${p1.id}`, { method: 'PUT', json: { title: 'one!', content: 'first, edited' } });
    assert.equal(upd.status, 200);
    const waitGot = (n) => page.waitForFunction((k) => window.got.length >= k, n, { timeout: 10_000 });
    await waitGot(2);
    // The server restarts (SIGHUP: new workers, the old one drains and
    // drops the stream). While the browser waits to reconnect, posts change.
    process.kill(b.proc.pid, 'SIGHUP');
    await page.waitForFunction(() => window.errors > 0, null, { timeout: 10_000 });
    const p2 = (await post({ title: 'two', content: 'made while away' })).json;
    const del = await http(b.port, `/api/posts/${p1.id}`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    await waitGot(4);
    const got = await page.evaluate(() => window.got);
    assert.deepEqual(got.map((e) => [e.type, e.data]), [
      ['post.created', { id: p1.id, title: 'one', content: 'first' }],
      ['post.updated', { id: p1.id, title: 'one!', content: 'first, edited' }],
      ['post.created', { id: p2.id, title: 'two', content: 'made while away' }],
      ['post.deleted', { id: p1.id }],
    ]);
    const ids = got.map((e) => Number(e.id));
    assert.ok(ids.every((v, i) => i === 0 || v > ids[i - 1]), `ids grow: ${ids}`);
    // And live again after the replay.
    const p3 = (await post({ title: 'three', content: 'live' })).json;
    await waitGot(5);
    assert.deepEqual((await page.evaluate(() => window.got.at(-1))).data, { id: p3.id, title: 'three', content: 'live' });
    // Without Accept: text/event-stream (and no upgrade): 406.
    const plain = await http(b.port, '/api/posts/live');
    assert.equal(plain.status, 406);
  } finally {
    await browser?.close();
    await b.stop();
  }
});
