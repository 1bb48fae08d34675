// lifecycle.test.mjs -- processes: a handler that crashes its worker (500,
// log line naming the route, restart, the other worker serving meanwhile),
// SIGTERM with a request in flight (it completes, new connections are
// refused, exit 0), and SIGHUP (new workers, zero failed requests).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { rawExchange, parseResponses } from '../lib/server.mjs';
import { startFixture, request, openSocket, sleep, unexpectedSanitizerReports } from '../lib/extra.mjs';

const pidOf = async (port) => (await request(port, '/api/pid')).json.pid;

// The pids of both workers: each worker has its own SO_REUSEPORT socket and
// the kernel spreads fresh connections over them.
async function bothPids(port) {
  const pids = new Set();
  for (let i = 0; i < 100 && pids.size < 2; i++) pids.add(await pidOf(port));
  return pids;
}

function connectRefused(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e) => resolve(e.code === 'ECONNREFUSED'));
  });
}

test('a crashing handler: 500 JSON, log names the route, worker restarted, others keep working', async () => {
  const srv = await startFixture({ workers: 2 });
  try {
    const before = await bothPids(srv.port);
    assert.equal(before.size, 2, 'two workers answer');

    // Requests keep flowing while the crash happens.
    let running = true;
    const during = [];
    const loop = (async () => {
      while (running) {
        const t = Date.now();
        try {
          const r = await request(srv.port, '/api/pid');
          during.push({ t, result: r.status });
        } catch (e) {
          during.push({ t, result: e.code || e.message });
        }
      }
    })();
    await sleep(50);

    const ex = await rawExchange(srv.port, 'GET /api/crash HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 3000 });
    const crashedAt = Date.now();
    const [r] = parseResponses(ex.data).responses;
    assert.ok(r, `no response to the crash: ${JSON.stringify(ex)}`);
    assert.equal(r.status, 500);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(r.headers.connection, 'close');
    const id = r.headers['x-request-id'];
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.deepEqual(JSON.parse(r.text), { error: 'Internal Server Error', requestId: id });
    assert.ok(ex.closed, 'the crashed worker\'s connection is closed');

    const crashLine = await srv.waitForLog((l) => l.requestId === id && /crashed/.test(l.msg));
    assert.equal(crashLine.level, 'error');
    assert.equal(crashLine.route, '/api/crash');
    assert.equal(crashLine.signal, 'SIGSEGV');
    const died = await srv.waitForLog((l) => l.msg === 'worker died');
    assert.equal(died.signal, 'SIGSEGV');
    assert.ok(before.has(died.pid), 'the dead pid was one of the workers');
    await srv.waitForLog((l) => l.msg === 'worker restarted' && l.worker === died.worker);

    await sleep(300);
    running = false;
    await loop;
    // A request the crashing worker had already accepted dies with it (at
    // most the one in flight, as the loop is sequential); every request
    // made once the 500 was out succeeds, served by the other worker or the
    // replacement.
    const failed = during.filter((d) => d.result !== 200);
    const afterCrash = during.filter((d) => d.t >= crashedAt);
    assert.ok(afterCrash.length > 20, `only ${afterCrash.length} requests after the crash`);
    assert.ok(failed.length <= 1, `requests failed around the crash: ${failed.map((d) => d.result)}`);
    assert.deepEqual(afterCrash.filter((d) => d.result !== 200), [], 'a request after the crash failed');

    // Two workers again; the dead one is not among them.
    const after = await bothPids(srv.port);
    assert.equal(after.size, 2, 'a new worker took the dead one\'s place');
    assert.ok(!after.has(died.pid));
    assert.equal([...after].filter((p) => before.has(p)).length, 1, 'the other worker lived on');
  } finally {
    const res = await srv.stop({ allowSanitizer: true });
    assert.deepEqual(unexpectedSanitizerReports(res.stderr), []);
    assert.equal(res.code, 0);
  }
});

test('two workers: while one is blocked, the other serves its share', async () => {
  const srv = await startFixture({ workers: 2 });
  try {
    const spin = request(srv.port, '/api/spin?ms=500');
    await sleep(60);
    const t0 = Date.now();
    const rs = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const r = await request(srv.port, '/api/pid');
        return { pid: r.json.pid, at: Date.now() - t0 };
      }),
    );
    const s = await spin;
    assert.equal(s.json.spun, 500);
    const other = rs.filter((r) => r.pid !== s.json.pid);
    const blocked = rs.filter((r) => r.pid === s.json.pid);
    assert.ok(other.length > 0, 'no request reached the other worker');
    for (const r of other) assert.ok(r.at < 150, `the free worker answered after ${r.at} ms`);
    // Connections the kernel gave the blocked worker wait for it: that is
    // what kiln_offload is for.
    for (const r of blocked) assert.ok(r.at >= 300, `answered by the spinning worker after ${r.at} ms`);
  } finally {
    await srv.stop();
  }
});

