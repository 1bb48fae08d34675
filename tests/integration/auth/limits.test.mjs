// limits.test.mjs -- FAILED logins on examples/blog are throttled per
// client address AND per email (kiln_rate_check + kiln_rate_limit, shared by
// the workers), on SQLite and on PostgreSQL: 429 with Retry-After once the
// failures reach the limit, the right password refused too while limited,
// other emails and other addresses unaffected, exactly `limit` failures
// answered even under a concurrent burst. (throttle.test.mjs: successes are
// never throttled.)

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, prepareApp, startOn, stopAll, uniqueEmail } from './helpers.mjs';

const APP = prepareApp('examples/blog', 'blog-auth-limits');

after(stopAll);

function assert429(r) {
  assert.equal(r.status, 429, r.text);
  assert.equal(r.json.error, 'Too Many Requests');
  const ra = Number(r.headers['retry-after']);
  assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= 60, `Retry-After: ${r.headers['retry-after']}`);
  assert.equal(r.headers['set-cookie'], undefined);
}

for (const backend of BACKENDS) {
  describe(`login rate limits on ${backend}`, () => {
    describe('per email (BLOG_LOGIN_PER_EMAIL=3)', () => {
      let s;
      const acct = { email: uniqueEmail('limited'), password: 'the right password' };
      before(async () => {
        s = await startOn(APP, backend, { workers: 2, env: { BLOG_LOGIN_PER_EMAIL: '3', BLOG_LOGIN_PER_ADDRESS: '1000' } });
        assert.equal((await s.api.post('/api/auth/signup', { json: acct })).status, 201);
      });

      test('3 failures, then 429 even for the right password and any letter case', async () => {
        const localAddress = '127.0.0.11';
        for (let i = 0; i < 3; i++) {
          const r = await s.api.post('/api/auth/login', { localAddress, json: { ...acct, password: `wrong ${i}` } });
          assert.equal(r.status, 401, r.text);
        }
        assert429(await s.api.post('/api/auth/login', { localAddress, json: acct }));
        assert429(await s.api.post('/api/auth/login', { localAddress, json: { ...acct, email: acct.email.toUpperCase() } }));
        // From another address: the email's budget is spent all the same.
        assert429(await s.api.post('/api/auth/login', { localAddress: '127.0.0.12', json: acct }));
      });

      test('another email from the same address is not limited', async () => {
        const r = await s.api.post('/api/auth/login', {
          localAddress: '127.0.0.11',
          json: { email: uniqueEmail('other'), password: 'whatever it is' },
        });
        assert.equal(r.status, 401);
        assert.deepEqual(r.json, { error: 'Invalid credentials' });
      });

      test('an unknown email is limited the same way (no hint that it does not exist)', async () => {
        const ghost = uniqueEmail('ghost');
        for (let i = 0; i < 3; i++) {
          assert.equal((await s.api.post('/api/auth/login', { json: { email: ghost, password: 'x' } })).status, 401);
        }
        assert429(await s.api.post('/api/auth/login', { json: { email: ghost, password: 'x' } }));
      });
    });

    describe('per address (BLOG_LOGIN_PER_ADDRESS=4)', () => {
      let s;
      before(async () => {
        s = await startOn(APP, backend, { workers: 2, env: { BLOG_LOGIN_PER_ADDRESS: '4', BLOG_LOGIN_PER_EMAIL: '1000' } });
      });

      test('4 failures with 4 different emails, then 429; invalid bodies are not guesses and do not count', async () => {
        const localAddress = '127.0.0.21';
        for (let i = 0; i < 3; i++) {
          const r = await s.api.post('/api/auth/login', { localAddress, json: { email: uniqueEmail('spray'), password: 'guess' } });
          assert.equal(r.status, 401);
        }
        const invalid = await s.api.post('/api/auth/login', { localAddress, json: {} });
        assert.equal(invalid.status, 400);
        const fourth = await s.api.post('/api/auth/login', { localAddress, json: { email: uniqueEmail('spray'), password: 'guess' } });
        assert.equal(fourth.status, 401, fourth.text);
        assert429(await s.api.post('/api/auth/login', { localAddress, json: { email: uniqueEmail('spray'), password: 'guess' } }));
        assert429(await s.api.post('/api/auth/login', { localAddress, json: {} }));
      });

      test('another address has its own budget; other routes are not limited', async () => {
        const r = await s.api.post('/api/auth/login', {
          localAddress: '127.0.0.22',
          json: { email: uniqueEmail('fresh'), password: 'guess' },
        });
        assert.equal(r.status, 401);
        const email = uniqueEmail('signup');
        const su = await s.api.post('/api/auth/signup', { localAddress: '127.0.0.21', json: { email, password: 'long enough!' } });
        assert.equal(su.status, 201);
      });

      test('the count is shared by both workers: concurrent bursts still allow exactly 4', async () => {
        const localAddress = '127.0.0.23';
        const rs = await Promise.all(
          Array.from({ length: 12 }, () =>
            s.api.post('/api/auth/login', { localAddress, json: { email: uniqueEmail('burst'), password: 'guess' } })),
        );
        assert.equal(rs.filter((r) => r.status === 401).length, 4);
        for (const r of rs.filter((x) => x.status !== 401)) assert429(r);
      });
    });
  });
}
