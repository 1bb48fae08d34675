// The configurable built-in middleware: kiln_security_headers_with (custom
// CSP, HSTS, a header dropped) and kiln_request_log_with (level, extra headers).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareApp, request, stopAll } from './helpers.mjs';
import { startServer } from '../lib/server.mjs';

const APP = prepareApp('tests/fixtures/mwapp', 'mwapp-opts');
let srv;
before(async () => { srv = await startServer(APP, { workers: 1 }); });
after(async () => { await srv?.stop(); await stopAll(); });

test('security headers and request log, configured', async () => {
  const r = await request(srv.port, '/api/configured', { headers: { referer: 'https://ref.example/', 'x-trace': 't-1' } });
  assert.equal(r.status, 200);
  const h = r.headers;
  assert.equal(h['content-security-policy'], "default-src 'self'");
  assert.equal(h['strict-transport-security'], 'max-age=31536000; includeSubDomains');
  assert.equal(h['x-frame-options'], undefined, 'an empty option drops the header');
  assert.equal(h['x-content-type-options'], 'nosniff');
  assert.equal(h['referrer-policy'], 'no-referrer', 'defaults stay for options left zero');
  const rid = h['x-request-id'];
  await new Promise((res) => setTimeout(res, 100));
  const line = srv.stderrText().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
    .find((l) => l.requestId === rid && l.msg === 'request started');
  assert.ok(line, 'the request-start line is logged');
  assert.equal(line.level, 'warn');
  assert.equal(line.referer, 'https://ref.example/');
  assert.equal(line['x-trace'], 't-1');
  assert.equal(line.path, '/api/configured');
});
