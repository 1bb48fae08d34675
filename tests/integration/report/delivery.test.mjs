// delivery.test.mjs -- error reports never slow a request, whatever Sentry
// does: rate limits (X-Sentry-Rate-Limits and Retry-After) are honoured and
// what they drop comes back as a client report; a receiver that hangs
// leaves requests fast and the queue bounded (drops counted); one that is
// down costs nothing; a graceful stop flushes the queue within 2 s.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { buildApp, startServer, freePort } from '../lib/server.mjs';
import { startReceiver } from './receiver.mjs';
import { setTimeout as sleep } from 'node:timers/promises';

const APP = 'tests/fixtures/reportapp';

before(() => buildApp(APP));

async function timed(srv, p) {
  const t0 = performance.now();
  const r = await srv.fetch(p);
  await r.arrayBuffer();
  return { status: r.status, ms: performance.now() - t0, id: r.headers.get('x-sentry-event-id') };
}

async function metric(srv, name) {
  const text = await (await srv.fetch('/_kiln/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.split(' ')[1]) : NaN;
}

// The metric's value once it is above zero, or what it is after timeoutMs.
async function metricRises(srv, name, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  let v = 0;
  while (Date.now() < deadline && !(v > 0)) {
    v = await metric(srv, name);
    if (!(v > 0)) await sleep(100);
  }
  return v;
}

for (const mode of ['ratelimit', 'ratelimit-retry-after']) {
  test(`rate limited (${mode === 'ratelimit' ? 'X-Sentry-Rate-Limits' : 'Retry-After'}): nothing is sent until the limit ends, then a client report counts the drops`, async () => {
    const rx = await startReceiver({ mode, limitSeconds: 2 });
    const srv = await startServer(APP, { workers: 1, env: { SENTRY_DSN: rx.dsn } });
    try {
      const first = await timed(srv, '/api/dberror');
      assert.equal(first.status, 500);
      await rx.waitForEvent((e) => e.event_id === first.id);
      await sleep(100);
      const limitedAt = Date.now();
      for (let i = 0; i < 5; i++) assert.equal((await timed(srv, '/api/dberror')).status, 500);
      await sleep(500);
      if (Date.now() - limitedAt < 1800) assert.equal(rx.requests, 1, 'sent while rate limited');
      await sleep(Math.max(0, limitedAt + 3000 - Date.now()));   // headroom for a busy box
      rx.mode = 'ok';
      const later = await timed(srv, '/api/dberror');
      await rx.waitForEvent((e) => e.event_id === later.id);
      const env = rx.envelopes.find((e) => e.header.event_id === later.id);
      const report = env.items.find(([h]) => h.type === 'client_report')?.[1];
      assert.ok(report, 'a client report rides along');
      const backoff = report.discarded_events.find((d) => d.reason === 'ratelimit_backoff');
      assert.equal(backoff.category, 'error');
      assert.ok(backoff.quantity >= 5, JSON.stringify(report));
      assert.deepEqual(rx.problems, []);
    } finally {
      await srv.stop();
      await rx.close();
    }
  });
}

test('a receiver that hangs: requests stay fast, the queue stays bounded, drops are counted (then reported in a client report), stop is bounded', async () => {
  const rx = await startReceiver({ mode: 'hang' });
  const srv = await startServer(APP, { workers: 1, env: { SENTRY_DSN: rx.dsn, KILN_METRICS: '1' } });
  let stopped;
  try {
    const N = 120;
    const times = [];
    for (let i = 0; i < N; i += 10) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => timed(srv, '/api/dberror')));
      for (const b of batch) {
        assert.equal(b.status, 500);
        times.push(b.ms);
      }
    }
    times.sort((a, b) => a - b);
    const max = times[times.length - 1];
    assert.ok(max < 1000, `a request took ${max.toFixed(1)} ms while Sentry hung`);
    const hello = await timed(srv, '/api/hello');
    assert.ok(hello.ms < 500, `hello took ${hello.ms}`);
    // One envelope is stuck in flight; at most the queue's 64 wait; the
    // rest were dropped and counted.
    assert.ok(rx.requests <= 2, `${rx.requests} requests reached the hanging receiver`);
    const dropped = await metric(srv, 'kiln_reporter_events_total{outcome="dropped"}');
    const depth = await metric(srv, 'kiln_reporter_queue_depth');
    assert.ok(depth <= 64, `queue depth ${depth}`);
    assert.ok(dropped >= N - 64 - 1, `dropped ${dropped}`);
    // Sentry comes back: the queued events go out, and a client report
    // tells it how many were dropped for a full queue.
    rx.mode = 'ok';
    for (const res of rx.hanging) res.destroy();
    const deadline = Date.now() + 15_000;
    let overflow;
    while (Date.now() < deadline && !overflow) {
      overflow = rx.clientReports().flatMap((c) => c.discarded_events).find((d) => d.reason === 'queue_overflow');
      await sleep(100);
    }
    assert.ok(overflow, 'a client report of the overflow');
    assert.equal(overflow.category, 'error');
    assert.ok(overflow.quantity >= N - 64 - 1, JSON.stringify(overflow));
    assert.deepEqual(rx.problems, []);
  } finally {
    const t0 = Date.now();
    stopped = await srv.stop({ graceMs: 10_000 });
    stopped.ms = Date.now() - t0;
    await rx.close();
  }
  assert.equal(stopped.killed, false, 'the server needed SIGKILL');
  assert.ok(stopped.ms < 6000, `stop took ${stopped.ms} ms`);
});

