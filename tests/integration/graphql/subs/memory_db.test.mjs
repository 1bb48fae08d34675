// memory_db.test.mjs -- a long-lived subscription's per-event work through
// the request ends with each event (memory.test.mjs's companion, with the
// database and clean-ups). One graphql-ws subscriber receives N events; the
// resolver of each (mem_app: Subscription.tick) formats 32 KB through the
// request, registers a kiln_defer clean-up and runs a SQLite transaction
// (committed on even events, left open on odd ones). Each event must see
// every earlier event's clean-up run (at the event's end, not at
// disconnect) and the database as the earlier events left it (odd events
// rolled back: their transaction ended with them and gave its connection
// back); the worker's resident memory must not grow with the count (32 KB
// per event on the socket's arena otherwise, ~100 MB here). Then events
// delivered while a mutation over the same socket waits (they share the
// message's database state, made before them): each transaction left open
// ends with its event (db.c's release_at_end clears `deferred`, so the next
// event's kiln_db_begin registers its own release).
//
//   tests/run-integration.sh build tests/integration/graphql/subs/memory_db.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { http } from '../../lib/db.mjs';
import { workersOf } from '../../lib/procs.mjs';
import { sanitizerBuild } from '../../lib/extra.mjs';
import { install, clients, startTestApp } from './lib.mjs';

const asan = sanitizerBuild();
const N = asan ? 600 : 3000;         // events (bounded: ~10 s gcc, ~30 s ASan)
const WARM = 200;                    // events before the first RSS reading
const GROWTH_LIMIT = 8 << 20;        // bytes; unbounded growth would be ~N * 32 KB
let skip, app, dbDir, WebSocket, createClient, worker;

before(async () => {
  skip = install();
  if (skip) return;
  ({ WebSocket, createClient } = await clients());
  dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-gql-mem-db-'));
  app = await startTestApp({ app: 'mem_app', env: { DATABASE_URL: `sqlite:${path.join(dbDir, 'ticks.db')}` } });
  [worker] = await workersOf(app.srv.proc.pid, 1);
});
after(async () => {
  await app?.stop();
  if (dbDir) fs.rmSync(dbDir, { recursive: true, force: true });
});

const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

