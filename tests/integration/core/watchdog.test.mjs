// The max duration is enforced even for a handler that never yields: the
// worker's watchdog answers 504 for it and the master replaces the worker;
// the server keeps serving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFixture, request, logsFor, sleep } from '../lib/extra.mjs';

let srv;
before(async () => {
  srv = await startFixture({ workers: 1 });
});
after(async () => {
  await srv?.stop({ allowSanitizer: true });
});

test('a CPU-bound handler past its max duration gets 504, and the server recovers', async () => {
  const t0 = Date.now();
  const r = await request(srv.port, '/api/overtime');
  const took = Date.now() - t0;
  assert.equal(r.status, 504);
  assert.equal(r.json.error, 'Gateway Timeout');
  assert.match(r.json.requestId, /^[0-9a-f]{16}$/);
  assert.ok(took >= 300 && took < 2000, `504 after ${took} ms (limit 300 ms, handler spins 5 s)`);
  // A new worker serves the next requests.
  let ok = null;
  for (let i = 0; i < 100 && !ok; i++) {
    try {
      const h = await request(srv.port, '/api/hello');
      if (h.status === 200) ok = h;
    } catch { /* the old worker's socket is gone; retry */ }
    if (!ok) await sleep(20);
  }
  assert.ok(ok, 'the server answers again after the worker was replaced');
  assert.equal(ok.json.message, 'Hello, World!');
  await sleep(100);
  const lines = logsFor(srv, r.json.requestId);
  assert.ok(lines.some((l) => /max duration/.test(l.msg) && l.route === '/api/overtime'),
    `a log line names the route: ${JSON.stringify(lines)}`);
});