test('a receiver that is down: requests stay fast, failures are counted', async () => {
  const port = await freePort(); // nothing listens there
  const srv = await startServer(APP, { workers: 1, env: { SENTRY_DSN: `http://k@127.0.0.1:${port}/3`, KILN_METRICS: '1' } });
  try {
    for (let i = 0; i < 20; i++) {
      const r = await timed(srv, '/api/dberror');
      assert.equal(r.status, 500);
      assert.ok(r.ms < 1000, `${r.ms} ms`);
    }
    const failed = await metricRises(srv, 'kiln_reporter_events_total{outcome="failed"}');
    assert.ok(failed > 0, 'failed sends counted');
  } finally {
    const t0 = Date.now();
    const s = await srv.stop({ graceMs: 10_000 });
    assert.equal(s.killed, false);
    assert.ok(Date.now() - t0 < 6000);
  }
});

test('a graceful stop flushes what is queued (within 2 s)', async () => {
  const rx = await startReceiver({ mode: 'slow', delayMs: 200 });
  const srv = await startServer(APP, { workers: 1, env: { SENTRY_DSN: rx.dsn } });
  const ids = [];
  try {
    for (let i = 0; i < 5; i++) ids.push((await timed(srv, '/api/dberror')).id);
  } finally {
    await srv.stop({ graceMs: 10_000 });
  }
  // Sent one at a time, 200 ms each: most were still queued at SIGTERM.
  const got = rx.events().map((e) => e.event_id);
  for (const id of ids) assert.ok(got.includes(id), `event ${id} lost at stop`);
  await rx.close();
  assert.deepEqual(rx.problems, []);
});

test('HTTPS: the receiver\'s certificate is verified (a self-signed one gets nothing)', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  if (spawnSync('sh', ['-c', 'command -v openssl']).status !== 0) return t.skip('openssl is not installed');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kiln-tls-'));
  try {
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]);
    assert.equal(gen.status, 0, String(gen.stderr));
    const rx = await startReceiver({ tls: { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) } });
    const srv = await startServer(APP, { workers: 1, env: { SENTRY_DSN: rx.dsn, KILN_METRICS: '1' } });
    try {
      assert.match(rx.dsn, /^https:/);
      const r = await timed(srv, '/api/dberror');
      assert.equal(r.status, 500);
      const failed = await metricRises(srv, 'kiln_reporter_events_total{outcome="failed"}');
      assert.ok(failed > 0, 'the send failed');
      assert.ok(rx.tlsErrors > 0, 'the TLS handshake was refused by Kiln');
      assert.equal(rx.requests, 0, 'nothing was sent to an unverified server');
    } finally {
      await srv.stop();
      await rx.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an invalid SENTRY_DSN: said once at start, reporting off, the server serves', async () => {
  const srv = await startServer(APP, { workers: 1, env: { SENTRY_DSN: 'not-a-dsn' } });
  try {
    await srv.waitForLog((l) => /SENTRY_DSN is not a valid DSN/.test(l.msg));
    const r = await timed(srv, '/api/dberror');
    assert.equal(r.status, 500);
    assert.equal(r.id, null, 'no event id without reporting');
  } finally {
    await srv.stop();
  }
});

test('SENTRY_SAMPLE_RATE=0: no event is sent; the sampled-out ones are counted in a client report at stop', async () => {
  const rx = await startReceiver();
  const srv = await startServer(APP, { workers: 1, env: { SENTRY_DSN: rx.dsn, SENTRY_SAMPLE_RATE: '0' } });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await timed(srv, '/api/dberror')).status, 500);
  } finally {
    await srv.stop();
  }
  assert.deepEqual(rx.events(), []);
  const report = rx.clientReports().flatMap((c) => c.discarded_events).find((d) => d.reason === 'sample_rate');
  assert.ok(report, `a client report at stop: ${JSON.stringify(rx.clientReports())}`);
  assert.equal(report.quantity, 3);
  assert.deepEqual(rx.problems, []);
  await rx.close();
});
