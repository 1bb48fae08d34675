// middleware.test.mjs -- the built-in middleware on tests/fixtures/mwapp:
// app-wide middleware with a Next.js matcher, per-route chains and their
// order, kiln_security_headers, kiln_request_log, CORS preflight as a
// browser sends it, and kiln_rate_limit holding across two workers.
//
// mwapp has no database: these run once, not once per backend (the login
// limits, which do touch the database, are in limits.test.mjs on both).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { prepareApp, request, stopAll } from './helpers.mjs';
import { startServer } from '../lib/server.mjs';

const APP = prepareApp('tests/fixtures/mwapp', 'mwapp-auth');

let srv;
before(async () => {
  srv = await startServer(APP, { workers: 2 });
});
after(async () => {
  await srv?.stop();
  await stopAll();
});

const get = (p, opts = {}) => request(srv.port, p, opts);

const SECURITY = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
};

describe('app-wide middleware, matcher and per-route chains', () => {
  test('a matched path gets the security headers; the chain runs app, then the route\'s, in order', async () => {
    const r = await get('/api/secure/data');
    assert.equal(r.status, 200);
    for (const [k, v] of Object.entries(SECURITY)) assert.equal(r.headers[k], v, k);
    assert.equal(r.headers['x-chain'], 'app,a,b');
    assert.deepEqual(r.json, { ok: true, chain: 'app,a,b' });
  });

  test('a path outside the matcher gets none of it', async () => {
    const r = await get('/api/hello');
    assert.equal(r.status, 200);
    for (const k of Object.keys(SECURITY)) assert.equal(r.headers[k], undefined, k);
    assert.equal(r.headers['x-chain'], undefined);
  });

  test('a middleware that answers stops the chain: later ones and the handler do not run', async () => {
    const r = await get('/api/secure/stop');
    assert.equal(r.status, 418);
    assert.deepEqual(r.json, { error: 'stopped by middleware' });
    assert.equal(r.headers['x-chain'], 'app,a');
    assert.equal(r.headers['x-content-type-options'], 'nosniff', 'headers set before the stop are kept');
  });

  test('middleware runs before method dispatch: a 405 still carries its headers', async () => {
    const r = await get('/api/secure/data', { method: 'DELETE' });
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'GET');
    assert.equal(r.headers['x-frame-options'], 'DENY');
  });

  test('kiln_request_log writes a "request started" line for matched paths only', async () => {
    await get('/api/secure/data', { headers: { 'user-agent': 'mw-test/1.0' } });
    await get('/api/hello', { headers: { 'user-agent': 'mw-test-hello/1.0' } });
    const line = await srv.waitForLog((o) => o.msg === 'request started' && o.userAgent === 'mw-test/1.0');
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/api/secure/data');
    assert.equal(line.remote, '127.0.0.1');
    assert.ok(line.requestId);
    await srv.waitForLog((o) => o.msg === 'request' && o.path === '/api/hello');
    assert.ok(!srv.logs().some((o) => o.msg === 'request started' && o.userAgent === 'mw-test-hello/1.0'));
  });
});

// What a browser checks on a preflight answer (Fetch standard, "CORS-
// preflight fetch" and "CORS check"), for a request with credentials.
function preflightPasses(r, { origin, method, headers, credentials }) {
  if (r.status < 200 || r.status > 299) return 'status not ok';
  const acao = r.headers['access-control-allow-origin'];
  if (acao !== origin && !(acao === '*' && !credentials)) return `Access-Control-Allow-Origin ${acao}`;
  if (credentials && r.headers['access-control-allow-credentials'] !== 'true') return 'no Allow-Credentials';
  const list = (h) => (r.headers[h] || '').split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
  const methods = list('access-control-allow-methods');
  if (!['GET', 'HEAD', 'POST'].includes(method) && !methods.includes(method.toLowerCase()) &&
      !(methods.includes('*') && !credentials)) return `method ${method} not allowed`;
  const allowed = list('access-control-allow-headers');
  for (const h of headers) {
    if (!allowed.includes(h) && !(allowed.includes('*') && !credentials)) return `header ${h} not allowed`;
  }
  return null;
}

// The headers Chrome sends on a preflight from https://app.example.com.
function browserPreflight(origin, method, reqHeaders) {
  return {
    accept: '*/*',
    'accept-encoding': 'gzip, deflate, br, zstd',
    'accept-language': 'en-US,en;q=0.9',
    'access-control-request-method': method,
    'access-control-request-headers': reqHeaders.join(','),
    origin,
    referer: `${origin}/`,
    'sec-fetch-dest': 'empty',
    'sec-fetch-mode': 'cors',
    'sec-fetch-site': 'cross-site',
    'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    connection: 'keep-alive',
  };
}