test('a crash with one worker (NULL, then stack overflow): its replacement serves', async () => {
  const srv = await startFixture({ workers: 1 });
  try {
    const old = await pidOf(srv.port);
    const ex = await rawExchange(srv.port, 'GET /api/crash HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 3000 });
    assert.equal(parseResponses(ex.data).responses[0].status, 500);
    await srv.waitForLog((l) => l.msg === 'worker restarted');
    let pid = null;
    for (let i = 0; i < 50 && pid === null; i++) {
      pid = await pidOf(srv.port).catch(() => null);
      if (pid === null) await sleep(20);
    }
    assert.ok(pid !== null && pid !== old, `new pid ${pid}, old ${old}`);
    // Crash it again, by a stack overflow this time (the coroutine's guard
    // page): the same 500, the same restart.
    const ov = await rawExchange(srv.port, 'GET /api/crash?mode=overflow HTTP/1.1\r\nHost: x\r\n\r\n', {
      timeoutMs: 3000,
    });
    const [o] = parseResponses(ov.data).responses;
    assert.equal(o?.status, 500, ov.data.toString());
    assert.equal(JSON.parse(o.text).requestId, o.headers['x-request-id']);
    assert.ok(srv.logs().some((l) => l.requestId === o.headers['x-request-id'] && /crashed/.test(l.msg)));
    // Stop the moment the replacement is forked: it must still drain and
    // exit 0 (a SIGTERM that lands before it set up its signal handling
    // used to kill it outright).
    await srv.waitForLog((l) => l.msg === 'worker restarted' && srv.logs().filter((x) => x.msg === 'worker restarted').length >= 2);
  } finally {
    const res = await srv.stop({ allowSanitizer: true });
    assert.deepEqual(unexpectedSanitizerReports(res.stderr), []);
    assert.equal(res.code, 0);
    const killed = srv.logs().filter((l) => l.msg === 'worker died' && l.signal === 'SIGTERM');
    assert.deepEqual(killed, [], 'a worker was killed by SIGTERM instead of draining');
  }
});

test('a crash behind pipelined requests: the earlier answers go out first, in order', async () => {
  const srv = await startFixture({ workers: 1 });
  try {
    const ex = await rawExchange(
      srv.port,
      'GET /api/hello HTTP/1.1\r\nHost: x\r\n\r\nGET /api/echo?i=2 HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /api/crash HTTP/1.1\r\nHost: x\r\n\r\nGET /api/echo?never=1 HTTP/1.1\r\nHost: x\r\n\r\n',
      { timeoutMs: 3000 },
    );
    const rs = parseResponses(ex.data).responses;
    assert.deepEqual(rs.map((r) => r.status), [200, 200, 500], ex.data.toString());
    assert.equal(JSON.parse(rs[0].text).message, 'Hello, World!');
    assert.deepEqual(JSON.parse(rs[1].text).query, { i: ['2'] });
    assert.equal(JSON.parse(rs[2].text).error, 'Internal Server Error');
    assert.ok(ex.closed);
  } finally {
    const res = await srv.stop({ allowSanitizer: true });
    assert.deepEqual(unexpectedSanitizerReports(res.stderr), []);
  }
});

test('SIGTERM: the in-flight request completes, new connections are refused, exit 0', async () => {
  const srv = await startFixture({ workers: 2 });
  try {
    // An idle keep-alive connection, and a request that takes 800 ms.
    const idle = await openSocket(srv.port);
    idle.write('GET /api/hello HTTP/1.1\r\nHost: x\r\n\r\n');
    await idle.waitFor((t) => t.endsWith('}'));
    const inflight = request(srv.port, '/api/sleep?ms=800');
    await sleep(100);
    const t0 = Date.now();
    process.kill(srv.proc.pid, 'SIGTERM');

    // The idle connection is closed at once.
    const idleClosed = await Promise.race([idle.closed, sleep(2000).then(() => null)]);
    assert.notEqual(idleClosed, null, 'idle keep-alive connection not closed on SIGTERM');

    // New connections are refused while the old request is still running.
    await sleep(150);
    assert.equal(await connectRefused(srv.port), true, 'a new connection was accepted during shutdown');

    const r = await inflight;
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { slept: 800 });
    assert.equal(r.headers.connection, 'close');
    const { code, signal } = await srv.exited;
    assert.equal(code, 0);
    assert.equal(signal, null);
    assert.ok(Date.now() - t0 < 3000, 'shutdown took too long');
    assert.ok(srv.logs().some((l) => l.msg === 'server stopped'));
  } finally {
    const res = await srv.stop();
    assert.equal(res.orphans, false, 'workers outlived the master');
  }
});

test('SIGHUP: new workers replace the old ones with zero failed requests', async () => {
  const srv = await startFixture({ workers: 2 });
  try {
    const before = await bothPids(srv.port);
    assert.equal(before.size, 2);

    let running = true;
    const results = [];
    const seen = [];
    const clients = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const r = await request(srv.port, '/api/pid');
          results.push(r.status);
          seen.push({ t: Date.now(), pid: r.json.pid });
        } catch (e) {
          results.push(e.code || e.message);
        }
      }
    });
    await sleep(300);
    const hupAt = Date.now();
    process.kill(srv.proc.pid, 'SIGHUP');
    await sleep(1000);
    running = false;
    await Promise.all(clients);

    const failed = results.filter((s) => s !== 200);
    assert.ok(results.length > 100, `only ${results.length} requests`);
    assert.deepEqual(failed, [], `${failed.length} of ${results.length} requests failed across SIGHUP`);

    // Later answers come from new pids only.
    const late = new Set(seen.filter((s) => s.t > hupAt + 600).map((s) => s.pid));
    assert.ok(late.size >= 1);
    for (const p of late) assert.ok(!before.has(p), `old worker ${p} still answering after SIGHUP`);
    const after = await bothPids(srv.port);
    assert.equal(after.size, 2, 'two new workers');
    for (const p of after) assert.ok(!before.has(p));
    assert.ok(srv.logs().some((l) => /SIGHUP/.test(l.msg)));
    // The old workers exited cleanly (drained), not as crashes.
    assert.ok(!srv.logs().some((l) => l.msg === 'worker died'));
  } finally {
    const res = await srv.stop();
    assert.equal(res.code, 0);
  }
});
