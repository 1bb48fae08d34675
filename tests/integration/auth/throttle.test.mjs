// throttle.test.mjs -- the login policy of examples/blog with its DEFAULT
// limits (20 failures per address, 5 per email), on SQLite, the window
// stretched from a minute to ten (the same counts over a longer window are
// stricter, and a busy test machine may need more than a minute):
//   1. users are not throttled: 100 correct logins from one address within
//      one window all succeed (a class behind one NAT, an API test suite);
//   2. guessing still is: 5 wrong passwords for one account, or 20 wrong
//      guesses over many accounts from one address, then 429 (the right
//      password included) with Retry-After;
//   3. the hashing cost is bounded apart from the counters: a flood of
//      logins (right passwords: no failure counter sees them) waits in a
//      bounded queue, gets 503 + Retry-After past it, and /api/hello's p99
//      stays under 10 ms meanwhile.
// The measured numbers are printed (diagnostic lines) for the log.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile, prepareApp, request, startOn, stopAll, uniqueEmail } from './helpers.mjs';
import { P99_LIMIT_MS } from '../lib/extra.mjs';

// The product's bound is 10 ms (gcc builds read 3-4 ms). Under ASan the
// probe reads 30-40 ms while Argon2 runs (see perf.test.mjs): a looser
// bound there, which still catches a stalled loop.

const APP = prepareApp('examples/blog', 'blog-auth-throttle');
const WINDOW_S = 600;

after(stopAll);

function assert429(r) {
  assert.equal(r.status, 429, r.text);
  assert.equal(r.json.error, 'Too Many Requests');
  const ra = Number(r.headers['retry-after']);
  assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= WINDOW_S, `Retry-After: ${r.headers['retry-after']}`);
}

describe('default login limits, 10-minute window (2 workers)', () => {
  let s;
  const acct = { email: uniqueEmail('class'), password: 'the class password' };
  before(async () => {
    s = await startOn(APP, 'sqlite', { workers: 2, env: { BLOG_LOGIN_WINDOW_S: String(WINDOW_S) } });
    assert.equal((await s.api.post('/api/auth/signup', { json: acct })).status, 201);
  });

  test('100 correct logins from one address within one window all succeed', async (t) => {
    const localAddress = '127.0.0.31';
    const t0 = Date.now();
    const statuses = [];
    // Four at a time, like a few people (or a test suite) behind one address.
    for (let i = 0; i < 100; i += 4) {
      const rs = await Promise.all(Array.from({ length: 4 }, () =>
        s.api.post('/api/auth/login', { localAddress, json: acct })));
      for (const r of rs) {
        statuses.push(r.status);
        assert.equal(r.status, 200, `login ${statuses.length}: ${r.status} ${r.text}`);
        assert.match(r.json.token, /^[A-Za-z0-9_-]{43}$/);
      }
    }
    const ms = Date.now() - t0;
    t.diagnostic(`100 correct logins from one address in ${ms} ms`);
    console.log(`# 100 correct logins from one address in ${ms} ms`);
    assert.equal(statuses.length, 100);
    assert.ok(ms < WINDOW_S * 1000, `took ${ms} ms: not within one window`);
    // A user who mistypes a few times still gets in, and may mistype again.
    for (let i = 0; i < 4; i++) {
      assert.equal((await s.api.post('/api/auth/login', { localAddress, json: { ...acct, password: `typo ${i}` } })).status, 401);
    }
    assert.equal((await s.api.post('/api/auth/login', { localAddress, json: acct })).status, 200);
    assert.equal((await s.api.post('/api/auth/login', { localAddress, json: { ...acct, password: 'typo again' } })).status, 401);
    assert.equal((await s.api.post('/api/auth/login', { localAddress, json: acct })).status, 200);
  });

  test('guessing one account: 5 failures, then 429, the right password included', async () => {
    const victim = { email: uniqueEmail('victim'), password: 'victim password' };
    assert.equal((await s.api.post('/api/auth/signup', { json: victim })).status, 201);
    for (let i = 0; i < 5; i++) {
      const r = await s.api.post('/api/auth/login', { localAddress: `127.0.1.${i + 1}`, json: { ...victim, password: `guess ${i}` } });
      assert.equal(r.status, 401, r.text);
    }
    assert429(await s.api.post('/api/auth/login', { localAddress: '127.0.1.9', json: { ...victim, password: 'guess 9' } }));
    assert429(await s.api.post('/api/auth/login', { localAddress: '127.0.1.9', json: victim }));
  });

  test('guessing from one address over many accounts: 20 failures, then 429', async () => {
    const localAddress = '127.0.0.41';
    for (let i = 0; i < 20; i++) {
      const r = await s.api.post('/api/auth/login', { localAddress, json: { email: uniqueEmail(`spray${i}`), password: 'Password1' } });
      assert.equal(r.status, 401, `guess ${i + 1}: ${r.text}`);
    }
    assert429(await s.api.post('/api/auth/login', { localAddress, json: { email: uniqueEmail('spray'), password: 'Password1' } }));
    // The class's own account, from that address: refused too while it lasts.
    assert429(await s.api.post('/api/auth/login', { localAddress, json: acct }));
    // Elsewhere the account logs in.
    assert.equal((await s.api.post('/api/auth/login', { localAddress: '127.0.0.42', json: acct })).status, 200);
  });
});

