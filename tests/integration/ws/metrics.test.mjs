// metrics.test.mjs -- WebSocket counts in /_kiln/metrics (issue 8's slots):
// kiln_websocket_connections_total and _open, and
// kiln_websocket_messages_total by direction, summed across two workers, as
// real ws clients connect to examples/blog's /api/echo, exchange messages
// and leave; the upgrade itself is counted as a request answered 1xx.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApp } from '../lib/server.mjs';
import { copyApp } from '../lib/db.mjs';
import { installClients } from './lib.mjs';

const skip = installClients();
let WebSocket, blog, blogCopy;

before(async () => {
  if (skip) return;
  WebSocket = (await import('./node_modules/ws/index.js')).default;
  blogCopy = copyApp('examples/blog');
  blog = await startApp(blogCopy.dir, { workers: 2, env: { KILN_METRICS: '1' } });
});
after(async () => {
  await blog?.stop();
  blogCopy?.remove();
});

async function scrape() {
  const r = await blog.fetch('/_kiln/metrics', { headers: { Connection: 'close' } });
  assert.equal(r.status, 200);
  const m = new Map();
  for (const l of (await r.text()).split('\n')) {
    if (!l || l.startsWith('#')) continue;
    const i = l.lastIndexOf(' ');
    m.set(l.slice(0, i), Number(l.slice(i + 1)));
  }
  return m;
}

const OPEN = 'kiln_websocket_connections_open';
const TOTAL = 'kiln_websocket_connections_total';
const IN = 'kiln_websocket_messages_total{direction="in"}';
const OUT = 'kiln_websocket_messages_total{direction="out"}';

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

test('WebSocket connections and messages are counted in /_kiln/metrics', async (t) => {
  if (skip) { t.skip(skip); return; }
  const m0 = await scrape();
  assert.equal(m0.get(OPEN), 0);
  const socks = [];
  for (let i = 0; i < 4; i++) socks.push(await open(`ws://127.0.0.1:${blog.port}/api/echo`));
  for (const ws of socks) {
    for (let k = 0; k < 3; k++) {
      const got = new Promise((ok) => ws.once('message', (d) => ok(d.toString())));
      ws.send(`m${k}`);
      assert.equal(await got, `m${k}`);
    }
  }
  const m1 = await scrape();
  assert.equal(m1.get(TOTAL) - (m0.get(TOTAL) ?? 0), 4);
  assert.equal(m1.get(OPEN), 4);
  assert.equal(m1.get(IN) - (m0.get(IN) ?? 0), 12);
  assert.equal(m1.get(OUT) - (m0.get(OUT) ?? 0), 12);
  assert.ok(m1.get('kiln_http_requests_total{route="/api/echo",method="GET",status="1xx"}') >= 4,
            'the upgrades are not counted as requests answered 1xx');

  await Promise.all(socks.map((ws) => new Promise((ok) => { ws.on('close', ok); ws.close(1000); })));
  let m2;
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(50)) {
    m2 = await scrape();
    if (m2.get(OPEN) === 0) break;
  }
  assert.equal(m2.get(OPEN), 0, 'closed sockets still counted open');
  assert.equal(m2.get(TOTAL) - (m0.get(TOTAL) ?? 0), 4);
});
