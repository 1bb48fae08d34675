// stop.test.mjs -- a graceful stop (SIGTERM, issue 11) ends long-lived
// connections politely so that their clients reconnect elsewhere: every open
// WebSocket gets a close frame with 1001 (going away) -- a straight-line
// handler waiting in kiln_ws_recv (/api/echo) and a callback-mode channel
// subscriber (/api/posts/live) alike -- and a Server-Sent Events stream ends
// (its chunked body is terminated), well before the shutdown deadline; then
// the server exits 0.
//
// The deadline is set to 30 s: without the stop hook the sockets would stay
// open until it and this test would time out waiting for the closes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startApp } from '../lib/server.mjs';
import { copyApp } from '../lib/db.mjs';
import { installClients } from './lib.mjs';

const skip = installClients();
let WebSocket, blog, blogCopy;

before(async () => {
  if (skip) return;
  WebSocket = (await import('./node_modules/ws/index.js')).default;
  blogCopy = copyApp('examples/blog');
  blog = await startApp(blogCopy.dir, { workers: 1, env: { KILN_SHUTDOWN_TIMEOUT_MS: '30000' } });
});
after(async () => {
  await blog?.stop();
  blogCopy?.remove();
});

function openWs(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const c = { ws, closed: null };
    c.closedP = new Promise((ok) => ws.on('close', (code, reason) => { c.closed = { code, reason: reason.toString(), at: Date.now() }; ok(c.closed); }));
    ws.on('open', () => resolve(c));
    ws.on('error', (e) => { if (ws.readyState === WebSocket.CONNECTING) reject(e); });
  });
}

// An event stream: resolves once the head is in; .ended resolves when the
// body ends (the server terminated the chunked stream) or the socket closes.
function openSse(port) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/posts/live', headers: { accept: 'text/event-stream' } }, (res) => {
      const s = { status: res.statusCode, type: res.headers['content-type'], body: '', complete: false };
      s.ended = new Promise((ok) => {
        res.on('data', (d) => { s.body += d; });
        res.on('end', () => { s.complete = res.complete; ok('end'); });
        res.on('aborted', () => ok('aborted'));
        res.on('error', () => ok('error'));
      });
      resolve(s);
    });
    req.on('error', reject);
  });
}

function within(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, fail) => { t = setTimeout(() => fail(new Error(`${what}: not within ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(t));
}

test('SIGTERM: open WebSockets are closed with 1001 and event streams end, then exit 0', async (t) => {
  if (skip) { t.skip(skip); return; }
  const base = `ws://127.0.0.1:${blog.port}`;
  const echo = await openWs(`${base}/api/echo`);
  const live = await openWs(`${base}/api/posts/live`);
  const sse = await openSse(blog.port);
  assert.equal(sse.status, 200);
  assert.match(sse.type, /text\/event-stream/);
  // The echo handler is alive (waiting in kiln_ws_recv) before the stop.
  const echoed = new Promise((ok) => echo.ws.once('message', (d) => ok(d.toString())));
  echo.ws.send('before the stop');
  assert.equal(await within(echoed, 5000, 'echo'), 'before the stop');

  const sentAt = Date.now();
  process.kill(blog.proc.pid, 'SIGTERM');
  const [a, b, ended] = await within(Promise.all([echo.closedP, live.closedP, sse.ended]), 15_000, 'closes after SIGTERM');
  assert.equal(a.code, 1001, `/api/echo closed with ${a.code} ${a.reason}`);
  assert.equal(b.code, 1001, `/api/posts/live closed with ${b.code} ${b.reason}`);
  assert.equal(ended, 'end', 'the event stream was cut instead of ended');
  assert.equal(sse.complete, true, 'the event stream body was not terminated');
  const exit = await within(blog.exited, 20_000, 'server exit');
  assert.equal(exit.code, 0, `server exit ${JSON.stringify(exit)}`);
  // Well before the 30 s deadline: the stop did it, not the deadline.
  assert.ok(Date.now() - sentAt < 25_000, `took ${Date.now() - sentAt} ms`);
});