// Sends `waves` bursts of `clients` concurrent logins (a fresh connection
// each) from a child node process, one burst after the previous one was
// answered, 100 ms apart; resolves with every answer: {status, retryAfter,
// error, cookie (a Set-Cookie came)}.
function floodLogins(port, acct, { clients, waves }) {
  const code = `
    import http from 'node:http';
    const [port, body, clients, waves] = [${port}, ${JSON.stringify(JSON.stringify(acct))}, ${clients}, ${waves}];
    const agent = new http.Agent({ keepAlive: false, maxSockets: clients });
    const one = () => new Promise((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/api/auth/login', method: 'POST', agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { text += d; });
        res.on('end', () => {
          let error = null;
          try { error = JSON.parse(text).error ?? null; } catch {}
          resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] ?? null, error,
                    cookie: res.headers['set-cookie'] !== undefined });
        });
      });
      req.on('error', (e) => resolve({ status: 0, error: String(e) }));
      req.end(body);
    });
    const out = [];
    for (let w = 0; w < waves; w++) {
      out.push(...await Promise.all(Array.from({ length: clients }, one)));
      await new Promise((r) => setTimeout(r, 100));
    }
    agent.destroy();
    process.stdout.write(JSON.stringify(out));
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      try { resolve(JSON.parse(out)); } catch { reject(new Error(`flood process exited ${code}: ${out.slice(0, 200)}`)); }
    });
  });
}

describe('a login flood (1 worker, KILN_PWHASH_QUEUE=8)', () => {
  let s;
  const acct = { email: uniqueEmail('flood'), password: 'flood password 1' };
  before(async () => {
    s = await startOn(APP, 'sqlite', { workers: 1, env: { KILN_PWHASH_QUEUE: '8' } });
    assert.equal((await s.api.post('/api/auth/signup', { json: acct })).status, 201);
    await s.api.post('/api/auth/login', { json: acct }); // the first hash pays for page faults
  });

  test('3 bursts of 100 concurrent logins: 200 or 503 with Retry-After, /api/hello p99 < 10 ms', async (t) => {
    const probe = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 20; i++) await request(s.port, '/api/hello', { agent: probe });

    // The flood runs in a process of its own, so that its clients do not
    // delay the probe's own timing. Bounded: 3 x 100 logins.
    const flood = floodLogins(s.port, acct, { clients: 100, waves: 3 });
    let done = false;
    flood.finally(() => { done = true; });
    const lat = [];
    while (!done) {
      const r = await request(s.port, '/api/hello', { agent: probe });
      assert.equal(r.status, 200);
      lat.push(r.ms);
      await sleep(1);
    }
    const answers = await flood;
    probe.destroy();

    const count = (st) => answers.filter((r) => r.status === st).length;
    const p50 = percentile(lat, 50);
    const p99 = percentile(lat, 99);
    const line = `login flood: ${answers.length} logins (${count(200)} x 200, ${count(503)} x 503); ` +
      `/api/hello: ${lat.length} requests, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${Math.max(...lat).toFixed(2)} ms`;
    t.diagnostic(line);
    console.log(`# ${line}`);
    for (const r of answers) {
      assert.ok(r.status === 200 || r.status === 503, `${r.status} ${r.text}`);
      if (r.status === 503) {
        assert.equal(r.retryAfter, '1');
        assert.equal(r.error, 'Service Unavailable');
        assert.equal(r.cookie, false);
      }
    }
    assert.ok(count(200) > 0, 'some logins went through');
    assert.ok(count(503) > 0, 'the bounded queue turned some away');
    assert.ok(lat.length >= 50, `enough probes (${lat.length})`);
    assert.ok(p99 < P99_LIMIT_MS, `/api/hello p99 ${p99.toFixed(2)} ms during the flood (limit ${P99_LIMIT_MS} ms)`);
    // Afterwards, a login just works.
    assert.equal((await s.api.post('/api/auth/login', { json: acct })).status, 200);
  });
});