test(`${N} events on one subscription: clean-ups and transactions end with each event, memory stays flat`, { timeout: 180_000 }, async (t) => {
  if (skip) { t.skip(skip); return; }
  const results = [];
  let waiting = null;
  const c = createClient({ url: `ws://127.0.0.1:${app.srv.port}/api/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
  let failed = null;
  const ready = new Promise((resolve) => c.on('connected', resolve));
  await ready;
  const subscribed = new Promise((resolve) => {
    c.subscribe({ query: 'subscription { tick { n rows cleaned size } }' }, {
      next: (r) => { results.push(r); if (waiting) waiting(); },
      error: (e) => { failed = e; if (waiting) waiting(); },
      complete: () => {},
    });
    resolve();
  });
  await subscribed;
  // The subscription is active once an event comes back: publish until one does.
  const publish = (n) => http(app.srv.port, '/api/publish?channel=ticks&event=tick', { method: 'POST', body: JSON.stringify({ n }) });
  const next = (count) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no result ${count} within 30 s (${results.length} so far)`)), 30_000);
    waiting = () => { if (failed || results.length >= count) { clearTimeout(timer); waiting = null; resolve(); } };
    waiting();
  });
  // Event 0 only starts the stream (published until the subscription is there).
  for (let i = 0; i < 50 && results.length === 0; i++) {
    assert.equal((await publish(0)).status, 204);
    await new Promise((r) => setTimeout(r, 200));
  }
  await next(1);
  await new Promise((r) => setTimeout(r, 500));     // any starter still on its way
  const firsts = results.length;
  const started = Date.now();
  let base = 0;
  for (let n = 1; n <= N; n++) {
    assert.equal((await publish(n)).status, 204);
    await next(firsts + n);
    assert.equal(failed, null);
    if (n === WARM) base = rss(worker);
  }
  const grown = rss(worker) - base;
  console.log(`${N} events in ${Date.now() - started} ms; worker RSS grew ${(grown / 1024).toFixed(0)} KB after the first ${WARM}`);
  // Every event's own answer.
  const got = results.slice(firsts).map((r) => { assert.equal(r.errors, undefined, JSON.stringify(r.errors)); return r.data.tick; });
  assert.equal(got.length, N);
  // The starters (event 0: even, committed) count as earlier events.
  const zeros = firsts;
  for (let i = 0; i < N; i++) {
    const n = i + 1, e = got[i];
    assert.equal(e.n, n);
    assert.equal(e.size, 32768);
    // Clean-ups of every earlier event (the stream's starters included) ran.
    assert.equal(e.cleaned, zeros + n - 1, `event ${n}: clean-ups run before it`);
    // Rows: the starters' and the earlier even events', and its own insert.
    assert.equal(e.rows, zeros + Math.floor((n - 1) / 2) + 1, `event ${n}: rows its transaction sees`);
  }
  // Over HTTP: the odd events' inserts were rolled back.
  const r = await fetch(`http://127.0.0.1:${app.srv.port}/api/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ ticks }' }) });
  assert.deepEqual((await r.json()).data, { ticks: zeros + Math.floor(N / 2) });
  await c.dispose();
  if (asan) { t.diagnostic('RSS not checked under AddressSanitizer (LeakSanitizer checks at exit)'); return; }
  assert.ok(grown < GROWTH_LIMIT, `worker RSS grew ${grown} bytes over ${N - WARM} events`);
});

// Events inside a message's work (a mutation over the same socket that
// publishes): they share the message's database state, and a transaction
// each of them leaves open (odd numbers) still ends with that event -- the
// next one's is its own (it does not see the earlier inserts).
test('events inside a mutation over the same socket: each open transaction ends with its event', async (t) => {
  if (skip) { t.skip(skip); return; }
  const c = createClient({ url: `ws://127.0.0.1:${app.srv.port}/api/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
  const results = [];
  let failed = null;
  await new Promise((resolve) => c.on('connected', resolve));
  c.subscribe({ query: 'subscription { tick { n rows } }' }, { next: (r) => results.push(r), error: (e) => { failed = e; }, complete: () => {} });
  const gql = async (query) => (await (await fetch(`http://127.0.0.1:${app.srv.port}/api/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) })).json()).data;
  const committed = (await gql('{ ticks }')).ticks;
  const mutate = (query) => new Promise((resolve, reject) => {
    let out;
    c.subscribe({ query }, { next: (r) => { out = r; }, error: reject, complete: () => resolve(out) });
  });
  // The subscription is there once a mutation's first event comes back.
  const deadline = Date.now() + 30_000;
  while (results.length === 0 && Date.now() < deadline) {
    assert.deepEqual((await mutate('mutation { publishTicks(from: 1, count: 1) }')).data, { publishTicks: true });
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(results.length > 0, 'no event within 30 s');
  const seen = results.length;
  const COUNT = 20;
  assert.deepEqual((await mutate(`mutation { publishTicks(from: 101, count: ${COUNT}) }`)).data, { publishTicks: true });
  const until = Date.now() + 30_000;
  while (results.length < seen + COUNT && !failed && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.equal(failed, null);
  const got = results.slice(seen).map((r) => { assert.equal(r.errors, undefined, JSON.stringify(r.errors)); return r.data.tick; });
  assert.equal(got.length, COUNT);
  got.forEach((e, i) => {
    assert.equal(e.n, 101 + 2 * i);
    assert.equal(e.rows, committed + 1, `event ${e.n}: its transaction sees the committed rows and its own insert only`);
  });
  // All rolled back; the database is free (an HTTP query answers).
  assert.deepEqual(await gql('{ ticks }'), { ticks: committed });
  await c.dispose();
});
