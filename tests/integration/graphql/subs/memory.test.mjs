// memory.test.mjs -- a subscription's events do not grow its socket: what a
// resolver allocates for the request while it handles an event (kiln_sprintf,
// JSON built and parsed, the lazy query view of the socket's URL, a
// kiln_defer'd clean-up) goes to that event's own memory and is freed with
// it (api/request.h, request_event_begin). 2,000 events of 4 KB each would
// leave about 28 MB in the socket's arena otherwise; the worker's resident
// memory must grow by far less (about 4 MB: malloc's own, once -- the same
// after 6,000). Not under AddressSanitizer, whose quarantine keeps what is
// freed. The query view is built again for every
// event (under ASan, a view left pointing into a freed event is reported).
//
// Owns: a copy of app/ and the server it starts (one worker).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { http } from '../../lib/db.mjs';
import { workersOf } from '../../lib/procs.mjs';
import { sanitizerBuild } from '../../lib/extra.mjs';
import { install, clients, startTestApp, until, subscribers } from './lib.mjs';

let skip, app, WebSocket, createClient;

before(async () => {
  skip = install();
  if (skip) return;
  ({ WebSocket, createClient } = await clients());
  app = await startTestApp();
});
after(async () => { await app?.stop(); });

const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'))[1]);

test('2,000 events that allocate leave the worker about as big as it was', { timeout: 120_000 }, async (t) => {
  if (skip) { t.skip(skip); return; }
  const [worker] = await workersOf(app.srv.proc.pid, 1);
  const c = await new Promise((resolve, reject) => {
    const cl = createClient({ url: `ws://127.0.0.1:${app.srv.port}/api/graphql?room=blue`, webSocketImpl: WebSocket,
      retryAttempts: 0, lazy: false, on: { connected: () => resolve(cl), closed: (e) => reject(new Error(`closed ${e.code}`)) } });
  });
  const got = [];
  c.subscribe({ query: 'subscription { room }' }, { next: (r) => got.push(r), error: (e) => got.push({ failed: e }), complete: () => {} });
  await until(async () => (await subscribers(app.srv.port, 'shouts')) === 1, 10_000, 'the subscription');

  const text = (i) => `${i}:`.padEnd(4096, 'x');
  // Events in batches of 50, each batch delivered before the next is sent.
  const send = async (from, n) => {
    for (let i = from; i < from + n; i += 50) {
      const batch = [];
      for (let k = i; k < Math.min(i + 50, from + n); k++)
        batch.push(http(app.srv.port, '/api/publish?channel=shouts&event=any', { method: 'POST', body: JSON.stringify({ text: text(k) }) }));
      for (const r of await Promise.all(batch)) assert.equal(r.status, 204);
      await until(() => got.length >= Math.min(i + 50, from + n), 20_000, `events up to ${i + 50}`);
    }
  };
  await send(0, 200);                        // warm: the worker's caches, the socket's buffers
  const before = rssKb(worker);
  await send(200, 2000);
  const grown = rssKb(worker) - before;
  assert.equal(got.length, 2200);
  // The POSTs of a batch race each other: every event once, in any order.
  const seen = new Set(got.map((r) => r.data?.room));
  assert.equal(seen.size, 2200);
  for (let i = 0; i < 2200; i++) assert.ok(seen.has(`blue:${text(i)}`), `event ${i} arrived whole`);
  if (sanitizerBuild()) {
    t.diagnostic('memory figure not checked: AddressSanitizer keeps freed memory in quarantine');
  } else {
    t.diagnostic(`worker resident memory: ${before} KB before 2,000 events, +${grown} KB after`);
    assert.ok(grown < 8 * 1024, `the worker grew by ${grown} KB over 2,000 events of 4 KB (kept per event?)`);
  }
  c.dispose();
});
