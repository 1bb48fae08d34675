// posts.test.mjs -- the lesson's posts API (examples/blog) end to end, on
// SQLite and on PostgreSQL: the contract (statuses, bodies, headers, Joi's
// words), and hostile values (SQL fragments, NUL, 100 KB, astral
// characters, invalid UTF-8) that must be stored and returned byte-exact or
// refused with 400 -- never a 5xx, and the table still there afterwards.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, rawOne } from '../lib/server.mjs';
import { BACKENDS, appOnBackends, backendFor, http } from '../lib/db.mjs';

const JSON_CT = 'application/json; charset=utf-8';
const { app, getPg } = appOnBackends('examples/blog');

// Every response of these tests: never a 5xx, always JSON unless 204/405.
function noServerError(r, what) {
  assert.ok(r.status < 500, `${what}: got ${r.status} ${r.text}`);
}

for (const kind of BACKENDS) {
  describe(`posts API on ${kind}`, () => {
    let srv;
    const call = (p, opts) => http(srv.port, p, opts);
    const post = (json) => call('/api/posts', { method: 'POST', json });

    before(async () => {
      const pg = kind === 'postgres' ? await getPg() : null;
      const be = backendFor(kind, app, pg, 'posts');
      srv = await startServer(app.dir, { workers: 2, env: be.env });
    });
    after(async () => {
      await srv?.stop();
    });

    test('GET /api/posts on an empty table: 200 []', async () => {
      const r = await call('/api/posts');
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], JSON_CT);
      assert.deepEqual(r.json, []);
    });

    test('POST, GET one, GET all, PUT, DELETE: the whole life of a post', async () => {
      const c = await post({ title: 'Hello', content: 'First post' });
      assert.equal(c.status, 201);
      assert.equal(c.headers['content-type'], JSON_CT);
      assert.deepEqual(Object.keys(c.json), ['id', 'title', 'content']);
      assert.ok(Number.isSafeInteger(c.json.id) && c.json.id > 0, `id ${c.json.id}`);
      assert.deepEqual(c.json, { id: c.json.id, title: 'Hello', content: 'First post' });
      const id = c.json.id;

      const one = await call(`/api/posts/${id}`);
      assert.equal(one.status, 200);
      assert.equal(one.headers['content-type'], JSON_CT);
      assert.deepEqual(one.json, { id, title: 'Hello', content: 'First post' });

      const c2 = await post({ title: 'Second', content: 'Another' });
      assert.equal(c2.status, 201);
      assert.ok(c2.json.id > id, 'ids grow');

      const all = await call('/api/posts');
      assert.equal(all.status, 200);
      assert.ok(Array.isArray(all.json));
      assert.deepEqual(
        all.json.filter((p) => p.id === id || p.id === c2.json.id),
        [
          { id, title: 'Hello', content: 'First post' },
          { id: c2.json.id, title: 'Second', content: 'Another' },
        ],
      );

      const up = await call(`/api/posts/${id}`, { method: 'PUT', json: { title: 'Hello again', content: 'Edited' } });
      assert.equal(up.status, 200);
      assert.equal(up.headers['content-type'], JSON_CT);
      assert.deepEqual(up.json, { id, title: 'Hello again', content: 'Edited' });
      assert.deepEqual((await call(`/api/posts/${id}`)).json, { id, title: 'Hello again', content: 'Edited' });

      const del = await call(`/api/posts/${id}`, { method: 'DELETE' });
      assert.equal(del.status, 204);
      assert.equal(del.body.length, 0);
      assert.equal(del.headers['content-length'] ?? '0', '0');

      for (const [method, json] of [
        ['GET'],
        ['PUT', { title: 'x', content: 'y' }],
        ['DELETE'],
      ]) {
        const gone = await call(`/api/posts/${id}`, { method, json });
        assert.equal(gone.status, 404, `${method} after DELETE`);
        assert.equal(gone.headers['content-type'], JSON_CT);
        assert.deepEqual(gone.json, { error: 'Post not found' });
      }
      // The other post is untouched.
      assert.deepEqual((await call(`/api/posts/${c2.json.id}`)).json, { id: c2.json.id, title: 'Second', content: 'Another' });
    });

    test('other methods: 405 with one Allow header and "Method X Not Allowed"', async () => {
      const cases = [
        ['/api/posts', ['PUT', 'DELETE', 'PATCH'], 'GET, POST'],
        ['/api/posts/1', ['POST', 'PATCH'], 'GET, PUT, DELETE'],
      ];
      for (const [p, methods, allow] of cases) {
        for (const m of methods) {
          const r = await call(p, { method: m, json: { title: 'a', content: 'b' } });
          assert.equal(r.status, 405, `${m} ${p}`);
          assert.equal(r.headers.allow, allow, `${m} ${p}`);
          const allowHeaders = r.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'allow');
          assert.equal(allowHeaders.length, 1, 'Allow is one header');
          assert.equal(r.text, `Method ${m} Not Allowed`);
        }
      }
    });

    test('ids that are not positive integers in range: 404 for GET, PUT and DELETE', async () => {
      const c = await post({ title: 'Keep me', content: 'k' });
      assert.equal(c.status, 201);
      const bad = [
        'abc', '1.5', '-1', '0', '-0', '+1', '1e3', '0x10', '%201', '1%20', `${c.json.id}abc`,
        '99999999999999999999', '9223372036854775808', '-9223372036854775809',
        '9223372036854775807', '1%27%20OR%20%271%27%3D%271', '1;DROP%20TABLE%20posts',
      ];
      for (const id of bad) {
        for (const method of ['GET', 'PUT', 'DELETE']) {
          const r = await call(`/api/posts/${id}`, {
            method,
            json: method === 'PUT' ? { title: 'x', content: 'y' } : undefined,
          });
          assert.equal(r.status, 404, `${method} /api/posts/${id}: ${r.text}`);
          assert.deepEqual(r.json, { error: 'Post not found' }, `${method} /api/posts/${id}`);
        }
      }
      // Leading zeros are still the same number (the lesson's /^\d+$/ + parseInt).
      const z = await call(`/api/posts/00${c.json.id}`);
      assert.equal(z.status, 200);
      assert.deepEqual(z.json, { id: c.json.id, title: 'Keep me', content: 'k' });
      // Nothing was deleted or changed by the attempts above.
      assert.deepEqual((await call(`/api/posts/${c.json.id}`)).json, { id: c.json.id, title: 'Keep me', content: 'k' });
    });

    test('bad bodies: 400 with Joi\'s words, on POST and on PUT', async () => {
      const c = await post({ title: 't', content: 'c' });
      assert.equal(c.status, 201);
      const cases = [
        [{ content: 'x' }, '"title" is required'],
        [{ title: 'x' }, '"content" is required'],
        [{}, '"title" is required'],
        [{ title: '', content: 'x' }, '"title" is not allowed to be empty'],
        [{ title: 'x', content: '' }, '"content" is not allowed to be empty'],
        [{ title: 5, content: 'x' }, '"title" must be a string'],
        [{ title: 'x', content: 5 }, '"content" must be a string'],
        [{ title: 'x', content: null }, '"content" must be a string'],
        [{ title: 'x', content: ['y'] }, '"content" must be a string'],
        [{ title: 'x', content: { y: 1 } }, '"content" must be a string'],
        [[], '"value" must be of type object'],
        [[{ title: 'x', content: 'y' }], '"value" must be of type object'],
        ['a string', '"value" must be of type object'],
        [42, '"value" must be of type object'],
        [true, '"value" must be of type object'],
        [null, '"value" must be of type object'], // Joi's answer (the lesson's req.body ?? {} hides it)
        [{ title: 'x', content: 'y', x: 1 }, '"x" is not allowed'],
        [{ x: 1, title: 'x', content: 'y' }, '"x" is not allowed'],
        [{ title: 'x', x: 1 }, '"content" is required'],
      ];
      for (const [target, method] of [
        ['/api/posts', 'POST'],
        [`/api/posts/${c.json.id}`, 'PUT'],
      ]) {
        for (const [body, msg] of cases) {
          const r = await call(target, { method, json: body });
          assert.equal(r.status, 400, `${method} ${JSON.stringify(body)}: ${r.status} ${r.text}`);
          assert.equal(r.headers['content-type'], JSON_CT);
          assert.deepEqual(r.json, { error: msg }, `${method} ${JSON.stringify(body)}`);
        }
        // No body: what Joi sees depends on the type (Next.js parses an
        // empty JSON or form body as {}, anything else as a string).
        for (const [headers, msg] of [
          [{}, '"value" must be of type object'],
          [{ 'content-type': 'text/plain' }, '"value" must be of type object'],
          [{ 'content-type': 'application/json' }, '"title" is required'],
          [{ 'content-type': 'application/x-www-form-urlencoded' }, '"title" is required'],
        ]) {
          const r = await call(target, { method, body: '', headers });
          assert.equal(r.status, 400, `${method} empty body ${JSON.stringify(headers)}`);
          assert.deepEqual(r.json, { error: msg }, `${method} empty body ${JSON.stringify(headers)}`);
        }
        const txt = await call(target, { method, body: 'hello', headers: { 'content-type': 'text/plain' } });
        assert.deepEqual(txt.json, { error: '"value" must be of type object' });
        for (const raw of ['{"title":', '{"title":"a",}', "{'title':'a'}", '{"title":"a" "content":"b"}', 'nul']) {
          const r = await call(target, { method, body: raw, headers: { 'content-type': 'application/json' } });
          assert.equal(r.status, 400, `${method} ${raw}`);
          assert.equal(r.headers['content-type'], JSON_CT);
          assert.equal(r.json.error, 'Invalid JSON', `${method} ${raw}: ${r.text}`);
        }
      }
      // The post is unchanged, and nothing was added by the failed POSTs.
      assert.deepEqual((await call(`/api/posts/${c.json.id}`)).json, { id: c.json.id, title: 't', content: 'c' });
      const all = (await call('/api/posts')).json;
      assert.ok(!all.some((p) => p.title === 'x'), 'no post titled "x" was created');
    });

    test('hostile values are stored and returned byte-exact (or refused with 400), never a 5xx', async () => {
      const before = (await call('/api/posts')).json.length;
      let created = 0;
      const values = [
        "'; DROP TABLE posts; --",
        '" OR 1=1 --',
        "Robert'); DELETE FROM posts WHERE ('1'='1",
        '?; SELECT ? $1 :name @p',
        '\\x00 \\\\ %s %n %d',
        'emoji 😀 astral 𝄞 𠜎 and é combining é, RTL ‮ and ZWJ 👩‍👩‍👧',
        '\u2028\u2029 line separators',
        'x'.repeat(100 * 1024),
        'é'.repeat(40 * 1024),
      ];
      for (const v of values) {
        const r = await post({ title: v.slice(0, 200), content: v });
        noServerError(r, `POST ${JSON.stringify(v.slice(0, 40))}`);
        assert.equal(r.status, 201, `POST ${JSON.stringify(v.slice(0, 40))}: ${r.text.slice(0, 200)}`);
        created++;
        assert.equal(r.json.content, v);
        assert.equal(r.json.title, v.slice(0, 200));
        const back = await call(`/api/posts/${r.json.id}`);
        assert.equal(back.status, 200);
        assert.equal(back.json.content, v, 'read back byte-exact');
        assert.equal(Buffer.compare(Buffer.from(JSON.stringify(back.json.content)), Buffer.from(JSON.stringify(v))), 0);
        // ... and through PUT as well.
        const up = await call(`/api/posts/${r.json.id}`, { method: 'PUT', json: { title: 'put', content: `${v}!` } });
        assert.equal(up.status, 200);
        assert.equal((await call(`/api/posts/${r.json.id}`)).json.content, `${v}!`);
      }

      // A NUL byte (\u0000): SQLite keeps it; PostgreSQL text cannot hold
      // one, so Kiln refuses it with 400 before anything reaches the server.
      const nul = 'before\u0000after';
      const n = await post({ title: 'nul', content: nul });
      noServerError(n, 'POST with NUL');
      if (kind === 'sqlite') {
        assert.equal(n.status, 201, n.text);
        created++;
        assert.equal(n.json.content, nul);
        assert.equal((await call(`/api/posts/${n.json.id}`)).json.content, nul);
      } else {
        assert.equal(n.status, 400, n.text);
        assert.equal(n.headers['content-type'], JSON_CT);
        assert.equal(typeof n.json.error, 'string');
      }

      // Bodies that are not valid UTF-8 / not valid JSON text: 400 Invalid JSON.
      const bad = [
        Buffer.concat([Buffer.from('{"title":"a","content":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
        Buffer.concat([Buffer.from('{"title":"a","content":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]), // overlong '/'
        Buffer.concat([Buffer.from('{"title":"a","content":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), // encoded surrogate
        Buffer.concat([Buffer.from('{"title":"a","content":"'), Buffer.from([0xf4, 0x90, 0x80, 0x80]), Buffer.from('"}')]), // > U+10FFFF
        Buffer.concat([Buffer.from('{"title":"a","content":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')]), // truncated
        Buffer.from('{"title":"a","content":"\\ud800"}'), // lone surrogate escape
        Buffer.from('{"title":"a","content":"\\udc00\\ud800"}'),
        Buffer.from('{"title":"a","content":"raw \x01 control"}'),
      ];
      for (const body of bad) {
        const r = await call('/api/posts', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
        assert.equal(r.status, 400, `${body.toString('hex')}: ${r.status} ${r.text}`);
        assert.equal(r.json.error, 'Invalid JSON');
      }

      // The same invalid bytes through a raw socket, with keep-alive off.
      const body = Buffer.concat([Buffer.from('{"title":"'), Buffer.from([0x80, 0x81, 0xfe]), Buffer.from('","content":"c"}')]);
      const head = `POST /api/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
      const raw = await rawOne(srv.port, Buffer.concat([Buffer.from(head), body]));
      assert.equal(raw.response?.status, 400);

      // The table is still there and holds exactly what was created.
      const all = await call('/api/posts');
      assert.equal(all.status, 200);
      assert.equal(all.json.length, before + created);
      const probe = await post({ title: 'still here', content: 'yes' });
      assert.equal(probe.status, 201);
    });
  });
}
