// async.test.mjs -- what coroutines buy: kiln_offload and kiln_sleep suspend
// one request, not the worker (the p99 proof), streaming responses reach the
// client as they are written, Server-Sent Events, and the max-duration 504.
//
// One worker everywhere: any blocking would show.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { parseResponses, rawExchange } from '../lib/server.mjs';
import {
  startFixture,
  request,
  openSocket,
  readEventStream,
  percentile,
  logsFor,
  startLoad,
  sleep,
  P99_LIMIT_MS,
} from '../lib/extra.mjs';

let srv;
before(async () => {
  srv = await startFixture({ workers: 1 });
});
after(async () => {
  await srv?.stop();
});

test('offload p99: /api/hello stays fast while 50 requests block in kiln_offload', async () => {
  // The 50 /api/slow loops run in another process (startLoad), so their
  // answers do not queue in this process's event loop and skew the timing.
  const fastAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let load = null;
  try {
    await request(srv.port, '/api/hello', { agent: fastAgent });
    load = await startLoad(srv.port, '/api/slow', 50); // every loop has had one answer
    await sleep(50);
    const lat = [];
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) {
      const r = await request(srv.port, '/api/hello', { agent: fastAgent });
      assert.equal(r.status, 200);
      assert.equal(r.json.message, 'Hello, World!');
      lat.push(r.ms);
      await sleep(2); // spread the 200 over several rounds of /api/slow
    }
    const elapsed = Date.now() - t0;
    const slow = await load.stop();
    load = null;

    const p50 = percentile(lat, 50);
    const p99 = percentile(lat, 99);
    console.log(
      `offload p99: /api/hello p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${Math.max(...lat).toFixed(2)} ms ` +
        `over 200 requests in ${elapsed} ms, one worker, while ${slow.count} /api/slow (200 ms each in kiln_offload, ` +
        `50 at a time) completed`,
    );
    assert.ok(p99 < P99_LIMIT_MS, `p99 ${p99.toFixed(2)} ms is not under ${P99_LIMIT_MS} ms`);
    assert.deepEqual(slow.errors, []);
    assert.deepEqual(slow.statuses, { 200: slow.count });
    assert.deepEqual(slow.bodies, { '{"slow":true,"ok":true}': slow.count });
    assert.ok(slow.minMs >= 195, `a /api/slow took only ${slow.minMs} ms`);
    // The 50 blocking calls really ran side by side on the pool: 50 at a
    // time for the whole timing loop, not one after another.
    assert.ok(slow.count >= 50 + Math.floor(elapsed / 250) * 50, `only ${slow.count} slow requests in ${elapsed} ms`);
  } catch (e) {
    e.message += `\n--- server log (requests omitted) ---\n${srv
      .stderrLines()
      .filter((l) => !l.includes('"msg":"request"'))
      .join('\n')}`;
    throw e;
  } finally {
    if (load) await load.stop().catch(() => {});
    fastAgent.destroy();
  }
});

test('kiln_sleep suspends only its request: 30 sleeps of 300 ms overlap', async () => {
  const t0 = Date.now();
  const rs = await Promise.all(Array.from({ length: 30 }, () => request(srv.port, '/api/sleep?ms=300')));
  const elapsed = Date.now() - t0;
  for (const r of rs) {
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { slept: 300 });
    assert.ok(r.ms >= 295, `slept only ${r.ms} ms`);
  }
  assert.ok(elapsed < 1000, `30 concurrent 300 ms sleeps took ${elapsed} ms`);
});

test('streaming: five chunks arrive 100 ms apart, not buffered', async () => {
  const s = await openSocket(srv.port);
  s.write('GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n');
  await s.waitFor((t) => t.endsWith('0\r\n\r\n'), 3000);
  s.destroy();
  const [r] = parseResponses(s.data()).responses;
  assert.equal(r.status, 200);
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  assert.equal(r.headers['content-length'], undefined);
  assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(r.text, 'chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n');
  // When did each "chunk i" arrive?
  const seen = [];
  let acc = '';
  for (const c of s.chunks) {
    acc += c.data.toString('latin1');
    for (let i = seen.length; i < 5 && acc.includes(`chunk ${i}\n`); i++) seen.push(c.t);
  }
  assert.equal(seen.length, 5);
  for (let i = 1; i < 5; i++) {
    const gap = seen[i] - seen[i - 1];
    assert.ok(gap >= 70, `chunk ${i} came ${gap} ms after chunk ${i - 1}`);
  }
  assert.ok(seen[4] - seen[0] >= 350, `all chunks within ${seen[4] - seen[0]} ms: buffered`);
});

test('streaming to HTTP/1.0: no chunked framing, the body ends at close', async () => {
  const ex = await rawExchange(srv.port, 'GET /api/stream HTTP/1.0\r\n\r\n', { timeoutMs: 3000 });
  assert.ok(ex.closed && !ex.timedOut);
  const [r] = parseResponses(ex.data).responses;
  assert.equal(r.version, '1.0');
  assert.equal(r.headers['transfer-encoding'], undefined);
  assert.equal(r.text, 'chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n');
});