describe('CORS (kiln_cors)', () => {
  const origin = 'https://app.example.com';

  test('a browser preflight for PUT with custom headers passes the browser\'s own checks', async () => {
    const want = { origin, method: 'PUT', headers: ['content-type', 'x-csrf-token'], credentials: true };
    const r = await get('/api/cors', { method: 'OPTIONS', headers: browserPreflight(origin, 'PUT', want.headers) });
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    assert.equal(preflightPasses(r, want), null);
    assert.equal(r.headers['access-control-allow-origin'], origin);
    assert.equal(r.headers['access-control-allow-methods'], 'GET, POST, PUT, DELETE');
    assert.equal(r.headers['access-control-max-age'], '600');
    assert.match(r.headers.vary, /Origin/);
    assert.equal(r.headers.allow, undefined, 'answered by CORS, not by the automatic OPTIONS');
  });

  test('the actual request then carries Allow-Origin, Allow-Credentials and Expose-Headers', async () => {
    const r = await get('/api/cors', { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(r.status, 201);
    assert.equal(r.headers['access-control-allow-origin'], origin);
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(r.headers['access-control-expose-headers'], 'X-Request-Id');
    assert.match(r.headers.vary, /Origin/);
  });

  test('the second allowed origin is echoed, never "*"', async () => {
    const o = 'http://localhost:5173';
    const r = await get('/api/cors', { method: 'OPTIONS', headers: browserPreflight(o, 'DELETE', []) });
    assert.equal(r.status, 204);
    assert.equal(preflightPasses(r, { origin: o, method: 'DELETE', headers: [], credentials: true }), null);
  });

  test('an origin not on the list: no CORS headers, so the browser blocks it', async () => {
    const evil = 'https://evil.example';
    const r = await get('/api/cors', { method: 'OPTIONS', headers: browserPreflight(evil, 'PUT', ['content-type']) });
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    assert.notEqual(preflightPasses(r, { origin: evil, method: 'PUT', headers: ['content-type'], credentials: true }), null);
    const g = await get('/api/cors', { headers: { origin: evil } });
    assert.equal(g.status, 200, 'the request itself is served; the browser hides the answer');
    assert.equal(g.headers['access-control-allow-origin'], undefined);
  });

  test('a plain OPTIONS (not a preflight) gets the route\'s automatic answer', async () => {
    const r = await get('/api/cors', { method: 'OPTIONS' });
    assert.equal(r.status, 204);
    assert.equal(r.headers.allow, 'GET, POST');
  });

  test('origin "*" without credentials: Allow-Origin: *', async () => {
    const o = 'https://anyone.example';
    const r = await get('/api/cors_any', { method: 'OPTIONS', headers: browserPreflight(o, 'GET', ['x-anything']) });
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.headers['access-control-allow-credentials'], undefined);
    assert.equal(preflightPasses(r, { origin: o, method: 'GET', headers: ['x-anything'], credentials: false }), null);
  });
});

// Ties up one worker for ms: resolves {pid, done} once the worker has sent
// its pid (it then spins; done resolves when it has finished).
function occupy(ms) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: srv.port, path: `/api/spin?ms=${ms}`, agent: false }, (res) => {
      let text = '';
      let told = false;
      const done = new Promise((r) => res.on('end', r));
      res.setEncoding('utf8');
      res.on('data', (d) => {
        text += d;
        if (!told && text.includes('\n')) {
          told = true;
          resolve({ pid: Number(text.split('\n')[0]), done });
        }
      });
    });
    req.on('error', reject);
  });
}

describe('rate limiting across workers (kiln_rate_limit, 5 per 60 s per address)', () => {
  test('20 requests over 20 connections spread over 2 workers: exactly 5 succeed', async (t) => {
    // With both workers idle the kernel hands every new connection to the
    // same one. So: tie up worker A; the first 10 connections go to B. While
    // A still spins, tie up B (that request can only go to A's rival); once
    // A is free, the next 10 go to A. (On a loaded machine a few may land
    // elsewhere: what is asserted is that both workers served some of the 20
    // and exactly 5 succeeded -- with a counter per worker, n on A and 20 - n
    // on B would allow min(n, 5) + min(20 - n, 5) > 5 for any 0 < n < 20.)
    let spread = false;
    for (let attempt = 0; attempt < 4 && !spread; attempt++) {
      const localAddress = `127.0.0.${10 + attempt}`; // a fresh budget each attempt
      const limited = () => request(srv.port, '/api/limited', { localAddress });
      const a = await occupy(1000);
      const first = await Promise.all(Array.from({ length: 10 }, limited));
      const b = await occupy(2000);
      await a.done;
      const second = await Promise.all(Array.from({ length: 10 }, limited));
      await b.done;

      const all = [...first, ...second];
      const byPid = {};
      for (const r of all) {
        const pid = r.headers['x-worker-pid'];
        byPid[pid] ??= { 200: 0, 429: 0 };
        byPid[pid][r.status] = (byPid[pid][r.status] ?? 0) + 1;
      }
      t.diagnostic(`attempt ${attempt} from ${localAddress}: ${JSON.stringify(byPid)}`);
      spread = Object.keys(byPid).length === 2;

      const ok = all.filter((r) => r.status === 200);
      const over = all.filter((r) => r.status === 429);
      assert.equal(ok.length, 5, `exactly 5 of 20 allowed: ${JSON.stringify(byPid)}`);
      assert.equal(over.length, 15);
      for (const r of over) {
        assert.equal(r.json.error, 'Too Many Requests');
        const ra = Number(r.headers['retry-after']);
        assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= 60, `Retry-After ${r.headers['retry-after']}`);
      }
    }
    assert.ok(spread, 'the 20 requests reached both workers');
    // Another client address has a budget of its own.
    assert.equal((await request(srv.port, '/api/limited', { localAddress: '127.0.0.3' })).status, 200);
  });
});
