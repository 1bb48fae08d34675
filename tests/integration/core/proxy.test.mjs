// Behind a reverse proxy: X-Forwarded-For names the client only when the
// connection comes from one of KILN_TRUSTED_PROXIES; otherwise it is ignored
// (a client could claim any address, and rate limits key on it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFixture, request } from '../lib/extra.mjs';

const servers = [];
after(async () => { for (const s of servers) await s.stop(); });

test('X-Forwarded-For is ignored unless the peer is a trusted proxy', async () => {
  const srv = await startFixture({ workers: 1 });
  servers.push(srv);
  const r = await request(srv.port, '/api/echo', { headers: { 'x-forwarded-for': '203.0.113.9' } });
  assert.equal(r.json.remoteAddr, '127.0.0.1');
});

test('from a trusted proxy, the right-most untrusted X-Forwarded-For entry is the client', async () => {
  const srv = await startFixture({ workers: 1, env: { KILN_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.5' } });
  servers.push(srv);
  let r = await request(srv.port, '/api/echo', { headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.9, 10.0.0.5' } });
  assert.equal(r.json.remoteAddr, '203.0.113.9');
  r = await request(srv.port, '/api/echo');
  assert.equal(r.json.remoteAddr, '127.0.0.1', 'no header: the peer');
  r = await request(srv.port, '/api/echo', { headers: { 'x-forwarded-for': '10.0.0.5, 127.0.0.1' } });
  assert.equal(r.json.remoteAddr, '127.0.0.1', 'only proxies listed: the peer');
});