test('streaming: HEAD gets GET\'s head only, and the connection stays usable', async () => {
  const ex = await rawExchange(
    srv.port,
    'HEAD /api/stream HTTP/1.1\r\nHost: x\r\n\r\nGET /api/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    { timeoutMs: 3000 },
  );
  const text = ex.data.toString('latin1');
  assert.doesNotMatch(text, /chunk \d/);
  const rs = parseResponses(ex.data, { methods: ['HEAD', 'GET'] }).responses;
  assert.equal(rs.length, 2, text);
  assert.equal(rs[0].status, 200);
  assert.equal(rs[0].headers['transfer-encoding'], 'chunked');
  assert.equal(rs[0].headers['content-length'], undefined);
  assert.equal(rs[0].headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(rs[0].body.length, 0);
  assert.equal(JSON.parse(rs[1].text).message, 'Hello, World!');
});

test('Server-Sent Events: parsed by an EventSource-style reader', async () => {
  const r = await readEventStream(srv.port, '/api/sse?n=4');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/event-stream');
  assert.equal(r.headers['cache-control'], 'no-cache');
  assert.ok(r.headers['x-request-id']);
  assert.deepEqual(
    r.events.map(({ type, data, lastEventId }) => ({ type, data, lastEventId })),
    [
      { type: 'tick', data: '{"n":1}', lastEventId: '1' },
      { type: 'tick', data: '{"n":2}', lastEventId: '2' },
      { type: 'tick', data: '{"n":3}', lastEventId: '3' },
      { type: 'tick', data: '{"n":4}', lastEventId: '4' },
      { type: 'done', data: 'line one\nline two', lastEventId: '4' },
    ],
  );
  for (const e of r.events.slice(0, 4)) assert.deepEqual(JSON.parse(e.data).n, Number(e.lastEventId));
  // Delivered as they happened (50 ms apart), not at the end.
  assert.ok(r.events[3].t - r.events[0].t >= 120, `events spread over ${r.events[3].t - r.events[0].t} ms`);
});

test('max duration: 504 JSON after config.max_duration_ms, then the connection closes', async () => {
  const s = await openSocket(srv.port);
  s.write('GET /api/timeout HTTP/1.1\r\nHost: x\r\n\r\n');
  await s.waitFor((t) => t.endsWith('}'), 3000);
  const at = s.chunks[0].t;
  const closedAt = await Promise.race([s.closed, sleep(3000).then(() => null)]);
  s.destroy();
  const [r] = parseResponses(s.data()).responses;
  assert.equal(r.status, 504);
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  const id = r.headers['x-request-id'];
  assert.deepEqual(JSON.parse(r.text), { error: 'Gateway Timeout', requestId: id });
  assert.ok(at >= 190 && at < 1000, `504 after ${at} ms`);
  assert.notEqual(closedAt, null, 'connection not closed after the 504');
  const warn = await srv.waitForLog((l) => l.requestId === id && l.level === 'warn');
  assert.match(warn.msg, /max duration/);
  assert.equal(warn.route, '/api/timeout');
  // The late kiln_json of the abandoned handler is dropped quietly.
  await sleep(100);
  assert.ok(!logsFor(srv, id).some((l) => /already sent/.test(l.msg)));
  assert.equal(logsFor(srv, id).filter((l) => l.msg === 'request').length, 1);
  // The worker is fine.
  const ok = await request(srv.port, '/api/hello');
  assert.equal(ok.status, 200);
});

test('max duration: a 504 on a pipelined connection drops what follows', async () => {
  const ex = await rawExchange(
    srv.port,
    'GET /api/timeout HTTP/1.1\r\nHost: x\r\n\r\nGET /api/echo?after=1 HTTP/1.1\r\nHost: x\r\n\r\n',
    { timeoutMs: 3000 },
  );
  const rs = parseResponses(ex.data).responses;
  assert.equal(rs.length, 1);
  assert.equal(rs[0].status, 504);
  assert.ok(ex.closed);
});

test('max duration during kiln_offload: 504 at once, the late result is dropped', async () => {
  const t0 = Date.now();
  const r = await request(srv.port, '/api/timeout?mode=offload');
  const ms = Date.now() - t0;
  assert.equal(r.status, 504);
  assert.deepEqual(r.json, { error: 'Gateway Timeout', requestId: r.headers['x-request-id'] });
  assert.ok(ms < 550, `504 took ${ms} ms: it waited for the offloaded call`);
  // Meanwhile and after the offloaded call returns, the worker serves.
  const h = await request(srv.port, '/api/hello');
  assert.equal(h.status, 200);
  await sleep(500);
  const again = await request(srv.port, '/api/hello');
  assert.equal(again.status, 200);
  const id = r.headers['x-request-id'];
  assert.ok(!logsFor(srv, id).some((l) => /already sent/.test(l.msg)));
});

test('keep-alive after a streamed response: the next request on the connection is served', async () => {
  const ex = await rawExchange(
    srv.port,
    'GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\nGET /api/sse?n=1 HTTP/1.1\r\nHost: x\r\n\r\n' +
      'GET /api/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    { timeoutMs: 3000 },
  );
  const rs = parseResponses(ex.data).responses;
  assert.equal(rs.length, 3);
  assert.equal(rs[0].text, 'chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n');
  assert.equal(rs[1].headers['content-type'], 'text/event-stream');
  assert.match(rs[1].text, /event: done/);
  assert.equal(JSON.parse(rs[2].text).message, 'Hello, World!');
  assert.ok(ex.closed);
});

test('a client that leaves during a slow request does not hurt the worker', async () => {
  const s = await openSocket(srv.port);
  s.write('GET /api/slow HTTP/1.1\r\nHost: x\r\n\r\n');
  const t = await openSocket(srv.port);
  t.write('GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n');
  await sleep(50);
  s.destroy();
  t.destroy();
  await sleep(450);
  const r = await request(srv.port, '/api/hello');
  assert.equal(r.status, 200);
});
